// Access ports in the generated /import script, run against the fake RouterOS (test/fakes/routeros-script.ts
// replays it command by command): the bridge port gets the network's VLAN as pvid after the rules are in, the
// flatnet bridge VLAN entry lists it untagged and records its PVID before flatnet, a second import keeps that
// record, a port the spec drops gets it back (unless someone changed the pvid since), a port that moves to
// another network keeps its first record and never goes back to its old PVID on the way, and a port that is
// not in the bridge stops the script before anything changes.
import { afterEach, describe, expect, it } from 'vitest';
import { modelFromText, type Model } from '../src/index.js';
import { RosClient } from '../targets/routeros/api.js';
import { renderScript } from '../targets/routeros/index.js';
import { FakeRouterOS } from './fakes/routeros-fake.js';
import { planRouterOS, vlanSpecText, type VlanNet } from './fakes/routeros-harness.js';
import { runScript, ScriptError } from './fakes/routeros-script.js';

type RouterOS = Extract<Model['routers'][number], { type: 'routeros' }>;
const PASSWORD = 'access-script';
const fakes: FakeRouterOS[] = [];
const clients: RosClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

type Net = VlanNet;
const specText = vlanSpecText;

interface Router {
  fake: FakeRouterOS;
  port: number;
  client: RosClient;
}

async function start(): Promise<Router> {
  const fake = new FakeRouterOS({ password: PASSWORD });
  fake.seedDefaults();
  fakes.push(fake);
  const port = await fake.start();
  const client = await RosClient.connect({ host: '127.0.0.1', port, user: 'admin', password: PASSWORD });
  clients.push(client);
  return { fake, port, client };
}

function scriptOf(r: Router, nets: Record<string, Net>, trunk: string[] = []): string {
  const model = modelFromText(specText(r.port, nets, trunk));
  return renderScript(model, model.routers[0] as RouterOS);
}

/** Imports the script of this spec; `watch` is called after every change the fake carries out. */
async function importSpec(r: Router, nets: Record<string, Net>, trunk: string[] = [], watch?: () => void): Promise<string[][]> {
  r.fake.options.afterChange = watch;
  try {
    return (await runScript(r.client, scriptOf(r, nets, trunk))).changes;
  } finally {
    r.fake.options.afterChange = undefined;
  }
}

/** What `flatnet-router plan` would change now: 0 means the script left what apply would have. */
async function planned(r: Router, nets: Record<string, Net>, trunk: string[] = []): Promise<number> {
  return (await planRouterOS(specText(r.port, nets, trunk), PASSWORD, false)).changes.length;
}

const bridgePort = (r: Router, name: string) => r.fake.rows('/interface/bridge/port').find((p) => p.interface === name)!;
const pvids = (r: Router) => Object.fromEntries(r.fake.rows('/interface/bridge/port').map((p) => [p.interface, p.pvid]));
const entries = (r: Router) => r.fake.rows('/interface/bridge/vlan').filter((e) => (e.comment ?? '').startsWith('flatnet:'));
const entryOf = (r: Router, network: string) => entries(r).find((e) => e.comment === `flatnet:${network}` || e.comment!.startsWith(`flatnet:${network};`));

async function setPvid(r: Router, name: string, pvid: string): Promise<void> {
  await r.client.command(['/interface/bridge/port/set', `=.id=${bridgePort(r, name)['.id']}`, `=pvid=${pvid}`]);
}

/** Everything the fake holds, for "nothing changed". */
function snapshot(r: Router): string {
  const menus = ['/interface/vlan', '/ip/address', '/interface/bridge/vlan', '/interface/bridge/port', '/ip/firewall/filter', '/ipv6/firewall/filter'];
  return JSON.stringify(menus.map((m) => r.fake.rows(m)));
}

const IOT: Net = { vlan: 20, third: 20, access: ['ether4'] };

