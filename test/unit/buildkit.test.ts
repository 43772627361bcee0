// The pure pieces of the BuildKit build: the plain progress printer (fed a real engine stream,
// recorded from Docker Engine 20.10, and synthetic traces), the builder and network choice, what
// a Dockerfile asks of the builder, the one-line explanations of engine errors, and secrets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { readFileSync } from 'node:fs';
import { BuildKitStreamParser, humanSize, PlainProgress, traceDecoder, type Trace, type TraceVertex } from '../../src/core/build/buildkitProgress';
import { BuilderChoiceError, chooseBuilder, chooseNetwork, versionAtLeast, type EngineFacts } from '../../src/core/build/builderChoice';
import { dockerfileFeatures } from '../../src/core/build/dockerfileFeatures';
import { explainBuildFailure, type FailureContext } from '../../src/core/build/buildErrors';
import { MAX_SECRET_BYTES, resolveSecrets, SecretSettingsError, secretFilePath, unconfiguredSecretWarnings } from '../../src/core/build/buildSecrets';
import { ConfigError, parseConfig } from '../../src/core/config';

const FIXTURE = path.join(__dirname, 'fixtures/buildkit-failing-run.jsonl');

function render(chunks: string[]): { lines: string[]; parser: BuildKitStreamParser } {
  const lines: string[] = [];
  const parser = new BuildKitStreamParser(traceDecoder(), (l) => lines.push(l));
  for (const c of chunks) parser.push(c);
  parser.end();
  return { lines, parser };
}

test('BuildKit stream (recorded from Engine 20.10): the docker CLI\'s plain progress, the engine\'s error, the failed step boxed; never base64', () => {
  const raw = readFileSync(FIXTURE, 'utf8');
  // Fed in odd-sized pieces, as the socket delivers it.
  const chunks: string[] = [];
  for (let i = 0; i < raw.length; i += 97) chunks.push(raw.slice(i, i + 97));
  const { lines, parser } = render(chunks);
  const RUN = '[2/2] RUN ["/bin/busybox","sh","-c","echo line one; printf partial; sleep 0.3; echo " end"; echo to stderr >&2; exit 3"]';
  const ERROR = 'executor failed running [/bin/busybox sh -c echo line one; printf partial; sleep 0.3; echo " end"; echo to stderr >&2; exit 3]: exit code: 3';
  assert.deepEqual(lines, [
    '#1 [internal] load remote build context',
    '#1 DONE 0.0s',
    '',
    '#2 copy /context /',
    '#2 DONE 0.2s',
    '',
    '#3 [1/2] COPY busybox /bin/busybox',
    '#3 DONE 0.0s',
    '',
    `#4 ${RUN}`,
    '#4 0.120 line one',
    '#4 0.421 to stderr',
    // A line written in two pieces is one line, stamped when it began.
    '#4 0.120 partial end',
    `#4 ERROR: ${ERROR}`,
    '',
    '------',
    ` > ${RUN}:`,
    '#4 0.120 line one',
    '#4 0.421 to stderr',
    '#4 0.120 partial end',
    '------',
  ]);
  assert.equal(parser.error, ERROR);
  assert.equal(parser.imageId, null);
  assert.equal(parser.undecodable, 0);
});

test('BuildKit stream: the image ID from moby.image.id; a message that does not decode is counted, never shown', () => {
  const { lines, parser } = render([
    '{"id":"moby.buildkit.trace","aux":"bm90IGEgcHJvdG9idWYgbWVzc2FnZSBhdCBhbGwsIGp1c3QgdGV4dCB0aGF0IGlzIGxvbmc="}\n',
    '{"id":"moby.buildkit.trace","aux":"////////////////////"}\n',
    '{"id":"moby.image.id","aux":{"ID":"sha256:' + 'a'.repeat(64) + '"}}\n',
    '{"stream":"Successfully tagged app:latest\\n"}\n',
  ]);
  assert.equal(parser.imageId, `sha256:${'a'.repeat(64)}`);
  assert.ok(parser.undecodable >= 1);
  assert.deepEqual(lines.filter((l) => /[A-Za-z0-9+/=]{20,}/.test(l) && !l.includes('sha256')), [], 'no base64 in the output');
  assert.ok(lines.includes('Successfully tagged app:latest'));
  assert.match(lines[lines.length - 1], /^\(\d BuildKit progress message\(s\) could not be decoded and were left out\)$/);
});

