// The router serves DHCP on a VLAN network with dhcp-pool: dhcp.flatnet_<network> (dnsmasq), planned, applied
// and removed through the CLI against the OpenWrt test router (OpenSSH's sshd on 127.0.0.1 running OpenWrt's
// own uci on a scratch root), plus the pure parts (desiredState, batch, config snippets).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { modelFromText, type OpenWrtRouter } from '../src/index.js';
import { renderConfigFiles } from '../targets/openwrt/config.js';
import { planOpenWrt } from '../targets/openwrt/diff.js';
import { desiredState, renderBatch } from '../targets/openwrt/index.js';
import { parseUciExport } from '../targets/openwrt/uci.js';
import { OpenWrtCli } from './fakes/openwrt-cli.js';
import { defaultOpenWrtConfig, OpenWrtTestRouter, openwrtTestSupport } from './fakes/openwrt-router.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function pureSpec(extra: Record<string, unknown> = {}) {
  return {
    version: 1,
    routers: { edge: { type: 'openwrt', address: '192.168.1.1' } },
    hosts: { nas: { parent: 'enp3s0' } },
    networks: {
      apps: {
        router: 'edge',
        host: 'nas',
        vlan: 200,
        subnet: '10.200.0.0/24',
        gateway: '10.200.0.1',
        'container-range': '10.200.0.64/26',
        'dhcp-pool': '10.200.0.150-10.200.0.199',
        firewall: { 'allow-input': ['dns', 'dhcp'] },
        ...extra,
      },
    },
  };
}
const routerOf = (m: ReturnType<typeof modelFromText>) => m.routers.find((r): r is OpenWrtRouter => r.type === 'openwrt')!;

describe('OpenWrt DHCP on a VLAN network: desired sections', () => {
  it('dhcp.flatnet_<network> with interface, start (from the network address), limit and leasetime', () => {
    const model = modelFromText(stringify(pureSpec()));
    const dhcp = desiredState(model, routerOf(model)).sections.filter((s) => s.config === 'dhcp');
    expect(dhcp).toEqual([
      {
        config: 'dhcp',
        name: 'flatnet_apps',
        type: 'dhcp',
        options: [
          ['interface', 'flatnet_apps'],
          ['start', '150'],
          ['limit', '50'],
          ['leasetime', '1h'],
        ],
      },
    ]);
  });

  it('dhcp-lease-time is the leasetime; a network without dhcp-pool gets no dhcp section', () => {
    const model = modelFromText(stringify(pureSpec({ 'dhcp-lease-time': '12h' })));
    expect(desiredState(model, routerOf(model)).sections.find((s) => s.config === 'dhcp')?.options).toContainEqual(['leasetime', '12h']);
    const spec = pureSpec();
    delete (spec.networks.apps as Record<string, unknown>)['dhcp-pool'];
    const none = modelFromText(stringify(spec));
    expect(desiredState(none, routerOf(none)).sections.filter((s) => s.config === 'dhcp')).toEqual([]);
    expect(renderConfigFiles(none, routerOf(none)).map((f) => f.config)).toEqual(['network', 'firewall']);
  });

  it('the batch sets it and its cleanup line and reload hint cover dhcp; openwrt-config writes a dhcp file', () => {
    const model = modelFromText(stringify(pureSpec()));
    const batch = renderBatch(model, routerOf(model));
    expect(batch).toContain("set dhcp.flatnet_apps=dhcp\ndelete dhcp.flatnet_apps\nset dhcp.flatnet_apps=dhcp\nset dhcp.flatnet_apps.interface='flatnet_apps'\n");
    expect(batch).toContain('for c in network firewall dhcp; do');
    expect(batch).toContain('service dnsmasq reload');
    const files = renderConfigFiles(model, routerOf(model));
    expect(files.map((f) => f.config)).toEqual(['network', 'firewall', 'dhcp']);
    expect(files[2]!.content).toBe(
      "# /etc/config/dhcp\n\nconfig dhcp 'flatnet_apps'\n\toption interface 'flatnet_apps'\n\toption start '150'\n\toption limit '50'\n\toption leasetime '1h'\n",
    );
  });

  it("plan: flatnet's own dhcp section is not taken for a foreign pool; a foreign one on its interface still is", () => {
    const model = modelFromText(stringify(pureSpec()));
    const router = routerOf(model);
    const sections = [
      ...parseUciExport(defaultOpenWrtConfig('network'), 'network'),
      ...parseUciExport(defaultOpenWrtConfig('firewall'), 'firewall'),
      ...parseUciExport(defaultOpenWrtConfig('dhcp'), 'dhcp'),
    ];
    // flatnet's own section with a pool over the containers (as a hand edit could leave it): plan corrects it
    const own = parseUciExport("config dhcp 'flatnet_apps'\n\toption interface 'flatnet_apps'\n\toption start '64'\n\toption limit '50'\n", 'dhcp');
    const plan = planOpenWrt(model, router, { sections: [...sections, ...own], hasUbus: true, staged: [] });
    expect(plan.problems).toEqual([]);
    expect(plan.changed).toContain('dhcp');
    expect(plan.batch).toContain("set dhcp.flatnet_apps.start='150'");
    const theirs = parseUciExport("config dhcp 'other'\n\toption interface 'flatnet_apps'\n\toption start '64'\n\toption limit '50'\n", 'dhcp');
    const refused = planOpenWrt(model, router, { sections: [...sections, ...theirs], hasUbus: true, staged: [] });
    expect(refused.problems.map((p) => p.message).join('\n')).toMatch(/overlaps the DHCP range of interface "flatnet_apps"/);
  });
});

