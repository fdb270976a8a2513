// OpenWrt: the desired UCI sections of one router (or switch) and the `uci batch` script rendered from them.
// Only named sections starting flatnet_ are owned; the single exception is network.<lan-interface>.device,
// set only when the spec names lan-interface (needed once trunk-ports turn on bridge VLAN filtering).
// A device without layer 3 (a switch) gets only the bridge-vlan sections: its LAN's and one per VLAN it carries.
import { capabilities } from '../../src/devices.js';
import { findNetwork, taggedPorts, untaggedPorts, vlanFiltering, type Model, type NetworkModel, type OpenWrtRouter } from '../../src/model.js';
import { UserError } from '../../src/errors.js';
import { renderTemplate } from '../../src/render.js';
import type { ServiceName } from '../../src/spec-file/schema.js';
import { routerTarget, type Target } from '../../src/target.js';
import { parseCidr, parseIp } from '../../src/ip.js';
import { UCI_OWNER_OPTION, UCI_SECTION_PREFIX } from '../../src/ownership.js';

/** every flatnet section's name starts with this (defined in src/ownership.ts) */
export const SECTION_PREFIX = UCI_SECTION_PREFIX;

export interface UciSection {
  config: 'network' | 'firewall' | 'dhcp';
  name: string;
  type: string;
  /** options in the order they are written; list-valued options are space-separated (netifd and fw4 split them) */
  options: Array<[string, string]>;
}

/** A single option set on a section flatnet does not own. */
export interface UciForeignOption {
  config: 'network';
  section: string;
  option: string;
  value: string;
  why: string;
}

export interface OpenWrtDesired {
  sections: UciSection[];
  foreign: UciForeignOption[];
}

interface RuleSpec {
  suffix: string;
  proto: string;
  port?: string;
  family?: 'ipv4' | 'ipv6';
}

function serviceRules(service: ServiceName, dualStack: boolean): RuleSpec[] {
  switch (service) {
    case 'dns':
      return [{ suffix: 'dns', proto: 'tcp udp', port: '53' }];
    case 'dhcp':
      return [
        { suffix: 'dhcp', proto: 'udp', port: '67', family: 'ipv4' },
        ...(dualStack ? [{ suffix: 'dhcpv6', proto: 'udp', port: '547', family: 'ipv6' } as RuleSpec] : []),
      ];
    case 'ntp':
      return [{ suffix: 'ntp', proto: 'udp', port: '123' }];
    case 'icmp':
      return [{ suffix: 'icmp', proto: 'icmp' }];
    case 'ssh':
      return [{ suffix: 'ssh', proto: 'tcp', port: '22' }];
    case 'http':
      return [{ suffix: 'http', proto: 'tcp', port: '80' }];
    case 'https':
      return [{ suffix: 'https', proto: 'tcp', port: '443' }];
  }
}

/** Where the device is in the spec: `['routers', <name>]` or `['switches', <name>]`. */
export function specPathOf(device: Pick<OpenWrtRouter, 'kind' | 'name'>): [string, string] {
  return [device.kind === 'switch' ? 'switches' : 'routers', device.name];
}

/** The same, as messages write it: `routers.<name>`, `switches.<name>`. */
export function specPath(device: Pick<OpenWrtRouter, 'kind' | 'name'>): string {
  return specPathOf(device).join('.');
}

/** The bridge-vlan `ports` of one network: its tagged ports (trunk-ports and derived) `:t`, its access ports `:u*`. */
export function bridgeVlanPorts(device: OpenWrtRouter, network: string): string[] {
  return [...taggedPorts(device, network).map((p) => `${p}:t`), ...untaggedPorts(device, network).map((p) => `${p}:u*`)];
}