const T0 = Date.UTC(2026, 0, 1);
const vtx = (digest: string, name: string, extra: Partial<TraceVertex> = {}): TraceVertex => ({ digest, name, cached: false, started: null, completed: null, error: '', ...extra });
const trace = (t: Partial<Trace>): Trace => ({ vertexes: [], statuses: [], logs: [], warnings: [], ...t });
const bytes = (s: string) => new TextEncoder().encode(s);

test('PlainProgress: CACHED, DONE with seconds, status lines, CANCELED, a blank line between blocks, \\r progress collapsed', () => {
  const lines: string[] = [];
  const p = new PlainProgress((l) => lines.push(l));
  p.update(trace({ vertexes: [vtx('a', '[1/3] COPY app /app', { started: T0, completed: T0, cached: true })] }));
  p.update(trace({ vertexes: [vtx('b', '[2/3] RUN make', { started: T0 })] }));
  p.update(trace({ logs: [{ vertex: 'b', timestamp: T0 + 215, stream: 1, msg: bytes('compiling\n10%\r50%\r100%\n') }] }));
  p.update(trace({ vertexes: [vtx('c', '[internal] load build context', { started: T0 + 1000 })] }));
  p.update(trace({ statuses: [{ id: 'transferring context:', vertex: 'c', name: '', current: 2340, total: 0, started: T0 + 1000, completed: T0 + 1300 }] }));
  p.update(trace({ vertexes: [vtx('c', '', { started: T0 + 1000, completed: T0 + 1400 })] }));
  p.update(trace({ logs: [{ vertex: 'b', timestamp: T0 + 12_345, stream: 2, msg: bytes('warning: slow') }], vertexes: [vtx('b', '', { started: T0, completed: T0 + 12_400 })] }));
  p.update(trace({ vertexes: [vtx('d', '[3/3] RUN sleep 100', { started: T0, completed: T0 + 500, error: 'failed to run: context canceled' })] }));
  p.end();
  assert.deepEqual(lines, [
    '#1 [1/3] COPY app /app',
    '#1 CACHED',
    '',
    '#2 [2/3] RUN make',
    '#2 0.215 compiling',
    '#2 0.215 100%',
    '',
    '#3 [internal] load build context',
    '#3 transferring context: 2.34kB 0.3s done',
    '#3 DONE 0.4s',
    '',
    '#2 12.35 warning: slow',
    '#2 DONE 12.4s',
    '',
    '#4 [3/3] RUN sleep 100',
    '#4 CANCELED',
  ]);
  assert.deepEqual(p.failureSummary(), [], 'a cancelled step is no failure to box');
  assert.equal(humanSize(37), '37B');
  assert.equal(humanSize(123_456), '123.5kB');
  assert.equal(humanSize(2_000_000_000), '2GB');
});

const ENGINE: EngineFacts = { builderVersion: null, apiVersion: '1.41', osType: 'linux', version: '20.10.24+dfsg1', bridge: false };

