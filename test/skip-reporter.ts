// After vitest's own summary: one "skipped: <group>: <why>" line per skipped group (a describe or test
// skipped as a whole, e.g. describe.skipIf(!support.ok)), so a clone without ../shared or without root does
// not pass quietly. The reason is the "(skipped: why)" its name carries, or a ctx.skip(note).
// FLATNET_EXPECT_GROUPS (.ci/run sets it): what must run, comma- or newline-separated, `*` matching any run
// of characters: a test file (every group in it) or `<file> > <group>` (that group as a whole; its own
// skipped tests aside). One of them skipped fails the run.
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { Reporter, TestCase, TestModule, TestSuite } from 'vitest/node';

export interface SkippedGroup {
  file: string;
  group: string;
  why: string;
}

const REASON = /\s*\(skipped: (.*)\)\s*$/;

/** The outermost skipped suites and tests of a module (a skipped suite's tests are not listed again). */
export function skippedGroups(module: TestModule, root: string): SkippedGroup[] {
  const file = relative(root, module.moduleId);
  const out: SkippedGroup[] = [];
  const visit = (task: TestCase | TestSuite) => {
    const skipped = task.type === 'suite' ? task.options.mode === 'skip' || task.state() === 'skipped' : task.options.mode === 'skip' || task.result().state === 'skipped';
    if (skipped && task.options.mode !== 'todo') {
      const name = task.fullName;
      const note = task.type === 'test' ? task.result().note : undefined;
      const why = REASON.exec(name)?.[1] ?? note ?? 'no reason given (put "(skipped: why)" in its name)';
      out.push({ file, group: name.replace(REASON, ''), why });
      return;
    }
    if (task.type === 'suite') for (const child of task.children) visit(child);
  };
  for (const child of module.children) visit(child);
  return out;
}

export function expectedPatterns(value: string | undefined): RegExp[] {
  return (value ?? '')
    .split(/[,\n]+/)
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map((p) => (p.includes(' > ') ? p : `${p} > *`))
    .map((p) => new RegExp(`^${p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`));
}

export const expected = (patterns: readonly RegExp[], s: SkippedGroup) => patterns.some((re) => re.test(`${s.file} > ${s.group}`));

export default class SkipReporter implements Reporter {
  private root = process.cwd();
  private filtered = false;

  onInit(ctx: { config: { root: string; testNamePattern?: RegExp | undefined } }): void {
    this.root = ctx.config.root;
    // -t marks every other test skipped: that is no skipped group
    this.filtered = ctx.config.testNamePattern !== undefined;
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    if (this.filtered) return;
    const skipped = modules.flatMap((m) => skippedGroups(m, this.root));
    const patterns = expectedPatterns(process.env.FLATNET_EXPECT_GROUPS);
    const missed = skipped.filter((s) => expected(patterns, s));
    const lines = skipped.map((s) => `skipped: ${s.group} (${s.file}): ${s.why}`);
    for (const s of missed) lines.push(`error: expected to run (FLATNET_EXPECT_GROUPS): ${s.group} (${s.file}): ${s.why}`);
    if (lines.length > 0) process.stdout.write(`\n${lines.join('\n')}\n`);
    if (missed.length > 0) process.exitCode = 1;
    // for .ci/run's last line: the groups it expected that did not run count as failed
    if (process.env.FLATNET_SKIP_REPORT) writeFileSync(process.env.FLATNET_SKIP_REPORT, `${JSON.stringify({ skipped, missed }, null, 2)}\n`);
  }
}
