// A Docker host: plan and apply its Docker networks (Engine API), its shims and VLAN parents (iproute2, argv
// only) and their persistence across reboots (files under an install root, / by default). Layers as for the
// routers: desired state and the pure diff (diff.ts), reads and changes through a transport (transport.ts:
// this machine, local.ts; or one SSH connection, remote.ts), and this unit, which is the same for both.
// Order of work: VLAN parents (before Docker sees them, so Docker never owns or deletes them), Docker networks
// (those leaving the spec first), shims (stale ones first), boot files, stale VLAN parents.
import { contains, parseCidr, parseIp } from '../../src/ip.js';
import type { HostModel, Model } from '../../src/model.js';
import { InterruptedError, LiveCheckError, PartialApplyError, type ApplyReport, type Change, type Progress, type PushUnit, type UnitPlan, type UnitRef } from '../../src/plan/types.js';
import { attachedContainers, blockedByContainers, compareVersions, diffHost, networksToInspect, snapshotRequest, stepOp, stepReport, type AttachedContainer, type DockerOp, type Step } from './diff.js';
import { DOCKER_OWNERS_FILE } from '../../src/ownership.js';
import { LocalTransport } from './local.js';
import { RemoteTransport } from './remote.js';
import { HostOpsError, type HostOp, type HostSnapshot, type HostTransport } from './transport.js';

export { networkDifferences } from './diff.js';

export interface HostPushOptions {
  env?: NodeJS.ProcessEnv;
  /** where /etc and /run are (default /) on the host: image builds and tests use a scratch root */
  installRoot?: string;
  /** replace networks that have containers attached: disconnect, recreate, reconnect with their addresses */
  recreateNetworks?: boolean;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
  /** record an unknown SSH host key in known_hosts instead of refusing it (never a changed one) */
  acceptNewHostKey?: boolean;
  /** a host with `ssh` is planned on this machine anyway (the CLI's `--host NAME --local`, and tests) */
  forceLocal?: boolean;
  /** known_hosts for SSH hosts (default ~/.ssh/known_hosts) */
  knownHostsFile?: string;
  /** --adopt: Docker networks, shims and VLAN links made by hand that already are what the spec asks for are taken over in place */
  adopt?: boolean;
}

/** The transport a host is reached through: SSH when the spec gives `ssh`, else this machine. */
export function hostTransport(host: HostModel, options: HostPushOptions = {}): HostTransport {
  const common = {
    ...(options.env ? { env: options.env } : {}),
    ...(options.installRoot !== undefined ? { installRoot: options.installRoot } : {}),
    ...(options.commandTimeoutMs !== undefined ? { commandTimeoutMs: options.commandTimeoutMs } : {}),
  };
  if (host.ssh && !options.forceLocal) {
    return new RemoteTransport(host, {
      ...common,
      ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
      ...(options.acceptNewHostKey ? { acceptNewHostKey: true } : {}),
      ...(options.knownHostsFile !== undefined ? { knownHostsFile: options.knownHostsFile } : {}),
    });
  }
  return new LocalTransport(common);
}

export class HostUnit implements PushUnit {
  readonly ref: UnitRef;
  private steps: Step[] = [];
  private changes: Change[] = [];
  private readonly transport: HostTransport;
  /** unit files change on a systemd machine: daemon-reload after the apply */
  private reload = false;
  stats = { dockerRequests: 0, ipReads: 0, channels: 0, connections: 0 };

  constructor(
    private readonly model: Model,
    private readonly host: HostModel,
    private readonly options: HostPushOptions = {},
    transport?: HostTransport,
  ) {
    this.transport = transport ?? hostTransport(host, options);
    this.ref = { kind: 'host', name: host.name, type: 'docker', endpoint: this.transport.endpoint };
  }

  private where(): string {
    return this.transport instanceof RemoteTransport ? this.transport.endpoint.replace(/^ssh /, '').replace(/, sudo$/, '') : 'this machine';
  }

