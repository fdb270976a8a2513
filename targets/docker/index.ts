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

/**
 * `docker network inspect -f` format that prints a network's settings as space-separated key=value words in
 * the order of networkSettings. The docker CLI runs it on the raw JSON (the typed struct has no
 * AuxiliaryAddresses field, so it falls back), where a key the daemon leaves out is an error: every optional
 * key is reached by ranging over its map, and Go's templates range over maps in sorted key order.
 */
export const NETWORK_INSPECT_FORMAT =
  'driver={{.Driver}}' +
  '{{range $k, $v := .Options}}{{if eq $k "parent" "ipvlan_mode"}} {{$k}}={{$v}}{{end}}{{end}}' +
  ' ipv6={{.EnableIPv6}}' +
  '{{range .IPAM.Config}}{{range $k, $v := .}}' +
  '{{if eq $k "AuxiliaryAddresses"}}{{range $name, $ip := $v}} aux-address={{$name}}={{$ip}}{{end}}' +
  '{{else if eq $k "Gateway"}} gateway={{$v}}{{else if eq $k "IPRange"}} ip-range={{$v}}{{else if eq $k "Subnet"}} subnet={{$v}}{{end}}' +
  '{{end}}{{end}}' +
  `{{range $k, $v := .Labels}}{{if eq $k "${FLATNET_LABEL}"}} label={{$k}}={{$v}}{{end}}{{end}}`;

const byCodeUnit = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);

/** What NETWORK_INSPECT_FORMAT prints for the network that networkCreateArgs creates. */
export function networkSettings(model: Model, a: Attachment): string {
  const n = findNetwork(model, a.network);
  const dual = n.ipv6 !== undefined && a.ipv6 !== undefined;
  const words = [`driver=${a.driver}`];
  if (a.driver === 'ipvlan') words.push('ipvlan_mode=l2');
  words.push(`parent=${a.link}`, `ipv6=${dual}`);
  // Docker puts each aux address into the subnet that holds it; the IPv6 ones contain ':'
  const aux = (v6: boolean) =>
    a.auxAddresses
      .filter((x) => x.address.includes(':') === v6)
      .sort((x, y) => byCodeUnit(x.name, y.name))
      .map((x) => `aux-address=${x.name}=${x.address}`);
  // per subnet in the JSON's key order: AuxiliaryAddresses, Gateway, IPRange, Subnet
  words.push(...aux(false), `gateway=${n.ipv4.gateway}`, `ip-range=${a.ipv4.ipRange}`, `subnet=${n.ipv4.subnet}`);
  if (dual) {
    words.push(...aux(true), `gateway=${n.ipv6!.gateway}`);
    if (a.ipv6!.ipRange) words.push(`ip-range=${a.ipv6!.ipRange}`);
    words.push(`subnet=${n.ipv6!.subnet}`);
  }
  words.push(`label=${FLATNET_LABEL}=${a.network}`);
  return words.join(' ');
}

export const dockerTarget: Target = hostTarget('docker', (model, host) => [
  {
    path: `docker/${host.name}.sh`,
    content: renderTemplate('docker', 'networks.sh', {
      format: NETWORK_INSPECT_FORMAT,
      networks: host.attachments.map((a) => ({ name: a.network, want: networkSettings(model, a), args: networkCreateArgs(model, a) })),
    }),
  },
]);

export const composeTarget: Target = hostTarget('compose', (_model, host) => [
  {
    path: `compose/${host.name}.yaml`,
    content: renderTemplate('docker', 'compose.yaml', {
      host: host.name,
      networks: host.attachments.map((a) => ({ name: a.network, range: a.ipv4.ipRange })),
      // the example shows a dual-stack network when there is one, so that ipv6_address is shown too
      example: exampleNetwork(host.attachments),
    }),
  },
]);

function exampleNetwork(attachments: Attachment[]): { name: string; range: string; range6: string | null } {
  const a = attachments.find((x) => x.ipv6) ?? attachments[0]!;
  return { name: a.network, range: a.ipv4.ipRange, range6: a.ipv6 ? (a.ipv6.ipRange ?? a.ipv6.route) : null };
}
