// Build + smoke test, shared by the CLI and the extension: one engine, one ledger. Refuses to run
// in an untrusted workspace, and refuses a second concurrent build or smoke test of one target —
// across processes too, through a per-target lock file in the git common dir.
import { statSync } from 'node:fs';
import * as path from 'node:path';
import type { TargetConfig } from '../config';
import { hashInputChanges, buildLabels, BuildSettingsError, imageTags, LABEL_REVISION } from './labels';
import { buildBuiltin, BuildFailedError, BuiltinBuildError, planBuiltinBuild, type BuiltinPlan } from './builder';
import { BuilderChoiceError, type BuilderKind } from './builderChoice';
import { dockerfileFeatures } from './dockerfileFeatures';
import { resolveSecrets, SecretSettingsError, unconfiguredSecretWarnings } from './buildSecrets';
import { commandArgv, CommandSpecError, runCommand } from './commandRunner';
import { DockerEndpointError, resolveDockerEndpoints } from '../docker/endpoints';
import { connectDocker, parseRevisionLabel, pingDocker } from '../docker/state';
import { tryLock, type LockHandle, type LockOwner } from './fileLock';
import { provenanceDir } from '../safety/safeFiles';
import { isAbortError, runGit } from '../git/exec';
import { readHead, readWorktreeFile, worktreeChanges, type RepoInfo } from '../git/queries';
import { pathspecFilter } from '../inputs/imageInputs';
import { appendLedgerRecord, readLedger, type LedgerRecord, type RunResult } from './ledger';
import { worktreeInputs } from '../status/targetInputs';
import { dockerfileFor, dockerStateFor, ProvenanceError, type Workspace } from '../status/workspace';
import { busyProbeAddresses, PORT_IN_USE_WHY, resolveSmokeSettings, runSmoke, SmokeSettingsError, type ResolvedSmoke, type SmokeResult } from './smoke';
import type { DockerEndpoint, ImageInfo } from '../types';
import { TOOL_VERSION } from '../version';

export { BuildRefusedError } from './refused';
import { BuildRefusedError } from './refused';

export interface RunOptions {
  signal?: AbortSignal;
  /** Build output and smoke progress, line by line. */
  onOutput?: (line: string) => void;
  /**
   * Whether the workspace is trusted. False (VS Code Restricted Mode) refuses everything here:
   * custom and smoke commands come from the workspace's config, and even the built-in build runs
   * the workspace's Dockerfile, so it waits until the user trusts the workspace.
   */
  trusted: boolean;
  /** Who runs it, for the message a second runner gets (e.g. "the CLI", "VS Code"). */
  origin?: string;
  /** Environment for DOCKER_BUILDKIT and secrets from variables; default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface BuildOptions extends RunOptions {
  smoke?: boolean;
}

export interface BuildResult {
  ok: boolean;
  result: RunResult;
  target: string;
  mode: 'builtin' | 'command';
  /** The builder of a built-in build; null for a custom command (or when it never started). */
  builder: BuilderKind | null;
  imageId: string | null;
  tags: string[];
  /** Full SHA of HEAD at the start. */
  revision: string;
  dirty: boolean;
  inputHash: string;
  startedAt: string;
  endedAt: string;
  /** What went wrong, when it did: the engine's words for a failed built-in build. */
  error: string | null;
  /** What to do about `error`, when we can tell (e.g. which Docker version understands the syntax). */
  hint: string | null;
  smoke: SmokeResult | null;
  /** For a custom build whose image has no (or a wrong) revision label: how to add one. */
  guidance: string | null;
  ledgerId: string | null;
  /** Set when the run could not be recorded (the run itself still counts). */
  ledgerError: string | null;
}

export interface SmokeRunResult {
  ok: boolean;
  target: string;
  imageId: string;
  revision: string | null;
  dirty: boolean;
  smoke: SmokeResult;
  ledgerId: string | null;
  ledgerError: string | null;
}

