// The resolved model: the spec parsed once, with defaults filled, names derived and addresses computed.
// Every target renders from this model only, never from the raw YAML.
import { linuxNameProblem, ProblemList } from './checks.js';
import { SpecError, type SpecPath, type SpecProblem } from './errors.js';
import { sortProblems } from './spec-file/load.js';
import { contains, ipText, netmaskOf, overlaps, parseCidr, type Cidr, type Family, type Ip, type IpRange } from './ip.js';
import type { LoadedSpec } from './spec-file/load.js';
import { CONNECTED_TO, ROS_NAME, SSH_TARGET, type HostSpec, UCI_WORD, type NetworkSpec, type OpenWrtRouterSpec, type OpenWrtSwitchSpec, type PersistMode, type RouterOSRouterSpec, type RouterOSSwitchSpec, type ServiceName } from './spec-file/schema.js';
import { capabilities, type DeviceKind } from './devices.js';
import { mark, type Ownership } from './ownership.js';

/** A port of a router or switch, where one end of a cable is. */
export interface PortRef {
  device: string;
  port: string;
}

/** The ports of one bridge device that carry one VLAN network. */
export interface VlanPorts {
  /** tagged: a router's trunk-ports, and the ports on the path from the network's hosts and switches */
  tagged: string[];
  /** untagged, with the VLAN as PVID: the network's access ports on this device */
  untagged: string[];
}

/** Fields every bridge device (router or switch) has, whatever its type. */
interface BridgeDeviceFields {
  /** router: the gateway of VLAN networks; switch: carries them between router and hosts */
  kind: Exclude<DeviceKind, 'host'>;
  /** switch: its port towards the router (or an upstream switch) */
  uplink?: string;
  /** switch: the upstream device's port the uplink is cabled to */
  upstream?: PortRef;
  /** per VLAN network carried on this device's bridge (router: every network it is the gateway of) */
  vlanPorts: Record<string, VlanPorts>;
  /** where in the spec each port this device carries VLANs on is named (live checks report there) */
  portPaths: Record<string, SpecPath>;
}

export type Driver = 'macvlan' | 'ipvlan';

export interface RouterOSRouter extends BridgeDeviceFields {
  type: 'routeros';
  name: string;
  address: string;
  port: number;
  tls: boolean;
  tlsInsecure: boolean;
  /** api-ssl: verify the router's certificate against this CA (PEM) instead of the system's */
  caFile?: string;
  user: string;
  passwordEnv?: string;
  passwordFile?: string;
  bridge: string;
  wanList: string;
  lanList: string;
  trunkPorts: string[];
  /** names of the VLAN networks this router is the gateway of (a switch: that it carries), in spec order */
  networks: string[];
}

export interface OpenWrtRouter extends BridgeDeviceFields {
  type: 'openwrt';
  name: string;
  address: string;
  port: number;
  user: string;
  keyFile?: string;
  passwordEnv?: string;
  passwordFile?: string;
  hostKey?: string;
  device: string;
  wanZone: string;
  lanZone: string;
  trunkPorts: string[];
  /** with trunk-ports: the untagged LAN keeps working on these ports through its own bridge-vlan */
  lanPorts: string[];
  lanVlan: number;
  /** with trunk-ports: the UCI interface of the LAN, moved onto `<device>.<lan-vlan>` */
  lanInterface?: string;
  networks: string[];
  /** the access ports of all its networks */
  accessPorts: string[];
}

/**
 * An OpenWrt bridge filters VLANs (bridge-vlan sections) when a port carries a VLAN tagged or untagged;
 * the LAN then needs its own bridge-vlan and device.
 */
export function vlanFiltering(router: OpenWrtRouter): boolean {
  return router.trunkPorts.length > 0 || router.accessPorts.length > 0 || Object.values(router.vlanPorts).some((v) => v.tagged.length > 0);
}

/** A router or a switch: a device with a bridge that carries VLANs (the model has no other difference). */
export type RouterModel = RouterOSRouter | OpenWrtRouter;
export type BridgeDevice = RouterModel;

/** The ports of `device` that carry `network` tagged: trunk-ports and the derived ones. */
export function taggedPorts(device: BridgeDevice, network: string): string[] {
  return device.vlanPorts[network]?.tagged ?? [];
}

/** The access ports of `network` on `device`. */
export function untaggedPorts(device: BridgeDevice, network: string): string[] {
  return device.vlanPorts[network]?.untagged ?? [];
}

/** A cable of the path, from the lower end (a host NIC or a switch uplink) to the upper one. */
export interface Cable {
  /** the host or switch end */
  from: PortRef;
  /** the router or switch port it is cabled to */
  to: PortRef;
  /** VLAN networks carried tagged on it, in spec order */
  networks: string[];
}

export interface Ipv4Model {
  subnet: string;
  prefixLength: number;
  netmask: string;
  gateway: string;
  /** gateway/prefix, the router's interface address */
  gatewayCidr: string;
  /**
   * Docker's container range; '' for a network without hosts (a VLAN for cameras or IoT devices: the router side
   * only). Test with `hasContainers(n)`.
   */
  containerRange: string;
  dhcpPool?: { first: string; last: string };
}

export interface Ipv6Model {
  subnet: string;
  prefixLength: number;
  gateway: string;
  gatewayCidr: string;
  containerRange?: string;
}

export interface AuxAddress {
  name: string;
  address: string;
}

/** One network on one Docker host: what docker and the host's shim need. */
export interface Attachment {
  network: string;
  host: string;
  /** the host NIC towards the router */
  parent: string;
  /** docker's `-o parent=` and the shim's lower device: the network's vlan-device, `<parent>.<vlan>` or `<parent>` */
  link: string;
  vlan?: number;
  driver: Driver;
  shimName: string;
  ipv4: { ipRange: string; shimAddress: string; route: string };
  ipv6?: { ipRange?: string; shimAddress: string; route: string };
  /** every shim address of the network (all hosts), reserved in each host's docker IPAM */
  auxAddresses: AuxAddress[];
}

export interface FirewallModel {
  internet: boolean;
  /** 'lan' or names of networks on the same router that may open connections into this one */
  from: string[];
  /** 'lan' or names of networks on the same router this one may open connections to */
  to: string[];
  allowInput: ServiceName[];
}

export interface NetworkModel {
  name: string;
  router?: string;
  vlan?: number;
  driver: Driver;
  ipv4: Ipv4Model;
  ipv6?: Ipv6Model;
  hosts: string[];
  attachments: Attachment[];
  /** only for networks with a VLAN: an untagged network is the router's own LAN, left untouched */
  firewall?: FirewallModel;
  /** a VLAN network with dhcp-pool: the router serves DHCP on the VLAN from ipv4.dhcpPool */
  dhcpServer?: { leaseTime: string };
  /** router ports that carry the VLAN untagged (PVID); [] for an untagged network */
  accessPorts: string[];
  names: {
    /** RouterOS comment marking ownership */
    comment: string;
    /** OpenWrt section name prefix */
    uciSection: string;
    /** RouterOS VLAN interface */
    routerosInterface: string;
    /** OpenWrt firewall zone (fw3 allows at most 11 characters) */
    firewallZone: string;
  };
}

