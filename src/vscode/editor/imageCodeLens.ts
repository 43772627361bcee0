// Image-file warning: at the top of an image input file, one CodeLens per way it goes into a
// target ("Baked into helix-ubuntu → /usr/local/bin/x.sh (Dockerfile.ubuntu-helix:998) · 2
// undeployed commits"), opening the Dockerfile at that instruction. On the Dockerfile itself:
// the target's drift summary, plus Build + Smoke Test and Rebuild Image once those commands exist.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { bakedIntoTitle, isSpecialVia, lensSafe, lensTail, undeployedForFile, unmarkedReason } from '../../core/status/editorMarks';
import { clean } from '../../core/humanize';
import type { InputVia } from '../../core/types';
import { COMMANDS } from '../commands';
import { repoRelative, type LineDecorations } from './lineDecorations';
import type { ProvenanceModel, TargetState } from '../provenanceModel';
import { BUILD_COMMANDS, registeredCommands } from '../registeredCommands';
import { presentStatus } from '../views/statusBar';

const SETTING = 'buildProvenance.codeLens.enabled';
/** A file COPYed by many instructions gets this many lenses per target, then a summary. */
const MAX_VIAS_PER_TARGET = 5;

export class ImageCodeLens implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly _onDidChangeCodeLenses = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this._onDidChangeCodeLenses.event;
  private readonly disposables: vscode.Disposable[] = [this._onDidChangeCodeLenses];

  constructor(
    private readonly model: ProvenanceModel,
    private readonly decorations: LineDecorations,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      vscode.languages.registerCodeLensProvider({ scheme: 'file' }, this),
      model.onDidChange(() => this._onDidChangeCodeLenses.fire()),
      decorations.onDidChangeMarks(() => this._onDidChangeCodeLenses.fire()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(SETTING) || e.affectsConfiguration('buildProvenance.gutter.enabled')) this._onDidChangeCodeLenses.fire();
      }),
    );
  }

  async provideCodeLenses(doc: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    try {
      if (doc.uri.scheme !== 'file' || !vscode.workspace.getConfiguration('buildProvenance', doc.uri).get<boolean>('codeLens.enabled', true)) return [];
      const top = new vscode.Range(0, 0, 0, 0);
      const lenses: vscode.CodeLens[] = [];
      for (const s of this.model.visibleTargets) {
        const df = s.status?.snapshot.target.dockerfile;
        if (df && path.join(s.repo.root, df) === doc.uri.fsPath) lenses.push(...(await this.dockerfileLenses(s, top)));
      }
      for (const { state, result } of this.model.inputsOf(doc.uri)) lenses.push(...this.inputLenses(doc.uri, state, result.via, top));
      return lenses;
    } catch (err) {
      this.log.error(`CodeLens for ${doc.uri.fsPath}: ${err instanceof Error ? err.message : String(err)}`);
      return [];
    }
  }

  /** For tests: the lens titles of a document, in order. */
  async titles(doc: vscode.TextDocument): Promise<string[]> {
    return (await this.provideCodeLenses(doc)).map((l) => l.command?.title ?? '');
  }

  private async dockerfileLenses(s: TargetState, top: vscode.Range): Promise<vscode.CodeLens[]> {
    const threshold = vscode.workspace.getConfiguration('buildProvenance').get<number>('driftThresholdHours', 4);
    const multi = (vscode.workspace.workspaceFolders?.length ?? 0) > 1;
    const lenses = [
      new vscode.CodeLens(top, {
        title: presentStatus(s, threshold, multi).text,
        tooltip: s.status?.snapshot.summary ?? s.error?.message ?? '',
        command: COMMANDS.statusMenu,
        arguments: [s.key],
      }),
    ];
    const available = await registeredCommands(Object.values(BUILD_COMMANDS));
    if (available.has(BUILD_COMMANDS.buildAndSmoke)) {
      lenses.push(new vscode.CodeLens(top, { title: '$(play) Build + Smoke Test', command: BUILD_COMMANDS.buildAndSmoke, arguments: [s.key] }));
    }
    if (available.has(BUILD_COMMANDS.rebuildImage)) {
      lenses.push(new vscode.CodeLens(top, { title: '$(refresh) Rebuild Image', command: BUILD_COMMANDS.rebuildImage, arguments: [s.key] }));
    }
    return lenses;
  }

  private inputLenses(uri: vscode.Uri, s: TargetState, via: InputVia[], top: vscode.Range): vscode.CodeLens[] {
    const snap = s.status?.snapshot;
    const rel = repoRelative(s.repo.root, uri.fsPath);
    if (!snap || !rel) return [];
    const deployed = this.model.deployedRevision(s);
    const gutterOn = vscode.workspace.getConfiguration('buildProvenance', uri).get<boolean>('gutter.enabled', true);
    const unmarked = !gutterOn ? null : deployed ? (this.decorations.unmarkedReason(uri) ?? null) : unmarkedReason(snap);
    const tail = lensTail(deployed ? undeployedForFile(snap, rel) : null, snap.uncommitted.includes(rel), unmarked);
    // The Dockerfile's own pseudo-via is covered by the Dockerfile lenses.
    const shown = via.filter((v) => !(v.instruction === '(Dockerfile)' && isSpecialVia(v)));
    const lenses = shown.slice(0, MAX_VIAS_PER_TARGET).map(
      (v, k) =>
        new vscode.CodeLens(top, {
          // The count and reason go on the first lens of a target only.
          title: bakedIntoTitle(s.target.name, v, k === 0 ? tail : ''),
          tooltip: clean(`Open ${v.dockerfile}${v.line !== null ? ` at line ${v.line}` : ''}: ${v.instruction}`),
          command: 'vscode.open',
          arguments: [vscode.Uri.file(path.join(s.repo.root, v.dockerfile)), v.line !== null ? { selection: new vscode.Range(v.line - 1, 0, v.line - 1, 0) } : {}],
        }),
    );
    if (shown.length > MAX_VIAS_PER_TARGET) {
      lenses.push(new vscode.CodeLens(top, { title: `… ${shown.length - MAX_VIAS_PER_TARGET} more instructions of ${lensSafe(s.target.name)}`, command: '' }));
    }
    return lenses;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
