// "No open window": after every single change an apply makes, the forward chain of the (fake) router is
// evaluated for a new connection from each enabled flatnet VLAN to the LAN and to the other flatnet VLANs
// that neither the old nor the new spec lets it reach. None may be accepted at any moment.
import { afterEach, describe, expect, it } from 'vitest';
import { modelFromText } from '../src/index.js';
import { RouterOSUnit } from '../targets/routeros/push.js';
import { RosClient } from '../targets/routeros/api.js';
import { FakeRouterOS } from './fakes/routeros-fake.js';

type Row = Record<string, string>;
const PASSWORD = 'window';
const fakes: FakeRouterOS[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

interface Net {
  name: string;
  vlan: number;
  third: number;
  from?: string[];
  to?: string[];
  internet?: boolean;
  allowInput?: string[];
}

function specText(port: number, nets: Net[]): string {
  const lines = ['version: 1', 'routers:', '  core:', '    type: routeros', '    address: 127.0.0.1', `    port: ${port}`, '    password-env: P', 'hosts:', '  nas:', '    parent: eth0', 'networks:'];
  for (const n of nets) {
    lines.push(
      `  ${n.name}:`,
      '    router: core',
      '    host: nas',
      `    vlan: ${n.vlan}`,
      `    subnet: 10.${n.third}.0.0/24`,
      `    gateway: 10.${n.third}.0.1`,
      `    container-range: 10.${n.third}.0.64/26`,
      '    firewall:',
      `      internet: ${n.internet ?? true}`,
      `      from: [${(n.from ?? ['lan']).join(', ')}]`,
      `      to: [${(n.to ?? []).join(', ')}]`,
      `      allow-input: [${(n.allowInput ?? ['dns']).join(', ')}]`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Flows (from network → 'lan' or network) a spec denies. */
function denied(nets: Net[]): Set<string> {
  const out = new Set<string>();
  for (const a of nets) {
    if (!(a.to ?? []).includes('lan')) out.add(`${a.name}>lan`);
    for (const b of nets) {
      if (a === b) continue;
      const allowed = (a.to ?? []).includes(b.name) || (b.from ?? ['lan']).includes(a.name);
      if (!allowed) out.add(`${a.name}>${b.name}`);
    }
  }
  return out;
}

const negatable = (want: string | undefined, test: (v: string) => boolean): boolean => {
  if (want === undefined) return true;
  return want.startsWith('!') ? !test(want.slice(1)) : test(want);
};

/** RouterOS forward-chain verdict for a new, non-dstnat TCP connection between two interfaces. */
function forwardVerdict(fake: FakeRouterOS, inIface: string, outIface: string): 'accept' | 'drop' {
  const members = fake.rows('/interface/list/member');
  const inList = (list: string, iface: string) => members.some((m) => m.list === list && m.interface === iface);
  const IGNORED = new Set(['.id', 'chain', 'action', 'comment', 'disabled', 'dynamic', 'invalid', 'bytes', 'packets', 'log', 'log-prefix', 'hw-offload']);
  for (const r of fake.rows('/ip/firewall/filter')) {
    if (r.chain !== 'forward' || r.disabled === 'true' || r.invalid === 'true') continue;
    const known = ['connection-state', 'connection-nat-state', 'in-interface', 'out-interface', 'in-interface-list', 'out-interface-list', 'protocol', 'dst-port'];
    if (Object.keys(r).some((k) => !IGNORED.has(k) && !known.includes(k))) continue; // e.g. ipsec-policy: not this packet
    const matches =
      negatable(r['connection-state'], (v) => v.split(',').includes('new')) &&
      negatable(r['connection-nat-state'], () => false) && // the packet is not port-forwarded
      negatable(r['in-interface'], (v) => v === inIface) &&
      negatable(r['out-interface'], (v) => v === outIface) &&
      negatable(r['in-interface-list'], (v) => inList(v, inIface)) &&
      negatable(r['out-interface-list'], (v) => inList(v, outIface)) &&
      negatable(r.protocol, (v) => v === 'tcp') &&
      negatable(r['dst-port'], (v) => v.split(',').includes('445'));
    if (!matches) continue;
    if (r.action === 'accept') return 'accept';
    if (r.action === 'drop' || r.action === 'reject') return 'drop';
  }
  return 'accept'; // RouterOS: what no rule drops passes
}

/** Denied flows that would pass right now, among those from an enabled flatnet VLAN. */
function leaks(fake: FakeRouterOS, flows: Set<string>): string[] {
  const vlans = fake.rows('/interface/vlan').filter((r: Row) => (r.comment ?? '').startsWith('flatnet:'));
  const ifaceOf = (net: string) => vlans.find((r) => r.comment === `flatnet:${net}`);
  const out: string[] = [];
  for (const flow of flows) {
    const [from, to] = flow.split('>') as [string, string];
    const src = ifaceOf(from);
    if (!src || src.disabled === 'true') continue;
    const dst = to === 'lan' ? 'bridge' : ifaceOf(to)?.name;
    if (!dst) continue;
    if (forwardVerdict(fake, src.name!, dst) === 'accept') out.push(`${flow} (${src.name} -> ${dst})`);
  }
  return out;
}

async function applySpec(fake: FakeRouterOS, port: number, nets: Net[]): Promise<number> {
  const model = modelFromText(specText(port, nets));
  const unit = new RouterOSUnit(model, model.routers[0] as Extract<(typeof model.routers)[number], { type: 'routeros' }>, { env: { P: PASSWORD } });
  try {
    const plan = await unit.plan(() => {});
    if (plan.changes.length > 0) await unit.apply(() => {});
    return plan.changes.length;
  } finally {
    unit.close();
  }
}

async function start(): Promise<{ fake: FakeRouterOS; port: number }> {
  const fake = new FakeRouterOS({ password: PASSWORD });
  fake.seedDefaults();
  fakes.push(fake);
  return { fake, port: await fake.start() };
}

describe('RouterOS apply never opens a window', () => {
  it('the checker sees a leak when a flatnet drop is missing (it can fail)', async () => {
    const { fake, port } = await start();
    const nets: Net[] = [{ name: 'cams', vlan: 30, third: 30 }];
    await applySpec(fake, port, nets);
    expect(leaks(fake, denied(nets))).toEqual([]);
    const c = await RosClient.connect({ host: '127.0.0.1', port, user: 'admin', password: PASSWORD });
    const drops = fake.rows('/ip/firewall/filter').filter((r) => r.comment === 'flatnet:cams' && r.chain === 'forward' && r.action === 'drop');
    await c.command(['/ip/firewall/filter/remove', `=numbers=${drops.map((d) => d['.id']).join(',')}`]);
    c.close();
    expect(leaks(fake, denied(nets))).toEqual(['cams>lan (vlan30-cams -> bridge)']);
  });

  it('fresh apply, firewall changes, a renamed VLAN and a removed network: no change leaves a denied flow open', async () => {
    const { fake, port } = await start();
    const v1: Net[] = [
      { name: 'cams', vlan: 30, third: 30 },
      { name: 'iot', vlan: 40, third: 40, internet: false },
      { name: 'media', vlan: 50, third: 50, to: ['cams'] },
    ];
    const v2: Net[] = [
      { name: 'cams', vlan: 30, third: 30, internet: false, from: ['lan', 'iot'], allowInput: ['dns', 'ntp'] },
      { name: 'iot', vlan: 41, third: 41, internet: true },
      { name: 'media', vlan: 50, third: 50, to: [] },
    ];
    const v3: Net[] = [{ name: 'cams', vlan: 30, third: 30, internet: false, allowInput: ['dns', 'ntp'] }];
    const steps: Array<[Net[], Net[]]> = [
      [[], v1],
      [v1, v2],
      [v2, v3],
      [v3, v1],
    ];
    for (const [before, after] of steps) {
      const both = new Set([...denied(after)].filter((f) => before.length === 0 || denied(before).has(f)));
      // flows of networks only in the old spec are checked too while they exist
      for (const f of denied(before)) if (!after.some((n) => f.startsWith(`${n.name}>`))) both.add(f);
      const seen: string[] = [];
      let changes = 0;
      fake.options.afterChange = (entry) => {
        changes++;
        for (const l of leaks(fake, both)) seen.push(`after ${entry.command} ${entry.words.join(' ')}: ${l}`);
      };
      const planned = await applySpec(fake, port, after);
      fake.options.afterChange = undefined;
      expect(planned).toBeGreaterThan(0);
      expect(changes).toBeGreaterThan(0);
      expect(seen).toEqual([]);
      expect(leaks(fake, denied(after))).toEqual([]);
      expect(await applySpec(fake, port, after)).toBe(0);
    }
  });
});
