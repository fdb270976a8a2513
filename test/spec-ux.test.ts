// What a new user trips over (issue 9): tab indentation, typos in keys, a directory or an unreadable file
// given as the spec, and the wording of a router-type mismatch. In-process; stdin (`-`) is in cli.test.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { SpecError, formatProblem, generate, loadSpecFile, modelFromText, parseSpecText, UserError } from '../src/index.js';
import { editDistance, suggestKey } from '../src/spec-file/load.js';

// Root reads every file, so EACCES is simulated for one path; everything else is the real node:fs.
const DENIED = '/flatnet-test/denied.yaml';
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const readFileSync = ((path: unknown, ...rest: unknown[]) => {
    if (path === DENIED) throw Object.assign(new Error(`EACCES: permission denied, open '${DENIED}'`), { code: 'EACCES', syscall: 'open' });
    return (fs.readFileSync as (...a: unknown[]) => unknown)(path, ...rest);
  }) as typeof fs.readFileSync;
  return { ...fs, default: { ...fs, readFileSync }, readFileSync };
});

/** The problems of a spec as the CLI prints them. */
function problems(text: string, file = 'spec.yaml'): string[] {
  try {
    parseSpecText(text, file);
  } catch (err) {
    if (err instanceof SpecError) return err.problems.map((p) => formatProblem(err.file, p));
    throw err;
  }
  return [];
}

const VALID = `version: 1

routers:
  core:
    type: routeros
    address: 192.168.88.1
    password-env: FLATNET_CORE_PASSWORD

hosts:
  nas:
    parent: enp3s0

networks:
  docker-demo:
    router: core
    host: nas
    vlan: 200
    subnet: 192.168.200.0/24
    gateway: 192.168.200.1
    container-range: 192.168.200.192/27
`;
const TAB = 'tabs are not allowed for indentation in YAML; indent with spaces';

describe('tab indentation', () => {
  it('is one problem at the first tab, with the path of the mapping the line is in, and nothing else', () => {
    expect(problems(VALID.replace('    vlan: 200', '\tvlan: 200'))).toEqual([`spec.yaml:17:1 networks.docker-demo: ${TAB}`]);
    // spaces then a tab: the column of the tab
    expect(problems(VALID.replace('    vlan: 200', '  \tvlan: 200'))).toEqual([`spec.yaml:17:3 networks.docker-demo: ${TAB}`]);
    // the line under a key that opens a mapping belongs to that key
    expect(problems(VALID.replace('    parent: enp3s0', '\tparent: enp3s0'))).toEqual([`spec.yaml:11:1 hosts.nas: ${TAB}`]);
    // several tabbed lines: the first only
    expect(problems('version: 1\nhosts:\n\tnas:\n\t\tparent: eth0\nnetworks: {}\n')).toEqual([`spec.yaml:3:1 hosts: ${TAB}`]);
    // at the top: <root>
    expect(problems('\tversion: 1\n')).toEqual([`spec.yaml:1:1 <root>: ${TAB}`]);
  });

  it('in a list, and after a block scalar that the tab ends', () => {
    const list = VALID.replace('    container-range: 192.168.200.192/27\n', '    container-range: 192.168.200.192/27\n    firewall:\n      from:\n        - lan\n\t- other\n');
    expect(problems(list)).toEqual([`spec.yaml:24:1 networks.docker-demo.firewall.from: ${TAB}`]);
    const block = VALID.replace('    parent: enp3s0', '    parent: |\n      enp3s0\n\tx: 1');
    expect(problems(block)).toEqual([`spec.yaml:13:1 hosts.nas: ${TAB}`]);
  });

  it('leaves tabs YAML allows alone: inside a block scalar, before a comment, in a tab-indented JSON spec', () => {
    const inBlock = VALID.replace('    parent: enp3s0', '    parent: |\n      enp3s0\n      \tmore text');
    expect(problems(inBlock).join('\n')).not.toContain('tabs');
    expect(problems(VALID.replace('hosts:', '\t# a comment\nhosts:'))).toEqual([]);
    const json = JSON.stringify(
      { version: 1, hosts: { nas: { parent: 'enp3s0' } }, networks: { x: { host: 'nas', subnet: '10.0.0.0/24', gateway: '10.0.0.1', 'container-range': '10.0.0.128/25' } } },
      null,
      '\t',
    );
    expect(modelFromText(json).networks).toHaveLength(1);
  });

  it('a YAML error that is not about tabs is reported as before', () => {
    expect(problems(`${VALID}\t\nextra: "unclosed\n`).join('\n')).not.toContain('tabs');
  });
});

