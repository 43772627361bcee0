// The data behind the timeline picture: commits that change image inputs, builds (with revision
// and smoke result), container runs, and for each commit how long it waited until it was first
// built and first ran. Pure data; timelineSvg.ts draws it (the editor's webview and
// `provenance timeline --html` share that renderer).
import { runGit } from '../git/exec';
import { logRange, readHead } from '../git/queries';
import { pathspecFilter } from '../inputs/imageInputs';
import { factRevision, type ImageHistoryEntry, type RevisionSource, type TargetHistory } from './imageHistory';
import { computeDiff } from '../status/rangeQueries';
import { worktreeInputs } from '../status/targetInputs';
import { dockerfileFor, type Workspace } from '../status/workspace';
import type { Verdict } from '../build/ledger';

/** At most this many of each, newest first (the picture stays readable). */
export const TIMELINE_LIMITS = { commits: 60, builds: 40, runs: 40 };

export interface TimelineCommit {
  sha: string;
  subject: string;
  author: string;
  date: string;
  files: string[];
  /** The earliest build whose (labelled or ledger) revision includes it. */
  firstBuild: { at: string; imageId: string; revision: string } | null;
  /** The earliest container start or smoke test of such a build. */
  firstRun: { at: string; name: string } | null;
  lagBuildSeconds: number | null;
  lagRunSeconds: number | null;
  /** Not built (or not run) yet: how long it has waited so far. */
  waitingSeconds: number | null;
  /** Waited longer than the threshold to be built (or is still waiting that long). */
  late: boolean;
}

export interface TimelineBuild {
  imageId: string;
  tags: string[];
  at: string;
  revision: string | null;
  revisionSource: RevisionSource;
  dirty: boolean;
  /** The newest smoke test's result. */
  smoke: 'passed' | 'failed' | null;
  verdict: Verdict | null;
  present: boolean;
}

export interface TimelineRun {
  containerId: string;
  name: string;
  imageId: string;
  start: string;
  /** null while it runs. */
  end: string | null;
  state: string;
}

export interface TimelineData {
  target: string;
  image: string;
  generatedAt: string;
  thresholdHours: number;
  commits: TimelineCommit[];
  builds: TimelineBuild[];
  runs: TimelineRun[];
  /** How many were left out by TIMELINE_LIMITS. */
  omitted: { commits: number; builds: number; runs: number };
  warnings: string[];
}

