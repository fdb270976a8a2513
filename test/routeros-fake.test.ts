import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeRouterOS, type FakeRouterOptions } from './fakes/routeros-fake.js';

// ---- a tiny raw API client (independent of the fake's own codec) ----------

function encodeWord(w: string): Buffer {
  const b = Buffer.from(w, 'utf8');
  const n = b.length;
  let head: Buffer;
  if (n < 0x80) head = Buffer.from([n]);
  else if (n < 0x4000) head = Buffer.from([(n >> 8) | 0x80, n & 0xff]);
  else if (n < 0x200000) head = Buffer.from([(n >> 16) | 0xc0, (n >> 8) & 0xff, n & 0xff]);
  else head = Buffer.from([((n >> 24) & 0x0f) | 0xe0, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
  return Buffer.concat([head, b]);
}

class RawClient {
  readonly chunks: number[] = [];
  private buf = Buffer.alloc(0);
  private cur: string[] = [];
  private queue: string[][] = [];
  private waiters: Array<(s: string[] | undefined) => void> = [];
  closed = false;
  readonly closedP: Promise<void>;

  constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.chunks.push(d.length);
      this.buf = Buffer.concat([this.buf, d]);
      this.parse();
    });
    socket.on('error', () => undefined);
    this.closedP = new Promise((resolve) => {
      socket.on('close', () => {
        this.closed = true;
        for (const w of this.waiters.splice(0)) w(undefined);
        resolve();
      });
    });
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  private parse(): void {
    for (;;) {
      const b = this.buf;
      if (b.length === 0) return;
      const c = b[0]!;
      let len: number;
      let hdr: number;
      if (c < 0x80) [len, hdr] = [c, 1];
      else if (c < 0xc0) [len, hdr] = [((c & 0x3f) << 8) | (b[1] ?? 0), 2];
      else if (c < 0xe0) [len, hdr] = [((c & 0x1f) << 16) | ((b[1] ?? 0) << 8) | (b[2] ?? 0), 3];
      else [len, hdr] = [((c & 0x0f) << 24) | ((b[1] ?? 0) << 16) | ((b[2] ?? 0) << 8) | (b[3] ?? 0), 4];
      if (b.length < hdr || b.length < hdr + len) return;
      const word = b.subarray(hdr, hdr + len).toString('utf8');
      this.buf = b.subarray(hdr + len);
      if (len === 0) {
        const s = this.cur;
        this.cur = [];
        const w = this.waiters.shift();
        if (w) w(s);
        else this.queue.push(s);
      } else this.cur.push(word);
    }
  }

  send(...words: string[]): void {
    this.socket.write(Buffer.concat([...words.map(encodeWord), Buffer.from([0])]));
  }

  next(): Promise<string[] | undefined> {
    const s = this.queue.shift();
    if (s) return Promise.resolve(s);
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Send a command and read sentences up to and including !done (or !fatal / close). */
  async talk(...words: string[]): Promise<string[][]> {
    this.send(...words);
    return this.until();
  }

  async until(): Promise<string[][]> {
    const out: string[][] = [];
    for (;;) {
      const s = await this.next();
      if (!s) return out;
      out.push(s);
      if (s[0] === '!done' || s[0] === '!fatal') return out;
    }
  }

  async login(user = 'admin', password = 'secret'): Promise<void> {
    const r = await this.talk('/login', `=name=${user}`, `=password=${password}`);
    expect(r).toEqual([['!done']]);
  }

  close(): void {
    this.socket.destroy();
  }
}

function attrs(s: string[]): Record<string, string> {
  const o: Record<string, string> = {};
  for (const w of s.slice(1)) {
    if (!w.startsWith('=')) continue;
    const i = w.indexOf('=', 1);
    o[w.slice(1, i)] = w.slice(i + 1);
  }
  return o;
}

function res(reply: string[][]): Array<Record<string, string>> {
  return reply.filter((s) => s[0] === '!re').map(attrs);
}

function ret(reply: string[][]): string {
  const done = reply[reply.length - 1]!;
  expect(done[0]).toBe('!done');
  return attrs(done).ret!;
}

// ---- tests ----------------------------------------------------------------

let fake: FakeRouterOS | undefined;
const clients: RawClient[] = [];

async function setup(options: FakeRouterOptions = {}, seed = true): Promise<{ fake: FakeRouterOS; c: RawClient }> {
  fake = new FakeRouterOS(options);
  if (seed) fake.seedDefaults();
  const port = await fake.start();
  const c = await RawClient.connect(port);
  clients.push(c);
  await c.login();
  return { fake, c };
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await fake?.stop();
  fake = undefined;
});

