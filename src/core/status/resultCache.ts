// Results of range walks, kept so that no history is walked twice. Commits are immutable, so the
// answer for (deployed revision, HEAD, input set) never changes, and after a commit only the new
// commits are new:
// - an exact hit answers at once;
// - HEAD moved forward along a chain of single-parent commits from a cached HEAD (a commit, a
//   fast-forward pull): only oldHEAD..HEAD is walked, and put in front of the cached answer;
// - a new deployed revision further along a cached linear range: its answer is the cached one
//   cut at that revision (two `rev-list --count` prove where it lies);
// - anything else (a rebase, a reset back, another branch, merges in between, another input
//   set) is walked cold.
// An entry proves its own validity: its key holds every id that decides the answer (both ends'
// full SHAs, the pathspecs, the history's shallow/graft/replace state), its extension is checked
// by ancestry first, and on disk it is signed (git/cacheFiles.ts). So a wrong, stale or corrupt
// entry can cost a walk, never a wrong answer.
import { createHash } from 'node:crypto';
import type { TargetConfig } from '../config';
import { chainAbove, countBetween, historyFingerprint } from '../git/ancestry';
import { cachesDisabled, EntryStore } from '../git/cacheFiles';
import { walkRange, type CatFileResult, type RepoInfo, type WalkOptions, type WorktreeChange } from '../git/queries';
import type { CommitSummary } from '../types';
import { ANALYSIS_SALT } from './targetInputs';

/** Bumped whenever an entry's shape or meaning changes. */
const RESULT_VERSION = 1;
const LIMITS = { maxEntries: 48, maxBytes: 24 * 1024 * 1024 };

/**
 * How answers were had since the process started (tests, and PROVENANCE_TRACE): exact hits,
 * extensions at the HEAD end and at the deployed end, and cold walks; the same for diffs.
 */
export const resultCacheCounters = { exact: 0, head: 0, from: 0, cold: 0, diffExact: 0, diffHead: 0, diffCold: 0 };

/** What a status reports about one deployed revision against HEAD. */
export interface RangeFacts {
  /** Commits in from..to. */
  ahead: number;
  /** Commits in to..from (diverged history). */
  behind: number;
  relevantCount: number;
  /** The newest relevant commits (at most the status limit), with their files. */
  relevant: CommitSummary[];
  oldestRelevantDate: string | null;
}

/**
 * For a range that is one chain of single-parent commits: each relevant commit's distance from
 * the newer end (0 = that end) and its committer time in seconds, newest first. Enough to cut the
 * answer at any commit of the chain.
 */
export interface ChainIndex {
  positions: number[];
  times: number[];
}

interface StatusEntry {
  kind: 'status';
  v: number;
  from: string;
  to: string;
  /** The target's settings that decide the pathspecs, with both ends (answers without cat-file). */
  fast: string;
  /** The pathspecs (and whatever else narrows the walk). */
  walk: string;
  history: string;
  facts: RangeFacts;
  chain: ChainIndex | null;
}

interface DiffEntry {
  kind: 'diff';
  v: number;
  from: string;
  to: string;
  walk: string;
  history: string;
  total: number;
  relevant: CommitSummary[];
}

type Entry = StatusEntry | DiffEntry;

const FULL_SHA = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;
const sha1 = (v: unknown) => createHash('sha1').update(JSON.stringify(v)).digest('hex');

/** The key of a walk: its pathspecs, and the input-set key when a JS filter narrows them further. */
export function walkKeyOf(pathspecs: string[], filterKey: string | null = null): string {
  return sha1(['walk', RESULT_VERSION, ANALYSIS_SALT, pathspecs, filterKey]);
}

/**
 * In memory, across refreshes (the extension keeps one): entries by name, so a refresh whose ids
 * did not change reads no file and starts no git process for its walks.
 */
export class ResultMemo {
  private readonly entries = new Map<string, Entry>();
  private readonly histories = new Map<string, { at: number; value: Promise<string> }>();
  private readonly batches = new Map<string, Promise<CatFileResult[]>>();
  private readonly worktrees = new Map<string, Promise<WorktreeChange[]>>();

