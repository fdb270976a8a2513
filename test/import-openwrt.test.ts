// import (issue 20 point 1), OpenWrt routers: one network per static interface on a VLAN device of the bridge
// (802.1Q device section, br-lan.N, DSA bridge-vlan), its dhcp section, its zone's forwardings and input rules.
// Round trips on the pure read (what flatnet writes, on top of OpenWrt's defaults, imports back), and a
// hand-made setup read over SSH from the test router (real uci behind real sshd; skipped, saying why, without).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appliedOpenWrt, openwrtDraft } from './fakes/openwrt-draft.js';
import { stringify } from 'yaml';
import { generate, modelFromText, type Model, type OpenWrtRouter } from '../src/index.js';
import { importFromText } from '../src/import/run.js';
import { parseUciExport, type ExportedSection } from '../targets/openwrt/uci.js';
import { bridgeVlanPorts } from '../src/import/rows.js';
import { defaultOpenWrtConfig, OpenWrtTestRouter, openwrtTestSupport } from './fakes/openwrt-router.js';

const routerOf = (m: Model) => m.routers.find((r): r is OpenWrtRouter => r.type === 'openwrt')!;
const defaults = () => (['network', 'firewall', 'dhcp'] as const).flatMap((c) => parseUciExport(defaultOpenWrtConfig(c), c));
const applied = appliedOpenWrt;

/** import of the devices (spec without networks) from these sections; the draft must validate */
const draftFrom = openwrtDraft;

const view = (m: Model) => m.networks.map((n) => ({ name: n.name, vlan: n.vlan, ipv4: n.ipv4, firewall: n.firewall, dhcp: n.dhcpServer, access: n.accessPorts }));

