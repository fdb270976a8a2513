// SSH to a device (an OpenWrt router or switch, a Docker host) with node-ssh (ssh2 underneath), made safe to
// trust: the host key is checked before any command (pinned fingerprint, else known_hosts; unknown or changed
// keys are refused), every step has a timeout, a reset is an error rather than an uncaught exception, and a
// command's exit status must be 0 to count as success (node-ssh reports a command cut off by a reset as code
// null). One connection carries everything: commands (`run`, one exec channel each) and long-lived streams
// (`openChannel`, e.g. `docker system dial-stdio` under Node's http); `stats` counts both.
import { createHash, createHmac } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Duplex, Readable } from 'node:stream';
import type { NodeSSH } from 'node-ssh';

export interface SshOptions {
  /** the device's place in the spec (`routers.<name>`, `switches.<name>`, `hosts.<name>`), for messages that name the spec path */
  specPath?: string;
  /** older spelling of specPath for a router: `routers.<routerName>` */
  routerName?: string;
  /** what the device is called in messages (default "router") */
  deviceWord?: string;
  /** how to read the device's own key fingerprint, for the unknown-key message (default: OpenWrt's dropbear key) */
  fingerprintHint?: string;
  host: string;
  port: number;
  user: string;
  /** private key file; else the SSH agent (SSH_AUTH_SOCK) or the password */
  keyFile?: string;
  password?: string;
  /** `SHA256:…` as `ssh-keygen -lf` prints it: when given, the only key accepted */
  hostKey?: string;
  /** default ~/.ssh/known_hosts */
  knownHostsFile: string;
  /** record an unknown key in known_hosts instead of refusing it (never a changed one) */
  acceptNewHostKey?: boolean;
  agentSocket?: string;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
}

export class SshError extends Error {
  constructor(
    readonly kind: 'host-key' | 'connect' | 'auth' | 'timeout' | 'closed' | 'command',
    message: string,
  ) {
    super(message);
    this.name = 'SshError';
  }
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `SHA256:<base64 without padding>` of a public key blob, as OpenSSH prints fingerprints. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named inside an SSH public key blob (a length-prefixed string first). */
function keyType(key: Buffer): string {
  const len = key.readUInt32BE(0);
  return key.subarray(4, 4 + len).toString('latin1');
}

/** known_hosts names a non-default port as `[host]:port`. */
const hostPattern = (host: string, port: number) => (port === 22 ? host : `[${host}]:${port}`);

function hostMatches(field: string, name: string): boolean {
  for (const entry of field.split(',')) {
    if (entry.startsWith('|1|')) {
      // hashed entry: |1|base64(salt)|base64(HMAC-SHA1(salt, name))
      const [, , salt, hash] = entry.split('|');
      if (salt && hash && createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash) return true;
    } else if (entry === name) return true;
  }
  return false;
}

/** Keys known for host:port: [type, blob] pairs from known_hosts (markers such as @revoked are skipped). */
export function knownKeys(file: string, host: string, port: number): Array<{ type: string; key: Buffer }> {
  if (!existsSync(file)) return [];
  const name = hostPattern(host, port);
  const out: Array<{ type: string; key: Buffer }> = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const t = line.trim();
    if (t === '' || t.startsWith('#') || t.startsWith('@')) continue;
    const [hosts, type, blob] = t.split(/\s+/);
    if (!hosts || !type || !blob || !hostMatches(hosts, name)) continue;
    out.push({ type, key: Buffer.from(blob, 'base64') });
  }
  return out;
}

const specPathOf = (options: SshOptions) => options.specPath ?? `routers.${options.routerName ?? '<name>'}`;

