// Owners on a Docker host, end to end: the CLI against a real dockerd and the real kernel inside network
// namespaces of the test's own (test/fakes/docker-host.ts), as test/host-e2e.test.ts. Two specs with their own
// owner on one host: each adds its network and shim and leaves the other's alone; a network name the other holds
// is refused; --from-owner relabels the shim's alias in place and records the Docker network's new owner under
// the install root, keeping the same network (same id, container still attached).
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
const skipReason = !support.ok ? support.reason : (kernel?.unavailable ?? (kernel && !(kernel.macvlan && kernel.veth) ? 'kernel has no macvlan or veth links' : undefined));

describe.skipIf(skipReason !== undefined)(`owners on a Docker host, with a real dockerd${skipReason !== undefined ? ` (skipped: ${skipReason})` : ''}`, () => {
  let h: DockerTestHost;
  let installRoot = '';
  beforeAll(async () => {
    h = await DockerTestHost.start();
    installRoot = mkdtempSync(join(h.scratch, 'root-'));
    // a second NIC for the second spec: Docker allows one macvlan network per parent
    for (const argv of [['ip', 'link', 'add', 'eth9', 'type', 'veth', 'peer', 'name', 'eth9p'], ['ip', 'link', 'set', 'dev', 'eth9', 'up'], ['ip', 'link', 'set', 'dev', 'eth9p', 'up']]) expect((await h.exec(argv)).code).toBe(0);
  }, 90_000);
  afterAll(async () => {
    await h?.stop();
  }, 90_000);

  const spec = (owner: string | undefined, parent: string, network: string, third: number): string => {
    const file = join(h.scratch, `spec-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(
      file,
      ['version: 1', ...(owner ? [`owner: ${owner}`] : []), 'hosts:', '  nas:', `    parent: ${parent}`, '    persist: none', 'networks:', `  ${network}:`, '    host: nas', `    subnet: 192.168.${third}.0/24`, `    gateway: 192.168.${third}.1`, `    container-range: 192.168.${third}.64/26`, ''].join('\n'),
    );
    return file;
  };
  const cli = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const argv = h.nsenter([process.execPath, bin, ...args, '--install-root', installRoot]);
      execFile(argv[0]!, argv.slice(1), { env: { PATH: process.env.PATH ?? '', DOCKER_HOST: `unix://${h.socket}`, NO_COLOR: '1' }, timeout: 60_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  const inspect = async (name: string) => (await h.engine('GET', `/networks/${name}`)).json as { Id: string; Labels: Record<string, string>; Containers?: Record<string, unknown> };
  const alias = async (dev: string) => JSON.parse((await h.exec(['ip', '-j', 'link', 'show', 'dev', dev])).stdout)[0].ifalias as string;

  it('two owners on one host, a refused name, then --from-owner keeps the network and relabels', async () => {
    const A = spec('nas1', h.parent, 'media', 78);
    const B = spec('nas2', 'eth9', 'lab', 79);
    const a = await cli(['apply', A, '--host', 'nas', '--yes']);
    expect(a.code, a.stdout + a.stderr).toBe(0);
    const b = await cli(['apply', B, '--host', 'nas', '--yes']);
    expect(b.code, b.stdout + b.stderr).toBe(0);
    expect(b.stdout).not.toMatch(/media/);
    expect((await inspect('media')).Labels).toEqual({ 'flatnet.network': 'media', 'flatnet.owner': 'nas1' });
    expect((await inspect('lab')).Labels).toEqual({ 'flatnet.network': 'lab', 'flatnet.owner': 'nas2' });
    expect(await alias('fn-media')).toBe('flatnet:media@nas1');
    expect(await alias('fn-lab')).toBe('flatnet:lab@nas2');
    for (const file of [A, B]) expect((await cli(['plan', file, '--host', 'nas', '--detailed-exitcode'])).code).toBe(0);
    // a spec without owner sees neither: nothing to change or remove
    expect((await cli(['plan', spec(undefined, 'eth9', 'lab', 79), '--host', 'nas'])).stdout).toMatch(/networks\.lab: network name "lab" is held by objects of owner "nas2"/);

    // nas2 asks for the name nas1 holds: refused, nothing changed
    const taken = await cli(['plan', spec('nas2', 'eth9', 'media', 79), '--host', 'nas']);
    expect(taken.code).toBe(1);
    expect(taken.stdout).toMatch(/networks\.media: network name "media" is held by objects of owner "nas1" .*--from-owner nas1/);

    // nas1's spec is nas3's now: a container on media stays attached, the network keeps its id
    const before = (await inspect('media')).Id;
    await h.run('media', '192.168.78.70', 'app1');
    const C = spec('nas3', h.parent, 'media', 78);
    const refused = await cli(['plan', C, '--host', 'nas']);
    expect(refused.code).toBe(1);
    const plan = await cli(['plan', C, '--host', 'nas', '--from-owner', 'nas1']);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/\+ file \/etc\/flatnet\/owners\.json {2}\(owner "nas3" for Docker network media: /);
    expect(plan.stdout).toMatch(/~ alias = flatnet:media@nas1 -> flatnet:media@nas3/);
    expect(plan.stdout).not.toMatch(/docker network media/);
    const relabel = await cli(['apply', C, '--host', 'nas', '--yes', '--from-owner', 'nas1']);
    expect(relabel.code, relabel.stdout + relabel.stderr).toBe(0);
    expect((await inspect('media')).Id).toBe(before);
    expect(Object.keys((await inspect('media')).Containers ?? {})).toHaveLength(1);
    expect(await alias('fn-media')).toBe('flatnet:media@nas3');
    expect(JSON.parse(readFileSync(join(installRoot, 'etc/flatnet/owners.json'), 'utf8')).networks[before]).toEqual({ name: 'media', owner: 'nas3' });
    expect((await cli(['plan', C, '--host', 'nas', '--detailed-exitcode'])).code).toBe(0);
    expect((await cli(['plan', A, '--host', 'nas'])).code).toBe(1);
    expect((await cli(['plan', B, '--host', 'nas', '--detailed-exitcode'])).code).toBe(0);
  }, 120_000);
});
