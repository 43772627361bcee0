// Verified provenance against a real daemon: images FROM scratch with busybox whose files are
// copied from commits of a test repository, read back through the archive API and compared with
// git. Every test removes what it created; the created-never-started containers are checked gone.
import { test, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { runCli } from '../support/cli';
import { FixtureRepo } from '../support/gitFixture';
import { buildBusyboxImage, buildImageFromCommit, cleanupDocker, docker, removeContainer, requireDocker, runContainer, testEndpoint, uniqueName } from '../support/dockerFixtures';
import { archiveRequestCount, readFiles, VERIFY_LABEL, VERIFY_OWNER_LABEL } from '../../src/core/docker/archiveReader';
import { computeStatus } from '../../src/core/status/statusQuery';
import { dockerStateFor, openWorkspace } from '../../src/core/status/workspace';
import { createdContainerReasons } from '../../src/core/status/verification';
import { ResultMemo } from '../../src/core/status/resultCache';
import { gitSpawnCount, recentGitSpawns } from '../../src/core/git/exec';

after(() => cleanupDocker());

const REV = 'org.opencontainers.image.revision';

const DOCKERFILE = [
  'FROM scratch AS build',
  'COPY src/ /src/',
  'FROM scratch',
  'COPY busybox /bin/busybox',
  'WORKDIR /etc',
  'COPY conf/ helix/',
  'ADD desktop/shared/detect-render-node.sh /usr/local/bin/detect-render-node.sh',
  'COPY --chown=0:0 desktop/shared/start.sh /usr/local/bin/', // --chmod needs BuildKit; the legacy builder takes --chown
  'COPY --from=build /src/main.go /opt/main.go',
  'CMD ["/bin/busybox","sleep","3600"]',
  '',
].join('\n');

/** The same, then a RUN that edits one baked file and removes another. */
const DOCKERFILE_RUN = DOCKERFILE.replace(
  'COPY --from=build',
  'RUN ["/bin/busybox","sh","-c","echo \'# local\' >> /etc/helix/a.conf && /bin/busybox rm /usr/local/bin/start.sh"]\nCOPY --from=build',
);

/** c1 initial · c2 the script exports MESA_GL_VERSION_OVERRIDE · c3 Go code only · c4 a config. */
function incidentRepo(image: string) {
  const repo = FixtureRepo.create('bp-verify-');
  const c1 = repo.commit('initial', {
    '.gitignore': 'busybox\n',
    '.provenance.json': JSON.stringify({
      targets: [
        { name: 'desk', image, dockerfile: 'Dockerfile' },
        { name: 'desk-run', image: `${image}-run`, dockerfile: 'Dockerfile.run' },
      ],
    }),
    Dockerfile: DOCKERFILE,
    'Dockerfile.run': DOCKERFILE_RUN,
    'conf/a.conf': 'a=1\n',
    'conf/sub/b.conf': 'b=1\n',
    'desktop/shared/detect-render-node.sh': '#!/bin/sh\nfind_render_node() { :; }\n',
    'desktop/shared/start.sh': '#!/bin/sh\nexec sway\n',
    'src/main.go': 'package main\n',
    'docs/notes.md': 'not an input\n',
  });
  const c2 = repo.commit('desktop: export MESA_GL_VERSION_OVERRIDE=4.5', { 'desktop/shared/detect-render-node.sh': '#!/bin/sh\nexport MESA_GL_VERSION_OVERRIDE=4.5\nfind_render_node() { :; }\n' });
  const c3 = repo.commit('api: settings sync', { 'src/main.go': 'package main\n// sync\n' });
  const c4 = repo.commit('conf: a=2', { 'conf/a.conf': 'a=2\n' });
  return { repo, c1, c2, c3, c4 };
}

/** A fresh incident repo for one test (removed after it), or null when Docker is not there. */
async function setup(t: TestContext) {
  if (!(await requireDocker(t))) return null;
  const image = uniqueName('desk');
  const h = incidentRepo(image);
  t.after(() => h.repo.cleanup());
  return { image, h };
}

/** setup(), then `${image}:latest` built from commit `built` with the revision label `label`, and a container running it. */
async function labelledRunning(t: TestContext, built: 'c1' | 'c3' | 'c4', label: 'c3' | 'c4') {
  const ready = await setup(t);
  if (!ready) return null;
  const { image, h } = ready;
  await buildImageFromCommit(h.repo.dir, h[built], { tags: [`${image}:latest`], labels: { [REV]: h[label] } });
  const ctr = await runContainer({ image: `${image}:latest` });
  return { ...ready, ctr };
}

async function verify(dir: string, ...args: string[]) {
  const r = await runCli(['verify', '--json', '--cwd', dir, ...args]);
  let json;
  try {
    json = r.json();
  } catch {
    assert.fail(`verify printed no JSON (exit ${r.code}): ${r.out}\n${r.err}`);
  }
  return { code: r.code, v: json.verification, json, err: r.err };
}

type FileV = { path: string; destination: string; verdict: string; matchesHead: boolean; versionOf: { oldest: string; newest: string; replacedBy: string | null } | null };
const byPath = (files: FileV[]) => Object.fromEntries(files.map((f) => [f.path, f]));

/** The created-never-started containers this process left behind (must be none). */
async function leftovers(): Promise<string[]> {
  const out = await docker(['ps', '-a', '--filter', `label=${VERIFY_LABEL}=1`, '--filter', `label=${VERIFY_OWNER_LABEL}=${hostname()}:${process.pid}`, '--format', '{{.Names}}']);
  return out.split('\n').filter(Boolean);
}

test('verify: an unlabeled image gets the revisions its bytes are consistent with (directory COPY, WORKDIR-relative destination)', async (t) => {
  const ready = await setup(t);
  if (!ready) return;
  const { image, h } = ready;
  const img = await buildImageFromCommit(h.repo.dir, h.c2, { tags: [`${image}:1ac9d5`] });

  const { code, v, json } = await verify(h.repo.dir, '--target', 'desk', '--image', img.id);
  assert.equal(code, 0, JSON.stringify(json));
  assert.equal(v.state, 'consistent', v.reason);
  assert.equal(json.revisionSource, 'content');
  // c3 changes only Go code, which is not read back: the bytes fit c2 and c3 alike.
  assert.deepEqual(v.consistentWith, { oldest: h.c2, newest: h.c3 });
  assert.equal(json.revision, h.c3);
  const f = byPath(v.files);
  assert.deepEqual(Object.keys(f).sort(), ['conf/a.conf', 'conf/sub/b.conf', 'desktop/shared/detect-render-node.sh', 'desktop/shared/start.sh']);
  assert.equal(f['conf/sub/b.conf'].destination, '/etc/helix/sub/b.conf', 'WORKDIR /etc + COPY conf/ helix/');
  assert.equal(f['desktop/shared/start.sh'].destination, '/usr/local/bin/start.sh');
  assert.ok(v.files.every((x: FileV) => x.verdict === 'matches'), JSON.stringify(v.files));
  assert.equal(f['conf/a.conf'].matchesHead, false, 'a.conf changed in c4');
  assert.deepEqual(f['conf/a.conf'].versionOf, { oldest: h.c1, newest: h.c3, replacedBy: h.c4 });
  assert.equal(v.checked, 4);
  assert.equal(v.matched, 4);
  assert.equal(v.uncertain.count, 1, 'c3 changes an input that cannot be read back');
  assert.equal(v.uncertain.commits[0].sha, h.c3);
  assert.deepEqual(await leftovers(), []);
});

test('verify: an honest label is verified; a lying label is contradicted and named (exit 1)', async (t) => {
  const ready = await setup(t);
  if (!ready) return;
  const { image, h } = ready;
  const honest = await buildImageFromCommit(h.repo.dir, h.c4, { tags: [`${image}:honest`], labels: { [REV]: h.c4 } });
  // Bytes of c1 (before the MESA export), labelled HEAD: a cached layer, a retag gone wrong.
  const liar = await buildImageFromCommit(h.repo.dir, h.c1, { tags: [`${image}:liar`], labels: { [REV]: h.c4 } });

  const ok = await verify(h.repo.dir, '--target', 'desk', '--image', honest.id);
  assert.equal(ok.code, 0);
  assert.equal(ok.v.state, 'verified', ok.v.reason);
  assert.equal(ok.json.revisionSource, 'label');
  assert.equal(ok.v.matched, ok.v.checked);

  const bad = await verify(h.repo.dir, '--target', 'desk', '--image', liar.id);
  assert.equal(bad.code, 1, 'a contradiction exits 1');
  assert.equal(bad.v.state, 'contradicts-label');
  const f = byPath(bad.v.files);
  assert.equal(f['desktop/shared/detect-render-node.sh'].verdict, 'other-version');
  assert.deepEqual(f['desktop/shared/detect-render-node.sh'].versionOf, { oldest: h.c1, newest: h.c1, replacedBy: h.c2 });
  assert.equal(f['conf/a.conf'].verdict, 'other-version');
  assert.equal(f['conf/sub/b.conf'].verdict, 'matches');
  assert.match(bad.v.reason, /detect-render-node\.sh is the version of/);

  const human = await runCli(['verify', '--cwd', h.repo.dir, '--target', 'desk', '--image', liar.id]);
  assert.equal(human.code, 1);
  assert.match(human.out, new RegExp(`desktop/shared/detect-render-node\\.sh → /usr/local/bin/detect-render-node\\.sh: version of ${h.c1.slice(0, 9)}\\.\\.${h.c2.slice(0, 9)}\\^ \\(HEAD's is not running\\)`));
  assert.deepEqual(await leftovers(), []);
});

test('verify: a file edited by a later RUN is no-version and one it removed is absent; neither counts against the label', async (t) => {
  const ready = await setup(t);
  if (!ready) return;
  const { image, h } = ready;
  const img = await buildImageFromCommit(h.repo.dir, h.c4, { dockerfile: 'Dockerfile.run', tags: [`${image}-run:1`], labels: { [REV]: h.c4 } });
  const { code, v } = await verify(h.repo.dir, '--target', 'desk-run', '--image', img.id);
  assert.equal(code, 0);
  assert.equal(v.state, 'verified', v.reason);
  const f = byPath(v.files);
  assert.equal(f['conf/a.conf'].verdict, 'no-version');
  assert.equal(f['desktop/shared/start.sh'].verdict, 'absent');
  assert.equal(f['conf/sub/b.conf'].verdict, 'matches');
  assert.equal(f['desktop/shared/detect-render-node.sh'].verdict, 'matches');

  // Unlabeled, the same bytes still give an interval: the edited and removed files are neutral.
  const unl = await buildImageFromCommit(h.repo.dir, h.c4, { dockerfile: 'Dockerfile.run', tags: [`${image}-run:2`] });
  const u = await verify(h.repo.dir, '--target', 'desk-run', '--image', unl.id);
  assert.equal(u.v.state, 'consistent');
  // a.conf (edited) says nothing, so the interval starts at the script's change in c2.
  assert.deepEqual(u.v.consistentWith, { oldest: h.c2, newest: h.c4 });
  assert.deepEqual(u.v.uncertain.commits.map((c: { sha: string }) => c.sha), [h.c4, h.c3]);
});

test('verify --container: a container that changed a baked file at run time; the image itself still matches', async (t) => {
  const ready = await setup(t);
  if (!ready) return;
  const { image, h } = ready;
  const img = await buildImageFromCommit(h.repo.dir, h.c4, { tags: [`${image}:latest`], labels: { [REV]: h.c4 } });
  const ctr = await runContainer({ image: img.id, cmd: ['/bin/busybox', 'sh', '-c', 'echo tuned >> /etc/helix/sub/b.conf; exec /bin/busybox sleep 3600'] });
  for (let i = 0; i < 50; i++) {
    if (await docker(['exec', ctr.name, '/bin/busybox', 'grep', '-q', 'tuned', '/etc/helix/sub/b.conf']).then(() => true, () => false)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const c = await verify(h.repo.dir, '--target', 'desk', '--container', ctr.name);
  assert.equal(c.code, 0);
  assert.equal(c.v.source, 'container');
  assert.equal(c.v.state, 'verified', c.v.reason);
  const f = byPath(c.v.files);
  assert.equal(f['conf/sub/b.conf'].verdict, 'no-version', 'the container changed it');
  assert.equal(f['conf/a.conf'].verdict, 'matches');

  const i = await verify(h.repo.dir, '--target', 'desk', '--image', img.id);
  assert.equal(byPath(i.v.files)['conf/sub/b.conf'].verdict, 'matches', 'the image is not the container');
  assert.deepEqual(await leftovers(), []);
});

test('the reader: a container removed before its files are read is reported gone', async (t) => {
  const ready = await setup(t);
  if (!ready) return;
  const { image, h } = ready;
  const img = await buildImageFromCommit(h.repo.dir, h.c4, { tags: [`${image}:latest`] });
  const ctr = await runContainer({ image: img.id });
  const ep = testEndpoint();
  // The read itself fails on the removed container: reported, never thrown past the reader's caller.
  await removeContainer(ctr.name);
  await assert.rejects(
    readFiles(ep, { kind: 'container', id: ctr.id, name: ctr.name }, [{ path: '/etc/helix', directory: true, wanted: ['/etc/helix/a.conf'] }]),
    (err: Error) => err.name === 'ArchiveReadError' && /is gone/.test(err.message),
  );
});

test('the created-never-started container is gone after success, failure and cancel', async (t) => {
  const ready = await setup(t);
  if (!ready) return;
  const { image, h } = ready;
  const img = await buildImageFromCommit(h.repo.dir, h.c4, { tags: [`${image}:latest`] });
  const ep = testEndpoint();
  const before = archiveRequestCount();
  const ok = await readFiles(ep, { kind: 'image', id: img.id }, [
    { path: '/etc/helix', directory: true, wanted: ['/etc/helix/a.conf', '/etc/helix/nope'] },
    { path: '/no/such/dir', directory: true, wanted: ['/no/such/dir/x'] },
  ]);
  assert.equal(ok.facts.get('/etc/helix/a.conf')?.kind, 'file');
  assert.equal(ok.facts.get('/etc/helix/nope')?.kind, 'absent');
  assert.equal(ok.facts.get('/no/such/dir/x')?.kind, 'absent', 'a missing directory is absence, not a missing container');
  assert.equal(archiveRequestCount() - before, 2, 'one request per directory');
  assert.deepEqual(await leftovers(), [], 'after success');

  await assert.rejects(readFiles(ep, { kind: 'image', id: img.id }, [{ path: '', directory: false, wanted: [''] }]), /ArchiveReadError|failed/);
  assert.deepEqual(await leftovers(), [], 'after failure');

  for (const delay of [0, 5, 30]) {
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), delay);
    await assert.rejects(
      readFiles(ep, { kind: 'image', id: img.id }, [{ path: '/etc/helix', directory: true, wanted: ['/etc/helix/a.conf'] }, { path: '/usr/local/bin', directory: true, wanted: ['/usr/local/bin/start.sh'] }, { path: '/bin/busybox', directory: false, wanted: ['/bin/busybox'] }], { signal: ctl.signal }),
      (err: Error) => err.name === 'AbortError',
    );
    assert.deepEqual(await leftovers(), [], `after a cancel at ${delay} ms`);
  }
});

// ------------------------------------------------------------------ status

async function status(dir: string, target: string) {
  const r = await runCli(['status', '--json', '--cwd', dir, '--target', target]);
  assert.equal(r.code, 0, r.err);
  return r.json();
}

test('status on an unlabeled image: the revision comes from the content, its later relevant commits are undeployed, Go-only commits uncertain; a second status reads no bytes', async (t) => {
  const ready = await setup(t);
  if (!ready) return;
  const { image, h } = ready;
  await buildImageFromCommit(h.repo.dir, h.c2, { tags: [`${image}:1ac9d5`] });
  const ctr = await runContainer({ image: `${image}:1ac9d5` });

  const before = archiveRequestCount();
  const s = await status(h.repo.dir, 'desk');
  assert.notEqual(archiveRequestCount(), before, 'the first status reads the bytes');
  assert.equal(s.state, 'drift', s.summary);
  assert.equal(s.running[0].name, ctr.name);
  assert.equal(s.running[0].revision, h.c3);
  assert.equal(s.running[0].revisionSource, 'content');
  assert.equal(s.running[0].labelState, 'unlabeled');
  assert.equal(s.running[0].verification.state, 'consistent');
  assert.equal(s.running[0].verification.source, 'container');
  assert.deepEqual(s.running[0].verification.consistentWith, { oldest: h.c2, newest: h.c3 });
  assert.deepEqual(s.running[0].verification.uncertain.commits.map((c: { sha: string }) => c.sha), [h.c3]);
  assert.equal(s.built.revisionSource, 'content');
  assert.equal(s.built.verification.source, 'image');
  assert.deepEqual(s.undeployed.relevant.map((c: { sha: string }) => c.sha), [h.c4], 'only c4 is after the content-derived revision');
  assert.equal(s.undeployed.total, 1);
  assert.match(s.summary, /derived from its content/);
  assert.deepEqual(await leftovers(), []);

  const human = await runCli(['status', '--cwd', h.repo.dir, '--target', 'desk']);
  assert.match(human.out, /Content {2}revision derived from 4 of 4 baked files: consistent with/);

  const again = archiveRequestCount();
  const s2 = await status(h.repo.dir, 'desk');
  assert.equal(archiveRequestCount(), again, 'a second status on the same image reads no bytes');
  assert.deepEqual(s2.running[0].verification, s.running[0].verification);
  assert.equal(s2.state, 'drift');
});

test('status on a lying label: contradicts-label, never in-sync, names the file; check exits 1', async (t) => {
  const ready = await labelledRunning(t, 'c1', 'c4');
  if (!ready) return;
  const { h } = ready;
  const s = await status(h.repo.dir, 'desk');
  assert.equal(s.state, 'contradicts-label', s.summary);
  assert.match(s.summary, /detect-render-node\.sh is the version of/);
  assert.equal(s.running[0].label, h.c4);
  assert.equal(s.running[0].verification.state, 'contradicts-label');
  // By content it is c1: c2 and c4 change verified files after it, c3 is relevant too.
  assert.equal(s.running[0].revision, h.c1);
  assert.equal(s.undeployed.relevantCount, 3);
  const check = await runCli(['check', '--cwd', h.repo.dir, '--target', 'desk']);
  assert.equal(check.code, 1);
});

test('status on an honest label: verified, and the built image is read through the running container (no created container)', async (t) => {
  const ready = await labelledRunning(t, 'c4', 'c4');
  if (!ready) return;
  const { h } = ready;
  // Exactly this status's window (to the millisecond): a whole-second window also caught the
  // created containers of the tests before it (the cancel test's reads), a flaky failure in CI.
  const since = (Date.now() / 1000).toFixed(3);
  const s = await status(h.repo.dir, 'desk');
  const until = (Date.now() / 1000).toFixed(3);
  await new Promise((r) => setTimeout(r, 1100));
  // Only this process's: other test runs share the daemon.
  const events = docker(['events', '--since', since, '--until', until, '--filter', 'event=create', '--filter', `label=${VERIFY_OWNER_LABEL}=${hostname()}:${process.pid}`, '--format', '{{.Actor.Attributes.name}}']);
  assert.equal(s.state, 'in-sync', s.summary);
  assert.equal(s.running[0].verification.state, 'verified');
  assert.equal(s.built.verification.state, 'verified');
  assert.equal(s.running[0].revisionSource, 'label');
  const created = (await events).split('\n').filter((n) => n.startsWith('bp-verify-'));
  assert.deepEqual(created, [], `the image bytes came from the running container (fallbacks: ${createdContainerReasons().join('; ') || 'none'})`);
});

test('status: a container removed between listing and reading is unverifiable with the reason; the rest works, nothing is left behind', async (t) => {
  const ready = await labelledRunning(t, 'c4', 'c4');
  if (!ready) return;
  const { h, ctr } = ready;
  const ws = await openWorkspace(h.repo.dir, { target: 'desk' });
  const state = await dockerStateFor(ws.targets[0]);
  await removeContainer(ctr.name);
  const s = await computeStatus(ws, ws.targets[0], { docker: state });
  assert.equal(s.running[0].verification?.state, 'unverifiable');
  assert.match(s.running[0].verification?.reason ?? '', /is gone/);
  assert.equal(s.built?.verification?.state, 'verified', 'the image itself is read through a created container instead');
  assert.equal(s.running[0].revision, h.c4, 'the label still counts, as without verification');
  assert.deepEqual(await leftovers(), []);
});

// ------------------------------------------------------------------ archaeology

test('history, contains and suspects use the content-derived revision of unlabeled images, ahead of the reflog guess, marked as such', async (t) => {
  const ready = await setup(t);
  if (!ready) return;
  const { image, h } = ready;
  const old = await buildImageFromCommit(h.repo.dir, h.c1, { tags: [`${image}:old`] });
  const mid = await buildImageFromCommit(h.repo.dir, h.c3, { tags: [`${image}:mid`] });

  const hist = await runCli(['history', '--json', '--cwd', h.repo.dir, '--target', 'desk']);
  assert.equal(hist.code, 0, hist.err);
  const images = hist.json().targets[0].images as { imageId: string; revision: { sha: string; source: string; consistentWith: unknown; notes: string[] } }[];
  const byId = Object.fromEntries(images.map((i) => [i.imageId, i.revision]));
  assert.equal(byId[old.id].source, 'content');
  assert.equal(byId[old.id].sha, h.c1);
  assert.deepEqual(byId[old.id].consistentWith, { oldest: h.c1, newest: h.c1 });
  assert.equal(byId[mid.id].source, 'content');
  assert.deepEqual(byId[mid.id].consistentWith, { oldest: h.c2, newest: h.c3 });
  assert.match(byId[mid.id].notes.join(' '), /derived from its content/);
  const human = await runCli(['history', '--cwd', h.repo.dir, '--target', 'desk']);
  assert.match(human.out, /\(by content, consistent with /);

  // c2 is in the oldest commit mid's bytes fit: contained. c3 (Go only) lies in between: nobody can tell.
  const c2 = (await runCli(['contains', h.c2, '--json', '--cwd', h.repo.dir, '--target', 'desk'])).json();
  assert.equal(c2.firstBuild.imageId, mid.id);
  assert.equal(c2.firstBuild.revisionSource, 'content');
  const c3 = (await runCli(['contains', h.c3, '--json', '--cwd', h.repo.dir, '--target', 'desk'])).json();
  assert.equal(c3.firstBuild, null);
  assert.equal(c3.images.find((i: { imageId: string }) => i.imageId === mid.id).contains, null);

  // Between the two builds: from the oldest commit the good one fits to the newest the bad one fits.
  const sus = await runCli(['suspects', old.id, mid.id, '--json', '--cwd', h.repo.dir, '--target', 'desk']);
  assert.equal(sus.code, 0, sus.err);
  const s = sus.json();
  assert.equal(s.good.revisionSource, 'content');
  assert.equal(s.good.revision, h.c1);
  assert.equal(s.bad.revision, h.c3);
  assert.deepEqual(s.suspects.map((c: { sha: string }) => c.sha), [h.c3, h.c2]);
  assert.ok(s.warnings.some((w: string) => /its bytes fit/.test(w)), JSON.stringify(s.warnings));
  assert.deepEqual(await leftovers(), []);
});

test('verify: an image or container that does not exist is bad input (exit 2, with what to give)', async (t) => {
  const ready = await setup(t);
  if (!ready) return;
  const { h } = ready;
  const img = await runCli(['verify', '--cwd', h.repo.dir, '--target', 'desk', '--image', `${uniqueName('nope')}:x`]);
  assert.equal(img.code, 2);
  assert.match(img.err, /No image ".*" on .*\n.*Give an image ID or name:tag/);
  const ctr = await runCli(['verify', '--cwd', h.repo.dir, '--target', 'desk', '--container', uniqueName('nope')]);
  assert.equal(ctr.code, 2);
  assert.match(ctr.err, /No container ".*" on /);
  // An image that holds none of the files: nothing could be verified, also exit 2, with the reason.
  const empty = await buildBusyboxImage({ tags: [`${uniqueName('empty')}:1`] });
  const u = await verify(h.repo.dir, '--target', 'desk', '--image', empty.id);
  assert.equal(u.code, 2);
  assert.equal(u.v.state, 'unverifiable');
  assert.match(u.v.reason, /None of the 4 files the Dockerfile copies is in the image/);
});

test('the refresh after a commit lists each tree once: an image and its running container with the same label share one ls-tree', async (t) => {
  const ready = await labelledRunning(t, 'c3', 'c3');
  if (!ready) return;
  const { h } = ready;
  // As the editor refreshes: one workspace, one memo kept across refreshes.
  const ws = await openWorkspace(h.repo.dir, { target: 'desk' });
  const memo = new ResultMemo();
  const first = await computeStatus(ws, ws.targets[0], { memo });
  assert.equal(first.running[0].verification?.state, 'verified', first.summary);
  h.repo.commit('docs: a note', { 'docs/notes.md': 'still not an input\n' });
  const before = gitSpawnCount();
  const s = await computeStatus(ws, ws.targets[0], { memo });
  const n = gitSpawnCount() - before;
  const commands = recentGitSpawns().slice(-n);
  assert.equal(s.running[0].verification?.state, 'verified', s.summary);
  assert.equal(s.built!.verification!.state, 'verified', s.summary);
  const trees = commands.filter((c) => / ls-tree /.test(` ${c} `));
  assert.equal(new Set(trees).size, trees.length, `a tree listed twice in one refresh: ${commands.join(' | ')}`);
  const twice = commands.filter((c, k) => !c.startsWith('cat-file') && commands.indexOf(c) !== k);
  assert.deepEqual(twice, [], `the same git command twice in one refresh: ${commands.join(' | ')}`);
});
