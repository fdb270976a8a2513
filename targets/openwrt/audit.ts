// The audit on OpenWrt: the live firewall config evaluated as fw4 (firewall4) compiles it, for the new
// connections of every flow the spec decides. Modelled on fw4's own ruleset template and parser (OpenWrt's
// firewall4, templates/ruleset.uc and fw4.uc):
//  * chain input: rules with src '*' and no dest, then one jump per zone whose devices match the incoming
//    device (input_<zone>: the zone's src-only rules, then the zone's input policy), then the defaults' input
//    policy;
//  * chain forward: rules with src '*' and a dest (and forwardings from '*'), then one jump per zone whose
//    devices match (forward_<zone>: the zone's src+dest rules, then its forwardings, then the zone's forward
//    policy, which applies only to traffic leaving through the same zone's devices), then the defaults'
//    forward policy: a zone's chain that decides nothing hands the packet to the next matching zone;
//  * a rule or forwarding with a dest zone jumps to <target>_to_<dest>, which decides only when the outgoing
//    device is one of that zone's; REJECT is a drop for the flow; rules come before forwardings, each in
//    config order; disabled sections and sections fw4 would skip (an unknown zone, an invalid value) are skipped;
//  * zones match by device: the l3 device of each interface of the zone's `network` list (as netifd names
//    it: device/ifname, br-<name> for a legacy bridge, <proto>-<name> for pppoe & co.) and its `device` list,
//    with '!' and '+' wildcards; a zone `family` restricts it;
//  * rule matchers: family (explicit, or inferred as fw4 does from addresses, ICMP types and zones), proto
//    (all, tcp udp, icmp, numbers, others), dest_port (lists, ranges, '!'), icmp_type (names and numbers),
//    src_ip/dest_ip (addresses, prefixes, ranges, '!') against the flow's subnets, device/direction.
// Matchers that depend on something a flow does not fix (src_port, src_mac, ipset, mark, dscp, helper, limit,
// time, a zone's `subnet`) make a rule "may match": when the flow's verdict depends on it, it is undecided.
// Not modelled: nftables includes and `config include` scripts, rules that procd services add through ubus,
// redirects (DNAT: flatnet's flows are not port-forwarded), the SYN-flood limit. Pure: configs in, results out.
import { contains, overlaps, parseCidr, parseIp, parseIpRange, type IpRange } from '../../src/ip.js';
import { findNetwork, type Model, type OpenWrtRouter } from '../../src/model.js';
import { specFlows, type Endpoint, type Flow } from '../../src/audit/flows.js';
import type { DecidingRule, FlowResult } from '../../src/audit/findings.js';
import type { ExportedSection } from './uci.js';

/** One UCI config as `parseUciExport` returns it (its sections in file order). */
export type UciConfig = readonly ExportedSection[];

const OWNED_PREFIX = 'flatnet_';

type Match = 'yes' | 'no' | 'maybe';
type Fam = 0 | 4 | 6;

/** A new connection through (forward) or to (input) the router, as fw4's chains see it. */
export interface Fw4Packet {
  hook: 'input' | 'forward';
  family: 4 | 6;
  iif: string;
  oif?: string;
  /** undefined: any address (the LAN's or the internet's side) */
  src?: IpRange;
  dst?: IpRange;
  proto: 'tcp' | 'udp' | 'icmp' | 'icmpv6';
  /** undefined: any port */
  dport?: number;
  /** ICMP type (code 0) */
  icmpType?: number;
}

// ----------------------------------------------------------------------------------------------- parsing

const opt = (s: ExportedSection, key: string): string | undefined => {
  const v = s.options.get(key);
  return Array.isArray(v) ? v[0] : v;
};
/** fw4's to_array: an option splits on white space, a list's items stay as they are */
const list = (s: ExportedSection, key: string): string[] | undefined => {
  const v = s.options.get(key);
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v : v.trim() === '' ? [] : v.trim().split(/[ \t]+/);
};

function parseBool(v: string): boolean | null {
  if (['1', 'on', 'true', 'yes'].includes(v)) return true;
  if (['0', 'off', 'false', 'no'].includes(v)) return false;
  return null;
}

/** fw4's parse_enum: case-insensitive, a prefix of a choice selects it */
function parseEnum<T extends string>(v: string, choices: readonly T[]): T | null {
  const val = v.toLowerCase();
  return choices.find((c) => c.slice(0, val.length).toLowerCase() === val) ?? null;
}

type Policy = 'accept' | 'reject' | 'drop';
const POLICIES = ['accept', 'reject', 'drop'] as const;
const TARGETS = ['accept', 'reject', 'drop', 'notrack', 'helper', 'mark', 'dscp', 'dnat', 'snat', 'masquerade'] as const;
type Target = (typeof TARGETS)[number];

function parseFamily(v: string): Fam | null {
  if (['any', 'all', '*'].includes(v)) return 0;
  if (v === 'inet' || v.includes('4')) return 4;
  if (v.includes('6')) return 6;
  return null;
}

function parseInvert(v: string): { invert: boolean; val: string } | null {
  let invert = false;
  const val = v.replace(/^[ \t]*!/, () => ((invert = true), '')).trim();
  return val.length > 0 ? { invert, val } : null;
}

interface Proto {
  any?: boolean;
  name?: string;
  invert: boolean;
}

function parseProtocol(v: string): Proto[] | null {
  const p = parseInvert(v);
  if (!p) return null;
  const val = p.val.toLowerCase();
  switch (val) {
    case 'all':
    case 'any':
    case '*':
      return [{ any: true, invert: p.invert }];
    case '1':
    case 'icmp':
      return [{ name: 'icmp', invert: p.invert }];
    case '58':
    case 'icmpv6':
    case 'ipv6-icmp':
      return [{ name: 'ipv6-icmp', invert: p.invert }];
    case 'tcpudp':
      return [{ name: 'tcp', invert: p.invert }, { name: 'udp', invert: p.invert }];
    case '6':
      return [{ name: 'tcp', invert: p.invert }];
    case '17':
      return [{ name: 'udp', invert: p.invert }];
    default:
      return [{ name: val, invert: p.invert }];
  }
}

interface PortRange {
  min: number;
  max: number;
  invert: boolean;
}

function parsePort(v: string): PortRange | null {
  const p = parseInvert(v);
  const m = p ? /^([0-9]{1,5})([-:]([0-9]{1,5}))?$/.exec(p.val) : null;
  if (!p || !m) return null;
  const min = Number(m[1]);
  const max = m[3] !== undefined ? Number(m[3]) : min;
  if (min > max || max > 65535) return null;
  return { min, max, invert: p.invert };
}

