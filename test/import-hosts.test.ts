// import (issue 20 point 1), Docker hosts and RouterOS switches: the hosts' Docker macvlan/ipvlan networks and
// shims joined with the router's networks by VLAN id and subnet; the switches' access ports. The join is tested
// with host readings made by hand (every machine), then against a real dockerd in a namespace, read through the
// local transport and over SSH (skipped, saying why, where there is none). Every draft must validate. Over SSH, the
// draft also goes through the CLI (bin/, built): plan refuses the hand-made objects, plan|apply --adopt takes them
// over in place (the same Docker network, the same shim), and a plan after has no changes.
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generate, modelFromText, type Model } from '../src/index.js';
import { parseCidr, parseIp } from '../src/ip.js';
import type { HostReading } from '../src/import/hosts.js';
import { importFromText, type ImportOptions } from '../src/import/run.js';
import type { EngineNetwork } from '../targets/docker/engine.js';
import type { LiveHostLinks, LiveLink } from '../targets/host/links.js';
import { DockerTestHost, dockerTestSupport } from './fakes/docker-host.js';
import { RemoteDockerHost, remoteHostSupport } from './fakes/remote-docker-host.js';
import { FakeRouterOS } from './fakes/routeros-fake.js';
import { probeKernel } from './netns/netns.js';