describe('did you mean', () => {
  it('suggests the nearest known key of that mapping for a typo', () => {
    const spec = VALID.replace('container-range:', 'contianer-range:').replace('networks:', 'netwroks: {}\nnetworks:').replace('    parent:', '    parnet:').replace('    type: routeros', '    type: routeros\n    bridg: bridge');
    const out = problems(spec);
    expect(out).toContain('spec.yaml:12:5 hosts.nas.parnet: unknown key "parnet" (did you mean "parent"?)');
    expect(out).toContain('spec.yaml:14:1 netwroks: unknown key "netwroks" (did you mean "networks"?)');
    expect(out).toContain('spec.yaml:22:5 networks.docker-demo.contianer-range: unknown key "contianer-range" (did you mean "container-range"?)');
    expect(out).toContain('spec.yaml:6:5 routers.core.bridg: unknown key "bridg" (did you mean "bridge"?)');
  });

  it('takes the keys of the router type the spec names', () => {
    const openwrt = VALID.replace('type: routeros', 'type: openwrt\n    devcie: br-lan');
    expect(problems(openwrt)).toContain('spec.yaml:6:5 routers.core.devcie: unknown key "devcie" (did you mean "device"?)');
  });

  it('does not add "is required" for the key the typo stands for', () => {
    expect(problems(VALID.replace('container-range:', 'contianer-range:'))).toEqual([
      'spec.yaml:20:5 networks.docker-demo.contianer-range: unknown key "contianer-range" (did you mean "container-range"?)',
    ]);
    expect(problems(VALID.replace('networks:', 'netwroks:'))).toEqual(['spec.yaml:13:1 netwroks: unknown key "netwroks" (did you mean "networks"?)']);
    // with no suggestion the missing key is still reported
    expect(problems(VALID.replace('    parent: enp3s0', '    iface: enp3s0'))).toEqual([
      'spec.yaml:11:5 hosts.nas.parent: is required',
      'spec.yaml:11:5 hosts.nas.iface: unknown key "iface"',
    ]);
  });

  it('keeps the kebab-case suggestion and stays quiet when nothing is near', () => {
    expect(problems(VALID.replace('container-range:', 'container_range:'))).toEqual([
      'spec.yaml:20:5 networks.docker-demo.container_range: unknown key "container_range" (did you mean "container-range"?)',
    ]);
    expect(suggestKey('mtu', ['parent', 'address', 'persist'])).toBeUndefined();
    expect(suggestKey('fooBar', ['parent'])).toBeUndefined();
    // up to 4 characters: one edit at most
    expect(suggestKey('vlna', ['vlan'])).toBe('vlan');
    expect(suggestKey('vxyn', ['vlan'])).toBeUndefined();
    expect(suggestKey('gatway', ['gateway'])).toBe('gateway');
  });

  it('edit distance counts an adjacent swap as one edit', () => {
    expect(editDistance('netwroks', 'networks')).toBe(1);
    expect(editDistance('contianer-range', 'container-range')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });
});

describe('a spec path that is not a readable file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flatnet-spec-ux-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const refusal = (file: string) => {
    try {
      loadSpecFile(file);
    } catch (err) {
      if (err instanceof SpecError) return err.problems.map((p) => formatProblem(err.file, p));
      throw err;
    }
    throw new Error('loaded');
  };

  it('a directory says so in words', () => {
    expect(refusal(dir)).toEqual([`${dir} <root>: is a directory, not a spec file`]);
  });

  it('no permission to read it', () => {
    expect(refusal(DENIED)).toEqual([`${DENIED} <root>: no permission to read it`]);
  });

  it('a missing file, as before', () => {
    expect(refusal(join(dir, 'nope.yaml'))).toEqual([`${join(dir, 'nope.yaml')} <root>: no such file`]);
  });
});

describe('router type mismatch wording', () => {
  const model = (type: 'routeros' | 'openwrt') => modelFromText(VALID.replace('type: routeros', `type: ${type}`));
  const message = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      if (err instanceof UserError) return err.message;
      throw err;
    }
    return '';
  };

  it('an OpenWrt router, a RouterOS router', () => {
    expect(message(() => generate(model('openwrt'), { targets: ['routeros'], router: 'core' }))).toBe('router "core" is an OpenWrt router; use --target openwrt');
    expect(message(() => generate(model('routeros'), { targets: ['openwrt'], router: 'core' }))).toBe('router "core" is a RouterOS router; use --target routeros');
  });
});