  /** cat-file results of specs at full SHAs (immutable); a failed one is asked again next time. */
  batch(key: string, make: () => Promise<CatFileResult[]>): Promise<CatFileResult[]> {
    return remembered(this.batches, key, make, 32);
  }

  /** The uncommitted changes for a key that holds the caller's work-tree epoch. */
  worktree(key: string, make: () => Promise<WorktreeChange[]>): Promise<WorktreeChange[]> {
    return remembered(this.worktrees, key, make, 8);
  }

  get(name: string): Entry | undefined {
    const e = this.entries.get(name);
    if (e) {
      this.entries.delete(name);
      this.entries.set(name, e);
    }
    return e;
  }

  /** The names held in memory. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  set(name: string, e: Entry): void {
    this.entries.delete(name);
    this.entries.set(name, e);
    while (this.entries.size > 64) this.entries.delete(this.entries.keys().next().value!);
  }

  /** The history fingerprint of a repository, read again at most once a second. */
  history(repo: RepoInfo): Promise<string> {
    const h = this.histories.get(repo.commonDir);
    if (h && Date.now() - h.at < 1000) return h.value;
    const value = historyFingerprint(repo);
    this.histories.set(repo.commonDir, { at: Date.now(), value });
    return value;
  }
}

function remembered<T>(map: Map<string, Promise<T>>, key: string, make: () => Promise<T>, max: number): Promise<T> {
  let p = map.get(key);
  if (!p) {
    p = make();
    p.catch(() => {
      if (map.get(key) === p) map.delete(key);
    });
    map.set(key, p);
    while (map.size > max) map.delete(map.keys().next().value!);
  }
  return p;
}

export class ResultCache {
  private readonly store: EntryStore;
  private historyP: Promise<string> | undefined;
  private names: string[] | undefined;

  private readonly memo: ResultMemo | undefined;

  constructor(
    private readonly repo: RepoInfo,
    memo?: ResultMemo,
  ) {
    this.store = new EntryStore(repo, 'results', LIMITS);
    // PROVENANCE_NO_CACHE: the memory is bypassed too.
    this.memo = cachesDisabled() ? undefined : memo;
  }

  /** Shallow boundary, grafts, replace refs: part of every key. */
  history(): Promise<string> {
    if (!this.historyP) {
      this.historyP = this.memo ? this.memo.history(this.repo) : historyFingerprint(this.repo);
      this.historyP.then((h) => (this.historyNow = h)).catch(() => undefined);
    }
    return this.historyP;
  }

  private historyNow: string | undefined;

  // ---- status ----------------------------------------------------------------------------

  /** The cached facts of exactly from..to for this target and Dockerfile, without asking git anything. */
  async exactStatus(target: TargetConfig, dockerfile: string, from: string, to: string): Promise<RangeFacts | null> {
    await this.history();
    return this.exactStatusNow(target, dockerfile, from, to) ?? null;
  }

  /**
   * exactStatus without waiting, once history() has been read (undefined before): a caller that
   * must start a cold walk at once when there is no answer loses no time to other work.
   */
  exactStatusNow(target: TargetConfig, dockerfile: string, from: string, to: string): RangeFacts | null | undefined {
    if (!FULL_SHA.test(from) || !FULL_SHA.test(to)) return null;
    if (this.historyNow === undefined) return undefined;
    const fast = fastKeyOf(target, dockerfile, from, to, this.historyNow);
    const e = this.load(statusName(from, to, fast));
    if (e?.kind !== 'status' || e.from !== from || e.to !== to || e.fast !== fast) return null;
    resultCacheCounters.exact++;
    return copyFacts(e.facts);
  }

  /** Whether an entry starts at `from` or ends at `to` (so an extension may save the cold walk). */
  hasCandidates(from: string, to: string): boolean {
    const a = `s-${from.slice(0, 12)}-`;
    const b = `-${to.slice(0, 12)}-`;
    return this.list().some((n) => n.startsWith(a) || (n.startsWith('s-') && n.slice(14, 28) === b));
  }

