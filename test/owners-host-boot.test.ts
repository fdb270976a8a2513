// Boot files of two owners on one machine (issue 18 point 2): a spec with an owner names its boot script and
// unit <host>.<owner>, so two specs with a host of the same name never write or remove each other's; --from-owner
// moves the old owner's files to the new names (the old ones go).
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { modelFromText, type Model } from '../src/index.js';
import { desiredFiles, hostPaths, planFiles, snapshotRequest } from '../targets/host/diff.js';
import type { HostSnapshot } from '../targets/host/transport.js';

const spec = (owner?: string) => ({
  version: 1,
  ...(owner ? { owner } : {}),
  routers: { core: { type: 'routeros', address: '192.168.88.1' } },
  hosts: { nas: { parent: 'eth0' } },
  networks: { media: { router: 'core', host: 'nas', vlan: 20, subnet: '10.20.0.0/24', gateway: '10.20.0.1', 'container-range': '10.20.0.64/26' } },
});
const model = (owner?: string, from?: string | null): Model => {
  const m = modelFromText(stringify(spec(owner)));
  if (from !== undefined) m.ownership = { ...m.ownership, from: from === null ? {} : { owner: from } };
  return m;
};
const empty = (): HostSnapshot => ({ links: { links: [], routes: [] }, files: new Map(), symlinks: new Map(), netif: new Map(), networkManager: false, systemd: true });
/** The files a plan writes, carried out on the snapshot. */
function applyFiles(m: Model, snap: HostSnapshot): HostSnapshot {
  const h = m.hosts[0]!;
  const ops = planFiles(h, desiredFiles(m, h, undefined, []), snap, m.ownership);
  const files = new Map(snap.files);
  const symlinks = new Map(snap.symlinks);
  for (const op of ops) {
    if (op.kind === 'write') files.set(op.path, op.content);
    else if (op.kind === 'link') symlinks.set(op.path, op.target);
    else {
      files.delete(op.path);
      symlinks.delete(op.path);
    }
  }
  return { ...snap, files, symlinks };
}

describe('boot files with owners', () => {
  it('two owners with a host of the same name keep their own files', () => {
    expect(hostPaths(model().hosts[0]!).unit).toBe('etc/systemd/system/flatnet-nas.service');
    expect(hostPaths(model('b').hosts[0]!, 'b').unit).toBe('etc/systemd/system/flatnet-nas.b.service');
    const one = applyFiles(model(), empty());
    const both = applyFiles(model('b'), one);
    expect([...both.files.keys()].sort()).toEqual(['etc/flatnet/nas.b.sh', 'etc/flatnet/nas.sh', 'etc/systemd/system/flatnet-nas.b.service', 'etc/systemd/system/flatnet-nas.service']);
    expect(both.files.get('etc/systemd/system/flatnet-nas.b.service')).toContain('ExecStart=/bin/sh /etc/flatnet/nas.b.sh');
    // each converged, and neither plans anything on the other's files
    for (const m of [model(), model('b')]) expect(planFiles(m.hosts[0]!, desiredFiles(m, m.hosts[0]!, undefined, []), both, m.ownership)).toEqual([]);
  });

  it('--from-owner moves the old owner files to the new names', () => {
    const old = applyFiles(model(), empty());
    const m = model('b', null);
    expect(snapshotRequest(m.hosts[0]!, m.ownership).files).toEqual(expect.arrayContaining(['etc/flatnet/nas.b.sh', 'etc/flatnet/nas.sh']));
    const moved = applyFiles(m, old);
    expect([...moved.files.keys()].sort()).toEqual(['etc/flatnet/nas.b.sh', 'etc/systemd/system/flatnet-nas.b.service']);
    expect([...moved.symlinks.values()]).toEqual(['../flatnet-nas.b.service', '../flatnet-nas.b.service']);
  });
});
