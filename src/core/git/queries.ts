// Git queries of the provenance core. Every call goes through git/exec.ts (argument arrays,
// AbortSignal). Nothing here needs blobs except reading the Dockerfile/ignore file at a
// revision, so the range queries work in blobless partial clones without fetching.
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { abortError, GitError, noteGitSpawn, runGit, runGitBulk, spawnGit, streamGit } from './exec';
import { gitPathspecMatcher } from '../inputs/pathGlob';
import type { CommitSummary } from '../types';

export interface RepoInfo {
  /** Absolute path of the work tree root. */
  root: string;
  /** Absolute git dir of this work tree (differs from commonDir in a linked worktree). */
  gitDir: string;
  /** Absolute common git dir (shared by all worktrees). */
  commonDir: string;
  shallow: boolean;
  /** Blobless/treeless partial clone (has a promisor remote). */
  partial: boolean;
  isWorktree: boolean;
}

/** No repository where one was asked for: the message says what is there, the hint what to pass instead. */
export class NotARepoError extends Error {
  constructor(
    message: string,
    readonly hint = 'Run provenance inside a git work tree, or pass --cwd <repo>.',
  ) {
    super(message);
    this.name = 'NotARepoError';
  }
}

const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'out', 'vendor', '.cache']);

/**
 * Finds the repository that contains `startDir`. When `startDir` is not inside a repo, looks
 * for exactly one repo in the folders below it (depth 3), so `provenance` works from a parent
 * folder that holds one checkout.
 */
export async function findRepo(startDir: string, signal?: AbortSignal): Promise<RepoInfo> {
  const dir = path.resolve(startDir);
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new NotARepoError(`${dir} does not exist.`, 'Pass --cwd the folder of a git work tree (or run provenance inside one).');
  }
  // git would fail to start in a file (spawn ENOTDIR).
  if (!st.isDirectory()) {
    throw new NotARepoError(`${dir} is a file, not a folder.`, `Pass --cwd the folder of the repository, e.g. --cwd ${path.dirname(dir)}.`);
  }
  const fast = discoverFromFiles(dir);
  if (fast) return fast;
  const here = await repoAt(dir, signal);
  if (here) return here;
  const found: string[] = [];
  const walk = (d: string, depth: number) => {
    if (depth > 3 || found.length > 5) return;
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    if (depth > 0 && entries.some((e) => e.name === '.git')) {
      found.push(d);
      return;
    }
    for (const e of entries) {
      if (e.isDirectory() && !SKIP_DIRS.has(e.name) && !e.name.startsWith('.')) walk(path.join(d, e.name), depth + 1);
    }
  };
  walk(dir, 0);
  if (found.length === 1) {
    const below = await repoAt(found[0], signal);
    if (below) return below;
  }
  if (found.length > 1) {
    const below = found.map((f) => path.relative(dir, f));
    throw new NotARepoError(
      `${dir} is not in a git repository, and there are several below it (${below.join(', ')}).`,
      `Choose one with --cwd, e.g. --cwd ${path.join(dir, below[0])}.`,
    );
  }
  throw new NotARepoError(`No git repository at or below ${dir}.`);
}

/**
 * What `git rev-parse --show-toplevel --absolute-git-dir --git-common-dir` would say, read from
 * the files (a process start saved on every CLI run). Anything unusual — GIT_DIR and friends, a
 * bare repo, a `.git` file we cannot read — returns null and git itself is asked.
 */
