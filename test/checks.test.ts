// Each consistency check with a spec that fails it and a near miss that passes.
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { formatPath, modelFromText, SpecError } from '../src/index.js';

type Spec = Record<string, any>;

// a VLAN network's dhcp-pool is served by the router, which needs the DHCP port open
const SERVED = { 'allow-input': ['dns', 'dhcp'] };

function base(): Spec {
  return {
    version: 1,
    routers: {
      core: { type: 'routeros', address: '192.168.88.1', 'password-env': 'PW', bridge: 'main-bridge' },
      edge: { type: 'openwrt', address: '192.168.1.1' },
    },
    hosts: { nas: { parent: 'enp3s0', address: '192.168.88.9/24' }, mini: { parent: 'eno1' } },
    networks: {
      'docker-demo': {
        router: 'core',
        host: 'nas',
        vlan: 200,
        subnet: '192.168.200.0/24',
        gateway: '192.168.200.1',
        'container-range': '192.168.200.192/27',
      },
      media: {
        router: 'core',
        host: 'nas',
        vlan: 20,
        subnet: '10.20.0.0/24',
        gateway: '10.20.0.1',
        'container-range': '10.20.0.64/26',
      },
    },
  };
}

function problemsOf(spec: Spec): string[] {
  try {
    modelFromText(stringify(spec), 'spec.yaml');
    return [];
  } catch (err) {
    if (!(err instanceof SpecError)) throw err;
    return err.problems.map((p) => `${formatPath(p.path)}: ${p.message}`);
  }
}

const demo = (s: Spec) => s.networks['docker-demo'];

interface Case {
  check: string;
  bad: (s: Spec) => void;
  good: (s: Spec) => void;
  path: string;
  message: RegExp;
}

