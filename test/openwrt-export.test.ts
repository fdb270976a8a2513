// parseUciExport against what OpenWrt's own uci prints: named and anonymous sections, options, lists and
// uci's quoting of awkward values (a quote, a backslash, $, spaces, an empty string).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseUciExport, uciWords } from '../targets/openwrt/uci.js';
import { OpenWrtTestRouter, openwrtTestSupport } from './fakes/openwrt-router.js';

const support = openwrtTestSupport();

describe.skipIf(!support.ok)(`parsing uci export${support.ok ? '' : ` (skipped: ${support.reason})`}`, () => {
  let r: OpenWrtTestRouter;
  beforeAll(async () => {
    r = await OpenWrtTestRouter.start();
  }, 60_000);
  afterAll(async () => {
    await r?.stop();
  }, 60_000);

  const awkward = ["it's", 'back\\slash', '$(not run)', 'two  spaces', 'tab\there', '"double"'];

  it('reads back exactly the values uci stores, lists and anonymous sections included', () => {
    const lines = ['set network.flatnet_test=interface', ...awkward.map((v, i) => `set network.flatnet_test.opt${i}="${v.replace(/["\\$`]/g, (c) => `\\${c}`)}"`)];
    lines.push('add_list network.flatnet_test.items=first', "add_list network.flatnet_test.items='second item'", "add_list network.flatnet_test.items=\"it's\"");
    lines.push('add network device', 'set network.@device[-1].name=anon0');
    // (uci batch prints the name it gave the anonymous section; a failed line would show as a missing value below)
    r.uci(['batch'], `${lines.join('\n')}\n`);
    r.uci(['commit', 'network']);
    const sections = parseUciExport(r.uci(['export', 'network']), 'network');
    const test = sections.find((s) => s.name === 'flatnet_test')!;
    expect(test.type).toBe('interface');
    awkward.forEach((v, i) => expect(test.options.get(`opt${i}`)).toBe(v));
    expect(test.options.get('items')).toEqual(['first', 'second item', "it's"]);
    expect(uciWords(test.options.get('items'))).toBe("first second item it's");
    // anonymous sections keep their place and have no name
    const anonymous = sections.filter((s) => s.type === 'device' && s.name === undefined);
    expect(anonymous.map((s) => s.options.get('name'))).toContain('anon0');
    // every section of the default config is read, in file order
    expect(sections.map((s) => s.name ?? `@${s.type}`).slice(0, 2)).toEqual(['loopback', 'globals']);
  });
});
