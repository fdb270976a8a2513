// import, RouterOS: the router's live state (read with the plan's own reads, RouterOSUnit.read) as networks:
// one per VLAN interface on the spec's bridge with an address (its IPv6 address as ipv6); its DHCP server and
// pool; its access ports (bridge ports whose pvid is the VLAN); the ports its bridge VLAN entry carries tagged;
// firewall intent where the IPv4 rules say it plainly (the IPv6 ones of a dual-stack network checked against it).
import { contains, ipText, ipv4RangeText, parseCidr, parseIp } from '../ip.js';
import type { RouterOSRouter } from '../model.js';
import { servicePorts } from '../audit/flows.js';
import { SERVICES } from '../spec-file/schema.js';
import { durationSeconds, type LiveState, type Row } from '../../targets/routeros/diff.js';
import { durationText, nameFromInterface, specName, type FoundFirewall, type FoundNetwork, type ImportReport } from './found.js';
import { active, LINK_LOCAL, truthy } from './rows.js';
const list = (v: string | undefined) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);

/** The router's service ports per family, as flatnet writes them (protocol/port → service). */
const serviceOf = (family: 4 | 6): Record<string, string> => Object.fromEntries(SERVICES.flatMap((s) => servicePorts(s, family).map((sp) => [`${sp.protocol}/${sp.port ?? ''}`, s])));
const SERVICE_OF = { 4: serviceOf(4), 6: serviceOf(6) };
const SERVICE_ORDER: readonly string[] = SERVICES;
/** properties that say nothing about what a rule matches */
const NOT_MATCHERS = new Set(['chain', 'action', 'comment', 'disabled', 'dynamic', 'invalid', 'bytes', 'packets', 'log', 'log-prefix', 'place-before']);

function matchers(rule: Row): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(rule)) if (!k.startsWith('.') && !NOT_MATCHERS.has(k) && v !== '' && v !== undefined) out[k] = v;
  return out;
}

const only = (m: Record<string, string>, want: Record<string, string>) => Object.keys(m).length === Object.keys(want).length && Object.entries(want).every(([k, v]) => m[k] === v);

/** The owned-comment network name, when an earlier flatnet made the object (`flatnet:<network>` or `flatnet:<network>@<owner>`). */
const flatnetName = (r: Row | undefined) => /^flatnet:([a-z][a-z0-9-]{0,30})(?:[@;]|$)/.exec(r?.comment ?? '')?.[1];

/** The enabled DHCP server on an interface, the pool it names, and that pool as one IPv4 range `first-last` (none when it is not exactly one range). */
export function dhcpServerOn(live: LiveState, iface: string): { server: Row; pool?: Row; range?: string } | undefined {
  const server = live.menus['/ip/dhcp-server'].find((s) => active(s) && s.interface === iface);
  if (!server) return undefined;
  const pool = live.menus['/ip/pool'].find((p) => p.name === server['address-pool']);
  const ranges = list(pool?.ranges);
  const range = ranges.length === 1 ? ipv4RangeText(ranges[0]!) : undefined;
  return { server, ...(pool ? { pool } : {}), ...(range !== undefined ? { range } : {}) };
}

