// Orchestration: the queries the CLI and the extension ask (status, diff, affects, inputs).
// Independent git and docker calls overlap; nothing is asked twice.
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { loadConfig, selectTargets, type LoadedConfig, type TargetConfig, type TargetOverrides } from './config';
import { computeDrift, type DriftSnapshot, type RevisionFacts } from './driftModel';
import { DockerEndpointError, resolveDockerEndpoints } from './dockerEndpoints';
import { readDockerState } from './dockerState';
import { readCacheEntry, writeCacheEntry } from './gitDirCache';
import { runGit, traceSpan } from './gitExec';
import {
  catFileBatch,
  commitsWithFiles,
  rangeParents,
  walkRange,
  countSides,
  findRepo,
  readHead,
  readWorktreeFile,
  worktreeChanges,
  type CatFileResult,
  type HeadInfo,
  type RepoInfo,
} from './gitQueries';
import {
  analyzeImageInputs,
  dockerfileCandidatesForImage,
  ignoreFileCandidates,
  unionInputs,
  type ImageInputs,
} from './imageInputs';
import type { AffectsResult, CommitSummary, DockerState, ExternalInput, ImageInfo, LabelRevision } from './types';

/** How many of the newest relevant commits a status carries with their files. */
export const STATUS_RELEVANT_LIMIT = 20;

export const DOCKERFILE_LABELS = ['com.docker.image.source.entrypoint', 'dev.build-provenance.dockerfile'];

/** A user-facing problem with what was asked: exit code 2 in the CLI, a message in the editor. */
export class ProvenanceError extends Error {
  constructor(
    message: string,
    readonly hint: string,
    readonly code: 'empty-repo' | 'unknown-revision' | 'no-dockerfile' | 'dockerfile' | 'usage' = 'usage',
  ) {
    super(message);
    this.name = 'ProvenanceError';
  }
}

export interface Workspace {
  repo: RepoInfo;
  config: LoadedConfig;
  targets: TargetConfig[];
}

export async function openWorkspace(
  cwd: string,
  opts: { target?: string; overrides?: TargetOverrides; signal?: AbortSignal } = {},
): Promise<Workspace> {
  const repo = await findRepo(cwd, opts.signal);
  const config = loadConfig(repo.root);
  const overrides = { ...opts.overrides };
  // Paths given on the command line are relative to where the user is, not the repo root.
  for (const key of ['dockerfile', 'context'] as const) {
    const v = overrides[key];
    if (v !== undefined) overrides[key] = path.relative(repo.root, path.resolve(cwd, v)).split(path.sep).join('/') || '.';
  }
  return { repo, config, targets: selectTargets(config, opts.target, overrides) };
}

/** Docker state over all of a target's endpoints, merged. Never throws. */
export async function dockerStateFor(target: TargetConfig, signal?: AbortSignal, opts: { allContainers?: boolean } = {}): Promise<DockerState> {
  let endpoints;
  try {
    endpoints = resolveDockerEndpoints({ targetEndpoints: target.endpoints });
  } catch (err) {
    if (!(err instanceof DockerEndpointError)) throw err;
    return {
      reachable: false,
      endpoint: { host: target.endpoints[0] ?? process.env.DOCKER_HOST ?? '(unknown)', source: 'configuration' },
      reason: err.message,
      hint: 'Fix the Docker endpoint (DOCKER_HOST, DOCKER_CONTEXT, or "docker.endpoints" in .provenance.json).',
    };
  }
  const traced = traceSpan(`docker state of ${target.image}`);
  const states = await Promise.all(
    endpoints.map((ep) => readDockerState(ep, { image: target.image, labelKeys: target.revisionLabels, signal, allContainers: opts.allContainers })),
  );
  traced();
  const up = states.filter((s): s is Extract<DockerState, { reachable: true }> => s.reachable);
  if (up.length === 0) return states[0];
  return {
    reachable: true,
    endpoint: up[0].endpoint,
    images: up.flatMap((s) => s.images).sort((a, b) => b.created.localeCompare(a.created)),
    containers: up.flatMap((s) => s.containers),
  };
}

