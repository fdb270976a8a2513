// A tiny interpreter for the RouterOS script constructs templates/routeros/script.rsc.hbs generates, run
// against a RouterOS API (in tests: the fake of routeros-fake.ts) the way /import runs them: one command at
// a time, each change command as exactly one API command. Test-only.
//
// It knows exactly these constructs and refuses (throws UnsupportedScript) anything else, before the first
// command runs, so a template change it does not understand fails the tests rather than being skipped:
//   # comment lines
//   /menu/add k=v ...                        values bare, "double-quoted" (\\ \" \$ \? escapes), $var,
//                                             (<expr>) or [<expr>]
//   /menu/set <items> k=v ...                 values as for add; an empty <items> sends nothing
//   /menu/remove|enable|disable <items>       <items>: [/menu/find where ...], [find where ...] or $var
//   { ... }                                   a block (its own scope for :local)
//   :local name <expr>
//   :set name <expr>                          a variable declared by :local in this block or one around it
//   :if (<expr> = <expr>|<expr> > <expr>) do={ ... } else={ ... }   = on two numbers or two strings; > on numbers
//   :foreach name in=<expr> do={ ... }        over an array (each element in turn, in a scope of its own)
//   :error "message"
//   expressions: $var, "string", N (a number), and
//     [/menu/find where <cond>]               the ids of the matching items, an array
//     [/menu/get <expr> key]                  an item's property (the id, or an array of one id, from find);
//                                             nil when unset; vlan-ids, tagged and untagged are arrays, as in v7
//     [:len <expr>]                           string length or element count
//     [:pick <expr> <start> [<end>]]          an array's element <start>, or the elements/characters from
//                                             <start> up to (not including) <end>; one character without <end>
//     [:find <string> <string>]               the position of the first occurrence, nil when there is none
//     [:toarray <string>]                     the comma-separated parts (an empty string: no parts)
//     (<expr> + <expr> ...)                   numbers added
//     (<expr> . <expr> ...)                   strings and numbers joined into one string
//   <cond>: key=value, key~"regex", !(<cond>), (<cond>), joined by `and` or by `or` (not both unbracketed);
//     value: bare, "string" or $var
// and, for the rollback script of targets/routeros/rollback.ts (run as a /system/script, not an /import):
//   *1F                                       an internal id literal (an expression, or a where value)
//   [/menu/add k=v ...]                       an add as an expression: the new item's id
//   /menu/move <items> [destination=<expr>]   moves the items before the destination (to the end without)
//   /menu/unset <items> value-name=<key>
import type { RosClient } from '../../targets/routeros/api.js';

/** What the interpreter needs of a session: the API client, or the fake router's in-process one. */
export type ScriptClient = Pick<RosClient, 'command'> | { command(words: string[]): Promise<{ rows: Array<Record<string, string>>; ret?: string }> };

/** `:error` ran: RouterOS stops the import there. */
export class ScriptError extends Error {}

/** The script uses something this interpreter does not handle (a parse error in RouterOS terms, or simply unknown here). */
export class UnsupportedScript extends Error {}

// ---------------------------------------------------------------------------
// tokens

type TokenKind = 'word' | 'str' | 'var' | 'op' | 'nl' | 'eof';
interface Token {
  kind: TokenKind;
  /** word text, decoded string, variable name (without $), or the punctuation itself */
  text: string;
  line: number;
  /** white space between this token and the one before (k=v must be glued) */
  spaced: boolean;
}

