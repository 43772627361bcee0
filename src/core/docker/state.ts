// What one Docker engine holds for a target: its images (newest first) and the containers running
// them, with the git revision read from labels. dockerode is loaded lazily, on first use, so CLI
// commands that never talk to Docker do not pay for loading it (and ssh2).
import type Dockerode from 'dockerode';
import { dialAgent, dialExec, DialError, DIAL_STDIO, type ExecStream } from './dialStdio';
import { dockerodeOptions, DockerEndpointError } from './endpoints';
import type { ContainerInfo, DockerEndpoint, DockerState, ImageInfo, LabelRevision } from '../types';

export const DEFAULT_DOCKER_TIMEOUT_MS = 5000;
/** The label of a smoke-test container (build/smoke.ts): a test of an image, never its deployment. */
export const SMOKE_LABEL = 'dev.build-provenance.smoke';

// ---------------------------------------------------------------------------------------------
// Labels

const SHA_RE = /^([0-9a-f]+)(-dirty)?$/i;

/**
 * The revision in the first of `keys` that is present in `labels`. An empty or malformed value
 * is reported as garbage with a reason, never guessed at; later keys are not consulted.
 */
export function parseRevisionLabel(labels: Record<string, string> | null | undefined, keys: string[]): LabelRevision {
  if (!labels) return { kind: 'none' };
  const label = keys.find((k) => Object.prototype.hasOwnProperty.call(labels, k));
  if (label === undefined) return { kind: 'none' };
  const raw = labels[label];
  if (typeof raw !== 'string') return { kind: 'garbage', label, raw: String(raw), reason: 'The label value is not text.' };
  const value = raw.trim();
  if (value === '') {
    return { kind: 'garbage', label, raw, reason: 'The label is empty (was the revision build argument left unset?).' };
  }
  const m = SHA_RE.exec(value);
  if (!m) {
    const why = /^sha256:/i.test(value)
      ? 'It looks like an image digest, not a git commit.'
      : 'Expected a git commit SHA: 7 to 40 hex digits, optionally followed by "-dirty".';
    return { kind: 'garbage', label, raw, reason: `Not a git commit SHA. ${why}` };
  }
  const hex = m[1].toLowerCase();
  if (hex.length < 7) {
    return { kind: 'garbage', label, raw, reason: `Too short for a commit SHA: ${hex.length} hex digits; at least 7 are needed.` };
  }
  if (hex.length > 40) {
    return { kind: 'garbage', label, raw, reason: `Too long for a git commit SHA: ${hex.length} hex digits; at most 40.` };
  }
  return { kind: 'sha', label, raw, sha: hex, dirty: m[2] !== undefined, short: hex.length < 40 };
}

// ---------------------------------------------------------------------------------------------
// Image references

interface SplitRef {
  repo: string;
  tag?: string;
}

/** Splits `repo[:tag][@digest]`; a colon before the last slash is a registry port, not a tag. */
function splitRef(ref: string): SplitRef {
  let rest = ref.trim();
  const at = rest.indexOf('@');
  if (at >= 0) rest = rest.slice(0, at);
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) return { repo: rest.slice(0, colon), tag: rest.slice(colon + 1) };
  return { repo: rest };
}

/** Docker Hub's long forms (`docker.io/library/x`, `library/x`) to the familiar `x`. */
function familiarRepo(repo: string): string {
  let r = repo.toLowerCase();
  const hub = /^(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)\/(.+)$/.exec(r);
  if (hub) r = hub[1];
  const lib = /^library\/([^/]+)$/.exec(r);
  if (lib) r = lib[1];
  return r;
}

/** The repository of an image reference in its familiar form: `docker.io/library/x:1` → `x`. */
export function repositoryOf(ref: string): string {
  return familiarRepo(splitRef(ref).repo);
}

/** The registry `host[:port]` a repository name starts with (`registry:5000/x`, `localhost/x`, `ghcr.io/x`), or undefined. */
function registryHost(repo: string): string | undefined {
  const slash = repo.indexOf('/');
  if (slash < 0) return undefined;
  const first = repo.slice(0, slash);
  return /[.:]/.test(first) || first === 'localhost' ? first : undefined;
}

/**
 * Whether `name` matches the image glob (`*` and `?` within one path segment, `**` across `/`).
 * Dynamic programming over (pattern, name) positions: time O(pattern × name), never the
 * backtracking a RegExp of `*a*a*a…b` would take (the pattern comes from the repository's config).
 */
