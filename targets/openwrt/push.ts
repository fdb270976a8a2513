// OpenWrt plan and apply over SSH, in at most three remote commands whatever the number of networks:
//   1. read: `uci export` of network, firewall and dhcp, plus the facts plan needs (one command);
//   2. apply: the batch of changes on stdin; its stderr and `uci changes` are checked against what the batch
//      must stage before anything is committed (else every config is reverted); then the old config files
//      are kept, a rollback watchdog is armed, the changed configs committed and their services reloaded;
//   3. confirm, over a NEW connection: proves the router is still reachable and disarms the watchdog.
// Spec values travel only inside the batch on stdin, never in a command line.
import { createHash, randomBytes } from 'node:crypto';
import { UserError } from '../../src/errors.js';
import type { Model, OpenWrtRouter } from '../../src/model.js';
import { InterruptedError, LiveCheckError, PartialApplyError, type ApplyReport, type Change, type Progress, type PushUnit, type UnitPlan, type UnitRef } from '../../src/plan/types.js';
import { shellQuote } from '../../src/quote.js';
import { configuredPassword, expandHome } from '../../src/secrets.js';
import { SECTION_PREFIX, specPath, specPathOf } from './index.js';
import { ANONYMOUS_STAGED, CONFIGS, planOpenWrt, type ConfigName, type OpenWrtLive, type OpenWrtPlan } from './diff.js';
import { SshError, SshSession, defaultKnownHosts, type SshOptions } from './ssh.js';
import { parseUciExport } from './uci.js';

export interface OpenWrtPushOptions {
  env?: NodeJS.ProcessEnv;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
  /** seconds the router waits for the confirming connection before it restores the old config; 0: no watchdog */
  confirmTimeoutS?: number;
  acceptNewHostKey?: boolean;
  /** tests only: a prefix for every path on the router (a scratch root instead of /) */
  remoteRoot?: string;
  /** --adopt: hand-made sections that are what the spec asks for are renamed to flatnet's and taken over */
  adopt?: boolean;
}

/** Counts remote commands, for tests and the benchmark. */
export interface OpenWrtStats {
  commands: number;
  bytesSent: number;
  connections: number;
}

const SERVICES: Record<ConfigName, string> = { network: 'network', firewall: 'firewall', dhcp: 'dnsmasq' };
const MARK = (s: string) => `==flatnet:${s}==`;

export class OpenWrtUnit implements PushUnit {
  readonly ref: UnitRef;
  stats: OpenWrtStats = { commands: 0, bytesSent: 0, connections: 0 };
  private session?: SshSession;
  private planned?: OpenWrtPlan;
  private readonly root: string;

  constructor(
    private readonly model: Model,
    private readonly router: OpenWrtRouter,
    private readonly options: OpenWrtPushOptions = {},
  ) {
    this.ref = { kind: router.kind, name: router.name, type: 'openwrt', endpoint: `ssh ${router.user}@${router.address}:${router.port}` };
    this.root = options.remoteRoot ?? '';
  }

  private sshOptions(): SshOptions {
    const env = this.options.env ?? process.env;
    const r = this.router;
    const password = configuredPassword(r, env);
    if (r.keyFile === undefined && password === undefined && !env.SSH_AUTH_SOCK) {
      throw new UserError(`${specPath(r)}: no key-file, no password and no SSH agent (SSH_AUTH_SOCK): nothing to log in with`);
    }
    return {
      specPath: specPath(r),
      host: r.address,
      port: r.port,
      user: r.user,
      ...(r.keyFile !== undefined ? { keyFile: expandHome(r.keyFile, env) } : {}),
      ...(password !== undefined ? { password } : {}),
      ...(env.SSH_AUTH_SOCK ? { agentSocket: env.SSH_AUTH_SOCK } : {}),
      ...(r.hostKey !== undefined ? { hostKey: r.hostKey } : {}),
      knownHostsFile: defaultKnownHosts(env),
      ...(this.options.acceptNewHostKey ? { acceptNewHostKey: true } : {}),
      ...(this.options.connectTimeoutMs !== undefined ? { connectTimeoutMs: this.options.connectTimeoutMs } : {}),
      ...(this.options.commandTimeoutMs !== undefined ? { commandTimeoutMs: this.options.commandTimeoutMs } : {}),
    };
  }

  private async connect(): Promise<SshSession> {
    const session = await SshSession.connect(this.sshOptions());
    this.stats.connections++;
    return session;
  }

  private async run(session: SshSession, script: string, stdin?: string) {
    this.stats.commands++;
    this.stats.bytesSent += Buffer.byteLength(script) + (stdin ? Buffer.byteLength(stdin) : 0);
    return session.run(script, stdin);
  }

