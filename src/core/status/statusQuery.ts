// `status`: committed → built → running for one target. Independent git and docker calls
// overlap; nothing is asked twice.
import type { TargetConfig } from '../config';
import { computeDrift, contentRevision, type DriftSnapshot, type RevisionFacts } from './driftModel';
import { chainOf } from '../git/ancestry';
import { isAbortError } from '../git/exec';
import { DockerfileError } from '../inputs/imageInputs';
import { unverifiable, verifySubjects, type Verification, type VerifySubject } from './verification';
import { containerSubject, imageSubject, verificationContext } from './verifyQuery';
import { cachesDisabled } from '../git/cacheFiles';
import { readCacheEntry, writeCacheEntry } from '../git/dirCache';
import { catFileBatch, commitsWithFiles, countSides, rangeParents, walkRange, worktreeChanges, type CatFileResult, type RepoInfo } from '../git/queries';
import { pathspecFilter, unionInputs, type ImageInputs } from '../inputs/imageInputs';
import { chainIndexOf, ResultCache, resultCacheCounters, walkKeyOf, type ChainIndex, type ResultMemo } from './resultCache';
import type { DockerEndpoint, DockerState, LabelRevision } from '../types';
import {
  analyze,
  dockerfileSpecs,
  HeadFiles,
  inputsCacheKey,
  missingDockerfile,
  pickDockerfileAt,
  readInputsCache,
  sameBlobs,
  worktreeDockerfile,
  writeInputsCache,
} from './targetInputs';
import { dockerStateFor, requireHead, resolveDockerfile, type Workspace } from './workspace';

/** How many of the newest relevant commits a status carries with their files. */
export const STATUS_RELEVANT_LIMIT = 20;

const FULL_SHA = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;


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
  /**
   * Kept across refreshes by a long-lived caller (the extension): range results, and the
   * Dockerfile blobs at full SHAs, in memory, so a refresh whose ids did not change walks nothing.
   */
  memo?: ResultMemo;
  /**
   * The caller's count of work-tree events (saves, the Git extension's file and index events,
   * HEAD moves, the fallback poll). While it is unchanged, and so are HEAD and the Dockerfile, the
   * uncommitted input changes found last time still hold and `git status` is not run again.
   */
  worktreeEpoch?: number;
}

export interface TargetStatus {
  snapshot: DriftSnapshot;
  /** Inputs of the Dockerfile as in the work tree (united with HEAD's). */
  inputs: ImageInputs;
  /** Revisions the snapshot compared against, resolved to full SHAs. */
  revisions: string[];
  /** The endpoints read, Docker-in-Docker daemons found on them included: whose events matter. */
  dockerEndpoints?: DockerEndpoint[];
}

export async function computeStatus(ws: Workspace, target: TargetConfig, opts: StatusOptions = {}): Promise<DriftSnapshot> {
  return (await computeTargetStatus(ws, target, opts)).snapshot;
}

