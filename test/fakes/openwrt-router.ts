// A throwaway "OpenWrt router" on this machine, for tests: OpenSSH's real sshd listening on 127.0.0.1 (a free
// high port, its own host key, config, pid file and log in a scratch directory) whose sessions run OpenWrt's
// REAL `uci` (built once per process from ../shared/openwrt-uci) on a scratch root directory R, so nothing
// under the machine's /etc is touched.
//
// Under R the harness provides:
//   R/sbin/uci                 sh wrapper: the built uci with `-c R/etc/config -t R/tmp/.uci -C R/var/run/uci`
//                              (run under the name `uci`, so its messages read `uci: ...` as on a router)
//   R/etc/config/{network,firewall,dhcp}   OpenWrt 23.05-like defaults (DSA by default; `dsa: false` = eth0/eth1)
//   R/etc/init.d/{network,firewall,dnsmasq} stubs logging `<timestamp> <service> <args>` to R/tmp/service.log
//   R/etc/openwrt_release      DISTRIB_RELEASE='23.05.5' ...
//   R/usr/sbin, R/usr/bin, R/bin (empty), R/tmp, R/tmp/.uci, R/var/run/uci
// Remote commands put R's directories first on PATH (see `pathPrefix()`), as the code under test does.
//
// Cut-off: with `onNetworkReload: 'cut-off'` the network stub, after logging, SIGKILLs the sshd listener
// (pid from sshd's own PidFile). SIGKILL so that no version of sshd gets a chance to take its children down:
// sessions already open keep running, background jobs they started survive, and new connections are refused.
// `restartSshd()` brings the listener back on the same port with the same host key.
//
// Only 127.0.0.1 is ever listened on or connected to. Every process started here is stopped by its pid.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  accessSync,
  chmodSync,
  closeSync,
  constants as fsConstants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NodeSSH } from 'node-ssh';
import { sharedDir } from './shared-dir.js';

export type OpenWrtConfigName = 'network' | 'firewall' | 'dhcp';
export type NetworkReloadMode = 'ok' | 'cut-off';

export interface OpenWrtRouterOptions {
  /** true (default): DSA layout, a `config device` bridge br-lan over lan1..lan4 and wan on 'wan'.
   *  false: a swconfig-like layout without any bridge device section: lan on 'eth0', wan/wan6 on 'eth1'. */
  dsa?: boolean;
  /** uci text appended to the default file of that name */
  extraConfig?: Partial<Record<OpenWrtConfigName, string>>;
  /** what `R/etc/init.d/network {reload,restart,start,stop}` does after logging (default 'ok') */
  onNetworkReload?: NetworkReloadMode;
}

export interface SshResult {
  /** exit code; null when the command was cut off (no exit status) */
  code: number | null;
  stdout: string;
  stderr: string;
}

export const SSHD_PATH = '/usr/sbin/sshd';
/** set in every session (sshd SetEnv) to the router's scratch dir: stop() finds what sessions left running */
export const SESSION_ENV = 'OPENWRT_TEST_ROUTER';
const SSH_KEYGEN_CANDIDATES = ['/usr/bin/ssh-keygen', '/bin/ssh-keygen', '/usr/local/bin/ssh-keygen'];
const GCC_CANDIDATES = ['/usr/bin/gcc', '/usr/local/bin/gcc', '/bin/gcc'];

// ---------------------------------------------------------------------------
// support check + the uci binary (built once per process)

function findRepoRoot(): string {
  // this file runs from test/fakes/ (vitest) or dist/test/fakes/ (compiled): walk up to our package.json
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        const name = (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name;
        if (name === 'flatnet-router') return dir;
      } catch {
        // not ours: keep walking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return join(dirname(fileURLToPath(import.meta.url)), '..', '..');
    dir = parent;
  }
}

export const repoRoot = findRepoRoot();
export const uciBuildScript = join(sharedDir, 'openwrt-uci', 'build.sh');

function executable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function firstExecutable(candidates: string[]): string | undefined {
  return candidates.find(executable);
}

