#!/usr/bin/env node
// The path (issue 16): a RouterOS router "core" and a RouterOS switch "sw1" (uplink ether1 → core:ether2, the
// NAS on sw1:ether5, one access port on the switch for each of the first three networks), each a fake RouterOS API server on
// 127.0.0.1, planned and applied through the same engine as `flatnet-router apply` (routers, then switches).
// Prints:
//   1. a switch no-op plan: logins, prints (one per menu the switch reads), round trips;
//   2. a path apply with N = 20 (and 100) networks at 0 and 2 ms reply latency: per device the operations,
//      the round trips it waited for (= its apply levels + login + read: no round trip per object) and the
//      wall time of plan + apply of both devices; a serial client's figure (one round trip per sentence)
//      for comparison.
// Usage: npm run build && node bench/path-apply.mjs
import { performance } from 'node:perf_hooks';
import { modelFromText } from '../dist/src/index.js';
import { applyUnits, closeUnits, planUnits } from '../dist/src/plan/engine.js';
import { pushUnits } from '../dist/src/push.js';
import { startRouter, startSwitch } from '../dist/test/fakes/routeros-switched.js';

const PASSWORD = 'bench';
const env = { P: PASSWORD };

function specText(corePort, swPort, n) {
  const lines = [
    'version: 1',
    'routers:',
    '  core:',
    '    type: routeros',
    '    address: 127.0.0.1',
    `    port: ${corePort}`,
    '    password-env: P',
    'switches:',
    '  sw1:',
    '    type: routeros',
    '    address: 127.0.0.1',
    `    port: ${swPort}`,
    '    password-env: P',
    '    uplink: ether1',
    '    connected-to: core:ether2',
    'hosts:',
    '  nas:',
    '    parent: eth0',
    '    connected-to: sw1:ether5',
    'networks:',
  ];
  for (let i = 0; i < n; i++) {
    const third = 1 + i;
    const net = `10.${Math.floor(third / 250)}.${third % 250}`;
    lines.push(
      `  net${i}:`,
      '    router: core',
      '    host: nas',
      `    vlan: ${100 + i}`,
      `    subnet: ${net}.0/24`,
      `    gateway: ${net}.1`,
      `    container-range: ${net}.64/26`,
      // the switch's ether6..ether8: one access port for each of the first networks
      ...(i < 3 ? [`    access-ports: [sw1:ether${6 + i}]`] : []),
      '    firewall:',
      '      allow-input: [dns]',
    );
  }
  return lines.join('\n') + '\n';
}

/** plan (and apply when there is something to do) every unit of the model through the engine */
async function run(model, apply) {
  const units = pushUnits(model, {}, { env });
  const t0 = performance.now();
  try {
    const planned = await planUnits(units, { concurrency: 4 });
    const results = apply ? await applyUnits(units, planned, { concurrency: 4 }) : planned;
    const ms = performance.now() - t0;
    for (const r of results) if (r.status === 'failed' || r.status === 'unsupported') throw new Error(`${r.unit.name}: ${r.error}`);
    return { ms, units: Object.fromEntries(units.map((u, i) => [u.ref.name, { stats: { ...u.stats }, changes: results[i].plan?.changes.length ?? 0 }])) };
  } finally {
    closeUnits(units);
  }
}

async function devices(latencyMs) {
  const core = await startRouter({ password: PASSWORD, latencyMs });
  const sw = await startSwitch({ password: PASSWORD, latencyMs });
  return { core, sw, stop: () => Promise.all([core.fake.stop(), sw.fake.stop()]) };
}

// 1. the switch's no-op plan
{
  const d = await devices(0);
  try {
    const model = modelFromText(specText(d.core.port, d.sw.port, 20), 'bench.yaml');
    await run(model, true);
    const before = { ...d.sw.fake.stats };
    const noop = await run(modelFromText(specText(d.core.port, d.sw.port, 20), 'bench.yaml'), false);
    const s = noop.units.sw1;
    console.log('Switch no-op plan (20 networks):');
    console.table([
      {
        changes: s.changes,
        logins: d.sw.fake.stats.connections - before.connections,
        prints: d.sw.fake.stats.prints - before.prints,
        sentencesSent: s.stats.sentencesSent,
        roundTrips: s.stats.roundTrips,
        menus: [...new Set(d.sw.fake.log.slice(-s.stats.prints).map((e) => e.command.replace(/\/print$/, '')))].join(' '),
      },
    ]);
  } finally {
    await d.stop();
  }
}

// 2. a path apply, router + switch
const REPEAT = 3;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
for (const n of [20, 100]) {
  for (const latencyMs of [0, 2]) {
    const runs = [];
    for (let r = 0; r < REPEAT; r++) {
      const d = await devices(latencyMs);
      try {
        const model = modelFromText(specText(d.core.port, d.sw.port, n), 'bench.yaml');
        const first = await run(model, true);
        const noop = await run(model, false);
        if (noop.units.core.changes + noop.units.sw1.changes !== 0) throw new Error('the apply did not converge');
        runs.push({ first, noop });
      } finally {
        await d.stop();
      }
    }
    const { first } = runs[0];
    const c = first.units.core.stats;
    const s = first.units.sw1.stats;
    rows.push({
      n,
      latencyMs,
      'core ops': c.changes,
      'core roundTrips': c.roundTrips,
      'sw1 ops': s.changes,
      'sw1 roundTrips': s.roundTrips,
      'sw1 prints': s.prints,
      'apply ms': median(runs.map((x) => x.first.ms)).toFixed(1),
      'no-op plan ms': median(runs.map((x) => x.noop.ms)).toFixed(1),
      'serial estimate ms': ((c.sentencesSent + s.sentencesSent) * latencyMs).toFixed(0),
    });
  }
}
console.log('Path apply, router core then switch sw1 (engine order), first apply from a default config:');
console.table(rows);
console.log(`median of ${REPEAT} runs; the fake devices run in this process, so their CPU time is included.`);
console.log('roundTrips: times a device client waited with nothing in flight (login + one read + one per apply level): it does not grow with the number of networks.');
console.log('serial estimate: sentences x latency, what one round trip per command would cost at that latency.');
