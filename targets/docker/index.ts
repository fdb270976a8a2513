// Docker: one `docker network create` per network on each host, and a compose `networks:` snippet that lets
// services join those networks by name.
import type { Attachment, Model } from '../../src/model.js';
import { findNetwork } from '../../src/model.js';
import { renderTemplate } from '../../src/render.js';
import { hostTarget, type Target } from '../../src/target.js';
import { DOCKER_NETWORK_LABEL, DOCKER_OWNER_LABEL, dockerLabels } from '../../src/ownership.js';
import type { IpamConfig, NetworkCreate } from './engine.js';

/**
 * The Docker network of one attachment, as the Engine API takes it: the one description that `apply --host`
 * sends, and that the generated script's create arguments and settings check are derived from.
 */
export function dockerNetwork(model: Model, a: Attachment): NetworkCreate {
  const n = findNetwork(model, a.network);
  // The shims' addresses are reserved so Docker never hands them to a container; each goes into the
  // subnet of its family, where Docker keeps it.
  const aux = (v6: boolean) => Object.fromEntries(a.auxAddresses.filter((x) => x.address.includes(':') === v6).map((x) => [x.name, x.address]));
  const config: IpamConfig[] = [{ Subnet: n.ipv4.subnet, Gateway: n.ipv4.gateway, IPRange: a.ipv4.ipRange, AuxiliaryAddresses: aux(false) }];
  if (n.ipv6 && a.ipv6) {
    const aux6 = aux(true);
    config.push({ Subnet: n.ipv6.subnet, Gateway: n.ipv6.gateway, ...(a.ipv6.ipRange ? { IPRange: a.ipv6.ipRange } : {}), ...(Object.keys(aux6).length ? { AuxiliaryAddresses: aux6 } : {}) });
  }
  return {
    Name: a.network,
    Driver: a.driver,
    CheckDuplicate: true,
    EnableIPv6: config.length > 1,
    IPAM: { Driver: 'default', Config: config },
    Options: { parent: a.link, ...(a.driver === 'ipvlan' ? { ipvlan_mode: 'l2' } : {}) },
    // the labels mark the network as flatnet's, and the spec's owner's: `apply --host` replaces or removes only
    // labelled networks of its owner
    Labels: dockerLabels(a.network, model.ownership.owner),
  };
}

/** The arguments after `docker network create`, in order (the network name last). */
export function networkCreateArgs(model: Model, a: Attachment): string[] {
  const net = dockerNetwork(model, a);
  const [v4, v6] = net.IPAM.Config;
  const args = ['-d', net.Driver, `--subnet=${v4!.Subnet}`, `--gateway=${v4!.Gateway}`, `--ip-range=${v4!.IPRange}`];
  if (v6) {
    args.push('--ipv6', `--subnet=${v6.Subnet}`, `--gateway=${v6.Gateway}`);
    if (v6.IPRange) args.push(`--ip-range=${v6.IPRange}`);
  }
  for (const c of net.IPAM.Config) for (const [name, address] of Object.entries(c.AuxiliaryAddresses ?? {})) args.push(`--aux-address=${name}=${address}`);
  for (const [key, value] of Object.entries(net.Options)) args.push('-o', `${key}=${value}`);
  for (const [key, value] of Object.entries(net.Labels)) args.push(`--label=${key}=${value}`);
  args.push(net.Name);
  return args;
}

/**
 * `docker network inspect -f` format that prints a network's settings as space-separated key=value words in
 * the order of networkSettings. The docker CLI runs it on the raw JSON (the typed struct has no
 * AuxiliaryAddresses field, so it falls back), where a key the daemon leaves out is an error: every optional
 * key is reached by ranging over its map, and Go's templates range over maps in sorted key order.
 */
const NETWORK_INSPECT_FORMAT_BODY =
  'driver={{.Driver}}' +
  '{{range $k, $v := .Options}}{{if eq $k "parent" "ipvlan_mode"}} {{$k}}={{$v}}{{end}}{{end}}' +
  ' ipv6={{.EnableIPv6}}' +
  '{{range .IPAM.Config}}{{range $k, $v := .}}' +
  '{{if eq $k "AuxiliaryAddresses"}}{{range $name, $ip := $v}} aux-address={{$name}}={{$ip}}{{end}}' +
  '{{else if eq $k "Gateway"}} gateway={{$v}}{{else if eq $k "IPRange"}} ip-range={{$v}}{{else if eq $k "Subnet"}} subnet={{$v}}{{end}}' +
  '{{end}}{{end}}';

export const NETWORK_INSPECT_FORMAT = networkInspectFormat(undefined);

/** The inspect format for a spec with this owner: the owner label is printed too when the spec has one. */
export function networkInspectFormat(owner: string | undefined): string {
  return NETWORK_INSPECT_FORMAT_BODY + `{{range $k, $v := .Labels}}{{if eq $k "${DOCKER_NETWORK_LABEL}"${owner !== undefined ? ` "${DOCKER_OWNER_LABEL}"` : ''}}} label={{$k}}={{$v}}{{end}}{{end}}`;
}

const byCodeUnit = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);

/** What NETWORK_INSPECT_FORMAT prints for the network that networkCreateArgs creates. */
export function networkSettings(model: Model, a: Attachment): string {
  const net = dockerNetwork(model, a);
  const words = [`driver=${net.Driver}`];
  // Options and labels in Go's sorted key order, as the format ranges over them
  for (const key of Object.keys(net.Options).sort(byCodeUnit)) words.push(`${key}=${net.Options[key]}`);
  words.push(`ipv6=${net.EnableIPv6}`);
  // per subnet in the JSON's key order: AuxiliaryAddresses, Gateway, IPRange, Subnet
  for (const c of net.IPAM.Config) {
    for (const name of Object.keys(c.AuxiliaryAddresses ?? {}).sort(byCodeUnit)) words.push(`aux-address=${name}=${c.AuxiliaryAddresses![name]}`);
    words.push(`gateway=${c.Gateway}`);
    if (c.IPRange) words.push(`ip-range=${c.IPRange}`);
    words.push(`subnet=${c.Subnet}`);
  }
  for (const key of Object.keys(net.Labels).sort(byCodeUnit)) words.push(`label=${key}=${net.Labels[key]}`);
  return words.join(' ');
}

export const dockerTarget: Target = hostTarget('docker', (model, host) => [
  {
    path: `docker/${host.name}.sh`,
    content: renderTemplate('docker', 'networks.sh', {
      format: networkInspectFormat(model.ownership.owner),
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
