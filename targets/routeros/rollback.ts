// RouterOS rollback: before the first change of an apply, the router gets a /system/script holding the inverse
// of the planned operations and a /system/scheduler entry that runs it once, S seconds later by the router's
// own clock. The apply confirms over a new connection by removing both; if it cannot, the router restores
// itself. Pure: the script text and the clock arithmetic, no I/O.
//
// The inverse, written before any change (so ids of objects the apply adds are not known yet):
//   - an add is undone by a remove of the rows with the add's exact comment whose .id was not there when
//     the plan read the router (ids are never reused): no value comparisons, renames do not matter;
//   - a set by a set of the old values (an `unset` where the property was absent), on the same .id;
//   - an enable by a disable, a disable by an enable, a move by a move before the rule's old successor
//     (a backward pass over the old table: each rule lands before a successor already in place);
//   - a remove by a re-add of the printed properties (a new .id: unavoidable), guarded so a remove that never
//     happened (a cut-off apply) adds nothing; a re-added rule goes before its old successor.
// Every line is a no-op for an operation the apply never carried out, so the script is right after any
// prefix of the apply. Order, fail-closed as the apply's own: (1) the apply's new VLAN interfaces disabled and
// its access ports back on their old PVID; (2) interfaces re-added (disabled) and set back (renames first,
// so later lines name interfaces as they were); (3) addresses, bridge VLAN entries (their PVID records),
// pools, DHCP and rules set back, re-added and moved back into place; (4) the apply's added objects removed,
// rules it enabled disabled, ports that left an access VLAN put back on it, interfaces it disabled enabled;
// (5) the apply's new VLAN interfaces removed; the scheduler entry goes first and the script last.
import { routerosProps, routerosString } from '../../src/quote.js';
import { MENU_ORDER, type RosMenu } from './index.js';
import { MARK_PREFIX as OWNER_PREFIX } from '../../src/ownership.js';
import type { LiveState, PlannedOp, Row } from './diff.js';

/** The name of the script and of the scheduler entry: one rollback per router at a time. */
export const ROLLBACK_NAME = 'flatnet-rollback';
/** Their comment: `flatnet:rollback <token> <when>` */
export const ROLLBACK_COMMENT = `${OWNER_PREFIX}rollback`;
/** What the script and the scheduler entry may do: read and change the configuration. */
export const ROLLBACK_POLICY = 'read,write';

/** Properties a print shows that an add does not take. */
const READ_ONLY = new Set(['.id', 'dynamic', 'invalid', 'bytes', 'packets', 'running', 'actual-interface', 'network', 'mac-address', 'l2mtu', 'slave', 'default-name']);

type AnyMenu = RosMenu | '/interface/bridge/port';
const isFirewall = (menu: string) => menu.endsWith('/firewall/filter');

/** The id of a row as a RouterOS script value: `*1F` (an internal id literal). */
function idLiteral(id: string): string {
  if (!/^\*[0-9A-Fa-f]+$/.test(id)) throw new Error(`internal: not a RouterOS id: ${id}`);
  return id;
}

