// Pure pieces of the image archaeology: reflog inference, verdicts, the timeline's time scale and
// its SVG/HTML (escaping, marks, CSP).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verdictOf } from '../../src/core/archaeology/imageHistory';
import { parseLedger, type LedgerRecord } from '../../src/core/build/ledger';
import { findRepo } from '../../src/core/git/queries';
import { headAt, parseReflog, readHeadReflog } from '../../src/core/git/reflog';
import type { TimelineData } from '../../src/core/archaeology/timeline';
import { esc, formatDuration, renderTimelineHtml, renderTimelineSvg, timeScale } from '../../src/core/archaeology/timelineSvg';
import { FixtureRepo, tempDir } from '../support/gitFixture';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);
const Z = '0'.repeat(40);
const T0 = Date.parse('2026-11-25T09:00:00Z') / 1000;
const line = (o: string, n: string, t: number, msg: string) => `${o} ${n} Dev <dev@example.invalid> ${t} +0100\t${msg}`;
const reflog = parseReflog(
  [line(Z, A, T0, 'commit (initial): init'), line(A, B, T0 + 600, 'commit: second'), line(B, C, T0 + 7200, 'commit: third'), 'garbage line', ''].join('\n'),
);

test('reflog: parses entries in file order, skipping what is not an entry', () => {
  assert.deepEqual(
    reflog.map((e) => [e.new.slice(0, 1), e.time / 1000, e.message]),
    [
      ['a', T0, 'commit (initial): init'],
      ['b', T0 + 600, 'commit: second'],
      ['c', T0 + 7200, 'commit: third'],
    ],
  );
});

test('reflog: HEAD at a time is inferred with a note, never with high confidence', () => {
  const r = headAt(reflog, (T0 + 3600) * 1000);
  assert.ok(r.known);
  assert.equal(r.sha, B);
  assert.equal(r.confidence, 'medium');
  assert.match(r.notes.join(' '), /uncommitted changes/);
});

test('reflog: HEAD moved within a minute of the build lowers confidence and says so', () => {
  const after = headAt(reflog, (T0 + 7200 - 30) * 1000);
  assert.ok(after.known);
  assert.equal(after.sha, B);
  assert.equal(after.confidence, 'low');
  assert.match(after.notes[1], /HEAD moved within a minute of the build \(30 s after: commit\)/);
  const before = headAt(reflog, (T0 + 620) * 1000);
  assert.ok(before.known && before.confidence === 'low' && /20 s before/.test(before.notes[1]));
});

