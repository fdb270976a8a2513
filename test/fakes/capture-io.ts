// An Io for runPlan/runApply/runStatus whose stdout and stderr are captured. By default no terminal and NO_COLOR
// set; `tty` makes stdout a terminal and `noColor: false` leaves NO_COLOR out (for the colour tests). Test-only.
import { PassThrough } from 'node:stream';
import type { Io } from '../../src/plan/run.js';

export function captureIo(env: NodeJS.ProcessEnv = { P: 'pw' }, options: { tty?: boolean; noColor?: boolean } = {}): { io: Io; out: () => string; err: () => string } {
  const stdout = Object.assign(new PassThrough(), options.tty ? { isTTY: true } : {});
  const stderr = new PassThrough();
  let o = '';
  let e = '';
  stdout.on('data', (d) => (o += String(d)));
  stderr.on('data', (d) => (e += String(d)));
  return { io: { stdin: new PassThrough(), stdout, stderr, env: { ...(options.noColor === false ? {} : { NO_COLOR: '1' }), ...env } }, out: () => o, err: () => e };
}
