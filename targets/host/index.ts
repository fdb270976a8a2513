// The Docker host side: the macvlan/ipvlan "shim" that lets the host reach its own containers (a macvlan
// child cannot talk to its parent), as `ip` commands and as persistent systemd-networkd files.
import type { Attachment, HostModel } from '../../src/model.js';
import { shellQuote } from '../../src/quote.js';
import { renderTemplate } from '../../src/render.js';
import { hostTarget, type Target } from '../../src/target.js';
import { addrArgv, aliasArgv, desiredLinks, linkAddArgv, routeArgv, upArgv } from './links.js';

export interface HostCommand {
  argv: string[];
  /** run only when this link does not exist yet, so the script can be run again */
  unlessLinkExists?: string;
  /** with unlessLinkExists: run this too, only when the link was just created */
  thenWhenCreated?: string[];
  /** a line of shell printed instead of argv (argv is then empty); its values are quoted already */
  shell?: string;
}

const q = shellQuote;

/** A host route as `ip route show` prints it: without its /32 (/128). */
function printedRoute(cidr: string): string[] {
  return /\/(32|128)$/.test(cidr) ? [cidr, cidr.replace(/\/\d+$/, '')] : [cidr];
}

/**
 * Deletes every global address on the shim but the spec's: after a change of shim-address the old one must not
 * stay (the shim is flatnet's own link). It runs before the `addr replace`: the kernel deletes an IPv4
 * primary's secondaries with it, which the new /32 would be if the old address was a wider prefix holding it.
 */
function pruneAddresses(dev: string, keep: string[]): HostCommand {
  return {
    argv: [],
    shell: `ip -o addr show dev ${q(dev)} scope global | while read -r _ _ _ addr _; do case $addr in ${keep.map(q).join('|')}) ;; *) ip addr del "$addr" dev ${q(dev)} ;; esac; done`,
  };
}

/** Deletes the routes through the shim (main table) that the spec does not give, except the kernel's own. */
function pruneRoutes(dev: string, family: 4 | 6, keep: string | undefined): HostCommand {
  const ip = family === 4 ? 'ip' : 'ip -6';
  const kept = (keep === undefined ? [] : printedRoute(keep)).map((r) => `${q(`${r} `)}*`);
  // without IPv6 in the kernel `ip -6 route show` fails: nothing to delete then
  const quiet = family === 6 ? ' 2>/dev/null' : '';
  return {
    argv: [],
    shell: `${ip} route show dev ${q(dev)}${quiet} | while read -r dst rest; do case "$dst $rest " in ${[...kept, "*' proto kernel '*"].join('|')}) ;; *) ${ip} route del "$dst" dev ${q(dev)} ;; esac; done`,
  };
}

/**
 * The shim commands for one attachment. Names always follow `dev`/`name`, so a link called "up" or "help"
 * is not read as a keyword. The shim address is a /32 (/128): with the prefix of the range
 * (the seed's /27) the kernel adds a prefix route itself and the `ip route` that follows fails "File exists".
 * addr and route use `replace`, which is idempotent, so the script can run again after a partial run; and
 * addresses and routes on the shim that the spec no longer gives (an earlier shim-address or container-range)
 * are deleted, so a run after a spec change leaves exactly the spec's.
 */
export function shimCommands(a: Attachment, owner?: string): HostCommand[] {
  // the same links, pieces and alias (ownership) as `apply --host`, as one idempotent script
  const links = desiredLinks([a], owner);
  const ip = (argv: string[]) => ({ argv: ['ip', ...argv] });
  const cmds: HostCommand[] = [];
  const vlan = links.find((d) => d.kind === 'vlan');
  if (vlan) {
    // a VLAN link the user made already keeps its own alias: ours is set only on a link this script creates
    cmds.push({ argv: ['ip', ...linkAddArgv(vlan)], unlessLinkExists: vlan.name, thenWhenCreated: ['ip', ...aliasArgv(vlan)] });
    cmds.push(ip(upArgv(vlan)));
  }
  const shim = links.find((d) => d.kind !== 'vlan')!;
  cmds.push({ argv: ['ip', ...linkAddArgv(shim)], unlessLinkExists: shim.name });
  cmds.push(ip(aliasArgv(shim)));
  cmds.push(pruneAddresses(shim.name, shim.addresses));
  for (const address of shim.addresses) cmds.push(ip(addrArgv('replace', address, shim.name)));
  cmds.push(ip(upArgv(shim)));
  for (const family of [4, 6] as const) {
    const route = shim.routes.find((r) => r.family === family);
    if (route) cmds.push(ip(routeArgv('replace', family, route.dst, shim.name)));
    cmds.push(pruneRoutes(shim.name, family, route?.dst));
  }
  return cmds;
}

export const shimTarget: Target = hostTarget('host', (model, host) => [
  { path: `host/${host.name}.sh`, content: renderTemplate('host', 'shim.sh', { commands: host.attachments.flatMap((a) => shimCommands(a, model.ownership.owner)) }) },
]);

export interface NetworkdFile {
  name: string;
  template: string;
  view: object;
}

/**
 * systemd-networkd files that recreate the shim (and the VLAN device) at boot. Low numbers: networkd uses the
 * first .network file that matches a link, and distributions ship catch-alls such as 20-wired.network (en*).
 */
export function networkdFiles(h: HostModel): NetworkdFile[] {
  const files: NetworkdFile[] = [];
  const parentLinks = new Map<string, Array<{ key: string; name: string }>>();
  const attach = (parent: string, key: string, name: string) => {
    const list = parentLinks.get(parent) ?? [];
    list.push({ key, name });
    parentLinks.set(parent, list);
  };
  for (const a of h.attachments) {
    const kind = a.driver === 'macvlan' ? 'MACVLAN' : 'IPVLAN';
    if (a.vlan !== undefined) {
      attach(a.parent, 'VLAN', a.link);
      files.push({ name: `10-flatnet-${a.link}.netdev`, template: 'vlan.netdev', view: { a } });
      files.push({ name: `10-flatnet-${a.link}.network`, template: 'vlan.network', view: { a, kind } });
    } else {
      attach(a.parent, kind, a.shimName);
    }
    files.push({ name: `11-flatnet-${a.shimName}.netdev`, template: 'shim.netdev', view: { a, macvlan: a.driver === 'macvlan' } });
    files.push({ name: `11-flatnet-${a.shimName}.network`, template: 'shim.network', view: { a, ipv6: a.ipv6 ?? null } });
  }
  for (const [parent, links] of parentLinks) {
    files.push({ name: `${parent}.network.d/flatnet.conf`, template: 'parent.conf', view: { parent, links } });
  }
  return files;
}

export const networkdTarget: Target = hostTarget('networkd', (_model, host) =>
  networkdFiles(host).map((f) => ({ path: `networkd/${host.name}/${f.name}`, content: renderTemplate('host', f.template, f.view) })),
);
