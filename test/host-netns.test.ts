// The generated host shim commands, run for real on a kernel: for every example spec and every host with
// networks, a throwaway network namespace gets the host's parent NIC (and its LAN address: the seed's trap
// is a prefix-route conflict), the script of `generate --target host --host` runs in it under `sh -e`, and
// the resulting links, addresses and routes are read back with `ip -j` and compared with the model. The
// script then runs a second time and must leave the state unchanged.
//
// Needs root and iproute2 (`ip netns add`); otherwise the suite is skipped with a warning. Nothing touches
// the root namespace's interfaces and no traffic is sent.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type Attachment, type HostModel } from '../src/index.js';
import { parseIp } from '../src/ip.js';
import {
  createNamespace,
  deleteAllNamespaces,
  ipJson,
  nextNamespaceName,
  nsMust,
  nsScript,
  probeKernel,
  type IpAddr,
  type IpLink,
  type IpRoute,
  type Result,
} from './netns/netns.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'flatnet-router.js');
const examplesDir = join(root, 'examples');
const CASE_TIMEOUT = 10_000;

const kernel = probeKernel();
const parentKind = kernel.dummy ? 'dummy' : 'veth';
/** Without 802.1Q in the kernel, `<parent>.<vlan>` is pre-created as a veth stand-in (see standInVlans). */
const vlanStandIn = !kernel.vlan;

if (kernel.unavailable) {
  console.warn(`host-netns.test.ts: SKIPPED, the generated host commands are not run on a kernel: ${kernel.unavailable}. Run as root with iproute2 to run them.`);
} else {
  const missing = [!kernel.dummy && 'dummy', !kernel.vlan && '802.1Q vlan', !kernel.macvlan && 'macvlan', !kernel.ipvlan && 'ipvlan'].filter(Boolean);
  if (missing.length > 0) {
    console.warn(
      `host-netns.test.ts: this kernel lacks link type(s): ${missing.join(', ')}.` +
        (kernel.dummy ? '' : ' Parent NICs are veth devices instead of dummy.') +
        (vlanStandIn ? ' VLAN devices <parent>.<vlan> are pre-created as veth stand-ins, so the scripts\' `ip link add … type vlan` is NOT exercised here.' : '') +
        (kernel.ipvlan ? '' : ' Hosts with ipvlan networks are skipped.'),
    );
  }
}

interface Case {
  spec: string;
  file: string;
  host: HostModel;
}

const cases: Case[] = readdirSync(examplesDir)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .flatMap((spec) => {
    const file = join(examplesDir, spec);
    return loadModel(file)
      .hosts.filter((h) => h.attachments.length > 0)
      .map((host) => ({ spec, file, host }));
  });

// ---- addresses ---------------------------------------------------------------------------------------------

/** One spelling per address (ip and the model may compress IPv6 differently): the project's own parser. */
function canonIp(a: string): string {
  return parseIp(a)?.text ?? a;
}

/** `ip route` prints a host route without its /32 (/128). */
function canonCidr(c: string): string {
  const [addr, len] = c.split('/');
  return `${canonIp(addr!)}/${len ?? (addr!.includes(':') ? '128' : '32')}`;
}

// ---- namespace setup ---------------------------------------------------------------------------------------

/** The host as the spec describes it: its parent NIC, up, with its own LAN address when the spec gives one. */
function setUpHost(ns: string, host: HostModel): void {
  if (kernel.dummy) nsMust(ns, ['ip', 'link', 'add', host.parent, 'type', 'dummy']);
  else {
    nsMust(ns, ['ip', 'link', 'add', host.parent, 'type', 'veth', 'peer', 'name', 'fntpeer']);
    nsMust(ns, ['ip', 'link', 'set', 'fntpeer', 'up']);
  }
  nsMust(ns, ['ip', 'link', 'set', host.parent, 'up']);
  if (host.address) nsMust(ns, ['ip', 'addr', 'add', host.address, 'dev', host.parent]);
  if (vlanStandIn) standInVlans(ns, host);
}

/**
 * Only on a kernel without 802.1Q: pre-creates each `<parent>.<vlan>` as a veth so that the rest of the
 * script (the guarded `ip link add … type vlan` is then skipped by its own `ip link show` guard) still runs
 * against a lower device of the right name. The VLAN kind/id assertions are not made in this mode.
 */
function standInVlans(ns: string, host: HostModel): void {
  for (const a of host.attachments) {
    if (a.vlan === undefined) continue;
    nsMust(ns, ['ip', 'link', 'add', a.link, 'type', 'veth', 'peer', 'name', `fntv${a.vlan}`]);
    nsMust(ns, ['ip', 'link', 'set', `fntv${a.vlan}`, 'up']);
  }
}

function newHostNamespace(host: HostModel): string {
  const ns = nextNamespaceName();
  createNamespace(ns);
  setUpHost(ns, host);
  return ns;
}

