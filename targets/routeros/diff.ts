// RouterOS: desired objects vs the live router → live-check problems, warnings and an ordered list of API
// operations, each tied to the plan change it carries out. Pure: no I/O, so every rule of ordering and
// normalisation is unit-testable.
import { capabilities, type Capabilities } from '../../src/devices.js';
import { deviceHas } from '../../src/hints.js';
import { findNetwork, taggedPorts, untaggedPorts, type Model, type RouterOSRouter } from '../../src/model.js';
import { contains, overlaps, parseCidr, parseIp, parseIpRange, type IpRange } from '../../src/ip.js';
import type { Change, LiveProblem, PropertyChange } from '../../src/plan/types.js';
import { isFinding, toFinding, type FlowResult } from '../../src/audit/findings.js';
import { auditRouterOS, projectedFilter } from './audit.js';
import { heldByOther, owns, parseMark, removedNetworkWarning, type Ownership } from '../../src/ownership.js';
import { ADOPTED, findAdoptions } from './adopt.js';
import { desiredObjects, foreignSettings, MENU_ORDER, parseRecord, preconditions, recordComment, type RosMenu, type RosObject } from './index.js';

export type Row = Record<string, string>;

/** What one read of the router returns: one print per menu. */
export interface LiveState {
  menus: Record<RosMenu, Row[]>;
  interfaces: Row[];
  interfaceLists: Row[];
  bridges: Row[];
  /** the bridges' ports: access ports get their pvid set there */
  bridgePorts: Row[];
  /** /interface/list/member: the audit follows interface lists through their members */
  listMembers?: Row[];
  version?: string;
}

/**
 * The reads, with the properties each needs (`.proplist` keeps the replies small on busy routers) and the
 * capability that needs them: a device reads only the menus its capabilities use (a switch, without layer 3,
 * reads its bridge VLAN table, interfaces, bridges, bridge ports and version: five prints).
 */
export const READS: ReadonlyArray<{ key: keyof Omit<LiveState, 'menus' | 'version'> | RosMenu | 'resource'; menu: string; proplist: string; needs?: keyof Capabilities }> = [
  { key: '/interface/vlan', menu: '/interface/vlan', proplist: '.id,name,vlan-id,interface,comment,disabled', needs: 'layer3' },
  { key: '/ip/address', menu: '/ip/address', proplist: '.id,address,interface,comment,disabled,dynamic', needs: 'layer3' },
  { key: '/ipv6/address', menu: '/ipv6/address', proplist: '.id,address,interface,advertise,from-pool,eui-64,comment,disabled,dynamic', needs: 'layer3' },
  { key: '/interface/bridge/vlan', menu: '/interface/bridge/vlan', proplist: '.id,bridge,vlan-ids,tagged,untagged,comment,disabled,dynamic', needs: 'bridgeVlans' },
  {
    key: '/ip/firewall/filter',
    menu: '/ip/firewall/filter',
    // every property: the audit evaluates every matcher of every rule, whoever owns it
    proplist: '',
    needs: 'layer3',
  },
  {
    key: '/ipv6/firewall/filter',
    menu: '/ipv6/firewall/filter',
    // every property: the audit evaluates every matcher of every rule, whoever owns it
    proplist: '',
    needs: 'layer3',
  },
  { key: 'interfaces', menu: '/interface', proplist: '.id,name,type,dynamic' },
  { key: 'interfaceLists', menu: '/interface/list', proplist: '.id,name', needs: 'layer3' },
  { key: 'listMembers', menu: '/interface/list/member', proplist: '.id,list,interface,disabled,dynamic', needs: 'layer3' },
  { key: 'bridges', menu: '/interface/bridge', proplist: '.id,name,vlan-filtering', needs: 'bridgeVlans' },
  { key: 'bridgePorts', menu: '/interface/bridge/port', proplist: '.id,bridge,interface,pvid,frame-types,disabled,dynamic', needs: 'bridgeVlans' },
  // flatnet's own DHCP servers, and everyone's for the live DHCP-overlap check: one print each
  { key: '/ip/pool', menu: '/ip/pool', proplist: '.id,name,ranges,comment', needs: 'layer3' },
  { key: '/ip/dhcp-server', menu: '/ip/dhcp-server', proplist: '.id,name,interface,address-pool,lease-time,comment,disabled,dynamic', needs: 'layer3' },
  { key: '/ip/dhcp-server/network', menu: '/ip/dhcp-server/network', proplist: '.id,address,gateway,dns-server,comment,dynamic', needs: 'layer3' },
  { key: 'resource', menu: '/system/resource', proplist: 'version' },
];

/** The reads this device needs: one print each, all sent at once. Menus it does not read stay empty in LiveState. */
export function readsFor(device: RouterOSRouter): typeof READS {
  const can = capabilities(device);
  return READS.filter((r) => r.needs === undefined || can[r.needs]);
}

/** The properties flatnet writes on each menu: compared, and the only ones a rule pairing looks at. */
const MANAGED_KEYS: Record<RosMenu, readonly string[]> = {
  '/interface/vlan': ['name', 'vlan-id', 'interface'],
  '/ip/address': ['address', 'interface'],
  '/ipv6/address': ['address', 'interface', 'advertise'],
  '/interface/bridge/vlan': ['bridge', 'vlan-ids', 'tagged', 'untagged'],
  '/ip/pool': ['name', 'ranges'],
  '/ip/dhcp-server': ['name', 'interface', 'address-pool', 'lease-time'],
  '/ip/dhcp-server/network': ['address', 'gateway', 'dns-server'],
  '/ip/firewall/filter': ['chain', 'action', 'connection-state', 'connection-nat-state', 'in-interface', 'out-interface', 'in-interface-list', 'out-interface-list', 'protocol', 'dst-port'],
  '/ipv6/firewall/filter': ['chain', 'action', 'connection-state', 'connection-nat-state', 'in-interface', 'out-interface', 'in-interface-list', 'out-interface-list', 'protocol', 'dst-port'],
};

const isFirewall = (menu: RosMenu) => menu.endsWith('/firewall/filter');
const truthy = (v: string | undefined) => v === 'true' || v === 'yes';
/** flatnet's object, whichever spec (owner) made it */
const isFlatnet = (row: Row) => parseMark(row.comment) !== undefined && !truthy(row.dynamic);
/** this spec's objects: its owner's (none: those without owner), and --from-owner's, which it relabels */
const ownedBy = (o: Ownership) => (row: Row) => {
  const m = parseMark(row.comment);
  return m !== undefined && !truthy(row.dynamic) && owns(o, m.owner);
};
/** the network a flatnet comment names (what follows it is the owner and the access ports' record) */
const networkOf = (row: Row) => parseMark(row.comment)?.network ?? '';

const PROTOCOL_NAMES: Record<string, string> = { '1': 'icmp', '6': 'tcp', '17': 'udp', '58': 'icmpv6' };
const sortedList = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean).sort().join(',');

/** A value as RouterOS would print it, so sent and printed forms compare equal. */
export function normalizeValue(key: string, value: string): string {
  switch (key) {
    case 'disabled':
    case 'advertise':
      return value === 'yes' || value === 'true' ? 'true' : value === 'no' || value === 'false' ? 'false' : value;
    case 'connection-state':
    case 'connection-nat-state':
    case 'tagged':
    case 'untagged':
    case 'dst-port':
    case 'vlan-ids':
    case 'dns-server':
      return sortedList(value);
    case 'lease-time': {
      const seconds = durationSeconds(value);
      return seconds === undefined ? value : String(seconds);
    }
    case 'protocol':
      return PROTOCOL_NAMES[value] ?? value;
    case 'address': {
      const slash = value.indexOf('/');
      const ip = parseIp(slash < 0 ? value : value.slice(0, slash));
      return ip ? `${ip.text}${slash < 0 ? '' : value.slice(slash)}` : value;
    }
    default:
      return value;
  }
}

