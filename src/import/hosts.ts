// import, Docker hosts: each host read with the plan's own reads through its transport (targets/host: this
// machine, or one SSH connection): the links (`ip -j`, the snapshot) and Docker's network list (its IPAM and
// options are in the list itself: no inspect call). Docker macvlan/ipvlan networks (parent, VLAN from the VLAN
// link or `<parent>.<vlan>`, subnet, gateway, ip-range, aux-addresses, each family) and the macvlan/ipvlan shims
// on their parent (addresses, name, routes) are joined with the routers' networks by VLAN id and IPv4 subnet (the
// IPv6 side where it agrees with the router's); a network on the host's parent itself is an untagged network on
// the LAN. What cannot be expressed is a note and a warning.
import { contains, ipText, overlaps, parseCidr, parseIp, parseIpRange, type Cidr } from '../ip.js';
import { firstUsable, slices, type HostModel } from '../model.js';
import type { EngineNetwork, IpamConfig } from '../../targets/docker/engine.js';
import type { LiveHostLinks, LiveLink } from '../../targets/host/links.js';
import { hostTransport } from '../../targets/host/push.js';
import { specName, type FoundNetwork, type ImportReport } from './found.js';
import type { RouterLan } from './lan.js';

export interface HostReading {
  host: HostModel;
  links: LiveHostLinks;
  networks: EngineNetwork[];
  /** `Docker 24.0.7` */
  docker: string;
  /** where it was read: `this machine, /var/run/docker.sock` or `ssh root@…` */
  endpoint: string;
}

export interface HostReadOptions {
  env?: NodeJS.ProcessEnv;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
  knownHostsFile?: string;
}

/** Reads a host through its transport (SSH when it has `ssh`, else this machine): the snapshot's links and Docker's network list. */
export async function readHost(host: HostModel, options: HostReadOptions = {}): Promise<HostReading> {
  const transport = hostTransport(host, {
    ...(options.env ? { env: options.env } : {}),
    ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    ...(options.commandTimeoutMs !== undefined ? { commandTimeoutMs: options.commandTimeoutMs } : {}),
    ...(options.knownHostsFile !== undefined ? { knownHostsFile: options.knownHostsFile } : {}),
  });
  try {
    await transport.open();
    const engine = transport.engine();
    // no files, no 802.1Q probe: only the links (and routes) of the snapshot
    const [snapshot, version, networks] = await Promise.all([transport.snapshot({ files: [], symlinks: [] }), engine.version(), engine.networks()]);
    return { host, links: snapshot.links, networks, docker: `Docker ${version.Version}`, endpoint: transport.endpoint };
  } finally {
    transport.close();
  }
}

/** One Docker macvlan/ipvlan network of one host, as far as it can be expressed. */
interface DockerFound {
  host: HostModel;
  name: string;
  driver: 'macvlan' | 'ipvlan';
  /** Docker's `parent` option */
  parent: string;
  vlan?: number;
  /** the parent when it is not `<host parent>.<vlan>` */
  vlanDevice?: string;
  subnet: Cidr;
  gateway?: string;
  ipRange?: Cidr;
  aux: Record<string, string>;
  /** the IPv6 IPAM config of a dual-stack network */
  v6?: { subnet: Cidr; gateway?: string; ipRange?: Cidr; aux: Record<string, string> };
  /** address6, routes6: the shim's IPv6 address in the IPv6 subnet, its IPv6 routes */
  shim?: { name: string; address: string; prefixLength: number; routes: string[]; address6?: string; routes6: string[] };
  /** notes for the network this joins */
  notes: string[];
  /** `Docker network X on host H` */
  where: string;
}

const kindOf = (l: LiveLink | undefined) => l?.linkinfo?.info_kind;

/** A note for the draft's header and stderr alike. */
function oddity(report: ImportReport, msg: string): void {
  report.notes.push(msg);
  report.warnings.push(msg);
}