const cases: Case[] = [
  { check: 'gateway inside subnet', bad: (s) => (demo(s).gateway = '192.168.201.1'), good: (s) => (demo(s).gateway = '192.168.200.254'), path: 'networks.docker-demo.gateway', message: /outside subnet/ },
  { check: 'gateway not the network address', bad: (s) => (demo(s).gateway = '192.168.200.0'), good: (s) => (demo(s).gateway = '192.168.200.2'), path: 'networks.docker-demo.gateway', message: /network address/ },
  { check: 'gateway not the broadcast address', bad: (s) => (demo(s).gateway = '192.168.200.255'), good: (s) => (demo(s).gateway = '192.168.200.254'), path: 'networks.docker-demo.gateway', message: /broadcast/ },
  { check: 'subnet in network form', bad: (s) => (demo(s).subnet = '192.168.200.1/24'), good: (s) => (demo(s).subnet = '192.168.200.0/24'), path: 'networks.docker-demo.subnet', message: /host bits set; did you mean 192\.168\.200\.0\/24/ },
  { check: 'subnet leaves room', bad: (s) => Object.assign(demo(s), { subnet: '192.168.200.0/31', gateway: '192.168.200.1', 'container-range': '192.168.200.0/31' }), good: (s) => Object.assign(demo(s), { subnet: '192.168.200.0/29', gateway: '192.168.200.1', 'container-range': '192.168.200.4/30' }), path: 'networks.docker-demo.subnet', message: /no room/ },
  { check: 'container-range inside subnet', bad: (s) => (demo(s)['container-range'] = '192.168.201.192/27'), good: (s) => (demo(s)['container-range'] = '192.168.200.224/27'), path: 'networks.docker-demo.container-range', message: /not inside subnet/ },
  { check: 'container-range clear of the gateway', bad: (s) => (demo(s)['container-range'] = '192.168.200.0/27'), good: (s) => (demo(s)['container-range'] = '192.168.200.32/27'), path: 'networks.docker-demo.container-range', message: /contains the gateway/ },
  { check: 'shim-address inside subnet', bad: (s) => (demo(s)['shim-address'] = '192.168.201.5'), good: (s) => (demo(s)['shim-address'] = '192.168.200.5'), path: 'networks.docker-demo.shim-address', message: /outside subnet/ },
  { check: 'shim-address not the gateway', bad: (s) => (demo(s)['shim-address'] = '192.168.200.1'), good: (s) => (demo(s)['shim-address'] = '192.168.200.193'), path: 'networks.docker-demo.shim-address', message: /is the gateway/ },
  { check: 'dhcp-pool in order', bad: (s) => Object.assign(demo(s), { 'dhcp-pool': '192.168.200.127-192.168.200.64', firewall: SERVED }), good: (s) => Object.assign(demo(s), { 'dhcp-pool': '192.168.200.64-192.168.200.127', firewall: SERVED }), path: 'networks.docker-demo.dhcp-pool', message: /ends before it starts/ },
  { check: 'dhcp-pool inside subnet', bad: (s) => Object.assign(demo(s), { 'dhcp-pool': '192.168.200.64-192.168.201.10', firewall: SERVED }), good: (s) => Object.assign(demo(s), { 'dhcp-pool': '192.168.200.64-192.168.200.127', firewall: SERVED }), path: 'networks.docker-demo.dhcp-pool', message: /not inside subnet/ },
  { check: 'dhcp-pool clear of container-range', bad: (s) => Object.assign(demo(s), { 'dhcp-pool': '192.168.200.100-192.168.200.200', firewall: SERVED }), good: (s) => Object.assign(demo(s), { 'dhcp-pool': '192.168.200.100-192.168.200.191', firewall: SERVED }), path: 'networks.docker-demo.dhcp-pool', message: /overlaps container-range/ },
  { check: 'shim clear of dhcp-pool', bad: (s) => Object.assign(demo(s), { 'dhcp-pool': '192.168.200.64-192.168.200.127', 'shim-address': '192.168.200.100', firewall: SERVED }), good: (s) => Object.assign(demo(s), { 'dhcp-pool': '192.168.200.64-192.168.200.127', 'shim-address': '192.168.200.130', firewall: SERVED }), path: 'networks.docker-demo.shim-address', message: /inside dhcp-pool/ },
  { check: 'subnets on one router disjoint', bad: (s) => Object.assign(s.networks.media, { subnet: '192.168.200.0/25', gateway: '192.168.200.1', 'container-range': '192.168.200.64/26' }), good: (s) => Object.assign(s.networks.media, { subnet: '192.168.201.0/25', gateway: '192.168.201.1', 'container-range': '192.168.201.64/26' }), path: 'networks.media.subnet', message: /overlaps 192\.168\.200\.0\/24/ },
  { check: 'subnets on one host disjoint', bad: (s) => Object.assign(s.networks.media, { router: 'edge', subnet: '192.168.200.0/25', gateway: '192.168.200.1', 'container-range': '192.168.200.64/26' }), good: (s) => Object.assign(s.networks.media, { router: 'edge', host: 'mini', subnet: '192.168.200.0/25', gateway: '192.168.200.1', 'container-range': '192.168.200.64/26' }), path: 'networks.media.subnet', message: /on host "nas"/ },
  { check: 'VLAN ids unique per router', bad: (s) => Object.assign(s.networks.media, { vlan: 200, host: 'mini' }), good: (s) => Object.assign(s.networks.media, { vlan: 200, host: 'mini', router: 'edge' }), path: 'networks.media.vlan', message: /already used by network "docker-demo"/ },
  { check: 'one network per parent link on a host', bad: (s) => Object.assign(s.networks.media, { vlan: 200, router: 'edge' }), good: (s) => Object.assign(s.networks.media, { vlan: 201, router: 'edge' }), path: 'networks.media.host', message: /one macvlan network per parent/ },
  { check: 'shim names unique on a host', bad: (s) => (s.networks.media['shim-name'] = 'fn-200'), good: (s) => (s.networks.media['shim-name'] = 'fn-media'), path: 'networks.media.shim-name', message: /already used on host "nas"/ },
  { check: 'router exists', bad: (s) => (demo(s).router = 'nope'), good: (s) => (demo(s).router = 'edge'), path: 'networks.docker-demo.router', message: /not defined under routers/ },
  { check: 'host exists', bad: (s) => (demo(s).host = 'nope'), good: (s) => (demo(s).host = 'mini'), path: 'networks.docker-demo.host', message: /not defined under hosts/ },
  { check: 'host list entries exist', bad: (s) => (demo(s).host = ['nas', 'nope']), good: (s) => (demo(s).host = ['nas', 'mini']), path: 'networks.docker-demo.host[1]', message: /not defined under hosts/ },
  { check: 'a VLAN network needs a router', bad: (s) => delete demo(s).router, good: (s) => { delete demo(s).router; delete demo(s).vlan; Object.assign(demo(s), { subnet: '192.168.88.0/24', gateway: '192.168.88.1', 'container-range': '192.168.88.192/27' }); }, path: 'networks.docker-demo.router', message: /required for a network with a vlan/ },
  { check: 'firewall needs a VLAN', bad: (s) => { delete s.networks.media.vlan; s.networks.media.firewall = { internet: false }; }, good: (s) => { s.networks.media.firewall = { internet: false }; }, path: 'networks.media.firewall', message: /needs a vlan/ },
  { check: 'firewall.from names a network', bad: (s) => (demo(s).firewall = { from: ['lan', 'nope'] }), good: (s) => (demo(s).firewall = { from: ['lan', 'media'] }), path: 'networks.docker-demo.firewall.from[1]', message: /not a network/ },
  { check: 'firewall.to on the same router', bad: (s) => { s.networks.media.router = 'edge'; demo(s).firewall = { to: ['media'] }; }, good: (s) => { demo(s).firewall = { to: ['media'] }; }, path: 'networks.docker-demo.firewall.to[0]', message: /on router "edge"/ },
  { check: 'firewall.to names a network or "lan"', bad: (s) => (demo(s).firewall = { to: ['lan', 'nope'] }), good: (s) => (demo(s).firewall = { to: ['lan', 'media'] }), path: 'networks.docker-demo.firewall.to[1]', message: /"nope" is not a network \(or "lan"\)/ },
  { check: 'firewall does not name itself', bad: (s) => (demo(s).firewall = { to: ['docker-demo'] }), good: (s) => (demo(s).firewall = { to: [] }), path: 'networks.docker-demo.firewall.to[0]', message: /cannot name itself/ },
  { check: 'reserved network names', bad: (s) => { s.networks.lan = s.networks.media; delete s.networks.media; }, good: (s) => { s.networks.lan2 = s.networks.media; delete s.networks.media; }, path: 'networks.lan', message: /reserved/ },
  { check: 'host address outside container-range', bad: (s) => Object.assign(demo(s), { vlan: undefined, router: undefined, subnet: '192.168.88.0/24', gateway: '192.168.88.1', 'container-range': '192.168.88.0/28' }), good: (s) => Object.assign(demo(s), { vlan: undefined, router: undefined, subnet: '192.168.88.0/24', gateway: '192.168.88.1', 'container-range': '192.168.88.16/28' }), path: 'hosts.nas.address', message: /inside container-range/ },
  { check: 'parent ≤ 15 bytes', bad: (s) => (s.hosts.mini.parent = 'enp0s31f6verylong'), good: (s) => (s.hosts.mini.parent = 'enp0s31f6'), path: 'hosts.mini.parent', message: /at most 15/ },
  { check: '<parent>.<vlan> ≤ 15 bytes', bad: (s) => (s.hosts.nas.parent = 'enx00e04c68b1'), good: (s) => (s.hosts.nas.parent = 'enx00e04c68'), path: 'networks.docker-demo.vlan', message: /at most 15.*set networks\.docker-demo\.vlan-device to a shorter name/ },
  { check: 'vlan-device shortens a long <parent>.<vlan>', bad: (s) => (s.hosts.nas.parent = 'enx00e04c680001'), good: (s) => { s.hosts.nas.parent = 'enx00e04c680001'; demo(s)['vlan-device'] = 'usb0.200'; s.networks.media['vlan-device'] = 'usb0.20'; }, path: 'networks.docker-demo.vlan', message: /vlan-device/ },
  { check: 'vlan-device is a Linux name', bad: (s) => (demo(s)['vlan-device'] = 'enx00e04c680001.200'), good: (s) => (demo(s)['vlan-device'] = 'usb0.200'), path: 'networks.docker-demo.vlan-device', message: /at most 15/ },
  { check: 'vlan-device only with a vlan', bad: (s) => Object.assign(demo(s), { vlan: undefined, router: undefined, subnet: '192.168.88.0/24', gateway: '192.168.88.1', 'container-range': '192.168.88.192/27', 'vlan-device': 'usb0.200' }), good: (s) => Object.assign(demo(s), { vlan: undefined, router: undefined, subnet: '192.168.88.0/24', gateway: '192.168.88.1', 'container-range': '192.168.88.192/27' }), path: 'networks.docker-demo.vlan-device', message: /only with a vlan/ },
  { check: 'vlan-device not the parent itself', bad: (s) => (demo(s)['vlan-device'] = 'enp3s0'), good: (s) => (demo(s)['vlan-device'] = 'enp3s0v200'), path: 'networks.docker-demo.vlan-device', message: /parent of host "nas"/ },
  { check: 'vlan-device not a shim of the host', bad: (s) => (demo(s)['vlan-device'] = 'fn-20'), good: (s) => (demo(s)['vlan-device'] = 'fn-2000'), path: 'networks.docker-demo.vlan-device', message: /shim of network "media"/ },
  { check: 'vlan-device once per host', bad: (s) => { demo(s)['vlan-device'] = 'usb0.x'; s.networks.media['vlan-device'] = 'usb0.x'; }, good: (s) => { demo(s)['vlan-device'] = 'usb0.x'; s.networks.media['vlan-device'] = 'usb0.y'; }, path: 'networks.media.host', message: /already attaches network "docker-demo" to usb0\.x/ },
  { check: 'parent without "/" or spaces', bad: (s) => (s.hosts.nas.parent = 'eth/0'), good: (s) => (s.hosts.nas.parent = 'eth_0'), path: 'hosts.nas.parent', message: /"\/"/ },
  { check: 'shim-name legal', bad: (s) => (demo(s)['shim-name'] = 'shim\nreboot'), good: (s) => (demo(s)['shim-name'] = 'shim-reboot'), path: 'networks.docker-demo.shim-name', message: /newline/ },
  { check: 'default shim name ≤ 15 bytes', bad: (s) => { s.networks['a-very-long-network'] = { host: 'mini', subnet: '10.9.0.0/24', gateway: '10.9.0.1', 'container-range': '10.9.0.128/25' }; }, good: (s) => { s.networks['short-net'] = { host: 'mini', subnet: '10.9.0.0/24', gateway: '10.9.0.1', 'container-range': '10.9.0.128/25' }; }, path: 'networks.a-very-long-network.shim-name', message: /set shim-name/ },
  { check: 'IPv6 gateway inside its subnet', bad: (s) => (demo(s).ipv6 = { subnet: '2001:db8:1::/64', gateway: '2001:db8:2::1' }), good: (s) => (demo(s).ipv6 = { subnet: '2001:db8:1::/64', gateway: '2001:db8:1::1' }), path: 'networks.docker-demo.ipv6.gateway', message: /outside subnet/ },
  { check: 'IPv6 fields hold IPv6', bad: (s) => (demo(s).ipv6 = { subnet: '2001:db8:1::/64', gateway: '192.168.200.1' }), good: (s) => (demo(s).ipv6 = { subnet: '2001:db8:1::/64', gateway: '2001:db8:1::10' }), path: 'networks.docker-demo.ipv6.gateway', message: /IPv4 address; expected IPv6/ },
  { check: 'one shim address per host', bad: (s) => Object.assign(demo(s), { host: ['nas', 'mini'], 'shim-address': '192.168.200.192' }), good: (s) => Object.assign(demo(s), { host: ['nas', 'mini'] }), path: 'networks.docker-demo.shim-address', message: /several hosts/ },
  { check: 'container-range splits between hosts', bad: (s) => Object.assign(demo(s), { host: ['nas', 'mini'], 'container-range': '192.168.200.192/30' }), good: (s) => Object.assign(demo(s), { host: ['nas', 'mini'], 'container-range': '192.168.200.192/29' }), path: 'networks.docker-demo.container-range', message: /too small to split/ },
  { check: 'a served dhcp-pool needs dhcp in allow-input', bad: (s) => Object.assign(demo(s), { 'dhcp-pool': '192.168.200.64-192.168.200.127', firewall: { 'allow-input': ['dns'] } }), good: (s) => Object.assign(demo(s), { 'dhcp-pool': '192.168.200.64-192.168.200.127', firewall: { 'allow-input': ['dns', 'dhcp'] } }), path: 'networks.docker-demo.firewall.allow-input', message: /add dhcp to firewall\.allow-input/ },
  { check: 'dhcp-lease-time only with a served dhcp-pool', bad: (s) => Object.assign(demo(s), { 'dhcp-lease-time': '12h' }), good: (s) => Object.assign(demo(s), { 'dhcp-lease-time': '12h', 'dhcp-pool': '192.168.200.64-192.168.200.127', firewall: SERVED }), path: 'networks.docker-demo.dhcp-lease-time', message: /only with dhcp-pool/ },
  { check: 'dhcp-pool clear of the gateway', bad: (s) => Object.assign(demo(s), { 'dhcp-pool': '192.168.200.1-192.168.200.100', firewall: SERVED }), good: (s) => Object.assign(demo(s), { 'dhcp-pool': '192.168.200.2-192.168.200.100', firewall: SERVED }), path: 'networks.docker-demo.dhcp-pool', message: /contains the gateway/ },
  { check: 'access-ports only with a vlan', bad: (s) => Object.assign(demo(s), { vlan: undefined, router: undefined, subnet: '192.168.88.0/24', gateway: '192.168.88.1', 'container-range': '192.168.88.192/27', 'access-ports': ['ether4'] }), good: (s) => Object.assign(demo(s), { 'access-ports': ['ether4'] }), path: 'networks.docker-demo.access-ports', message: /only with a vlan/ },
  { check: 'an access port of one network only', bad: (s) => { demo(s)['access-ports'] = ['ether4']; s.networks.media['access-ports'] = ['ether5', 'ether4']; }, good: (s) => { demo(s)['access-ports'] = ['ether4']; s.networks.media['access-ports'] = ['ether5']; }, path: 'networks.media.access-ports[1]', message: /already an access port of network "docker-demo"/ },
  { check: 'an access port is listed once', bad: (s) => (demo(s)['access-ports'] = ['ether4', 'ether4']), good: (s) => (demo(s)['access-ports'] = ['ether4', 'ether3']), path: 'networks.docker-demo.access-ports[1]', message: /listed twice/ },
  { check: 'an access port is not a trunk port', bad: (s) => { s.routers.core['trunk-ports'] = ['ether2']; demo(s)['access-ports'] = ['ether2']; }, good: (s) => { s.routers.core['trunk-ports'] = ['ether2']; demo(s)['access-ports'] = ['ether3']; }, path: 'networks.docker-demo.access-ports[0]', message: /trunk port of router "core"/ },
  { check: 'OpenWrt: an access port is not left in lan-ports', bad: (s) => { Object.assign(s.routers.edge, { 'trunk-ports': ['lan1'], 'lan-ports': ['lan2', 'lan3'] }); Object.assign(demo(s), { router: 'edge', 'access-ports': ['lan3'] }); }, good: (s) => { Object.assign(s.routers.edge, { 'trunk-ports': ['lan1'], 'lan-ports': ['lan2'] }); Object.assign(demo(s), { router: 'edge', 'access-ports': ['lan3'] }); }, path: 'networks.docker-demo.access-ports[0]', message: /in lan-ports of router "edge"/ },
  { check: 'OpenWrt: an access port is a UCI word', bad: (s) => Object.assign(demo(s), { router: 'edge', 'access-ports': ['lan 3'] }), good: (s) => Object.assign(demo(s), { router: 'edge', 'access-ports': ['lan3'] }), path: 'networks.docker-demo.access-ports[0]', message: /not an OpenWrt port name/ },
  { check: 'VLAN 1 is refused', bad: (s) => (demo(s).vlan = 1), good: (s) => (demo(s).vlan = 2), path: 'networks.docker-demo.vlan', message: /default untagged VLAN/ },
  { check: 'shim-address not the host\'s own address', bad: (s) => Object.assign(demo(s), { vlan: undefined, router: undefined, subnet: '192.168.88.0/24', gateway: '192.168.88.1', 'container-range': '192.168.88.192/27', 'shim-address': '192.168.88.9' }), good: (s) => Object.assign(demo(s), { vlan: undefined, router: undefined, subnet: '192.168.88.0/24', gateway: '192.168.88.1', 'container-range': '192.168.88.192/27', 'shim-address': '192.168.88.8' }), path: 'networks.docker-demo.shim-address', message: /address of host "nas" itself/ },
  { check: 'untagged network in the host\'s LAN subnet', bad: (s) => Object.assign(demo(s), { vlan: undefined, router: undefined, subnet: '192.168.89.0/24', gateway: '192.168.89.1', 'container-range': '192.168.89.192/27' }), good: (s) => Object.assign(demo(s), { vlan: undefined, router: undefined, subnet: '192.168.88.0/24', gateway: '192.168.88.1', 'container-range': '192.168.88.192/27' }), path: 'hosts.nas.address', message: /must be one subnet/ },
  { check: 'untagged IPv6 needs a container range', bad: (s) => Object.assign(demo(s), { vlan: undefined, router: undefined, subnet: '192.168.88.0/24', gateway: '192.168.88.1', 'container-range': '192.168.88.192/27', ipv6: { subnet: 'fd00:88::/64', gateway: 'fd00:88::1' } }), good: (s) => Object.assign(demo(s), { vlan: undefined, router: undefined, subnet: '192.168.88.0/24', gateway: '192.168.88.1', 'container-range': '192.168.88.192/27', ipv6: { subnet: 'fd00:88::/64', gateway: 'fd00:88::1', 'container-range': 'fd00:88::c0:0/112' } }), path: 'networks.docker-demo.ipv6.container-range', message: /required for an untagged network/ },
  { check: 'subnet is one segment, not /0', bad: (s) => Object.assign(demo(s), { subnet: '0.0.0.0/0', gateway: '192.168.200.1' }), good: (s) => Object.assign(demo(s), { subnet: '192.168.0.0/16', gateway: '192.168.200.1' }), path: 'networks.docker-demo.subnet', message: /not one layer-2 segment/ },
];

