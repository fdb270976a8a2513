// RouterOS: the desired objects (menu path + ordered properties) of one router, and the /import script
// rendered from them. Every object carries comment=flatnet:<network> (flatnet:<network>@<owner> for a spec with
// owner:, src/ownership.ts); nothing else is ever touched.
import { capabilities } from '../../src/devices.js';
import { findNetwork, taggedPorts, untaggedPorts, type Model, type NetworkModel, type RouterOSRouter } from '../../src/model.js';
import { renderTemplate } from '../../src/render.js';
import { routerTarget, type Target } from '../../src/target.js';
import { routerosString } from '../../src/quote.js';
import { servicePorts } from '../../src/audit/flows.js';
import { MARK_PREFIX, markRegex } from '../../src/ownership.js';


export type RosMenu =
  | '/interface/vlan'
  | '/ip/address'
  | '/ipv6/address'
  | '/interface/bridge/vlan'
  | '/ip/pool'
  | '/ip/dhcp-server'
  | '/ip/dhcp-server/network'
  | '/ip/firewall/filter'
  | '/ipv6/firewall/filter';

export interface RosObject {
  menu: RosMenu;
  /** the network that owns it (its comment is flatnet:<network>) */
  network: string;
  /** properties in the order they are written, comment last (a DHCP server is added with disabled=no too, whatever the RouterOS version's default) */
  props: Array<[string, string]>;
  /** firewall rules go before the router's own drop/reject rules of their chain */
  placeBeforeRouterDrops?: boolean;
  /**
   * VLAN interfaces are created disabled and enabled once every rule is in: a run that stops halfway
   * leaves the new VLANs without traffic rather than without isolation.
   */
  enableLast?: boolean;
}

/**
 * What must hold on the router before anything is changed: the script checks these first (so a failed import
 * changes nothing) and plan checks the same list live. Each names the spec key it comes from.
 */
export type RosPrecondition = { path: Array<string | number> } & (
  | { kind: 'interface'; name: string }
  | { kind: 'interface-list'; name: string; role: 'WAN' | 'LAN' }
  | { kind: 'vlan-free'; bridge: string; vlan: number }
  /** no bridge VLAN entry of the user's has exactly the VLAN flatnet adds an entry for (live: diff.ts bridgeVlanChecks, which also reads ranges) */
  | { kind: 'bridge-vlan-free'; bridge: string; vlan: number }
  | { kind: 'bridge-port'; bridge: string; name: string }
);

export function preconditions(model: Model, router: RouterOSRouter): RosPrecondition[] {
  if (router.networks.length === 0) return [];
  const at = (...p: Array<string | number>) => [router.kind === 'router' ? 'routers' : 'switches', router.name, ...p];
  const checks: RosPrecondition[] = [{ kind: 'interface', name: router.bridge, path: at('bridge') }];
  // a trunk port must be a port of the bridge too: the WAN port or a typo in trunk-ports would plan silently
  router.trunkPorts.forEach((port, i) => checks.push({ kind: 'bridge-port', bridge: router.bridge, name: port, path: at('trunk-ports', i) }));
  const networks = router.networks.map((name) => findNetwork(model, name));
  if (capabilities(router).layer3) {
    const lists = new Map<string, RosPrecondition>();
    for (const n of networks) {
      if (n.firewall?.internet && !lists.has(router.wanList)) lists.set(router.wanList, { kind: 'interface-list', name: router.wanList, role: 'WAN', path: at('wan') });
      if ((n.firewall?.from.includes('lan') || n.firewall?.to.includes('lan')) && !lists.has(router.lanList)) {
        lists.set(router.lanList, { kind: 'interface-list', name: router.lanList, role: 'LAN', path: at('lan') });
      }
    }
    checks.push(...lists.values());
    for (const n of networks) checks.push({ kind: 'vlan-free', bridge: router.bridge, vlan: n.vlan!, path: ['networks', n.name, 'vlan'] });
  }
  // a bridge VLAN entry made by hand for a VLAN flatnet adds one for: a second entry would be added beside it
  for (const n of networks) {
    if (taggedPorts(router, n.name).length + untaggedPorts(router, n.name).length > 0) checks.push({ kind: 'bridge-vlan-free', bridge: router.bridge, vlan: n.vlan!, path: ['networks', n.name, 'vlan'] });
  }
  // every port the path or an access port puts on a VLAN must be a port of the bridge (trunk-ports: any interface)
  const seen = new Set(router.trunkPorts); // checked above, at their own path
  for (const n of networks) {
    for (const port of [...taggedPorts(router, n.name), ...untaggedPorts(router, n.name)]) {
      if (seen.has(port)) continue;
      seen.add(port);
      checks.push({ kind: 'bridge-port', bridge: router.bridge, name: port, path: [...(router.portPaths[port] ?? at('bridge'))] });
    }
  }
  return checks;
}

