// Every file provenance writes goes through here: the ledger, the caches, the locks, temp files
// and the CLI's code cache. A repository chooses what is inside its `.git` (a tarball ships one),
// so nothing there is followed blindly:
// - files are opened with O_NOFOLLOW (a planted symlink is refused, never written through);
// - temp files have random names and O_EXCL (no name can be planted for them), then a rename;
// - `<git dir>/build-provenance` and its folders must be real directories owned by the user
//   (made 0700, one level at a time), never symlinks;
// - the git dir is taken as it really resolves (realpath, after `commondir`/`gitdir`
//   indirections), and it must be a git dir: nothing is written anywhere else, except our own
//   cache folder (~/.cache/build-provenance).
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import * as path from 'node:path';

/** The folder of ours inside a repository's git common dir. */
export const PROVENANCE_DIR = 'build-provenance';

/** What to do about a refused path (the CLI's and the editor's hint). */
export const UNSAFE_PATH_HINT =
  'The repository planted a link or a folder that is not yours inside its .git; remove it (provenance makes its own) if you trust the checkout.';

/** A path a repository planted (a link, a foreign owner, not a folder): refused, with why. */
export class UnsafePathError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = 'UnsafePathError';
  }
}

const { O_RDONLY, O_RDWR, O_WRONLY, O_CREAT, O_EXCL, O_APPEND, O_NOFOLLOW } = constants;

function mine(st: { uid: number }): boolean {
  return typeof process.getuid !== 'function' || st.uid === process.getuid();
}

/** The user's cache directory for provenance (XDG_CACHE_HOME or ~/.cache), or null. */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env): string | null {
  const xdg = env.XDG_CACHE_HOME;
  try {
    return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(homedir(), '.cache'), PROVENANCE_DIR);
  } catch {
    return null;
  }
}

/**
 * The git common dir as it really is: symlinks and `..` resolved, and a git dir (HEAD and
 * objects/ in it). A `commondir` or `gitdir` file that points at anything else is refused.
 */
export function realGitDir(commonDir: string): string {
  let real: string;
  try {
    real = realpathSync(commonDir);
  } catch {
    throw new UnsafePathError(`Refusing to write into ${commonDir}: it does not exist.`, commonDir);
  }
  const isGitDir = (() => {
    try {
      return statSync(real).isDirectory() && statSync(path.join(real, 'HEAD')).isFile() && statSync(path.join(real, 'objects')).isDirectory();
    } catch {
      return false;
    }
  })();
  if (!isGitDir) throw new UnsafePathError(`Refusing to write into ${real}: it is not a git directory (HEAD and objects/ are missing), so a commondir or gitdir file points elsewhere.`, real);
  return real;
}

/** Checks that `dir` is a real directory of ours (lstat: a symlink is refused, not followed). */
export function checkRealDir(dir: string): void {
  const st = lstatSync(dir);
  if (st.isSymbolicLink()) throw new UnsafePathError(`Refusing to use ${dir}: it is a symbolic link, and provenance writes only into real folders inside the git dir.`, dir);
  if (!st.isDirectory()) throw new UnsafePathError(`Refusing to use ${dir}: it is not a folder.`, dir);
  if (!mine(st)) throw new UnsafePathError(`Refusing to use ${dir}: it is owned by another user (uid ${st.uid}).`, dir);
}

/**
 * `<real git dir>/build-provenance[/sub…]`, made (0700, one level at a time) when missing.
 * Throws UnsafePathError when a level is a symlink, not a folder, or not the user's.
 */
export function provenanceDir(commonDir: string, ...sub: string[]): string {
  let dir = realGitDir(commonDir);
  for (const part of [PROVENANCE_DIR, ...sub]) {
    if (!part || part.includes('/') || part.includes('\\') || part === '.' || part === '..') throw new UnsafePathError(`Refusing the folder name ${JSON.stringify(part)}.`, dir);
    dir = path.join(dir, part);
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    checkRealDir(dir);
  }
  return dir;
}

