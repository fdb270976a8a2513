// RouterOS plan and apply: read the live router in one pipelined round of prints, diff (diff.ts), and carry
// out the operations level by level, every operation of a level in flight at once (tagged).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { UserError } from '../../src/errors.js';
import { configuredPassword, expandHome } from '../../src/secrets.js';
import type { Model, RouterOSRouter } from '../../src/model.js';
import { InterruptedError, LiveCheckError, PartialApplyError, type ApplyReport, type Change, type Progress, type PushUnit, type UnitPlan, type UnitRef } from '../../src/plan/types.js';
import { RosClient, RosError, type RosConnectOptions, type RosStats } from './api.js';
import { planRouter, readsFor, type IdRef, type LiveState, type PlannedOp, type RosOp, type Row } from './diff.js';
import { MENU_ORDER, type RosMenu } from './index.js';
import { clockPlus, leftoverRollback, ROLLBACK_COMMENT, ROLLBACK_NAME, ROLLBACK_POLICY, rollbackScript, type Leftover, type RouterTime } from './rollback.js';

export interface RouterOSPushOptions {
  /** connect + login (default 10 s) */
  connectTimeoutMs?: number;
  /** each API command (default 30 s) */
  commandTimeoutMs?: number;
  /** where password-env is looked up (default process.env) */
  env?: NodeJS.ProcessEnv;
  /**
   * seconds after which the router restores the state before an apply unless flatnet confirms it over a new
   * connection (a /system/script with the inverse and a /system/scheduler entry); 0: no rollback. Default 60.
   */
  confirmTimeoutS?: number;
  /** --adopt: hand-made objects that already are what the spec asks for are taken over in place */
  adopt?: boolean;
}

/** The reads of the rollback, sent with the plan's prints: the router's clock and a rollback left behind. */
const ROLLBACK_READS: ReadonlyArray<readonly string[]> = [
  ['/system/clock/print', '=.proplist=date,time'],
  ['/system/scheduler/print', '=.proplist=.id,name,comment,start-date,start-time,disabled,run-count', `?name=${ROLLBACK_NAME}`],
  ['/system/script/print', '=.proplist=.id,name,comment,run-count', `?name=${ROLLBACK_NAME}`],
];

/** Where a router or switch is in the spec: `routers.<name>` or `switches.<name>`. */
export const specSection = (device: { kind?: 'router' | 'switch' }) => (device.kind === 'switch' ? 'switches' : 'routers');

/** The API user's password: RouterOS has no other way to log in. Errors name the device's spec path. */
export function routerPassword(router: { name: string; kind?: 'router' | 'switch'; passwordEnv?: string; passwordFile?: string }, env: NodeJS.ProcessEnv): string {
  const password = configuredPassword(router, env);
  if (password === undefined) throw new UserError(`${specSection(router)}.${router.name}: no password-env or password-file: flatnet needs the API user's password to plan or apply`);
  return password;
}

export class RouterOSUnit implements PushUnit {
  readonly ref: UnitRef;
  private client?: RosClient;
  private planned?: ReturnType<typeof planRouter>;
  private live?: LiveState;
  /** the router's clock as the plan read it, and when (this machine's ms) */
  private clock?: { at: RouterTime; readAt: number };
  private leftover?: Leftover;
  /** API traffic of this unit (for benchmarks and tests) */
  stats: RosStats & { prints: number; changes: number } = { sentencesSent: 0, sentencesReceived: 0, bytesSent: 0, bytesReceived: 0, roundTrips: 0, prints: 0, changes: 0 };

  constructor(
    private readonly model: Model,
    private readonly router: RouterOSRouter,
    private readonly options: RouterOSPushOptions = {},
  ) {
    this.ref = { kind: router.kind, name: router.name, type: 'routeros', endpoint: `${router.tls ? 'api-ssl' : 'api'} ${router.address}:${router.port}` };
  }

