// plan|apply --adopt on OpenWrt (issue 20 points 2 and 3): hand-made sections that are what the spec asks for are
// renamed to flatnet's names (`uci rename`, named and anonymous sections) and taken over (`= adopt`, flatnet_owner
// set when the spec has an owner; a value that differs: `~`). Without --adopt the network's hand-made interface is
// refused, naming --adopt. A section left that names a renamed interface or zone is refused, naming it.
// The round trip runs OpenWrt's real uci (built from ../shared/openwrt-uci): flatnet's batch applied to the
// defaults, its sections renamed to hand-made names, import, plan --adopt only adopts, apply, plan: no changes.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openwrtDraft } from './fakes/openwrt-draft.js';
import { modelFromText, type Model, type OpenWrtRouter } from '../src/index.js';
import { renderPlan } from '../src/plan/render.js';
import { ANONYMOUS_STAGED, CONFIGS, planOpenWrt, type OpenWrtLive } from '../targets/openwrt/diff.js';
import { parseUciExport } from '../targets/openwrt/uci.js';
import { defaultOpenWrtConfig, OpenWrtTestRouter, openwrtTestSupport } from './fakes/openwrt-router.js';
import { uciUnavailable, uciWorkbench } from './fakes/openwrt-uci-device.js';
import { OpenWrtUnit } from '../targets/openwrt/push.js';
import { LiveCheckError } from '../src/plan/types.js';

const routerOf = (m: Model) => m.routers.find((r): r is OpenWrtRouter => r.type === 'openwrt')!;
const liveOf = (texts: Record<string, string>): OpenWrtLive => ({ sections: CONFIGS.flatMap((c) => parseUciExport(texts[c] ?? defaultOpenWrtConfig(c), c)), hasUbus: true, staged: [] });

const SPEC = (extra = '') => `version: 1
${extra}routers:
  edge:
    type: openwrt
    address: 192.168.1.1
networks:
  iot:
    router: edge
    vlan: 30
    subnet: 10.30.0.0/24
    gateway: 10.30.0.1
    dhcp-pool: 10.30.0.100-10.30.0.199
    firewall:
      internet: true
      from: [lan]
      allow-input: [dns, dhcp]
`;

/** A hand-made iot network: 8021q device, interface network.iot, an anonymous zone "iot", forwardings, rules, dhcp.iot. */
const HANDMADE = {
  network: `${defaultOpenWrtConfig('network')}
config device 'iot_dev'
\toption type '8021q'
\toption ifname 'br-lan'
\toption vid '30'
\toption name 'br-lan.30'

config interface 'iot'
\toption proto 'static'
\toption device 'br-lan.30'
\toption ipaddr '10.30.0.1'
\toption netmask '255.255.255.0'
`,
  firewall: `${defaultOpenWrtConfig('firewall')}
config zone
\toption name 'fn_vlan30'
\tlist network 'iot'
\toption input 'REJECT'
\toption output 'ACCEPT'
\toption forward 'REJECT'

config forwarding
\toption src 'fn_vlan30'
\toption dest 'wan'

config forwarding
\toption src 'lan'
\toption dest 'fn_vlan30'

config rule
\toption name 'iot dns'
\toption src 'fn_vlan30'
\toption proto 'tcp udp'
\toption dest_port '53'
\toption target 'ACCEPT'

config rule
\toption name 'iot dhcp'
\toption src 'fn_vlan30'
\toption proto 'udp'
\toption dest_port '67'
\toption family 'ipv4'
\toption target 'ACCEPT'
`,
  dhcp: `${defaultOpenWrtConfig('dhcp')}
config dhcp 'iot'
\toption interface 'iot'
\toption start '100'
\toption limit '100'
\toption leasetime '1h'
`,
};