/** What one host's Docker networks are, or notes saying why one is not imported. */
function dockerNetworks(r: HostReading, report: ImportReport): DockerFound[] {
  const out: DockerFound[] = [];
  const host = r.host;
  const byName = new Map(r.links.links.map((l) => [l.ifname, l]));
  for (const n of r.networks) {
    if (n.Driver !== 'macvlan' && n.Driver !== 'ipvlan') continue;
    const driver = n.Driver;
    const where = `Docker network ${n.Name} (${driver}) on host ${host.name}`;
    const parent = n.Options?.parent;
    if (parent === undefined || parent === '') {
      oddity(report, `${where} has no parent (Docker's own dummy link): not imported`);
      continue;
    }
    const notes: string[] = [];
    const link = byName.get(parent);
    let vlan: number | undefined;
    let lower: string | undefined;
    const named = /^(.+)\.(\d{1,4})$/.exec(parent);
    if (link && kindOf(link) === 'vlan') {
      vlan = link.linkinfo?.info_data?.id;
      lower = link.link;
    } else if (named && named[1] === host.parent) {
      // the VLAN from the name <parent>.<vlan>
      vlan = Number(named[2]);
      lower = named[1];
      if (!link) {
        const msg = `${where}: its parent ${parent} is not there (Docker makes it when a container starts; flatnet makes it before the network)`;
        notes.push(msg);
        report.warnings.push(msg);
      } else notes.push(`${where}: its parent ${parent} is not an 802.1Q link (${kindOf(link) ?? 'no kind'}): VLAN ${vlan} taken from its name`);
    } else if (!link) {
      oddity(report, `${where}: its parent ${parent} is not there and is not ${host.parent}.<vlan> (hosts.${host.name}.parent): not imported`);
      continue;
    } else if (parent !== host.parent) {
      oddity(report, `${where} is on ${parent} (${kindOf(link) ?? 'a link'}), neither the host's parent ${host.parent} (hosts.${host.name}.parent) nor a VLAN link on it: not imported`);
      continue;
    }
    if (vlan !== undefined && lower !== host.parent) {
      oddity(report, `${where} is on ${parent}, VLAN ${vlan} on ${lower ?? '?'}, not on the host's parent ${host.parent} (hosts.${host.name}.parent): not imported`);
      continue;
    }
    if (vlan === 1 || (vlan !== undefined && (vlan < 2 || vlan > 4094))) {
      oddity(report, `${where} is on VLAN ${vlan}, which a spec cannot have (2-4094): not imported`);
      continue;
    }
    const mode = driver === 'macvlan' ? n.Options?.macvlan_mode : n.Options?.ipvlan_mode;
    if (mode !== undefined && mode !== '' && mode !== (driver === 'macvlan' ? 'bridge' : 'l2')) notes.push(`${where} is in ${driver} mode ${mode}: flatnet makes ${driver === 'macvlan' ? 'bridge' : 'L2'} mode networks`);
    const configs: IpamConfig[] = n.IPAM?.Config ?? [];
    const v4 = configs.find((c) => c.Subnet !== undefined && parseCidr(c.Subnet)?.family === 4);
    const subnet = v4?.Subnet !== undefined ? parseCidr(v4.Subnet) : undefined;
    if (!v4 || !subnet) {
      oddity(report, `${where} has no IPv4 subnet: not imported`);
      continue;
    }
    const v6configs = configs.filter((c) => c.Subnet !== undefined && parseCidr(c.Subnet)?.family === 6);
    const v6config = v6configs[0];
    if (v6configs.length > 1) notes.push(`${where} has more IPv6 subnets, not imported: ${v6configs.slice(1).map((c) => c.Subnet).join(', ')}`);
    let v6: DockerFound['v6'];
    if (v6config) {
      const range6 = v6config.IPRange ? parseCidr(v6config.IPRange) : undefined;
      if (v6config.IPRange && range6?.family !== 6) notes.push(`${where}: its IPv6 ip-range ${v6config.IPRange} is not an IPv6 prefix: its IPv6 is not imported`);
      else v6 = { subnet: parseCidr(v6config.Subnet!)!, ...(v6config.Gateway ? { gateway: v6config.Gateway } : {}), ...(range6 ? { ipRange: range6 } : {}), aux: v6config.AuxiliaryAddresses ?? {} };
    }
    const ipRange = v4.IPRange ? parseCidr(v4.IPRange) : undefined;
    // the shim: a macvlan (ipvlan) link on the same parent in the host's namespace with an address in the subnet
    let shim: DockerFound['shim'];
    for (const l of r.links.links) {
      if (kindOf(l) !== driver || l.link !== parent) continue;
      const addr = l.addresses.map((a) => parseCidr(a)).find((c) => c !== undefined && c.family === 4 && contains(subnet, c.address.value));
      if (!addr) continue;
      if (shim) {
        notes.push(`link ${l.ifname} (${driver} on ${parent}, ${addr.address.text}/${addr.prefixLength}) is a second shim: not imported`);
        continue;
      }
      const routes = r.links.routes.filter((x) => x.family === 4 && x.dev === l.ifname && x.protocol !== 'kernel').map((x) => (x.dst.includes('/') ? x.dst : `${x.dst}/32`));
      const addr6 = v6 ? l.addresses.map((a) => parseCidr(a)).find((c) => c !== undefined && c.family === 6 && contains(v6.subnet, c.address.value)) : undefined;
      const routes6 = r.links.routes.filter((x) => x.family === 6 && x.dev === l.ifname && x.protocol !== 'kernel').map((x) => parseCidr(x.dst.includes('/') ? x.dst : `${x.dst}/128`)?.text ?? x.dst);
      shim = { name: l.ifname, address: addr.address.text, prefixLength: addr.prefixLength, routes, ...(addr6 ? { address6: addr6.address.text } : {}), routes6 };
    }
    out.push({
      host,
      name: n.Name,
      driver,
      parent,
      ...(vlan !== undefined ? { vlan } : {}),
      ...(vlan !== undefined && parent !== `${host.parent}.${vlan}` ? { vlanDevice: parent } : {}),
      subnet,
      ...(v4.Gateway ? { gateway: v4.Gateway } : {}),
      ...(ipRange ? { ipRange } : {}),
      aux: v4.AuxiliaryAddresses ?? {},
      ...(v6 ? { v6 } : {}),
      ...(shim ? { shim } : {}),
      notes,
      where,
    });
  }
  return out;
}

