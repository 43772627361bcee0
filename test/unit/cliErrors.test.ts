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
import { appendLedgerRecord } from '../../src/core/build/ledger';
import { checkExitCode, type DriftSnapshot, type DriftState } from '../../src/core/status/driftModel';

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

// ---------------------------------------------------------------------------------------------
// README claims, made true (issue 17)

const DOWN = ['unix:///nonexistent/bp-no-docker.sock'];

function twoTargetRepo(t: { after: (f: () => void) => void }): FixtureRepo {
  const repo = FixtureRepo.create();
  t.after(() => repo.cleanup());
  repo.commit('init', {
    '.provenance.json': JSON.stringify({
      targets: [
        { name: 'web', image: 'web', dockerfile: 'web/Dockerfile', context: 'web', docker: { endpoints: DOWN } },
        { name: 'api', image: 'api', dockerfile: 'api/Dockerfile', context: 'api', docker: { endpoints: DOWN } },
      ],
    }),
    'web/Dockerfile': 'FROM nginx:1 AS base\nCOPY site/ /usr/share/nginx/html/\n',
    'web/site/index.html': '<h1>hi</h1>\n',
    'api/Dockerfile': 'FROM scratch\nCOPY server /server\n',
    'api/server': 'bin\n',
  });
  repo.commit('site v2', { 'web/site/index.html': '<h1>v2</h1>\n' });
  return repo;
}

test('JSON shapes: every per-target object carries target (a name); one target is an object, several an array; affects is one flat list', async (t) => {
  const repo = twoTargetRepo(t);
  const cwd = repo.dir;
  const one = (await runCli(['inputs', '--json', '--target', 'web', '--cwd', cwd])).json();
  assert.equal(one.target, 'web');
  assert.deepEqual(one.external, [{ keyword: 'FROM', instruction: 'FROM nginx:1 AS base', line: 1, source: 'nginx:1' }], 'instruction is the line as written, keyword its keyword');
  const both = (await runCli(['inputs', '--json', '--cwd', cwd])).json();
  assert.deepEqual(both.map((x: { target: string }) => x.target), ['web', 'api']);
  const diff1 = (await runCli(['diff', 'HEAD~1', 'HEAD', '--json', '--target', 'web', '--cwd', cwd])).json();
  assert.equal(diff1.target, 'web');
  assert.equal(diff1.relevant.length, 1);
  const diffs = (await runCli(['diff', 'HEAD~1', 'HEAD', '--json', '--cwd', cwd])).json();
  assert.deepEqual(diffs.map((x: { target: string; relevant: unknown[] }) => [x.target, x.relevant.length]), [['web', 1], ['api', 0]]);
  const aff = (await runCli(['affects', 'web/site/index.html', 'api/server', '--json', '--cwd', cwd])).json();
  assert.deepEqual(
    aff.map((a: { target: string; path: string; affects: boolean }) => [a.target, a.path, a.affects]),
    [['web', 'web/site/index.html', true], ['web', 'api/server', false], ['api', 'web/site/index.html', false], ['api', 'api/server', true]],
  );
  const affOne = (await runCli(['affects', 'api/server', '--json', '--target', 'api', '--cwd', cwd])).json();
  assert.deepEqual(Object.keys(affOne[0]), ['target', 'path', 'affects', 'via']);
  // One target only: said, with the flag that picks one.
  for (const cmd of [['timeline'], ['mark', 'abc123', 'good'], ['suspects']]) {
    const r = await runCli([...cmd, '--json', '--cwd', cwd]);
    assert.equal(r.code, 2, cmd.join(' '));
    assert.match(r.json().error, new RegExp(`^${cmd[0]} works on one target; this repository has 2 \\(web, api\\)`));
    // The example is the command as given, with the flag: it works as written.
    assert.equal(r.json().hint, `Choose one with --target, e.g. provenance ${cmd.join(' ')} --target web.`);
  }
});

