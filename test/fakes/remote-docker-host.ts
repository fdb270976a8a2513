// A Docker host reached over SSH, for tests: the real dockerd in a network namespace of test/fakes/docker-host.ts
// plus OpenSSH's real sshd on 127.0.0.1 (a free high port, its own config and host key, a client key of its
// own). Every command a session runs goes through a wrapper (ForceCommand) that logs it, and then runs it with
// `nsenter --net=<the host's namespace>`: ip reads and changes act in that namespace only, `docker` talks to
// the test's dockerd (DOCKER_HOST), and files are written under the install root the test gives flatnet.
//
// Knobs (the mode file, read by every session):
//   sudo-password   the `sudo` on the PATH answers "sudo: a password is required" (exit 1) instead of running
//   no-docker       `docker` is not on the PATH
//   drop-at=N       the N-th command of the whole run kills its own SSH session (the connection drops before
//                   that command runs)
// The PATH of a session is a directory of symlinks to the few tools flatnet's scripts use, a stub `sudo`
// (strips -n, then runs the command as root, or refuses as above) and `docker` unless no-docker.
//
// Only 127.0.0.1 is listened on; sshd is stopped by its pid; the Docker host by DockerTestHost.stop().
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { DockerTestHost, dockerTestSupport } from './docker-host.js';

const SSHD = '/usr/sbin/sshd';
const TOOLS = ['sh', 'ip', 'cat', 'readlink', 'id', 'mkdir', 'rm', 'ln', 'chmod', 'mv', 'sed', 'cut', 'wc', 'grep', 'sleep', 'true'];

