// Access ports on OpenWrt (DSA): `<port>:u*` in the network's bridge-vlan and the port out of the LAN's own
// bridge-vlan; the pure parts, then plan/apply through the CLI against the OpenWrt test router (OpenSSH's
// sshd on 127.0.0.1 running OpenWrt's own uci on a scratch root).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { modelFromText, type OpenWrtRouter } from '../src/index.js';
import { planOpenWrt } from '../targets/openwrt/diff.js';
import { desiredState, renderBatch } from '../targets/openwrt/index.js';
import { parseUciExport } from '../targets/openwrt/uci.js';
import { OpenWrtCli } from './fakes/openwrt-cli.js';
import { defaultOpenWrtConfig, OpenWrtTestRouter, openwrtTestSupport } from './fakes/openwrt-router.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const camsNet = (extra: Record<string, unknown> = {}) => ({
  router: 'edge',
  host: 'nas',
  vlan: 30,
  subnet: '10.30.0.0/24',
  gateway: '10.30.0.1',
  'container-range': '10.30.0.64/26',
  'dhcp-pool': '10.30.0.150-10.30.0.199',
  firewall: { internet: false, 'allow-input': ['dns', 'dhcp'] },
  ...extra,
});

function pureSpec(router: Record<string, unknown>, cams: Record<string, unknown>) {
  return {
    version: 1,
    routers: { edge: { type: 'openwrt', address: '192.168.1.1', ...router } },
    hosts: { nas: { parent: 'enp3s0' } },
    networks: { cams: camsNet(cams) },
  };
}
const routerOf = (m: ReturnType<typeof modelFromText>) => m.routers.find((r): r is OpenWrtRouter => r.type === 'openwrt')!;
const section = (sections: ReturnType<typeof desiredState>['sections'], name: string) => sections.find((s) => s.name === name);
const liveDefaults = () => [
  ...parseUciExport(defaultOpenWrtConfig('network'), 'network'),
  ...parseUciExport(defaultOpenWrtConfig('firewall'), 'firewall'),
  ...parseUciExport(defaultOpenWrtConfig('dhcp'), 'dhcp'),
];