  /**
   * from..to by extending a cached range: HEAD moved forward from a cached HEAD, or the deployed
   * revision moved forward inside a cached linear range. Null when no entry can be proven to apply.
   */
  async extendStatus(
    from: string,
    to: string,
    walk: string,
    pathspecs: string[],
    limit: number,
    opts: { signal?: AbortSignal; walk?: Partial<WalkOptions>; onWalking?: () => void } = {},
  ): Promise<{ facts: RangeFacts; chain: ChainIndex | null } | null> {
    const history = await this.history();
    // The longest cached ranges first: from the newest cached HEAD, the fewest commits to walk.
    const entries = this.list()
      .filter((n) => n.startsWith('s-'))
      .map((n) => this.load(n))
      .filter((e): e is StatusEntry => e?.kind === 'status' && e.walk === walk && e.history === history && !(e.from === from && e.to === to))
      .sort((a, b) => b.facts.ahead - a.facts.ahead);
    // HEAD moved on: walk oldHEAD..HEAD, put it in front.
    for (const e of entries) {
      if (e.from !== from || (e.facts.ahead === 0 && e.facts.behind > 0)) continue;
      const above = await this.walkAbove(e.to, to, pathspecs, opts);
      if (!above) continue;
      const { lines, delta } = above;
      const shas = lines.map((l) => l.slice(0, l.indexOf(' ')));
      const at = new Map(shas.map((s, i) => [s, i]));
      const n = shas.length;
      const facts: RangeFacts = {
        ahead: e.facts.ahead + n,
        behind: e.facts.behind,
        relevantCount: e.facts.relevantCount + delta.commits.length,
        relevant: [...delta.commits, ...e.facts.relevant].slice(0, limit).map(copyCommit),
        oldestRelevantDate: e.facts.oldestRelevantDate ?? delta.commits[delta.commits.length - 1]?.date ?? null,
      };
      const chain = e.chain && {
        positions: [...delta.commits.map((c) => at.get(c.sha)!), ...e.chain.positions.map((p) => p + n)],
        times: [...delta.commits.map((c) => Date.parse(c.date) / 1000), ...e.chain.times],
      };
      resultCacheCounters.head++;
      return { facts, chain };
    }
    // The deployed revision moved on inside a cached chain: cut the answer there.
    for (const e of entries) {
      if (e.to !== to || !e.chain || e.facts.behind !== 0) continue;
      const countsP = Promise.all([countBetween(this.repo.root, from, to, opts.signal), countBetween(this.repo.root, e.from, from, opts.signal)]);
      opts.onWalking?.();
      const [n, m] = await countsP;
      // |from..to| + |e.from..from| = |e.from..to| exactly when `from` lies on the chain (or
      // below its start, where it changes nothing): see the README's "Result cache".
      if (n === null || m === null || n + m !== e.facts.ahead) continue;
      let k = 0;
      while (k < e.chain.positions.length && e.chain.positions[k] < n) k++;
      const facts: RangeFacts = {
        ahead: n,
        behind: 0,
        relevantCount: k,
        relevant: e.facts.relevant.slice(0, Math.min(k, limit)).map(copyCommit),
        oldestRelevantDate: k > 0 ? new Date(e.chain.times[k - 1] * 1000).toISOString() : null,
      };
      resultCacheCounters.from++;
      return { facts, chain: { positions: e.chain.positions.slice(0, k), times: e.chain.times.slice(0, k) } };
    }
    return null;
  }

  async putStatus(target: TargetConfig, dockerfile: string, from: string, to: string, walk: string, facts: RangeFacts, chain: ChainIndex | null): Promise<void> {
    if (!FULL_SHA.test(from) || !FULL_SHA.test(to)) return;
    const history = await this.history();
    const fast = fastKeyOf(target, dockerfile, from, to, history);
    this.save(statusName(from, to, fast), { kind: 'status', v: RESULT_VERSION, from, to, fast, walk, history, facts: copyFacts(facts), chain });
  }

