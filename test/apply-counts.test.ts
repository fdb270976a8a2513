// Counts after a cut (issue 18 point 4): "applied" is exactly the plan changes the device confirmed, "not
// applied" the rest, and the two add up to the plan's total, whatever change the connection is cut at. The
// RouterOS apply is cut (connection reset, no reply) at every configuration change of a first apply and of a
// change apply (adds, sets, moves and removes), through the shared engine as the CLI runs it; the rerun's
// plan has none of the changes reported as applied and no more than those reported as not applied.
import { afterEach, describe, expect, it } from 'vitest';
import { modelFromText } from '../src/index.js';
import type { Model } from '../src/model.js';
import { applyUnits, planUnits } from '../src/plan/engine.js';
import type { Change } from '../src/plan/types.js';
import { RouterOSUnit } from '../targets/routeros/push.js';
import { FakeRouterOS } from './fakes/routeros-fake.js';
import { vlanSpecText, type VlanNet } from './fakes/routeros-harness.js';

type RouterOS = Extract<Model['routers'][number], { type: 'routeros' }>;
const PASSWORD = 'counts';
const fakes: FakeRouterOS[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

function unitFor(port: number, nets: Record<string, VlanNet>, confirmTimeoutS: number): RouterOSUnit {
  const model = modelFromText(vlanSpecText(port, nets));
  return new RouterOSUnit(model, model.routers[0] as RouterOS, { env: { P: PASSWORD }, confirmTimeoutS, commandTimeoutMs: 5_000, connectTimeoutMs: 5_000 });
}

async function planAndApply(port: number, nets: Record<string, VlanNet>, confirmTimeoutS = 0) {
  const unit = unitFor(port, nets, confirmTimeoutS);
  const planned = await planUnits([unit]);
  const [result] = await applyUnits([unit], planned);
  return { planned: planned[0]!, result: result! };
}

/** The rerun's plan: its changes as `action kind name`. */
async function pendingChanges(port: number, nets: Record<string, VlanNet>): Promise<string[]> {
  const unit = unitFor(port, nets, 0);
  try {
    const [r] = await planUnits([unit]);
    expect(r!.status, r!.error).not.toBe('failed');
    return r!.plan!.changes.map(key);
  } finally {
    unit.close();
  }
}
const key = (c: Change) => `${c.action} ${c.kind} ${c.name}`;

const FIRST: Record<string, VlanNet> = { media: { vlan: 20, third: 20, access: ['ether4'] }, cams: { vlan: 30, third: 30 }, iot: { vlan: 40, third: 40 } };
// media's access port moves, cams goes, iot gets a new subnet (sets), lab is new
const SECOND: Record<string, VlanNet> = { media: { vlan: 20, third: 20, access: ['ether5'] }, iot: { vlan: 40, third: 41 }, lab: { vlan: 50, third: 50 } };

async function fresh(before?: Record<string, VlanNet>): Promise<{ fake: FakeRouterOS; port: number }> {
  const fake = new FakeRouterOS({ password: PASSWORD });
  fake.seedDefaults();
  fakes.push(fake);
  const port = await fake.start();
  if (before) {
    const { result } = await planAndApply(port, before);
    expect(result.status, result.error).toBe('applied');
  }
  fake.stats.changes = 0;
  return { fake, port };
}

describe.each([
  { name: 'a first apply', before: undefined, spec: FIRST, confirm: 0 },
  { name: 'a change apply (adds, sets, moves, removes)', before: FIRST, spec: SECOND, confirm: 0 },
  { name: 'a first apply with its rollback', before: undefined, spec: FIRST, confirm: 60 },
])('RouterOS: $name cut at every change', ({ before, spec, confirm }) => {
  it('applied + not applied = the plan, and the rerun plans what was not applied', async () => {
    // uncut: every change applied, and how many configuration changes the apply sends
    const whole = await fresh(before);
    const full = await planAndApply(whole.port, spec, confirm);
    expect(full.result.status, full.result.error).toBe('applied');
    const total = full.planned.plan!.changes.length;
    expect(full.result.applied).toHaveLength(total);
    const sent = whole.fake.stats.changes;
    expect(sent).toBeGreaterThan(10);

    const seen = new Set<number>();
    for (let k = 1; k <= sent; k++) {
      const { fake, port } = await fresh(before);
      fake.options.dropAtChange = k;
      const { planned, result } = await planAndApply(port, spec, confirm);
      const changes = planned.plan!.changes;
      expect(changes.length).toBe(total);
      expect(result.status, `cut at change ${k}`).toBe('failed');
      const applied = result.applied ?? [];
      // distinct changes of the plan, in its order
      expect(new Set(applied).size).toBe(applied.length);
      expect(applied.every((c) => changes.includes(c))).toBe(true);
      expect(applied.map((c) => changes.indexOf(c))).toEqual(applied.map((c) => changes.indexOf(c)).sort((a, b) => a - b));
      expect(applied.length + (result.notApplied ?? -1), `cut at change ${k}: ${applied.length} applied, ${result.notApplied} not`).toBe(total);
      seen.add(applied.length);
      // the device agrees: nothing reported as applied is still pending, and the rerun plans no more than was
      // reported as not applied (less, by the changes the router made whose replies the reset lost)
      delete fake.options.dropAtChange;
      if (confirm === 0) {
        const rerun = await pendingChanges(port, spec);
        expect(rerun.length, `rerun after a cut at change ${k}`).toBeLessThanOrEqual(result.notApplied!);
        expect(applied.map(key).filter((c) => rerun.includes(c)), `cut at change ${k}`).toEqual([]);
      }
    }
    // the cuts landed at different points of the apply
    if (confirm === 0) expect(seen.size).toBeGreaterThan(2);
  }, 120_000);
});
