// The flatnet-router command. User mistakes print one line each on stderr with exit code 1, never a stack trace.
import { Command, InvalidArgumentError, Option } from 'commander';
import { SpecError, UserError, formatProblem } from './errors.js';
import { loadModel } from './index.js';
import type { Model } from './model.js';
import { STDIN_ARG, STDIN_NAME } from './spec-file/load.js';
import { outDirSelection, writeOutDir, type OutDirSelection } from './out-dir.js';
import { UnsafeValueError } from './quote.js';
import { specJsonSchema } from './spec-file/schema.js';
import { TARGET_NAMES, type Artifact, type TargetName } from './target.js';
import { generate } from './targets.js';
import { DIAGRAM_FORMATS, renderDiagram, type DiagramFormat } from './diagram.js';
import type { ApplyCommandOptions, PlanCommandOptions } from './plan/run.js';
import { errorJson } from './plan/render.js';

const DEFAULT_SPEC = './flatnet.yaml';

/** Warnings do not fail a command: one line each on stderr, in the validation format. */
function printWarnings(file: string, model: Model): void {
  const name = file === STDIN_ARG ? STDIN_NAME : file;
  for (const w of model.warnings) process.stderr.write(`${formatProblem(name, { ...w, message: `warning: ${w.message}` })}\n`);
}

/** Loads the spec (SpecError on problems) and prints its warnings. */
function load(file: string): Model {
  const model = loadModel(file);
  printWarnings(file, model);
  return model;
}