const widthOf = (c: Cidr) => (c.family === 4 ? 32 : 128);

/** A container-range when Docker has none (it allocates from the whole subnet): the largest prefix of the subnet clear of the gateway and the DHCP pool, the highest such. */
export function proposeRange(subnet: Cidr, gateway: bigint, dhcp?: { first: bigint; last: bigint }): Cidr | undefined {
  for (let len = subnet.prefixLength + 1; len <= widthOf(subnet) - 2; len++) {
    const size = 1n << BigInt(widthOf(subnet) - len);
    for (let first = subnet.last + 1n - size; first >= subnet.first; first -= size) {
      const block = { first, last: first + size - 1n };
      if (contains(block, gateway) || (dhcp && overlaps(block, dhcp))) continue;
      return parseCidr(`${ipText(subnet.family, first)}/${len}`);
    }
  }
  return undefined;
}

/** Renames a found network and every firewall from/to naming it. */
function rename(report: ImportReport, net: FoundNetwork, to: string, taken: Set<string>): void {
  const from = net.name;
  if (from === to) return;
  taken.delete(from);
  taken.add(to);
  net.name = to;
  for (const n of report.networks) {
    if (!n.firewall) continue;
    n.firewall.from = n.firewall.from.map((x) => (x === from ? to : x));
    n.firewall.to = n.firewall.to.map((x) => (x === from ? to : x));
  }
}

/** Joins the hosts' Docker networks with the networks found on the routers (report.networks), or adds untagged ones. */
export function importHosts(readings: HostReading[], report: ImportReport, taken: Set<string>, lans: readonly RouterLan[] = []): void {
  const groups = new Map<FoundNetwork, DockerFound[]>();
  const untagged = new Map<string, FoundNetwork>();
  for (const r of readings) {
    for (const d of dockerNetworks(r, report)) {
      let net: FoundNetwork | undefined;
      if (d.vlan !== undefined) {
        const sameVlan = report.networks.filter((n) => n.vlan === d.vlan && n.router !== undefined);
        const joined = sameVlan.filter((n) => parseCidr(n.subnet)?.text === d.subnet.text);
        if (joined.length === 0) {
          oddity(
            report,
            sameVlan.length > 0
              ? `${d.where}: VLAN ${d.vlan} with ${d.subnet.text}, but the router network${sameVlan.length > 1 ? 's' : ''} of VLAN ${d.vlan} ${sameVlan.length > 1 ? 'have' : 'has'} ${sameVlan.map((n) => `${n.subnet} (${n.name}, router ${n.router})`).join(', ')}: not joined, not imported`
              : `${d.where}: VLAN ${d.vlan} (${d.subnet.text} on ${d.parent}), but no router read has VLAN ${d.vlan}: not imported (a VLAN network needs its router: import its router too, with --router NAME when devices are named, or write the network by hand)`,
          );
          continue;
        }
        net = joined[0]!;
        if (joined.length > 1) net.notes.push(`${d.where} matches VLAN ${d.vlan} on routers ${joined.map((n) => n.router).join(', ')}: joined with ${net.router}'s`);
      } else {
        net = untagged.get(d.subnet.text);
        if (!net) {
          net = { name: specName(d.name, taken, 'docker-lan'), subnet: d.subnet.text, accessPorts: [], hosts: [], notes: [`untagged (on the LAN): the router side is left as it is`], sources: { subnet: `from ${d.where}` } };
          taken.add(net.name);
          onLan(net, d, lans, report);
          untagged.set(d.subnet.text, net);
          report.networks.push(net);
        }
      }
      const list = groups.get(net) ?? [];
      if (list.some((x) => x.host === d.host)) {
        oddity(report, `${d.where}: host ${d.host.name} has another Docker network joined with ${net.name} (${list.find((x) => x.host === d.host)!.name}): not imported`);
        continue;
      }
      list.push(d);
      groups.set(net, list);
    }
  }
  for (const [net, members] of groups) joinNetwork(net, members, report, taken);
}

