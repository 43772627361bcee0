// The build context as a streamed tar: walked file by file and piped into the request, never held
// in memory. The effective ignore file (<Dockerfile>.dockerignore, else <context>/.dockerignore)
// decides what is sent, with Docker's own matcher and walk (core/inputs/dockerignore.ts, as
// BuildKit's sender walks): an ignored directory is skipped whole only when no exception can reach
// below it, and a directory is sent when something in it is. The Dockerfile and the ignore file
// are always sent. A Dockerfile outside the context goes in under a generated name, as the docker
// CLI does it.
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import type { Pack } from 'tar-stream';
import { ContextIgnore } from '../inputs/dockerignore';

export interface BuildContextOptions {
  /** Absolute path of the context directory. */
  contextDir: string;
  /** Absolute path of the Dockerfile. */
  dockerfile: string;
  /** Absolute path of the effective ignore file, or null. */
  ignoreFile: string | null;
  /** Its text (read by the caller), or null. */
  ignoreText: string | null;
  /** The ignore file's name in messages (default: its path relative to the context). */
  ignoreFileLabel?: string;
}

export interface BuildContextStream {
  /** The tar, to be piped into the build request. */
  stream: Readable;
  /** The Dockerfile's path inside the tar: the `dockerfile` build parameter. */
  dockerfileName: string;
  /** Resolves when the whole context has been packed; rejects on a read error. */
  done: Promise<{ files: number; bytes: number }>;
  /** Stops walking and destroys the stream (cancel). */
  destroy(err?: Error): void;
}

/** Context-relative POSIX path of `abs`, or null when it is outside the context. */
function insideContext(contextDir: string, abs: string): string | null {
  const rel = path.relative(contextDir, abs);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return null;
  return rel.split(path.sep).join('/');
}

export async function packBuildContext(opts: BuildContextOptions): Promise<BuildContextStream> {
  // A pattern Docker rejects fails here, before anything is sent (IgnoreFileError names the line).
  const ignoreLabel = opts.ignoreFileLabel ?? (opts.ignoreFile ? (insideContext(opts.contextDir, opts.ignoreFile) ?? path.basename(opts.ignoreFile)) : '.dockerignore');
  const ig = ContextIgnore.fromText(opts.ignoreText, ignoreLabel);
  const tar = await import('tar-stream');
  const pack: Pack = tar.pack();

  const inCtxDockerfile = insideContext(opts.contextDir, opts.dockerfile);
  const dockerfileName = inCtxDockerfile ?? `.dockerfile.${randomBytes(10).toString('hex')}`;
  const inCtxIgnore = opts.ignoreFile ? insideContext(opts.contextDir, opts.ignoreFile) : null;
  const always = new Set([inCtxDockerfile, inCtxIgnore].filter((p): p is string => p !== null));

  let stopped = false;
  let files = 0;
  let bytes = 0;

  const addEntry = (header: Parameters<Pack['entry']>[0], abs?: string) =>
    new Promise<void>((resolve, reject) => {
      // A destroyed pack never calls back: settle on its close instead, so nothing is left pending.
      const onClose = () => reject(new Error('The build context stream was closed.'));
      pack.once('close', onClose);
      const cb = (err?: Error | null) => {
        pack.removeListener('close', onClose);
        if (err) reject(err);
        else resolve();
      };
      if (!abs) {
        pack.entry(header, cb);
        return;
      }
      const sink = pack.entry(header, cb);
      const rs = createReadStream(abs);
      const stop = () => rs.destroy();
      pack.once('close', stop);
      rs.on('close', () => pack.removeListener('close', stop));
      rs.on('error', (err) => {
        sink.destroy();
        pack.removeListener('close', onClose);
        reject(new Error(`Cannot read ${abs} for the build context: ${err.message}`));
      });
      rs.pipe(sink);
    });

  const addPath = async (abs: string, rel: string): Promise<void> => {
    const st = await lstat(abs);
    const mtime = st.mtime;
    const mode = st.mode & 0o7777;
    if (st.isDirectory()) {
      await addEntry({ name: `${rel}/`, type: 'directory', mode, mtime });
    } else if (st.isSymbolicLink()) {
      await addEntry({ name: rel, type: 'symlink', linkname: await readlink(abs), mode, mtime });
    } else if (st.isFile()) {
      files++;
      bytes += st.size;
      await addEntry({ name: rel, type: 'file', size: st.size, mode, mtime }, abs);
    }
    // Sockets, FIFOs and devices are not sent (neither does the docker CLI send their content).
  };

  // Directories the walk entered although they are ignored: sent only once something in them is.
  const pending: Array<{ abs: string; rel: string }> = [];
  const flushPending = async () => {
    for (const d of pending.splice(0)) await addPath(d.abs, d.rel);
  };
  const underAlways = (dirRel: string) => [...always].some((p) => p.startsWith(`${dirRel}/`));

  const walk = async (dirAbs: string, dirRel: string): Promise<void> => {
    const entries = (await readdir(dirAbs, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (stopped) return;
      const rel = dirRel ? `${dirRel}/${e.name}` : e.name;
      const abs = path.join(dirAbs, e.name);
      const ignored = !always.has(rel) && ig.ignored(rel);
      if (e.isDirectory()) {
        if (!ignored) {
          await flushPending();
          await addPath(abs, rel);
          await walk(abs, rel);
        } else if (!ig.canSkipDir(rel) || underAlways(rel)) {
          pending.push({ abs, rel });
          await walk(abs, rel);
          const at = pending.findIndex((d) => d.rel === rel);
          if (at >= 0) pending.splice(at);
        }
      } else if (!ignored) {
        await flushPending();
        await addPath(abs, rel);
      }
    }
  };

  const done = (async () => {
    try {
      await walk(opts.contextDir, '');
      if (!inCtxDockerfile && !stopped) {
        const st = await lstat(opts.dockerfile);
        await addEntry({ name: dockerfileName, type: 'file', size: st.size, mode: 0o644, mtime: st.mtime }, opts.dockerfile);
      }
      if (!stopped) pack.finalize();
      return { files, bytes };
    } catch (err) {
      if (!stopped) pack.destroy(err as Error);
      throw err;
    }
  })();
  done.catch(() => undefined);

  return {
    stream: pack,
    dockerfileName,
    done,
    destroy(err?: Error) {
      stopped = true;
      pack.destroy(err);
    },
  };
}
