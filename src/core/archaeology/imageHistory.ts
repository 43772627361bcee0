// Image history of a target: every local image (all endpoints), newest first, with the revision it
// was built from — from its label, else from the build ledger, else *inferred* from the reflog
// (marked so, with a confidence note; "unknown" when the reflog cannot tell) — the containers that
// run or ran it, and the ledger's build, smoke and mark results. Builds recorded in the ledger
// whose image is gone are kept apart (`gone`). History, contains, suspects and the timeline all
// read this one picture.
import type { TargetConfig } from '../config';
import { resolveDockerEndpoints } from '../docker/endpoints';
import { connectDocker, imageInfoOf } from '../docker/state';
import { resolveCommits } from '../git/queries';
import { readLedger, type LedgerRecord, type SmokeOutcome, type Verdict } from '../build/ledger';
import { dockerStateFor, type Workspace } from '../status/workspace';
import type { Verification } from '../status/verification';
import { verifyImagesOf } from '../status/verifyQuery';
import { headAt, readHeadReflog, type ReflogEntry } from '../git/reflog';
import type { ContainerInfo, DockerState, ImageInfo } from '../types';

export type RevisionSource = 'label' | 'ledger' | 'content' | 'inferred' | 'none';

export interface ImageRevision {
  /** Full SHA when this clone has the commit; the label's hex otherwise; null when unknown. */
  sha: string | null;
  dirty: boolean;
  /**
   * Where the revision comes from. `content`: the bytes baked into the image (the newest commit
   * they fit; `consistentWith` is the whole stretch). `inferred` is a guess from the reflog,
   * never a fact.
   */
  source: RevisionSource;
  /** For `content`: the commits the bytes are consistent with (the image was built from one of them); else null. */
  consistentWith: { oldest: string; newest: string } | null;
  /** The revision label's value as written, or null without one. */
  label: string | null;
  labelState: 'labeled' | 'unlabeled' | 'garbage' | 'unknown';
  /** Whether this clone has the commit. */
  known: boolean;
  /** For `inferred`: how sure (never "high"). */
  confidence: 'medium' | 'low' | null;
  /** Why it may be wrong, or why it is unknown. */
  notes: string[];
}

export interface ImageRun {
  containerId: string;
  name: string;
  state: string;
  started: string;
  /** When a stopped container finished; null while it runs (or unknown). */
  finished: string | null;
  endpoint: string;
}

export interface ImageLedgerFacts {
  builds: { id: string; result: LedgerRecord['result']; startedAt: string; endedAt: string; mode: LedgerRecord['mode'] }[];
  smokes: { id: string; result: SmokeOutcome; reason: string | null; startedAt: string; endedAt: string }[];
  marks: { id: string; verdict: Verdict | null; at: string }[];
}

export interface ImageHistoryEntry {
  target: string;
  imageId: string;
  tags: string[];
  /** When it was built: the engine's creation time (the ledger's end time for a gone image). */
  created: string;
  endpoint: string | null;
  /** Still on an engine (false: only the ledger remembers it). */
  present: boolean;
  revision: ImageRevision;
  containers: ImageRun[];
  ledger: ImageLedgerFacts;
  /** The newest verdict: a good/bad mark, or a smoke test passed/failed. Null: never either. */
  verdict: Verdict | null;
  verdictFrom: 'mark' | 'smoke' | null;
}

export interface TargetHistory {
  target: TargetConfig;
  docker: { reachable: boolean; reason: string | null; hint: string | null };
  /** Local images of the target, newest first. */
  images: ImageHistoryEntry[];
  /** Successful builds in the ledger whose image is no longer on any engine, newest first. */
  gone: ImageHistoryEntry[];
  /** The target's ledger records, file order. */
  records: LedgerRecord[];
  /** Every container of the target seen (running and stopped). */
  containers: ContainerInfo[];
  warnings: string[];
}