// ---- the script --------------------------------------------------------------------------------------------

/** The script exactly as users get it: `flatnet-router generate <spec> --target host --host <name>`. */
function generateHostScript(file: string, host: string): string {
  const r = spawnSync(process.execPath, [bin, 'generate', file, '--target', 'host', '--host', host], { cwd: root, encoding: 'utf8' });
  expect(r.status, `generate failed: ${r.stderr}`).toBe(0);
  expect(r.stdout.trim()).not.toBe('');
  return r.stdout;
}

function failure(what: string, script: string, r: Result): string {
  return `${what} exited ${r.status}${r.error ? ` (${r.error})` : ''}\n--- script ---\n${script}--- stderr ---\n${r.stderr}`;
}

// ---- the kernel's state ------------------------------------------------------------------------------------

interface State {
  links: Map<string, IpLink>;
  addrs: Map<string, IpAddr>;
  routes4: IpRoute[];
  routes6: IpRoute[];
}

function readState(ns: string): State {
  const links = ipJson<IpLink[]>(ns, ['-d', 'link', 'show']);
  const addrs = ipJson<IpAddr[]>(ns, ['addr', 'show']);
  return {
    links: new Map(links.map((l) => [l.ifname, l])),
    addrs: new Map(addrs.map((a) => [a.ifname, a])),
    routes4: ipJson<IpRoute[]>(ns, ['-4', 'route', 'show', 'table', 'main']),
    routes6: ipJson<IpRoute[]>(ns, ['-6', 'route', 'show', 'table', 'main']),
  };
}

/** Global-scope addresses of a device as `addr/len` (link-local IPv6 addresses are the kernel's own). */
function globalAddrs(s: State, dev: string, family: 'inet' | 'inet6'): string[] {
  return (s.addrs.get(dev)?.addr_info ?? [])
    .filter((i) => i.family === family && i.scope === 'global')
    .map((i) => canonCidr(`${i.local}/${i.prefixlen}`))
    .sort();
}

function routesTo(routes: IpRoute[], cidr: string): IpRoute[] {
  return routes.filter((r) => canonCidr(r.dst) === canonCidr(cidr));
}

function assertAttachment(s: State, a: Attachment): void {
  const where = `${a.host}/${a.network} (${a.shimName})`;
  const shim = s.links.get(a.shimName);
  expect(shim, `${where}: shim link ${a.shimName} exists`).toBeDefined();
  expect(shim!.linkinfo?.info_kind, `${where}: shim kind`).toBe(a.driver);
  expect(shim!.flags, `${where}: shim is up`).toContain('UP');
  expect(shim!.link, `${where}: shim's lower link`).toBe(a.link);

  if (a.vlan === undefined) {
    expect(a.link, `${where}: untagged network sits on the parent`).toBe(a.parent);
  } else {
    expect(a.link, `${where}: VLAN link name`).toBe(`${a.parent}.${a.vlan}`);
    const lower = s.links.get(a.link);
    expect(lower, `${where}: VLAN link ${a.link} exists`).toBeDefined();
    expect(lower!.flags, `${where}: VLAN link is up`).toContain('UP');
    if (!vlanStandIn) {
      expect(lower!.linkinfo?.info_kind, `${where}: ${a.link} kind`).toBe('vlan');
      expect(lower!.linkinfo?.info_data?.id, `${where}: ${a.link} VLAN id`).toBe(a.vlan);
      expect(lower!.linkinfo?.info_data?.protocol, `${where}: ${a.link} protocol`).toBe('802.1Q');
      expect(lower!.link, `${where}: ${a.link} sits on the parent`).toBe(a.parent);
    }
  }

  // Exactly the /32 (/128): a shorter prefix makes the kernel add the range's route itself (the seed's trap).
  expect(globalAddrs(s, a.shimName, 'inet'), `${where}: IPv4 shim address`).toEqual([canonCidr(`${a.ipv4.shimAddress}/32`)]);
  expect(globalAddrs(s, a.shimName, 'inet6'), `${where}: IPv6 shim address`).toEqual(a.ipv6 ? [canonCidr(`${a.ipv6.shimAddress}/128`)] : []);

  const r4 = routesTo(s.routes4, a.ipv4.route);
  expect(r4.map((r) => r.dev), `${where}: the one route to ${a.ipv4.route}`).toEqual([a.shimName]);
  expect(r4[0]!.gateway, `${where}: ${a.ipv4.route} is on-link`).toBeUndefined();
  if (a.ipv6) {
    const r6 = routesTo(s.routes6, a.ipv6.route);
    expect(r6.map((r) => r.dev), `${where}: the one route to ${a.ipv6.route}`).toEqual([a.shimName]);
    expect(r6[0]!.gateway, `${where}: ${a.ipv6.route} is on-link`).toBeUndefined();
  }
}

