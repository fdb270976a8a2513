// RouterOS rollback (apply --confirm-timeout): the script with the inverse of the apply and the scheduler entry
// that runs it, against the fake RouterOS (its scheduler runs the script through the interpreter of
// test/fakes/routeros-script.ts when the tests make its clock pass). A confirmed apply leaves nothing behind;
// a confirmation that cannot connect says when the router restores itself, and when it does, every table is
// as before the apply: the same values, the same .ids for what existed, re-added rows only for removals, rules
// in their old places, and no flow both specs deny passes at any point of the restore.
import { describe, expect, it } from 'vitest';
import { modelFromText } from '../src/index.js';
import type { Model } from '../src/model.js';
import { RouterOSUnit, type RouterOSPushOptions } from '../targets/routeros/push.js';
import { clockPlus, ROLLBACK_NAME } from '../targets/routeros/rollback.js';
import { fakeRouters } from './fakes/fake-routers.js';
import { FakeRouterOS } from './fakes/routeros-fake.js';
import { deniedByAll, leaks, type NetReach } from './fakes/firewall-check.js';
import { vlanSpecText, type VlanNet } from './fakes/routeros-harness.js';

type RouterOS = Extract<Model['routers'][number], { type: 'routeros' }>;
const PASSWORD = 'rollback';
const start = fakeRouters(PASSWORD);

function unitFor(port: number, nets: Record<string, VlanNet>, options: RouterOSPushOptions = {}): RouterOSUnit {
  const model = modelFromText(vlanSpecText(port, nets));
  return new RouterOSUnit(model, model.routers[0] as RouterOS, { env: { P: PASSWORD }, ...options });
}

/** plan, then (when there are changes) `beforeApply` and apply; the apply's error message if it failed. */
async function run(port: number, nets: Record<string, VlanNet>, options: RouterOSPushOptions = {}, beforeApply?: () => void) {
  const unit = unitFor(port, nets, options);
  try {
    const plan = await unit.plan(() => {});
    let error: string | undefined;
    const progress: string[] = [];
    if (plan.changes.length > 0) {
      beforeApply?.();
      try {
        await unit.apply((m) => progress.push(m));
      } catch (err) {
        error = (err as Error).message;
      }
    }
    return { plan, error, progress, unit };
  } finally {
    unit.close();
  }
}

const MENUS = ['/interface/vlan', '/ip/address', '/ipv6/address', '/interface/bridge/vlan', '/interface/bridge/port', '/ip/pool', '/ip/dhcp-server', '/ip/dhcp-server/network', '/interface/list/member'];
const RULES = ['/ip/firewall/filter', '/ipv6/firewall/filter'];
type Tables = Record<string, Array<Record<string, string>>>;
const tables = (fake: FakeRouterOS): Tables => Object.fromEntries([...MENUS, ...RULES].map((m) => [m, fake.rows(m)]));
const withoutId = (r: Record<string, string>) => Object.fromEntries(Object.entries(r).filter(([k]) => k !== '.id'));

/**
 * `after` is `before` exactly, but for rows `before` had that were removed and re-added: same values, a new
 * id. Rules by position (their order is the filter), other menus by id. Returns the re-added rows.
 */
function expectRestored(before: Tables, after: Tables): string[] {
  const readded: string[] = [];
  for (const menu of [...MENUS, ...RULES]) {
    const a = after[menu]!;
    const b = before[menu]!;
    const beforeIds = new Set(b.map((r) => r['.id']));
    expect(a.map(withoutId), menu).toEqual(RULES.includes(menu) ? b.map(withoutId) : expect.arrayContaining(b.map(withoutId)));
    expect(a, menu).toHaveLength(b.length);
    for (const row of a) {
      const same = b.find((x) => x['.id'] === row['.id']);
      if (same) expect(row, `${menu} ${row['.id']}`).toEqual(same);
      else {
        // a re-added row: a new id, the values of a row the apply removed
        expect(beforeIds.has(row['.id']!)).toBe(false);
        readded.push(`${menu} ${row.comment ?? ''}`);
      }
    }
    if (RULES.includes(menu)) a.forEach((row, i) => beforeIds.has(row['.id']!) && expect(row['.id']).toBe(b[i]!['.id']));
  }
  return readded;
}

