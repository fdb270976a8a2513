// import of one OpenWrt router from its configs as read (no SSH): the importer, the trunk ports, the draft's
// text; the draft must validate (modelFromText throws otherwise). And the configs a router has once flatnet
// applied a spec on OpenWrt's defaults, to import back. Test-only.
import { modelFromText, type Model, type OpenWrtRouter } from '../../src/index.js';
import { draftText } from '../../src/import/draft.js';
import type { ImportReport } from '../../src/import/found.js';
import { importOpenWrt } from '../../src/import/openwrt.js';
import { trunkPortsOf } from '../../src/import/run.js';
import type { OpenWrtLive } from '../../targets/openwrt/diff.js';
import { desiredState } from '../../targets/openwrt/index.js';
import { parseUciExport, type ExportedSection } from '../../targets/openwrt/uci.js';
import { defaultOpenWrtConfig } from './openwrt-router.js';

export function openwrtDraft(devices: string, live: OpenWrtLive | ExportedSection[]) {
  const devicesModel = modelFromText(devices);
  const router = devicesModel.routers.find((r): r is OpenWrtRouter => r.type === 'openwrt')!;
  const report: ImportReport = { networks: [], trunkPorts: new Map(), notes: [], warnings: [] };
  importOpenWrt(router, Array.isArray(live) ? { sections: live, hasUbus: true, staged: [] } : live, report, new Set());
  trunkPortsOf(devicesModel, report);
  const draft = draftText(devices, report, ['test draft']);
  return { draft, report, model: modelFromText(draft, 'draft.yaml') };
}

/** The first OpenWrt router's sections once flatnet applied the spec: its sections (and the LAN's moved device) on top of the defaults. */
export function appliedOpenWrt(m: Model): ExportedSection[] {
  const router = m.routers.find((r): r is OpenWrtRouter => r.type === 'openwrt')!;
  const want = desiredState(m, router);
  const base = (['network', 'firewall', 'dhcp'] as const).flatMap((c) => parseUciExport(defaultOpenWrtConfig(c), c));
  for (const f of want.foreign) base.find((s) => s.config === f.config && s.name === f.section)?.options.set(f.option, f.value);
  return [...base, ...want.sections.map((s) => ({ config: s.config, type: s.type, name: s.name, options: new Map(s.options) }))];
}
