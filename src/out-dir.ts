// `generate --out DIR`: writes the artifacts and removes the files an earlier run wrote that the spec no longer
// produces (a network or host taken out of the spec). What flatnet wrote is listed in DIR/.flatnet-manifest;
// a file not in that list is never removed, nor one changed since flatnet wrote it.
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, readdirSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, resolve, sep } from 'node:path';
import { UserError } from './errors.js';
import { TARGET_NAMES, type Artifact, type TargetName } from './target.js';
import { TARGETS } from './targets.js';

export const MANIFEST = '.flatnet-manifest';
const HEADER = '# flatnet-router: files written by generate --out; those the spec no longer produces are removed on the next run';

export interface ManifestEntry {
  target: string;
  owner: string;
  /** relative to DIR, with / */
  path: string;
  /** sha256 of the content written */
  sha256: string;
}

/** Which earlier files this run speaks for: those of the selected targets and, with --router/--host, owners. */
export interface OutDirSelection {
  targets: readonly TargetName[];
  /** with --router or --host: only these owners' files are replaced (else every owner of the targets) */
  owners?: readonly string[];
}

export interface OutDirResult {
  /** DIR-relative paths joined to the DIR as given, in the order written */
  written: string[];
  removed: string[];
  /** files no longer produced that were left in place, with the reason */
  kept: string[];
  /** a problem with the earlier manifest (then nothing was removed) */
  warning?: string;
}

const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

/** A manifest path that stays inside DIR: relative, no `..`, not the manifest itself. */
function safeRelative(p: string): boolean {
  if (p === '' || isAbsolute(p) || p.includes('\\') || p.includes('\0')) return false;
  const n = normalize(p);
  return n === p && !n.split('/').includes('..') && p !== MANIFEST && !p.startsWith('./');
}

function parseManifest(text: string): ManifestEntry[] {
  const entries: ManifestEntry[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line === '' || line.startsWith('#')) continue;
    const [sha, target, owner, path, ...rest] = line.split('\t');
    if (rest.length > 0 || !sha || !/^[0-9a-f]{64}$/.test(sha) || !target || !owner || !path || !safeRelative(path)) {
      throw new Error(`line ${i + 1} is not <sha256> <target> <owner> <path>`);
    }
    entries.push({ sha256: sha, target, owner, path });
  }
  return entries;
}

function formatManifest(entries: ManifestEntry[]): string {
  const sorted = [...entries].sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
  return `${HEADER}\n${sorted.map((e) => `${e.sha256}\t${e.target}\t${e.owner}\t${e.path}`).join('\n')}\n`;
}

