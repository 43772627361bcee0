// `provenance`: a thin shell over src/core. Human output by default, --json for machines.
// Exit codes: 0 ok, 1 drift found (check) or failure, 2 usage/environment errors.
import { clean } from '../core/humanize';
import { parseArgs } from 'node:util';
import { ConfigError } from '../core/config';
import { GitError, GitNotFoundError, isAbortError, traceSpan } from '../core/git/exec';
import { NotARepoError } from '../core/git/queries';
import { DockerfileError } from '../core/inputs/imageInputs';
import { computeAffects, computeDiff, computeInputs } from '../core/status/rangeQueries';
import { computeStatus } from '../core/status/statusQuery';
import { checkExitCode, type DriftSnapshot } from '../core/status/driftModel';
import { openWorkspace, ProvenanceError, type Workspace } from '../core/status/workspace';
import { BuildRefusedError } from '../core/build/refused';
import { setUntrusted, untrustedFromEnv } from '../core/safety/untrustedPolicy';
import { UNSAFE_PATH_HINT, UnsafePathError } from '../core/safety/safeFiles';
// The build and archaeology commands load on use: status/diff/affects start faster without them.
const archaeology = () => import('./archaeologyCommands.js');
const builds = () => import('./buildCommands.js');
const verifying = () => import('./verifyCommand.js');
import { affectsJson, formatAffects, formatDiff, formatInputs, formatStatus, inputsJson, makeStyle, perTarget, statusJson } from './format';

declare const PROVENANCE_VERSION: string | undefined;
const VERSION = typeof PROVENANCE_VERSION === 'string' ? PROVENANCE_VERSION : '0.0.0-dev';

const USAGE = `provenance — which of your commits are in the image that is running

Usage:
  provenance status   [--json]            HEAD → built image → running containers, and the drift
  provenance diff <from> <to> [--json]    commits in from..to that change image inputs
  provenance affects <path>... [--json]   is a file baked into the image, and where?
  provenance inputs   [--json]            what goes into the image (pathspecs, external inputs)
  provenance check   [--json]            exit 1 on relevant drift or uncommitted input changes, 2 when it
                                          cannot tell (Docker unreachable, unlabeled, unknown revision)
  provenance verify [--container NAME|--image REF] [--json]
                                          read the files baked into the running container (or the
                                          image) and compare them with git: which version is running;
                                          exit 1 when the bytes contradict the revision label
  provenance build [--smoke] [--json]     build the image (stamped with its commit), then smoke-test it
  provenance smoke [--image ID] [--json]  smoke-test an image (default: the target's newest)
  provenance deploy [--image ID] [--json] run the target's deploy step for an image (default: its newest)
  provenance history [--ledger] [--json]  every local image per target: revision (label, ledger or
                                          inferred from the reflog), containers, smoke results, marks;
                                          --ledger: the build ledger's records instead
  provenance contains <commit> [--json]   the first image built with the commit, whether it runs, and
                                          how long it waited to be built and to run
  provenance suspects [<good> <bad>] [--json]
                                          commits between two builds that change image inputs; a side is
                                          an image ID, tag, ledger id or revision (default: newest
                                          passing build before the newest failing one)
  provenance mark <image|ledger-id|commit> good|bad
                                          record a verdict on a build in the ledger (a commit: the one
                                          build made from it)
  provenance timeline [--html FILE] [--threshold-hours N] [--json]
                                          commits, builds and runs on one time axis; --html writes one
                                          self-contained HTML/SVG file

Global flags:
  --cwd DIR          repository (or a folder above it); default: the current folder
  --target NAME      one target from .provenance.json (default: all)
  --image NAME       image repository name or glob (overrides the config)
  --dockerfile PATH  Dockerfile (overrides the config)
  --context DIR      build context (overrides the config)
  --json             machine-readable output (stable; see README)
  --no-color         no colours (also NO_COLOR=1)
  --untrusted        the repository is not trusted (also PROVENANCE_UNTRUSTED=1): no program it
                     configures runs (git hooks, fsmonitor, gpg, filters), its Docker endpoints
                     are ignored, and build, smoke, deploy and mark are refused
  -h, --help         this help (also: provenance help)
  --version          print the version

Paths (--dockerfile, --context, --html, affects) are relative to --cwd, else to the current folder.

Exit codes: 0 ok (status: whatever the state) · 1 drift (check), build, smoke or deploy failure ·
2 usage or environment error, check cannot tell, or cancelled. See the README for each command.`;

