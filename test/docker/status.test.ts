// Every drift state, end to end: a real repo, a real Docker daemon, busybox images FROM scratch
// with labels, containers on host networking. Every test removes what it created.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../support/cli';
import { FixtureRepo } from '../support/gitFixture';
import { buildBusyboxImage, cleanupDocker, removeContainer, requireDocker, runContainer, uniqueName } from '../support/dockerFixtures';
import { cacheKey, sign, verify } from '../../src/core/git/cacheFiles';

after(() => cleanupDocker());

const REV = 'org.opencontainers.image.revision';

const run = runCli;

/** A repo whose image `image` is built from `app/` plus an ADDed script; docs are not inputs. */
function appRepo(image: string, extra: Record<string, unknown> = {}) {
  const repo = FixtureRepo.create('bp-status-');
  const base = repo.commit('init', {
    '.provenance.json': JSON.stringify({ targets: [{ name: 'app', image, dockerfile: 'Dockerfile', ...extra }] }),
    Dockerfile: 'FROM scratch\nCOPY app/ /app/\nADD scripts/start.sh /usr/local/bin/start.sh\nCMD ["/app/run"]\n',
    'app/run': 'v1\n',
    'scripts/start.sh': '#!/bin/sh\n',
    'docs/readme.md': 'docs\n',
  });
  return { repo, base };
}

/** appRepo with an image of its first commit built and a container running it. */
async function deployedApp(t: { after: (fn: () => void) => void }) {
  const image = uniqueName('app');
  const { repo, base } = appRepo(image);
  t.after(() => repo.cleanup());
  const img = await buildBusyboxImage({ tags: [`${image}:latest`], labels: { [REV]: base } });
  const ctr = await runContainer({ image: `${image}:latest` });
  return { image, repo, base, img, ctr };
}

async function status(dir: string) {
  const r = await run(['status', '--json', '--cwd', dir]);
  assert.equal(r.code, 0, r.err);
  return r.json();
}

test('status: in-sync, then drift after a commit to an input, then check exits 1', async (t) => {
  if (!(await requireDocker(t))) return;
  const { repo, base, img, ctr } = await deployedApp(t);

  let s = await status(repo.dir);
  assert.equal(s.state, 'in-sync', s.summary);
  assert.equal(s.head.sha, base);
  assert.equal(s.built.imageId, img.id);
  assert.equal(s.built.revision, base);
  assert.deepEqual(s.running.map((r: { name: string; revision: string }) => [r.name, r.revision]), [[ctr.name, base]]);
  assert.equal((await run(['check', '--cwd', repo.dir])).code, 0);

  repo.commit('docs only', { 'docs/readme.md': 'more\n' });
  s = await status(repo.dir);
  assert.equal(s.state, 'drift-irrelevant');
  assert.equal(s.undeployed.total, 1);
  assert.equal(s.undeployed.relevantCount, 0);

  const c1 = repo.commit('change the start script', { 'scripts/start.sh': '#!/bin/sh\nexport MESA_GL_VERSION_OVERRIDE=4.5\n' });
  const c2 = repo.commit('app + docs', { 'app/run': 'v2\n', 'docs/readme.md': 'again\n' });
  s = await status(repo.dir);
  assert.equal(s.state, 'drift');
  assert.equal(s.undeployed.against, 'running');
  assert.equal(s.undeployed.total, 3);
  assert.equal(s.undeployed.relevantCount, 2);
  assert.deepEqual(s.undeployed.relevant.map((c: { sha: string; files: string[] }) => [c.sha, c.files]), [[c2, ['app/run']], [c1, ['scripts/start.sh']]]);
  assert.ok(s.undeployed.oldestRelevantAgeSeconds > 0);
  assert.deepEqual(s.unbuilt, { total: 3, relevantCount: 2 });
  const check = await run(['check', '--cwd', repo.dir]);
  assert.equal(check.code, 1);
  assert.match(check.out, /2 undeployed commits change files baked into/);
  const human = await run(['status', '--cwd', repo.dir]);
  assert.match(human.out, /app \[drift\]/);
  assert.match(human.out, /change the start script/);
});

