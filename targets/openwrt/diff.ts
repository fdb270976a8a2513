// OpenWrt: the desired UCI sections vs the router's live `uci export` → live-check problems, the plan's
// changes, and the one `uci batch` that carries them out (only what differs), with the `uci changes`
// lines that batch must stage (so a line uci skipped is caught before anything is committed). Pure.
import { capabilities } from '../../src/devices.js';
import { deviceHas } from '../../src/hints.js';
import { findNetwork, taggedPorts, untaggedPorts, vlanFiltering, type Model, type OpenWrtRouter } from '../../src/model.js';
import { contains, ipText, overlaps, parseCidr, parseIp, type IpRange } from '../../src/ip.js';
import type { Change, LiveProblem, PropertyChange } from '../../src/plan/types.js';
import { uciName, uciQuote } from '../../src/quote.js';
import { desiredState, filteringReason, lanVlanClash, SECTION_PREFIX, specPath, specPathOf, type UciForeignOption, type UciSection } from './index.js';
import { isFinding, toFinding, type FlowResult } from '../../src/audit/findings.js';
import { auditOpenWrt } from './audit.js';
import { uciWords, type ExportedSection } from './uci.js';
import { findOpenWrtAdoptions, type AdoptedFrom } from './adopt.js';
import { heldByOther, ownerText, owns, removedNetworkWarning, UCI_OWNER_OPTION, type Ownership } from '../../src/ownership.js';

// The options that identify a section in a one-line plan (the --verbose plan and --json list them all).
const KEY_OPTIONS: Record<string, string[]> = {
  device: ['type', 'ifname', 'vid', 'name'],
  interface: ['proto', 'device', 'ipaddr', 'netmask', 'ip6addr'],
  'bridge-vlan': ['device', 'vlan', 'ports'],
  zone: ['name', 'network', 'input', 'forward'],
  forwarding: ['src', 'dest'],
  rule: ['src', 'dest', 'proto', 'dest_port', 'family', 'target'],
  dhcp: ['interface', 'start', 'limit'],
};

/** `rule src=fn_vlan30 proto='tcp udp' dest_port=53 target=ACCEPT`: a section's type and key options. */
export function describeSection(s: { type: string; options: ReadonlyArray<readonly [string, string]> }): string {
  const keys = KEY_OPTIONS[s.type];
  const shown = keys ? s.options.filter(([k]) => keys.includes(k)) : s.options.slice(0, 4);
  return [s.type, ...shown.map(([k, v]) => `${k}=${/[\s']/.test(v) || v === '' ? `'${v.replace(/'/g, "'\\''")}'` : v}`)].join(' ');
}

export const CONFIGS = ['network', 'firewall', 'dhcp'] as const;
export type ConfigName = (typeof CONFIGS)[number];

/** In the staged lines the batch must make: an anonymous section's id (cfgXXXXXX), which uci makes up; see push.ts. */
export const ANONYMOUS_STAGED = '@anonymous';

/** What flatnet records on the router about the one option it sets outside its own sections. */
export const STATE_SECTION = `${SECTION_PREFIX}state`;

export interface OpenWrtLive {
  sections: ExportedSection[];
  release?: string;
  hasUbus: boolean;
  /** `uci changes` before flatnet did anything: someone else's staged work, which a commit would take along */
  staged: string[];
}

export interface OpenWrtPlan {
  changes: Change[];
  /** the `uci batch` input: only the changes */
  batch: string[];
  /** the `uci changes <config>` lines the batch must stage, config by config in CONFIGS order */
  expectedStaged: string[];
  /** for each expectedStaged line, the batch line that stages it (to name a line uci skipped) */
  stagedBy: string[];
  /** configs the batch touches: committed and reloaded, nothing else */
  changed: ConfigName[];
  problems: LiveProblem[];
  warnings: string[];
  facts: string[];
  /** the audit: every flow of the spec against the firewall as the apply leaves it (routers only) */
  audit?: FlowResult[];
}

/** flatnet's section, whichever spec (owner) made it */
const isFlatnet = (s: ExportedSection) => s.name !== undefined && s.name.startsWith(SECTION_PREFIX);
const ownerOf = (s: ExportedSection) => single(s.options.get(UCI_OWNER_OPTION));
/** this spec's sections: its owner's (none: those without the option), and --from-owner's, which it relabels */
const ownedBy = (o: Ownership) => (s: ExportedSection) => isFlatnet(s) && owns(o, ownerOf(s));

