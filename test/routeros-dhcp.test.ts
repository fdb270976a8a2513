// A VLAN network with dhcp-pool: the router serves DHCP on the VLAN (pool, server, DHCP network), applied
// in place against the fake RouterOS, idempotent, edited with one `set`, and removed with the pool.
import { afterEach, describe, expect, it } from 'vitest';
import { LiveCheckError, type Change } from '../src/plan/types.js';
import { durationSeconds, normalizeValue } from '../targets/routeros/diff.js';
import { FakeRouterOS } from './fakes/routeros-fake.js';
import { planRouterOS } from './fakes/routeros-harness.js';

const PASSWORD = 'dhcp';
const fakes: FakeRouterOS[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

interface Opts {
  pool?: string;
  leaseTime?: string;
  allowInput?: string[];
  containerRange?: string;
}

function specText(port: number, o: Opts): string {
  return [
    'version: 1',
    'routers:',
    '  core:',
    '    type: routeros',
    '    address: 127.0.0.1',
    `    port: ${port}`,
    '    password-env: P',
    'hosts:',
    '  nas:',
    '    parent: eth0',
    'networks:',
    '  cams:',
    '    router: core',
    '    host: nas',
    '    vlan: 30',
    '    subnet: 10.30.0.0/24',
    '    gateway: 10.30.0.1',
    `    container-range: ${o.containerRange ?? '10.30.0.64/26'}`,
    ...(o.pool ? [`    dhcp-pool: ${o.pool}`] : []),
    ...(o.leaseTime ? [`    dhcp-lease-time: ${o.leaseTime}`] : []),
    '    firewall:',
    '      internet: true',
    '      from: [lan]',
    '      to: []',
    `      allow-input: [${(o.allowInput ?? ['dns', 'dhcp']).join(', ')}]`,
    '',
  ].join('\n');
}

async function start(): Promise<{ fake: FakeRouterOS; port: number }> {
  const fake = new FakeRouterOS({ password: PASSWORD });
  fake.seedDefaults();
  fakes.push(fake);
  return { fake, port: await fake.start() };
}

const run = async (port: number, o: Opts, apply = true): Promise<Change[]> => (await planRouterOS(specText(port, o), PASSWORD, apply)).changes;

const owned = (fake: FakeRouterOS, menu: string) => fake.rows(menu).filter((r) => r.comment === 'flatnet:cams');
const udp67 = (fake: FakeRouterOS) => owned(fake, '/ip/firewall/filter').filter((r) => r.chain === 'input' && r.protocol === 'udp' && r['dst-port'] === '67');

describe('RouterOS DHCP server on a VLAN network', () => {
  it('applies pool, server and network; a second plan is empty', async () => {
    const { fake, port } = await start();
    await run(port, { pool: '10.30.0.200-10.30.0.250' });
    const pools = owned(fake, '/ip/pool');
    expect(pools).toHaveLength(1);
    expect(pools[0]).toMatchObject({ name: 'flatnet-cams', ranges: '10.30.0.200-10.30.0.250' });
    const servers = owned(fake, '/ip/dhcp-server');
    expect(servers).toHaveLength(1);
    expect(servers[0]).toMatchObject({ name: 'flatnet-cams', interface: 'vlan30-cams', 'address-pool': 'flatnet-cams', 'lease-time': '1h', disabled: 'false' });
    const networks = owned(fake, '/ip/dhcp-server/network');
    expect(networks).toHaveLength(1);
    expect(networks[0]).toMatchObject({ address: '10.30.0.0/24', gateway: '10.30.0.1', 'dns-server': '10.30.0.1' });
    expect(udp67(fake)).toHaveLength(1);
    // the router's own DHCP server is untouched
    expect(fake.rows('/ip/dhcp-server').find((r) => r.name === 'defconf')).toMatchObject({ interface: 'bridge', 'address-pool': 'default-dhcp' });
    expect(await run(port, { pool: '10.30.0.200-10.30.0.250' }, false)).toEqual([]);
  });

  it('no dns in allow-input: the DHCP network hands out no DNS server', async () => {
    const { fake, port } = await start();
    await run(port, { pool: '10.30.0.200-10.30.0.250', allowInput: ['dhcp'] });
    expect(owned(fake, '/ip/dhcp-server/network')[0]?.['dns-server'] ?? '').toBe('');
    expect(await run(port, { pool: '10.30.0.200-10.30.0.250', allowInput: ['dhcp'] }, false)).toEqual([]);
    // adding dns sets it in place
    const changes = await run(port, { pool: '10.30.0.200-10.30.0.250', allowInput: ['dns', 'dhcp'] }, false);
    expect(changes.filter((c) => c.kind === '/ip/dhcp-server/network').map((c) => c.action)).toEqual(['change']);
  });

  it('a new lease time is exactly one set; the printed form (1d) compares equal', async () => {
    const { fake, port } = await start();
    await run(port, { pool: '10.30.0.200-10.30.0.250' });
    const id = owned(fake, '/ip/dhcp-server')[0]!['.id'];
    const changes = await run(port, { pool: '10.30.0.200-10.30.0.250', leaseTime: '24h' });
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ action: 'change', kind: '/ip/dhcp-server', props: [{ key: 'lease-time', from: '1h', to: '24h' }] });
    const server = owned(fake, '/ip/dhcp-server');
    expect(server).toHaveLength(1);
    expect(server[0]).toMatchObject({ '.id': id, 'lease-time': '1d' });
    expect(await run(port, { pool: '10.30.0.200-10.30.0.250', leaseTime: '24h' }, false)).toEqual([]);
    expect(await run(port, { pool: '10.30.0.200-10.30.0.250', leaseTime: '1d' }, false)).toEqual([]);
  });

  it('a new pool range is one set on the pool', async () => {
    const { fake, port } = await start();
    await run(port, { pool: '10.30.0.200-10.30.0.250' });
    const changes = await run(port, { pool: '10.30.0.150-10.30.0.199' });
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ action: 'change', kind: '/ip/pool' });
    expect(owned(fake, '/ip/pool')[0]).toMatchObject({ ranges: '10.30.0.150-10.30.0.199' });
  });

  it('dropping dhcp-pool removes exactly the three objects (and the UDP 67 rule only with dhcp)', async () => {
    const { fake, port } = await start();
    await run(port, { pool: '10.30.0.200-10.30.0.250' });
    const kept = await run(port, {});
    expect(kept.map((c) => `${c.action} ${c.kind}`).sort()).toEqual(['remove /ip/dhcp-server', 'remove /ip/dhcp-server/network', 'remove /ip/pool']);
    expect(owned(fake, '/ip/pool')).toEqual([]);
    expect(owned(fake, '/ip/dhcp-server')).toEqual([]);
    expect(owned(fake, '/ip/dhcp-server/network')).toEqual([]);
    expect(udp67(fake)).toHaveLength(1);
    expect(fake.rows('/ip/pool').map((r) => r.name)).toEqual(['default-dhcp']);

    await run(port, { pool: '10.30.0.200-10.30.0.250' });
    const gone = await run(port, { allowInput: ['dns'] });
    expect(gone.map((c) => `${c.action} ${c.kind}`).sort()).toEqual(['remove /ip/dhcp-server', 'remove /ip/dhcp-server/network', 'remove /ip/firewall/filter', 'remove /ip/pool']);
    expect(udp67(fake)).toEqual([]);
  });

  it('server goes before its pool on removal, and is added after it', async () => {
    const { fake, port } = await start();
    await run(port, { pool: '10.30.0.200-10.30.0.250' });
    const adds = fake.log.filter((l) => /\/ip\/(pool|dhcp-server)/.test(l.command) && l.command.endsWith('/add')).map((l) => l.command);
    expect(adds).toEqual(['/ip/pool/add', '/ip/dhcp-server/add', '/ip/dhcp-server/network/add']);
    fake.log.length = 0;
    await run(port, {});
    // (the rollback's script and scheduler entry, under /system, are removed too: not configuration)
    const removes = fake.log.filter((l) => l.command.endsWith('/remove') && !l.command.startsWith('/system/')).map((l) => l.command);
    expect(removes).toEqual(['/ip/dhcp-server/network/remove', '/ip/dhcp-server/remove', '/ip/pool/remove']);
  });

  it('a foreign DHCP server on the VLAN whose pool covers the container range is refused', async () => {
    const { fake, port } = await start();
    await run(port, { pool: '10.30.0.200-10.30.0.250' });
    fake.addRow('/ip/pool', { name: 'cams-all', ranges: '10.30.0.2-10.30.0.254' });
    fake.addRow('/ip/dhcp-server', { name: 'cams-foreign', interface: 'vlan30-cams', 'address-pool': 'cams-all', disabled: 'false' });
    const error = await run(port, { pool: '10.30.0.200-10.30.0.250' }, false).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(LiveCheckError);
    const problems = (error as LiveCheckError).problems;
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ path: ['networks', 'cams', 'container-range'] });
    expect(problems[0]!.message).toMatch(/DHCP pool "cams-all".*DHCP server "cams-foreign"/);
  });
});

describe('RouterOS durations', () => {
  it('compare by seconds', () => {
    expect(durationSeconds('01:00:00')).toBe(3600);
    expect(durationSeconds('1d00:00:00')).toBe(86400);
    expect(durationSeconds('1d')).toBe(86400);
    expect(durationSeconds('1d2h3m4s')).toBe(93784);
    expect(durationSeconds('30m')).toBe(1800);
    expect(durationSeconds('1w')).toBe(604800);
    expect(durationSeconds('bogus')).toBeUndefined();
    expect(normalizeValue('lease-time', '12h')).toBe(normalizeValue('lease-time', '12:00:00'));
    expect(normalizeValue('dns-server', '10.0.0.2,10.0.0.1')).toBe('10.0.0.1,10.0.0.2');
  });
});
