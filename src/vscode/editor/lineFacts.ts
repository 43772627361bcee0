// On-demand facts about one marked line, shared by the hover and the end-of-line annotation:
// which commit introduced it (blame for that line only), and whether that commit is in the newest
// image and in what runs. Cached per line and marks stamp (deployed revisions, HEAD, file on
// disk), so moving back and forth never runs git twice for the same question.
import * as vscode from 'vscode';
import { AncestryCache } from '../../core/git/ancestry';
import type { LineVerdict } from '../../core/status/editorMarks';
import { deployedView, type DriftSnapshot, type RevisionView } from '../../core/status/driftModel';
import { fileHoldingWords, type Verdict } from '../../core/status/verification';
import { blameLine, type LineBlame } from '../../core/git/lineChanges';
import { repoRelative, type LineDecorations, type MarkedLine } from './lineDecorations';
import type { ProvenanceModel, TargetState } from '../provenanceModel';

export interface TargetLineFacts {
  state: TargetState;
  verdict: LineVerdict;
  /** The newest image's tag (or short id) and revision, when known (`byContent`: derived from its bytes). */
  builtAs: { ref: string; revision: string | null; byContent: boolean } | null;
  /** Running containers and their revisions. */
  runningAs: { name: string; revision: string | null; contains: boolean | null; byContent: boolean }[];
  /** What the deployed container (or image) holds of this file, read from its bytes; null when not verifiable. */
  bytes: { where: string; words: string; verdict: Verdict } | null;
}

export interface LineFacts {
  mark: MarkedLine;
  /** 1-based editor line. */
  line: number;
  /** Null for uncommitted lines, or when blame had no answer. */
  blame: LineBlame | null;
  /** When the change was committed (committer date when the snapshot lists the commit). */
  date: string | null;
  targets: TargetLineFacts[];
}

const MAX_BLAMES = 500;

export class LineFactsService {
  private readonly blames = new Map<string, Promise<LineBlame | null>>();
  private readonly ancestry = new AncestryCache();

  constructor(
    private readonly model: ProvenanceModel,
    private readonly decorations: LineDecorations,
  ) {}

  /** Only what needs no git: is the line marked, and is a cached blame there already? */
  peek(uri: vscode.Uri, line: number): { mark: MarkedLine; cached: boolean } | undefined {
    const mark = this.decorations.markAt(uri, line);
    if (!mark) return undefined;
    return { mark, cached: mark.kind === 'uncommitted' || this.blames.has(this.blameKey(uri, mark)) };
  }

  /** Facts for a 1-based editor line; undefined when the line is not marked. */
  async factsAt(uri: vscode.Uri, line: number, signal?: AbortSignal): Promise<LineFacts | undefined> {
    const mark = this.decorations.markAt(uri, line);
    if (!mark) return undefined;
    const inputs = this.model.inputsOf(uri);
    const root = inputs[0]?.state.repo.root;
    const rel = root ? repoRelative(root, uri.fsPath) : null;
    if (!root || !rel) return undefined;
    // Restricted Mode marks HEAD's lines (checked equal to the file on disk): blame HEAD.
    const head = this.model.restricted ? inputs[0].state.status?.snapshot.head.sha : undefined;
    const blame = mark.kind === 'committed' ? await this.blame(uri, { root, rel, head }, mark) : null;
    if (blame?.uncommitted) {
      return { mark: { ...mark, kind: 'uncommitted' }, line, blame: null, date: null, targets: inputs.map(({ state }) => uncommittedFacts(state, rel)) };
    }
    if (!blame) return { mark, line, blame: null, date: null, targets: [] };
    const targets = await Promise.all(inputs.map(({ state }) => this.targetFacts(state, blame.sha, rel, signal)));
    const listed = inputs.flatMap(({ state }) => state.status?.snapshot.undeployed.relevant ?? []).find((c) => c.sha === blame.sha);
    return { mark, line, blame, date: listed?.date ?? (blame.date || null), targets };
  }

  private blameKey(uri: vscode.Uri, mark: MarkedLine): string {
    return `${mark.stamp}\0${uri.toString()}\0${mark.disk}`;
  }

  private blame(uri: vscode.Uri, file: { root: string; rel: string; head?: string }, mark: MarkedLine): Promise<LineBlame | null> {
    const key = this.blameKey(uri, mark);
    let p = this.blames.get(key);
    if (!p) {
      if (this.blames.size >= MAX_BLAMES) this.blames.clear();
      // Not cancelled with the hover: the answer is kept for the next one.
      p = blameLine(file.root, file.rel, mark.disk, undefined, file.head ?? undefined);
      p.catch(() => this.blames.delete(key));
      this.blames.set(key, p);
    }
    return p;
  }

  private async targetFacts(state: TargetState, sha: string, rel: string, signal?: AbortSignal): Promise<TargetLineFacts> {
    const snap = state.status?.snapshot;
    const root = state.repo.root;
    // A revision is a fact when a label this clone has names it, or the bytes decided it.
    const known = (r: RevisionView) => !!r.revision && (r.revisionSource === 'content' || r.labelState === 'labeled');
    const contains = async (r: RevisionView): Promise<boolean | null> => (known(r) ? this.ancestry.isAncestor(root, sha, r.revision!, signal) : null);
    const built = snap?.built ?? null;
    const builtIn = built ? await contains(built) : null;
    const runningAs = await Promise.all(
      (snap?.running ?? []).map(async (r) => ({ name: r.name, revision: r.revision, contains: await contains(r), byContent: r.revisionSource === 'content' })),
    );
    const running = runningAs.length === 0 ? null : runningAs.some((r) => r.contains === true) ? true : runningAs.every((r) => r.contains === false) ? false : null;
    return {
      state,
      verdict: { built: builtIn, running },
      builtAs: built ? { ref: built.tags[0] ?? built.imageId.slice(7, 19), revision: built.revision, byContent: built.revisionSource === 'content' } : null,
      runningAs,
      bytes: snap ? bytesOf(snap, rel) : null,
    };
  }
}

/** What the deployed container (or, with none, the newest image) holds of `rel`, from the snapshot's verification. */
function bytesOf(snap: DriftSnapshot, rel: string): TargetLineFacts['bytes'] {
  const ref = deployedView(snap);
  const v = ref?.verification;
  if (!ref || !v) return null;
  const held = fileHoldingWords(v, rel);
  if (!held) return null;
  const running = snap.undeployed.against === 'running' ? snap.running.find((r) => r === ref) : undefined;
  const where = running ? `the running container ${running.name}` : 'the newest image';
  return { where, words: held.words, verdict: held.verdict.verdict };
}

function uncommittedFacts(state: TargetState, rel: string): TargetLineFacts {
  const snap = state.status?.snapshot;
  return { state, verdict: { built: false, running: false }, builtAs: null, runningAs: [], bytes: snap ? bytesOf(snap, rel) : null };
}