/** An address matcher: its family and range, or unknown (a host name, a non-contiguous mask). */
interface Addr {
  invert: boolean;
  family?: 4 | 6;
  range?: IpRange;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/;

function parseAddr(v: string): Addr | null {
  const p = parseInvert(v);
  if (!p) return null;
  const v4 = IPV4.exec(p.val);
  if (v4) {
    const octets = v4.slice(1, 5).map(Number);
    const bits = v4[5] === undefined ? 32 : Number(v4[5]);
    if (octets.every((o) => o <= 255) && bits <= 32) {
      const value = octets.reduce((a, o) => a * 256 + o, 0);
      const size = 2 ** (32 - bits);
      const first = Math.floor(value / size) * size;
      return { invert: p.invert, family: 4, range: { first: BigInt(first), last: BigInt(first + size - 1) } };
    }
  }
  const c = parseCidr(p.val);
  if (c) return { invert: p.invert, family: c.family, range: c };
  const ip = parseIp(p.val);
  if (ip) return { invert: p.invert, family: ip.family, range: { first: ip.value, last: ip.value } };
  const r = parseIpRange(p.val);
  if (r) return { invert: p.invert, family: r.family, range: { first: r.first.value, last: r.last.value } };
  const masked = /^([^/]+)\/([^/]+)$/.exec(p.val);
  if (masked) {
    // address/netmask (a dotted or non-contiguous mask): its family, range unknown unless contiguous
    const a = parseIp(masked[1]!);
    const m = parseIp(masked[2]!);
    if (a && m && a.family === m.family) {
      const bits = a.family === 4 ? 32 : 128;
      const text = m.value.toString(2).padStart(bits, '0');
      if (/^1*0*$/.test(text)) {
        const cidr = parseCidr(`${a.text}/${text.indexOf('0') < 0 ? bits : text.indexOf('0')}`)!;
        return { invert: p.invert, family: a.family, range: cidr };
      }
      return { invert: p.invert, family: a.family };
    }
  }
  return { invert: p.invert };
}

// fw4's ICMP type tables (fw4.uc ipv4_icmptypes / ipv6_icmptypes): name → type, code min, code max
const ICMP4 = tableOf(
  'any 255 0 255,echo-reply 0 0 255,pong 0 0 255,destination-unreachable 3 0 255,network-unreachable 3 0 0,host-unreachable 3 1 1,protocol-unreachable 3 2 2,port-unreachable 3 3 3,fragmentation-needed 3 4 4,source-route-failed 3 5 5,network-unknown 3 6 6,host-unknown 3 7 7,network-prohibited 3 9 9,host-prohibited 3 10 10,TOS-network-unreachable 3 11 11,TOS-host-unreachable 3 12 12,communication-prohibited 3 13 13,host-precedence-violation 3 14 14,precedence-cutoff 3 15 15,source-quench 4 0 255,redirect 5 0 255,network-redirect 5 0 0,host-redirect 5 1 1,TOS-network-redirect 5 2 2,TOS-host-redirect 5 3 3,echo-request 8 0 255,ping 8 0 255,router-advertisement 9 0 255,router-solicitation 10 0 255,time-exceeded 11 0 255,ttl-exceeded 11 0 255,ttl-zero-during-transit 11 0 0,ttl-zero-during-reassembly 11 1 1,parameter-problem 12 0 255,ip-header-bad 12 0 0,required-option-missing 12 1 1,timestamp-request 13 0 255,timestamp-reply 14 0 255,address-mask-request 17 0 255,address-mask-reply 18 0 255',
);
const ICMP6 = tableOf(
  'destination-unreachable 1 0 255,no-route 1 0 0,communication-prohibited 1 1 1,address-unreachable 1 3 3,port-unreachable 1 4 4,packet-too-big 2 0 255,time-exceeded 3 0 255,ttl-exceeded 3 0 255,ttl-zero-during-transit 3 0 0,ttl-zero-during-reassembly 3 1 1,parameter-problem 4 0 255,bad-header 4 0 0,unknown-header-type 4 1 1,unknown-option 4 2 2,echo-request 128 0 255,ping 128 0 255,echo-reply 129 0 255,pong 129 0 255,multicast-listener-query 130 0 255,multicast-listener-report 131 0 255,multicast-listener-done 132 0 255,router-solicitation 133 0 255,router-advertisement 134 0 255,neighbour-solicitation 135 0 255,neighbor-solicitation 135 0 255,neighbour-advertisement 136 0 255,neighbor-advertisement 136 0 255,redirect 137 0 255,router-renumbering 138 0 255,node-info-query 139 0 255,node-info-response 140 0 255,inverse-neighbour-discovery-solicitation-message 141 0 255,inverse-neighbor-discovery-solicitation-message 141 0 255,inverse-neighbour-discovery-advertisement-message 142 0 255,inverse-neighbor-discovery-advertisement-message 142 0 255,v2-multicast-listener-report 143 0 255,home-agent-address-discovery-request-message 144 0 255,home-agent-address-discovery-reply-message 145 0 255,mobile-prefix-solicitation 146 0 255,mobile-prefix-advertisement 147 0 255,certification-path-solicitation-message 148 0 255,certification-path-advertisement-message 149 0 255,seamoby-protocol-message 150 0 255',
);

function tableOf(text: string): Map<string, [number, number, number]> {
  return new Map(text.split(',').map((e) => {
    const [name, ...n] = e.split(' ');
    return [name!, n.map(Number) as [number, number, number]];
  }));
}

interface IcmpType {
  /** 4: IPv4 only, 6: IPv6 only, 0: both */
  family: Fam;
  v4?: [number, number, number];
  v6?: [number, number, number];
}

function parseIcmpType(v: string): IcmpType | null {
  const v4 = ICMP4.get(v);
  const v6 = ICMP6.get(v);
  if (v4 || v6) return { family: v4 && v6 ? 0 : v4 ? 4 : 6, ...(v4 ? { v4 } : {}), ...(v6 ? { v6 } : {}) };
  const m = /^([0-9]+)(\/([0-9]+))?$/.exec(v);
  if (!m) return null;
  const type = Number(m[1]);
  const t: [number, number, number] = m[3] !== undefined ? [type, Number(m[3]), Number(m[3])] : [type, 0, 255];
  if (t.some((x) => x > 255)) return null;
  return { family: 0, v4: t, v6: t };
}

// ------------------------------------------------------------------------------------------------- model

interface Zone {
  name: string;
  section: ExportedSection;
  index: number;
  input: Policy;
  forward: Policy;
  family: Fam;
  /** device groups as fw4 emits its zone match rules */
  groups: Array<{ pos: string[] | null; negPlain: string[]; negWild: string[] }>;
  hasSubnets: boolean;
  /** devices named positively (without wildcards): the zone's own side of a flow */
  devices: string[];
  /** zoneMatch per family (IPv4, IPv6) and device */
  cache: [Map<string, { m: Match; why?: string }>, Map<string, { m: Match; why?: string }>];
}

const NO = { m: 'no' } as const;

interface ZoneRef {
  any: boolean;
  zone?: Zone;
}

/** What decided: the DecidingRule is built only when it is reported. */
class Origin {
  private made?: DecidingRule;
  constructor(private readonly make: () => DecidingRule) {}
  get rule(): DecidingRule {
    return (this.made ??= this.make());
  }
}

/** One statement of an nft chain as fw4 renders it. */
interface Stmt {
  match: (p: Fw4Packet) => { m: Match; why?: string };
  action: { kind: 'accept' | 'drop' } | { kind: 'jump'; chain: string } | { kind: 'none' };
  /** absent for the statements of verdict chains (<verdict>_to_<zone>): the jump that led there decides */
  origin?: Origin;
  /** a jump to <verdict>_to_<dest>: only a packet leaving through that zone can be decided there */
  dest?: Zone;
  /** a zone jump: only a packet arriving through that zone takes it */
  src?: Zone;
}

/** The first index of a sorted array whose value is at least `value`. */
function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface Chain {
  stmts: Stmt[];
  /** base chains: the policy at their end */
  policy?: { verdict: 'accept' | 'drop'; origin: Origin };
  /** whether its statements look at the incoming (src) or outgoing (dest) device's zone */
  uses?: { src: boolean; dest: boolean };
}

interface Outcome {
  kind: 'accept' | 'drop' | 'continue' | 'undecided';
  origin?: Origin;
  why?: string;
}

/** Each section's id as uci addresses it (its name, or @<type>[<index>]) and its index among its type. */
function sectionIds(all: UciConfig): Map<ExportedSection, { id: string; position: number }> {
  const counts = new Map<string, number>();
  const out = new Map<ExportedSection, { id: string; position: number }>();
  for (const s of all) {
    const position = counts.get(s.type) ?? 0;
    counts.set(s.type, position + 1);
    out.set(s, { id: s.name ?? `@${s.type}[${position}]`, position });
  }
  return out;
}

/** The l3 device of each network interface, as netifd reports it to fw4 (ubus network.interface dump). */
export function interfaceDevices(network: UciConfig): Map<string, string> {
  const raw = new Map<string, { dev?: string; l3?: string; alias?: string; up: boolean }>();
  for (const s of network) {
    if (s.type !== 'interface' || s.name === undefined) continue;
    const disabled = opt(s, 'disabled');
    if (disabled === '1' || disabled === 'true') continue;
    const proto = opt(s, 'proto') ?? 'none';
    let dev = (list(s, 'device') ?? list(s, 'ifname'))?.[0]?.trim().split(/[ \t]+/)[0];
    if (opt(s, 'type') === 'bridge') dev = `br-${s.name}`;
    const auto = opt(s, 'auto');
    const up = !(auto === '0' || auto === 'false' || auto === 'off' || auto === 'no');
    const alias = dev?.startsWith('@') ? dev.slice(1) : undefined;
    const L3: Record<string, string> = { pppoe: 'pppoe', pppoa: 'pppoa', '3g': '3g', ncm: 'ncm', qmi: 'qmi', ppp: 'ppp', pptp: 'pptp', l2tp: 'l2tp', mbim: 'mbim' };
    const l3 = L3[proto] ? `${L3[proto]}-${s.name}` : proto === 'wireguard' ? s.name : dev;
    raw.set(s.name, { ...(!alias && dev !== undefined && proto !== 'wireguard' ? { dev } : {}), ...(l3 !== undefined ? { l3 } : {}), ...(alias ? { alias } : {}), up });
  }
  const out = new Map<string, string>();
  for (const [name, e] of raw) {
    let l3 = e.l3;
    if (e.alias !== undefined) {
      const parent = raw.get(e.alias);
      l3 = parent ? (parent.l3 ?? parent.dev) : undefined;
    }
    // fw4 takes l3_device ?? device; an interface that is not up has no l3_device
    const device = (e.up ? l3 : undefined) ?? e.dev;
    if (device !== undefined) out.set(name, device);
  }
  return out;
}

class Fw4 {
  readonly zones: Zone[] = [];
  readonly chains = new Map<string, Chain>();
  private defaults: { input: Policy; forward: Policy; origin: Origin };
  private readonly ids: Map<ExportedSection, { id: string; position: number }>;
  private readonly candidateCache = new Map<string, number[]>();

