// `plan` and `apply` as the CLI runs them: load the spec once, plan every selected unit concurrently,
// show the plan (text or --json), ask, apply, report. Progress goes to stderr, the plan to stdout.
import { createInterface } from 'node:readline';
import { formatProblem, UserError } from '../errors.js';
import { flowsOf } from '../audit/flows.js';
import { renderFlowTable } from '../audit/findings.js';
import type { Model } from '../model.js';
import { resolveModel } from '../model.js';
import { pushUnits, type PushOptions } from '../push.js';
import { loadSpecFile, parseSpecText, STDIN_ARG } from '../spec-file/load.js';
import { readFileSync } from 'node:fs';
import { readSavedPlan, savedPlanDrift, savePlan } from './saved.js';
import { NAME_PATTERN } from '../spec-file/schema.js';
import { sameOwner } from '../ownership.js';
import { applyUnits, closeUnits, exitCode, planUnits, type UnitResult } from './engine.js';
import { planJson, renderOutcome, renderPlan, summaryLine, useColor, type RenderContext } from './render.js';
import type { UnitRef } from './types.js';

export interface PlanCommandOptions {
  routers?: string[];
  switches?: string[];
  host?: string;
  /** more Docker hosts (a repeated --host) */
  hosts?: string[];
  json?: boolean;
  /** text plan: every property of every object, not one line per object */
  verbose?: boolean;
  detailedExitcode?: boolean;
  /** seconds, per API command and for connect+login */
  timeout?: number;
  concurrency?: number;
  /** OpenWrt: record an unknown host key in known_hosts instead of refusing it */
  acceptNewHostKey?: boolean;
  /** host: where /etc and /run are (default /) */
  installRoot?: string;
  /** plan: print the audit's flow table of this network */
  explain?: string;
  /** plan: save the plan to this file, for `apply FILE` */
  out?: string;
  /** objects of this owner ('none': without owner) are the spec's too: relabelled in place to the spec's owner */
  fromOwner?: string;
  /** hand-made objects that already are what the spec asks for are taken over in place (`= adopt`), not refused */
  adopt?: boolean;
}

export interface ApplyCommandOptions extends PlanCommandOptions {
  yes?: boolean;
  dryRun?: boolean;
  /** OpenWrt: seconds before the router rolls back an unconfirmed change (0: no watchdog) */
  confirmTimeout?: number;
  /** host: replace networks with containers attached (disconnect, recreate, reconnect) */
  recreateNetworks?: boolean;
}

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

const defaultIo = (): Io => ({ stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env });

export function prepare(spec: string, options: ApplyCommandOptions, io: Io, specText?: string) {
  // a saved plan carries its spec: that text, named after the file it came from
  const loaded = specText !== undefined ? parseSpecText(specText, spec) : loadSpecFile(spec);
  const model = resolveModel(loaded);
  if (options.fromOwner !== undefined) {
    if (options.fromOwner !== 'none' && !NAME_PATTERN.test(options.fromOwner)) throw new UserError(`--from-owner: "${options.fromOwner}" is no owner name ([a-z][a-z0-9-]{0,30}, or none for objects without an owner)`);
    const from = options.fromOwner === 'none' ? {} : { owner: options.fromOwner };
    if (!sameOwner(from.owner, model.ownership.owner)) model.ownership = { ...model.ownership, from };
  }
  for (const w of model.warnings) io.stderr.write(`${formatProblem(loaded.file, { ...w, message: `warning: ${w.message}` })}\n`);
  // loaded.locate falls back to the nearest key the spec has (a defaulted key such as routers.core.wan)
  const ctx: RenderContext = { file: loaded.file, locate: loaded.locate };
  const pushOptions: PushOptions = {
    env: io.env,
    specFile: spec,
    ...(options.timeout !== undefined ? { connectTimeoutMs: options.timeout * 1000, commandTimeoutMs: options.timeout * 1000 } : {}),
    ...(options.confirmTimeout !== undefined ? { confirmTimeoutS: options.confirmTimeout } : {}),
    ...(options.acceptNewHostKey ? { acceptNewHostKey: true } : {}),
    ...(io.env.FLATNET_TEST_REMOTE_ROOT ? { remoteRoot: io.env.FLATNET_TEST_REMOTE_ROOT } : {}),
    ...(options.installRoot !== undefined ? { installRoot: options.installRoot } : {}),
    ...(options.recreateNetworks ? { recreateNetworks: true } : {}),
    ...(options.adopt ? { adopt: true } : {}),
  };
  const units = pushUnits(model, { ...(options.routers ? { routers: options.routers } : {}), ...(options.switches ? { switches: options.switches } : {}), ...(options.host !== undefined ? { host: options.host } : {}), ...(options.hosts?.length ? { hosts: options.hosts } : {}) }, pushOptions);
  const colorOut = useColor(io.stdout, io.env);
  const colorErr = useColor(io.stderr, io.env);
  const progress = (unit: UnitRef, message: string) => {
    const line = `${unit.name}: ${message}`;
    io.stderr.write(colorErr ? `\u001b[2m${line}\u001b[0m\n` : `${line}\n`);
  };
  return { model, units, ctx, colorOut, colorErr, progress };
}

