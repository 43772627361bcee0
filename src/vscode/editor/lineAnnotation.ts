// Optional end-of-line annotation on the current line of an image input file, e.g.
// "abc12345 · not built · waiting 31h" (setting buildProvenance.currentLineAnnotation, off by
// default). Blame is a git process: it runs only after the cursor rests (debounced) on a marked
// line, is cached per line and marks stamp, and never runs for selection changes caused by typing.
// Nothing is built until the setting is first on: no decoration type, no selection listener.
import * as vscode from 'vscode';
import { annotationText } from '../../core/status/editorMarks';
import { isAbortError } from '../../core/git/exec';
import type { LineDecorations } from './lineDecorations';
import type { LineFactsService } from './lineFacts';

const SETTING = 'buildProvenance.currentLineAnnotation';
const DEBOUNCE_MS = 300;

export class LineAnnotation implements vscode.Disposable {
  private type: vscode.TextEditorDecorationType | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  private ctl: AbortController | undefined;
  /** Document versions last seen per document: a selection change with a new version is typing. */
  private readonly versions = new WeakMap<vscode.TextDocument, number>();
  private shown: { editor: vscode.TextEditor; line: number; text: string } | undefined;

  constructor(
    /** Built on first use (shared with the hover). */
    private readonly facts: () => LineFactsService,
    private readonly decorations: LineDecorations,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration(SETTING)) return;
        if (!this.type && this.enabledAnywhere()) this.start();
        else this.schedule(vscode.window.activeTextEditor);
      }),
    );
    if (this.enabledAnywhere()) this.start();
  }

  /** The first use: the decoration type and the editor listeners. */
  private start(): void {
    this.type = vscode.window.createTextEditorDecorationType({
      after: { color: new vscode.ThemeColor('buildProvenance.annotationForeground'), margin: '0 0 0 3em' },
      rangeBehavior: vscode.DecorationRangeBehavior.ClosedOpen,
    });
    this.disposables.push(
      this.type,
      vscode.window.onDidChangeTextEditorSelection((e) => this.onSelection(e.textEditor)),
      vscode.window.onDidChangeActiveTextEditor((ed) => this.schedule(ed)),
      this.decorations.onDidChangeMarks((uri) => {
        const ed = vscode.window.activeTextEditor;
        if (ed && ed.document.uri.toString() === uri.toString()) this.schedule(ed);
      }),
    );
    this.schedule(vscode.window.activeTextEditor);
  }

  /** The setting is on for the window or for one of the folders (it is resource-scoped). */
  private enabledAnywhere(): boolean {
    const scopes = [undefined, ...(vscode.workspace.workspaceFolders ?? []).map((f) => f.uri)];
    return scopes.some((u) => vscode.workspace.getConfiguration('buildProvenance', u).get<boolean>(SETTING.slice('buildProvenance.'.length), false));
  }

  /** For tests: the annotation shown now, if any (1-based line). */
  current(): { uri: vscode.Uri; line: number; text: string } | undefined {
    return this.shown && { uri: this.shown.editor.document.uri, line: this.shown.line, text: this.shown.text };
  }

  private enabled(ed: vscode.TextEditor): boolean {
    return vscode.workspace.getConfiguration('buildProvenance', ed.document.uri).get<boolean>('currentLineAnnotation', false);
  }

  private onSelection(ed: vscode.TextEditor): void {
    const doc = ed.document;
    const seen = this.versions.get(doc);
    this.versions.set(doc, doc.version);
    if (seen !== undefined && seen !== doc.version) {
      // Typing moved the cursor: drop the annotation (its text is stale), start no git.
      this.clear();
      return;
    }
    this.schedule(ed);
  }

  private schedule(ed: vscode.TextEditor | undefined): void {
    clearTimeout(this.timer);
    this.ctl?.abort();
    if (!ed || ed.document.uri.scheme !== 'file' || !this.enabled(ed)) {
      this.clear();
      return;
    }
    this.versions.set(ed.document, ed.document.version);
    const line = ed.selection.active.line + 1;
    const peek = this.facts().peek(ed.document.uri, line);
    if (!peek) {
      this.clear();
      return;
    }
    if (this.shown && (this.shown.editor !== ed || this.shown.line !== line)) this.clear();
    // Cached answers show at once; a blame waits until the cursor rests.
    this.timer = setTimeout(() => void this.show(ed, line), peek.cached ? 0 : DEBOUNCE_MS);
  }

  private async show(ed: vscode.TextEditor, line: number): Promise<void> {
    const ctl = new AbortController();
    this.ctl = ctl;
    const version = ed.document.version;
    try {
      const f = await this.facts().factsAt(ed.document.uri, line, ctl.signal);
      if (ctl.signal.aborted || ed.document.version !== version || ed.selection.active.line + 1 !== line) return;
      if (!f || (f.mark.kind === 'committed' && !f.blame)) {
        this.clear();
        return;
      }
      const text =
        f.mark.kind === 'uncommitted' || !f.blame
          ? annotationText({ uncommitted: true })
          : annotationText({ uncommitted: false, sha: f.blame.sha, date: f.date, verdict: f.targets[0]?.verdict ?? { built: null, running: null } });
      this.clear();
      const end = ed.document.lineAt(line - 1).range.end;
      if (!this.type) return;
      ed.setDecorations(this.type, [{ range: new vscode.Range(end, end), renderOptions: { after: { contentText: text } } }]);
      this.shown = { editor: ed, line, text };
    } catch (err) {
      if (!isAbortError(err)) this.log.error(`line annotation: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private clear(): void {
    if (!this.shown || !this.type) return;
    this.shown.editor.setDecorations(this.type, []);
    this.shown = undefined;
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.ctl?.abort();
    for (const d of this.disposables) d.dispose();
  }
}