/**
 * A property flatnet sets on an object it does not own: an access port's `pvid` on the user's bridge port.
 * The value it had before is recorded in the comment of the network's own bridge VLAN entry
 * (`flatnet:<network>; was-pvid <port>=<pvid>,...`) and put back when the spec drops the port.
 */
export interface RosForeignSetting {
  menu: '/interface/bridge/port';
  network: string;
  bridge: string;
  port: string;
  key: 'pvid';
  value: string;
}

export function foreignSettings(model: Model, router: RouterOSRouter): RosForeignSetting[] {
  return router.networks.flatMap((name) => {
    const n = findNetwork(model, name);
    return untaggedPorts(router, n.name).map((port) => ({ menu: '/interface/bridge/port' as const, network: n.name, bridge: router.bridge, port, key: 'pvid' as const, value: String(n.vlan) }));
  });
}

/** The separator between a flatnet comment and the access ports' recorded PVIDs. */
export const PVID_RECORD = '; was-pvid ';

export function recordComment(comment: string, record: ReadonlyMap<string, string>): string {
  return record.size === 0 ? comment : `${comment}${PVID_RECORD}${[...record].map(([port, pvid]) => `${port}=${pvid}`).join(',')}`;
}

/** The recorded PVIDs of a flatnet comment (port names hold neither "," nor "="). */
export function parseRecord(comment: string): Map<string, string> {
  const at = comment.indexOf(PVID_RECORD);
  const out = new Map<string, string>();
  if (at < 0) return out;
  for (const item of comment.slice(at + PVID_RECORD.length).split(',')) {
    const eq = item.lastIndexOf('=');
    if (eq > 0) out.set(item.slice(0, eq), item.slice(eq + 1));
  }
  return out;
}

/** Menus in the order objects are added; removal runs in reverse (rules before the interfaces they name). */
export const MENU_ORDER: readonly RosMenu[] = [
  '/interface/vlan',
  '/ip/address',
  '/ipv6/address',
  '/interface/bridge/vlan',
  '/ip/pool',
  '/ip/dhcp-server',
  '/ip/dhcp-server/network',
  '/ip/firewall/filter',
  '/ipv6/firewall/filter',
];

type Family = 4 | 6;

