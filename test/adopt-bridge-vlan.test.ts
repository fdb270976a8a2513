// A hand-made bridge VLAN entry (not flatnet's, not dynamic) on the device's bridge that holds a VLAN flatnet
// would add an entry for: without --adopt a live problem naming plan --adopt (not a second entry for the VLAN);
// with it, one of exactly that VLAN is taken over in place. An entry that holds other VLANs too cannot be taken
// over: refused with or without --adopt, saying what to do. One code path for routers and switches (a switch has
// no VLAN interface whose refusal would come first). Pure diff tests, then the switch against the fake RouterOS;
// then OpenWrt, where a switch's hand-made bridge-vlan of a network, and of the untagged LAN, are refused alike.
import { afterEach, describe, expect, it } from 'vitest';
import { LiveCheckError } from '../src/plan/types.js';
import { planRouter, vlanIdsWithout, type LiveState, type Row } from '../targets/routeros/diff.js';
import { MENU_ORDER, type RosMenu } from '../targets/routeros/index.js';
import { RouterOSUnit } from '../targets/routeros/push.js';
import type { FakeRouterOS } from './fakes/routeros-fake.js';
import { startSwitch, switchedModel, type RouterOSDevice, type SwitchedSpec } from './fakes/routeros-switched.js';
import { stringify } from 'yaml';
import { modelFromText, type Model, type OpenWrtRouter } from '../src/index.js';
import { planOpenWrt, type OpenWrtLive } from '../targets/openwrt/diff.js';
import { parseUciExport } from '../targets/openwrt/uci.js';
import { defaultOpenWrtConfig } from './fakes/openwrt-router.js';

const PASSWORD = 'bridge-vlan';
const SPEC: SwitchedSpec = { corePort: 8728, swPort: 8729, nets: { media: { vlan: 20, third: 20 }, cams: { vlan: 30, third: 30, access: ['sw1:ether7'] } } };

/** A device's live state: ether1..ether8 ports of "bridge" (pvid 1), VLAN filtering on, these bridge VLAN entries. */
function live(entries: Row[]): LiveState {
  const menus = Object.fromEntries(MENU_ORDER.map((m) => [m, [] as Row[]])) as Record<RosMenu, Row[]>;
  menus['/interface/bridge/vlan'] = entries;
  const names = Array.from({ length: 8 }, (_, i) => `ether${i + 1}`);
  return {
    menus,
    interfaces: [{ '.id': '*10', name: 'bridge', type: 'bridge' }, ...names.map((name, i) => ({ '.id': `*${i + 1}`, name, type: 'ether' }))],
    interfaceLists: [{ name: 'WAN' }, { name: 'LAN' }],
    listMembers: [],
    bridges: [{ '.id': '*10', name: 'bridge', 'vlan-filtering': 'true' }],
    bridgePorts: names.map((name, i) => ({ '.id': `*${i + 1}`, bridge: 'bridge', interface: name, pvid: '1', 'frame-types': 'admit-all', dynamic: 'false' })),
    version: '7.16.2 (stable)',
  };
}

const entry = (over: Row): Row => ({ '.id': '*E1', bridge: 'bridge', tagged: 'ether1,ether5', disabled: 'false', dynamic: 'false', ...over });
const bridgeProblems = (plan: { problems: Array<{ path: Array<string | number>; message: string }> }) => plan.problems.filter((p) => p.message.includes('bridge VLAN entry'));