/**
 * A RouterOS duration in seconds: `1h`, `30m`, `1d2h3m4s`, `1w`, `01:00:00`, `1d00:00:00`, `1d 01:00:00`.
 * undefined when it is none of these.
 */
export function durationSeconds(text: string): number | undefined {
  const units: Record<string, number> = { w: 604800, d: 86400, h: 3600, m: 60, s: 1, ms: 0 };
  const t = text.trim().toLowerCase();
  if (/^\d+$/.test(t)) return Number(t); // a bare number is seconds
  const m = /^((?:\d+(?:ms|[wdhms]))*)\s*(?:(\d+):(\d{1,2}):(\d{1,2})(?:\.\d+)?)?$/.exec(t);
  if (!m || t === '') return undefined;
  let total = 0;
  for (const [, n, unit] of m[1]!.matchAll(/(\d+)(ms|[wdhms])/g)) total += Number(n) * units[unit!]!;
  if (m[2] !== undefined) total += Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
  return total;
}

// ---- operations ------------------------------------------------------------------------------------------

/** A reference to an object's id: known (`*1F`) or the `ret` of an add earlier in the same apply. */
export type IdRef = { id: string } | { addedBy: RosOp };

export type RosOp =
  | { op: 'add'; menu: RosMenu; props: Array<[string, string]>; placeBefore?: IdRef }
  // a bridge port is the one object flatnet sets without owning it (an access port's pvid)
  | { op: 'set'; menu: RosMenu | '/interface/bridge/port'; id: string; props: Array<[string, string]> }
  | { op: 'move'; menu: RosMenu; id: string; destination?: IdRef }
  | { op: 'enable' | 'disable' | 'remove'; menu: RosMenu; target: IdRef };

export interface PlannedOp {
  /**
   * 1: interfaces and access ports put back, 2: addresses, bridge VLANs and DHCP pools, 3: rules and DHCP
   * servers, 4: access ports set, enable and remove, 5: remove interfaces, and records no longer needed
   */
  level: number;
  op: RosOp;
  /** what this op carries out, for the report of a partial apply */
  report: Change;
  /** the op completes this plan change (a change may need several ops, e.g. disable then remove) */
  completes?: Change;
}

export interface RosPlan {
  /** the audit: every flow of the spec against the filter as the apply leaves it (routers only) */
  audit?: FlowResult[];
  changes: Change[];
  ops: PlannedOp[];
  problems: LiveProblem[];
  warnings: string[];
  facts: string[];
}

const valueOf = (props: ReadonlyArray<readonly [string, string]>, key: string) => props.find(([k]) => k === key)?.[1];

function describe(menu: RosMenu, props: ReadonlyArray<readonly [string, string]> | Row): string {
  const get = (k: string) => (Array.isArray(props) ? valueOf(props as Array<[string, string]>, k) : (props as Row)[k]);
  switch (menu) {
    case '/interface/vlan':
      return `${get('name')} (vlan-id ${get('vlan-id')} on ${get('interface')})`;
    case '/ip/address':
    case '/ipv6/address':
      return `${get('address')} on ${get('interface')}`;
    case '/interface/bridge/vlan':
      return `vlan-ids ${get('vlan-ids')} on ${get('bridge')}`;
    case '/ip/pool':
      return `${get('name')} (${get('ranges')})`;
    case '/ip/dhcp-server':
      return `${get('name')} on ${get('interface')}`;
    case '/ip/dhcp-server/network':
      return `${get('address')} (gateway ${get('gateway')})`;
    default: {
      const keys = MANAGED_KEYS[menu].filter((k) => k !== 'chain' && k !== 'action' && get(k) !== undefined);
      return `${get('chain')} ${get('action')} ${keys.map((k) => `${k}=${get(k)}`).join(' ')}`.trim();
    }
  }
}

/** Differences on the managed keys: [] when equal. `live` values are compared after the rename map. */
export function differences(menu: RosMenu, desired: ReadonlyArray<readonly [string, string]>, live: Row): PropertyChange[] {
  const out: PropertyChange[] = [];
  for (const [key, value] of desired) {
    if (key === 'comment') continue;
    const have = live[key];
    if (have === undefined || normalizeValue(key, have) !== normalizeValue(key, value)) out.push({ key, ...(have !== undefined ? { from: have } : {}), to: value });
  }
  // a managed property the live object has and the desired one does not: not the same object
  for (const key of MANAGED_KEYS[menu]) {
    if (live[key] !== undefined && live[key] !== '' && valueOf(desired, key) === undefined) out.push({ key, from: live[key] });
  }
  return out;
}

/**
 * Drops that must keep applying to flatnet's traffic too, so its rules go after them: invalid packets,
 * address lists (blocklists, RouterOS's bad_ipv6), hop limits. The rules go before the first other drop.
 */
export function protectiveDrop(r: Row): boolean {
  return (r['connection-state'] ?? '').split(',').includes('invalid') || r['src-address-list'] !== undefined || r['dst-address-list'] !== undefined || r['hop-limit'] !== undefined;
}

/** The router's own drop/reject that flatnet's rules of a chain go before (protective drops stay above them). */
export function isRouterDrop(r: Row): boolean {
  return (r.action === 'drop' || r.action === 'reject') && !isFlatnet(r) && !truthy(r.dynamic) && !truthy(r.disabled) && !protectiveDrop(r);
}

/** Longest increasing subsequence of `values` (indices into it). */
function longestIncreasing(values: readonly number[]): Set<number> {
  const tails: number[] = [];
  const prev = new Array<number>(values.length).fill(-1);
  for (let i = 0; i < values.length; i++) {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (values[tails[mid]!]! < values[i]!) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) prev[i] = tails[lo - 1]!;
    tails[lo] = i;
  }
  const keep = new Set<number>();
  for (let i = tails.length > 0 ? tails[tails.length - 1]! : -1; i >= 0; i = prev[i]!) keep.add(i);
  return keep;
}

// ---- live checks -----------------------------------------------------------------------------------------

/** Whether a bridge VLAN entry's `vlan-ids` (`20`, `20,30`, `100-199`) holds this VLAN id. */
export function vlanIdsInclude(text: string, vlan: number): boolean {
  return text.split(',').some((part) => {
    const [lo, hi] = part.trim().split('-');
    const first = Number(lo);
    const last = hi === undefined ? first : Number(hi);
    return part.trim() !== '' && Number.isInteger(first) && Number.isInteger(last) && vlan >= first && vlan <= last;
  });
}

/**
 * A bridge VLAN entry's `vlan-ids` without this VLAN id: `20-30` without 25 is `20-24,26-30` (what a hand-made
 * entry keeps when the VLAN gets an entry of its own). '' when nothing is left.
 */
export function vlanIdsWithout(text: string, vlan: number): string {
  const out: string[] = [];
  const range = (first: number, last: number) => {
    if (first <= last) out.push(first === last ? String(first) : `${first}-${last}`);
  };
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [lo, hi] = part.split('-');
    const first = Number(lo);
    const last = hi === undefined ? first : Number(hi);
    if (!Number.isInteger(first) || !Number.isInteger(last) || vlan < first || vlan > last) out.push(part);
    else {
      range(first, vlan - 1);
      range(vlan + 1, last);
    }
  }
  return out.join(',');
}

