// A Docker host reached over SSH: ONE connection carries everything.
//   - the Docker Engine API: `docker system dial-stdio` (with `sudo -n` when sudo: true) on one exec channel,
//     spoken to by Node's http through an Agent that keeps that one stream alive (maxSockets 1): requests
//     queue on it instead of opening channels or connections;
//   - the reads: one exec channel runs one script (ip -j reads, the boot files, networkd's link states,
//     the privilege and docker checks) and answers in framed sections;
//   - the changes: each run of ip/file operations between Docker steps is one script on one exec channel
//     (through `sudo -n sh -s` with sudo: true), every operation followed by a marker, so a failure or a cut
//     connection says exactly how many were made. Every word is quoted for the remote shell (src/quote.ts);
//     file contents travel inside the script and are written beside the target and renamed over it, on the
//     host, never through a path of this machine.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import type { HostModel } from '../../src/model.js';
import { shellQuote } from '../../src/quote.js';
import { SshError, SshSession, defaultKnownHosts, type OpenChannel, type SshOptions } from '../../src/ssh.js';
import { Engine, type EngineConnector } from '../docker/engine.js';
import { parseLinks } from './links.js';
import { HostOpsError, NETIF_DIR, NETWORKD_DIR, VLAN_PROBE_FUNCTION, parseVlanProbe, type HostOp, type HostSnapshot, type HostTransport, type SnapshotRequest, type TransportStats } from './transport.js';

export interface RemoteTransportOptions {
  env?: NodeJS.ProcessEnv;
  /** install root on the remote host (default /) */
  installRoot?: string;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
  acceptNewHostKey?: boolean;
  knownHostsFile?: string;
}

/** Thrown by the transport: one line that names the host; the connection could not be used. */
export class RemoteHostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RemoteHostError';
  }
}