/**
 * An untagged network's router side: the router whose LAN has its subnet (`router:`, the router's gateway, and
 * the LAN's DHCP pool as `dhcp-pool`, so the container range is proposed and checked clear of it); else the
 * gateway Docker has, and a note saying what is missing.
 */
function onLan(net: FoundNetwork, d: DockerFound, lans: readonly RouterLan[], report: ImportReport): void {
  const lan = lans.find((l) => l.subnet === d.subnet.text);
  if (lan) {
    net.router = lan.router;
    net.sources.router = `the LAN of ${lan.from}`;
    net.gateway = lan.gateway;
    net.sources.gateway = `from ${lan.from}`;
    if (lan.dhcpPool !== undefined) {
      net.dhcpPool = lan.dhcpPool;
      net.sources['dhcp-pool'] = `the LAN's DHCP pool: from ${lan.poolFrom}`;
    }
    return;
  }
  if (d.gateway) {
    net.gateway = d.gateway;
    net.sources.gateway = `from ${d.where}`;
  } else {
    net.gateway = ipText(4, d.subnet.first + 1n);
    net.sources.gateway = `Docker's default (the subnet's first address): ${d.where} names none`;
  }
  if (lans.length === 0) {
    net.notes.push(`no router was read: add router: <its router> and dhcp-pool: <the LAN's DHCP pool> if the LAN's router serves DHCP, so plan checks container-range against it`);
    return;
  }
  // routers were read and none has this LAN: worth a warning (a wrong subnet on the host, or the router not read)
  const msg = `network ${net.name}: no router read has the LAN ${net.subnet} (${lans.map((l) => `${l.router}: ${l.subnet}`).join(', ')}): router and dhcp-pool left out`;
  net.notes.push(msg);
  report.warnings.push(msg);
}

