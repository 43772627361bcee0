import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commitParents, filesMatching, otherCommitsInRange } from '../../src/core/git/historyQueries';
import { FixtureRepo } from '../support/gitFixture';

test('history: parents, other commits of a range, files matching pathspecs', async (t) => {
  const r = FixtureRepo.create();
  t.after(() => r.cleanup());
  const base = r.commit('base', { 'img/a.sh': '1', 'docs/x.md': '1' });
  const c1 = r.commit('docs 1', { 'docs/x.md': '2' });
  const c2 = r.commit('script', { 'img/a.sh': '2' });
  const c3 = r.commit('docs 2', { 'docs/x.md': '3' });
  const c4 = r.commit('both', { 'docs/x.md': '4', 'img/a.sh': '3' });
  const c5 = r.commit('docs 3', { 'docs/x.md': '5' });
  assert.deepEqual(await commitParents(r.dir, c2), [c1]);
  assert.deepEqual(await commitParents(r.dir, base), []);
  const specs = [':(top,literal)img'];
  const all = await otherCommitsInRange(r.dir, { from: base, to: c5 }, specs, { limit: 10 });
  assert.deepEqual(all.commits.map((c) => c.sha), [c5, c3, c1]);
  assert.equal(all.truncated, false);
  void c2;
  void c4;
  const two = await otherCommitsInRange(r.dir, { from: base, to: c5 }, specs, { limit: 2 });
  assert.deepEqual([two.commits.map((c) => c.subject), two.truncated], [['docs 3', 'docs 2'], true]);
  r.write('img/new.sh', 'x');
  assert.deepEqual((await filesMatching(r.dir, specs, { limit: 10 })).sort(), ['img/a.sh', 'img/new.sh']);
  assert.equal((await filesMatching(r.dir, specs, { limit: 1 })).length, 1);
});
