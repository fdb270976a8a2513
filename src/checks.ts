// Small checks shared by the resolver: each returns a message for the spec path that failed, or undefined.
import type { SpecPath, SpecProblem } from './errors.js';
import { parseCidr, parseIp, parseIpRange, type Cidr, type Family, type Ip } from './ip.js';

export const IFNAMSIZ_MAX = 15;

/**
 * Linux interface names, kept to what every tool in the chain accepts: at most 15 bytes (the kernel's
 * IFNAMSIZ), ASCII letters, digits, "_", "." and "-" only, not starting with "-" or "." (ip would read an
 * option or a hidden name). The kernel would take more ("%" is even a numbering template to it), but
 * systemd-networkd refuses "%", ":" and non-ASCII, and shell, file-name and networkd syntax stay plain.
 */
export function linuxNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > IFNAMSIZ_MAX) return `"${printable(name)}" is ${bytes} bytes; Linux interface names are at most ${IFNAMSIZ_MAX}`;
  const bad = /[^A-Za-z0-9_.-]/.exec(name);
  if (bad) return `"${printable(name)}" contains ${describeChar(bad[0])}; interface names may use letters, digits, "_", "." and "-"`;
  if (/^[-.]/.test(name)) return `"${printable(name)}" must start with a letter, digit or "_"`;
  return undefined;
}

function describeChar(c: string): string {
  if (c === '\n') return 'a newline';
  if (/\s/.test(c)) return 'white space';
  if (/[\u0000-\u001f\u007f]/.test(c)) return 'a control character';
  return `"${c}"`;
}

function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Collects problems while parsing, so that all of them are reported at once. */
export class ProblemList {
  readonly items: SpecProblem[] = [];
  add(path: SpecPath, message: string): void {
    this.items.push({ path, message });
  }
  ip(path: SpecPath, text: string, family: Family): Ip | undefined {
    const ip = parseIp(text);
    if (!ip) this.add(path, `"${printable(text)}" is not an IPv${family} address`);
    else if (ip.family !== family) this.add(path, `${ip.text} is an IPv${ip.family} address; expected IPv${family}`);
    else return ip;
    return undefined;
  }
  /** A prefix in network form: 192.168.200.0/24, not 192.168.200.1/24. */
  network(path: SpecPath, text: string, family: Family): Cidr | undefined {
    const cidr = parseCidr(text);
    const kind = `an IPv${family} prefix (address/length)`;
    if (!cidr) this.add(path, `"${printable(text)}" is not ${kind}`);
    else if (cidr.family !== family) this.add(path, `${text} is IPv${cidr.family}; expected ${kind}`);
    else if (cidr.address.value !== cidr.first) this.add(path, `${text} has host bits set; did you mean ${cidr.text}?`);
    else return cidr;
    return undefined;
  }
  /** An address with its prefix length, such as a host's own address 192.168.88.9/24. */
  interfaceAddress(path: SpecPath, text: string): Cidr | undefined {
    const cidr = parseCidr(text);
    if (!cidr || cidr.family !== 4) this.add(path, `"${printable(text)}" is not an IPv4 address with prefix length (e.g. 192.168.88.9/24)`);
    else return cidr;
    return undefined;
  }
  range(path: SpecPath, text: string, family: Family) {
    const r = parseIpRange(text);
    // parseIpRange refuses a range that ends before it starts: said as such when the other way round parses
    const reversed = r ? undefined : parseIpRange(text.split('-').reverse().join('-'));
    if (reversed?.family === family) this.add(path, `${text} ends before it starts`);
    else if (!r || r.family !== family) this.add(path, `"${printable(text)}" is not an IPv${family} address range (first-last)`);
    else return r;
    return undefined;
  }
  linuxName(path: SpecPath, name: string): boolean {
    const problem = linuxNameProblem(name);
    if (problem) this.add(path, problem);
    return problem === undefined;
  }
}