/** Fills the Docker side of one network from its hosts' Docker networks. */
function joinNetwork(net: FoundNetwork, all: DockerFound[], report: ImportReport, taken: Set<string>): void {
  const subnet = parseCidr(net.subnet)!;
  const gateway = parseIp(net.gateway ?? '')!;
  const dhcp = net.dhcpPool ? parseIpRange(net.dhcpPool) : undefined;
  const dhcpRange = dhcp ? { first: dhcp.first.value, last: dhcp.last.value } : undefined;
  for (const d of all) {
    net.notes.push(`${d.where} (parent ${d.parent}${d.ipRange ? `, ip-range ${d.ipRange.text}` : ''}${d.shim ? `; shim ${d.shim.name} ${d.shim.address}/${d.shim.prefixLength}` : '; no shim'})`, ...d.notes);
    if (d.gateway && d.gateway !== gateway.text) {
      const msg = `${d.where}: its gateway ${d.gateway} is not the router's ${gateway.text}: the draft has the router's (containers get the router's once flatnet recreates the network)`;
      net.notes.push(msg);
      report.warnings.push(msg);
    }
  }
  // several hosts: their ranges must be the equal slices of one prefix, as the model splits it
  let members = all;
  if (all.length > 1) {
    const sorted = [...all].sort((a, b) => (a.ipRange && b.ipRange ? (a.ipRange.first < b.ipRange.first ? -1 : 1) : 0));
    const why = sharedProblem(sorted, subnet, gateway.value);
    if (why === undefined) members = sorted;
    else {
      members = [all[0]!];
      const msg = `network ${net.name}: ${why}: only host ${all[0]!.host.name} is in this draft; ${all.slice(1).map((d) => `${d.where}${d.ipRange ? ` (ip-range ${d.ipRange.text})` : ''}`).join(', ')} left out`;
      net.notes.push(msg);
      report.warnings.push(msg);
    }
  }
  const first = members[0]!;
  const multi = members.length > 1;
  // the container range
  let range: Cidr;
  if (multi) {
    range = unionOf(members.map((d) => d.ipRange!))!;
    net.sources['container-range'] = `the ip-ranges ${members.map((d) => `${d.ipRange!.text} (${d.host.name})`).join(', ')} together`;
  } else if (first.ipRange) {
    range = first.ipRange;
    net.sources['container-range'] = `from ${first.where}: ip-range`;
  } else {
    const proposed = proposeRange(subnet, gateway.value, dhcpRange);
    if (!proposed) {
      const msg = `network ${net.name}: ${first.where} has no ip-range and no prefix of ${subnet.text} is clear of the gateway${dhcpRange ? ' and the DHCP pool' : ''}: its Docker side is not imported`;
      net.notes.push(msg);
      report.warnings.push(msg);
      return;
    }
    range = proposed;
    net.sources['container-range'] = `proposed: ${first.where} has no ip-range (Docker allocates from all of ${subnet.text})`;
    const msg = `network ${net.name}: ${first.where} has no ip-range: Docker allocates from the whole subnet, which holds the gateway${dhcpRange ? ' and the DHCP pool' : ''}; container-range ${range.text} is a proposal (the largest prefix clear of them): review it, containers outside it get new addresses when the network is made again`;
    net.notes.push(msg);
    report.warnings.push(msg);
  }
  if (!contains(subnet, range)) {
    const msg = `network ${net.name}: ip-range ${range.text} is not inside ${subnet.text}: its Docker side is not imported`;
    net.notes.push(msg);
    report.warnings.push(msg);
    return;
  }
  net.hosts = members.map((d) => d.host.name);
  net.sources.host = multi ? `from the Docker networks ${[...new Set(members.map((d) => d.name))].join(', ')} on ${net.hosts.join(', ')}` : `from ${first.where}`;
  net.containerRange = range.text;
  if (first.driver === 'ipvlan') {
    net.driver = 'ipvlan';
    net.sources.driver = `from ${first.where}`;
  }
  if (members.some((d) => d.driver !== first.driver)) net.notes.push(`the hosts' Docker networks have different drivers (${members.map((d) => `${d.host.name}: ${d.driver}`).join(', ')}): the draft has ${first.driver}`);
  // the Docker network's name is the spec's network name: the name the containers know wins over the router interface's
  const dockerName = first.name;
  if (dockerName !== net.name) {
    const others = new Set(taken);
    others.delete(net.name);
    const candidate = specName(dockerName, others, net.name);
    if (candidate === dockerName) {
      net.notes.push(`named ${dockerName} after the Docker network (the spec's network name is the Docker network's)${net.routerInterface ? `, not after ${net.routerInterface}` : ''}`);
      rename(report, net, dockerName, taken);
    } else {
      const msg = `network ${net.name}: the Docker network is called ${dockerName}, which cannot be a spec network name (or is taken): flatnet would make a Docker network ${net.name} beside it`;
      net.notes.push(msg);
      report.warnings.push(msg);
    }
  }
  const otherNames = [...new Set(members.map((d) => d.name))].filter((x) => x !== net.name);
  if (otherNames.length > 0) net.notes.push(`the hosts name the Docker network differently (${members.map((d) => `${d.host.name}: ${d.name}`).join(', ')}): flatnet uses ${net.name} on every host`);
  // VLAN device: given when the parent is not <host parent>.<vlan>; one for every host
  if (first.vlanDevice !== undefined) {
    net.vlanDevice = first.vlanDevice;
    net.sources['vlan-device'] = `from ${first.where}: parent ${first.parent}`;
  }
  if (members.some((d) => d.vlanDevice !== first.vlanDevice)) net.notes.push(`the hosts' VLAN devices differ (${members.map((d) => `${d.host.name}: ${d.parent}`).join(', ')}): vlan-device is one name for every host`);
  // shims
  const wantShims = (multi ? slices(range, members.length, 4)! : [range]).map((s) => firstUsable(s, subnet, gateway));
  members.forEach((d, i) => {
    const want = ipText(4, wantShims[i]!);
    if (!d.shim) {
      net.notes.push(`host ${d.host.name} has no shim for ${d.name} on ${d.parent} (a macvlan link with an address in ${subnet.text}): it cannot reach its containers today; flatnet adds one${multi || net.shimAddress ? '' : ` at ${want}`}`);
      return;
    }
    if (d.shim.prefixLength !== 32) net.notes.push(`shim ${d.shim.name} on host ${d.host.name} has ${d.shim.address}/${d.shim.prefixLength}: flatnet gives it ${d.shim.address}/32 and routes the container range`);
    const rangeRouted = d.shim.routes.includes(range.text);
    if (!rangeRouted) net.notes.push(`no route to ${range.text} via shim ${d.shim.name} on host ${d.host.name}${d.shim.routes.length ? ` (it routes ${d.shim.routes.join(', ')})` : ''}: flatnet routes the container range there`);
    if (d.shim.address !== want) {
      if (multi) net.notes.push(`shim ${d.shim.name} on host ${d.host.name} has ${d.shim.address}; on a network of several hosts each host's shim is the first address of its slice (${want}): flatnet moves it`);
      else if (dhcpRange && contains(dhcpRange, parseIp(d.shim.address)!.value)) net.notes.push(`shim ${d.shim.name} has ${d.shim.address}, inside the DHCP pool ${net.dhcpPool}: not kept (flatnet's default ${want})`);
      else {
        net.shimAddress = d.shim.address;
        net.sources['shim-address'] = `from link ${d.shim.name} on host ${d.host.name}`;
      }
    }
  });
  const shimNames = [...new Set(members.filter((d) => d.shim).map((d) => d.shim!.name))];
  const defaultShim = net.vlan !== undefined ? `fn-${net.vlan}` : `fn-${net.name}`;
  if (shimNames.length > 0 && shimNames[0] !== defaultShim) {
    net.shimName = shimNames[0]!;
    net.sources['shim-name'] = `from link ${shimNames[0]} (${first.driver} on ${first.parent})`;
  }
  if (shimNames.length > 1) net.notes.push(`the hosts' shims have different names (${shimNames.join(', ')}): shim-name is one name for every host`);
  // aux-addresses: flatnet reserves the shims (host=, or host-<name>= on a shared network) and nothing else
  const shimAddresses = members.map((_, i) => (i === 0 && net.shimAddress ? net.shimAddress : ipText(4, wantShims[i]!)));
  for (const d of members) {
    const reserved = Object.entries(d.aux);
    const extra = reserved.filter(([, a]) => !shimAddresses.includes(a));
    if (extra.length > 0) net.notes.push(`${d.where} reserves aux-addresses ${extra.map(([k, a]) => `${k}=${a}`).join(', ')}: not expressed (flatnet reserves only the shims' addresses)`);
    const missing = shimAddresses.filter((a) => !reserved.some(([, x]) => x === a));
    if (missing.length > 0 && reserved.length > 0) net.notes.push(`${d.where} does not reserve ${missing.join(', ')} (aux-address): flatnet does, so no container takes a shim's address`);
  }
  if (dhcpRange && overlaps(dhcpRange, range)) {
    if (net.vlan === undefined) {
      // the LAN's pool is the router's, not flatnet's: the draft keeps the containers and leaves the pool out;
      // plan checks the router's live pool against the container range and says it again
      const msg = `network ${net.name}: the container range ${range.text} overlaps the LAN's DHCP pool ${net.dhcpPool} (${net.sources['dhcp-pool']}): the router can hand out container addresses today; dhcp-pool is left out of the draft: shrink the pool on the router`;
      delete net.dhcpPool;
      delete net.sources['dhcp-pool'];
      net.notes.push(msg);
      report.warnings.push(msg);
    } else {
      const msg = `network ${net.name}: the container range ${range.text} overlaps the router's DHCP pool ${net.dhcpPool}: the router hands out container addresses today; fix one of them (the draft does not validate until then)`;
      net.notes.push(msg);
      report.warnings.push(msg);
    }
  }
  joinIpv6(net, members, report);
}