const members = (v: string | undefined) => (v ?? '').split(',').map((x) => x.trim()).filter(Boolean);

/** An entry of this spec on the device's bridge already holds the VLAN (whatever network it names). */
const entriesOwn = (live: LiveState, router: RouterOSRouter, isOwned: (r: Row) => boolean, vlan: number) =>
  live.menus['/interface/bridge/vlan'].some((e) => isOwned(e) && e.bridge === router.bridge && vlanIdsInclude(e['vlan-ids'] ?? '', vlan));

/**
 * The device's own (hand-made: not flatnet's, not dynamic) bridge VLAN entries on its bridge that hold a VLAN
 * flatnet is about to add an entry for (no entry of this spec for that network yet): the add would make a second
 * entry for the VLAN. One of exactly that VLAN is what --adopt takes over (adopt.ts; with --adopt it is in the
 * plan's view as this spec's own, so not found here); one that holds other VLANs too cannot be taken over, and
 * is refused with or without --adopt. Routers and switches alike: the desired entries say where one is added.
 */
function bridgeVlanChecks(model: Model, router: RouterOSRouter, live: LiveState, desired: readonly RosObject[], isOwned: (r: Row) => boolean, handMade: readonly Row[]): LiveProblem[] {
  const problems: LiveProblem[] = [];
  if (handMade.length === 0) return problems;
  // every VLAN flatnet adds an entry for on this bridge: a hand-made entry's remainder leaves all of them out
  const wanted = desired.filter((o) => o.menu === '/interface/bridge/vlan').map((o) => findNetwork(model, o.network).vlan!);
  for (const want of desired.filter((o) => o.menu === '/interface/bridge/vlan')) {
    const n = findNetwork(model, want.network);
    const vlan = n.vlan!;
    // an entry of this spec already holds the VLAN (whatever network it names): it lives beside the user's
    // entries today and is changed in place or replaced, no second entry comes in beside them
    if (entriesOwn(live, router, isOwned, vlan)) continue;
    const bridge = valueOf(want.props, 'bridge')!;
    for (const e of handMade.filter((x) => vlanIdsInclude(x['vlan-ids'] ?? '', vlan))) {
      const ids = e['vlan-ids'] ?? '';
      const id = e['.id'] ?? '<id>';
      const ports = [e.tagged ? `tagged ${e.tagged}` : '', e.untagged ? `untagged ${e.untagged}` : ''].filter(Boolean).join(', ');
      const entry = `bridge VLAN entry ${id} (vlan-ids=${ids} on ${bridge}${ports ? `, ${ports}` : ''})`;
      const path = ['networks', n.name, 'vlan'];
      if (normalizeValue('vlan-ids', ids) === String(vlan)) {
        problems.push({ path, message: `VLAN ${vlan} already has ${entry}, not created by flatnet: plan --adopt (then apply --adopt) takes it over in place, its ports set to the spec's; or remove it, or choose another vlan` });
        continue;
      }
      // one advice per entry, the same in each of its problems: every VLAN of the spec out of it at once
      const inEntry = [...new Set(wanted.filter((v) => vlanIdsInclude(ids, v)))];
      const rest = inEntry.reduce((left, v) => vlanIdsWithout(left, v), ids);
      const what =
        rest !== ''
          ? `take ${inEntry.join(', ')} out of it (/interface/bridge/vlan/set ${id} vlan-ids=${rest}): flatnet then adds ${inEntry.length === 1 ? `an entry of its own (or add one of vlan-ids=${vlan} by hand` : 'entries of its own (or add entries of one VLAN each by hand'} for plan --adopt to take over)`
          : inEntry.length === 1
            ? `write its vlan-ids as ${vlan} (/interface/bridge/vlan/set ${id} vlan-ids=${vlan}) for plan --adopt to take it over, or remove it`
            : `split it into entries of one VLAN each (${inEntry.join(', ')}) for plan --adopt to take over, or remove it`;
      problems.push({
        path,
        message: `VLAN ${vlan} is in ${entry}, not created by flatnet, as one of several VLANs: flatnet would add a second entry for VLAN ${vlan}, and --adopt takes over only an entry of exactly vlan-ids=${vlan}; ${what}; or choose another vlan`,
      });
    }
  }
  return problems;
}

function liveChecks(model: Model, router: RouterOSRouter, live: LiveState, desired: readonly RosObject[], adopting: boolean): { problems: LiveProblem[]; warnings: string[] } {
  const problems: LiveProblem[] = [];
  const warnings: string[] = [];
  const interfaceNames = new Set(live.interfaces.map((r) => r.name));
  const networks = router.networks.map((n) => findNetwork(model, n));
  const device = router.kind; // "router" or "switch", in messages
  const isOwned = ownedBy(model.ownership);
  problems.push(...ownerChecks(model, router, live, isOwned));

  const lists = new Set(live.interfaceLists.map((r) => r.name));
  // the script's own prerequisite checks, checked live with their spec paths
  for (const c of preconditions(model, router)) {
    if (c.kind === 'interface' && !interfaceNames.has(c.name)) {
      const isBridge = c.path.includes('bridge');
      const have = isBridge ? live.bridges.map((b) => b.name ?? '') : [...interfaceNames].filter((n): n is string => n !== undefined);
      const hint = deviceHas(device, c.name, have);
      problems.push({ path: c.path, message: `${isBridge ? 'bridge' : 'interface'} "${c.name}" not found${hint || ` on the ${device}`}` });
    } else if (c.kind === 'interface-list' && !lists.has(c.name)) {
      const what = c.role === 'WAN' ? "the uplinks' list" : "the trusted LAN's list";
      problems.push({ path: c.path, message: `interface list "${c.name}" not found on the ${device} (${what}; RouterOS's default config calls it ${c.role})` });
    } else if (c.kind === 'bridge-port' && !live.bridgePorts.some((r) => r.bridge === c.bridge && r.interface === c.name && !truthy(r.dynamic))) {
      const dynamic = live.bridgePorts.some((r) => r.bridge === c.bridge && r.interface === c.name);
      problems.push({
        path: c.path,
        message: dynamic
          ? `"${c.name}" is a dynamic port of bridge "${c.bridge}" (added by wireless or CAPsMAN): its pvid is not kept; set the VLAN where that port is made (e.g. the wireless interface's vlan-id)`
          : `"${c.name}" is not a port of bridge "${c.bridge}" on the ${device} (/interface/bridge/port): a port that carries a VLAN must be in the bridge${deviceHas(`bridge ${c.bridge}`, c.name, live.bridgePorts.filter((r) => r.bridge === c.bridge && !truthy(r.dynamic)).map((r) => r.interface ?? ''))}`,
      });
    } else if (c.kind === 'vlan-free') {
      const foreign = live.menus['/interface/vlan'].find((r) => !isFlatnet(r) && r.interface === c.bridge && r['vlan-id'] === String(c.vlan));
      if (foreign) {
        const n = networks.find((x) => x.vlan === c.vlan);
        const rename = n && foreign.name !== n.names.routerosInterface ? `, renamed in place to ${n.names.routerosInterface}` : '';
        problems.push({
          path: c.path,
          message: `VLAN ${c.vlan} already exists on ${c.bridge} as interface "${foreign.name}", not created by flatnet: plan --adopt (then apply --adopt) takes it over in place with its address, DHCP server and matching rules${rename}; or remove it, or choose another vlan`,
        });
      }
    }
  }
  // the user's own bridge VLAN entry for a VLAN flatnet adds one for (the VLAN interface's refusal above is a router's only)
  // The user's own bridge VLAN entries (flatnet never changes them, nor a port's untagged membership)
  const foreignEntries = live.menus['/interface/bridge/vlan'].filter((e) => !isFlatnet(e) && !truthy(e.dynamic) && e.bridge === router.bridge);
  problems.push(...bridgeVlanChecks(model, router, live, desired, isOwned, foreignEntries));
  if (networks.length > 0) {
    const anyUntagged = networks.some((n) => untaggedPorts(router, n.name).length > 0);
    const derived = networks.some((n) => taggedPorts(router, n.name).some((p) => !router.trunkPorts.includes(p)));
    if (router.trunkPorts.length > 0 || derived || anyUntagged) {
      const bridge = live.bridges.find((b) => b.name === router.bridge);
      if (bridge && !truthy(bridge['vlan-filtering'])) {
        const what = [router.trunkPorts.length > 0 ? 'trunk-ports' : '', derived ? 'the ports of the path (connected-to, uplinks)' : '', anyUntagged ? 'access-ports' : ''].filter(Boolean).join(' and ');
        warnings.push(
          `bridge ${router.bridge} of ${device} ${router.name} has vlan-filtering=no: the bridge VLAN entries for ${what} have no effect until it is on: ` +
            `tagged frames of every VLAN pass on every port of the bridge, and PVIDs do nothing (access ports stay in the untagged LAN). ` +
            `Turn it on once the untagged ports have their PVIDs (from a port that stays untagged, ideally in safe mode): /interface/bridge/set ${router.bridge} vlan-filtering=yes`,
        );
      }
    }
    // ports an earlier apply made access ports: their PVID is flatnet's and goes back by itself
    const recordedPorts = new Set(live.menus['/interface/bridge/vlan'].filter(isFlatnet).flatMap((e) => [...parseRecord(e.comment ?? '').keys()]));
    for (const n of networks) {
      // a user's entry beside flatnet's own for the same VLAN (left from before bridgeVlanChecks refused it, or
      // added since): two entries hold the VLAN, and which ports carry it depends on both
      if (!entriesOwn(live, router, isOwned, n.vlan!)) continue;
      for (const entry of foreignEntries.filter((e) => vlanIdsInclude(e['vlan-ids'] ?? '', n.vlan!))) {
        const rest = vlanIdsWithout(entry['vlan-ids'] ?? '', n.vlan!);
        warnings.push(
          `bridge VLAN entry ${entry['.id'] ?? ''} (vlan-ids=${entry['vlan-ids']}, not flatnet's) holds VLAN ${n.vlan} of ${n.name} beside flatnet's own entry for it: the ports it lists carry the VLAN too, whatever the spec says; ` +
            (rest === '' ? `remove it if it is not meant (/interface/bridge/vlan/remove ${entry['.id'] ?? ''})` : `take ${n.vlan} out of it if that is not meant (/interface/bridge/vlan/set ${entry['.id'] ?? ''} vlan-ids=${rest})`),
        );
      }
    }
    for (const n of networks) {
      for (const port of taggedPorts(router, n.name)) {
        if (port === router.bridge) continue;
        // the same VLAN untagged on the port through the user's entry: frames of the network would leave it untagged
        for (const entry of foreignEntries) {
          if (vlanIdsInclude(entry['vlan-ids'] ?? '', n.vlan!) && members(entry.untagged).includes(port)) {
            warnings.push(
              `${port} carries ${n.name} (VLAN ${n.vlan}) tagged, but bridge VLAN entry vlan-ids=${entry['vlan-ids']} (not flatnet's) has it untagged in that VLAN: ` +
                `the ${device} would send the VLAN untagged there; remove ${port} from that entry's untagged list (flatnet does not change entries it did not make)`,
            );
          }
        }
        // the port's own untagged traffic already enters the network's VLAN
        const row = live.bridgePorts.find((r) => r.bridge === router.bridge && r.interface === port && !truthy(r.dynamic));
        if (row?.pvid === String(n.vlan) && !recordedPorts.has(port)) {
          warnings.push(
            `${port} carries ${n.name} (VLAN ${n.vlan}) tagged, but its pvid is ${n.vlan}: its untagged frames (the untagged LAN on that cable) enter ${n.name} too; ` +
              `flatnet never changes the PVID of a port it did not make an access port: set it back (usually pvid=1) if that is not meant`,
          );
        }
      }
      for (const port of untaggedPorts(router, n.name)) {
        const row = live.bridgePorts.find((r) => r.bridge === router.bridge && r.interface === port);
        if (row?.['frame-types'] === 'admit-only-vlan-tagged') {
          warnings.push(`access port ${port} of network ${n.name} has frame-types=admit-only-vlan-tagged: it drops the untagged frames of the devices on it; set frame-types=admit-all or admit-only-untagged-and-priority-tagged`);
        }
        // a VLAN the user's own entry sends untagged on the port would share it with the network
        for (const entry of foreignEntries) {
          if (members(entry.untagged).includes(port)) {
            warnings.push(`access port ${port} of network ${n.name} is also untagged in bridge VLAN entry vlan-ids=${entry['vlan-ids']} (not flatnet's): its devices would see both VLANs; remove ${port} from that entry's untagged list`);
          }
        }
      }
    }
  }
  // Layer 3 (gateways, addresses, DHCP) only where the device has it: a switch reads none of those menus.
  if (!capabilities(router).layer3) return { problems, warnings };
  // parsed once: a router with hundreds of addresses and networks must not parse them per network
  const addresses = live.menus['/ip/address'].flatMap((row) => {
    const cidr = parseCidr(row.address ?? '');
    return cidr ? [{ row, cidr }] : [];
  });
  for (const n of networks) {
    const gateway = parseIp(n.ipv4.gateway)!;
    const subnet = parseCidr(n.ipv4.subnet)!;
    // without --adopt: the network's own VLAN interface made by hand (or flatnet's), whose address --adopt takes over
    const vlanIface = (name: string | undefined) =>
      name === n.names.routerosInterface || live.menus['/interface/vlan'].some((v) => v.name === name && !isFlatnet(v) && v.interface === router.bridge && v['vlan-id'] === String(n.vlan));
    for (const { row: a, cidr } of addresses) {
      // this spec's own; another owner's of the same network name is refused once, by name
      if (isOwned(a) || (isFlatnet(a) && networkOf(a) === n.name)) continue;
      const hint = !adopting && !isFlatnet(a) && !truthy(a.dynamic) && vlanIface(a.interface) ? ': made by hand on the VLAN interface of this network; plan --adopt takes it over in place' : '';
      if (cidr.address.value === gateway.value) problems.push({ path: ['networks', n.name, 'gateway'], message: `address ${n.ipv4.gateway} is already on interface "${a.interface}" of the router${hint}` });
      else if (overlaps(cidr, subnet)) problems.push({ path: ['networks', n.name, 'subnet'], message: `overlaps ${a.address} on interface "${a.interface}" of the router${hint}` });
    }
    // a DHCP server made by hand on flatnet's VLAN interface where flatnet has none: --adopt would take it over
    if (!adopting && n.dhcpServer && n.ipv4.dhcpPool && !live.menus['/ip/dhcp-server'].some((s) => isOwned(s) && networkOf(s) === n.name)) {
      const server = live.menus['/ip/dhcp-server'].find((s) => !isFlatnet(s) && !truthy(s.dynamic) && s.interface === n.names.routerosInterface);
      if (server) problems.push({ path: ['networks', n.name, 'dhcp-pool'], message: `DHCP server "${server.name}" on ${server.interface} was not created by flatnet: plan --adopt (then apply --adopt) takes it over in place with its pool; or remove it` });
    }
  }
  // Every network whose gateway is this router, untagged LAN networks included: its containers must not be
  // handed out by a DHCP server too (the seeds' most common mistake).
  for (const n of model.networks.filter((x) => x.router === router.name)) {
    if (!n.ipv4.containerRange) continue; // a network without containers: no range to keep clear
    const gateway = parseIp(n.ipv4.gateway)!;
    const ifaces = new Set<string>();
    if (n.vlan !== undefined) ifaces.add(n.names.routerosInterface);
    for (const { row: a, cidr } of addresses) if (contains(cidr, gateway.value) && a.interface) ifaces.add(a.interface);
    const range = parseCidr(n.ipv4.containerRange)!;
    // flatnet's own servers are skipped: validation keeps their pools clear of the container ranges
    for (const server of live.menus['/ip/dhcp-server']) {
      if (isOwned(server) || truthy(server.disabled) || !ifaces.has(server.interface ?? '')) continue;
      const pool = live.menus['/ip/pool'].find((p) => p.name === server['address-pool']);
      if (!pool) continue;
      for (const r of poolRanges(pool.ranges ?? '')) {
        if (overlaps(range, r.range)) {
          problems.push({
            path: ['networks', n.name, 'container-range'],
            message: `${n.ipv4.containerRange} overlaps DHCP pool "${pool.name}" (${r.text}) of DHCP server "${server.name}" on ${server.interface}: the router could lease a container's address; shrink the pool or move the range`,
          });
          break;
        }
      }
    }
  }
  return { problems, warnings };
}

/**
 * Ownership: a network name or VLAN id that objects of another owner hold is refused (at the network's spec
 * path): this spec would otherwise make a second object beside theirs, or take theirs over.
 */
function ownerChecks(model: Model, router: RouterOSRouter, live: LiveState, isOwned: (r: Row) => boolean): LiveProblem[] {
  const problems: LiveProblem[] = [];
  const others = MENU_ORDER.flatMap((menu) => live.menus[menu].filter((r) => isFlatnet(r) && !isOwned(r)));
  if (others.length === 0) return problems;
  const owner = model.ownership.owner;
  for (const n of router.networks.map((name) => findNetwork(model, name))) {
    const byName = others.find((r) => networkOf(r) === n.name);
    if (byName) {
      problems.push({ path: ['networks', n.name], message: heldByOther(`network name "${n.name}"`, `comment ${byName.comment}`, parseMark(byName.comment)!.owner, owner) });
      continue;
    }
    const vlan = String(n.vlan);
    const byVlan =
      others.find((r) => r['vlan-id'] === vlan && (r.interface === router.bridge || r.interface === undefined)) ??
      others.find((r) => r['vlan-ids'] !== undefined && r.bridge === router.bridge && vlanIdsInclude(r['vlan-ids'], n.vlan!));
    if (byVlan) {
      problems.push({ path: ['networks', n.name, 'vlan'], message: heldByOther(`VLAN ${vlan}`, `network ${networkOf(byVlan)}, comment ${byVlan.comment}`, parseMark(byVlan.comment)!.owner, owner) });
    }
  }
  return problems;
}

/** The comment's change when an object of this spec carries another mark (the spec's owner changed): relabelled in place. */
function relabel(want: RosObject, have: Row): PropertyChange[] {
  const to = valueOf(want.props, 'comment');
  return to !== undefined && (have.comment ?? '') !== to ? [{ key: 'comment', from: have.comment ?? '', to }] : [];
}

const ADOPT_NOTE = 'made by hand, taken over in place';

/** --adopt: an adopted row's comment change (from the comment it had by hand) leads its diff. */
function adoptDiff(have: Row, diff: PropertyChange[], comment: string | undefined): PropertyChange[] {
  const from = have[ADOPTED];
  if (from === undefined || comment === undefined) return diff;
  return [{ key: 'comment', from, to: comment }, ...diff.filter((d) => d.key !== 'comment')];
}

/** --adopt: `= adopt` when only the label changes; `~`, noted as adopted, when a value changes too. */
function adoptChange(have: Row, change: Change): Change {
  if (have[ADOPTED] === undefined) return change;
  const labelOnly = (change.props ?? []).every((p) => p.key === 'comment');
  return { ...change, ...(labelOnly ? { action: 'adopt' as const } : {}), note: change.note ?? ADOPT_NOTE };
}

/** `/ip/pool` ranges: comma-separated `a-b`, `a/len` or single addresses. */
export function poolRanges(text: string): Array<{ text: string; range: IpRange }> {
  const out: Array<{ text: string; range: IpRange }> = [];
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    // a range written last-first still leases its addresses: read it the right way round (the overlap check fails closed)
    const r = parseIpRange(part) ?? parseIpRange(part.split('-').reverse().join('-'));
    if (r) {
      out.push({ text: part, range: { first: r.first.value, last: r.last.value } });
      continue;
    }
    const c = parseCidr(part);
    if (c) {
      out.push({ text: part, range: c });
      continue;
    }
    const ip = parseIp(part);
    if (ip) out.push({ text: part, range: { first: ip.value, last: ip.value } });
  }
  return out;
}

