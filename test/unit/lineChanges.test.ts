import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blameLine, fileLineChanges, hunkLines, parseHunks } from '../../src/core/git/lineChanges';
import { imagesContaining } from '../../src/core/archaeology/contains';
import type { ImageInfo } from '../../src/core/types';
import { FixtureRepo } from '../support/gitFixture';

test('lineChanges: parseHunks reads unified headers with and without counts', () => {
  const diff = ['diff --git a/x b/x', '@@ -1 +1 @@', '-a', '+b', '@@ -5,0 +6,3 @@ ctx', '@@ -10,2 +12,0 @@'].join('\n');
  assert.deepEqual(parseHunks(diff), [
    { oldStart: 1, oldLines: 1, newStart: 1, newLines: 1 },
    { oldStart: 5, oldLines: 0, newStart: 6, newLines: 3 },
    { oldStart: 10, oldLines: 2, newStart: 12, newLines: 0 },
  ]);
  const { lines, deletedAfter } = hunkLines(parseHunks(diff));
  assert.deepEqual([...lines], [1, 6, 7, 8]);
  assert.deepEqual([...deletedAfter], [12]);
});

test('lineChanges: committed-undeployed and uncommitted lines in work-tree numbering', async (t) => {
  const r = FixtureRepo.create();
  t.after(() => r.cleanup());
  const base = Array.from({ length: 10 }, (_, k) => `line ${k + 1}`);
  const deployed = r.commit('deployed', { 'desktop/s.sh': base.join('\n') + '\n' });
  const v2 = [...base];
  v2[2] = 'export MESA_GL_VERSION_OVERRIDE=4.5';
  v2.splice(6, 0, 'added after deploy');
  r.commit('undeployed', { 'desktop/s.sh': v2.join('\n') + '\n' });
  const v3 = [...v2];
  v3[9] = 'edited, not committed';
  r.write('desktop/s.sh', v3.join('\n') + '\n');
  const ch = await fileLineChanges(r.dir, 'desktop/s.sh', deployed, { includeUncommitted: true });
  assert.deepEqual(ch.committed, [3, 7]);
  assert.deepEqual(ch.uncommitted, [10]);
  const restricted = await fileLineChanges(r.dir, 'desktop/s.sh', deployed, { includeUncommitted: false });
  assert.deepEqual(restricted.committed, [3, 7]);
  assert.deepEqual(restricted.uncommitted, []);

  // A file known to equal HEAD's copy: one commit-to-commit diff gives what the full path gives.
  r.write('desktop/s.sh', v2.join('\n') + '\n');
  const full = await fileLineChanges(r.dir, 'desktop/s.sh', deployed, { includeUncommitted: true });
  const clean = await fileLineChanges(r.dir, 'desktop/s.sh', deployed, { includeUncommitted: true, knownClean: { head: r.head() } });
  assert.deepEqual(clean, full);
  assert.deepEqual(clean.committed, [3, 7]);

  r.write('desktop/s.sh', v3.join('\n') + '\n');
  const b = await blameLine(r.dir, 'desktop/s.sh', 3);
  assert.equal(b?.subject, 'undeployed');
  assert.equal(b?.uncommitted, false);
  const u = await blameLine(r.dir, 'desktop/s.sh', 10);
  assert.equal(u?.uncommitted, true);
});

test('contains: which labelled images include a commit', async (t) => {
  const r = FixtureRepo.create();
  t.after(() => r.cleanup());
  const a = r.commit('a', { f: '1' });
  const b = r.commit('b', { f: '2' });
  const c = r.commit('c', { f: '3' });
  const img = (id: string, sha: string | null): ImageInfo => ({
    id, tags: [`app:${id}`], created: '2026-01-01T00:00:00Z', labels: {}, endpoint: 'x',
    revision: sha ? { kind: 'sha', label: 'l', raw: sha, sha: sha.slice(0, 10), dirty: false, short: true } : { kind: 'none' },
  });
  const ans = await imagesContaining(r.dir, b, [img('new', c), img('old', a), img('none', null)], []);
  assert.ok(ans);
  assert.equal(ans.commit, b);
  assert.deepEqual(ans.images.map((i) => [i.image.id, i.contains]), [['new', true], ['old', false]]);
  assert.equal(ans.unknown, 1);
  assert.equal(await imagesContaining(r.dir, 'f'.repeat(40), [], []), null);
});
