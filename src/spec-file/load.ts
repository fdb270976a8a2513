// Spec text → checked spec. YAML is parsed with positions kept, so every problem (syntax, schema or
// consistency) can name its file, line, column and YAML path.
import { readFileSync, readSync } from 'node:fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { SpecError, type SpecPath, type SpecProblem } from '../errors.js';
import { specSchema, type Spec } from './schema.js';

export interface LoadedSpec {
  file: string;
  spec: Spec;
  /** maps a path to line/column, for problems found after parsing */
  locate: (path: SpecPath) => { line: number; col: number } | undefined;
}

type ZodIssue = z.core.$ZodIssue;

/** Parses and schema-checks spec text. Throws SpecError with every problem found. */
export function parseSpecText(text: string, file: string): LoadedSpec {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: false });
  const at = (offset: number) => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, col: pos.col };
  };
  const locate = (path: SpecPath) => {
    const range = rangeOf(doc, path);
    return range ? at(range) : undefined;
  };

  if (doc.errors.length > 0) {
    // A tab used for indentation derails the parser: its errors then name a wrong path and pile up follow-on
    // errors. One problem at the first such tab says what to fix.
    const tab = tabIndentation(text, doc.errors.map((e) => ({ code: e.code, ...at(e.pos[0]) })));
    if (tab) throw new SpecError(file, [tab]);
    throw new SpecError(
      file,
      doc.errors.map((e) => ({
        path: pathAtOffset(doc.contents, e.pos[0]),
        message: yamlMessage(e.code, e.message),
        ...at(e.pos[0]),
      })),
    );
  }
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    throw new SpecError(file, [{ path: [], message: 'the spec is empty: expected a mapping with version, hosts and networks', line: 1, col: 1 }]);
  }
  // Aliases could make one change appear in several places; a network spec has no use for them. And zod's
  // records drop a "__proto__" key without a check. Both are cheap to detect on the data; the (slower) walk
  // over the document that locates them runs only when there is something to report.
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 0 });
  } catch (err) {
    if (!(err instanceof ReferenceError)) throw err;
    data = undefined;
  }
  if (data === undefined || hasProtoKey(data)) throw new SpecError(file, sortProblems(refusedNodes(doc, at)));
  const parsed = specSchema.safeParse(data);
  if (!parsed.success) {
    // An unknown key whose suggestion is a missing required key stands for that key: "is required" for it
    // would only repeat the typo.
    const suggested = new Set<string>();
    const problems = parsed.error.issues.flatMap((issue) => problemsOfIssue(issue, doc, at, data, suggested));
    throw new SpecError(file, sortProblems(problems.filter((p) => !(p.message === 'is required' && suggested.has(pathKey(p.path))))));
  }
  return { file, spec: parsed.data, locate };
}

function hasProtoKey(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasProtoKey);
  if (value === null || typeof value !== 'object') return false;
  return Object.hasOwn(value, '__proto__') || Object.values(value).some(hasProtoKey);
}

function refusedNodes(doc: Document, at: (offset: number) => { line: number; col: number }): SpecProblem[] {
  const refused: SpecProblem[] = [];
  visit(doc, {
    Alias(_key, node) {
      const offset = node.range?.[0] ?? 0;
      refused.push({ path: pathAtOffset(doc.contents, offset), message: `YAML aliases (*${node.source}) are not supported: write the value out`, ...at(offset) });
    },
    Pair(_key, pair, ancestors) {
      if (isScalar(pair.key) && pair.key.value === '__proto__') {
        const offset = pair.key.range?.[0] ?? 0;
        refused.push({ path: pathOfAncestors(ancestors, '__proto__'), message: '"__proto__" is not a valid key or name', ...at(offset) });
      }
    },
  });
  return refused;
}

/** The spec argument that means standard input; problems then name the file STDIN_NAME. */
export const STDIN_ARG = '-';
export const STDIN_NAME = '<stdin>';

/** Reads and checks a spec file; `-` reads standard input. */
export function loadSpecFile(file: string): LoadedSpec {
  const fromStdin = file === STDIN_ARG;
  const name = fromStdin ? STDIN_NAME : file;
  let text: string;
  try {
    text = fromStdin ? readStdin() : readFileSync(file, 'utf8');
  } catch (err) {
    throw new SpecError(name, [{ path: [], message: readFailure(err, fromStdin) }]);
  }
  return parseSpecText(text, name);
}

function readFailure(err: unknown, fromStdin: boolean): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (fromStdin) return `cannot read the spec from standard input (${code ?? String(err)})`;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a directory, not a spec file';
  if (code === 'EACCES' || code === 'EPERM') return 'no permission to read it';
  return `cannot read the spec (${code ?? String(err)})`;
}