// ---- the diff --------------------------------------------------------------------------------------------

export interface PlanOptions {
  /** --adopt: hand-made objects that already are what the spec asks for are taken over in place (adopt.ts) */
  adopt?: boolean;
}

export function planRouter(model: Model, router: RouterOSRouter, read: LiveState, options: PlanOptions = {}): RosPlan {
  const desired = desiredObjects(model, router);
  const isOwned = ownedBy(model.ownership);
  // with --adopt the plan sees the adopted objects as this spec's own (their old comment kept under ADOPTED)
  const live = options.adopt ? findAdoptions(read, desired, isOwned).live : read;
  const { problems, warnings } = liveChecks(model, router, live, desired, options.adopt === true);
  const facts = live.version ? [`RouterOS ${live.version}`] : [];
  if (problems.length > 0) return { changes: [], ops: [], problems, warnings, facts };

  const ops: PlannedOp[] = [];
  const changes: Change[] = [];
  const push = (level: number, op: RosOp, change: Change, completes = true) => {
    ops.push({ level, op, report: change, ...(completes ? { completes: change } : {}) });
    return op;
  };
  // Removals are collected as found and emitted last: nothing that isolates a network goes before its
  // replacement is in.
  const removals: Array<{ menu: RosMenu; row: Row }> = [];
  const removeLater = (row: Row, menu: RosMenu) => removals.push({ menu, row });

  // 1. VLAN interfaces, paired by network (one each). Renames are followed through every other menu, as the
  // router itself does: a rule that names the old interface is the same rule after the rename.
  const renames = new Map<string, string>();
  const enableLater: Array<{ target: IdRef; change: Change }> = [];
  const pairs = pairByNetwork('/interface/vlan', desired, live, isOwned);
  for (const { want, have, extra } of pairs) {
    if (want && !have) {
      const change: Change = { action: 'add', kind: '/interface/vlan', name: describe('/interface/vlan', want.props), network: want.network, props: want.props.map(([key, to]) => ({ key, to })), note: 'created disabled, enabled once its rules are in' };
      changes.push(change);
      const add = push(1, { op: 'add', menu: want.menu, props: [...want.props, ['disabled', 'yes']] }, change, false);
      enableLater.push({ target: { addedBy: add }, change });
    } else if (want && have) {
      const diff = adoptDiff(have, [...differences(want.menu, want.props, have), ...relabel(want, have)], valueOf(want.props, 'comment'));
      const name = valueOf(want.props, 'name')!;
      if (have.name && have.name !== name) renames.set(have.name, name);
      if (diff.length > 0) {
        const renamedNote = have[ADOPTED] !== undefined && have.name !== undefined && have.name !== name ? `${ADOPT_NOTE}; renamed in place: what is attached follows (RouterOS refers to it by id), scripts that name it as text do not` : undefined;
        const change: Change = adoptChange(have, { action: 'change', kind: '/interface/vlan', name: have[ADOPTED] !== undefined ? describe('/interface/vlan', have) : (have.name ?? name), network: want.network, props: diff, ...(renamedNote ? { note: renamedNote } : {}) });
        changes.push(change);
        push(1, { op: 'set', menu: want.menu, id: have['.id']!, props: diff.map((d) => [d.key, d.to ?? '']) }, change);
      }
      if (truthy(have.disabled)) {
        const change: Change = { action: 'change', kind: '/interface/vlan', name, network: want.network, props: [{ key: 'disabled', from: have.disabled!, to: 'false' }] };
        changes.push(change);
        enableLater.push({ target: { id: have['.id']! }, change });
      }
    }
    for (const row of extra) removeLater(row, '/interface/vlan');
  }

  const liveRow = (row: Row): Row => {
    if (renames.size === 0) return row;
    const copy: Row = { ...row };
    for (const key of ['interface', 'in-interface', 'out-interface', 'bridge']) if (copy[key] !== undefined) copy[key] = renames.get(copy[key]!) ?? copy[key]!;
    for (const key of ['tagged', 'untagged']) if (copy[key] !== undefined) copy[key] = copy[key]!.split(',').map((x) => renames.get(x) ?? x).join(',');
    return copy;
  };

  // Access ports: the pvid of a bridge port flatnet does not own. What it was before is recorded in the
  // comment of the network's bridge VLAN entry before it changes, and put back when the spec drops the port.
  const access = planAccessPorts(model, router, live, push, changes, warnings);

  // 2. addresses, bridge VLAN entries and DHCP pools, one per network and menu; 3. the DHCP servers and
  // their networks (they name the pool and the interface)
  const perNetwork = [
    ['/ip/address', 2],
    ['/ipv6/address', 2],
    ['/interface/bridge/vlan', 2],
    ['/ip/pool', 2],
    ['/ip/dhcp-server', 3],
    ['/ip/dhcp-server/network', 3],
  ] as const;
  // A bridge VLAN entry's comment carries its access ports' recorded PVIDs. A record the entry no longer
  // needs goes only in step 5, once the ports it covers are back (step 1) or recorded in their new
  // network's entry (step 2) and on its VLAN (step 4): a step that fails never leaves a port on a VLAN
  // whose entry does not record it.
  const shrinkLater: Array<{ id: string; comment: string; change: Change }> = [];
  for (const [menu, level] of perNetwork) {
    for (const pair of pairByNetwork(menu, desired, live, isOwned, liveRow)) {
      const { have, extra } = pair;
      const want = pair.want && menu === '/interface/bridge/vlan' ? withComment(pair.want, recordComment(valueOf(pair.want.props, 'comment')!, access.records.get(pair.want.network) ?? new Map())) : pair.want;
      if (want && !have) {
        const change: Change = { action: 'add', kind: menu, name: describe(menu, want.props), network: want.network, props: want.props.map(([key, to]) => ({ key, to })) };
        changes.push(change);
        // a DHCP server is added enabled, whatever the RouterOS version's default
        push(level, { op: 'add', menu, props: menu === '/ip/dhcp-server' ? [...want.props, ['disabled', 'no']] : want.props }, change);
      } else if (want && have) {
        let diff = [...differences(menu, want.props, have), ...(menu === '/interface/bridge/vlan' ? [] : relabel(want, have))];
        // the final comment once step 5 has dropped the records this entry keeps until then
        let shrinkTo: string | undefined;
        let commentTo = valueOf(want.props, 'comment');
        if (menu === '/interface/bridge/vlan') {
          const finalComment = valueOf(want.props, 'comment')!;
          const finalRecord = access.records.get(want.network) ?? new Map<string, string>();
          const kept = [...parseRecord(have.comment ?? '')].filter(([port]) => !finalRecord.has(port));
          const staged = kept.length > 0 ? recordComment(valueOf(pair.want!.props, 'comment')!, new Map([...finalRecord, ...kept])) : finalComment;
          if (staged !== (have.comment ?? '')) diff.push({ key: 'comment', from: have.comment ?? '', to: staged });
          if (staged !== finalComment) shrinkTo = finalComment;
          commentTo = staged;
        }
        diff = adoptDiff(have, diff, commentTo);
        if (diff.length > 0 || shrinkTo !== undefined) {
          // the plan shows the comment as it ends up
          const shown = shrinkTo === undefined ? diff : [...diff.filter((d) => d.key !== 'comment'), { key: 'comment', from: have.comment ?? '', to: shrinkTo }];
          const change: Change = adoptChange(have, { action: 'change', kind: menu, name: describe(menu, have), network: want.network, props: shown });
          changes.push(change);
          if (diff.length > 0) push(level, { op: 'set', menu, id: have['.id']!, props: diff.map((d) => [d.key, d.to ?? '']) }, change, shrinkTo === undefined);
          if (shrinkTo !== undefined) shrinkLater.push({ id: have['.id']!, comment: shrinkTo, change });
        }
        if (truthy(have.disabled)) {
          const change: Change = { action: 'change', kind: menu, name: describe(menu, have), network: want.network, props: [{ key: 'disabled', from: have.disabled!, to: 'false' }] };
          changes.push(change);
          push(level, { op: 'enable', menu, target: { id: have['.id']! } }, change);
        }
      }
      for (const row of extra) removeLater(row, menu);
    }
  }

  // 3. firewall rules: pair, then place
  for (const menu of ['/ip/firewall/filter', '/ipv6/firewall/filter'] as const) planRules(menu, desired.filter((o) => o.menu === menu), live.menus[menu].map(liveRow), push, changes, removeLater, isOwned);

  // 4. the access ports join their VLAN (its rules are in now, its old PVID recorded), enable what was added
  // disabled, then remove what the spec no longer has
  for (const a of access.sets) {
    changes.push(a.change);
    push(4, a.op, a.change);
  }
  // a record goes once its port is where the spec wants it (step 4 done): step 5
  for (const s of shrinkLater) push(5, { op: 'set', menu: '/interface/bridge/vlan', id: s.id, props: [['comment', s.comment]] }, s.change);
  for (const e of enableLater) push(4, { op: 'enable', menu: '/interface/vlan', target: e.target }, e.change);
  // A network that goes away: its VLAN interface is disabled before its rules go, so it never passes
  // traffic unfiltered; the interface itself goes last, once nothing names it.
  const removedInterfaces = removals.filter((r) => r.menu === '/interface/vlan');
  for (const { row } of removedInterfaces) {
    if (truthy(row.disabled)) continue;
    push(1, { op: 'disable', menu: '/interface/vlan', target: { id: row['.id']! } }, { action: 'change', kind: '/interface/vlan', name: row.name ?? row['.id']!, network: networkOf(row), props: [{ key: 'disabled', from: 'false', to: 'true' }], note: 'before its removal' }, false);
  }
  for (const menu of [...MENU_ORDER].reverse()) {
    for (const { row } of removals.filter((r) => r.menu === menu)) {
      const change: Change = { action: 'remove', kind: menu, name: describe(menu, row), network: networkOf(row) };
      changes.push(change);
      // an entry that still records access ports goes with the interfaces, after the ports have moved
      const holdsRecord = menu === '/interface/bridge/vlan' && parseRecord(row.comment ?? '').size > 0;
      push(menu === '/interface/vlan' || holdsRecord ? 5 : 4, { op: 'remove', menu, target: { id: row['.id']! } }, change);
    }
  }
  // a whole network on the device that the spec does not name goes: said, so two specs pointed at one router
  // without owners do not remove each other's networks silently
  const kept = new Set(router.networks);
  const gone = new Map<string, string | undefined>();
  for (const { menu, row } of removals) {
    const network = networkOf(row);
    if (kept.has(network)) continue;
    const vlan = menu === '/interface/vlan' ? row['vlan-id'] : menu === '/interface/bridge/vlan' ? row['vlan-ids'] : undefined;
    if (!gone.has(network) || (gone.get(network) === undefined && vlan !== undefined)) gone.set(network, vlan);
  }
  for (const [network, vlan] of gone) warnings.push(removedNetworkWarning(network, vlan, router.kind, model.ownership.owner));
  ops.sort((a, b) => a.level - b.level); // stable: order within a level is kept
  let audit: FlowResult[] | undefined;
  // the audit needs the interface lists' members (a live read always has them; a hand-made state may not)
  if (capabilities(router).layer3 && live.listMembers !== undefined) {
    const filter = (menu: RosMenu) => projectedFilter(live.menus[menu], desired.filter((o) => o.menu === menu), isRouterDrop, isOwned);
    audit = auditRouterOS(model, router, { filter4: filter('/ip/firewall/filter'), filter6: filter('/ipv6/firewall/filter'), members: live.listMembers ?? [], interfaces: live.interfaces });
    for (const r of audit) if (isFinding(r)) warnings.push(toFinding(r).message);
  }
  return { changes, ops, problems, warnings, facts, ...(audit ? { audit } : {}) };
}

