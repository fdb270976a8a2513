// Protocol tests of our RouterOS API client (targets/routeros/api.ts): word/sentence codec, the client
// against the fake RouterOS server (pipelining, !empty, fragmentation, traps, !fatal, resets, login), and
// against raw servers on 127.0.0.1 that never answer (timeouts) or speak TLS. Every socket here is on
// 127.0.0.1.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { encodeLength, encodeSentence, RosClient, RosError, SentenceDecoder, type RosConnectOptions } from '../targets/routeros/api.js';
import { FakeRouterOS, type FakeRouterOptions } from './fakes/routeros-fake.js';

const HOST = '127.0.0.1';
const USER = 'admin';
const PASSWORD = 'Pa55=w0rd"unique-9f3k';

// ---- helpers -------------------------------------------------------------------------------------------

/** The RosError a promise rejects with; fails the test if it resolves or rejects with something else. */
async function rosError(p: Promise<unknown>): Promise<RosError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(RosError);
    return err as RosError;
  }
  throw new Error('expected a RosError, but the promise resolved');
}

/** Elapsed milliseconds of an awaited promise (resolved or rejected). */
async function timed<T>(p: Promise<T>): Promise<[number, PromiseSettledResult<T>]> {
  const t0 = performance.now();
  const [r] = await Promise.allSettled([p]);
  return [performance.now() - t0, r!];
}

function word(len: number): string {
  return 'abcdefghijklmnopqrstuvwxyz'.repeat(Math.ceil(len / 26)).slice(0, len);
}

const fakes: FakeRouterOS[] = [];
const clients: RosClient[] = [];
const servers: net.Server[] = [];
const sockets: net.Socket[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

async function startFake(options: FakeRouterOptions = {}): Promise<{ fake: FakeRouterOS; port: number }> {
  const fake = new FakeRouterOS({ user: USER, password: PASSWORD, ...options });
  fake.seedDefaults();
  fakes.push(fake);
  const port = await fake.start();
  return { fake, port };
}

async function connect(port: number, extra: Partial<RosConnectOptions> = {}): Promise<RosClient> {
  const c = await RosClient.connect({ host: HOST, port, user: USER, password: PASSWORD, connectTimeoutMs: 2_000, commandTimeoutMs: 2_000, ...extra });
  clients.push(c);
  return c;
}

/** A raw TCP server on 127.0.0.1; `onSocket` gets each accepted socket (tracked for afterEach). */
async function rawServer(onSocket: (s: net.Socket) => void = (s) => void s.resume()): Promise<{ server: net.Server; port: number; accepted: net.Socket[] }> {
  const accepted: net.Socket[] = [];
  const server = net.createServer((s) => {
    sockets.push(s);
    accepted.push(s);
    s.on('error', () => undefined);
    onSocket(s);
  });
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => resolve());
  });
  return { server, port: (server.address() as net.AddressInfo).port, accepted };
}

function closedP(s: net.Socket): Promise<void> {
  return new Promise((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve())));
}

// ---- 1. word lengths -----------------------------------------------------------------------------------

