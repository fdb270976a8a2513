// How a plan reads: for a person (coloured like `terraform plan`: one line per object, + ~ - and, for a
// change, the properties that differ; every property with --verbose) and for a machine (--json, every
// property always). Both come from the same UnitResult list.
import { formatProblem } from '../errors.js';
import type { SpecPath } from '../errors.js';
import type { UnitResult } from './engine.js';
import { summarize, type Change, type ChangeAction } from './types.js';
import { isFinding, toFinding } from '../audit/findings.js';

export interface Style {
  color: boolean;
  /** list every property of an add (and every note in full), not only a change's differing ones */
  verbose?: boolean;
}

/** Colour only on a terminal, and never with NO_COLOR set (https://no-color.org). */
export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

const CODES = { green: 32, yellow: 33, red: 31, cyan: 36, bold: 1, dim: 2 } as const;
type Paint = (code: keyof typeof CODES, text: string) => string;
const painter = (style: Style): Paint => (code, text) => (style.color ? `\u001b[${CODES[code]}m${text}\u001b[0m` : text);

const SYMBOL: Record<ChangeAction, { sign: string; color: keyof typeof CODES }> = {
  add: { sign: '+', color: 'green' },
  change: { sign: '~', color: 'yellow' },
  remove: { sign: '-', color: 'red' },
  move: { sign: '>', color: 'cyan' },
  replace: { sign: '-/+', color: 'yellow' },
  adopt: { sign: '=', color: 'cyan' },
};

// Spec values and router replies reach the terminal here: no control character gets through raw.
const visible = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

/**
 * One object: its head line (sign, kind, the name that identifies it, the note) and, for a change or a
 * replace or with `verbose`, one line per property. An add's properties are in its name already (RouterOS
 * matchers, an address and its interface, a UCI section's key options) and all of them in --json.
 */
export function renderChange(change: Change, paint: Paint, options: { verbose?: boolean; note?: string } = {}): string[] {
  const { sign, color } = SYMBOL[change.action];
  const note = options.note ?? change.note;
  const head = `  ${paint(color, sign)} ${paint('bold', visible(change.kind))} ${visible(change.name)}${note ? paint('dim', `  (${visible(note)})`) : ''}`;
  const lines = [head];
  const showProps = options.verbose === true || change.action === 'change' || change.action === 'replace';
  const props = showProps ? (change.props ?? []) : [];
  const width = Math.max(0, ...props.map((p) => p.key.length));
  for (const p of props) {
    const key = visible(p.key).padEnd(width);
    if (p.from === undefined) lines.push(`      ${paint('green', '+')} ${key} = ${visible(p.to ?? '')}`);
    else if (p.to === undefined) lines.push(`      ${paint('red', '-')} ${key} = ${visible(p.from)}`);
    else lines.push(`      ${paint('yellow', '~')} ${key} = ${visible(p.from)} ${paint('dim', '->')} ${visible(p.to)}`);
  }
  return lines;
}

/** A unit's changes, one line each; a note repeating the one of the line above (a rule's place) reads "as above". */
function renderChanges(changes: readonly Change[], paint: Paint, verbose: boolean): string[] {
  const out: string[] = [];
  let previous: Change | undefined;
  for (const c of changes) {
    const repeated = !verbose && c.note !== undefined && previous !== undefined && previous.kind === c.kind && previous.note === c.note;
    out.push(...renderChange(c, paint, { verbose, ...(repeated ? { note: 'as above' } : {}) }));
    previous = c;
  }
  return out;
}

export function summaryLine(changes: readonly Change[]): string {
  const c = summarize(changes);
  const parts = [`${c.add} to add`, `${c.change} to change`, `${c.remove} to remove`];
  if (c.replace > 0) parts.push(`${c.replace} to replace`);
  if (c.move > 0) parts.push(`${c.move} to move`);
  if (c.adopt > 0) parts.push(`${c.adopt} to adopt`);
  return parts.join(', ');
}

export interface RenderContext {
  /** the spec file, for live problems printed like validation errors */
  file: string;
  locate: (path: SpecPath) => { line: number; col: number } | undefined;
}

/** The plan of every unit, as text for stdout. */
export function renderPlan(results: readonly UnitResult[], ctx: RenderContext, style: Style): string {
  const paint = painter(style);
  const out: string[] = [];
  for (const r of results) {
    out.push(paint('bold', `${r.unit.kind} ${r.unit.name}`) + paint('dim', ` (${r.unit.type}, ${visible(r.unit.endpoint)})`));
    for (const fact of r.plan?.facts ?? []) out.push(`  ${paint('dim', visible(fact))}`);
    for (const w of r.plan?.warnings ?? []) out.push(`  ${paint('yellow', 'warning:')} ${visible(w)}`);
    if (r.problems) {
      for (const p of r.problems) out.push(`  ${paint('red', 'error:')} ${formatProblem(ctx.file, { ...p, ...ctx.locate(p.path) })}`);
      out.push(`  ${paint('red', `cannot plan ${r.unit.name}: ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}; nothing was changed`)}`);
    } else if (r.status === 'not-planned') {
      out.push(`  ${paint('dim', 'not planned:')} ${visible(r.error ?? '')}`);
    } else if (r.status === 'unsupported' || (r.status === 'failed' && !r.plan)) {
      out.push(`  ${paint('red', 'error:')} ${visible(r.error ?? 'failed')}`);
    } else if (r.plan) {
      if (r.plan.changes.length === 0) out.push(`  ${paint('green', 'no changes')}: the ${r.unit.kind} matches the spec`);
      out.push(...renderChanges(r.plan.changes, paint, style.verbose === true));
      const hidden = style.verbose !== true && r.plan.changes.some((c) => c.action !== 'change' && c.action !== 'replace' && (c.props?.length ?? 0) > 0);
      if (r.plan.changes.length > 0) out.push(`  ${paint('bold', 'Plan:')} ${summaryLine(r.plan.changes)}.${hidden ? paint('dim', ' (--verbose lists every property)') : ''}`);
    }
    out.push('');
  }
  return out.join('\n');
}