export function imageGlobMatches(glob: string, name: string): boolean {
  // can[j]: the pattern so far matches name.slice(0, j).
  let can = new Array<boolean>(name.length + 1).fill(false);
  can[0] = true;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    const next = new Array<boolean>(name.length + 1).fill(false);
    if (c === '*') {
      const any = glob[i + 1] === '*';
      if (any) i++;
      for (let j = 0; j <= name.length; j++) next[j] = can[j] || (j > 0 && next[j - 1] && (any || name[j - 1] !== '/'));
    } else {
      for (let j = 1; j <= name.length; j++) next[j] = can[j - 1] && (c === '?' ? name[j - 1] !== '/' : name[j - 1] === c);
    }
    can = next;
  }
  return can[name.length];
}

/**
 * Whether `repoTag` (e.g. `helix-ubuntu:latest`) belongs to the target named by `pattern`: a
 * repository name or glob (`helix-ubuntu`, `registry:5000/team/helix-*`), optionally with a tag
 * (`helix-ubuntu:v*`). Without a tag in the pattern every tag matches. `*` and `?` stay within
 * one path segment, `**` crosses `/`. Docker Hub long forms compare equal to the short ones.
 */
export function imageRefMatches(pattern: string, repoTag: string): boolean {
  if (pattern.trim() === '' || repoTag.trim() === '' || repoTag.startsWith('<none>')) return false;
  const p = splitRef(pattern);
  const r = splitRef(repoTag);
  const pr = familiarRepo(p.repo);
  const rr = familiarRepo(r.repo);
  if (!imageGlobMatches(pr, rr)) {
    // A pattern without a registry names the image wherever it was pushed: `helix-ubuntu` is
    // also registry:5000/helix-ubuntu (pulled inside a sandbox) and localhost:5000/helix-ubuntu.
    const host = registryHost(rr);
    if (registryHost(pr) !== undefined || host === undefined) return false;
    const path = rr.slice(host.length + 1);
    if (!imageGlobMatches(pr, pr.includes('/') ? path : path.slice(path.lastIndexOf('/') + 1))) return false;
  }
  if (p.tag === undefined) return true;
  return imageGlobMatches(p.tag, r.tag ?? 'latest');
}

// ---------------------------------------------------------------------------------------------
// Reading an engine

export interface ReadDockerStateOptions {
  /** Repository name or glob of the target's image; see imageRefMatches. */
  image: string;
  /** Label keys holding the git revision, most preferred first. */
  labelKeys: string[];
  signal?: AbortSignal;
  /** For the whole read, all calls included. Default 5000 ms. */
  timeoutMs?: number;
  /** Also containers that ran and stopped (history, timelines); default only running ones. */
  allContainers?: boolean;
  /**
   * Called once the containers are listed, with the running Docker-in-Docker containers among
   * them (as endpoints to read), before the details are read: their reads can start at once.
   */
  onNested?: (nested: DockerEndpoint[]) => void;
}

/** Where a Docker-in-Docker daemon keeps its data: a mount there marks a container as one (docker:dind, helix's sandbox). */
export const DIND_DATA_ROOT = '/var/lib/docker';

/** The daemon inside a running container found on `outer`: reached by exec'ing dial-stdio in it (by ID, never by a name). */
export function nestedEndpoint(outer: DockerEndpoint, id: string, name: string): DockerEndpoint {
  const ep = { host: `docker-exec://${name}`, source: 'nested', via: { outer, container: id, name } };
  foundNested.set(ep.host, ep);
  return ep;
}

/** Nested endpoints found in this process, by host: later reads of their images and containers (verification) go there again. */
const foundNested = new Map<string, DockerEndpoint>();

export function knownNestedEndpoint(host: string): DockerEndpoint | undefined {
  return foundNested.get(host);
}

/** Whether a listed container is a Docker-in-Docker host: running, with a volume or bind mount at /var/lib/docker. */
export function isDockerInDocker(c: { State?: string; Mounts?: Array<{ Destination?: string }> }): boolean {
  return c.State === 'running' && (c.Mounts ?? []).some((m) => m.Destination?.replace(/\/+$/, '') === DIND_DATA_ROOT);
}

type DockerCtor = new (opts?: Dockerode.DockerOptions) => Dockerode;
let dockerCtor: Promise<DockerCtor> | undefined;

function loadDockerode(): Promise<DockerCtor> {
  // require, not import(): dockerode is a separate CommonJS bundle, and import() would send it
  // through the ESM loader, which lexes all 150 KB for named exports (~50 ms per CLI run).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  dockerCtor ??= Promise.resolve().then(() => require('dockerode') as DockerCtor);
  return dockerCtor;
}