/** The networks at a glance, after validate's "ok": one row each. */
export function networkTable(model: Model): string {
  const hostsOf = (n: Model['networks'][number]) => n.hosts.join(',');
  const shims = (n: Model['networks'][number]) =>
    n.attachments.length === 0 ? '' : n.attachments.length === 1 ? `${n.attachments[0]!.shimName} ${n.attachments[0]!.ipv4.shimAddress}` : `${n.attachments[0]!.shimName} ${n.attachments.map((a) => `${a.host}=${a.ipv4.shimAddress}`).join(' ')}`;
  const rows = model.networks.map((n) => [n.name, n.vlan !== undefined ? String(n.vlan) : 'untagged', n.ipv4.subnet, n.ipv4.gateway, n.ipv4.containerRange || '-', shims(n) || '-', n.router ?? '-', hostsOf(n) || '-']);
  const head = ['network', 'vlan', 'subnet', 'gateway', 'containers', 'shim', 'router', 'hosts'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return rows.length === 0 ? '' : `${[line(head), ...rows.map(line)].join('\n')}\n`;
}

function summary(file: string, quiet = false): string {
  const model = load(file);
  if (!quiet) return `${summaryLine(file, model)}\n${networkTable(model)}`;
  return `${summaryLine(file, model)}\n`;
}

function summaryLine(file: string, model: Model): string {
  const tagged = model.networks.filter((n) => n.vlan !== undefined).length;
  return `${file === STDIN_ARG ? STDIN_NAME : file}: ok (${model.networks.length} network${model.networks.length === 1 ? '' : 's'}, ${tagged} with a VLAN; ${model.routers.length} router${model.routers.length === 1 ? '' : 's'}; ${model.switches.length > 0 ? `${model.switches.length} switch${model.switches.length === 1 ? '' : 'es'}; ` : ''}${model.hosts.length} host${model.hosts.length === 1 ? '' : 's'})`;
}

function parseTarget(value: string): TargetName | 'all' {
  if (value === 'all' || (TARGET_NAMES as readonly string[]).includes(value)) return value as TargetName | 'all';
  throw new InvalidArgumentError(`must be one of ${[...TARGET_NAMES, 'all'].join(', ')}`);
}

function writeArtifacts(outDir: string, artifacts: Artifact[], selection: OutDirSelection, force: boolean): void {
  const result = writeOutDir(outDir, artifacts, selection, { force });
  for (const file of result.written) process.stdout.write(`wrote ${file}\n`);
  for (const file of result.removed) process.stdout.write(`removed ${file}\n`);
  for (const note of result.kept) process.stderr.write(`flatnet-router: kept ${note}\n`);
  if (result.warning) process.stderr.write(`flatnet-router: ${result.warning}\n`);
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('flatnet-router')
    .description('One network spec for Docker macvlan/ipvlan networks on the LAN: validates it and generates the router (RouterOS, OpenWrt), Docker and host configuration.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('validate')
    .description('check a spec: schema and cross-target consistency; prints every problem as <file>:<line>:<col> <yaml.path>: <message>')
    .argument('[spec]', 'the network spec (YAML or JSON)', DEFAULT_SPEC)
    .option('-q, --quiet', 'only the one "ok" line, without the table of networks')
    .addHelpText('after', '\nExample:\n  flatnet-router validate examples/homelab.yaml\n  flatnet-router validate flatnet.yaml --quiet && echo valid')
    .action((spec: string, opts: { quiet?: boolean }) => {
      process.stdout.write(summary(spec, opts.quiet === true));
    });

  program
    .command('generate')
    .description('render configuration for routers, Docker and hosts from a spec')
    .argument('[spec]', 'the network spec (YAML or JSON)', DEFAULT_SPEC)
    .addOption(new Option('-t, --target <target>', `one of ${[...TARGET_NAMES, 'all'].join(', ')}`).argParser(parseTarget).default('all'))
    .option('-r, --router <name>', 'only this router')
    .option('-s, --switch <name>', 'only this switch (its bridge VLAN script or batch)')
    .option('-H, --host <name>', 'only this Docker host')
    .option('-o, --out <dir>', 'write files under this directory instead of printing them')
    .option('--force', 'with --out: overwrite files changed by hand since flatnet wrote them')
    .addHelpText(
      'after',
      `
Examples (with one --target and one --router or --host, stdout is exactly that artifact, ready to pipe):
  flatnet-router generate examples/homelab.yaml --target docker --host nas | sh -e
  flatnet-router generate examples/homelab.yaml --target host --host nas | sudo sh -e
  flatnet-router generate examples/homelab.yaml --target routeros --router core > core.rsc
  flatnet-router generate examples/switched.yaml --target routeros --switch sw1 > sw1.rsc
Everything, as files:
  flatnet-router generate examples/homelab.yaml --out build/`,
    )
    .action((spec: string, opts: { target: TargetName | 'all'; router?: string; switch?: string; host?: string; out?: string; force?: boolean }) => {
      const model = load(spec);
      if (opts.router !== undefined && opts.switch !== undefined) throw new UserError('--router and --switch each select one device: give one of them');
      const artifacts = generate(model, {
        targets: opts.target === 'all' ? undefined : [opts.target],
        router: opts.router,
        switch: opts.switch,
        host: opts.host,
      });
      if (artifacts.length === 0) {
        process.stderr.write('flatnet-router: nothing to generate for that selection\n');
        return;
      }
      if (opts.out !== undefined) {
        writeArtifacts(opts.out, artifacts, outDirSelection({ targets: opts.target === 'all' ? undefined : [opts.target], router: opts.router, switch: opts.switch, host: opts.host }), opts.force === true);
        return;
      }
      if (artifacts.length === 1) {
        process.stdout.write(artifacts[0]!.content);
        return;
      }
      process.stdout.write(artifacts.map((a) => `# ==> ${a.path} <==\n${a.content}`).join('\n'));
    });

  const collect = (value: string, previous: string[] = []) => [...previous, value];
  const seconds = (value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0 || n > 3600) throw new InvalidArgumentError('must be a number of seconds from 0 to 3600');
    return n;
  };
  const confirmSeconds = (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > 3600) throw new InvalidArgumentError('must be a whole number of seconds from 0 to 3600 (0 turns the rollback off)');
    return n;
  };
  const count = (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new InvalidArgumentError('must be a whole number from 1 to 64');
    return n;
  };
  const pushOptions = (cmd: Command) =>
    cmd
      .argument('[spec]', 'the network spec (YAML or JSON)', DEFAULT_SPEC)
      .option('-r, --router <name>', 'only this router (repeat for several); default: every router and switch of the spec', collect)
      .option('-s, --switch <name>', 'only this switch (repeat for several); with --router: those routers and switches', collect)
      .option('-H, --host <name>', 'only this Docker host (repeat for several): over SSH when the spec gives it ssh, else this machine (as root)', collect)
      .option('--json', 'machine-readable plan and result on stdout')
      .option('--verbose', 'text plan: every property of every object (default: one line per object; a change lists the properties that differ)')
      .option('--adopt', 'take over in place the hand-made objects that already are what the spec asks for (shown as "= adopt": relabelled or renamed in place, never removed and re-created; a value that differs is changed in the same step)')
      .option('--from-owner <owner>', 'objects of this owner ("none": without an owner) are this spec\'s: relabelled in place to the spec\'s owner: (never re-created)')
      .option('--timeout <seconds>', 'connect/login and per-command timeout (default 10 s to connect, 30 s per command)', seconds)
      .option('--concurrency <n>', 'devices worked on at once (default 4)', count)
      .option('--accept-new-host-key', 'OpenWrt devices and hosts with ssh: record an unknown SSH host key in ~/.ssh/known_hosts (a changed key is always refused)')
      .option('--install-root <dir>', 'host: where /etc and /run are on that host (default /); for image builds');
  type PushFlags = { router?: string[]; switch?: string[]; host?: string[]; json?: boolean; verbose?: boolean; fromOwner?: string; adopt?: boolean; timeout?: number; concurrency?: number; acceptNewHostKey?: boolean; installRoot?: string };
  const planOptions = (opts: PushFlags): PlanCommandOptions => ({
    ...(opts.router ? { routers: opts.router } : {}),
    ...(opts.switch ? { switches: opts.switch } : {}),
    ...(opts.host?.length ? { hosts: opts.host } : {}),
    ...(opts.json ? { json: true } : {}),
    ...(opts.verbose ? { verbose: true } : {}),
    ...(opts.fromOwner !== undefined ? { fromOwner: opts.fromOwner } : {}),
    ...(opts.adopt ? { adopt: true } : {}),
    ...(opts.timeout !== undefined ? { timeout: opts.timeout } : {}),
    ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
    ...(opts.acceptNewHostKey ? { acceptNewHostKey: true } : {}),
    ...(opts.installRoot !== undefined ? { installRoot: opts.installRoot } : {}),
  });

  pushOptions(
    program
      .command('plan')
      .description('read each router, switch and Docker host with ssh live and show what apply would change (nothing is changed); live checks fail like validation errors'),
  )
    .option('--detailed-exitcode', 'exit 2 when changes are pending (0: none, 1: error)')
    .option('-o, --out <file>', 'save the plan to this file: flatnet-router apply FILE applies exactly it, and refuses when a device changed since')
    .option('--explain <network>', "print the audit's flow table of one network: each flow's verdict in the spec and live, and the rule that decides it")
    .addHelpText(
      'after',
      `
The router's password comes from the environment variable named by password-env (or from password-file).
Example:
  FLATNET_CORE_PASSWORD=... flatnet-router plan examples/routeros-vlan.yaml --router core
  flatnet-router plan examples/switched.yaml --switch sw1 --json
  flatnet-router plan flatnet.yaml --router core --explain cams   # who may talk to cams, live, and which rule decides`,
    )
    .action(async (spec: string, opts: PushFlags & { detailedExitcode?: boolean; explain?: string; out?: string }) => {
      // loaded on use: validate and generate need none of the push code (sockets, TLS, SSH)
      const { runPlan } = await import('./plan/run.js');
      process.exitCode = await runPlan(spec, { ...planOptions(opts), ...(opts.detailedExitcode ? { detailedExitcode: true } : {}), ...(opts.explain !== undefined ? { explain: opts.explain } : {}), ...(opts.out !== undefined ? { out: opts.out } : {}) });
    });

  pushOptions(
    program
      .command('apply')
      .description('plan, ask, then change each router, then each switch, then each Docker host with ssh, to match the spec: only objects flatnet owns, only what differs'),
  )
    .option('--yes', 'apply without asking (needed when there is no terminal)')
    .option('--dry-run', 'only plan (same as flatnet-router plan)')
    .option('--recreate-networks', 'host: replace Docker networks that have containers attached (disconnect, recreate, reconnect with their addresses)')
    .option('--confirm-timeout <seconds>', 'RouterOS and OpenWrt: the router (or switch) restores its previous state unless flatnet reconnects and confirms within this time (default 60; 0 turns it off)', confirmSeconds)
    .addHelpText(
      'after',
      `
Example:
  FLATNET_CORE_PASSWORD=... flatnet-router apply examples/routeros-vlan.yaml --router core
  flatnet-router apply flatnet.yaml --yes --json     # unattended, result as JSON
  flatnet-router apply - --yes < flatnet.yaml        # the spec on stdin (then --yes: stdin cannot answer)
  flatnet-router plan flatnet.yaml --out tonight.plan && flatnet-router apply tonight.plan   # exactly the plan reviewed
  sudo flatnet-router apply flatnet.yaml --router core --host nas   # the router first, then this Docker host
  flatnet-router apply flatnet.yaml --host nas        # a host with ssh: from anywhere, over one SSH connection`,
    )
    .action(async (spec: string, opts: PushFlags & { yes?: boolean; dryRun?: boolean; confirmTimeout?: number; recreateNetworks?: boolean }) => {
      const options: ApplyCommandOptions = {
        ...planOptions(opts),
        ...(opts.yes ? { yes: true } : {}),
        ...(opts.dryRun ? { dryRun: true } : {}),
        ...(opts.confirmTimeout !== undefined ? { confirmTimeout: opts.confirmTimeout } : {}),
        ...(opts.recreateNetworks ? { recreateNetworks: true } : {}),
      };
      const { runApply } = await import('./plan/run.js');
      process.exitCode = await runApply(spec, options);
    });

  pushOptions(
    program
      .command('status')
      .description('is everything still as the spec says? reads every router, switch and Docker host with ssh at once, changes nothing, and prints one row per network with each device on its path; exit 0 in sync, 2 drift, 1 an error or an unreachable device'),
  )
    .addHelpText(
      'after',
      `
Example (cron, monitoring):
  FLATNET_CORE_PASSWORD=... flatnet-router status flatnet.yaml || echo "drift or error: $?"
  flatnet-router status flatnet.yaml --json     # format flatnet-status/1`,
    )
    .action(async (spec: string, opts: PushFlags) => {
      const { runStatus } = await import('./plan/run.js');
      process.exitCode = await runStatus(spec, planOptions(opts));
    });

  program
    .command('import')
    .description("read the spec's routers, switches and Docker hosts live (the same reads as plan) and print a draft spec of the networks found on them, joined by VLAN id and subnet, each value commented with where it came from; or write it to --out FILE, never over an existing file")
    .argument('[spec]', 'a spec listing the devices (networks: may be empty or left out)', DEFAULT_SPEC)
    .option('-r, --router <name>', 'import only this router (repeatable)', collect)
    .option('-s, --switch <name>', 'import only this switch (repeatable)', collect)
    .option('-H, --host <name>', 'import only this host (repeatable)', collect)
    .option('-o, --out <file>', 'write the draft to this file (refused when it exists)')
    .addHelpText(
      'after',
      `
Example:
  FLATNET_CORE_PASSWORD=... flatnet-router import devices.yaml --out flatnet.yaml && flatnet-router validate flatnet.yaml`,
    )
    .action(async (spec: string, opts: { router?: string[]; switch?: string[]; host?: string[]; out?: string }) => {
      const { runImport } = await import('./import/run.js');
      process.exitCode = await runImport(
        spec,
        {
          ...(opts.router ? { routers: opts.router } : {}),
          ...(opts.switch ? { switches: opts.switch } : {}),
          ...(opts.host ? { hosts: opts.host } : {}),
          ...(opts.out !== undefined ? { out: opts.out } : {}),
        },
        { stdout: (t: string) => process.stdout.write(t), stderr: (t: string) => process.stderr.write(t) },
      );
    });

  program
    .command('diagram')
    .description("draw the spec's topology: routers, switches and hosts, each cable with both ports and the VLANs it carries, the networks with their subnets and container ranges, the access ports")
    .argument('[spec]', 'the network spec (YAML or JSON)', DEFAULT_SPEC)
    .addOption(new Option('-f, --format <format>', 'mermaid (renders in Markdown on GitHub) or dot (Graphviz)').choices([...DIAGRAM_FORMATS]).default('mermaid'))
    .addHelpText(
      'after',
      `
Examples:
  flatnet-router diagram examples/switched.yaml > topology.mmd                         # paste into a \`\`\`mermaid block
  flatnet-router diagram examples/switched.yaml --format dot | dot -Tsvg > topology.svg   # Graphviz (apt-get install graphviz)`,
    )
    .action((spec: string, opts: { format: DiagramFormat }) => {
      process.stdout.write(renderDiagram(load(spec), opts.format));
    });

  program
    .command('schema')
    .description('print the JSON Schema of the spec (for editors: # yaml-language-server: $schema=<file>)')
    .addHelpText('after', '\nExample:\n  flatnet-router schema > flatnet.schema.json')
    .action(() => {
      process.stdout.write(`${JSON.stringify(specJsonSchema(), null, 2)}\n`);
    });

  return program;
}

