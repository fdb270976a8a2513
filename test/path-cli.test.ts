// The path through the command: --switch for generate, plan and apply, and which units a selection plans.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { generate, loadModel } from '../src/index.js';
import { pushUnits } from '../src/push.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'flatnet-router.js');
const switched = join(root, 'examples', 'switched.yaml');
const openwrtSwitched = join(root, 'examples', 'openwrt-switched.yaml');

function run(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'src', 'cli.js'))) spawnSync('npx', ['tsc', '-p', root], { stdio: 'inherit' });
});

describe('--switch', () => {
  it('generate --target routeros --switch sw1: the switch script alone, nothing layer 3', () => {
    const r = run(['generate', switched, '--target', 'routeros', '--switch', 'sw1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\/interface\/bridge\/vlan\/(set|add) .*vlan-ids=20 tagged=ether5,ether1/);
    expect(r.stdout).toMatch(/vlan-ids=30 tagged=ether5,ether1 untagged=ether7/);
    expect(r.stdout).not.toMatch(/\/interface\/vlan\/add|\/ip\/address\/add|\/ip\/firewall\/filter\/add|\/ip\/dhcp-server\/add/);
    expect(r.stdout).not.toContain('# ==>');
  });

  it("the router's script carries the derived trunk port, the switch's ports stay off it", () => {
    const [core] = generate(loadModel(switched), { targets: ['routeros'], router: 'core' });
    expect(core!.content).toMatch(/vlan-ids=20 tagged=bridge,ether2\b/);
    expect(core!.content).toMatch(/vlan-ids=30 tagged=bridge,ether2\b/);
    expect(core!.content).not.toMatch(/ether7|ether5/);
  });

  it('--target all covers routers and switches; --router alone only the router', () => {
    const all = generate(loadModel(switched)).map((a) => a.path);
    expect(all).toContain('routeros/core.rsc');
    expect(all).toContain('routeros/sw1.rsc');
    const router = generate(loadModel(switched), { router: 'core' }).map((a) => a.path);
    expect(router).toEqual(['routeros/core.rsc']);
    const sw = generate(loadModel(switched), { switch: 'sw1' }).map((a) => a.path);
    expect(sw).toEqual(['routeros/sw1.rsc']);
    const owrt = generate(loadModel(openwrtSwitched), { targets: ['openwrt'] }).map((a) => a.path);
    expect(owrt).toEqual(['openwrt/edge.uci', 'openwrt/sw1.uci']);
  });

  it('a name of the wrong kind says what it is', () => {
    const r = run(['generate', switched, '--router', 'sw1']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('flatnet-router: "sw1" is a switch of the spec, not a router; use --switch sw1');
    const s = run(['generate', switched, '--switch', 'sw9']);
    expect(s.code).toBe(1);
    expect(s.stderr.trim()).toBe('flatnet-router: no switch named "sw9" in the spec (switches: sw1)');
    const t = run(['generate', switched, '--target', 'openwrt', '--switch', 'sw1']);
    expect(t.stderr.trim()).toBe('flatnet-router: switch "sw1" is a RouterOS switch; use --target routeros');
  });

  it('plan units: routers then switches by default; --switch or --router limits the run', () => {
    const m = loadModel(switched);
    const refs = (sel: Parameters<typeof pushUnits>[1]) => pushUnits(m, sel).map((u) => `${u.ref.kind} ${u.ref.name}`);
    expect(refs({})).toEqual(['router core', 'switch sw1', 'host nas']); // nas has no ssh: listed as not planned
    expect(refs({ switches: ['sw1'] })).toEqual(['switch sw1']);
    expect(refs({ routers: ['core'] })).toEqual(['router core']);
    expect(refs({ routers: ['core'], switches: ['sw1'] })).toEqual(['router core', 'switch sw1']);
  });

  it('validate counts the switches', () => {
    const r = run(['validate', switched]);
    expect(r.stdout).toMatch(/switched\.yaml: ok \(2 networks, 2 with a VLAN; 1 router; 1 switch; 1 host\)/);
  });

  it('plan --help has a --switch example', () => {
    const r = run(['plan', '--help']);
    expect(r.stdout).toContain('-s, --switch <name>');
    expect(r.stdout).toContain('flatnet-router plan examples/switched.yaml --switch sw1');
  });

  it('diagram: Mermaid by default, DOT with --format dot, an unknown format refused', () => {
    const m = run(['diagram', switched]);
    expect(m.code, m.stderr).toBe(0);
    expect(m.stdout.startsWith('flowchart')).toBe(true);
    expect(m.stdout).toContain('sw1:ether1 — core:ether2');
    const d = run(['diagram', switched, '--format', 'dot']);
    expect(d.code).toBe(0);
    expect(d.stdout).toMatch(/^(di)?graph /);
    const bad = run(['diagram', switched, '--format', 'png']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("argument 'png' is invalid. Allowed choices are mermaid, dot.");
  });
});
