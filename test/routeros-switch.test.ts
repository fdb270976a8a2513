// RouterOS switches (issue 16, plan/apply): a switch is a RouterOS bridge without layer 3. Pure diff tests
// (desired vs live rows: no-op, a moved host port, an access port, a dropped network, no layer-3 menu ever
// read or touched, live checks and warnings), then plan/apply against the fake RouterOS API server on
// 127.0.0.1: a no-op plan is one login plus five prints, apply then re-plan is empty, a reset at every
// change then a rerun converges, and an unreachable switch fails alone while the router gets its result.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runApply, runPlan, type Io } from '../src/plan/run.js';
import { planRouter, READS, readsFor, vlanIdsInclude, type LiveState, type Row } from '../targets/routeros/diff.js';
import { desiredObjects, MENU_ORDER, type RosMenu } from '../targets/routeros/index.js';
import { RouterOSUnit, routerPassword } from '../targets/routeros/push.js';
import type { FakeRouterOS } from './fakes/routeros-fake.js';
import { planDevice, startRouter, startSwitch, switchedModel, switchedSpecText, type SwitchedNet, type SwitchedSpec } from './fakes/routeros-switched.js';

const PASSWORD = 'switch-pw';
const fakes: FakeRouterOS[] = [];
let scratch = '';
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'flatnet-switch-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

const MEDIA: SwitchedNet = { vlan: 20, third: 20 };
const CAMS: SwitchedNet = { vlan: 30, third: 30, access: ['sw1:ether7'] };
const BRIDGE_MENUS = ['/interface/bridge/vlan', '/interface', '/interface/bridge', '/interface/bridge/port', '/system/resource'];
// read with them, in the same round trip: the clock and a rollback left behind (targets/routeros/rollback.ts)
const ROLLBACK_MENUS = ['/system/clock', '/system/scheduler', '/system/script'];

// ---- pure diff -----------------------------------------------------------------------------------------

function emptyMenus(): Record<RosMenu, Row[]> {
  return Object.fromEntries(MENU_ORDER.map((m) => [m, [] as Row[]])) as Record<RosMenu, Row[]>;
}

/** A switch's live state as its five reads return it: ether1..ether8 bridge ports (ids *1..*8), pvid 1. */
function switchLive(over: { entries?: Row[]; pvids?: Record<string, string>; filtering?: boolean; ports?: Row[] } = {}): LiveState {
  const menus = emptyMenus();
  menus['/interface/bridge/vlan'] = over.entries ?? [];
  const names = Array.from({ length: 8 }, (_, i) => `ether${i + 1}`);
  return {
    menus,
    interfaces: [{ '.id': '*10', name: 'bridge', type: 'bridge' }, ...names.map((name, i) => ({ '.id': `*${i + 1}`, name, type: 'ether' }))],
    interfaceLists: [],
    bridges: [{ '.id': '*10', name: 'bridge', 'vlan-filtering': over.filtering === false ? 'false' : 'true' }],
    bridgePorts: over.ports ?? names.map((name, i) => ({ '.id': `*${i + 1}`, bridge: 'bridge', interface: name, pvid: over.pvids?.[name] ?? '1', 'frame-types': 'admit-all', dynamic: 'false' })),
    version: '7.16.2 (stable)',
  };
}

/** The switch's entries as an apply leaves them (records: port → PVID before). */
function entriesInSync(spec: SwitchedSpec, records: Record<string, string> = {}): Row[] {
  const { model, sw1 } = switchedModel(spec);
  return desiredObjects(model, sw1).map((o, i) => {
    const row: Row = Object.fromEntries(o.props);
    row['.id'] = `*B${i}`;
    row.disabled = 'false';
    row.dynamic = 'false';
    const recorded = (row.untagged ?? '').split(',').filter(Boolean).map((p) => `${p}=${records[p] ?? '1'}`);
    if (recorded.length > 0) row.comment = `${row.comment}; was-pvid ${recorded.join(',')}`;
    return row;
  });
}

const SPEC: SwitchedSpec = { corePort: 8728, swPort: 8729, nets: { media: MEDIA, cams: CAMS } };