/** The objects flatnet wants on this router, in the order they are created. */
export function desiredObjects(model: Model, router: RouterOSRouter): RosObject[] {
  const networks = router.networks.map((name) => findNetwork(model, name));
  const objects: RosObject[] = [];
  const own = (n: NetworkModel, menu: RosMenu, props: Array<[string, string]>, placeBeforeRouterDrops = false) =>
    objects.push({ menu, network: n.name, props: [...props, ['comment', n.names.comment]], ...(placeBeforeRouterDrops ? { placeBeforeRouterDrops } : {}) });

  const layer3 = capabilities(router).layer3;
  for (const n of networks) {
    if (!layer3) break;
    own(n, '/interface/vlan', [
      ['name', n.names.routerosInterface],
      ['vlan-id', String(n.vlan)],
      ['interface', router.bridge],
    ]);
    objects[objects.length - 1]!.enableLast = true;
  }
  for (const n of networks) if (layer3) own(n, '/ip/address', [['address', n.ipv4.gatewayCidr], ['interface', n.names.routerosInterface]]);
  for (const n of networks) {
    // Docker assigns container addresses itself; router advertisements would add SLAAC addresses it does not know.
    if (layer3 && n.ipv6) own(n, '/ipv6/address', [['address', n.ipv6.gatewayCidr], ['interface', n.names.routerosInterface], ['advertise', 'no']]);
  }
  for (const n of networks) {
    const tagged = taggedPorts(router, n.name);
    const untagged = untaggedPorts(router, n.name);
    if (tagged.length === 0 && untagged.length === 0) continue;
    own(n, '/interface/bridge/vlan', [
      ['bridge', router.bridge],
      ['vlan-ids', String(n.vlan)],
      // a router's bridge itself is tagged so the VLAN interface on it receives the traffic; a switch only
      // passes the VLAN between its ports
      ['tagged', [...(layer3 ? [router.bridge] : []), ...tagged].join(',')],
      ...(untagged.length > 0 ? ([['untagged', untagged.join(',')]] as Array<[string, string]>) : []),
    ]);
  }
  // A VLAN network with dhcp-pool: the router serves DHCP on the VLAN interface (its input rule for UDP 67
  // comes from allow-input, which validation requires to hold dhcp).
  for (const n of networks) {
    if (!layer3 || !n.dhcpServer || !n.ipv4.dhcpPool) continue;
    const name = `flatnet-${n.name}`;
    own(n, '/ip/pool', [['name', name], ['ranges', `${n.ipv4.dhcpPool.first}-${n.ipv4.dhcpPool.last}`]]);
    own(n, '/ip/dhcp-server', [
      ['name', name],
      ['interface', n.names.routerosInterface],
      ['address-pool', name],
      ['lease-time', n.dhcpServer.leaseTime],
    ]);
    own(n, '/ip/dhcp-server/network', [
      ['address', n.ipv4.subnet],
      ['gateway', n.ipv4.gateway],
      ...(n.firewall?.allowInput.includes('dns') ? ([['dns-server', n.ipv4.gateway]] as Array<[string, string]>) : []),
    ]);
  }
  // Every flatnet VLAN gets its IPv6 drops, dual-stack or not: a router that forwards IPv6 would otherwise
  // route a v4-only VLAN's IPv6 (link-local next hop) past its isolation, and adding or removing `ipv6:` on
  // a live network never leaves its VLAN without IPv6 drops.
  if (layer3) for (const family of [4, 6] as const) objects.push(...firewallRules(model, router, networks, family));
  return objects;
}

function firewallRules(model: Model, router: RouterOSRouter, networks: NetworkModel[], family: Family): RosObject[] {
  const menu: RosMenu = family === 4 ? '/ip/firewall/filter' : '/ipv6/firewall/filter';
  const accepts: RosObject[] = [];
  const drops: RosObject[] = [];
  const seenForward = new Set<string>();
  const rule = (list: RosObject[], n: NetworkModel, props: Array<[string, string]>) =>
    list.push({ menu, network: n.name, props: [...props, ['comment', n.names.comment]], placeBeforeRouterDrops: true });
  const iface = (name: string) => findNetwork(model, name).names.routerosInterface;
  const forward = (n: NetworkModel, from: Array<[string, string]>, to: Array<[string, string]>) => {
    const key = JSON.stringify([from, to]);
    if (seenForward.has(key)) return;
    seenForward.add(key);
    rule(accepts, n, [['chain', 'forward'], ['action', 'accept'], ...from, ...to]);
  };

  const dropsOnly = (n: NetworkModel) => family === 6 && !n.ipv6;
  for (const n of networks) {
    const fw = n.firewall!;
    const me = n.names.routerosInterface;
    if (dropsOnly(n)) {
      rule(drops, n, [['chain', 'forward'], ['action', 'drop'], ['in-interface', me]]);
      rule(drops, n, [['chain', 'forward'], ['action', 'drop'], ['out-interface', me]]);
      continue;
    }
    // untracked too: IPv6 neighbour discovery is never "established", and the router's own rules may not accept it first
    rule(accepts, n, [['chain', 'forward'], ['action', 'accept'], ['connection-state', 'established,related,untracked'], ['in-interface', me]]);
    rule(accepts, n, [['chain', 'forward'], ['action', 'accept'], ['connection-state', 'established,related,untracked'], ['out-interface', me]]);
    // port forwards the user set up (dstnat) reach the network, as on OpenWrt and in RouterOS's default config
    if (family === 4) rule(accepts, n, [['chain', 'forward'], ['action', 'accept'], ['connection-nat-state', 'dstnat'], ['out-interface', me]]);
    if (fw.internet) forward(n, [['in-interface', me]], [['out-interface-list', router.wanList]]);
    for (const src of fw.from) {
      if (src === 'lan') forward(n, [['in-interface-list', router.lanList]], [['out-interface', me]]);
      else if (family === 4 || findNetwork(model, src).ipv6) forward(n, [['in-interface', iface(src)]], [['out-interface', me]]);
    }
    for (const dst of fw.to) {
      if (dst === 'lan') forward(n, [['in-interface', me]], [['out-interface-list', router.lanList]]);
      else if (family === 4 || findNetwork(model, dst).ipv6) forward(n, [['in-interface', me]], [['out-interface', iface(dst)]]);
    }
    rule(drops, n, [['chain', 'forward'], ['action', 'drop'], ['in-interface', me]]);
    rule(drops, n, [['chain', 'forward'], ['action', 'drop'], ['out-interface', me]]);
  }
  for (const n of networks) {
    const me = n.names.routerosInterface;
    if (dropsOnly(n)) {
      rule(drops, n, [['chain', 'input'], ['action', 'drop'], ['in-interface', me]]);
      continue;
    }
    rule(accepts, n, [['chain', 'input'], ['action', 'accept'], ['connection-state', 'established,related,untracked'], ['in-interface', me]]);
    for (const service of n.firewall!.allowInput) {
      for (const sp of servicePorts(service, family)) {
        rule(accepts, n, [
          ['chain', 'input'],
          ['action', 'accept'],
          ['in-interface', me],
          ['protocol', sp.protocol],
          ...(sp.port !== undefined ? ([['dst-port', String(sp.port)]] as Array<[string, string]>) : []),
        ]);
      }
    }
    rule(drops, n, [['chain', 'input'], ['action', 'drop'], ['in-interface', me]]);
  }
  // All accepts before all drops: network A's drop must not shadow an accept that B's rules add for A→B.
  return [...accepts, ...drops];
}

