// The drift model: a pure function from observed facts (HEAD, the newest built image, the
// running containers, and git's answers about the ranges between them) to one snapshot.
import { DISCOVERY_RULE_WORDS, type TargetDiscovery } from '../config';
import type { CommitSummary, ContainerInfo, ImageInfo, LabelRevision, UnreachableEndpoint } from '../types';
import { describeVersion, type Verification } from './verification';

export type DriftState =
  | 'in-sync'
  | 'drift-irrelevant'
  | 'drift'
  | 'uncommitted'
  | 'diverged'
  | 'unknown-revision'
  | 'unlabeled'
  | 'contradicts-label'
  | 'no-image'
  | 'no-container'
  | 'docker-unreachable';

/** What git said about one revision read from a label, relative to HEAD. */
export interface RevisionFacts {
  /** Full SHA when known locally. */
  sha: string | null;
  label: LabelRevision;
  /** Commits in rev..HEAD (not in the image). */
  ahead: number;
  /** Commits in HEAD..rev (in the image, not in HEAD): non-zero means diverged. */
  behind: number;
  /** Relevant commits in rev..HEAD: count, newest few with files, and the oldest one's date. */
  relevantCount: number;
  relevant: CommitSummary[];
  oldestRelevantDate: string | null;
}

export interface DriftInputs {
  now: Date;
  target: { name: string; image: string; dockerfile: string | null; discovery?: TargetDiscovery | null };
  head: { sha: string; branch: string | null; detached: boolean };
  /** Uncommitted changes to image inputs. */
  uncommitted: string[];
  docker: { reachable: true; unreachable?: UnreachableEndpoint[] } | { reachable: false; reason: string; hint: string };
  /** Newest image of the target, or null. */
  built: ImageInfo | null;
  builtFacts: RevisionFacts | null;
  running: ContainerInfo[];
  /** Facts for each running container, same order. */
  runningFacts: RevisionFacts[];
  shallow: boolean;
  partial: boolean;
  /** What the bytes of the built image say (null: not verified). */
  builtVerification?: Verification | null;
  /** The same per running container, same order. */
  runningVerification?: (Verification | null)[];
  /** The target names a deploy step (`deploy.mode` other than none): `provenance deploy` runs it. */
  deployStep?: boolean;
}

export interface RevisionView {
  revision: string | null;
  dirty: boolean;
  /** The label's raw value, when present. */
  label: string | null;
  labelState: 'labeled' | 'unlabeled' | 'garbage' | 'unknown';
  /** Where `revision` comes from: the label, or the bytes baked into the image (null: unknown). */
  revisionSource: 'label' | 'content' | null;
  /** What the bytes say (null: not verified, e.g. no image). */
  verification: Verification | null;
}

/**
 * The revision the bytes stand for, when they decide it: an image without a usable label whose
 * bytes fit an interval (its newest commit), or a label its bytes contradict (the content's
 * newest commit, when the bytes fit one). Null: the label decides, or nothing does.
 */
export function contentRevision(label: LabelRevision, v: Verification | null | undefined): string | null {
  if (!v) return null;
  if (label.kind !== 'sha') return v.state === 'consistent' ? v.against : null;
  return v.state === 'contradicts-label' && v.consistentWith ? v.consistentWith.newest : null;
}

export interface DriftSnapshot {
  state: DriftState;
  /** One line for people: what is going on. */
  summary: string;
  /** What to do next, when something needs doing. */
  hint: string | null;
  target: { name: string; image: string; dockerfile: string | null; discovery?: TargetDiscovery | null };
  head: { sha: string; branch: string | null; detached: boolean; dirty: boolean };
  uncommitted: string[];
  built: (RevisionView & { imageId: string; tags: string[]; created: string }) | null;
  /** `via`: the Docker-in-Docker container whose daemon runs it (null: a direct endpoint). */
  running: (RevisionView & { containerId: string; name: string; imageId: string; started: string; via: string | null })[];
  /** HEAD versus what runs (or, with no container, what was built). */
  undeployed: {
    against: 'running' | 'built' | null;
    total: number;
    relevantCount: number;
    relevant: CommitSummary[];
    oldestRelevantDate: string | null;
    oldestRelevantAgeSeconds: number | null;
    /** Commits in the deployed revision that HEAD lacks (diverged history). */
    behind: number;
  };
  /** HEAD versus the newest built image. */
  unbuilt: { total: number; relevantCount: number } | null;
  /** `unreachable`: the target's endpoints that did not answer while another did (their containers are not counted). */
  docker: { reachable: boolean; reason: string | null; unreachable: UnreachableEndpoint[] };
}

