// --adopt on RouterOS (design.md "Commands"): hand-made objects that already are what the spec asks for are taken
// over in place. The plan sees them as this spec's own (their comment replaced by the spec's mark in its view of
// the router, their own comment kept under ADOPTED), so the ordinary diff pairs them: an object equal in every
// managed value is relabelled (`= adopt`, one comment set), one that differs is relabelled and changed (`~`) in
// the same set; ids stay, nothing is removed and re-created. The apply's rollback reads the router as it was
// (the unmodified LiveState): an adoption is undone like any set.
//
// What is taken over, per network of the spec and per menu where flatnet has no object of its own yet:
//   /interface/vlan          the VLAN interface on the spec's bridge with the network's VLAN id, whatever its
//                            name: renamed in place to flatnet's (RouterOS references by .id, so addresses,
//                            DHCP servers, rules, list members and bridge ports follow the rename)
//   /ip(v6)/address          an address on that interface in the network's subnet (the exact one first)
//   /interface/bridge/vlan   the entry on the bridge whose vlan-ids is exactly the network's VLAN id
//   /ip/dhcp-server          the server on that interface; /ip/pool the pool it names (else one of flatnet's
//                            name); /ip/dhcp-server/network the one for the network's subnet
//   firewall rules           rules equal to one the spec wants in every managed property (never a near match:
//                            a user's rule that differs stays the user's), per network and chain
import { overlaps, parseCidr } from '../../src/ip.js';
import { parseMark } from '../../src/ownership.js';
import type { RosMenu, RosObject } from './index.js';
import { differences, normalizeValue, type LiveState, type Row } from './diff.js';

/** In the plan's view of the router: the comment a hand-made object had ('' for none); present only on adopted rows. */
export const ADOPTED = '.flatnet-adopted-from';

const truthy = (v: string | undefined) => v === 'true' || v === 'yes';
const valueOf = (props: ReadonlyArray<readonly [string, string]>, key: string) => props.find(([k]) => k === key)?.[1];
/** not flatnet's (whichever owner), not dynamic: made by hand */
const handMade = (r: Row) => parseMark(r.comment) === undefined && !truthy(r.dynamic);

export interface Adoption {
  /** the router as the plan sees it: adopted rows carry the spec's mark, and their own comment under ADOPTED */
  live: LiveState;
  /** adopted rows (of the original read), per menu */
  rows: Map<RosMenu, Set<Row>>;
  /** hand-made VLAN interfaces renamed to flatnet's name: old → new */
  renames: Map<string, string>;
}

/**
 * The hand-made objects the spec's desired objects would take over. `isOwned`: this spec's own rows (its owner,
 * or --from-owner's); a network and menu with an owned row adopts nothing there.
 */