export function rollbackScript(ops: readonly PlannedOp[], live: LiveState, comment: string): string {
  const rowsOf = (menu: AnyMenu): Row[] => (menu === '/interface/bridge/port' ? live.bridgePorts : live.menus[menu]);
  const rowOf = (menu: AnyMenu, id: string) => rowsOf(menu).find((r) => r['.id'] === id);
  const cut: string[] = [];
  const ifaces: string[] = [];
  const restore: string[] = [];
  const late: string[] = [];
  const last: string[] = [];

  // a removed object's id, or the id of its re-added copy: a variable set where it is re-added
  const vars = new Map<string, string>();
  const ref = (menu: AnyMenu, id: string) => (vars.has(`${menu} ${id}`) ? `$${vars.get(`${menu} ${id}`)!}` : idLiteral(id));
  const reAdd = (menu: RosMenu, row: Row, extra: Array<[string, string]> = [], placeBefore?: string): string[] => {
    const v = `r${vars.size}`;
    vars.set(`${menu} ${row['.id']!}`, v);
    // `.about` and other dotted columns are the router's notes, not properties
    const props = Object.entries(row).filter(([k]) => !k.startsWith('.') && !READ_ONLY.has(k) && !extra.some(([e]) => e === k));
    const words = routerosProps([...props, ...extra]);
    return [
      `:local ${v} ${idLiteral(row['.id']!)}`,
      `:if ([:len [${menu}/find where .id=${idLiteral(row['.id']!)}]] = 0) do={ :set ${v} [${menu}/add ${words}${placeBefore ? ` place-before=${placeBefore}` : ''}] }`,
    ];
  };

  // ---- sets, merged per object: every key any set touched goes back to its printed value
  const sets = new Map<string, { menu: AnyMenu; id: string; keys: Set<string>; levels: Set<number> }>();
  for (const p of ops) {
    if (p.op.op !== 'set') continue;
    const key = `${p.op.menu} ${p.op.id}`;
    const s = sets.get(key) ?? sets.set(key, { menu: p.op.menu, id: p.op.id, keys: new Set(), levels: new Set() }).get(key)!;
    for (const [k] of p.op.props) s.keys.add(k);
    s.levels.add(p.level);
  }
  const setBack = (s: { menu: AnyMenu; id: string; keys: Set<string> }): string[] => {
    const row = rowOf(s.menu, s.id);
    if (!row) throw new Error(`internal: a set of ${s.menu} ${s.id}, which the plan did not read`);
    const present = [...s.keys].filter((k) => row[k] !== undefined);
    const absent = [...s.keys].filter((k) => row[k] === undefined);
    return [
      ...(present.length > 0 ? [`${s.menu}/set ${idLiteral(s.id)} ${routerosProps(present.map((k) => [k, row[k]!]))}`] : []),
      ...absent.map((k) => `${s.menu}/unset ${idLiteral(s.id)} value-name=${k}`),
    ];
  };
  for (const s of sets.values()) {
    if (s.menu === '/interface/bridge/port') {
      // a port that joined an access VLAN (step 4) leaves it first; one that left it (step 1) goes back last
      (s.levels.has(1) ? late : cut).push(...setBack(s));
    } else if (s.menu === '/interface/vlan') ifaces.push(...setBack(s));
    else restore.push(...setBack(s));
  }

  // ---- enables and disables of objects that existed
  const enabled = ops.filter((p) => p.op.op === 'enable' && 'id' in p.op.target);
  const removedIds = new Set(ops.flatMap((p) => (p.op.op === 'remove' && 'id' in p.op.target ? [`${p.op.menu} ${p.op.target.id}`] : [])));
  for (const p of enabled) {
    if (p.op.op !== 'enable' || !('id' in p.op.target)) continue;
    const line = `${p.op.menu}/disable ${idLiteral(p.op.target.id)}`;
    if (p.op.menu === '/interface/vlan') cut.push(line);
    else if (isFirewall(p.op.menu)) late.push(line);
    else restore.push(line);
  }

  // ---- adds: the rows with the add's comment that the plan did not see
  const adds = new Map<RosMenu, Set<string>>();
  for (const p of ops) {
    if (p.op.op !== 'add') continue;
    const c = p.op.props.find(([k]) => k === 'comment')?.[1];
    if (c === undefined) throw new Error(`internal: an add to ${p.op.menu} without a comment`);
    (adds.get(p.op.menu) ?? adds.set(p.op.menu, new Set()).get(p.op.menu)!).add(c);
  }
  const finders = (menu: RosMenu): string[] => {
    const comments = [...(adds.get(menu) ?? [])];
    if (comments.length === 0) return [];
    const rows = live.menus[menu];
    const exclude = (ids: string[]) => ids.map((id) => ` and !(.id=${idLiteral(id)})`).join('');
    // one finder for every flatnet row of the menu, or one per comment: whichever excludes fewer ids
    const owned = rows.filter((r) => (r.comment ?? '').startsWith(OWNER_PREFIX)).map((r) => r['.id']!);
    const perComment = comments.map((c) => ({ c, ids: rows.filter((r) => r.comment === c).map((r) => r['.id']!) }));
    if (owned.length + 1 <= perComment.reduce((n, x) => n + x.ids.length + 1, 0)) {
      return [`[${menu}/find where comment~${routerosString(`^${OWNER_PREFIX}`)}${exclude(owned)}]`];
    }
    return perComment.map((x) => `[${menu}/find where comment=${routerosString(x.c)}${exclude(x.ids)}]`);
  };
  for (const f of finders('/interface/vlan')) {
    cut.push(`/interface/vlan/disable ${f}`);
    last.push(`/interface/vlan/remove ${f}`);
  }
  const removeAdded: string[] = [];
  for (const menu of [...MENU_ORDER].reverse()) if (menu !== '/interface/vlan') for (const f of finders(menu)) removeAdded.push(`${menu}/remove ${f}`);

  // ---- removals: re-added where they were
  const removed = (menu: RosMenu) => live.menus[menu].filter((r) => removedIds.has(`${menu} ${r['.id']}`));
  const enableLate: string[] = [];
  for (const row of removed('/interface/vlan')) {
    ifaces.unshift(...reAdd('/interface/vlan', row, [['disabled', 'yes']]));
  }
  // interfaces the apply disabled (a network that goes away) or removed: enabled once their rules are back
  const disabledByApply = ops.flatMap((p) => (p.op.op === 'disable' && 'id' in p.op.target ? [p.op.target.id] : []));
  for (const row of live.menus['/interface/vlan']) {
    const id = row['.id']!;
    const wasEnabled = row.disabled !== 'true' && row.disabled !== 'yes';
    if (wasEnabled && (disabledByApply.includes(id) || removedIds.has(`/interface/vlan ${id}`))) enableLate.push(`/interface/vlan/enable ${ref('/interface/vlan', id)}`);
  }
  // re-added interfaces first in their block: the sets of that block may rename others to free names
  const readds: string[] = [];
  for (const menu of MENU_ORDER) {
    if (menu === '/interface/vlan' || isFirewall(menu)) continue;
    for (const row of removed(menu)) readds.push(...reAdd(menu, row));
  }
  // rules: a backward pass over the old table; each moved or removed rule goes before its old successor,
  // which is in place by then
  const rulePasses: string[] = [];
  for (const menu of MENU_ORDER.filter(isFirewall)) {
    const moved = new Set(ops.flatMap((p) => (p.op.op === 'move' && p.op.menu === menu ? [p.op.id] : [])));
    const rows = live.menus[menu].filter((r) => r.dynamic !== 'true');
    const pass: string[] = [];
    for (let i = rows.length - 1; i >= 0; i--) {
      const row = rows[i]!;
      const id = row['.id']!;
      const next = rows[i + 1] ? ref(menu, rows[i + 1]!['.id']!) : undefined;
      if (removedIds.has(`${menu} ${id}`)) pass.push(...reAdd(menu, row, [], next));
      else if (moved.has(id)) pass.push(`${menu}/move ${idLiteral(id)}${next ? ` destination=${next}` : ''}`);
    }
    rulePasses.push(...pass);
  }

  const scheduler = `/system/scheduler/remove [/system/scheduler/find where name=${routerosString(ROLLBACK_NAME)} and comment=${routerosString(comment)}]`;
  const script = `/system/script/remove [/system/script/find where name=${routerosString(ROLLBACK_NAME)} and comment=${routerosString(comment)}]`;
  const block = (title: string, lines: string[]) => (lines.length > 0 ? [`# ${title}`, ...lines] : []);
  return [
    `# ${comment}: puts back what the apply changed (written by flatnet-router before its first change)`,
    scheduler,
    ...block("1. the apply's new VLAN interfaces off, its access ports back on their PVID", cut),
    ...block('2. VLAN interfaces back', ifaces),
    ...block('3. addresses, bridge VLANs, pools, DHCP and rules back, in place', [...restore, ...readds, ...rulePasses]),
    ...block("4. the apply's objects removed, ports back on their access VLAN, interfaces enabled", [...removeAdded, ...late, ...enableLate]),
    ...block("5. the apply's VLAN interfaces removed", last),
    script,
    '',
  ].join('\n');
}

