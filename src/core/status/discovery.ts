// Zero-config discovery: with no .provenance.json, which local images are this repository's own,
// and by which rule. Cheapest evidence first (labels, names: one image list, at most one git
// process for the revision labels not seen before), the baked bytes only when nothing cheaper
// found a target, and every answer about an image cached per image ID.
import * as path from 'node:path';
import { DEFAULT_IMAGE, DEFAULT_REVISION_LABELS, discoveredTarget, imagePatternProblem, type TargetConfig, type TargetDiscovery } from '../config';
import { resolveDockerEndpoints } from '../docker/endpoints';
import { listLocalImages, repositoryOf } from '../docker/state';
import { readCacheEntry, writeCacheEntry } from '../git/dirCache';
import { runGit } from '../git/exec';
import { readHead, resolveCommits, type RepoInfo } from '../git/queries';
import { dockerfileCandidatesForImage, isDockerfileName } from '../inputs/imageInputs';
import { normaliseRemoteUrl, readRemotes, stripCredentials } from '../git/remotes';
import type { DockerEndpoint, ImageInfo } from '../types';
import { imageBytesMatchRepository } from './verifyQuery';
import { DOCKERFILE_LABELS, ProvenanceError } from './workspace';

export const SOURCE_LABEL = 'org.opencontainers.image.source';
/** At most this many images are judged by their bytes, newest first (each costs a created container once). */
export const CONTENT_IMAGES_LIMIT = 4;
/** …each against at most this many Dockerfiles. */
const CONTENT_DOCKERFILES_LIMIT = 2;
/** A target a label found, whose Dockerfile nothing names, is judged by its bytes in a repository of at most this many Dockerfiles. */
export const FOUND_DOCKERFILES_LIMIT = 4;

// ---------------------------------------------------------------------------------------------
// Pure pieces

/**
 * The project name docker compose gives a folder: lower case, only `a-z 0-9 _ -` kept, no leading
 * `_` or `-` (compose-go's NormalizeProjectName). `My App.v2` → `myappv2`.
 */
export function composeProjectName(folder: string): string {
  return folder
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/^[_-]+/, '');
}

/** A plain `Dockerfile` at some folder: the name says nothing about which project built an image. */
function genericDockerfile(p: string): boolean {
  return !p.includes('/') && /^(docker|container)file$/i.test(p);
}

export interface DiscoveryFacts {
  /** The repository folder's name. */
  folder: string;
  /** Repo-relative Dockerfiles (tracked or untracked, not ignored). */
  dockerfiles: string[];
  /** Tagged local images, newest first; null when Docker could not be read. */
  images: ImageInfo[] | null;
  /** Revision-label SHAs (as written) that name commits of this repository. */
  commits: ReadonlySet<string>;
  /** This repository's remotes: name and normalised URL. */
  remotes: { name: string; url: string }[];
}

export interface Found {
  /** The image repository name (the target's `image`). */
  image: string;
  dockerfile?: string;
  discovery: TargetDiscovery;
  /** The newest image that decided it (null: no image yet). */
  imageId: string | null;
}

/** An image only its bytes can tie to this repository, and the Dockerfiles to judge them by. */
export interface ContentCandidate {
  image: ImageInfo;
  repository: string;
  dockerfiles: string[];
  /** Why it is a candidate beyond "nothing contradicts it" (a generic Dockerfile label). */
  why?: string;
}

const short = (sha: string) => sha.slice(0, 12);

/** A Dockerfile label's value as a repo path (labels are relative to the context, here the root). */
const labelPath = (v: string | undefined) => (v && !v.includes('\0') ? path.posix.normalize(v.replace(/\\/g, '/')) : undefined);

/** The Dockerfile of a found image: a label naming one here, else by its name, else the only one. */
function dockerfileOf(repository: string, img: ImageInfo | null, dockerfiles: string[]): string | undefined {
  for (const key of DOCKERFILE_LABELS) {
    const rel = labelPath(img?.labels[key]);
    if (rel && dockerfiles.includes(rel)) return rel;
  }
  return dockerfileCandidatesForImage(repository, dockerfiles)[0] ?? (dockerfiles.length === 1 ? dockerfiles[0] : undefined);
}