export function findAdoptions(live: LiveState, desired: readonly RosObject[], isOwned: (r: Row) => boolean): Adoption {
  const rows = new Map<RosMenu, Set<Row>>();
  const renames = new Map<string, string>();
  const chosen = new Map<Row, RosObject>();
  const take = (menu: RosMenu, row: Row, want: RosObject) => {
    (rows.get(menu) ?? rows.set(menu, new Set()).get(menu)!).add(row);
    chosen.set(row, want);
  };
  const free = (menu: RosMenu) => live.menus[menu].filter((r) => handMade(r) && !rows.get(menu)?.has(r));
  // networks (and chains, for rules) that already have an object of this spec in a menu
  const ownedKey = (menu: RosMenu, network: string, chain = '') => `${menu}\u0000${network}\u0000${chain}`;
  const owned = new Set<string>();
  for (const menu of Object.keys(live.menus) as RosMenu[]) {
    for (const r of live.menus[menu]) if (isOwned(r)) owned.add(ownedKey(menu, parseMark(r.comment)!.network, menu.endsWith('/firewall/filter') ? (r.chain ?? '') : ''));
  }
  const wanted = (menu: RosMenu) => desired.filter((o) => o.menu === menu && !owned.has(ownedKey(menu, o.network, menu.endsWith('/firewall/filter') ? (valueOf(o.props, 'chain') ?? '') : '')));
  const renamed = (name: string | undefined) => (name === undefined ? name : (renames.get(name) ?? name));

  // VLAN interfaces first: the other menus are matched against the names they will have
  for (const want of wanted('/interface/vlan')) {
    const name = valueOf(want.props, 'name');
    const candidates = free('/interface/vlan').filter((r) => r.interface === valueOf(want.props, 'interface') && r['vlan-id'] === valueOf(want.props, 'vlan-id'));
    const row = candidates.find((r) => r.name === name) ?? candidates[0];
    if (!row) continue;
    take('/interface/vlan', row, want);
    if (row.name !== undefined && name !== undefined && row.name !== name) renames.set(row.name, name);
  }
  for (const menu of ['/ip/address', '/ipv6/address'] as const) {
    for (const want of wanted(menu)) {
      const address = valueOf(want.props, 'address')!;
      const cidr = parseCidr(address);
      const candidates = free(menu).filter((r) => {
        const c = parseCidr(r.address ?? '');
        return renamed(r.interface) === valueOf(want.props, 'interface') && c !== undefined && cidr !== undefined && c.family === cidr.family && overlaps(c, cidr);
      });
      const row = candidates.find((r) => normalizeValue('address', r.address ?? '') === normalizeValue('address', address)) ?? candidates[0];
      if (row) take(menu, row, want);
    }
  }
  for (const want of wanted('/interface/bridge/vlan')) {
    const row = free('/interface/bridge/vlan').find((r) => r.bridge === valueOf(want.props, 'bridge') && normalizeValue('vlan-ids', r['vlan-ids'] ?? '') === normalizeValue('vlan-ids', valueOf(want.props, 'vlan-ids')!));
    if (row) take('/interface/bridge/vlan', row, want);
  }
  const servers = new Map<string, Row>();
  for (const want of wanted('/ip/dhcp-server')) {
    const row = free('/ip/dhcp-server').find((r) => renamed(r.interface) === valueOf(want.props, 'interface'));
    if (!row) continue;
    take('/ip/dhcp-server', row, want);
    servers.set(want.network, row);
  }
  for (const want of wanted('/ip/pool')) {
    const pools = free('/ip/pool');
    const named = servers.get(want.network)?.['address-pool'];
    const row = (named !== undefined ? pools.find((r) => r.name === named) : undefined) ?? pools.find((r) => r.name === valueOf(want.props, 'name'));
    if (row) take('/ip/pool', row, want);
  }
  for (const want of wanted('/ip/dhcp-server/network')) {
    const row = free('/ip/dhcp-server/network').find((r) => normalizeValue('address', r.address ?? '') === normalizeValue('address', valueOf(want.props, 'address')!));
    if (row) take('/ip/dhcp-server/network', row, want);
  }
  // rules: exact matches only, each rule once; compared with the renames applied (as the diff compares them)
  for (const menu of ['/ip/firewall/filter', '/ipv6/firewall/filter'] as const) {
    const byChain = new Map<string, Row[]>();
    for (const r of free(menu)) (byChain.get(r.chain ?? '') ?? byChain.set(r.chain ?? '', []).get(r.chain ?? '')!).push(r);
    const used = new Set<Row>();
    for (const want of wanted(menu)) {
      const row = (byChain.get(valueOf(want.props, 'chain') ?? '') ?? []).find((r) => !used.has(r) && differences(menu, want.props, renamedRow(r, renames)).length === 0);
      if (!row) continue;
      used.add(row);
      take(menu, row, want);
    }
  }

  if (chosen.size === 0) return { live, rows, renames };
  const view = (row: Row): Row => {
    const want = chosen.get(row);
    return want ? { ...row, comment: valueOf(want.props, 'comment') ?? '', [ADOPTED]: row.comment ?? '' } : row;
  };
  const menus = Object.fromEntries(Object.entries(live.menus).map(([menu, list]) => [menu, rows.has(menu as RosMenu) ? list.map(view) : list])) as LiveState['menus'];
  return { live: { ...live, menus }, rows, renames };
}

/** A row with interface names as they will be after the renames. */
function renamedRow(row: Row, renames: ReadonlyMap<string, string>): Row {
  if (renames.size === 0) return row;
  const copy: Row = { ...row };
  for (const key of ['interface', 'in-interface', 'out-interface']) if (copy[key] !== undefined) copy[key] = renames.get(copy[key]!) ?? copy[key]!;
  return copy;
}