export function importRouterOS(router: RouterOSRouter, live: LiveState, report: ImportReport, taken: Set<string>): void {
  const where = `router ${router.name}`;
  const vlans = live.menus['/interface/vlan'].filter((v) => !truthy(v.dynamic));
  const addresses = live.menus['/ip/address'].filter(active);
  const filter = live.menus['/ip/firewall/filter'].filter(active);
  const filter6 = live.menus['/ipv6/firewall/filter'].filter(active);
  const found: Array<{ net: FoundNetwork; iface: string; tagged: string[] }> = [];

  for (const v of vlans) {
    const iface = v.name ?? '';
    const vlan = Number(v['vlan-id']);
    if (v.interface !== router.bridge) {
      const msg = `${where}: VLAN interface ${iface} (VLAN ${vlan}) is on ${v.interface}, not on the bridge ${router.bridge} (routers.${router.name}.bridge): not imported`;
      report.notes.push(msg);
      report.warnings.push(msg);
      continue;
    }
    const addr = addresses.find((a) => a.interface === iface && parseCidr(a.address ?? '')?.family === 4);
    if (!addr) {
      const msg = `${where}: VLAN interface ${iface} (VLAN ${vlan}) has no IPv4 address: not imported (a network needs a subnet and a gateway)`;
      report.notes.push(msg);
      report.warnings.push(msg);
      continue;
    }
    const cidr = parseCidr(addr.address!)!;
    const gateway = addr.address!.split('/')[0]!;
    const subnet = `${ipText(4, cidr.first)}/${cidr.prefixLength}`;
    const name = specName(flatnetName(v) ?? nameFromInterface(iface, vlan), taken, `vlan${vlan}`);
    taken.add(name);
    const net: FoundNetwork = {
      name,
      router: router.name,
      vlan,
      subnet,
      gateway,
      accessPorts: [],
      hosts: [],
      routerInterface: iface,
      notes: [`from /interface/vlan ${iface} (vlan-id ${vlan} on ${router.bridge}) of router ${router.name}${v.disabled && truthy(v.disabled) ? ', disabled there' : ''}`],
      sources: { vlan: `from /interface/vlan ${iface}`, subnet: `from /ip/address ${addr.address} on ${iface}`, gateway: `from /ip/address ${addr.address} on ${iface}` },
    };
    const extra = addresses.filter((a) => a !== addr && a.interface === iface && parseCidr(a.address ?? '')?.family === 4);
    if (extra.length > 0) net.notes.push(`${iface} has more IPv4 addresses, not imported: ${extra.map((a) => a.address).join(', ')}`);
    ipv6Of(net, iface, live, report, where);

    // DHCP: a server on the interface, its pool
    const dhcp = dhcpServerOn(live, iface);
    if (dhcp) {
      const { server, pool, range } = dhcp;
      if (range && contains(cidr, { first: parseIp(range.split('-')[0]!)!.value, last: parseIp(range.split('-')[1]!)!.value })) {
        net.dhcpPool = range;
        net.sources['dhcp-pool'] = `from /ip/pool ${pool!.name} of /ip/dhcp-server ${server.name}`;
        const seconds = server['lease-time'] ? durationSeconds(server['lease-time']) : undefined;
        if (seconds !== undefined && seconds > 0 && seconds !== 3600) {
          net.dhcpLeaseTime = durationText(seconds);
          net.sources['dhcp-lease-time'] = `from /ip/dhcp-server ${server.name} lease-time ${server['lease-time']}`;
        }
      } else {
        const msg = `${where}: DHCP server ${server.name} on ${iface} has pool ${server['address-pool']} (${pool?.ranges ?? 'not found'}), not one range inside ${subnet}: dhcp-pool not imported`;
        net.notes.push(msg);
        report.warnings.push(msg);
      }
    }

    // ports: access ports (pvid = the VLAN), and what the bridge VLAN entries carry tagged
    // as the switches' (switches.ts): a dynamic or disabled bridge port is not an access port
    const pvidPorts = live.bridgePorts.filter((p) => p.bridge === router.bridge && !truthy(p.dynamic) && p.pvid === String(vlan) && p.interface !== undefined);
    net.accessPorts = pvidPorts.filter((p) => !truthy(p.disabled)).map((p) => p.interface!);
    if (net.accessPorts.length > 0) net.sources['access-ports'] = `from /interface/bridge/port: pvid ${vlan}`;
    const disabledPorts = pvidPorts.filter((p) => truthy(p.disabled)).map((p) => p.interface!);
    if (disabledPorts.length > 0) net.notes.push(`bridge port${disabledPorts.length > 1 ? 's' : ''} ${disabledPorts.join(', ')} (pvid ${vlan}) ${disabledPorts.length > 1 ? 'are' : 'is'} disabled: not imported as access ports`);
    const entries = live.menus['/interface/bridge/vlan'].filter((e) => active(e) && e.bridge === router.bridge && vlanIds(e['vlan-ids']).includes(vlan));
    const tagged = [...new Set(entries.flatMap((e) => list(e.tagged)).filter((p) => p !== router.bridge))];
    if (entries.length === 0 && (bridgeFilters(live, router.bridge) || net.accessPorts.length > 0)) net.notes.push(`no /interface/bridge/vlan entry on ${router.bridge} carries VLAN ${vlan}`);
    found.push({ net, iface, tagged });
  }

  for (const f of found) f.net.taggedPorts = f.tagged;

  const byIface = new Map(found.map((f) => [f.iface, f.net]));
  for (const f of found) firewallOf(f.net, f.iface, router, filter, filter6, byIface, live);
  report.networks.push(...found.map((f) => f.net));
}