/**
 * Menus whose flatnet objects carry traffic. The script disables all of their flatnet objects before it
 * removes anything, whatever the spec holds now: an earlier import may have left VLANs this spec dropped,
 * and they must not stay up while their rules go.
 */
const DISABLE_FIRST: readonly RosMenu[] = ['/interface/vlan'];

/**
 * The script's bridge VLAN entries and access ports, in one block of their own: the PVIDs recorded in the
 * old entries' comments go into the new ones through local variables (one per access port,
 * `$pvidBefore<i>`), and /import keeps no variable from one top-level line to the next. Each network's entry
 * is updated in place (added when missing) and only then are the entries no network keeps removed, so an
 * import that stops halfway never leaves a port on its VLAN with its record gone.
 */
function scriptAccessPorts(model: Model, router: RouterOSRouter, objects: RosObject[]) {
  const accessPorts = foreignSettings(model, router).map((s, i) => ({ port: s.port, network: s.network, var: `pvidBefore${i}`, props: [[s.key, s.value]] }));
  const bridgeVlans = objects
    .filter((o) => o.menu === '/interface/bridge/vlan')
    .map((o, i) => {
      const ports = accessPorts.filter((a) => a.network === o.network);
      const comment = o.props.find(([k]) => k === 'comment')![1];
      const props = o.props.filter(([k]) => k !== 'comment');
      return {
        var: `entry${i}`,
        props,
        // a set clears what the entry no longer has: untagged ports that left
        setProps: props.some(([k]) => k === 'untagged') ? props : [...props, ['untagged', '']],
        // the network's entry, with or without a record (network names are [a-z0-9-]: nothing to escape)
        own: { comment, recordRegex: `^${comment}${PVID_RECORD}` },
        comment: ports.length === 0 ? comment : null,
        record: ports.length === 0 ? null : { prefix: `${comment}${PVID_RECORD}`, ports: ports.map((a, k) => ({ label: `${k > 0 ? ',' : ''}${a.port}=`, var: a.var })) },
      };
    })
    // entries with access ports first: a port moving to another network is recorded in its new entry before
    // its old one (without access ports now) drops the record
    .sort((a, b) => Number(a.record === null) - Number(b.record === null));
  return {
    accessPorts,
    bridgeVlans,
    recordRegex: `${markRegex(model.ownership.owner).replace(/\(\$\|;\)$/, '')}${PVID_RECORD}`,
    recordSeparator: PVID_RECORD,
    recordSeparatorLength: PVID_RECORD.length,
  };
}

