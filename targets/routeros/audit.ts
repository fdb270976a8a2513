// The audit on RouterOS: the live /ip(v6)/firewall/filter evaluated as a whole for the new connections of every
// flow the spec decides — every rule in order whoever owns it, disabled ones skipped, jump/return followed into
// user chains, passthrough and log going on, interface lists with their members (all, none, dynamic, static
// too), addresses and ranges with "!", protocol, ports, connection-state and connection-nat-state. A matcher it
// does not model (an address list, a mark, a rate limit) makes a rule "may match": when the flow's verdict then
// depends on it, the verdict is "cannot be decided", never a guess. Pure: rows in, results out.
import { contains, overlaps, parseCidr, parseIp, parseIpRange, type Cidr, type IpRange } from '../../src/ip.js';
import { findNetwork, type Model, type RouterOSRouter } from '../../src/model.js';
import { specFlows, type Endpoint, type Flow } from '../../src/audit/flows.js';
import type { DecidingRule, FlowResult } from '../../src/audit/findings.js';
import type { RosObject } from './index.js';
import { parseMark } from '../../src/ownership.js';

export type Row = Record<string, string>;

export interface RosFirewallState {
  /** /ip/firewall/filter in print order (every property) */
  filter4: Row[];
  /** /ipv6/firewall/filter in print order */
  filter6: Row[];
  /** /interface/list/member */
  members: Row[];
  /** /interface (name, dynamic) */
  interfaces: Row[];
}

type Match = 'yes' | 'no' | 'maybe';

/** A new connection through the router, as the filter sees it. */
export interface Packet {
  chain: 'forward' | 'input';
  inInterface: string;
  outInterface?: string;
  /** undefined: any address (the LAN's or the internet's side) */
  src?: IpRange;
  dst?: IpRange;
  /** undefined: any protocol */
  protocol?: string;
  dstPort?: number;
}

/** Properties that are not matchers: what a rule does or says about itself. */
const NOT_MATCHERS = new Set([
  '.id', '.nextid', '.about', 'chain', 'action', 'comment', 'disabled', 'dynamic', 'invalid', 'log', 'log-prefix', 'jump-target', 'reject-with',
  'bytes', 'packets', 'hw-offload', 'address-list', 'address-list-timeout', 'place-before',
]);

const PROTOCOLS: Record<string, string> = { '1': 'icmp', '6': 'tcp', '17': 'udp', '58': 'icmpv6' };
const truthy = (v: string | undefined) => v === 'true' || v === 'yes';
const negated = (v: string): [boolean, string] => (v.startsWith('!') ? [true, v.slice(1)] : [false, v]);
const flip = (m: Match, neg: boolean): Match => (!neg || m === 'maybe' ? m : m === 'yes' ? 'no' : 'yes');

interface CompiledRule {
  row: Row;
  position: number;
  /** the rule's matchers, parsed once */
  tests: Array<{ test: (p: Packet) => Match; why: string }>;
  /** a plain in-interface=X / out-interface=X: rules naming another interface are skipped without a test */
  inInterface?: string;
  outInterface?: string;
  /** a plain in-interface-list=L / out-interface-list=L: rules whose list does not hold the interface are skipped too */
  inList?: string;
  outList?: string;
}

class Evaluator {
  private readonly byChain = new Map<string, CompiledRule[]>();
  private readonly dynamic = new Set<string>();
  /** list name → its members (enabled) */
  private readonly lists = new Map<string, Set<string>>();
  /** the rules of a chain that can concern a packet with these interfaces, in order (cached per interface pair) */
  private readonly candidates = new Map<string, CompiledRule[]>();

  constructor(rows: readonly Row[], members: readonly Row[], interfaces: readonly Row[]) {
    for (const i of interfaces) if (truthy(i.dynamic)) this.dynamic.add(i.name ?? '');
    for (const m of members) {
      if (truthy(m.disabled)) continue;
      const list = m.list ?? '';
      (this.lists.get(list) ?? this.lists.set(list, new Set()).get(list)!).add(m.interface ?? '');
    }
    rows.forEach((row, position) => {
      if (truthy(row.disabled)) return;
      const chain = row.chain ?? '';
      (this.byChain.get(chain) ?? this.byChain.set(chain, []).get(chain)!).push(this.compile(row, position));
    });
  }

