// What happens to a host's shim when its parent NIC flaps or comes back, on the real kernel in a namespace of
// the test's own (issue 17 point 5): an administrative down/up keeps the shim, its address and its route (the
// kernel does not delete a macvlan whose lower link goes down); a NIC that disappears and comes back (re-plugged,
// driver reloaded) takes every macvlan on it away, and the installed boot script, run again (what the unit does
// when the NIC's device unit appears, through the device's .wants link apply writes), brings them back, and is
// safe to run again. Needs root and iproute2; skipped with a message otherwise.
import { afterEach, describe, expect, it } from 'vitest';
import { parseSpecText, resolveModel } from '../src/index.js';
import { desiredFiles, hostPaths } from '../targets/host/diff.js';
import { createNamespace, deleteAllNamespaces, ipJson, nextNamespaceName, nsMust, nsRun, nsScript, probeKernel } from './netns/netns.js';

const kernel = probeKernel();
const skipReason = kernel.unavailable ?? (!kernel.macvlan ? 'the kernel has no macvlan' : undefined);
if (skipReason !== undefined) console.warn(`host-remote-parent-flap.test.ts: SKIPPED, needs root and iproute2 with macvlan: ${skipReason}`);

const model = resolveModel(
  parseSpecText(
    `version: 1
hosts:
  nas:
    parent: eth0
    address: 192.168.77.9/24
networks:
  apps:
    host: nas
    subnet: 192.168.77.0/24
    gateway: 192.168.77.1
    container-range: 192.168.77.192/27
`,
    'flap.yaml',
  ),
);
const host = model.hosts[0]!;
const installed = desiredFiles(model, host, undefined, []).get(hostPaths(host).script) as { content: string };

function parentUp(ns: string): void {
  nsMust(ns, ['ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'fntpeer']);
  nsMust(ns, ['ip', 'link', 'set', 'fntpeer', 'up']);
  nsMust(ns, ['ip', 'link', 'set', 'eth0', 'up']);
  nsMust(ns, ['ip', 'addr', 'add', '192.168.77.9/24', 'dev', 'eth0']);
}

function shim(ns: string): { up: boolean; alias?: string; addresses: string[]; route: boolean } | undefined {
  if (nsRun(ns, ['ip', 'link', 'show', 'dev', 'fn-apps']).status !== 0) return undefined;
  const [link] = ipJson<Array<{ flags: string[]; ifalias?: string; addr_info: Array<{ family: string; local: string; prefixlen: number }> }>>(ns, ['-d', 'addr', 'show', 'dev', 'fn-apps']);
  const routes = ipJson<Array<{ dst: string; dev: string }>>(ns, ['route', 'show', 'table', 'main']);
  return {
    up: link!.flags.includes('UP'),
    ...(link!.ifalias !== undefined ? { alias: link!.ifalias } : {}),
    addresses: link!.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
    route: routes.some((r) => r.dst === '192.168.77.192/27' && r.dev === 'fn-apps'),
  };
}

describe.skipIf(skipReason !== undefined)(`the shim when its parent flaps or comes back${skipReason !== undefined ? ` (skipped: ${skipReason})` : ''}`, () => {
  afterEach(() => deleteAllNamespaces());
  const want = { up: true, alias: 'flatnet:apps', addresses: ['192.168.77.192/32'], route: true };

  it('down/up keeps shim, address and route; a NIC that comes back gets them from the boot script again, which is safe to rerun', () => {
    const ns = nextNamespaceName('flap');
    createNamespace(ns);
    parentUp(ns);
    expect(nsScript(ns, installed.content).status).toBe(0);
    expect(shim(ns)).toEqual(want);

    nsMust(ns, ['ip', 'link', 'set', 'eth0', 'down']);
    nsMust(ns, ['ip', 'link', 'set', 'eth0', 'up']);
    expect(shim(ns)).toEqual(want);

    // the NIC goes away and comes back: the macvlan went with it
    nsMust(ns, ['ip', 'link', 'del', 'dev', 'eth0']);
    expect(shim(ns)).toBeUndefined();
    parentUp(ns);
    expect(shim(ns)).toBeUndefined();
    const again = nsScript(ns, installed.content);
    expect(again.status, again.stderr).toBe(0);
    expect(shim(ns)).toEqual(want);
    expect(nsScript(ns, installed.content).status).toBe(0);
    expect(shim(ns)).toEqual(want);
  });

  it('apply enables the unit for the parent NIC\'s device too (its .wants link), beside multi-user.target', () => {
    const files = desiredFiles(model, host, undefined, []);
    expect(files.get('etc/systemd/system/sys-subsystem-net-devices-eth0.device.wants/flatnet-nas.service')).toEqual({ link: '../flatnet-nas.service' });
    expect(files.get('etc/systemd/system/multi-user.target.wants/flatnet-nas.service')).toEqual({ link: '../flatnet-nas.service' });
  });
});
