// plan --adopt on a Docker host, on the pure diff (no dockerd): a Docker network made by hand that already is
// what the spec asks for is taken over as it is (recorded in the host's owners.json, since a network's labels
// cannot change: same id, containers stay attached) and is flatnet's from then on; one that differs cannot be
// (Docker cannot change a network in place). A shim and a VLAN link made by hand get flatnet's alias in place.
// Without --adopt, each is a live problem naming --adopt.
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { modelFromText, type Model } from '../src/index.js';
import { DOCKER_OWNERS_FILE, parseOwnerRecords } from '../src/ownership.js';
import type { EngineNetwork } from '../targets/docker/engine.js';
import { dockerNetwork } from '../targets/docker/index.js';
import { diffHost, networksToInspect, stepOp, type Step } from '../targets/host/diff.js';
import { desiredLinks, type LiveLink, type LiveRoute } from '../targets/host/links.js';
import type { HostSnapshot } from '../targets/host/transport.js';

function model(owner?: string, subnet = '192.168.200.0/24'): Model {
  return modelFromText(
    stringify({
      version: 1,
      ...(owner ? { owner } : {}),
      routers: { core: { type: 'routeros', address: '192.168.88.1' } },
      hosts: { nas: { parent: 'eth0', persist: 'none' } },
      networks: { 'docker-demo': { router: 'core', host: 'nas', vlan: 200, subnet, gateway: subnet.replace(/0\/24$/, '1'), 'container-range': subnet.replace(/0\/24$/, '192/27') } },
    }),
  );
}

interface Host {
  networks: EngineNetwork[];
  links: LiveLink[];
  routes: LiveRoute[];
  ownersFile?: string;
}
const snapshot = (h: Host): HostSnapshot => ({
  links: { links: h.links, routes: h.routes },
  files: new Map(h.ownersFile !== undefined ? [[DOCKER_OWNERS_FILE, h.ownersFile]] : []),
  symlinks: new Map(),
  netif: new Map(),
  networkManager: false,
  systemd: false,
});
const diff = (m: Model, h: Host, adopt = false) => diffHost({ model: m, host: m.hosts[0]!, snapshot: snapshot(h), networks: h.networks, containers: new Map(), recreateNetworks: false, ...(adopt ? { adopt: true } : {}) }, 'nas');

/** The guide's setup made by hand: the VLAN link, the macvlan network on it, the shim with its address and route. */
function handMade(m: Model, change: (n: EngineNetwork) => void = () => {}): Host {
  const a = m.hosts[0]!.attachments[0]!;
  const want = dockerNetwork(m, a);
  const network: EngineNetwork = { Id: 'handmade1', Name: want.Name, Driver: want.Driver, EnableIPv6: false, IPAM: { Config: want.IPAM.Config.map((c) => ({ ...c })) }, Options: { ...want.Options }, Labels: {} };
  change(network);
  const [vlan, shim] = desiredLinks(m.hosts[0]!.attachments);
  return {
    networks: [network],
    links: [
      { ifname: 'eth0', ifindex: 2, flags: ['UP'], addresses: [] },
      { ifname: vlan!.name, ifindex: 3, flags: ['UP'], link: 'eth0', linkinfo: { info_kind: 'vlan', info_data: { id: 200 } }, addresses: [] },
      { ifname: shim!.name, ifindex: 4, flags: ['UP'], link: vlan!.name, linkinfo: { info_kind: 'macvlan', info_data: { mode: 'bridge' } }, addresses: [...shim!.addresses] },
    ],
    routes: shim!.routes.map((r) => ({ dst: r.dst, dev: shim!.name, protocol: 'boot', family: r.family })),
  };
}