describe('RouterOS switch: pure diff', () => {
  const { model, sw1, core } = switchedModel(SPEC);
  const allowedMenus = new Set(['/interface/bridge/vlan', '/interface/bridge/port']);

  it('reads only the bridge menus, decided by capability: five prints, none of layer 3', () => {
    expect(readsFor(sw1).map((r) => r.menu)).toEqual(BRIDGE_MENUS);
    expect(readsFor(core)).toEqual(READS);
  });

  it('the model gives the switch derived tagged ports and the access port', () => {
    expect(sw1.kind).toBe('switch');
    expect(sw1.vlanPorts).toEqual({ media: { tagged: ['ether5', 'ether1'], untagged: [] }, cams: { tagged: ['ether5', 'ether1'], untagged: ['ether7'] } });
    // nothing of layer 3 is desired on a switch, and the bridge itself is not tagged
    expect(desiredObjects(model, sw1).map((o) => [o.menu, Object.fromEntries(o.props)])).toEqual([
      ['/interface/bridge/vlan', { bridge: 'bridge', 'vlan-ids': '20', tagged: 'ether5,ether1', comment: 'flatnet:media' }],
      ['/interface/bridge/vlan', { bridge: 'bridge', 'vlan-ids': '30', tagged: 'ether5,ether1', untagged: 'ether7', comment: 'flatnet:cams' }],
    ]);
  });

  it('no-op: entries, records and PVIDs as the spec wants → no changes, no operations', () => {
    const plan = planRouter(model, sw1, switchLive({ entries: entriesInSync(SPEC), pvids: { ether7: '30' } }));
    expect(plan.problems).toEqual([]);
    expect(plan.warnings).toEqual([]);
    expect(plan.changes).toEqual([]);
    expect(plan.ops).toEqual([]);
  });

  it('from scratch: two entries, the access port recorded in its entry first, its pvid set after', () => {
    const plan = planRouter(model, sw1, switchLive());
    expect(plan.ops.map((o) => [o.level, o.op.op, o.op.menu, 'props' in o.op ? Object.fromEntries(o.op.props) : {}])).toEqual([
      [2, 'add', '/interface/bridge/vlan', { bridge: 'bridge', 'vlan-ids': '20', tagged: 'ether5,ether1', comment: 'flatnet:media' }],
      [2, 'add', '/interface/bridge/vlan', { bridge: 'bridge', 'vlan-ids': '30', tagged: 'ether5,ether1', untagged: 'ether7', comment: 'flatnet:cams; was-pvid ether7=1' }],
      [4, 'set', '/interface/bridge/port', { pvid: '30' }],
    ]);
    expect(plan.ops[2]!.op).toMatchObject({ id: '*7' });
    expect(plan.ops.every((o) => allowedMenus.has(o.op.menu))).toBe(true);
  });

  it('the host moved to another switch port: one set of tagged on each entry, nothing else', () => {
    const moved = { ...SPEC, hostPort: 'ether4' };
    const { model: m2, sw1: s2 } = switchedModel(moved);
    const plan = planRouter(m2, s2, switchLive({ entries: entriesInSync(SPEC), pvids: { ether7: '30' } }));
    expect(plan.ops.map((o) => o.op)).toEqual([
      { op: 'set', menu: '/interface/bridge/vlan', id: '*B0', props: [['tagged', 'ether4,ether1']] },
      { op: 'set', menu: '/interface/bridge/vlan', id: '*B1', props: [['tagged', 'ether4,ether1']] },
    ]);
    expect(plan.changes.map((c) => [c.action, c.network, c.props])).toEqual([
      ['change', 'media', [{ key: 'tagged', from: 'ether5,ether1', to: 'ether4,ether1' }]],
      ['change', 'cams', [{ key: 'tagged', from: 'ether5,ether1', to: 'ether4,ether1' }]],
    ]);
  });

  it('a new access port: its PVID recorded in the entry (step 2), then its pvid set (step 4)', () => {
    const more = { ...SPEC, nets: { media: MEDIA, cams: { ...CAMS, access: ['sw1:ether7', 'sw1:ether8'] } } };
    const { model: m2, sw1: s2 } = switchedModel(more);
    const plan = planRouter(m2, s2, switchLive({ entries: entriesInSync(SPEC), pvids: { ether7: '30', ether8: '99' } }));
    expect(plan.ops.map((o) => [o.level, o.op])).toEqual([
      [2, { op: 'set', menu: '/interface/bridge/vlan', id: '*B1', props: [['untagged', 'ether7,ether8'], ['comment', 'flatnet:cams; was-pvid ether7=1,ether8=99']] }],
      [4, { op: 'set', menu: '/interface/bridge/port', id: '*8', props: [['pvid', '30']] }],
    ]);
  });

  it("a network the spec dropped: its entry is removed, its access port's PVID put back first", () => {
    const fewer = { ...SPEC, nets: { media: MEDIA } };
    const { model: m2, sw1: s2 } = switchedModel(fewer);
    const plan = planRouter(m2, s2, switchLive({ entries: entriesInSync(SPEC, { ether7: '5' }), pvids: { ether7: '30' } }));
    expect(plan.ops.map((o) => [o.level, o.op])).toEqual([
      [1, { op: 'set', menu: '/interface/bridge/port', id: '*7', props: [['pvid', '5']] }],
      [5, { op: 'remove', menu: '/interface/bridge/vlan', target: { id: '*B1' } }],
    ]);
    expect(plan.changes.filter((c) => c.action === 'remove')).toEqual([{ action: 'remove', kind: '/interface/bridge/vlan', name: 'vlan-ids 30 on bridge', network: 'cams' }]);
  });

  it('never sets the PVID of the uplink or the host port, and never lists them untagged', () => {
    // whatever the live state, only access ports get a pvid, and the uplink/host port are only ever tagged
    for (const pvids of [{}, { ether1: '20', ether5: '30' }, { ether7: '30' }]) {
      const plan = planRouter(model, sw1, switchLive({ pvids }));
      for (const o of plan.ops) {
        if (o.op.menu === '/interface/bridge/port') expect(o.op).toMatchObject({ op: 'set', id: '*7' });
        if (o.op.op !== 'remove' && o.op.op !== 'enable' && o.op.op !== 'disable' && o.op.op !== 'move') {
          const untagged = o.op.props.find(([k]) => k === 'untagged')?.[1] ?? '';
          expect(untagged.split(',')).not.toContain('ether1');
          expect(untagged.split(',')).not.toContain('ether5');
        }
      }
    }
  });

  it('runs no layer-3 check: a live address on the gateway or a DHCP pool over the containers is not the switch’s business', () => {
    const l = switchLive({ entries: entriesInSync(SPEC), pvids: { ether7: '30' } });
    l.menus['/ip/address'] = [{ '.id': '*A', address: '10.20.0.1/24', interface: 'bridge' }];
    l.menus['/ip/pool'] = [{ '.id': '*P', name: 'p', ranges: '10.20.0.2-10.20.0.254' }];
    l.menus['/ip/dhcp-server'] = [{ '.id': '*D', name: 'd', interface: 'bridge', 'address-pool': 'p' }];
    expect(planRouter(model, sw1, l).problems).toEqual([]);
    // the same rows on the router are problems
    const onRouter = planRouter(model, core, { ...l, interfaces: [...l.interfaces, { name: 'ether2' }], interfaceLists: [{ name: 'WAN' }, { name: 'LAN' }], bridgePorts: [...l.bridgePorts, { '.id': '*2b', bridge: 'bridge', interface: 'ether2' }] });
    expect(onRouter.problems.map((p) => p.path.join('.'))).toContain('networks.media.gateway');
  });

  it('live checks name the switch and the spec path where each port is named', () => {
    const ports = switchLive().bridgePorts.filter((r) => r.interface !== 'ether1' && r.interface !== 'ether5' && r.interface !== 'ether7');
    const plan = planRouter(model, sw1, switchLive({ ports }));
    expect(plan.problems).toEqual([
      { path: ['hosts', 'nas', 'connected-to'], message: expect.stringMatching(/^"ether5" is not a port of bridge "bridge" on the switch \(\/interface\/bridge\/port\): a port that carries a VLAN must be in the bridge; the bridge bridge has ether\d/) },
      { path: ['switches', 'sw1', 'uplink'], message: expect.stringMatching(/^"ether1" is not a port of bridge "bridge" on the switch/) },
      { path: ['networks', 'cams', 'access-ports', 0], message: expect.stringMatching(/^"ether7" is not a port of bridge "bridge" on the switch/) },
    ]);
    const noBridge = switchLive();
    noBridge.interfaces = noBridge.interfaces.filter((r) => r.name !== 'bridge');
    expect(planRouter(model, sw1, noBridge).problems[0]).toEqual({ path: ['switches', 'sw1', 'bridge'], message: 'bridge "bridge" not found on the switch' });
  });

  it('vlan-filtering=no: a warning that names the switch and says what it means', () => {
    const plan = planRouter(model, sw1, switchLive({ filtering: false }));
    expect(plan.warnings).toHaveLength(1);
    expect(plan.warnings[0]).toMatch(/^bridge bridge of switch sw1 has vlan-filtering=no: the bridge VLAN entries for the ports of the path \(connected-to, uplinks\) and access-ports have no effect until it is on/);
    expect(plan.warnings[0]).toMatch(/tagged frames of every VLAN pass on every port of the bridge, and PVIDs do nothing/);
  });

  it('vlan-filtering=no warns on a router whose only VLAN ports are derived (no trunk-ports, no access ports)', () => {
    const l = switchLive({ filtering: false });
    l.interfaceLists = [{ name: 'WAN' }, { name: 'LAN' }];
    const plan = planRouter(model, core, l);
    expect(core.trunkPorts).toEqual([]);
    expect(plan.warnings.join('\n')).toMatch(/bridge bridge of router core has vlan-filtering=no: the bridge VLAN entries for the ports of the path \(connected-to, uplinks\) have no effect/);
  });

  it("warns when the user's own entry has a port flatnet tags untagged in the same VLAN, not for another VLAN", () => {
    const mine = (vlanIds: string): Row => ({ '.id': '*U', bridge: 'bridge', 'vlan-ids': vlanIds, tagged: 'bridge', untagged: 'ether1', dynamic: 'false' });
    for (const ids of ['20', '10,20', '15-25']) {
      const l = switchLive({ entries: [...entriesInSync(SPEC), mine(ids)], pvids: { ether7: '30' } });
      // (and, as the entry holds VLAN 20 beside flatnet's own, that it does)
      expect(planRouter(model, sw1, l).warnings).toEqual([
        expect.stringMatching(new RegExp(`^bridge VLAN entry \\*U \\(vlan-ids=${ids}, not flatnet's\\) holds VLAN 20 of media beside flatnet's own entry`)),
        expect.stringMatching(new RegExp(`^ether1 carries media \\(VLAN 20\\) tagged, but bridge VLAN entry vlan-ids=${ids} \\(not flatnet's\\) has it untagged in that VLAN`)),
      ]);
    }
    const other = switchLive({ entries: [...entriesInSync(SPEC), mine('1')], pvids: { ether7: '30' } });
    expect(planRouter(model, sw1, other).warnings).toEqual([]);
  });

  it('warns when a port flatnet tags has the VLAN as its pvid (its untagged LAN would join the network)', () => {
    const plan = planRouter(model, sw1, switchLive({ entries: entriesInSync(SPEC), pvids: { ether7: '30', ether1: '20' } }));
    expect(plan.warnings).toEqual([expect.stringMatching(/^ether1 carries media \(VLAN 20\) tagged, but its pvid is 20/)]);
    expect(plan.ops).toEqual([]);
  });

  it('vlan-ids lists and ranges', () => {
    expect(vlanIdsInclude('20', 20)).toBe(true);
    expect(vlanIdsInclude('10,20-30', 25)).toBe(true);
    expect(vlanIdsInclude('10,20-30', 31)).toBe(false);
    expect(vlanIdsInclude('', 1)).toBe(false);
  });

  it('errors name switches.<name>; the unit is a switch', () => {
    expect(() => routerPassword(sw1, {})).toThrow(/^switches\.sw1\.password-env: environment variable P is not set/);
    expect(() => routerPassword({ ...sw1, passwordEnv: undefined }, {})).toThrow(/^switches\.sw1: no password-env or password-file/);
    expect(() => routerPassword({ ...core, passwordEnv: undefined }, {})).toThrow(/^routers\.core: no password-env/);
    expect(new RouterOSUnit(model, sw1).ref).toMatchObject({ kind: 'switch', name: 'sw1', type: 'routeros' });
    expect(new RouterOSUnit(model, core).ref).toMatchObject({ kind: 'router', name: 'core' });
  });
});

