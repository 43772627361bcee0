/// <reference types="mocha" />
// Multi-root in a real VS Code (BP_SUITE=multi-root), on the .code-workspace that
// test/vscode/runMultiRootSuite.ts prepares: two folders, each its own repository and target,
// both deployed at HEAD. Each gets its own status bar item and view entry; a commit in one
// refreshes that one, walks nothing in the other, and marks only its own lines.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { BuildProvenanceApi } from '../../../src/extension';
import { api as activate, git, gitQuiet, waitFor } from './fixture';
import type { MultiRootFixture } from '../runMultiRootSuite';

const fixture = (): MultiRootFixture => JSON.parse(readFileSync(process.env.BP_MULTI_FIXTURE!, 'utf8')) as MultiRootFixture;

describe('Multi-root: two folders, two repositories, two targets', function () {
  this.timeout(120_000);
  let api: BuildProvenanceApi;
  const fx = fixture();
  const [alpha, beta] = fx.folders;
  const stateOf = (target: string) => api.model.visibleTargets.find((t) => t.target.name === target);

  before(async () => {
    api = await activate();
    await api.model.ready();
  });

  it('each folder gets its own target, status bar item and view entry', async () => {
    assert.deepEqual((vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath), [alpha.dir, beta.dir]);
    for (const f of fx.folders) {
      const s = await waitFor(`${f.target} in sync`, () => {
        const t = stateOf(f.target);
        return t?.status?.snapshot.state === 'in-sync' ? t : false;
      }, 60_000);
      assert.equal(s.folder.uri.fsPath, f.dir);
      assert.equal(s.repo.root, f.dir);
    }
    const keys = [...api.statusBar.presentations().keys()];
    assert.equal(keys.length, 2, JSON.stringify(keys));
    assert.deepEqual(new Set(keys), new Set([stateOf('alpha')!.key, stateOf('beta')!.key]));
    // One folder node per workspace folder, each holding its own target.
    const roots = await api.tree.getChildren();
    assert.deepEqual(roots.map((n) => n.id), fx.folders.map((f) => `folder:${vscode.Uri.file(f.dir).toString()}`));
    for (const [i, f] of fx.folders.entries()) {
      const kids = (await api.tree.getChildren(roots[i])).map((n) => n.id);
      assert.deepEqual(kids, [stateOf(f.target)!.key], `${f.target}: ${JSON.stringify(kids)}`);
    }
  });

  it('a commit in one folder refreshes it and walks nothing in the other; only its lines are marked', async () => {
    const quiet = () => gitQuiet(api);
    await quiet();
    const betaBefore = stateOf('beta')!.status!;
    const before = api.gitSpawnCount();
    git(alpha.dir, 'commit', '-q', '--no-verify', '-m', 'alpha: v2', '--allow-empty');
    // An input changes in a second commit, so alpha has one relevant undeployed commit.
    const file = path.join(alpha.dir, alpha.input);
    await vscode.workspace.fs.writeFile(vscode.Uri.file(file), Buffer.from('echo v2\n'));
    git(alpha.dir, 'add', alpha.input);
    git(alpha.dir, '-c', 'commit.gpgsign=false', 'commit', '-q', '--no-verify', '-m', 'alpha: run.sh v2');
    const a = await waitFor('alpha: 1 relevant undeployed commit', () => {
      const t = stateOf('alpha');
      return t?.status?.snapshot.undeployed?.relevantCount === 1 ? t : false;
    }, 60_000);
    assert.equal(a.status!.snapshot.undeployed!.total, 2);
    const doc = await vscode.workspace.openTextDocument(file);
    await vscode.window.showTextDocument(doc);
    await waitFor('alpha/run.sh marked', async () => {
      await api.decorations.settled();
      return api.decorations.decoratedLines(doc.uri).committed.length > 0;
    }, 30_000);
    await quiet();
    const n = api.gitSpawnCount() - before;
    const spawns = api.recentGitSpawnsIn().slice(-n);
    assert.ok(n > 0 && n <= 60, `${n} git processes (the log keeps 60)`);
    const inAlpha = spawns.filter((s) => s.cwd.startsWith(alpha.dir));
    const inBeta = spawns.filter((s) => s.cwd.startsWith(beta.dir));
    assert.ok(inAlpha.length > 0, `nothing ran in alpha: ${JSON.stringify(spawns)}`);
    // At most the cheap HEAD check in beta: no walk, no listing, no blob read.
    assert.ok(inBeta.every((s) => /^(rev-parse|symbolic-ref)\b/.test(s.command)) && inBeta.length <= 1, `beta was walked: ${JSON.stringify(inBeta)}`);
    const b = stateOf('beta')!;
    assert.equal(b.status!.snapshot.state, 'in-sync');
    assert.equal(b.status!.snapshot.head.sha, betaBefore.snapshot.head.sha);
    // Beta's input file: no marks.
    const other = await vscode.workspace.openTextDocument(path.join(beta.dir, beta.input));
    await vscode.window.showTextDocument(other);
    await api.decorations.settled();
    await new Promise((r) => setTimeout(r, 1000));
    await api.decorations.settled();
    assert.deepEqual(api.decorations.decoratedLines(other.uri).committed, []);
    assert.deepEqual(api.decorations.decoratedLines(doc.uri).committed.length > 0, true);
  });
});
