// The shared plan/apply engine: runs every selected unit (router or host) concurrently with a bound, keeps
// one result per unit, and never lets one unit's failure stop or hide another's.
import { LiveCheckError, PartialApplyError, type Change, type LiveProblem, type Progress, type PushUnit, type UnitPlan, type UnitRef } from './types.js';

/** not-planned: a device this run cannot reach by design (a host without ssh): said, not counted as a failure */
export type UnitStatus = 'no-changes' | 'changes' | 'applied' | 'failed' | 'unsupported' | 'not-planned';

export interface UnitResult {
  unit: UnitRef;
  status: UnitStatus;
  plan?: UnitPlan;
  /** live checks that failed (the plan could not be made) */
  problems?: LiveProblem[];
  /** one line: why this unit failed */
  error?: string;
  /** with apply: what was carried out (all of the plan, or the part before a failure) */
  applied?: Change[];
  /** with a failed apply: how many planned changes were not carried out */
  notApplied?: number;
}

/** Runs fn over items with at most `limit` in flight; results keep the items' order. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

export interface EngineOptions {
  /** routers/hosts worked on at once (default 4) */
  concurrency?: number;
  /** per-unit progress lines (stderr in the CLI) */
  progress?: (unit: UnitRef, message: string) => void;
  /** apply: an interrupt; no unit starts after it, and running units stop between their steps */
  signal?: AbortSignal;
}

const oneLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0]!;

/** Plans every unit. Units stay open (connections kept) for an apply; call closeUnits when done. */
export async function planUnits(units: readonly PushUnit[], options: EngineOptions = {}): Promise<UnitResult[]> {
  return mapBounded(units, options.concurrency ?? 4, async (unit) => {
    const progress: Progress = (m) => options.progress?.(unit.ref, m);
    try {
      const plan = await unit.plan(progress);
      return { unit: unit.ref, status: plan.changes.length === 0 ? 'no-changes' : 'changes', plan } satisfies UnitResult;
    } catch (err) {
      unit.close();
      if (err instanceof LiveCheckError) return { unit: unit.ref, status: 'failed', problems: err.problems, error: err.message } satisfies UnitResult;
      if (err instanceof UnsupportedUnitError) return { unit: unit.ref, status: 'unsupported', error: err.message } satisfies UnitResult;
      if (err instanceof NotPlannedError) return { unit: unit.ref, status: 'not-planned', error: err.message } satisfies UnitResult;
      return { unit: unit.ref, status: 'failed', error: oneLine(err) } satisfies UnitResult;
    }
  });
}

/**
 * Applies the units whose plan has changes; the others keep their plan result. Routers go first, then
 * switches, then hosts (a host's networks ride on the VLANs the routers and switches carry); each unit has its
 * own result either way.
 */
export async function applyUnits(units: readonly PushUnit[], planned: readonly UnitResult[], options: EngineOptions = {}): Promise<UnitResult[]> {
  const results = [...planned];
  for (const phase of ['router', 'switch', 'host'] as const) {
    const indices = units.flatMap((u, i) => (u.ref.kind === phase ? [i] : []));
    const done = await mapBounded(indices, options.concurrency ?? 4, (i) => applyOne(units[i]!, planned[i]!, options));
    indices.forEach((i, k) => (results[i] = done[k]!));
  }
  return results;
}

async function applyOne(unit: PushUnit, result: UnitResult, options: EngineOptions): Promise<UnitResult> {
  if (result.status !== 'changes') return result;
  const total = result.plan?.changes.length ?? 0;
  if (options.signal?.aborted) {
    unit.close();
    return { ...result, status: 'failed', error: 'interrupted before its apply started; nothing was changed', applied: [], notApplied: total };
  }
  const progress: Progress = (m) => options.progress?.(unit.ref, m);
  try {
    const report = await unit.apply(progress, options.signal);
    return { ...result, status: 'applied', applied: report.applied };
  } catch (err) {
    if (err instanceof PartialApplyError) {
      return { ...result, status: 'failed', error: oneLine(err), applied: err.applied, notApplied: err.remaining };
    }
    return { ...result, status: 'failed', error: oneLine(err), applied: [], notApplied: total };
  } finally {
    unit.close();
  }
}

export function closeUnits(units: readonly PushUnit[]): void {
  for (const u of units) u.close();
}

/** A unit whose type has no push support yet: reported, counted as not converged. */
export class UnsupportedUnitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedUnitError';
  }
}

/** A unit for a type that cannot be pushed yet: its plan says so. */
export function unsupportedUnit(ref: UnitRef, why: string): PushUnit {
  return {
    ref,
    plan: () => Promise.reject(new UnsupportedUnitError(why)),
    apply: () => Promise.reject(new UnsupportedUnitError(why)),
    close: () => {},
  };
}

/** A device this run does not plan by design (a local host seen from elsewhere): its result says what to run. */
export class NotPlannedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotPlannedError';
  }
}

/** A unit listed as not planned, with the reason (e.g. the command to run on that host). */
export function notPlannedUnit(ref: UnitRef, why: string): PushUnit {
  return {
    ref,
    plan: () => Promise.reject(new NotPlannedError(why)),
    apply: () => Promise.reject(new NotPlannedError(why)),
    close: () => {},
  };
}

/** Exit code of a run: 1 when any unit failed or is unsupported; else 2 for pending changes when asked; else 0. */
export function exitCode(results: readonly UnitResult[], detailed: boolean): number {
  if (results.some((r) => r.status === 'failed' || r.status === 'unsupported')) return 1;
  if (detailed && results.some((r) => r.status === 'changes')) return 2;
  return 0;
}
