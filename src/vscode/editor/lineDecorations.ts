// Gutter warnings: in files that are inputs of a target image, the lines that differ from what
// runs (committed but not deployed, and uncommitted) get a gutter icon, an overview-ruler mark and
// a subtle line background. Computed when an editor shows a file, on save and after a model
// refresh, never on keystrokes: while typing, marks move with the text (as VS Code moves the
// decorations) and are recomputed on save.
import { promises as fs, statSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { shiftLines, type TrackedLine } from '../../core/status/editorMarks';
import { isAbortError } from '../../core/git/exec';
import { catFileBatch } from '../../core/git/queries';
import { fileLineChanges } from '../../core/git/lineChanges';
import type { ProvenanceModel, TargetState } from '../provenanceModel';

export type MarkKind = 'committed' | 'uncommitted';

export interface MarkedLine {
  kind: MarkKind;
  /** 1-based line in the file on disk when the marks were computed. */
  disk: number;
  /** Changes whenever the marks are recomputed (deployed revisions, HEAD, file on disk). */
  stamp: string;
}

interface Entry {
  /** Deployed revisions, HEAD, mtime and size of the file, restricted mode. */
  stamp: string;
  committed: TrackedLine[];
  uncommitted: TrackedLine[];
  /** Edits since the marks were computed: they are as of the last save. */
  edited: boolean;
  /** Why nothing is marked although the file is an input with a known deployed revision. */
  unmarked?: string;
}

/** Repo-relative POSIX path of a file under `root`, or null when outside. */
export function repoRelative(root: string, fsPath: string): string | null {
  const rel = path.relative(root, fsPath);
  if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) return null;
  return rel.split(path.sep).join('/');
}

export class LineDecorations implements vscode.Disposable {
  private readonly _onDidChangeMarks = new vscode.EventEmitter<vscode.Uri>();
  /** Marks of a file were recomputed (not fired for edits that only move them). */
  readonly onDidChangeMarks = this._onDidChangeMarks.event;

  private readonly committedType: vscode.TextEditorDecorationType;
  private readonly uncommittedType: vscode.TextEditorDecorationType;
  private readonly entries = new Map<string, Entry>();
  private readonly timings = new Map<string, number>();
  private readonly inflight = new Map<string, { ctl: AbortController; done: Promise<void> }>();
  private readonly disposables: vscode.Disposable[] = [this._onDidChangeMarks];

