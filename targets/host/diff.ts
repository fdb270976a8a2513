// The host's desired state and the pure diff: given the model and what was read (Docker networks and the
// containers on those that must go, links, files), the steps of an apply in their order and the changes a
// plan shows. No I/O here: the transport reads and writes, for this machine and for a remote host alike.
import { findNetwork, type HostModel, type Model } from '../../src/model.js';
import { overlaps, parseCidr, parseIp } from '../../src/ip.js';
import { renderTemplate } from '../../src/render.js';
import type { Change, LiveProblem, PropertyChange } from '../../src/plan/types.js';
import type { EngineContainer, EngineNetwork, IpamConfig, NetworkCreate } from '../docker/engine.js';
import { dockerNetwork } from '../docker/index.js';
import { DOCKER_NETWORK_LABEL, DOCKER_OWNER_LABEL, DOCKER_OWNERS_FILE, dockerFlatnetNetwork, dockerNetworkOf, dockerOwnerOf, heldByOther, ownerRecordsText, owns, ownerText, parseOwnerRecords, removedNetworkWarning, sameOwner, type OwnerRecords, type Ownership } from '../../src/ownership.js';
import { planLinks, type IpOp, type LiveHostLinks } from './links.js';
import { networkdFiles, shimTarget } from './index.js';
import { NETWORKD_DIR, NETWORKD_FILE, type HostOp, type HostSnapshot, type SnapshotRequest } from './transport.js';

export interface AttachedContainer {
  id: string;
  name: string;
  ipv4?: string;
  ipv6?: string;
  /** network-scoped aliases (compose service names), given back on reconnect */
  aliases?: string[];
}

export type DockerOp =
  | { kind: 'create'; spec: NetworkCreate; report: Change }
  | { kind: 'replace'; id: string; spec: NetworkCreate; containers: AttachedContainer[]; report: Change }
  | { kind: 'remove'; id: string; name: string; containers: AttachedContainer[]; report: Change }
  /** --adopt: a network made by hand taken over as it is: nothing changes in Docker, the host's owner records
   *  (`path`, under the install root) get `content`, which records it (a network's labels cannot change) */
  | { kind: 'adopt'; id: string; name: string; path: string; content: string; report: Change };

/** Paths are relative to the install root. */
export type FileOp =
  | { kind: 'write'; path: string; content: string; mode: number; report: Change }
  | { kind: 'link'; path: string; target: string; report: Change }
  | { kind: 'remove'; path: string; report: Change };

export type Step = { ip: IpOp } | { docker: DockerOp } | { file: FileOp };

export const stepReport = (s: Step): Change => ('ip' in s ? s.ip.report : 'docker' in s ? s.docker.report : s.file.report);

const canonicalCidr = (s: string | undefined) => (s ? (parseCidr(s)?.text ?? s) : '');
const canonicalIp = (s: string | undefined) => (s ? (parseIp(s)?.text ?? s) : '');
const auxText = (a: Record<string, string> | null | undefined) =>
  Object.entries(a ?? {})
    .map(([k, v]) => `${k}=${canonicalIp(v)}`)
    .sort()
    .join(',');

/** Differences between what the spec wants and what the daemon has, over what the daemon keeps as given. */
export function networkDifferences(want: NetworkCreate, have: EngineNetwork): PropertyChange[] {
  const diffs: PropertyChange[] = [];
  const cmp = (key: string, a: string, b: string) => {
    if (a !== b) diffs.push({ key, from: b, to: a });
  };
  cmp('driver', want.Driver, have.Driver);
  cmp('parent', want.Options.parent ?? '', have.Options?.parent ?? '');
  if (want.Driver === 'ipvlan') cmp('ipvlan_mode', want.Options.ipvlan_mode ?? '', have.Options?.ipvlan_mode ?? 'l2');
  cmp('ipv6', String(want.EnableIPv6), String(have.EnableIPv6 === true));
  const haveConfig = have.IPAM?.Config ?? [];
  for (const family of [4, 6] as const) {
    const isFamily = (c: IpamConfig) => (c.Subnet ?? '').includes(':') === (family === 6);
    const w = want.IPAM.Config.find(isFamily);
    const h = haveConfig.find(isFamily);
    const tag = family === 4 ? '' : '6';
    cmp(`subnet${tag}`, canonicalCidr(w?.Subnet), canonicalCidr(h?.Subnet));
    cmp(`gateway${tag}`, canonicalIp(w?.Gateway), canonicalIp(h?.Gateway));
    cmp(`ip-range${tag}`, canonicalCidr(w?.IPRange), canonicalCidr(h?.IPRange));
    cmp(`aux-addresses${tag}`, auxText(w?.AuxiliaryAddresses), auxText(h?.AuxiliaryAddresses));
  }
  // the owner is not compared here: it is checked (another owner's network is refused) or recorded (--from-owner)
  cmp(`label ${DOCKER_NETWORK_LABEL}`, want.Labels[DOCKER_NETWORK_LABEL] ?? '', have.Labels?.[DOCKER_NETWORK_LABEL] ?? '');
  return diffs;
}

