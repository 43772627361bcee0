// Build + smoke test + ledger on a real Docker daemon: busybox images FROM scratch built through
// the CLI and the engine, smoke containers on host networking probed on 127.0.0.1 only.
// Every test removes the images and containers it created; "no container left" is asserted by
// listing containers with the smoke label.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../support/cli';
import { BuildRefusedError, runBuild, runSmokeTest, targetBusy } from '../../src/core/build/engine';
import { runDeploy } from '../../src/core/build/deploy';
import { openWorkspace } from '../../src/core/status/workspace';
import { disposeAllSmokeContainers, removeStraySmokeContainers, SMOKE_LABEL, SMOKE_OWNER_LABEL, SMOKE_TARGET_LABEL } from '../../src/core/build/smoke';
import { TOOL_VERSION } from '../../src/core/version';
import { FixtureRepo } from '../support/gitFixture';
import { docker, freePort, requireDocker, runContainer, testEndpoint, uniqueName } from '../support/dockerFixtures';
import { buildFixture, containersWith, imageLabels, processesWith, removeBuiltImages } from '../support/buildFixture';

const REV = 'org.opencontainers.image.revision';
const CLI = path.join(__dirname, '../../src/cli/main.ts');

after(removeBuiltImages);

const run = runCli;
const fixture = buildFixture;
const labels = imageLabels;

async function smokeContainers(target: string): Promise<string[]> {
  const out = await docker(['ps', '-a', '-q', '--filter', `label=${SMOKE_LABEL}=1`, '--filter', `label=${SMOKE_TARGET_LABEL}=${target}`]);
  return out.split('\n').filter(Boolean);
}

async function allContainerIds(): Promise<string[]> {
  return (await docker(['ps', '-a', '-q', '--no-trunc'])).split('\n').filter(Boolean);
}

