// Pure parts of core/docker/state.ts: revision labels and image reference matching.
import assert from 'node:assert/strict';
import { DialError } from '../../src/core/docker/dialStdio';
import { describe, test } from 'node:test';
import { describeFailure, imageBuildTime, imageRefMatches, parseRevisionLabel } from '../../src/core/docker/state';

const REV = 'org.opencontainers.image.revision';
const FULL = '0123456789abcdef0123456789abcdef01234567';

describe('parseRevisionLabel', () => {
  test('absent', () => {
    assert.deepEqual(parseRevisionLabel(null, [REV]), { kind: 'none' });
    assert.deepEqual(parseRevisionLabel(undefined, [REV]), { kind: 'none' });
    assert.deepEqual(parseRevisionLabel({ other: FULL }, [REV]), { kind: 'none' });
    assert.deepEqual(parseRevisionLabel({ [REV]: FULL }, []), { kind: 'none' });
  });

  test('full, short, upper case, whitespace, dirty', () => {
    assert.deepEqual(parseRevisionLabel({ [REV]: FULL }, [REV]), { kind: 'sha', label: REV, raw: FULL, sha: FULL, dirty: false, short: false });
    assert.deepEqual(parseRevisionLabel({ [REV]: ` ${FULL.toUpperCase()}\n` }, [REV]), {
      kind: 'sha', label: REV, raw: ` ${FULL.toUpperCase()}\n`, sha: FULL, dirty: false, short: false,
    });
    assert.deepEqual(parseRevisionLabel({ [REV]: 'abc1234' }, [REV]), { kind: 'sha', label: REV, raw: 'abc1234', sha: 'abc1234', dirty: false, short: true });
    assert.deepEqual(parseRevisionLabel({ [REV]: `${FULL}-dirty` }, [REV]), {
      kind: 'sha', label: REV, raw: `${FULL}-dirty`, sha: FULL, dirty: true, short: false,
    });
    assert.deepEqual(parseRevisionLabel({ [REV]: 'ABC1234-DIRTY' }, [REV]), {
      kind: 'sha', label: REV, raw: 'ABC1234-DIRTY', sha: 'abc1234', dirty: true, short: true,
    });
  });

  test('first present key wins, even when later keys look better', () => {
    assert.deepEqual(parseRevisionLabel({ b: 'abc1234', a: FULL }, ['a', 'b']), { kind: 'sha', label: 'a', raw: FULL, sha: FULL, dirty: false, short: false });
    assert.deepEqual(parseRevisionLabel({ b: FULL }, ['a', 'b']), { kind: 'sha', label: 'b', raw: FULL, sha: FULL, dirty: false, short: false });
    const r = parseRevisionLabel({ a: 'main', b: FULL }, ['a', 'b']);
    assert.equal(r.kind, 'garbage');
  });

  test('garbage with a reason', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /empty/],
      ['   ', /empty/],
      ['abc12', /Too short.*5 hex digits/],
      [`${FULL}0`, /Too long/],
      ['main', /Not a git commit SHA/],
      ['v1.2.3', /Not a git commit SHA/],
      [`sha256:${'a'.repeat(64)}`, /image digest/],
      [`${FULL}-modified`, /Not a git commit SHA/],
      [`${FULL} ${FULL}`, /Not a git commit SHA/],
      ['-dirty', /Not a git commit SHA/],
    ];
    for (const [raw, re] of cases) {
      const r = parseRevisionLabel({ [REV]: raw }, [REV]);
      assert.ok(r.kind === 'garbage', `${JSON.stringify(raw)} should be garbage`);
      assert.equal(r.raw, raw);
      assert.equal(r.label, REV);
      assert.match(r.reason, re, JSON.stringify(raw));
    }
  });
});