export interface LoadHistoryOptions {
  signal?: AbortSignal;
  /** Ledger already read (several targets share it). */
  ledger?: { records: LedgerRecord[]; warnings: string[] };
  /** Docker state already read, with stopped containers. */
  docker?: DockerState;
  /** Reflog already read (null: none). */
  reflog?: ReflogEntry[] | null;
  /** Derive revisions from the bytes of images without a label or ledger record (default true). */
  content?: boolean;
}

/** Full history of one target. Docker being unreachable is reported, not thrown. */
export async function loadTargetHistory(ws: Workspace, target: TargetConfig, opts: LoadHistoryOptions = {}): Promise<TargetHistory> {
  const { repo } = ws;
  const [ledger, docker, reflog] = await Promise.all([
    opts.ledger ?? readLedger(repo.commonDir),
    opts.docker ?? dockerStateFor(target, opts.signal, { allContainers: true }),
    opts.reflog !== undefined ? opts.reflog : readHeadReflog(repo.gitDir),
  ]);
  const warnings = opts.ledger ? [] : [...ledger.warnings];
  const images = new Map<string, ImageInfo>();
  let containers: ContainerInfo[] = [];
  if (docker.reachable) {
    for (const img of docker.images) images.set(img.id, img);
    containers = docker.containers;
  } else {
    warnings.push(`Docker unreachable (${docker.reason}); only the build ledger is shown.`);
  }
  const ownIds = new Set(images.keys());
  const records = ledger.records.filter((r) => r.target === target.name || (r.imageId !== null && ownIds.has(r.imageId)));

  // Images the ledger or a container names by ID whose tag has moved on (dangling, retagged).
  if (docker.reachable) {
    const wanted = new Set<string>();
    for (const r of records) if (r.imageId && !images.has(r.imageId)) wanted.add(r.imageId);
    for (const c of containers) if (!images.has(c.imageId)) wanted.add(c.imageId);
    if (wanted.size > 0) for (const img of await imagesById(target, wanted)) images.set(img.id, img);
  }

  const byImage = new Map<string, LedgerRecord[]>();
  for (const r of records) {
    if (!r.imageId) continue;
    if (!byImage.has(r.imageId)) byImage.set(r.imageId, []);
    byImage.get(r.imageId)!.push(r);
  }

  // Revisions: label, else a ledger build's, else the image's content, else inferred from the reflog.
  const drafts: { id: string; rev: Omit<ImageRevision, 'known'> }[] = [];
  for (const img of images.values()) drafts.push({ id: img.id, rev: imageRevision(img, byImage.get(img.id) ?? [], reflog) });
  const unproven = drafts.filter((d) => d.rev.source === 'inferred' || d.rev.source === 'none').map((d) => images.get(d.id)!);
  if (opts.content !== false && unproven.length > 0) {
    const verdicts = await verifyImagesOf(ws, target, unproven, { signal: opts.signal });
    for (const d of drafts) {
      const v = verdicts.get(d.id);
      if (v?.state === 'consistent' && v.against && v.consistentWith) d.rev = contentRevision(d.rev, v);
    }
  }
  const goneBuilds = newestBuildPerImage(records).filter((r) => !images.has(r.imageId!) && r.result === 'success');
  for (const r of goneBuilds) drafts.push({ id: r.imageId!, rev: ledgerRevision(r) });
  const shas = [...new Set(drafts.map((d) => d.rev.sha).filter((s): s is string => !!s))];
  const full = new Map<string, string | null>();
  const resolved = await resolveCommits(repo.root, shas, opts.signal);
  shas.forEach((s, k) => full.set(s, resolved[k]));
  const revOf = new Map<string, ImageRevision>();
  for (const d of drafts) {
    const f = d.rev.sha ? (full.get(d.rev.sha) ?? null) : null;
    const rev: ImageRevision = { ...d.rev, sha: f ?? d.rev.sha, known: f !== null };
    if (d.rev.sha && !f) {
      if (rev.source === 'label') rev.labelState = 'unknown';
      rev.notes = [...rev.notes, `commit ${d.rev.sha.slice(0, 12)} is not in this clone (fetch it to compare)`];
    }
    revOf.set(d.id, rev);
  }

  const runsOf = new Map<string, ImageRun[]>();
  for (const c of containers) {
    if (!runsOf.has(c.imageId)) runsOf.set(c.imageId, []);
    runsOf.get(c.imageId)!.push({ containerId: c.id, name: c.name, state: c.state, started: c.started, finished: c.finished ?? null, endpoint: c.endpoint });
  }

  const entry = (id: string, tags: string[], created: string, endpoint: string | null, present: boolean): ImageHistoryEntry => {
    const recs = byImage.get(id) ?? [];
    const facts = ledgerFacts(recs);
    const v = verdictOf(recs);
    return {
      target: target.name,
      imageId: id,
      tags,
      created,
      endpoint,
      present,
      revision: revOf.get(id)!,
      containers: (runsOf.get(id) ?? []).sort((a, b) => b.started.localeCompare(a.started)),
      ledger: facts,
      verdict: v?.verdict ?? null,
      verdictFrom: v?.from ?? null,
    };
  };
  const byTime = (a: ImageHistoryEntry, b: ImageHistoryEntry) => b.created.localeCompare(a.created) || a.imageId.localeCompare(b.imageId);
  return {
    target,
    docker: docker.reachable ? { reachable: true, reason: null, hint: null } : { reachable: false, reason: docker.reason, hint: docker.hint },
    images: [...images.values()].map((img) => entry(img.id, img.tags, img.created, img.endpoint, true)).sort(byTime),
    gone: goneBuilds.map((r) => entry(r.imageId!, r.tags, r.endedAt, null, false)).sort(byTime),
    records,
    containers,
    warnings,
  };
}

