// A target's Dockerfile and ignore file at a revision or in the work tree, analysed into image
// inputs, with the pathspecs cached by blob ids in the git dir.
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import * as path from 'node:path';
import type { TargetConfig } from '../config';
import { readCacheEntry, writeCacheEntry } from '../git/dirCache';
import { catFileBatch, readWorktreeFile, type CatFileResult, type RepoInfo } from '../git/queries';
import { analyzeImageInputs, ignoreFileCandidates, unionInputs, type ImageInputs } from '../inputs/imageInputs';
import { ProvenanceError } from './workspace';

export interface DockerfileAt {
  text: string;
  ignoreFile: string | null;
  ignoreText: string | null;
}

/** Specs for one cat-file batch: the Dockerfile and every ignore candidate at `rev`. */
export function dockerfileSpecs(target: TargetConfig, dockerfile: string, rev: string): string[] {
  return [dockerfile, ...ignoreFileCandidates(dockerfile, target.context)].map((p) => `${rev}:${p}`);
}

export function pickDockerfileAt(
  target: TargetConfig,
  dockerfile: string,
  results: ({ type: string; content: Buffer } | null)[],
): DockerfileAt | null {
  if (!results[0]) return null;
  // `rev:path` of a folder is a tree listing, not a Dockerfile ("unknown instruction '40000'").
  if (results[0].type !== 'blob') {
    throw new ProvenanceError(
      `${dockerfile} is a folder, not a Dockerfile.`,
      `Set the target's "dockerfile" (or --dockerfile) to the file, e.g. ${dockerfile}/Dockerfile.`,
      'no-dockerfile',
    );
  }
  const candidates = ignoreFileCandidates(dockerfile, target.context);
  for (let k = 0; k < candidates.length; k++) {
    const r = results[k + 1];
    if (r && r.type === 'blob') return { text: results[0].content.toString('utf8'), ignoreFile: candidates[k], ignoreText: r.content.toString('utf8') };
  }
  return { text: results[0].content.toString('utf8'), ignoreFile: null, ignoreText: null };
}

export function worktreeDockerfile(repo: RepoInfo, target: TargetConfig, dockerfile: string): DockerfileAt | null {
  const text = readWorktreeFile(repo.root, dockerfile);
  if (text === null) return null;
  for (const c of ignoreFileCandidates(dockerfile, target.context)) {
    const t = readWorktreeFile(repo.root, c);
    if (t !== null) return { text, ignoreFile: c, ignoreText: t };
  }
  return { text, ignoreFile: null, ignoreText: null };
}

export function analyze(target: TargetConfig, dockerfile: string, at: DockerfileAt): ImageInputs {
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
export class HeadFiles {
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
export function sameBlobs(a: CatFileResult[], b: CatFileResult[]): boolean {
  return a.length === b.length && a.every((r, k) => (r?.oid ?? null) === (b[k]?.oid ?? null));
}

export function unionAll(list: ImageInputs[]): ImageInputs {
  return list.reduce((a, b) => unionInputs(a, b));
}

/** The error for a target's Dockerfile that is neither in the work tree nor at HEAD (or is a folder). */
export function missingDockerfile(repo: RepoInfo, dockerfile: string): ProvenanceError {
  let folder = false;
  try {
    folder = statSync(path.join(repo.root, dockerfile)).isDirectory();
  } catch {
    /* absent */
  }
  if (folder) {
    return new ProvenanceError(`${dockerfile} is a folder, not a Dockerfile.`, `Set the target's "dockerfile" (or --dockerfile) to the file, e.g. ${dockerfile}/Dockerfile.`, 'no-dockerfile');
  }
  return new ProvenanceError(
    `The Dockerfile ${dockerfile} does not exist in the work tree or at HEAD.`,
    'Check the "dockerfile" of the target in .provenance.json, or pass --dockerfile.',
    'no-dockerfile',
  );
}

/** Inputs of the Dockerfile as it is in the work tree (HEAD's when the file is not checked out). */
export async function worktreeInputs(repo: RepoInfo, target: TargetConfig, dockerfile: string, signal?: AbortSignal): Promise<ImageInputs> {
  const at = worktreeDockerfile(repo, target, dockerfile);
  if (at) return analyze(target, dockerfile, at);
  const res = await catFileBatch(repo.root, dockerfileSpecs(target, dockerfile, 'HEAD'), signal);
  const head = pickDockerfileAt(target, dockerfile, res);
  if (!head) throw missingDockerfile(repo, dockerfile);
  return analyze(target, dockerfile, head);
}


declare const PROVENANCE_BUILD_ID: string | undefined;
/** Changes with every build, so a new analysis never reads pathspecs an older one cached. */
export const ANALYSIS_SALT = typeof PROVENANCE_BUILD_ID === 'string' ? PROVENANCE_BUILD_ID : `dev-${process.pid}`;
const INPUTS_CACHE_ENTRIES = 64;

export function inputsCacheKey(target: TargetConfig, dockerfile: string, blobIds: string[]): string {
  const parts = [ANALYSIS_SALT, dockerfile, target.context, target.buildArgs, target.targetStage ?? null, target.include, target.exclude, blobIds];
  return createHash('sha1').update(JSON.stringify(parts)).digest('hex');
}

const INPUTS_CACHE = 'inputs-cache.json';

const isPathspecList = (v: unknown): v is string[] => Array.isArray(v) && v.every((p) => typeof p === 'string');

export function readInputsCache(repo: RepoInfo, key: string): string[] | null {
  return readCacheEntry(repo, INPUTS_CACHE, key, isPathspecList);
}

export function writeInputsCache(repo: RepoInfo, key: string, pathspecs: string[]): void {
  writeCacheEntry(repo, INPUTS_CACHE, key, pathspecs, INPUTS_CACHE_ENTRIES);
}