/** The two builders: BuildKit, which the engine offers (the default), and the classic one, forced by DOCKER_BUILDKIT=0. */
const BUILDERS = [
  { builder: 'buildkit', env: {} as NodeJS.ProcessEnv, copyStep: /^#\d+ \[2\/2\] COPY www \/www$/m },
  { builder: 'classic', env: { DOCKER_BUILDKIT: '0' } as NodeJS.ProcessEnv, copyStep: /Step 3\/\d+ : COPY www \/www/ },
] as const;

for (const { builder, env, copyStep } of BUILDERS) test(`build (CLI, ${builder}): labels say which commit, when, from where; tags <short-sha> and latest; status and history see it`, async (t) => {
  if (!(await requireDocker(t))) return;
  const { repo, name, image, head } = fixture();
  t.after(() => repo.cleanup());
  repo.git('remote', 'add', 'origin', 'https://builder:s3cr3t-token@git.example.invalid/team/app.git');
  const before = Date.now();
  const r = await run(['build', '--json', '--cwd', repo.dir], undefined, env);
  assert.equal(r.code, 0, r.err + r.out);
  const b = r.json();
  assert.equal(b.ok, true);
  assert.equal(b.result, 'success');
  assert.equal(b.mode, 'builtin');
  assert.equal(b.builder, builder);
  assert.equal(b.target, name);
  assert.equal(b.revision, head);
  assert.equal(b.dirty, false);
  assert.equal(b.inputHash, '');
  assert.match(b.imageId, /^sha256:[0-9a-f]{64}$/);
  assert.deepEqual(b.tags, [`${image}:${head.slice(0, 12)}`, `${image}:latest`]);
  assert.equal(b.smoke, null);
  assert.match(r.err, copyStep, 'build output streams to stderr with --json');
  assert.match(r.err, new RegExp(`^Building ${name} \\(built-in, ${builder === 'buildkit' ? 'BuildKit' : 'classic builder'}\\)`, 'm'), 'the output says which builder');

  const l = await labels(`${image}:${head.slice(0, 12)}`);
  assert.equal(l[REV], head);
  assert.equal(l['org.opencontainers.image.source'], 'https://git.example.invalid/team/app.git');
  assert.ok(!JSON.stringify(l).includes('s3cr3t'), 'no credentials in any label');
  assert.match(l['org.opencontainers.image.created'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  assert.ok(Date.parse(l['org.opencontainers.image.created']) >= before - 1000);
  assert.equal(l['dev.build-provenance.dirty'], 'false');
  assert.equal(l['dev.build-provenance.input-hash'], '');
  assert.equal(l['dev.build-provenance.dockerfile'], 'Dockerfile');
  assert.equal(l['dev.build-provenance.version'], TOOL_VERSION);
  assert.equal((await docker(['inspect', '--format', '{{.Id}}', `${image}:latest`])).trim(), b.imageId);

  const s = await run(['status', '--json', '--cwd', repo.dir]);
  assert.equal(s.json().built.imageId, b.imageId);
  assert.equal(s.json().built.revision, head);

  const h = await run(['history', '--ledger', '--json', '--cwd', repo.dir]);
  assert.equal(h.code, 0, h.err);
  const [entry] = h.json();
  assert.deepEqual([entry.kind, entry.target, entry.revision, entry.imageId, entry.result, entry.present, entry.passed, entry.builder], ['build', name, head, b.imageId, 'success', true, null, builder]);
  assert.deepEqual(entry.currentTags.sort(), b.tags.sort());
  assert.equal(entry.id, b.ledgerId);
  assert.match((await run(['history', '--ledger', '--cwd', repo.dir])).out, new RegExp(`${name}  build {3}${head.slice(0, 12)}  ${b.imageId.slice(7, 19)}`));
});

test('build: an uncommitted change to an input makes a dirty build, labelled so; a change to a non-input does not', async (t) => {
  if (!(await requireDocker(t))) return;
  const { repo, image, head } = fixture();
  t.after(() => repo.cleanup());
  repo.write('docs/readme.md', 'edited, but not an input\n');
  const clean = await run(['build', '--json', '--cwd', repo.dir]);
  assert.equal(clean.code, 0, clean.err);
  assert.equal(clean.json().dirty, false);

  repo.write('www/index.html', '<h1>uncommitted</h1>\n');
  repo.write('www/new.html', 'untracked input\n');
  const r = await run(['build', '--json', '--cwd', repo.dir]);
  assert.equal(r.code, 0, r.err);
  const b = r.json();
  assert.equal(b.dirty, true);
  assert.match(b.inputHash, /^[0-9a-f]{64}$/);
  assert.deepEqual(b.tags, [`${image}:${head.slice(0, 12)}-dirty`, `${image}:latest`]);
  const l = await labels(b.imageId);
  assert.equal(l[REV], `${head}-dirty`);
  assert.equal(l['dev.build-provenance.dirty'], 'true');
  assert.equal(l['dev.build-provenance.input-hash'], b.inputHash);
  const s = (await run(['status', '--json', '--cwd', repo.dir])).json();
  assert.equal(s.built.dirty, true);
  assert.equal(s.built.revision, head);
  // The same uncommitted content gives the same hash.
  const again = (await run(['build', '--json', '--cwd', repo.dir])).json();
  assert.equal(again.inputHash, b.inputHash);
});

test('build --smoke: busybox httpd on a loopback port passes, and its container is removed', async (t) => {
  if (!(await requireDocker(t))) return;
  const port = await freePort();
  const { repo, name } = fixture({
    steps: [`CMD ["/bin/busybox","httpd","-f","-p","127.0.0.1:${port}","-h","/www"]`],
    target: { smoke: { ready: { http: `http://127.0.0.1:${port}/index.html` }, timeoutSeconds: 20 } },
  });
  t.after(() => repo.cleanup());
  const r = await run(['build', '--smoke', '--json', '--cwd', repo.dir]);
  assert.equal(r.code, 0, r.err + r.out);
  const b = r.json();
  assert.equal(b.ok, true);
  assert.equal(b.smoke.result, 'passed');
  assert.equal(b.smoke.reason, null);
  assert.deepEqual(await smokeContainers(name), []);
  const [entry] = (await run(['history', '--ledger', '--json', '--cwd', repo.dir])).json();
  assert.deepEqual(entry.smoke, { result: 'passed', reason: null });
  assert.equal(entry.passed, true);
});

test('smoke failure: a probe that never answers times out; non-zero exit, no container left', async (t) => {
  if (!(await requireDocker(t))) return;
  const port = await freePort();
  const { repo, name } = fixture({ target: { smoke: { ready: { http: `http://127.0.0.1:${port}/` }, timeoutSeconds: 2 } } });
  t.after(() => repo.cleanup());
  const r = await run(['build', '--smoke', '--json', '--cwd', repo.dir]);
  assert.equal(r.code, 1, r.err);
  const b = r.json();
  assert.equal(b.ok, false);
  assert.equal(b.result, 'failure');
  assert.match(b.imageId, /^sha256:/, 'the build itself succeeded');
  assert.equal(b.smoke.result, 'failed');
  assert.equal(b.smoke.failure, 'timeout');
  assert.match(b.smoke.reason, new RegExp(`^timeout after 2 s: HTTP probe GET http://127\\.0\\.0\\.1:${port}/ did not answer \\(ECONNREFUSED\\)`));
  assert.deepEqual(await smokeContainers(name), []);
  const human = await run(['smoke', '--cwd', repo.dir]);
  assert.equal(human.code, 1);
  assert.match(human.out, /smoke test FAILED: timeout after 2 s/);
  assert.deepEqual(await smokeContainers(name), []);
  const [last, first] = (await run(['history', '--ledger', '--json', '--cwd', repo.dir])).json();
  assert.deepEqual([last.kind, last.passed, first.kind, first.passed], ['smoke', false, 'build', false]);
});

test('smoke failure: the container exits; the reason has its exit code and the log tail its last words', async (t) => {
  if (!(await requireDocker(t))) return;
  const port = await freePort();
  const { repo, name } = fixture({
    target: { smoke: { command: ['/bin/busybox', 'sh', '-c', 'echo starting up; echo cannot open /dev/dri >&2; exit 3'], ready: { tcp: port }, timeoutSeconds: 20 } },
  });
  t.after(() => repo.cleanup());
  const r = await run(['build', '--smoke', '--json', '--cwd', repo.dir]);
  assert.equal(r.code, 1, r.err);
  const s = r.json().smoke;
  assert.equal(s.failure, 'exited');
  assert.equal(s.exitCode, 3);
  assert.match(s.reason, /^container exited with code 3 before it was ready/);
  // stdout and stderr are separate streams: their relative order is not guaranteed.
  assert.deepEqual([...s.logTail].sort(), ['cannot open /dev/dri', 'starting up']);
  assert.deepEqual(await smokeContainers(name), []);
  const human = await run(['smoke', '--cwd', repo.dir]);
  assert.match(human.out, /container exited with code 3[\s\S]*container log \(last lines\):\n {4}(starting up|cannot open \/dev\/dri)\n/);
});

test('smoke failure: the probe answers 500 (smoke --image); no container left', async (t) => {
  if (!(await requireDocker(t))) return;
  const port = await freePort();
  const { repo, name } = fixture({
    steps: [`CMD ["/bin/busybox","httpd","-f","-p","127.0.0.1:${port}","-h","/www"]`],
    target: { smoke: { ready: { http: `http://127.0.0.1:${port}/cgi-bin/health` }, timeoutSeconds: 20 } },
    files: { 'www/cgi-bin/health': '#!/bin/busybox sh\nprintf "Status: 500 Internal Server Error\\r\\nContent-Type: text/plain\\r\\n\\r\\ndesktop bridge down\\n"\n' },
  });
  chmodSync(path.join(repo.dir, 'www/cgi-bin/health'), 0o755);
  repo.commit('cgi executable');
  t.after(() => repo.cleanup());
  const built = await run(['build', '--json', '--cwd', repo.dir]);
  assert.equal(built.code, 0, built.err);
  const imageId = built.json().imageId;
  const r = await run(['smoke', '--image', imageId, '--json', '--cwd', repo.dir]);
  assert.equal(r.code, 1, r.err);
  const s = r.json();
  assert.equal(s.imageId, imageId);
  assert.equal(s.revision, repo.head());
  assert.equal(s.smoke.failure, 'probe');
  assert.equal(s.smoke.reason, `HTTP probe GET http://127.0.0.1:${port}/cgi-bin/health answered 500`);
  assert.deepEqual(await smokeContainers(name), []);
  assert.equal((await run(['smoke', '--image', 'sha256:' + '0'.repeat(64), '--cwd', repo.dir])).code, 2);
});

test('smoke: log-line and exec probes pass together', async (t) => {
  if (!(await requireDocker(t))) return;
  const { repo, name } = fixture({
    target: {
      smoke: {
        command: ['/bin/busybox', 'sh', '-c', 'echo "bridge listening on :9876"; touch /tmp/ready; exec /bin/busybox sleep 3600'],
        env: { GREETING: 'hello' },
        network: 'none',
        extraArgs: ['--tmpfs', '/tmp', '-e', 'MODE=smoke'],
        ready: { log: 'listening on :\\d+', exec: ['/bin/busybox', 'sh', '-c', 'test -f /tmp/ready && test "$MODE$GREETING" = smokehello'] },
        timeoutSeconds: 20,
      },
    },
  });
  t.after(() => repo.cleanup());
  const r = await run(['build', '--smoke', '--json', '--cwd', repo.dir]);
  assert.equal(r.code, 0, r.err + r.out);
  assert.equal(r.json().smoke.result, 'passed');
  assert.deepEqual(await smokeContainers(name), []);
});

for (const { builder, env } of BUILDERS) test(`cancel (${builder}): Ctrl-C in the middle of a CLI build stops it and leaves no container; a second build of that target is refused meanwhile, another target builds`, async (t) => {
  if (!(await requireDocker(t))) return;
  const quickImage = uniqueName('img');
  const quickName = uniqueName('t');
  const marker = uniqueName('marker');
  const { repo, name } = fixture({
    steps: [`RUN ["/bin/busybox","sh","-c","echo step started; /bin/busybox sleep 30; : ${marker}"]`],
    more: [{ name: quickName, image: quickImage, dockerfile: 'Dockerfile.quick', build: { network: 'none' } }],
    files: { 'Dockerfile.quick': 'FROM scratch\nCOPY busybox /bin/busybox\n' },
  });
  t.after(() => repo.cleanup());
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'build', '--target', name, '--cwd', repo.dir], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.after(() => child.kill('SIGKILL'));
  // The classic builder names the step's container; BuildKit runs it as a process of its own.
  const stepId = await new Promise<string | null>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const m = / ---> Running in ([0-9a-f]{12})/.exec(out);
      if (m) resolve(m[1]);
      else if (builder === 'buildkit' && /^#\d+ [\d.]+ step started$/m.test(out)) resolve(null);
    });
    void exited.then(() => reject(new Error(`the CLI exited early:\n${out}`)));
  });
  if (stepId) assert.ok((await allContainerIds()).some((id) => id.startsWith(stepId)), 'the RUN step is running');
  else assert.equal((await processesWith(marker)).length, 1, 'the RUN step is running');

  const ws = await openWorkspace(repo.dir);
  const slow = ws.targets.find((x) => x.name === name)!;
  const quick = ws.targets.find((x) => x.name === quickName)!;
  assert.match(targetBusy(ws.repo, name)?.purpose ?? '', /build of .* by the provenance CLI/);
  await assert.rejects(runBuild(ws, slow, { trusted: true, origin: 'VS Code' }), (e: Error) => e instanceof BuildRefusedError && e.code === 'busy' && /already being built/.test(e.message));
  const refused = await run(['build', '--target', name, '--cwd', repo.dir]);
  assert.equal(refused.code, 2);
  assert.match(refused.err, /already being built or smoke-tested \(build of .* by the provenance CLI, pid \d+/);
  const other = await runBuild(ws, quick, { trusted: true });
  assert.equal(other.ok, true, other.error ?? '');

  child.kill('SIGINT');
  assert.equal(await exited, 2);
  assert.match(out, /build cancelled/);
  assert.deepEqual(await containersWith(marker), [], 'no build container is left');
  assert.deepEqual(await processesWith(marker), [], 'the RUN step\'s process is gone');
  assert.equal(targetBusy(ws.repo, name), null, 'the lock is released');
  const hist = (await run(['history', '--ledger', '--json', '--target', name, '--cwd', repo.dir])).json();
  assert.deepEqual(hist.map((e: { result: string; builder: string }) => `${e.result}:${e.builder}`), [`cancelled:${builder}`]);
});

