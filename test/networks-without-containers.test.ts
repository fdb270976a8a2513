// Networks without containers (issue 20 point 0): a VLAN network with no host is the router side only
// (VLAN, gateway, DHCP, firewall, access ports); hosts: and networks: may be left out.
import { afterEach, describe, expect, it } from 'vitest';
import { generate, modelFromText, SpecError } from '../src/index.js';
import { FakeRouterOS } from './fakes/routeros-fake.js';
import { planRouterOS } from './fakes/routeros-harness.js';

const problemsOf = (text: string): string[] => {
  try {
    modelFromText(text);
    return [];
  } catch (e) {
    if (!(e instanceof SpecError)) throw e;
    return e.problems.map((p) => `${p.path.join('.')}: ${p.message}`);
  }
};

const router = ['version: 1', 'routers:', '  core:', '    type: routeros', '    address: 192.168.88.1'];
const cams = (...extra: string[]) => [...router, 'networks:', '  cams:', '    router: core', '    vlan: 30', '    subnet: 10.30.0.0/24', '    gateway: 10.30.0.1', ...extra, ''].join('\n');

describe('networks without containers', () => {
  it('a VLAN network without host needs neither hosts: nor container-range, and has no Docker or host side', () => {
    const model = modelFromText(cams('    dhcp-pool: 10.30.0.100-10.30.0.199', '    access-ports: [ether4]', '    firewall: {internet: false, allow-input: [dns, dhcp]}'));
    const n = model.networks[0]!;
    expect(n.hosts).toEqual([]);
    expect(n.attachments).toEqual([]);
    expect(n.ipv4.containerRange).toBe('');
    expect(n.accessPorts).toEqual(['ether4']);
    expect(model.hosts).toEqual([]);
    const paths = generate(model).map((a) => a.path);
    expect(paths).toEqual(['routeros/core.rsc']);
    const script = generate(model)[0]!.content;
    expect(script).toContain('/interface/vlan/add name=vlan30-cams vlan-id=30');
    expect(script).toContain('/ip/dhcp-server/add name=flatnet-cams interface=vlan30-cams');
    expect(script).toContain('chain=forward action=drop in-interface=vlan30-cams');
  });

  it('a spec with only devices validates and generates nothing for hosts', () => {
    const model = modelFromText([...router, ''].join('\n'));
    expect(model.networks).toEqual([]);
    expect(model.hosts).toEqual([]);
    expect(generate(model).map((a) => a.path)).toEqual(['routeros/core.rsc']);
    expect(modelFromText([...router, 'networks: {}', 'hosts: {}', ''].join('\n')).networks).toEqual([]);
  });

  it('Docker and shim keys without host are refused at their paths; container-range is required with host', () => {
    expect(problemsOf(cams('    container-range: 10.30.0.64/26'))).toEqual(['networks.cams.container-range: is used only with host: a network without a Docker host has no containers or shim; add host, or remove container-range']);
    expect(problemsOf(cams('    shim-address: 10.30.0.64', '    shim-name: cam-link', '    vlan-device: eth0.30')).map((p) => p.split(':')[0])).toEqual([
      'networks.cams.shim-address',
      'networks.cams.shim-name',
      'networks.cams.vlan-device',
    ]);
    expect(problemsOf(cams('    ipv6: {subnet: "fd00:30::/64", gateway: "fd00:30::1", container-range: "fd00:30::/80"}'))).toEqual([
      'networks.cams.ipv6.container-range: is used only with host: a network without a Docker host has no containers or shim; add host, or remove container-range',
    ]);
    const withHost = [...router, 'hosts:', '  nas: {parent: eth0}', 'networks:', '  cams: {router: core, host: nas, vlan: 30, subnet: 10.30.0.0/24, gateway: 10.30.0.1}', ''].join('\n');
    expect(problemsOf(withHost)).toEqual(["networks.cams.container-range: is required with host: the prefix Docker allocates the containers' addresses from (docker --ip-range)"]);
    const untagged = [...router, 'networks:', '  lan-x: {router: core, subnet: 192.168.88.0/24, gateway: 192.168.88.1}', ''].join('\n');
    expect(problemsOf(untagged)[0]).toMatch(/^networks\.lan-x\.host: is required for an untagged network/);
  });

  it('an OpenWrt router renders a hostless VLAN (device, interface, zone, dhcp)', () => {
    const text = ['version: 1', 'routers:', '  edge: {type: openwrt, address: 192.168.1.1}', 'networks:', '  guest: {router: edge, vlan: 50, subnet: 10.50.0.0/24, gateway: 10.50.0.1, dhcp-pool: 10.50.0.100-10.50.0.200, firewall: {from: [], allow-input: [dns, dhcp]}}', ''].join('\n');
    const artifacts = generate(modelFromText(text));
    expect(artifacts.map((a) => a.path)).toEqual(expect.arrayContaining(['openwrt/edge.uci']));
    const batch = artifacts.find((a) => a.path === 'openwrt/edge.uci')!.content;
    expect(batch).toContain("set network.flatnet_guest.ipaddr='10.50.0.1'");
    expect(batch).toContain('dhcp.flatnet_guest');
  });

  describe('plan/apply on the fake RouterOS', () => {
    const fakes: FakeRouterOS[] = [];
    afterEach(async () => {
      await Promise.all(fakes.splice(0).map((f) => f.stop()));
    });
    it('applies a hostless VLAN with DHCP and access port, then plans no changes', async () => {
      const fake = new FakeRouterOS({ password: 'pw' });
      fake.seedDefaults();
      fakes.push(fake);
      const port = await fake.start();
      const text = ['version: 1', 'routers:', '  core:', '    type: routeros', '    address: 127.0.0.1', `    port: ${port}`, '    password-env: P', 'networks:', '  cams:', '    router: core', '    vlan: 30', '    subnet: 10.30.0.0/24', '    gateway: 10.30.0.1', '    dhcp-pool: 10.30.0.100-10.30.0.199', '    access-ports: [ether4]', '    firewall: {internet: false, allow-input: [dns, dhcp]}', ''].join('\n');
      const first = await planRouterOS(text, 'pw');
      expect(first.changes.length).toBeGreaterThan(0);
      expect(fake.rows('/interface/vlan').map((r) => r.name)).toEqual(['vlan30-cams']);
      expect(fake.rows('/ip/dhcp-server').map((r) => r.name)).toContain('flatnet-cams');
      expect((await planRouterOS(text, 'pw', false)).changes).toEqual([]);
    });
  });
});