// ---- against the fake RouterOS API server -----------------------------------------------------------------

async function devices(): Promise<{ core: FakeRouterOS; sw: FakeRouterOS; spec: (nets: Record<string, SwitchedNet>, hostPort?: string) => SwitchedSpec }> {
  const r = await startRouter({ password: PASSWORD });
  const s = await startSwitch({ password: PASSWORD });
  fakes.push(r.fake, s.fake);
  return { core: r.fake, sw: s.fake, spec: (nets, hostPort) => ({ corePort: r.port, swPort: s.port, nets, ...(hostPort ? { hostPort } : {}) }) };
}

/** The switch's bridge state without ids (a cut apply and its rerun may add objects in another order). */
function bridgeState(fake: FakeRouterOS): unknown {
  const strip = (r: Record<string, string>) => Object.fromEntries(Object.entries(r).filter(([k]) => k !== '.id'));
  const byKey = (a: Record<string, string>, b: Record<string, string>) => JSON.stringify(a).localeCompare(JSON.stringify(b));
  return {
    vlans: fake.rows('/interface/bridge/vlan').map(strip).sort(byKey),
    ports: fake.rows('/interface/bridge/port').map(strip),
  };
}

const port = (fake: FakeRouterOS, name: string) => fake.rows('/interface/bridge/port').find((p) => p.interface === name)!;

