// Handlebars set up for config text: no HTML escaping, strict lookups (a typo in a template fails instead of
// printing nothing), and quoting helpers per target syntax.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { packageRoot } from './paths.js';
import { routerosProps, routerosQuote, routerosString, shellQuote, uciName, uciQuote, uciType } from './quote.js';

const hbs = Handlebars.create();
hbs.registerHelper('sh', (v: unknown) => shellQuote(String(v)));
hbs.registerHelper('uci', (v: unknown) => uciQuote(String(v)));
hbs.registerHelper('uciName', (v: unknown) => uciName(String(v)));
hbs.registerHelper('uciType', (v: unknown) => uciType(String(v)));
hbs.registerHelper('ros', (v: unknown) => routerosQuote(String(v)));
hbs.registerHelper('rosString', (v: unknown) => routerosString(String(v)));
hbs.registerHelper('rosProps', (v: ReadonlyArray<readonly [string, string]>) => routerosProps(v));

const cache = new Map<string, HandlebarsTemplateDelegate>();

/** Renders templates/<target>/<name>.hbs with the given view. */
export function renderTemplate(target: string, name: string, view: object): string {
  const key = `${target}/${name}`;
  let template = cache.get(key);
  if (!template) {
    const source = readFileSync(join(packageRoot(), 'templates', target, `${name}.hbs`), 'utf8');
    template = hbs.compile(source, { noEscape: true, strict: true });
    cache.set(key, template);
  }
  return template(view);
}