export interface HostModel {
  name: string;
  parent: string;
  /** the router or switch port the parent NIC is cabled to */
  connectedTo?: PortRef;
  address?: string;
  /** how apply makes the host's links survive a reboot */
  persist: PersistMode;
  attachments: Attachment[];
  /** reached over SSH (plan/apply/status from anywhere); absent: a local host, planned with --host on itself */
  ssh?: HostSsh;
}

export interface HostSsh {
  user: string;
  /** IP address or host name */
  address: string;
  port: number;
  keyFile?: string;
  /** `SHA256:…` pin; otherwise known_hosts */
  hostKey?: string;
  /** privileged commands through `sudo -n` */
  sudo: boolean;
}

/** Something in a valid spec the user should know about; reported like a problem, but nothing is refused. */
export type SpecWarning = SpecProblem;

export interface Model {
  version: 1;
  /** the spec's `owner:`, recorded on every object flatnet creates; `from`: plan/apply --from-owner */
  ownership: Ownership;
  routers: RouterModel[];
  /** managed switches between routers and hosts: bridge devices without layer 3 */
  switches: BridgeDevice[];
  /** every cable the spec describes (hosts' and switches' connected-to) */
  cables: Cable[];
  hosts: HostModel[];
  networks: NetworkModel[];
  /** located (line/col) when the spec text is known; sorted like problems */
  warnings: SpecWarning[];
}

/** Whether a network has a Docker side (hosts, container range, shims); a VLAN network may have none. */
export function hasContainers(n: NetworkModel): boolean {
  return n.hosts.length > 0;
}

export function findRouter(model: Model, name: string): RouterModel | undefined {
  return model.routers.find((r) => r.name === name);
}

/** A router or switch by name. */
export function findBridgeDevice(model: Model, name: string): BridgeDevice | undefined {
  return model.routers.find((r) => r.name === name) ?? model.switches.find((s) => s.name === name);
}
const networkIndex = new WeakMap<Model, Map<string, NetworkModel>>();
/** Looks a network up by name (indexed once per model: targets call this for every reference). */
export function findNetwork(model: Model, name: string): NetworkModel {
  let index = networkIndex.get(model);
  if (!index) {
    index = new Map(model.networks.map((n) => [n.name, n]));
    networkIndex.set(model, index);
  }
  const n = index.get(name);
  if (!n) throw new Error(`internal: network ${name} not in model`);
  return n;
}

// Network names are also Docker network names; "lan" and "wan" are reserved because firewall.from uses "lan".
const RESERVED_NETWORK_NAMES = new Set(['lan', 'wan']);

interface ParsedNetwork {
  spec: NetworkSpec;
  path: SpecPath;
  subnet?: Cidr;
  gateway?: Ip;
  range?: Cidr;
  dhcp?: IpRange;
  v6subnet?: Cidr;
  v6gateway?: Ip;
  v6range?: Cidr;
  hosts: string[];
}

/** Resolves a schema-valid spec into the model, running every consistency check. Throws SpecError. */
export function resolveModel(loaded: LoadedSpec): Model {
  const { spec } = loaded;
  const problems = new ProblemList();

  const routers: RouterModel[] = Object.entries(spec.routers).map(([name, r]) =>
    r.type === 'routeros' ? routerosDevice('router', name, r, problems) : openwrtDevice('router', name, r, problems),
  );
  const switches: BridgeDevice[] = Object.entries(spec.switches).map(([name, s]) =>
    s.type === 'routeros' ? routerosDevice('switch', name, s, problems) : openwrtDevice('switch', name, s, problems),
  );
  namespaceChecks(spec, problems);

  // A Map, not the parsed object: a name such as "constructor" must not find Object.prototype's.
  const hostSpecs = new Map(Object.entries(spec.hosts));
  const hostAddress = new Map<string, Ip>();
  const hosts: HostModel[] = Object.entries(spec.hosts).map(([name, h]) => {
    problems.linuxName(['hosts', name, 'parent'], h.parent);
    const address = h.address === undefined ? undefined : problems.interfaceAddress(['hosts', name, 'address'], h.address);
    if (address) hostAddress.set(name, address.address);
    const connectedTo = h['connected-to'] === undefined ? undefined : portRef(h['connected-to']);
    const ssh = hostSsh(name, h, problems);
    return { name, parent: h.parent, ...(connectedTo ? { connectedTo } : {}), address: address ? `${address.address.text}/${address.prefixLength}` : undefined, persist: h.persist, attachments: [], ...(ssh ? { ssh } : {}) };
  });

  const parsed: ParsedNetwork[] = Object.entries(spec.networks).map(([name, n]) => parseNetwork(name, n, problems));
  const networks: NetworkModel[] = [];
  /** `<router>/<port>` → the network whose access port it is */
  const accessPortOwners = new Map<string, string>();

  for (const p of parsed) {
    const name = p.path[1] as string;
    const n = p.spec;
    if (RESERVED_NETWORK_NAMES.has(name)) problems.add(p.path, `"${name}" is reserved (firewall.from uses "lan"); choose another network name`);
    const router = n.router === undefined ? undefined : routers.find((r) => r.name === n.router && capabilities(r).layer3);
    if (n.router !== undefined && !router) {
      const other = switches.find((s) => s.name === n.router);
      problems.add([...p.path, 'router'], other ? `"${n.router}" is a switch: the gateway of a network is a router (the switch carries its VLAN when the path goes through it)` : `router "${n.router}" is not defined under routers`);
    }
    if (n.router === undefined && n.vlan !== undefined) problems.add([...p.path, 'router'], 'is required for a network with a vlan (the router is its gateway)');
    if (n.vlan === undefined && n.firewall !== undefined) {
      problems.add([...p.path, 'firewall'], 'needs a vlan: an untagged network is the router\'s existing LAN, which flatnet leaves untouched');
    }
    p.hosts.forEach((h, i) => {
      if (!hostSpecs.has(h)) problems.add(Array.isArray(n.host) ? [...p.path, 'host', i] : [...p.path, 'host'], `host "${h}" is not defined under hosts`);
    });
    if (new Set(p.hosts).size !== p.hosts.length) problems.add([...p.path, 'host'], 'lists a host twice');

    const names = {
      comment: mark(name, spec.owner),
      uciSection: `flatnet_${name.replace(/-/g, '_')}`,
      routerosInterface: `vlan${n.vlan ?? 0}-${name}`,
      firewallZone: `fn_vlan${n.vlan ?? 0}`,
    };
    if (router && n.vlan !== undefined) router.networks.push(name);
    if (router?.type === 'openwrt' && n.vlan !== undefined) router.accessPorts.push(...routerAccessPorts(n['access-ports'], switches));

    const firewall: FirewallModel | undefined =
      n.vlan === undefined
        ? undefined
        : {
            internet: n.firewall?.internet ?? true,
            from: n.firewall?.from ?? ['lan'],
            to: n.firewall?.to ?? [],
            allowInput: n.firewall?.['allow-input'] ?? ['dns'],
          };

    // a VLAN network's dhcp-pool is served by the router: its clients need the DHCP port open on the router
    let dhcpServer: { leaseTime: string } | undefined;
    if (n.vlan !== undefined && n['dhcp-pool'] !== undefined) {
      dhcpServer = { leaseTime: n['dhcp-lease-time'] ?? '1h' };
      if (firewall && !firewall.allowInput.includes('dhcp')) {
        problems.add(n.firewall?.['allow-input'] !== undefined ? [...p.path, 'firewall', 'allow-input'] : [...p.path, 'dhcp-pool'], 'the router serves DHCP from dhcp-pool on this VLAN: add dhcp to firewall.allow-input');
      }
    } else if (n['dhcp-lease-time'] !== undefined) {
      problems.add([...p.path, 'dhcp-lease-time'], n.vlan === undefined ? 'is used only on a VLAN network (the router serves DHCP there); an untagged network keeps the router\'s own DHCP server' : 'is used only with dhcp-pool');
    }

    accessPortChecks(p, router, new Set(switches.map((x) => x.name)), accessPortOwners, problems);

    const attachments = p.subnet && p.gateway && p.range && p.hosts.length > 0 ? attach(p, name, hostSpecs, problems) : [];
    for (const a of attachments) hosts.find((h) => h.name === a.host)?.attachments.push(a);

    if (!p.subnet || !p.gateway || (p.hosts.length > 0 && !p.range)) continue;
    networks.push({
      name,
      router: n.router,
      vlan: n.vlan,
      driver: n.driver,
      ...(dhcpServer ? { dhcpServer } : {}),
      accessPorts: n.vlan === undefined ? [] : routerAccessPorts(n['access-ports'], switches),
      ipv4: {
        subnet: p.subnet.text,
        prefixLength: p.subnet.prefixLength,
        netmask: netmaskOf(p.subnet.prefixLength),
        gateway: p.gateway.text,
        gatewayCidr: `${p.gateway.text}/${p.subnet.prefixLength}`,
        containerRange: p.range?.text ?? '',
        dhcpPool: p.dhcp ? { first: ipText(4, p.dhcp.first), last: ipText(4, p.dhcp.last) } : undefined,
      },
      ipv6:
        p.v6subnet && p.v6gateway
          ? {
              subnet: p.v6subnet.text,
              prefixLength: p.v6subnet.prefixLength,
              gateway: p.v6gateway.text,
              gatewayCidr: `${p.v6gateway.text}/${p.v6subnet.prefixLength}`,
              containerRange: p.v6range?.text,
            }
          : undefined,
      hosts: p.hosts,
      attachments,
      firewall,
      names,
    });
  }

  crossChecks(parsed, routers, hostSpecs, hostAddress, problems);
  firewallChecks(parsed, problems);
  const cables = derivePaths(routers, switches, spec.switches, hosts, parsed, networks, problems);
  // once the path is known: an OpenWrt device that filters VLANs keeps its LAN in lan-vlan, which no VLAN it
  // carries may reuse (routers and switches alike)
  for (const device of [...routers, ...switches]) {
    if (device.type !== 'openwrt' || !vlanFiltering(device)) continue;
    for (const n of networks) {
      if (n.vlan === device.lanVlan && device.vlanPorts[n.name]) problems.add(['networks', n.name, 'vlan'], `VLAN ${n.vlan} is the lan-vlan of ${device.kind} "${device.name}"`);
    }
  }

  const located = (items: SpecProblem[]) => sortProblems(items.map((p) => ({ ...p, ...(loaded.locate(p.path) ?? {}) })));
  if (problems.items.length > 0) throw new SpecError(loaded.file, located(problems.items));
  return { version: 1, ownership: spec.owner !== undefined ? { owner: spec.owner } : {}, routers, switches, cables, hosts, networks, warnings: located(specWarnings(parsed)) };
}

