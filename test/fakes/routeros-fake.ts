// A fake MikroTik RouterOS 7 API server speaking the real binary API protocol
// (length-prefixed words, sentences ended by a zero-length word). Test-only.
//
// It listens on 127.0.0.1 only. Commands on one connection are processed strictly
// in the order received: each command is executed, its reply sentences are
// written `latencyMs` after the command arrived (network latency: pipelined
// commands are answered together), and only then is the next command of that
// connection executed. Knobs in `options` are read at processing time, so tests
// may change them between commands.
import net from 'node:net';
import tls from 'node:tls';
import { runScript } from './routeros-script.js';

export interface FakeRouterOptions {
  user?: string;
  password?: string;
  latencyMs?: number;
  fragment?: number;
  emptyReplies?: boolean;
  tagPosition?: 'first' | 'last' | 'random';
  dropAtChange?: number;
  fatalAtChange?: number;
  trapAtChange?: { k: number; message: string };
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** called after every change command the fake carried out (not trapped): tests check invariants there */
  afterChange?: (entry: { command: string; words: string[] }) => void;
  /** new connections are closed at once (the admin cut off): sessions already open keep working */
  refuseConnections?: boolean;
  /** how /system/clock prints its date: 'iso' (7.10+: 2025-06-01, the default) or 'old' (jun/01/2025) */
  dateFormat?: 'iso' | 'old';
}

/** What one run of a scheduler entry did (advanceClock). */
export interface SchedulerRun {
  name: string;
  onEvent: string;
  /** the script's changes, as API words */
  changes: string[][];
  /** set when the script stopped with an error */
  error?: string;
}

export interface FakeLogEntry {
  command: string;
  words: string[];
  tag?: string;
  conn: number;
}

// ---------------------------------------------------------------------------
// wire format
// Written independently of targets/routeros/api.ts on purpose: a fake that shared the client's encoder
// would agree with the client's bugs instead of catching them.

