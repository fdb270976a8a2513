// Address arithmetic on top of ip-address: every address and prefix becomes a bigint range, so
// containment and overlap are plain integer comparisons for both families.
import { Address4, Address6 } from 'ip-address';

export type Family = 4 | 6;

export interface Ip {
  family: Family;
  value: bigint;
  /** canonical text, e.g. 192.168.200.1 or 2001:db8::10 */
  text: string;
}

export interface Cidr {
  family: Family;
  /** first address of the prefix (the network address) */
  first: bigint;
  /** last address of the prefix (the broadcast address for IPv4) */
  last: bigint;
  prefixLength: number;
  /** canonical network form, e.g. 192.168.200.0/24 */
  text: string;
  /** the address as written, which may have host bits set (192.168.200.1/24) */
  address: Ip;
}

export interface IpRange {
  first: bigint;
  last: bigint;
}

const IPV4_DOTTED = /^\d{1,3}(\.\d{1,3}){3}$/;
const IPV6_CHARS = /^[0-9a-fA-F:.]+$/;

function familyOf(text: string): Family | undefined {
  if (IPV4_DOTTED.test(text)) return 4;
  if (text.includes(':') && IPV6_CHARS.test(text)) return 6;
  return undefined;
}

/** Parses a bare address (no prefix, no zone). Returns undefined when it is not one. */
export function parseIp(text: string): Ip | undefined {
  const family = familyOf(text);
  try {
    if (family === 4 && Address4.isValid(text)) {
      const a = new Address4(text);
      return { family, value: a.bigInt(), text: a.correctForm() };
    }
    if (family === 6 && Address6.isValid(text)) {
      const a = new Address6(text);
      return { family, value: a.bigInt(), text: a.correctForm() };
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** Parses `address/prefix`. Host bits may be set; `text` is the canonical network form. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0 || slash !== text.lastIndexOf('/')) return undefined;
  const addressPart = text.slice(0, slash);
  const prefixPart = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixPart)) return undefined;
  const address = parseIp(addressPart);
  if (!address) return undefined;
  const prefixLength = Number(prefixPart);
  const bits = address.family === 4 ? 32 : 128;
  if (prefixLength > bits) return undefined;
  const hostMask = (1n << BigInt(bits - prefixLength)) - 1n;
  const first = address.value & ~hostMask & ((1n << BigInt(bits)) - 1n);
  const last = first | hostMask;
  return {
    family: address.family,
    first,
    last,
    prefixLength,
    text: `${ipText(address.family, first)}/${prefixLength}`,
    address,
  };
}

export function ipText(family: Family, value: bigint): string {
  return family === 4 ? Address4.fromBigInt(value).correctForm() : Address6.fromBigInt(value).correctForm();
}

export function contains(outer: IpRange, inner: IpRange | bigint): boolean {
  if (typeof inner === 'bigint') return outer.first <= inner && inner <= outer.last;
  return outer.first <= inner.first && inner.last <= outer.last;
}

export function overlaps(a: IpRange, b: IpRange): boolean {
  return a.first <= b.last && b.first <= a.last;
}

export function netmaskOf(prefixLength: number): string {
  const mask = prefixLength === 0 ? 0n : ((1n << 32n) - 1n) ^ ((1n << BigInt(32 - prefixLength)) - 1n);
  return ipText(4, mask);
}

/** Parses `a-b`: both addresses of one family, a <= b (undefined when b is before a). */
export function parseIpRange(text: string): { family: Family; first: Ip; last: Ip } | undefined {
  const parts = text.split('-');
  if (parts.length !== 2) return undefined;
  const first = parseIp(parts[0]!.trim());
  const last = parseIp(parts[1]!.trim());
  if (!first || !last || first.family !== last.family || last.value < first.value) return undefined;
  return { family: first.family, first, last };
}

/** `a-b` (a <= b), `a` or a prefix, as `first-last` (IPv4), or undefined. */
export function ipv4RangeText(range: string): string | undefined {
  if (range.includes('/')) {
    const c = parseCidr(range);
    return c && c.family === 4 ? `${ipText(4, c.first)}-${ipText(4, c.last)}` : undefined;
  }
  const r = parseIpRange(range.includes('-') ? range : `${range}-${range}`);
  return r && r.family === 4 ? `${r.first.text}-${r.last.text}` : undefined;
}

/** The prefix length of a dotted netmask, or undefined when it is not one. */
export function prefixOfNetmask(netmask: string): number | undefined {
  const ip = parseIp(netmask);
  if (!ip || ip.family !== 4) return undefined;
  const bits = ip.value.toString(2).padStart(32, '0');
  return /^1*0*$/.test(bits) ? (bits.indexOf('0') === -1 ? 32 : bits.indexOf('0')) : undefined;
}
