// import, OpenWrt switches: the bridge-vlan sections on the switch's device give its access ports (`<port>:u*`
// in a VLAN of the router its uplinks lead to, not the LAN's own lan-vlan, not the uplink) as
// `access-ports: [<switch>:<port>]` of that router's network. A pure case from uci export text written by hand,
// and examples/openwrt-switched.yaml on OpenWrt's real uci (built from ../shared/openwrt-uci): flatnet's config
// applied to both devices with `uci batch`, made to look hand-made, then imported.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelFromText, type Model, type OpenWrtRouter } from '../src/index.js';
import { importFromText } from '../src/import/run.js';
import { desiredState } from '../targets/openwrt/index.js';
import { CONFIGS, planOpenWrt, type OpenWrtLive } from '../targets/openwrt/diff.js';
import { parseUciExport, type ExportedSection } from '../targets/openwrt/uci.js';
import { defaultOpenWrtConfig } from './fakes/openwrt-router.js';
import { uciUnavailable, uciWorkbench } from './fakes/openwrt-uci-device.js';

const EXAMPLE = readFileSync(new URL('../examples/openwrt-switched.yaml', import.meta.url), 'utf8');
/** the example's devices only: routers and switches (hosts and networks are what import finds) */
const DEVICES = `${EXAMPLE.slice(0, EXAMPLE.indexOf('\nhosts:'))}\n`;
const deviceOf = (m: Model, name: string) => [...m.routers, ...m.switches].find((d): d is OpenWrtRouter => d.name === name && d.type === 'openwrt')!;
/** a network's access ports on sw1, as the draft's model has them (a network's accessPorts are its router's only) */
const onSwitch = (m: Model, network: string) => deviceOf(m, 'sw1').vlanPorts[network]?.untagged ?? [];
const liveOf = (sections: ExportedSection[], release = '23.05.5'): OpenWrtLive => ({ sections, release, hasUbus: true, staged: [] });

/** the router once flatnet applied the example: its sections (and the LAN's moved device) on top of the defaults */
function appliedRouter(m: Model): ExportedSection[] {
  const want = desiredState(m, deviceOf(m, 'edge'));
  const base = CONFIGS.flatMap((c) => parseUciExport(defaultOpenWrtConfig(c), c));
  for (const f of want.foreign) base.find((s) => s.config === f.config && s.name === f.section)?.options.set(f.option, f.value);
  return [...base, ...want.sections.map((s) => ({ config: s.config, type: s.type, name: s.name, options: new Map(s.options) }))];
}

/** sw1's network config as someone set it up by hand: anonymous bridge-vlans, the LAN on br-lan.1 */
const SWITCH_NETWORK = (extra = '') => `${defaultOpenWrtConfig('network').replace("option device 'br-lan'\n\toption proto 'static'\n\toption ipaddr '192.168.1.1'", "option device 'br-lan.1'\n\toption proto 'static'\n\toption ipaddr '192.168.1.2'")}
config bridge-vlan
\toption device 'br-lan'
\toption vlan '1'
\tlist ports 'lan1:u*'
\tlist ports 'lan2:u*'
\tlist ports 'lan3:u*'

config bridge-vlan
\toption device 'br-lan'
\toption vlan '200'
\tlist ports 'lan1:t'
\tlist ports 'lan3:t'

config bridge-vlan
\toption device 'br-lan'
\toption vlan '400'
\tlist ports 'lan1:t'
\tlist ports 'lan3:t'
\tlist ports 'lan4:u*'
${extra}`;

/** DEVICES has no host: nothing behind sw1 uses apps' VLAN 200 in the draft, so the draft says the cable would lose it */
const APPS_OFF_THE_CABLE = /^network apps: VLAN 200 is carried tagged on edge:lan2 today, where sw1 is cabled \(connected-to\), but no network of sw1 or behind it uses the VLAN in this draft/;
const others = (warnings: string[]) => warnings.filter((w) => !APPS_OFF_THE_CABLE.test(w));

const switchLive = (network: string) => liveOf(CONFIGS.flatMap((c) => parseUciExport(c === 'network' ? network : defaultOpenWrtConfig(c), c)));

