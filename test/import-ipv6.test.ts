// import, IPv6: the routers' IPv6 (RouterOS /ipv6/address, OpenWrt ip6addr) as the network's ipv6: subnet and
// gateway; the hosts' Docker IPv6 IPAM config and shims as its container-range and shim-address where they agree
// with the router. What disagrees is a comment and a warning; every draft must validate.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { appliedOpenWrt, openwrtDraft } from './fakes/openwrt-draft.js';
import { stringify } from 'yaml';
import { generate, modelFromText, type Model } from '../src/index.js';
import { parseCidr, parseIp } from '../src/ip.js';
import { firstUsable, slices } from '../src/model.js';
import type { HostReading } from '../src/import/hosts.js';
import { importFromText, type ImportOptions } from '../src/import/run.js';
import { dockerNetwork } from '../targets/docker/index.js';
import type { EngineNetwork } from '../targets/docker/engine.js';
import { desiredLinks, type LiveHostLinks, type LiveLink } from '../targets/host/links.js';
import { parseUciExport } from '../targets/openwrt/uci.js';
import { defaultOpenWrtConfig } from './fakes/openwrt-router.js';
import { fakeRouters } from './fakes/fake-routers.js';
import { planRouterOS } from './fakes/routeros-harness.js';
import { importRouterOSLive, routerosLive } from './fakes/routeros-live.js';

const PASSWORD = 'imp';
const start = fakeRouters(PASSWORD);

type HostSide = { links: LiveHostLinks; networks: EngineNetwork[] };

/** importFromText with the hosts read from `hosts` (by name) instead of their transport; the draft must validate. */
async function draftOf(spec: string, hosts: Record<string, HostSide> = {}, options: ImportOptions = {}) {
  const result = await importFromText(spec, 'devices.yaml', {
    env: { P: PASSWORD },
    readHost: async (host) => {
      const h = hosts[host.name];
      if (!h) throw new Error('connection refused');
      return { host, links: h.links, networks: h.networks, docker: 'Docker 24.0.7', endpoint: 'test' } satisfies HostReading;
    },
    ...options,
  });
  return { ...result, model: modelFromText(result.draft, 'draft.yaml') };
}

/** A host as flatnet left it for `model` (its VLAN links, shims with their addresses and routes, Docker networks), unlabelled. */
function hostAsApplied(model: Model, name: string): HostSide {
  const host = model.hosts.find((h) => h.name === name)!;
  const links: LiveLink[] = [{ ifname: host.parent, ifindex: 1, flags: ['UP'], addresses: [] }];
  const routes: LiveHostLinks['routes'] = [];
  for (const l of desiredLinks(host.attachments)) {
    links.push({ ifname: l.name, ifindex: links.length + 1, flags: ['UP'], link: l.lower, linkinfo: { info_kind: l.kind, ...(l.vlanId !== undefined ? { info_data: { id: l.vlanId } } : {}) }, addresses: [...l.addresses] });
    for (const r of l.routes) routes.push({ dst: r.dst, dev: l.name, protocol: 'boot', family: r.family });
  }
  const networks = host.attachments.map((a, i) => ({ ...dockerNetwork(model, a), Id: `hand${i}`, Labels: {} }));
  return { links: { links, routes }, networks };
}

const view = (m: Model) =>
  m.networks.map((n) => ({ name: n.name, vlan: n.vlan, router: n.router, ipv4: n.ipv4, ipv6: n.ipv6, hosts: n.hosts, firewall: n.firewall, dhcp: n.dhcpServer }));