/**
 * Ctrl-C and SIGTERM while a command runs. Before any change is sent (reads, the question) the command exits
 * 130 at once: nothing was changed. While an apply sends changes, the first one aborts `signal` (no new
 * operation starts, those in flight finish or fail, the outcome is printed, exit 130); a second one exits at once.
 */
export class Interrupts {
  readonly controller = new AbortController();
  private applying = false;
  private readonly handler = (signal: NodeJS.Signals) => {
    if (!this.applying) {
      this.io.stderr.write(`\nflatnet-router: interrupted (${signal}); nothing was changed\n`);
      process.exit(130);
    }
    if (this.controller.signal.aborted) {
      this.io.stderr.write(`\nflatnet-router: interrupted again (${signal}): exiting at once; changes in flight may or may not have been made: run plan to see\n`);
      process.exit(130);
    }
    this.io.stderr.write(`\nflatnet-router: interrupted (${signal}): no new change is sent; waiting for those in flight (again to exit at once)\n`);
    this.controller.abort();
  };
  constructor(private readonly io: Io) {
    process.on('SIGINT', this.handler);
    process.on('SIGTERM', this.handler);
  }
  get signal(): AbortSignal {
    return this.controller.signal;
  }
  /** from here on changes are sent: an interrupt stops between steps instead of exiting */
  startApplying(): void {
    this.applying = true;
  }
  dispose(): void {
    process.off('SIGINT', this.handler);
    process.off('SIGTERM', this.handler);
  }
}

export async function runPlan(spec: string, options: PlanCommandOptions, io: Io = defaultIo()): Promise<number> {
  const interrupts = new Interrupts(io);
  try {
    return await plan(spec, options, io);
  } finally {
    interrupts.dispose();
  }
}

async function plan(spec: string, options: PlanCommandOptions, io: Io): Promise<number> {
  const { model, units, ctx, colorOut, progress } = prepare(spec, options, io);
  if (options.explain !== undefined && !model.networks.some((n) => n.name === options.explain)) {
    closeUnits(units);
    throw new UserError(`--explain: no network named "${options.explain}" in the spec (networks: ${model.networks.map((n) => n.name).join(', ') || 'none'})`);
  }
  let results: UnitResult[];
  try {
    results = await planUnits(units, { progress, concurrency: options.concurrency ?? 4 });
  } finally {
    closeUnits(units);
  }
  io.stdout.write(options.json ? planJson(results, ctx, 'plan') : renderPlan(results, ctx, { color: colorOut, verbose: options.verbose === true }));
  const explain = options.explain;
  if (explain !== undefined && !options.json) io.stdout.write(explainNetwork(model, results, explain));
  if (options.out !== undefined) {
    if (spec === STDIN_ARG) throw new UserError('plan --out: the spec must be a file, not standard input');
    savePlan(options.out, spec, readFileSync(spec, 'utf8'), selectionOf(options), results, { ...(options.adopt ? { adopt: true } : {}), ...(options.fromOwner !== undefined ? { fromOwner: options.fromOwner } : {}) });
    io.stderr.write(`flatnet-router: plan saved to ${options.out}; apply exactly it with: flatnet-router apply ${options.out}\n`);
  }
  return exitCode(results, options.detailedExitcode === true);
}

