// A deterministic, bounded fuzz test of spec handling. Every example under examples/ is parsed into a JS object,
// mutated at random (keys deleted, renamed with a typo, leaves replaced by hostile values, networks duplicated
// or swapped, hosts added, prefix lengths and address families changed) and written back with `yaml`; now and
// then the YAML text itself is damaged (truncated, characters inserted, lines duplicated or dropped, tags and
// directives added). Each result must be handled cleanly:
//
//   1. modelFromText returns a model or throws SpecError, never anything else;
//   2. every SpecError problem has a non-empty message, a path (an array) and a line and column >= 1 that lie
//      inside the text;
//   3. a model always generates: generate() does not throw, no artifact contains a control character other
//      than \n and \t, no docker/host shell line has `$(`, a backquote, `;reboot` or any hostile value of the
//      spec outside a single-quoted word, and the compose snippet is valid YAML;
//   4. a model is the whole spec: its routers, hosts and networks are exactly the keys of the YAML mappings,
//      and every host, router and network a network names is one of them.
//
// The PRNG is mulberry32 with a fixed seed; FLATNET_FUZZ_SEED overrides it (a number, or any text, which is
// hashed) and FLATNET_FUZZ_ITERATIONS the total number of iterations (default 3000, split over the examples).
// A failure names the seed, the example, the iteration and the mutations, and prints the spec text as
// generated and as minimised, so that it can be reproduced without the fuzzer.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isMap, isScalar, parse, parseDocument, stringify } from 'yaml';
import { generate, modelFromText, SpecError, type Model } from '../src/index.js';
import { UserError } from '../src/errors.js';

const examplesDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'examples');
const examples = readdirSync(examplesDir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

const DEFAULT_SEED = 0x5eedf1a7;
const SEED = seedFromEnv(process.env.FLATNET_FUZZ_SEED);
const TOTAL_ITERATIONS = Math.max(1, Number(process.env.FLATNET_FUZZ_ITERATIONS ?? '') || 3000);
const PER_EXAMPLE = Math.ceil(TOTAL_ITERATIONS / Math.max(1, examples.length));
/** At most this many distinct failures are spelled out per example (each is minimised, which takes time). */
const MAX_REPORTED = 8;
/** Bound on the spec evaluations spent minimising one failure. */
const MINIMISE_BUDGET = 1500;

// ---------------------------------------------------------------------------------------------------------
// PRNG

function seedFromEnv(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return DEFAULT_SEED;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n >>> 0 : hashString(raw);
}

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** murmur3's finaliser: independent-looking seeds for (seed, example, iteration). */
function mix(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** mulberry32: a float in [0, 1) */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** an integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** an integer in [lo, hi] */
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('fuzz: pick from an empty list');
    return items[this.int(items.length)]!;
  }
  /** a uniformly random bigint in [0, 2^bits) */
  bits(bits: number): bigint {
    let v = 0n;
    for (let i = 0; i < bits; i += 32) v = (v << 32n) | BigInt((this.next() * 4294967296) >>> 0);
    return v & ((1n << BigInt(bits)) - 1n);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Addresses (the test's own, deliberately independent of src/ip.ts)

const V4_BITS = 32;
const V6_BITS = 128;

function v4Text(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join('.');
}

function v6Text(v: bigint, compress: boolean): string {
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((s) => ((v >> s) & 0xffffn).toString(16));
  const full = groups.join(':');
  if (!compress) return full;
  // the longest run of zero groups becomes "::"
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return full;
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

function parseV4(text: string): bigint | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n);
}

function parseV6(text: string): bigint | undefined {
  if (!/^[0-9a-fA-F:]+$/.test(text) || !text.includes(':')) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

interface Prefix {
  family: 4 | 6;
  first: bigint;
  last: bigint;
  length: number;
}

function parsePrefix(text: unknown): Prefix | undefined {
  if (typeof text !== 'string') return undefined;
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const v4 = parseV4(m[1]!);
  const v6 = v4 === undefined ? parseV6(m[1]!) : undefined;
  const family = v4 !== undefined ? 4 : v6 !== undefined ? 6 : undefined;
  if (!family) return undefined;
  const bits = family === 4 ? V4_BITS : V6_BITS;
  const length = Number(m[2]);
  if (length > bits) return undefined;
  const host = (1n << BigInt(bits - length)) - 1n;
  const first = (v4 ?? v6)! & ~host;
  return { family, first, last: first | host, length };
}

function addrText(family: 4 | 6, v: bigint, rng: Rng): string {
  return family === 4 ? v4Text(v) : v6Text(v, !rng.chance(0.15));
}

/** An address in the prefix, biased towards its edges (network, first host, last, broadcast). */
function addressIn(p: Prefix, rng: Rng): bigint {
  const size = p.last - p.first + 1n;
  switch (rng.int(6)) {
    case 0:
      return p.first;
    case 1:
      return p.first + (size > 1n ? 1n : 0n);
    case 2:
      return p.last;
    case 3:
      return p.last - (size > 1n ? 1n : 0n);
    default:
      return p.first + (rng.bits(p.family === 4 ? V4_BITS : V6_BITS) % size);
  }
}

/** A prefix inside p (or p itself), in network form. */
function prefixIn(p: Prefix, rng: Rng): Prefix {
  const bits = p.family === 4 ? V4_BITS : V6_BITS;
  const length = rng.between(p.length, bits);
  const host = (1n << BigInt(bits - length)) - 1n;
  const first = addressIn(p, rng) & ~host;
  return { family: p.family, first, last: first | host, length };
}

function prefixText(p: Prefix, rng: Rng): string {
  return `${addrText(p.family, p.first, rng)}/${p.length}`;
}

function randomAddress(family: 4 | 6, rng: Rng): string {
  if (family === 4) {
    const privateish = rng.pick([0x0a000000n, 0xc0a80000n, 0xac100000n, 0n]);
    return v4Text(privateish === 0n ? rng.bits(32) : privateish | (rng.bits(32) & 0xffffn));
  }
  const base = rng.pick([0x20010db8n << 96n, 0xfd00n << 112n, 0xfe80n << 112n, 0n]);
  return v6Text(base === 0n ? rng.bits(128) : base | rng.bits(64), rng.chance(0.8));
}

function randomPrefix(family: 4 | 6, rng: Rng): string {
  const bits = family === 4 ? V4_BITS : V6_BITS;
  const length = rng.between(0, bits);
  const host = (1n << BigInt(bits - length)) - 1n;
  const addr = family === 4 ? parseV4(randomAddress(4, rng))! : parseV6(randomAddress(6, rng))!;
  // mostly in network form; sometimes with host bits set
  const value = rng.chance(0.8) ? addr & ~host : addr;
  return `${addrText(family, value, rng)}/${length}`;
}

// ---------------------------------------------------------------------------------------------------------
// Hostile values

const LONG = 'x'.repeat(300);
const HUGE = 'a'.repeat(5000);

const NASTY_STRINGS: readonly string[] = [
  '',
  ' ',
  LONG,
  HUGE,
  ';reboot',
  'eth0;reboot',
  '$(id)',
  'a$(reboot)',
  '`id`',
  '`reboot`',
  "'",
  '"',
  "it's",
  'a"b',
  '\\',
  '\n',
  'eth0\n/system reboot',
  'eth0\nip link del eth0',
  '\r',
  '\t',
  'a\tb',
  '\u0000',
  'eth0\u0000',
  '\u001b[31m',
  '\u007f',
  '\u0085',
  '%d',
  '%s%n',
  '%',
  'ünïcødé',
  'eth0é',
  '网络',
  '\u202eevil',
  '\u200f',
  'eth\u200f0',
  '\ufeff',
  '${IFS}',
  '&&reboot',
  '|sh',
  '>x',
  '*',
  '~',
  '#',
  '- x',
  'a b',
  '{}',
  '[]',
  'null',
  'true',
  '0x10',
  '1e3',
  '..',
  '.',
  '-',
  '../../etc/passwd',
  '-rf',
  '--help',
  'up',
  'help',
  'dev',
  'lan',
  'wan',
  'constructor',
  '__proto__',
  'macvlan',
  'ipvlan',
  'routeros',
  'openwrt',
  'dns',
  'eth0',
  'eth0.200',
  'enp3s0',
  'abcdefghijklmnop',
  'abcdefghijklmno',
  '0.0.0.0/0',
  '::/0',
  '255.255.255.255/32',
  '10.0.0.0/8',
  '0.0.0.0',
  '255.255.255.255',
  '::',
  '::1',
  '127.0.0.1',
  '192.168.1.1/24',
  'fe80::1%eth0',
  '::ffff:10.0.0.1',
  '::ffff:192.168.200.1',
  '1.2.3',
  '1.2.3.4.5',
  '256.1.1.1',
  '01.02.03.04',
  '2001:db8::/200',
  '10.0.0.0/33',
  '10.0.0.0/-1',
  '10.0.0.0/ 8',
  '10.0.0.0/08',
  ' 10.0.0.1',
  '10.0.0.1 ',
  '10.0.0.1-10.0.0.0',
  '10.0.0.5-10.0.0.9',
  '10.0.0.5 - 10.0.0.9',
  '10.0.0.5-',
  '-10.0.0.5',
  '2001:db8::1-2001:db8::9',
  '192.168.200.0/24',
  '192.168.200.1',
  '192.168.200.192/27',
  `SHA256:${'A'.repeat(43)}`,
  'SHA256:...',
  'FLATNET_CORE_PASSWORD',
  '~/.ssh/id_ed25519',
];

const NASTY_OTHERS: readonly unknown[] = [
  null,
  true,
  false,
  0,
  -0,
  -1,
  1,
  2,
  4094,
  4095,
  65535,
  65536,
  1.5,
  0.1,
  2 ** 31,
  2 ** 53 + 2,
  1e21,
  1e308,
  Infinity,
  -Infinity,
  NaN,
  [],
  {},
  [null],
  [''],
  ['lan'],
  [1, 2],
  { a: 1 },
  { subnet: '10.0.0.0/8' },
];

const NAME_POOL: readonly string[] = [
  'net2',
  'x',
  'a1',
  'lan',
  'wan',
  'constructor',
  'hasownproperty',
  'a'.repeat(31),
  'a'.repeat(32),
  'abcdefghijklmnopqrstuvwxyz',
  'Upper',
  '-lead',
  'trail-',
  'with_underscore',
  '0start',
  'ünï',
  'a;reboot',
  '$(id)',
  'fn',
  'docker-link',
  'docker-demo',
  'nas',
  'mini',
  'core',
  'edge',
  '',
  '__proto__',
  'toString',
  'a b',
];

interface Injected {
  strings: Set<string>;
}

function nastyValue(rng: Rng, inj: Injected): unknown {
  const r = rng.next();
  if (r < 0.55) {
    const s = rng.pick(NASTY_STRINGS);
    inj.strings.add(s);
    return s;
  }
  if (r < 0.8) return structuredClone(rng.pick(NASTY_OTHERS));
  const family = rng.chance(0.6) ? 4 : 6;
  switch (rng.int(3)) {
    case 0:
      return randomAddress(family, rng);
    case 1:
      return randomPrefix(family, rng);
    default: {
      const a = randomAddress(family, rng);
      const b = randomAddress(family, rng);
      return `${a}-${b}`;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// The spec as a JS tree

type Path = Array<string | number>;
type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Own keys, set with defineProperty so that "__proto__" stays a plain key. */
function setKey(obj: Obj, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function clone(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(clone);
  if (isObj(v)) {
    const out: Obj = {};
    for (const k of Object.keys(v)) setKey(out, k, clone(v[k]));
    return out;
  }
  return v;
}

interface NodeRef {
  path: Path;
  value: unknown;
  parent: Obj | unknown[];
  key: string | number;
}

function nodes(root: unknown): NodeRef[] {
  const out: NodeRef[] = [];
  const walk = (v: unknown, path: Path) => {
    if (Array.isArray(v)) {
      v.forEach((item, i) => {
        out.push({ path: [...path, i], value: item, parent: v, key: i });
        walk(item, [...path, i]);
      });
    } else if (isObj(v)) {
      for (const k of Object.keys(v)) {
        out.push({ path: [...path, k], value: v[k], parent: v, key: k });
        walk(v[k], [...path, k]);
      }
    }
  };
  walk(root, []);
  return out;
}

function put(ref: NodeRef, value: unknown): void {
  if (Array.isArray(ref.parent)) ref.parent[ref.key as number] = value;
  else setKey(ref.parent, ref.key as string, value);
}

/** Renames a key in place, keeping the order of the keys. */
function renameKey(obj: Obj, from: string, to: string): void {
  const entries = Object.keys(obj).map((k) => [k === from ? to : k, obj[k]] as const);
  for (const k of Object.keys(obj)) delete obj[k];
  for (const [k, v] of entries) setKey(obj, k, v);
}

function typo(key: string, rng: Rng): string {
  const i = rng.int(Math.max(1, key.length));
  const letters = 'abcdefghijklmnopqrstuvwxyz-_';
  switch (rng.int(8)) {
    case 0:
      return key.slice(0, i) + key.slice(i + 1); // drop
    case 1:
      return key.slice(0, i) + (key[i] ?? 'x') + key.slice(i); // double
    case 2:
      return i + 1 < key.length ? key.slice(0, i) + key[i + 1] + key[i] + key.slice(i + 2) : `${key}s`; // swap
    case 3:
      return key.slice(0, i) + rng.pick([...letters]) + key.slice(i + 1); // replace
    case 4:
      return key.replace(/-/g, '_') === key ? key.toUpperCase() : key.replace(/-/g, '_');
    case 5:
      return key.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase()) === key ? `${key} ` : key.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
    case 6:
      return `${key}${rng.pick(['s', '2', ' ', ':', '-'])}`;
    default:
      return key.charAt(0).toUpperCase() + key.slice(1);
  }
}

const sectionOf = (spec: unknown, key: 'routers' | 'hosts' | 'networks'): Obj | undefined => (isObj(spec) && isObj(spec[key]) ? spec[key] : undefined);

function networks(spec: unknown): Array<[string, Obj]> {
  const ns = sectionOf(spec, 'networks');
  return ns ? Object.keys(ns).flatMap((k) => (isObj(ns[k]) ? [[k, ns[k]] as [string, Obj]] : [])) : [];
}

function newName(rng: Rng, taken: Obj | undefined, base?: string): string {
  for (let tries = 0; tries < 5; tries++) {
    const name = rng.chance(0.5) && base ? `${base}${rng.pick(['2', '-b', 'x', String(rng.int(1000))])}` : rng.pick(NAME_POOL);
    if (!taken || !Object.prototype.hasOwnProperty.call(taken, name)) return name;
  }
  return `n${rng.int(1_000_000)}`;
}

// ---------------------------------------------------------------------------------------------------------
// Mutations of the tree. Each returns a description (for the failure message), or undefined when it did not apply.

type Mutation = (spec: Obj, rng: Rng, inj: Injected) => string | undefined;

const fmt = (p: Path) => p.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('').replace(/^\./, '');
const show = (v: unknown) => {
  const s = typeof v === 'string' ? JSON.stringify(v) : Number.isNaN(v) ? 'NaN' : JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

const deleteKey: Mutation = (spec, rng) => {
  const refs = nodes(spec);
  if (refs.length === 0) return undefined;
  const ref = rng.pick(refs);
  if (Array.isArray(ref.parent)) ref.parent.splice(ref.key as number, 1);
  else delete ref.parent[ref.key as string];
  return `delete ${fmt(ref.path)}`;
};

const setLeaf: Mutation = (spec, rng, inj) => {
  const refs = nodes(spec);
  const leaves = refs.filter((r) => !isObj(r.value) && !Array.isArray(r.value));
  const pool = leaves.length > 0 && rng.chance(0.8) ? leaves : refs;
  if (pool.length === 0) return undefined;
  const ref = rng.pick(pool);
  const value = nastyValue(rng, inj);
  put(ref, value);
  return `set ${fmt(ref.path)} = ${show(value)}`;
};

const typoKey: Mutation = (spec, rng) => {
  const refs = nodes(spec).filter((r) => !Array.isArray(r.parent));
  if (refs.length === 0) return undefined;
  const ref = rng.pick(refs);
  const to = typo(ref.key as string, rng);
  if (to === ref.key || Object.prototype.hasOwnProperty.call(ref.parent, to)) return undefined;
  renameKey(ref.parent as Obj, ref.key as string, to);
  return `rename ${fmt(ref.path)} -> ${JSON.stringify(to)}`;
};

/** Renames a router, host or network (the references to it are left alone, or renamed too). */
const renameEntity: Mutation = (spec, rng, inj) => {
  const section = rng.pick(['routers', 'hosts', 'networks'] as const);
  const obj = sectionOf(spec, section);
  if (!obj || Object.keys(obj).length === 0) return undefined;
  const from = rng.pick(Object.keys(obj));
  const to = newName(rng, obj, from);
  renameKey(obj, from, to);
  inj.strings.add(to);
  const follow = rng.chance(0.5);
  if (follow) {
    for (const [, n] of networks(spec)) {
      if (section === 'routers' && n.router === from) n.router = to;
      if (section === 'hosts') {
        if (n.host === from) n.host = to;
        else if (Array.isArray(n.host)) n.host = n.host.map((h) => (h === from ? to : h));
      }
      if (section === 'networks' && isObj(n.firewall)) {
        for (const k of ['from', 'to']) {
          const list = n.firewall[k];
          if (Array.isArray(list)) n.firewall[k] = list.map((x) => (x === from ? to : x));
        }
      }
    }
  }
  return `rename ${section}.${from} -> ${JSON.stringify(to)}${follow ? ' (and its references)' : ''}`;
};

const duplicateNetwork: Mutation = (spec, rng, inj) => {
  const ns = sectionOf(spec, 'networks');
  const list = networks(spec);
  if (!ns || list.length === 0) return undefined;
  const [from, n] = rng.pick(list);
  const to = newName(rng, ns, from);
  const copy = clone(n) as Obj;
  const notes: string[] = [];
  if (rng.chance(0.5) && typeof copy.vlan === 'number') {
    copy.vlan = rng.pick([copy.vlan + 1, rng.between(2, 4094), 4094, 2]);
    notes.push(`vlan ${copy.vlan}`);
  }
  if (rng.chance(0.3)) {
    delete copy['shim-name'];
    notes.push('no shim-name');
  }
  setKey(ns, to, copy);
  inj.strings.add(to);
  return `duplicate networks.${from} as ${JSON.stringify(to)}${notes.length ? ` (${notes.join(', ')})` : ''}`;
};

const SWAPPABLE = ['vlan', 'subnet', 'gateway', 'container-range', 'shim-address', 'shim-name', 'dhcp-pool', 'ipv6', 'host', 'router', 'driver', 'firewall'];

const swapNetworks: Mutation = (spec, rng) => {
  const list = networks(spec);
  if (list.length < 2) return undefined;
  const i = rng.int(list.length);
  let j = rng.int(list.length - 1);
  if (j >= i) j++;
  const [an, a] = list[i]!;
  const [bn, b] = list[j]!;
  const key = rng.chance(0.5) ? rng.pick(['vlan', 'subnet']) : rng.pick(SWAPPABLE);
  const av = a[key];
  const bv = b[key];
  if (bv === undefined) delete a[key];
  else a[key] = bv;
  if (av === undefined) delete b[key];
  else b[key] = av;
  return `swap ${key} of networks ${an} and ${bn}`;
};

const addHost: Mutation = (spec, rng, inj) => {
  const list = networks(spec);
  if (list.length === 0) return undefined;
  const [nn, n] = rng.pick(list);
  const hosts = sectionOf(spec, 'hosts');
  const existing = hosts ? Object.keys(hosts) : [];
  let host: string;
  const r = rng.next();
  if (r < 0.5 && existing.length > 0) host = rng.pick(existing);
  else {
    host = newName(rng, hosts);
    inj.strings.add(host);
    if (hosts && rng.chance(0.7)) {
      const h: Obj = { parent: rng.chance(0.7) ? rng.pick(['eth0', 'eno1', 'enp3s0', 'eth1', 'bond0', 'abcdefghijklmno', 'abcdefghijklmnop']) : nastyValue(rng, inj) };
      if (rng.chance(0.4)) h.address = rng.chance(0.7) ? rng.pick(['192.168.88.11/24', '192.168.1.10/24', '10.0.0.2/8']) : nastyValue(rng, inj);
      setKey(hosts, host, h);
    }
  }
  const current = n.host;
  n.host = Array.isArray(current) ? [...current, host] : current === undefined ? host : [current, host];
  return `add host ${JSON.stringify(host)} to networks.${nn}`;
};

const addHostDefinition: Mutation = (spec, rng, inj) => {
  const hosts = sectionOf(spec, 'hosts');
  if (!hosts) return undefined;
  const name = newName(rng, hosts);
  inj.strings.add(name);
  const h: Obj = { parent: rng.chance(0.5) ? 'eth9' : nastyValue(rng, inj) };
  if (rng.chance(0.5)) h.address = rng.chance(0.5) ? randomPrefix(4, rng) : nastyValue(rng, inj);
  setKey(hosts, name, h);
  return `add hosts.${name} = ${show(h)}`;
};

/** Rewrites the prefix length of a random "address/length" leaf. */
const changePrefixLength: Mutation = (spec, rng) => {
  const refs = nodes(spec).filter((r) => typeof r.value === 'string' && /^[0-9a-fA-F:.]+\/\d+$/.test(r.value));
  if (refs.length === 0) return undefined;
  const ref = rng.pick(refs);
  const text = ref.value as string;
  const max = text.includes(':') ? 128 : 32;
  const length = rng.chance(0.9) ? rng.between(0, max) : rng.pick([max + 1, 999, 1000]);
  const value = text.replace(/\/\d+$/, `/${length}`);
  put(ref, value);
  return `set ${fmt(ref.path)} = ${JSON.stringify(value)}`;
};

/** An IPv4 value becomes IPv6 and the other way round. */
const swapFamily: Mutation = (spec, rng) => {
  const refs = nodes(spec).filter((r) => typeof r.value === 'string' && /^[0-9a-fA-F:.]+(\/\d+)?(-[0-9a-fA-F:.]+)?$/.test(r.value) && /[.:]/.test(r.value));
  if (refs.length === 0) return undefined;
  const ref = rng.pick(refs);
  const text = ref.value as string;
  const isV6 = text.includes(':');
  const one = (part: string): string => {
    const [addr, len] = part.split('/');
    if (isV6) return len !== undefined ? randomPrefix(4, rng) : randomAddress(4, rng);
    const v4 = parseV4(addr ?? '');
    const v6 = rng.chance(0.3) && v4 !== undefined ? `::ffff:${addr}` : randomAddress(6, rng);
    return len !== undefined ? `${v6}/${rng.chance(0.5) ? Number(len) + 96 : rng.between(0, 128)}` : v6;
  };
  const value = text.split('-').map(one).join('-');
  put(ref, value);
  return `set ${fmt(ref.path)} = ${JSON.stringify(value)} (other address family)`;
};

/** Moves an address field of a network to a random but plausible place relative to its subnet. */
const retarget: Mutation = (spec, rng) => {
  const list = networks(spec);
  if (list.length === 0) return undefined;
  const [nn, n] = rng.pick(list);
  const v6 = isObj(n.ipv6) && rng.chance(0.35) ? n.ipv6 : undefined;
  const target = v6 ?? n;
  const subnet = parsePrefix(target.subnet);
  if (!subnet) return undefined;
  const field = rng.pick(v6 ? ['gateway', 'container-range', 'shim-address', 'subnet'] : ['gateway', 'container-range', 'shim-address', 'dhcp-pool', 'subnet']);
  let value: string;
  if (field === 'gateway' || field === 'shim-address') value = addrText(subnet.family, addressIn(subnet, rng), rng);
  else if (field === 'container-range') value = prefixText(prefixIn(subnet, rng), rng);
  else if (field === 'dhcp-pool') {
    const a = addressIn(subnet, rng);
    const b = addressIn(subnet, rng);
    const [lo, hi] = a <= b || rng.chance(0.1) ? [a, b] : [b, a];
    value = `${v4Text(lo)}-${v4Text(hi)}`;
  } else {
    // a wider or narrower subnet around the same addresses
    const bits = subnet.family === 4 ? V4_BITS : V6_BITS;
    const length = rng.between(Math.max(0, subnet.length - 8), Math.min(bits, subnet.length + 8));
    const host = (1n << BigInt(bits - length)) - 1n;
    value = `${addrText(subnet.family, subnet.first & ~host, rng)}/${length}`;
  }
  setKey(target, field, value);
  return `set networks.${nn}${v6 ? '.ipv6' : ''}.${field} = ${JSON.stringify(value)}`;
};

const setVlan: Mutation = (spec, rng) => {
  const list = networks(spec);
  if (list.length === 0) return undefined;
  const [nn, n] = rng.pick(list);
  const vlan = rng.pick([0, 1, 2, 4094, 4095, rng.between(2, 4094), rng.between(2, 30), -5, 100000]);
  n.vlan = vlan;
  return `set networks.${nn}.vlan = ${vlan}`;
};

const setFirewallRefs: Mutation = (spec, rng, inj) => {
  const list = networks(spec);
  if (list.length === 0) return undefined;
  const [nn, n] = rng.pick(list);
  const names = [...list.map(([k]) => k), 'lan', 'wan', 'nope', nn];
  const key = rng.pick(['from', 'to']);
  const refs = Array.from({ length: rng.int(4) }, () => (rng.chance(0.9) ? rng.pick(names) : String(nastyValue(rng, inj))));
  const fw = isObj(n.firewall) ? n.firewall : {};
  fw[key] = refs;
  if (rng.chance(0.3)) fw['allow-input'] = Array.from({ length: rng.int(4) }, () => rng.pick(['dns', 'dhcp', 'ntp', 'icmp', 'ssh', 'http', 'https', 'telnet', 'DNS']));
  n.firewall = fw;
  return `set networks.${nn}.firewall.${key} = ${show(refs)}`;
};

// Values the schema accepts (or nearly so) that every target must still quote: these reach generate().
const AWKWARD: Record<string, readonly string[]> = {
  ros: ['my bridge', 'bridge 1', 'a.b:c@d+e-f_g', '_x', 'WAN list', '0', 'x'.repeat(64), 'x'.repeat(65), 'a  b', 'bridge ', '+', 'a,b', 'a"b', 'a$b'],
  uci: ['br-lan.1', 'a@b', '_', '.', '..', '-x', 'x'.repeat(32), 'x'.repeat(33), 'lan.1', 'a_b', '@lan', 'A-B', 'a b', "a'b"],
  label: ["it's", 'a"b', '$x', '\\', '$(id)', '`id`', ';reboot', 'ünï', '\u200f', 'x'.repeat(64), 'x'.repeat(65), ' ', '\u0085', '\u2028', '%s', '{{x}}', '}'],
  file: ['/a b/c', "~/it's", '$(id)', '`id`', '\u0085', 'C:\\x', ' ', '-', '{{x}}', 'ünï'],
  endpoint: ['router.lan', 'a', '::', 'a-b.c', ':::::', '1.2.3.4', 'x'.repeat(63), 'x'.repeat(64), '-a', 'a_b', 'fe80::1%eth0'],
  env: ['A', '_', 'a1', 'PASS_WORD', '1A', 'A-B', '$A'],
  uciSection: ['lan', 'LAN_1', '_', '0', 'x'.repeat(32), 'x'.repeat(33), 'lan-1', 'lan.1'],
  linux: ['eth0', 'e', 'a.b', '_x', 'x'.repeat(15), 'x'.repeat(16), 'eth0.1', 'a-b_c.d', 'eth0.4094', 'up', 'help', 'dev', 'type', '-x', '.x', 'a:b', 'a%d', 'ünï'],
  hostKey: [`SHA256:${'A'.repeat(43)}`, `SHA256:${'+/'.repeat(21)}a=`, `SHA256:${'a'.repeat(42)}`],
};
const AWKWARD_FIELDS: Record<string, string> = {
  bridge: 'ros', wan: 'ros', lan: 'ros', 'trunk-ports': 'ros', device: 'uci', 'wan-zone': 'uci', 'lan-zone': 'uci', 'lan-ports': 'uci',
  user: 'label', 'key-file': 'file', 'password-file': 'file', address: 'endpoint', 'password-env': 'env', 'lan-interface': 'uciSection',
  'host-key': 'hostKey', parent: 'linux', 'shim-name': 'linux',
};

/** A string field of a router, host or network set to a value that (mostly) passes the schema but needs quoting. */
const awkwardValue: Mutation = (spec, rng, inj) => {
  const section = rng.pick(['routers', 'routers', 'hosts', 'networks'] as const);
  const obj = sectionOf(spec, section);
  const names = obj ? Object.keys(obj).filter((k) => isObj(obj[k])) : [];
  if (!obj || names.length === 0) return undefined;
  const name = rng.pick(names);
  const entity = obj[name] as Obj;
  const fields = section === 'routers' ? ['bridge', 'wan', 'lan', 'trunk-ports', 'device', 'wan-zone', 'lan-zone', 'lan-ports', 'user', 'key-file', 'password-file', 'address', 'password-env', 'lan-interface', 'host-key'] : section === 'hosts' ? ['parent'] : ['shim-name'];
  const field = rng.pick(fields);
  const one = () => {
    const v = rng.pick(AWKWARD[AWKWARD_FIELDS[field]!]!);
    inj.strings.add(v);
    return v;
  };
  const value = field === 'trunk-ports' || field === 'lan-ports' ? Array.from({ length: rng.between(1, 3) }, one) : one();
  if (field === 'password-file' && rng.chance(0.7)) delete entity['password-env'];
  setKey(entity, field, value);
  return `set ${section}.${name}.${field} = ${show(value)}`;
};

const TREE_MUTATIONS: ReadonlyArray<[number, string, Mutation]> = [
  [6, 'awkwardValue', awkwardValue],
  [2, 'deleteKey', deleteKey],
  [5, 'setLeaf', setLeaf],
  [2, 'typoKey', typoKey],
  [2, 'renameEntity', renameEntity],
  [2, 'duplicateNetwork', duplicateNetwork],
  [2, 'swapNetworks', swapNetworks],
  [2, 'addHost', addHost],
  [1, 'addHostDefinition', addHostDefinition],
  [3, 'changePrefixLength', changePrefixLength],
  [2, 'swapFamily', swapFamily],
  [4, 'retarget', retarget],
  [1, 'setVlan', setVlan],
  [1, 'setFirewallRefs', setFirewallRefs],
];
const TREE_WEIGHT = TREE_MUTATIONS.reduce((s, [w]) => s + w, 0);

function pickMutation(rng: Rng): Mutation {
  let r = rng.next() * TREE_WEIGHT;
  for (const [w, , m] of TREE_MUTATIONS) {
    if ((r -= w) < 0) return m;
  }
  return TREE_MUTATIONS[0]![2];
}

// ---------------------------------------------------------------------------------------------------------
// Mutations of the YAML text

const CHARS: readonly string[] = [
  ':', '-', '#', '&', '*', '!', '|', '>', '{', '}', '[', ']', ',', '"', "'", '\t', '\n', ' ', '  ', '%', '@', '`', '?',
  '\\', '\u0000', '\r', '\ufeff', 'é', '\u202e', '\u0085', '\u2028', '0', 'a', '<<: ', '---\n', '...\n', '&a ', '*a', '? ',
  '!!str ', '!!int ', '!!float ', '!!binary ', '!!set ', '!!omap ', '!!timestamp ', '!!null ', '!!map ', '!!seq ', '!custom ',
];

function textMutation(text: string, rng: Rng): [string, string] {
  const lines = text.split('\n');
  const li = rng.int(lines.length);
  switch (rng.int(9)) {
    case 0: {
      const at = rng.int(text.length + 1);
      return [text.slice(0, at), `truncate at offset ${at}`];
    }
    case 1:
    case 2: {
      const at = rng.int(text.length + 1);
      const c = rng.pick(CHARS);
      return [text.slice(0, at) + c + text.slice(at), `insert ${JSON.stringify(c)} at offset ${at}`];
    }
    case 3:
      lines.splice(li, 0, lines[li]!);
      return [lines.join('\n'), `duplicate line ${li + 1}`];
    case 4:
      lines.splice(li, 1);
      return [lines.join('\n'), `delete line ${li + 1}`];
    case 5: {
      const lj = rng.int(lines.length);
      [lines[li], lines[lj]] = [lines[lj]!, lines[li]!];
      return [lines.join('\n'), `swap lines ${li + 1} and ${lj + 1}`];
    }
    case 6: {
      const indent = rng.chance(0.5);
      lines[li] = indent ? ` ${lines[li]}` : lines[li]!.replace(/^ {1,2}/, '');
      return [lines.join('\n'), `${indent ? 'indent' : 'dedent'} line ${li + 1}`];
    }
    case 7: {
      // a tag in front of a value
      const m = /^(\s*(?:- )?[^:#]+:\s)(.*)$/.exec(lines[li]!);
      if (!m) return [text, 'no-op'];
      const tag = rng.pick(['!!binary', '!!set', '!!omap', '!!timestamp', '!!float', '!!int', '!!str', '!!null', '!!bool', '!!map', '!!seq', '!x']);
      lines[li] = `${m[1]}${tag} ${m[2]}`;
      return [lines.join('\n'), `tag line ${li + 1} with ${tag}`];
    }
    default: {
      const head = rng.pick(['%YAML 1.1\n---\n', '%YAML 1.2\n---\n', '%TAG !e! tag:example.com,2000:\n---\n', '---\n', '--- !!map\n', '--- |\n', '[\n']);
      return [head + text, `prepend ${JSON.stringify(head)}`];
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// The invariants

interface Failure {
  /** groups failures that are the same bug */
  signature: string;
  detail: string;
}

const CONTROL_EXCEPT_TAB_NL = /[^\P{Cc}\t\n]/u;
const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

function errorSignature(kind: string, err: unknown): { signature: string; detail: string } {
  if (!(err instanceof Error)) return { signature: `${kind}: non-Error ${typeof err}`, detail: `${kind}: threw a non-Error: ${String(err)}` };
  const first = err.message.split('\n')[0] ?? '';
  const shape = first.replace(/"(?:[^"\\]|\\.)*"/g, '"…"').replace(/\d+/g, 'N').slice(0, 160);
  const frame = (err.stack ?? '').split('\n').find((l) => /^\s+at /.test(l))?.trim().replace(/:\d+:\d+\)?$/, '') ?? '';
  return { signature: `${kind}: ${err.name}: ${shape} @ ${frame}`, detail: `${kind}: ${err.stack ?? `${err.name}: ${err.message}`}` };
}

/** The line with quoted words and backslash escapes blanked out, as a POSIX shell lexer sees the unquoted rest. */
function unquotedPart(line: string): { rest: string; unterminated: boolean } {
  let rest = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) return { rest, unterminated: true };
      rest += '\u0001'; // a separator, so that a value cannot match across a quoted word
      i = end;
    } else if (c === '\\') {
      rest += '\u0001';
      i++;
    } else rest += c;
  }
  return { rest, unterminated: false };
}

function checkSpecError(err: SpecError, text: string): Failure[] {
  const failures: Failure[] = [];
  const lineCount = text.split('\n').length;
  if (!Array.isArray(err.problems) || err.problems.length === 0) {
    failures.push({ signature: 'SpecError without problems', detail: `SpecError without problems: ${err.message}` });
    return failures;
  }
  for (const p of err.problems) {
    const where = `problem ${JSON.stringify(p)}`;
    if (typeof p.message !== 'string' || p.message.trim() === '') failures.push({ signature: 'problem with an empty message', detail: `${where}: empty message` });
    if (!Array.isArray(p.path) || p.path.some((k) => typeof k !== 'string' && typeof k !== 'number')) {
      failures.push({ signature: 'problem without a path array', detail: `${where}: path is not an array of keys` });
    }
    const shape = String(p.message).replace(/"(?:[^"\\]|\\.)*"/g, '"…"').replace(/[0-9a-f:.]*\d[0-9a-f:./]*/g, 'N').slice(0, 120);
    if (!Number.isInteger(p.line) || p.line! < 1 || !Number.isInteger(p.col) || p.col! < 1) {
      failures.push({ signature: `problem without a position: ${shape}`, detail: `${where}: line/col missing or < 1` });
    } else if (p.line! > lineCount + 1) {
      failures.push({ signature: `problem positioned past the end of the text: ${shape}`, detail: `${where}: line ${p.line} but the text has ${lineCount} lines` });
    }
  }
  return failures;
}

function checkArtifacts(model: Model, inj: Injected): Failure[] {
  const failures: Failure[] = [];
  let artifacts;
  try {
    artifacts = generate(model);
  } catch (err) {
    // the one documented refusal: with VLAN filtering on OpenWrt, generate cannot read lan-ports or
    // lan-interface from the router (plan/apply can), so it asks for them in one line
    if (err instanceof UserError && /generate needs (lan-ports|lan-interface)/.test(err.message)) return [];
    return [errorSignature('generate() threw', err)];
  }
  const hostile = [...inj.strings].filter((s) => s.length >= 2 && !SHELL_SAFE.test(s) && s.trim() !== '');
  for (const a of artifacts) {
    if (typeof a.content !== 'string') {
      failures.push({ signature: `${a.target}: content is not a string`, detail: `${a.path}: content is ${typeof a.content}` });
      continue;
    }
    const bad = CONTROL_EXCEPT_TAB_NL.exec(a.content);
    if (bad) {
      const lineNo = a.content.slice(0, bad.index).split('\n').length;
      failures.push({
        signature: `${a.target}: control character U+${bad[0].codePointAt(0)!.toString(16).padStart(4, '0')} in the output`,
        detail: `${a.path} line ${lineNo} has U+${bad[0].codePointAt(0)!.toString(16).padStart(4, '0')}: ${JSON.stringify(a.content.split('\n')[lineNo - 1])}`,
      });
    }
    if (a.path.startsWith('docker/') || a.path.startsWith('host/')) {
      for (const [i, line] of a.content.split('\n').entries()) {
        const { rest, unterminated } = unquotedPart(line);
        const at = `${a.path} line ${i + 1}: ${JSON.stringify(line)}`;
        if (unterminated) failures.push({ signature: `${a.target}: unterminated single quote`, detail: `${at}: unterminated single quote` });
        for (const meta of ['$(', '`', ';reboot']) {
          if (rest.includes(meta)) failures.push({ signature: `${a.target}: unquoted ${meta}`, detail: `${at}: ${JSON.stringify(meta)} outside single quotes` });
        }
        for (const s of hostile) {
          if (rest.includes(s)) failures.push({ signature: `${a.target}: unquoted spec value`, detail: `${at}: spec value ${JSON.stringify(s)} outside single quotes` });
        }
      }
    }
    if (a.target === 'compose') {
      const doc = parseDocument(a.content);
      if (doc.errors.length > 0) failures.push({ signature: 'compose: not valid YAML', detail: `${a.path}: ${doc.errors[0]!.message}` });
    }
  }
  return failures;
}

/**
 * A model says what the spec says: its routers, hosts and networks are exactly the keys of those mappings in
 * the YAML, and every name a network refers to is one of them (a spec is never accepted with part of it
 * silently dropped or pointing at nothing).
 */
function checkModel(model: Model, text: string): Failure[] {
  const failures: Failure[] = [];
  const doc = parseDocument(text, { uniqueKeys: true, merge: false });
  const keysOf = (section: string): string[] => {
    const node = isMap(doc.contents) ? doc.contents.get(section, true) : undefined;
    return isMap(node) ? node.items.map((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key))) : [];
  };
  const names = {
    routers: model.routers.map((r) => r.name),
    hosts: model.hosts.map((h) => h.name),
    networks: model.networks.map((n) => n.name),
  };
  for (const section of ['routers', 'hosts', 'networks'] as const) {
    const inSpec = [...keysOf(section)].sort();
    const inModel = [...names[section]].sort();
    if (JSON.stringify(inSpec) !== JSON.stringify(inModel)) {
      failures.push({
        signature: `model: its ${section} are not the spec's`,
        detail: `model ${section} ${JSON.stringify(inModel)} but the spec has ${JSON.stringify(inSpec)}`,
      });
    }
  }
  const has = (list: string[], name: unknown) => typeof name === 'string' && list.includes(name);
  for (const n of model.networks) {
    for (const h of n.hosts) {
      if (!has(names.hosts, h)) failures.push({ signature: 'model: a network runs on an undefined host', detail: `network ${JSON.stringify(n.name)} has host ${JSON.stringify(h)}, hosts are ${JSON.stringify(names.hosts)}` });
    }
    for (const a of n.attachments) {
      if (!has(names.hosts, a.host)) failures.push({ signature: 'model: an attachment to an undefined host', detail: `network ${JSON.stringify(n.name)} is attached to host ${JSON.stringify(a.host)} (parent ${String(a.parent)}, link ${String(a.link)})` });
    }
    if (n.router !== undefined && !has(names.routers, n.router)) failures.push({ signature: 'model: a network on an undefined router', detail: `network ${JSON.stringify(n.name)} has router ${JSON.stringify(n.router)}` });
    for (const ref of [...(n.firewall?.from ?? []), ...(n.firewall?.to ?? [])]) {
      if (ref !== 'lan' && !has(names.networks, ref)) failures.push({ signature: 'model: a firewall rule naming no network', detail: `network ${JSON.stringify(n.name)} firewall names ${JSON.stringify(ref)}` });
    }
  }
  return failures;
}

function checkSpec(text: string, inj: Injected): Failure[] {
  let model: Model;
  try {
    model = modelFromText(text, 'fuzz.yaml');
  } catch (err) {
    if (err instanceof SpecError) return checkSpecError(err, text);
    return [errorSignature('modelFromText threw something other than SpecError', err)];
  }
  return [...checkModel(model, text), ...checkArtifacts(model, inj)];
}

/**
 * Shrinks a failing spec while the same failure persists: first as a tree (deleting keys and list items, when
 * the text is plain YAML that survives a round trip), then line by line.
 */
function minimise(text: string, signature: string, inj: Injected): string {
  let budget = MINIMISE_BUDGET;
  const fails = (t: string) => budget-- > 0 && checkSpec(t, inj).some((f) => f.signature === signature);
  let tree: unknown;
  try {
    tree = /^\s*[%!&*]|\s[!&*]/m.test(text) ? undefined : parse(text, { uniqueKeys: true, merge: false });
  } catch {
    tree = undefined;
  }
  const dump = (t: unknown) => stringify(t, { aliasDuplicateObjects: false, lineWidth: 0 });
  if ((isObj(tree) || Array.isArray(tree)) && fails(dump(tree))) {
    text = dump(tree);
    for (let progress = true; progress && budget > 0; ) {
      progress = false;
      for (const ref of nodes(tree)) {
        if (budget <= 0) break;
        const candidate = clone(tree);
        const parent = ref.path.slice(0, -1).reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], candidate) as Obj | unknown[];
        if (Array.isArray(parent)) parent.splice(ref.key as number, 1);
        else delete parent[ref.key as string];
        if (fails(dump(candidate))) {
          tree = candidate;
          text = dump(candidate);
          progress = true;
          break;
        }
      }
    }
  }
  let lines = text.split('\n');
  for (let chunk = Math.max(1, lines.length >> 1); chunk >= 1 && budget > 0; chunk = chunk === 1 ? 0 : Math.max(1, chunk >> 1)) {
    for (let i = 0; i < lines.length && budget > 0; ) {
      const candidate = [...lines.slice(0, i), ...lines.slice(i + chunk)];
      if (candidate.length < lines.length && fails(candidate.join('\n'))) lines = candidate;
      else i += chunk;
    }
  }
  // trailing comments and spaces
  for (let i = 0; i < lines.length && budget > 0; i++) {
    const stripped = lines[i]!.replace(/\s+#.*$/, '').replace(/\s+$/, '');
    if (stripped !== lines[i]) {
      const candidate = [...lines];
      candidate[i] = stripped;
      if (fails(candidate.join('\n'))) lines = candidate;
    }
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// The run

interface Case {
  text: string;
  steps: string[];
  inj: Injected;
}

function mutatedCase(source: string, base: Obj, rng: Rng): Case {
  const inj: Injected = { strings: new Set() };
  const steps: string[] = [];
  let text: string;
  if (rng.chance(0.1)) {
    text = source; // the file itself, comments included, for text mutations only
    steps.push('original text');
  } else {
    const spec = clone(base) as Obj;
    const count = rng.pick([1, 1, 1, 2, 2, 3, 4]);
    for (let i = 0; i < count; i++) {
      const step = pickMutation(rng)(spec, rng, inj);
      if (step) steps.push(step);
    }
    text = stringify(spec, { aliasDuplicateObjects: false, lineWidth: 0 });
  }
  if (steps[0] === 'original text' || rng.chance(0.2)) {
    const count = rng.between(1, 2);
    for (let i = 0; i < count; i++) {
      const [next, step] = textMutation(text, rng);
      text = next;
      steps.push(`text: ${step}`);
    }
  }
  return { text, steps, inj };
}

function indent(s: string): string {
  return s
    .split('\n')
    .map((l) => `    | ${l}`)
    .join('\n');
}

describe(`spec fuzz (seed ${SEED}, FLATNET_FUZZ_SEED to change; ${PER_EXAMPLE} iterations per example)`, () => {
  it('has examples to start from', () => {
    expect(examples.length).toBeGreaterThan(0);
  });

  it('has invariant checks that see what they are meant to see', () => {
    // the shell lexer: single-quoted words and backslash escapes are blanked, the rest is kept
    expect(unquotedPart("ip link add 'a;reboot' x").rest).not.toContain(';reboot');
    expect(unquotedPart('ip link add a;reboot x').rest).toContain(';reboot');
    expect(unquotedPart("x 'it'\\''s $(id)'").rest).not.toContain('$(');
    expect(unquotedPart("x 'a' $(id) 'b'").rest).toContain('$(');
    expect(unquotedPart("x 'unterminated").unterminated).toBe(true);
    // control characters: C0, DEL and C1 are refused, tab and newline allowed
    for (const c of ['\u0000', '\r', '\u001b', '\u007f', '\u0085']) expect(CONTROL_EXCEPT_TAB_NL.test(`a${c}b`), JSON.stringify(c)).toBe(true);
    for (const c of ['\t', '\n', 'é', '\u200f']) expect(CONTROL_EXCEPT_TAB_NL.test(`a${c}b`), JSON.stringify(c)).toBe(false);
    // the PRNG is deterministic
    const a = new Rng(42);
    const b = new Rng(42);
    expect(Array.from({ length: 5 }, () => a.next())).toEqual(Array.from({ length: 5 }, () => b.next()));
  });

  examples.forEach((file, index) => {
    it(`examples/${file} survives ${PER_EXAMPLE} mutations (seed ${SEED})`, () => {
      const source = readFileSync(join(examplesDir, file), 'utf8');
      const base = parse(source) as Obj;
      // the unmutated example must pass, or every finding below is noise
      expect(checkSpec(source, { strings: new Set() }), `examples/${file} itself fails the invariants`).toEqual([]);

      const seen = new Map<string, { count: number; first: string }>();
      for (let iteration = 0; iteration < PER_EXAMPLE; iteration++) {
        const rng = new Rng(mix(SEED, index, iteration));
        const c = mutatedCase(source, base, rng);
        const failures = checkSpec(c.text, c.inj);
        const distinct = new Map(failures.map((f) => [f.signature, f]));
        for (const f of distinct.values()) {
          const entry = seen.get(f.signature);
          if (entry) {
            entry.count++;
            continue;
          }
          if (seen.size >= MAX_REPORTED) {
            seen.set(f.signature, { count: 1, first: `(not spelled out: more than ${MAX_REPORTED} distinct failures) ${f.signature}` });
            continue;
          }
          const small = minimise(c.text, f.signature, c.inj);
          seen.set(f.signature, {
            count: 1,
            first: [
              `seed ${SEED}, examples/${file}, iteration ${iteration}`,
              `  mutations: ${c.steps.join('; ') || '(none)'}`,
              `  ${f.detail.split('\n').join('\n  ')}`,
              `  mutated spec (JSON string, exact): ${JSON.stringify(c.text)}`,
              `  mutated spec:`,
              indent(c.text),
              `  minimised spec (JSON string, exact): ${JSON.stringify(small)}`,
              `  minimised spec:`,
              indent(small),
            ].join('\n'),
          });
        }
      }
      if (seen.size > 0) {
        const report = [...seen.entries()]
          .map(([signature, { count, first }], i) => `--- failure ${i + 1}/${seen.size} (${count}x): ${signature}\n${first}`)
          .join('\n\n');
        expect.fail(
          `${seen.size} distinct invariant failure(s) fuzzing examples/${file} with seed ${SEED} ` +
            `(reproduce: FLATNET_FUZZ_SEED=${SEED} FLATNET_FUZZ_ITERATIONS=${TOTAL_ITERATIONS} npx vitest run test/fuzz.test.ts -t '${file}')\n\n${report}`,
        );
      }
    });
  });
});