// ---------------------------------------------------------------------------------------------
// Exclusion: one build or smoke test per target at a time

const running = new Map<string, string>();

export function targetLockFile(repo: RepoInfo, target: string): string {
  // Made here, safely (a real folder of the user's inside the real git dir: safety/safeFiles.ts).
  return path.join(provenanceDir(repo.commonDir, 'locks'), `${target.replace(/[^A-Za-z0-9._-]/g, '_')}.lock`);
}

/** Whether a build/smoke test of the target runs now (in this process or another). */
export function targetBusy(repo: RepoInfo, target: string): LockOwner | null {
  const file = targetLockFile(repo, target);
  if (running.has(file)) return { pid: process.pid, host: '', since: '', purpose: running.get(file)! };
  const r = tryLock(file, 'probe');
  if ('release' in r) {
    r.release();
    return null;
  }
  return r.busy ?? { pid: 0, host: '', since: '', purpose: 'unknown' };
}

function lockTarget(repo: RepoInfo, target: string, purpose: string): LockHandle {
  const file = targetLockFile(repo, target);
  const busy = (owner: LockOwner | null) =>
    new BuildRefusedError(
      `${target} is already being built or smoke-tested${owner ? ` (${owner.purpose}${owner.pid ? `, pid ${owner.pid}` : ''}${owner.since ? `, since ${owner.since}` : ''})` : ''}.`,
      'Wait for it to finish, or cancel it. Different targets may build at once.',
      'busy',
    );
  if (running.has(file)) throw busy({ pid: process.pid, host: '', since: '', purpose: running.get(file)! });
  // A build lock older than 12 hours is stale even if its pid lives (the pid was reused).
  const r = tryLock(file, purpose, { staleMs: 12 * 3600_000 });
  if (!('release' in r)) throw busy(r.busy);
  running.set(file, purpose);
  return {
    file,
    release() {
      running.delete(file);
      r.release();
    },
  };
}