let supportCache: { ok: true } | { ok: false; reason: string } | undefined;
let uciBinDir: string | undefined; // holds one file, `uci`
let sshKeygenPath: string | undefined;

/** Checks what the harness needs and builds OpenWrt's uci once per process. Never throws. */
export function openwrtTestSupport(): { ok: true } | { ok: false; reason: string } {
  if (supportCache) return supportCache;
  supportCache = checkSupport();
  return supportCache;
}

function checkSupport(): { ok: true } | { ok: false; reason: string } {
  if (process.platform !== 'linux') return { ok: false, reason: `needs Linux (this is ${process.platform})` };
  if (!executable(SSHD_PATH)) return { ok: false, reason: `${SSHD_PATH} missing (apt-get install openssh-server)` };
  sshKeygenPath = firstExecutable(SSH_KEYGEN_CANDIDATES);
  if (!sshKeygenPath) return { ok: false, reason: 'ssh-keygen missing (apt-get install openssh-client)' };
  if (!firstExecutable(GCC_CANDIDATES)) return { ok: false, reason: 'gcc missing (needed to build OpenWrt uci)' };
  if (!existsSync(uciBuildScript)) return { ok: false, reason: `${uciBuildScript} missing (no ../shared/openwrt-uci)` };
  // sshd insists on its privilege separation directory
  try {
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  } catch (e) {
    return { ok: false, reason: `cannot create /run/sshd for sshd: ${(e as Error).message}` };
  }
  try {
    uciBinDir = buildUci();
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    const detail = err.stderr?.toString().trim().split('\n').slice(-3).join(' | ') || err.message;
    return { ok: false, reason: `building OpenWrt uci failed: ${detail}` };
  }
  return { ok: true };
}

/** Builds uci once into a directory keyed by a hash of the build script and sources (so a rebuild happens
 *  only when they change, and runs leave one directory behind, not one each); returns the directory, which
 *  holds one file, `uci`. Concurrent builders race harmlessly: the first rename wins, the others discard. */
