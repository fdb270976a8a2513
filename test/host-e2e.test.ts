// apply --host against a real dockerd and the real kernel, all inside network namespaces the test makes
// (test/fakes/docker-host.ts). The CLI runs inside the host namespace (nsenter), with DOCKER_HOST at the
// test's dockerd and --install-root at a scratch directory, so nothing of this machine is touched.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerTestHost, dockerTestSupport } from './fakes/docker-host.js';
import { probeKernel } from './netns/netns.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'flatnet-router.js');
const support = dockerTestSupport();
const kernel = support.ok ? probeKernel() : undefined;
const skipReason = !support.ok ? support.reason : (kernel?.unavailable ?? (kernel && !kernel.macvlan ? 'kernel has no macvlan' : undefined));

function spec(h: DockerTestHost, network: string, subnet: { third: number; range: string }, extra: string[] = []): string {
  const file = join(h.scratch, `spec-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    file,
    [
      'version: 1',
      'hosts:',
      '  nas:',
      `    parent: ${h.parent}`,
      ...extra.map((l) => `    ${l}`),
      'networks:',
      `  ${network}:`,
      '    host: nas',
      `    subnet: 192.168.${subnet.third}.0/24`,
      `    gateway: 192.168.${subnet.third}.1`,
      `    container-range: 192.168.${subnet.third}.${subnet.range}`,
      '',
    ].join('\n'),
  );
  return file;
}

describe.skipIf(skipReason !== undefined)(`apply --host with a real dockerd${skipReason !== undefined ? ` (skipped: ${skipReason})` : ''}`, () => {
  let h: DockerTestHost;
  let installRoot = '';
  beforeAll(async () => {
    h = await DockerTestHost.start();
    installRoot = mkdtempSync(join(h.scratch, 'root-'));
  }, 90_000);
  afterAll(async () => {
    await h?.stop();
  }, 90_000);

  const cli = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const argv = h.nsenter([process.execPath, bin, ...args, '--install-root', installRoot]);
      execFile(argv[0]!, argv.slice(1), { env: { PATH: process.env.PATH ?? '', DOCKER_HOST: `unix://${h.socket}`, NO_COLOR: '1' }, timeout: 60_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  const inspect = async (name: string) => (await h.engine('GET', `/networks/${name}`)).json as { Id: string; Driver: string; Options: Record<string, string>; Labels: Record<string, string>; IPAM: { Config: Array<Record<string, unknown>> }; Containers?: Record<string, { IPv4Address: string }> };
  const ping = async (from: 'host' | 'lan', to: string) => {
    const argv = [h.busybox, 'ping', '-c', '1', '-W', '2', to];
    return (from === 'host' ? await h.exec(argv) : await h.execLan(argv)).code;
  };

  it('fresh apply: network as specified, shim up, host and LAN reach the container; boot files written; second apply changes nothing', async () => {
    const file = spec(h, 'lan-apps', { third: 77, range: '192/27' }, ['address: 192.168.77.9/24']);
    const plan = await cli(['plan', file, '--host', 'nas', '--detailed-exitcode']);
    expect(plan.code, plan.stdout + plan.stderr).toBe(2);
    expect(plan.stdout).toMatch(/\+ docker network lan-apps/);
    expect(plan.stdout).toMatch(/\+ shim link fn-lan-apps/);
    const applied = await cli(['apply', file, '--host', 'nas', '--yes']);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);

    const n = await inspect('lan-apps');
    expect(n).toMatchObject({ Driver: 'macvlan', Options: { parent: h.parent }, Labels: { 'flatnet.network': 'lan-apps' } });
    expect(n.IPAM.Config[0]).toMatchObject({ Subnet: '192.168.77.0/24', Gateway: '192.168.77.1', IPRange: '192.168.77.192/27', AuxiliaryAddresses: { host: '192.168.77.192' } });
    const shim = JSON.parse((await h.exec(['ip', '-j', '-d', 'addr', 'show', 'dev', 'fn-lan-apps'])).stdout)[0];
    expect(shim.ifalias).toBe('flatnet:lan-apps');
    expect(shim.flags).toContain('UP');
    expect(shim.addr_info.filter((a: { family: string }) => a.family === 'inet').map((a: { local: string; prefixlen: number }) => `${a.local}/${a.prefixlen}`)).toEqual(['192.168.77.192/32']);
    expect((await h.exec(['ip', 'route', 'show', '192.168.77.192/27'])).stdout).toContain('dev fn-lan-apps');

    await h.run('lan-apps', '192.168.77.200', 'app1');
    expect(await ping('host', '192.168.77.200')).toBe(0);
    expect(await ping('lan', '192.168.77.200')).toBe(0);
    expect((await h.docker(['exec', 'app1', 'ping', '-c', '1', '-W', '2', '192.168.77.192'])).code).toBe(0);

    const script = join(installRoot, 'etc/flatnet/nas.sh');
    expect(readFileSync(script, 'utf8')).toContain('ip link set dev fn-lan-apps alias flatnet:lan-apps');
    expect(readFileSync(join(installRoot, 'etc/systemd/system/flatnet-nas.service'), 'utf8')).toMatch(/Before=docker\.service[\s\S]*ExecStart=\/bin\/sh \/etc\/flatnet\/nas\.sh/);
    expect(readlinkSync(join(installRoot, 'etc/systemd/system/multi-user.target.wants/flatnet-nas.service'))).toBe('../flatnet-nas.service');

    const again = await cli(['apply', file, '--host', 'nas', '--yes']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('no changes: the host matches the spec');

    // a reboot in miniature: the shim is gone; the installed script brings it back
    expect((await h.exec(['ip', 'link', 'del', 'dev', 'fn-lan-apps'])).code).toBe(0);
    expect(await ping('host', '192.168.77.200')).not.toBe(0);
    const boot = await h.exec(['sh', script]);
    expect(boot.code, boot.stderr).toBe(0);
    expect(await ping('host', '192.168.77.200')).toBe(0);
    expect((await cli(['plan', file, '--host', 'nas', '--detailed-exitcode'])).code).toBe(0);
  }, 90_000);

  it('a changed container range is a replace: refused with a container attached, done with --recreate-networks (same IP)', async () => {
    const file = spec(h, 'lan-apps', { third: 77, range: '192/26' }, ['address: 192.168.77.9/24']);
    const plan = await cli(['plan', file, '--host', 'nas']);
    expect(plan.stdout).toMatch(/-\/\+ docker network lan-apps .*containers attached: app1/);
    expect(plan.stdout).toMatch(/ip-range = 192\.168\.77\.192\/27 -> 192\.168\.77\.192\/26/);
    const refused = await cli(['apply', file, '--host', 'nas', '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/run apply with --recreate-networks/);
    expect((await inspect('lan-apps')).IPAM.Config[0]).toMatchObject({ IPRange: '192.168.77.192/27' });

    const done = await cli(['apply', file, '--host', 'nas', '--yes', '--recreate-networks']);
    expect(done.code, done.stdout + done.stderr).toBe(0);
    const n = await inspect('lan-apps');
    expect(n.IPAM.Config[0]).toMatchObject({ IPRange: '192.168.77.192/26' });
    expect(Object.values(n.Containers ?? {}).map((c) => c.IPv4Address)).toEqual(['192.168.77.200/24']);
    expect(await ping('host', '192.168.77.200')).toBe(0);

    // a stopped container still counts: replacing its network under it would leave it unable to start
    expect((await h.docker(['stop', '-t', '0', 'app1'])).code).toBe(0);
    const back = spec(h, 'lan-apps', { third: 77, range: '192/27' }, ['address: 192.168.77.9/24']);
    const stopped = await cli(['apply', back, '--host', 'nas', '--yes']);
    expect(stopped.code).toBe(1);
    expect(stopped.stdout).toMatch(/containers attached: app1/);
    expect((await inspect('lan-apps')).IPAM.Config[0]).toMatchObject({ IPRange: '192.168.77.192/26' });
  }, 90_000);

  it('a foreign network with the spec name is untouched and reported; a network gone from the spec is removed', async () => {
    await h.docker(['rm', '-f', 'app1']);
    // another network takes the place of lan-apps in the spec
    const other = spec(h, 'media', { third: 78, range: '64/26' });
    const moved = await cli(['apply', other, '--host', 'nas', '--yes']);
    expect(moved.code, moved.stdout + moved.stderr).toBe(0);
    expect((await h.engine('GET', '/networks/lan-apps')).status).toBe(404);
    expect((await h.exec(['ip', 'link', 'show', 'dev', 'fn-lan-apps'])).code).not.toBe(0);
    expect((await inspect('media')).Labels).toMatchObject({ 'flatnet.network': 'media' });

    // a network named like a spec network, made by hand
    await cli(['apply', spec(h, 'media', { third: 78, range: '64/26' }, ['persist: none']), '--host', 'nas', '--yes']);
    const foreignSpec = spec(h, 'manual', { third: 79, range: '64/26' });
    expect((await h.docker(['network', 'rm', 'media'])).code).toBe(0); // one macvlan network per parent
    const created = await h.docker(['network', 'create', '-d', 'macvlan', '--subnet', '192.168.79.0/24', '-o', `parent=${h.parent}`, 'manual']);
    expect(created.code, created.stderr).toBe(0);
    const plan = await cli(['plan', foreignSpec, '--host', 'nas']);
    expect(plan.code).toBe(1);
    expect(plan.stdout).toMatch(/networks\.manual: Docker network "manual" exists and was not made by flatnet/);
    expect((await inspect('manual')).Driver).toBe('macvlan');
    // persist: none removed the unit and its enabling link written earlier; the script stays for a boot hook of your own
    expect(existsSync(join(installRoot, 'etc/systemd/system/flatnet-nas.service'))).toBe(false);
    expect(existsSync(join(installRoot, 'etc/systemd/system/multi-user.target.wants/flatnet-nas.service'))).toBe(false);
    expect(existsSync(join(installRoot, 'etc/flatnet/nas.sh'))).toBe(true);
  }, 90_000);

  it('persist: networkd writes the networkd files beside the .network file networkd uses for the parent, or refuses', async () => {
    await h.docker(['network', 'rm', 'manual']);
    const file = spec(h, 'media', { third: 78, range: '64/26' }, ['persist: networkd']);
    const refused = await cli(['plan', file, '--host', 'nas']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/hosts\.nas\.persist: systemd-networkd does not manage eth0 here/);
    const ifindex = JSON.parse((await h.exec(['ip', '-j', 'link', 'show', 'dev', h.parent])).stdout)[0].ifindex as number;
    mkdirSync(join(installRoot, 'run/systemd/netif/links'), { recursive: true });
    writeFileSync(join(installRoot, `run/systemd/netif/links/${ifindex}`), 'ADMIN_STATE=configured\nNETWORK_FILE=/etc/systemd/network/20-wired.network\n');
    const applied = await cli(['apply', file, '--host', 'nas', '--yes']);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    const net = join(installRoot, 'etc/systemd/network');
    expect(readFileSync(join(net, '11-flatnet-fn-media.netdev'), 'utf8')).toMatch(/Name=fn-media/);
    expect(readFileSync(join(net, '20-wired.network.d/flatnet.conf'), 'utf8')).toMatch(/MACVLAN=fn-media/);
    expect((await cli(['plan', file, '--host', 'nas', '--detailed-exitcode'])).code).toBe(0);

    // the plan says which network manager could fight the links
    mkdirSync(join(installRoot, 'etc/network'), { recursive: true });
    writeFileSync(join(installRoot, 'etc/network/interfaces'), `auto ${h.parent}\niface ${h.parent} inet static\n`);
    const other = await cli(['plan', spec(h, 'media', { third: 78, range: '64/26' }, ['persist: systemd']), '--host', 'nas']);
    expect(other.stdout).toContain(`warning: systemd-networkd manages ${h.parent}: a catch-all .network file`);
    expect(other.stdout).toContain(`warning: ifupdown manages ${h.parent} (/etc/network/interfaces)`);
  }, 90_000);

  it('preflight: a VLAN network on a kernel without 802.1Q is a problem of plan --host naming modprobe 8021q; the host is untouched (issue 21 point 3)', async () => {
    const file = join(h.scratch, 'vlan.yaml');
    writeFileSync(
      file,
      ['version: 1', 'routers:', '  core:', '    type: routeros', '    address: 192.0.2.1', '    password-env: P', 'hosts:', '  nas:', `    parent: ${h.parent}`, 'networks:', '  cams:', '    router: core', '    host: nas', '    vlan: 41', '    subnet: 192.168.41.0/24', '    gateway: 192.168.41.1', '    container-range: 192.168.41.192/27', ''].join('\n'),
    );
    const links = () => h.exec(['ip', '-j', 'link', 'show']);
    const before = (await links()).stdout;
    const plan = await cli(['plan', file, '--host', 'nas', '--detailed-exitcode']);
    if (kernel!.vlan) {
      expect(plan.code, plan.stdout + plan.stderr).toBe(2);
      expect(plan.stdout).toContain(`+ VLAN parent link ${h.parent}.41 (vlan 41 on ${h.parent})`);
    } else {
      expect(plan.code, plan.stdout + plan.stderr).toBe(1);
      expect(plan.stdout).toMatch(new RegExp(`vlan\\.yaml:\\d+:\\d+ networks\\.cams\\.vlan: the kernel of .* has no 802\\.1Q VLAN support, so ${h.parent}\\.41 \\(VLAN 41 on ${h.parent}\\) cannot be created \\(ip link add … type vlan: Unknown device type\\.?\\): load it with \`modprobe 8021q\``));
      expect(plan.stdout).toContain('nothing was changed');
    }
    expect((await links()).stdout).toBe(before);
  }, 90_000);
});