/**
 * The rules that need no bytes, per image newest first (the first rule that holds decides):
 * a revision label naming a commit here; a source label naming this repository's remote; a
 * Dockerfile label naming a Dockerfile here (a bare `Dockerfile` only with its bytes' consent);
 * a name that a Dockerfile here is named after (`helix-ubuntu` ↔ `Dockerfile.ubuntu-helix`);
 * the folder's compose project name when there is one Dockerfile. An image whose revision or
 * source label names another repository is never this one's. Images are grouped by repository
 * name: one target each, decided by its newest image.
 */
export function cheapDiscovery(f: DiscoveryFacts): { found: Found[]; candidates: ContentCandidate[] } {
  const found = new Map<string, Found>();
  const candidates: ContentCandidate[] = [];
  const project = composeProjectName(f.folder);
  for (const img of f.images ?? []) {
    const repository = repositoryOf(img.tags[0]);
    if (found.has(repository) || imagePatternProblem(repository)) continue;
    const hit = (discovery: TargetDiscovery, dockerfile = dockerfileOf(repository, img, f.dockerfiles)) =>
      found.set(repository, { image: repository, dockerfile, discovery, imageId: img.id });
    const rev = img.revision;
    if (rev.kind === 'sha' && f.commits.has(rev.sha)) {
      hit({ rule: 'revision-label', detail: `${img.tags[0]}: its ${rev.label} ${short(rev.sha)} is a commit of this repository` });
      continue;
    }
    const source = img.labels[SOURCE_LABEL];
    const remote = source ? f.remotes.find((r) => r.url === normaliseRemoteUrl(source)) : undefined;
    if (remote) {
      hit({ rule: 'source-label', detail: `${img.tags[0]}: its ${SOURCE_LABEL} ${stripCredentials(source!)} is this repository's remote ${remote.name}` });
      continue;
    }
    // Labelled as another repository's build: not ours, whatever its name.
    if (rev.kind === 'sha' || source) continue;
    let generic: string | undefined;
    let labelled = false;
    for (const key of DOCKERFILE_LABELS) {
      const rel = labelPath(img.labels[key]);
      if (!rel || !f.dockerfiles.includes(rel)) continue;
      if (genericDockerfile(rel)) {
        generic ??= rel;
        continue;
      }
      hit({ rule: 'dockerfile-label', detail: `${img.tags[0]}: its ${key} names ${rel}, a Dockerfile here` }, rel);
      labelled = true;
      break;
    }
    if (labelled) continue;
    const byName = dockerfileCandidatesForImage(repository, f.dockerfiles).filter((p) => !/^(docker|container)file$/i.test(path.posix.basename(p)));
    if (byName.length > 0) {
      hit({ rule: 'image-name', detail: `${img.tags[0]}: ${byName[0]} is named after ${repository}` }, byName[0]);
      continue;
    }
    if (f.dockerfiles.length === 1 && repository === project) {
      hit({ rule: 'folder-name', detail: `${img.tags[0]}: named after the folder ${f.folder}, as docker compose names a project, and ${f.dockerfiles[0]} is the only Dockerfile here` }, f.dockerfiles[0]);
      continue;
    }
    // Judged by the Dockerfile a label or its name points at, else the only one.
    const named = dockerfileCandidatesForImage(repository, f.dockerfiles);
    const judgeBy = generic ? [generic] : named.length > 0 ? named : f.dockerfiles.length === 1 ? f.dockerfiles : [];
    const why = generic ? `its Dockerfile label names ${generic}` : named.length > 0 ? `${named[0]} is in a folder named ${repository}` : undefined;
    if (judgeBy.length > 0) candidates.push({ image: img, repository, dockerfiles: judgeBy.slice(0, CONTENT_DOCKERFILES_LIMIT), why });
  }
  // Images something points at are judged first, then the newest others.
  return { found: [...found.values()], candidates: [...candidates.filter((c) => c.why), ...candidates.filter((c) => !c.why)] };
}

/**
 * With no image found: a Dockerfile alone. `Dockerfile.ubuntu-helix` (or any file named for
 * helix-ubuntu) gives the helix-ubuntu target; one Dockerfile gives the folder's compose name.
 */