/**
 * The hosts' IPv6 (Docker's IPv6 IPAM config, the shims' IPv6 addresses) on the network's ipv6: the router's
 * subnet and gateway, or on an untagged network the first host's. The container range and a shim address that
 * is not the model's default come from the hosts when they all agree with it; what disagrees is a note and a
 * warning, never a value.
 */
function joinIpv6(net: FoundNetwork, members: DockerFound[], report: ImportReport): void {
  const say = (msg: string) => {
    net.notes.push(msg);
    report.warnings.push(msg);
  };
  const v6text = (d: DockerFound) => `IPv6 ${d.v6!.subnet.text}${d.v6!.gateway ? ` (gateway ${d.v6!.gateway})` : ''}`;
  const dual = members.filter((d) => d.v6);
  if (dual.length === 0) {
    if (net.ipv6) say(`network ${net.name}: router ${net.router} has IPv6 ${net.ipv6.subnet}, ${members.map((d) => d.where).join(', ')} none: flatnet makes the Docker network again, dual-stack`);
    return;
  }
  const first = dual[0]!;
  const hostsOwn = net.ipv6 === undefined;
  if (hostsOwn) {
    if (net.vlan !== undefined) {
      for (const d of dual) say(`${d.where} has ${v6text(d)}, but router ${net.router} has no IPv6 address on ${net.routerInterface ?? `VLAN ${net.vlan}`}: ipv6 not imported (give the router's interface its gateway address, then write ipv6: by hand)`);
      return;
    }
    // untagged: the LAN's own prefix, as the first host has it
    net.ipv6 = { subnet: first.v6!.subnet.text, gateway: first.v6!.gateway ?? ipText(6, first.v6!.subnet.first + 1n) };
    net.sources['ipv6.subnet'] = `from ${first.where}`;
    net.sources['ipv6.gateway'] = first.v6!.gateway ? `from ${first.where}` : `Docker's default (the subnet's first address): ${first.where} names none`;
  }
  const ipv6 = net.ipv6!;
  const whose = hostsOwn ? `host ${first.host.name}'s` : `router ${net.router}'s`;
  // an untagged network's ipv6 needs a container-range the hosts agree on: without one it goes
  const leave = () => {
    if (!hostsOwn) return;
    delete net.ipv6;
    for (const k of Object.keys(net.sources)) if (k.startsWith('ipv6.')) delete net.sources[k];
    net.notes.push(`network ${net.name}: its IPv6 is not imported (write ipv6: by hand)`);
  };
  const subnet6 = parseCidr(ipv6.subnet)!;
  const gateway6 = parseIp(ipv6.gateway)!;
  const disagree = members.filter((d) => !d.v6 || d.v6.subnet.text !== subnet6.text || (d.v6.gateway !== undefined && parseIp(d.v6.gateway)?.value !== gateway6.value));
  for (const d of disagree) {
    say(d.v6
      ? `${d.where} has ${v6text(d)}, not the ${whose} ${ipv6.subnet} (gateway ${ipv6.gateway}): its IPv6 is not imported; flatnet makes the Docker network again with the ipv6 below`
      : `${d.where} has no IPv6: flatnet makes the Docker network again, dual-stack`);
  }
  if (disagree.length > 0) return leave();

  // the container range: the hosts' ip-ranges, as the model splits one (none: Docker and the model use the whole subnet)
  const multi = members.length > 1;
  let range6: Cidr | undefined;
  let rangeSource: string | undefined;
  if (multi) {
    const ranges = members.map((d) => d.v6!.ipRange);
    const union = ranges.every((r) => r !== undefined) ? unionOf(ranges as Cidr[]) : undefined;
    const split = union ? slices(union, members.length, 6) : undefined;
    if (!union || !split || split.some((x, i) => x.text !== ranges[i]!.text)) {
      say(`network ${net.name}: the hosts' IPv6 ip-ranges (${members.map((d) => `${d.host.name}: ${d.v6!.ipRange?.text ?? 'none'}`).join(', ')}) are not the equal slices of one prefix the model splits, in the order of host: not imported; flatnet makes the Docker networks again with their slices`);
      return leave();
    }
    if (union.text !== subnet6.text || hostsOwn) {
      range6 = union;
      rangeSource = `the IPv6 ip-ranges ${members.map((d) => `${d.v6!.ipRange!.text} (${d.host.name})`).join(', ')} together`;
    }
  } else if (first.v6!.ipRange) {
    range6 = first.v6!.ipRange;
    rangeSource = `from ${first.where}: IPv6 ip-range`;
  } else if (hostsOwn) {
    // the schema requires a container-range on the LAN's own prefix
    range6 = proposeRange(subnet6, gateway6.value);
    if (!range6) {
      say(`network ${net.name}: ${first.where} has no IPv6 ip-range and no prefix of ${subnet6.text} is clear of the gateway`);
      return leave();
    }
    rangeSource = `proposed: ${first.where} has no IPv6 ip-range (Docker allocates from all of ${subnet6.text})`;
    say(`network ${net.name}: ${first.where} has no IPv6 ip-range: Docker allocates from the LAN's whole prefix; ipv6 container-range ${range6.text} is a proposal (the largest prefix clear of the gateway): review it, containers outside it get new addresses when the network is made again`);
  }
  if (range6 && (!contains(subnet6, range6) || contains(range6, gateway6.value))) {
    say(`network ${net.name}: the IPv6 ip-range ${range6.text} is ${contains(subnet6, range6) ? `not clear of the gateway ${gateway6.text}` : `not inside ${subnet6.text}`}: not imported`);
    return leave();
  }
  if (range6) {
    ipv6.containerRange = range6.text;
    net.sources['ipv6.container-range'] = rangeSource!;
  }

  // the shims' IPv6 addresses: the model's default is the first usable address of the host's slice
  const base = range6 ?? subnet6;
  const wantShims = (multi ? slices(base, members.length, 6)! : [base]).map((x) => firstUsable(x, subnet6, gateway6));
  members.forEach((d, i) => {
    if (!d.shim) return; // said for IPv4
    const want = ipText(6, wantShims[i]!);
    if (d.shim.address6 === undefined) {
      net.notes.push(`shim ${d.shim.name} on host ${d.host.name} has no IPv6 address in ${subnet6.text}: flatnet adds ${want}`);
      return;
    }
    if (!d.shim.routes6.includes(base.text)) net.notes.push(`no route to ${base.text} via shim ${d.shim.name} on host ${d.host.name}${d.shim.routes6.length ? ` (it routes ${d.shim.routes6.join(', ')})` : ''}: flatnet routes it there`);
    if (d.shim.address6 === want) return;
    if (multi) net.notes.push(`shim ${d.shim.name} on host ${d.host.name} has ${d.shim.address6}; on a network of several hosts each host's shim is the first address of its IPv6 slice (${want}): flatnet moves it`);
    else {
      ipv6.shimAddress = d.shim.address6;
      net.sources['ipv6.shim-address'] = `from link ${d.shim.name} on host ${d.host.name}`;
    }
  });
  // aux-addresses: flatnet reserves the shims' IPv6 addresses (host6=) and nothing else
  const shims6 = members.map((_, i) => (i === 0 && ipv6.shimAddress ? ipv6.shimAddress : ipText(6, wantShims[i]!)));
  for (const d of members) {
    const extra = Object.entries(d.v6!.aux).filter(([, a]) => !shims6.includes(parseIp(a)?.text ?? a));
    if (extra.length > 0) net.notes.push(`${d.where} reserves IPv6 aux-addresses ${extra.map(([k, a]) => `${k}=${a}`).join(', ')}: not expressed (flatnet reserves only the shims' addresses)`);
  }
}

