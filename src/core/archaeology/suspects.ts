// Suspects between a good and a bad build: the commits between their revisions that change image
// inputs, each file with the Dockerfile instruction that bakes it in. Either side may be an image
// ID (or prefix), a tag, a build-ledger entry or a revision; with none, the newest build that
// passed (smoke test or marked good) before the newest one that failed (or was marked bad).
// "Mark Build Good/Bad" appends a `mark` record with a verdict to the ledger.
import { appendLedgerRecord, type LedgerRecord, type Verdict } from '../build/ledger';
import { factRevision, type ImageHistoryEntry, type RevisionSource, type TargetHistory } from './imageHistory';
import { resolveCommits } from '../git/queries';
import { cleanRevision, computeDiff } from '../status/rangeQueries';
import { ProvenanceError, type Workspace } from '../status/workspace';
import type { InputVia } from '../types';
import { TOOL_VERSION } from '../version';

export interface BuildSide {
  /** What was given (null when picked from the ledger). */
  input: string | null;
  kind: 'image' | 'ledger' | 'revision';
  /** Full SHA the side stands for. */
  revision: string;
  dirty: boolean;
  revisionSource: RevisionSource | 'given';
  imageId: string | null;
  tags: string[];
  builtAt: string | null;
  verdict: Verdict | null;
  ledgerId: string | null;
}

export interface Suspect {
  sha: string;
  subject: string;
  author: string;
  date: string;
  files: { path: string; via: InputVia[] }[];
}

export interface SuspectsResult {
  target: string;
  good: BuildSide;
  bad: BuildSide;
  /** Commits in good..bad, input-changing or not. */
  total: number;
  /** The commits in good..bad that change image inputs, newest first. */
  suspects: Suspect[];
  warnings: string[];
}

const LEDGER_ID_RE = /^\d{8}-\d{9}-[0-9a-f]{8}$/;
const HEX_RE = /^(?:sha256:)?([0-9a-f]{4,64})$/i;

type Resolved = { kind: 'image' | 'ledger'; entry: ImageHistoryEntry | null; record: LedgerRecord | null } | { kind: 'revision'; sha: string };

/** Finds what `arg` names: a ledger entry, a tag, an image ID (prefix), or a commit. Throws a clear ProvenanceError. */
export async function resolveBuildArg(ws: Workspace, h: TargetHistory, arg: string, signal?: AbortSignal): Promise<Resolved> {
  const a = arg.trim();
  const all = [...h.images, ...h.gone];
  if (LEDGER_ID_RE.test(a)) {
    const record = h.records.find((r) => r.id === a);
    if (!record) {
      throw new ProvenanceError(`There is no build-ledger entry ${a} for ${h.target.name}.`, 'List the entries with provenance history --ledger.', 'usage');
    }
    return { kind: 'ledger', entry: all.find((e) => e.imageId === record.imageId) ?? null, record };
  }
  const byTag = all.filter((e) => e.tags.some((t) => t === a || t === `${a}:latest`));
  if (byTag.length > 0) return { kind: 'image', entry: byTag.sort((x, y) => Number(y.present) - Number(x.present))[0], record: null };
  const hex = HEX_RE.exec(a);
  const byId = hex ? uniqueIds(all.filter((e) => e.imageId.slice(7).startsWith(hex[1].toLowerCase()))) : [];
  if (byId.length > 1) {
    throw new ProvenanceError(`"${a}" is the start of several image IDs (${byId.map((e) => e.imageId.slice(7, 19)).join(', ')}).`, 'Give more digits of the image ID.', 'usage');
  }
  const isCommitLike = !a.startsWith('sha256:') && /^[\w./@^~{}-]+$/.test(a) && !a.startsWith('-');
  const [sha] = isCommitLike ? await resolveCommits(ws.repo.root, [cleanRevision(a)], signal) : [null];
  if (byId.length === 1) {
    if (sha && !a.startsWith('sha256:')) {
      throw new ProvenanceError(
        `"${a}" is ambiguous: image ${byId[0].imageId.slice(7, 19)} and commit ${sha.slice(0, 12)}.`,
        `Write sha256:${a} for the image, or more digits of the commit.`,
        'usage',
      );
    }
    return { kind: 'image', entry: byId[0], record: null };
  }
  if (sha) return { kind: 'revision', sha };
  const looksLikeRev = /^[0-9a-f]{7,40}(-dirty)?$/i.test(a) || /[~^]/.test(a);
  throw new ProvenanceError(
    `"${a}" is not an image, tag or build-ledger entry of ${h.target.name}${looksLikeRev ? ', nor a commit in this clone' : ', nor a revision'}.`,
    h.docker.reachable
      ? 'Give an image ID (or prefix) or name:tag from provenance history, a ledger entry id (provenance history --ledger), or a commit.'
      : `Docker is unreachable (${h.docker.reason}), so only ledger entries and commits can be named.`,
    looksLikeRev ? 'unknown-revision' : 'usage',
  );
}