describe('OpenWrt access ports: desired sections', () => {
  it('the port is untagged with PVID in the network bridge-vlan and left out of the LAN one', () => {
    const model = modelFromText(stringify(pureSpec({ 'trunk-ports': ['lan1'], 'lan-ports': ['lan1', 'lan2'], 'lan-interface': 'lan' }, { 'access-ports': ['lan3'] })));
    const { sections, foreign } = desiredState(model, routerOf(model));
    expect(section(sections, 'flatnet_cams_vlan')?.options).toEqual([['device', 'br-lan'], ['vlan', '30'], ['ports', 'lan1:t lan3:u*']]);
    expect(section(sections, 'flatnet_lan_vlan')?.options).toContainEqual(['ports', 'lan1:u* lan2:u*']);
    expect(foreign.map((f) => `${f.section}.${f.option}=${f.value}`)).toEqual(['lan.device=br-lan.1']);
  });

  it('access ports alone turn on VLAN filtering: bridge-vlans instead of an 802.1Q device', () => {
    const model = modelFromText(stringify(pureSpec({ 'lan-ports': ['lan1', 'lan2'], 'lan-interface': 'lan' }, { 'access-ports': ['lan3'] })));
    const { sections } = desiredState(model, routerOf(model));
    expect(section(sections, 'flatnet_cams_dev')).toBeUndefined();
    expect(section(sections, 'flatnet_cams_vlan')?.options).toContainEqual(['ports', 'lan3:u*']);
    expect(section(sections, 'flatnet_lan_vlan')).toBeDefined();
  });

  it('generate needs lan-ports and lan-interface with access ports, as with trunk ports', () => {
    const model = modelFromText(stringify(pureSpec({}, { 'access-ports': ['lan3'] })));
    expect(() => renderBatch(model, routerOf(model))).toThrow(/with access-ports, generate needs lan-ports and lan-interface/);
  });

  it('plan reads the LAN ports from the router, all but the access port', () => {
    const model = modelFromText(stringify(pureSpec({}, { 'access-ports': ['lan3'] })));
    const plan = planOpenWrt(model, routerOf(model), { sections: liveDefaults(), hasUbus: true, staged: [] });
    expect(plan.problems).toEqual([]);
    expect(plan.batch).toContain("set network.flatnet_lan_vlan.ports='lan1:u* lan2:u* lan4:u*'");
    expect(plan.batch).toContain("set network.flatnet_cams_vlan.ports='lan3:u*'");
    expect(plan.facts.join('\n')).toMatch(/but the access ports lan3/);
  });

  it('a port that is not a port of the bridge fails the live check at its spec path', () => {
    const model = modelFromText(stringify(pureSpec({}, { 'access-ports': ['lan9'] })));
    const plan = planOpenWrt(model, routerOf(model), { sections: liveDefaults(), hasUbus: true, staged: [] });
    expect(plan.problems).toEqual([{ path: ['networks', 'cams', 'access-ports', 0], message: expect.stringMatching(/port "lan9" is not a port of br-lan/) }]);
  });

  it("warns when one of the router's own bridge-vlan sections also has the access port", () => {
    const model = modelFromText(stringify(pureSpec({}, { 'access-ports': ['lan3'] })));
    const theirs = parseUciExport("config bridge-vlan 'guest'\n\toption device 'br-lan'\n\toption vlan '50'\n\tlist ports 'lan3:t'\n", 'network');
    const plan = planOpenWrt(model, routerOf(model), { sections: [...liveDefaults(), ...theirs], hasUbus: true, staged: [] });
    expect(plan.warnings.join('\n')).toMatch(/access port lan3 of network cams is also in network\.guest \(VLAN 50, as lan3:t\)/);
    const clean = planOpenWrt(model, routerOf(model), { sections: liveDefaults(), hasUbus: true, staged: [] });
    expect(clean.warnings).toEqual([]);
  });

  it('with lan-ports in the spec, a port dropped from access-ports and not listed is reported stranded', () => {
    const withPort = modelFromText(stringify(pureSpec({ 'trunk-ports': ['lan1'], 'lan-ports': ['lan1', 'lan2'], 'lan-interface': 'lan' }, { 'access-ports': ['lan3'] })));
    const live = [...liveDefaults(), ...parseUciExport("config bridge-vlan 'flatnet_cams_vlan'\n\toption device 'br-lan'\n\toption vlan '30'\n\toption ports 'lan1:t lan3:u*'\n", 'network')];
    expect(planOpenWrt(withPort, routerOf(withPort), { sections: live, hasUbus: true, staged: [] }).warnings).toEqual([]);
    const without = modelFromText(stringify(pureSpec({ 'trunk-ports': ['lan1'], 'lan-ports': ['lan1', 'lan2'], 'lan-interface': 'lan' }, {})));
    expect(planOpenWrt(without, routerOf(without), { sections: live, hasUbus: true, staged: [] }).warnings.join('\n')).toMatch(/lan3 is no longer an access port .* add it to routers\.edge\.lan-ports/);
    const listed = modelFromText(stringify(pureSpec({ 'trunk-ports': ['lan1'], 'lan-ports': ['lan1', 'lan2', 'lan3'], 'lan-interface': 'lan' }, {})));
    expect(planOpenWrt(listed, routerOf(listed), { sections: live, hasUbus: true, staged: [] }).warnings).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// through the CLI against the OpenWrt test router

const support = openwrtTestSupport();
let harness: OpenWrtCli;
const router = () => harness.router();
const specFile = (r: OpenWrtTestRouter, extraRouter: Record<string, unknown>, cams: Record<string, unknown>) => harness.specFile(r, { cams: camsNet(cams) }, extraRouter);
const cli = (r: OpenWrtTestRouter, args: string[]) => harness.cli(r, args);

const get = (r: OpenWrtTestRouter, key: string) => r.uci(['-q', 'get', key]);

describe.skipIf(!support.ok)(`OpenWrt access ports, applied over SSH${support.ok ? '' : ` (skipped: ${support.reason})`}`, () => {
  beforeAll(() => {
    if (!existsSync(join(root, 'dist', 'src', 'cli.js'))) throw new Error('run tsc first (npm test does)');
    harness = new OpenWrtCli('flatnet-owrt-access-');
  });
  afterAll(() => harness?.remove());
  afterEach(() => harness.stopRouters());

  it('with a trunk port: lan3 leaves the LAN bridge-vlan for the network one and comes back; the LAN stays untagged on its other ports', async () => {
    const r = await router();
    const networkBefore = r.uci(['show', 'network']);
    const file = specFile(r, { 'trunk-ports': ['lan1'] }, { 'access-ports': ['lan3'] });
    const first = await cli(r, ['apply', file, '--yes', '--confirm-timeout', '20']);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(get(r, 'network.flatnet_cams_vlan.ports')).toBe('lan1:t lan3:u*');
    expect(get(r, 'network.flatnet_lan_vlan.ports')).toBe('lan1:u* lan2:u* lan4:u*');
    expect(get(r, 'network.lan.device')).toBe('br-lan.1');
    // the DHCP server the cameras get their addresses from
    expect(get(r, 'dhcp.flatnet_cams.interface')).toBe('flatnet_cams');
    expect((await cli(r, ['plan', file, '--detailed-exitcode'])).code).toBe(0);

    const without = specFile(r, { 'trunk-ports': ['lan1'] }, {});
    const back = await cli(r, ['apply', without, '--yes', '--confirm-timeout', '20']);
    expect(back.code, back.stdout + back.stderr).toBe(0);
    expect(back.stdout).toMatch(/~ network\.flatnet_lan_vlan/);
    expect(get(r, 'network.flatnet_cams_vlan.ports')).toBe('lan1:t');
    expect(get(r, 'network.flatnet_lan_vlan.ports')).toBe('lan1:u* lan2:u* lan3:u* lan4:u*');
    expect(get(r, 'network.lan.device')).toBe('br-lan.1');
    expect((await cli(r, ['plan', without, '--detailed-exitcode'])).code).toBe(0);

    // and without the network at all the router is as it was
    const file2 = harness.specFile(r, {});
    const gone = await cli(r, ['apply', file2, '--yes', '--confirm-timeout', '20']);
    expect(gone.code, gone.stdout + gone.stderr).toBe(0);
    expect(r.uci(['show', 'network'])).toBe(networkBefore);
  });

  it('access ports alone: VLAN filtering comes with them and goes with them, the LAN device put back', async () => {
    const r = await router();
    const file = specFile(r, {}, { 'access-ports': ['lan4'] });
    const plan = await cli(r, ['plan', file, '--detailed-exitcode']);
    expect(plan.code, plan.stdout + plan.stderr).toBe(2);
    expect(plan.stdout).toMatch(/\+ network\.flatnet_cams_vlan bridge-vlan/);
    const first = await cli(r, ['apply', file, '--yes', '--confirm-timeout', '20']);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(get(r, 'network.flatnet_cams_vlan.ports')).toBe('lan4:u*');
    expect(get(r, 'network.flatnet_lan_vlan.ports')).toBe('lan1:u* lan2:u* lan3:u*');
    expect(get(r, 'network.flatnet_cams.device')).toBe('br-lan.30');
    expect(get(r, 'network.lan.device')).toBe('br-lan.1');
    expect((await cli(r, ['plan', file, '--detailed-exitcode'])).code).toBe(0);

    const without = specFile(r, {}, {});
    const back = await cli(r, ['apply', without, '--yes', '--confirm-timeout', '20']);
    expect(back.code, back.stdout + back.stderr).toBe(0);
    // no bridge-vlan left: the bridge stops filtering and the LAN is on br-lan again
    expect(r.uci(['show', 'network']).split('\n').filter((l) => /=bridge-vlan$/.test(l))).toEqual([]);
    expect(get(r, 'network.lan.device')).toBe('br-lan');
    expect(get(r, 'network.flatnet_cams_dev.type')).toBe('8021q');
    expect((await cli(r, ['plan', without, '--detailed-exitcode'])).code).toBe(0);
  });
});

// the generated batch, through OpenWrt's own uci: no error line
describe.skipIf(!support.ok)(`OpenWrt access ports: the generated batch in real uci${support.ok ? '' : ` (skipped: ${support.reason})`}`, () => {
  it('runs without an error and stages the access port', async () => {
    const r = await OpenWrtTestRouter.start();
    try {
      const model = modelFromText(stringify(pureSpec({ 'trunk-ports': ['lan1'], 'lan-ports': ['lan1', 'lan2'], 'lan-interface': 'lan' }, { 'access-ports': ['lan3'] })));
      const batch = renderBatch(model, routerOf(model));
      const run = spawnSync(r.uciBinary, ['-c', join(r.root, 'etc/config'), '-t', join(r.root, 'tmp/.uci'), '-C', join(r.root, 'var/run/uci'), 'batch'], { argv0: 'uci', input: batch, encoding: 'utf8' });
      // uci batch exits 0 even when a line fails: stderr tells
      expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
      expect(r.uci(['changes', 'network'])).toContain("network.flatnet_cams_vlan.ports='lan1:t lan3:u*'");
      expect(r.uci(['changes', 'network'])).toContain("network.flatnet_lan_vlan.ports='lan1:u* lan2:u*'");
    } finally {
      await r.stop();
    }
  });
});