async function requireHead(repo: RepoInfo, signal?: AbortSignal): Promise<HeadInfo & { sha: string }> {
  const head = await readHead(repo, signal);
  if (head.sha === null) {
    throw new ProvenanceError(
      `The repository at ${repo.root} has no commits yet${head.branch ? ` (branch ${head.branch} is unborn)` : ''}.`,
      'Make a first commit, then run provenance again.',
      'empty-repo',
    );
  }
  return head as HeadInfo & { sha: string };
}

/**
 * The target's Dockerfile: configured, else from an image label, else by name tokens
 * (`helix-ubuntu` → `Dockerfile.ubuntu-helix`), else a clear error saying how to configure it.
 */
export async function resolveDockerfile(
  repo: RepoInfo,
  target: TargetConfig,
  images: ImageInfo[] | null,
  signal?: AbortSignal,
): Promise<string> {
  if (target.dockerfile) return target.dockerfile;
  for (const img of images ?? []) {
    for (const key of DOCKERFILE_LABELS) {
      const v = img.labels[key];
      if (v && !v.includes('\0')) {
        const rel = path.posix.normalize(path.posix.join(target.context, v.replace(/\\/g, '/')));
        if (!rel.startsWith('../') && readWorktreeFile(repo.root, rel) !== null) return rel;
      }
    }
  }
  const { stdout } = await runGit(
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', ':(glob,icase)**/*dockerfile*'],
    { cwd: repo.root, signal },
  );
  const files = stdout.split('\0').filter(Boolean);
  const found = dockerfileCandidatesForImage(target.image, files);
  if (found.length > 0) return found[0];
  throw new ProvenanceError(
    `Cannot tell which Dockerfile builds ${target.image}.`,
    `Create .provenance.json with {"targets":[{"image":"${target.image}","dockerfile":"path/to/Dockerfile"}]}, ` +
      'or pass --dockerfile, or name the file Dockerfile.<image> / <image>.Dockerfile.',
    'no-dockerfile',
  );
}

/** resolveDockerfile for commands that otherwise never talk to Docker: only a zero-config target asks it. */
export async function dockerfileFor(repo: RepoInfo, target: TargetConfig, signal?: AbortSignal): Promise<string> {
  if (target.dockerfile) return target.dockerfile;
  const docker = await dockerStateFor(target, signal);
  return resolveDockerfile(repo, target, docker.reachable ? docker.images : null, signal);
}

interface DockerfileAt {
  text: string;
  ignoreFile: string | null;
  ignoreText: string | null;
}

/** Specs for one cat-file batch: the Dockerfile and every ignore candidate at `rev`. */
function dockerfileSpecs(target: TargetConfig, dockerfile: string, rev: string): string[] {
  return [dockerfile, ...ignoreFileCandidates(dockerfile, target.context)].map((p) => `${rev}:${p}`);
}

function pickDockerfileAt(
  target: TargetConfig,
  dockerfile: string,
  results: ({ content: Buffer } | null)[],
): DockerfileAt | null {
  if (!results[0]) return null;
  const candidates = ignoreFileCandidates(dockerfile, target.context);
  for (let k = 0; k < candidates.length; k++) {
    const r = results[k + 1];
    if (r) return { text: results[0].content.toString('utf8'), ignoreFile: candidates[k], ignoreText: r.content.toString('utf8') };
  }
  return { text: results[0].content.toString('utf8'), ignoreFile: null, ignoreText: null };
}

function worktreeDockerfile(repo: RepoInfo, target: TargetConfig, dockerfile: string): DockerfileAt | null {
  const text = readWorktreeFile(repo.root, dockerfile);
  if (text === null) return null;
  for (const c of ignoreFileCandidates(dockerfile, target.context)) {
    const t = readWorktreeFile(repo.root, c);
    if (t !== null) return { text, ignoreFile: c, ignoreText: t };
  }
  return { text, ignoreFile: null, ignoreText: null };
}

function analyze(target: TargetConfig, dockerfile: string, at: DockerfileAt): ImageInputs {
  return analyzeImageInputs({
    dockerfile,
    context: target.context,
    dockerfileText: at.text,
    ignoreFile: at.ignoreFile,
    ignoreText: at.ignoreText,
    buildArgs: target.buildArgs,
    targetStage: target.targetStage,
    include: target.include,
    exclude: target.exclude,
  });
}

/** A target's Dockerfile (and ignore file) at HEAD and in the work tree, analysed on demand, once. */
class HeadFiles {
  private head?: ImageInputs;
  private worktree?: ImageInputs;
  /** Blob ids of the Dockerfile and ignore candidates at HEAD. */
  readonly headIds: string[];
  /** A content hash of the work-tree Dockerfile and ignore file. */
  readonly worktreeId: string;

  constructor(
    private readonly target: TargetConfig,
    private readonly dockerfile: string,
    private readonly headAt: DockerfileAt | null,
    private readonly wtAt: DockerfileAt | null,
    headIds: string[],
  ) {
    this.headIds = headIds;
    this.worktreeId = wtAt ? createHash('sha1').update(`${wtAt.text}\0${wtAt.ignoreFile ?? ''}\0${wtAt.ignoreText ?? ''}`).digest('hex') : '-';
  }

  /** Inputs of HEAD's Dockerfile (the work tree's when HEAD has none). */
  headInputs(): ImageInputs {
    return (this.head ??= analyze(this.target, this.dockerfile, (this.headAt ?? this.wtAt)!));
  }

  /** The work tree's inputs united with HEAD's (one analysis when the files are unchanged). */
  worktreeInputs(): ImageInputs {
    if (this.worktree) return this.worktree;
    const { headAt, wtAt } = this;
    const same = !headAt || !wtAt || (headAt.text === wtAt.text && headAt.ignoreFile === wtAt.ignoreFile && headAt.ignoreText === wtAt.ignoreText);
    this.worktree = same ? this.headInputs() : unionInputs(this.headInputs(), analyze(this.target, this.dockerfile, wtAt));
    return this.worktree;
  }
}

/** The Dockerfile and ignore candidates at two revisions are the same blobs (so the same inputs). */
function sameBlobs(a: CatFileResult[], b: CatFileResult[]): boolean {
  return a.length === b.length && a.every((r, k) => (r?.oid ?? null) === (b[k]?.oid ?? null));
}

function unionAll(list: ImageInputs[]): ImageInputs {
  return list.reduce((a, b) => unionInputs(a, b));
}

/** Inputs of the Dockerfile as it is in the work tree (HEAD's when the file is not checked out). */
export async function worktreeInputs(repo: RepoInfo, target: TargetConfig, dockerfile: string, signal?: AbortSignal): Promise<ImageInputs> {
  const at = worktreeDockerfile(repo, target, dockerfile);
  if (at) return analyze(target, dockerfile, at);
  const res = await catFileBatch(repo.root, dockerfileSpecs(target, dockerfile, 'HEAD'), signal);
  const head = pickDockerfileAt(target, dockerfile, res);
  if (!head) {
    throw new ProvenanceError(
      `The Dockerfile ${dockerfile} does not exist in the work tree or at HEAD.`,
      'Check the "dockerfile" of the target in .provenance.json, or pass --dockerfile.',
      'no-dockerfile',
    );
  }
  return analyze(target, dockerfile, head);
}

// ---------------------------------------------------------------------------------------------
// status

export interface StatusOptions {
  signal?: AbortSignal;
  now?: Date;
  /** Docker state already read (e.g. by the extension's event-driven cache). */
  docker?: DockerState;
  /**
   * Untrusted workspace: skip work-tree queries (git status may run hooks or filters that the
   * repository configures), so uncommitted changes are not reported.
   */
  restricted?: boolean;
}

export interface TargetStatus {
  snapshot: DriftSnapshot;
  /** Inputs of the Dockerfile as in the work tree (united with HEAD's). */
  inputs: ImageInputs;
  /** Revisions the snapshot compared against, resolved to full SHAs. */
  revisions: string[];
}

export async function computeStatus(ws: Workspace, target: TargetConfig, opts: StatusOptions = {}): Promise<DriftSnapshot> {
  return (await computeTargetStatus(ws, target, opts)).snapshot;
}

export async function computeTargetStatus(ws: Workspace, target: TargetConfig, opts: StatusOptions = {}): Promise<TargetStatus> {
  const { repo } = ws;
  const signal = opts.signal;
  const cache = readStatusCache(repo, target);
  const headP = requireHead(repo, signal);
  headP.catch(() => undefined);

  // Facts per revision are computed once. While Docker answers, the revisions it answered last
  // time are already being walked: the deployed revision rarely changes between two looks.
  const factsByRev = new Map<string, Promise<RevisionFacts>>();
  const mids = new Map<string, string>();
  /** Per label revision: the pathspec-cache key its walk used (a hint for the next status). */
  const keys = new Map<string, string>();
  const walkStarted: Promise<void>[] = [];
  let headFilesP: Promise<HeadFiles> | undefined;
  let uncommittedP: Promise<{ path: string }[]> | undefined;
  let headBatchP: Promise<CatFileResult[]> | undefined;
  const headBatch = (dockerfile: string, headSha: string) => (headBatchP ??= catFileBatch(repo.root, dockerfileSpecs(target, dockerfile, headSha), signal));
  // The Dockerfile and ignore file at HEAD and in the work tree; analysed only when asked.
  const headFiles = (dockerfile: string, headSha: string) =>
    (headFilesP ??= headBatch(dockerfile, headSha).then((res) => {
      const headAt = pickDockerfileAt(target, dockerfile, res);
      const wtAt = worktreeDockerfile(repo, target, dockerfile);
      if (!headAt && !wtAt) {
        throw new ProvenanceError(
          `The Dockerfile ${dockerfile} does not exist in the work tree or at HEAD.`,
          'Check the "dockerfile" of the target in .provenance.json, or pass --dockerfile.',
          'no-dockerfile',
        );
      }
      return new HeadFiles(target, dockerfile, headAt, wtAt, res.map((r) => r?.oid ?? '-'));
    }));
  /** The files whose work-tree inputs the uncommitted check vouched for (analysed or cached). */
  let checkedFiles: HeadFiles | undefined;
  const uncommittedFor = (dockerfile: string, headSha: string) =>
    (uncommittedP ??= opts.restricted
      ? Promise.resolve([])
      : headFiles(dockerfile, headSha).then((f) => {
          // Cached by content: an unchanged Dockerfile needs no analysis to list its inputs.
          const key = inputsCacheKey(target, dockerfile, ['worktree', ...f.headIds, f.worktreeId]);
          let pathspecs = readInputsCache(repo, key);
          if (!pathspecs) {
            pathspecs = f.worktreeInputs().pathspecs;
            writeInputsCache(repo, key, pathspecs);
          }
          checkedFiles = f;
          return worktreeChanges(repo.root, pathspecs, signal);
        }));
  const factsFor = (dockerfile: string, headSha: string, label: LabelRevision & { kind: 'sha' }, walkSignal = signal) => {
    let p = factsByRev.get(label.sha);
    if (!p) {
      let started!: () => void;
      walkStarted.push(new Promise<void>((resolve) => (started = resolve)));
      p = (async () => {
        try {
          const batchesP = Promise.all([
            catFileBatch(repo.root, [`${label.sha}^{commit}`, ...dockerfileSpecs(target, dockerfile, label.sha)], walkSignal),
            headBatch(dockerfile, headSha),
          ]);
          // The range's shape does not depend on the Dockerfile: list it beside cat-file.
          const parentsP = rangeParents(repo.root, { from: label.sha, to: headSha }, walkSignal);
          parentsP.catch(() => undefined);
          const walk = (oid: string, pathspecs: string[], walkSignal2?: AbortSignal) =>
            revisionFacts(repo, oid, headSha, pathspecs, label, walkSignal2, parentsP, {
              midHint: cache?.mids?.[oid],
              // Once git is walking, loading dockerode and reading the work tree delay nothing that matters.
              onWalking: started,
              onMid: (mid) => mids.set(oid, mid),
            });
          // Walked last time with these pathspecs: walk again at once, while cat-file says
          // whether the Dockerfile (at both ends) is still the one they came from.
          const lastKey = cache?.keys?.[label.sha];
          const guessed = lastKey && /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/.test(label.sha) ? readInputsCache(repo, lastKey) : null;
          let early: { ctl: AbortController; facts: Promise<RevisionFacts> } | undefined;
          if (guessed) {
            const ctl = new AbortController();
            walkSignal?.addEventListener('abort', () => ctl.abort(), { once: true });
            early = { ctl, facts: walk(label.sha, guessed, ctl.signal) };
            early.facts.catch(() => undefined);
          }
          const [batch, atHead] = await batchesP;
          if (!batch[0]) {
            early?.ctl.abort();
            return unknownFacts(label);
          }
          // Same blobs at both ends as last time: the cached pathspecs, no analysis before the walk.
          const key = atHead[0] && batch[1] ? inputsCacheKey(target, dockerfile, [...atHead, ...batch.slice(1)].map((r) => r?.oid ?? '-')) : null;
          if (key) keys.set(label.sha, key);
          if (early && key === lastKey && batch[0].oid === label.sha) return await early.facts;
          early?.ctl.abort();
          let pathspecs = key ? readInputsCache(repo, key) : null;
          if (!pathspecs) {
            const base = (await headFiles(dockerfile, headSha)).headInputs();
            const at = pickDockerfileAt(target, dockerfile, batch.slice(1));
            // The same blobs as at HEAD (the usual case) give HEAD's inputs: no second analysis.
            pathspecs = (at && !sameBlobs(atHead, batch.slice(1)) ? unionInputs(base, analyze(target, dockerfile, at)) : base).pathspecs;
            if (key) writeInputsCache(repo, key, pathspecs);
          }
          return await walk(batch[0].oid, pathspecs, walkSignal);
        } finally {
          started();
        }
      })();
      p.catch(() => undefined);
      factsByRev.set(label.sha, p);
    }
    return p;
  };

  const speculative = new Map<string, AbortController>();
  // The Dockerfile is known before Docker answers when it is configured (or was found last time).
  const specDockerfile = target.dockerfile ?? cache?.dockerfile;
  let dockerP: Promise<DockerState>;
  if (opts.docker) {
    dockerP = Promise.resolve(opts.docker);
  } else if (specDockerfile) {
    // Spawn the speculative walks first: the Docker client loads synchronously. Without hints
    // (a first run), the work-tree check and HEAD's analysis still overlap Docker's answer.
    dockerP = headP
      .then((head) => {
        for (const rev of cache?.revs ?? []) {
          const ctl = new AbortController();
          signal?.addEventListener('abort', () => ctl.abort(), { once: true });
          speculative.set(rev, ctl);
          void factsFor(specDockerfile, head.sha, speculativeLabel(rev), ctl.signal);
        }
        const walking = Promise.all(walkStarted);
        // After the walks have started: its analysis runs in this thread and would delay them.
        void walking.then(() => uncommittedFor(specDockerfile, head.sha)).catch(() => undefined);
        return walking;
      })
      .catch(() => undefined)
      .then(() => dockerStateFor(target, signal));
  } else {
    dockerP = dockerStateFor(target, signal);
  }
  const [head, docker] = await Promise.all([headP, dockerP]);
  const images = docker.reachable ? docker.images : [];
  const dockerfile = await resolveDockerfile(repo, target, docker.reachable ? images : null, signal);
  const built = images[0] ?? null;
  const containers = docker.reachable ? docker.containers.filter((c) => c.state === 'running') : [];
  const labels = new Map<string, LabelRevision & { kind: 'sha' }>();
  for (const r of [built?.revision, ...containers.map((c) => c.revision)]) if (r && r.kind === 'sha') labels.set(r.sha, r);
  // Guessed wrong: stop the walks nobody needs.
  const wrongDockerfile = specDockerfile !== undefined && specDockerfile !== dockerfile;
  for (const [rev, ctl] of speculative) {
    if (wrongDockerfile || !labels.has(rev)) {
      ctl.abort();
      factsByRev.delete(rev);
    }
  }
  if (wrongDockerfile) {
    headFilesP = undefined;
    headBatchP = undefined;
    uncommittedP = undefined;
  }

  const files = await headFiles(dockerfile, head.sha);
  const revs = [...labels.keys()];
  const [uncommitted, ...facts] = await Promise.all([
    uncommittedFor(dockerfile, head.sha),
    ...revs.map((r) => factsFor(dockerfile, head.sha, labels.get(r)!).then((f) => ({ ...f, label: labels.get(r)! }))),
  ]);
  const factOf = (rev: LabelRevision): RevisionFacts | null => (rev.kind === 'sha' ? (facts[revs.indexOf(rev.sha)] ?? null) : null);
  if (docker.reachable) {
    const pick = (m: Map<string, string>) => Object.fromEntries(revs.flatMap((r) => (m.has(r) ? [[r, m.get(r)!]] : [])));
    writeStatusCache(repo, target, { dockerfile, revs, mids: pick(mids), keys: pick(keys) });
  }

  const snapshot = computeDrift({
    now: opts.now ?? new Date(),
    target: { name: target.name, image: target.image, dockerfile },
    head: { sha: head.sha, branch: head.branch, detached: head.detached },
    uncommitted: uncommitted.map((c) => c.path),
    docker: docker.reachable ? { reachable: true } : { reachable: false, reason: docker.reason, hint: docker.hint },
    built,
    builtFacts: built ? factOf(built.revision) : null,
    running: containers,
    runningFacts: containers.map((c) => factOf(c.revision) ?? unknownFacts(c.revision)),
    shallow: repo.shallow,
    partial: repo.partial,
  });
  // A Dockerfile the work-tree check did not vouch for is analysed now, so its errors surface here.
  if (checkedFiles !== files) files.worktreeInputs();
  return {
    snapshot,
    revisions: facts.filter((f) => f.sha).map((f) => f.sha!),
    get inputs() {
      return files.worktreeInputs();
    },
  };
}

function speculativeLabel(sha: string): LabelRevision & { kind: 'sha' } {
  return { kind: 'sha', label: '(cached)', raw: sha, sha, dirty: false, short: sha.length < 40 };
}

interface StatusCacheEntry {
  dockerfile: string;
  revs: string[];
  /** Per revision: where the walk of rev..HEAD split the range last time. */
  mids?: Record<string, string>;
  /** Per revision: the inputs-cache key of the pathspecs its walk used last time. */
  keys?: Record<string, string>;
}

const STATUS_CACHE = 'status-cache.json';

function isStatusCacheEntry(e: unknown): e is StatusCacheEntry {
  const x = e as StatusCacheEntry | null;
  const sha = (r: unknown) => typeof r === 'string' && /^[0-9a-f]{7,64}$/.test(r);
  return (
    !!x &&
    typeof x.dockerfile === 'string' &&
    Array.isArray(x.revs) &&
    x.revs.every(sha) &&
    (x.mids === undefined || (typeof x.mids === 'object' && x.mids !== null && Object.values(x.mids).every(sha))) &&
    (x.keys === undefined || (typeof x.keys === 'object' && x.keys !== null && Object.values(x.keys).every((k) => typeof k === 'string' && /^[0-9a-f]{40}$/.test(k))))
  );
}

/** The revisions the last status of this target compared against (a hint, never trusted as fact). */
function readStatusCache(repo: RepoInfo, target: TargetConfig): StatusCacheEntry | null {
  const e = readCacheEntry(repo, STATUS_CACHE, `${target.name}\0${target.image}`, isStatusCacheEntry);
  return e ? { dockerfile: e.dockerfile, revs: e.revs.slice(0, 4), mids: e.mids, keys: e.keys } : null;
}

function writeStatusCache(repo: RepoInfo, target: TargetConfig, entry: StatusCacheEntry): void {
  writeCacheEntry(repo, STATUS_CACHE, `${target.name}\0${target.image}`, entry);
}

function unknownFacts(label: LabelRevision): RevisionFacts {
  return { sha: null, label, ahead: 0, behind: 0, relevantCount: 0, relevant: [], oldestRelevantDate: null };
}

async function revisionFacts(
  repo: RepoInfo,
  sha: string,
  headSha: string,
  pathspecs: string[],
  label: LabelRevision,
  signal: AbortSignal | undefined,
  /** `git rev-list --parents sha..headSha`, already started. */
  parentsP: Promise<string[]>,
  walk: { midHint?: string; onWalking?: () => void; onMid?: (mid: string) => void } = {},
): Promise<RevisionFacts> {
  // A range walk costs the same with or without --max-count (git limits the whole range before
  // printing), so walk once without files, then ask for the newest few commits' files alone.
  // With a hinted middle the walks start at once and the listing only checks the hint.
  // A linear range whose oldest commit's parent is `sha` proves it an ancestor of HEAD: nothing
  // is only in the image, and the range's length is the count. Otherwise git counts both sides.
  const sidesP = parentsP.then((lines) => {
    const oldest = lines[lines.length - 1]?.split(' ') ?? [];
    const chain = lines.length > 0 && oldest.length === 2 && oldest[1] === sha && lines.every((l) => l.split(' ').length === 2);
    return chain ? { ahead: lines.length, behind: 0 } : countSides(repo.root, sha, headSha, signal);
  });
  const walkOpts = { withFiles: false, signal, midHint: walk.midHint, onWalking: walk.onWalking, filesOfNewest: STATUS_RELEVANT_LIMIT };
  const [sides, { commits: all, mid, newestWithFiles }] = await Promise.all([
    sidesP,
    walkRange(repo.root, { from: sha, to: headSha }, pathspecs, walkOpts, parentsP),
  ]);
  if (mid) walk.onMid?.(mid);
  const head = all.slice(0, STATUS_RELEVANT_LIMIT);
  // The walk may have listed their files already; otherwise git is asked for these few.
  const newest = newestWithFiles >= head.length ? head : await commitsWithFiles(repo.root, head.map((c) => c.sha), pathspecs, signal);
  return {
    sha,
    label,
    ahead: sides.ahead,
    behind: sides.behind,
    relevantCount: all.length,
    relevant: newest,
    oldestRelevantDate: all.length ? all[all.length - 1].date : null,
  };
}

// ---------------------------------------------------------------------------------------------
// diff

export interface DiffResult {
  from: string;
  to: string;
  total: number;
  relevant: CommitSummary[];
  /** The pathspecs used (union of the inputs at both ends). */
  pathspecs: string[];
  /** The inputs at both ends, united (for `affects().via` of each file). */
  inputs: ImageInputs;
  warnings: string[];
}

/** Strips a `-dirty` suffix and checks the revision is something git can be asked about. */
export function cleanRevision(rev: string): string {
  const r = rev.trim().replace(/-dirty$/i, '');
  if (!r || r.startsWith('-') || /[\s\0:]/.test(r)) {
    throw new ProvenanceError(`"${rev}" is not a revision.`, 'Give a commit SHA, branch, tag or HEAD~N.', 'usage');
  }
  return r;
}

export async function computeDiff(
  ws: Workspace,
  target: TargetConfig,
  fromRev: string,
  toRev: string,
  opts: { signal?: AbortSignal } = {},
): Promise<DiffResult> {
  const { repo } = ws;
  const signal = opts.signal;
  const from = cleanRevision(fromRev);
  const to = cleanRevision(toRev);
  const dockerfile = await dockerfileFor(repo, target, signal);
  const perRev = 2 + ignoreFileCandidates(dockerfile, target.context).length;
  const specs = [`${from}^{commit}`, ...dockerfileSpecs(target, dockerfile, from), `${to}^{commit}`, ...dockerfileSpecs(target, dockerfile, to)];
  // The range's commits (count, shape) do not depend on the Dockerfile: list them alongside cat-file.
  const parentsP = rangeParents(repo.root, { from, to }, signal);
  parentsP.catch(() => undefined);
  const batch = await catFileBatch(repo.root, specs, signal);
  const fromSha = batch[0]?.oid;
  const toSha = batch[perRev]?.oid;
  for (const [rev, sha] of [
    [from, fromSha],
    [to, toSha],
  ] as const) {
    if (!sha) {
      const hint = repo.shallow
        ? `This is a shallow clone: git fetch --unshallow, or git fetch origin ${rev}.`
        : `Fetch it (git fetch --all, or git fetch origin ${rev}); check for typos.`;
      throw new ProvenanceError(`Revision ${rev} is not known in this clone.`, hint, 'unknown-revision');
    }
  }
  const warnings: string[] = [];
  const fromFiles = batch.slice(1, perRev);
  const toFiles = batch.slice(perRev + 1, 2 * perRev);
  const fromAt = pickDockerfileAt(target, dockerfile, fromFiles);
  const toAt = pickDockerfileAt(target, dockerfile, toFiles);
  // The same Dockerfile and ignore file at both ends (same blobs) give the same inputs: the
  // pathspecs are cached by blob ids, and the git walk starts without re-analysing.
  const cacheKey = fromAt && toAt ? inputsCacheKey(target, dockerfile, [...fromFiles, ...toFiles].map((r) => r?.oid ?? '-')) : null;
  /** The inputs at each end that has the Dockerfile; one analysis when both ends have the same blobs. */
  const analyseEnds = (): ImageInputs[] => {
    const out: ImageInputs[] = [];
    if (fromAt) out.push(analyze(target, dockerfile, fromAt));
    if (toAt && !(fromAt && sameBlobs(fromFiles, toFiles))) out.push(analyze(target, dockerfile, toAt));
    return out;
  };
  let analysed: ImageInputs | undefined;
  const analyseRange = async (): Promise<ImageInputs> => {
    if (analysed) return analysed;
    for (const [at, rev] of [
      [fromAt, from],
      [toAt, to],
    ] as const) {
      if (!at) warnings.push(`${dockerfile} does not exist at ${rev}${repo.partial ? ' (or its blob is not in this partial clone)' : ''}; used the other end's inputs.`);
    }
    const analyses = analyseEnds();
    if (analyses.length === 0) {
      analyses.push(await worktreeInputs(repo, target, dockerfile, signal));
      warnings.push(`Used the work tree's ${dockerfile}, since it exists at neither end.`);
    }
    analysed = unionAll(analyses);
    return analysed;
  };
  let pathspecs = cacheKey ? readInputsCache(repo, cacheKey) : null;
  if (!pathspecs) {
    pathspecs = (await analyseRange()).pathspecs;
    if (cacheKey) writeInputsCache(repo, cacheKey, pathspecs);
  }
  const { commits: relevant, total } = await walkRange(repo.root, { from: fromSha!, to: toSha! }, pathspecs, { withFiles: true, signal }, parentsP);
  const result: DiffResult = {
    from: fromSha!,
    to: toSha!,
    total,
    relevant,
    pathspecs,
    inputs: analysed as ImageInputs,
    warnings,
  };
  if (!analysed) {
    // Analysed only if asked (suspects wants each file's instruction); the walk did not need it.
    let memo: ImageInputs | undefined;
    Object.defineProperty(result, 'inputs', { get: () => (memo ??= unionAll(analyseEnds())), enumerable: false });
  }
  return result;
}

declare const PROVENANCE_BUILD_ID: string | undefined;
/** Changes with every build, so a new analysis never reads pathspecs an older one cached. */
const ANALYSIS_SALT = typeof PROVENANCE_BUILD_ID === 'string' ? PROVENANCE_BUILD_ID : `dev-${process.pid}`;
const INPUTS_CACHE_ENTRIES = 64;

function inputsCacheKey(target: TargetConfig, dockerfile: string, blobIds: string[]): string {
  const parts = [ANALYSIS_SALT, dockerfile, target.context, target.buildArgs, target.targetStage ?? null, target.include, target.exclude, blobIds];
  return createHash('sha1').update(JSON.stringify(parts)).digest('hex');
}

const INPUTS_CACHE = 'inputs-cache.json';

const isPathspecList = (v: unknown): v is string[] => Array.isArray(v) && v.every((p) => typeof p === 'string');

function readInputsCache(repo: RepoInfo, key: string): string[] | null {
  return readCacheEntry(repo, INPUTS_CACHE, key, isPathspecList);
}

function writeInputsCache(repo: RepoInfo, key: string, pathspecs: string[]): void {
  writeCacheEntry(repo, INPUTS_CACHE, key, pathspecs, INPUTS_CACHE_ENTRIES);
}

// ---------------------------------------------------------------------------------------------
// affects / inputs

export async function computeAffects(ws: Workspace, target: TargetConfig, paths: string[], cwd: string, signal?: AbortSignal): Promise<AffectsResult[]> {
  const dockerfile = await dockerfileFor(ws.repo, target, signal);
  const inputs = await worktreeInputs(ws.repo, target, dockerfile, signal);
  return paths.map((p) => {
    const rel = path.relative(ws.repo.root, path.resolve(cwd, p)).split(path.sep).join('/');
    return { ...inputs.affects(rel), path: rel };
  });
}

export interface InputsResult {
  target: string;
  image: string;
  dockerfile: string;
  context: string;
  ignoreFile: string | null;
  pathspecs: string[];
  external: ExternalInput[];
  problems: { line: number; message: string }[];
}

export async function computeInputs(ws: Workspace, target: TargetConfig, signal?: AbortSignal): Promise<InputsResult> {
  const dockerfile = await dockerfileFor(ws.repo, target, signal);
  const inputs = await worktreeInputs(ws.repo, target, dockerfile, signal);
  return {
    target: target.name,
    image: target.image,
    dockerfile,
    context: target.context || '.',
    ignoreFile: inputs.ignoreFile,
    pathspecs: inputs.pathspecs,
    external: inputs.external,
    problems: inputs.problems,
  };
}