  /** Is `iface` in interface list `list`? */
  inList(iface: string, list: string): Match {
    if (list === 'all') return 'yes';
    if (list === 'none') return 'no';
    if (list === 'dynamic') return this.dynamic.has(iface) ? 'yes' : 'no';
    if (list === 'static') return this.dynamic.has(iface) ? 'no' : 'yes';
    return this.lists.get(list)?.has(iface) ? 'yes' : 'no';
  }

  private compile(row: Row, position: number): CompiledRule {
    const rule: CompiledRule = { row, position, tests: [] };
    const add = (test: (p: Packet) => Match, why: string) => rule.tests.push({ test, why });
    for (const [key, raw] of Object.entries(row)) {
      if (NOT_MATCHERS.has(key) || raw === '') continue;
      const [neg, value] = negated(raw);
      switch (key) {
        case 'in-interface':
          if (!neg) rule.inInterface = value;
          add((p) => flip(p.inInterface === value ? 'yes' : 'no', neg), key);
          break;
        case 'out-interface':
          if (!neg) rule.outInterface = value;
          add((p) => (p.outInterface === undefined ? 'no' : flip(p.outInterface === value ? 'yes' : 'no', neg)), key);
          break;
        case 'in-interface-list':
          if (!neg) rule.inList = value;
          add((p) => flip(this.inList(p.inInterface, value), neg), key);
          break;
        case 'out-interface-list':
          if (!neg) rule.outList = value;
          add((p) => (p.outInterface === undefined ? 'no' : flip(this.inList(p.outInterface, value), neg)), key);
          break;
        case 'src-address':
        case 'dst-address': {
          const range = parseAddressMatcher(value);
          const src = key === 'src-address';
          add((p) => flip(addressMatch(range, src ? p.src : p.dst), neg), `${key}=${raw}`);
          break;
        }
        case 'protocol': {
          const want = PROTOCOLS[value] ?? value;
          add((p) => (p.protocol === undefined ? 'maybe' : flip(p.protocol === want ? 'yes' : 'no', neg)), `protocol=${raw}`);
          break;
        }
        case 'dst-port':
          add((p) => (p.dstPort === undefined ? 'maybe' : flip(portMatch(value, p.dstPort), neg)), `dst-port=${raw} (the flow is any port)`);
          break;
        case 'connection-state': {
          // a new connection's first packet is "new"
          const m = flip(value.split(',').map((x) => x.trim()).includes('new') ? 'yes' : 'no', neg);
          add(() => m, key);
          break;
        }
        case 'connection-nat-state': {
          // flatnet's flows are not port-forwarded (dstnat); srcnat is decided after the filter
          const m: Match = value === 'dstnat' ? flip('no', neg) : 'maybe';
          add(() => m, `connection-nat-state=${raw}`);
          break;
        }
        case 'ipsec-policy': {
          const m: Match = value.endsWith(',ipsec') ? 'no' : value.endsWith(',none') ? 'yes' : 'maybe';
          add(() => m, `ipsec-policy=${raw}`);
          break;
        }
        default:
          // address lists, marks, limits, layer7, time, ...: not modelled
          add(() => 'maybe', `${key}=${raw}`);
      }
    }
    // the interface tests first: they decide most rules, and cheaply
    const rank = (why: string) => (why.endsWith('interface') || why.endsWith('interface-list') ? 0 : 1);
    rule.tests.sort((a, b) => rank(a.why) - rank(b.why));
    return rule;
  }

  match(rule: CompiledRule, p: Packet): { m: Match; why?: string } {
    let result: Match = 'yes';
    let why: string | undefined;
    for (const t of rule.tests) {
      const m = t.test(p);
      if (m === 'no') return { m: 'no' };
      if (m === 'maybe' && result === 'yes') {
        result = 'maybe';
        why = t.why;
      }
    }
    return { m: result, ...(why !== undefined ? { why } : {}) };
  }

