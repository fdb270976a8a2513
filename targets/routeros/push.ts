// RouterOS plan and apply: read the live router in one pipelined round of prints, diff (diff.ts), and carry
// out the operations level by level, every operation of a level in flight at once (tagged).
import { readFileSync } from 'node:fs';
import { UserError } from '../../src/errors.js';
import { configuredPassword, expandHome } from '../../src/secrets.js';
import type { Model, RouterOSRouter } from '../../src/model.js';
import { LiveCheckError, PartialApplyError, type ApplyReport, type Change, type Progress, type PushUnit, type UnitPlan, type UnitRef } from '../../src/plan/types.js';
import { RosClient, RosError, type RosConnectOptions, type RosStats } from './api.js';
import { planRouter, readsFor, type IdRef, type LiveState, type PlannedOp, type RosOp, type Row } from './diff.js';
import { MENU_ORDER, type RosMenu } from './index.js';

export interface RouterOSPushOptions {
  /** connect + login (default 10 s) */
  connectTimeoutMs?: number;
  /** each API command (default 30 s) */
  commandTimeoutMs?: number;
  /** where password-env is looked up (default process.env) */
  env?: NodeJS.ProcessEnv;
}

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
    const connect: RosConnectOptions = {
      host: this.router.address,
      port: this.router.port,
      user: this.router.user,
      password,
      ...(this.router.tls ? { tls: { insecure: this.router.tlsInsecure, ...(ca ? { ca } : {}) } } : {}),
      ...(this.options.connectTimeoutMs !== undefined ? { connectTimeoutMs: this.options.connectTimeoutMs } : {}),
      ...(this.options.commandTimeoutMs !== undefined ? { commandTimeoutMs: this.options.commandTimeoutMs } : {}),
    };
    this.client = await RosClient.connect(connect);
    return this.client;
  }

  /** One print per menu this device reads (its capabilities decide which), all sent at once. */
  async read(client: RosClient): Promise<LiveState> {
    const reads = readsFor(this.router);
    const replies = await Promise.all(reads.map((r) => client.command([`${r.menu}/print`, ...(r.proplist ? [`=.proplist=${r.proplist}`] : [])])));
    this.stats.prints += reads.length;
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
    const planned = planRouter(this.model, this.router, live);
    if (planned.problems.length > 0) {
      throw new LiveCheckError(planned.problems);
    }
    this.planned = planned;
    return { unit: this.ref, changes: planned.changes, facts: planned.facts, warnings: planned.warnings, ...(planned.audit ? { audit: planned.audit } : {}) };
  }

  async apply(progress: Progress): Promise<ApplyReport> {
    const client = this.client;
    const planned = this.planned;
    if (!client || !planned) throw new Error('internal: apply before plan');
    const done: Change[] = []; // every op carried out, reported as it happened
    const completed: Change[] = []; // plan changes fully carried out
    const ids = new Map<RosOp, string>();
    const levels = [...new Set(planned.ops.map((o) => o.level))];
    for (const level of levels) {
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
          if (!done.includes(o.report)) done.push(o.report);
          if (o.completes) completed.push(o.completes);
        } else failure ??= { op: o, err: r.reason };
      });
      this.syncStats();
      if (failure) {
        const reason = failure.err instanceof RosError ? failure.err.message : String(failure.err);
        const what = `${failure.op.op.op} ${failure.op.op.menu} ${failure.op.report.name}${opProps(failure.op.op)}`;
        const kind = failure.err instanceof RosError && failure.err.kind === 'trap' ? `the ${this.router.kind} refused` : 'failed';
        const notDone = planned.changes.filter((c) => !completed.includes(c)).length;
        throw new PartialApplyError(`${kind} ${what}: ${reason}`, done, notDone);
      }
    }
    progress(`done: ${completed.length} change${completed.length === 1 ? '' : 's'}`);
    return { applied: completed };
  }

  private syncStats(): void {
    if (!this.client) return;
    Object.assign(this.stats, this.client.stats);
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