test('cancel: in the middle of a smoke test, and on dispose (extension deactivate), the container is removed', async (t) => {
  if (!(await requireDocker(t))) return;
  const port = await freePort();
  const { repo, name } = fixture({ target: { smoke: { ready: { http: `http://127.0.0.1:${port}/` }, timeoutSeconds: 60 } } });
  t.after(() => repo.cleanup());
  const ws = await openWorkspace(repo.dir);
  assert.equal((await runBuild(ws, ws.targets[0], { trusted: true })).ok, true);

  const ac = new AbortController();
  const started = Date.now();
  const r = await runSmokeTest(ws, ws.targets[0], {
    trusted: true,
    signal: ac.signal,
    onOutput: (l) => {
      if (/^Smoke test: starting/.test(l)) {
        void (async () => {
          while ((await smokeContainers(name)).length === 0) await new Promise((res) => setTimeout(res, 50));
          setTimeout(() => ac.abort(), 300);
        })();
      }
    },
  });
  assert.equal(r.smoke.result, 'cancelled');
  assert.match(r.smoke.reason ?? '', /^cancelled before the container (started|was ready)$/, 'says when, not just "cancelled"');
  assert.equal(r.ok, false);
  assert.ok(Date.now() - started < 20_000);
  assert.deepEqual(await smokeContainers(name), []);

  const p = runSmokeTest(ws, ws.targets[0], { trusted: true });
  while ((await smokeContainers(name)).length === 0) await new Promise((res) => setTimeout(res, 50));
  await disposeAllSmokeContainers();
  assert.deepEqual(await smokeContainers(name), []);
  assert.equal((await p).smoke.result, 'cancelled');
  const cli = await run(['history', '--ledger', '--json', '--cwd', repo.dir]);
  assert.deepEqual(cli.json().map((e: { kind: string; result: string }) => `${e.kind}:${e.result}`), ['smoke:cancelled', 'smoke:cancelled', 'build:success']);

  // A stray left by a process that was SIGKILLed is found by its labels and removed; one of a
  // live process (another CLI or window testing right now) is left alone.
  const mk = async (owner: string) => {
    const n = uniqueName('stray');
    await docker(['create', '--network', 'none', '--name', n, '--label', `${SMOKE_LABEL}=1`, '--label', `${SMOKE_TARGET_LABEL}=${name}`, '--label', `${SMOKE_OWNER_LABEL}=${owner}`, ws.targets[0].image]);
    return n;
  };
  const dead = await mk(`${hostname()}:${2 ** 22 + 11}`);
  const alive = await mk(`${hostname()}:1`);
  assert.equal((await smokeContainers(name)).length, 2);
  const removed = await removeStraySmokeContainers(testEndpoint());
  assert.ok(removed.includes(dead) && !removed.includes(alive), removed.join(', '));
  assert.equal((await smokeContainers(name)).length, 1);
  await docker(['rm', '-f', alive]);
});

