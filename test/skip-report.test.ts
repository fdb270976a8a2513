// Tests that skip say so (issue 21 point 5): with ../shared hidden (FLATNET_SHARED_DIR=/nonexistent, as in a
// fresh clone without it) the default output ends naming each skipped group and why; FLATNET_EXPECT_GROUPS
// (.ci/run) turns a skipped group it lists into a failed run, counted in .ci/run's last line.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { expected, expectedPatterns } from './skip-reporter.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const scratch = mkdtempSync(join(tmpdir(), 'flatnet-skips-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const vitest = (files: string[], env: NodeJS.ProcessEnv) => {
  const r = spawnSync(process.execPath, [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...files], {
    cwd: root,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', NO_COLOR: '1', FLATNET_SHARED_DIR: '/nonexistent', ...env },
    timeout: 120_000,
  });
  return { code: r.status, out: r.stdout + r.stderr };
};

describe('skipped groups are named', () => {
  it('without ../shared: each skipped group and why, after the summary; exit 0 unless expected', { timeout: 120_000 }, () => {
    const plain = vitest(['test/openwrt-export.test.ts', 'test/openwrt-router.test.ts', 'test/audit-openwrt.test.ts'], {});
    expect(plain.code, plain.out).toBe(0);
    const tail = plain.out.slice(plain.out.lastIndexOf('Duration'));
    expect(tail).toContain('skipped: parsing uci export (test/openwrt-export.test.ts): /nonexistent/openwrt-uci/build.sh missing (no ../shared/openwrt-uci)');
    expect(tail).toContain('skipped: OpenWrt test router: sshd + real uci (test/openwrt-router.test.ts): /nonexistent/openwrt-uci/build.sh missing (no ../shared/openwrt-uci)');
    expect(tail).toMatch(/skipped: OpenWrt audit agrees with the real fw4 \+ nftables \(\.\.\/shared\/openwrt-fw4\) \(test\/audit-openwrt\.test\.ts\): (\/nonexistent\/openwrt-fw4\/run\.sh not found|not root)/);
    // the tests of a skipped group are not listed one by one
    expect(tail.match(/^skipped: /gm)).toHaveLength(4);

    const report = join(scratch, 'skips.json');
    const ci = vitest(['test/openwrt-export.test.ts', 'test/diagram.test.ts'], { FLATNET_EXPECT_GROUPS: 'test/openwrt-*.test.ts, test/diagram.test.ts', FLATNET_SKIP_REPORT: report });
    expect(ci.code, ci.out).toBe(1);
    expect(ci.out).toContain('error: expected to run (FLATNET_EXPECT_GROUPS): parsing uci export (test/openwrt-export.test.ts): /nonexistent/openwrt-uci/build.sh missing');
    expect(JSON.parse(readFileSync(report, 'utf8')).missed).toEqual([{ file: 'test/openwrt-export.test.ts', group: 'parsing uci export', why: '/nonexistent/openwrt-uci/build.sh missing (no ../shared/openwrt-uci)' }]);
  });

  it('FLATNET_EXPECT_GROUPS: a file names all its groups, "<file> > <group>" one group as a whole', () => {
    const p = expectedPatterns('test/openwrt-*.test.ts,\n test/host-netns.test.ts > generated host shim commands on a real kernel (network namespaces)');
    expect(expected(p, { file: 'test/openwrt-e2e.test.ts', group: 'OpenWrt apply over SSH', why: '' })).toBe(true);
    expect(expected(p, { file: 'test/host-netns.test.ts', group: 'generated host shim commands on a real kernel (network namespaces)', why: '' })).toBe(true);
    expect(expected(p, { file: 'test/host-netns.test.ts', group: 'generated host shim commands on a real kernel (network namespaces) > VLAN device creation', why: '' })).toBe(false);
    expect(expected(p, { file: 'test/diagram.test.ts', group: 'x', why: '' })).toBe(false);
    expect(expectedPatterns(undefined)).toEqual([]);
  });
});
