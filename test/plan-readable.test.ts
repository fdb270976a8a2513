// Plans people can read (issue 21 point 8): one line per object by default, a change's properties from -> to,
// every property with --verbose, all of them in --json, colour only on a terminal. End to end on the fake
// RouterOS; the one-line names of OpenWrt sections, Docker networks and host links from their planners.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelFromText } from '../src/index.js';
import { runPlan, runApply } from '../src/plan/run.js';
import { planDocker } from '../targets/host/diff.js';
import { planLinks } from '../targets/host/links.js';
import { desiredState } from '../targets/openwrt/index.js';
import { describeSection } from '../targets/openwrt/diff.js';
import { captureIo } from './fakes/capture-io.js';
import { FakeRouterOS } from './fakes/routeros-fake.js';

let scratch = '';
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'flatnet-readable-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const io = () => captureIo();

const spec = (port: number) => `version: 1
routers:
  core:
    type: routeros
    address: 127.0.0.1
    port: ${port}
    password-env: P
hosts:
  nas:
    parent: eth0
networks:
  cams:
    router: core
    host: nas
    vlan: 30
    subnet: 10.30.0.0/24
    gateway: 10.30.0.1
    container-range: 10.30.0.64/26
    firewall:
      from: [lan]
      internet: true
      allow-input: [dns, ntp]
`;

describe('plans people can read', () => {
  it('a plan of 17 adds is one line per object and fits a 24-line screen; --verbose and --json list every property', async () => {
    const fake = new FakeRouterOS({ password: 'pw' });
    fake.seedDefaults();
    const port = await fake.start();
    try {
      const file = join(scratch, 'adds.yaml');
      writeFileSync(file, spec(port));
      const plan = io();
      expect(await runPlan(file, { routers: ['core'] }, plan.io)).toBe(0);
      const text = plan.out();
      const lines = text.trimEnd().split('\n');
      const adds = lines.filter((l) => l.startsWith('  + '));
      expect(adds).toHaveLength(17);
      expect(text).toContain('Plan: 17 to add, 0 to change, 0 to remove.');
      expect(lines.length).toBeLessThanOrEqual(24);
      expect(lines.every((l) => !l.startsWith('      '))).toBe(true);
      // each line carries what identifies the object
      expect(text).toMatch(/^ {2}\+ \/ip\/firewall\/filter forward accept in-interface=vlan30-cams out-interface-list=WAN {2}\(/m);
      expect(text).toContain('  + /interface/vlan vlan30-cams (vlan-id 30 on bridge)');
      expect(text).toContain('  + /ip/address 10.30.0.1/24 on vlan30-cams');
      expect(text).toMatch(/\+ \/ip\/firewall\/filter input accept in-interface=vlan30-cams protocol=udp dst-port=123/);
      // a rule's place is said once per run of rules going to the same place
      expect(text).toMatch(/\(before the router's drop rule \*[0-9A-F]+ "defconf: drop all from WAN not DSTNATed"\)/);
      expect(text).toContain('(as above)');
      expect(text).toContain('(--verbose lists every property)');

      const verbose = io();
      await runPlan(file, { routers: ['core'], verbose: true }, verbose.io);
      const v = verbose.out();
      expect(v).toContain('      + out-interface-list = WAN');
      expect(v).toContain('      + vlan-id   = 30');
      expect(v).not.toContain('(as above)');
      expect(v).not.toContain('--verbose');
      // every property of every add
      const json = JSON.parse((await (async () => { const j = io(); await runPlan(file, { routers: ['core'], json: true }, j.io); return j.out(); })()));
      const changes = json.units[0].changes as Array<{ props: unknown[] }>;
      const propCount = changes.reduce((n, c) => n + c.props.length, 0);
      expect(v.split('\n').filter((l) => /^ {6}\+ /.test(l))).toHaveLength(propCount);
      expect(changes.find((c: any) => c.kind === '/interface/vlan')).toMatchObject({ props: expect.arrayContaining([{ key: 'vlan-id', to: '30' }, { key: 'interface', to: 'bridge' }]) });
    } finally {
      await fake.stop();
    }
  });

  it('a change (~) still shows its properties from -> to', async () => {
    const fake = new FakeRouterOS({ password: 'pw' });
    fake.seedDefaults();
    const port = await fake.start();
    try {
      const file = join(scratch, 'change.yaml');
      writeFileSync(file, spec(port));
      expect(await runApply(file, { routers: ['core'], yes: true }, io().io)).toBe(0);
      writeFileSync(file, spec(port).replace('vlan: 30', 'vlan: 31'));
      const plan = io();
      expect(await runPlan(file, { routers: ['core'] }, plan.io)).toBe(0);
      expect(plan.out()).toContain('  ~ /interface/vlan vlan30-cams\n      ~ name    = vlan30-cams -> vlan31-cams\n      ~ vlan-id = 30 -> 31\n');
    } finally {
      await fake.stop();
    }
  });

  it('colour only on a terminal', async () => {
    const fake = new FakeRouterOS({ password: 'pw' });
    fake.seedDefaults();
    const port = await fake.start();
    try {
      const file = join(scratch, 'colour.yaml');
      writeFileSync(file, spec(port));
      const tty = captureIo({ P: 'pw' }, { tty: true, noColor: false });
      await runPlan(file, { routers: ['core'] }, tty.io);
      expect(tty.out()).toContain('\u001b[32m+\u001b[0m');
      const pipe = captureIo({ P: 'pw' }, { noColor: false });
      await runPlan(file, { routers: ['core'] }, pipe.io);
      expect(pipe.out()).not.toContain('\u001b');
      expect(pipe.out()).toContain('  + /interface/vlan vlan30-cams');
    } finally {
      await fake.stop();
    }
  });

  it('OpenWrt sections, Docker networks and host links are named by what identifies them', () => {
    const model = modelFromText(readFileSync(new URL('../examples/openwrt-vlan.yaml', import.meta.url), 'utf8'));
    const router = model.routers[0] as Parameters<typeof desiredState>[1];
    const names = desiredState(model, router).sections.map(describeSection);
    expect(names).toContain('device type=8021q ifname=br-lan vid=200 name=br-lan.200');
    expect(names).toContain('interface proto=static device=br-lan.200 ipaddr=192.168.200.1 netmask=255.255.255.0');
    expect(names).toContain('forwarding src=lan dest=fn_vlan200');
    expect(names).toContain("rule src=fn_vlan200 proto='tcp udp' dest_port=53 target=ACCEPT");

    const host = model.hosts[0]!;
    const docker = planDocker(model, host, [], new Map(), false, [], []);
    expect(docker.changes[0]!.report.name).toMatch(/^docker-demo \(macvlan on \S+\.200, 192\.168\.200\.0\/24 ip-range \S+\)$/);
    const links = planLinks(host.name, host.attachments, { links: [], routes: [] });
    expect(links.parents[0]!.report.name).toMatch(/^\S+\.200 \(vlan 200 on \S+\)$/);
    expect(links.shims[0]!.report.name).toMatch(/^\S+ \(macvlan on \S+\.200, 192\.168\.200\.\d+\/32\)$/);
  });
});
