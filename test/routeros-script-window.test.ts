// "No open window" for the /import script (issue 11): the rendered script is replayed command by command
// against the fake RouterOS (test/fakes/routeros-script.ts interprets it), and after every change the forward
// chain is evaluated for a new connection from each enabled flatnet VLAN to the LAN and to the other flatnet
// VLANs that no spec allows. None may be accepted at any moment of an import over an earlier one.
import { afterEach, describe, expect, it } from 'vitest';
import { modelFromText, type Model } from '../src/index.js';
import { RosClient, RosError } from '../targets/routeros/api.js';
import { renderScript } from '../targets/routeros/index.js';
import { RouterOSUnit } from '../targets/routeros/push.js';
import { FakeRouterOS } from './fakes/routeros-fake.js';
import { deniedByAll, leaks } from './fakes/firewall-check.js';
import { parseScript, parseStringLiteral, runScript, ScriptError, UnsupportedScript } from './fakes/routeros-script.js';

type RouterOS = Extract<Model['routers'][number], { type: 'routeros' }>;
const PASSWORD = 'script-window';
const fakes: FakeRouterOS[] = [];
const clients: RosClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

interface Net {
  name: string;
  vlan: number;
  third: number;
  from?: string[];
  to?: string[];
  internet?: boolean;
  allowInput?: string[];
  ipv6?: boolean;
}