/** All of standard input. A non-blocking stdin (some terminals and pipes) gives EAGAIN: then read in a loop. */
function readStdin(): string {
  try {
    return readFileSync(0, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
  }
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(65536);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    let n: number;
    try {
      n = readSync(0, buf, 0, buf.length, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(pause, 0, 0, 20);
      continue;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString('utf8');
}

function yamlMessage(code: string, message: string): string {
  if (code === 'DUPLICATE_KEY') return 'duplicate key: each key may appear once in a mapping';
  return `invalid YAML: ${message.split('\n')[0]}`;
}

function problemsOfIssue(
  issue: ZodIssue,
  doc: Document,
  at: (offset: number) => { line: number; col: number },
  data: unknown,
  suggested: Set<string>,
): SpecProblem[] {
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => {
      const keyPath = [...path, key];
      const offset = keyOffset(doc, path, key) ?? rangeOf(doc, path);
      let message: string;
      if (key === 'password') {
        message = 'inline passwords are not accepted: use password-env (an environment variable) or password-file';
      } else {
        const known = knownKeys(path, data);
        const suggestion = suggestKey(key, known, valueAt(data, path));
        if (suggestion !== undefined && known !== undefined) suggested.add(pathKey([...path, suggestion]));
        message = `unknown key "${key}"${suggestion !== undefined ? ` (did you mean "${suggestion}"?)` : ''}`;
      }
      return { path: keyPath, message, ...(offset !== undefined ? at(offset) : {}) };
    });
  }
  if (issue.code === 'invalid_key') {
    // a record key (router, host or network name) that does not match the name pattern
    const key = String(path[path.length - 1]);
    const offset = keyOffset(doc, path.slice(0, -1), key) ?? rangeOf(doc, path);
    const why = issue.issues[0]?.message ?? 'invalid name';
    return [{ path, message: `"${key}" is not a valid name: ${why}`, ...(offset !== undefined ? at(offset) : {}) }];
  }
  const offset = rangeOf(doc, path);
  return [{ path, message: messageOf(issue, doc, path), ...(offset !== undefined ? at(offset) : {}) }];
}

/** Problems in file order, so the output reads top to bottom. */
export function sortProblems(problems: SpecProblem[]): SpecProblem[] {
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (a.p.line ?? 0) - (b.p.line ?? 0) || (a.p.col ?? 0) - (b.p.col ?? 0) || a.i - b.i)
    .map(({ p }) => p);
}

