import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import {
  analyzeImageInputs,
  DockerfileError,
  dockerfileCandidatesForImage,
  ignoreFileCandidates,
  unionInputs,
  type AnalyzeOptions,
} from '../../src/core/inputs/imageInputs';
import { excludePlan } from '../../src/core/git/queries';
import { compileRegion, gitPathspecMatcher, parseGlob, regionPathspecs } from '../../src/core/inputs/pathGlob';

const DF = 'Dockerfile.ubuntu-helix';

function analyze(dockerfileText: string, extra: Partial<AnalyzeOptions> = {}) {
  return analyzeImageInputs({
    dockerfile: DF,
    context: '',
    dockerfileText,
    ignoreFile: extra.ignoreText ? '.dockerignore' : null,
    ignoreText: null,
    ...extra,
  });
}

// ------------------------------------------------------------------ affects() table

interface AffectsCase {
  name: string;
  df: string;
  opts?: Partial<AnalyzeOptions>;
  path: string;
  affects: boolean;
  /** Expected destination of the first via (when affects). */
  dest?: string;
  line?: number | null;
  stage?: string;
}

const cases: AffectsCase[] = [
  // COPY / ADD basics
  { name: 'single file', df: 'FROM a\nCOPY go.mod /src/', path: 'go.mod', affects: true, dest: '/src/go.mod', line: 2 },
  { name: 'unrelated file', df: 'FROM a\nCOPY go.mod /src/', path: 'README.md', affects: false },
  { name: 'several sources', df: 'FROM a\nCOPY go.mod go.sum /src/', path: 'go.sum', affects: true, dest: '/src/go.sum' },
  { name: 'file renamed by dest without slash', df: 'FROM a\nCOPY app.conf /etc/app.conf', path: 'app.conf', affects: true, dest: '/etc/app.conf' },
  { name: 'directory contents', df: 'FROM a\nCOPY src/ /app/', path: 'src/x/y.go', affects: true, dest: '/app/x/y.go' },
  { name: 'directory sibling prefix is not inside', df: 'FROM a\nCOPY src /app/', path: 'src2/a.go', affects: false },
  { name: 'ADD local file', df: 'FROM a\nADD desktop/shared/detect-render-node.sh /usr/local/bin/', path: 'desktop/shared/detect-render-node.sh', affects: true, dest: '/usr/local/bin/detect-render-node.sh' },
  { name: 'COPY . copies everything', df: 'FROM a\nCOPY . /app', path: 'deep/er/file.txt', affects: true, dest: '/app/deep/er/file.txt' },
  { name: 'leading slash source is context-relative', df: 'FROM a\nCOPY /etc/conf /x/', path: 'etc/conf', affects: true },
  { name: 'relative dest resolved against WORKDIR', df: 'FROM a\nWORKDIR /src\nWORKDIR sub\nCOPY go.mod ./', path: 'go.mod', affects: true, dest: '/src/sub/go.mod' },
  // globs (Go filepath.Match)
  { name: 'star glob matches file', df: 'FROM a\nCOPY scripts/*.sh /bin/', path: 'scripts/a.sh', affects: true, dest: '/bin/a.sh' },
  { name: 'star does not cross /', df: 'FROM a\nCOPY scripts/*.sh /bin/', path: 'scripts/sub/b.sh', affects: false },
  { name: 'star glob matching a directory copies it', df: 'FROM a\nCOPY cmd/* /cmds/', path: 'cmd/tool/main.go', affects: true, dest: '/cmds/main.go' },
  { name: 'question mark', df: 'FROM a\nCOPY conf?.ini /etc/', path: 'conf1.ini', affects: true },
  { name: 'question mark needs one char', df: 'FROM a\nCOPY conf?.ini /etc/', path: 'conf.ini', affects: false },
  { name: 'character class', df: 'FROM a\nCOPY [ab].txt /x/', path: 'b.txt', affects: true },
  { name: 'negated character class', df: 'FROM a\nCOPY [^ab].txt /x/', path: 'a.txt', affects: false },
  // JSON form and flags
  { name: 'JSON form with space', df: 'FROM a\nCOPY ["a b.sh", "/x/"]', path: 'a b.sh', affects: true, dest: '/x/a b.sh' },
  { name: 'flags --chown --chmod --link', df: 'FROM a\nCOPY --chown=1000:1000 --chmod=755 --link run.sh /usr/bin/', path: 'run.sh', affects: true, dest: '/usr/bin/run.sh' },
  { name: 'flags before JSON form', df: 'FROM a\nCOPY --chmod=644 ["cfg/x.yml", "/etc/"]', path: 'cfg/x.yml', affects: true },
  { name: '--parents keeps the path', df: 'FROM a\nCOPY --parents services/*/package.json /app/', path: 'services/web/package.json', affects: true, dest: '/app/services/web/package.json' },
  { name: '--exclude removes files in a copied dir', df: 'FROM a\nCOPY --exclude=*.md docs /d/', path: 'docs/intro.md', affects: false },
  { name: '--exclude keeps other files', df: 'FROM a\nCOPY --exclude=*.md docs /d/', path: 'docs/logo.png', affects: true },
  { name: '--exclude on wildcard names', df: 'FROM a\nCOPY --exclude=*.txt hom* /d/', path: 'home.txt', affects: false },
  { name: '--exclude is per instruction', df: 'FROM a\nCOPY --exclude=*.md docs /d/\nCOPY docs/intro.md /x/', path: 'docs/intro.md', affects: true, line: 3 },
  { name: '--from with other flags is a stage copy', df: 'FROM a AS b\nCOPY x /x\nFROM c\nCOPY --chown=1 --from=b /x /y\nCOPY --link --from=b /x /z', path: 'x', affects: true, stage: 'b' },
  // variables
  { name: '$VAR from ENV', df: 'FROM a\nENV DIR=conf\nCOPY $DIR/app.ini /etc/', path: 'conf/app.ini', affects: true },
  { name: '${VAR} from stage ARG default', df: 'FROM a\nARG SRC=srcdir\nCOPY ${SRC} /s/', path: 'srcdir/a.c', affects: true },
  { name: '${VAR:-default}', df: 'FROM a\nCOPY ${NOPE:-fallback}/x /s/', path: 'fallback/x', affects: true },
  { name: '${VAR:+alt} when set', df: 'FROM a\nARG DEBUG=1\nCOPY dbg${DEBUG:+-on}.conf /etc/', path: 'dbg-on.conf', affects: true },
  { name: '${VAR:+alt} when unset', df: 'FROM a\nCOPY dbg${DEBUG:+-on}.conf /etc/', path: 'dbg.conf', affects: true },
  { name: 'buildArgs override ARG default', df: 'FROM a\nARG FLAVOR=ubuntu\nCOPY flavors/${FLAVOR} /f/', opts: { buildArgs: { FLAVOR: 'fedora' } }, path: 'flavors/fedora/x', affects: true },
  { name: 'overridden default no longer counts', df: 'FROM a\nARG FLAVOR=ubuntu\nCOPY flavors/${FLAVOR} /f/', opts: { buildArgs: { FLAVOR: 'fedora' } }, path: 'flavors/ubuntu/x', affects: false },
  { name: 'global ARG redeclared in stage', df: 'ARG APP=helix\nFROM a\nARG APP\nCOPY apps/$APP /a/', path: 'apps/helix/main.go', affects: true },
  { name: 'global ARG not redeclared is empty', df: 'ARG APP=helix\nFROM a\nCOPY apps/$APP/main.go /a/', path: 'apps/helix/main.go', affects: false },
  { name: 'ENV inherited from base stage', df: 'FROM a AS base\nENV D=lib\nFROM base\nCOPY $D /l/', path: 'lib/x.so', affects: true },
  // RUN --mount
  { name: 'bind mount source', df: 'FROM a\nRUN --mount=type=bind,source=go.mod,target=/src/go.mod go mod download', path: 'go.mod', affects: true, dest: '/src/go.mod' },
  { name: 'bind mount default source is context root', df: 'FROM a\nRUN --mount=type=bind,target=/ctx make', path: 'Makefile', affects: true, dest: '/ctx/Makefile' },
  { name: 'mount without type is bind', df: 'FROM a\nRUN --mount=src=tools,dst=/t ls', path: 'tools/x.sh', affects: true, dest: '/t/x.sh' },
  { name: 'cache mount is not an input', df: 'FROM a\nRUN --mount=type=cache,target=/root/.cache go build', path: 'anything.go', affects: false },
  { name: 'secret mount is not an input', df: 'FROM a\nRUN --mount=type=secret,id=tok,src=token.txt cat /run/secrets/tok', path: 'token.txt', affects: false },
  { name: 'mount from stage pulls the stage in', df: 'FROM a AS gen\nCOPY schema.json /s/\nFROM b\nRUN --mount=type=bind,from=gen,source=/s,target=/s ls', path: 'schema.json', affects: true },
  // multi-stage reachability
  { name: 'builder stage copied by name', df: 'FROM golang AS Builder\nCOPY api /src/api\nFROM ubuntu\nCOPY --from=builder /out /usr/bin', path: 'api/main.go', affects: true, stage: 'builder', dest: '/src/api/main.go' },
  { name: 'stage copied by index', df: 'FROM golang\nCOPY api /src/api\nFROM ubuntu\nCOPY --from=0 /out /usr/bin', path: 'api/main.go', affects: true, stage: '0' },
  { name: 'FROM <stage> chain', df: 'FROM a AS base\nCOPY base.txt /\nFROM base AS final\nRUN true', path: 'base.txt', affects: true },
  { name: 'unreachable stage does not count', df: 'FROM a AS tests\nCOPY tests /t\nFROM b AS app\nCOPY app /a', path: 'tests/x_test.go', affects: false },
  { name: 'targetStage selects an earlier stage', df: 'FROM a AS tests\nCOPY tests /t\nFROM b AS app\nCOPY app /a', opts: { targetStage: 'TESTS' }, path: 'tests/x_test.go', affects: true },
  { name: 'targetStage excludes later stages', df: 'FROM a AS tests\nCOPY tests /t\nFROM b AS app\nCOPY app /a', opts: { targetStage: 'tests' }, path: 'app/main.go', affects: false },
  // heredocs
  { name: 'COPY heredoc reads nothing', df: 'FROM a\nCOPY <<EOF /etc/motd\nhello\nEOF\nCOPY real.txt /r/', path: 'EOF', affects: false },
  { name: 'instruction after RUN heredoc still parsed', df: 'FROM a\nRUN <<EOF\nCOPY fake /x\nEOF\nCOPY real.txt /r/', path: 'real.txt', affects: true, line: 5 },
  { name: 'heredoc body is not an instruction', df: 'FROM a\nRUN <<EOF\nCOPY fake /x\nEOF\nCOPY real.txt /r/', path: 'fake', affects: false },
  // Dockerfile, ignore file
  { name: 'Dockerfile itself', df: 'FROM a', path: DF, affects: true, line: null },
  { name: 'ignore file itself even if ignored', df: 'FROM a\nCOPY . /', opts: { ignoreText: '.dockerignore\n' }, path: '.dockerignore', affects: true, line: null },
  { name: 'Dockerfile even if ignored', df: 'FROM a\nCOPY . /', opts: { ignoreText: 'Dockerfile*\n' }, path: DF, affects: true },
  { name: 'ignored path', df: 'FROM a\nCOPY . /', opts: { ignoreText: 'docs\n' }, path: 'docs/a.md', affects: false },
  { name: 'exception in ignored dir', df: 'FROM a\nCOPY . /', opts: { ignoreText: 'docs\n!docs/keep.md\n' }, path: 'docs/keep.md', affects: true },
  { name: 'later rule re-ignores exception', df: 'FROM a\nCOPY . /', opts: { ignoreText: '*.md\n!README*.md\nREADME-secret.md\n' }, path: 'README-secret.md', affects: false },
  { name: 'ignore ** pattern', df: 'FROM a\nCOPY . /', opts: { ignoreText: '**/*.log\n' }, path: 'a/b/c.log', affects: false },
  // context in a subdirectory
  { name: 'context subdir: repo-relative paths', df: 'FROM a\nCOPY shared/ /opt/shared/', opts: { context: 'desktop' }, path: 'desktop/shared/x.sh', affects: true, dest: '/opt/shared/x.sh' },
  { name: 'context subdir: same name outside context', df: 'FROM a\nCOPY shared/ /opt/shared/', opts: { context: 'desktop' }, path: 'shared/x.sh', affects: false },
  { name: 'context subdir: ignore file relative to context', df: 'FROM a\nCOPY . /', opts: { context: 'desktop', ignoreFile: 'desktop/.dockerignore', ignoreText: 'tmp\n' }, path: 'desktop/tmp/x', affects: false },
  { name: 'path outside context is not an input', df: 'FROM a\nCOPY ../x /x', opts: { context: 'desktop' }, path: 'x', affects: false },
  // config include / exclude
  { name: 'config include', df: 'FROM a', opts: { include: ['scripts/build.sh'] }, path: 'scripts/build.sh', affects: true },
  { name: 'config exclude wins', df: 'FROM a\nCOPY . /', opts: { exclude: ['**/*.md'] }, path: 'docs/x.md', affects: false },
  { name: 'config exclude never hides the Dockerfile', df: 'FROM a\nCOPY . /', opts: { exclude: ['Dockerfile*'] }, path: DF, affects: true },
];

