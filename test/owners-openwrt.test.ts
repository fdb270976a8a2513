// Owners (issue 18 point 2) on OpenWrt, on the pure plan: every flatnet section records the spec's owner in
// `option flatnet_owner`; another owner's sections are never changed or removed; a network name or VLAN id they
// hold is a live problem at the network's spec path; a whole network removed is a warning with its VLAN; a
// changed owner (--from-owner) is option sets on the same sections.
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { modelFromText, type OpenWrtRouter } from '../src/index.js';
import { UCI_OWNER_OPTION } from '../src/ownership.js';
import { planOpenWrt } from '../targets/openwrt/diff.js';
import { desiredState } from '../targets/openwrt/index.js';
import { parseUciExport, type ExportedSection } from '../targets/openwrt/uci.js';
import { defaultOpenWrtConfig } from './fakes/openwrt-router.js';

const net = (vlan: number) => ({ router: 'edge', host: 'nas', vlan, subnet: `10.${vlan}.0.0/24`, gateway: `10.${vlan}.0.1`, 'container-range': `10.${vlan}.0.64/26` });
function model(networks: Record<string, number>, owner?: string, from?: string | null) {
  const m = modelFromText(
    stringify({
      version: 1,
      ...(owner ? { owner } : {}),
      routers: { edge: { type: 'openwrt', address: '192.168.1.1' } },
      hosts: { nas: { parent: 'enp3s0' } },
      networks: Object.fromEntries(Object.entries(networks).map(([n, v]) => [n, net(v)])),
    }),
  );
  if (from !== undefined) m.ownership = { ...m.ownership, from: from === null ? {} : { owner: from } };
  return m;
}
const routerOf = (m: ReturnType<typeof modelFromText>) => m.routers.find((r): r is OpenWrtRouter => r.type === 'openwrt')!;
const defaults = () => (['network', 'firewall', 'dhcp'] as const).flatMap((c) => parseUciExport(defaultOpenWrtConfig(c), c));
/** the router once the spec is applied: its desired sections on top of the defaults */
const applied = (m: ReturnType<typeof model>, base = defaults()): ExportedSection[] => [
  ...base,
  ...desiredState(m, routerOf(m)).sections.map((s) => ({ config: s.config, type: s.type, name: s.name, options: new Map(s.options) })),
];
const plan = (m: ReturnType<typeof model>, sections: ExportedSection[]) => planOpenWrt(m, routerOf(m), { sections, hasUbus: true, staged: [] });

describe('owners on OpenWrt', () => {
  const A = model({ media: 20, cams: 30 }, 'nas1');

  it('every section records the owner; a spec without owner writes none', () => {
    const sections = desiredState(A, routerOf(A)).sections;
    expect(sections.length).toBeGreaterThan(5);
    expect(sections.every((s) => s.options.some(([k, v]) => k === UCI_OWNER_OPTION && v === 'nas1'))).toBe(true);
    const none = model({ media: 20 });
    expect(desiredState(none, routerOf(none)).sections.some((s) => s.options.some(([k]) => k === UCI_OWNER_OPTION))).toBe(false);
  });

  it("a second owner adds its own sections and removes none of the first's; the first stays converged", () => {
    const live = applied(A);
    const B = model({ lab: 50 }, 'nas2');
    const p = plan(B, live);
    expect(p.problems).toEqual([]);
    expect(p.changes.length).toBeGreaterThan(0);
    expect(p.changes.filter((c) => c.action !== 'add')).toEqual([]);
    expect(p.changes.every((c) => c.kind.includes('flatnet_lab'))).toBe(true);
    expect(plan(A, applied(B, live)).changes).toEqual([]);
    // and a spec without owner sees neither
    expect(plan(model({}), applied(B, live)).changes).toEqual([]);
  });

  it("a network name or VLAN id another owner holds is refused at the network's path", () => {
    const live = applied(A);
    expect(plan(model({ cams: 60 }, 'nas2'), live).problems.map((x) => x.path)).toEqual([['networks', 'cams']]);
    // (its gateway, 10.30.0.1 as cams's, is on the other owner's interface too)
    const byVlan = plan(model({ other: 30 }, 'nas2'), live).problems;
    expect(byVlan.map((x) => x.path)).toEqual([['networks', 'other', 'vlan'], ['networks', 'other', 'gateway']]);
    expect(byVlan[0]!.message).toMatch(/^VLAN 30 is held by objects of owner "nas1"/);
    expect(plan(model({ cams: 30 }), live).problems[0]!.message).toContain('this spec has no owner');
  });

  it('removing a whole network warns with its VLAN and mentions owner:', () => {
    const p = plan(model({ media: 20 }, 'nas1'), applied(A));
    expect(p.changes.filter((c) => c.action === 'remove').every((c) => c.kind.includes('flatnet_cams'))).toBe(true);
    expect(p.warnings).toContain(
      'network cams (VLAN 30) is on the router but not in this spec: the plan removes it (its objects carry this spec\'s owner "nas1"); if another spec manages it, give each spec its own owner: (top level) so that neither removes the other\'s networks',
    );
  });

  it('a changed owner with --from-owner: the same sections, only flatnet_owner set', () => {
    const live = applied(A);
    expect(plan(model({ media: 20, cams: 30 }, 'nas3'), live).problems.length).toBe(2);
    const p = plan(model({ media: 20, cams: 30 }, 'nas3', 'nas1'), live);
    expect(p.problems).toEqual([]);
    expect(p.changes.length).toBe(desiredState(A, routerOf(A)).sections.length);
    expect(p.changes.every((c) => c.action === 'change' && c.props!.length === 1 && c.props![0]!.key === UCI_OWNER_OPTION && c.props![0]!.to === 'nas3')).toBe(true);
    const none = plan(model({ media: 20, cams: 30 }, undefined, 'nas1'), live);
    expect(none.changes.every((c) => c.action === 'change' && c.props![0]!.key === UCI_OWNER_OPTION && c.props![0]!.to === undefined)).toBe(true);
  });
});