describe('a hand-made bridge VLAN entry for a VLAN flatnet adds one for: pure diff', () => {
  const { model, core, sw1 } = switchedModel(SPEC);

  it('switch, exactly the VLAN: refused without --adopt, naming it; no second entry planned', () => {
    const plan = planRouter(model, sw1, live([entry({ 'vlan-ids': '20' })]));
    expect(plan.problems).toEqual([
      {
        path: ['networks', 'media', 'vlan'],
        message: "VLAN 20 already has bridge VLAN entry *E1 (vlan-ids=20 on bridge, tagged ether1,ether5), not created by flatnet: plan --adopt (then apply --adopt) takes it over in place, its ports set to the spec's; or remove it, or choose another vlan",
      },
    ]);
    expect(plan.changes).toEqual([]);
    expect(plan.ops).toEqual([]);
  });

  it('switch, exactly the VLAN, with --adopt: taken over in place (= adopt), the other network added', () => {
    const plan = planRouter(model, sw1, live([entry({ 'vlan-ids': '20' })]), { adopt: true });
    expect(plan.problems).toEqual([]);
    expect(plan.changes.map((c) => [c.action, c.kind, c.network])).toEqual([
      ['adopt', '/interface/bridge/vlan', 'media'],
      ['add', '/interface/bridge/vlan', 'cams'],
      ['change', '/interface/bridge/port', 'cams'],
    ]);
    expect(plan.ops.filter((o) => o.op.op === 'add').map((o) => 'props' in o.op && Object.fromEntries(o.op.props)['vlan-ids'])).toEqual(['30']);
  });

  it('router: the same refusal for an entry made by hand without a VLAN interface', () => {
    const plan = planRouter(model, core, live([entry({ 'vlan-ids': '30', tagged: 'bridge,ether2' })]));
    expect(bridgeProblems(plan)).toEqual([{ path: ['networks', 'cams', 'vlan'], message: expect.stringMatching(/^VLAN 30 already has bridge VLAN entry \*E1 \(vlan-ids=30 on bridge, tagged bridge,ether2\), not created by flatnet: plan --adopt/) }]);
    expect(planRouter(model, core, live([entry({ 'vlan-ids': '30', tagged: 'bridge,ether2' })]), { adopt: true }).problems).toEqual([]);
  });

  it('an entry with other VLANs too: refused with or without --adopt, saying what to do', () => {
    for (const adopt of [false, true]) {
      const plan = planRouter(model, sw1, live([entry({ 'vlan-ids': '10,15-25' })]), { adopt });
      expect(plan.problems).toEqual([
        {
          path: ['networks', 'media', 'vlan'],
          message:
            'VLAN 20 is in bridge VLAN entry *E1 (vlan-ids=10,15-25 on bridge, tagged ether1,ether5), not created by flatnet, as one of several VLANs: flatnet would add a second entry for VLAN 20, and --adopt takes over only an entry of exactly vlan-ids=20; ' +
            'take 20 out of it (/interface/bridge/vlan/set *E1 vlan-ids=10,15-19,21-25): flatnet then adds an entry of its own (or add one of vlan-ids=20 by hand for plan --adopt to take over); or choose another vlan',
        },
      ]);
    }
    // one entry holding both networks' VLANs: one problem per network, one advice for the entry (not one that undoes the other)
    const both = planRouter(model, sw1, live([entry({ 'vlan-ids': '10,20,30' })])).problems;
    expect(both.map((p) => p.path.join('.'))).toEqual(['networks.media.vlan', 'networks.cams.vlan']);
    for (const p of both) expect(p.message).toContain('take 20, 30 out of it (/interface/bridge/vlan/set *E1 vlan-ids=10): flatnet then adds entries of its own');
    expect(planRouter(model, sw1, live([entry({ 'vlan-ids': '20,30' })])).problems.map((p) => p.message.replace(/^.*; (split it[^;]*);.*$/, '$1'))).toEqual(Array(2).fill('split it into entries of one VLAN each (20, 30) for plan --adopt to take over, or remove it'));
  });

  it("not refused: another VLAN, a dynamic entry, another bridge's, flatnet's own, or a network flatnet already has its entry for", () => {
    const quiet = [entry({ 'vlan-ids': '40' }), entry({ '.id': '*D', 'vlan-ids': '20', dynamic: 'true' }), entry({ '.id': '*O', 'vlan-ids': '20', bridge: 'bridge2' })];
    expect(planRouter(model, sw1, live(quiet)).problems).toEqual([]);
    const ours = [entry({ '.id': '*F1', 'vlan-ids': '20', tagged: 'ether5,ether1', comment: 'flatnet:media' }), entry({ '.id': '*H', 'vlan-ids': '20' })];
    expect(planRouter(model, sw1, live(ours)).problems).toEqual([]);
    // ... but said: the user's entry carries the VLAN on its ports too
    expect(planRouter(model, sw1, live(ours)).warnings.filter((w) => w.startsWith('bridge VLAN entry *H'))).toEqual([
      "bridge VLAN entry *H (vlan-ids=20, not flatnet's) holds VLAN 20 of media beside flatnet's own entry for it: the ports it lists carry the VLAN too, whatever the spec says; remove it if it is not meant (/interface/bridge/vlan/remove *H)",
    ]);
    // flatnet's entry of a network the spec now calls otherwise (same VLAN) beside a user's trunk entry: replaced, not refused
    const renamed = [entry({ '.id': '*F1', 'vlan-ids': '20', tagged: 'ether5,ether1', comment: 'flatnet:video' }), entry({ '.id': '*T', 'vlan-ids': '10,20,30' })];
    expect(planRouter(model, sw1, live(renamed)).problems.filter((p) => p.path.join('.') === 'networks.media.vlan')).toEqual([]);
  });

  it('vlan-ids without one VLAN', () => {
    expect(vlanIdsWithout('20', 20)).toBe('');
    expect(vlanIdsWithout('10,20-30', 25)).toBe('10,20-24,26-30');
    expect(vlanIdsWithout('20-30', 20)).toBe('21-30');
    expect(vlanIdsWithout('20-21', 21)).toBe('20');
    expect(vlanIdsWithout('10,20', 30)).toBe('10,20');
  });
});