test('status: the hints an earlier status left (revision, pathspecs, split point) are checked, never trusted', async (t) => {
  if (!(await requireDocker(t))) return;
  const app = await deployedApp(t);
  const { image, repo, base } = app;
  let ctr = app.ctr;
  const hints = path.join(repo.dir, '.git', 'build-provenance', 'status-cache.json');
  const inputsCache = path.join(repo.dir, '.git', 'build-provenance', 'inputs-cache.json');
  // A status without any hint must say the same.
  const same = async () => {
    const hinted = await status(repo.dir);
    const saved = readFileSync(hints, 'utf8');
    rmSync(hints);
    rmSync(inputsCache, { force: true });
    const fresh = await status(repo.dir);
    writeFileSync(hints, saved);
    for (const s of [hinted, fresh]) delete s.undeployed?.oldestRelevantAgeSeconds;
    assert.deepEqual(hinted, fresh);
    return hinted;
  };
  repo.commit('app', { 'app/run': 'v2\n' });
  assert.equal((await status(repo.dir)).undeployed.relevantCount, 1);
  assert.ok(existsSync(hints), 'the first status leaves hints');
  // The hint file is signed (as every cache of ours): read and rewrite it as provenance would.
  const key = cacheKey()!;
  const readHints = () => verify(key, 'status-cache.json', readFileSync(hints, 'utf8')) as Record<string, unknown>;
  const entry = () => Object.values(readHints())[0] as { revs: string[]; keys: Record<string, string>; mids: Record<string, string> };
  assert.deepEqual(entry().revs, [base]);
  assert.ok(entry().keys[base], 'with the pathspecs it walked with');

  // The Dockerfile changes: docs become an input. The pathspecs hinted at are stale.
  repo.commit('docs go in', { Dockerfile: 'FROM scratch\nCOPY app/ /app/\nCOPY docs/ /docs/\nADD scripts/start.sh /usr/local/bin/start.sh\n' });
  const docs = repo.commit('docs', { 'docs/readme.md': 'now baked in\n' });
  let s = await same();
  assert.equal(s.undeployed.relevantCount, 3, 'the docs commit counts with the new Dockerfile');
  assert.equal(s.undeployed.relevant[0].sha, docs);

  // Another image runs now: the hinted revision is the wrong one.
  await removeContainer(ctr.name);
  await buildBusyboxImage({ tags: [`${image}:latest`], labels: { [REV]: docs } });
  ctr = await runContainer({ image: `${image}:latest` });
  s = await same();
  assert.equal(s.state, 'in-sync');

  // Hints that lie (a key and a split point of something else) change nothing either.
  repo.commit('more app', { 'app/run': 'v3\n' });
  const all = readHints();
  for (const e of Object.values(all) as { revs: string[]; keys: Record<string, string>; mids: Record<string, string> }[]) {
    e.keys = { [docs]: 'f'.repeat(40) };
    e.mids = { [docs]: base };
  }
  writeFileSync(hints, sign(key, 'status-cache.json', JSON.stringify(all)));
  s = await same();
  assert.equal(s.undeployed.relevantCount, 1);
  // The same hints unsigned (a file the repository ships): no hint at all.
  writeFileSync(hints, JSON.stringify(all));
  assert.equal((await status(repo.dir)).undeployed.relevantCount, 1, 'an unsigned hint file is no hint');
  writeFileSync(hints, '{not json');
  assert.equal((await status(repo.dir)).undeployed.relevantCount, 1, 'an unreadable hint file is no hint');
});

test('status: uncommitted changes to inputs (but not to docs)', async (t) => {
  if (!(await requireDocker(t))) return;
  const { repo } = await deployedApp(t);
  repo.write('docs/readme.md', 'edited\n');
  assert.equal((await status(repo.dir)).state, 'in-sync');
  repo.write('app/new-file', 'untracked input\n');
  const s = await status(repo.dir);
  assert.equal(s.state, 'uncommitted');
  assert.deepEqual(s.uncommitted, ['app/new-file']);
  assert.equal(s.head.dirty, true);
  assert.equal((await run(['check', '--cwd', repo.dir])).code, 1);
});

