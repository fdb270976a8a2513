// plan|apply --adopt on RouterOS (issue 20 points 2 and 3): hand-made objects that already are what the spec
// asks for are taken over in place (`= adopt`, a comment set, ids unchanged); without --adopt they are refused
// with a message naming --adopt. The round trip: apply an example to the fake router, make its objects look
// hand-made, import, plan --adopt with the draft changes nothing but ownership, apply --adopt, plan: no changes.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelFromText } from '../src/index.js';
import { importFromText } from '../src/import/run.js';
import { renderPlan } from '../src/plan/render.js';
import { LiveCheckError, type Change } from '../src/plan/types.js';
import { RouterOSUnit } from '../targets/routeros/push.js';
import { fakeRouters } from './fakes/fake-routers.js';
import { FakeRouterOS } from './fakes/routeros-fake.js';
import { captureIo } from './fakes/capture-io.js';
import { runApply, runPlan } from '../src/plan/run.js';

const PASSWORD = 'adopt';
const start = fakeRouters(PASSWORD);

type Options = { adopt?: boolean; apply?: boolean; confirmTimeoutS?: number; beforeApply?: () => void };

/** Plans (and applies) the spec's first router through the CLI's RouterOSUnit. */
async function run(specText: string, options: Options = {}): Promise<{ changes: Change[]; text: string }> {
  const model = modelFromText(specText);
  const router = model.routers[0] as Extract<(typeof model.routers)[number], { type: 'routeros' }>;
  const unit = new RouterOSUnit(model, router, { env: { P: PASSWORD }, confirmTimeoutS: options.confirmTimeoutS ?? 0, ...(options.adopt ? { adopt: true } : {}) });
  try {
    const plan = await unit.plan(() => {});
    if (options.apply && plan.changes.length > 0) {
      options.beforeApply?.();
      await unit.apply(() => {});
    }
    const text = renderPlan([{ unit: unit.ref, status: plan.changes.length > 0 ? 'changes' : 'no-changes', plan }], { file: 'spec.yaml', locate: () => undefined }, { color: false });
    return { changes: plan.changes, text };
  } finally {
    unit.close();
  }
}

/** An example spec pointed at the fake: its routers at 127.0.0.1:port with the password from $P. */
function onFake(example: string, port: number): string {
  return readFileSync(new URL(`../examples/${example}`, import.meta.url), 'utf8')
    .replace(/^( {4})address: 192\.168\.88\.1$/m, `$1address: 127.0.0.1\n$1port: ${port}`)
    .replace(/^( {4})password-env: \w+$/m, '$1password-env: P')
    .replace(/^( {4})user: \w+$/m, '$1user: admin');
}

/** Only the devices of a spec (its networks left out): what `import` reads. */
function devicesOnly(spec: string): string {
  return `${spec.slice(0, spec.indexOf('\nnetworks:')).replace(/\nhosts:[\s\S]*$/, '')}\n`;
}

/** Every row's .id and managed values, by menu: what adoption must leave as it is. */
function snapshot(fake: FakeRouterOS, menus: string[]): Record<string, string[]> {
  return Object.fromEntries(menus.map((m) => [m, fake.rows(m).map((r) => `${r['.id']} ${Object.entries(r).filter(([k]) => k !== 'comment' && k !== '.id').map(([k, v]) => `${k}=${v}`).sort().join(' ')}`)]));
}

const ALL = ['/interface/vlan', '/ip/address', '/ipv6/address', '/interface/bridge/vlan', '/ip/pool', '/ip/dhcp-server', '/ip/dhcp-server/network', '/ip/firewall/filter', '/ipv6/firewall/filter'];

