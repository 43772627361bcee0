// What a new user hits first (issue 17): bad paths and bad arguments are clear errors with what
// to do, never a stack trace, an "unexpected error" or a Node warning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { getEventListeners } from 'node:events';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../support/cli';
import { FixtureRepo, tempDir } from '../support/gitFixture';
import { tcpProbe } from '../../src/core/build/smoke';

const NO_DOCKER = { DOCKER_HOST: 'unix:///nonexistent/docker.sock' };

function appRepo(t: { after: (f: () => void) => void }): FixtureRepo {
  const repo = FixtureRepo.create();
  t.after(() => repo.cleanup());
  repo.commit('init', { '.provenance.json': '{"targets":[{"image":"app","dockerfile":"Dockerfile"}]}', Dockerfile: 'FROM scratch\nCOPY app.sh /app.sh\n', 'app.sh': 'echo\n' });
  return repo;
}

function assertNoCrash(r: { out: string; err: string }) {
  assert.doesNotMatch(r.out + r.err, /unexpected error|\n\s+at .*:\d+:\d+|ENOENT|EISDIR|ENOTDIR/);
}

test('timeline --html into a missing folder or onto a folder: a clear error, exit 2, also as JSON', async (t) => {
  const repo = appRepo(t);
  for (const [file, why] of [
    ['/nonexistent/dir/x.html', /the folder \/nonexistent\/dir does not exist/],
    [repo.dir, /it is a folder/],
  ] as const) {
    const r = await runCli(['timeline', '--html', file, '--cwd', repo.dir], undefined, NO_DOCKER);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, why);
    assert.match(r.err, /→ Give --html a file path in an existing folder/);
    assertNoCrash(r);
    const j = await runCli(['timeline', '--html', file, '--json', '--cwd', repo.dir], undefined, NO_DOCKER);
    assert.equal(j.code, 2);
    assert.match(j.json().error, why);
    assert.match(j.json().hint, /--html/);
    assertNoCrash(j);
  }
});

test('--cwd naming a file, a missing folder, or a folder with several repositories below: what is there and what to pass', async (t) => {
  const repo = appRepo(t);
  const f = await runCli(['status', '--cwd', path.join(repo.dir, 'app.sh')]);
  assert.equal(f.code, 2);
  assert.match(f.err, /app\.sh is a file, not a folder\.\n\s+→ Pass --cwd the folder of the repository, e\.g\. --cwd /);
  assertNoCrash(f);
  const m = await runCli(['status', '--json', '--cwd', path.join(repo.dir, 'nope')]);
  assert.equal(m.code, 2);
  assert.match(m.json().error, /nope does not exist/);
  assertNoCrash(m);

  const parent = tempDir();
  t.after(() => FixtureRepo.at(parent).cleanup());
  for (const name of ['a', 'b']) {
    mkdirSync(path.join(parent, name));
    FixtureRepo.at(path.join(parent, name)).git('init', '-q');
  }
  const s = await runCli(['status', '--cwd', parent]);
  assert.equal(s.code, 2);
  assert.match(s.err, /is not in a git repository, and there are several below it \(a, b\)\.\n\s+→ Choose one with --cwd, e\.g\. --cwd .*\/a\./);
  assert.doesNotMatch(s.err, /No git repository at or below/, 'no longer says "none" and "several" at once');

  const none = tempDir();
  t.after(() => FixtureRepo.at(none).cleanup());
  const n = await runCli(['inputs', '--cwd', none]);
  assert.equal(n.code, 2);
  assert.match(n.err, /No git repository at or below .*\n\s+→ Run provenance inside a git work tree, or pass --cwd <repo>\./);
});

test('tcpProbe: attempts against a closed port leave no abort listener behind (no MaxListenersExceededWarning)', async (t) => {
  const ctl = new AbortController();
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  t.after(() => process.removeListener('warning', onWarning));
  // A port that was just free: nothing listens there.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  for (let i = 0; i < 15; i++) {
    const r = await tcpProbe(port, ctl.signal);
    assert.equal(r.ok, false);
    assert.match(r.message, /did not open \(ECONNREFUSED\)/);
  }
  assert.equal(getEventListeners(ctl.signal, 'abort').length, 0);

  const open = createServer((s) => s.destroy());
  await new Promise<void>((resolve) => open.listen(0, '127.0.0.1', resolve));
  t.after(() => open.close());
  const ok = await tcpProbe((open.address() as { port: number }).port, ctl.signal);
  assert.equal(ok.ok, true);
  assert.equal(getEventListeners(ctl.signal, 'abort').length, 0);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(warnings.map((w) => w.name), []);

  const aborted = new AbortController();
  aborted.abort();
  assert.equal((await tcpProbe(port, aborted.signal)).ok, false);
});