/** The namespace matches the model for every network of the host, and the host's own NIC is untouched. */
function assertHostState(ns: string, host: HostModel): void {
  const s = readState(ns);
  const parent = s.links.get(host.parent);
  expect(parent, `parent ${host.parent} still exists`).toBeDefined();
  expect(parent!.flags).toContain('UP');
  if (host.address) {
    const family = host.address.includes(':') ? 'inet6' : 'inet';
    expect(globalAddrs(s, host.parent, family), `${host.parent} keeps the host's address`).toEqual([canonCidr(host.address)]);
  }
  for (const a of host.attachments) assertAttachment(s, a);
}

/** Everything a second run could change, without fields the kernel updates by itself (DAD, counters). */
function snapshot(ns: string): unknown {
  const s = readState(ns);
  const links = [...s.links.values()]
    .map((l) => {
      const d = l.linkinfo?.info_data ?? {};
      return { ifindex: l.ifindex, ifname: l.ifname, link: l.link, mac: l.address, up: l.flags.includes('UP'), kind: l.linkinfo?.info_kind, mode: d.mode, id: d.id, protocol: d.protocol };
    })
    .sort((x, y) => x.ifname.localeCompare(y.ifname));
  const addrs = Object.fromEntries([...s.addrs.keys()].sort().map((dev) => [dev, [...globalAddrs(s, dev, 'inet'), ...globalAddrs(s, dev, 'inet6')]]));
  const route = (r: IpRoute) => ({ dst: canonCidr(r.dst), dev: r.dev, gateway: r.gateway, protocol: r.protocol, scope: r.scope, metric: r.metric, type: r.type });
  const keep6 = (r: IpRoute) => !r.dst.startsWith('fe80:') && !r.dst.startsWith('ff00:') && r.dst !== 'multicast';
  const byDst = (x: { dst: string; dev?: string }, y: { dst: string; dev?: string }) => `${x.dst} ${x.dev}`.localeCompare(`${y.dst} ${y.dev}`);
  return { links, addrs, routes4: s.routes4.map(route).sort(byDst), routes6: s.routes6.filter(keep6).map(route).sort(byDst) };
}

// ---- the tests ---------------------------------------------------------------------------------------------