/**
 * The configs as the apply leaves them: flatnet's sections as the spec wants them, the one foreign option set,
 * everyone else's sections as they are. The audit looks at this, so a first plan reports only what the apply
 * will not fix.
 */
export function projectedSections(live: readonly ExportedSection[], desired: readonly UciSection[], foreign: readonly UciForeignOption[], isOwned: (s: ExportedSection) => boolean = isFlatnet): ExportedSection[] {
  // isOwned: this spec's sections, replaced by the desired ones; other owners' stay as they are
  const out = live.filter((x) => !isOwned(x)).map((x) => ({ ...x, options: new Map(x.options) }));
  for (const f of foreign) out.find((x) => x.config === f.config && x.name === f.section)?.options.set(f.option, f.value);
  for (const d of desired) out.push({ config: d.config, type: d.type, name: d.name, options: new Map(d.options) });
  return out;
}
const single = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/** Addresses of an interface section: `ipaddr` with `netmask`, or CIDR items (option or list). */
function interfaceSubnets(s: ExportedSection): Array<{ text: string; range: IpRange; address: bigint }> {
  const raw = s.options.get('ipaddr');
  if (raw === undefined) return [];
  const items = Array.isArray(raw) ? raw : raw.split(/\s+/).filter(Boolean);
  const netmask = single(s.options.get('netmask'));
  const out: Array<{ text: string; range: IpRange; address: bigint }> = [];
  for (const item of items) {
    let cidrText = item;
    if (!item.includes('/')) {
      const mask = netmask ? parseIp(netmask) : undefined;
      const bits = mask ? mask.value.toString(2).replace(/0+$/, '').length : 32;
      cidrText = `${item}/${bits}`;
    }
    const cidr = parseCidr(cidrText);
    if (cidr) out.push({ text: cidrText, range: cidr, address: cidr.address.value });
  }
  return out;
}

/** The DSA bridge device section named `device`, or undefined (swconfig images use an interface of type bridge). */
function bridgeDevice(live: OpenWrtLive, device: string): ExportedSection | undefined {
  return live.sections.find((s) => s.config === 'network' && s.type === 'device' && single(s.options.get('name')) === device && single(s.options.get('type')) === 'bridge');
}

export interface DiscoveredLan {
  ports: string[];
  iface?: string;
  found: string[];
}

/**
 * With trunk- or access-ports and no lan-ports/lan-interface in the spec: the bridge's ports but the access
 * ports, the interface on the bridge. A port that stops being an access port is back among them.
 */
export function discoverLan(router: OpenWrtRouter, live: OpenWrtLive): DiscoveredLan {
  const found: string[] = [];
  let ports = router.lanPorts;
  let iface = router.lanInterface;
  if (!vlanFiltering(router)) return { ports, ...(iface !== undefined ? { iface } : {}), found };
  const bridge = bridgeDevice(live, router.device);
  if (ports.length === 0 && bridge) {
    const all = bridge.options.get('ports');
    // Every port of the bridge, trunk ports included: the host on a trunk port usually has its own address
    // on the untagged LAN (the spec's hosts.<name>.address), and leaving it out would cut that host off.
    ports = (Array.isArray(all) ? all : uciWords(all).split(' ').filter(Boolean)).filter((p) => !router.accessPorts.includes(p));
    const but = router.accessPorts.length > 0 ? ` but the access ports ${router.accessPorts.join(' ')}` : '';
    found.push(`lan-ports read from the ${router.kind}: ${ports.join(' ')} (every port of ${router.device}${but}; trunk ports keep the untagged LAN as well)`);
  }
  if (iface === undefined) {
    const state = live.sections.find((s) => s.config === 'network' && s.name === STATE_SECTION);
    const recorded = single(state?.options.get('lan_interface'));
    const candidates = live.sections.filter(
      (s) => s.config === 'network' && s.type === 'interface' && s.name !== undefined && !isFlatnet(s) && [router.device, `${router.device}.${router.lanVlan}`].includes(single(s.options.get('device')) ?? ''),
    );
    iface = recorded ?? (candidates.length === 1 ? candidates[0]!.name : undefined);
    if (iface !== undefined) found.push(`lan-interface read from the ${router.kind}: ${iface} (the interface on ${router.device})`);
  }
  return { ports, ...(iface !== undefined ? { iface } : {}), found };
}

