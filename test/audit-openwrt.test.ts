// The audit on OpenWrt: flows of the spec against the live fw4 config as a whole. The live state is OpenWrt's
// first-boot configs (test/fixtures/openwrt-defaults, from ../shared/openwrt-fw4/defaults) with flatnet's
// sections appended (the openwrt-config snippets), then hand-edited the way users break isolation: a foreign
// accept rule (fw4 order: rules before forwardings, in file order), a forwarding, a disabled rule, a src_ip /
// ipset rule, a harmless foreign rule, the flatnet network listed in the LAN zone.
// (b) checks every verdict against OpenWrt's real fw4 and the kernel's nftables with real traffic
// (../shared/openwrt-fw4, root only): the same configs, and the examples with an OpenWrt router.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { modelFromText, type Model } from '../src/index.js';
import type { OpenWrtRouter } from '../src/model.js';
import { isFinding, renderFlowTable, toFinding, type FlowResult } from '../src/audit/findings.js';
import { flowsOf } from '../src/audit/flows.js';
import { auditOpenWrt, evaluatePacket, interfaceDevices } from '../targets/openwrt/audit.js';
import { renderConfigFiles } from '../targets/openwrt/config.js';
import { parseUciExport } from '../targets/openwrt/uci.js';
import { sharedDir } from './fakes/shared-dir.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const DEFAULTS = join(HERE, 'fixtures', 'openwrt-defaults');

const SPEC = `version: 1
routers:
  edge:
    type: openwrt
    address: 192.168.1.1
    password-env: P
    device: br-lan
hosts:
  nas:
    parent: eth0
networks:
  media:
    router: edge
    host: nas
    vlan: 20
    subnet: 10.20.0.0/24
    gateway: 10.20.0.1
    container-range: 10.20.0.64/26
    ipv6:
      subnet: fd00:20::/64
      gateway: fd00:20::1
      container-range: fd00:20::1000/116
    firewall:
      from: [lan]
      to: [cams]
      allow-input: [dns, icmp]
  cams:
    router: edge
    host: nas
    vlan: 30
    subnet: 10.30.0.0/24
    gateway: 10.30.0.1
    container-range: 10.30.0.64/26
    firewall:
      internet: false
      from: [lan]
      allow-input: [dns]
`;

interface Configs {
  network: string;
  firewall: string;
  dhcp: string;
}

const model = modelFromText(SPEC);
const router = model.routers[0] as OpenWrtRouter;

/** OpenWrt's first-boot configs with flatnet's snippets appended (what an apply leaves). */
function applied(m: Model, r: OpenWrtRouter): Configs {
  const files = new Map(renderConfigFiles(m, r).map((f) => [f.config, f.content]));
  const read = (c: keyof Configs) => `${readFileSync(join(DEFAULTS, c), 'utf8')}\n${files.get(c) ?? ''}`;
  return { network: read('network'), firewall: read('firewall'), dhcp: read('dhcp') };
}

const base = applied(model, router);
const audit = (c: Configs, m: Model = model, r: OpenWrtRouter = router) => auditOpenWrt(m, r, parseUciExport(c.firewall, 'firewall'), parseUciExport(c.network, 'network'));
const byFlow = (results: FlowResult[], label: string) => {
  const r = results.find((x) => x.flow.label === label);
  if (!r) throw new Error(`no flow ${label}: ${results.map((x) => x.flow.label).join(', ')}`);
  return r;
};
const findings = (c: Configs) => audit(c).filter(isFinding);
const withFirewall = (c: Configs, edit: (text: string) => string): Configs => ({ ...c, firewall: edit(c.firewall) });
/** inserts a section before the section header `before` (fw4 reads rules in file order) */
const insertBefore = (before: string, section: string) => (text: string) => {
  const at = text.indexOf(before);
  if (at < 0) throw new Error(`no ${before}`);
  return `${text.slice(0, at)}${section}\n\n${text.slice(at)}`;
};
const append = (section: string) => (text: string) => `${text}\n${section}\n`;