function withComment(o: RosObject, comment: string): RosObject {
  return { ...o, props: o.props.map(([k, v]) => [k, k === 'comment' ? comment : v] as [string, string]) };
}

/**
 * The access ports' pvid settings and their record: `records` is what each network's bridge VLAN entry
 * records once the apply is done (port → the PVID it had before flatnet). A port dropped from the spec gets
 * its recorded PVID back (level 1, a step before any record changes), unless someone changed it since; a
 * port that moves to another network keeps its record.
 */
function planAccessPorts(
  model: Model,
  router: RouterOSRouter,
  live: LiveState,
  push: (level: number, op: RosOp, change: Change) => RosOp,
  changes: Change[],
  warnings: string[],
): { records: Map<string, Map<string, string>>; sets: Array<{ op: RosOp; change: Change }> } {
  const isOwned = ownedBy(model.ownership);
  const portRow = (port: string, bridge = router.bridge) => live.bridgePorts.find((r) => r.bridge === bridge && r.interface === port && !truthy(r.dynamic));
  // what flatnet recorded before, by network, with the bridge and VLAN of its entry (a spec that names
  // another bridge now still puts back the ports of the old one)
  const recorded: Array<{ network: string; bridge: string; vlan: string; port: string; pvid: string }> = [];
  for (const row of live.menus['/interface/bridge/vlan']) {
    if (!isOwned(row)) continue;
    for (const [port, pvid] of parseRecord(row.comment ?? '')) recorded.push({ network: networkOf(row), bridge: row.bridge ?? '', vlan: row['vlan-ids'] ?? '', port, pvid });
  }
  const onBridge = recorded.filter((r) => r.bridge === router.bridge);
  const settings = foreignSettings(model, router);
  const records = new Map<string, Map<string, string>>();
  const sets: Array<{ op: RosOp; change: Change }> = [];
  for (const s of settings) {
    const row = portRow(s.port)!; // a live check makes sure it is there
    const before = onBridge.find((r) => r.port === s.port && r.network === s.network) ?? onBridge.find((r) => r.port === s.port);
    const was = before?.pvid ?? row.pvid ?? '1';
    (records.get(s.network) ?? records.set(s.network, new Map()).get(s.network)!).set(s.port, was);
    if (row.pvid !== s.value) {
      const change: Change = {
        action: 'change',
        kind: '/interface/bridge/port',
        name: `${s.port} (bridge port, not a flatnet object)`,
        network: s.network,
        props: [{ key: 'pvid', ...(row.pvid !== undefined ? { from: row.pvid } : {}), to: s.value }],
        note: `access port of ${s.network}; PVID ${was} recorded to put back`,
      };
      // listed where it runs: after the rules
      sets.push({ op: { op: 'set', menu: '/interface/bridge/port', id: row['.id']!, props: [['pvid', s.value]] }, change });
    }
  }
  const stillAccess = new Set(settings.map((s) => s.port));
  // one decision per port: an apply cut off while a port moved can leave it recorded in two entries
  const byPort = new Map<string, typeof recorded>();
  for (const r of recorded) {
    const key = `${r.bridge}\u0000${r.port}`;
    (byPort.get(key) ?? byPort.set(key, []).get(key)!).push(r);
  }
  for (const group of byPort.values()) {
    const first = group[0]!;
    if (first.bridge === router.bridge && stillAccess.has(first.port)) continue;
    const row = portRow(first.port, first.bridge);
    const r = group.find((x) => x.vlan === row?.pvid) ?? first;
    if (!row) {
      warnings.push(`${r.port} was an access port of ${r.network} (PVID ${r.pvid} before) and is no longer a port of ${r.bridge}: nothing to put back`);
    } else if (group.some((x) => x.pvid === row.pvid)) {
      // back already (an earlier apply stopped before its record went)
    } else if (row.pvid === r.vlan) {
      const change: Change = {
        action: 'change',
        kind: '/interface/bridge/port',
        name: `${r.port} (bridge port, not a flatnet object)`,
        network: r.network,
        props: [{ key: 'pvid', from: row.pvid, to: r.pvid }],
        note: `no longer an access port of ${r.network}: its PVID before flatnet`,
      };
      changes.push(change);
      // step 1, a step of its own before any record changes: a refused restore stops the apply with the record kept
      push(1, { op: 'set', menu: '/interface/bridge/port', id: row['.id']!, props: [['pvid', r.pvid]] }, change);
    } else {
      warnings.push(`${r.port} was an access port of ${r.network} and has pvid ${row.pvid ?? '(none)'} now, not the ${r.vlan} flatnet set: left as it is (its PVID before flatnet was ${r.pvid})`);
    }
  }
  return { records, sets };
}