  private updateStats(): void {
    const t = this.transport.stats();
    this.stats = { dockerRequests: this.transport.engine().requests, ipReads: t.ipReads, channels: t.channels, connections: t.connections };
  }

  async plan(progress: Progress): Promise<UnitPlan> {
    const remote = this.transport instanceof RemoteTransport;
    if (remote) progress(`connecting to ${this.where()}`);
    await this.transport.open();
    progress('reading Docker networks and links');
    const engine = this.transport.engine();
    // the snapshot and the Docker reads at once; a snapshot that says why Docker cannot answer (no docker,
    // sudo asking for a password) speaks for both
    const [snapResult, dockerResult] = await Promise.allSettled([this.transport.snapshot(snapshotRequest(this.host, this.model.ownership)), Promise.all([engine.version(), engine.networks()])]);
    if (snapResult.status === 'rejected') throw snapResult.reason;
    const snapshot: HostSnapshot = snapResult.value;
    if (dockerResult.status === 'rejected') {
      if (snapshot.privilege !== undefined) throw new LiveCheckError([{ path: ['hosts', this.host.name, ...(remote ? ['ssh'] : [])], message: snapshot.privilege }]);
      throw dockerResult.reason;
    }
    const [version, networks] = dockerResult.value;
    const facts = [`Docker ${version.Version} (API ${version.ApiVersion})`];
    const containers = new Map<string, AttachedContainer[]>();
    for (const n of networksToInspect(this.model, this.host, networks, snapshot.files.get(DOCKER_OWNERS_FILE))) containers.set(n.Id, attachedContainers(await engine.containersOn(n.Id), n.Name));
    const diff = diffHost({ model: this.model, host: this.host, snapshot, networks, containers, recreateNetworks: this.options.recreateNetworks === true, ...(this.options.adopt ? { adopt: true } : {}) }, this.where());
    if (compareVersions(version.ApiVersion, '1.41') < 0) diff.problems.push({ path: ['hosts', this.host.name], message: `Docker API ${version.ApiVersion} is older than 1.41 (Docker 20.10), the oldest flatnet supports` });
    this.updateStats();
    if (diff.problems.length > 0) throw new LiveCheckError(diff.problems);
    this.steps = diff.steps;
    this.changes = diff.changes;
    // unit files changed on a systemd machine: systemd must read them again
    if (snapshot.systemd && this.steps.some((s) => 'file' in s && s.file.path.includes('systemd/system'))) this.reload = true;
    return { unit: this.ref, changes: this.changes, facts, warnings: diff.warnings };
  }

