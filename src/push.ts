// The registry of pushable targets: which PushUnit plans and applies each router type (and, later, hosts).
// Adding a pushable target is a folder under targets/ and one line here.
import { HostUnit, type HostPushOptions } from '../targets/host/push.js';
import { OpenWrtUnit, type OpenWrtPushOptions } from '../targets/openwrt/push.js';
import { RouterOSUnit, type RouterOSPushOptions } from '../targets/routeros/push.js';
import { checkSelection } from './targets.js';
import type { Model, RouterModel } from './model.js';
import { unsupportedUnit } from './plan/engine.js';
import type { PushUnit } from './plan/types.js';

export interface UnitSelection {
  /** only these routers (default: every router of the spec, unless switches or a host are named) */
  routers?: readonly string[];
  /** only these switches (default: every switch of the spec, unless routers or a host are named) */
  switches?: readonly string[];
  /** a Docker host on this machine */
  host?: string;
}

export type PushOptions = RouterOSPushOptions & OpenWrtPushOptions & HostPushOptions;

/** One unit class per bridge-device type: routers and switches of a type share it (capabilities tell them apart). */
const ROUTER_UNITS: Record<RouterModel['type'], (model: Model, router: RouterModel, options: PushOptions) => PushUnit> = {
  routeros: (model, router, options) => new RouterOSUnit(model, router as Extract<RouterModel, { type: 'routeros' }>, options),
  openwrt: (model, router, options) => new OpenWrtUnit(model, router as Extract<RouterModel, { type: 'openwrt' }>, options),
};

export function pushUnits(model: Model, selection: UnitSelection, options: PushOptions = {}): PushUnit[] {
  checkSelection(model, { routers: selection.routers ?? [], switches: selection.switches ?? [], hosts: selection.host !== undefined ? [selection.host] : [] });
  // naming any device limits the run to the named ones; naming none covers every router and switch
  const named = Boolean(selection.routers?.length || selection.switches?.length || selection.host !== undefined);
  const pick = (devices: readonly RouterModel[], names: readonly string[] | undefined) => (named ? devices.filter((d) => names?.includes(d.name)) : devices);
  // routers, then switches (the engine applies in that order too)
  const devices = [...pick(model.routers, selection.routers), ...pick(model.switches, selection.switches)];
  const units = devices.map((r) => ROUTER_UNITS[r.type](model, r, options));
  if (selection.host !== undefined) {
    const host = model.hosts.find((h) => h.name === selection.host)!;
    try {
      units.push(new HostUnit(model, host, options));
    } catch (err) {
      // e.g. DOCKER_HOST pointing somewhere flatnet cannot converge: that host's result says so
      units.push(unsupportedUnit({ kind: 'host', name: host.name, type: 'docker', endpoint: 'this machine' }, (err as Error).message));
    }
  }
  return units;
}
