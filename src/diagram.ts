// The topology of a spec as a diagram: routers, switches and Docker hosts, each cable with the ports at both
// ends and the VLANs it carries tagged, the networks (VLAN id, subnets, container ranges) with their gateway,
// and the access ports. One graph is built from the model, in spec order, and written as Mermaid (renders in
// Markdown on GitHub) or Graphviz DOT. Every label is escaped for its syntax: port names may hold spaces,
// ':', '@', '+' and '.'.
import type { BridgeDevice, HostModel, Model, NetworkModel } from './model.js';

export type DiagramFormat = 'mermaid' | 'dot';
export const DIAGRAM_FORMATS: readonly DiagramFormat[] = ['mermaid', 'dot'];

type NodeKind = 'router' | 'switch' | 'host' | 'network' | 'access';

interface DiagramNode {
  id: string;
  kind: NodeKind;
  /** label lines, plain text (escaped by each format) */
  lines: string[];
}

interface DiagramEdge {
  /** the upper end (network above router above switch above host): both formats rank it above `to` */
  from: string;
  to: string;
  /** solid: a cable of the spec; dotted: a network's gateway or a host without connected-to */
  style: 'solid' | 'dotted';
  lines: string[];
}

interface DiagramGraph {
  nodes: DiagramNode[];
  edges: DiagramEdge[];
}

/** Renders the model's topology as Mermaid (`flowchart TB`) or Graphviz DOT (`graph`). Deterministic: spec order. */
export function renderDiagram(model: Model, format: DiagramFormat): string {
  const graph = diagramGraph(model);
  switch (format) {
    case 'mermaid':
      return mermaid(graph);
    case 'dot':
      return dot(graph);
    default:
      throw new Error(`unknown diagram format "${String(format)}" (mermaid or dot)`);
  }
}

// Names match [a-z][a-z0-9-] (one name space for routers, switches and hosts; networks have their own), so
// a prefix per kind and '-' → '_' give distinct identifiers that are plain words in both syntaxes.
const word = (name: string) => name.replace(/-/g, '_');
const deviceId = (d: BridgeDevice) => `${d.kind === 'router' ? 'r' : 's'}_${word(d.name)}`;
const hostId = (name: string) => `h_${word(name)}`;
const networkId = (name: string) => `n_${word(name)}`;