/**
 * An access port carries one VLAN untagged: of one network only, never also tagged (a trunk port carries
 * every VLAN of the router tagged), and on OpenWrt not also in the untagged LAN's own bridge-vlan.
 */
function accessPortChecks(p: ParsedNetwork, router: RouterModel | undefined, switchNames: ReadonlySet<string>, owners: Map<string, string>, problems: ProblemList): void {
  const ports = p.spec['access-ports'];
  if (ports.length === 0) return;
  const name = p.path[1] as string;
  const at = (...k: Array<string | number>) => [...p.path, 'access-ports', ...k];
  if (p.spec.vlan === undefined) {
    problems.add(at(), 'is used only with a vlan: the ports of the untagged LAN are the router\'s own');
    return;
  }
  if (!router) return; // reported under router
  ports.forEach((port, i) => {
    if (ports.indexOf(port) !== i) return problems.add(at(i), `"${port}" is listed twice`);
    if (switchPort(port, switchNames) !== undefined) return; // a switch's port: checked with the path
    if (router.type === 'openwrt' && !UCI_WORD.test(port)) {
      return problems.add(at(i), `"${port}" is not an OpenWrt port name (1-32 characters of letters, digits, ".", "_", "@" or "-")`);
    }
    if (router.trunkPorts.includes(port)) {
      return problems.add(at(i), `"${port}" is a trunk port of router "${router.name}" (it carries every VLAN of the router tagged); a port is either a trunk port or an access port`);
    }
    if (router.type === 'openwrt' && router.lanPorts.includes(port)) {
      return problems.add(at(i), `"${port}" is in lan-ports of router "${router.name}": an access port leaves the untagged LAN; remove it from routers.${router.name}.lan-ports`);
    }
    const key = `${router.name}/${port}`;
    const owner = owners.get(key);
    if (owner !== undefined) return problems.add(at(i), `"${port}" is already an access port of network "${owner}" on router "${router.name}"; a port carries one VLAN untagged`);
    owners.set(key, name);
  });
}

/** fc00::/7: unique local addresses, not routed on the internet. */
const ULA = parseCidr('fc00::/7')!;

function specWarnings(parsed: ParsedNetwork[]): SpecProblem[] {
  const warnings: SpecProblem[] = [];
  for (const p of parsed) {
    const n = p.spec;
    if (n.vlan === undefined || !p.v6subnet || (n.firewall?.internet ?? true) !== true) continue;
    if (contains(ULA, p.v6subnet)) {
      warnings.push({
        path: [...p.path, 'ipv6', 'subnet'],
        message: `${p.v6subnet.text} is a unique local (ULA, fc00::/7) prefix: with internet: true the network reaches the IPv6 internet only if the router translates it (NPTv6 or NAT66); flatnet sets up neither`,
      });
    }
  }
  return warnings;
}

/** The fields every bridge device starts with, router or switch. */
function bridgeDeviceBase(kind: BridgeDevice['kind'], spec: object) {
  const uplink = 'uplink' in spec ? (spec.uplink as string | undefined) : undefined;
  return {
    kind,
    vlanPorts: Object.create(null) as Record<string, VlanPorts>, // keyed by network names: no prototype to find "constructor" in
    portPaths: Object.create(null) as Record<string, SpecPath>,
    ...(uplink !== undefined ? { uplink } : {}),
  };
}

