// The Docker host this command runs on: plan and apply its Docker networks (Engine API), its shims and VLAN
// parents (iproute2, argv only) and their persistence across reboots (files under an install root, / by
// default). Order of work: VLAN parents (before Docker sees them, so Docker never owns or deletes them),
// Docker networks (those leaving the spec first), shims (stale ones first), boot files, stale VLAN parents.
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execFile } from 'node:child_process';
import { findNetwork, type Attachment, type HostModel, type Model } from '../../src/model.js';
import { contains, overlaps, parseCidr, parseIp } from '../../src/ip.js';
import { renderTemplate } from '../../src/render.js';
import { LiveCheckError, PartialApplyError, type ApplyReport, type Change, type LiveProblem, type Progress, type PropertyChange, type PushUnit, type UnitPlan, type UnitRef } from '../../src/plan/types.js';
import { Engine, dockerSocket, type EngineNetwork, type IpamConfig, type NetworkCreate } from '../docker/engine.js';
import { dockerNetwork, FLATNET_LABEL } from '../docker/index.js';
import { ip, planLinks, readLinks, type IpOp, type LiveHostLinks } from './links.js';
import { networkdFiles, shimTarget } from './index.js';

export interface HostPushOptions {
  env?: NodeJS.ProcessEnv;
  /** where /etc and /run are (default /): image builds and tests use a scratch root */
  installRoot?: string;
  /** replace networks that have containers attached: disconnect, recreate, reconnect with their addresses */
  recreateNetworks?: boolean;
  commandTimeoutMs?: number;
}

type DockerOp =
  | { kind: 'create'; spec: NetworkCreate; report: Change }
  | { kind: 'replace'; id: string; spec: NetworkCreate; containers: AttachedContainer[]; report: Change }
  | { kind: 'remove'; id: string; name: string; containers: AttachedContainer[]; report: Change };

interface AttachedContainer {
  id: string;
  name: string;
  ipv4?: string;
  ipv6?: string;
  /** network-scoped aliases (compose service names), given back on reconnect */
  aliases?: string[];
}

type FileOp = { kind: 'write'; path: string; content: string; mode: number; report: Change } | { kind: 'link'; path: string; target: string; report: Change } | { kind: 'remove'; path: string; report: Change };

type Step = { ip: IpOp } | { docker: DockerOp } | { file: FileOp };

const canonicalCidr = (s: string | undefined) => (s ? (parseCidr(s)?.text ?? s) : '');
const canonicalIp = (s: string | undefined) => (s ? (parseIp(s)?.text ?? s) : '');
const auxText = (a: Record<string, string> | null | undefined) =>
  Object.entries(a ?? {})
    .map(([k, v]) => `${k}=${canonicalIp(v)}`)
    .sort()
    .join(',');

/** Differences between what the spec wants and what the daemon has, over what the daemon keeps as given. */
export function networkDifferences(want: NetworkCreate, have: EngineNetwork): PropertyChange[] {
  const diffs: PropertyChange[] = [];
  const cmp = (key: string, a: string, b: string) => {
    if (a !== b) diffs.push({ key, from: b, to: a });
  };
  cmp('driver', want.Driver, have.Driver);
  cmp('parent', want.Options.parent ?? '', have.Options?.parent ?? '');
  if (want.Driver === 'ipvlan') cmp('ipvlan_mode', want.Options.ipvlan_mode ?? '', have.Options?.ipvlan_mode ?? 'l2');
  cmp('ipv6', String(want.EnableIPv6), String(have.EnableIPv6 === true));
  const haveConfig = have.IPAM?.Config ?? [];
  for (const family of [4, 6] as const) {
    const isFamily = (c: IpamConfig) => (c.Subnet ?? '').includes(':') === (family === 6);
    const w = want.IPAM.Config.find(isFamily);
    const h = haveConfig.find(isFamily);
    const tag = family === 4 ? '' : '6';
    cmp(`subnet${tag}`, canonicalCidr(w?.Subnet), canonicalCidr(h?.Subnet));
    cmp(`gateway${tag}`, canonicalIp(w?.Gateway), canonicalIp(h?.Gateway));
    cmp(`ip-range${tag}`, canonicalCidr(w?.IPRange), canonicalCidr(h?.IPRange));
    cmp(`aux-addresses${tag}`, auxText(w?.AuxiliaryAddresses), auxText(h?.AuxiliaryAddresses));
  }
  cmp(`label ${FLATNET_LABEL}`, want.Labels[FLATNET_LABEL] ?? '', have.Labels?.[FLATNET_LABEL] ?? '');
  return diffs;
}