function discoverFromFiles(start: string): RepoInfo | null {
  if (process.env.GIT_DIR || process.env.GIT_WORK_TREE || process.env.GIT_COMMON_DIR || process.env.GIT_CEILING_DIRECTORIES) return null;
  for (let d = start; ; d = path.dirname(d)) {
    const dotGit = path.join(d, '.git');
    let gitDir: string | null = null;
    try {
      const st = statSync(dotGit);
      if (st.isDirectory()) gitDir = dotGit;
      else if (st.isFile()) {
        const m = /^gitdir: (.+)$/m.exec(readFileSync(dotGit, 'utf8'));
        if (!m) return null;
        gitDir = path.resolve(d, m[1].trim());
      }
    } catch {
      gitDir = null;
    }
    if (gitDir) {
      if (!existsSync(path.join(gitDir, 'HEAD'))) return null;
      let commonDir = gitDir;
      try {
        commonDir = path.resolve(gitDir, readFileSync(path.join(gitDir, 'commondir'), 'utf8').trim());
      } catch {
        /* not a linked worktree */
      }
      let root = d;
      try {
        root = realpathSync(d);
      } catch {
        /* keep d */
      }
      return {
        root,
        gitDir,
        commonDir,
        shallow: existsSync(path.join(commonDir, 'shallow')),
        partial: isPartialClone(commonDir),
        isWorktree: path.resolve(gitDir) !== path.resolve(commonDir),
      };
    }
    if (path.dirname(d) === d) return null;
  }
}

async function repoAt(dir: string, signal?: AbortSignal): Promise<RepoInfo | null> {
  let out: string;
  try {
    out = (
      await runGit(
        ['rev-parse', '--show-toplevel', '--absolute-git-dir', '--git-common-dir', '--is-shallow-repository'],
        { cwd: dir, signal },
      )
    ).stdout;
  } catch (err) {
    if (err instanceof GitError) return null;
    throw err;
  }
  const [root, gitDir, common, shallow] = out.split('\n');
  if (!root) return null; // a bare repo or inside .git
  const commonDir = path.resolve(dir, common);
  return {
    root,
    gitDir,
    commonDir,
    shallow: shallow === 'true',
    partial: isPartialClone(commonDir),
    isWorktree: path.resolve(gitDir) !== commonDir,
  };
}

function isPartialClone(commonDir: string): boolean {
  try {
    const cfg = readFileSync(path.join(commonDir, 'config'), 'utf8');
    return /^\s*(partialclone\s*=|promisor\s*=\s*true)/im.test(cfg);
  } catch {
    return false;
  }
}

export interface HeadInfo {
  /** Full SHA, or null in an empty repo (no commits yet). */
  sha: string | null;
  /** Branch name, or null when detached (or unborn in an empty repo: then the unborn branch). */
  branch: string | null;
  detached: boolean;
  empty: boolean;
}

/**
 * HEAD's commit and branch. Given the RepoInfo, it is read from the files (HEAD, loose refs,
 * packed-refs), which saves two process starts on every status; anything unusual (reftable, a
 * ref we cannot parse) asks git.
 */
export async function readHead(repo: RepoInfo | string, signal?: AbortSignal): Promise<HeadInfo> {
  if (typeof repo !== 'string') {
    const fast = headFromFiles(repo);
    if (fast) return fast;
  }
  const root = typeof repo === 'string' ? repo : repo.root;
  const [rev, sym] = await Promise.all([
    runGit(['rev-parse', '--verify', '-q', 'HEAD'], { cwd: root, signal, okCodes: [1] }),
    runGit(['symbolic-ref', '-q', '--short', 'HEAD'], { cwd: root, signal, okCodes: [1] }),
  ]);
  const sha = rev.stdout.trim() || null;
  const branch = sym.stdout.trim() || null;
  return { sha, branch, detached: branch === null, empty: sha === null };
}

const OID = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;
/** Bytes of packed-refs headFromFiles reads itself (about 3,000 refs); beyond, git is asked. */
export const PACKED_REFS_READ_LIMIT = 256 * 1024;

