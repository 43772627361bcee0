// Image archaeology end to end on a real daemon: a fixture repo with a sequence of commits, builds
// (labelled, unlabelled with a ledger record, unlabelled without one) and container runs (one
// stopped, one running); history, contains, suspects, marks, bad input, and the timeline picture
// opened in headless Chromium. Every test removes what it created.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../support/cli';
import { appendLedgerRecord, ledgerPath } from '../../src/core/build/ledger';
import { FixtureRepo } from '../support/gitFixture';
import { buildBusyboxImage, cleanupDocker, docker, requireDocker, runContainer, uniqueName } from '../support/dockerFixtures';

const REV = 'org.opencontainers.image.revision';
const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts');
const CHROMIUM = process.env.BP_CHROMIUM || '/usr/bin/chromium';

const run = runCli;

interface Story {
  repo: FixtureRepo;
  image: string;
  c: Record<string, string>;
  dates: Record<string, number>;
  A: string;
  B: string;
  C: string;
  D: string;
  ctrA: { name: string; started: string; finished: string };
  ctrC: { name: string; started: string };
  created: Record<string, string>;
}

let story: Story | undefined;
let dockerOk = false;

async function inspectCreated(id: string): Promise<string> {
  return new Date(JSON.parse(await docker(['image', 'inspect', id]))[0].Created).toISOString();
}

/**
 * The story (N = now): c0..c5 about 34 h ago; c6 90 s ago. Build A is labelled c1, B has no label
 * and no ledger record (inferred from the reflog: c6), C is labelled c6, D has no label but a
 * ledger build record (c5). A ran and stopped; C runs. c7 comes after every build.
 */
async function makeStory(): Promise<Story> {
  const image = uniqueName('arch');
  const repo = FixtureRepo.create('bp-arch-');
  const N = Math.floor(Date.now() / 1000);
  const c: Record<string, string> = {};
  const dates: Record<string, number> = {};
  const commit = (k: string, msg: string, files: Record<string, string>) => {
    c[k] = repo.commit(msg, files);
    dates[k] = repo.lastCommitTime;
  };
  repo.setClock(N - 34 * 3600);
  commit('c0', 'init', {
    '.provenance.json': JSON.stringify({ targets: [{ name: 'desk', image, dockerfile: 'Dockerfile' }] }),
    Dockerfile: 'FROM scratch\nCOPY app/ /app/\nADD scripts/start.sh /usr/local/bin/start.sh\nCMD ["/app/run"]\n',
    'app/run': 'v1\n',
    'scripts/start.sh': '#!/bin/sh\n',
    'docs/readme.md': 'docs\n',
  });
  commit('c1', 'start script: log the render node', { 'scripts/start.sh': '#!/bin/sh\necho "$RENDER_NODE"\n' });
  commit('c2', 'docs: streaming notes', { 'docs/readme.md': 'notes\n' });
  commit('c3', 'app: v2 <b>&"quoted"</b>', { 'app/run': 'v2\n' });
  commit('c4', 'desktop: export MESA_GL_VERSION_OVERRIDE=4.5 globally', { 'scripts/start.sh': '#!/bin/sh\nexport MESA_GL_VERSION_OVERRIDE=4.5\n' });
  commit('c5', 'docs: more', { 'docs/readme.md': 'more\n' });
  repo.setClock(N - 90 - 600);
  commit('c6', 'app: v3', { 'app/run': 'v3\n' });

  const A = (await buildBusyboxImage({ tags: [`${image}:a`], labels: { [REV]: c.c1 } })).id;
  const a = await runContainer({ image: `${image}:a` });
  await docker(['kill', a.name]);
  await new Promise((r) => setTimeout(r, 1100));
  const B = (await buildBusyboxImage({ tags: [`${image}:b`] })).id;
  await new Promise((r) => setTimeout(r, 1100));
  const C = (await buildBusyboxImage({ tags: [`${image}:c`, `${image}:latest`], labels: { [REV]: c.c6 } })).id;
  const cc = await runContainer({ image: `${image}:c` });
  await new Promise((r) => setTimeout(r, 1100));
  const D = (await buildBusyboxImage({ tags: [`${image}:d`] })).id;
  const at = new Date().toISOString();
  await appendLedgerRecord(path.join(repo.dir, '.git'), {
    kind: 'build', target: 'desk', revision: c.c5, dirty: false, inputHash: '', imageId: D, tags: [`${image}:d`], mode: 'command',
    startedAt: at, endedAt: at, result: 'success', smoke: null, error: null, tool: 'test',
  });
  // After every build, and dated 2 minutes ahead, so it is no neighbour of any build in the reflog.
  repo.setClock(N + 120 - 600);
  commit('c7', 'start script: scope the override to the one process', { 'scripts/start.sh': '#!/bin/sh\nMESA_GL_VERSION_OVERRIDE=4.5 exec app\n' });

  const stateA = JSON.parse(await docker(['container', 'inspect', a.name]))[0].State;
  const stateC = JSON.parse(await docker(['container', 'inspect', cc.name]))[0].State;
  const created: Record<string, string> = {};
  for (const [k, id] of Object.entries({ A, B, C, D })) created[k] = await inspectCreated(id);
  return {
    repo,
    image,
    c,
    dates,
    A,
    B,
    C,
    D,
    ctrA: { name: a.name, started: new Date(stateA.StartedAt).toISOString(), finished: new Date(stateA.FinishedAt).toISOString() },
    ctrC: { name: cc.name, started: new Date(stateC.StartedAt).toISOString() },
    created,
  };
}

