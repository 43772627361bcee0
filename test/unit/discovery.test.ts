// Zero-config discovery, the pure pieces: compose's project name, remote URLs, Dockerfile names,
// and which rule finds which image (docker/discovery.test.ts runs them on a real daemon).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseRemoteUrl, remoteUrlsOfConfig } from '../../src/core/git/remotes';
import { cheapDiscovery, composeProjectName, dockerfileOnlyDiscovery, nothingFound, type DiscoveryFacts } from '../../src/core/status/discovery';
import { isDockerfileName } from '../../src/core/inputs/imageInputs';
import { parseRevisionLabel } from '../../src/core/docker/state';
import type { ImageInfo } from '../../src/core/types';

const REV = 'org.opencontainers.image.revision';
const SHA = 'a'.repeat(40);

function image(tag: string, labels: Record<string, string> = {}, created = '2026-01-01T00:00:00.000Z'): ImageInfo {
  return { id: `sha256:${Buffer.from(tag + created).toString('hex').padEnd(64, '0').slice(0, 64)}`, tags: [tag], created, labels, revision: parseRevisionLabel(labels, [REV]), endpoint: 'unix:///var/run/docker.sock' };
}

function facts(extra: Partial<DiscoveryFacts>): DiscoveryFacts {
  return { folder: 'shop', dockerfiles: ['Dockerfile', 'tools/Dockerfile.lint'], images: [], commits: new Set([SHA]), remotes: [{ name: 'origin', url: 'github.com/acme/shop' }], ...extra };
}

test('discovery: compose project names (lower case, a-z 0-9 _ - only, no leading _ or -)', () => {
  assert.equal(composeProjectName('My App.v2'), 'myappv2');
  assert.equal(composeProjectName('_Helix-Ubuntu'), 'helix-ubuntu');
  assert.equal(composeProjectName('build_provenance'), 'build_provenance');
  assert.equal(composeProjectName('--x'), 'x');
  assert.equal(composeProjectName('Ünïcode'), 'ncode');
});

test('discovery: remote URLs compare as host/path, whatever their form', () => {
  for (const u of ['https://github.com/acme/shop.git', 'https://user:tok@GitHub.com/acme/shop/', 'git@github.com:acme/shop.git', 'ssh://git@github.com/acme/shop', 'ssh://git@github.com:22/acme/shop.git', 'git+ssh://github.com/acme/shop']) {
    assert.equal(normaliseRemoteUrl(u), 'github.com/acme/shop', u);
  }
  assert.equal(normaliseRemoteUrl('ssh://git@host:2222/acme/shop.git'), 'host:2222/acme/shop');
  assert.equal(normaliseRemoteUrl('/srv/git/shop.git'), '/srv/git/shop');
  assert.notEqual(normaliseRemoteUrl('https://github.com/acme/Shop'), normaliseRemoteUrl('https://github.com/acme/shop-api'));
  assert.deepEqual(
    remoteUrlsOfConfig('[core]\n\turl = nope\n[remote "origin"]\n\turl = git@github.com:acme/shop.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n# url = commented\n[remote "up stream"]\nURL = "https://x/y"\n[branch "main"]\n\tremote = origin\n'),
    [{ name: 'origin', url: 'git@github.com:acme/shop.git' }, { name: 'up stream', url: 'https://x/y' }],
  );
});

test('discovery: which files are Dockerfiles by name', () => {
  for (const p of ['Dockerfile', 'a/Dockerfile', 'Dockerfile.ubuntu-helix', 'api.Dockerfile', 'Containerfile', 'x/dockerfile-dev']) assert.ok(isDockerfileName(p), p);
  for (const p of ['Dockerfile.dockerignore', 'docs/dockerfile-guide.md.txt.dockerignore', 'dockerfiles/readme.md', 'README.dockerfile.md']) assert.ok(!isDockerfileName(p), p);
});

