// What a build stamps on its image: credential stripping, labels, tags, the input hash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  buildLabels,
  hashInputChanges,
  imageTags,
  isRepositoryName,
  isTagReference,
  stripCredentials,
  BuildSettingsError,
} from '../../src/core/build/labels';
import { parseRevisionLabel } from '../../src/core/docker/state';
import { tempDir } from '../support/gitFixture';

test('stripCredentials: user, password and token go; host, port and path stay', () => {
  assert.equal(stripCredentials('https://user:tok@host/x'), 'https://host/x');
  assert.equal(stripCredentials('https://ghp_abcdef@github.com/org/repo.git'), 'https://github.com/org/repo.git');
  assert.equal(stripCredentials('https://u:p%40ss@git.example:8443/a/b.git'), 'https://git.example:8443/a/b.git');
  assert.equal(stripCredentials('https://oauth2:glpat-x@gitlab.example/g/p.git?private_token=y#frag'), 'https://gitlab.example/g/p.git');
  assert.equal(stripCredentials('ssh://git@host:2222/org/repo.git'), 'ssh://host:2222/org/repo.git');
  assert.equal(stripCredentials('https://host/x'), 'https://host/x');
  // scp-like and paths carry no secret and stay as they are
  assert.equal(stripCredentials('git@github.com:org/repo.git'), 'git@github.com:org/repo.git');
  assert.equal(stripCredentials('/srv/git/repo.git'), '/srv/git/repo.git');
  assert.equal(stripCredentials('  https://a:b@h/p  '), 'https://h/p');
});

const SHA = '0123456789abcdef0123456789abcdef01234567';

test('buildLabels: OCI keys and the project keys; a dirty revision carries -dirty and reads back as dirty', () => {
  const created = new Date('2026-11-27T09:12:03.456Z');
  const clean = buildLabels({ revision: SHA, dirty: false, inputHash: '', dockerfile: 'docker/Dockerfile', remoteUrl: 'https://me:secret@git.example/a.git', target: 'app', created });
  assert.deepEqual(clean, {
    'org.opencontainers.image.revision': SHA,
    'org.opencontainers.image.created': '2026-11-27T09:12:03.456Z',
    'org.opencontainers.image.source': 'https://git.example/a.git',
    'dev.build-provenance.dirty': 'false',
    'dev.build-provenance.input-hash': '',
    'dev.build-provenance.dockerfile': 'docker/Dockerfile',
    'dev.build-provenance.version': clean['dev.build-provenance.version'],
    'dev.build-provenance.target': 'app',
  });
  assert.match(clean['dev.build-provenance.version'], /^\d+\.\d+\.\d+/);
  const dirty = buildLabels({ revision: SHA, dirty: true, inputHash: 'ab'.repeat(32), dockerfile: 'Dockerfile', remoteUrl: null, target: 'app', created });
  assert.equal(dirty['org.opencontainers.image.revision'], `${SHA}-dirty`);
  assert.equal(dirty['dev.build-provenance.dirty'], 'true');
  assert.equal(dirty['org.opencontainers.image.source'], undefined);
  const read = parseRevisionLabel(dirty, ['org.opencontainers.image.revision']);
  assert.deepEqual(read.kind === 'sha' && [read.sha, read.dirty], [SHA, true]);
});

test('imageTags: <image>:<short-sha>[-dirty] and :latest; globs and tags refused with a pointer to build.tags', () => {
  assert.deepEqual(imageTags('helix-ubuntu', SHA, false), ['helix-ubuntu:0123456789ab', 'helix-ubuntu:latest']);
  assert.deepEqual(imageTags('registry.example:5000/team/helix-ubuntu', SHA, true), [
    'registry.example:5000/team/helix-ubuntu:0123456789ab-dirty',
    'registry.example:5000/team/helix-ubuntu:latest',
  ]);
  for (const bad of ['registry/team/helix-*', 'helix-ubuntu:v*', 'helix-ubuntu:dev', 'Helix', 'a@sha256:00']) {
    assert.throws(() => imageTags(bad, SHA, false), (e: Error) => e instanceof BuildSettingsError && /build\.tags/.test(e.message), bad);
  }
  assert.deepEqual(imageTags('registry/team/helix-*', SHA, true, ['registry/team/helix-ubuntu:{short}', 'registry/team/helix-ubuntu:{sha}', 'x:latest']), [
    'registry/team/helix-ubuntu:0123456789ab-dirty',
    `registry/team/helix-ubuntu:${SHA}`,
    'x:latest',
  ]);
  assert.throws(() => imageTags('x', SHA, false, ['x:*']), /not a valid image reference/);
});

test('isRepositoryName / isTagReference follow the docker reference grammar', () => {
  for (const ok of ['a', 'helix-ubuntu', 'team/app', 'localhost:5000/a/b', 'a.b_c__d', 'docker.io/library/busybox']) assert.ok(isRepositoryName(ok), ok);
  for (const bad of ['', 'A', 'a:tag', 'a/*', '-a', 'a-', 'a//b', 'a b']) assert.ok(!isRepositoryName(bad), bad);
  assert.ok(isTagReference('localhost:5000/a:v1.2'));
  assert.ok(isTagReference('a'));
  assert.ok(!isTagReference('a:-x'));
});

test('hashInputChanges: empty when clean; covers content, deletions and links; independent of order', async (t) => {
  const dir = tempDir('bp-hash-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, 'd'));
  writeFileSync(path.join(dir, 'd/a.sh'), 'one\n');
  writeFileSync(path.join(dir, 'b'), 'two\n');
  symlinkSync('b', path.join(dir, 'link'));
  assert.equal(await hashInputChanges(dir, []), '');
  const h1 = await hashInputChanges(dir, ['d/a.sh', 'b', 'gone', 'link']);
  assert.match(h1, /^[0-9a-f]{64}$/);
  assert.equal(await hashInputChanges(dir, ['link', 'gone', 'b', 'd/a.sh']), h1);
  writeFileSync(path.join(dir, 'd/a.sh'), 'ONE\n');
  assert.notEqual(await hashInputChanges(dir, ['d/a.sh', 'b', 'gone', 'link']), h1);
  assert.notEqual(await hashInputChanges(dir, ['d/a.sh', 'b']), await hashInputChanges(dir, ['d/a.sh', 'b', 'gone']));
});