describe.skipIf(kernel.unavailable !== undefined)(`generated host shim commands on a real kernel (network namespaces)${kernel.unavailable !== undefined ? ` (skipped: ${kernel.unavailable})` : ''}`, () => {
  beforeAll(() => {
    if (!existsSync(join(root, 'dist', 'src', 'cli.js'))) spawnSync('npx', ['tsc', '-p', root], { cwd: root, stdio: 'inherit' });
  });
  afterEach(() => deleteAllNamespaces());
  afterAll(() => deleteAllNamespaces());

  it('covers every example host that has networks', () => {
    expect(cases.length).toBeGreaterThanOrEqual(6);
    expect(cases.some((c) => c.host.attachments.some((a) => a.vlan !== undefined))).toBe(true);
    expect(cases.some((c) => c.host.attachments.some((a) => a.ipv6))).toBe(true);
    expect(cases.some((c) => c.host.address !== undefined)).toBe(true);
  });

  for (const c of cases) {
    const shims = c.host.attachments.map((a) => (a.vlan === undefined ? `${a.shimName} on ${a.link}` : `${a.shimName} on ${a.link} (VLAN ${a.vlan})`));
    const unsupported = [...new Set(c.host.attachments.map((a) => a.driver))].filter((d) => !kernel[d]);
    const usesVlan = c.host.attachments.some((a) => a.vlan !== undefined);
    const title = `${c.spec}, host ${c.host.name} [${c.host.parent}${c.host.address ? ` ${c.host.address}` : ''}; ${shims.join(', ')}]`;
    if (unsupported.length > 0) {
      it.skip(`${title} (skipped: kernel has no ${unsupported.join('/')})`, () => {});
      continue;
    }
    const note = usesVlan && vlanStandIn ? ' (VLAN devices are veth stand-ins: kernel has no 802.1Q)' : '';
    it(
      `${title}: runs under sh -e, matches the model, second run changes nothing${note}`,
      () => {
        const ns = newHostNamespace(c.host);
        const script = generateHostScript(c.file, c.host.name);

        const first = nsScript(ns, script);
        expect(first.status, failure('first run', script, first)).toBe(0);
        assertHostState(ns, c.host);
        const before = snapshot(ns);

        const second = nsScript(ns, script);
        expect(second.status, failure('second run', script, second)).toBe(0);
        expect(snapshot(ns), 'state after the second run').toEqual(before);
        assertHostState(ns, c.host);
      },
      CASE_TIMEOUT,
    );
  }

  if (vlanStandIn && cases.some((c) => c.host.attachments.some((a) => a.vlan !== undefined))) {
    it.skip('VLAN device creation (`ip link add link <parent> name <parent>.<vlan> type vlan id <vlan>`) (skipped: kernel has no 802.1Q; modprobe 8021q)', () => {});
  }

  /** A one-host, one-network spec with the given shim address and container range (IPv6 too with v6). */
  function changedSpec(dir: string, tag: string, shim: string, range: string, v6?: { shim: string; range: string }): { file: string; host: HostModel } {
    const file = join(dir, `${tag}.yaml`);
    const lines = [
      'version: 1',
      'hosts:',
      '  nas:',
      '    parent: enp3s0',
      '    address: 192.168.88.9/24',
      'networks:',
      '  macvlan1:',
      '    host: nas',
      '    subnet: 192.168.88.0/24',
      '    gateway: 192.168.88.1',
      `    container-range: ${range}`,
      `    shim-address: ${shim}`,
      '    shim-name: docker-link',
    ];
    if (v6) lines.push('    ipv6:', '      subnet: fd00:88::/64', '      gateway: fd00:88::1', `      container-range: ${v6.range}`, `      shim-address: ${v6.shim}`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    return { file, host: loadModel(file).hosts.find((h) => h.name === 'nas')! };
  }

  it(
    'after a change of shim-address and container-range the shim has exactly the new addresses and routes',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'fnt-spec-'));
      try {
        const before = changedSpec(dir, 'before', '192.168.88.192', '192.168.88.192/27', { shim: 'fd00:88::1000', range: 'fd00:88::1000/116' });
        const after = changedSpec(dir, 'after', '192.168.88.225', '192.168.88.224/28', { shim: 'fd00:88::2000', range: 'fd00:88::2000/116' });
        const ns = newHostNamespace(before.host);
        const first = generateHostScript(before.file, 'nas');
        expect(nsScript(ns, first).status).toBe(0);
        assertHostState(ns, before.host);

        const script = generateHostScript(after.file, 'nas');
        const r = nsScript(ns, script);
        expect(r.status, failure('run after the spec change', script, r)).toBe(0);
        // exactly one /32 and one /128 (the new ones), one route per family through the shim (the new range)
        assertHostState(ns, after.host);
        const s = readState(ns);
        expect(routesTo(s.routes4, '192.168.88.192/27'), 'the old IPv4 route is gone').toEqual([]);
        expect(routesTo(s.routes6, 'fd00:88::1000/116'), 'the old IPv6 route is gone').toEqual([]);
        expect(s.routes4.filter((x) => x.dev === 'docker-link').map((x) => canonCidr(x.dst))).toEqual(['192.168.88.224/28']);
        const snap = snapshot(ns);
        expect(nsScript(ns, script).status).toBe(0);
        expect(snapshot(ns), 'a further run changes nothing').toEqual(snap);

        // and back to IPv4 only: the IPv6 address and route go too
        const v4only = changedSpec(dir, 'v4only', '192.168.88.225', '192.168.88.224/28');
        const back = generateHostScript(v4only.file, 'nas');
        expect(nsScript(ns, back).status).toBe(0);
        assertHostState(ns, v4only.host);
        expect(readState(ns).routes6.filter((x) => x.dev === 'docker-link' && !x.dst.startsWith('fe80:')), 'no IPv6 route left on the shim').toEqual([]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    CASE_TIMEOUT,
  );

  it(
    'negative control: the seed sequence (/27 on the shim, then ip route add) fails with "File exists"',
    () => {
      const host = loadModel(join(examplesDir, 'flat-lan.yaml')).hosts.find((h) => h.name === 'nas')!;
      expect(host.parent).toBe('enp3s0');
      expect(host.address).toBe('192.168.88.9/24');
      const ns = newHostNamespace(host);
      const seed = [
        'ip link add docker-link link enp3s0 type macvlan mode bridge',
        'ip addr add 192.168.88.192/27 brd + dev docker-link',
        'ip link set docker-link up',
        'ip route add 192.168.88.192/27 dev docker-link',
        '',
      ].join('\n');
      const r = nsScript(ns, seed);
      expect(r.status, failure('the seed sequence', seed, r)).not.toBe(0);
      expect(r.stderr).toContain('File exists');
      // and the state check used above rejects what the seed leaves behind (a /27 on docker-link)
      expect(() => assertHostState(ns, host)).toThrow(/IPv4 shim address/);
      // the generated script, run over what the seed left, leaves exactly the spec's /32 and route
      const script = generateHostScript(join(examplesDir, 'flat-lan.yaml'), 'nas');
      const fixed = nsScript(ns, script);
      expect(fixed.status, failure('the script after the seed', script, fixed)).toBe(0);
      assertHostState(ns, host);
    },
    CASE_TIMEOUT,
  );
});