function readManifest(root: string): { entries: ManifestEntry[]; warning?: string } {
  let text: string;
  try {
    text = readFileSync(join(root, MANIFEST), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { entries: [] };
    return { entries: [], warning: `cannot read ${MANIFEST} (${code}): no earlier file was removed` };
  }
  try {
    return { entries: parseManifest(text) };
  } catch (err) {
    return { entries: [], warning: `${MANIFEST} is not one flatnet wrote (${(err as Error).message}): no earlier file was removed; it is written anew` };
  }
}

/** Removes the directories under root that removing `file` left empty, deepest first, never root itself. */
function pruneEmptyDirs(root: string, file: string): void {
  for (let dir = dirname(file); dir !== root && dir.startsWith(root + sep); dir = dirname(dir)) {
    try {
      if (readdirSync(dir).length > 0) return;
      rmdirSync(dir);
    } catch {
      return;
    }
  }
}

/** The selection of `generate` (see generate() in targets.ts): which earlier files a run speaks for. */
export function outDirSelection(options: { targets?: readonly TargetName[]; router?: string; switch?: string; host?: string }): OutDirSelection {
  const { host } = options;
  const router = options.router ?? options.switch;
  const targets = TARGETS.filter((t) => (options.targets ?? TARGET_NAMES).includes(t.name))
    // --host alone renders no router target, --router alone no host target
    .filter((t) => (t.scope === 'router' ? !(host !== undefined && router === undefined) : !(router !== undefined && host === undefined)))
    .map((t) => t.name);
  const owners = [options.router, options.switch, host].filter((o): o is string => o !== undefined);
  return { targets, ...(owners.length > 0 ? { owners } : {}) };
}

export function writeOutDir(outDir: string, artifacts: Artifact[], selection: OutDirSelection, options: { force?: boolean } = {}): OutDirResult {
  const root = resolve(outDir);
  const shown = (p: string) => join(outDir, p);
  const previous = readManifest(root);
  // A file flatnet wrote and someone edited since is theirs: nothing is written while one would be replaced
  if (!options.force) {
    const known = new Map(previous.entries.map((e) => [e.path, e.sha256]));
    const edited = artifacts.filter((a) => {
      const was = known.get(a.path);
      if (was === undefined) return false;
      let now: string;
      try {
        now = sha256(readFileSync(join(root, a.path)));
      } catch {
        return false; // gone: written anew
      }
      return now !== was && now !== sha256(a.content);
    });
    if (edited.length > 0) {
      const list = edited.map((a) => shown(a.path)).join(', ');
      throw new UserError(`${list} ${edited.length === 1 ? 'was' : 'were'} changed since flatnet wrote ${edited.length === 1 ? 'it' : 'them'}; nothing was written. Keep your edits elsewhere (or in the spec), or run generate again with --force to overwrite`);
    }
  }
  const inScope = (e: ManifestEntry) =>
    (selection.targets as readonly string[]).includes(e.target) && (selection.owners === undefined || selection.owners.includes(e.owner));
  const producing = new Set(artifacts.map((a) => a.path));

  const written: string[] = [];
  const entries: ManifestEntry[] = [];
  const made = new Set<string>();
  // the earlier entries this run does not replace, and the files it writes: what the manifest lists after it
  const carried = previous.entries.filter((e) => !producing.has(e.path) && !inScope(e));
  const saveManifest = (list: ManifestEntry[]) => writeFileSync(join(root, MANIFEST), formatManifest(list), { mode: 0o644 });

  for (const a of artifacts) {
    const file = join(root, a.path);
    const dir = dirname(file);
    try {
      if (!made.has(dir)) {
        mkdirSync(dir, { recursive: true });
        made.add(dir);
      }
      writeFileSync(file, a.content, { mode: a.path.endsWith('.sh') ? 0o755 : 0o644 });
    } catch (err) {
      // record what was written (and keep the earlier entries) so a later run can still clean up; best effort
      try {
        if (written.length > 0) saveManifest([...previous.entries.filter((e) => !producing.has(e.path)), ...entries]);
      } catch {
        // the directory is unwritable: the error below says so
      }
      // say how far it got: a partly written output directory must not pass for a complete one
      throw new UserError(`cannot write ${shown(a.path)} (${(err as Error).message}); ${written.length} of ${artifacts.length} files were written before this`);
    }
    entries.push({ target: a.target, owner: a.owner, path: a.path, sha256: sha256(a.content) });
    written.push(shown(a.path));
  }

  const removed: string[] = [];
  const kept: string[] = [];
  const stillListed: ManifestEntry[] = [];
  for (const e of previous.entries) {
    if (producing.has(e.path) || !inScope(e)) continue;
    const file = join(root, e.path);
    let stat;
    try {
      stat = lstatSync(file);
    } catch {
      continue; // gone already
    }
    if (!stat.isFile()) {
      kept.push(`${shown(e.path)} (no longer generated; not a regular file now, left in place)`);
      continue;
    }
    if (sha256(readFileSync(file)) !== e.sha256) {
      // changed by hand since: the user's now, and no longer listed (so said once)
      kept.push(`${shown(e.path)} (no longer generated, but changed since flatnet wrote it: left in place, and no longer flatnet's)`);
      continue;
    }
    try {
      unlinkSync(file);
    } catch (err) {
      kept.push(`${shown(e.path)} (no longer generated; cannot remove it: ${(err as NodeJS.ErrnoException).code})`);
      stillListed.push(e);
      continue;
    }
    removed.push(shown(e.path));
    pruneEmptyDirs(root, file);
  }

  try {
    saveManifest([...carried, ...stillListed, ...entries]);
  } catch (err) {
    throw new UserError(`wrote ${written.length} files but cannot write ${shown(MANIFEST)} (${(err as Error).message}): files of networks and hosts removed from the spec later will not be removed`);
  }
  return { written, removed, kept, ...(previous.warning ? { warning: `${shown(MANIFEST)}: ${previous.warning}` } : {}) };
}
