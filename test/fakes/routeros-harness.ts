// Shared by the RouterOS tests that plan/apply specs against the fake router: the VLAN-network spec they
// write, and one plan (and apply) through the same RouterOSUnit the CLI uses. Test-only.
import { modelFromText } from '../../src/index.js';
import type { Change } from '../../src/plan/types.js';
import { RouterOSUnit } from '../../targets/routeros/push.js';

export interface VlanNet {
  vlan: number;
  /** the third octet of its 10.x.0.0/24 */
  third: number;
  access?: string[];
}

/** A router "core" on 127.0.0.1:`port` (password from $P) with these VLAN networks on host "nas". */
export function vlanSpecText(port: number, nets: Record<string, VlanNet>, trunk: string[] = []): string {
  return [
    'version: 1',
    'routers:',
    '  core:',
    '    type: routeros',
    '    address: 127.0.0.1',
    `    port: ${port}`,
    '    password-env: P',
    ...(trunk.length > 0 ? [`    trunk-ports: [${trunk.join(', ')}]`] : []),
    'hosts:',
    '  nas:',
    '    parent: eth0',
    Object.keys(nets).length > 0 ? 'networks:' : 'networks: {}',
    ...Object.entries(nets).flatMap(([name, n]) => [
      `  ${name}:`,
      '    router: core',
      '    host: nas',
      `    vlan: ${n.vlan}`,
      `    subnet: 10.${n.third}.0.0/24`,
      `    gateway: 10.${n.third}.0.1`,
      `    container-range: 10.${n.third}.0.64/26`,
      `    vlan-device: eth0.${n.vlan}`,
      ...(n.access ? [`    access-ports: [${n.access.join(', ')}]`] : []),
    ]),
    '',
  ].join('\n');
}

/** Plans the spec's first router (and applies it when `apply` and there is something to do). */
export async function planRouterOS(specText: string, password: string, apply = true): Promise<{ changes: Change[]; warnings: string[] }> {
  const model = modelFromText(specText);
  const unit = new RouterOSUnit(model, model.routers[0] as Extract<(typeof model.routers)[number], { type: 'routeros' }>, { env: { P: password } });
  try {
    const plan = await unit.plan(() => {});
    if (apply && plan.changes.length > 0) await unit.apply(() => {});
    return { changes: plan.changes, warnings: plan.warnings ?? [] };
  } finally {
    unit.close();
  }
}
