// "Which image contains this commit?": a commit is in an image when it is an ancestor of (or is)
// the revision the image was built from.
import { runGit } from '../git/exec';
import { logRange, resolveCommits } from '../git/queries';
import { factRevision, type ImageHistoryEntry, type RevisionSource, type TargetHistory } from './imageHistory';
import { cleanRevision } from '../status/rangeQueries';
import { unknownRevisionError, type Workspace } from '../status/workspace';
import type { ContainerInfo, ImageInfo } from '../types';

export interface ContainsAnswer {
  commit: string;
  images: { image: ImageInfo; revision: string; contains: boolean }[];
  containers: { container: ContainerInfo; revision: string; contains: boolean }[];
  /** Images and containers whose revision is unknown (unlabeled, garbage, not in this clone). */
  unknown: number;
}

export async function imagesContaining(
  root: string,
  commitish: string,
  images: ImageInfo[],
  containers: ContainerInfo[],
  signal?: AbortSignal,
): Promise<ContainsAnswer | null> {
  const [commit] = await resolveCommits(root, [commitish], signal);
  if (!commit) return null;
  const revs = new Set<string>();
  for (const x of [...images, ...containers]) if (x.revision.kind === 'sha') revs.add(x.revision.sha);
  const list = [...revs];
  const resolved = await resolveCommits(root, list, signal);
  const full = new Map(list.map((r, k) => [r, resolved[k]]));
  const verdict = await ancestorVerdicts(root, commit, resolved.filter((r): r is string => !!r), signal);
  let unknown = 0;
  const judge = <T extends { revision: ImageInfo['revision'] }>(x: T) => {
    const sha = x.revision.kind === 'sha' ? full.get(x.revision.sha) : undefined;
    if (!sha) {
      unknown++;
      return null;
    }
    return { revision: sha, contains: verdict.get(sha) ?? false };
  };
  const imgs = images.flatMap((image) => {
    const j = judge(image);
    return j ? [{ image, ...j }] : [];
  });
  const ctrs = containers.flatMap((container) => {
    const j = judge(container);
    return j ? [{ container, ...j }] : [];
  });
  return { commit, images: imgs, containers: ctrs, unknown };
}

/** For each full revision: does it include `commit` (is the commit an ancestor of, or equal to, it)? */
export async function ancestorVerdicts(root: string, commit: string, revs: string[], signal?: AbortSignal): Promise<Map<string, boolean>> {
  const verdict = new Map<string, boolean>();
  const todo = [...new Set(revs)];
  // A few git processes at a time: a long history may have dozens of distinct builds.
  const worker = async () => {
    for (let rev = todo.pop(); rev !== undefined; rev = todo.pop()) {
      const r = await runGit(['merge-base', '--is-ancestor', commit, rev], { cwd: root, signal, okCodes: [1] });
      verdict.set(rev, r.exitCode === 0);
    }
  };
  await Promise.all(Array.from({ length: Math.min(6, todo.length) }, worker));
  return verdict;
}

// ---------------------------------------------------------------------------------------------
// The full answer: first build, first run, running now, and how long the commit waited.

export interface BuildRef {
  imageId: string;
  tags: string[];
  /** When it was built. */
  builtAt: string;
  revision: string | null;
  revisionSource: RevisionSource;
  /** Still on an engine (false: only the ledger remembers it). */
  present: boolean;
}

export interface RunRef {
  /** A container (running or stopped), or a smoke test the ledger recorded. */
  kind: 'container' | 'smoke';
  imageId: string;
  containerId: string | null;
  name: string | null;
  startedAt: string;
  state: string | null;
  ledgerId: string | null;
}

export interface CommitContainsAnswer {
  target: string;
  commit: { sha: string; subject: string; author: string; date: string };
  /** The earliest build whose (labelled or ledger) revision includes the commit. */
  firstBuild: BuildRef | null;
  /** An earlier build that includes it only by an *inferred* revision; null when none is earlier. */
  firstBuildInferred: (BuildRef & { confidence: 'medium' | 'low' | null; notes: string[] }) | null;
  /** The earliest run (container start, or smoke test) of an image that includes it. */
  firstRun: RunRef | null;
  /** Running containers whose image includes it. */
  running: { containerId: string; name: string; imageId: string; started: string }[];
  lag: {
    /** Commit time → first build; null when never built. */
    toFirstBuildSeconds: number | null;
    /** Commit time → first run; null when never run. */
    toFirstRunSeconds: number | null;
    /** Commit time → now, while it is not yet built or not yet run; else null. */
    waitingSeconds: number | null;
  };
  /** Every build considered, newest first; `contains` null when its revision is unknown. */
  images: (BuildRef & { contains: boolean | null })[];
  /** Builds whose revision is unknown (no label, no ledger record, reflog cannot tell, or not in this clone). */
  unknown: number;
  warnings: string[];
}