function view(label: LabelRevision, facts: RevisionFacts | null, verification: Verification | null): RevisionView {
  const content = contentRevision(label, verification);
  const labelState = label.kind === 'none' ? 'unlabeled' : label.kind === 'garbage' ? 'garbage' : facts?.sha || content ? 'labeled' : 'unknown';
  const raw = label.kind === 'none' ? null : label.raw;
  if (content) return { revision: facts?.sha ?? content, dirty: false, label: raw, labelState, revisionSource: 'content', verification };
  if (label.kind !== 'sha') return { revision: null, dirty: false, label: raw, labelState, revisionSource: null, verification };
  return { revision: facts?.sha ?? label.sha, dirty: label.dirty, label: raw, labelState, revisionSource: 'label', verification };
}

/** The view the snapshot compares against: the newest running container, else the built image. */
export function deployedView(snap: DriftSnapshot): RevisionView | null {
  if (snap.undeployed.against === 'running') return [...snap.running].sort((a, b) => b.started.localeCompare(a.started))[0] ?? null;
  return snap.undeployed.against === 'built' ? snap.built : null;
}

function short(sha: string): string {
  return sha.slice(0, 7);
}

/** A configured target's image name may be wrong; a discovered one is a name zero-config chose, to build or to pin. */
function noImageHint(t: DriftInputs['target']): string {
  if (!t.discovery) return `Build it (e.g. docker build -t ${t.image} …) or check the target's "image" in .provenance.json.`;
  const file = t.dockerfile ?? 'Dockerfile';
  return (
    `Build it (provenance build, or docker build -t ${t.image} -f ${file} .). There is no .provenance.json: ${t.image} was found ${DISCOVERY_RULE_WORDS[t.discovery.rule]}; ` +
    `to build another image name or Dockerfile, pin the target with a .provenance.json such as {"targets":[{"image":"${t.image}","dockerfile":"${file}"}]} (in VS Code: Build Provenance: Configure Target…).`
  );
}

