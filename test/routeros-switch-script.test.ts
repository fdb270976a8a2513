// The generated RouterOS script of a switch (issue 16, generate): replayed on the script interpreter against
// the fake RouterOS (test/fakes/routeros-script.ts, one API command per change, as /import runs it). It
// names no layer-3 menu, leaves what plan/apply would leave (a plan after it has no changes), gives the same
// state when imported again, follows spec changes (a moved host port, a dropped network's access port gets
// its PVID back), never touches the uplink's or a host port's PVID, and stops before any change when a port
// is not in the bridge. The router's script of the same path tags its port toward the switch.
import { afterEach, describe, expect, it } from 'vitest';
import { RosClient } from '../targets/routeros/api.js';
import { renderScript } from '../targets/routeros/index.js';
import type { FakeRouterOS } from './fakes/routeros-fake.js';
import { runScript, ScriptError } from './fakes/routeros-script.js';
import { planDevice, startRouter, startSwitch, switchedModel, type SwitchedNet, type SwitchedSpec } from './fakes/routeros-switched.js';

const PASSWORD = 'switch-script';
const fakes: FakeRouterOS[] = [];
const clients: RosClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

const MEDIA: SwitchedNet = { vlan: 20, third: 20 };
const CAMS: SwitchedNet = { vlan: 30, third: 30, access: ['sw1:ether7'] };

interface Switch {
  fake: FakeRouterOS;
  client: RosClient;
  spec: (nets: Record<string, SwitchedNet>, hostPort?: string) => SwitchedSpec;
}

async function start(): Promise<Switch> {
  const s = await startSwitch({ password: PASSWORD });
  fakes.push(s.fake);
  const client = await RosClient.connect({ host: '127.0.0.1', port: s.port, user: 'admin', password: PASSWORD });
  clients.push(client);
  // the router's port is never dialled by these tests
  return { fake: s.fake, client, spec: (nets, hostPort) => ({ corePort: 1, swPort: s.port, nets, ...(hostPort ? { hostPort } : {}) }) };
}

const scriptOf = (spec: SwitchedSpec) => {
  const { model, sw1 } = switchedModel(spec);
  return renderScript(model, sw1);
};

async function importSpec(s: Switch, spec: SwitchedSpec, watch?: () => void): Promise<string[][]> {
  s.fake.options.afterChange = watch;
  try {
    return (await runScript(s.client, scriptOf(spec))).changes;
  } finally {
    s.fake.options.afterChange = undefined;
  }
}

/** What plan/apply would change now on the switch: [] means the script left what apply leaves. */
async function planned(spec: SwitchedSpec): Promise<string[]> {
  const { model, sw1 } = switchedModel(spec);
  return (await planDevice(model, sw1, PASSWORD, false)).changes.map((c) => `${c.action} ${c.kind} ${c.name}`);
}

const pvids = (s: Switch) => Object.fromEntries(s.fake.rows('/interface/bridge/port').map((p) => [p.interface, p.pvid]));
const entries = (s: Switch) => s.fake.rows('/interface/bridge/vlan').map((e) => [e['vlan-ids'], e.tagged, e.untagged ?? '', e.comment]);
// an empty property (`untagged=""` after a set) is the same as none
const bare = (rows: Array<Record<string, string>>) => rows.map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== '')));
const snapshot = (s: Switch) => JSON.stringify([bare(s.fake.rows('/interface/bridge/vlan')), bare(s.fake.rows('/interface/bridge/port'))]);
const LAYER3 = /\/interface\/vlan|\/ip\/|\/ipv6\/|firewall|interface\/list/;