test('affects on the Dockerfile and its ignore file: no line or stage (null in JSON), and the human output says what it is', async (t) => {
  const repo = FixtureRepo.create();
  t.after(() => repo.cleanup());
  repo.commit('init', { '.provenance.json': '{"targets":[{"image":"app","dockerfile":"Dockerfile"}]}', Dockerfile: 'FROM scratch\nCOPY a /a\n', '.dockerignore': 'docs\n', a: 'x\n' });
  const j = (await runCli(['affects', 'Dockerfile', '.dockerignore', '--json', '--cwd', repo.dir])).json();
  assert.deepEqual(j[0].via, [{ dockerfile: 'Dockerfile', line: null, instruction: '(Dockerfile)', stage: null, destination: '' }]);
  assert.deepEqual(j[1].via, [{ dockerfile: 'Dockerfile', line: null, instruction: '(ignore file)', stage: null, destination: '' }]);
  const h = await runCli(['affects', 'Dockerfile', '.dockerignore', '--cwd', repo.dir]);
  assert.match(h.out, /^Dockerfile: baked into app\n  Dockerfile: the Dockerfile itself\n\.dockerignore: baked into app\n  Dockerfile: its ignore file$/m);
  assert.doesNotMatch(h.out, /:0|\[stage \]/);
});

test('argument errors are plain sentences, and {error, hint} on stdout with --json', async () => {
  const bogus = await runCli(['status', '--bogus', '--json']);
  assert.equal(bogus.code, 2);
  assert.deepEqual(bogus.json(), { error: 'unknown option --bogus.', hint: 'Run provenance --help for usage.' });
  const missing = await runCli(['timeline', '--json', '--threshold-hours']);
  assert.equal(missing.code, 2);
  assert.equal(missing.json().error, '--threshold-hours needs a value, e.g. --threshold-hours 4.');
  // The value missing before another option (Node calls it "ambiguous"): the same sentence.
  const ambiguous = await runCli(['timeline', '--threshold-hours', '--json']);
  assert.equal(ambiguous.code, 2);
  assert.equal(ambiguous.json().error, '--threshold-hours needs a value, e.g. --threshold-hours 4.');
  const human = await runCli(['status', '--cwd']);
  assert.equal(human.code, 2);
  assert.equal(human.out, '');
  assert.match(human.err, /^provenance: --cwd needs a value, e.g. --cwd path\/to\/repo\.\n/);
  assert.doesNotMatch(bogus.out + missing.out + ambiguous.out + human.err, /To specify a|<value>'|-XYZ/);
  for (const args of [['help'], ['-h'], ['--help']]) {
    const r = await runCli(args);
    assert.equal(r.code, 0);
    assert.match(r.out, /provenance deploy/);
  }
  assert.match((await runCli(['--version'])).out, /^\d+\.\d+\.\d+/);
});

test('--dockerfile and --context are relative to --cwd; outside the repository, a folder as the Dockerfile, or a missing context: what it resolved to', async (t) => {
  const repo = FixtureRepo.create();
  t.after(() => repo.cleanup());
  repo.commit('init', { 'desktop/Dockerfile': 'FROM scratch\nCOPY app.sh /app.sh\n', 'desktop/app.sh': 'x\n', 'desktop/sub/x': 'y\n' });
  const sub = path.join(repo.dir, 'desktop');
  const ok = await runCli(['inputs', '--json', '--image', 'app', '--dockerfile', 'Dockerfile', '--context', '.', '--cwd', sub], undefined, NO_DOCKER);
  assert.equal(ok.code, 0, ok.err);
  assert.deepEqual([ok.json().dockerfile, ok.json().context], ['desktop/Dockerfile', 'desktop']);
  const out = await runCli(['inputs', '--image', 'app', '--dockerfile', '../../x', '--cwd', sub]);
  assert.equal(out.code, 2);
  assert.match(out.err, /--dockerfile \.\.\/\.\.\/x is \/.*\/x, outside the repository .*\n\s+→ Paths on the command line are relative to --cwd, else to the current folder \(here .*desktop\)\./);
  const dir = await runCli(['inputs', '--image', 'app', '--dockerfile', 'desktop', '--cwd', repo.dir]);
  assert.equal(dir.code, 2);
  assert.match(dir.err, /--dockerfile desktop: .*desktop is a folder, not a Dockerfile\.\n\s+→ Name the file, e\.g\. --dockerfile desktop\/Dockerfile\./);
  const ctx = await runCli(['inputs', '--image', 'app', '--dockerfile', 'desktop/Dockerfile', '--context', 'nonexist', '--cwd', repo.dir]);
  assert.equal(ctx.code, 2);
  assert.match(ctx.err, /--context nonexist: .*nonexist does not exist; the build context must be a folder of the work tree/);
  assertNoCrash(ctx);
  // The same in .provenance.json: a folder is not parsed as a Dockerfile (git's tree listing).
  repo.commit('config', { '.provenance.json': JSON.stringify({ targets: [{ image: 'app', dockerfile: 'desktop', docker: { endpoints: DOWN } }] }) });
  const cfg = await runCli(['inputs', '--cwd', repo.dir]);
  assert.equal(cfg.code, 2);
  assert.match(cfg.err, /desktop is a folder, not a Dockerfile/);
  assert.doesNotMatch(cfg.err, /unknown instruction/);
  // A configured context that does not exist: build refuses before anything runs.
  repo.commit('config 2', { '.provenance.json': JSON.stringify({ targets: [{ image: 'app', dockerfile: 'desktop/Dockerfile', context: 'nonexist', docker: { endpoints: DOWN } }] }) });
  const b = await runCli(['build', '--json', '--cwd', repo.dir]);
  assert.equal(b.code, 2);
  assert.match(b.json().error, /The build context "nonexist" of app is not a folder of the work tree/);
  assertNoCrash(b);
});

test('an empty repository: diff HEAD HEAD and contains HEAD say there are no commits yet; fetch is suggested only for a SHA', async (t) => {
  const empty = FixtureRepo.create();
  t.after(() => empty.cleanup());
  empty.write('.provenance.json', JSON.stringify({ targets: [{ image: 'app', dockerfile: 'Dockerfile', docker: { endpoints: DOWN } }] })).write('Dockerfile', 'FROM scratch\n');
  for (const args of [['diff', 'HEAD', 'HEAD'], ['contains', 'HEAD']]) {
    const r = await runCli([...args, '--cwd', empty.dir]);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.err, /has no commits yet, so HEAD names nothing\.\n\s+→ Make a first commit/);
    assert.doesNotMatch(r.err, /git fetch/);
  }
  const repo = appRepo(t);
  const rel = await runCli(['diff', 'main~10', 'HEAD', '--cwd', repo.dir]);
  assert.equal(rel.code, 2);
  assert.match(rel.err, /Revision main~10 is not known in this clone\.\n\s+→ Check the name for typos/);
  assert.doesNotMatch(rel.err, /git fetch origin main~10/);
  const sha = await runCli(['diff', 'abcdef1234567', 'HEAD', '--cwd', repo.dir]);
  assert.match(sha.err, /git fetch origin abcdef1234567/);
});

