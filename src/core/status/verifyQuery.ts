// `provenance verify`: the bytes of the deployed container (or a named container or image) against
// git, read afresh. Also the pieces status and the archaeology share: the verification context of a
// target and the engine a container or image was found on.
import type { TargetConfig } from '../config';
import { connectDocker, knownNestedEndpoint, parseRevisionLabel } from '../docker/state';
import { resolveDockerEndpoints } from '../docker/endpoints';
import { catFileBatch, type CatFileResult, type RepoInfo } from '../git/queries';
import type { ImageInputs } from '../inputs/imageInputs';
import type { ContainerInfo, DockerEndpoint, DockerState, ImageInfo, LabelRevision } from '../types';
import { analyze, dockerfileSpecs, inputsCacheKey, pickDockerfileAt, sameBlobs } from './targetInputs';
import { verifySubjects, type Verification, type VerifyContext, type VerifySubject } from './verification';
import { dockerStateFor, ProvenanceError, requireHead, resolveDockerfile, type Workspace } from './workspace';

/** The endpoint object of `host` among the target's endpoints (the first one when none matches). */
export function engineFor(target: TargetConfig, host: string): DockerEndpoint {
  let eps: DockerEndpoint[] = [];
  try {
    eps = resolveDockerEndpoints({ targetEndpoints: target.endpoints });
  } catch {
    /* reported as unreachable by the state read */
  }
  return eps.find((e) => e.host === host) ?? knownNestedEndpoint(host) ?? eps[0] ?? { host, source: 'found' };
}

/**
 * What verifying a target's images needs beside the bytes: HEAD's analysis, the analysis at a
 * labelled commit (from cat-file; HEAD's when the Dockerfile blobs are the same), the pathspecs.
 */
export function verificationContext(
  repo: RepoInfo,
  target: TargetConfig,
  dockerfile: string,
  head: string,
  headInputs: () => ImageInputs,
  opts: { signal?: AbortSignal; force?: boolean; headIds?: string[] } = {},
): VerifyContext {
  let headBlobs: Promise<CatFileResult[]> | undefined;
  return {
    repo,
    head,
    headInputs,
    pathspecs: () => headInputs().pathspecs,
    signal: opts.signal,
    force: opts.force,
    inputsKey: opts.headIds ? inputsCacheKey(target, dockerfile, opts.headIds) : undefined,
    inputsAt: async (sha) => {
      headBlobs ??= catFileBatch(repo.root, dockerfileSpecs(target, dockerfile, head), opts.signal);
      const [at, h] = await Promise.all([catFileBatch(repo.root, dockerfileSpecs(target, dockerfile, sha), opts.signal), headBlobs]);
      const picked = pickDockerfileAt(target, dockerfile, at);
      if (!picked || sameBlobs(at, h)) return headInputs();
      try {
        return analyze(target, dockerfile, picked);
      } catch {
        return headInputs(); // a Dockerfile that no longer parses: HEAD's rules are the best guess
      }
    },
  };
}

export function imageSubject(target: TargetConfig, img: ImageInfo): VerifySubject {
  return { kind: 'image', imageId: img.id, engine: engineFor(target, img.endpoint), label: img.revision };
}

export function containerSubject(target: TargetConfig, c: ContainerInfo): VerifySubject {
  return { kind: 'container', imageId: c.imageId, containerId: c.id, name: c.name, started: c.started, engine: engineFor(target, c.endpoint), label: c.revision };
}

export interface VerifyReport {
  target: string;
  subject: { kind: 'image' | 'container'; imageId: string; tags: string[]; containerId: string | null; name: string | null; endpoint: string };
  /** The revision the bytes are judged against (the label's, or derived from the content). */
  revision: string | null;
  revisionSource: 'label' | 'content' | null;
  label: string | null;
  verification: Verification;
}

/**
 * Verifies, with fresh reads, the container named `container`, the image `image` (ID, prefix or
 * name:tag), or by default what status compares against: the newest running container of the
 * target, else its newest image.
 */