describe('the RouterOS switch script', () => {
  it('names no VLAN interface, address, DHCP or firewall menu; says it is for a switch', () => {
    const script = scriptOf({ corePort: 1, swPort: 2, nets: { media: MEDIA, cams: CAMS } });
    expect(script.split('\n')[0]).toBe('# flatnet-router: RouterOS v7 script for switch "sw1" (bridge bridge)');
    const commands = script.split('\n').filter((l) => !l.trimStart().startsWith('#'));
    expect(commands.filter((l) => LAYER3.test(l))).toEqual([]);
    // nor does it talk about them, comments included
    expect(script).not.toMatch(/VLAN interface|firewall|rules|address|DHCP/i);
  });

  it('replays on the fake: entries with the derived tagged ports and the access port, its pvid set last; a plan after it has no changes', async () => {
    const s = await start();
    const spec = s.spec({ media: MEDIA, cams: CAMS });
    const changes = await importSpec(s, spec);
    expect(entries(s)).toEqual([
      ['30', 'ether1,ether5', 'ether7', 'flatnet:cams; was-pvid ether7=1'],
      ['20', 'ether1,ether5', '', 'flatnet:media'],
    ]);
    expect(pvids(s)).toEqual({ ether1: '1', ether2: '1', ether3: '1', ether4: '1', ether5: '1', ether6: '1', ether7: '30', ether8: '1' });
    expect(changes.map((w) => w[0])).toEqual(['/interface/bridge/vlan/add', '/interface/bridge/vlan/add', '/interface/bridge/port/set']);
    expect(changes.every((w) => !LAYER3.test(w[0]!))).toBe(true);
    expect(await planned(spec)).toEqual([]);
  });

  it('a second import gives the same state, the access port never leaving its VLAN', async () => {
    const s = await start();
    const spec = s.spec({ media: MEDIA, cams: CAMS });
    await importSpec(s, spec);
    const before = snapshot(s);
    const seen = new Set<string>();
    await importSpec(s, spec, () => seen.add(pvids(s).ether7!));
    expect([...seen]).toEqual(['30']);
    expect(snapshot(s)).toBe(before);
    expect(await planned(spec)).toEqual([]);
  });

  it('follows the spec: host moved to ether4, cams dropped (its port gets its PVID back); uplink and host ports never change', async () => {
    const s = await start();
    await s.client.command(['/interface/bridge/port/set', `=.id=${s.fake.rows('/interface/bridge/port').find((p) => p.interface === 'ether7')!['.id']}`, '=pvid=5']);
    await importSpec(s, s.spec({ media: MEDIA, cams: CAMS }));
    expect(pvids(s).ether7).toBe('30');
    const later = s.spec({ media: MEDIA }, 'ether4');
    const untouched: string[] = [];
    await importSpec(s, later, () => untouched.push(['ether1', 'ether4', 'ether5'].map((p) => pvids(s)[p]).join(',')));
    expect(new Set(untouched)).toEqual(new Set(['1,1,1']));
    expect(entries(s)).toEqual([['20', 'ether1,ether4', '', 'flatnet:media']]);
    expect(pvids(s).ether7).toBe('5');
    expect(await planned(later)).toEqual([]);
  });

  it('a port not in the bridge stops the script at its check, before any change', async () => {
    const s = await start();
    await importSpec(s, s.spec({ media: MEDIA }));
    const uplink = s.fake.rows('/interface/bridge/port').find((p) => p.interface === 'ether1')!;
    await s.client.command(['/interface/bridge/port/remove', `=numbers=${uplink['.id']}`]);
    const before = snapshot(s);
    await expect(importSpec(s, s.spec({ media: MEDIA, cams: CAMS }))).rejects.toThrow(ScriptError);
    await expect(importSpec(s, s.spec({ media: MEDIA, cams: CAMS }))).rejects.toThrow(/ether1 is not a \(static\) port of bridge bridge/);
    expect(snapshot(s)).toBe(before);
  });

  it('a bridge VLAN entry made by hand for a VLAN of the spec stops the script at its check, before any change (no second entry beside it)', async () => {
    const s = await start();
    s.fake.addRow('/interface/bridge/vlan', { bridge: 'bridge', 'vlan-ids': '30', tagged: 'ether1', untagged: 'ether7' });
    const before = snapshot(s);
    await expect(importSpec(s, s.spec({ media: MEDIA, cams: CAMS }))).rejects.toThrow(/flatnet: a bridge VLAN entry for VLAN 30 on bridge exists already and was not created by flatnet/);
    expect(snapshot(s)).toBe(before);
  });

  it("beside flatnet's own entry for the VLAN (an earlier import), a hand-made one stops nothing: the script updates its own entry, as plan does", async () => {
    const s = await start();
    await importSpec(s, s.spec({ media: MEDIA, cams: CAMS }));
    s.fake.addRow('/interface/bridge/vlan', { bridge: 'bridge', 'vlan-ids': '30', tagged: 'ether1' });
    await importSpec(s, s.spec({ media: MEDIA, cams: CAMS }));
    expect(entries(s).filter((e) => e[0] === '30').map((e) => e[3] ?? '')).toEqual([expect.stringMatching(/^flatnet:cams/), '']);
    expect(await planned(s.spec({ media: MEDIA, cams: CAMS }))).toEqual([]);
  });

  it("the router's script of the same path tags its port toward the switch, and replays with no plan left", async () => {
    const r = await startRouter({ password: PASSWORD });
    fakes.push(r.fake);
    const client = await RosClient.connect({ host: '127.0.0.1', port: r.port, user: 'admin', password: PASSWORD });
    clients.push(client);
    const spec: SwitchedSpec = { corePort: r.port, swPort: 1, nets: { media: MEDIA, cams: CAMS } };
    const { model, core } = switchedModel(spec);
    await runScript(client, renderScript(model, core));
    expect(r.fake.rows('/interface/bridge/vlan').map((e) => [e['vlan-ids'], e.tagged])).toEqual([
      ['20', 'ether2,bridge'],
      ['30', 'ether2,bridge'],
    ]);
    expect((await planDevice(model, core, PASSWORD, false)).changes).toEqual([]);
  });
});
