// Interrupting an apply (issue 18 point 3), through the real CLI process against the fake RouterOS with
// latency: SIGINT/SIGTERM mid-apply stops sending (no new step starts, the one in flight finishes), prints what
// was and was not applied (text and --json), leaves the fail-closed state (the VLAN interfaces stay disabled:
// their enable is the last step) and exits 130; a second SIGINT exits at once; an interrupt before any change
// (while reading) exits 130 with nothing changed.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { applyUnits, planUnits } from '../src/plan/engine.js';
import { InterruptedError, type PushUnit } from '../src/plan/types.js';
import { FakeRouterOS } from './fakes/routeros-fake.js';
import { vlanSpecText, type VlanNet } from './fakes/routeros-harness.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'flatnet-router.js');
const PASSWORD = 'interrupt';
const NETS: Record<string, VlanNet> = { media: { vlan: 20, third: 20 }, cams: { vlan: 30, third: 30 }, iot: { vlan: 40, third: 40 } };
let scratch = '';
const fakes: FakeRouterOS[] = [];

beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'src', 'cli.js'))) spawnSync('npx', ['tsc', '-p', root], { stdio: 'inherit' });
  scratch = mkdtempSync(join(tmpdir(), 'flatnet-interrupt-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

async function fake(latencyMs: number): Promise<{ fake: FakeRouterOS; spec: string }> {
  const f = new FakeRouterOS({ password: PASSWORD, latencyMs });
  f.seedDefaults();
  fakes.push(f);
  const port = await f.start();
  const spec = join(scratch, `spec-${port}.yaml`);
  writeFileSync(spec, vlanSpecText(port, NETS));
  return { fake: f, spec };
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** ms from the first signal sent to the exit */
  afterSignalMs: number;
}

/** Runs the CLI; when stderr first matches `when`, sends `signals` (one per 20 ms). */
function runCli(args: string[], when: RegExp, signals: NodeJS.Signals[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, P: PASSWORD, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    let sentAt = 0;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (sentAt === 0 && when.test(stderr)) {
        sentAt = performance.now();
        signals.forEach((s, i) => setTimeout(() => child.kill(s), i * 20));
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, afterSignalMs: sentAt === 0 ? -1 : performance.now() - sentAt }));
  });
}

const vlans = (f: FakeRouterOS) => f.rows('/interface/vlan').filter((r) => (r.comment ?? '').startsWith('flatnet:'));

