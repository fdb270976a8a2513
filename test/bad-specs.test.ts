// The bad-spec corpus: every file under test/bad-specs/ must be refused, by `validate` and by `generate --out`,
// the way users see it: exit 1, nothing on stdout, no stack trace, no output directory, and on stderr one
// `<file>:<line>:<col> <yaml.path>: <message>` line per problem, among them the path(s) the file names.
//
// The corpus runs in-process through main(argv), the entry bin/flatnet-router.js calls (one process per spec
// took about 25 s); a handful of specs also run as real processes, the way users start the command.
//
// Each file starts with one or more `# expect: <yaml.path>` lines; a file that cannot hold a comment (the
// empty file) has its expectation in EXPECT_BY_FILE below.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'flatnet-router.js');
/** Relative to root, which is the CLI's cwd: the CLI prints the spec path as it was given. */
const corpus = 'test/bad-specs';

const EXPECT_BY_FILE: Record<string, string[]> = {
  'empty.yaml': ['<root>'],
};

/** Specs that also run as real processes (validate and generate --out). */
const REAL_PROCESS = ['empty.yaml', 'several-problems.yaml', 'yaml-tab-indentation.yaml', 'proto-key.yaml'];

const specFiles = readdirSync(join(root, corpus))
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();

/** The leading `# expect:` lines of a spec (the first line must be one). */
function expectedPaths(file: string): string[] {
  const given = EXPECT_BY_FILE[file];
  if (given) return given;
  const paths: string[] = [];
  for (const line of readFileSync(join(root, corpus, file), 'utf8').split('\n')) {
    const m = /^# expect: (.+)$/.exec(line);
    if (!m) break;
    paths.push(m[1]!.trim());
  }
  return paths;
}

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI as a real process, without blocking, so those cases run concurrently. */
function runProcess(...args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8' }, (_err, stdout, stderr) =>
      resolve({ status: child.exitCode, stdout, stderr }),
    );
  });
}

/**
 * The CLI in this process: main(argv) with stdout and stderr captured. One call at a time (the writes are
 * swapped process-wide). main() sets process.exitCode, which would become this worker's exit code: reset.
 */
async function runInProcess(...args: string[]): Promise<Result> {
  const out: string[] = [];
  const err: string[] = [];
  const { write: stdoutWrite } = process.stdout;
  const { write: stderrWrite } = process.stderr;
  const capture = (into: string[]) =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      done?.();
      return true;
    }) as typeof process.stdout.write;
  process.stdout.write = capture(out);
  process.stderr.write = capture(err);
  try {
    const status = await main([process.execPath, bin, ...args]);
    return { status, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = stdoutWrite;
    process.stderr.write = stderrWrite;
    process.exitCode = undefined;
  }
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** What every refusal looks like, whatever the command: the ways r falls short (none: it is a proper refusal). */
function refusalFaults(r: Result, spec: string, paths: string[]): string[] {
  const faults: string[] = [];
  if (r.status !== 1) faults.push(`exit code ${r.status}, expected 1`);
  if (r.stdout !== '') faults.push(`stdout not empty: ${JSON.stringify(r.stdout.slice(0, 200))}`);
  if (/^ {4}at /m.test(r.stderr)) faults.push('stack trace on stderr');
  if (r.stderr.includes('internal error')) faults.push('internal error');

  const lines = r.stderr.trimEnd().split('\n');
  const problem = new RegExp(`^${escape(spec)}:\\d+:\\d+ \\S.*?: \\S`);
  if (!new RegExp(`^\\d+ problems? in ${escape(spec)}; nothing was generated$`).test(lines.at(-1) ?? '')) {
    faults.push(`last line is not the summary: ${JSON.stringify(lines.at(-1))}`);
  }
  for (const line of lines.slice(0, -1)) if (!problem.test(line)) faults.push(`not a <file>:<line>:<col> <path>: <message> line: ${JSON.stringify(line)}`);
  for (const path of paths) {
    if (!new RegExp(`^${escape(spec)}:\\d+:\\d+ ${escape(path)}: \\S`, 'm').test(r.stderr)) faults.push(`no problem at ${path}`);
  }
  return faults;
}

let scratch = '';
beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'src', 'cli.js'))) {
    spawnSync('npx', ['tsc', '-p', root], { cwd: root, stdio: 'inherit' });
  }
  scratch = mkdtempSync(join(tmpdir(), 'flatnet-bad-specs-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The spec path as the CLI is given it: relative to the cwd (root when vitest runs from the project). */
const specArg = (file: string) => relative(process.cwd(), join(root, corpus, file));

/** Runs validate and generate --out on one spec; the faults found, each prefixed with the spec and command. */
async function checkSpec(file: string, run: (...args: string[]) => Promise<Result>): Promise<string[]> {
  const spec = specArg(file);
  const paths = expectedPaths(file);
  const faults: string[] = [];
  const validate = await run('validate', spec);
  faults.push(...refusalFaults(validate, spec, paths).map((f) => `validate: ${f}`));
  const out = join(mkdtempSync(join(scratch, 'generate-')), 'out');
  const gen = await run('generate', spec, '--out', out);
  faults.push(...refusalFaults(gen, spec, paths).map((f) => `generate --out: ${f}`));
  if (existsSync(out)) faults.push('generate --out: wrote the output directory');
  if (faults.length > 0) faults.push(`stderr of validate:\n${validate.stderr}`);
  return faults.map((f) => `${file}: ${f}`);
}

describe('bad-spec corpus', () => {
  it('has at least 30 specs, each naming the path it must be refused at', () => {
    expect(specFiles.length).toBeGreaterThanOrEqual(30);
    for (const file of specFiles) expect(expectedPaths(file), `${file}: no "# expect:" first line`).not.toEqual([]);
  });

  it(`every spec is refused by validate and by generate --out, which writes nothing (in-process)`, async () => {
    const faults: string[] = [];
    for (const file of specFiles) faults.push(...(await checkSpec(file, runInProcess)));
    expect(faults.join('\n'), `${new Set(faults.map((f) => f.split(':')[0])).size} of ${specFiles.length} specs not refused properly`).toBe('');
  });

  describe.concurrent('as real processes', () => {
    it.each(REAL_PROCESS)('%s', async (file) => {
      expect(specFiles).toContain(file);
      expect((await checkSpec(file, runProcess)).join('\n')).toBe('');
    });
  });
});
