// What a new user trips over (issue 21): each point as the user meets it, through the command.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'flatnet-router.js');

function run(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, ...(input !== undefined ? { input } : {}) });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'src', 'cli.js'))) spawnSync('npx', ['tsc', '-p', root], { stdio: 'inherit' });
});

describe('networks at a glance', () => {
  it('validate prints a table of the networks after "ok"; --quiet only the line', () => {
    const r = run(['validate', 'examples/homelab.yaml']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('examples/homelab.yaml: ok (4 networks, 3 with a VLAN; 1 router; 2 hosts)');
    expect(lines[1]).toMatch(/^network\s+vlan\s+subnet\s+gateway\s+containers\s+shim\s+router\s+hosts$/);
    expect(lines[2]).toMatch(/^lan-apps\s+untagged\s+192\.168\.88\.0\/24\s+192\.168\.88\.1\s+192\.168\.88\.192\/27\s+lan-shim 192\.168\.88\.192\s+core\s+nas$/);
    expect(lines[5]).toMatch(/^dmz\s+40\s+10\.40\.0\.0\/24\s+10\.40\.0\.1\s+10\.40\.0\.128\/25\s+fn-40 nas=10\.40\.0\.128 mini=10\.40\.0\.192\s+core\s+nas,mini$/);
    expect(lines).toHaveLength(6);
    const quiet = run(['validate', 'examples/homelab.yaml', '--quiet']);
    expect(quiet.stdout).toBe('examples/homelab.yaml: ok (4 networks, 3 with a VLAN; 1 router; 2 hosts)\n');
  });
});

describe('generate --out keeps your edits', () => {
  it('refuses to overwrite a file changed since it wrote it, names it and says --force; --force overwrites', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flatnet-out-'));
    try {
      expect(run(['generate', 'examples/homelab.yaml', '--out', dir]).code).toBe(0);
      const script = join(dir, 'routeros', 'core.rsc');
      const original = readFileSync(script, 'utf8');
      writeFileSync(script, `${original}# my own line\n`);
      const again = run(['generate', 'examples/homelab.yaml', '--out', dir]);
      expect(again.code).toBe(1);
      expect(again.stderr.trim()).toBe(`flatnet-router: ${join(dir, 'routeros', 'core.rsc')} was changed since flatnet wrote it; nothing was written. Keep your edits elsewhere (or in the spec), or run generate again with --force to overwrite`);
      expect(readFileSync(script, 'utf8')).toContain('# my own line');
      // an unedited file is rewritten as always; the edited one only with --force
      const forced = run(['generate', 'examples/homelab.yaml', '--out', dir, '--force']);
      expect(forced.code, forced.stderr).toBe(0);
      expect(readFileSync(script, 'utf8')).toBe(original);
      expect(run(['generate', 'examples/homelab.yaml', '--out', dir]).code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('hints', () => {
  it('generate --target openwrt without an OpenWrt device names what the spec has', () => {
    const r = run(['generate', 'examples/homelab.yaml', '--target', 'openwrt']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('flatnet-router: --target openwrt: the spec has no OpenWrt router or switch; it has RouterOS (core): use --target routeros');
    const cfg = run(['generate', 'examples/openwrt-vlan.yaml', '--target', 'routeros']);
    expect(cfg.stderr.trim()).toBe('flatnet-router: --target routeros: the spec has no RouterOS router or switch; it has OpenWrt (edge): use --target openwrt');
  });
});

describe('trunk ports are checked', () => {
  it("a trunk port that is not a port of the bridge (the WAN port, a typo) is a live problem at its spec path", async () => {
    const { FakeRouterOS } = await import('./fakes/routeros-fake.js');
    const { planRouterOS, vlanSpecText } = await import('./fakes/routeros-harness.js');
    const fake = new FakeRouterOS({ password: 'pw' });
    fake.seedDefaults();
    const port = await fake.start();
    try {
      const nets = { media: { vlan: 20, third: 20 } };
      for (const [trunk, message] of [
        // the nearest port the bridge has is named
        ['ether1', '"ether1" is not a port of bridge "bridge" on the router (/interface/bridge/port): a port that carries a VLAN must be in the bridge; the bridge bridge has ether2'],
        ['ether9', '"ether9" is not a port of bridge "bridge" on the router (/interface/bridge/port): a port that carries a VLAN must be in the bridge; the bridge bridge has ether2'],
      ] as const) {
        const err = await planRouterOS(vlanSpecText(port, nets, [trunk]), 'pw', false).catch((e: unknown) => e);
        expect((err as { problems?: unknown }).problems).toEqual([{ path: ['routers', 'core', 'trunk-ports', 0], message }]);
      }
      // a bridge port plans
      expect((await planRouterOS(vlanSpecText(port, nets, ['ether2']), 'pw', false)).changes.length).toBeGreaterThan(0);
    } finally {
      await fake.stop();
    }
  });
});

describe('hints: the nearest name the device has', () => {
  it('an unknown bridge names the bridge the router has', async () => {
    const { deviceHas } = await import('../src/hints.js');
    expect(deviceHas('router', 'bridge', ['main-bridge'])).toBe('; the router has main-bridge');
    expect(deviceHas('router', 'bridge1', ['bridge2', 'lan-bridge', 'wan'])).toBe('; the router has bridge2');
    expect(deviceHas('router', 'x', ['alpha', 'beta', 'gamma'])).toBe('; the router has: alpha, beta, gamma');
    expect(deviceHas('router', 'x', [])).toBe('');
    const { FakeRouterOS } = await import('./fakes/routeros-fake.js');
    const { planRouterOS, vlanSpecText } = await import('./fakes/routeros-harness.js');
    const fake = new FakeRouterOS({ password: 'pw' });
    fake.seedDefaults();
    const port = await fake.start();
    try {
      const text = vlanSpecText(port, { media: { vlan: 20, third: 20 } }).replace('    password-env: P', '    password-env: P\n    bridge: main-bridge');
      const err = await planRouterOS(text, 'pw', false).catch((e: unknown) => e);
      expect((err as { problems?: Array<{ message: string }> }).problems?.[0]).toEqual({ path: ['routers', 'core', 'bridge'], message: 'bridge "main-bridge" not found; the router has bridge' });
    } finally {
      await fake.stop();
    }
  });
});

describe('--json is always one JSON document on stdout', () => {
  const json = (args: string[]) => {
    const r = run(args);
    return { code: r.code, doc: JSON.parse(r.stdout) as Record<string, unknown>, stderr: r.stderr };
  };
  it('a spec error, a usage error: status error with the problems', () => {
    const spec = json(['plan', 'test/bad-specs/switch-uplink-loop.yaml', '--json']);
    expect(spec.code).toBe(1);
    expect(spec.doc).toMatchObject({ format: 'flatnet-plan/1', mode: 'plan', status: 'error', units: [] });
    expect(spec.doc.problems).toEqual([expect.objectContaining({ path: ['switches', 'sw1', 'connected-to'], line: 15, col: 19 })]);
    expect(spec.stderr).toContain('switches.sw1.connected-to');
    const usage = json(['apply', 'examples/switched.yaml', '--json', '--router', 'nope']);
    expect(usage.doc).toMatchObject({ mode: 'apply', status: 'error', error: 'no router named "nope" in the spec (routers: core)' });
    const status = json(['status', 'test/bad-specs/switch-uplink-loop.yaml', '--json']);
    expect(status.doc).toMatchObject({ format: 'flatnet-status/1', status: 'error', networks: [], devices: [] });
  });

  it('a refused apply (no terminal, no --yes) is status refused, its devices not-applied, never "changes"', async () => {
    const { FakeRouterOS } = await import('./fakes/routeros-fake.js');
    const { vlanSpecText } = await import('./fakes/routeros-harness.js');
    const { runApply } = await import('../src/plan/run.js');
    const { captureIo } = await import('./fakes/capture-io.js');
    const fake = new FakeRouterOS({ password: 'pw' });
    fake.seedDefaults();
    const port = await fake.start();
    const dir = mkdtempSync(join(tmpdir(), 'flatnet-json-'));
    try {
      const file = join(dir, 'spec.yaml');
      writeFileSync(file, vlanSpecText(port, { media: { vlan: 20, third: 20 } }));
      const io = captureIo();
      expect(await runApply(file, { json: true }, io.io)).toBe(1);
      const doc = JSON.parse(io.out());
      expect(doc.status).toBe('refused');
      expect(doc.error).toMatch(/^refusing to apply without confirmation/);
      // the router had changes; the local host without ssh is listed as not planned
      expect(doc.units.map((u: { name: string; status: string }) => `${u.name} ${u.status}`)).toEqual(['core not-applied (refused)', 'nas not-planned']);
      // a plain plan of the same says changes, an apply with --yes applied
      const plan = captureIo();
      const { runPlan } = await import('../src/plan/run.js');
      await runPlan(file, { json: true }, plan.io);
      expect(JSON.parse(plan.out()).status).toBe('changes');
      const yes = captureIo();
      await runApply(file, { json: true, yes: true }, yes.io);
      expect(JSON.parse(yes.out()).status).toBe('applied');
    } finally {
      await fake.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('saved plans', () => {
  it('plan --out then apply FILE applies exactly that plan; a device that changed since makes it refuse, sending nothing', async () => {
    const { FakeRouterOS } = await import('./fakes/routeros-fake.js');
    const { vlanSpecText } = await import('./fakes/routeros-harness.js');
    const { runApply, runPlan } = await import('../src/plan/run.js');
    const { captureIo } = await import('./fakes/capture-io.js');
    const fake = new FakeRouterOS({ password: 'pw' });
    fake.seedDefaults();
    const port = await fake.start();
    const dir = mkdtempSync(join(tmpdir(), 'flatnet-saved-'));
    const changes = () => fake.log.filter((e) => !e.command.endsWith('/print') && e.command !== '/login' && !e.command.startsWith('/system/')).length;
    try {
      const file = join(dir, 'spec.yaml');
      const planFile = join(dir, 'tonight.plan');
      writeFileSync(file, vlanSpecText(port, { media: { vlan: 20, third: 20 } }));
      const saveIo = captureIo();
      expect(await runPlan(file, { routers: ['core'], out: planFile }, saveIo.io)).toBe(0);
      expect(saveIo.err()).toContain(`plan saved to ${planFile}`);
      // the spec file may change afterwards: the saved plan carries the spec it was made from
      writeFileSync(file, vlanSpecText(port, { media: { vlan: 21, third: 21 } }));
      const apply = captureIo();
      expect(await runApply(planFile, { confirmTimeout: 0 }, apply.io)).toBe(0);
      expect(apply.out()).toMatch(/applied router core: \d+ changes/);
      expect(fake.rows('/interface/vlan').map((r) => r['vlan-id'])).toEqual(['20']);
      // applied already: the router no longer plans what was saved
      const before = changes();
      const again = captureIo();
      expect(await runApply(planFile, { confirmTimeout: 0 }, again.io)).toBe(1);
      expect(again.err()).toMatch(/the saved plan .*tonight\.plan is out of date: router core changed since the plan was saved \(0 changes now, \d+ in the plan\); nothing was changed/);
      expect(changes()).toBe(before);
    } finally {
      await fake.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
