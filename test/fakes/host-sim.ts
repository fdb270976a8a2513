// A Docker host held in memory for the round trips that need many hosts and no privileges: its links, routes,
// Docker networks and files, read as the plan reads a host (a HostSnapshot and the Engine's network list) and
// changed by carrying out the plan's steps as `ip`, the Engine and the transport would. It knows the `ip` argv
// flatnet writes (targets/host/links.ts) and refuses anything else, so a plan that does more than expected fails
// loudly. The real kernel and dockerd are covered by host-e2e and adopt-host-e2e. Test-only.
import { diffHost, stepOp, type HostDiff, type Step } from '../../targets/host/diff.js';
import type { LiveLink, LiveRoute } from '../../targets/host/links.js';
import type { HostSnapshot } from '../../targets/host/transport.js';
import type { EngineNetwork } from '../../targets/docker/engine.js';
import type { HostReading } from '../../src/import/hosts.js';
import type { HostModel, Model } from '../../src/model.js';

export class SimulatedHost {
  links: LiveLink[] = [];
  routes: LiveRoute[] = [];
  networks: EngineNetwork[] = [];
  files = new Map<string, string>();
  symlinks = new Map<string, string>();
  private nextIndex = 2;
  private nextId = 1;

  /** A machine with its NIC up (and its address on it, as the spec says). */
  constructor(readonly host: HostModel) {
    this.links.push({ ifname: host.parent, ifindex: this.nextIndex++, flags: ['UP'], addresses: host.address ? [host.address] : [] });
  }

  snapshot(): HostSnapshot {
    return {
      links: { links: this.links.map((l) => ({ ...l, addresses: [...l.addresses] })), routes: this.routes.map((r) => ({ ...r })) },
      files: new Map(this.files),
      symlinks: new Map(this.symlinks),
      netif: new Map(),
      networkManager: false,
      systemd: false,
    };
  }

  /** What import reads (src/import/hosts.ts HostReading). */
  reading(): HostReading {
    return { host: this.host, links: this.snapshot().links, networks: structuredClone(this.networks), docker: 'Docker (simulated)', endpoint: `simulated ${this.host.name}` };
  }

  /** The plan of `model` for this host (no containers attached anywhere). */
  plan(model: Model, adopt = false): HostDiff {
    const host = model.hosts.find((h) => h.name === this.host.name)!;
    return diffHost({ model, host, snapshot: this.snapshot(), networks: structuredClone(this.networks), containers: new Map(), recreateNetworks: false, ...(adopt ? { adopt: true } : {}) }, this.host.name);
  }

  /** Carries out a plan's steps. */
  apply(steps: readonly Step[]): void {
    for (const s of steps) {
      if ('docker' in s) {
        const op = s.docker;
        if (op.kind === 'create') this.networks.push({ Id: `net${this.nextId++}`, Name: op.spec.Name, Driver: op.spec.Driver, EnableIPv6: op.spec.EnableIPv6, IPAM: structuredClone(op.spec.IPAM), Options: { ...op.spec.Options }, Labels: { ...op.spec.Labels } });
        else if (op.kind === 'adopt') this.files.set(op.path, op.content);
        else if (op.kind === 'remove') this.networks = this.networks.filter((n) => n.Id !== op.id);
        else throw new Error(`simulated host: unexpected docker ${op.kind}`);
        continue;
      }
      const op = stepOp(s);
      if (op.kind === 'write') this.files.set(op.path, op.content);
      else if (op.kind === 'link') this.symlinks.set(op.path, op.target);
      else if (op.kind === 'remove') {
        this.files.delete(op.path);
        this.symlinks.delete(op.path);
      } else if (op.kind === 'ip') this.ip(op.argv);
      else throw new Error(`simulated host: unexpected ${op.kind}`);
    }
  }

  /** Makes flatnet's objects look hand-made: no link aliases, no Docker labels, no owner records. */
  stripOwnership(ownersFile: string): void {
    for (const l of this.links) delete l.ifalias;
    for (const n of this.networks) n.Labels = {};
    this.files.delete(ownersFile);
  }

  private link(name: string): LiveLink {
    const l = this.links.find((x) => x.ifname === name);
    if (!l) throw new Error(`simulated host: Cannot find device "${name}"`);
    return l;
  }

  private ip(argv: readonly string[]): void {
    const family = argv[0] === '-6' ? 6 : 4;
    const a = argv[0] === '-6' ? argv.slice(1) : [...argv];
    const is = (...words: string[]) => words.every((w, i) => a[i] === w);
    if (is('link', 'add', 'link')) {
      // exactly the three shapes flatnet writes: link add link <lower> name <n> type vlan id <N> |
      // type macvlan mode bridge | type ipvlan mode l2
      const [lower, nameWord, name, typeWord, type, key, value, ...rest] = a.slice(3);
      const shape =
        a.length === 10 && family === 4 && nameWord === 'name' && typeWord === 'type' && rest.length === 0 && lower !== undefined && name !== undefined &&
        ((type === 'vlan' && key === 'id' && /^\d+$/.test(value ?? '') && Number(value) >= 1 && Number(value) <= 4094) ||
          (type === 'macvlan' && key === 'mode' && value === 'bridge') ||
          (type === 'ipvlan' && key === 'mode' && value === 'l2'));
      if (!shape) throw new Error(`simulated host: unexpected ip ${argv.join(' ')}`);
      this.link(lower!);
      if (this.links.some((l) => l.ifname === name)) throw new Error(`simulated host: RTNETLINK answers: File exists (${name})`);
      const info = type === 'vlan' ? { info_kind: 'vlan', info_data: { id: Number(value) } } : { info_kind: type!, info_data: { mode: value! } };
      this.links.push({ ifname: name!, ifindex: this.nextIndex++, flags: [], link: lower!, linkinfo: info, addresses: [] });
    } else if (is('link', 'set', 'dev') && a[4] === 'alias') this.link(a[3]!).ifalias = a[5]!;
    else if (is('link', 'set', 'dev') && a[4] === 'up') this.link(a[3]!).flags = ['UP'];
    else if (is('link', 'del', 'dev')) {
      this.links = this.links.filter((l) => l.ifname !== a[3] && l.link !== a[3]);
      this.routes = this.routes.filter((r) => this.links.some((l) => l.ifname === r.dev));
    } else if (is('addr', 'replace') && a[3] === 'dev') {
      const l = this.link(a[4]!);
      if (!l.addresses.includes(a[2]!)) l.addresses.push(a[2]!);
    } else if (is('addr', 'del') && a[3] === 'dev') this.link(a[4]!).addresses = this.link(a[4]!).addresses.filter((x) => x !== a[2]);
    else if (is('route', 'replace') && a[3] === 'dev') {
      this.link(a[4]!);
      this.routes = this.routes.filter((r) => !(r.dst === a[2] && r.family === family));
      this.routes.push({ dst: a[2]!, dev: a[4]!, protocol: 'boot', family });
    } else if (is('route', 'del') && a[3] === 'dev') this.routes = this.routes.filter((r) => !(r.dst === a[2] && r.family === family && r.dev === a[4]));
    else throw new Error(`simulated host: unexpected ip ${argv.join(' ')}`);
  }
}
