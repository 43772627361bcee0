// Risky-pattern diagnostics in files baked into an image (Problems panel). Open documents are
// scanned on open, save and (debounced) change: pure regex, no git. Input files that are not
// open are listed once per HEAD/inputs change (one `git ls-files`) and read from disk.
// Read-only, so it runs in Restricted Mode, where only user-level rules apply.
import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isAbortError } from '../../core/git/exec';
import { filesMatching } from '../../core/git/historyQueries';
import { clean } from '../../core/humanize';
import { pathspecFilter, type ImageInputs } from '../../core/inputs/imageInputs';
import { RuleTurnedOffError, resolveRiskRules, scanForRisks, type RiskFinding, type RiskRule, type RiskSeverity } from '../../core/rules/riskRules';
import type { ProvenanceModel } from '../provenanceModel';

export const DIAGNOSTIC_SOURCE = 'Build Provenance';
const SETTING = 'buildProvenance.riskRules';
const CHANGE_DEBOUNCE_MS = 300;
const MAX_FILES = 2000;
const MAX_BYTES = 1024 * 1024;

const SEVERITY: Record<RiskSeverity, vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  information: vscode.DiagnosticSeverity.Information,
  hint: vscode.DiagnosticSeverity.Hint,
};

export class RiskDiagnostics implements vscode.Disposable {
  readonly collection = vscode.languages.createDiagnosticCollection('buildProvenance.risks');
  private readonly _onDidUpdate = new vscode.EventEmitter<vscode.Uri>();
  /** Fires after the diagnostics of a file were (re)computed. */
  readonly onDidUpdate = this._onDidUpdate.event;
  private readonly disposables: vscode.Disposable[] = [this.collection, this._onDidUpdate];
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private rules: RiskRule[] = [];
  private lastWarnings = '';
  /**
   * Per repository: the files its listing found (by URI string), the key it was listed for (HEAD
   * and the input pathspecs), and the listing in flight. A refresh of one folder re-lists only
   * that folder; the others' keys did not change.
   */
  private readonly listings = new Map<string, { key: string; files: Set<string>; ctl: AbortController }>();
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly model: ProvenanceModel,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      vscode.workspace.onDidOpenTextDocument((d) => this.scanDocument(d)),
      vscode.workspace.onDidSaveTextDocument((d) => this.scanDocument(d)),
      vscode.workspace.onDidChangeTextDocument((e) => this.scheduleScan(e.document)),
      vscode.workspace.onDidCloseTextDocument((d) => this.onClosed(d)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(SETTING)) this.reloadRules();
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.reloadRules()),
      model.onDidChange(() => this.rescanAll(false)),
    );
    // Compiling the rules and scanning the open files wait until activate() has returned; a
    // file opened before then is scanned by this first pass.
    setImmediate(() => {
      this.loadRules();
      this.rescanAll(false);
    });
  }

  /** Current rules (built-in plus the setting). */
  get activeRules(): readonly RiskRule[] {
    return this.rules;
  }

  /** Resolves when scans started so far are done (for tests). */
  idle(): Promise<void> {
    return this.pending;
  }

  /** Diagnostics of one file as last computed. */
  diagnosticsFor(uri: vscode.Uri): readonly vscode.Diagnostic[] {
    return this.collection.get(uri) ?? [];
  }

  private reloadRules(): void {
    this.loadRules();
    this.rescanAll(true);
  }

  private loadRules(): void {
    const cfg = vscode.workspace.getConfiguration();
    // In Restricted Mode the workspace's own rules (regexes it chose) are not used.
    const setting = vscode.workspace.isTrusted ? cfg.get<unknown>(SETTING) : cfg.inspect<unknown>(SETTING)?.globalValue;
    const { rules, warnings } = resolveRiskRules(setting);
    this.rules = rules;
    const text = warnings.join('\n');
    if (text && text !== this.lastWarnings) for (const w of warnings) this.log.warn(w);
    this.lastWarnings = text;
  }

  private scheduleScan(doc: vscode.TextDocument): void {
    if (doc.uri.scheme !== 'file') return; // output channels change all the time
    const key = doc.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.scanDocument(doc);
      }, CHANGE_DEBOUNCE_MS),
    );
  }

  private onClosed(doc: vscode.TextDocument): void {
    clearTimeout(this.timers.get(doc.uri.toString()));
    this.timers.delete(doc.uri.toString());
    // A listed input keeps its diagnostics (from disk); others leave the Problems panel.
    if ([...this.listings.values()].some((l) => l.files.has(doc.uri.toString()))) this.track(this.scanFile(doc.uri));
    else this.collection.delete(doc.uri);
  }

  private scanDocument(doc: vscode.TextDocument): void {
    try {
      this.apply(doc.uri, doc.getText());
    } catch (err) {
      this.log.error(`Risk diagnostics for ${doc.uri.fsPath}: ${String(err)}`);
    }
  }

  /** Sets (or clears) the diagnostics of a file from its text. */
  private apply(uri: vscode.Uri, text: string): void {
    const where = this.inputsOf(uri);
    if (!where) {
      if (this.collection.has(uri)) this.collection.delete(uri);
      return;
    }
    const findings = scanForRisks(text, where.rel, this.rules, {
      image: where.images,
      onRuleError: (rule, err) =>
        this.log.error(
          err instanceof RuleTurnedOffError
            ? `Risk rule "${rule.id}" is turned off: on ${where.rel}, ${err.message}`
            : `Risk rule "${rule.id}" failed on ${where.rel} and is skipped for it: ${err instanceof Error ? err.message : String(err)}`,
        ),
    });
    this.collection.set(uri, findings.map((f) => this.toDiagnostic(f, where.related)));
    this._onDidUpdate.fire(uri);
  }

  private inputsOf(uri: vscode.Uri): { rel: string; images: string; related: vscode.DiagnosticRelatedInformation[] } | undefined {
    const hits = this.model.inputsOf(uri);
    if (hits.length === 0) return undefined;
    const root = hits[0].state.repo.root;
    const rel = path.relative(root, uri.fsPath).split(path.sep).join('/');
    const images = [...new Set(hits.map((h) => clean(h.state.target.image || h.state.target.name)))].join(', ');
    const related: vscode.DiagnosticRelatedInformation[] = [];
    for (const h of hits) {
      for (const via of h.result.via) {
        if (via.line === null || related.length >= 3) continue;
        const df = vscode.Uri.file(path.join(h.state.repo.root, via.dockerfile));
        const dest = via.destination ? ` → ${clean(via.destination)}` : '';
        related.push(new vscode.DiagnosticRelatedInformation(new vscode.Location(df, new vscode.Position(via.line - 1, 0)), `Baked into ${clean(h.state.target.image)} here${dest}`));
      }
    }
    return { rel, images, related };
  }

  private toDiagnostic(f: RiskFinding, related: vscode.DiagnosticRelatedInformation[]): vscode.Diagnostic {
    const d = new vscode.Diagnostic(new vscode.Range(f.line, f.column, f.endLine, f.endColumn), f.message, SEVERITY[f.severity]);
    d.source = DIAGNOSTIC_SOURCE;
    d.code = f.ruleId;
    if (related.length) d.relatedInformation = related;
    return d;
  }

  /** Open documents now; input files on disk when HEAD or the inputs changed (or `force`). */
  private rescanAll(force: boolean): void {
    for (const doc of vscode.workspace.textDocuments) this.scanDocument(doc);
    const byRepo = new Map<string, { specs: string[]; inputs: ImageInputs[]; key: string }>();
    for (const s of this.model.targets) {
      if (!s.status) continue;
      const r = byRepo.get(s.repo.root) ?? { specs: [], inputs: [], key: '' };
      r.specs.push(...s.status.inputs.pathspecs);
      r.inputs.push(s.status.inputs);
      r.key += `${s.status.snapshot.head.sha}|${s.status.inputs.pathspecs.join('\0')}\n`;
      byRepo.set(s.repo.root, r);
    }
    for (const [root, l] of this.listings) {
      if (byRepo.has(root)) continue;
      l.ctl.abort();
      this.forgetListed(l.files, new Set());
      this.listings.delete(root);
    }
    for (const [root, r] of byRepo) {
      const prev = this.listings.get(root);
      if (!force && prev?.key === r.key) continue;
      prev?.ctl.abort();
      const ctl = new AbortController();
      this.listings.set(root, { key: r.key, files: prev?.files ?? new Set(), ctl });
      this.track(this.scanRepo(root, r.specs, r.inputs, ctl.signal));
    }
  }

  /** Lists one repository's input files and scans those not open. */
  private async scanRepo(root: string, specs: string[], inputs: ImageInputs[], signal: AbortSignal): Promise<void> {
    // Where some target's pathspecs are only a superset, the analyses judge (for exact ones they
    // agree with the pathspecs anyway).
    const keep = inputs.some((i) => pathspecFilter(i)) ? (f: string) => inputs.some((i) => i.affects(f).affects) : undefined;
    const files = await filesMatching(root, [...new Set(specs)], { limit: MAX_FILES, signal, keep });
    const found = new Set(files.map((f) => vscode.Uri.file(path.join(root, f)).toString()));
    const entry = this.listings.get(root);
    if (signal.aborted || !entry) return;
    const open = this.forgetListed(entry.files, found);
    entry.files = found;
    for (const u of found) {
      if (signal.aborted) return;
      if (!open.has(u)) await this.scanFile(vscode.Uri.parse(u));
    }
  }

  /** Drops the diagnostics of listed files that are neither still listed (`kept`) nor open; returns the open ones. */
  private forgetListed(files: Iterable<string>, kept: Set<string>): Set<string> {
    const open = new Set(vscode.workspace.textDocuments.map((d) => d.uri.toString()));
    for (const u of files) if (!kept.has(u) && !open.has(u)) this.collection.delete(vscode.Uri.parse(u));
    return open;
  }

  private async scanFile(uri: vscode.Uri): Promise<void> {
    try {
      const st = await stat(uri.fsPath);
      if (!st.isFile() || st.size > MAX_BYTES) return;
      const text = await readFile(uri.fsPath, 'utf8');
      if (text.includes('\0')) return; // binary
      this.apply(uri, text);
    } catch {
      this.collection.delete(uri); // deleted or unreadable: nothing to say about it
    }
  }

  private track(p: Promise<void>): void {
    const guarded = p.catch((err: unknown) => {
      if (!isAbortError(err)) this.log.error(`Risk diagnostics: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    });
    this.pending = Promise.all([this.pending, guarded]).then(() => undefined);
  }

  dispose(): void {
    for (const l of this.listings.values()) l.ctl.abort();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const d of this.disposables) d.dispose();
  }
}