export function dockerfileOnlyDiscovery(f: Pick<DiscoveryFacts, 'folder' | 'dockerfiles' | 'images'>): Found | null {
  const noImage = f.images === null ? 'Docker could not be read' : 'no local image of it yet';
  const helix = dockerfileCandidatesForImage(DEFAULT_IMAGE, f.dockerfiles).filter((p) => !/^(docker|container)file$/i.test(path.posix.basename(p)));
  if (helix.length > 0) {
    return { image: DEFAULT_IMAGE, dockerfile: helix[0], imageId: null, discovery: { rule: 'image-name', detail: `${helix[0]} is named after ${DEFAULT_IMAGE}, the default image (${noImage})` } };
  }
  const project = composeProjectName(f.folder);
  if (f.dockerfiles.length === 1 && project && !imagePatternProblem(project)) {
    return {
      image: project,
      dockerfile: f.dockerfiles[0],
      imageId: null,
      discovery: { rule: 'folder-name', detail: `${f.dockerfiles[0]} is the only Dockerfile here; its image is named after the folder ${f.folder}, as docker compose names a project (${noImage})` },
    };
  }
  return null;
}

/** The error when nothing says which image this repository builds: what was looked at, and what to do. */
export function nothingFound(f: Pick<DiscoveryFacts, 'dockerfiles' | 'images'>, dockerProblem?: { reason: string; hint: string }): ProvenanceError {
  const files =
    f.dockerfiles.length === 0
      ? 'there is no Dockerfile here'
      : `there are ${f.dockerfiles.length} Dockerfiles (${f.dockerfiles.slice(0, 4).join(', ')}${f.dockerfiles.length > 4 ? ', …' : ''}), so none is the only one to name an image after the folder`;
  const images =
    f.images === null
      ? `the local images could not be read (${dockerProblem?.reason ?? 'Docker is unreachable'})`
      : f.images.length === 0
        ? 'there is no tagged local image'
        : `none of the ${f.images.length} tagged local image(s) is this repository's (no revision label naming a commit here, no ${SOURCE_LABEL} of its remote, no Dockerfile label naming a Dockerfile here, no name a Dockerfile here is named after, no baked files of it)`;
  const example = f.dockerfiles[0] ?? 'Dockerfile';
  return new ProvenanceError(
    `No .provenance.json, and nothing says which image this repository builds: ${images}, and ${files}.`,
    `Create .provenance.json with {"targets":[{"image":"NAME","dockerfile":"${example}"}]} (in VS Code: Build Provenance: Configure Target…), or pass --image NAME --dockerfile ${example}${f.images === null && dockerProblem?.hint ? `. ${dockerProblem.hint}` : ''}.`,
    'no-target',
  );
}

// ---------------------------------------------------------------------------------------------
// Facts, cached

/** What a long-lived caller (the extension) keeps between discoveries of one repository. */
export class DiscoveryMemo {
  /** Revision SHAs known not to be commits here, with the HEAD they were asked at. */
  readonly missing = new Map<string, string>();
  readonly known = new Set<string>();
  dockerfiles?: { key: string; files: Promise<string[]> };
  /** Content verdicts per `imageId\0dockerfile`. */
  readonly content = new Map<string, ContentVerdict>();
}

interface ContentVerdict {
  matches: boolean;
  detail: string;
}

const DISCOVERY_CACHE = 'discovery-cache.json';
const isTrue = (v: unknown): v is true => v === true;
const isVerdict = (v: unknown): v is ContentVerdict => !!v && typeof v === 'object' && typeof (v as ContentVerdict).matches === 'boolean' && typeof (v as ContentVerdict).detail === 'string';

export async function listDockerfiles(repo: RepoInfo, signal?: AbortSignal): Promise<string[]> {
  const { stdout } = await runGit(
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', ':(glob,icase)**/*dockerfile*', ':(glob,icase)**/*containerfile*'],
    { cwd: repo.root, signal },
  );
  return [...new Set(stdout.split('\0').filter(Boolean))].filter(isDockerfileName).sort();
}