describe('encodeLength', () => {
  const cases: Array<[number, number[]]> = [
    [0, [0x00]],
    [0x7f, [0x7f]],
    [0x80, [0x80, 0x80]],
    [0x3fff, [0xbf, 0xff]],
    [0x4000, [0xc0, 0x40, 0x00]],
    [0x1fffff, [0xdf, 0xff, 0xff]],
    [0x200000, [0xe0, 0x20, 0x00, 0x00]],
    [0xfffffff, [0xef, 0xff, 0xff, 0xff]],
    [0x10000000, [0xf0, 0x10, 0x00, 0x00, 0x00]],
  ];
  for (const [len, bytes] of cases) {
    it(`encodes ${len.toString(16)} as ${bytes.length} byte(s)`, () => {
      expect([...encodeLength(len)]).toEqual(bytes);
    });
  }

  // every boundary up to 0x200000 (a 2 MiB word) round-trips through a real sentence
  it('ends a sentence at a zero length (0x0)', () => {
    expect(new SentenceDecoder().push(Buffer.concat([encodeSentence(['!re']), encodeSentence([])]))).toEqual([['!re'], []]);
  });

  for (const len of [1, 0x7f, 0x80, 0x3fff, 0x4000, 0x1fffff, 0x200000]) {
    it(`round-trips a word of length 0x${len.toString(16)} through SentenceDecoder`, () => {
      const big = word(len);
      const words = ['!re', big, '=x=y'];
      const bytes = encodeSentence(words);
      const header = encodeLength(len);
      expect(bytes.subarray(4, 4 + header.length)).toEqual(header);
      expect(bytes.length).toBe(4 + header.length + len + 5 + 1);
      const d = new SentenceDecoder();
      expect(d.push(bytes)).toEqual([words]);
      // and split right after the header and right before the terminator
      const d2 = new SentenceDecoder();
      expect(d2.push(bytes.subarray(0, 4 + header.length))).toEqual([]);
      expect(d2.push(bytes.subarray(4 + header.length, bytes.length - 1))).toEqual([]);
      expect(d2.push(bytes.subarray(bytes.length - 1))).toEqual([words]);
    });
  }

  it('decodes the 4- and 5-byte length forms (non-minimal encodings of a short word)', () => {
    const abc = Buffer.from('abc');
    const d = new SentenceDecoder();
    const four = Buffer.concat([Buffer.from([0x01, 0x21]), Buffer.from([0xe0, 0x00, 0x00, 0x03]), abc, Buffer.from([0])]);
    const five = Buffer.concat([Buffer.from([0x01, 0x21]), Buffer.from([0xf0, 0x00, 0x00, 0x00, 0x03]), abc, Buffer.from([0])]);
    expect(d.push(Buffer.concat([four, five]))).toEqual([['!', 'abc'], ['!', 'abc']]);
  });

  it('waits for the body of a 0xfffffff / 0x10000000 byte word instead of misreading the header', () => {
    for (const len of [0xfffffff, 0x10000000]) {
      const d = new SentenceDecoder();
      // header plus a terminator-looking zero: must be taken as the first body byte, not the end of a sentence
      expect(d.push(Buffer.concat([Buffer.from([0x02, 0x21, 0x72]), encodeLength(len), Buffer.alloc(64)]))).toEqual([]);
    }
  });

  it('refuses a reserved control byte with kind protocol', () => {
    const d = new SentenceDecoder();
    let err: unknown;
    try {
      d.push(Buffer.from([0xf8]));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RosError);
    expect((err as RosError).kind).toBe('protocol');
  });
});

// ---- 2. the decoder against arbitrary TCP chunking ------------------------------------------------------

describe('SentenceDecoder', () => {
  const sentences: string[][] = [
    ['!re', '=.id=*1', '=name=ether1', '=comment=x=y', '.tag=1'],
    ['!re', `=comment=${word(200)}`, '=note=ünïcödé ✓', '.tag=1'],
    ['!empty', '.tag=2'],
    ['!done', '.tag=1'],
    ['!trap', '=message=no such command prefix', '=category=0', '.tag=3'],
    ['!done', '=ret=*1A', '.tag=3'],
    [`=${word(0x90)}`, '=x='],
    ['!fatal', 'session terminated on request'],
  ];
  const stream = Buffer.concat(sentences.map((s) => encodeSentence(s)));

  it('decodes the stream in one chunk', () => {
    expect(new SentenceDecoder().push(stream)).toEqual(sentences);
  });

  it('gives the same sentences when the stream is split in two at every byte position', () => {
    for (let i = 0; i <= stream.length; i++) {
      const d = new SentenceDecoder();
      const got = [...d.push(stream.subarray(0, i)), ...d.push(stream.subarray(i))];
      if (got.length !== sentences.length || JSON.stringify(got) !== JSON.stringify(sentences)) {
        expect(got, `split at byte ${i}`).toEqual(sentences); // report the first failing split only
      }
    }
  });

  it('splits a word with a 3-byte length header anywhere near its header and end', () => {
    const three = [['!re', `=${word(0x4000 + 5)}`, '.tag=1'], ['!done', '.tag=1']];
    const bytes = Buffer.concat(three.map((x) => encodeSentence(x)));
    const at = new Set<number>();
    for (let i = 0; i <= 40; i++) at.add(i).add(bytes.length - i);
    for (let i = 0; i < bytes.length; i += 997) at.add(i);
    for (const i of at) {
      const d = new SentenceDecoder();
      expect([...d.push(bytes.subarray(0, i)), ...d.push(bytes.subarray(i))], `split at byte ${i}`).toEqual(three);
    }
  });

  it('gives the same sentences byte by byte, each sentence exactly when its zero byte arrives', () => {
    const d = new SentenceDecoder();
    const got: string[][] = [];
    const ends: number[] = [];
    for (let i = 0; i < stream.length; i++) {
      const out = d.push(stream.subarray(i, i + 1));
      if (out.length > 0) ends.push(i);
      got.push(...out);
    }
    expect(got).toEqual(sentences);
    // sentence k completes at the last byte of its encoding
    let at = -1;
    const expected = sentences.map((s) => (at += encodeSentence(s).length));
    expect(ends).toEqual(expected);
  });

  it('flushes a sentence whose final zero byte arrives alone', () => {
    const d = new SentenceDecoder();
    const one = encodeSentence(['!done', '.tag=9']);
    expect(d.push(one.subarray(0, one.length - 1))).toEqual([]);
    expect(d.push(Buffer.from([0]))).toEqual([['!done', '.tag=9']]);
    // and the decoder is clean afterwards
    expect(d.push(encodeSentence(['!re', '=a=b']))).toEqual([['!re', '=a=b']]);
  });
});