  private async connect(progress: Progress): Promise<RosClient> {
    const env = this.options.env ?? process.env;
    const password = routerPassword(this.router, env);
    let ca: Buffer | undefined;
    if (this.router.tls && this.router.caFile !== undefined) {
      try {
        ca = readFileSync(expandHome(this.router.caFile, env));
      } catch (err) {
        throw new UserError(`${specSection(this.router)}.${this.router.name}.ca-file: cannot read ${this.router.caFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
    progress(`connecting to ${this.router.address}:${this.router.port}`);
    this.client = await this.openClient({}, password, ca);
    return this.client;
  }

  /** A new API session with the spec's settings (timeouts overridable: the confirmation bounds its own). */
  private async openClient(timeouts: { connectTimeoutMs?: number; commandTimeoutMs?: number }, password?: string, ca?: Buffer): Promise<RosClient> {
    const env = this.options.env ?? process.env;
    password ??= routerPassword(this.router, env);
    if (this.router.tls && this.router.caFile !== undefined && ca === undefined) ca = readFileSync(expandHome(this.router.caFile, env));
    const connectTimeoutMs = timeouts.connectTimeoutMs ?? this.options.connectTimeoutMs;
    const commandTimeoutMs = timeouts.commandTimeoutMs ?? this.options.commandTimeoutMs;
    const connect: RosConnectOptions = {
      host: this.router.address,
      port: this.router.port,
      user: this.router.user,
      password,
      ...(this.router.tls ? { tls: { insecure: this.router.tlsInsecure, ...(ca ? { ca } : {}) } } : {}),
      ...(connectTimeoutMs !== undefined ? { connectTimeoutMs } : {}),
      ...(commandTimeoutMs !== undefined ? { commandTimeoutMs } : {}),
    };
    return RosClient.connect(connect);
  }

  /** One print per menu this device reads (its capabilities decide which), all sent at once. */
  async read(client: RosClient): Promise<LiveState> {
    const reads = readsFor(this.router);
    const [replies, rollback] = await Promise.all([
      Promise.all(reads.map((r) => client.command([`${r.menu}/print`, ...(r.proplist ? [`=.proplist=${r.proplist}`] : [])]))),
      // in the same round trip
      Promise.all(ROLLBACK_READS.map((words) => client.command([...words]))),
    ]);
    this.stats.prints += reads.length + ROLLBACK_READS.length;
    const [clock, scheduler, script] = rollback.map((r) => r.rows) as [Row[], Row[], Row[]];
    if (clock[0]?.date && clock[0]?.time) this.clock = { at: { date: clock[0].date, time: clock[0].time }, readAt: Date.now() };
    this.leftover = leftoverRollback(scheduler, script, this.router.kind);
    const menus = Object.fromEntries(MENU_ORDER.map((m) => [m, [] as Row[]])) as Record<RosMenu, Row[]>;
    const live: LiveState = { menus, interfaces: [], interfaceLists: [], bridges: [], bridgePorts: [] };
    reads.forEach((r, i) => {
      const rows = replies[i]!.rows;
      if (r.key === 'resource') {
        if (rows[0]?.version) live.version = rows[0].version;
      } else if (r.key.startsWith('/')) menus[r.key as RosMenu] = rows;
      else (live as unknown as Record<string, Row[]>)[r.key] = rows;
    });
    return live;
  }

  async plan(progress: Progress): Promise<UnitPlan> {
    const client = await this.connect(progress);
    progress('reading');
    const live = await this.read(client);
    this.syncStats();
    const planned = planRouter(this.model, this.router, live, this.options.adopt ? { adopt: true } : {});
    // a pending rollback of an earlier apply would undo that apply in the middle of this one: refused
    if (this.leftover?.pending) planned.problems.push({ path: [specSection(this.router), this.router.name], message: this.leftover.message });
    else if (this.leftover) planned.warnings.push(this.leftover.message);
    if (planned.problems.length > 0) {
      throw new LiveCheckError(planned.problems);
    }
    this.planned = planned;
    this.live = live;
    return { unit: this.ref, changes: planned.changes, facts: planned.facts, warnings: planned.warnings, ...(planned.audit ? { audit: planned.audit } : {}) };
  }

  async apply(progress: Progress, signal?: AbortSignal): Promise<ApplyReport> {
    const client = this.client;
    const planned = this.planned;
    if (!client || !planned) throw new Error('internal: apply before plan');
    if (signal?.aborted) throw new InterruptedError('interrupted before the first change; nothing was changed', [], planned.changes.length);
    // plan changes fully carried out (their last op confirmed by the device): what "applied" counts, so that
    // applied + not applied is the plan's total on every path
    const completed = new Set<Change>();
    const appliedInOrder = () => planned.changes.filter((c) => completed.has(c));
    const ids = new Map<RosOp, string>();
    const levels = [...new Set(planned.ops.map((o) => o.level))];
    const confirmS = planned.ops.length > 0 ? (this.options.confirmTimeoutS ?? 60) : 0;
    const rollback = confirmS > 0 ? await this.installRollback(client, confirmS, progress) : undefined;
    for (const level of levels) {
      // Ctrl-C/SIGTERM: no new step starts. Each step leaves the fail-closed state (rules in before their VLAN
      // is enabled, removals after the VLAN is disabled), so what was applied stays; a rollback is confirmed
      // (disarmed) as after a refused change, so that what is reported as applied is what stays.
      if (signal?.aborted) {
        const step = `interrupted: stopped before step ${levels.indexOf(level) + 1} of ${levels.length}`;
        const outcome = rollback ? await this.confirm(rollback) : 'confirmed';
        if (outcome === 'unreachable') throw new InterruptedError(`${step}; could not reconnect to confirm within ${confirmS} s: the ${this.router.kind} restores itself at ${rollback!.when} (its clock)`, [], planned.changes.length);
        if (outcome === 'ran') throw new InterruptedError(`${step}; the rollback ran before the apply was confirmed: the ${this.router.kind} is back at the state before this apply`, [], planned.changes.length);
        const applied = appliedInOrder();
        throw new InterruptedError(`${step}; the changes applied stay, the rest keep the networks they touch down or isolated: run apply again to converge`, applied, planned.changes.length - applied.length);
      }
      // the rollback must not run in the middle of a step: stop while there is time
      if (rollback && Date.now() > rollback.deadline) {
        throw new PartialApplyError(
          `the apply took longer than its ${confirmS} s rollback window (--confirm-timeout) and stopped before step ${levels.indexOf(level) + 1} of ${levels.length}: the ${this.router.kind} restores the state before this apply at ${rollback.when} (its clock)`,
          [],
          planned.changes.length,
        );
      }
      const batch = planned.ops.filter((o) => o.level === level);
      progress(`applying ${batch.length} operation${batch.length === 1 ? '' : 's'} (step ${levels.indexOf(level) + 1} of ${levels.length})`);
      // an op that cannot even be worded (an add it refers to gave no id) fails like a refused command
      const results = await Promise.allSettled(
        batch.map((o) => {
          try {
            return client.command(words(o.op, ids));
          } catch (err) {
            return Promise.reject(err);
          }
        }),
      );
      this.stats.changes += batch.length;
      let failure: { op: PlannedOp; err: unknown } | undefined;
      results.forEach((r, i) => {
        const o = batch[i]!;
        if (r.status === 'fulfilled') {
          if (o.op.op === 'add' && r.value.ret !== undefined) ids.set(o.op, r.value.ret);
          if (o.completes) completed.add(o.completes);
        } else failure ??= { op: o, err: r.reason };
      });
      this.syncStats();
      if (failure) {
        const reason = failure.err instanceof RosError ? failure.err.message : String(failure.err);
        const what = `${failure.op.op.op} ${failure.op.op.menu} ${failure.op.report.name}${opProps(failure.op.op)}`;
        const kind = failure.err instanceof RosError && failure.err.kind === 'trap' ? `the ${this.router.kind} refused` : 'failed';
        const applied = appliedInOrder();
        // The rollback guards against a lost way in, not against a refused change: a new connection that gets
        // through disarms it and the fail-closed state stays (a rerun converges); one that cannot, leaves it.
        const outcome = rollback ? await this.confirm(rollback) : 'confirmed';
        if (outcome === 'unreachable') throw new PartialApplyError(`${kind} ${what}: ${reason}; could not reconnect to confirm within ${confirmS} s: the ${this.router.kind} restores itself at ${rollback!.when} (its clock)`, [], planned.changes.length);
        if (outcome === 'ran') throw new PartialApplyError(`${kind} ${what}: ${reason}; the rollback ran before the apply was confirmed: the ${this.router.kind} is back at the state before this apply`, [], planned.changes.length);
        throw new PartialApplyError(`${kind} ${what}: ${reason}`, applied, planned.changes.length - applied.length);
      }
    }
    if (!rollback) {
      progress(`done: ${completed.size} change${completed.size === 1 ? '' : 's'}`);
      return { applied: appliedInOrder() };
    }
    progress('reconnecting to confirm');
    const outcome = await this.confirm(rollback);
    if (outcome === 'confirmed') {
      progress(`done: ${completed.size} change${completed.size === 1 ? '' : 's'}, confirmed`);
      return { applied: appliedInOrder() };
    }
    if (outcome === 'ran') {
      throw new PartialApplyError(`the rollback ran before the apply was confirmed (${ROLLBACK_NAME} was due at ${rollback.when}): the ${this.router.kind} is back at the state before this apply`, [], planned.changes.length);
    }
    throw new PartialApplyError(`could not reconnect to confirm within ${confirmS} s: the ${this.router.kind} restores itself at ${rollback.when} (its clock)`, [], planned.changes.length);
  }

  /**
   * The way back, installed before the first change in one round trip: the script with the inverse of the
   * planned operations and the scheduler entry that runs it once, `confirmS` seconds from now by the router's
   * clock (read with the plan; the time since then is added). An inert rollback left behind goes first.
   */
  private async installRollback(client: RosClient, confirmS: number, progress: Progress): Promise<{ schedulerId: string; scriptId: string; when: string; deadline: number }> {
    const planned = this.planned!;
    const pending = planned.changes.length;
    if (!this.clock || !this.live) throw new PartialApplyError(`cannot read the ${this.router.kind}'s clock (/system/clock) to schedule its rollback; nothing was changed (--confirm-timeout 0 applies without a rollback)`, [], pending);
    const startedAt = Date.now();
    const at = clockPlus(this.clock.at, (startedAt - this.clock.readAt) / 1000 + confirmS);
    if (!at) throw new PartialApplyError(`the ${this.router.kind}'s clock reads "${this.clock.at.date} ${this.clock.at.time}", which flatnet cannot schedule its rollback by; nothing was changed (--confirm-timeout 0 applies without a rollback)`, [], pending);
    const when = `${at.date} ${at.time}`;
    const comment = `${ROLLBACK_COMMENT} ${randomBytes(6).toString('hex')}`;
    const source = rollbackScript(planned.ops, this.live, comment);
    progress(`installing the rollback: the ${this.router.kind} restores the state before this apply at ${when} (its clock) unless confirmed`);
    const stale = this.leftover && !this.leftover.pending ? this.leftover : undefined;
    const words: string[][] = [
      ...(stale?.scheduler ? [['/system/scheduler/remove', `=numbers=${stale.scheduler}`]] : []),
      ...(stale?.script ? [['/system/script/remove', `=numbers=${stale.script}`]] : []),
      ['/system/script/add', `=name=${ROLLBACK_NAME}`, `=policy=${ROLLBACK_POLICY}`, `=comment=${comment}`, `=source=${source}`],
      // interval 0: runs once, at start-date/start-time (the script removes this entry first)
      ['/system/scheduler/add', `=name=${ROLLBACK_NAME}`, `=start-date=${at.date}`, `=start-time=${at.time}`, '=interval=0s', `=on-event=/system/script/run ${ROLLBACK_NAME}`, `=policy=${ROLLBACK_POLICY}`, `=comment=${comment}`],
    ];
    const results = await Promise.allSettled(words.map((w) => client.command(w)));
    this.syncStats();
    const [script, scheduler] = results.slice(-2) as [PromiseSettledResult<{ ret?: string }>, PromiseSettledResult<{ ret?: string }>];
    if (script.status === 'fulfilled' && scheduler.status === 'fulfilled' && script.value.ret && scheduler.value.ret) {
      return { scriptId: script.value.ret, schedulerId: scheduler.value.ret, when, deadline: startedAt + confirmS * 1000 - Math.min(5_000, confirmS * 250) };
    }
    // half a rollback is none: take back what was added, change nothing
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    await Promise.allSettled([
      ...(script.status === 'fulfilled' && script.value.ret ? [client.command(['/system/script/remove', `=numbers=${script.value.ret}`])] : []),
      ...(scheduler.status === 'fulfilled' && scheduler.value.ret ? [client.command(['/system/scheduler/remove', `=numbers=${scheduler.value.ret}`])] : []),
    ]);
    const reason = failed ? (failed.reason instanceof RosError ? failed.reason.message : String(failed.reason)) : 'no id in the reply';
    throw new PartialApplyError(`could not install the rollback (/system/script and /system/scheduler ${ROLLBACK_NAME}): ${reason}; nothing was changed`, [], pending);
  }

  /**
   * Over a NEW connection (proof that the router can still be reached): removes the scheduler entry, then the
   * script, in one round trip. Tried until shortly before the rollback is due; each attempt bounded by that.
   * 'ran': the scheduler entry was gone, so the rollback ran (its first line removes it).
   */
  private async confirm(rollback: { schedulerId: string; scriptId: string; deadline: number }): Promise<'confirmed' | 'ran' | 'unreachable'> {
    let first = true;
    while (first || Date.now() < rollback.deadline) {
      first = false;
      const remaining = Math.max(1_000, rollback.deadline - Date.now());
      let client: RosClient | undefined;
      try {
        client = await this.openClient({ connectTimeoutMs: Math.min(remaining, this.options.connectTimeoutMs ?? 10_000), commandTimeoutMs: Math.min(remaining, this.options.commandTimeoutMs ?? 30_000) });
        const [scheduler, script] = await Promise.allSettled([
          client.command(['/system/scheduler/remove', `=numbers=${rollback.schedulerId}`]),
          client.command(['/system/script/remove', `=numbers=${rollback.scriptId}`]),
        ]);
        void script;
        if (scheduler.status === 'fulfilled') return 'confirmed';
        if (scheduler.reason instanceof RosError && scheduler.reason.kind === 'trap') return 'ran';
      } catch {
        // not reachable (yet): try again
      } finally {
        if (client) {
          client.close();
          for (const k of Object.keys(this.confirmStats) as Array<keyof RosStats>) this.confirmStats[k] += client.stats[k];
          this.syncStats();
        }
      }
      await new Promise((res) => setTimeout(res, Math.min(500, Math.max(0, rollback.deadline - Date.now()))));
    }
    return 'unreachable';
  }

  /** the confirmation's sessions, added to the apply's own in `stats` */
  private confirmStats: RosStats = { sentencesSent: 0, sentencesReceived: 0, bytesSent: 0, bytesReceived: 0, roundTrips: 0 };

  private syncStats(): void {
    if (!this.client) return;
    for (const k of Object.keys(this.confirmStats) as Array<keyof RosStats>) this.stats[k] = this.client.stats[k] + this.confirmStats[k];
  }

  close(): void {
    this.client?.close();
  }
}

function opProps(op: RosOp): string {
  if (op.op === 'set') return ` (${op.props.map(([k, v]) => `${k}=${v}`).join(' ')})`;
  return '';
}

function resolve(ref: IdRef, ids: Map<RosOp, string>): string {
  if ('id' in ref) return ref.id;
  const id = ids.get(ref.addedBy);
  if (id === undefined) throw new Error('internal: an operation refers to an object whose add did not answer with an id');
  return id;
}

/** The API sentence of one operation. Values go as words: no quoting, nothing to inject. */
export function words(op: RosOp, ids: Map<RosOp, string>): string[] {
  const attrs = (props: ReadonlyArray<readonly [string, string]>) => props.map(([k, v]) => `=${k}=${v}`);
  switch (op.op) {
    case 'add':
      return [`${op.menu}/add`, ...attrs(op.props), ...(op.placeBefore ? [`=place-before=${resolve(op.placeBefore, ids)}`] : [])];
    case 'set':
      return [`${op.menu}/set`, `=.id=${op.id}`, ...attrs(op.props)];
    case 'move':
      return [`${op.menu}/move`, `=numbers=${op.id}`, ...(op.destination ? [`=destination=${resolve(op.destination, ids)}`] : [])];
    case 'enable':
    case 'disable':
    case 'remove':
      return [`${op.menu}/${op.op}`, `=numbers=${resolve(op.target, ids)}`];
  }
}
