// The import/adopt round trip of issue 20 point 3, for every example spec and every device in it: the example
// is applied (RouterOS routers and switches: the fake speaking the API; OpenWrt routers and switches: OpenWrt's
// own uci; Docker hosts: held in memory, changed by the plan's own steps), flatnet's ownership is stripped so the
// setup looks hand-made, `import` reads it all back into a draft, the draft validates and describes the same
// networks (under the same names) and generates the same files, `plan --adopt` changes nothing but ownership and
// has something to adopt on every device, `plan` without --adopt is refused on every device (naming --adopt),
// `apply --adopt`, and then `plan` has no changes, with the draft and with the example itself.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMap, parseDocument, type YAMLMap, type YAMLSeq } from 'yaml';
import { generate, modelFromText, type Model, type OpenWrtRouter } from '../src/index.js';
import { importFromText } from '../src/import/run.js';
import { DOCKER_OWNERS_FILE } from '../src/ownership.js';
import type { Change } from '../src/plan/types.js';
import { LiveCheckError } from '../src/plan/types.js';
import { planOpenWrt } from '../targets/openwrt/diff.js';
import { RouterOSUnit } from '../targets/routeros/push.js';
import type { RouterOSRouter } from '../src/model.js';
import { fakeRouters } from './fakes/fake-routers.js';
import { SimulatedHost } from './fakes/host-sim.js';
import { uciUnavailable, uciWorkbench, type UciDevice } from './fakes/openwrt-uci-device.js';
import type { FakeRouterOS } from './fakes/routeros-fake.js';

const PASSWORD = 'roundtrip';
const startRouterOS = fakeRouters(PASSWORD);
const examplesDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'examples');
const examples = readdirSync(examplesDir).filter((f) => f.endsWith('.yaml')).sort();
const usesOpenWrt = (text: string) => /^\s+type: openwrt\b/m.test(text);

type Device = { kind: 'router' | 'switch'; name: string } & ({ type: 'routeros'; fake: FakeRouterOS } | { type: 'openwrt'; uci: UciDevice });

/** The example pointed at the test's devices: RouterOS devices at their fake (127.0.0.1:port, password from $P). */
async function world(example: string, uciDevice: (name: string) => UciDevice): Promise<{ spec: string; devices: Device[] }> {
  const doc = parseDocument(readFileSync(join(examplesDir, example), 'utf8'));
  const devices: Device[] = [];
  for (const [section, kind] of [['routers', 'router'], ['switches', 'switch']] as const) {
    const map = doc.get(section);
    if (!isMap(map)) continue;
    for (const item of (map as YAMLMap).items) {
      const name = String((item.key as { value: unknown }).value);
      const dev = item.value as YAMLMap;
      if (dev.get('type') === 'routeros') {
        const { fake, port } = await startRouterOS();
        prepare(fake, kind, String(dev.get('bridge') ?? 'bridge'));
        dev.set('address', '127.0.0.1');
        dev.set('port', port);
        dev.set('password-env', 'P');
        dev.delete('user');
        devices.push({ kind, name, type: 'routeros', fake });
      } else devices.push({ kind, name, type: 'openwrt', uci: uciDevice(`${example}-${name}`) });
    }
  }
  return { spec: doc.toString(), devices };
}

/**
 * The fake as the example expects the device to be before flatnet: the spec's bridge (the guide's main-bridge
 * with a port), the LAN's DHCP pool as the examples' untagged networks say it is (clear of their container
 * ranges), and a switch with eight ports in its bridge.
 */
function prepare(fake: FakeRouterOS, kind: 'router' | 'switch', bridge: string): void {
  if (bridge !== 'bridge') {
    fake.addRow('/interface/bridge', { name: bridge, 'vlan-filtering': 'no' });
    fake.addRow('/interface/bridge/port', { bridge, interface: 'ether5' });
  }
  fake.setRows('/ip/pool', (r) => (r.name === 'default-dhcp' ? { ranges: '192.168.88.64-192.168.88.127' } : {}));
  if (kind === 'switch') {
    for (let i = 6; i <= 8; i++) fake.addRow('/interface/ethernet', { name: `ether${i}`, 'default-name': `ether${i}` });
    for (const i of [1, 6, 7, 8]) fake.addRow('/interface/bridge/port', { bridge, interface: `ether${i}` });
  }
}