const selectionOf = (o: PlanCommandOptions) => ({
  ...(o.routers ? { routers: o.routers } : {}),
  ...(o.switches ? { switches: o.switches } : {}),
  ...(o.hosts?.length ? { hosts: o.hosts } : o.host !== undefined ? { hosts: [o.host] } : {}),
});

export async function runApply(spec: string, options: ApplyCommandOptions, io: Io = defaultIo()): Promise<number> {
  const saved = readSavedPlan(spec);
  if (saved) return applySaved(spec, saved, options, io);
  if (options.dryRun) return runPlan(spec, options, io);
  const { units, ctx, colorOut, colorErr, progress } = prepare(spec, options, io);
  // prepare is synchronous: no signal is handled before this
  const interrupts = new Interrupts(io);
  try {
    const planned = await planUnits(units, { progress, concurrency: options.concurrency ?? 4 });
    if (!options.json) io.stdout.write(renderPlan(planned, ctx, { color: colorOut, verbose: options.verbose === true }));
    const pending = planned.filter((r) => r.status === 'changes');
    if (pending.length === 0) {
      if (options.json) io.stdout.write(planJson(planned, ctx, 'apply'));
      else io.stdout.write(renderOutcome(planned, { color: colorOut }));
      return exitCode(planned, false);
    }
    if (!options.yes) {
      const interactive = io.stdin.isTTY === true && io.stderr.isTTY === true;
      if (!interactive) {
        const why = 'refusing to apply without confirmation: no terminal to ask on; review the plan (flatnet-router plan) and run apply with --yes';
        io.stderr.write(`flatnet-router: ${why}\n`);
        if (options.json) io.stdout.write(planJson(planned, ctx, 'apply', { status: 'refused', error: why }));
        return 1;
      }
      // with --json the plan is not on the terminal yet: show it where the question is asked
      if (options.json) io.stderr.write(renderPlan(planned, ctx, { color: colorErr, verbose: options.verbose === true }));
      const what = pending.map((r) => `${r.unit.name} (${summaryLine(r.plan!.changes)})`).join('; ');
      const answer = await ask(io, `${colorErr ? '\u001b[1m' : ''}Apply these changes to ${what}?${colorErr ? '\u001b[0m' : ''} Only "yes" applies: `);
      if (answer === null) {
        io.stderr.write('\nflatnet-router: interrupted; nothing was changed\n');
        if (options.json) io.stdout.write(planJson(planned, ctx, 'apply', { status: 'interrupted', error: 'interrupted at the question; nothing was changed' }));
        return 130;
      }
      if (answer.trim() !== 'yes') {
        io.stderr.write('flatnet-router: apply cancelled; nothing was changed\n');
        if (options.json) io.stdout.write(planJson(planned, ctx, 'apply', { status: 'cancelled', error: 'apply cancelled; nothing was changed' }));
        return 1;
      }
    }
    return await applyAndReport(units, planned, options, io, interrupts, ctx, colorOut, progress);
  } finally {
    closeUnits(units);
    interrupts.dispose();
  }
}

/** The answer, or null for Ctrl-C at the question. */
function ask(io: Io, question: string): Promise<string | null> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: true });
    let answered = false;
    rl.question(question, (answer) => {
      answered = true;
      rl.close();
      resolve(answer);
    });
    rl.on('SIGINT', () => {
      answered = true;
      rl.close();
      resolve(null);
    });
    rl.on('close', () => {
      if (!answered) resolve('');
    });
  });
}

