// Round trips: the rendered router scripts, parsed back, say exactly what the desired objects say, for every
// example and for a spec whose values need quoting. What the templates print is therefore what plan/apply
// will diff against the live router.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadModel, modelFromText, type Model } from '../src/index.js';
import { desiredState, renderBatch } from '../targets/openwrt/index.js';
import { parseUciAssignments, parseUciValue } from '../targets/openwrt/uci.js';
import { desiredObjects, PVID_RECORD, renderScript, type RosObject } from '../targets/routeros/index.js';

const examplesDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'examples');
const examples = readdirSync(examplesDir).filter((f) => f.endsWith('.yaml')).sort();

/** RouterOS script values: bare up to white space, or "double-quoted" with backslash escapes. */
function parseRosProps(text: string): Array<[string, string]> {
  const props: Array<[string, string]> = [];
  let rest = text.trim();
  while (rest !== '') {
    const m = /^([a-z][a-z0-9-]*)=/.exec(rest);
    if (!m) throw new Error(`not a property: ${rest}`);
    rest = rest.slice(m[0].length);
    let value = '';
    if (rest.startsWith('(')) {
      // an expression the router evaluates: only a bridge VLAN entry's comment with the access ports'
      // PVIDs before flatnet, read on the router ("flatnet:<net>; was-pvid " . "<port>=" . $var ...);
      // the desired object's comment is what precedes the record
      const literal = /^\("((?:[^"\\]|\\.)*)"/.exec(rest);
      const close = rest.indexOf(')');
      if (!literal || close < 0 || !literal[1]!.endsWith(PVID_RECORD)) throw new Error(`unexpected expression: ${rest}`);
      value = literal[1]!.slice(0, -PVID_RECORD.length);
      rest = rest.slice(close + 1);
    } else if (rest.startsWith('"')) {
      let i = 1;
      while (i < rest.length && rest[i] !== '"') {
        if (rest[i] === '\\') i++;
        value += rest[i];
        i++;
      }
      rest = rest.slice(i + 1);
    } else {
      const end = rest.search(/\s|$/);
      value = rest.slice(0, end);
      rest = rest.slice(end);
    }
    props.push([m[1]!, value]);
    rest = rest.trim();
  }
  return props;
}

interface ParsedAdd {
  menu: string;
  props: Array<[string, string]>;
  placeBefore: boolean;
}

function parseScriptAdds(script: string): ParsedAdd[] {
  const adds: ParsedAdd[] = [];
  for (const line of script.split('\n')) {
    const m = /^\s*(\/[a-z0-9/-]+)\/add (.*)$/.exec(line);
    if (!m) continue;
    let props = parseRosProps(m[2]!);
    const placeBefore = props.some(([k, v]) => k === 'place-before' && v === '$before');
    props = props.filter(([k]) => k !== 'place-before');
    adds.push({ menu: m[1]!, props, placeBefore });
  }
  return adds;
}

/** Objects grouped per menu (and firewall chain), in order: the script groups rules by chain. */
function groups(objects: Array<{ menu: string; props: Array<[string, string]> }>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const o of objects) {
    const chain = o.props.find(([k]) => k === 'chain')?.[1];
    const key = chain ? `${o.menu} ${chain}` : o.menu;
    (out[key] ??= []).push(JSON.stringify(o.props));
  }
  // the script updates the entries that record access ports first: their order is not the desired one
  out['/interface/bridge/vlan']?.sort();
  return out;
}