describe('consistency checks', () => {
  it('the base spec is valid', () => {
    expect(problemsOf(base())).toEqual([]);
  });

  for (const c of cases) {
    it(`${c.check}: fails`, () => {
      const spec = base();
      c.bad(spec);
      const problems = problemsOf(spec);
      expect(problems.some((p) => p.startsWith(`${c.path}: `) && c.message.test(p)), problems.join('\n') || '(no problem reported)').toBe(true);
    });
    it(`${c.check}: passes the near miss`, () => {
      const spec = base();
      c.good(spec);
      expect(problemsOf(spec)).toEqual([]);
    });
  }

  it('reports every network that overlaps another, once, on the later network', () => {
    const spec = base();
    const net = (vlan: number, subnet: string, gateway: string, range: string) => ({ router: 'core', host: 'mini', vlan, subnet, gateway, 'container-range': range });
    spec.networks = {
      small1: net(11, '10.0.1.0/24', '10.0.1.1', '10.0.1.128/25'),
      wide: net(10, '10.0.0.0/16', '10.0.0.1', '10.0.200.0/24'),
      small2: net(12, '10.0.2.0/24', '10.0.2.1', '10.0.2.128/25'),
      apart: net(13, '10.1.0.0/24', '10.1.0.1', '10.1.0.128/25'),
    };
    const overlapProblems = problemsOf(spec).filter((p) => p.includes('overlaps'));
    expect(overlapProblems).toEqual([
      'networks.wide.subnet: 10.0.0.0/16 overlaps 10.0.1.0/24 of network "small1" on router "core"',
      'networks.small2.subnet: 10.0.2.0/24 overlaps 10.0.0.0/16 of network "wide" on router "core"',
    ]);
  });

  it('reports every problem at once, with line and column', () => {
    const spec = base();
    demo(spec).gateway = '10.0.0.1';
    spec.networks.media.vlan = 200;
    try {
      modelFromText(stringify(spec), 'spec.yaml');
      expect.unreachable();
    } catch (err) {
      const problems = (err as SpecError).problems;
      expect(problems.length).toBeGreaterThanOrEqual(2);
      for (const p of problems) expect(p.line).toBeGreaterThan(0);
    }
  });
});