test('reflog: absent, empty, expired (starts after the build) or unborn → unknown, not a guess', () => {
  for (const [entries, t, why] of [
    [null, T0 * 1000, /no HEAD reflog/],
    [[], T0 * 1000, /reflog is empty/],
    [reflog, (T0 - 3600) * 1000, /starts at 2026-11-25T09:00:00.000Z, after the image was created \(expired/],
    [parseReflog(line(A, Z, T0, 'branch: deleted')), (T0 + 5) * 1000, /pointed to no commit/],
  ] as const) {
    const r = headAt(entries as never, t);
    assert.equal(r.known, false);
    assert.match((r as { reason: string }).reason, why);
  }
});

test('reflog: an entry that did not move HEAD is no reason for doubt', () => {
  const r = headAt(parseReflog([line(Z, A, T0, 'commit'), line(A, A, T0 + 3600, 'reset: moving to HEAD')].join('\n')), (T0 + 3610) * 1000);
  assert.ok(r.known && r.confidence === 'medium');
});

function rec(p: Partial<LedgerRecord>): LedgerRecord {
  return {
    v: 1, id: 'x', kind: 'build', target: 't', revision: null, dirty: false, inputHash: '', imageId: 'sha256:1', tags: [], mode: null,
    startedAt: '2026-01-01T00:00:00.000Z', endedAt: '2026-01-01T00:00:00.000Z', result: 'success', smoke: null, error: null, logExcerpt: '', tool: 't', ...p,
  };
}

test('verdict: the newest evidence wins; a mark overrides an older smoke result; cancelled and deploy marks say nothing', () => {
  assert.equal(verdictOf([]), null);
  const failed = rec({ smoke: { result: 'failed', reason: 'x' }, endedAt: '2026-01-01T01:00:00.000Z' });
  const good = rec({ kind: 'mark', verdict: 'good', endedAt: '2026-01-01T02:00:00.000Z' });
  const cancelled = rec({ kind: 'smoke', smoke: { result: 'cancelled', reason: null }, endedAt: '2026-01-01T03:00:00.000Z' });
  const deploy = rec({ kind: 'mark', endedAt: '2026-01-01T04:00:00.000Z' });
  assert.deepEqual(verdictOf([failed]), { verdict: 'bad', from: 'smoke', at: failed.endedAt });
  assert.deepEqual(verdictOf([failed, good, cancelled, deploy]), { verdict: 'good', from: 'mark', at: good.endedAt });
  const passedLater = rec({ kind: 'smoke', smoke: { result: 'passed', reason: null }, endedAt: '2026-01-01T05:00:00.000Z' });
  assert.equal(verdictOf([failed, good, passedLater])?.from, 'smoke');
});

test('ledger: a mark with an unknown verdict is skipped with a warning; good/bad marks are kept', () => {
  const ok = JSON.stringify(rec({ kind: 'mark', verdict: 'bad', id: 'm1' }));
  const bad = JSON.stringify({ ...rec({ kind: 'mark', id: 'm2' }), verdict: 'meh' });
  const r = parseLedger(`${ok}\n${bad}\n`);
  assert.deepEqual(r.records.map((x) => [x.id, x.verdict]), [['m1', 'bad']]);
  assert.match(r.warnings[0], /:2: unknown verdict "meh"; skipped/);
});

test('timeline scale: a dominating empty gap is cut (with its length); a long wait among events is not', () => {
  const h = 3600_000;
  const cut = timeScale([0, 10 * 60_000, 34 * h, 34 * h + 5_000], 300, 1000);
  assert.equal(cut.breaks.length, 1);
  assert.ok(Math.abs(cut.breaks[0].seconds - (34 * h - 10 * 60_000) / 1000) < 1);
  const xs = [0, 10 * 60_000, 34 * h, 34 * h + 5_000].map(cut.x);
  assert.ok(xs.every((x, i) => i === 0 || x > xs[i - 1]), `monotonic: ${xs}`);
  assert.ok(xs[3] - xs[2] >= 2, 'events seconds apart stay apart in a small cluster');
  const incident = timeScale([0, 13 * 60_000, 5 * h, 12 * h, 20 * h, 31 * h], 300, 1000);
  assert.equal(incident.breaks.length, 0);
  assert.ok(incident.x(31 * h) - incident.x(13 * 60_000) > 500, 'the 31-hour wait looks long');
});

test('durations read like people write them', () => {
  assert.deepEqual([45, 720, 4.5 * 3600, 31 * 3600, 3.2 * 86400, -120].map(formatDuration), ['45 s', '12 min', '4.5 h', '31 h', '3.2 d', '−2 min']);
});

const iso = (min: number) => new Date(Date.parse('2026-11-25T09:12:00Z') + min * 60_000).toISOString();
function data(): TimelineData {
  return {
    target: 'helix-ubuntu',
    image: 'helix-<ubuntu>',
    generatedAt: iso(1900),
    thresholdHours: 4,
    commits: [
      {
        sha: A, subject: 'desktop: export MESA_GL_VERSION_OVERRIDE=4.5 <script>alert(1)</script>', author: 'Dev "x" & co', date: iso(13),
        files: ['desktop/shared/detect-render-node.sh'], firstBuild: { at: iso(1880), imageId: `sha256:${'e'.repeat(64)}`, revision: B },
        firstRun: { at: iso(1883), name: 'helix-desktop' }, lagBuildSeconds: 1867 * 60, lagRunSeconds: 1870 * 60, waitingSeconds: null, late: true,
      },
      {
        sha: B, subject: 'api: retries', author: 'Dev', date: iso(1870), files: ['api/main.go'], firstBuild: { at: iso(1880), imageId: `sha256:${'e'.repeat(64)}`, revision: B },
        firstRun: null, lagBuildSeconds: 600, lagRunSeconds: null, waitingSeconds: 1800, late: false,
      },
      { sha: C, subject: 'later', author: 'Dev', date: iso(1890), files: ['a'], firstBuild: null, firstRun: null, lagBuildSeconds: null, lagRunSeconds: null, waitingSeconds: 600, late: false },
    ],
    builds: [
      { imageId: `sha256:${'d'.repeat(64)}`, tags: ['helix-ubuntu:<old>'], at: iso(0), revision: Z.replace(/0/g, '9'), revisionSource: 'label', dirty: false, smoke: 'passed', verdict: null, present: true },
      { imageId: `sha256:${'e'.repeat(64)}`, tags: ['helix-ubuntu:latest'], at: iso(1880), revision: B, revisionSource: 'inferred', dirty: false, smoke: 'failed', verdict: 'bad', present: true },
    ],
    runs: [{ containerId: 'c', name: 'helix-desktop<1>', imageId: `sha256:${'e'.repeat(64)}`, start: iso(1883), end: null, state: 'running' }],
    omitted: { commits: 0, builds: 0, runs: 0 },
    warnings: ['a <warning>'],
  };
}

test('timeline SVG: one dot per commit, a mark per build, a bar per run; the late one stands out; text escaped', () => {
  const svg = renderTimelineSvg(data());
  assert.equal(svg.match(/<circle class="dot[ "]/g)?.length, 3 + 2, 'three commits plus two legend dots');
  assert.equal(svg.match(/<g class="commit late"/g)?.length, 1);
  assert.equal(svg.match(/<g class="buildmark"/g)?.length, 2);
  assert.equal(svg.match(/<path class="build fail inferred"/g)?.length, 1);
  assert.equal(svg.match(/<rect class="run running"/g)?.length, 1 + 1, 'one run plus the legend');
  assert.match(svg, /built \+31 h · ran \+31 h/);
  assert.match(svg, /not built · waiting 10 min/);
  assert.ok(!svg.includes('<script>') && svg.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  assert.ok(svg.includes('helix-desktop&lt;1&gt;') && svg.includes('Dev &quot;x&quot; &amp; co') && svg.includes('helix-&lt;ubuntu&gt;'));
  assert.match(svg, /~bbbbbbb inferred/);
});

test('timeline HTML: self-contained with a CSP that loads nothing; the webview form adds only its nonce script', () => {
  const standalone = renderTimelineHtml(data(), { nonce: 'n0nce' });
  assert.match(standalone, /<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; style-src &#39;nonce-n0nce&#39;; img-src data:;">/);
  assert.doesNotMatch(standalone, /<script/);
  assert.match(standalone, /<style nonce="n0nce">/);
  assert.match(standalone, /⚠ a &lt;warning&gt;/);
  const web = renderTimelineHtml(data(), { nonce: 'n0nce', webview: { cspSource: 'vscode-resource:', scriptUri: 'vscode-resource:/media/timeline.js' } });
  assert.match(web, /script-src &#39;nonce-n0nce&#39;/);
  assert.equal(web.match(/<script /g)?.length, 1);
  assert.match(web, /<script nonce="n0nce" src="vscode-resource:\/media\/timeline.js"><\/script>/);
  assert.equal(esc(`<a href='x'>&`), '&lt;a href=&#39;x&#39;&gt;&amp;');
});

test('reflog: a linked worktree reads its own HEAD reflog, not the main one', async (t) => {
  const repo = FixtureRepo.create('bp-reflog-wt-');
  const dir = tempDir('bp-reflog-wt2-');
  t.after(() => {
    repo.cleanup();
    FixtureRepo.at(dir).cleanup();
  });
  const base = repo.commit('init', { a: '1' });
  repo.git('worktree', 'add', '-q', '-b', 'side', `${dir}/wt`);
  const wt = FixtureRepo.at(`${dir}/wt`);
  const side = wt.commit('on the side', { b: '2' });
  const info = await findRepo(`${dir}/wt`);
  assert.ok(info.isWorktree);
  const mine = await readHeadReflog(info.gitDir);
  const main = await readHeadReflog((await findRepo(repo.dir)).gitDir);
  assert.equal(mine?.[mine.length - 1].new, side);
  assert.equal(main?.[main.length - 1].new, base);
});