test('status: diverged history counts both sides', async (t) => {
  if (!(await requireDocker(t))) return;
  const image = uniqueName('app');
  const { repo } = appRepo(image);
  t.after(() => repo.cleanup());
  repo.git('checkout', '-q', '-b', 'experiment');
  const exp = repo.commit('experiment', { 'app/run': 'exp\n' });
  repo.git('checkout', '-q', 'main');
  repo.commit('main work', { 'app/run': 'main\n' });
  repo.commit('main docs', { 'docs/readme.md': 'x\n' });
  await buildBusyboxImage({ tags: [`${image}:exp`], labels: { [REV]: exp } });
  await runContainer({ image: `${image}:exp` });
  const s = await status(repo.dir);
  assert.equal(s.state, 'diverged');
  assert.equal(s.undeployed.behind, 1);
  assert.equal(s.undeployed.total, 2);
  assert.equal(s.undeployed.relevantCount, 1);
});

test('status: unknown revision (not in this clone) says to fetch', async (t) => {
  if (!(await requireDocker(t))) return;
  const image = uniqueName('app');
  const { repo } = appRepo(image);
  t.after(() => repo.cleanup());
  const ghost = '0123456789abcdef0123456789abcdef01234567';
  await buildBusyboxImage({ tags: [`${image}:latest`], labels: { [REV]: `${ghost}-dirty` } });
  await runContainer({ image: `${image}:latest` });
  const s = await status(repo.dir);
  assert.equal(s.state, 'unknown-revision');
  assert.match(s.hint, /git fetch/);
  assert.equal(s.running[0].labelState, 'unknown');
  assert.equal(s.running[0].dirty, true);
  const check = await run(['check', '--cwd', repo.dir]);
  assert.equal(check.code, 2);
  assert.match(check.err, /cannot check/);
});

test('status: short SHA labels resolve; a dirty build says so', async (t) => {
  if (!(await requireDocker(t))) return;
  const image = uniqueName('app');
  const { repo, base } = appRepo(image);
  t.after(() => repo.cleanup());
  await buildBusyboxImage({ tags: [`${image}:latest`], labels: { [REV]: `${base.slice(0, 8)}-dirty` } });
  await runContainer({ image: `${image}:latest` });
  const s = await status(repo.dir);
  assert.equal(s.state, 'in-sync');
  assert.equal(s.running[0].revision, base);
  assert.equal(s.running[0].dirty, true);
  assert.match((await run(['status', '--cwd', repo.dir])).out, new RegExp(`${base.slice(0, 12)}-dirty`));
});

test('status: unlabeled image, and a garbage label, are "unlabeled" with how to label', async (t) => {
  if (!(await requireDocker(t))) return;
  const image = uniqueName('app');
  const { repo } = appRepo(image);
  t.after(() => repo.cleanup());
  await buildBusyboxImage({ tags: [`${image}:latest`] });
  const c = await runContainer({ image: `${image}:latest` });
  let s = await status(repo.dir);
  assert.equal(s.state, 'unlabeled');
  assert.match(s.hint, /--label org\.opencontainers\.image\.revision=\$\(git rev-parse HEAD\)/);

  await run(['status', '--cwd', repo.dir]);
  await removeContainer(c.name);
  await buildBusyboxImage({ tags: [`${image}:garbage`], labels: { [REV]: '<img src=x onerror=alert(1)> [click](command:evil)' } });
  await runContainer({ image: `${image}:garbage` });
  s = await status(repo.dir);
  assert.equal(s.state, 'unlabeled');
  assert.match(s.summary, /not a git commit/);
  assert.equal(s.running[0].labelState, 'garbage');
});

test('status: no image, then an image but no container', async (t) => {
  if (!(await requireDocker(t))) return;
  const image = uniqueName('app');
  const { repo, base } = appRepo(image);
  t.after(() => repo.cleanup());
  assert.equal((await status(repo.dir)).state, 'no-image');
  assert.equal((await run(['check', '--cwd', repo.dir])).code, 2);
  await buildBusyboxImage({ tags: [`${image}:latest`], labels: { [REV]: base } });
  repo.commit('app change', { 'app/run': 'v2\n' });
  const s = await status(repo.dir);
  assert.equal(s.state, 'no-container');
  assert.equal(s.undeployed.against, 'built');
  assert.equal(s.undeployed.relevantCount, 1);
});

