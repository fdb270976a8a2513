// Shared by the RouterOS switch tests and bench/path-apply.mjs: a router "core" and a switch "sw1" (uplink
// ether1 cabled to core:ether2), the NAS on a switch port, VLAN networks with optional switch access ports;
// a fake CRS switch (ether1..ether8 all bridge ports, vlan-filtering on); one plan (and apply) of a device
// through the same RouterOSUnit the CLI uses. Test-only; every address is 127.0.0.1.
import { modelFromText, type Model } from '../../src/index.js';
import type { Change } from '../../src/plan/types.js';
import { RouterOSUnit } from '../../targets/routeros/push.js';
import { FakeRouterOS, type FakeRouterOptions } from './routeros-fake.js';

export type RouterOSDevice = Extract<Model['routers'][number], { type: 'routeros' }>;

export interface SwitchedNet {
  vlan: number;
  /** the third octet of its 10.x.0.0/24 */
  third: number;
  /** access ports, `sw1:<port>` for the switch's */
  access?: string[];
}

export interface SwitchedSpec {
  corePort: number;
  swPort: number;
  nets: Record<string, SwitchedNet>;
  /** the switch port the NAS is cabled to (default ether5) */
  hostPort?: string;
}

export function switchedSpecText(s: SwitchedSpec): string {
  return [
    'version: 1',
    'routers:',
    '  core:',
    '    type: routeros',
    '    address: 127.0.0.1',
    `    port: ${s.corePort}`,
    '    password-env: P',
    'switches:',
    '  sw1:',
    '    type: routeros',
    '    address: 127.0.0.1',
    `    port: ${s.swPort}`,
    '    password-env: P',
    '    uplink: ether1',
    '    connected-to: core:ether2',
    'hosts:',
    '  nas:',
    '    parent: eth0',
    `    connected-to: sw1:${s.hostPort ?? 'ether5'}`,
    Object.keys(s.nets).length > 0 ? 'networks:' : 'networks: {}',
    ...Object.entries(s.nets).flatMap(([name, n]) => [
      `  ${name}:`,
      '    router: core',
      '    host: nas',
      `    vlan: ${n.vlan}`,
      `    subnet: 10.${n.third}.0.0/24`,
      `    gateway: 10.${n.third}.0.1`,
      `    container-range: 10.${n.third}.0.64/26`,
      ...(n.access ? [`    access-ports: [${n.access.join(', ')}]`] : []),
    ]),
    '',
  ].join('\n');
}

export function switchedModel(s: SwitchedSpec): { model: Model; core: RouterOSDevice; sw1: RouterOSDevice } {
  const model = modelFromText(switchedSpecText(s));
  return { model, core: model.routers[0] as RouterOSDevice, sw1: model.switches[0] as RouterOSDevice };
}

/** A CRS-like switch: ether1..ether8, every one a port of "bridge" (pvid 1), VLAN filtering on. */
export function seedSwitch(fake: FakeRouterOS): void {
  for (let i = 1; i <= 8; i++) fake.addRow('/interface/ethernet', { name: `ether${i}`, 'default-name': `ether${i}`, mtu: '1500' });
  fake.addRow('/interface/bridge', { name: 'bridge', comment: 'defconf', 'vlan-filtering': 'yes' });
  for (let i = 1; i <= 8; i++) fake.addRow('/interface/bridge/port', { bridge: 'bridge', interface: `ether${i}`, comment: 'defconf' });
}

export async function startSwitch(options: FakeRouterOptions): Promise<{ fake: FakeRouterOS; port: number }> {
  const fake = new FakeRouterOS(options);
  seedSwitch(fake);
  return { fake, port: await fake.start() };
}

export async function startRouter(options: FakeRouterOptions): Promise<{ fake: FakeRouterOS; port: number }> {
  const fake = new FakeRouterOS(options);
  fake.seedDefaults();
  return { fake, port: await fake.start() };
}

/** Plans one device of the model (and applies it when `apply` and there is something to do). */
export async function planDevice(model: Model, device: RouterOSDevice, password: string, apply = true): Promise<{ changes: Change[]; warnings: string[]; unit: RouterOSUnit }> {
  const unit = new RouterOSUnit(model, device, { env: { P: password } });
  try {
    const plan = await unit.plan(() => {});
    if (apply && plan.changes.length > 0) await unit.apply(() => {});
    return { changes: plan.changes, warnings: plan.warnings, unit };
  } finally {
    unit.close();
  }
}
