// Wiring only: the model (events → refresh → snapshots) and one feature per file, each owning
// its disposables.
import * as vscode from 'vscode';
import { Commands } from './vscode/commands';
import { CommitNotifier } from './vscode/commitNotifier';
import { REV_SCHEME, RevisionContentProvider } from './vscode/gitContent';
import { ProvenanceModel } from './vscode/provenanceModel';
import { ProvenanceTree } from './vscode/provenanceTree';
import { RiskDiagnostics } from './vscode/riskDiagnostics';
import { StatusBar } from './vscode/statusBar';

export interface BuildProvenanceApi {
  /** For integration tests: the model and the status bar's current presentation. */
  model: ProvenanceModel;
  statusBar: StatusBar;
  /** The Provenance view (`dump()`, `contextKeys`), after-commit notices (`onDidNotify`, `notices`), risk diagnostics. */
  tree: ProvenanceTree;
  notifier: CommitNotifier;
  diagnostics: RiskDiagnostics;
}

export function activate(context: vscode.ExtensionContext): BuildProvenanceApi {
  const log = vscode.window.createOutputChannel('Build Provenance', { log: true });
  const model = new ProvenanceModel(log);
  const statusBar = new StatusBar(model);
  const commands = new Commands(model);
  const views = {
    tree: new ProvenanceTree(model, log),
    notifier: new CommitNotifier(model, context.workspaceState, log),
    diagnostics: new RiskDiagnostics(model, log),
  };
  context.subscriptions.push(
    log,
    model,
    statusBar,
    commands,
    ...Object.values(views),
    vscode.workspace.registerTextDocumentContentProvider(REV_SCHEME, new RevisionContentProvider()),
  );
  model.rediscover();
  return { model, statusBar, ...views };
}

export function deactivate(): void {
  // Everything is in context.subscriptions.
}