describe('apply interrupted (real CLI, fake RouterOS with latency)', () => {
  it('SIGINT during a step: that step finishes, no other starts; the outcome is printed; exit 130; fail-closed', async () => {
    const { fake: f, spec } = await fake(250);
    const r = await runCli(['apply', spec, '--yes', '--confirm-timeout', '0'], /step 2 of \d/, ['SIGINT']);
    expect(r.signal).toBeNull();
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain('interrupted (SIGINT): no new change is sent');
    expect(r.stdout).toMatch(/interrupted: stopped before step 3 of \d/);
    const m = /(\d+) changes? (?:was|were) applied before the failure, (\d+) not/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    const planned = /Plan:\s+(\d+) to add, 0 to change, 0 to remove/.exec(r.stdout);
    expect(Number(m![1]) + Number(m![2])).toBe(Number(planned?.[1] ?? NaN));
    // steps 1 and 2 happened (VLAN interfaces added disabled, addresses), step 3 (rules) did not: fail-closed
    expect(vlans(f)).toHaveLength(3);
    expect(vlans(f).every((v) => v.disabled === 'true')).toBe(true);
    expect(f.rows('/ip/firewall/filter').filter((r) => (r.comment ?? '').startsWith('flatnet:'))).toHaveLength(0);
  }, 30_000);

  it('SIGTERM with --json: per-device counts that add up, exit 130', async () => {
    const { fake: f, spec } = await fake(250);
    const r = await runCli(['apply', spec, '--yes', '--confirm-timeout', '0', '--json'], /step 3 of \d/, ['SIGTERM']);
    expect(r.code, r.stderr).toBe(130);
    const out = JSON.parse(r.stdout) as { units: Array<{ name: string; status: string; error?: string; applied?: number; notApplied?: number; changes?: unknown[] }> };
    const core = out.units.find((u) => u.name === 'core')!;
    expect(core.status).toBe('failed');
    expect(core.error).toMatch(/^interrupted: stopped before step 4 of \d/);
    expect(core.applied).toBeGreaterThan(0);
    expect(core.applied! + core.notApplied!).toBe(core.changes!.length);
    // rules in, VLANs not enabled yet
    expect(vlans(f).every((v) => v.disabled === 'true')).toBe(true);
    expect(f.rows('/ip/firewall/filter').filter((x) => (x.comment ?? '').startsWith('flatnet:')).length).toBeGreaterThan(0);
  }, 30_000);

  it('with the rollback armed (default --confirm-timeout): the interrupt confirms it, nothing is left to fire', async () => {
    const { fake: f, spec } = await fake(250);
    const r = await runCli(['apply', spec, '--yes'], /step 2 of \d/, ['SIGINT']);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stdout).toMatch(/interrupted: stopped before step 3 of \d/);
    expect(r.stdout).toMatch(/\d+ changes? (?:was|were) applied before the failure/);
    expect(f.rows('/system/scheduler')).toEqual([]);
    expect(f.rows('/system/script')).toEqual([]);
    expect(vlans(f).every((v) => v.disabled === 'true')).toBe(true);
  }, 30_000);

  it('a second SIGINT exits at once, without waiting for the replies in flight', async () => {
    const { spec } = await fake(2_000);
    const r = await runCli(['apply', spec, '--yes', '--confirm-timeout', '0'], /step 1 of \d/, ['SIGINT', 'SIGINT']);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain('exiting at once');
    expect(r.afterSignalMs).toBeLessThan(1_500);
  }, 40_000);

  it('SIGINT while reading (before any change): exit 130 at once, nothing changed', async () => {
    const { fake: f, spec } = await fake(3_000);
    const r = await runCli(['apply', spec, '--yes', '--confirm-timeout', '0'], /core: reading/, ['SIGINT']);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain('nothing was changed');
    expect(r.afterSignalMs).toBeLessThan(2_500);
    expect(f.stats.changes).toBe(0);
  }, 30_000);
});

describe('engine: an interrupt before a unit starts', () => {
  it('the unit is not applied, its changes are counted as not applied, and later phases do not start', async () => {
    const ref = (kind: 'router' | 'host', name: string) => ({ kind, name, type: 'routeros', endpoint: '-' });
    const change = (n: number) => Array.from({ length: n }, (_, i) => ({ action: 'add' as const, kind: 'x', name: String(i) }));
    const controller = new AbortController();
    const started: string[] = [];
    const unit = (kind: 'router' | 'host', name: string, n: number): PushUnit => ({
      ref: ref(kind, name),
      plan: async () => ({ unit: ref(kind, name), changes: change(n), facts: [], warnings: [] }),
      apply: async (_p, signal) => {
        started.push(name);
        controller.abort(); // interrupted while the router applies
        if (signal?.aborted) throw new InterruptedError('interrupted: stopped before step 2 of 2', change(n).slice(0, 1), n - 1);
        return { applied: change(n) };
      },
      close: () => {},
    });
    const units = [unit('router', 'core', 3), unit('host', 'nas', 2)];
    const planned = await planUnits(units);
    const results = await applyUnits(units, planned, { signal: controller.signal });
    expect(started).toEqual(['core']);
    expect(results.map((r) => [r.unit.name, r.status, r.applied?.length, r.notApplied])).toEqual([
      ['core', 'failed', 1, 2],
      ['nas', 'failed', 0, 2],
    ]);
    expect(results[1]!.error).toBe('interrupted before its apply started; nothing was changed');
  });
});
