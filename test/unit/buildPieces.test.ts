// Pure and local parts of build + smoke: settings, parsers, the context tar, the command runner,
// and the refusals that happen before anything runs (untrusted workspace, busy target).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { extract } from 'tar-stream';
import { packBuildContext } from '../../src/core/build/context';
import { BuildStreamParser } from '../../src/core/build/classicBuild';
import { engineMessage } from '../../src/core/build/buildErrors';
import { BuildRefusedError, customBuildEnv, revisionGuidance, runBuild, runSmokeTest, targetBusy, targetLockFile } from '../../src/core/build/engine';
import { commandArgv, CommandSpecError, runCommand } from '../../src/core/build/commandRunner';
import { defaultConfig, type TargetConfig } from '../../src/core/config';
import { tryLock } from '../../src/core/build/fileLock';
import { openWorkspace } from '../../src/core/status/workspace';
import { HELIX_DEFAULT_READY_URL, LogDemuxer, parseExtraArgs, resolveSmokeSettings, SmokeSettingsError } from '../../src/core/build/smoke';
import { FixtureRepo, tempDir } from '../support/gitFixture';
import { refuseOtherImages } from '../../src/core/build/deploy';
import { imageGlobMatches } from '../../src/core/docker/state';

function target(extra: Partial<TargetConfig> = {}): TargetConfig {
  return { ...defaultConfig().targets[0], name: 'app', image: 'app', ...extra };
}

test('resolveSmokeSettings: helix-ubuntu defaults to the desktop bridge probe; others must say what ready means', () => {
  const helix = resolveSmokeSettings(defaultConfig().targets[0]);
  assert.equal(helix.ready.http, HELIX_DEFAULT_READY_URL);
  assert.equal(helix.ready.http, 'http://127.0.0.1:9876/');
  assert.equal(helix.timeoutSeconds, 60);
  assert.equal(helix.network, 'host');
  assert.throws(() => resolveSmokeSettings(target()), /has no smoke readiness probe.*"ready"/);
  const s = resolveSmokeSettings(target({ smoke: { ready: { tcp: 8080, log: 'listening on \\d+' }, timeoutSeconds: 5, command: ['/app', '--serve'], env: { A: '1' } } }));
  assert.deepEqual([s.ready, s.timeoutSeconds, s.command, s.env], [{ tcp: 8080, log: 'listening on \\d+' }, 5, ['/app', '--serve'], { A: '1' }]);
});

test('resolveSmokeSettings: refuses non-loopback URLs, shell strings, bad regexes and probes that cannot reach a no-network container', () => {
  const bad: Array<[TargetConfig['smoke'], RegExp]> = [
    [{ ready: { http: 'http://10.0.0.5:80/' } }, /loopback URL/],
    [{ ready: { http: 'http://127.0.0.1.evil.example/' } }, /loopback URL/],
    [{ ready: { log: '(' } }, /not a valid regular expression/],
    [{ ready: { tcp: 80 }, network: 'none' }, /cannot reach the container/],
    [{ ready: { tcp: 80 }, command: 'httpd -f' }, /argument array.*never run through a shell.*\["httpd","-f"\]/],
  ];
  for (const [smoke, re] of bad) assert.throws(() => resolveSmokeSettings(target({ smoke })), (e: Error) => e instanceof SmokeSettingsError && re.test(e.message), JSON.stringify(smoke));
  assert.equal(resolveSmokeSettings(target({ smoke: { ready: { exec: ['/bin/true'] }, network: 'none' } })).network, 'none');
});

