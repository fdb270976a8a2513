// import: a disabled row is not live: RouterOS bridge ports and OpenWrt bridge-vlan sections, on the router as on
// the switches (src/import/switches.ts). Pure: the live state by hand, the importer called directly.
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseUciExport, type ExportedSection } from '../targets/openwrt/uci.js';
import { openwrtDraft } from './fakes/openwrt-draft.js';
import { defaultOpenWrtConfig } from './fakes/openwrt-router.js';
import { importRouterOSLive, routerosLive } from './fakes/routeros-live.js';

describe('import: disabled rows are not live', () => {
  it('RouterOS: a disabled bridge port with the VLAN as pvid is not an access port (said), as on a switch', () => {
    const report = importRouterOSLive(
      routerosLive([
        { bridge: 'bridge', interface: 'ether3', pvid: '30' },
        { bridge: 'bridge', interface: 'ether4', pvid: '30', disabled: 'true' },
        { bridge: 'bridge', interface: 'ether5', pvid: '30', dynamic: 'true' },
      ]),
    );
    expect(report.networks.map((n) => [n.vlan, n.accessPorts])).toEqual([[30, ['ether3']]]);
    expect(report.networks[0]!.notes).toContain('bridge port ether4 (pvid 30) is disabled: not imported as access ports');
  });

  it('OpenWrt: a disabled bridge-vlan section gives the router no ports, as on a switch', () => {
    const sections: ExportedSection[] = [
      ...(['network', 'firewall', 'dhcp'] as const).flatMap((c) => parseUciExport(defaultOpenWrtConfig(c), c)),
      { config: 'network', type: 'bridge-vlan', name: 'old30', options: new Map([['device', 'br-lan'], ['vlan', '30'], ['ports', 'lan3:u* lan4:t'], ['disabled', '1']]) },
      { config: 'network', type: 'interface', name: 'cams', options: new Map([['proto', 'static'], ['device', 'br-lan.30'], ['ipaddr', '10.30.0.1/24']]) },
    ];
    const { model, draft } = openwrtDraft(stringify({ version: 1, routers: { edge: { type: 'openwrt', address: '192.168.1.1' } } }), sections);
    expect(model.networks.map((n) => [n.vlan, n.accessPorts])).toEqual([[30, []]]);
    expect(draft).not.toMatch(/from network\.old30/);
    expect(draft).toContain('# network.old30 (bridge-vlan 30 on br-lan) is disabled: its ports not imported');
  });
});
