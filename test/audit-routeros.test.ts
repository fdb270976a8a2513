// The audit on RouterOS: flows of the spec against the live firewall as a whole. The live state is the fake
// router after a real apply (its RouterOS default config plus flatnet's rules, placed by the plan engine), then
// hand-edited the way users break isolation: a foreign accept above the drop, a jump into a user chain, a
// flatnet VLAN added to the LAN list, a disabled drop, an address-list rule, a harmless foreign rule.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelFromText, type Model } from '../src/index.js';
import type { RouterOSRouter } from '../src/model.js';
import { isFinding, renderFlowTable, toFinding, type FlowResult } from '../src/audit/findings.js';
import { flowsOf, specFlows } from '../src/audit/flows.js';
import { auditRouterOS, type RosFirewallState, type Row } from '../targets/routeros/audit.js';
import { FakeRouterOS } from './fakes/routeros-fake.js';
import { planRouterOS } from './fakes/routeros-harness.js';

function specText(port: number): string {
  return `version: 1
routers:
  core:
    type: routeros
    address: 127.0.0.1
    port: ${port}
    password-env: P
hosts:
  nas:
    parent: eth0
networks:
  media:
    router: core
    host: nas
    vlan: 20
    subnet: 10.20.0.0/24
    gateway: 10.20.0.1
    container-range: 10.20.0.64/26
    ipv6:
      subnet: fd00:20::/64
      gateway: fd00:20::1
      container-range: fd00:20::1000/116
    firewall:
      from: [lan]
      to: [cams]
      allow-input: [dns, icmp]
  cams:
    router: core
    host: nas
    vlan: 30
    subnet: 10.30.0.0/24
    gateway: 10.30.0.1
    container-range: 10.30.0.64/26
    firewall:
      internet: false
      from: [lan]
      allow-input: [dns]
`;
}

let fake: FakeRouterOS;
let model: Model;
let router: RouterOSRouter;
let applied: RosFirewallState;

beforeAll(async () => {
  fake = new FakeRouterOS({ password: 'pw' });
  fake.seedDefaults();
  const port = await fake.start();
  const text = specText(port);
  await planRouterOS(text, 'pw');
  model = modelFromText(text);
  router = model.routers[0] as RouterOSRouter;
  applied = {
    filter4: fake.rows('/ip/firewall/filter'),
    filter6: fake.rows('/ipv6/firewall/filter'),
    members: fake.rows('/interface/list/member'),
    interfaces: fake.rows('/interface'),
  };
});
afterAll(() => fake.stop());

const copy = (s: RosFirewallState): RosFirewallState => ({ filter4: s.filter4.map((r) => ({ ...r })), filter6: s.filter6.map((r) => ({ ...r })), members: s.members.map((r) => ({ ...r })), interfaces: s.interfaces });
const findings = (state: RosFirewallState) => auditRouterOS(model, router, state).filter(isFinding);
const byFlow = (results: FlowResult[], label: string) => results.find((r) => r.flow.label === label)!;
/** index of flatnet's first rule of a chain in the print */
const firstOwned = (rows: Row[], chain: string) => rows.findIndex((r) => r.chain === chain && (r.comment ?? '').startsWith('flatnet:'));

