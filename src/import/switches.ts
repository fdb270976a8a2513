// import, RouterOS switches: each switch read with the plan's reads (RouterOSUnit.read: a switch reads its bridge,
// bridge ports and bridge VLAN table); its access ports (bridge ports whose pvid is a VLAN of the router its
// uplinks lead to) join that router's network as `access-ports: [<switch>:<port>]`.
import type { Model, RouterOSRouter } from '../model.js';
import type { LiveState } from '../../targets/routeros/diff.js';
import type { ImportReport } from './found.js';

const truthy = (v: string | undefined) => v === 'true' || v === 'yes';

/** The router at the top of a switch's chain of uplinks, or undefined when it ends elsewhere. */
function routerOf(model: Model, sw: RouterOSRouter): string | undefined {
  const seen = new Set<string>();
  let cur: { name: string; upstream?: { device: string } } | undefined = sw;
  while (cur?.upstream && !seen.has(cur.name)) {
    seen.add(cur.name);
    const up: string = cur.upstream.device;
    if (model.routers.some((r) => r.name === up)) return up;
    cur = model.switches.find((s) => s.name === up);
  }
  return undefined;
}

export function importSwitch(model: Model, sw: RouterOSRouter, live: LiveState, report: ImportReport): void {
  const router = routerOf(model, sw);
  const unmatched: string[] = [];
  for (const p of live.bridgePorts) {
    if (p.bridge !== sw.bridge || truthy(p.dynamic) || truthy(p.disabled) || p.interface === undefined || p.interface === sw.uplink) continue;
    const pvid = Number(p.pvid ?? '1');
    if (!(pvid > 1)) continue;
    const nets = report.networks.filter((n) => n.vlan === pvid && n.router !== undefined && (router === undefined || n.router === router));
    if (nets.length !== 1) {
      unmatched.push(`${p.interface} (pvid ${pvid}${nets.length > 1 ? `: VLAN ${pvid} of routers ${nets.map((n) => n.router).join(', ')}` : ''})`);
      continue;
    }
    const net = nets[0]!;
    const port = `${sw.name}:${p.interface}`;
    if (!net.accessPorts.includes(port)) net.accessPorts.push(port);
    const src = net.sources['access-ports'];
    const mine = `switch ${sw.name} /interface/bridge/port: pvid ${pvid}`;
    net.sources['access-ports'] = src === undefined ? `from ${mine}` : src.includes(mine) ? src : `${src}; ${mine}`;
  }
  if (unmatched.length > 0) {
    const msg = `switch ${sw.name}: bridge ports with a PVID that ${router ? `no network of router ${router}` : 'no single imported network'} has, not imported: ${unmatched.join(', ')}`;
    report.notes.push(msg);
    report.warnings.push(msg);
  }
  if (router === undefined && model.switches.some((s) => s.name === sw.name)) {
    report.notes.push(`switch ${sw.name}: its uplinks lead to no router of the spec: its access ports were matched by VLAN id alone`);
  }
}