  /** Two levels, each cached: the rules the in-interface allows, then of those the ones the out-interface allows. */
  private rulesFor(chain: string, p: Packet): CompiledRule[] {
    const inKey = `${chain}\u0000${p.inInterface}`;
    let byIn = this.candidates.get(inKey);
    if (!byIn) {
      byIn = (this.byChain.get(chain) ?? []).filter((r) => (r.inInterface === undefined || r.inInterface === p.inInterface) && (r.inList === undefined || this.inList(p.inInterface, r.inList) !== 'no'));
      this.candidates.set(inKey, byIn);
    }
    const out = p.outInterface;
    const key = `${inKey}\u0000${out ?? ''}`;
    let list = this.candidates.get(key);
    if (!list) {
      list = byIn.filter((r) => (r.outInterface === undefined || r.outInterface === out) && (r.outList === undefined || (out !== undefined && this.inList(out, r.outList) !== 'no')));
      this.candidates.set(key, list);
    }
    return list;
  }

  run(p: Packet): Outcome {
    const memo = new Map<number, Outcome>();
    const active = new Set<number>();
    const chainIds = new Map<string, number>();
    const from = (chain: string, i: number): Outcome => {
      let c = chainIds.get(chain);
      if (c === undefined) chainIds.set(chain, (c = chainIds.size));
      const key = c * 1_000_000 + i;
      const known = memo.get(key);
      if (known) return known;
      if (active.has(key)) return { kind: 'undecided', why: `a loop of jumps through chain ${chain}` };
      active.add(key);
      const out = this.step(chain, i, p, from);
      active.delete(key);
      memo.set(key, out);
      return out;
    };
    const top = from(p.chain, 0);
    // a built-in chain's end accepts (RouterOS filter chains have no policy of their own)
    return top.kind === 'continue' ? { kind: 'accept' } : top;
  }

  private step(chain: string, i: number, p: Packet, from: (chain: string, i: number) => Outcome): Outcome {
    const rules = this.rulesFor(chain, p);
    // rules that cannot match are passed over here rather than one call deep each (a chain of 2,000 rules)
    let k = i;
    let matched: { m: Match; why?: string } | undefined;
    for (; k < rules.length; k++) {
      matched = this.match(rules[k]!, p);
      if (matched.m !== 'no') break;
    }
    const rule = rules[k];
    if (!rule || !matched) return { kind: 'continue' };
    const { m, why } = matched;
    const taken = this.action(rule, chain, k, from);
    if (m === 'yes') return taken;
    const notTaken = from(chain, k + 1);
    if (taken.kind === notTaken.kind && taken.kind !== 'undecided') return notTaken;
    return { kind: 'undecided', rule, why: why ?? 'a matcher flatnet does not model' };
  }

  private action(rule: CompiledRule, chain: string, i: number, from: (chain: string, i: number) => Outcome): Outcome {
    switch (rule.row.action ?? 'accept') {
      case 'accept':
      case 'fasttrack-connection':
        return { kind: 'accept', rule };
      case 'drop':
      case 'reject':
      case 'tarpit':
        return { kind: 'drop', rule };
      case 'return':
        return { kind: 'continue' };
      case 'jump': {
        const target = rule.row['jump-target'] ?? '';
        const inner = from(target, 0);
        return inner.kind === 'continue' ? from(chain, i + 1) : inner;
      }
      default:
        // passthrough, log, add-src-to-address-list, add-dst-to-address-list: the packet goes on
        return from(chain, i + 1);
    }
  }
}

interface Outcome {
  kind: 'accept' | 'drop' | 'continue' | 'undecided';
  rule?: { row: Row; position: number };
  why?: string;
}

/** A RouterOS address matcher (parsed: address, prefix or range) against the flow's side: a prefix or any address. */
function addressMatch(range: IpRange | undefined, side: IpRange | undefined): Match {
  if (!range) return 'maybe';
  if (!side) return 'maybe';
  if (contains(range, side)) return 'yes';
  if (!overlaps(range, side)) return 'no';
  return 'maybe';
}

function parseAddressMatcher(value: string): IpRange | undefined {
  const r = parseIpRange(value);
  if (r) return { first: r.first.value, last: r.last.value };
  const c = parseCidr(value);
  if (c) return c;
  const ip = parseIp(value);
  return ip ? { first: ip.value, last: ip.value } : undefined;
}

function portMatch(value: string, port: number): Match {
  for (const part of value.split(',').map((s) => s.trim())) {
    const [a, b] = part.split('-');
    const lo = Number(a);
    const hi = b === undefined ? lo : Number(b);
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) return 'maybe';
    if (port >= lo && port <= hi) return 'yes';
  }
  return 'no';
}

