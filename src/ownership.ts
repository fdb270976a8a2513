// Ownership markers: how every object flatnet creates records that flatnet made it, for which network, and for
// which spec `owner:`. Defined once here; every target writes and reads its marker through these functions.
//
//   RouterOS comment, shim/VLAN-link alias   flatnet:<network>            (a spec without owner)
//                                            flatnet:<network>@<owner>    (a spec with owner)
//   OpenWrt                                  section flatnet_<network>..., option flatnet_owner '<owner>'
//   Docker                                   label flatnet.network=<network>, label flatnet.owner=<owner>
//
// A spec owns the objects whose owner is its own `owner:` (none: the objects without an owner). Objects of
// another owner are never changed or removed; a network name or VLAN id they hold is refused.

/** The prefix of every RouterOS comment and link alias flatnet writes. */
export const MARK_PREFIX = 'flatnet:';
/** What separates the network from the owner in a mark. */
export const OWNER_SEPARATOR = '@';
/** OpenWrt: every flatnet section's name starts with this. */
export const UCI_SECTION_PREFIX = 'flatnet_';
/** OpenWrt: the option of a flatnet section that records its owner (absent: no owner). */
export const UCI_OWNER_OPTION = 'flatnet_owner';
/** Docker: the label that marks a network as flatnet's, with the spec network's name. */
export const DOCKER_NETWORK_LABEL = 'flatnet.network';
/** Docker: the label that records the owner (absent: no owner). */
export const DOCKER_OWNER_LABEL = 'flatnet.owner';

/**
 * A RouterOS regex (POSIX) matching the comments of this owner's objects only: `^flatnet:<network>` or
 * `^flatnet:<network>@<owner>`, then the end or the access ports' record (`;`).
 */
export function markRegex(owner: string | undefined): string {
  return `^${MARK_PREFIX}[a-z0-9-]+${owner !== undefined ? `${OWNER_SEPARATOR}${owner}` : ''}($|;)`;
}

/** A parsed mark: the network (or other subject, e.g. `<parent>.<vlan>` of a VLAN link) and its owner. */
export interface Mark {
  network: string;
  owner?: string;
}

/** `flatnet:<network>` or `flatnet:<network>@<owner>`. */
export function mark(network: string, owner?: string): string {
  return `${MARK_PREFIX}${network}${owner !== undefined ? `${OWNER_SEPARATOR}${owner}` : ''}`;
}

/**
 * The mark at the start of a comment or alias (what follows a `;` is not part of it: the RouterOS access
 * ports' record), or undefined when the text is not flatnet's.
 */
export function parseMark(text: string | undefined): Mark | undefined {
  if (text === undefined || !text.startsWith(MARK_PREFIX)) return undefined;
  const body = text.slice(MARK_PREFIX.length).split(';')[0]!.trim();
  const at = body.lastIndexOf(OWNER_SEPARATOR);
  return at > 0 ? { network: body.slice(0, at), owner: body.slice(at + 1) } : { network: body };
}

/** Whether an object's owner (undefined: none) is the spec's. */
export function sameOwner(objectOwner: string | undefined, specOwner: string | undefined): boolean {
  return (objectOwner ?? '') === (specOwner ?? '');
}

/** `owner "nas1"` or `no owner`, for messages. */
export function ownerText(owner: string | undefined): string {
  return owner === undefined ? 'no owner' : `owner "${owner}"`;
}

/**
 * The live-problem message for a network name or VLAN id that objects of another owner hold, e.g.
 * `network "media" is held by objects of owner "nas1" (flatnet:media@nas1) ...`.
 */
export function heldByOther(what: string, example: string, objectOwner: string | undefined, specOwner: string | undefined): string {
  return (
    `${what} is held by objects of ${ownerText(objectOwner)} (${example}); this spec has ${ownerText(specOwner)} and never changes another owner's objects: ` +
    `choose another ${what.startsWith('VLAN') ? 'vlan' : 'network name'}, or, if this spec had that owner before, plan with --from-owner ${objectOwner ?? 'none'} to relabel them in place`
  );
}

/** The spec's ownership as targets see it: its owner, and the owner whose objects it takes over (--from-owner). */
export interface Ownership {
  owner?: string;
  /** --from-owner: objects of this owner (null: without owner) are this spec's too, relabelled in place */
  from?: { owner?: string };
}

