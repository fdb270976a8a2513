// A RouterOS router's live state by hand (as its reads return it) and the import of it alone, with no fake
// router behind: for rows and properties the fake's reads do not give. Test-only.
import { stringify } from 'yaml';
import { modelFromText, type RouterOSRouter } from '../../src/index.js';
import type { ImportReport } from '../../src/import/found.js';
import { importRouterOS } from '../../src/import/routeros.js';
import type { LiveState, Row } from '../../targets/routeros/diff.js';
import { MENU_ORDER, type RosMenu } from '../../targets/routeros/index.js';

/** A RouterOS router's live state: VLAN 30 (vlan30) on `bridge` with 10.30.0.1/24, and these bridge ports. */
export function routerosLive(ports: Row[], menus: Partial<Record<RosMenu, Row[]>> = {}): LiveState {
  const all = Object.fromEntries(MENU_ORDER.map((m) => [m, [] as Row[]])) as Record<RosMenu, Row[]>;
  all['/interface/vlan'] = [{ '.id': '*1', name: 'vlan30', 'vlan-id': '30', interface: 'bridge' }];
  all['/ip/address'] = [{ '.id': '*2', address: '10.30.0.1/24', interface: 'vlan30' }];
  Object.assign(all, menus);
  return { menus: all, interfaces: [], interfaceLists: [], bridges: [{ name: 'bridge', 'vlan-filtering': 'yes' }], bridgePorts: ports };
}

/** importRouterOS of router core (bridge `bridge`) from `live`: its report. */
export function importRouterOSLive(live: LiveState) {
  const router = modelFromText(stringify({ version: 1, routers: { core: { type: 'routeros', address: '192.168.88.1' } } })).routers[0] as RouterOSRouter;
  const report: ImportReport = { networks: [], trunkPorts: new Map(), notes: [], warnings: [] };
  importRouterOS(router, live, report, new Set());
  return report;
}