/**
 * The spec as import writes it back: a flow between two networks written as one's `to` becomes the other's
 * `from` (the same rule; import cannot tell which side wrote it once ownership is stripped), and `from` lists
 * the LAN first, then the networks in the spec's order.
 */
function flowsAsFrom(spec: string): string {
  const doc = parseDocument(spec);
  const nets = doc.get('networks') as YAMLMap;
  const names = nets.items.map((i) => String((i.key as { value: unknown }).value));
  for (const item of nets.items) {
    const to = doc.getIn(['networks', (item.key as { value: unknown }).value, 'firewall', 'to']) as YAMLSeq | undefined;
    if (!to) continue;
    for (const t of [...to.items]) {
      const target = String((t as { value: unknown }).value);
      if (!names.includes(target)) continue;
      to.items.splice(to.items.indexOf(t), 1);
      const from = doc.getIn(['networks', target, 'firewall', 'from']) as YAMLSeq | undefined;
      if (from) {
        if (!from.items.some((f) => (f as { value: unknown }).value === (item.key as { value: unknown }).value)) from.items.push(doc.createNode((item.key as { value: unknown }).value));
      } else doc.setIn(['networks', target, 'firewall', 'from'], doc.createNode([(item.key as { value: unknown }).value]));
    }
  }
  for (const name of names) {
    const from = doc.getIn(['networks', name, 'firewall', 'from']) as YAMLSeq | undefined;
    const rank = (v: unknown) => (v === 'lan' ? -1 : names.indexOf(String(v)));
    from?.items.sort((a, b) => rank((a as { value: unknown }).value) - rank((b as { value: unknown }).value));
  }
  return doc.toString();
}

/** The spec's devices only (routers, switches, hosts): what import is given. */
function devicesOnly(spec: string): string {
  const doc = parseDocument(spec);
  doc.delete('networks');
  return doc.toString();
}

const deviceModel = (model: Model, d: Device) => [...model.routers, ...model.switches].find((r) => r.name === d.name)!;

/** Plans one device with `model` (and applies the plan when asked); the changes, or the live problems' messages. */
async function planDevice(model: Model, d: Device, options: { adopt?: boolean; apply?: boolean } = {}): Promise<{ changes: Change[]; refused?: string }> {
  if (d.type === 'routeros') {
    const unit = new RouterOSUnit(model, deviceModel(model, d) as RouterOSRouter, { env: { P: PASSWORD }, confirmTimeoutS: 0, ...(options.adopt ? { adopt: true } : {}) });
    try {
      const plan = await unit.plan(() => {});
      if (options.apply && plan.changes.length > 0) await unit.apply(() => {});
      return { changes: plan.changes };
    } catch (err) {
      if (err instanceof LiveCheckError) return { changes: [], refused: err.problems.map((p) => p.message).join('\n') };
      throw err;
    } finally {
      unit.close();
    }
  }
  const plan = planOpenWrt(model, deviceModel(model, d) as OpenWrtRouter, d.uci.read(), options.adopt ? { adopt: true } : {});
  if (plan.problems.length > 0) return { changes: [], refused: plan.problems.map((p) => p.message).join('\n') };
  if (options.apply && plan.changes.length > 0) d.uci.apply(plan);
  return { changes: plan.changes };
}

function planHost(model: Model, host: SimulatedHost, options: { adopt?: boolean; apply?: boolean } = {}): { changes: Change[]; refused?: string } {
  const plan = host.plan(model, options.adopt);
  if (plan.problems.length > 0) return { changes: [], refused: plan.problems.map((p) => p.message).join('\n') };
  if (options.apply) host.apply(plan.steps);
  return { changes: plan.changes };
}

