// `diagram`: the spec's topology as Mermaid and Graphviz DOT. Both outputs are read back by small structural
// parsers (nodes, edges, labels decoded) and compared with values taken from the example files; the DOT output
// is also drawn by the real `dot` (Debian's graphviz), whose SVG text must hold every label line verbatim.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadModel, modelFromText, type Model } from '../src/index.js';
import { renderDiagram } from '../src/diagram.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const example = (name: string) => loadModel(join(root, 'examples', `${name}.yaml`));

interface Parsed {
  /** id → shape (the opening bracket: Mermaid) or kind marker (DOT: the shape attribute) and label lines */
  nodes: Map<string, { shape: string; lines: string[] }>;
  edges: Array<{ from: string; to: string; style: 'solid' | 'dotted'; lines: string[] }>;
}

// ---- a structural Mermaid reader: every line must be one of the forms the renderer writes ----

const MERMAID_ID = '[a-z][a-z0-9_]*';
const MERMAID_NODE = new RegExp(`^  (${MERMAID_ID})(\\{\\{|\\[/|\\(\\[|\\[|\\()"([^"]*)"(\\}\\}|/\\]|\\]\\)|\\]|\\))$`);
const MERMAID_EDGE = new RegExp(`^  (${MERMAID_ID}) (---|-\\.-)(?:\\|"([^"]*)"\\|)? (${MERMAID_ID})$`);
const CLOSE: Record<string, string> = { '{{': '}}', '[/': '/]', '([': '])', '[': ']', '(': ')' };

/** A quoted Mermaid label's lines, entities decoded; nothing Mermaid reads as syntax or HTML may be left raw. */
function mermaidLines(text: string): string[] {
  return text.split('<br/>').map((line) => {
    expect(line, `raw syntax character in label line ${JSON.stringify(line)}`).not.toMatch(/["<>|`]|#(?![a-z0-9]+;)|&/);
    return line.replace(/#([a-z]+|[0-9]+);/g, (_, e: string) => {
      const named: Record<string, string> = { quot: '"', lt: '<', gt: '>', amp: '&' };
      if (/^[0-9]+$/.test(e)) return String.fromCharCode(Number(e));
      if (!(e in named)) throw new Error(`unknown entity #${e};`);
      return named[e]!;
    });
  });
}

function parseMermaid(text: string): Parsed {
  expect(text.endsWith('\n')).toBe(true);
  const lines = text.slice(0, -1).split('\n');
  expect(lines[0]).toBe('flowchart TB');
  const parsed: Parsed = { nodes: new Map(), edges: [] };
  for (const line of lines.slice(1)) {
    let m: RegExpMatchArray | null;
    if ((m = MERMAID_NODE.exec(line))) {
      expect(CLOSE[m[2]!], line).toBe(m[4]);
      expect(parsed.nodes.has(m[1]!), `node ${m[1]} declared twice`).toBe(false);
      parsed.nodes.set(m[1]!, { shape: m[2]!, lines: mermaidLines(m[3]!) });
    } else if ((m = MERMAID_EDGE.exec(line))) {
      parsed.edges.push({ from: m[1]!, to: m[4]!, style: m[2] === '---' ? 'solid' : 'dotted', lines: m[3] === undefined ? [] : mermaidLines(m[3]) });
    } else if (!/^  classDef [a-z]+ [a-z-]+:#[0-9a-f]{6}(,[a-z-]+:#[0-9a-f]{6})*$/.test(line) && !new RegExp(`^  class ${MERMAID_ID}(,${MERMAID_ID})* [a-z]+$`).test(line)) {
      throw new Error(`not a line of the diagram's Mermaid: ${JSON.stringify(line)}`);
    }
  }
  for (const e of parsed.edges) {
    expect(parsed.nodes.has(e.from), `edge from undeclared ${e.from}`).toBe(true);
    expect(parsed.nodes.has(e.to), `edge to undeclared ${e.to}`).toBe(true);
  }
  return parsed;
}

// ---- a structural DOT reader ----

const DOT_STRING = '"((?:[^"\\\\]|\\\\.)*)"';

/** A DOT label's lines: \" and \\ decoded, \n splits lines (any other escape sequence would be a bug), &amp; decoded. */
function dotLines(text: string): string[] {
  const lines = [''];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '\\') {
      lines[lines.length - 1] += c;
      continue;
    }
    const next = text[++i];
    if (next === 'n') lines.push('');
    else if (next === '"' || next === '\\') lines[lines.length - 1] += next;
    else throw new Error(`unexpected escape \\${next} in ${JSON.stringify(text)}`);
  }
  // dot reads HTML entities in labels: the renderer writes every '&' as &amp;
  return lines.map((line) => {
    expect(line.replace(/&amp;/g, ''), `raw & in ${JSON.stringify(line)}`).not.toContain('&');
    return line.replace(/&amp;/g, '&');
  });
}