test('chooseBuilder: BuildKit where the engine offers it; the classic builder where it does not, or when a setting or DOCKER_BUILDKIT says so', () => {
  assert.deepEqual(chooseBuilder(undefined, {}, ENGINE), { kind: 'buildkit', why: 'the engine offers it (Docker Engine 20.10.24, API 1.41)', forced: false });
  assert.equal(chooseBuilder('auto', {}, { ...ENGINE, builderVersion: '2', version: '27.1.0' }).why, 'the engine announces it (Docker Engine 27.1.0, API 1.41)');
  assert.deepEqual(chooseBuilder(undefined, {}, { ...ENGINE, builderVersion: '1' }).kind, 'classic', 'daemon.json features.buildkit=false');
  assert.match(chooseBuilder(undefined, {}, { ...ENGINE, apiVersion: '1.38' }).why, /API 1\.38 is older than 1\.39/);
  assert.match(chooseBuilder(undefined, {}, { ...ENGINE, osType: 'windows' }).why, /a windows engine that does not announce BuildKit/);
  assert.equal(chooseBuilder(undefined, {}, { ...ENGINE, osType: 'windows', builderVersion: '2' }).kind, 'buildkit');
  assert.deepEqual(chooseBuilder(undefined, { DOCKER_BUILDKIT: '0' }, ENGINE), { kind: 'classic', why: 'DOCKER_BUILDKIT=0', forced: true });
  assert.equal(chooseBuilder(undefined, { DOCKER_BUILDKIT: 'true' }, { ...ENGINE, builderVersion: '1' }).kind, 'buildkit', 'the variable overrides the daemon\'s default');
  assert.equal(chooseBuilder(undefined, { DOCKER_BUILDKIT: '' }, ENGINE).kind, 'buildkit', 'an empty variable is unset');
  assert.deepEqual(chooseBuilder('classic', { DOCKER_BUILDKIT: '1' }, ENGINE), { kind: 'classic', why: '"build.builder": "classic" in .provenance.json', forced: true });
  assert.equal(chooseBuilder('buildkit', { DOCKER_BUILDKIT: '0' }, ENGINE).kind, 'buildkit', 'the target\'s setting wins');
  assert.throws(() => chooseBuilder('buildkit', {}, { ...ENGINE, apiVersion: '1.38' }), (e: Error) => e instanceof BuilderChoiceError && /asks for BuildKit, but the engine \(Docker Engine 20\.10\.24, API 1\.38\) does not offer it/.test(e.message));
  assert.throws(() => chooseBuilder(undefined, { DOCKER_BUILDKIT: 'yes' }, ENGINE), /DOCKER_BUILDKIT=yes is not a boolean/);
  assert.ok(versionAtLeast('20.10.24+dfsg1', '20.10') && !versionAtLeast('20.10.24', '23.0') && versionAtLeast('23.0.0', '23.0') && versionAtLeast('1.41', '1.39'));
});

test('chooseNetwork: the setting; else host on a Linux engine without a bridge network, the engine\'s default otherwise', () => {
  assert.equal(chooseNetwork(undefined, ENGINE).mode, 'host');
  assert.match(chooseNetwork(undefined, ENGINE).why ?? '', /no bridge network/);
  assert.deepEqual(chooseNetwork(undefined, { ...ENGINE, bridge: true }), { mode: null, why: null });
  assert.deepEqual(chooseNetwork(undefined, { ...ENGINE, osType: 'windows' }), { mode: null, why: null });
  assert.deepEqual(chooseNetwork('default', ENGINE), { mode: null, why: null });
  assert.deepEqual(chooseNetwork('none', ENGINE), { mode: 'none', why: null });
  assert.deepEqual(chooseNetwork('host', { ...ENGINE, bridge: true }), { mode: 'host', why: null });
});

test('dockerfileFeatures: the syntax directive, newer syntax, and the secret and ssh mounts of RUN steps', () => {
  const f = dockerfileFeatures(
    [
      '# syntax=docker/dockerfile:1.7',
      '# escape=\\',
      'FROM alpine AS base',
      'RUN --mount=type=secret,id=npmrc,required --mount=type=cache,target=/root/.npm npm ci',
      'RUN --mount=type=secret,target=/run/secrets/aws_creds aws s3 ls',
      'RUN --mount=type=ssh git clone git@example.invalid:x.git',
      'COPY --link --chmod=755 run.sh /run.sh',
      'RUN --network=none <<EOF',
      'echo hi',
      'EOF',
      '',
    ].join('\n'),
  );
  assert.deepEqual(f.syntax, { image: 'docker/dockerfile:1.7', line: 1 });
  assert.equal(f.mounts, true);
  assert.deepEqual(f.secrets, [
    { id: 'npmrc', line: 4, required: true },
    { id: 'aws_creds', line: 5, required: false },
  ]);
  assert.deepEqual(f.ssh, [6]);
  assert.deepEqual(
    f.newerSyntax.map((n) => [n.what, n.line, n.syntax, n.engine]),
    [
      ['COPY --link', 7, '1.4', '23.0'],
      ['a heredoc (RUN <<EOF)', 8, '1.4', '23.0'],
      ['RUN --network', 8, '1.3', '23.0'],
    ],
  );
  assert.equal(dockerfileFeatures('FROM scratch\n# syntax=docker/dockerfile:1\n').syntax, null, 'a directive only counts before the first instruction');
  assert.deepEqual(dockerfileFeatures('FROM scratch\nRUN true\n'), { syntax: null, newerSyntax: [], mounts: false, secrets: [], ssh: [] });
});