describe('access ports in the /import script', () => {
  it('sets the pvid after the rules, lists the port untagged and records its PVID before; plan agrees', async () => {
    const r = await start();
    const changes = await importSpec(r, { iot: IOT });
    expect(pvids(r)).toEqual({ ether2: '1', ether3: '1', ether4: '20', ether5: '1' });
    expect(entries(r)).toHaveLength(1);
    expect(entryOf(r, 'iot')).toMatchObject({ bridge: 'bridge', 'vlan-ids': '20', tagged: 'bridge', untagged: 'ether4', comment: 'flatnet:iot; was-pvid ether4=1' });
    // the bridge port is left as it was but for its pvid
    expect(bridgePort(r, 'ether4')).toMatchObject({ bridge: 'bridge', comment: 'defconf' });

    // the pvid is set once every rule is in, before the VLAN interface is enabled
    const at = (test: (words: string[]) => boolean) => changes.findIndex(test);
    const setPort = at((w) => w[0] === '/interface/bridge/port/set');
    const lastRule = changes.length - 1 - [...changes].reverse().findIndex((w) => w[0]!.includes('/firewall/filter/add'));
    expect(setPort).toBeGreaterThan(lastRule);
    expect(setPort).toBeLessThan(at((w) => w[0] === '/interface/vlan/enable'));
    expect(changes[setPort]).toEqual(['/interface/bridge/port/set', `=numbers=${bridgePort(r, 'ether4')['.id']}`, '=pvid=20']);

    // plan/apply reads the same record and sees nothing to do
    expect(await planned(r, { iot: IOT })).toBe(0);
  });

  it('a second import leaves the same state: the record stays 1 (not 20), the port never leaves VLAN 20', async () => {
    const r = await start();
    await importSpec(r, { iot: IOT });
    const seen = new Set<string>();
    await importSpec(r, { iot: IOT }, [], () => seen.add(bridgePort(r, 'ether4').pvid!));
    expect([...seen]).toEqual(['20']);
    expect(pvids(r)).toEqual({ ether2: '1', ether3: '1', ether4: '20', ether5: '1' });
    expect(entries(r)).toHaveLength(1);
    expect(entryOf(r, 'iot')).toMatchObject({ untagged: 'ether4', comment: 'flatnet:iot; was-pvid ether4=1' });
    expect(await planned(r, { iot: IOT })).toBe(0);
  });

  it('a port whose pvid was 5 records 5, and gets 5 back when dropped', async () => {
    const r = await start();
    await setPvid(r, 'ether4', '5');
    await importSpec(r, { iot: IOT });
    expect(bridgePort(r, 'ether4').pvid).toBe('20');
    expect(entryOf(r, 'iot')!.comment).toBe('flatnet:iot; was-pvid ether4=5');
    await importSpec(r, { iot: IOT });
    expect(entryOf(r, 'iot')!.comment).toBe('flatnet:iot; was-pvid ether4=5');
    await importSpec(r, { iot: { ...IOT, access: [] } }, ['ether2']);
    expect(bridgePort(r, 'ether4').pvid).toBe('5');
  });

  it('a spec without the access port puts its PVID back and drops the record', async () => {
    const r = await start();
    await importSpec(r, { iot: IOT }, ['ether2']);
    expect(entryOf(r, 'iot')).toMatchObject({ tagged: 'ether2,bridge', untagged: 'ether4', comment: 'flatnet:iot; was-pvid ether4=1' });
    await importSpec(r, { iot: { ...IOT, access: [] } }, ['ether2']);
    expect(pvids(r)).toEqual({ ether2: '1', ether3: '1', ether4: '1', ether5: '1' });
    // the entry stays for the trunk port, without the port and its record
    expect(entries(r)).toHaveLength(1);
    const entry = entryOf(r, 'iot')!;
    expect(entry.comment).toBe('flatnet:iot');
    expect(entry.untagged ?? '').toBe('');
    expect(await planned(r, { iot: { ...IOT, access: [] } }, ['ether2'])).toBe(0);
  });

  it('a network that leaves the spec, or a spec with no network at all, puts its access ports back', async () => {
    const r = await start();
    await importSpec(r, { iot: { ...IOT, access: ['ether4', 'ether5'] }, cams: { vlan: 30, third: 30, access: ['ether3'] } });
    expect(pvids(r)).toEqual({ ether2: '1', ether3: '30', ether4: '20', ether5: '20' });
    expect(entryOf(r, 'iot')!.comment).toBe('flatnet:iot; was-pvid ether4=1,ether5=1');
    // iot goes; cams stays with its port
    await importSpec(r, { cams: { vlan: 30, third: 30, access: ['ether3'] } });
    expect(pvids(r)).toEqual({ ether2: '1', ether3: '30', ether4: '1', ether5: '1' });
    expect(entries(r).map((e) => e.comment)).toEqual(['flatnet:cams; was-pvid ether3=1']);
    // no network at all: no checks, but the restore still runs
    await importSpec(r, {});
    expect(pvids(r)).toEqual({ ether2: '1', ether3: '1', ether4: '1', ether5: '1' });
    expect(entries(r)).toEqual([]);
  });

  it('of two access ports, the one dropped goes back; the one kept keeps its VLAN and record', async () => {
    const r = await start();
    await importSpec(r, { iot: { ...IOT, access: ['ether4', 'ether5'] } });
    const seen = new Set<string>();
    await importSpec(r, { iot: IOT }, [], () => seen.add(bridgePort(r, 'ether4').pvid!));
    expect([...seen]).toEqual(['20']);
    expect(pvids(r)).toEqual({ ether2: '1', ether3: '1', ether4: '20', ether5: '1' });
    expect(entryOf(r, 'iot')).toMatchObject({ untagged: 'ether4', comment: 'flatnet:iot; was-pvid ether4=1' });
  });

  it('a pvid changed by hand after the import is left as it is when the port is dropped', async () => {
    const r = await start();
    await importSpec(r, { iot: IOT }, ['ether2']);
    await setPvid(r, 'ether4', '7');
    await importSpec(r, { iot: { ...IOT, access: [] } }, ['ether2']);
    expect(bridgePort(r, 'ether4').pvid).toBe('7');
    expect(entryOf(r, 'iot')!.comment).toBe('flatnet:iot');
  });

  it('a port moved from network A to network B keeps its first record and never goes back to its old PVID', async () => {
    const r = await start();
    const a = (access?: string[]): Net => ({ vlan: 10, third: 10, ...(access ? { access } : {}) });
    const b = (access?: string[]): Net => ({ vlan: 20, third: 20, ...(access ? { access } : {}) });
    await setPvid(r, 'ether4', '5');
    await importSpec(r, { a: a(['ether4']), b: b() }, ['ether2']);
    expect(bridgePort(r, 'ether4').pvid).toBe('10');
    expect(entryOf(r, 'a')!.comment).toBe('flatnet:a; was-pvid ether4=5');

    const seen: string[] = [];
    await importSpec(r, { a: a(), b: b(['ether4']) }, ['ether2'], () => seen.push(bridgePort(r, 'ether4').pvid!));
    expect([...new Set(seen)]).toEqual(['10', '20']);
    expect(bridgePort(r, 'ether4').pvid).toBe('20');
    expect(entryOf(r, 'a')).toMatchObject({ comment: 'flatnet:a' });
    expect(entryOf(r, 'a')!.untagged ?? '').toBe('');
    expect(entryOf(r, 'b')).toMatchObject({ untagged: 'ether4', comment: 'flatnet:b; was-pvid ether4=5' });
    expect(await planned(r, { a: a(), b: b(['ether4']) }, ['ether2'])).toBe(0);

    // dropped from B: the PVID before flatnet comes back, not A's VLAN
    await importSpec(r, { a: a(), b: b() }, ['ether2']);
    expect(bridgePort(r, 'ether4').pvid).toBe('5');
  });

  it('an access port that is not a port of the bridge stops the script at the check, before any change', async () => {
    const r = await start();
    await importSpec(r, { iot: IOT });
    const before = snapshot(r);
    const changesBefore = r.fake.stats.changes;
    // ether1 is the WAN port: not in the bridge
    const run = runScript(r.client, scriptOf(r, { iot: { ...IOT, access: ['ether4', 'ether1'] } }));
    await expect(run).rejects.toThrow(ScriptError);
    await expect(run).rejects.toThrow('flatnet: ether1 is not a (static) port of bridge bridge');
    expect(r.fake.stats.changes).toBe(changesBefore);
    expect(snapshot(r)).toBe(before);
  });
});

