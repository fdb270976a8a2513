// `flatnet-router status`: one row per network with each device of its path, read concurrently from the fake
// RouterOS (127.0.0.1) and a switch that cannot be reached; exit 0 in sync, 2 drift, 1 unreachable.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runApply, runStatus } from '../src/plan/run.js';
import { captureIo } from './fakes/capture-io.js';
import { FakeRouterOS } from './fakes/routeros-fake.js';

let scratch = '';
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'flatnet-status-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const io = () => captureIo();

/** A port on 127.0.0.1 nothing listens on (a server bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function spec(routerPort: number, switchPort: number): string {
  return `version: 1
routers:
  core:
    type: routeros
    address: 127.0.0.1
    port: ${routerPort}
    password-env: P
switches:
  sw1:
    type: routeros
    address: 127.0.0.1
    port: ${switchPort}
    password-env: P
    uplink: ether1
    connected-to: core:ether2
hosts:
  nas:
    parent: eth0
    connected-to: sw1:ether5
networks:
  media:
    router: core
    host: nas
    vlan: 20
    subnet: 10.20.0.0/24
    gateway: 10.20.0.1
    container-range: 10.20.0.64/26
  cams:
    router: core
    host: nas
    vlan: 30
    subnet: 10.30.0.0/24
    gateway: 10.30.0.1
    container-range: 10.30.0.64/26
`;
}

describe('status', () => {
  it('drift, an unreachable switch, then in sync after apply; --json is flatnet-status/1', async () => {
    const fake = new FakeRouterOS({ password: 'pw' });
    fake.seedDefaults();
    const port = await fake.start();
    try {
      const file = join(scratch, 'switched.yaml');
      writeFileSync(file, spec(port, await closedPort()));

      const all = io();
      expect(await runStatus(file, { timeout: 5 }, all.io)).toBe(1);
      const lines = all.out().split('\n');
      const media = lines.find((l) => l.startsWith('media (VLAN 20)'))!;
      expect(media).toMatch(/core \d+ changes pending · sw1 unreachable · nas not checked/);
      expect(all.out()).toMatch(/unreachable: switch sw1: .*(refused|ECONNREFUSED)/i);
      expect(all.out()).toMatch(/not checked: nas: a local host: run `sudo flatnet-router plan \S+switched\.yaml --host nas` \(then apply\) on nas itself/);
      // nothing was changed by status
      expect(fake.log.filter((e) => !e.command.endsWith('/print') && e.command !== '/login')).toEqual([]);

      const routerOnly = io();
      expect(await runStatus(file, { routers: ['core'] }, routerOnly.io)).toBe(2);
      expect(routerOnly.out()).toMatch(/cams \(VLAN 30\)\s+core \d+ changes pending · sw1 not checked/);

      const apply = io();
      expect(await runApply(file, { routers: ['core'], yes: true }, apply.io)).toBe(0);

      const synced = io();
      expect(await runStatus(file, { routers: ['core'], json: true }, synced.io)).toBe(0);
      const report = JSON.parse(synced.out());
      expect(report.format).toBe('flatnet-status/1');
      expect(report.exitCode).toBe(0);
      expect(report.networks.map((n: { network: string; devices: Array<{ name: string; state: string }> }) => [n.network, n.devices.map((d) => `${d.name}=${d.state}`)])).toEqual([
        ['media', ['core=in-sync', 'sw1=not-checked', 'nas=not-checked']],
        ['cams', ['core=in-sync', 'sw1=not-checked', 'nas=not-checked']],
      ]);
      expect(report.devices).toEqual([expect.objectContaining({ kind: 'router', name: 'core', status: 'no-changes', pending: 0 })]);
    } finally {
      await fake.stop();
    }
  });

  it('a network the router still has but the spec dropped is a row of its own', async () => {
    const fake = new FakeRouterOS({ password: 'pw' });
    fake.seedDefaults();
    const port = await fake.start();
    try {
      const file = join(scratch, 'dropped.yaml');
      writeFileSync(file, spec(port, await closedPort()));
      expect(await runApply(file, { routers: ['core'], yes: true }, io().io)).toBe(0);
      writeFileSync(file, spec(port, await closedPort()).replace(/  cams:[\s\S]*$/, ''));
      const after = io();
      expect(await runStatus(file, { routers: ['core'] }, after.io)).toBe(2);
      expect(after.out()).toMatch(/media \(VLAN 20\)\s+core in sync/);
      expect(after.out()).toMatch(/cams \(not in the spec\)\s+core \d+ changes pending/);
    } finally {
      await fake.stop();
    }
  });
});
