// The plan engine's data: what every pushable target (a router over its API or SSH, a Docker host) hands
// to the shared rendering, JSON output, confirmation and concurrency. Changes are data, as in dnscontrol's
// corrections: a target computes them from desired vs live state, the engine shows them, the target applies.
import type { SpecPath } from '../errors.js';
import type { FlowResult } from '../audit/findings.js';

/** adopt: a hand-made object taken over in place as it is (plan --adopt): only its label changes */
export type ChangeAction = 'add' | 'change' | 'remove' | 'move' | 'replace' | 'adopt';

export interface PropertyChange {
  key: string;
  /** absent for an added property */
  from?: string;
  /** absent for a removed property */
  to?: string;
}

export interface Change {
  action: ChangeAction;
  /** the kind of object, in the target's own terms: `/ip/address`, `network.flatnet_x`, `docker network` */
  kind: string;
  /** names the object for a person: an interface name, an address, a rule's matchers */
  name: string;
  /** the spec network that owns it */
  network?: string;
  /** add: every property (to); change: only the differing ones (from → to); remove: none */
  props?: PropertyChange[];
  /** one short line of context, e.g. where a rule is placed */
  note?: string;
}

/** A problem found on the live system that the spec must answer for: reported like a validation error. */
export interface LiveProblem {
  path: SpecPath;
  message: string;
}

export interface UnitRef {
  kind: 'router' | 'switch' | 'host';
  name: string;
  /** routeros | openwrt | docker */
  type: string;
  /** where it is reached, for the plan header (never holds credentials) */
  endpoint: string;
}

export interface UnitPlan {
  unit: UnitRef;
  changes: Change[];
  /** things the plan found and the user should know (e.g. "RouterOS 7.16.2") */
  facts: string[];
  warnings: string[];
  /** routers: the audit of the live firewall as the apply leaves it (its findings are in warnings too) */
  audit?: FlowResult[];
}

export interface ApplyReport {
  /** changes carried out, in order */
  applied: Change[];
}

/**
 * One router or host that can be planned and applied. `plan` reads the live state (and keeps what it needs
 * to apply, such as an open connection); `apply` carries out exactly the planned changes; `close` always
 * runs last.
 */
export interface PushUnit {
  readonly ref: UnitRef;
  plan(progress: Progress): Promise<UnitPlan>;
  /**
   * `signal` aborts on Ctrl-C/SIGTERM: the unit starts no new operation (it checks between its steps), lets
   * those in flight finish or fail, and throws an InterruptedError with what was applied.
   */
  apply(progress: Progress, signal?: AbortSignal): Promise<ApplyReport>;
  close(): void;
}

export type Progress = (message: string) => void;

/** Live checks failed: the plan cannot be made, nothing was changed. */
export class LiveCheckError extends Error {
  constructor(readonly problems: LiveProblem[]) {
    super(`${problems.length} problem${problems.length === 1 ? '' : 's'} found on the live system`);
    this.name = 'LiveCheckError';
  }
}

/** Apply stopped part-way: carries what was already applied so the user is told. */
export class PartialApplyError extends Error {
  constructor(
    message: string,
    readonly applied: Change[],
    readonly remaining: number,
  ) {
    super(message);
    this.name = 'PartialApplyError';
  }
}

export function summarize(changes: readonly Change[]): Record<ChangeAction, number> {
  const counts: Record<ChangeAction, number> = { add: 0, change: 0, remove: 0, move: 0, replace: 0, adopt: 0 };
  for (const c of changes) counts[c.action]++;
  return counts;
}

/** Apply stopped by an interrupt (Ctrl-C, SIGTERM) between steps: what was applied, and how much was not. */
export class InterruptedError extends PartialApplyError {
  constructor(message: string, applied: Change[], remaining: number) {
    super(message, applied, remaining);
    this.name = 'InterruptedError';
  }
}