const FOREIGN_CAMS_TO_LAN = `config rule 'cams_to_lan'
\toption name 'Allow-Cams-To-Lan'
\toption src 'fn_vlan30'
\toption dest 'lan'
\toption proto 'all'
\toption target 'ACCEPT'`;

/** The hand-built configs: each is also measured against the real fw4 in (b). */
const VARIANTS: Record<string, Configs> = {
  'as applied': base,
  'foreign accept cams → lan above flatnet rules': withFirewall(base, insertBefore("config rule 'flatnet_media_icmpv6_nd'", FOREIGN_CAMS_TO_LAN)),
  'foreign reject of dns above flatnet accept': withFirewall(
    base,
    insertBefore("config rule 'flatnet_cams_dns'", `config rule 'no_dns'\n\toption src 'fn_vlan30'\n\toption proto 'tcp udp'\n\toption dest_port '53'\n\toption target 'REJECT'`),
  ),
  'foreign reject of dns below flatnet accept': withFirewall(base, append(`config rule 'no_dns'\n\toption src 'fn_vlan30'\n\toption proto 'tcp udp'\n\toption dest_port '53'\n\toption target 'REJECT'`)),
  'forwarding added by the user': withFirewall(base, append(`config forwarding 'cams_lan'\n\toption src 'fn_vlan30'\n\toption dest 'lan'`)),
  'foreign accept disabled': withFirewall(base, append(FOREIGN_CAMS_TO_LAN.replace("option target 'ACCEPT'", "option target 'ACCEPT'\n\toption enabled '0'"))),
  'flatnet forwarding disabled': withFirewall(base, (t) => t.replace("config forwarding 'flatnet_media_wan'", "config forwarding 'flatnet_media_wan'\n\toption enabled '0'")),
  'src_ip rule': withFirewall(base, append(`config rule 'one_cam'\n\toption src 'fn_vlan30'\n\toption src_ip '10.30.0.5'\n\toption dest 'lan'\n\toption target 'ACCEPT'`)),
  'ipset rule': withFirewall(
    base,
    append(`config ipset\n\toption name 'trusted'\n\toption match 'src_ip'\n\toption family 'ipv4'\n\tlist entry '10.30.0.5'\n\nconfig rule 'trusted_cams'\n\toption src 'fn_vlan30'\n\toption ipset 'trusted'\n\toption dest 'lan'\n\toption target 'ACCEPT'`),
  ),
  'harmless foreign rules': withFirewall(
    base,
    append(
      [
        `config rule 'nas_https'\n\toption src 'wan'\n\toption dest 'lan'\n\toption dest_ip '192.168.1.9'\n\toption proto 'tcp'\n\toption dest_port '443'\n\toption target 'ACCEPT'`,
        `config rule\n\toption name 'lan ssh'\n\toption src 'lan'\n\toption proto 'tcp'\n\toption dest_port '22'\n\toption target 'ACCEPT'`,
        `config rule 'lan_no_telnet'\n\toption src 'lan'\n\toption dest 'wan'\n\toption proto 'tcp'\n\toption dest_port '23'\n\toption target 'REJECT'`,
      ].join('\n\n'),
    ),
  ),
  'cams listed in the lan zone': withFirewall(base, (t) => t.replace(/(list\s+network\s+'lan')/, "$1\n\tlist network 'flatnet_cams'")),
  'foreign IPv6-only accept media → lan': withFirewall(base, append(`config rule 'media_lan_v6'\n\toption src 'fn_vlan20'\n\toption dest 'lan'\n\toption family 'ipv6'\n\toption target 'ACCEPT'`)),
  'foreign icmp accept and ssh range': withFirewall(
    base,
    append(`config rule 'cams_ping'\n\toption src 'fn_vlan30'\n\toption proto 'icmp'\n\tlist icmp_type 'echo-request'\n\toption target 'ACCEPT'\n\nconfig rule 'cams_admin'\n\toption src 'fn_vlan30'\n\toption proto 'tcp'\n\toption dest_port '20-25 8080'\n\toption target 'ACCEPT'`),
  ),
  'global rules (src *)': withFirewall(
    base,
    append(`config rule 'any_to_lan'\n\toption src '*'\n\toption dest 'lan'\n\toption proto 'all'\n\toption target 'ACCEPT'\n\nconfig rule 'any_ssh'\n\toption src '*'\n\toption proto 'tcp'\n\toption dest_port '22'\n\toption target 'ACCEPT'`),
  ),
  'cams to any zone (dest *)': withFirewall(base, append(`config rule 'cams_anywhere'\n\toption src 'fn_vlan30'\n\toption dest '*'\n\toption proto 'all'\n\toption target 'ACCEPT'`)),
  'defaults forward ACCEPT': withFirewall(base, (t) => t.replace(/(config defaults[^]*?option forward\s+)REJECT/, '$1ACCEPT')),
  'cams zone input and forward ACCEPT': withFirewall(base, (t) => t.replace(/(config zone 'flatnet_cams'[^]*?option input )'REJECT'([^]*?option forward )'REJECT'/, "$1'ACCEPT'$2'ACCEPT'")),
  'media zone IPv4 only': withFirewall(base, (t) => t.replace("config zone 'flatnet_media'", "config zone 'flatnet_media'\n\toption family 'ipv4'")),
};

