// plan --adopt on a Docker host, end to end: the CLI against a real dockerd and the real kernel inside network
// namespaces of the test's own (test/fakes/docker-host.ts), as test/owners-host-e2e.test.ts. The guide's setup
// made by hand (a VLAN link, a macvlan network on it, a shim made with ip commands, a container on the network)
// is refused without --adopt, shown as `= adopt` with it, taken over by apply --adopt without recreating
// anything (same network id, the container stays attached), and converged from then on.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerTestHost, dockerTestSupport } from './fakes/docker-host.js';
import { probeKernel } from './netns/netns.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'flatnet-router.js');
const support = dockerTestSupport();
const kernel = support.ok ? probeKernel() : undefined;
/** Without 802.1Q in the kernel, `<parent>.200` is made by hand as a veth stand-in, used as it is (not adopted). */
const skipReason = !support.ok ? support.reason : (kernel?.unavailable ?? (kernel && !(kernel.macvlan && kernel.veth) ? 'kernel has no macvlan or veth links' : undefined));

const vlanStandIn = kernel !== undefined && !kernel.vlan;

describe.skipIf(skipReason !== undefined)(`plan --adopt on a Docker host, with a real dockerd${skipReason !== undefined ? ` (skipped: ${skipReason})` : vlanStandIn ? ' (the VLAN link is a veth stand-in: kernel has no 802.1Q, so its adoption is checked on the pure diff only)' : ''}`, () => {
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
  const sh = async (argv: string[]) => {
    const r = await h.exec(argv);
    expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(0);
  };
  const inspect = async (name: string) => (await h.engine('GET', `/networks/${name}`)).json as { Id: string; Labels: Record<string, string>; Containers?: Record<string, unknown> };
  const link = async (dev: string) => JSON.parse((await h.exec(['ip', '-j', 'link', 'show', 'dev', dev])).stdout)[0] as { ifindex: number; ifalias?: string };

  it('the guide\'s setup made by hand: refused without --adopt, adopted in place with it, converged after', async () => {
    const vlan = `${h.parent}.200`;
    // made by hand: the VLAN link, the Docker network on it, the shim, a container
    if (vlanStandIn) await sh(['ip', 'link', 'add', vlan, 'type', 'veth', 'peer', 'name', `${vlan}p`]);
    else await sh(['ip', 'link', 'add', 'link', h.parent, 'name', vlan, 'type', 'vlan', 'id', '200']);
    await sh(['ip', 'link', 'set', 'dev', vlan, 'up']);
    const created = await h.docker(['network', 'create', '-d', 'macvlan', '-o', `parent=${vlan}`, '--subnet', '192.168.200.0/24', '--gateway', '192.168.200.1', '--ip-range', '192.168.200.192/27', '--aux-address', 'host=192.168.200.192', 'docker-demo']);
    expect(created.code, created.stderr).toBe(0);
    await sh(['ip', 'link', 'add', 'link', vlan, 'name', 'fn-200', 'type', 'macvlan', 'mode', 'bridge']);
    await sh(['ip', 'addr', 'add', '192.168.200.192/32', 'dev', 'fn-200']);
    await sh(['ip', 'link', 'set', 'dev', 'fn-200', 'up']);
    await sh(['ip', 'route', 'add', '192.168.200.192/27', 'dev', 'fn-200']);
    await h.run('docker-demo', '192.168.200.200', 'app1');
    const before = await inspect('docker-demo');
    const shimIndex = (await link('fn-200')).ifindex;

    const spec = join(h.scratch, 'spec.yaml');
    writeFileSync(
      spec,
      ['version: 1', 'owner: nas1', 'routers:', '  core:', '    type: routeros', '    address: 192.0.2.1', '    password-env: P', 'hosts:', '  nas:', `    parent: ${h.parent}`, '    persist: none', 'networks:', '  docker-demo:', '    router: core', '    host: nas', '    vlan: 200', '    subnet: 192.168.200.0/24', '    gateway: 192.168.200.1', '    container-range: 192.168.200.192/27', ''].join('\n'),
    );
    const refused = await cli(['plan', spec, '--host', 'nas']);
    expect(refused.code, refused.stdout + refused.stderr).toBe(1);
    expect(refused.stdout).toMatch(/networks\.docker-demo: Docker network "docker-demo" exists and was not made by flatnet .*plan --adopt/);
    expect(refused.stdout).toMatch(/hosts\.nas: link fn-200 \(macvlan mode bridge on eth0\.200\) exists and is not flatnet's .*plan --adopt/);

    const plan = await cli(['plan', spec, '--host', 'nas', '--adopt']);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    const changeLines = plan.stdout.split('\n').filter((l) => /^\s*[+~\-=>] /.test(l));
    expect(changeLines.map((l) => l.trim().split('  ')[0])).toEqual([...(vlanStandIn ? [] : ['= VLAN parent link eth0.200']), '= docker network docker-demo (macvlan on eth0.200, 192.168.200.0/24 ip-range 192.168.200.192/27)', '= shim link fn-200']);
    expect(plan.stdout).toMatch(vlanStandIn ? /2 to adopt/ : /3 to adopt/);

    const applied = await cli(['apply', spec, '--host', 'nas', '--adopt', '--yes']);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    const after = await inspect('docker-demo');
    expect(after.Id).toBe(before.Id);
    expect(after.Labels).toEqual({});
    expect(Object.keys(after.Containers ?? {})).toHaveLength(1);
    expect(await link('fn-200')).toMatchObject({ ifindex: shimIndex, ifalias: 'flatnet:docker-demo@nas1' });
    expect((await link(vlan)).ifalias).toBe(vlanStandIn ? undefined : 'flatnet:eth0.200@nas1');
    expect(JSON.parse(readFileSync(join(installRoot, 'etc/flatnet/owners.json'), 'utf8')).networks[before.Id]).toEqual({ name: 'docker-demo', owner: 'nas1', adopted: true });

    // flatnet's from then on: no changes, with or without --adopt; the container is still there
    const again = await cli(['plan', spec, '--host', 'nas', '--detailed-exitcode']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect((await cli(['plan', spec, '--host', 'nas', '--adopt', '--detailed-exitcode'])).code).toBe(0);
    expect((await inspect('docker-demo')).Id).toBe(before.Id);
    expect(Object.keys((await inspect('docker-demo')).Containers ?? {})).toHaveLength(1);
  }, 120_000);
});