describe('imageRefMatches', () => {
  test('repository names', () => {
    assert.ok(imageRefMatches('helix-ubuntu', 'helix-ubuntu:latest'));
    assert.ok(imageRefMatches('helix-ubuntu', 'helix-ubuntu:3f2a1b'));
    assert.ok(imageRefMatches('helix-ubuntu', 'helix-ubuntu'));
    assert.ok(!imageRefMatches('helix-ubuntu', 'helix-ubuntu-dev:latest'));
    assert.ok(!imageRefMatches('helix-ubuntu', 'team/helix-ubuntu:latest'));
    assert.ok(!imageRefMatches('helix-ubuntu', '<none>:<none>'));
    assert.ok(!imageRefMatches('', 'helix-ubuntu:latest'));
  });

  test('Docker Hub long forms', () => {
    assert.ok(imageRefMatches('docker.io/library/helix-ubuntu', 'helix-ubuntu:latest'));
    assert.ok(imageRefMatches('helix-ubuntu', 'docker.io/library/helix-ubuntu:latest'));
    assert.ok(imageRefMatches('library/helix-ubuntu', 'helix-ubuntu:latest'));
    assert.ok(imageRefMatches('docker.io/team/app', 'team/app:1'));
    assert.ok(!imageRefMatches('docker.io/team/app', 'app:1'));
  });

  test('registries with ports and globs', () => {
    assert.ok(imageRefMatches('registry:5000/team/helix-*', 'registry:5000/team/helix-ubuntu:latest'));
    assert.ok(!imageRefMatches('registry:5000/team/helix-*', 'registry:5000/team/other:latest'));
    assert.ok(!imageRefMatches('registry:5000/team/helix-*', 'registry:5000/team/helix-a/b:latest'), '* stays in one segment');
    assert.ok(imageRefMatches('registry:5000/**/helix-?', 'registry:5000/a/b/helix-x:1'));
    assert.ok(imageRefMatches('*/helix-ubuntu', 'team/helix-ubuntu:1'));
    assert.ok(imageRefMatches('helix.ubuntu', 'helix.ubuntu:1'));
    assert.ok(!imageRefMatches('helix.ubuntu', 'helixXubuntu:1'), 'dots are literal');
  });

  test('a name without a registry is the same image under any registry host:port (the last path segment)', () => {
    assert.ok(imageRefMatches('helix-ubuntu', 'registry:5000/helix-ubuntu:1ac9d5'));
    assert.ok(imageRefMatches('helix-ubuntu', 'localhost:5000/helix-ubuntu:x'));
    assert.ok(imageRefMatches('helix-ubuntu', 'localhost/helix-ubuntu'));
    assert.ok(imageRefMatches('helix-ubuntu', 'ghcr.io/team/helix-ubuntu:2'));
    assert.ok(imageRefMatches('helix-ubuntu:1ac9d5', 'registry:5000/helix-ubuntu:1ac9d5'));
    assert.ok(!imageRefMatches('helix-ubuntu:latest', 'registry:5000/helix-ubuntu:1ac9d5'));
    assert.ok(!imageRefMatches('helix-ubuntu', 'registry:5000/helix-ubuntu-dev:1'));
    assert.ok(!imageRefMatches('helix-ubuntu', 'team/helix-ubuntu:latest'), 'a Docker Hub namespace is not a registry');
    assert.ok(!imageRefMatches('registry:5000/helix-ubuntu', 'other:5000/helix-ubuntu:1'), 'a pattern that names its registry keeps it');
    assert.ok(imageRefMatches('team/helix-ubuntu', 'registry:5000/team/helix-ubuntu:1'));
    assert.ok(!imageRefMatches('team/helix-ubuntu', 'registry:5000/helix-ubuntu:1'));
  });

  test('tags in the pattern', () => {
    assert.ok(imageRefMatches('helix-ubuntu:latest', 'helix-ubuntu:latest'));
    assert.ok(imageRefMatches('helix-ubuntu:latest', 'helix-ubuntu'));
    assert.ok(!imageRefMatches('helix-ubuntu:latest', 'helix-ubuntu:3f2a1b'));
    assert.ok(imageRefMatches('helix-*:v*', 'helix-ubuntu:v2'));
    assert.ok(imageRefMatches('registry:5000/helix:v1', 'registry:5000/helix:v1'));
    assert.ok(imageRefMatches('helix', 'helix@sha256:abcd'));
  });
});

