// OpenWrt switches and the path (issue 16): a switch gets only bridge-vlan sections (its LAN's, and one per VLAN
// it carries: the ports the path tags `:t`, its access ports `:u*`); a router's network bridge-vlans carry its
// trunk-ports plus the ports the path derives. The pure parts first (desired sections, live checks, the diff),
// then the generated batch in OpenWrt's real uci, then plan/apply over SSH against the OpenWrt test router
// (OpenSSH's sshd on 127.0.0.1 running OpenWrt's own uci on a scratch root).
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { generate, loadModel, modelFromText, type Model, type OpenWrtRouter } from '../src/index.js';
import { renderConfigFiles } from '../targets/openwrt/config.js';
import { planOpenWrt, type OpenWrtLive } from '../targets/openwrt/diff.js';
import { desiredState, renderBatch, type UciSection } from '../targets/openwrt/index.js';
import { OpenWrtUnit } from '../targets/openwrt/push.js';
import { parseUciExport, type ExportedSection } from '../targets/openwrt/uci.js';
import { OpenWrtCli } from './fakes/openwrt-cli.js';
import { defaultOpenWrtConfig, openwrtTestSupport, type OpenWrtTestRouter } from './fakes/openwrt-router.js';
import { sharedDir } from './fakes/shared-dir.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

interface PathOptions {
  /** a second host on sw1:lan2 in network apps (one more port the path tags) */
  nas2?: boolean;
  /** cams' access ports (default: sw1:lan4) */
  camsAccess?: string[];
  /** nas's port (default sw1:lan3) */
  nasPort?: string;
  /** switch keys on top (lan-ports, lan-interface, uplink, ...) */
  switchExtra?: Record<string, unknown>;
  /** edge's keys on top */
  edgeExtra?: Record<string, unknown>;
  /** no networks at all */
  noNetworks?: boolean;
}

/** examples/openwrt-switched.yaml's shape: router edge, switch sw1 (uplink lan1 → edge:lan2), nas on sw1, a camera on sw1:lan4. */
function pathSpec(edge: Record<string, unknown>, sw: Record<string, unknown>, o: PathOptions = {}): Record<string, unknown> {
  return {
    version: 1,
    routers: { edge: { ...edge, ...o.edgeExtra } },
    switches: { sw1: { ...sw, uplink: 'lan1', 'connected-to': 'edge:lan2', ...o.switchExtra } },
    hosts: {
      nas: { parent: 'eth0', 'connected-to': o.nasPort ?? 'sw1:lan3' },
      ...(o.nas2 ? { nas2: { parent: 'eth0', 'connected-to': 'sw1:lan2' } } : {}),
    },
    networks: o.noNetworks
      ? {}
      : {
          apps: {
            router: 'edge',
            host: o.nas2 ? ['nas', 'nas2'] : 'nas',
            vlan: 200,
            subnet: '192.168.200.0/24',
            gateway: '192.168.200.1',
            'container-range': '192.168.200.192/27',
            firewall: { from: ['lan'], 'allow-input': ['dns', 'icmp'] },
          },
          cams: {
            router: 'edge',
            host: 'nas',
            vlan: 400,
            subnet: '192.168.40.0/24',
            gateway: '192.168.40.1',
            'container-range': '192.168.40.192/27',
            'access-ports': o.camsAccess ?? ['sw1:lan4'],
            firewall: { internet: false, from: ['lan'], 'allow-input': ['dns'] },
          },
        },
  };
}

const pureEdge = { type: 'openwrt', address: '192.168.1.1' };
const pureSw = { type: 'openwrt', address: '192.168.1.2' };
const pureModel = (o: PathOptions = {}) => modelFromText(stringify(pathSpec(pureEdge, pureSw, o)));
const switchOf = (m: Model, name = 'sw1') => m.switches.find((s): s is OpenWrtRouter => s.name === name && s.type === 'openwrt')!;
const routerOf = (m: Model, name = 'edge') => m.routers.find((r): r is OpenWrtRouter => r.name === name && r.type === 'openwrt')!;
const byName = (sections: readonly UciSection[]) => Object.fromEntries(sections.map((s) => [`${s.config}.${s.name}`, s]));
const opt = (s: UciSection | undefined, key: string) => s?.options.find(([k]) => k === key)?.[1];
const defaults = (): ExportedSection[] => (['network', 'firewall', 'dhcp'] as const).flatMap((c) => parseUciExport(defaultOpenWrtConfig(c), c));
const live = (sections: ExportedSection[] = defaults()): OpenWrtLive => ({ sections, hasUbus: true, staged: [] });