describe('OpenWrt audit: flows of the spec against the live fw4 config', () => {
  it('flatnet as applied onto OpenWrt defaults: every flow as the spec says', () => {
    const results = audit(base);
    expect(results.filter(isFinding).map((r) => toFinding(r).message)).toEqual([]);
    expect(results.length).toBeGreaterThan(15);
    // deciding rules: flatnet's forwarding, zone policy, the defaults, flatnet's rule
    expect(byFlow(results, 'media → internet').rule).toMatchObject({ id: 'flatnet_media_wan', chain: 'forwarding', owned: true });
    expect(byFlow(results, 'cams → internet').rule).toMatchObject({ chain: 'defaults', owned: false, text: 'defaults input REJECT forward REJECT' });
    expect(byFlow(results, 'lan → cams').rule).toMatchObject({ id: 'flatnet_cams_from_lan', owned: true });
    expect(byFlow(results, 'media → router dns (udp/53)').rule).toMatchObject({ id: 'flatnet_media_dns', chain: 'rule', comment: 'flatnet media dns', owned: true });
    expect(byFlow(results, 'media → router ssh (tcp/22)').rule).toMatchObject({ id: 'flatnet_media', chain: 'zone', text: 'zone fn_vlan20 input REJECT', owned: true });
    expect(byFlow(results, 'media → cams').rule).toMatchObject({ id: 'flatnet_media_to_cams', owned: true });
    expect(byFlow(results, 'cams → media').rule?.chain).toBe('defaults');
    // IPv6 flows of the dual-stack network
    expect(byFlow(results, 'media → internet (IPv6)').live).toBe('accept');
    expect(byFlow(results, 'media → router icmp (icmpv6) (IPv6)').live).toBe('accept');
  });

  it('a foreign rule accepting cams → lan: fw4 puts rules before forwardings and zone policies', () => {
    const results = audit(VARIANTS['foreign accept cams → lan above flatnet rules']!);
    const bad = results.filter(isFinding);
    expect(bad.map((r) => r.flow.label)).toEqual(['cams → lan']);
    expect(bad[0]!.rule).toMatchObject({ id: 'cams_to_lan', chain: 'rule', comment: 'Allow-Cams-To-Lan', owned: false });
    expect(toFinding(bad[0]!).message).toContain('foreign rule');
  });

  it('rule order: a foreign reject above flatnet accept decides, below it does not', () => {
    const above = findings(VARIANTS['foreign reject of dns above flatnet accept']!);
    expect(above.map((r) => [r.flow.label, r.live, r.rule?.id])).toEqual([
      ['cams → router dns (udp/53)', 'drop', 'no_dns'],
      ['cams → router dns (tcp/53)', 'drop', 'no_dns'],
    ]);
    expect(findings(VARIANTS['foreign reject of dns below flatnet accept']!)).toEqual([]);
  });

  it('a forwarding added by the user accepts cams → lan', () => {
    const bad = findings(VARIANTS['forwarding added by the user']!);
    expect(bad.map((r) => [r.flow.label, r.live, r.rule?.id, r.rule?.chain, r.rule?.owned])).toEqual([['cams → lan', 'accept', 'cams_lan', 'forwarding', false]]);
  });

  it('disabled sections are skipped: a foreign accept (no finding), flatnet forwarding (a finding)', () => {
    expect(findings(VARIANTS['foreign accept disabled']!)).toEqual([]);
    const bad = findings(VARIANTS['flatnet forwarding disabled']!);
    expect(bad.map((r) => [r.flow.label, r.live, r.rule?.chain])).toEqual([
      ['media → internet', 'drop', 'defaults'],
      ['media → internet (IPv6)', 'drop', 'defaults'],
    ]);
  });

  it('a rule with src_ip or ipset may match: the flow cannot be decided, and says why', () => {
    for (const [variant, why] of [
      ['src_ip rule', 'src_ip 10.30.0.5'],
      ['ipset rule', 'ipset trusted'],
    ] as const) {
      const bad = findings(VARIANTS[variant]!);
      expect(bad.map((r) => [r.flow.label, r.live])).toEqual([['cams → lan', 'undecided']]);
      expect(bad[0]!.rule?.id).toBe(variant === 'src_ip rule' ? 'one_cam' : 'trusted_cams');
      expect(bad[0]!.undecidedBecause).toContain(why);
      expect(toFinding(bad[0]!).message).toContain('cannot be decided');
    }
    // the src_ip is IPv4 only: fw4 makes the rule an IPv4 rule (no IPv6 flow is touched)
    const v6 = audit(VARIANTS['src_ip rule']!).filter((r) => r.flow.family === 6);
    expect(v6.every((r) => r.live === r.flow.expected)).toBe(true);
  });

  it('harmless foreign rules: no finding', () => {
    expect(findings(VARIANTS['harmless foreign rules']!)).toEqual([]);
  });

  it('the flatnet network listed in the LAN zone: it is LAN now (input, lan, internet, other networks)', () => {
    const bad = findings(VARIANTS['cams listed in the lan zone']!);
    const labels = bad.map((r) => r.flow.label);
    expect(labels).toEqual(expect.arrayContaining(['cams → lan', 'cams → internet', 'cams → media', 'cams → router ssh (tcp/22)']));
    expect(bad.every((r) => r.live === 'accept')).toBe(true);
    expect(byFlow(bad, 'cams → lan').rule).toMatchObject({ chain: 'zone', id: '@zone[0]', text: 'zone lan forward ACCEPT (traffic within the zone); br-lan.30 (network cams) is also in zone lan' });
    expect(byFlow(bad, 'cams → media').rule).toMatchObject({ id: 'flatnet_media_from_lan', text: expect.stringContaining('is also in zone lan') });
    expect(byFlow(bad, 'cams → internet').rule).toMatchObject({ chain: 'forwarding', id: '@forwarding[0]' });
    expect(toFinding(byFlow(bad, 'cams → lan')).advice).toBe("br-lan.30 (network cams) is also in zone lan, so rules meant for it decide the flatnet network's traffic too: take it out");
    // the LAN side is still the LAN's own device (br-lan), not the flatnet VLAN
    expect(byFlow(audit(VARIANTS['cams listed in the lan zone']!), 'lan → media').live).toBe('accept');
  });

  it('family and ICMP types: an IPv6-only accept, an echo-request accept, a port range', () => {
    const v6 = findings(VARIANTS['foreign IPv6-only accept media → lan']!);
    expect(v6.map((r) => [r.flow.label, r.live])).toEqual([['media → lan (IPv6)', 'accept']]);
    const svc = findings(VARIANTS['foreign icmp accept and ssh range']!);
    expect(svc.map((r) => [r.flow.label, r.live, r.rule?.id])).toEqual([['cams → router ssh (tcp/22)', 'accept', 'cams_admin']]);
    // cams' icmp is not a flow of the spec (only ssh, the denied one): the packet itself is accepted
    const net = parseUciExport(base.network, 'network');
    const fw = parseUciExport(VARIANTS['foreign icmp accept and ssh range']!.firewall, 'firewall');
    expect(evaluatePacket(fw, net, { hook: 'input', family: 4, iif: 'br-lan.30', proto: 'icmp', icmpType: 8 }).verdict).toBe('accept');
    expect(evaluatePacket(fw, net, { hook: 'input', family: 4, iif: 'br-lan.30', proto: 'tcp', dport: 8080 }).verdict).toBe('accept');
    expect(evaluatePacket(fw, net, { hook: 'input', family: 4, iif: 'br-lan.30', proto: 'tcp', dport: 26 }).rule?.chain).toBe('zone');
  });

  it('rules from any zone (src *) and to any zone (dest *)', () => {
    const global = findings(VARIANTS['global rules (src *)']!);
    expect(global.map((r) => [r.flow.label, r.live, r.rule?.id])).toEqual([
      ['media → lan', 'accept', 'any_to_lan'],
      ['media → router ssh (tcp/22)', 'accept', 'any_ssh'],
      ['media → lan (IPv6)', 'accept', 'any_to_lan'],
      ['media → router ssh (tcp/22) (IPv6)', 'accept', 'any_ssh'],
      ['cams → lan', 'accept', 'any_to_lan'],
      ['cams → router ssh (tcp/22)', 'accept', 'any_ssh'],
    ]);
    const any = findings(VARIANTS['cams to any zone (dest *)']!);
    expect(any.map((r) => [r.flow.label, r.live, r.rule?.id])).toEqual([
      ['cams → internet', 'accept', 'cams_anywhere'],
      ['cams → lan', 'accept', 'cams_anywhere'],
      ['cams → media', 'accept', 'cams_anywhere'],
    ]);
  });

  it("policies: the defaults' forward decides between zones, a zone's forward only within it, its input for the router", () => {
    const defaults = findings(VARIANTS['defaults forward ACCEPT']!);
    expect(defaults.map((r) => [r.flow.label, r.live, r.rule?.chain])).toEqual([
      ['media → lan', 'accept', 'defaults'],
      ['media → lan (IPv6)', 'accept', 'defaults'],
      ['cams → internet', 'accept', 'defaults'],
      ['cams → lan', 'accept', 'defaults'],
      ['cams → media', 'accept', 'defaults'],
    ]);
    const zone = findings(VARIANTS['cams zone input and forward ACCEPT']!);
    expect(zone.map((r) => [r.flow.label, r.live, r.rule?.id, r.rule?.text])).toEqual([['cams → router ssh (tcp/22)', 'accept', 'flatnet_cams', 'zone fn_vlan30 input ACCEPT']]);
  });

  it('a zone restricted to IPv4: its IPv6 flows meet no zone and the defaults drop them', () => {
    const bad = findings(VARIANTS['media zone IPv4 only']!);
    expect(bad.map((r) => [r.flow.label, r.live, r.rule?.chain])).toEqual([
      ['media → internet (IPv6)', 'drop', 'defaults'],
      ['lan → media (IPv6)', 'drop', 'defaults'],
      ['media → router dns (udp/53) (IPv6)', 'drop', 'defaults'],
      ['media → router dns (tcp/53) (IPv6)', 'drop', 'defaults'],
      ['media → router icmp (icmpv6) (IPv6)', 'drop', 'defaults'],
    ]);
  });

  it('missing pieces are undecided, never guessed: no flatnet interface, no lan zone', () => {
    const noIface = audit({ ...base, network: base.network.replace("config interface 'flatnet_cams'", "config interface 'flatnet_cams'\n\toption disabled '1'") });
    expect(byFlow(noIface, 'cams → lan')).toMatchObject({ live: 'undecided', undecidedBecause: expect.stringContaining('network.flatnet_cams') });
    const noLan = audit(withFirewall(base, (t) => t.replace(/option name\s+lan\b/, 'option name\t\thome')));
    expect(byFlow(noLan, 'media → lan')).toMatchObject({ live: 'undecided', undecidedBecause: expect.stringContaining('"lan"') });
  });

  it('devices as netifd names them: device, legacy ifname and bridges, pppoe, aliases', () => {
    const net = parseUciExport(
      `config interface 'a'\n\toption device 'eth0.5'\nconfig interface 'b'\n\toption ifname 'eth1'\n\toption type 'bridge'\nconfig interface 'wan'\n\toption device 'eth2'\n\toption proto 'pppoe'\nconfig interface 'c'\n\toption device '@wan'\nconfig interface 'd'\n\toption device 'x'\n\toption disabled '1'`,
      'network',
    );
    expect([...interfaceDevices(net)]).toEqual([
      ['a', 'eth0.5'],
      ['b', 'br-b'],
      ['wan', 'pppoe-wan'],
      ['c', 'pppoe-wan'],
    ]);
  });

  it('the flow table of one network names the deciding section', () => {
    const table = renderFlowTable(flowsOf(audit(VARIANTS['forwarding added by the user']!), 'cams'));
    expect(table).toContain('cams → lan');
    expect(table).toContain('FINDING');
    expect(table).toContain('foreign rule #');
  });

  it('2,000 foreign rules and 50 networks: every flow decided, no finding (bench/audit.mjs times it)', () => {
    const nets = Array.from({ length: 50 }, (_, i) => `  n${i}:\n    router: edge\n    host: nas\n    vlan: ${100 + i}\n    subnet: 10.${100 + i}.0.0/24\n    gateway: 10.${100 + i}.0.1\n    container-range: 10.${100 + i}.0.64/26\n    firewall:\n      from: [lan]\n      allow-input: [dns, icmp]\n`).join('');
    const big = modelFromText(`${SPEC.slice(0, SPEC.indexOf('networks:'))}networks:\n${nets}`);
    const bigRouter = big.routers[0] as OpenWrtRouter;
    const c = applied(big, bigRouter);
    const rules = Array.from({ length: 2000 }, (_, i) => `config rule\n\toption src 'lan'\n\toption dest 'wan'\n\toption proto 'tcp'\n\toption dest_ip '198.18.${i >> 8}.${i & 255}'\n\toption dest_port '${1000 + i}'\n\toption target 'REJECT'`).join('\n\n');
    const fw = parseUciExport(`${c.firewall}\n${rules}\n`, 'firewall');
    const net = parseUciExport(c.network, 'network');
    const results = auditOpenWrt(big, bigRouter, fw, net);
    expect(results.filter(isFinding)).toEqual([]);
    expect(results.length).toBe(2800);
  });
});

