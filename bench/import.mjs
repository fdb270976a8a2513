#!/usr/bin/env node
// import against the fake RouterOS on 127.0.0.1 at 2 ms reply latency: a router with 100 VLAN networks (applied
// by flatnet, then made to look hand-made: comments taken off), read with the plan's reads and written as a
// draft, which is validated. Prints the wall time of import (connect + login + read + draft + validation) beyond
// start-up, and the prints sent; then the same with a Docker host of 100 macvlan networks and shims joined to
// them (its reading made by hand). Target (issue 20): under 0.5 s. Usage: npm run build && node bench/import.mjs
import { performance } from 'node:perf_hooks';
import { modelFromText } from '../dist/src/index.js';
import { importFromText } from '../dist/src/import/run.js';
import { RouterOSUnit } from '../dist/targets/routeros/push.js';
import { FakeRouterOS } from '../dist/test/fakes/routeros-fake.js';

const PASSWORD = 'bench';
const N = 100;
const devices = (port) => ['version: 1', 'routers:', '  core:', '    type: routeros', '    address: 127.0.0.1', `    port: ${port}`, '    password-env: P', ''].join('\n');

const fake = new FakeRouterOS({ password: PASSWORD });
fake.seedDefaults();
const port = await fake.start();
const lines = [devices(port).trimEnd(), 'networks:'];
for (let i = 0; i < N; i++) {
  const third = 1 + i;
  lines.push(`  net${i}:`, '    router: core', `    vlan: ${100 + i}`, `    subnet: 10.0.${third}.0/24`, `    gateway: 10.0.${third}.1`, `    dhcp-pool: 10.0.${third}.100-10.0.${third}.199`, '    firewall: {allow-input: [dns, dhcp]}');
}
const model = modelFromText(`${lines.join('\n')}\n`);
const unit = new RouterOSUnit(model, model.routers[0], { env: { P: PASSWORD }, confirmTimeoutS: 0 });
await unit.plan(() => {});
await unit.apply(() => {});
unit.close();
for (const menu of ['/interface/vlan', '/ip/address', '/interface/bridge/vlan', '/ip/pool', '/ip/dhcp-server', '/ip/dhcp-server/network', '/ip/firewall/filter', '/ipv6/firewall/filter']) {
  for (const row of fake.allRows(menu)) if ((row.props?.get?.('comment') ?? '').startsWith('flatnet:')) row.props.delete('comment');
}
fake.options.latencyMs = 2;

const times = [];
let result;
for (let run = 0; run < 3; run++) {
  const printsBefore = fake.stats.prints;
  const t0 = performance.now();
  result = await importFromText(devices(port), 'devices.yaml', { env: { P: PASSWORD } });
  times.push({ ms: performance.now() - t0, prints: fake.stats.prints - printsBefore });
}
const networks = modelFromText(result.draft).networks.length;
times.sort((a, b) => a.ms - b.ms);
const median = times[1];
console.log(`import: router with ${N} VLANs at 2 ms latency: ${networks} networks in the draft, ${median.prints} prints, ${median.ms.toFixed(0)} ms (median of 3; target < 500 ms)`);
if (networks !== N || median.ms >= 500) process.exitCode = 1;

// the same router and a Docker host with a macvlan network and a shim on each VLAN (the host's reading made by
// hand: its links and Docker's one network list, as readHost returns them), joined by VLAN id and subnet
const links = [{ ifname: 'enp3s0', ifindex: 1, flags: ['UP'], addresses: [] }];
const routes = [];
const dockerNetworks = [];
for (let i = 0; i < N; i++) {
  const third = 1 + i;
  links.push({ ifname: `enp3s0.${100 + i}`, ifindex: 1000 + i, flags: ['UP'], link: 'enp3s0', linkinfo: { info_kind: 'vlan', info_data: { id: 100 + i } }, addresses: [] });
  links.push({ ifname: `shim${i}`, ifindex: 2000 + i, flags: ['UP'], link: `enp3s0.${100 + i}`, linkinfo: { info_kind: 'macvlan' }, addresses: [`10.0.${third}.224/32`] });
  routes.push({ dst: `10.0.${third}.224/27`, dev: `shim${i}`, family: 4 });
  dockerNetworks.push({ Id: `n${i}`, Name: `net${i}`, Driver: 'macvlan', Options: { parent: `enp3s0.${100 + i}` }, IPAM: { Config: [{ Subnet: `10.0.${third}.0/24`, Gateway: `10.0.${third}.1`, IPRange: `10.0.${third}.224/27`, AuxiliaryAddresses: { host: `10.0.${third}.224` } }] } });
}
const withHost = `${devices(port).trimEnd()}\nhosts:\n  nas:\n    parent: enp3s0\n    ssh: root@192.0.2.9\n`;
const hostTimes = [];
let hostResult;
for (let run = 0; run < 3; run++) {
  const t0 = performance.now();
  hostResult = await importFromText(withHost, 'devices.yaml', { env: { P: PASSWORD }, readHost: async (host) => ({ host, links: { links, routes }, networks: dockerNetworks, docker: 'Docker 24', endpoint: 'bench' }) });
  hostTimes.push(performance.now() - t0);
}
await fake.stop();
const joined = modelFromText(hostResult.draft).networks.filter((n) => n.hosts.length === 1).length;
hostTimes.sort((a, b) => a - b);
console.log(`import: the same router and a host with ${N} macvlan networks and shims: ${joined} networks joined, ${hostTimes[1].toFixed(0)} ms (median of 3; target < 500 ms)`);
if (joined !== N || hostTimes[1] >= 500) process.exitCode = 1;