for (const c of cases) {
  test(`affects: ${c.name}`, () => {
    const r = analyze(c.df, c.opts).affects(c.path);
    assert.equal(r.affects, c.affects, JSON.stringify(r.via));
    if (c.affects) {
      const v = r.via[0];
      if (c.dest !== undefined) assert.equal(v.destination, c.dest);
      if (c.line !== undefined) assert.equal(v.line, c.line);
      if (c.stage !== undefined) assert.equal(v.stage, c.stage);
      assert.equal(v.dockerfile, DF);
    } else {
      assert.deepEqual(r.via, []);
    }
  });
}

test('via lists every instruction that bakes a path in, with the instruction text', () => {
  const r = analyze('FROM a AS build\nCOPY --chmod=755 detect.sh /usr/bin/\nFROM b\nCOPY --from=build /usr/bin /usr/bin\nADD detect.sh /etc/profile.d/').affects('detect.sh');
  assert.deepEqual(
    r.via.map((v) => [v.line, v.stage, v.instruction, v.destination]),
    [
      [2, 'build', 'COPY --chmod=755 detect.sh /usr/bin/', '/usr/bin/detect.sh'],
      [5, '1', 'ADD detect.sh /etc/profile.d/', '/etc/profile.d/detect.sh'],
    ],
  );
  const d = analyze('FROM a\nCOPY . /').affects(DF);
  assert.deepEqual(d.via.map((v) => v.instruction), ['(Dockerfile)', 'COPY . /']);
});