export async function computeTargetStatus(ws: Workspace, target: TargetConfig, options: StatusOptions = {}): Promise<TargetStatus> {
  const { repo } = ws;
  // PROVENANCE_NO_CACHE: nothing kept, in memory either (a cold answer, for debugging).
  const opts = cachesDisabled() ? { ...options, memo: undefined } : options;
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
  /** cat-file of specs at full SHAs: immutable, so the extension's memo answers a second time. */
  const batchAt = (specs: string[], batchSignal?: AbortSignal) =>
    opts.memo ? opts.memo.batch(`${repo.commonDir}\0${specs.join('\n')}`, () => catFileBatch(repo.root, specs)) : catFileBatch(repo.root, specs, batchSignal);
  const headBatch = (dockerfile: string, headSha: string) => (headBatchP ??= batchAt(dockerfileSpecs(target, dockerfile, headSha), signal));
  const results = new ResultCache(repo, opts.memo);
  // Read now, beside HEAD and Docker: the first look into the cache then waits for nothing, and a
  // cold walk starts as early as it did without a cache.
  results.history().catch(() => undefined);
  // The Dockerfile and ignore file at HEAD and in the work tree; analysed only when asked.
  const headFiles = (dockerfile: string, headSha: string) =>
    (headFilesP ??= headBatch(dockerfile, headSha).then((res) => {
      const headAt = pickDockerfileAt(target, dockerfile, res);
      const wtAt = worktreeDockerfile(repo, target, dockerfile);
      if (!headAt && !wtAt) throw missingDockerfile(repo, dockerfile);
      return new HeadFiles(target, dockerfile, headAt, wtAt, res.map((r) => r?.oid ?? '-'));
    }));
  /** The files whose work-tree inputs the uncommitted check vouched for (analysed or cached). */
  let checkedFiles: HeadFiles | undefined;
  const uncommittedFor = (dockerfile: string, headSha: string) =>
    (uncommittedP ??= opts.restricted
      ? Promise.resolve([])
      : headFiles(dockerfile, headSha).then((f) => {
          // Cached by content: an unchanged Dockerfile needs no analysis to list its inputs (only
          // exact pathspecs are cached; a superset is narrowed by the analysis).
          const key = inputsCacheKey(target, dockerfile, ['worktree', ...f.headIds, f.worktreeId]);
          let pathspecs = readInputsCache(repo, key);
          let keep: ((p: string) => boolean) | undefined;
          if (!pathspecs) {
            const inputs = f.worktreeInputs();
            pathspecs = inputs.pathspecs;
            keep = pathspecFilter(inputs);
            if (!keep) writeInputsCache(repo, key, pathspecs);
          }
          checkedFiles = f;
          const seen = opts.worktreeEpoch === undefined ? undefined : `${repo.root}\0${target.name}\0${opts.worktreeEpoch}\0${headSha}\0${key}\0${pathspecs.join('\0')}`;
          const changes = () => worktreeChanges(repo.root, pathspecs!, signal, keep);
          return opts.memo && seen !== undefined ? opts.memo.worktree(seen, changes) : changes();
        }));
  const factsFor = (dockerfile: string, headSha: string, label: LabelRevision & { kind: 'sha' }, walkSignal = signal) => {
    let p = factsByRev.get(label.sha);
    if (!p) {
      let started!: () => void;
      walkStarted.push(new Promise<void>((resolve) => (started = resolve)));
      p = (async () => {
        try {
          // Walked before with this target's settings: the answer, without asking git. (Without
          // waiting when the history is read already: a cold walk then starts before anything
          // else runs, as it did without a cache.)
          const hit = results.exactStatusNow(target, dockerfile, label.sha, headSha) ?? (await results.exactStatus(target, dockerfile, label.sha, headSha));
          if (hit) return { sha: label.sha, label, ...hit };
          // A cached range that starts here or ends at HEAD may be extended: the cold walk's
          // listing waits until that is ruled out.
          const extendable = FULL_SHA.test(label.sha) && results.hasCandidates(label.sha, headSha);
          const fullLabel = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/.test(label.sha);
          const labelSpecs = [`${label.sha}^{commit}`, ...dockerfileSpecs(target, dockerfile, label.sha)];
          // The range's shape does not depend on the Dockerfile: list it beside cat-file, first
          // (the walk waits for both, and the listing takes longer).
          let parentsP: Promise<string[]> | undefined;
          const parents = (from: string) => {
            if (!parentsP) {
              parentsP = rangeParents(repo.root, { from, to: headSha }, walkSignal);
              parentsP.catch(() => undefined);
            }
            return parentsP;
          };
          if (!extendable) parents(label.sha);
          const batchesP = Promise.all([fullLabel ? batchAt(labelSpecs, walkSignal) : catFileBatch(repo.root, labelSpecs, walkSignal), headBatch(dockerfile, headSha)]);
          const walk = (oid: string, pathspecs: string[], walkSignal2?: AbortSignal, keep?: (p: string) => boolean) =>
            revisionFacts(repo, oid, headSha, pathspecs, keep, label, walkSignal2, parents(oid), {
              midHint: cache?.mids?.[oid],
              // Once git is walking, loading dockerode and reading the work tree delay nothing that matters.
              onWalking: started,
              onMid: (mid) => mids.set(oid, mid),
            });
          // Walked last time with these pathspecs: walk again at once, while cat-file says
          // whether the Dockerfile (at both ends) is still the one they came from.
          const lastKey = cache?.keys?.[label.sha];
          const guessed = !extendable && lastKey && fullLabel ? readInputsCache(repo, lastKey) : null;
          let early: { ctl: AbortController; facts: Promise<RevisionFacts & { chain: ChainIndex | null }> } | undefined;
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
          const oid = batch[0].oid;
          if (oid !== label.sha) {
            const again = await results.exactStatus(target, dockerfile, oid, headSha);
            if (again) {
              early?.ctl.abort();
              return { sha: oid, label, ...again };
            }
          }
          // Same blobs at both ends as last time: the cached pathspecs, no analysis before the walk.
          const key = atHead[0] && batch[1] ? inputsCacheKey(target, dockerfile, [...atHead, ...batch.slice(1)].map((r) => r?.oid ?? '-')) : null;
          if (key) keys.set(label.sha, key);
          /** Only a range with the Dockerfile at both ends is a function of its ids alone (else the work tree's counts). */
          const remember = async (f: RevisionFacts & { chain?: ChainIndex | null }, walkKey: string) => {
            const { chain, ...facts } = f;
            if (key) await results.putStatus(target, dockerfile, oid, headSha, walkKey, facts, chain ?? null);
            return facts;
          };
          // The guessed pathspecs are exact ones (only those are cached): no filter.
          if (early && key === lastKey && oid === label.sha) return await remember(await early.facts, walkKeyOf(guessed!));
          early?.ctl.abort();
          let pathspecs = key ? readInputsCache(repo, key) : null;
          let keep: ((p: string) => boolean) | undefined;
          if (!pathspecs) {
            const base = (await headFiles(dockerfile, headSha)).headInputs();
            const at = pickDockerfileAt(target, dockerfile, batch.slice(1));
            // The same blobs as at HEAD (the usual case) give HEAD's inputs: no second analysis.
            const inputs = at && !sameBlobs(atHead, batch.slice(1)) ? unionInputs(base, analyze(target, dockerfile, at)) : base;
            pathspecs = inputs.pathspecs;
            // Only exact pathspecs are cached (and so walked early next time); a superset is
            // narrowed by the analysis.
            keep = pathspecFilter(inputs);
            if (key && !keep) writeInputsCache(repo, key, pathspecs);
          }
          // The walk's key: the pathspecs, and when a JS filter narrows them, the input set's key.
          const walkKey = walkKeyOf(pathspecs, keep ? key : null);
          if (key && extendable) {
            const ext = await results.extendStatus(oid, headSha, walkKey, pathspecs, STATUS_RELEVANT_LIMIT, { signal: walkSignal, walk: { keep }, onWalking: started });
            if (ext) return await remember({ sha: oid, label, ...ext.facts, chain: ext.chain }, walkKey);
          }
          resultCacheCounters.cold++;
          return await remember(await walk(oid, pathspecs, walkSignal, keep), walkKey);
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
  // Revisions derived from content last time are kept walking until the bytes have spoken.
  const stopUnneeded = (keep: (rev: string) => boolean) => {
    for (const [rev, ctl] of speculative) {
      if (wrongDockerfile || !keep(rev)) {
        ctl.abort();
        factsByRev.delete(rev);
        speculative.delete(rev);
      }
    }
  };
  stopUnneeded((rev) => labels.has(rev) || (cache?.content ?? []).includes(rev));
  if (wrongDockerfile) {
    headFilesP = undefined;
    headBatchP = undefined;
    uncommittedP = undefined;
  }

  const files = await headFiles(dockerfile, head.sha);
  const revs = [...labels.keys()];
  const labelFactsP = Promise.all(revs.map((r) => factsFor(dockerfile, head.sha, labels.get(r)!).then((f) => ({ ...f, label: labels.get(r)! }))));
  labelFactsP.catch(() => undefined);

  // What the bytes say: the built image and each running container, verified together.
  const subjects: VerifySubject[] = [...(built ? [imageSubject(target, built)] : []), ...containers.map((c) => containerSubject(target, c))];
  const verifyAll = async (): Promise<(Verification | null)[]> => {
    if (subjects.length === 0) return [];
    try {
      return await verifySubjects(verificationContext(repo, target, dockerfile, head.sha, () => files.headInputs(), { signal, headIds: files.headIds }), subjects);
    } catch (err) {
      if (isAbortError(err)) throw err;
      if (err instanceof DockerfileError) return subjects.map(() => null); // reported below, as without verification
      const reason = `Verifying the content failed: ${err instanceof Error ? err.message : String(err)}`;
      return subjects.map((sub) => unverifiable(reason, sub.kind));
    }
  };
  // After the label walks have started: reading and judging the bytes runs in this thread, and
  // would hold back the spawn of the walk (the longest part) while git waits for nothing.
  const verificationsP = Promise.all(walkStarted).then(verifyAll);
  const [uncommitted, verifications] = await Promise.all([uncommittedFor(dockerfile, head.sha), verificationsP]);
  const builtVerification = built ? (verifications[0] ?? null) : null;
  const runningVerification = containers.map((_, k) => verifications[(built ? 1 : 0) + k] ?? null);

  // Revisions the bytes decide (no usable label, or a label they contradict): walked like a label's.
  const contentRevs = new Map<string, LabelRevision & { kind: 'sha' }>();
  const revisionOf = (rev: LabelRevision, v: Verification | null): string | null => contentRevision(rev, v) ?? (rev.kind === 'sha' ? rev.sha : null);
  [...(built ? [{ rev: built.revision, v: builtVerification }] : []), ...containers.map((c, k) => ({ rev: c.revision, v: runningVerification[k] }))].forEach(({ rev, v }) => {
    const sha = contentRevision(rev, v);
    if (sha && !labels.has(sha)) contentRevs.set(sha, contentLabel(sha));
  });
  stopUnneeded((rev) => labels.has(rev) || contentRevs.has(rev));
  const contentList = [...contentRevs.keys()];
  const [labelFacts, contentFacts] = await Promise.all([
    labelFactsP,
    Promise.all(contentList.map((r) => factsFor(dockerfile, head.sha, contentRevs.get(r)!).then((f) => ({ ...f, label: contentRevs.get(r)! })))),
  ]);
  const factOf = (rev: LabelRevision, v: Verification | null): RevisionFacts | null => {
    const sha = revisionOf(rev, v);
    if (sha === null) return null;
    return labels.has(sha) ? (labelFacts[revs.indexOf(sha)] ?? null) : (contentFacts[contentList.indexOf(sha)] ?? null);
  };
  const facts = [...labelFacts, ...contentFacts];
  if (docker.reachable) {
    const all = [...revs, ...contentList];
    const pick = (m: Map<string, string>) => Object.fromEntries(all.flatMap((r) => (m.has(r) ? [[r, m.get(r)!]] : [])));
    writeStatusCache(repo, target, { dockerfile, revs: all, mids: pick(mids), keys: pick(keys), content: contentList });
  }

  const snapshot = computeDrift({
    now: opts.now ?? new Date(),
    target: { name: target.name, image: target.image, dockerfile, discovery: target.discovery ?? null },
    head: { sha: head.sha, branch: head.branch, detached: head.detached },
    uncommitted: uncommitted.map((c) => c.path),
    docker: docker.reachable ? { reachable: true, unreachable: docker.unreachable } : { reachable: false, reason: docker.reason, hint: docker.hint },
    built,
    builtFacts: built ? factOf(built.revision, builtVerification) : null,
    running: containers,
    runningFacts: containers.map((c, k) => factOf(c.revision, runningVerification[k]) ?? unknownFacts(c.revision)),
    builtVerification,
    runningVerification,
    shallow: repo.shallow,
    partial: repo.partial,
    deployStep: (target.deploy?.mode ?? 'none') !== 'none',
  });
  // A Dockerfile the work-tree check did not vouch for is analysed now, so its errors surface here.
  if (checkedFiles !== files) files.worktreeInputs();
  return {
    snapshot,
    dockerEndpoints: docker.reachable ? (docker.endpoints ?? [docker.endpoint]) : [docker.endpoint],
    revisions: facts.filter((f) => f.sha).map((f) => f.sha!),
    get inputs() {
      return files.worktreeInputs();
    },
  };
}

function speculativeLabel(sha: string): LabelRevision & { kind: 'sha' } {
  return { kind: 'sha', label: '(cached)', raw: sha, sha, dirty: false, short: sha.length < 40 };
}

/** A revision the bytes decided, walked as a label's would be. */
function contentLabel(sha: string): LabelRevision & { kind: 'sha' } {
  return { kind: 'sha', label: '(content)', raw: sha, sha, dirty: false, short: false };
}

interface StatusCacheEntry {
  dockerfile: string;
  revs: string[];
  /** Per revision: where the walk of rev..HEAD split the range last time. */
  mids?: Record<string, string>;
  /** Per revision: the inputs-cache key of the pathspecs its walk used last time. */
  keys?: Record<string, string>;
  /** Which of `revs` the bytes decided (no usable label): kept walking until the bytes are read. */
  content?: string[];
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
    (x.keys === undefined || (typeof x.keys === 'object' && x.keys !== null && Object.values(x.keys).every((k) => typeof k === 'string' && /^[0-9a-f]{40}$/.test(k)))) &&
    (x.content === undefined || (Array.isArray(x.content) && x.content.every(sha)))
  );
}

/** The revisions the last status of this target compared against (a hint, never trusted as fact). */
function readStatusCache(repo: RepoInfo, target: TargetConfig): StatusCacheEntry | null {
  const e = readCacheEntry(repo, STATUS_CACHE, `${target.name}\0${target.image}`, isStatusCacheEntry);
  return e ? { dockerfile: e.dockerfile, revs: e.revs.slice(0, 4), mids: e.mids, keys: e.keys, content: e.content } : null;
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
  /** Narrows a superset of pathspecs to the inputs (see pathspecFilter). */
  keep: ((p: string) => boolean) | undefined,
  label: LabelRevision,
  signal: AbortSignal | undefined,
  /** `git rev-list --parents sha..headSha`, already started. */
  parentsP: Promise<string[]>,
  walk: { midHint?: string; onWalking?: () => void; onMid?: (mid: string) => void } = {},
): Promise<RevisionFacts & { chain: ChainIndex | null }> {
  // A range walk costs the same with or without --max-count (git limits the whole range before
  // printing), so walk once without files, then ask for the newest few commits' files alone.
  // With a hinted middle the walks start at once and the listing only checks the hint.
  // A linear range whose oldest commit's parent is `sha` proves it an ancestor of HEAD: nothing
  // is only in the image, and the range's length is the count. Otherwise git counts both sides.
  const chainP = parentsP.then((lines) => (chainOf(lines, sha, headSha) || (lines.length === 0 && sha === headSha) ? lines : null));
  const sidesP = chainP.then((chain) => (chain ? { ahead: chain.length, behind: 0 } : countSides(repo.root, sha, headSha, signal)));
  const walkOpts = { withFiles: false, signal, midHint: walk.midHint, onWalking: walk.onWalking, filesOfNewest: STATUS_RELEVANT_LIMIT, keep };
  const [sides, { commits: all, mid, newestWithFiles }] = await Promise.all([
    sidesP,
    walkRange(repo.root, { from: sha, to: headSha }, pathspecs, walkOpts, parentsP),
  ]);
  if (mid) walk.onMid?.(mid);
  const head = all.slice(0, STATUS_RELEVANT_LIMIT);
  // The walk may have listed their files already; otherwise git is asked for these few.
  const newest = newestWithFiles >= head.length ? head : await commitsWithFiles(repo.root, head.map((c) => c.sha), pathspecs, signal, keep);
  return {
    sha,
    label,
    ahead: sides.ahead,
    behind: sides.behind,
    relevantCount: all.length,
    relevant: newest,
    oldestRelevantDate: all.length ? all[all.length - 1].date : null,
    // A linear range remembers where its relevant commits lie, so a later deployed revision
    // inside it needs no walk (see resultCache.ts).
    chain: chainIndexOf(await chainP, all),
  };
}