/** Images (of any name) by ID on the target's endpoints; one list call per endpoint. Never throws. */
async function imagesById(target: TargetConfig, ids: Set<string>): Promise<ImageInfo[]> {
  const out: ImageInfo[] = [];
  let endpoints;
  try {
    endpoints = resolveDockerEndpoints({ targetEndpoints: target.endpoints });
  } catch {
    return out;
  }
  await Promise.all(
    endpoints.map(async (ep) => {
      try {
        const docker = await connectDocker(ep, 10_000);
        for (const img of await docker.listImages()) {
          if (!ids.has(img.Id)) continue;
          out.push(imageInfoOf(img, ep.host, target.revisionLabels));
        }
      } catch {
        /* that engine's extra images stay unknown; the rest of the history still shows */
      }
    }),
  );
  return out;
}

function imageRevision(img: ImageInfo, recs: LedgerRecord[], reflog: ReflogEntry[] | null): Omit<ImageRevision, 'known'> {
  const lab = img.revision;
  if (lab.kind === 'sha') {
    return { sha: lab.sha, dirty: lab.dirty, source: 'label', consistentWith: null, label: lab.raw, labelState: 'labeled', confidence: null, notes: lab.dirty ? ['built with uncommitted changes (dirty)'] : [] };
  }
  const label = lab.kind === 'garbage' ? lab.raw : null;
  const labelState = lab.kind === 'garbage' ? 'garbage' : 'unlabeled';
  const garbageNote = lab.kind === 'garbage' ? [`its ${lab.label} label is not a commit: ${lab.reason}`] : [];
  const build = recs.filter((r) => r.kind === 'build' && r.revision).pop() ?? recs.filter((r) => r.revision).pop();
  if (build?.revision) {
    return { ...ledgerRevision(build), label, labelState, notes: [...garbageNote, ...ledgerRevision(build).notes] };
  }
  const guess = headAt(reflog, Date.parse(img.created));
  if (!guess.known) {
    return { sha: null, dirty: false, source: 'none', consistentWith: null, label, labelState, confidence: null, notes: [...garbageNote, `no revision label, no ledger record, and no baked file that tells; ${guess.reason}`] };
  }
  return { sha: guess.sha, dirty: false, source: 'inferred', consistentWith: null, label, labelState, confidence: guess.confidence, notes: [...garbageNote, ...guess.notes] };
}

