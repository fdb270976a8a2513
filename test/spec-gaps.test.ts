// Issue 9, "Gaps that users hit": firewall.to [lan], vlan-device for long VLAN parent names, the ULA warning,
// ipv6_address in the compose snippet and descriptions in the JSON Schema.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { generate, loadModel, modelFromText, specJsonSchema, SpecError } from '../src/index.js';
import { findRouter, type Model, type OpenWrtRouter, type RouterOSRouter } from '../src/model.js';
import { networkCreateArgs } from '../targets/docker/index.js';
import { networkdFiles, shimCommands } from '../targets/host/index.js';
import { desiredState } from '../targets/openwrt/index.js';
import { desiredObjects, preconditions } from '../targets/routeros/index.js';
import { forwardVerdict } from './fakes/firewall-check.js';
import { FakeRouterOS } from './fakes/routeros-fake.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fixture = join(root, 'test', 'fixtures', 'spec-gaps.yaml');
const load = () => loadModel(fixture);
const routeros = (m: Model) => findRouter(m, 'core') as RouterOSRouter;
const openwrt = (m: Model) => findRouter(m, 'edge') as OpenWrtRouter;

function problemsOf(text: string): string[] {
  try {
    modelFromText(text, 'spec.yaml');
    return [];
  } catch (err) {
    if (!(err instanceof SpecError)) throw err;
    return err.message.split('\n');
  }
}

const forwardRules = (m: Model, menu: string) =>
  desiredObjects(m, routeros(m))
    .filter((o) => o.menu === menu && o.props.some(([k, v]) => k === 'chain' && v === 'forward'))
    .map((o) => Object.fromEntries(o.props));