function buildUci(): string {
  const srcDir = join(dirname(uciBuildScript), 'src');
  const hash = createHash('sha256').update(readFileSync(uciBuildScript));
  for (const f of readdirSync(srcDir).sort()) hash.update(f).update(readFileSync(join(srcDir, f)));
  const finalDir = join(tmpdir(), `flatnet-openwrt-uci-${hash.digest('hex').slice(0, 16)}`);
  const works = (dir: string): boolean => {
    if (!executable(join(dir, 'uci'))) return false;
    const r = spawnSync(join(dir, 'uci'), [], { encoding: 'utf8', timeout: 5000 });
    return r.error === undefined && /Usage:[\s\S]*\bbatch\b/.test(`${r.stdout}${r.stderr}`);
  };
  if (works(finalDir)) return finalDir;
  const work = mkdtempSync(join(tmpdir(), 'flatnet-openwrt-uci-build-'));
  try {
    execFileSync('bash', [uciBuildScript, join(work, 'uci')], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    if (!works(work)) throw new Error('the built uci does not run');
    try {
      renameSync(work, finalDir);
    } catch {
      if (!works(finalDir)) {
        rmSync(finalDir, { recursive: true, force: true });
        renameSync(work, finalDir);
      }
    }
    return finalDir;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------
// default configs (OpenWrt 23.05)

const NETWORK_COMMON = `
config interface 'loopback'
	option device 'lo'
	option proto 'static'
	option ipaddr '127.0.0.1'
	option netmask '255.0.0.0'

config globals 'globals'
	option ula_prefix 'fd4e:8c21:5b3a::/48'
`;

const NETWORK_DSA = `${NETWORK_COMMON}
config device
	option name 'br-lan'
	option type 'bridge'
	list ports 'lan1'
	list ports 'lan2'
	list ports 'lan3'
	list ports 'lan4'

config interface 'lan'
	option device 'br-lan'
	option proto 'static'
	option ipaddr '192.168.1.1'
	option netmask '255.255.255.0'
	option ip6assign '60'

config interface 'wan'
	option device 'wan'
	option proto 'dhcp'

config interface 'wan6'
	option device 'wan'
	option proto 'dhcpv6'
`;

const NETWORK_SWCONFIG = `${NETWORK_COMMON}
config interface 'lan'
	option device 'eth0'
	option proto 'static'
	option ipaddr '192.168.1.1'
	option netmask '255.255.255.0'
	option ip6assign '60'

config interface 'wan'
	option device 'eth1'
	option proto 'dhcp'

config interface 'wan6'
	option device 'eth1'
	option proto 'dhcpv6'
`;

const FIREWALL = `
config defaults
	option syn_flood '1'
	option input 'REJECT'
	option output 'ACCEPT'
	option forward 'REJECT'

config zone
	option name 'lan'
	list network 'lan'
	option input 'ACCEPT'
	option output 'ACCEPT'
	option forward 'ACCEPT'

config zone
	option name 'wan'
	list network 'wan'
	list network 'wan6'
	option input 'REJECT'
	option output 'ACCEPT'
	option forward 'REJECT'
	option masq '1'
	option mtu_fix '1'

config forwarding
	option src 'lan'
	option dest 'wan'

config rule
	option name 'Allow-DHCP-Renew'
	option src 'wan'
	option proto 'udp'
	option dest_port '68'
	option target 'ACCEPT'
	option family 'ipv4'

config rule
	option name 'Allow-Ping'
	option src 'wan'
	option proto 'icmp'
	option icmp_type 'echo-request'
	option family 'ipv4'
	option target 'ACCEPT'

config rule
	option name 'Allow-IGMP'
	option src 'wan'
	option proto 'igmp'
	option family 'ipv4'
	option target 'ACCEPT'

config rule
	option name 'Allow-DHCPv6'
	option src 'wan'
	option proto 'udp'
	option dest_port '546'
	option family 'ipv6'
	option target 'ACCEPT'

config rule
	option name 'Allow-MLD'
	option src 'wan'
	option proto 'icmp'
	option src_ip 'fe80::/10'
	list icmp_type '130/0'
	list icmp_type '131/0'
	list icmp_type '132/0'
	list icmp_type '143/0'
	option family 'ipv6'
	option target 'ACCEPT'

config rule
	option name 'Allow-ICMPv6-Input'
	option src 'wan'
	option proto 'icmp'
	list icmp_type 'echo-request'
	list icmp_type 'echo-reply'
	list icmp_type 'destination-unreachable'
	list icmp_type 'packet-too-big'
	list icmp_type 'time-exceeded'
	list icmp_type 'bad-header'
	list icmp_type 'unknown-header-type'
	list icmp_type 'router-solicitation'
	list icmp_type 'neighbour-solicitation'
	list icmp_type 'router-advertisement'
	list icmp_type 'neighbour-advertisement'
	option limit '1000/sec'
	option family 'ipv6'
	option target 'ACCEPT'

config rule
	option name 'Allow-ICMPv6-Forward'
	option src 'wan'
	option dest '*'
	option proto 'icmp'
	list icmp_type 'echo-request'
	list icmp_type 'echo-reply'
	list icmp_type 'destination-unreachable'
	list icmp_type 'packet-too-big'
	list icmp_type 'time-exceeded'
	list icmp_type 'bad-header'
	list icmp_type 'unknown-header-type'
	option limit '1000/sec'
	option family 'ipv6'
	option target 'ACCEPT'

config rule
	option name 'Allow-IPSec-ESP'
	option src 'wan'
	option dest 'lan'
	option proto 'esp'
	option target 'ACCEPT'

config rule
	option name 'Allow-ISAKMP'
	option src 'wan'
	option dest 'lan'
	option dest_port '500'
	option proto 'udp'
	option target 'ACCEPT'
`;

const DHCP = `
config dnsmasq
	option domainneeded '1'
	option boguspriv '1'
	option filterwin2k '0'
	option localise_queries '1'
	option rebind_protection '1'
	option rebind_localhost '1'
	option local '/lan/'
	option domain 'lan'
	option expandhosts '1'
	option nonegcache '0'
	option cachesize '1000'
	option authoritative '1'
	option readethers '1'
	option leasefile '/tmp/dhcp.leases'
	option resolvfile '/tmp/resolv.conf.d/resolv.conf.auto'
	option nonwildcard '1'
	option localservice '1'
	option ednspacket_max '1232'
	option filter_aaaa '0'
	option filter_a '0'

config dhcp 'lan'
	option interface 'lan'
	option start '100'
	option limit '150'
	option leasetime '12h'
	option dhcpv4 'server'
	option dhcpv6 'server'
	option ra 'server'
	option ra_slaac '1'
	list ra_flags 'managed-config'
	list ra_flags 'other-config'

config dhcp 'wan'
	option interface 'wan'
	option ignore '1'

config odhcpd 'odhcpd'
	option maindhcp '0'
	option leasefile '/tmp/hosts/odhcpd'
	option leasetrigger '/usr/sbin/odhcpd-update'
	option loglevel '4'
`;

const OPENWRT_RELEASE = `DISTRIB_ID='OpenWrt'
DISTRIB_RELEASE='23.05.5'
DISTRIB_REVISION='r24106-10cc5fcd00'
DISTRIB_TARGET='mediatek/filogic'
DISTRIB_ARCH='aarch64_cortex-a53'
DISTRIB_DESCRIPTION='OpenWrt 23.05.5 r24106-10cc5fcd00'
DISTRIB_TAINTS=''
`;

/** The default text of a config file as the harness writes it (before extraConfig). */
export function defaultOpenWrtConfig(name: OpenWrtConfigName, options: { dsa?: boolean } = {}): string {
  if (name === 'network') return options.dsa === false ? NETWORK_SWCONFIG : NETWORK_DSA;
  return name === 'firewall' ? FIREWALL : DHCP;
}

// ---------------------------------------------------------------------------
// helpers

/** single-quote for sh */
function sq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function writeExecutable(path: string, text: string): void {
  writeFileSync(path, text);
  chmodSync(path, 0o755);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no port'))));
    });
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** true while the process runs (a zombie, dead but not yet reaped by its parent, counts as gone) */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // a zombie still answers kill(0): treat it as gone
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** `SHA256:<base64 without padding>` of an OpenSSH public key line, as `ssh-keygen -lf` prints it */
export function sshFingerprint(publicKeyLine: string): string {
  const blob = publicKeyLine.trim().split(/\s+/)[1];
  if (!blob) throw new Error(`not an OpenSSH public key line: ${publicKeyLine}`);
  const digest = createHash('sha256').update(Buffer.from(blob, 'base64')).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}

// ---------------------------------------------------------------------------
// the router

export class OpenWrtTestRouter {
  /** the scratch directory holding everything (R, sshd's files, the client key) */
  readonly scratch: string;
  /** R: the remote root prefix */
  readonly root: string;
  readonly port: number;
  readonly user: string;
  readonly clientKeyFile: string;
  readonly hostKeyFile: string;
  readonly hostKeyFingerprint: string;
  readonly knownHostsLine: string;
  /** file with the known_hosts line, for `ssh -o UserKnownHostsFile=` */
  readonly knownHostsFile: string;
  /** sshd's own log (it runs with -e): useful when a test fails */
  readonly sshdLogFile: string;

  private readonly sshdConfigFile: string;
  private readonly sshdPidFile: string;
  private readonly modeFile: string;
  /** the real uci this router runs (tests that need its stderr call it themselves) */
  readonly uciBinary: string;
  private sshd: ChildProcess | undefined;
  private sshdExited: Promise<void> = Promise.resolve();
  private stopped = false;

  private constructor(init: {
    scratch: string;
    root: string;
    port: number;
    user: string;
    clientKeyFile: string;
    hostKeyFile: string;
    hostKeyFingerprint: string;
    knownHostsLine: string;
    knownHostsFile: string;
    sshdLogFile: string;
    sshdConfigFile: string;
    sshdPidFile: string;
    modeFile: string;
    uciBinary: string;
  }) {
    this.scratch = init.scratch;
    this.root = init.root;
    this.port = init.port;
    this.user = init.user;
    this.clientKeyFile = init.clientKeyFile;
    this.hostKeyFile = init.hostKeyFile;
    this.hostKeyFingerprint = init.hostKeyFingerprint;
    this.knownHostsLine = init.knownHostsLine;
    this.knownHostsFile = init.knownHostsFile;
    this.sshdLogFile = init.sshdLogFile;
    this.sshdConfigFile = init.sshdConfigFile;
    this.sshdPidFile = init.sshdPidFile;
    this.modeFile = init.modeFile;
    this.uciBinary = init.uciBinary;
  }

  static async start(options: OpenWrtRouterOptions = {}): Promise<OpenWrtTestRouter> {
    const support = openwrtTestSupport();
    if (!support.ok) throw new Error(`OpenWrt test router unsupported here: ${support.reason}`);
    if (!uciBinDir || !sshKeygenPath) throw new Error('internal: support check did not set paths');
    const keygen = sshKeygenPath;

    const scratch = mkdtempSync(join(tmpdir(), 'openwrt-router-'));
    try {
      const root = join(scratch, 'root');
      const sshdDir = join(scratch, 'sshd');
      const clientDir = join(scratch, 'client');
      for (const d of [
        'etc/config',
        'etc/init.d',
        'sbin',
        'bin',
        'usr/sbin',
        'usr/bin',
        'tmp/.uci',
        'var/run/uci',
      ]) {
        mkdirSync(join(root, d), { recursive: true });
      }
      mkdirSync(sshdDir, { recursive: true, mode: 0o700 });
      mkdirSync(clientDir, { recursive: true, mode: 0o700 });

      // configs
      for (const name of ['network', 'firewall', 'dhcp'] as const) {
        const extra = options.extraConfig?.[name];
        const text = defaultOpenWrtConfig(name, { dsa: options.dsa }) + (extra ? `\n${extra.replace(/\n?$/, '\n')}` : '');
        writeFileSync(join(root, 'etc/config', name), text);
      }
      writeFileSync(join(root, 'etc/openwrt_release'), OPENWRT_RELEASE);

      // uci wrapper: run under the name `uci` (PATH lookup) so messages read `uci: ...` as on a router
      const uciBinary = join(uciBinDir, 'uci');
      writeExecutable(
        join(root, 'sbin/uci'),
        `#!/bin/sh\nPATH=${sq(uciBinDir)} exec uci -c ${sq(join(root, 'etc/config'))} -t ${sq(join(root, 'tmp/.uci'))} -C ${sq(join(root, 'var/run/uci'))} "$@"\n`,
      );

      // service stubs
      const serviceLog = join(root, 'tmp/service.log');
      const modeFile = join(sshdDir, 'network-reload-mode');
      const sshdPidFile = join(sshdDir, 'sshd.pid');
      writeFileSync(modeFile, `${options.onNetworkReload ?? 'ok'}\n`);
      const logLine = (service: string) =>
        `printf '%s %s\\n' "$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)" ${sq(service)}"\${*:+ $*}" >> ${sq(serviceLog)}\n`;
      for (const service of ['firewall', 'dnsmasq']) {
        writeExecutable(join(root, 'etc/init.d', service), `#!/bin/sh\n${logLine(service)}exit 0\n`);
      }
      writeExecutable(
        join(root, 'etc/init.d/network'),
        '#!/bin/sh\n' +
          logLine('network') +
          `case "$1" in reload|restart|start|stop)\n` +
          `  if [ "$(cat ${sq(modeFile)} 2>/dev/null)" = cut-off ] && [ -s ${sq(sshdPidFile)} ]; then\n` +
          `    # the router becomes unreachable for NEW connections; sessions and their background jobs live on\n` +
          `    kill -KILL "$(cat ${sq(sshdPidFile)})" 2>/dev/null\n` +
          `  fi ;;\nesac\nexit 0\n`,
      );

      // keys
      const hostKeyFile = join(sshdDir, 'ssh_host_ed25519_key');
      const clientKeyFile = join(clientDir, 'id_ed25519');
      execFileSync(keygen, ['-q', '-t', 'ed25519', '-N', '', '-C', 'openwrt-test-host', '-f', hostKeyFile], { stdio: 'pipe' });
      execFileSync(keygen, ['-q', '-t', 'ed25519', '-N', '', '-C', 'openwrt-test-client', '-f', clientKeyFile], { stdio: 'pipe' });
      const authorizedKeys = join(sshdDir, 'authorized_keys');
      writeFileSync(authorizedKeys, readFileSync(`${clientKeyFile}.pub`, 'utf8'), { mode: 0o600 });
      const hostPub = readFileSync(`${hostKeyFile}.pub`, 'utf8').trim();
      const [keyType, keyBlob] = hostPub.split(/\s+/);

      const user = userInfo().username;
      const sshdLogFile = join(sshdDir, 'sshd.log');
      const sshdConfigFile = join(sshdDir, 'sshd_config');
      const knownHostsFile = join(clientDir, 'known_hosts');

      // pick a free port and start; retry with another port if sshd loses the race for it
      let lastError: Error | undefined;
      for (let attempt = 0; attempt < 5; attempt++) {
        const port = await freePort();
        const knownHostsLine = `[127.0.0.1]:${port} ${keyType} ${keyBlob}`;
        writeFileSync(knownHostsFile, `${knownHostsLine}\n`);
        writeFileSync(
          sshdConfigFile,
          [
            'ListenAddress 127.0.0.1',
            `Port ${port}`,
            'AddressFamily inet',
            `HostKey ${hostKeyFile}`,
            `PidFile ${sshdPidFile}`,
            `AuthorizedKeysFile ${authorizedKeys}`,
            'PermitRootLogin prohibit-password',
            'PubkeyAuthentication yes',
            'PasswordAuthentication no',
            'KbdInteractiveAuthentication no',
            'HostbasedAuthentication no',
            'UsePAM no',
            'StrictModes no',
            'PermitUserEnvironment no',
            'PrintMotd no',
            'PrintLastLog no',
            'UseDNS no',
            'X11Forwarding no',
            'AllowAgentForwarding no',
            'AllowTcpForwarding no',
            'PermitTunnel no',
            'MaxStartups 64',
            'MaxSessions 32',
            'LoginGraceTime 30',
            'Subsystem sftp internal-sftp',
            `SetEnv "${SESSION_ENV}=${scratch}"`,
            'LogLevel ERROR',
            '',
          ].join('\n'),
        );
        const router = new OpenWrtTestRouter({
          scratch,
          root,
          port,
          user,
          clientKeyFile,
          hostKeyFile,
          hostKeyFingerprint: sshFingerprint(hostPub),
          knownHostsLine,
          knownHostsFile,
          sshdLogFile,
          sshdConfigFile,
          sshdPidFile,
          modeFile,
          uciBinary,
        });
        try {
          await router.spawnSshd();
          return router;
        } catch (e) {
          lastError = e as Error;
          await router.killSshd();
          if (!/address already in use|bind/i.test(lastError.message)) break;
        }
      }
      throw lastError ?? new Error('sshd did not start');
    } catch (e) {
      rmSync(scratch, { recursive: true, force: true });
      throw e;
    }
  }

  /** the PATH assignment remote commands start with: `PATH="R/usr/sbin:R/usr/bin:R/sbin:R/bin:$PATH"` */
  pathPrefix(): string {
    const R = this.root;
    return `PATH="${R}/usr/sbin:${R}/usr/bin:${R}/sbin:${R}/bin:$PATH"`;
  }

  /** pid of the running sshd listener, if any */
  get sshdPid(): number | undefined {
    return this.sshd && this.sshd.exitCode === null && this.sshd.signalCode === null ? this.sshd.pid : undefined;
  }

  /** Runs the real uci on R's config directly (same config and staging dirs as R/sbin/uci, and the program
   *  name `uci` as on a router); `input` goes to stdin (for `batch`/`import`). Returns stdout without its
   *  trailing newline(s), so `uci(['get', 'network.lan.proto'])` is `'static'`. Throws on a non-zero exit
   *  (message includes stderr; the error carries status, stdout, stderr). */
  uci(args: string[], input?: string): string {
    const r = spawnSync(
      this.uciBinary,
      ['-c', join(this.root, 'etc/config'), '-t', join(this.root, 'tmp/.uci'), '-C', join(this.root, 'var/run/uci'), ...args],
      { argv0: 'uci', encoding: 'utf8', input: input ?? '', timeout: 10_000 },
    );
    if (r.error) throw r.error;
    if (r.status !== 0) {
      throw Object.assign(new Error(`uci ${args.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr.trim()}`), {
        status: r.status,
        stdout: r.stdout,
        stderr: r.stderr,
      });
    }
    return r.stdout.replace(/\n+$/, '');
  }

  readConfig(name: OpenWrtConfigName): string {
    return readFileSync(join(this.root, 'etc/config', name), 'utf8');
  }

  /** lines of R/tmp/service.log: `<UTC timestamp> <service> <args>` */
  serviceLog(): string[] {
    const file = join(this.root, 'tmp/service.log');
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
  }

  /** serviceLog() without the timestamps: e.g. ['network reload', 'firewall reload'] */
  serviceCalls(): string[] {
    return this.serviceLog().map((l) => l.replace(/^\S+ /, ''));
  }

  setNetworkReload(mode: NetworkReloadMode): void {
    writeFileSync(this.modeFile, `${mode}\n`);
  }

  /** true while the listener process runs (false after a cut-off, until restartSshd) */
  sshdRunning(): boolean {
    return this.sshdPid !== undefined;
  }

  /** Brings the listener back (same port, same host key): after a cut-off, or to restart a running one. */
  async restartSshd(): Promise<void> {
    if (this.stopped) throw new Error('router stopped');
    await this.killSshd();
    let lastError: Error | undefined;
    // the port was ours a moment ago; sshd sets SO_REUSEADDR, so retry only briefly
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await this.spawnSshd();
        return;
      } catch (e) {
        lastError = e as Error;
        await this.killSshd();
        await sleep(100);
      }
    }
    throw lastError ?? new Error('sshd did not restart');
  }

  /** Runs a command over SSH with node-ssh (ssh2), checking the host key against hostKeyFingerprint. */
  async ssh(command: string, options: { stdin?: string; timeoutMs?: number } = {}): Promise<SshResult> {
    const client = new NodeSSH();
    const expected = this.hostKeyFingerprint;
    await client.connect({
      host: '127.0.0.1',
      port: this.port,
      username: this.user,
      privateKeyPath: this.clientKeyFile,
      readyTimeout: options.timeoutMs ?? 5000,
      hostVerifier: (key: Buffer | string) => {
        const buf = typeof key === 'string' ? Buffer.from(key, 'hex') : key;
        return `SHA256:${createHash('sha256').update(buf).digest('base64').replace(/=+$/, '')}` === expected;
      },
    } as Parameters<NodeSSH['connect']>[0]);
    client.connection?.on('error', () => {});
    try {
      const r = await client.execCommand(command, {
        noTrim: true,
        ...(options.stdin !== undefined ? { stdin: options.stdin } : {}),
      });
      return { code: r.code, stdout: r.stdout, stderr: r.stderr };
    } finally {
      client.dispose();
    }
  }

  /** Kills sshd (the listener by pid, waiting for it), then what is left of this router's connections and
   *  sessions (background jobs included, see killLeftovers), and removes the scratch directory. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.killSshd();
    await this.killLeftovers();
    rmSync(this.scratch, { recursive: true, force: true });
  }

  // -------------------------------------------------------------------------

  private async spawnSshd(): Promise<void> {
    rmSync(this.sshdPidFile, { force: true });
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    const logFd = openSync(this.sshdLogFile, 'a');
    const logStart = readFileSync(this.sshdLogFile, 'utf8').length;
    let child: ChildProcess;
    try {
      // an empty environment of our own: nothing of the test runner's env leaks into sessions
      child = spawn(SSHD_PATH, ['-D', '-e', '-f', this.sshdConfigFile], {
        stdio: ['ignore', logFd, logFd],
        env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' },
      });
    } finally {
      closeSync(logFd);
    }
    this.sshd = child;
    this.sshdExited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    child.once('error', () => {});
    const pid = child.pid;
    const logTail = () => readFileSync(this.sshdLogFile, 'utf8').slice(logStart).trim();
    // sshd writes its PidFile after binding the listen socket: that is our readiness signal
    const deadline = Date.now() + 5000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null || pid === undefined) {
        throw new Error(`sshd exited (${child.exitCode ?? child.signalCode}) on port ${this.port}: ${logTail()}`);
      }
      let written = '';
      try {
        written = readFileSync(this.sshdPidFile, 'utf8').trim();
      } catch {
        // not yet
      }
      if (written === String(pid)) return;
      if (Date.now() > deadline) throw new Error(`sshd did not become ready on port ${this.port}: ${logTail()}`);
      await sleep(20);
    }
  }

  private async killSshd(): Promise<void> {
    const child = this.sshd;
    if (!child) return;
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const timeout = sleep(3000).then(() => 'timeout' as const);
      if ((await Promise.race([this.sshdExited.then(() => 'exited' as const), timeout])) === 'timeout') {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // gone
        }
        await this.sshdExited;
      }
    } else {
      await this.sshdExited;
    }
    this.sshd = undefined;
  }

  /** Processes left over from this router: connection processes of OUR sshd (forked per connection, they
   *  outlive a killed listener; found as the sshd processes whose stderr is our log file, since sshd runs with
   *  -e), and everything sessions started, background jobs included (found by the OPENWRT_TEST_ROUTER
   *  variable sshd's SetEnv puts into every session). Killed by pid: SIGTERM, then SIGKILL after a grace. */
  private async killLeftovers(): Promise<void> {
    const marker = `${SESSION_ENV}=${this.scratch}`;
    const found = (): number[] => {
      const pids: number[] = [];
      let entries: string[] = [];
      try {
        entries = readdirSync('/proc');
      } catch {
        return pids;
      }
      for (const e of entries) {
        if (!/^\d+$/.test(e)) continue;
        const pid = Number(e);
        if (pid === process.pid || pid === 1) continue;
        try {
          let ours = false;
          try {
            const exe = readlinkSync(`/proc/${e}/exe`).replace(/ \(deleted\)$/, '');
            ours = /\/sshd(-session|-auth)?$/.test(exe) && readlinkSync(`/proc/${e}/fd/2`) === this.sshdLogFile;
          } catch {
            // a zombie has no exe: not ours to kill (its parent reaps it)
          }
          if (!ours) ours = readFileSync(`/proc/${e}/environ`, 'latin1').split('\0').includes(marker);
          if (ours && pidAlive(pid)) pids.push(pid);
        } catch {
          // gone, or not readable
        }
      }
      return pids;
    };
    const kill = (pid: number, signal: NodeJS.Signals) => {
      try {
        process.kill(pid, signal);
      } catch {
        // gone
      }
    };
    // a few rounds: a session may fork while we look
    for (let round = 0; round < 5; round++) {
      let pids = found();
      if (pids.length === 0) return;
      for (const pid of pids) kill(pid, 'SIGTERM');
      const deadline = Date.now() + 1000;
      while (pids.length > 0 && Date.now() < deadline) {
        await sleep(25);
        pids = pids.filter(pidAlive);
      }
      for (const pid of pids) kill(pid, 'SIGKILL');
    }
  }
}