/** A RouterOS router or switch: the same connection and bridge; only a router has a firewall (lists) and trunk-ports. */
function routerosDevice(kind: BridgeDevice['kind'], name: string, r: RouterOSRouterSpec | RouterOSSwitchSpec, problems: ProblemList): RouterOSRouter {
  const path = [kind === 'router' ? 'routers' : 'switches', name];
  // TLS settings without tls would be silently ignored: a user who set them expects them to apply
  if (!r.tls && r['ca-file'] !== undefined) problems.add([...path, 'ca-file'], 'is used only with tls: true (api-ssl)');
  if (!r.tls && r['tls-insecure']) problems.add([...path, 'tls-insecure'], 'is used only with tls: true (api-ssl)');
  return {
    type: 'routeros',
    ...bridgeDeviceBase(kind, r),
    name,
    address: r.address,
    port: r.port ?? (r.tls ? 8729 : 8728),
    tls: r.tls,
    tlsInsecure: r['tls-insecure'],
    caFile: r['ca-file'],
    user: r.user ?? 'admin',
    passwordEnv: r['password-env'],
    passwordFile: r['password-file'],
    bridge: r.bridge,
    // a switch has no firewall: its lists are never read
    wanList: 'wan' in r ? r.wan : 'WAN',
    lanList: 'lan' in r ? r.lan : 'LAN',
    trunkPorts: 'trunk-ports' in r ? r['trunk-ports'] : [],
    networks: [],
  };
}

/**
 * An OpenWrt router or switch. With trunk-ports (or a path), lan-ports and lan-interface may be left out:
 * plan/apply read them from the device, and generate (which cannot) asks for them then.
 */
function openwrtDevice(kind: BridgeDevice['kind'], name: string, r: OpenWrtRouterSpec | OpenWrtSwitchSpec, problems: ProblemList): OpenWrtRouter {
  problems.linuxName([kind === 'router' ? 'routers' : 'switches', name, 'device'], r.device);
  return {
    type: 'openwrt',
    ...bridgeDeviceBase(kind, r),
    name,
    address: r.address,
    port: r.port ?? 22,
    user: r.user ?? 'root',
    keyFile: r['key-file'],
    passwordEnv: r['password-env'],
    passwordFile: r['password-file'],
    hostKey: r['host-key'],
    device: r.device,
    // a switch has no firewall: its zones are never read
    wanZone: 'wan-zone' in r ? r['wan-zone'] : 'wan',
    lanZone: 'lan-zone' in r ? r['lan-zone'] : 'lan',
    trunkPorts: 'trunk-ports' in r ? r['trunk-ports'] : [],
    lanPorts: r['lan-ports'] ?? [],
    lanVlan: r['lan-vlan'],
    lanInterface: r['lan-interface'],
    networks: [],
    accessPorts: [],
  };
}

function parseNetwork(name: string, n: NetworkSpec, problems: ProblemList): ParsedNetwork {
  const path: SpecPath = ['networks', name];
  const at = (...k: Array<string | number>) => [...path, ...k];
  const out: ParsedNetwork = { spec: n, path, hosts: n.host === undefined ? [] : Array.isArray(n.host) ? n.host : [n.host] };

  out.subnet = problems.network(at('subnet'), n.subnet, 4);
  out.gateway = problems.ip(at('gateway'), n.gateway, 4);
  if (n.host === undefined) {
    // A network without containers (cameras, IoT devices on access ports): the router side only. The Docker and
    // shim keys would be silently ignored, so they are refused, as other keys that mean nothing on their own.
    if (n.vlan === undefined) problems.add(at('host'), 'is required for an untagged network: without a vlan flatnet leaves the router\'s LAN untouched, so the network has nothing to do without a Docker host');
    for (const key of ['container-range', 'shim-address', 'shim-name', 'vlan-device'] as const) {
      if (n[key] !== undefined) problems.add(at(key), `is used only with host: a network without a Docker host has no containers or shim; add host, or remove ${key}`);
    }
    for (const key of ['container-range', 'shim-address'] as const) {
      if (n.ipv6?.[key] !== undefined) problems.add(at('ipv6', key), `is used only with host: a network without a Docker host has no containers or shim; add host, or remove ${key}`);
    }
  } else if (n['container-range'] === undefined) {
    problems.add(at('container-range'), 'is required with host: the prefix Docker allocates the containers\' addresses from (docker --ip-range)');
  } else {
    out.range = problems.network(at('container-range'), n['container-range'], 4);
  }
  const { subnet, gateway, range } = out;
  if (subnet && subnet.prefixLength > 30) problems.add(at('subnet'), `/${subnet.prefixLength} leaves no room for a gateway and containers; use /30 or shorter`);
  if (subnet && subnet.prefixLength < 8) problems.add(at('subnet'), `/${subnet.prefixLength} is not one layer-2 segment; use /8 or longer`);
  if (subnet && gateway) {
    if (!contains(subnet, gateway.value)) problems.add(at('gateway'), `${gateway.text} is outside subnet ${subnet.text}`);
    else if (gateway.value === subnet.first) problems.add(at('gateway'), `${gateway.text} is the network address of ${subnet.text}`);
    else if (gateway.value === subnet.last) problems.add(at('gateway'), `${gateway.text} is the broadcast address of ${subnet.text}`);
  }
  if (subnet && range) {
    if (!contains(subnet, range)) problems.add(at('container-range'), `${range.text} is not inside subnet ${subnet.text}`);
    else if (gateway && contains(range, gateway.value)) problems.add(at('container-range'), `${range.text} contains the gateway ${gateway.text}`);
  }
  if (n['dhcp-pool'] !== undefined) {
    const pool = problems.range(at('dhcp-pool'), n['dhcp-pool'], 4);
    if (pool) {
      out.dhcp = { first: pool.first.value, last: pool.last.value };
      if (subnet && !contains(subnet, out.dhcp)) problems.add(at('dhcp-pool'), `${n['dhcp-pool']} is not inside subnet ${subnet.text}`);
      if (range && overlaps(range, out.dhcp)) problems.add(at('dhcp-pool'), `${n['dhcp-pool']} overlaps container-range ${range.text}: the router's DHCP server would hand out container addresses`);
      if (gateway && contains(out.dhcp, gateway.value)) problems.add(at('dhcp-pool'), `${n['dhcp-pool']} contains the gateway ${gateway.text}`);
    }
  }
  if (n['shim-name'] !== undefined) problems.linuxName(at('shim-name'), n['shim-name']);
  if (n['vlan-device'] !== undefined) {
    if (n.vlan === undefined) problems.add(at('vlan-device'), 'is used only with a vlan: an untagged network uses the host\'s parent itself');
    else problems.linuxName(at('vlan-device'), n['vlan-device']);
  }

  if (n.ipv6) {
    out.v6subnet = problems.network(at('ipv6', 'subnet'), n.ipv6.subnet, 6);
    out.v6gateway = problems.ip(at('ipv6', 'gateway'), n.ipv6.gateway, 6);
    const s6 = out.v6subnet;
    const g6 = out.v6gateway;
    if (s6 && s6.prefixLength > 126) problems.add(at('ipv6', 'subnet'), `/${s6.prefixLength} is too small for a gateway and containers`);
    if (s6 && s6.prefixLength < 32) problems.add(at('ipv6', 'subnet'), `/${s6.prefixLength} is not one layer-2 segment; use /32 or longer (usually /64)`);
    if (s6 && g6) {
      if (!contains(s6, g6.value)) problems.add(at('ipv6', 'gateway'), `${g6.text} is outside subnet ${s6.text}`);
      else if (g6.value === s6.first) problems.add(at('ipv6', 'gateway'), `${g6.text} is the subnet-router anycast address of ${s6.text}`);
    }
    if (n.vlan === undefined && n.host !== undefined && n.ipv6['container-range'] === undefined) {
      // on the untagged LAN, the whole prefix is the LAN's: Docker would hand out addresses of other hosts and
      // the shim's route would take the host's own LAN traffic
      problems.add(at('ipv6', 'container-range'), 'is required for an untagged network: the IPv6 subnet is the LAN\'s own prefix');
    }
    if (n.ipv6['container-range'] !== undefined && n.host !== undefined) {
      out.v6range = problems.network(at('ipv6', 'container-range'), n.ipv6['container-range'], 6);
      if (out.v6range && s6 && !contains(s6, out.v6range)) problems.add(at('ipv6', 'container-range'), `${out.v6range.text} is not inside subnet ${s6.text}`);
      else if (out.v6range && g6 && contains(out.v6range, g6.value)) problems.add(at('ipv6', 'container-range'), `${out.v6range.text} contains the gateway ${g6.text}`);
    }
  }
  return out;
}

