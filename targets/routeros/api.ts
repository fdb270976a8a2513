// A small client for the RouterOS binary API (TCP 8728, api-ssl 8729), written here rather than taken from
// node-routeros/routeros-client: those are discontinued and have three confirmed bugs that hit us directly
// (a `!empty` reply kills the process, a sentence whose final zero byte arrives alone is lost, a reset leaves
// commands pending forever). The protocol is length-prefixed words; this module is only that protocol:
// sentences, tags, login, timeouts. It knows nothing of flatnet.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

export interface RosConnectOptions {
  host: string;
  port: number;
  user: string;
  /** never logged, never part of an error message */
  password: string;
  /** api-ssl: verify against `ca` (PEM, already read) or the file `caFile`, else the system CAs, unless insecure */
  tls?: { insecure: boolean; ca?: Buffer; caFile?: string };
  /** TCP (and TLS) connect plus login; default 10 s */
  connectTimeoutMs?: number;
  /** each command, from being sent to its `!done`; default 30 s */
  commandTimeoutMs?: number;
}

export type RosErrorKind = 'connect' | 'tls' | 'login' | 'timeout' | 'closed' | 'fatal' | 'trap' | 'protocol';

export class RosError extends Error {
  constructor(
    readonly kind: RosErrorKind,
    message: string,
    /** trap messages, for kind 'trap' (RouterOS may send several for one command) */
    readonly traps: readonly RosTrap[] = [],
  ) {
    super(message);
    this.name = 'RosError';
  }
}

export interface RosTrap {
  message: string;
  category?: number;
}

export interface RosReply {
  /** one entry per `!re` sentence */
  rows: Array<Record<string, string>>;
  /** `=ret=` of `!done` (the new `.id` after add) */
  ret?: string;
  /** the router answered `!empty` (RouterOS 7.18+, a print with no rows) */
  empty: boolean;
}

export interface RosStats {
  sentencesSent: number;
  sentencesReceived: number;
  bytesSent: number;
  bytesReceived: number;
  /** times the client started waiting with nothing in flight: the round trips a caller paid for */
  roundTrips: number;
}

// ---- word and sentence encoding -------------------------------------------------------------------------

