// Reads files back from an image or a container with Docker's archive API (what `docker cp`
// uses) and hashes them as git does, as they stream past: nothing is written to disk. For an image,
// a container is created, never started, and removed at once, also on error and cancellation.
// The client (or the endpoint to connect to) is a parameter: any engine a container was found
// on works, local, tcp, ssh or one inside a sandbox.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import * as posix from 'node:path/posix';
import type Dockerode from 'dockerode';
import type { Readable } from 'node:stream';
import { blobHasher, type ObjectFormat } from '../blobId';
import type { DockerEndpoint } from '../types';
import { connectDocker } from './state';
import { removeStrayContainers } from './strayContainers';

/** What the image holds at one path. */
export type FileFact =
  | { kind: 'file'; blob: string; size: number; mode: number }
  | { kind: 'symlink'; target: string }
  | { kind: 'directory' }
  | { kind: 'absent' }
  | { kind: 'other'; what: string };

/** One archive request: a directory or a file, and the paths it should yield. */
export interface ArchiveRequest {
  path: string;
  directory: boolean;
  wanted: string[];
}

export type ArchiveSource = { kind: 'image'; id: string } | { kind: 'container'; id: string; name?: string };

export class ArchiveReadError extends Error {
  override name = 'ArchiveReadError';
  constructor(
    message: string,
    /** `gone`: the container (or image) went away; `refused`: the engine said no (permission, old API); `failed`: anything else. */
    readonly code: 'gone' | 'refused' | 'failed',
  ) {
    super(message);
  }
}

export interface ReadFilesOptions {
  signal?: AbortSignal;
  format?: ObjectFormat;
  /** A directory request is given up (and its files asked for one by one) beyond this many bytes. Default 16 MiB. */
  maxDirectoryBytes?: number;
}

export interface ReadFilesResult {
  facts: Map<string, FileFact>;
  /** Archive requests made (each one costs the engine a process start). */
  requests: number;
}

/** Label of the containers created to read an image; they are never started. */
export const VERIFY_LABEL = 'dev.build-provenance.verify';
/** `<host>:<pid>` of the process that created it, so strays of a killed process can be found. */
export const VERIFY_OWNER_LABEL = 'dev.build-provenance.verify.owner';

let archiveRequests = 0;
/** Archive requests this process has made (tests and benchmarks count them: a cached verification makes none). */
export function archiveRequestCount(): number {
  return archiveRequests;
}

const live = new Set<{ remove: () => Promise<void> }>();

/** Removes the created-not-started containers still in use (deactivation, exit). */
export async function removeLiveReadContainers(): Promise<void> {
  await Promise.all([...live].map((c) => c.remove()));
}

async function clientFor(engine: Dockerode | DockerEndpoint): Promise<Dockerode> {
  // Archive streams of a big directory can be slow to start; 30 s of silence is a dead engine.
  return 'modem' in engine ? engine : connectDocker(engine, 30_000);
}

/**
 * Reads the wanted paths of every request from the source. Paths the image does not have are
 * `absent`. Throws ArchiveReadError when the source cannot be read at all, AbortError on
 * cancellation; a created container is removed before either is thrown.
 */
export async function readFiles(
  engine: Dockerode | DockerEndpoint,
  source: ArchiveSource,
  requests: ArchiveRequest[],
  opts: ReadFilesOptions = {},
): Promise<ReadFilesResult> {
  const docker = await clientFor(engine);
  if (requests.length === 0) return { facts: new Map(), requests: 0 };
  if (source.kind === 'container') return readFrom(docker.getContainer(source.id), source, requests, opts);
  return withCreatedContainer(docker, source.id, opts.signal, (c) => readFrom(c, source, requests, opts));
}

/** The paths a running container changed against its image (`docker diff`): Kind 0 changed, 1 added, 2 deleted. */
export async function containerChanges(engine: Dockerode | DockerEndpoint, id: string, signal?: AbortSignal): Promise<Map<string, 0 | 1 | 2>> {
  const docker = await clientFor(engine);
  try {
    let list: unknown = await docker.getContainer(id).changes({ abortSignal: signal });
    // No changes come back as the body `null`, which docker-modem hands over as raw bytes.
    if (Buffer.isBuffer(list) || typeof list === 'string') list = JSON.parse(list.toString() || 'null');
    if (list !== null && !Array.isArray(list)) throw new ArchiveReadError(`Docker's list of the container's changes is not a list: ${String(list).slice(0, 80)}`, 'failed');
    return new Map(((list ?? []) as Array<{ Path: string; Kind: 0 | 1 | 2 }>).map((c) => [c.Path, c.Kind]));
  } catch (err) {
    if (signal?.aborted) throw abortError();
    throw toReadError(err, { kind: 'container', id });
  }
}

