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
  /** only this host's artifacts (and, unless router is given too, no router artifacts) */
  host?: string;
}

/** --router / --host name routers and hosts of the spec (generate, plan and apply alike). */
export function checkSelection(model: Model, routers: readonly string[], host: string | undefined): void {
  for (const router of routers) {
    if (!model.routers.some((r) => r.name === router)) {
      throw new UserError(`no router named "${router}" in the spec (routers: ${model.routers.map((r) => r.name).join(', ') || 'none'})`);
    }
  }
  if (host !== undefined && !model.hosts.some((h) => h.name === host)) {
    throw new UserError(`no host named "${host}" in the spec (hosts: ${model.hosts.map((h) => h.name).join(', ') || 'none'})`);
  }
}

export function generate(model: Model, options: GenerateOptions = {}): Artifact[] {
  const { router, host } = options;
  checkSelection(model, router !== undefined ? [router] : [], host);
  const wanted = options.targets ?? TARGETS.map((t) => t.name);
  const targets = TARGETS.filter((t) => wanted.includes(t.name));
  const out: Artifact[] = [];
  for (const target of targets) {
    if (target.scope === 'router') {
      if (host !== undefined && router === undefined) continue;
      const routers = model.routers.filter((r) => r.type === target.routerType && (router === undefined || r.name === router));
      if (router !== undefined && routers.length === 0 && options.targets?.length === 1) {
        const type = model.routers.find((r) => r.name === router)!.type;
        throw new UserError(`router "${router}" is ${ROUTER_KIND[type] ?? `a ${type}`} router; use --target ${type}`);
      }
      for (const r of routers) out.push(...target.render(model, r.name));
    } else {
      if (router !== undefined && host === undefined) continue;
      for (const h of model.hosts.filter((x) => host === undefined || x.name === host)) out.push(...target.render(model, h.name));
    }
  }
  return out;
}
