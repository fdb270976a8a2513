// import of one OpenWrt router from its configs as read (no SSH): the importer, the trunk ports, the draft's
// text; the draft must validate (modelFromText throws otherwise). Test-only.
import { modelFromText, type OpenWrtRouter } from '../../src/index.js';
import { draftText } from '../../src/import/draft.js';
import type { ImportReport } from '../../src/import/found.js';
import { importOpenWrt } from '../../src/import/openwrt.js';
import { trunkPortsOf } from '../../src/import/run.js';
import type { OpenWrtLive } from '../../targets/openwrt/diff.js';
import type { ExportedSection } from '../../targets/openwrt/uci.js';

export function openwrtDraft(devices: string, live: OpenWrtLive | ExportedSection[]) {
  const devicesModel = modelFromText(devices);
  const router = devicesModel.routers.find((r): r is OpenWrtRouter => r.type === 'openwrt')!;
  const report: ImportReport = { networks: [], trunkPorts: new Map(), notes: [], warnings: [] };
  importOpenWrt(router, Array.isArray(live) ? { sections: live, hasUbus: true, staged: [] } : live, report, new Set());
  trunkPortsOf(devicesModel, report);
  const draft = draftText(devices, report, ['test draft']);
  return { draft, report, model: modelFromText(draft, 'draft.yaml') };
}