/** Splits a range into `parts` equal slices (parts rounded up to a power of two), one per host. */
export function slices(range: Cidr, parts: number, family: Family): Cidr[] | undefined {
  let bits = 0;
  while (1 << bits < parts) bits++;
  const length = range.prefixLength + bits;
  if (length > (family === 4 ? 30 : 126)) return undefined;
  const size = 1n << BigInt((family === 4 ? 32 : 128) - length);
  return Array.from({ length: parts }, (_, i) => {
    const first = range.first + BigInt(i) * size;
    const last = first + size - 1n;
    return { family, first, last, prefixLength: length, text: `${ipText(family, first)}/${length}`, address: { family, value: first, text: ipText(family, first) } };
  });
}

/** The first address of a slice that is neither the subnet's own (network/anycast) address nor the gateway. */
export function firstUsable(slice: Cidr, subnet: Cidr, gateway: Ip): bigint {
  let a = slice.first;
  while (a === subnet.first || a === gateway.value) a++;
  return a;
}

/** The host's lower device for the network: the parent itself untagged, else vlan-device or `<parent>.<vlan>`. */
function linkOf(n: NetworkSpec, parent: string): string {
  return n.vlan === undefined ? parent : (n['vlan-device'] ?? `${parent}.${n.vlan}`);
}

/** The shim's name: as given, else fn-<vlan>, else fn-<network>. */
function shimNameOf(network: string, n: NetworkSpec): string {
  return n['shim-name'] ?? (n.vlan !== undefined ? `fn-${n.vlan}` : `fn-${network}`);
}

function attach(p: ParsedNetwork, name: string, hostSpecs: Map<string, { parent: string }>, problems: ProblemList): Attachment[] {
  const n = p.spec;
  const subnet = p.subnet!;
  const gateway = p.gateway!;
  const range = p.range!;
  const at = (...k: Array<string | number>) => [...p.path, ...k];
  const hosts = p.hosts.filter((h) => hostSpecs.has(h));
  if (hosts.length === 0) return [];
  const multi = hosts.length > 1;
  if (multi && n['shim-address'] !== undefined) {
    problems.add(at('shim-address'), 'cannot be given for a network on several hosts: each host needs its own shim address; leave it out to derive one per host');
    return [];
  }

  // Docker's IPAM is per host: hosts sharing a network get disjoint slices of container-range.
  const v4slices = multi ? slices(range, hosts.length, 4) : [range];
  if (!v4slices) {
    problems.add(at('container-range'), `${range.text} is too small to split between ${hosts.length} hosts`);
    return [];
  }
  const v4shims: bigint[] = [];
  if (n['shim-address'] !== undefined) {
    const shim = problems.ip(at('shim-address'), n['shim-address'], 4);
    if (!shim) return [];
    if (!contains(subnet, shim.value)) problems.add(at('shim-address'), `${shim.text} is outside subnet ${subnet.text}`);
    else if (shim.value === gateway.value) problems.add(at('shim-address'), `${shim.text} is the gateway`);
    else if (shim.value === subnet.first || shim.value === subnet.last) problems.add(at('shim-address'), `${shim.text} is the network or broadcast address of ${subnet.text}`);
    if (p.dhcp && contains(p.dhcp, shim.value)) problems.add(at('shim-address'), `${shim.text} is inside dhcp-pool ${n['dhcp-pool']}`);
    v4shims.push(shim.value);
  } else {
    for (const s of v4slices) v4shims.push(firstUsable(s, subnet, gateway));
  }

  let v6slices: Cidr[] | undefined;
  const v6shims: bigint[] = [];
  if (p.v6subnet && p.v6gateway) {
    const v6base = p.v6range ?? p.v6subnet;
    v6slices = multi ? slices(v6base, hosts.length, 6) : [v6base];
    if (!v6slices) {
      problems.add(at('ipv6', p.v6range ? 'container-range' : 'subnet'), `${v6base.text} is too small to split between ${hosts.length} hosts`);
      return [];
    }
    const given = n.ipv6?.['shim-address'];
    if (given !== undefined) {
      if (multi) {
        problems.add(at('ipv6', 'shim-address'), 'cannot be given for a network on several hosts: leave it out to derive one per host');
        return [];
      }
      const shim = problems.ip(at('ipv6', 'shim-address'), given, 6);
      if (!shim) return [];
      if (!contains(p.v6subnet, shim.value)) problems.add(at('ipv6', 'shim-address'), `${shim.text} is outside subnet ${p.v6subnet.text}`);
      else if (shim.value === p.v6gateway.value) problems.add(at('ipv6', 'shim-address'), `${shim.text} is the gateway`);
      v6shims.push(shim.value);
    } else {
      for (const s of v6slices) v6shims.push(firstUsable(s, p.v6subnet, p.v6gateway));
    }
  }

  const aux: AuxAddress[] = [];
  hosts.forEach((h, i) => {
    const suffix = multi ? `-${h}` : '';
    aux.push({ name: `host${suffix}`, address: ipText(4, v4shims[i]!) });
    if (v6shims.length) aux.push({ name: `host6${suffix}`, address: ipText(6, v6shims[i]!) });
  });

  return hosts.map((host, i) => {
    const parent = hostSpecs.get(host)!.parent;
    const link = linkOf(n, parent);
    const shimName = shimNameOf(name, n);
    const attachment: Attachment = {
      network: name,
      host,
      parent,
      link,
      vlan: n.vlan,
      driver: n.driver,
      shimName,
      ipv4: { ipRange: v4slices[i]!.text, shimAddress: ipText(4, v4shims[i]!), route: range.text },
      auxAddresses: aux,
    };
    if (v6slices && p.v6subnet) {
      attachment.ipv6 = {
        ipRange: p.v6range || multi ? v6slices[i]!.text : undefined,
        shimAddress: ipText(6, v6shims[i]!),
        route: (p.v6range ?? p.v6subnet).text,
      };
    }
    return attachment;
  });
}

