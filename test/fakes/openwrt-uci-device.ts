// OpenWrt devices on OpenWrt's own uci (built from ../shared/openwrt-uci into a scratch folder): each device a
// config/save/run tree with the default configs, read with `uci export` as the plan reads it, changed with the
// plan's `uci batch`, and made to look hand-made for the import/adopt round trips. Test-only.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { ANONYMOUS_STAGED, CONFIGS, type OpenWrtLive, type OpenWrtPlan } from '../../targets/openwrt/diff.js';
import { parseUciExport } from '../../targets/openwrt/uci.js';
import { defaultOpenWrtConfig } from './openwrt-router.js';
import { sharedDir } from './shared-dir.js';

const buildScript = join(sharedDir, 'openwrt-uci', 'build.sh');

/** Why OpenWrt's uci cannot be built here ('' when it can). */
export const uciUnavailable: string =
  process.platform !== 'linux' ? 'needs Linux' : !existsSync(buildScript) ? `${buildScript} missing (no ../shared/openwrt-uci)` : spawnSync('gcc', ['--version']).status !== 0 ? 'gcc missing (needed to build OpenWrt uci)' : '';

export interface UciDevice {
  dir: string;
  uci(args: string[], input?: string): string;
  /** the three configs as the plan reads them */
  read(): OpenWrtLive;
  /** the plan's batch, its staged lines checked as push.ts checks them (an anonymous section's id normalized), then committed */
  apply(plan: Pick<OpenWrtPlan, 'batch' | 'expectedStaged'>): void;
  /** flatnet's sections made to look hand-made: network's renamed (prefix off), firewall's and dhcp's anonymous, no state record, no owner */
  handMade(): void;
}

/** Builds uci once into a scratch folder; `device(name)` makes a device there; `cleanup()` removes it all. */
export function uciWorkbench(): { device(name: string): UciDevice; cleanup(): void } {
  const scratch = mkdtempSync(join(tmpdir(), 'flatnet-uci-'));
  const uciBin = join(scratch, 'uci');
  execFileSync('bash', [buildScript, uciBin], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  const device = (name: string): UciDevice => {
    const dir = join(scratch, name);
    for (const d of ['config', 'save', 'run']) mkdirSync(join(dir, d), { recursive: true });
    for (const c of CONFIGS) writeFileSync(join(dir, 'config', c), defaultOpenWrtConfig(c));
    const uci = (args: string[], input?: string) => {
      const r = spawnSync(uciBin, ['-c', join(dir, 'config'), '-t', join(dir, 'save'), '-C', join(dir, 'run'), ...args], { encoding: 'utf8', ...(input !== undefined ? { input } : {}) });
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      return r.stdout;
    };
    const read = (): OpenWrtLive => ({ sections: CONFIGS.flatMap((c) => parseUciExport(uci(['export', c]), c)), hasUbus: true, staged: [] });
    const apply = (plan: Pick<OpenWrtPlan, 'batch' | 'expectedStaged'>) => {
      uci(['batch'], `${plan.batch.join('\n')}\n`);
      const staged = CONFIGS.flatMap((c) => uci(['changes', c]).split('\n').filter(Boolean)).map((l) => l.replace(/^([a-z]+)\.cfg[0-9a-f]{6}='(flatnet_[A-Za-z0-9_]*)'$/, `$1.${ANONYMOUS_STAGED}='$2'`));
      expect(staged).toEqual(plan.expectedStaged);
      for (const c of CONFIGS) uci(['commit', c]);
    };
    const handMade = () => {
      for (const c of CONFIGS) {
        let text = readFileSync(join(dir, 'config', c), 'utf8');
        text = text.replace(/\nconfig flatnet_state 'flatnet_state'\n(\t[^\n]*\n)*/, '\n');
        text = c === 'network' ? text.replace(/^(config \S+) 'flatnet_([^']*)'$/gm, "$1 '$2'") : text.replace(/^(config \S+) 'flatnet_[^']*'$/gm, '$1');
        text = text.replace(/^(\t(?:option|list) (?:network|interface)) 'flatnet_([^']*)'$/gm, "$1 '$2'").replace(/^\toption flatnet_owner .*\n/gm, '');
        writeFileSync(join(dir, 'config', c), text);
      }
    };
    return { dir, uci, read, apply, handMade };
  };
  return { device, cleanup: () => rmSync(scratch, { recursive: true, force: true }) };
}