export function desiredState(model: Model, router: OpenWrtRouter): OpenWrtDesired {
  const networks = router.networks.map((name) => findNetwork(model, name));
  const sections: UciSection[] = [];
  const foreign: UciForeignOption[] = [];
  const filtering = vlanFiltering(router);
  const layer3 = capabilities(router).layer3;
  const vlanDevice = (n: NetworkModel) => `${router.device}.${n.vlan}`;

  if (filtering) {
    sections.push({
      config: 'network',
      name: `${SECTION_PREFIX}lan_vlan`,
      type: 'bridge-vlan',
      options: [
        ['device', router.device],
        ['vlan', String(router.lanVlan)],
        // an access port leaves the LAN: its PVID is its network's VLAN now
        ['ports', router.lanPorts.filter((p) => !router.accessPorts.includes(p)).map((p) => `${p}:u*`).join(' ')],
      ],
    });
    foreign.push({
      config: 'network',
      section: router.lanInterface!,
      option: 'device',
      value: `${router.device}.${router.lanVlan}`,
      why: `bridge-vlan sections turn on VLAN filtering on ${router.device}; the LAN's untagged traffic then arrives on ${router.device}.${router.lanVlan}`,
    });
  }

  for (const n of networks) {
    const s = n.names.uciSection;
    if (filtering) {
      // trunk ports (and the ports derived from the path) tagged, access ports untagged with this VLAN as
      // their PVID; none at all leaves the VLAN on the bridge itself (the router's own <device>.<vlan>)
      const ports = bridgeVlanPorts(router, n.name);
      sections.push({
        config: 'network',
        name: `${s}_vlan`,
        type: 'bridge-vlan',
        options: [['device', router.device], ['vlan', String(n.vlan)], ...(ports.length > 0 ? ([['ports', ports.join(' ')]] as Array<[string, string]>) : [])],
      });
    } else if (layer3) {
      // Without VLAN filtering an 802.1Q device on the bridge carries the VLAN tagged on every bridge port.
      sections.push({
        config: 'network',
        name: `${s}_dev`,
        type: 'device',
        options: [
          ['type', '8021q'],
          ['ifname', router.device],
          ['vid', String(n.vlan)],
          ['name', vlanDevice(n)],
        ],
      });
    }
    // a switch carries the VLAN between its ports; it has no address, zone or DHCP server on it
    if (!layer3) continue;
    const iface: Array<[string, string]> = [
      ['proto', 'static'],
      ['device', vlanDevice(n)],
      ['ipaddr', n.ipv4.gateway],
      ['netmask', n.ipv4.netmask],
    ];
    if (n.ipv6) iface.push(['ip6addr', n.ipv6.gatewayCidr]);
    sections.push({ config: 'network', name: s, type: 'interface', options: iface });
  }

  if (!layer3) return { sections, foreign };

  for (const n of networks) {
    sections.push({
      config: 'firewall',
      name: n.names.uciSection,
      type: 'zone',
      options: [
        ['name', n.names.firewallZone],
        ['network', n.names.uciSection],
        ['input', 'REJECT'],
        ['output', 'ACCEPT'],
        ['forward', 'REJECT'],
      ],
    });
  }

  const seenForwarding = new Set<string>();
  const forwarding = (name: string, src: string, dest: string) => {
    const key = `${src}>${dest}`;
    if (seenForwarding.has(key)) return;
    seenForwarding.add(key);
    sections.push({ config: 'firewall', name, type: 'forwarding', options: [['src', src], ['dest', dest]] });
  };
  const zone = (name: string) => findNetwork(model, name).names.firewallZone;
  const section = (name: string) => findNetwork(model, name).names.uciSection.slice(SECTION_PREFIX.length);
  for (const n of networks) {
    const s = n.names.uciSection;
    const fw = n.firewall!;
    if (fw.internet) forwarding(`${s}_wan`, n.names.firewallZone, router.wanZone);
    for (const src of fw.from) {
      if (src === 'lan') forwarding(`${s}_from_lan`, router.lanZone, n.names.firewallZone);
      else forwarding(`${s}_from_${section(src)}`, zone(src), n.names.firewallZone);
    }
    for (const dst of fw.to) {
      if (dst === 'lan') forwarding(`${s}_to_lan`, n.names.firewallZone, router.lanZone);
      else forwarding(`${s}_to_${section(dst)}`, n.names.firewallZone, zone(dst));
    }
  }

  for (const n of networks) {
    if (n.ipv6) {
      // Neighbour discovery is untracked, so fw4 never sees it as established: without this rule the zone's
      // input REJECT keeps containers from resolving their IPv6 gateway (OpenWrt's own Allow-ICMPv6-Input).
      sections.push({
        config: 'firewall',
        name: `${n.names.uciSection}_icmpv6_nd`,
        type: 'rule',
        options: [
          ['name', `flatnet ${n.name} icmpv6 neighbour discovery`],
          ['src', n.names.firewallZone],
          ['proto', 'icmp'],
          ['family', 'ipv6'],
          ['icmp_type', 'neighbour-solicitation neighbour-advertisement router-solicitation packet-too-big'],
          ['target', 'ACCEPT'],
        ],
      });
    }
    for (const service of n.firewall!.allowInput) {
      for (const r of serviceRules(service, n.ipv6 !== undefined)) {
        const options: Array<[string, string]> = [
          ['name', `flatnet ${n.name} ${r.suffix}`],
          ['src', n.names.firewallZone],
          ['proto', r.proto],
        ];
        if (r.port) options.push(['dest_port', r.port]);
        if (r.family) options.push(['family', r.family]);
        options.push(['target', 'ACCEPT']);
        sections.push({ config: 'firewall', name: `${n.names.uciSection}_${r.suffix}`, type: 'rule', options });
      }
    }
  }

  // A VLAN network with dhcp-pool: dnsmasq serves the pool on the network's interface (it offers the router
  // as gateway and DNS by default). start is counted from the subnet's network address, as uci's dhcp does.
  for (const n of networks) {
    if (!n.dhcpServer || !n.ipv4.dhcpPool) continue;
    const base = parseCidr(n.ipv4.subnet)!.first;
    const first = parseIp(n.ipv4.dhcpPool.first)!.value;
    const last = parseIp(n.ipv4.dhcpPool.last)!.value;
    sections.push({
      config: 'dhcp',
      name: n.names.uciSection,
      type: 'dhcp',
      options: [
        ['interface', n.names.uciSection],
        ['start', String(first - base)],
        ['limit', String(last - first + 1n)],
        ['leasetime', n.dhcpServer.leaseTime],
      ],
    });
  }
  // the spec's owner: recorded in every section flatnet makes (option flatnet_owner)
  const owner = model.ownership.owner;
  return { sections: owner === undefined ? sections : sections.map((x) => ({ ...x, options: [...x.options, [UCI_OWNER_OPTION, owner] as [string, string]] })), foreign };
}

