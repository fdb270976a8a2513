// The host's links, addresses and routes: read with iproute2's JSON output (`ip -j`), compared with the
// shims and VLAN parents the spec wants, and changed with argv-only `ip` calls (never a shell string).
// Ownership is the interface alias `flatnet:<network>` (shim) or `flatnet:<parent>.<vlan>` (VLAN parent), with
// `@<owner>` for a spec with an owner (src/ownership.ts writes and reads it).
import { execFile } from 'node:child_process';
import type { Attachment } from '../../src/model.js';
import type { Change, LiveProblem } from '../../src/plan/types.js';
import { heldByOther, mark, MARK_PREFIX, owns, parseMark, type Ownership } from '../../src/ownership.js';

export interface LiveLink {
  ifname: string;
  ifindex: number;
  flags: string[];
  link?: string;
  ifalias?: string;
  linkinfo?: { info_kind?: string; info_data?: { mode?: string; id?: number } };
  addresses: string[];
}

export interface LiveRoute {
  dst: string;
  dev: string;
  protocol?: string;
  family: 4 | 6;
}

export interface LiveHostLinks {
  links: LiveLink[];
  routes: LiveRoute[];
}

export interface DesiredLink {
  name: string;
  kind: 'vlan' | 'macvlan' | 'ipvlan';
  lower: string;
  vlanId?: number;
  alias: string;
  /** CIDR strings, exactly these on the link */
  addresses: string[];
  /** destinations routed via this link, exactly these (kernel and link-local routes aside) */
  routes: Array<{ family: 4 | 6; dst: string }>;
  network?: string;
}

export interface IpOp {
  argv: string[];
  report: Change;
}

/** The links of these attachments; their aliases carry the spec's owner when it has one. */
export function desiredLinks(attachments: readonly Attachment[], owner?: string): DesiredLink[] {
  const out: DesiredLink[] = [];
  for (const a of attachments) {
    if (a.vlan !== undefined && !out.some((l) => l.name === a.link)) {
      out.push({ name: a.link, kind: 'vlan', lower: a.parent, vlanId: a.vlan, alias: mark(a.link, owner), addresses: [], routes: [] });
    }
    out.push({
      name: a.shimName,
      kind: a.driver,
      lower: a.link,
      alias: mark(a.network, owner),
      addresses: [`${a.ipv4.shimAddress}/32`, ...(a.ipv6 ? [`${a.ipv6.shimAddress}/128`] : [])],
      routes: [{ family: 4, dst: a.ipv4.route }, ...(a.ipv6 ? [{ family: 6 as const, dst: a.ipv6.route }] : [])],
      network: a.network,
    });
  }
  return out;
}

/** Runs `ip` with argv (no shell), bounded in time; resolves stdout or rejects with stderr's first line. */
export function ip(argv: readonly string[], timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ip', [...argv], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const why = stderr.split('\n').find((l) => l.trim()) ?? err.message;
        reject(new Error(`ip ${argv.join(' ')}: ${why.trim()}`));
      } else resolve(stdout);
    });
  });
}

/** One `ip -j` read per object kind: links (with details and addresses) and routes of both families. */
export async function readLinks(run: (argv: readonly string[]) => Promise<string> = ip): Promise<LiveHostLinks & { reads: number }> {
  const [linkText, addrText, r4, r6] = await Promise.all([
    run(['-j', '-d', 'link', 'show']),
    run(['-j', 'addr', 'show']),
    run(['-j', '-4', 'route', 'show', 'table', 'main']),
    run(['-j', '-6', 'route', 'show', 'table', 'main']),
  ]);
  return { ...parseLinks(linkText, addrText, r4, r6), reads: 4 };
}

