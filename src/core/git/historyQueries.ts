// Git queries the editor asks on demand (expanding a tree node, after a commit, listing input
// files for diagnostics). Same process layer as git/queries.ts: argument arrays and an AbortSignal.
import { runGit } from './exec';
import { logRange } from './queries';
import type { CommitSummary } from '../types';

/** Parents of a commit (empty for a root commit). */
export async function commitParents(root: string, sha: string, signal?: AbortSignal): Promise<string[]> {
  const { stdout } = await runGit(['rev-list', '--parents', '-n', '1', sha, '--'], { cwd: root, signal });
  return stdout.trim().split(/\s+/).slice(1);
}

/**
 * The newest commits of from..to that touch none of the pathspecs (the ones that do not matter
 * to the image), without files. Two path-limited walks: the relevant SHAs, then the range.
 */
export async function otherCommitsInRange(
  root: string,
  range: { from: string; to: string },
  pathspecs: string[],
  opts: { limit: number; signal?: AbortSignal; keep?: (path: string) => boolean },
): Promise<{ commits: CommitSummary[]; truncated: boolean }> {
  const relevant = pathspecs.length ? await logRange(root, range, pathspecs, { withFiles: false, signal: opts.signal, keep: opts.keep }) : [];
  const skip = new Set(relevant.map((c) => c.sha));
  const all = await logRange(root, range, null, { withFiles: false, maxCount: opts.limit + skip.size + 1, signal: opts.signal });
  const others = all.filter((c) => !skip.has(c.sha));
  return { commits: others.slice(0, opts.limit), truncated: others.length > opts.limit };
}

/** Tracked and untracked (not ignored) files selected by the pathspecs (and `keep`), repo-relative. */
export async function filesMatching(root: string, pathspecs: string[], opts: { limit: number; signal?: AbortSignal; keep?: (path: string) => boolean }): Promise<string[]> {
  if (pathspecs.length === 0) return [];
  const { stdout } = await runGit(['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--deduplicate', '--', ...pathspecs], {
    cwd: root,
    signal: opts.signal,
  });
  const out: string[] = [];
  for (const f of stdout.split('\0')) {
    if (!f || (opts.keep && !opts.keep(f))) continue;
    if (out.length >= opts.limit) break;
    out.push(f);
  }
  return out;
}
