// Where HEAD pointed at a given time, from the reflog (`<gitDir>/logs/HEAD`; a linked worktree has
// its own). Used only to *infer* the revision of an image that has no label and no ledger record:
// the answer is always marked inferred, with what could make it wrong, and when the reflog cannot
// tell (absent, expired, HEAD unborn then) the answer is "unknown", never a guess.
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';

export interface ReflogEntry {
  old: string;
  new: string;
  /** Unix time in milliseconds. */
  time: number;
  message: string;
}

/** HEAD moves this close to an image's creation time make the inference doubtful. */
export const MOVED_NEAR_BUILD_MS = 60_000;

const LINE_RE = /^([0-9a-f]{40,64}) ([0-9a-f]{40,64}) .*? (\d+) [+-]\d{4}(?:\t(.*))?$/;

/** Parses reflog text (pure); unreadable lines are skipped. Entries stay in file order (oldest first). */
export function parseReflog(text: string): ReflogEntry[] {
  const out: ReflogEntry[] = [];
  for (const line of text.split('\n')) {
    const m = LINE_RE.exec(line);
    if (m) out.push({ old: m[1], new: m[2], time: Number(m[3]) * 1000, message: m[4] ?? '' });
  }
  return out;
}

/** HEAD's reflog of this work tree; null when it does not exist (core.logAllRefUpdates off, or removed). */
export async function readHeadReflog(gitDir: string): Promise<ReflogEntry[] | null> {
  try {
    return parseReflog(await readFile(path.join(gitDir, 'logs', 'HEAD'), 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export type HeadAtAnswer =
  | { known: true; sha: string; confidence: 'medium' | 'low'; notes: string[] }
  | { known: false; reason: string };

const ZERO = /^0+$/;

/**
 * The commit HEAD pointed to at `timeMs` (an image's creation time). Confidence is never "high":
 * the work tree may have held uncommitted changes, and the build may have come from another
 * checkout. It drops to "low" when HEAD moved within a minute of that time.
 */
export function headAt(entries: ReflogEntry[] | null, timeMs: number): HeadAtAnswer {
  if (entries === null) return { known: false, reason: 'this work tree has no HEAD reflog, so where HEAD pointed then is unknown' };
  if (entries.length === 0) return { known: false, reason: 'the HEAD reflog is empty, so where HEAD pointed then is unknown' };
  let idx = -1;
  for (let i = 0; i < entries.length; i++) if (entries[i].time <= timeMs) idx = i;
  if (idx < 0) {
    return {
      known: false,
      reason: `the HEAD reflog starts at ${new Date(entries[0].time).toISOString()}, after the image was created (expired, or a newer clone), so where HEAD pointed then is unknown`,
    };
  }
  const sha = entries[idx].new;
  if (ZERO.test(sha)) return { known: false, reason: 'HEAD pointed to no commit then' };
  const notes = ['inferred from the reflog: HEAD at the image\'s creation time; the working tree may have had uncommitted changes, and the build may have come from another checkout'];
  // An entry that did not move HEAD (e.g. `reset` to the same commit) changes nothing.
  const near = entries.filter((e) => Math.abs(e.time - timeMs) <= MOVED_NEAR_BUILD_MS && e.old !== e.new);
  let confidence: 'medium' | 'low' = 'medium';
  if (near.length > 0) {
    confidence = 'low';
    const e = near[near.length - 1];
    const secs = Math.round((e.time - timeMs) / 1000);
    notes.push(`HEAD moved within a minute of the build (${secs >= 0 ? `${secs} s after` : `${-secs} s before`}: ${e.message.split(':')[0] || 'moved'}), so the build may have used the neighbouring commit`);
  }
  return { known: true, sha, confidence, notes };
}
