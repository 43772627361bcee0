import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AncestryCache } from '../../src/core/git/ancestry';
import type { DriftSnapshot } from '../../src/core/status/driftModel';
import {
  annotationText,
  bakedIntoTitle,
  explorerBadge,
  lensTail,
  shiftLines,
  undeployedCountText,
  undeployedForFile,
  unmarkedReason,
  verdictText,
  type FileUndeployed,
  type TrackedLine,
} from '../../src/core/status/editorMarks';
import { gitSpawnCount } from '../../src/core/git/exec';
import { blameLine } from '../../src/core/git/lineChanges';
import type { CommitSummary, InputVia } from '../../src/core/types';
import { FixtureRepo } from '../support/gitFixture';

const SCRIPT = 'desktop/shared/detect-render-node.sh';
const commit = (n: number, files: string[]): CommitSummary => ({ sha: String(n).repeat(40).slice(0, 40), subject: `c${n}`, date: '2026-06-01T00:00:00Z', files });

function snapshot(relevant: CommitSummary[], relevantCount = relevant.length, state: DriftSnapshot['state'] = 'drift'): DriftSnapshot {
  return {
    state,
    summary: '',
    hint: null,
    target: { name: 'helix-ubuntu', image: 'helix-ubuntu', dockerfile: 'Dockerfile.ubuntu-helix' },
    head: { sha: 'a'.repeat(40), branch: 'main', detached: false, dirty: false },
    uncommitted: [],
    built: null,
    running: [],
    undeployed: { against: 'running', total: relevantCount, relevantCount, relevant, oldestRelevantDate: null, oldestRelevantAgeSeconds: null, behind: 0 },
    unbuilt: null,
    docker: { reachable: true, reason: null, unreachable: [] },
  };
}

const via: InputVia = {
  dockerfile: 'Dockerfile.ubuntu-helix',
  line: 998,
  instruction: 'ADD desktop/shared/detect-render-node.sh /usr/local/bin/detect-render-node.sh',
  stage: '3',
  destination: '/usr/local/bin/detect-render-node.sh',
};

test('editorMarks: undeployed commits of one file, and "+" when the snapshot list is capped', () => {
  const snap = snapshot([commit(1, [SCRIPT]), commit(2, ['api/x.go']), commit(3, [SCRIPT, 'api/x.go'])]);
  const u = undeployedForFile(snap, SCRIPT);
  assert.deepEqual(u.commits.map((c) => c.subject), ['c1', 'c3']);
  assert.equal(undeployedCountText(u), '2 undeployed commits');
  assert.equal(undeployedCountText(undeployedForFile(snap, 'api/y.go')), 'no undeployed commits');
  assert.equal(undeployedCountText(undeployedForFile(snapshot([commit(1, [SCRIPT])]), SCRIPT)), '1 undeployed commit');

  const twenty = Array.from({ length: 20 }, (_, k) => commit(k % 9, [SCRIPT]));
  const capped = undeployedForFile(snapshot(twenty, 31), SCRIPT);
  assert.equal(capped.capped, true);
  assert.equal(undeployedCountText(capped), '20+ undeployed commits');
  assert.equal(undeployedCountText(undeployedForFile(snapshot(twenty, 31), 'other')), 'no undeployed commits among the newest 20');
});

test('editorMarks: the CodeLens title names image, destination, Dockerfile line and count', () => {
  const u = undeployedForFile(snapshot([commit(1, [SCRIPT]), commit(2, [SCRIPT])]), SCRIPT);
  assert.equal(
    bakedIntoTitle('helix-ubuntu', via, lensTail(u, false, null)),
    'Baked into helix-ubuntu → /usr/local/bin/detect-render-node.sh (Dockerfile.ubuntu-helix:998) · 2 undeployed commits',
  );
  const goVia: InputVia = { dockerfile: 'Dockerfile.ubuntu-helix', line: 6, instruction: 'COPY api/ ./api/', stage: 'go-build', destination: '/src/api/x.go' };
  assert.equal(bakedIntoTitle('helix-ubuntu', goVia, ''), 'Baked into helix-ubuntu → /src/api/x.go in stage go-build (Dockerfile.ubuntu-helix:6)');
  const mount: InputVia = { dockerfile: 'D', line: 4, instruction: 'RUN --mount=type=bind,source=x,target=/x make', stage: '0', destination: '/x' };
  assert.match(bakedIntoTitle('img', mount, ''), /^Mounted into img → \/x \(D:4\)$/);
  const ignore: InputVia = { dockerfile: 'Dockerfile.ubuntu-helix', line: null, instruction: '(ignore file)', stage: null, destination: '' };
  assert.equal(bakedIntoTitle('helix-ubuntu', ignore, ''), 'Decides what goes into helix-ubuntu (ignore file of Dockerfile.ubuntu-helix)');
  // Unknown deployed revision: no count, and the reason why lines are not marked.
  assert.equal(lensTail(null, true, unmarkedReason(snapshot([], 0, 'unlabeled'))), 'uncommitted changes · lines not marked: the image has no usable revision label');
  assert.equal(unmarkedReason(undefined), 'state not read yet');
});

