// An Io for runPlan/runApply/runStatus whose stdout and stderr are captured (no terminal, no colour). Test-only.
import { PassThrough } from 'node:stream';
import type { Io } from '../../src/plan/run.js';

export function captureIo(env: NodeJS.ProcessEnv = { P: 'pw' }): { io: Io; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = '';
  let e = '';
  stdout.on('data', (d) => (o += String(d)));
  stderr.on('data', (d) => (e += String(d)));
  return { io: { stdin: new PassThrough(), stdout, stderr, env: { NO_COLOR: '1', ...env } }, out: () => o, err: () => e };
}
