// import, switches: each switch read with the plan's reads (RouterOS: RouterOSUnit.read, its bridge, bridge ports
// and bridge VLAN table; OpenWrt: OpenWrtUnit.read, its `uci export`); its access ports (ports whose PVID is a
// VLAN of the router its uplinks lead to) join that router's network as `access-ports: [<switch>:<port>]`.
// Each type only finds its (port, VLAN) pairs; matching them to the imported networks is shared.
import type { BridgeDevice, Model, OpenWrtRouter, RouterOSRouter } from '../model.js';
import type { LiveState } from '../../targets/routeros/diff.js';
import type { OpenWrtLive } from '../../targets/openwrt/diff.js';
import type { ImportReport } from './found.js';
import { bridgeVlanPorts, opt, truthy } from './rows.js';

/** One port of a switch found untagged with a VLAN as its PVID. */
export interface SwitchAccessPort {
  port: string;
  vlan: number;
  /** where it was read, for the draft's comment (`switch sw1 /interface/bridge/port: pvid 400`) */
  source: string;
  /** how the switch says the VLAN, for a port no network takes (`pvid 400`, `bridge-vlan 400`) */
  label: string;
}

/** The router at the top of a switch's chain of uplinks, or undefined when it ends elsewhere. */
function routerOf(model: Model, sw: BridgeDevice): string | undefined {
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

/**
 * Puts each found port on the one imported network of its VLAN (of the router the switch's uplinks lead to);
 * a port whose VLAN no such network has is said once, as a note and a warning. `what` names those ports.
 */
function joinAccessPorts(model: Model, sw: BridgeDevice, found: readonly SwitchAccessPort[], what: string, report: ImportReport): void {
  const router = routerOf(model, sw);
  const unmatched: string[] = [];
  for (const f of found) {
    const nets = report.networks.filter((n) => n.vlan === f.vlan && n.router !== undefined && (router === undefined || n.router === router));
    if (nets.length !== 1) {
      unmatched.push(`${f.port} (${f.label}${nets.length > 1 ? `: VLAN ${f.vlan} of routers ${nets.map((n) => n.router).join(', ')}` : ''})`);
      continue;
    }
    const net = nets[0]!;
    const port = `${sw.name}:${f.port}`;
    if (!net.accessPorts.includes(port)) net.accessPorts.push(port);
    const src = net.sources['access-ports'];
    net.sources['access-ports'] = src === undefined ? `from ${f.source}` : src.includes(f.source) ? src : `${src}; ${f.source}`;
  }
  if (unmatched.length > 0) {
    const msg = `switch ${sw.name}: ${what} that ${router ? `no network of router ${router}` : 'no single imported network'} has, not imported: ${unmatched.join(', ')}`;
    report.notes.push(msg);
    report.warnings.push(msg);
  }
  if (router === undefined && model.switches.some((s) => s.name === sw.name)) {
    report.notes.push(`switch ${sw.name}: its uplinks lead to no router of the spec: its access ports were matched by VLAN id alone`);
  }
}

/** RouterOS: the bridge's ports (not dynamic, not disabled, not the uplink) with a PVID other than the default 1. */
export function importSwitch(model: Model, sw: RouterOSRouter, live: LiveState, report: ImportReport): void {
  const found: SwitchAccessPort[] = [];
  for (const p of live.bridgePorts) {
    if (p.bridge !== sw.bridge || truthy(p.dynamic) || truthy(p.disabled) || p.interface === undefined || p.interface === sw.uplink) continue;
    const pvid = Number(p.pvid ?? '1');
    if (!(pvid > 1)) continue;
    found.push({ port: p.interface, vlan: pvid, source: `switch ${sw.name} /interface/bridge/port: pvid ${pvid}`, label: `pvid ${pvid}` });
  }
  joinAccessPorts(model, sw, found, 'bridge ports with a PVID', report);
}

/**
 * OpenWrt (DSA): the ports `<port>:u*` (untagged, PVID) of the bridge-vlan sections on the switch's device, but
 * the LAN's own (lan-vlan: the untagged LAN, not a network) and the uplink (it carries the VLANs up, tagged).
 * Tagged ports (`:t`) only carry a VLAN through; a port untagged without PVID is said, not imported (the
 * router import does the same).
 */
export function importOpenWrtSwitch(model: Model, sw: OpenWrtRouter, live: OpenWrtLive, report: ImportReport): void {
  const found: SwitchAccessPort[] = [];
  const noPvid: string[] = [];
  const unknown: string[] = [];
  const bridgeVlans = live.sections.filter((s) => s.config === 'network' && s.type === 'bridge-vlan');
  bridgeVlans.forEach((bv, i) => {
    if (opt(bv, 'device') !== sw.device || opt(bv, 'disabled') === '1') return;
    const vlan = Number(opt(bv, 'vlan'));
    if (!Number.isInteger(vlan) || vlan === sw.lanVlan) return;
    // anonymous sections as uci names them: by index among the config's sections of that type
    const section = `network.${bv.name ?? `@bridge-vlan[${i}]`}`;
    for (const { port, kind, word } of bridgeVlanPorts(bv)) {
      if (port === sw.uplink || kind === 'tagged') continue;
      if (kind === 'access') found.push({ port, vlan, source: `switch ${sw.name} ${section} ports: untagged with PVID`, label: `bridge-vlan ${vlan}` });
      else if (kind === 'untagged') noPvid.push(`${port} (bridge-vlan ${vlan})`);
      else unknown.push(`${word} (bridge-vlan ${vlan})`);
    }
  });
  if (noPvid.length > 0) report.notes.push(`switch ${sw.name}: ports untagged without PVID, not imported: ${noPvid.join(', ')}`);
  if (unknown.length > 0) report.notes.push(`switch ${sw.name}: ports it cannot read (a port is <port>, <port>:u, <port>:u* or <port>:t), not imported: ${unknown.join(', ')}`);
  joinAccessPorts(model, sw, found, `bridge-vlan ports untagged with PVID (:u*) in a VLAN`, report);
}