const decided = new WeakMap<Row, DecidingRule>();

function decidingRule(rule: { row: Row; position: number } | undefined, chain: string): DecidingRule | undefined {
  if (!rule) return undefined;
  const known = decided.get(rule.row);
  if (known) return known;
  const made = describeRule(rule, chain);
  decided.set(rule.row, made);
  return made;
}

function describeRule(rule: { row: Row; position: number }, chain: string): DecidingRule {
  const { row } = rule;
  const matchers = Object.entries(row)
    .filter(([k, v]) => !NOT_MATCHERS.has(k) && v !== '')
    .map(([k, v]) => `${k}=${v}`);
  const action = row.action === 'jump' ? `jump to ${row['jump-target']}` : (row.action ?? 'accept');
  return {
    ...(row['.id'] !== undefined ? { id: row['.id'] } : {}),
    chain: row.chain ?? chain,
    position: rule.position,
    ...(row.comment ? { comment: row.comment } : {}),
    // flatnet's, whichever spec (owner) made it
    owned: parseMark(row.comment) !== undefined,
    text: [action, ...matchers].join(' '),
  };
}

/** Evaluates every flow the spec decides for this router against its live firewall. */
export function auditRouterOS(model: Model, router: RouterOSRouter, state: RosFirewallState): FlowResult[] {
  const evaluators = { 4: new Evaluator(state.filter4, state.members, state.interfaces), 6: new Evaluator(state.filter6, state.members, state.interfaces) };
  // flatnet's VLAN interfaces are never the LAN or the internet side: one in the LAN list is its own network's
  // end of the flow (and shows in that network's flows)
  const own = new Set(router.networks.map((n) => findNetwork(model, n).names.routerosInterface));
  const listMembers = (list: string) => state.members.filter((m) => m.list === list && !truthy(m.disabled) && !own.has(m.interface ?? '')).map((m) => m.interface ?? '');
  const interfacesOf = (e: Endpoint): { names: string[]; what: string } => {
    switch (e.kind) {
      case 'network':
        return { names: [findNetwork(model, e.network).names.routerosInterface], what: e.network };
      case 'lan':
        return { names: listMembers(router.lanList), what: `interface list ${router.lanList}` };
      case 'internet':
        return { names: listMembers(router.wanList), what: `interface list ${router.wanList}` };
      case 'router':
        return { names: [], what: 'the router' };
    }
  };
  const addresses = new Map<string, IpRange | undefined>();
  const addressOf = (e: Endpoint, family: 4 | 6, gateway: boolean): IpRange | undefined => {
    if (e.kind !== 'network') return undefined;
    const key = `${e.network}/${family}/${gateway}`;
    if (addresses.has(key)) return addresses.get(key);
    const found = parseAddressOf(e.network, family, gateway);
    addresses.set(key, found);
    return found;
  };
  const parseAddressOf = (network: string, family: 4 | 6, gateway: boolean): IpRange | undefined => {
    const e = { network };
    const n = findNetwork(model, e.network);
    const text = family === 4 ? (gateway ? `${n.ipv4.gateway}/32` : n.ipv4.subnet) : n.ipv6 ? (gateway ? `${n.ipv6.gateway}/128` : n.ipv6.subnet) : undefined;
    const c: Cidr | undefined = text ? parseCidr(text) : undefined;
    return c;
  };
  // a flatnet VLAN interface in an interface list (the LAN's, say) gets every rule that names the list
  const memberOf = (iface: string) => state.members.filter((m) => m.interface === iface && !truthy(m.disabled)).map((m) => m.list ?? '');
  return specFlows(model, router).map((flow) => {
    const r = evaluateFlow(flow, evaluators[flow.family], interfacesOf, addressOf);
    // only a finding needs its cause named
    if (r.live === flow.expected) return r;
    const row = r.rule?.text ?? '';
    for (const e of [flow.from, flow.to]) {
      if (e.kind !== 'network') continue;
      const iface = findNetwork(model, e.network).names.routerosInterface;
      const named = new Set(row.split(' ').flatMap((t) => (/^(in|out)-interface-list=/.test(t) ? [t.slice(t.indexOf('=') + 1).replace(/^!/, '')] : [])));
      const list = memberOf(iface).find((l) => named.has(l));
      if (list !== undefined) return { ...r, membership: `${iface} (network ${e.network}) is a member of interface list ${list}` };
    }
    return r;
  });
}

