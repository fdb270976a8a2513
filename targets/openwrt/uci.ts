// Reading UCI text back: the `set` lines of a uci batch and the lines of `uci show` share one form,
// `config.section=type` and `config.section.option=value`. Used to check that a rendered batch says exactly
// what the desired sections say (round trip), and to read a router's current state.

export interface ParsedUciSection {
  config: string;
  name: string;
  type: string;
  options: Array<[string, string]>;
}

/**
 * Splits a value the way uci's own parser does: 'single quotes' (no escapes), "double quotes" (backslash
 * escapes) and bare text (backslash escapes), adjacent parts joined, white space ending the word.
 */
export function parseUciValue(text: string): { value: string; rest: string } {
  let value = '';
  let i = 0;
  while (i < text.length && !/\s/.test(text[i]!)) {
    const c = text[i]!;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' in ${JSON.stringify(text)}`);
      value += text.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        value += text[i];
        i++;
      }
      if (i >= text.length) throw new Error(`unterminated " in ${JSON.stringify(text)}`);
      i++;
    } else if (c === '\\' && i + 1 < text.length) {
      value += text[i + 1];
      i += 2;
    } else {
      value += c;
      i++;
    }
  }
  return { value, rest: text.slice(i).trim() };
}

const DELETION = /^delete\s+([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)(?:\.([A-Za-z0-9_]+))?$/;
const ASSIGNMENT = /^(?:set\s+)?([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)(?:\.([A-Za-z0-9_]+))?=(.*)$/;

/** Sections in the order they are (re)created; options in the order they are set (a later set replaces). */
export function parseUciAssignments(text: string): ParsedUciSection[] {
  const sections = new Map<string, ParsedUciSection>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const d = DELETION.exec(line);
    if (d) {
      const [, config, name, option] = d as unknown as [string, string, string, string | undefined];
      const section = sections.get(`${config}.${name}`);
      if (option === undefined) sections.delete(`${config}.${name}`);
      else if (section) section.options = section.options.filter(([k]) => k !== option);
      continue;
    }
    const m = ASSIGNMENT.exec(line);
    if (!m) throw new Error(`not a uci assignment: ${JSON.stringify(line)}`);
    const [, config, name, option, rawValue] = m as unknown as [string, string, string, string | undefined, string];
    const { value, rest } = parseUciValue(rawValue);
    if (rest !== '') throw new Error(`extra words after the value: ${JSON.stringify(line)}`);
    const key = `${config}.${name}`;
    let section = sections.get(key);
    if (option === undefined) {
      if (!section) sections.set(key, { config, name, type: value, options: [] });
      else section.type = value;
      continue;
    }
    if (!section) {
      // an option of a section that is not declared here (a section owned by someone else)
      section = { config, name, type: '', options: [] };
      sections.set(key, section);
    }
    const existing = section.options.findIndex(([k]) => k === option);
    if (existing >= 0) section.options[existing] = [option, value];
    else section.options.push([option, value]);
  }
  return [...sections.values()];
}

/** One section of `uci export` output: named or anonymous, options and lists in file order. */
export interface ExportedSection {
  config: string;
  type: string;
  /** undefined for an anonymous section */
  name?: string;
  /** option → value; a list → its items */
  options: Map<string, string | string[]>;
}

/**
 * Parses `uci export` (the config file syntax): `package`, `config <type> ['name']`, `option <name> <value>`,
 * `list <name> <value>`; values quoted as uci quotes them ('…', with '\'' for a quote). Comments and blank
 * lines are skipped. Throws on a line it does not understand, so a misread never turns into a wrong diff.
 */
export function parseUciExport(text: string, defaultConfig = ''): ExportedSection[] {
  const sections: ExportedSection[] = [];
  let config = defaultConfig;
  let current: ExportedSection | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const word = /^(\S+)\s*(.*)$/.exec(line)!;
    const [, keyword, rest] = word as unknown as [string, string, string];
    switch (keyword) {
      case 'package': {
        config = parseUciValue(rest).value;
        current = undefined;
        break;
      }
      case 'config': {
        const type = parseUciValue(rest);
        const name = type.rest === '' ? undefined : parseUciValue(type.rest).value;
        current = { config, type: type.value, ...(name !== undefined ? { name } : {}), options: new Map() };
        sections.push(current);
        break;
      }
      case 'option':
      case 'list': {
        if (!current) throw new Error(`uci export: ${keyword} outside a section: ${JSON.stringify(line)}`);
        const key = parseUciValue(rest);
        const value = parseUciValue(key.rest);
        if (value.rest !== '') throw new Error(`uci export: extra words: ${JSON.stringify(line)}`);
        if (keyword === 'option') current.options.set(key.value, value.value);
        else {
          const have = current.options.get(key.value);
          current.options.set(key.value, Array.isArray(have) ? [...have, value.value] : [value.value]);
        }
        break;
      }
      default:
        throw new Error(`uci export: unexpected line ${JSON.stringify(line)}`);
    }
  }
  return sections;
}

/** An option's value compared as uci consumers read it: a list and a space-separated option are the same. */
export function uciWords(value: string | string[] | undefined): string {
  if (value === undefined) return '';
  return (Array.isArray(value) ? value.join(' ') : value).split(/\s+/).filter(Boolean).join(' ');
}
