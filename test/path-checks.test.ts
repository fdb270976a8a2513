// The path (switches, cables, derived trunking): each check with a spec that fails it and a near miss that
// passes, and the derived tagged ports of every device on the path.
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { formatPath, loadModel, modelFromText, SpecError, type Model } from '../src/index.js';
import { capabilities } from '../src/devices.js';
import { findBridgeDevice, taggedPorts, untaggedPorts } from '../src/model.js';

type Spec = Record<string, any>;

const net = (vlan: number, extra: Spec = {}): Spec => ({
  router: 'core',
  host: 'nas',
  vlan,
  subnet: `10.${vlan}.0.0/24`,
  gateway: `10.${vlan}.0.1`,
  'container-range': `10.${vlan}.0.128/26`,
  ...extra,
});

/** core ← sw1 (ether1 → core:ether2) ← sw2 (ether1 → sw1:ether3); nas on sw2:ether5; a second router edge. */
function base(): Spec {
  return {
    version: 1,
    routers: {
      core: { type: 'routeros', address: '192.168.88.1', 'password-env': 'PW' },
      edge: { type: 'routeros', address: '192.168.88.254', 'password-env': 'PW', 'trunk-ports': ['ether9'] },
    },
    switches: {
      sw1: { type: 'routeros', address: '192.168.88.2', 'password-env': 'PW', uplink: 'ether1', 'connected-to': 'core:ether2' },
      sw2: { type: 'routeros', address: '192.168.88.3', 'password-env': 'PW', uplink: 'ether1', 'connected-to': 'sw1:ether3' },
    },
    hosts: { nas: { parent: 'enp3s0', 'connected-to': 'sw2:ether5' }, mini: { parent: 'eno1' } },
    networks: { media: net(20), cams: net(30, { 'access-ports': ['ether4', 'sw1:ether7'] }) },
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

const model = (spec: Spec): Model => modelFromText(stringify(spec), 'spec.yaml');

describe('derived trunking', () => {
  it('tags every port from the host up to the router, and only the VLANs that pass there', () => {
    const m = model(base());
    const core = findBridgeDevice(m, 'core')!;
    const sw1 = findBridgeDevice(m, 'sw1')!;
    const sw2 = findBridgeDevice(m, 'sw2')!;
    expect(taggedPorts(sw2, 'media')).toEqual(['ether5', 'ether1']);
    expect(taggedPorts(sw1, 'media')).toEqual(['ether3', 'ether1']);
    expect(taggedPorts(core, 'media')).toEqual(['ether2']);
    // the camera's switch carries cams from its access port up, whichever switch the host is on
    expect(untaggedPorts(sw1, 'cams')).toEqual(['ether7']);
    expect(untaggedPorts(core, 'cams')).toEqual(['ether4']);
    expect(sw1.networks).toEqual(['media', 'cams']);
    // the other router carries none of them: only its own trunk-ports for its own networks
    expect(findBridgeDevice(m, 'edge')!.vlanPorts).toEqual({});
    expect(m.cables.map((c) => [`${c.from.device}:${c.from.port}`, `${c.to.device}:${c.to.port}`, c.networks])).toEqual([
      ['nas:enp3s0', 'sw2:ether5', ['media', 'cams']],
      ['sw1:ether1', 'core:ether2', ['media', 'cams']],
      ['sw2:ether1', 'sw1:ether3', ['media', 'cams']],
    ]);
  });

  it('carries a VLAN only where its hosts or access ports are', () => {
    const s = base();
    s.networks.cams.host = 'mini'; // mini has no connected-to: only the access port on sw1 pulls cams in
    const m = model(s);
    expect(taggedPorts(findBridgeDevice(m, 'sw2')!, 'cams')).toEqual([]);
    expect(taggedPorts(findBridgeDevice(m, 'sw1')!, 'cams')).toEqual(['ether1']);
    expect(taggedPorts(findBridgeDevice(m, 'core')!, 'cams')).toEqual(['ether2']);
    expect(findBridgeDevice(m, 'sw2')!.networks).toEqual(['media']);
  });

  it("a router's trunk ports are its trunk-ports plus the derived ones", () => {
    const s = base();
    s.routers.core['trunk-ports'] = ['ether8', 'ether2'];
    const m = model(s);
    expect(taggedPorts(findBridgeDevice(m, 'core')!, 'media')).toEqual(['ether8', 'ether2']);
  });

  it('is asked of the registry: switches have no layer 3, routers do', () => {
    const m = model(base());
    expect(capabilities(findBridgeDevice(m, 'sw1')!).layer3).toBe(false);
    expect(capabilities(findBridgeDevice(m, 'core')!).layer3).toBe(true);
    expect(capabilities(findBridgeDevice(m, 'sw1')!).accessPorts).toBe(true);
  });

  it('the shipped example derives core:ether2 as the only trunk', () => {
    const m = loadModel('examples/switched.yaml');
    expect(taggedPorts(findBridgeDevice(m, 'core')!, 'media')).toEqual(['ether2']);
    expect(taggedPorts(findBridgeDevice(m, 'sw1')!, 'cams')).toEqual(['ether5', 'ether1']);
    expect(untaggedPorts(findBridgeDevice(m, 'sw1')!, 'cams')).toEqual(['ether7']);
  });
});

interface Case {
  check: string;
  bad: (s: Spec) => void;
  good: (s: Spec) => void;
  path: string;
  message: RegExp;
}

const cases: Case[] = [
  {
    check: 'connected-to names a device of the spec',
    bad: (s) => (s.hosts.nas['connected-to'] = 'sw9:ether5'),
    good: (s) => (s.hosts.nas['connected-to'] = 'sw1:ether5'),
    path: 'hosts.nas.connected-to',
    message: /"sw9" is not a router or switch of the spec/,
  },
  {
    check: 'connected-to does not name a host',
    bad: (s) => (s.switches.sw2['connected-to'] = 'mini:eth0'),
    good: (s) => (s.switches.sw2['connected-to'] = 'sw1:ether3'),
    path: 'switches.sw2.connected-to',
    message: /"mini" is a host/,
  },
  {
    check: 'connected-to has the <device>:<port> form',
    bad: (s) => (s.hosts.nas['connected-to'] = 'sw2'),
    good: (s) => (s.hosts.nas['connected-to'] = 'sw2:ether5'),
    path: 'hosts.nas.connected-to',
    message: /must be <device>:<port>/,
  },
  {
    check: 'the port is a valid port of that device type',
    bad: (s) => (s.hosts.nas['connected-to'] = 'sw2:ether"5'),
    good: (s) => (s.hosts.nas['connected-to'] = 'sw2:ether 5'),
    path: 'hosts.nas.connected-to',
    message: /not a RouterOS interface name/,
  },
  {
    check: 'the port is not the bridge itself',
    bad: (s) => (s.hosts.nas['connected-to'] = 'sw2:bridge'),
    good: (s) => (s.hosts.nas['connected-to'] = 'sw2:bridge1'),
    path: 'hosts.nas.connected-to',
    message: /is the bridge of switch "sw2" itself/,
  },
  {
    check: 'uplink needs connected-to',
    bad: (s) => delete s.switches.sw2['connected-to'],
    good: () => {},
    path: 'switches.sw2.uplink',
    message: /needs connected-to/,
  },
  {
    check: 'connected-to needs uplink',
    bad: (s) => delete s.switches.sw2.uplink,
    good: () => {},
    path: 'switches.sw2.connected-to',
    message: /needs uplink/,
  },
  {
    check: 'a switch cabled to nothing',
    bad: (s) => (s.switches.sw3 = { type: 'routeros', address: '192.168.88.4', 'password-env': 'PW' }),
    good: (s) => (s.switches.sw3 = { type: 'routeros', address: '192.168.88.4', 'password-env': 'PW', uplink: 'ether1', 'connected-to': 'core:ether3' }),
    path: 'switches.sw3',
    message: /has neither uplink nor connected-to/,
  },
  {
    check: 'one cable per port (two hosts on one port)',
    bad: (s) => (s.hosts.mini['connected-to'] = 'sw2:ether5'),
    good: (s) => (s.hosts.mini['connected-to'] = 'sw2:ether6'),
    path: 'hosts.mini.connected-to',
    message: /port ether5 of switch "sw2" is already the port of host "nas" \(hosts\.nas\.connected-to\): one cable per port/,
  },
  {
    check: 'one cable per port (a host on the port a switch uplinks to)',
    bad: (s) => (s.hosts.mini['connected-to'] = 'core:ether2'),
    good: (s) => (s.hosts.mini['connected-to'] = 'core:ether3'),
    path: 'switches.sw1.connected-to',
    message: /port ether2 of router "core" is already the port of host "mini"/,
  },
  {
    check: 'one cable per port (a host on a switch uplink)',
    bad: (s) => (s.hosts.mini['connected-to'] = 'sw2:ether1'),
    good: (s) => (s.hosts.mini['connected-to'] = 'sw2:ether2'),
    path: 'switches.sw2.uplink',
    message: /already the port of host "mini"/,
  },
  {
    check: 'a host port is not also an access port',
    bad: (s) => (s.networks.cams['access-ports'] = ['sw2:ether5']),
    good: (s) => (s.networks.cams['access-ports'] = ['sw2:ether6']),
    path: 'networks.cams.access-ports[0]',
    message: /port ether5 of switch "sw2" is already the port of host "nas"/,
  },
  {
    check: 'a router port a switch is cabled to is not also an access port',
    bad: (s) => (s.networks.cams['access-ports'] = ['ether2']),
    good: (s) => (s.networks.cams['access-ports'] = ['ether4']),
    path: 'networks.cams.access-ports[0]',
    message: /port ether2 of router "core" is already the port switch "sw1" is cabled to/,
  },
  {
    check: 'an access port is never the switch uplink',
    bad: (s) => (s.networks.cams['access-ports'] = ['sw1:ether1']),
    good: (s) => (s.networks.cams['access-ports'] = ['sw1:ether8']),
    path: 'networks.cams.access-ports[0]',
    message: /ether1 is the uplink of switch "sw1".*cut the switch off/,
  },
  {
    check: 'a switch port is an access port of one network',
    bad: (s) => (s.networks.media['access-ports'] = ['sw1:ether7']),
    good: (s) => (s.networks.media['access-ports'] = ['sw1:ether6']),
    path: 'networks.cams.access-ports[1]',
    message: /already an access port of network "media"/,
  },
  {
    check: 'a loop of uplinks',
    bad: (s) => (s.switches.sw1['connected-to'] = 'sw2:ether3'),
    good: (s) => (s.switches.sw1['connected-to'] = 'core:ether2'),
    path: 'switches.sw1.connected-to',
    message: /the chain of uplinks is a loop \(sw1 → sw2 → sw1\)/,
  },
  {
    check: 'a switch cannot be cabled to itself',
    bad: (s) => (s.switches.sw2['connected-to'] = 'sw2:ether3'),
    good: (s) => (s.switches.sw2['connected-to'] = 'sw1:ether3'),
    path: 'switches.sw2.connected-to',
    message: /cannot be cabled to itself/,
  },
  {
    check: 'a chain that ends at a switch cabled to nothing reaches no router',
    bad: (s) => {
      delete s.switches.sw1.uplink;
      delete s.switches.sw1['connected-to'];
    },
    good: () => {},
    path: 'switches.sw2.connected-to',
    message: /reaches no router: its chain of uplinks ends at switch "sw1"/,
  },
  {
    check: "a host of a network is cabled to the network's router",
    bad: (s) => (s.switches.sw1['connected-to'] = 'edge:ether2'),
    good: (s) => (s.switches.sw1['connected-to'] = 'core:ether2'),
    path: 'hosts.nas.connected-to',
    message: /host "nas" is cabled to router "edge" \(through switch "sw2"\), but network "media" has router "core"/,
  },
  {
    check: "a switch with an access port is cabled to the network's router",
    bad: (s) => {
      s.switches.sw3 = { type: 'routeros', address: '192.168.88.4', 'password-env': 'PW', uplink: 'ether1', 'connected-to': 'edge:ether3' };
      s.networks.cams['access-ports'] = ['sw3:ether7'];
    },
    good: (s) => {
      s.switches.sw3 = { type: 'routeros', address: '192.168.88.4', 'password-env': 'PW', uplink: 'ether1', 'connected-to': 'core:ether3' };
      s.networks.cams['access-ports'] = ['sw3:ether7'];
    },
    path: 'networks.cams.access-ports[0]',
    message: /switch "sw3" \(access port ether7\) is cabled to router "edge" \(through switch "sw3"\), but network "cams" has router "core"/,
  },
  {
    check: 'routers, switches and hosts share one name space',
    bad: (s) => (s.hosts.sw1 = { parent: 'eth0' }),
    good: (s) => (s.hosts.sw5 = { parent: 'eth0' }),
    path: 'hosts.sw1',
    message: /"sw1" is also defined under switches: routers, switches and hosts share one name space/,
  },
  {
    check: 'a network names a router, not a switch, as its gateway',
    bad: (s) => (s.networks.media.router = 'sw1'),
    good: (s) => (s.networks.media.router = 'core'),
    path: 'networks.media.router',
    message: /"sw1" is a switch: the gateway of a network is a router/,
  },
  {
    check: "a VLAN carried by an OpenWrt switch is not that switch's lan-vlan",
    bad: (s) => (s.switches.sw1 = { type: 'openwrt', address: '192.168.88.2', uplink: 'lan1', 'connected-to': 'core:ether2', 'lan-vlan': 30 }),
    good: (s) => (s.switches.sw1 = { type: 'openwrt', address: '192.168.88.2', uplink: 'lan1', 'connected-to': 'core:ether2', 'lan-vlan': 31 }),
    path: 'networks.cams.vlan',
    message: /VLAN 30 is the lan-vlan of switch "sw1"/,
  },
  {
    check: 'an OpenWrt switch port is a UCI word',
    bad: (s) => {
      s.switches.sw1 = { type: 'openwrt', address: '192.168.88.2', uplink: 'lan1', 'connected-to': 'core:ether2' };
      s.networks.cams['access-ports'] = ['sw1:lan 4'];
    },
    good: (s) => {
      s.switches.sw1 = { type: 'openwrt', address: '192.168.88.2', uplink: 'lan1', 'connected-to': 'core:ether2' };
      s.networks.cams['access-ports'] = ['sw1:lan4'];
    },
    path: 'networks.cams.access-ports[0]',
    message: /not an OpenWrt port name/,
  },
];

describe('path checks', () => {
  it('the base spec is valid', () => {
    expect(problemsOf(base())).toEqual([]);
  });
  for (const c of cases) {
    it(`${c.check}: refused with its spec path, and the near miss passes`, () => {
      const bad = base();
      c.bad(bad);
      const problems = problemsOf(bad);
      const hit = problems.find((p) => p.startsWith(`${c.path}: `));
      expect(hit, problems.join('\n')).toBeDefined();
      expect(hit).toMatch(c.message);
      const good = base();
      c.good(good);
      expect(problemsOf(good)).toEqual([]);
    });
  }

  it('reports every path problem at once, with line and column', () => {
    const s = base();
    s.hosts.nas['connected-to'] = 'sw9:ether5';
    delete s.switches.sw2.uplink;
    s.networks.cams['access-ports'] = ['sw1:ether1'];
    try {
      modelFromText(stringify(s), 'spec.yaml');
      expect.unreachable();
    } catch (err) {
      const problems = (err as SpecError).problems;
      expect(problems.map((p) => formatPath(p.path)).sort()).toEqual(['hosts.nas.connected-to', 'networks.cams.access-ports[0]', 'switches.sw2.connected-to']);
      for (const p of problems) expect(p.line).toBeGreaterThan(0);
    }
  });
});
