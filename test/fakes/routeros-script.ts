// A tiny interpreter for the RouterOS script constructs templates/routeros/script.rsc.hbs generates, run
// against a RouterOS API (in tests: the fake of routeros-fake.ts) the way /import runs them: one command at
// a time, each change command as exactly one API command. Test-only.
//
// It knows exactly these constructs and refuses (throws UnsupportedScript) anything else, before the first
// command runs, so a template change it does not understand fails the tests rather than being skipped:
//   # comment lines
//   /menu/add k=v ...                        values bare, "double-quoted" (\\ \" \$ \? escapes) or $var
//   /menu/remove|enable|disable [<items>]    <items>: [/menu/find where ...], [find where ...] or $var
//   { ... }                                   a block (its own scope for :local)
//   :local name <expr>
//   :if (<expr> = N|> N) do={ ... } else={ ... }
//   :error "message"
//   expressions: [/menu/find where <cond>], [:len <expr>], [:pick <expr> N], $var, "string", N
//   <cond>: key=value, key~"regex", !(<cond>), (<cond>), joined by `and` or by `or` (not both unbracketed)
import type { RosClient } from '../../targets/routeros/api.js';

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
const PUNCT = new Set(['{', '}', '[', ']', '(', ')', '=', '~', '!', '>']);

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

type Where =
  | { kind: 'cmp'; key: string; op: '=' | '~'; value: string }
  | { kind: 'not'; of: Where }
  | { kind: 'and' | 'or'; terms: Where[] };

type Expr =
  | { kind: 'str'; value: string }
  | { kind: 'num'; value: number }
  | { kind: 'var'; name: string }
  | { kind: 'find'; menu: string; where: Where }
  | { kind: 'len'; of: Expr }
  | { kind: 'pick'; of: Expr; index: number };

