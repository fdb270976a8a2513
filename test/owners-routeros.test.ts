// Owners (issue 18 point 2) on RouterOS, against the fake router: two specs with their own `owner:` share one
// router without touching each other's objects; a network name or VLAN id held by another owner is a live
// problem at the network's spec path; objects without an owner are another owner's for a spec with one (and
// vice versa); a spec that removes a whole network says so with its VLAN; changing the owner relabels in
// place (--from-owner), ids kept, and the rollback of such an apply still restores exactly.
import { describe, expect, it } from 'vitest';
import { modelFromText } from '../src/index.js';
import type { Model } from '../src/model.js';
import { heldByOther, mark, markRegex, parseMark } from '../src/ownership.js';
import { RouterOSUnit } from '../targets/routeros/push.js';
import { fakeRouters } from './fakes/fake-routers.js';
import { FakeRouterOS } from './fakes/routeros-fake.js';
import { vlanSpecText, type VlanNet } from './fakes/routeros-harness.js';
import { LiveCheckError } from '../src/plan/types.js';

type RouterOS = Extract<Model['routers'][number], { type: 'routeros' }>;
const PASSWORD = 'owners';
const start = fakeRouters(PASSWORD);

const specText = (port: number, nets: Record<string, VlanNet>, owner?: string) => `${owner !== undefined ? `owner: ${owner}\n` : ''}${vlanSpecText(port, nets)}`;

async function run(port: number, nets: Record<string, VlanNet>, owner?: string, options: { apply?: boolean; from?: string | null } = {}) {
  const model = modelFromText(specText(port, nets, owner));
  if (options.from !== undefined) model.ownership = { ...model.ownership, from: options.from === null ? {} : { owner: options.from } };
  const unit = new RouterOSUnit(model, model.routers[0] as RouterOS, { env: { P: PASSWORD } });
  try {
    const plan = await unit.plan(() => {});
    if (options.apply !== false && plan.changes.length > 0) await unit.apply(() => {});
    return plan;
  } finally {
    unit.close();
  }
}

async function problems(port: number, nets: Record<string, VlanNet>, owner?: string) {
  try {
    await run(port, nets, owner, { apply: false });
  } catch (err) {
    if (err instanceof LiveCheckError) return err.problems;
    throw err;
  }
  return [];
}

const MENUS = ['/interface/vlan', '/ip/address', '/interface/bridge/vlan', '/ip/firewall/filter', '/ipv6/firewall/filter'];
const flatnetRows = (fake: FakeRouterOS) => MENUS.flatMap((m) => fake.rows(m).filter((r) => parseMark(r.comment) !== undefined).map((r) => ({ menu: m, ...r })));
const byOwner = (fake: FakeRouterOS, owner: string | undefined) => flatnetRows(fake).filter((r) => parseMark(r.comment)!.owner === owner);

describe('ownership marks (src/ownership.ts)', () => {
  it('writes and parses flatnet:<network>[@<owner>], the access ports record after it', () => {
    expect(mark('media')).toBe('flatnet:media');
    expect(mark('media', 'nas1')).toBe('flatnet:media@nas1');
    expect(parseMark('flatnet:media@nas1; was-pvid ether4=1')).toEqual({ network: 'media', owner: 'nas1' });
    expect(parseMark('flatnet:media; was-pvid ether4=1')).toEqual({ network: 'media' });
    expect(parseMark('not flatnet')).toBeUndefined();
    const none = new RegExp(markRegex(undefined).replace('\\$', '$'));
    const nas1 = new RegExp(markRegex('nas1'));
    expect(['flatnet:media', 'flatnet:media; was-pvid ether4=1', 'flatnet:media@nas1', 'flatnet:media@nas1; was-pvid x=1'].map((c) => [none.test(c), nas1.test(c)])).toEqual([
      [true, false],
      [true, false],
      [false, true],
      [false, true],
    ]);
  });
});