function uniqueIds(list: ImageHistoryEntry[]): ImageHistoryEntry[] {
  const m = new Map<string, ImageHistoryEntry>();
  for (const e of list) if (!m.has(e.imageId) || e.present) m.set(e.imageId, e);
  return [...m.values()];
}

/** The side a resolved argument stands for; refuses an image whose revision nobody knows. */
function sideOf(arg: string | null, r: Resolved, warnings: string[], role: 'good' | 'bad'): BuildSide {
  if (r.kind === 'revision') {
    return { input: arg, kind: 'revision', revision: r.sha, dirty: false, revisionSource: 'given', imageId: null, tags: [], builtAt: null, verdict: null, ledgerId: null };
  }
  const e = r.entry;
  const id = e?.imageId ?? r.record?.imageId ?? null;
  let revision = e?.revision.known ? e.revision.sha : null;
  let dirty = e?.revision.dirty ?? false;
  let source: RevisionSource = e?.revision.source ?? 'none';
  if (r.record?.revision && (!revision || source === 'inferred')) {
    revision = r.record.revision;
    dirty = r.record.dirty;
    source = 'ledger';
  }
  const name = arg ?? (id ? id.slice(7, 19) : '?');
  if (!revision) {
    const why = e?.revision.notes.join('; ') || 'it has no revision label and no ledger record';
    throw new ProvenanceError(`The ${role} build ${name} has no known revision: ${why}.`, 'Give the commit it was built from instead (provenance suspects <good-commit> <bad-commit>).', 'unknown-revision');
  }
  if (source === 'inferred') warnings.push(`The ${role} build ${name}'s revision ${revision.slice(0, 12)} is inferred from the reflog, not recorded: ${e!.revision.notes.join('; ')}.`);
  const iv = source === 'content' ? e?.revision.consistentWith : null;
  if (iv && iv.oldest !== iv.newest) {
    // Built from one of oldest..newest: the widest range between the two builds, so no suspect is left out.
    revision = role === 'good' ? iv.oldest : iv.newest;
    warnings.push(`The ${role} build ${name} has no label: its bytes fit ${iv.oldest.slice(0, 12)}..${iv.newest.slice(0, 12)}, so the ${role === 'good' ? 'oldest' : 'newest'} of them is taken (commits in between that change only inputs whose bytes cannot be read back may or may not be in it).`);
  }
  if (dirty) warnings.push(`The ${role} build ${name} was built with uncommitted changes: what differs may be in no commit.`);
  return {
    input: arg,
    kind: r.kind,
    revision,
    dirty,
    revisionSource: source,
    imageId: id,
    tags: e?.tags ?? r.record?.tags ?? [],
    builtAt: e?.created ?? r.record?.endedAt ?? null,
    verdict: e?.verdict ?? null,
    ledgerId: r.record?.id ?? null,
  };
}

/** The newest failing build and the newest passing one built before it. Throws when there is no such pair. */
export function pickGoodBad(h: TargetHistory): { good: ImageHistoryEntry; bad: ImageHistoryEntry } {
  const builds = [...h.images, ...h.gone].filter((e) => e.verdict && factRevision(e)).sort((a, b) => b.created.localeCompare(a.created));
  const bad = builds.find((e) => e.verdict === 'bad');
  if (!bad) {
    throw new ProvenanceError(
      `No build of ${h.target.name} failed a smoke test or was marked bad.`,
      'Name the two builds: provenance suspects <good> <bad>, or mark one: provenance mark <image> bad.',
      'usage',
    );
  }
  const good = builds.find((e) => e.verdict === 'good' && e.created < bad.created);
  if (!good) {
    throw new ProvenanceError(
      `No build of ${h.target.name} passed (or was marked good) before the failing ${bad.imageId.slice(7, 19)}.`,
      'Mark a known-good build: provenance mark <image> good, or name it: provenance suspects <good> <bad>.',
      'usage',
    );
  }
  return { good, bad };
}

