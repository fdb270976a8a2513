// The draft spec import prints: the input spec's devices as they were written (their comments kept), the
// trunk ports found, and one network per network found, each value with a comment saying where it came from.
import { isMap, isScalar, parseDocument, Pair, Scalar, YAMLMap, YAMLSeq, type Document } from 'yaml';
import { SpecError, type SpecProblem } from '../errors.js';
import { modelFromText } from '../index.js';
import type { FoundNetwork, ImportReport } from './found.js';

const seq = (items: string[]): YAMLSeq => {
  const s = new YAMLSeq();
  s.flow = true;
  for (const i of items) s.items.push(new Scalar(i));
  return s;
};

function pair(key: string, value: unknown, comment?: string): Pair {
  const node = value instanceof YAMLSeq || value instanceof YAMLMap ? value : new Scalar(value);
  if (comment !== undefined && (node instanceof Scalar || node instanceof YAMLSeq)) node.comment = ` ${comment}`;
  return new Pair(new Scalar(key), node);
}

function networkNode(n: FoundNetwork): YAMLMap {
  const m = new YAMLMap();
  const src = (k: string) => n.sources[k];
  if (n.router !== undefined) m.items.push(pair('router', n.router, src('router')));
  if (n.hosts.length === 1) m.items.push(pair('host', n.hosts[0], src('host')));
  else if (n.hosts.length > 1) m.items.push(pair('host', seq(n.hosts), src('host')));
  if (n.vlan !== undefined) m.items.push(pair('vlan', n.vlan, src('vlan')));
  m.items.push(pair('subnet', n.subnet, src('subnet')));
  if (n.gateway !== undefined) m.items.push(pair('gateway', n.gateway, src('gateway')));
  if (n.containerRange !== undefined) m.items.push(pair('container-range', n.containerRange, src('container-range')));
  if (n.shimAddress !== undefined) m.items.push(pair('shim-address', n.shimAddress, src('shim-address')));
  if (n.shimName !== undefined) m.items.push(pair('shim-name', n.shimName, src('shim-name')));
  if (n.vlanDevice !== undefined) m.items.push(pair('vlan-device', n.vlanDevice, src('vlan-device')));
  if (n.driver !== undefined && n.driver !== 'macvlan') m.items.push(pair('driver', n.driver, src('driver')));
  if (n.dhcpPool !== undefined) m.items.push(pair('dhcp-pool', n.dhcpPool, src('dhcp-pool')));
  if (n.dhcpLeaseTime !== undefined) m.items.push(pair('dhcp-lease-time', n.dhcpLeaseTime, src('dhcp-lease-time')));
  if (n.accessPorts.length > 0) m.items.push(pair('access-ports', seq(n.accessPorts), src('access-ports')));
  if (n.ipv6 !== undefined) {
    const v6 = new YAMLMap();
    const src6 = (k: string) => src(`ipv6.${k}`);
    v6.items.push(pair('subnet', n.ipv6.subnet, src6('subnet')), pair('gateway', n.ipv6.gateway, src6('gateway')));
    // the Docker side's keys only with a host: run.ts leaves a Docker side out by taking the hosts away
    if (n.hosts.length > 0 && n.ipv6.containerRange !== undefined) v6.items.push(pair('container-range', n.ipv6.containerRange, src6('container-range')));
    if (n.hosts.length > 0 && n.ipv6.shimAddress !== undefined) v6.items.push(pair('shim-address', n.ipv6.shimAddress, src6('shim-address')));
    m.items.push(new Pair(new Scalar('ipv6'), v6));
  }
  if (n.firewall && n.vlan !== undefined) {
    const fw = new YAMLMap();
    fw.items.push(pair('internet', n.firewall.internet), pair('from', seq(n.firewall.from)), pair('to', seq(n.firewall.to)), pair('allow-input', seq(n.firewall.allowInput)));
    const p = new Pair(new Scalar('firewall'), fw);
    if (src('firewall')) (p.key as Scalar).commentBefore = ` ${src('firewall')}`;
    m.items.push(p);
  }
  return m;
}

/**
 * The draft's text. `specText`: the input spec (its devices are kept as written). A network's ipv6 that does
 * not validate is left out, the problem said at the network and in report.warnings: IPv6 never makes the draft
 * invalid.
 */