function liveChecks(model: Model, router: OpenWrtRouter, live: OpenWrtLive, lan: DiscoveredLan, isOwned: (s: ExportedSection) => boolean, adopting: boolean): { problems: LiveProblem[]; warnings: string[] } {
  const problems: LiveProblem[] = [];
  const warnings: string[] = [];
  const at = (...p: Array<string | number>) => [...specPathOf(router), ...p];
  const network = live.sections.filter((s) => s.config === 'network');
  const networks = router.networks.map((n) => findNetwork(model, n));
  const staged = live.staged.filter((l) => CONFIGS.some((c) => l.replace(/^-/, '').startsWith(`${c}.`)));
  if (staged.length > 0) {
    problems.push({ path: at(), message: `the ${router.kind} has uncommitted uci changes (${staged.slice(0, 3).join(', ')}${staged.length > 3 ? ', …' : ''}); an apply would commit them too: commit or revert them first (uci changes; uci revert network)` });
  }
  problems.push(...ownerChecks(model, router, live, isOwned));
  const clash = lanVlanClash(model, router);
  if (clash) problems.push({ path: at('lan-vlan'), message: clash });
  if (networks.length > 0) {
    const bridge = bridgeDevice(live, router.device);
    const legacy = network.find((s) => s.type === 'interface' && single(s.options.get('type')) === 'bridge' && `br-${s.name}` === router.device);
    if (!bridge && !legacy) {
      const bridges = live.sections.filter((s) => s.config === 'network' && s.type === 'device' && single(s.options.get('type')) === 'bridge').map((s) => single(s.options.get('name')) ?? '');
      problems.push({ path: at('device'), message: `device "${router.device}" not found in /etc/config/network (no bridge device of that name)${deviceHas(`${router.kind}'s network config`, router.device, bridges)}` });
    }
    if (vlanFiltering(router)) {
      // every port that carries a VLAN: trunk-ports, the ports the path tags, access ports (each reported
      // where the spec names it)
      const vlanPorts = [...new Set([...router.trunkPorts, ...networks.flatMap((n) => [...taggedPorts(router, n.name), ...untaggedPorts(router, n.name)])])];
      const portPath = (p: string) => router.portPaths[p] ?? at();
      if (!bridge) {
        const whyPath = router.trunkPorts.length > 0 ? at('trunk-ports') : vlanPorts.length > 0 ? portPath(vlanPorts[0]!) : at('device');
        problems.push({ path: whyPath, message: `${filteringReason(router)} need a DSA bridge device "${router.device}" (config device, type bridge); this ${router.kind} has none` });
      } else {
        const ports = uciWords(bridge.options.get('ports')).split(' ');
        for (const p of vlanPorts) {
          if (!ports.includes(p)) problems.push({ path: portPath(p), message: `port "${p}" is not a port of ${router.device} (its ports: ${ports.join(' ') || 'none'})` });
        }
        // your own bridge-vlan sections on the bridge: a port in one of them would carry that VLAN too
        const foreignVlans = network.filter((s) => s.type === 'bridge-vlan' && !isFlatnet(s) && single(s.options.get('device')) === router.device);
        for (const n of networks) {
          for (const p of untaggedPorts(router, n.name)) {
            for (const v of foreignVlans) {
              const member = bridgeVlanMembers(v.options.get('ports')).find((m) => m.port === p)?.member;
              if (member) warnings.push(`access port ${p} of network ${n.name} is also in ${v.name ? `network.${v.name}` : 'an anonymous bridge-vlan section'} (VLAN ${single(v.options.get('vlan')) ?? '?'}, as ${member}), not flatnet's: its devices would see that VLAN too; remove ${p} there`);
            }
          }
        }
      }
      if (lan.ports.length === 0) problems.push({ path: at('lan-ports'), message: `not given and not readable from the ${router.kind}: list the ports of the untagged LAN` });
      if (lan.iface === undefined) problems.push({ path: at('lan-interface'), message: `not given and not readable from the ${router.kind} (no single interface on ${router.device}): name the LAN's interface` });
    }
  }
  // without --adopt: a network's own VLAN made by hand (its bridge-vlan, or its interface on <device>.<vlan>),
  // and the LAN's bridge-vlan made by hand (flatnet would add a second one for lan-vlan)
  if (!adopting) {
    const lanVlan = `${SECTION_PREFIX}lan_vlan`;
    const lanBv = vlanFiltering(router) && !network.some((s) => isOwned(s) && s.name === lanVlan)
      ? network.find((s) => s.type === 'bridge-vlan' && !isFlatnet(s) && single(s.options.get('device')) === router.device && single(s.options.get('vlan')) === String(router.lanVlan))
      : undefined;
    if (lanBv) {
      problems.push({
        path: at('lan-vlan'),
        message: `the untagged LAN's VLAN ${router.lanVlan} already has ${lanBv.name ? `network.${lanBv.name}` : 'an anonymous bridge-vlan section'} (bridge-vlan ${router.lanVlan} on ${router.device}), not made by flatnet: plan --adopt (then apply --adopt) takes it over in place, renamed to ${lanVlan}, its ports set to the LAN's; without it flatnet would add a second bridge-vlan for VLAN ${router.lanVlan}`,
      });
    }
    for (const n of networks) {
      const mine = network.some((s) => isOwned(s) && (s.name === n.names.uciSection || s.name === `${n.names.uciSection}_vlan`));
      if (mine) continue;
      const device = `${router.device}.${n.vlan}`;
      const iface = capabilities(router).layer3 ? network.find((s) => s.type === 'interface' && !isFlatnet(s) && single(s.options.get('device')) === device) : undefined;
      const bv = vlanFiltering(router) ? network.find((s) => s.type === 'bridge-vlan' && !isFlatnet(s) && single(s.options.get('device')) === router.device && single(s.options.get('vlan')) === String(n.vlan)) : undefined;
      const what = iface ? `interface network.${iface.name} on ${device}` : bv ? `${bv.name ? `network.${bv.name}` : 'an anonymous bridge-vlan section'} (bridge-vlan ${n.vlan} on ${router.device})` : undefined;
      if (what === undefined) continue;
      const also = capabilities(router).layer3 ? ', with its VLAN device, zone, DHCP section and the forwardings and rules equal to flatnet\'s' : '';
      problems.push({ path: ['networks', n.name, 'vlan'], message: `VLAN ${n.vlan} already has ${what}, not made by flatnet: plan --adopt (then apply --adopt) takes it over in place, renamed to flatnet's section names${also}; or remove it, or choose another vlan` });
    }
  }
  // a switch has no address, zone or DHCP server on flatnet's VLANs: nothing of its own can clash with them
  if (!capabilities(router).layer3) return { problems, warnings };
  // other owners' interfaces count: their addresses are as much in the way as the user's
  const foreignIfaces = network.filter((s) => s.type === 'interface' && !isOwned(s));
  for (const n of networks) {
    const subnet = parseCidr(n.ipv4.subnet)!;
    const gateway = parseIp(n.ipv4.gateway)!;
    for (const s of foreignIfaces) {
      if (s.name === n.names.uciSection) continue; // another owner's of the same name: refused by name
      if (!adopting && !isFlatnet(s) && single(s.options.get('device')) === `${router.device}.${n.vlan}`) continue; // refused above, naming --adopt
      for (const a of interfaceSubnets(s)) {
        if (a.address === gateway.value) problems.push({ path: ['networks', n.name, 'gateway'], message: `address ${n.ipv4.gateway} is already used by interface "${s.name}" of the router` });
        else if (overlaps(a.range, subnet)) problems.push({ path: ['networks', n.name, 'subnet'], message: `overlaps ${a.text} of interface "${s.name}" of the router` });
      }
    }
  }
  // Containers must not be leased by the router's DHCP server: every network whose gateway is this router,
  // untagged LAN networks included (OpenWrt's default LAN pool is .100-.249).
  // flatnet's own dhcp.flatnet_* sections are left out: their pools come from dhcp-pool, validated clear of the containers
  const dhcp = live.sections.filter((s) => s.config === 'dhcp' && s.type === 'dhcp' && !isOwned(s));
  for (const n of model.networks.filter((x) => x.router === router.name)) {
    if (!n.ipv4.containerRange) continue; // a network without containers: no range to keep clear
    const gateway = parseIp(n.ipv4.gateway)!;
    const range = parseCidr(n.ipv4.containerRange)!;
    const ifaces = new Map<string, { first: bigint }>();
    if (n.vlan !== undefined) ifaces.set(n.names.uciSection, { first: parseCidr(n.ipv4.subnet)!.first });
    for (const s of foreignIfaces) {
      for (const a of interfaceSubnets(s)) if (contains(a.range, gateway.value)) ifaces.set(s.name!, { first: a.range.first });
    }
    for (const d of dhcp) {
      const iface = single(d.options.get('interface')) ?? d.name;
      if (!iface || !ifaces.has(iface) || ['1', 'true', 'yes', 'on'].includes(single(d.options.get('ignore')) ?? '')) continue;
      const start = BigInt(Number(single(d.options.get('start')) ?? '100'));
      const limit = BigInt(Number(single(d.options.get('limit')) ?? '150'));
      const first = ifaces.get(iface)!.first + start;
      const pool = { first, last: first + limit - 1n };
      if (overlaps(pool, range)) {
        problems.push({
          path: ['networks', n.name, 'container-range'],
          message: `${n.ipv4.containerRange} overlaps the DHCP range of interface "${iface}" (${ipText(4, pool.first)}-${ipText(4, pool.last)}: dhcp.${d.name ?? iface} start ${start}, limit ${limit}): the router could lease a container's address; shrink the range (uci set dhcp.${d.name ?? iface}.limit=…) or move the containers`,
        });
      }
    }
  }
  return { problems, warnings };
}

/**
 * Ownership: a section name (a network name) or VLAN id that another owner's sections hold is refused at the
 * network's spec path; the router-wide sections (the LAN's bridge-vlan, flatnet_state) at the router's.
 */
function ownerChecks(model: Model, router: OpenWrtRouter, live: OpenWrtLive, isOwned: (s: ExportedSection) => boolean): LiveProblem[] {
  const others = live.sections.filter((s) => isFlatnet(s) && !isOwned(s));
  if (others.length === 0) return [];
  const owner = model.ownership.owner;
  const problems: LiveProblem[] = [];
  const desired = desiredState(model, router).sections;
  const networks = router.networks.map((name) => findNetwork(model, name));
  for (const n of networks) {
    const held = others.find((s) => desired.some((d) => d.config === s.config && d.name === s.name && (d.name === n.names.uciSection || d.name.startsWith(`${n.names.uciSection}_`))));
    if (held) {
      problems.push({ path: ['networks', n.name], message: heldByOther(`network name "${n.name}"`, `${held.config}.${held.name}, flatnet_owner ${ownerOf(held) ?? '(none)'}`, ownerOf(held), owner) });
      continue;
    }
    const vlan = String(n.vlan);
    const byVlan = others.find((s) => s.config === 'network' && ((s.type === 'device' && single(s.options.get('vid')) === vlan) || (s.type === 'bridge-vlan' && single(s.options.get('vlan')) === vlan)));
    if (byVlan) problems.push({ path: ['networks', n.name, 'vlan'], message: heldByOther(`VLAN ${vlan}`, `network.${byVlan.name}, flatnet_owner ${ownerOf(byVlan) ?? '(none)'}`, ownerOf(byVlan), owner) });
  }
  const shared = others.find((s) => desired.some((d) => d.config === s.config && d.name === s.name) && !networks.some((n) => s.name === n.names.uciSection || s.name!.startsWith(`${n.names.uciSection}_`)));
  if (shared) {
    // the LAN's bridge-vlan and its record are one per device: VLAN filtering on it belongs to one owner
    const lanSection = shared.config === 'network' && (shared.type === 'bridge-vlan' || shared.type === 'flatnet_state');
    problems.push({
      path: [...specPathOf(router)],
      message: lanSection
        ? `VLAN filtering on ${router.device} (its LAN's ${shared.config}.${shared.name}) is set up by ${ownerText(ownerOf(shared))}: two owners cannot both put ports of one OpenWrt ${router.kind} on VLANs (trunk-ports, access-ports or the path); give those ports to one spec, or plan with --from-owner ${ownerOf(shared) ?? 'none'} if this spec had that owner before`
        : heldByOther(`section ${shared.config}.${shared.name}`, `flatnet_owner ${ownerOf(shared) ?? '(none)'}`, ownerOf(shared), owner),
    });
  }
  return problems;
}

const quoteLine = (config: string, section: string, option: string | undefined, value: string) =>
  `set ${uciName(config)}.${uciName(section)}${option !== undefined ? `.${uciName(option)}` : ''}=${uciQuote(value)}`;
const stagedSet = (config: string, section: string, option: string | undefined, value: string) => `${config}.${section}${option !== undefined ? `.${option}` : ''}='${value}'`;

/** A bridge-vlan's `ports` (`lan1:t lan3:u*`, option or list): each member as written, with its port's name. */
function bridgeVlanMembers(ports: string | string[] | undefined): Array<{ port: string; member: string }> {
  return uciWords(ports).split(' ').filter(Boolean).map((member) => ({ port: member.replace(/:.*$/, ''), member }));
}

/**
 * Ports flatnet made access ports that the spec drops while VLAN filtering stays on: with lan-ports read
 * from the router they rejoin the LAN by themselves; with lan-ports in the spec, one not listed there would
 * be in no VLAN at all.
 */
function strandedPorts(router: OpenWrtRouter, live: OpenWrtLive, desired: readonly UciSection[], isOwned: (s: ExportedSection) => boolean): string[] {
  if (!vlanFiltering(router)) return [];
  const kept = new Set(desired.filter((s) => s.type === 'bridge-vlan').flatMap((s) => bridgeVlanMembers(s.options.find(([k]) => k === 'ports')?.[1]).map((m) => m.port)));
  const out: string[] = [];
  for (const s of live.sections) {
    if (!isOwned(s) || s.config !== 'network' || s.type !== 'bridge-vlan' || s.name === `${SECTION_PREFIX}lan_vlan`) continue;
    for (const { port, member } of bridgeVlanMembers(s.options.get('ports'))) {
      if (member.includes(':u') && !kept.has(port)) out.push(`${port} is no longer an access port (network.${s.name}) and is in no VLAN of ${router.device} now: add it to ${specPath(router)}.lan-ports to put it back on the LAN (or leave lan-ports out: plan reads them from the ${router.kind})`);
    }
  }
  return out;
}

export interface OpenWrtPlanOptions {
  /** --adopt: hand-made sections that are what the spec asks for are renamed to flatnet's and taken over (adopt.ts) */
  adopt?: boolean;
}

const ADOPT_NOTE = 'made by hand, taken over in place';

export function planOpenWrt(model: Model, router: OpenWrtRouter, read: OpenWrtLive, options: OpenWrtPlanOptions = {}): OpenWrtPlan {
  const lan = discoverLan(router, read);
  // with --adopt the plan sees the adopted sections under flatnet's names, as this spec's own
  let live = read;
  let adopted = new Map<ExportedSection, AdoptedFrom>();
  const adoptProblems: LiveProblem[] = [];
  if (options.adopt) {
    const effectiveLan: OpenWrtRouter = { ...router, lanPorts: lan.ports, ...(lan.iface !== undefined ? { lanInterface: lan.iface } : {}) };
    const found = findOpenWrtAdoptions(model, router, read.sections, desiredState(model, effectiveLan).sections);
    live = { ...read, sections: found.sections };
    adopted = found.adopted;
    adoptProblems.push(...found.problems);
  }
  const ownedOnly = ownedBy(model.ownership);
  const isOwned = (s: ExportedSection) => adopted.has(s) || ownedOnly(s);
  const { problems, warnings } = liveChecks(model, router, live, lan, isOwned, options.adopt === true);
  problems.push(...adoptProblems);
  const facts = [
    ...(live.release ? [`OpenWrt ${live.release}${live.hasUbus ? '' : ' (no ubus)'}`] : []),
    ...lan.found,
  ];
  const empty = { changes: [], batch: [], expectedStaged: [], stagedBy: [], changed: [] as ConfigName[], problems, warnings, facts };
  if (problems.length > 0) return empty;

  const effective: OpenWrtRouter = { ...router, lanPorts: lan.ports, ...(lan.iface !== undefined ? { lanInterface: lan.iface } : {}) };
  const desired = desiredState(model, effective);
  warnings.push(...strandedPorts(effective, live, desired.sections, isOwned));
  const lines: Array<{ config: ConfigName; batch: string; staged: string }> = [];
  const changes: Change[] = [];
  const changed = new Set<ConfigName>();
  const set = (config: string, section: string, option: string | undefined, value: string) => {
    lines.push({ config: config as ConfigName, batch: quoteLine(config, section, option, value), staged: stagedSet(config, section, option, value) });
    changed.add(config as ConfigName);
  };
  const del = (config: string, section: string, option?: string) => {
    lines.push({ config: config as ConfigName, batch: `delete ${uciName(config)}.${uciName(section)}${option !== undefined ? `.${uciName(option)}` : ''}`, staged: `-${config}.${section}${option !== undefined ? `.${option}` : ''}` });
    changed.add(config as ConfigName);
  };

  const rename = (config: string, from: AdoptedFrom, to: string) => {
    lines.push({
      config: config as ConfigName,
      batch: `rename ${uciName(config)}.${from.name !== undefined ? uciName(from.name) : from.ref}=${uciName(to)}`,
      // uci changes names an anonymous section by its cfgXXXXXX id: the apply normalizes it (ANONYMOUS_STAGED)
      staged: `${config}.${from.name ?? ANONYMOUS_STAGED}='${to}'`,
    });
    changed.add(config as ConfigName);
  };
  const liveOwned = new Map(live.sections.filter(isOwned).map((s) => [`${s.config}.${s.name}`, s]));
  const addSection = (s: UciSection) => {
    set(s.config, s.name, undefined, s.type);
    for (const [k, v] of s.options) set(s.config, s.name, k, v);
    changes.push({ action: 'add', kind: `${s.config}.${s.name}`, name: describeSection(s), props: s.options.map(([key, to]) => ({ key, to })) });
  };
  for (const s of desired.sections) {
    const have = liveOwned.get(`${s.config}.${s.name}`);
    liveOwned.delete(`${s.config}.${s.name}`);
    if (!have) {
      addSection(s);
      continue;
    }
    if (have.type !== s.type && !adopted.has(have)) {
      // a section's type cannot be changed in uci: delete and create it again
      del(s.config, s.name);
      set(s.config, s.name, undefined, s.type);
      for (const [k, v] of s.options) set(s.config, s.name, k, v);
      changes.push({ action: 'replace', kind: `${s.config}.${s.name}`, name: `${have.type} -> ${s.type}`, props: s.options.map(([key, to]) => ({ key, to })) });
      continue;
    }
    const from = adopted.get(have);
    if (from) rename(s.config, from, s.name);
    const props: PropertyChange[] = [];
    for (const [k, v] of s.options) {
      const cur = have.options.get(k);
      if (uciWords(cur) !== uciWords(v)) {
        set(s.config, s.name, k, v);
        props.push({ key: k, ...(cur !== undefined ? { from: uciWords(cur) } : {}), to: v });
      }
    }
    for (const [k, cur] of have.options) {
      if (!s.options.some(([dk]) => dk === k)) {
        del(s.config, s.name, k);
        props.push({ key: k, from: uciWords(cur) });
      }
    }
    if (from) {
      // `= adopt` when only the label (the section's name, flatnet_owner, a rule's name) changes; `~`, noted as adopted, when a value does
      const labelOnly = props.every((p) => p.key === UCI_OWNER_OPTION || (s.type === 'rule' && p.key === 'name')); // a rule's name is its label
      changes.push({ action: labelOnly ? 'adopt' : 'change', kind: `${s.config}.${s.name}`, name: `${from.label} ${describeSection({ type: have.type, options: [...have.options].map(([k, v]) => [k, uciWords(v)] as const) }).replace(/^\S+ ?/, '')}`.trim(), props: [{ key: 'section', from: from.label, to: `${s.config}.${s.name}` }, ...props], note: ADOPT_NOTE });
    } else if (props.length > 0) changes.push({ action: 'change', kind: `${s.config}.${s.name}`, name: s.type, props });
  }

  // The one option outside flatnet's sections: the LAN's device with trunk-ports. What it was before is
  // recorded in network.flatnet_state, and put back in the same commit that removes the last bridge-vlan,
  // so leaving VLAN filtering never strands the LAN on <device>.<lan-vlan>.
  const state = liveOwned.get(`network.${STATE_SECTION}`);
  liveOwned.delete(`network.${STATE_SECTION}`);
  const findSection = (config: string, name: string) => live.sections.find((x) => x.config === config && x.name === name);
  for (const f of desired.foreign) {
    const target = findSection(f.config, f.section);
    const cur = single(target?.options.get(f.option));
    if (cur !== f.value) {
      if (!state) {
        set('network', STATE_SECTION, undefined, 'flatnet_state');
        if (model.ownership.owner !== undefined) set('network', STATE_SECTION, UCI_OWNER_OPTION, model.ownership.owner);
        set('network', STATE_SECTION, 'lan_interface', f.section);
        // what it was (or that it had none), and what flatnet set: put back only if nobody changed it since
        if (cur !== undefined) set('network', STATE_SECTION, 'lan_device', cur);
        else set('network', STATE_SECTION, 'lan_device_none', '1');
        set('network', STATE_SECTION, 'lan_device_set', f.value);
        changes.push({
          action: 'add',
          kind: `network.${STATE_SECTION}`,
          name: 'flatnet_state',
          props: [{ key: 'lan_interface', to: f.section }, { key: 'lan_device', to: cur ?? '(none)' }, { key: 'lan_device_set', to: f.value }],
          note: 'what the LAN used before, to put it back without trunk-ports',
        });
      } else if (single(state.options.get('lan_device_set')) !== f.value) {
        set('network', STATE_SECTION, 'lan_device_set', f.value);
      }
      set(f.config, f.section, f.option, f.value);
      changes.push({ action: 'change', kind: `${f.config}.${f.section}`, name: 'LAN interface (not a flatnet section)', props: [{ key: f.option, ...(cur !== undefined ? { from: cur } : {}), to: f.value }], note: f.why });
    }
    else if (!state && [...adopted].some(([v]) => v.config === 'network' && v.name === `${SECTION_PREFIX}lan_vlan`)) {
      // --adopt took over a hand-made LAN bridge-vlan: the LAN is on <device>.<lan-vlan> already. Recorded as
      // generate records it (the bridge itself before VLAN filtering), so that dropping trunk-ports later puts
      // the LAN back on the bridge in the commit that removes the last bridge-vlan
      set('network', STATE_SECTION, undefined, 'flatnet_state');
      if (model.ownership.owner !== undefined) set('network', STATE_SECTION, UCI_OWNER_OPTION, model.ownership.owner);
      set('network', STATE_SECTION, 'lan_interface', f.section);
      set('network', STATE_SECTION, 'lan_device', router.device);
      set('network', STATE_SECTION, 'lan_device_set', f.value);
      changes.push({ action: 'add', kind: `network.${STATE_SECTION}`, name: 'flatnet_state', props: [{ key: 'lan_interface', to: f.section }, { key: 'lan_device', to: router.device }, { key: 'lan_device_set', to: f.value }], note: `the LAN's bridge-vlan is adopted: ${f.section} goes back on ${router.device} without trunk-ports` });
    }
  }
  // --from-owner: the record of the LAN option is relabelled in place, as every other section
  if (desired.foreign.length > 0 && state && ownerOf(state) !== model.ownership.owner) {
    const from = ownerOf(state);
    const to = model.ownership.owner;
    if (to !== undefined) set('network', STATE_SECTION, UCI_OWNER_OPTION, to);
    else del('network', STATE_SECTION, UCI_OWNER_OPTION);
    changes.push({ action: 'change', kind: `network.${STATE_SECTION}`, name: 'flatnet_state', props: [{ key: UCI_OWNER_OPTION, ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) }] });
  }
  if (desired.foreign.length === 0 && state) {
    const iface = single(state.options.get('lan_interface'));
    const device = single(state.options.get('lan_device'));
    const none = single(state.options.get('lan_device_none')) === '1';
    const flatnetSet = single(state.options.get('lan_device_set'));
    const target = iface ? findSection('network', iface) : undefined;
    const current = single(target?.options.get('device'));
    if (iface && target && (device !== undefined || none)) {
      if (flatnetSet !== undefined && current !== flatnetSet) {
        warnings.push(`network.${iface}.device is "${current ?? ''}", not the "${flatnetSet}" flatnet set: left as it is`);
      } else if (none ? current !== undefined : current !== device) {
        if (none) del('network', iface, 'device');
        else set('network', iface, 'device', device!);
        changes.push({ action: 'change', kind: `network.${iface}`, name: 'LAN interface (not a flatnet section)', props: [{ key: 'device', from: current ?? '', ...(none ? {} : { to: device! }) }], note: 'put back as it was before trunk-ports' });
      }
    }
    del('network', STATE_SECTION);
    changes.push({ action: 'remove', kind: `network.${STATE_SECTION}`, name: 'flatnet_state' });
  }

  // a whole network on the device that the spec does not name goes (its interface section): said, with its VLAN
  for (const s of liveOwned.values()) {
    if (s.config !== 'network' || s.type !== 'interface') continue;
    const device = single(s.options.get('device')) ?? '';
    const vlan = /\.(\d+)$/.exec(device)?.[1] ?? single(live.sections.find((x) => x.config === 'network' && x.name === `${s.name}_vlan`)?.options.get('vlan'));
    warnings.push(removedNetworkWarning(s.name!.slice(SECTION_PREFIX.length), vlan, router.kind, model.ownership.owner));
  }
  for (const s of liveOwned.values()) {
    del(s.config, s.name!);
    changes.push({ action: 'remove', kind: `${s.config}.${s.name}`, name: s.type });
  }
  // `uci changes <config>` lists a config's staged changes in the order they were made
  const grouped = CONFIGS.flatMap((c) => lines.filter((l) => l.config === c));
  let audit: FlowResult[] | undefined;
  if (capabilities(router).layer3) {
    const projected = projectedSections(live.sections, desired.sections, desired.foreign, isOwned);
    audit = auditOpenWrt(model, effective, projected.filter((x) => x.config === 'firewall'), projected.filter((x) => x.config === 'network'));
    for (const r of audit) if (isFinding(r)) warnings.push(toFinding(r).message);
  }
  return {
    ...(audit ? { audit } : {}),
    changes,
    batch: lines.map((l) => l.batch),
    expectedStaged: grouped.map((l) => l.staged),
    stagedBy: grouped.map((l) => l.batch),
    changed: CONFIGS.filter((c) => changed.has(c)),
    problems,
    warnings,
    facts,
  };
}