function evaluateFlow(
  flow: Flow,
  evaluator: Evaluator,
  interfacesOf: (e: Endpoint) => { names: string[]; what: string },
  addressOf: (e: Endpoint, family: 4 | 6, gateway: boolean) => IpRange | undefined,
): FlowResult {
  const toRouter = flow.to.kind === 'router';
  const chain = toRouter ? 'input' : 'forward';
  const ins = interfacesOf(flow.from);
  const outs = toRouter ? { names: [undefined as string | undefined], what: '' } : interfacesOf(flow.to);
  for (const side of [ins, outs]) {
    if (side.names.length === 0) return { flow, live: 'undecided', undecidedBecause: `${side.what} has no members` };
  }
  // A flow of any protocol is a TCP and a UDP connection (ICMP is not a connection: the router's default
  // IPv6 config forwards ICMPv6, as RFC 4890 recommends, and that is no finding)
  const protocols: Array<{ protocol: string; dstPort?: number }> = flow.service ? [{ protocol: flow.service.protocol, ...(flow.service.port !== undefined ? { dstPort: flow.service.port } : {}) }] : [{ protocol: 'tcp' }, { protocol: 'udp' }];
  const outcomes: Outcome[] = [];
  for (const proto of protocols)
  for (const inInterface of ins.names) {
    for (const outInterface of outs.names) {
      const src = addressOf(flow.from, flow.family, false);
      const dst = toRouter ? addressOf(flow.from, flow.family, true) : addressOf(flow.to, flow.family, false);
      outcomes.push(
        evaluator.run({
          chain,
          inInterface,
          ...(outInterface !== undefined ? { outInterface } : {}),
          ...(src ? { src } : {}),
          ...(dst ? { dst } : {}),
          ...proto,
        }),
      );
    }
  }
  const first = outcomes[0]!;
  if (outcomes.some((o) => o.kind !== first.kind)) {
    // which rule splits them: the first that decides differently from the first outcome
    const other = outcomes.find((o) => o.kind !== first.kind)!;
    const split = [first.rule, other.rule].filter((r) => r !== undefined).sort((a, b) => a!.position - b!.position)[0];
    const rule = split ? decidingRule(split, split.row.chain ?? chain) : undefined;
    const because = protocols.length > 1 && outcomes.length === protocols.length ? 'the protocol (TCP and UDP connections get different verdicts)' : `which member of ${ins.names.length > 1 ? ins.what : outs.what} the connection uses`;
    return { flow, live: 'undecided', ...(rule ? { rule } : {}), undecidedBecause: because };
  }
  const rule = decidingRule(first.rule, first.rule?.row.chain ?? chain);
  if (first.kind === 'undecided') return { flow, live: 'undecided', ...(first.rule ? { rule } : {}), undecidedBecause: first.why ?? 'a matcher flatnet does not model' };
  return { flow, live: first.kind === 'accept' ? 'accept' : 'drop', ...(rule ? { rule } : {}) };
}

/**
 * The filter as it will be once flatnet's plan is applied: flatnet's rules as the spec wants them, each chain's
 * before the router's own first drop (where the plan puts them), everyone else's rules as they are. Auditing this
 * rather than the live list keeps a first plan (no flatnet rules yet) from reporting what the apply fixes.
 */
export function projectedFilter(rows: readonly Row[], desired: readonly RosObject[], isRouterDrop: (r: Row) => boolean, owned: (r: Row) => boolean = (r) => parseMark(r.comment) !== undefined && !truthy(r.dynamic)): Row[] {
  // `owned`: this spec's rules, replaced by the desired ones; other owners' rules stay as they are
  const out = rows.filter((r) => !owned(r));
  const chains = [...new Set(desired.map((o) => o.props.find(([k]) => k === 'chain')?.[1] ?? ''))];
  for (const chain of chains) {
    const rules: Row[] = desired.filter((o) => o.props.some(([k, v]) => k === 'chain' && v === chain)).map((o) => Object.fromEntries(o.props));
    const at = out.findIndex((r) => r.chain === chain && isRouterDrop(r));
    out.splice(at < 0 ? out.length : at, 0, ...rules);
  }
  return out;
}
