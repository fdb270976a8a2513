// The OpenWrt batch's header is what users copy (issue 21 point 11): its two lines, pasted together, must drop
// what the spec no longer has. With only `uci batch < edge.uci`, a forwarding the spec took out stays (fw4 then
// keeps apps -> backup open). Real OpenWrt uci, built from ../shared/openwrt-uci.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelFromText } from '../src/index.js';
import type { OpenWrtRouter } from '../src/model.js';
import { renderBatch } from '../targets/openwrt/index.js';
import { defaultOpenWrtConfig } from './fakes/openwrt-router.js';
import { sharedDir } from './fakes/shared-dir.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const buildScript = join(sharedDir, 'openwrt-uci', 'build.sh');
const why = process.platform !== 'linux' ? 'needs Linux' : !existsSync(buildScript) ? `${buildScript} missing (no ../shared/openwrt-uci)` : spawnSync('gcc', ['--version']).status !== 0 ? 'gcc missing (needed to build OpenWrt uci)' : '';

const spec = (to: string, owner?: string, extra = '') => `version: 1
${owner ? `owner: ${owner}\n` : ''}routers:
  edge:
    type: openwrt
    address: 192.168.1.1
hosts:
  nas:
    parent: eth0
networks:
  apps:
    router: edge
    host: nas
    vlan: 200
    subnet: 192.168.200.0/24
    gateway: 192.168.200.1
    container-range: 192.168.200.192/27
    firewall:
      to: [${to}]
  backup:
    router: edge
    host: nas
    vlan: 300
    subnet: 192.168.30.0/24
    gateway: 192.168.30.1
    container-range: 192.168.30.192/27
${extra}`;

describe.skipIf(why !== '')(`the OpenWrt batch header, pasted${why ? ` (skipped: ${why})` : ''}`, () => {
  let scratch = '';
  let uci = '';
  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'flatnet-owrt-header-'));
    uci = join(scratch, 'bin', 'uci');
    execFileSync('bash', [buildScript, uci], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  }, 90_000);
  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  /** A router of its own: the default configs and `uci` on them; paste() runs the header's two lines with a batch. */
  function device(name: string) {
    const dir = join(scratch, name);
    for (const d of ['config', 'save', 'run', 'bin']) mkdirSync(join(dir, d), { recursive: true });
    for (const c of ['network', 'firewall', 'dhcp'] as const) writeFileSync(join(dir, 'config', c), defaultOpenWrtConfig(c));
    // `uci` on this device's configs, as on the router
    writeFileSync(join(dir, 'bin', 'uci'), `#!/bin/sh\nexec ${uci} -c ${join(dir, 'config')} -t ${join(dir, 'save')} -C ${join(dir, 'run')} "$@"\n`, { mode: 0o755 });
    const paste = (batch: string) => {
      writeFileSync(join(dir, 'edge.uci'), batch);
      const lines = batch.split('\n');
      const at = lines.findIndex((l) => l.startsWith('#   uci batch < edge.uci'));
      // what a user copies: the two indented lines of the header, without their "#   "
      const script = [lines[at - 1]!, lines[at]!.replace(/\s+\(generate --out.*$/, '')].map((l) => l.replace(/^#   /, '')).join('\n');
      const r = spawnSync('sh', ['-c', `${script} >/dev/null && uci commit`], { cwd: dir, encoding: 'utf8', env: { PATH: `${join(dir, 'bin')}:${process.env.PATH ?? ''}` } });
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    };
    const get = (ref: string) => spawnSync(join(dir, 'bin', 'uci'), ['-q', 'get', ref], { encoding: 'utf8' }).stdout.trim();
    return { paste, get };
  }

  it("its two lines run the cleanup, then the batch: a forwarding the spec dropped goes", () => {
    const { paste } = device('edge');
    const dir = join(scratch, 'edge');
    const model = (to: string) => modelFromText(spec(to));
    const batchOf = (to: string) => {
      const m = model(to);
      return renderBatch(m, m.routers[0] as OpenWrtRouter);
    };
    const forwarding = () => spawnSync(join(dir, 'bin', 'uci'), ['-q', 'get', 'firewall.flatnet_apps_to_backup.dest'], { encoding: 'utf8' }).stdout.trim();
    paste(batchOf('backup'));
    expect(forwarding()).toBe('fn_vlan300');
    paste(batchOf(''));
    expect(forwarding()).toBe('');
    // and everything the spec still has is there
    expect(spawnSync(join(dir, 'bin', 'uci'), ['get', 'network.flatnet_apps.device'], { encoding: 'utf8' }).stdout.trim()).toBe('br-lan.200');
  });

  it("with owners, the cleanup removes only the spec's owner's sections (none: only those without one)", () => {
    const { paste, get } = device('shared');
    const batch = (to: string, owner?: string, extra = '') => {
      const m = modelFromText(spec(to, owner, extra));
      return renderBatch(m, m.routers[0] as OpenWrtRouter);
    };
    const lab = `  lab:
    router: edge
    host: nas
    vlan: 400
    subnet: 192.168.40.0/24
    gateway: 192.168.40.1
    container-range: 192.168.40.192/27
`;
    // nas1's networks apps and backup, then nas2's spec with lab alone
    paste(batch('backup', 'nas1'));
    const nas2 = modelFromText(spec('', 'nas2', lab).replace(/ {2}apps:[\s\S]*?(?= {2}lab:)/, ''));
    expect(nas2.networks.map((n) => n.name)).toEqual(['lab']);
    paste(renderBatch(nas2, nas2.routers[0] as OpenWrtRouter));
    expect(get('network.flatnet_lab.device')).toBe('br-lan.400');
    expect(get('network.flatnet_apps.flatnet_owner')).toBe('nas1');
    expect(get('firewall.flatnet_apps_to_backup.dest')).toBe('fn_vlan300');
    // nas1 drops its forwarding: its own goes, nas2's lab stays
    paste(batch('', 'nas1'));
    expect(get('firewall.flatnet_apps_to_backup.dest')).toBe('');
    expect(get('network.flatnet_apps.device')).toBe('br-lan.200');
    expect(get('network.flatnet_lab.device')).toBe('br-lan.400');
    expect(get('network.flatnet_lab.flatnet_owner')).toBe('nas2');
    // a spec without owner pasted on top removes neither's sections
    const plain = modelFromText(spec('', undefined, lab).replace(/ {2}apps:[\s\S]*?(?= {2}lab:)/, '').replace('lab:', 'plain:').replace(/vlan: 400/, 'vlan: 500').replace(/192\.168\.40\./g, '192.168.50.'));
    paste(renderBatch(plain, plain.routers[0] as OpenWrtRouter));
    expect([get('network.flatnet_apps.device'), get('network.flatnet_lab.device'), get('network.flatnet_plain.device')]).toEqual(['br-lan.200', 'br-lan.400', 'br-lan.500']);
    expect(get('network.flatnet_plain.flatnet_owner')).toBe('');
  });
});