before(async () => {
  // requireDocker needs a TestContext; the tests call it again. Here only: is there a daemon?
  dockerOk = await docker(['version']).then(
    () => existsSync('/bin/busybox'),
    () => false,
  );
  if (dockerOk) story = await makeStory();
});

after(async () => {
  story?.repo.cleanup();
  await cleanupDocker();
});

function s(): Story {
  assert.ok(story, 'the story was not set up');
  return story;
}

const near = (a: string, b: string, ms = 1500) => Math.abs(Date.parse(a) - Date.parse(b)) <= ms;

test('history: every image newest first, revisions from label, ledger and (marked) reflog inference; containers that ran it', async (t) => {
  if (!(await requireDocker(t))) return;
  const { repo, c, A, B, C, D, ctrA, ctrC } = s();
  const r = await run(['history', '--json', '--cwd', repo.dir]);
  assert.equal(r.code, 0, r.err);
  const [h] = r.json().targets;
  assert.equal(h.target, 'desk');
  assert.deepEqual(h.images.map((i: { imageId: string }) => i.imageId), [D, C, B, A]);
  const by = Object.fromEntries(h.images.map((i: { imageId: string }) => [i.imageId, i]));
  assert.deepEqual([by[A].revision.sha, by[A].revision.source, by[A].revision.inferred], [c.c1, 'label', false]);
  assert.deepEqual([by[C].revision.sha, by[C].revision.source], [c.c6, 'label']);
  assert.deepEqual([by[D].revision.sha, by[D].revision.source, by[D].revision.inferred], [c.c5, 'ledger', false]);
  // B: no label, no ledger record: HEAD at its creation time was c6 — inferred, never fact.
  assert.deepEqual([by[B].revision.sha, by[B].revision.source, by[B].revision.inferred, by[B].revision.confidence], [c.c6, 'inferred', true, 'medium']);
  assert.match(by[B].revision.notes.join(' '), /uncommitted changes/);
  assert.deepEqual(by[A].containers.map((x: { name: string; state: string }) => [x.name, x.state]), [[ctrA.name, 'exited']]);
  assert.ok(near(by[A].containers[0].started, ctrA.started) && near(by[A].containers[0].finished, ctrA.finished));
  assert.deepEqual(by[C].containers.map((x: { name: string; state: string; finished: string | null }) => [x.name, x.state, x.finished]), [[ctrC.name, 'running', null]]);
  assert.deepEqual(by[B].containers, []);
  const human = await run(['history', '--cwd', repo.dir]);
  assert.match(human.out, new RegExp(`${B.slice(7, 19)}.*\\n\\s+revision\\s+~${c.c6.slice(0, 12)} INFERRED \\(medium confidence, not recorded\\)`));
  assert.match(human.out, new RegExp(`revision\\s+${c.c5.slice(0, 12)} \\(build ledger\\)`));
});