/**
 * What generated config records about the LAN option it sets outside flatnet's sections: what the LAN used
 * before (the bridge itself, which trunk-ports require), so the batch header's cleanup can put it back once
 * trunk-ports are gone, as apply does (apply records the live value instead).
 */
export function stateSections(router: OpenWrtRouter, foreign: readonly UciForeignOption[], owner?: string): UciSection[] {
  return foreign.map((f) => ({
    config: f.config,
    name: `${SECTION_PREFIX}state`,
    type: 'flatnet_state',
    options: [
      ['lan_interface', f.section],
      ['lan_device', router.device],
      ...(owner !== undefined ? [[UCI_OWNER_OPTION, owner] as [string, string]] : []),
    ],
  }));
}

/**
 * A shell test, for the batch header, that the section `ref` (shell words, e.g. `$c.$s`) is this spec's: its
 * flatnet_owner is the spec's owner, or it has none for a spec without owner.
 */
export function uciOwnedTest(ref: string, owner: string | undefined): string {
  const get = `"$(uci -q get ${ref}.${UCI_OWNER_OPTION})"`;
  return owner === undefined ? `[ -z ${get} ]` : `[ ${get} = ${owner} ]`;
}

/** What turns on VLAN filtering on the device's bridge, in the spec's words (for messages). */
export function filteringReason(device: OpenWrtRouter): string {
  if (device.trunkPorts.length > 0) return 'trunk-ports';
  const derived = [...new Set(device.networks.flatMap((n) => taggedPorts(device, n)))];
  if (derived.length > 0) return `the ports the path tags (${derived.join(', ')})`;
  return 'access-ports';
}