  async apply(progress: Progress, signal?: AbortSignal): Promise<ApplyReport> {
    const done: Change[] = [];
    const blocked = blockedByContainers(this.steps, this.options.recreateNetworks === true);
    if (blocked.length > 0) {
      const what = blocked.map((d) => `${d.report.name} (${d.containers.map((c) => c.name).join(', ')})`).join('; ');
      throw new PartialApplyError(`containers are attached to networks that must be ${blocked.some((b) => b.kind === 'remove') ? 'removed or ' : ''}replaced: ${what}; ${blocked.some((b) => b.kind === 'replace') ? 'run apply with --recreate-networks to replace them, ' : ''}nothing was changed`, [], this.changes.length);
    }
    progress(`applying ${this.changes.length} change${this.changes.length === 1 ? '' : 's'}`);
    const notes: string[] = [];
    // A change is done when its last step is: a change whose steps were cut part-way is "not applied".
    const lastStep = new Map<Change, number>();
    this.steps.forEach((s, i) => lastStep.set(stepReport(s), i));
    const finish = (upTo: number) => {
      for (let i = 0; i < upTo; i++) {
        const c = stepReport(this.steps[i]!);
        if (lastStep.get(c) === i && !done.includes(c)) done.push(c);
      }
    };
    const fail = (at: number, message: string): never => {
      finish(at);
      const report = stepReport(this.steps[at]!);
      this.updateStats();
      throw new PartialApplyError(`${report.action} ${report.kind} ${report.name} failed: ${message.split('\n')[0]}${this.notAppliedText(done)}`, [...done], this.changes.length - done.length);
    };
    // runs of ip/file steps go to the transport together (one SSH channel each); Docker steps one by one
    let i = 0;
    while (i < this.steps.length) {
      // Ctrl-C/SIGTERM: no new step starts (links before the networks that ride on them, files last)
      if (signal?.aborted) {
        finish(i);
        this.updateStats();
        throw new InterruptedError(`interrupted: stopped before step ${i + 1} of ${this.steps.length}${this.notAppliedText(done)}; run apply again to converge`, [...done], this.changes.length - done.length);
      }
      const step = this.steps[i]!;
      if ('docker' in step) {
        try {
          await this.applyDocker(step.docker, notes);
        } catch (err) {
          fail(i, `${(err as Error).message}${this.transport.connectionLost?.() ? ' (whether that step was made is unknown)' : ''}`);
        }
        i++;
        continue;
      }
      let j = i;
      const ops: HostOp[] = [];
      for (let s = this.steps[j]; s !== undefined && !('docker' in s); s = this.steps[++j]) ops.push(stepOp(s));
      try {
        await this.transport.run(ops);
      } catch (err) {
        if (err instanceof HostOpsError) fail(i + err.done, err.message);
        fail(i, (err as Error).message);
      }
      i = j;
    }
    finish(this.steps.length);
    if (this.reload) await this.transport.run([{ kind: 'daemon-reload' }]).catch(() => {});
    this.updateStats();
    for (const n of notes) progress(n);
    progress(`done: ${done.length} change${done.length === 1 ? '' : 's'}`);
    return { applied: done };
  }

  /** "; not applied: …" naming the changes that were not made, for the one-line failure. */
  private notAppliedText(done: readonly Change[]): string {
    const left = this.changes.filter((c) => !done.includes(c));
    if (left.length === 0) return '';
    const names = left.slice(0, 4).map((c) => `${c.kind} ${c.name}`);
    return `; not applied: ${names.join(', ')}${left.length > 4 ? ` and ${left.length - 4} more` : ''}`;
  }

  private async applyDocker(op: DockerOp, notes: string[]): Promise<void> {
    const engine = this.transport.engine();
    if (op.kind === 'create') {
      await engine.create(op.spec);
      return;
    }
    if (op.kind === 'remove') {
      await engine.remove(op.id);
      return;
    }
    if (op.kind === 'adopt') {
      // nothing changes in Docker: the network is recorded as flatnet's on the host
      await this.transport.run([{ kind: 'write', path: op.path, content: op.content, mode: 0o644 }]);
      return;
    }
    for (const c of op.containers) await engine.disconnect(op.id, c.id);
    let id: string;
    try {
      await engine.remove(op.id);
      id = await engine.create(op.spec);
    } catch (err) {
      const left = op.containers.map((c) => `${c.name}${c.ipv4 ? ` (${c.ipv4})` : ''}`).join(', ');
      throw new Error(`${(err as Error).message}; disconnected and not reconnected: ${left}`);
    }
    const v4 = op.spec.IPAM.Config.find((c) => !(c.Subnet ?? '').includes(':'));
    const v6 = op.spec.IPAM.Config.find((c) => (c.Subnet ?? '').includes(':'));
    for (const c of op.containers) {
      const keep4 = c.ipv4 && v4?.Subnet && contains(parseCidr(v4.Subnet)!, parseIp(c.ipv4)!.value) ? c.ipv4 : undefined;
      const keep6 = c.ipv6 && v6?.Subnet && contains(parseCidr(v6.Subnet)!, parseIp(c.ipv6)!.value) ? c.ipv6 : undefined;
      if (c.ipv4 && !keep4) notes.push(`container ${c.name}: ${c.ipv4} is outside the new subnet ${v4?.Subnet}; reconnected with an address Docker picks`);
      await engine.connect(id, c.id, keep4, keep6, c.aliases);
    }
  }

  close(): void {
    this.transport.close();
  }
}