function unitFile(host: HostModel, scriptPath: string): string {
  return renderTemplate('host', 'flatnet.service', { host: host.name, parent: host.parent, parentUnit: `sys-subsystem-net-devices-${systemdEscape(host.parent)}.device`, script: scriptPath });
}

/** systemd's escaping of a device name inside a unit name (`-` becomes \x2d). */
function systemdEscape(name: string): string {
  return [...name].map((c) => (/[A-Za-z0-9:_.]/.test(c) ? c : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)).join('');
}

export class HostUnit implements PushUnit {
  readonly ref: UnitRef;
  private steps: Step[] = [];
  private changes: Change[] = [];
  private readonly root: string;
  private readonly engine: Engine;
  stats = { dockerRequests: 0, ipReads: 0 };

  constructor(
    private readonly model: Model,
    private readonly host: HostModel,
    private readonly options: HostPushOptions = {},
  ) {
    const env = options.env ?? process.env;
    this.root = options.installRoot ?? '/';
    this.engine = new Engine(dockerSocket(env), options.commandTimeoutMs ?? 30_000);
    this.ref = { kind: 'host', name: host.name, type: 'docker', endpoint: `this machine, ${this.engine.socketPath}` };
  }

  private path(p: string): string {
    return join(this.root, p);
  }