const PASSWORD = 'imp';
const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'flatnet-router.js');
const fakes: FakeRouterOS[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

/** A fake RouterOS router with the guide's bridge main-bridge and VLAN interfaces (id → address). */
async function router(vlans: Record<number, { address: string; name?: string; pool?: string }>): Promise<number> {
  const fake = new FakeRouterOS({ password: PASSWORD });
  fake.seedDefaults();
  fakes.push(fake);
  fake.addRow('/interface/bridge', { name: 'main-bridge', 'vlan-filtering': 'no' });
  for (const [id, v] of Object.entries(vlans)) {
    const name = v.name ?? `vlan-${id}-docker-demo`;
    fake.addRow('/interface/vlan', { name, 'vlan-id': id, interface: 'main-bridge' });
    fake.addRow('/ip/address', { address: v.address, interface: name });
    if (v.pool) {
      fake.addRow('/ip/pool', { name: `pool${id}`, ranges: v.pool });
      fake.addRow('/ip/dhcp-server', { name: `dhcp${id}`, interface: name, 'address-pool': `pool${id}` });
    }
  }
  return fake.start();
}

const routerLines = (port: number) => ['routers:', '  core:', '    type: routeros', '    address: 127.0.0.1', `    port: ${port}`, '    password-env: P', '    bridge: main-bridge'];

// ---- host readings by hand ------------------------------------------------------------------------------------

let ifindex = 1;
function link(ifname: string, kind?: string, lower?: string, extra: { id?: number; addresses?: string[] } = {}): LiveLink {
  return {
    ifname,
    ifindex: ifindex++,
    flags: ['UP'],
    ...(lower ? { link: lower } : {}),
    ...(kind ? { linkinfo: { info_kind: kind, ...(extra.id !== undefined ? { info_data: { id: extra.id } } : {}) } } : {}),
    addresses: extra.addresses ?? [],
  };
}

function network(name: string, parent: string, ipam: { subnet: string; gateway?: string; range?: string; aux?: Record<string, string> }, driver = 'macvlan'): EngineNetwork {
  return {
    Id: `id-${name}`,
    Name: name,
    Driver: driver,
    IPAM: { Driver: 'default', Config: [{ Subnet: ipam.subnet, ...(ipam.gateway ? { Gateway: ipam.gateway } : {}), ...(ipam.range ? { IPRange: ipam.range } : {}), ...(ipam.aux ? { AuxiliaryAddresses: ipam.aux } : {}) }] },
    Options: { parent },
  };
}

/** The guide's host side: enp3s0.200, the Docker network docker-demo on it, the shim docker-link with the route. */
function guideHost(opts: { range?: boolean; shim?: boolean } = {}): { links: LiveHostLinks; networks: EngineNetwork[] } {
  const links = [link('enp3s0', undefined, undefined, { addresses: ['192.168.88.9/24'] }), link('enp3s0.200', 'vlan', 'enp3s0', { id: 200 })];
  const routes: LiveHostLinks['routes'] = [];
  if (opts.shim !== false) {
    links.push(link('docker-link', 'macvlan', 'enp3s0.200', { addresses: ['192.168.200.192/32'] }));
    routes.push({ dst: '192.168.200.192/27', dev: 'docker-link', protocol: 'boot', family: 4 });
  }
  const ipam = opts.range === false ? { subnet: '192.168.200.0/24', gateway: '192.168.200.1' } : { subnet: '192.168.200.0/24', gateway: '192.168.200.1', range: '192.168.200.192/27', aux: { host: '192.168.200.192' } };
  return { links: { links, routes }, networks: [network('docker-demo', 'enp3s0.200', ipam)] };
}

/** importFromText with the hosts read from `hosts` (by name) instead of their transport. */
async function draftOf(spec: string, hosts: Record<string, { links: LiveHostLinks; networks: EngineNetwork[] }>, options: ImportOptions = {}) {
  const result = await importFromText(spec, 'devices.yaml', {
    env: { P: PASSWORD },
    readHost: async (host) => {
      const h = hosts[host.name];
      if (!h) throw new Error(`connection refused`);
      return { host, links: h.links, networks: h.networks, docker: 'Docker 20.10.24', endpoint: 'test' } satisfies HostReading;
    },
    ...options,
  });
  const model = modelFromText(result.draft, 'draft.yaml'); // throws when the draft does not validate
  return { ...result, model };
}

const view = (m: Model) =>
  m.networks.map((n) => ({ name: n.name, router: n.router, vlan: n.vlan, ipv4: n.ipv4, hosts: n.hosts, firewall: n.firewall, access: n.accessPorts }));
const hostArtifacts = (m: Model) => generate(m).filter((a) => /^(docker|host|networkd)\//.test(a.path)).map((a) => [a.path, a.content]);

/** The spec a person following the guide would have written (examples/routeros-vlan.yaml, with the guide's shim). */
const personSpec = (port: number, hostLines: string[], parent = 'enp3s0') =>
  [
    'version: 1',
    ...routerLines(port),
    'hosts:',
    '  nas:',
    `    parent: ${parent}`,
    ...hostLines.map((l) => `    ${l}`),
    'networks:',
    '  docker-demo:',
    '    router: core',
    '    host: nas',
    '    vlan: 200',
    '    subnet: 192.168.200.0/24',
    '    gateway: 192.168.200.1',
    '    container-range: 192.168.200.192/27',
    '    shim-name: docker-link',
    '',
  ].join('\n');

const devices = (port: number, hosts: Record<string, string[]>) =>
  ['version: 1', ...routerLines(port), 'hosts:', ...Object.entries(hosts).flatMap(([name, lines]) => [`  ${name}:`, ...lines.map((l) => `    ${l}`)]), ''].join('\n');
const NAS = ['parent: enp3s0', 'ssh: root@192.0.2.9'];
const MINI = ['parent: enp3s0', 'ssh: root@192.0.2.10'];

describe('import: Docker hosts joined with the router (host readings by hand)', () => {
  it("the guide's setup (macvlan on enp3s0.200, 192.168.200.0/24, gateway .1, ip-range .192/27, shim docker-link) imports as the person's spec, joined with VLAN 200", async () => {
    const port = await router({ 200: { address: '192.168.200.1/24' } });
    const { model, draft, report, code } = await draftOf(devices(port, { nas: NAS }), { nas: guideHost() });
    expect(report.warnings).toEqual([]);
    expect(code).toBe(0);
    const want = modelFromText(personSpec(port, ['ssh: root@192.0.2.9']));
    expect(view(model)).toEqual(view(want));
    expect(hostArtifacts(model)).toEqual(hostArtifacts(want));
    expect(draft).toMatch(/ {4}host: nas # from Docker network docker-demo \(macvlan\) on host nas\n/);
    expect(draft).toMatch(/ {4}container-range: 192\.168\.200\.192\/27 # from Docker network docker-demo \(macvlan\) on host nas: ip-range\n/);
    expect(draft).toMatch(/ {4}shim-name: docker-link # from link docker-link \(macvlan on enp3s0\.200\)\n/);
    expect(draft).not.toMatch(/shim-address|vlan-device/);
    expect(draft).toMatch(/Read: router core \(RouterOS.*\); host nas \(Docker 20\.10\.24, ssh root@192\.0\.2\.9\)\./);
  });

  it('without --ip-range and shim: container-range is a proposal clear of the gateway and the DHCP pool, said in a comment and a warning', async () => {
    const port = await router({ 200: { address: '192.168.200.1/24', pool: '192.168.200.100-192.168.200.199' } });
    const { model, draft, report } = await draftOf(devices(port, { nas: NAS }), { nas: guideHost({ range: false, shim: false }) });
    expect(model.networks[0]!.ipv4.containerRange).toBe('192.168.200.224/27');
    expect(model.networks[0]!.hosts).toEqual(['nas']);
    expect(report.warnings.join('\n')).toMatch(/has no ip-range: Docker allocates from the whole subnet.*container-range 192\.168\.200\.224\/27 is a proposal/);
    expect(draft).toMatch(/container-range: 192\.168\.200\.224\/27 # proposed: Docker network docker-demo .* has no ip-range/);
    expect(draft).toMatch(/# host nas has no shim for docker-demo on enp3s0\.200 .*flatnet adds one at 192\.168\.200\.224\n/);
  });

  it('two hosts, odd findings: a shared network (equal slices) joins as host: [nas, mini]; overlapping ranges, a missing parent, a VLAN the router lacks, another parent: comments and warnings; untagged on the LAN; the draft validates', async () => {
    const port = await router({
      200: { address: '192.168.200.1/24' },
      210: { address: '10.210.0.1/24', name: 'vlan210-mediaserver' },
      220: { address: '10.220.0.1/24', name: 'vlan220-apps' },
      230: { address: '10.230.0.1/24', name: 'vlan230-cams', pool: '10.230.0.100-10.230.0.250' },
    });
    const nasLinks = [
      link('enp3s0', undefined, undefined, { addresses: ['192.168.88.9/24'] }),
      link('enp3s0.200', 'vlan', 'enp3s0', { id: 200 }),
      link('enp3s0.210', 'vlan', 'enp3s0', { id: 210 }),
      link('enp3s0.300', 'vlan', 'enp3s0', { id: 300 }),
      link('enp3s0.230', 'vlan', 'enp3s0', { id: 230 }),
      link('br0', 'bridge'),
      link('fn-lan', 'macvlan', 'enp3s0', { addresses: ['192.168.88.192/32'] }),
    ];
    const nas = {
      links: { links: nasLinks, routes: [{ dst: '192.168.88.192/27', dev: 'fn-lan', family: 4 as const }] },
      networks: [
        network('docker-demo', 'enp3s0.200', { subnet: '192.168.200.0/24', gateway: '192.168.200.1', range: '192.168.200.128/26' }),
        network('media', 'enp3s0.210', { subnet: '10.210.0.0/24', gateway: '10.210.0.1', range: '10.210.0.192/27' }),
        network('apps', 'enp3s0.220', { subnet: '10.220.0.0/24', gateway: '10.220.0.1', range: '10.220.0.64/26' }),
        network('lab', 'enp3s0.300', { subnet: '10.30.0.0/24', gateway: '10.30.0.1', range: '10.30.0.64/26' }),
        network('cams', 'enp3s0.230', { subnet: '10.230.0.0/24', gateway: '10.230.0.1', range: '10.230.0.128/25' }),
        network('other', 'br0', { subnet: '10.99.0.0/24' }),
        network('lan', 'enp3s0', { subnet: '192.168.88.0/24', gateway: '192.168.88.1', range: '192.168.88.192/27' }),
        { Id: 'b', Name: 'bridge', Driver: 'bridge', IPAM: { Config: [{ Subnet: '172.17.0.0/16' }] } },
      ],
    };
    const mini = {
      links: { links: [link('enp3s0'), link('enp3s0.200', 'vlan', 'enp3s0', { id: 200 }), link('enp3s0.210', 'vlan', 'enp3s0', { id: 210 })], routes: [] },
      networks: [
        network('docker-demo', 'enp3s0.200', { subnet: '192.168.200.0/24', gateway: '192.168.200.1', range: '192.168.200.192/26' }),
        network('media', 'enp3s0.210', { subnet: '10.210.0.0/24', gateway: '10.210.0.1', range: '10.210.0.192/28' }),
      ],
    };
    const { model, draft, report, code } = await draftOf(devices(port, { nas: NAS, mini: MINI, down: ['parent: eth0', 'ssh: root@192.0.2.11'], local: ['parent: eth0'] }), { nas, mini });
    expect(code).toBe(1); // host down could not be read
    const byName = new Map(model.networks.map((n) => [n.name, n]));
    expect(byName.get('docker-demo')!.hosts).toEqual(['nas', 'mini']);
    expect(byName.get('docker-demo')!.ipv4.containerRange).toBe('192.168.200.128/25');
    expect(byName.get('media')!.hosts).toEqual(['nas']);
    expect(byName.get('apps')!.hosts).toEqual(['nas']);
    expect(byName.get('apps')!.ipv4.containerRange).toBe('10.220.0.64/26');
    // the container range overlaps the router's DHCP pool: the Docker side is left out, the router side stays
    expect(byName.get('cams')!.hosts).toEqual([]);
    expect(byName.get('cams')!.dhcpServer).toBeDefined();
    // untagged on the LAN, named after the Docker network ("lan" is reserved)
    const lanNet = model.networks.find((n) => n.vlan === undefined)!;
    expect(lanNet.name).toBe('docker-lan');
    expect([lanNet.ipv4.subnet, lanNet.ipv4.containerRange, lanNet.hosts]).toEqual(['192.168.88.0/24', '192.168.88.192/27', ['nas']]);
    const w = report.warnings.join('\n');
    expect(w).toMatch(/the ip-ranges of hosts nas \(10\.210\.0\.192\/27\) and mini \(10\.210\.0\.192\/28\) overlap/);
    expect(w).toMatch(/Docker network apps \(macvlan\) on host nas: its parent enp3s0\.220 is not there/);
    expect(w).toMatch(/Docker network lab \(macvlan\) on host nas: VLAN 300 .*no router read has VLAN 300: not imported/);
    expect(w).toMatch(/Docker network other \(macvlan\) on host nas is on br0 \(bridge\), neither the host's parent enp3s0/);
    expect(w).toMatch(/network cams: .*overlaps the router's DHCP pool/);
    expect(w).toMatch(/network cams: its Docker side \(nas: container-range 10\.230\.0\.128\/25\) is left out of the draft: dhcp-pool: /);
    expect(w).toMatch(/host down could not be read: connection refused/);
    expect(draft).toContain('# host local: not read (no ssh: it is read only on the host itself, with --host local)');
    expect(draft).toMatch(/# named media after the Docker network \(the spec's network name is the Docker network's\), not after vlan210-mediaserver/);
    expect(draft).not.toContain('bridge (bridge)');
  });

  it("untagged on the LAN of a router with its default DHCP pool (.10-.254): router: core, the router's gateway; the pool that overlaps the containers is left out, said; no ip-range: a range proposed clear of the pool", async () => {
    const port = await router({});
    const lanDevices = (hosts: Record<string, string[]>) => devices(port, hosts).replace('    bridge: main-bridge\n', '    bridge: bridge\n');
    const lanLinks = (shim: string) => ({ links: [link('enp3s0', undefined, undefined, { addresses: ['192.168.88.9/24'] }), link('lan-shim', 'macvlan', 'enp3s0', { addresses: [`${shim}/32`] })], routes: [] });
    // the containers' range inside the router's pool, a shim there too, and Docker's gateway left to its default
    const nas = { links: lanLinks('192.168.88.200'), networks: [network('lan-apps', 'enp3s0', { subnet: '192.168.88.0/24', range: '192.168.88.192/27' })] };
    const { model, draft, report, code } = await draftOf(lanDevices({ nas: NAS }), { nas });
    expect(code).toBe(0);
    expect(model.networks.map((n) => [n.name, n.router, n.vlan, n.ipv4.gateway, n.ipv4.containerRange, n.ipv4.dhcpPool, n.hosts])).toEqual([['lan-apps', 'core', undefined, '192.168.88.1', '192.168.88.192/27', undefined, ['nas']]]);
    expect(draft).toMatch(/router: core # the LAN of router core \/ip\/address 192\.168\.88\.1\/24 on bridge\n/);
    expect(report.warnings.join('\n')).toMatch(/network lan-apps: the container range 192\.168\.88\.192\/27 overlaps the LAN's DHCP pool 192\.168\.88\.10-192\.168\.88\.254 .*dhcp-pool is left out of the draft: shrink the pool on the router/);
    // without an ip-range: the proposal stays clear of the gateway and the router's pool
    const bare = { links: lanLinks('192.168.88.2'), networks: [network('lan-apps', 'enp3s0', { subnet: '192.168.88.0/24', gateway: '192.168.88.1' })] };
    const proposed = await draftOf(lanDevices({ nas: NAS }), { nas: bare });
    const range = parseCidr(proposed.model.networks[0]!.ipv4.containerRange!)!;
    expect(proposed.model.networks[0]!.ipv4.dhcpPool).toEqual({ first: '192.168.88.10', last: '192.168.88.254' });
    expect(range.last < parseIp('192.168.88.10')!.value && range.first > parseIp('192.168.88.1')!.value).toBe(true);
  });
});

describe('import: RouterOS switches', () => {
  it("a switch's access ports (bridge ports whose pvid is a VLAN of its router) join the network as <switch>:<port>", async () => {
    const corePort = await router({ 200: { address: '192.168.200.1/24' } });
    const sw = new FakeRouterOS({ password: PASSWORD });
    fakes.push(sw);
    sw.addRow('/interface/bridge', { name: 'bridge', 'vlan-filtering': 'yes' });
    for (let i = 1; i <= 5; i++) sw.addRow('/interface/ethernet', { name: `ether${i}`, 'default-name': `ether${i}` });
    sw.addRow('/interface/bridge/port', { bridge: 'bridge', interface: 'ether1', pvid: '1' });
    sw.addRow('/interface/bridge/port', { bridge: 'bridge', interface: 'ether3', pvid: '200' });
    sw.addRow('/interface/bridge/port', { bridge: 'bridge', interface: 'ether4', pvid: '444' });
    sw.addRow('/interface/bridge/port', { bridge: 'bridge', interface: 'ether5', pvid: '1' });
    const swPort = await sw.start();
    const spec = [
      'version: 1',
      ...routerLines(corePort),
      'switches:',
      '  sw1:',
      '    type: routeros',
      '    address: 127.0.0.1',
      `    port: ${swPort}`,
      '    password-env: P',
      '    uplink: ether1',
      '    connected-to: core:ether2',
      '',
    ].join('\n');
    const { model, draft, report, code } = await draftOf(spec, {});
    expect(code).toBe(0);
    expect(model.switches[0]!.vlanPorts['docker-demo']!.untagged).toEqual(['ether3']);
    expect(draft).toMatch(/access-ports: \[sw1:ether3\] # from switch sw1 \/interface\/bridge\/port: pvid 200\n/);
    expect(report.warnings.join('\n')).toMatch(/switch sw1: bridge ports with a PVID that no network of router core has, not imported: ether4 \(pvid 444\)/);
  });
});

// ---- a real dockerd ---------------------------------------------------------------------------------------------

const dockerSupport = dockerTestSupport();
/** 802.1Q in this kernel: else the VLAN device eth0.200 is a veth stand-in (its VLAN then comes from its name) */
const VLAN = dockerSupport.ok ? probeKernel().vlan : false;
const STAND_IN = VLAN ? '' : ' (eth0.200 is a veth stand-in: this kernel has no 802.1Q)';

/** The guide's setup on a test host: eth0.200, the Docker network docker-demo, the shim docker-link with its route. */
async function guideSetup(h: DockerTestHost): Promise<void> {
  const must = async (argv: string[]) => {
    const r = await h.exec(argv);
    if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  };
  if (VLAN) await must(['ip', 'link', 'add', 'link', h.parent, 'name', `${h.parent}.200`, 'type', 'vlan', 'id', '200']);
  else await must(['ip', 'link', 'add', `${h.parent}.200`, 'type', 'veth', 'peer', 'name', 'fnimp-peer']);
  await must(['ip', 'link', 'set', `${h.parent}.200`, 'up']);
  const created = await h.docker(['network', 'create', '-d', 'macvlan', '--subnet', '192.168.200.0/24', '--gateway', '192.168.200.1', '--ip-range', '192.168.200.192/27', '--aux-address', 'host=192.168.200.192', '-o', `parent=${h.parent}.200`, 'docker-demo']);
  if (created.code !== 0) throw new Error(created.stderr);
  await must(['ip', 'link', 'add', 'docker-link', 'link', `${h.parent}.200`, 'type', 'macvlan', 'mode', 'bridge']);
  await must(['ip', 'addr', 'add', '192.168.200.192/32', 'dev', 'docker-link']);
  await must(['ip', 'link', 'set', 'docker-link', 'up']);
  await must(['ip', 'route', 'add', '192.168.200.192/27', 'dev', 'docker-link']);
}

describe.skipIf(!dockerSupport.ok)(`import: a local Docker host, real dockerd in a namespace${STAND_IN}${!dockerSupport.ok ? ` (skipped: ${dockerSupport.reason})` : ''}`, () => {
  let h: DockerTestHost;
  let path = '';
  beforeAll(async () => {
    h = await DockerTestHost.start();
    await guideSetup(h);
    // this machine's `ip` is the namespace's: the local transport's reads run there, unchanged
    const bin = mkdtempSync(join(h.scratch, 'bin-'));
    const [nsenter, net] = h.nsenter([]);
    const real = execFileSync('sh', ['-c', 'command -v ip'], { encoding: 'utf8' }).trim();
    writeFileSync(join(bin, 'ip'), `#!/bin/sh\nexec ${nsenter} ${net} ${real} "$@"\n`);
    chmodSync(join(bin, 'ip'), 0o755);
    path = process.env.PATH ?? '';
    process.env.PATH = `${bin}:${path}`;
  }, 120_000);
  afterAll(async () => {
    if (path) process.env.PATH = path;
    await h?.stop();
  }, 90_000);

  it("--host nas (no ssh: this machine): the guide's setup imports as the person's spec", async () => {
    const port = await router({ 200: { address: '192.168.200.1/24' } });
    const spec = devices(port, { nas: [`parent: ${h.parent}`] });
    const result = await importFromText(spec, 'devices.yaml', { env: { P: PASSWORD, DOCKER_HOST: `unix://${h.socket}` }, routers: ['core'], hosts: ['nas'] });
    const model = modelFromText(result.draft, 'draft.yaml');
    expect(result.report.warnings).toEqual([]);
    expect(result.code).toBe(0);
    const want = modelFromText(personSpec(port, [], h.parent));
    expect(view(model)).toEqual(view(want));
    expect(hostArtifacts(model)).toEqual(hostArtifacts(want));
    expect(result.draft).toMatch(/host nas \(Docker [^,]+, this machine\)/);
  }, 60_000);

  it('without --host the local host is not read: a comment says how', async () => {
    const port = await router({ 200: { address: '192.168.200.1/24' } });
    const result = await importFromText(devices(port, { nas: [`parent: ${h.parent}`] }), 'devices.yaml', { env: { P: PASSWORD, DOCKER_HOST: `unix://${h.socket}` } });
    modelFromText(result.draft);
    expect(result.draft).toContain('# host nas: not read (no ssh: it is read only on the host itself, with --host nas)');
    expect(modelFromText(result.draft).networks[0]!.hosts).toEqual([]);
  }, 60_000);
});

const remoteSupport = remoteHostSupport();
describe.skipIf(!remoteSupport.ok)(`import: a Docker host over SSH (sshd + dockerd in a namespace)${STAND_IN}${!remoteSupport.ok ? ` (skipped: ${remoteSupport.reason})` : ''}`, () => {
  let h: RemoteDockerHost;
  beforeAll(async () => {
    h = await RemoteDockerHost.start();
    await guideSetup(h.docker);
  }, 120_000);
  afterAll(async () => {
    await h?.stop();
  }, 90_000);

  it("the guide's setup over one SSH connection imports as the person's spec", async () => {
    const port = await router({ 200: { address: '192.168.200.1/24' } });
    const lines = [`parent: ${h.docker.parent}`, ...h.hostLines()];
    const logins = h.logins();
    const result = await importFromText(devices(port, { nas: lines }), 'devices.yaml', { env: { P: PASSWORD, HOME: h.home } });
    const model = modelFromText(result.draft, 'draft.yaml');
    expect(result.report.warnings).toEqual([]);
    expect(result.code).toBe(0);
    const want = modelFromText(personSpec(port, h.hostLines(), h.docker.parent));
    expect(view(model)).toEqual(view(want));
    expect(hostArtifacts(model)).toEqual(hostArtifacts(want));
    expect(h.logins() - logins).toBe(1);
    expect(result.draft).toContain(`key-file: ${h.clientKeyFile}`);
  }, 60_000);

  it("the draft through the CLI over SSH: plan refuses the hand-made network and shim naming --adopt; plan --adopt shows = adopt; apply --adopt keeps the network's Id and the shim's ifindex; converged after", async () => {
    const port = await router({ 200: { address: '192.168.200.1/24' } });
    const result = await importFromText(devices(port, { nas: [`parent: ${h.docker.parent}`, ...h.hostLines()] }), 'devices.yaml', { env: { P: PASSWORD, HOME: h.home } });
    expect(result.code, result.report.warnings.join('\n')).toBe(0);
    const draft = join(h.docker.scratch, 'draft.yaml');
    writeFileSync(draft, result.draft);
    const cli = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
      new Promise((resolve) => {
        execFile(process.execPath, [bin, ...args, '--install-root', h.installRoot], { env: { PATH: process.env.PATH ?? '', HOME: h.home, NO_COLOR: '1', P: PASSWORD }, timeout: 60_000 }, (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
          resolve({ code, stdout, stderr });
        });
      });
    /** The plan's change lines (`+ ~ - =`, up to the note) of one device's section, e.g. `host nas`. */
    const lines = (stdout: string, device: string) => {
      const at = stdout.split('\n');
      const from = at.findIndex((l) => l.startsWith(`${device} (`));
      expect(from, `${device} in:\n${stdout}`).toBeGreaterThanOrEqual(0);
      const to = at.findIndex((l, i) => i > from && /^\S/.test(l));
      return at.slice(from + 1, to < 0 ? undefined : to).filter((l) => /^ {2}[+~\-=] /.test(l)).map((l) => l.trim().split('  ')[0]);
    };
    const fake = fakes.at(-1)!;
    const vlanRow = fake.rows('/interface/vlan').find((r) => r['vlan-id'] === '200')!;
    const addressRow = fake.rows('/ip/address').find((r) => r.address === '192.168.200.1/24')!;
    const parent = `${h.docker.parent}.200`;
    const inspect = async () => (await h.docker.engine('GET', '/networks/docker-demo')).json as { Id: string; Labels?: Record<string, string> };
    const link = async (dev: string) => JSON.parse((await h.docker.exec(['ip', '-j', 'link', 'show', 'dev', dev])).stdout)[0] as { ifindex: number; ifalias?: string };
    const before = await inspect();
    const shim = await link('docker-link');
    expect(shim.ifalias).toBeUndefined();

    // without --adopt: refused, naming --adopt, for the router's VLAN and address and the host's network and shim
    const refused = await cli(['plan', draft]);
    expect(refused.code, refused.stdout + refused.stderr).toBe(1);
    expect(refused.stdout).toMatch(/networks\.docker-demo\.vlan: VLAN 200 already exists on main-bridge as interface "vlan-200-docker-demo", not created by flatnet: plan --adopt/);
    expect(refused.stdout).toMatch(/networks\.docker-demo\.gateway: address 192\.168\.200\.1 is already on interface "vlan-200-docker-demo" .*plan --adopt/);
    expect(refused.stdout).toMatch(/networks\.docker-demo: Docker network "docker-demo" exists and was not made by flatnet .*plan --adopt/);
    expect(refused.stdout).toMatch(new RegExp(`hosts\\.nas: link docker-link \\(macvlan mode bridge on ${parent.replace('.', '\\.')}\\) exists and is not flatnet's .*plan --adopt`));
    expect(refused.stdout).toMatch(/cannot plan core: .*nothing was changed/);
    expect(refused.stdout).toMatch(/cannot plan nas: .*nothing was changed/);

    // --adopt: the hand-made objects are taken over in place; the host adds only its boot files, the router
    // the firewall of flatnet's defaults (the draft's: the fake router has no rule for the VLAN)
    const plan = await cli(['plan', draft, '--adopt']);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    expect(lines(plan.stdout, 'host nas')).toEqual([
      ...(VLAN ? [`= VLAN parent link ${parent}`] : []),
      `= docker network docker-demo (macvlan on ${parent}, 192.168.200.0/24 ip-range 192.168.200.192/27)`,
      '= shim link docker-link',
      '+ file /etc/flatnet/nas.sh',
      '+ file /etc/systemd/system/flatnet-nas.service',
      '+ file /etc/systemd/system/multi-user.target.wants/flatnet-nas.service',
      `+ file /etc/systemd/system/sys-subsystem-net-devices-${h.docker.parent}.device.wants/flatnet-nas.service`,
    ]);
    expect(plan.stdout).toMatch(new RegExp(`Plan: 4 to add, 0 to change, 0 to remove, ${VLAN ? 3 : 2} to adopt\\.`));
    const core = lines(plan.stdout, 'router core');
    // the guide's name is not flatnet's: adopted and renamed in the same step (what is attached follows the id)
    expect(core.slice(0, 2)).toEqual(['~ /interface/vlan vlan-200-docker-demo (vlan-id 200 on main-bridge)', '= /ip/address 192.168.200.1/24 on vlan200-docker-demo']);
    expect(plan.stdout).toMatch(/^ {2}~ \/interface\/vlan vlan-200-docker-demo \(vlan-id 200 on main-bridge\) {2}\(made by hand, taken over in place; renamed in place/m);
    expect(plan.stdout).toMatch(/^ {6}~ comment += +-> flatnet:docker-demo$/m);
    expect(core.slice(2).length).toBeGreaterThan(0);
    expect(core.slice(2).filter((l) => !/^\+ \/ip(v6)?\/firewall\/filter /.test(l))).toEqual([]);

    const applied = await cli(['apply', draft, '--adopt', '--yes']);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/applied router core: \d+ changes/);
    expect(applied.stdout).toMatch(new RegExp(`applied host nas: ${VLAN ? 7 : 6} changes`));
    // the same network (no label: recorded in owners.json), the same shim with flatnet's alias
    const after = await inspect();
    expect(after.Id).toBe(before.Id);
    expect(after.Labels ?? {}).toEqual({});
    expect(JSON.parse(readFileSync(join(h.installRoot, 'etc/flatnet/owners.json'), 'utf8')).networks[before.Id]).toEqual({ name: 'docker-demo', adopted: true });
    expect(await link('docker-link')).toMatchObject({ ifindex: shim.ifindex, ifalias: 'flatnet:docker-demo' });
    expect((await link(parent)).ifalias).toBe(VLAN ? `flatnet:${parent}` : undefined);
    // the router's rows: the same ids, flatnet's comment, the guide's VLAN renamed
    expect(fake.rows('/interface/vlan').find((r) => r['.id'] === vlanRow['.id'])).toMatchObject({ name: 'vlan200-docker-demo', comment: 'flatnet:docker-demo' });
    expect(fake.rows('/ip/address').find((r) => r['.id'] === addressRow['.id'])).toMatchObject({ interface: 'vlan200-docker-demo', comment: 'flatnet:docker-demo' });

    // flatnet's from then on, router and host
    const again = await cli(['plan', draft, '--detailed-exitcode']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain('no changes: the router matches the spec');
    expect(again.stdout).toContain('no changes: the host matches the spec');
    expect((await inspect()).Id).toBe(before.Id);
  }, 120_000);
});