function diagramGraph(model: Model): DiagramGraph {
  const nodes: DiagramNode[] = [];
  const edges: DiagramEdge[] = [];
  const networks = new Map(model.networks.map((n) => [n.name, n]));
  const devices = [...model.routers, ...model.switches];
  const byName = new Map<string, string>();
  for (const d of devices) byName.set(d.name, deviceId(d));
  for (const h of model.hosts) byName.set(h.name, hostId(h.name));

  /** "VLANs 20 (media), 30 (cams)" for networks carried tagged */
  const vlanList = (names: string[]): string => {
    const vlans = names.map((name) => networks.get(name)).filter((n): n is NetworkModel => n?.vlan !== undefined);
    if (vlans.length === 0) return 'no VLAN tagged';
    return `${vlans.length === 1 ? 'VLAN' : 'VLANs'} ${vlans.map((n) => `${n.vlan} (${n.name})`).join(', ')}`;
  };
  /** the untagged networks (the router's LAN) a host runs containers on */
  const untaggedOf = (host: HostModel): string[] =>
    unique(host.attachments.map((a) => a.network)).filter((name) => networks.has(name) && networks.get(name)!.vlan === undefined);
  const hostLines = (host: HostModel, vlanNetworks: string[]): string[] => {
    const untagged = untaggedOf(host);
    return [vlanList(vlanNetworks), ...(untagged.length > 0 ? [`untagged: ${untagged.join(', ')}`] : [])];
  };

  for (const d of devices) {
    nodes.push({ id: deviceId(d), kind: d.kind, lines: [d.name, `${d.kind} · ${d.type}`, d.address] });
  }
  for (const h of model.hosts) {
    nodes.push({ id: hostId(h.name), kind: 'host', lines: [h.name, `docker host · ${h.parent}`, ...(h.address ? [h.address] : [])] });
  }
  for (const n of model.networks) {
    nodes.push({ id: networkId(n.name), kind: 'network', lines: networkLines(n) });
    const router = n.router === undefined ? undefined : byName.get(n.router);
    if (router) {
      const gateways = [n.ipv4.gateway, ...(n.ipv6 ? [n.ipv6.gateway] : [])];
      edges.push({ from: networkId(n.name), to: router, style: 'dotted', lines: [`gateway ${gateways.join(', ')}`] });
    }
  }

  // cables, upper end first; a host's cable also names the untagged networks it runs
  const hosts = new Map(model.hosts.map((h) => [h.name, h]));
  for (const c of model.cables) {
    const from = byName.get(c.from.device);
    const to = byName.get(c.to.device);
    if (!from || !to) continue;
    const host = hosts.get(c.from.device);
    const lines = [`${c.from.device}:${c.from.port} — ${c.to.device}:${c.to.port}`, ...(host ? hostLines(host, c.networks) : [vlanList(c.networks)])];
    edges.push({ from: to, to: from, style: 'solid', lines });
  }

  // a host without connected-to hangs off each router of its networks, on one of its trunk ports or its LAN
  for (const h of model.hosts) {
    if (h.connectedTo) continue;
    const attached = unique(h.attachments.map((a) => a.network)).map((name) => networks.get(name)).filter((n): n is NetworkModel => n !== undefined);
    for (const routerName of unique(attached.flatMap((n) => (n.router === undefined ? [] : [n.router])))) {
      const router = model.routers.find((r) => r.name === routerName);
      if (!router) continue;
      const where = router.trunkPorts.length > 0 ? `(trunk-ports ${router.trunkPorts.join(', ')})` : '(LAN)';
      const vlanNetworks = attached.filter((n) => n.router === routerName && n.vlan !== undefined).map((n) => n.name);
      edges.push({ from: deviceId(router), to: hostId(h.name), style: 'dotted', lines: [`${h.name}:${h.parent} — ${router.name} ${where}`, ...hostLines(h, vlanNetworks)] });
    }
  }

  // access ports: one small node each, below its device
  for (const d of devices) {
    let count = 0;
    for (const n of model.networks) {
      for (const port of d.vlanPorts[n.name]?.untagged ?? []) {
        const id = `a_${word(d.name)}_${++count}`;
        nodes.push({ id, kind: 'access', lines: [`access port ${d.name}:${port}`, `VLAN ${n.vlan} (${n.name}) untagged`] });
        edges.push({ from: deviceId(d), to: id, style: 'solid', lines: [] });
      }
    }
  }
  return { nodes, edges };
}

function networkLines(n: NetworkModel): string[] {
  const lines = [n.vlan === undefined ? `${n.name} · untagged LAN` : `${n.name} · VLAN ${n.vlan}`];
  lines.push(`subnet ${n.ipv4.subnet}`, n.ipv4.containerRange ? `containers ${n.ipv4.containerRange}` : 'no containers');
  // each host of a shared network has its own slice of the container range
  const slices = (pick: (a: NetworkModel['attachments'][number]) => string | undefined) =>
    n.attachments.length > 1 ? n.attachments.flatMap((a) => (pick(a) ? [`${a.host}: ${pick(a)}`] : [])) : [];
  lines.push(...slices((a) => a.ipv4.ipRange));
  if (n.ipv6) {
    lines.push(`subnet ${n.ipv6.subnet}`);
    if (n.ipv6.containerRange) lines.push(`containers ${n.ipv6.containerRange}`, ...slices((a) => a.ipv6?.ipRange));
  }
  return lines;
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}

// ---- Mermaid ----

const MERMAID_SHAPES: Record<NodeKind, [string, string]> = {
  router: ['{{', '}}'],
  switch: ['[', ']'],
  host: ['(', ')'],
  network: ['[/', '/]'],
  access: ['([', '])'],
};