// The bare-value characters of src/quote.ts (ROS_BARE): anything else must be quoted by the template.
const BARE = /[A-Za-z0-9_.:/,*-]/;
const PUNCT = new Set(['{', '}', '[', ']', '(', ')', '=', '~', '!', '>', '+']);

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let spaced = true;
  let lineStart = true;
  const fail = (why: string): never => {
    throw new UnsupportedScript(`line ${line}: ${why}`);
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      tokens.push({ kind: 'nl', text: '\n', line, spaced });
      line++;
      i++;
      spaced = true;
      lineStart = true;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      spaced = true;
      continue;
    }
    if (c === '#') {
      // RouterOS reads # as a comment only where a command could start; the template puts them on lines of their own
      if (!lineStart) fail('"#" after a command');
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    lineStart = false;
    const start = i;
    if (c === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length || text[i] === '\n') fail('unterminated string');
        const ch = text[i]!;
        if (ch === '"') break;
        if (ch === '\\') {
          const next = text[i + 1];
          if (next === undefined || !'\\"$?'.includes(next)) fail(`escape \\${next ?? ''} in a string`);
          value += next;
          i += 2;
          continue;
        }
        // unescaped, $ would interpolate a variable and ? would ask for help: routerosString escapes both
        if (ch === '$' || ch === '?') fail(`unescaped ${ch} in a string`);
        value += ch;
        i++;
      }
      i++;
      tokens.push({ kind: 'str', text: value, line, spaced });
    } else if (c === '$') {
      i++;
      while (i < text.length && /[A-Za-z0-9_]/.test(text[i]!)) i++;
      if (i === start + 1) fail('"$" without a variable name');
      tokens.push({ kind: 'var', text: text.slice(start + 1, i), line, spaced });
    } else if (PUNCT.has(c)) {
      i++;
      tokens.push({ kind: 'op', text: c, line, spaced });
    } else if (BARE.test(c)) {
      while (i < text.length && BARE.test(text[i]!)) i++;
      tokens.push({ kind: 'word', text: text.slice(start, i), line, spaced });
    } else {
      fail(`character ${JSON.stringify(c)}`);
    }
    spaced = false;
  }
  tokens.push({ kind: 'eof', text: '', line, spaced: true });
  return tokens;
}

// ---------------------------------------------------------------------------
// syntax

/** A `where` value: literal, or a variable resolved when the find runs. */
type WhereValue = { kind: 'str'; value: string } | { kind: 'var'; name: string };

type Where =
  | { kind: 'cmp'; key: string; op: '=' | '~'; value: WhereValue }
  | { kind: 'not'; of: Where }
  | { kind: 'and' | 'or'; terms: Where[] };

type Expr =
  | { kind: 'str'; value: string }
  | { kind: 'num'; value: number }
  | { kind: 'var'; name: string }
  | { kind: 'find'; menu: string; where: Where }
  | { kind: 'get'; menu: string; item: Expr; key: string }
  | { kind: 'len'; of: Expr }
  | { kind: 'pick'; of: Expr; start: Expr; end?: Expr }
  | { kind: 'strfind'; in: Expr; what: Expr }
  | { kind: 'toarray'; of: Expr }
  | { kind: 'add'; menu: string; props: Array<[string, Expr]> }
  | { kind: 'arith'; op: '+' | '.'; terms: Expr[] };

type Stmt =
  | { kind: 'block'; body: Stmt[]; line: number }
  | { kind: 'local'; name: string; value: Expr; line: number }
  | { kind: 'assign'; name: string; value: Expr; line: number }
  | { kind: 'if'; left: Expr; op: '=' | '>'; right: Expr; then: Stmt[]; else?: Stmt[]; line: number }
  | { kind: 'foreach'; name: string; in: Expr; body: Stmt[]; line: number }
  | { kind: 'error'; message: Expr; line: number }
  | { kind: 'add'; menu: string; props: Array<[string, Expr]>; line: number }
  | { kind: 'set'; menu: string; items: Expr; props: Array<[string, Expr]>; line: number }
  | { kind: 'items'; menu: string; op: 'remove' | 'enable' | 'disable'; items: Expr; line: number }
  | { kind: 'itemsWith'; menu: string; op: 'move' | 'unset'; items: Expr; props: Array<[string, Expr]>; line: number };

const MENU_PATH = /^(\/[a-z0-9-]+)+$/;