const A: VlanNet = { vlan: 20, third: 20, access: ['ether4'] };
const B: VlanNet = { vlan: 30, third: 30, access: ['ether2'] };
const D: VlanNet = { vlan: 50, third: 50, access: ['ether5'] };
const BEFORE = { a: A, b: B, d: D };
// a: another subnet (address set); b: VLAN 31 (interface renamed and renumbered, entry set); d goes (its
// access port back on PVID 1, interface disabled then removed); e comes, with an access port
const AFTER = { a: { ...A, third: 21 }, b: { ...B, vlan: 31 }, e: { vlan: 60, third: 60, access: ['ether3'] } };
const reach = (nets: Record<string, VlanNet>): NetReach[] => Object.keys(nets).map((name) => ({ name }));

/** The router with BEFORE applied (no rollback) and drifted so AFTER also enables, moves, sets and removes rules and enables an interface. */
async function drifted(): Promise<{ fake: FakeRouterOS; port: number }> {
  const r = await start();
  expect((await run(r.port, BEFORE, { confirmTimeoutS: 0 })).error).toBeUndefined();
  const { fake } = r;
  const client = fake.localClient();
  const f4 = '/ip/firewall/filter';
  const rules = fake.rows(f4);
  const own = (net: string) => rules.filter((x) => x.comment === `flatnet:${net}`);
  // a's input accept for DNS over UDP: disabled (apply enables it)
  await client.command([`${f4}/disable`, `=numbers=${own('a').find((x) => x.chain === 'input' && x.protocol === 'udp')!['.id']}`]);
  // a's input accept for DNS over TCP: another port (apply sets it back)
  await client.command([`${f4}/set`, `=.id=${own('a').find((x) => x.chain === 'input' && x.protocol === 'tcp')!['.id']}`, '=dst-port=5353']);
  // b's first forward accept moved to the end of the table (apply moves it back)
  await client.command([`${f4}/move`, `=numbers=${own('b').find((x) => x.chain === 'forward')!['.id']}`]);
  // a rule of b's that the spec does not have (apply removes it), between the defconf rules
  await client.command([`${f4}/add`, '=chain=forward', '=action=accept', '=in-interface=vlan30-b', '=protocol=tcp', '=dst-port=8080', '=comment=flatnet:b', `=place-before=${rules.find((x) => x.chain === 'forward')!['.id']}`]);
  // b's interface disabled (apply enables it)
  await client.command(['/interface/vlan/disable', `=numbers=${fake.rows('/interface/vlan').find((x) => x.name === 'vlan30-b')!['.id']}`]);
  return r;
}

