// Wiring only. The editor features (status bar, decorations, hovers, tasks, tree) arrive with
// their own issue; until then the extension contributes the config schema and activates quietly.
import type * as vscode from 'vscode';

export function activate(_context: vscode.ExtensionContext): void {
  // Nothing to wire yet.
}

export function deactivate(): void {
  // Nothing to dispose yet.
}