function specText(port: number, nets: Net[]): string {
  const lines = ['version: 1', 'routers:', '  core:', '    type: routeros', '    address: 127.0.0.1', `    port: ${port}`, '    password-env: P', '    trunk-ports: [ether2]', 'hosts:', '  nas:', '    parent: eth0', 'networks:'];
  for (const n of nets) {
    lines.push(
      `  ${n.name}:`,
      '    router: core',
      '    host: nas',
      `    vlan: ${n.vlan}`,
      `    subnet: 10.${n.third}.0.0/24`,
      `    gateway: 10.${n.third}.0.1`,
      `    container-range: 10.${n.third}.0.64/26`,
      ...(n.ipv6 ? ['    ipv6:', `      subnet: 2001:db8:${n.third}::/64`, `      gateway: 2001:db8:${n.third}::1`] : []),
      '    firewall:',
      `      internet: ${n.internet ?? true}`,
      `      from: [${(n.from ?? ['lan']).join(', ')}]`,
      `      to: [${(n.to ?? []).join(', ')}]`,
      `      allow-input: [${(n.allowInput ?? ['dns']).join(', ')}]`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function scriptOf(port: number, nets: Net[]): string {
  const model = modelFromText(specText(port, nets));
  return renderScript(model, model.routers[0] as RouterOS);
}

async function start(seed = true): Promise<{ fake: FakeRouterOS; port: number; client: RosClient }> {
  const fake = new FakeRouterOS({ password: PASSWORD });
  if (seed) fake.seedDefaults();
  fakes.push(fake);
  const port = await fake.start();
  const client = await RosClient.connect({ host: '127.0.0.1', port, user: 'admin', password: PASSWORD });
  clients.push(client);
  return { fake, port, client };
}

/** What `flatnet-router plan` would change now: 0 means the script left exactly the desired state. */
async function planned(port: number, nets: Net[]): Promise<number> {
  const model = modelFromText(specText(port, nets));
  const unit = new RouterOSUnit(model, model.routers[0] as RouterOS, { env: { P: PASSWORD } });
  try {
    return (await unit.plan(() => {})).changes.length;
  } finally {
    unit.close();
  }
}

interface Replay {
  /** change commands the fake carried out */
  changes: number;
  /** one entry per leaking flow per moment */
  seen: string[];
  /** moments (after a change) with at least one leak */
  leakingMoments: number;
}

/** Runs `script` and checks `flows` after every change the fake carries out. */
async function replay(fake: FakeRouterOS, client: RosClient, script: string, flows: Set<string>): Promise<Replay> {
  const r: Replay = { changes: 0, seen: [], leakingMoments: 0 };
  fake.options.afterChange = (entry) => {
    r.changes++;
    const now = leaks(fake, flows);
    if (now.length > 0) r.leakingMoments++;
    for (const l of now) r.seen.push(`after ${entry.command} ${entry.words.join(' ')}: ${l}`);
  };
  try {
    const run = await runScript(client, script);
    expect(run.changes.length).toBe(r.changes);
  } finally {
    fake.options.afterChange = undefined;
  }
  return r;
}

const DISABLE_FIRST = '/interface/vlan/disable [/interface/vlan/find where comment~"^flatnet:[a-z0-9-]+(\\$|;)"]';

/** The script as it was before issue 11: the same commands without the initial disable. */
function oldOrdering(script: string): string {
  const lines = script.split('\n');
  expect(lines.filter((l) => l === DISABLE_FIRST)).toHaveLength(1);
  return lines.filter((l) => l !== DISABLE_FIRST).join('\n');
}

const A: Net[] = [
  { name: 'cams', vlan: 30, third: 30 },
  { name: 'iot', vlan: 40, third: 40, internet: false, ipv6: true },
  { name: 'media', vlan: 50, third: 50, to: ['cams'], ipv6: true },
];
const CASES: Array<{ name: string; b: Net[] }> = [
  {
    name: 'same networks, firewall changed (internet, from, to, a service)',
    b: [
      { name: 'cams', vlan: 30, third: 30, internet: false, from: ['lan', 'iot'], allowInput: ['dns', 'ntp'] },
      { name: 'iot', vlan: 40, third: 40, internet: true, to: ['media'], ipv6: true },
      { name: 'media', vlan: 50, third: 50, to: [], allowInput: ['dns', 'ssh'], ipv6: true },
    ],
  },
  {
    name: 'a network removed and one added',
    b: [
      { name: 'cams', vlan: 30, third: 30 },
      { name: 'media', vlan: 50, third: 50, to: ['cams'], ipv6: true },
      { name: 'lab', vlan: 60, third: 60, from: ['lan', 'media'], ipv6: true },
    ],
  },
  {
    name: 'a VLAN renumbered (its interface renamed)',
    b: [
      { name: 'cams', vlan: 30, third: 30 },
      { name: 'iot', vlan: 41, third: 41, internet: false, ipv6: true },
      { name: 'media', vlan: 50, third: 50, to: ['cams'], ipv6: true },
    ],
  },
];

describe('the /import script never opens a window (issue 11)', () => {
  it('a fresh import over the default config: no leak, and exactly the desired state', async () => {
    const { fake, port, client } = await start();
    const r = await replay(fake, client, scriptOf(port, A), deniedByAll(A));
    expect(r.changes).toBeGreaterThan(0);
    expect(r.seen).toEqual([]);
    expect(await planned(port, A)).toBe(0);
  });

  for (const c of CASES) {
    it(`re-import, ${c.name}: no leak after any change; the old ordering leaks`, async () => {
      const flows = deniedByAll(A, c.b);
      const { fake, port, client } = await start();
      await runScript(client, scriptOf(port, A));
      const r = await replay(fake, client, scriptOf(port, c.b), flows);
      expect(r.changes).toBeGreaterThan(0);
      expect(r.seen).toEqual([]);
      expect(await planned(port, c.b)).toBe(0);
      expect(leaks(fake, deniedByAll(c.b))).toEqual([]);

      // The same import without the initial disable (the script before issue 11), on a second router in
      // the same starting state: the checker must see the window the issue describes.
      const old = await start();
      await runScript(old.client, scriptOf(old.port, A));
      const o = await replay(old.fake, old.client, oldOrdering(scriptOf(old.port, c.b)), flows);
      expect(o.leakingMoments).toBeGreaterThan(0);
      expect(o.seen.some((l) => l.includes('cams>lan v4'))).toBe(true);
      // it ends in the same state: only the moments in between differ
      expect(await planned(old.port, c.b)).toBe(0);
    });
  }

  it('an import that stops at any change leaves no window open (fail closed)', async () => {
    const b = CASES[0]!.b;
    const flows = deniedByAll(A, b);
    let stops = 0;
    for (let k = 1; ; k++) {
      const { fake, port, client } = await start();
      await runScript(client, scriptOf(port, A));
      // the k-th change of the second import is refused, as a router refuses a command it cannot carry out
      fake.options.trapAtChange = { k: fake.stats.changes + k, message: 'failure: refused by the test' };
      const run = runScript(client, scriptOf(port, b));
      const finished = await run.then(
        () => true,
        (e: unknown) => {
          expect(e).toBeInstanceOf(RosError);
          return false;
        },
      );
      if (finished) break;
      stops++;
      expect(leaks(fake, flows), `import stopped at its change ${k}`).toEqual([]);
      if (k > 1) expect(fake.rows('/interface/vlan').filter((r) => r.disabled !== 'true')).toEqual([]);
    }
    expect(stops).toBeGreaterThan(50);
  });

  it('importing the same script again changes nothing lasting and leaks nothing', async () => {
    const { fake, port, client } = await start();
    await runScript(client, scriptOf(port, A));
    const r = await replay(fake, client, scriptOf(port, A), deniedByAll(A));
    expect(r.seen).toEqual([]);
    expect(await planned(port, A)).toBe(0);
  });

  it('the checker sees a missing flatnet drop (it can fail)', async () => {
    const { fake, port, client } = await start();
    const nets: Net[] = [{ name: 'cams', vlan: 30, third: 30 }];
    await runScript(client, scriptOf(port, nets));
    expect(leaks(fake, deniedByAll(nets))).toEqual([]);
    const drops = fake.rows('/ip/firewall/filter').filter((r) => r.comment === 'flatnet:cams' && r.chain === 'forward' && r.action === 'drop');
    await client.command(['/ip/firewall/filter/remove', `=numbers=${drops.map((d) => d['.id']).join(',')}`]);
    expect(leaks(fake, deniedByAll(nets))).toEqual(['cams>lan v4 (vlan30-cams -> bridge)']);
  });
});

describe('the script interpreter', () => {
  it('stops at a failed check before changing anything', async () => {
    const { fake, port, client } = await start(false);
    await expect(runScript(client, scriptOf(port, A))).rejects.toThrow(new ScriptError('flatnet: interface bridge not found'));
    expect(fake.stats.changes).toBe(0);
  });

  it('decodes the escapes routerosString writes', async () => {
    expect(parseStringLiteral(String.raw`"a \"b\" \$c \?d \\e f:g"`)).toBe('a "b" $c ?d \\e f:g');
    const { fake, client } = await start();
    await runScript(client, String.raw`/ip/firewall/filter/add chain=forward action=accept comment="x \"y\" \$z \?w \\v"`);
    expect(fake.rows('/ip/firewall/filter').at(-1)?.comment).toBe('x "y" $z ?w \\v');
  });

  it('places rules with place-before=$before and takes the else branch when the chain has no drop', async () => {
    const { fake, client } = await start(false);
    const script = [
      '{',
      '  :local drops [/ip/firewall/filter/find where chain="forward" and (action=drop or action=reject) and dynamic=no and !(comment~"^flatnet:")]',
      '  :if ([:len $drops] > 0) do={',
      '    :local before [:pick $drops 0]',
      '    /ip/firewall/filter/add chain=forward action=accept comment=flatnet:x place-before=$before',
      '  } else={',
      '    /ip/firewall/filter/add chain=forward action=accept comment=flatnet:else',
      '  }',
      '}',
    ].join('\n');
    fake.addRow('/ip/firewall/filter', { chain: 'forward', action: 'accept', comment: 'first' });
    fake.addRow('/ip/firewall/filter', { chain: 'forward', action: 'drop', comment: 'flatnet:old drop' });
    await runScript(client, script);
    expect(fake.rows('/ip/firewall/filter').map((r) => r.comment)).toEqual(['first', 'flatnet:old drop', 'flatnet:else']);
    fake.addRow('/ip/firewall/filter', { chain: 'forward', action: 'reject', comment: 'router reject' });
    await runScript(client, script);
    expect(fake.rows('/ip/firewall/filter').map((r) => r.comment)).toEqual(['first', 'flatnet:old drop', 'flatnet:else', 'flatnet:x', 'router reject']);
  });

  it('sends nothing for an empty find and one command for many items', async () => {
    const { fake, client } = await start();
    const none = await runScript(client, '/interface/vlan/disable [find where comment~"^flatnet:"]');
    expect(none.changes).toEqual([]);
    fake.addRow('/interface/vlan', { name: 'v1', 'vlan-id': '1', interface: 'bridge', comment: 'flatnet:a' });
    fake.addRow('/interface/vlan', { name: 'v2', 'vlan-id': '2', interface: 'bridge', comment: 'flatnet:b' });
    fake.addRow('/interface/vlan', { name: 'v3', 'vlan-id': '3', interface: 'bridge', comment: 'mine' });
    const some = await runScript(client, '/interface/vlan/disable [/interface/vlan/find where comment~"^flatnet:"]');
    expect(some.changes).toHaveLength(1);
    expect(fake.rows('/interface/vlan').map((r) => `${r.name}:${r.disabled}`)).toEqual(['v1:true', 'v2:true', 'v3:false']);
  });

  it('refuses what it does not handle, before sending anything', async () => {
    const unsupported = [
      '/ip/firewall/filter/set numbers=0 disabled=yes',
      '/ip/address/print',
      ':foreach i in=[/ip/address/find] do={ :put $i }',
      ':put "x"',
      '/interface/vlan/remove [/interface/vlan/find where comment~"^flatnet:"]; /ip/address/add address=1.2.3.4/24 interface=bridge',
      '/ip/address/add comment="a $b" address=1.2.3.4/24',
      '/ip/address/add comment="a\\nb"',
      '/ip/address/add comment = x',
      '/ip/address/remove [/ip/address/find where a=1 and b=2 or c=3]',
      '/ip/address/remove [/ip/address/find where a!=1]',
      ':if ([:len [/interface/find where name="x"]] < 1) do={ :error "x" }',
      '/ip/address/remove [/ip/address/find where comment~"^flatnet:"] # trailing comment',
    ];
    for (const text of unsupported) expect(() => parseScript(`/ip/address/add address=10.9.9.1/24 interface=bridge\n${text}`), text).toThrow(UnsupportedScript);
    const { fake, client } = await start();
    await expect(runScript(client, '/ip/address/add address=10.9.9.1/24 interface=bridge\n:foreach i in=[] do={}')).rejects.toThrow(UnsupportedScript);
    expect(fake.stats.changes).toBe(0);
  });

  it('parses every rendered example script', async () => {
    const { port } = await start();
    for (const c of [A, ...CASES.map((x) => x.b)]) expect(parseScript(scriptOf(port, c)).length).toBeGreaterThan(0);
  });
});
