// The verifiable inputs: which repo files the final stage holds byte for byte, and where.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeImageInputs, type AnalyzeOptions } from '../../src/core/inputs/imageInputs';
import { planReads, verifiableFiles, verifiablePrefixes, type TreeFile } from '../../src/core/inputs/verifiableInputs';

const tree = (paths: string[], mode = '100644'): TreeFile[] => paths.map((p, i) => ({ path: p, mode, oid: String(i).padStart(40, '0') }));

function files(df: string, paths: string[], extra: Partial<AnalyzeOptions> = {}) {
  const inputs = analyzeImageInputs({ dockerfile: 'Dockerfile', context: '', dockerfileText: df, ignoreFile: null, ignoreText: null, ...extra });
  return verifiableFiles(inputs.verifiable!, tree(paths)).map((f) => [f.path, f.destination]);
}

const REPO = ['a.sh', 'conf/x.conf', 'conf/sub/y.conf', 'conf/README.md', 'src/main.go', 'go.mod', 'bundle.tar.gz', 'docs/z.md'];

test('verifiable: a file, a directory copy (its contents), a trailing slash, WORKDIR-relative destinations', () => {
  const df = ['FROM scratch', 'ADD a.sh /usr/local/bin/', 'WORKDIR /etc', 'COPY conf/ helix/', 'COPY go.mod ./'].join('\n');
  assert.deepEqual(files(df, REPO), [
    ['a.sh', '/usr/local/bin/a.sh'],
    ['conf/README.md', '/etc/helix/README.md'],
    ['conf/sub/y.conf', '/etc/helix/sub/y.conf'],
    ['conf/x.conf', '/etc/helix/x.conf'],
    ['go.mod', '/etc/go.mod'],
  ]);
});

test('verifiable: --chmod/--chown change no bytes; ADD of an archive, URLs and other stages are left out', () => {
  const df = [
    'FROM golang AS build',
    'COPY src/ /src/',
    'FROM scratch',
    'COPY --chmod=755 --chown=1000:1000 a.sh /bin/a.sh',
    'ADD bundle.tar.gz /opt/',
    'ADD https://example.com/x.sh /bin/x.sh',
    'COPY --from=build /out/app /bin/app',
  ].join('\n');
  assert.deepEqual(files(df, REPO), [['a.sh', '/bin/a.sh']]);
  const inputs = analyzeImageInputs({ dockerfile: 'Dockerfile', context: '', dockerfileText: df, ignoreFile: null, ignoreText: null });
  const reasons = inputs.verifiable!.skipped.map((s) => `${s.line}: ${s.reason}`).join('\n');
  assert.match(reasons, /5: ADD of a local archive/);
  assert.match(reasons, /6: downloaded from a URL/);
  assert.match(reasons, /7: copied from 'build'/);
});

test('verifiable: stages the target is built FROM count, a later write to the same destination wins', () => {
  const df = [
    'FROM scratch AS base',
    'COPY a.sh /bin/tool',
    'COPY conf/x.conf /etc/x.conf',
    'FROM base',
    'COPY go.mod /bin/tool',
    'COPY --from=base /etc/x.conf /etc/x.conf',
  ].join('\n');
  assert.deepEqual(files(df, REPO), [['go.mod', '/bin/tool']]);
});

test('verifiable: the configured target stage, not the last one', () => {
  const df = ['FROM scratch AS final', 'COPY a.sh /a.sh', 'FROM scratch AS debug', 'COPY go.mod /go.mod'].join('\n');
  assert.deepEqual(files(df, REPO, { targetStage: 'final' }), [['a.sh', '/a.sh']]);
  assert.deepEqual(files(df, REPO), [['go.mod', '/go.mod']]);
});

test('verifiable: the ignore file, --exclude and configured excludes leave files out; RUN --mount sources are never copied', () => {
  const df = ['FROM scratch', 'COPY --exclude=*.md conf/ /etc/helix/', 'RUN --mount=type=bind,source=src,target=/src true', 'COPY . /all/'].join('\n');
  const got = files(df, REPO, { ignoreFile: '.dockerignore', ignoreText: 'docs\n*.tar.gz\n', exclude: ['go.mod'] });
  assert.deepEqual(got, [
    ['a.sh', '/all/a.sh'],
    ['conf/README.md', '/all/conf/README.md'],
    ['conf/sub/y.conf', '/all/conf/sub/y.conf'],
    ['conf/sub/y.conf', '/etc/helix/sub/y.conf'],
    ['conf/x.conf', '/all/conf/x.conf'],
    ['conf/x.conf', '/etc/helix/x.conf'],
    ['src/main.go', '/all/src/main.go'],
  ]);
});

test('verifiable: wildcards, symlinks and submodules', () => {
  const df = ['FROM scratch', 'COPY conf/*.conf /etc/', 'COPY a.sh /bin/a.sh'].join('\n');
  const inputs = analyzeImageInputs({ dockerfile: 'Dockerfile', context: '', dockerfileText: df, ignoreFile: null, ignoreText: null });
  const t = [...tree(['conf/x.conf', 'conf/sub/y.conf']), { path: 'a.sh', mode: '120000', oid: 'f'.repeat(40) }];
  assert.deepEqual(verifiableFiles(inputs.verifiable!, t).map((f) => [f.path, f.destination]), [['conf/x.conf', '/etc/x.conf']]);
  assert.deepEqual(verifiablePrefixes(inputs.verifiable!), ['a.sh', 'conf']);
});

test('verifiable: a lone file without a trailing slash may land inside an existing directory (the alternate)', () => {
  const inputs = analyzeImageInputs({ dockerfile: 'Dockerfile', context: '', dockerfileText: 'FROM scratch\nADD a.sh /usr/local/bin\n', ignoreFile: null, ignoreText: null });
  const [f] = verifiableFiles(inputs.verifiable!, tree(['a.sh']));
  assert.equal(f.destination, '/usr/local/bin');
  assert.equal(f.alternate, '/usr/local/bin/a.sh');
});

test('planReads: one request per copied directory, files of one directory together, lone files alone, nested folded', () => {
  const df = ['FROM scratch', 'COPY conf/ /etc/helix/', 'ADD a.sh /usr/local/bin/', 'ADD go.mod /usr/local/bin/', 'COPY docs/z.md /opt/doc/z.md', 'COPY src/main.go /etc/helix/sub/main.go'].join('\n');
  const inputs = analyzeImageInputs({ dockerfile: 'Dockerfile', context: '', dockerfileText: df, ignoreFile: null, ignoreText: null });
  const reqs = planReads(verifiableFiles(inputs.verifiable!, tree(REPO)));
  const shape = reqs.map((r) => [r.path, r.directory, [...r.wanted].sort()]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  assert.deepEqual(shape, [
    ['/etc/helix', true, ['/etc/helix/README.md', '/etc/helix/sub/main.go', '/etc/helix/sub/y.conf', '/etc/helix/x.conf']],
    ['/opt/doc/z.md', false, ['/opt/doc/z.md']],
    ['/usr/local/bin', true, ['/usr/local/bin/a.sh', '/usr/local/bin/go.mod']],
  ]);
});