function dotAttrs(text: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  const re = new RegExp(`\\s*([a-z]+)=(${DOT_STRING}|[A-Za-z0-9.]+)\\s*(,|$)`, 'y');
  let m: RegExpExecArray | null;
  while (re.lastIndex < text.length && (m = re.exec(text))) attrs[m[1]!] = m[3] ?? m[2]!;
  expect(re.lastIndex, `attribute list ${text}`).toBe(text.length);
  return attrs;
}

function parseDot(text: string): Parsed {
  const lines = text.slice(0, -1).split('\n');
  expect(lines[0]).toBe('graph "flatnet" {');
  expect(lines.at(-1)).toBe('}');
  const parsed: Parsed = { nodes: new Map(), edges: [] };
  const node = new RegExp(`^  ${DOT_STRING} \\[(.*)\\];$`);
  const edge = new RegExp(`^  ${DOT_STRING} -- ${DOT_STRING} \\[(.*)\\];$`);
  for (const line of lines.slice(1, -1)) {
    let m: RegExpMatchArray | null;
    if (/^  (graph|node|edge) \[/.test(line)) continue;
    if ((m = edge.exec(line))) {
      const attrs = dotAttrs(m[3]!);
      parsed.edges.push({ from: dotLines(m[1]!)[0]!, to: dotLines(m[2]!)[0]!, style: attrs.style === 'dashed' ? 'dotted' : 'solid', lines: attrs.label === undefined ? [] : dotLines(attrs.label) });
    } else if ((m = node.exec(line))) {
      const attrs = dotAttrs(m[2]!);
      parsed.nodes.set(dotLines(m[1]!)[0]!, { shape: attrs.shape!, lines: dotLines(attrs.label!) });
    } else {
      throw new Error(`not a line of the diagram's DOT: ${JSON.stringify(line)}`);
    }
  }
  for (const e of parsed.edges) expect(parsed.nodes.has(e.from) && parsed.nodes.has(e.to), `${e.from} -- ${e.to}`).toBe(true);
  return parsed;
}

const formats = [
  ['mermaid', parseMermaid],
  ['dot', parseDot],
] as const;

/** The node whose first label line is `first`. */
function nodeNamed(p: Parsed, first: string): { id: string; shape: string; lines: string[] } {
  const found = [...p.nodes].filter(([, n]) => n.lines[0] === first);
  expect(found.map(([id]) => id), `one node labelled ${first}`).toHaveLength(1);
  const [id, n] = found[0]!;
  return { id, ...n };
}

/** The edge between two nodes (either way round). */
function edgeBetween(p: Parsed, a: string, b: string) {
  const found = p.edges.filter((e) => (e.from === a && e.to === b) || (e.from === b && e.to === a));
  expect(found, `one edge ${a} — ${b}`).toHaveLength(1);
  return found[0]!;
}

const vlanWords = (model: Model, names: string[]) => names.map((n) => `${model.networks.find((x) => x.name === n)!.vlan} (${n})`).join(', ');

describe.each(formats)('diagram --format %s', (format, parse) => {
  it('examples/switched.yaml: router, switch, host, both cables with both ports and their VLANs, networks, the access port', () => {
    const model = example('switched');
    const p = parse(renderDiagram(model, format));
    const core = nodeNamed(p, 'core');
    const sw1 = nodeNamed(p, 'sw1');
    const nas = nodeNamed(p, 'nas');
    expect(core.lines).toEqual(['core', 'router · routeros', '192.168.88.1']);
    expect(sw1.lines).toEqual(['sw1', 'switch · routeros', '192.168.88.2']);
    expect(nas.lines).toEqual(['nas', 'docker host · enp3s0', '192.168.88.9/24']);

    const uplink = edgeBetween(p, core.id, sw1.id);
    expect(uplink.style).toBe('solid');
    expect(uplink.from).toBe(core.id); // the router is drawn above the switch
    expect(uplink.lines).toEqual(['sw1:ether1 — core:ether2', 'VLANs 20 (media), 30 (cams)']);
    const nasCable = edgeBetween(p, sw1.id, nas.id);
    expect(nasCable.lines).toEqual(['nas:enp3s0 — sw1:ether5', 'VLANs 20 (media), 30 (cams)']);
    // the VLAN lists come from the model's derived cables
    expect(model.cables.map((c) => `VLANs ${vlanWords(model, c.networks)}`)).toEqual([nasCable.lines[1], uplink.lines[1]]);
    expect(p.edges.some((e) => [e.from, e.to].includes(core.id) && [e.from, e.to].includes(nas.id))).toBe(false);

    const media = nodeNamed(p, 'media · VLAN 20');
    expect(media.lines).toEqual(['media · VLAN 20', 'subnet 10.20.0.0/24', 'containers 10.20.0.64/26']);
    expect(nodeNamed(p, 'cams · VLAN 30').lines).toEqual(['cams · VLAN 30', 'subnet 10.30.0.0/24', 'containers 10.30.0.128/26']);
    expect(edgeBetween(p, media.id, core.id)).toMatchObject({ style: 'dotted', lines: ['gateway 10.20.0.1'] });

    const camera = nodeNamed(p, 'access port sw1:ether7');
    expect(camera.lines).toEqual(['access port sw1:ether7', 'VLAN 30 (cams) untagged']);
    expect(edgeBetween(p, sw1.id, camera.id).from).toBe(sw1.id);
    // 3 devices, 2 networks, 1 access port; 2 cables, 2 gateways, 1 access port edge
    expect(p.nodes.size).toBe(6);
    expect(p.edges).toHaveLength(5);
  });

  it('examples/openwrt-switched.yaml: OpenWrt types, lan ports, VLANs 200 and 400', () => {
    const p = parse(renderDiagram(example('openwrt-switched'), format));
    const edge = nodeNamed(p, 'edge');
    const sw1 = nodeNamed(p, 'sw1');
    expect(edge.lines[1]).toBe('router · openwrt');
    expect(sw1.lines[1]).toBe('switch · openwrt');
    expect(edgeBetween(p, edge.id, sw1.id).lines).toEqual(['sw1:lan1 — edge:lan2', 'VLANs 200 (apps), 400 (cams)']);
    expect(edgeBetween(p, sw1.id, nodeNamed(p, 'nas').id).lines).toEqual(['nas:enp3s0 — sw1:lan3', 'VLANs 200 (apps), 400 (cams)']);
    expect(nodeNamed(p, 'access port sw1:lan4').lines[1]).toBe('VLAN 400 (cams) untagged');
    expect(nodeNamed(p, 'apps · VLAN 200').lines).toEqual(['apps · VLAN 200', 'subnet 192.168.200.0/24', 'containers 192.168.200.192/27']);
  });

  it('examples/homelab.yaml: hosts without connected-to hang off the router (dotted), untagged network, IPv6 and per-host ranges', () => {
    const p = parse(renderDiagram(example('homelab'), format));
    const core = nodeNamed(p, 'core');
    const nas = edgeBetween(p, core.id, nodeNamed(p, 'nas').id);
    expect(nas).toMatchObject({ from: core.id, style: 'dotted', lines: ['nas:enp3s0 — core (trunk-ports ether2, ether3)', 'VLANs 20 (media), 40 (dmz)', 'untagged: lan-apps'] });
    expect(edgeBetween(p, core.id, nodeNamed(p, 'mini').id).lines).toEqual(['mini:eno1 — core (trunk-ports ether2, ether3)', 'VLANs 30 (iot), 40 (dmz)']);
    expect(nodeNamed(p, 'access port core:ether5').lines[1]).toBe('VLAN 30 (iot) untagged');
    expect(nodeNamed(p, 'lan-apps · untagged LAN').lines).toEqual(['lan-apps · untagged LAN', 'subnet 192.168.88.0/24', 'containers 192.168.88.192/27']);
    const dmz = nodeNamed(p, 'dmz · VLAN 40');
    expect(dmz.lines).toEqual([
      'dmz · VLAN 40',
      'subnet 10.40.0.0/24',
      'containers 10.40.0.128/25',
      'nas: 10.40.0.128/26',
      'mini: 10.40.0.192/26',
      'subnet 2001:db8:40::/64',
      'containers 2001:db8:40::1000/116',
      'nas: 2001:db8:40::1000/117',
      'mini: 2001:db8:40::1800/117',
    ]);
    expect(edgeBetween(p, dmz.id, core.id).lines).toEqual(['gateway 10.40.0.1, 2001:db8:40::1']);
    expect(p.edges.filter((e) => e.style === 'solid')).toHaveLength(1); // only the access port's
  });

  it('is deterministic and follows spec order', () => {
    const model = example('homelab');
    const text = renderDiagram(model, format);
    expect(renderDiagram(example('homelab'), format)).toBe(text);
    const firsts = [...parse(text).nodes.values()].map((n) => n.lines[0]);
    expect(firsts).toEqual(['core', 'nas', 'mini', 'lan-apps · untagged LAN', 'media · VLAN 20', 'iot · VLAN 30', 'dmz · VLAN 40', 'access port core:ether5']);
  });
});

// Port names the schema allows (spaces, ':', '@', '+', '.') and, injected into the model, characters it does
// not (quotes, backslashes, '#', '<', '|', a newline): each label must come back verbatim.
const AWKWARD_SPEC = `version: 1
routers:
  core:
    type: routeros
    address: 192.168.88.1
    user: flatnet
    password-env: X
    bridge: bridge
switches:
  sw-1:
    type: routeros
    address: 192.168.88.2
    user: flatnet
    password-env: Y
    bridge: bridge
    uplink: "sfp+ 1.2"
    connected-to: "core:combo@1:2"
hosts:
  nas:
    parent: enp3s0
    connected-to: "sw-1:ether 5"
networks:
  media:
    router: core
    host: nas
    vlan: 20
    subnet: 10.20.0.0/24
    gateway: 10.20.0.1
    container-range: 10.20.0.64/26
    access-ports: ["sw-1:cam port.7"]
`;
const EVIL = 'a "q" \\n\\"\\ #35; #quot; <b>|x| `y` &amp; end';

function awkwardModel(): Model {
  const model = modelFromText(AWKWARD_SPEC);
  model.cables[0]!.to.port = EVIL; // the host's cable, switch end
  model.switches[0]!.vlanPorts['media']!.untagged = [`${EVIL}\nline`];
  return model;
}

describe.each(formats)('diagram --format %s escaping', (format, parse) => {
  it('port names with spaces, :, @, +, . and injected quotes, backslashes, #, <, | come back verbatim', () => {
    const p = parse(renderDiagram(modelFromText(AWKWARD_SPEC), format));
    const sw = nodeNamed(p, 'sw-1');
    expect(edgeBetween(p, nodeNamed(p, 'core').id, sw.id).lines[0]).toBe('sw-1:sfp+ 1.2 — core:combo@1:2');
    expect(edgeBetween(p, sw.id, nodeNamed(p, 'nas').id).lines[0]).toBe('nas:enp3s0 — sw-1:ether 5');
    nodeNamed(p, 'access port sw-1:cam port.7');

    const evil = parse(renderDiagram(awkwardModel(), format));
    const esw = nodeNamed(evil, 'sw-1');
    expect(edgeBetween(evil, esw.id, nodeNamed(evil, 'nas').id).lines[0]).toBe(`nas:enp3s0 — sw-1:${EVIL}`);
    // a newline inside a name: Mermaid labels have no escape for it (a space); DOT keeps it as a line break
    nodeNamed(evil, `access port sw-1:${EVIL}${format === 'mermaid' ? ' line' : ''}`);
  });
});

const hasDot = spawnSync('dot', ['-V']).status === 0;
if (!hasDot) console.warn('diagram.test.ts: `dot` (graphviz) is not installed: the tests that draw with the real dot are skipped (apt-get install graphviz)');

/** The text lines of an SVG drawn by dot, XML entities decoded. */
function svgText(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) =>
    m[1]!.replace(/&(#x?[0-9a-fA-F]+|[a-z]+);/g, (_, e: string) => {
      if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
      if (e.startsWith('#')) return String.fromCodePoint(Number(e.slice(1)));
      return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[e] ?? `&${e};`;
    }).replace(/\u00a0/g, ' '),
  );
}

