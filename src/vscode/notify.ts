// Every notification of the extension goes through here (test/unit/notify.test.ts checks that no
// other file calls vscode.window.show*Message). Notification texts carry untrusted text — config
// values, commit subjects, labels, container, image and file names, error messages that quote
// them — and VS Code renders `[text](command:…)`, `[text](https://…)` and `[text](file:…)` in a
// notification as a link that runs or opens its target on click. So each text is made plain
// (core/humanize.ts plainText): no control characters, and no `](` that could close a link's text
// and open its target.
import * as vscode from 'vscode';
import { plainText } from '../core/humanize';

export function showInfo(message: string, ...items: string[]): Thenable<string | undefined> {
  return vscode.window.showInformationMessage(plainText(message), ...items);
}

export function showWarning(message: string, ...items: string[]): Thenable<string | undefined> {
  return vscode.window.showWarningMessage(plainText(message), ...items);
}

export function showError(message: string, ...items: string[]): Thenable<string | undefined> {
  return vscode.window.showErrorMessage(plainText(message), ...items);
}

const TRUST_COMMAND = 'workbench.trust.manage';

/** A command that writes or runs what the workspace configures, asked for in Restricted Mode: says so and offers trust. */
export async function askForTrust(message: string): Promise<void> {
  const pick = await showWarning(`Build Provenance: ${message}`, 'Manage Workspace Trust');
  if (pick) await vscode.commands.executeCommand(TRUST_COMMAND);
}