test('Dockerfiles Docker would refuse are errors, not silence: an unterminated heredoc, duplicate stage names; so is an image name that is not one', async (t) => {
  const repo = FixtureRepo.create();
  t.after(() => repo.cleanup());
  const cfg = (image = 'app') => JSON.stringify({ targets: [{ image, dockerfile: 'Dockerfile', docker: { endpoints: DOWN } }] });
  repo.commit('heredoc', { '.provenance.json': cfg(), Dockerfile: 'FROM scratch\nCOPY <<EOF /etc/motd\nhello\nCOPY app.sh /app.sh\n', 'app.sh': 'x\n' });
  const h = await runCli(['inputs', '--cwd', repo.dir]);
  assert.equal(h.code, 2);
  assert.match(h.err, /Dockerfile:2: the heredoc <<EOF is never closed \(no line "EOF" after it\), so the rest of the file would be its text/);
  repo.commit('dup', { Dockerfile: 'FROM scratch AS build\nCOPY app.sh /a\nFROM scratch AS build\nCOPY --from=build /a /a\n' });
  const d = await runCli(['inputs', '--json', '--cwd', repo.dir]);
  assert.equal(d.code, 2);
  assert.match(d.json().error, /Dockerfile:3: the stage name "build" is already used by the stage on line 1/);
  repo.commit('image', { Dockerfile: 'FROM scratch\nCOPY app.sh /a\n', '.provenance.json': cfg('Helix Ubuntu') });
  const i = await runCli(['inputs', '--cwd', repo.dir]);
  assert.equal(i.code, 2);
  assert.match(i.err, /image "Helix Ubuntu" is not a Docker image name: "Helix Ubuntu" has upper-case letters/);
  repo.commit('image ok', { '.provenance.json': cfg() });
  const o = await runCli(['inputs', '--image', 'team//app', '--cwd', repo.dir]);
  assert.equal(o.code, 2);
  assert.match(o.err, /--image "team\/\/app" is not a Docker image name: it has an empty path segment/);
});