describe('an import refused at any change', () => {
  // /import stops at the first failing line. Whatever line that is, a port not back on its PVID before
  // flatnet (5) is still recorded in some flatnet entry, and the next import that runs through converges.
  const recorded = (r: Router) => entries(r).some((e) => (e.comment ?? '').includes('was-pvid ether4=5'));
  const a = (access?: string[]): Net => ({ vlan: 10, third: 10, ...(access ? { access } : {}) });
  const b = (access?: string[]): Net => ({ vlan: 20, third: 20, ...(access ? { access } : {}) });
  const cases: Array<[string, Record<string, Net>, Record<string, Net>, string]> = [
    ['importing the same spec again', { a: a(['ether4']), b: b() }, { a: a(['ether4']), b: b() }, '10'],
    ['moving the port from A to B', { a: a(['ether4']), b: b() }, { a: a(), b: b(['ether4']) }, '20'],
    ['dropping the port', { a: a(['ether4']), b: b() }, { a: a(), b: b() }, '5'],
  ];
  for (const [title, before, after, finalPvid] of cases) {
    it(`${title}: the record survives every stop, and the next import converges`, async () => {
      let k = 1;
      for (;; k++) {
        const r = await start();
        await setPvid(r, 'ether4', '5');
        await importSpec(r, before, ['ether2']);
        const broken: string[] = [];
        r.fake.options.trapAtChange = { k: r.fake.stats.changes + k, message: 'failure: refused by the test' };
        const stopped = await importSpec(r, after, ['ether2'], () => {
          if (bridgePort(r, 'ether4').pvid !== '5' && !recorded(r)) broken.push(`after change ${k}: ether4 on ${bridgePort(r, 'ether4').pvid} with no record`);
        }).then(() => false, () => true);
        r.fake.options.trapAtChange = undefined;
        expect(broken).toEqual([]);
        if (bridgePort(r, 'ether4').pvid !== '5') expect(recorded(r), `stopped at change ${k}`).toBe(true);
        await importSpec(r, after, ['ether2']);
        expect(bridgePort(r, 'ether4').pvid, `next import after a stop at change ${k}`).toBe(finalPvid);
        expect(await planned(r, after, ['ether2'])).toBe(0);
        if (!stopped) break;
      }
      expect(k).toBeGreaterThan(5);
    });
  }
});