  constructor(
    readonly firewall: UciConfig,
    readonly ifaceDevices: Map<string, string>,
  ) {
    this.ids = sectionIds(firewall);
    // defaults: the first section counts, policies drop when not set (fw4's parse_defaults)
    const d = firewall.find((s) => s.type === 'defaults');
    const pol = (key: string): Policy => (d && opt(d, key) !== undefined ? (parseEnum(opt(d, key)!, POLICIES) ?? 'drop') : 'drop');
    this.defaults = { input: pol('input'), forward: pol('forward'), origin: new Origin(() => this.defaultsRule(d, pol('input'), pol('forward'))) };
    firewall.forEach((s) => {
      if (s.type === 'zone') this.parseZone(s);
    });
    const rules: Array<{ chain: string; stmt: Stmt }> = [];
    for (const s of firewall) if (s.type === 'rule') rules.push(...this.parseRule(s));
    for (const s of firewall) if (s.type === 'forwarding') rules.push(...this.parseForwarding(s));
    this.build(rules);
  }

  private defaultsRule(d: ExportedSection | undefined, input: Policy, forward: Policy): DecidingRule {
    const where = d ? this.ids.get(d)! : undefined;
    return {
      ...(where ? { id: where.id, position: where.position } : {}),
      chain: 'defaults',
      owned: false,
      text: `defaults input ${input.toUpperCase()} forward ${forward.toUpperCase()}`,
    };
  }