describe('plan --adopt: RouterOS', () => {
  it("the guide's own setup (vlan-200-docker-demo on main-bridge, 192.168.200.1/24): refused without --adopt, naming it; adopted in place with it", async () => {
    const { fake, port } = await start();
    fake.addRow('/interface/bridge', { name: 'main-bridge', 'vlan-filtering': 'no' });
    const vlanId = fake.addRow('/interface/vlan', { name: 'vlan-200-docker-demo', 'vlan-id': '200', interface: 'main-bridge' });
    const addressId = fake.addRow('/ip/address', { address: '192.168.200.1/24', interface: 'vlan-200-docker-demo', comment: 'docker demo' });
    const spec = onFake('routeros-vlan.yaml', port);

    const refused = await run(spec).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LiveCheckError);
    const messages = (refused as LiveCheckError).problems.map((p) => p.message).join('\n');
    expect(messages).toContain('VLAN 200 already exists on main-bridge as interface "vlan-200-docker-demo", not created by flatnet: plan --adopt');
    expect(messages).toContain('renamed in place to vlan200-docker-demo');

    const { changes, text } = await run(spec, { adopt: true });
    const vlan = changes.find((c) => c.kind === '/interface/vlan')!;
    // named otherwise: adopted and renamed in the same set (what is attached follows the rename)
    expect(vlan).toMatchObject({ action: 'change', name: 'vlan-200-docker-demo (vlan-id 200 on main-bridge)', network: 'docker-demo' });
    expect(vlan.props).toEqual([
      { key: 'comment', from: '', to: 'flatnet:docker-demo' },
      { key: 'name', from: 'vlan-200-docker-demo', to: 'vlan200-docker-demo' },
    ]);
    expect(vlan.note).toMatch(/made by hand, taken over in place; renamed in place/);
    expect(changes.find((c) => c.kind === '/ip/address')).toMatchObject({ action: 'adopt', props: [{ key: 'comment', from: 'docker demo', to: 'flatnet:docker-demo' }] });
    expect(changes.filter((c) => c.action === 'remove')).toEqual([]);
    expect(text).toMatch(/^ {2}= \/ip\/address 192\.168\.200\.1\/24 on vlan200-docker-demo {2}\(made by hand, taken over in place\)$/m);
    expect(text).toMatch(/Plan: \d+ to add, 1 to change, 0 to remove, 1 to adopt\./);

    await run(spec, { adopt: true, apply: true });
    const v = fake.rows('/interface/vlan').find((r) => r['vlan-id'] === '200')!;
    expect(v).toMatchObject({ '.id': vlanId, name: 'vlan200-docker-demo', comment: 'flatnet:docker-demo' });
    expect(fake.rows('/ip/address').find((r) => r['.id'] === addressId)).toMatchObject({ interface: 'vlan200-docker-demo', comment: 'flatnet:docker-demo' });
    expect((await run(spec)).changes).toEqual([]);
  });

  it('through the CLI run: plan --adopt prints = adopt lines; a plan saved with --adopt applies with it', async () => {
    const { fake, port } = await start();
    fake.addRow('/interface/bridge', { name: 'main-bridge', 'vlan-filtering': 'no' });
    fake.addRow('/interface/vlan', { name: 'vlan200-docker-demo', 'vlan-id': '200', interface: 'main-bridge' });
    const dir = mkdtempSync(join(tmpdir(), 'flatnet-adopt-'));
    const spec = join(dir, 'flatnet.yaml');
    writeFileSync(spec, onFake('routeros-vlan.yaml', port));
    const refused = captureIo({ P: PASSWORD });
    expect(await runPlan(spec, { routers: ['core'] }, refused.io)).toBe(1);
    expect(refused.out()).toContain('plan --adopt');
    const planned = captureIo({ P: PASSWORD });
    const saved = join(dir, 'plan.json');
    expect(await runPlan(spec, { routers: ['core'], adopt: true, out: saved }, planned.io)).toBe(0);
    expect(planned.out()).toMatch(/^ {2}= \/interface\/vlan vlan200-docker-demo \(vlan-id 200 on main-bridge\) {2}\(made by hand, taken over in place\)$/m);
    const applied = captureIo({ P: PASSWORD });
    expect(await runApply(saved, { confirmTimeout: 0 }, applied.io)).toBe(0);
    expect(applied.out()).toMatch(/applied router core: \d+ changes/);
    expect(fake.rows('/interface/vlan').find((r) => r['vlan-id'] === '200')!.comment).toBe('flatnet:docker-demo');
  });

  it('the rollback undoes an adoption: comments and the name as they were, ids unchanged', async () => {
    const { fake, port } = await start();
    fake.addRow('/interface/bridge', { name: 'main-bridge', 'vlan-filtering': 'no' });
    fake.addRow('/interface/vlan', { name: 'vlan-200-docker-demo', 'vlan-id': '200', interface: 'main-bridge' });
    fake.addRow('/ip/address', { address: '192.168.200.1/24', interface: 'vlan-200-docker-demo', comment: 'docker demo' });
    const before = snapshot(fake, ['/interface/vlan', '/ip/address']);
    const comments = () => ['/interface/vlan', '/ip/address'].flatMap((m) => fake.rows(m).map((r) => r.comment ?? ''));
    const was = comments();
    const spec = onFake('routeros-vlan.yaml', port);
    // the confirmation cannot get through: the router restores itself
    const failed = await run(spec, { adopt: true, apply: true, confirmTimeoutS: 1, beforeApply: () => (fake.options.refuseConnections = true) }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(Error);
    expect(fake.rows('/interface/vlan').find((r) => r['vlan-id'] === '200')!.name).toBe('vlan200-docker-demo');
    const runs = await fake.advanceClock(10);
    expect(runs.map((r) => r.error)).toEqual([undefined]);
    fake.options.refuseConnections = false;
    expect(snapshot(fake, ['/interface/vlan', '/ip/address'])).toEqual(before);
    expect(comments()).toEqual(was);
    expect(fake.rows('/ip/firewall/filter').filter((r) => (r.comment ?? '').startsWith('flatnet:'))).toEqual([]);
  });

  it('an adopted object that differs in a value is adopted and changed in the same set; with owner: it takes the owner', async () => {
    const { fake, port } = await start();
    fake.addRow('/interface/bridge', { name: 'main-bridge', 'vlan-filtering': 'no' });
    const vlanId = fake.addRow('/interface/vlan', { name: 'vlan200-docker-demo', 'vlan-id': '200', interface: 'main-bridge' });
    const addressId = fake.addRow('/ip/address', { address: '192.168.200.254/24', interface: 'vlan200-docker-demo' });
    const spec = onFake('routeros-vlan.yaml', port).replace('version: 1\n', 'version: 1\nowner: nas1\n');
    const { changes } = await run(spec, { adopt: true });
    expect(changes.find((c) => c.kind === '/interface/vlan')).toMatchObject({ action: 'adopt', props: [{ key: 'comment', from: '', to: 'flatnet:docker-demo@nas1' }] });
    expect(changes.find((c) => c.kind === '/ip/address')).toMatchObject({
      action: 'change',
      note: 'made by hand, taken over in place',
      props: [
        { key: 'comment', from: '', to: 'flatnet:docker-demo@nas1' },
        { key: 'address', from: '192.168.200.254/24', to: '192.168.200.1/24' },
      ],
    });
    await run(spec, { adopt: true, apply: true });
    expect(fake.rows('/interface/vlan').find((r) => r['.id'] === vlanId)!.comment).toBe('flatnet:docker-demo@nas1');
    expect(fake.rows('/ip/address').find((r) => r['.id'] === addressId)).toMatchObject({ address: '192.168.200.1/24', comment: 'flatnet:docker-demo@nas1' });
    expect((await run(spec)).changes).toEqual([]);
  });

  it("a DHCP server made by hand on flatnet's VLAN interface is refused without --adopt, naming it; adopted with it", async () => {
    const { fake, port } = await start();
    fake.addRow('/interface/bridge', { name: 'main-bridge', 'vlan-filtering': 'no' });
    const spec = onFake('routeros-vlan.yaml', port).replace('    container-range: 192.168.200.192/27\n', '    container-range: 192.168.200.192/27\n    dhcp-pool: 192.168.200.100-192.168.200.150\n    firewall: {allow-input: [dns, dhcp]}\n');
    await run(spec, { apply: true });
    const rows = (m: string) => (fake as unknown as { allRows(m: string): Array<{ props: Map<string, string> }> }).allRows(m);
    for (const m of ['/ip/dhcp-server', '/ip/pool']) for (const r of rows(m)) if (r.props.get('comment') === 'flatnet:docker-demo') r.props.set('comment', 'mine');
    const refused = await run(spec).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LiveCheckError);
    expect((refused as LiveCheckError).problems).toEqual([
      { path: ['networks', 'docker-demo', 'dhcp-pool'], message: 'DHCP server "flatnet-docker-demo" on vlan200-docker-demo was not created by flatnet: plan --adopt (then apply --adopt) takes it over in place with its pool; or remove it' },
    ]);
    const { changes } = await run(spec, { adopt: true });
    expect(changes.map((c) => [c.action, c.kind, c.props])).toEqual([
      ['adopt', '/ip/pool', [{ key: 'comment', from: 'mine', to: 'flatnet:docker-demo' }]],
      ['adopt', '/ip/dhcp-server', [{ key: 'comment', from: 'mine', to: 'flatnet:docker-demo' }]],
    ]);
  });
});

