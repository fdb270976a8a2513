// plan/apply against the fake RouterOS API server (the real binary protocol on 127.0.0.1), through the CLI
// as users run it. Every router address in these specs is 127.0.0.1.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeRouterOS, type FakeRouterOptions } from './fakes/routeros-fake.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'flatnet-router.js');
const PASSWORD = 'pa ss"w0rd$';
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
let scratch = '';
const fakes: FakeRouterOS[] = [];

beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'src', 'cli.js'))) throw new Error('run tsc first (npm test does)');
  scratch = mkdtempSync(join(tmpdir(), 'flatnet-ros-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

async function fake(options: FakeRouterOptions = {}): Promise<{ router: FakeRouterOS; port: number }> {
  const router = new FakeRouterOS({ password: PASSWORD, ...options });
  router.seedDefaults();
  fakes.push(router);
  const port = await router.start();
  return { router, port };
}

interface NetOpts {
  vlan: number;
  third: number;
  allowInput?: string[];
  from?: string[];
  ipv6?: boolean;
  internet?: boolean;
}

function network(name: string, o: NetOpts, router = 'core'): string {
  return [
    `  ${name}:`,
    `    router: ${router}`,
    `    host: nas`,
    `    vlan: ${o.vlan}`,
    `    subnet: 10.${o.third}.0.0/24`,
    `    gateway: 10.${o.third}.0.1`,
    `    container-range: 10.${o.third}.0.64/26`,
    ...(o.ipv6 ? [`    ipv6:`, `      subnet: fd00:${o.third}::/64`, `      gateway: fd00:${o.third}::1`, `      container-range: fd00:${o.third}::1000/116`] : []),
    `    firewall:`,
    `      internet: ${o.internet ?? true}`,
    `      from: [${(o.from ?? ['lan']).join(', ')}]`,
    `      allow-input: [${(o.allowInput ?? ['dns']).join(', ')}]`,
  ].join('\n');
}

function spec(routers: Array<{ name: string; port: number; extra?: string }>, networks: string[], hostParent = 'enp3s0'): string {
  const file = join(scratch, `spec-${Math.random().toString(36).slice(2)}.yaml`);
  const text = [
    'version: 1',
    'routers:',
    ...routers.map((r) => `  ${r.name}:\n    type: routeros\n    address: 127.0.0.1\n    port: ${r.port}\n    password-env: FLATNET_TEST_PASSWORD\n${r.extra ?? ''}`),
    'hosts:',
    `  nas:\n    parent: ${hostParent}`,
    'networks:',
    ...networks,
    '',
  ].join('\n');
  writeFileSync(file, text);
  return file;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { env: { PATH: process.env.PATH ?? '', FLATNET_TEST_PASSWORD: PASSWORD, NO_COLOR: '1', ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const MANAGED = ['/interface/vlan', '/ip/address', '/ipv6/address', '/interface/bridge/vlan', '/ip/firewall/filter', '/ipv6/firewall/filter'];
const owned = (r: Record<string, string>) => (r.comment ?? '').startsWith('flatnet:');
/** The router's state without ids, for comparing two routers that got there differently. */
function snapshot(router: FakeRouterOS) {
  return Object.fromEntries(
    MANAGED.map((m) => [
      m,
      router.rows(m).map((r) => {
        const { ['.id']: _id, bytes: _b, packets: _p, ...rest } = r;
        return rest;
      }),
    ]),
  );
}
// changes of the configuration: the rollback's script and scheduler entry (/system) are not among them
const changesIn = (router: FakeRouterOS, from = 0) => router.log.slice(from).filter((e) => !e.command.endsWith('/print') && !e.command.startsWith('/system/'));

describe('RouterOS apply through the CLI', () => {
  it('fresh apply creates the objects, rules before the router drops, VLAN enabled; second apply only reads', async () => {
    const { router, port } = await fake();
    const file = spec([{ name: 'core', port }], [network('cams', { vlan: 30, third: 30, ipv6: true })]);
    const plan = await cli(['plan', file, '--detailed-exitcode']);
    expect(plan.stderr).not.toContain(PASSWORD);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(/\+ \/interface\/vlan vlan30-cams/);
    expect(plan.stdout).toMatch(/Plan: \d+ to add, 0 to change, 0 to remove\./);
    expect(changesIn(router)).toEqual([]);

    const first = await cli(['apply', file, '--yes']);
    expect(first.code, first.stderr + first.stdout).toBe(0);
    expect(first.stdout).toMatch(/applied router core: \d+ changes/);
    const vlan = router.rows('/interface/vlan').find((r) => r.name === 'vlan30-cams')!;
    expect(vlan).toMatchObject({ 'vlan-id': '30', interface: 'bridge', comment: 'flatnet:cams', disabled: 'false' });
    expect(router.rows('/ip/address').find((r) => r.comment === 'flatnet:cams')).toMatchObject({ address: '10.30.0.1/24', interface: 'vlan30-cams' });
    expect(router.rows('/ipv6/address').find((r) => r.comment === 'flatnet:cams')).toMatchObject({ address: 'fd00:30::1/64', advertise: 'false' });
    for (const menu of ['/ip/firewall/filter', '/ipv6/firewall/filter']) {
      const rows = router.rows(menu);
      for (const chain of ['forward', 'input']) {
        // after the router's drop of invalid packets (it keeps applying to flatnet's traffic), before its other drops
        const invalidDrop = rows.findIndex((r) => r.chain === chain && r.action === 'drop' && !owned(r) && r['connection-state'] === 'invalid');
        const firstDrop = rows.findIndex((r) => r.chain === chain && r.action === 'drop' && !owned(r) && r['connection-state'] !== 'invalid');
        const ours = rows.map((r, i) => ({ r, i })).filter(({ r }) => r.chain === chain && owned(r));
        expect(ours.length).toBeGreaterThan(0);
        for (const { i } of ours) expect(i).toBeLessThan(firstDrop);
        for (const { i } of ours) expect(i).toBeGreaterThan(invalidDrop);
        // accepts before drops, within flatnet's rules
        const actions = ours.map(({ r }) => r.action);
        expect(actions.indexOf('drop')).toBeGreaterThan(actions.lastIndexOf('accept'));
      }
    }

    const before = router.log.length;
    const second = await cli(['apply', file, '--yes']);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('no changes');
    const entries = router.log.slice(before);
    expect(entries.every((e) => e.command.endsWith('/print'))).toBe(true);
    const menus = entries.map((e) => e.command);
    expect(new Set(menus).size).toBe(menus.length); // one print per menu
    expect(menus).toEqual(expect.arrayContaining(MANAGED.map((m) => `${m}/print`)));
    const again = await cli(['plan', file, '--detailed-exitcode']);
    expect(again.code).toBe(0);
  });

  it('one changed property is one set; an added service adds its rule in place; a removed network removes only its objects', async () => {
    const { router, port } = await fake();
    const v1 = spec([{ name: 'core', port }], [network('cams', { vlan: 30, third: 30, allowInput: ['dns', 'ssh'] }), network('iot', { vlan: 40, third: 40 })]);
    expect((await cli(['apply', v1, '--yes'])).code).toBe(0);
    const idsBefore = new Map(router.rows('/ip/firewall/filter').map((r) => [r['.id'], JSON.stringify(r)]));

    // ssh → http: the same rule with another port
    const v2 = spec([{ name: 'core', port }], [network('cams', { vlan: 30, third: 30, allowInput: ['dns', 'http'] }), network('iot', { vlan: 40, third: 40 })]);
    let mark = router.log.length;
    const r2 = await cli(['apply', v2, '--yes']);
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.stdout).toMatch(/~ \/ip\/firewall\/filter input accept .*dst-port=22/);
    const sets = changesIn(router, mark);
    expect(sets.map((e) => e.command)).toEqual(['/ip/firewall/filter/set']);
    expect(sets[0]!.words).toContain('=dst-port=80');

    // add icmp: exactly one add, placed among cams' rules, nothing else touched
    const v3 = spec([{ name: 'core', port }], [network('cams', { vlan: 30, third: 30, allowInput: ['dns', 'http', 'icmp'] }), network('iot', { vlan: 40, third: 40 })]);
    mark = router.log.length;
    expect((await cli(['apply', v3, '--yes'])).code).toBe(0);
    const adds = changesIn(router, mark);
    expect(adds.map((e) => e.command)).toEqual(['/ip/firewall/filter/add']);
    const rows = router.rows('/ip/firewall/filter');
    const icmp = rows.findIndex((r) => owned(r) && r.protocol === 'icmp');
    const camsInputDrop = rows.findIndex((r) => r.comment === 'flatnet:cams' && r.chain === 'input' && r.action === 'drop');
    expect(icmp).toBeGreaterThan(-1);
    expect(icmp).toBeLessThan(camsInputDrop);
    for (const [id, json] of idsBefore) {
      const now = rows.find((r) => r['.id'] === id);
      if (now && !JSON.parse(json)['dst-port']) expect(JSON.stringify(now)).toBe(json);
    }

    // drop iot: only iot's objects go
    const v4 = spec([{ name: 'core', port }], [network('cams', { vlan: 30, third: 30, allowInput: ['dns', 'http', 'icmp'] })]);
    const camsIds = MANAGED.flatMap((m) => router.rows(m).filter((r) => r.comment === 'flatnet:cams').map((r) => r['.id']));
    const foreignBefore = MANAGED.map((m) => router.rows(m).filter((r) => !owned(r)));
    mark = router.log.length;
    const r4 = await cli(['apply', v4, '--yes']);
    expect(r4.code, r4.stderr).toBe(0);
    const removed = changesIn(router, mark);
    expect(removed.every((e) => e.command.endsWith('/remove') || e.command.endsWith('/disable'))).toBe(true);
    expect(MANAGED.flatMap((m) => router.rows(m).filter((r) => r.comment === 'flatnet:iot'))).toEqual([]);
    expect(MANAGED.flatMap((m) => router.rows(m).filter((r) => r.comment === 'flatnet:cams').map((r) => r['.id']))).toEqual(camsIds);
    expect(MANAGED.map((m) => router.rows(m).filter((r) => !owned(r)))).toEqual(foreignBefore);
    // the iot interface was disabled before its rules were removed
    const iotLog = removed.map((e) => e.command);
    expect(iotLog[0]).toBe('/interface/vlan/disable');
    expect(iotLog[iotLog.length - 1]).toBe('/interface/vlan/remove');
  });

  it('a DHCP server the user put on a flatnet VLAN keeps its interface when the network changes (vlan id and subnet)', async () => {
    const { router, port } = await fake();
    const v1 = spec([{ name: 'core', port }], [network('cams', { vlan: 30, third: 30 })]);
    expect((await cli(['apply', v1, '--yes'])).code).toBe(0);
    router.addRow('/ip/dhcp-server', { name: 'cams-dhcp', interface: 'vlan30-cams', 'address-pool': 'static-only', disabled: 'false' });
    const v2 = spec([{ name: 'core', port }], [network('cams', { vlan: 31, third: 31 })]);
    const r = await cli(['apply', v2, '--yes']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const server = router.rows('/ip/dhcp-server').find((s) => s.name === 'cams-dhcp')!;
    expect(server.interface).toBe('vlan31-cams');
    expect(server.invalid ?? 'false').toBe('false');
    expect(router.rows('/interface/vlan').filter(owned)).toHaveLength(1);
    // the rules follow the rename: nothing to change on them, so no set on the filter menus
    const next = await cli(['plan', v2, '--detailed-exitcode']);
    expect(next.code).toBe(0);
  });

  it('moves a flatnet rule the user pushed below the router drops back before them', async () => {
    const { router, port } = await fake();
    const v1 = spec([{ name: 'core', port }], [network('cams', { vlan: 30, third: 30 })]);
    expect((await cli(['apply', v1, '--yes'])).code).toBe(0);
    const rows = router.rows('/ip/firewall/filter');
    const ourInput = rows.find((r) => owned(r) && r.chain === 'input' && r.action === 'accept')!;
    // the user (or another tool) moved it to the end, after the router's input drop
    await rawCommand(port, ['/ip/firewall/filter/move', `=numbers=${ourInput['.id']}`]);
    const plan = await cli(['plan', v1, '--detailed-exitcode']);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(/> \/ip\/firewall\/filter input accept/);
    expect((await cli(['apply', v1, '--yes'])).code).toBe(0);
    const after = router.rows('/ip/firewall/filter');
    const idx = after.findIndex((r) => r['.id'] === ourInput['.id']);
    const drop = after.findIndex((r) => r.chain === 'input' && r.action === 'drop' && !owned(r) && r['connection-state'] !== 'invalid');
    expect(idx).toBeLessThan(drop);
    expect((await cli(['plan', v1, '--detailed-exitcode'])).code).toBe(0);
  });

  it('a reset at every change of a fresh apply is reported, and a rerun converges to the same state', async () => {
    const reference = await fake();
    const text = (port: number) => spec([{ name: 'core', port }], [network('cams', { vlan: 30, third: 30, ipv6: true }), network('iot', { vlan: 40, third: 40, from: ['lan', 'cams'] })]);
    expect((await cli(['apply', text(reference.port), '--yes'])).code).toBe(0);
    const total = changesIn(reference.router).length;
    expect(total).toBeGreaterThan(10);
    const want = snapshot(reference.router);
    for (let k = 1; k <= total; k++) {
      const { router, port } = await fake({ dropAtChange: k });
      const file = text(port);
      const broken = await cli(['apply', file, '--yes', '--timeout', '5']);
      expect(broken.code).toBe(1);
      expect(broken.stdout).toMatch(/FAILED router core: .*(closed|reset)/);
      expect(broken.stdout).toMatch(/applied before the failure/);
      router.options.dropAtChange = undefined;
      const rerun = await cli(['apply', file, '--yes']);
      expect(rerun.code, `k=${k}: ${rerun.stdout}${rerun.stderr}`).toBe(0);
      expect(snapshot(router), `k=${k}`).toEqual(want);
      await router.stop();
    }
  }, 120_000);

  it('copes with !empty, replies split into single bytes and .tag anywhere', async () => {
    const { router, port } = await fake({ fragment: 1, tagPosition: 'random', emptyReplies: true });
    const file = spec([{ name: 'core', port }], [network('cams', { vlan: 30, third: 30 })]);
    const r = await cli(['apply', file, '--yes']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(router.rows('/interface/vlan').filter(owned)).toHaveLength(1);
    expect((await cli(['plan', file, '--detailed-exitcode'])).code).toBe(0);
  });

  it('a !trap stops the apply with the object and the router message, and says what was applied', async () => {
    const { router, port } = await fake({ trapAtChange: { k: 2, message: 'failure: out of ice cream' } });
    const file = spec([{ name: 'core', port }], [network('cams', { vlan: 30, third: 30 })]);
    const r = await cli(['apply', file, '--yes']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAILED router core: the router refused add \/ip\/address 10\.30\.0\.1\/24 on vlan30-cams: failure: out of ice cream/);
    expect(r.stdout).toMatch(/\d+ changes? (was|were) applied before the failure/);
    router.options.trapAtChange = undefined;
    expect((await cli(['apply', file, '--yes'])).code).toBe(0);
    expect((await cli(['plan', file, '--detailed-exitcode'])).code).toBe(0);
  });

  it('wrong password, closed port, missing WAN list and a DHCP overlap are one clear error each', async () => {
    const { router, port } = await fake();
    const file = spec([{ name: 'core', port }], [network('cams', { vlan: 30, third: 30 })]);
    const wrong = await cli(['plan', file], { FLATNET_TEST_PASSWORD: 'nope' });
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toMatch(/login to 127\.0\.0\.1:\d+ as "admin" refused: invalid user name or password/);
    expect(wrong.stdout + wrong.stderr).not.toContain('nope');

    await router.stop();
    const closed = await cli(['plan', file]);
    expect(closed.code).toBe(1);
    expect(closed.stdout).toMatch(/cannot connect to 127\.0\.0\.1:\d+: connection refused/);

    const second = await fake();
    const noWan = second.router.rows('/interface/list').find((r) => r.name === 'WAN')!;
    await rawCommand(second.port, ['/interface/list/remove', `=numbers=${noWan['.id']}`]);
    const missing = await cli(['plan', spec([{ name: 'core', port: second.port }], [network('cams', { vlan: 30, third: 30 })])]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/spec-\w+\.yaml:\d+:\d+ routers\.core\.wan: interface list "WAN" not found on the router/);

    const third = await fake();
    const lanSpec = spec([{ name: 'core', port: third.port }], [
      '  lan-apps:\n    router: core\n    host: nas\n    subnet: 192.168.88.0/24\n    gateway: 192.168.88.1\n    container-range: 192.168.88.192/27',
    ]);
    const overlap = await cli(['plan', lanSpec]);
    expect(overlap.code).toBe(1);
    expect(overlap.stdout).toMatch(/:\d+:\d+ networks\.lan-apps\.container-range: 192\.168\.88\.192\/27 overlaps DHCP pool "default-dhcp" \(192\.168\.88\.10-192\.168\.88\.254\)/);
    expect(changesIn(third.router)).toEqual([]);
  });

  it('several routers: planned and applied concurrently, one failure does not stop the other', async () => {
    const a = await fake();
    const b = await fake({ password: 'other' });
    const file = spec(
      [
        { name: 'core', port: a.port },
        { name: 'edge', port: b.port },
      ],
      [network('cams', { vlan: 30, third: 30 }), network('iot', { vlan: 40, third: 40 }, 'edge')],
    );
    const r = await cli(['apply', file, '--yes', '--json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { units: Array<{ name: string; status: string; error?: string }> };
    expect(out.units.map((u) => [u.name, u.status])).toEqual([
      ['core', 'applied'],
      ['edge', 'failed'],
      ['nas', 'not-planned'], // a host without ssh: listed with the command to run on it, not a failure
    ]);
    expect(a.router.rows('/interface/vlan').filter(owned)).toHaveLength(1);
    const only = await cli(['plan', file, '--router', 'core', '--detailed-exitcode']);
    expect(only.code).toBe(0);
  });

  it.skipIf(!hasOpenssl)('api-ssl: a self-signed certificate is refused unless tls-insecure, or trusted through ca-file', async () => {
    const dir = mkdtempSync(join(scratch, 'tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    const { router, port } = await fake({ tls: { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) } });
    const nets = [network('cams', { vlan: 30, third: 30 })];
    const verified = await cli(['plan', spec([{ name: 'core', port, extra: '    tls: true\n' }], nets)]);
    expect(verified.code).toBe(1);
    expect(verified.stdout).toMatch(/TLS to 127\.0\.0\.1:\d+ refused: .*self.signed/i);
    expect(router.log).toEqual([]);
    const insecure = await cli(['plan', spec([{ name: 'core', port, extra: '    tls: true\n    tls-insecure: true\n' }], nets), '--detailed-exitcode']);
    expect(insecure.code, insecure.stdout).toBe(2);
    const trusted = await cli(['plan', spec([{ name: 'core', port, extra: `    tls: true\n    ca-file: ${join(dir, 'cert.pem')}\n` }], nets), '--detailed-exitcode']);
    expect(trusted.code, trusted.stdout).toBe(2);
    const missing = await cli(['plan', spec([{ name: 'core', port, extra: '    tls: true\n    ca-file: /nonexistent/ca.pem\n' }], nets)]);
    expect(missing.stdout).toContain('routers.core.ca-file: cannot read /nonexistent/ca.pem (ENOENT)');
  });

  it('apply without a terminal and without --yes refuses and changes nothing', async () => {
    const { router, port } = await fake();
    const file = spec([{ name: 'core', port }], [network('cams', { vlan: 30, third: 30 })]);
    const r = await cli(['apply', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refusing to apply without confirmation/);
    expect(changesIn(router)).toEqual([]);
  });
});

/** A change made behind flatnet's back, on its own connection: the user at the console. */
async function rawCommand(port: number, words: string[]): Promise<void> {
  const { RosClient } = await import('../targets/routeros/api.js');
  const c = await RosClient.connect({ host: '127.0.0.1', port, user: 'admin', password: PASSWORD });
  try {
    await c.command(words);
  } finally {
    c.close();
  }
}