/** Which of `shas` are commits here: cached (a commit stays one), the rest in one batch-check. */
async function commitsAmong(repo: RepoInfo, shas: string[], memo: DiscoveryMemo | undefined, signal?: AbortSignal): Promise<Set<string>> {
  const known = new Set<string>();
  const ask: string[] = [];
  let head: string | null | undefined;
  for (const sha of new Set(shas)) {
    if (memo?.known.has(sha) || readCacheEntry(repo, DISCOVERY_CACHE, `commit\0${sha}`, isTrue)) {
      known.add(sha);
      continue;
    }
    if (memo?.missing.has(sha)) {
      head ??= (await readHead(repo, signal).catch(() => ({ sha: null }))).sha;
      if (memo.missing.get(sha) === head) continue;
    }
    ask.push(sha);
  }
  if (ask.length === 0) return known;
  const resolved = await resolveCommits(repo.root, ask, signal);
  if (memo) head ??= (await readHead(repo, signal).catch(() => ({ sha: null }))).sha;
  ask.forEach((sha, k) => {
    if (resolved[k]) {
      known.add(sha);
      memo?.known.add(sha);
      writeCacheEntry(repo, DISCOVERY_CACHE, `commit\0${sha}`, true, 256);
    } else if (memo && head) {
      memo.missing.set(sha, head);
    }
  });
  return known;
}

export interface DiscoveryOptions {
  signal?: AbortSignal;
  memo?: DiscoveryMemo;
  /** Changes whenever the work tree may have changed (the extension's work-tree epoch): the Dockerfile list is asked again. */
  worktreeKey?: string;
}

/**
 * The targets of a repository without .provenance.json, each with the rule that found it. Throws
 * a ProvenanceError (code `no-target`) saying what was looked at when nothing was found.
 */
export async function discoverTargets(repo: RepoInfo, opts: DiscoveryOptions = {}): Promise<TargetConfig[]> {
  const { signal, memo } = opts;
  const filesP =
    memo && opts.worktreeKey !== undefined && memo.dockerfiles?.key === opts.worktreeKey
      ? memo.dockerfiles.files
      : listDockerfiles(repo, signal);
  if (memo && opts.worktreeKey !== undefined) memo.dockerfiles = { key: opts.worktreeKey, files: filesP };
  filesP.catch(() => undefined);
  let endpoints: DockerEndpoint[] = [];
  try {
    endpoints = resolveDockerEndpoints({ targetEndpoints: [] });
  } catch {
    /* a malformed DOCKER_HOST: no images, said in the error below */
  }
  const lists = await Promise.all(endpoints.map((ep) => listLocalImages(ep, { labelKeys: DEFAULT_REVISION_LABELS, signal })));
  const up = lists.flatMap((l) => (l.reachable ? l.images : []));
  const down = lists.find((l): l is Extract<typeof l, { reachable: false }> => !l.reachable);
  const images = lists.some((l) => l.reachable) ? up.sort((a, b) => b.created.localeCompare(a.created)) : null;
  const dockerfiles = await filesP;
  const shas = (images ?? []).flatMap((i) => (i.revision.kind === 'sha' ? [i.revision.sha] : []));
  const facts: DiscoveryFacts = {
    folder: path.basename(repo.root),
    dockerfiles,
    images,
    commits: await commitsAmong(repo, shas, memo, signal),
    remotes: (images ?? []).some((i) => i.labels[SOURCE_LABEL]) ? readRemotes(repo) : [],
  };
  let { found, candidates } = cheapDiscovery(facts);
  // One at a time: each judgement may create a container.
  for (let k = 0; k < found.length; k++) found[k] = await dockerfileByContent(repo, found[k], facts, memo, signal);
  if (found.length === 0 && candidates.length > 0) found = await contentDiscovery(repo, candidates, memo, signal);
  if (found.length === 0) {
    const alone = dockerfileOnlyDiscovery(facts);
    if (alone) found = [alone];
  }
  if (found.length === 0) throw nothingFound(facts, down ?? (endpoints.length === 0 ? { reason: 'no Docker endpoint could be resolved', hint: '' } : undefined));
  const targets = found.map((x) => discoveredTarget(x.image, x.dockerfile, x.discovery));
  // Two repositories whose last segments agree (`a/app`, `b/app`) keep distinct names.
  const seen = new Map<string, number>();
  return targets.map((t) => {
    const n = seen.get(t.name) ?? 0;
    seen.set(t.name, n + 1);
    return n === 0 ? t : { ...t, name: `${t.name}-${n + 1}` };
  });
}