// ---- the switch against the fake RouterOS API server -----------------------------------------------------

const fakes: FakeRouterOS[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

async function plan(model: Model, device: RouterOSDevice, options: { adopt?: boolean; apply?: boolean } = {}) {
  const unit = new RouterOSUnit(model, device, { env: { P: PASSWORD }, confirmTimeoutS: 0, ...(options.adopt ? { adopt: true } : {}) });
  try {
    const p = await unit.plan(() => {});
    if (options.apply && p.changes.length > 0) await unit.apply(() => {});
    return p;
  } finally {
    unit.close();
  }
}

describe('a hand-made bridge VLAN entry on a RouterOS switch: against the fake', () => {
  it('refused without --adopt (nothing changed), adopted in place with it (its id kept, no second entry), then no changes', async () => {
    const { fake, port } = await startSwitch({ password: PASSWORD });
    fakes.push(fake);
    const id = fake.addRow('/interface/bridge/vlan', { bridge: 'bridge', 'vlan-ids': '20', tagged: 'ether1,ether5', comment: 'media trunk' });
    const { model, sw1 } = switchedModel({ ...SPEC, swPort: port });

    const refused = await plan(model, sw1, { apply: true }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LiveCheckError);
    expect((refused as LiveCheckError).problems).toEqual([{ path: ['networks', 'media', 'vlan'], message: expect.stringMatching(/^VLAN 20 already has bridge VLAN entry \S+ \(vlan-ids=20 on bridge, tagged ether1,ether5\), not created by flatnet: plan --adopt \(then apply --adopt\)/) }]);
    expect(fake.rows('/interface/bridge/vlan').map((e) => e['vlan-ids'])).toEqual(['20']);

    const adopting = await plan(model, sw1, { adopt: true, apply: true });
    expect(adopting.changes.find((c) => c.network === 'media')).toMatchObject({ action: 'adopt', kind: '/interface/bridge/vlan', props: [{ key: 'comment', from: 'media trunk', to: 'flatnet:media' }] });
    const entries = fake.rows('/interface/bridge/vlan');
    expect(entries.map((e) => [e['vlan-ids'], e.comment])).toEqual([
      ['20', 'flatnet:media'],
      ['30', 'flatnet:cams; was-pvid ether7=1'],
    ]);
    expect(entries[0]!['.id']).toBe(id);
    expect((await plan(model, sw1)).changes).toEqual([]);
  });

  it('an entry holding a range of VLANs: refused with --adopt too, nothing changed', async () => {
    const { fake, port } = await startSwitch({ password: PASSWORD });
    fakes.push(fake);
    fake.addRow('/interface/bridge/vlan', { bridge: 'bridge', 'vlan-ids': '20-29', tagged: 'ether1' });
    const { model, sw1 } = switchedModel({ ...SPEC, swPort: port });
    for (const adopt of [false, true]) {
      const refused = await plan(model, sw1, { adopt, apply: true }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(LiveCheckError);
      expect((refused as LiveCheckError).problems.map((p) => p.message)).toEqual([expect.stringMatching(/^VLAN 20 is in bridge VLAN entry \S+ \(vlan-ids=20-29 on bridge, tagged ether1\).* vlan-ids=21-29\)/)]);
    }
    expect(fake.rows('/interface/bridge/vlan').map((e) => e['vlan-ids'])).toEqual(['20-29']);
  });
});

// ---- OpenWrt: a hand-made bridge-vlan of a network, or of the untagged LAN ---------------------------------

describe('a hand-made bridge-vlan on an OpenWrt switch: pure diff', () => {
  const model = modelFromText(
    stringify({
      version: 1,
      routers: { edge: { type: 'openwrt', address: '192.168.1.1' } },
      switches: { sw1: { type: 'openwrt', address: '192.168.1.2', uplink: 'lan1', 'connected-to': 'edge:lan2' } },
      hosts: { nas: { parent: 'eth0', 'connected-to': 'sw1:lan3' } },
      networks: { apps: { router: 'edge', host: 'nas', vlan: 200, subnet: '192.168.200.0/24', gateway: '192.168.200.1', 'container-range': '192.168.200.192/27' } },
    }),
  );
  const sw1 = model.switches[0] as OpenWrtRouter;
  const liveWith = (extra: string): OpenWrtLive => ({
    sections: (['network', 'firewall', 'dhcp'] as const).flatMap((c) => parseUciExport(c === 'network' ? `${defaultOpenWrtConfig(c)}${extra}` : defaultOpenWrtConfig(c), c)),
    hasUbus: true,
    staged: [],
  });
  const bridgeVlan = (name: string, vlan: number, ports: string[]) => `\nconfig bridge-vlan '${name}'\n\toption device 'br-lan'\n\toption vlan '${vlan}'\n${ports.map((p) => `\tlist ports '${p}'\n`).join('')}`;
  const lanPorts = ['lan1:u*', 'lan2:u*', 'lan3:u*', 'lan4:u*'];

  it("the network's VLAN: refused without --adopt, naming it; adopted with it", () => {
    const live = liveWith(bridgeVlan('v200', 200, ['lan3:t', 'lan1:t']));
    expect(planOpenWrt(model, sw1, live).problems).toEqual([{ path: ['networks', 'apps', 'vlan'], message: expect.stringMatching(/^VLAN 200 already has network\.v200 \(bridge-vlan 200 on br-lan\), not made by flatnet: plan --adopt/) }]);
    const adopting = planOpenWrt(model, sw1, live, { adopt: true });
    expect(adopting.problems).toEqual([]);
    expect(adopting.changes.find((c) => c.kind === 'network.flatnet_apps_vlan')).toMatchObject({ action: 'adopt', props: [{ key: 'section', from: 'network.v200', to: 'network.flatnet_apps_vlan' }] });
    expect(adopting.changes.filter((c) => c.action === 'add' && c.name.startsWith('bridge-vlan')).map((c) => c.kind)).toEqual(['network.flatnet_lan_vlan']);
  });

  it("the untagged LAN's VLAN: refused without --adopt (not a second bridge-vlan 1), naming it; adopted with it", () => {
    const live = liveWith(bridgeVlan('lanv', 1, lanPorts));
    const plan = planOpenWrt(model, sw1, live);
    expect(plan.problems).toEqual([
      {
        path: ['switches', 'sw1', 'lan-vlan'],
        message: "the untagged LAN's VLAN 1 already has network.lanv (bridge-vlan 1 on br-lan), not made by flatnet: plan --adopt (then apply --adopt) takes it over in place, renamed to flatnet_lan_vlan, its ports set to the LAN's; without it flatnet would add a second bridge-vlan for VLAN 1",
      },
    ]);
    expect(plan.changes).toEqual([]);
    const adopting = planOpenWrt(model, sw1, live, { adopt: true });
    expect(adopting.problems).toEqual([]);
    expect(adopting.changes.find((c) => c.kind === 'network.flatnet_lan_vlan')).toMatchObject({ action: 'adopt', props: [{ key: 'section', from: 'network.lanv', to: 'network.flatnet_lan_vlan' }] });
    expect(adopting.changes.filter((c) => c.action === 'add' && c.name.startsWith('bridge-vlan')).map((c) => c.kind)).toEqual(['network.flatnet_apps_vlan']);
  });

  it("not refused: another VLAN's bridge-vlan, or the LAN's when flatnet has its own already", () => {
    expect(planOpenWrt(model, sw1, liveWith(bridgeVlan('v300', 300, ['lan4:t']))).problems).toEqual([]);
    const ours = `${bridgeVlan('flatnet_lan_vlan', 1, lanPorts)}${bridgeVlan('lanv', 1, ['lan4:u*'])}`;
    expect(planOpenWrt(model, sw1, liveWith(ours)).problems.filter((p) => p.path.includes('lan-vlan'))).toEqual([]);
  });
});
