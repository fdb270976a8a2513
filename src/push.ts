// The registry of pushable targets: which PushUnit plans and applies each router type and the Docker hosts.
// Adding a pushable target is a folder under targets/ and one line here.
import { HostUnit, type HostPushOptions } from '../targets/host/push.js';
import { OpenWrtUnit, type OpenWrtPushOptions } from '../targets/openwrt/push.js';
import { RouterOSUnit, type RouterOSPushOptions } from '../targets/routeros/push.js';
import { checkSelection } from './targets.js';
import type { HostModel, Model, RouterModel } from './model.js';
import { notPlannedUnit, unsupportedUnit } from './plan/engine.js';
import { shellQuote } from './quote.js';
import type { PushUnit } from './plan/types.js';

export interface UnitSelection {
  /** only these routers (default: every router of the spec, unless switches or a host are named) */
  routers?: readonly string[];
  /** only these switches (default: every switch of the spec, unless routers or a host are named) */
  switches?: readonly string[];
  /** a Docker host: over SSH when the spec gives it `ssh`, else this machine */
  host?: string;
  /** more hosts, as `host` (the CLI's repeated --host) */
  hosts?: readonly string[];
}

export type PushOptions = RouterOSPushOptions & OpenWrtPushOptions & HostPushOptions & {
  /** the spec as the user named it: the command a local host is told to run names it */
  specFile?: string;
};

/** One unit class per bridge-device type: routers and switches of a type share it (capabilities tell them apart). */
const ROUTER_UNITS: Record<RouterModel['type'], (model: Model, router: RouterModel, options: PushOptions) => PushUnit> = {
  routeros: (model, router, options) => new RouterOSUnit(model, router as Extract<RouterModel, { type: 'routeros' }>, options),
  openwrt: (model, router, options) => new OpenWrtUnit(model, router as Extract<RouterModel, { type: 'openwrt' }>, options),
};

export function pushUnits(model: Model, selection: UnitSelection, options: PushOptions = {}): PushUnit[] {
  const hostNames = [...new Set([...(selection.hosts ?? []), ...(selection.host !== undefined ? [selection.host] : [])])];
  checkSelection(model, { routers: selection.routers ?? [], switches: selection.switches ?? [], hosts: hostNames });
  // naming any device limits the run to the named ones; naming none covers every router, switch and host
  const named = Boolean(selection.routers?.length || selection.switches?.length || hostNames.length);
  const pick = (devices: readonly RouterModel[], names: readonly string[] | undefined) => (named ? devices.filter((d) => names?.includes(d.name)) : devices);
  // routers, then switches, then hosts (the engine applies in that order too)
  const devices = [...pick(model.routers, selection.routers), ...pick(model.switches, selection.switches)];
  const units = devices.map((r) => ROUTER_UNITS[r.type](model, r, options));
  const hosts = named ? model.hosts.filter((h) => hostNames.includes(h.name)) : model.hosts;
  for (const host of hosts) {
    // without a filter, a host without ssh cannot be reached from here: listed, with what to run on it
    if (!named && !host.ssh) {
      units.push(notPlannedUnit({ kind: 'host', name: host.name, type: 'docker', endpoint: 'local to that host: no ssh in the spec' }, localHostHint(host, options.specFile)));
      continue;
    }
    try {
      units.push(new HostUnit(model, host, options));
    } catch (err) {
      // e.g. DOCKER_HOST pointing somewhere flatnet cannot converge: that host's result says so
      units.push(unsupportedUnit({ kind: 'host', name: host.name, type: 'docker', endpoint: host.ssh ? `ssh ${host.ssh.user}@${host.ssh.address}` : 'this machine' }, (err as Error).message));
    }
  }
  return units;
}

/** What to run on a host that has no `ssh`, or how to reach it from here. */
export function localHostHint(host: HostModel, specFile?: string): string {
  const spec = specFile === undefined || specFile === '-' ? 'flatnet.yaml' : shellQuote(specFile);
  return `a local host: run \`sudo flatnet-router plan ${spec} --host ${host.name}\` (then apply) on ${host.name} itself, or give it hosts.${host.name}.ssh: user@address to reach it from here`;
}
