// Firewall checks shared by the "no open window" tests: which flows a spec denies, and what the (fake)
// RouterOS router's forward chain does right now with a new connection between two interfaces.
import type { FakeRouterOS } from './routeros-fake.js';

type Row = Record<string, string>;

/** What a spec says about one network's reachability (the firewall keys of the spec). */
export interface NetReach {
  name: string;
  from?: string[];
  to?: string[];
}

/** May `a` start a connection to `b` ('lan' or a network) under this spec? */
function allows(nets: NetReach[], a: string, b: string): boolean {
  const from = nets.find((n) => n.name === a)!;
  if (b === 'lan') return (from.to ?? []).includes('lan');
  const to = nets.find((n) => n.name === b)!;
  return (from.to ?? []).includes(b) || (to.from ?? ['lan']).includes(a);
}

/**
 * Flows "a>b" to check during an import from `before` to `after`: those that every spec knowing both ends
 * denies. A network in one spec only is thus checked while its interface exists: no spec lets it through.
 */
export function deniedByAll(...specs: NetReach[][]): Set<string> {
  const names = [...new Set(specs.flatMap((s) => s.map((n) => n.name)))];
  const out = new Set<string>();
  for (const a of names) {
    for (const b of ['lan', ...names]) {
      if (a === b) continue;
      const knowing = specs.filter((s) => s.some((n) => n.name === a) && (b === 'lan' || s.some((n) => n.name === b)));
      if (knowing.length > 0 && knowing.every((s) => !allows(s, a, b))) out.add(`${a}>${b}`);
    }
  }
  return out;
}

const negatable = (want: string | undefined, test: (v: string) => boolean): boolean => {
  if (want === undefined) return true;
  return want.startsWith('!') ? !test(want.slice(1)) : test(want);
};

// Columns that say nothing about which packets a rule matches.
const NOT_MATCHERS = new Set(['.id', 'chain', 'action', 'comment', 'disabled', 'dynamic', 'invalid', 'bytes', 'packets', 'log', 'log-prefix', 'hw-offload']);
const MATCHERS = ['connection-state', 'connection-nat-state', 'in-interface', 'out-interface', 'in-interface-list', 'out-interface-list', 'protocol', 'dst-port'];

/** Forward-chain verdict for a new, not port-forwarded TCP connection (to port 445) between two interfaces. */
export function forwardVerdict(fake: FakeRouterOS, menu: '/ip/firewall/filter' | '/ipv6/firewall/filter', inIface: string, outIface: string): 'accept' | 'drop' {
  const members = fake.rows('/interface/list/member').filter((m) => m.disabled !== 'true');
  const inList = (list: string, iface: string) => members.some((m) => m.list === list && m.interface === iface);
  for (const r of fake.rows(menu)) {
    if (r.chain !== 'forward' || r.disabled === 'true' || r.invalid === 'true') continue;
    if (Object.keys(r).some((k) => !NOT_MATCHERS.has(k) && !MATCHERS.includes(k))) continue; // e.g. ipsec-policy: not this packet
    const matches =
      negatable(r['connection-state'], (v) => v.split(',').includes('new')) &&
      negatable(r['connection-nat-state'], () => false) &&
      negatable(r['in-interface'], (v) => v === inIface) &&
      negatable(r['out-interface'], (v) => v === outIface) &&
      negatable(r['in-interface-list'], (v) => inList(v, inIface)) &&
      negatable(r['out-interface-list'], (v) => inList(v, outIface)) &&
      negatable(r.protocol, (v) => v === 'tcp') &&
      negatable(r['dst-port'], (v) => v.split(',').includes('445'));
    if (!matches) continue;
    if (r.action === 'accept') return 'accept';
    if (r.action === 'drop' || r.action === 'reject') return 'drop';
    // a jump would need the other chain walked: refuse rather than guess
    if (r.action !== 'fasttrack-connection' && r.action !== 'passthrough' && r.action !== 'log') throw new Error(`checker: action ${r.action} not modelled`);
  }
  return 'accept'; // RouterOS: what no rule drops passes
}

/** Checked flows the router would let through right now, from every enabled flatnet VLAN interface. */
export function leaks(fake: FakeRouterOS, flows: Set<string>): string[] {
  // by rows, not by name: while a VLAN is renumbered the old and the new interface of a network coexist
  const vlans = fake.rows('/interface/vlan').filter((r: Row) => (r.comment ?? '').startsWith('flatnet:'));
  const net = (r: Row) => r.comment!.slice('flatnet:'.length);
  const out: string[] = [];
  for (const src of vlans) {
    if (src.disabled === 'true') continue;
    const dsts = [{ net: 'lan', iface: 'bridge' }, ...vlans.filter((d) => net(d) !== net(src)).map((d) => ({ net: net(d), iface: d.name! }))];
    for (const dst of dsts) {
      const flow = `${net(src)}>${dst.net}`;
      if (!flows.has(flow)) continue;
      for (const menu of ['/ip/firewall/filter', '/ipv6/firewall/filter'] as const) {
        if (forwardVerdict(fake, menu, src.name!, dst.iface) === 'accept') out.push(`${flow} ${menu.startsWith('/ipv6') ? 'v6' : 'v4'} (${src.name} -> ${dst.iface})`);
      }
    }
  }
  return out;
}

