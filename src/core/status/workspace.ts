// The workspace a query runs in: the repository, its config and targets, the Docker state of a
// target, and which Dockerfile builds it.
import * as path from 'node:path';
import { loadConfig, selectTargets, type LoadedConfig, type TargetConfig, type TargetOverrides } from '../config';
import { DockerEndpointError, resolveDockerEndpoints } from '../docker/endpoints';
import { readDockerState } from '../docker/state';
import { runGit, traceSpan } from '../git/exec';
import { findRepo, readHead, readWorktreeFile, type HeadInfo, type RepoInfo } from '../git/queries';
import { dockerfileCandidatesForImage } from '../inputs/imageInputs';
import type { DockerState, ImageInfo } from '../types';

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
