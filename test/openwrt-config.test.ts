// The openwrt-config target: /etc/config snippets rendered from the same desired sections as the uci batch.
// Checked two ways: parsed back, they hold exactly the sections the batch sets (fast, no tools needed); and with
// OpenWrt's REAL uci, appending the snippets (plus the one commented `uci set`) to default configs leaves the same
// `uci export` as running the batch on the same defaults.
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultOpenWrtConfig } from './fakes/openwrt-router.js';
import { stringify } from 'yaml';
import { generate, loadModel, modelFromText, type Model, type OpenWrtRouter } from '../src/index.js';
import { renderConfigFiles } from '../targets/openwrt/config.js';
import { renderBatch } from '../targets/openwrt/index.js';
import { parseUciAssignments, parseUciValue, type ParsedUciSection } from '../targets/openwrt/uci.js';
import { sharedDir } from './fakes/shared-dir.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const examplesDir = join(root, 'examples');
const uciBuildScript = join(sharedDir, 'openwrt-uci', 'build.sh');

const openwrtExamples = readdirSync(examplesDir)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((file) => ({ file, model: loadModel(join(examplesDir, file)) }))
  .filter(({ model }) => model.routers.some((r) => r.type === 'openwrt'))
  .concat([{ file: 'inline: VLAN network with dhcp-pool', model: vlanDhcpModel() }]);

/** No example serves DHCP from an OpenWrt router: one inline spec that does (dhcp.flatnet_apps). */
function vlanDhcpModel(): Model {
  const spec = {
    version: 1,
    routers: { edge: { type: 'openwrt', address: '192.168.1.1' } },
    hosts: { nas: { parent: 'enp3s0' } },
    networks: {
      apps: {
        router: 'edge', host: 'nas', vlan: 200, subnet: '192.168.200.0/24', gateway: '192.168.200.1', 'container-range': '192.168.200.192/27',
        'dhcp-pool': '192.168.200.100-192.168.200.149', firewall: { 'allow-input': ['dns', 'dhcp'] },
      },
    },
  };
  return modelFromText(stringify(spec));
}

function openwrtRouters(model: Model): OpenWrtRouter[] {
  return model.routers.filter((r): r is OpenWrtRouter => r.type === 'openwrt');
}

/** Reads a snippet back as uci's parser does (config/option lines; comments and blank lines skipped). */
function parseSnippet(config: string, text: string): ParsedUciSection[] {
  const sections: ParsedUciSection[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    let m = /^config ([A-Za-z0-9_-]+) (.*)$/.exec(line);
    if (m) {
      const { value, rest } = parseUciValue(m[2]!);
      expect(rest).toBe('');
      sections.push({ config, name: value, type: m[1]!, options: [] });
      continue;
    }
    m = /^\toption ([A-Za-z0-9_]+) (.*)$/.exec(line);
    if (!m) throw new Error(`not a config line: ${JSON.stringify(line)}`);
    const { value, rest } = parseUciValue(m[2]!);
    expect(rest).toBe('');
    sections.at(-1)!.options.push([m[1]!, value]);
  }
  return sections;
}

/** The `# also run: uci set ...` lines of a snippet, as the arguments of `uci set`. */
function alsoRun(text: string): string[] {
  return [...text.matchAll(/^# also run: uci set (.*)$/gm)].map((m) => {
    const { value, rest } = parseUciValue(m[1]!);
    expect(rest).toBe('');
    return value;
  });
}