const artifact = (m: Model, path: string) => generate(m).find((a) => a.path === path)!.content;
const hostArtifacts = (m: Model) => generate(m).filter((a) => /^(docker|host|networkd)\//.test(a.path)).map((a) => [a.path, a.content]);
const routerLines = (port: number, bridge = 'bridge') => ['routers:', '  core:', '    type: routeros', '    address: 127.0.0.1', `    port: ${port}`, '    password-env: P', `    bridge: ${bridge}`];

describe('import: IPv6 on RouterOS', () => {
  it('examples/dual-stack.yaml applied, ownership stripped, imported with its host: the same ipv4 and ipv6, the same RouterOS script and host files', async () => {
    const { fake, port } = await start();
    const example = readFileSync(new URL('../examples/dual-stack.yaml', import.meta.url), 'utf8');
    const spec = example.replace('    address: 192.168.88.1\n', `    address: 127.0.0.1\n    port: ${port}\n`).replace('password-env: FLATNET_CORE_PASSWORD', 'password-env: P');
    await planRouterOS(spec, PASSWORD);
    fake.stripFlatnetComments();
    expect(fake.rows('/ipv6/address').some((r) => r.address === '2001:db8:abc8::10/64' && !(r.comment ?? '').startsWith('flatnet:'))).toBe(true);
    const want = modelFromText(spec);
    const devices = `${spec.slice(0, spec.indexOf('\nnetworks:'))}\n`;
    const { model, draft, report, code } = await draftOf(devices, { docker1: hostAsApplied(want, 'docker1') }, { routers: ['core'], hosts: ['docker1'] });
    expect(report.warnings).toEqual([]);
    expect(code).toBe(0);
    expect(view(model)).toEqual(view(want));
    expect(model.networks[0]!.ipv6).toMatchObject({ subnet: '2001:db8:abc8::/64', gateway: '2001:db8:abc8::10' });
    expect(artifact(model, 'routeros/core.rsc')).toBe(artifact(want, 'routeros/core.rsc'));
    expect(hostArtifacts(model)).toEqual(hostArtifacts(want));
    // a nested map, each value with its source; the shim's IPv6 address is the default, so not written
    expect(draft).toMatch(/\n {4}ipv6:\n {6}subnet: 2001:db8:abc8::\/64 # from \/ipv6\/address 2001:db8:abc8::10\/64 on vlan218\S*\n {6}gateway: 2001:db8:abc8::10 # from \/ipv6\/address /);
    expect(draft).not.toMatch(/not imported|shim-address/);
    // the IPv6 rules say what the IPv4 ones say
    expect(draft).not.toContain('/ipv6/firewall/filter');
  });

  it('hand-made: link-local and dynamic addresses are skipped, the first global one imported, the others and advertise=yes noted; IPv6 rules that differ from the IPv4 ones are noted', async () => {
    const { fake, port } = await start();
    const spec = [
      'version: 1',
      ...routerLines(port),
      'networks:',
      '  iot: {router: core, vlan: 40, subnet: 10.40.0.0/24, gateway: 10.40.0.1, ipv6: {subnet: "2001:db8:40::/64", gateway: "2001:db8:40::1"}, firewall: {internet: true, from: [lan], to: [], allow-input: [dns, icmp]}}',
      '  cams: {router: core, vlan: 30, subnet: 10.30.0.0/24, gateway: 10.30.0.1, firewall: {internet: false, from: [lan], to: [], allow-input: [dns]}}',
      '',
    ].join('\n');
    await planRouterOS(spec, PASSWORD);
    fake.stripFlatnetComments();
    const iface = fake.rows('/interface/vlan').find((v) => v['vlan-id'] === '40')!.name!;
    const camsIface = fake.rows('/interface/vlan').find((v) => v['vlan-id'] === '30')!.name!;
    fake.addRow('/ipv6/address', { address: 'fe80::1/64', interface: iface, advertise: 'no' });
    fake.addRow('/ipv6/address', { address: '2001:db8:40::77/64', interface: iface, advertise: 'no' });
    fake.addRow('/ipv6/address', { address: '2001:db8:40::abcd/64', interface: iface, advertise: 'no', dynamic: 'true' });
    fake.addRow('/ipv6/address', { address: '2001:db8:30::1/64', interface: camsIface }); // advertise: RouterOS's default, yes
    fake.addRow('/ipv6/firewall/filter', { chain: 'forward', action: 'accept', 'in-interface': iface, 'dst-address': '2001:db8::5', comment: 'printer' });
    const devices = ['version: 1', ...routerLines(port), ''].join('\n');
    const { model, draft, report } = await draftOf(devices);
    expect(report.warnings).toEqual([]);
    const byVlan = new Map(model.networks.map((n) => [n.vlan, n]));
    expect(byVlan.get(40)!.ipv6).toMatchObject({ subnet: '2001:db8:40::/64', gateway: '2001:db8:40::1' });
    expect(byVlan.get(30)!.ipv6).toMatchObject({ subnet: '2001:db8:30::/64', gateway: '2001:db8:30::1' });
    expect(draft).toContain(`# ${iface} has more IPv6 addresses, not imported: 2001:db8:40::77/64`);
    expect(draft).not.toMatch(/fe80::1|::abcd/);
    expect(draft).toContain(`# /ipv6/address 2001:db8:30::1/64 on ${camsIface} has advertise=yes: flatnet writes advertise=no`);
    // iot: an extra IPv6 rule; cams: only the drops flatnet writes for a network without IPv6, no accepts
    expect(draft).toMatch(new RegExp(`# firewall: the \\d+ /ipv6/firewall/filter rules naming ${iface} do not say what the IPv4 ones say \\(1 rule flatnet does not write\\)`));
    expect(draft).toMatch(new RegExp(`# firewall: the 3 /ipv6/firewall/filter rules naming ${camsIface} do not say what the IPv4 ones say \\(from: \\[\\]; allow-input: \\[\\]\\)`));
    // the IPv4 rules decide the intent all the same
    expect(byVlan.get(40)!.firewall).toEqual({ internet: true, from: ['lan'], to: [], allowInput: ['dns', 'icmp'] });
  });

  it('an address that is not fixed (from-pool: a delegated prefix; eui-64=yes) is left out with a comment and a warning; a fixed one beside it is the ipv6', () => {
    const report = importRouterOSLive(
      routerosLive([], {
        '/ipv6/address': [
          { '.id': '*a', address: '2001:db8:aa::1/64', interface: 'vlan30', 'from-pool': 'isp-pd', advertise: 'no' },
          { '.id': '*b', address: '2001:db8:bb::/64', interface: 'vlan30', 'eui-64': 'true', advertise: 'no' },
          { '.id': '*c', address: '2001:db8:30::1/64', interface: 'vlan30', 'from-pool': '', 'eui-64': 'false', advertise: 'no' },
        ],
      }),
    );
    const net = report.networks[0]!;
    expect(net.ipv6).toEqual({ subnet: '2001:db8:30::/64', gateway: '2001:db8:30::1' });
    expect(report.warnings).toEqual([
      'router core: /ipv6/address 2001:db8:aa::1/64 on vlan30 is from-pool isp-pd (its prefix delegated from upstream): not imported; flatnet writes a fixed address: write ipv6: subnet and gateway by hand for a fixed prefix (the gateway one address of it), or leave the network without ipv6 to keep this address as it is',
      "router core: /ipv6/address 2001:db8:bb::/64 on vlan30 has eui-64=yes (its host part made from the interface's MAC): not imported; flatnet writes a fixed address: write ipv6: subnet and gateway by hand for a fixed prefix (the gateway one address of it), or leave the network without ipv6 to keep this address as it is",
    ]);
    for (const w of report.warnings) expect(net.notes).toContain(w);
    expect(net.notes.join('\n')).not.toMatch(/more IPv6 addresses/);
    // only the delegated one: no ipv6
    const pdOnly = importRouterOSLive(routerosLive([], { '/ipv6/address': [{ address: '2001:db8:aa::1/64', interface: 'vlan30', 'from-pool': 'isp-pd' }] }));
    expect(pdOnly.networks[0]!.ipv6).toBeUndefined();
    expect(pdOnly.warnings).toHaveLength(1);
  });

  it('an IPv6 address the spec cannot have (a /128) is left out with the problem in a comment and a warning: the draft validates', async () => {
    const { fake, port } = await start();
    fake.addRow('/interface/vlan', { name: 'vlan50', 'vlan-id': '50', interface: 'bridge' });
    fake.addRow('/ip/address', { address: '10.50.0.1/24', interface: 'vlan50' });
    fake.addRow('/ipv6/address', { address: '2001:db8:50::1/128', interface: 'vlan50', advertise: 'no' });
    const { model, draft, report, code } = await draftOf(['version: 1', ...routerLines(port), ''].join('\n'));
    expect(code).toBe(0);
    expect(model.networks[0]!.ipv6).toBeUndefined();
    expect(report.warnings.join('\n')).toMatch(/network vlan50: its IPv6 \(subnet 2001:db8:50::1\/128, gateway 2001:db8:50::1\) is left out of the draft: ipv6\.subnet: \/128 is too small/);
    expect(draft).toMatch(/# network vlan50: its IPv6 .* is left out of the draft/);
  });
});

// ---- OpenWrt: the configs flatnet writes, on top of the defaults ------------------------------------------------

const defaults = () => (['network', 'firewall', 'dhcp'] as const).flatMap((c) => parseUciExport(defaultOpenWrtConfig(c), c));
const applied = appliedOpenWrt;

describe('import: IPv6 on OpenWrt', () => {
  it('dual stack: ip6addr is the ipv6 subnet and gateway; the DHCPv6 and ICMPv6 rules flatnet writes keep the firewall inferred; the same uci', () => {
    const router = { type: 'openwrt', address: '192.168.1.1' };
    const spec = {
      version: 1,
      routers: { edge: router },
      networks: {
        cams: { router: 'edge', vlan: 30, subnet: '10.30.0.0/24', gateway: '10.30.0.1', 'dhcp-pool': '10.30.0.100-10.30.0.199', ipv6: { subnet: '2001:db8:30::/64', gateway: '2001:db8:30::1' }, firewall: { internet: false, from: ['lan'], to: [], 'allow-input': ['dns', 'dhcp', 'icmp'] } },
        iot: { router: 'edge', vlan: 40, subnet: '10.40.0.0/24', gateway: '10.40.0.1', ipv6: { subnet: 'fd00:40::/64', gateway: 'fd00:40::fe' }, firewall: { internet: false, from: ['lan', 'cams'], to: [], 'allow-input': ['dns'] } },
      },
    };
    const want = modelFromText(stringify(spec));
    const { model, report, draft } = openwrtDraft(stringify({ version: 1, routers: { edge: router } }), applied(want));
    expect(report.warnings).toEqual([]);
    expect(view(model)).toEqual(view(want));
    expect(artifact(model, 'openwrt/edge.uci')).toBe(artifact(want, 'openwrt/edge.uci'));
    expect(draft).toMatch(/\n {4}ipv6:\n {6}subnet: 2001:db8:30::\/64 # from network\.flatnet_cams ip6addr 2001:db8:30::1\/64\n {6}gateway: 2001:db8:30::1 # from network\.flatnet_cams ip6addr/);
    expect(draft).not.toMatch(/not inferred|not imported/);
  });

  it('hand-made: the first global ip6addr (a list) is imported; the other global ones and ip6assign, which apply --adopt removes, are a comment and a warning; link-local skipped', () => {
    const sections = [
      ...defaults(),
      { config: 'network', type: 'interface', name: 'guest', options: new Map<string, string | string[]>([['proto', 'static'], ['device', 'br-lan.60'], ['ipaddr', '10.60.0.1/24'], ['ip6addr', ['fe80::1/64', '2001:db8:60::1/64', '2001:db8:61::1/64']], ['ip6assign', '64']]) },
    ];
    const { model, draft, report } = openwrtDraft(stringify({ version: 1, routers: { edge: { type: 'openwrt', address: '192.168.1.1' } } }), sections);
    expect(model.networks.map((n) => [n.name, n.vlan, n.ipv6?.subnet, n.ipv6?.gateway])).toEqual([['guest', 60, '2001:db8:60::/64', '2001:db8:60::1']]);
    expect(report.warnings).toEqual([
      "router edge: network.guest ip6addr 2001:db8:61::1/64: not imported (the draft's ipv6 is 2001:db8:60::1/64); apply --adopt removes it: flatnet writes one ip6addr, the ipv6 gateway",
      'router edge: network.guest ip6assign 64 (a prefix delegated from upstream): not imported; apply --adopt removes it: flatnet writes a fixed prefix only, the ipv6 2001:db8:60::1/64',
    ]);
    for (const w of report.warnings) expect(draft).toContain(`# ${w}`);
    expect(draft).not.toMatch(/more ip6addr|fe80::1/);
  });

  it('hand-made: ip6assign alone (no global ip6addr, a link-local one) is a comment and a warning that apply --adopt removes it, to write the ipv6 by hand; no "more" ip6addr', () => {
    const sections = [
      ...defaults(),
      { config: 'network', type: 'interface', name: 'guest', options: new Map<string, string | string[]>([['proto', 'static'], ['device', 'br-lan.60'], ['ipaddr', '10.60.0.1/24'], ['ip6addr', 'fe80::1/64'], ['ip6assign', '60']]) },
    ];
    const { model, draft, report } = openwrtDraft(stringify({ version: 1, routers: { edge: { type: 'openwrt', address: '192.168.1.1' } } }), sections);
    expect(model.networks.map((n) => [n.vlan, n.ipv6])).toEqual([[60, undefined]]);
    expect(report.warnings).toEqual([
      'router edge: network.guest ip6assign 60 (a prefix delegated from upstream): not imported; apply --adopt removes it: flatnet writes a fixed prefix only (write ipv6: subnet and gateway by hand for one; without, the network has no IPv6 after apply)',
    ]);
    expect(draft).toContain(`# ${report.warnings[0]}`);
    expect(draft).not.toMatch(/more ip6addr|fe80::1/);
  });
});

// ---- hosts: the Docker side's IPv6 ------------------------------------------------------------------------------

/** A hand-made RouterOS router: VLAN 200 on main-bridge with 192.168.200.1/24 and, when given, an IPv6 address. */
async function guideRouter(v6?: string): Promise<number> {
  const { fake, port } = await start();
  fake.addRow('/interface/bridge', { name: 'main-bridge', 'vlan-filtering': 'no' });
  fake.addRow('/interface/vlan', { name: 'vlan-200-docker-demo', 'vlan-id': '200', interface: 'main-bridge' });
  fake.addRow('/ip/address', { address: '192.168.200.1/24', interface: 'vlan-200-docker-demo' });
  if (v6) fake.addRow('/ipv6/address', { address: v6, interface: 'vlan-200-docker-demo', advertise: 'no' });
  return port;
}

let ifindex = 100;
function link(ifname: string, kind?: string, lower?: string, extra: { id?: number; addresses?: string[] } = {}): LiveLink {
  return { ifname, ifindex: ifindex++, flags: ['UP'], ...(lower ? { link: lower } : {}), ...(kind ? { linkinfo: { info_kind: kind, ...(extra.id !== undefined ? { info_data: { id: extra.id } } : {}) } } : {}), addresses: extra.addresses ?? [] };
}

/** The guide's host (enp3s0.200, macvlan docker-demo, shim docker-link), dual stack as given. */
function dualStackHost(opts: { parent?: string; vlan?: boolean; subnet4?: string; gateway4?: string; range4?: string; subnet6: string; gateway6?: string; range6?: string; shim6?: string; aux6?: Record<string, string> }): HostSide {
  const parent = opts.vlan === false ? 'enp3s0' : 'enp3s0.200';
  const subnet4 = opts.subnet4 ?? '192.168.200.0/24';
  const range4 = opts.range4 ?? '192.168.200.192/27';
  const shim4 = range4.replace(/\/\d+$/, '');
  const links = [link('enp3s0', undefined, undefined, { addresses: ['192.168.88.9/24'] }), ...(opts.vlan === false ? [] : [link('enp3s0.200', 'vlan', 'enp3s0', { id: 200 })])];
  links.push(link('docker-link', 'macvlan', parent, { addresses: [`${shim4}/32`, ...(opts.shim6 ? [`${opts.shim6}/128`, 'fe80::2/64'] : [])] }));
  const routes: LiveHostLinks['routes'] = [{ dst: range4, dev: 'docker-link', protocol: 'boot', family: 4 }];
  if (opts.shim6) routes.push({ dst: opts.range6 ?? opts.subnet6, dev: 'docker-link', protocol: 'boot', family: 6 });
  const network: EngineNetwork = {
    Id: 'hand',
    Name: 'docker-demo',
    Driver: 'macvlan',
    EnableIPv6: true,
    IPAM: {
      Driver: 'default',
      Config: [
        { Subnet: subnet4, Gateway: opts.gateway4 ?? '192.168.200.1', IPRange: range4, AuxiliaryAddresses: { host: shim4 } },
        { Subnet: opts.subnet6, ...(opts.gateway6 ? { Gateway: opts.gateway6 } : {}), ...(opts.range6 ? { IPRange: opts.range6 } : {}), ...(opts.aux6 ? { AuxiliaryAddresses: opts.aux6 } : {}) },
      ],
    },
    Options: { parent },
  };
  return { links: { links, routes }, networks: [network] };
}

const NAS = ['  nas:', '    parent: enp3s0', '    ssh: root@192.0.2.9'];
const hostDevices = (port: number) => ['version: 1', ...routerLines(port, 'main-bridge'), 'hosts:', ...NAS, ''].join('\n');

describe('import: IPv6 of Docker hosts', () => {
  it("the model's one split of a shared range, IPv6 as IPv4: equal slices (a power of two, the first `parts`), each shim the slice's first usable address", () => {
    const subnet = parseCidr('2001:db8:200::/64')!;
    const gateway = parseIp('2001:db8:200::')!;
    const parts = slices(subnet, 3, 6)!;
    expect(parts.map((c) => c.text)).toEqual(['2001:db8:200::/66', '2001:db8:200:0:4000::/66', '2001:db8:200:0:8000::/66']);
    // the subnet's own address (the gateway here too) is skipped
    expect(parts.map((c) => firstUsable(c, subnet, gateway))).toEqual([parts[0]!.first + 1n, parts[1]!.first, parts[2]!.first]);
    expect(slices(parseCidr('2001:db8::/125')!, 4, 6)).toBeUndefined();
    expect(slices(parseCidr('192.168.200.192/27')!, 2, 4)!.map((c) => c.text)).toEqual(['192.168.200.192/28', '192.168.200.208/28']);
  });

  it("the host's IPv6 ip-range and shim address join the router's IPv6: ipv6.container-range and ipv6.shim-address, as the person's spec has them", async () => {
    const port = await guideRouter('2001:db8:200::1/64');
    const host = dualStackHost({ subnet6: '2001:db8:200::/64', gateway6: '2001:db8:200::1', range6: '2001:db8:200:0:8000::/65', shim6: '2001:db8:200:0:8000::99', aux6: { host6: '2001:db8:200:0:8000::99' } });
    const { model, draft, report, code } = await draftOf(hostDevices(port), { nas: host });
    expect(report.warnings).toEqual([]);
    expect(code).toBe(0);
    const person = [
      hostDevices(port).trimEnd(),
      'networks:',
      '  docker-demo:',
      '    {router: core, host: nas, vlan: 200, subnet: 192.168.200.0/24, gateway: 192.168.200.1, container-range: 192.168.200.192/27, shim-name: docker-link,',
      '     ipv6: {subnet: "2001:db8:200::/64", gateway: "2001:db8:200::1", container-range: "2001:db8:200:0:8000::/65", shim-address: "2001:db8:200:0:8000::99"}}',
      '',
    ].join('\n');
    const want = modelFromText(person);
    expect(view(model)).toEqual(view(want));
    expect(hostArtifacts(model)).toEqual(hostArtifacts(want));
    expect(draft).toMatch(/\n {6}container-range: 2001:db8:200:0:8000::\/65 # from Docker network docker-demo \(macvlan\) on host nas: IPv6 ip-range\n/);
    expect(draft).toMatch(/\n {6}shim-address: 2001:db8:200:0:8000::99 # from link docker-link on host nas\n/);
  });

  it('the host has IPv6, the router none: a comment and a warning, no ipv6', async () => {
    const port = await guideRouter();
    const { model, report } = await draftOf(hostDevices(port), { nas: dualStackHost({ subnet6: '2001:db8:200::/64', gateway6: '2001:db8:200::1' }) });
    expect(model.networks[0]!.ipv6).toBeUndefined();
    expect(model.networks[0]!.hosts).toEqual(['nas']);
    expect(report.warnings.join('\n')).toMatch(/Docker network docker-demo \(macvlan\) on host nas has IPv6 2001:db8:200::\/64 \(gateway 2001:db8:200::1\), but router core has no IPv6 address on vlan-200-docker-demo: ipv6 not imported/);
  });

  it("the host's IPv6 disagrees with the router's (another gateway): the router's subnet and gateway, none of the host's values, a comment and a warning", async () => {
    const port = await guideRouter('2001:db8:200::1/64');
    const host = dualStackHost({ subnet6: '2001:db8:200::/64', gateway6: '2001:db8:200::fe', range6: '2001:db8:200:0:8000::/65', shim6: '2001:db8:200:0:8000::99' });
    const { model, draft, report } = await draftOf(hostDevices(port), { nas: host });
    expect(model.networks[0]!.ipv6).toEqual({ subnet: '2001:db8:200::/64', prefixLength: 64, gateway: '2001:db8:200::1', gatewayCidr: '2001:db8:200::1/64', containerRange: undefined });
    expect(report.warnings.join('\n')).toMatch(/on host nas has IPv6 2001:db8:200::\/64 \(gateway 2001:db8:200::fe\), not the router core's 2001:db8:200::\/64 \(gateway 2001:db8:200::1\): its IPv6 is not imported/);
    expect(draft).not.toMatch(/8000::/);
  });

  it("the router has IPv6, the host's Docker network none: the router's ipv6, said to make the Docker network dual-stack", async () => {
    const port = await guideRouter('2001:db8:200::1/64');
    const host = dualStackHost({ subnet6: '2001:db8:200::/64' });
    host.networks[0]!.IPAM!.Config = host.networks[0]!.IPAM!.Config!.slice(0, 1);
    const { model, report } = await draftOf(hostDevices(port), { nas: host });
    expect(model.networks[0]!.ipv6?.subnet).toBe('2001:db8:200::/64');
    expect(report.warnings.join('\n')).toMatch(/network docker-demo: router core has IPv6 2001:db8:200::\/64, Docker network docker-demo .* none: flatnet makes the Docker network again, dual-stack/);
  });

  it('untagged (no router): the IPv6 with its ip-range as container-range; without one, a proposal said in a comment and a warning', async () => {
    const devices = ['version: 1', 'hosts:', ...NAS, ''].join('\n');
    const lan = { vlan: false, subnet4: '192.168.88.0/24', gateway4: '192.168.88.1', range4: '192.168.88.192/27', subnet6: '2001:db8:88::/64', gateway6: '2001:db8:88::1' };
    const withRange = await draftOf(devices, { nas: dualStackHost({ ...lan, range6: '2001:db8:88:0:ffff::/80', shim6: '2001:db8:88:0:ffff::' }) }, { hosts: ['nas'] });
    expect(withRange.report.warnings).toEqual([]);
    expect(withRange.model.networks.map((n) => [n.vlan, n.ipv6?.subnet, n.ipv6?.gateway, n.ipv6?.containerRange])).toEqual([[undefined, '2001:db8:88::/64', '2001:db8:88::1', '2001:db8:88:0:ffff::/80']]);
    expect(withRange.draft).not.toContain('shim-address'); // the range's first address: the model's default

    const without = await draftOf(devices, { nas: dualStackHost(lan) }, { hosts: ['nas'] });
    expect(without.model.networks[0]!.ipv6?.containerRange).toBe('2001:db8:88:0:8000::/65');
    expect(without.report.warnings.join('\n')).toMatch(/has no IPv6 ip-range: Docker allocates from the LAN's whole prefix; ipv6 container-range 2001:db8:88:0:8000::\/65 is a proposal/);
    expect(without.draft).toMatch(/container-range: 2001:db8:88:0:8000::\/65 # proposed: /);
  });

  it("a Docker side left out (its range overlaps the router's DHCP pool) takes its IPv6 keys along: the draft validates with the router's ipv6", async () => {
    const { fake, port } = await start();
    fake.addRow('/interface/bridge', { name: 'main-bridge', 'vlan-filtering': 'no' });
    fake.addRow('/interface/vlan', { name: 'vlan-200-docker-demo', 'vlan-id': '200', interface: 'main-bridge' });
    fake.addRow('/ip/address', { address: '192.168.200.1/24', interface: 'vlan-200-docker-demo' });
    fake.addRow('/ipv6/address', { address: '2001:db8:200::1/64', interface: 'vlan-200-docker-demo', advertise: 'no' });
    fake.addRow('/ip/pool', { name: 'pool200', ranges: '192.168.200.100-192.168.200.199' });
    fake.addRow('/ip/dhcp-server', { name: 'dhcp200', interface: 'vlan-200-docker-demo', 'address-pool': 'pool200' });
    const host = dualStackHost({ range4: '192.168.200.128/25', subnet6: '2001:db8:200::/64', gateway6: '2001:db8:200::1', range6: '2001:db8:200:0:8000::/65', shim6: '2001:db8:200:0:8000::99' });
    const { model, draft, report } = await draftOf(hostDevices(port), { nas: host });
    expect(model.networks[0]!.hosts).toEqual([]);
    expect(model.networks[0]!.ipv6?.subnet).toBe('2001:db8:200::/64');
    expect(report.warnings.join('\n')).toMatch(/its Docker side \(nas: container-range 192\.168\.200\.128\/25\) is left out of the draft/);
    expect(draft).not.toMatch(/8000::/);
  });
});