/** Decides on a host key: undefined to accept, or the reason to refuse. Records a new key when allowed. */
function verifyHostKey(options: SshOptions, key: Buffer): string | undefined {
  const offered = fingerprint(key);
  const where = `${options.host}:${options.port}`;
  const device = options.deviceWord ?? 'router';
  if (options.hostKey !== undefined) {
    return offered === options.hostKey.replace(/=+$/, '')
      ? undefined
      : `host key of ${where} is ${offered}, not the pinned ${options.hostKey} (${specPathOf(options)}.host-key): refusing to connect (a reinstalled ${device}, or someone in between)`;
  }
  const known = knownKeys(options.knownHostsFile, options.host, options.port);
  const type = keyType(key);
  const sameType = known.filter((k) => k.type === type);
  if (sameType.some((k) => k.key.equals(key))) return undefined;
  if (sameType.length > 0) {
    return `HOST KEY CHANGED for ${where}: ${options.knownHostsFile} has ${fingerprint(sameType[0]!.key)}, the ${device} offers ${offered}; refusing to connect (remove the old line only if you know why it changed)`;
  }
  if (options.acceptNewHostKey) {
    mkdirSync(dirname(options.knownHostsFile), { recursive: true, mode: 0o700 });
    appendFileSync(options.knownHostsFile, `${hostPattern(options.host, options.port)} ${type} ${key.toString('base64')}\n`, { mode: 0o600 });
    return undefined;
  }
  return `host key of ${where} is not known: ${offered} (${type}); check it on the ${device} (${options.fingerprintHint ?? 'ssh-keygen -lf /etc/dropbear/dropbear_ed25519_host_key.pub or the console'}), then pin it with host-key: "${offered}" or run once with --accept-new-host-key`;
}

/** An exec channel of ssh2: a duplex of the command's stdin/stdout, with its stderr. */
export interface Ssh2Channel extends Duplex {
  stderr: Readable;
  on(event: 'exit', listener: (code: number | null, signal?: string) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
}

interface Ssh2Client {
  on(event: 'error' | 'close', listener: (err?: Error) => void): void;
  exec(command: string, callback: (err: Error | undefined, channel: Ssh2Channel) => void): boolean;
  end(): void;
}

/** Connections made by this process (every SshSession.connect that got through): for tests and benchmarks. */
export const sshCounters = { connections: 0 };

/** A long-lived command on the connection: its stream, its stderr so far, and its exit. */
export interface OpenChannel {
  stream: Ssh2Channel;
  /** stderr received so far (kept to the first 4 kB) */
  stderr(): string;
  /** resolves with the exit code (null when cut off) once the channel closes */
  exit: Promise<number | null>;
}

export class SshSession {
  private closedWith?: SshError;
  /** exec channels opened on this connection (`run` and `openChannel`) */
  readonly stats = { channels: 0 };
  private constructor(
    private readonly ssh: NodeSSH,
    private readonly where: string,
    private readonly commandTimeoutMs: number,
  ) {
    const connection = ssh.connection as unknown as Ssh2Client | null;
    // node-ssh drops its own error listener after connect: without ours a later reset would crash the process
    connection?.on('error', (err) => {
      this.closedWith ??= new SshError('closed', `connection to ${where} failed: ${err?.message ?? 'error'}`);
    });
    connection?.on('close', () => {
      this.closedWith ??= new SshError('closed', `connection to ${where} was closed`);
    });
  }

