/// <reference types="mocha" />
// Restricted Mode (an untrusted workspace), in a real VS Code: the read-only features work and
// nothing the workspace configures runs — not its build command, not its smoke command.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, unlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { api, fixture, presentation, uri, waitFor } from './fixture';

describe('Build Provenance in Restricted Mode', function () {
  this.timeout(60_000);

  it('the workspace is not trusted', () => {
    assert.equal(vscode.workspace.isTrusted, false);
  });

  it('the drift indicator still reads git and Docker (read-only)', async () => {
    const a = await api();
    await a.model.ready();
    // The fixture's own Docker endpoint is ignored here; the default daemon is read instead.
    const p = await waitFor('a state', () => presentation(a)?.state !== 'loading' && presentation(a));
    // The trusted run committed after the deployed revision (or not, when run alone).
    const f = fixture();
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: f.dir, encoding: 'utf8' }).trim();
    assert.equal(p.state, head === f.deployed ? 'in-sync' : 'drift', p.text);
    assert.match(p.text, /helix-ubuntu/);
    const snap = a.model.targets[0].status?.snapshot;
    assert.deepEqual(snap?.running.map((r) => r.name), [f.container]);
    assert.deepEqual(snap?.uncommitted, [], 'work-tree changes are not read in Restricted Mode');
  });

  it('Build + Smoke Test, Rebuild Image and Run Smoke Test run nothing the workspace configures', async () => {
    const f = fixture();
    const a = await api();
    const key = [...a.statusBar.presentations().keys()][0];
    const imagesBefore = a.model.targets[0].status?.snapshot.built?.imageId ?? null;
    for (const cmd of ['buildProvenance.buildAndSmoke', 'buildProvenance.rebuildImage', 'buildProvenance.runSmokeTest']) {
      // The command refuses with a message; it must not throw into a toast either.
      await vscode.commands.executeCommand(cmd, key);
    }
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(existsSync(path.join(f.markers, 'build-ran')), false, 'the workspace build command ran');
    assert.equal(existsSync(path.join(f.markers, 'smoke-ran')), false, 'the workspace smoke command ran');
    await a.model.refreshNow('after refusals');
    assert.equal(a.model.targets[0].status?.snapshot.built?.imageId ?? null, imagesBefore, 'no new image was built');
  });

  it('diagnostics still work (they run nothing)', async () => {
    const f = fixture();
    const rel = 'desktop/ubuntu-config/restricted-check.sh';
    writeFileSync(path.join(f.dir, rel), '#!/bin/sh\nexport MESA_GL_VERSION_OVERRIDE=4.5\n');
    try {
      const doc = await vscode.workspace.openTextDocument(uri(f, rel));
      await vscode.window.showTextDocument(doc);
      const d = await waitFor('the MESA diagnostic', () => {
        const list = vscode.languages.getDiagnostics(doc.uri).filter((x) => x.source === 'Build Provenance');
        return list.length > 0 && list;
      });
      assert.equal(String(typeof d[0].code === 'object' ? d[0].code.value : d[0].code), 'global-graphics-override');
      assert.equal(d[0].range.start.line, 1);
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
      unlinkSync(path.join(f.dir, rel));
    }
  });
});
