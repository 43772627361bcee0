// The workspace a query runs in: the repository, its config and targets, the Docker state of a
// target, and which Dockerfile builds it.
import { statSync, type Stats } from 'node:fs';
import * as path from 'node:path';
import { discoveredTarget, discoveryWords, loadConfig, selectTargets, type LoadedConfig, type TargetConfig, type TargetOverrides } from '../config';
import { DockerEndpointError, resolveDockerEndpoints } from '../docker/endpoints';
import { readDockerState } from '../docker/state';
import { runGit, traceSpan } from '../git/exec';
import { findRepo, readHead, readWorktreeFile, type HeadInfo, type RepoInfo } from '../git/queries';
import { dockerfileCandidatesForImage, isDockerfileName } from '../inputs/imageInputs';
import type { DockerEndpoint, DockerState, ImageInfo } from '../types';
import { discoverTargets, dockerfileOnlyDiscovery } from './discovery';

export const DOCKERFILE_LABELS = ['com.docker.image.source.entrypoint', 'dev.build-provenance.dockerfile'];

/** A user-facing problem with what was asked: exit code 2 in the CLI, a message in the editor. */
export class ProvenanceError extends Error {
  constructor(
    message: string,
    readonly hint: string,
    readonly code: 'empty-repo' | 'unknown-revision' | 'no-dockerfile' | 'no-target' | 'dockerfile' | 'usage' = 'usage',
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
  let config = loadConfig(repo.root);
  const overrides = { ...opts.overrides };
  // Paths given on the command line are relative to --cwd (else the current folder), as with
  // `git -C`, never to the repository root.
  for (const key of ['dockerfile', 'context'] as const) {
    const v = overrides[key];
    if (v !== undefined) overrides[key] = commandLinePath(repo.root, cwd, `--${key}`, v, key === 'context' ? 'folder' : 'file');
  }
  // No configuration and no --image: find this repository's own images (status/discovery.ts).
  if (config.file === null && overrides.image === undefined) config = { file: null, targets: await zeroConfigTargets(repo, overrides.dockerfile, opts.signal) };
  return { repo, config, targets: selectTargets(config, opts.target, overrides) };
}

/** Discovered targets; with nothing found, a --dockerfile given names the target after the folder. */
async function zeroConfigTargets(repo: RepoInfo, dockerfile: string | undefined, signal?: AbortSignal): Promise<TargetConfig[]> {
  try {
    return await discoverTargets(repo, { signal });
  } catch (err) {
    const alone = dockerfile !== undefined && err instanceof ProvenanceError && err.code === 'no-target' ? dockerfileOnlyDiscovery({ folder: path.basename(repo.root), dockerfiles: [dockerfile], images: [] }) : null;
    if (!alone) throw err;
    return [discoveredTarget(alone.image, alone.dockerfile, { rule: 'folder-name', detail: `--dockerfile ${dockerfile}; the image is named after the folder ${path.basename(repo.root)}, as docker compose names a project` })];
  }
}

/**
 * A --dockerfile/--context value as a repo-relative path, or a ProvenanceError saying what it
 * resolved to: outside the repository, a folder given as the Dockerfile, a context that is not
 * a folder of the work tree. A Dockerfile missing from the work tree is allowed (HEAD's is read).
 */
function commandLinePath(root: string, cwd: string, flag: string, value: string, kind: 'file' | 'folder'): string {
  const abs = path.resolve(cwd, value);
  const rel = path.relative(root, abs).split(path.sep).join('/');
  const relativeTo = `Paths on the command line are relative to --cwd, else to the current folder (here ${cwd}).`;
  if (rel === '..' || rel.startsWith('../') || path.isAbsolute(rel)) {
    throw new ProvenanceError(`${flag} ${value} is ${abs}, outside the repository ${root}.`, relativeTo, 'usage');
  }
  let st: Stats | undefined;
  try {
    st = statSync(abs);
  } catch {
    st = undefined;
  }
  if (kind === 'folder' && !st?.isDirectory()) {
    throw new ProvenanceError(`${flag} ${value}: ${abs} ${st ? 'is a file' : 'does not exist'}; the build context must be a folder of the work tree.`, relativeTo, 'usage');
  }
  if (kind === 'file' && st?.isDirectory()) {
    throw new ProvenanceError(`${flag} ${value}: ${abs} is a folder, not a Dockerfile.`, `Name the file, e.g. ${flag} ${path.posix.join(value, 'Dockerfile')}.`, 'usage');
  }
  return rel || '.';
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
  const read = (ep: DockerEndpoint, onNested?: (n: DockerEndpoint[]) => void) =>
    readDockerState(ep, { image: target.image, labelKeys: target.revisionLabels, signal, allContainers: opts.allContainers, onNested });
  // Docker-in-Docker daemons found on a direct endpoint are read as soon as it has listed its
  // containers (beside its inspects); one named in the configuration is not read twice.
  const nestedReads: Promise<DockerState>[] = [];
  const taken = new Set(endpoints.filter((e) => e.via).map((e) => e.via!.name));
  const discover = target.nested === false ? undefined : (found: DockerEndpoint[]) => {
    for (const n of found) {
      if (taken.has(n.via!.name) || taken.has(n.via!.container)) continue;
      taken.add(n.via!.name);
      nestedReads.push(read(n));
    }
  };
  const direct = await Promise.all(endpoints.map((ep) => read(ep, ep.via ? undefined : discover)));
  const states = [...direct, ...(await Promise.all(nestedReads))];
  traced();
  return mergeDockerStates(states);
}

/**
 * States of several endpoints as one: images by ID (the same image on two daemons, e.g. pushed to
 * a registry and pulled inside a sandbox, is one build with the tags of both), newest first; every
 * container; the endpoints that did not answer as notes, while one did.
 */
export function mergeDockerStates(states: DockerState[]): DockerState {
  const up = states.filter((s): s is Extract<DockerState, { reachable: true }> => s.reachable);
  if (up.length === 0) return states[0];
  const down = states.flatMap((s) => (s.reachable ? [] : [{ endpoint: s.endpoint.host, reason: s.reason, hint: s.hint }]));
  const byId = new Map<string, ImageInfo>();
  for (const img of up.flatMap((s) => s.images)) {
    const seen = byId.get(img.id);
    if (!seen) byId.set(img.id, img);
    else byId.set(img.id, { ...seen, tags: [...new Set([...seen.tags, ...img.tags])], created: seen.created > img.created ? seen.created : img.created });
  }
  return {
    reachable: true,
    endpoint: up[0].endpoint,
    images: [...byId.values()].sort((a, b) => b.created.localeCompare(a.created)),
    containers: up.flatMap((s) => s.containers),
    ...(down.length ? { unreachable: down } : {}),
    endpoints: states.map((s) => s.endpoint),
  };
}

export async function requireHead(repo: RepoInfo, signal?: AbortSignal): Promise<HeadInfo & { sha: string }> {
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
 * A revision the user named that this clone does not resolve, said precisely: in a repository
 * with no commits it names nothing yet; only a SHA can be fetched by name (`git fetch origin
 * main~10` fetches nothing); a shallow clone may just lack the history.
 */
export async function unknownRevisionError(repo: RepoInfo, rev: string, what = `Revision ${rev} is not known in this clone.`, signal?: AbortSignal): Promise<ProvenanceError> {
  const head = await readHead(repo, signal).catch(() => null);
  if (head && head.sha === null) {
    return new ProvenanceError(
      `The repository at ${repo.root} has no commits yet, so ${rev} names nothing.`,
      'Make a first commit, then run provenance again.',
      'empty-repo',
    );
  }
  const sha = /^[0-9a-f]{7,40}$/i.test(rev);
  const hint = repo.shallow
    ? `This is a shallow clone: git fetch --unshallow${sha ? `, or git fetch origin ${rev}` : ''}.`
    : sha
      ? `Fetch it (git fetch --all, or git fetch origin ${rev}); check for typos.`
      : `Check the name for typos; if it is a branch or tag you have not fetched, git fetch --all.`;
  return new ProvenanceError(what, hint, 'unknown-revision');
}

/**
 * The target's Dockerfile: configured, else from an image label, else by name tokens
 * (`helix-ubuntu` → `Dockerfile.ubuntu-helix`), else the repository's only one, else a clear
 * error saying how to configure it.
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
  // The repository's only Dockerfile builds it (as zero-config takes it): `--image NAME` alone
  // on a repository with one Dockerfile needs nothing more.
  const all = files.filter(isDockerfileName);
  if (all.length === 1) return all[0];
  if (target.discovery) throw undecidedDockerfile(target, all);
  throw new ProvenanceError(
    `Cannot tell which Dockerfile builds ${target.image}.`,
    `Create .provenance.json with {"targets":[{"image":"${target.image}","dockerfile":"path/to/Dockerfile"}]}, ` +
      'or pass --dockerfile, or name the file Dockerfile.<image> / <image>.Dockerfile.',
    'no-dockerfile',
  );
}

/** A discovered target whose Dockerfile nothing tells: how it was found, the candidates, and how to pick one. */
function undecidedDockerfile(target: TargetConfig, candidates: string[]): ProvenanceError {
  const list = `${candidates.slice(0, 6).join(', ')}${candidates.length > 6 ? ', …' : ''}`;
  const why =
    candidates.length === 0
      ? 'there is no Dockerfile here'
      : `the candidates are ${list}, and no Dockerfile label of the image (${DOCKERFILE_LABELS[0]}) names one, nor is one named after ${target.image}`;
  const pick = candidates[0] ?? 'path/to/Dockerfile';
  return new ProvenanceError(
    `Cannot tell which Dockerfile builds ${target.image}, found ${discoveryWords(target.discovery!)}: ${why}.`,
    `Pick the one that builds it: pass --target ${target.name} --dockerfile ${pick}, or pin it in .provenance.json with {"targets":[{"image":"${target.image}","dockerfile":"${pick}"}]} ` +
      `(in VS Code: Build Provenance: Configure Target…). Building with --label ${DOCKERFILE_LABELS[0]}=${pick} (or BUILDX_GIT_LABELS=full) lets zero-config tell.`,
    'no-dockerfile',
  );
}

/** resolveDockerfile for commands that otherwise never talk to Docker: only a zero-config target asks it. */
export async function dockerfileFor(repo: RepoInfo, target: TargetConfig, signal?: AbortSignal): Promise<string> {
  if (target.dockerfile) return target.dockerfile;
  const docker = await dockerStateFor(target, signal);
  return resolveDockerfile(repo, target, docker.reachable ? docker.images : null, signal);
}
