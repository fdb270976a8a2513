// plan/apply against a throwaway OpenWrt router: OpenSSH's sshd on 127.0.0.1 whose sessions run OpenWrt's
// own uci on a scratch root (test/fakes/openwrt-router.ts), through the CLI as users run it.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OpenWrtTestRouter, openwrtTestSupport } from './fakes/openwrt-router.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'flatnet-router.js');
const support = openwrtTestSupport();
let scratch = '';
let home = '';
const routers: OpenWrtTestRouter[] = [];

beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'src', 'cli.js'))) throw new Error('run tsc first (npm test does)');
  scratch = mkdtempSync(join(tmpdir(), 'flatnet-owrt-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
afterEach(async () => {
  await Promise.all(routers.splice(0).map((r) => r.stop()));
});

async function router(options: Parameters<typeof OpenWrtTestRouter.start>[0] = {}): Promise<OpenWrtTestRouter> {
  const r = await OpenWrtTestRouter.start(options);
  routers.push(r);
  // a HOME of its own per router: known_hosts starts empty
  home = mkdtempSync(join(scratch, 'home-'));
  mkdirSync(join(home, '.ssh'), { recursive: true });
  writeFileSync(join(home, '.ssh', 'known_hosts'), `${r.knownHostsLine}\n`);
  return r;
}

interface Net {
  name: string;
  vlan?: number;
  third: number;
  extra?: string[];
}

function spec(r: OpenWrtTestRouter, nets: Net[], routerExtra: string[] = []): string {
  const file = join(scratch, `spec-${Math.random().toString(36).slice(2)}.yaml`);
  const lines = [
    'version: 1',
    'routers:',
    '  edge:',
    '    type: openwrt',
    '    address: 127.0.0.1',
    `    port: ${r.port}`,
    `    user: ${r.user}`,
    `    key-file: ${r.clientKeyFile}`,
    ...routerExtra.map((l) => `    ${l}`),
    'hosts:',
    '  nas:',
    '    parent: eth0',
    'networks:',
  ];
  for (const n of nets) {
    lines.push(`  ${n.name}:`, '    router: edge', '    host: nas');
    if (n.vlan !== undefined) {
      lines.push(`    vlan: ${n.vlan}`, `    subnet: 10.${n.third}.0.0/24`, `    gateway: 10.${n.third}.0.1`, `    container-range: 10.${n.third}.0.64/26`);
    } else {
      lines.push('    subnet: 192.168.1.0/24', '    gateway: 192.168.1.1', `    container-range: 192.168.1.${n.third}/27`);
    }
    for (const e of n.extra ?? []) lines.push(`    ${e}`);
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function cli(r: OpenWrtTestRouter, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { env: { PATH: process.env.PATH ?? '', HOME: home, NO_COLOR: '1', FLATNET_TEST_REMOTE_ROOT: r.root, ...env }, timeout: 90_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const flatnetSections = (r: OpenWrtTestRouter, config: 'network' | 'firewall' | 'dhcp') =>
  r
    .uci(['show', config])
    .split('\n')
    .filter((l) => /^[a-z]+\.flatnet_/.test(l));
const foreign = (r: OpenWrtTestRouter, config: 'network' | 'firewall' | 'dhcp') =>
  r
    .uci(['show', config])
    .split('\n')
    .filter((l) => l !== '' && !/^[a-z]+\.flatnet_/.test(l));

describe.skipIf(!support.ok)(`OpenWrt apply over SSH${support.ok ? '' : ` (skipped: ${support.reason})`}`, () => {
  it('fresh apply in three commands, confirmed; no-op is one command; foreign and anonymous sections untouched', async () => {
    const r = await router();
    const file = spec(r, [
      { name: 'apps', vlan: 200, third: 200 },
      { name: 'cams', vlan: 300, third: 30, extra: ['firewall:', '  internet: false', '  allow-input: [dns, icmp]'] },
    ]);
    const foreignBefore = { network: foreign(r, 'network'), firewall: foreign(r, 'firewall'), dhcp: foreign(r, 'dhcp') };
    const plan = await cli(r, ['plan', file, '--detailed-exitcode']);
    expect(plan.code, plan.stdout + plan.stderr).toBe(2);
    expect(plan.stdout).toMatch(/OpenWrt 23\.05/);
    expect(plan.stdout).toMatch(/\+ network\.flatnet_apps interface/);
    expect(r.serviceLog()).toEqual([]);

    const first = await cli(r, ['apply', file, '--yes', '--confirm-timeout', '20']);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.stderr).toContain('confirmed');
    expect(r.uci(['get', 'network.flatnet_apps.device'])).toBe('br-lan.200');
    expect(r.uci(['get', 'firewall.flatnet_cams.name'])).toBe('fn_vlan300');
    expect({ network: foreign(r, 'network'), firewall: foreign(r, 'firewall'), dhcp: foreign(r, 'dhcp') }).toEqual(foreignBefore);
    const reloads = r.serviceCalls();
    expect(reloads.filter((l) => l.startsWith('network'))).toHaveLength(1);
    expect(reloads.filter((l) => l.startsWith('firewall'))).toHaveLength(1);
    expect(reloads.filter((l) => l.startsWith('dnsmasq'))).toHaveLength(0);

    const json = await cli(r, ['plan', file, '--json', '--detailed-exitcode']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).units[0]).toMatchObject({ name: 'edge', status: 'no-changes' });
    const again = await cli(r, ['apply', file, '--yes']);
    expect(again.stdout).toContain('no changes');
    expect(r.serviceLog()).toHaveLength(reloads.length);
  });

  it('changes one option with one set, removes a dropped network, and never touches foreign sections', async () => {
    const r = await router();
    const v1 = spec(r, [
      { name: 'apps', vlan: 200, third: 200 },
      { name: 'cams', vlan: 300, third: 30 },
    ]);
    expect((await cli(r, ['apply', v1, '--yes', '--confirm-timeout', '0'])).code).toBe(0);
    const foreignBefore = foreign(r, 'network');
    const v2 = spec(r, [
      { name: 'apps', vlan: 200, third: 200, extra: ['firewall:', '  allow-input: [dns, ssh]'] },
    ]);
    const plan = await cli(r, ['plan', v2]);
    expect(plan.stdout).toMatch(/\+ firewall\.flatnet_apps_ssh rule/);
    expect(plan.stdout).toMatch(/- network\.flatnet_cams interface/);
    expect(plan.stdout).not.toMatch(/flatnet_apps interface|flatnet_apps zone/);
    const applied = await cli(r, ['apply', v2, '--yes', '--confirm-timeout', '0']);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect(flatnetSections(r, 'network').some((l) => l.includes('flatnet_cams'))).toBe(false);
    expect(r.uci(['get', 'firewall.flatnet_apps_ssh.dest_port'])).toBe('22');
    expect(foreign(r, 'network')).toEqual(foreignBefore);
    expect((await cli(r, ['plan', v2, '--detailed-exitcode'])).code).toBe(0);
  });

  it('refuses a container range inside the default LAN DHCP pool (.100-.249), naming the spec path', async () => {
    const r = await router();
    const file = spec(r, [{ name: 'lan-apps', third: 192 }]);
    const plan = await cli(r, ['plan', file]);
    expect(plan.code).toBe(1);
    expect(plan.stdout).toMatch(/spec-\w+\.yaml:\d+:\d+ networks\.lan-apps\.container-range: 192\.168\.1\.192\/27 overlaps the DHCP range of interface "lan" \(192\.168\.1\.100-192\.168\.1\.249/);
    const clear = spec(r, [{ name: 'lan-apps', third: 32 }]);
    expect((await cli(r, ['plan', clear, '--detailed-exitcode'])).code).toBe(0);
  });

  it('a batch line uci refuses leaves nothing staged and nothing committed', async () => {
    const r = await router();
    // an image without the firewall package: every firewall line of the batch fails ("Entry not found")
    // while the network lines succeed, and uci batch still exits 0
    rmSync(join(r.root, 'etc', 'config', 'firewall'));
    const before = r.readConfig('network');
    const file = spec(r, [{ name: 'apps', vlan: 200, third: 200 }]);
    const res = await cli(r, ['apply', file, '--yes']);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/uci refused line \d+ of the batch: set firewall\./);
    expect(res.stdout).toMatch(/nothing was committed/);
    expect(r.uci(['changes'])).toBe('');
    expect(r.readConfig('network')).toBe(before);
    expect(r.serviceLog()).toEqual([]);
  });

  it('unknown and changed host keys are refused before any command; --accept-new-host-key records a new one', async () => {
    const r = await router();
    const file = spec(r, [{ name: 'apps', vlan: 200, third: 200 }]);
    writeFileSync(join(home, '.ssh', 'known_hosts'), '');
    const unknown = await cli(r, ['plan', file]);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain(`is not known: ${r.hostKeyFingerprint}`);
    const wrongPin = spec(r, [{ name: 'apps', vlan: 200, third: 200 }], ['host-key: "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"']);
    const pinned = await cli(r, ['plan', wrongPin]);
    expect(pinned.code).toBe(1);
    expect(pinned.stdout).toMatch(/not the pinned SHA256:A+/);
    const right = spec(r, [{ name: 'apps', vlan: 200, third: 200 }], [`host-key: "${r.hostKeyFingerprint}"`]);
    expect((await cli(r, ['plan', right])).code).toBe(0);
    const accepted = await cli(r, ['plan', file, '--accept-new-host-key']);
    expect(accepted.code, accepted.stdout).toBe(0);
    expect(readFileSync(join(home, '.ssh', 'known_hosts'), 'utf8')).toContain(`[127.0.0.1]:${r.port} ssh-ed25519 `);
    // a changed key: known_hosts holds another ed25519 key for this host
    writeFileSync(join(home, '.ssh', 'known_hosts'), `[127.0.0.1]:${r.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE5sb3RoZXJrZXlub3RoZXJrZXlub3RoZXJrZXlub3Ro\n`);
    const changed = await cli(r, ['plan', file, '--accept-new-host-key']);
    expect(changed.code).toBe(1);
    expect(changed.stdout).toContain('HOST KEY CHANGED');
    expect(r.serviceCalls()).toEqual([]);
  });

  it('the watchdog restores the old config when the change cuts the admin off, and not when it can confirm', async () => {
    const r = await router({ onNetworkReload: 'cut-off' });
    const before = { network: r.readConfig('network'), firewall: r.readConfig('firewall') };
    const file = spec(r, [{ name: 'apps', vlan: 200, third: 200 }]);
    const res = await cli(r, ['apply', file, '--yes', '--confirm-timeout', '4', '--timeout', '2']);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/could not reconnect within 4 s to confirm: the router restores the previous network, firewall config/);
    // the router rolls back by itself once the window closes
    await new Promise((res2) => setTimeout(res2, 5_000));
    expect(r.readConfig('network')).toBe(before.network);
    expect(r.readConfig('firewall')).toBe(before.firewall);
    expect(r.serviceCalls().filter((l) => l === 'network reload').length).toBe(2);
    await r.restartSshd();
    r.setNetworkReload('ok');
    const ok = await cli(r, ['apply', file, '--yes', '--confirm-timeout', '4']);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    await new Promise((res2) => setTimeout(res2, 5_000));
    expect(r.uci(['get', 'network.flatnet_apps.device'])).toBe('br-lan.200');
  }, 60_000);

  it('a confirmed apply leaves no process of its own behind: the watchdog and its sleep are stopped (issue 22)', async () => {
    const r = await router();
    const file = spec(r, [{ name: 'apps', vlan: 200, third: 200 }]);
    // a timeout no other test uses, so its sleep is recognisable in the process list
    const sleeps = () => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.trim() === 'sleep 47');
    expect(sleeps()).toEqual([]);
    const res = await cli(r, ['apply', file, '--yes', '--confirm-timeout', '47']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stderr).toContain('confirmed');
    // the kill is asynchronous: give the processes a moment to go
    for (let i = 0; i < 20 && sleeps().length > 0; i++) await new Promise((res2) => setTimeout(res2, 100));
    expect(sleeps()).toEqual([]);
    expect(r.uci(['get', 'network.flatnet_apps.device'])).toBe('br-lan.200');
  }, 60_000);

  it('trunk-ports: LAN ports and interface read from the router; dropping trunk-ports puts the LAN back in the same commit', async () => {
    const r = await router();
    const trunk = spec(r, [{ name: 'apps', vlan: 200, third: 200 }], ['trunk-ports: [lan1]']);
    const plan = await cli(r, ['plan', trunk]);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    expect(plan.stdout).toContain('lan-ports read from the router: lan1 lan2 lan3 lan4');
    expect(plan.stdout).toContain('lan-interface read from the router: lan');
    expect(plan.stdout).toMatch(/\+ network\.flatnet_state flatnet_state/);
    expect((await cli(r, ['apply', trunk, '--yes', '--confirm-timeout', '0'])).code).toBe(0);
    expect(r.uci(['get', 'network.lan.device'])).toBe('br-lan.1');
    expect(r.uci(['get', 'network.flatnet_state.lan_device'])).toBe('br-lan');
    expect(r.uci(['get', 'network.flatnet_lan_vlan.ports'])).toBe('lan1:u* lan2:u* lan3:u* lan4:u*');
    expect(cutOff(r)).toBe(false);

    const flat = spec(r, [{ name: 'apps', vlan: 200, third: 200 }]);
    const calls = r.serviceCalls().length;
    const back = await cli(r, ['apply', flat, '--yes', '--confirm-timeout', '0']);
    expect(back.code, back.stdout + back.stderr).toBe(0);
    expect(r.uci(['get', 'network.lan.device'])).toBe('br-lan');
    expect(r.uci(['show', 'network']).includes('flatnet_state')).toBe(false);
    expect(r.uci(['show', 'network']).includes('bridge-vlan')).toBe(false);
    expect(cutOff(r)).toBe(false);
    // one apply command: the restore and the bridge-vlan removal were one commit, one reload
    expect(r.serviceCalls().slice(calls).filter((c) => c === 'network reload')).toHaveLength(1);
  });

  it('dropping trunk-ports leaves a LAN device the user changed since alone, and says so', async () => {
    const r = await router();
    const trunk = spec(r, [{ name: 'apps', vlan: 200, third: 200 }], ['trunk-ports: [lan1]']);
    expect((await cli(r, ['apply', trunk, '--yes', '--confirm-timeout', '0'])).code).toBe(0);
    expect(r.uci(['get', 'network.flatnet_state.lan_device_set'])).toBe('br-lan.1');
    r.uci(['set', 'network.lan.device=br-lan.7']);
    r.uci(['commit', 'network']);
    const flat = spec(r, [{ name: 'apps', vlan: 200, third: 200 }]);
    const res = await cli(r, ['apply', flat, '--yes', '--confirm-timeout', '0']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toContain('warning: network.lan.device is "br-lan.7", not the "br-lan.1" flatnet set: left as it is');
    expect(r.uci(['get', 'network.lan.device'])).toBe('br-lan.7');
    expect(r.uci(['show', 'network']).includes('flatnet_state')).toBe(false);
  });

  it('the generated batch: its header cleanup used to strand the LAN on br-lan.1; now it puts the LAN back', async () => {
    const r = await router();
    const gen = async (file: string) => (await cli(r, ['generate', file, '--target', 'openwrt', '--router', 'edge'])).stdout;
    const trunk = spec(r, [{ name: 'apps', vlan: 200, third: 200 }], ['trunk-ports: [lan1]', 'lan-ports: [lan1, lan2, lan3, lan4]', 'lan-interface: lan']);
    const flat = spec(r, [{ name: 'apps', vlan: 200, third: 200 }]);
    const cleanup = (batch: string) => /^#   (i=\$\(uci.*)$/m.exec(batch)![1]!;
    const oldCleanup = `for c in network firewall; do for s in $(uci show $c | sed -n "s/^$c\\.\\(flatnet_[A-Za-z0-9_]*\\)=.*/\\1/p"); do uci delete $c.$s; done; done`;
    const run = async (script: string, stdin?: string) => {
      const res = await r.ssh(`${r.pathPrefix()}; ${script}`, stdin !== undefined ? { stdin } : {});
      expect(res.code, res.stderr).toBe(0);
      return res;
    };
    const importBatch = async (batch: string, headerLine: string) => {
      await run(headerLine);
      await run('uci batch', batch);
      await run('uci commit');
    };
    // the way the header said before: the cleanup deletes the bridge-vlans, nothing moves the LAN back
    await importBatch(await gen(trunk), oldCleanup);
    expect(r.uci(['get', 'network.lan.device'])).toBe('br-lan.1');
    await importBatch(await gen(flat), oldCleanup);
    expect(cutOff(r)).toBe(true);

    // a fresh router, the header as generated now
    const r2 = await router();
    const gen2 = async (file: string) => (await cli(r2, ['generate', file, '--target', 'openwrt', '--router', 'edge'])).stdout;
    const trunk2 = spec(r2, [{ name: 'apps', vlan: 200, third: 200 }], ['trunk-ports: [lan1]', 'lan-ports: [lan1, lan2, lan3, lan4]', 'lan-interface: lan']);
    const flat2 = spec(r2, [{ name: 'apps', vlan: 200, third: 200 }]);
    const run2 = async (script: string, stdin?: string) => {
      const res = await r2.ssh(`${r2.pathPrefix()}; ${script}`, stdin !== undefined ? { stdin } : {});
      expect(res.code, res.stderr).toBe(0);
    };
    for (const file of [trunk2, flat2]) {
      const batch = await gen2(file);
      await run2(cleanup(batch));
      await run2('uci batch', batch);
      await run2('uci commit');
    }
    expect(r2.uci(['get', 'network.lan.device'])).toBe('br-lan');
    expect(cutOff(r2)).toBe(false);
    // and apply agrees with what the batch left: nothing to change
    expect((await cli(r2, ['plan', flat2, '--detailed-exitcode'])).code).toBe(0);
  });

  it('hostile strings in every spec field the router sees are refused or travel as data, never as commands', async () => {
    const r = await router();
    const pwned = join(r.root, 'tmp', 'pwned');
    const payloads = [`x$(touch ${pwned})`, `x'; touch ${pwned}; '`, `x\`touch ${pwned}\``, 'x\ntouch ' + pwned, `x"; touch ${pwned}; "`];
    const fields = ['device', 'wan-zone', 'lan-zone', 'lan-interface', 'user'];
    let refused = 0;
    for (const field of fields) {
      for (const payload of payloads) {
        const extra = [`${field}: ${JSON.stringify(payload)}`, ...(field === 'lan-interface' ? ['trunk-ports: [lan1]', 'lan-ports: [lan1]'] : [])];
        const file = spec(r, [{ name: 'apps', vlan: 200, third: 200 }], extra);
        // the payload must be the only user: key (a duplicate key would be refused for another reason)
        if (field === 'user') writeFileSync(file, readFileSync(file, 'utf8').replace(`    user: ${r.user}\n`, ''));
        const res = await cli(r, ['apply', file, '--yes', '--confirm-timeout', '0']);
        expect(res.code).toBe(1);
        if (res.stderr.includes(`routers.edge.${field}`)) refused++;
        // what validation lets through is data: a user name the SSH server refuses, never a command
        else expect(res.stdout, `${field}=${JSON.stringify(payload)}`).toMatch(/login to 127\.0\.0\.1:\d+ as ".*" refused/s);
        expect(existsSync(pwned), `${field}=${JSON.stringify(payload)}`).toBe(false);
      }
    }
    for (const port of payloads) {
      const file = spec(r, [{ name: 'apps', vlan: 200, third: 200 }], [`trunk-ports: [${JSON.stringify(port)}]`, 'lan-ports: [lan1]', 'lan-interface: lan']);
      const res = await cli(r, ['apply', file, '--yes', '--confirm-timeout', '0']);
      expect(res.code).toBe(1);
      expect(existsSync(pwned)).toBe(false);
    }
    // all but some user names are stopped by validation, with the path
    expect(refused).toBeGreaterThanOrEqual((fields.length - 1) * payloads.length);
    expect(r.serviceCalls()).toEqual([]);
  });

  it('three remote commands for an apply, one for a no-op (in-process, counted)', async () => {
    const r = await router();
    const { modelFromText } = await import('../src/index.js');
    const { OpenWrtUnit } = await import('../targets/openwrt/push.js');
    const text = readFileSync(spec(r, [{ name: 'apps', vlan: 200, third: 200 }, { name: 'cams', vlan: 300, third: 30 }], [`host-key: "${r.hostKeyFingerprint}"`]), 'utf8');
    const model = modelFromText(text);
    const counts: number[] = [];
    for (let i = 0; i < 2; i++) {
      const unit = new OpenWrtUnit(model, model.routers[0] as Extract<(typeof model.routers)[number], { type: 'openwrt' }>, { remoteRoot: r.root, env: {}, confirmTimeoutS: 20 });
      try {
        const plan = await unit.plan(() => {});
        if (plan.changes.length > 0) await unit.apply(() => {});
      } finally {
        unit.close();
      }
      counts.push(unit.stats.commands);
    }
    expect(counts).toEqual([3, 1]);
  });
});

/** The LAN is cut off when it sits on <bridge>.<vid> but no bridge-vlan turns VLAN filtering on. */
function cutOff(r: OpenWrtTestRouter): boolean {
  const show = r.uci(['show', 'network']);
  const device = /^network\.lan\.device='([^']*)'$/m.exec(show)?.[1] ?? '';
  const filtering = /=bridge-vlan$/m.test(show);
  return /^br-lan\.\d+$/.test(device) && !filtering;
}
