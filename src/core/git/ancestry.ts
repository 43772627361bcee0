// "Is this commit in that revision?" (`git merge-base --is-ancestor`), cached: for full SHAs the
// answer never changes, so a hover or annotation asks git at most once per pair. And the proofs a
// cached range result needs before it is extended: a chain between two commits, range counts,
// and what else decides a walk's answer (shallow boundary, grafts, replace refs).
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { GitError, runGit } from './exec';
import { countRange, rangeParents, type RepoInfo } from './queries';

export async function isAncestor(root: string, commit: string, rev: string, signal?: AbortSignal): Promise<boolean> {
  const r = await runGit(['merge-base', '--is-ancestor', commit, rev], { cwd: root, signal, okCodes: [1] });
  return r.exitCode === 0;
}

const MAX_ENTRIES = 2000;

export class AncestryCache {
  private readonly answers = new Map<string, Promise<boolean>>();

  /** Callers pass full SHAs; anything else (branches, short SHAs) could move and is not cached. */
  isAncestor(root: string, commit: string, rev: string, signal?: AbortSignal): Promise<boolean> {
    if (commit === rev) return Promise.resolve(true);
    const cacheable = /^[0-9a-f]{40,64}$/.test(commit) && /^[0-9a-f]{40,64}$/.test(rev);
    if (!cacheable) return isAncestor(root, commit, rev, signal);
    const key = `${root}\0${commit}\0${rev}`;
    const hit = this.answers.get(key);
    if (hit) return hit;
    if (this.answers.size >= MAX_ENTRIES) this.answers.clear();
    // Not tied to the caller's signal: one cancelled hover must not poison the cache.
    const p = isAncestor(root, commit, rev);
    p.catch(() => this.answers.delete(key));
    this.answers.set(key, p);
    return p;
  }
}

/**
 * `base..tip` as a proven chain: its `rev-list --parents` lines (newest first), when they are one
 * line of single-parent commits from `tip` down to one whose parent is `base` (so `base` is an
 * ancestor of `tip` and nothing was merged in between). Null otherwise: tip is base or behind it,
 * a merge, a rewrite, a commit this clone lacks.
 */
export async function chainAbove(root: string, base: string, tip: string, signal?: AbortSignal): Promise<string[] | null> {
  let lines: string[];
  try {
    lines = await rangeParents(root, { from: base, to: tip }, signal);
  } catch (err) {
    if (err instanceof GitError) return null; // an object this clone lacks
    throw err;
  }
  return chainOf(lines, base, tip) ? lines : null;
}

/** The shas of `rev-list --parents base..tip` lines when they form the chain described above. */
export function chainOf(lines: string[], base: string, tip: string): string[] | null {
  if (lines.length === 0) return null;
  const shas: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const parts = lines[i].split(' ');
    if (parts.length !== 2) return null;
    if (i === 0 && parts[0] !== tip) return null;
    shas.push(parts[0]);
    const expectedParent = i + 1 < lines.length ? lines[i + 1].slice(0, lines[i + 1].indexOf(' ')) : base;
    if (parts[1] !== expectedParent) return null;
  }
  return shas;
}

/** `git rev-list --count from..to`, or null when git cannot say (an object this clone lacks). */
export async function countBetween(root: string, from: string, to: string, signal?: AbortSignal): Promise<number | null> {
  try {
    const n = await countRange(root, from, to, signal);
    return Number.isInteger(n) ? n : null;
  } catch (err) {
    if (err instanceof GitError) return null;
    throw err;
  }
}

/**
 * What, besides the commits themselves, decides what `git log A..B` lists for full SHAs: a
 * shallow clone's boundary, grafts and replace refs (and the variables that move or disable
 * them). A result cached under one fingerprint is never used under another, so a cache copied
 * from a clone with other boundaries costs a walk, not a wrong answer.
 */
export async function historyFingerprint(repo: RepoInfo): Promise<string> {
  const h = createHash('sha1');
  for (const v of ['GIT_SHALLOW_FILE', 'GIT_GRAFT_FILE', 'GIT_NO_REPLACE_OBJECTS', 'GIT_REPLACE_REF_BASE', 'GIT_OBJECT_DIRECTORY', 'GIT_ALTERNATE_OBJECT_DIRECTORIES']) {
    h.update(`${v}=${process.env[v] ?? ''}\0`);
  }
  const read = async (rel: string) => {
    try {
      return await readFile(path.join(repo.commonDir, rel));
    } catch {
      return null;
    }
  };
  for (const rel of ['shallow', path.join('info', 'grafts')]) {
    const b = await read(rel);
    h.update(`${rel}:${b ? createHash('sha1').update(b).digest('hex') : '-'}\0`);
  }
  const replace: string[] = [];
  const walk = async (dir: string, prefix: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return;
    }
    for (const n of names.sort()) {
      const full = path.join(dir, n);
      const content = await readFile(full, 'utf8').catch(() => null);
      if (content === null) await walk(full, `${prefix}${n}/`);
      else replace.push(`${prefix}${n} ${content.trim()}`);
    }
  };
  await walk(path.join(repo.commonDir, 'refs', 'replace'), '');
  const packed = await read('packed-refs');
  if (packed && packed.includes('refs/replace/')) {
    for (const line of packed.toString('utf8').split('\n')) if (line.includes(' refs/replace/')) replace.push(line);
  }
  h.update(replace.join('\n'));
  return h.digest('hex');
}