describe('import: OpenWrt (the configs flatnet writes, on top of the defaults)', () => {
  it('802.1Q devices on br-lan: VLANs, subnets, gateways, DHCP pool and lease time, firewall forwardings and services come back', () => {
    const router = { type: 'openwrt', address: '192.168.1.1' };
    const spec = {
      version: 1,
      routers: { edge: router },
      networks: {
        cams: { router: 'edge', vlan: 30, subnet: '10.30.0.0/24', gateway: '10.30.0.1', 'dhcp-pool': '10.30.0.100-10.30.0.199', 'dhcp-lease-time': '12h', firewall: { internet: false, from: ['lan'], to: [], 'allow-input': ['dns', 'dhcp', 'ntp'] } },
        iot: { router: 'edge', vlan: 40, subnet: '10.40.0.0/24', gateway: '10.40.0.1', firewall: { internet: true, from: ['lan', 'cams'], to: ['lan'], 'allow-input': ['dns', 'icmp'] } },
      },
    };
    const want = modelFromText(stringify(spec));
    const { model, report } = draftFrom(stringify({ version: 1, routers: { edge: router } }), applied(want));
    expect(report.warnings).toEqual([]);
    expect(view(model)).toEqual(view(want));
    expect(generate(model).find((a) => a.path === 'openwrt/edge.uci')!.content).toBe(generate(want).find((a) => a.path === 'openwrt/edge.uci')!.content);
  });

  it('DSA bridge-vlan with trunk and access ports: access-ports from :u*, trunk-ports from :t, the LAN on br-lan.1 left alone', () => {
    const router = { type: 'openwrt', address: '192.168.1.1', 'trunk-ports': ['lan4'], 'lan-ports': ['lan1', 'lan2'], 'lan-interface': 'lan' };
    const spec = {
      version: 1,
      routers: { edge: router },
      networks: { cams: { router: 'edge', vlan: 30, subnet: '10.30.0.0/24', gateway: '10.30.0.1', 'access-ports': ['lan3'] } },
    };
    const want = modelFromText(stringify(spec));
    const { model, draft, report } = draftFrom(stringify({ version: 1, routers: { edge: { ...router, 'trunk-ports': undefined } } }), applied(want));
    expect(report.warnings).toEqual([]);
    expect(view(model)).toEqual(view(want));
    expect(routerOf(model).trunkPorts).toEqual(['lan4']);
    expect(draft).toMatch(/access-ports: \[lan3\] # from network\.flatnet_cams_vlan ports: untagged with PVID/);
  });

  it('bridge-vlan ports, read by one function for routers and switches: :u* and :* access, :u and none untagged without PVID, :t and :t* tagged, the rest unknown', () => {
    const bv: ExportedSection = { config: 'network', type: 'bridge-vlan', options: new Map<string, string | string[]>([['device', 'br-lan'], ['vlan', '30'], ['ports', ['lan1:u* lan2:*', 'lan3:u', 'lan4', 'lan5:t', 'lan6:t*', 'lan7:x']]]) };
    expect(bridgeVlanPorts(bv).map((p) => [p.port, p.kind])).toEqual([
      ['lan1', 'access'],
      ['lan2', 'access'],
      ['lan3', 'untagged'],
      ['lan4', 'untagged'],
      ['lan5', 'tagged'],
      ['lan6', 'tagged'],
      ['lan7', 'unknown'],
    ]);
    const iface: ExportedSection = { config: 'network', type: 'interface', name: 'cams', options: new Map([['proto', 'static'], ['device', 'br-lan.30'], ['ipaddr', '10.30.0.1/24']]) };
    const { model, draft } = draftFrom(stringify({ version: 1, routers: { edge: { type: 'openwrt', address: '192.168.1.1' } } }), [...defaults(), bv, iface]);
    expect(model.networks.map((n) => [n.vlan, n.accessPorts])).toEqual([[30, ['lan1', 'lan2']]]);
    expect(routerOf(model).trunkPorts).toEqual(['lan5', 'lan6']);
    expect(draft).toContain('# bridge-vlan 30 has ports untagged without PVID (lan3:u lan4): not imported');
    expect(draft).toContain('# bridge-vlan 30 has ports it cannot read (lan7:x; a port is <port>, <port>:u, <port>:u* or <port>:t): not imported');
  });

  it("a dhcp section whose start or limit is not a whole number is a comment and a warning, not a crash", () => {
    const spec = { version: 1, routers: { edge: { type: 'openwrt', address: '192.168.1.1' } }, networks: { iot: { router: 'edge', vlan: 30, subnet: '10.30.0.0/24', gateway: '10.30.0.1', 'dhcp-pool': '10.30.0.100-10.30.0.199', firewall: { 'allow-input': ['dns', 'dhcp'] } } } };
    const sections = applied(modelFromText(stringify(spec)));
    for (const d of sections.filter((x) => x.config === 'dhcp' && x.type === 'dhcp')) d.options.set('start', '10.5');
    const { model, report } = draftFrom(stringify({ version: 1, routers: spec.routers }), sections);
    expect(model.networks.map((n) => [n.vlan, n.ipv4.dhcpPool])).toEqual([[30, undefined]]);
    expect(report.warnings.join('\n')).toMatch(/dhcp\.\S+ on \S+ \(start 10\.5, limit 100\) is not a pool inside 10\.30\.0\.0\/24: dhcp-pool not imported/);
  });
});

const support = openwrtTestSupport();
describe.skipIf(!support.ok)(`import: a hand-made OpenWrt setup read over SSH${support.ok ? '' : ` (skipped: ${support.reason})`}`, () => {
  let r: OpenWrtTestRouter;
  beforeAll(async () => {
    r = await OpenWrtTestRouter.start({
      extraConfig: {
        network: [
          '',
          'config device',
          "\toption type '8021q'",
          "\toption ifname 'br-lan'",
          "\toption vid '30'",
          "\toption name 'br-lan.30'",
          '',
          "config interface 'iot'",
          "\toption proto 'static'",
          "\toption device 'br-lan.30'",
          "\toption ipaddr '10.30.0.1'",
          "\toption netmask '255.255.255.0'",
          '',
          "config interface 'guest'",
          "\toption proto 'static'",
          "\toption device 'br-lan.40'",
          "\toption ipaddr '10.40.0.1/24'",
          '',
          "config interface 'nowhere'",
          "\toption proto 'static'",
          "\toption device 'br-lan.50'",
          '',
        ].join('\n'),
        firewall: [
          '',
          'config zone',
          "\toption name 'iot'",
          "\tlist network 'iot'",
          "\toption input 'REJECT'",
          "\toption output 'ACCEPT'",
          "\toption forward 'REJECT'",
          '',
          'config forwarding',
          "\toption src 'iot'",
          "\toption dest 'wan'",
          '',
          'config forwarding',
          "\toption src 'lan'",
          "\toption dest 'iot'",
          '',
          'config rule',
          "\toption name 'iot dns'",
          "\toption src 'iot'",
          "\toption proto 'tcp udp'",
          "\toption dest_port '53'",
          "\toption target 'ACCEPT'",
          '',
          'config rule',
          "\toption name 'iot dhcp'",
          "\toption src 'iot'",
          "\toption proto 'udp'",
          "\toption dest_port '67'",
          "\toption family 'ipv4'",
          "\toption target 'ACCEPT'",
          '',
          'config zone',
          "\toption name 'guest'",
          "\tlist network 'guest'",
          "\toption input 'ACCEPT'",
          "\toption output 'ACCEPT'",
          "\toption forward 'REJECT'",
          '',
        ].join('\n'),
        dhcp: ['', "config dhcp 'iot'", "\toption interface 'iot'", "\toption start '100'", "\toption limit '100'", "\toption leasetime '12h'", ''].join('\n'),
      },
    });
  }, 90_000);
  afterAll(async () => {
    await r?.stop();
  }, 30_000);

  it('each static interface on a VLAN device of br-lan becomes a network; plain firewall intent is taken over, the rest said', async () => {
    const devices = stringify({ version: 1, routers: { edge: { type: 'openwrt', address: '127.0.0.1', port: r.port, user: r.user, 'key-file': r.clientKeyFile, 'host-key': r.hostKeyFingerprint } } });
    const result = await importFromText(devices, 'devices.yaml', { env: { FLATNET_TEST_REMOTE_ROOT: r.root, HOME: r.scratch } });
    const model = modelFromText(result.draft, 'draft.yaml');
    expect(result.code).toBe(0);
    expect(model.networks.map((n) => [n.name, n.vlan, n.ipv4.subnet, n.ipv4.gateway])).toEqual([
      ['iot', 30, '10.30.0.0/24', '10.30.0.1'],
      ['guest', 40, '10.40.0.0/24', '10.40.0.1'],
    ]);
    const iot = model.networks[0]!;
    expect(iot.ipv4.dhcpPool).toEqual({ first: '10.30.0.100', last: '10.30.0.199' });
    expect(iot.dhcpServer?.leaseTime).toBe('12h');
    expect(iot.firewall).toEqual({ internet: true, from: ['lan'], to: [], allowInput: ['dns', 'dhcp'] });
    expect(result.draft).toMatch(/vlan: 30 # from network\.@device \(8021q vid 30 on br-lan\)|vlan: 30 # from network\.cfg[0-9a-f]+ \(8021q vid 30 on br-lan\)/);
    expect(result.draft).toMatch(/firewall: zone guest is not what flatnet writes, not inferred: zone guest: input ACCEPT, forward REJECT/);
    expect(result.report.warnings.join('\n')).toMatch(/interface nowhere on br-lan\.50 \(VLAN 50\) has no IPv4 address/);
    expect(result.draft).toMatch(/Read: router edge \(OpenWrt 23\.05\.5, 127\.0\.0\.1\)/);
  }, 60_000);
});