export class UsageError extends Error {}

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export async function main(argv: string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        cwd: { type: 'string' },
        target: { type: 'string' },
        image: { type: 'string' },
        dockerfile: { type: 'string' },
        context: { type: 'string' },
        'no-color': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
        smoke: { type: 'boolean' },
        ledger: { type: 'boolean' },
        html: { type: 'string' },
        'threshold-hours': { type: 'string' },
        container: { type: 'string' },
        untrusted: { type: 'boolean' },
      },
    });
  } catch (err) {
    // The parser's own text quotes unevenly and suggests `--`; say it plainly, as JSON too.
    return reportError(new UsageError(argumentProblem(err as Error & { code?: string })), io, argv.some((a) => a === '--json' || a.startsWith('--json=')));
  }
  const { values: flags, positionals } = parsed;
  if (flags.version) {
    io.out(VERSION);
    return 0;
  }
  const [command, ...args] = positionals;
  if (flags.help || !command || command === 'help') {
    io.out(USAGE);
    return command || flags.help ? 0 : 2;
  }
  const style = makeStyle(io.isTTY && !flags['no-color'] && !io.env.NO_COLOR && !flags.json);
  const json = Boolean(flags.json);
  const cwd = flags.cwd ?? io.cwd;
  const untrusted = Boolean(flags.untrusted) || untrustedFromEnv(io.env);
  setUntrusted(untrusted);
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  try {
    const known = ['status', 'diff', 'affects', 'inputs', 'check', 'verify', 'build', 'smoke', 'deploy', 'history', 'contains', 'suspects', 'mark', 'timeline'];
    if (!known.includes(command)) throw new UsageError(`unknown command "${command}". Commands: ${known.join(', ')}.`);
    if (command === 'diff' && args.length !== 2) throw new UsageError('diff needs two revisions: provenance diff <from> <to>');
    if (command === 'affects' && args.length === 0) throw new UsageError('affects needs at least one path: provenance affects <path>...');
    if (flags.smoke && command !== 'build') throw new UsageError('--smoke goes with build: provenance build --smoke');
    if (flags.container !== undefined && command !== 'verify') throw new UsageError('--container goes with verify: provenance verify --container NAME');
    if (command === 'verify' && flags.container !== undefined && flags.image !== undefined) throw new UsageError('verify takes --container or --image, not both');
    if (['status', 'inputs', 'check', 'verify', 'build', 'smoke', 'deploy', 'history', 'timeline'].includes(command) && args.length > 0) throw new UsageError(`${command} takes no arguments (got "${args[0]}")`);
    if (command === 'contains' && args.length !== 1) throw new UsageError('contains needs one commit: provenance contains <commit>');
    if (command === 'suspects' && args.length !== 0 && args.length !== 2) throw new UsageError('suspects takes two builds or none: provenance suspects [<good> <bad>]');
    if (command === 'mark' && args.length !== 2) throw new UsageError('mark needs a build and a verdict: provenance mark <image|ledger-id|commit> good|bad');
    if (flags.ledger && command !== 'history') throw new UsageError('--ledger goes with history: provenance history --ledger');
    if ((flags.html !== undefined || flags['threshold-hours'] !== undefined) && command !== 'timeline') throw new UsageError('--html and --threshold-hours go with timeline');

    if (untrusted && ['build', 'smoke', 'deploy', 'mark'].includes(command)) {
      throw new BuildRefusedError(
        `Refusing to ${command}: the repository is not trusted (--untrusted or PROVENANCE_UNTRUSTED).`,
        `${command} runs or records what the repository configures. Run it without --untrusted (and PROVENANCE_UNTRUSTED unset) in a checkout you trust.`,
        'untrusted',
      );
    }
    const opened: Workspace = await openWorkspace(cwd, {
      target: flags.target,
      // For smoke, deploy and verify, --image names the image to test, run or read, not the target's image.
      overrides: { image: command === 'smoke' || command === 'deploy' || command === 'verify' ? undefined : flags.image, dockerfile: flags.dockerfile, context: flags.context },
      signal: controller.signal,
    });
    // Untrusted: nothing the repository configures is used to reach out (DOCKER_HOST and the docker CLI context still apply).
    const ws: Workspace = untrusted ? { ...opened, targets: opened.targets.map((t) => ({ ...t, endpoints: [] })) } : opened;
    const signal = controller.signal;
    switch (command) {
      case 'status':
      case 'check': {
        // With several targets, one that cannot be told (no Dockerfile found, …) is an error of its
        // own: the others are still reported. With one, it is the command's error.
        const several = ws.targets.length > 1;
        const outcomes = await Promise.all(
          ws.targets.map((t) =>
            computeStatus(ws, t, { signal, restricted: untrusted }).then(
              (snap) => ({ snap }),
              (err: unknown) => {
                if (!several || !(err instanceof ProvenanceError)) throw err;
                return { target: t.name, error: err };
              },
            ),
          ),
        );
        const snaps = outcomes.flatMap((o) => ('snap' in o ? [o.snap] : []));
        const failed = outcomes.flatMap((o) => ('error' in o ? [o] : []));
        const errorJson = (f: (typeof failed)[number]) => ({ target: f.target, error: f.error.message, hint: f.error.hint || null });
        if (!json) for (const f of failed) io.err(errorLine(`${f.target}: ${f.error.message}`, f.error.hint));
        if (command === 'status') {
          if (json) {
            const list = outcomes.map((o) => ('snap' in o ? statusJson(o.snap) : errorJson(o)));
            io.out(JSON.stringify(list.length === 1 ? list[0] : list, null, 2));
          }
          else if (snaps.length) io.out(snaps.map((s) => formatStatus(s, style)).join('\n\n'));
          return failed.length ? 2 : 0;
        }
        if (!several) return checkExit(snaps, io, style, json);
        return Math.max(failed.length ? 2 : 0, checkExit(snaps, io, style, json, failed.map(errorJson)));
      }
      case 'diff': {
        const results = await Promise.all(ws.targets.map((t) => computeDiff(ws, t, args[0], args[1], { signal })));
        for (const r of results) for (const w of r.warnings) io.err(`warning: ${w}`);
        if (json) {
          io.out(perTarget(results.map((r, k) => ({ target: ws.targets[k].name, from: r.from, to: r.to, total: r.total, relevant: r.relevant }))));
        } else {
          io.out(results.map((r, k) => formatDiff(ws.targets[k], r, style)).join('\n\n'));
        }
        return 0;
      }
      case 'affects': {
        const results = await Promise.all(ws.targets.map((t) => computeAffects(ws, t, args, cwd, signal)));
        if (json) {
          // One list of path results, each saying for which target (as every per-target JSON object does).
          const flat = results.flatMap((r, k) => r.map((a) => ({ target: ws.targets[k].name, ...affectsJson(a) })));
          io.out(JSON.stringify(flat, null, 2));
        } else {
          io.out(results.map((r, k) => formatAffects(ws.targets[k], r, style)).join('\n\n'));
        }
        return 0;
      }
      case 'verify':
        return await (await verifying()).verifyCommand({ ws, io, style, json, signal }, { container: flags.container, image: flags.image });
      case 'build':
        return await (await builds()).buildCommand({ ws, io, style, json, signal }, Boolean(flags.smoke));
      case 'smoke':
        return await (await builds()).smokeCommand({ ws, io, style, json, signal }, flags.image);
      case 'deploy':
        return await (await builds()).deployCommand({ ws, io, style, json, signal }, flags.image);
      case 'history':
        return await (await archaeology()).historyCommand({ ws, io, style, json, signal, cwd }, { ledger: Boolean(flags.ledger), target: flags.target });
      case 'contains':
        return await (await archaeology()).containsCommand({ ws, io, style, json, signal, cwd }, args[0]);
      case 'suspects':
        return await (await archaeology()).suspectsCommand({ ws, io, style, json, signal, cwd }, args);
      case 'mark':
        return await (await archaeology()).markCommand({ ws, io, style, json, signal, cwd }, args[0], args[1]);
      case 'timeline':
        return await (await archaeology()).timelineCommand({ ws, io, style, json, signal, cwd }, { html: flags.html, thresholdHours: flags['threshold-hours'] });
      case 'inputs': {
        const results = await Promise.all(ws.targets.map((t) => computeInputs(ws, t, signal)));
        if (json) {
          io.out(perTarget(results.map(inputsJson)));
        } else {
          io.out(results.map((r) => formatInputs(r, style)).join('\n\n'));
        }
        return 0;
      }
    }
    return 2;
  } catch (err) {
    return reportError(err, io, json);
  } finally {
    process.removeListener('SIGINT', onSignal);
  }
}