describe('openwrt-config: snippets hold exactly the sections the batch sets', () => {
  it('there are OpenWrt examples, with and without trunk-ports', () => {
    expect(openwrtExamples.length).toBeGreaterThanOrEqual(2);
    expect(openwrtExamples.some(({ model }) => openwrtRouters(model).some((r) => r.trunkPorts.length > 0))).toBe(true);
    expect(openwrtExamples.some(({ model }) => openwrtRouters(model).some((r) => r.trunkPorts.length === 0))).toBe(true);
  });

  for (const { file, model } of openwrtExamples) {
    it(file, () => {
      for (const router of openwrtRouters(model)) {
        const files = renderConfigFiles(model, router);
        const servesDhcp = router.networks.some((n) => model.networks.find((x) => x.name === n)?.dhcpServer !== undefined);
        expect(files.map((f) => f.config)).toEqual(['network', 'firewall', ...(servesDhcp ? ['dhcp'] : [])]);
        for (const f of files) {
          expect(f.content.split('\n')[0]).toBe(`# /etc/config/${f.config}`);
          expect(f.content).toMatch(/[^\n]\n$/);
        }
        const batch = parseUciAssignments(renderBatch(model, router));
        const owned = batch.filter((s) => s.type !== '');
        expect(files.flatMap((f) => parseSnippet(f.config, f.content))).toEqual(owned);
        // the one foreign option: a comment with its `uci set`, never a section
        const foreign = batch.filter((s) => s.type === '');
        const sets = files.flatMap((f) => alsoRun(f.content));
        expect(sets).toEqual(foreign.flatMap((s) => s.options.map(([k, v]) => `${s.config}.${s.name}.${k}=${v}`)));
        if (router.trunkPorts.length > 0) {
          expect(sets).toEqual([`network.${router.lanInterface}.device=${router.device}.${router.lanVlan}`]);
          expect(owned.some((s) => s.name === 'flatnet_state')).toBe(true);
        }
        // the artifacts: one per config file, under openwrt-config/<router>/
        const artifacts = generate(model, { targets: ['openwrt-config'], router: router.name });
        expect(artifacts.map((a) => [a.target, a.owner, a.path])).toEqual(
          files.map((f) => ['openwrt-config', router.name, `openwrt-config/${router.name}/${f.config}`]),
        );
        expect(artifacts.map((a) => a.content)).toEqual(files.map((f) => f.content));
      }
    });
  }

  it('refuses what the batch refuses (trunk-ports without lan-interface), with the same message', () => {
    const model = loadModel(join(root, 'test', 'fixtures', 'openwrt-trunk-without-lan-interface.yaml'));
    const router = openwrtRouters(model)[0]!;
    expect(() => renderBatch(model, router)).toThrow(/with trunk-ports, generate needs lan-interface/);
    expect(() => renderConfigFiles(model, router)).toThrow(/with trunk-ports, generate needs lan-interface/);
  });

  it('a value uci cannot quote is refused, not printed', () => {
    const spec = {
      version: 1,
      routers: { edge: { type: 'openwrt', address: '192.168.1.1' } },
      hosts: { nas: { parent: 'enp3s0' } },
      networks: { apps: { router: 'edge', host: 'nas', vlan: 200, subnet: '192.168.200.0/24', gateway: '192.168.200.1', 'container-range': '192.168.200.192/27' } },
    };
    const model = modelFromText(stringify(spec));
    const router = openwrtRouters(model)[0]!;
    const files = renderConfigFiles(model, router);
    expect(files[0]!.content).toContain("config interface 'flatnet_apps'\n\toption proto 'static'\n");
    const hostile = { ...router, device: "br-lan'x" };
    expect(() => renderConfigFiles(model, hostile)).toThrow(/single quotes cannot be escaped/);
  });
});

// ---------------------------------------------------------------------------
// with OpenWrt's real uci

function uciSupport(): { ok: true } | { ok: false; reason: string } {
  if (process.platform !== 'linux') return { ok: false, reason: `needs Linux (this is ${process.platform})` };
  if (!existsSync(uciBuildScript)) return { ok: false, reason: `${uciBuildScript} missing (no ../shared/openwrt-uci)` };
  const gcc = spawnSync('gcc', ['--version'], { encoding: 'utf8' });
  if (gcc.error !== undefined || gcc.status !== 0) return { ok: false, reason: 'gcc missing (needed to build OpenWrt uci)' };
  return { ok: true };
}
const support = uciSupport();

