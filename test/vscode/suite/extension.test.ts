/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

const ID = 'build-provenance.build-provenance';

describe('Build Provenance extension', () => {
  it('is loaded from the development path and activates', async () => {
    const ext = vscode.extensions.getExtension(ID);
    assert.ok(ext, `${ID} is loaded`);
    // activationEvents are narrow (workspaceContains:…); activate explicitly.
    await ext.activate();
    assert.equal(ext.isActive, true);
  });

  it('contributes its commands', async () => {
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes('buildProvenance.refresh'), 'buildProvenance.refresh is registered');
  });
});