function crossChecks(
  parsed: ParsedNetwork[],
  routers: RouterModel[],
  hostSpecs: Map<string, { parent: string }>,
  hostAddress: Map<string, Ip>,
  problems: ProblemList,
): void {
  const seenVlan = new Map<string, string>();
  const seenLink = new Map<string, string>();
  const seenShim = new Map<string, string>();
  for (const p of parsed) {
    const n = p.spec;
    const name = p.path[1] as string;
    if (n.vlan !== undefined && n.router !== undefined) {
      const key = `${n.router}/${n.vlan}`;
      const other = seenVlan.get(key);
      if (other) problems.add([...p.path, 'vlan'], `VLAN ${n.vlan} is already used by network "${other}" on router "${n.router}"`);
      else seenVlan.set(key, name);
    }
    for (const [i, host] of p.hosts.entries()) {
      if (p.hosts.indexOf(host) !== i) continue; // listed twice: reported once already
      const hostPath: SpecPath = Array.isArray(n.host) ? [...p.path, 'host', i] : [...p.path, 'host'];
      // A bad parent name is reported once under hosts, not again for every network on it.
      const hostParent = hostSpecs.get(host)?.parent;
      if (hostParent === undefined || linuxNameProblem(hostParent) !== undefined) continue;
      // Docker refuses two macvlan networks on one parent; the host's routing table needs distinct shims.
      const link = linkOf(n, hostParent);
      if (n.vlan !== undefined && n['vlan-device'] === undefined) {
        const vlanLinkProblem = linuxNameProblem(link);
        if (vlanLinkProblem) problems.add([...p.path, 'vlan'], `the VLAN device on host "${host}": ${vlanLinkProblem}; set networks.${name}.vlan-device to a shorter name`);
      }
      if (n.vlan !== undefined && n['vlan-device'] === hostParent) {
        problems.add([...p.path, 'vlan-device'], `"${hostParent}" is the parent of host "${host}" itself; the VLAN device needs a name of its own`);
      }
      const linkKey = `${host}/${link}`;
      const linkOwner = seenLink.get(linkKey);
      if (linkOwner) problems.add(hostPath, `host "${host}" already attaches network "${linkOwner}" to ${link}; Docker allows one ${n.driver} network per parent interface`);
      else seenLink.set(linkKey, name);
      const shim = shimNameOf(name, n);
      if (n['shim-name'] === undefined) {
        const shimProblem = linuxNameProblem(shim);
        if (shimProblem) problems.add([...p.path, 'shim-name'], `the default shim name ${shimProblem}; set shim-name`);
      }
      const shimKey = `${host}/${shim}`;
      const shimOwner = seenShim.get(shimKey);
      if (shimOwner) problems.add([...p.path, 'shim-name'], `shim "${shim}" is already used on host "${host}" by network "${shimOwner}"`);
      else seenShim.set(shimKey, name);

      const address = hostAddress.get(host);
      if (address && p.range && contains(p.range, address.value)) {
        problems.add(['hosts', host, 'address'], `${address.text} is inside container-range ${p.range.text} of network "${name}"`);
      } else if (address && p.gateway && address.value === p.gateway.value) {
        problems.add(['hosts', host, 'address'], `${address.text} is the gateway of network "${name}"`);
      } else if (address && n['shim-address'] === address.text) {
        problems.add([...p.path, 'shim-address'], `${address.text} is the address of host "${host}" itself: the same address on two MACs`);
      } else if (address && n.vlan === undefined && p.subnet && !contains(p.subnet, address.value)) {
        // an untagged network shares the parent with the host's own LAN address
        problems.add(['hosts', host, 'address'], `${address.text} is not inside subnet ${p.subnet.text} of network "${name}", which is untagged on ${hostParent}: the host's LAN and the network must be one subnet`);
      }
    }
  }

  // A VLAN device named like a shim on the same host would be one link with two jobs.
  for (const p of parsed) {
    const device = p.spec['vlan-device'];
    if (device === undefined || p.spec.vlan === undefined) continue;
    for (const host of new Set(p.hosts)) {
      const shimOwner = seenShim.get(`${host}/${device}`);
      if (shimOwner) problems.add([...p.path, 'vlan-device'], `"${device}" is the shim of network "${shimOwner}" on host "${host}"`);
    }
  }

  // Subnets that share a router or a host would share a routing table.
  const groups = new Map<string, ParsedNetwork[]>();
  const join = (key: string, p: ParsedNetwork) => (groups.get(key) ?? groups.set(key, []).get(key)!).push(p);
  for (const p of parsed) {
    if (p.spec.router !== undefined) join(`router "${p.spec.router}"`, p);
    for (const h of new Set(p.hosts)) join(`host "${h}"`, p);
  }
  const reported = new Set<string>();
  for (const [where, members] of groups) {
    for (const [family, pick] of [
      [4, (p: ParsedNetwork) => p.subnet],
      [6, (p: ParsedNetwork) => p.v6subnet],
    ] as const) {
      for (const [a, b] of overlappingPairs(members, pick)) {
        const key = `${family} ${a.path[1]} ${b.path[1]}`;
        if (reported.has(key)) continue;
        reported.add(key);
        const [sa, sb] = [pick(a)!, pick(b)!];
        problems.add([...b.path, ...(family === 4 ? ['subnet'] : ['ipv6', 'subnet'])], `${sb.text} overlaps ${sa.text} of network "${a.path[1]}" on ${where}`);
      }
    }
  }
}

/**
 * Pairs [earlier, later] (in spec order) of members whose prefixes overlap. Prefixes either nest or are
 * disjoint, so after sorting by first address each overlap shows against the widest prefix still open:
 * n log n instead of comparing every pair.
 */
function overlappingPairs(members: ParsedNetwork[], pick: (p: ParsedNetwork) => Cidr | undefined): Array<[ParsedNetwork, ParsedNetwork]> {
  const order = new Map(members.map((m, i) => [m, i]));
  const sorted = members
    .filter((m) => pick(m))
    .sort((x, y) => {
      const [a, b] = [pick(x)!, pick(y)!];
      return a.first < b.first ? -1 : a.first > b.first ? 1 : a.prefixLength - b.prefixLength || order.get(x)! - order.get(y)!;
    });
  const pairs: Array<[ParsedNetwork, ParsedNetwork]> = [];
  let open: ParsedNetwork | undefined;
  for (const m of sorted) {
    if (open && pick(m)!.first <= pick(open)!.last) {
      pairs.push(order.get(open)! < order.get(m)! ? [open, m] : [m, open]);
      if (pick(m)!.last > pick(open)!.last) open = m;
    } else {
      open = m;
    }
  }
  return pairs;
}