  private parseZone(s: ExportedSection): void {
    const enabled = parseBool(opt(s, 'enabled') ?? '1');
    if (enabled !== true) return;
    const name = opt(s, 'name');
    if (name === undefined || !/^[a-zA-Z_.][a-zA-Z0-9/_.-]*$/.test(name)) return;
    const policy = (key: string, def: Policy): Policy | null => (opt(s, key) === undefined ? def : parseEnum(opt(s, key)!, POLICIES));
    const input = policy('input', this.defaults.input);
    const forward = policy('forward', this.defaults.forward);
    if (input === null || forward === null) return;
    let family: Fam = 0;
    if (opt(s, 'family') !== undefined) {
      const f = parseFamily(opt(s, 'family')!);
      if (f === null) return;
      family = f;
    }
    const match: Array<{ invert: boolean; device: string }> = [];
    for (const n of list(s, 'network') ?? []) {
      const p = parseInvert(n);
      if (!p) return;
      const dev = this.ifaceDevices.get(p.val);
      if (dev !== undefined) match.push({ invert: p.invert, device: dev });
    }
    for (const d of list(s, 'device') ?? []) {
      const p = parseInvert(d);
      if (!p) return;
      match.push({ invert: p.invert, device: p.val });
    }
    const subnets = list(s, 'subnet') ?? [];
    const groups: Zone['groups'] = [];
    const plain: string[] = [];
    const negPlain: string[] = [];
    const negWild: string[] = [];
    const wild: string[] = [];
    for (const m of match) {
      const w = /^([^+]*)(\+)?$/.exec(m.device);
      if (!w) continue;
      let device = m.device;
      let invert = m.invert;
      if (!invert && w[0] === '+') continue;
      if (invert && w[0] === '+') {
        device = '/never/';
        invert = false;
      } else if (w[2] === '+') device = `${w[1]}*`;
      const wildcard = w[2] === '+' && device !== '/never/';
      if (!invert && wildcard) wild.push(device);
      else if (!invert) plain.push(device);
      else if (wildcard) negWild.push(device);
      else negPlain.push(device);
    }
    for (const w of wild) groups.push({ pos: [w], negPlain, negWild });
    if (plain.length > 0) groups.push({ pos: plain, negPlain, negWild });
    else if (groups.length === 0) groups.push({ pos: null, negPlain, negWild });
    const hasSubnets = subnets.length > 0;
    const zone: Zone = {
      name,
      section: s,
      index: this.zones.length,
      input,
      forward,
      family,
      groups: match.length > 0 || hasSubnets ? groups : [],
      hasSubnets,
      devices: plain.filter((d) => d !== '/never/'),
      cache: [new Map(), new Map()],
    };
    this.zones.push(zone);
  }

  private zoneRef(v: string | undefined): ZoneRef | null | undefined {
    if (v === undefined) return undefined;
    if (v === '*') return { any: true };
    const zone = this.zones.find((z) => z.name === v);
    return zone ? { any: false, zone } : null;
  }

  /** Does the zone's match rule take a packet arriving on (egress: leaving through) `device`? */
  zoneMatch(zone: Zone, device: string | undefined, family: 4 | 6): { m: Match; why?: string } {
    if (device === undefined) return NO;
    const cache = zone.cache[family === 4 ? 0 : 1];
    const known = cache.get(device);
    if (known) return known;
    const out = this.zoneMatchOf(zone, device, family);
    cache.set(device, out);
    return out;
  }

  private zoneMatchOf(zone: Zone, device: string, family: 4 | 6): { m: Match; why?: string } {
    if (zone.family !== 0 && zone.family !== family) return { m: 'no' };
    const wildMatch = (pattern: string) => (pattern.endsWith('*') ? device.startsWith(pattern.slice(0, -1)) : device === pattern);
    let result: Match = 'no';
    for (const g of zone.groups) {
      const pos = g.pos === null || g.pos.some(wildMatch);
      const neg = g.negPlain.includes(device) || g.negWild.some(wildMatch);
      if (!pos || neg) continue;
      if (!zone.hasSubnets) return { m: 'yes' };
      result = 'maybe';
    }
    return result === 'maybe' ? { m: 'maybe', why: `zone ${zone.name}'s subnet option` } : { m: result };
  }

  private ruleOrigin(s: ExportedSection, text: () => string): Origin {
    return new Origin(() => {
      const { id, position } = this.ids.get(s)!;
      const comment = opt(s, 'name');
      return { id, chain: s.type, position, ...(comment ? { comment } : {}), owned: (s.name ?? '').startsWith(OWNED_PREFIX), text: text() };
    });
  }


  private parseRule(s: ExportedSection): Array<{ chain: string; stmt: Stmt }> {
    const enabled = parseBool(opt(s, 'enabled') ?? '1');
    if (enabled !== true) return [];
    const src = this.zoneRef(opt(s, 'src'));
    const dest = this.zoneRef(opt(s, 'dest'));
    if (src === null || dest === null) return [];
    let target: Target | null = null;
    if (opt(s, 'target') !== undefined) {
      target = parseEnum(opt(s, 'target')!, TARGETS);
      if (target === null) return [];
    }
    // not filter rules: conntrack helpers, notrack, marks and DSCP live in other chains
    if (target !== null && !['accept', 'reject', 'drop'].includes(target)) return [];
    // chain: rules without src are output rules (not a flow through or to the router)
    if (!src) return [];
    const chain = src.any ? (dest ? 'forward' : 'input') : `${dest ? 'forward' : 'input'}_${src.zone!.name}`;
    let action: Stmt['action'] = { kind: 'none' };
    if (target && dest && !dest.any) action = { kind: 'jump', chain: `${target}_to_${dest.zone!.name}` };
    else if (target === 'reject' || target === 'drop') action = { kind: 'drop' };
    else if (target === 'accept') action = { kind: 'accept' };
    // the rest is parsed when a packet first meets the rule (thousands of rules toward other zones never are):
    // a value fw4 finds invalid skips the whole section, which is a rule that never matches
    let compiled: RuleSpec | null | undefined;
    const stmt: Stmt = {
      ...(target && dest && !dest.any ? { dest: dest.zone! } : {}),
      match: (p) => {
        if (compiled === undefined) compiled = this.compileRule(s, src, dest);
        return compiled === null ? NO : matchRule(compiled, p);
      },
      action,
      origin: this.ruleOrigin(s, () => ruleText(s)),
    };
    return [{ chain, stmt }];
  }