export function encodeLength(len: number): Buffer {
  if (len < 0x80) return Buffer.from([len]);
  if (len < 0x4000) {
    const v = len | 0x8000;
    return Buffer.from([(v >>> 8) & 0xff, v & 0xff]);
  }
  if (len < 0x200000) {
    const v = len | 0xc00000;
    return Buffer.from([(v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
  }
  if (len < 0x10000000) {
    const v = (len | 0xe0000000) >>> 0;
    return Buffer.from([(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
  }
  return Buffer.from([0xf0, (len >>> 24) & 0xff, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff]);
}

export function encodeSentence(words: string[]): Buffer {
  const parts: Buffer[] = [];
  for (const w of words) {
    const b = Buffer.from(w, 'utf8');
    parts.push(encodeLength(b.length), b);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** Incremental decoder: feed bytes, get complete sentences. */
export class SentenceDecoder {
  private buf: Buffer = Buffer.alloc(0);
  private words: string[] = [];

  push(chunk: Buffer): string[][] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: string[][] = [];
    for (;;) {
      const head = this.readLength();
      if (head === undefined) break;
      const [len, hdr] = head;
      if (this.buf.length < hdr + len) break;
      const word = this.buf.subarray(hdr, hdr + len).toString('utf8');
      this.buf = this.buf.subarray(hdr + len);
      if (len === 0) {
        out.push(this.words);
        this.words = [];
      } else {
        this.words.push(word);
      }
    }
    return out;
  }

  private readLength(): [number, number] | undefined {
    const b = this.buf;
    if (b.length < 1) return undefined;
    const c = b[0]!;
    if ((c & 0x80) === 0) return [c, 1];
    if ((c & 0xc0) === 0x80) {
      if (b.length < 2) return undefined;
      return [((c & 0x3f) << 8) | b[1]!, 2];
    }
    if ((c & 0xe0) === 0xc0) {
      if (b.length < 3) return undefined;
      return [((c & 0x1f) << 16) | (b[1]! << 8) | b[2]!, 3];
    }
    if ((c & 0xf0) === 0xe0) {
      if (b.length < 4) return undefined;
      return [((c & 0x0f) * 0x1000000) + ((b[1]! << 16) | (b[2]! << 8) | b[3]!), 4];
    }
    if (b.length < 5) return undefined;
    return [b.readUInt32BE(1), 5];
  }
}

// ---------------------------------------------------------------------------
// printed forms

const BOOL_KEYS = new Set([
  'disabled', 'advertise', 'vlan-filtering', 'dynamic', 'invalid', 'running', 'hw-offload', 'log',
  'eui-64', 'no-dad', 'auto-mac', 'add-arp', 'use-radius', 'authoritative', 'always-broadcast',
]);
const CONN_STATE_ORDER = ['established', 'related', 'new', 'invalid', 'untracked'];
const NAT_STATE_ORDER = ['srcnat', 'dstnat'];
const PROTOCOL_NAMES: Record<string, string> = { '1': 'icmp', '6': 'tcp', '17': 'udp', '58': 'icmpv6' };

/** RouterOS v7 prints durations as `1d2h3m4s` (input may be `01:00:00`, `1d00:00:00`, `90m`, seconds). */
function normDuration(v: string): string {
  const t = v.trim().toLowerCase();
  const units: Record<string, number> = { w: 604800, d: 86400, h: 3600, m: 60, s: 1 };
  let total: number;
  if (/^\d+$/.test(t)) total = Number(t);
  else {
    const m = /^((?:\d+[wdhms])*)(?:(\d+):(\d{1,2}):(\d{1,2}))?$/.exec(t);
    if (!m || t === '') return v;
    total = 0;
    for (const [, n, u] of m[1]!.matchAll(/(\d+)([wdhms])/g)) total += Number(n) * units[u!]!;
    if (m[2] !== undefined) total += Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
  }
  if (total === 0) return '0s';
  let out = '';
  for (const [u, size] of Object.entries(units)) {
    const n = Math.floor(total / size);
    if (n > 0) out += `${n}${u}`;
    total -= n * size;
  }
  return out;
}

/** A duration as the fake prints it (`1d2h3m4s`, `0s`) in ms. */
function durationMs(v: string): number {
  const units: Record<string, number> = { w: 604800, d: 86400, h: 3600, m: 60, s: 1 };
  let total = 0;
  for (const [, n, u] of normDuration(v).matchAll(/(\d+)([wdhms])/g)) total += Number(n) * units[u!]!;
  return total * 1000;
}

function normBool(v: string): string {
  const l = v.toLowerCase();
  if (l === 'yes' || l === 'true') return 'true';
  if (l === 'no' || l === 'false') return 'false';
  return v;
}

function splitNeg(v: string): [string, string] {
  return v.startsWith('!') ? ['!', v.slice(1)] : ['', v];
}

function normOrderedList(v: string, order: string[]): string {
  const [neg, rest] = splitNeg(v);
  const items = rest.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const rank = (s: string): number => {
    const i = order.indexOf(s);
    return i < 0 ? order.length : i;
  };
  const sorted = items.map((s, i) => ({ s, i })).sort((a, b) => rank(a.s) - rank(b.s) || a.i - b.i);
  return neg + sorted.map((x) => x.s).join(',');
}

function parseV4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255) return undefined;
    v = v * 256 + o;
  }
  return v;
}

function formatV4(v: number): string {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff].join('.');
}

function v4Network(addr: number, len: number): number {
  if (len <= 0) return 0;
  const mask = len >= 32 ? 0xffffffff : (0xffffffff << (32 - len)) >>> 0;
  return (addr & mask) >>> 0;
}

export function parseV6(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  let text = s;
  if (text.includes('.')) {
    const lastColon = text.lastIndexOf(':');
    const v4 = parseV4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    text = `${text.slice(0, lastColon + 1)}${((v4 >>> 16) & 0xffff).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parseGroups = (h: string): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const a = parseGroups(halves[0]!);
  const b = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (!a || !b) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const fill = 8 - a.length - b.length;
    if (fill < 1) return undefined;
    groups = [...a, ...new Array<number>(fill).fill(0), ...b];
  } else {
    groups = a;
  }
  if (groups.length !== 8) return undefined;
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(g);
  return v;
}

export function formatV6(v: bigint): string {
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

function v6Network(addr: bigint, len: number): bigint {
  if (len <= 0) return 0n;
  if (len >= 128) return addr;
  const mask = ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - len)) - 1n);
  return addr & mask;
}

/** `2001:DB8:0:0::10/64` → `2001:db8::10/64`; leaves what it can't parse alone. */
export function compressV6(value: string): string {
  const [addr, len] = value.split('/', 2) as [string, string | undefined];
  const v = parseV6(addr);
  if (v === undefined) return value;
  return formatV6(v) + (len !== undefined ? `/${len}` : '');
}

function normFirewallAddress(value: string, family: 4 | 6): string {
  const [neg, rest] = splitNeg(value);
  if (rest.includes('-') || rest.includes(',')) return value;
  const slash = rest.indexOf('/');
  const addrText = slash < 0 ? rest : rest.slice(0, slash);
  const lenText = slash < 0 ? undefined : rest.slice(slash + 1);
  if (family === 4) {
    const a = parseV4(addrText);
    if (a === undefined) return value;
    if (lenText === undefined) return neg + formatV4(a);
    const len = Number(lenText);
    if (!Number.isInteger(len) || len < 0 || len > 32) return value;
    if (len === 32) return neg + formatV4(a);
    return `${neg}${formatV4(v4Network(a, len))}/${len}`;
  }
  const a = parseV6(addrText);
  if (a === undefined) return value;
  if (lenText === undefined) return neg + formatV6(a);
  const len = Number(lenText);
  if (!Number.isInteger(len) || len < 0 || len > 128) return value;
  if (len === 128) return neg + formatV6(a);
  return `${neg}${formatV6(v6Network(a, len))}/${len}`;
}

// ---------------------------------------------------------------------------
// menus

type Op = 'print' | 'add' | 'set' | 'remove' | 'move' | 'enable' | 'disable' | 'unset';
const CHANGE_OPS = new Set(['add', 'set', 'remove', 'move', 'enable', 'disable', 'unset']);
const ALL_OPS: Op[] = ['print', 'add', 'set', 'remove', 'move', 'enable', 'disable', 'unset'];

interface MenuDef {
  ops: Set<string>;
  defaults: Array<[string, string]>;
  iface?: 'ether' | 'bridge' | 'vlan';
  placeBefore?: boolean;
  firewall?: 4 | 6;
}

const IFACE_MENUS = ['/interface/ethernet', '/interface/bridge', '/interface/vlan'];

function menu(ops: Op[], defaults: Array<[string, string]> = [], extra: Partial<MenuDef> = {}): MenuDef {
  return { ops: new Set(ops), defaults, ...extra };
}

const FIREWALL_DEFAULTS: Array<[string, string]> = [
  ['disabled', 'false'], ['dynamic', 'false'], ['invalid', 'false'], ['bytes', '0'], ['packets', '0'],
];

const MENUS: Record<string, MenuDef> = {
  '/interface': menu(['print', 'set', 'enable', 'disable', 'unset']),
  '/interface/ethernet': menu(['print', 'set', 'enable', 'disable', 'unset'], [['disabled', 'false'], ['running', 'true']], { iface: 'ether' }),
  '/interface/bridge': menu(ALL_OPS, [['vlan-filtering', 'false'], ['disabled', 'false']], { iface: 'bridge' }),
  '/interface/bridge/port': menu(ALL_OPS, [['pvid', '1'], ['disabled', 'false'], ['dynamic', 'false']]),
  '/interface/bridge/vlan': menu(ALL_OPS, [['disabled', 'false'], ['dynamic', 'false']]),
  '/interface/vlan': menu(ALL_OPS, [['disabled', 'false'], ['running', 'true']], { iface: 'vlan' }),
  '/interface/list': menu(ALL_OPS),
  '/interface/list/member': menu(ALL_OPS, [['disabled', 'false']]),
  '/ip/address': menu(ALL_OPS, [['disabled', 'false'], ['dynamic', 'false'], ['invalid', 'false']]),
  '/ipv6/address': menu(ALL_OPS, [['advertise', 'true'], ['disabled', 'false'], ['dynamic', 'false'], ['invalid', 'false']]),
  '/ip/firewall/filter': menu(ALL_OPS, FIREWALL_DEFAULTS, { placeBefore: true, firewall: 4 }),
  '/ipv6/firewall/filter': menu(ALL_OPS, FIREWALL_DEFAULTS, { placeBefore: true, firewall: 6 }),
  '/ip/dhcp-server': menu(ALL_OPS, [['disabled', 'false'], ['lease-time', '30m']]),
  '/ip/dhcp-server/network': menu(ALL_OPS, [['dns-server', ''], ['dynamic', 'false']]),
  '/ip/pool': menu(ALL_OPS),
  '/system/resource': menu(['print']),
  '/system/clock': menu(['print']),
  // documented defaults: policy is every policy the user has, interval 0s runs once at start-date/start-time
  '/system/script': menu(['print', 'add', 'set', 'remove'], [['owner', 'admin'], ['policy', 'ftp,reboot,read,write,policy,test,password,sniff,sensitive,romon'], ['dont-require-permissions', 'false'], ['run-count', '0'], ['invalid', 'false']]),
  '/system/scheduler': menu(['print', 'add', 'set', 'remove', 'enable', 'disable'], [['interval', '0s'], ['owner', 'admin'], ['policy', 'ftp,reboot,read,write,policy,test,password,sniff,sensitive,romon'], ['run-count', '0'], ['disabled', 'false']]),
};

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const two = (n: number) => String(n).padStart(2, '0');

/** `2025-06-01` or `jun/01/2025` plus `HH:MM:SS` → ms of that wall-clock time (as UTC); undefined if unreadable. */
function wallClock(date: string | undefined, time: string | undefined): number | undefined {
  if (date === undefined || time === undefined) return undefined;
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const old = /^([a-z]{3})\/(\d{2})\/(\d{4})$/.exec(date.toLowerCase());
  const t = /^(\d{1,2}):(\d{2}):(\d{2})$/.exec(time);
  if ((!iso && !old) || !t) return undefined;
  const [y, m, d] = iso ? [Number(iso[1]), Number(iso[2]) - 1, Number(iso[3])] : [Number(old![3]), MONTHS.indexOf(old![1]!), Number(old![2])];
  return Date.UTC(y, m, d, Number(t[1]), Number(t[2]), Number(t[3]));
}

const RESOURCE_ROW: Record<string, string> = {
  uptime: '1d2h3m4s',
  version: '7.16.2 (stable)',
  'build-time': '2024-11-26 12:20:21',
  'factory-software': '7.5',
  'free-memory': '824131584',
  'total-memory': '1073741824',
  cpu: 'ARM64',
  'cpu-count': '4',
  'cpu-frequency': '864',
  'cpu-load': '1',
  'free-hdd-space': '98304000',
  'total-hdd-space': '134217728',
  'architecture-name': 'arm64',
  'board-name': 'hAP ax^2',
  platform: 'MikroTik',
};

/** Properties that name an interface (renames propagate; removals leave `*ID`). */
const REF_KEYS = ['interface', 'actual-interface', 'in-interface', 'out-interface', 'bridge'];
const REF_LIST_KEYS = ['tagged', 'untagged'];

interface Row {
  id: string;
  menu: string;
  props: Map<string, string>;
}

interface Command {
  path: string;
  menu: string;
  op: string;
  attrs: Map<string, string>;
  queries: string[];
  tag?: string;
}

type Sentence = string[];

class Trap extends Error {
  constructor(message: string, readonly category?: number) {
    super(message);
  }
}

interface Reply {
  sentences: Array<{ words: Sentence; tagged: boolean }>;
  after?: 'close' | 'reset';
}

interface Conn {
  id: number;
  socket: net.Socket;
  decoder: SentenceDecoder;
  authed: boolean;
  notLoggedIn: number;
  closed: boolean;
  chain: Promise<void>;
}

function idNum(id: string): number {
  return id.startsWith('*') ? parseInt(id.slice(1), 16) : NaN;
}

function compareQueryValues(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (a !== '' && b !== '' && Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function tick(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

// ---------------------------------------------------------------------------

export class FakeRouterOS {
  options: FakeRouterOptions;
  log: FakeLogEntry[] = [];
  stats = { connections: 0, sentencesIn: 0, sentencesOut: 0, changes: 0, prints: 0 };

  private server: net.Server | undefined;
  private conns = new Set<Conn>();
  private nextId = 1;
  private tables = new Map<string, Row[]>();
  /** the router's wall clock (ms, read as UTC): moves only by advanceClock */
  clock = Date.UTC(2025, 5, 1, 12, 0, 0);

  constructor(options: FakeRouterOptions = {}) {
    this.options = options;
    for (const m of Object.keys(MENUS)) if (m !== '/interface' && m !== '/system/resource' && m !== '/system/clock') this.tables.set(m, []);
  }

  // ---- lifecycle ----------------------------------------------------------

  start(): Promise<number> {
    const onConn = (socket: net.Socket): void => this.accept(socket);
    const server = this.options.tls
      ? tls.createServer({ key: this.options.tls.key, cert: this.options.tls.cert }, onConn)
      : net.createServer(onConn);
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        const addr = server.address();
        if (addr === null || typeof addr === 'string') reject(new Error('no port'));
        else resolve(addr.port);
      });
    });
  }

  stop(): Promise<void> {
    for (const c of this.conns) {
      c.closed = true;
      c.socket.destroy();
    }
    this.conns.clear();
    const server = this.server;
    this.server = undefined;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  // ---- state access -------------------------------------------------------

  rows(menuPath: string): Array<Record<string, string>> {
    return this.allRows(menuPath).map((r) => this.render(r, menuPath === '/interface'));
  }

  addRow(menuPath: string, props: Record<string, string>): string {
    const def = MENUS[menuPath];
    if (!def || !this.tables.has(menuPath)) throw new Error(`fake: cannot add to ${menuPath}`);
    return this.doAdd(menuPath, def, new Map(Object.entries(props)), false);
  }

  /** Sets properties of a menu's rows in place (what `change` returns for each row, as rendered). */
  setRows(menuPath: string, change: (row: Record<string, string>) => Record<string, string>): void {
    for (const row of this.allRows(menuPath)) for (const [k, v] of Object.entries(change(this.render(row, false)))) row.props.set(k, v);
  }

  /** Makes flatnet's objects look hand-made (the import/adopt round trips): their `flatnet:` comments are taken off. */
  stripFlatnetComments(): void {
    for (const menu of this.tables.keys()) {
      for (const row of this.allRows(menu)) if ((row.props.get('comment') ?? '').startsWith('flatnet:')) row.props.delete('comment');
    }
  }

  seedDefaults(): void {
    for (let i = 1; i <= 5; i++) {
      this.addRow('/interface/ethernet', {
        name: `ether${i}`,
        'default-name': `ether${i}`,
        'mac-address': `48:A9:8A:00:00:0${i}`,
        mtu: '1500',
      });
    }
    this.addRow('/interface/bridge', { name: 'bridge', comment: 'defconf', 'vlan-filtering': 'no' });
    for (let i = 2; i <= 5; i++) this.addRow('/interface/bridge/port', { bridge: 'bridge', interface: `ether${i}`, comment: 'defconf' });
    this.addRow('/interface/list', { name: 'WAN', comment: 'defconf' });
    this.addRow('/interface/list', { name: 'LAN', comment: 'defconf' });
    this.addRow('/interface/list/member', { list: 'LAN', interface: 'bridge', comment: 'defconf' });
    this.addRow('/interface/list/member', { list: 'WAN', interface: 'ether1', comment: 'defconf' });
    this.addRow('/ip/address', { address: '192.168.88.1/24', interface: 'bridge', comment: 'defconf' });
    this.addRow('/ip/pool', { name: 'default-dhcp', ranges: '192.168.88.10-192.168.88.254' });
    this.addRow('/ip/dhcp-server', { name: 'defconf', interface: 'bridge', 'address-pool': 'default-dhcp', 'lease-time': '10m' });
    const f4 = '/ip/firewall/filter';
    const est = 'established,related,untracked';
    this.addRow(f4, { chain: 'input', action: 'accept', 'connection-state': est, comment: 'defconf: accept established,related,untracked' });
    this.addRow(f4, { chain: 'input', action: 'drop', 'connection-state': 'invalid', comment: 'defconf: drop invalid' });
    this.addRow(f4, { chain: 'input', action: 'accept', protocol: 'icmp', comment: 'defconf: accept ICMP' });
    this.addRow(f4, { chain: 'input', action: 'accept', 'dst-address': '127.0.0.1', comment: 'defconf: accept to local loopback (for CAPsMAN)' });
    this.addRow(f4, { chain: 'input', action: 'drop', 'in-interface-list': '!LAN', comment: 'defconf: drop all not coming from LAN' });
    this.addRow(f4, { chain: 'forward', action: 'accept', 'ipsec-policy': 'in,ipsec', comment: 'defconf: accept in ipsec policy' });
    this.addRow(f4, { chain: 'forward', action: 'accept', 'ipsec-policy': 'out,ipsec', comment: 'defconf: accept out ipsec policy' });
    this.addRow(f4, { chain: 'forward', action: 'fasttrack-connection', 'connection-state': 'established,related', 'hw-offload': 'yes', comment: 'defconf: fasttrack' });
    this.addRow(f4, { chain: 'forward', action: 'accept', 'connection-state': est, comment: 'defconf: accept established,related, untracked' });
    this.addRow(f4, { chain: 'forward', action: 'drop', 'connection-state': 'invalid', comment: 'defconf: drop invalid' });
    this.addRow(f4, {
      chain: 'forward', action: 'drop', 'connection-state': 'new', 'connection-nat-state': '!dstnat', 'in-interface-list': 'WAN',
      comment: 'defconf: drop all from WAN not DSTNATed',
    });
    const f6 = '/ipv6/firewall/filter';
    this.addRow(f6, { chain: 'input', action: 'accept', 'connection-state': est, comment: 'defconf: accept established,related,untracked' });
    this.addRow(f6, { chain: 'input', action: 'drop', 'connection-state': 'invalid', comment: 'defconf: drop invalid' });
    this.addRow(f6, { chain: 'input', action: 'accept', protocol: 'icmpv6', comment: 'defconf: accept ICMPv6' });
    this.addRow(f6, { chain: 'input', action: 'drop', 'in-interface-list': '!LAN', comment: 'defconf: drop everything else not coming from LAN' });
    this.addRow(f6, { chain: 'forward', action: 'accept', 'connection-state': est, comment: 'defconf: accept established,related,untracked' });
    this.addRow(f6, { chain: 'forward', action: 'drop', 'connection-state': 'invalid', comment: 'defconf: drop invalid' });
    this.addRow(f6, { chain: 'forward', action: 'accept', protocol: 'icmpv6', comment: 'defconf: accept ICMPv6' });
    this.addRow(f6, { chain: 'forward', action: 'drop', 'in-interface-list': '!LAN', comment: 'defconf: drop everything else not coming from LAN' });
  }

  // ---- the scheduler ------------------------------------------------------

  /**
   * When a scheduler entry runs next (ms on the fake's clock), as RouterOS documents it: at start-date and
   * start-time, then every interval; an interval of 0 runs once, and not at all once its time has passed.
   */
  private nextRun(row: Row, after = this.clock): number | undefined {
    if (row.props.get('disabled') === 'true') return undefined;
    const start = wallClock(row.props.get('start-date'), row.props.get('start-time'));
    if (start === undefined) return undefined;
    const interval = durationMs(row.props.get('interval') ?? '0s');
    if (start > after) return start;
    if (interval <= 0) return undefined;
    return start + Math.ceil((after - start + 1) / interval) * interval;
  }

  /**
   * Makes `seconds` pass on the router's clock and runs every scheduler entry that falls due, in time order,
   * each on-event through the script interpreter of routeros-script.ts over an in-process session (the
   * router's own: it works while API connections are refused). `/system/script/run <name>` runs that script.
   */
  async advanceClock(seconds: number): Promise<SchedulerRun[]> {
    const until = this.clock + seconds * 1000;
    const runs: SchedulerRun[] = [];
    for (;;) {
      const due = (this.tables.get('/system/scheduler') ?? [])
        .map((row) => ({ row, at: this.nextRun(row, this.clock - 1) }))
        .filter((x): x is { row: Row; at: number } => x.at !== undefined && x.at <= until)
        .sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.clock = Math.max(this.clock, due.at);
      const { row } = due;
      row.props.set('run-count', String(Number(row.props.get('run-count') ?? '0') + 1));
      const onEvent = row.props.get('on-event') ?? '';
      const run: SchedulerRun = { name: row.props.get('name') ?? '', onEvent, changes: [] };
      runs.push(run);
      const named = /^\/system\/script\/run\s+(\S+)$/.exec(onEvent.trim()) ?? (/^[A-Za-z0-9_-]+$/.test(onEvent.trim()) ? [onEvent, onEvent.trim()] : null);
      let source = onEvent;
      if (named) {
        const script = (this.tables.get('/system/script') ?? []).find((r) => r.props.get('name') === named[1]);
        if (!script) {
          run.error = `no such script ${named[1]}`;
          this.clock += 1000; // an entry that cannot run must not be found due again
          continue;
        }
        script.props.set('run-count', String(Number(script.props.get('run-count') ?? '0') + 1));
        source = script.props.get('source') ?? '';
      }
      try {
        run.changes = (await runScript(this.localClient(), source)).changes;
      } catch (err) {
        run.error = (err as Error).message;
      }
      // an entry with an interval keeps running; one that ran once is past its time now
      this.clock += 1;
    }
    this.clock = Math.max(this.clock, until);
    return runs;
  }

  /** An in-process session, as the router's own scripts have: commands run through the same menus. */
  localClient(): { command(words: string[]): Promise<{ rows: Array<Record<string, string>>; ret?: string; empty: boolean }> } {
    const conn = { id: 0, authed: true, notLoggedIn: 0, closed: false } as unknown as Conn;
    return {
      command: async (words: string[]) => {
        const reply = this.process(conn, words);
        const rows: Array<Record<string, string>> = [];
        let ret: string | undefined;
        let empty = false;
        const traps: string[] = [];
        for (const { words: w } of reply.sentences) {
          if (w[0] === '!re') rows.push(Object.fromEntries(w.slice(1).map((x) => [x.slice(1, x.indexOf('=', 1)), x.slice(x.indexOf('=', 1) + 1)])));
          else if (w[0] === '!empty') empty = true;
          else if (w[0] === '!trap') traps.push(w.find((x) => x.startsWith('=message='))?.slice(9) ?? 'trap');
          else if (w[0] === '!done') ret = w.find((x) => x.startsWith('=ret='))?.slice(5);
        }
        if (traps.length > 0) throw new Error(`${words[0]}: ${traps.join('; ')}`);
        const cmd = parseCommand(words);
        if (CHANGE_OPS.has(cmd.op)) this.options.afterChange?.({ command: cmd.path, words: words.slice(1) });
        return { rows, ...(ret !== undefined ? { ret } : {}), empty };
      },
    };
  }

  // ---- connections --------------------------------------------------------

  private accept(socket: net.Socket): void {
    if (this.options.refuseConnections) {
      socket.destroy();
      return;
    }
    this.stats.connections++;
    const conn: Conn = {
      id: this.stats.connections,
      socket,
      decoder: new SentenceDecoder(),
      authed: false,
      notLoggedIn: 0,
      closed: false,
      chain: Promise.resolve(),
    };
    this.conns.add(conn);
    socket.setNoDelay(true);
    socket.on('error', () => {
      conn.closed = true;
    });
    socket.on('close', () => {
      conn.closed = true;
      this.conns.delete(conn);
    });
    socket.on('data', (chunk: Buffer) => {
      let sentences: string[][];
      try {
        sentences = conn.decoder.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const s of sentences) {
        if (s.length === 0) continue;
        this.stats.sentencesIn++;
        const arrived = performance.now();
        conn.chain = conn.chain.then(() => this.run(conn, s, arrived)).catch(() => {
          conn.closed = true;
          socket.destroy();
        });
      }
    });
  }

  private async run(conn: Conn, words: Sentence, arrived: number): Promise<void> {
    if (conn.closed) return;
    const reply = this.process(conn, words);
    const hook = this.options.afterChange;
    if (hook && conn.authed && reply.after === undefined && !reply.sentences.some((x) => x.words[0] === '!trap')) {
      const cmd = parseCommand(words);
      if (CHANGE_OPS.has(cmd.op)) hook({ command: cmd.path, words: words.slice(1) });
    }
    const latency = this.options.latencyMs ?? 0;
    if (reply.after === 'reset') {
      conn.closed = true;
      const s = conn.socket;
      try {
        s.resetAndDestroy();
      } catch {
        s.destroy();
      }
      return;
    }
    // latency is the network's: each reply leaves `latencyMs` after its command arrived, so commands sent
    // together (pipelined) are answered together, while a client that waits for each reply pays it each time
    const wait = arrived + latency - performance.now();
    if (wait > 0) await sleep(wait);
    if (conn.closed) return;
    const tag = parseCommand(words).tag;
    const bufs: Buffer[] = [];
    for (const { words: sw, tagged } of reply.sentences) {
      bufs.push(encodeSentence(tagged && tag !== undefined ? this.placeTag(sw, tag) : sw));
    }
    this.stats.sentencesOut += reply.sentences.length;
    const data = Buffer.concat(bufs);
    const frag = this.options.fragment;
    if (frag !== undefined && frag > 0) {
      for (let off = 0; off < data.length; off += frag) {
        await tick();
        if (conn.closed) return;
        conn.socket.write(data.subarray(off, off + frag));
      }
    } else {
      conn.socket.write(data);
    }
    if (reply.after === 'close') {
      conn.closed = true;
      conn.socket.end();
    }
  }

  private placeTag(words: Sentence, tag: string): Sentence {
    const w = `.tag=${tag}`;
    const pos = this.options.tagPosition ?? 'last';
    const out = [...words];
    if (pos === 'first') out.splice(1, 0, w);
    else if (pos === 'last') out.push(w);
    else out.splice(1 + Math.floor(Math.random() * words.length), 0, w);
    return out;
  }

  // ---- command processing -------------------------------------------------

  private process(conn: Conn, words: Sentence): Reply {
    const cmd = parseCommand(words);
    const done = (...attrs: string[]): { words: Sentence; tagged: boolean } => ({ words: ['!done', ...attrs], tagged: true });
    const trap = (message: string, category?: number): { words: Sentence; tagged: boolean } => ({
      words: ['!trap', `=message=${message}`, ...(category !== undefined ? [`=category=${category}`] : [])],
      tagged: true,
    });
    const fatal = (message: string): Reply => ({ sentences: [{ words: ['!fatal', message], tagged: false }], after: 'close' });

    if (cmd.path === '/login') {
      const user = this.options.user ?? 'admin';
      const password = this.options.password ?? 'secret';
      if (cmd.attrs.get('name') === user && (cmd.attrs.get('password') ?? '') === password) {
        conn.authed = true;
        return { sentences: [done()] };
      }
      return { sentences: [trap('invalid user name or password (6)'), done()] };
    }
    if (!conn.authed) {
      conn.notLoggedIn++;
      const r: Reply = { sentences: [trap('not logged in'), done()] };
      if (conn.notLoggedIn >= 3) {
        r.sentences.push({ words: ['!fatal', 'not logged in'], tagged: false });
        r.after = 'close';
      }
      return r;
    }
    this.log.push({ command: cmd.path, words: words.slice(1), ...(cmd.tag !== undefined ? { tag: cmd.tag } : {}), conn: conn.id });

    if (cmd.path === '/quit') return fatal('session terminated on request');
    if (cmd.path === '/cancel') return { sentences: [done()] };

    // the fault knobs count changes of the configuration: the rollback's script and scheduler entry are not
    if (CHANGE_OPS.has(cmd.op) && !cmd.menu.startsWith('/system/')) {
      const k = ++this.stats.changes;
      if (this.options.dropAtChange === k) return { sentences: [], after: 'reset' };
      if (this.options.fatalAtChange === k) return fatal('session terminated on request');
      const t = this.options.trapAtChange;
      if (t && t.k === k) return { sentences: [trap(t.message, 1), done()] };
    }

    const op = cmd.op === 'getall' ? 'print' : cmd.op;
    const def = MENUS[cmd.menu];
    if (!def || !def.ops.has(op)) {
      return { sentences: [trap('no such command prefix', 0), trap('no such command', 0), done()] };
    }
    if (op === 'print') this.stats.prints++;
    try {
      switch (op) {
        case 'print': {
          const rows = this.print(cmd);
          const out = rows.map((r) => ({ words: ['!re', ...Object.entries(r).map(([k, v]) => `=${k}=${v}`)], tagged: true }));
          if (rows.length === 0 && (this.options.emptyReplies ?? true)) out.push({ words: ['!empty'], tagged: true });
          out.push(done());
          return { sentences: out };
        }
        case 'add': {
          const id = this.add(cmd, def);
          return { sentences: [done(`=ret=${id}`)] };
        }
        case 'set':
          this.set(cmd);
          break;
        case 'remove':
          this.remove(cmd);
          break;
        case 'enable':
        case 'disable':
          this.enableDisable(cmd, op === 'disable');
          break;
        case 'move':
          this.move(cmd);
          break;
        case 'unset':
          this.unset(cmd);
          break;
        default:
          return { sentences: [trap('no such command', 0), done()] };
      }
      return { sentences: [done()] };
    } catch (e) {
      if (e instanceof Trap) return { sentences: [trap(e.message, e.category), done()] };
      throw e;
    }
  }

  // ---- rows ---------------------------------------------------------------

  private allRows(menuPath: string): Row[] {
    if (menuPath === '/interface') {
      return IFACE_MENUS.flatMap((m) => this.tables.get(m) ?? []).sort((a, b) => idNum(a.id) - idNum(b.id));
    }
    if (menuPath === '/system/resource') {
      return [{ id: '', menu: menuPath, props: new Map(Object.entries(RESOURCE_ROW)) }];
    }
    if (menuPath === '/system/clock') {
      const at = new Date(this.clock);
      const date = this.options.dateFormat === 'old' ? `${MONTHS[at.getUTCMonth()]}/${two(at.getUTCDate())}/${at.getUTCFullYear()}` : `${at.getUTCFullYear()}-${two(at.getUTCMonth() + 1)}-${two(at.getUTCDate())}`;
      const time = `${two(at.getUTCHours())}:${two(at.getUTCMinutes())}:${two(at.getUTCSeconds())}`;
      return [{ id: '', menu: menuPath, props: new Map(Object.entries({ time, date, 'time-zone-autodetect': 'false', 'time-zone-name': 'manual', 'gmt-offset': '+00:00', 'dst-active': 'false' })) }];
    }
    return this.tables.get(menuPath) ?? [];
  }

  private table(menuPath: string): Row[] {
    const t = this.tables.get(menuPath);
    if (!t) throw new Trap('no such command');
    return t;
  }

  private interfaceByName(name: string): Row | undefined {
    for (const m of IFACE_MENUS) {
      const r = this.tables.get(m)?.find((x) => x.props.get('name') === name);
      if (r) return r;
    }
    return undefined;
  }

  private render(row: Row, union = false): Record<string, string> {
    const out: Record<string, string> = {};
    if (row.menu === '/system/resource' || row.menu === '/system/clock') {
      for (const [k, v] of row.props) out[k] = v;
      return out;
    }
    out['.id'] = row.id;
    const def = MENUS[row.menu];
    if (union && def?.iface) {
      // the /interface view shows a few common columns of every interface
      const p = row.props;
      out.name = p.get('name') ?? '';
      out.type = def.iface;
      const comment = p.get('comment');
      if (comment !== undefined) out.comment = comment;
      out.disabled = p.get('disabled') ?? 'false';
      out.running = p.get('disabled') === 'true' ? 'false' : (p.get('running') ?? 'true');
      return out;
    }
    for (const [k, v] of row.props) {
      if (REF_LIST_KEYS.includes(k) && row.menu === '/interface/bridge/vlan') out[k] = this.sortMembers(v);
      else out[k] = v;
    }
    if (row.menu === '/system/scheduler') {
      const next = this.nextRun(row);
      if (next !== undefined) {
        const at = new Date(next);
        out['next-run'] = `${at.getUTCFullYear()}-${two(at.getUTCMonth() + 1)}-${two(at.getUTCDate())} ${two(at.getUTCHours())}:${two(at.getUTCMinutes())}:${two(at.getUTCSeconds())}`;
      }
    }
    return out;
  }

  private sortMembers(v: string): string {
    if (v === '') return v;
    const items = v.split(',').map((s) => s.trim()).filter((s) => s !== '');
    const key = (s: string): number => {
      if (s.startsWith('*')) return idNum(s);
      const r = this.interfaceByName(s);
      return r ? idNum(r.id) : Number.MAX_SAFE_INTEGER;
    };
    return items
      .map((s, i) => ({ s, i, k: key(s) }))
      .sort((a, b) => a.k - b.k || a.i - b.i)
      .map((x) => x.s)
      .join(',');
  }

  private normalize(row: Row, key: string, value: string): string {
    const def = MENUS[row.menu];
    if (BOOL_KEYS.has(key)) return normBool(value);
    if (def?.firewall) {
      if (key === 'connection-state') return normOrderedList(value, CONN_STATE_ORDER);
      if (key === 'connection-nat-state') return normOrderedList(value, NAT_STATE_ORDER);
      if (key === 'protocol') {
        const [neg, rest] = splitNeg(value);
        return neg + (PROTOCOL_NAMES[rest] ?? rest);
      }
      if (key === 'src-address' || key === 'dst-address') return normFirewallAddress(value, def.firewall);
    }
    if (row.menu === '/ipv6/address' && key === 'address') return compressV6(value);
    if (key === 'lease-time' || (row.menu === '/system/scheduler' && key === 'interval')) return normDuration(value);
    return value;
  }

  /** Validate and apply props to a row (new or existing); `validate` false for seeding. */
  private applyProps(row: Row, props: Map<string, string>, validate: boolean): void {
    const def = MENUS[row.menu];
    if (validate) {
      if (def?.iface && props.has('name')) {
        const name = props.get('name')!;
        const other = this.interfaceByName(name);
        if (other && other !== row) throw new Trap('failure: already have interface with such name');
      }
      if (row.menu === '/ip/address' && props.has('address') && !props.get('address')!.includes('/')) {
        throw new Trap('invalid value for argument address');
      }
    }
    const oldName = row.props.get('name');
    for (const [k, v] of props) row.props.set(k, this.normalize(row, k, v));
    if (row.menu === '/ip/address') {
      const addr = row.props.get('address');
      if (addr !== undefined) {
        const [ip, lenText] = addr.split('/', 2) as [string, string | undefined];
        const a = parseV4(ip);
        const len = lenText === undefined ? 32 : Number(lenText);
        if (a !== undefined && Number.isInteger(len) && len >= 0 && len <= 32) {
          this.setAfter(row, 'network', formatV4(v4Network(a, len)), 'address');
        }
      }
      if (props.has('interface')) {
        const iface = row.props.get('interface')!;
        this.setAfter(row, 'actual-interface', iface, 'interface');
        row.props.set('invalid', 'false');
      }
    }
    if (def?.iface && props.has('disabled') && row.props.has('running')) {
      row.props.set('running', row.props.get('disabled') === 'true' ? 'false' : 'true');
    }
    const newName = row.props.get('name');
    if (def?.iface && oldName !== undefined && newName !== undefined && oldName !== newName) {
      this.renameReferences(oldName, newName);
    }
  }

  /** Set key=value; if the key is new, put it right after `after` (for nicer printing). */
  private setAfter(row: Row, key: string, value: string, after: string): void {
    if (row.props.has(key)) {
      row.props.set(key, value);
      return;
    }
    const entries = [...row.props.entries()];
    const i = entries.findIndex(([k]) => k === after);
    entries.splice(i < 0 ? entries.length : i + 1, 0, [key, value]);
    row.props = new Map(entries);
  }

  private forEachRow(fn: (row: Row) => void): void {
    for (const t of this.tables.values()) for (const r of t) fn(r);
  }

  private renameReferences(oldName: string, newName: string): void {
    this.forEachRow((r) => {
      for (const k of REF_KEYS) {
        const v = r.props.get(k);
        if (v === undefined) continue;
        const [neg, rest] = splitNeg(v);
        if (rest === oldName) r.props.set(k, neg + newName);
      }
      for (const k of REF_LIST_KEYS) {
        const v = r.props.get(k);
        if (v === undefined) continue;
        r.props.set(k, v.split(',').map((s) => (s.trim() === oldName ? newName : s)).join(','));
      }
    });
  }

  private removeReferences(removed: Row): void {
    const name = removed.props.get('name');
    if (name === undefined) return;
    this.forEachRow((r) => {
      let broken = false;
      for (const k of REF_KEYS) {
        const v = r.props.get(k);
        if (v === undefined) continue;
        const [neg, rest] = splitNeg(v);
        if (rest === name) {
          r.props.set(k, neg + removed.id);
          broken = true;
        }
      }
      for (const k of REF_LIST_KEYS) {
        const v = r.props.get(k);
        if (v === undefined) continue;
        r.props.set(k, v.split(',').map((s) => (s.trim() === name ? removed.id : s)).join(','));
      }
      if (broken) r.props.set('invalid', 'true');
    });
  }

  private newId(): string {
    return `*${(this.nextId++).toString(16).toUpperCase()}`;
  }

  private doAdd(menuPath: string, def: MenuDef, attrs: Map<string, string>, validate: boolean): string {
    const table = this.table(menuPath);
    const props = new Map(attrs);
    let index = table.length;
    const before = props.get('place-before');
    if (before !== undefined) {
      if (!def.placeBefore) throw new Trap('unknown parameter place-before');
      const i = table.findIndex((r) => r.id === before);
      if (i < 0) throw new Trap('no such item');
      index = i;
      props.delete('place-before');
    }
    const row: Row = { id: '', menu: menuPath, props: new Map() };
    this.applyProps(row, props, validate);
    for (const [k, v] of def.defaults) if (!row.props.has(k)) row.props.set(k, v);
    if (def.iface && row.props.get('disabled') === 'true' && row.props.has('running')) row.props.set('running', 'false');
    row.id = this.newId();
    table.splice(index, 0, row);
    return row.id;
  }

  private add(cmd: Command, def: MenuDef): string {
    if (!this.tables.has(cmd.menu)) throw new Trap('no such command');
    return this.doAdd(cmd.menu, def, cmd.attrs, true);
  }

  /** Resolve `.id` / `numbers` (comma list of ids or names) to rows; traps on unknown. */
  private items(cmd: Command, menuPath = cmd.menu): Row[] {
    const spec = cmd.attrs.get('.id') ?? cmd.attrs.get('numbers');
    if (spec === undefined || spec === '') throw new Trap('no such item');
    const rows = this.allRows(menuPath);
    const out: Row[] = [];
    for (const ref of spec.split(',').map((s) => s.trim())) {
      const r = rows.find((x) => x.id === ref) ?? (ref.startsWith('*') ? undefined : rows.find((x) => x.props.get('name') === ref));
      if (!r) throw new Trap('no such item');
      if (!out.includes(r)) out.push(r);
    }
    return out;
  }

  private print(cmd: Command): Array<Record<string, string>> {
    const proplist = cmd.attrs.get('.proplist');
    const keys = proplist !== undefined ? proplist.split(',').map((s) => s.trim()).filter((s) => s !== '') : undefined;
    const out: Array<Record<string, string>> = [];
    for (const row of this.allRows(cmd.menu)) {
      const full = this.render(row, cmd.menu === '/interface');
      if (!evalQueries(cmd.queries, full)) continue;
      if (keys) {
        const r: Record<string, string> = {};
        for (const [k, v] of Object.entries(full)) if (keys.includes(k)) r[k] = v;
        out.push(r);
      } else {
        out.push(full);
      }
    }
    return out;
  }

  private set(cmd: Command): void {
    if (cmd.attrs.has('place-before')) throw new Trap('unknown parameter place-before');
    const rows = this.items(cmd);
    const props = new Map(cmd.attrs);
    props.delete('.id');
    props.delete('numbers');
    for (const r of rows) this.applyProps(r, props, true);
  }

  private remove(cmd: Command): void {
    const rows = this.items(cmd);
    for (const r of rows) {
      const t = this.table(r.menu);
      const i = t.indexOf(r);
      if (i >= 0) t.splice(i, 1);
      if (MENUS[r.menu]?.iface) this.removeReferences(r);
    }
  }

  private enableDisable(cmd: Command, disabled: boolean): void {
    for (const r of this.items(cmd)) this.applyProps(r, new Map([['disabled', disabled ? 'true' : 'false']]), false);
  }

  private unset(cmd: Command): void {
    const rows = this.items(cmd);
    const names = (cmd.attrs.get('value-name') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (names.length === 0) throw new Trap('missing value for value-name');
    for (const r of rows) for (const n of names) r.props.delete(n);
  }

  private move(cmd: Command): void {
    const table = this.table(cmd.menu);
    const rows = this.items(cmd);
    const dest = cmd.attrs.get('destination');
    let destRow: Row | undefined;
    if (dest !== undefined && dest !== '') {
      destRow = table.find((r) => r.id === dest);
      if (!destRow) throw new Trap('no such item');
    }
    const rest = table.filter((r) => !rows.includes(r));
    let at = rest.length;
    if (destRow) {
      const i = rest.indexOf(destRow);
      if (i >= 0) at = i;
      else {
        // destination is itself being moved: insert where the first row after it that stays is
        const after = table.slice(table.indexOf(destRow)).find((r) => !rows.includes(r));
        at = after ? rest.indexOf(after) : rest.length;
      }
    }
    rest.splice(at, 0, ...rows);
    table.splice(0, table.length, ...rest);
  }
}

// ---------------------------------------------------------------------------
// command parsing and queries

function parseCommand(words: Sentence): Command {
  const path = words[0] ?? '';
  const slash = path.lastIndexOf('/');
  const attrs = new Map<string, string>();
  const queries: string[] = [];
  let tag: string | undefined;
  for (const w of words.slice(1)) {
    if (w.startsWith('=')) {
      const i = w.indexOf('=', 1);
      if (i < 0) attrs.set(w.slice(1), '');
      else attrs.set(w.slice(1, i), w.slice(i + 1));
    } else if (w.startsWith('.tag=')) {
      tag = w.slice(5);
    } else if (w.startsWith('.proplist=')) {
      attrs.set('.proplist', w.slice(10));
    } else if (w.startsWith('?')) {
      queries.push(w.slice(1));
    }
  }
  const cmd: Command = { path, menu: slash > 0 ? path.slice(0, slash) : '', op: path.slice(slash + 1), attrs, queries };
  if (tag !== undefined) cmd.tag = tag;
  return cmd;
}

/** MikroTik query stack semantics; the values left on the stack are ANDed. */
export function evalQueries(queries: string[], row: Record<string, string>): boolean {
  const stack: boolean[] = [];
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(row, k);
  for (const q0 of queries) {
    if (q0.startsWith('#')) {
      applyStackOps(stack, q0.slice(1));
      continue;
    }
    const q = q0.startsWith('=') ? q0.slice(1) : q0;
    if (q.startsWith('-')) {
      stack.push(!has(q.slice(1)));
    } else if (q.startsWith('<') || q.startsWith('>')) {
      const body = q.slice(1);
      const i = body.indexOf('=');
      const k = i < 0 ? body : body.slice(0, i);
      const v = i < 0 ? '' : body.slice(i + 1);
      if (!has(k)) stack.push(false);
      else {
        const c = compareQueryValues(row[k]!, v);
        stack.push(q.startsWith('<') ? c < 0 : c > 0);
      }
    } else {
      const i = q.indexOf('=');
      if (i < 0) stack.push(has(q));
      else {
        const k = q.slice(0, i);
        stack.push(has(k) ? row[k] === q.slice(i + 1) : q.slice(i + 1) === '');
      }
    }
  }
  return stack.every((b) => b);
}

function applyStackOps(stack: boolean[], ops: string): void {
  let digits = '';
  const at = (n: number): boolean => stack[stack.length - 1 - n] ?? false;
  const pop = (): boolean => stack.pop() ?? false;
  for (const ch of ops) {
    if (ch >= '0' && ch <= '9') {
      digits += ch;
      continue;
    }
    if (digits !== '') {
      stack.push(at(Number(digits)));
      digits = '';
      if (ch === '.') continue;
    }
    if (ch === '!') stack.push(!pop());
    else if (ch === '&') {
      const b = pop();
      const a = pop();
      stack.push(a && b);
    } else if (ch === '|') {
      const b = pop();
      const a = pop();
      stack.push(a || b);
    } else if (ch === '.') stack.push(at(0));
  }
  if (digits !== '') {
    const v = at(Number(digits));
    stack.splice(0, stack.length, v);
  }
}