test('status: Docker down is a state with a reason and a hint, never a crash', async (t) => {
  if (!(await requireDocker(t))) return;
  const image = uniqueName('app');
  const { repo } = appRepo(image, { docker: { endpoints: ['unix:///tmp/bp-no-such-docker.sock'] } });
  t.after(() => repo.cleanup());
  const s = await status(repo.dir);
  assert.equal(s.state, 'docker-unreachable');
  assert.equal(s.docker.reachable, false);
  assert.match(s.summary, /bp-no-such-docker\.sock/);
  assert.ok(s.hint.length > 10);
  const check = await run(['check', '--cwd', repo.dir]);
  assert.equal(check.code, 2);
  assert.match(check.err, /cannot check: Docker unreachable/);
});

test('status: detached HEAD and zero-config Dockerfile from the image label', async (t) => {
  if (!(await requireDocker(t))) return;
  const image = uniqueName('helix');
  const repo = FixtureRepo.create('bp-status-');
  t.after(() => repo.cleanup());
  const base = repo.commit('init', {
    'build/desktop.Containerfile-ish': 'FROM scratch\nCOPY desktop/ /d/\n',
    'desktop/a.sh': '1\n',
  });
  repo.commit('second', { 'desktop/a.sh': '2\n' });
  repo.git('checkout', '-q', '--detach', 'HEAD');
  await buildBusyboxImage({ tags: [`${image}:latest`], labels: { [REV]: base, 'com.docker.image.source.entrypoint': 'build/desktop.Containerfile-ish' } });
  await runContainer({ image: `${image}:latest` });
  const r = await run(['status', '--json', '--image', image, '--cwd', repo.dir]);
  assert.equal(r.code, 0, r.err);
  const s = r.json();
  assert.equal(s.dockerfile, 'build/desktop.Containerfile-ish');
  assert.equal(s.head.detached, true);
  assert.equal(s.state, 'drift');
  assert.equal(s.undeployed.relevantCount, 1);
});

test('status: an empty repo is a clear error', async (t) => {
  if (!(await requireDocker(t))) return;
  const repo = FixtureRepo.create('bp-status-');
  t.after(() => repo.cleanup());
  repo.write('.provenance.json', JSON.stringify({ targets: [{ image: uniqueName('x'), dockerfile: 'Dockerfile' }] })).write('Dockerfile', 'FROM scratch\n');
  const r = await run(['status', '--cwd', repo.dir]);
  assert.equal(r.code, 2);
  assert.match(r.err, /has no commits yet \(branch main is unborn\)/);
  assert.match(r.err, /Make a first commit/);
});