/** Why the members' ip-ranges are not the model's equal slices of one prefix (sorted by range), or undefined. */
function sharedProblem(sorted: DockerFound[], subnet: Cidr, gateway: bigint): string | undefined {
  const without = sorted.filter((d) => !d.ipRange);
  if (without.length > 0) return `host${without.length > 1 ? 's' : ''} ${without.map((d) => d.host.name).join(', ')} ha${without.length > 1 ? 've' : 's'} no ip-range: Docker's IPAM is per host, so two hosts allocating from the whole subnet hand out the same addresses`;
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length; j++) {
      const a = sorted[i]!;
      const b = sorted[j]!;
      if (overlaps(a.ipRange!, b.ipRange!)) return `the ip-ranges of hosts ${a.host.name} (${a.ipRange!.text}) and ${b.host.name} (${b.ipRange!.text}) overlap: both hosts can hand out the same addresses`;
    }
  }
  const union = unionOf(sorted.map((d) => d.ipRange!));
  const split = union ? slices(union, sorted.length, union.family) : undefined;
  if (!union || !split || split.some((s, i) => s.text !== sorted[i]!.ipRange!.text)) return `the ip-ranges ${sorted.map((d) => `${d.ipRange!.text} (${d.host.name})`).join(', ')} are not the equal slices of one prefix that a shared container-range is split into`;
  if (!contains(subnet, union) || contains(union, gateway)) return `the ip-ranges together (${union.text}) are not clear of the gateway inside ${subnet.text}`;
  return undefined;
}

/** The prefix the ranges are the first slices of (the model's split in reverse), or undefined. */
function unionOf(ranges: Cidr[]): Cidr | undefined {
  let bits = 0;
  while (1 << bits < ranges.length) bits++;
  const firstRange = ranges.reduce((a, b) => (a.first <= b.first ? a : b));
  const length = firstRange.prefixLength - bits;
  if (length < 0) return undefined;
  return parseCidr(`${firstRange.address.text}/${length}`);
}
