// Shared by the tests that run the CLI against OpenWrt test routers (OpenSSH's sshd on 127.0.0.1 running
// OpenWrt's own uci on a scratch root): a scratch directory, a HOME whose known_hosts trusts the router, and
// the CLI run as users run it, with FLATNET_TEST_REMOTE_ROOT pointing it at the router's root. Test-only.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { OpenWrtTestRouter } from './openwrt-router.js';

// this file runs from test/fakes/ (vitest) or dist/test/fakes/ (compiled): find the repository by its bin/
const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = here.includes(`${join('dist', 'test')}`) ? join(here, '..', '..', '..') : join(here, '..', '..');
const bin = join(repoRoot, 'bin', 'flatnet-router.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class OpenWrtCli {
  readonly scratch: string;
  private home = '';
  private readonly routers: OpenWrtTestRouter[] = [];

  constructor(prefix: string) {
    this.scratch = mkdtempSync(join(tmpdir(), prefix));
  }

  /** A fresh test router; the CLI's HOME trusts its host key from now on. */
  async router(): Promise<OpenWrtTestRouter> {
    const r = await OpenWrtTestRouter.start();
    this.routers.push(r);
    this.home = mkdtempSync(join(this.scratch, 'home-'));
    mkdirSync(join(this.home, '.ssh'), { recursive: true });
    writeFileSync(join(this.home, '.ssh', 'known_hosts'), `${r.knownHostsLine}\n`);
    return r;
  }

  /** A spec file whose router "edge" is `r` (plus `routerExtra`), host "nas", and these networks. */
  specFile(r: OpenWrtTestRouter, networks: Record<string, unknown>, routerExtra: Record<string, unknown> = {}): string {
    const file = join(this.scratch, `spec-${Math.random().toString(36).slice(2)}.yaml`);
    const spec = {
      version: 1,
      routers: { edge: { type: 'openwrt', address: '127.0.0.1', port: r.port, user: r.user, 'key-file': r.clientKeyFile, ...routerExtra } },
      hosts: { nas: { parent: 'eth0' } },
      networks,
    };
    writeFileSync(file, stringify(spec));
    return file;
  }

  /** The connection keys of an OpenWrt router or switch in a spec that reach `r`. */
  connection(r: OpenWrtTestRouter): Record<string, unknown> {
    return { type: 'openwrt', address: '127.0.0.1', port: r.port, user: r.user, 'key-file': r.clientKeyFile };
  }

  /** A spec file with exactly this content (for specs with switches, several devices, ...). */
  writeSpec(spec: Record<string, unknown>): string {
    const file = join(this.scratch, `spec-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, stringify(spec));
    return file;
  }

  cli(r: OpenWrtTestRouter, args: string[]): Promise<CliResult> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [bin, ...args],
        { env: { PATH: process.env.PATH ?? '', HOME: this.home, NO_COLOR: '1', FLATNET_TEST_REMOTE_ROOT: r.root }, timeout: 90_000 },
        (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
  }

  /** Stops the routers started so far (by PID, inside OpenWrtTestRouter.stop). */
  async stopRouters(): Promise<void> {
    await Promise.all(this.routers.splice(0).map((r) => r.stop()));
  }

  remove(): void {
    rmSync(this.scratch, { recursive: true, force: true });
  }
}