function firewallChecks(parsed: ParsedNetwork[], problems: ProblemList): void {
  const byName = new Map(parsed.map((p) => [p.path[1] as string, p]));
  for (const p of parsed) {
    const fw = p.spec.firewall;
    if (!fw || p.spec.vlan === undefined) continue;
    const self = p.path[1] as string;
    const refs: Array<[string, string[]]> = [
      ['from', fw.from],
      ['to', fw.to],
    ];
    for (const [key, list] of refs) {
      list.forEach((ref, i) => {
        const path = [...p.path, 'firewall', key, i];
        if (ref === 'lan') return;
        if (ref === self) return problems.add(path, 'a network cannot name itself');
        const other = byName.get(ref);
        if (!other) return problems.add(path, `"${ref}" is not a network (or "lan")`);
        if (other.spec.router !== p.spec.router) return problems.add(path, `network "${ref}" is on router "${other.spec.router ?? '(none)'}", not "${p.spec.router}": forwarding is set on one router`);
        if (other.spec.vlan === undefined) return problems.add(path, `network "${ref}" is untagged (the router's LAN); use "lan"`);
      });
      if (new Set(list).size !== list.length) problems.add([...p.path, 'firewall', key], 'lists an entry twice');
    }
    if (new Set(fw['allow-input']).size !== fw['allow-input'].length) problems.add([...p.path, 'firewall', 'allow-input'], 'lists a service twice');
  }
}

// ---- the path: switches, cables, derived trunking ---------------------------------------------------------

/** `<device>:<port>` (the schema checked the form). */
function portRef(text: string): PortRef {
  const m = CONNECTED_TO.exec(text)!;
  return { device: m[1]!, port: m[2]! };
}

/** An access-ports entry `<switch>:<port>`; undefined for a port of the network's router. */
function switchPort(entry: string, switchNames: ReadonlySet<string>): PortRef | undefined {
  const m = CONNECTED_TO.exec(entry);
  return m && switchNames.has(m[1]!) ? { device: m[1]!, port: m[2]! } : undefined;
}

/** The access-ports entries that name ports of the network's router. */
function routerAccessPorts(entries: readonly string[], switches: readonly BridgeDevice[]): string[] {
  const names = new Set(switches.map((s) => s.name));
  return entries.filter((e) => switchPort(e, names) === undefined);
}

/** Routers, switches and hosts share one name space: a cable's `<device>:<port>` must name one device. */
function namespaceChecks(spec: LoadedSpec['spec'], problems: ProblemList): void {
  const seen = new Map<string, string>();
  for (const [section, names] of [
    ['routers', Object.keys(spec.routers)],
    ['switches', Object.keys(spec.switches)],
    ['hosts', Object.keys(spec.hosts)],
  ] as const) {
    for (const name of names) {
      const other = seen.get(name);
      if (other !== undefined) problems.add([section, name], `"${name}" is also defined under ${other}: routers, switches and hosts share one name space`);
      else seen.set(name, section);
    }
  }
}

/** Why a port name cannot be a port of this device, or undefined. */
function portNameProblem(device: BridgeDevice, port: string): string | undefined {
  if (device.type === 'routeros' && !ROS_NAME.test(port)) return `"${port}" is not a RouterOS interface name`;
  if (device.type === 'openwrt' && !UCI_WORD.test(port)) return `"${port}" is not an OpenWrt port name (1-32 characters of letters, digits, ".", "_", "@" or "-")`;
  const bridge = device.type === 'routeros' ? device.bridge : device.device;
  if (port === bridge) return `"${port}" is the bridge of ${device.kind} "${device.name}" itself, not one of its ports`;
  return undefined;
}

