// A throwaway Docker host for tests: Debian's real dockerd (docker.io 20.10, Engine API 1.41) running inside a
// network namespace of its own, next to a second namespace that plays the LAN/router. The two are joined by a
// veth pair: the host's end is its NIC `parent` (192.168.77.9/24), the LAN's end has 192.168.77.1/24.
//
//   /var/run/netns/fnd-<pid>-<n>    the Docker host      parent (veth) 192.168.77.9/24
//   /var/run/netns/fnd-<pid>-<n>l   the LAN / router     lan0   (veth) 192.168.77.1/24
//
// dockerd is started with nsenter (NOT `ip netns exec`, which remounts /sys and hides the cgroup mounts) in a
// private mount namespace (`unshare -m`, `mount --make-rprivate /`) in which a tmpfs covers /run, so that
// containerd's and runc's hard-coded /run/containerd paths stay inside that mount namespace and a system
// containerd (if any) is never used. Everything else dockerd writes lives in a scratch directory B:
//   B/d/root, B/d/exec, B/d/pid, B/d/docker.sock, B/d/daemon.json, B/d/key.json, B/d/dockerd.log
//   B/cli          DOCKER_CONFIG of the docker CLI
//   B/image        the busybox root file system imported as 'flatnet-bb:local'
//   B/scratch      free for the tests (`scratch`)
// dockerd runs with --iptables=false --ip6tables=false --bridge=none --ip-forward=false --ip-masq=false and the
// vfs storage driver: it adds no firewall rule and no bridge, and nothing happens in the root network namespace.
//
// Containers' cgroups go under /<netns>/<id> (--cgroup-parent) instead of the shared /docker.
//
// stop() removes the containers, stops dockerd by its pid (then any of our containerd/shim processes left, by
// pid), deletes both namespaces, the (empty) cgroup parent directories and B. Every process started here is
// stopped by its pid.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants as fsConstants,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  rmSync,
  rmdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export const DOCKER_TEST_IMAGE = 'flatnet-bb:local';
export const DOCKER_API_VERSION = 'v1.41';
/** The host's address on its NIC and the LAN side's address (the veth pair between the two namespaces). */
export const HOST_LAN_ADDRESS = '192.168.77.9/24';
export const LAN_ROUTER_ADDRESS = '192.168.77.1/24';
/** Applets linked into the test image. */
const APPLETS = ['sh', 'sleep', 'ping', 'ip', 'cat'];

export interface ExecResult {
  /** exit code; null when the process was killed (signal or timeout) */
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface EngineResponse {
  status: number;
  /** the body parsed as JSON, or undefined when it is not JSON */
  json: unknown;
  text: string;
}

// ---- locating tools ----------------------------------------------------------------------------------------

function executable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const SEARCH_DIRS = [
  ...(process.env.PATH ?? '').split(delimiter).filter((d) => d !== ''),
  '/usr/local/sbin',
  '/usr/local/bin',
  '/usr/sbin',
  '/usr/bin',
  '/sbin',
  '/bin',
];

function which(name: string): string | undefined {
  for (const dir of SEARCH_DIRS) {
    const p = join(dir, name);
    if (executable(p)) return p;
  }
  return undefined;
}

/** The docker CLI: Debian's (same release as its dockerd) when present, else the first one on PATH. */
function dockerCli(): string | undefined {
  return executable('/usr/bin/docker') ? '/usr/bin/docker' : which('docker');
}

function busyboxPath(): string | undefined {
  for (const p of ['/bin/busybox', '/usr/bin/busybox', '/usr/local/bin/busybox']) if (executable(p)) return p;
  return which('busybox');
}

/** true when the ELF file has no PT_INTERP program header (statically linked); undefined when not ELF. */
function isStaticElf(path: string): boolean | undefined {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(64);
    if (readSync(fd, head, 0, 64, 0) < 52 || head.readUInt32BE(0) !== 0x7f454c46) return undefined;
    const is64 = head[4] === 2;
    const le = head[5] === 1;
    const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const phoff = is64 ? Number(le ? head.readBigUInt64LE(32) : head.readBigUInt64BE(32)) : u32(head, 28);
    const phentsize = u16(head, is64 ? 54 : 42);
    const phnum = u16(head, is64 ? 56 : 44);
    const ph = Buffer.alloc(phentsize * phnum);
    readSync(fd, ph, 0, ph.length, phoff);
    for (let i = 0; i < phnum; i++) if (u32(ph, i * phentsize) === 3 /* PT_INTERP */) return false;
    return true;
  } finally {
    closeSync(fd);
  }
}