  async plan(progress: Progress): Promise<UnitPlan> {
    const problems: LiveProblem[] = [];
    const warnings: string[] = [];
    const facts: string[] = [];
    const at = (...p: Array<string | number>) => ['hosts', this.host.name, ...p];
    if (typeof process.geteuid === 'function' && process.geteuid() !== 0) {
      problems.push({ path: at(), message: 'changing links and Docker networks needs root: run flatnet-router with sudo on this host' });
    }
    progress('reading Docker networks and links');
    const [version, networks, links] = await Promise.all([this.engine.version(), this.engine.networks(), readLinks((argv) => ip(argv, this.options.commandTimeoutMs))]);
    this.stats.ipReads += links.reads;
    facts.push(`Docker ${version.Version} (API ${version.ApiVersion})`);
    if (compareVersions(version.ApiVersion, '1.41') < 0) problems.push({ path: at(), message: `Docker API ${version.ApiVersion} is older than 1.41 (Docker 20.10), the oldest flatnet supports` });

    const parent = links.links.find((l) => l.ifname === this.host.parent);
    if (!parent) problems.push({ path: at('parent'), message: `network interface "${this.host.parent}" not found on this machine (ip link)` });
    else if (!parent.flags.includes('UP')) problems.push({ path: at('parent'), message: `network interface "${this.host.parent}" is down` });
    if (parent && this.host.address !== undefined && !parent.addresses.some((a) => canonicalCidr(a) === canonicalCidr(this.host.address) && a.split('/')[0] === this.host.address!.split('/')[0])) {
      problems.push({ path: at('address'), message: `${this.host.address} is not on ${this.host.parent} (it has ${parent.addresses.join(', ') || 'no address'})` });
    }
    const netifState = parent ? readSafe(this.path(`run/systemd/netif/links/${parent.ifindex}`)) : undefined;
    if (netifState && /^ADMIN_STATE=configured/m.test(netifState) && this.host.persist !== 'networkd') {
      warnings.push(`systemd-networkd manages ${this.host.parent}: a catch-all .network file (Name=* or Type=ether) would also match the shims and reconfigure them; persist: networkd gives them files of their own`);
    }
    const ifupdown = readSafe(this.path('etc/network/interfaces'));
    if (ifupdown && new RegExp(`^\\s*iface\\s+${this.host.parent.replace(/[.]/g, '\\.')}\\b`, 'm').test(ifupdown)) {
      warnings.push(`ifupdown manages ${this.host.parent} (/etc/network/interfaces): ifdown/ifup of it takes the links on it down; the boot unit brings them back only at boot, run flatnet-router apply --host again after such a restart`);
    }
    if (existsSync(this.path('run/NetworkManager'))) {
      warnings.push(`NetworkManager runs here: make sure it leaves the shims and VLAN links alone (e.g. unmanaged-devices=interface-name:fn-*;interface-name:${this.host.parent}.* in NetworkManager.conf), or it may take them down`);
    }

    // Docker networks
    const docker: DockerOp[] = [];
    const byName = new Map(networks.map((n) => [n.Name, n]));
    const wantedNames = new Set(this.host.attachments.map((a) => a.network));
    for (const a of this.host.attachments) {
      const want = dockerNetwork(this.model, a);
      const have = byName.get(a.network);
      const path = ['networks', a.network];
      const net = findNetwork(this.model, a.network);
      const subnets = [{ key: 'subnet', cidr: parseCidr(net.ipv4.subnet)! }, ...(net.ipv6 ? [{ key: 'ipv6', cidr: parseCidr(net.ipv6.subnet)! }] : [])];
      for (const other of networks) {
        // a labelled network leaving the spec is removed before this one is made
        if (other.Name === a.network || (other.Labels?.[FLATNET_LABEL] !== undefined && !wantedNames.has(other.Name))) continue;
        for (const c of other.IPAM?.Config ?? []) {
          const theirs = c.Subnet ? parseCidr(c.Subnet) : undefined;
          for (const mine of subnets) {
            if (theirs && theirs.family === mine.cidr.family && overlaps(theirs, mine.cidr)) {
              problems.push({ path: [...path, mine.key === 'subnet' ? 'subnet' : 'ipv6'], message: `overlaps Docker network "${other.Name}" (${c.Subnet}): dockerd refuses overlapping pools; remove one of them or change the subnet` });
            }
          }
        }
      }
      if (!have) {
        docker.push({ kind: 'create', spec: want, report: { action: 'add', kind: 'docker network', name: a.network, network: a.network, props: describeNetwork(want) } });
        continue;
      }
      if (have.Labels?.[FLATNET_LABEL] === undefined) {
        problems.push({ path, message: `Docker network "${a.network}" exists and was not made by flatnet (no ${FLATNET_LABEL} label): remove it (docker network rm ${a.network}) and apply again; its containers can join the new one` });
        continue;
      }
      const diffs = networkDifferences(want, have);
      if (diffs.length === 0) continue;
      const containers = await this.attached(have.Id, a.network);
      const note = containers.length === 0 ? 'a Docker network cannot be changed in place' : `containers attached: ${containers.map((c) => c.name).join(', ')}${this.options.recreateNetworks ? ' (disconnected, then reconnected with their addresses)' : '; apply needs --recreate-networks'}`;
      if (containers.length > 0 && !this.options.recreateNetworks) warnings.push(`network ${a.network} must be replaced and has containers attached (${containers.map((c) => c.name).join(', ')}): apply refuses without --recreate-networks`);
      docker.push({ kind: 'replace', id: have.Id, spec: want, containers, report: { action: 'replace', kind: 'docker network', name: a.network, network: a.network, props: diffs, note } });
    }
    const removeNetworks: DockerOp[] = [];
    for (const n of networks) {
      const label = n.Labels?.[FLATNET_LABEL];
      if (label === undefined || wantedNames.has(n.Name)) continue;
      const containers = await this.attached(n.Id, n.Name);
      if (containers.length > 0) warnings.push(`network ${n.Name} is no longer in the spec but containers use it (${containers.map((c) => c.name).join(', ')}): apply refuses to remove it until they leave`);
      removeNetworks.push({ kind: 'remove', id: n.Id, name: n.Name, containers, report: { action: 'remove', kind: 'docker network', name: n.Name, network: label, ...(containers.length ? { note: `in use by ${containers.map((c) => c.name).join(', ')}` } : {}) } });
    }
    this.stats.dockerRequests = this.engine.requests;

    // links
    const linkPlan = planLinks(this.host.name, this.host.attachments, links);
    problems.push(...linkPlan.problems);

    // boot persistence
    const files = this.planFiles(links, problems);

    if (problems.length > 0) throw new LiveCheckError(problems);
    // Networks that leave the spec go before new ones are made: Docker allows one macvlan network per parent,
    // and apply refuses to remove one that containers still use, so nothing running is cut by this order.
    this.steps = [
      ...linkPlan.parents.map((o) => ({ ip: o })),
      ...removeNetworks.map((d) => ({ docker: d })),
      ...docker.map((d) => ({ docker: d })),
      ...linkPlan.removedShims.map((o) => ({ ip: o })),
      ...linkPlan.shims.map((o) => ({ ip: o })),
      ...files.map((f) => ({ file: f })),
      ...linkPlan.removedParents.map((o) => ({ ip: o })),
    ];
    const seen = new Set<Change>();
    this.changes = [];
    for (const s of this.steps) {
      const c = 'ip' in s ? s.ip.report : 'docker' in s ? s.docker.report : s.file.report;
      if (!seen.has(c)) {
        seen.add(c);
        this.changes.push(c);
      }
    }
    return { unit: this.ref, changes: this.changes, facts, warnings };
  }