// ------------------------------------------------------------------------------------------ ground truth

const LAB = process.env.FW4LAB_DIR ?? join(sharedDir, 'openwrt-fw4');
const labMissing = ((): string | undefined => {
  if (!existsSync(join(LAB, 'run.sh'))) return `${LAB}/run.sh not found (set FW4LAB_DIR)`;
  if (process.getuid?.() !== 0) return 'not root (the lab needs network namespaces)';
  if (spawnSync('nft', ['--version']).status !== 0) return 'no nft (apt-get install nftables)';
  const b = spawnSync(join(LAB, 'build.sh'), { encoding: 'utf8', timeout: 120_000 });
  if (b.status !== 0) return `${LAB}/build.sh failed: ${(b.stderr ?? '').trim().split('\n').pop()}`;
  return undefined;
})();
if (labMissing) console.warn(`audit-openwrt: the fw4 ground truth is skipped: ${labMissing}`);

interface LabRow {
  flow: string;
  probe: string;
  fw4: string;
  baseline: string;
}

let running = 0;
const waiting: Array<() => void> = [];
/** run.sh, at most three at a time (each run owns its namespaces: fw4lab-<pid>-*) */
async function runLab(args: string[]): Promise<{ rows: LabRow[]; keep: string }> {
  while (running >= 3) await new Promise<void>((r) => waiting.push(r));
  running++;
  const keep = mkdtempSync(join(tmpdir(), 'fw4lab-keep-'));
  try {
    await new Promise<void>((ok, fail) => {
      execFile(join(LAB, 'run.sh'), [...args, '--keep', keep, '--timeout', '1'], { timeout: 180_000, env: { ...process.env, FW4LAB_LIMIT: '170' } }, (err, stdout, stderr) => {
        // exit 1 is a mismatch against the lab's own expectations (none with --config): the rows still count
        if (err && (err as { code?: number }).code !== 1) fail(new Error(`run.sh ${args.join(' ')}: ${err.message}\n${stderr}\n${stdout}`));
        else ok();
      });
    });
    return { rows: JSON.parse(readFileSync(join(keep, 'results.json'), 'utf8')) as LabRow[], keep };
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/** The lab's names of our flow's ends and its probe names for our flow. */
function labKeys(flow: FlowResult['flow'], names: (network: string) => string[]): Array<{ flows: string[]; probe: string }> {
  const ends = (e: FlowResult['flow']['from']): string[] => (e.kind === 'network' ? names(e.network) : e.kind === 'lan' ? ['lan'] : e.kind === 'internet' ? ['wan'] : ['router']);
  const flows = ends(flow.from).flatMap((a) => ends(flow.to).map((b) => `${a} -> ${b}`));
  if (flow.to.kind !== 'router') return ['tcp', 'udp'].map((k) => ({ flows, probe: `${k}${flow.family}/8000` }));
  const s = flow.service!;
  const probe = s.protocol === 'icmp' || s.protocol === 'icmpv6' ? `${s.service} icmp${flow.family}` : `${s.service} ${s.protocol}${flow.family}/${s.port}`;
  return [{ flows, probe }];
}

interface Agreement {
  compared: number;
  agree: number;
  undecided: Array<{ flow: string; lab: string }>;
  disagree: string[];
  unprobed: string[];
}

function compare(results: FlowResult[], rows: LabRow[], m: Model): Agreement {
  const names = (n: string) => [n, m.networks.find((x) => x.name === n)!.names.uciSection];
  const out: Agreement = { compared: 0, agree: 0, undecided: [], disagree: [], unprobed: [] };
  for (const r of results) {
    const measured = labKeys(r.flow, names).map((k) => rows.filter((row) => k.flows.includes(row.flow) && row.probe === k.probe && ['open', 'reply'].includes(row.baseline)));
    if (measured.some((x) => x.length !== 1)) {
      out.unprobed.push(r.flow.label);
      continue;
    }
    const verdicts = new Set(measured.map((x) => (x[0]!.fw4 === 'allowed' ? 'accept' : 'drop')));
    const lab = verdicts.size === 1 ? [...verdicts][0]! : 'mixed';
    if (r.live === 'undecided') {
      out.undecided.push({ flow: r.flow.label, lab });
      continue;
    }
    out.compared++;
    if (r.live === lab) out.agree++;
    else out.disagree.push(`${r.flow.label}: evaluator ${r.live} (${r.rule?.text ?? 'no rule'}), fw4 ${lab}`);
  }
  return out;
}

const EXAMPLES = ['openwrt-vlan.yaml', 'openwrt-trunk.yaml', 'openwrt-switched.yaml'];
const totals: Agreement & { cases: number } = { cases: 0, compared: 0, agree: 0, undecided: [], disagree: [], unprobed: [] };
const tally = (name: string, a: Agreement) => {
  totals.cases++;
  totals.compared += a.compared;
  totals.agree += a.agree;
  totals.undecided.push(...a.undecided.map((u) => ({ ...u, flow: `${name}: ${u.flow}` })));
  totals.disagree.push(...a.disagree.map((d) => `${name}: ${d}`));
  totals.unprobed.push(...a.unprobed.map((d) => `${name}: ${d}`));
};

describe.skipIf(labMissing !== undefined).concurrent(`OpenWrt audit agrees with the real fw4 + nftables (../shared/openwrt-fw4)${labMissing !== undefined ? ` (skipped: ${labMissing})` : ''}`, () => {
  for (const example of EXAMPLES) {
    it(`example ${example}: every decided flow as fw4 measures it`, async () => {
      const text = readFileSync(join(ROOT, 'examples', example), 'utf8');
      const m = modelFromText(text, example);
      const r = m.routers.find((x) => x.type === 'openwrt' && x.kind !== 'switch') as OpenWrtRouter;
      // flatnet's openwrt-config snippets, merged onto OpenWrt's defaults by the lab with the real uci
      const snippets = mkdtempSync(join(tmpdir(), 'fw4lab-snippets-'));
      for (const f of renderConfigFiles(m, r)) writeFileSync(join(snippets, f.config), f.content);
      const { rows, keep } = await runLab(['--snippets', snippets, '--spec', join(ROOT, 'examples', example), '--router', r.name]);
      const conf = (c: string) => parseUciExport(readFileSync(join(keep, 'etc-config', c), 'utf8'), c);
      const results = auditOpenWrt(m, r, conf('firewall'), conf('network'));
      const a = compare(results, rows, m);
      tally(example, a);
      rmSync(snippets, { recursive: true, force: true });
      rmSync(keep, { recursive: true, force: true });
      expect(a.disagree).toEqual([]);
      expect(a.undecided).toEqual([]);
      expect(a.compared).toBeGreaterThan(5);
      expect(a.unprobed.filter((f) => !f.endsWith('(IPv6)'))).toEqual([]);
    }, 200_000);
  }
  for (const [name, c] of Object.entries(VARIANTS)) {
    it(`config "${name}": every decided flow as fw4 measures it`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'fw4lab-config-'));
      mkdirSync(dir, { recursive: true });
      for (const f of ['network', 'firewall', 'dhcp'] as const) writeFileSync(join(dir, f), c[f]);
      const { rows, keep } = await runLab(['--config', dir]);
      const results = audit(c);
      const a = compare(results, rows, model);
      tally(name, a);
      rmSync(dir, { recursive: true, force: true });
      rmSync(keep, { recursive: true, force: true });
      expect(a.disagree).toEqual([]);
      expect(a.compared).toBeGreaterThan(15);
      // the lab probes IPv6 router services dns/udp, icmp and ssh only
      expect(a.unprobed.filter((f) => !f.endsWith('(IPv6)'))).toEqual([]);
      // an undecided flow is only where the verdict depends on what the evaluator does not model
      for (const u of a.undecided) expect(['src_ip rule', 'ipset rule']).toContain(name);
    }, 200_000);
  }
});

describe.skipIf(labMissing !== undefined)(`OpenWrt audit vs fw4: the figures${labMissing !== undefined ? ` (skipped: ${labMissing})` : ''}`, () => {
  it('all compared flows agree', () => {
    console.log(
      `audit-openwrt vs fw4: ${totals.cases} configs, ${totals.compared} decided flows compared, ${totals.agree} agree; ${totals.undecided.length} undecided (${totals.undecided.map((u) => `${u.flow} [fw4: ${u.lab}]`).join('; ')}); ${totals.unprobed.length} flows without a probe (${[...new Set(totals.unprobed.map((u) => u.replace(/^[^:]*: /, '')))].join(', ')})`,
    );
    expect(totals.cases).toBe(EXAMPLES.length + Object.keys(VARIANTS).length);
    expect(totals.disagree).toEqual([]);
    expect(totals.agree).toBe(totals.compared);
  });
});