async function withCreatedContainer<T>(docker: Dockerode, imageId: string, signal: AbortSignal | undefined, fn: (c: Dockerode.Container) => Promise<T>): Promise<T> {
  if (signal?.aborted) throw abortError();
  let container: Dockerode.Container;
  try {
    // Not cancellable on purpose: a create cut off mid-way could still make a container that
    // nobody removes. It returns in milliseconds; cancellation is honoured right after.
    container = await docker.createContainer({
      name: `bp-verify-${randomBytes(5).toString('hex')}`,
      Image: imageId,
      // Never started: an entrypoint that cannot exist makes sure a stray start does nothing.
      Entrypoint: ['/.build-provenance-never-started'],
      Cmd: [],
      NetworkDisabled: true,
      Labels: { [VERIFY_LABEL]: '1', [VERIFY_OWNER_LABEL]: `${hostname()}:${process.pid}` },
      HostConfig: { NetworkMode: 'none' },
    });
  } catch (err) {
    throw toReadError(err, { kind: 'image', id: imageId });
  }
  const entry = { remove: () => removeQuietly(container) };
  live.add(entry);
  try {
    if (signal?.aborted) throw abortError();
    return await fn(container);
  } finally {
    await entry.remove();
    live.delete(entry);
  }
}

const removing = new WeakMap<Dockerode.Container, Promise<void>>();
/** Removed once, however many times asked (the finally and a deactivation may race); never throws. */
function removeQuietly(c: Dockerode.Container): Promise<void> {
  let p = removing.get(c);
  if (!p) {
    p = (async () => {
      // A read cut off a moment ago may still hold the container's mount: retry a few times.
      for (let attempt = 0; attempt < 4; attempt++) {
        try {
          await c.remove({ force: true, v: true });
          return;
        } catch (err) {
          if ((err as { statusCode?: number }).statusCode === 404) return; // already gone
          await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
        }
      }
      // Still there: the stray sweep (editor) or `docker rm` removes it; it never runs.
    })();
    removing.set(c, p);
  }
  return p;
}

/** Removes created-never-started containers of processes that are gone (SIGKILL); returns their names. */
export function removeStrayReadContainers(endpoint: DockerEndpoint): Promise<string[]> {
  return removeStrayContainers(endpoint, { label: VERIFY_LABEL, ownerLabel: VERIFY_OWNER_LABEL });
}

async function readFrom(c: Dockerode.Container, source: ArchiveSource, requests: ArchiveRequest[], opts: ReadFilesOptions): Promise<ReadFilesResult> {
  const facts = new Map<string, FileFact>();
  let count = 0;
  const max = opts.maxDirectoryBytes ?? 16 * 1024 * 1024;
  const queue = [...requests];
  // The engine serves one archive request of a container at a time; two in flight keep it busy
  // while the previous stream is hashed here.
  const worker = async () => {
    for (let r = queue.shift(); r; r = queue.shift()) {
      count++;
      const out = await readOne(c, source, r, { ...opts, max: r.directory ? max : Infinity });
      for (const [p, f] of out.facts) facts.set(p, f);
      // Too big: ask for the files that were not seen yet one at a time.
      if (out.unfinished) for (const w of r.wanted) if (!facts.has(w)) queue.push({ path: w, directory: false, wanted: [w] });
    }
  };
  await Promise.all([worker(), worker()]);
  for (const r of requests) for (const w of r.wanted) if (!facts.has(w)) facts.set(w, { kind: 'absent' });
  return { facts, requests: count };
}