test('parseExtraArgs: a safe subset of docker run flags becomes create options; anything else is refused by name', () => {
  const o = parseExtraArgs([
    '-e', 'A=1', '--env=B=2', '--user', '1000:1000', '-w', '/srv', '--entrypoint', '/bin/busybox', '--label', 'k=v',
    '-v', '/tmp/x:/x:ro', '--tmpfs', '/run:size=64m', '--read-only', '--init', '--cap-drop=NET_RAW',
    '--group-add', 'video', '--shm-size', '2g', '-m', '512m',
  ]);
  assert.deepEqual(o.Env, ['A=1', 'B=2']);
  assert.deepEqual([o.User, o.WorkingDir, o.Entrypoint, o.Labels], ['1000:1000', '/srv', ['/bin/busybox'], { k: 'v' }]);
  assert.deepEqual(o.HostConfig, {
    Binds: ['/tmp/x:/x:ro'],
    Tmpfs: { '/run': 'size=64m' },
    ReadonlyRootfs: true,
    Init: true,
    CapDrop: ['NET_RAW'],
    GroupAdd: ['video'],
    ShmSize: 2 * 1024 ** 3,
    Memory: 512 * 1024 ** 2,
  });
  const refused: Array<[string[], RegExp]> = [
    [['--network', 'bridge'], /smoke\.network/],
    [['-p', '80:80'], /no ports need publishing/],
    [['--rm'], /always removed/],
    [['--frobnicate'], /unsupported argument "--frobnicate"\. Supported: -e\/--env/],
    // What gives the container the host is refused even in a trusted workspace (issue 16).
    [['--privileged'], /--privileged is refused: it gives the smoke container the host/],
    [['--cap-add', 'SYS_ADMIN'], /--cap-add is refused/],
    [['--device', '/dev/dri'], /--device is refused/],
    [['--pid=host'], /--pid=host is refused/],
    [['--ipc', 'host'], /--ipc is refused/],
    [['-v', '/:/host'], /-v "\/:\/host" is refused: it gives the smoke container the host \(its root or its Docker socket\)/],
    [['-v', '//:/host:ro'], /is refused/],
    [['--volume=/var/run/docker.sock:/var/run/docker.sock'], /is refused/],
    [['$(rm -rf /)'], /unsupported argument/],
    [['-v', 'named:/x'], /must be \/host\/path/],
    [['-e', 'NOVALUE'], /NAME=value/],
    [['--user'], /needs a value/],
    [['--shm-size', 'lots'], /not a size/],
  ];
  for (const [args, re] of refused) assert.throws(() => parseExtraArgs(args), (e: Error) => e instanceof SmokeSettingsError && re.test(e.message), args.join(' '));
});

test('deploy replace-container: an image glob that matches containers of other images is refused, naming them', () => {
  const glob = target({ image: 'team/*', build: { tags: ['team/app:{short}', 'team/app:latest'] } as TargetConfig['build'] });
  assert.doesNotThrow(() => refuseOtherImages(glob, [{ name: 'app-1', image: 'team/app:latest' }]));
  assert.throws(
    () => refuseOtherImages(glob, [{ name: 'app-1', image: 'team/app:latest' }, { name: 'db', image: 'team/postgres:16' }]),
    (e: Error) => e instanceof BuildRefusedError && /image glob team\/\* matches running containers of other images \(db: team\/postgres:16\)/.test(e.message),
  );
  assert.doesNotThrow(() => refuseOtherImages(target({ image: 'team/app' }), [{ name: 'x', image: 'sha256:abc' }]), 'an exact name is not a glob');
});

