// --adopt on OpenWrt: hand-made sections that are what the spec asks for are taken over in place. flatnet owns the
// named sections flatnet_<network>…; a hand-made one has a name of its own (network.iot) or none (firewall.@zone[3]).
// Adopting renames it to flatnet's name in the same batch (`uci rename`, which takes named and anonymous sections),
// and the ordinary diff then sets what differs (flatnet_owner when the spec has an owner, values: `~`).
//
// What is taken over, per network of the spec where this spec has no section of that name yet:
//   network  interface   the static interface on <device>.<vlan> (any name)
//            device      the 8021q device <device>.<vlan> (no VLAN filtering)
//            bridge-vlan the bridge-vlan of the network's VLAN on <device> (and the LAN's, lan-vlan)
//   firewall zone        the zone whose network list is exactly that interface
//            forwarding  the forwardings equal to flatnet's, the zones' names mapped
//            rule        rules equal to flatnet's in every option but their label (name)
//   dhcp     dhcp        the dhcp section of that interface
//
// References by name: renaming network.iot to network.flatnet_iot (or zone "iot" to "fn_vlan30") breaks every
// section that names the old one. flatnet's own (adopted) sections get flatnet's values in the same batch; any
// other section of network, firewall or dhcp naming the old interface or zone is refused, naming it (rename the
// reference by hand, or remove it): flatnet never edits sections it does not own. Configs flatnet does not read
// (wireless's wifi-iface `network`) are not seen: the README says so.
import type { LiveProblem } from '../../src/plan/types.js';
import { findNetwork, vlanFiltering, type Model, type OpenWrtRouter } from '../../src/model.js';
import { capabilities } from '../../src/devices.js';
import { SECTION_PREFIX, type UciSection } from './index.js';
import { uciWords, type ExportedSection } from './uci.js';
import { UCI_OWNER_OPTION } from '../../src/ownership.js';

export interface AdoptedFrom {
  /** how the batch names the section before its rename: `iot` or `@zone[3]` */
  ref: string;
  /** its own name, undefined for an anonymous section */
  name?: string;
  /** `network.iot`, `firewall.@zone[3]`: for messages */
  label: string;
}

export interface OpenWrtAdoption {
  /** live, with each adopted section under flatnet's name (same position) */
  sections: ExportedSection[];
  /** the adopted sections (of `sections`) and where they came from */
  adopted: Map<ExportedSection, AdoptedFrom>;
  problems: LiveProblem[];
}

const single = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
const opt = (s: ExportedSection, k: string) => single(s.options.get(k));
const handMade = (s: ExportedSection) => s.name === undefined || !s.name.startsWith(SECTION_PREFIX);
const words = (v: string | string[] | undefined) => uciWords(v).split(' ').filter(Boolean);

/** `network.iot` or `firewall.@zone[3]` (its index among the config's sections of its type). */
export function sectionRef(all: readonly ExportedSection[], s: ExportedSection): { ref: string; label: string } {
  if (s.name !== undefined) return { ref: s.name, label: `${s.config}.${s.name}` };
  const index = all.filter((x) => x.config === s.config && x.type === s.type).indexOf(s);
  return { ref: `@${s.type}[${index}]`, label: `${s.config}.@${s.type}[${index}]` };
}