/** networkDifferences, but a network made by hand (adopted, or to adopt) has no flatnet label and never gets one. */
function handMadeDifferences(want: NetworkCreate, have: EngineNetwork): PropertyChange[] {
  return networkDifferences(want, have).filter((d) => d.key !== `label ${DOCKER_NETWORK_LABEL}` || dockerNetworkOf(have.Labels) !== undefined);
}

/** The differences that make a network of this spec's be replaced: an adopted one is compared without its label. */
const specDifferences = (want: NetworkCreate, have: EngineNetwork, records: OwnerRecords) =>
  records.networks[have.Id]?.adopted && dockerNetworkOf(have.Labels) === undefined ? handMadeDifferences(want, have) : networkDifferences(want, have);

const ADOPT_NOTE = 'made by hand, taken over in place';

// ---- desired state ----------------------------------------------------------------------------------------

export interface HostPaths {
  script: string;
  unit: string;
  wants: string;
  /** the unit wanted by the parent NIC's device unit too: started again when the NIC comes back (re-plugged,
   *  driver reloaded), which takes every macvlan on it away; with BindsTo= in the unit it stops when the NIC goes */
  deviceWants: string;
}

/** systemd's device unit of a network interface */
export const parentDeviceUnit = (h: HostModel) => `sys-subsystem-net-devices-${systemdEscape(h.parent)}.device`;

/**
 * The boot files' base name: the host's, and with an owner `<host>.<owner>`, so two specs (owners) with a host of
 * the same name on one machine never write each other's files (no "@": systemd reads it as a template instance).
 */
const bootName = (h: HostModel, owner: string | undefined) => (owner === undefined ? h.name : `${h.name}.${owner}`);

export const hostPaths = (h: HostModel, owner?: string): HostPaths => {
  const unit = `flatnet-${bootName(h, owner)}.service`;
  return {
    script: `etc/flatnet/${bootName(h, owner)}.sh`,
    unit: `etc/systemd/system/${unit}`,
    wants: `etc/systemd/system/multi-user.target.wants/${unit}`,
    deviceWants: `etc/systemd/system/${parentDeviceUnit(h)}.wants/${unit}`,
  };
};

/** The boot file names the plan owns: its owner's, and with --from-owner the old owner's (renamed by the plan). */
const ownedPaths = (h: HostModel, ownership: Ownership = {}): HostPaths[] => {
  const mine = hostPaths(h, ownership.owner);
  if (ownership.from === undefined || ownership.from.owner === ownership.owner) return [mine];
  return [mine, hostPaths(h, ownership.from.owner)];
};

/** What a plan reads besides Docker and links: every file it may compare or remove. */
export function snapshotRequest(h: HostModel, ownership: Ownership = {}): SnapshotRequest {
  const paths = ownedPaths(h, ownership);
  const vlanLinks = [...new Set(h.attachments.filter((a) => a.vlan !== undefined).map((a) => a.link))];
  return {
    files: [...paths.flatMap((p) => [p.script, p.unit]), 'etc/network/interfaces', DOCKER_OWNERS_FILE],
    symlinks: paths.flatMap((p) => [p.wants, p.deviceWants]),
    ...(vlanLinks.length ? { vlanLinks } : {}),
  };
}

/** systemd's escaping of a device name inside a unit name (`-` becomes \x2d). */
function systemdEscape(name: string): string {
  return [...name].map((c) => (/[A-Za-z0-9:_.]/.test(c) ? c : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)).join('');
}