class DeadlineError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
  }
}

class CancelledError extends Error {}

/** One signal that fires on the caller's abort or at the deadline, and a promise that rejects then. */
function deadline(parent: AbortSignal | undefined, timeoutMs: number) {
  const ctl = new AbortController();
  const onParent = () => ctl.abort(new CancelledError('cancelled'));
  if (parent?.aborted) onParent();
  else parent?.addEventListener('abort', onParent, { once: true });
  const timer = setTimeout(() => ctl.abort(new DeadlineError(timeoutMs)), timeoutMs);
  // Backstop for calls that ignore the signal (an ssh handshake does).
  const aborted = new Promise<never>((_, reject) => {
    ctl.signal.addEventListener('abort', () => reject(ctl.signal.reason), { once: true });
  });
  aborted.catch(() => undefined);
  return {
    signal: ctl.signal,
    race<T>(p: Promise<T>): Promise<T> {
      return Promise.race([p, aborted]);
    },
    dispose() {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParent);
    },
  };
}

/**
 * A dockerode client for one endpoint. Without `timeoutMs` the socket has no idle timeout, which a
 * build needs (a silent RUN step may take minutes); queries pass one.
 */
export function connectDocker(endpoint: DockerEndpoint, timeoutMs?: number): Promise<Dockerode> {
  return connect(endpoint, timeoutMs);
}

async function connect(endpoint: DockerEndpoint, timeoutMs: number | undefined): Promise<Dockerode> {
  const Docker = await loadDockerode();
  const options = { ...(endpoint.via ? nestedOptions(endpoint.via, timeoutMs === undefined) : dockerodeOptions(endpoint)), timeout: timeoutMs };
  // docker-modem merges defaults from process.env.DOCKER_HOST underneath explicit options, reads
  // DOCKER_CERT_PATH files for it and throws on a malformed one, although the endpoint is already
  // resolved (docker-modem lib/modem.js, defaultOpts). Hide it for the synchronous constructor call.
  const envHost = process.env.DOCKER_HOST;
  delete process.env.DOCKER_HOST;
  try {
    return new Docker(options);
  } finally {
    if (envHost !== undefined) process.env.DOCKER_HOST = envHost;
  }
}

/**
 * dockerode options for a daemon inside a container: each connection is `docker system
 * dial-stdio` (fixed argv) exec'd in it through the outer daemon, stdin and stdout hijacked.
 */
function nestedOptions(via: NonNullable<DockerEndpoint['via']>, streams: boolean): Dockerode.DockerOptions {
  // Queries of one sandbox (the state read, the content verification, image history) share one
  // agent for the process, so its kept-alive connection serves them all instead of a new exec
  // (~100 ms) each. A client without a timeout holds its connection for a stream (events, a
  // build): it gets its own, or every query would queue behind it (one connection per agent).
  const key = `${via.outer.host}\0${via.container}`;
  let agent = streams ? nestedAgent(via) : nestedAgents.get(key);
  if (!agent) {
    agent = nestedAgent(via);
    nestedAgents.set(key, agent);
  }
  return { socketPath: undefined, host: undefined, port: undefined, protocol: 'http', agent } as Dockerode.DockerOptions;
}

const nestedAgents = new Map<string, import('node:http').Agent>();

const CONTAINER_ID_RE = /^[0-9a-f]{64}$/;

/**
 * Drops the shared agents of sandboxes found on `outerHost` (by container ID) that no longer run
 * there, closing their idle connections: a long-lived editor would otherwise keep one per sandbox
 * ever seen. Agents of configured `docker-exec://` endpoints (by name) stay.
 */
function forgetNestedAgentsExcept(outerHost: string, runningIds: ReadonlySet<string>): void {
  for (const [key, agent] of nestedAgents) {
    const [host, container] = key.split('\0');
    if (host !== outerHost || !CONTAINER_ID_RE.test(container) || runningIds.has(container)) continue;
    nestedAgents.delete(key);
    agent.destroy();
  }
}

/** The containers whose shared nested agents this process holds (tests). */
export function nestedAgentContainers(): string[] {
  return [...nestedAgents.keys()].map((k) => k.slice(k.indexOf('\0') + 1));
}