export function findOpenWrtAdoptions(model: Model, router: OpenWrtRouter, live: readonly ExportedSection[], desired: readonly UciSection[]): OpenWrtAdoption {
  const chosen = new Map<ExportedSection, string>();
  const has = (config: string, name: string) => live.some((s) => s.config === config && s.name === name);
  const free = (config: string, type: string) => live.filter((s) => s.config === config && s.type === type && handMade(s) && !chosen.has(s));
  const want = (config: string, name: string) => desired.find((d) => d.config === config && d.name === name && !has(config, name));
  const take = (s: ExportedSection | undefined, d: UciSection | undefined) => {
    if (s && d) chosen.set(s, d.name);
  };
  const dv = (d: UciSection, k: string) => d.options.find(([x]) => x === k)?.[1];
  const layer3 = capabilities(router).layer3;
  const filtering = vlanFiltering(router);
  const bridgeVlan = (vlan: number) => free('network', 'bridge-vlan').find((s) => opt(s, 'device') === router.device && opt(s, 'vlan') === String(vlan));
  if (filtering) take(bridgeVlan(router.lanVlan), want('network', `${SECTION_PREFIX}lan_vlan`));

  const ifaceNames = new Map<string, string>(); // old interface name -> flatnet's
  const zoneNames = new Map<string, string>(); // old zone name -> flatnet's
  for (const name of router.networks) {
    const n = findNetwork(model, name);
    const s = n.names.uciSection;
    const device = `${router.device}.${n.vlan}`;
    if (filtering) take(bridgeVlan(n.vlan!), want('network', `${s}_vlan`));
    else if (layer3) {
      take(free('network', 'device').find((x) => opt(x, 'type') === '8021q' && (opt(x, 'name') === device || (opt(x, 'ifname') === router.device && opt(x, 'vid') === String(n.vlan)))), want('network', `${s}_dev`));
    }
    if (!layer3) continue;
    const iface = free('network', 'interface').find((x) => x.name !== undefined && opt(x, 'device') === device);
    const wantIface = want('network', s);
    let ifaceName = has('network', s) ? s : undefined;
    if (iface && wantIface) {
      take(iface, wantIface);
      ifaceName = iface.name!;
      if (iface.name !== s) ifaceNames.set(iface.name!, s);
    }
    if (ifaceName === undefined) continue;
    const zone = free('firewall', 'zone').find((z) => words(z.options.get('network')).join(' ') === ifaceName);
    const wantZone = want('firewall', s);
    if (zone && wantZone) {
      take(zone, wantZone);
      const old = opt(zone, 'name');
      const to = dv(wantZone, 'name')!;
      if (old !== undefined && old !== to) zoneNames.set(old, to);
    }
    take(free('dhcp', 'dhcp').find((d) => (opt(d, 'interface') ?? d.name) === ifaceName), want('dhcp', s));
  }
  // forwardings and rules: equal to flatnet's once the zones carry flatnet's names; each section once
  const zoneOf = (v: string | undefined) => (v === undefined ? v : (zoneNames.get(v) ?? v));
  const ignored = new Set(['name', UCI_OWNER_OPTION]);
  const same = (x: ExportedSection, d: UciSection) => {
    const mine = [...x.options].filter(([k]) => !ignored.has(k)).map(([k, v]) => [k, k === 'src' || k === 'dest' ? zoneOf(single(v)) : uciWords(v)] as const);
    const theirs = d.options.filter(([k]) => !ignored.has(k)).map(([k, v]) => [k, uciWords(v)] as const);
    const key = (l: ReadonlyArray<readonly [string, string | undefined]>) => l.map(([k, v]) => `${k}=${v}`).sort().join('\n');
    return key(mine) === key(theirs);
  };
  for (const d of desired.filter((x) => x.config === 'firewall' && (x.type === 'forwarding' || x.type === 'rule'))) {
    if (has(d.config, d.name)) continue;
    take(free('firewall', d.type).find((x) => same(x, d)), d);
  }

  const adopted = new Map<ExportedSection, AdoptedFrom>();
  const sections = live.map((s) => {
    const to = chosen.get(s);
    if (to === undefined) return s;
    const view: ExportedSection = { ...s, name: to, options: new Map(s.options) };
    adopted.set(view, { ...sectionRef(live, s), ...(s.name !== undefined ? { name: s.name } : {}) });
    return view;
  });

  // the sections left that name a renamed interface or zone
  const problems: LiveProblem[] = [];
  const at = [router.kind === 'switch' ? 'switches' : 'routers', router.name];
  for (const s of live) {
    if (chosen.has(s)) continue;
    const label = sectionRef(live, s).label;
    for (const [k, v] of s.options) {
      const byName = ['network', 'interface'].includes(k) ? ifaceNames : s.config === 'firewall' && ['src', 'dest'].includes(k) ? zoneNames : undefined;
      for (const old of byName ? words(v).filter((w) => byName.has(w)) : []) {
        const what = `${byName === ifaceNames ? 'interface' : 'zone'} "${old}"`;
        const to = byName!.get(old)!;
        problems.push({ path: at, message: `--adopt renames ${what} to "${to}", but ${label} (not flatnet's) names it in ${k} and would lose it: remove that reference (and add it back naming "${to}" after apply --adopt), then plan --adopt again` });
      }
    }
  }
  return { sections, adopted, problems };
}
