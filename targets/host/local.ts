// The host this command runs on: ip through execFile (argv, no shell), files through fs under the install
// root, Docker through its unix socket (DOCKER_HOST=unix://… or /var/run/docker.sock).
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { Engine, dockerSocket } from '../docker/engine.js';
import { ip, readLinks } from './links.js';
import { HostOpsError, NETIF_DIR, VLAN_PROBE_FUNCTION, parseVlanProbe, NETWORKD_DIR, NETWORKD_FILE, type HostOp, type HostSnapshot, type HostTransport, type SnapshotRequest, type TransportStats } from './transport.js';

export interface LocalTransportOptions {
  env?: NodeJS.ProcessEnv;
  installRoot?: string;
  commandTimeoutMs?: number;
}

export class LocalTransport implements HostTransport {
  readonly endpoint: string;
  readonly root: string;
  private readonly dockerEngine: Engine;
  private ipReads = 0;

  constructor(private readonly options: LocalTransportOptions = {}) {
    this.root = options.installRoot ?? '/';
    this.dockerEngine = new Engine(dockerSocket(options.env ?? process.env), options.commandTimeoutMs ?? 30_000);
    this.endpoint = `this machine, ${this.dockerEngine.socketPath}`;
  }

  engine(): Engine {
    return this.dockerEngine;
  }

  async open(): Promise<void> {}

  private path(rel: string): string {
    return join(this.root, rel);
  }

  async snapshot(request: SnapshotRequest): Promise<HostSnapshot> {
    const links = await readLinks((argv) => ip(argv, this.options.commandTimeoutMs));
    this.ipReads += links.reads;
    const files = new Map<string, string | undefined>();
    for (const rel of request.files) files.set(rel, readSafe(this.path(rel)));
    const netdir = this.path(NETWORKD_DIR);
    for (const f of listSafe(netdir)) {
      const rel = `${NETWORKD_DIR}/${f}`;
      if (NETWORKD_FILE.test(f)) files.set(rel, readSafe(this.path(rel)));
      if (f.endsWith('.network.d')) {
        const conf = readSafe(this.path(`${rel}/flatnet.conf`));
        if (conf !== undefined) files.set(`${rel}/flatnet.conf`, conf);
      }
    }
    const symlinks = new Map<string, string | undefined>();
    for (const rel of request.symlinks) symlinks.set(rel, lstatSafe(this.path(rel)) ? readlinkSafe(this.path(rel)) : undefined);
    const netif = new Map<number, string>();
    for (const f of listSafe(this.path(NETIF_DIR))) {
      const content = /^\d+$/.test(f) ? readSafe(this.path(`${NETIF_DIR}/${f}`)) : undefined;
      if (content !== undefined) netif.set(Number(f), content);
    }
    const root = typeof process.geteuid === 'function' ? process.geteuid() === 0 : true;
    const noVlan = request.vlanLinks?.length ? parseVlanProbe(await probeVlan(request.vlanLinks, this.options.commandTimeoutMs)) : undefined;
    return {
      links,
      files,
      symlinks,
      netif,
      networkManager: existsSync(this.path('run/NetworkManager')),
      systemd: this.root === '/' && existsSync('/run/systemd/system'),
      ...(root ? {} : { privilege: 'changing links and Docker networks needs root: run flatnet-router with sudo on this host' }),
      ...(noVlan !== undefined ? { noVlan } : {}),
    };
  }

  async run(ops: readonly HostOp[]): Promise<void> {
    for (const [i, op] of ops.entries()) {
      try {
        await this.one(op);
      } catch (err) {
        throw new HostOpsError((err as Error).message.split('\n')[0]!, i);
      }
    }
  }

  private async one(op: HostOp): Promise<void> {
    switch (op.kind) {
      case 'ip':
        await ip(op.argv, this.options.commandTimeoutMs);
        return;
      case 'remove':
        rmSync(this.path(op.path), { force: true });
        return;
      case 'link': {
        const path = this.path(op.path);
        mkdirSync(dirname(path), { recursive: true });
        rmSync(path, { force: true });
        symlinkSync(op.target, path);
        return;
      }
      case 'write': {
        // beside the file, then renamed over it: a reader (or a crash) never sees half a file
        const path = this.path(op.path);
        mkdirSync(dirname(path), { recursive: true });
        const tmp = join(dirname(path), `.${basename(path)}.flatnet-tmp`);
        writeFileSync(tmp, op.content, { mode: op.mode });
        chmodSync(tmp, op.mode);
        renameSync(tmp, path);
        return;
      }
      case 'daemon-reload':
        await new Promise<void>((res) => execFile('systemctl', ['daemon-reload'], { timeout: 30_000 }, () => res()));
        return;
    }
  }

  stats(): TransportStats {
    return { ipReads: this.ipReads, channels: 0, connections: 0 };
  }

  close(): void {}
}

/** Runs the 802.1Q probe on this machine; its output, or '' when it could not run. */
function probeVlan(links: readonly string[], timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', `P=\n${VLAN_PROBE_FUNCTION}\nvlan_probe "$@"`, 'sh', ...links], { timeout: timeoutMs }, (_err, stdout) => resolve(String(stdout ?? '')));
  });
}

function readSafe(p: string): string | undefined {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}

function listSafe(p: string): string[] {
  try {
    return readdirSync(p);
  } catch {
    return [];
  }
}

function lstatSafe(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function readlinkSafe(p: string): string | undefined {
  try {
    return readlinkSync(p);
  } catch {
    return undefined;
  }
}