describe('describeFailure', () => {
  const unix = { host: 'unix:///var/run/docker.sock', source: 'default' };
  const err = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

  test('unix socket problems say what to do', () => {
    const missing = describeFailure(unix, err('ENOENT'));
    assert.equal(missing.reason, 'Cannot connect to Docker at unix:///var/run/docker.sock: socket not found.');
    assert.match(missing.hint, /Start the Docker daemon/);
    assert.match(describeFailure(unix, err('EACCES')).hint, /docker group/);
    assert.match(describeFailure(unix, err('ECONNREFUSED')).reason, /no daemon is listening/);
  });

  test('ssh and http failures', () => {
    const ssh = { host: 'ssh://me@box', source: 'target' };
    // What the system ssh says on stderr (the Docker tests get these from a real sshd).
    const said = (detail: string) => describeFailure(ssh, new DialError(`ssh to ssh://me@box: ${detail}`, 'ssh', detail));
    const auth = said('me@box: Permission denied (publickey).');
    assert.equal(auth.reason, 'Cannot connect to Docker at ssh://me@box: SSH authentication failed (me@box: Permission denied (publickey)).');
    assert.match(auth.hint, /ssh-agent/);
    assert.match(said('@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n...\nHost key verification failed.').reason, /host key has changed/);
    assert.match(said('No ED25519 host key is known for [box]:22 and you have requested strict checking.\nHost key verification failed.').reason, /host key is unknown/);
    assert.match(said('ssh: Could not resolve hostname box: Name or service not known').reason, /host name not found/);
    assert.match(said('bash: line 1: docker: command not found').reason, /docker is not installed on that host/);
    assert.match(describeFailure(ssh, new DialError('x', 'ssh', '', 'ENOENT')).reason, /the ssh command was not found/);
    const nested = { host: 'docker-exec://sb', source: 'nested', via: { outer: unix, container: 'sb', name: 'sb' } };
    const exec = (detail: string, code?: string) => describeFailure(nested, new DialError(`x: ${detail}`, 'exec', detail, code));
    assert.match(exec('OCI runtime exec failed: exec failed: unable to start container process: exec: "docker": executable file not found in $PATH: unknown').reason, /inside sb: the container has no docker CLI/);
    assert.match(exec('Container 1234 is not running', 'HTTP 409').reason, /inside sb: the container is not running/);
    assert.match(exec('error during connect: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?').reason, /inside sb: its daemon does not answer/);
    const http = describeFailure(unix, Object.assign(new Error('(HTTP code 500) server error - boom '), { statusCode: 500 }));
    assert.match(http.reason, /HTTP 500/);
    assert.ok(describeFailure(unix, 'weird').reason.includes('weird'));
  });
});

test('imageBuildTime: the later of Created and the created label (a fully cached BuildKit build keeps an old Created); an inherited or future label loses', () => {
  const CREATED = 'org.opencontainers.image.created';
  const now = Date.parse('2026-12-01T12:00:00.000Z');
  const engine = '2026-11-20T08:00:00.000Z';
  assert.equal(imageBuildTime({ [CREATED]: '2026-12-01T11:59:00Z' }, engine, now), '2026-12-01T11:59:00.000Z', 'built now, every step cached');
  assert.equal(imageBuildTime({ [CREATED]: '2026-01-01T00:00:00Z' }, engine, now), engine, 'inherited from the base image');
  assert.equal(imageBuildTime({ [CREATED]: '2027-01-01T00:00:00Z' }, engine, now), engine, 'in the future');
  assert.equal(imageBuildTime({ [CREATED]: 'yesterday' }, engine, now), engine);
  assert.equal(imageBuildTime({}, engine, now), engine);
});