interface Tools {
  dockerd: string;
  docker: string;
  busybox: string;
  ip: string;
  nsenter: string;
  unshare: string;
  tar: string;
}

function findTools(): { tools: Tools } | { reason: string } {
  if (process.platform !== 'linux') return { reason: `a Docker host in a network namespace needs Linux (this is ${process.platform})` };
  const uid = process.getuid?.();
  if (uid !== 0) return { reason: `needs root to create network namespaces and run dockerd (uid ${uid})` };
  const found = {
    dockerd: which('dockerd'),
    docker: dockerCli(),
    busybox: busyboxPath(),
    ip: which('ip'),
    nsenter: which('nsenter'),
    unshare: which('unshare'),
    tar: which('tar'),
  };
  const hint: Record<keyof Tools, string> = {
    dockerd: 'dockerd (apt-get install docker.io)',
    docker: 'docker CLI (apt-get install docker.io)',
    busybox: 'busybox (apt-get install busybox-static)',
    ip: 'ip (apt-get install iproute2)',
    nsenter: 'nsenter (util-linux)',
    unshare: 'unshare (util-linux)',
    tar: 'tar',
  };
  const missing = (Object.keys(found) as (keyof Tools)[]).filter((k) => found[k] === undefined).map((k) => hint[k]);
  if (missing.length > 0) return { reason: `missing: ${missing.join(', ')}` };
  const tools = found as Tools;
  let isStatic: boolean | undefined;
  try {
    isStatic = isStaticElf(tools.busybox);
  } catch (e) {
    return { reason: `cannot read ${tools.busybox}: ${(e as Error).message}` };
  }
  if (isStatic !== true) return { reason: `${tools.busybox} is not a statically linked ELF binary (apt-get install busybox-static)` };
  const v = spawnSync(tools.dockerd, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (v.status !== 0) return { reason: `\`${tools.dockerd} --version\` failed: ${(v.error?.message ?? v.stderr).trim()}` };
  return { tools };
}

let cachedSupport: ReturnType<typeof findTools> | undefined;
function support(): ReturnType<typeof findTools> {
  return (cachedSupport ??= findTools());
}

/** Whether a DockerTestHost can be started here: Linux, root, dockerd, docker CLI, static busybox, ip, nsenter, unshare. */
export function dockerTestSupport(): { ok: true } | { ok: false; reason: string } {
  const s = support();
  return 'tools' in s ? { ok: true } : { ok: false, reason: s.reason };
}

// ---- running commands --------------------------------------------------------------------------------------

function run(argv: string[], opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    const [cmd, ...args] = argv;
    const child = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    let spawnError: string | undefined;
    child.on('error', (e) => (spawnError = e.message));
    const timer = setTimeout(() => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    }, opts.timeoutMs ?? 60_000);
    child.stdin.on('error', () => {}); // EPIPE when the command does not read its input
    child.stdin.end(opts.input ?? '');
    child.on('close', (code) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString('utf8');
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: spawnError ? `${stderr}${spawnError}` : stderr });
    });
  });
}

