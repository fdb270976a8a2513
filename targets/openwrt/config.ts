// OpenWrt, the second form (routers and switches): flatnet's sections as /etc/config/<name> snippets, in uci's config-file syntax exactly
// as `uci export` prints them (without its `package` line), the form most OpenWrt guides show. Rendered from the
// same desiredState as the batch (plus the flatnet_state record the batch writes when it moves the LAN), so
// appending the snippets to the files leaves the same sections as running the batch. Values stay as the batch
// sets them: list-valued options are one space-separated `option`, which is what `uci export` prints after the
// batch's `set`. The one option flatnet sets on a section it does not own (network.<lan-interface>.device) is
// not a snippet: it is printed as a comment with the `uci set` line to run.
import type { Model, OpenWrtRouter } from '../../src/model.js';
import { uciName, uciQuote, uciType } from '../../src/quote.js';
import { routerTarget, type Target } from '../../src/target.js';
import { desiredState, requireGenerateLan, stateSections, type UciForeignOption, type UciSection } from './index.js';

export interface UciConfigFile {
  config: UciSection['config'];
  content: string;
}

/** The sections the batch leaves, in the batch's order: the flatnet_state record first, when there is one. */
export function configSections(model: Model, router: OpenWrtRouter): { sections: UciSection[]; foreign: UciForeignOption[] } {
  // The batch refuses routers whose snippets would cut the LAN off (trunk-ports without lan-ports or
  // lan-interface); the snippets go by the same rule, with the same message.
  requireGenerateLan(router, model);
  const { sections, foreign } = desiredState(model, router);
  const state = stateSections(router, foreign, model.ownership.owner);
  return { sections: [...state, ...sections], foreign };
}

/** One section as `uci export` prints it. */
function renderSection(s: UciSection): string {
  const lines = [`config ${uciType(s.type)} ${uciQuote(uciName(s.name))}`];
  for (const [key, value] of s.options) lines.push(`\toption ${uciName(key)} ${uciQuote(value)}`);
  return lines.join('\n');
}

/** The `uci set` line for an option on a section flatnet does not own (single quotes: also a shell word). */
export function foreignSetLine(f: UciForeignOption): string {
  return `uci set ${uciName(f.config)}.${uciName(f.section)}.${uciName(f.option)}=${uciQuote(f.value)}`;
}

/** One snippet per config file that flatnet touches (network, firewall, and dhcp when the router serves DHCP; a switch: network only), in that order. */
export function renderConfigFiles(model: Model, router: OpenWrtRouter): UciConfigFile[] {
  const { sections, foreign } = configSections(model, router);
  const configs = [...new Set(sections.map((s) => s.config))];
  return configs.map((config) => {
    const header = [`# /etc/config/${config}`];
    for (const f of foreign.filter((x) => x.config === config)) {
      header.push(`# ${f.why}`, `# also run: ${foreignSetLine(f)}`);
    }
    const body = sections.filter((s) => s.config === config).map(renderSection);
    return { config, content: `${[header.join('\n'), ...body].join('\n\n')}\n` };
  });
}

export const openwrtConfigTarget: Target = routerTarget('openwrt-config', 'openwrt', (model, router) =>
  renderConfigFiles(model, router).map((f) => ({ path: `openwrt-config/${router.name}/${f.config}`, content: f.content })),
);
