// The Engine API client's error paths against a fake daemon on a unix socket: each failure is one clear line.
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Engine, EngineError, dockerSocket } from '../targets/docker/engine.js';

const dir = mkdtempSync(join(tmpdir(), 'flatnet-engine-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

function daemon(handler: http.RequestListener): Promise<string> {
  const socket = join(dir, `d-${servers.length}-${Date.now()}.sock`);
  const server = http.createServer(handler);
  servers.push(server);
  return new Promise((resolve) => server.listen(socket, () => resolve(socket)));
}

describe('Docker Engine client', () => {
  it('DOCKER_HOST: unix sockets only, default /var/run/docker.sock', () => {
    expect(dockerSocket({})).toBe('/var/run/docker.sock');
    expect(dockerSocket({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' })).toBe('/run/user/1000/docker.sock');
    expect(() => dockerSocket({ DOCKER_HOST: 'tcp://10.0.0.5:2376' })).toThrow(/only a local unix socket/);
  });

  it('pins the API version in every path and sends JSON', async () => {
    const seen: string[] = [];
    const socket = await daemon((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} ${body}`);
        res.setHeader('Content-Type', 'application/json');
        res.end(req.url?.endsWith('/networks/create') ? '{"Id":"abc"}' : '[]');
      });
    });
    const engine = new Engine(socket);
    expect(await engine.networks()).toEqual([]);
    expect(await engine.create({ Name: 'x', Driver: 'macvlan', CheckDuplicate: true, EnableIPv6: false, IPAM: { Driver: 'default', Config: [] }, Options: {}, Labels: {} })).toBe('abc');
    expect(seen[0]).toBe('GET /v1.41/networks ');
    expect(seen[1]).toMatch(/^POST \/v1\.41\/networks\/create \{"Name":"x"/);
    expect(engine.requests).toBe(2);
  });

  it('daemon down, API errors (409 conflict, 500) and a daemon that never answers: one line each', async () => {
    await expect(new Engine(join(dir, 'nothing.sock')).networks()).rejects.toThrow(/cannot reach the Docker daemon at .*nothing\.sock \(ENOENT\): is dockerd running\?/);
    const socket = await daemon((req, res) => {
      if (req.url?.includes('/networks/create')) {
        res.statusCode = 409;
        res.end('{"message":"network with name lan-apps already exists"}');
      } else if (req.method === 'DELETE') {
        res.statusCode = 500;
        res.end('{"message":"error while removing network: network lan-apps id 1a2b has active endpoints"}');
      } else {
        // GET /version: never answered
      }
    });
    const engine = new Engine(socket, 300);
    const spec = { Name: 'lan-apps', Driver: 'macvlan', CheckDuplicate: true, EnableIPv6: false, IPAM: { Driver: 'default' as const, Config: [] }, Options: {}, Labels: {} };
    await expect(engine.create(spec)).rejects.toThrow('Docker: POST /networks/create answered 409: network with name lan-apps already exists');
    await expect(engine.remove('1a2b')).rejects.toThrow(/answered 500: .*has active endpoints/);
    const t0 = Date.now();
    const err = await engine.version().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as Error).message).toBe('Docker did not answer GET /version within 0.3 s');
    expect(Date.now() - t0).toBeLessThan(5_000);
  });
});