describe('round trip: apply, strip ownership, import, plan --adopt, apply --adopt, plan', () => {
  for (const example of ['routeros-vlan.yaml', 'homelab.yaml']) {
    it(`${example}: the draft validates, plan --adopt changes nothing but ownership, then no changes`, async () => {
      const { fake, port } = await start();
      fake.addRow('/interface/bridge', { name: 'main-bridge', 'vlan-filtering': 'no' });
      fake.addRow('/interface/bridge/port', { bridge: 'main-bridge', interface: 'ether6' });
      // the LAN's default DHCP pool stays clear of homelab's LAN container range
      for (const r of (fake as unknown as { allRows(m: string): Array<{ props: Map<string, string> }> }).allRows('/ip/pool')) r.props.set('ranges', '192.168.88.10-192.168.88.60');
      const spec = onFake(example, port);
      await run(spec, { apply: true });
      expect((await run(spec)).changes).toEqual([]);
      fake.stripFlatnetComments();
      const before = snapshot(fake, ALL);

      const imported = await importFromText(devicesOnly(spec), 'devices.yaml', { env: { P: PASSWORD } });
      expect(imported.code).toBe(0);
      modelFromText(imported.draft, 'draft.yaml'); // the draft validates

      const refused = await run(imported.draft).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(LiveCheckError);
      expect((refused as LiveCheckError).problems.map((p) => p.message).join('\n')).toMatch(/plan --adopt/);

      const { changes } = await run(imported.draft, { adopt: true });
      expect(changes.length).toBeGreaterThan(0);
      // nothing but ownership: every change is an adoption, a comment set
      expect(changes.filter((c) => c.action !== 'adopt')).toEqual([]);
      expect(changes.every((c) => c.props?.length === 1 && c.props[0]!.key === 'comment')).toBe(true);

      await run(imported.draft, { adopt: true, apply: true });
      expect(snapshot(fake, ALL)).toEqual(before); // ids and values as they were: relabelled only
      expect((await run(imported.draft)).changes).toEqual([]);
      expect((await run(imported.draft, { adopt: true })).changes).toEqual([]);
    });
  }
});