function drawDot(text: string): string {
  const run = spawnSync('dot', ['-Tsvg'], { input: text, encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  // nothing to say about the graph (a machine without fonts may still warn about those)
  expect(run.stderr.split('\n').filter((l) => l !== '' && !/font/i.test(l))).toEqual([]);
  return run.stdout;
}

describe.skipIf(!hasDot)(`the real dot (graphviz) draws the DOT output${hasDot ? '' : ' (skipped: no dot command: apt-get install graphviz)'}`, () => {
  it.each(['switched', 'openwrt-switched', 'homelab', 'dual-stack', 'flat-lan', 'routeros-vlan', 'openwrt-vlan', 'openwrt-trunk'])('examples/%s.yaml', (name) => {
    const text = renderDiagram(example(name), 'dot');
    const drawn = svgText(drawDot(text));
    const parsed = parseDot(text);
    const expected = [...[...parsed.nodes.values()].flatMap((n) => n.lines), ...parsed.edges.flatMap((e) => e.lines)];
    expect(drawn.sort()).toEqual(expected.sort());
  });

  it('draws awkward and injected port names verbatim', () => {
    const drawn = svgText(drawDot(renderDiagram(awkwardModel(), 'dot')));
    expect(drawn).toContain('sw-1:sfp+ 1.2 — core:combo@1:2');
    expect(drawn).toContain(`nas:enp3s0 — sw-1:${EVIL}`);
    expect(drawn).toContain(`access port sw-1:${EVIL}`);
    expect(drawn).toContain('line');
  });
});

describe('docs/switched.svg and docs/switched.mmd (node docs/diagram.mjs regenerates them)', () => {
  it('show the current diagram of examples/switched.yaml', () => {
    const model = example('switched');
    expect(readFileSync(join(root, 'docs', 'switched.mmd'), 'utf8')).toBe(renderDiagram(model, 'mermaid'));
    // the drawing differs between graphviz versions; its text is the labels, line by line
    const parsed = parseDot(renderDiagram(model, 'dot'));
    const expected = [...[...parsed.nodes.values()].flatMap((n) => n.lines), ...parsed.edges.flatMap((e) => e.lines)];
    expect(svgText(readFileSync(join(root, 'docs', 'switched.svg'), 'utf8')).sort()).toEqual(expected.sort());
  });
});