/** Carries out a plan's steps (as the transport and the Engine would). */
function apply(m: Model, h: Host, adopt: boolean): Host {
  const d = diff(m, h, adopt);
  expect(d.problems).toEqual([]);
  const out: Host = { networks: [...h.networks], links: h.links.map((l) => ({ ...l, addresses: [...l.addresses] })), routes: [...h.routes], ...(h.ownersFile !== undefined ? { ownersFile: h.ownersFile } : {}) };
  const byName = (n: string) => out.links.find((l) => l.ifname === n)!;
  for (const s of d.steps as Step[]) {
    if ('docker' in s) {
      const op = s.docker;
      if (op.kind === 'adopt') out.ownersFile = op.content;
      else throw new Error(`unexpected docker ${op.kind}`);
      continue;
    }
    const op = stepOp(s);
    if (op.kind === 'write' && op.path === DOCKER_OWNERS_FILE) {
      out.ownersFile = op.content;
      continue;
    }
    if (op.kind !== 'ip') throw new Error(`unexpected ${op.kind}`);
    const a = op.argv;
    if (a[0] === 'link' && a[4] === 'alias') byName(a[3]!).ifalias = a[5]!;
    else if (a[0] === 'addr' && a[1] === 'replace') byName(a[4]!).addresses.push(a[2]!);
    else if (a[0] === 'addr' && a[1] === 'del') byName(a[4]!).addresses = byName(a[4]!).addresses.filter((x) => x !== a[2]);
    else if (a[0] === 'route' && a[1] === 'replace') out.routes.push({ dst: a[2]!, dev: a[4]!, protocol: 'boot', family: 4 });
    else throw new Error(`unexpected ip ${a.join(' ')}`);
  }
  return out;
}

const lines = (d: ReturnType<typeof diff>) => d.changes.map((c) => `${c.action} ${c.kind} ${c.name}`);