function unitFile(host: HostModel, scriptPath: string): string {
  return renderTemplate('host', 'flatnet.service', { host: host.name, parent: host.parent, parentUnit: parentDeviceUnit(host), script: scriptPath });
}

export type WantedFile = { content: string; mode: number } | { link: string };

/**
 * The boot files of `persist`: relative path → content (or symlink target). networkd needs the name of the
 * `.network` file networkd uses for the parent (from its link state); without it, a problem.
 */
export function desiredFiles(model: Model, h: HostModel, parentNetworkFile: string | undefined, problems: LiveProblem[], parentIfindex?: number): Map<string, WantedFile> {
  const want = new Map<string, WantedFile>();
  const p = hostPaths(h, model.ownership.owner);
  const unit = p.unit.split('/').pop()!;
  if (h.persist === 'systemd' && h.attachments.length > 0) {
    const content = shimTarget.render(model, h.name)[0]!.content;
    want.set(p.script, { content: `#!/bin/sh\n# flatnet-router: the links of host "${h.name}" (shims, VLAN parents); run at boot by ${unit}\nset -e\n${content}`, mode: 0o755 });
    want.set(p.unit, { content: unitFile(h, `/${p.script}`), mode: 0o644 });
    want.set(p.wants, { link: `../${unit}` });
    want.set(p.deviceWants, { link: `../${unit}` });
  }
  if (h.persist === 'networkd' && h.attachments.length > 0) {
    if (parentNetworkFile === undefined) {
      problems.push({ path: ['hosts', h.name, 'persist'], message: `systemd-networkd does not manage ${h.parent} here (no NETWORK_FILE in /run/systemd/netif/links/${parentIfindex ?? '?'}): use persist: systemd` });
    } else {
      const dropIn = `${parentNetworkFile.split('/').pop()}.d/flatnet.conf`;
      for (const f of networkdFiles(h)) {
        const name = f.name.endsWith('/flatnet.conf') ? dropIn : f.name;
        want.set(`${NETWORKD_DIR}/${name}`, { content: renderTemplate('host', f.template, f.view), mode: 0o644 });
      }
    }
  }
  return want;
}

// ---- the diff ---------------------------------------------------------------------------------------------

/** Files flatnet wrote (they start with its header line) or its enabling symlink: the only ones it removes. */
function ownedFiles(h: HostModel, snap: HostSnapshot, ownership: Ownership = {}): string[] {
  const written = (rel: string) => (snap.files.get(rel) ?? '').startsWith('# flatnet-router:');
  const ours: string[] = [];
  ownedPaths(h, ownership).forEach((p, i) => {
    const unit = p.unit.split('/').pop()!;
    if (written(p.unit)) ours.push(p.unit);
    for (const link of [p.wants, p.deviceWants]) if (snap.symlinks.get(link) === `../${unit}`) ours.push(link);
    // the old owner's script, relabelled away by --from-owner (the plan's own stays when persist changes)
    if (i > 0 && (snap.files.get(p.script) ?? '').startsWith('#!/bin/sh\n# flatnet-router:')) ours.push(p.script);
  });
  for (const rel of snap.files.keys()) {
    if (!rel.startsWith(`${NETWORKD_DIR}/`)) continue;
    const name = rel.slice(NETWORKD_DIR.length + 1);
    if ((NETWORKD_FILE.test(name) || /^[^/]+\.network\.d\/flatnet\.conf$/.test(name)) && written(rel)) ours.push(rel);
  }
  return ours;
}

/** The file operations that make the host's boot files what `want` says; stale flatnet files go. */
export function planFiles(h: HostModel, want: Map<string, WantedFile>, snap: HostSnapshot, ownership: Ownership = {}): FileOp[] {
  const ops: FileOp[] = [];
  for (const [rel, w] of want) {
    if ('link' in w) {
      const current = snap.symlinks.get(rel);
      if (current !== w.link) ops.push({ kind: 'link', path: rel, target: w.link, report: { action: current === undefined ? 'add' : 'change', kind: 'file', name: `/${rel}`, props: [{ key: 'symlink', ...(current ? { from: current } : {}), to: w.link }], note: rel === hostPaths(h, ownership.owner).deviceWants ? `runs it again when ${h.parent} comes back` : 'enables the unit at boot' } });
      continue;
    }
    const current = snap.files.get(rel);
    if (current !== w.content) ops.push({ kind: 'write', path: rel, content: w.content, mode: w.mode, report: { action: current === undefined ? 'add' : 'change', kind: 'file', name: `/${rel}`, note: h.persist === 'systemd' ? 'boot persistence (systemd)' : 'boot persistence (systemd-networkd)' } });
  }
  // The host script stays when persist changes: it is what a boot hook of your own would run.
  for (const rel of new Set(ownedFiles(h, snap, ownership))) {
    if (want.has(rel)) continue;
    ops.push({ kind: 'remove', path: rel, report: { action: 'remove', kind: 'file', name: `/${rel}` } });
  }
  return ops;
}