  static async connect(options: SshOptions): Promise<SshSession> {
    const where = `${options.host}:${options.port}`;
    // loaded on first use: ssh2 costs about 55 ms of start-up that plan/apply of other targets need not pay
    const { NodeSSH: Ssh } = await import('node-ssh');
    const ssh = new Ssh();
    let refused: string | undefined;
    const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    let privateKey: string | undefined;
    if (options.keyFile !== undefined) {
      try {
        privateKey = readFileSync(options.keyFile, 'utf8');
      } catch (err) {
        throw new SshError('auth', `${specPathOf(options)}.key-file: cannot read ${options.keyFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
    const attempt = ssh.connect({
      host: options.host,
      port: options.port,
      username: options.user,
      readyTimeout: connectTimeoutMs,
      ...(privateKey !== undefined ? { privateKey } : {}),
      ...(options.password !== undefined ? { password: options.password } : {}),
      ...(privateKey === undefined && options.password === undefined && options.agentSocket ? { agent: options.agentSocket } : {}),
      tryKeyboard: false,
      hostVerifier: (key: Buffer) => {
        refused = verifyHostKey(options, key);
        return refused === undefined;
      },
    } as Parameters<NodeSSH['connect']>[0]);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SshError('timeout', `cannot connect to ${where}: no answer within ${connectTimeoutMs / 1000} s`)), connectTimeoutMs + 1000);
    });
    try {
      await Promise.race([attempt, deadline]);
    } catch (err) {
      ssh.dispose();
      if (refused !== undefined) throw new SshError('host-key', refused);
      if (err instanceof SshError) throw err;
      const e = err as NodeJS.ErrnoException & { level?: string };
      if (e.level === 'client-authentication' || /authentication methods failed/i.test(e.message)) {
        throw new SshError('auth', `login to ${where} as "${options.user}" refused (key, agent or password not accepted)`);
      }
      if (/cannot parse privateKey|encrypted private key/i.test(e.message)) {
        throw new SshError('auth', `${specPathOf(options)}.key-file: ${options.keyFile} is not a private key that can be used (${e.message.replace(/^Cannot parse privateKey: /i, '')}); a passphrase-protected key goes through the SSH agent instead`);
      }
      if (e.code === 'ECONNREFUSED') throw new SshError('connect', `cannot connect to ${where}: connection refused (is SSH listening there?)`);
      if (/timed out/i.test(e.message)) throw new SshError('timeout', `cannot connect to ${where}: no answer within ${connectTimeoutMs / 1000} s`);
      throw new SshError('connect', `cannot connect to ${where}: ${e.message}`);
    } finally {
      clearTimeout(timer);
    }
    sshCounters.connections++;
    return new SshSession(ssh, where, options.commandTimeoutMs ?? 60_000);
  }

  /** host:port, for messages */
  get endpoint(): string {
    return this.where;
  }

  /** Why the connection is gone, when it is. */
  get closedReason(): SshError | undefined {
    return this.closedWith;
  }

  /** Opens one exec channel and hands back its stream (stdin/stdout) as it is: for a protocol spoken over it. */
  openChannel(command: string): Promise<OpenChannel> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const connection = this.ssh.connection as unknown as Ssh2Client | null;
    if (!connection) return Promise.reject(new SshError('closed', `connection to ${this.where} is not open`));
    this.stats.channels++;
    return new Promise((resolve, reject) => {
      try {
        connection.exec(command, (err, stream) => {
          if (err) {
            reject(new SshError('closed', `${this.where} refused a channel: ${err.message}`));
            return;
          }
          let stderr = '';
          stream.stderr.on('data', (c: Buffer) => {
            if (stderr.length < 4096) stderr += c.toString('utf8');
          });
          let code: number | null = null;
          stream.on('exit', (c: number | null) => (code = c));
          const exit = new Promise<number | null>((res) => stream.on('close', () => res(code)));
          resolve({ stream, stderr: () => stderr, exit });
        });
      } catch (err) {
        reject(new SshError('closed', `connection to ${this.where} lost: ${(err as Error).message}`));
      }
    });
  }

  /** Runs one command (stdin byte-exact when given); resolves with its exit code, never hangs. */
  async run(command: string, stdin?: string): Promise<CommandResult> {
    if (this.closedWith) throw this.closedWith;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.close();
        reject(new SshError('timeout', `no answer from ${this.where} to a command within ${this.commandTimeoutMs / 1000} s`));
      }, this.commandTimeoutMs);
    });
    this.stats.channels++;
    try {
      const r = await Promise.race([this.ssh.execCommand(command, { ...(stdin !== undefined ? { stdin } : {}), noTrim: true }), deadline]);
      if (r.code === null && this.closedWith) throw this.closedWith;
      return { code: r.code, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      if (err instanceof SshError) throw err;
      throw new SshError('closed', `connection to ${this.where} lost during a command: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.closedWith ??= new SshError('closed', `connection to ${this.where} closed`);
    this.ssh.dispose();
  }
}

export const defaultKnownHosts = (env: NodeJS.ProcessEnv) => join(env.HOME ?? '/root', '.ssh', 'known_hosts');