test('custom command: gets the buildx and PROVENANCE_* variables; an image without a revision label gets exact guidance', async (t) => {
  if (!(await requireDocker(t))) return;
  const script = [
    '#!/bin/sh',
    'set -e',
    'env | grep -E "^(BUILDX_GIT|PROVENANCE_)" | sort > "$ENV_OUT"',
    'echo "cwd=$(pwd)" >> "$ENV_OUT"',
    'echo building "$PROVENANCE_IMAGE"',
    'DOCKER_BUILDKIT=0 docker build -q $EXTRA_LABEL -t "$PROVENANCE_IMAGE:custom" . ',
    '',
  ].join('\n');
  const { repo, name, image, head } = fixture({
    target: { build: { mode: 'command', command: ['./scripts/build.sh'], env: { ENV_OUT: 'SET-BELOW' } } },
    files: { 'scripts/build.sh': script },
  });
  t.after(() => repo.cleanup());
  chmodSync(path.join(repo.dir, 'scripts/build.sh'), 0o755);
  const envOut = path.join(repo.dir, '..', `${path.basename(repo.dir)}-env.txt`);
  t.after(() => FixtureRepo.at(envOut).cleanup());
  const cfg = JSON.parse(readFileSync(path.join(repo.dir, '.provenance.json'), 'utf8'));
  cfg.targets[0].build.env.ENV_OUT = envOut;
  repo.commit('config', { '.provenance.json': JSON.stringify(cfg) });
  const headNow = repo.head();
  assert.notEqual(headNow, head);

  const r = await run(['build', '--cwd', repo.dir]);
  assert.equal(r.code, 0, r.err + r.out);
  assert.deepEqual(readFileSync(envOut, 'utf8').trim().split('\n'), [
    'BUILDX_GIT_CHECK_DIRTY=1',
    'BUILDX_GIT_LABELS=full',
    'PROVENANCE_DIRTY=false',
    'PROVENANCE_IMAGE=' + image,
    'PROVENANCE_INPUT_HASH=',
    `PROVENANCE_REVISION=${headNow}`,
    `PROVENANCE_TARGET=${name}`,
    `cwd=${repo.dir}`,
  ]);
  assert.match(r.out, /\$ \.\/scripts\/build\.sh/);
  assert.match(r.out, new RegExp(`building ${image}`));
  assert.match(r.out, /has no revision label \(org\.opencontainers\.image\.revision\)/);
  assert.match(r.out, /--label org\.opencontainers\.image\.revision=\$\(git rev-parse HEAD\)/);
  assert.match(r.out, /BUILDX_GIT_LABELS=full/);

  // Following the guidance: the script labels the image; the guidance goes away.
  cfg.targets[0].build.env.EXTRA_LABEL = `--label=${REV}=${headNow}`;
  repo.write('.provenance.json', JSON.stringify(cfg));
  const j = await run(['build', '--json', '--cwd', repo.dir]);
  assert.equal(j.code, 0, j.err);
  const b = j.json();
  assert.equal(b.mode, 'command');
  assert.equal(b.guidance, null);
  assert.deepEqual(b.tags, [`${image}:custom`]);
  assert.equal((await labels(b.imageId))[REV], headNow);
});