  /** The matchers of a rule section as fw4 emits them, or null when fw4 skips the section. */
  private compileRule(s: ExportedSection, src: ZoneRef, dest: ZoneRef | undefined): RuleSpec | null {
    let family: Fam | null = null;
    if (opt(s, 'family') !== undefined) {
      family = parseFamily(opt(s, 'family')!);
      if (family === null) return null;
    }
    const protos: Proto[] = [];
    for (const p of list(s, 'proto') ?? ['tcpudp']) {
      const parsed = parseProtocol(p);
      if (!parsed) return null;
      protos.push(...parsed);
    }
    const addrs = (key: string): Addr[] | null => {
      const out: Addr[] = [];
      for (const v of list(s, key) ?? []) {
        const a = parseAddr(v);
        if (!a) return null;
        out.push(a);
      }
      return out;
    };
    const sip = addrs('src_ip');
    const dip = addrs('dest_ip');
    if (!sip || !dip) return null;
    const ports = (key: string): PortRange[] | null => {
      const out: PortRange[] = [];
      for (const v of list(s, key) ?? []) {
        const p = parsePort(v);
        if (!p) return null;
        out.push(p);
      }
      return out;
    };
    const sports = ports('src_port');
    const dports = ports('dest_port');
    if (!sports || !dports) return null;
    const itypes: IcmpType[] = [];
    for (const v of list(s, 'icmp_type') ?? []) {
      const t = parseIcmpType(v);
      if (!t) return null;
      itypes.push(t);
    }
    const deviceOpt = opt(s, 'device');
    const device = deviceOpt !== undefined ? parseInvert(deviceOpt) : null;
    if (device?.val === '*') return null;
    const outward = opt(s, 'direction') === 'out' || opt(s, 'direction') === 'egress';
    const ipset = opt(s, 'ipset');
    if (ipset !== undefined) {
      const setName = parseInvert(ipset)?.val.split(/[ \t]/)[0];
      if (!this.firewall.some((x) => x.type === 'ipset' && (opt(x, 'name') ?? x.name) === setName)) return null;
    }

    // matchers this evaluator does not decide for a flow
    const unknown: string[] = [];
    for (const key of ['src_mac', 'ipset', 'helper', 'limit', 'start_date', 'stop_date', 'start_time', 'stop_time', 'weekdays', 'mark', 'dscp']) {
      if (s.options.has(key)) unknown.push(`${key} ${uciText(s.options.get(key))}`);
    }
    const zoneFamilies = [src.zone?.family ?? 0, dest?.zone?.family ?? 0].filter((f) => f !== 0);

    // one nft rule per protocol (and per family), all with the same verdict: a packet meets their union
    const entries: Entry[] = [];
    let uncertainProto = false;
    const unknownAf = [...sip, ...dip].some((a) => a.family === undefined);
    for (const proto of protos) {
      if (proto.invert) uncertainProto = true;
      let fam: Fam | null = family;
      if (proto.name === 'ipv6-icmp') fam = 6;
      const it4 = proto.name === 'icmp' ? itypes.filter((t) => t.family !== 6) : [];
      const it6 = proto.name === 'icmp' || proto.name === 'ipv6-icmp' ? itypes.filter((t) => t.family !== 4) : [];
      // infer_family from the zones: a conflict skips this protocol
      let conflict = false;
      for (const zf of zoneFamilies) {
        if (!fam) fam = zf as Fam;
        else if (fam !== zf) conflict = true;
      }
      if (conflict) continue;
      const has4 = sip.some((a) => a.family === 4) || dip.some((a) => a.family === 4) || it4.length > 0 || s.options.has('dscp');
      const has6 = sip.some((a) => a.family === 6) || dip.some((a) => a.family === 6) || it6.length > 0 || s.options.has('dscp');
      if (fam === null) fam = has4 && !has6 ? 4 : has6 && !has4 ? 6 : 0;
      const tcpudp = proto.name === 'tcp' || proto.name === 'udp';
      const families: Fam[] = !fam && !has4 && !has6 ? [0] : fam === 0 ? [4, 6] : [fam];
      for (const f of families) {
        const types = f === 4 ? it4 : f === 6 ? it6 : [];
        const full = types.filter((t) => (f === 4 ? t.v4 : t.v6)).map((t) => (f === 4 ? t.v4! : t.v6!));
        const fullTypes = full.filter((t) => t[1] === 0 && t[2] === 255).map((t) => t[0]);
        const codes = full.filter((t) => !(t[1] === 0 && t[2] === 255)).map((t) => [t[0], t[1]] as [number, number]);
        const base: Omit<Entry, 'icmp'> = {
          family: f,
          proto,
          tcpudp,
          dportsPos: tcpudp ? dports.filter((x) => !x.invert) : [],
          dportsNeg: tcpudp ? dports.filter((x) => x.invert) : [],
          sports: tcpudp && sports.length > 0,
          saddrs: f === 0 ? [] : sip.filter((a) => a.family === f || a.family === undefined),
          daddrs: f === 0 ? [] : dip.filter((a) => a.family === f || a.family === undefined),
          unknownAf: unknownAf && f === 0,
        };
        // fw4 emits the full-range types as one rule and type/code pairs as another
        if (fullTypes.length > 0 || codes.length === 0) entries.push({ ...base, ...(fullTypes.length > 0 ? { icmp: { types: fullTypes } } : {}) });
        if (codes.length > 0) entries.push({ ...base, icmp: { codes } });
      }
    }
    if (entries.length === 0) return null;
    const spec: RuleSpec = {
      entries,
      ...(device ? { device: { name: device.val, outward } } : {}),
      uncertainProto,
      unknown: unknown.join(', '),
      narrowing: ['src_ip', 'dest_ip', 'src_port', 'dest_port']
        .filter((k) => s.options.has(k))
        .map((k) => `${k} ${uciText(s.options.get(k))}`)
        .join(', '),
    };
    return spec;
  }

  private parseForwarding(s: ExportedSection): Array<{ chain: string; stmt: Stmt }> {
    const enabled = parseBool(opt(s, 'enabled') ?? '1');
    if (enabled !== true) return [];
    const src = this.zoneRef(opt(s, 'src'));
    const dest = this.zoneRef(opt(s, 'dest'));
    if (!src || !dest) return [];
    let family: Fam = 0;
    if (opt(s, 'family') !== undefined) {
      const f = parseFamily(opt(s, 'family')!);
      if (f === null) return [];
      family = f;
    }
    for (const zf of [src.zone?.family ?? 0, dest.zone?.family ?? 0]) {
      if (zf === 0) continue;
      if (!family) family = zf;
      else if (family !== zf) return [];
    }
    const chain = src.any ? 'forward' : `forward_${src.zone!.name}`;
    const action: Stmt['action'] = dest.any ? { kind: 'accept' } : { kind: 'jump', chain: `accept_to_${dest.zone!.name}` };
    const text = `forwarding ${opt(s, 'src')} → ${opt(s, 'dest')}${family ? ` (IPv${family})` : ''}`;
    return [{ chain, stmt: { ...(dest.any ? {} : { dest: dest.zone! }), match: (p) => ({ m: family === 0 || family === p.family ? 'yes' : 'no' }), action, origin: this.ruleOrigin(s, () => text) } }];
  }

