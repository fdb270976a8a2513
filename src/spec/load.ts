// Spec text → checked spec. YAML is parsed with positions kept, so every problem (syntax, schema or
// consistency) can name its file, line, column and YAML path.
import { readFileSync } from 'node:fs';
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
    const problems = parsed.error.issues.flatMap((issue) => problemsOfIssue(issue, doc, at));
    throw new SpecError(file, sortProblems(problems));
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

export function loadSpecFile(file: string): LoadedSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SpecError(file, [{ path: [], message: code === 'ENOENT' ? 'no such file' : `cannot read the spec (${code ?? String(err)})` }]);
  }
  return parseSpecText(text, file);
}

function yamlMessage(code: string, message: string): string {
  if (code === 'DUPLICATE_KEY') return 'duplicate key: each key may appear once in a mapping';
  return `invalid YAML: ${message.split('\n')[0]}`;
}

function problemsOfIssue(
  issue: ZodIssue,
  doc: Document,
  at: (offset: number) => { line: number; col: number },
): SpecProblem[] {
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => {
      const keyPath = [...path, key];
      const offset = keyOffset(doc, path, key) ?? rangeOf(doc, path);
      const message =
        key === 'password'
          ? 'inline passwords are not accepted: use password-env (an environment variable) or password-file'
          : `unknown key "${key}"${suggest(key, issue)}`;
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

function suggest(key: string, _issue: ZodIssue): string {
  // Most typos are an underscore or a camelCase spelling of a kebab-case key.
  const kebab = key.replace(/_/g, '-').replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
  return kebab !== key ? ` (did you mean "${kebab}"?)` : '';
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
