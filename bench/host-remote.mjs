#!/usr/bin/env node
// plan/apply of a Docker host over SSH (test/fakes/remote-docker-host.ts: OpenSSH's sshd on 127.0.0.1, sessions
// in a network namespace beside a real dockerd; needs root, openssh-server, docker.io, busybox-static), with 1
// and 20 networks. Prints, for the first apply and for the no-op plan after it: SSH connections (sshd's logins),
// exec channels (commands sessions ran), Engine API requests, `ip -j` reads, and wall time — in-process (the
// unit's plan) and for the whole CLI against a bare `node -e ''` (Node start-up).
// Usage: npm run build && node bench/host-remote.mjs
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { RemoteDockerHost, remoteHostSupport } from '../dist/test/fakes/remote-docker-host.js';
import { loadModel } from '../dist/src/index.js';
import { HostUnit } from '../dist/targets/host/push.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const support = remoteHostSupport();
if (!support.ok) {
  console.log(`skipped: ${support.reason}`);
  process.exit(0);
}

const run = (argv, env) =>
  new Promise((resolve) => {
    const t0 = performance.now();
    execFile(argv[0], argv.slice(1), { env: { PATH: process.env.PATH, ...env }, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr, ms: performance.now() - t0 }),
    );
  });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const rows = [];
for (const n of [1, 20]) {
  const h = await RemoteDockerHost.start();
  try {
    // this kernel may have no 802.1Q: stand-in parents named like VLAN links (flatnet uses a user's own as is)
    for (let i = 0; i < n; i++) {
      await h.docker.exec(['ip', 'link', 'add', `${h.docker.parent}.${100 + i}`, 'type', 'veth', 'peer', 'name', `sp${100 + i}`]);
      await h.docker.exec(['ip', 'link', 'set', 'dev', `${h.docker.parent}.${100 + i}`, 'up']);
    }
    const lines = ['version: 1', 'routers:', '  core:', '    type: routeros', '    address: 127.0.0.1', 'hosts:', '  nas:', `    parent: ${h.docker.parent}`, ...h.hostLines().map((l) => `    ${l}`), 'networks:'];
    for (let i = 0; i < n; i++) {
      lines.push(`  net${i}:`, '    router: core', '    host: nas', `    vlan: ${100 + i}`, `    subnet: 10.7.${i + 1}.0/24`, `    gateway: 10.7.${i + 1}.1`, `    container-range: 10.7.${i + 1}.64/26`);
    }
    const spec = join(h.docker.scratch, 'bench.yaml');
    writeFileSync(spec, `${lines.join('\n')}\n`);
    const env = { HOME: h.home, NO_COLOR: '1' };
    const cli = (args) => run([process.execPath, join(root, 'bin/flatnet-router.js'), ...args, spec, '--host', 'nas', '--install-root', h.installRoot], env);

    let logins = h.logins();
    let commands = h.commands().length;
    const first = await cli(['apply', '--yes']);
    if (first.code !== 0) throw new Error(`first apply failed: ${first.stdout}${first.stderr}`);
    const apply = { connections: h.logins() - logins, channels: h.commands().length - commands, ms: first.ms };

    const model = loadModel(spec);
    const samples = [];
    for (let i = 0; i < 5; i++) {
      logins = h.logins();
      commands = h.commands().length;
      const unit = new HostUnit(model, model.hosts[0], { installRoot: h.installRoot, env });
      const t0 = performance.now();
      const plan = await unit.plan(() => {});
      const ms = performance.now() - t0;
      unit.close();
      samples.push({ ms, changes: plan.changes.length, ...unit.stats, sshdLogins: h.logins() - logins, sshdCommands: h.commands().length - commands });
    }
    const warm = samples.slice(1);
    const cliRuns = [];
    const nodeRuns = [];
    for (let i = 0; i < 3; i++) {
      cliRuns.push((await cli(['plan'])).ms);
      nodeRuns.push((await run([process.execPath, '-e', ''], env)).ms);
    }
    rows.push({
      networks: n,
      'apply: connections': apply.connections,
      'apply: channels': apply.channels,
      'apply: CLI ms': apply.ms.toFixed(0),
      'no-op: changes': warm[0].changes,
      'no-op: connections': warm[0].sshdLogins,
      'no-op: channels': warm[0].sshdCommands,
      'no-op: Engine requests': warm[0].dockerRequests,
      'no-op: ip reads': warm[0].ipReads,
      'no-op: plan ms': median(warm.map((s) => s.ms)).toFixed(1),
      'no-op: CLI ms': median(cliRuns).toFixed(0),
      'node start ms': median(nodeRuns).toFixed(0),
      'beyond start-up ms': (median(cliRuns) - median(nodeRuns)).toFixed(0),
    });
  } finally {
    await h.stop();
  }
}
for (const r of rows) {
  console.log(`${r.networks} network${r.networks === 1 ? '' : 's'}:`);
  for (const [k, v] of Object.entries(r)) if (k !== 'networks') console.log(`  ${k.padEnd(24)} ${v}`);
}
console.log('connections: logins sshd accepted; channels: commands sessions ran (read script, docker system dial-stdio, one script per run of ip/file steps); Engine requests: GET /version + GET /networks; ip reads: ip -j link, addr, route -4, route -6 (in the one read script)');