type Stmt =
  | { kind: 'block'; body: Stmt[]; line: number }
  | { kind: 'local'; name: string; value: Expr; line: number }
  | { kind: 'if'; left: Expr; op: '=' | '>'; right: Expr; then: Stmt[]; else?: Stmt[]; line: number }
  | { kind: 'error'; message: Expr; line: number }
  | { kind: 'add'; menu: string; props: Array<[string, Expr]>; line: number }
  | { kind: 'items'; menu: string; op: 'remove' | 'enable' | 'disable'; items: Expr; line: number };

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
      case ':local': {
        const name = this.expectWord().text;
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) this.fail(`variable name ${name}`, t);
        return { kind: 'local', name, value: this.expr(undefined), line: t.line };
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
    if (op === 'add') {
      const props: Array<[string, Expr]> = [];
      while (this.peek().kind === 'word') {
        const key = this.next();
        if (!/^[a-z][a-z0-9-]*$/.test(key.text)) this.fail('not a property name', key);
        this.expectOp('=', true);
        const v = this.next();
        if (v.spaced) this.fail('white space after "="', v);
        if (v.kind === 'word' || v.kind === 'str') props.push([key.text, { kind: 'str', value: v.text }]);
        else if (v.kind === 'var') props.push([key.text, { kind: 'var', name: v.text }]);
        else this.fail('expected a value', v);
      }
      return { kind: 'add', menu, props, line: t.line };
    }
    if (op === 'remove' || op === 'enable' || op === 'disable') {
      return { kind: 'items', menu, op, items: this.expr(menu), line: t.line };
    }
    return this.fail(`command ${op}`, t);
  }

  /** `context`: the menu a bare `find` refers to (the command's own), undefined where none. */
  private expr(context: string | undefined): Expr {
    const t = this.next();
    if (t.kind === 'str') return { kind: 'str', value: t.text };
    if (t.kind === 'var') return { kind: 'var', name: t.text };
    if (t.kind === 'word' && /^[0-9]+$/.test(t.text)) return { kind: 'num', value: Number(t.text) };
    if (!this.isOp('[', t)) this.fail('expected an expression', t);
    const head = this.expectWord();
    let e: Expr;
    if (head.text === ':len') {
      e = { kind: 'len', of: this.expr(undefined) };
    } else if (head.text === ':pick') {
      const of = this.expr(undefined);
      const index = this.expectWord();
      if (!/^[0-9]+$/.test(index.text)) this.fail('expected an index', index);
      e = { kind: 'pick', of, index: Number(index.text) };
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
    if ((v.kind !== 'word' && v.kind !== 'str') || v.spaced) this.fail('expected a value right after the operator', v);
    return { kind: 'cmp', key: key.text, op: op.text as '=' | '~', value: v.text };
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

type Value = string | number | string[];

const BOOL: Record<string, boolean> = { yes: true, true: true, no: false, false: false };

/** RouterOS compares yes/no with the API's true/false; other values as text. A missing property is "". */
function whereMatches(w: Where, row: Record<string, string>): boolean {
  switch (w.kind) {
    case 'not':
      return !whereMatches(w.of, row);
    case 'and':
      return w.terms.every((t) => whereMatches(t, row));
    case 'or':
      return w.terms.some((t) => whereMatches(t, row));
    case 'cmp': {
      const have = row[w.key];
      if (w.op === '~') return have !== undefined && new RegExp(w.value).test(have);
      const hb = BOOL[have ?? ''];
      const wb = BOOL[w.value];
      if (hb !== undefined && wb !== undefined) return hb === wb;
      return (have ?? '') === w.value;
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
export async function runScript(client: RosClient, script: string, options: RunOptions = {}): Promise<RunResult> {
  const program = parseScript(script);
  const changes: string[][] = [];
  type Scope = Map<string, Value>;

  const lookup = (scopes: Scope[], name: string, line: number): Value => {
    for (let i = scopes.length - 1; i >= 0; i--) {
      const v = scopes[i]!.get(name);
      if (v !== undefined) return v;
    }
    throw new UnsupportedScript(`line ${line}: variable $${name} is not set`);
  };

  const change = async (words: string[]): Promise<void> => {
    await client.command(words);
    changes.push(words);
    await options.onChange?.(words);
  };

  const evaluate = async (e: Expr, scopes: Scope[], line: number): Promise<Value> => {
    switch (e.kind) {
      case 'str':
      case 'num':
        return e.value;
      case 'var':
        return lookup(scopes, e.name, line);
      case 'find': {
        // find = print everything, then filter here: the fake's API queries need not know RouterOS's regexes
        const { rows } = await client.command([`${e.menu}/print`]);
        return rows.filter((r) => whereMatches(e.where, r)).map((r) => {
          const id = r['.id'];
          if (id === undefined) throw new Error(`${e.menu}/print returned a row without .id`);
          return id;
        });
      }
      case 'len': {
        const v = await evaluate(e.of, scopes, line);
        if (typeof v === 'number') throw new UnsupportedScript(`line ${line}: :len of a number`);
        return v.length;
      }
      case 'pick': {
        const v = await evaluate(e.of, scopes, line);
        if (!Array.isArray(v) || e.index >= v.length) throw new UnsupportedScript(`line ${line}: :pick ${e.index} of ${JSON.stringify(v)}`);
        return v[e.index]!;
      }
    }
  };

  const asText = (v: Value, line: number): string => {
    if (typeof v === 'string') return v;
    throw new UnsupportedScript(`line ${line}: expected a single value, got ${JSON.stringify(v)}`);
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
        case 'if': {
          const l = await evaluate(s.left, scopes, s.line);
          const r = await evaluate(s.right, scopes, s.line);
          if (typeof l !== 'number' || typeof r !== 'number') throw new UnsupportedScript(`line ${s.line}: :if compares non-numbers`);
          const holds = s.op === '=' ? l === r : l > r;
          const branch = holds ? s.then : s.else;
          if (branch) await exec(branch, [...scopes, new Map()]);
          break;
        }
        case 'error':
          throw new ScriptError(asText(await evaluate(s.message, scopes, s.line), s.line));
        case 'add': {
          const words = [`${s.menu}/add`];
          for (const [k, v] of s.props) words.push(`=${k}=${asText(await evaluate(v, scopes, s.line), s.line)}`);
          await change(words);
          break;
        }
        case 'items': {
          const v = await evaluate(s.items, scopes, s.line);
          const ids = typeof v === 'string' ? [v] : v;
          if (typeof ids === 'number') throw new UnsupportedScript(`line ${s.line}: ${s.op} of a number`);
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
