// The shape every target has: given the model and one router or host, the artifacts it renders.
// Router targets also expose their desired objects (the same data the templates render), which the
// plan/apply paths diff against the live router.
import type { Model } from './model.js';

export type TargetName = 'routeros' | 'openwrt' | 'docker' | 'compose' | 'host' | 'networkd';
export const TARGET_NAMES: readonly TargetName[] = ['routeros', 'openwrt', 'docker', 'compose', 'host', 'networkd'];

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
