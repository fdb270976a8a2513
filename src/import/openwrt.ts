// import, OpenWrt: the router's configs (read with the plan's own read, OpenWrtUnit.read: one `uci export` of
// network, firewall and dhcp) as networks: one per static interface on a VLAN device of the bridge (`br-lan.N`,
// an 802.1Q device section on it, or DSA bridge-vlan N), its ip6addr as ipv6; its dhcp section; its firewall
// zone's forwardings and input rules where they say it plainly; bridge-vlan ports as access ports (`:u*`) and
// trunk ports (`:t`).
import { contains, ipText, parseCidr, parseIp, prefixOfNetmask, type Cidr } from '../ip.js';
import type { OpenWrtRouter } from '../model.js';
import type { OpenWrtLive } from '../../targets/openwrt/diff.js';
import type { ExportedSection } from '../../targets/openwrt/uci.js';
import { durationText, nameFromInterface, specName, type FoundFirewall, type FoundNetwork, type ImportReport } from './found.js';
import { bridgeVlanPorts, LINK_LOCAL, opt, words } from './rows.js';
const SERVICE_ORDER = ['dns', 'dhcp', 'ntp', 'icmp', 'ssh', 'http', 'https'];

/** A uci time (12h, 30m, 1d, 3600) in seconds; undefined for infinite or what it cannot read. */
function seconds(text: string): number | undefined {
  const m = /^(\d+)([smhdw]?)$/.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2] as '' | 's' | 'm' | 'h' | 'd' | 'w'];
}


/**
 * The interface's ip6addr (its first global address with a prefix length) as the network's ipv6: subnet and
 * gateway. flatnet writes one ip6addr (the gateway) and no ip6assign, and an adopted interface section loses the
 * options flatnet does not write (targets/openwrt/diff.ts): the other ip6addr values and ip6assign are a comment
 * and a warning saying apply --adopt removes them. Link-local values are skipped (the kernel gives one anyway).
 */
function ipv6Of(net: FoundNetwork, s: ExportedSection, report: ImportReport, where: string): void {
  const iface = s.name!;
  const say = (msg: string) => {
    net.notes.push(msg);
    report.warnings.push(msg);
  };
  const all = words(s.options.get('ip6addr')).map((text) => ({ text, cidr: parseCidr(text) }));
  const global = all.filter((a) => a.cidr?.family === 6 && !contains(LINK_LOCAL, a.cidr.address.value));
  const first = global[0];
  if (first !== undefined) {
    const source = `from network.${iface} ip6addr ${first.text}`;
    net.ipv6 = { subnet: first.cidr!.text, gateway: first.cidr!.address.text };
    net.sources['ipv6.subnet'] = source;
    net.sources['ipv6.gateway'] = source;
  }
  const them = (n: number) => (n === 1 ? 'it' : 'them');
  const others = global.slice(1).map((a) => a.text);
  if (others.length > 0) say(`${where}: network.${iface} ip6addr ${others.join(' ')}: not imported (the draft's ipv6 is ${first!.text}); apply --adopt removes ${them(others.length)}: flatnet writes one ip6addr, the ipv6 gateway`);
  const unreadable = all.filter((a) => a.cidr?.family !== 6).map((a) => a.text);
  if (unreadable.length > 0) say(`${where}: network.${iface} ip6addr ${unreadable.join(' ')}: not an IPv6 address with a prefix length, not imported; apply --adopt removes ${them(unreadable.length)}`);
  // a delegated prefix is the upstream's to choose: flatnet's ipv6 is a fixed prefix
  const assign = opt(s, 'ip6assign');
  if (assign !== undefined) {
    say(`${where}: network.${iface} ip6assign ${assign} (a prefix delegated from upstream): not imported; apply --adopt removes it: flatnet writes a fixed prefix only${first === undefined ? ' (write ipv6: subnet and gateway by hand for one; without, the network has no IPv6 after apply)' : `, the ipv6 ${first.text}`}`);
  }
}

/** An interface's IPv4 address: ipaddr + netmask, or ipaddr a.b.c.d/len (an option or a list's first). */
export function staticAddress(s: ExportedSection): Cidr | undefined {
  const addrText = words(s.options.get('ipaddr'))[0];
  const netmask = opt(s, 'netmask');
  if (addrText === undefined) return undefined;
  if (addrText.includes('/')) return parseCidr(addrText);
  const prefix = netmask === undefined ? undefined : prefixOfNetmask(netmask);
  return prefix === undefined ? undefined : parseCidr(`${addrText}/${prefix}`);
}