export function computeDrift(i: DriftInputs): DriftSnapshot {
  const built = i.built
    ? { ...view(i.built.revision, i.builtFacts, i.builtVerification ?? null), imageId: i.built.id, tags: i.built.tags, created: i.built.created }
    : null;
  const running = i.running.map((c, k) => ({
    ...view(c.revision, i.runningFacts[k] ?? null, i.runningVerification?.[k] ?? null),
    containerId: c.id,
    name: c.name,
    imageId: c.imageId,
    started: c.started,
    via: c.via ?? null,
  }));
  // The deployed reference is the most recently started running container; with none, the build.
  let refIdx = -1;
  for (let k = 0; k < i.running.length; k++) {
    if (refIdx < 0 || i.running[k].started > i.running[refIdx].started) refIdx = k;
  }
  const refFacts = refIdx >= 0 ? (i.runningFacts[refIdx] ?? null) : i.builtFacts;
  const refLabel = refIdx >= 0 ? i.running[refIdx].revision : (i.built?.revision ?? { kind: 'none' as const });
  const against = refIdx >= 0 ? 'running' : i.built ? 'built' : null;
  const usable = refFacts && refFacts.sha ? refFacts : null;
  const oldest = usable?.oldestRelevantDate ?? null;
  const undeployed = {
    against: against as 'running' | 'built' | null,
    total: usable?.ahead ?? 0,
    relevantCount: usable?.relevantCount ?? 0,
    relevant: usable?.relevant ?? [],
    oldestRelevantDate: oldest,
    oldestRelevantAgeSeconds: oldest ? Math.max(0, Math.round((i.now.getTime() - Date.parse(oldest)) / 1000)) : null,
    behind: usable?.behind ?? 0,
  };
  const unbuilt = i.builtFacts?.sha ? { total: i.builtFacts.ahead, relevantCount: i.builtFacts.relevantCount } : null;

  const base = {
    target: i.target,
    head: { ...i.head, dirty: i.uncommitted.length > 0 },
    uncommitted: i.uncommitted,
    built,
    running,
    undeployed,
    unbuilt,
    docker: { reachable: i.docker.reachable, reason: i.docker.reachable ? null : i.docker.reason, unreachable: i.docker.reachable ? (i.docker.unreachable ?? []) : [] },
  };
  const out = (state: DriftState, summary: string, hint: string | null): DriftSnapshot => ({ state, summary, hint, ...base });
  const img = i.target.image;

  if (!i.docker.reachable) return out('docker-unreachable', `Docker unreachable: ${i.docker.reason}`, i.docker.hint);
  if (!i.built && i.running.length === 0) {
    return out('no-image', `No local image matches ${img}.`, noImageHint(i.target));
  }
  const what = against === 'running' ? `running container ${i.running[refIdx].name}` : `newest image ${built?.tags[0] ?? built?.imageId.slice(7, 19)}`;
  const refView = refIdx >= 0 ? running[refIdx] : built;
  const v = refView?.verification ?? null;
  const byContent = refView?.revisionSource === 'content' && usable !== null;
  const unverified = v?.state === 'unverifiable' && v.reason ? ` Its bytes could not tell either: ${v.reason}` : '';
  if (refLabel.kind === 'none' && !byContent) {
    return out(
      'unlabeled',
      `The ${what} has no revision label, so what it contains is unknown.${unverified}`,
      'Label images when you build them: docker build --label org.opencontainers.image.revision=$(git rev-parse HEAD) …, or set BUILDX_GIT_LABELS=full with buildx.',
    );
  }
  if (refLabel.kind === 'garbage' && !byContent) {
    return out(
      'unlabeled',
      `The ${what} has a revision label that is not a git commit (${refLabel.label}=${JSON.stringify(refLabel.raw.slice(0, 80))}): ${refLabel.reason}${unverified}`,
      `Fix the build so ${refLabel.label} holds the commit SHA: --label ${refLabel.label}=$(git rev-parse HEAD).`,
    );
  }
  if (!usable) {
    const sha = refLabel.kind === 'sha' ? refLabel.sha : '';
    const hint = i.shallow
      ? `This is a shallow clone. Fetch more history: git fetch --unshallow (or git fetch origin ${sha}).`
      : `Fetch it: git fetch --all (or git fetch origin ${sha}). It may come from a branch or fork you do not have.`;
    return out('unknown-revision', `The ${what} was built from ${short(sha)}, which is not in this clone.`, hint);
  }
  // What the bytes add to a message: where the revision came from, and what they cannot tell.
  const n = usable.relevantCount;
  const plural = (k: number, one: string, many: string) => (k === 1 ? one : many);
  const source = byContent && v ? ` Revision ${short(usable.sha!)} is derived from its content: ${v.matched} baked file${plural(v.matched, '', 's')} match${plural(v.matched, 'es', '')} it.` : '';
  const uncertainCount = byContent ? (v?.uncertain?.count ?? 0) : 0;
  const uncertain = uncertainCount > 0 ? ` ${uncertainCount} earlier commit${plural(uncertainCount, '', 's')} change${plural(uncertainCount, 's', '')} only inputs whose bytes cannot be read back: maybe in it, maybe not.` : '';
  const note = source + uncertain;
  if (v?.state === 'contradicts-label' && refLabel.kind === 'sha') {
    const other = v.files.filter((f) => f.verdict === 'other-version');
    const files = other.slice(0, 3).map((f) => `${f.path} is ${describeVersion(f)}`).join('; ') + (other.length > 3 ? ` (and ${other.length - 3} more)` : '');
    const truth = byContent
      ? ` By its content it is built from ${short(usable.sha!)} or earlier${n > 0 ? `: ${n} undeployed commit${plural(n, '', 's')} change${plural(n, 's', '')} files baked into ${img}` : ''}.`
      : '';
    return out(
      'contradicts-label',
      `The ${what} is labelled ${short(refLabel.sha)}, but its bytes contradict the label: ${files}.${truth}`,
      'It was not built from that commit (a cached layer, a dirty work tree, a retag). Rebuild from HEAD and label it with that commit: provenance build (or Build + Smoke Test).',
    );
  }
  if (usable.behind > 0) {
    return out(
      'diverged',
      `The ${what} was built from ${short(usable.sha!)}, which is not an ancestor of HEAD: ${usable.behind} commit(s) only in the image, ${usable.ahead} only in HEAD (${usable.relevantCount} touch image inputs).`,
      'It was built from another branch or rewritten history. Rebuild from HEAD to deploy what you have.',
    );
  }
  if (against === 'built') {
    const extra = usable.relevantCount > 0 ? ` ${usable.relevantCount} commit(s) since the build change files baked into ${img}.` : '';
    return out('no-container', `No running container uses ${img}.${extra}${note}`, `Start one from the newest image to run what was built.`);
  }
  if (usable.relevantCount > 0) {
    // The newest image already holds every relevant commit: what is left is running it.
    const builtHasThem = i.builtFacts?.sha && i.builtFacts.relevantCount === 0 && !built?.dirty;
    const newest = built?.tags[0] ?? built?.imageId.slice(7, 19) ?? '';
    const hint = !builtHasThem
      ? 'Build + smoke test, then run the new image.'
      : i.deployStep
        ? `The newest image ${newest} has these changes: run it with provenance deploy (in the editor: Run the New Image).`
        : `The newest image ${newest} has these changes: run it in place of the running container, or add a "deploy" step to .provenance.json ("mode": "replace-container") and run provenance deploy.`;
    return out(
      'drift',
      `${n} undeployed commit${n === 1 ? '' : 's'} change${n === 1 ? 's' : ''} files baked into ${img} (${usable.ahead} commit(s) behind HEAD).${note}`,
      hint,
    );
  }
  if (i.uncommitted.length > 0) {
    return out(
      'uncommitted',
      `${i.uncommitted.length} uncommitted change(s) to files baked into ${img}.${note}`,
      'Commit them, then build + smoke test.',
    );
  }
  if (usable.ahead > 0) {
    return out('drift-irrelevant', `${usable.ahead} commit(s) behind HEAD, none touching files baked into ${img}.${note}`, null);
  }
  if (byContent) return out('in-sync', `The running ${img} holds HEAD's content (${short(i.head.sha)}).${note}`, null);
  return out('in-sync', `The running ${img} is built from HEAD (${short(i.head.sha)}).`, null);
}

/**
 * What `provenance check` exits with for one snapshot (README: "Exit codes"): 0 nothing relevant
 * is missing from what runs, 1 relevant drift (undeployed input changes, uncommitted input
 * changes, a diverged deployment, bytes that contradict the label), 2 it cannot tell (Docker unreachable, no image, an
 * unlabeled image, an unknown revision) — unless uncommitted input changes already make it 1.
 */
export function checkExitCode(s: DriftSnapshot): 0 | 1 | 2 {
  switch (s.state) {
    case 'in-sync':
    case 'drift-irrelevant':
      return 0;
    case 'drift':
    case 'uncommitted':
    case 'diverged':
    // Bytes that contradict the label are a finding, like relevant drift.
    case 'contradicts-label':
      return 1;
    case 'no-container':
      return s.undeployed.relevantCount > 0 || s.uncommitted.length > 0 ? 1 : 0;
    case 'docker-unreachable':
    case 'no-image':
    case 'unlabeled':
    case 'unknown-revision':
      return s.uncommitted.length > 0 ? 1 : 2;
  }
}