/** Whether an image's baked bytes are this repository's, judged by one Dockerfile: cached per image ID and Dockerfile. */
async function contentVerdict(repo: RepoInfo, image: ImageInfo, repository: string, dockerfile: string, memo: DiscoveryMemo | undefined, signal?: AbortSignal, why?: string): Promise<ContentVerdict> {
  const key = `content\0${image.id}\0${dockerfile}`;
  let verdict = memo?.content.get(key) ?? readCacheEntry(repo, DISCOVERY_CACHE, key, isVerdict);
  if (!verdict) {
    const ws = { repo, config: { file: null, targets: [] }, targets: [] };
    const target = discoveredTarget(repository, dockerfile, { rule: 'content', detail: '' });
    const { matches, verification: v } = await imageBytesMatchRepository(ws, target, image, { signal });
    const fits = v?.consistentWith ? ` (consistent with ${short(v.consistentWith.oldest)}..${short(v.consistentWith.newest)})` : '';
    verdict = { matches, detail: v ? `${image.tags[0]}: ${v.matched} of ${v.checked} files ${dockerfile} bakes in are this repository's${fits}${why ? `; ${why}` : ''}` : '' };
    writeCacheEntry(repo, DISCOVERY_CACHE, key, verdict, 256);
  }
  memo?.content.set(key, verdict);
  return verdict;
}

/**
 * A target a label found, in a repository of several Dockerfiles, whose Dockerfile no label and no
 * name tells: the one Dockerfile whose baked files the image holds, when exactly one of them fits.
 * Else it stays without one, and its detail says what the bytes said (resolveDockerfile's error
 * then names the candidates and how to pick one).
 */
async function dockerfileByContent(repo: RepoInfo, x: Found, f: DiscoveryFacts, memo: DiscoveryMemo | undefined, signal?: AbortSignal): Promise<Found> {
  const image = x.dockerfile === undefined ? f.images?.find((i) => i.id === x.imageId) : undefined;
  const n = f.dockerfiles.length;
  if (!image || n < 2) return x;
  const said = (words: string, dockerfile?: string): Found => ({ ...x, dockerfile, discovery: { ...x.discovery, detail: `${x.discovery.detail}; ${words}` } });
  if (n > FOUND_DOCKERFILES_LIMIT) return said(`its baked files were not judged against the ${n} Dockerfiles here (more than ${FOUND_DOCKERFILES_LIMIT})`);
  const fits: string[] = [];
  for (const d of f.dockerfiles) if ((await contentVerdict(repo, image, x.image, d, memo, signal)).matches) fits.push(d);
  if (fits.length === 1) return said(`of the ${n} Dockerfiles here, its baked files are those ${fits[0]} copies`, fits[0]);
  return said(fits.length === 0 ? `its baked files fit none of the ${n} Dockerfiles here` : `its baked files fit ${fits.length} of the ${n} Dockerfiles here (${fits.join(', ')})`);
}

/** The bytes rule: the newest few candidates, each against its Dockerfiles, cached per image ID. */
async function contentDiscovery(repo: RepoInfo, candidates: ContentCandidate[], memo: DiscoveryMemo | undefined, signal?: AbortSignal): Promise<Found[]> {
  const found = new Map<string, Found>();
  for (const c of candidates.slice(0, CONTENT_IMAGES_LIMIT)) {
    if (found.has(c.repository)) continue;
    for (const dockerfile of c.dockerfiles) {
      const verdict = await contentVerdict(repo, c.image, c.repository, dockerfile, memo, signal, c.why);
      if (verdict.matches) {
        found.set(c.repository, { image: c.repository, dockerfile, imageId: c.image.id, discovery: { rule: 'content', detail: verdict.detail } });
        break;
      }
    }
  }
  return [...found.values()];
}