export function renderScript(model: Model, router: RouterOSRouter): string {
  const objects = desiredObjects(model, router);
  const chainOf = (o: RosObject) => o.props.find(([k]) => k === 'chain')?.[1] ?? '';
  const menus = MENU_ORDER.map((menu) => {
    const items = objects.filter((o) => o.menu === menu);
    const chains = [...new Set(items.filter((o) => o.placeBeforeRouterDrops).map(chainOf))].map((chain) => ({
      chain,
      rules: items.filter((o) => chainOf(o) === chain).map((o) => ({ props: o.props })),
    }));
    return {
      menu,
      isFirewall: menu.endsWith('/firewall/filter'),
      plain: items.filter((o) => !o.placeBeforeRouterDrops).map((o) => ({ props: o.enableLast ? [...o.props, ['disabled', 'yes']] : o.menu === '/ip/dhcp-server' ? [...o.props, ['disabled', 'no']] : o.props })),
      chains,
    };
  });
  const enableLast = [...new Set(objects.filter((o) => o.enableLast).map((o) => o.menu))];
  const checks = preconditions(model, router).map((c) => {
    switch (c.kind) {
      case 'interface':
        return { find: `/interface/find where name=${routerosString(c.name)}`, missing: true, message: `flatnet: interface ${c.name} not found` };
      case 'interface-list':
        return { find: `/interface/list/find where name=${routerosString(c.name)}`, missing: true, message: `flatnet: interface list ${c.name} not found` };
      case 'vlan-free':
        return {
          find: `/interface/vlan/find where interface=${routerosString(c.bridge)} and vlan-id=${c.vlan} and !(comment~${routerosString(markRegex(model.ownership.owner))})`,
          missing: false,
          message: `flatnet: VLAN ${c.vlan} on ${c.bridge} exists already and was not created by flatnet${model.ownership.owner === undefined ? '' : ` for owner ${model.ownership.owner}`}`,
        };
      case 'bridge-vlan-free':
        return {
          find: `/interface/bridge/vlan/find where bridge=${routerosString(c.bridge)} and vlan-ids=${c.vlan} and dynamic=no and !(comment~${routerosString(markRegex(model.ownership.owner))})`,
          // flatnet's own entry for the VLAN already lives beside it (an earlier import): updated in place, no second entry
          exceptWhere: `/interface/bridge/vlan/find where bridge=${routerosString(c.bridge)} and vlan-ids=${c.vlan} and comment~${routerosString(markRegex(model.ownership.owner))}`,
          missing: false,
          message: `flatnet: a bridge VLAN entry for VLAN ${c.vlan} on ${c.bridge} exists already and was not created by flatnet${model.ownership.owner === undefined ? '' : ` for owner ${model.ownership.owner}`}`,
        };
      case 'bridge-port':
        return {
          find: `/interface/bridge/port/find where bridge=${routerosString(c.bridge)} and interface=${routerosString(c.name)} and dynamic=no`,
          missing: true,
          message: `flatnet: ${c.name} is not a (static) port of bridge ${c.bridge}`,
        };
    }
  });
  // a device without layer 3 (a switch) gets only the checks, the bridge VLAN block and the access ports' pvid:
  // its script neither names nor touches VLAN interfaces, addresses, DHCP or firewall menus
  const layer3 = capabilities(router).layer3;
  return renderTemplate('routeros', 'script.rsc', {
    router,
    layer3,
    networks: router.networks.map((name) => {
      const n = findNetwork(model, name);
      return {
        name: n.name,
        vlan: n.vlan,
        subnet: n.ipv4.subnet,
        ipv6: n.ipv6 ? n.ipv6.subnet : null,
        iface: n.names.routerosInterface,
        tagged: taggedPorts(router, n.name).join(', '),
        untagged: untaggedPorts(router, n.name).join(', '),
      };
    }),
    disableFirst: layer3 ? DISABLE_FIRST : [],
    // the bridge VLAN entries go in the access ports' block
    removeMenus: layer3 ? [...MENU_ORDER].reverse().filter((m) => m !== '/interface/bridge/vlan') : [],
    checks,
    enableLast: layer3 ? enableLast : [],
    // this owner's objects only; flatnetRegex: any flatnet object, for placement (not the router's own drops)
    ownerRegex: markRegex(model.ownership.owner),
    flatnetRegex: `^${MARK_PREFIX}`,
    ...scriptAccessPorts(model, router, objects),
    menus: menus.filter((m) => m.menu !== '/interface/bridge/vlan' && (m.plain.length > 0 || m.chains.length > 0)),
  });
}

export const routerosTarget: Target = routerTarget('routeros', 'routeros', (model, router) => [
  { path: `routeros/${router.name}.rsc`, content: renderScript(model, router) },
]);
