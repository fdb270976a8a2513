// The flows a spec decides, per VLAN network of a router, for new connections: to the internet, to and from
// the LAN, to and from each other flatnet network of the router, and to the router's services (every allowed
// one, and one that is not). Each flow carries the spec's verdict; a target's evaluator gives the live one.
import { findNetwork, type Model, type NetworkModel, type RouterModel } from '../model.js';
import { SERVICES, type ServiceName } from '../spec-file/schema.js';

export type Verdict = 'accept' | 'drop';
export type Family = 4 | 6;

/** One end of a flow: a flatnet network, the router's LAN or WAN side, or the router itself. */
export type Endpoint = { kind: 'network'; network: string } | { kind: 'lan' } | { kind: 'internet' } | { kind: 'router' };

export interface ServicePort {
  service: ServiceName;
  protocol: 'tcp' | 'udp' | 'icmp' | 'icmpv6';
  port?: number;
}

export interface Flow {
  /** the network whose table lists it */
  network: string;
  /** e.g. "media → internet", "lan → media", "media → router dns (udp/53)" */
  label: string;
  from: Endpoint;
  to: Endpoint;
  family: Family;
  /** flows to the router: the service's protocol and port */
  service?: ServicePort;
  expected: Verdict;
  /** why the spec says so: the key that decides it */
  because: string;
}

export function servicePorts(service: ServiceName, family: Family): ServicePort[] {
  switch (service) {
    case 'dns':
      return [{ service, protocol: 'udp', port: 53 }, { service, protocol: 'tcp', port: 53 }];
    case 'dhcp':
      return [{ service, protocol: 'udp', port: family === 4 ? 67 : 547 }];
    case 'ntp':
      return [{ service, protocol: 'udp', port: 123 }];
    case 'icmp':
      return [{ service, protocol: family === 4 ? 'icmp' : 'icmpv6' }];
    case 'ssh':
      return [{ service, protocol: 'tcp', port: 22 }];
    case 'http':
      return [{ service, protocol: 'tcp', port: 80 }];
    case 'https':
      return [{ service, protocol: 'tcp', port: 443 }];
  }
}

const portText = (s: ServicePort) => (s.port === undefined ? s.protocol : `${s.protocol}/${s.port}`);

/** Every flow the spec decides for the VLAN networks whose gateway is `router`. */
export function specFlows(model: Model, router: RouterModel): Flow[] {
  const networks = router.networks.map((n) => findNetwork(model, n));
  const flows: Flow[] = [];
  for (const n of networks) {
    for (const family of [4, 6] as const) {
      if (family === 6 && !n.ipv6) continue;
      flows.push(...networkFlows(n, networks, family));
    }
  }
  return flows;
}

function networkFlows(n: NetworkModel, all: NetworkModel[], family: Family): Flow[] {
  const fw = n.firewall!;
  const me: Endpoint = { kind: 'network', network: n.name };
  const v = (allowed: boolean): Verdict => (allowed ? 'accept' : 'drop');
  const suffix = family === 6 ? ' (IPv6)' : '';
  const flow = (label: string, from: Endpoint, to: Endpoint, expected: Verdict, because: string, service?: ServicePort): Flow => ({
    network: n.name,
    label: `${label}${suffix}`,
    from,
    to,
    family,
    expected,
    because,
    ...(service ? { service } : {}),
  });
  const out: Flow[] = [
    flow(`${n.name} → internet`, me, { kind: 'internet' }, v(fw.internet), `firewall.internet: ${fw.internet}`),
    flow(`${n.name} → lan`, me, { kind: 'lan' }, v(fw.to.includes('lan')), fw.to.includes('lan') ? 'firewall.to has lan' : 'firewall.to has no lan'),
    flow(`lan → ${n.name}`, { kind: 'lan' }, me, v(fw.from.includes('lan')), fw.from.includes('lan') ? 'firewall.from has lan' : 'firewall.from has no lan'),
  ];
  for (const m of all) {
    if (m === n || (family === 6 && !m.ipv6)) continue;
    const other: Endpoint = { kind: 'network', network: m.name };
    const outAllowed = fw.to.includes(m.name) || m.firewall!.from.includes(n.name);
    const why = (allowed: boolean, a: NetworkModel, b: NetworkModel) =>
      allowed ? (a.firewall!.to.includes(b.name) ? `networks.${a.name}.firewall.to has ${b.name}` : `networks.${b.name}.firewall.from has ${a.name}`) : `neither ${a.name}'s firewall.to nor ${b.name}'s firewall.from names the other`;
    // each direction once, in the table of the network it starts from (flowsOf shows both in each table)
    out.push(flow(`${n.name} → ${m.name}`, me, other, v(outAllowed), why(outAllowed, n, m)));
  }
  for (const service of fw.allowInput) {
    for (const sp of servicePorts(service, family)) out.push(flow(`${n.name} → router ${service} (${portText(sp)})`, me, { kind: 'router' }, 'accept', `firewall.allow-input has ${service}`, sp));
  }
  // one service the spec does not allow: ssh when it is not allowed (the one that matters most), else the first
  const denied = (['ssh', ...SERVICES] as ServiceName[]).find((s) => !fw.allowInput.includes(s));
  if (denied) {
    const sp = servicePorts(denied, family)[0]!;
    out.push(flow(`${n.name} → router ${denied} (${portText(sp)})`, me, { kind: 'router' }, 'drop', `firewall.allow-input has no ${denied}`, sp));
  }
  return out;
}

/** The flows that involve a network: its own, and those from other networks into it. */
export function flowsOf<T extends { flow: Flow } | Flow>(items: readonly T[], network: string): T[] {
  const involves = (e: Endpoint) => e.kind === 'network' && e.network === network;
  return items.filter((x) => {
    const f: Flow = 'flow' in x ? (x as { flow: Flow }).flow : (x as Flow);
    return f.network === network || involves(f.to);
  });
}
