// What an audit reports: each flow's live verdict next to the spec's, with the rule that decides it, and the
// findings (a live verdict that differs from the spec's, or one that cannot be decided) worded for a person.
import type { Flow, Verdict } from './flows.js';

export type LiveVerdict = Verdict | 'undecided';

/** The rule (or chain end) that decides a flow on the live device. */
export interface DecidingRule {
  /** RouterOS `.id`, OpenWrt section name; absent for a chain's or zone's default */
  id?: string;
  /** RouterOS chain, OpenWrt zone or section type */
  chain: string;
  /** position as the device lists it (RouterOS: the number `print` shows), when it has one */
  position?: number;
  comment?: string;
  /** flatnet's own object */
  owned: boolean;
  /** the rule as a person reads it */
  text: string;
}
// A flow that no rule decides reaches the end of its built-in chain and is accepted: FlowResult.rule is absent.

export interface FlowResult {
  flow: Flow;
  live: LiveVerdict;
  rule?: DecidingRule;
  /** with undecided: what the evaluator could not model (an address list, a matcher) */
  undecidedBecause?: string;
  /**
   * A flatnet network's interface is also a member of what the deciding rule names (RouterOS: an interface list;
   * OpenWrt: another zone): the rule is right, the membership is what breaks the spec's intent.
   */
  membership?: string;
}

export interface AuditFinding {
  network: string;
  flow: string;
  family: 4 | 6;
  expected: Verdict;
  live: LiveVerdict;
  rule?: DecidingRule;
  /** one line: what to do about it */
  advice: string;
  message: string;
}

export function isFinding(r: FlowResult): boolean {
  return r.live !== r.flow.expected;
}

function ruleText(rule: DecidingRule | undefined): string {
  if (!rule) return 'no rule: the end of the chain (accepted by default)';
  const where = rule.position !== undefined ? ` #${rule.position}` : '';
  const id = rule.id !== undefined ? ` ${rule.id}` : '';
  const comment = rule.comment ? ` "${rule.comment}"` : '';
  return `${rule.owned ? 'flatnet' : 'foreign'} rule${where}${id} in ${rule.chain} (${rule.text})${comment}`;
}

export function toFinding(r: FlowResult): AuditFinding {
  const { flow } = r;
  let advice: string;
  if (r.membership !== undefined && r.live !== 'undecided') {
    advice = `${r.membership}, so rules meant for it decide the flatnet network's traffic too: take it out`;
  } else if (r.live === 'undecided') {
    advice = `the live verdict depends on ${r.undecidedBecause ?? 'something flatnet does not model'}; check that rule by hand`;
  } else if (r.rule && !r.rule.owned) {
    advice = flow.expected === 'drop' ? `remove or narrow that rule, or move it below flatnet's drops for ${flow.network}` : `that rule ${r.live === 'drop' ? 'drops' : 'decides'} before flatnet's accept: move flatnet's rules above it or narrow it`;
  } else if (!r.rule) {
    advice = 'the flow reaches the end of the chain; run flatnet-router apply to put flatnet\'s rules back';
  } else {
    advice = 'flatnet\'s own rule decides otherwise: run flatnet-router apply to converge';
  }
  const verb = (v: LiveVerdict) => (v === 'undecided' ? 'cannot be decided' : v === 'accept' ? 'is accepted' : 'is dropped');
  const message = `${flow.network}: ${flow.label} ${verb(r.live)} live but the spec says ${flow.expected} (${flow.because}); decided by ${ruleText(r.rule)}: ${advice}`;
  return { network: flow.network, flow: flow.label, family: flow.family, expected: flow.expected, live: r.live, ...(r.rule ? { rule: r.rule } : {}), advice, message };
}

/** The flow table of one network, for `plan --explain`. */
export function renderFlowTable(results: readonly FlowResult[]): string {
  const rows = results.map((r) => [r.flow.label, r.flow.expected, r.live, r.live === r.flow.expected ? 'ok' : 'FINDING', ruleText(r.rule)]);
  const head = ['flow', 'spec', 'live', '', 'decided by'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return `${[line(head), ...rows.map(line)].join('\n')}\n`;
}