const specPathText = (path: SpecPath) => path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('').slice(1).replace(/\.\[/g, '[');

/**
 * Checks the cabling (switches' uplink + connected-to, hosts' connected-to, switch access ports) and derives
 * which ports carry each VLAN network tagged: from each host of the network, and each switch with one of its
 * access ports, up to the network's router. Fills each device's vlanPorts and portPaths, and the switches'
 * networks; returns the cables.
 */
function derivePaths(
  routers: RouterModel[],
  switches: BridgeDevice[],
  switchSpecs: Record<string, { 'connected-to'?: string }>,
  hosts: HostModel[],
  parsed: ParsedNetwork[],
  networks: NetworkModel[],
  problems: ProblemList,
): Cable[] {
  const devices = new Map<string, BridgeDevice>([...routers, ...switches].map((d) => [d.name, d]));
  const hostNames = new Set(hosts.map((h) => h.name));
  const switchNames = new Set(switches.map((s) => s.name));

  // One cable per port: every use of a device port, with where it is named.
  type Use = { path: SpecPath; what: string; routerAccess: boolean };
  const used = new Map<string, Use>();
  const use = (device: BridgeDevice, port: string, u: Use) => {
    const key = `${device.name}\u0000${port}`;
    const first = used.get(key);
    if (!first) return void used.set(key, u);
    // a router's access ports are checked against each other with their network (accessPortChecks)
    if (first.routerAccess && u.routerAccess) return;
    problems.add(u.path, `port ${port} of ${device.kind} "${device.name}" is already ${first.what} (${specPathText(first.path)}): one cable per port`);
  };

  const cableEnd = (text: string, path: SpecPath, self?: string): PortRef | undefined => {
    const ref = portRef(text);
    const device = devices.get(ref.device);
    if (!device) {
      problems.add(path, hostNames.has(ref.device) ? `"${ref.device}" is a host: a cable ends on a port of a router or switch` : `"${ref.device}" is not a router or switch of the spec`);
      return undefined;
    }
    if (!capabilities(device).cablePorts) return void problems.add(path, `"${ref.device}" has no ports to cable to`);
    if (ref.device === self) return void problems.add(path, `a switch cannot be cabled to itself`);
    const bad = portNameProblem(device, ref.port);
    if (bad) return void problems.add(path, bad);
    return ref;
  };

  for (const h of hosts) {
    if (!h.connectedTo) continue;
    const path = ['hosts', h.name, 'connected-to'];
    const ref = cableEnd(`${h.connectedTo.device}:${h.connectedTo.port}`, path);
    if (!ref) {
      delete h.connectedTo;
      continue;
    }
    use(devices.get(ref.device)!, ref.port, { path, what: `the port of host "${h.name}"`, routerAccess: false });
  }
  // switches: uplink and connected-to come together
  for (const s of switches) {
    const at = (k: string) => ['switches', s.name, k];
    const text = switchSpecs[s.name]?.['connected-to'];
    if (s.uplink === undefined && text === undefined) {
      problems.add(['switches', s.name], 'has neither uplink nor connected-to: a switch reaches its router through its uplink, cabled to <device>:<port>');
      continue;
    }
    if (s.uplink === undefined) {
      problems.add(at('connected-to'), 'needs uplink: the port of this switch the cable is plugged into');
      continue;
    }
    if (text === undefined) {
      problems.add(at('uplink'), 'needs connected-to: the router or switch port the uplink is cabled to (<device>:<port>)');
      continue;
    }
    const bad = portNameProblem(s, s.uplink);
    if (bad) problems.add(at('uplink'), bad);
    const ref = cableEnd(text, at('connected-to'), s.name);
    if (bad || !ref) continue;
    use(s, s.uplink, { path: at('uplink'), what: `the uplink of switch "${s.name}"`, routerAccess: false });
    use(devices.get(ref.device)!, ref.port, { path: at('connected-to'), what: `the port switch "${s.name}" is cabled to`, routerAccess: false });
    s.upstream = ref;
  }

  // where each switch's chain of uplinks ends: a router, or undefined (reported here once)
  const rootOf = new Map<string, RouterModel | undefined>();
  const reportedLoops = new Set<string>();
  for (const s of switches) {
    const chain: BridgeDevice[] = [s];
    let cur: BridgeDevice = s;
    let root: RouterModel | undefined;
    for (;;) {
      if (cur.kind === 'router') {
        root = cur;
        break;
      }
      if (!cur.upstream) {
        // cur's own problem is reported above; the switches below it are told why they reach no router
        if (cur !== s) problems.add(['switches', s.name, 'connected-to'], `reaches no router: its chain of uplinks ends at switch "${cur.name}", which is cabled to nothing`);
        break;
      }
      const next = devices.get(cur.upstream.device)!;
      const loopAt = chain.indexOf(next);
      if (loopAt >= 0) {
        const loop = chain.slice(loopAt).map((d) => d.name);
        const key = [...loop].sort().join(' ');
        if (!reportedLoops.has(key)) {
          reportedLoops.add(key);
          problems.add(['switches', s.name, 'connected-to'], `the chain of uplinks is a loop (${[...loop, next.name].join(' → ')}): it never reaches a router`);
        } else if (loopAt > 0) {
          problems.add(['switches', s.name, 'connected-to'], `reaches no router: its chain of uplinks runs into a loop of switches`);
        }
        break;
      }
      chain.push(next);
      cur = next;
    }
    rootOf.set(s.name, root);
  }
  const routerOf = (device: BridgeDevice) => (device.kind === 'router' ? device : rootOf.get(device.name));

  // access ports on switches
  const switchAccess = new Map<string, Array<{ ref: PortRef; path: SpecPath }>>();
  for (const p of parsed) {
    const name = p.path[1] as string;
    const router = p.spec.router === undefined ? undefined : devices.get(p.spec.router);
    p.spec['access-ports'].forEach((entry, i) => {
      const path: SpecPath = [...p.path, 'access-ports', i];
      const ref = switchPort(entry, switchNames);
      if (!ref) {
        if (router && p.spec.vlan !== undefined) use(router, entry, { path, what: `an access port of network "${name}"`, routerAccess: true });
        return;
      }
      if (p.spec.vlan === undefined) return; // reported: access ports need a vlan
      const sw = devices.get(ref.device)!;
      if (!capabilities(sw).accessPorts) return problems.add(path, `switch "${sw.name}" cannot carry access ports`);
      const bad = portNameProblem(sw, ref.port);
      if (bad) return problems.add(path, bad);
      if (ref.port === sw.uplink) {
        return problems.add(path, `${ref.port} is the uplink of switch "${sw.name}": as an access port it would carry one VLAN untagged and cut the switch off from its router; choose another port`);
      }
      use(sw, ref.port, { path, what: `an access port of network "${name}"`, routerAccess: false });
      (switchAccess.get(name) ?? switchAccess.set(name, []).get(name)!).push({ ref, path });
    });
  }

  // Derived trunking: walk from each host and each switch with an access port up to the network's router.
  const entry = (device: BridgeDevice, network: string) => (device.vlanPorts[network] ??= { tagged: [], untagged: [] });
  const tag = (device: BridgeDevice, network: string, port: string, path: SpecPath) => {
    const e = entry(device, network);
    if (!e.tagged.includes(port)) e.tagged.push(port);
    device.portPaths[port] ??= path;
  };
  for (const n of networks) {
    if (n.vlan === undefined || n.router === undefined) continue;
    const router = routers.find((r) => r.name === n.router);
    if (!router) continue;
    const own = entry(router, n.name);
    router.trunkPorts.forEach((port, i) => {
      if (!own.tagged.includes(port)) own.tagged.push(port);
      router.portPaths[port] ??= ['routers', router.name, 'trunk-ports', i];
    });
    n.accessPorts.forEach((port) => {
      own.untagged.push(port);
      router.portPaths[port] ??= ['networks', n.name, 'access-ports', n.accessPorts.indexOf(port)];
    });
    const walk = (start: BridgeDevice, firstPort: { port: string; path: SpecPath } | undefined, origin: SpecPath, who: string) => {
      const root = routerOf(start);
      if (!root) return; // reported with the switch
      if (root.name !== router.name) {
        const via = start.kind === 'switch' ? ` (through switch "${start.name}")` : '';
        problems.add(origin, `${who} is cabled to router "${root.name}"${via}, but network "${n.name}" has router "${router.name}": the VLAN must reach its own router`);
        return;
      }
      if (firstPort) tag(start, n.name, firstPort.port, firstPort.path);
      let cur = start;
      while (cur.kind === 'switch' && cur.upstream) {
        tag(cur, n.name, cur.uplink!, ['switches', cur.name, 'uplink']);
        const up = devices.get(cur.upstream.device)!;
        tag(up, n.name, cur.upstream.port, ['switches', cur.name, 'connected-to']);
        cur = up;
      }
    };
    for (const hostName of n.hosts) {
      const h = hosts.find((x) => x.name === hostName);
      if (!h?.connectedTo) continue;
      const path = ['hosts', h.name, 'connected-to'];
      walk(devices.get(h.connectedTo.device)!, { port: h.connectedTo.port, path }, path, `host "${h.name}"`);
    }
    for (const { ref, path } of switchAccess.get(n.name) ?? []) {
      const sw = devices.get(ref.device)!;
      const before = problems.items.length;
      walk(sw, undefined, path, `switch "${sw.name}" (access port ${ref.port})`);
      if (problems.items.length !== before || !routerOf(sw)) continue;
      entry(sw, n.name).untagged.push(ref.port);
      sw.portPaths[ref.port] ??= path;
    }
  }

  for (const s of switches) {
    s.networks = networks.filter((n) => s.vlanPorts[n.name]).map((n) => n.name);
    if (s.type === 'openwrt') s.accessPorts = s.networks.flatMap((n) => s.vlanPorts[n]!.untagged);
  }
  const carried = (end: PortRef) => {
    const device = devices.get(end.device)!;
    return networks.filter((n) => device.vlanPorts[n.name]?.tagged.includes(end.port)).map((n) => n.name);
  };
  const cables: Cable[] = [];
  for (const h of hosts) if (h.connectedTo) cables.push({ from: { device: h.name, port: h.parent }, to: h.connectedTo, networks: carried(h.connectedTo) });
  for (const s of switches) if (s.upstream) cables.push({ from: { device: s.name, port: s.uplink! }, to: s.upstream, networks: carried(s.upstream) });
  return cables;
}

/** A host's SSH keys: `ssh: user@address` and the keys that only mean something with it. */
function hostSsh(name: string, h: HostSpec, problems: ProblemList): HostSsh | undefined {
  const at = (key: string) => ['hosts', name, key];
  if (h.ssh === undefined) {
    for (const key of ['ssh-port', 'key-file', 'host-key', 'sudo'] as const) {
      if (h[key] !== undefined) problems.add(at(key), `only means something with hosts.${name}.ssh (user@address): add ssh, or remove ${key}`);
    }
    return undefined;
  }
  const m = SSH_TARGET.exec(h.ssh)!;
  return {
    user: m[1]!,
    address: m[2]!,
    port: h['ssh-port'] ?? 22,
    ...(h['key-file'] !== undefined ? { keyFile: h['key-file'] } : {}),
    ...(h['host-key'] !== undefined ? { hostKey: h['host-key'] } : {}),
    sudo: h.sudo ?? false,
  };
}