/** "Which image contains this commit?" over a target's history (images on all endpoints, and the ledger). */
export async function commitContains(
  ws: Workspace,
  history: TargetHistory,
  commitish: string,
  opts: { signal?: AbortSignal; now?: Date } = {},
): Promise<CommitContainsAnswer> {
  const root = ws.repo.root;
  const rev = cleanRevision(commitish);
  const [sha] = await resolveCommits(root, [rev], opts.signal);
  if (!sha) {
    throw await unknownRevisionError(ws.repo, rev, `${rev} is not a commit in this clone.`, opts.signal);
  }
  const [info] = await logRange(root, { from: null, to: [sha] }, null, { withFiles: false, noWalk: true, signal: opts.signal });
  const builds = [...history.images, ...history.gone];
  const revs = builds.flatMap((b) => [b.revision.known ? b.revision.sha : null, b.revision.consistentWith?.oldest ?? null]).filter((r): r is string => !!r);
  const verdict = await ancestorVerdicts(root, sha, [...new Set(revs)], opts.signal);
  const ref = (b: ImageHistoryEntry): BuildRef => ({
    imageId: b.imageId,
    tags: b.tags,
    builtAt: b.created,
    revision: b.revision.sha,
    revisionSource: b.revision.source,
    present: b.present,
  });
  const containsOf = (b: ImageHistoryEntry): boolean | null => {
    if (!b.revision.known || !b.revision.sha) return null;
    const iv = b.revision.consistentWith;
    // Bytes fit oldest..newest: in it when the commit is in the oldest; out when not even in the
    // newest; in between (a change only to inputs that cannot be read back) nobody can tell.
    if (b.revision.source === 'content' && iv) return verdict.get(iv.oldest) ? true : verdict.get(iv.newest) === false ? false : null;
    return verdict.get(b.revision.sha) ?? null;
  };
  const oldestFirst = [...builds].sort((a, b) => a.created.localeCompare(b.created));
  const fact = oldestFirst.find((b) => factRevision(b) && containsOf(b));
  const inferred = oldestFirst.find((b) => b.revision.source === 'inferred' && containsOf(b));
  const firstBuildInferred = inferred && (!fact || inferred.created < fact.created) ? { ...ref(inferred), confidence: inferred.revision.confidence, notes: inferred.revision.notes } : null;

  // Runs count only for images whose revision is a fact.
  const having = new Set(builds.filter((b) => factRevision(b) && containsOf(b)).map((b) => b.imageId));
  const runs: RunRef[] = [];
  for (const b of builds) {
    if (!having.has(b.imageId)) continue;
    for (const c of b.containers) runs.push({ kind: 'container', imageId: b.imageId, containerId: c.containerId, name: c.name, startedAt: c.started, state: c.state, ledgerId: null });
    for (const s of b.ledger.smokes) runs.push({ kind: 'smoke', imageId: b.imageId, containerId: null, name: null, startedAt: s.startedAt, state: s.result, ledgerId: s.id });
  }
  runs.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  const firstRun = runs[0] ?? null;
  const running = builds
    .filter((b) => having.has(b.imageId))
    .flatMap((b) => b.containers.filter((c) => c.state === 'running').map((c) => ({ containerId: c.containerId, name: c.name, imageId: b.imageId, started: c.started })));

  const committed = Date.parse(info.date);
  const secs = (iso: string) => Math.round((Date.parse(iso) - committed) / 1000);
  const now = (opts.now ?? new Date()).getTime();
  const warnings: string[] = [];
  if (firstBuildInferred) warnings.push(`${firstBuildInferred.imageId.slice(7, 19)} was built earlier and may contain it, but its revision is only inferred from the reflog.`);
  if (fact && b4(fact.created, info.date)) warnings.push('The first build is dated before the commit: clocks differ, or the commit was rewritten (amend, rebase) after an identical tree was built.');
  return {
    target: history.target.name,
    commit: { sha, subject: info.subject, author: info.author ?? '', date: info.date },
    firstBuild: fact ? ref(fact) : null,
    firstBuildInferred,
    firstRun,
    running,
    lag: {
      toFirstBuildSeconds: fact ? secs(fact.created) : null,
      toFirstRunSeconds: firstRun ? secs(firstRun.startedAt) : null,
      waitingSeconds: !fact || !firstRun ? Math.max(0, Math.round((now - committed) / 1000)) : null,
    },
    images: builds.map((b) => ({ ...ref(b), contains: containsOf(b) })),
    unknown: builds.filter((b) => containsOf(b) === null).length,
    warnings,
  };
}

function b4(a: string, b: string): boolean {
  return Date.parse(a) < Date.parse(b);
}
