// flatnet-router import: read each device of the spec live (the plan's own reads) and print a draft spec, or
// write it to --out FILE (never over an existing file). A device that cannot be read is reported and left out;
// the others are imported and the draft says what is missing.
import { readFileSync, writeFileSync } from 'node:fs';
import { modelFromText } from '../index.js';
import { SpecError, formatProblem, UserError } from '../errors.js';
import { expandHome } from '../secrets.js';
import type { Model, RouterOSRouter } from '../model.js';
import { RosClient } from '../../targets/routeros/api.js';
import { RouterOSUnit, routerPassword, specSection } from '../../targets/routeros/push.js';
import { draftText } from './draft.js';
import type { ImportReport } from './found.js';
import { importRouterOS } from './routeros.js';

export interface ImportOptions {
  routers?: string[];
  switches?: string[];
  hosts?: string[];
  /** write the draft here instead of stdout; refused when the file exists */
  out?: string;
  env?: NodeJS.ProcessEnv;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
}

export interface ImportIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

export interface ImportResult {
  /** 0: every device read; 1: a device could not be read (the draft is printed all the same) */
  code: number;
  draft: string;
  report: ImportReport;
}

/** Reads a RouterOS router with the plan's reads (RouterOSUnit.read: one print per menu, all at once). */
export async function readRouterOS(model: Model, router: RouterOSRouter, options: ImportOptions) {
  const env = options.env ?? process.env;
  const unit = new RouterOSUnit(model, router, { env });
  let ca: Buffer | undefined;
  if (router.tls && router.caFile !== undefined) {
    try {
      ca = readFileSync(expandHome(router.caFile, env));
    } catch (err) {
      throw new UserError(`${specSection(router)}.${router.name}.ca-file: cannot read ${router.caFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  const client = await RosClient.connect({
    host: router.address,
    port: router.port,
    user: router.user,
    password: routerPassword(router, env),
    ...(router.tls ? { tls: { insecure: router.tlsInsecure, ...(ca ? { ca } : {}) } } : {}),
    ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    ...(options.commandTimeoutMs !== undefined ? { commandTimeoutMs: options.commandTimeoutMs } : {}),
  });
  try {
    return await unit.read(client);
  } finally {
    client.close();
  }
}

/** The draft from a spec's text, reading the selected devices. */
export async function importFromText(specText: string, file: string, options: ImportOptions = {}, io?: ImportIo): Promise<ImportResult> {
  const model = modelFromText(specText, file);
  const report: ImportReport = { networks: [], trunkPorts: new Map(), notes: [], warnings: [] };
  const named = options.routers?.length || options.switches?.length || options.hosts?.length;
  const pick = <T extends { name: string }>(items: T[], names: string[] | undefined) => (named ? items.filter((i) => names?.includes(i.name)) : items);
  for (const [kind, names, items] of [['router', options.routers, model.routers], ['switch', options.switches, model.switches], ['host', options.hosts, model.hosts]] as const) {
    for (const n of names ?? []) if (!(items as Array<{ name: string }>).some((i) => i.name === n)) throw new UserError(`--${kind} ${n}: no ${kind} "${n}" in ${file}`);
  }
  const taken = new Set<string>();
  if (model.networks.length > 0) report.notes.push(`the networks of ${file} are not in this draft: it has the networks found on the devices`);
  let failed = 0;
  const read: string[] = [];
  const routers = pick(model.routers, options.routers);
  // every router at once: one connection and one round of prints each
  const results = await Promise.allSettled(routers.map(async (r) => {
    io?.stderr(`router ${r.name}: reading ${r.address}\n`);
    if (r.type !== 'routeros') throw new Error('OpenWrt routers cannot be imported yet');
    return { router: r, live: await readRouterOS(model, r, options) };
  }));
  results.forEach((res, i) => {
    const r = routers[i]!;
    if (res.status === 'rejected') {
      failed++;
      const msg = `router ${r.name} could not be read: ${(res.reason as Error).message}; its networks are missing from this draft`;
      report.notes.push(msg);
      report.warnings.push(msg);
      return;
    }
    const { router, live } = res.value;
    read.push(`router ${r.name} (RouterOS${live.version ? ` ${live.version}` : ''}, ${r.address})`);
    importRouterOS(router as RouterOSRouter, live, report, taken);
  });
  for (const s of pick(model.switches, options.switches)) report.notes.push(`switch ${s.name}: not read (import reads routers and hosts); its access ports are missing from this draft`);
  for (const h of pick(model.hosts, options.hosts)) report.notes.push(`host ${h.name}: not read (import does not read hosts yet); its Docker networks and shims are missing from this draft`);

  const header = [
    `Draft spec written by flatnet-router import from ${file}.`,
    `Read: ${read.length > 0 ? read.join('; ') : 'nothing'}.`,
    'Review it, then: flatnet-router validate FILE. Until plan --adopt exists, plan refuses the hand-made objects it describes (their VLAN ids are taken): remove them by hand in a maintenance window, or keep this as the record of your setup.',
    ...(report.notes.length > 0 ? ['', ...report.notes] : []),
  ];
  const draft = draftText(specText, report, header);
  // the draft must validate: a problem here is a bug of import, said as such
  try {
    modelFromText(draft, options.out ?? '<draft>');
  } catch (err) {
    if (!(err instanceof SpecError)) throw err;
    for (const p of err.problems) report.warnings.push(`the draft does not validate (a bug of import, please report it): ${formatProblem(err.file, p)}`);
    failed++;
  }
  return { code: failed > 0 ? 1 : 0, draft, report };
}

/** The CLI command: reads SPEC, imports, prints or writes the draft, warnings on stderr. Returns the exit code. */
export async function runImport(file: string, options: ImportOptions, io: ImportIo): Promise<number> {
  const text = readFileSync(file, 'utf8');
  const { code, draft, report } = await importFromText(text, file, options, io);
  for (const w of report.warnings) io.stderr(`warning: ${w}\n`);
  if (options.out === undefined) {
    io.stdout(draft);
    return code;
  }
  try {
    writeFileSync(options.out, draft, { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new UserError(`--out ${options.out}: the file exists; import never writes over a file (choose another name or remove it)`);
    throw err;
  }
  io.stderr(`wrote ${options.out} (${report.networks.length} network${report.networks.length === 1 ? '' : 's'})\n`);
  return code;
}