  // ---- diff ------------------------------------------------------------------------------

  /** The cached relevant commits (all, with files) and total of from..to for these pathspecs. */
  async exactDiff(from: string, to: string, walk: string): Promise<{ total: number; relevant: CommitSummary[] } | null> {
    if (!FULL_SHA.test(from) || !FULL_SHA.test(to)) return null;
    const history = await this.history();
    const e = this.load(diffName(from, to, walk));
    if (e?.kind !== 'diff' || e.from !== from || e.to !== to || e.walk !== walk || e.history !== history) return null;
    resultCacheCounters.diffExact++;
    return { total: e.total, relevant: e.relevant.map(copyCommit) };
  }

  /** from..to from a cached from..oldTo whose oldTo the new end descends from by a chain. */
  async extendDiff(from: string, to: string, walk: string, pathspecs: string[], opts: { signal?: AbortSignal; walk?: Partial<WalkOptions> } = {}): Promise<{ total: number; relevant: CommitSummary[] } | null> {
    if (!FULL_SHA.test(from) || !FULL_SHA.test(to)) return null;
    const history = await this.history();
    const prefix = `d-${from.slice(0, 12)}-`;
    const entries = this.list()
      .filter((n) => n.startsWith(prefix))
      .map((n) => this.load(n))
      // A cached range with no commits may sit below `from` (to ⊑ from): no proof of disjointness.
      .filter((e): e is DiffEntry => e?.kind === 'diff' && e.from === from && e.to !== to && e.walk === walk && e.history === history && e.total > 0)
      .sort((a, b) => b.total - a.total);
    for (const e of entries) {
      const above = await this.walkAbove(e.to, to, pathspecs, opts);
      if (!above) continue;
      const { lines, delta } = above;
      resultCacheCounters.diffHead++;
      return { total: e.total + lines.length, relevant: [...delta.commits, ...e.relevant.map(copyCommit)] };
    }
    return null;
  }

  /**
   * The commits of base..tip when they are a chain above `base` (see chainAbove), walked. The
   * walk starts beside the chain check (usually one new commit) and is used only when it holds:
   * otherwise the listing it waits for fails, which stops it (walkRange's eager walk).
   */
  private async walkAbove(
    base: string,
    tip: string,
    pathspecs: string[],
    opts: { signal?: AbortSignal; walk?: Partial<WalkOptions>; onWalking?: () => void },
  ): Promise<{ lines: string[]; delta: Awaited<ReturnType<typeof walkRange>> } | null> {
    const linesP = chainAbove(this.repo.root, base, tip, opts.signal);
    const chainP = linesP.then((l) => l ?? Promise.reject(new Error(`${base}..${tip} is not a chain`)));
    const deltaP = walkRange(this.repo.root, { from: base, to: tip }, pathspecs, { ...opts.walk, withFiles: true, eager: true, signal: opts.signal }, chainP);
    deltaP.catch(() => undefined);
    opts.onWalking?.(); // git is at work: what waits for that (loading the Docker client) may go
    const lines = await linesP;
    return lines ? { lines, delta: await deltaP } : null;
  }

  async putDiff(from: string, to: string, walk: string, total: number, relevant: CommitSummary[]): Promise<void> {
    if (!FULL_SHA.test(from) || !FULL_SHA.test(to)) return;
    const history = await this.history();
    this.save(diffName(from, to, walk), { kind: 'diff', v: RESULT_VERSION, from, to, walk, history, total, relevant: relevant.map(copyCommit) });
  }

  // ---- storage ---------------------------------------------------------------------------

  /** Entry names on disk and in memory (memory alone when the disk cache is off). */
  private list(): string[] {
    return (this.names ??= [...new Set([...this.store.names(), ...(this.memo?.names() ?? [])])]);
  }

