#!/usr/bin/env node
// RouterOS apply against the fake RouterOS API server on 127.0.0.1: N = 10 and 100 networks (N VLANs, N
// addresses, at least 3N rules) at 0 ms and 2 ms reply latency. Prints, per case: sentences sent, round
// trips, and the API wall time (connect + login + read + diff + push) of the first apply and of the no-op
// apply that follows. A serial client pays one round trip per sentence: that figure is printed for
// comparison. Usage: npm run build && node bench/routeros-apply.mjs
import { performance } from 'node:perf_hooks';
import { modelFromText } from '../dist/src/index.js';
import { RouterOSUnit } from '../dist/targets/routeros/push.js';
import { FakeRouterOS } from '../dist/test/fakes/routeros-fake.js';

const PASSWORD = 'bench';

function specText(port, n) {
  const lines = [
    'version: 1',
    'routers:',
    '  core:',
    '    type: routeros',
    '    address: 127.0.0.1',
    `    port: ${port}`,
    '    password-env: FLATNET_BENCH_PASSWORD',
    'hosts:',
    '  nas:',
    '    parent: eth0',
    'networks:',
  ];
  for (let i = 0; i < n; i++) {
    const third = 1 + i;
    lines.push(
      `  net${i}:`,
      '    router: core',
      '    host: nas',
      `    vlan: ${100 + i}`,
      `    subnet: 10.${Math.floor(third / 250)}.${third % 250}.0/24`,
      `    gateway: 10.${Math.floor(third / 250)}.${third % 250}.1`,
      `    container-range: 10.${Math.floor(third / 250)}.${third % 250}.64/26`,
      '    firewall:',
      '      allow-input: [dns]',
    );
  }
  return lines.join('\n') + '\n';
}

async function once(model, env) {
  const unit = new RouterOSUnit(model, model.routers[0], { env });
  const t0 = performance.now();
  try {
    const plan = await unit.plan(() => {});
    if (plan.changes.length > 0) await unit.apply(() => {});
    return { ms: performance.now() - t0, changes: plan.changes.length, stats: { ...unit.stats } };
  } finally {
    unit.close();
  }
}

const REPEAT = 3;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
for (const n of [10, 100]) {
  for (const latencyMs of [0, 2]) {
    const runs = [];
    let rules = 0;
    // each repeat on a fresh router; the median is printed (the first runs also warm up the JIT)
    for (let r = 0; r < REPEAT; r++) {
      const fake = new FakeRouterOS({ password: PASSWORD, latencyMs });
      fake.seedDefaults();
      const port = await fake.start();
      try {
        const model = modelFromText(specText(port, n), 'bench.yaml');
        const env = { FLATNET_BENCH_PASSWORD: PASSWORD };
        const first = await once(model, env);
        const noop = await once(model, env);
        rules = ['/ip/firewall/filter', '/ipv6/firewall/filter'].reduce((sum, m) => sum + fake.rows(m).filter((x) => (x.comment ?? '').startsWith('flatnet:')).length, 0);
        runs.push({ first, noop });
      } finally {
        await fake.stop();
      }
    }
    const { first, noop } = runs[0];
    rows.push({
      n,
      latencyMs,
      objects: `${n} vlan, ${n} addr, ${rules} rules (IPv4 and IPv6)`,
      firstChanges: first.changes,
      firstSentences: first.stats.sentencesSent,
      firstRoundTrips: first.stats.roundTrips,
      firstMs: median(runs.map((x) => x.first.ms)).toFixed(1),
      serialEstimateMs: (first.stats.sentencesSent * latencyMs).toFixed(0),
      noopChanges: noop.changes,
      noopPrints: noop.stats.prints,
      noopRoundTrips: noop.stats.roundTrips,
      noopMs: median(runs.map((x) => x.noop.ms)).toFixed(1),
    });
  }
}
console.table(rows);
console.log(`median of ${REPEAT} runs; the fake router runs in this process, so its own CPU time is included.`);
console.log('first/no-op ms: API wall time incl. connect+login; serialEstimateMs: sentences x latency, what one round trip per command would cost at that latency');