describe('import: OpenWrt switches (pure: uci export text by hand)', () => {
  it('lan4:u* in bridge-vlan 400 is an access port of cams (sw1:lan4); the uplink, tagged ports and the LAN\'s bridge-vlan are not', async () => {
    const want = modelFromText(EXAMPLE);
    const lives: Record<string, OpenWrtLive> = { edge: liveOf(appliedRouter(want)), sw1: switchLive(SWITCH_NETWORK()) };
    const read: string[] = [];
    const result = await importFromText(DEVICES, 'devices.yaml', { readOpenWrt: async (d) => (read.push(d.name), lives[d.name]!) });
    expect(read.sort()).toEqual(['edge', 'sw1']);
    expect(result.report.warnings.filter((w) => APPS_OFF_THE_CABLE.test(w))).toHaveLength(1);
    expect(others(result.report.warnings)).toEqual([]);
    expect(result.code).toBe(0);
    const draft = modelFromText(result.draft, 'draft.yaml');
    expect(draft.networks.map((n) => [n.name, n.vlan, onSwitch(draft, n.name)])).toEqual([
      ['apps', 200, []],
      ['cams', 400, ['lan4']],
    ]);
    expect(result.draft).toMatch(/access-ports: \[sw1:lan4\] # from switch sw1 network\.@bridge-vlan\[2\] ports: untagged with PVID/);
    expect(result.draft).toMatch(/Read: router edge \(OpenWrt 23\.05\.5, 192\.168\.1\.1\); switch sw1 \(OpenWrt 23\.05\.5, 192\.168\.1\.2\)\./);
    expect(result.draft).not.toMatch(/not imported yet/);
  });

  it('a port in a VLAN no network of the router has: a note and a warning; untagged without PVID: a note; a switch that cannot be read: said', async () => {
    const want = modelFromText(EXAMPLE);
    const extra = `
config bridge-vlan 'cams_extra'
\toption device 'br-lan'
\toption vlan '999'
\tlist ports 'lan1:t'
\tlist ports 'lan2:u*'

config bridge-vlan
\toption device 'br-other'
\toption vlan '400'
\tlist ports 'lan3:u*'

config bridge-vlan
\toption device 'br-lan'
\toption vlan '400'
\tlist ports 'lan5:u'
`;
    const lives: Record<string, OpenWrtLive> = { edge: liveOf(appliedRouter(want)), sw1: switchLive(SWITCH_NETWORK(extra)) };
    const result = await importFromText(DEVICES, 'devices.yaml', { readOpenWrt: async (d) => lives[d.name]! });
    expect(others(result.report.warnings)).toEqual(['switch sw1: bridge-vlan ports untagged with PVID (:u*) in a VLAN that no network of router edge has, not imported: lan2 (bridge-vlan 999)']);
    expect(result.report.notes).toContain('switch sw1: ports untagged without PVID, not imported: lan5 (bridge-vlan 400)');
    expect(onSwitch(modelFromText(result.draft, 'draft.yaml'), 'cams')).toEqual(['lan4']);

    const failed = await importFromText(DEVICES, 'devices.yaml', {
      readOpenWrt: async (d) => {
        if (d.name === 'sw1') throw new Error('connection refused');
        return lives[d.name]!;
      },
    });
    expect(failed.code).toBe(1);
    // with sw1 unread, neither VLAN has anything behind edge:lan2 in the draft: both are said
    const offTheCable = (w: string) => / VLAN (200|400) is carried tagged on edge:lan2 today/.test(w);
    expect(failed.report.warnings.filter(offTheCable)).toHaveLength(2);
    expect(failed.report.warnings.filter((w) => !offTheCable(w))).toEqual(['switch sw1 could not be read: connection refused; its access ports are missing from this draft']);
    expect(onSwitch(modelFromText(failed.draft, 'draft.yaml'), 'cams')).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// on OpenWrt's real uci: what flatnet writes on both devices, made to look hand-made, imported back

describe.skipIf(uciUnavailable !== '')(`import: OpenWrt switch on real uci${uciUnavailable ? ` (skipped: ${uciUnavailable})` : ''}`, () => {
  let bench: ReturnType<typeof uciWorkbench> | undefined;
  beforeAll(() => {
    bench = uciWorkbench();
  }, 90_000);
  afterAll(() => bench?.cleanup());

  it('examples/openwrt-switched.yaml: the draft validates and cams has access-ports [sw1:lan4]', async () => {
    const want = modelFromText(EXAMPLE);
    const lives: Record<string, OpenWrtLive> = {};
    for (const name of ['edge', 'sw1']) {
      const d = bench!.device(name);
      const plan = planOpenWrt(want, deviceOf(want, name), d.read());
      expect(plan.problems).toEqual([]);
      d.apply(plan);
      expect(planOpenWrt(want, deviceOf(want, name), d.read()).changes).toEqual([]);
      d.handMade();
      lives[name] = { ...d.read(), release: '24.10.0' };
      expect(lives[name]!.sections.filter((s) => s.name?.startsWith('flatnet_'))).toEqual([]);
    }
    // the switch has the bridge-vlans only: its LAN's, apps' and cams' (with lan4 untagged, PVID)
    expect(lives.sw1!.sections.filter((s) => s.type === 'bridge-vlan').map((s) => [s.options.get('vlan'), s.options.get('ports')])).toEqual([
      ['1', 'lan1:u* lan2:u* lan3:u*'],
      ['200', 'lan3:t lan1:t'],
      ['400', 'lan3:t lan1:t lan4:u*'],
    ]);

    const result = await importFromText(DEVICES, 'devices.yaml', { readOpenWrt: async (d) => lives[d.name]! });
    expect(result.report.warnings.filter((w) => APPS_OFF_THE_CABLE.test(w))).toHaveLength(1);
    expect(others(result.report.warnings)).toEqual([]);
    expect(result.code).toBe(0);
    const draft = modelFromText(result.draft, 'draft.yaml');
    expect(draft.networks.map((n) => [n.name, n.vlan, n.ipv4.subnet])).toEqual(want.networks.map((n) => [n.name, n.vlan, n.ipv4.subnet]));
    expect(onSwitch(draft, 'cams')).toEqual(['lan4']);
    expect(result.draft).toMatch(/access-ports: \[sw1:lan4\] # from switch sw1 network\.cams_vlan ports: untagged with PVID/);
    expect(result.draft).toMatch(/switch sw1 \(OpenWrt 24\.10\.0, 192\.168\.1\.2\)/);

    // plan --adopt of the switch with the draft: nothing to refuse, its cams bridge-vlan taken over in place with
    // lan4 untagged; lan3 only loses its tag because the draft has no hosts (nas, on lan3, was not read here)
    const adopting = planOpenWrt(draft, deviceOf(draft, 'sw1'), lives.sw1!, { adopt: true });
    expect(adopting.problems).toEqual([]);
    expect(adopting.changes.find((c) => c.kind === 'network.flatnet_cams_vlan')!.props).toEqual([
      { key: 'section', from: 'network.cams_vlan', to: 'network.flatnet_cams_vlan' },
      { key: 'ports', from: 'lan3:t lan1:t lan4:u*', to: 'lan1:t lan4:u*' },
    ]);
  }, 60_000);
});