/** HEAD as git would resolve it, from the files; null when only git can tell. */
export function headFromFiles(repo: RepoInfo): HeadInfo | null {
  const read = (file: string): string | null => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return null;
    }
  };
  if (existsSync(path.join(repo.commonDir, 'reftable'))) return null;
  const head = read(path.join(repo.gitDir, 'HEAD'))?.trim();
  if (!head) return null;
  if (OID.test(head)) return { sha: head, branch: null, detached: true, empty: false };
  const m = /^ref: (refs\/heads\/\S+)$/.exec(head);
  if (!m) return null;
  const branch = m[1].slice('refs/heads/'.length);
  let packed: string | null | undefined;
  let ref = m[1];
  for (let depth = 0; depth < 5; depth++) {
    // Per-worktree refs live in the worktree's git dir; branches in the common dir.
    const loose = read(path.join(/^refs\/(?:bisect|worktree|rewritten)\//.test(ref) ? repo.gitDir : repo.commonDir, ref))?.trim();
    if (loose !== undefined) {
      if (OID.test(loose)) return { sha: loose, branch, detached: false, empty: false };
      const sym = /^ref: (refs\/\S+)$/.exec(loose);
      if (!sym) return null;
      ref = sym[1];
      continue;
    }
    if (packed === undefined) {
      // A big packed-refs (a repository with many tags) is git's to search: reading it here
      // would block the extension host.
      const file = path.join(repo.commonDir, 'packed-refs');
      let size = 0;
      try {
        size = statSync(file).size;
      } catch {
        /* none */
      }
      if (size > PACKED_REFS_READ_LIMIT) return null;
      packed = read(file);
    }
    const line = packed?.split('\n').find((l) => l.endsWith(` ${ref}`) && !l.startsWith('#') && !l.startsWith('^'));
    const sha = line?.slice(0, line.indexOf(' '));
    if (sha && OID.test(sha)) return { sha, branch, detached: false, empty: false };
    // No such ref: an unborn branch (an empty repo). Git says so too; let it, to be sure.
    return null;
  }
  return null;
}

export interface WorktreeChange {
  path: string;
  /** Porcelain XY status, e.g. ' M', '??', 'A '. */
  status: string;
}

/**
 * Uncommitted changes (staged, unstaged, untracked) limited to pathspecs, and to `keep` when the
 * pathspecs are only a superset of the inputs.
 */
export async function worktreeChanges(root: string, pathspecs: string[], signal?: AbortSignal, keep?: (path: string) => boolean): Promise<WorktreeChange[]> {
  if (pathspecs.length === 0) return [];
  const { stdout } = await runGit(
    ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--no-renames', '--', ...pathspecs],
    { cwd: root, signal },
  );
  const out: WorktreeChange[] = [];
  for (const entry of stdout.split('\0')) {
    if (entry.length < 4) continue;
    const change = { status: entry.slice(0, 2), path: entry.slice(3) };
    if (!keep || keep(change.path)) out.push(change);
  }
  return out;
}

export type CatFileResult = { oid: string; type: string; content: Buffer } | null;

/**
 * Reads several objects in one `git cat-file --batch` process. Each spec is `rev^{commit}`,
 * `rev:path`, or an oid. Missing objects (unknown revisions, absent paths, blobs a partial
 * clone does not have) give null.
 */
export async function catFileBatch(root: string, specs: string[], signal?: AbortSignal): Promise<CatFileResult[]> {
  const results: CatFileResult[] = [];
  while (results.length < specs.length) {
    const { parsed, complete } = await catFileOnce(root, specs.slice(results.length), signal);
    results.push(...parsed);
    // In a partial clone cat-file dies on the first blob it would have to fetch (fetching is
    // disabled, see gitEnv). That spec is missing; carry on with the rest in a new process.
    if (!complete) results.push(null);
  }
  return results;
}

async function catFileOnce(root: string, specs: string[], signal?: AbortSignal): Promise<{ parsed: CatFileResult[]; complete: boolean }> {
  const chunks: Buffer[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    // cat-file sizes are in bytes, so this collects raw bytes rather than using streamGit.
    const traced = noteGitSpawn(['cat-file', '--batch'], root);
    void spawnGit(['cat-file', '--batch'], root, ['pipe', 'pipe', 'ignore']).then((child) => run(child), reject);
    const run = (child: import('node:child_process').ChildProcess) => {
      const onAbort = () => child.kill('SIGTERM');
      signal?.addEventListener('abort', onAbort, { once: true });
      child.stdout!.on('data', (c: Buffer) => chunks.push(c));
      child.on('error', reject);
      child.on('close', (exitCode) => {
        traced();
        signal?.removeEventListener('abort', onAbort);
        if (signal?.aborted) reject(abortError());
        else resolve(exitCode);
      });
      child.stdin!.on('error', () => undefined);
      // A spec with a newline cannot be expressed in batch mode; it resolves to "missing".
      child.stdin!.end(specs.map((s) => (s.includes('\n') ? 'invalid\u0001spec' : s)).join('\n') + '\n');
    };
  });
  const buf = Buffer.concat(chunks);
  const parsed: CatFileResult[] = [];
  let pos = 0;
  while (parsed.length < specs.length) {
    const nl = buf.indexOf(0x0a, pos);
    if (nl < 0) break;
    const header = buf.subarray(pos, nl).toString('utf8');
    const m = /^([0-9a-f]{40,64}) (\w+) (\d+)$/.exec(header);
    if (!m) {
      parsed.push(null); // "<spec> missing" / "<spec> ambiguous"
      pos = nl + 1;
      continue;
    }
    const size = Number(m[3]);
    if (nl + 1 + size > buf.length) break; // cut off mid-object
    parsed.push({ oid: m[1], type: m[2], content: buf.subarray(nl + 1, nl + 1 + size) });
    pos = nl + 1 + size + 1;
  }
  if (code !== 0 && parsed.length === 0 && specs.length > 0 && code !== 128) {
    throw new GitError(`git cat-file failed with exit code ${code}`, ['cat-file', '--batch'], code, '');
  }
  return { parsed, complete: parsed.length === specs.length };
}