/**
 * The interface's IPv6 (its first static global address) as the network's ipv6: subnet and gateway; the others are
 * a note. An address that is not fixed (`from-pool`: a prefix delegated from upstream; `eui-64`: its host part the
 * interface's MAC) is left out with a comment and a warning: flatnet writes a fixed address.
 */
function ipv6Of(net: FoundNetwork, iface: string, live: LiveState, report: ImportReport, where: string): void {
  const rows = live.menus['/ipv6/address'].filter((a) => {
    const c = active(a) && a.interface === iface ? parseCidr(a.address ?? '') : undefined;
    return c?.family === 6 && !contains(LINK_LOCAL, c.address.value);
  });
  const fromPool = (a: Row) => (a['from-pool'] ?? '') !== '' && a['from-pool'] !== 'none';
  for (const a of rows.filter((r) => fromPool(r) || truthy(r['eui-64']))) {
    const what = fromPool(a) ? `is from-pool ${a['from-pool']} (its prefix delegated from upstream)` : `has eui-64=yes (its host part made from the interface's MAC)`;
    const msg = `${where}: /ipv6/address ${a.address} on ${iface} ${what}: not imported; flatnet writes a fixed address: write ipv6: subnet and gateway by hand for a fixed prefix (the gateway one address of it), or leave the network without ipv6 to keep this address as it is`;
    net.notes.push(msg);
    report.warnings.push(msg);
  }
  const v6 = rows.filter((r) => !fromPool(r) && !truthy(r['eui-64']));
  if (v6.length === 0) return;
  const addr = v6[0]!;
  const cidr = parseCidr(addr.address!)!;
  const source = `from /ipv6/address ${addr.address} on ${iface}`;
  net.ipv6 = { subnet: cidr.text, gateway: cidr.address.text };
  net.sources['ipv6.subnet'] = source;
  net.sources['ipv6.gateway'] = source;
  if (v6.length > 1) net.notes.push(`${iface} has more IPv6 addresses, not imported: ${v6.slice(1).map((a) => a.address).join(', ')}`);
  // flatnet writes advertise=no: router advertisements would give containers SLAAC addresses Docker does not know
  if (addr.advertise !== undefined && truthy(addr.advertise)) net.notes.push(`/ipv6/address ${addr.address} on ${iface} has advertise=yes: flatnet writes advertise=no (containers take their addresses from Docker, not SLAAC)`);
}

function vlanIds(text: string | undefined): number[] {
  const out: number[] = [];
  for (const part of list(text)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) continue;
    for (let i = Number(m[1]); i <= Number(m[2] ?? m[1]); i++) out.push(i);
  }
  return out;
}

const bridgeFilters = (live: LiveState, bridge: string) => truthy(live.bridges.find((b) => b.name === bridge)?.['vlan-filtering']);

interface RulesRead {
  fw: FoundFirewall;
  dropForward: boolean;
  dropInput: boolean;
  /** rules flatnet does not write */
  unclear: Row[];
}

