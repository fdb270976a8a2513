// How the host unit reaches a Docker host: the one seam between "what to read and change" (desired state,
// diff, order of work: the same for every host) and "how" (this machine through spawn/fs/unix socket, or a
// remote host over one SSH connection). A transport reads a whole snapshot in one go and carries out a run of
// ip/file operations in order, saying how many were done when one fails.
import type { Engine } from '../docker/engine.js';
import type { LiveHostLinks } from './links.js';

/** What a plan reads besides Docker: paths are relative to the install root (no leading slash). */
export interface SnapshotRequest {
  /** files: content, or undefined when absent */
  files: string[];
  /** symlinks: their target, or undefined when there is no symlink */
  symlinks: string[];
  /** the 802.1Q links the spec needs (`enp3s0.30`): when one is missing, the kernel's 802.1Q support is probed */
  vlanLinks?: string[];
}

/** Directory flatnet lists for its networkd files; what it holds of flatnet's lands in `files`. */
export const NETWORKD_DIR = 'etc/systemd/network';
/** systemd-networkd's state of each link, named by ifindex */
export const NETIF_DIR = 'run/systemd/netif/links';
/** flatnet's own networkd file names (plus `<x>.network.d/flatnet.conf` drop-ins) */
export const NETWORKD_FILE = /^1[01]-flatnet-.*\.(netdev|network)$/;

export interface HostSnapshot {
  links: LiveHostLinks;
  /** requested files and flatnet's networkd files found (relative path → content; undefined: absent) */
  files: Map<string, string | undefined>;
  symlinks: Map<string, string | undefined>;
  /** run/systemd/netif/links/<ifindex> → content */
  netif: Map<number, string>;
  /** /run/NetworkManager exists (under the install root) */
  networkManager: boolean;
  /** /run/systemd/system exists on the machine (systemd is PID 1): daemon-reload after unit changes */
  systemd: boolean;
  /** undefined: the changes can be made (root, or sudo -n works); else why not, one line */
  privilege?: string;
  /** the kernel's answer when a needed 802.1Q link is missing and the kernel cannot make one ("Unknown device type") */
  noVlan?: string;
}

/**
 * A shell function: `vlan_probe LINK...` prints nothing when every link exists or 802.1Q works, `no: <the
 * kernel's answer>` when it does not, `unknown: <why>` when it cannot tell. The probe makes a throwaway VLAN
 * link in a network namespace of its own (unshare -n), gone when the probe exits: the host's own network is
 * never touched. $P runs it privileged (`sudo -n ` or empty).
 */
export const VLAN_PROBE_FUNCTION = [
  'vlan_probe() {',
  '  need=',
  '  for l in "$@"; do ip link show dev "$l" >/dev/null 2>&1 || need=1; done',
  '  [ -n "$need" ] || return 0',
  '  [ -d /proc/net/vlan ] && return 0',
  '  command -v unshare >/dev/null 2>&1 || { echo "unknown: no unshare"; return 0; }',
  `  $P unshare -n sh -c 'ip link add fnprobe0 type veth peer name fnprobe1 2>/dev/null || ip link add fnprobe0 type dummy 2>/dev/null || { echo "unknown: neither veth nor dummy links"; exit 0; }; if o=$(ip link add link fnprobe0 name fnprobe0.2 type vlan id 2 2>&1); then echo ok; else echo "no: $o"; fi' 2>&1 || echo "unknown: unshare -n failed"`,
  '}',
].join('\n');

/** The probe's answer as HostSnapshot.noVlan: the kernel's words when it has no 802.1Q, else undefined. */
export function parseVlanProbe(output: string): string | undefined {
  const line = output.split('\n').find((l) => l.startsWith('no: '));
  return line === undefined ? undefined : line.slice(4).replace(/^Error:\s*/, '').trim() || 'ip link add … type vlan failed';
}

/** File paths are relative to the install root, resolved by the transport on the host itself. */
export type HostOp =
  | { kind: 'ip'; argv: readonly string[] }
  /** written atomically (a temporary file beside it, then rename), owned by root, with this mode */
  | { kind: 'write'; path: string; content: string; mode: number }
  | { kind: 'link'; path: string; target: string }
  | { kind: 'remove'; path: string }
  | { kind: 'daemon-reload' };

/** A run of operations stopped: the first `done` were carried out, the next one failed. */
export class HostOpsError extends Error {
  constructor(
    message: string,
    readonly done: number,
    /** the connection went away: what happened to the failing operation itself is unknown */
    readonly lost = false,
  ) {
    super(message);
    this.name = 'HostOpsError';
  }
}

export interface TransportStats {
  /** ip -j reads (4 per snapshot) */
  ipReads: number;
  /** SSH exec channels opened (remote only) */
  channels: number;
  /** SSH connections opened (remote only) */
  connections: number;
}

export interface HostTransport {
  /** where the host is, for the plan header (no credentials) */
  readonly endpoint: string;
  /** the install root on the host (`/` unless --install-root) */
  readonly root: string;
  /** the Docker Engine API of that host */
  engine(): Engine;
  /** opens what must be open (the SSH connection); errors are one line naming the host */
  open(): Promise<void>;
  snapshot(request: SnapshotRequest): Promise<HostSnapshot>;
  /** carries out ops in order; throws HostOpsError saying how many were done */
  run(ops: readonly HostOp[]): Promise<void>;
  stats(): TransportStats;
  /** the connection went away (remote only): what the last step did is unknown */
  connectionLost?(): boolean;
  close(): void;
}

/** `a/b` under root, POSIX style: the path on the host (never on this machine when the host is remote). */
export function under(root: string, rel: string): string {
  return `${root.replace(/\/+$/, '')}/${rel.replace(/^\/+/, '')}`;
}