  constructor(
    private readonly model: ProvenanceModel,
    extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
  ) {
    const type = (kind: 'undeployed' | 'uncommitted') =>
      vscode.window.createTextEditorDecorationType({
        isWholeLine: true,
        backgroundColor: new vscode.ThemeColor(`buildProvenance.${kind}LineBackground`),
        overviewRulerColor: new vscode.ThemeColor(`buildProvenance.${kind}Ruler`),
        overviewRulerLane: vscode.OverviewRulerLane.Left,
        gutterIconPath: vscode.Uri.joinPath(extensionUri, 'media', `gutter-${kind}.svg`),
        gutterIconSize: 'contain',
        // Edits at a line's edges do not stretch the mark over new lines (see shiftLines).
        rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
      });
    this.committedType = type('undeployed');
    this.uncommittedType = type('uncommitted');
    this.disposables.push(
      this.committedType,
      this.uncommittedType,
      vscode.window.onDidChangeVisibleTextEditors((editors) => this.updateEditors(editors)),
      vscode.workspace.onDidSaveTextDocument((doc) => this.updateDocument(doc)),
      vscode.workspace.onDidChangeTextDocument((e) => this.followEdits(e)),
      vscode.workspace.onDidCloseTextDocument((doc) => this.forget(doc.uri)),
      model.onDidChange(() => this.updateEditors(vscode.window.visibleTextEditors)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('buildProvenance.gutter.enabled')) this.updateEditors(vscode.window.visibleTextEditors);
      }),
    );
    this.updateEditors(vscode.window.visibleTextEditors);
  }

  /** For tests: the marked lines of a file as shown now (1-based). */
  decoratedLines(uri: vscode.Uri): { committed: number[]; uncommitted: number[] } {
    const e = this.entries.get(uri.toString());
    return { committed: e?.committed.map((l) => l.line) ?? [], uncommitted: e?.uncommitted.map((l) => l.line) ?? [] };
  }

  /** The mark on a 1-based editor line, if any (hover and annotation). */
  markAt(uri: vscode.Uri, line: number): MarkedLine | undefined {
    const e = this.entries.get(uri.toString());
    if (!e) return undefined;
    const u = e.uncommitted.find((l) => l.line === line);
    if (u) return { kind: 'uncommitted', disk: u.disk, stamp: e.stamp };
    const c = e.committed.find((l) => l.line === line);
    if (c) return { kind: 'committed', disk: c.disk, stamp: e.stamp };
    return undefined;
  }

  /** Why an input file carries no marks although what runs is known (for the CodeLens). */
  unmarkedReason(uri: vscode.Uri): string | undefined {
    return this.entries.get(uri.toString())?.unmarked;
  }

  /** True when the marks of a file were computed before unsaved edits. */
  editedSinceMarked(uri: vscode.Uri): boolean {
    return this.entries.get(uri.toString())?.edited ?? false;
  }

  /** Drops cached marks, so the next look recomputes (the Refresh command; benchmarks). */
  invalidate(): void {
    for (const e of this.entries.values()) e.stamp = '';
  }

  /** How long the last computation of a file's marks took, from trigger to marks set (ms). */
  lastComputeMs(uri: vscode.Uri): number | undefined {
    return this.timings.get(uri.toString());
  }

  /** Resolves when no computation is in flight (tests; the benchmark). */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight.values()].map((f) => f.done));
  }

  private enabled(uri: vscode.Uri): boolean {
    return vscode.workspace.getConfiguration('buildProvenance', uri).get<boolean>('gutter.enabled', true);
  }

  private updateEditors(editors: readonly vscode.TextEditor[]): void {
    const docs = new Set<vscode.TextDocument>();
    for (const ed of editors) docs.add(ed.document);
    for (const doc of docs) this.updateDocument(doc);
  }

  private updateDocument(doc: vscode.TextDocument): void {
    if (doc.uri.scheme !== 'file') return;
    const done = this.compute(doc).catch((err) => {
      if (!isAbortError(err)) this.log.error(`gutter marks for ${doc.uri.fsPath}: ${err instanceof Error ? err.message : String(err)}`);
    });
    void done;
  }

  private async compute(doc: vscode.TextDocument): Promise<void> {
    const t0 = performance.now();
    const uri = doc.uri;
    const key = uri.toString();
    const targets = this.enabled(uri) ? this.model.inputsOf(uri) : [];
    const revs = deployedRevisions(this.model, targets.map((t) => t.state), uri.fsPath);
    if (revs.length === 0) {
      this.set(uri, undefined);
      return;
    }
    const existing = this.entries.get(key);
    // Marks of a file with unsaved edits already follow the edits; the disk no longer matches.
    if (existing && doc.isDirty && existing.edited) {
      this.render(uri);
      return;
    }
    let stat: { mtimeMs: number; size: number };
    try {
      // Synchronous on purpose: a stat is microseconds, and an await here costs a turn of the
      // extension host's event loop, which is busy right after an editor opens.
      stat = statSync(uri.fsPath);
    } catch {
      this.set(uri, undefined); // deleted or unreadable: nothing on disk to compare
      return;
    }
    const includeUncommitted = !this.model.restricted;
    const stamp = JSON.stringify([revs.map((r) => [r.root, r.rev, r.head]), stat.mtimeMs, stat.size, includeUncommitted]);
    if (existing?.stamp === stamp) {
      this.render(uri);
      return;
    }
    const running = this.inflight.get(key);
    running?.ctl.abort();
    const ctl = new AbortController();
    const versionAtStart = doc.version;
    const work = (async () => {
      // Restricted Mode diffs commits only (a work-tree diff may run the repository's filters), so
      // the marks are HEAD's line numbers: valid only while the file on disk equals HEAD's.
      if (!includeUncommitted && !(await sameAsHead(revs[0], uri.fsPath, ctl.signal))) {
        if (!ctl.signal.aborted) this.set(uri, { stamp, committed: [], uncommitted: [], edited: false, unmarked: 'Restricted Mode, and the file differs from HEAD' });
        return;
      }
      // A file the last status saw as unchanged since HEAD (and not touched since) needs one diff.
      const knownClean = (r: DeployedRevision) => (!doc.isDirty && r.cleanAsOf !== undefined && r.cleanAsOf > stat.mtimeMs ? { head: r.head } : undefined);
      const results = await Promise.all(
        revs.map((r) => fileLineChanges(r.root, r.rel, r.rev, { includeUncommitted, knownClean: knownClean(r), signal: ctl.signal })),
      );
      if (ctl.signal.aborted) return;
      // Typed into while git ran: the disk's line numbers no longer fit the buffer. Keep what is
      // shown; the next save recomputes.
      if (doc.version !== versionAtStart && doc.isDirty) return;
      const committed = new Set<number>();
      const uncommitted = new Set<number>();
      for (const r of results) {
        for (const l of r.committed) committed.add(l);
        for (const l of r.uncommitted) uncommitted.add(l);
      }
      for (const l of uncommitted) committed.delete(l);
      const track = (s: Set<number>) => [...s].sort((a, b) => a - b).map((l) => ({ line: l, disk: l }));
      this.set(uri, { stamp, committed: track(committed), uncommitted: track(uncommitted), edited: false });
      this.timings.set(key, performance.now() - t0);
    })();
    const entry = { ctl, done: work.catch(() => undefined) };
    this.inflight.set(key, entry);
    try {
      await work;
    } finally {
      if (this.inflight.get(key) === entry) this.inflight.delete(key);
    }
  }

  private set(uri: vscode.Uri, entry: Entry | undefined): void {
    const key = uri.toString();
    const before = this.entries.get(key);
    if (!entry && !before) {
      this.render(uri); // clears marks a disabled setting or a lost target left behind
      return;
    }
    if (entry) this.entries.set(key, entry);
    else this.entries.delete(key);
    this.render(uri);
    this._onDidChangeMarks.fire(uri);
  }

  private render(uri: vscode.Uri): void {
    const e = this.entries.get(uri.toString());
    for (const ed of vscode.window.visibleTextEditors) {
      if (ed.document.uri.toString() !== uri.toString()) continue;
      const ranges = (lines: TrackedLine[] | undefined) =>
        (lines ?? []).filter((l) => l.line <= ed.document.lineCount).map((l) => ed.document.lineAt(l.line - 1).range);
      ed.setDecorations(this.committedType, ranges(e?.committed));
      ed.setDecorations(this.uncommittedType, ranges(e?.uncommitted));
    }
  }

  /** Keystrokes: move the marks with the text, as the editor moves them. No git. */
  private followEdits(ev: vscode.TextDocumentChangeEvent): void {
    const e = this.entries.get(ev.document.uri.toString());
    if (!e || ev.contentChanges.length === 0) return;
    for (const c of ev.contentChanges) {
      const edit = { start: c.range.start, end: c.range.end, insertedLines: countLineBreaks(c.text) };
      e.committed = shiftLines(e.committed, edit);
      e.uncommitted = shiftLines(e.uncommitted, edit);
    }
    // Undo back to the saved text: the marks fit the disk again.
    e.edited = ev.document.isDirty;
  }

  private forget(uri: vscode.Uri): void {
    const key = uri.toString();
    this.inflight.get(key)?.ctl.abort();
    this.entries.delete(key);
  }

  dispose(): void {
    for (const f of this.inflight.values()) f.ctl.abort();
    this.inflight.clear();
    for (const d of this.disposables) d.dispose();
  }
}