describe('firewall.to: [lan]', () => {
  it('is accepted and kept in the model', () => {
    const m = load();
    expect(m.networks.find((n) => n.name === 'home-assistant')!.firewall!.to).toEqual(['lan']);
  });

  it('RouterOS: a forward accept from the VLAN to the LAN interface list, IPv4 and (dual stack) IPv6', () => {
    const m = load();
    const toLan = { chain: 'forward', action: 'accept', 'in-interface': 'vlan30-home-assistant', 'out-interface-list': 'LAN', comment: 'flatnet:home-assistant' };
    expect(forwardRules(m, '/ip/firewall/filter')).toContainEqual(toLan);
    expect(forwardRules(m, '/ipv6/firewall/filter')).toContainEqual(toLan);
    // a v4-only network gets the IPv4 rule only: its IPv6 stays dropped
    const sensors = { chain: 'forward', action: 'accept', 'in-interface': 'vlan31-sensors', 'out-interface-list': 'LAN', comment: 'flatnet:sensors' };
    expect(forwardRules(m, '/ip/firewall/filter')).toContainEqual(sensors);
    expect(forwardRules(m, '/ipv6/firewall/filter')).not.toContainEqual(sensors);
  });

  it('RouterOS: the accept comes before the network\'s drops, and the LAN list is a precondition', () => {
    const m = load();
    const rules = forwardRules(m, '/ip/firewall/filter');
    const accept = rules.findIndex((r) => r['in-interface'] === 'vlan31-sensors' && r['out-interface-list'] === 'LAN');
    const drop = rules.findIndex((r) => r['in-interface'] === 'vlan31-sensors' && r.action === 'drop');
    expect(accept).toBeGreaterThanOrEqual(0);
    expect(accept).toBeLessThan(drop);
    // sensors alone (from: [] would otherwise need no LAN list): the list must exist before the rule names it
    const only = modelFromText(readFileSync(fixture, 'utf8').replace(/from: \[lan\]\n/, 'from: []\n'), 'x.yaml');
    expect(preconditions(only, routeros(only))).toContainEqual(expect.objectContaining({ kind: 'interface-list', name: 'LAN', path: ['routers', 'core', 'lan'] }));
  });

  it('RouterOS script: the rule is in the generated .rsc', () => {
    const rsc = generate(load(), { targets: ['routeros'] })[0]!.content;
    expect(rsc).toMatch(/add chain=forward action=accept in-interface=vlan31-sensors out-interface-list=LAN comment=flatnet:sensors/);
  });

  it('RouterOS apply (fake router): the VLAN reaches the LAN, the LAN list is checked, a second apply changes nothing', async () => {
    const fake = new FakeRouterOS({ password: 'pw' });
    fake.seedDefaults();
    const port = await fake.start();
    const dir = mkdtempSync(join(tmpdir(), 'flatnet-gaps-'));
    try {
      const file = join(dir, 'spec.yaml');
      const text = readFileSync(fixture, 'utf8').replace('address: 192.168.88.1\n', `address: 127.0.0.1\n    port: ${port}\n`);
      writeFileSync(file, text);
      const cli = (args: string[]) =>
        new Promise<{ code: number; out: string }>((resolve) =>
          execFile(process.execPath, [join(root, 'bin', 'flatnet-router.js'), ...args], { env: { PATH: process.env.PATH ?? '', FLATNET_CORE_PASSWORD: 'pw', NO_COLOR: '1' } }, (err, stdout, stderr) =>
            resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
          ),
        );
      const first = await cli(['apply', file, '--router', 'core', '--yes']);
      expect(first.code, first.out).toBe(0);
      // bridge is the LAN list's member in the default config; ether1 the WAN's
      expect(forwardVerdict(fake, '/ip/firewall/filter', 'vlan31-sensors', 'bridge')).toBe('accept');
      expect(forwardVerdict(fake, '/ip/firewall/filter', 'vlan31-sensors', 'ether1')).toBe('drop');
      expect(forwardVerdict(fake, '/ipv6/firewall/filter', 'vlan31-sensors', 'bridge')).toBe('drop');
      expect(forwardVerdict(fake, '/ipv6/firewall/filter', 'vlan30-home-assistant', 'bridge')).toBe('accept');
      const second = await cli(['plan', file, '--router', 'core', '--detailed-exitcode']);
      expect(second.code, second.out).toBe(0);
    } finally {
      await fake.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('OpenWrt: a forwarding flatnet_<net>_to_lan from the zone to the lan zone', () => {
    const m = load();
    const { sections } = desiredState(m, openwrt(m));
    expect(sections).toContainEqual({ config: 'firewall', name: 'flatnet_usb_apps_to_lan', type: 'forwarding', options: [['src', 'fn_vlan40'], ['dest', 'lan']] });
    const batch = generate(m, { targets: ['openwrt'] })[0]!.content;
    expect(batch).toContain('flatnet_usb_apps_to_lan');
  });

  it('still refuses a name that is neither a network nor "lan"', () => {
    const text = readFileSync(fixture, 'utf8').replace('to: [lan]\n      allow-input', 'to: [lan, lab]\n      allow-input');
    expect(problemsOf(text)).toEqual([expect.stringMatching(/networks\.home-assistant\.firewall\.to\[1\]: "lab" is not a network \(or "lan"\)/)]);
  });
});

describe('networks.<name>.vlan-device', () => {
  it('is the attachment\'s link: docker parent, shim lower device, networkd files', () => {
    const m = load();
    const a = m.hosts.find((h) => h.name === 'pi')!.attachments[0]!;
    expect(a).toMatchObject({ parent: 'enx00e04c680001', link: 'usb0.40', vlan: 40 });
    expect(networkCreateArgs(m, a)).toContain('parent=usb0.40');
    const argv = shimCommands(a).map((c) => c.argv.join(' '));
    expect(argv).toContain('ip link add link enx00e04c680001 name usb0.40 type vlan id 40');
    expect(argv.some((c) => c.startsWith('ip link add link usb0.40 name fn-40 type macvlan'))).toBe(true);
    const names = networkdFiles(m.hosts.find((h) => h.name === 'pi')!).map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining(['10-flatnet-usb0.40.netdev', '10-flatnet-usb0.40.network', 'enx00e04c680001.network.d/flatnet.conf']));
  });

  it('applies to every host of a shared network', () => {
    const text = readFileSync(fixture, 'utf8').replace('host: pi\n', 'host: [pi, nas]\n');
    const m = modelFromText(text, 'x.yaml');
    expect(m.networks.find((n) => n.name === 'usb-apps')!.attachments.map((a) => [a.host, a.parent, a.link])).toEqual([
      ['pi', 'enx00e04c680001', 'usb0.40'],
      ['nas', 'enp3s0', 'usb0.40'],
    ]);
  });

  it('without it, the too-long <parent>.<vlan> error says to set it', () => {
    const text = readFileSync(fixture, 'utf8').replace('    vlan-device: usb0.40\n', '');
    expect(problemsOf(text)).toEqual([
      expect.stringMatching(/networks\.usb-apps\.vlan: the VLAN device on host "pi": "enx00e04c680001\.40" is 18 bytes; .*set networks\.usb-apps\.vlan-device to a shorter name$/),
    ]);
  });

  it('is checked as a Linux name, with line and column', () => {
    const text = readFileSync(fixture, 'utf8').replace('vlan-device: usb0.40', 'vlan-device: "usb 0"');
    expect(problemsOf(text)).toEqual([expect.stringMatching(/^spec\.yaml:\d+:\d+ networks\.usb-apps\.vlan-device: "usb 0" contains white space/)]);
  });
});

describe('warnings', () => {
  it('a ULA-only network with internet: true is valid, with a located warning', () => {
    const m = load();
    expect(m.warnings).toEqual([
      {
        path: ['networks', 'usb-apps', 'ipv6', 'subnet'],
        message: expect.stringMatching(/fd00:40::\/64 is a unique local .*NPTv6 or NAT66/),
        line: 59,
        col: 15,
      },
    ]);
    expect(readFileSync(fixture, 'utf8').split('\n')[58]!.slice(14)).toBe('fd00:40::/64');
  });

  it('no warning with internet: false, or with a global prefix', () => {
    const text = readFileSync(fixture, 'utf8');
    const noInternet = modelFromText(text.replace(/firewall:\n      to: \[lan\]\n$/, 'firewall:\n      internet: false\n      to: [lan]\n'), 'x.yaml');
    expect(noInternet.warnings).toEqual([]);
    const global = modelFromText(text.replace(/fd00:40::/g, '2001:db8:40::'), 'x.yaml');
    expect(global.warnings).toEqual([]);
  });

  it('the examples have none', () => {
    for (const f of ['dual-stack', 'homelab', 'openwrt-trunk', 'openwrt-vlan', 'routeros-vlan', 'flat-lan']) {
      expect(loadModel(join(root, 'examples', `${f}.yaml`)).warnings, f).toEqual([]);
    }
  });
});

describe('compose snippet', () => {
  it('shows ipv6_address next to ipv4_address for a dual-stack network', () => {
    const [yaml] = generate(load(), { targets: ['compose'], host: 'pi' });
    expect(yaml!.content).toContain('#           ipv4_address: <an address in 10.40.0.128/26>');
    expect(yaml!.content).toContain('#           ipv6_address: <an address in fd00:40::/64>');
  });

  it('shows only ipv4_address without IPv6', () => {
    const spec = {
      version: 1,
      hosts: { nas: { parent: 'enp3s0' } },
      networks: { apps: { host: 'nas', subnet: '192.168.88.0/24', gateway: '192.168.88.1', 'container-range': '192.168.88.192/27' } },
    };
    const [yaml] = generate(modelFromText(stringify(spec)), { targets: ['compose'] });
    expect(yaml!.content).toContain('ipv4_address: <an address in 192.168.88.192/27>');
    expect(yaml!.content).not.toContain('ipv6_address');
  });
});

describe('JSON Schema', () => {
  /** Every key of every object (properties), with its JSON pointer. */
  function properties(node: unknown, at = '#'): Array<[string, Record<string, unknown>]> {
    if (Array.isArray(node)) return node.flatMap((x, i) => properties(x, `${at}/${i}`));
    if (node === null || typeof node !== 'object') return [];
    const out: Array<[string, Record<string, unknown>]> = [];
    for (const [k, v] of Object.entries(node)) {
      if (k === 'properties' && v && typeof v === 'object') {
        for (const [name, schema] of Object.entries(v)) out.push([`${at}/properties/${name}`, schema as Record<string, unknown>]);
      }
      out.push(...properties(v, `${at}/${k}`));
    }
    return out;
  }

  it('describes every property', () => {
    const props = properties(specJsonSchema());
    expect(props.length).toBeGreaterThan(50);
    const missing = props.filter(([, s]) => typeof s.description !== 'string' || s.description.length < 10).map(([p]) => p);
    expect(missing).toEqual([]);
  });

  it('knows vlan-device and says "lan" is allowed in firewall.to', () => {
    const network = (specJsonSchema() as any).properties.networks.additionalProperties;
    expect(network.properties['vlan-device'].description).toMatch(/15 bytes/);
    expect(network.properties.firewall.properties.to.description).toMatch(/"lan"/);
  });

  it('flatnet.schema.json carries the descriptions', () => {
    expect(JSON.parse(readFileSync(join(root, 'flatnet.schema.json'), 'utf8'))).toEqual(specJsonSchema());
  });
});
