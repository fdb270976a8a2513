// Per-target quoting. Handlebars renders with noEscape; every value that reaches a generated line passes
// through one of these, and a value that cannot be quoted safely for that syntax is refused.

const CONTROL = /[\u0000-\u001f\u007f]/;

export class UnsafeValueError extends Error {
  constructor(syntax: string, value: string, why: string) {
    super(`cannot put ${JSON.stringify(value)} into ${syntax}: ${why}`);
    this.name = 'UnsafeValueError';
  }
}

function refuseControl(syntax: string, value: string): void {
  if (CONTROL.test(value)) throw new UnsafeValueError(syntax, value, 'it contains a control character or newline');
}

const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** POSIX shell word: bare when only safe characters, otherwise single-quoted ('\'' for a quote). */
export function shellQuote(value: string): string {
  refuseControl('a shell command', value);
  if (SHELL_SAFE.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** UCI value in single quotes. uci has no escape inside quotes, so a quote cannot be represented. */
export function uciQuote(value: string): string {
  refuseControl('a uci batch line', value);
  if (value.includes("'")) throw new UnsafeValueError('a uci batch line', value, 'single quotes cannot be escaped in uci');
  return `'${value}'`;
}

const UCI_NAME = /^[A-Za-z0-9_]+$/;
/** UCI config, section and option names: letters, digits and "_" only. */
export function uciName(value: string): string {
  if (!UCI_NAME.test(value)) throw new UnsafeValueError('a uci name', value, 'only letters, digits and "_" are allowed');
  return value;
}

const UCI_TYPE = /^[A-Za-z0-9_-]+$/;
/** UCI section types, which may contain "-" (bridge-vlan). */
export function uciType(value: string): string {
  if (!UCI_TYPE.test(value)) throw new UnsafeValueError('a uci section type', value, 'only letters, digits, "_" and "-" are allowed');
  return value;
}

const ROS_BARE = /^[A-Za-z0-9_.:\/,*-]+$/;
/** RouterOS script value: bare when plain, otherwise double-quoted with \\ \" \$ \? escaped. */
export function routerosQuote(value: string): string {
  refuseControl('a RouterOS script', value);
  return ROS_BARE.test(value) ? value : routerosString(value);
}

/** RouterOS string literal, always double-quoted: for values inside `find where` expressions, where a bare
 * word such as main-bridge could be read as arithmetic. */
export function routerosString(value: string): string {
  refuseControl('a RouterOS script', value);
  return `"${value.replace(/[\\"$?]/g, (c) => `\\${c}`)}"`;
}

/** `key=value` pairs for a RouterOS add/set line, values quoted. */
export function routerosProps(props: ReadonlyArray<readonly [string, string]>): string {
  return props
    .map(([key, value]) => {
      if (!/^[a-z][a-z0-9-]*$/.test(key)) throw new UnsafeValueError('a RouterOS script', key, 'not a property name');
      return `${key}=${routerosQuote(value)}`;
    })
    .join(' ');
}