interface DeployedRevision {
  root: string;
  /** Repo-relative path of the file. */
  rel: string;
  rev: string;
  head: string;
  /** The last status (newer than the file) found no uncommitted change to it. */
  cleanAsOf?: number;
}

/** One (repo, deployed revision) per distinct pair among the targets a file goes into. */
function deployedRevisions(model: ProvenanceModel, states: TargetState[], fsPath: string): DeployedRevision[] {
  const out: DeployedRevision[] = [];
  for (const s of states) {
    const rev = model.deployedRevision(s);
    const rel = repoRelative(s.repo.root, fsPath);
    if (!rev || !rel || !s.status) continue;
    if (out.some((x) => x.root === s.repo.root && x.rev === rev)) continue;
    const clean = !s.status.snapshot.uncommitted.includes(rel);
    out.push({ root: s.repo.root, rel, rev, head: s.status.snapshot.head.sha, cleanAsOf: clean ? s.refreshedAt : undefined });
  }
  return out;
}

async function sameAsHead(r: DeployedRevision, fsPath: string, signal: AbortSignal): Promise<boolean> {
  const [[blob], disk] = await Promise.all([catFileBatch(r.root, [`${r.head}:${r.rel}`], signal), fs.readFile(fsPath)]);
  return !!blob && blob.content.equals(disk);
}

function countLineBreaks(s: string): number {
  let n = 0;
  for (let k = s.indexOf('\n'); k >= 0; k = s.indexOf('\n', k + 1)) n++;
  return n;
}
