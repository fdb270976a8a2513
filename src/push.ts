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
  /** only these routers (default: every router of the spec) */
  routers?: readonly string[];
  /** a Docker host on this machine */
  host?: string;
}

export type PushOptions = RouterOSPushOptions & OpenWrtPushOptions & HostPushOptions;

const ROUTER_UNITS: Record<RouterModel['type'], (model: Model, router: RouterModel, options: PushOptions) => PushUnit> = {
  routeros: (model, router, options) => new RouterOSUnit(model, router as Extract<RouterModel, { type: 'routeros' }>, options),
  openwrt: (model, router, options) => new OpenWrtUnit(model, router as Extract<RouterModel, { type: 'openwrt' }>, options),
};

export function pushUnits(model: Model, selection: UnitSelection, options: PushOptions = {}): PushUnit[] {
  checkSelection(model, selection.routers ?? [], selection.host);
  const routers = selection.routers?.length
    ? model.routers.filter((r) => selection.routers!.includes(r.name))
    : selection.host !== undefined
      ? [] // --host alone does only that host
      : model.routers;
  const units = routers.map((r) => ROUTER_UNITS[r.type](model, r, options));
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
