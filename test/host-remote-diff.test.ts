// The host unit's layers without a dockerd: the pure diff (desired state against a snapshot as any transport
// reads it), and the shell scripts the SSH transport sends (run here by the local sh against a scratch
// directory: file writes byte-exact and atomic, markers that count what was done, the framed read).
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSpecText, resolveModel, type Model } from '../src/index.js';
import { SpecError } from '../src/errors.js';
import type { EngineNetwork } from '../targets/docker/engine.js';
import { dockerNetwork } from '../targets/docker/index.js';
import { blockedByContainers, desiredFiles, diffHost, networksToInspect, snapshotRequest, type AttachedContainer } from '../targets/host/diff.js';
import { desiredLinks, type LiveLink } from '../targets/host/links.js';
import { opScript, opsDone, opsScript, parseSections, snapshotScript } from '../targets/host/remote.js';
import type { HostOp, HostSnapshot } from '../targets/host/transport.js';

const scratch = mkdtempSync(join(tmpdir(), 'host-remote-diff-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const model = (text: string): Model => resolveModel(parseSpecText(text, 'spec.yaml'));
const SPEC = `version: 1
hosts:
  nas:
    parent: eth0
    ssh: admin@192.168.88.9
    sudo: true
networks:
  apps:
    host: nas
    subnet: 192.168.77.0/24
    gateway: 192.168.77.1
    container-range: 192.168.77.192/27
`;

const parent: LiveLink = { ifname: 'eth0', ifindex: 2, flags: ['BROADCAST', 'UP'], addresses: ['192.168.77.9/24'] };
const emptySnapshot = (links: LiveLink[] = [parent]): HostSnapshot => ({
  links: { links, routes: [] },
  files: new Map(),
  symlinks: new Map(),
  netif: new Map(),
  networkManager: false,
  systemd: false,
});

/** The host exactly as the spec wants it: network, shim with its address and route, boot files. */
function inSync(m: Model): { snapshot: HostSnapshot; networks: EngineNetwork[] } {
  const h = m.hosts[0]!;
  const a = h.attachments[0]!;
  const want = dockerNetwork(m, a);
  const networks: EngineNetwork[] = [{ Id: 'n1', Name: want.Name, Driver: want.Driver, EnableIPv6: want.EnableIPv6, IPAM: { Config: want.IPAM.Config }, Options: want.Options, Labels: want.Labels }];
  const links: LiveLink[] = [parent];
  const routes = [];
  for (const d of desiredLinks(h.attachments)) {
    links.push({ ifname: d.name, ifindex: 10 + links.length, flags: ['UP'], link: d.lower, ifalias: d.alias, linkinfo: { info_kind: d.kind }, addresses: d.addresses });
    for (const r of d.routes) routes.push({ dst: r.dst, dev: d.name, protocol: 'boot', family: r.family });
  }
  const snapshot = { ...emptySnapshot(links), links: { links, routes } };
  for (const [rel, w] of desiredFiles(m, h, undefined, [])) {
    if ('link' in w) snapshot.symlinks.set(rel, w.link);
    else snapshot.files.set(rel, w.content);
  }
  return { snapshot, networks };
}

describe('host diff (no dockerd)', () => {
  it('an empty host: network, then shim, then boot files', () => {
    const m = model(SPEC);
    const d = diffHost({ model: m, host: m.hosts[0]!, snapshot: emptySnapshot(), networks: [], containers: new Map(), recreateNetworks: false }, 'nas');
    expect(d.problems).toEqual([]);
    expect(d.changes.map((c) => `${c.action} ${c.kind} ${c.name}`)).toEqual([
      'add docker network apps (macvlan on eth0, 192.168.77.0/24 ip-range 192.168.77.192/27)',
      'add shim link fn-apps (macvlan on eth0, 192.168.77.192/32)',
      'add file /etc/flatnet/nas.sh',
      'add file /etc/systemd/system/flatnet-nas.service',
      'add file /etc/systemd/system/multi-user.target.wants/flatnet-nas.service',
      'add file /etc/systemd/system/sys-subsystem-net-devices-eth0.device.wants/flatnet-nas.service',
    ]);
    expect(d.steps.findIndex((s) => 'docker' in s)).toBeLessThan(d.steps.findIndex((s) => 'ip' in s));
  });

  it('a host as the spec wants it: no changes, and no network needs its containers listed', () => {
    const m = model(SPEC);
    const { snapshot, networks } = inSync(m);
    const d = diffHost({ model: m, host: m.hosts[0]!, snapshot, networks, containers: new Map(), recreateNetworks: false }, 'nas');
    expect(d.problems).toEqual([]);
    expect(d.changes).toEqual([]);
    expect(networksToInspect(m, m.hosts[0]!, networks)).toEqual([]);
  });

  it('a changed range is a replace; with a container attached it is blocked unless recreate', () => {
    const m = model(SPEC);
    const { snapshot, networks } = inSync(m);
    networks[0]!.IPAM!.Config![0]!.IPRange = '192.168.77.192/26';
    expect(networksToInspect(m, m.hosts[0]!, networks).map((n) => n.Id)).toEqual(['n1']);
    const containers = new Map<string, AttachedContainer[]>([['n1', [{ id: 'c1', name: 'app1', ipv4: '192.168.77.200' }]]]);
    const d = diffHost({ model: m, host: m.hosts[0]!, snapshot, networks, containers, recreateNetworks: false }, 'nas');
    expect(d.changes).toMatchObject([{ action: 'replace', kind: 'docker network', props: [{ key: 'ip-range', from: '192.168.77.192/26', to: '192.168.77.192/27' }] }]);
    expect(d.warnings.join('\n')).toMatch(/apply refuses without --recreate-networks/);
    expect(blockedByContainers(d.steps, false)).toHaveLength(1);
    expect(blockedByContainers(d.steps, true)).toHaveLength(0);
  });

  it('a foreign network of the spec name, a missing parent, no rights: problems with spec paths', () => {
    const m = model(SPEC);
    const { networks } = inSync(m);
    delete networks[0]!.Labels!['flatnet.network'];
    const snapshot = { ...emptySnapshot([]), privilege: 'sudo on nas asks for a password' };
    const d = diffHost({ model: m, host: m.hosts[0]!, snapshot, networks, containers: new Map(), recreateNetworks: false }, 'admin@192.168.88.9');
    expect(d.problems.map((p) => `${p.path.join('.')}: ${p.message}`)).toEqual([
      'hosts.nas: sudo on nas asks for a password',
      'hosts.nas.parent: network interface "eth0" not found on admin@192.168.88.9 (ip link)',
      // it already is what the spec asks for: plan --adopt would take it over (test/adopt-host.test.ts)
      'networks.apps: Docker network "apps" exists and was not made by flatnet (no flatnet.network label); it already is what the spec asks for: plan --adopt (then apply --adopt) takes it over in place (the same network, containers stay attached); or remove it (docker network rm apps) and apply again',
    ]);
  });

  it('boot files: persist none removes flatnet\'s unit and link, never a file without its header; the script stays', () => {
    const m = model(SPEC.replace('    sudo: true\n', '    sudo: true\n    persist: none\n'));
    const full = inSync(model(SPEC));
    const snapshot = full.snapshot;
    snapshot.files.set('etc/systemd/network/10-flatnet-x.netdev', 'hand-made\n');
    snapshot.files.set('etc/systemd/network/20-wired.network.d/flatnet.conf', '# flatnet-router: old drop-in\n');
    const d = diffHost({ model: m, host: m.hosts[0]!, snapshot, networks: full.networks, containers: new Map(), recreateNetworks: false }, 'nas');
    expect(d.changes.map((c) => `${c.action} ${c.name}`).sort()).toEqual([
      'remove /etc/systemd/network/20-wired.network.d/flatnet.conf',
      'remove /etc/systemd/system/flatnet-nas.service',
      'remove /etc/systemd/system/multi-user.target.wants/flatnet-nas.service',
      'remove /etc/systemd/system/sys-subsystem-net-devices-eth0.device.wants/flatnet-nas.service',
    ]);
  });

  it('persist: networkd without networkd managing the parent is a problem naming its ifindex', () => {
    const m = model(SPEC.replace('    sudo: true\n', '    sudo: true\n    persist: networkd\n'));
    const d = diffHost({ model: m, host: m.hosts[0]!, snapshot: emptySnapshot(), networks: [], containers: new Map(), recreateNetworks: false }, 'nas');
    expect(d.problems.map((p) => p.message)).toEqual(['systemd-networkd does not manage eth0 here (no NETWORK_FILE in /run/systemd/netif/links/2): use persist: systemd']);
    const managed = emptySnapshot();
    managed.netif.set(2, 'ADMIN_STATE=configured\nNETWORK_FILE=/etc/systemd/network/20-wired.network\n');
    const ok = diffHost({ model: m, host: m.hosts[0]!, snapshot: managed, networks: [], containers: new Map(), recreateNetworks: false }, 'nas');
    expect(ok.problems).toEqual([]);
    expect(ok.changes.map((c) => c.name)).toContain('/etc/systemd/network/20-wired.network.d/flatnet.conf');
  });
});

describe('hosts.<name>.ssh in the spec', () => {
  const problems = (text: string) => {
    try {
      model(text);
      return [];
    } catch (e) {
      if (e instanceof SpecError) return e.problems.map((p) => `${p.path.join('.')}: ${p.message}`);
      throw e;
    }
  };
  it('user@address, port, key, pin and sudo resolve; defaults 22 and no sudo', () => {
    expect(model(SPEC).hosts[0]!.ssh).toEqual({ user: 'admin', address: '192.168.88.9', port: 22, sudo: true });
    const m = model(SPEC.replace('    sudo: true\n', `    ssh-port: 2222\n    key-file: ~/.ssh/nas\n    host-key: "SHA256:${'A'.repeat(43)}"\n`));
    expect(m.hosts[0]!.ssh).toEqual({ user: 'admin', address: '192.168.88.9', port: 2222, keyFile: '~/.ssh/nas', hostKey: `SHA256:${'A'.repeat(43)}`, sudo: false });
    expect(model(SPEC.replace('admin@192.168.88.9', 'root@nas.lan')).hosts[0]!.ssh?.address).toBe('nas.lan');
  });
  it('refuses what is not user@address, and ssh keys without ssh', () => {
    for (const bad of ['192.168.88.9', '-oProxyCommand=x@nas', 'admin@-nas', 'admin@nas;reboot', 'ad min@nas', '@nas', 'admin@']) {
      expect(problems(SPEC.replace('admin@192.168.88.9', JSON.stringify(bad))).join('\n'), bad).toMatch(/hosts\.nas\.ssh: must be user@address/);
    }
    expect(problems(SPEC.replace('    ssh: admin@192.168.88.9\n', ''))).toEqual(['hosts.nas.sudo: only means something with hosts.nas.ssh (user@address): add ssh, or remove sudo']);
  });
});

const sh = (script: string, cwd = scratch) => spawnSync('sh', ['-s'], { input: script, encoding: 'utf8', cwd });

describe('the SSH transport\'s scripts, run by sh', () => {
  it('writes files byte-exact (quotes, $, backticks, no final newline) beside and renamed, with their mode; links; removes; one marker per step', () => {
    const root = mkdtempSync(join(scratch, 'root-'));
    writeFileSync(join(root, 'gone'), 'x');
    const tricky = `#!/bin/sh\necho 'it''s' "$(rm -rf /)" \`id\` \\ $HOME\n\n  tab\there ünï\nno final newline`;
    const ops: HostOp[] = [
      { kind: 'write', path: 'etc/flatnet/nas.sh', content: tricky, mode: 0o755 },
      { kind: 'write', path: 'etc/systemd/system/flatnet-nas.service', content: '[Unit]\n', mode: 0o644 },
      { kind: 'link', path: 'etc/systemd/system/multi-user.target.wants/flatnet-nas.service', target: '../flatnet-nas.service' },
      { kind: 'remove', path: 'gone' },
    ];
    const nonce = 'FLATNETtest1';
    const r = sh(opsScript(ops, root, nonce));
    expect(r.status, r.stderr).toBe(0);
    expect(opsDone(r.stdout, nonce)).toBe(4);
    expect(readFileSync(join(root, 'etc/flatnet/nas.sh'), 'utf8')).toBe(tricky);
    expect(statSync(join(root, 'etc/flatnet/nas.sh')).mode & 0o777).toBe(0o755);
    expect(statSync(join(root, 'etc/systemd/system/flatnet-nas.service')).mode & 0o777).toBe(0o644);
    expect(readlinkSync(join(root, 'etc/systemd/system/multi-user.target.wants/flatnet-nas.service'))).toBe('../flatnet-nas.service');
    expect(existsSync(join(root, 'gone'))).toBe(false);
    expect(existsSync(join(root, 'etc/flatnet/.nas.sh.flatnet-tmp'))).toBe(false);
    // again: the link is replaced, not nested
    expect(sh(opsScript(ops, root, nonce)).status).toBe(0);
    expect(lstatSync(join(root, 'etc/systemd/system/multi-user.target.wants/flatnet-nas.service')).isSymbolicLink()).toBe(true);
  });

  it('stops at the first failing step; the markers say how many were done', () => {
    const root = mkdtempSync(join(scratch, 'root-'));
    writeFileSync(join(root, 'etc'), 'a file where a directory should be');
    const ops: HostOp[] = [
      { kind: 'remove', path: 'nothing-here' },
      { kind: 'write', path: 'etc/flatnet/nas.sh', content: 'x', mode: 0o755 },
      { kind: 'remove', path: 'never-reached' },
    ];
    const r = sh(opsScript(ops, root, 'FLATNETtest2'));
    expect(r.status).not.toBe(0);
    expect(opsDone(r.stdout, 'FLATNETtest2')).toBe(1);
  });

  it('every word of an ip step is quoted for the remote shell', () => {
    expect(opScript({ kind: 'ip', argv: ['link', 'set', 'dev', "a'b;reboot", 'alias', 'flatnet:x $(id)'] })).toBe(`ip link set dev 'a'\\''b;reboot' alias 'flatnet:x $(id)'`);
    expect(() => opScript({ kind: 'ip', argv: ['link', 'del', 'dev', 'a\nreboot'] })).toThrow(/control character or newline/);
  });

  it('reads files (trailing newlines kept), symlinks, flatnet\'s networkd files, networkd link states; absent ones are absent', () => {
    const root = mkdtempSync(join(scratch, 'root-'));
    mkdirSync(join(root, 'etc/flatnet'), { recursive: true });
    mkdirSync(join(root, 'etc/systemd/network/20-wired.network.d'), { recursive: true });
    mkdirSync(join(root, 'etc/systemd/system/multi-user.target.wants'), { recursive: true });
    mkdirSync(join(root, 'run/systemd/netif/links'), { recursive: true });
    mkdirSync(join(root, 'run/NetworkManager'), { recursive: true });
    writeFileSync(join(root, 'etc/flatnet/nas.sh'), 'line\n\n');
    writeFileSync(join(root, 'etc/systemd/network/11-flatnet-fn-a.netdev'), '[NetDev]\n');
    writeFileSync(join(root, 'etc/systemd/network/20-wired.network'), 'not ours\n');
    writeFileSync(join(root, 'etc/systemd/network/20-wired.network.d/flatnet.conf'), '# flatnet-router:\n');
    writeFileSync(join(root, 'run/systemd/netif/links/2'), 'ADMIN_STATE=configured\n');
    symlinkSync('../flatnet-nas.service', join(root, 'etc/systemd/system/multi-user.target.wants/flatnet-nas.service'));
    const m = model(SPEC);
    const nonce = 'FLATNETtest3';
    const r = sh(snapshotScript(snapshotRequest(m.hosts[0]!), root, false, nonce));
    expect(r.status, r.stderr).toBe(0);
    const s = parseSections(r.stdout, nonce);
    expect(s.get('file:etc/flatnet/nas.sh')).toEqual({ status: '0', content: 'line\n\n' });
    expect(s.get('file:etc/systemd/system/flatnet-nas.service')).toEqual({ status: '-', content: '' });
    expect(s.get('link:etc/systemd/system/multi-user.target.wants/flatnet-nas.service')).toEqual({ status: '0', content: '../flatnet-nas.service\n' });
    expect(s.get('file:etc/systemd/network/11-flatnet-fn-a.netdev')?.content).toBe('[NetDev]\n');
    expect(s.get('file:etc/systemd/network/20-wired.network.d/flatnet.conf')?.content).toBe('# flatnet-router:\n');
    expect(s.has('file:etc/systemd/network/20-wired.network')).toBe(false);
    expect(s.get('netif:2')?.content).toBe('ADMIN_STATE=configured\n');
    expect(s.has('nm')).toBe(true);
    expect(s.get('uid')?.status).toBe('0');
    for (const k of ['ip:link', 'ip:addr', 'ip:route4', 'ip:route6']) expect(() => JSON.parse(s.get(k)!.content), k).not.toThrow();
  });
});

describe('plan and status of hosts from elsewhere (CLI, no dockerd)', () => {
  const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'flatnet-router.js');
  const cli = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: scratch, NO_COLOR: '1' }, timeout: 30_000 });
  const file = join(scratch, 'hosts.yaml');
  writeFileSync(
    file,
    `${SPEC.replace('    ssh: admin@192.168.88.9\n    sudo: true\n', '')}  far-apps:\n    host: far\n    subnet: 192.168.99.0/24\n    gateway: 192.168.99.1\n    container-range: 192.168.99.192/27\n`.replace(
      'hosts:\n',
      `hosts:\n  far:\n    parent: eth0\n    ssh: admin@127.0.0.1\n    ssh-port: 1\n    key-file: ${join(scratch, 'no-key')}\n`,
    ),
  );
  // a real key (RSA, PEM): the connection is refused before it matters
  writeFileSync(join(scratch, 'no-key'), generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'pkcs1', format: 'pem' } }).privateKey);

  it('plan without filters: a host without ssh is listed as not planned, with the command to run on it; exit 0 when nothing else fails', () => {
    const local = join(scratch, 'local.yaml');
    writeFileSync(local, SPEC.replace('    ssh: admin@192.168.88.9\n    sudo: true\n', ''));
    const r = cli(['plan', local, '--detailed-exitcode']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`host nas (docker, local to that host: no ssh in the spec)\n  not planned: a local host: run \`sudo flatnet-router plan ${local} --host nas\` (then apply) on nas itself`);
    const s = cli(['status', local]);
    expect(s.status).toBe(0);
    expect(s.stdout).toMatch(/apps\s+nas not checked/);
  });

  it('a host with ssh that cannot be reached: one line naming it; status says unreachable and exits 1', () => {
    const r = cli(['plan', file]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/host far \(docker, ssh admin@127\.0\.0\.1:1\)\n {2}error: .*127\.0\.0\.1:1/);
    const s = cli(['status', file]);
    expect(s.status).toBe(1);
    expect(s.stdout).toMatch(/far-apps\s+far unreachable/);
    expect(s.stdout).toMatch(/apps\s+nas not checked/);
    expect(s.stdout).toMatch(/unreachable: host far: /);
  });

  it('a key file that is no private key is a key-file problem, not a connection error', () => {
    const bad = join(scratch, 'bad-key.yaml');
    writeFileSync(join(scratch, 'not-a-key'), 'not a key');
    writeFileSync(bad, readFileSync(file, 'utf8').replace(join(scratch, 'no-key'), join(scratch, 'not-a-key')));
    const r = cli(['plan', bad]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`error: hosts.far.key-file: ${join(scratch, 'not-a-key')} is not a private key that can be used`);
  });
});