  /** Containers on a network, stopped ones too (network inspect lists only running ones). */
  private async attached(id: string, name: string): Promise<AttachedContainer[]> {
    return (await this.engine.containersOn(id)).map((c) => {
      const ep = c.NetworkSettings?.Networks?.[name];
      const ipv4 = ep?.IPAMConfig?.IPv4Address || ep?.IPAddress || undefined;
      const ipv6 = ep?.IPAMConfig?.IPv6Address || ep?.GlobalIPv6Address || undefined;
      const aliases = (ep?.Aliases ?? []).filter((x) => !c.Id.startsWith(x));
      return { id: c.Id, name: (c.Names?.[0] ?? c.Id.slice(0, 12)).replace(/^\//, ''), ...(ipv4 ? { ipv4 } : {}), ...(ipv6 ? { ipv6 } : {}), ...(aliases.length ? { aliases } : {}) };
    });
  }

  /** The boot files of `persist`, compared with what is on disk; stale flatnet files of this host go. */
  private planFiles(links: LiveHostLinks, problems: LiveProblem[]): FileOp[] {
    const ops: FileOp[] = [];
    const want = new Map<string, { content: string; mode: number } | { link: string }>();
    const h = this.host;
    const script = `etc/flatnet/${h.name}.sh`;
    const unit = `etc/systemd/system/flatnet-${h.name}.service`;
    const wants = `etc/systemd/system/multi-user.target.wants/flatnet-${h.name}.service`;
    if (h.persist === 'systemd' && h.attachments.length > 0) {
      const content = shimTarget.render(this.model, h.name)[0]!.content;
      want.set(script, { content: `#!/bin/sh\n# flatnet-router: the links of host "${h.name}" (shims, VLAN parents); run at boot by flatnet-${h.name}.service\nset -e\n${content}`, mode: 0o755 });
      want.set(unit, { content: unitFile(h, `/${script}`), mode: 0o644 });
      want.set(wants, { link: `../flatnet-${h.name}.service` });
    }
    if (h.persist === 'networkd' && h.attachments.length > 0) {
      const parent = links.links.find((l) => l.ifname === h.parent);
      const state = parent ? this.path(`run/systemd/netif/links/${parent.ifindex}`) : '';
      const networkFile = state && existsSync(state) ? /^NETWORK_FILE=(.+)$/m.exec(readFileSync(state, 'utf8'))?.[1] : undefined;
      if (!networkFile) {
        problems.push({ path: ['hosts', h.name, 'persist'], message: `systemd-networkd does not manage ${h.parent} here (no NETWORK_FILE in /run/systemd/netif/links/${parent?.ifindex ?? '?'}): use persist: systemd` });
      } else {
        const dropIn = `${networkFile.split('/').pop()}.d/flatnet.conf`;
        for (const f of networkdFiles(h)) {
          const name = f.name.endsWith('/flatnet.conf') ? dropIn : f.name;
          want.set(`etc/systemd/network/${name}`, { content: renderTemplate('host', f.template, f.view), mode: 0o644 });
        }
      }
    }
    // What flatnet wrote before and the spec no longer wants: only files that carry flatnet's own first line
    // (a file of the same name the user made is never removed). The host script stays when persist changes:
    // it is what a boot hook of your own would run.
    const ours: string[] = [];
    const written = (rel: string) => (readSafe(this.path(rel)) ?? '').startsWith('# flatnet-router:');
    if (written(unit)) ours.push(unit);
    if (readlinkSafe(this.path(wants)) === `../flatnet-${h.name}.service`) ours.push(wants);
    const netdir = this.path('etc/systemd/network');
    if (existsSync(netdir)) {
      for (const f of readdirSync(netdir)) {
        const rel = `etc/systemd/network/${f}`;
        if (/^1[01]-flatnet-.*\.(netdev|network)$/.test(f) && written(rel)) ours.push(rel);
        if (f.endsWith('.network.d') && written(`${rel}/flatnet.conf`)) ours.push(`${rel}/flatnet.conf`);
      }
    }
    for (const [rel, w] of want) {
      const abs = this.path(rel);
      if ('link' in w) {
        const current = lstatSafe(abs) ? readlinkSafe(abs) : undefined;
        if (current !== w.link) ops.push({ kind: 'link', path: abs, target: w.link, report: { action: current === undefined ? 'add' : 'change', kind: 'file', name: `/${rel}`, props: [{ key: 'symlink', ...(current ? { from: current } : {}), to: w.link }], note: 'enables the unit at boot' } });
        continue;
      }
      const current = existsSync(abs) ? readFileSync(abs, 'utf8') : undefined;
      if (current !== w.content) ops.push({ kind: 'write', path: abs, content: w.content, mode: w.mode, report: { action: current === undefined ? 'add' : 'change', kind: 'file', name: `/${rel}`, note: h.persist === 'systemd' ? 'boot persistence (systemd)' : 'boot persistence (systemd-networkd)' } });
    }
    for (const rel of new Set(ours)) {
      if (want.has(rel) || !lstatSafe(this.path(rel))) continue;
      ops.push({ kind: 'remove', path: this.path(rel), report: { action: 'remove', kind: 'file', name: `/${rel}` } });
    }
    return ops;
  }

  async apply(progress: Progress): Promise<ApplyReport> {
    const done: Change[] = [];
    const blocked = this.steps.flatMap((s) => ('docker' in s && s.docker.kind !== 'create' && s.docker.containers.length > 0 && (s.docker.kind === 'remove' || !this.options.recreateNetworks) ? [s.docker] : []));
    if (blocked.length > 0) {
      const what = blocked.map((d) => `${d.report.name} (${d.containers.map((c) => c.name).join(', ')})`).join('; ');
      throw new PartialApplyError(`containers are attached to networks that must be ${blocked.some((b) => b.kind === 'remove') ? 'removed or ' : ''}replaced: ${what}; ${blocked.some((b) => b.kind === 'replace') ? 'run apply with --recreate-networks to replace them, ' : ''}nothing was changed`, [], this.changes.length);
    }
    progress(`applying ${this.changes.length} change${this.changes.length === 1 ? '' : 's'}`);
    const notes: string[] = [];
    for (const step of this.steps) {
      const report = 'ip' in step ? step.ip.report : 'docker' in step ? step.docker.report : step.file.report;
      try {
        if ('ip' in step) await ip(step.ip.argv, this.options.commandTimeoutMs);
        else if ('docker' in step) await this.applyDocker(step.docker, notes);
        else this.applyFile(step.file);
      } catch (err) {
        const applied = done.filter((c) => c !== report);
        throw new PartialApplyError(`${report.action} ${report.kind} ${report.name} failed: ${(err as Error).message.split('\n')[0]}`, applied, this.changes.length - applied.length);
      }
      if (!done.includes(report)) done.push(report);
    }
    if (this.steps.some((s) => 'file' in s && s.file.path.includes('systemd/system')) && this.root === '/' && existsSync('/run/systemd/system')) {
      await new Promise<void>((res) => execFile('systemctl', ['daemon-reload'], { timeout: 30_000 }, () => res()));
    }
    for (const n of notes) progress(n);
    progress(`done: ${done.length} change${done.length === 1 ? '' : 's'}`);
    return { applied: done };
  }

  private async applyDocker(op: DockerOp, notes: string[]): Promise<void> {
    if (op.kind === 'create') {
      await this.engine.create(op.spec);
      return;
    }
    if (op.kind === 'remove') {
      await this.engine.remove(op.id);
      return;
    }
    for (const c of op.containers) await this.engine.disconnect(op.id, c.id);
    let id: string;
    try {
      await this.engine.remove(op.id);
      id = await this.engine.create(op.spec);
    } catch (err) {
      const left = op.containers.map((c) => `${c.name}${c.ipv4 ? ` (${c.ipv4})` : ''}`).join(', ');
      throw new Error(`${(err as Error).message}; disconnected and not reconnected: ${left}`);
    }
    const v4 = op.spec.IPAM.Config.find((c) => !(c.Subnet ?? '').includes(':'));
    const v6 = op.spec.IPAM.Config.find((c) => (c.Subnet ?? '').includes(':'));
    for (const c of op.containers) {
      const keep4 = c.ipv4 && v4?.Subnet && contains(parseCidr(v4.Subnet)!, parseIp(c.ipv4)!.value) ? c.ipv4 : undefined;
      const keep6 = c.ipv6 && v6?.Subnet && contains(parseCidr(v6.Subnet)!, parseIp(c.ipv6)!.value) ? c.ipv6 : undefined;
      if (c.ipv4 && !keep4) notes.push(`container ${c.name}: ${c.ipv4} is outside the new subnet ${v4?.Subnet}; reconnected with an address Docker picks`);
      await this.engine.connect(id, c.id, keep4, keep6, c.aliases);
    }
  }

  private applyFile(op: FileOp): void {
    if (op.kind === 'remove') {
      rmSync(op.path, { force: true });
      return;
    }
    mkdirSync(dirname(op.path), { recursive: true });
    if (op.kind === 'link') {
      rmSync(op.path, { force: true });
      symlinkSync(op.target, op.path);
      return;
    }
    writeFileSync(op.path, op.content, { mode: op.mode });
  }

  close(): void {}
}

function describeNetwork(n: NetworkCreate): PropertyChange[] {
  const props: PropertyChange[] = [
    { key: 'driver', to: n.Driver },
    { key: 'parent', to: n.Options.parent ?? '' },
  ];
  for (const c of n.IPAM.Config) {
    props.push({ key: 'subnet', to: `${c.Subnet} gateway ${c.Gateway}${c.IPRange ? ` ip-range ${c.IPRange}` : ''}` });
    if (c.AuxiliaryAddresses && Object.keys(c.AuxiliaryAddresses).length) props.push({ key: 'aux-addresses', to: auxText(c.AuxiliaryAddresses) });
  }
  props.push({ key: 'label', to: `${FLATNET_LABEL}=${n.Labels[FLATNET_LABEL]}` });
  return props;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function readSafe(p: string): string | undefined {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}

function lstatSafe(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}
function readlinkSafe(p: string): string | undefined {
  try {
    return readlinkSync(p);
  } catch {
    return undefined;
  }
}
