// Saved plans, as Terraform's: `plan --out FILE` writes the spec and each device's change list; `apply FILE`
// applies exactly that plan, and refuses when any device would now plan something else (it changed since, or
// the spec in the file was edited): nothing is sent then.
import { readFileSync, writeFileSync } from 'node:fs';
import { UserError } from '../errors.js';
import type { UnitResult } from './engine.js';
import type { Change } from './types.js';

export const SAVED_PLAN_FORMAT = 'flatnet-saved-plan/1';

export interface SavedPlan {
  format: typeof SAVED_PLAN_FORMAT;
  savedAt: string;
  /** the spec file it was made from, for messages */
  specFile: string;
  /** the spec itself: the apply uses it, not whatever the file says now */
  specText: string;
  selection: { routers?: string[]; switches?: string[]; hosts?: string[] };
  /** the plan's options that change what it plans: `apply FILE` plans again with them */
  options?: { adopt?: boolean; fromOwner?: string };
  units: Array<{ kind: string; name: string; status: string; changes: Change[] }>;
}

export function savePlan(file: string, specFile: string, specText: string, selection: SavedPlan['selection'], results: readonly UnitResult[], options: NonNullable<SavedPlan['options']> = {}): void {
  const failed = results.filter((r) => r.status === 'failed' || r.status === 'unsupported');
  if (failed.length > 0) throw new UserError(`plan --out: not saved: ${failed.map((r) => `${r.unit.kind} ${r.unit.name}`).join(', ')} could not be planned`);
  const saved: SavedPlan = {
    format: SAVED_PLAN_FORMAT,
    savedAt: new Date().toISOString(),
    specFile,
    specText,
    selection,
    ...(Object.keys(options).length > 0 ? { options } : {}),
    units: results.map((r) => ({ kind: r.unit.kind, name: r.unit.name, status: r.status, changes: r.plan?.changes ?? [] })),
  };
  writeFileSync(file, `${JSON.stringify(saved, null, 2)}\n`, { mode: 0o600 });
}

/** The saved plan in `file`, or undefined when the file is not one (a spec). */
export function readSavedPlan(file: string): SavedPlan | undefined {
  if (file === '-') return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined; // the spec loader says what is wrong with it
  }
  if (!text.trimStart().startsWith('{')) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  if ((data as { format?: unknown }).format !== SAVED_PLAN_FORMAT) return undefined;
  return data as SavedPlan;
}

/** Why the plan made now is not the saved one, per device; [] when they are the same. */
export function savedPlanDrift(saved: SavedPlan, now: readonly UnitResult[]): string[] {
  const out: string[] = [];
  const key = (kind: string, name: string) => `${kind} ${name}`;
  const before = new Map(saved.units.map((u) => [key(u.kind, u.name), u]));
  for (const r of now) {
    const was = before.get(key(r.unit.kind, r.unit.name));
    before.delete(key(r.unit.kind, r.unit.name));
    if (!was) {
      out.push(`${key(r.unit.kind, r.unit.name)} is not in the saved plan`);
      continue;
    }
    if (r.status === 'failed' || r.status === 'unsupported') {
      out.push(`${key(r.unit.kind, r.unit.name)} cannot be planned now: ${r.error ?? 'failed'}`);
      continue;
    }
    const changes = r.plan?.changes ?? [];
    if (JSON.stringify(changes) !== JSON.stringify(was.changes)) {
      out.push(`${key(r.unit.kind, r.unit.name)} changed since the plan was saved (${changes.length} change${changes.length === 1 ? '' : 's'} now, ${was.changes.length} in the plan)`);
    }
  }
  for (const u of before.values()) out.push(`${key(u.kind, u.name)} of the saved plan is not planned now`);
  return out;
}