/** A dhcp section's pool (dnsmasq's start and limit, defaults 100 and 150) as `first-last`, when it is a whole
 * number of addresses inside the subnet, past the network address and before the broadcast; else undefined. */
export function dhcpPoolOf(dhcp: ExportedSection, cidr: Cidr): string | undefined {
  const start = Number(opt(dhcp, 'start') ?? '100');
  const limit = Number(opt(dhcp, 'limit') ?? '150');
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(limit) || start < 1 || limit < 1) return undefined;
  const first = cidr.first + BigInt(start);
  const last = first + BigInt(limit) - 1n;
  return last < cidr.last ? `${ipText(4, first)}-${ipText(4, last)}` : undefined;
}

export function importOpenWrt(router: OpenWrtRouter, live: OpenWrtLive, report: ImportReport, taken: Set<string>): void {
  const where = `router ${router.name}`;
  const of = (config: string, type: string) => live.sections.filter((s) => s.config === config && s.type === type);
  const devices = of('network', 'device');
  // as the switches' (switches.ts): a disabled bridge-vlan section is none
  const onBridge = of('network', 'bridge-vlan').filter((b) => opt(b, 'device') === router.device);
  const bridgeVlans = onBridge.filter((b) => opt(b, 'disabled') !== '1');
  const zones = of('firewall', 'zone');
  const zoneOf = (iface: string) => zones.find((z) => words(z.options.get('network')).includes(iface));
  const lanZone = zones.find((z) => opt(z, 'name') === router.lanZone);
  const found: Array<{ net: FoundNetwork; iface: string; zone?: ExportedSection; tagged: string[] }> = [];

  for (const s of of('network', 'interface')) {
    const iface = s.name;
    if (iface === undefined || opt(s, 'proto') !== 'static') continue;
    const device = opt(s, 'device') ?? opt(s, 'ifname') ?? '';
    // the VLAN: an 802.1Q device section on the bridge, or <bridge>.<vlan> (DSA bridge-vlan or netifd's own VLAN device)
    const dot1q = devices.find((d) => opt(d, 'name') === device && opt(d, 'type') === '8021q');
    let vlan: number | undefined;
    let from: string;
    if (dot1q && opt(dot1q, 'ifname') === router.device) {
      vlan = Number(opt(dot1q, 'vid'));
      from = `network.${dot1q.name ?? '@device'} (8021q vid ${vlan} on ${router.device})`;
    } else if (device.startsWith(`${router.device}.`) && /^\d+$/.test(device.slice(router.device.length + 1))) {
      vlan = Number(device.slice(router.device.length + 1));
      const bv = bridgeVlans.find((b) => opt(b, 'vlan') === String(vlan));
      from = bv ? `network.${bv.name ?? '@bridge-vlan'} (bridge-vlan ${vlan} on ${router.device})` : `network.${iface} device ${device}`;
    } else continue;
    // the LAN itself (on <bridge>.<lan-vlan> with VLAN filtering) and what is in the LAN or WAN zone: not a VLAN network
    const zone = zoneOf(iface);
    const zoneName = zone ? opt(zone, 'name') : undefined;
    if (vlan === router.lanVlan || iface === router.lanInterface) continue;
    if (zoneName === router.lanZone || zoneName === router.wanZone) {
      const msg = `${where}: interface ${iface} on ${device} (VLAN ${vlan}) is in firewall zone ${zoneName}: not imported (flatnet gives each VLAN network a zone of its own; write it by hand if it should be one)`;
      report.notes.push(msg);
      report.warnings.push(msg);
      continue;
    }
    if (!(vlan >= 2 && vlan <= 4094)) {
      const msg = `${where}: interface ${iface} on ${device} has VLAN ${vlan}, which a spec cannot have (2-4094): not imported`;
      report.notes.push(msg);
      report.warnings.push(msg);
      continue;
    }
    // the address: ipaddr + netmask, or ipaddr a.b.c.d/len (an option or a list)
    const addrText = words(s.options.get('ipaddr'))[0];
    const netmask = opt(s, 'netmask');
    const cidr = staticAddress(s);
    if (!cidr || cidr.family !== 4) {
      const msg = `${where}: interface ${iface} on ${device} (VLAN ${vlan}) has no IPv4 address with a netmask: not imported (a network needs a subnet and a gateway)`;
      report.notes.push(msg);
      report.warnings.push(msg);
      continue;
    }
    const flatnetName = /^flatnet_([a-z][a-z0-9_]{0,30})$/.exec(iface)?.[1]?.replace(/_/g, '-');
    const name = specName(flatnetName ?? nameFromInterface(iface, vlan), taken, `vlan${vlan}`);
    taken.add(name);
    const addrSource = `from network.${iface} ipaddr ${addrText}${netmask && !addrText!.includes('/') ? ` netmask ${netmask}` : ''}`;
    const net: FoundNetwork = {
      name,
      router: router.name,
      vlan,
      subnet: `${ipText(4, cidr.first)}/${cidr.prefixLength}`,
      gateway: cidr.address.text,
      accessPorts: [],
      hosts: [],
      routerInterface: iface,
      notes: [`from network.${iface} (static on ${device}, VLAN ${vlan}) of router ${router.name}${opt(s, 'disabled') === '1' ? ', disabled there' : ''}`],
      sources: { vlan: `from ${from}`, subnet: addrSource, gateway: addrSource },
    };
    ipv6Of(net, s, report, where);

    // DHCP: the interface's dhcp section, unless ignored
    const dhcp = of('dhcp', 'dhcp').find((d) => opt(d, 'interface') === iface && opt(d, 'ignore') !== '1');
    if (dhcp) {
      const pool = dhcpPoolOf(dhcp, cidr);
      if (pool !== undefined) {
        net.dhcpPool = pool;
        net.sources['dhcp-pool'] = `from dhcp.${dhcp.name ?? '@dhcp'} start ${opt(dhcp, 'start') ?? '100'} limit ${opt(dhcp, 'limit') ?? '150'}`;
        const lease = opt(dhcp, 'leasetime') ?? '12h';
        const secs = seconds(lease);
        if (secs !== undefined && secs > 0 && secs !== 3600) {
          net.dhcpLeaseTime = durationText(secs);
          net.sources['dhcp-lease-time'] = dhcp.options.has('leasetime') ? `from dhcp.${dhcp.name ?? '@dhcp'} leasetime ${lease}` : `dnsmasq's default (dhcp.${dhcp.name ?? '@dhcp'} has no leasetime)`;
        } else if (secs === undefined) net.notes.push(`dhcp.${dhcp.name ?? '@dhcp'} leasetime ${lease}: not imported (flatnet's default 1h)`);
      } else {
        const msg = `${where}: dhcp.${dhcp.name ?? '@dhcp'} on ${iface} (start ${opt(dhcp, 'start')}, limit ${opt(dhcp, 'limit')}) is not a pool inside ${net.subnet}: dhcp-pool not imported`;
        net.notes.push(msg);
        report.warnings.push(msg);
      }
    }

    // ports of the bridge-vlan: `:u*` access (untagged, PVID), `:t` tagged
    const bv = bridgeVlans.find((b) => opt(b, 'vlan') === String(vlan));
    const off = onBridge.find((b) => b !== bv && opt(b, 'vlan') === String(vlan) && opt(b, 'disabled') === '1');
    if (off) net.notes.push(`network.${off.name ?? '@bridge-vlan'} (bridge-vlan ${vlan} on ${router.device}) is disabled: its ports not imported`);
    const ports = bv ? bridgeVlanPorts(bv) : [];
    net.accessPorts = ports.filter((p) => p.kind === 'access').map((p) => p.port);
    if (net.accessPorts.length > 0) net.sources['access-ports'] = `from network.${bv!.name ?? '@bridge-vlan'} ports: untagged with PVID`;
    const untaggedNoPvid = ports.filter((p) => p.kind === 'untagged').map((p) => p.word);
    if (untaggedNoPvid.length > 0) net.notes.push(`bridge-vlan ${vlan} has ports untagged without PVID (${untaggedNoPvid.join(' ')}): not imported`);
    const unknown = ports.filter((p) => p.kind === 'unknown').map((p) => p.word);
    if (unknown.length > 0) net.notes.push(`bridge-vlan ${vlan} has ports it cannot read (${unknown.join(' ')}; a port is <port>, <port>:u, <port>:u* or <port>:t): not imported`);
    const tagged = ports.filter((p) => p.kind === 'tagged').map((p) => p.port);
    found.push({ net, iface, ...(zone ? { zone } : {}), tagged });
  }

  for (const f of found) f.net.taggedPorts = f.tagged;
  const byZone = new Map(found.filter((f) => f.zone).map((f) => [opt(f.zone!, 'name')!, f.net]));
  for (const f of found) firewallOf(f.net, f.iface, f.zone, router, live, byZone, lanZone);
  report.networks.push(...found.map((f) => f.net));
}

