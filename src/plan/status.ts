// `flatnet-router status`: is everything still as the spec says? Reads every selected device concurrently
// (the same plan as `plan`, nothing changed) and answers per network, with each device on its path: in sync,
// N changes pending, unreachable (why), or live checks failing. Exit 0 all in sync, 2 drift, 1 an error or
// an unreachable device: for cron and monitoring.
import type { Model, NetworkModel } from '../model.js';
import { closeUnits, planUnits, type UnitResult } from './engine.js';
import type { RenderContext } from './render.js';
import { formatProblem } from '../errors.js';
import type { UnitRef } from './types.js';
import { isFinding } from '../audit/findings.js';
import { localHostHint } from '../push.js';

export type DeviceState = 'in-sync' | 'pending' | 'unreachable' | 'failed' | 'not-checked';

export interface StatusCell {
  kind: UnitRef['kind'];
  name: string;
  type: string;
  state: DeviceState;
  /** changes the plan has for this network on this device */
  pending: number;
  /** audit findings of this network on this device (its live firewall does not do what the spec says) */
  findings: number;
  /** unreachable / failed / not-checked: why, in one line */
  why?: string;
}

export interface StatusRow {
  network: string;
  vlan?: number;
  /** false for a network the devices still have but the spec no longer names */
  inSpec: boolean;
  devices: StatusCell[];
}

export interface StatusReport {
  rows: StatusRow[];
  results: UnitResult[];
  exitCode: number;
}

/** The devices on a network's path: its router, the switches carrying it, its hosts. */
function pathOf(model: Model, n: NetworkModel): Array<{ kind: UnitRef['kind']; name: string; type: string }> {
  const out: Array<{ kind: UnitRef['kind']; name: string; type: string }> = [];
  const router = n.router === undefined ? undefined : model.routers.find((r) => r.name === n.router);
  if (router) out.push({ kind: 'router', name: router.name, type: router.type });
  for (const s of model.switches) if (s.networks.includes(n.name)) out.push({ kind: 'switch', name: s.name, type: s.type });
  for (const h of n.hosts) out.push({ kind: 'host', name: h, type: 'docker' });
  return out;
}

function cell(model: Model, device: { kind: UnitRef['kind']; name: string; type: string }, result: UnitResult | undefined, network: string, specFile?: string): StatusCell {
  const base = { kind: device.kind, name: device.name, type: device.type, pending: 0, findings: 0 };
  if (!result) {
    const host = device.kind === 'host' ? model.hosts.find((h) => h.name === device.name) : undefined;
    const why = host && !host.ssh ? localHostHint(host, specFile) : 'not selected';
    return { ...base, state: 'not-checked', why };
  }
  // a host without ssh, seen from elsewhere: what to run on it
  if (result.status === 'not-planned') return { ...base, state: 'not-checked', why: result.error ?? 'not planned' };
  if (result.problems) return { ...base, state: 'failed', why: `${result.problems.length} live check${result.problems.length === 1 ? '' : 's'} failed` };
  if (!result.plan) return { ...base, state: 'unreachable', why: result.error ?? 'failed' };
  const pending = result.plan.changes.filter((c) => c.network === network).length;
  const findings = (result.plan.audit ?? []).filter((r) => r.flow.network === network && isFinding(r)).length;
  return { ...base, state: pending > 0 ? 'pending' : 'in-sync', pending, findings };
}

