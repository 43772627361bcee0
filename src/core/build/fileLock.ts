// Cross-process lock files: created with O_EXCL, holding the owner's pid and host, so the CLI and
// the extension (separate processes on one clone) exclude each other. A lock whose owner died
// (SIGKILL, crash) is recognised as stale and taken over; nothing waits on a dead process.
// The lock's folder must exist (safeFiles' provenanceDir makes it); a lock file is created with
// O_EXCL|O_NOFOLLOW and read without following a link, so a planted link is refused.
import { lstatSync, unlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { abortError } from '../git/exec';
import { createExclusive, readFileNoFollow } from '../safety/safeFiles';
import { processAlive } from '../processes';

export interface LockOwner {
  pid: number;
  host: string;
  /** ISO 8601. */
  since: string;
  /** What the owner is doing, for the "already running" message (e.g. "build from the CLI"). */
  purpose: string;
}

export interface LockHandle {
  readonly file: string;
  release(): void;
}

export interface LockOptions {
  /** A lock older than this is stale even if its owner lives (default: only a dead owner makes it stale). */
  staleMs?: number;
}

/** Takes the lock, or returns the live owner that holds it. Never blocks. */
export function tryLock(file: string, purpose: string, opts: LockOptions = {}): LockHandle | { busy: LockOwner | null } {
  for (let attempt = 0; attempt < 5; attempt++) {
    const owner: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString(), purpose };
    if (!createExclusive(file, JSON.stringify(owner), 0o644)) {
      const seen = readOwner(file);
      if (seen === undefined) continue; // released between open and read: try again
      if (!isStale(file, seen, opts)) return { busy: seen };
      removeIfUnchanged(file, seen);
      continue;
    }
    let released = false;
    return {
      file,
      release() {
        if (released) return;
        released = true;
        // Only remove our own lock: a stale-lock takeover may have replaced it.
        const now = readOwner(file);
        if (now && now.pid === owner.pid && now.host === owner.host && now.since === owner.since) {
          try {
            unlinkSync(file);
          } catch {
            /* already gone */
          }
        }
      },
    };
  }
  return { busy: readOwner(file) ?? null };
}

/** Waits (polling) until the lock is free; for short critical sections such as a ledger append. */
export async function acquireLock(
  file: string,
  purpose: string,
  opts: LockOptions & { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<LockHandle> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  let wait = 5;
  for (;;) {
    if (opts.signal?.aborted) throw abortError();
    const r = tryLock(file, purpose, opts);
    if ('release' in r) return r;
    if (Date.now() > deadline) {
      const who = r.busy ? ` by pid ${r.busy.pid} on ${r.busy.host} (${r.busy.purpose}, since ${r.busy.since})` : '';
      throw new Error(`The lock ${file} is held${who}. If no such process runs, delete the file.`);
    }
    await new Promise((res) => setTimeout(res, wait));
    wait = Math.min(wait * 2, 100);
  }
}

/** The owner recorded in the lock file; null when unreadable/empty (a crash right after create); undefined when gone. */
function readOwner(file: string): LockOwner | null | undefined {
  const text = readFileNoFollow(file);
  if (text === null) return undefined;
  try {
    const o = JSON.parse(text) as LockOwner;
    return typeof o.pid === 'number' && typeof o.host === 'string' ? o : null;
  } catch {
    return null;
  }
}

function isStale(file: string, owner: LockOwner | null, opts: LockOptions): boolean {
  let ageMs: number;
  try {
    ageMs = Date.now() - lstatSync(file).mtimeMs;
  } catch {
    return false;
  }
  // An empty or torn lock file: its owner died between create and write (or is writing right now).
  if (owner === null) return ageMs > 2000;
  if (opts.staleMs !== undefined && ageMs > opts.staleMs) return true;
  if (owner.host !== hostname()) return false; // another machine (shared file system): cannot tell
  return !processAlive(owner.pid);
}

function removeIfUnchanged(file: string, seen: LockOwner | null): void {
  // Re-read just before unlinking so a lock taken over by someone else meanwhile is kept.
  const now = readOwner(file);
  if (now === undefined) return;
  if (JSON.stringify(now) !== JSON.stringify(seen)) return;
  try {
    unlinkSync(file);
  } catch {
    /* someone else removed it */
  }
}