/** Full SHA of a commit-ish, or null when it is not known locally. */
export async function resolveCommits(root: string, revs: string[], signal?: AbortSignal): Promise<(string | null)[]> {
  if (revs.length === 0) return [];
  const { stdout } = await runGit(['cat-file', '--batch-check'], {
    cwd: root,
    signal,
    input: revs.map((r) => (/^[\w./@^~{}-]+$/.test(r) && !r.startsWith('-') ? `${r}^{commit}` : 'invalid\u0001rev')).join('\n') + '\n',
  });
  const lines = stdout.split('\n');
  return revs.map((_, i) => {
    const m = /^([0-9a-f]{40,64}) commit /.exec(lines[i] ?? '');
    return m ? m[1] : null;
  });
}

export interface SideCounts {
  /** Commits reachable from `to` but not from `from` (what `to` has that `from` lacks). */
  ahead: number;
  /** Commits reachable from `from` but not from `to` (non-zero means diverged). */
  behind: number;
}

export async function countSides(root: string, from: string, to: string, signal?: AbortSignal): Promise<SideCounts> {
  const { stdout } = await runGit(['rev-list', '--left-right', '--count', `${from}...${to}`], { cwd: root, signal });
  const [left, right] = stdout.trim().split(/\s+/).map(Number);
  return { behind: left, ahead: right };
}

const FIELD = '\x1f';
const RECORD = '\x1e';
const LOG_FORMAT = `--format=${RECORD}%H${FIELD}%ct${FIELD}%an${FIELD}%s`;

/**
 * Streams a path-limited `git log from..to -- pathspecs`. No rename detection, so no blobs
 * are needed. `withFiles` adds the matching files of each commit (--name-only).
 */