// ---- 3. the client against the fake RouterOS -------------------------------------------------------------

describe('RosClient against the fake RouterOS', () => {
  it('pipelines 50 prints in one round trip, each answered with its own rows', async () => {
    const { fake, port } = await startFake({ tagPosition: 'random' });
    const c = await connect(port);
    const before = { ...c.stats };
    const names = Array.from({ length: 50 }, (_, i) => `ether${(i % 5) + 1}`);
    const replies = await Promise.all(names.map((n) => c.command(['/interface/print', `?name=${n}`, '=.proplist=.id,name,type'])));
    expect(c.stats.roundTrips - before.roundTrips).toBe(1);
    expect(c.stats.sentencesSent - before.sentencesSent).toBe(50);
    expect(c.stats.sentencesReceived - before.sentencesReceived).toBe(100); // one !re and one !done each
    replies.forEach((r, i) => {
      const n = Number(names[i]!.slice(5));
      expect(r).toEqual({ rows: [{ '.id': `*${n}`, name: names[i], type: 'ether' }], empty: false });
    });
    expect(fake.log).toHaveLength(50);
    // tags are unique per command
    expect(new Set(fake.log.map((e) => e.tag)).size).toBe(50);
    // a following awaited command is a new round trip
    await c.command(['/system/resource/print']);
    expect(c.stats.roundTrips - before.roundTrips).toBe(2);
  });

  it('answers a print with !empty as rows [] and empty true, and returns ret of an add', async () => {
    const { fake, port } = await startFake();
    const c = await connect(port);
    expect(await c.command(['/ip/address/print', '?comment=nothing'])).toEqual({ rows: [], empty: true });
    const add = await c.command(['/interface/list/add', '=name=X', '=comment=a=b']);
    expect(add.rows).toEqual([]);
    expect(add.empty).toBe(false);
    expect(add.ret).toMatch(/^\*[0-9A-F]+$/);
    expect(fake.rows('/interface/list').find((r) => r.name === 'X')).toMatchObject({ '.id': add.ret, comment: 'a=b' });
    fake.options.emptyReplies = false;
    expect(await c.command(['/ip/address/print', '?comment=nothing'])).toEqual({ rows: [], empty: false });
  });

  it('gives identical results when every byte arrives alone and tags are anywhere in the sentence', async () => {
    const cmds: string[][] = [
      ['/ip/firewall/filter/print'],
      ['/interface/print', '?type=ether'],
      ['/ip/address/print', '?comment=nothing'],
      ['/system/resource/print'],
    ];
    const plain = await startFake();
    const a = await connect(plain.port);
    const expected = await Promise.all(cmds.map((w) => a.command(w)));
    const trapA = await rosError(a.command(['/nope/print']));

    const odd = await startFake({ fragment: 1, tagPosition: 'random' });
    const b = await connect(odd.port);
    const got = await Promise.all(cmds.map((w) => b.command(w)));
    const trapB = await rosError(b.command(['/nope/print']));
    expect(got).toEqual(expected);
    expect(expected[0]!.rows).toHaveLength(11);
    expect(trapB.traps).toEqual(trapA.traps);
    // same bytes on the wire, only cut differently and with tags moved
    expect(b.stats.bytesReceived).toBe(a.stats.bytesReceived);
  });

  it('rejects an unknown menu with kind trap carrying both !trap messages', async () => {
    const { port } = await startFake();
    const c = await connect(port);
    const err = await rosError(c.command(['/nope/print']));
    expect(err.kind).toBe('trap');
    expect(err.traps).toEqual([
      { message: 'no such command prefix', category: 0 },
      { message: 'no such command', category: 0 },
    ]);
    expect(err.message).toContain('no such command prefix');
    expect(err.message).toContain('no such command');
    // a trap does not end the session
    expect((await c.command(['/system/resource/print'])).rows).toHaveLength(1);
    expect(c.closed).toBe(false);
  });

  it('rejects the pending command with kind fatal at !fatal, and later commands at once', async () => {
    const { port } = await startFake({ fatalAtChange: 1 });
    const c = await connect(port);
    const [ms, r] = await timed(c.command(['/interface/list/add', '=name=X']));
    expect(r.status).toBe('rejected');
    const err = (r as PromiseRejectedResult).reason as RosError;
    expect(err).toBeInstanceOf(RosError);
    expect(err.kind).toBe('fatal');
    expect(err.message).toContain('session terminated on request');
    expect(ms).toBeLessThan(3_000);
    expect(c.closed).toBe(true);
    const [ms2, r2] = await timed(c.command(['/system/resource/print']));
    expect(r2.status).toBe('rejected');
    expect(((r2 as PromiseRejectedResult).reason as RosError).kind).toBe('fatal');
    expect(ms2).toBeLessThan(1_000);
  });

  it('rejects every pending command with kind closed when the router resets the connection', async () => {
    const { port } = await startFake({ dropAtChange: 1 });
    const c = await connect(port);
    const pending = [
      c.command(['/interface/list/add', '=name=X']),
      c.command(['/ip/address/print']),
      c.command(['/interface/print']),
    ];
    const [ms, results] = await timed(Promise.allSettled(pending));
    expect(ms).toBeLessThan(5_000);
    const settled = (results as PromiseFulfilledResult<PromiseSettledResult<unknown>[]>).value;
    for (const r of settled) {
      expect(r.status).toBe('rejected');
      const err = (r as PromiseRejectedResult).reason as RosError;
      expect(err).toBeInstanceOf(RosError);
      expect(err.kind).toBe('closed');
    }
    expect(c.closed).toBe(true);
    expect((await rosError(c.command(['/ip/address/print']))).kind).toBe('closed');
  });

  it('refuses a wrong password with kind login, without the password in the message', async () => {
    const { port } = await startFake();
    const wrong = 'not-the-Pa55word-7x1';
    const err = await rosError(RosClient.connect({ host: HOST, port, user: USER, password: wrong, connectTimeoutMs: 2_000 }));
    expect(err.kind).toBe('login');
    expect(err.message).toContain('invalid user name or password');
    expect(err.message).toContain(USER);
    expect(err.message).not.toContain(wrong);
    expect(String(err.stack)).not.toContain(wrong);
    expect(JSON.stringify(err)).not.toContain(wrong);
  });

  it('refuses a closed port with kind connect, saying connection refused', async () => {
    const s = net.createServer();
    await new Promise<void>((resolve) => s.listen(0, HOST, () => resolve()));
    const port = (s.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    const err = await rosError(RosClient.connect({ host: HOST, port, user: USER, password: PASSWORD, connectTimeoutMs: 2_000 }));
    expect(err.kind).toBe('connect');
    expect(err.message).toContain('connection refused');
    expect(err.message).toContain(`${HOST}:${port}`);
    expect(err.message).not.toContain(PASSWORD);
  });
});

// ---- 4. timeouts and garbage, against raw servers ---------------------------------------------------------

/** Answers each tagged sentence with `!done` (same tag) while `answer` returns true for it. */
function answering(answer: (words: string[], n: number) => boolean): (s: net.Socket) => void {
  return (s) => {
    const d = new SentenceDecoder();
    let n = 0;
    s.on('data', (chunk: Buffer) => {
      for (const words of d.push(chunk)) {
        if (!answer(words, n++)) continue;
        const tag = words.find((w) => w.startsWith('.tag='));
        s.write(encodeSentence(['!done', ...(tag ? [tag] : [])]));
      }
    });
  };
}

describe('RosClient timeouts', () => {
  it('times out a login that is never answered after connectTimeoutMs, and closes the socket', async () => {
    const { port, accepted } = await rawServer();
    const [ms, r] = await timed(RosClient.connect({ host: HOST, port, user: USER, password: PASSWORD, connectTimeoutMs: 300 }));
    expect(r.status).toBe('rejected');
    const err = (r as PromiseRejectedResult).reason as RosError;
    expect(err).toBeInstanceOf(RosError);
    expect(err.kind).toBe('timeout');
    expect(err.message).not.toContain(PASSWORD);
    expect(ms).toBeGreaterThanOrEqual(250);
    expect(ms).toBeLessThan(3_000);
    expect(accepted).toHaveLength(1);
    await closedP(accepted[0]!); // the client hung up
  });

  it('times out a command that is never answered after commandTimeoutMs, and fails the connection', async () => {
    const { port, accepted } = await rawServer(answering((words) => words[0] === '/login'));
    const c = await connect(port, { commandTimeoutMs: 300 });
    const [ms, r] = await timed(c.command(['/ip/address/print']));
    expect(r.status).toBe('rejected');
    const err = (r as PromiseRejectedResult).reason as RosError;
    expect(err).toBeInstanceOf(RosError);
    expect(err.kind).toBe('timeout');
    expect(err.message).toContain('/ip/address/print');
    expect(ms).toBeGreaterThanOrEqual(250);
    expect(ms).toBeLessThan(3_000);
    expect(c.closed).toBe(true);
    expect((await rosError(c.command(['/ip/address/print']))).kind).toBe('timeout');
    await closedP(accepted[0]!);
  });

  it('times out a TLS handshake that is never answered after connectTimeoutMs', async () => {
    const { port, accepted } = await rawServer();
    const [ms, r] = await timed(RosClient.connect({ host: HOST, port, user: USER, password: PASSWORD, tls: { insecure: true }, connectTimeoutMs: 300 }));
    expect(r.status).toBe('rejected');
    const err = (r as PromiseRejectedResult).reason as RosError;
    expect(err).toBeInstanceOf(RosError);
    expect(err.kind).toBe('timeout');
    expect(err.message).toContain(`${HOST}:${port}`);
    expect(ms).toBeGreaterThanOrEqual(250);
    expect(ms).toBeLessThan(3_000);
    await closedP(accepted[0]!);
  });

  it('does not time out a command answered in time (the timer is per command, cleared at !done)', async () => {
    const { port } = await rawServer(answering(() => true));
    const c = await connect(port, { commandTimeoutMs: 300 });
    for (let i = 0; i < 3; i++) {
      await c.command(['/ip/address/print']);
      await new Promise((r) => setTimeout(r, 150));
    }
    await new Promise((r) => setTimeout(r, 250));
    expect(c.closed).toBe(false);
    expect(await c.command(['/ip/address/print'])).toEqual({ rows: [], empty: false });
  });

  it('fails pending commands with kind protocol on a reserved control byte', async () => {
    const { port, accepted } = await rawServer(answering((words) => words[0] === '/login'));
    const c = await connect(port);
    const p = c.command(['/ip/address/print']);
    accepted[0]!.write(Buffer.from([0xf8, 0x00]));
    const [ms, r] = await timed(p);
    expect(r.status).toBe('rejected');
    expect(((r as PromiseRejectedResult).reason as RosError).kind).toBe('protocol');
    expect(ms).toBeLessThan(3_000);
  });
});

// ---- 5. api-ssl --------------------------------------------------------------------------------------------

/** A self-signed certificate for 127.0.0.1, or why there is none (no openssl here). */
const tlsDir = mkdtempSync(join(tmpdir(), 'ros-api-tls-'));
const tlsMaterial = ((): { key: Buffer; cert: Buffer; certFile: string } | undefined => {
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
        '-keyout', join(tlsDir, 'k.pem'), '-out', join(tlsDir, 'c.pem')],
      { stdio: 'ignore', timeout: 10_000 },
    );
    return { key: readFileSync(join(tlsDir, 'k.pem')), cert: readFileSync(join(tlsDir, 'c.pem')), certFile: join(tlsDir, 'c.pem') };
  } catch {
    return undefined;
  }
})();
const noOpenssl = tlsMaterial === undefined;
if (noOpenssl) console.warn('routeros-api.test: TLS tests SKIPPED: the openssl command is missing or cannot make a self-signed certificate');
afterAll(() => rmSync(tlsDir, { recursive: true, force: true }));