test('history --ledger: a good and a bad mark, a deploy (kind column deploy) and a cancelled smoke test each say what they are; --json carries verdict', async (t) => {
  const repo = FixtureRepo.create();
  t.after(() => repo.cleanup());
  const head = repo.commit('init', { '.provenance.json': JSON.stringify({ targets: [{ image: 'app', dockerfile: 'Dockerfile', docker: { endpoints: DOWN } }] }), Dockerfile: 'FROM scratch\n' });
  const base = { target: 'app', revision: head, dirty: false, inputHash: '', imageId: 'sha256:' + 'a'.repeat(64), tags: ['app:latest'], mode: null as 'builtin' | null, startedAt: '2026-01-02T03:04:05.000Z', endedAt: '2026-01-02T03:04:06.000Z', error: null, tool: 'test' };
  const commonDir = path.join(repo.dir, '.git');
  await appendLedgerRecord(commonDir, { ...base, kind: 'build', mode: 'builtin', result: 'success', smoke: { result: 'passed', reason: null } });
  await appendLedgerRecord(commonDir, { ...base, kind: 'smoke', result: 'cancelled', smoke: { result: 'cancelled', reason: 'cancelled' } });
  await appendLedgerRecord(commonDir, { ...base, kind: 'mark', result: 'success', smoke: null, verdict: 'good' });
  await appendLedgerRecord(commonDir, { ...base, kind: 'mark', result: 'success', smoke: null, verdict: 'bad' });
  await appendLedgerRecord(commonDir, { ...base, kind: 'mark', result: 'success', smoke: null });
  const h = await runCli(['history', '--ledger', '--cwd', repo.dir]);
  assert.equal(h.code, 0, h.err);
  const outcomes = h.out.trim().split('\n').map((l) => l.replace(/^.*\[\?\]\s+/, ''));
  assert.deepEqual(outcomes, ['deployed', 'marked bad', 'marked good', 'smoke cancelled', 'ok  smoke passed']);
  // The kind column (after the date, time and target): a deploy step says deploy, not mark.
  const kinds = h.out.trim().split('\n').map((l) => l.split(/\s+/)[3]);
  assert.deepEqual(kinds, ['deploy', 'mark', 'mark', 'smoke', 'build']);
  const revColumn = h.out.trim().split('\n').map((l) => l.search(/\b(unlabeled|[0-9a-f]{12})\b/));
  assert.equal(new Set(revColumn).size, 1, `the revision column lines up after the kind column:\n${h.out}`);
  const j = (await runCli(['history', '--ledger', '--json', '--cwd', repo.dir])).json();
  assert.deepEqual(j.map((e: { kind: string; verdict: string | null }) => [e.kind, e.verdict]), [['mark', null], ['mark', 'bad'], ['mark', 'good'], ['smoke', null], ['build', null]]);
});

test('check exit codes per state (checkExitCode): 0 nothing relevant missing, 1 relevant drift, 2 cannot tell unless uncommitted input changes make it 1', () => {
  const snap = (state: DriftState, over: { relevantCount?: number; uncommitted?: string[] } = {}) =>
    ({ state, undeployed: { relevantCount: over.relevantCount ?? 0 }, uncommitted: over.uncommitted ?? [] }) as unknown as DriftSnapshot;
  const table: [DriftState, 0 | 1 | 2, 0 | 1 | 2][] = [
    // state, exit code, with an uncommitted input change
    ['in-sync', 0, 0],
    ['drift-irrelevant', 0, 0],
    ['drift', 1, 1],
    ['uncommitted', 1, 1],
    ['diverged', 1, 1],
    ['contradicts-label', 1, 1],
    ['no-container', 0, 1],
    ['docker-unreachable', 2, 1],
    ['no-image', 2, 1],
    ['unlabeled', 2, 1],
    ['unknown-revision', 2, 1],
  ];
  for (const [state, code, dirty] of table) {
    assert.equal(checkExitCode(snap(state)), code, state);
    assert.equal(checkExitCode(snap(state, { uncommitted: ['a.sh'] })), dirty, `${state} + uncommitted`);
  }
  assert.equal(checkExitCode(snap('no-container', { relevantCount: 2 })), 1, 'relevant commits since the build');
});

test('an error that quotes repository text prints no terminal escapes from it', async (t) => {
  const repo = appRepo(t);
  const evil = 'x\x1b]0;pwned\x07\x1b[31m';
  const r = await runCli(['status', '--target', evil, '--cwd', repo.dir], undefined, NO_DOCKER);
  assert.equal(r.code, 2, r.err);
  assert.doesNotMatch(r.err, /\x1b|\x07/);
  assert.match(r.err, /No target named "x\?\]0;pwned\?\?\[31m"/);
});
