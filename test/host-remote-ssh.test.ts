// plan/apply of a Docker host over SSH against real peers: OpenSSH's sshd on 127.0.0.1 whose sessions run
// inside a network namespace of the test's own, next to a real dockerd there (test/fakes/remote-docker-host.ts).
// The CLI runs on this machine like from a laptop: nothing of it is run inside the namespace.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadModel } from '../src/index.js';
import { HostUnit } from '../targets/host/push.js';
import { probeKernel } from './netns/netns.js';
import { RemoteDockerHost, remoteHostSupport } from './fakes/remote-docker-host.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'flatnet-router.js');
const support = remoteHostSupport();
const kernel = support.ok ? probeKernel() : undefined;
const skipReason = !support.ok ? support.reason : (kernel?.unavailable ?? (kernel && !kernel.macvlan ? 'kernel has no macvlan' : undefined));
if (skipReason !== undefined) console.warn(`host-remote-ssh.test.ts: SKIPPED, needs root, sshd, dockerd and busybox-static: ${skipReason}`);

describe.skipIf(skipReason !== undefined)(`plan/apply of a Docker host over SSH${skipReason !== undefined ? ` (skipped: ${skipReason})` : ''}`, () => {
  let h: RemoteDockerHost;
  beforeAll(async () => {
    h = await RemoteDockerHost.start();
  }, 90_000);
  afterAll(async () => {
    await h?.stop();
  }, 90_000);
  beforeEach(() => h?.setMode());

  /** networks on the host's parent, untagged (this kernel may lack 802.1Q) */
  const spec = (networks: Array<{ name: string; third: number; range: string }>, hostExtra: { hostKey?: boolean; sudo?: boolean } = {}, lines: string[] = []): string => {
    const file = join(h.docker.scratch, `spec-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(
      file,
      [
        'version: 1',
        'hosts:',
        '  nas:',
        `    parent: ${h.docker.parent}`,
        ...h.hostLines(hostExtra).map((l) => `    ${l}`),
        ...lines.map((l) => `    ${l}`),
        'networks:',
        ...networks.flatMap((n) => [`  ${n.name}:`, '    host: nas', `    subnet: 192.168.${n.third}.0/24`, `    gateway: 192.168.${n.third}.1`, `    container-range: 192.168.${n.third}.${n.range}`]),
        '',
      ].join('\n'),
    );
    return file;
  };
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      execFile(process.execPath, [bin, ...args, '--install-root', h.installRoot], { env: { PATH: process.env.PATH ?? '', HOME: h.home, NO_COLOR: '1', ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  const lanApps = [{ name: 'lan-apps', third: 77, range: '192/27' }];

  it('an unknown host key is refused with its fingerprint before any command; a changed pin too', async () => {
    const before = h.commands().length;
    const r = await cli(['plan', spec(lanApps, { hostKey: false })]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`host key of 127.0.0.1:${h.port} is not known: ${h.hostKeyFingerprint}`);
    expect(r.stdout).toContain('--accept-new-host-key');
    const wrong = readFileSync(spec(lanApps), 'utf8').replace(h.hostKeyFingerprint, 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    const wrongFile = join(h.docker.scratch, 'wrong-key.yaml');
    writeFileSync(wrongFile, wrong);
    const w = await cli(['plan', wrongFile]);
    expect(w.code).toBe(1);
    expect(w.stdout).toMatch(/not the pinned SHA256:A+ \(hosts\.nas\.host-key\): refusing to connect \(a reinstalled host/);
    expect(h.commands().length).toBe(before);
    // --accept-new-host-key records it; the next run knows it
    const accepted = await cli(['plan', spec(lanApps, { hostKey: false }), '--accept-new-host-key']);
    expect(accepted.code, accepted.stdout + accepted.stderr).toBe(0);
    expect(readFileSync(join(h.home, '.ssh/known_hosts'), 'utf8')).toContain(`[127.0.0.1]:${h.port} ssh-ed25519 `);
    expect((await cli(['plan', spec(lanApps, { hostKey: false })])).code).toBe(0);
  }, 60_000);

  it('a key the host does not accept, or a user it does not know: one line, before any command', async () => {
    const before = h.commands().length;
    const other = join(h.docker.scratch, 'other_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const wrongKey = join(h.docker.scratch, 'wrong-key.yaml');
    writeFileSync(wrongKey, readFileSync(spec(lanApps), 'utf8').replace(h.clientKeyFile, other));
    const k = await cli(['plan', wrongKey]);
    expect(k.code).toBe(1);
    expect(k.stdout).toMatch(/error: login to 127\.0\.0\.1:\d+ as "root" refused \(key, agent or password not accepted\)\n/);
    const wrongUser = join(h.docker.scratch, 'wrong-user.yaml');
    writeFileSync(wrongUser, readFileSync(spec(lanApps), 'utf8').replace('ssh: root@', 'ssh: flatnet-nouser@'));
    const u = await cli(['plan', wrongUser]);
    expect(u.code).toBe(1);
    expect(u.stdout).toMatch(/error: login to 127\.0\.0\.1:\d+ as "flatnet-nouser" refused/);
    expect(h.commands().length).toBe(before);
  }, 60_000);

  it('apply over SSH: network, shim and boot files on the host; a re-plan has no changes', async () => {
    const file = spec(lanApps);
    const plan = await cli(['plan', file, '--detailed-exitcode']);
    expect(plan.code, plan.stdout + plan.stderr).toBe(2);
    expect(plan.stdout).toContain(`host nas (docker, ssh root@127.0.0.1:${h.port})`);
    expect(plan.stdout).toMatch(/\+ docker network lan-apps/);
    const applied = await cli(['apply', file, '--yes']);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    const n = (await h.docker.engine('GET', '/networks/lan-apps')).json as { Driver: string; Options: Record<string, string>; Labels: Record<string, string> };
    expect(n).toMatchObject({ Driver: 'macvlan', Options: { parent: h.docker.parent }, Labels: { 'flatnet.network': 'lan-apps' } });
    const shim = JSON.parse((await h.docker.exec(['ip', '-j', '-d', 'addr', 'show', 'dev', 'fn-lan-apps'])).stdout)[0];
    expect(shim.ifalias).toBe('flatnet:lan-apps');
    // the boot files are the host's (here: under the install root given to flatnet), root-owned, atomically written
    const script = join(h.installRoot, 'etc/flatnet/nas.sh');
    expect(readFileSync(script, 'utf8')).toContain('ip link set dev fn-lan-apps alias flatnet:lan-apps');
    expect(statSync(script).mode & 0o777).toBe(0o755);
    expect(statSync(join(h.installRoot, 'etc/systemd/system/flatnet-nas.service')).mode & 0o777).toBe(0o644);
    expect(readlinkSync(join(h.installRoot, 'etc/systemd/system/multi-user.target.wants/flatnet-nas.service'))).toBe('../flatnet-nas.service');
    expect(existsSync(join(h.installRoot, 'etc/flatnet/.nas.sh.flatnet-tmp'))).toBe(false);
    const again = await cli(['plan', file, '--detailed-exitcode']);
    expect(again.code, again.stdout).toBe(0);
    expect(again.stdout).toContain('no changes: the host matches the spec');
    // status reads the host too
    const status = await cli(['status', file]);
    expect(status.code, status.stdout).toBe(0);
    expect(status.stdout).toMatch(/lan-apps\s+nas in sync/);
  }, 90_000);

  it('a no-op plan is one SSH connection, at most 3 exec channels and one Docker network list', async () => {
    const file = spec(lanApps);
    expect((await cli(['apply', file, '--yes'])).code).toBe(0);
    const logins = h.logins();
    const commands = h.commands().length;
    const model = loadModel(file);
    const unit = new HostUnit(model, model.hosts[0]!, { installRoot: h.installRoot, env: { HOME: h.home } });
    try {
      const plan = await unit.plan(() => {});
      expect(plan.changes).toEqual([]);
    } finally {
      unit.close();
    }
    expect(h.logins() - logins).toBe(1);
    const ran = h.commands().slice(commands);
    expect(ran.length).toBeLessThanOrEqual(3);
    expect(ran).toEqual(expect.arrayContaining(['sh -s', 'docker system dial-stdio']));
    expect(ran.filter((c) => c.includes('dial-stdio'))).toHaveLength(1);
    expect(unit.stats).toMatchObject({ connections: 1, dockerRequests: 2, ipReads: 4 });
    expect(unit.stats.channels).toBeLessThanOrEqual(3);
  }, 60_000);

  it('sudo: true goes through sudo -n; a sudo that asks for a password is one clear line, nothing changed', async () => {
    const file = spec([{ name: 'media', third: 78, range: '64/26' }], { sudo: true });
    h.setMode('sudo-password');
    const before = (await h.docker.engine('GET', '/networks')).json as unknown[];
    const r = await cli(['apply', file, '--yes']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/hosts\.nas\.ssh: sudo on root@127\.0\.0\.1:\d+ asks for a password, and flatnet runs sudo -n/);
    expect(((await h.docker.engine('GET', '/networks')).json as unknown[]).length).toBe(before.length);
    h.setMode();
    const ok = await cli(['apply', file, '--yes']);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(h.commands().slice(-4).some((c) => c === 'sudo -n docker system dial-stdio')).toBe(true);
    expect(h.commands().some((c) => c === 'sudo -n sh -s')).toBe(true);
    expect((await h.docker.engine('GET', '/networks/media')).status).toBe(200);
  }, 90_000);

  it('no docker on the host is one clear line', async () => {
    h.setMode('no-docker');
    const r = await cli(['plan', spec(lanApps)]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/no docker on root@127\.0\.0\.1:\d+: `docker` is not on the PATH of root there/);
    expect(r.stdout.match(/no docker on/g)?.length).toBe(1);
  }, 60_000);

  it('a connection dropped mid-apply says what was and was not applied; a rerun converges', async () => {
    // start from no flatnet networks
    const first = await cli(['apply', spec([{ name: 'other', third: 79, range: '64/26' }], {}, ['persist: none']), '--yes']);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const file = spec([
      { name: 'cams', third: 80, range: '64/26' },
    ]);
    const start = h.commands().length;
    // this run's commands: 1 read script, 2 dial-stdio, 3 the first run of ip/file steps (after the Docker
    // networks): the connection drops there, before it runs
    h.setMode(`drop-at=${start + 3}`);
    const r = await cli(['apply', file, '--yes']);
    expect(r.code).toBe(1);
    expect(r.stdout, JSON.stringify(h.commands().slice(start))).toMatch(/FAILED host nas: .*(lost|closed)/);
    expect(r.stdout, JSON.stringify(h.commands().slice(start))).toMatch(/not applied: .*shim link fn-cams/);
    expect(r.stdout).toMatch(/2 changes were applied before the failure, \d+ not; run apply again to converge/);
    expect((await h.docker.engine('GET', '/networks/cams')).status).toBe(200);
    expect((await h.docker.exec(['ip', 'link', 'show', 'dev', 'fn-cams'])).code).not.toBe(0);
    h.setMode();
    const again = await cli(['apply', file, '--yes']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect((await h.docker.exec(['ip', 'link', 'show', 'dev', 'fn-cams'])).code).toBe(0);
    expect((await cli(['plan', file, '--detailed-exitcode'])).code).toBe(0);
  }, 90_000);
});