/** provenanceDir for readers: null when it does not exist or is unsafe (nothing is read from a planted link). */
export function existingProvenanceDir(commonDir: string, ...sub: string[]): string | null {
  try {
    let dir = realpathSync(commonDir);
    for (const part of [PROVENANCE_DIR, ...sub]) {
      dir = path.join(dir, part);
      checkRealDir(dir);
    }
    return dir;
  } catch {
    return null;
  }
}

/** A folder of the user's cache (made 0700 when missing): ours, real, and writable by nobody else. */
export function userCacheFolder(env: NodeJS.ProcessEnv = process.env, ...sub: string[]): string | null {
  const base = userCacheDir(env);
  if (!base) return null;
  try {
    mkdirSync(path.dirname(base), { recursive: true, mode: 0o700 });
    let dir = base;
    for (const part of ['', ...sub]) {
      if (part) dir = path.join(dir, part);
      try {
        mkdirSync(dir, { mode: 0o700 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      checkRealDir(dir);
      if ((lstatSync(dir).mode & 0o022) !== 0) return null; // others may write into it
    }
    return dir;
  } catch {
    return null;
  }
}

function refuseLink(file: string, err: unknown): never {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ELOOP' || code === 'EMLINK') throw new UnsafePathError(`Refusing to open ${file}: it is a symbolic link.`, file);
  throw err;
}

/** The file's text, or null when missing. Never through a symlink; only a regular file. */
export function readFileNoFollow(file: string): string | null {
  const fd = openReadNoFollowIfExists(file);
  if (fd === null) return null;
  try {
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** Opens for reading without following a symlink (for streams); a regular file only. ENOENT is thrown as is. */
/** openReadNoFollow, or null when the file does not exist. */
export function openReadNoFollowIfExists(file: string): number | null {
  try {
    return openReadNoFollow(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export function openReadNoFollow(file: string): number {
  let fd: number;
  try {
    fd = openSync(file, O_RDONLY | O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw err;
    refuseLink(file, err);
  }
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw new UnsafePathError(`Refusing to read ${file}: it is not a regular file.`, file);
  }
  return fd;
}

function writeAll(fd: number, data: string | Buffer): void {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

/**
 * Creates `file` with `data` only if it does not exist (O_CREAT|O_EXCL|O_NOFOLLOW: a planted
 * name, link or not, is never written). False when it exists.
 */
export function createExclusive(file: string, data: string | Buffer, mode = 0o600): boolean {
  let fd: number;
  try {
    fd = openSync(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeAll(fd, data);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Writes `file` whole: a temp file with a random name beside it (O_EXCL, O_NOFOLLOW), then a
 * rename over it, so a reader sees the old content or the new, and a symlink at `file` is
 * replaced, never followed.
 */
export function writeFileAtomic(file: string, data: string | Buffer, opts: { mode?: number; fsync?: boolean } = {}): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(8).toString('hex')}.tmp`);
  const fd = openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, opts.mode ?? 0o600);
  try {
    writeAll(fd, data);
    if (opts.fsync) fsyncSync(fd);
    closeSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(tmp);
    throw err;
  }
  try {
    renameSync(tmp, file);
  } catch (err) {
    unlinkSync(tmp);
    throw err;
  }
}

/**
 * Appends `text` to `file` (created 0644 when missing) with O_APPEND|O_NOFOLLOW, then fsync. The
 * file must be a regular file of the user's. With `freshLine`, a file whose last byte is not a
 * newline (a writer died mid-line) gets one first, so only the torn line is lost.
 */
export function appendNoFollow(file: string, text: string, opts: { freshLine?: boolean; mode?: number } = {}): void {
  let fd: number;
  try {
    fd = openSync(file, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW, opts.mode ?? 0o644);
  } catch (err) {
    refuseLink(file, err);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new UnsafePathError(`Refusing to append to ${file}: it is not a regular file.`, file);
    if (!mine(st)) throw new UnsafePathError(`Refusing to append to ${file}: it is owned by another user (uid ${st.uid}).`, file);
    let prefix = '';
    if (opts.freshLine && st.size > 0) {
      const last = Buffer.alloc(1);
      readSync(fd, last, 0, 1, st.size - 1);
      if (last[0] !== 0x0a) prefix = '\n';
    }
    writeAll(fd, prefix + text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A fresh private temp folder (mkdtemp, 0700) for a process's output. */
export function privateTempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}
