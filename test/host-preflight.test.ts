// Host preflight (issue 21 point 3): a VLAN network on a host whose kernel has no 802.1Q ("Unknown device
// type") is a live problem of the plan at networks.<name>.vlan, with the fix (modprobe 8021q). The probe runs
// in a network namespace of its own, only when a VLAN link the spec needs is missing: a link that exists (made
// by hand, or the namespace tests' stand-ins) is used as it is. This machine's kernel decides which way the
// real-kernel tests go; both ways are checked.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseSpecText, resolveModel, type Model } from '../src/index.js';
import { diffHost, snapshotRequest } from '../targets/host/diff.js';
import type { LiveLink } from '../targets/host/links.js';
import { LocalTransport } from '../targets/host/local.js';
import { parseSections, snapshotScript } from '../targets/host/remote.js';
import { parseVlanProbe, type HostSnapshot } from '../targets/host/transport.js';
import { probeKernel } from './netns/netns.js';

const model = (text: string): Model => resolveModel(parseSpecText(text, 'spec.yaml'));
const SPEC = model(`version: 1
routers:
  core:
    type: routeros
    address: 192.168.88.1
    password-env: P
hosts:
  nas:
    parent: eth0
networks:
  cams:
    router: core
    host: nas
    vlan: 40
    subnet: 192.168.40.0/24
    gateway: 192.168.40.1
    container-range: 192.168.40.192/27
`);

const parent: LiveLink = { ifname: 'eth0', ifindex: 2, flags: ['BROADCAST', 'UP'], addresses: [] };
const snapshot = (links: LiveLink[], noVlan?: string): HostSnapshot => ({
  links: { links, routes: [] },
  files: new Map(),
  symlinks: new Map(),
  netif: new Map(),
  networkManager: false,
  systemd: false,
  ...(noVlan !== undefined ? { noVlan } : {}),
});
const diff = (snap: HostSnapshot) => diffHost({ model: SPEC, host: SPEC.hosts[0]!, snapshot: snap, networks: [], containers: new Map(), recreateNetworks: false }, 'nas');

describe('host preflight: 802.1Q', () => {
  it('the plan asks for the VLAN links the spec needs', () => {
    expect(snapshotRequest(SPEC.hosts[0]!).vlanLinks).toEqual(['eth0.40']);
  });

  it('no 802.1Q and the VLAN link missing: a problem at networks.<name>.vlan naming modprobe 8021q', () => {
    const d = diff(snapshot([parent], 'Unknown device type.'));
    expect(d.problems).toEqual([
      {
        path: ['networks', 'cams', 'vlan'],
        message: 'the kernel of nas has no 802.1Q VLAN support, so eth0.40 (VLAN 40 on eth0) cannot be created (ip link add … type vlan: Unknown device type.): load it with `modprobe 8021q` (and list 8021q in /etc/modules-load.d/ to keep it after a reboot), then plan again',
      },
    ]);
  });

  it('a VLAN link that exists already (made by hand, a stand-in) needs no 802.1Q; with 802.1Q the link is planned', () => {
    const existing: LiveLink = { ifname: 'eth0.40', ifindex: 3, flags: ['UP'], link: 'eth0', addresses: [] };
    expect(diff(snapshot([parent, existing], 'Unknown device type.')).problems).toEqual([]);
    const ok = diff(snapshot([parent]));
    expect(ok.problems).toEqual([]);
    expect(ok.changes[0]).toMatchObject({ action: 'add', kind: 'VLAN parent link', name: 'eth0.40 (vlan 40 on eth0)' });
  });

  it('reads the probe: the kernel\'s words, nothing when it cannot tell', () => {
    expect(parseVlanProbe('no: Error: Unknown device type.\n')).toBe('Unknown device type.');
    expect(parseVlanProbe('ok\n')).toBeUndefined();
    expect(parseVlanProbe('unknown: unshare -n failed\n')).toBeUndefined();
    expect(parseVlanProbe('')).toBeUndefined();
  });

  const kernel = probeKernel();
  const why = kernel.unavailable ?? (!kernel.veth && !kernel.dummy ? 'kernel has neither veth nor dummy links' : undefined);
  describe.skipIf(why !== undefined)(`on this machine's kernel (802.1Q: ${kernel.vlan ? 'yes' : 'no'})${why !== undefined ? ` (skipped: ${why})` : ''}`, () => {
    const ipLinks = () => spawnSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' }).stdout;

    it('the local probe finds what the kernel has, and leaves the host\'s links as they were', async () => {
      const before = ipLinks();
      const t = new LocalTransport();
      const missing = await t.snapshot({ files: [], symlinks: [], vlanLinks: ['fnnope.40'] });
      if (kernel.vlan) expect(missing.noVlan).toBeUndefined();
      else expect(missing.noVlan).toMatch(/Unknown device type/);
      // a link that exists is not probed
      expect((await t.snapshot({ files: [], symlinks: [], vlanLinks: ['lo'] })).noVlan).toBeUndefined();
      expect(ipLinks()).toBe(before);
    });

    it('the SSH transport\'s read script probes the same way (run here by sh)', () => {
      const nonce = `FLATNET${randomBytes(6).toString('hex')}`;
      const r = spawnSync('sh', ['-s'], { input: snapshotScript({ files: [], symlinks: [], vlanLinks: ['fnnope.40'] }, '/', false, nonce), encoding: 'utf8' });
      expect(r.status).toBe(0);
      const probe = parseVlanProbe(parseSections(r.stdout, nonce).get('vlan')?.content ?? '');
      if (kernel.vlan) expect(probe).toBeUndefined();
      else expect(probe).toMatch(/Unknown device type/);
      // no VLAN link asked for: no probe at all
      expect(snapshotScript({ files: [], symlinks: [] }, '/', false, nonce)).not.toContain('vlan_probe');
    });
  });
});