export async function computeVerify(
  ws: Workspace,
  target: TargetConfig,
  opts: { container?: string; image?: string; signal?: AbortSignal } = {},
): Promise<VerifyReport> {
  const { repo } = ws;
  const signal = opts.signal;
  const [head, docker] = await Promise.all([requireHead(repo, signal), dockerStateFor(target, signal, { allContainers: opts.container !== undefined })]);
  if (!docker.reachable) throw new ProvenanceError(docker.reason, docker.hint, 'usage');
  let subject: VerifySubject;
  let shown: VerifyReport['subject'];
  if (opts.container !== undefined) {
    const c = await findContainer(target, docker, opts.container, signal);
    subject = containerSubject(target, c);
    shown = { kind: 'container', imageId: c.imageId, tags: [], containerId: c.id, name: c.name, endpoint: c.endpoint };
  } else if (opts.image !== undefined) {
    const img = await findImage(target, docker, opts.image);
    subject = imageSubject(target, img);
    shown = { kind: 'image', imageId: img.id, tags: img.tags, containerId: null, name: null, endpoint: img.endpoint };
  } else {
    const running = docker.containers.filter((c) => c.state === 'running').sort((a, b) => b.started.localeCompare(a.started))[0];
    if (running) {
      subject = containerSubject(target, running);
      shown = { kind: 'container', imageId: running.imageId, tags: [], containerId: running.id, name: running.name, endpoint: running.endpoint };
    } else if (docker.images[0]) {
      subject = imageSubject(target, docker.images[0]);
      shown = { kind: 'image', imageId: docker.images[0].id, tags: docker.images[0].tags, containerId: null, name: null, endpoint: docker.images[0].endpoint };
    } else {
      throw new ProvenanceError(`No local image matches ${target.image}, and no container runs one.`, 'Name one: provenance verify --image <id|name:tag> or --container <name>.', 'usage');
    }
  }
  const dockerfile = await resolveDockerfile(repo, target, docker.images, signal);
  const at = pickDockerfileAt(target, dockerfile, await catFileBatch(repo.root, dockerfileSpecs(target, dockerfile, head.sha), signal));
  if (!at) {
    throw new ProvenanceError(`The Dockerfile ${dockerfile} is not in HEAD.`, 'Commit it, or check the "dockerfile" of the target in .provenance.json.', 'no-dockerfile');
  }
  const headInputs = analyze(target, dockerfile, at);
  const ctx = verificationContext(repo, target, dockerfile, head.sha, () => headInputs, { signal, force: true });
  const [verification] = await verifySubjects(ctx, [subject]);
  return {
    target: target.name,
    subject: shown,
    revision: verification.against,
    revisionSource: verification.against === null ? null : subject.label.kind === 'sha' ? 'label' : 'content',
    label: subject.label.kind === 'none' ? null : subject.label.raw,
    verification,
  };
}

/**
 * What the bytes of each image say, for images no label or ledger record names (history,
 * contains, suspects, the timeline; zero-config discovery): one verification run for all of
 * them, cached per image ID. Images it cannot tell about are missing from the map. Throws only
 * AbortError.
 */
export async function verifyImagesOf(
  ws: Workspace,
  target: TargetConfig,
  images: ImageInfo[],
  opts: { signal?: AbortSignal } = {},
): Promise<Map<string, Verification>> {
  const out = new Map<string, Verification>();
  if (images.length === 0) return out;
  const { repo } = ws;
  try {
    const head = await requireHead(repo, opts.signal);
    const dockerfile = await resolveDockerfile(repo, target, images, opts.signal);
    const batch = await catFileBatch(repo.root, dockerfileSpecs(target, dockerfile, head.sha), opts.signal);
    const at = pickDockerfileAt(target, dockerfile, batch);
    if (!at) return out;
    let inputs: ImageInputs | undefined;
    const headInputs = () => (inputs ??= analyze(target, dockerfile, at));
    const ctx = verificationContext(repo, target, dockerfile, head.sha, headInputs, { signal: opts.signal, headIds: batch.map((r) => r?.oid ?? '-') });
    const results = await verifySubjects(ctx, images.map((img) => imageSubject(target, img)));
    images.forEach((img, k) => out.set(img.id, results[k]));
  } catch (err) {
    if (err instanceof Error && err.name === 'AbortError') throw err;
    // No HEAD, no Dockerfile, one that does not parse: the bytes cannot be judged; nothing is lost.
  }
  return out;
}