describe('RosClient over TLS (skipped when openssl cannot make a test certificate)', () => {
  async function tlsFake(): Promise<number> {
    return (await startFake({ tls: { key: tlsMaterial!.key, cert: tlsMaterial!.cert } })).port;
  }

  it.skipIf(noOpenssl)(`refuses a self-signed certificate by default with kind tls${noOpenssl ? ' (skipped: no openssl to make a test certificate)' : ''}`, async () => {
    const port = await tlsFake();
    const err = await rosError(RosClient.connect({ host: HOST, port, user: USER, password: PASSWORD, tls: { insecure: false }, connectTimeoutMs: 2_000 }));
    expect(err.kind).toBe('tls');
    expect(err.message).toMatch(/self[- ]signed/i);
    expect(err.message).toContain('ca-file');
    expect(err.message).not.toContain(PASSWORD);
  });

  it.skipIf(noOpenssl)(`connects with insecure: true${noOpenssl ? ' (skipped: no openssl to make a test certificate)' : ''}`, async () => {
    const port = await tlsFake();
    const c = await connect(port, { tls: { insecure: true } });
    expect((await c.command(['/system/resource/print'])).rows[0]).toMatchObject({ 'board-name': 'hAP ax^2' });
    expect(await c.command(['/ip/pool/print', '?name=none'])).toEqual({ rows: [], empty: true });
  });

  it.skipIf(noOpenssl)(`verifies against caFile (the certificate itself)${noOpenssl ? ' (skipped: no openssl to make a test certificate)' : ''}`, async () => {
    const port = await tlsFake();
    const c = await connect(port, { tls: { insecure: false, caFile: tlsMaterial!.certFile } });
    expect((await c.command(['/interface/print', '?name=ether1'])).rows).toHaveLength(1);
  });

  it.skipIf(noOpenssl)(`fails promptly (closed or timeout, no hang) when plain API is spoken to the TLS port${noOpenssl ? ' (skipped: no openssl to make a test certificate)' : ''}`, async () => {
    const port = await tlsFake();
    // plain API words to a TLS server: the server drops the connection on the bogus handshake
    const [ms, r] = await timed(RosClient.connect({ host: HOST, port, user: USER, password: PASSWORD, connectTimeoutMs: 500 }));
    expect(r.status).toBe('rejected');
    expect(['closed', 'timeout']).toContain(((r as PromiseRejectedResult).reason as RosError).kind);
    expect(ms).toBeLessThan(4_000);
  });

  it('refuses a missing caFile with kind tls, naming the file', async () => {
    const missing = join(tlsDir, 'does-not-exist.pem');
    // no server needed: the CA file is read before connecting (a closed port would otherwise say connect)
    const err = await rosError(RosClient.connect({ host: HOST, port: 1, user: USER, password: PASSWORD, tls: { insecure: false, caFile: missing }, connectTimeoutMs: 1_000 }));
    expect(err.kind).toBe('tls');
    expect(err.message).toContain('cannot read the CA file');
    expect(err.message).toContain(missing);
    expect(err.message).toContain('ENOENT');
  });
});