/**
 * A VLAN network the device carries on its bridge with the LAN's own VLAN id: two bridge-vlan sections with one
 * VID, the LAN's ports untagged in one and the network's in the other. (The spec check catches it for routers
 * with trunk- or access-ports; this also covers derived ports and switches.)
 */
export function lanVlanClash(model: Model, device: OpenWrtRouter): string | undefined {
  if (!vlanFiltering(device)) return undefined;
  const n = device.networks.map((name) => findNetwork(model, name)).find((x) => x.vlan === device.lanVlan);
  return n ? `${device.lanVlan} is also the VLAN of network "${n.name}", which this ${device.kind} carries: give the untagged LAN another lan-vlan (or the network another vlan)` : undefined;
}

/** Generated config cannot read the router: with trunk-, derived or access ports it needs lan-ports and lan-interface from the spec. */
export function requireGenerateLan(router: OpenWrtRouter, model?: Model): void {
  const clash = model ? lanVlanClash(model, router) : undefined;
  if (clash) throw new UserError(`${specPath(router)}.lan-vlan: ${clash}`);
  if (vlanFiltering(router) && (router.lanPorts.length === 0 || router.lanInterface === undefined)) {
    // bridge-vlan sections turn on VLAN filtering: without the LAN's own bridge-vlan and device the LAN is cut off
    const missing = [router.lanPorts.length === 0 ? 'lan-ports' : '', router.lanInterface === undefined ? 'lan-interface' : ''].filter(Boolean).join(' and ');
    throw new UserError(
      `${specPath(router)}: with ${filteringReason(router)}, generate needs ${missing} (bridge-vlan sections turn on VLAN filtering, and the untagged LAN is cut off without them); plan/apply read them from the ${router.kind}`,
    );
  }
}

export function renderBatch(model: Model, router: OpenWrtRouter): string {
  requireGenerateLan(router, model);
  const { sections, foreign } = desiredState(model, router);
  const state = stateSections(router, foreign, model.ownership.owner);
  const layer3 = capabilities(router).layer3;
  const configs = [...new Set(sections.map((s) => s.config))];
  return renderTemplate('openwrt', 'batch.uci', {
    router,
    kind: router.kind,
    layer3,
    networks: router.networks.map((name) => {
      const n = findNetwork(model, name);
      const tagged = taggedPorts(router, name);
      const untagged = untaggedPorts(router, name);
      const carried = [tagged.length > 0 ? `tagged on ${tagged.join(' ')}` : '', untagged.length > 0 ? `untagged (PVID) on ${untagged.join(' ')}` : ''].filter(Boolean).join(', ');
      return { name: n.name, vlan: n.vlan, subnet: n.ipv4.subnet, ipv6: n.ipv6 ? n.ipv6.subnet : null, device: `${router.device}.${n.vlan}`, carried };
    }),
    sections: [...state, ...sections],
    foreign,
    // the configs the header's cleanup and commit line cover: a switch has flatnet sections in network only
    cleanupConfigs: layer3 ? 'network firewall dhcp' : 'network',
    // ... and only this spec's owner's sections (the LAN put back only from this spec's own record)
    ownedState: uciOwnedTest('network.flatnet_state', model.ownership.owner),
    ownedSection: uciOwnedTest('$c.$s', model.ownership.owner),
    configs,
  });
}

export const openwrtTarget: Target = routerTarget('openwrt', 'openwrt', (model, router) => [
  { path: `openwrt/${router.name}.uci`, content: renderBatch(model, router) },
]);
