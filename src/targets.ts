// The registry of targets and the generate step over it. Adding a target is adding a folder under targets/
// and one line here.
import { composeTarget, dockerTarget } from '../targets/docker/index.js';
import { networkdTarget, shimTarget } from '../targets/host/index.js';
import { openwrtConfigTarget } from '../targets/openwrt/config.js';
import { openwrtTarget } from '../targets/openwrt/index.js';
import { routerosTarget } from '../targets/routeros/index.js';
import { UserError } from './errors.js';
import type { Model } from './model.js';
import type { Artifact, Target, TargetName } from './target.js';

export const TARGETS: readonly Target[] = [routerosTarget, openwrtTarget, openwrtConfigTarget, dockerTarget, composeTarget, shimTarget, networkdTarget];

/** How a router type reads in a sentence ("router x is an OpenWrt router"). */
const ROUTER_KIND: Record<string, string> = { routeros: 'a RouterOS', openwrt: 'an OpenWrt' };

export interface GenerateOptions {
  /** default: all targets */
  targets?: readonly TargetName[];
  /** only this router's artifacts (and, unless host is given too, no host artifacts) */
  router?: string;
  /** only this switch's artifacts (as router) */
  switch?: string;
  /** only this host's artifacts (and, unless router or switch is given too, no router artifacts) */
  host?: string;
}

export interface Selection {
  routers?: readonly string[];
  switches?: readonly string[];
  hosts?: readonly string[];
}

/** --router / --switch / --host name routers, switches and hosts of the spec (generate, plan and apply alike). */
export function checkSelection(model: Model, selection: Selection): void {
  const check = (kind: string, plural: string, names: readonly string[] | undefined, have: ReadonlyArray<{ name: string }>, others: Array<[string, ReadonlyArray<{ name: string }>]>) => {
    for (const name of names ?? []) {
      if (have.some((d) => d.name === name)) continue;
      const other = others.find(([, list]) => list.some((d) => d.name === name));
      if (other) throw new UserError(`"${name}" is a ${other[0]} of the spec, not a ${kind}; use --${other[0]} ${name}`);
      throw new UserError(`no ${kind} named "${name}" in the spec (${plural}: ${have.map((d) => d.name).join(', ') || 'none'})`);
    }
  };
  check('router', 'routers', selection.routers, model.routers, [['switch', model.switches], ['host', model.hosts]]);
  check('switch', 'switches', selection.switches, model.switches, [['router', model.routers], ['host', model.hosts]]);
  check('host', 'hosts', selection.hosts, model.hosts, [['router', model.routers], ['switch', model.switches]]);
}

export function generate(model: Model, options: GenerateOptions = {}): Artifact[] {
  const { router, host } = options;
  const device = router ?? options.switch;
  checkSelection(model, { routers: router !== undefined ? [router] : [], switches: options.switch !== undefined ? [options.switch] : [], hosts: host !== undefined ? [host] : [] });
  const wanted = options.targets ?? TARGETS.map((t) => t.name);
  const targets = TARGETS.filter((t) => wanted.includes(t.name));
  const devices = [...model.routers, ...model.switches];
  const selected = [router, options.switch].filter((d): d is string => d !== undefined);
  const out: Artifact[] = [];
  for (const target of targets) {
    if (target.scope === 'router') {
      if (host !== undefined && device === undefined) continue;
      const matching = devices.filter((r) => r.type === target.routerType && (selected.length === 0 || selected.includes(r.name)));
      if (selected.length === 0 && options.targets?.length === 1 && !devices.some((r) => r.type === target.routerType)) {
        const have = [...new Set(devices.map((d) => d.type))].map((t) => `${ROUTER_KIND[t]?.replace(/^an? /, '') ?? t} (${devices.filter((d) => d.type === t).map((d) => d.name).join(', ')})`);
        throw new UserError(`--target ${target.name}: the spec has no ${ROUTER_KIND[target.routerType!]?.replace(/^an? /, '') ?? target.routerType} router or switch${have.length > 0 ? `; it has ${have.join(' and ')}: use --target ${[...new Set(devices.map((d) => d.type))].join(' or --target ')}` : ''}`);
      }
      if (selected.length > 0 && matching.length === 0 && options.targets?.length === 1) {
        const d = devices.find((r) => r.name === selected[0])!;
        throw new UserError(`${d.kind} "${d.name}" is ${ROUTER_KIND[d.type] ?? `a ${d.type}`} ${d.kind}; use --target ${d.type}`);
      }
      for (const r of matching) out.push(...target.render(model, r.name));
    } else {
      if (device !== undefined && host === undefined) continue;
      for (const h of model.hosts.filter((x) => host === undefined || x.name === host)) out.push(...target.render(model, h.name));
    }
  }
  return out;
}
