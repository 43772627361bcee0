// The built-in build on BuildKit, on the real daemon (Engine 20.10 here, which offers BuildKit
// through the API): RUN --mount cache/bind/secret, the ignore file deciding what BuildKit sees,
// a failing RUN, cancel, build + smoke test, and the errors of a `# syntax=` frontend that cannot
// be pulled and of syntax the engine's built-in frontend does not know. The classic path is in
// build.test.ts (forced there by DOCKER_BUILDKIT=0 and by "build.builder").
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, request } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli as run } from '../support/cli';
import { runBuild } from '../../src/core/build/engine';
import { openSessionCount } from '../../src/core/build/buildkitSession';
import { openWorkspace } from '../../src/core/status/workspace';
import { docker, freePort, requireDocker, runContainer, testEndpoint, uniqueName } from '../support/dockerFixtures';
import { buildFixture as fixture, containersWith, imageLabels, processesWith, removeBuiltImages } from '../support/buildFixture';

const REV = 'org.opencontainers.image.revision';

after(removeBuiltImages);

/**
 * A word unique to this test process, for RUN steps whose output a test reads: BuildKit's cache
 * outlives a run, and the same step from an earlier run would be CACHED (and print nothing).
 */
const nonce = () => uniqueName('nonce');

/** The `#N` block of the step whose header matches, as printed: its lines, header first. */
function stepBlock(output: string, header: RegExp): string[] {
  const lines = output.split('\n');
  const head = lines.find((l) => /^#\d+ /.test(l) && header.test(l));
  assert.ok(head, `a step matching ${header} in:\n${output}`);
  const n = /^#(\d+) /.exec(head)![1];
  return lines.filter((l) => l.startsWith(`#${n} `));
}

async function bridgeless(): Promise<boolean> {
  return !(await docker(['network', 'ls', '--format', '{{.Name}}'])).split('\n').includes('bridge');
}

test('buildkit: labels, tags, build args and the target stage hold; the output is the docker CLI\'s plain progress and says which builder', async (t) => {
  if (!(await requireDocker(t))) return;
  const { repo, name, image, head } = fixture({
    dockerfile: [
      'FROM scratch AS base',
      'COPY busybox /bin/busybox',
      'ARG GREETING=unset',
      `RUN ["/bin/busybox","sh","-c","echo $GREETING > /greeting; echo greeted; : ${nonce()}"]`,
      'FROM base AS final',
      'COPY www /www',
      'CMD ["/bin/busybox","sleep","3600"]',
      'FROM base AS broken',
      'RUN ["/bin/busybox","sh","-c","echo the broken stage ran; exit 9"]',
      '',
    ].join('\n'),
    target: { targetStage: 'final', buildArgs: { GREETING: 'hello-from-buildkit' }, build: { network: 'none' } },
  });
  t.after(() => repo.cleanup());
  const r = await run(['build', '--json', '--cwd', repo.dir]);
  assert.equal(r.code, 0, r.err + r.out);
  const b = r.json();
  assert.deepEqual([b.ok, b.builder, b.error, b.hint], [true, 'buildkit', null, null]);
  assert.deepEqual(b.tags, [`${image}:${head.slice(0, 12)}`, `${image}:latest`]);
  assert.match(r.err, new RegExp(`^Building ${name} \\(built-in, BuildKit\\) at ${head.slice(0, 12)}`, 'm'));
  assert.match(r.err, /^BuildKit: the engine (offers|announces) it \(Docker Engine [\d.]+, API 1\.\d+\)\.$/m);
  // One block per step: "#N name", its output with seconds since the step started, then DONE/CACHED.
  const runStep = stepBlock(r.err, /\[base 2\/2\] RUN/);
  assert.match(runStep[1], /^#\d+ \d+\.\d{3} greeted$/);
  assert.match(runStep[runStep.length - 1], /^#\d+ (DONE \d+\.\ds|CACHED)$/);
  assert.doesNotMatch(r.err, /broken stage ran/, 'the stage after the target stage is not built');
  assert.doesNotMatch(r.err, /moby\.buildkit\.trace|"aux"|[A-Za-z0-9+/]{60,}={0,2}$/m, 'no raw protobuf or base64 reaches the output');

  const l = await imageLabels(b.imageId);
  assert.equal(l[REV], head);
  assert.equal(l['dev.build-provenance.dirty'], 'false');
  assert.equal(l['dev.build-provenance.target'], name);
  assert.equal(l['dev.build-provenance.dockerfile'], 'Dockerfile');
  assert.equal((await docker(['run', '--rm', '--network', 'none', b.imageId, '/bin/busybox', 'cat', '/greeting'])).trim(), 'hello-from-buildkit');
  assert.equal((await docker(['inspect', '--format', '{{.Id}}', `${image}:latest`])).trim(), b.imageId);
  const [entry] = (await run(['history', '--ledger', '--json', '--cwd', repo.dir])).json();
  assert.deepEqual([entry.kind, entry.result, entry.builder, entry.imageId], ['build', 'success', 'buildkit', b.imageId]);
  assert.match(entry.logExcerpt, /^#\d+ DONE \d+\.\ds$/m, 'the ledger keeps the plain progress');
});

test('buildkit: a cache mount is reused by the next build, and an unchanged step is CACHED', async (t) => {
  if (!(await requireDocker(t))) return;
  const marker = uniqueName('cache');
  const { repo } = fixture({
    steps: [`RUN --mount=type=cache,id=${marker},target=/cache ["/bin/busybox","sh","-c","n=$(cat /cache/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /cache/n; echo cache-run-$n; : ${marker}"]`],
  });
  t.after(() => repo.cleanup());
  const first = await run(['build', '--cwd', repo.dir]);
  assert.equal(first.code, 0, first.out);
  assert.match(first.out, /^#\d+ [\d.]+ cache-run-1$/m);

  const again = await run(['build', '--cwd', repo.dir]);
  assert.equal(again.code, 0, again.out);
  assert.deepEqual(stepBlock(again.out, /RUN --mount=type=cache/).slice(-1).map((l) => l.replace(/^#\d+ /, '')), ['CACHED'], 'nothing changed: the step is cached');
  assert.doesNotMatch(again.out, /^#\d+ [\d.]+ cache-run-/m);

  // An input before the step changes: the step runs again and finds what the first build left in the cache.
  repo.commit('change an input', { 'www/index.html': '<h1>v2</h1>\n' });
  const third = await run(['build', '--cwd', repo.dir]);
  assert.equal(third.code, 0, third.out);
  assert.match(third.out, /^#\d+ [\d.]+ cache-run-2$/m, 'the cache mount kept the first build\'s file');
});

test('buildkit: the ignore file decides what the build sees, bind mounts included', async (t) => {
  if (!(await requireDocker(t))) return;
  // Docker's matcher (core/inputs/dockerignore.ts): regex metacharacters are literal, `**` spans
  // directories, `!` exceptions come back.
  const { repo } = fixture({
    dockerignore: '.git\ndocs\nprivate\na(b)c/def\n**/*.key\n!keep.key\n',
    files: { 'private/credentials.txt': 'do-not-send-me\n', 'a(b)c/def': 'x\n', 'a(b)c/other': 'x\n', 'x/y.key': 'x\n', 'keep.key': 'x\n' },
    steps: [`RUN --mount=type=bind,target=/ctx ["/bin/busybox","sh","-c","cd /ctx && find . -type f | sort; test ! -e private && echo private-not-sent; : ${nonce()}"]`],
  });
  t.after(() => repo.cleanup());
  const r = await run(['build', '--json', '--cwd', repo.dir]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /^#\d+ [\d.]+ private-not-sent$/m);
  const seen = [...r.err.matchAll(/^#\d+ [\d.]+ \.\/(.+)$/gm)].map((m) => m[1]);
  assert.deepEqual(seen.sort(), ['.dockerignore', '.provenance.json', 'Dockerfile', 'a(b)c/other', 'busybox', 'keep.key', 'www/index.html']);

  // Naming the excluded file itself: BuildKit does not have it.
  repo.commit('mount the excluded file', {
    Dockerfile: 'FROM scratch\nCOPY busybox /bin/busybox\nRUN --mount=type=bind,source=private/credentials.txt,target=/c ["/bin/busybox","cat","/c"]\n',
  });
  const excluded = await run(['build', '--json', '--cwd', repo.dir]);
  assert.equal(excluded.code, 1, excluded.err);
  // The engine's words vary with its cache state: '"/private/credentials.txt" not found' or 'lstat …/private: no such file or directory'.
  assert.match(excluded.json().error, /private(\/credentials\.txt)?"?:? .*(not found|no such file or directory)/);
  assert.ok(!(excluded.err + excluded.out).includes('do-not-send-me'));
});

test('buildkit: secrets from build.secrets (a file, a variable) reach RUN --mount=type=secret, and never the image, the output or the ledger', async (t) => {
  if (!(await requireDocker(t))) return;
  const dir = mkdtempSync(path.join(tmpdir(), 'bp-secret-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'token');
  writeFileSync(file, 'file-secret-value', { mode: 0o600 });
  // The step compares digests, so the values appear nowhere but in the file and the variable.
  const sha = (v: string) => createHash('sha256').update(v).digest('hex');
  const { repo } = fixture({
    steps: [
      `RUN --mount=type=secret,id=tok --mount=type=secret,id=api,required=true ["/bin/busybox","sh","-c","cd /run/secrets && test $(sha256sum < tok | cut -c1-64) = ${sha('file-secret-value')} && test $(sha256sum < api | cut -c1-64) = ${sha('env-secret-value')} && echo secrets-ok; : ${nonce()}"]`,
      'CMD ["/bin/busybox","sleep","3600"]',
    ],
    target: { build: { network: 'none', secrets: { tok: { file }, api: { env: 'BP_TEST_API_SECRET' } } } },
  });
  t.after(() => repo.cleanup());
  const r = await run(['build', '--json', '--cwd', repo.dir], undefined, { BP_TEST_API_SECRET: 'env-secret-value' });
  assert.equal(r.code, 0, r.err + r.out);
  assert.match(r.err, /^#\d+ [\d.]+ secrets-ok$/m);
  assert.doesNotMatch(r.err + r.out, /file-secret-value|env-secret-value/);
  const inImage = await docker(['run', '--rm', '--network', 'none', r.json().imageId, '/bin/busybox', 'sh', '-c', 'cat /run/secrets/* 2>/dev/null; echo end']);
  assert.equal(inImage.trim(), 'end', 'the secrets are not in the image');
  const [entry] = (await run(['history', '--ledger', '--json', '--cwd', repo.dir])).json();
  assert.doesNotMatch(JSON.stringify(entry), /file-secret-value|env-secret-value/);

  // The variable is not set: refused before anything runs, naming what to fix.
  const unset = await run(['build', '--json', '--cwd', repo.dir]);
  assert.equal(unset.code, 2);
  assert.match(unset.json().error, /build\.secrets\.api: the environment variable BP_TEST_API_SECRET is not set/);
});

test('buildkit: a secret the Dockerfile needs and the target does not configure: a warning first, then the engine\'s error and what to add', async (t) => {
  if (!(await requireDocker(t))) return;
  const { repo } = fixture({ steps: ['RUN --mount=type=secret,id=npmrc,required=true ["/bin/busybox","true"]'] });
  t.after(() => repo.cleanup());
  const r = await run(['build', '--json', '--cwd', repo.dir]);
  assert.equal(r.code, 1, r.err);
  const b = r.json();
  assert.match(r.err, /^warning: Dockerfile:4 mounts the secret "npmrc", which the target does not configure, so the build fails there/m);
  assert.match(b.error, /npmrc/);
  assert.match(b.hint, /^Dockerfile:4 needs the secret "npmrc", which the target does not configure: add "build": \{"secrets": \{"npmrc": /);
});

test('buildkit: a failing RUN ends with its exit code in the engine\'s words, its output boxed as the docker CLI does', async (t) => {
  if (!(await requireDocker(t))) return;
  const marker = uniqueName('marker');
  const { repo } = fixture({ steps: [`RUN ["/bin/busybox","sh","-c","echo about to fail >&2; exit 7; : ${marker}"]`] });
  t.after(() => repo.cleanup());
  const r = await run(['build', '--cwd', repo.dir]);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /^#\d+ [\d.]+ about to fail$/m);
  assert.match(r.out, /^------\n > \[3\/3\] RUN .*:\n#\d+ [\d.]+ about to fail\n------$/m);
  assert.match(r.out, /build FAILED at [0-9a-f]{12} with BuildKit: .*exit code: 7$/m);
  assert.deepEqual(await containersWith(marker), []);
});

test('buildkit: cancel in the middle of a RUN stops it; no process, container or session is left', async (t) => {
  if (!(await requireDocker(t))) return;
  const marker = uniqueName('marker');
  const { repo } = fixture({ steps: [`RUN ["/bin/busybox","sh","-c","echo step started; /bin/busybox sleep 60; : ${marker}"]`] });
  t.after(() => repo.cleanup());
  const ws = await openWorkspace(repo.dir);
  const ac = new AbortController();
  let sessionsWhileRunning = -1;
  let runningProcesses: string[] = [];
  const started = Date.now();
  const r = await runBuild(ws, ws.targets[0], {
    trusted: true,
    signal: ac.signal,
    onOutput: (l) => {
      if (/^#\d+ [\d.]+ step started$/.test(l)) {
        void (async () => {
          sessionsWhileRunning = openSessionCount();
          runningProcesses = await processesWith(marker);
          ac.abort();
        })();
      }
    },
  });
  assert.equal(r.result, 'cancelled', r.error ?? '');
  assert.equal(r.builder, 'buildkit');
  assert.ok(Date.now() - started < 30_000, 'the cancel did not wait for the step');
  assert.equal(sessionsWhileRunning, 1, 'the build had its session');
  assert.equal(runningProcesses.length, 1, 'the RUN step was running');
  assert.equal(openSessionCount(), 0, 'no session is left');
  assert.deepEqual(await processesWith(marker), [], 'the RUN step\'s process is gone');
  assert.deepEqual(await containersWith(marker), []);
  const [entry] = (await run(['history', '--ledger', '--json', '--cwd', repo.dir])).json();
  assert.deepEqual([entry.result, entry.builder], ['cancelled', 'buildkit']);
});

test('buildkit: build + smoke test, then the new image runs: status turns in-sync', async (t) => {
  if (!(await requireDocker(t))) return;
  const port = await freePort();
  const { repo, image, head } = fixture({
    steps: [`RUN ["/bin/busybox","sh","-c","echo built-by-buildkit > /www/built.txt; : ${nonce()}"]`, `CMD ["/bin/busybox","httpd","-f","-p","127.0.0.1:${port}","-h","/www"]`],
    target: { smoke: { ready: { http: `http://127.0.0.1:${port}/built.txt` }, timeoutSeconds: 20 } },
  });
  t.after(() => repo.cleanup());
  const r = await run(['build', '--smoke', '--json', '--cwd', repo.dir]);
  assert.equal(r.code, 0, r.err + r.out);
  const b = r.json();
  assert.deepEqual([b.builder, b.smoke.result], ['buildkit', 'passed']);
  assert.equal((await run(['status', '--json', '--cwd', repo.dir])).json().state, 'no-container');
  await runContainer({ image: `${image}:latest` });
  const s = (await run(['status', '--json', '--cwd', repo.dir])).json();
  assert.equal(s.state, 'in-sync', s.summary);
  assert.equal(s.running[0].revision, head);
});

test('buildkit: a "# syntax=" frontend that cannot be pulled fails with the engine\'s error and what to do', async (t) => {
  if (!(await requireDocker(t))) return;
  // `.invalid` never resolves, on any machine: the pull fails here as it does without internet.
  const { repo } = fixture({ dockerfile: '# syntax=registry.invalid/bp/dockerfile:1\nFROM scratch\nCOPY busybox /bin/busybox\n' });
  t.after(() => repo.cleanup());
  const r = await run(['build', '--json', '--cwd', repo.dir]);
  assert.equal(r.code, 1, r.err);
  const b = r.json();
  assert.match(b.error, /registry\.invalid/);
  assert.match(b.hint, /^Dockerfile:1 asks for the Dockerfile frontend registry\.invalid\/bp\/dockerfile:1 \("# syntax="\), and the engine could not pull that image/);
  assert.match(b.hint, /docker pull registry\.invalid\/bp\/dockerfile:1/);
  assert.match(b.hint, /"mode": "command"/);
});

test('buildkit: syntax the engine\'s built-in frontend does not know (a heredoc, COPY --link) gets the engine\'s error plus which Docker understands it', async (t) => {
  if (!(await requireDocker(t))) return;
  const version = (await docker(['version', '--format', '{{.Server.Version}}'])).trim();
  const before23 = Number(version.split('.')[0]) < 23;
  const { repo } = fixture({ dockerfile: 'FROM scratch\nCOPY busybox /bin/busybox\nRUN <<EOT\n/bin/busybox true\nEOT\n' });
  t.after(() => repo.cleanup());
  const r = await run(['build', '--json', '--cwd', repo.dir]);
  if (!before23) {
    assert.equal(r.code, 0, `Docker ${version} knows heredocs: ${r.err}`);
    return;
  }
  assert.equal(r.code, 1, r.err);
  assert.match(r.json().error, /dockerfile parse error/);
  assert.equal(
    r.json().hint,
    `Dockerfile:3 uses a heredoc (RUN <<EOT): Dockerfile syntax 1.4, which Docker Engine 23.0 and later understand; Docker Engine ${version.replace(/\+.*$/, '')}'s built-in frontend does not. ` +
      'Upgrade the engine, or add "# syntax=docker/dockerfile:1.4" as the first line (the engine then pulls that frontend from a registry).',
  );
  repo.commit('link', { Dockerfile: 'FROM scratch\nCOPY --link busybox /bin/busybox\n' });
  const link = (await run(['build', '--json', '--cwd', repo.dir])).json();
  assert.match(link.error, /[Uu]nknown flag: link/);
  assert.match(link.hint, /^Dockerfile:2 uses COPY --link: Dockerfile syntax 1\.4, which Docker Engine 23\.0 and later understand/);
});

test('builder: the classic builder forced by DOCKER_BUILDKIT=0 refuses RUN --mount, and the failure says why; a bad value is refused', async (t) => {
  if (!(await requireDocker(t))) return;
  const { repo } = fixture({ steps: ['RUN --mount=type=cache,target=/c ["/bin/busybox","true"]'] });
  t.after(() => repo.cleanup());
  const r = await run(['build', '--json', '--cwd', repo.dir], undefined, { DOCKER_BUILDKIT: '0' });
  assert.equal(r.code, 1, r.err);
  const b = r.json();
  assert.equal(b.builder, 'classic');
  assert.match(r.err, /^The classic builder: DOCKER_BUILDKIT=0\.$/m);
  assert.match(b.error, /--mount option requires BuildKit/);
  assert.equal(b.hint, 'RUN --mount needs BuildKit, and this build used the classic builder because DOCKER_BUILDKIT=0. Drop that override to build with BuildKit.');
  const bad = await run(['build', '--json', '--cwd', repo.dir], undefined, { DOCKER_BUILDKIT: 'maybe' });
  assert.equal(bad.code, 2);
  assert.match(bad.json().error, /DOCKER_BUILDKIT=maybe is not a boolean/);
  // The target's setting wins over the variable.
  repo.commit('builder', { '.provenance.json': JSON.stringify({ targets: [{ ...JSON.parse(readFileSync(path.join(repo.dir, '.provenance.json'), 'utf8')).targets[0], build: { network: 'none', builder: 'buildkit' } }] }) });
  const forced = await run(['build', '--json', '--cwd', repo.dir], undefined, { DOCKER_BUILDKIT: '0' });
  assert.equal(forced.code, 0, forced.err);
  assert.equal(forced.json().builder, 'buildkit');
  assert.match(forced.err, /^BuildKit: "build\.builder": "buildkit" in \.provenance\.json\.$/m);
});

test('network: without "build.network", RUN steps on an engine without a bridge network get host (and say so); "default" keeps the engine\'s', async (t) => {
  if (!(await requireDocker(t))) return;
  const { repo } = fixture({ steps: [`RUN ["/bin/busybox","sh","-c","echo ran; : ${nonce()}"]`], target: { build: {} } });
  t.after(() => repo.cleanup());
  const r = await run(['build', '--cwd', repo.dir]);
  assert.equal(r.code, 0, r.out);
  const noBridge = await bridgeless();
  if (noBridge) assert.match(r.out, /^RUN steps use the host network: the engine has no bridge network \("build\.network" chooses another\)\.$/m);
  else assert.doesNotMatch(r.out, /host network/);
  assert.match(r.out, /^#\d+ [\d.]+ ran$/m);
  if (!noBridge) return;
  repo.commit('default network', { '.provenance.json': JSON.stringify({ targets: [{ ...JSON.parse(readFileSync(path.join(repo.dir, '.provenance.json'), 'utf8')).targets[0], build: { network: 'default' } }] }) });
  const d = await run(['build', '--json', '--cwd', repo.dir]);
  assert.equal(d.code, 1, d.err);
  assert.match(d.json().error, /network bridge not found|bridge/);
});

test('buildkit: a rebuild whose steps are all cached is the newest image (BuildKit dates it by its cached last step; the created label says when it was built)', async (t) => {
  if (!(await requireDocker(t))) return;
  const { repo } = fixture();
  t.after(() => repo.cleanup());
  const first = (await run(['build', '--json', '--cwd', repo.dir])).json();
  // A commit that changes no input: every step is cached, only the labels are new.
  await new Promise((r) => setTimeout(r, 1100));
  const head = repo.commit('docs only', { 'docs/readme.md': 'more docs\n' });
  const second = await run(['build', '--json', '--cwd', repo.dir]);
  assert.equal(second.code, 0, second.err);
  assert.notEqual(second.json().imageId, first.imageId);
  const engineCreated = (await docker(['inspect', '--format', '{{.Created}}', second.json().imageId])).trim();
  assert.ok(Date.parse(engineCreated) < Date.parse(second.json().startedAt), `BuildKit's Created (${engineCreated}) predates the build: this is the case under test`);
  const s = (await run(['status', '--json', '--cwd', repo.dir])).json();
  assert.equal(s.built.imageId, second.json().imageId);
  assert.equal(s.built.revision, head);
});

test('builder: an engine that refuses the BuildKit session (a Docker look-alike) gets the classic builder, and the output says so', async (t) => {
  if (!(await requireDocker(t))) return;
  const upstream = testEndpoint().host;
  assert.match(upstream, /^unix:\/\//, 'the test daemon is reached over a unix socket');
  // A proxy in front of the real daemon that answers POST /session with 404, as an API without sessions does.
  const dir = mkdtempSync(path.join(tmpdir(), 'bp-nosession-'));
  const sock = path.join(dir, 'docker.sock');
  const server = createServer((req, res) => {
    if (/\/session$/.test(req.url ?? '')) {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end('{"message":"page not found"}');
      return;
    }
    const up = request({ socketPath: upstream.slice('unix://'.length), path: req.url, method: req.method, headers: req.headers }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(sock, resolve));
  t.after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const { repo } = fixture({ target: { docker: { endpoints: [`unix://${sock}`] } } });
  t.after(() => repo.cleanup());
  const r = await run(['build', '--json', '--cwd', repo.dir]);
  assert.equal(r.code, 0, r.err + r.out);
  assert.equal(r.json().builder, 'classic');
  assert.match(r.err, /^BuildKit is not available after all: .*page not found.*\. Building with the classic builder\.$/m);
  assert.match(r.err, /Step 3\/\d+ : COPY www \/www/);
  // Asked for explicitly, it is a failure instead.
  repo.commit('buildkit', { '.provenance.json': JSON.stringify({ targets: [{ ...JSON.parse(readFileSync(path.join(repo.dir, '.provenance.json'), 'utf8')).targets[0], build: { network: 'none', builder: 'buildkit' } }] }) });
  const forced = await run(['build', '--json', '--cwd', repo.dir]);
  assert.equal(forced.code, 1, forced.err);
  assert.deepEqual([forced.json().builder, forced.json().result], ['buildkit', 'failure']);
  assert.match(forced.json().error, /^BuildKit is not available on the engine: .*page not found/);
});