export function statusRows(model: Model, results: readonly UnitResult[], specFile?: string): StatusRow[] {
  const byName = new Map(results.map((r) => [`${r.unit.kind}\u0000${r.unit.name}`, r]));
  const rows: StatusRow[] = model.networks.map((n) => ({
    network: n.name,
    ...(n.vlan !== undefined ? { vlan: n.vlan } : {}),
    inSpec: true,
    devices: pathOf(model, n).map((d) => cell(model, d, byName.get(`${d.kind}\u0000${d.name}`), n.name, specFile)),
  }));
  // what the devices hold of networks the spec no longer names (and changes of no network)
  const known = new Set(model.networks.map((n) => n.name));
  const extra = new Map<string, StatusCell[]>();
  for (const r of results) {
    const counts = new Map<string, number>();
    for (const c of r.plan?.changes ?? []) {
      const key = c.network ?? '(no network)';
      if (!known.has(key)) counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    for (const [network, pending] of counts) {
      const cells = extra.get(network) ?? extra.set(network, []).get(network)!;
      cells.push({ kind: r.unit.kind, name: r.unit.name, type: r.unit.type, state: 'pending', pending, findings: 0 });
    }
  }
  for (const [network, devices] of extra) rows.push({ network, inSpec: false, devices });
  return rows;
}

export function statusExitCode(rows: readonly StatusRow[], results: readonly UnitResult[]): number {
  if (results.some((r) => r.status === 'failed' || r.status === 'unsupported')) return 1;
  if (rows.some((row) => row.devices.some((d) => d.state === 'pending' || d.findings > 0)) || results.some((r) => r.status === 'changes')) return 2;
  return 0;
}

/** Plans every unit (concurrently, nothing applied) and builds the report. */
export async function readStatus(model: Model, units: Parameters<typeof planUnits>[0], options: Parameters<typeof planUnits>[1], specFile?: string): Promise<StatusReport> {
  let results: UnitResult[];
  try {
    results = await planUnits(units, options);
  } finally {
    closeUnits(units);
  }
  const rows = statusRows(model, results, specFile);
  return { rows, results, exitCode: statusExitCode(rows, results) };
}

const CODES = { green: 32, yellow: 33, red: 31, dim: 2, bold: 1 } as const;

export function renderStatus(report: StatusReport, ctx: RenderContext, color: boolean): string {
  const paint = (code: keyof typeof CODES, text: string) => (color ? `\u001b[${CODES[code]}m${text}\u001b[0m` : text);
  const show = (d: StatusCell) => {
    const findings = d.findings > 0 ? `, ${paint('red', `${d.findings} audit finding${d.findings === 1 ? '' : 's'}`)}` : '';
    return showState(d) + findings;
  };
  const showState = (d: StatusCell) => {
    switch (d.state) {
      case 'in-sync':
        return `${d.name} ${paint('green', 'in sync')}`;
      case 'pending':
        return `${d.name} ${paint('yellow', `${d.pending} change${d.pending === 1 ? '' : 's'} pending`)}`;
      case 'unreachable':
        return `${d.name} ${paint('red', 'unreachable')}`;
      case 'failed':
        return `${d.name} ${paint('red', d.why ?? 'failed')}`;
      case 'not-checked':
        return `${d.name} ${paint('dim', 'not checked')}`;
    }
  };
  const width = Math.max(0, ...report.rows.map((r) => label(r).length));
  const lines = report.rows.map((r) => `${paint('bold', label(r).padEnd(width))}  ${r.devices.map(show).join(paint('dim', ' · ')) || paint('dim', '(no device on its path)')}`);
  const notes: string[] = [];
  for (const r of report.results) {
    if (r.problems) for (const p of r.problems) notes.push(`${paint('red', 'error:')} ${r.unit.kind} ${r.unit.name}: ${formatProblem(ctx.file, { ...p, ...ctx.locate(p.path) })}`);
    else if (!r.plan && r.status !== 'not-planned') notes.push(`${paint('red', 'unreachable:')} ${r.unit.kind} ${r.unit.name}: ${r.error ?? 'failed'}`);
    for (const w of r.plan?.warnings ?? []) notes.push(`${paint('yellow', 'warning:')} ${r.unit.kind} ${r.unit.name}: ${w}`);
  }
  const notChecked = new Map<string, string>();
  for (const row of report.rows) for (const d of row.devices) if (d.state === 'not-checked' && d.why) notChecked.set(d.name, d.why);
  for (const [name, why] of notChecked) notes.push(`${paint('dim', 'not checked:')} ${name}: ${why}`);
  const anyFinding = report.rows.some((r) => r.devices.some((d) => d.findings > 0));
  const verdict =
    report.exitCode === 0
      ? paint('green', 'everything read is in sync with the spec')
      : report.exitCode === 2
        ? paint('yellow', anyFinding ? 'drift: the live firewall does not do what the spec says (warnings above; plan --explain NETWORK shows every flow)' : 'drift: run flatnet-router plan to see the changes, apply to converge')
        : paint('red', 'not every device could be read and checked');
  return `${[...lines, ...(notes.length > 0 ? ['', ...notes] : []), '', verdict].join('\n')}\n`;
}

function label(r: StatusRow): string {
  return `${r.network}${r.vlan !== undefined ? ` (VLAN ${r.vlan})` : ''}${r.inSpec ? '' : ' (not in the spec)'}`;
}

export function statusJson(report: StatusReport): string {
  return `${JSON.stringify(
    {
      format: 'flatnet-status/1',
      exitCode: report.exitCode,
      networks: report.rows,
      devices: report.results.map((r) => ({
        kind: r.unit.kind,
        name: r.unit.name,
        type: r.unit.type,
        endpoint: r.unit.endpoint,
        status: r.status,
        pending: r.plan?.changes.length ?? null,
        warnings: r.plan?.warnings ?? [],
        problems: r.problems ?? [],
        ...(r.error !== undefined ? { error: r.error } : {}),
      })),
    },
    null,
    2,
  )}\n`;
}