/** The four `ip -j` outputs (link -d, addr, route -4, route -6) as links with their addresses, and routes. */
export function parseLinks(linkText: string, addrText: string, r4: string, r6: string): LiveHostLinks {
  const parse = <T>(text: string): T[] => (text.trim() === '' ? [] : (JSON.parse(text) as T[]));
  const addrs = new Map<string, string[]>();
  for (const a of parse<{ ifname: string; addr_info?: Array<{ local?: string; prefixlen?: number; scope?: string }> }>(addrText)) {
    addrs.set(
      a.ifname,
      (a.addr_info ?? []).filter((x) => x.local && x.scope !== 'link').map((x) => `${x.local}/${x.prefixlen}`),
    );
  }
  const links = parse<Omit<LiveLink, 'addresses'>>(linkText).map((l) => ({ ...l, addresses: addrs.get(l.ifname) ?? [] }));
  const routes: LiveRoute[] = [
    ...parse<{ dst: string; dev: string; protocol?: string }>(r4).map((r) => ({ dst: r.dst, dev: r.dev, ...(r.protocol ? { protocol: r.protocol } : {}), family: 4 as const })),
    ...parse<{ dst: string; dev: string; protocol?: string }>(r6).map((r) => ({ dst: r.dst, dev: r.dev, ...(r.protocol ? { protocol: r.protocol } : {}), family: 6 as const })),
  ];
  return { links, routes };
}

/** flatnet's link (any owner's): its alias is a mark */
const flatnets = (l: LiveLink) => parseMark(l.ifalias) !== undefined;
const isUp = (l: LiveLink) => l.flags.includes('UP');

/** `ip -j` prints a /32 route as the bare address and a host address the same way: compare in CIDR form. */
function cidr(dst: string, family: 4 | 6): string {
  if (dst.includes('/')) return dst;
  return `${dst}/${family === 4 ? 32 : 128}`;
}

export interface LinkPlanResult {
  /** VLAN parents: before Docker sees them */
  parents: IpOp[];
  /** shims: after the Docker networks */
  shims: IpOp[];
  /** owned shims the spec no longer has */
  removedShims: IpOp[];
  /** owned VLAN parents the spec no longer has: after the Docker networks on them */
  removedParents: IpOp[];
  problems: LiveProblem[];
  /** the spec networks whose shims go (their networks are no longer in the spec), with the VLAN they ride on */
  removedNetworks: Array<{ network: string; vlan?: string }>;
}

/** `ip` argv (without `ip`) of one link's pieces; the host script uses the same ones. */
export const linkAddArgv = (d: DesiredLink) => [
  'link', 'add', 'link', d.lower, 'name', d.name,
  ...(d.kind === 'vlan' ? ['type', 'vlan', 'id', String(d.vlanId)] : d.kind === 'macvlan' ? ['type', 'macvlan', 'mode', 'bridge'] : ['type', 'ipvlan', 'mode', 'l2']),
];
export const aliasArgv = (d: DesiredLink) => ['link', 'set', 'dev', d.name, 'alias', d.alias];
export const upArgv = (d: DesiredLink) => ['link', 'set', 'dev', d.name, 'up'];
/** IPv6 addresses go without duplicate address detection: the shim's address is reserved in Docker's IPAM. */
export const addrArgv = (verb: 'replace' | 'del', address: string, dev: string) =>
  address.includes(':') ? ['-6', 'addr', verb, address, 'dev', dev, ...(verb === 'replace' ? ['nodad'] : [])] : ['addr', verb, address, 'dev', dev];
export const routeArgv = (verb: 'replace' | 'del', family: 4 | 6, dst: string, dev: string) => [...(family === 6 ? ['-6'] : []), 'route', verb, dst, 'dev', dev];

function createOps(d: DesiredLink): string[][] {
  return [linkAddArgv(d), aliasArgv(d), ...d.addresses.map((a) => addrArgv('replace', a, d.name)), upArgv(d), ...d.routes.map((r) => routeArgv('replace', r.family, r.dst, d.name))];
}

/**
 * The ip operations that make the host's links what the spec wants. Only links of this spec's owner (and of
 * --from-owner's, whose alias is set to the spec's in place) are changed or removed; a link the spec needs that
 * another owner's alias holds is a problem.
 */
