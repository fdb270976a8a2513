// The throwaway Docker host (test/fakes/docker-host.ts) end to end, the way the macvlan feature will use it:
// a macvlan network created through the Engine API on the host's NIC, a container with a fixed address, a
// host shim (macvlan /32 + route to the container range) so that host and container reach each other, and
// the LAN namespace reaching the container. Then stop() leaves no dockerd and no namespaces.
//
// Needs root, docker.io (dockerd 20.10), busybox-static, iproute2 and util-linux; otherwise skipped with the
// reason in the title. Nothing touches the root network namespace and no traffic leaves the namespaces.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerTestHost, dockerTestSupport, type ExecResult } from './fakes/docker-host.js';
import { probeKernel } from './netns/netns.js';

const support = dockerTestSupport();
const kernel = support.ok ? probeKernel() : undefined;
const skipReason = !support.ok
  ? support.reason
  : kernel?.unavailable ?? (kernel && !kernel.macvlan ? 'kernel has no macvlan' : kernel && !kernel.veth ? 'kernel has no veth' : undefined);
if (skipReason !== undefined) console.warn(`docker-host.test.ts: SKIPPED: ${skipReason}`);

const NETWORK = 'lan-apps';
const CONTAINER_IP = '192.168.77.200';
const SHIM_IP = '192.168.77.192';

function show(r: ExecResult): string {
  return `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
}

describe.skipIf(skipReason !== undefined)(
  `a real dockerd in a network namespace${skipReason !== undefined ? ` (SKIPPED: ${skipReason})` : ''}`,
  () => {
    let host: DockerTestHost | undefined;
    const h = (): DockerTestHost => {
      if (!host) throw new Error('DockerTestHost did not start');
      return host;
    };

    beforeAll(async () => {
      host = await DockerTestHost.start();
    }, 60_000);
    afterAll(async () => {
      await host?.stop();
    }, 60_000);

    it('answers the Engine API on its socket, has the busybox image, and sees only its own namespace', async () => {
      const ping = await h().engine('GET', '/_ping');
      expect(ping).toMatchObject({ status: 200, text: 'OK' });
      const version = await h().engine('GET', '/version');
      expect(version.json).toMatchObject({ ApiVersion: '1.41' });
      const images = await h().docker(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}']);
      expect(images.stdout.trim().split('\n')).toEqual([h().image]);
      // the host's NIC is the veth end with its LAN address, in the host namespace only
      const addr = await h().exec(['ip', '-o', '-4', 'addr', 'show', 'dev', h().parent]);
      expect(addr.code, show(addr)).toBe(0);
      expect(addr.stdout).toContain('192.168.77.9/24');
      const lan = await h().execLan(['ip', '-o', '-4', 'addr', 'show']);
      expect(lan.stdout).toContain('192.168.77.1/24');
      // dockerd added no bridge
      const links = await h().exec(['ip', '-o', 'link', 'show']);
      expect(links.stdout).not.toMatch(/docker0/);
    });

    it('macvlan network via the Engine API + container with --ip + host shim: host, container and LAN ping each other', async () => {
      const created = await h().engine('POST', '/networks/create', {
        Name: NETWORK,
        CheckDuplicate: true,
        Driver: 'macvlan',
        Options: { parent: h().parent },
        IPAM: {
          Driver: 'default',
          Config: [{ Subnet: '192.168.77.0/24', IPRange: '192.168.77.192/27', Gateway: '192.168.77.1', AuxiliaryAddresses: { host: SHIM_IP } }],
        },
        Labels: { 'flatnet.network': 'lan-apps' },
      });
      expect(created.status, created.text).toBe(201);
      const inspect = await h().engine('GET', `/networks/${NETWORK}`);
      expect(inspect.json).toMatchObject({
        Name: NETWORK,
        Driver: 'macvlan',
        Options: { parent: h().parent },
        Labels: { 'flatnet.network': 'lan-apps' },
        IPAM: { Config: [{ Subnet: '192.168.77.0/24', IPRange: '192.168.77.192/27', Gateway: '192.168.77.1', AuxiliaryAddresses: { host: SHIM_IP } }] },
      });

      const id = await h().run(NETWORK, CONTAINER_IP, 'app1');
      expect(id).toMatch(/^[0-9a-f]{64}$/);
      const c = await h().engine('GET', `/containers/${id}/json`);
      expect(c.json).toMatchObject({ State: { Running: true }, NetworkSettings: { Networks: { [NETWORK]: { IPAddress: CONTAINER_IP } } } });

      // the host shim, as the generated host commands do it
      for (const argv of [
        ['ip', 'link', 'add', 'link', h().parent, 'name', 'fn-test', 'type', 'macvlan', 'mode', 'bridge'],
        ['ip', 'addr', 'add', `${SHIM_IP}/32`, 'dev', 'fn-test'],
        ['ip', 'link', 'set', 'fn-test', 'up'],
        ['ip', 'route', 'add', '192.168.77.192/27', 'dev', 'fn-test'],
      ]) {
        const r = await h().exec(argv);
        expect(r.code, `${argv.join(' ')}: ${show(r)}`).toBe(0);
      }

      const fromHost = await h().exec([h().busybox, 'ping', '-c', '1', '-W', '2', CONTAINER_IP]);
      expect(fromHost.code, `host -> container: ${show(fromHost)}`).toBe(0);
      const fromContainer = await h().docker(['exec', 'app1', 'ping', '-c', '1', '-W', '2', SHIM_IP]);
      expect(fromContainer.code, `container -> host shim: ${show(fromContainer)}`).toBe(0);
      const fromLan = await h().execLan([h().busybox, 'ping', '-c', '1', '-W', '2', CONTAINER_IP]);
      expect(fromLan.code, `LAN -> container: ${show(fromLan)}`).toBe(0);
      // and without the shim's route, the host could not reach it (negative control: macvlan isolates parent/child)
      const del = await h().exec(['ip', 'link', 'del', 'fn-test']);
      expect(del.code, show(del)).toBe(0);
      const noShim = await h().exec([h().busybox, 'ping', '-c', '1', '-W', '1', CONTAINER_IP]);
      expect(noShim.code, `host -> container without the shim must fail: ${show(noShim)}`).not.toBe(0);
    });

    it('stop() leaves no dockerd, no namespaces and no scratch directory', async () => {
      const pid = h().dockerdPid;
      expect(pid).toBeDefined();
      const { netns, lanNetns, scratch, socket } = h();
      expect(existsSync(`/proc/${pid}`)).toBe(true);
      await h().stop();
      expect(existsSync(`/proc/${pid}`), `dockerd pid ${pid} still exists`).toBe(false);
      expect(existsSync(`/var/run/netns/${netns}`)).toBe(false);
      expect(existsSync(`/var/run/netns/${lanNetns}`)).toBe(false);
      expect(existsSync(scratch)).toBe(false);
      expect(existsSync(socket)).toBe(false);
      await h().stop(); // idempotent
    }, 40_000);
  },
);