class Parser {
  private at = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.at]!;
  }
  private next(): Token {
    const t = this.tokens[this.at]!;
    if (t.kind !== 'eof') this.at++;
    return t;
  }
  private fail(why: string, t: Token = this.peek()): never {
    throw new UnsupportedScript(`line ${t.line}: ${why} (at ${t.kind === 'nl' ? 'end of line' : t.kind === 'eof' ? 'end of script' : JSON.stringify(t.text)})`);
  }
  private isOp(text: string, t: Token = this.peek()): boolean {
    return t.kind === 'op' && t.text === text;
  }
  private expectOp(text: string, glued = false): Token {
    const t = this.next();
    if (!this.isOp(text, t)) this.fail(`expected "${text}"`, t);
    if (glued && t.spaced) this.fail(`white space before "${text}"`, t);
    return t;
  }
  private expectWord(text?: string): Token {
    const t = this.next();
    if (t.kind !== 'word' || (text !== undefined && t.text !== text)) this.fail(`expected ${text ?? 'a word'}`, t);
    return t;
  }

  script(): Stmt[] {
    const body = this.statements();
    if (this.peek().kind !== 'eof') this.fail('unexpected');
    return body;
  }

  /** Statements up to a closing "}" (not consumed) or the end; newlines separate them. */
  private statements(): Stmt[] {
    const out: Stmt[] = [];
    for (;;) {
      while (this.peek().kind === 'nl') this.next();
      const t = this.peek();
      if (t.kind === 'eof' || this.isOp('}')) return out;
      out.push(this.statement());
      const end = this.peek();
      if (end.kind !== 'nl' && end.kind !== 'eof' && !this.isOp('}')) this.fail('expected the end of the command');
    }
  }

  private block(): Stmt[] {
    this.expectOp('{');
    const body = this.statements();
    this.expectOp('}');
    return body;
  }

  private statement(): Stmt {
    const t = this.peek();
    if (this.isOp('{')) return { kind: 'block', body: this.block(), line: t.line };
    if (t.kind !== 'word') this.fail('expected a command');
    this.next();
    switch (t.text) {
      case ':local':
      case ':set': {
        const name = this.expectWord().text;
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) this.fail(`variable name ${name}`, t);
        return { kind: t.text === ':local' ? 'local' : 'assign', name, value: this.expr(undefined), line: t.line };
      }
      case ':foreach': {
        const name = this.expectWord().text;
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) this.fail(`variable name ${name}`, t);
        this.expectWord('in');
        this.expectOp('=', true);
        if (this.peek().spaced) this.fail('white space after "="');
        const over = this.expr(undefined);
        this.expectWord('do');
        this.expectOp('=', true);
        return { kind: 'foreach', name, in: over, body: this.block(), line: t.line };
      }
      case ':if': {
        this.expectOp('(');
        const left = this.expr(undefined);
        const opTok = this.next();
        if (!this.isOp('=', opTok) && !this.isOp('>', opTok)) this.fail('expected "=" or ">" in the :if condition', opTok);
        const right = this.expr(undefined);
        this.expectOp(')');
        this.expectWord('do');
        this.expectOp('=', true);
        const then = this.block();
        if (this.peek().kind === 'word' && this.peek().text === 'else') {
          this.next();
          this.expectOp('=', true);
          return { kind: 'if', left, op: opTok.text as '=' | '>', right, then, else: this.block(), line: t.line };
        }
        return { kind: 'if', left, op: opTok.text as '=' | '>', right, then, line: t.line };
      }
      case ':error':
        return { kind: 'error', message: this.expr(undefined), line: t.line };
    }
    const slash = t.text.lastIndexOf('/');
    const menu = t.text.slice(0, slash);
    const op = t.text.slice(slash + 1);
    if (slash <= 0 || !MENU_PATH.test(menu)) this.fail('unknown command', t);
    if (op === 'add') return { kind: 'add', menu, props: this.props(), line: t.line };
    if (op === 'set') {
      const items = this.expr(menu);
      return { kind: 'set', menu, items, props: this.props(), line: t.line };
    }
    if (op === 'remove' || op === 'enable' || op === 'disable') {
      return { kind: 'items', menu, op, items: this.expr(menu), line: t.line };
    }
    if (op === 'move' || op === 'unset') {
      const items = this.expr(menu);
      const props = this.props();
      const allowed = op === 'move' ? ['destination'] : ['value-name'];
      for (const [k] of props) if (!allowed.includes(k)) this.fail(`${op} with ${k}`, t);
      if (op === 'unset' && props.length !== 1) this.fail('unset without value-name', t);
      return { kind: 'itemsWith', menu, op, items, props, line: t.line };
    }
    return this.fail(`command ${op}`, t);
  }

  /** `key=value ...` of add and set, up to the end of the command. */
  private props(): Array<[string, Expr]> {
    const props: Array<[string, Expr]> = [];
    while (this.peek().kind === 'word') {
      const key = this.next();
      if (!/^[a-z][a-z0-9-]*$/.test(key.text)) this.fail('not a property name', key);
      this.expectOp('=', true);
      const v = this.peek();
      if (v.spaced) this.fail('white space after "="', v);
      if (v.kind === 'word' || v.kind === 'str') {
        this.next();
        props.push([key.text, { kind: 'str', value: v.text }]);
      } else if (v.kind === 'var' || this.isOp('(', v) || this.isOp('[', v)) {
        props.push([key.text, this.expr(undefined)]);
      } else {
        this.fail('expected a value', v);
      }
    }
    return props;
  }

  /** `context`: the menu a bare `find` refers to (the command's own), undefined where none. */
  private expr(context: string | undefined): Expr {
    const t = this.next();
    if (t.kind === 'str') return { kind: 'str', value: t.text };
    if (t.kind === 'var') return { kind: 'var', name: t.text };
    if (t.kind === 'word' && /^[0-9]+$/.test(t.text)) return { kind: 'num', value: Number(t.text) };
    if (t.kind === 'word' && /^\*[0-9A-Fa-f]+$/.test(t.text)) return { kind: 'str', value: t.text };
    if (this.isOp('(', t)) {
      // (a + b ...) or (a . b ...): one operator per pair of parentheses, RouterOS's precedence is not modelled
      const terms = [this.expr(undefined)];
      let op: '+' | '.' | undefined;
      while (!this.isOp(')')) {
        const o = this.next();
        const text = this.isOp('+', o) ? '+' : o.kind === 'word' && o.text === '.' ? '.' : undefined;
        if (text === undefined) this.fail('expected "+", "." or ")"', o);
        if (op !== undefined && op !== text) this.fail('"+" and "." mixed without parentheses', o);
        op = text;
        terms.push(this.expr(undefined));
      }
      this.next();
      return op === undefined ? terms[0]! : { kind: 'arith', op, terms };
    }
    if (!this.isOp('[', t)) this.fail('expected an expression', t);
    const head = this.expectWord();
    let e: Expr;
    if (head.text === ':len') {
      e = { kind: 'len', of: this.expr(undefined) };
    } else if (head.text === ':pick') {
      const of = this.expr(undefined);
      const start = this.expr(undefined);
      e = this.isOp(']') ? { kind: 'pick', of, start } : { kind: 'pick', of, start, end: this.expr(undefined) };
    } else if (head.text === ':find') {
      const where = this.expr(undefined);
      e = { kind: 'strfind', in: where, what: this.expr(undefined) };
    } else if (head.text === ':toarray') {
      e = { kind: 'toarray', of: this.expr(undefined) };
    } else if (head.text.endsWith('/add')) {
      const menu = head.text.slice(0, -'/add'.length);
      if (!MENU_PATH.test(menu)) this.fail('add without a menu', head);
      e = { kind: 'add', menu, props: this.props() };
    } else if (head.text.endsWith('/get')) {
      const menu = head.text.slice(0, -'/get'.length);
      if (!MENU_PATH.test(menu)) this.fail('get without a menu', head);
      const item = this.expr(menu);
      const key = this.expectWord();
      if (!/^[a-z.][a-z0-9-]*$/.test(key.text)) this.fail('not a property name', key);
      e = { kind: 'get', menu, item, key: key.text };
    } else if (head.text === 'find' || head.text.endsWith('/find')) {
      const menu = head.text === 'find' ? context : head.text.slice(0, -'/find'.length);
      if (menu === undefined || !MENU_PATH.test(menu)) this.fail('find without a menu', head);
      this.expectWord('where');
      e = { kind: 'find', menu, where: this.where() };
    } else {
      return this.fail('unknown command in [ ]', head);
    }
    this.expectOp(']');
    return e;
  }

  /** Terms joined by one kind of connective; RouterOS's precedence between `and` and `or` is not modelled. */
  private where(): Where {
    const terms = [this.whereTerm()];
    let joiner: 'and' | 'or' | undefined;
    while (this.peek().kind === 'word' && (this.peek().text === 'and' || this.peek().text === 'or')) {
      const j = this.next().text as 'and' | 'or';
      if (joiner !== undefined && joiner !== j) this.fail('"and" and "or" mixed without parentheses');
      joiner = j;
      terms.push(this.whereTerm());
    }
    return joiner === undefined ? terms[0]! : { kind: joiner, terms };
  }

  private whereTerm(): Where {
    if (this.isOp('!')) {
      this.next();
      this.expectOp('(', true);
      const of = this.where();
      this.expectOp(')');
      return { kind: 'not', of };
    }
    if (this.isOp('(')) {
      this.next();
      const inner = this.where();
      this.expectOp(')');
      return inner;
    }
    const key = this.expectWord();
    if (!/^[a-z.][a-z0-9-]*$/.test(key.text)) this.fail('not a property name', key);
    const op = this.next();
    if ((!this.isOp('=', op) && !this.isOp('~', op)) || op.spaced) this.fail('expected "=" or "~" right after the property', op);
    const v = this.next();
    if ((v.kind !== 'word' && v.kind !== 'str' && v.kind !== 'var') || v.spaced) this.fail('expected a value right after the operator', v);
    const value: WhereValue = v.kind === 'var' ? { kind: 'var', name: v.text } : { kind: 'str', value: v.text };
    return { kind: 'cmp', key: key.text, op: op.text as '=' | '~', value };
  }
}