describe('RouterOS rollback', () => {
  it('clockPlus: seconds on the router clock, over midnight and a month, in the format the router printed', () => {
    expect(clockPlus({ date: '2025-06-30', time: '23:59:30' }, 60)).toEqual({ date: '2025-07-01', time: '00:00:30' });
    expect(clockPlus({ date: 'dec/31/2024', time: '23:59:59' }, 1.2)).toEqual({ date: 'jan/01/2025', time: '00:00:01' });
    expect(clockPlus({ date: 'yesterday', time: '12:00:00' }, 60)).toBeUndefined();
  });

  it('a confirmed apply leaves neither script nor scheduler entry, and the next plan is empty', async () => {
    const r = await drifted();
    const before = r.fake.stats.connections;
    const applied = await run(r.port, AFTER, { confirmTimeoutS: 60 });
    expect(applied.error).toBeUndefined();
    expect(applied.progress.some((m) => /^installing the rollback: the router restores the state before this apply at 2025-06-01 12:01:0\d \(its clock\)/.test(m))).toBe(true);
    expect(applied.progress.at(-1)).toMatch(/confirmed$/);
    // the confirmation came over a connection of its own
    expect(r.fake.stats.connections - before).toBe(2);
    const confirm = r.fake.log.filter((e) => e.conn === r.fake.stats.connections).map((e) => e.command);
    expect(confirm).toEqual(['/system/scheduler/remove', '/system/script/remove']);
    expect(r.fake.rows('/system/script')).toEqual([]);
    expect(r.fake.rows('/system/scheduler')).toEqual([]);
    expect((await r.fake.advanceClock(3600)).length).toBe(0);
    expect((await run(r.port, AFTER, {})).plan.changes).toEqual([]);
  });

  it('the admin cut off: one line says when the router restores itself; when it does, every table is as before (ids kept, removals re-added in place), and no flow both specs deny passes on the way', async () => {
    const r = await drifted();
    const before = tables(r.fake);
    const applied = await run(r.port, AFTER, { confirmTimeoutS: 2 }, () => (r.fake.options.refuseConnections = true));
    // every kind of change was planned
    const kinds = new Set(applied.plan.changes.map((c) => `${c.action} ${c.kind}${c.props?.some((p) => p.key === 'disabled') ? ' enable/disable' : ''}`));
    for (const k of ['add /interface/vlan', 'add /ip/firewall/filter', 'change /ip/firewall/filter', 'change /ip/firewall/filter enable/disable', 'move /ip/firewall/filter', 'remove /ip/firewall/filter', 'remove /interface/vlan', 'change /interface/vlan', 'change /interface/vlan enable/disable', 'change /ip/address', 'change /interface/bridge/port', 'change /interface/bridge/vlan', 'remove /interface/bridge/vlan', 'add /interface/bridge/vlan']) {
      expect([...kinds]).toContain(k);
    }
    expect(applied.error).toMatch(/^could not reconnect to confirm within 2 s: the router restores itself at 2025-06-01 12:00:0[23] \(its clock\)$/);
    // the apply went through: the router is in the new state until the rollback runs
    expect(r.fake.rows('/interface/vlan').map((x) => x.name)).toEqual(['vlan20-a', 'vlan31-b', 'vlan60-e']);
    const [script] = r.fake.rows('/system/script');
    expect(script).toMatchObject({ name: ROLLBACK_NAME, policy: 'read,write' });
    expect(r.fake.rows('/system/scheduler')).toEqual([expect.objectContaining({ name: ROLLBACK_NAME, interval: '0s', 'on-event': `/system/script/run ${ROLLBACK_NAME}`, 'start-date': '2025-06-01' })]);

    // nothing runs before its time
    expect(await r.fake.advanceClock(1)).toEqual([]);
    const denied = deniedByAll(reach(BEFORE), reach(AFTER));
    const seen: string[] = [];
    r.fake.options.afterChange = () => seen.push(...leaks(r.fake, denied));
    const runs = await r.fake.advanceClock(10);
    r.fake.options.afterChange = undefined;
    expect(runs).toHaveLength(1);
    expect(runs[0]!.error).toBeUndefined();
    expect(seen).toEqual([]);
    const readded = expectRestored(before, tables(r.fake));
    // only what the apply removed came back as new rows: d's interface, address, entry and rules, b's extra rule
    expect(readded.filter((x) => x.startsWith('/interface/vlan') || x.startsWith('/interface/bridge/vlan') || x.startsWith('/ip/address'))).toEqual([
      '/interface/vlan flatnet:d',
      '/ip/address flatnet:d',
      '/interface/bridge/vlan flatnet:d; was-pvid ether5=1',
    ]);
    expect(readded.filter((x) => x === '/ip/firewall/filter flatnet:b')).toHaveLength(1);
    // the rollback removed itself
    expect(r.fake.rows('/system/script')).toEqual([]);
    expect(r.fake.rows('/system/scheduler')).toEqual([]);
    // and the spec applies again from there
    r.fake.options.refuseConnections = false;
    expect((await run(r.port, AFTER, { confirmTimeoutS: 0 })).error).toBeUndefined();
    expect((await run(r.port, AFTER, {})).plan.changes).toEqual([]);
  });

  it('a first apply cut off is undone to the defaults exactly', async () => {
    const { fake, port } = await start();
    const before = tables(fake);
    const applied = await run(port, { a: A, b: B }, { confirmTimeoutS: 1 }, () => (fake.options.refuseConnections = true));
    expect(applied.error).toMatch(/the router restores itself at/);
    expect(fake.rows('/interface/vlan')).toHaveLength(2);
    const runs = await fake.advanceClock(5);
    expect(runs[0]?.error).toBeUndefined();
    expect(expectRestored(before, tables(fake))).toEqual([]);
  });

  it('cut off at every change (the connection reset there, no way back in): the rollback restores the exact earlier state each time', async () => {
    // how many configuration changes the apply makes
    const probe = await drifted();
    const base = probe.fake.stats.changes;
    expect((await run(probe.port, AFTER, { confirmTimeoutS: 0 })).error).toBeUndefined();
    const total = probe.fake.stats.changes - base;
    expect(total).toBeGreaterThan(30);
    const denied = deniedByAll(reach(BEFORE), reach(AFTER));
    for (let k = 1; k <= total; k++) {
      const r = await drifted();
      const before = tables(r.fake);
      const applied = await run(r.port, AFTER, { confirmTimeoutS: 1 }, () => {
        r.fake.options.refuseConnections = true;
        r.fake.options.dropAtChange = r.fake.stats.changes + k;
      });
      expect(applied.error, `k=${k}`).toMatch(/could not reconnect to confirm within 1 s: the router restores itself at 2025-06-01 12:00:0\d \(its clock\)$/);
      r.fake.options.dropAtChange = undefined;
      const seen: string[] = [];
      r.fake.options.afterChange = () => seen.push(...leaks(r.fake, denied));
      const runs = await r.fake.advanceClock(10);
      r.fake.options.afterChange = undefined;
      expect(runs.map((x) => x.error), `k=${k}`).toEqual([undefined]);
      expect(seen, `k=${k}`).toEqual([]);
      expectRestored(before, tables(r.fake));
      await r.fake.stop();
    }
  }, 180_000);

  it('a rollback left behind is reported by the next plan: refused while pending, a warning once it cannot run', async () => {
    const { fake, port } = await start();
    await run(port, { a: A }, { confirmTimeoutS: 2 }, () => (fake.options.refuseConnections = true));
    fake.options.refuseConnections = false;
    const unit = unitFor(port, { a: A, b: B });
    try {
      await expect(unit.plan(() => {})).rejects.toMatchObject({
        problems: [{ path: ['routers', 'core'], message: expect.stringMatching(/^a rollback of an earlier apply is pending \(scheduler entry and script flatnet-rollback, "flatnet:rollback [0-9a-f]{12}"\): the router restores the state before that apply at 2025-06-01 12:00:0\d \(its clock\); plan again after that/) }],
      });
    } finally {
      unit.close();
    }
    // disabled by hand: the plan warns, and an apply with a rollback replaces it
    const entry = fake.rows('/system/scheduler')[0]!;
    await fake.localClient().command(['/system/scheduler/disable', `=numbers=${entry['.id']}`]);
    const next = await run(port, { a: A, b: B }, { confirmTimeoutS: 30 });
    expect(next.plan.warnings.some((w) => w.startsWith('a rollback of an earlier apply was left behind and will not run (its scheduler entry is disabled'))).toBe(true);
    expect(next.error).toBeUndefined();
    expect(fake.rows('/system/scheduler')).toEqual([]);
    expect(fake.rows('/system/script')).toEqual([]);
  });

  it('--confirm-timeout 0 installs nothing; a no-op plan is still one round of prints', async () => {
    const { fake, port } = await start();
    const applied = await run(port, { a: A }, { confirmTimeoutS: 0 });
    expect(applied.error).toBeUndefined();
    expect(fake.log.some((e) => e.command.startsWith('/system/script') && !e.command.endsWith('/print'))).toBe(false);
    expect(fake.log.some((e) => e.command.startsWith('/system/scheduler') && !e.command.endsWith('/print'))).toBe(false);
    fake.log.length = 0;
    const noop = await run(port, { a: A });
    expect(noop.plan.changes).toEqual([]);
    expect(fake.log.every((e) => e.command.endsWith('/print'))).toBe(true);
    expect(noop.unit.stats.prints).toBe(fake.log.length);
    // the login's round trip and the reads' one
    expect(noop.unit.stats.roundTrips).toBeLessThanOrEqual(2);
  });
});