export async function computeTimeline(
  ws: Workspace,
  h: TargetHistory,
  opts: { thresholdHours: number; signal?: AbortSignal; now?: Date },
): Promise<TimelineData> {
  const { repo } = ws;
  const signal = opts.signal;
  const now = opts.now ?? new Date();
  const warnings: string[] = [];
  const allBuilds = [...h.images, ...h.gone].sort((a, b) => b.created.localeCompare(a.created));
  const builds = allBuilds.slice(0, TIMELINE_LIMITS.builds);
  const head = await readHead(repo, signal);

  // Commits since the oldest shown build with a known revision (what came before it, it contains).
  const oldestFact = [...builds].reverse().find((b) => factRevision(b));
  let commits: { sha: string; subject: string; author?: string; date: string; files: string[] }[] = [];
  if (head.sha) {
    if (oldestFact) {
      const diff = await computeDiff(ws, h.target, factRevision(oldestFact)!, head.sha, { signal });
      warnings.push(...diff.warnings);
      commits = diff.relevant;
    } else {
      const dockerfile = await dockerfileFor(repo, h.target, signal);
      const inputs = await worktreeInputs(repo, h.target, dockerfile, signal);
      commits = await logRange(repo.root, { from: null, to: head.sha }, inputs.pathspecs, { withFiles: true, maxCount: TIMELINE_LIMITS.commits, signal, keep: pathspecFilter(inputs) });
      if (commits.length) warnings.push('No build has a known revision, so no commit can be matched to a build.');
    }
  }
  const omittedCommits = Math.max(0, commits.length - TIMELINE_LIMITS.commits);
  commits = commits.slice(0, TIMELINE_LIMITS.commits);

  // For each distinct build revision, which of these commits it includes: one rev-list per revision.
  const shown = new Set(commits.map((c) => c.sha));
  const includes = new Map<string, Set<string>>();
  const revs = [...new Set(allBuilds.map(factRevision).filter((r): r is string => !!r))];
  const base = oldestFact ? factRevision(oldestFact) : null;
  const todo = [...revs];
  const worker = async () => {
    for (let rev = todo.pop(); rev !== undefined; rev = todo.pop()) {
      if (!shown.size) {
        includes.set(rev, new Set());
        continue;
      }
      const { stdout } = await runGit(['rev-list', rev, ...(base ? [`^${base}`] : []), '--'], { cwd: repo.root, signal });
      includes.set(rev, new Set(stdout.split('\n').filter((s) => shown.has(s))));
    }
  };
  await Promise.all(Array.from({ length: Math.min(6, todo.length) }, worker));

  const oldestFirst = [...allBuilds].sort((a, b) => a.created.localeCompare(b.created));
  const runsOf = (b: ImageHistoryEntry) => [
    ...b.containers.map((c) => ({ at: c.started, name: c.name })),
    ...b.ledger.smokes.map((s) => ({ at: s.startedAt, name: `smoke test ${s.id}` })),
  ];
  const threshold = opts.thresholdHours * 3600;
  const timelineCommits: TimelineCommit[] = commits.map((c) => {
    const having = oldestFirst.filter((b) => {
      const r = factRevision(b);
      return r !== null && includes.get(r)?.has(c.sha);
    });
    const first = having[0];
    const run = having.flatMap(runsOf).sort((a, b) => a.at.localeCompare(b.at))[0];
    const t = Date.parse(c.date);
    const lagBuild = first ? Math.round((Date.parse(first.created) - t) / 1000) : null;
    const lagRun = run ? Math.round((Date.parse(run.at) - t) / 1000) : null;
    const waiting = !first || !run ? Math.max(0, Math.round((now.getTime() - t) / 1000)) : null;
    return {
      sha: c.sha,
      subject: c.subject,
      author: c.author ?? '',
      date: c.date,
      files: c.files,
      firstBuild: first ? { at: first.created, imageId: first.imageId, revision: factRevision(first)! } : null,
      firstRun: run ?? null,
      lagBuildSeconds: lagBuild,
      lagRunSeconds: lagRun,
      waitingSeconds: waiting,
      late: threshold > 0 && (lagBuild !== null ? lagBuild > threshold : (waiting ?? 0) > threshold),
    };
  });

  const runs: TimelineRun[] = h.containers
    .map((c) => ({ containerId: c.id, name: c.name, imageId: c.imageId, start: c.started, end: c.state === 'running' ? null : (c.finished ?? null), state: c.state }))
    .sort((a, b) => b.start.localeCompare(a.start));
  return {
    target: h.target.name,
    image: h.target.image,
    generatedAt: now.toISOString(),
    thresholdHours: opts.thresholdHours,
    commits: timelineCommits,
    builds: builds.map((b) => ({
      imageId: b.imageId,
      tags: b.tags,
      at: b.created,
      revision: b.revision.sha,
      revisionSource: b.revision.source,
      dirty: b.revision.dirty,
      smoke: lastSmoke(b),
      verdict: b.verdict,
      present: b.present,
    })),
    runs: runs.slice(0, TIMELINE_LIMITS.runs),
    omitted: { commits: omittedCommits, builds: allBuilds.length - builds.length, runs: Math.max(0, runs.length - TIMELINE_LIMITS.runs) },
    warnings,
  };
}

function lastSmoke(b: ImageHistoryEntry): 'passed' | 'failed' | null {
  const s = b.ledger.smokes.filter((x) => x.result !== 'cancelled').pop();
  return s ? (s.result as 'passed' | 'failed') : null;
}