describe('plan --adopt: OpenWrt (pure)', () => {
  it('without --adopt the hand-made interface on br-lan.30 is refused, naming --adopt (not as an address clash)', () => {
    const m = modelFromText(SPEC());
    const plan = planOpenWrt(m, routerOf(m), liveOf(HANDMADE));
    expect(plan.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/^VLAN 30 already has interface network\.iot on br-lan\.30, not made by flatnet: plan --adopt \(then apply --adopt\) takes it over in place/),
    ]);
    expect(plan.problems[0]!.path).toEqual(['networks', 'iot', 'vlan']);
  });

  it('with --adopt: every section renamed to flatnet\'s, anonymous ones by index; only adopts; the batch renames first', () => {
    const m = modelFromText(SPEC());
    const plan = planOpenWrt(m, routerOf(m), liveOf(HANDMADE), { adopt: true });
    expect(plan.problems).toEqual([]);
    expect(plan.changes.map((c) => `${c.action} ${c.kind}`)).toEqual([
      'adopt network.flatnet_iot_dev',
      'adopt network.flatnet_iot',
      'change firewall.flatnet_iot', // the zone's network list names flatnet_iot now
      'adopt firewall.flatnet_iot_wan',
      'adopt firewall.flatnet_iot_from_lan',
      'adopt firewall.flatnet_iot_dns', // its name (a label) set to flatnet's
      'adopt firewall.flatnet_iot_dhcp',
      'change dhcp.flatnet_iot', // its interface names flatnet_iot now
    ]);
    expect(plan.changes.find((c) => c.kind === 'firewall.flatnet_iot')).toMatchObject({ name: 'firewall.@zone[2] name=fn_vlan30 network=iot input=REJECT forward=REJECT', note: 'made by hand, taken over in place', props: [{ key: 'section', from: 'firewall.@zone[2]', to: 'firewall.flatnet_iot' }, { key: 'network', from: 'iot', to: 'flatnet_iot' }] });
    expect(plan.batch).toContain('rename network.iot=flatnet_iot');
    expect(plan.batch).toContain("rename firewall.@zone[2]=flatnet_iot");
    expect(plan.batch).toContain("rename firewall.@rule[9]=flatnet_iot_dns");
    // the rule's label is flatnet's after the adoption
    expect(plan.batch).toContain("set firewall.flatnet_iot_dns.name='flatnet iot dns'");
    expect(plan.expectedStaged).toContain(`firewall.${ANONYMOUS_STAGED}='flatnet_iot'`);
    expect(plan.expectedStaged).toContain("network.iot='flatnet_iot'");
    const text = renderPlan([{ unit: { kind: 'router', name: 'edge', type: 'openwrt', endpoint: 'ssh' }, status: 'changes', plan: { unit: { kind: 'router', name: 'edge', type: 'openwrt', endpoint: 'ssh' }, changes: plan.changes, facts: [], warnings: [] } }], { file: 'spec.yaml', locate: () => undefined }, { color: false });
    expect(text).toMatch(/^ {2}= network\.flatnet_iot network\.iot proto=static device=br-lan\.30 ipaddr=10\.30\.0\.1 netmask=255\.255\.255\.0 {2}\(made by hand, taken over in place\)$/m);
    expect(text).toMatch(/6 to adopt/);
  });

  it('with owner: flatnet_owner set in each adopted section (still = adopt); a differing value is ~', () => {
    const m = modelFromText(SPEC('owner: nas1\n'));
    const live = liveOf({ ...HANDMADE, dhcp: HANDMADE.dhcp.replace("limit '100'", "limit '50'") });
    const plan = planOpenWrt(m, routerOf(m), live, { adopt: true });
    expect(plan.problems).toEqual([]);
    expect(plan.changes.find((c) => c.kind === 'network.flatnet_iot')).toMatchObject({ action: 'adopt', props: [{ key: 'section', from: 'network.iot', to: 'network.flatnet_iot' }, { key: 'flatnet_owner', to: 'nas1' }] });
    expect(plan.changes.find((c) => c.kind === 'dhcp.flatnet_iot')).toMatchObject({ action: 'change', props: expect.arrayContaining([{ key: 'limit', from: '50', to: '100' }]) });
    expect(plan.batch).toContain("set network.flatnet_iot.flatnet_owner='nas1'");
  });

  it("a section not adopted that names the renamed interface or zone is refused, naming it", () => {
    const m = modelFromText(SPEC());
    const firewall = HANDMADE.firewall.replaceAll("'fn_vlan30'", "'iot'") + "\nconfig redirect 'cam_web'\n\toption src 'wan'\n\toption dest 'iot'\n\toption dest_port '80'\n";
    const network = `${HANDMADE.network}\nconfig route\n\toption interface 'iot'\n\toption target '10.99.0.0/24'\n\toption gateway '10.30.0.9'\n`;
    const plan = planOpenWrt(m, routerOf(m), liveOf({ ...HANDMADE, firewall, network }), { adopt: true });
    expect(plan.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/^--adopt renames interface "iot" to "flatnet_iot", but network\.@route\[0\] \(not flatnet's\) names it in interface and would lose it/),
      expect.stringMatching(/^--adopt renames zone "iot" to "fn_vlan30", but firewall\.cam_web \(not flatnet's\) names it in dest/),
    ]);
  });

  it('a zone named by hand: renamed to flatnet\'s zone name (~), its forwardings and rules follow in the same batch', () => {
    const m = modelFromText(SPEC());
    const firewall = HANDMADE.firewall.replaceAll("'fn_vlan30'", "'iot'");
    const plan = planOpenWrt(m, routerOf(m), liveOf({ ...HANDMADE, firewall }), { adopt: true });
    expect(plan.problems).toEqual([]);
    expect(plan.changes.find((c) => c.kind === 'firewall.flatnet_iot')!.props).toEqual([{ key: 'section', from: 'firewall.@zone[2]', to: 'firewall.flatnet_iot' }, { key: 'name', from: 'iot', to: 'fn_vlan30' }, { key: 'network', from: 'iot', to: 'flatnet_iot' }]);
    expect(plan.changes.find((c) => c.kind === 'firewall.flatnet_iot_wan')).toMatchObject({ action: 'change', props: [{ key: 'section' }, { key: 'src', from: 'iot', to: 'fn_vlan30' }] });
    expect(plan.changes.find((c) => c.kind === 'firewall.flatnet_iot_dns')).toMatchObject({ action: 'change' });
    expect(plan.changes.filter((c) => c.action === 'add')).toEqual([]);
  });

  it('a zone that covers another interface too is not adopted: it names the renamed interface, refused', () => {
    const m = modelFromText(SPEC());
    const firewall = HANDMADE.firewall.replace("\tlist network 'iot'\n", "\tlist network 'iot'\n\tlist network 'guest'\n");
    const plan = planOpenWrt(m, routerOf(m), liveOf({ ...HANDMADE, firewall }), { adopt: true });
    expect(plan.problems.map((p) => p.message)).toEqual([expect.stringMatching(/^--adopt renames interface "iot" to "flatnet_iot", but firewall\.@zone\[2\] \(not flatnet's\) names it in network/)]);
  });

  it('a rule that only nearly matches stays the user\'s', () => {
    const m = modelFromText(SPEC());
    const firewall = HANDMADE.firewall.replace("\toption dest_port '53'\n", "\toption dest_port '5353'\n");
    const plan = planOpenWrt(m, routerOf(m), liveOf({ ...HANDMADE, firewall }), { adopt: true });
    expect(plan.changes.find((c) => c.kind === 'firewall.flatnet_iot_dns')).toMatchObject({ action: 'add' });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// the round trip on OpenWrt's real uci

describe.skipIf(uciUnavailable !== '')(`plan --adopt: OpenWrt round trip on real uci${uciUnavailable ? ` (skipped: ${uciUnavailable})` : ''}`, () => {
  let bench: ReturnType<typeof uciWorkbench> | undefined;
  beforeAll(() => {
    bench = uciWorkbench();
  }, 90_000);
  afterAll(() => bench?.cleanup());
  const device = (name: string) => bench!.device(name);

  for (const example of ['openwrt-vlan.yaml', 'openwrt-trunk.yaml']) {
    it(`${example}: import the hand-made setup, plan --adopt only adopts, apply, plan: no changes`, () => {
      const specText = readFileSync(new URL(`../examples/${example}`, import.meta.url), 'utf8');
      const { read, apply, handMade } = device(example.replace('.yaml', ''));
      const want = modelFromText(specText);
      const first = planOpenWrt(want, routerOf(want), read());
      expect(first.problems).toEqual([]);
      apply(first);
      expect(planOpenWrt(want, routerOf(want), read()).changes).toEqual([]);
      handMade();
      const live = read();
      expect(live.sections.filter((s) => s.name?.startsWith('flatnet_'))).toEqual([]);

      // import: the draft validates and has the networks back
      const devices = `${specText.slice(0, specText.indexOf('\nhosts:'))}\n`;
      const { model: draft } = openwrtDraft(devices, live);
      expect(draft.networks.map((n) => n.vlan)).toEqual(want.networks.map((n) => n.vlan));
      expect(draft.networks.map((n) => n.ipv6)).toEqual(want.networks.map((n) => n.ipv6));

      // without --adopt: refused, naming it
      const refused = planOpenWrt(draft, routerOf(draft), live);
      expect(refused.problems.length).toBeGreaterThan(0);
      expect(refused.problems.every((p) => p.message.includes('plan --adopt'))).toBe(true);

      // plan --adopt with the draft, and with the example itself (the draft has its ip6addr as ipv6): nothing
      // but adoptions and, in the same sections, the references to the renamed interfaces (the zones' network
      // lists, dhcp's interface)
      const allowed = /^(network|interface) \w+ -> flatnet_\w+$/;
      for (const spec of [draft, want]) {
        const adopting = planOpenWrt(spec, routerOf(spec), live, { adopt: true });
        expect(adopting.problems).toEqual([]);
        expect(adopting.changes.filter((c) => c.action === 'adopt').length).toBeGreaterThan(0);
        // with trunk-ports: the record of the LAN's device (as generate writes it), since its bridge-vlan is adopted
        const state = adopting.changes.filter((c) => c.kind === 'network.flatnet_state');
        expect(state.map((c) => c.action)).toEqual(routerOf(spec).trunkPorts.length > 0 ? ['add'] : []);
        for (const c of adopting.changes.filter((x) => x.kind !== 'network.flatnet_state')) {
          expect(c.action === 'adopt' || c.action === 'change').toBe(true);
          expect(c.props![0]).toMatchObject({ key: 'section' });
          for (const p of c.props!.slice(1)) expect(`${p.key} ${p.from} -> ${p.to}`).toMatch(allowed);
        }
      }
      apply(planOpenWrt(want, routerOf(want), live, { adopt: true }));
      const after = read();
      expect(planOpenWrt(want, routerOf(want), after).changes).toEqual([]);
      expect(after.sections.filter((x) => x.name?.startsWith('flatnet_')).length).toBe(first.changes.filter((c) => c.action === 'add').length);
      expect(after.sections.find((x) => x.name === 'flatnet_state')?.options.get('lan_device')).toBe(routerOf(want).trunkPorts.length > 0 ? 'br-lan' : undefined);
    });
  }
});

// ---------------------------------------------------------------------------------------------------------------
// over SSH: the test router (real uci behind real sshd), through the CLI's OpenWrtUnit: the apply's check of the
// staged lines takes the anonymous sections' renames (uci stages them under a cfgXXXXXX id it makes up)

const support = openwrtTestSupport();
describe.skipIf(!support.ok)(`plan --adopt: OpenWrt over SSH${support.ok ? '' : ` (skipped: ${support.reason})`}`, () => {
  it('the hand-made iot network: refused without --adopt; adopted, applied and confirmed with it; then no changes', async () => {
    const extra = (c: 'network' | 'firewall' | 'dhcp') => HANDMADE[c].slice(defaultOpenWrtConfig(c).length);
    const r = await OpenWrtTestRouter.start({ extraConfig: { network: extra('network'), firewall: extra('firewall'), dhcp: extra('dhcp') } });
    try {
      const text = SPEC('owner: nas1\n').replace('    address: 192.168.1.1\n', `    address: 127.0.0.1\n    port: ${r.port}\n    user: ${r.user}\n    key-file: ${r.clientKeyFile}\n    host-key: "${r.hostKeyFingerprint}"\n`);
      const model = modelFromText(text);
      const run = async (adopt: boolean) => {
        const unit = new OpenWrtUnit(model, routerOf(model), { remoteRoot: r.root, env: {}, confirmTimeoutS: 20, ...(adopt ? { adopt: true } : {}) });
        try {
          const plan = await unit.plan(() => {});
          if (adopt && plan.changes.length > 0) await unit.apply(() => {});
          return plan.changes;
        } finally {
          unit.close();
        }
      };
      const refused = await run(false).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(LiveCheckError);
      expect((refused as LiveCheckError).problems.map((p) => p.message).join('\n')).toContain('plan --adopt');
      const adopted = await run(true);
      expect(adopted.filter((c) => c.action === 'adopt').length).toBe(6);
      const show = r.uci(['show', 'firewall']);
      expect(show).toContain("firewall.flatnet_iot=zone");
      expect(show).toContain("firewall.flatnet_iot.flatnet_owner='nas1'");
      expect(show).toContain("firewall.flatnet_iot.network='flatnet_iot'");
      expect(r.uci(['show', 'network'])).toContain("network.flatnet_iot.device='br-lan.30'");
      expect(r.uci(['show', 'network'])).not.toContain('network.iot=');
      expect(await run(false)).toEqual([]);
    } finally {
      await r.stop();
    }
  }, 60_000);
});