export async function logRange(
  root: string,
  range: { from: string | null; to: string | string[] },
  pathspecs: string[] | null,
  opts: {
    withFiles: boolean;
    maxCount?: number;
    noWalk?: boolean;
    signal?: AbortSignal;
    /**
     * Git writes to a temp file (runGitBulk) rather than a pipe: a long walk then never waits
     * for this process to read (it is busy with Docker and the work tree beside the walk).
     */
    viaFile?: boolean;
    /**
     * The pathspecs are a superset of the inputs: only files this keeps count, and a commit that
     * listed files but none it keeps is dropped (a merge lists none: git's judgement stands).
     */
    keep?: (path: string) => boolean;
  },
  onCommit?: (c: CommitSummary) => void,
): Promise<CommitSummary[]> {
  const keep = opts.keep;
  const args = ['log', '--no-renames', '--no-color', '-z', LOG_FORMAT];
  if (opts.withFiles || keep) args.push('--name-only');
  if (opts.maxCount !== undefined) args.push(`--max-count=${opts.maxCount}`);
  if (opts.noWalk) args.push('--no-walk=unsorted');
  if (Array.isArray(range.to)) args.push(...range.to);
  else args.push(range.from ? `${range.from}..${range.to}` : range.to);
  args.push('--');
  if (pathspecs) args.push(...pathspecs);
  const commits: CommitSummary[] = [];
  let current: CommitSummary | null = null;
  let rest = '';
  const emit = () => {
    let c: CommitSummary | null = current;
    if (c && keep) {
      const files = c.files.filter(keep);
      if (c.files.length > 0 && files.length === 0) c = null;
      else c = { ...c, files: opts.withFiles ? files : [] };
    }
    if (c) {
      commits.push(c);
      onCommit?.(c);
    }
  };
  const handleToken = (tok: string) => {
    if (tok.startsWith(RECORD)) {
      emit();
      const [sha, ct, author, ...subject] = tok.slice(1).split(FIELD);
      current = { sha, subject: subject.join(FIELD), date: new Date(Number(ct) * 1000).toISOString(), author, files: [] };
    } else if (current && tok) {
      const file = tok.startsWith('\n') ? tok.slice(1) : tok;
      if (file) (current as CommitSummary).files.push(file);
    }
  };
  if (opts.viaFile) {
    const { stdout } = await runGitBulk(args, { cwd: root, signal: opts.signal });
    for (const p of stdout.split('\0')) handleToken(p);
  } else {
    await streamGit(args, { cwd: root, signal: opts.signal }, (chunk) => {
      const parts = (rest + chunk).split('\0');
      rest = parts.pop() ?? '';
      for (const p of parts) handleToken(p);
    });
    if (rest) handleToken(rest);
  }
  emit();
  return commits;
}

/** Ranges at least this long are walked in two halves at once when their history is linear. */
export const SPLIT_WALK_MIN_COMMITS = 2000;

export interface WalkResult {
  commits: CommitSummary[];
  total: number;
  /** The commit the range was split at (a hint for the next walk of a similar range), or null. */
  mid: string | null;
  /** How many of the newest commits carry their files (all with `withFiles`). */
  newestWithFiles: number;
}

export interface WalkOptions {
  withFiles: boolean;
  signal?: AbortSignal;
  minSplit?: number;
  /**
   * Where a previous walk of a similar range split it. The halves start at once, beside the
   * listing that checks the hint (linear range, `mid` inside it); a stale hint costs a re-walk.
   */
  midHint?: string;
  /** Called once the path-limited git walk(s) are running. */
  onWalking?: () => void;
  /**
   * With `withFiles` false: keep the files of this many newest commits when the walk lists
   * files anyway (see `newestWithFiles`), so the caller need not ask git for them again.
   */
  filesOfNewest?: number;
  /**
   * The inputs, judged in JS, when the pathspecs are only a superset of them (an ignore pattern
   * git pathspecs cannot express): the walk lists files and keeps those this says are inputs.
   */
  keep?: (path: string) => boolean;
  /**
   * The range is expected to be short and linear (HEAD moved on by a commit or a pull): the
   * single walk starts at once, beside the listing, and is used when the listing agrees (linear,
   * shorter than `minSplit`); otherwise it is stopped and the range is walked as usual.
   */
  eager?: boolean;
}

/**
 * A path-limited walk of from..to, plus the range's total commit count. A long linear range is
 * walked as two halves in parallel (newer half, older half): the tree diffs dominate a
 * path-limited walk, and a second core halves them. Linear history makes this exact: each
 * commit has one parent, so git's order is the parent chain, and from..mid + mid..to partition
 * the range at any ancestor `mid`. With merges (or a short range) it is one walk.
 */