describe('the script interpreter follows RouterOS for the constructs the access-port block uses', () => {
  it(':pick end exclusive, :find positions, :toarray on commas, ( + ) and ( . ), :foreach, :set, get', async () => {
    const r = await start();
    const script = [
      '{',
      '  :local text "flatnet:x; was-pvid ether4=1,ether5=12"',
      '  :local at [:find $text "; was-pvid "]',
      '  :local names ""',
      '  :foreach item in=[:toarray [:pick $text ($at + 11) [:len $text]]] do={',
      '    :set names ($names . [:pick $item 0 [:find $item "="]] . "/" . [:pick $item ([:find $item "="] + 1) [:len $item]] . ";")',
      '  }',
      '  /ip/pool/add name=$names ranges=("10.0.0." . [:pick "abcde" 1 3] . "-" . $at)',
      '  /ip/pool/add name=[:pick "abc" 1] ranges=[/interface/bridge/port/get [/interface/bridge/port/find where interface="ether2"] pvid]',
      '}',
    ].join('\n');
    await runScript(r.client, script);
    const pools = r.fake.rows('/ip/pool').slice(-2);
    expect(pools.map((p) => [p.name, p.ranges])).toEqual([
      ['ether4/1;ether5/12;', '10.0.0.bc-9'],
      ['b', '1'],
    ]);
  });

  it('nil from :find is no number: using it is refused rather than guessed', async () => {
    const r = await start();
    await expect(runScript(r.client, '{\n  :local at [:find "abc" "x"]\n  /ip/pool/add name=("p" . $at)\n}')).rejects.toThrow(/expected a string, got null/);
  });
});
