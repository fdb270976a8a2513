// The OpenWrt test router harness itself: real sshd on 127.0.0.1, OpenWrt's real uci on a scratch root.
import { execFileSync, spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenWrtTestRouter, openwrtTestSupport, pidAlive } from './fakes/openwrt-router.js';

const support = openwrtTestSupport();
const reason = support.ok ? '' : ` (skipped: ${support.reason})`;

function hasSystemSsh(): boolean {
  try {
    accessSync('/usr/bin/ssh', fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}
const systemSsh = hasSystemSsh();

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** one command over SSH: the system ssh client if present, else node-ssh (ssh2) */
async function ssh(router: OpenWrtTestRouter, command: string, timeoutMs = 4000): Promise<Result> {
  if (!systemSsh) {
    try {
      return await router.ssh(command, { timeoutMs });
    } catch (e) {
      return { code: 255, stdout: '', stderr: (e as Error).message };
    }
  }
  return new Promise((resolve) => {
    const child = spawn(
      '/usr/bin/ssh',
      [
        '-F', '/dev/null',
        '-i', router.clientKeyFile,
        '-p', String(router.port),
        '-o', 'IdentitiesOnly=yes',
        '-o', 'StrictHostKeyChecking=no',
        '-o', 'UserKnownHostsFile=/dev/null',
        '-o', 'BatchMode=yes',
        '-o', 'ConnectTimeout=3',
        '-o', 'LogLevel=ERROR',
        `${router.user}@127.0.0.1`,
        command,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

describe.skipIf(!support.ok)(`OpenWrt test router: sshd + real uci${reason}`, () => {
  describe('default (DSA) router', () => {
    let router: OpenWrtTestRouter;
    beforeAll(async () => {
      router = await OpenWrtTestRouter.start({
        extraConfig: { firewall: "config zone 'extra_zone'\n\toption name 'extra'\n" },
      });
    });
    afterAll(async () => {
      await router?.stop();
    });

    it('runs uci over ssh with R first on PATH', { timeout: 5000 }, async () => {
      const r = await ssh(router, `${router.pathPrefix()}; uci show network.lan; command -v uci`);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("network.lan=interface\nnetwork.lan.device='br-lan'\nnetwork.lan.proto='static'");
      expect(r.stdout).toContain("network.lan.ipaddr='192.168.1.1'");
      expect(r.stdout.trim().split('\n').at(-1)).toBe(join(router.root, 'sbin/uci'));
    });

    it('is OpenWrt uci: a batch with a bad line exits 0 and reports on stderr only', { timeout: 5000 }, async () => {
      const r = await ssh(
        router,
        `${router.pathPrefix()}; printf '%s\\n' "set network.bad-name.x=1" "set network.lan.ipaddr='10.9.8.1'" | uci batch; echo "rc=$?"; uci changes network`,
      );
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('rc=0');
      expect(r.stderr).toContain('uci: Invalid argument');
      expect(r.stdout).toContain("network.lan.ipaddr='10.9.8.1'");
      // staged only: not written yet, visible to the local uci() through the same staging dir
      expect(router.readConfig('network')).toContain("option ipaddr '192.168.1.1'");
      expect(router.uci(['changes', 'network'])).toContain("network.lan.ipaddr='10.9.8.1'");
      expect(existsSync(join(router.root, 'tmp/.uci/network'))).toBe(true);
      router.uci(['revert', 'network']);
      // stdin for batch/import; a failing command throws with uci's message
      router.uci(['batch'], "set network.lan.proto='dhcp'\n");
      expect(router.uci(['get', 'network.lan.proto'])).toBe('dhcp');
      router.uci(['revert', 'network']);
      expect(() => router.uci(['get', 'network.nosuch.option'])).toThrow(/uci: Entry not found/);
      expect(router.uci(['changes', 'network'])).toBe('');
    });

    it('uci commit writes R/etc/config; the service stubs log', { timeout: 5000 }, async () => {
      const R = router.root;
      const r = await ssh(
        router,
        `${router.pathPrefix()}; uci set network.lan.ipaddr='10.1.2.1' && uci commit network && ` +
          `${R}/etc/init.d/network reload && ${R}/etc/init.d/firewall reload && ${R}/etc/init.d/dnsmasq restart && echo ok`,
      );
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe('ok');
      expect(router.readConfig('network')).toContain("option ipaddr '10.1.2.1'");
      expect(router.uci(['get', 'network.lan.ipaddr'])).toBe('10.1.2.1');
      expect(router.uci(['changes'])).toBe('');
      expect(router.serviceCalls()).toEqual(['network reload', 'firewall reload', 'dnsmasq restart']);
      for (const line of router.serviceLog()) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\S+ (network|firewall|dnsmasq) /);
    });

    it('ships OpenWrt 23.05 defaults (and the extra config)', () => {
      const fw = router.uci(['show', 'firewall']);
      expect(fw).toContain("firewall.@defaults[0].input='REJECT'");
      expect(fw).toContain("firewall.@zone[0].name='lan'");
      expect(fw).toContain("firewall.@zone[1].network='wan' 'wan6'");
      expect(fw).toContain("firewall.@zone[1].masq='1'");
      expect(fw).toContain("firewall.@forwarding[0].dest='wan'");
      expect(fw).toContain("firewall.extra_zone.name='extra'");
      const rules = [...fw.matchAll(/^firewall\.@rule\[\d+\]\.name='([^']+)'$/gm)].map((m) => m[1]);
      expect(rules).toEqual([
        'Allow-DHCP-Renew', 'Allow-Ping', 'Allow-IGMP', 'Allow-DHCPv6', 'Allow-MLD',
        'Allow-ICMPv6-Input', 'Allow-ICMPv6-Forward', 'Allow-IPSec-ESP', 'Allow-ISAKMP',
      ]);
      const net = router.uci(['show', 'network']);
      expect(net).toContain("network.@device[0].name='br-lan'");
      expect(net).toContain("network.@device[0].ports='lan1' 'lan2' 'lan3' 'lan4'");
      expect(net).toContain("network.wan6.device='wan'");
      expect(net).toMatch(/network\.globals\.ula_prefix='fd[0-9a-f:]+\/48'/);
      const dhcp = router.uci(['show', 'dhcp']);
      expect(dhcp).toContain("dhcp.@dnsmasq[0].domain='lan'");
      expect(dhcp).toContain("dhcp.lan.leasetime='12h'");
      expect(dhcp).toContain("dhcp.wan.ignore='1'");
      expect(dhcp).toContain('dhcp.odhcpd=odhcpd');
      expect(readFileSync(join(router.root, 'etc/openwrt_release'), 'utf8')).toContain("DISTRIB_RELEASE='23.05.5'");
    });

    it('exposes the host key fingerprint exactly as ssh-keygen -lf prints it', () => {
      const printed = execFileSync('ssh-keygen', ['-lf', `${router.hostKeyFile}.pub`], { encoding: 'utf8' });
      expect(printed.split(' ')[1]).toBe(router.hostKeyFingerprint);
      expect(router.hostKeyFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
      const pub = readFileSync(`${router.hostKeyFile}.pub`, 'utf8').split(' ');
      expect(router.knownHostsLine).toBe(`[127.0.0.1]:${router.port} ssh-ed25519 ${pub[1]}`);
    });

    it.skipIf(!systemSsh)(`the known_hosts line verifies the server under StrictHostKeyChecking=yes${systemSsh ? '' : ' (skipped: no /usr/bin/ssh: apt-get install openssh-client)'}`, { timeout: 5000 }, () => {
      const out = execFileSync(
        '/usr/bin/ssh',
        ['-F', '/dev/null', '-i', router.clientKeyFile, '-p', String(router.port), '-o', 'IdentitiesOnly=yes',
          '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${router.knownHostsFile}`,
          `${router.user}@127.0.0.1`, 'echo verified'],
        { encoding: 'utf8', timeout: 4000 },
      );
      expect(out.trim()).toBe('verified');
    });

    it('node-ssh path works too (host key checked)', { timeout: 5000 }, async () => {
      const r = await router.ssh(`${router.pathPrefix()}; uci get network.lan.proto`);
      expect(r).toEqual({ code: 0, stdout: 'static\n', stderr: '' });
    });

    it('a background job outlives its session', { timeout: 5000 }, async () => {
      const bg = join(router.root, 'tmp/bg-session');
      const r = await ssh(router, `( sleep 1; echo done > ${bg} ) </dev/null >/dev/null 2>&1 & echo started`);
      expect(r.stdout.trim()).toBe('started');
      expect(existsSync(bg)).toBe(false);
      expect(await waitFor(() => existsSync(bg), 3000)).toBe(true);
      expect(readFileSync(bg, 'utf8')).toBe('done\n');
    });
  });

  it('swconfig-like router (dsa: false) has no bridge device', { timeout: 5000 }, async () => {
    const router = await OpenWrtTestRouter.start({ dsa: false });
    try {
      const net = router.uci(['show', 'network']);
      expect(net).not.toContain('@device');
      expect(net).not.toContain('br-lan');
      expect(net).toContain("network.lan.device='eth0'");
      expect(net).toContain("network.wan.device='eth1'");
    } finally {
      await router.stop();
    }
  });

  describe('cut-off on network reload', () => {
    let router: OpenWrtTestRouter;
    beforeAll(async () => {
      router = await OpenWrtTestRouter.start({ onNetworkReload: 'cut-off' });
    });
    afterAll(async () => {
      await router?.stop();
    });

    it('refuses new connections; open sessions and background jobs live on', { timeout: 5000 }, async () => {
      const R = router.root;
      const listenerPid = router.sshdPid;
      expect(listenerPid).toBeTypeOf('number');
      // a session already open before the cut-off
      const other = ssh(router, 'sleep 1.2; echo alive', 4500);
      await new Promise((r) => setTimeout(r, 300));
      const r = await ssh(
        router,
        `( sleep 1; echo done > ${R}/tmp/bg ) </dev/null >/dev/null 2>&1 & ` +
          `${R}/etc/init.d/network reload; echo "reload rc=$?"; sleep 0.2; echo still-here`,
      );
      expect(r.stdout).toBe('reload rc=0\nstill-here\n');
      expect(r.code).toBe(0);
      expect(router.serviceCalls()).toEqual(['network reload']);
      expect(await waitFor(() => !router.sshdRunning(), 1000)).toBe(true);
      const refused = await ssh(router, 'echo should-not-run', 3000);
      expect(refused.code).not.toBe(0);
      expect(refused.stdout).toBe('');
      expect(await other).toEqual({ code: 0, stdout: 'alive\n', stderr: '' });
      expect(await waitFor(() => existsSync(join(R, 'tmp/bg')), 2500)).toBe(true);
      expect(readFileSync(join(R, 'tmp/bg'), 'utf8')).toBe('done\n');
    });

    it('restartSshd brings the listener back on the same port with the same host key', { timeout: 5000 }, async () => {
      const port = router.port;
      await router.restartSshd();
      expect(router.port).toBe(port);
      router.setNetworkReload('ok');
      const R = router.root;
      const r = await router.ssh(`${R}/etc/init.d/network reload; echo back`); // host key checked here
      expect(r.stdout).toBe('back\n');
      expect(router.sshdRunning()).toBe(true);
      const r2 = await ssh(router, 'echo again');
      expect(r2.stdout).toBe('again\n');
    });
  });

  it('stop kills sshd and removes the scratch directory', { timeout: 5000 }, async () => {
    const router = await OpenWrtTestRouter.start();
    const pid = router.sshdPid;
    expect(pid).toBeTypeOf('number');
    const r = await ssh(router, 'echo hi');
    expect(r.stdout).toBe('hi\n');
    await router.stop();
    expect(() => process.kill(pid as number, 0)).toThrow();
    expect(existsSync(router.scratch)).toBe(false);
    expect(existsSync(router.root)).toBe(false);
  });

  it('stop also ends sessions still open and their background jobs, even after a cut-off', { timeout: 5000 }, async () => {
    const router = await OpenWrtTestRouter.start({ onNetworkReload: 'cut-off' });
    const started = Date.now();
    const open = ssh(
      router,
      `( sleep 20 ) </dev/null >/dev/null 2>&1 & echo "$$ $!"; ${router.root}/etc/init.d/network reload; sleep 20; echo not-reached`,
      4500,
    );
    expect(await waitFor(() => !router.sshdRunning(), 2000)).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    await router.stop();
    const r = await open;
    expect(r.code).not.toBe(0);
    const pids = r.stdout.trim().split(' ').map(Number);
    expect(pids).toHaveLength(2);
    // orphans are reaped by pid 1 in its own time: a zombie counts as gone
    for (const pid of pids) expect(pidAlive(pid), `pid ${pid}`).toBe(false);
    expect(Date.now() - started).toBeLessThan(8_000);
  });
});
