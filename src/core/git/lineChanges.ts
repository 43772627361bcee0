// Which lines of a work-tree file differ from what is deployed: committed-but-not-deployed
// lines and uncommitted lines, in work-tree line numbers. Two `git diff -U0` runs in parallel,
// no textconv or external diff drivers (the repository must not make us run anything).
import { runGit } from './exec';

export interface LineChanges {
  /** 1-based work-tree lines changed since `deployed` and already committed. */
  committed: number[];
  /** 1-based work-tree lines that differ from HEAD (uncommitted). */
  uncommitted: number[];
  /** Lines deleted at these work-tree positions (a deletion marker sits between lines). */
  deletedAfter: number[];
}

export interface Hunk {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
}

/** Parses the `@@ -a,b +c,d @@` headers of a unified diff. */
export function parseHunks(diff: string): Hunk[] {
  const hunks: Hunk[] = [];
  const re = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/gm;
  for (let m = re.exec(diff); m; m = re.exec(diff)) {
    hunks.push({
      oldStart: Number(m[1]),
      oldLines: m[2] === undefined ? 1 : Number(m[2]),
      newStart: Number(m[3]),
      newLines: m[4] === undefined ? 1 : Number(m[4]),
    });
  }
  return hunks;
}

/** New-side lines covered by hunks, and positions of pure deletions. */
export function hunkLines(hunks: Hunk[]): { lines: Set<number>; deletedAfter: Set<number> } {
  const lines = new Set<number>();
  const deletedAfter = new Set<number>();
  for (const h of hunks) {
    if (h.newLines === 0) deletedAfter.add(h.newStart);
    for (let k = 0; k < h.newLines; k++) lines.add(h.newStart + k);
  }
  return { lines, deletedAfter };
}

const DIFF_ARGS = ['diff', '-U0', '--no-color', '--no-ext-diff', '--no-textconv', '--no-renames', '--ignore-submodules'];

/**
 * Line changes of `file` (repo-relative) against `deployed`. With `includeUncommitted` false
 * (an untrusted workspace) the work tree is not diffed and everything is measured up to HEAD.
 */
export async function fileLineChanges(
  root: string,
  file: string,
  deployed: string,
  opts: { includeUncommitted: boolean; signal?: AbortSignal; knownClean?: { head: string } },
): Promise<LineChanges> {
  const spec = `:(top,literal)${file}`;
  if (!opts.includeUncommitted || opts.knownClean) {
    // One diff of two commits, reading neither the index nor the work tree: the file is known to
    // equal its copy at `head` (the caller knows it from the last status), or the work tree must
    // not be read (everything is measured up to HEAD).
    const to = opts.includeUncommitted && opts.knownClean ? opts.knownClean.head : 'HEAD';
    const { stdout } = await runGit([...DIFF_ARGS, deployed, to, '--', spec], { cwd: root, signal: opts.signal });
    const all = hunkLines(parseHunks(stdout));
    return { committed: [...all.lines].sort((a, b) => a - b), uncommitted: [], deletedAfter: [...all.deletedAfter].sort((a, b) => a - b) };
  }
  const [sinceDeployed, sinceHead] = await Promise.all([
    runGit([...DIFF_ARGS, deployed, '--', spec], { cwd: root, signal: opts.signal }),
    runGit([...DIFF_ARGS, 'HEAD', '--', spec], { cwd: root, signal: opts.signal }),
  ]);
  const all = hunkLines(parseHunks(sinceDeployed.stdout));
  const dirty = hunkLines(parseHunks(sinceHead.stdout));
  const committed = [...all.lines].filter((l) => !dirty.lines.has(l)).sort((a, b) => a - b);
  return {
    committed,
    uncommitted: [...dirty.lines].sort((a, b) => a - b),
    deletedAfter: [...new Set([...all.deletedAfter, ...dirty.deletedAfter])].sort((a, b) => a - b),
  };
}

export interface LineBlame {
  sha: string;
  /** True for lines not committed yet. */
  uncommitted: boolean;
  author: string;
  /** ISO 8601 author time. */
  date: string;
  subject: string;
}

/**
 * Blame for one line, on demand (hover). With `rev` the line is blamed as of that commit: no
 * work-tree read, so no clean filter the repository configures runs (Restricted Mode).
 */
export async function blameLine(root: string, file: string, line: number, signal?: AbortSignal, rev?: string): Promise<LineBlame | null> {
  const args = ['blame', '--porcelain', '--no-textconv', '-L', `${line},${line}`, ...(rev ? [rev] : []), '--', file];
  const { stdout } = await runGit(args, { cwd: root, signal, okCodes: [128] });
  const first = /^([0-9a-f]{40,64}) /.exec(stdout);
  if (!first) return null;
  const field = (k: string) => new RegExp(`^${k} (.*)$`, 'm').exec(stdout)?.[1] ?? '';
  const sha = first[1];
  const uncommitted = /^0+$/.test(sha);
  const t = Number(field('author-time'));
  return {
    sha,
    uncommitted,
    author: field('author'),
    date: Number.isFinite(t) && t > 0 ? new Date(t * 1000).toISOString() : '',
    subject: field('summary'),
  };
}
