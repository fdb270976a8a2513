// generate --out DIR, run again after the spec lost a host and a network: the files flatnet wrote for them go
// (listed as `removed`), nothing else does — not a file the user put in DIR, not a generated file the user
// edited, not the files of targets or hosts the run did not select.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { MANIFEST } from '../src/out-dir.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'flatnet-router.js');
const homelab = join(root, 'examples', 'homelab.yaml');
const scratch = mkdtempSync(join(tmpdir(), 'flatnet-outdir-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function run(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** homelab.yaml without host mini and without network iot (which only mini runs). */
function withoutMini(): string {
  const file = join(scratch, 'no-mini.yaml');
  const text = readFileSync(homelab, 'utf8');
  const spec = text
    .replace(/\n  mini:\n(    .*\n)+/, '\n')
    .replace(/\n  iot:\n(    .*\n|      .*\n)+/, '\n')
    .replace(/host: \[nas, mini\]/, 'host: nas')
    .replace(/to: \[iot\]/, 'to: []');
  writeFileSync(file, spec);
  const v = run(['validate', file]);
  expect(v.code, `${v.stdout}${v.stderr}\n${spec}`).toBe(0);
  return file;
}

function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) (e.isDirectory() ? walk(join(d, e.name)) : out.push(relative(dir, join(d, e.name))));
  };
  walk(dir);
  return out.sort();
}

describe('generate --out removes what it wrote earlier and the spec no longer produces', () => {
  let out = '';
  beforeEach(() => {
    out = join(scratch, `out-${Math.random().toString(36).slice(2)}`);
  });

  it('a host and a network taken out of the spec: their files are removed and reported; a file the user added stays', () => {
    const first = run(['generate', homelab, '--out', out]);
    expect(first.code, first.stderr).toBe(0);
    expect(existsSync(join(out, 'networkd/mini/11-flatnet-fn-30.netdev'))).toBe(true);
    expect(existsSync(join(out, MANIFEST))).toBe(true);
    writeFileSync(join(out, 'host/notes.txt'), 'mine\n');
    mkdirSync(join(out, 'networkd/mini/extra'), { recursive: true });
    writeFileSync(join(out, 'networkd/mini/extra/keep.conf'), 'mine\n');
    const before = files(out);

    const spec = withoutMini();
    const second = run(['generate', spec, '--out', out]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toBe('');
    const lines = second.stdout.trimEnd().split('\n');
    const removed = lines.filter((l) => l.startsWith('removed ')).map((l) => relative(out, l.slice('removed '.length)));
    // the `removed` lines come after every `wrote` line
    expect(lines.findIndex((l) => l.startsWith('removed '))).toBe(lines.filter((l) => l.startsWith('wrote ')).length);
    expect(removed).toEqual(expect.arrayContaining(['docker/mini.sh', 'compose/mini.yaml', 'host/mini.sh', 'networkd/mini/11-flatnet-fn-30.netdev']));
    expect(removed.every((p) => p.includes('mini') || p.includes('.30'))).toBe(true);
    // what is left: exactly what the spec produces now, the manifest, and the user's files
    const now = run(['generate', spec]).stdout.match(/^# ==> (.*) <==$/gm)!.map((l) => l.slice(6, -4));
    expect(files(out)).toEqual([...now, MANIFEST, 'host/notes.txt', 'networkd/mini/extra/keep.conf'].sort());
    expect(before.filter((f) => !files(out).includes(f)).sort()).toEqual([...removed].sort());

    // a third run removes nothing
    const third = run(['generate', spec, '--out', out]);
    expect(third.stdout).not.toMatch(/^removed /m);
  });

  it('a generated file edited since is left in place (and said so); one the user never let flatnet write is not touched', () => {
    expect(run(['generate', homelab, '--out', out]).code).toBe(0);
    writeFileSync(join(out, 'host/mini.sh'), '# edited\n');
    const r = run(['generate', withoutMini(), '--out', out]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, 'host/mini.sh'), 'utf8')).toBe('# edited\n');
    expect(r.stdout).not.toContain('removed ' + join(out, 'host/mini.sh'));
    expect(r.stderr).toContain(`kept ${join(out, 'host/mini.sh')} (no longer generated, but changed since flatnet wrote it`);
    expect(existsSync(join(out, 'docker/mini.sh'))).toBe(false);
  });

  it('a run for one target or one host speaks only for those files', () => {
    expect(run(['generate', homelab, '--out', out]).code).toBe(0);
    const spec = withoutMini();
    const docker = run(['generate', spec, '--target', 'docker', '--out', out]);
    expect(docker.stdout.match(/^removed .*$/gm)).toEqual([`removed ${join(out, 'docker/mini.sh')}`]);
    expect(existsSync(join(out, 'host/mini.sh'))).toBe(true);
    const nas = run(['generate', spec, '--host', 'nas', '--out', out]);
    expect(nas.stdout).not.toMatch(/^removed /m);
    expect(existsSync(join(out, 'host/mini.sh'))).toBe(true);
    expect(existsSync(join(out, 'routeros/core.rsc'))).toBe(true);
    const all = run(['generate', spec, '--out', out]);
    expect(all.stdout).toContain(`removed ${join(out, 'host/mini.sh')}`);
    expect(existsSync(join(out, 'networkd/mini'))).toBe(false);
  });

  it('without a manifest (or with one flatnet did not write) nothing is removed', () => {
    mkdirSync(join(out, 'docker'), { recursive: true });
    writeFileSync(join(out, 'docker/mini.sh'), 'old\n');
    const r = run(['generate', withoutMini(), '--out', out]);
    expect(r.code).toBe(0);
    expect(existsSync(join(out, 'docker/mini.sh'))).toBe(true);

    writeFileSync(join(out, MANIFEST), `${'0'.repeat(64)}\tdocker\tmini\t../../etc/passwd\n`);
    const bad = run(['generate', withoutMini(), '--out', out]);
    expect(bad.code).toBe(0);
    expect(bad.stdout).not.toMatch(/^removed /m);
    expect(bad.stderr).toMatch(/\.flatnet-manifest is not one flatnet wrote .*no earlier file was removed/);
  });
});