const MERMAID_ENTITIES: Record<string, string> = { '"': '#quot;', '#': '#35;', '<': '#lt;', '>': '#gt;', '&': '#amp;', '|': '#124;', '`': '#96;' };

/** One line of a Mermaid label: characters Mermaid would read as syntax or HTML become entity codes. */
export function mermaidText(text: string): string {
  return text.replace(/["#<>&|`]/g, (c) => MERMAID_ENTITIES[c]!).replace(/[\r\n]+/g, ' ');
}

/** A quoted Mermaid label: lines joined by <br/>. */
const mermaidLabel = (lines: string[]) => `"${lines.map(mermaidText).join('<br/>')}"`;

function mermaid(graph: DiagramGraph): string {
  const out = ['flowchart TB'];
  for (const n of graph.nodes) {
    const [open, close] = MERMAID_SHAPES[n.kind];
    out.push(`  ${n.id}${open}${mermaidLabel(n.lines)}${close}`);
  }
  for (const e of graph.edges) {
    const link = e.style === 'solid' ? '---' : '-.-';
    out.push(`  ${e.from} ${link}${e.lines.length > 0 ? `|${mermaidLabel(e.lines)}|` : ''} ${e.to}`);
  }
  out.push(
    '  classDef router fill:#dbeafe,stroke:#1d4ed8',
    '  classDef switch fill:#e0e7ff,stroke:#4338ca',
    '  classDef host fill:#dcfce7,stroke:#15803d',
    '  classDef network fill:#fef9c3,stroke:#a16207',
    '  classDef access fill:#f3f4f6,stroke:#6b7280',
  );
  for (const kind of Object.keys(MERMAID_SHAPES) as NodeKind[]) {
    const ids = graph.nodes.filter((n) => n.kind === kind).map((n) => n.id);
    if (ids.length > 0) out.push(`  class ${ids.join(',')} ${kind}`);
  }
  return `${out.join('\n')}\n`;
}

// ---- Graphviz DOT ----

const DOT_NODE_STYLES: Record<NodeKind, string> = {
  router: 'shape=box, style="rounded,filled,bold", fillcolor="#dbeafe"',
  switch: 'shape=box, style=filled, fillcolor="#e0e7ff"',
  host: 'shape=box3d, style=filled, fillcolor="#dcfce7"',
  network: 'shape=note, style=filled, fillcolor="#fef9c3"',
  access: 'shape=ellipse, style=filled, fillcolor="#f3f4f6", fontsize=9',
};

/** A DOT quoted string: backslash and double quote escaped, so no escape sequence (\n, \N, \l…) is read from the text. */
export function dotString(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\r\n?|\n/g, '\\n')}"`;
}

/**
 * A DOT label: each line quoted as a DOT string, '&' written as &amp; (dot reads HTML entities in labels, so
 * "&lt;" in a name would be drawn as "<"), then the lines joined by \n (the only escape sequence in it).
 */
const dotLabel = (lines: string[]) => `"${lines.map((l) => dotString(l.replace(/&/g, '&amp;')).slice(1, -1)).join('\\n')}"`;

function dot(graph: DiagramGraph): string {
  const out = [
    'graph "flatnet" {',
    '  graph [rankdir=TB, fontname="Helvetica", nodesep=0.5, ranksep=0.7];',
    '  node [fontname="Helvetica", fontsize=11];',
    '  edge [fontname="Helvetica", fontsize=9];',
  ];
  for (const n of graph.nodes) out.push(`  ${dotString(n.id)} [label=${dotLabel(n.lines)}, ${DOT_NODE_STYLES[n.kind]}];`);
  for (const e of graph.edges) {
    const attrs = [...(e.lines.length > 0 ? [`label=${dotLabel(e.lines)}`] : []), ...(e.style === 'dotted' ? ['style=dashed', 'color="#6b7280"'] : ['penwidth=1.5'])];
    out.push(`  ${dotString(e.from)} -- ${dotString(e.to)} [${attrs.join(', ')}];`);
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}