test('exit codes per state: status exits 0 whatever it finds; check (human and --json) exits 0, 1 or 2 as the README table says', async (t) => {
  if (!(await requireDocker(t))) return;
  const image = uniqueName('codes');
  const { repo, base } = appRepo(image);
  t.after(() => repo.cleanup());
  const cases: { state: string; check: number; arrange: () => Promise<void> }[] = [
    { state: 'no-image', check: 2, arrange: async () => undefined },
    { state: 'unlabeled', check: 2, arrange: async () => void (await runContainer({ image: (await buildBusyboxImage({ tags: [`${image}:unlabeled`] })).id })) },
    { state: 'unknown-revision', check: 2, arrange: async () => void (await runContainer({ image: (await buildBusyboxImage({ tags: [`${image}:ghost`], labels: { [REV]: 'f'.repeat(40) } })).id })) },
    { state: 'in-sync', check: 0, arrange: async () => void (await runContainer({ image: (await buildBusyboxImage({ tags: [`${image}:base`], labels: { [REV]: base } })).id })) },
    { state: 'drift-irrelevant', check: 0, arrange: async () => void repo.commit('docs', { 'docs/readme.md': 'more\n' }) },
    { state: 'drift', check: 1, arrange: async () => void repo.commit('app', { 'app/run': 'v2\n' }) },
  ];
  for (const c of cases) {
    await c.arrange();
    const s = await run(['status', '--json', '--cwd', repo.dir]);
    assert.equal(s.code, 0, `status exits 0 in ${c.state}: ${s.err}`);
    assert.equal(s.json().state, c.state, s.json().summary);
    const human = await run(['check', '--cwd', repo.dir]);
    assert.equal(human.code, c.check, `check in ${c.state}`);
    if (c.check === 2) assert.match(human.err, /cannot check:/);
    const j = await run(['check', '--json', '--cwd', repo.dir]);
    assert.equal(j.code, c.check);
    assert.deepEqual([j.json().state, j.json().exitCode], [c.state, c.check], 'check --json is the status JSON with exitCode');
    assert.equal(j.json().target, 'app');
  }
  // Uncommitted input changes are drift, even where it cannot otherwise tell.
  writeFileSync(path.join(repo.dir, 'scripts/start.sh'), '#!/bin/sh\necho changed\n');
  assert.equal((await run(['check', '--cwd', repo.dir])).code, 1);
  // Docker unreachable: status 0 with the state, check 2.
  const cfg = path.join(repo.dir, '.provenance.json');
  writeFileSync(cfg, JSON.stringify({ targets: [{ name: 'app', image, dockerfile: 'Dockerfile', docker: { endpoints: ['unix:///nonexistent/bp-codes.sock'] } }] }));
  repo.git('checkout', '--', 'scripts/start.sh');
  const down = await run(['status', '--json', '--cwd', repo.dir]);
  assert.deepEqual([down.code, down.json().state], [0, 'docker-unreachable']);
  assert.equal((await run(['check', '--cwd', repo.dir])).code, 2);
});

test('status: one of two endpoints unreachable is said (human, JSON), the other one still counts', async (t) => {
  if (!(await requireDocker(t))) return;
  const { repo, base } = await deployedApp(t);
  const cfg = JSON.parse(readFileSync(path.join(repo.dir, '.provenance.json'), 'utf8'));
  cfg.targets[0].docker = { endpoints: [process.env.DOCKER_HOST || 'unix:///var/run/docker.sock', 'unix:///nonexistent/bp-second.sock'] };
  writeFileSync(path.join(repo.dir, '.provenance.json'), JSON.stringify(cfg));
  const s = await status(repo.dir);
  assert.equal(s.state, 'in-sync', s.summary);
  assert.equal(s.running[0].revision, base);
  assert.equal(s.docker.reachable, true);
  assert.deepEqual(s.docker.unreachable.map((u: { endpoint: string }) => u.endpoint), ['unix:///nonexistent/bp-second.sock']);
  assert.match(s.docker.unreachable[0].reason, /Cannot connect to Docker at unix:\/\/\/nonexistent\/bp-second\.sock: socket not found/);
  const human = await run(['status', '--cwd', repo.dir]);
  assert.match(human.out, /\n {2}Docker {3}unix:\/\/\/nonexistent\/bp-second\.sock unreachable \(its images and containers are not counted\): Cannot connect/);
  cfg.targets[0].docker.endpoints.pop();
  writeFileSync(path.join(repo.dir, '.provenance.json'), JSON.stringify(cfg));
  assert.deepEqual((await status(repo.dir)).docker.unreachable, []);
});

test('status: a smoke-test container of the new image is not what runs (the deployment stays the reference)', async (t) => {
  if (!(await requireDocker(t))) return;
  const { repo, image, ctr } = await deployedApp(t);
  const head = repo.commit('app v2', { 'app/run': 'v2\n' });
  await buildBusyboxImage({ tags: [`${image}:new`], labels: { [REV]: head } });
  await runContainer({ image: `${image}:new`, labels: { 'dev.build-provenance.smoke': '1' } });
  const s = await status(repo.dir);
  assert.equal(s.state, 'drift', s.summary);
  assert.deepEqual(s.running.map((r: { name: string }) => r.name), [ctr.name]);
});