  /** The shell preamble of every command: where things are on the router (a scratch root in tests). */
  private preamble(): string {
    return `R=${this.root === '' ? "''" : shellQuote(this.root)}; PATH="$R/usr/sbin:$R/usr/bin:$R/sbin:$R/bin:$PATH"; W="$R/tmp/flatnet-rollback"`;
  }

  readScript(): string {
    return [
      this.preamble(),
      ...CONFIGS.map((c) => `echo '${MARK(c)}'; uci -q export ${c}`),
      `echo '${MARK('release')}'; (. "$R/etc/openwrt_release" 2>/dev/null && echo "$DISTRIB_RELEASE")`,
      `echo '${MARK('ubus')}'; command -v ubus >/dev/null 2>&1 && echo yes || echo no`,
      `echo '${MARK('window')}'; [ -e "$W/armed" ] && echo armed`,
      `echo '${MARK('staged')}'; uci changes`,
      `echo '${MARK('end')}'`,
    ].join('\n');
  }

  /** Reads the configs and the facts plan needs in one command (connecting first; the session stays open). Also import's read. */
  async read(): Promise<OpenWrtLive & { rollbackArmed: boolean }> {
    this.session ??= await this.connect();
    const r = await this.run(this.session, this.readScript());
    const parts = splitMarked(r.stdout);
    if (r.code !== 0 || !parts.has('end')) throw new SshError('command', `reading the configuration failed (exit ${r.code ?? 'none'}): ${firstLine(r.stderr) || 'no output'}`);
    const sections = CONFIGS.flatMap((c) => parseUciExport(parts.get(c) ?? '', c));
    return {
      sections,
      ...(parts.get('release')?.trim() ? { release: parts.get('release')!.trim() } : {}),
      hasUbus: parts.get('ubus')?.trim() === 'yes',
      staged: (parts.get('staged') ?? '').split('\n').map((l) => l.trim()).filter(Boolean),
      rollbackArmed: parts.get('window')?.trim() === 'armed',
    };
  }

  async plan(progress: Progress): Promise<UnitPlan> {
    progress(`connecting to ${this.router.address}:${this.router.port}`);
    this.session = await this.connect();
    progress('reading');
    const { rollbackArmed, ...live } = await this.read();
    const planned = planOpenWrt(this.model, this.router, live, this.options.adopt ? { adopt: true } : {});
    if (rollbackArmed) {
      planned.problems.push({ path: specPathOf(this.router), message: 'an earlier apply is still waiting for its confirmation (its rollback window is open): wait for it to roll back or confirm, then plan again' });
    }
    if (planned.problems.length > 0) throw new LiveCheckError(planned.problems);
    this.planned = planned;
    return { unit: this.ref, changes: planned.changes, facts: planned.facts, warnings: planned.warnings, ...(planned.audit ? { audit: planned.audit } : {}) };
  }

  applyScript(plan: OpenWrtPlan, confirmS: number, token: string): string {
    const configs = plan.changed.join(' ');
    const reloads = plan.changed.map((c) => `"$R/etc/init.d/${SERVICES[c]}" reload >/dev/null 2>&1`).join('; ');
    const expected = createHash('md5').update(`${plan.expectedStaged.join('\n')}\n`).digest('hex');
    const revert = `for c in ${CONFIGS.join(' ')}; do uci -q revert $c; done`;
    return [
      this.preamble(),
      'umask 077',
      'err=$(uci batch 2>&1 >/dev/null)',
      // an anonymous section renamed (--adopt) is staged under the cfgXXXXXX id uci made up: named as the plan names it
      `staged=$(for c in ${CONFIGS.join(' ')}; do uci changes $c 2>/dev/null; done | sed "s/^\\([a-z]*\\)\\.cfg[0-9a-f]\\{6\\}='\\(${SECTION_PREFIX}[A-Za-z0-9_]*\\)'$/\\1.${ANONYMOUS_STAGED}='\\2'/")`,
      `sum=$(printf '%s\\n' "$staged" | md5sum | cut -d' ' -f1)`,
      `if [ -n "$err" ] || [ "$sum" != ${expected} ]; then ${revert}; echo '${MARK('batch-failed')}'; printf '%s\\n' "$err"; echo '${MARK('staged')}'; printf '%s\\n' "$staged"; exit 3; fi`,
      ...(confirmS > 0
        ? [
            `if [ -e "$W/armed" ]; then ${revert}; echo '${MARK('window-open')}'; exit 4; fi`,
            'rm -rf "$W" && mkdir -p "$W" || exit 5',
            `for c in ${configs}; do cp "$R/etc/config/$c" "$W/$c" || { ${revert}; exit 5; }; done`,
            `echo ${token} > "$W/token"; : > "$W/armed"`,
            // the watchdog outlives this session; whoever renames "armed" first (it, or the confirmation) wins.
            // Its sleep runs as a child of its own with a pid file, so the confirmation stops both: killing
            // the subshell alone would leave the sleep running until it ends by itself
            `( trap '' HUP INT; sleep ${confirmS} & echo $! > "$W/sleep"; wait $!; if mv "$W/armed" "$W/rolling" 2>/dev/null; then for c in ${configs}; do cp "$W/$c" "$R/etc/config/$c"; done; ${reloads}; echo rolled-back > "$W/state"; fi ) </dev/null >/dev/null 2>&1 &`,
            'echo $! > "$W/pid"',
          ]
        : []),
      `for c in ${configs}; do uci commit $c || { echo '${MARK('commit-failed')}'; echo "$c"; ${revert}; exit 6; }; echo "==flatnet:committed-$c=="; done`,
      `echo '${MARK('committed')}'; [ -d "$W" ] && : > "$W/committed"`,
      reloads,
      `[ -d "$W" ] && : > "$W/reloaded"; echo '${MARK('applied')}'`,
    ].join('\n');
  }