  private build(rules: Array<{ chain: string; stmt: Stmt }>): void {
    const byChain = new Map<string, Stmt[]>();
    for (const r of rules) (byChain.get(r.chain) ?? byChain.set(r.chain, []).get(r.chain)!).push(r.stmt);
    const of = (chain: string) => byChain.get(chain) ?? [];
    const zoneOrigin = (z: Zone, what: 'input' | 'forward'): Origin => {
      const { id, position } = this.ids.get(z.section)!;
      const text = what === 'input' ? `zone ${z.name} input ${z.input.toUpperCase()}` : `zone ${z.name} forward ${z.forward.toUpperCase()} (traffic within the zone)`;
      return new Origin(() => ({ id, chain: 'zone', position, owned: (z.section.name ?? '').startsWith(OWNED_PREFIX), text }));
    };
    const jumps = (direction: 'input' | 'forward'): Stmt[] =>
      this.zones.filter((z) => z.groups.length > 0).map((z) => ({ src: z, match: (p) => this.zoneMatch(z, p.iif, p.family), action: { kind: 'jump', chain: `${direction}_${z.name}` } }));
    const policy = (v: Policy) => (v === 'accept' ? 'accept' : 'drop');
    this.chains.set('input', { stmts: [...of('input'), ...jumps('input')], policy: { verdict: policy(this.defaults.input), origin: this.defaults.origin } });
    this.chains.set('forward', { stmts: [...of('forward'), ...jumps('forward')], policy: { verdict: policy(this.defaults.forward), origin: this.defaults.origin } });
    for (const z of this.zones) {
      this.chains.set(`input_${z.name}`, { stmts: [...of(`input_${z.name}`), { match: () => ({ m: 'yes' }), action: { kind: 'jump', chain: `${z.input}_from_${z.name}` }, origin: zoneOrigin(z, 'input') }] });
      this.chains.set(`forward_${z.name}`, { stmts: [...of(`forward_${z.name}`), { dest: z, match: () => ({ m: 'yes' }), action: { kind: 'jump', chain: `${z.forward}_to_${z.name}` }, origin: zoneOrigin(z, 'forward') }] });
      for (const v of POLICIES) {
        const verdict = { kind: policy(v) } as const;
        this.chains.set(`${v}_from_${z.name}`, { stmts: [{ match: (p) => this.zoneMatch(z, p.iif, p.family), action: verdict }] });
        this.chains.set(`${v}_to_${z.name}`, { stmts: [{ match: (p) => this.zoneMatch(z, p.oif, p.family), action: verdict }] });
      }
    }
  }

  /**
   * The statements of a chain that can match packets between these devices: a zone jump needs the incoming
   * device in its zone, a jump to <verdict>_to_<zone> the outgoing one (else it decides nothing). Cached per
   * chain, family and pair of devices, so thousands of rules toward other zones cost one pass.
   */
  private candidates(chain: string, c: Chain, p: Fw4Packet): number[] {
    c.uses ??= { src: c.stmts.some((x) => x.src), dest: c.stmts.some((x) => x.dest) };
    const key = `${chain}\u0000${p.family}\u0000${c.uses.src ? p.iif : ''}\u0000${c.uses.dest ? (p.oif ?? '') : ''}`;
    const known = this.candidateCache.get(key);
    if (known) return known;
    const out: number[] = [];
    c.stmts.forEach((stmt, i) => {
      if (stmt.dest && this.zoneMatch(stmt.dest, p.oif, p.family).m === 'no') return;
      if (stmt.src && this.zoneMatch(stmt.src, p.iif, p.family).m === 'no') return;
      out.push(i);
    });
    this.candidateCache.set(key, out);
    return out;
  }

  run(p: Fw4Packet): Outcome {
    const memo = new Map<object, Outcome>();
    const from = (chain: string, start: number): Outcome => {
      const c = this.chains.get(chain);
      if (!c) return { kind: 'continue' };
      // statements that cannot match are passed over without recursion: a chain of thousands of rules
      const candidates = this.candidates(chain, c, p);
      let k = lowerBound(candidates, start);
      let i = c.stmts.length;
      let hit: { m: Match; why?: string } | undefined;
      for (; k < candidates.length; k++) {
        const r = c.stmts[candidates[k]!]!.match(p);
        if (r.m !== 'no') {
          hit = r;
          i = candidates[k]!;
          break;
        }
      }
      const stmt = c.stmts[i];
      const key: object = stmt ?? c;
      const known = memo.get(key);
      if (known) return known;
      let out: Outcome;
      if (!stmt || !hit) out = c.policy ? { kind: c.policy.verdict, origin: c.policy.origin } : { kind: 'continue' };
      else {
        const taken = this.act(stmt, chain, i, from);
        if (hit.m === 'yes') out = taken;
        else {
          const notTaken = from(chain, i + 1);
          out = taken.kind === notTaken.kind && taken.kind !== 'undecided' ? notTaken : { kind: 'undecided', ...(stmt.origin ? { origin: stmt.origin } : {}), why: hit.why ?? 'a matcher flatnet does not model' };
        }
      }
      memo.set(key, out);
      return out;
    };
    return from(p.hook, 0);
  }

