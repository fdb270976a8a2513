// Throwaway network namespaces for the host-shim test. Every command here runs *inside* a named namespace
// (`ip netns exec <ns> …`); nothing touches the root namespace's interfaces, and nothing sends traffic.
import { spawnSync } from 'node:child_process';

export interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
  /** spawn error (e.g. ENOENT when iproute2 is missing) */
  error?: string;
}

function spawn(argv: string[], input?: string): Result {
  const [cmd, ...args] = argv;
  const r = spawnSync(cmd!, args, { encoding: 'utf8', input, timeout: 10_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error?.message };
}

function describeFailure(argv: string[], r: Result): string {
  return `\`${argv.join(' ')}\` failed (exit ${r.status}${r.error ? `, ${r.error}` : ''}): ${r.stderr.trim()}`;
}

/** The namespaces this process created and has not deleted yet. */
const live = new Set<string>();
let counter = 0;

/** A namespace name unique to this process: fnt-<pid>-<n> (well under the 255-char limit). */
export function nextNamespaceName(tag?: string): string {
  return `fnt-${process.pid}-${tag ?? ++counter}`;
}

export function createNamespace(name: string): void {
  // A namespace left over by a crashed run whose PID has been reused: it is ours by construction.
  if (spawn(['ip', 'netns', 'list']).stdout.split('\n').some((l) => l.split(' ')[0] === name)) deleteNamespace(name);
  const argv = ['ip', 'netns', 'add', name];
  const r = spawn(argv);
  if (r.status !== 0) throw new Error(describeFailure(argv, r));
  live.add(name);
}

export function deleteNamespace(name: string): void {
  spawn(['ip', 'netns', 'del', name]);
  live.delete(name);
}

/** Deletes every namespace this process created; safe to call repeatedly (afterEach and afterAll). */
export function deleteAllNamespaces(): void {
  for (const name of [...live]) deleteNamespace(name);
}

/** Runs argv inside the namespace. */
export function nsRun(ns: string, argv: string[]): Result {
  return spawn(['ip', 'netns', 'exec', ns, ...argv]);
}

/** Runs argv inside the namespace and throws on a non-zero exit. */
export function nsMust(ns: string, argv: string[]): string {
  const full = ['ip', 'netns', 'exec', ns, ...argv];
  const r = spawn(full);
  if (r.status !== 0) throw new Error(describeFailure(full, r));
  return r.stdout;
}

/** Runs a shell script inside the namespace exactly as a user would: `sh -e -c <script>`. */
export function nsScript(ns: string, script: string): Result {
  return nsRun(ns, ['sh', '-e', '-c', script]);
}

/** `ip -j <args>` inside the namespace, parsed. */
export function ipJson<T = unknown>(ns: string, args: string[]): T {
  const out = nsMust(ns, ['ip', '-j', ...args]).trim();
  return (out === '' ? [] : JSON.parse(out)) as T;
}

// The JSON shapes of `ip -j` we read (only the fields used).
export interface IpLink {
  ifindex: number;
  ifname: string;
  /** the lower device's name when it is in the same namespace */
  link?: string;
  flags: string[];
  address?: string;
  linkinfo?: { info_kind?: string; info_data?: Record<string, unknown> };
}
export interface IpAddrInfo {
  family: 'inet' | 'inet6';
  local: string;
  prefixlen: number;
  scope: string;
}
export interface IpAddr {
  ifname: string;
  addr_info: IpAddrInfo[];
}
export interface IpRoute {
  dst: string;
  dev?: string;
  gateway?: string;
  protocol?: string;
  scope?: string;
  metric?: number;
  type?: string;
}

export interface KernelSupport {
  /** why namespaces cannot be used, or undefined when they can */
  unavailable?: string;
  dummy: boolean;
  veth: boolean;
  vlan: boolean;
  macvlan: boolean;
  ipvlan: boolean;
}

/**
 * Finds out, in a scratch namespace, whether namespaces can be created at all and which link types the
 * kernel has (a minimal VM kernel may lack dummy, 802.1Q or ipvlan). Synchronous, for describe.skipIf.
 */
export function probeKernel(): KernelSupport {
  const none = { dummy: false, veth: false, vlan: false, macvlan: false, ipvlan: false };
  if (process.platform !== 'linux') return { ...none, unavailable: `network namespaces need Linux (this is ${process.platform})` };
  const version = spawn(['ip', '-V']);
  if (version.error || version.status !== 0) return { ...none, unavailable: `iproute2 \`ip\` is not usable: ${version.error ?? version.stderr.trim()}` };
  const ns = nextNamespaceName('probe');
  try {
    createNamespace(ns);
  } catch (e) {
    const uid = process.getuid?.();
    return { ...none, unavailable: `\`ip netns add\` is not permitted${uid !== 0 ? ` (not root: uid ${uid})` : ''}: ${(e as Error).message}` };
  }
  try {
    const ok = (argv: string[]) => nsRun(ns, argv).status === 0;
    const dummy = ok(['ip', 'link', 'add', 'fntdummy', 'type', 'dummy']);
    const veth = ok(['ip', 'link', 'add', 'fntveth', 'type', 'veth', 'peer', 'name', 'fntpeer']);
    // A fresh lower device for each upper kind: one device cannot carry both macvlan and ipvlan children.
    let n = 0;
    const lower = (): string | undefined => {
      const name = `fntlow${n++}`;
      if (dummy && ok(['ip', 'link', 'add', name, 'type', 'dummy'])) return name;
      if (veth && ok(['ip', 'link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}p`])) return name;
      return undefined;
    };
    const on = (make: (l: string) => string[]) => {
      const l = lower();
      return l !== undefined && ok(make(l));
    };
    return {
      dummy,
      veth,
      vlan: on((l) => ['ip', 'link', 'add', 'link', l, 'name', 'fntvlan', 'type', 'vlan', 'id', '10']),
      macvlan: on((l) => ['ip', 'link', 'add', 'fntmacvlan', 'link', l, 'type', 'macvlan', 'mode', 'bridge']),
      ipvlan: on((l) => ['ip', 'link', 'add', 'fntipvlan', 'link', l, 'type', 'ipvlan', 'mode', 'l2']),
    };
  } finally {
    deleteNamespace(ns);
  }
}
