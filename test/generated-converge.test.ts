// The generated Docker script (`generate --target docker --host X | sh -e`) run for real, twice and after spec
// changes, against a throwaway dockerd in its own network namespace (test/fakes/docker-host.ts): a second run
// changes nothing, a network added to the spec is created, and a network that exists with other settings stops
// the script with a message that names it, says what differs and gives the `docker network rm` to run.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerTestHost, dockerTestSupport } from './fakes/docker-host.js';
import { probeKernel } from './netns/netns.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'flatnet-router.js');
const support = dockerTestSupport();
const kernel = support.ok ? probeKernel() : undefined;
const skipReason = !support.ok ? support.reason : (kernel?.unavailable ?? (kernel && !kernel.macvlan ? 'kernel has no macvlan' : undefined));

/** The second parent: a veth in the host namespace standing in for the VLAN device (no 802.1Q needed). */
const SECOND_PARENT = 'fnlan2';

interface Net {
  name: string;
  third: number;
  range: string;
  /** with a VLAN whose device is `device` (default SECOND_PARENT) */
  vlan?: number;
  device?: string;
  ipv6?: boolean;
}

function writeSpec(h: DockerTestHost, nets: Net[]): string {
  const file = join(h.scratch, `spec-${Math.random().toString(36).slice(2)}.yaml`);
  const lines = ['version: 1', 'routers:', '  core:', '    type: routeros', '    address: 192.168.77.1', '    user: admin', '    bridge: br', 'hosts:', '  nas:', `    parent: ${h.parent}`, 'networks:'];
  for (const n of nets) {
    lines.push(`  ${n.name}:`, '    host: nas', `    subnet: 192.168.${n.third}.0/24`, `    gateway: 192.168.${n.third}.1`, `    container-range: 192.168.${n.third}.${n.range}`);
    if (n.vlan !== undefined) lines.push('    router: core', `    vlan: ${n.vlan}`, `    vlan-device: ${n.device ?? SECOND_PARENT}`);
    if (n.ipv6) lines.push('    ipv6:', `      subnet: fd00:${n.third}::/64`, `      gateway: fd00:${n.third}::1`, `      container-range: fd00:${n.third}::1000/116`);
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function dockerScript(file: string): string {
  const r = spawnSync(process.execPath, [bin, 'generate', file, '--target', 'docker', '--host', 'nas'], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

describe.skipIf(skipReason !== undefined)(`generated Docker script re-run against a real dockerd${skipReason !== undefined ? ` (skipped: ${skipReason})` : ''}`, () => {
  let h: DockerTestHost;
  beforeAll(async () => {
    h = await DockerTestHost.start();
    const made = await h.exec(['ip', 'link', 'add', SECOND_PARENT, 'type', 'veth', 'peer', 'name', `${SECOND_PARENT}p`]);
    expect(made.code, made.stderr).toBe(0);
    for (const dev of [SECOND_PARENT, `${SECOND_PARENT}p`]) expect((await h.exec(['ip', 'link', 'set', dev, 'up'])).code).toBe(0);
  }, 90_000);
  afterAll(async () => {
    await h?.stop();
  }, 90_000);

  /** `sh -e` with the script on stdin, inside the host namespace, with DOCKER_HOST at the test's dockerd */
  const runScript = (script: string) => h.exec(['env', `DOCKER_HOST=unix://${h.socket}`, 'sh', '-e'], script);
  const networks = async () => {
    const list = (await h.engine('GET', '/networks')).json as Array<{ Id: string; Name: string; Labels?: Record<string, string> }>;
    return list.filter((n) => n.Labels?.['flatnet.network'] !== undefined).map((n) => `${n.Name} ${n.Id}`).sort();
  };

  const lanApps: Net = { name: 'lan-apps', third: 77, range: '192/27', ipv6: true };

  it('a second run exits 0 and changes nothing', async () => {
    const script = dockerScript(writeSpec(h, [lanApps]));
    const first = await runScript(script);
    expect(first.code, first.stderr).toBe(0);
    const before = await networks();
    expect(before).toHaveLength(1);
    const second = await runScript(script);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(second.stderr).toBe('');
    expect(await networks()).toEqual(before);
  }, 60_000);

  it('a network added to the spec (on another parent) is created on the next run; the existing one is kept', async () => {
    const before = await networks();
    const script = dockerScript(writeSpec(h, [lanApps, { name: 'iot', third: 30, range: '64/26', vlan: 30 }]));
    const r = await runScript(script);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const after = await networks();
    expect(after).toEqual(expect.arrayContaining(before));
    expect(after.map((n) => n.split(' ')[0])).toEqual(['iot', 'lan-apps']);
    const iot = (await h.engine('GET', '/networks/iot')).json as { Options: Record<string, string>; IPAM: { Config: Array<Record<string, unknown>> } };
    expect(iot.Options.parent).toBe(SECOND_PARENT);
    expect(iot.IPAM.Config[0]).toMatchObject({ Subnet: '192.168.30.0/24', IPRange: '192.168.30.64/26' });
    expect((await runScript(script)).code).toBe(0);
  }, 60_000);

  it('a network that exists with another range stops the script: names it, says what differs, gives the docker network rm', async () => {
    const before = await networks();
    const script = dockerScript(writeSpec(h, [{ ...lanApps, range: '192/26' }, { name: 'iot', third: 30, range: '64/26', vlan: 30 }]));
    const r = await runScript(script);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'flatnet: Docker network lan-apps exists with other settings (have: ip-range=192.168.77.192/27; want: ip-range=192.168.77.192/26); ' +
        'remove it with: docker network rm lan-apps (its containers must be stopped or disconnected first), then run this again\n',
    );
    expect(await networks()).toEqual(before);

    // after the docker network rm it asks for, the same script converges
    expect((await h.docker(['network', 'rm', 'lan-apps'])).code).toBe(0);
    const again = await runScript(script);
    expect(again.code, again.stderr).toBe(0);
    expect(((await h.engine('GET', '/networks/lan-apps')).json as { IPAM: { Config: Array<Record<string, unknown>> } }).IPAM.Config[0]).toMatchObject({ IPRange: '192.168.77.192/26' });
    expect((await runScript(script)).code).toBe(0);
  }, 60_000);

  it('a network of that name made without flatnet (no label, other driver settings) is not taken for the spec\'s', async () => {
    // Docker lets one macvlan network use a parent: a third one for this network
    expect((await h.exec(['ip', 'link', 'add', 'fnlan3', 'type', 'veth', 'peer', 'name', 'fnlan3p'])).code).toBe(0);
    const made = await h.docker(['network', 'create', '-d', 'macvlan', '--subnet=192.168.55.0/24', '-o', 'parent=fnlan3', 'byhand']);
    expect(made.code, made.stderr).toBe(0);
    const script = dockerScript(writeSpec(h, [{ name: 'byhand', third: 55, range: '128/26', vlan: 55, device: 'fnlan3' }]));
    const r = await runScript(script);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^flatnet: Docker network byhand exists with other settings \(have: \(not set\); want: aux-address=host=192\.168\.55\.128 gateway=192\.168\.55\.1 ip-range=192\.168\.55\.128\/26 label=flatnet\.network=byhand\); remove it with: docker network rm byhand /);
    expect((await h.docker(['network', 'rm', 'byhand'])).code).toBe(0);
  }, 60_000);
});
