// import: the routers' LANs, for the untagged networks found on hosts (hosts.ts). A Docker network on a host's
// own NIC whose subnet is a router's LAN is that router's untagged network (`router:` without `vlan:`, which
// lets plan check the container range against the router's LAN DHCP pool); the LAN's pool, when the router
// serves one, is its `dhcp-pool`. Read from what plan already read (no extra reads).
import { ipText, ipv4RangeText, parseCidr, parseIp, type Cidr } from '../ip.js';
import type { OpenWrtRouter, RouterOSRouter } from '../model.js';
import type { OpenWrtLive } from '../../targets/openwrt/diff.js';
import type { LiveState } from '../../targets/routeros/diff.js';
import { dhcpPoolOf, staticAddress } from './openwrt.js';
import { active, opt } from './rows.js';
import { dhcpServerOn } from './routeros.js';

export interface RouterLan {
  router: string;
  /** `192.168.88.0/24` */
  subnet: string;
  gateway: string;
  /** `first-last` inside the subnet, when the router serves DHCP on the LAN from one range */
  dhcpPool?: string;
  /** where each came from, for the draft's comments */
  from: string;
  poolFrom?: string;
}

/** The pool inside `subnet` given as one range, else undefined. */
function poolInside(subnet: string, range: string | undefined): string | undefined {
  const cidr = parseCidr(subnet);
  const text = range === undefined ? undefined : ipv4RangeText(range);
  if (!cidr || text === undefined) return undefined;
  const [first, last] = text.split('-').map((x) => parseIp(x)!.value);
  return first! > cidr.first && last! < cidr.last ? text : undefined;
}

/** RouterOS: the IPv4 address on the spec's bridge, and the DHCP server there (its pool, one range). */
export function routerosLan(router: RouterOSRouter, live: LiveState): RouterLan | undefined {
  const addr = live.menus['/ip/address'].find((a) => active(a) && a.interface === router.bridge && parseCidr(a.address ?? '')?.family === 4);
  if (!addr) return undefined;
  const cidr = parseCidr(addr.address!)!;
  const lan: RouterLan = { router: router.name, subnet: `${ipText(4, cidr.first)}/${cidr.prefixLength}`, gateway: cidr.address.text, from: `router ${router.name} /ip/address ${addr.address} on ${router.bridge}` };
  const dhcp = dhcpServerOn(live, router.bridge);
  const dhcpPool = dhcp?.range !== undefined ? poolInside(lan.subnet, dhcp.range) : undefined;
  if (dhcpPool !== undefined) {
    lan.dhcpPool = dhcpPool;
    lan.poolFrom = `router ${router.name} /ip/pool ${dhcp!.pool!.name} of /ip/dhcp-server ${dhcp!.server.name} on ${router.bridge}`;
  }
  return lan;
}

/** OpenWrt: the LAN interface's static address, and its dhcp section's start and limit. */
export function openwrtLan(router: OpenWrtRouter, live: OpenWrtLive): RouterLan | undefined {
  const name = router.lanInterface ?? 'lan';
  const iface = live.sections.find((s) => s.config === 'network' && s.type === 'interface' && s.name === name);
  if (!iface || opt(iface, 'proto') !== 'static' || opt(iface, 'disabled') === '1') return undefined;
  const ipaddr = opt(iface, 'ipaddr')?.split(/\s+/)[0];
  const cidr: Cidr | undefined = staticAddress(iface);
  if (!cidr || cidr.family !== 4) return undefined;
  const lan: RouterLan = { router: router.name, subnet: `${ipText(4, cidr.first)}/${cidr.prefixLength}`, gateway: cidr.address.text, from: `router ${router.name} network.${name} ipaddr ${ipaddr}` };
  const dhcp = live.sections.find((s) => s.config === 'dhcp' && s.type === 'dhcp' && opt(s, 'interface') === name && opt(s, 'ignore') !== '1');
  const dhcpPool = dhcp ? dhcpPoolOf(dhcp, cidr) : undefined;
  if (dhcpPool !== undefined) {
    lan.dhcpPool = dhcpPool;
    lan.poolFrom = `router ${router.name} dhcp.${dhcp!.name ?? '@dhcp'} start ${opt(dhcp!, 'start') ?? '100'} limit ${opt(dhcp!, 'limit') ?? '150'}`;
  }
  return lan;
}