describe('owners on OpenWrt: the LAN record (network.flatnet_state)', () => {
  function trunkModel(owner?: string, from?: string | null) {
    const m = modelFromText(
      stringify({
        version: 1,
        ...(owner ? { owner } : {}),
        routers: { edge: { type: 'openwrt', address: '192.168.1.1', 'trunk-ports': ['lan1'], 'lan-ports': ['lan1', 'lan2', 'lan3'], 'lan-interface': 'lan' } },
        hosts: { nas: { parent: 'enp3s0' } },
        networks: { media: net(20) },
      }),
    );
    if (from !== undefined) m.ownership = { ...m.ownership, from: from === null ? {} : { owner: from } };
    return m;
  }

  it('--from-owner relabels it in place with the other sections; then the plan is converged', () => {
    const A = trunkModel('nas1');
    const first = plan(A, defaults());
    expect(first.problems).toEqual([]);
    const stateAdd = first.changes.find((c) => c.kind === 'network.flatnet_state')!;
    expect(stateAdd.action).toBe('add');
    // the router once A's plan is applied: its sections, the LAN option set, the record with nas1
    const { foreign } = desiredState(A, routerOf(A));
    const live = applied(A).map((s) => (s.config === 'network' && s.name === 'lan' ? { ...s, options: new Map([...s.options, [foreign[0]!.option, foreign[0]!.value]]) } : s));
    live.push({ config: 'network', type: 'flatnet_state', name: 'flatnet_state', options: new Map([['flatnet_owner', 'nas1'], ['lan_interface', 'lan'], ['lan_device', 'br-lan'], ['lan_device_set', foreign[0]!.value]]) });
    expect(plan(A, live).changes).toEqual([]);
    const p = plan(trunkModel('nas3', 'nas1'), live);
    expect(p.problems).toEqual([]);
    expect(p.changes.every((c) => c.action === 'change' && c.props!.length === 1 && c.props![0]!.key === UCI_OWNER_OPTION && c.props![0]!.to === 'nas3')).toBe(true);
    expect(p.changes.find((c) => c.kind === 'network.flatnet_state')).toEqual({ action: 'change', kind: 'network.flatnet_state', name: 'flatnet_state', props: [{ key: UCI_OWNER_OPTION, from: 'nas1', to: 'nas3' }] });
    expect(p.batch.join('\n')).toContain("set network.flatnet_state.flatnet_owner='nas3'");
    // to no owner: the option goes
    const none = plan(trunkModel(undefined, 'nas1'), live);
    expect(none.changes.find((c) => c.kind === 'network.flatnet_state')!.props).toEqual([{ key: UCI_OWNER_OPTION, from: 'nas1' }]);
    expect(none.batch).toContain('delete network.flatnet_state.flatnet_owner');
  });
});

describe('two owners and VLAN filtering on one OpenWrt router', () => {
  it("the LAN's bridge-vlan is one owner's: the second spec with trunk-ports is refused, nothing of the first is changed", () => {
    const trunk = (owner: string, networks: Record<string, number>) =>
      modelFromText(
        stringify({
          version: 1,
          owner,
          routers: { edge: { type: 'openwrt', address: '192.168.1.1', 'trunk-ports': ['lan1'], 'lan-ports': ['lan1', 'lan2'], 'lan-interface': 'lan' } },
          hosts: { nas: { parent: 'enp3s0' } },
          networks: Object.fromEntries(Object.entries(networks).map(([n, v]) => [n, net(v)])),
        }),
      );
    const A = trunk('a', { media: 20 });
    const B = trunk('b', { cams: 30 });
    const afterA = applied(A);
    const p = plan(B, afterA);
    expect(p.batch).toEqual([]);
    expect(p.problems).toEqual([
      {
        path: ['routers', 'edge'],
        message: 'VLAN filtering on br-lan (its LAN\'s network.flatnet_lan_vlan) is set up by owner "a": two owners cannot both put ports of one OpenWrt router on VLANs (trunk-ports, access-ports or the path); give those ports to one spec, or plan with --from-owner a if this spec had that owner before',
      },
    ]);
    // the first owner's own plan is still converged on that router
    expect(plan(A, afterA).problems).toEqual([]);
  });
});