// ------------------------------------------------------------------ external, problems, errors

interface ReportCase {
  name: string;
  df: string;
  opts?: Partial<AnalyzeOptions>;
  external?: string[];
  problem?: RegExp;
  noProblems?: boolean;
}
const reports: ReportCase[] = [
  { name: 'FROM image and ARG in FROM', df: 'ARG V=22.04\nFROM ubuntu:${V}', external: ['ubuntu:22.04'], noProblems: true },
  { name: 'buildArgs in FROM', df: 'ARG V=22.04\nFROM ubuntu:$V', opts: { buildArgs: { V: '24.04' } }, external: ['ubuntu:24.04'] },
  { name: 'scratch and stages are not external', df: 'FROM scratch AS s\nFROM s', external: [] },
  { name: 'ADD URL and git', df: 'FROM scratch\nADD https://example.com/a.tgz /a\nADD git@github.com:o/r.git /r', external: ['https://example.com/a.tgz', 'git@github.com:o/r.git'] },
  { name: 'COPY --from=<image> with flags', df: 'FROM scratch\nCOPY --link --from=docker/buildx-bin:0.12 /buildx /usr/bin/', external: ['docker/buildx-bin:0.12'] },
  { name: 'mount from image', df: 'FROM scratch\nRUN --mount=type=bind,from=golang:1.22,source=/usr/local/go,target=/go ls', external: ['golang:1.22'] },
  { name: 'unreachable stage externals are not listed', df: 'FROM alpine AS unused\nFROM scratch', external: [] },
  { name: 'unresolvable variable', df: 'FROM scratch\nCOPY ${MISSING}/x /x', problem: /MISSING.*not defined/ },
  { name: 'COPY with one argument', df: 'FROM scratch\nCOPY onlyone', problem: /at least one source and a destination/ },
  { name: 'source outside the context', df: 'FROM scratch\nCOPY ../secret /s', problem: /outside the build context/ },
  { name: 'COPY of a URL', df: 'FROM scratch\nCOPY https://x/y /y', problem: /use ADD/ },
];
for (const c of reports) {
  test(`report: ${c.name}`, () => {
    const r = analyze(c.df, c.opts);
    if (c.external) assert.deepEqual(r.external.map((e) => e.source), c.external);
    if (c.problem) assert.ok(r.problems.some((p) => c.problem!.test(p.message)), JSON.stringify(r.problems));
    if (c.noProblems) assert.deepEqual(r.problems, []);
  });
}

