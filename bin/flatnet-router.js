#!/usr/bin/env node
// Runs the compiled CLI (npm install / npm ci build it into dist/ through the prepare script): the one-file
// bundle when it is up to date (faster start-up), else the compiled modules.
import { statSync } from 'node:fs';

const dist = new URL('../dist/', import.meta.url);
let entry = new URL('src/cli.js', dist);
try {
  const bundle = new URL('flatnet-router.mjs', dist);
  if (statSync(bundle).mtimeMs >= statSync(entry).mtimeMs) entry = bundle;
} catch {
  // no bundle: the modules
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv);
