// Small JSON caches inside the git common dir (never committed, shared by the CLI and the
// extension). A cache is a hint: unreadable, malformed or unsigned entries read as missing, and a
// git dir we cannot write to only makes things slower. Each file is signed as the entry store's
// are (cacheFiles.ts): a file the repository ships reads as missing. Read and written through
// safety/safeFiles.ts (no symlink followed, random temp names). PROVENANCE_NO_CACHE=1 turns them all off.
import * as path from 'node:path';
import { cacheKey, cachesDisabled, sign, verify } from './cacheFiles';
import type { RepoInfo } from './queries';
import { existingProvenanceDir, provenanceDir, readFileNoFollow, writeFileAtomic } from '../safety/safeFiles';

function readAll(repo: RepoInfo, name: string, key: Buffer): Record<string, unknown> {
  try {
    const dir = existingProvenanceDir(repo.commonDir);
    const text = dir ? readFileNoFollow(path.join(dir, name)) : null;
    const all = text === null ? null : verify(key, name, text);
    return all && typeof all === 'object' && !Array.isArray(all) ? (all as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The entry under `key`, when `valid` accepts it. */
export function readCacheEntry<T>(repo: RepoInfo, name: string, key: string, valid: (v: unknown) => v is T): T | null {
  const secret = cachesDisabled() ? null : cacheKey();
  if (!secret) return null;
  const v = readAll(repo, name, secret)[key];
  return valid(v) ? v : null;
}

/** Stores `value` under `key` (write-and-rename), keeping at most `maxEntries`, oldest dropped first. */
export function writeCacheEntry(repo: RepoInfo, name: string, key: string, value: unknown, maxEntries = 64): void {
  const secret = cachesDisabled() ? null : cacheKey();
  if (!secret) return;
  try {
    const all = readAll(repo, name, secret);
    if (JSON.stringify(all[key]) === JSON.stringify(value)) return;
    delete all[key];
    all[key] = value;
    const keys = Object.keys(all);
    for (const k of keys.slice(0, Math.max(0, keys.length - maxEntries))) delete all[k];
    writeFileAtomic(path.join(provenanceDir(repo.commonDir), name), sign(secret, name, JSON.stringify(all)));
  } catch {
    /* a read-only or refused git dir: no cache, only slower */
  }
}