test('the provenance executable: NODE_EXTRA_CA_CERTS is not parsed at start-up, and commands it runs still get it', async (t) => {
  if (!(await requireDocker(t))) return;
  const { repo } = fixture({ target: { build: { mode: 'command', command: ['/bin/sh', '-c', 'echo "${NODE_EXTRA_CA_CERTS-unset}|${PROVENANCE_EXTRA_CA_CERTS-unset}" > ca-env.txt; exit 4'] } } });
  t.after(() => repo.cleanup());
  // A file that does not exist: Node 20 warns at start-up when it tries to load it.
  const ca = path.join(repo.dir, 'no-such-ca.pem');
  const bin = path.join(__dirname, '../../dist/cli.js');
  const res = spawnSync(bin, ['build', '--cwd', repo.dir], { encoding: 'utf8', env: { ...process.env, NODE_EXTRA_CA_CERTS: ca } });
  assert.equal(res.status, 1, res.stderr + res.stdout);
  assert.match(res.stderr + res.stdout, /exited with code 4/);
  assert.doesNotMatch(res.stderr, /extra certs/i, 'Node did not load the CA file at start-up');
  assert.equal(readFileSync(path.join(repo.dir, 'ca-env.txt'), 'utf8').trim(), `${ca}|unset`, 'the build command sees the variable as the user set it');
});

test('custom command: a failing command is a build failure (exit 1); a shell string needs build.shell', async (t) => {
  if (!(await requireDocker(t))) return;
  const { repo } = fixture({ target: { build: { mode: 'command', command: ['/bin/sh', '-c', 'echo compiling; exit 4'] } } });
  t.after(() => repo.cleanup());
  const r = await run(['build', '--json', '--cwd', repo.dir]);
  assert.equal(r.code, 1, r.err);
  assert.equal(r.json().error, 'the build command exited with code 4');
  const [entry] = (await run(['history', '--ledger', '--json', '--cwd', repo.dir])).json();
  assert.equal(entry.result, 'failure');
  assert.match(entry.logExcerpt, /compiling/);

  const cfg = JSON.parse(readFileSync(path.join(repo.dir, '.provenance.json'), 'utf8'));
  cfg.targets[0].build.command = 'echo "$PROVENANCE_TARGET" > shell-out.txt';
  repo.write('.provenance.json', JSON.stringify(cfg));
  const refused = await run(['build', '--cwd', repo.dir]);
  assert.equal(refused.code, 2);
  assert.match(refused.err, /build\.command is a string.*"build\.shell": true/s);
  cfg.targets[0].build.shell = true;
  repo.write('.provenance.json', JSON.stringify(cfg));
  const shell = await run(['build', '--cwd', repo.dir]);
  assert.equal(shell.code, 0, shell.err);
  assert.equal(readFileSync(path.join(repo.dir, 'shell-out.txt'), 'utf8').trim(), cfg.targets[0].name);
  assert.match(shell.out, /no image matching/);
});

