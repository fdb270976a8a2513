// flatnet-router import: read each device of the spec live (the plan's own reads) and print a draft spec, or
// write it to --out FILE (never over an existing file). A device that cannot be read is reported and left out;
// the others are imported and the draft says what is missing.
import { readFileSync, writeFileSync } from 'node:fs';
import { modelFromText } from '../index.js';
import { SpecError, formatProblem, UserError, type SpecProblem } from '../errors.js';
import { expandHome } from '../secrets.js';
import type { HostModel, Model, OpenWrtRouter, RouterOSRouter } from '../model.js';
import type { OpenWrtLive } from '../../targets/openwrt/diff.js';
import { OpenWrtUnit } from '../../targets/openwrt/push.js';
import { importOpenWrt } from './openwrt.js';
import { RosClient } from '../../targets/routeros/api.js';
import { RouterOSUnit, routerPassword, specSection } from '../../targets/routeros/push.js';
import { draftText } from './draft.js';
import type { ImportReport } from './found.js';
import { importRouterOS } from './routeros.js';
import { importHosts, readHost, type HostReading } from './hosts.js';
import { openwrtLan, routerosLan, type RouterLan } from './lan.js';
import { importOpenWrtSwitch, importSwitch } from './switches.js';

export interface ImportOptions {
  routers?: string[];
  switches?: string[];
  hosts?: string[];
  /** write the draft here instead of stdout; refused when the file exists */
  out?: string;
  env?: NodeJS.ProcessEnv;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
  /** known_hosts for hosts with ssh (default ~/.ssh/known_hosts) */
  knownHostsFile?: string;
  /** tests: reads a host instead of its transport (readHost) */
  readHost?: (host: HostModel) => Promise<HostReading>;
  /** tests: reads an OpenWrt router or switch instead of SSH (readOpenWrt), e.g. from OpenWrt's own uci in a scratch root */
  readOpenWrt?: (device: OpenWrtRouter) => Promise<OpenWrtLive>;
}

export interface ImportIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

export interface ImportResult {
  /** 0: every device read; 1: a device could not be read (the draft is printed all the same) */
  code: number;
  draft: string;
  report: ImportReport;
}

/** The keys of a network's Docker side: a problem there leaves the Docker side out of the draft (and says so). */
const DOCKER_KEYS = new Set(['host', 'container-range', 'shim-address', 'shim-name', 'vlan-device', 'driver', 'dhcp-pool']);

