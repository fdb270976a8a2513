// Golden files: every example rendered for every target, compared byte for byte with test/golden/.
// They are reviewed by eye and regenerated only deliberately: UPDATE_GOLDEN=1 npx vitest run test/golden.test.ts
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generate, loadModel } from '../src/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const examplesDir = join(root, 'examples');
const goldenDir = join(root, 'test', 'golden');
const update = process.env.UPDATE_GOLDEN === '1';

function listFiles(dir: string): string[] {
  let out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) out = out.concat(listFiles(full));
    else out.push(full);
  }
  return out;
}

const examples = readdirSync(examplesDir).filter((f) => f.endsWith('.yaml')).sort();

describe('golden output', () => {
  it('covers every example', () => {
    expect(examples.length).toBeGreaterThanOrEqual(5);
  });

  for (const example of examples) {
    const name = example.replace(/\.yaml$/, '');
    it(`${name}: every target matches test/golden/${name}/`, () => {
      const artifacts = generate(loadModel(join(examplesDir, example)));
      const dir = join(goldenDir, name);
      if (update) {
        rmSync(dir, { recursive: true, force: true });
        for (const a of artifacts) {
          mkdirSync(dirname(join(dir, a.path)), { recursive: true });
          writeFileSync(join(dir, a.path), a.content);
        }
      }
      const expected = listFiles(dir).map((f) => relative(dir, f)).sort();
      expect(artifacts.map((a) => a.path).sort()).toEqual(expected);
      for (const a of artifacts) {
        expect(a.content, a.path).toBe(readFileSync(join(dir, a.path), 'utf8'));
      }
    });
  }
});