// BuildKit (the default) says "executor failed running […]: exit code: 7" on Engine 20.10 and
// "process \"…\" did not complete successfully: exit code: 7" on newer engines; the classic
// builder, forced here by the target's setting, "The command '…' returned a non-zero code: 7".
for (const { builder, failure } of [
  { builder: 'buildkit', failure: /exit code: 7$/ },
  { builder: 'classic', failure: /returned a non-zero code: 7$/ },
]) test(`build failure (${builder}): a failing RUN step is a clear failure with the engine's message, and leaves no container`, async (t) => {
  if (!(await requireDocker(t))) return;
  const marker = uniqueName('marker');
  const { repo } = fixture({
    steps: [`RUN ["/bin/busybox","sh","-c","echo about to fail; exit 7; : ${marker}"]`],
    target: { build: { network: 'none', ...(builder === 'classic' ? { builder: 'classic' } : {}) } },
  });
  t.after(() => repo.cleanup());
  const r = await run(['build', '--json', '--cwd', repo.dir]);
  assert.equal(r.code, 1, r.err);
  const b = r.json();
  assert.equal(b.result, 'failure');
  assert.equal(b.builder, builder);
  assert.match(b.error, failure);
  assert.equal(b.hint, null);
  assert.match(r.err, /about to fail/);
  if (builder === 'buildkit') assert.match(r.err, /^#\d+ ERROR: .*exit code: 7$/m, 'the step ends with ERROR, in the docker CLI\'s plain style');
  assert.deepEqual(await containersWith(marker), [], 'no build container is left');
  const human = await run(['build', '--cwd', repo.dir]);
  assert.match(human.out, new RegExp(`build FAILED at [0-9a-f]{12} with ${builder === 'buildkit' ? 'BuildKit' : 'the classic builder'}: .*${failure.source}`, 'm'));
  const [entry] = (await run(['history', '--ledger', '--json', '--cwd', repo.dir])).json();
  assert.deepEqual([entry.result, entry.builder], ['failure', builder]);
  assert.match(entry.error, failure);
});

test('build: Docker unreachable, a glob image, and --smoke without a probe are refused with exit 2', async (t) => {
  if (!(await requireDocker(t))) return;
  const { repo } = fixture({ target: { docker: { endpoints: ['unix:///tmp/bp-no-such-docker.sock'] } } });
  t.after(() => repo.cleanup());
  const down = await run(['build', '--cwd', repo.dir]);
  assert.equal(down.code, 2);
  assert.match(down.err, /bp-no-such-docker\.sock/);
  const glob = await run(['build', '--image', 'team/helix-*', '--cwd', repo.dir]);
  assert.equal(glob.code, 2);
  assert.match(glob.err, /is a glob.*"build\.tags"/s);
  const noProbe = await run(['build', '--smoke', '--json', '--cwd', repo.dir]);
  assert.equal(noProbe.code, 2);
  assert.match(noProbe.json().error, /no smoke readiness probe/);
  const usage = await run(['status', '--smoke', '--cwd', repo.dir]);
  assert.equal(usage.code, 2);
});

test('deploy: replace-container swaps the running container for one from the new image (status turns in-sync); command mode gets the image ID', async (t) => {
  if (!(await requireDocker(t))) return;
  const { repo, image } = fixture({ target: { deploy: { mode: 'replace-container' } } });
  t.after(() => repo.cleanup());
  const first = (await run(['build', '--json', '--cwd', repo.dir])).json();
  const ctr = await runContainer({ image: `${image}:latest`, labels: { 'team.owner': 'desktop' } });
  const head = repo.commit('change an input', { 'www/index.html': '<h1>v2</h1>\n' });
  const second = (await run(['build', '--json', '--cwd', repo.dir])).json();
  assert.notEqual(second.imageId, first.imageId);
  assert.equal((await run(['status', '--json', '--cwd', repo.dir])).json().state, 'drift');

  const ws = await openWorkspace(repo.dir);
  await assert.rejects(runDeploy(ws, ws.targets[0], { imageId: second.imageId, trusted: false }), /not trusted/);
  const d = await runDeploy(ws, ws.targets[0], { imageId: second.imageId, trusted: true });
  assert.equal(d.ok, true, d.error ?? '');
  assert.equal(d.replaced.length, 1);
  assert.equal(d.replaced[0].name, ctr.name);
  const now = JSON.parse(await docker(['inspect', '--format', '{{json .}}', ctr.name]));
  assert.equal(now.Image, second.imageId);
  assert.equal(now.State.Running, true);
  assert.equal(now.HostConfig.NetworkMode, 'host');
  assert.equal(now.Config.Labels['team.owner'], 'desktop', 'run-time labels are kept');
  assert.equal(now.Config.Labels[REV], head, 'the revision label comes from the new image');
  assert.ok(!(await allContainerIds()).includes(d.replaced[0].oldId), 'the old container is removed');
  const s = (await run(['status', '--json', '--cwd', repo.dir])).json();
  assert.equal(s.state, 'in-sync', s.summary);
  await docker(['rm', '-f', ctr.name]);

  const out = path.join(path.dirname(repo.dir), `${path.basename(repo.dir)}-deploy.txt`);
  t.after(() => FixtureRepo.at(out).cleanup());
  const cmdTarget = { ...ws.targets[0], deploy: { mode: 'command' as const, command: ['/bin/sh', '-c', `echo "$PROVENANCE_IMAGE_ID $PROVENANCE_REVISION" > ${out}`] } };
  const c = await runDeploy(ws, cmdTarget, { imageId: second.imageId, trusted: true });
  assert.equal(c.ok, true, c.error ?? '');
  assert.equal(readFileSync(out, 'utf8').trim(), `${second.imageId} ${head}`);
  const kinds = (await run(['history', '--ledger', '--json', '--cwd', repo.dir])).json().map((e: { kind: string; result: string }) => `${e.kind}:${e.result}`);
  assert.deepEqual(kinds, ['mark:success', 'mark:success', 'build:success', 'build:success']);
});

test('smoke: a tcp probe that times out leaves no Node warning (no abort-listener leak per attempt)', async (t) => {
  if (!(await requireDocker(t))) return;
  const port = await freePort();
  const { repo, name } = fixture({ target: { smoke: { ready: { tcp: port }, timeoutSeconds: 4 } } });
  t.after(() => repo.cleanup());
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  t.after(() => process.removeListener('warning', onWarning));
  const r = await run(['build', '--smoke', '--json', '--cwd', repo.dir]);
  assert.equal(r.code, 1, r.err);
  assert.equal(r.json().smoke.failure, 'timeout');
  assert.match(r.json().smoke.reason, new RegExp(`TCP probe 127\\.0\\.0\\.1:${port} did not open \\(ECONNREFUSED\\)`));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(warnings, []);
  assert.deepEqual(await smokeContainers(name), []);
});

test('smoke: a log probe on a container that prints its ready line and exits 0 passes; exiting 1 after it does not', async (t) => {
  if (!(await requireDocker(t))) return;
  const { repo, name } = fixture({
    target: { smoke: { command: ['/bin/busybox', 'sh', '-c', 'echo migration done'], network: 'none', ready: { log: 'migration done' }, timeoutSeconds: 20 } },
  });
  t.after(() => repo.cleanup());
  const r = await run(['build', '--smoke', '--json', '--cwd', repo.dir]);
  assert.equal(r.code, 0, r.err + r.out);
  assert.equal(r.json().smoke.result, 'passed');
  assert.deepEqual(r.json().smoke.logTail, ['migration done']);

  const configFile = path.join(repo.dir, '.provenance.json');
  const cfg = JSON.parse(readFileSync(configFile, 'utf8'));
  cfg.targets[0].smoke.command = ['/bin/busybox', 'sh', '-c', 'echo migration done; exit 1'];
  repo.commit('the job fails after its line', { '.provenance.json': JSON.stringify(cfg) });
  const f = await run(['smoke', '--json', '--cwd', repo.dir]);
  assert.equal(f.code, 1, f.err);
  assert.equal(f.json().smoke.failure, 'exited');
  assert.equal(f.json().smoke.exitCode, 1);
  assert.deepEqual(await smokeContainers(name), []);
});

test('smoke: a ready.log pattern that backtracks for ever on a log line is stopped: the smoke test fails with why, at once', async (t) => {
  if (!(await requireDocker(t))) return;
  const hostile = `export ${'a'.repeat(40)} !`;
  const { repo, name } = fixture({
    target: { smoke: { command: ['/bin/busybox', 'sh', '-c', `echo starting; echo '${hostile}'; sleep 60`], network: 'none', ready: { log: 'export (\\w+\\s?)+;' }, timeoutSeconds: 30 } },
  });
  t.after(() => repo.cleanup());
  const started = Date.now();
  const r = await run(['build', '--smoke', '--json', '--cwd', repo.dir]);
  assert.equal(r.code, 1, r.err + r.out);
  const smoke = r.json().smoke;
  assert.equal(smoke.result, 'failed');
  assert.equal(smoke.failure, 'probe');
  assert.match(smoke.reason, /^smoke\.ready\.log: the regular expression \/export \(\\w\+\\s\?\)\+;\/ ran longer than 50 ms and was stopped/);
  assert.ok(Date.now() - started < 25_000, 'failed at once, not at the 30 s timeout');
  assert.deepEqual(await smokeContainers(name), []);
});

test('smoke: a probe port the running deployment already holds is refused before anything is built, naming the container', async (t) => {
  if (!(await requireDocker(t))) return;
  const port = await freePort();
  const httpd = `CMD ["/bin/busybox","httpd","-f","-p","127.0.0.1:${port}","-h","/www"]`;
  const { repo, name, image } = fixture({ steps: [httpd], target: { smoke: { ready: { http: `http://127.0.0.1:${port}/` }, timeoutSeconds: 20 } } });
  t.after(() => repo.cleanup());
  const first = await run(['build', '--json', '--cwd', repo.dir]);
  assert.equal(first.code, 0, first.err);
  const deployed = await runContainer({ image: `${image}:latest` });
  // Until httpd listens, nothing is in use.
  for (let i = 0; i < 100 && !(await fetch(`http://127.0.0.1:${port}/`).then(() => true, () => false)); i++) await new Promise((r) => setTimeout(r, 100));
  repo.commit('v2', { 'www/index.html': '<h1>v2</h1>\n' });

  const r = await run(['build', '--smoke', '--json', '--cwd', repo.dir]);
  assert.equal(r.code, 2, r.out);
  const e = r.json();
  assert.match(e.error, new RegExp(`^The smoke test of ${name} probes 127\\.0\\.0\\.1:${port}, which is already in use: the smoke container shares the host network`));
  assert.match(e.error, new RegExp(`Running containers of ${name}: ${deployed.name}\\.`));
  assert.match(e.hint, new RegExp(`Give the smoke test its own port.*docker stop ${deployed.name}`));
  assert.equal((await docker(['images', '-q', `${image}:${repo.head().slice(0, 12)}`])).trim(), '', 'nothing was built');
  const s = await run(['smoke', '--cwd', repo.dir]);
  assert.equal(s.code, 2);
  assert.match(s.err, /already in use/);
  assert.deepEqual(await smokeContainers(name), []);

  // Its own port through the environment: the smoke test runs beside the deployment.
  const smokePort = await freePort();
  const cfg = JSON.parse(readFileSync(path.join(repo.dir, '.provenance.json'), 'utf8'));
  cfg.targets[0].smoke = { command: ['/bin/busybox', 'httpd', '-f', '-p', `127.0.0.1:${smokePort}`, '-h', '/www'], ready: { http: `http://127.0.0.1:${smokePort}/` }, timeoutSeconds: 20 };
  repo.commit('smoke on its own port', { '.provenance.json': JSON.stringify(cfg) });
  const ok = await run(['build', '--smoke', '--json', '--cwd', repo.dir]);
  assert.equal(ok.code, 0, ok.err + ok.out);
  assert.equal(ok.json().smoke.result, 'passed');
});

test('deploy (CLI): runs the deploy step for the newest image, warns when it was never smoke-tested; no deploy step is exit 2 with how to add one', async (t) => {
  if (!(await requireDocker(t))) return;
  const { repo, image } = fixture({ target: { deploy: { mode: 'replace-container' } } });
  t.after(() => repo.cleanup());
  assert.equal((await run(['build', '--cwd', repo.dir])).code, 0);
  const ctr = await runContainer({ image: `${image}:latest` });
  const head = repo.commit('change an input', { 'www/index.html': '<h1>v2</h1>\n' });
  const built = (await run(['build', '--json', '--cwd', repo.dir])).json();
  const s = (await run(['status', '--json', '--cwd', repo.dir])).json();
  assert.equal(s.state, 'drift');
  assert.match(s.hint, /has these changes: run it with provenance deploy/);

  const d = await run(['deploy', '--json', '--cwd', repo.dir]);
  assert.equal(d.code, 0, d.err);
  const j = d.json();
  assert.deepEqual([j.ok, j.mode, j.imageId, j.revision, j.smoke, j.error], [true, 'replace-container', built.imageId, head, null, null]);
  assert.deepEqual(j.replaced.map((x: { name: string }) => x.name), [ctr.name]);
  assert.match(j.ledgerId, /^\d{8}-/);
  assert.equal(j.ledgerError, null);
  assert.match(d.err, /warning: .*was never smoke-tested/);
  assert.equal((await run(['status', '--json', '--cwd', repo.dir])).json().state, 'in-sync');
  const again = await run(['deploy', '--cwd', repo.dir]);
  assert.equal(again.code, 0, again.err);
  assert.match(again.out, /deployed [0-9a-f]{12} \([0-9a-f]{12}\): no running container to replace/);
  // A deploy whose ledger write is refused (a planted link) still deploys, and says it was not recorded.
  const ledgerFile = path.join(repo.dir, '.git', 'build-provenance', 'ledger.jsonl');
  const outside = path.join(repo.dir, '..', `${path.basename(repo.dir)}-outside.jsonl`);
  writeFileSync(outside, '');
  renameSync(ledgerFile, `${ledgerFile}.kept`);
  symlinkSync(outside, ledgerFile);
  try {
    const unrecorded = await run(['deploy', '--json', '--cwd', repo.dir]);
    assert.equal(unrecorded.code, 0, unrecorded.err);
    assert.equal(unrecorded.json().ok, true);
    assert.equal(unrecorded.json().ledgerId, null);
    assert.match(unrecorded.json().ledgerError, /^Could not write the build ledger: Refusing to open .*ledger\.jsonl: it is a symbolic link\.$/);
    assert.match(unrecorded.err, /^warning: Could not write the build ledger: Refusing to open .*ledger\.jsonl: it is a symbolic link\.$/m);
    assert.equal(readFileSync(outside, 'utf8'), '', 'nothing was written through the link');
  } finally {
    rmSync(ledgerFile, { force: true });
    renameSync(`${ledgerFile}.kept`, ledgerFile);
    rmSync(outside, { force: true });
  }
  await docker(['rm', '-f', ctr.name]);
  const missing = await run(['deploy', '--image', 'sha256:' + '0'.repeat(64), '--cwd', repo.dir]);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /No image "sha256:0+" on /);

  const cfg = JSON.parse(readFileSync(path.join(repo.dir, '.provenance.json'), 'utf8'));
  delete cfg.targets[0].deploy;
  repo.commit('no deploy step', { '.provenance.json': JSON.stringify(cfg) });
  const none = await run(['deploy', '--json', '--cwd', repo.dir]);
  assert.equal(none.code, 2);
  assert.match(none.json().error, /has no deploy step/);
  assert.match(none.json().hint, /"deploy": \{"mode": "replace-container"\}/);
});
