export type SpecPath = ReadonlyArray<string | number>;

/** One problem in a spec, reported as `<file>:<line>:<col> <yaml.path>: <message>`. */
export interface SpecProblem {
  path: SpecPath;
  message: string;
  line?: number;
  col?: number;
}

const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;

/** `networks.docker-demo.firewall.from[0]`; the document itself is `<root>`. */
export function formatPath(path: SpecPath): string {
  if (path.length === 0) return '<root>';
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (PLAIN_KEY.test(part)) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

// Messages quote spec values; a control character in one must not reach the terminal raw.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
const visible = (s: string) => s.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`).replace(/\n/g, '\\n');

export function formatProblem(file: string, p: SpecProblem): string {
  const where = p.line !== undefined ? `${file}:${p.line}:${p.col ?? 1}` : file;
  return visible(`${where} ${formatPath(p.path)}: ${p.message}`);
}

/** A spec that cannot be used; carries every problem found, not just the first. */
export class SpecError extends Error {
  constructor(
    readonly file: string,
    readonly problems: SpecProblem[],
  ) {
    super(problems.map((p) => formatProblem(file, p)).join('\n'));
    this.name = 'SpecError';
  }
}

/** A mistake by the user (bad option, unknown router name, unwritable --out): printed without a stack trace. */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}
