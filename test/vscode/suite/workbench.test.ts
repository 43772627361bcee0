/// <reference types="mocha" />
// Proves the harness: these run inside a real extension host against the real `vscode` API.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';

describe('workbench', () => {
  it('is a real VS Code', () => {
    assert.match(vscode.version, /^\d+\.\d+\.\d+/);
    console.log(`    (VS Code ${vscode.version}, ${vscode.env.appName}, remote: ${vscode.env.remoteName ?? 'none'})`);
  });

  it('opened the workspace folder given to the runner', () => {
    const folders = vscode.workspace.workspaceFolders ?? [];
    assert.equal(folders.length, 1);
    assert.equal(path.basename(folders[0]!.uri.fsPath), 'workspace');
  });

  it('runs workbench commands', async () => {
    await vscode.commands.executeCommand('workbench.action.files.newUntitledFile');
    const editor = vscode.window.activeTextEditor;
    assert.ok(editor, 'an editor is active');
    assert.equal(editor.document.isUntitled, true);
    await editor.edit((e) => e.insert(new vscode.Position(0, 0), 'hello'));
    assert.equal(editor.document.getText(), 'hello');
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('reports workspace trust', () => {
    // The runner's --restricted opens the folder in Restricted Mode; --trust (default) trusts it.
    const expected = process.env.BP_VSCODE_TRUST !== 'restricted';
    console.log(`    (workspace.isTrusted = ${vscode.workspace.isTrusted})`);
    assert.equal(vscode.workspace.isTrusted, expected);
  });
});