/**
 * What the networks are, as the targets see them, without the spec's names for them: each network's values, and
 * the firewall's allowed flows between networks as one set (a flow can be written as one network's `to` or the
 * other's `from`: the same rule).
 */
function networkView(m: Model) {
  const key = (name: string) => {
    const n = m.networks.find((x) => x.name === name);
    return n ? `${n.vlan ?? 'untagged'} ${n.ipv4.subnet}` : name;
  };
  const flows = new Set<string>();
  for (const n of m.networks) {
    for (const f of n.firewall?.from ?? []) flows.add(`${key(f)} -> ${key(n.name)}`);
    for (const t of n.firewall?.to ?? []) flows.add(`${key(n.name)} -> ${key(t)}`);
  }
  const networks = m.networks
    .map((n) => ({ key: key(n.name), router: n.router, ipv4: n.ipv4, ipv6: n.ipv6, hosts: n.hosts, internet: n.firewall?.internet, allowInput: n.firewall?.allowInput, dhcp: n.dhcpServer, access: n.accessPorts }))
    .sort((a, b) => a.key.localeCompare(b.key));
  return { networks, flows: [...flows].sort() };
}

/** A change that is only ownership: an adoption (RouterOS: the comment set; OpenWrt: the section renamed to flatnet's, and references to renamed sections). */
function onlyOwnership(d: Device | 'host', c: Change): boolean {
  if (d === 'host') return c.action === 'adopt' || (c.action === 'change' && c.note?.startsWith('made by hand') === true && (c.props ?? []).every((p) => p.key === 'alias'));
  if (d.type === 'routeros') return c.action === 'adopt' && c.props?.length === 1 && c.props[0]!.key === 'comment';
  // the record of what the LAN used before, which flatnet keeps once it owns the LAN's bridge-vlan
  if (c.kind === 'network.flatnet_state' && c.action === 'add') return true;
  // an adoption, or a change that renames a hand-made section to flatnet's (its `section` prop first): never a bare change
  const props = c.props ?? [];
  if (c.action !== 'adopt' && !(c.action === 'change' && props[0]?.key === 'section')) return false;
  return props.every((p, i) => (i === 0 && p.key === 'section') || ((p.key === 'network' || p.key === 'interface') && /^flatnet_\w+$/.test(String(p.to))));
}