const SERVICE_OF: Record<string, string> = { 'udp/53': 'dns', 'tcp udp/53': 'dns', 'tcpudp/53': 'dns', 'tcp/53': 'dns', 'udp/67': 'dhcp', 'udp/123': 'ntp', 'icmp/': 'icmp', 'tcp/22': 'ssh', 'tcp/80': 'http', 'tcp/443': 'https' };

/** The zone's forwardings and input rules as firewall intent where plain (the zone rejects or drops in and forward, every forwarding and rule is one flatnet writes); else flatnet's defaults and a note. */
function firewallOf(net: FoundNetwork, iface: string, zone: ExportedSection | undefined, router: OpenWrtRouter, live: OpenWrtLive, byZone: Map<string, FoundNetwork>, lanZone: ExportedSection | undefined): void {
  const defaults = () => {
    net.firewall = { internet: true, from: ['lan'], to: [], allowInput: net.dhcpPool !== undefined ? ['dns', 'dhcp'] : ['dns'] };
    net.sources.firewall = `flatnet's defaults, not inferred`;
  };
  if (!zone) {
    net.notes.push(`firewall: network.${iface} is in no firewall zone: flatnet's defaults below give it one (isolated: input and forward REJECT)`);
    return defaults();
  }
  const z = opt(zone, 'name')!;
  const fw: FoundFirewall = { internet: false, from: [], to: [], allowInput: [] };
  const unclear: string[] = [];
  const closed = (v: string | undefined) => v === 'REJECT' || v === 'DROP';
  if (!closed(opt(zone, 'input')) || !closed(opt(zone, 'forward'))) unclear.push(`zone ${z}: input ${opt(zone, 'input') ?? '(default)'}, forward ${opt(zone, 'forward') ?? '(default)'}`);
  const others = words(zone.options.get('network')).filter((n) => n !== iface);
  if (others.length > 0) unclear.push(`zone ${z} also holds ${others.join(', ')}`);
  for (const f of live.sections.filter((s) => s.config === 'firewall' && s.type === 'forwarding')) {
    const src = opt(f, 'src');
    const dest = opt(f, 'dest');
    if (src !== z && dest !== z) continue;
    if (src === z && dest === router.wanZone) fw.internet = true;
    else if (dest === z && src === router.lanZone) fw.from.push('lan');
    else if (src === z && dest === router.lanZone) fw.to.push('lan');
    else if (dest === z && src !== undefined && byZone.has(src)) fw.from.push(byZone.get(src)!.name);
    else if (src === z && dest !== undefined && byZone.has(dest)) {
      // written once, as the receiving network's from
    } else unclear.push(`forwarding ${src ?? '*'} → ${dest ?? '*'}`);
  }
  for (const r of live.sections.filter((s) => s.config === 'firewall' && s.type === 'rule' && opt(s, 'src') === z && opt(s, 'enabled') !== '0')) {
    const label = `rule ${opt(r, 'name') ?? r.name ?? ''}`.trim();
    if (opt(r, 'dest') !== undefined || opt(r, 'target') !== 'ACCEPT') {
      unclear.push(`${label} (${opt(r, 'target') ?? '?'}${opt(r, 'dest') ? ` to ${opt(r, 'dest')}` : ''})`);
      continue;
    }
    if (opt(r, 'family') === 'ipv6' && opt(r, 'proto') === 'icmp') continue; // neighbour discovery, flatnet's own on dual stack
    const extra = [...r.options.keys()].filter((k) => !['name', 'src', 'proto', 'dest_port', 'target', 'family', 'flatnet_owner', 'icmp_type'].includes(k));
    // DHCPv6: flatnet's dhcp rule of a dual-stack network, beside udp/67
    const service = opt(r, 'family') === 'ipv6' && words(r.options.get('proto')).join(' ') === 'udp' && opt(r, 'dest_port') === '547' ? 'dhcp' : SERVICE_OF[`${words(r.options.get('proto')).join(' ')}/${opt(r, 'dest_port') ?? ''}`];
    if (!service || extra.length > 0 || (r.options.has('icmp_type') && service !== 'icmp')) {
      unclear.push(label);
      continue;
    }
    if (!fw.allowInput.includes(service)) fw.allowInput.push(service);
  }
  if (!lanZone) net.notes.push(`no firewall zone ${router.lanZone} (routers.${router.name}.lan-zone): from/to lan not recognised`);
  if (unclear.length === 0) {
    fw.allowInput.sort((a, b) => SERVICE_ORDER.indexOf(a) - SERVICE_ORDER.indexOf(b));
    net.firewall = fw;
    net.sources.firewall = `from firewall zone ${z}: its forwardings and input rules`;
    return;
  }
  net.notes.push(`firewall: zone ${z} is not what flatnet writes, not inferred: ${unclear.slice(0, 5).join('; ')}${unclear.length > 5 ? `; … and ${unclear.length - 5} more` : ''}: flatnet's defaults below`);
  defaults();
}
