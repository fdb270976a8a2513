// Access ports on RouterOS through plan/apply, against the fake RouterOS API: the user's bridge port gets the
// network's VLAN as pvid (its old PVID recorded in the comment of flatnet's bridge VLAN entry first), the
// entry lists it untagged, a second apply changes nothing, and dropping the port puts its PVID back.
import { afterEach, describe, expect, it } from 'vitest';
import { modelFromText } from '../src/index.js';
import { LiveCheckError } from '../src/plan/types.js';
import { RosClient } from '../targets/routeros/api.js';
import { planRouter, type LiveState } from '../targets/routeros/diff.js';
import { FakeRouterOS } from './fakes/routeros-fake.js';
import { planRouterOS, vlanSpecText, type VlanNet } from './fakes/routeros-harness.js';

const PASSWORD = 'access';
const fakes: FakeRouterOS[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

type Net = VlanNet;
const specText = vlanSpecText;

async function start(): Promise<{ fake: FakeRouterOS; port: number }> {
  const fake = new FakeRouterOS({ password: PASSWORD });
  fake.seedDefaults();
  fakes.push(fake);
  return { fake, port: await fake.start() };
}

const run = (port: number, nets: Record<string, Net>, apply = true, trunk: string[] = []) => planRouterOS(specText(port, nets, trunk), PASSWORD, apply);

const bridgePort = (fake: FakeRouterOS, name: string) => fake.rows('/interface/bridge/port').find((r) => r.interface === name)!;
const entries = (fake: FakeRouterOS) => fake.rows('/interface/bridge/vlan').filter((r) => (r.comment ?? '').startsWith('flatnet:'));

async function setByHand(port: number, menu: string, id: string, props: Record<string, string>): Promise<void> {
  const client = await RosClient.connect({ host: '127.0.0.1', port, user: 'admin', password: PASSWORD, connectTimeoutMs: 2_000, commandTimeoutMs: 2_000 });
  try {
    await client.command([`${menu}/set`, `=.id=${id}`, ...Object.entries(props).map(([k, v]) => `=${k}=${v}`)]);
  } finally {
    client.close();
  }
}

describe('RouterOS access ports', () => {
  it('sets the pvid, lists the port untagged, records the old PVID; a second apply is empty', async () => {
    const { fake, port } = await start();
    const before = bridgePort(fake, 'ether4');
    const { changes } = await run(port, { cams: { vlan: 30, third: 30, access: ['ether4'] } });
    expect(bridgePort(fake, 'ether4')).toMatchObject({ '.id': before['.id'], pvid: '30', comment: 'defconf' });
    // the other ports stay on the LAN
    for (const other of ['ether2', 'ether3', 'ether5']) expect(bridgePort(fake, other).pvid).toBe('1');
    const entry = entries(fake);
    expect(entry).toHaveLength(1);
    expect(entry[0]).toMatchObject({ bridge: 'bridge', 'vlan-ids': '30', tagged: 'bridge', untagged: 'ether4', comment: 'flatnet:cams; was-pvid ether4=1' });
    const portChange = changes.find((c) => c.kind === '/interface/bridge/port');
    expect(portChange).toMatchObject({ action: 'change', props: [{ key: 'pvid', from: '1', to: '30' }] });
    expect((await run(port, { cams: { vlan: 30, third: 30, access: ['ether4'] } }, false)).changes).toEqual([]);
  });

  it('dropping the port puts its recorded PVID back and removes the entry it needed', async () => {
    const { fake, port } = await start();
    await run(port, { cams: { vlan: 30, third: 30, access: ['ether4', 'ether5'] } });
    expect(entries(fake)[0]!.comment).toBe('flatnet:cams; was-pvid ether4=1,ether5=1');
    // ether5 leaves: only it goes back; the record and the untagged list keep ether4
    const { changes } = await run(port, { cams: { vlan: 30, third: 30, access: ['ether4'] } });
    expect(bridgePort(fake, 'ether5').pvid).toBe('1');
    expect(bridgePort(fake, 'ether4').pvid).toBe('30');
    expect(entries(fake)[0]).toMatchObject({ untagged: 'ether4', comment: 'flatnet:cams; was-pvid ether4=1' });
    // the PVID goes back before the record that holds it is rewritten
    const kinds = changes.map((c) => c.kind);
    expect(kinds.indexOf('/interface/bridge/port')).toBeLessThan(kinds.indexOf('/interface/bridge/vlan'));
    // no access ports and no trunk ports: the entry goes too, the network stays
    await run(port, { cams: { vlan: 30, third: 30 } });
    expect(bridgePort(fake, 'ether4').pvid).toBe('1');
    expect(entries(fake)).toEqual([]);
    expect(fake.rows('/interface/vlan').filter((r) => r.comment === 'flatnet:cams')).toHaveLength(1);
    expect((await run(port, { cams: { vlan: 30, third: 30 } }, false)).changes).toEqual([]);
  });

  it('records a PVID other than 1 and puts exactly that back when the network goes', async () => {
    const { fake, port } = await start();
    await setByHand(port, '/interface/bridge/port', bridgePort(fake, 'ether3')['.id']!, { pvid: '5' });
    await run(port, { cams: { vlan: 30, third: 30, access: ['ether3'] } });
    expect(entries(fake)[0]!.comment).toBe('flatnet:cams; was-pvid ether3=5');
    expect(bridgePort(fake, 'ether3').pvid).toBe('30');
    await run(port, { iot: { vlan: 40, third: 40 } });
    expect(bridgePort(fake, 'ether3').pvid).toBe('5');
    expect(entries(fake)).toEqual([]);
  });

  it('a port changed by hand since is left as it is, with a warning', async () => {
    const { fake, port } = await start();
    await run(port, { cams: { vlan: 30, third: 30, access: ['ether4'] } });
    await setByHand(port, '/interface/bridge/port', bridgePort(fake, 'ether4')['.id']!, { pvid: '7' });
    const { changes, warnings } = await run(port, { cams: { vlan: 30, third: 30 } });
    expect(bridgePort(fake, 'ether4').pvid).toBe('7');
    expect(changes.some((c) => c.kind === '/interface/bridge/port')).toBe(false);
    expect(warnings.join('\n')).toMatch(/ether4 was an access port of cams and has pvid 7 now/);
  });

  it('a port moving to another network keeps the PVID it had before flatnet', async () => {
    const { fake, port } = await start();
    await run(port, { cams: { vlan: 30, third: 30, access: ['ether4'] }, iot: { vlan: 40, third: 40 } });
    await run(port, { cams: { vlan: 30, third: 30 }, iot: { vlan: 40, third: 40, access: ['ether4'] } });
    expect(bridgePort(fake, 'ether4').pvid).toBe('40');
    expect(entries(fake).map((e) => [e['vlan-ids'], e.comment])).toEqual([['40', 'flatnet:iot; was-pvid ether4=1']]);
    await run(port, { cams: { vlan: 30, third: 30 }, iot: { vlan: 40, third: 40 } });
    expect(bridgePort(fake, 'ether4').pvid).toBe('1');
  });

  it('with trunk ports the entry stays and only its untagged list and record change', async () => {
    const { fake, port } = await start();
    await run(port, { cams: { vlan: 30, third: 30, access: ['ether4'] } }, true, ['ether2']);
    const id = entries(fake)[0]!['.id'];
    expect(entries(fake)[0]!.tagged!.split(',').sort()).toEqual(['bridge', 'ether2']);
    expect(entries(fake)[0]).toMatchObject({ untagged: 'ether4' });
    const { changes } = await run(port, { cams: { vlan: 30, third: 30 } }, true, ['ether2']);
    const entryChange = changes.find((c) => c.kind === '/interface/bridge/vlan')!;
    expect(entryChange.action).toBe('change');
    expect(entryChange.props!.map((p) => p.key).sort()).toEqual(['comment', 'untagged']);
    expect(entries(fake)).toHaveLength(1);
    expect(entries(fake)[0]).toMatchObject({ '.id': id, comment: 'flatnet:cams' });
    expect(entries(fake)[0]!.untagged ?? '').toBe('');
    expect(bridgePort(fake, 'ether4').pvid).toBe('1');
  });

  it('an access port that is not a port of the bridge fails the live check, naming the spec path', async () => {
    const { port } = await start();
    const err = await run(port, { cams: { vlan: 30, third: 30, access: ['ether1'] } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LiveCheckError);
    expect((err as LiveCheckError).problems).toEqual([
      { path: ['networks', 'cams', 'access-ports', 0], message: expect.stringMatching(/"ether1" is not a port of bridge "bridge"/) },
    ]);
  });
});

describe('RouterOS access ports: an apply cut off or refused at any change', () => {
  // Whenever ether4 is on a flatnet VLAN, its PVID before flatnet (1) is recorded on that VLAN's entry and
  // the network's drops are in; a rerun converges.
  const invariant = (fake: FakeRouterOS): string | undefined => {
    const pvid = bridgePort(fake, 'ether4').pvid!;
    if (pvid === '1') return undefined;
    const entry = entries(fake).find((e) => e['vlan-ids'] === pvid);
    if (!entry?.comment?.includes('was-pvid ether4=1')) return `ether4 on VLAN ${pvid} without its record (entry comment: ${entry?.comment ?? 'none'})`;
    const network = entry.comment.slice('flatnet:'.length).split(';')[0];
    const drops = fake.rows('/ip/firewall/filter').filter((r) => r.comment === `flatnet:${network}` && r.action === 'drop');
    if (drops.length < 3) return `ether4 on VLAN ${pvid} with ${drops.length} of its 3 drops`;
    return undefined;
  };

  type Nets = Record<string, Net>;
  const cases: Array<[string, Nets, Nets, string]> = [
    ['adding the access port', { cams: { vlan: 30, third: 30 } }, { cams: { vlan: 30, third: 30, access: ['ether4'] } }, '30'],
    ['dropping the access port', { cams: { vlan: 30, third: 30, access: ['ether4'] } }, { cams: { vlan: 30, third: 30 } }, '1'],
    ['removing the network', { cams: { vlan: 30, third: 30, access: ['ether4'] }, keep: { vlan: 50, third: 50 } }, { keep: { vlan: 50, third: 50 } }, '1'],
    ['moving the port to another network', { cams: { vlan: 30, third: 30, access: ['ether4'] }, iot: { vlan: 40, third: 40 } }, { cams: { vlan: 30, third: 30 }, iot: { vlan: 40, third: 40, access: ['ether4'] } }, '40'],
  ];
  for (const mode of ['reset', 'trap'] as const) {
    for (const [title, before, after, finalPvid] of cases) {
      it(`${title}, ${mode === 'reset' ? 'connection reset' : 'command refused'} at each change: the invariant holds, a rerun converges`, async () => {
        let k = 1;
        for (;; k++) {
          const { fake, port } = await start();
          await run(port, before);
          const baseline = fake.stats.changes;
          const seen: string[] = [];
          fake.options.afterChange = () => {
            const broken = invariant(fake);
            if (broken) seen.push(broken);
          };
          if (mode === 'reset') fake.options.dropAtChange = baseline + k;
          else fake.options.trapAtChange = { k: baseline + k, message: 'failure: refused by the test' };
          const cut = await run(port, after).then(() => false, () => true);
          fake.options.dropAtChange = undefined;
          fake.options.trapAtChange = undefined;
          fake.options.afterChange = undefined;
          expect(seen, `cut at change ${k}`).toEqual([]);
          expect(invariant(fake), `after the cut at change ${k}`).toBeUndefined();
          await run(port, after);
          expect(invariant(fake)).toBeUndefined();
          expect(bridgePort(fake, 'ether4').pvid, `rerun after the cut at change ${k}`).toBe(finalPvid);
          expect((await run(port, after, false)).changes).toEqual([]);
          await fake.stop();
          if (!cut) break;
        }
        expect(k).toBeGreaterThan(1);
      });
    }
  }
});

describe('RouterOS access-port warnings (pure diff)', () => {
  const model = modelFromText(specText(8728, { cams: { vlan: 30, third: 30, access: ['ether4'] } }));
  const router = model.routers[0] as Extract<(typeof model.routers)[number], { type: 'routeros' }>;
  const live = (over: Partial<LiveState> = {}): LiveState => ({
    menus: {
      '/interface/vlan': [],
      '/ip/address': [],
      '/ipv6/address': [],
      '/interface/bridge/vlan': [],
      '/ip/pool': [],
      '/ip/dhcp-server': [],
      '/ip/dhcp-server/network': [],
      '/ip/firewall/filter': [],
      '/ipv6/firewall/filter': [],
    },
    interfaces: [{ name: 'bridge' }, { name: 'ether4' }],
    interfaceLists: [{ name: 'WAN' }, { name: 'LAN' }],
    bridges: [{ name: 'bridge', 'vlan-filtering': 'true' }],
    bridgePorts: [{ '.id': '*4', bridge: 'bridge', interface: 'ether4', pvid: '1', 'frame-types': 'admit-all' }],
    ...over,
  });

  it('no warning on a plain port with vlan filtering on', () => {
    expect(planRouter(model, router, live()).warnings).toEqual([]);
  });
  it('warns when the port admits only tagged frames', () => {
    const plan = planRouter(model, router, live({ bridgePorts: [{ '.id': '*4', bridge: 'bridge', interface: 'ether4', pvid: '1', 'frame-types': 'admit-only-vlan-tagged' }] }));
    expect(plan.warnings.join('\n')).toMatch(/ether4 of network cams has frame-types=admit-only-vlan-tagged/);
  });
  it("warns when the user's own entry also sends another VLAN untagged on it", () => {
    const l = live();
    l.menus['/interface/bridge/vlan'] = [{ '.id': '*9', bridge: 'bridge', 'vlan-ids': '1', untagged: 'ether3,ether4' }];
    expect(planRouter(model, router, l).warnings.join('\n')).toMatch(/ether4 of network cams is also untagged in bridge VLAN entry vlan-ids=1/);
  });
  it('a record on a bridge the spec no longer names still puts that port back', () => {
    const plain = modelFromText(specText(8728, { cams: { vlan: 30, third: 30 } }));
    const l = live({ bridgePorts: [{ '.id': '*7', bridge: 'old', interface: 'ether4', pvid: '30' }] });
    l.interfaces.push({ name: 'old' });
    l.menus['/interface/bridge/vlan'] = [{ '.id': '*9', bridge: 'old', 'vlan-ids': '30', tagged: 'old', untagged: 'ether4', comment: 'flatnet:cams; was-pvid ether4=1' }];
    const plan = planRouter(plain, plain.routers[0] as typeof router, l);
    expect(plan.ops.map((o) => o.op).filter((o) => o.op === 'set')).toEqual([{ op: 'set', menu: '/interface/bridge/port', id: '*7', props: [['pvid', '1']] }]);
  });
  it('a dynamic bridge port (wireless, CAPsMAN) is refused at its spec path, not planned', () => {
    const plan = planRouter(model, router, live({ bridgePorts: [{ '.id': '*4', bridge: 'bridge', interface: 'ether4', pvid: '1', dynamic: 'true' }] }));
    expect(plan.problems).toEqual([{ path: ['networks', 'cams', 'access-ports', 0], message: expect.stringMatching(/"ether4" is a dynamic port of bridge "bridge"/) }]);
    expect(plan.ops).toEqual([]);
  });
  it('warns when vlan filtering is off, naming access-ports', () => {
    const plan = planRouter(model, router, live({ bridges: [{ name: 'bridge', 'vlan-filtering': 'false' }] }));
    expect(plan.warnings.join('\n')).toMatch(/bridge VLAN entries for access-ports have no effect/);
  });
});