/** What the rules naming the interface say, read as flatnet writes them (in one family's filter). */
function readRules(rules: Row[], iface: string, router: RouterOSRouter, byIface: Map<string, FoundNetwork>, family: 4 | 6): RulesRead {
  const fw: FoundFirewall = { internet: false, from: [], to: [], allowInput: [] };
  let dropForward = false;
  let dropInput = false;
  const unclear: Row[] = [];
  for (const r of rules) {
    const m = matchers(r);
    const chain = r.chain;
    const action = r.action;
    const est = m['connection-state'] !== undefined && list(m['connection-state']).every((s) => ['established', 'related', 'untracked'].includes(s));
    if (action === 'accept' && est && (only(m, { 'connection-state': m['connection-state']!, 'in-interface': iface }) || only(m, { 'connection-state': m['connection-state']!, 'out-interface': iface }))) continue;
    if (chain === 'forward' && action === 'accept' && only(m, { 'connection-nat-state': 'dstnat', 'out-interface': iface })) continue;
    if (chain === 'forward' && action === 'drop' && (only(m, { 'in-interface': iface }) || only(m, { 'out-interface': iface }))) {
      dropForward = true;
      continue;
    }
    if (chain === 'input' && action === 'drop' && only(m, { 'in-interface': iface })) {
      dropInput = true;
      continue;
    }
    if (chain === 'forward' && action === 'accept') {
      if (only(m, { 'in-interface': iface, 'out-interface-list': router.wanList })) fw.internet = true;
      else if (only(m, { 'in-interface-list': router.lanList, 'out-interface': iface })) fw.from.push('lan');
      else if (only(m, { 'in-interface': iface, 'out-interface-list': router.lanList })) fw.to.push('lan');
      else if (m['in-interface'] === iface && only(m, { 'in-interface': iface, 'out-interface': m['out-interface'] ?? '' }) && byIface.has(m['out-interface']!)) {
        // between two imported networks: written once, as the receiving network's `from` (the same rule)
      }
      else if (m['out-interface'] === iface && only(m, { 'in-interface': m['in-interface'] ?? '', 'out-interface': iface }) && byIface.has(m['in-interface']!)) fw.from.push(byIface.get(m['in-interface']!)!.name);
      else unclear.push(r);
      continue;
    }
    if (chain === 'input' && action === 'accept' && m['in-interface'] === iface) {
      const key = `${m.protocol ?? ''}/${m['dst-port'] ?? ''}`;
      const service = SERVICE_OF[family][key];
      const expected = Object.keys(m).length === (m['dst-port'] !== undefined ? 3 : 2);
      if (service && expected) {
        if (!fw.allowInput.includes(service)) fw.allowInput.push(service);
        continue;
      }
    }
    unclear.push(r);
  }
  fw.allowInput.sort((a, b) => SERVICE_ORDER.indexOf(a) - SERVICE_ORDER.indexOf(b));
  return { fw, dropForward, dropInput, unclear };
}

/**
 * Firewall intent where the rules say it plainly: every enabled rule that names the interface is one flatnet
 * would write (accepts to the WAN/LAN lists and other imported networks, service accepts on input, the
 * established/dstnat accepts) and drops isolate it in forward and input. Otherwise flatnet's defaults, with a
 * note saying what was seen.
 */