interface Pair {
  want?: RosObject;
  have?: Row;
  /** further owned live objects of the same network and menu: duplicates, removed */
  extra: Row[];
}

/** One object per network and menu: pairs desired and live by network; live ones of unknown networks go. */
function pairByNetwork(menu: RosMenu, desired: readonly RosObject[], live: LiveState, isOwned: (r: Row) => boolean, view: (r: Row) => Row = (r) => r): Pair[] {
  const wanted = desired.filter((o) => o.menu === menu);
  const owned = live.menus[menu].filter(isOwned).map(view);
  const pairs: Pair[] = [];
  const used = new Set<Row>();
  for (const want of wanted) {
    const candidates = owned.filter((r) => !used.has(r) && networkOf(r) === want.network);
    // the closest one stays (fewest differences); the rest are duplicates
    candidates.sort((a, b) => differences(menu, want.props, a).length - differences(menu, want.props, b).length);
    const have = candidates[0];
    for (const c of candidates) used.add(c);
    pairs.push({ want, ...(have ? { have } : {}), extra: candidates.slice(1) });
  }
  const orphans = owned.filter((r) => !used.has(r));
  if (orphans.length > 0) pairs.push({ extra: orphans });
  return pairs;
}

type Push = (level: number, op: RosOp, change: Change, completes?: boolean) => RosOp;