describe('resolved model', () => {
  it('derives names and addresses', () => {
    const model = modelFromText(stringify(base()));
    const n = model.networks.find((x) => x.name === 'docker-demo')!;
    expect(n.names).toEqual({
      comment: 'flatnet:docker-demo',
      uciSection: 'flatnet_docker_demo',
      routerosInterface: 'vlan200-docker-demo',
      firewallZone: 'fn_vlan200',
    });
    expect(n.ipv4).toMatchObject({ gatewayCidr: '192.168.200.1/24', netmask: '255.255.255.0' });
    expect(n.attachments[0]).toMatchObject({
      host: 'nas',
      link: 'enp3s0.200',
      shimName: 'fn-200',
      ipv4: { ipRange: '192.168.200.192/27', shimAddress: '192.168.200.192', route: '192.168.200.192/27' },
      auxAddresses: [{ name: 'host', address: '192.168.200.192' }],
    });
    expect(n.firewall).toEqual({ internet: true, from: ['lan'], to: [], allowInput: ['dns'] });
    const core = model.routers.find((r) => r.name === 'core')!;
    expect(core).toMatchObject({ port: 8728, user: 'admin', wanList: 'WAN', lanList: 'LAN' });
  });

  it('skips the network address when choosing the default shim address', () => {
    const spec = base();
    Object.assign(demo(spec), { gateway: '192.168.200.254', 'container-range': '192.168.200.0/25' });
    const a = modelFromText(stringify(spec)).networks[0]!.attachments[0]!;
    expect(a.ipv4.shimAddress).toBe('192.168.200.1');
  });

  it('skips the IPv6 gateway when choosing the default IPv6 shim address', () => {
    const spec = base();
    demo(spec).ipv6 = { subnet: '2001:db8:1::/64', gateway: '2001:db8:1::1' };
    const a = modelFromText(stringify(spec)).networks[0]!.attachments[0]!;
    expect(a.ipv6).toEqual({ ipRange: undefined, shimAddress: '2001:db8:1::2', route: '2001:db8:1::/64' });
  });

  it('splits container-range between the hosts of a shared network and reserves every shim on each', () => {
    const spec = base();
    demo(spec).host = ['nas', 'mini'];
    demo(spec).ipv6 = { subnet: '2001:db8:1::/64', gateway: '2001:db8:1::1' };
    const [a, b] = modelFromText(stringify(spec)).networks[0]!.attachments;
    expect(a!.ipv4.ipRange).toBe('192.168.200.192/28');
    expect(b!.ipv4.ipRange).toBe('192.168.200.208/28');
    expect([a!.ipv4.shimAddress, b!.ipv4.shimAddress]).toEqual(['192.168.200.192', '192.168.200.208']);
    expect(a!.ipv4.route).toBe('192.168.200.192/27');
    expect(a!.auxAddresses.map((x) => x.name)).toEqual(['host-nas', 'host6-nas', 'host-mini', 'host6-mini']);
    expect(a!.ipv6!.shimAddress).toBe('2001:db8:1::2');
    expect(b!.ipv6!.ipRange).toBe('2001:db8:1:0:8000::/65');
  });
});
