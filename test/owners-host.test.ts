// Owners (issue 18 point 2) on the Docker host, on the pure diff: Docker networks carry flatnet.owner, shims and
// VLAN links the alias flatnet:<network>@<owner>; a plan changes and removes only its owner's; a network name or
// link another owner holds is a live problem; removing a whole network warns; --from-owner relabels links in
// place and records a Docker network's new owner on the host (its labels cannot change), never recreating it.
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { modelFromText, type Model } from '../src/index.js';
import { DOCKER_OWNERS_FILE, parseOwnerRecords } from '../src/ownership.js';
import type { EngineNetwork } from '../targets/docker/engine.js';
import { dockerNetwork, dockerTarget, networkCreateArgs, networkSettings } from '../targets/docker/index.js';
import { diffHost, networksToInspect, stepOp, type Step } from '../targets/host/diff.js';
import { shimTarget } from '../targets/host/index.js';
import { desiredLinks, type LiveLink, type LiveRoute } from '../targets/host/links.js';
import type { HostSnapshot } from '../targets/host/transport.js';

const net = (vlan: number) => ({ router: 'core', host: 'nas', vlan, subnet: `10.${vlan}.0.0/24`, gateway: `10.${vlan}.0.1`, 'container-range': `10.${vlan}.0.64/26` });
function model(networks: Record<string, number>, owner?: string, from?: string | null): Model {
  const m = modelFromText(stringify({ version: 1, ...(owner ? { owner } : {}), routers: { core: { type: 'routeros', address: '192.168.88.1' } }, hosts: { nas: { parent: 'eth0', persist: 'none' } }, networks: Object.fromEntries(Object.entries(networks).map(([n, v]) => [n, net(v)])) }));
  if (from !== undefined) m.ownership = { ...m.ownership, from: from === null ? {} : { owner: from } };
  return m;
}

const parent: LiveLink = { ifname: 'eth0', ifindex: 2, flags: ['BROADCAST', 'UP'], addresses: [] };

/** A host: its Docker networks, links and routes, and the owner records file. */
interface Host {
  networks: EngineNetwork[];
  links: LiveLink[];
  routes: LiveRoute[];
  ownersFile?: string;
}
const emptyHost = (): Host => ({ networks: [], links: [parent], routes: [] });
const snapshot = (h: Host): HostSnapshot => ({
  links: { links: h.links, routes: h.routes },
  files: new Map(h.ownersFile !== undefined ? [[DOCKER_OWNERS_FILE, h.ownersFile]] : []),
  symlinks: new Map(),
  netif: new Map(),
  networkManager: false,
  systemd: false,
});
let ids = 0;
const diff = (m: Model, h: Host) => diffHost({ model: m, host: m.hosts[0]!, snapshot: snapshot(h), networks: h.networks, containers: new Map(), recreateNetworks: false }, 'nas');

/** Carries out a plan's steps on the host (as the transports and the Engine would). */
function apply(m: Model, h: Host): Host {
  const d = diff(m, h);
  expect(d.problems).toEqual([]);
  const out: Host = { networks: [...h.networks], links: h.links.map((l) => ({ ...l })), routes: [...h.routes], ...(h.ownersFile !== undefined ? { ownersFile: h.ownersFile } : {}) };
  const byName = (n: string) => out.links.find((l) => l.ifname === n);
  for (const s of d.steps as Step[]) {
    if ('docker' in s) {
      const op = s.docker;
      if (op.kind !== 'create') out.networks = out.networks.filter((n) => n.Id !== op.id);
      if (op.kind !== 'remove') out.networks.push({ Id: `id${++ids}`, Name: op.spec.Name, Driver: op.spec.Driver, EnableIPv6: op.spec.EnableIPv6, IPAM: { Config: op.spec.IPAM.Config }, Options: op.spec.Options, Labels: op.spec.Labels });
      continue;
    }
    const op = stepOp(s);
    if (op.kind === 'write') {
      expect(op.path).toBe(DOCKER_OWNERS_FILE);
      out.ownersFile = op.content;
      continue;
    }
    if (op.kind !== 'ip') throw new Error(`unexpected ${op.kind}`);
    const a = op.argv;
    if (a[0] === 'link' && a[1] === 'add') {
      const kind = a[a.indexOf('type') + 1]!;
      out.links.push({ ifname: a[5]!, ifindex: 100 + out.links.length, flags: [], link: a[3]!, linkinfo: { info_kind: kind, ...(kind === 'vlan' ? { info_data: { id: Number(a[a.indexOf('id') + 1]) } } : {}) }, addresses: [] });
    } else if (a[0] === 'link' && a[1] === 'del') out.links = out.links.filter((l) => l.ifname !== a[3]);
    else if (a[0] === 'link' && a[4] === 'alias') byName(a[3]!)!.ifalias = a[5]!;
    else if (a[0] === 'link' && a[4] === 'up') byName(a[3]!)!.flags = ['UP'];
    else if (a[0] === 'addr' && a[1] === 'replace') byName(a[4]!)!.addresses.push(a[2]!);
    else if (a[0] === 'route' && a[1] === 'replace') out.routes.push({ dst: a[2]!, dev: a[4]!, protocol: 'boot', family: 4 });
    else throw new Error(`unexpected ip ${a.join(' ')}`);
  }
  out.routes = out.routes.filter((r) => byName(r.dev));
  return out;
}

