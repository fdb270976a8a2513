// import (issue 20 point 1), RouterOS: the fake router read with the plan's reads, the draft printed; every
// draft goes through modelFromText (it must validate).
import { describe, expect, it } from 'vitest';
import { generate, modelFromText } from '../src/index.js';
import { importFromText } from '../src/import/run.js';
import { fakeRouters } from './fakes/fake-routers.js';
import { planRouterOS } from './fakes/routeros-harness.js';

const PASSWORD = 'imp';
const start = fakeRouters(PASSWORD);

const devices = (port: number, extra: string[] = []) =>
  ['version: 1', 'routers:', '  core:', '    type: routeros', '    address: 127.0.0.1', `    port: ${port}`, '    password-env: P', ...extra, ''].join('\n');

async function draftOf(spec: string, file = 'devices.yaml') {
  const result = await importFromText(spec, file, { env: { P: PASSWORD } });
  const model = modelFromText(result.draft, 'draft.yaml'); // throws when the draft does not validate
  return { ...result, model };
}

describe('import: RouterOS', () => {
  it("the guide's setup (vlan-200-docker-demo on main-bridge, 192.168.200.1/24) imports as a person would write it", async () => {
    const { fake, port } = await start();
    fake.addRow('/interface/bridge', { name: 'main-bridge', 'vlan-filtering': 'no' });
    fake.addRow('/interface/vlan', { name: 'vlan-200-docker-demo', 'vlan-id': '200', interface: 'main-bridge' });
    fake.addRow('/ip/address', { address: '192.168.200.1/24', interface: 'vlan-200-docker-demo' });
    const { draft, model, code, report } = await draftOf(devices(port, ['    bridge: main-bridge']));
    expect(code).toBe(0);
    expect(report.warnings).toEqual([]);
    expect(model.networks.map((n) => [n.name, n.vlan, n.ipv4.subnet, n.ipv4.gateway, n.router])).toEqual([['docker-demo', 200, '192.168.200.0/24', '192.168.200.1', 'core']]);
    expect(draft).toContain('# from /interface/vlan vlan-200-docker-demo (vlan-id 200 on main-bridge) of router core');
    expect(draft).toMatch(/ {4}vlan: 200 # from \/interface\/vlan vlan-200-docker-demo\n/);
    expect(draft).toMatch(/ {4}subnet: 192\.168\.200\.0\/24 # from \/ip\/address 192\.168\.200\.1\/24 on vlan-200-docker-demo\n/);
    expect(draft).toContain('no /ip/firewall/filter rule names vlan-200-docker-demo');
    expect(draft).toContain('password-env: P');
  });

  it('each example network applied by flatnet, ownership stripped, imports back: same VLANs, subnets, gateways, DHCP, access ports, firewall', async () => {
    const { fake, port } = await start();
    const text = [
      devices(port, ['    trunk-ports: [ether2]']).trimEnd(),
      'networks:',
      '  cams: {router: core, vlan: 30, subnet: 10.30.0.0/24, gateway: 10.30.0.1, dhcp-pool: 10.30.0.100-10.30.0.199, dhcp-lease-time: 12h, access-ports: [ether4], firewall: {internet: false, from: [lan], to: [], allow-input: [dns, dhcp, ntp]}}',
      '  iot: {router: core, vlan: 40, subnet: 10.40.0.0/24, gateway: 10.40.0.1, firewall: {internet: true, from: [lan, cams], to: [lan], allow-input: [dns, icmp]}}',
      '',
    ].join('\n');
    await planRouterOS(text, PASSWORD);
    fake.stripFlatnetComments();
    expect(fake.rows('/interface/vlan').every((r) => !(r.comment ?? '').startsWith('flatnet:'))).toBe(true);
    const { model, code, report } = await draftOf(devices(port));
    expect(report.warnings).toEqual([]);
    expect(code).toBe(0);
    const want = modelFromText(text);
    const view = (m: typeof want) =>
      m.networks.map((n) => ({ name: n.name, vlan: n.vlan, ipv4: n.ipv4, firewall: n.firewall, dhcp: n.dhcpServer, access: n.accessPorts, hosts: n.hosts }));
    expect(view(model)).toEqual(view(want));
    expect((model.routers[0] as { trunkPorts: string[] }).trunkPorts).toEqual(['ether2']);
    // the draft renders the same router script
    expect(generate(model).find((a) => a.path === 'routeros/core.rsc')!.content).toBe(generate(want).find((a) => a.path === 'routeros/core.rsc')!.content);
  });

  it('trunk ports: tagged in every VLAN; a port a host of the spec is cabled to is the path, not a trunk port; a VLAN the path would not carry there is said', async () => {
    const { fake, port } = await start();
    for (const [vlan, tagged] of [[20, 'bridge,ether2,ether3'], [30, 'bridge,ether2,ether4']] as const) {
      fake.addRow('/interface/vlan', { name: `vlan${vlan}-net${vlan}`, 'vlan-id': String(vlan), interface: 'bridge' });
      fake.addRow('/ip/address', { address: `10.${vlan}.0.1/24`, interface: `vlan${vlan}-net${vlan}` });
      fake.addRow('/interface/bridge/vlan', { bridge: 'bridge', 'vlan-ids': String(vlan), tagged });
    }
    const { draft, model, report } = await draftOf(`${devices(port).trimEnd()}\nhosts:\n  nas:\n    parent: enp3s0\n    connected-to: core:ether3\n`);
    expect((model.routers[0] as { trunkPorts: string[] }).trunkPorts).toEqual(['ether2']);
    expect(draft).toContain('trunk-ports: [ether2] # tagged in every VLAN imported (the bridge VLAN table)');
    expect(draft).toContain('also carried tagged on ether4 (not every VLAN of the router)');
    expect(draft).not.toMatch(/also carried tagged on ether3/);
    // nas (not read: no ssh) has no network on VLAN 20 in the draft: its cable would lose the VLAN
    expect(report.warnings.filter((w) => w.includes('core:ether3'))).toEqual([
      'network net20: VLAN 20 is carried tagged on core:ether3 today, where nas is cabled (connected-to), but no network of nas or behind it uses the VLAN in this draft: plan would take it off the port; give the network a host or access port there, or remove the VLAN from the port by hand if nothing needs it',
    ]);
    expect(draft).toContain('# network net20: VLAN 20 is carried tagged on core:ether3 today');
  });

  it('read through the API: a disabled bridge port is no access port; a delegated (from-pool) or EUI-64 IPv6 address is not imported as a fixed one', async () => {
    const { fake, port } = await start();
    fake.addRow('/interface/vlan', { name: 'vlan30-cams', 'vlan-id': '30', interface: 'bridge' });
    fake.addRow('/ip/address', { address: '10.30.0.1/24', interface: 'vlan30-cams' });
    fake.addRow('/ipv6/address', { address: '2001:db8:30::1/64', interface: 'vlan30-cams', 'from-pool': 'isp-pd', advertise: 'yes' });
    fake.setRows('/interface/bridge/port', (r) => (r.interface === 'ether4' ? { pvid: '30', disabled: 'yes' } : r.interface === 'ether5' ? { pvid: '30' } : {}));
    const { model, report } = await draftOf(devices(port));
    expect(model.networks.map((n) => [n.name, n.vlan, n.accessPorts, n.ipv6])).toEqual([['cams', 30, ['ether5'], undefined]]);
    expect(report.warnings.join('\n')).toMatch(/from-pool/);
  });

  it('odd findings become comments and warnings; a router that cannot be read is reported and the draft still validates', async () => {
    const { fake, port } = await start();
    fake.addRow('/interface/vlan', { name: 'vlan50', 'vlan-id': '50', interface: 'bridge' });
    fake.addRow('/interface/vlan', { name: 'Guest WiFi', 'vlan-id': '60', interface: 'bridge' });
    fake.addRow('/ip/address', { address: '10.60.0.1/24', interface: 'Guest WiFi' });
    fake.addRow('/ip/firewall/filter', { chain: 'forward', action: 'accept', 'in-interface': 'Guest WiFi', 'dst-address': '10.0.0.5', comment: 'printer' });
    const spec = [
      devices(port).trimEnd(),
      '  down:',
      '    type: routeros',
      '    address: 127.0.0.1',
      '    port: 1',
      '    password-env: P',
      '',
    ].join('\n');
    const { draft, model, code, report } = await draftOf(spec);
    expect(code).toBe(1);
    expect(model.networks.map((n) => [n.name, n.vlan])).toEqual([['guest-wifi', 60]]);
    expect(report.warnings.join('\n')).toMatch(/VLAN interface vlan50 \(VLAN 50\) has no IPv4 address/);
    expect(report.warnings.join('\n')).toMatch(/router down could not be read/);
    expect(draft).toMatch(/# router down could not be read: .*its networks are missing from this draft/);
    expect(draft).toMatch(/firewall: 1 \/ip\/firewall\/filter rule name Guest WiFi, not inferred/);
    expect(draft).toContain('dst-address=10.0.0.5 "printer"');
  });
});

describe('import: runImport', () => {
  it('prints the draft, or writes --out FILE and never over an existing file', async () => {
    const { mkdtempSync, writeFileSync: write, readFileSync: read, existsSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { runImport } = await import('../src/import/run.js');
    const { port } = await start();
    const dir = mkdtempSync(join(tmpdir(), 'flatnet-import-'));
    const spec = join(dir, 'devices.yaml');
    write(spec, devices(port));
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t) };
    expect(await runImport(spec, { env: { P: PASSWORD } }, io)).toBe(0);
    expect(out.join('')).toContain('networks: {}');
    const file = join(dir, 'draft.yaml');
    expect(await runImport(spec, { env: { P: PASSWORD }, out: file }, io)).toBe(0);
    expect(existsSync(file)).toBe(true);
    modelFromText(read(file, 'utf8'));
    write(file, 'mine\n');
    await expect(runImport(spec, { env: { P: PASSWORD }, out: file }, io)).rejects.toThrow(/the file exists; import never writes over a file/);
    expect(read(file, 'utf8')).toBe('mine\n');
  });
});
