// Wiring only: the model (events → refresh → snapshots) and one feature per file, each owning
// its disposables.
import * as vscode from 'vscode';
import { Commands } from './vscode/commands';
import { REV_SCHEME, RevisionContentProvider } from './vscode/gitContent';
import { ProvenanceModel } from './vscode/provenanceModel';
import { StatusBar } from './vscode/statusBar';

export interface BuildProvenanceApi {
  /** For integration tests: the model and the status bar's current presentation. */
  model: ProvenanceModel;
  statusBar: StatusBar;
}

export function activate(context: vscode.ExtensionContext): BuildProvenanceApi {
  const log = vscode.window.createOutputChannel('Build Provenance', { log: true });
  const model = new ProvenanceModel(log);
  const statusBar = new StatusBar(model);
  const commands = new Commands(model);
  context.subscriptions.push(
    log,
    model,
    statusBar,
    commands,
    vscode.workspace.registerTextDocumentContentProvider(REV_SCHEME, new RevisionContentProvider()),
  );
  model.rediscover();
  return { model, statusBar };
}

export function deactivate(): void {
  // Everything is in context.subscriptions.
}