export function planLinks(host: string, attachments: readonly Attachment[], live: LiveHostLinks, ownership: Ownership = {}, adopt = false): LinkPlanResult {
  const desired = desiredLinks(attachments, ownership.owner);
  const owned = (l: LiveLink) => {
    const m = parseMark(l.ifalias);
    return m !== undefined && owns(ownership, m.owner);
  };
  const byName = new Map(live.links.map((l) => [l.ifname, l]));
  const parents: IpOp[] = [];
  const shims: IpOp[] = [];
  const removedShims: IpOp[] = [];
  const removedParents: IpOp[] = [];
  const problems: LiveProblem[] = [];
  const kindOf = (l: LiveLink) => l.linkinfo?.info_kind;

  for (const d of desired) {
    const target = d.kind === 'vlan' ? parents : shims;
    const have = byName.get(d.name);
    const what = d.kind === 'vlan' ? 'VLAN parent' : 'shim';
    const ops = (argvs: string[][], change: Change) => argvs.forEach((argv) => target.push({ argv, report: change }));
    if (!have) {
      const change: Change = { action: 'add', kind: `${what} link`, name: `${d.name} (${d.kind === 'vlan' ? `vlan ${d.vlanId}` : d.kind} on ${d.lower}${d.addresses.length ? `, ${d.addresses.join(' ')}` : ''})`, ...(d.network ? { network: d.network } : {}), props: [{ key: 'type', to: d.kind === 'vlan' ? `vlan ${d.vlanId} on ${d.lower}` : `${d.kind} on ${d.lower}` }, { key: 'alias', to: d.alias }, ...d.addresses.map((a) => ({ key: 'address', to: a })), ...d.routes.map((r) => ({ key: 'route', to: r.dst }))] };
      ops(createOps(d), change);
      continue;
    }
    if (flatnets(have) && !owned(have)) {
      // flatnet's, of another spec: never changed (its spec may remove it, taking what rides on it down)
      const m = parseMark(have.ifalias)!;
      const what = d.kind === 'vlan' ? `VLAN ${d.vlanId} (link ${d.name})` : `link ${d.name}`;
      problems.push({ path: d.network !== undefined ? ['networks', d.network] : ['hosts', host], message: heldByOther(what, `alias ${have.ifalias}`, m.owner, ownership.owner) });
      continue;
    }
    // made by hand: --adopt takes it over in place (its alias set) when it is the link the spec asks for
    // (a shim in another mode than flatnet's, e.g. a private macvlan, would not reach the containers: not adopted)
    const mode = have.linkinfo?.info_data?.mode;
    const adoptable = kindOf(have) === d.kind && have.link === d.lower && (d.kind !== 'vlan' || have.linkinfo?.info_data?.id === d.vlanId) && (mode === undefined || mode === (d.kind === 'macvlan' ? 'bridge' : d.kind === 'ipvlan' ? 'l2' : mode));
    const adopted = !owned(have);
    if (adopted && d.kind === 'vlan' && !(adopt && adoptable)) {
      // a VLAN parent the user made (ifupdown, networkd, a NAS UI) is used as it is, never changed or removed
      continue;
    }
    if (adopted && d.kind !== 'vlan' && !(adopt && adoptable)) {
      const kindText = `${kindOf(have) ?? 'a link'}${mode !== undefined ? ` mode ${mode}` : ''}${have.link ? ` on ${have.link}` : ''}`;
      problems.push({
        path: ['hosts', host],
        message: !adoptable
          ? `link ${d.name} exists and is not flatnet's (no "${MARK_PREFIX}" alias)${adopt ? ` and is ${kindText}, not ${d.kind} ${d.kind === 'macvlan' ? 'mode bridge ' : 'mode l2 '}on ${d.lower}, so --adopt cannot take it over` : ''}: remove it (ip link del dev ${d.name}) or give the network a shim-name that is free`
          : `link ${d.name} (${kindText}) exists and is not flatnet's (no "${MARK_PREFIX}" alias): plan --adopt (then apply --adopt) takes it over in place (its alias set, its addresses and routes made the spec's); or remove it (ip link del dev ${d.name}), or give the network a shim-name that is free`,
      });
      continue;
    }
    const wrongKind = kindOf(have) !== d.kind || (have.link !== undefined && have.link !== d.lower) || (d.kind === 'vlan' && have.linkinfo?.info_data?.id !== d.vlanId);
    if (wrongKind && d.kind === 'vlan') {
      // deleting a VLAN parent takes every macvlan on it down, containers' included: never done unasked
      problems.push({ path: ['hosts', host], message: `link ${d.name} is flatnet's but is ${kindOf(have) ?? 'a link'} ${have.linkinfo?.info_data?.id ?? ''} on ${have.link ?? '?'}, not VLAN ${d.vlanId} on ${d.lower}: stop the containers on it and remove it (ip link del dev ${d.name}), then apply again` });
      continue;
    }
    if (wrongKind) {
      const change: Change = { action: 'replace', kind: `${what} link`, name: d.name, ...(d.network ? { network: d.network } : {}), note: `was ${kindOf(have) ?? 'unknown'} on ${have.link ?? '?'}` };
      ops([['link', 'del', 'dev', d.name], ...createOps(d)], change);
      continue;
    }
    const props: Change['props'] = [];
    const argvs: string[][] = [];
    if (have.ifalias !== d.alias) {
      argvs.push(aliasArgv(d));
      props.push({ key: 'alias', from: have.ifalias ?? '', to: d.alias });
    }
    for (const a of d.addresses) {
      if (!have.addresses.includes(a)) {
        argvs.push(addrArgv('replace', a, d.name));
        props.push({ key: 'address', to: a });
      }
    }
    for (const a of have.addresses) {
      if (!d.addresses.includes(a)) {
        argvs.push(addrArgv('del', a, d.name));
        props.push({ key: 'address', from: a });
      }
    }
    if (!isUp(have)) {
      argvs.push(upArgv(d));
      props.push({ key: 'state', from: 'down', to: 'up' });
    }
    const liveRoutes = live.routes.filter((r) => r.dev === d.name && r.protocol !== 'kernel' && !r.dst.startsWith('fe80:'));
    for (const r of d.routes) {
      if (!liveRoutes.some((x) => x.family === r.family && cidr(x.dst, x.family) === r.dst)) {
        argvs.push(routeArgv('replace', r.family, r.dst, d.name));
        props.push({ key: 'route', to: r.dst });
      }
    }
    for (const x of liveRoutes) {
      if (!d.routes.some((r) => r.family === x.family && r.dst === cidr(x.dst, x.family))) {
        argvs.push(routeArgv('del', x.family, x.dst, d.name));
        props.push({ key: 'route', from: x.dst });
      }
    }
    if (adopted) {
      // `= adopt` when only the alias is set; `~` (noted as adopted) when addresses, routes or state change too
      const action = props.every((p) => p.key === 'alias') ? ('adopt' as const) : ('change' as const);
      ops(argvs, { action, kind: `${what} link`, name: d.name, ...(d.network ? { network: d.network } : {}), props, note: 'made by hand, taken over in place' });
      continue;
    }
    if (argvs.length > 0) ops(argvs, { action: 'change', kind: `${what} link`, name: d.name, ...(d.network ? { network: d.network } : {}), props });
  }
  const wanted = new Set(desired.map((d) => d.name));
  const removedNetworks: LinkPlanResult['removedNetworks'] = [];
  for (const l of live.links.filter((x) => owned(x) && !wanted.has(x.ifname))) {
    const parent = kindOf(l) === 'vlan';
    const network = parseMark(l.ifalias)!.network;
    const vlan = /\.(\d+)$/.exec(l.link ?? '')?.[1];
    if (!parent) removedNetworks.push({ network, ...(vlan !== undefined ? { vlan } : {}) });
    (parent ? removedParents : removedShims).push({
      argv: ['link', 'del', 'dev', l.ifname],
      report: { action: 'remove', kind: `${parent ? 'VLAN parent' : 'shim'} link`, name: l.ifname, network, note: 'its addresses and routes go with it' },
    });
  }
  return { parents, shims, removedShims, removedParents, problems, removedNetworks };
}