function planRules(menu: RosMenu, wanted: RosObject[], rows: Row[], push: Push, changes: Change[], removeLater: (row: Row, menu: RosMenu) => void, isOwned: (r: Row) => boolean): void {
  const owned = rows.filter(isOwned);
  const matched = new Map<RosObject, Row>();
  const used = new Set<Row>();
  const key = (o: RosObject) => `${o.network}\u0000${valueOf(o.props, 'chain')}`;
  // candidates are only the live rules of the same network and chain (keeps big rule sets fast)
  const byKey = new Map<string, Row[]>();
  for (const r of owned) {
    const k = `${networkOf(r)}\u0000${r.chain}`;
    const list = byKey.get(k);
    if (list) list.push(r);
    else byKey.set(k, [r]);
  }
  // exact matches first, so adding a service leaves every other rule alone
  for (const want of wanted) {
    const hit = byKey.get(key(want))?.find((r) => !used.has(r) && differences(menu, want.props, r).length === 0);
    if (hit) {
      matched.set(want, hit);
      used.add(hit);
    }
  }
  // then a rule that differs in a value or two is the same rule edited: one `set`, not remove + add
  for (const want of wanted) {
    if (matched.has(want)) continue;
    let best: Row | undefined;
    let bestCount = Infinity;
    for (const r of byKey.get(key(want)) ?? []) {
      if (used.has(r) || r.action !== valueOf(want.props, 'action')) continue;
      const d = differences(menu, want.props, r);
      if (d.some((x) => x.to === undefined || x.from === undefined)) continue; // a different set of matchers
      if (d.length < bestCount) {
        best = r;
        bestCount = d.length;
      }
    }
    if (best && bestCount <= 2) {
      matched.set(want, best);
      used.add(best);
    }
  }
  for (const r of owned) if (!used.has(r)) removeLater(r, menu);

  // edits in place
  const sets: Array<{ want: RosObject; row: Row; diff: PropertyChange[] }> = [];
  for (const want of wanted) {
    const row = matched.get(want);
    if (!row) continue;
    const diff = adoptDiff(row, [...differences(menu, want.props, row), ...relabel(want, row)], valueOf(want.props, 'comment'));
    if (diff.length > 0) sets.push({ want, row, diff });
  }

  // Placement, per chain: flatnet's rules in spec order, all before the router's first own drop/reject of
  // that chain. Rules already in order stay (the longest run in order); the others are moved before the next
  // rule that stays, and new ones added there, in spec order, so they land in order.
  const position = new Map(rows.map((r, i) => [r, i]));
  const chains = [...new Set(wanted.map((o) => valueOf(o.props, 'chain')!))];
  const placed = new Map<RosObject, { action: 'add' | 'move' | 'keep'; before?: IdRef; beforeText: string }>();
  for (const chain of chains) {
    const inChain = wanted.filter((o) => valueOf(o.props, 'chain') === chain);
    const routerDrop = rows.find((r) => r.chain === chain && isRouterDrop(r));
    const limit = routerDrop ? position.get(routerDrop)! : Infinity;
    const liveIdx = inChain.map((o, i) => ({ o, i, row: matched.get(o) })).filter((x) => x.row && position.get(x.row)! < limit);
    const keep = longestIncreasing(liveIdx.map((x) => position.get(x.row!)!));
    const anchors = new Set(liveIdx.filter((_, k) => keep.has(k)).map((x) => x.o));
    // An accept above every drop of flatnet's that stays is in place whatever its order among the accepts (no
    // accept decides another's packets): a rule adopted from a network's `from:` that the spec had as the
    // other's `to:` is not moved. Moved and added drops land after it (before a drop that stays, or the router's).
    const firstDrop = Math.min(...liveIdx.filter((x) => anchors.has(x.o) && valueOf(x.o.props, 'action') !== 'accept').map((x) => position.get(x.row!)!));
    const inPlace = new Set(liveIdx.filter((x) => !anchors.has(x.o) && valueOf(x.o.props, 'action') === 'accept' && position.get(x.row!)! < firstDrop).map((x) => x.o));
    // walking backwards, the next rule that stays is known at each step (no rescans on big chains)
    let nextAnchor: RosObject | undefined;
    for (let i = inChain.length - 1; i >= 0; i--) {
      const o = inChain[i]!;
      if (anchors.has(o)) {
        placed.set(o, { action: 'keep', beforeText: '' });
        nextAnchor = o;
        continue;
      }
      if (inPlace.has(o)) {
        placed.set(o, { action: 'keep', beforeText: '' });
        continue;
      }
      const anchorRow = nextAnchor ? matched.get(nextAnchor)! : routerDrop;
      const beforeText = nextAnchor ? `before ${anchorRow!['.id']} ${describe(menu, anchorRow!)}` : routerDrop ? `before the router's ${routerDrop.action} rule ${routerDrop['.id']}${routerDrop.comment ? ` "${routerDrop.comment}"` : ''}` : 'at the end of the chain';
      placed.set(o, { action: matched.has(o) ? 'move' : 'add', ...(anchorRow ? { before: { id: anchorRow['.id']! } } : {}), beforeText });
    }
  }
  for (const { want, row, diff } of sets) {
    const change: Change = adoptChange(row, { action: 'change', kind: menu, name: describe(menu, row), network: want.network, props: diff });
    changes.push(change);
    push(3, { op: 'set', menu, id: row['.id']!, props: diff.map((d) => [d.key, d.to ?? '']) }, change);
  }
  for (const want of wanted) {
    const p = placed.get(want)!;
    const row = matched.get(want);
    if (p.action === 'add') {
      const change: Change = { action: 'add', kind: menu, name: describe(menu, want.props), network: want.network, props: want.props.map(([k, to]) => ({ key: k, to })), note: p.beforeText };
      changes.push(change);
      push(3, { op: 'add', menu, props: want.props, ...(p.before ? { placeBefore: p.before } : {}) }, change);
    } else if (p.action === 'move' && row) {
      const change: Change = { action: 'move', kind: menu, name: describe(menu, want.props), network: want.network, note: p.beforeText };
      changes.push(change);
      push(3, { op: 'move', menu, id: row['.id']!, ...(p.before ? { destination: p.before } : {}) }, change);
    }
  }
  for (const want of wanted) {
    const row = matched.get(want);
    if (row && truthy(row.disabled)) {
      const change: Change = { action: 'change', kind: menu, name: describe(menu, want.props), network: want.network, props: [{ key: 'disabled', from: row.disabled!, to: 'false' }] };
      changes.push(change);
      push(3, { op: 'enable', menu, target: { id: row['.id']! } }, change);
    }
  }
}