// OpenWrt 23.05-like defaults (DSA: br-lan over lan1..lan4)
// OpenWrt 23.05's defaults, the same the OpenWrt test router starts from
const DEFAULT_NETWORK = defaultOpenWrtConfig('network');
const DEFAULT_FIREWALL = defaultOpenWrtConfig('firewall');
const DEFAULT_DHCP = defaultOpenWrtConfig('dhcp');

describe.skipIf(!support.ok)(
  `openwrt-config with OpenWrt's real uci: snippets appended = batch run${support.ok ? '' : ` (skipped: ${support.reason})`}`,
  () => {
    let scratch = '';
    let uci = '';

    beforeAll(() => {
      scratch = mkdtempSync(join(tmpdir(), 'flatnet-openwrt-config-'));
      uci = join(scratch, 'bin', 'uci');
      execFileSync('bash', [uciBuildScript, uci], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    }, 90_000);

    afterAll(() => {
      if (scratch !== '') rmSync(scratch, { recursive: true, force: true });
    });

    /** A config dir with the defaults, its own save dir and conf2 dir (nothing under /etc or /var is touched). */
    function router(name: string): { run: (args: string[], input?: string) => string } {
      const dir = join(scratch, name);
      for (const d of ['config', 'save', 'run']) mkdirSync(join(dir, d), { recursive: true });
      writeFileSync(join(dir, 'config', 'network'), DEFAULT_NETWORK);
      writeFileSync(join(dir, 'config', 'firewall'), DEFAULT_FIREWALL);
      writeFileSync(join(dir, 'config', 'dhcp'), DEFAULT_DHCP);
      return {
        run(args, input) {
          const r = spawnSync(uci, ['-c', join(dir, 'config'), '-t', join(dir, 'save'), '-C', join(dir, 'run'), ...args], { input, encoding: 'utf8' });
          // uci batch exits 0 even when lines fail: stderr tells
          expect({ args, status: r.status, stderr: r.stderr }).toEqual({ args, status: 0, stderr: '' });
          return r.stdout;
        },
      };
    }

    for (const { file, model } of openwrtExamples) {
      it(file, () => {
        for (const r of openwrtRouters(model)) {
          const id = `${file.replace(/\.yaml$/, '')}-${r.name}`;
          const files = renderConfigFiles(model, r);

          // (a) the snippets appended to their files, then the commented `uci set`
          const snippet = router(`${id}-snippet`);
          for (const f of files) appendFileSync(join(scratch, `${id}-snippet`, 'config', f.config), `\n${f.content}`);
          for (const f of files) for (const set of alsoRun(f.content)) snippet.run(['set', set]);
          snippet.run(['commit']);

          // (b) the batch (which sets the foreign option itself) on the same defaults
          const batch = router(`${id}-batch`);
          batch.run(['batch'], renderBatch(model, r));
          batch.run(['commit']);

          for (const f of files) {
            const viaSnippet = snippet.run(['export', f.config]);
            const viaBatch = batch.run(['export', f.config]);
            expect(viaSnippet).toBe(viaBatch);
            // the snippet's sections are printed exactly as `uci export` prints them
            const body = f.content.split('\n\n').slice(1).join('\n\n');
            expect(viaBatch.endsWith(`\n${body}\n`), `${f.config}: export ends with the snippet's sections`).toBe(true);
            // and the defaults are still there
            expect(viaBatch).toContain({ network: "config interface 'loopback'", firewall: 'config defaults', dhcp: "config dhcp 'lan'" }[f.config]);
          }
          if (r.trunkPorts.length > 0) {
            expect(batch.run(['get', `network.${r.lanInterface}.device`])).toBe(`${r.device}.${r.lanVlan}\n`);
            expect(snippet.run(['get', `network.${r.lanInterface}.device`])).toBe(`${r.device}.${r.lanVlan}\n`);
          }
        }
      });
    }
  },
);