function nestedAgent(via: NonNullable<DockerEndpoint['via']>): import('node:http').Agent {
  let outer: Promise<Dockerode> | undefined;
  const start = async (): Promise<ExecStream> => {
    // No timeout on the outer client: the hijacked stream lives as long as the connection.
    outer ??= connect(via.outer, undefined);
    const container = (await outer).getContainer(via.container);
    const exec = await container.exec({ Cmd: [...DIAL_STDIO], AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: false });
    const socket = (await exec.start({ hijack: true, stdin: true, Detach: false, Tty: false } as Dockerode.ExecStartOptions)) as unknown as ExecStream['socket'];
    return { socket };
  };
  const what = `docker system dial-stdio in ${via.name}`;
  return dialAgent(() => dialExec(start, what));
}

/** Whether a container (say, one that just started) is a running Docker-in-Docker host. Never throws. */
export async function isDockerInDockerContainer(endpoint: DockerEndpoint, id: string): Promise<boolean> {
  try {
    const d = await (await connect(endpoint, DEFAULT_DOCKER_TIMEOUT_MS)).getContainer(id).inspect();
    return isDockerInDocker({ State: d.State?.Running ? 'running' : d.State?.Status, Mounts: d.Mounts });
  } catch {
    return false;
  }
}

/** Whether the engine answers `/_ping`. Never throws. */
export async function pingDocker(
  endpoint: DockerEndpoint,
  signal?: AbortSignal,
  timeoutMs = DEFAULT_DOCKER_TIMEOUT_MS,
): Promise<{ reachable: true } | { reachable: false; reason: string; hint: string }> {
  const dl = deadline(signal, timeoutMs);
  try {
    const docker = await dl.race(connect(endpoint, timeoutMs));
    // dockerode's ping takes abortSignal at runtime; its typings lack it.
    await dl.race((docker.ping as (o: { abortSignal: AbortSignal }) => Promise<unknown>)({ abortSignal: dl.signal }));
    return { reachable: true };
  } catch (err) {
    return { reachable: false, ...describeFailure(endpoint, dl.signal.aborted ? dl.signal.reason : err) };
  } finally {
    dl.dispose();
  }
}

/**
 * Images of the target on one engine, newest first, and the running containers made from them.
 * Never throws: any failure, cancellation included, comes back as `reachable: false` with a
 * reason and a hint that says what to do.
 */
export async function readDockerState(endpoint: DockerEndpoint, opts: ReadDockerStateOptions): Promise<DockerState> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_DOCKER_TIMEOUT_MS;
  const dl = deadline(opts.signal, timeoutMs);
  try {
    const docker = await dl.race(connect(endpoint, timeoutMs));
    const { images, containers } = await dl.race(collect(docker, endpoint, opts, dl.signal));
    return { reachable: true, endpoint, images, containers };
  } catch (err) {
    return { reachable: false, endpoint, ...describeFailure(endpoint, dl.signal.aborted ? dl.signal.reason : err) };
  } finally {
    dl.dispose();
  }
}

/**
 * An image of the engine's list call as the core sees it; `exactCreated` is inspect's Created
 * when it was read (the list's is whole seconds).
 */
export function imageInfoOf(img: Dockerode.ImageInfo, endpoint: string, labelKeys: string[], exactCreated?: string): ImageInfo {
  const labels = img.Labels ?? {};
  return {
    id: img.Id,
    tags: (img.RepoTags ?? []).filter((t) => !t.startsWith('<none>')),
    created: imageBuildTime(labels, toIso(exactCreated) ?? new Date(img.Created * 1000).toISOString()),
    labels,
    revision: parseRevisionLabel(labels, labelKeys),
    endpoint,
  };
}

/**
 * Every tagged image on one engine, newest first, with its labels (one list call, no inspect):
 * what zero-config discovery looks through. Never throws.
 */
export async function listLocalImages(
  endpoint: DockerEndpoint,
  opts: { labelKeys: string[]; signal?: AbortSignal; timeoutMs?: number },
): Promise<{ reachable: true; images: ImageInfo[] } | { reachable: false; reason: string; hint: string }> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_DOCKER_TIMEOUT_MS;
  const dl = deadline(opts.signal, timeoutMs);
  try {
    const docker = await dl.race(connect(endpoint, timeoutMs));
    const raw = (await dl.race(docker.listImages({ abortSignal: dl.signal }))).filter((img) => (img.RepoTags ?? []).some((t) => !t.startsWith('<none>')));
    // Builds of one repository within the same second: which is the newest decides what discovery names.
    const repoOf = (img: Dockerode.ImageInfo) => splitRef((img.RepoTags ?? []).find((t) => !t.startsWith('<none>')) ?? '').repo;
    const precise = await dl.race(exactCreatedOfTies(docker, raw, repoOf, dl.signal, 32));
    const images = raw.map((img) => imageInfoOf(img, endpoint.host, opts.labelKeys, precise.get(img.Id)));
    images.sort((a, b) => b.created.localeCompare(a.created) || a.id.localeCompare(b.id));
    return { reachable: true, images };
  } catch (err) {
    return { reachable: false, ...describeFailure(endpoint, dl.signal.aborted ? dl.signal.reason : err) };
  } finally {
    dl.dispose();
  }
}

