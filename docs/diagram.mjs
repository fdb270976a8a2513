#!/usr/bin/env node
// Regenerates docs/switched.svg (and docs/switched.mmd) from examples/switched.yaml: the diagram command's DOT
// output drawn by Graphviz's dot. Needs a build (npm run build) and dot (apt-get install graphviz).
//   node docs/diagram.mjs
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../dist/src/index.js';
import { renderDiagram } from '../dist/src/diagram.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const model = loadModel(join(root, 'examples', 'switched.yaml'));
const drawn = spawnSync('dot', ['-Tsvg'], { input: renderDiagram(model, 'dot'), encoding: 'utf8' });
if (drawn.error || drawn.status !== 0) {
  console.error(`dot -Tsvg failed: ${drawn.error?.message ?? drawn.stderr} (install graphviz: apt-get install graphviz)`);
  process.exit(1);
}
writeFileSync(join(root, 'docs', 'switched.svg'), drawn.stdout);
writeFileSync(join(root, 'docs', 'switched.mmd'), renderDiagram(model, 'mermaid'));
console.log('wrote docs/switched.svg and docs/switched.mmd');