describe('round trip for every example: apply, strip ownership, import, plan --adopt, apply --adopt, plan', () => {
  let bench: ReturnType<typeof uciWorkbench> | undefined;
  beforeAll(() => {
    if (uciUnavailable === '') bench = uciWorkbench();
  }, 90_000);
  afterAll(() => bench?.cleanup());

  for (const example of examples) {
    const text = readFileSync(join(examplesDir, example), 'utf8');
    const skip = usesOpenWrt(text) && uciUnavailable !== '' ? ` (skipped: ${uciUnavailable})` : '';
    it.skipIf(skip !== '')(`${example}${skip}`, async () => {
      const { spec, devices } = await world(example, (name) => bench!.device(name));
      const want = modelFromText(spec, example);
      const hosts = want.hosts.map((h) => new SimulatedHost(h));
      const routersFirst = [...devices.filter((d) => d.kind === 'router'), ...devices.filter((d) => d.kind === 'switch')];

      // apply the example; converged
      for (const d of routersFirst) expect((await planDevice(want, d, { apply: true })).refused).toBeUndefined();
      for (const h of hosts) expect(planHost(want, h, { apply: true }).refused).toBeUndefined();
      for (const d of routersFirst) expect((await planDevice(want, d)).changes).toEqual([]);
      for (const h of hosts) expect(planHost(want, h).changes).toEqual([]);

      // made to look hand-made
      for (const d of devices) if (d.type === 'routeros') d.fake.stripFlatnetComments();
      else d.uci.handMade();
      for (const h of hosts) h.stripOwnership(DOCKER_OWNERS_FILE);

      // import reads every device back
      const imported = await importFromText(devicesOnly(spec), 'devices.yaml', {
        env: { P: PASSWORD },
        routers: want.routers.map((r) => r.name),
        switches: want.switches.map((s) => s.name),
        hosts: want.hosts.map((h) => h.name),
        readHost: async (h) => hosts.find((x) => x.host.name === h.name)!.reading(),
        readOpenWrt: async (r) => (devices.find((d) => d.name === r.name) as Extract<Device, { type: 'openwrt' }>).uci.read(),
      });
      expect(imported.report.warnings).toEqual([]);
      expect(imported.code).toBe(0);
      const draft = modelFromText(imported.draft, 'draft.yaml');
      if (want.routers.length > 0) expect(networkView(draft)).toEqual(networkView(want));
      else {
        // no router to read: the LAN's DHCP pool is not known; the draft says what to add
        const noPool = (m: Model) => ({ ...networkView(m), networks: networkView(m).networks.map((n) => ({ ...n, ipv4: { ...n.ipv4, dhcpPool: undefined } })) });
        expect(noPool(draft)).toEqual(noPool(want));
        expect(imported.draft).toContain('no router was read: add router: <its router> and dhcp-pool: <the LAN\'s DHCP pool>');
      }
      // every network keeps its name through import (the devices carry it: VLAN interface, uci section, Docker
      // network), so what the draft generates is what the example generates, byte for byte
      const same = (a: Model['networks'][number], b: Model['networks'][number]) => a.vlan === b.vlan && a.ipv4.subnet === b.ipv4.subnet;
      expect(draft.networks.map((n) => [n.name, want.networks.find((w) => same(w, n))?.name])).toEqual(draft.networks.map((n) => [n.name, n.name]));
      const asImported = modelFromText(flowsAsFrom(spec), example);
      expect(generate(draft).map((a) => [a.path, a.content])).toEqual(generate(asImported).map((a) => [a.path, a.content]));

      // plan --adopt: nothing but ownership, and something to adopt on every device (each holds hand-made
      // objects the draft describes)
      const named = [...routersFirst.map((d) => `${d.kind} ${d.name}`), ...hosts.map((h) => `host ${h.host.name}`)];
      const adopting = [
        ...(await Promise.all(routersFirst.map(async (d) => ({ ...(await planDevice(draft, d, { adopt: true })), only: (c: Change) => onlyOwnership(d, c) })))),
        ...hosts.map((h) => ({ ...planHost(draft, h, { adopt: true }), only: (c: Change) => onlyOwnership('host', c) })),
      ];
      expect(adopting.map((a, i) => [named[i], a.refused])).toEqual(named.map((n) => [n, undefined]));
      expect(adopting.map((a, i) => [named[i], a.changes.filter((c) => !a.only(c))])).toEqual(named.map((n) => [n, []]));
      expect(named.filter((_, i) => adopting[i]!.changes.length === 0)).toEqual([]);

      // without --adopt: every one of those devices refuses, naming --adopt (none adds a second object beside the user's)
      const refusals = [
        ...(await Promise.all(routersFirst.map(async (d) => (await planDevice(draft, d)).refused))),
        ...hosts.map((h) => planHost(draft, h).refused),
      ];
      expect(named.filter((_, i) => !/plan --adopt/.test(refusals[i] ?? ''))).toEqual([]);

      // apply --adopt
      for (const d of routersFirst) await planDevice(draft, d, { adopt: true, apply: true });
      for (const h of hosts) planHost(draft, h, { adopt: true, apply: true });

      // converged: with the draft, and with the example (its flows written as import writes them)
      for (const m of [draft, asImported]) {
        for (const d of routersFirst) expect((await planDevice(m, d)).changes).toEqual([]);
        for (const h of hosts) expect(planHost(m, h).changes).toEqual([]);
      }
    });
  }
});