test('discovery: each cheap rule, first rule wins, images grouped by repository, other repositories\' labels exclude', () => {
  const f = facts({
    dockerfiles: ['Dockerfile', 'deploy/Dockerfile', 'Dockerfile.worker', 'web/Dockerfile'],
    images: [
      image('api:2', { [REV]: SHA }, '2026-01-03T00:00:00.000Z'),
      image('api:1', { 'org.opencontainers.image.source': 'nope' }, '2026-01-02T00:00:00.000Z'),
      image('registry.example:5000/acme/shop-front:latest', { 'org.opencontainers.image.source': 'https://github.com/acme/shop' }),
      image('deployer', { 'com.docker.image.source.entrypoint': 'deploy/Dockerfile' }),
      image('worker:latest'),
      image('web:latest'),
      image('generic:latest', { 'com.docker.image.source.entrypoint': 'Dockerfile' }),
      image('elsewhere', { [REV]: 'b'.repeat(40), 'com.docker.image.source.entrypoint': 'deploy/Dockerfile' }),
      image('ubuntu:22.04'),
    ],
  });
  const { found, candidates } = cheapDiscovery(f);
  assert.deepEqual(
    found.map((x) => [x.image, x.discovery.rule, x.dockerfile]),
    [
      ['api', 'revision-label', undefined],
      ['registry.example:5000/acme/shop-front', 'source-label', undefined],
      ['deployer', 'dockerfile-label', 'deploy/Dockerfile'],
      ['worker', 'image-name', 'Dockerfile.worker'],
    ],
  );
  assert.match(found[0].discovery.detail, /api:2: its org\.opencontainers\.image\.revision aaaaaaaaaaaa is a commit of this repository/);
  assert.match(found[1].discovery.detail, /is this repository's remote origin/);
  // Only the bytes can tell: a generic Dockerfile label, a folder named like the image, first.
  assert.deepEqual(candidates.map((c) => [c.repository, c.dockerfiles]), [['web', ['web/Dockerfile']], ['generic', ['Dockerfile']]]);
});

test('discovery: the folder rule needs the only Dockerfile; helix-ubuntu stays one case', () => {
  const one = facts({ dockerfiles: ['Dockerfile'], images: [image('shop:latest'), image('other:latest')] });
  const { found, candidates } = cheapDiscovery(one);
  assert.deepEqual(found.map((x) => [x.image, x.discovery.rule, x.dockerfile]), [['shop', 'folder-name', 'Dockerfile']]);
  assert.deepEqual(candidates.map((c) => c.repository), ['other']);
  assert.deepEqual(cheapDiscovery(facts({ images: [image('shop:latest')] })).found, []);
  // No image at all: a Dockerfile alone.
  assert.equal(dockerfileOnlyDiscovery({ folder: 'My Shop', dockerfiles: ['Dockerfile'], images: [] })?.image, 'myshop');
  assert.equal(dockerfileOnlyDiscovery({ folder: 'x', dockerfiles: ['a/Dockerfile', 'b/Dockerfile'], images: [] }), null);
  const helix = dockerfileOnlyDiscovery({ folder: 'helix', dockerfiles: ['Dockerfile', 'Dockerfile.ubuntu-helix'], images: null });
  assert.deepEqual([helix?.image, helix?.dockerfile, helix?.discovery.rule], ['helix-ubuntu', 'Dockerfile.ubuntu-helix', 'image-name']);
  assert.match(helix!.discovery.detail, /Docker could not be read/);
  const byName = cheapDiscovery(facts({ dockerfiles: ['Dockerfile', 'Dockerfile.ubuntu-helix'], images: [image('helix-ubuntu:1ac9d5')] })).found;
  assert.deepEqual(byName.map((x) => [x.image, x.discovery.rule, x.dockerfile]), [['helix-ubuntu', 'image-name', 'Dockerfile.ubuntu-helix']]);
});

test('discovery: nothing found says what was looked at and how to configure', () => {
  const e = nothingFound({ dockerfiles: ['a/Dockerfile', 'b/Dockerfile'], images: [image('x')] });
  assert.equal(e.code, 'no-target');
  assert.match(e.message, /^No \.provenance\.json, and nothing says which image this repository builds: none of the 1 tagged local image\(s\) is this repository's/);
  assert.match(e.message, /there are 2 Dockerfiles \(a\/Dockerfile, b\/Dockerfile\)/);
  assert.match(e.hint, /"dockerfile":"a\/Dockerfile"/);
  const down = nothingFound({ dockerfiles: [], images: null }, { reason: 'Cannot connect to Docker at unix:///x: socket not found.', hint: 'Start the Docker daemon.' });
  assert.match(down.message, /could not be read \(Cannot connect to Docker/);
  assert.match(down.hint, /Start the Docker daemon/);
});