function which(name: string): string | undefined {
  for (const dir of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    if (existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

export function remoteHostSupport(): { ok: true } | { ok: false; reason: string } {
  const d = dockerTestSupport();
  if (!d.ok) return d;
  if (!existsSync(SSHD)) return { ok: false, reason: 'no OpenSSH server (apt-get install openssh-server)' };
  if (!which('ssh-keygen')) return { ok: false, reason: 'no ssh-keygen (apt-get install openssh-client)' };
  const missing = TOOLS.filter((t) => !which(t));
  if (missing.length > 0) return { ok: false, reason: `missing: ${missing.join(', ')}` };
  return { ok: true };
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
const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export class RemoteDockerHost {
  /** the Docker host (dockerd, namespaces, scratch) */
  readonly docker: DockerTestHost;
  readonly port: number;
  readonly user = 'root';
  readonly clientKeyFile: string;
  /** `SHA256:…` of the sshd host key */
  readonly hostKeyFingerprint: string;
  /** a known_hosts line for 127.0.0.1:port */
  readonly knownHostsLine: string;
  /** a directory to use as HOME for the CLI (its .ssh/known_hosts starts empty) */
  readonly home: string;
  /** the install root flatnet writes the boot files under */
  readonly installRoot: string;
  private readonly dir: string;
  private readonly commandLog: string;
  private readonly modeFile: string;
  private readonly sshdLog: string;
  private readonly configFile: string;
  private readonly pidFile: string;
  private sshd?: ChildProcess;
  private exited: Promise<void> = Promise.resolve();

  private constructor(docker: DockerTestHost, port: number, dir: string, fingerprint: string, knownHostsLine: string) {
    this.docker = docker;
    this.port = port;
    this.dir = dir;
    this.clientKeyFile = join(dir, 'client', 'id_ed25519');
    this.hostKeyFingerprint = fingerprint;
    this.knownHostsLine = knownHostsLine;
    this.home = join(dir, 'home');
    this.installRoot = join(dir, 'root');
    this.commandLog = join(dir, 'commands.log');
    this.modeFile = join(dir, 'mode');
    this.sshdLog = join(dir, 'sshd.log');
    this.configFile = join(dir, 'sshd_config');
    this.pidFile = join(dir, 'sshd.pid');
  }

  static async start(): Promise<RemoteDockerHost> {
    const support = remoteHostSupport();
    if (!support.ok) throw new Error(`remote Docker host unavailable: ${support.reason}`);
    const docker = await DockerTestHost.start();
    try {
      const dir = join(docker.scratch, 'remote');
      for (const d of ['client', 'home/.ssh', 'bin', 'dockerbin', 'root']) mkdirSync(join(dir, d), { recursive: true, mode: 0o700 });
      const keygen = which('ssh-keygen')!;
      execFileSync(keygen, ['-q', '-t', 'ed25519', '-N', '', '-C', 'remote-host-key', '-f', join(dir, 'ssh_host_ed25519_key')], { stdio: 'pipe' });
      execFileSync(keygen, ['-q', '-t', 'ed25519', '-N', '', '-C', 'remote-client', '-f', join(dir, 'client', 'id_ed25519')], { stdio: 'pipe' });
      writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client', 'id_ed25519.pub'), 'utf8'), { mode: 0o600 });
      const fingerprint = execFileSync(keygen, ['-lf', join(dir, 'ssh_host_ed25519_key.pub')], { encoding: 'utf8' }).split(/\s+/)[1]!;
      const [type, blob] = readFileSync(join(dir, 'ssh_host_ed25519_key.pub'), 'utf8').trim().split(/\s+/);
      for (const t of TOOLS) symlinkSync(which(t)!, join(dir, 'bin', t));
      symlinkSync(existsSync('/usr/bin/docker') ? '/usr/bin/docker' : which('docker')!, join(dir, 'dockerbin', 'docker'));
      const mode = join(dir, 'mode');
      writeFileSync(mode, '\n');
      writeFileSync(
        join(dir, 'bin', 'sudo'),
        `#!/bin/sh\n[ "$1" = -n ] && shift\nif grep -q sudo-password ${sq(mode)}; then echo 'sudo: a password is required' >&2; exit 1; fi\nexec "$@"\n`,
      );
      chmodSync(join(dir, 'bin', 'sudo'), 0o755);
      const log = join(dir, 'commands.log');
      writeFileSync(log, '');
      const wrapper = join(dir, 'wrapper.sh');
      writeFileSync(
        wrapper,
        [
          '#!/bin/sh',
          `printf '%s\\n' "$SSH_ORIGINAL_COMMAND" >> ${sq(log)}`,
          `n=$(wc -l < ${sq(log)})`,
          `if grep -qx "drop-at=$n" ${sq(mode)}; then`,
          // the session's own sshd process is the nearest ancestor named sshd: killing it drops the connection
          '  p=$$',
          '  while [ "$p" -gt 1 ]; do',
          '    if [ "$(cat /proc/$p/comm)" = sshd ]; then kill -9 "$p"; exit 1; fi',
          "    p=$(sed 's/.*) //' /proc/$p/stat | cut -d' ' -f2)",
          '  done',
          'fi',
          `PATH=${sq(join(dir, 'bin'))}`,
          `grep -qx no-docker ${sq(mode)} || PATH="$PATH":${sq(join(dir, 'dockerbin'))}`,
          `export PATH DOCKER_HOST=${sq(`unix://${docker.socket}`)} DOCKER_CONFIG=${sq(join(dir, 'dockercli'))}`,
          `exec ${sq(which('nsenter')!)} --net=${sq(`/var/run/netns/${docker.netns}`)} sh -c "$SSH_ORIGINAL_COMMAND"`,
          '',
        ].join('\n'),
      );
      chmodSync(wrapper, 0o755);
      let last: Error | undefined;
      for (let attempt = 0; attempt < 5; attempt++) {
        const port = await freePort();
        const host = new RemoteDockerHost(docker, port, dir, fingerprint, `[127.0.0.1]:${port} ${type} ${blob}`);
        writeFileSync(
          host.configFile,
          [
            'ListenAddress 127.0.0.1',
            `Port ${port}`,
            'AddressFamily inet',
            `HostKey ${join(dir, 'ssh_host_ed25519_key')}`,
            `PidFile ${host.pidFile}`,
            `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
            'PermitRootLogin prohibit-password',
            'PubkeyAuthentication yes',
            'PasswordAuthentication no',
            'KbdInteractiveAuthentication no',
            'UsePAM no',
            'StrictModes no',
            'PrintMotd no',
            'UseDNS no',
            'X11Forwarding no',
            'AllowTcpForwarding no',
            'AllowStreamLocalForwarding no',
            'MaxSessions 32',
            `ForceCommand ${wrapper}`,
            'LogLevel INFO',
            '',
          ].join('\n'),
        );
        try {
          await host.spawnSshd();
          return host;
        } catch (e) {
          last = e as Error;
          await host.killSshd();
        }
      }
      throw last ?? new Error('sshd did not start');
    } catch (e) {
      await docker.stop().catch(() => {});
      throw e;
    }
  }

  private async spawnSshd(): Promise<void> {
    rmSync(this.pidFile, { force: true });
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    const fd = openSync(this.sshdLog, 'a');
    let child: ChildProcess;
    try {
      child = spawn(SSHD, ['-D', '-e', '-f', this.configFile], { stdio: ['ignore', fd, fd], env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' } });
    } finally {
      closeSync(fd);
    }
    this.sshd = child;
    child.once('error', () => {});
    this.exited = new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
    const deadline = Date.now() + 5000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`sshd exited: ${readFileSync(this.sshdLog, 'utf8').slice(-500)}`);
      if (existsSync(this.pidFile) && readFileSync(this.pidFile, 'utf8').trim() === String(child.pid)) return;
      if (Date.now() > deadline) throw new Error(`sshd not ready: ${readFileSync(this.sshdLog, 'utf8').slice(-500)}`);
      await sleep(20);
    }
  }

  private async killSshd(): Promise<void> {
    const pid = this.sshd?.pid;
    if (pid !== undefined && this.sshd?.exitCode === null && this.sshd.signalCode === null) {
      process.kill(pid, 'SIGTERM');
      await Promise.race([this.exited, sleep(5000)]);
    }
  }

  /** Sets the knobs (see the header); [] for none. */
  setMode(...flags: string[]): void {
    writeFileSync(this.modeFile, `${flags.join('\n')}\n`);
  }

  /** Every command sessions ran (one per exec channel), in order. */
  commands(): string[] {
    return readFileSync(this.commandLog, 'utf8').split('\n').filter((l) => l !== '');
  }

  /** Logins sshd accepted so far (one per SSH connection). */
  logins(): number {
    return (readFileSync(this.sshdLog, 'utf8').match(/Accepted publickey for /g) ?? []).length;
  }

  /** The spec's hosts.<name> lines (indented by 4) for this host. */
  hostLines(extra: { hostKey?: boolean; sudo?: boolean } = {}): string[] {
    return [
      `ssh: ${this.user}@127.0.0.1`,
      `ssh-port: ${this.port}`,
      `key-file: ${this.clientKeyFile}`,
      ...(extra.hostKey === false ? [] : [`host-key: "${this.hostKeyFingerprint}"`]),
      ...(extra.sudo ? ['sudo: true'] : []),
    ];
  }

  async stop(): Promise<void> {
    await this.killSshd();
    await this.docker.stop();
  }
}