/** Parses the whole script; throws UnsupportedScript on anything not listed at the top of this file. */
export function parseScript(text: string): Stmt[] {
  return new Parser(tokenize(text)).script();
}

/** The value of a RouterOS script string literal: "a\"b" → a"b (for tests of the escapes). */
export function parseStringLiteral(literal: string): string {
  const tokens = tokenize(literal);
  const t = tokens[0]!;
  if (t.kind !== 'str' || tokens[1]!.kind !== 'eof') throw new UnsupportedScript(`not one string literal: ${literal}`);
  return t.text;
}

// ---------------------------------------------------------------------------
// execution

/** null: nil, what :find gives when there is nothing to find (and get, for an unset property) */
type Value = string | number | string[] | null;

/** Properties RouterOS v7 scripting gets as arrays (the API prints them comma-separated). */
const LIST_PROPS = new Set(['vlan-ids', 'tagged', 'untagged']);

const BOOL: Record<string, boolean> = { yes: true, true: true, no: false, false: false };

/** RouterOS compares yes/no with the API's true/false; other values as text. A missing property is "". */
function whereMatches(w: Where, row: Record<string, string>): boolean {
  // (values resolved: see resolveWhere)
  switch (w.kind) {
    case 'not':
      return !whereMatches(w.of, row);
    case 'and':
      return w.terms.every((t) => whereMatches(t, row));
    case 'or':
      return w.terms.some((t) => whereMatches(t, row));
    case 'cmp': {
      if (w.value.kind !== 'str') throw new Error('where value not resolved');
      const want = w.value.value;
      const have = row[w.key];
      if (w.op === '~') return have !== undefined && new RegExp(want).test(have);
      const hb = BOOL[have ?? ''];
      const wb = BOOL[want];
      if (hb !== undefined && wb !== undefined) return hb === wb;
      return (have ?? '') === want;
    }
  }
}