  private load(name: string): Entry | null {
    const m = this.memo?.get(name);
    if (m) return m;
    const v = this.store.read(name);
    if (!isEntry(v)) return null;
    this.memo?.set(name, v);
    return v;
  }

  private save(name: string, e: Entry): void {
    this.memo?.set(name, e);
    this.store.write(name, e);
    if (this.names && !this.names.includes(name)) this.names.push(name);
  }
}

/** The chain index of a range walked cold, from its `rev-list --parents` listing when that is a chain (else null). */
export function chainIndexOf(chain: string[] | null, relevant: { sha: string; date: string }[]): ChainIndex | null {
  if (!chain) return null;
  const lines = chain;
  const at = new Map<string, number>();
  for (let i = 0; i < lines.length; i++) at.set(lines[i].slice(0, lines[i].indexOf(' ')), i);
  const positions: number[] = [];
  const times: number[] = [];
  for (const c of relevant) {
    const p = at.get(c.sha);
    if (p === undefined) return null;
    positions.push(p);
    times.push(Date.parse(c.date) / 1000);
  }
  return { positions, times };
}

function fastKeyOf(target: TargetConfig, dockerfile: string, from: string, to: string, history: string): string {
  return sha1(['fast', RESULT_VERSION, ANALYSIS_SALT, history, dockerfile, target.context, target.buildArgs, target.targetStage ?? null, target.include, target.exclude, from, to]);
}

function statusName(from: string, to: string, fast: string): string {
  return `s-${from.slice(0, 12)}-${to.slice(0, 12)}-${fast.slice(0, 16)}`;
}

function diffName(from: string, to: string, walk: string): string {
  return `d-${from.slice(0, 12)}-${to.slice(0, 12)}-${walk.slice(0, 16)}`;
}

function copyCommit(c: CommitSummary): CommitSummary {
  return { ...c, files: [...c.files] };
}

function copyFacts(f: RangeFacts): RangeFacts {
  return { ...f, relevant: f.relevant.map(copyCommit) };
}

// ---- shape checks: a signed entry is ours, but an older build may have written another shape ----

const isInt = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0;
const isSha = (s: unknown): s is string => typeof s === 'string' && FULL_SHA.test(s);
const isHex = (s: unknown): s is string => typeof s === 'string' && /^[0-9a-f]{40}$/.test(s);

function isCommit(c: unknown): c is CommitSummary {
  const x = c as CommitSummary | null;
  return (
    !!x &&
    isSha(x.sha) &&
    typeof x.subject === 'string' &&
    typeof x.date === 'string' &&
    (x.author === undefined || typeof x.author === 'string') &&
    Array.isArray(x.files) &&
    x.files.every((f) => typeof f === 'string')
  );
}

function isFacts(f: unknown): f is RangeFacts {
  const x = f as RangeFacts | null;
  return (
    !!x &&
    isInt(x.ahead) &&
    isInt(x.behind) &&
    isInt(x.relevantCount) &&
    Array.isArray(x.relevant) &&
    x.relevant.length <= x.relevantCount &&
    x.relevant.every(isCommit) &&
    (x.oldestRelevantDate === null || typeof x.oldestRelevantDate === 'string')
  );
}

function isChain(c: unknown, count: number): c is ChainIndex {
  const x = c as ChainIndex | null;
  return !!x && Array.isArray(x.positions) && Array.isArray(x.times) && x.positions.length === count && x.times.length === count && x.positions.every(isInt) && x.times.every(isInt);
}

function isEntry(v: unknown): v is Entry {
  const e = v as Entry | null;
  if (!e || e.v !== RESULT_VERSION || !isSha(e.from) || !isSha(e.to) || !isHex(e.walk) || !isHex(e.history)) return false;
  if (e.kind === 'status') return isHex(e.fast) && isFacts(e.facts) && (e.chain === null || isChain(e.chain, e.facts.relevantCount));
  if (e.kind === 'diff') return isInt(e.total) && Array.isArray(e.relevant) && e.relevant.every(isCommit);
  return false;
}