test('contains: the first image built with the commit, the first run, what runs now, and the lags', async (t) => {
  if (!(await requireDocker(t))) return;
  const { repo, c, dates, A, B, C, ctrA, ctrC, created } = s();
  let r = await run(['contains', c.c1.slice(0, 10), '--json', '--cwd', repo.dir]);
  assert.equal(r.code, 0, r.err);
  let a = r.json();
  assert.equal(a.commit.sha, c.c1);
  assert.equal(a.firstBuild.imageId, A);
  assert.ok(near(a.firstBuild.builtAt, created.A), `${a.firstBuild.builtAt} vs ${created.A}`);
  assert.equal(a.lag.toFirstBuildSeconds, Math.round((Date.parse(a.firstBuild.builtAt) - dates.c1 * 1000) / 1000));
  assert.ok(a.lag.toFirstBuildSeconds > 33 * 3600);
  assert.deepEqual([a.firstRun.kind, a.firstRun.name], ['container', ctrA.name]);
  assert.equal(a.lag.toFirstRunSeconds, Math.round((Date.parse(a.firstRun.startedAt) - dates.c1 * 1000) / 1000));
  assert.deepEqual(a.running.map((x: { name: string }) => x.name), [ctrC.name]);
  assert.equal(a.lag.waitingSeconds, null);

  // c4 is in B only by B's inferred revision: the first build in fact is C; B is named apart.
  a = (await run(['contains', c.c4, '--json', '--cwd', repo.dir])).json();
  assert.equal(a.firstBuild.imageId, C);
  assert.equal(a.firstBuildInferred.imageId, B);
  assert.deepEqual([a.firstRun.name, a.running.length], [ctrC.name, 1]);
  assert.ok(near(a.firstRun.startedAt, ctrC.started));

  // c7 came after every build.
  a = (await run(['contains', c.c7, '--json', '--cwd', repo.dir])).json();
  assert.deepEqual([a.firstBuild, a.firstBuildInferred, a.firstRun, a.running], [null, null, null, []]);
  assert.equal(a.lag.toFirstBuildSeconds, null);
  assert.equal(typeof a.lag.waitingSeconds, 'number');

  r = await run(['contains', c.c4, '--cwd', repo.dir]);
  assert.match(r.out, /first built {2}[0-9a-f]{12} \(.*:c.*\) at .* — \d+ h after the commit/);
  assert.match(r.out, /maybe earlier: .* only inferred/);
});

test('suspects: exactly the commits between two builds that change inputs, with the instruction per file', async (t) => {
  if (!(await requireDocker(t))) return;
  const { repo, image, c, A, C } = s();
  const r = await run(['suspects', `${image}:a`, `${image}:c`, '--json', '--cwd', repo.dir]);
  assert.equal(r.code, 0, r.err);
  const res = r.json();
  assert.deepEqual([res.good.imageId, res.good.revision, res.bad.imageId, res.bad.revision], [A, c.c1, C, c.c6]);
  assert.equal(res.total, 5);
  assert.deepEqual(res.suspects.map((x: { sha: string }) => x.sha), [c.c6, c.c4, c.c3]);
  const c4 = res.suspects[1];
  assert.equal(c4.subject, 'desktop: export MESA_GL_VERSION_OVERRIDE=4.5 globally');
  assert.equal(c4.author, 'Fixture Author');
  assert.deepEqual(c4.files.map((f: { path: string }) => f.path), ['scripts/start.sh']);
  assert.deepEqual(
    c4.files[0].via.map((v: { line: number; instruction: string }) => [v.line, v.instruction]),
    [[3, 'ADD scripts/start.sh /usr/local/bin/start.sh']],
  );
  assert.deepEqual(res.suspects[0].files[0].via.map((v: { line: number }) => v.line), [2]);

  // The same range named by image ID prefix and by revision.
  const byId = (await run(['suspects', A.slice(7, 19), c.c6.slice(0, 9), '--json', '--cwd', repo.dir])).json();
  assert.deepEqual(byId.suspects.map((x: { sha: string }) => x.sha), [c.c6, c.c4, c.c3]);
  assert.equal(byId.bad.kind, 'revision');

  const human = await run(['suspects', `${image}:a`, `${image}:c`, '--cwd', repo.dir]);
  assert.match(human.out, /3 of 5 commit\(s\) in between change files baked into the image:/);
  assert.match(human.out, /scripts\/start\.sh {2}← Dockerfile:3 ADD scripts\/start\.sh/);
});