function messageOf(issue: ZodIssue, doc: Document, path: SpecPath): string {
  if (path.length > 0 && !doc.hasIn(path)) return 'is required';
  if (issue.code === 'invalid_type') {
    const expected = ({ object: 'a mapping', record: 'a mapping', array: 'a list', int: 'a whole number' } as Record<string, string>)[issue.expected] ?? issue.expected;
    return `expected ${expected}, got ${describe(path.length === 0 ? doc.contents : doc.getIn(path, true))}`;
  }
  return issue.message;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value) || isSeq(value)) return 'a list';
  if (isMap(value)) return 'a mapping';
  if (isScalar(value)) return describe(value.value);
  if (typeof value === 'string') return `string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}

const pathKey = (path: SpecPath) => JSON.stringify(path);

/**
 * The known key an unknown one most likely stands for: its kebab-case spelling (`trunk_ports`, `allowInput`),
 * else the nearest known key by edit distance (at most 2, or 1 for keys of up to 4 characters). Among equally
 * near keys one the mapping does not have yet wins.
 */
export function suggestKey(key: string, known: readonly string[] | undefined, present?: unknown): string | undefined {
  // Most typos are an underscore or a camelCase spelling of a kebab-case key.
  const kebab = key.replace(/_/g, '-').replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
  if (known === undefined) return kebab !== key ? kebab : undefined;
  if (known.includes(kebab)) return kebab;
  const limit = key.length <= 4 ? 1 : 2;
  const has = (k: string) => present !== null && typeof present === 'object' && Object.hasOwn(present, k);
  let best: { key: string; distance: number; has: boolean } | undefined;
  for (const candidate of known) {
    const distance = Math.min(editDistance(kebab, candidate), editDistance(key.toLowerCase(), candidate));
    if (distance > limit) continue;
    const c = { key: candidate, distance, has: has(candidate) };
    if (!best || c.distance < best.distance || (c.distance === best.distance && best.has && !c.has)) best = c;
  }
  return best?.key;
}

/** Damerau-Levenshtein distance (optimal string alignment: an adjacent swap counts as one edit). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

function valueAt(data: unknown, path: SpecPath): unknown {
  let value = data;
  for (const part of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string | number, unknown>)[part];
  }
  return value;
}

// The keys the schema knows for the mapping at a path, found by walking the zod schema (zod 4 keeps each
// schema's definition in _zod.def). A router's keys depend on its type: the union member whose literal
// fields match the data is taken.
interface ZodDef {
  type: string;
  shape?: Record<string, ZodLike>;
  innerType?: ZodLike;
  in?: ZodLike;
  valueType?: ZodLike;
  element?: ZodLike;
  options?: ZodLike[];
  values?: unknown[];
  getter?: () => ZodLike;
}
interface ZodLike {
  _zod: { def: ZodDef };
}

function knownKeys(path: SpecPath, data: unknown): string[] | undefined {
  let schemas: ZodLike[] = [specSchema as unknown as ZodLike];
  let value = data;
  for (const part of path) {
    schemas = schemas.flatMap((s) => unwrapSchema(s, value)).flatMap((s) => {
      const def = s._zod.def;
      if (def.type === 'object' && typeof part === 'string' && def.shape && Object.hasOwn(def.shape, part)) return [def.shape[part]!];
      if (def.type === 'record' && def.valueType) return [def.valueType];
      if (def.type === 'array' && def.element) return [def.element];
      return [];
    });
    value = valueAt(value, [part]);
  }
  const objects = schemas.flatMap((s) => unwrapSchema(s, value)).filter((s) => s._zod.def.type === 'object');
  if (objects.length === 0) return undefined;
  return [...new Set(objects.flatMap((s) => Object.keys(s._zod.def.shape ?? {})))];
}

function unwrapSchema(schema: ZodLike, value: unknown): ZodLike[] {
  const def = schema?._zod?.def;
  if (!def) return [];
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
      return def.innerType ? unwrapSchema(def.innerType, value) : [];
    case 'pipe':
      return def.in ? unwrapSchema(def.in, value) : [];
    case 'lazy':
      return def.getter ? unwrapSchema(def.getter(), value) : [];
    case 'union': {
      const options = (def.options ?? []).flatMap((o) => unwrapSchema(o, value));
      const matching = options.filter((o) => literalsMatch(o, value));
      return matching.length > 0 ? matching : options;
    }
    default:
      return [schema];
  }
}

/** Whether the literal fields of an object schema (e.g. type: routeros) agree with the data. */
function literalsMatch(schema: ZodLike, value: unknown): boolean {
  const def = schema._zod.def;
  if (def.type !== 'object' || value === null || typeof value !== 'object') return false;
  return Object.entries(def.shape ?? {}).every(([k, field]) => {
    const fdef = field._zod.def;
    if (fdef.type !== 'literal' || !Object.hasOwn(value, k)) return true;
    return (fdef.values ?? []).includes((value as Record<string, unknown>)[k]);
  });
}

const TAB_MESSAGE = 'tabs are not allowed for indentation in YAML; indent with spaces';

/**
 * When the parser's errors come from a tab used for indentation: one problem at the first such tab, with the
 * path of the mapping the line most likely belongs to. Only called with parse errors, so tabs YAML allows
 * (inside flow collections, JSON, continuation lines) are left alone unless the parser tripped over them.
 */
function tabIndentation(text: string, errors: Array<{ code: string; line: number; col: number }>): SpecProblem | undefined {
  const hits = indentTabs(text);
  const onTab = new Set(hits.map((h) => h.line));
  const sorted = [...errors].sort((a, b) => a.line - b.line || a.col - b.col);
  const trigger = sorted.find((e) => e.code === 'TAB_AS_INDENT' || onTab.has(e.line));
  if (!trigger) return undefined;
  const hit = hits.find((h) => h.line <= trigger.line);
  if (hit) return { path: hit.path, message: TAB_MESSAGE, line: hit.line, col: hit.col };
  return { path: [], message: TAB_MESSAGE, line: trigger.line, col: trigger.col };
}

interface IndentEntry {
  indent: number;
  key: string | number;
  kind: 'key' | 'item';
  /** the line ends after this key or dash, so what follows on deeper lines is its value */
  opens: boolean;
  /** the index the next sequence item under this entry gets */
  next: number;
}

const KEY_LINE = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"[\]{},&*!|>%@`-][^#]*?|-[^\s#][^#]*?)[ \t]*:(?:[ \t]+|$)(.*)$/;
const BLOCK_SCALAR = /^[|>][-+0-9]*[ \t]*(#.*)?$/;
const NO_VALUE = /^(#.*)?$/;

function unquoteKey(key: string): string {
  if (key.startsWith('"')) {
    try {
      return JSON.parse(key) as string;
    } catch {
      return key.slice(1, -1);
    }
  }
  if (key.startsWith("'")) return key.slice(1, -1).replace(/''/g, "'");
  return key.trimEnd();
}

/**
 * Every line whose indentation contains a tab (outside block scalars), with the 1-based column of the tab
 * and the key path of the mapping the line most likely belongs to: the previous line's key if that line opened
 * a block (`nas:`), else the mapping or list the previous line is in. Found from the text: the parse is of no
 * use once a tab has derailed it.
 */
function indentTabs(text: string): Array<{ line: number; col: number; path: Array<string | number> }> {
  const hits: Array<{ line: number; col: number; path: Array<string | number> }> = [];
  const root: IndentEntry = { indent: -1, key: '', kind: 'key', opens: true, next: 0 };
  let stack: IndentEntry[] = [];
  let blockIndent: number | undefined;
  let lastPath: Array<string | number> = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const lead = /^[ \t]*/.exec(line)![0];
    const rest = line.slice(lead.length);
    const spaces = /^ */.exec(line)![0].length;
    if (blockIndent !== undefined) {
      if (rest === '' || spaces > blockIndent) return; // block scalar content
      blockIndent = undefined;
    }
    if (rest === '' || rest.startsWith('#')) return;
    if (lead.includes('\t')) {
      hits.push({ line: i + 1, col: lead.indexOf('\t') + 1, path: lastPath });
      return;
    }
    if (spaces === 0 && /^(---|\.\.\.)(\s|$)|^%/.test(rest)) {
      stack = [];
      root.next = 0;
      lastPath = [];
      return;
    }
    let indent = spaces;
    let content = rest;
    const isDash = /^-(\s|$)/.test(content);
    // `key:` followed by `- item` at the same indentation is a list under that key
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.indent < indent) break;
      if (top.indent === indent && isDash && top.kind === 'key' && top.opens) break;
      stack.pop();
    }
    for (;;) {
      const dash = /^-(?:([ ]+)|$)/.exec(content);
      if (!dash) break;
      const parent = stack[stack.length - 1] ?? root;
      const after = content.slice(dash[0].length);
      stack.push({ indent, key: parent.next++, kind: 'item', opens: NO_VALUE.test(after), next: 0 });
      if (BLOCK_SCALAR.test(after)) blockIndent = indent;
      indent += dash[0].length;
      content = after;
    }
    const key = KEY_LINE.exec(content);
    if (key) {
      const value = key[2] ?? '';
      stack.push({ indent, key: unquoteKey(key[1]!), kind: 'key', opens: NO_VALUE.test(value), next: 0 });
      if (BLOCK_SCALAR.test(value)) blockIndent = indent;
    }
    const last = stack[stack.length - 1];
    const path = stack.map((e) => e.key);
    lastPath = last && !last.opens ? path.slice(0, -1) : path;
  });
  return hits;
}