function contentRevision(base: Omit<ImageRevision, 'known'>, v: Verification): Omit<ImageRevision, 'known'> {
  const iv = v.consistentWith!;
  const notes = [`derived from its content: ${v.matched} of ${v.checked} baked files are the blobs of ${iv.oldest.slice(0, 12)}..${iv.newest.slice(0, 12)} (it was built from one of those commits)`];
  if (v.uncertain?.count) notes.push(`${v.uncertain.count} commit(s) in that stretch change inputs whose bytes cannot be read back: maybe in it, maybe not`);
  const garbage = base.labelState === 'garbage' ? base.notes.filter((n) => n.startsWith('its ')) : [];
  return { sha: iv.newest, dirty: false, source: 'content', consistentWith: { ...iv }, label: base.label, labelState: base.labelState, confidence: null, notes: [...garbage, ...notes] };
}

function ledgerRevision(r: LedgerRecord): Omit<ImageRevision, 'known'> {
  return {
    sha: r.revision,
    dirty: r.dirty,
    source: r.revision ? 'ledger' : 'none',
    consistentWith: null,
    label: null,
    labelState: 'unlabeled',
    confidence: null,
    notes: [`from the build ledger (${r.kind} ${r.id})${r.dirty ? '; built with uncommitted changes (dirty)' : ''}`],
  };
}

/** The newest build record per image ID (file order is time order). */
function newestBuildPerImage(records: LedgerRecord[]): LedgerRecord[] {
  const m = new Map<string, LedgerRecord>();
  for (const r of records) if (r.kind === 'build' && r.imageId) m.set(r.imageId, r);
  return [...m.values()];
}

function ledgerFacts(recs: LedgerRecord[]): ImageLedgerFacts {
  return {
    builds: recs.filter((r) => r.kind === 'build').map((r) => ({ id: r.id, result: r.result, startedAt: r.startedAt, endedAt: r.endedAt, mode: r.mode })),
    smokes: recs
      .filter((r) => r.smoke && r.kind !== 'mark')
      .map((r) => ({ id: r.id, result: r.smoke!.result, reason: r.smoke!.reason, startedAt: r.startedAt, endedAt: r.endedAt })),
    marks: recs.filter((r) => r.kind === 'mark').map((r) => ({ id: r.id, verdict: r.verdict ?? null, at: r.endedAt })),
  };
}

/** The newest good/bad evidence about an image: a mark, or a smoke test that passed or failed. */
export function verdictOf(recs: LedgerRecord[]): { verdict: Verdict; from: 'mark' | 'smoke'; at: string } | null {
  let best: { verdict: Verdict; from: 'mark' | 'smoke'; at: string } | null = null;
  for (const r of recs) {
    let v: { verdict: Verdict; from: 'mark' | 'smoke'; at: string } | null = null;
    if (r.kind === 'mark' && r.verdict) v = { verdict: r.verdict, from: 'mark', at: r.endedAt };
    else if (r.kind !== 'mark' && r.smoke && r.smoke.result !== 'cancelled') v = { verdict: r.smoke.result === 'passed' ? 'good' : 'bad', from: 'smoke', at: r.endedAt };
    if (v && (!best || v.at >= best.at)) best = v;
  }
  return best;
}

/**
 * A revision that may be relied on: from a label, the ledger, or the image's own bytes (the newest
 * commit they fit; see `consistentWith`), and in this clone.
 */
export function factRevision(e: ImageHistoryEntry): string | null {
  return (e.revision.source === 'label' || e.revision.source === 'ledger' || e.revision.source === 'content') && e.revision.known ? e.revision.sha : null;
}