test('mark good/bad in the ledger; suspects with no arguments uses them; a ledger id names a build', async (t) => {
  if (!(await requireDocker(t))) return;
  const { repo, image, c, A, C } = s();
  let r = await run(['suspects', '--json', '--cwd', repo.dir]);
  assert.equal(r.code, 2);
  assert.match(r.json().error, /No build of desk failed a smoke test or was marked bad/);
  r = await run(['mark', `${image}:a`, 'good', '--json', '--cwd', repo.dir]);
  assert.equal(r.code, 0, r.err);
  const goodMark = r.json();
  assert.deepEqual([goodMark.imageId, goodMark.revision, goodMark.verdict], [A, c.c1, 'good']);
  r = await run(['mark', `${image}:c`, 'bad', '--cwd', repo.dir]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /marked [0-9a-f]{12} .* bad \(revision [0-9a-f]{12}\) — build ledger \d{8}-/);
  assert.equal((await run(['mark', c.c4, 'bad', '--cwd', repo.dir])).code, 2);
  assert.equal((await run(['mark', `${image}:a`, 'meh', '--cwd', repo.dir])).code, 2);

  const auto = (await run(['suspects', '--json', '--cwd', repo.dir])).json();
  assert.deepEqual([auto.good.imageId, auto.good.verdict, auto.bad.imageId, auto.bad.verdict], [A, 'good', C, 'bad']);
  assert.deepEqual(auto.suspects.map((x: { sha: string }) => x.sha), [c.c6, c.c4, c.c3]);
  const byLedger = (await run(['suspects', goodMark.ledgerId, `${image}:c`, '--json', '--cwd', repo.dir])).json();
  assert.deepEqual([byLedger.good.kind, byLedger.good.ledgerId, byLedger.good.imageId], ['ledger', goodMark.ledgerId, A]);
  assert.equal(byLedger.suspects.length, 3);

  const h = (await run(['history', '--json', '--cwd', repo.dir])).json().targets[0];
  const verdicts = Object.fromEntries(h.images.map((i: { imageId: string; verdict: string }) => [i.imageId, i.verdict]));
  assert.deepEqual([verdicts[A], verdicts[C]], ['good', 'bad']);
  // The ledger's own view still lists every record.
  const ledger = (await run(['history', '--ledger', '--json', '--cwd', repo.dir])).json();
  assert.deepEqual(ledger.map((e: { kind: string }) => e.kind), ['mark', 'mark', 'build']);
  assert.deepEqual(ledger.map((e: { verdict: string | null }) => e.verdict), ['bad', 'good', null]);

  // A commit names the one build made from it (by label or ledger record); else it says why not.
  r = await run(['mark', c.c6, 'bad', '--json', '--cwd', repo.dir]);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual([r.json().imageId, r.json().revision, r.json().verdict], [C, c.c6, 'bad']);
  r = await run(['mark', c.c2, 'good', '--json', '--cwd', repo.dir]);
  assert.equal(r.code, 2);
  assert.match(r.json().error, /^No build of desk was made from commit [0-9a-f]{12} \(by its revision label or the build ledger\), so there is nothing to mark\./);
});

