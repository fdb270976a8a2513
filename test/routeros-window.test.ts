// "No open window": after every single change an apply makes, the forward chain of the (fake) router is
// evaluated for a new connection from each enabled flatnet VLAN to the LAN and to the other flatnet VLANs
// that neither the old nor the new spec lets it reach. None may be accepted at any moment.
import { afterEach, describe, expect, it } from 'vitest';
import { modelFromText } from '../src/index.js';
import { RouterOSUnit } from '../targets/routeros/push.js';
import { RosClient } from '../targets/routeros/api.js';
import { FakeRouterOS } from './fakes/routeros-fake.js';
import { deniedByAll, leaks } from './fakes/firewall-check.js';

const PASSWORD = 'window';
const fakes: FakeRouterOS[] = [];
afterEach(async () => {
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
}

function specText(port: number, nets: Net[]): string {
  const lines = ['version: 1', 'routers:', '  core:', '    type: routeros', '    address: 127.0.0.1', `    port: ${port}`, '    password-env: P', 'hosts:', '  nas:', '    parent: eth0', 'networks:'];
  for (const n of nets) {
    lines.push(
      `  ${n.name}:`,
      '    router: core',
      '    host: nas',
      `    vlan: ${n.vlan}`,
      `    subnet: 10.${n.third}.0.0/24`,
      `    gateway: 10.${n.third}.0.1`,
      `    container-range: 10.${n.third}.0.64/26`,
      '    firewall:',
      `      internet: ${n.internet ?? true}`,
      `      from: [${(n.from ?? ['lan']).join(', ')}]`,
      `      to: [${(n.to ?? []).join(', ')}]`,
      `      allow-input: [${(n.allowInput ?? ['dns']).join(', ')}]`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function applySpec(fake: FakeRouterOS, port: number, nets: Net[]): Promise<number> {
  const model = modelFromText(specText(port, nets));
  const unit = new RouterOSUnit(model, model.routers[0] as Extract<(typeof model.routers)[number], { type: 'routeros' }>, { env: { P: PASSWORD } });
  try {
    const plan = await unit.plan(() => {});
    if (plan.changes.length > 0) await unit.apply(() => {});
    return plan.changes.length;
  } finally {
    unit.close();
  }
}

async function start(): Promise<{ fake: FakeRouterOS; port: number }> {
  const fake = new FakeRouterOS({ password: PASSWORD });
  fake.seedDefaults();
  fakes.push(fake);
  return { fake, port: await fake.start() };
}

describe('RouterOS apply never opens a window', () => {
  it('the checker sees a leak when a flatnet drop is missing (it can fail)', async () => {
    const { fake, port } = await start();
    const nets: Net[] = [{ name: 'cams', vlan: 30, third: 30 }];
    await applySpec(fake, port, nets);
    expect(leaks(fake, deniedByAll(nets))).toEqual([]);
    const c = await RosClient.connect({ host: '127.0.0.1', port, user: 'admin', password: PASSWORD });
    const drops = fake.rows('/ip/firewall/filter').filter((r) => r.comment === 'flatnet:cams' && r.chain === 'forward' && r.action === 'drop');
    await c.command(['/ip/firewall/filter/remove', `=numbers=${drops.map((d) => d['.id']).join(',')}`]);
    c.close();
    expect(leaks(fake, deniedByAll(nets))).toEqual(['cams>lan v4 (vlan30-cams -> bridge)']);
  });

  it('fresh apply, firewall changes, a renamed VLAN and a removed network: no change leaves a denied flow open', async () => {
    const { fake, port } = await start();
    const v1: Net[] = [
      { name: 'cams', vlan: 30, third: 30 },
      { name: 'iot', vlan: 40, third: 40, internet: false },
      { name: 'media', vlan: 50, third: 50, to: ['cams'] },
    ];
    const v2: Net[] = [
      { name: 'cams', vlan: 30, third: 30, internet: false, from: ['lan', 'iot'], allowInput: ['dns', 'ntp'] },
      { name: 'iot', vlan: 41, third: 41, internet: true },
      { name: 'media', vlan: 50, third: 50, to: [] },
    ];
    const v3: Net[] = [{ name: 'cams', vlan: 30, third: 30, internet: false, allowInput: ['dns', 'ntp'] }];
    const steps: Array<[Net[], Net[]]> = [
      [[], v1],
      [v1, v2],
      [v2, v3],
      [v3, v1],
    ];
    for (const [before, after] of steps) {
      // flows every spec that knows both ends denies; a network in one spec only is checked while it exists
      const both = deniedByAll(...(before.length > 0 ? [before, after] : [after]));
      const seen: string[] = [];
      let changes = 0;
      fake.options.afterChange = (entry) => {
        changes++;
        for (const l of leaks(fake, both)) seen.push(`after ${entry.command} ${entry.words.join(' ')}: ${l}`);
      };
      const planned = await applySpec(fake, port, after);
      fake.options.afterChange = undefined;
      expect(planned).toBeGreaterThan(0);
      expect(changes).toBeGreaterThan(0);
      expect(seen).toEqual([]);
      expect(leaks(fake, deniedByAll(after))).toEqual([]);
      expect(await applySpec(fake, port, after)).toBe(0);
    }
  });
});
