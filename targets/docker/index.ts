// Docker: one `docker network create` per network on each host, and a compose `networks:` snippet that lets
// services join those networks by name.
import type { Attachment, Model } from '../../src/model.js';
import { findNetwork } from '../../src/model.js';
import { renderTemplate } from '../../src/render.js';
import { hostTarget, type Target } from '../../src/target.js';

export const FLATNET_LABEL = 'flatnet.network';

/** The arguments after `docker network create`, in order (the network name last). */
export function networkCreateArgs(model: Model, a: Attachment): string[] {
  const n = findNetwork(model, a.network);
  const args = ['-d', a.driver];
  args.push(`--subnet=${n.ipv4.subnet}`, `--gateway=${n.ipv4.gateway}`, `--ip-range=${a.ipv4.ipRange}`);
  if (n.ipv6 && a.ipv6) {
    args.push('--ipv6', `--subnet=${n.ipv6.subnet}`, `--gateway=${n.ipv6.gateway}`);
    if (a.ipv6.ipRange) args.push(`--ip-range=${a.ipv6.ipRange}`);
  }
  // The shims' addresses are reserved so Docker never hands them to a container.
  for (const aux of a.auxAddresses) args.push(`--aux-address=${aux.name}=${aux.address}`);
  args.push('-o', `parent=${a.link}`);
  if (a.driver === 'ipvlan') args.push('-o', 'ipvlan_mode=l2');
  // the label marks the network as flatnet's: `apply --host` replaces or removes only labelled networks
  args.push(`--label=${FLATNET_LABEL}=${a.network}`);
  args.push(a.network);
  return args;
}

export const dockerTarget: Target = hostTarget('docker', (model, host) => [
  {
    path: `docker/${host.name}.sh`,
    content: renderTemplate('docker', 'networks.sh', { commands: host.attachments.map((a) => ({ args: networkCreateArgs(model, a) })) }),
  },
]);

export const composeTarget: Target = hostTarget('compose', (_model, host) => [
  {
    path: `compose/${host.name}.yaml`,
    content: renderTemplate('docker', 'compose.yaml', {
      host: host.name,
      networks: host.attachments.map((a) => ({ name: a.network, range: a.ipv4.ipRange })),
    }),
  },
]);