describe('plan --adopt on a Docker host', () => {
  it('without --adopt, the hand-made network and shim are live problems naming --adopt; the VLAN link is used as it is', () => {
    const m = model('nas1');
    const p = diff(m, handMade(m));
    expect(p.problems.map((x) => x.path.join('.'))).toEqual(['networks.docker-demo', 'hosts.nas']);
    expect(p.problems[0]!.message).toMatch(/^Docker network "docker-demo" exists and was not made by flatnet .*it already is what the spec asks for: plan --adopt \(then apply --adopt\) takes it over in place/);
    expect(p.problems[1]!.message).toMatch(/^link fn-200 \(macvlan mode bridge on eth0\.200\) exists and is not flatnet's .*plan --adopt \(then apply --adopt\) takes it over in place/);
  });

  it('--adopt takes them over in place: = adopt, recorded in owners.json, then converged and flatnet\'s', () => {
    const m = model('nas1');
    const before = handMade(m);
    const p = diff(m, before, true);
    expect(p.problems).toEqual([]);
    expect(lines(p)).toEqual(['adopt VLAN parent link eth0.200', 'adopt docker network docker-demo (macvlan on eth0.200, 192.168.200.0/24 ip-range 192.168.200.192/27)', 'adopt shim link fn-200']);
    expect(p.changes.every((c) => c.note?.startsWith('made by hand, taken over in place'))).toBe(true);
    const after = apply(m, before, true);
    expect(after.networks).toEqual(before.networks);
    expect(parseOwnerRecords(after.ownersFile).networks).toEqual({ handmade1: { name: 'docker-demo', owner: 'nas1', adopted: true } });
    expect(after.links.map((l) => l.ifalias)).toEqual([undefined, 'flatnet:eth0.200@nas1', 'flatnet:docker-demo@nas1']);
    // converged, with or without --adopt; flatnet's from then on
    expect(diff(m, after).changes).toEqual([]);
    expect(diff(m, after).problems).toEqual([]);
    expect(diff(m, after, true).changes).toEqual([]);
    // another owner is refused, and a spec that drops the network removes it (it is flatnet's now)
    expect(diff(model('nas2'), after).problems[0]!.message).toMatch(/^network name "docker-demo" is held by objects of owner "nas1"/);
    const empty = modelFromText(stringify({ version: 1, owner: 'nas1', routers: { core: { type: 'routeros', address: '192.168.88.1' } }, hosts: { nas: { parent: 'eth0', persist: 'none' } }, networks: {} }));
    expect(lines(diff(empty, after))).toEqual(['remove docker network docker-demo', 'remove shim link fn-200', 'remove VLAN parent link eth0.200']);
    expect(networksToInspect(empty, empty.hosts[0]!, after.networks, after.ownersFile).map((n) => n.Id)).toEqual(['handmade1']);
    // --from-owner relabels it like any of flatnet's: still recorded as adopted, still the same network
    const fromNas1 = model('nas3');
    fromNas1.ownership = { ...fromNas1.ownership, from: { owner: 'nas1' } };
    const relabelled = apply(fromNas1, after, false);
    expect(relabelled.networks).toEqual(before.networks);
    expect(parseOwnerRecords(relabelled.ownersFile).networks).toEqual({ handmade1: { name: 'docker-demo', owner: 'nas3', adopted: true } });
    expect(diff(model('nas3'), relabelled).changes).toEqual([]);
    // a spec change later: the adopted network is replaced like any of flatnet's
    const moved = model('nas1', '192.168.201.0/24');
    expect(diff(moved, after).changes.find((c) => c.kind === 'docker network')).toMatchObject({ action: 'replace', name: 'docker-demo' });
    expect(diff(moved, after).changes.find((c) => c.kind === 'docker network')!.props!.map((x) => x.key)).not.toContain('label flatnet.network');
  });

  it('a spec without owner records none; the shim\'s differences are fixed in the same step (~)', () => {
    const m = model();
    const before = handMade(m);
    const shim = before.links[2]!;
    shim.addresses = ['192.168.200.250/32'];
    const p = diff(m, before, true);
    expect(p.problems).toEqual([]);
    const c = p.changes.find((x) => x.name === 'fn-200')!;
    expect(c).toMatchObject({ action: 'change', note: 'made by hand, taken over in place' });
    expect(c.props!.map((x) => `${x.key} ${x.from ?? ''} -> ${x.to ?? ''}`)).toEqual(['alias  -> flatnet:docker-demo', 'address  -> 192.168.200.192/32', 'address 192.168.200.250/32 -> ']);
    const after = apply(m, before, true);
    expect(parseOwnerRecords(after.ownersFile).networks).toEqual({ handmade1: { name: 'docker-demo', adopted: true } });
    expect(diff(m, after).changes).toEqual([]);
  });

  it('a hand-made network that differs cannot be adopted: it would have to be recreated', () => {
    const m = model('nas1');
    const h = handMade(m, (n) => {
      n.IPAM!.Config![0]!.IPRange = '192.168.200.128/26';
    });
    const p = diff(m, h, true);
    expect(p.problems.map((x) => x.path.join('.'))).toEqual(['networks.docker-demo']);
    expect(p.problems[0]!.message).toBe(
      'Docker network "docker-demo" was made by hand and differs from the spec (ip-range 192.168.200.128/26 -> 192.168.200.192/27): a Docker network cannot be changed in place, so --adopt cannot take it over; it would have to be recreated: remove it (docker network rm docker-demo) and apply again (its containers can join the new one), or make the spec say what it is',
    );
    expect(diff(m, h).problems[0]!.message).toMatch(/not made by flatnet .*it differs from the spec: ip-range .*--adopt cannot take it over either/);
    // a shim of another kind or on another device is not adopted either
    const wrong = handMade(m);
    wrong.links[2]!.link = 'eth0';
    expect(diff(m, wrong, true).problems.map((x) => x.message)).toEqual([expect.stringMatching(/^link fn-200 exists and is not flatnet's .* and is macvlan mode bridge on eth0, not macvlan mode bridge on eth0\.200, so --adopt cannot take it over/)]);
    const privateMode = handMade(m);
    privateMode.links[2]!.linkinfo = { info_kind: 'macvlan', info_data: { mode: 'private' } };
    expect(diff(m, privateMode, true).problems.map((x) => x.message)).toEqual([expect.stringMatching(/ and is macvlan mode private on eth0\.200, not macvlan mode bridge on eth0\.200, so --adopt cannot take it over/)]);
    // without --adopt, the plain message (nothing to adopt)
    expect(diff(m, privateMode).problems.map((x) => x.message).slice(1)).toEqual([expect.stringMatching(/^link fn-200 exists and is not flatnet's \(no "flatnet:" alias\): remove it/)]);
  });
});
