// One file per entry under `<git common dir>/build-provenance/<folder>/`, shared by the CLI and
// the extension (and by worktrees). Each entry is written whole to a fresh temp file and renamed
// into place, so a reader sees the old entry, the new one, or none: never a torn one. Each
// carries an HMAC under a key kept in the user's own cache directory, so an entry that was not
// written by this user's provenance (a repository that ships its .git, a copy from another
// machine, a flipped byte) reads as missing. The folder is bounded: the oldest entries go first.
// A cache is only ever a hint for speed: anything unexpected reads as a miss and costs a walk.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import * as path from 'node:path';
import type { RepoInfo } from './queries';
import { createExclusive, existingProvenanceDir, provenanceDir, readFileNoFollow, userCacheFolder, writeFileAtomic } from '../safety/safeFiles';

/** `PROVENANCE_NO_CACHE=1`: nothing is read from or written to the caches (a cold run, for debugging). */
export function cachesDisabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.PROVENANCE_NO_CACHE;
  return v !== undefined && v !== '' && v !== '0';
}

const MAGIC = 'bp-cache-v1';
const NAME = /^[0-9a-z][0-9a-z._-]{0,120}$/;

const keys = new Map<string, Buffer | null>();

/**
 * The secret the entries are signed with: 32 random bytes in `<user cache>/cache-key` (0600, in
 * a 0700 folder), made on first use. Null when it cannot be had (no home, read-only): then
 * nothing is cached on disk.
 */
export function cacheKey(env: NodeJS.ProcessEnv = process.env): Buffer | null {
  const memoKey = `${env.XDG_CACHE_HOME ?? ''}\0${env.HOME ?? ''}`;
  if (keys.has(memoKey)) return keys.get(memoKey)!;
  let key: Buffer | null = null;
  try {
    const dir = userCacheFolder(env);
    if (!dir) throw new Error('no private cache folder');
    const file = path.join(dir, 'cache-key');
    key = readKey(file);
    if (!key) {
      createExclusive(file, randomBytes(32).toString('hex'), 0o600); // false: another process made it first
      key = readKey(file);
    }
  } catch {
    key = null;
  }
  keys.set(memoKey, key);
  return key;
}

function readKey(file: string): Buffer | null {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const st = fstatSync(fd);
    // Ours alone: a key others can read or write is no key.
    if (!st.isFile() || (typeof process.getuid === 'function' && st.uid !== process.getuid()) || (st.mode & 0o077) !== 0) throw new Error('unsafe cache key');
    const text = readFileSync(fd, 'utf8').trim();
    if (!/^[0-9a-f]{64}$/.test(text)) throw new Error('malformed cache key');
    return Buffer.from(text, 'hex');
  } finally {
    closeSync(fd);
  }
}

export interface StoreLimits {
  maxEntries: number;
  maxBytes: number;
}

/** The entries of one kind of cache of one repository. */
export class EntryStore {
  constructor(
    private readonly repo: RepoInfo,
    private readonly folder: string,
    private readonly limits: StoreLimits,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** False under PROVENANCE_NO_CACHE, or without a key: every read misses, every write is dropped. */
  get enabled(): boolean {
    return !cachesDisabled(this.env) && cacheKey(this.env) !== null;
  }

  /** Entry names (unordered); none when the folder is missing or not a real directory. */
  names(): string[] {
    const dir = this.enabled ? this.realDir() : null;
    if (!dir) return [];
    try {
      return readdirSync(dir).filter((n) => n.endsWith('.json') && NAME.test(n)).map((n) => n.slice(0, -'.json'.length));
    } catch {
      return [];
    }
  }

  /** The entry's value, or null when missing, torn, tampered with, not ours, or unreadable. */
  read(name: string): unknown {
    const key = this.enabled ? cacheKey(this.env) : null;
    const dir = key && NAME.test(name) ? this.realDir() : null;
    if (!key || !dir) return null;
    let text: string | null;
    try {
      text = readFileNoFollow(path.join(dir, `${name}.json`));
    } catch {
      return null;
    }
    return text === null ? null : verify(key, name, text);
  }

  /** Stores `value` under `name` atomically, then drops the oldest entries beyond the limits. */
  write(name: string, value: unknown): void {
    const key = this.enabled ? cacheKey(this.env) : null;
    if (!key || !NAME.test(name)) return;
    try {
      const dir = provenanceDir(this.repo.commonDir, this.folder);
      writeFileAtomic(path.join(dir, `${name}.json`), sign(key, name, JSON.stringify(value)));
      this.prune(dir, name);
    } catch {
      /* a read-only or odd git dir: no cache, only slower */
    }
  }

  /** Keeps the newest entries within the limits (by modification time); `keep` always stays. */
  private prune(dir: string, keep: string): void {
    let entries: { name: string; mtime: number; size: number }[] = [];
    for (const n of readdirSync(dir)) {
      const full = path.join(dir, n);
      try {
        const st = lstatSync(full);
        if (n.endsWith('.tmp')) {
          // A writer that died between create and rename: gone after a minute.
          if (Date.now() - st.mtimeMs > 60_000) unlinkSync(full);
          continue;
        }
        if (st.isFile() && n.endsWith('.json')) entries.push({ name: n, mtime: st.mtimeMs, size: st.size });
      } catch {
        /* removed meanwhile by another process */
      }
    }
    entries = entries.sort((a, b) => b.mtime - a.mtime);
    let bytes = 0;
    entries.forEach((e, i) => {
      bytes += e.size;
      if (e.name === `${keep}.json`) return;
      if (i >= this.limits.maxEntries || bytes > this.limits.maxBytes) {
        try {
          unlinkSync(path.join(dir, e.name));
        } catch {
          /* already gone */
        }
      }
    });
  }

  /** The folder, when it exists as a real directory of ours (not a symlink planted by the repository). */
  private realDir(): string | null {
    return existingProvenanceDir(this.repo.commonDir, this.folder);
  }
}

/** `<magic> <hmac>\n<json>`; the HMAC covers the name too, so an entry cannot be renamed into another key. */
export function sign(key: Buffer, name: string, json: string): string {
  return `${MAGIC} ${mac(key, name, json)}\n${json}`;
}

export function verify(key: Buffer, name: string, text: string): unknown {
  const nl = text.indexOf('\n');
  if (nl < 0) return null;
  const head = text.slice(0, nl).split(' ');
  if (head.length !== 2 || head[0] !== MAGIC || !/^[0-9a-f]{64}$/.test(head[1])) return null;
  const json = text.slice(nl + 1);
  const want = Buffer.from(mac(key, name, json), 'hex');
  if (!timingSafeEqual(want, Buffer.from(head[1], 'hex'))) return null;
  try {
    return JSON.parse(json);
  } catch {
    return null;
  }
}

function mac(key: Buffer, name: string, json: string): string {
  return createHmac('sha256', key).update(name).update('\0').update(json).digest('hex');
}