  private act(stmt: Stmt, chain: string, i: number, from: (chain: string, i: number) => Outcome): Outcome {
    switch (stmt.action.kind) {
      case 'accept':
      case 'drop':
        return { kind: stmt.action.kind, ...(stmt.origin ? { origin: stmt.origin } : {}) };
      case 'none':
        return from(chain, i + 1);
      case 'jump': {
        const inner = from(stmt.action.chain, 0);
        if (inner.kind === 'continue') return from(chain, i + 1);
        // a verdict chain decides for the rule, forwarding or zone policy that jumped there
        return inner.origin || !stmt.origin ? inner : { ...inner, origin: stmt.origin };
      }
    }
  }
}

/** One nft rule fw4 emits for a rule section: one protocol, one family. */
interface Entry {
  family: Fam;
  proto: Proto;
  tcpudp: boolean;
  dportsPos: PortRange[];
  dportsNeg: PortRange[];
  /** a src_port: the flow's source port is not fixed */
  sports: boolean;
  saddrs: Addr[];
  daddrs: Addr[];
  /** addresses whose family is not known: the family-agnostic rule may match */
  unknownAf: boolean;
  icmp?: { types?: number[]; codes?: Array<[number, number]> };
}

interface RuleSpec {
  entries: Entry[];
  device?: { name: string; outward: boolean };
  uncertainProto: boolean;
  /** the matchers a flow does not fix, as written ('' when none) */
  unknown: string;
  /** the address and port matchers, as written: what a "may match" depends on otherwise */
  narrowing: string;
}

const L4_NUMBERS: Record<string, string> = { tcp: '6', udp: '17', icmp: '1', 'ipv6-icmp': '58' };
const YES = { m: 'yes' } as const;

function and(a: Match, b: Match): Match {
  return a === 'no' || b === 'no' ? 'no' : a === 'maybe' || b === 'maybe' ? 'maybe' : 'yes';
}

function matchEntry(e: Entry, p: Fw4Packet): Match {
  if (e.family !== 0 && e.family !== p.family) return 'no';
  const l4 = p.proto === 'icmpv6' ? 'ipv6-icmp' : p.proto;
  if (!e.proto.any) {
    const name = e.proto.name!;
    const ok = name === 'icmp' ? (l4 === 'icmp' ? e.family !== 6 : l4 === 'ipv6-icmp' && e.family !== 4) : name === l4 || name === L4_NUMBERS[l4];
    if (!ok) return 'no';
  }
  let m: Match = 'yes';
  if (e.icmp) {
    const isIcmp = l4 === 'icmp' || l4 === 'ipv6-icmp';
    if (!isIcmp || p.icmpType === undefined) return 'no';
    if (e.icmp.types && !e.icmp.types.includes(p.icmpType)) return 'no';
    // type . code: the flow's ICMP code is 0
    if (e.icmp.codes && !e.icmp.codes.some(([t, c]) => t === p.icmpType && c === 0)) return 'no';
  }
  if (e.tcpudp) {
    if (e.dportsPos.length + e.dportsNeg.length > 0) {
      if (p.dport === undefined) m = 'maybe';
      else {
        const d = p.dport;
        if (e.dportsPos.length > 0 && !e.dportsPos.some((x) => d >= x.min && d <= x.max)) return 'no';
        if (e.dportsNeg.some((x) => d >= x.min && d <= x.max)) return 'no';
      }
    }
    if (e.sports) m = 'maybe';
  }
  m = and(m, addrMatch(e.saddrs, p.src));
  if (m === 'no') return m;
  m = and(m, addrMatch(e.daddrs, p.dst));
  if (m !== 'no' && e.unknownAf) m = 'maybe';
  return m;
}

function matchRule(spec: RuleSpec, p: Fw4Packet): { m: Match; why?: string } {
  let m: Match = 'no';
  for (const e of spec.entries) {
    const x = matchEntry(e, p);
    if (x === 'yes') {
      m = 'yes';
      break;
    }
    if (x === 'maybe') m = 'maybe';
  }
  if (m === 'no') return NO;
  if (spec.device) {
    const dev = spec.device.outward ? p.oif : p.iif;
    const name = spec.device.name;
    if (dev === undefined || !(name.endsWith('+') ? dev.startsWith(name.slice(0, -1)) : dev === name)) return NO;
  }
  if (spec.unknown !== '') return { m: 'maybe', why: spec.unknown };
  if (spec.uncertainProto) return { m: 'maybe', why: 'a negated proto' };
  return m === 'yes' ? YES : { m, why: spec.narrowing !== '' ? `${spec.narrowing} (the flow is any address of its side, any port)` : 'a protocol the flow does not fix' };
}

function addrMatch(addrs: readonly Addr[], side: IpRange | undefined): Match {
  if (addrs.length === 0) return 'yes';
  const pos: Addr[] = [];
  const neg: Addr[] = [];
  for (const a of addrs) (a.invert ? neg : pos).push(a);
  const one = (a: Addr): Match => (!a.range || !side ? 'maybe' : contains(a.range, side) ? 'yes' : overlaps(a.range, side) ? 'maybe' : 'no');
  let m: Match = 'yes';
  if (pos.length > 0) {
    const r = pos.map(one);
    m = r.includes('yes') ? 'yes' : r.includes('maybe') ? 'maybe' : 'no';
  }
  for (const a of neg) {
    const r = one(a);
    if (r === 'yes') return 'no';
    if (r === 'maybe') m = m === 'no' ? 'no' : 'maybe';
  }
  return m;
}

const uciText = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(',') : (v ?? ''));

function ruleText(s: ExportedSection): string {
  const parts: string[] = [];
  for (const key of ['src', 'src_ip', 'src_port', 'dest', 'dest_ip', 'dest_port', 'proto', 'icmp_type', 'family', 'ipset', 'device', 'mark']) {
    const v = s.options.get(key);
    if (v !== undefined) parts.push(`${key} ${uciText(v)}`);
  }
  parts.push(`target ${opt(s, 'target') ?? '(none)'}`);
  return parts.join(' ');
}

// -------------------------------------------------------------------------------------------------- flows

interface Side {
  devices: string[];
  what: string;
  problem?: string;
}