function firewallOf(net: FoundNetwork, iface: string, router: RouterOSRouter, filter: Row[], filter6: Row[], byIface: Map<string, FoundNetwork>, live: LiveState): void {
  const rules = filter.filter((r) => r['in-interface'] === iface || r['out-interface'] === iface);
  const { fw, dropForward, dropInput, unclear } = readRules(rules, iface, router, byIface, 4);
  const inLists = (live.listMembers ?? []).filter((m) => active(m) && m.interface === iface).map((m) => m.list);
  if (inLists.length > 0) net.notes.push(`${iface} is a member of interface list ${inLists.join(', ')}: every rule naming the list applies to it (flatnet's isolation needs it out of the LAN list)`);

  const plain = rules.length > 0 && unclear.length === 0 && dropForward && dropInput;
  if (plain) {
    if (net.ipv6) ipv6RulesCheck(net, iface, fw, filter6, router, byIface);
    if (net.dhcpPool !== undefined && !fw.allowInput.includes('dhcp')) {
      fw.allowInput.push('dhcp');
      fw.allowInput.sort((a, b) => SERVICE_ORDER.indexOf(a) - SERVICE_ORDER.indexOf(b));
      net.notes.push(`no input rule accepts DHCP on ${iface}, though a DHCP server runs there: allow-input has dhcp`);
    }
    net.firewall = fw;
    net.sources.firewall = `from ${rules.length} /ip/firewall/filter rules naming ${iface}`;
    return;
  }
  net.firewall = { internet: true, from: ['lan'], to: [], allowInput: net.dhcpPool !== undefined ? ['dns', 'dhcp'] : ['dns'] };
  net.sources.firewall = `flatnet's defaults, not inferred`;
  if (rules.length === 0) {
    net.notes.push(`firewall: no /ip/firewall/filter rule names ${iface}: the router forwards it as its other traffic today; flatnet's defaults below add isolation (drops in and out)`);
  } else {
    const why = !dropForward || !dropInput ? `no drop ${!dropForward ? 'in forward' : ''}${!dropForward && !dropInput ? ' and ' : ''}${!dropInput ? 'in input' : ''}` : `${unclear.length} rule${unclear.length === 1 ? '' : 's'} flatnet does not write`;
    net.notes.push(`firewall: ${rules.length} /ip/firewall/filter rule${rules.length === 1 ? '' : 's'} name ${iface}, not inferred (${why}${unclear.length > 0 && (!dropForward || !dropInput) ? `; ${unclear.length} not recognised` : ''}): flatnet's defaults below`);
    for (const r of unclear.slice(0, 5)) net.notes.push(`  ${r['.id'] ?? ''} ${r.chain} ${r.action} ${Object.entries(matchers(r)).map(([k, v]) => `${k}=${v}`).join(' ')}${r.comment ? ` "${r.comment}"` : ''}`);
    if (unclear.length > 5) net.notes.push(`  … and ${unclear.length - 5} more`);
  }
}

/**
 * Dual stack: the IPv4 rules decide the intent (flatnet writes both families' rules from it); a note when the
 * IPv6 rules naming the interface do not say the same, since applying the draft changes what IPv6 may do.
 */
function ipv6RulesCheck(net: FoundNetwork, iface: string, v4: FoundFirewall, filter6: Row[], router: RouterOSRouter, byIface: Map<string, FoundNetwork>): void {
  const rules = filter6.filter((r) => r['in-interface'] === iface || r['out-interface'] === iface);
  if (rules.length === 0) {
    net.notes.push(`firewall: no /ipv6/firewall/filter rule names ${iface}: the router forwards its IPv6 as its other traffic today; flatnet writes IPv6 rules from the firewall below`);
    return;
  }
  const { fw, dropForward, dropInput, unclear } = readRules(rules, iface, router, byIface, 6);
  // flatnet writes IPv6 accepts only between dual-stack networks
  const dualStack = (name: string) => name === 'lan' || [...byIface.values()].some((n) => n.name === name && n.ipv6 !== undefined);
  const same = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));
  const differs: string[] = [];
  if (!dropForward || !dropInput) differs.push(`no drop in ${[...(dropForward ? [] : ['forward']), ...(dropInput ? [] : ['input'])].join(' and ')}`);
  if (unclear.length > 0) differs.push(`${unclear.length} rule${unclear.length === 1 ? '' : 's'} flatnet does not write`);
  if (fw.internet !== v4.internet) differs.push(`internet: ${fw.internet}`);
  if (!same(fw.from, v4.from.filter(dualStack))) differs.push(`from: [${fw.from.join(', ')}]`);
  if (!same(fw.to, v4.to.filter(dualStack))) differs.push(`to: [${fw.to.join(', ')}]`);
  if (!same(fw.allowInput, v4.allowInput)) differs.push(`allow-input: [${fw.allowInput.join(', ')}]`);
  if (differs.length > 0) net.notes.push(`firewall: the ${rules.length} /ipv6/firewall/filter rule${rules.length === 1 ? '' : 's'} naming ${iface} ${rules.length === 1 ? 'does' : 'do'} not say what the IPv4 ones say (${differs.join('; ')}): flatnet writes IPv6 rules from the firewall below`);
}