test('bad input: unknown image or tag, a revision not in history, a corrupt ledger line', async (t) => {
  if (!(await requireDocker(t))) return;
  const { repo, image, c } = s();
  let r = await run(['suspects', 'no-such-image:tag', `${image}:c`, '--json', '--cwd', repo.dir]);
  assert.equal(r.code, 2);
  assert.match(r.json().error, /"no-such-image:tag" is not an image, tag or build-ledger entry of desk, nor a revision/);
  assert.match(r.json().hint, /provenance history/);
  r = await run(['suspects', 'deadbeefcafe', `${image}:c`, '--cwd', repo.dir]);
  assert.equal(r.code, 2);
  assert.match(r.err, /"deadbeefcafe" is not an image, tag or build-ledger entry of desk, nor a commit in this clone/);
  r = await run(['contains', '0123456789abcdef0123456789abcdef01234567', '--json', '--cwd', repo.dir]);
  assert.equal(r.code, 2);
  assert.match(r.json().error, /0123456789abcdef0123456789abcdef01234567 is not a commit in this clone/);
  r = await run(['suspects', '20991231-235959999-00000000', c.c6, '--cwd', repo.dir]);
  assert.equal(r.code, 2);
  assert.match(r.err, /no build-ledger entry 20991231-235959999-00000000/);

  // A torn line between records: skipped with a warning, every other record still counts.
  const file = ledgerPath(path.join(repo.dir, '.git'));
  appendFileSync(file, '{"v":1,"id":"torn-rec');
  t.after(() => appendFileSync(file, '\n'));
  r = await run(['history', '--json', '--cwd', repo.dir]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /warning: .*ledger\.jsonl:\d+: not a complete record .*; moved to .*ledger\.quarantine\.jsonl\./);
  const again = await run(['history', '--json', '--cwd', repo.dir]);
  assert.doesNotMatch(again.err, /not a complete record/, 'the torn line warns once');
  const h = r.json().targets[0];
  assert.equal(h.images.find((i: { revision: { source: string } }) => i.revision.source === 'ledger').revision.sha, c.c5);
  assert.equal(h.images.filter((i: { verdict: string | null }) => i.verdict).length, 2, 'the marks before the torn line still count');
});

test('timeline: one self-contained HTML/SVG file, opened in headless Chromium; marks counted, screenshot taken', async (t) => {
  if (!(await requireDocker(t))) return;
  if (!existsSync(CHROMIUM)) {
    const msg = `${CHROMIUM} is missing; install it with \`apt-get install -y chromium\``;
    if (process.env.CI === 'true') throw new Error(msg);
    t.skip(msg);
    return;
  }
  const { repo, c } = s();
  const dir = await mkdtemp(path.join(tmpdir(), 'bp-timeline-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'timeline.html');
  const r = await run(['timeline', '--html', file, '--threshold-hours', '4', '--json', '--cwd', repo.dir]);
  assert.equal(r.code, 0, r.err);
  const data = r.json();
  // Since the oldest build with a known revision (A at c1), the commits that change inputs.
  assert.deepEqual(data.commits.map((x: { sha: string }) => x.sha), [c.c7, c.c6, c.c4, c.c3]);
  assert.deepEqual(data.commits.map((x: { late: boolean }) => x.late), [false, false, true, true]);
  const html = readFileSync(file, 'utf8');
  assert.match(html, /Content-Security-Policy" content="default-src &#39;none&#39;/);
  assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  assert.ok(html.includes('app: v2 &lt;b&gt;&amp;&quot;quoted&quot;&lt;/b&gt;'), 'subjects are escaped');

  const { chromium } = await import('playwright-core');
  const profile = path.join(dir, 'profile');
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1224, height: 200 },
    offline: true,
  });
  try {
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    const requests: string[] = [];
    page.on('request', (req) => requests.push(req.url()));
    await page.goto(`file://${file}`);
    const count = (sel: string) => page.locator(sel).count();
    assert.equal(await count('svg .commits .commit circle.dot'), 4);
    assert.equal(await count('svg .commits .commit.late circle.dot.late'), 2);
    assert.equal(await count('svg .builds path.build'), 4);
    assert.equal(await count('svg .builds path.build.inferred'), 1);
    assert.equal(await count('svg .runs rect.run'), 2);
    assert.equal(await count('svg .runs rect.run.running'), 1);
    // The stylesheet applied (the CSP nonce matched): a late dot is drawn red, not black.
    const fill = await page.evaluate('getComputedStyle(document.querySelector("svg .commit.late circle.dot")).fill');
    assert.notEqual(fill, 'rgb(0, 0, 0)');
    assert.deepEqual(requests.filter((u) => !u.startsWith('file://')), []);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'timeline.png'), fullPage: true });
  } finally {
    await ctx.close();
  }
});