/** Single-quoted for a POSIX shell, newlines and all (file contents); NUL cannot be represented. */
export function shellLiteral(text: string): string {
  if (text.includes('\u0000')) throw new Error('a file content with a NUL byte cannot be sent');
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

const parentDir = (p: string) => p.slice(0, Math.max(p.lastIndexOf('/'), 1));
const baseName = (p: string) => p.slice(p.lastIndexOf('/') + 1);

/** The shell text of one operation (without its marker); `R` is the install root variable of the script. */
export function opScript(op: HostOp): string {
  const at = (rel: string) => `"$R"/${shellQuote(rel.replace(/^\/+/, ''))}`;
  switch (op.kind) {
    case 'ip':
      return `ip ${op.argv.map(shellQuote).join(' ')}`;
    case 'remove':
      return `rm -f -- ${at(op.path)}`;
    case 'link':
      return `mkdir -p -- ${at(parentDir(op.path))}\nrm -f -- ${at(op.path)}\nln -s -- ${shellQuote(op.target)} ${at(op.path)}`;
    case 'write': {
      const tmp = at(`${parentDir(op.path)}/.${baseName(op.path)}.flatnet-tmp`);
      return [
        `mkdir -p -- ${at(parentDir(op.path))}`,
        `printf '%s' ${shellLiteral(op.content)} > ${tmp}`,
        `chmod ${op.mode.toString(8).padStart(4, '0')} ${tmp}`,
        `mv -f -- ${tmp} ${at(op.path)}`,
      ].join('\n');
    }
    case 'daemon-reload':
      return 'systemctl daemon-reload || true';
  }
}

/** The script of a run of operations: each followed by `<nonce> <index>` on stdout, `set -e` throughout. */
export function opsScript(ops: readonly HostOp[], root: string, nonce: string): string {
  const lines = ['set -e', 'umask 022', `R=${shellQuote(root === '/' ? '' : root.replace(/\/+$/, ''))}`];
  ops.forEach((op, i) => lines.push(opScript(op), `printf '%s %d\\n' ${nonce} ${i}`));
  return `${lines.join('\n')}\n`;
}

/** How many operations the markers in stdout say were made. */
export function opsDone(stdout: string, nonce: string): number {
  let done = 0;
  for (const line of stdout.split('\n')) {
    const m = new RegExp(`^${nonce} (\\d+)$`).exec(line);
    if (m) done = Math.max(done, Number(m[1]) + 1);
  }
  return done;
}

/**
 * The read script: every section is `\n<nonce> <status> <key>\n<content>`; status is the command's exit code,
 * or `-` for an absent file. Only constant patterns and quoted words: the install root and the request's paths.
 */
export function snapshotScript(request: SnapshotRequest, root: string, sudo: boolean, nonce: string): string {
  const q = shellQuote;
  const lines = [
    `N=${nonce}`,
    `R=${q(root === '/' ? '' : root.replace(/\/+$/, ''))}`,
    "NL='\n'",
    // $(...) drops trailing newlines: a final x keeps them, then goes
    `item() { k=$1; shift; o=$("$@" 2>&1; s=$?; printf x; exit $s); s=$?; printf '\\n%s %s %s\\n%s' "$N" "$s" "$k" "\${o%x}"; }`,
    `absent() { printf '\\n%s - %s\\n' "$N" "$1"; }`,
    `file() { if [ -f "$R/$1" ]; then item "file:$1" cat -- "$R/$1"; else absent "file:$1"; fi; }`,
    `link() { if [ -L "$R/$1" ]; then item "link:$1" readlink -- "$R/$1"; else absent "link:$1"; fi; }`,
    'item ip:link ip -j -d link show',
    'item ip:addr ip -j addr show',
    'item ip:route4 ip -j -4 route show table main',
    'item ip:route6 ip -j -6 route show table main',
    ...request.files.map((f) => `file ${q(f)}`),
    ...request.symlinks.map((f) => `link ${q(f)}`),
    `for p in "$R"/${NETWORKD_DIR}/1[01]-flatnet-*.netdev "$R"/${NETWORKD_DIR}/1[01]-flatnet-*.network "$R"/${NETWORKD_DIR}/*.network.d/flatnet.conf; do`,
    '  case $p in *"$NL"*) continue ;; esac',
    '  [ -f "$p" ] && file "${p#"$R"/}"',
    'done',
    `for p in "$R"/${NETIF_DIR}/*; do`,
    '  case ${p##*/} in *[!0-9]* | "") continue ;; esac',
    '  item "netif:${p##*/}" cat -- "$p"',
    'done',
    `[ -e "$R/run/NetworkManager" ] && printf '\\n%s 0 nm\\n' "$N"`,
    `[ -d /run/systemd/system ] && printf '\\n%s 0 systemd\\n' "$N"`,
    sudo ? 'item priv sudo -n true' : 'item uid id -u',
    ...(request.vlanLinks?.length ? [`P=${sudo ? q('sudo -n') : ''}`, VLAN_PROBE_FUNCTION, `item vlan vlan_probe ${request.vlanLinks.map(q).join(' ')}`] : []),
    'item docker command -v docker',
    'exit 0',
  ];
  return `${lines.join('\n')}\n`;
}

export interface Section {
  status: string;
  content: string;
}

export function parseSections(stdout: string, nonce: string): Map<string, Section> {
  const out = new Map<string, Section>();
  const parts = stdout.split(`\n${nonce} `);
  for (const part of parts.slice(1)) {
    const nl = part.indexOf('\n');
    const head = nl < 0 ? part : part.slice(0, nl);
    const content = nl < 0 ? '' : part.slice(nl + 1);
    const sp = head.indexOf(' ');
    if (sp < 0) continue;
    out.set(head.slice(sp + 1), { status: head.slice(0, sp), content });
  }
  return out;
}

const firstLine = (s: string) => s.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '';
const SUDO_PASSWORD = /password is required|a terminal is required|no tty present|askpass/i;

export class RemoteTransport implements HostTransport {
  readonly endpoint: string;
  readonly root: string;
  private session?: SshSession;
  private dockerEngine?: Engine;
  private agent?: http.Agent;
  private channels: OpenChannel[] = [];
  private ipReads = 0;
  private readonly who: string;
  private readonly ssh: NonNullable<HostModel['ssh']>;

  constructor(
    private readonly host: HostModel,
    private readonly options: RemoteTransportOptions = {},
  ) {
    if (!host.ssh) throw new Error(`internal: host ${host.name} has no ssh`);
    this.ssh = host.ssh;
    this.root = options.installRoot ?? '/';
    const addr = this.ssh.address.includes(':') ? `[${this.ssh.address}]` : this.ssh.address;
    this.who = `${this.ssh.user}@${addr}${this.ssh.port !== 22 ? `:${this.ssh.port}` : ''}`;
    this.endpoint = `ssh ${this.who}${this.ssh.sudo ? ', sudo' : ''}`;
  }

  /** `sudo -n ` when the spec says so */
  private get priv(): string {
    return this.ssh.sudo ? 'sudo -n ' : '';
  }

  async open(): Promise<void> {
    if (this.session) return;
    const env = this.options.env ?? process.env;
    const agentSocket = env.SSH_AUTH_SOCK;
    if (this.ssh.keyFile === undefined && !agentSocket) {
      throw new RemoteHostError(`hosts.${this.host.name}: no key-file and no SSH agent (SSH_AUTH_SOCK): nothing to log in to ${this.who} with`);
    }
    const sshOptions: SshOptions = {
      specPath: `hosts.${this.host.name}`,
      deviceWord: 'host',
      fingerprintHint: 'ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on it, or its console',
      host: this.ssh.address,
      port: this.ssh.port,
      user: this.ssh.user,
      ...(this.ssh.keyFile !== undefined ? { keyFile: expandHome(this.ssh.keyFile, env) } : {}),
      ...(this.ssh.hostKey !== undefined ? { hostKey: this.ssh.hostKey } : {}),
      knownHostsFile: this.options.knownHostsFile ?? defaultKnownHosts(env),
      ...(this.options.acceptNewHostKey ? { acceptNewHostKey: true } : {}),
      ...(agentSocket ? { agentSocket } : {}),
      ...(this.options.connectTimeoutMs !== undefined ? { connectTimeoutMs: this.options.connectTimeoutMs } : {}),
      ...(this.options.commandTimeoutMs !== undefined ? { commandTimeoutMs: this.options.commandTimeoutMs } : {}),
    };
    try {
      this.session = await SshSession.connect(sshOptions);
    } catch (err) {
      throw new RemoteHostError((err as Error).message);
    }
  }

  private requireSession(): SshSession {
    if (!this.session) throw new RemoteHostError(`internal: host ${this.host.name} used before open()`);
    return this.session;
  }

  engine(): Engine {
    if (this.dockerEngine) return this.dockerEngine;
    const transport = this;
    // one stream, kept alive: every request of this run goes over the same dial-stdio channel
    class DialStdioAgent extends http.Agent {
      override createConnection(_options: unknown, callback: (err: Error | null, socket?: unknown) => void): undefined {
        transport
          .dialStdio()
          .then((s) => callback(null, s))
          .catch((e: Error) => callback(e));
        return undefined;
      }
    }
    this.agent = new DialStdioAgent({ keepAlive: true, maxSockets: 1 });
    const connector: EngineConnector = {
      describe: `${this.who} (docker system dial-stdio)`,
      agent: this.agent,
      explain: () => {
        const last = this.channels.at(-1);
        const text = last ? firstLine(last.stderr()) : '';
        if (this.session?.closedReason) return this.session.closedReason.message;
        if (text === '') return undefined;
        return this.dockerMessage(text);
      },
    };
    this.dockerEngine = new Engine(connector, this.options.commandTimeoutMs ?? 30_000);
    return this.dockerEngine;
  }

  private dockerMessage(stderrLine: string): string {
    if (SUDO_PASSWORD.test(stderrLine)) return this.sudoMessage();
    if (/not found|no such file/i.test(stderrLine)) return `no docker on ${this.who}: \`docker\` is not on the PATH of ${this.ssh.user} there (flatnet speaks to Docker through \`docker system dial-stdio\`): ${stderrLine}`;
    return `docker system dial-stdio on ${this.who} failed: ${stderrLine}`;
  }

  private sudoMessage(): string {
    return `sudo on ${this.who} asks for a password, and flatnet runs sudo -n (it never types one): give ${this.ssh.user} passwordless sudo there (a NOPASSWD rule for ip, docker and sh) or log in as root`;
  }

  /** Opens the Docker stream: one exec channel, made to look like a socket to Node's http. */
  private async dialStdio(): Promise<unknown> {
    const session = this.requireSession();
    const channel = await session.openChannel(`${this.priv}docker system dial-stdio`);
    this.channels.push(channel);
    return socketLike(channel);
  }

  /** One exec channel: the command, stdin sent and closed, stdout/stderr collected; never hangs. */
  private async exec(command: string, stdin: string): Promise<{ code: number | null; stdout: string; stderr: string; lost?: SshError }> {
    const session = this.requireSession();
    const channel = await session.openChannel(command);
    const out: Buffer[] = [];
    channel.stream.on('data', (c: Buffer) => out.push(c));
    channel.stream.on('error', () => {});
    channel.stream.end(stdin);
    const timeoutMs = this.options.commandTimeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((res) => (timer = setTimeout(() => res('timeout'), timeoutMs)));
    const code = await Promise.race([channel.exit, timedOut]);
    clearTimeout(timer);
    const stdout = Buffer.concat(out).toString('utf8');
    if (code === 'timeout') {
      channel.stream.destroy();
      return { code: null, stdout, stderr: channel.stderr(), lost: new SshError('timeout', `no answer from ${this.who} to a command within ${timeoutMs / 1000} s`) };
    }
    const lost = code === null ? (session.closedReason ?? new SshError('closed', `connection to ${this.who} lost during a command`)) : undefined;
    return { code, stdout, stderr: channel.stderr(), ...(lost ? { lost } : {}) };
  }

  async snapshot(request: SnapshotRequest): Promise<HostSnapshot> {
    const nonce = `FLATNET${randomBytes(12).toString('hex')}`;
    const r = await this.exec('sh -s', snapshotScript(request, this.root, this.ssh.sudo, nonce));
    if (r.lost) throw new RemoteHostError(`reading ${this.host.name}: ${r.lost.message}`);
    if (r.code !== 0) throw new RemoteHostError(`reading ${this.host.name} (${this.who}) failed: sh exited ${r.code}: ${firstLine(r.stderr) || firstLine(r.stdout)}`);
    const sections = parseSections(r.stdout, nonce);
    const ipText = (key: string) => {
      const s = sections.get(key);
      if (!s) throw new RemoteHostError(`reading ${this.host.name} (${this.who}): no answer for ${key}`);
      if (s.status !== '0') {
        const why = firstLine(s.content);
        throw new RemoteHostError(/not found/i.test(why) ? `no \`ip\` on ${this.who} (iproute2 is needed): ${why}` : `\`ip -j\` failed on ${this.who}: ${why} (iproute2 4.15 or newer is needed for JSON output)`);
      }
      return s.content;
    };
    let links;
    try {
      links = parseLinks(ipText('ip:link'), ipText('ip:addr'), ipText('ip:route4'), ipText('ip:route6'));
    } catch (err) {
      if (err instanceof RemoteHostError) throw err;
      throw new RemoteHostError(`\`ip -j\` on ${this.who} printed no JSON (${(err as Error).message}): iproute2 4.15 or newer is needed`);
    }
    this.ipReads += 4;
    const files = new Map<string, string | undefined>();
    const symlinks = new Map<string, string | undefined>();
    const netif = new Map<number, string>();
    for (const [key, s] of sections) {
      if (key.startsWith('file:')) files.set(key.slice(5), s.status === '0' ? s.content : undefined);
      else if (key.startsWith('link:')) symlinks.set(key.slice(5), s.status === '0' ? s.content.replace(/\n$/, '') : undefined);
      else if (key.startsWith('netif:') && s.status === '0') netif.set(Number(key.slice(6)), s.content);
    }
    let privilege: string | undefined;
    const priv = this.ssh.sudo ? sections.get('priv') : sections.get('uid');
    if (this.ssh.sudo) {
      if (priv?.status !== '0') {
        const why = firstLine(priv?.content ?? '');
        privilege = SUDO_PASSWORD.test(why) ? this.sudoMessage() : /not found/i.test(why) ? `sudo: true, but there is no sudo on ${this.who}: log in as root instead` : `sudo -n true failed on ${this.who}: ${why}`;
      }
    } else if (priv?.content.trim() !== '0') {
      privilege = `${this.ssh.user} is not root on ${this.who}: changing links, Docker networks and /etc needs root; set hosts.${this.host.name}.sudo: true (passwordless sudo -n) or log in as root`;
    }
    const noVlan = parseVlanProbe(sections.get('vlan')?.content ?? '');
    const docker = sections.get('docker');
    const dockerMissing = docker?.status !== '0' ? `no docker on ${this.who}: \`docker\` is not on the PATH of ${this.ssh.user} there (flatnet speaks to Docker through \`docker system dial-stdio\`)` : undefined;
    return {
      links,
      files,
      symlinks,
      netif,
      networkManager: sections.has('nm'),
      systemd: this.root === '/' && sections.has('systemd'),
      ...(noVlan !== undefined ? { noVlan } : {}),
      ...(privilege !== undefined || dockerMissing !== undefined ? { privilege: [privilege, dockerMissing].filter(Boolean).join('; ') } : {}),
    };
  }

  async run(ops: readonly HostOp[]): Promise<void> {
    if (ops.length === 0) return;
    const nonce = `FLATNET${randomBytes(12).toString('hex')}`;
    let r;
    try {
      r = await this.exec(`${this.priv}sh -s`, opsScript(ops, this.root, nonce));
    } catch (err) {
      throw new HostOpsError(`${(err as Error).message}`, 0, true);
    }
    const done = opsDone(r.stdout, nonce);
    if (r.lost) throw new HostOpsError(`${r.lost.message} (whether that step was made is unknown)`, done, true);
    if (r.code !== 0) {
      const why = firstLine(r.stderr.split('\n').reverse().join('\n')) || `exit ${r.code}`;
      throw new HostOpsError(SUDO_PASSWORD.test(why) ? this.sudoMessage() : why, done);
    }
    if (done < ops.length) throw new HostOpsError(`${this.who} stopped after ${done} of ${ops.length} steps without an error`, done);
  }

  stats(): TransportStats {
    return { ipReads: this.ipReads, channels: this.session?.stats.channels ?? 0, connections: this.session ? 1 : 0 };
  }

  connectionLost(): boolean {
    return this.session?.closedReason !== undefined;
  }

  close(): void {
    this.agent?.destroy();
    for (const c of this.channels) c.stream.destroy();
    this.session?.close();
  }
}

/** `~/x` as the user means it. */
function expandHome(path: string, env: NodeJS.ProcessEnv): string {
  return path.startsWith('~/') ? `${env.HOME ?? '/root'}${path.slice(1)}` : path;
}

/** An exec channel with the few socket methods Node's http and its Agent call on a connection. */
function socketLike(channel: OpenChannel): unknown {
  const s = channel.stream as unknown as Record<string, unknown> & NodeJS.EventEmitter;
  let timer: NodeJS.Timeout | undefined;
  s.setTimeout = (ms: number, cb?: () => void) => {
    clearTimeout(timer);
    if (cb) s.once('timeout', cb);
    if (ms > 0) timer = setTimeout(() => s.emit('timeout'), ms);
    return s;
  };
  s.setKeepAlive = () => s;
  s.setNoDelay = () => s;
  s.ref = () => s;
  s.unref = () => s;
  s.once('close', () => clearTimeout(timer));
  return s;
}
