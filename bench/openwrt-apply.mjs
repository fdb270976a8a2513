#!/usr/bin/env node
// OpenWrt apply against a throwaway router on 127.0.0.1 (OpenSSH's sshd running OpenWrt's real uci on a
// scratch root; needs /usr/sbin/sshd, gcc and ../shared/openwrt-uci): N = 10 and 100 networks. Prints remote
// commands, bytes sent and wall time of the first apply (with the rollback watchdog and its confirmation)
// and of the no-op apply that follows. Usage: npm run build && node bench/openwrt-apply.mjs
import { performance } from 'node:perf_hooks';
import { modelFromText } from '../dist/src/index.js';
import { OpenWrtUnit } from '../dist/targets/openwrt/push.js';
import { OpenWrtTestRouter, openwrtTestSupport } from '../dist/test/fakes/openwrt-router.js';

const support = openwrtTestSupport();
if (!support.ok) {
  console.log(`skipped: ${support.reason}`);
  process.exit(0);
}

function specText(r, n) {
  const lines = [
    'version: 1',
    'routers:',
    '  edge:',
    '    type: openwrt',
    '    address: 127.0.0.1',
    `    port: ${r.port}`,
    `    user: ${r.user}`,
    `    key-file: ${r.clientKeyFile}`,
    `    host-key: "${r.hostKeyFingerprint}"`,
    'hosts:',
    '  nas:',
    '    parent: eth0',
    'networks:',
  ];
  for (let i = 0; i < n; i++) {
    const third = 1 + i;
    lines.push(`  net${i}:`, '    router: edge', '    host: nas', `    vlan: ${100 + i}`, `    subnet: 10.9.${third}.0/24`, `    gateway: 10.9.${third}.1`, `    container-range: 10.9.${third}.64/26`);
  }
  return `${lines.join('\n')}\n`;
}

async function once(model, r) {
  const unit = new OpenWrtUnit(model, model.routers[0], { remoteRoot: r.root, env: {}, confirmTimeoutS: 30 });
  const t0 = performance.now();
  try {
    const plan = await unit.plan(() => {});
    if (plan.changes.length > 0) await unit.apply(() => {});
    return { ms: performance.now() - t0, changes: plan.changes.length, ...unit.stats };
  } finally {
    unit.close();
  }
}

const rows = [];
for (const n of [10, 100]) {
  const r = await OpenWrtTestRouter.start();
  try {
    const model = modelFromText(specText(r, n), 'bench.yaml');
    const first = await once(model, r);
    const noop = await once(model, r);
    rows.push({
      n,
      firstChanges: first.changes,
      firstCommands: first.commands,
      firstConnections: first.connections,
      firstBytesSent: first.bytesSent,
      firstMs: first.ms.toFixed(0),
      noopChanges: noop.changes,
      noopCommands: noop.commands,
      noopBytesSent: noop.bytesSent,
      noopMs: noop.ms.toFixed(0),
    });
  } finally {
    await r.stop();
  }
}
console.table(rows);
console.log('commands: remote commands run over SSH (read, apply, confirm); connections: SSH logins (the confirmation uses a new one)');