  confirmScript(token: string): string {
    // Safe to repeat: the directory stays until the next apply, so a confirmation whose answer was lost
    // is answered "confirmed" again rather than "unknown".
    return [
      this.preamble(),
      `if [ "$(cat "$W/token" 2>/dev/null)" != ${token} ]; then echo '${MARK('unknown')}'; exit 0; fi`,
      `if [ -e "$W/confirmed" ]; then echo '${MARK('confirmed')}'; exit 0; fi`,
      `if [ -e "$W/armed" ] && [ ! -e "$W/reloaded" ]; then echo '${MARK('reloading')}'; exit 0; fi`,
      // the subshell first (its sleep ending must not wake it), then its sleep
      `if mv "$W/armed" "$W/confirmed" 2>/dev/null; then kill "$(cat "$W/pid")" 2>/dev/null; kill "$(cat "$W/sleep" 2>/dev/null)" 2>/dev/null; echo '${MARK('confirmed')}'; exit 0; fi`,
      `echo "==flatnet:$(cat "$W/state" 2>/dev/null || echo not-confirmed)=="`,
    ].join('\n');
  }

  async apply(progress: Progress, signal?: AbortSignal): Promise<ApplyReport> {
    const plan = this.planned;
    const session = this.session;
    if (!plan || !session) throw new Error('internal: apply before plan');
    // One batch, committed and confirmed as a whole (its watchdog restores the config unless confirmed): an
    // interrupt stops it only before it is sent; once sent it runs to its confirmation.
    if (signal?.aborted) throw new InterruptedError('interrupted before the batch was sent; nothing was changed', [], plan.changes.length);
    // The watchdog guards changes that can cut the admin off: network and firewall.
    const confirmS = plan.changed.some((c) => c === 'network' || c === 'firewall') ? (this.options.confirmTimeoutS ?? 60) : 0;
    const token = randomBytes(8).toString('hex');
    progress(`applying ${plan.changes.length} change${plan.changes.length === 1 ? '' : 's'} (${plan.changed.join(', ')})${confirmS > 0 ? `, rollback in ${confirmS} s unless confirmed` : ''}`);
    const armedAt = Date.now();
    let output = '';
    let code: number | null = null;
    let lost: unknown;
    try {
      const r = await this.run(session, this.applyScript(plan, confirmS, token), `${plan.batch.join('\n')}\n`);
      output = r.stdout;
      code = r.code;
    } catch (err) {
      lost = err; // the reload may have cut this session: the confirmation below tells what happened
    }
    const parts = splitMarked(output);
    if (parts.has('batch-failed')) {
      const failed = firstMissing(plan, parts.get('staged') ?? '');
      const uciError = firstLine(parts.get('batch-failed') ?? '');
      throw new PartialApplyError(`uci refused ${failed ?? 'a line of the batch'}${uciError ? ` (${uciError})` : ''}; every change was reverted, nothing was committed`, [], plan.changes.length);
    }
    if (parts.has('window-open')) throw new PartialApplyError('an earlier apply is still waiting for its confirmation; nothing was committed', [], plan.changes.length);
    if (!lost && code !== 0 && !parts.has('applied')) {
      const committed = plan.changed.filter((c) => parts.has(`committed-${c}`));
      if (parts.has('commit-failed')) {
        const failed = firstLine(parts.get('commit-failed') ?? '');
        // without a watchdog the configs committed before the failure stay: their changes are applied
        const stays = confirmS > 0 ? [] : plan.changes.filter((c) => committed.some((config) => c.kind.startsWith(`${config}.`)));
        throw new PartialApplyError(
          `uci commit ${failed} failed; ${committed.length ? `${committed.join(', ')} ${committed.length === 1 ? 'was' : 'were'} committed and ${confirmS > 0 ? 'will be rolled back by the watchdog' : 'stay committed'}` : 'nothing was committed'}; the rest was reverted`,
          stays,
          plan.changes.length - stays.length,
        );
      }
      const all = committed.length === plan.changed.length;
      throw new PartialApplyError(`the apply command failed (exit ${code ?? 'none'})${all ? ' after the commit: services may not have reloaded' : '; nothing was committed'}`, all ? plan.changes : [], all ? 0 : plan.changes.length);
    }
    if (confirmS === 0) {
      if (lost) throw new PartialApplyError(`the connection was lost during the apply (${(lost as Error).message}); run plan to see what was applied`, [], plan.changes.length);
      progress(`done: ${plan.changes.length} change${plan.changes.length === 1 ? '' : 's'}`);
      return { applied: plan.changes };
    }
    progress('reconnecting to confirm');
    const outcome = await this.confirm(token, armedAt + confirmS * 1000 - 1000);
    if (outcome === 'confirmed') {
      progress(`done: ${plan.changes.length} change${plan.changes.length === 1 ? '' : 's'}, confirmed`);
      return { applied: plan.changes };
    }
    const services = plan.changed.map((c) => SERVICES[c]).join(', ');
    if (outcome === 'unreachable') {
      throw new PartialApplyError(
        `could not reconnect within ${confirmS} s to confirm: the ${this.router.kind} restores the previous ${plan.changed.join(', ')} config and reloads ${services} by itself; check the spec (did it cut off the path to the ${this.router.kind}?)`,
        [],
        plan.changes.length,
      );
    }
    if (outcome === 'unknown') {
      throw new PartialApplyError('the router has no record of this apply (the apply command was cut off before it armed the rollback): run plan to see what changed', [], plan.changes.length);
    }
    if (outcome === 'rolled-back' || outcome === 'rolling') throw new PartialApplyError(`the ${this.router.kind} rolled the change back before it was confirmed (${outcome}); nothing stays changed`, [], plan.changes.length);
    throw new PartialApplyError(`the change was not confirmed (${outcome}); the ${this.router.kind} restores the previous config by itself within ${confirmS} s`, [], plan.changes.length);
  }