/**
 * For zero-config discovery: whether an image's baked bytes match this repository, judged by
 * `target` (its Dockerfile and context, e.g. a candidate). `matches`: some files are versions of
 * this repository's files and none contradict each other (`consistent`, or `verified` against its
 * label); the verification says how many and which commits.
 */
export async function imageBytesMatchRepository(
  ws: Workspace,
  target: TargetConfig,
  image: ImageInfo,
  opts: { signal?: AbortSignal } = {},
): Promise<{ matches: boolean; verification: Verification | null }> {
  const v = (await verifyImagesOf(ws, target, [image], opts)).get(image.id) ?? null;
  return { matches: v !== null && (v.state === 'consistent' || v.state === 'verified') && v.matched > 0, verification: v };
}

async function findContainer(target: TargetConfig, docker: Extract<DockerState, { reachable: true }>, name: string, signal?: AbortSignal): Promise<ContainerInfo> {
  const want = name.replace(/^\//, '');
  const own = docker.containers.find((c) => c.name === want || c.id === want || (want.length >= 4 && c.id.startsWith(want)));
  if (own) return own;
  // Not one of the target's: any container of that name on the target's engine.
  const ep = engineFor(target, docker.endpoint.host);
  const client = await connectDocker(ep, 10_000);
  try {
    const d = await client.getContainer(want).inspect({ abortSignal: signal } as object);
    const labels = d.Config?.Labels ?? {};
    const revision: LabelRevision = parseRevisionLabel(labels, target.revisionLabels);
    return {
      id: d.Id,
      name: d.Name.replace(/^\//, ''),
      imageId: d.Image,
      image: d.Config?.Image ?? d.Image,
      started: d.State?.StartedAt ?? d.Created,
      state: d.State?.Status ?? 'unknown',
      labels,
      revision: revision.kind !== 'none' ? revision : await imageRevision(client, d.Image, target),
      endpoint: ep.host,
    };
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) {
      throw new ProvenanceError(`No container "${name}" on ${ep.host}.`, 'Give a container name or ID from `docker ps -a`.', 'usage');
    }
    throw err;
  }
}

async function imageRevision(client: Awaited<ReturnType<typeof connectDocker>>, imageId: string, target: TargetConfig): Promise<LabelRevision> {
  try {
    const info = await client.getImage(imageId).inspect();
    return parseRevisionLabel(info.Config?.Labels ?? {}, target.revisionLabels);
  } catch {
    return { kind: 'none' };
  }
}

async function findImage(target: TargetConfig, docker: Extract<DockerState, { reachable: true }>, ref: string): Promise<ImageInfo> {
  const bare = ref.replace(/^sha256:/, '');
  const own = docker.images.find((i) => i.id === ref || i.tags.includes(ref) || (/^[0-9a-f]{4,64}$/.test(bare) && i.id.replace(/^sha256:/, '').startsWith(bare)));
  if (own) return own;
  const ep = engineFor(target, docker.endpoint.host);
  const client = await connectDocker(ep, 10_000);
  try {
    const info = await client.getImage(ref).inspect();
    const labels = info.Config?.Labels ?? {};
    return { id: info.Id, tags: info.RepoTags ?? [], created: info.Created, labels, revision: parseRevisionLabel(labels, target.revisionLabels), endpoint: ep.host };
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) {
      throw new ProvenanceError(`No image "${ref}" on ${ep.host}.`, 'Give an image ID or name:tag from `docker images`.', 'usage');
    }
    throw err;
  }
}
