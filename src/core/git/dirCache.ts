// Small JSON caches inside the git common dir (never committed, shared by the CLI and the
// extension). A cache is a hint: unreadable or malformed entries read as missing, and a git dir
// we cannot write to only makes things slower. PROVENANCE_NO_CACHE=1 turns them all off.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { cachesDisabled } from './cacheFiles';
import type { RepoInfo } from './queries';

function cacheFile(repo: RepoInfo, name: string): string {
  return path.join(repo.commonDir, 'build-provenance', name);
}

function readAll(file: string): Record<string, unknown> {
  try {
    const all: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return all && typeof all === 'object' && !Array.isArray(all) ? (all as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The entry under `key`, when `valid` accepts it. */
export function readCacheEntry<T>(repo: RepoInfo, name: string, key: string, valid: (v: unknown) => v is T): T | null {
  if (cachesDisabled()) return null;
  const v = readAll(cacheFile(repo, name))[key];
  return valid(v) ? v : null;
}

/** Stores `value` under `key` (write-and-rename), keeping at most `maxEntries`, oldest dropped first. */
export function writeCacheEntry(repo: RepoInfo, name: string, key: string, value: unknown, maxEntries = 64): void {
  if (cachesDisabled()) return;
  const file = cacheFile(repo, name);
  try {
    const all = readAll(file);
    if (JSON.stringify(all[key]) === JSON.stringify(value)) return;
    delete all[key];
    all[key] = value;
    const keys = Object.keys(all);
    for (const k of keys.slice(0, Math.max(0, keys.length - maxEntries))) delete all[k];
    mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(all));
    renameSync(tmp, file);
  } catch {
    /* a read-only git dir: no cache, only slower */
  }
}
