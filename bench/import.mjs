#!/usr/bin/env node
// import against the fake RouterOS on 127.0.0.1 at 2 ms reply latency: a router with 100 VLAN networks (applied
// by flatnet, then made to look hand-made: comments taken off), read with the plan's reads and written as a
// draft, which is validated. Prints the wall time of import (connect + login + read + draft + validation) beyond
// start-up, and the prints sent. Target (issue 20): under 0.5 s. Usage: npm run build && node bench/import.mjs
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
await fake.stop();
const networks = modelFromText(result.draft).networks.length;
times.sort((a, b) => a.ms - b.ms);
const median = times[1];
console.log(`import: router with ${N} VLANs at 2 ms latency: ${networks} networks in the draft, ${median.prints} prints, ${median.ms.toFixed(0)} ms (median of 3; target < 500 ms)`);
if (networks !== N || median.ms >= 500) process.exitCode = 1;