/** With --json, plan/apply/status print one JSON document on stdout whatever happens, errors included. */
function jsonError(argv: string[], error: string, problems: Parameters<typeof errorJson>[2] = []): void {
  const command = argv.slice(2).find((a) => !a.startsWith('-'));
  if (!argv.includes('--json') || !['plan', 'apply', 'status'].includes(command ?? '')) return;
  process.stdout.write(errorJson(command!, error, problems));
}

export async function main(argv: string[]): Promise<number> {
  try {
    process.exitCode = 0;
    await buildProgram().parseAsync(argv);
    return Number(process.exitCode ?? 0);
  } catch (err) {
    if (err instanceof SpecError) {
      for (const p of err.problems) process.stderr.write(`${formatProblem(err.file, p)}\n`);
      process.stderr.write(`${err.problems.length} problem${err.problems.length === 1 ? '' : 's'} in ${err.file}; nothing was generated\n`);
      jsonError(argv, `${err.problems.length} problem${err.problems.length === 1 ? '' : 's'} in ${err.file}`, err.problems);
    } else if (err instanceof UserError || err instanceof UnsafeValueError) {
      process.stderr.write(`flatnet-router: ${err.message}\n`);
      jsonError(argv, err.message);
    } else if (err instanceof Error && (err as NodeJS.ErrnoException).code !== undefined && (err as NodeJS.ErrnoException).syscall) {
      process.stderr.write(`flatnet-router: ${err.message}\n`);
    } else {
      process.stderr.write(`flatnet-router: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
    return 1;
  }
}