export function refuseUntrusted(opts: Pick<RunOptions, 'trusted'>, what: string): void {
  if (!opts.trusted) {
    throw new BuildRefusedError(
      `Refusing to ${what}: the workspace is not trusted.`,
      'Build and smoke commands come from the workspace\'s configuration. Trust the workspace (Manage Workspace Trust), then run it again.',
      'untrusted',
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Shared steps

function isFolder(abs: string): boolean {
  try {
    return statSync(abs).isDirectory();
  } catch {
    return false;
  }
}

export function buildEndpoint(target: TargetConfig): DockerEndpoint {
  try {
    return resolveDockerEndpoints({ targetEndpoints: target.endpoints })[0];
  } catch (err) {
    if (err instanceof DockerEndpointError) {
      throw new BuildRefusedError(err.message, 'Fix the Docker endpoint (DOCKER_HOST, DOCKER_CONTEXT, or "docker.endpoints" in .provenance.json).', 'docker');
    }
    throw err;
  }
}

async function requireEngine(endpoint: DockerEndpoint, signal?: AbortSignal): Promise<void> {
  const ping = await pingDocker(endpoint, signal);
  if (signal?.aborted) throw Object.assign(new Error('The operation was aborted'), { name: 'AbortError' });
  if (!ping.reachable) throw new BuildRefusedError(ping.reason, ping.hint, 'docker');
}

/**
 * Refuses a smoke test whose probe port is already taken, before anything is built or started,
 * naming the target's running containers (on the host network, the usual holder is the running
 * deployment of the same target).
 */
async function refuseBusyProbePorts(target: TargetConfig, settings: ResolvedSmoke, signal?: AbortSignal): Promise<void> {
  const busy = await busyProbeAddresses(settings.ready, signal);
  if (busy.length === 0) return;
  const state = await dockerStateFor(target, signal);
  const holders = state.reachable ? state.containers.filter((c) => c.state === 'running').map((c) => c.name) : [];
  const who = holders.length ? ` Running containers of ${target.name}: ${holders.join(', ')}.` : '';
  throw new BuildRefusedError(
    `The smoke test of ${target.name} probes ${busy.join(', ')}, which ${busy.length === 1 ? 'is' : 'are'} already in use: ${PORT_IN_USE_WHY}${who}`,
    'Give the smoke test its own port: make the service listen elsewhere in the smoke container (smoke.env or smoke.command) and point smoke.ready there. ' +
      `Or stop what listens on it first${holders.length ? ` (docker stop ${holders[0]})` : ''}.`,
    'port-in-use',
  );
}

/** The URL of the remote the current branch tracks, else origin, else the first remote; null without remotes. */
async function remoteUrl(root: string, branch: string | null, signal?: AbortSignal): Promise<string | null> {
  const { stdout } = await runGit(['remote'], { cwd: root, signal });
  const remotes = stdout.split('\n').filter(Boolean);
  if (remotes.length === 0) return null;
  let name = remotes.includes('origin') ? 'origin' : remotes[0];
  if (branch) {
    const r = await runGit(['config', '--get', `branch.${branch}.remote`], { cwd: root, signal, okCodes: [1] });
    const tracked = r.stdout.trim();
    if (tracked && remotes.includes(tracked)) name = tracked;
  }
  const url = await runGit(['remote', 'get-url', name], { cwd: root, signal, okCodes: [2, 128] });
  return url.stdout.trim() || null;
}

interface SourceFacts {
  revision: string;
  branch: string | null;
  dockerfile: string;
  ignoreFile: string | null;
  dirty: boolean;
  inputHash: string;
  changed: string[];
}

/** HEAD, the Dockerfile, and the uncommitted changes to image inputs (what makes a build dirty). */
async function sourceFacts(ws: Workspace, target: TargetConfig, signal?: AbortSignal): Promise<SourceFacts> {
  const head = await readHead(ws.repo, signal);
  if (head.sha === null) {
    throw new ProvenanceError(`The repository at ${ws.repo.root} has no commits yet.`, 'Make a first commit, then build.', 'empty-repo');
  }
  const dockerfile = await dockerfileFor(ws.repo, target, signal);
  const inputs = await worktreeInputs(ws.repo, target, dockerfile, signal);
  const changed = (await worktreeChanges(ws.repo.root, inputs.pathspecs, signal, pathspecFilter(inputs))).map((c) => c.path);
  return {
    revision: head.sha,
    branch: head.branch,
    dockerfile,
    ignoreFile: inputs.ignoreFile,
    dirty: changed.length > 0,
    inputHash: await hashInputChanges(ws.repo.root, changed),
    changed,
  };
}

/** Keeps the last few KiB of output for the ledger. */
function outputTail(onOutput?: (l: string) => void) {
  const lines: string[] = [];
  let size = 0;
  return {
    line(l: string) {
      onOutput?.(l);
      lines.push(l);
      size += l.length + 1;
      while (size > 8192 && lines.length > 1) size -= lines.shift()!.length + 1;
    },
    text: () => lines.join('\n'),
  };
}

export async function record(repo: RepoInfo, rec: Parameters<typeof appendLedgerRecord>[1]): Promise<{ id: string | null; error: string | null }> {
  try {
    // Never cancelled: a cancelled run is recorded too.
    const r = await appendLedgerRecord(repo.commonDir, rec);
    return { id: r.id, error: null };
  } catch (err) {
    return { id: null, error: `Could not write the build ledger: ${(err as Error).message}` };
  }
}

// ---------------------------------------------------------------------------------------------
// Build

/**
 * Builds the target (built-in or its custom command), optionally smoke-tests the new image, and
 * records the run in the ledger. Throws BuildRefusedError / ProvenanceError when it cannot start;
 * a build or smoke test that ran and failed (or was cancelled) is a result with ok: false.
 */
export async function runBuild(ws: Workspace, target: TargetConfig, opts: BuildOptions): Promise<BuildResult> {
  refuseUntrusted(opts, `build ${target.name}`);
  const mode = target.build?.mode ?? 'builtin';
  // Settings problems are found before anything runs.
  let smokeSettings: ResolvedSmoke | null = null;
  let argv: string[] | null = null;
  let secrets = new Map<string, Buffer>();
  const env = opts.env ?? process.env;
  try {
    if (opts.smoke) smokeSettings = resolveSmokeSettings(target);
    if (mode === 'command') argv = commandArgv(target.build?.command, target.build?.shell, 'build');
    // Only here, after the trust check: a secret is read for a trusted build only.
    else secrets = resolveSecrets(target.build?.secrets, ws.repo.root, env);
  } catch (err) {
    if (err instanceof SmokeSettingsError || err instanceof CommandSpecError || err instanceof SecretSettingsError) {
      throw new BuildRefusedError(err.message, 'Fix the target in .provenance.json.', 'settings');
    }
    throw err;
  }
  if (mode === 'builtin' && !isFolder(path.join(ws.repo.root, target.context))) {
    throw new BuildRefusedError(
      `The build context "${target.context || '.'}" of ${target.name} is not a folder of the work tree (${path.join(ws.repo.root, target.context)}).`,
      'Fix the target\'s "context" in .provenance.json (or --context): a folder, relative to the repository root.',
      'settings',
    );
  }
  const endpoint = buildEndpoint(target);
  if (smokeSettings) await refuseBusyProbePorts(target, smokeSettings, opts.signal);
  const lock = lockTarget(ws.repo, target.name, `build of ${target.name} by ${opts.origin ?? 'provenance'}`);
  try {
    const facts = await sourceFacts(ws, target, opts.signal);
    let tags: string[] = [];
    if (mode === 'builtin') {
      try {
        tags = imageTags(target.image, facts.revision, facts.dirty, target.build?.tags);
      } catch (err) {
        if (err instanceof BuildSettingsError) throw new BuildRefusedError(err.message, 'Set "build.tags" for the target in .provenance.json.', 'settings');
        throw err;
      }
    }
    await requireEngine(endpoint, opts.signal);
    let plan: BuiltinPlan | null = null;
    if (mode === 'builtin') {
      try {
        plan = await planBuiltinBuild(endpoint, { builder: target.build?.builder, network: target.build?.network }, env, opts.signal);
      } catch (err) {
        if (err instanceof BuilderChoiceError) throw new BuildRefusedError(err.message, 'Fix "build.builder" in .provenance.json or DOCKER_BUILDKIT.', 'settings');
        if (isAbortError(err) || opts.signal?.aborted) throw err;
        throw new BuildRefusedError(`Cannot ask the engine at ${endpoint.host} how to build: ${(err as Error).message}`, 'Check that Docker is running and reachable.', 'docker');
      }
    }
    const startedAt = new Date();
    const out = outputTail(opts.onOutput);
    const res: BuildResult = {
      ok: false,
      result: 'failure',
      target: target.name,
      mode,
      builder: plan?.builder.kind ?? null,
      imageId: null,
      tags,
      revision: facts.revision,
      dirty: facts.dirty,
      inputHash: facts.inputHash,
      startedAt: startedAt.toISOString(),
      endedAt: startedAt.toISOString(),
      error: null,
      hint: null,
      smoke: null,
      guidance: null,
      ledgerId: null,
      ledgerError: null,
    };
    const how = plan ? `built-in, ${plan.builder.kind === 'buildkit' ? 'BuildKit' : 'classic builder'}` : 'custom command';
    out.line(
      `Building ${target.name} (${how}) at ${facts.revision.slice(0, 12)}` +
        `${facts.dirty ? ` with ${facts.changed.length} uncommitted input change(s)` : ''} on ${endpoint.host}`,
    );
    if (plan) {
      out.line(`${plan.builder.kind === 'buildkit' ? 'BuildKit' : 'The classic builder'}: ${plan.builder.why}.`);
      if (plan.network.why) out.line(`${plan.network.why}.`);
    }
    try {
      if (plan) {
        await builtinStep(ws, target, facts, tags, plan, secrets, opts.signal, out.line, res);
      } else {
        await commandStep(ws, target, facts, argv!, opts.signal, out.line, res);
      }
      if (res.ok && smokeSettings && res.imageId) {
        res.smoke = await runSmoke({ endpoint, image: res.imageId, target: target.name, settings: smokeSettings, signal: opts.signal, onOutput: out.line });
        if (res.smoke.result !== 'passed') {
          res.ok = false;
          res.result = res.smoke.result === 'cancelled' ? 'cancelled' : 'failure';
          res.error = `smoke test ${res.smoke.result}: ${res.smoke.reason}`;
        }
      } else if (res.ok && smokeSettings && !res.imageId) {
        res.ok = false;
        res.result = 'failure';
        res.error = 'Nothing to smoke-test: no new image of the target was found after the build.';
      }
    } catch (err) {
      if (isAbortError(err) || opts.signal?.aborted) {
        res.ok = false;
        res.result = 'cancelled';
        res.error = 'cancelled';
      } else if (err instanceof BuildFailedError || err instanceof CommandSpecError) {
        res.ok = false;
        res.result = 'failure';
        res.error = err.message;
        if (err instanceof BuiltinBuildError) {
          res.hint = err.hint;
          res.builder = err.builder;
        }
      } else {
        throw err;
      }
    }
    res.endedAt = new Date().toISOString();
    if (res.error) out.line(`${res.result === 'cancelled' ? 'Cancelled' : 'FAILED'}: ${res.error}`);
    if (res.hint) out.line(res.hint);
    const rec = await record(ws.repo, {
      kind: 'build',
      target: target.name,
      revision: facts.revision,
      dirty: facts.dirty,
      inputHash: facts.inputHash,
      imageId: res.imageId,
      tags: res.tags,
      mode,
      builder: res.builder,
      startedAt: res.startedAt,
      endedAt: res.endedAt,
      result: res.result,
      smoke: res.smoke ? { result: res.smoke.result, reason: res.smoke.reason } : null,
      error: res.error,
      logExcerpt: out.text(),
      tool: TOOL_VERSION,
    });
    res.ledgerId = rec.id;
    res.ledgerError = rec.error;
    return res;
  } finally {
    lock.release();
  }
}

async function builtinStep(
  ws: Workspace,
  target: TargetConfig,
  facts: SourceFacts,
  tags: string[],
  plan: BuiltinPlan,
  secrets: Map<string, Buffer>,
  signal: AbortSignal | undefined,
  onLine: (l: string) => void,
  res: BuildResult,
): Promise<void> {
  const root = ws.repo.root;
  const features = dockerfileFeatures(readWorktreeFile(root, facts.dockerfile) ?? '');
  for (const w of unconfiguredSecretWarnings(features, secrets.keys(), facts.dockerfile)) onLine(w);
  if (features.ssh.length > 0) {
    onLine(`warning: ${facts.dockerfile}:${features.ssh[0]} mounts an ssh agent (--mount=type=ssh), which the built-in build does not forward; build with your own command (docker buildx build --ssh default) if the step needs it.`);
  }
  const remote = await remoteUrl(root, facts.branch, signal);
  const labels = buildLabels({
    revision: facts.revision,
    dirty: facts.dirty,
    inputHash: facts.inputHash,
    dockerfile: facts.dockerfile,
    remoteUrl: remote,
    target: target.name,
    created: new Date(),
  });
  const { imageId, builder } = await buildBuiltin(plan, {
    contextDir: path.join(root, target.context),
    dockerfile: path.join(root, facts.dockerfile),
    ignoreFile: facts.ignoreFile ? path.join(root, facts.ignoreFile) : null,
    ignoreText: facts.ignoreFile ? readWorktreeFile(root, facts.ignoreFile) : null,
    dockerfileLabel: facts.dockerfile,
    features,
    buildArgs: target.buildArgs,
    targetStage: target.targetStage,
    labels,
    tags,
    secrets,
    signal,
    onOutput: onLine,
  });
  res.ok = true;
  res.result = 'success';
  res.builder = builder;
  res.imageId = imageId;
  onLine(`Built ${imageId.slice(0, 19)} tagged ${tags.join(', ')}`);
}

/** Environment of a custom build: buildx git labels on, plus what provenance knows. */
export function customBuildEnv(base: NodeJS.ProcessEnv, target: TargetConfig, facts: { revision: string; dirty: boolean; inputHash: string }): NodeJS.ProcessEnv {
  return {
    ...base,
    ...(target.build?.env ?? {}),
    BUILDX_GIT_LABELS: 'full',
    BUILDX_GIT_CHECK_DIRTY: '1',
    PROVENANCE_REVISION: facts.revision,
    PROVENANCE_DIRTY: facts.dirty ? 'true' : 'false',
    PROVENANCE_INPUT_HASH: facts.inputHash,
    PROVENANCE_TARGET: target.name,
    PROVENANCE_IMAGE: target.image,
  };
}

async function commandStep(
  ws: Workspace,
  target: TargetConfig,
  facts: SourceFacts,
  argv: string[],
  signal: AbortSignal | undefined,
  onLine: (l: string) => void,
  res: BuildResult,
): Promise<void> {
  const cwd = path.join(ws.repo.root, target.build?.cwd ?? '');
  const rel = path.relative(ws.repo.root, cwd);
  if (rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new CommandSpecError(`build.cwd "${target.build?.cwd}" must be inside the repository.`);
  }
  onLine(`$ ${argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ')}`);
  // What the engine holds before, to tell what the command built (or retagged) afterwards.
  const before = await dockerStateFor(target, signal);
  const tagsBefore = new Map((before.reachable ? before.images : []).map((i) => [i.id, new Set(i.tags)]));
  const outcome = await runCommand(argv, { cwd, env: customBuildEnv(process.env, target, facts), signal, onLine });
  if (outcome.cancelled) {
    res.result = 'cancelled';
    res.error = 'cancelled';
    return;
  }
  if (outcome.exitCode !== 0) {
    res.error = outcome.signal ? `the build command was killed by ${outcome.signal}` : `the build command exited with code ${outcome.exitCode}`;
    return;
  }
  res.ok = true;
  res.result = 'success';
  // What did it build? The newest image that is new or got a new tag; a build that changed nothing
  // (all cached, same tags) leaves the newest image as it was, which is then what it built.
  const docker = await dockerStateFor(target, signal);
  const images = docker.reachable ? docker.images : [];
  const changed = images.filter((i) => {
    const old = tagsBefore.get(i.id);
    return !old || i.tags.some((t) => !old.has(t));
  });
  const newest = changed[0] ?? images[0];
  if (!newest) {
    res.guidance =
      `The build command succeeded, but no image matching "${target.image}" is on ${docker.endpoint.host}. ` +
      'Check that the command tags the image with the target\'s image name (or fix "image" in .provenance.json).';
    onLine(res.guidance);
    return;
  }
  res.imageId = newest.id;
  res.tags = newest.tags;
  res.guidance = revisionGuidance(target, newest, facts.revision);
  if (res.guidance) onLine(res.guidance);
}

/** How to get a revision label into an image built by the user's own command, or null when it has a right one. */
export function revisionGuidance(target: TargetConfig, image: Pick<ImageInfo, 'id' | 'labels'>, head: string): string | null {
  const rev = parseRevisionLabel(image.labels, target.revisionLabels);
  const key = target.revisionLabels[0] ?? LABEL_REVISION;
  const how =
    'Add one in either way:\n' +
    '  1. buildx: provenance already sets BUILDX_GIT_LABELS=full and BUILDX_GIT_CHECK_DIRTY=1 for your command, so `docker buildx build` ' +
    'stamps the revision by itself (the classic `docker build` ignores them; use buildx, or keep the variables if the script resets the environment).\n' +
    `  2. Add to the docker build line of your script:\n       --label ${key}=$(git rev-parse HEAD)\n` +
    '     (or --label ' + key + '="$PROVENANCE_REVISION", which provenance sets for the command).';
  const id = image.id.replace(/^sha256:/, '').slice(0, 12);
  if (rev.kind === 'none') return `The new image ${id} has no revision label (${key}), so provenance cannot tell which commit it holds.\n${how}`;
  if (rev.kind === 'garbage') return `The new image ${id} has a revision label that is not a commit: ${rev.reason}\n${how}`;
  if (!head.startsWith(rev.sha)) {
    return `The new image ${id} says it was built from ${rev.sha.slice(0, 12)}, but HEAD is ${head.slice(0, 12)}. Check that your script labels the commit it builds.`;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Smoke test on its own

/**
 * Smoke-tests an image of the target: `image` (ID or reference) or the newest image of the target.
 * Records the run in the ledger. Throws BuildRefusedError when it cannot start.
 */
export async function runSmokeTest(ws: Workspace, target: TargetConfig, opts: RunOptions & { image?: string }): Promise<SmokeRunResult> {
  refuseUntrusted(opts, `smoke-test ${target.name}`);
  let settings: ResolvedSmoke;
  try {
    settings = resolveSmokeSettings(target);
  } catch (err) {
    if (err instanceof SmokeSettingsError) throw new BuildRefusedError(err.message, 'Fix the target in .provenance.json.', 'settings');
    throw err;
  }
  const endpoint = buildEndpoint(target);
  await requireEngine(endpoint, opts.signal);
  const image = await pickImage(target, endpoint, opts.image, opts.signal);
  await refuseBusyProbePorts(target, settings, opts.signal);
  const lock = lockTarget(ws.repo, target.name, `smoke test of ${target.name} by ${opts.origin ?? 'provenance'}`);
  try {
    const startedAt = new Date().toISOString();
    const out = outputTail(opts.onOutput);
    const rev = parseRevisionLabel(image.labels, target.revisionLabels);
    const smoke = await runSmoke({ endpoint, image: image.id, target: target.name, settings, signal: opts.signal, onOutput: out.line });
    const revision = rev.kind === 'sha' ? rev.sha : null;
    const dirty = rev.kind === 'sha' && rev.dirty;
    const rec = await record(ws.repo, {
      kind: 'smoke',
      target: target.name,
      revision,
      dirty,
      inputHash: image.labels['dev.build-provenance.input-hash'] ?? '',
      imageId: image.id,
      tags: image.tags,
      mode: null,
      startedAt,
      endedAt: new Date().toISOString(),
      result: smoke.result === 'passed' ? 'success' : smoke.result === 'cancelled' ? 'cancelled' : 'failure',
      smoke: { result: smoke.result, reason: smoke.reason },
      error: smoke.reason,
      logExcerpt: out.text(),
      tool: TOOL_VERSION,
    });
    return { ok: smoke.result === 'passed', target: target.name, imageId: image.id, revision, dirty, smoke, ledgerId: rec.id, ledgerError: rec.error };
  } finally {
    lock.release();
  }
}

/** `ref` (an image ID or name:tag) on the endpoint, else the target's newest image. Throws BuildRefusedError when there is none. */
export async function pickImage(
  target: TargetConfig,
  endpoint: DockerEndpoint,
  ref: string | undefined,
  signal?: AbortSignal,
  purpose = 'smoke-test',
): Promise<{ id: string; tags: string[]; labels: Record<string, string> }> {
  if (ref) {
    const docker = await connectDocker(endpoint, 10_000);
    try {
      const info = await docker.getImage(ref).inspect();
      return { id: info.Id, tags: info.RepoTags ?? [], labels: info.Config?.Labels ?? {} };
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) {
        throw new BuildRefusedError(`No image "${ref}" on ${endpoint.host}.`, 'Give an image ID or name:tag from `docker images`.', 'no-image');
      }
      throw err;
    }
  }
  const state = await dockerStateFor(target, signal);
  if (!state.reachable) throw new BuildRefusedError(state.reason, state.hint, 'docker');
  const newest = state.images[0];
  if (!newest) {
    throw new BuildRefusedError(`There is no image of ${target.name} (${target.image}) to ${purpose}.`, 'Build it first (provenance build), or pass --image.', 'no-image');
  }
  return newest;
}

// ---------------------------------------------------------------------------------------------
// History

export interface HistoryEntry extends LedgerRecord {
  /** Whether the image is present on the target's engine now (null: Docker unreachable). */
  present: boolean | null;
  /** Its current tags when present. */
  currentTags: string[];
  /** Did this image pass a smoke test: this run's, else the latest smoke run of the same image. Null: never tested. */
  passed: boolean | null;
}

export interface History {
  entries: HistoryEntry[];
  warnings: string[];
}

/** The ledger, newest first, joined with the images present on the targets' engines. */
export async function readHistory(ws: Workspace, opts: { target?: string; signal?: AbortSignal } = {}): Promise<History> {
  const ledger = await readLedger(ws.repo.commonDir);
  const warnings = [...ledger.warnings];
  const records = opts.target ? ledger.records.filter((r) => r.target === opts.target) : ledger.records;
  const images = new Map<string, ImageInfo>();
  let reachable = true;
  const states = await Promise.all(ws.targets.map((t) => dockerStateFor(t, opts.signal)));
  for (const s of states) {
    if (!s.reachable) {
      reachable = false;
      warnings.push(`Docker unreachable (${s.reason}); whether images are present is unknown.`);
      continue;
    }
    for (const img of s.images) images.set(img.id, img);
  }
  // Images that no longer match the target's name (retagged) are still looked up by ID.
  const missing = [...new Set(records.map((r) => r.imageId).filter((id): id is string => !!id && !images.has(id)))];
  if (reachable && missing.length > 0 && ws.targets.length > 0) {
    try {
      const docker = await connectDocker(buildEndpoint(ws.targets[0]), 10_000);
      for (const img of await docker.listImages()) {
        if (missing.includes(img.Id)) {
          images.set(img.Id, { id: img.Id, tags: (img.RepoTags ?? []).filter((t) => !t.startsWith('<none>')), created: '', labels: {}, revision: { kind: 'none' }, endpoint: '' });
        }
      }
    } catch {
      /* presence stays "no" */
    }
  }
  const lastSmoke = new Map<string, boolean>();
  for (const r of records) {
    if (r.imageId && r.smoke && r.smoke.result !== 'cancelled') lastSmoke.set(r.imageId, r.smoke.result === 'passed');
  }
  const entries = records
    .map((r): HistoryEntry => {
      const img = r.imageId ? images.get(r.imageId) : undefined;
      const own = r.smoke && r.smoke.result !== 'cancelled' ? r.smoke.result === 'passed' : undefined;
      return {
        ...r,
        present: r.imageId ? (reachable ? img !== undefined : null) : false,
        currentTags: img?.tags ?? [],
        passed: own ?? (r.imageId ? (lastSmoke.get(r.imageId) ?? null) : null),
      };
    })
    .reverse();
  return { entries, warnings };
}
