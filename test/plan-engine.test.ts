// The shared plan engine: bounded concurrency, one result per unit, exit codes, rendering, confirmation.
import { PassThrough } from 'node:stream';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyUnits, exitCode, mapBounded, planUnits } from '../src/plan/engine.js';
import { planJson, renderPlan, summaryLine, useColor } from '../src/plan/render.js';
import { runApply, runPlan, type Io } from '../src/plan/run.js';
import { LiveCheckError, PartialApplyError, type Change, type PushUnit, type UnitPlan } from '../src/plan/types.js';
import { normalizeValue, poolRanges } from '../targets/routeros/diff.js';
import { FakeRouterOS } from './fakes/routeros-fake.js';

const scratch = mkdtempSync(join(tmpdir(), 'flatnet-engine-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const change = (action: Change['action'], name: string): Change => ({ action, kind: '/ip/address', name });

function unit(name: string, behaviour: { changes?: Change[]; planError?: Error; applyError?: Error; delayMs?: number }, log: string[] = []): PushUnit {
  return {
    ref: { kind: 'router', name, type: 'test', endpoint: 'nowhere' },
    async plan(): Promise<UnitPlan> {
      log.push(`plan ${name} start`);
      await new Promise((r) => setTimeout(r, behaviour.delayMs ?? 0));
      log.push(`plan ${name} end`);
      if (behaviour.planError) throw behaviour.planError;
      return { unit: this.ref, changes: behaviour.changes ?? [], facts: [], warnings: [] };
    },
    async apply() {
      if (behaviour.applyError) throw behaviour.applyError;
      return { applied: behaviour.changes ?? [] };
    },
    close() {
      log.push(`close ${name}`);
    },
  };
}

describe('plan engine', () => {
  it('mapBounded never runs more than the limit at once and keeps order', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapBounded([5, 1, 4, 2, 3, 0], 2, async (ms, i) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, ms));
      running--;
      return i;
    });
    expect(out).toEqual([0, 1, 2, 3, 4, 5]);
    expect(peak).toBe(2);
  });

  it('one result per unit; a failing unit does not hide the others; exit codes', async () => {
    const units = [
      unit('a', { changes: [change('add', 'x')] }),
      unit('b', { planError: new Error('cannot connect to b: connection refused\nsecond line') }),
      unit('c', {}),
      unit('d', { planError: new LiveCheckError([{ path: ['routers', 'd', 'bridge'], message: 'bridge "x" not found' }]) }),
    ];
    const results = await planUnits(units);
    expect(results.map((r) => r.status)).toEqual(['changes', 'failed', 'no-changes', 'failed']);
    expect(results[1]!.error).toBe('cannot connect to b: connection refused');
    expect(results[3]!.problems).toHaveLength(1);
    expect(exitCode(results, true)).toBe(1);
    expect(exitCode([results[0]!, results[2]!], true)).toBe(2);
    expect(exitCode([results[0]!, results[2]!], false)).toBe(0);
    expect(exitCode([results[2]!], true)).toBe(0);

    const applied = await applyUnits(units, results);
    expect(applied.map((r) => r.status)).toEqual(['applied', 'failed', 'no-changes', 'failed']);
    expect(exitCode(applied, false)).toBe(1);
  });

  it('a partial apply reports what was applied and what was not', async () => {
    const done = [change('add', 'first')];
    const units = [unit('a', { changes: [change('add', 'first'), change('add', 'second')], applyError: new PartialApplyError('the router refused add x: nope', done, 1) })];
    const applied = await applyUnits(units, await planUnits(units));
    expect(applied[0]).toMatchObject({ status: 'failed', error: 'the router refused add x: nope', applied: done, notApplied: 1 });
  });

  it('renders + ~ - > with a summary, colour only when asked, control characters escaped', async () => {
    const changes: Change[] = [
      { action: 'add', kind: '/interface/vlan', name: 'vlan30-cams', props: [{ key: 'vlan-id', to: '30' }] },
      { action: 'change', kind: '/ip/firewall/filter', name: 'input accept', props: [{ key: 'dst-port', from: '22', to: '80' }] },
      { action: 'remove', kind: '/ip/address', name: '10.0.0.1/24 on x\u001b[31m' },
      { action: 'move', kind: '/ip/firewall/filter', name: 'forward drop', note: 'before *5' },
    ];
    const results = await planUnits([unit('core', { changes })]);
    const ctx = { file: 'f.yaml', locate: () => ({ line: 3, col: 5 }) };
    const plain = renderPlan(results, ctx, { color: false });
    expect(plain).toContain('  + /interface/vlan vlan30-cams');
    expect(plain).toContain('      ~ dst-port = 22 -> 80');
    expect(plain).toContain('  - /ip/address 10.0.0.1/24 on x\\x1b[31m');
    expect(plain).toContain('  > /ip/firewall/filter forward drop  (before *5)');
    expect(plain).toContain('Plan: 1 to add, 1 to change, 1 to remove, 1 to move.');
    expect(plain).not.toContain('\u001b');
    expect(renderPlan(results, ctx, { color: true })).toContain('\u001b[32m+\u001b[0m');
    expect(summaryLine([])).toBe('0 to add, 0 to change, 0 to remove');
    const json = JSON.parse(planJson(results, ctx, 'plan'));
    expect(json.units[0]).toMatchObject({ name: 'core', status: 'changes', summary: { add: 1, change: 1, remove: 1, move: 1 } });
  });

  it('colour: only on a TTY, never with NO_COLOR', () => {
    expect(useColor({ isTTY: true }, {})).toBe(true);
    expect(useColor({ isTTY: false }, {})).toBe(false);
    expect(useColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(useColor({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
  });
});

describe('RouterOS value normalisation', () => {
  it('compares values as RouterOS prints them', () => {
    expect(normalizeValue('disabled', 'yes')).toBe(normalizeValue('disabled', 'true'));
    expect(normalizeValue('advertise', 'no')).toBe('false');
    expect(normalizeValue('connection-state', 'untracked,related,established')).toBe(normalizeValue('connection-state', 'established,related,untracked'));
    expect(normalizeValue('protocol', '6')).toBe('tcp');
    expect(normalizeValue('address', '2001:DB8:0:0::10/64')).toBe('2001:db8::10/64');
    expect(normalizeValue('tagged', 'ether2,bridge')).toBe(normalizeValue('tagged', 'bridge,ether2'));
    expect(normalizeValue('comment', 'flatnet:x')).toBe('flatnet:x');
  });
  it('reads /ip/pool ranges in each form', () => {
    expect(poolRanges('10.0.0.10-10.0.0.20, 10.0.1.0/30,10.0.2.5,junk').map((r) => [r.range.first, r.range.last].map(Number))).toEqual([
      [167772170, 167772180],
      [167772416, 167772419],
      [167772677, 167772677],
    ]);
    // written the wrong way round it still leases those addresses: read as the range it covers
    expect(poolRanges('10.0.0.20-10.0.0.10').map((r) => [r.range.first, r.range.last].map(Number))).toEqual([[167772170, 167772180]]);
  });
});

describe('apply confirmation', () => {
  function io(answer: string | null, tty: boolean): { io: Io; out: () => string; err: () => string } {
    const stdin = Object.assign(new PassThrough(), { isTTY: tty });
    const stdout = Object.assign(new PassThrough(), { isTTY: false });
    const stderr = Object.assign(new PassThrough(), { isTTY: tty });
    let o = '';
    let e = '';
    stdout.on('data', (d) => (o += String(d)));
    stderr.on('data', (d) => {
      e += String(d);
      if (answer !== null && String(d).includes('Only "yes" applies')) stdin.write(`${answer}\n`);
    });
    return { io: { stdin, stdout, stderr, env: { P: 'pw', NO_COLOR: '1' } }, out: () => o, err: () => e };
  }
  async function router() {
    const fake = new FakeRouterOS({ password: 'pw' });
    fake.seedDefaults();
    const port = await fake.start();
    const file = join(scratch, `s-${port}.yaml`);
    writeFileSync(
      file,
      `version: 1\nrouters:\n  core:\n    type: routeros\n    address: 127.0.0.1\n    port: ${port}\n    password-env: P\nhosts:\n  nas:\n    parent: eth0\nnetworks:\n  cams:\n    router: core\n    host: nas\n    vlan: 30\n    subnet: 10.30.0.0/24\n    gateway: 10.30.0.1\n    container-range: 10.30.0.64/26\n`,
    );
    return { fake, file };
  }
  const changed = (fake: FakeRouterOS) => fake.log.filter((e) => !e.command.endsWith('/print')).length;

  it('asks on a terminal: "no" changes nothing, "yes" applies', async () => {
    const { fake, file } = await router();
    try {
      const no = io('no', true);
      expect(await runApply(file, {}, no.io)).toBe(1);
      expect(no.err()).toContain('apply cancelled; nothing was changed');
      expect(changed(fake)).toBe(0);
      const yes = io('yes', true);
      expect(await runApply(file, {}, yes.io)).toBe(0);
      expect(yes.out()).toMatch(/applied router core: \d+ changes/);
      expect(changed(fake)).toBeGreaterThan(0);
      const plan = io(null, false);
      expect(await runPlan(file, { detailedExitcode: true }, plan.io)).toBe(0);
      expect(plan.out()).toContain('no changes');
      expect(plan.err()).toContain('core: reading');
    } finally {
      await fake.stop();
    }
  });

  it('--dry-run plans only; no terminal without --yes refuses', async () => {
    const { fake, file } = await router();
    try {
      const dry = io(null, false);
      expect(await runApply(file, { dryRun: true, detailedExitcode: true }, dry.io)).toBe(2);
      const refused = io(null, false);
      expect(await runApply(file, {}, refused.io)).toBe(1);
      expect(refused.err()).toContain('refusing to apply without confirmation');
      expect(changed(fake)).toBe(0);
    } finally {
      await fake.stop();
    }
  });
});

describe('apply order', () => {
  it('routers are applied before hosts, whatever their order in the list', async () => {
    const order: string[] = [];
    const mk = (name: string, kind: 'router' | 'host'): PushUnit => ({
      ref: { kind, name, type: 'test', endpoint: 'nowhere' },
      plan: async () => ({ unit: { kind, name, type: 'test', endpoint: 'nowhere' }, changes: [change('add', name)], facts: [], warnings: [] }),
      apply: async () => {
        order.push(`${name} start`);
        await new Promise((r) => setTimeout(r, kind === 'router' ? 30 : 0));
        order.push(`${name} end`);
        return { applied: [] };
      },
      close: () => {},
    });
    const units = [mk('nas', 'host'), mk('core', 'router'), mk('edge', 'router')];
    const results = await applyUnits(units, await planUnits(units));
    expect(results.map((r) => [r.unit.name, r.status])).toEqual([
      ['nas', 'applied'],
      ['core', 'applied'],
      ['edge', 'applied'],
    ]);
    expect(order.indexOf('nas start')).toBeGreaterThan(order.indexOf('core end'));
    expect(order.indexOf('nas start')).toBeGreaterThan(order.indexOf('edge end'));
  });
});