test('editorMarks: untrusted text cannot render icons or control characters in a lens', () => {
  const evil: InputVia = { ...via, destination: '/x/$(zap)\x1b[31m' };
  const title = bakedIntoTitle('t$(bug)', evil, '');
  assert.ok(!/(^|[^\\])\$\(/.test(title), title);
  assert.ok(!title.includes('\x1b'));
});

test('editorMarks: Explorer badge is at most 2 characters, with a tooltip per target', () => {
  const u = (n: number, capped = false): FileUndeployed => ({ commits: Array.from({ length: n }, (_, k) => commit(k, [SCRIPT])), scanned: 20, capped });
  assert.equal(explorerBadge([{ target: 'helix-ubuntu', undeployed: u(0), uncommitted: false }]), null);
  assert.deepEqual(explorerBadge([{ target: 'helix-ubuntu', undeployed: u(2), uncommitted: false }]), {
    badge: '2',
    tooltip: '2 undeployed commits · baked into helix-ubuntu',
    kind: 'undeployed',
  });
  assert.equal(explorerBadge([{ target: 'a', undeployed: u(12), uncommitted: false }])?.badge, '9+');
  assert.equal(explorerBadge([{ target: 'a', undeployed: u(3, true), uncommitted: false }])?.badge, '3+');
  const both = explorerBadge([
    { target: 'a', undeployed: u(0), uncommitted: true },
    { target: 'b', undeployed: u(1), uncommitted: true },
  ]);
  assert.equal(both?.badge, '1');
  assert.equal(both?.tooltip, 'uncommitted changes · baked into a; 1 undeployed commit + uncommitted changes · baked into b');
  assert.deepEqual(explorerBadge([{ target: 'a', undeployed: u(0), uncommitted: true }])?.badge, '↑');
  for (let n = 0; n < 40; n++) assert.ok((explorerBadge([{ target: 'a', undeployed: u(n, n % 2 === 0), uncommitted: true }])?.badge.length ?? 0) <= 2);
});

test('editorMarks: annotation and verdict words', () => {
  const now = Date.parse('2026-06-02T07:00:00Z');
  assert.equal(annotationText({ uncommitted: true }), 'uncommitted · not in any image');
  assert.equal(
    annotationText({ uncommitted: false, sha: 'abc1234'.padEnd(40, '0'), date: '2026-06-01T00:00:00Z', verdict: { built: false, running: false } }, now),
    'abc12340 · not built · waiting 31h',
  );
  assert.equal(verdictText({ built: true, running: false }), 'built, not running');
  assert.equal(verdictText({ built: true, running: null }), 'built');
  assert.equal(verdictText({ built: null, running: null }), 'not deployed');
  assert.equal(annotationText({ uncommitted: false, sha: 'f'.repeat(40), date: '2026-06-01T00:00:00Z', verdict: { built: true, running: true } }, now), 'ffffffff · running');
});

test('editorMarks: marked lines follow edits like whole-line decorations', () => {
  const lines: TrackedLine[] = [3, 7, 10].map((l) => ({ line: l, disk: l }));
  const at = (ls: TrackedLine[]) => ls.map((l) => l.line);
  const edit = (sl: number, sc: number, el: number, ec: number, insertedLines: number) => ({ start: { line: sl, character: sc }, end: { line: el, character: ec }, insertedLines });
  // Typing inside a marked line moves nothing.
  assert.deepEqual(at(shiftLines(lines, edit(2, 4, 2, 4, 0))), [3, 7, 10]);
  // A new line typed above line 7 (Enter at the end of line 5) moves 7 and 10.
  assert.deepEqual(at(shiftLines(lines, edit(4, 9, 4, 9, 1))), [3, 8, 11]);
  // Enter at the very start of line 7 pushes its text (and mark) down.
  assert.deepEqual(at(shiftLines(lines, edit(6, 0, 6, 0, 1))), [3, 8, 11]);
  // Deleting lines 6–8 (0-based 5..8) swallows line 7: it collapses onto the edit's start.
  const del = shiftLines(lines, edit(5, 0, 8, 0, 0));
  assert.deepEqual(at(del), [3, 6, 7]);
  assert.deepEqual(del.map((l) => l.disk), [3, 7, 10]);
  // Edits after the last mark change nothing; disk lines are kept for blame.
  assert.deepEqual(shiftLines(lines, edit(20, 0, 20, 0, 5)), lines);
});

test('ancestry: cached is-ancestor answers run git once per pair', async (t) => {
  const r = FixtureRepo.create();
  t.after(() => r.cleanup());
  const a = r.commit('a', { f: '1' });
  const b = r.commit('b', { f: '2' });
  const cache = new AncestryCache();
  assert.equal(await cache.isAncestor(r.dir, a, b), true);
  assert.equal(await cache.isAncestor(r.dir, b, a), false);
  const before = gitSpawnCount();
  assert.equal(await cache.isAncestor(r.dir, a, b), true);
  assert.equal(await cache.isAncestor(r.dir, b, b), true);
  assert.equal(gitSpawnCount(), before);
});

test('blameLine at a revision: blames a line as of a commit, whatever the work tree holds', async (t) => {
  const r = FixtureRepo.create();
  t.after(() => r.cleanup());
  r.commit('base', { 's.sh': 'a\nb\nc\n' });
  const second = r.commit('second <b>', { 's.sh': 'a\nB\nc\n' });
  r.write('s.sh', 'new first\na\nB\nc\n');
  const b = await blameLine(r.dir, 's.sh', 2, undefined, 'HEAD');
  assert.equal(b?.sha, second);
  assert.equal(b?.subject, 'second <b>');
  assert.equal(b?.uncommitted, false);
  assert.equal(b?.author, 'Fixture Author');
  assert.match(b?.date ?? '', /^\d{4}-/);
  assert.equal(await blameLine(r.dir, 'missing.sh', 1, undefined, 'HEAD'), null);
});
