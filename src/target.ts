// The shape every target has: given the model and one router or host, the artifacts it renders.
// Router targets also expose their desired objects (the same data the templates render), which the
// plan/apply paths diff against the live router.
import { findBridgeDevice, type HostModel, type Model, type OpenWrtRouter, type RouterOSRouter } from './model.js';

export type TargetName = 'routeros' | 'openwrt' | 'openwrt-config' | 'docker' | 'compose' | 'host' | 'networkd';
export const TARGET_NAMES: readonly TargetName[] = ['routeros', 'openwrt', 'openwrt-config', 'docker', 'compose', 'host', 'networkd'];

export interface Artifact {
  target: TargetName;
  /** the router or host the artifact is for */
  owner: string;
  /** relative path under --out */
  path: string;
  content: string;
}

export interface Target {
  name: TargetName;
  /** router targets render per router of `routerType`; host targets per Docker host */
  scope: 'router' | 'host';
  routerType?: 'routeros' | 'openwrt';
  render(model: Model, owner: string): Artifact[];
}

type RouterOfType<T extends 'routeros' | 'openwrt'> = T extends 'routeros' ? RouterOSRouter : OpenWrtRouter;
type Rendered = Array<{ path: string; content: string }>;

/** A target rendered per router of one type. */
export function routerTarget<T extends 'routeros' | 'openwrt'>(name: TargetName, routerType: T, render: (model: Model, router: RouterOfType<T>) => Rendered): Target {
  return {
    name,
    scope: 'router',
    routerType,
    render(model, owner) {
      // a switch of the type renders through the same target (its capabilities leave out layer 3)
      const router = findBridgeDevice(model, owner);
      if (!router || router.type !== routerType) return [];
      return render(model, router as RouterOfType<T>).map((f) => ({ target: name, owner, ...f }));
    },
  };
}

/** A target rendered per Docker host that runs at least one network. */
export function hostTarget(name: TargetName, render: (model: Model, host: HostModel) => Rendered): Target {
  return {
    name,
    scope: 'host',
    render(model, owner) {
      const host = model.hosts.find((h) => h.name === owner);
      if (!host || host.attachments.length === 0) return [];
      return render(model, host).map((f) => ({ target: name, owner, ...f }));
    },
  };
}