// ---- the router's clock ---------------------------------------------------------------------------------

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

export interface RouterTime {
  /** as /system/clock prints it: `2025-06-01` (7.10+) or `jun/01/2025` */
  date: string;
  /** `HH:MM:SS` */
  time: string;
}

/** The router's local time `seconds` after `clock`, in the same date format; undefined when unreadable. */
export function clockPlus(clock: RouterTime, seconds: number): RouterTime | undefined {
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(clock.date);
  const old = /^([a-z]{3})\/(\d{2})\/(\d{4})$/.exec(clock.date.toLowerCase());
  const t = /^(\d{1,2}):(\d{2}):(\d{2})/.exec(clock.time);
  if ((!iso && !old) || !t) return undefined;
  const [y, m, d] = iso ? [Number(iso[1]), Number(iso[2]) - 1, Number(iso[3])] : [Number(old![3]), MONTHS.indexOf(old![1]!), Number(old![2])];
  if (m < 0) return undefined;
  // calendar arithmetic only (UTC has no DST): the router's scheduler reads its local wall clock
  const at = new Date(Date.UTC(y, m, d, Number(t[1]), Number(t[2]), Number(t[3])) + Math.ceil(seconds) * 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  const date = iso ? `${at.getUTCFullYear()}-${two(at.getUTCMonth() + 1)}-${two(at.getUTCDate())}` : `${MONTHS[at.getUTCMonth()]}/${two(at.getUTCDate())}/${at.getUTCFullYear()}`;
  return { date, time: `${two(at.getUTCHours())}:${two(at.getUTCMinutes())}:${two(at.getUTCSeconds())}` };
}

// ---- a rollback left behind ---------------------------------------------------------------------------

export interface Leftover {
  /** the scheduler entry is there and enabled: the rollback will run */
  pending: boolean;
  message: string;
  /** ids to remove before a new rollback is installed (inert leftovers only) */
  scheduler?: string;
  script?: string;
}

/** What the plan's prints of /system/scheduler and /system/script (by name) found. */
export function leftoverRollback(scheduler: Row[], script: Row[], device: string): Leftover | undefined {
  const entry = scheduler[0];
  const source = script[0];
  if (!entry && !source) return undefined;
  const label = (entry?.comment ?? source?.comment ?? '').trim() || ROLLBACK_NAME;
  const remove = `/system/scheduler/remove [find name=${ROLLBACK_NAME}]; /system/script/remove [find name=${ROLLBACK_NAME}]`;
  if (entry && entry.disabled !== 'true' && entry.disabled !== 'yes') {
    const when = [entry['start-date'], entry['start-time']].filter(Boolean).join(' ');
    return {
      pending: true,
      message:
        `a rollback of an earlier apply is pending (scheduler entry and script ${ROLLBACK_NAME}, "${label}"): the ${device} restores the state before that apply${when ? ` at ${when} (its clock)` : ''}; ` +
        `plan again after that, or keep that apply's changes by removing both (${remove})`,
    };
  }
  return {
    pending: false,
    message: `a rollback of an earlier apply was left behind and will not run (${entry ? 'its scheduler entry is disabled' : 'its script ran and stopped before its end, or its scheduler entry was removed'}; "${label}"): the ${device} may hold part of the state before that apply; this plan goes from what is there now${entry || source ? `, and an apply with a rollback replaces ${ROLLBACK_NAME}` : ''}`,
    ...(entry ? { scheduler: entry['.id']! } : {}),
    ...(source ? { script: source['.id']! } : {}),
  };
}