/** The daemon's reference filter uses Go's path.Match; only hand it patterns it reads like we do. */
function referenceFilter(pattern: string): string[] | undefined {
  if (pattern.includes('**') || /[^A-Za-z0-9._\-/:*?]/.test(pattern)) return undefined;
  const { repo, tag } = splitRef(pattern);
  const fam = familiarRepo(repo);
  // Path.Match's `*` stays within a segment: the same name under a registry host, one to three levels down.
  const names = registryHost(fam) !== undefined ? [fam] : [fam, `*/${fam}`, ...(fam.includes('/') ? [] : [`*/*/${fam}`, `*/*/*/${fam}`])];
  return names.map((n) => (tag === undefined ? n : `${n}:${tag}`));
}

const IMAGE_ID_RE = /^(sha256:)?[0-9a-f]{12,64}$/;

async function collect(
  docker: Dockerode,
  endpoint: DockerEndpoint,
  opts: ReadDockerStateOptions,
  signal: AbortSignal,
): Promise<{ images: ImageInfo[]; containers: ContainerInfo[] }> {
  const ref = referenceFilter(opts.image);
  const [rawImages, rawContainers] = await Promise.all([
    docker.listImages({ ...(ref ? { filters: { reference: ref } } : {}), abortSignal: signal }),
    docker.listContainers({ ...(opts.allContainers ? { all: true } : {}), abortSignal: signal }).then((list) => {
      // Nested daemons are one level deep: a sandbox's own sandboxes are not looked into.
      if (opts.onNested && !endpoint.via) {
        const dind = list.filter(isDockerInDocker);
        forgetNestedAgentsExcept(endpoint.host, new Set(dind.map((c) => c.Id)));
        opts.onNested(dind.map((c) => nestedEndpoint(endpoint, c.Id, (c.Names?.[0] ?? c.Id.slice(0, 12)).replace(/^\//, ''))));
      }
      return list;
    }),
  ]);

  const matched = rawImages.filter((img) => (img.RepoTags ?? []).some((t) => imageRefMatches(opts.image, t)));
  const matchedIds = new Set(matched.map((i) => i.Id));

  // Candidates: made from a matched image, named like the target, or listed by bare image ID
  // (the daemon shows the ID once the tag has moved to a newer build; Config.Image keeps the name).
  // Stopped ones only when they name or use a matched image: each candidate costs an inspect.
  const candidates = rawContainers.filter(
    (c) =>
      matchedIds.has(c.ImageID) || imageRefMatches(opts.image, c.Image) || (c.State === 'running' && IMAGE_ID_RE.test(c.Image)),
  );

  // Image inspect takes no abort signal in dockerode 5; the caller's deadline race still bounds it.
  const foreignImageIds = [...new Set(candidates.map((c) => c.ImageID).filter((id) => !matchedIds.has(id)))];

  const [containerDetails, preciseCreated, foreignDetails] = await Promise.all([
    Promise.all(candidates.map((c) => docker.getContainer(c.Id).inspect({ abortSignal: signal }).catch(skipIfGone(signal)))),
    exactCreatedOfTies(docker, matched, () => '', signal),
    Promise.all(foreignImageIds.map((id) => docker.getImage(id).inspect().catch(skipIfGone(signal)))),
  ]);

  const images: ImageInfo[] = matched.map((img) => imageInfoOf(img, endpoint.host, opts.labelKeys, preciseCreated.get(img.Id)));
  images.sort((a, b) => b.created.localeCompare(a.created) || a.id.localeCompare(b.id));

  const imageLabels = new Map<string, Record<string, string>>(images.map((i) => [i.id, i.labels]));
  foreignImageIds.forEach((id, n) => {
    const d = foreignDetails[n];
    if (d) imageLabels.set(id, d.Config?.Labels ?? {});
  });

  const containers: ContainerInfo[] = [];
  candidates.forEach((c, n) => {
    const d = containerDetails[n];
    if (!d) return; // removed since the list call
    const configImage = d.Config?.Image;
    // A smoke test runs the new image for a minute; it is not what is deployed.
    if (c.Labels?.[SMOKE_LABEL] === '1') return;
    const belongs =
      matchedIds.has(c.ImageID) ||
      imageRefMatches(opts.image, c.Image) ||
      (configImage !== undefined && imageRefMatches(opts.image, configImage));
    if (!belongs) return;
    const labels = c.Labels ?? {};
    const own = parseRevisionLabel(labels, opts.labelKeys);
    const revision = own.kind !== 'none' ? own : parseRevisionLabel(imageLabels.get(c.ImageID), opts.labelKeys);
    const startedAt = toIso(d.State?.StartedAt);
    if (!startedAt && d.State?.Status === 'created') return; // never ran
    const started = startedAt ?? new Date(c.Created * 1000).toISOString();
    const finished = d.State?.Running ? undefined : toIso(d.State?.FinishedAt);
    containers.push({
      id: c.Id,
      name: (d.Name || c.Names?.[0] || c.Id.slice(0, 12)).replace(/^\//, ''),
      imageId: c.ImageID,
      image: IMAGE_ID_RE.test(c.Image) && configImage ? configImage : c.Image,
      started,
      state: d.State?.Status ?? c.State,
      ...(finished ? { finished } : {}),
      labels,
      revision,
      endpoint: endpoint.host,
      via: endpoint.via?.name ?? null,
    });
  });
  containers.sort((a, b) => b.started.localeCompare(a.started) || a.id.localeCompare(b.id));
  return { images, containers };
}

/**
 * Images built within the same second in one group (`group`: all one, or per repository) tie on
 * the list's whole-second Created: inspect's exact Created of those (at most `limit`), by ID, so
 * that they sort newest first. Others are not inspected.
 */
async function exactCreatedOfTies(
  docker: Dockerode,
  images: Dockerode.ImageInfo[],
  group: (img: Dockerode.ImageInfo) => string,
  signal: AbortSignal,
  limit = Infinity,
): Promise<Map<string, string>> {
  const key = (img: Dockerode.ImageInfo) => `${group(img)}\0${img.Created}`;
  const count = new Map<string, number>();
  for (const img of images) count.set(key(img), (count.get(key(img)) ?? 0) + 1);
  const tied = images.filter((img) => (count.get(key(img)) ?? 0) > 1).slice(0, limit);
  const details = await Promise.all(tied.map((img) => docker.getImage(img.Id).inspect().catch(skipIfGone(signal))));
  const exact = new Map<string, string>();
  tied.forEach((img, n) => {
    const created = details[n]?.Created;
    if (created) exact.set(img.Id, created);
  });
  return exact;
}

/** For per-item inspects: a container or image removed since the list call gives undefined. */
function skipIfGone(signal: AbortSignal) {
  return (err: unknown): undefined => {
    if (signal.aborted) throw err;
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  };
}

/** Docker's times are RFC 3339 with nanoseconds; the zero time means "never". */
/**
 * When an image was built: the engine's Created, or the `org.opencontainers.image.created` label
 * when that is later. BuildKit dates an image whose steps were all cached by the step that ran
 * last, which may be days before this build; `provenance build` (and buildx) label the image with
 * the time the build ran. A label inherited from a base image is older than Created and loses;
 * one more than a minute in the future is ignored.
 */
export function imageBuildTime(labels: Record<string, string>, engineCreated: string, now = Date.now()): string {
  const label = toIso(labels['org.opencontainers.image.created']);
  if (!label || Date.parse(label) > now + 60_000) return engineCreated;
  return label > engineCreated ? label : engineCreated;
}

function toIso(t: string | undefined): string | undefined {
  if (!t || t.startsWith('0001-01-01')) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

// ---------------------------------------------------------------------------------------------
// Failures

const DOCKER_HOST_HINT = 'check DOCKER_HOST, the docker context (`docker context ls`) or the target\'s endpoint setting';

/** A reason (what went wrong, with the endpoint) and a hint (what to do next) for any failure. */
export function describeFailure(endpoint: DockerEndpoint, err: unknown): { reason: string; hint: string } {
  const at = `Cannot connect to Docker at ${endpoint.host}`;
  const e = (err ?? {}) as NodeJS.ErrnoException & { level?: string; statusCode?: number; json?: unknown };
  const isUnix = endpoint.host.startsWith('unix://');
  const isSsh = endpoint.host.startsWith('ssh://');

  if (err instanceof CancelledError) return { reason: `Reading Docker at ${endpoint.host} was cancelled.`, hint: '' };
  if (err instanceof DeadlineError || e.code === 'ETIMEDOUT' || e.level === 'client-timeout') {
    const ms = err instanceof DeadlineError ? ` within ${err.timeoutMs} ms` : '';
    return {
      reason: `Docker at ${endpoint.host} did not answer${ms}.`,
      hint: `Check that the Docker daemon is running and responsive (\`docker version\`) and that the host is reachable; ${DOCKER_HOST_HINT}.`,
    };
  }
  if (err instanceof DockerEndpointError) return { reason: err.message, hint: `Fix the Docker endpoint: ${DOCKER_HOST_HINT}.` };
  if (err instanceof DialError) return err.via === 'ssh' ? describeSshFailure(endpoint, err) : describeNestedFailure(endpoint, err);
  if (e.code === 'ENOENT' && isUnix && (e.syscall === undefined || e.syscall === 'connect')) {
    return {
      reason: `${at}: socket not found.`,
      hint: `Start the Docker daemon (e.g. \`sudo systemctl start docker\`, or start Docker Desktop), or ${DOCKER_HOST_HINT}.`,
    };
  }
  if (e.code === 'ECONNREFUSED') {
    return {
      reason: isUnix ? `${at}: the socket exists but no daemon is listening on it.` : `${at}: connection refused.`,
      hint: `Start the Docker daemon${isUnix ? '' : ' on that host and make sure it listens on that port'}, or ${DOCKER_HOST_HINT}.`,
    };
  }
  if (e.code === 'EACCES' || e.code === 'EPERM') {
    return {
      reason: `${at}: permission denied${isUnix ? ' on the socket' : ''}.`,
      hint: isUnix
        ? 'Add your user to the docker group (`sudo usermod -aG docker $USER`, then log out and in again), or use a rootless Docker context.'
        : `Check the permissions for this endpoint, or ${DOCKER_HOST_HINT}.`,
    };
  }
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') {
    return { reason: `${at}: host name not found.`, hint: `Check the host name; ${DOCKER_HOST_HINT}.` };
  }
  if (e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH') {
    return { reason: `${at}: host unreachable.`, hint: `Check the network path to the host; ${DOCKER_HOST_HINT}.` };
  }
  if ((typeof e.code === 'string' && (e.code.startsWith('ERR_TLS') || e.code.includes('CERT') || e.code === 'EPROTO')) || /certificate|ssl|tls/i.test(e.message ?? '')) {
    return {
      reason: `${at}: TLS failed: ${e.message}`,
      hint: 'Check DOCKER_TLS_VERIFY / DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem) or the context\'s TLS material, and that the port speaks TLS.',
    };
  }
  if (typeof e.statusCode === 'number') {
    return {
      reason: `Docker at ${endpoint.host} answered with an error (HTTP ${e.statusCode}): ${e.message?.trim()}`,
      hint: 'Check that the endpoint is a Docker engine and that the daemon is healthy (`docker info`).',
    };
  }
  if ((e.code === 'ECONNRESET' || e.code === 'EPIPE') && (isSsh || endpoint.via)) {
    return {
      reason: `${at}: the connection closed in the middle of an answer${isSsh ? ' (the ssh server went away?)' : ` (${endpoint.via?.name} stopped?)`}.`,
      hint: isSsh ? SSH_HINT : NESTED_RETRY_HINT,
    };
  }
  if (e.code === 'ECONNRESET' || e.code === 'EPIPE') {
    return { reason: `${at}: the connection was closed by the other side.`, hint: `Check that the endpoint is a Docker engine; ${DOCKER_HOST_HINT}.` };
  }
  const msg = e.message || String(err);
  return { reason: `${at}: ${msg}${e.code ? ` (${e.code})` : ''}`, hint: `Check that the Docker daemon is running; ${DOCKER_HOST_HINT}.` };
}

const SSH_HINT = '`ssh HOST docker system dial-stdio` must work from this machine without a prompt: the host key in ~/.ssh/known_hosts, the key in ssh-agent (or IdentityFile in ~/.ssh/config), docker installed on the host.';
const NESTED_RETRY_HINT = 'It is read again by itself when the container or its daemon is back (Docker events).';

function lastLine(text: string): string {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !/^@+$/.test(l));
  return (lines[lines.length - 1] ?? '').replace(/\.$/, '');
}

/** ssh's own words (stderr) turned into a reason and what to do. */
function describeSshFailure(endpoint: DockerEndpoint, err: DialError): { reason: string; hint: string } {
  const at = `Cannot connect to Docker at ${endpoint.host}`;
  const d = err.detail;
  if (err.code === 'ENOENT') {
    return { reason: `${at}: the ssh command was not found.`, hint: 'Install the OpenSSH client (e.g. `sudo apt-get install openssh-client`); ssh:// endpoints run the system ssh.' };
  }
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED/i.test(d)) {
    return {
      reason: `${at}: the SSH host key has changed; ssh refused it (Host key verification failed).`,
      hint: 'The server\'s key is not the one in ~/.ssh/known_hosts: if the host was reinstalled, remove the old key (`ssh-keygen -R HOST`) and connect once with ssh to check and accept the new one; otherwise someone may be in between.',
    };
  }
  if (/Host key verification failed|host key is not known|No .* host key is known/i.test(d)) {
    return {
      reason: `${at}: the SSH host key is unknown; ssh refused it (Host key verification failed).`,
      hint: 'Connect once with `ssh HOST` and check the fingerprint, so the key is in ~/.ssh/known_hosts; it is never accepted without you.',
    };
  }
  if (/Permission denied/i.test(d)) {
    return {
      reason: `${at}: SSH authentication failed (${lastLine(d)}).`,
      hint: 'Load your key into ssh-agent (`ssh-add`, with SSH_AUTH_SOCK set) or name it with IdentityFile in ~/.ssh/config; `ssh HOST docker version` must work without a prompt.',
    };
  }
  if (/Connection refused/i.test(d)) {
    return { reason: `${at}: connection refused (${lastLine(d)}).`, hint: 'Check that sshd runs on that host and port (a Port in ~/.ssh/config applies too).' };
  }
  if (/Could not resolve hostname/i.test(d)) {
    return { reason: `${at}: host name not found (${lastLine(d)}).`, hint: 'Check the host name, or the Host alias in ~/.ssh/config.' };
  }
  if (/timed out|No route to host|Network is unreachable/i.test(d)) {
    return { reason: `${at}: host unreachable (${lastLine(d)}).`, hint: 'Check the network path to the host (and a ProxyJump in ~/.ssh/config).' };
  }
  if (/command not found|docker: not found|docker: No such file/i.test(d)) {
    return { reason: `${at}: docker is not installed on that host (${lastLine(d)}).`, hint: 'Install the docker CLI on the host, on the PATH of a non-interactive ssh session.' };
  }
  if (/Cannot connect to the Docker daemon|dial-stdio|docker\.sock/i.test(d)) {
    return { reason: `${at}: the Docker daemon on that host does not answer (${lastLine(d)}).`, hint: 'Start the Docker daemon on that host (`ssh HOST docker version` shows it).' };
  }
  return { reason: `${at}: SSH connection failed: ${lastLine(d) || err.message}`, hint: SSH_HINT };
}

/** A daemon in a container that could not be read: what the exec or dial-stdio said. */
function describeNestedFailure(endpoint: DockerEndpoint, err: DialError): { reason: string; hint: string } {
  const name = endpoint.via?.name ?? endpoint.host;
  const at = `Cannot read the Docker daemon inside ${name}`;
  const d = err.detail;
  if (/executable file not found|"docker": .*not found|no such file or directory: unknown/i.test(d)) {
    return {
      reason: `${at}: the container has no docker CLI (docker system dial-stdio cannot run there).`,
      hint: 'Reaching a Docker-in-Docker daemon runs `docker system dial-stdio` in its container: put the docker CLI in that image, or turn discovery off ("docker": {"nested": false}).',
    };
  }
  if (/is not running|No such container|is restarting|is paused|container stopped/i.test(d) || err.code === 'HTTP 404' || err.code === 'HTTP 409') {
    return { reason: `${at}: the container is not running (${lastLine(d)}).`, hint: NESTED_RETRY_HINT };
  }
  if (/Cannot connect to the Docker daemon|connection refused|no such file or directory/i.test(d)) {
    return { reason: `${at}: its daemon does not answer (${lastLine(d)}).`, hint: `Start the daemon inside ${name} (is dockerd running there?). ${NESTED_RETRY_HINT}` };
  }
  return { reason: `${at}: ${lastLine(d) || err.message}`, hint: `Check that \`docker exec ${name} docker version\` works. ${NESTED_RETRY_HINT}` };
}