/** Evaluates every flow the spec decides for this router against its live firewall and network configs. */
export function auditOpenWrt(model: Model, router: OpenWrtRouter, firewall: UciConfig, network: UciConfig): FlowResult[] {
  const ifaces = interfaceDevices(network);
  const fw = new Fw4(firewall, ifaces);
  // flatnet's own devices are never the LAN or the internet side: one in the LAN zone is its own network's end
  // of the flow (and shows in that network's flows)
  const own = new Set(router.networks.map((n) => ifaces.get(findNetwork(model, n).names.uciSection)).filter((d): d is string => d !== undefined));
  const zoneSide = (zoneName: string, role: string): Side => {
    const zone = fw.zones.find((z) => z.name === zoneName);
    if (!zone) return { devices: [], what: `zone ${zoneName}`, problem: `the ${role} zone "${zoneName}" is not in the firewall config` };
    const devices = [...new Set(zone.devices.filter((d) => !own.has(d)))];
    return devices.length > 0 ? { devices, what: `zone ${zoneName}` } : { devices, what: `zone ${zoneName}`, problem: `the ${role} zone "${zoneName}" has no device of its own` };
  };
  const sideOf = (e: Endpoint): Side => {
    switch (e.kind) {
      case 'network': {
        const section = findNetwork(model, e.network).names.uciSection;
        const dev = ifaces.get(section);
        return dev !== undefined ? { devices: [dev], what: e.network } : { devices: [], what: e.network, problem: `network.${section} is not in the live network config (or is disabled)` };
      }
      case 'lan':
        return zoneSide(router.lanZone, 'LAN');
      case 'internet':
        return zoneSide(router.wanZone, 'WAN');
      case 'router':
        return { devices: [], what: 'the router' };
    }
  };
  const sides = new Map<string, Side>();
  const cached = (e: Endpoint): Side => {
    const key = e.kind === 'network' ? `n:${e.network}` : e.kind;
    return sides.get(key) ?? sides.set(key, sideOf(e)).get(key)!;
  };
  // a flatnet network whose device is also in another zone (listed in the lan zone, say) is that zone's too:
  // the deciding rule is then someone's rule for that zone, and the note says why it applies
  const alsoIn = new Map<string, string>();
  for (const name of router.networks) {
    const n = findNetwork(model, name);
    const dev = ifaces.get(n.names.uciSection);
    if (dev === undefined) continue;
    const zones = fw.zones.filter((z) => z.name !== n.names.firewallZone && (fw.zoneMatch(z, dev, 4).m === 'yes' || fw.zoneMatch(z, dev, 6).m === 'yes')).map((z) => z.name);
    if (zones.length > 0) alsoIn.set(name, `${dev} (network ${name}) is also in zone${zones.length > 1 ? 's' : ''} ${zones.join(', ')}`);
  }
  return specFlows(model, router).map((flow) => {
    const r = evaluateFlow(model, flow, fw, cached);
    const notes = [flow.from, flow.to].flatMap((e) => (e.kind === 'network' && alsoIn.has(e.network) ? [alsoIn.get(e.network)!] : []));
    return r.rule && notes.length > 0 ? { ...r, rule: { ...r.rule, text: `${r.rule.text}; ${notes.join('; ')}` }, membership: notes.join('; ') } : r;
  });
}

const addressCache = new WeakMap<object, Map<string, IpRange | undefined>>();

function addressOf(model: Model, e: Endpoint, family: 4 | 6, gateway: boolean): IpRange | undefined {
  if (e.kind !== 'network') return undefined;
  const n = findNetwork(model, e.network);
  const cache = addressCache.get(n) ?? addressCache.set(n, new Map()).get(n)!;
  const key = `${family}${gateway ? 'g' : 's'}`;
  if (cache.has(key)) return cache.get(key);
  const text = family === 4 ? (gateway ? `${n.ipv4.gateway}/32` : n.ipv4.subnet) : n.ipv6 ? (gateway ? `${n.ipv6.gateway}/128` : n.ipv6.subnet) : undefined;
  const range = text ? parseCidr(text) : undefined;
  cache.set(key, range);
  return range;
}

/** The packets of a flow: one per protocol (TCP and UDP for a flow of any service) and per pair of devices. */
function flowPackets(model: Model, flow: Flow, ins: readonly string[], outs: readonly (string | undefined)[]): Fw4Packet[] {
  const toRouter = flow.to.kind === 'router';
  const src = addressOf(model, flow.from, flow.family, false);
  const dst = toRouter ? addressOf(model, flow.from, flow.family, true) : addressOf(model, flow.to, flow.family, false);
  const protos: Array<Pick<Fw4Packet, 'proto' | 'dport' | 'icmpType'>> = flow.service
    ? [
        flow.service.protocol === 'icmp' || flow.service.protocol === 'icmpv6'
          ? { proto: flow.service.protocol, icmpType: flow.service.protocol === 'icmp' ? 8 : 128 }
          : { proto: flow.service.protocol, ...(flow.service.port !== undefined ? { dport: flow.service.port } : {}) },
      ]
    : [{ proto: 'tcp' }, { proto: 'udp' }];
  const out: Fw4Packet[] = [];
  for (const proto of protos) {
    for (const iif of ins) {
      for (const oif of outs) {
        out.push({ hook: toRouter ? 'input' : 'forward', family: flow.family, iif, ...(oif !== undefined ? { oif } : {}), ...(src ? { src } : {}), ...(dst ? { dst } : {}), ...proto });
      }
    }
  }
  return out;
}

function evaluateFlow(model: Model, flow: Flow, fw: Fw4, sideOf: (e: Endpoint) => Side): FlowResult {
  const toRouter = flow.to.kind === 'router';
  const ins = sideOf(flow.from);
  const outs: Side = toRouter ? { devices: [], what: 'the router' } : sideOf(flow.to);
  for (const side of toRouter ? [ins] : [ins, outs]) {
    if (side.problem) return { flow, live: 'undecided', undecidedBecause: side.problem };
  }
  const packets = flowPackets(model, flow, ins.devices, toRouter ? [undefined] : outs.devices);
  const outcomes = packets.map((p) => fw.run(p));
  const first = outcomes[0]!;
  if (outcomes.some((o) => o.kind !== first.kind)) {
    const other = outcomes.find((o) => o.kind !== first.kind)!;
    const rule = (first.origin ?? other.origin)?.rule;
    const byProto = !flow.service && ins.devices.length === 1 && outs.devices.length <= 1;
    const because = byProto ? 'the protocol (TCP and UDP connections get different verdicts)' : `which device of ${ins.devices.length > 1 ? ins.what : outs.what} the connection uses`;
    return { flow, live: 'undecided', ...(rule ? { rule } : {}), undecidedBecause: because };
  }
  const rule = first.origin?.rule;
  if (first.kind === 'undecided' || first.kind === 'continue') return { flow, live: 'undecided', ...(rule ? { rule } : {}), undecidedBecause: first.why ?? 'a matcher flatnet does not model' };
  return { flow, live: first.kind, ...(rule ? { rule } : {}) };
}

/** The verdict fw4's ruleset gives one packet (for tests against the real fw4). */
export function evaluatePacket(firewall: UciConfig, network: UciConfig, p: Fw4Packet): { verdict: 'accept' | 'drop' | 'undecided'; rule?: DecidingRule; why?: string } {
  const fw = new Fw4(firewall, interfaceDevices(network));
  const o = fw.run(p);
  const verdict = o.kind === 'continue' ? 'undecided' : o.kind;
  return { verdict, ...(o.origin ? { rule: o.origin.rule } : {}), ...(o.why ? { why: o.why } : {}) };
}