describe('owners on one RouterOS router', () => {
  const A: Record<string, VlanNet> = { media: { vlan: 20, third: 20, access: ['ether4'] }, cams: { vlan: 30, third: 30 } };
  const B: Record<string, VlanNet> = { lab: { vlan: 50, third: 50 } };

  it('two specs with their own owner: each adds only its own, removes nothing of the other, and stays converged', async () => {
    const { fake, port } = await start();
    await run(port, A, 'nas1');
    const rowsA = byOwner(fake, 'nas1');
    expect(rowsA.length).toBeGreaterThan(10);
    expect(fake.rows('/interface/vlan').find((r) => r.name === 'vlan20-media')!.comment).toBe('flatnet:media@nas1');
    expect(fake.rows('/interface/bridge/vlan').find((r) => r['vlan-ids'] === '20')!.comment).toBe('flatnet:media@nas1; was-pvid ether4=1');

    const planB = await run(port, B, 'nas2');
    expect(planB.changes.length).toBeGreaterThan(0);
    expect(planB.changes.filter((c) => c.action !== 'add')).toEqual([]);
    expect(planB.changes.every((c) => c.network === 'lab')).toBe(true);
    expect(planB.warnings.filter((w) => w.includes('not in this spec'))).toEqual([]);
    // A's objects are exactly as they were, and A's spec still plans nothing
    expect(byOwner(fake, 'nas1')).toEqual(rowsA);
    expect((await run(port, A, 'nas1', { apply: false })).changes).toEqual([]);
    expect((await run(port, B, 'nas2', { apply: false })).changes).toEqual([]);
    // B gone from its spec: only B's objects go
    const empty = await run(port, {}, 'nas2');
    expect(empty.changes.every((c) => c.network === 'lab')).toBe(true);
    expect(empty.warnings.some((w) => w.includes('network lab (VLAN 50)') && w.includes('owner:'))).toBe(true);
    expect(byOwner(fake, 'nas2')).toEqual([]);
    expect(byOwner(fake, 'nas1')).toEqual(rowsA);
  });

  it("a network name or VLAN id held by another owner's objects is a live problem at the network's spec path", async () => {
    const { port } = await start();
    await run(port, A, 'nas1');
    const byName = await problems(port, { media: { vlan: 60, third: 60 } }, 'nas2');
    expect(byName).toEqual([{ path: ['networks', 'media'], message: heldByOther('network name "media"', 'comment flatnet:media@nas1', 'nas1', 'nas2') }]);
    expect(byName[0]!.message).toContain('--from-owner nas1');
    const byVlan = await problems(port, { other: { vlan: 30, third: 70 } }, 'nas2');
    expect(byVlan.map((p) => p.path)).toEqual([['networks', 'other', 'vlan']]);
    expect(byVlan[0]!.message).toMatch(/^VLAN 30 is held by objects of owner "nas1" \(network cams, comment flatnet:cams@nas1\)/);
    // a spec without owner: the objects with an owner are another owner's
    const none = await problems(port, { cams: { vlan: 30, third: 30 } });
    expect(none[0]!.message).toMatch(/^network name "cams" is held by objects of owner "nas1" .*this spec has no owner/);
  });

  it('objects without an owner keep working for specs without one, and are another owner\'s for a spec with one', async () => {
    const { fake, port } = await start();
    await run(port, A);
    const legacy = byOwner(fake, undefined);
    expect(legacy.length).toBeGreaterThan(10);
    expect((await run(port, A, undefined, { apply: false })).changes).toEqual([]);
    // a spec with an owner next to them: adds its own, removes none of them
    const plan = await run(port, B, 'nas2');
    expect(plan.changes.filter((c) => c.action !== 'add')).toEqual([]);
    expect(byOwner(fake, undefined)).toEqual(legacy);
    expect((await problems(port, { media: { vlan: 20, third: 20 } }, 'nas2'))[0]!.path).toEqual(['networks', 'media']);
    // the spec without owner does not see nas2's lab either
    expect((await run(port, A, undefined, { apply: false })).changes).toEqual([]);
  });

  it('without owners, a plan that removes a whole network says which, with its VLAN, and mentions owner:', async () => {
    const { port } = await start();
    await run(port, A);
    const plan = await run(port, { media: A.media! }, undefined, { apply: false });
    expect(plan.changes.filter((c) => c.action === 'remove').every((c) => c.network === 'cams')).toBe(true);
    const warning = plan.warnings.find((w) => w.startsWith('network cams'));
    expect(warning).toBe('network cams (VLAN 30) is on the router but not in this spec: the plan removes it; if another spec manages it, give each spec its own owner: (top level) so that neither removes the other\'s networks');
  });

  for (const [from, to] of [
    [undefined, 'nas1'],
    ['nas1', 'nas3'],
    ['nas1', undefined],
  ] as const) {
    it(`changing the owner (${from ?? 'none'} -> ${to ?? 'none'}) relabels every object in place: sets, ids kept, nothing re-created`, async () => {
      const { fake, port } = await start();
      await run(port, A, from);
      const before = flatnetRows(fake);
      // refused without --from-owner
      expect((await problems(port, A, to)).map((p) => p.path)).toEqual([
        ['networks', 'media'],
        ['networks', 'cams'],
      ]);
      const plan = await run(port, A, to, { from: from ?? null });
      expect(plan.changes.length).toBe(before.length);
      expect(plan.changes.every((c) => c.action === 'change' && c.props!.some((p) => p.key === 'comment'))).toBe(true);
      const after = flatnetRows(fake);
      expect(after.map((r) => `${r.menu} ${r['.id']}`)).toEqual(before.map((r) => `${r.menu} ${r['.id']}`));
      expect(after.every((r) => parseMark(r.comment)!.owner === to)).toBe(true);
      // everything else as it was
      const strip = (rows: typeof before) => rows.map((r) => ({ ...r, comment: r.comment!.replace(/@[a-z0-9-]+/, '') }));
      expect(strip(after)).toEqual(strip(before));
      expect(fake.rows('/interface/bridge/vlan').find((r) => r['vlan-ids'] === '20')!.comment).toBe(`${mark('media', to)}; was-pvid ether4=1`);
      expect((await run(port, A, to, { apply: false })).changes).toEqual([]);
    });
  }
});