describe('RouterOS audit', () => {
  it('the spec decides these flows (the table of media)', () => {
    const labels = flowsOf(specFlows(model, router), 'media').filter((f) => f.family === 4).map((f) => `${f.label}: ${f.expected}`);
    expect(labels).toEqual([
      'media → internet: accept',
      'media → lan: drop',
      'lan → media: accept',
      'media → cams: accept',
      'media → router dns (udp/53): accept',
      'media → router dns (tcp/53): accept',
      'media → router icmp (icmp): accept',
      'media → router ssh (tcp/22): drop',
      'cams → media: drop',
    ]);
  });

  it('after apply, every flow of the live firewall agrees with the spec (IPv4 and IPv6)', () => {
    const results = auditRouterOS(model, router, applied);
    expect(results.length).toBeGreaterThan(20);
    expect(results.filter(isFinding).map((r) => toFinding(r).message)).toEqual([]);
    // the deciding rules are flatnet's own, or the router's drop of WAN traffic for the internet side
    const internet = byFlow(results, 'media → internet');
    expect(internet.live).toBe('accept');
    expect(internet.rule?.owned).toBe(true);
    expect(internet.rule?.text).toBe('accept in-interface=vlan20-media out-interface-list=WAN');
  });

  it('a foreign accept above the drop is a finding naming that rule', () => {
    const s = copy(applied);
    s.filter4.splice(firstOwned(s.filter4, 'forward'), 0, { '.id': '*F0', chain: 'forward', action: 'accept', 'in-interface': 'vlan30-cams', comment: 'temp: debug cams' });
    const found = findings(s).map(toFinding);
    expect(found.map((f) => f.flow)).toEqual(['cams → internet', 'cams → lan', 'cams → media']);
    const f = found[0]!;
    expect(f.live).toBe('accept');
    expect(f.rule).toMatchObject({ id: '*F0', chain: 'forward', comment: 'temp: debug cams', owned: false });
    expect(f.message).toMatch(/^cams: cams → internet is accepted live but the spec says drop \(firewall\.internet: false\); decided by foreign rule #\d+ \*F0 in forward \(accept in-interface=vlan30-cams\) "temp: debug cams": remove or narrow that rule/);
  });

  it('a jump into a user chain that accepts is followed; one that returns is harmless', () => {
    const s = copy(applied);
    s.filter4.splice(firstOwned(s.filter4, 'forward'), 0, { '.id': '*F1', chain: 'forward', action: 'jump', 'jump-target': 'lab', 'in-interface': 'vlan30-cams' });
    s.filter4.push({ '.id': '*F2', chain: 'lab', action: 'log', 'log-prefix': 'lab' }, { '.id': '*F3', chain: 'lab', action: 'accept', 'out-interface': 'vlan20-media' });
    const found = findings(s);
    expect(found.map((r) => [r.flow.label, r.live, r.rule?.id, r.rule?.chain])).toEqual([['cams → media', 'accept', '*F3', 'lab']]);
    // the same chain ending in a return: nothing changes
    s.filter4[s.filter4.length - 1] = { '.id': '*F3', chain: 'lab', action: 'return' };
    expect(findings(s)).toEqual([]);
  });

  it('a flatnet VLAN in the LAN list changes every rule that names the list', () => {
    const s = copy(applied);
    s.members.push({ '.id': '*M9', list: 'LAN', interface: 'vlan30-cams' });
    const found = findings(s);
    // "lan → media" is allowed, and cams is LAN now: cams reaches media through the accept for the LAN
    expect(found.map((r) => [r.flow.label, r.live, r.rule?.owned])).toEqual([['cams → media', 'accept', true]]);
    expect(found[0]!.rule?.text).toBe('accept in-interface-list=LAN out-interface=vlan20-media');
    // the advice is to take the VLAN out of the list, not to re-apply flatnet's (correct) rule
    expect(toFinding(found[0]!).advice).toBe('vlan30-cams (network cams) is a member of interface list LAN, so rules meant for it decide the flatnet network\'s traffic too: take it out');
  });

  it('a disabled drop lets the flow reach the end of the chain', () => {
    const s = copy(applied);
    for (const r of s.filter4) if (r.chain === 'forward' && r.action === 'drop' && r['in-interface'] === 'vlan30-cams') r.disabled = 'true';
    const found = findings(s).map(toFinding);
    // cams → media is still dropped: by media's own drop of what goes out to it
    expect(found.map((f) => [f.flow, f.live])).toEqual([
      ['cams → internet', 'accept'],
      ['cams → lan', 'accept'],
    ]);
    expect(byFlow(auditRouterOS(model, router, s), 'cams → media').rule?.text).toBe('drop out-interface=vlan20-media');
    expect(found[0]!.rule).toBeUndefined();
    expect(found[0]!.message).toContain('decided by no rule: the end of the chain (accepted by default)');
    expect(found[0]!.advice).toContain('flatnet-router apply');
  });

  it('an address-list rule makes the verdict undecided, never guessed', () => {
    const s = copy(applied);
    s.filter4.splice(firstOwned(s.filter4, 'input'), 0, { '.id': '*F4', chain: 'input', action: 'accept', 'src-address-list': 'admins' });
    const found = findings(s);
    const ssh = found.find((r) => r.flow.label === 'media → router ssh (tcp/22)')!;
    expect(ssh.live).toBe('undecided');
    expect(ssh.undecidedBecause).toBe('src-address-list=admins');
    expect(ssh.rule?.id).toBe('*F4');
    expect(toFinding(ssh).message).toContain('cannot be decided');
    // the accepted services stay accepted whichever way the list goes: no finding for them
    expect(found.some((r) => r.flow.expected === 'accept')).toBe(false);
  });

  it('a harmless foreign rule is no finding', () => {
    const s = copy(applied);
    s.filter4.splice(firstOwned(s.filter4, 'forward'), 0, { '.id': '*F5', chain: 'forward', action: 'accept', 'in-interface': 'ether1', 'out-interface': 'bridge', protocol: 'tcp', 'dst-port': '8080' });
    s.filter4.splice(0, 0, { '.id': '*F6', chain: 'forward', action: 'drop', 'src-address': '192.0.2.0/24', 'in-interface-list': 'WAN' });
    expect(findings(s)).toEqual([]);
  });

  it('a foreign accept of one port is undecided for a flow of any port; an ICMP-only accept is no finding', () => {
    const s = copy(applied);
    s.filter4.splice(firstOwned(s.filter4, 'forward'), 0, { '.id': '*F7', chain: 'forward', action: 'accept', protocol: 'tcp', 'dst-port': '22', 'in-interface': 'vlan30-cams', 'out-interface-list': 'LAN' });
    const found = findings(s);
    expect(found.map((r) => [r.flow.label, r.live, r.rule?.id])).toEqual([['cams → lan', 'undecided', '*F7']]);
    expect(found[0]!.undecidedBecause).toMatch(/protocol|dst-port=22/);
    s.filter4[firstOwned(s.filter4, 'forward') - 1] = { '.id': '*F7', chain: 'forward', action: 'accept', protocol: 'icmp', 'in-interface': 'vlan30-cams', 'out-interface-list': 'LAN' };
    expect(findings(s)).toEqual([]);
  });

  it('IPv6 is evaluated on the IPv6 filter', () => {
    const s = copy(applied);
    s.filter6.splice(firstOwned(s.filter6, 'input'), 0, { '.id': '*F8', chain: 'input', action: 'accept', protocol: 'tcp', 'dst-port': '22' });
    expect(findings(s).map((r) => r.flow.label)).toEqual(['media → router ssh (tcp/22) (IPv6)']);
  });

  it('--explain table: one row per flow with the deciding rule', () => {
    const table = renderFlowTable(flowsOf(auditRouterOS(model, router, applied), 'cams'));
    expect(table.split('\n')[0]).toMatch(/^flow\s+spec\s+live\s+decided by$/);
    expect(table).toMatch(/cams → internet\s+drop\s+drop\s+ok\s+flatnet rule #\d+ \*[0-9A-F]+ in forward \(drop in-interface=vlan30-cams\) "flatnet:cams"/);
  });
});