test('image globs match without backtracking: a hostile *a*a*a…b answers at once', () => {
  assert.ok(imageGlobMatches('team/*', 'team/app'));
  assert.ok(!imageGlobMatches('team/*', 'team/a/b'));
  assert.ok(imageGlobMatches('team/**', 'team/a/b'));
  assert.ok(imageGlobMatches('h?lix-*', 'helix-ubuntu'));
  const t0 = performance.now();
  assert.ok(!imageGlobMatches('*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(250)));
  assert.ok(imageGlobMatches('*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(250) + 'b'));
  assert.ok(performance.now() - t0 < 100, `took ${(performance.now() - t0).toFixed(1)} ms`);
});

test('LogDemuxer: splits Docker\'s 8-byte framed log stream into lines, across chunk boundaries; raw TTY output too', () => {
  const frame = (type: number, s: string) => {
    const body = Buffer.from(s);
    const h = Buffer.alloc(8);
    h[0] = type;
    h.writeUInt32BE(body.length, 4);
    return Buffer.concat([h, body]);
  };
  const lines: string[] = [];
  const d = new LogDemuxer((l) => lines.push(l));
  const all = Buffer.concat([frame(1, 'hello\nwor'), frame(2, 'oops\n'), frame(1, 'ld\r\nlast')]);
  for (let i = 0; i < all.length; i += 5) d.push(all.subarray(i, i + 5));
  d.end();
  assert.deepEqual(lines, ['hello', 'oops', 'world', 'last']);
  const raw: string[] = [];
  const r = new LogDemuxer((l) => raw.push(l));
  r.push(Buffer.from('plain tty output\nsecond'));
  r.end();
  assert.deepEqual(raw, ['plain tty output', 'second']);
});

test('BuildStreamParser: stream text becomes lines; aux ID is the image; errorDetail is the failure', () => {
  const lines: string[] = [];
  const p = new BuildStreamParser((l) => lines.push(l));
  const msgs = [
    { stream: 'Step 1/2 : FROM scratch\n' },
    { stream: ' ---> Running in 0123456789ab\n' },
    { stream: 'partial ' },
    { stream: 'line\n' },
    { aux: { ID: 'sha256:' + 'a'.repeat(64) } },
    { stream: 'Successfully built aaaaaaaaaaaa\n' },
  ];
  const text = msgs.map((m) => JSON.stringify(m) + '\r\n').join('');
  p.push(text.slice(0, 17));
  p.push(text.slice(17));
  p.end();
  assert.deepEqual(lines, ['Step 1/2 : FROM scratch', ' ---> Running in 0123456789ab', 'partial line', 'Successfully built aaaaaaaaaaaa']);
  assert.equal(p.imageId, 'sha256:' + 'a'.repeat(64));
  assert.equal(p.error, null);
  const f = new BuildStreamParser(() => undefined);
  f.push(JSON.stringify({ errorDetail: { code: 1, message: "The command '/bin/sh -c false' returned a non-zero code: 1" }, error: 'x' }) + '\n');
  f.end();
  assert.equal(f.error, "The command '/bin/sh -c false' returned a non-zero code: 1");
  assert.equal(engineMessage({ message: '(HTTP code 500) server error - dockerfile parse error line 1: unknown instruction: FRM ' }), 'dockerfile parse error line 1: unknown instruction: FRM');
  assert.equal(engineMessage({ json: { message: 'no such image' }, message: 'x' }), 'no such image');
});

async function tarNames(stream: NodeJS.ReadableStream): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const ex = extract();
  ex.on('entry', (h, s, next) => {
    let body = '';
    s.on('data', (c: Buffer) => (body += c.toString()));
    s.on('end', () => {
      out.set(h.name, h.type === 'symlink' ? `-> ${h.linkname}` : h.type === 'directory' ? '<dir>' : body);
      next();
    });
  });
  await new Promise<void>((resolve, reject) => {
    ex.on('finish', resolve);
    ex.on('error', reject);
    stream.pipe(ex);
  });
  return out;
}

test('packBuildContext: honours the ignore file (with exceptions), always sends the Dockerfile and ignore file, keeps symlinks', async (t) => {
  const dir = tempDir('bp-ctx-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const w = (p: string, c: string) => {
    mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    writeFileSync(path.join(dir, p), c);
  };
  w('app/Dockerfile', 'FROM scratch\n');
  w('app/Dockerfile.dockerignore', 'node_modules\n*.log\nsecrets\n!secrets/public.pem\napp/Dockerfile\nDockerfile*\n');
  w('app/src/main.sh', 'echo hi\n');
  w('app/debug.log', 'noise');
  w('app/node_modules/x/index.js', 'big');
  w('app/secrets/key.pem', 'PRIVATE');
  w('app/secrets/public.pem', 'PUBLIC');
  symlinkSync('src/main.sh', path.join(dir, 'app/run'));
  const ctx = await packBuildContext({
    contextDir: path.join(dir, 'app'),
    dockerfile: path.join(dir, 'app/Dockerfile'),
    ignoreFile: path.join(dir, 'app/Dockerfile.dockerignore'),
    ignoreText: readFileSync(path.join(dir, 'app/Dockerfile.dockerignore'), 'utf8'),
  });
  assert.equal(ctx.dockerfileName, 'Dockerfile');
  const names = await tarNames(ctx.stream);
  assert.deepEqual([...names.keys()].sort(), ['Dockerfile', 'Dockerfile.dockerignore', 'run', 'secrets/', 'secrets/public.pem', 'src/', 'src/main.sh'], 'an ignored directory is sent once something in it is (as BuildKit does)');
  assert.equal(names.get('run'), '-> src/main.sh');
  assert.equal(names.get('secrets/public.pem'), 'PUBLIC');
  const sent = ['Dockerfile', 'Dockerfile.dockerignore', 'src/main.sh', 'secrets/public.pem'].map((p) => readFileSync(path.join(dir, 'app', p)).length);
  assert.deepEqual(await ctx.done, { files: 4, bytes: sent.reduce((a, b) => a + b, 0) });
});

test('packBuildContext: a Dockerfile outside the context goes in under a generated name', async (t) => {
  const dir = tempDir('bp-ctx-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, 'ctx'));
  writeFileSync(path.join(dir, 'ctx/a'), 'A');
  writeFileSync(path.join(dir, 'build.Dockerfile'), 'FROM scratch\nCOPY a /a\n');
  const ctx = await packBuildContext({ contextDir: path.join(dir, 'ctx'), dockerfile: path.join(dir, 'build.Dockerfile'), ignoreFile: null, ignoreText: null });
  assert.match(ctx.dockerfileName, /^\.dockerfile\.[0-9a-f]{20}$/);
  const names = await tarNames(ctx.stream);
  assert.deepEqual([...names.keys()].sort(), [ctx.dockerfileName, 'a']);
  assert.equal(names.get(ctx.dockerfileName), 'FROM scratch\nCOPY a /a\n');
});

test('commandArgv: arrays as they are; a string only through $SHELL -c when shell is true', () => {
  assert.deepEqual(commandArgv(['./stack', 'build-ubuntu'], false, 'build'), ['./stack', 'build-ubuntu']);
  assert.deepEqual(commandArgv('./stack build-ubuntu && echo ok', true, 'build', { SHELL: '/bin/bash' }), ['/bin/bash', '-c', './stack build-ubuntu && echo ok']);
  assert.deepEqual(commandArgv('x', true, 'deploy', {}), ['/bin/sh', '-c', 'x']);
  assert.throws(() => commandArgv('./stack build-ubuntu', false, 'build'), (e: Error) => e instanceof CommandSpecError && /"build\.shell": true/.test(e.message) && /\["\.\/stack","build-ubuntu"\]/.test(e.message));
  assert.throws(() => commandArgv(undefined, false, 'build'), /build\.command is not set/);
  // Shell syntax is never split into an array that would pass "&&" as an argument.
  for (const cmd of ['./build.sh && true', 'make | tee log', 'echo $HOME', 'a; b', "echo 'x y'"]) {
    assert.throws(
      () => commandArgv(cmd, false, 'build'),
      (e: Error) => /uses shell syntax/.test(e.message) && /"build\.shell": true/.test(e.message) && !e.message.includes('"&&"'),
      cmd,
    );
  }
});

/** Alive and not a zombie (PID 1 of a container may never reap the orphans it inherits). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

test('runCommand: lines from stdout and stderr; exit code; cancel kills the whole process group', async (t) => {
  const dir = tempDir('bp-cmd-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const lines: string[] = [];
  const ok = await runCommand(['/bin/sh', '-c', 'echo one; echo two >&2; printf three; exit 3'], { cwd: dir, env: {}, onLine: (l, s) => lines.push(`${s}:${l}`) });
  assert.deepEqual(ok, { exitCode: 3, signal: null, cancelled: false });
  assert.deepEqual(lines.sort(), ['stderr:two', 'stdout:one', 'stdout:three']);

  const ac = new AbortController();
  const pidFile = path.join(dir, 'grandchild.pid');
  const p = runCommand(['/bin/sh', '-c', `sleep 300 & echo $! > ${pidFile}; echo started; wait`], {
    cwd: dir,
    env: process.env,
    signal: ac.signal,
    onLine: (l) => l === 'started' && ac.abort(),
  });
  const r = await p;
  assert.equal(r.cancelled, true);
  const pid = Number(readFileSync(pidFile, 'utf8'));
  await new Promise((res) => setTimeout(res, 100));
  assert.ok(!running(pid), 'the background grandchild was killed with the group');
  await assert.rejects(runCommand(['./no-such-script'], { cwd: dir, env: {} }), /Cannot run "\.\/no-such-script": not found/);
});

test('customBuildEnv: buildx git labels on, PROVENANCE_* set, build.env added', () => {
  const env = customBuildEnv({ PATH: '/bin', BUILDX_GIT_LABELS: '0' }, target({ image: 'reg/app', build: { env: { EXTRA: 'x' } } }), { revision: 'abc', dirty: true, inputHash: 'h' });
  assert.deepEqual(env, {
    PATH: '/bin',
    EXTRA: 'x',
    BUILDX_GIT_LABELS: 'full',
    BUILDX_GIT_CHECK_DIRTY: '1',
    PROVENANCE_REVISION: 'abc',
    PROVENANCE_DIRTY: 'true',
    PROVENANCE_INPUT_HASH: 'h',
    PROVENANCE_TARGET: 'app',
    PROVENANCE_IMAGE: 'reg/app',
  });
});

test('revisionGuidance: says exactly how to add the label; quiet when the label names HEAD', () => {
  const head = '0123456789abcdef0123456789abcdef01234567';
  const t0 = target();
  const none = revisionGuidance(t0, { id: 'sha256:' + 'f'.repeat(64), labels: {} }, head)!;
  assert.match(none, /has no revision label \(org\.opencontainers\.image\.revision\)/);
  assert.match(none, /BUILDX_GIT_LABELS=full/);
  assert.match(none, /--label org\.opencontainers\.image\.revision=\$\(git rev-parse HEAD\)/);
  assert.match(revisionGuidance(t0, { id: 'x', labels: { 'org.opencontainers.image.revision': 'latest' } }, head)!, /not a commit/);
  assert.match(revisionGuidance(t0, { id: 'x', labels: { 'org.opencontainers.image.revision': 'fedcba9876543' } }, head)!, /but HEAD is 0123456789ab/);
  assert.equal(revisionGuidance(t0, { id: 'x', labels: { 'org.opencontainers.image.revision': `${head}-dirty` } }, head), null);
});

test('untrusted workspace: build and smoke are refused before anything runs', async (t) => {
  const repo = FixtureRepo.create('bp-untrusted-');
  t.after(() => repo.cleanup());
  const marker = path.join(repo.dir, 'ran');
  repo.commit('init', {
    '.provenance.json': JSON.stringify({
      targets: [{ name: 'app', image: 'bp-untrusted-app', dockerfile: 'Dockerfile', build: { mode: 'command', command: ['/bin/sh', '-c', `touch ${marker}`] }, smoke: { ready: { tcp: 1 } } }],
    }),
    Dockerfile: 'FROM scratch\n',
  });
  const ws = await openWorkspace(repo.dir);
  for (const run of [() => runBuild(ws, ws.targets[0], { trusted: false }), () => runBuild(ws, ws.targets[0], { trusted: false, smoke: true }), () => runSmokeTest(ws, ws.targets[0], { trusted: false })]) {
    await assert.rejects(run(), (e: Error) => e instanceof BuildRefusedError && e.code === 'untrusted' && /not trusted/.test(e.message));
  }
  assert.ok(!existsSync(marker), 'the custom command never ran');
  assert.ok(!existsSync(path.join(repo.dir, '.git', 'build-provenance', 'ledger.jsonl')));
});

test('a target locked by another process is busy; a dead owner\'s lock is not', async (t) => {
  const repo = FixtureRepo.create('bp-busy-');
  t.after(() => repo.cleanup());
  repo.commit('init', { Dockerfile: 'FROM scratch\n' });
  const ws = await openWorkspace(repo.dir);
  const file = targetLockFile(ws.repo, 'app');
  assert.equal(targetBusy(ws.repo, 'app'), null);
  const held = tryLock(file, 'build of app by another process');
  assert.ok('release' in held);
  // Pretend the owner is another live process (pid 1 always exists).
  writeFileSync(file, JSON.stringify({ pid: 1, host: (await import('node:os')).hostname(), since: '2026-01-01T00:00:00Z', purpose: 'build of app by VS Code' }));
  assert.equal(targetBusy(ws.repo, 'app')?.purpose, 'build of app by VS Code');
  await assert.rejects(
    runBuild(ws, target({ dockerfile: 'Dockerfile' }), { trusted: true }),
    (e: Error) => e instanceof BuildRefusedError && e.code === 'busy' && /app is already being built or smoke-tested \(build of app by VS Code, pid 1/.test(e.message),
  );
  writeFileSync(file, JSON.stringify({ pid: 2 ** 22 + 7, host: (await import('node:os')).hostname(), since: '2026-01-01T00:00:00Z', purpose: 'dead' }));
  assert.equal(targetBusy(ws.repo, 'app'), null, 'a lock whose owner died is taken over');
  rmSync(file, { force: true });
});

test('build secrets are never read for an untrusted workspace; a trusted build reads them before anything else runs', async (t) => {
  const repo = FixtureRepo.create('bp-secret-trust-');
  t.after(() => repo.cleanup());
  repo.commit('init', {
    '.provenance.json': JSON.stringify({
      targets: [{ name: 'app', image: 'bp-secret-app', dockerfile: 'Dockerfile', build: { secrets: { tok: { env: 'BP_TOKEN' }, key: { file: 'no-such-key' } }, network: 'none' }, docker: { endpoints: ['unix:///tmp/bp-no-such-docker.sock'] } }],
    }),
    Dockerfile: 'FROM scratch\nRUN --mount=type=secret,id=tok true\n',
  });
  const ws = await openWorkspace(repo.dir);
  const read: string[] = [];
  const env = new Proxy({} as NodeJS.ProcessEnv, { get: (_t, k) => (read.push(String(k)), k === 'BP_TOKEN' ? 'value' : undefined) });
  await assert.rejects(runBuild(ws, ws.targets[0], { trusted: false, env }), (e: Error) => e instanceof BuildRefusedError && e.code === 'untrusted');
  assert.equal(read.length, 0, `no variable was read: ${read.join(', ')}`);
  // Trusted: the secrets are read first, and the missing file refuses the build before Docker is asked.
  await assert.rejects(runBuild(ws, ws.targets[0], { trusted: true, env }), (e: Error) => e instanceof BuildRefusedError && e.code === 'settings' && /^build\.secrets\.key: cannot read .*no-such-key \(ENOENT\)/.test(e.message));
  assert.ok(read.includes('BP_TOKEN'));
});
