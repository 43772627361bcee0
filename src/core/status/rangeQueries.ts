// `diff`, `affects` and `inputs`: what a range of commits, a path or a target's Dockerfile
// means for the image.
import * as path from 'node:path';
import type { TargetConfig } from '../config';
import { catFileBatch, rangeParents, walkRange } from '../git/queries';
import { ignoreFileCandidates, pathspecFilter, type ImageInputs } from '../inputs/imageInputs';
import { ResultCache, resultCacheCounters, walkKeyOf, type ResultMemo } from './resultCache';
import type { AffectsResult, CommitSummary, ExternalInput } from '../types';
import {
  analyze,
  dockerfileSpecs,
  inputsCacheKey,
  pickDockerfileAt,
  readInputsCache,
  sameBlobs,
  unionAll,
  worktreeInputs,
  writeInputsCache,
} from './targetInputs';
import { dockerfileFor, ProvenanceError, unknownRevisionError, type Workspace } from './workspace';

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
  opts: { signal?: AbortSignal; memo?: ResultMemo } = {},
): Promise<DiffResult> {
  const { repo } = ws;
  const signal = opts.signal;
  const from = cleanRevision(fromRev);
  const to = cleanRevision(toRev);
  const dockerfile = await dockerfileFor(repo, target, signal);
  const perRev = 2 + ignoreFileCandidates(dockerfile, target.context).length;
  const specs = [`${from}^{commit}`, ...dockerfileSpecs(target, dockerfile, from), `${to}^{commit}`, ...dockerfileSpecs(target, dockerfile, to)];
  const results = new ResultCache(repo, opts.memo);
  results.history().catch(() => undefined);
  // The range's commits (count, shape) do not depend on the Dockerfile: list them alongside
  // cat-file (stopped when the answer is cached).
  const listing = new AbortController();
  signal?.addEventListener('abort', () => listing.abort(), { once: true });
  const parentsP = rangeParents(repo.root, { from, to }, listing.signal);
  parentsP.catch(() => undefined);
  let batch;
  try {
    batch = await catFileBatch(repo.root, specs, signal);
  } catch (err) {
    listing.abort();
    throw err;
  }
  const fromSha = batch[0]?.oid;
  const toSha = batch[perRev]?.oid;
  for (const [rev, sha] of [
    [from, fromSha],
    [to, toSha],
  ] as const) {
    if (!sha) {
      listing.abort();
      throw await unknownRevisionError(repo, rev, undefined, signal);
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
  // Only exact pathspecs are cached; a superset needs the analysis to judge the files in JS.
  let pathspecs = cacheKey ? readInputsCache(repo, cacheKey) : null;
  let keep: ((p: string) => boolean) | undefined;
  if (!pathspecs) {
    const inputs = await analyseRange();
    pathspecs = inputs.pathspecs;
    keep = pathspecFilter(inputs);
    if (cacheKey && !keep) writeInputsCache(repo, cacheKey, pathspecs);
  }
  // With the Dockerfile at both ends the answer is a function of the two commits and the
  // pathspecs (and, when they are a superset, of the analysis that narrows them: its key):
  // cached, or extended from a cached range whose end this one descends from.
  const walkKey = cacheKey ? walkKeyOf(pathspecs, keep ? cacheKey : null) : null;
  let walked = walkKey
    ? ((await results.exactDiff(fromSha!, toSha!, walkKey)) ?? (await results.extendDiff(fromSha!, toSha!, walkKey, pathspecs, { signal, walk: { keep } })))
    : null;
  if (walked) listing.abort();
  else {
    resultCacheCounters.diffCold++;
    const w = await walkRange(repo.root, { from: fromSha!, to: toSha! }, pathspecs, { withFiles: true, signal, keep }, parentsP);
    walked = { total: w.total, relevant: w.commits };
    if (walkKey) await results.putDiff(fromSha!, toSha!, walkKey, walked.total, walked.relevant);
  }
  const { relevant, total } = walked;
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
  /** `git log -- <pathspecs>` selects exactly the inputs (else a superset; see pathspecsSuperset). */
  pathspecsExact: boolean;
  /** Why the pathspecs select more than the inputs (patterns git pathspecs cannot express). */
  pathspecsSuperset: string[];
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
    pathspecsExact: !inputs.pathspecsSuperset?.length,
    pathspecsSuperset: inputs.pathspecsSuperset ?? [],
    external: inputs.external,
    problems: inputs.problems,
  };
}