async function readOne(
  c: Dockerode.Container,
  source: ArchiveSource,
  r: ArchiveRequest,
  opts: ReadFilesOptions & { max: number },
): Promise<{ facts: Map<string, FileFact>; unfinished: boolean }> {
  const facts = new Map<string, FileFact>();
  if (opts.signal?.aborted) throw abortError();
  archiveRequests++;
  // `dir/.` archives the directory's contents even when `dir` is a symlink (`/bin` → `usr/bin`).
  const asked = r.directory ? `${r.path.replace(/\/+$/, '')}/.` : r.path;
  const base = r.directory ? r.path.replace(/\/+$/, '') : posix.dirname(r.path);
  let stream: Readable;
  try {
    stream = (await c.getArchive({ path: asked, abortSignal: opts.signal } as { path: string })) as unknown as Readable;
  } catch (err) {
    if (opts.signal?.aborted) throw abortError();
    const e = err as { statusCode?: number; json?: { message?: string } | null; message?: string };
    const msg = String(e.json?.message ?? e.message ?? '');
    // docker-modem prefixes every 404 with "no such container"; the engine's own words tell a
    // missing path ("Could not find the file …") from a missing container ("No such container: …").
    if (e.statusCode === 404 && /could not find the file|no such file or directory/i.test(msg)) {
      for (const w of r.wanted) facts.set(w, { kind: 'absent' });
      return { facts, unfinished: false };
    }
    throw toReadError(err, source);
  }
  const wanted = new Set(r.wanted);
  const byName = new Map<string, FileFact>();
  const tar = await import('tar-stream');
  let bytes = 0;
  let unfinished = false;
  const done = () => [...wanted].every((w) => facts.has(w));
  await new Promise<void>((resolve, reject) => {
    const extract = tar.extract();
    let settled = false;
    const finish = (err?: unknown) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      stream.destroy();
      extract.destroy();
      if (err) reject(err);
      else resolve();
    };
    const onAbort = () => finish(abortError());
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > opts.max && !done()) {
        unfinished = true;
        finish();
      }
    });
    stream.on('error', (err) => finish(toReadError(err, source)));
    extract.on('entry', (h, body, next) => {
      const name = h.name.replace(/^\.\//, '').replace(/\/+$/, '');
      const at = name === '' || name === '.' ? base : posix.join(base, name);
      const record = (f: FileFact) => {
        byName.set(name, f);
        if (wanted.has(at)) facts.set(at, f);
      };
      const after = () => {
        if (done()) finish();
        else next();
      };
      if (h.type === 'file' || h.type === 'contiguous-file') {
        const size = h.size ?? 0;
        if (!wanted.has(at)) {
          body.on('end', after);
          body.resume();
          return;
        }
        const hash = blobHasher(size, opts.format);
        body.on('data', (d: Buffer) => hash.update(d));
        body.on('end', () => {
          record({ kind: 'file', blob: hash.digest(), size, mode: h.mode ?? 0 });
          after();
        });
        return;
      }
      if (h.type === 'symlink') record({ kind: 'symlink', target: h.linkname ?? '' });
      else if (h.type === 'link') {
        // A hard link names an earlier entry of the same archive.
        const target = byName.get((h.linkname ?? '').replace(/^\.\//, '').replace(/\/+$/, ''));
        record(target ?? { kind: 'other', what: 'a hard link to a file outside the read' });
      } else if (h.type === 'directory') record({ kind: 'directory' });
      else record({ kind: 'other', what: h.type ?? 'an unknown entry type' });
      body.on('end', after);
      body.resume();
    });
    extract.on('finish', () => finish());
    extract.on('error', (err) => finish(new ArchiveReadError(`The archive of ${asked} from ${describeSource(source)} could not be read: ${err.message}`, 'failed')));
    stream.pipe(extract);
  });
  if (opts.signal?.aborted) throw abortError();
  return { facts, unfinished };
}

function describeSource(s: ArchiveSource): string {
  return s.kind === 'image' ? `image ${s.id.replace(/^sha256:/, '').slice(0, 12)}` : `container ${s.name ?? s.id.slice(0, 12)}`;
}

function toReadError(err: unknown, source: ArchiveSource): Error {
  if (err instanceof ArchiveReadError || (err instanceof Error && err.name === 'AbortError')) return err;
  const e = (err ?? {}) as { statusCode?: number; json?: { message?: string } | null; message?: string; code?: string };
  const msg = String(e.json?.message ?? e.message ?? err).trim();
  const what = describeSource(source);
  if (e.statusCode === 404 || (e.statusCode === 409 && /removal|marked for/i.test(msg))) {
    return new ArchiveReadError(source.kind === 'container' ? `The ${what} is gone (removed while it was read).` : `The ${what} is gone.`, 'gone');
  }
  if (e.statusCode === 403 || e.statusCode === 401 || e.code === 'EACCES') return new ArchiveReadError(`Docker refused to read the ${what}: ${msg}`, 'refused');
  if (e.statusCode === 400 && /api version|not supported|unsupported/i.test(msg)) return new ArchiveReadError(`This Docker engine cannot read files of the ${what}: ${msg}`, 'refused');
  if (e.code === 'ECONNRESET' || e.code === 'EPIPE' || /aborted|socket hang up/i.test(msg)) {
    return new ArchiveReadError(`Reading the ${what} was cut off: ${msg}${source.kind === 'container' ? ' (was the container removed?)' : ''}`, 'gone');
  }
  return new ArchiveReadError(`Reading the ${what} failed: ${msg}`, 'failed');
}

function abortError(): Error {
  const err = new Error('The operation was aborted');
  err.name = 'AbortError';
  return err;
}