describe('owners on the Docker host', () => {
  const A = model({ media: 20, cams: 30 }, 'nas1');

  it('Docker labels and link aliases record the owner; a spec without owner writes none, as before', () => {
    const a = A.hosts[0]!.attachments[0]!;
    expect(dockerNetwork(A, a).Labels).toEqual({ 'flatnet.network': 'media', 'flatnet.owner': 'nas1' });
    expect(networkCreateArgs(A, a)).toContain('--label=flatnet.owner=nas1');
    expect(networkSettings(A, a)).toMatch(/ label=flatnet\.network=media label=flatnet\.owner=nas1$/);
    expect(dockerTarget.render(A, 'nas')[0]!.content).toContain('{{if eq $k "flatnet.network" "flatnet.owner"}}');
    expect(desiredLinks(A.hosts[0]!.attachments, 'nas1').map((l) => l.alias)).toEqual(['flatnet:eth0.20@nas1', 'flatnet:media@nas1', 'flatnet:eth0.30@nas1', 'flatnet:cams@nas1']);
    expect(shimTarget.render(A, 'nas')[0]!.content).toContain('ip link set dev fn-20 alias flatnet:media@nas1\n');
    const none = model({ media: 20 });
    expect(dockerNetwork(none, none.hosts[0]!.attachments[0]!).Labels).toEqual({ 'flatnet.network': 'media' });
    expect(shimTarget.render(none, 'nas')[0]!.content).not.toContain('@');
  });

  it("a second owner adds its own networks and links and removes none of the first's; each stays converged", () => {
    const withA = apply(A, emptyHost());
    expect(diff(A, withA).changes).toEqual([]);
    const B = model({ lab: 50 }, 'nas2');
    const p = diff(B, withA);
    expect(p.problems).toEqual([]);
    expect(p.warnings).toEqual([]);
    expect(p.changes.map((c) => `${c.action} ${c.kind}`)).toEqual(['add VLAN parent link', 'add docker network', 'add shim link']);
    expect(p.changes.every((c) => c.name.includes('lab') || c.name.includes('eth0.50'))).toBe(true);
    const both = apply(B, withA);
    expect(diff(A, both).changes).toEqual([]);
    expect(diff(B, both).changes).toEqual([]);
    // the containers of a network leaving the spec are read only for this spec's own networks
    expect(networksToInspect(B, B.hosts[0]!, both.networks).map((n) => n.Name)).toEqual([]);
    // a spec without owner sees neither (and removes nothing of theirs)
    expect(diff(model({}), both).changes).toEqual([]);
    // and a spec without owner's objects are not seen by an owner's plan
    const withNone = apply(model({ old: 60 }), both);
    expect(diff(A, withNone).changes).toEqual([]);
    expect(diff(model({ old: 60 }), withNone).changes).toEqual([]);
  });

  it('a network name or link another owner holds is a live problem naming --from-owner', () => {
    const withA = apply(A, emptyHost());
    const byName = diff(model({ cams: 31 }, 'nas2'), withA).problems;
    expect(byName.map((x) => x.path.join('.'))).toEqual(['networks.cams']);
    expect(byName[0]!.message).toMatch(/^network name "cams" is held by objects of owner "nas1" \(Docker network cams, label flatnet\.owner=nas1\); this spec has owner "nas2".*--from-owner nas1/);
    // another network name on VLAN 30: the VLAN link eth0.30 is nas1's
    const byLink = diff(model({ other: 30 }, 'nas2'), withA).problems;
    // (its subnet overlaps cams's, and its shim name fn-30 is nas1's too)
    expect(byLink.map((x) => x.path.join('.'))).toEqual(['networks.other.subnet', 'hosts.nas', 'networks.other']);
    expect(byLink[1]!.message).toMatch(/^VLAN 30 \(link eth0\.30\) is held by objects of owner "nas1" \(alias flatnet:eth0\.30@nas1\); .*choose another vlan/);
    expect(byLink[2]!.message).toMatch(/^link fn-30 is held by objects of owner "nas1" \(alias flatnet:cams@nas1\)/);
    // a shim name of another owner's
    const shim = modelFromText(stringify({ version: 1, owner: 'nas2', routers: { core: { type: 'routeros', address: '192.168.88.1' } }, hosts: { nas: { parent: 'eth0', persist: 'none' } }, networks: { x: { ...net(70), 'shim-name': 'fn-20' } } }));
    expect(diff(shim, withA).problems.map((x) => x.path.join('.'))).toEqual(['networks.x']);
    expect(diff(model({ cams: 30 }), withA).problems[0]!.message).toContain('this spec has no owner');
  });

  it('removing a whole network warns with its VLAN and mentions owner:, once', () => {
    const withA = apply(A, emptyHost());
    const p = diff(model({ media: 20 }, 'nas1'), withA);
    expect(p.changes.filter((c) => c.action === 'remove').map((c) => `${c.kind} ${c.name}`)).toEqual(['docker network cams', 'shim link fn-30', 'VLAN parent link eth0.30']);
    expect(p.warnings).toEqual([
      'network cams (VLAN 30) is on the Docker host nas but not in this spec: the plan removes it (its objects carry this spec\'s owner "nas1"); if another spec manages it, give each spec its own owner: (top level) so that neither removes the other\'s networks',
    ]);
  });

  it('--from-owner: links relabelled in place, Docker networks recorded on the host and never recreated', () => {
    const withA = apply(A, emptyHost());
    const C = model({ media: 20, cams: 30 }, 'nas3');
    expect(diff(C, withA).problems.length).toBeGreaterThan(0);
    const relabel = model({ media: 20, cams: 30 }, 'nas3', 'nas1');
    const p = diff(relabel, withA);
    expect(p.problems).toEqual([]);
    expect(p.changes.filter((c) => c.kind === 'docker network')).toEqual([]);
    expect(p.changes.filter((c) => c.kind.endsWith('link')).map((c) => `${c.action} ${c.name} ${JSON.stringify(c.props)}`)).toEqual([
      'change eth0.20 [{"key":"alias","from":"flatnet:eth0.20@nas1","to":"flatnet:eth0.20@nas3"}]',
      'change eth0.30 [{"key":"alias","from":"flatnet:eth0.30@nas1","to":"flatnet:eth0.30@nas3"}]',
      'change fn-20 [{"key":"alias","from":"flatnet:media@nas1","to":"flatnet:media@nas3"}]',
      'change fn-30 [{"key":"alias","from":"flatnet:cams@nas1","to":"flatnet:cams@nas3"}]',
    ]);
    expect(p.changes.find((c) => c.kind === 'file')).toMatchObject({
      action: 'add',
      name: `/${DOCKER_OWNERS_FILE}`,
      props: [
        { key: 'owner of Docker network media', from: 'owner "nas1"', to: 'owner "nas3"' },
        { key: 'owner of Docker network cams', from: 'owner "nas1"', to: 'owner "nas3"' },
      ],
    });
    const after = apply(relabel, withA);
    expect(after.networks.map((n) => n.Id)).toEqual(withA.networks.map((n) => n.Id));
    expect(Object.values(parseOwnerRecords(after.ownersFile).networks).map((r) => `${r.name}@${r.owner}`).sort()).toEqual(['cams@nas3', 'media@nas3']);
    expect(diff(relabel, after).changes).toEqual([]);
    // from then on they are nas3's: converged without --from-owner, refused to nas1, and nas3 removes them
    expect(diff(C, after).changes).toEqual([]);
    expect(diff(A, after).problems.map((x) => x.path.join('.'))).toContain('networks.media');
    const dropCams = diff(model({ media: 20 }, 'nas3'), after);
    expect(dropCams.changes.filter((c) => c.action === 'remove').map((c) => c.name)).toEqual(['cams', 'fn-30', 'eth0.30']);
    // back to no owner: the record says none, the no-owner spec owns them
    const toNone = apply(model({ media: 20, cams: 30 }, undefined, 'nas3'), after);
    expect(Object.values(parseOwnerRecords(toNone.ownersFile).networks).map((r) => r.owner)).toEqual([undefined, undefined]);
    expect(diff(model({ media: 20, cams: 30 }), toNone).changes).toEqual([]);
  });
});