/** A plain sentence for what node:util's parseArgs refused. */
export function argumentProblem(err: Error & { code?: string }): string {
  const option = /'(-{1,2}[^' ]+)/.exec(err.message)?.[1];
  if (!option) return err.message;
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${option}.`;
  // `--threshold-hours --json`: the next argument is an option, so the value is missing too.
  if (/argument missing|argument is ambiguous/.test(err.message)) return `${option} needs a value, e.g. ${option} ${OPTION_EXAMPLES[option] ?? 'VALUE'}.`;
  if (/does not take an argument/.test(err.message)) return `${option} takes no value.`;
  return err.message;
}

const OPTION_EXAMPLES: Record<string, string> = {
  '--cwd': 'path/to/repo',
  '--target': 'helix-ubuntu',
  '--image': 'helix-ubuntu',
  '--dockerfile': 'Dockerfile',
  '--context': '.',
  '--html': 'timeline.html',
  '--threshold-hours': '4',
};

/** `check`: the status of each target, then the highest exit code among them (checkExitCode). */
function checkExit(snaps: DriftSnapshot[], io: Io, style: ReturnType<typeof makeStyle>, json: boolean, errors: { target: string; error: string; hint: string | null }[] = []): number {
  const codes = snaps.map(checkExitCode);
  if (json) {
    const objects = snaps.map((s, k) => ({ ...statusJson(s), exitCode: codes[k] }));
    io.out(errors.length ? JSON.stringify([...objects, ...errors.map((e) => ({ ...e, exitCode: 2 }))], null, 2) : perTarget(objects));
  } else {
    snaps.forEach((s, k) => {
      if (codes[k] === 2) io.err(`${s.target.name}: cannot check: ${s.summary}${s.hint ? `\n  → ${s.hint}` : ''}`);
      else if (codes[k] === 1) io.out(formatStatus(s, style));
      else io.out(`${s.target.name}: ${s.summary}`);
    });
  }
  return Math.max(0, ...codes);
}

function reportError(err: unknown, io: Io, json: boolean): number {
  let message: string;
  let hint = '';
  if (err instanceof ProvenanceError || err instanceof BuildRefusedError) {
    message = err.message;
    hint = err.hint;
  } else if (err instanceof UsageError) {
    message = err.message;
    hint = 'Run provenance --help for usage.';
  } else if (err instanceof NotARepoError) {
    message = err.message;
    hint = err.hint;
  } else if (err instanceof ConfigError || err instanceof GitNotFoundError) {
    message = err.message;
  } else if (err instanceof UnsafePathError) {
    message = err.message;
    hint = UNSAFE_PATH_HINT;
  } else if (err instanceof DockerfileError) {
    message = `${err.message}`;
  } else if (err instanceof GitError) {
    message = `${err.message}`;
    hint = 'This is git refusing the request; the message above is what git said.';
  } else if (isAbortError(err)) {
    message = 'Interrupted.';
  } else {
    message = `unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
    hint = 'This is a bug in provenance; please report it with the command you ran.';
  }
  if (json) io.out(JSON.stringify({ error: message, hint: hint || null }, null, 2));
  io.err(errorLine(message, hint));
  return 2;
}

/** An error on stderr. Messages quote repository text (file names, refs, labels): no terminal escapes from it. */
function errorLine(message: string, hint: string | undefined): string {
  return `provenance: ${clean(message)}${hint ? `\n  → ${clean(hint)}` : ''}`;
}

/** Runs the CLI as the process (the `provenance` executable, dist/cli.js, calls this). */
export function runFromProcess(): void {
  traceSpan('main (bundle loaded)')();
  main(process.argv.slice(2), {
    out: (s) => process.stdout.write(s + '\n'),
    err: (s) => process.stderr.write(s + '\n'),
    isTTY: Boolean(process.stdout.isTTY),
    env: process.env,
    cwd: process.cwd(),
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`provenance: ${String(err)}\n`);
      process.exitCode = 2;
    },
  );
}

if (require.main === module) runFromProcess();
