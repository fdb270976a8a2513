#!/usr/bin/env node
// Benchmark: the audit's evaluator on a big RouterOS firewall: 50 VLAN networks and 2,000 filter rules (flatnet's
// rules of those networks placed before the router's drops, plus foreign rules that name other interfaces,
// address lists and ports), every flow of the spec evaluated (IPv4). Pure computation: no device, no network.
//
//   npm run build && node bench/audit.mjs        (or: npm run bench)
//
// Prints flows, rules and the median/min wall ms of auditRouterOS over BENCH_RUNS runs (default 7). Target: under
// 50 ms (issue 19).
import { performance } from 'node:perf_hooks';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => join(ROOT, 'dist', p);
const { modelFromText } = await import(dist('src/index.js'));
const { auditRouterOS } = await import(dist('targets/routeros/audit.js'));
const { desiredObjects } = await import(dist('targets/routeros/index.js'));

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const NETWORKS = 50;
const RULES = 2000;

const lines = ['version: 1', 'routers:', '  core:', '    type: routeros', '    address: 127.0.0.1', '    password-env: P', 'hosts:', '  nas:', '    parent: eth0', 'networks:'];
for (let i = 0; i < NETWORKS; i++) {
  const v = 100 + i;
  lines.push(`  n${i}:`, '    router: core', '    host: nas', `    vlan: ${v}`, `    subnet: 10.${v}.0.0/24`, `    gateway: 10.${v}.0.1`, `    container-range: 10.${v}.0.64/26`, `    vlan-device: eth0.${v}`);
  lines.push('    firewall:', `      to: [${i > 0 ? `n${i - 1}` : 'lan'}]`, '      allow-input: [dns, icmp]');
}
const model = modelFromText(lines.join('\n') + '\n');
const router = model.routers[0];

// the router's default rules, flatnet's own, then foreign rules up to RULES, then the router's drops
const rows = [];
let id = 1;
const row = (r) => rows.push({ '.id': `*${(id++).toString(16).toUpperCase()}`, ...r });
row({ chain: 'forward', action: 'accept', 'connection-state': 'established,related,untracked' });
row({ chain: 'forward', action: 'drop', 'connection-state': 'invalid' });
row({ chain: 'input', action: 'accept', 'connection-state': 'established,related,untracked' });
for (const o of desiredObjects(model, router).filter((o) => o.menu === '/ip/firewall/filter')) row(Object.fromEntries(o.props));
for (let k = 0; rows.length < RULES - 2; k++) {
  const kind = k % 4;
  if (kind === 0) row({ chain: 'forward', action: 'accept', 'in-interface': `ether${(k % 8) + 2}`, 'out-interface': 'bridge', protocol: 'tcp', 'dst-port': String(1000 + k) });
  else if (kind === 1) row({ chain: 'forward', action: 'drop', 'src-address': `192.0.${k % 250}.0/24`, 'in-interface-list': 'WAN' });
  else if (kind === 2) row({ chain: 'input', action: 'accept', 'in-interface': 'ether1', protocol: 'udp', 'dst-port': String(2000 + k) });
  else row({ chain: 'forward', action: 'passthrough', 'in-interface': `wg${k % 5}`, comment: `vpn ${k}` });
}
row({ chain: 'input', action: 'drop', 'in-interface-list': '!LAN' });
row({ chain: 'forward', action: 'drop', 'connection-state': 'new', 'connection-nat-state': '!dstnat', 'in-interface-list': 'WAN' });
const state = {
  filter4: rows,
  filter6: [],
  members: [
    { list: 'LAN', interface: 'bridge' },
    { list: 'WAN', interface: 'ether1' },
  ],
  interfaces: [],
};

let flows = 0;
let findings = 0;
const times = [];
for (let r = 0; r < RUNS + 1; r++) {
  const t0 = performance.now();
  const results = auditRouterOS(model, router, state);
  const ms = performance.now() - t0;
  if (r > 0) times.push(ms); // the first run warms the JIT
  flows = results.length;
  findings = results.filter((x) => x.live !== x.flow.expected).length;
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
console.log(`audit (RouterOS): ${NETWORKS} networks, ${rows.length} filter rules, ${flows} flows, ${findings} findings`);
console.log(`  median ${median.toFixed(1)} ms, min ${times[0].toFixed(1)} ms over ${RUNS} runs (target: under 50 ms)`);

// ---- OpenWrt: the same 50 networks on an OpenWrt router, its fw4 config as the apply leaves it (OpenWrt's
// first-boot configs with flatnet's sections) plus 2,000 foreign rules
{
  const { readFileSync } = await import('node:fs');
  const { parseUciExport } = await import(dist('targets/openwrt/uci.js'));
  const { desiredState } = await import(dist('targets/openwrt/index.js'));
  const { projectedSections } = await import(dist('targets/openwrt/diff.js'));
  const { auditOpenWrt } = await import(dist('targets/openwrt/audit.js'));
  const text = lines.join('\n').replace('    type: routeros\n    address: 127.0.0.1\n    password-env: P', '    type: openwrt\n    address: 127.0.0.1') + '\n';
  const owModel = modelFromText(text);
  const owRouter = owModel.routers[0];
  const fixture = (c) => parseUciExport(readFileSync(join(ROOT, 'test', 'fixtures', 'openwrt-defaults', c), 'utf8'), c);
  const foreign = Array.from({ length: RULES }, (_, i) => `config rule\n\toption src 'lan'\n\toption dest 'wan'\n\toption proto 'tcp'\n\toption dest_ip '198.18.${i >> 8}.${i & 255}'\n\toption dest_port '${1000 + i}'\n\toption target 'REJECT'`).join('\n\n');
  const desired = desiredState(owModel, owRouter);
  const live = [...fixture('network'), ...parseUciExport(`${readFileSync(join(ROOT, 'test', 'fixtures', 'openwrt-defaults', 'firewall'), 'utf8')}\n${foreign}\n`, 'firewall')];
  const projected = projectedSections(live, desired.sections, desired.foreign);
  const fw = projected.filter((s) => s.config === 'firewall');
  const net = projected.filter((s) => s.config === 'network');
  const owTimes = [];
  let owFlows = 0;
  let owFindings = 0;
  for (let r = 0; r < RUNS + 1; r++) {
    const t0 = performance.now();
    const results = auditOpenWrt(owModel, owRouter, fw, net);
    const ms = performance.now() - t0;
    if (r > 0) owTimes.push(ms);
    owFlows = results.length;
    owFindings = results.filter((x) => x.live !== x.flow.expected).length;
  }
  owTimes.sort((a, b) => a - b);
  console.log(`audit (OpenWrt fw4): ${NETWORKS} networks, ${fw.filter((s) => s.type === 'rule').length} rules, ${owFlows} flows, ${owFindings} findings`);
  console.log(`  median ${owTimes[Math.floor(owTimes.length / 2)].toFixed(1)} ms, min ${owTimes[0].toFixed(1)} ms over ${RUNS} runs (target: under 50 ms)`);
}