/** Containers on a network as the Engine lists them, stopped ones too. */
export function attachedContainers(list: readonly EngineContainer[], networkName: string): AttachedContainer[] {
  return list.map((c) => {
    const ep = c.NetworkSettings?.Networks?.[networkName];
    const ipv4 = ep?.IPAMConfig?.IPv4Address || ep?.IPAddress || undefined;
    const ipv6 = ep?.IPAMConfig?.IPv6Address || ep?.GlobalIPv6Address || undefined;
    const aliases = (ep?.Aliases ?? []).filter((x) => !c.Id.startsWith(x));
    return { id: c.Id, name: (c.Names?.[0] ?? c.Id.slice(0, 12)).replace(/^\//, ''), ...(ipv4 ? { ipv4 } : {}), ...(ipv6 ? { ipv6 } : {}), ...(aliases.length ? { aliases } : {}) };
  });
}

/** Whether a Docker network is flatnet's (labelled, or adopted) and this spec's (its owner's, or --from-owner's). */
const ownedNetwork = (o: Ownership, records: OwnerRecords) => (n: EngineNetwork) => dockerFlatnetNetwork(n.Id, n.Labels, records) !== undefined && owns(o, dockerOwnerOf(n.Id, n.Labels, records));

/**
 * The Docker networks whose containers the plan must know: this spec's that differ from the spec or leave it.
 * `ownersFile`: the host's owner records as read (the snapshot's DOCKER_OWNERS_FILE).
 */
export function networksToInspect(model: Model, h: HostModel, networks: readonly EngineNetwork[], ownersFile?: string): EngineNetwork[] {
  const wanted = new Map(h.attachments.map((a) => [a.network, a]));
  const records = parseOwnerRecords(ownersFile);
  const mine = ownedNetwork(model.ownership, records);
  return networks.filter((n) => {
    if (!mine(n)) return false;
    const a = wanted.get(n.Name);
    return a === undefined || specDifferences(dockerNetwork(model, a), n, records).length > 0;
  });
}

export interface DockerPlan {
  /** flatnet networks leaving the spec: removed before new ones are made */
  removals: DockerOp[];
  /** created or replaced */
  changes: DockerOp[];
  /** networks of --from-owner kept as they are, whose new owner is recorded on the host (labels cannot change) */
  relabels: Array<{ id: string; name: string; from?: string }>;
  /** --adopt: networks made by hand that already are what the spec asks for, taken over as they are */
  adoptions: Array<{ id: string; name: string; report: Change }>;
  /** whole networks removed (not in the spec), with the VLAN of their parent */
  removedNetworks: Array<{ network: string; vlan?: string }>;
}

/**
 * Docker networks: what the spec wants against what the daemon has. `containers` holds the containers of each
 * network networksToInspect named (by id).
 */
export function planDocker(model: Model, h: HostModel, networks: readonly EngineNetwork[], containers: ReadonlyMap<string, AttachedContainer[]>, recreate: boolean, problems: LiveProblem[], warnings: string[], records: OwnerRecords = { networks: {} }, adopt = false): DockerPlan {
  const changes: DockerOp[] = [];
  const relabels: DockerPlan['relabels'] = [];
  const adoptions: DockerPlan['adoptions'] = [];
  const ownership = model.ownership;
  const mine = ownedNetwork(ownership, records);
  const ownerOf = (n: EngineNetwork) => dockerOwnerOf(n.Id, n.Labels, records);
  const byName = new Map(networks.map((n) => [n.Name, n]));
  const wantedNames = new Set(h.attachments.map((a) => a.network));
  for (const a of h.attachments) {
    const want = dockerNetwork(model, a);
    const have = byName.get(a.network);
    const path = ['networks', a.network];
    const net = findNetwork(model, a.network);
    const subnets = [{ key: 'subnet', cidr: parseCidr(net.ipv4.subnet)! }, ...(net.ipv6 ? [{ key: 'ipv6', cidr: parseCidr(net.ipv6.subnet)! }] : [])];
    for (const other of networks) {
      // this spec's network leaving it is removed before this one is made (another owner's stays)
      if (other.Name === a.network || (mine(other) && !wantedNames.has(other.Name))) continue;
      for (const c of other.IPAM?.Config ?? []) {
        const theirs = c.Subnet ? parseCidr(c.Subnet) : undefined;
        for (const mine of subnets) {
          if (theirs && theirs.family === mine.cidr.family && overlaps(theirs, mine.cidr)) {
            problems.push({ path: [...path, mine.key === 'subnet' ? 'subnet' : 'ipv6'], message: `overlaps Docker network "${other.Name}" (${c.Subnet}): dockerd refuses overlapping pools; remove one of them or change the subnet` });
          }
        }
      }
    }
    if (!have) {
      changes.push({ kind: 'create', spec: want, report: { action: 'add', kind: 'docker network', name: networkLine(a.network, want), network: a.network, props: describeNetwork(want) } });
      continue;
    }
    if (dockerFlatnetNetwork(have.Id, have.Labels, records) === undefined) {
      // made by hand: taken over as it is with --adopt when it already is what the spec asks for (a Docker
      // network cannot be changed in place, so one that differs could only be recreated)
      const diffs = handMadeDifferences(want, have);
      const differs = diffs.map((d) => `${d.key} ${d.from || 'none'} -> ${d.to || 'none'}`).join(', ');
      if (diffs.length === 0 && adopt) {
        adoptions.push({
          id: have.Id,
          name: have.Name,
          report: { action: 'adopt', kind: 'docker network', name: networkLine(a.network, want), network: a.network, props: [{ key: 'owner record', to: `/${DOCKER_OWNERS_FILE}: ${ownerText(ownership.owner)}` }], note: `${ADOPT_NOTE}: the same network, containers stay attached; recorded in /${DOCKER_OWNERS_FILE} (a network's labels cannot change)` },
        });
      } else if (diffs.length === 0) {
        problems.push({ path, message: `Docker network "${a.network}" exists and was not made by flatnet (no ${DOCKER_NETWORK_LABEL} label); it already is what the spec asks for: plan --adopt (then apply --adopt) takes it over in place (the same network, containers stay attached); or remove it (docker network rm ${a.network}) and apply again` });
      } else if (adopt) {
        problems.push({ path, message: `Docker network "${a.network}" was made by hand and differs from the spec (${differs}): a Docker network cannot be changed in place, so --adopt cannot take it over; it would have to be recreated: remove it (docker network rm ${a.network}) and apply again (its containers can join the new one), or make the spec say what it is` });
      } else {
        problems.push({ path, message: `Docker network "${a.network}" exists and was not made by flatnet (no ${DOCKER_NETWORK_LABEL} label): remove it (docker network rm ${a.network}) and apply again; its containers can join the new one (it differs from the spec: ${differs}; a Docker network cannot be changed in place, so --adopt cannot take it over either)` });
      }
      continue;
    }
    if (!mine(have)) {
      problems.push({ path, message: heldByOther(`network name "${a.network}"`, `Docker network ${a.network}, label ${DOCKER_OWNER_LABEL}${ownerOf(have) === undefined ? ' absent' : `=${ownerOf(have)}`}`, ownerOf(have), ownership.owner) });
      continue;
    }
    const diffs = specDifferences(want, have, records);
    if (diffs.length === 0) {
      // --from-owner: kept as it is, its new owner recorded on the host
      if (!sameOwner(ownerOf(have), ownership.owner)) relabels.push({ id: have.Id, name: have.Name, ...(ownerOf(have) !== undefined ? { from: ownerOf(have)! } : {}) });
      continue;
    }
    const attached = containers.get(have.Id) ?? [];
    const note = attached.length === 0 ? 'a Docker network cannot be changed in place' : `containers attached: ${attached.map((c) => c.name).join(', ')}${recreate ? ' (disconnected, then reconnected with their addresses)' : '; apply needs --recreate-networks'}`;
    if (attached.length > 0 && !recreate) warnings.push(`network ${a.network} must be replaced and has containers attached (${attached.map((c) => c.name).join(', ')}): apply refuses without --recreate-networks`);
    changes.push({ kind: 'replace', id: have.Id, spec: want, containers: attached, report: { action: 'replace', kind: 'docker network', name: a.network, network: a.network, props: diffs, note } });
  }
  const removals: DockerOp[] = [];
  const removedNetworks: DockerPlan['removedNetworks'] = [];
  for (const n of networks) {
    const label = dockerFlatnetNetwork(n.Id, n.Labels, records);
    if (label === undefined || !mine(n) || wantedNames.has(n.Name)) continue;
    const vlan = /\.(\d+)$/.exec(n.Options?.parent ?? '')?.[1];
    removedNetworks.push({ network: label, ...(vlan !== undefined ? { vlan } : {}) });
    const attached = containers.get(n.Id) ?? [];
    if (attached.length > 0) warnings.push(`network ${n.Name} is no longer in the spec but containers use it (${attached.map((c) => c.name).join(', ')}): apply refuses to remove it until they leave`);
    removals.push({ kind: 'remove', id: n.Id, name: n.Name, containers: attached, report: { action: 'remove', kind: 'docker network', name: n.Name, network: label, ...(attached.length ? { note: `in use by ${attached.map((c) => c.name).join(', ')}` } : {}) } });
  }
  return { removals, changes, relabels, adoptions, removedNetworks };
}

/**
 * The host's owner records after this plan: those of networks that still exist and that it neither removes nor
 * replaces, the relabelled ones (--from-owner) and the adopted ones (--adopt), as the file's text.
 */
export function nextOwnerRecords(model: Model, docker: DockerPlan, networks: readonly EngineNetwork[], records: OwnerRecords): string {
  const live = new Set(networks.map((n) => n.Id));
  const gone = new Set([...docker.removals, ...docker.changes].flatMap((d) => (d.kind === 'create' || d.kind === 'adopt' ? [] : [d.id])));
  const next: OwnerRecords = { networks: {} };
  for (const [id, r] of Object.entries(records.networks)) if (live.has(id) && !gone.has(id)) next.networks[id] = r;
  const owner = model.ownership.owner;
  for (const r of docker.relabels) next.networks[r.id] = { name: r.name, ...(owner !== undefined ? { owner } : {}), ...(records.networks[r.id]?.adopted ? { adopted: true as const } : {}) };
  for (const r of docker.adoptions) next.networks[r.id] = { name: r.name, ...(owner !== undefined ? { owner } : {}), adopted: true };
  return ownerRecordsText(next);
}

/**
 * The write of the host's owner records when this plan relabels Docker networks (--from-owner): the records
 * of networks that still exist and that this plan neither removes nor replaces, plus the new ones.
 */
export function planOwnerRecords(model: Model, docker: DockerPlan, networks: readonly EngineNetwork[], records: OwnerRecords, current: string | undefined): FileOp | undefined {
  if (docker.relabels.length === 0) return undefined;
  const content = nextOwnerRecords(model, docker, networks, records);
  if (content === current) return undefined;
  const owner = model.ownership.owner;
  return {
    kind: 'write',
    path: DOCKER_OWNERS_FILE,
    content,
    mode: 0o644,
    report: {
      action: current === undefined ? 'add' : 'change',
      kind: 'file',
      name: `/${DOCKER_OWNERS_FILE}`,
      props: docker.relabels.map((r) => ({ key: `owner of Docker network ${r.name}`, from: ownerText(r.from), to: ownerText(owner) })),
      note: `${ownerText(owner)} for Docker network${docker.relabels.length > 1 ? 's' : ''} ${docker.relabels.map((r) => r.name).join(', ')}: a network's labels cannot change, so the new owner is recorded here and the network is kept as it is`,
    },
  };
}

export interface HostDiffInput {
  model: Model;
  host: HostModel;
  snapshot: HostSnapshot;
  networks: readonly EngineNetwork[];
  /** containers of the networks networksToInspect named, by network id */
  containers: ReadonlyMap<string, AttachedContainer[]>;
  recreateNetworks: boolean;
  /** --adopt: networks and links made by hand that already are what the spec asks for are taken over in place */
  adopt?: boolean;
}

export interface HostDiff {
  steps: Step[];
  /** each change once, in the order of the steps */
  changes: Change[];
  problems: LiveProblem[];
  warnings: string[];
}

/** Live checks on what was read: the parent NIC, the host's address, who else manages the links. */
export function hostChecks(h: HostModel, snap: HostSnapshot, where: string, problems: LiveProblem[], warnings: string[]): void {
  const at = (...p: Array<string | number>) => ['hosts', h.name, ...p];
  const parent = snap.links.links.find((l) => l.ifname === h.parent);
  if (!parent) problems.push({ path: at('parent'), message: `network interface "${h.parent}" not found on ${where} (ip link)` });
  else if (!parent.flags.includes('UP')) problems.push({ path: at('parent'), message: `network interface "${h.parent}" is down` });
  if (parent && h.address !== undefined && !parent.addresses.some((a) => canonicalCidr(a) === canonicalCidr(h.address) && a.split('/')[0] === h.address!.split('/')[0])) {
    problems.push({ path: at('address'), message: `${h.address} is not on ${h.parent} (it has ${parent.addresses.join(', ') || 'no address'})` });
  }
  const netifState = parent ? snap.netif.get(parent.ifindex) : undefined;
  if (netifState && /^ADMIN_STATE=configured/m.test(netifState) && h.persist !== 'networkd') {
    warnings.push(`systemd-networkd manages ${h.parent}: a catch-all .network file (Name=* or Type=ether) would also match the shims and reconfigure them; persist: networkd gives them files of their own`);
  }
  const ifupdown = snap.files.get('etc/network/interfaces');
  if (ifupdown && new RegExp(`^\\s*iface\\s+${h.parent.replace(/[.]/g, '\\.')}\\b`, 'm').test(ifupdown)) {
    warnings.push(`ifupdown manages ${h.parent} (/etc/network/interfaces): ifdown/ifup of it takes the links on it down; the boot unit brings them back only at boot, run flatnet-router apply --host again after such a restart`);
  }
  if (snap.noVlan !== undefined) {
    // a VLAN link that exists already (made by hand, networkd, a NAS UI) needs no 802.1Q from flatnet
    for (const a of h.attachments) {
      if (a.vlan === undefined || snap.links.links.some((l) => l.ifname === a.link)) continue;
      problems.push({ path: ['networks', a.network, 'vlan'], message: `the kernel of ${where} has no 802.1Q VLAN support, so ${a.link} (VLAN ${a.vlan} on ${h.parent}) cannot be created (ip link add … type vlan: ${snap.noVlan}): load it with \`modprobe 8021q\` (and list 8021q in /etc/modules-load.d/ to keep it after a reboot), then plan again` });
    }
  }
  if (snap.networkManager) {
    warnings.push(`NetworkManager runs here: make sure it leaves the shims and VLAN links alone (e.g. unmanaged-devices=interface-name:fn-*;interface-name:${h.parent}.* in NetworkManager.conf), or it may take them down`);
  }
}

/** The whole host diff: Docker networks, links, boot files, in the order apply carries them out. */
export function diffHost(input: HostDiffInput, where: string): HostDiff {
  const { model, host: h, snapshot: snap } = input;
  const problems: LiveProblem[] = [];
  const warnings: string[] = [];
  if (snap.privilege !== undefined) problems.push({ path: ['hosts', h.name], message: snap.privilege });
  hostChecks(h, snap, where, problems, warnings);
  const ownersFile = snap.files.get(DOCKER_OWNERS_FILE);
  const records = parseOwnerRecords(ownersFile);
  const docker = planDocker(model, h, input.networks, input.containers, input.recreateNetworks, problems, warnings, records, input.adopt === true);
  const linkPlan = planLinks(h.name, h.attachments, snap.links, model.ownership, input.adopt === true);
  problems.push(...linkPlan.problems);
  // a whole network on the host that the spec does not name goes: said, with its VLAN, once
  const warned = new Set<string>();
  const inSpec = new Set(h.attachments.map((a) => a.network));
  for (const r of [...docker.removedNetworks, ...linkPlan.removedNetworks]) {
    if (warned.has(r.network) || inSpec.has(r.network)) continue;
    warned.add(r.network);
    warnings.push(removedNetworkWarning(r.network, r.vlan, `Docker host ${h.name}`, model.ownership.owner));
  }
  const ownerRecords = planOwnerRecords(model, docker, input.networks, records, ownersFile);
  // an adoption is its record: each writes the records as this plan leaves them (the same text for all)
  const adoptionRecords = docker.adoptions.length > 0 ? nextOwnerRecords(model, docker, input.networks, records) : '';
  const adoptions: DockerOp[] = docker.adoptions.map((d) => ({ kind: 'adopt', id: d.id, name: d.name, path: DOCKER_OWNERS_FILE, content: adoptionRecords, report: d.report }));
  const parent = snap.links.links.find((l) => l.ifname === h.parent);
  const netifState = parent ? snap.netif.get(parent.ifindex) : undefined;
  const networkFile = netifState ? /^NETWORK_FILE=(.+)$/m.exec(netifState)?.[1] : undefined;
  const files = planFiles(h, desiredFiles(model, h, networkFile, problems, parent?.ifindex), snap, model.ownership);
  // Networks that leave the spec go before new ones are made: Docker allows one macvlan network per parent,
  // and apply refuses to remove one that containers still use, so nothing running is cut by this order.
  const steps: Step[] = [
    ...linkPlan.parents.map((o) => ({ ip: o })),
    ...docker.removals.map((d) => ({ docker: d })),
    ...docker.changes.map((d) => ({ docker: d })),
    ...adoptions.map((d) => ({ docker: d })),
    ...linkPlan.removedShims.map((o) => ({ ip: o })),
    ...linkPlan.shims.map((o) => ({ ip: o })),
    ...files.map((f) => ({ file: f })),
    ...(ownerRecords ? [{ file: ownerRecords }] : []),
    ...linkPlan.removedParents.map((o) => ({ ip: o })),
  ];
  const changes: Change[] = [];
  const seen = new Set<Change>();
  for (const s of steps) {
    const c = stepReport(s);
    if (!seen.has(c)) {
      seen.add(c);
      changes.push(c);
    }
  }
  return { steps, changes, problems, warnings };
}

/** Docker networks that cannot be removed or replaced as planned because containers use them. */
export function blockedByContainers(steps: readonly Step[], recreate: boolean): Array<Exclude<DockerOp, { kind: 'create' | 'adopt' }>> {
  return steps.flatMap((s) => ('docker' in s && s.docker.kind !== 'create' && s.docker.kind !== 'adopt' && s.docker.containers.length > 0 && (s.docker.kind === 'remove' || !recreate) ? [s.docker] : []));
}

/** A file or ip step as the transport's operation. */
export function stepOp(s: Exclude<Step, { docker: DockerOp }>): HostOp {
  if ('ip' in s) return { kind: 'ip', argv: s.ip.argv };
  const f = s.file;
  return f.kind === 'write' ? { kind: 'write', path: f.path, content: f.content, mode: f.mode } : f.kind === 'link' ? { kind: 'link', path: f.path, target: f.target } : { kind: 'remove', path: f.path };
}

/** `cams (macvlan on enp3s0.30, 10.30.0.0/24 ip-range 10.30.0.64/26)`: a network and what identifies it, on one line. */
function networkLine(name: string, n: NetworkCreate): string {
  const subnets = n.IPAM.Config.map((c) => `${c.Subnet}${c.IPRange ? ` ip-range ${c.IPRange}` : ''}`);
  return `${name} (${[`${n.Driver}${n.Options.parent ? ` on ${n.Options.parent}` : ''}`, ...subnets].join(', ')})`;
}

function describeNetwork(n: NetworkCreate): PropertyChange[] {
  const props: PropertyChange[] = [
    { key: 'driver', to: n.Driver },
    { key: 'parent', to: n.Options.parent ?? '' },
  ];
  for (const c of n.IPAM.Config) {
    props.push({ key: 'subnet', to: `${c.Subnet} gateway ${c.Gateway}${c.IPRange ? ` ip-range ${c.IPRange}` : ''}` });
    if (c.AuxiliaryAddresses && Object.keys(c.AuxiliaryAddresses).length) props.push({ key: 'aux-addresses', to: auxText(c.AuxiliaryAddresses) });
  }
  for (const [key, value] of Object.entries(n.Labels)) props.push({ key: 'label', to: `${key}=${value}` });
  return props;
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