function ctx(message: string, dockerfile: string, extra: Partial<FailureContext> = {}): FailureContext {
  return {
    message,
    dockerfile: 'Dockerfile',
    features: dockerfileFeatures(dockerfile),
    builder: { kind: 'buildkit', why: 'the engine offers it', forced: false },
    engineVersion: '20.10.24+dfsg1',
    configuredSecrets: [],
    missingSecrets: [],
    ...extra,
  };
}

test('explainBuildFailure: one line for a frontend that cannot be pulled, newer syntax, a missing secret, ssh, --mount on the classic builder; nothing otherwise', () => {
  const pull = explainBuildFailure(ctx('failed to solve with frontend dockerfile.v0: failed to solve with frontend gateway.v0: failed to do request: Head "https://registry-1.docker.io/v2/docker/dockerfile/manifests/1.4": dial tcp: lookup registry-1.docker.io: no such host', '# syntax=docker/dockerfile:1.4\nFROM scratch\n'));
  assert.match(pull ?? '', /^Dockerfile:1 asks for the Dockerfile frontend docker\/dockerfile:1\.4 \("# syntax="\), and the engine could not pull that image from its registry\. Pull it where a registry can be reached \(docker pull docker\/dockerfile:1\.4/);
  const heredoc = 'FROM scratch\nCOPY x /x\nRUN <<EOF\necho hi\nEOF\n';
  assert.equal(
    explainBuildFailure(ctx('failed to solve with frontend dockerfile.v0: failed to create LLB definition: dockerfile parse error line 4: unknown instruction: ECHO', heredoc)),
    'Dockerfile:3 uses a heredoc (RUN <<EOF): Dockerfile syntax 1.4, which Docker Engine 23.0 and later understand; Docker Engine 20.10.24\'s built-in frontend does not. Upgrade the engine, or add "# syntax=docker/dockerfile:1.4" as the first line (the engine then pulls that frontend from a registry).',
  );
  assert.equal(explainBuildFailure(ctx('dockerfile parse error line 4: unknown instruction: ECHO', heredoc, { engineVersion: '24.0.7' })), null, 'an engine that knows heredocs failed for another reason');
  assert.match(
    explainBuildFailure(ctx('dockerfile parse error line 4: unknown instruction: ECHO', heredoc, { builder: { kind: 'classic', why: 'DOCKER_BUILDKIT=0', forced: true }, engineVersion: '24.0.7' })) ?? '',
    /^Dockerfile:3 uses a heredoc \(RUN <<EOF\), which the classic builder does not know; BuildKit understands it/,
  );
  assert.equal(
    explainBuildFailure(ctx('failed to solve: secret npmrc: not found', 'FROM scratch\nRUN --mount=type=secret,id=npmrc,required true\n', { missingSecrets: ['npmrc'] })),
    'Dockerfile:2 needs the secret "npmrc", which the target does not configure: add "build": {"secrets": {"npmrc": {"env": "VARIABLE"}}} (or {"file": "~/path"}) to it in .provenance.json.',
  );
  assert.match(explainBuildFailure(ctx('no SSH key "default" forwarded from the client', 'FROM scratch\nRUN --mount=type=ssh true\n')) ?? '', /^Dockerfile:2 mounts an ssh agent/);
  assert.equal(
    explainBuildFailure(ctx('the --mount option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/', 'FROM scratch\nRUN --mount=type=cache,target=/c true\n', { builder: { kind: 'classic', why: 'DOCKER_BUILDKIT=0', forced: true } })),
    'RUN --mount needs BuildKit, and this build used the classic builder because DOCKER_BUILDKIT=0. Drop that override to build with BuildKit.',
  );
  assert.equal(explainBuildFailure(ctx('executor failed running [/bin/sh -c exit 7]: exit code: 7', 'FROM scratch\nRUN exit 7\n')), null);
});

test('secrets: files (~, relative, absolute) and variables are read; a missing one, an unset variable or an oversized file is refused by name', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bp-secrets-'));
  try {
    writeFileSync(path.join(dir, 'in-repo.txt'), 'repo-relative');
    writeFileSync(path.join(dir, 'abs.txt'), 'absolute');
    const home = path.join(dir, 'home');
    writeFileSync(path.join(dir, 'big'), Buffer.alloc(MAX_SECRET_BYTES + 1));
    assert.equal(secretFilePath('~/.npmrc', dir, home), path.join(home, '.npmrc'));
    const got = resolveSecrets({ a: { file: 'in-repo.txt' }, b: { file: path.join(dir, 'abs.txt') }, c: { env: 'TOKEN' } }, dir, { TOKEN: 'from-env' });
    assert.deepEqual([...got].map(([k, v]) => [k, v.toString()]), [['a', 'repo-relative'], ['b', 'absolute'], ['c', 'from-env']]);
    assert.throws(() => resolveSecrets({ x: { file: '~/nope' } }, dir, {}, home), (e: Error) => e instanceof SecretSettingsError && /^build\.secrets\.x: cannot read .*home\/nope \(ENOENT\)/.test(e.message));
    assert.throws(() => resolveSecrets({ x: { env: 'UNSET_VAR' } }, dir, {}), /build\.secrets\.x: the environment variable UNSET_VAR is not set/);
    assert.throws(() => resolveSecrets({ x: { file: 'big' } }, dir, {}), /at most 512000 bytes/);
    assert.throws(() => resolveSecrets({ x: { file: '.' } }, dir, {}), /is not a file/);
    assert.deepEqual(resolveSecrets(undefined, dir, {}), new Map());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const f = dockerfileFeatures('FROM scratch\nRUN --mount=type=secret,id=a true\nRUN --mount=type=secret,id=b,required=true true\nRUN --mount=type=secret,id=a true\n');
  assert.deepEqual(unconfiguredSecretWarnings(f, ['b'], 'Dockerfile'), [
    'warning: Dockerfile:2 mounts the secret "a", which the target does not configure, so that step runs without it. Add "build": {"secrets": {"a": {"env": "VARIABLE"}}} (or {"file": "~/path"}) to the target in .provenance.json.',
  ]);
  assert.match(unconfiguredSecretWarnings(f, ['a'], 'Dockerfile')[0], /"b", which the target does not configure, so the build fails there \(the mount is required\)/);
});

test('config: build.builder, build.network "default" and build.secrets (a file or a variable, one of them) are validated', () => {
  const cfg = (build: unknown) => JSON.stringify({ targets: [{ image: 'app', build }] });
  const t = parseConfig(cfg({ builder: 'classic', network: 'default', secrets: { npmrc: { file: '~/.npmrc' }, 'api.key': { env: 'API_KEY' } } }), null).targets[0];
  assert.deepEqual(t.build, { builder: 'classic', network: 'default', secrets: { npmrc: { file: '~/.npmrc' }, 'api.key': { env: 'API_KEY' } } });
  for (const bad of [{ builder: 'kaniko' }, { secrets: { x: { file: 'a', env: 'B' } } }, { secrets: { x: {} } }, { secrets: { x: { path: 'a' } } }, { secrets: { 'a b': { env: 'X' } } }, { secrets: { x: { env: 'not-a-name' } } }]) {
    assert.throws(() => parseConfig(cfg(bad), null), ConfigError, JSON.stringify(bad));
  }
});