export async function walkRange(
  root: string,
  range: { from: string; to: string },
  pathspecs: string[],
  opts: WalkOptions,
  /** The range's commits with parents, when the caller already started that rev-list. */
  parentsP?: Promise<string[]>,
): Promise<WalkResult> {
  const minSplit = opts.minSplit ?? SPLIT_WALK_MIN_COMMITS;
  // Linear ranges only: there, "touches an input" is a property of each commit's own diff, so
  // excluded files can be dropped afterwards. Across merges git's history simplification
  // depends on the full pathspecs, and git is asked with them.
  const keep = opts.keep;
  const plan = keep ? null : excludePlan(pathspecs);
  const keepFilesOf = opts.withFiles ? Infinity : (opts.filesOfNewest ?? 0);
  const walk = (r: { from: string; to: string }, signal?: AbortSignal, linear = true) =>
    keep
      ? // `keep` is the whole truth: in a linear range the excludes add nothing but git's time.
        logRange(root, r, linear ? pathspecs.filter((s) => !isExcludeSpec(s)) : pathspecs, { withFiles: true, signal: signal ?? opts.signal, viaFile: true, keep }).then(
          (cs) => cs.map((c, i) => (i < keepFilesOf ? c : { ...c, files: [] })),
        )
      : plan && linear
        ? logRange(root, r, plan.positive, { withFiles: true, signal: signal ?? opts.signal, viaFile: true }).then((cs) => dropExcluded(cs, plan.excluded, keepFilesOf))
        : logRange(root, r, pathspecs, { withFiles: opts.withFiles, signal: signal ?? opts.signal, viaFile: true });
  const halves = (mid: string, signal?: AbortSignal) => {
    const p = Promise.all([walk({ from: mid, to: range.to }, signal), walk({ from: range.from, to: mid }, signal)]);
    opts.onWalking?.();
    return p;
  };
  const withFilesCount = (commits: CommitSummary[], linear: boolean) =>
    opts.withFiles ? commits.length : keep || (plan && linear) ? Math.min(opts.filesOfNewest ?? 0, commits.length) : 0;
  const listing = parentsP ?? rangeParents(root, range, opts.signal);
  const shape = (lines: string[]) => ({
    total: lines.length,
    linear: lines.every((l) => l.indexOf(' ') > 0 && l.indexOf(' ') === l.lastIndexOf(' ')),
  });

  if (opts.midHint && /^[0-9a-f]{40,64}$/.test(opts.midHint)) {
    const hint = opts.midHint;
    const done = await speculate(opts.signal, listing, (signal) => halves(hint, signal), async (lines, early) => {
      const { total, linear } = shape(lines);
      // A stale hint (the range moved past it, or merges came in) is not used.
      if (!linear || total < minSplit || !lines.some((l) => l.startsWith(hint + ' '))) return null;
      const [newer, older] = await early;
      // The next hint is this range's middle, so it stays central as HEAD moves on.
      const commits = newer.concat(older);
      return { commits, total, mid: middleOf(lines), newestWithFiles: withFilesCount(commits, true) };
    });
    return done ?? walkRange(root, range, pathspecs, { ...opts, midHint: undefined }, listing);
  }

  if (opts.eager) {
    const started = (signal: AbortSignal) => {
      const p = walk(range, signal, true);
      opts.onWalking?.();
      return p;
    };
    const done = await speculate(opts.signal, listing, started, async (lines, early) => {
      const { total, linear } = shape(lines);
      // Merges came in, or a long pull: walked below as any range.
      if (!linear || total >= minSplit) return null;
      const list = await early;
      return { commits: list, total, mid: null, newestWithFiles: withFilesCount(list, true) };
    });
    return done ?? walkRange(root, range, pathspecs, { ...opts, eager: false }, listing);
  }

  const lines = await listing;
  const { total, linear } = shape(lines);
  if (!linear || total < minSplit) {
    const commits = walk(range, undefined, linear);
    opts.onWalking?.();
    const list = await commits;
    return { commits: list, total, mid: null, newestWithFiles: withFilesCount(list, linear) };
  }
  const mid = middleOf(lines);
  const [newer, older] = await halves(mid);
  const commits = newer.concat(older);
  return { commits, total, mid, newestWithFiles: withFilesCount(commits, true) };
}

/**
 * Work started before the listing that decides whether it is wanted: `start` runs at once under a
 * signal of its own (aborted with the caller's); `use` judges it by the listing's lines and gives
 * the answer, or null when the early work is not wanted, which stops it. A listing that fails
 * stops it too.
 */