export async function computeSuspects(
  ws: Workspace,
  h: TargetHistory,
  args: { good?: string; bad?: string },
  opts: { signal?: AbortSignal } = {},
): Promise<SuspectsResult> {
  const warnings: string[] = [];
  let good: BuildSide;
  let bad: BuildSide;
  if (args.good === undefined || args.bad === undefined) {
    const pick = pickGoodBad(h);
    good = sideOf(null, { kind: 'image', entry: pick.good, record: null }, warnings, 'good');
    bad = sideOf(null, { kind: 'image', entry: pick.bad, record: null }, warnings, 'bad');
  } else {
    const [g, b] = await Promise.all([resolveBuildArg(ws, h, args.good, opts.signal), resolveBuildArg(ws, h, args.bad, opts.signal)]);
    good = sideOf(args.good, g, warnings, 'good');
    bad = sideOf(args.bad, b, warnings, 'bad');
  }
  const diff = await computeDiff(ws, h.target, good.revision, bad.revision, { signal: opts.signal });
  warnings.push(...diff.warnings);
  if (good.revision === bad.revision) {
    warnings.push('Both builds come from the same commit: the difference is not in the commits (a dirty build, a base image, build arguments, or the runtime environment).');
  } else if (diff.total === 0) {
    warnings.push(`The bad build's commit is an ancestor of the good one's: there is nothing in ${good.revision.slice(0, 12)}..${bad.revision.slice(0, 12)}. Swapped?`);
  }
  return {
    target: h.target.name,
    good,
    bad,
    total: diff.total,
    suspects: diff.relevant.map((c) => ({
      sha: c.sha,
      subject: c.subject,
      author: c.author ?? '',
      date: c.date,
      files: c.files.map((f) => ({ path: f, via: diff.inputs.affects(f).via })),
    })),
    warnings,
  };
}

/** Records the user's verdict on a build (an image, or a ledger entry's image) in the ledger. */
export async function markBuild(
  ws: Workspace,
  h: TargetHistory,
  arg: string,
  verdict: Verdict,
  signal?: AbortSignal,
): Promise<{ record: LedgerRecord; side: BuildSide | null; warnings: string[] }> {
  let r = await resolveBuildArg(ws, h, arg, signal);
  if (r.kind === 'revision') {
    // A commit names a build when exactly one image was built from it (by its label or ledger record).
    const sha = r.sha;
    const builds = uniqueIds([...h.images, ...h.gone].filter((e) => factRevision(e) === sha));
    if (builds.length !== 1) {
      throw new ProvenanceError(
        builds.length === 0
          ? `No build of ${h.target.name} was made from commit ${sha.slice(0, 12)} (by its revision label or the build ledger), so there is nothing to mark.`
          : `Several builds of ${h.target.name} were made from commit ${sha.slice(0, 12)} (${builds.map((e) => e.imageId.slice(7, 19)).join(', ')}).`,
        'Mark an image (ID or name:tag from provenance history) or a ledger entry.',
        'usage',
      );
    }
    r = { kind: 'image', entry: builds[0], record: null };
  }
  const imageId = r.entry?.imageId ?? r.record?.imageId ?? null;
  if (!imageId) {
    throw new ProvenanceError(`Ledger entry ${arg} produced no image, so there is no build to mark.`, 'Mark an image from provenance history.', 'usage');
  }
  const warnings: string[] = [];
  let side: BuildSide | null = null;
  try {
    side = sideOf(arg, r, warnings, verdict);
  } catch {
    warnings.push(`The build's revision is unknown; the mark is recorded for image ${imageId.slice(7, 19)} only.`);
  }
  const now = new Date().toISOString();
  // A mark records only a revision that is known exactly (not a guess, not a stretch of commits).
  const recorded = side && side.revisionSource !== 'inferred' && side.revisionSource !== 'content';
  const record = await appendLedgerRecord(
    ws.repo.commonDir,
    {
      kind: 'mark',
      target: h.target.name,
      revision: recorded ? side!.revision : null,
      dirty: recorded ? side!.dirty : false,
      inputHash: '',
      imageId,
      tags: r.entry?.tags ?? r.record?.tags ?? [],
      mode: null,
      startedAt: now,
      endedAt: now,
      result: 'success',
      smoke: null,
      error: null,
      tool: TOOL_VERSION,
      verdict,
    },
    signal,
  );
  return { record, side, warnings };
}
