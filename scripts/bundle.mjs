#!/usr/bin/env node
// Bundles the compiled CLI into one file (dist/flatnet-router.mjs): Node then loads one module instead of
// several hundred (zod, yaml, handlebars, commander, ip-address), which halves start-up (about 150 ms to
// 65 ms here). bin/flatnet-router.js uses the bundle when it is at least as new as dist/src/cli.js.
// node-ssh stays outside: it is loaded only when an OpenWrt router is contacted.
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/src/cli.js'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: 'dist/flatnet-router.mjs',
  external: ['node-ssh'],
  // CommonJS dependencies (handlebars) call require() for Node's own modules
  banner: { js: "import { createRequire as __flatnetRequire } from 'node:module'; const require = __flatnetRequire(import.meta.url);" },
  logLevel: 'warning',
});