async function speculate<T, R>(
  signal: AbortSignal | undefined,
  listing: Promise<string[]>,
  start: (signal: AbortSignal) => Promise<T>,
  use: (lines: string[], early: Promise<T>) => Promise<R | null>,
): Promise<R | null> {
  const ctl = new AbortController();
  const onAbort = () => ctl.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const early = start(ctl.signal);
  early.catch(() => undefined);
  try {
    const done = await use(await listing, early);
    if (done === null) ctl.abort();
    return done;
  } catch (err) {
    ctl.abort();
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Git walks a path-limited range several times slower when the pathspecs carry excludes (the
 * `:(exclude,glob)` specs of a .dockerignore): every entry of every changed tree is matched against them.
 * The plan walks with the positive pathspecs and drops the excluded files in JS with the same
 * semantics. Null when there is nothing to gain or a pathspec is of a form only git may judge.
 */
export function excludePlan(pathspecs: string[]): { positive: string[]; excluded: (path: string) => boolean } | null {
  const positive: string[] = [];
  const excludes: ((path: string) => boolean)[] = [];
  for (const spec of pathspecs) {
    if (!isExcludeSpec(spec)) {
      positive.push(spec);
      continue;
    }
    const m = gitPathspecMatcher(spec);
    if (!m?.exclude) return null;
    excludes.push(m.matches);
  }
  if (excludes.length === 0 || positive.length === 0) return null;
  // The same files come back in commit after commit: judge each path once.
  const seen = new Map<string, boolean>();
  const excluded = (p: string) => {
    let v = seen.get(p);
    if (v === undefined) seen.set(p, (v = excludes.some((x) => x(p))));
    return v;
  };
  return { positive, excluded };
}

/** An exclude pathspec (`:!x`, `:^x`, `:(exclude…)x`). */
function isExcludeSpec(spec: string): boolean {
  return /^:(?:!|\^|\([^)]*\bexclude\b)/.test(spec);
}

/** Commits with their excluded files removed; a commit left with none did not touch an input. */
function dropExcluded(commits: CommitSummary[], excluded: (path: string) => boolean, keepFilesOf: number): CommitSummary[] {
  const out: CommitSummary[] = [];
  for (const c of commits) {
    const files = c.files.filter((f) => !excluded(f));
    if (files.length > 0) out.push({ ...c, files: out.length < keepFilesOf ? files : [] });
  }
  return out;
}

/** rev-list lists newest first: the middle commit starts the older half. */
function middleOf(lines: string[]): string {
  const line = lines[Math.floor(lines.length / 2)];
  return line.slice(0, line.indexOf(' '));
}

/** `git rev-list --parents from..to`: one line per commit, newest first, "sha parent…". No trees read. */
export async function rangeParents(root: string, range: { from: string; to: string }, signal?: AbortSignal): Promise<string[]> {
  const { stdout } = await runGitBulk(['rev-list', '--parents', `${range.from}..${range.to}`], { cwd: root, signal });
  return stdout.split('\n').filter(Boolean);
}

/** The given commits (newest first, as given) with their files matching pathspecs (and `keep`). */
export async function commitsWithFiles(root: string, shas: string[], pathspecs: string[], signal?: AbortSignal, keep?: (path: string) => boolean): Promise<CommitSummary[]> {
  if (shas.length === 0) return [];
  return logRange(root, { from: null, to: shas }, pathspecs, { withFiles: true, noWalk: true, signal, keep });
}

/** Number of commits in from..to (no path limit). */
export async function countRange(root: string, from: string | null, to: string, signal?: AbortSignal): Promise<number> {
  const { stdout } = await runGit(['rev-list', '--count', from ? `${from}..${to}` : to], { cwd: root, signal });
  return Number(stdout.trim());
}

/** Reads a work-tree file, or null when absent. */
export function readWorktreeFile(root: string, rel: string): string | null {
  const abs = path.join(root, rel);
  try {
    if (!statSync(abs).isFile()) return null;
    return readFileSync(abs, 'utf8');
  } catch {
    return null;
  }
}

/** Origin's fetch URL (for hints). */
export async function remoteNames(root: string, signal?: AbortSignal): Promise<string[]> {
  const { stdout } = await runGit(['remote'], { cwd: root, signal });
  return stdout.split('\n').filter(Boolean);
}
