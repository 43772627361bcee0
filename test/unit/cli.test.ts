// The `provenance` CLI against real git repos (commands that need no Docker).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../support/cli';
import { createIncidentRepo } from '../support/incidentRepo';
import { FixtureRepo, tempDir } from '../support/gitFixture';

const run = runCli;

test('cli: diff over the incident history names exactly the commits that touch inputs', async (t) => {
  const inc = createIncidentRepo();
  t.after(() => inc.repo.cleanup());
  const r = await run(['diff', inc.base, 'HEAD', '--json', '--cwd', inc.repo.dir]);
  assert.equal(r.code, 0, r.err);
  const res = r.json();
  assert.equal(res.from, inc.base);
  assert.equal(res.to, inc.repo.head());
  assert.equal(res.total, inc.steps.length);
  const expected = inc.steps
    .map((s, k) => ({ sha: inc.shas[k], subject: s.subject, files: (s.inputs ?? Object.keys(s.files)).sort(), relevant: s.relevant }))
    .filter((s) => s.relevant)
    .reverse();
  assert.ok(inc.steps.length > 20 && expected.length >= 8);
  assert.deepEqual(
    res.relevant.map((c: { sha: string; subject: string; files: string[] }) => ({ sha: c.sha, subject: c.subject, files: [...c.files].sort() })),
    expected.map(({ relevant: _r, ...rest }) => rest),
  );
  for (const c of res.relevant) {
    assert.match(c.sha, /^[0-9a-f]{40}$/);
    assert.match(c.date, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
  }
});

test('cli: diff between two middle commits, the human output, and the MESA commit in it', async (t) => {
  const inc = createIncidentRepo();
  t.after(() => inc.repo.cleanup());
  const mesa = inc.steps.findIndex((s) => s.subject.includes('MESA'));
  const r = await run(['diff', inc.shas[mesa - 1], inc.shas[mesa + 3], '--cwd', inc.repo.dir]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /1 of 4 commit\(s\) in [0-9a-f]{12}\.\.[0-9a-f]{12} change files baked into helix-ubuntu/);
  assert.match(r.out, /export MESA_GL_VERSION_OVERRIDE=4\.5 globally\n\s+desktop\/shared\/detect-render-node\.sh/);
  assert.doesNotMatch(r.out, /\x1b\[/, 'no colour when not a TTY');
});

test('cli: inputs pathspecs select exactly the commits diff reports', async (t) => {
  const inc = createIncidentRepo();
  t.after(() => inc.repo.cleanup());
  const inputs = (await run(['inputs', '--json', '--cwd', inc.repo.dir])).json();
  assert.equal(inputs.dockerfile, 'Dockerfile.ubuntu-helix');
  assert.equal(inputs.ignoreFile, 'Dockerfile.ubuntu-helix.dockerignore');
  assert.ok(inputs.external.some((e: { source: string }) => e.source.startsWith('ubuntu:22.04')));
  const mid = inc.shas[14];
  const diff = (await run(['diff', mid, 'HEAD', '--json', '--cwd', inc.repo.dir])).json();
  const raw = execFileSync('git', ['log', '--format=%H', `${mid}..HEAD`, '--', ...inputs.pathspecs], { cwd: inc.repo.dir, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
  assert.deepEqual(diff.relevant.map((c: { sha: string }) => c.sha), raw);
  assert.ok(raw.length > 0);
});

test('cli: affects says through which instruction and where a file lands', async (t) => {
  const inc = createIncidentRepo();
  t.after(() => inc.repo.cleanup());
  const r = await run(['affects', 'desktop/shared/detect-render-node.sh', 'docs/streaming.md', 'api/pkg/sync/sync.go', '--json', '--cwd', inc.repo.dir]);
  assert.equal(r.code, 0, r.err);
  const [script, doc, go] = r.json();
  assert.equal(script.affects, true);
  assert.deepEqual(
    { line: script.via[0].line, stage: script.via[0].stage, destination: script.via[0].destination, dockerfile: script.via[0].dockerfile },
    { line: 18, stage: '3', destination: '/usr/local/bin/detect-render-node.sh', dockerfile: 'Dockerfile.ubuntu-helix' },
  );
  assert.match(script.via[0].instruction, /^ADD desktop\/shared\/detect-render-node\.sh/);
  assert.equal(doc.affects, false);
  assert.deepEqual(doc.via, []);
  assert.equal(go.affects, true);
  assert.equal(go.via[0].stage, 'go-build');
  // Relative to where the user stands.
  const rel = await run(['affects', 'detect-render-node.sh'], path.join(inc.repo.dir, 'desktop/shared'));
  assert.equal(rel.code, 0, rel.err);
  assert.match(rel.out, /desktop\/shared\/detect-render-node\.sh: baked into helix-ubuntu\n\s+Dockerfile\.ubuntu-helix:18 \[stage 3\] ADD/);
});

test('cli: unknown revision, a shallow clone, is exit 2 with a fetch hint', async (t) => {
  const inc = createIncidentRepo();
  t.after(() => inc.repo.cleanup());
  const dest = path.join(tempDir(), 'shallow');
  t.after(() => execFileSync('rm', ['-rf', path.dirname(dest)]));
  execFileSync('git', ['clone', '-q', '--depth', '2', `file://${inc.repo.dir}`, dest]);
  const r = await run(['diff', inc.base, 'HEAD', '--cwd', dest]);
  assert.equal(r.code, 2);
  assert.match(r.err, new RegExp(`Revision ${inc.base} is not known in this clone`));
  assert.match(r.err, /shallow clone: git fetch --unshallow/);
  const j = await run(['diff', 'nope-not-a-ref', 'HEAD', '--json', '--cwd', dest]);
  assert.equal(j.code, 2);
  assert.match(j.json().error, /nope-not-a-ref is not known/);
});

test('cli: -dirty suffixes and short SHAs are accepted as revisions', async (t) => {
  const inc = createIncidentRepo();
  t.after(() => inc.repo.cleanup());
  const r = await run(['diff', `${inc.shas[3].slice(0, 9)}-dirty`, inc.shas[5], '--json', '--cwd', inc.repo.dir]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.json().from, inc.shas[3]);
  assert.equal(r.json().total, 2);
});

test('cli: a malformed Dockerfile is exit 2 with a clear message', async (t) => {
  const repo = FixtureRepo.create();
  t.after(() => repo.cleanup());
  repo.commit('init', {
    '.provenance.json': '{"targets":[{"image":"app","dockerfile":"Dockerfile"}]}',
    Dockerfile: 'COPY . /app\nRUN echo no FROM here\n',
  });
  const r = await run(['inputs', '--cwd', repo.dir]);
  assert.equal(r.code, 2);
  assert.match(r.err, /FROM/);
  assert.doesNotMatch(r.err, /unexpected error|at .*\.ts:\d+/);
});

test('cli: empty repo, no repo, bad config and usage errors are exit 2 with what to do', async (t) => {
  const empty = FixtureRepo.create();
  t.after(() => empty.cleanup());
  empty.write('.provenance.json', '{"targets":[{"image":"app","dockerfile":"Dockerfile"}]}').write('Dockerfile', 'FROM scratch\n');
  const e = await run(['diff', 'HEAD~1', 'HEAD', '--cwd', empty.dir]);
  assert.equal(e.code, 2);
  assert.match(e.err, /has no commits yet, so HEAD~1 names nothing/);

  const none = tempDir();
  t.after(() => execFileSync('rm', ['-rf', none]));
  const n = await run(['inputs', '--cwd', none]);
  assert.equal(n.code, 2);
  assert.match(n.err, /No git repository at or below .*\n.*pass --cwd/);

  const bad = FixtureRepo.create();
  t.after(() => bad.cleanup());
  bad.commit('init', { '.provenance.json': '{"targets":[{"image":"app",}' });
  const b = await run(['inputs', '--cwd', bad.dir]);
  assert.equal(b.code, 2);
  assert.match(b.err, /\.provenance\.json:1:\d+: invalid JSON/);

  assert.equal((await run(['frobnicate'])).code, 2);
  assert.equal((await run(['diff', 'HEAD'])).code, 2);
  assert.equal((await run(['--bogus-flag'])).code, 2);
  const help = await run(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /provenance status/);
});

test('cli: zero-config finds Dockerfile.ubuntu-helix for helix-ubuntu by name tokens', async (t) => {
  const inc = createIncidentRepo({ config: false });
  t.after(() => inc.repo.cleanup());
  const r = await run(['inputs', '--json', '--cwd', inc.repo.dir], undefined, { DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
  assert.equal(r.code, 0, r.err);
  assert.equal(r.json().dockerfile, 'Dockerfile.ubuntu-helix');
});

test('cli: zero-config with nothing to go by says what it looked at and how to configure it', async (t) => {
  const repo = FixtureRepo.create();
  t.after(() => repo.cleanup());
  repo.commit('init', { 'Dockerfile.web': 'FROM scratch\n', 'Dockerfile.api': 'FROM scratch\n' });
  const saved = process.env.DOCKER_HOST;
  process.env.DOCKER_HOST = 'unix:///nonexistent/docker.sock';
  t.after(() => (saved === undefined ? delete process.env.DOCKER_HOST : (process.env.DOCKER_HOST = saved)));
  const r = await run(['inputs', '--cwd', repo.dir]);
  assert.equal(r.code, 2);
  assert.match(r.err, /No \.provenance\.json, and nothing says which image this repository builds: the local images could not be read \(Cannot connect to Docker at unix:\/\/\/nonexistent\/docker\.sock/);
  assert.match(r.err, /there are 2 Dockerfiles \(Dockerfile\.api, Dockerfile\.web\)/);
  assert.match(r.err, /\.provenance\.json/);
  const j = await run(['inputs', '--json', '--cwd', repo.dir]);
  assert.equal(j.code, 2);
  assert.match(j.json().hint, /Create \.provenance\.json with \{"targets"/);
  // --dockerfile alone: the target is named after the folder, as compose would.
  const d = await run(['inputs', '--json', '--dockerfile', 'Dockerfile.web', '--cwd', repo.dir]);
  assert.equal(d.code, 0, d.err);
  assert.deepEqual([d.json().dockerfile, d.json().image], ['Dockerfile.web', path.basename(repo.dir).toLowerCase().replace(/[^a-z0-9_-]/g, '')]);
  const o = await run(['inputs', '--json', '--image', 'web', '--dockerfile', 'Dockerfile.web', '--cwd', repo.dir]);
  assert.equal(o.code, 0, o.err);
  assert.equal(o.json().dockerfile, 'Dockerfile.web');
});

test('cli: the bundled bin (npm run build) runs with plain node', (t) => {
  assert.ok(existsSync(path.join(__dirname, '../../dist/cli.js')), 'dist/cli.js is missing: run npm run build first (npm test does)');
  const inc = createIncidentRepo();
  t.after(() => inc.repo.cleanup());
  const res = spawnSync(process.execPath, [path.join(__dirname, '../../dist/cli.js'), 'affects', 'desktop/shared/detect-render-node.sh', '--json', '--cwd', inc.repo.dir], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  assert.equal(JSON.parse(res.stdout)[0].affects, true);
  const v = spawnSync(process.execPath, [path.join(__dirname, '../../dist/cli.js'), '--version'], { encoding: 'utf8' });
  assert.match(v.stdout.trim(), /^\d+\.\d+\.\d+/);
});

test('cli: the bin keeps a V8 code cache per command in the user cache dir, and survives a bad one', (t) => {
  const inc = createIncidentRepo();
  const cacheHome = tempDir();
  t.after(() => {
    inc.repo.cleanup();
    rmSync(cacheHome, { recursive: true, force: true });
  });
  const bin = path.join(__dirname, '../../dist/cli.js');
  const runBin = (env: NodeJS.ProcessEnv = {}) => {
    const res = spawnSync(process.execPath, [bin, 'inputs', '--json', '--cwd', inc.repo.dir], { encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: cacheHome, ...env } });
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.stderr, '');
    return res.stdout;
  };
  const dir = path.join(cacheHome, 'build-provenance', 'v8');
  const cacheFiles = () => (existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith('cli-main.js.inputs.')) : []);

  const first = runBin({ PROVENANCE_NO_CODE_CACHE: '1' });
  assert.equal(existsSync(dir), false, 'PROVENANCE_NO_CODE_CACHE=1 writes nothing');
  assert.equal(runBin(), first, 'same output when the cache is written');
  const [file] = cacheFiles();
  assert.ok(file, `a cache for the inputs command in ${dir}`);
  assert.equal(statSync(dir).mode & 0o777, 0o700, 'the cache dir is private');
  assert.equal(statSync(path.join(dir, file)).mode & 0o777, 0o600);
  const written = statSync(path.join(dir, file)).mtimeMs;
  assert.equal(runBin(), first, 'same output from the cache');
  assert.equal(statSync(path.join(dir, file)).mtimeMs, written, 'an accepted cache is not rewritten');

  writeFileSync(path.join(dir, file), Buffer.from('not a code cache'));
  assert.equal(runBin(), first, 'a corrupt cache is rejected by V8 and ignored');
  assert.ok(statSync(path.join(dir, file)).size > 1000, 'and replaced by a good one');
  assert.deepEqual(cacheFiles(), [file], 'one cache file per bundle and command');

  // A cache dir others may write into is not used: a code cache is code.
  chmodSync(dir, 0o777);
  rmSync(path.join(dir, file));
  assert.equal(runBin(), first);
  assert.deepEqual(cacheFiles(), [], 'nothing read or written there');
  chmodSync(dir, 0o700);
});

test('cli: verify takes --container or --image, not both, and --container goes with verify only (exit 2)', async (t) => {
  const inc = createIncidentRepo();
  t.after(() => inc.repo.cleanup());
  const both = await run(['verify', '--container', 'a', '--image', 'b', '--cwd', inc.repo.dir]);
  assert.equal(both.code, 2);
  assert.match(both.err, /verify takes --container or --image, not both/);
  const elsewhere = await run(['status', '--container', 'a', '--cwd', inc.repo.dir]);
  assert.equal(elsewhere.code, 2);
  assert.match(elsewhere.err, /--container goes with verify/);
  const extra = await run(['verify', 'x', '--cwd', inc.repo.dir]);
  assert.equal(extra.code, 2);
});