  /**
   * Tries a new connection until the deadline (at least once); each attempt bounded so the watchdog is never
   * outrun. "reloading" (the apply session was cut before the reload finished) is retried too.
   */
  private async confirm(token: string, deadline: number): Promise<string> {
    let last = 'unreachable';
    let first = true;
    while (first || Date.now() < deadline) {
      first = false;
      const remaining = Math.max(0, deadline - Date.now());
      let session: SshSession | undefined;
      try {
        session = await SshSession.connect({ ...this.sshOptions(), connectTimeoutMs: Math.max(1_000, Math.min(5_000, remaining)), commandTimeoutMs: Math.max(1_000, Math.min(10_000, remaining)) });
        this.stats.connections++;
        const r = await this.run(session, this.confirmScript(token));
        last = /==flatnet:([a-z-]+)==/.exec(r.stdout)?.[1] ?? 'no answer';
        if (last !== 'reloading') return last;
      } catch (err) {
        if (err instanceof SshError && err.kind === 'host-key') return `host key refused: ${err.message}`;
        if (last !== 'reloading') last = 'unreachable';
      } finally {
        session?.close();
      }
      await new Promise((res) => setTimeout(res, Math.min(1_000, Math.max(0, deadline - Date.now()))));
    }
    return last;
  }

  close(): void {
    this.session?.close();
  }
}

/** Output sections between `==flatnet:name==` marker lines. */
function splitMarked(stdout: string): Map<string, string> {
  const parts = new Map<string, string>();
  let current: string | undefined;
  let lines: string[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^==flatnet:([a-z-]+)==$/.exec(line);
    if (m) {
      if (current !== undefined) parts.set(current, lines.join('\n'));
      current = m[1]!;
      lines = [];
    } else if (current !== undefined) lines.push(line);
  }
  if (current !== undefined) parts.set(current, lines.join('\n'));
  return parts;
}

const firstLine = (s: string) => s.split('\n').map((l) => l.trim()).find(Boolean) ?? '';

/** The first batch line whose staged change is missing: the line uci skipped. */
function firstMissing(plan: OpenWrtPlan, staged: string): string | undefined {
  const have = new Set(staged.split('\n').map((l) => l.trim()));
  const i = plan.expectedStaged.findIndex((l) => !have.has(l));
  if (i < 0) return undefined;
  const line = plan.stagedBy[i]!;
  return `line ${plan.batch.indexOf(line) + 1} of the batch: ${line}`;
}

