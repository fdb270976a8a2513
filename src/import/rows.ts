// import: reading what devices hold, as the readers share it: RouterOS rows (flags yes/true), OpenWrt's uci
// options (an option or a list; words split on blanks) and bridge-vlan ports (`<port>[:t|:u][*]`), and the
// IPv6 link-local prefix (fe80::/10) no import takes as a network's address.
import { parseCidr } from '../ip.js';
import type { ExportedSection } from '../../targets/openwrt/uci.js';

/** A RouterOS flag (`yes`/`true`, as the API and the CLI print it) that is set. */
export const truthy = (v: string | undefined): boolean => v === 'true' || v === 'yes';

/** A RouterOS row that is in effect: neither disabled nor dynamic. */
export const active = (r: { disabled?: string; dynamic?: string }): boolean => !truthy(r.disabled) && !truthy(r.dynamic);

/** A uci option's words: an option or a list, each item split on blanks. */
export const words = (v: string | string[] | undefined): string[] => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).flatMap((x) => x.split(/\s+/)).filter(Boolean));

/** A uci option's value (a list's first item), or undefined. */
export const opt = (s: ExportedSection, k: string): string | undefined => {
  const v = s.options.get(k);
  return Array.isArray(v) ? v[0] : v;
};

export const LINK_LOCAL = parseCidr('fe80::/10')!;

/**
 * One port of an OpenWrt (DSA) bridge-vlan section: `access` untagged with PVID (`:u*`, `:*`), `untagged`
 * without PVID (`:u`, no flag), `tagged` (`:t`, `:t*`); `unknown` when the flags are none of those.
 */
export interface BridgeVlanPort {
  port: string;
  kind: 'access' | 'untagged' | 'tagged' | 'unknown';
  /** as written, `lan3:u*` */
  word: string;
}

/** The ports of a bridge-vlan section, in order. */
export function bridgeVlanPorts(section: ExportedSection): BridgeVlanPort[] {
  return words(section.options.get('ports')).map((word) => {
    const m = /^([^:]+)(?::(t|u)?(\*)?)?$/.exec(word);
    if (!m) return { port: word.split(':')[0]!, kind: 'unknown', word };
    const kind = m[2] === 't' ? 'tagged' : m[3] === '*' ? 'access' : 'untagged';
    return { port: m[1]!, kind, word };
  });
}