describe('RouterOS switch: plan/apply against the fake API server', () => {
  it('apply, then a no-op plan is one login plus one print per menu it reads (five, and the rollback\'s three); the uplink and host port keep their PVID', async () => {
    const d = await devices();
    const { model, sw1 } = switchedModel(d.spec({ media: MEDIA, cams: CAMS }));
    const first = await planDevice(model, sw1, PASSWORD);
    expect(first.changes.map((c) => `${c.action} ${c.kind} ${c.network}`)).toEqual(['add /interface/bridge/vlan media', 'add /interface/bridge/vlan cams', 'change /interface/bridge/port cams']);
    expect(d.sw.rows('/interface/bridge/vlan').map((e) => [e['vlan-ids'], e.tagged, e.untagged ?? '', e.comment])).toEqual([
      ['20', 'ether1,ether5', '', 'flatnet:media'],
      ['30', 'ether1,ether5', 'ether7', 'flatnet:cams; was-pvid ether7=1'],
    ]);
    expect([port(d.sw, 'ether1').pvid, port(d.sw, 'ether5').pvid, port(d.sw, 'ether7').pvid]).toEqual(['1', '1', '30']);
    // only bridge menus were ever named on the switch
    expect(new Set(d.sw.log.map((e) => e.command.slice(0, e.command.lastIndexOf('/'))))).toEqual(new Set([...BRIDGE_MENUS, ...ROLLBACK_MENUS]));

    d.sw.log.length = 0;
    const sentencesBefore = d.sw.stats.sentencesIn;
    const connectionsBefore = d.sw.stats.connections;
    const noop = await planDevice(model, sw1, PASSWORD, false);
    expect(noop.changes).toEqual([]);
    expect(d.sw.stats.connections - connectionsBefore).toBe(1);
    // the login and the prints are the only sentences the switch received
    expect(d.sw.stats.sentencesIn - sentencesBefore).toBe(1 + BRIDGE_MENUS.length + ROLLBACK_MENUS.length);
    expect(d.sw.log.map((e) => e.command).sort()).toEqual([...BRIDGE_MENUS, ...ROLLBACK_MENUS].map((m) => `${m}/print`).sort());
    expect(noop.unit.stats.prints).toBe(8);
    // sent at once: one round trip for the reads (after the login's)
    expect(noop.unit.stats.roundTrips).toBeLessThanOrEqual(2);
  });

  it('the router and the switch of one path: each converges, and a re-plan of both is empty', async () => {
    const d = await devices();
    const { model, core, sw1 } = switchedModel(d.spec({ media: MEDIA, cams: CAMS }));
    await planDevice(model, core, PASSWORD);
    await planDevice(model, sw1, PASSWORD);
    // the router's entry tags the bridge and its derived port toward the switch
    expect(d.core.rows('/interface/bridge/vlan').map((e) => [e['vlan-ids'], e.tagged])).toEqual([
      ['20', 'ether2,bridge'],
      ['30', 'ether2,bridge'],
    ]);
    expect((await planDevice(model, core, PASSWORD, false)).changes).toEqual([]);
    expect((await planDevice(model, sw1, PASSWORD, false)).changes).toEqual([]);
  });

  it('a connection reset at every change of an apply, then a rerun: converges to the state of an uncut apply', async () => {
    const before: Record<string, SwitchedNet> = { media: MEDIA, cams: CAMS, iot: { vlan: 40, third: 40, access: ['sw1:ether6'] } };
    const after: Record<string, SwitchedNet> = { media: MEDIA, cams: { ...CAMS, access: ['sw1:ether7', 'sw1:ether8'] } };
    // reference: the same two applies, uncut
    const ref = await devices();
    const m0 = switchedModel(ref.spec(before));
    await planDevice(m0.model, m0.sw1, PASSWORD);
    const afterFirst = ref.sw.stats.changes;
    const m1 = switchedModel(ref.spec(after, 'ether4'));
    const planned = await planDevice(m1.model, m1.sw1, PASSWORD);
    const secondOps = ref.sw.stats.changes - afterFirst;
    // iot's port back (pvid 1), both entries' tagged (the host moved), cams' untagged + record, ether8's pvid, iot's entry
    expect(planned.changes.length).toBeGreaterThanOrEqual(5);
    const expected = bridgeState(ref.sw);
    expect(port(ref.sw, 'ether6').pvid).toBe('1');
    expect(port(ref.sw, 'ether8').pvid).toBe('30');

    let cuts = 0;
    for (let k = 1; ; k++) {
      const d = await devices();
      const a = switchedModel(d.spec(before));
      await planDevice(a.model, a.sw1, PASSWORD);
      const firstChanges = d.sw.stats.changes;
      const b = switchedModel(d.spec(after, 'ether4'));
      // invariant at every change: the uplink and the host ports are never untagged in a flatnet entry, their PVID never moves
      // (recorded, not thrown: the fake would turn a throw into a dropped connection)
      const violations: string[] = [];
      d.sw.options.afterChange = ({ command }) => {
        for (const p of ['ether1', 'ether4', 'ether5']) if (port(d.sw, p).pvid !== '1') violations.push(`${command}: ${p} pvid ${port(d.sw, p).pvid}`);
        for (const e of d.sw.rows('/interface/bridge/vlan')) if ((e.untagged ?? '').split(',').some((x) => ['ether1', 'ether4', 'ether5'].includes(x))) violations.push(`${command}: untagged ${e.untagged}`);
      };
      d.sw.options.dropAtChange = firstChanges + k;
      const cut = await planDevice(b.model, b.sw1, PASSWORD).then(
        () => false,
        () => true,
      );
      d.sw.options.dropAtChange = undefined;
      if (!cut) {
        // k went past the last change: the apply was whole
        await Promise.all(fakes.splice(fakes.indexOf(d.core), 2).map((f) => f.stop()));
        break;
      }
      cuts++;
      await planDevice(b.model, b.sw1, PASSWORD);
      d.sw.options.afterChange = undefined;
      expect((await planDevice(b.model, b.sw1, PASSWORD, false)).changes, `cut at change ${k}`).toEqual([]);
      expect(bridgeState(d.sw), `cut at change ${k}`).toEqual(expected);
      expect(violations, `cut at change ${k}`).toEqual([]);
      await Promise.all(fakes.splice(fakes.indexOf(d.core), 2).map((f) => f.stop()));
    }
    // every change of the apply was cut once
    expect(cuts).toBe(secondOps);
  }, 60_000);

  it('an unreachable switch fails alone: the router in the same run is applied, the exit code is the worst', async () => {
    const r = await startRouter({ password: PASSWORD });
    fakes.push(r.fake);
    // a port nothing listens on
    const gone = await startSwitch({ password: PASSWORD });
    await gone.fake.stop();
    const file = join(scratch, 'unreachable.yaml');
    writeFileSync(file, switchedSpecText({ corePort: r.port, swPort: gone.port, nets: { media: MEDIA, cams: CAMS } }));
    const io = capture();
    expect(await runApply(file, { yes: true, timeout: 5 }, io.io)).toBe(1);
    const out = io.out();
    expect(out).toMatch(/router core/);
    expect(out).toMatch(/FAILED switch sw1/);
    expect(out).not.toMatch(/FAILED router core/);
    // the router got its changes all the same
    expect(r.fake.rows('/interface/bridge/vlan').map((e) => e['vlan-ids'])).toEqual(['20', '30']);
    expect(r.fake.rows('/interface/vlan').map((e) => e.name)).toEqual(['vlan20-media', 'vlan30-cams']);
    // and a plan of the router alone is in sync
    const plan = capture();
    expect(await runPlan(file, { routers: ['core'], detailedExitcode: true }, plan.io)).toBe(0);
  });
});

function capture(): { io: Io; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = '';
  let e = '';
  stdout.on('data', (d) => (o += String(d)));
  stderr.on('data', (d) => (e += String(d)));
  return { io: { stdin: new PassThrough(), stdout, stderr, env: { P: PASSWORD, NO_COLOR: '1' } }, out: () => o, err: () => e };
}