// ---------------------------------------------------------------------------
// through the CLI against the OpenWrt test router

const support = openwrtTestSupport();
let harness: OpenWrtCli;
const router = () => harness.router();
const specFile = (r: OpenWrtTestRouter, networks: Record<string, unknown>) => harness.specFile(r, networks);
const cli = (r: OpenWrtTestRouter, args: string[]) => harness.cli(r, args);

const vlanNet = (extra: Record<string, unknown> = {}) => ({
  router: 'edge',
  host: 'nas',
  vlan: 200,
  subnet: '10.200.0.0/24',
  gateway: '10.200.0.1',
  'container-range': '10.200.0.64/26',
  firewall: { 'allow-input': ['dns', 'dhcp'] },
  ...extra,
});

const dhcpLines = (r: OpenWrtTestRouter) => r.uci(['show', 'dhcp']).split('\n').filter((l) => l !== '');

describe.skipIf(!support.ok)(`OpenWrt DHCP on a VLAN network, applied over SSH${support.ok ? '' : ` (skipped: ${support.reason})`}`, () => {
  beforeAll(() => {
    if (!existsSync(join(root, 'dist', 'src', 'cli.js'))) throw new Error('run tsc first (npm test does)');
    harness = new OpenWrtCli('flatnet-owrt-dhcp-');
  });
  afterAll(() => harness?.remove());
  afterEach(() => harness.stopRouters());

  it('apply adds dhcp.flatnet_<net> and reloads dnsmasq; plan again is empty; dropping dhcp-pool removes exactly that section', async () => {
    const r = await router();
    const dhcpBefore = dhcpLines(r);
    const file = specFile(r, { apps: vlanNet({ 'dhcp-pool': '10.200.0.150-10.200.0.199', 'dhcp-lease-time': '12h' }) });

    const plan = await cli(r, ['plan', file, '--detailed-exitcode']);
    expect(plan.code, plan.stdout + plan.stderr).toBe(2);
    expect(plan.stdout).toMatch(/\+ dhcp\.flatnet_apps dhcp/);

    const first = await cli(r, ['apply', file, '--yes', '--confirm-timeout', '20']);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(r.uci(['get', 'dhcp.flatnet_apps'])).toBe('dhcp');
    expect(r.uci(['get', 'dhcp.flatnet_apps.interface'])).toBe('flatnet_apps');
    expect(r.uci(['get', 'dhcp.flatnet_apps.start'])).toBe('150');
    expect(r.uci(['get', 'dhcp.flatnet_apps.limit'])).toBe('50');
    expect(r.uci(['get', 'dhcp.flatnet_apps.leasetime'])).toBe('12h');
    expect(r.uci(['get', 'firewall.flatnet_apps_dhcp.dest_port'])).toBe('67');
    // the router's own dhcp sections are untouched
    expect(dhcpLines(r).filter((l) => !l.startsWith('dhcp.flatnet_'))).toEqual(dhcpBefore);
    const reloads = r.serviceCalls();
    expect(reloads.filter((l) => l.startsWith('dnsmasq'))).toHaveLength(1);

    const again = await cli(r, ['plan', file, '--detailed-exitcode']);
    expect(again.code, again.stdout + again.stderr).toBe(0);

    // without dhcp-pool (and without dhcp-lease-time, which needs it): only the dhcp section goes
    const networkBefore = r.uci(['show', 'network']);
    const firewallBefore = r.uci(['show', 'firewall']);
    const without = specFile(r, { apps: vlanNet() });
    const removePlan = await cli(r, ['plan', without, '--detailed-exitcode']);
    expect(removePlan.code, removePlan.stdout + removePlan.stderr).toBe(2);
    expect(removePlan.stdout).toMatch(/- dhcp\.flatnet_apps/);
    const removed = await cli(r, ['apply', without, '--yes', '--confirm-timeout', '20']);
    expect(removed.code, removed.stdout + removed.stderr).toBe(0);
    expect(dhcpLines(r)).toEqual(dhcpBefore);
    expect(r.uci(['show', 'network'])).toBe(networkBefore);
    expect(r.uci(['show', 'firewall'])).toBe(firewallBefore);
    expect(r.serviceCalls().slice(reloads.length).filter((l) => l.startsWith('dnsmasq'))).toHaveLength(1);
    expect((await cli(r, ['plan', without, '--detailed-exitcode'])).code).toBe(0);
  });

  it('the DHCP-overlap refusal for the default LAN pool still holds next to a served VLAN pool', async () => {
    const r = await router();
    const file = specFile(r, {
      apps: vlanNet({ 'dhcp-pool': '10.200.0.150-10.200.0.199' }),
      'lan-apps': { router: 'edge', host: 'nas', subnet: '192.168.1.0/24', gateway: '192.168.1.1', 'container-range': '192.168.1.192/27' },
    });
    const plan = await cli(r, ['plan', file]);
    expect(plan.code, plan.stdout + plan.stderr).toBe(1);
    expect(plan.stdout).toMatch(/networks\.lan-apps\.container-range: 192\.168\.1\.192\/27 overlaps the DHCP range of interface "lan" \(192\.168\.1\.100-192\.168\.1\.249/);
    expect(plan.stdout).not.toMatch(/flatnet_apps/);
  });
});
