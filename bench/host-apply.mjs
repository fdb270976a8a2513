#!/usr/bin/env node
// apply --host against a real dockerd in a network namespace (test/fakes/docker-host.ts; needs root,
// docker.io and busybox-static): 1 and 20 networks. Prints, for the no-op apply that follows a first apply,
// its wall time in-process (read + diff), the Engine API requests and `ip -j` reads it made, and the whole
// CLI run against a bare `node -e ''` (Node start-up). Usage: npm run build && node bench/host-apply.mjs
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { DockerTestHost, dockerTestSupport } from '../dist/test/fakes/docker-host.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const support = dockerTestSupport();
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
  const h = await DockerTestHost.start();
  try {
    // this kernel may have no 802.1Q: stand-in parents named like VLAN links (flatnet uses a user's own as is)
    for (let i = 0; i < n; i++) {
      await h.exec(['ip', 'link', 'add', `${h.parent}.${100 + i}`, 'type', 'veth', 'peer', 'name', `sp${100 + i}`]);
      await h.exec(['ip', 'link', 'set', 'dev', `${h.parent}.${100 + i}`, 'up']);
    }
    const lines = ['version: 1', 'routers:', '  core:', '    type: routeros', '    address: 127.0.0.1', 'hosts:', '  nas:', `    parent: ${h.parent}`, 'networks:'];
    for (let i = 0; i < n; i++) {
      lines.push(`  net${i}:`, '    router: core', '    host: nas', `    vlan: ${100 + i}`, `    subnet: 10.7.${i + 1}.0/24`, `    gateway: 10.7.${i + 1}.1`, `    container-range: 10.7.${i + 1}.64/26`);
    }
    const spec = join(h.scratch, 'bench.yaml');
    writeFileSync(spec, `${lines.join('\n')}\n`);
    const installRoot = join(h.scratch, 'root');
    const env = { DOCKER_HOST: `unix://${h.socket}`, NO_COLOR: '1' };
    const first = await run(h.nsenter([process.execPath, join(root, 'bin/flatnet-router.js'), 'apply', spec, '--host', 'nas', '--yes', '--install-root', installRoot]), env);
    if (first.code !== 0) throw new Error(`first apply failed: ${first.stdout}${first.stderr}`);
    const probe = `
      import { loadModel } from '${join(root, 'dist/src/index.js')}';
      import { HostUnit } from '${join(root, 'dist/targets/host/push.js')}';
      const model = loadModel('${spec}');
      const out = [];
      for (let i = 0; i < 5; i++) {
        const unit = new HostUnit(model, model.hosts[0], { installRoot: '${installRoot}' });
        const t0 = performance.now();
        const plan = await unit.plan(() => {});
        out.push({ ms: performance.now() - t0, changes: plan.changes.length, docker: unit.stats.dockerRequests, ip: unit.stats.ipReads });
      }
      console.log(JSON.stringify(out));`;
    const inproc = await run(h.nsenter([process.execPath, '--input-type=module', '-e', probe]), env);
    if (inproc.code !== 0) throw new Error(inproc.stderr);
    const samples = JSON.parse(inproc.stdout).slice(1); // the first one warms up
    const cliRuns = [];
    const nodeRuns = [];
    for (let i = 0; i < 3; i++) {
      cliRuns.push((await run(h.nsenter([process.execPath, join(root, 'bin/flatnet-router.js'), 'apply', spec, '--host', 'nas', '--yes', '--install-root', installRoot]), env)).ms);
      nodeRuns.push((await run(h.nsenter([process.execPath, '-e', '']), env)).ms);
    }
    rows.push({
      networks: n,
      noopChanges: samples[0].changes,
      dockerRequests: samples[0].docker,
      ipReads: samples[0].ip,
      noopPlanMs: median(samples.map((s) => s.ms)).toFixed(1),
      noopCliMs: median(cliRuns).toFixed(0),
      nodeStartMs: median(nodeRuns).toFixed(0),
      beyondStartupMs: (median(cliRuns) - median(nodeRuns)).toFixed(0),
    });
  } finally {
    await h.stop();
  }
}
console.table(rows);
console.log('dockerRequests: GET /version + GET /networks; ipReads: ip -j link, addr, route -4, route -6');
