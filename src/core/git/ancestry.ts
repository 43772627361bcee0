// "Is this commit in that revision?" (`git merge-base --is-ancestor`), cached: for full SHAs the
// answer never changes, so a hover or annotation asks git at most once per pair.
import { runGit } from './exec';

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
