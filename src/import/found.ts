// What import found on the devices, before it is written as a draft spec: one FoundNetwork per network, each
// value with the comment saying where it came from. Pure data; the readers (routeros.ts, hosts.ts) fill it and
// draft.ts writes it.
import { NAME_PATTERN } from '../spec-file/schema.js';

export interface FoundFirewall {
  internet: boolean;
  from: string[];
  to: string[];
  allowInput: string[];
}

export interface FoundIpv6 {
  subnet: string;
  gateway: string;
  containerRange?: string;
  shimAddress?: string;
}

export interface FoundNetwork {
  /** the proposed name ([a-z][a-z0-9-]{0,30}, unique) */
  name: string;
  router?: string;
  vlan?: number;
  subnet: string;
  gateway?: string;
  dhcpPool?: string;
  dhcpLeaseTime?: string;
  accessPorts: string[];
  firewall?: FoundFirewall;
  hosts: string[];
  containerRange?: string;
  shimAddress?: string;
  shimName?: string;
  vlanDevice?: string;
  driver?: 'macvlan' | 'ipvlan';
  /** the router's interface of the network (RouterOS VLAN interface, OpenWrt interface section) */
  routerInterface?: string;
  /** the router's ports that carry the VLAN tagged (its bridge VLAN table): trunk ports, or cables to switches and hosts */
  taggedPorts?: string[];
  /** dual stack: the router's IPv6 (the host's on an untagged network), the Docker side's where it agrees */
  ipv6?: FoundIpv6;
  /** lines written above the network: where it came from, what was seen and not expressed */
  notes: string[];
  /** per spec key (`ipv6.subnet` for the nested ones): where its value came from (a comment at the end of its line) */
  sources: Record<string, string>;
}

export interface ImportReport {
  networks: FoundNetwork[];
  /** per router: ports found carrying every imported VLAN tagged (its trunk-ports) */
  trunkPorts: Map<string, string[]>;
  /** lines for the draft's header: devices read, devices that could not be read, oddities */
  notes: string[];
  /** the same oddities, for stderr */
  warnings: string[];
}

const RESERVED = new Set(['lan', 'wan']);

/** A spec name from an interface or network name: lower case, [a-z0-9-], starting with a letter, 31 at most, unique. */
export function specName(raw: string, taken: ReadonlySet<string>, fallback: string): string {
  let base = raw
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-+$/, '')
    .slice(0, 31)
    .replace(/-+$/, '');
  if (!NAME_PATTERN.test(base) || RESERVED.has(base)) base = fallback;
  let name = base;
  for (let i = 2; taken.has(name) || RESERVED.has(name); i++) name = `${base.slice(0, 31 - `-${i}`.length)}-${i}`;
  return name;
}

/** The name a VLAN interface suggests: `vlan-200-docker-demo`, `vlan200-docker-demo` → docker-demo; `vlan200` → vlan200. */
export function nameFromInterface(iface: string, vlan: number | undefined): string {
  const stripped = iface.replace(/^vlan[-_.]?\d*[-_.]?/i, '').replace(/^[-_.]?\d+[-_.]?/, '');
  return stripped.length > 0 ? stripped : `vlan${vlan ?? ''}`;
}

/** Seconds as a spec duration: 3600 → 1h, 5400 → 1h30m. */
export function durationText(seconds: number): string {
  const units: Array<[string, number]> = [['w', 604800], ['d', 86400], ['h', 3600], ['m', 60], ['s', 1]];
  let left = seconds;
  let out = '';
  for (const [u, size] of units) {
    if (left >= size) {
      out += `${Math.floor(left / size)}${u}`;
      left %= size;
    }
  }
  return out || '0s';
}
