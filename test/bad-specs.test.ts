// The bad-spec corpus: every file under test/bad-specs/ must be refused, by `validate` and by `generate --out`,
// the way users see it: exit 1, nothing on stdout, no stack trace, no output directory, and on stderr one
// `<file>:<line>:<col> <yaml.path>: <message>` line per problem, among them the path(s) the file names.
//
// Each file starts with one or more `# expect: <yaml.path>` lines; a file that cannot hold a comment (the
// empty file) has its expectation in EXPECT_BY_FILE below.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, type ExpectStatic } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'flatnet-router.js');
/** Relative to root, which is the CLI's cwd: the CLI prints the spec path as it was given. */
const corpus = 'test/bad-specs';

const EXPECT_BY_FILE: Record<string, string[]> = {
  'empty.yaml': ['<root>'],
};

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

/** Runs the CLI without blocking, so the cases run concurrently (each is a separate process). */
function run(...args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8' }, (_err, stdout, stderr) =>
      resolve({ status: child.exitCode, stdout, stderr }),
    );
  });
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** What every refusal looks like, whatever the command. */
function expectRefused(expect: ExpectStatic, r: Result, spec: string, paths: string[]): void {
  expect(r.status).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr).not.toMatch(/^ {4}at /m);
  expect(r.stderr).not.toContain('internal error');

  const lines = r.stderr.trimEnd().split('\n');
  const problem = new RegExp(`^${escape(spec)}:\\d+:\\d+ \\S.*?: \\S`);
  expect(lines.at(-1)).toMatch(new RegExp(`^\\d+ problems? in ${escape(spec)}; nothing was generated$`));
  for (const line of lines.slice(0, -1)) expect(line).toMatch(problem);
  for (const path of paths) {
    expect(r.stderr).toMatch(new RegExp(`^${escape(spec)}:\\d+:\\d+ ${escape(path)}: \\S`, 'm'));
  }
}

let scratch = '';
beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'src', 'cli.js'))) {
    spawnSync('npx', ['tsc', '-p', root], { cwd: root, stdio: 'inherit' });
  }
  scratch = mkdtempSync(join(tmpdir(), 'flatnet-bad-specs-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('bad-spec corpus', () => {
  it('has at least 30 specs, each naming the path it must be refused at', () => {
    expect(specFiles.length).toBeGreaterThanOrEqual(30);
    for (const file of specFiles) expect(expectedPaths(file), `${file}: no "# expect:" first line`).not.toEqual([]);
  });

  describe.concurrent.each(specFiles)('%s', (file) => {
    const spec = `${corpus}/${file}`;
    const paths = expectedPaths(file);

    it('is refused by validate', async ({ expect }) => {
      expectRefused(expect, await run('validate', spec), spec, paths);
    });

    it('is refused by generate --out, which writes nothing', async ({ expect }) => {
      const out = join(mkdtempSync(join(scratch, 'generate-')), 'out');
      expectRefused(expect, await run('generate', spec, '--out', out), spec, paths);
      expect(existsSync(out)).toBe(false);
    });
  });
});