const fatal: Array<{ name: string; df: string; opts?: Partial<AnalyzeOptions>; message: RegExp; line?: number }> = [
  { name: 'empty Dockerfile', df: '\n# just a comment\n', message: /empty.*Add a FROM/ },
  { name: 'no FROM', df: 'ARG X=1\n', message: /no FROM/ },
  { name: 'instruction before FROM', df: 'RUN echo\nFROM a', message: /before the first FROM/, line: 1 },
  { name: 'unknown instruction', df: 'FROM a\nCOPPY x /x', message: /unknown instruction 'COPPY'/, line: 2 },
  { name: 'unknown target stage', df: 'FROM a AS build\nFROM b AS app', opts: { targetStage: 'test' }, message: /'test' is not defined.*build, app/ },
];
for (const c of fatal) {
  test(`fatal: ${c.name}`, () => {
    assert.throws(
      () => analyze(c.df, c.opts),
      (e: unknown) => e instanceof DockerfileError && c.message.test(e.message) && (c.line === undefined || e.line === c.line),
    );
  });
}

test('escape directive and line continuations', () => {
  const r = analyze('# escape=`\nFROM a\nCOPY one.txt `\n  # comment inside\n  two.txt /x/\nCOPY `$HOME.txt /y/');
  assert.equal(r.affects('two.txt').affects, true);
  assert.equal(r.affects('two.txt').via[0].instruction, 'COPY one.txt two.txt /x/');
  assert.equal(r.affects('$HOME.txt').affects, true);
  assert.deepEqual(r.problems, []);
});

test('ignoreFileCandidates: <Dockerfile>.dockerignore first, then <context>/.dockerignore', () => {
  assert.deepEqual(ignoreFileCandidates('Dockerfile.ubuntu-helix', ''), ['Dockerfile.ubuntu-helix.dockerignore', '.dockerignore']);
  assert.deepEqual(ignoreFileCandidates('docker/app.Dockerfile', 'desktop'), ['docker/app.Dockerfile.dockerignore', 'desktop/.dockerignore']);
  assert.deepEqual(ignoreFileCandidates('Dockerfile', '.'), ['Dockerfile.dockerignore', '.dockerignore']);
});

