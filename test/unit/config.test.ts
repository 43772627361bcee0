import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, defaultConfig, loadConfig, parseConfig, selectTargets } from '../../src/core/config';
import { FixtureRepo } from '../support/gitFixture';

test('config: zero-config default is one helix-ubuntu target with the OCI revision label', () => {
  const cfg = defaultConfig();
  assert.equal(cfg.file, null);
  assert.equal(cfg.targets.length, 1);
  assert.equal(cfg.targets[0].image, 'helix-ubuntu');
  assert.equal(cfg.targets[0].dockerfile, undefined);
  assert.deepEqual(cfg.targets[0].revisionLabels, ['org.opencontainers.image.revision']);
  assert.equal(cfg.targets[0].context, '');
});

test('config: JSONC with comments and trailing commas, defaults filled in', () => {
  const cfg = parseConfig(
    `{
      // the desktop image
      "targets": [
        { "image": "registry.example/team/helix-ubuntu", "dockerfile": "./Dockerfile.ubuntu-helix", "context": "desktop/",
          "buildArgs": {"GO_VERSION": "1.22"}, "docker": {"endpoints": ["unix:///run/user/1000/docker.sock"]}, },
      ],
    }`,
    '/r/.provenance.json',
  );
  const t = cfg.targets[0];
  assert.equal(t.name, 'helix-ubuntu');
  assert.equal(t.dockerfile, 'Dockerfile.ubuntu-helix');
  assert.equal(t.context, 'desktop');
  assert.deepEqual(t.buildArgs, { GO_VERSION: '1.22' });
  assert.deepEqual(t.endpoints, ['unix:///run/user/1000/docker.sock']);
});

test('config: syntax errors name line and column', () => {
  assert.throws(() => parseConfig('{\n  "targets": [\n    { "image": "x" \n  ]\n}', '/r/.provenance.json'), (e: Error) => {
    assert.ok(e instanceof ConfigError);
    assert.match(e.message, /\.provenance\.json:4:\d+: invalid JSON/);
    return true;
  });
});

test('config: schema violations say where and what', () => {
  assert.throws(() => parseConfig('{"targets":[{"dockerfile":"D"}]}', null), /must have required property 'image'/);
  assert.throws(() => parseConfig('{"targets":[{"image":"x","colour":"red"}]}', null), /must NOT have additional properties "colour"/);
  assert.throws(() => parseConfig('{"targets":[{"image":"x","smoke":{"ready":{"http":"http://10.0.0.1/"}}}]}', null), /\/targets\/0\/smoke\/ready\/http/);
  assert.throws(() => parseConfig('{"targets":[]}', null), /must NOT have fewer than 1 items/);
});

test('config: duplicate target names and paths outside the repo are rejected', () => {
  assert.throws(() => parseConfig('{"targets":[{"image":"a/x"},{"image":"b/x"}]}', null), /two targets are named "x"/);
  assert.throws(() => parseConfig('{"targets":[{"image":"x","dockerfile":"../D"}]}', null), /must be a path inside the repository/);
});

test('config: selectTargets by name, unknown name lists the known ones, overrides apply', () => {
  const cfg = parseConfig('{"targets":[{"image":"a"},{"image":"b","dockerfile":"B.Dockerfile"}]}', null);
  assert.deepEqual(selectTargets(cfg, undefined).map((t) => t.name), ['a', 'b']);
  assert.deepEqual(selectTargets(cfg, 'b').map((t) => t.dockerfile), ['B.Dockerfile']);
  assert.throws(() => selectTargets(cfg, 'c'), /No target named "c". Known targets: a, b/);
  const [o] = selectTargets(cfg, 'b', { dockerfile: 'other/Dockerfile', context: 'other' });
  assert.equal(o.dockerfile, 'other/Dockerfile');
  assert.equal(o.context, 'other');
  assert.equal(o.image, 'b');
  // Several targets and no --target: a flag that changes one must say which (no silent first).
  assert.throws(() => selectTargets(cfg, undefined, { dockerfile: 'other/Dockerfile' }), /--dockerfile changes one target, and there are 2 \(a, b\)\. Say which with --target NAME, e\.g\. --target a --dockerfile/);
  const filed = { ...cfg, file: '/r/.provenance.json' };
  assert.throws(() => selectTargets(filed, undefined, { image: 'x', context: 'c' }), /--image and --context change one target, and there are 2/);
  // Without a configuration, --image names the one target to look at.
  assert.deepEqual(selectTargets(cfg, undefined, { image: 'other-app' }).map((t) => t.image), ['other-app']);
});

test('config: loadConfig reads the committed file, or falls back to zero-config', (t) => {
  const repo = FixtureRepo.create();
  t.after(() => repo.cleanup());
  assert.equal(loadConfig(repo.dir).file, null);
  repo.write('.provenance.json', '{"targets":[{"name":"desk","image":"helix-ubuntu","dockerfile":"Dockerfile.ubuntu-helix"}]}');
  const cfg = loadConfig(repo.dir);
  assert.equal(cfg.targets[0].name, 'desk');
  assert.ok(cfg.file?.endsWith('.provenance.json'));
});