export function draftText(specText: string, report: ImportReport, header: string[]): string {
  for (;;) {
    const text = render(specText, report, header);
    if (!dropInvalidIpv6(text, report)) return text;
  }
}

/** Leaves out the ipv6 of each network a problem names there; true when one was left out (render again). */
function dropInvalidIpv6(text: string, report: ImportReport): boolean {
  let problems: SpecProblem[];
  try {
    modelFromText(text, '<draft>');
    return false;
  } catch (err) {
    // anything else is the caller's to report (run.ts validates the draft too)
    if (!(err instanceof SpecError)) return false;
    problems = err.problems;
  }
  let dropped = false;
  for (const p of problems) {
    const net = p.path[0] === 'networks' && p.path[2] === 'ipv6' ? report.networks.find((n) => n.name === p.path[1]) : undefined;
    if (!net?.ipv6) continue;
    const v6 = net.ipv6;
    // a Docker-side key (the hosts' range or shim) goes alone on a VLAN network: the router's IPv6 stays
    const key = String(p.path[3]);
    if (net.vlan !== undefined && (key === 'container-range' || key === 'shim-address')) {
      const field = key === 'container-range' ? 'containerRange' : 'shimAddress';
      if (v6[field] === undefined) continue;
      const msg = `network ${net.name}: its hosts' IPv6 ${key} ${v6[field]} is left out of the draft (flatnet's default instead): ${p.path.slice(2).join('.')}: ${p.message}`;
      net.notes.push(msg);
      report.warnings.push(msg);
      delete v6[field];
      delete net.sources[`ipv6.${key}`];
      dropped = true;
      continue;
    }
    const msg = `network ${net.name}: its IPv6 (subnet ${v6.subnet}, gateway ${v6.gateway}${v6.containerRange ? `, container-range ${v6.containerRange}` : ''}${v6.shimAddress ? `, shim-address ${v6.shimAddress}` : ''}) is left out of the draft: ${p.path.slice(2).join('.')}: ${p.message}`;
    net.notes.push(msg);
    report.warnings.push(msg);
    delete net.ipv6;
    for (const k of Object.keys(net.sources)) if (k.startsWith('ipv6.')) delete net.sources[k];
    dropped = true;
  }
  return dropped;
}

function render(specText: string, report: ImportReport, header: string[]): string {
  const doc: Document = parseDocument(specText);
  if (!isMap(doc.contents)) doc.contents = new YAMLMap() as never;
  if (!doc.has('version')) doc.set('version', 1);
  for (const [router, ports] of report.trunkPorts) {
    const path = ['routers', router, 'trunk-ports'];
    const had = doc.getIn(path);
    const existing = had instanceof YAMLSeq ? had.items.map((i) => (isScalar(i) ? String(i.value) : '')).filter(Boolean) : [];
    const merged = [...existing, ...ports.filter((p) => !existing.includes(p))];
    if (merged.length === existing.length) continue;
    const s = seq(merged);
    s.comment = ' tagged in every VLAN imported (the bridge VLAN table)';
    doc.setIn(path, s);
  }
  const nets = new YAMLMap();
  for (const n of report.networks) {
    const p = new Pair(new Scalar(n.name), networkNode(n));
    (p.key as Scalar).commentBefore = n.notes.map((l) => ` ${l}`).join('\n');
    nets.items.push(p);
  }
  doc.delete('networks');
  const netsPair = new Pair(new Scalar('networks'), nets);
  if (report.networks.length === 0) (netsPair.key as Scalar).commentBefore = ' no network found';
  (doc.contents as YAMLMap).items.push(netsPair);
  const lines = header.map((l) => (l === '' ? '#' : `# ${l}`));
  const before = doc.commentBefore ? `${doc.commentBefore}\n` : '';
  doc.commentBefore = `${lines.map((l) => l.replace(/^# ?/, ' ').replace(/^ $/, '')).join('\n')}${before ? `\n\n${before}` : ''}`;
  let text = doc.toString({ lineWidth: 0, flowCollectionPadding: false });
  if (report.networks.length === 0) text = text.replace(/^networks:\s*\{\}\s*$/m, 'networks: {}');
  return text.endsWith('\n') ? text : `${text}\n`;
}
