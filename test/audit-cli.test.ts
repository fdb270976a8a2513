// The audit end to end on the fake RouterOS (127.0.0.1): apply, then a user's temporary accept placed above
// flatnet's drop over the API; plan warns (text and --json findings), --explain shows the flow table, status
// exits 2, and apply still changes only flatnet's objects.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runApply, runPlan, runStatus } from '../src/plan/run.js';
import { RosClient } from '../targets/routeros/api.js';
import { captureIo } from './fakes/capture-io.js';
import { FakeRouterOS } from './fakes/routeros-fake.js';

let scratch = '';
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'flatnet-audit-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const io = () => captureIo();

const spec = (port: number) => `version: 1
routers:
  core:
    type: routeros
    address: 127.0.0.1
    port: ${port}
    password-env: P
hosts:
  nas:
    parent: eth0
networks:
  media:
    router: core
    host: nas
    vlan: 70
    subnet: 10.70.0.0/24
    gateway: 10.70.0.1
    container-range: 10.70.0.64/26
    firewall:
      from: [lan]
      allow-input: [dns]
`;

describe('audit through plan, status and apply', () => {
  it('a foreign accept above the drop: warned, listed, explained, counted, and left alone', async () => {
    const fake = new FakeRouterOS({ password: 'pw' });
    fake.seedDefaults();
    const port = await fake.start();
    try {
      const file = join(scratch, 'audit.yaml');
      writeFileSync(file, spec(port));
      // a first plan audits the firewall as the apply will leave it: no finding although no rule is in yet
      const first = io();
      expect(await runPlan(file, {}, first.io)).toBe(0);
      expect(first.out()).not.toContain('warning:');
      expect(await runApply(file, { yes: true }, io().io)).toBe(0);

      const client = await RosClient.connect({ host: '127.0.0.1', port, user: 'admin', password: 'pw' });
      try {
        const rules = (await client.command(['/ip/firewall/filter/print'])).rows;
        const firstFlatnet = rules.find((r) => r.chain === 'forward' && (r.comment ?? '').startsWith('flatnet:'))!;
        await client.command(['/ip/firewall/filter/add', '=chain=forward', '=action=accept', '=in-interface=vlan70-media', '=comment=temporary: debugging', `=place-before=${firstFlatnet['.id']}`]);
      } finally {
        client.close();
      }
      const before = fake.rows('/ip/firewall/filter').length;

      const plan = io();
      expect(await runPlan(file, { detailedExitcode: true }, plan.io)).toBe(0);
      expect(plan.out()).toMatch(/no changes: the router matches the spec/);
      expect(plan.out()).toMatch(/warning: media: media → lan is accepted live but the spec says drop \(firewall\.to has no lan\); decided by foreign rule #\d+ \*[0-9A-F]+ in forward \(accept in-interface=vlan70-media\) "temporary: debugging": remove or narrow that rule/);

      const json = io();
      await runPlan(file, { json: true }, json.io);
      const findings = JSON.parse(json.out()).units[0].findings;
      expect(findings).toEqual([
        expect.objectContaining({ network: 'media', flow: 'media → lan', family: 4, expected: 'drop', live: 'accept', rule: expect.objectContaining({ chain: 'forward', comment: 'temporary: debugging', owned: false }) }),
      ]);

      const explain = io();
      await runPlan(file, { explain: 'media' }, explain.io);
      expect(explain.out()).toMatch(/Flows of media on router core/);
      expect(explain.out()).toMatch(/media → lan\s+drop\s+accept\s+FINDING\s+foreign rule/);
      expect(explain.out()).toMatch(/lan → media\s+accept\s+accept\s+ok\s+flatnet rule/);

      const status = io();
      expect(await runStatus(file, {}, status.io)).toBe(2);
      expect(status.out()).toMatch(/media \(VLAN 70\)\s+core in sync, 1 audit finding/);

      // apply has nothing of its own to change and leaves the user's rule where it is
      expect(await runApply(file, { yes: true }, io().io)).toBe(0);
      expect(fake.rows('/ip/firewall/filter').length).toBe(before);
      expect(fake.rows('/ip/firewall/filter').some((r) => r.comment === 'temporary: debugging')).toBe(true);
    } finally {
      await fake.stop();
    }
  });

  it('--explain names an unknown network as an error', async () => {
    const file = join(scratch, 'unknown.yaml');
    writeFileSync(file, spec(1));
    await expect(runPlan(file, { explain: 'nope' }, io().io)).rejects.toThrow('--explain: no network named "nope" in the spec (networks: media)');
  });
});

describe('audit in the OpenWrt plan (pure, on OpenWrt defaults)', () => {
  it('a first plan has no finding; a foreign rule accepting cams → lan is a warning naming the section', async () => {
    const { loadModel } = await import('../src/index.js');
    const { planOpenWrt } = await import('../targets/openwrt/diff.js');
    const { parseUciExport } = await import('../targets/openwrt/uci.js');
    const { defaultOpenWrtConfig } = await import('./fakes/openwrt-router.js');
    const model = loadModel(join(dirname(fileURLToPath(import.meta.url)), '..', 'examples', 'openwrt-trunk.yaml'));
    const router = model.routers[0] as Parameters<typeof planOpenWrt>[1];
    const live = (extraFirewall = '') => ({
      sections: (['network', 'firewall', 'dhcp'] as const).flatMap((c) => parseUciExport(defaultOpenWrtConfig(c) + (c === 'firewall' ? extraFirewall : ''), c)),
      hasUbus: true,
      staged: [],
    });
    const first = planOpenWrt(model, router, live());
    expect(first.audit!.length).toBeGreaterThan(10);
    expect(first.warnings.filter((w) => w.includes(' live but '))).toEqual([]);
    const zone = model.networks.find((n) => n.name === 'cams')!.names.firewallZone;
    const foreign = `\nconfig rule 'temp_cams'\n\toption name 'debug cams'\n\toption src '${zone}'\n\toption dest 'lan'\n\toption proto 'all'\n\toption target 'ACCEPT'\n`;
    const second = planOpenWrt(model, router, live(foreign));
    const found = second.warnings.filter((w) => w.includes(' live but '));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^cams: cams → lan is accepted live but the spec says drop .*temp_cams/);
  });
});