/** Whether an object with this owner is the spec's: its own owner's, or the --from-owner's it relabels. */
export function owns(o: Ownership, objectOwner: string | undefined): boolean {
  return sameOwner(objectOwner, o.owner) || (o.from !== undefined && sameOwner(objectOwner, o.from.owner));
}

/** The warning for a whole network that the plan removes because the spec no longer names it. */
export function removedNetworkWarning(network: string, vlan: string | undefined, device: string, owner: string | undefined): string {
  return (
    `network ${network}${vlan ? ` (VLAN ${vlan})` : ''} is on the ${device} but not in this spec: the plan removes it` +
    `${owner === undefined ? '' : ` (its objects carry this spec's owner "${owner}")`}; if another spec manages it, give each spec its own owner: (top level) so that neither removes the other's networks`
  );
}

// ---- Docker host ------------------------------------------------------------------------------------------

/** Docker: the labels of a network flatnet creates (the owner label only for a spec with an owner). */
export function dockerLabels(network: string, owner: string | undefined): Record<string, string> {
  return { [DOCKER_NETWORK_LABEL]: network, ...(owner !== undefined ? { [DOCKER_OWNER_LABEL]: owner } : {}) };
}

/** Docker: the spec network a network's labels name, or undefined when it is not flatnet's. */
export function dockerNetworkOf(labels: Readonly<Record<string, string>> | null | undefined): string | undefined {
  return labels?.[DOCKER_NETWORK_LABEL];
}

/**
 * The owner of a Docker network flatnet made: what the host's owner records say (a relabelling, since a
 * network's labels cannot change), else its owner label (absent: no owner).
 */
export function dockerOwnerOf(id: string, labels: Readonly<Record<string, string>> | null | undefined, records: OwnerRecords): string | undefined {
  const r = records.networks[id];
  return r !== undefined ? r.owner : labels?.[DOCKER_OWNER_LABEL];
}

/**
 * The spec network a Docker network is flatnet's for: its flatnet.network label, or, for a network made by hand
 * and adopted (plan --adopt; it has no label and cannot get one), the name its owner record gives.
 */
export function dockerFlatnetNetwork(id: string, labels: Readonly<Record<string, string>> | null | undefined, records: OwnerRecords): string | undefined {
  const label = dockerNetworkOf(labels);
  if (label !== undefined) return label;
  const r = records.networks[id];
  return r?.adopted ? r.name : undefined;
}

/**
 * The host's owner records (<install-root>/etc/flatnet/owners.json): Docker networks relabelled with
 * --from-owner, and networks made by hand that --adopt took over (`adopted: true`: flatnet's from then on
 * without its labels), by network id (a network made again under the same name gets its labels, not this record).
 */
export const DOCKER_OWNERS_FILE = 'etc/flatnet/owners.json';

export interface OwnerRecords {
  /** network id → its name (for people; an adopted network's spec network) and its owner now (absent: no
   *  owner); adopted: made by hand and taken over with --adopt (no flatnet labels) */
  networks: Record<string, { name: string; owner?: string; adopted?: true }>;
}

/** The records in the file's text (absent or unreadable: none; a broken file is never trusted half-way). */
export function parseOwnerRecords(text: string | undefined): OwnerRecords {
  if (text === undefined) return { networks: {} };
  try {
    const data = JSON.parse(text) as { networks?: Record<string, { name?: unknown; owner?: unknown; adopted?: unknown }> };
    const networks: OwnerRecords['networks'] = {};
    for (const [id, r] of Object.entries(data.networks ?? {})) {
      if (typeof r?.name !== 'string') continue;
      networks[id] = { name: r.name, ...(typeof r.owner === 'string' ? { owner: r.owner } : {}), ...(r.adopted === true ? { adopted: true as const } : {}) };
    }
    return { networks };
  } catch {
    return { networks: {} };
  }
}

/** The file's text: ids in order, so the same records are the same bytes. */
export function ownerRecordsText(records: OwnerRecords): string {
  const networks = Object.fromEntries(Object.keys(records.networks).sort().map((id) => [id, records.networks[id]!]));
  return `${JSON.stringify({ comment: 'flatnet-router: owners of Docker networks relabelled with --from-owner or adopted with --adopt (a network\'s labels cannot change)', networks }, null, 2)}\n`;
}