export interface RunOptions {
  /** called after each change command was answered (awaited before the next command) */
  onChange?: (words: string[]) => void | Promise<void>;
}

export interface RunResult {
  /** the API words of every change command, in the order sent */
  changes: string[][];
}

/**
 * Runs `script` against `client` like /import: statements in order, stopping at the first error (a trap
 * from the router rejects with the client's RosError, `:error` with ScriptError). The whole script is
 * parsed first, so an unsupported construct anywhere means no command at all.
 */
export async function runScript(client: ScriptClient, script: string, options: RunOptions = {}): Promise<RunResult> {
  const program = parseScript(script);
  const changes: string[][] = [];
  type Scope = Map<string, Value>;

  const lookup = (scopes: Scope[], name: string, line: number): Value => {
    for (let i = scopes.length - 1; i >= 0; i--) {
      if (scopes[i]!.has(name)) return scopes[i]!.get(name)!;
    }
    throw new UnsupportedScript(`line ${line}: variable $${name} is not set`);
  };

  const change = async (words: string[]): Promise<string | undefined> => {
    const reply = await client.command(words);
    changes.push(words);
    await options.onChange?.(words);
    return reply.ret;
  };

  const fail = (line: number, why: string): never => {
    throw new UnsupportedScript(`line ${line}: ${why}`);
  };
  const show = (v: Value) => JSON.stringify(v);
  const asNumber = (v: Value, line: number): number => (typeof v === 'number' ? v : fail(line, `expected a number, got ${show(v)}`));
  const asString = (v: Value, line: number): string => (typeof v === 'string' ? v : fail(line, `expected a string, got ${show(v)}`));
  /** the ids a command or get acts on: one id, or an array of them (from find) */
  const asIds = (v: Value, line: number): string[] => (typeof v === 'string' ? [v] : Array.isArray(v) ? v : fail(line, `expected item ids, got ${show(v)}`));

  /** A where with its $variables replaced by their values. */
  const resolveWhere = (w: Where, scopes: Scope[], line: number): Where => {
    switch (w.kind) {
      case 'not':
        return { kind: 'not', of: resolveWhere(w.of, scopes, line) };
      case 'and':
      case 'or':
        return { kind: w.kind, terms: w.terms.map((t) => resolveWhere(t, scopes, line)) };
      case 'cmp': {
        if (w.value.kind === 'str') return w;
        const v = lookup(scopes, w.value.name, line);
        // a number compares as the API prints it
        const text = typeof v === 'number' ? String(v) : asString(v, line);
        return { ...w, value: { kind: 'str', value: text } };
      }
    }
  };

  const rowsOf = async (menu: string): Promise<Array<Record<string, string>>> => (await client.command([`${menu}/print`])).rows;

  const evaluate = async (e: Expr, scopes: Scope[], line: number): Promise<Value> => {
    switch (e.kind) {
      case 'str':
      case 'num':
        return e.value;
      case 'var':
        return lookup(scopes, e.name, line);
      case 'find': {
        // find = print everything, then filter here: the fake's API queries need not know RouterOS's regexes
        const where = resolveWhere(e.where, scopes, line);
        return (await rowsOf(e.menu)).filter((r) => whereMatches(where, r)).map((r) => {
          const id = r['.id'];
          if (id === undefined) throw new Error(`${e.menu}/print returned a row without .id`);
          return id;
        });
      }
      case 'get': {
        // get = print everything, then pick the item: RouterOS wants exactly one
        const ids = asIds(await evaluate(e.item, scopes, line), line);
        if (ids.length !== 1) fail(line, `get of ${ids.length} items`);
        const row = (await rowsOf(e.menu)).find((r) => r['.id'] === ids[0]);
        if (!row) throw new ScriptError(`line ${line}: no such item ${ids[0]!} in ${e.menu}`);
        const v = row[e.key];
        if (v === undefined) return null;
        if (LIST_PROPS.has(e.key)) return v === '' ? [] : v.split(',');
        return v;
      }
      case 'len': {
        const v = await evaluate(e.of, scopes, line);
        if (typeof v !== 'string' && !Array.isArray(v)) return fail(line, `:len of ${show(v)}`);
        return v.length;
      }
      case 'pick': {
        const v = await evaluate(e.of, scopes, line);
        const start = asNumber(await evaluate(e.start, scopes, line), line);
        const end = e.end === undefined ? undefined : asNumber(await evaluate(e.end, scopes, line), line);
        if (typeof v === 'string') return v.slice(start, end ?? start + 1);
        if (!Array.isArray(v)) return fail(line, `:pick of ${show(v)}`);
        if (end !== undefined) return v.slice(start, end);
        if (start >= v.length) fail(line, `:pick ${start} of ${show(v)}`);
        return v[start]!;
      }
      case 'strfind': {
        const where = asString(await evaluate(e.in, scopes, line), line);
        const at = where.indexOf(asString(await evaluate(e.what, scopes, line), line));
        return at < 0 ? null : at;
      }
      case 'toarray': {
        const v = await evaluate(e.of, scopes, line);
        if (Array.isArray(v)) return v;
        const text = asString(v, line);
        return text === '' ? [] : text.split(',');
      }
      case 'add': {
        const ret = await change([`${e.menu}/add`, ...(await propWords(e.props, scopes, line))]);
        if (ret === undefined) fail(line, `${e.menu}/add gave no id`);
        return ret!;
      }
      case 'arith': {
        const values = [];
        for (const t of e.terms) values.push(await evaluate(t, scopes, line));
        if (e.op === '+') return values.reduce<number>((sum, v) => sum + asNumber(v, line), 0);
        return values.map((v) => (typeof v === 'number' ? String(v) : asString(v, line))).join('');
      }
    }
  };

  const asText = (v: Value, line: number): string => {
    if (typeof v === 'string') return v;
    throw new UnsupportedScript(`line ${line}: expected a single value, got ${JSON.stringify(v)}`);
  };

  const propWords = async (props: Array<[string, Expr]>, scopes: Scope[], line: number): Promise<string[]> => {
    const words: string[] = [];
    for (const [k, v] of props) words.push(`=${k}=${asText(await evaluate(v, scopes, line), line)}`);
    return words;
  };

  const exec = async (body: Stmt[], scopes: Scope[]): Promise<void> => {
    for (const s of body) {
      switch (s.kind) {
        case 'block':
          await exec(s.body, [...scopes, new Map()]);
          break;
        case 'local':
          scopes[scopes.length - 1]!.set(s.name, await evaluate(s.value, scopes, s.line));
          break;
        case 'assign': {
          const value = await evaluate(s.value, scopes, s.line);
          const scope = [...scopes].reverse().find((sc) => sc.has(s.name));
          if (!scope) fail(s.line, `:set of $${s.name}, which no :local declared`);
          scope!.set(s.name, value);
          break;
        }
        case 'if': {
          const l = await evaluate(s.left, scopes, s.line);
          const r = await evaluate(s.right, scopes, s.line);
          const comparable = s.op === '=' ? (typeof l === 'number' && typeof r === 'number') || (typeof l === 'string' && typeof r === 'string') : typeof l === 'number' && typeof r === 'number';
          if (!comparable) fail(s.line, `:if compares ${show(l)} ${s.op} ${show(r)}`);
          const holds = s.op === '=' ? l === r : (l as number) > (r as number);
          const branch = holds ? s.then : s.else;
          if (branch) await exec(branch, [...scopes, new Map()]);
          break;
        }
        case 'foreach': {
          const over = await evaluate(s.in, scopes, s.line);
          if (!Array.isArray(over)) fail(s.line, `:foreach over ${show(over)}`);
          for (const item of over as string[]) await exec(s.body, [...scopes, new Map([[s.name, item]])]);
          break;
        }
        case 'error':
          throw new ScriptError(asText(await evaluate(s.message, scopes, s.line), s.line));
        case 'add':
          await change([`${s.menu}/add`, ...(await propWords(s.props, scopes, s.line))]);
          break;
        case 'set': {
          const ids = asIds(await evaluate(s.items, scopes, s.line), s.line);
          const props = await propWords(s.props, scopes, s.line);
          // like remove: nothing to set, nothing sent
          if (ids.length > 0) await change([`${s.menu}/set`, `=numbers=${ids.join(',')}`, ...props]);
          break;
        }
        case 'itemsWith': {
          const ids = asIds(await evaluate(s.items, scopes, s.line), s.line);
          if (ids.length > 0) await change([`${s.menu}/${s.op}`, `=numbers=${ids.join(',')}`, ...(await propWords(s.props, scopes, s.line))]);
          break;
        }
        case 'items': {
          const ids = asIds(await evaluate(s.items, scopes, s.line), s.line);
          // RouterOS does nothing for an empty list, so neither is anything sent
          if (ids.length > 0) await change([`${s.menu}/${s.op}`, `=numbers=${ids.join(',')}`]);
          break;
        }
      }
    }
  };

  await exec(program, [new Map()]);
  return { changes };
}