const candidateCases: Array<{ image: string; files: string[]; expect: string[] }> = [
  { image: 'helix-ubuntu', files: ['Dockerfile', 'Dockerfile.ubuntu-helix', 'Dockerfile.sway-helix', 'src/a.go'], expect: ['Dockerfile.ubuntu-helix'] },
  { image: 'registry.example.com/team/helix-ubuntu:latest', files: ['docker/helix_ubuntu.Dockerfile', 'Dockerfile.helix-ubuntu'], expect: ['Dockerfile.helix-ubuntu', 'docker/helix_ubuntu.Dockerfile'] },
  { image: 'api', files: ['api/Dockerfile', 'Dockerfile.api', 'Dockerfile.api-test'], expect: ['Dockerfile.api', 'api/Dockerfile'] },
  { image: 'web@sha256:abc', files: ['web.dockerfile', 'webapp.Dockerfile'], expect: ['web.dockerfile'] },
  { image: 'nothing', files: ['Dockerfile', 'README.md'], expect: [] },
];
for (const c of candidateCases) {
  test(`dockerfileCandidatesForImage: ${c.image}`, () => {
    assert.deepEqual(dockerfileCandidatesForImage(c.image, c.files), c.expect);
  });
}

test('affects() is fast enough to call per file open', () => {
  const r = analyze('FROM a AS b\nCOPY --exclude=*.md docs /d\nCOPY src/*.go /s/\nFROM c\nCOPY --from=b / /\nCOPY . /app', { ignoreText: '**/*.log\n!keep.log\nnode_modules\n' });
  const start = performance.now();
  for (let i = 0; i < 20000; i++) r.affects(`src/pkg${i % 50}/file${i}.go`);
  assert.ok(performance.now() - start < 2000);
});

// ------------------------------------------------------------------ pathspec consistency with real git

const TREE = [
  'Dockerfile', 'Dockerfile.ubuntu-helix', 'Dockerfile.ubuntu-helix.dockerignore', 'Dockerfile.other', '.dockerignore',
  'README.md', 'README-secret.md', 'CHANGELOG.md', '.md', 'go.mod', 'go.sum', 'Makefile', 'a b.sh', 'star*.txt', 'home.txt', 'homer.sh',
  'api/main.go', 'api/main_test.go', 'api/handlers/user.go', 'api/handlers/user_test.go', 'api/README.md',
  'cmd/tool/main.go', 'cmd/other/main.go', 'cmd/x.go/inner.txt',
  'docs/keep.md', 'docs/kept.md', 'docs/k', 'docs/keep.md.bak', 'docs/intro.md', 'docs/img/logo.png', 'docs/keep.mdx',
  'desktop/.dockerignore', 'desktop/Dockerfile', 'desktop/shared/detect-render-node.sh', 'desktop/shared/env.sh',
  'desktop/shared/old/legacy.sh', 'desktop/tmp/cache.bin', 'desktop/notes.md', 'desktop/sway/config', 'desktop/sway/README.md',
  'scripts/build.sh', 'scripts/deploy.sh', 'scripts/sub/inner.sh', 'scripts/notes.txt',
  'services/web/package.json', 'services/web/index.js', 'services/db/package.json',
  'logs/a.log', 'logs/keep.log', 'deep/er/x.log', 'keep.log',
  'node_modules/pkg/index.js', 'tests/e2e/run_test.go', 'tools/gen.sh', 'tools/Dockerfile-lint',
  'conf1.ini', 'conf.ini', 'confA.ini', 'my dir/with space.txt', 'unrelated/thing.txt', 'x-y.md',
];