export function encodeLength(len: number): Buffer {
  if (len < 0x80) return Buffer.from([len]);
  if (len < 0x4000) return Buffer.from([(len >> 8) | 0x80, len & 0xff]);
  if (len < 0x200000) return Buffer.from([(len >> 16) | 0xc0, (len >> 8) & 0xff, len & 0xff]);
  if (len < 0x10000000) return Buffer.from([(len >>> 24) | 0xe0, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = 0xf0;
  b.writeUInt32BE(len, 1);
  return b;
}

export function encodeSentence(words: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const w of words) {
    const bytes = Buffer.from(w, 'utf8');
    parts.push(encodeLength(bytes.length), bytes);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/**
 * Incremental decoder: feed it TCP chunks split at any byte, it returns every complete sentence. State is
 * only the unconsumed bytes, so a sentence's final zero byte arriving alone in the next chunk is handled
 * like any other byte.
 */
export class SentenceDecoder {
  private buffer: Buffer = Buffer.alloc(0);
  private words: string[] = [];

  push(chunk: Buffer): string[][] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const sentences: string[][] = [];
    let offset = 0;
    for (;;) {
      const header = decodeLength(this.buffer, offset);
      if (header === undefined) break;
      const [len, size] = header;
      if (this.buffer.length < offset + size + len) break;
      const start = offset + size;
      offset = start + len;
      if (len === 0) {
        sentences.push(this.words);
        this.words = [];
      } else {
        this.words.push(this.buffer.toString('utf8', start, start + len));
      }
    }
    this.buffer = this.buffer.subarray(offset);
    return sentences;
  }
}

/** [length, header size], or undefined when the header is not complete yet. */
function decodeLength(buf: Buffer, at: number): [number, number] | undefined {
  if (at >= buf.length) return undefined;
  const b = buf[at]!;
  const need = (n: number) => at + n <= buf.length;
  if ((b & 0x80) === 0) return [b, 1];
  if ((b & 0xc0) === 0x80) return need(2) ? [((b & 0x3f) << 8) | buf[at + 1]!, 2] : undefined;
  if ((b & 0xe0) === 0xc0) return need(3) ? [((b & 0x1f) << 16) | (buf[at + 1]! << 8) | buf[at + 2]!, 3] : undefined;
  if ((b & 0xf0) === 0xe0) return need(4) ? [((b & 0x0f) * 0x1000000) + (buf[at + 1]! << 16) + (buf[at + 2]! << 8) + buf[at + 3]!, 4] : undefined;
  if (b === 0xf0) return need(5) ? [buf.readUInt32BE(at + 1), 5] : undefined;
  throw new RosError('protocol', `unexpected control byte 0x${b.toString(16)} in the API stream`);
}

/** `=key=value` → [key, value]; the value may contain '='. */
function attribute(word: string): [string, string] | undefined {
  if (!word.startsWith('=')) return undefined;
  const eq = word.indexOf('=', 1);
  return eq < 0 ? [word.slice(1), ''] : [word.slice(1, eq), word.slice(eq + 1)];
}

// ---- the client ----------------------------------------------------------------------------------------

interface Pending {
  command: string;
  rows: Array<Record<string, string>>;
  traps: RosTrap[];
  empty: boolean;
  timer: NodeJS.Timeout;
  resolve: (r: RosReply) => void;
  reject: (e: RosError) => void;
}

export class RosClient {
  readonly stats: RosStats = { sentencesSent: 0, sentencesReceived: 0, bytesSent: 0, bytesReceived: 0, roundTrips: 0 };
  private readonly decoder = new SentenceDecoder();
  private readonly pending = new Map<string, Pending>();
  private nextTag = 1;
  private closedWith?: RosError;
  private outbox: Buffer[] = [];

  private constructor(
    private readonly socket: net.Socket,
    private readonly where: string,
    private readonly commandTimeoutMs: number,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) =>
      this.fail(new RosError('closed', err.code === 'ECONNRESET' ? `connection to ${where} was reset` : `connection to ${where} failed: ${err.message}`)),
    );
    socket.on('close', () => this.fail(new RosError('closed', `connection to ${where} was closed by the router`)));
  }

  /** Connects and logs in; every failure is one RosError with one readable line. */
  static async connect(options: RosConnectOptions): Promise<RosClient> {
    const where = `${options.host}:${options.port}`;
    // one budget for connect and login together; timers cannot exceed 2^31-1 ms
    const connectTimeoutMs = Math.min(options.connectTimeoutMs ?? 10_000, 2_147_483_647);
    const started = Date.now();
    const socket = await openSocket(options, where, connectTimeoutMs);
    const client = new RosClient(socket, where, Math.min(options.commandTimeoutMs ?? 30_000, 2_147_483_647));
    const left = Math.max(0, connectTimeoutMs - (Date.now() - started));
    const deadline = setTimeout(() => client.fail(new RosError('timeout', `no answer from ${where} to login within ${connectTimeoutMs / 1000} s`)), left);
    try {
      await client.login(options.user, options.password);
      return client;
    } catch (err) {
      client.close();
      throw err;
    } finally {
      clearTimeout(deadline);
    }
  }

  private async login(user: string, password: string): Promise<void> {
    let reply: RosReply;
    try {
      reply = await this.command(['/login', `=name=${user}`, `=password=${password}`]);
    } catch (err) {
      if (err instanceof RosError && err.kind === 'trap') {
        throw new RosError('login', `login to ${this.where} as "${user}" refused: ${err.traps[0]?.message ?? 'no reason given'}`);
      }
      throw err;
    }
    // RouterOS before 6.43 answers with a challenge instead
    if (reply.ret !== undefined && /^[0-9a-f]{32}$/i.test(reply.ret)) {
      const md5 = createHash('md5').update(Buffer.from([0])).update(password, 'utf8').update(Buffer.from(reply.ret, 'hex')).digest('hex');
      try {
        await this.command(['/login', `=name=${user}`, `=response=00${md5}`]);
      } catch (err) {
        if (err instanceof RosError && err.kind === 'trap') throw new RosError('login', `login to ${this.where} as "${user}" refused: ${err.traps[0]?.message ?? 'no reason given'}`);
        throw err;
      }
    }
  }

  /**
   * Sends one command (path first, then `=attr=value` and `?query` words) and resolves at its `!done`.
   * Commands sent without awaiting go out together and are answered by tag, in any order. A `!trap`
   * rejects with every trap message of the command.
   */
  command(words: readonly string[]): Promise<RosReply> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const tag = String(this.nextTag++);
    const command = words[0] ?? '';
    return new Promise<RosReply>((resolve, reject) => {
      if (this.pending.size === 0 && this.outbox.length === 0) this.stats.roundTrips++;
      const timer = setTimeout(
        () => this.fail(new RosError('timeout', `no answer from ${this.where} to ${command} within ${this.commandTimeoutMs / 1000} s`)),
        this.commandTimeoutMs,
      );
      this.pending.set(tag, { command, rows: [], traps: [], empty: false, timer, resolve, reject });
      const bytes = encodeSentence([...words, `.tag=${tag}`]);
      this.stats.sentencesSent++;
      this.stats.bytesSent += bytes.length;
      // Commands issued in the same tick leave in one write (one TCP segment where they fit).
      if (this.outbox.push(bytes) === 1) queueMicrotask(() => this.flush());
    });
  }

  private flush(): void {
    if (this.outbox.length === 0 || this.closedWith) return;
    const data = Buffer.concat(this.outbox);
    this.outbox = [];
    this.socket.write(data);
  }

  /** Ends the connection; commands still pending are rejected. */
  close(): void {
    this.fail(new RosError('closed', `connection to ${this.where} closed`));
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  private fail(error: RosError): void {
    if (this.closedWith) return;
    this.closedWith = error;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new RosError(error.kind, `${error.message} (while waiting for ${p.command})`));
    }
    this.pending.clear();
    this.outbox = [];
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.stats.bytesReceived += chunk.length;
    let sentences: string[][];
    try {
      sentences = this.decoder.push(chunk);
    } catch (err) {
      this.fail(err instanceof RosError ? err : new RosError('protocol', String(err)));
      return;
    }
    for (const s of sentences) {
      this.stats.sentencesReceived++;
      this.onSentence(s);
      if (this.closedWith) return;
    }
  }

  private onSentence(words: string[]): void {
    const type = words[0];
    if (type === '!fatal') {
      // untagged; the router closes the connection after it
      this.fail(new RosError('fatal', `${this.where} ended the session: ${words.slice(1).join(' ') || 'no reason given'}`));
      return;
    }
    let tag: string | undefined;
    const attrs: Record<string, string> = {};
    for (const w of words.slice(1)) {
      if (w.startsWith('.tag=')) tag = w.slice(5);
      else {
        const kv = attribute(w);
        if (kv) attrs[kv[0]] = kv[1];
      }
    }
    const p = tag === undefined ? undefined : this.pending.get(tag);
    if (!p) return; // an answer nobody waits for (an unknown or untagged reply): ignored, never fatal
    switch (type) {
      case '!re':
        p.rows.push(attrs);
        break;
      case '!empty':
        p.empty = true;
        break;
      case '!trap':
        p.traps.push({ message: attrs.message ?? 'no message', ...(attrs.category !== undefined ? { category: Number(attrs.category) } : {}) });
        break;
      case '!done':
        clearTimeout(p.timer);
        this.pending.delete(tag!);
        if (p.traps.length > 0) p.reject(new RosError('trap', p.traps.map((t) => t.message).join('; '), p.traps));
        else p.resolve({ rows: p.rows, empty: p.empty, ...(attrs.ret !== undefined ? { ret: attrs.ret } : {}) });
        break;
      default:
        break; // unknown reply types are ignored rather than fatal
    }
  }
}