function must(argv: string[], r: ExecResult): string {
  if (r.code !== 0) throw new Error(`\`${argv.join(' ')}\` failed (exit ${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

async function runMust(argv: string[], opts?: Parameters<typeof run>[1]): Promise<string> {
  return must(argv, await run(argv, opts));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** GET/POST/DELETE on the Engine API over the unix socket. */
function engineRequest(socketPath: string, method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<EngineResponse> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request(
      {
        socketPath,
        method,
        path,
        headers: payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {},
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, json, text });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

// ---- processes ---------------------------------------------------------------------------------------------

function alive(pid: number): boolean {
  // a zombie (exited, not yet reaped by its parent) no longer runs: count it as gone
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Pids of the processes whose command line mentions dir (our containerd and its shims), except exclude. */
function processesUnder(dir: string, exclude: number[]): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid || exclude.includes(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').some((a) => a.includes(dir))) pids.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

async function waitGone(pids: number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  let left = pids.filter(alive);
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(100);
    left = left.filter(alive);
  }
  return left;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** Mount points at or under dir in this (the root) mount namespace: never rm -rf through one. */
function mountsUnder(dir: string): string[] {
  try {
    return readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((m) => m === dir || m.startsWith(`${dir}/`));
  } catch {
    return [];
  }
}

// ---- the host ----------------------------------------------------------------------------------------------

export interface DockerTestHostOptions {
  /** the host's NIC name inside its namespace (default 'eth0') */
  parent?: string;
}

const live = new Set<DockerTestHost>();
let counter = 0;
let exitHook = false;

function namespaceExists(name: string): boolean {
  return existsSync(join('/var/run/netns', name));
}

export class DockerTestHost {
  readonly netns: string;
  readonly lanNetns: string;
  readonly parent: string;
  readonly socket: string;
  readonly image = DOCKER_TEST_IMAGE;
  readonly scratch: string;
  /** the statically linked busybox on this machine (e.g. for `exec([host.busybox, 'ping', …])`) */
  readonly busybox: string;
  /** dockerd's log file */
  readonly logFile: string;

  private readonly tools: Tools;
  private readonly base: string;
  private readonly dockerDir: string;
  private child: ChildProcess | undefined;
  private pid: number | undefined;
  private childExit: Promise<void> | undefined;
  private namespaces: string[] = [];
  private stopped = false;

  private constructor(tools: Tools, parent: string) {
    this.tools = tools;
    this.parent = parent;
    const n = ++counter;
    this.netns = `fnd-${process.pid}-${n}`;
    this.lanNetns = `fnd-${process.pid}-${n}l`;
    // /run is covered by a tmpfs in dockerd's mount namespace: keep the base directory out of it
    const tmp = /^\/(var\/)?run(\/|$)/.test(tmpdir()) ? '/tmp' : tmpdir();
    this.base = mkdtempSync(join(tmp, 'fnd-'));
    this.dockerDir = join(this.base, 'd');
    this.socket = join(this.dockerDir, 'docker.sock');
    this.scratch = join(this.base, 'scratch');
    this.logFile = join(this.dockerDir, 'dockerd.log');
    this.busybox = tools.busybox;
    mkdirSync(this.dockerDir);
    mkdirSync(this.scratch);
    mkdirSync(join(this.base, 'cli'));
  }

  /** Creates both namespaces and the veth pair, starts dockerd and imports the busybox image. */
  static async start(options: DockerTestHostOptions = {}): Promise<DockerTestHost> {
    const s = support();
    if (!('tools' in s)) throw new Error(`DockerTestHost unavailable: ${s.reason}`);
    const host = new DockerTestHost(s.tools, options.parent ?? 'eth0');
    live.add(host);
    if (!exitHook) {
      exitHook = true;
      process.on('exit', () => {
        for (const h of live) h.stopSync();
      });
    }
    try {
      await host.setUpNetwork();
      await host.startDockerd();
      await host.importImage();
      return host;
    } catch (e) {
      await host.stop().catch(() => {});
      throw e;
    }
  }

  /** dockerd's pid (undefined before it started) */
  get dockerdPid(): number | undefined {
    return this.pid;
  }

  /** argv that runs argv inside the host namespace */
  nsenter(argv: string[]): string[] {
    return [this.tools.nsenter, `--net=/var/run/netns/${this.netns}`, ...argv];
  }

  /** Runs argv inside the host namespace. */
  exec(argv: string[], input?: string): Promise<ExecResult> {
    return run(this.nsenter(argv), { input });
  }

  /** Runs argv inside the LAN namespace. */
  execLan(argv: string[]): Promise<ExecResult> {
    return run([this.tools.nsenter, `--net=/var/run/netns/${this.lanNetns}`, ...argv]);
  }

  /** The docker CLI against this dockerd (`-H unix://<socket>`, its own DOCKER_CONFIG). */
  docker(args: string[], input?: string | Buffer): Promise<ExecResult> {
    return run([this.tools.docker, '-H', `unix://${this.socket}`, ...args], { input, env: this.cliEnv() });
  }

  /** A request to the Engine API (paths without the version prefix get /v1.41). */
  engine(method: string, path: string, body?: unknown): Promise<EngineResponse> {
    const p = path.startsWith('/v1.') ? path : `/${DOCKER_API_VERSION}${path.startsWith('/') ? '' : '/'}${path}`;
    return engineRequest(this.socket, method, p, body);
  }

  /** Starts `sleep 3600` in a container on network with a fixed IPv4 address; returns its id. */
  async run(network: string, ip: string, name: string): Promise<string> {
    const args = ['run', '-d', '--name', name, '--network', network, '--ip', ip, this.image, 'sleep', '3600'];
    return must(['docker', ...args], await this.docker(args)).trim();
  }

  /** Removes the containers, stops dockerd by its pid and waits, deletes both namespaces and the scratch tree. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const problems: string[] = [];
    if (this.pid !== undefined && this.child?.exitCode === null && this.child.signalCode === null) {
      const ids = await this.docker(['ps', '-aq']);
      const list = ids.stdout.split('\n').filter((l) => l.trim() !== '');
      if (list.length > 0) {
        const rm = await this.docker(['rm', '-f', ...list]);
        if (rm.code !== 0) problems.push(`docker rm -f: ${rm.stderr.trim()}`);
      }
      signal(this.pid, 'SIGTERM');
      const exited = await Promise.race([this.childExit!.then(() => true), sleep(20_000).then(() => false)]);
      if (!exited) {
        problems.push(`dockerd (pid ${this.pid}) did not stop in 20 s on SIGTERM: killed`);
        signal(this.pid, 'SIGKILL');
        await this.childExit;
      }
    }
    // containerd and shims started by this dockerd (their command lines name our directory), by pid
    const strays = processesUnder(this.base, this.pid === undefined ? [] : [this.pid]);
    if (strays.length > 0) {
      for (const pid of strays) signal(pid, 'SIGTERM');
      const left = await waitGone(strays, 5_000);
      for (const pid of left) signal(pid, 'SIGKILL');
      await waitGone(left, 5_000);
    }
    this.deleteNamespaces();
    const cg = this.removeCgroupParent();
    if (cg.length > 0) problems.push(`cgroup(s) not removed: ${cg.join(', ')}`);
    const mounts = mountsUnder(this.base);
    if (mounts.length > 0) problems.push(`left ${this.base} in place: mount points under it: ${mounts.join(', ')}`);
    else rmSync(this.base, { recursive: true, force: true });
    live.delete(this);
    if (problems.length > 0) throw new Error(`DockerTestHost.stop: ${problems.join('; ')}`);
  }

  // ---- internals -------------------------------------------------------------------------------------------

  private cliEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_CONFIG: join(this.base, 'cli'), DOCKER_CLI_HINTS: 'false' };
    delete env.DOCKER_HOST;
    delete env.DOCKER_CONTEXT;
    delete env.DOCKER_TLS_VERIFY;
    delete env.DOCKER_CERT_PATH;
    return env;
  }

  private async setUpNetwork(): Promise<void> {
    const { ip } = this.tools;
    for (const ns of [this.netns, this.lanNetns]) {
      // left over by a crashed run whose pid has been reused: ours by construction of the name
      if (namespaceExists(ns)) spawnSync(ip, ['netns', 'del', ns]);
      await runMust([ip, 'netns', 'add', ns]);
      this.namespaces.push(ns);
    }
    // `ip -n NS` runs ip inside NS: the veth is created there and its peer moved straight to the LAN namespace
    const h = [ip, '-n', this.netns];
    const l = [ip, '-n', this.lanNetns];
    await runMust([...h, 'link', 'set', 'lo', 'up']);
    await runMust([...l, 'link', 'set', 'lo', 'up']);
    await runMust([...h, 'link', 'add', this.parent, 'type', 'veth', 'peer', 'name', 'lan0', 'netns', this.lanNetns]);
    await runMust([...h, 'addr', 'add', HOST_LAN_ADDRESS, 'dev', this.parent]);
    await runMust([...h, 'link', 'set', this.parent, 'up']);
    await runMust([...l, 'addr', 'add', LAN_ROUTER_ADDRESS, 'dev', 'lan0']);
    await runMust([...l, 'link', 'set', 'lan0', 'up']);
  }

  private async startDockerd(): Promise<void> {
    const d = this.dockerDir;
    // deprecated-key-path: dockerd 20.10 would otherwise write /etc/docker/key.json
    writeFileSync(join(d, 'daemon.json'), JSON.stringify({ 'deprecated-key-path': join(d, 'key.json') }));
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const dockerd = [
      this.tools.dockerd,
      '--config-file', join(d, 'daemon.json'),
      '--data-root', join(d, 'root'),
      '--exec-root', join(d, 'exec'),
      '--pidfile', join(d, 'pid'),
      '-H', `unix://${this.socket}`,
      '--iptables=false',
      '--ip6tables=false',
      '--bridge=none',
      '--ip-forward=false',
      '--ip-masq=false',
      '--storage-driver=vfs',
      // containers' cgroups under /<netns>/<id> instead of the shared /docker/<id>; removed by stop()
      '--cgroup-parent', `/${this.netns}`,
    ];
    // a tmpfs over /run (only in this mount namespace): containerd/runc's fixed /run/containerd paths stay
    // private, and a system containerd's socket is not seen, so dockerd starts its own
    const script = `set -e; mount --make-rprivate /; mount -t tmpfs -o mode=755 fnd-run /run; exec ${dockerd.map(q).join(' ')}`;
    const log = openSync(this.logFile, 'a');
    try {
      // nsenter and unshare (without --fork) exec, and sh execs dockerd: the child's pid is dockerd's
      this.child = spawn(this.tools.nsenter, [`--net=/var/run/netns/${this.netns}`, this.tools.unshare, '-m', 'sh', '-c', script], {
        stdio: ['ignore', log, log],
      });
    } finally {
      closeSync(log);
    }
    const child = this.child;
    this.childExit = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    child.on('error', () => {});
    if (child.pid === undefined) throw new Error(`could not start dockerd: ${this.logTail()}`);
    this.pid = child.pid;

    const deadline = Date.now() + 30_000;
    let last = '';
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`dockerd exited (${child.exitCode ?? child.signalCode}) before answering:\n${this.logTail()}`);
      }
      if (existsSync(this.socket)) {
        try {
          const r = await engineRequest(this.socket, 'GET', `/${DOCKER_API_VERSION}/_ping`, undefined, 2_000);
          if (r.status === 200 && r.text === 'OK') return;
          last = `HTTP ${r.status} ${r.text}`;
        } catch (e) {
          last = (e as Error).message;
        }
      }
      if (Date.now() > deadline) throw new Error(`dockerd did not answer /_ping in 30 s (${last}):\n${this.logTail()}`);
      await sleep(100);
    }
  }

  private async importImage(): Promise<void> {
    const root = join(this.base, 'image');
    mkdirSync(join(root, 'bin'), { recursive: true });
    copyFileSync(this.tools.busybox, join(root, 'bin', 'busybox'));
    for (const a of APPLETS) symlinkSync('busybox', join(root, 'bin', a));
    const tar = spawnSync(this.tools.tar, ['-C', root, '--owner=0', '--group=0', '-cf', '-', '.'], { maxBuffer: 64 * 1024 * 1024 });
    if (tar.status !== 0) throw new Error(`tar of the image root failed: ${tar.stderr?.toString() ?? tar.error?.message}`);
    const r = await this.docker(['import', '-', this.image], tar.stdout);
    must(['docker', 'import', '-', this.image], r);
    rmSync(root, { recursive: true, force: true });
  }

  private deleteNamespaces(): void {
    for (const ns of this.namespaces) spawnSync(this.tools.ip, ['netns', 'del', ns]);
    this.namespaces = [];
  }

  /** rmdir of /sys/fs/cgroup[/<controller>]/<netns> (empty once the containers are gone); what is left. */
  private removeCgroupParent(): string[] {
    const root = '/sys/fs/cgroup';
    const dirs = [join(root, this.netns)];
    try {
      for (const e of readdirSync(root, { withFileTypes: true })) if (e.isDirectory()) dirs.push(join(root, e.name, this.netns));
    } catch {
      return [];
    }
    const left: string[] = [];
    for (const d of dirs) {
      if (!existsSync(d)) continue;
      try {
        rmdirSync(d);
      } catch (e) {
        left.push(`${d} (${(e as NodeJS.ErrnoException).code})`);
      }
    }
    return left;
  }

  /** Best effort on process exit (a crashed or interrupted run): dockerd gets SIGTERM, namespaces go. */
  private stopSync(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.pid !== undefined && alive(this.pid)) signal(this.pid, 'SIGTERM');
    this.deleteNamespaces();
  }

  private logTail(): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-20).join('\n');
    } catch {
      return '(no dockerd log)';
    }
  }
}