/** The live sections after the desired ones are in place (what `uci export` shows after an apply). */
function applied(model: Model, device: OpenWrtRouter): ExportedSection[] {
  const desired = desiredState(model, device);
  const base = defaults().map((s) => {
    const f = desired.foreign.find((x) => x.config === s.config && x.section === s.name);
    return f ? { ...s, options: new Map([...s.options, [f.option, f.value]]) } : s;
  });
  const state: ExportedSection[] = desired.foreign.length
    ? [{ config: 'network', name: 'flatnet_state', type: 'flatnet_state', options: new Map([['lan_interface', 'lan'], ['lan_device', device.device], ['lan_device_set', desired.foreign[0]!.value]]) }]
    : [];
  return [...base, ...state, ...desired.sections.map((s) => ({ config: s.config, name: s.name, type: s.type, options: new Map(s.options) }))];
}

describe('OpenWrt switch: desired sections', () => {
  it('the example switch: only bridge-vlans (its LAN and each carried VLAN), no interface, zone, rule or DHCP', () => {
    const model = loadModel(join(root, 'examples', 'openwrt-switched.yaml'));
    const sw = switchOf(model);
    const { sections, foreign } = desiredState(model, sw);
    expect(sections.map((s) => `${s.config}.${s.name}=${s.type}`)).toEqual([
      'network.flatnet_lan_vlan=bridge-vlan',
      'network.flatnet_apps_vlan=bridge-vlan',
      'network.flatnet_cams_vlan=bridge-vlan',
    ]);
    const s = byName(sections);
    // the NAS's port and the uplink tagged; the camera's port untagged with VLAN 400 as PVID
    expect(s['network.flatnet_apps_vlan']!.options).toEqual([['device', 'br-lan'], ['vlan', '200'], ['ports', 'lan3:t lan1:t']]);
    expect(s['network.flatnet_cams_vlan']!.options).toEqual([['device', 'br-lan'], ['vlan', '400'], ['ports', 'lan3:t lan1:t lan4:u*']]);
    // the uplink and the host port stay untagged members of the LAN: the switch keeps its management
    expect(opt(s['network.flatnet_lan_vlan'], 'ports')).toBe('lan1:u* lan2:u* lan3:u*');
    expect(foreign.map((f) => `${f.config}.${f.section}.${f.option}=${f.value}`)).toEqual(['network.lan.device=br-lan.1']);
  });

  it('the example router: the port its switch is cabled to is tagged in every network bridge-vlan, and stays in the LAN', () => {
    const model = loadModel(join(root, 'examples', 'openwrt-switched.yaml'));
    const edge = routerOf(model);
    const s = byName(desiredState(model, edge).sections);
    expect(opt(s['network.flatnet_apps_vlan'], 'ports')).toBe('lan2:t');
    expect(opt(s['network.flatnet_cams_vlan'], 'ports')).toBe('lan2:t');
    expect(opt(s['network.flatnet_lan_vlan'], 'ports')).toBe('lan1:u* lan2:u* lan3:u* lan4:u*');
    // the router keeps its layer 3: interfaces, zones, the cameras' DHCP server
    expect(opt(s['network.flatnet_apps'], 'device')).toBe('br-lan.200');
    expect(s['firewall.flatnet_cams']).toBeDefined();
    expect(opt(s['dhcp.flatnet_cams'], 'interface')).toBe('flatnet_cams');
  });

  it("a router's trunk-ports come first, then the derived ports, each once", () => {
    const model = pureModel({ edgeExtra: { 'trunk-ports': ['lan1', 'lan2'], 'lan-ports': ['lan1', 'lan2', 'lan3', 'lan4'], 'lan-interface': 'lan' } });
    const s = byName(desiredState(model, routerOf(model)).sections);
    expect(opt(s['network.flatnet_apps_vlan'], 'ports')).toBe('lan1:t lan2:t');
    const derivedOnly = pureModel({ nasPort: 'edge:lan3', camsAccess: [] });
    // nas on the router itself: lan3 tagged for both networks; the switch carries nothing and gets nothing
    const d = byName(desiredState(derivedOnly, routerOf(derivedOnly)).sections);
    expect(opt(d['network.flatnet_apps_vlan'], 'ports')).toBe('lan3:t');
    expect(desiredState(derivedOnly, switchOf(derivedOnly))).toEqual({ sections: [], foreign: [] });
  });

  it('only the VLANs that pass: a port is tagged only in the networks whose path uses it', () => {
    const model = pureModel({ nas2: true, switchExtra: { 'lan-ports': ['lan1', 'lan2', 'lan3'], 'lan-interface': 'lan' } });
    const s = byName(desiredState(model, switchOf(model)).sections);
    expect(opt(s['network.flatnet_apps_vlan'], 'ports')).toBe('lan3:t lan1:t lan2:t');
    expect(opt(s['network.flatnet_cams_vlan'], 'ports')).toBe('lan3:t lan1:t lan4:u*');
  });

  it('the switch batch: header for a switch, bridge VLANs only, nothing about firewall, interfaces or DHCP', () => {
    const model = loadModel(join(root, 'examples', 'openwrt-switched.yaml'));
    const batch = renderBatch(model, switchOf(model));
    const header = batch.slice(0, batch.indexOf('\nset '));
    expect(header).toMatch(/^# flatnet-router: uci batch for switch "sw1" \(OpenWrt, bridge br-lan\): bridge VLANs only\n/);
    expect(header).toContain('uci commit network && service network reload');
    expect(header).toContain('for c in network; do');
    expect(header).toContain('#   cams: VLAN 400, tagged on lan3 lan1, untagged (PVID) on lan4');
    expect(header).not.toMatch(/firewall|dnsmasq|dhcp|zone/i);
    expect(batch).not.toMatch(/^set (firewall|dhcp)\./m);
    expect(batch).not.toMatch(/=interface$/m);
    // and the router's batch of the same spec still is a router's
    const routerBatch = renderBatch(model, routerOf(model));
    expect(routerBatch).toMatch(/^# flatnet-router: uci batch for router "edge"/);
    expect(routerBatch).toMatch(/\n# then, when the changes look right: {2}uci commit && service network reload && service firewall reload/);
  });

  it('generate needs lan-ports and lan-interface for a switch too, naming switches.<name>', () => {
    const model = pureModel();
    expect(() => renderBatch(model, switchOf(model))).toThrow(/^switches\.sw1: with the ports the path tags \(lan3, lan1\), generate needs lan-ports and lan-interface .*plan\/apply read them from the switch$/);
    expect(() => renderConfigFiles(model, switchOf(model))).toThrow(/^switches\.sw1: /);
    expect(() => renderBatch(model, routerOf(model))).toThrow(/^routers\.edge: with the ports the path tags \(lan2\), generate needs/);
  });

  it('openwrt-config for a switch: one network snippet with the bridge-vlans, the LAN device as a comment to run', () => {
    const model = loadModel(join(root, 'examples', 'openwrt-switched.yaml'));
    const files = renderConfigFiles(model, switchOf(model));
    expect(files.map((f) => f.config)).toEqual(['network']);
    expect(files[0]!.content).toContain("config bridge-vlan 'flatnet_cams_vlan'\n\toption device 'br-lan'\n\toption vlan '400'\n\toption ports 'lan3:t lan1:t lan4:u*'\n");
    expect(files[0]!.content).toContain("# also run: uci set network.lan.device='br-lan.1'");
    const artifacts = generate(model, { targets: ['openwrt-config'], switch: 'sw1' });
    expect(artifacts.map((a) => [a.owner, a.path])).toEqual([['sw1', 'openwrt-config/sw1/network']]);
    const batch = generate(model, { targets: ['openwrt'], switch: 'sw1' });
    expect(batch.map((a) => [a.owner, a.path])).toEqual([['sw1', 'openwrt/sw1.uci']]);
  });
});

describe('OpenWrt switch: plan (pure diff) and live checks', () => {
  it('against a fresh switch: LAN read from it, every change in network, no problem', () => {
    const model = pureModel();
    const plan = planOpenWrt(model, switchOf(model), live());
    expect(plan.problems).toEqual([]);
    expect(plan.changed).toEqual(['network']);
    expect(plan.facts).toContain('lan-ports read from the switch: lan1 lan2 lan3 (every port of br-lan but the access ports lan4; trunk ports keep the untagged LAN as well)');
    expect(plan.facts).toContain('lan-interface read from the switch: lan (the interface on br-lan)');
    expect(plan.batch).toContain("set network.flatnet_lan_vlan.ports='lan1:u* lan2:u* lan3:u*'");
    expect(plan.batch).toContain("set network.lan.device='br-lan.1'");
    expect(plan.batch.filter((l) => /^set network\.flatnet_[a-z_]+=/.test(l))).toEqual([
      "set network.flatnet_lan_vlan='bridge-vlan'",
      "set network.flatnet_apps_vlan='bridge-vlan'",
      "set network.flatnet_cams_vlan='bridge-vlan'",
      "set network.flatnet_state='flatnet_state'",
    ]);
  });

  it('applied: no changes; a derived port added or removed is one option of one section', () => {
    const base = pureModel({ switchExtra: { 'lan-ports': ['lan1', 'lan2', 'lan3'], 'lan-interface': 'lan' } });
    const state = applied(base, switchOf(base));
    const noop = planOpenWrt(base, switchOf(base), live(state));
    expect({ changes: noop.changes, batch: noop.batch, problems: noop.problems, warnings: noop.warnings }).toEqual({ changes: [], batch: [], problems: [], warnings: [] });

    const more = pureModel({ nas2: true, switchExtra: { 'lan-ports': ['lan1', 'lan2', 'lan3'], 'lan-interface': 'lan' } });
    const added = planOpenWrt(more, switchOf(more), live(state));
    expect(added.changes).toEqual([{ action: 'change', kind: 'network.flatnet_apps_vlan', name: 'bridge-vlan', props: [{ key: 'ports', from: 'lan3:t lan1:t', to: 'lan3:t lan1:t lan2:t' }] }]);
    expect(added.batch).toEqual(["set network.flatnet_apps_vlan.ports='lan3:t lan1:t lan2:t'"]);

    const removed = planOpenWrt(base, switchOf(base), live(applied(more, switchOf(more))));
    expect(removed.changes).toEqual([{ action: 'change', kind: 'network.flatnet_apps_vlan', name: 'bridge-vlan', props: [{ key: 'ports', from: 'lan3:t lan1:t lan2:t', to: 'lan3:t lan1:t' }] }]);
  });

  it("flatnet sections a switch does not have are removed (a former router's zone), the user's are not", () => {
    const model = pureModel({ switchExtra: { 'lan-ports': ['lan1', 'lan2', 'lan3'], 'lan-interface': 'lan' } });
    const extra = parseUciExport("config zone 'flatnet_apps'\n\toption name 'fn_vlan200'\n\nconfig zone 'mine'\n\toption name 'mine'\n", 'firewall');
    const plan = planOpenWrt(model, switchOf(model), live([...applied(model, switchOf(model)), ...extra]));
    expect(plan.changes).toEqual([{ action: 'remove', kind: 'firewall.flatnet_apps', name: 'zone' }]);
    expect(plan.changed).toEqual(['firewall']);
  });

  it('every port that carries a VLAN must be a port of the bridge: reported where the spec names it', () => {
    // the host port, the uplink and the access port all off the bridge (lan1..lan4 are)
    const model = pureModel({ nasPort: 'sw1:lan5', camsAccess: ['sw1:lan7'], switchExtra: { uplink: 'lan6' } });
    const plan = planOpenWrt(model, switchOf(model), live());
    expect(plan.problems).toEqual([
      { path: ['hosts', 'nas', 'connected-to'], message: 'port "lan5" is not a port of br-lan (its ports: lan1 lan2 lan3 lan4)' },
      { path: ['switches', 'sw1', 'uplink'], message: 'port "lan6" is not a port of br-lan (its ports: lan1 lan2 lan3 lan4)' },
      { path: ['networks', 'cams', 'access-ports', 0], message: 'port "lan7" is not a port of br-lan (its ports: lan1 lan2 lan3 lan4)' },
    ]);
    expect(plan.batch).toEqual([]);
    // the router's end of the cable: reported at the switch's connected-to
    const far = pureModel({ switchExtra: { 'connected-to': 'edge:lan8' } });
    const rplan = planOpenWrt(far, routerOf(far), live());
    expect(rplan.problems).toEqual([{ path: ['switches', 'sw1', 'connected-to'], message: 'port "lan8" is not a port of br-lan (its ports: lan1 lan2 lan3 lan4)' }]);
  });

  it('a switch without the bridge: the device path, and what needs the DSA bridge', () => {
    const model = pureModel({ switchExtra: { device: 'br-sw' } });
    const plan = planOpenWrt(model, switchOf(model), live());
    expect(plan.problems.slice(0, 2)).toEqual([
      { path: ['switches', 'sw1', 'device'], message: 'device "br-sw" not found in /etc/config/network (no bridge device of that name); the switch\'s network config has br-lan' },
      { path: ['hosts', 'nas', 'connected-to'], message: 'the ports the path tags (lan3, lan1) need a DSA bridge device "br-sw" (config device, type bridge); this switch has none' },
    ]);
    // nothing readable: lan-ports at the switch's path
    expect(plan.problems.map((p) => p.path.join('.'))).toContain('switches.sw1.lan-ports');
  });

  it("a switch's own addresses are not checked against the VLANs' subnets (it routes none of them)", () => {
    const model = pureModel();
    const clash = parseUciExport("config interface 'mgmt'\n\toption device 'eth9'\n\toption proto 'static'\n\toption ipaddr '192.168.200.1'\n\toption netmask '255.255.255.0'\n", 'network');
    expect(planOpenWrt(model, switchOf(model), live([...defaults(), ...clash])).problems).toEqual([]);
    // the router is: the gateway is taken
    expect(planOpenWrt(model, routerOf(model), live([...defaults(), ...clash])).problems.map((p) => p.path.join('.'))).toContain('networks.apps.gateway');
  });

  it('uncommitted changes and a stranded former access port name the switch', () => {
    const model = pureModel();
    const staged = planOpenWrt(model, switchOf(model), { ...live(), staged: ["network.lan.ipaddr='10.0.0.2'"] });
    expect(staged.problems).toEqual([{ path: ['switches', 'sw1'], message: expect.stringMatching(/^the switch has uncommitted uci changes/) }]);
    const withLan = { 'lan-ports': ['lan1', 'lan2', 'lan3'], 'lan-interface': 'lan' };
    const was = pureModel({ switchExtra: withLan });
    const now = pureModel({ switchExtra: withLan, camsAccess: [] });
    const plan = planOpenWrt(now, switchOf(now), live(applied(was, switchOf(was))));
    expect(plan.warnings.join('\n')).toMatch(/lan4 is no longer an access port \(network\.flatnet_cams_vlan\) .* add it to switches\.sw1\.lan-ports/);
  });

  it("a carried VLAN with the switch's (or the router's) lan-vlan is refused by the spec check, at the network's vlan", () => {
    expect(() => pureModel({ switchExtra: { 'lan-vlan': 200, 'lan-ports': ['lan1', 'lan2', 'lan3'], 'lan-interface': 'lan' } })).toThrow(/networks\.apps\.vlan: VLAN 200 is the lan-vlan of switch "sw1"/);
    // the router of a path with only derived ports too
    expect(() => pureModel({ edgeExtra: { 'lan-vlan': 400 } })).toThrow(/networks\.cams\.vlan: VLAN 400 is the lan-vlan of router "edge"/);
  });

  it("the unit is the switch's: kind, and its spec path when it cannot log in", async () => {
    const model = pureModel();
    const unit = new OpenWrtUnit(model, switchOf(model), { env: {} });
    expect(unit.ref).toMatchObject({ kind: 'switch', name: 'sw1', type: 'openwrt' });
    await expect(unit.plan(() => undefined)).rejects.toThrow(/^switches\.sw1: no key-file, no password and no SSH agent/);
    expect(new OpenWrtUnit(model, routerOf(model), { env: {} }).ref.kind).toBe('router');
  });
});

// ---------------------------------------------------------------------------
// the generated batch and snippets, in OpenWrt's real uci (no SSH needed)

const uciBuildScript = join(sharedDir, 'openwrt-uci', 'build.sh');
function uciSupport(): { ok: true } | { ok: false; reason: string } {
  if (process.platform !== 'linux') return { ok: false, reason: `needs Linux (this is ${process.platform})` };
  if (!existsSync(uciBuildScript)) return { ok: false, reason: `${uciBuildScript} missing (no ../shared/openwrt-uci)` };
  const gcc = spawnSync('gcc', ['--version'], { encoding: 'utf8' });
  if (gcc.error !== undefined || gcc.status !== 0) return { ok: false, reason: 'gcc missing (needed to build OpenWrt uci)' };
  return { ok: true };
}
const uciOk = uciSupport();

describe.skipIf(!uciOk.ok)(`OpenWrt switch batch in real uci${uciOk.ok ? '' : ` (skipped: ${uciOk.reason})`}`, () => {
  let scratch = '';
  let uci = '';
  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'flatnet-owrt-switch-uci-'));
    uci = join(scratch, 'bin', 'uci');
    execFileSync('bash', [uciBuildScript, uci], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  }, 90_000);
  afterAll(() => {
    if (scratch !== '') rmSync(scratch, { recursive: true, force: true });
  });

  /** A config dir with OpenWrt's defaults; run(args) is uci on it and fails on any stderr. */
  function device(name: string) {
    const dir = join(scratch, name);
    for (const d of ['config', 'save', 'run']) mkdirSync(join(dir, d), { recursive: true });
    for (const c of ['network', 'firewall', 'dhcp'] as const) writeFileSync(join(dir, 'config', c), defaultOpenWrtConfig(c));
    const args = ['-c', join(dir, 'config'), '-t', join(dir, 'save'), '-C', join(dir, 'run')];
    return {
      dir,
      run(a: string[], input?: string): string {
        const r = spawnSync(uci, [...args, ...a], { input, encoding: 'utf8', argv0: 'uci' });
        // uci batch exits 0 even when a line fails: stderr tells
        expect({ a, status: r.status, stderr: r.stderr }).toEqual({ a, status: 0, stderr: '' });
        return r.stdout;
      },
      /** a shell whose `uci` is this device's (for the batch header's cleanup line) */
      sh(script: string): void {
        const bin = join(dir, 'bin');
        mkdirSync(bin, { recursive: true });
        writeFileSync(join(bin, 'uci'), `#!/bin/sh\nexec ${uci} ${args.join(' ')} "$@"\n`, { mode: 0o755 });
        const r = spawnSync('sh', ['-c', script], { encoding: 'utf8', env: { PATH: `${bin}:${process.env.PATH ?? ''}` } });
        expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      },
    };
  }

  it('the example switch batch: no error, only network staged, twice the same; its header cleanup puts the switch back as it was', () => {
    const model = loadModel(join(root, 'examples', 'openwrt-switched.yaml'));
    const batch = renderBatch(model, switchOf(model));
    const d = device('sw1');
    const pristine = { network: d.run(['export', 'network']), firewall: d.run(['export', 'firewall']), dhcp: d.run(['export', 'dhcp']) };
    d.run(['batch'], batch);
    const staged = d.run(['changes']).split('\n').filter(Boolean);
    expect(staged.every((l) => l.startsWith('network.') || l.startsWith('-network.'))).toBe(true);
    expect(staged).toContain("network.flatnet_cams_vlan.ports='lan3:t lan1:t lan4:u*'");
    expect(staged).toContain("network.flatnet_lan_vlan.ports='lan1:u* lan2:u* lan3:u*'");
    d.run(['commit']);
    const once = d.run(['export', 'network']);
    d.run(['batch'], batch);
    d.run(['commit']);
    expect(d.run(['export', 'network'])).toBe(once);
    expect(d.run(['get', 'network.lan.device'])).toBe('br-lan.1\n');
    expect({ firewall: d.run(['export', 'firewall']), dhcp: d.run(['export', 'dhcp']) }).toEqual({ firewall: pristine.firewall, dhcp: pristine.dhcp });
    // the one-liner of the header: every flatnet section gone and the LAN on br-lan again
    const cleanup = /^#   (i=\$\(uci.*)$/m.exec(batch)![1]!;
    d.sh(cleanup);
    d.run(['commit']);
    expect(d.run(['export', 'network'])).toBe(pristine.network);
  });

  it('the router of the same path: its batch tags lan2 in each network bridge-vlan, in real uci', () => {
    const model = loadModel(join(root, 'examples', 'openwrt-switched.yaml'));
    const d = device('edge');
    d.run(['batch'], renderBatch(model, routerOf(model)));
    d.run(['commit']);
    expect(d.run(['get', 'network.flatnet_apps_vlan.ports'])).toBe('lan2:t\n');
    expect(d.run(['get', 'network.flatnet_cams_vlan.ports'])).toBe('lan2:t\n');
    expect(d.run(['get', 'network.flatnet_lan_vlan.ports'])).toBe('lan1:u* lan2:u* lan3:u* lan4:u*\n');
  });

  it('openwrt-config snippet for the switch, appended, leaves what the batch leaves', () => {
    const model = loadModel(join(root, 'examples', 'openwrt-switched.yaml'));
    const sw = switchOf(model);
    const [file] = renderConfigFiles(model, sw);
    const viaSnippet = device('sw1-snippet');
    appendFileSync(join(viaSnippet.dir, 'config', 'network'), `\n${file!.content}`);
    for (const m of file!.content.matchAll(/^# also run: uci set (.*)$/gm)) viaSnippet.sh(`uci set ${m[1]!}`);
    viaSnippet.run(['commit']);
    const viaBatch = device('sw1-batch');
    viaBatch.run(['batch'], renderBatch(model, sw));
    viaBatch.run(['commit']);
    expect(viaSnippet.run(['export', 'network'])).toBe(viaBatch.run(['export', 'network']));
  });
});

// ---------------------------------------------------------------------------
// plan/apply over SSH: the switch (and the router of its path) as test routers, through the CLI

const support = openwrtTestSupport();
let harness: OpenWrtCli;
const get = (r: OpenWrtTestRouter, key: string) => r.uci(['-q', 'get', key]);
const flatnetLines = (r: OpenWrtTestRouter, config: string) => r.uci(['show', config]).split('\n').filter((l) => /^[a-z]+\.flatnet_/.test(l));

describe.skipIf(!support.ok)(`OpenWrt switch, planned and applied over SSH${support.ok ? '' : ` (skipped: ${support.reason})`}`, () => {
  beforeAll(() => {
    if (!existsSync(join(root, 'dist', 'src', 'cli.js'))) throw new Error('run tsc first (npm test does)');
    harness = new OpenWrtCli('flatnet-owrt-switch-');
  });
  afterAll(() => harness?.remove());
  afterEach(() => harness.stopRouters());

  const device = (r: OpenWrtTestRouter) => ({ ...harness.connection(r), 'host-key': r.hostKeyFingerprint });
  /** the spec with both devices on test routers; `--switch sw1` or `--router edge` picks the one a run reaches */
  const file = (edge: OpenWrtTestRouter, sw: OpenWrtTestRouter, o: PathOptions = {}) => harness.writeSpec(pathSpec(device(edge), device(sw), o));
  const apply = async (r: OpenWrtTestRouter, spec: string, who: string[]) => {
    const res = await harness.cli(r, ['apply', spec, ...who, '--yes', '--confirm-timeout', '20']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    return res;
  };
  const planJson = async (r: OpenWrtTestRouter, spec: string, who: string[]) => {
    const res = await harness.cli(r, ['plan', spec, ...who, '--json', '--detailed-exitcode']);
    return { code: res.code, unit: JSON.parse(res.stdout).units[0], stderr: res.stderr };
  };

  it('the switch: apply carries the VLANs on the path, changes network only, keeps the uplink in the LAN; then no changes', async () => {
    const edge = await harness.router();
    const sw = await harness.router();
    const spec = file(edge, sw);
    const before = { network: sw.uci(['show', 'network']), firewall: sw.uci(['export', 'firewall']), dhcp: sw.uci(['export', 'dhcp']) };

    const plan = await planJson(sw, spec, ['--switch', 'sw1']);
    expect(plan.code, plan.stderr).toBe(2);
    expect(plan.unit).toMatchObject({ kind: 'switch', name: 'sw1', status: 'changes' });
    expect((plan.unit.changes as Array<{ kind: string }>).every((c) => c.kind.startsWith('network.'))).toBe(true);

    const res = await apply(sw, spec, ['--switch', 'sw1']);
    expect(res.stdout).toMatch(/switch sw1/);
    expect(res.stderr).toContain('confirmed');
    expect(get(sw, 'network.flatnet_apps_vlan.ports')).toBe('lan3:t lan1:t');
    expect(get(sw, 'network.flatnet_cams_vlan.ports')).toBe('lan3:t lan1:t lan4:u*');
    // the uplink (lan1) and the NAS's port (lan3) stay untagged in the LAN, PVID 1
    expect(get(sw, 'network.flatnet_lan_vlan.ports')).toBe('lan1:u* lan2:u* lan3:u*');
    expect(get(sw, 'network.lan.device')).toBe('br-lan.1');
    expect(flatnetLines(sw, 'network').filter((l) => /=(interface|device)$/.test(l))).toEqual([]);
    expect({ firewall: sw.uci(['export', 'firewall']), dhcp: sw.uci(['export', 'dhcp']) }).toEqual({ firewall: before.firewall, dhcp: before.dhcp });
    expect(sw.serviceCalls().filter((l) => !l.startsWith('network'))).toEqual([]);
    // the router was not touched by a --switch run
    expect(flatnetLines(edge, 'network')).toEqual([]);

    const again = await planJson(sw, spec, ['--switch', 'sw1']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.unit).toMatchObject({ kind: 'switch', status: 'no-changes' });
    // a no-op plan of a switch: one login, one command (every config read in it)
    const model = loadModel(spec);
    const unit = new OpenWrtUnit(model, switchOf(model), { env: {}, remoteRoot: sw.root });
    try {
      expect((await unit.plan(() => undefined)).changes).toEqual([]);
      expect({ connections: unit.stats.connections, commands: unit.stats.commands }).toEqual({ connections: 1, commands: 1 });
    } finally {
      unit.close();
    }

    // the networks gone: the switch is exactly as it was
    await apply(sw, file(edge, sw, { noNetworks: true }), ['--switch', 'sw1']);
    expect(sw.uci(['show', 'network'])).toBe(before.network);
  });

  it('a derived port added and removed is one option of one section; the LAN bridge-vlan does not move', async () => {
    const edge = await harness.router();
    const sw = await harness.router();
    const base = file(edge, sw);
    const more = file(edge, sw, { nas2: true });
    await apply(sw, base, ['--switch', 'sw1']);
    const lanVlan = get(sw, 'network.flatnet_lan_vlan.ports');

    const plan = await planJson(sw, more, ['--switch', 'sw1']);
    expect(plan.code, plan.stderr).toBe(2);
    expect(plan.unit.changes).toEqual([{ action: 'change', kind: 'network.flatnet_apps_vlan', name: 'bridge-vlan', props: [{ key: 'ports', from: 'lan3:t lan1:t', to: 'lan3:t lan1:t lan2:t' }] }]);
    await apply(sw, more, ['--switch', 'sw1']);
    expect(get(sw, 'network.flatnet_apps_vlan.ports')).toBe('lan3:t lan1:t lan2:t');
    expect(get(sw, 'network.flatnet_cams_vlan.ports')).toBe('lan3:t lan1:t lan4:u*');
    expect(get(sw, 'network.flatnet_lan_vlan.ports')).toBe(lanVlan);
    expect((await planJson(sw, more, ['--switch', 'sw1'])).code).toBe(0);

    const back = await planJson(sw, base, ['--switch', 'sw1']);
    expect(back.unit.changes).toEqual([{ action: 'change', kind: 'network.flatnet_apps_vlan', name: 'bridge-vlan', props: [{ key: 'ports', from: 'lan3:t lan1:t lan2:t', to: 'lan3:t lan1:t' }] }]);
    await apply(sw, base, ['--switch', 'sw1']);
    expect(get(sw, 'network.flatnet_apps_vlan.ports')).toBe('lan3:t lan1:t');
    expect(get(sw, 'network.flatnet_lan_vlan.ports')).toBe(lanVlan);
    expect((await planJson(sw, base, ['--switch', 'sw1'])).code).toBe(0);
  });

  it('an access port on the switch moves and goes; it leaves and rejoins the LAN, the uplink never does', async () => {
    const edge = await harness.router();
    const sw = await harness.router();
    await apply(sw, file(edge, sw), ['--switch', 'sw1']);
    expect(get(sw, 'network.flatnet_lan_vlan.ports')).toBe('lan1:u* lan2:u* lan3:u*');

    await apply(sw, file(edge, sw, { camsAccess: ['sw1:lan2'] }), ['--switch', 'sw1']);
    expect(get(sw, 'network.flatnet_cams_vlan.ports')).toBe('lan3:t lan1:t lan2:u*');
    expect(get(sw, 'network.flatnet_lan_vlan.ports')).toBe('lan1:u* lan3:u* lan4:u*');

    const none = file(edge, sw, { camsAccess: [] });
    await apply(sw, none, ['--switch', 'sw1']);
    expect(get(sw, 'network.flatnet_cams_vlan.ports')).toBe('lan3:t lan1:t');
    expect(get(sw, 'network.flatnet_lan_vlan.ports')).toBe('lan1:u* lan2:u* lan3:u* lan4:u*');
    expect((await planJson(sw, none, ['--switch', 'sw1'])).code).toBe(0);
  });

  it('a port of the path that is not on the bridge fails the plan at its spec path, and nothing changes', async () => {
    const edge = await harness.router();
    const sw = await harness.router();
    const before = sw.uci(['show', 'network']);
    const res = await harness.cli(sw, ['apply', file(edge, sw, { nasPort: 'sw1:lan5' }), '--switch', 'sw1', '--yes']);
    expect(res.code).toBe(1);
    expect(res.stdout + res.stderr).toMatch(/hosts\.nas\.connected-to[^\n]*port "lan5" is not a port of br-lan/);
    expect(sw.uci(['show', 'network'])).toBe(before);
  });

  it('the router of the path: lan2 (the switch is cabled there) tagged in its network bridge-vlans, untagged in its LAN; the generated batch agrees with apply', async () => {
    const edge = await harness.router();
    const sw = await harness.router();
    const spec = file(edge, sw);
    const plan = await planJson(edge, spec, ['--router', 'edge']);
    expect(plan.unit).toMatchObject({ kind: 'router', name: 'edge', status: 'changes' });
    await apply(edge, spec, ['--router', 'edge']);
    expect(get(edge, 'network.flatnet_apps_vlan.ports')).toBe('lan2:t');
    expect(get(edge, 'network.flatnet_cams_vlan.ports')).toBe('lan2:t');
    expect(get(edge, 'network.flatnet_lan_vlan.ports')).toBe('lan1:u* lan2:u* lan3:u* lan4:u*');
    expect(get(edge, 'network.flatnet_apps.device')).toBe('br-lan.200');
    expect(get(edge, 'firewall.flatnet_cams.name')).toBe('fn_vlan400');
    expect((await planJson(edge, spec, ['--router', 'edge'])).code).toBe(0);

    // the switch from its generated batch (lan-ports and lan-interface in the spec): apply then has nothing to do
    const withLan = file(edge, sw, { switchExtra: { 'lan-ports': ['lan1', 'lan2', 'lan3'], 'lan-interface': 'lan' } });
    const gen = await harness.cli(sw, ['generate', withLan, '--target', 'openwrt', '--switch', 'sw1']);
    expect(gen.code, gen.stderr).toBe(0);
    const run = async (script: string, stdin?: string) => {
      const res = await sw.ssh(`${sw.pathPrefix()}; ${script}`, stdin !== undefined ? { stdin } : {});
      expect(res.code, res.stderr).toBe(0);
      expect(res.stderr).toBe('');
    };
    await run('uci batch', gen.stdout);
    await run('uci commit');
    expect((await planJson(sw, withLan, ['--switch', 'sw1'])).code).toBe(0);
  });
});