/** Reads a RouterOS router with the plan's reads (RouterOSUnit.read: one print per menu, all at once). */
export async function readRouterOS(model: Model, router: RouterOSRouter, options: ImportOptions) {
  const env = options.env ?? process.env;
  const unit = new RouterOSUnit(model, router, { env });
  let ca: Buffer | undefined;
  if (router.tls && router.caFile !== undefined) {
    try {
      ca = readFileSync(expandHome(router.caFile, env));
    } catch (err) {
      throw new UserError(`${specSection(router)}.${router.name}.ca-file: cannot read ${router.caFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  const client = await RosClient.connect({
    host: router.address,
    port: router.port,
    user: router.user,
    password: routerPassword(router, env),
    ...(router.tls ? { tls: { insecure: router.tlsInsecure, ...(ca ? { ca } : {}) } } : {}),
    ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    ...(options.commandTimeoutMs !== undefined ? { commandTimeoutMs: options.commandTimeoutMs } : {}),
  });
  try {
    return await unit.read(client);
  } finally {
    client.close();
  }
}

/** Reads an OpenWrt router with the plan's read (OpenWrtUnit.read: one `uci export` of network, firewall and dhcp). */
export async function readOpenWrt(model: Model, router: OpenWrtRouter, options: ImportOptions): Promise<OpenWrtLive> {
  const env = options.env ?? process.env;
  const unit = new OpenWrtUnit(model, router, {
    env,
    ...(env.FLATNET_TEST_REMOTE_ROOT ? { remoteRoot: env.FLATNET_TEST_REMOTE_ROOT } : {}),
    ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    ...(options.commandTimeoutMs !== undefined ? { commandTimeoutMs: options.commandTimeoutMs } : {}),
  });
  try {
    const { rollbackArmed: _armed, ...live } = await unit.read();
    return live;
  } finally {
    unit.close();
  }
}

/**
 * Each router's trunk ports: the ports tagged in every VLAN imported for it, except those a switch or host of
 * the spec is cabled to (the path carries their VLANs). A port tagged in some VLANs only, and cabled to nothing
 * the spec describes, is said at those networks.
 */
export function trunkPortsOf(model: Model, report: ImportReport): void {
  for (const router of model.routers) {
    const found = report.networks.filter((n) => n.router === router.name && n.taggedPorts !== undefined);
    if (found.length === 0) continue;
    const cabled = new Set(model.cables.filter((c) => c.to.device === router.name).map((c) => c.to.port));
    const all = found[0]!.taggedPorts!.filter((p) => !cabled.has(p) && found.every((n) => n.taggedPorts!.includes(p)));
    if (all.length > 0) report.trunkPorts.set(router.name, all);
    for (const n of found) {
      const some = n.taggedPorts!.filter((p) => !all.includes(p) && !cabled.has(p));
      if (some.length > 0) n.notes.push(`also carried tagged on ${some.join(', ')} (not every VLAN of the router): describe what is cabled there (a switch or host connected-to ${router.name}:<port>), or add the port to trunk-ports`);
    }
  }
}

/**
 * VLANs a router carries tagged today on a port a switch or host of the spec is cabled to, which the draft's
 * path does not carry there (no network of what is behind the cable uses them): a plan would take them off the
 * port. Said at the network and as a warning; true when something was said.
 */
function uncarriedVlans(drafted: Model, report: ImportReport): boolean {
  let said = false;
  for (const cable of drafted.cables) {
    for (const net of report.networks) {
      if (net.router !== cable.to.device || !net.taggedPorts?.includes(cable.to.port) || cable.networks.includes(net.name)) continue;
      const msg = `network ${net.name}: VLAN ${net.vlan} is carried tagged on ${cable.to.device}:${cable.to.port} today, where ${cable.from.device} is cabled (connected-to), but no network of ${cable.from.device} or behind it uses the VLAN in this draft: plan would take it off the port; give the network a host or access port there, or remove the VLAN from the port by hand if nothing needs it`;
      net.notes.push(msg);
      report.warnings.push(msg);
      said = true;
    }
  }
  return said;
}

/** The draft from a spec's text, reading the selected devices. */
export async function importFromText(specText: string, file: string, options: ImportOptions = {}, io?: ImportIo): Promise<ImportResult> {
  const model = modelFromText(specText, file);
  const report: ImportReport = { networks: [], trunkPorts: new Map(), notes: [], warnings: [] };
  const named = options.routers?.length || options.switches?.length || options.hosts?.length;
  const pick = <T extends { name: string }>(items: T[], names: string[] | undefined) => (named ? items.filter((i) => names?.includes(i.name)) : items);
  for (const [kind, names, items] of [['router', options.routers, model.routers], ['switch', options.switches, model.switches], ['host', options.hosts, model.hosts]] as const) {
    for (const n of names ?? []) if (!(items as Array<{ name: string }>).some((i) => i.name === n)) throw new UserError(`--${kind} ${n}: no ${kind} "${n}" in ${file}`);
  }
  const taken = new Set<string>();
  if (model.networks.length > 0) report.notes.push(`the networks of ${file} are not in this draft: it has the networks found on the devices`);
  let failed = 0;
  const read: string[] = [];
  const routers = pick(model.routers, options.routers);
  const switches = pick(model.switches, options.switches);
  // a host with ssh is read over SSH; one without only when --host names it (it is then this machine)
  const hosts = pick(model.hosts, options.hosts).filter((h) => {
    if (h.ssh || options.hosts?.includes(h.name)) return true;
    report.notes.push(`host ${h.name}: not read (no ssh: it is read only on the host itself, with --host ${h.name}); its Docker networks and shims are missing from this draft`);
    return false;
  });
  const readOptions = {
    ...(options.env ? { env: options.env } : {}),
    ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    ...(options.commandTimeoutMs !== undefined ? { commandTimeoutMs: options.commandTimeoutMs } : {}),
    ...(options.knownHostsFile !== undefined ? { knownHostsFile: options.knownHostsFile } : {}),
  };
  // OpenWrt routers and switches: the same read (a switch's bridge-vlan sections are in the same export)
  const openwrtRead = options.readOpenWrt ?? ((x: OpenWrtRouter) => readOpenWrt(model, x, options));
  // every device at once: one connection and one round of reads each
  const [routerResults, switchResults, hostResults] = await Promise.all([
    Promise.allSettled(routers.map(async (r) => {
      io?.stderr(`router ${r.name}: reading ${r.address}\n`);
      if (r.type === 'openwrt') return { kind: 'openwrt' as const, router: r, openwrt: await openwrtRead(r) };
      return { kind: 'routeros' as const, router: r, live: await readRouterOS(model, r, options) };
    })),
    Promise.allSettled(switches.map(async (s) => {
      io?.stderr(`switch ${s.name}: reading ${s.address}\n`);
      if (s.type === 'openwrt') return { kind: 'openwrt' as const, sw: s, openwrt: await openwrtRead(s) };
      return { kind: 'routeros' as const, sw: s, live: await readRouterOS(model, s, options) };
    })),
    Promise.allSettled(hosts.map(async (h) => {
      io?.stderr(`host ${h.name}: reading ${h.ssh ? `${h.ssh.user}@${h.ssh.address}` : 'this machine'}\n`);
      return (options.readHost ?? ((x: HostModel) => readHost(x, readOptions)))(h);
    })),
  ]);
  const unread = (what: string, reason: unknown, missing: string) => {
    failed++;
    const msg = `${what} could not be read: ${(reason as Error).message}; ${missing}`;
    report.notes.push(msg);
    report.warnings.push(msg);
  };
  // the header's line for a device read: `router core (RouterOS 7.16, 192.168.88.1)`
  const deviceRead = (what: string, platform: string, version: string | undefined, address: string) => `${what} (${platform}${version ? ` ${version}` : ''}, ${address})`;
  const lans: RouterLan[] = [];
  routerResults.forEach((res, i) => {
    const r = routers[i]!;
    if (res.status === 'rejected') return unread(`router ${r.name}`, res.reason, 'its networks are missing from this draft');
    const v = res.value;
    if (v.kind === 'openwrt') {
      read.push(deviceRead(`router ${r.name}`, 'OpenWrt', v.openwrt.release, r.address));
      importOpenWrt(v.router, v.openwrt, report, taken);
      const lan = openwrtLan(v.router, v.openwrt);
      if (lan) lans.push(lan);
      return;
    }
    read.push(deviceRead(`router ${r.name}`, 'RouterOS', v.live.version, r.address));
    importRouterOS(v.router, v.live, report, taken);
    const lan = routerosLan(v.router, v.live);
    if (lan) lans.push(lan);
  });
  const readings: HostReading[] = [];
  hostResults.forEach((res, i) => {
    const h = hosts[i]!;
    if (res.status === 'rejected') return unread(`host ${h.name}`, res.reason, 'its Docker networks and shims are missing from this draft');
    read.push(`host ${h.name} (${res.value.docker}, ${h.ssh ? `ssh ${h.ssh.user}@${h.ssh.address}` : 'this machine'})`);
    readings.push(res.value);
  });
  importHosts(readings, report, taken, lans);
  switchResults.forEach((res, i) => {
    const s = switches[i]!;
    if (res.status === 'rejected') return unread(`switch ${s.name}`, res.reason, 'its access ports are missing from this draft');
    const v = res.value;
    if (v.kind === 'openwrt') {
      read.push(deviceRead(`switch ${s.name}`, 'OpenWrt', v.openwrt.release, s.address));
      importOpenWrtSwitch(model, v.sw, v.openwrt, report);
      return;
    }
    read.push(deviceRead(`switch ${s.name}`, 'RouterOS', v.live.version, s.address));
    importSwitch(model, v.sw, v.live, report);
  });

  // the LAN's own networks first, as a person writes them (stable: the rest keep their order)
  report.networks.sort((a, b) => Number(a.vlan !== undefined) - Number(b.vlan !== undefined));
  // `from` as a person writes it: the LAN first, then the networks in the draft's order
  const rank = (n: string) => (n === 'lan' ? -1 : report.networks.findIndex((x) => x.name === n));
  for (const n of report.networks) n.firewall?.from.sort((a, b) => rank(a) - rank(b));

  trunkPortsOf(model, report);

  const header = () => [
    `Draft spec written by flatnet-router import from ${file}.`,
    `Read: ${read.length > 0 ? read.join('; ') : 'nothing'}.`,
    'Review it, then: flatnet-router validate FILE; flatnet-router plan FILE --adopt takes the hand-made objects it describes over in place (routers, switches and Docker hosts).',
    ...(report.notes.length > 0 ? ['', ...report.notes] : []),
  ];
  let draft = draftText(specText, report, header());
  // the draft must validate. A network whose Docker side (joined from a host) makes it invalid keeps its
  // router side, with the Docker side said in a comment; any other problem is a bug of import, said as such
  for (let round = 0; ; round++) {
    let problems: SpecProblem[] = [];
    let file = '<draft>';
    try {
      const drafted = modelFromText(draft, options.out ?? '<draft>');
      // once, on the first draft that validates (its path is the one the draft will have)
      if (uncarriedVlans(drafted, report)) draft = draftText(specText, report, header());
    } catch (err) {
      if (!(err instanceof SpecError)) throw err;
      problems = err.problems;
      file = err.file;
    }
    if (problems.length === 0) break;
    // one problem per network: a network whose Docker side goes is handled once, however many keys failed
    const docker = round === 0 ? problems.filter((p, i) => p.path[0] === 'networks' && DOCKER_KEYS.has(String(p.path[2])) && report.networks.some((n) => n.name === p.path[1] && n.hosts.length > 0) && problems.findIndex((q) => q.path[0] === 'networks' && q.path[1] === p.path[1] && DOCKER_KEYS.has(String(q.path[2]))) === i) : [];
    const ports = round === 0 ? problems.filter((p) => p.path[0] === 'networks' && p.path[2] === 'access-ports' && report.networks.some((n) => n.name === p.path[1] && n.accessPorts.some((a) => a.includes(':')))) : [];
    for (const p of ports) {
      const net = report.networks.find((n) => n.name === p.path[1])!;
      const msg = `network ${net.name}: the switch access ports ${net.accessPorts.filter((a) => a.includes(':')).join(', ')} are left out of the draft: ${p.message}`;
      net.accessPorts = net.accessPorts.filter((a) => !a.includes(':'));
      net.notes.push(msg);
      report.warnings.push(msg);
    }
    if (docker.length === 0 && ports.length === 0) {
      for (const p of problems) report.warnings.push(`the draft does not validate (a bug of import, please report it): ${formatProblem(file, p)}`);
      failed++;
      break;
    }
    for (const p of docker) {
      const net = report.networks.find((n) => n.name === p.path[1])!;
      const msg = `network ${net.name}: its Docker side (${net.hosts.join(', ')}: container-range ${net.containerRange ?? '?'}) is left out of the draft: ${p.path.slice(2).join('.') || net.name}: ${p.message}`;
      if (net.vlan === undefined) {
        // an untagged network is only its Docker side: it goes, the comment stays in the header
        report.networks.splice(report.networks.indexOf(net), 1);
        report.notes.push(msg);
      } else {
        net.notes.push(msg);
        for (const k of ['host', 'container-range', 'shim-address', 'shim-name', 'vlan-device', 'driver']) delete net.sources[k];
        net.hosts = [];
        delete net.containerRange;
        delete net.shimAddress;
        delete net.shimName;
        delete net.vlanDevice;
        delete net.driver;
      }
      report.warnings.push(msg);
    }
    draft = draftText(specText, report, header());
  }
  return { code: failed > 0 ? 1 : 0, draft, report };
}

/** The CLI command: reads SPEC, imports, prints or writes the draft, warnings on stderr. Returns the exit code. */
export async function runImport(file: string, options: ImportOptions, io: ImportIo): Promise<number> {
  const text = readFileSync(file, 'utf8');
  const { code, draft, report } = await importFromText(text, file, options, io);
  for (const w of report.warnings) io.stderr(`warning: ${w}\n`);
  if (options.out === undefined) {
    io.stdout(draft);
    return code;
  }
  try {
    writeFileSync(options.out, draft, { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new UserError(`--out ${options.out}: the file exists; import never writes over a file (choose another name or remove it)`);
    throw err;
  }
  io.stderr(`wrote ${options.out} (${report.networks.length} network${report.networks.length === 1 ? '' : 's'})\n`);
  return code;
}