/** After an apply: one line per unit saying what happened, and for a failure what was already applied. */
export function renderOutcome(results: readonly UnitResult[], style: Style): string {
  const paint = painter(style);
  const out: string[] = [];
  for (const r of results) {
    const label = `${r.unit.kind} ${r.unit.name}`;
    switch (r.status) {
      case 'applied':
        out.push(`${paint('green', 'applied')} ${label}: ${r.applied?.length ?? 0} change${r.applied?.length === 1 ? '' : 's'}`);
        break;
      case 'no-changes':
        out.push(`${paint('green', 'unchanged')} ${label}: no changes`);
        break;
      case 'failed': {
        out.push(`${paint('red', 'FAILED')} ${label}: ${visible(r.error ?? 'failed')}`);
        if (r.applied !== undefined) {
          out.push(`  ${r.applied.length} change${r.applied.length === 1 ? ' was' : 's were'} applied before the failure, ${r.notApplied ?? 0} not; run apply again to converge`);
          for (const c of r.applied) out.push(...renderChange(c, paint).slice(0, 1));
        } else {
          out.push('  nothing was changed');
        }
        break;
      }
      case 'unsupported':
        out.push(`${paint('red', 'not applied')} ${label}: ${visible(r.error ?? '')}`);
        break;
      case 'not-planned':
        out.push(`${paint('dim', 'not planned')} ${label}: ${visible(r.error ?? '')}`);
        break;
      case 'changes':
        out.push(`${paint('yellow', 'not applied')} ${label}: ${summaryLine(r.plan?.changes ?? [])}`);
        break;
    }
  }
  return `${out.join('\n')}\n`;
}

/** What a whole run came to, for --json: one document whatever happened. */
export type RunStatus = 'ok' | 'changes' | 'applied' | 'error' | 'refused' | 'cancelled' | 'interrupted';

function runStatus(results: readonly UnitResult[], mode: 'plan' | 'apply'): RunStatus {
  if (results.some((r) => r.status === 'failed' || r.status === 'unsupported')) return 'error';
  if (mode === 'plan') return results.some((r) => r.status === 'changes') ? 'changes' : 'ok';
  return results.some((r) => r.status === 'applied') ? 'applied' : 'ok';
}

/**
 * The --json form: stable keys, one entry per unit, and the run's status. `outcome` overrides it for an apply
 * that did not happen (refused without a terminal, cancelled, interrupted): its pending units then say so too,
 * never "changes".
 */
export function planJson(results: readonly UnitResult[], ctx: RenderContext, mode: 'plan' | 'apply', outcome?: { status: RunStatus; error: string }): string {
  return `${JSON.stringify(
    {
      format: 'flatnet-plan/1',
      mode,
      status: outcome?.status ?? runStatus(results, mode),
      ...(outcome ? { error: outcome.error } : {}),
      units: results.map((r) => ({
        kind: r.unit.kind,
        name: r.unit.name,
        type: r.unit.type,
        endpoint: r.unit.endpoint,
        status: outcome && r.status === 'changes' ? `not-applied (${outcome.status})` : r.status,
        summary: r.plan ? summarize(r.plan.changes) : null,
        changes: r.plan?.changes ?? [],
        facts: r.plan?.facts ?? [],
        warnings: r.plan?.warnings ?? [],
        // the audit's findings again, with structured fields (network, flow, expected, live, deciding rule)
        findings: (r.plan?.audit ?? []).filter(isFinding).map(toFinding),
        problems: (r.problems ?? []).map((p) => ({ ...p, ...ctx.locate(p.path) })),
        ...(r.error !== undefined ? { error: r.error } : {}),
        ...(r.applied !== undefined ? { applied: r.applied.length, notApplied: r.notApplied ?? 0 } : {}),
      })),
    },
    null,
    2,
  )}\n`;
}

/** --json when the run could not even start (a spec problem, a usage error): still one document on stdout. */
export function errorJson(mode: string, error: string, problems: ReadonlyArray<{ path: ReadonlyArray<string | number>; message: string; line?: number; col?: number }> = []): string {
  const format = mode === 'status' ? 'flatnet-status/1' : 'flatnet-plan/1';
  return `${JSON.stringify({ format, mode, status: 'error', error, problems, ...(mode === 'status' ? { networks: [], devices: [] } : { units: [] }) }, null, 2)}\n`;
}