function checkRouteros(model: Model): number {
  let checked = 0;
  for (const router of model.routers) {
    if (router.type !== 'routeros') continue;
    const desired: RosObject[] = desiredObjects(model, router);
    const script = renderScript(model, router);
    const adds = parseScriptAdds(script);
    const firewall = desired.filter((o) => o.placeBeforeRouterDrops);
    // plain objects once (VLAN interfaces created disabled, then enabled as the script's last line);
    // every firewall rule twice: before the router's drops, or appended when it has none
    const plain = desired
      .filter((o) => !o.placeBeforeRouterDrops)
      .map((o) => ({
        menu: o.menu,
        // DHCP servers are added with disabled=no (RouterOS's own default may be disabled)
        props: o.enableLast ? [...o.props, ['disabled', 'yes'] as [string, string]] : o.menu === '/ip/dhcp-server' ? [...o.props, ['disabled', 'no'] as [string, string]] : o.props,
      }));
    expect(groups(adds.filter((a) => !a.menu.includes('firewall')))).toEqual(groups(plain));
    if (desired.some((o) => o.enableLast)) {
      expect(script.trimEnd().split('\n').at(-1)).toBe('/interface/vlan/enable [/interface/vlan/find where comment~"^flatnet:[a-z0-9-]+(\\$|;)"]');
    }
    expect(groups(adds.filter((a) => a.placeBefore))).toEqual(groups(firewall));
    expect(groups(adds.filter((a) => a.menu.includes('firewall') && !a.placeBefore))).toEqual(groups(firewall));
    checked += desired.length;
  }
  return checked;
}

function checkOpenwrt(model: Model): number {
  let checked = 0;
  for (const router of model.routers) {
    if (router.type !== 'openwrt') continue;
    const { sections, foreign } = desiredState(model, router);
    const parsed = parseUciAssignments(renderBatch(model, router));
    const expected = [
      ...foreign.map((f) => ({ config: f.config, name: f.section, type: '', options: [[f.option, f.value]] })),
      // with the LAN option, the batch records what the LAN used before (the bridge), to put it back later
      ...foreign.map((f) => ({ config: f.config, name: 'flatnet_state', type: 'flatnet_state', options: [['lan_interface', f.section], ['lan_device', router.device]] })),
      ...sections.map((s) => ({ config: s.config, name: s.name, type: s.type, options: s.options })),
    ];
    expect(parsed).toEqual(expected);
    checked += expected.length;
  }
  return checked;
}

describe('round trip: rendered script → parsed objects = desired objects', () => {
  for (const example of examples) {
    it(example, () => {
      const model = loadModel(join(examplesDir, example));
      const checked = checkRouteros(model) + checkOpenwrt(model);
      const hasRouterNetworks = model.routers.some((r) => r.networks.length > 0);
      if (hasRouterNetworks) expect(checked).toBeGreaterThan(0);
    });
  }

  it('values that need quoting survive (RouterOS names with spaces and ":")', () => {
    const spec = {
      version: 1,
      routers: { core: { type: 'routeros', address: 'router.lan', bridge: 'main bridge', wan: 'WAN uplinks', lan: 'LAN:trusted', 'trunk-ports': ['sfp-sfpplus1', 'ether 2'] } },
      hosts: { nas: { parent: 'enp3s0' } },
      networks: { apps: { router: 'core', host: 'nas', vlan: 10, subnet: '10.0.10.0/24', gateway: '10.0.10.1', 'container-range': '10.0.10.128/25' } },
    };
    const model = modelFromText(stringify(spec));
    const script = renderScript(model, model.routers[0] as Extract<Model['routers'][number], { type: 'routeros' }>);
    expect(script).toContain('interface="main bridge"');
    expect(script).toContain('tagged="main bridge,sfp-sfpplus1,ether 2"');
    expect(checkRouteros(model)).toBeGreaterThan(0);
  });
});

describe('uci value parsing (as uci reads it)', () => {
  it('joins quoted and bare parts and stops at white space', () => {
    expect(parseUciValue("'a b'c\"d\\\"e\" rest")).toEqual({ value: 'a bcd"e', rest: 'rest' });
  });
  it('refuses an unterminated quote', () => {
    expect(() => parseUciValue("'abc")).toThrow(/unterminated/);
  });
  it('reads uci show output the same way', () => {
    const sections = parseUciAssignments("network.lan=interface\nnetwork.lan.device='br-lan'\nnetwork.lan.proto='static'\n");
    expect(sections).toEqual([{ config: 'network', name: 'lan', type: 'interface', options: [['device', 'br-lan'], ['proto', 'static']] }]);
  });
});