function git(cwd: string, args: string[], input?: string): string {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', input, env: { ...process.env, LC_ALL: 'C', GIT_PAGER: 'cat' } });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

function makeRepo(): { dir: string; first: string } {
  const dir = mkdtempSync(join(tmpdir(), 'imageinputs-'));
  git(dir, ['init', '-q', '-b', 'main']);
  for (const p of TREE) {
    mkdirSync(join(dir, dirname(p)), { recursive: true });
    writeFileSync(join(dir, p), 'v0\n');
  }
  const c = ['-c', 'commit.gpgsign=false', '-c', 'user.name=t', '-c', 'user.email=t@e'];
  git(dir, ['add', '-A']);
  git(dir, [...c, 'commit', '-q', '-m', 'init']);
  const first = git(dir, ['rev-parse', 'HEAD']).trim();
  // One commit per file, its subject = the path, so `git log` can be checked too.
  for (const p of TREE) {
    writeFileSync(join(dir, p), 'v1\n');
    git(dir, ['add', '--', p]);
    git(dir, [...c, 'commit', '-q', '-m', p]);
  }
  return { dir, first };
}

interface Scenario {
  name: string;
  opts: Partial<AnalyzeOptions> & { dockerfileText: string };
  /** Expected exact (no superset reasons). */
  exact?: boolean;
  /** A few paths that must be selected / not selected, as a sanity check of the scenario itself. */
  yes?: string[];
  no?: string[];
}

const SCENARIOS: Scenario[] = [
  {
    name: 'helix: builder stage, ADD script, COPY . with ignore exceptions',
    opts: {
      dockerfile: 'Dockerfile.ubuntu-helix',
      ignoreFile: 'Dockerfile.ubuntu-helix.dockerignore',
      ignoreText: '# docs are not baked\ndocs\n!docs/keep.md\n*.md\n!README.md\nREADME-secret.md\nDockerfile*\n**/*.log\n!logs/keep.log\nnode_modules\n',
      dockerfileText: [
        'ARG GO=1.22',
        'FROM golang:${GO} AS build',
        'WORKDIR /src',
        'COPY go.mod go.sum ./',
        'COPY --exclude=*_test.go api/ ./api/',
        'RUN --mount=type=bind,source=tools,target=/tools go build',
        'FROM ubuntu:22.04',
        'COPY --from=build /out/bin /usr/bin/',
        'ADD desktop/shared/detect-render-node.sh /usr/local/bin/',
        'COPY . /app',
      ].join('\n'),
    },
    exact: true,
    yes: ['docs/keep.md', 'README.md', 'logs/keep.log', 'Dockerfile.ubuntu-helix', 'Dockerfile.ubuntu-helix.dockerignore', 'api/main_test.go'],
    no: ['docs/kept.md', 'docs/keep.md.bak', 'README-secret.md', 'Dockerfile.other', 'keep.log', 'node_modules/pkg/index.js', '.md'],
  },
  {
    name: 'selective copies, globs, --exclude, unreachable stage',
    opts: {
      dockerfile: 'Dockerfile',
      ignoreFile: '.dockerignore',
      ignoreText: 'scripts/deploy.sh\n',
      dockerfileText: [
        'FROM alpine AS tests',
        'COPY tests /t',
        'FROM golang AS build',
        'COPY --exclude=**/*_test.go --exclude=README.md api /src/api',
        'COPY cmd/* /cmds/',
        'COPY ["a b.sh", "my dir/", "/x/"]',
        'COPY conf?.ini scripts/*.sh star[*].txt /etc/',
        'COPY --exclude=*.txt hom* /h/',
        'FROM scratch',
        'COPY --from=build /out /out',
        'RUN --mount=type=cache,target=/c --mount=type=bind,source=services/web,target=/w true',
      ].join('\n'),
    },
    exact: true,
    yes: ['api/handlers/user.go', 'cmd/x.go/inner.txt', 'a b.sh', 'my dir/with space.txt', 'conf1.ini', 'scripts/build.sh', 'star*.txt', 'homer.sh'],
    no: ['api/handlers/user_test.go', 'api/README.md', 'tests/e2e/run_test.go', 'scripts/deploy.sh', 'scripts/sub/inner.sh', 'conf.ini', 'home.txt'],
  },
  {
    name: 'context in a subdirectory with its own .dockerignore and config globs',
    opts: {
      dockerfile: 'desktop/Dockerfile',
      context: 'desktop',
      ignoreFile: 'desktop/.dockerignore',
      ignoreText: 'tmp\n*.md\nshared/old\n**/.*\n',
      include: ['scripts/build.sh'],
      exclude: ['desktop/sway/**'],
      dockerfileText: 'FROM ubuntu\nCOPY . /opt/desktop/\nCOPY ../go.mod /x\n',
    },
    exact: true,
    yes: ['desktop/shared/env.sh', 'desktop/.dockerignore', 'desktop/Dockerfile', 'scripts/build.sh'],
    no: ['desktop/tmp/cache.bin', 'desktop/notes.md', 'desktop/shared/old/legacy.sh', 'desktop/sway/config', 'go.mod'],
  },
  {
    name: 'exclusions under a common directory prefix (git ls-files quirk)',
    opts: {
      dockerfile: 'desktop/Dockerfile',
      context: 'desktop',
      ignoreFile: 'desktop/.dockerignore',
      ignoreText: '*/README.md\n**/legacy.sh\n',
      dockerfileText: 'FROM ubuntu\nCOPY shared sway /opt/\n',
    },
    exact: true,
    yes: ['desktop/sway/config', 'desktop/shared/env.sh'],
    no: ['desktop/sway/README.md', 'desktop/shared/old/legacy.sh', 'desktop/notes.md'],
  },
  {
    name: 'directory exceptions, nested re-ignore, Dockerfile outside the context',
    opts: {
      dockerfile: 'Dockerfile.other',
      context: 'desktop',
      ignoreFile: 'Dockerfile.other.dockerignore',
      ignoreText: '/shared\n!shared/old\nshared/old/legacy.sh\n!shared/env.sh\n./sway/\n!sway/config\n',
      exclude: ['**/.dockerignore'],
      dockerfileText: 'FROM ubuntu AS base\nCOPY --link . /d/\nFROM base\nRUN --mount=target=/m true\n',
    },
    exact: true,
    yes: ['desktop/shared/env.sh', 'desktop/sway/config', 'desktop/notes.md', 'Dockerfile.other'],
    no: ['desktop/shared/detect-render-node.sh', 'desktop/shared/old/legacy.sh', 'desktop/sway/README.md', 'desktop/.dockerignore'],
  },
  {
    name: 'wildcard exception the pathspecs cannot express (superset allowed)',
    opts: {
      dockerfile: 'Dockerfile',
      ignoreFile: '.dockerignore',
      ignoreText: 'logs\n!logs/*.log\n*.md\n',
      dockerfileText: 'FROM ubuntu\nCOPY . /\n',
    },
    exact: false,
  },
];

test('pathspecs select exactly the affected files (git ls-files and git log)', () => {
  const { dir, first } = makeRepo();
  try {
    const all = git(dir, ['ls-files', '-z']).split('\0').filter(Boolean).sort();
    assert.equal(all.length, TREE.length);
    for (const s of SCENARIOS) {
      const r = analyzeImageInputs({ dockerfile: 'Dockerfile', context: '', ignoreFile: null, ignoreText: null, ...s.opts });
      const want = all.filter((p) => r.affects(p).affects);
      const listed = git(dir, ['ls-files', '-z', '--', ...r.pathspecs]).split('\0').filter(Boolean).sort();
      const logged = git(dir, ['log', '--format=%s', `${first}..HEAD`, '--', ...r.pathspecs]).split('\n').filter(Boolean).sort();
      // The walk's exclude plan (positive pathspecs, excludes judged in JS) agrees with git.
      const plan = excludePlan(r.pathspecs);
      if (plan) {
        const positive = git(dir, ['ls-files', '-z', '--', ...plan.positive]).split('\0').filter(Boolean).sort();
        assert.deepEqual(positive.filter((p) => !plan.excluded(p)), listed, `${s.name}: exclude plan`);
      }
      for (const spec of r.pathspecs.filter((x) => /^:\([^)]*exclude/.test(x))) {
        const m = gitPathspecMatcher(spec);
        assert.ok(m?.exclude, `${s.name}: ${spec} has a matcher`);
        const kept = git(dir, ['ls-files', '-z', '--', ':(top)', spec]).split('\0').filter(Boolean).sort();
        assert.deepEqual(all.filter((p) => !m.matches(p)), kept, `${s.name}: ${spec}`);
      }
      for (const p of s.yes ?? []) assert.ok(want.includes(p), `${s.name}: ${p} should affect`);
      for (const p of s.no ?? []) assert.ok(!want.includes(p), `${s.name}: ${p} should not affect`);
      if (s.exact) {
        assert.deepEqual(r.pathspecsSuperset, [], s.name);
        assert.deepEqual(listed, want, `${s.name}: ls-files\n${r.pathspecs.join('\n')}`);
        assert.deepEqual(logged, want, `${s.name}: log`);
      } else {
        assert.ok(r.pathspecsSuperset!.length > 0, s.name);
        for (const p of want) assert.ok(listed.includes(p) && logged.includes(p), `${s.name}: superset must contain ${p}`);
        assert.ok(!listed.includes('README.md'), `${s.name}: the expressible excludes are still applied`);
      }
    }

    // Union of two ends of a range: a COPY removed in between still counts.
    const ignoreText = 'docs\n!docs/keep.md\n';
    const older = analyzeImageInputs({ dockerfile: 'Dockerfile', context: '', ignoreFile: '.dockerignore', ignoreText, dockerfileText: 'FROM a\nCOPY docs /d\nCOPY scripts/*.sh /s/' });
    const newer = analyzeImageInputs({ dockerfile: 'Dockerfile', context: '', ignoreFile: '.dockerignore', ignoreText, dockerfileText: 'FROM a\nCOPY --exclude=*.txt scripts /s/\nCOPY api /api' });
    const u = unionInputs(older, newer);
    const want = all.filter((p) => u.affects(p).affects);
    assert.deepEqual(want, all.filter((p) => older.affects(p).affects || newer.affects(p).affects));
    assert.ok(want.includes('docs/keep.md') && want.includes('api/main.go') && want.includes('scripts/sub/inner.sh'));
    assert.ok(!want.includes('docs/intro.md') && !want.includes('scripts/notes.txt'));
    const listed = git(dir, ['ls-files', '-z', '--', ...u.pathspecs]).split('\0').filter(Boolean).sort();
    const logged = git(dir, ['log', '--format=%s', `${first}..HEAD`, '--', ...u.pathspecs]).split('\n').filter(Boolean).sort();
    assert.deepEqual(listed, want);
    assert.deepEqual(logged, want);
    assert.ok(u.affects('scripts/build.sh').via.length === 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('exclude pathspec matchers agree with git on awkward names (classes, escapes, **, dots, spaces)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bp-pathspec-'));
  try {
    git(dir, ['init', '-q']);
    const files = [
      'a_test.go', 'api/x_test.go', 'api/deep/y_test.go', 'api/deep/y_test.go.txt', 'api/z.go', 'api/dir_test.go/inner',
      'docs/a.md', 'docs/b1.md', 'docs/d.md', 'docs/sub/a.md', 'docs/.hidden.md', 'weird/[1].txt', 'weird/1.txt',
      'weird/star*name', 'weird/starXname', 'weird/q?', 'weird/qa', 'weird/back\\slash', 'sp ace/f i.txt', 'sp ace/g.txt',
      'logs/x/keep.log', 'logs/keep.log', 'logs/y.txt', 'x-y/a', 'x]y/a', 'dash-/f', 'dash!/f',
    ];
    for (const f of files) {
      mkdirSync(join(dir, dirname(f)), { recursive: true });
      writeFileSync(join(dir, f), f);
    }
    git(dir, ['add', '-A']);
    const all = git(dir, ['ls-files', '-z']).split('\0').filter(Boolean).sort();
    assert.equal(all.length, files.length);
    const patterns = [
      '**/*_test.go', 'docs/[a-b]*.md', 'docs/[^a]*.md', 'docs/*', '**/*.md', 'weird/\\[1\\].txt', 'weird/star\\*name', 'weird/q\\?',
      'weird/q?', 'sp ace/f i.txt', 'sp ace', 'logs/**/keep.log', '**/keep.log', 'logs/**', 'x[\\]-]y', 'dash[-!]', 'weird/back\\\\slash', '*',
    ];
    let excludedSomething = 0;
    for (const pattern of patterns) {
      const segs = parseGlob(pattern, { doubleStar: true });
      assert.ok(segs, pattern);
      for (const spec of regionPathspecs(segs, true)) {
        const m = gitPathspecMatcher(spec);
        assert.ok(m?.exclude, `${pattern}: ${spec} has a matcher`);
        const kept = git(dir, ['ls-files', '-z', '--', ':(top)', spec]).split('\0').filter(Boolean).sort();
        assert.deepEqual(all.filter((p) => !m.matches(p)), kept, `${pattern}: ${spec}`);
        excludedSomething += all.length - kept.length > 0 ? 1 : 0;
      }
    }
    assert.ok(excludedSomething >= patterns.length, `most specs exclude something (${excludedSomething})`);
    // Forms the matcher does not claim to know are left to git.
    for (const spec of [':(exclude,icase)docs', ':!docs', ':(top,exclude,glob)a/**b', ':(top,exclude,attr:x)docs']) assert.equal(gitPathspecMatcher(spec), null, spec);
    assert.equal(excludePlan([':(top,literal)api', ':!docs']), null);
    assert.equal(excludePlan([':(top,literal)api']), null, 'nothing to gain without excludes');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('no glob or ignore pattern backtracks: the hostile patterns of a security review answer at once', () => {
  // `app/*a*a*a*a*a*a*a*b` next to a 60-character name took 44 s through a backtracking RegExp.
  const hostile = `app/${'*a'.repeat(12)}*b`;
  const r = analyzeImageInputs({
    dockerfile: 'Dockerfile',
    context: '',
    ignoreFile: '.dockerignore',
    ignoreText: `${hostile}\n**/${'*a'.repeat(12)}*b\n`,
    dockerfileText: `FROM a\nCOPY --exclude=${'*a'.repeat(12)}*b app /app\nCOPY . /all\n`,
    include: [`tools/${'*a'.repeat(12)}*b`],
    exclude: [`${'*a'.repeat(12)}*c/**`],
  });
  const name = `app/${'a'.repeat(60)}`;
  const start = performance.now();
  for (let i = 0; i < 50; i++) {
    assert.equal(r.affects(`${name}${i}`).affects, true);
    assert.equal(r.affects(`tools/${'a'.repeat(60)}${i}`).affects, true);
  }
  // Exponential matching needs minutes for one call; linear needs microseconds.
  assert.ok(performance.now() - start < 3000, `${performance.now() - start} ms`);
  assert.equal(r.affects(`${name}b`).affects, false);
  const m = compileRegion(parseGlob(`${'*a'.repeat(30)}*b`, { doubleStar: true })!);
  assert.equal(m('a'.repeat(80)), false);
  assert.equal(m(`${'a'.repeat(80)}b/x`), true);
});