describe('FakeRouterOS', () => {
  it('accepts the right login and refuses a wrong one', async () => {
    fake = new FakeRouterOS({ user: 'u', password: 'p=w' });
    const port = await fake.start();
    const c = await RawClient.connect(port);
    clients.push(c);
    expect(await c.talk('/login', '=name=u', '=password=nope')).toEqual([
      ['!trap', '=message=invalid user name or password (6)'],
      ['!done'],
    ]);
    expect(await c.talk('/ip/address/print')).toEqual([['!trap', '=message=not logged in'], ['!done']]);
    await c.login('u', 'p=w');
    expect(res(await c.talk('/system/resource/print'))[0]).toMatchObject({ version: '7.16.2 (stable)', 'board-name': 'hAP ax^2' });
    expect(fake.log.map((e) => e.command)).toEqual(['/system/resource/print']);
  });

  it('closes with !fatal after three commands without login', async () => {
    fake = new FakeRouterOS();
    const port = await fake.start();
    const c = await RawClient.connect(port);
    clients.push(c);
    await c.talk('/ip/address/print');
    await c.talk('/ip/address/print');
    const r = await c.talk('/ip/address/print');
    expect(r).toEqual([['!trap', '=message=not logged in'], ['!done']]);
    expect(await c.next()).toEqual(['!fatal', 'not logged in']);
    await c.closedP;
  });

  it('prints with proplist and queries', async () => {
    const { c } = await setup();
    const eth = res(await c.talk('/interface/print', '=.proplist=name,type', '?type=ether'));
    expect(eth).toEqual(['ether1', 'ether2', 'ether3', 'ether4', 'ether5'].map((name) => ({ name, type: 'ether' })));
    const all = res(await c.talk('/interface/print'));
    expect(all.map((r) => r.name)).toEqual(['ether1', 'ether2', 'ether3', 'ether4', 'ether5', 'bridge']);
    expect(all[5]).toEqual({ '.id': '*6', name: 'bridge', type: 'bridge', comment: 'defconf', disabled: 'false', running: 'true' });
    // ?#| : name=ether1 OR name=ether3
    const or = res(await c.talk('/interface/print', '?name=ether1', '?name=ether3', '?#|', '=.proplist=.id,name'));
    expect(or).toEqual([{ '.id': '*1', name: 'ether1' }, { '.id': '*3', name: 'ether3' }]);
    // ?#! negation and has/lacks
    const notDrop = res(await c.talk('/ip/firewall/filter/print', '?action=drop', '?#!', '?chain=input', '=.proplist=comment'));
    expect(notDrop.map((r) => r.comment)).toEqual([
      'defconf: accept established,related,untracked',
      'defconf: accept ICMP',
      'defconf: accept to local loopback (for CAPsMAN)',
    ]);
    expect(res(await c.talk('/ip/firewall/filter/print', '?connection-nat-state'))).toHaveLength(1);
    expect(res(await c.talk('/ip/firewall/filter/print', '?-connection-state'))).toHaveLength(5);
    expect(res(await c.talk('/ip/firewall/filter/print', '?chain=forward', '?action=drop', '?#&'))).toHaveLength(2);
    expect(res(await c.talk('/interface/bridge/port/print', '?>.id=*8', '=.proplist=interface'))).toEqual([
      { interface: 'ether4' },
      { interface: 'ether5' },
    ]);
  });

  it('answers an empty print with !empty, or plain !done when emptyReplies is false', async () => {
    const { fake, c } = await setup();
    expect(await c.talk('/ip/address/print', '?comment=nothing', '.tag=3')).toEqual([['!empty', '.tag=3'], ['!done', '.tag=3']]);
    fake.options.emptyReplies = false;
    expect(await c.talk('/ipv6/address/print')).toEqual([['!done']]);
    expect(fake.stats.prints).toBe(2);
  });

  it('adds with place-before and moves with and without destination', async () => {
    const { fake, c } = await setup();
    const ids = fake.rows('/ip/firewall/filter').map((r) => r['.id']!);
    const a = ret(await c.talk('/ip/firewall/filter/add', '=chain=input', '=action=accept', `=place-before=${ids[4]}`, '=comment=A'));
    const order = (): string[] => fake.rows('/ip/firewall/filter').map((r) => r['.id']!);
    expect(order().indexOf(a)).toBe(4);
    expect(order()[5]).toBe(ids[4]);
    const b = ret(await c.talk('/ip/firewall/filter/add', '=chain=forward', '=action=drop', '=comment=B'));
    expect(order().at(-1)).toBe(b);
    expect(parseInt(b.slice(1), 16)).toBe(parseInt(a.slice(1), 16) + 1);
    // unknown place-before: trap, nothing added
    const n = order().length;
    expect(await c.talk('/ip/firewall/filter/add', '=chain=input', '=place-before=*FFF')).toEqual([
      ['!trap', '=message=no such item'],
      ['!done'],
    ]);
    expect(order()).toHaveLength(n);
    // move B then A before the first rule
    await c.talk('/ip/firewall/filter/move', `=numbers=${b},${a}`, `=destination=${ids[0]}`);
    expect(order().slice(0, 3)).toEqual([b, a, ids[0]]);
    // move without destination: to the end
    await c.talk('/ip/firewall/filter/move', `=.id=${b}`);
    expect(order().at(-1)).toBe(b);
    expect(order()[0]).toBe(a);
    // place-before on set is refused
    expect((await c.talk('/ip/firewall/filter/set', `=.id=${a}`, `=place-before=${b}`))[0]).toEqual([
      '!trap',
      '=message=unknown parameter place-before',
    ]);
  });

  it('stores values in their printed forms', async () => {
    const { c } = await setup({}, false);
    const id = ret(
      await c.talk(
        '/ip/firewall/filter/add', '=chain=forward', '=action=accept', '=connection-state=untracked,related,established',
        '=protocol=6', '=src-address=10.1.2.3/24', '=dst-address=10.0.0.1/32', '=disabled=yes', '=comment=x=y',
      ),
    );
    const [row] = res(await c.talk('/ip/firewall/filter/print', `?.id=${id}`));
    expect(row).toMatchObject({
      'connection-state': 'established,related,untracked', protocol: 'tcp', 'src-address': '10.1.2.0/24',
      'dst-address': '10.0.0.1', disabled: 'true', dynamic: 'false', invalid: 'false', bytes: '0', packets: '0', comment: 'x=y',
    });
    ret(await c.talk('/ipv6/address/add', '=address=2001:DB8:0:0::10/64', '=interface=ether1'));
    const [v6] = res(await c.talk('/ipv6/address/print'));
    expect(v6).toMatchObject({ address: '2001:db8::10/64', advertise: 'true', disabled: 'false' });
    expect(v6).not.toHaveProperty('comment');
    ret(await c.talk('/interface/bridge/add', '=name=br', '=vlan-filtering=yes'));
    expect(res(await c.talk('/interface/bridge/print'))[0]).toMatchObject({ 'vlan-filtering': 'true', disabled: 'false' });
    const addr = ret(await c.talk('/ip/address/add', '=address=192.168.200.7/24', '=interface=br'));
    expect(res(await c.talk('/ip/address/print', `?.id=${addr}`))[0]).toMatchObject({
      address: '192.168.200.7/24', network: '192.168.200.0', interface: 'br', 'actual-interface': 'br', dynamic: 'false',
    });
    expect((await c.talk('/ip/address/add', '=address=192.168.1.1', '=interface=br'))[0]).toEqual([
      '!trap',
      '=message=invalid value for argument address',
    ]);
  });

  it('prints bridge vlan members in interface id order', async () => {
    const { c } = await setup();
    ret(await c.talk('/interface/bridge/vlan/add', '=bridge=bridge', '=vlan-ids=10', '=tagged=ether3,bridge,ether2', '=untagged=ether5,ether4'));
    const [v] = res(await c.talk('/interface/bridge/vlan/print'));
    expect(v).toMatchObject({ tagged: 'ether2,ether3,bridge', untagged: 'ether4,ether5', 'vlan-ids': '10', dynamic: 'false' });
  });

  it('delivers whole sentences when writing byte by byte', async () => {
    const { c } = await setup({ fragment: 1 });
    const before = c.chunks.length;
    const r = await c.talk('/ip/firewall/filter/print', '.tag=x');
    expect(res(r)).toHaveLength(11);
    expect(r.every((s) => s.at(-1) === '.tag=x')).toBe(true);
    const bytes = c.chunks.slice(before);
    expect(bytes.length).toBeGreaterThan(100);
    // each byte is its own write; TCP reads on loopback almost always see them apart
    expect(bytes.filter((n) => n === 1).length).toBeGreaterThan(bytes.length / 2);
  });

  it('echoes tags in the chosen position, in order under pipelining and latency', async () => {
    const { fake, c } = await setup({ tagPosition: 'first', latencyMs: 5 });
    c.send('/interface/print', '?name=ether1', '.tag=a');
    c.send('/ip/firewall/filter/print', '?action=nothing', '.tag=b');
    c.send('/nope/print', '.tag=c');
    const ra = await c.until();
    const rb = await c.until();
    const rc = await c.until();
    expect(ra.map((s) => s[1])).toEqual(['.tag=a', '.tag=a']);
    expect(rb).toEqual([['!empty', '.tag=b'], ['!done', '.tag=b']]);
    expect(rc).toEqual([
      ['!trap', '.tag=c', '=message=no such command prefix', '=category=0'],
      ['!trap', '.tag=c', '=message=no such command', '=category=0'],
      ['!done', '.tag=c'],
    ]);
    fake.options.tagPosition = 'random';
    fake.options.latencyMs = 0;
    const r = await c.talk('/interface/print', '.tag=z');
    for (const s of r) {
      expect(s[0]).not.toBe('.tag=z');
      expect(s.filter((w) => w === '.tag=z')).toHaveLength(1);
    }
    expect(fake.log.map((e) => e.tag)).toEqual(['a', 'b', 'c', 'z']);
  });

  it('resets the connection at the k-th change', async () => {
    const { fake, c } = await setup({ dropAtChange: 2 });
    ret(await c.talk('/interface/list/add', '=name=ONE'));
    const r = await c.talk('/interface/list/add', '=name=TWO');
    expect(r.filter((s) => s[0] === '!done')).toHaveLength(0);
    await c.closedP;
    expect(fake.rows('/interface/list').map((x) => x.name)).toEqual(['WAN', 'LAN', 'ONE']);
    expect(fake.stats.changes).toBe(2);
  });

  it('answers the k-th change with !fatal or !trap as configured', async () => {
    const { fake, c } = await setup({ trapAtChange: { k: 1, message: 'failure: busy' } });
    expect(await c.talk('/interface/list/add', '=name=X', '.tag=7')).toEqual([
      ['!trap', '=message=failure: busy', '=category=1', '.tag=7'],
      ['!done', '.tag=7'],
    ]);
    fake.options.fatalAtChange = 2;
    expect(await c.talk('/interface/list/add', '=name=Y', '.tag=8')).toEqual([['!fatal', 'session terminated on request']]);
    await c.closedP;
    expect(fake.rows('/interface/list').map((x) => x.name)).toEqual(['WAN', 'LAN']);
  });

  it('traps on an unknown id and on a duplicate interface name', async () => {
    const { c } = await setup();
    expect(await c.talk('/ip/address/set', '=.id=*99', '=comment=x')).toEqual([['!trap', '=message=no such item'], ['!done']]);
    expect(await c.talk('/ip/firewall/filter/remove', '=numbers=*A,*99')).toEqual([['!trap', '=message=no such item'], ['!done']]);
    expect(await c.talk('/interface/vlan/add', '=name=ether2', '=vlan-id=5', '=interface=bridge')).toEqual([
      ['!trap', '=message=failure: already have interface with such name'],
      ['!done'],
    ]);
  });

  it('shows *ID and invalid=true where a removed vlan interface was used', async () => {
    const { fake, c } = await setup();
    const vlan = ret(await c.talk('/interface/vlan/add', '=name=vlan20', '=vlan-id=20', '=interface=bridge'));
    const addr = ret(await c.talk('/ip/address/add', '=address=10.20.0.1/24', '=interface=vlan20'));
    expect(res(await c.talk('/interface/print', '?type=vlan', '=.proplist=.id,name,running'))).toEqual([
      { '.id': vlan, name: 'vlan20', running: 'true' },
    ]);
    await c.talk('/interface/vlan/remove', `=.id=${vlan}`);
    const [row] = res(await c.talk('/ip/address/print', `?.id=${addr}`));
    expect(row).toMatchObject({ interface: vlan, 'actual-interface': vlan, invalid: 'true' });
    expect(fake.rows('/interface').map((r) => r.name)).not.toContain('vlan20');
  });

  it('propagates a rename to references', async () => {
    const { fake, c } = await setup();
    const vlan = ret(await c.talk('/interface/vlan/add', '=name=v30', '=vlan-id=30', '=interface=bridge'));
    await c.talk('/ip/address/add', '=address=10.30.0.1/24', '=interface=v30');
    await c.talk('/ip/firewall/filter/add', '=chain=forward', '=action=accept', '=in-interface=v30', '=out-interface=!v30');
    await c.talk('/interface/bridge/vlan/add', '=bridge=bridge', '=vlan-ids=30', '=tagged=bridge,v30');
    await c.talk('/interface/vlan/set', `=.id=${vlan}`, '=name=lab');
    expect(fake.rows('/ip/address').at(-1)).toMatchObject({ interface: 'lab', 'actual-interface': 'lab', invalid: 'false' });
    expect(fake.rows('/ip/firewall/filter').at(-1)).toMatchObject({ 'in-interface': 'lab', 'out-interface': '!lab' });
    expect(fake.rows('/interface/bridge/vlan')[0]).toMatchObject({ tagged: 'bridge,lab' });
  });

  // Skipped (reported as skipped, never passed) when there is no openssl command to make the certificate.
  const hasOpenssl = ((): boolean => {
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  it.skipIf(!hasOpenssl)('serves api-ssl when given a key and certificate (needs the openssl command)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ros-fake-'));
    try {
      // openssl is there: a failure to make the certificate is a test failure
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'),
        '-days', '1', '-subj', '/CN=localhost',
      ], { stdio: 'pipe' });
      fake = new FakeRouterOS({ tls: { key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const port = await fake.start();
    const s = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const t = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => resolve(t));
      t.once('error', reject);
    });
    const c = new RawClient(s);
    clients.push(c);
    await c.login();
    expect(await c.talk('/ip/pool/print')).toEqual([['!empty'], ['!done']]);
  });
});
