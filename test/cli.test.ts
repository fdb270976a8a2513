// The command as users run it: bin/flatnet-router.js on the built dist/.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'flatnet-router.js');
const homelab = join(root, 'examples', 'homelab.yaml');
let scratch = '';

function run(args: string[], cwd = root, input?: string) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', ...(input !== undefined ? { input } : {}) });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'src', 'cli.js'))) spawnSync('npx', ['tsc', '-p', root], { stdio: 'inherit' });
  scratch = mkdtempSync(join(tmpdir(), 'flatnet-cli-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('flatnet-router CLI', () => {
  it('validate: ok summary on stdout, exit 0', () => {
    const r = run(['validate', homelab]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/homelab\.yaml: ok \(4 networks, 3 with a VLAN; 1 router; 2 hosts\)/);
    expect(r.stderr).toBe('');
  });

  it('validate: SPEC defaults to ./flatnet.yaml', () => {
    const dir = mkdtempSync(join(scratch, 'default-'));
    copyFileSync(homelab, join(dir, 'flatnet.yaml'));
    expect(run(['validate'], dir).code).toBe(0);
    const empty = mkdtempSync(join(scratch, 'none-'));
    const r = run(['validate'], empty);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('./flatnet.yaml <root>: no such file');
  });

  it('generate --target docker --host: only the docker commands, one per line', () => {
    const r = run(['generate', homelab, '--target', 'docker', '--host', 'nas']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n').filter((l) => l.startsWith('flatnet_network '));
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).toMatch(/^flatnet_network ([a-z-]+) '[^']*' -d macvlan .* -o parent=enp3s0(\.\d+)? --label=flatnet\.network=\1 \1$/);
    expect(r.stdout).toBe(readFileSync(join(root, 'test/golden/homelab/docker/nas.sh'), 'utf8'));
  });

  it('generate --target host --host: one ip command per line', () => {
    const r = run(['generate', homelab, '--target', 'host', '--host', 'mini']);
    expect(r.code).toBe(0);
    for (const line of r.stdout.trimEnd().split('\n')) expect(line).toMatch(/^ip /);
  });

  it('generate --target routeros --router: the script alone, as in the golden file', () => {
    const r = run(['generate', homelab, '--target', 'routeros', '--router', 'core']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(readFileSync(join(root, 'test/golden/homelab/routeros/core.rsc'), 'utf8'));
  });

  it('generate without a single selection prints every artifact with a banner', () => {
    const r = run(['generate', homelab]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('# ==> routeros/core.rsc <==');
    expect(r.stdout).toContain('# ==> host/nas.sh <==');
  });

  it('generate --out writes the files (shell scripts executable)', () => {
    const out = join(scratch, 'out');
    const r = run(['generate', homelab, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`wrote ${join(out, 'routeros/core.rsc')}`);
    expect(readFileSync(join(out, 'docker/nas.sh'), 'utf8')).toBe(readFileSync(join(root, 'test/golden/homelab/docker/nas.sh'), 'utf8'));
    expect(statSync(join(out, 'host/nas.sh')).mode & 0o111).not.toBe(0);
    expect(existsSync(join(out, 'networkd/nas/enp3s0.network.d/flatnet.conf'))).toBe(true);
  });

  it('--out that cannot be written: exit 1, and says how many files were written', () => {
    const file = join(scratch, 'not-a-dir');
    writeFileSync(file, '');
    const r = run(['generate', homelab, '--out', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^flatnet-router: cannot write .*not-a-dir\/routeros\/core\.rsc \(ENOTDIR.*\); 0 of 27 files were written before this\n$/);
  });

  it('names an unknown router or host and exits 1 without a stack trace', () => {
    for (const args of [['--router', 'nope'], ['--host', 'nope']]) {
      const r = run(['generate', homelab, ...args]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^flatnet-router: no (router|host) named "nope"/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stdout).toBe('');
    }
  });

  it('refuses a target that does not match the router type', () => {
    const r = run(['generate', homelab, '--target', 'openwrt', '--router', 'core']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('router "core" is a RouterOS router; use --target routeros');
  });

  it('refuses an unknown target', () => {
    const r = run(['generate', homelab, '--target', 'cisco']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('must be one of routeros, openwrt, openwrt-config, docker, compose, host, networkd, all');
  });

  it('an invalid spec: every problem on stderr, exit 1, nothing written', () => {
    const bad = join(scratch, 'bad.yaml');
    writeFileSync(bad, readFileSync(homelab, 'utf8').replace('gateway: 10.20.0.1', 'gateway: 10.21.0.1').replace('vlan: 30', 'vlan: 20'));
    const out = join(scratch, 'bad-out');
    const r = run(['generate', bad, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.yaml:\d+:\d+ networks\.media\.gateway: 10\.21\.0\.1 is outside subnet 10\.20\.0\.0\/24/);
    expect(r.stderr).toMatch(/bad\.yaml:\d+:\d+ networks\.iot\.vlan: VLAN 20 is already used by network "media" on router "core"/);
    expect(r.stdout).toBe('');
    expect(existsSync(out)).toBe(false);
  });

  it('schema: a JSON Schema whose objects refuse unknown keys', () => {
    const r = run(['schema']);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout);
    expect(schema.$schema).toContain('2020-12');
    expect(schema.required).toEqual(['version']); // hosts and networks may be left out (a spec with only devices, e.g. for import)
    const network = schema.properties.networks.additionalProperties;
    expect(network.additionalProperties).toBe(false);
    expect(Object.keys(network.properties)).toEqual(expect.arrayContaining(['router', 'host', 'vlan', 'subnet', 'gateway', 'container-range', 'shim-address', 'shim-name', 'dhcp-pool', 'driver', 'ipv6', 'firewall']));
  });

  it('OpenWrt trunk-ports without lan-ports/lan-interface: valid, but generate asks for them', () => {
    for (const [file, missing] of [
      ['openwrt-trunk-without-lan-ports.yaml', 'lan-ports'],
      ['openwrt-trunk-without-lan-interface.yaml', 'lan-interface'],
    ] as const) {
      const spec = join(root, 'test', 'fixtures', file);
      expect(run(['validate', spec]).code).toBe(0);
      const r = run(['generate', spec, '--target', 'openwrt']);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(new RegExp(`^flatnet-router: routers\\.edge: with trunk-ports, generate needs ${missing} .*plan/apply read them from the router\n$`));
    }
  });

  it('the scripts name the file generate --out writes them to', () => {
    const out = (example: string) => {
      const dir = mkdtempSync(join(scratch, 'names-'));
      expect(run(['generate', join(root, 'examples', example), '--out', dir]).code).toBe(0);
      return dir;
    };
    expect(readFileSync(join(out('homelab.yaml'), 'routeros', 'core.rsc'), 'utf8').split('\n')[1]).toContain('/import file-name=core.rsc');
    // the OpenWrt header's paste: the cleanup line, then the batch of this file
    expect(readFileSync(join(out('openwrt-vlan.yaml'), 'openwrt', 'edge.uci'), 'utf8').split('\n').find((l) => l.startsWith('#   uci batch <'))).toContain('uci batch < edge.uci');
  });

  it('--help of each command shows an example', () => {
    for (const cmd of ['validate', 'generate', 'schema']) {
      const r = run([cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Example/);
    }
  });
});

describe('the spec argument', () => {
  it('- reads the spec from stdin for validate and generate', () => {
    const text = readFileSync(homelab, 'utf8');
    const v = run(['validate', '-'], root, text);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/ok \(4 networks, 3 with a VLAN; 1 router; 2 hosts\)/);
    const g = run(['generate', '-', '--target', 'routeros', '--router', 'core'], root, text);
    expect(g.code).toBe(0);
    expect(g.stdout).toBe(readFileSync(join(root, 'test/golden/homelab/routeros/core.rsc'), 'utf8'));
  });

  it('- : problems name the file <stdin>, for validate, generate, plan and apply', () => {
    const bad = readFileSync(homelab, 'utf8').replace('gateway: 10.20.0.1', 'gateway: 10.21.0.1');
    for (const cmd of [['validate'], ['generate'], ['plan'], ['apply', '--yes']]) {
      const r = run([cmd[0]!, '-', ...cmd.slice(1)], root, bad);
      expect(r.code, cmd[0]).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^<stdin>:\d+:\d+ networks\.media\.gateway: 10\.21\.0\.1 is outside subnet 10\.20\.0\.0\/24\n1 problem in <stdin>; nothing was generated\n$/);
    }
    expect(run(['validate', '-'], root, '').stderr).toMatch(/^<stdin>:1:1 <root>: the spec is empty/);
  });

  it('a directory: said in words, not EISDIR', () => {
    const r = run(['validate', scratch]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`${scratch} <root>: is a directory, not a spec file\n1 problem in ${scratch}; nothing was generated\n`);
  });

  it('tab indentation: one problem at the tab, no follow-on errors', () => {
    const tabbed = join(scratch, 'tabbed.yaml');
    writeFileSync(tabbed, readFileSync(homelab, 'utf8').replace(/\n {4}vlan: 20\n/, '\n\tvlan: 20\n'));
    const r = run(['validate', tabbed]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^\S*tabbed\.yaml:\d+:1 networks\.media: tabs are not allowed for indentation in YAML; indent with spaces\n1 problem in \S*tabbed\.yaml; nothing was generated\n$/);
  });
});

describe('flatnet.schema.json', () => {
  it('is the current output of `flatnet-router schema` (regenerate: flatnet-router schema > flatnet.schema.json)', () => {
    expect(readFileSync(join(root, 'flatnet.schema.json'), 'utf8')).toBe(run(['schema']).stdout);
  });
});

describe('JSON specs', () => {
  it('a JSON spec gives the same output as its YAML, and its problems carry line:col too', async () => {
    const { parse } = await import('yaml');
    const json = join(scratch, 'homelab.json');
    writeFileSync(json, JSON.stringify(parse(readFileSync(homelab, 'utf8')), null, 2));
    expect(run(['generate', json]).stdout).toBe(run(['generate', homelab]).stdout);
    writeFileSync(json, JSON.stringify({ version: 1, hosts: {}, networks: { x: { host: 'nas', subnet: '10.0.0.0/24', gateway: '10.0.0.1', 'container-range': '10.0.0.128/25' } } }, null, 2));
    const r = run(['validate', json]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/homelab\.json:\d+:\d+ networks\.x\.host: host "nas" is not defined under hosts/);
  });
});