function openSocket(options: RosConnectOptions, where: string, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    let socket: net.Socket;
    const fail = (err: RosError) => {
      clearTimeout(timer);
      socket?.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(new RosError('timeout', `cannot connect to ${where}: no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    const ready = () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    };
    if (options.tls) {
      let ca: Buffer | undefined = options.tls.ca;
      if (ca === undefined && options.tls.caFile !== undefined) {
        try {
          ca = readFileSync(options.tls.caFile);
        } catch (err) {
          clearTimeout(timer);
          reject(new RosError('tls', `cannot read the CA file ${options.tls.caFile} (${(err as NodeJS.ErrnoException).code ?? String(err)})`));
          return;
        }
      }
      socket = tls.connect({
        host: options.host,
        port: options.port,
        rejectUnauthorized: !options.tls.insecure,
        ...(ca ? { ca } : {}),
        ...(net.isIP(options.host) ? {} : { servername: options.host }),
      });
      socket.once('secureConnect', ready);
    } else {
      socket = net.connect({ host: options.host, port: options.port });
      socket.once('connect', ready);
    }
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const tlsProblem = /certificate|self.signed|CERT_|SSL|TLS/i.test(`${err.code ?? ''} ${err.message}`);
      if (tlsProblem) {
        fail(new RosError('tls', `TLS to ${where} refused: ${err.message} (use a CA file with ca-file, or tls-insecure: true to skip verification)`));
      } else {
        fail(new RosError('connect', `cannot connect to ${where}: ${err.code === 'ECONNREFUSED' ? 'connection refused (is the API service enabled on that port?)' : err.message}`));
      }
    });
  });
}