/** `status`: every selected device read (nothing changed), one row per network; exit 0 in sync, 2 drift, 1 error. */
export async function runStatus(spec: string, options: PlanCommandOptions, io: Io = defaultIo()): Promise<number> {
  const { readStatus, renderStatus, statusJson } = await import('./status.js');
  const { model, units, ctx, colorOut, progress } = prepare(spec, options, io);
  const report = await readStatus(model, units, { progress, concurrency: options.concurrency ?? 4 }, spec);
  io.stdout.write(options.json ? statusJson(report) : renderStatus(report, ctx, colorOut));
  return report.exitCode;
}

/** `plan --explain NETWORK`: the audit's flow table of one network, from the plan of its router. */
function explainNetwork(model: Model, results: readonly UnitResult[], network: string): string {
  const n = model.networks.find((x) => x.name === network)!;
  if (n.vlan === undefined || n.router === undefined) return `\n--explain ${network}: an untagged network is the router's own LAN; flatnet decides no flows for it\n`;
  const result = results.find((r) => r.unit.kind === 'router' && r.unit.name === n.router);
  if (!result) return `\n--explain ${network}: its router ${n.router} was not planned (add --router ${n.router})\n`;
  if (!result.plan?.audit) return `\n--explain ${network}: no audit for router ${n.router} (${result.plan ? 'its plan has none' : 'it could not be read'})\n`;
  return `\nFlows of ${network} on router ${n.router}, new connections, as the firewall will be after apply:\n${renderFlowTable(flowsOf(result.plan.audit, network))}`;
}

/**
 * `apply FILE` with a saved plan: the devices of the plan are planned again from the spec in the file; when
 * every one plans exactly what was saved, that is applied without asking (it was reviewed when saved);
 * otherwise nothing is sent and the command says which device changed.
 */
async function applySaved(file: string, saved: ReturnType<typeof readSavedPlan> & object, options: ApplyCommandOptions, io: Io): Promise<number> {
  const selected: ApplyCommandOptions = { ...options, ...(saved.options ?? {}), ...(saved.selection.routers ? { routers: saved.selection.routers } : {}), ...(saved.selection.switches ? { switches: saved.selection.switches } : {}), ...(saved.selection.hosts ? { hosts: saved.selection.hosts } : {}) };
  const { units, ctx, colorOut, progress } = prepare(saved.specFile, selected, io, saved.specText);
  const interrupts = new Interrupts(io);
  try {
    const planned = await planUnits(units, { progress, concurrency: options.concurrency ?? 4 });
    const drift = savedPlanDrift(saved, planned);
    if (drift.length > 0) {
      const why = `the saved plan ${file} is out of date: ${drift.join('; ')}; nothing was changed: run flatnet-router plan --out again`;
      io.stderr.write(`flatnet-router: ${why}\n`);
      if (options.json) io.stdout.write(planJson(planned, ctx, 'apply', { status: 'refused', error: why }));
      return 1;
    }
    if (!options.json) io.stdout.write(renderPlan(planned, ctx, { color: colorOut, verbose: options.verbose === true }));
    if (options.dryRun) return exitCode(planned, false);
    return await applyAndReport(units, planned, options, io, interrupts, ctx, colorOut, progress);
  } finally {
    closeUnits(units);
    interrupts.dispose();
  }
}

/** Applies the planned units (stopping at a signal), prints the outcome (text or --json), returns the exit code. */
async function applyAndReport(
  units: Parameters<typeof applyUnits>[0],
  planned: UnitResult[],
  options: ApplyCommandOptions,
  io: Io,
  interrupts: Interrupts,
  ctx: RenderContext,
  colorOut: boolean,
  progress: (unit: UnitRef, message: string) => void,
): Promise<number> {
  interrupts.startApplying();
  const applied = await applyUnits(units, planned, { progress, concurrency: options.concurrency ?? 4, signal: interrupts.signal });
  const interrupted = interrupts.signal.aborted ? { status: 'interrupted' as const, error: 'interrupted: no new change was sent after the signal; see each device for what was applied' } : undefined;
  io.stdout.write(options.json ? planJson(applied, ctx, 'apply', interrupted) : renderOutcome(applied, { color: colorOut }));
  return interrupted ? 130 : exitCode(applied, false);
}