/** Start offset of the node at path, or of the closest existing ancestor. */
function rangeOf(doc: Document, path: SpecPath): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true) as Node | undefined;
    if (node && typeof node === 'object' && 'range' in node && node.range) return node.range[0];
    if (n === 0 && doc.contents?.range) return doc.contents.range[0];
  }
  return undefined;
}

function keyOffset(doc: Document, path: SpecPath, key: string): number | undefined {
  const map = path.length === 0 ? doc.contents : doc.getIn(path, true);
  if (!isMap(map)) return undefined;
  for (const pair of map.items) {
    if (isScalar(pair.key) && String(pair.key.value) === key) return pair.key.range?.[0];
  }
  return undefined;
}

/** The YAML path of the deepest node that contains offset (for syntax errors, which carry only an offset). */
function pathAtOffset(node: unknown, offset: number, path: Array<string | number> = []): Array<string | number> {
  if (isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
      const keyRange = isScalar(pair.key) ? pair.key.range : undefined;
      const value = pair.value as Node | null;
      const end = value?.range?.[2] ?? keyRange?.[2];
      if (key !== undefined && keyRange && offset >= keyRange[0] && end !== undefined && offset <= end) {
        return pathAtOffset(value, offset, [...path, key]);
      }
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      const r = (item as Node | null)?.range;
      if (r && offset >= r[0] && offset <= r[2]) path = pathAtOffset(item, offset, [...path, i]);
    });
  }
  return path;
}

/** The YAML path of a node from the ancestors a `visit` callback is given. */
function pathOfAncestors(ancestors: readonly unknown[], last: string): Array<string | number> {
  const path: Array<string | number> = [];
  ancestors.forEach((a, i) => {
    if (isPair(a) && isScalar(a.key)) path.push(String(a.key.value));
    else if (isSeq(a) && i + 1 < ancestors.length) path.push(a.items.indexOf(ancestors[i + 1] as never));
  });
  return [...path, last];
}
