import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeDrift, type DriftInputs, type RevisionFacts } from '../../src/core/status/driftModel';
import type { ContainerInfo, ImageInfo, LabelRevision } from '../../src/core/types';
import type { Verification } from '../../src/core/status/verification';

const HEAD = 'a'.repeat(40);
const OLD = 'b'.repeat(40);
const now = new Date('2026-06-01T12:00:00Z');

const label = (sha: string, dirty = false): LabelRevision => ({ kind: 'sha', label: 'org.opencontainers.image.revision', raw: sha, sha, dirty, short: false });
const image = (rev: LabelRevision): ImageInfo => ({ id: 'sha256:' + '1'.repeat(64), tags: ['helix-ubuntu:latest'], created: '2026-06-01T10:00:00Z', labels: {}, revision: rev, endpoint: 'unix:///x' });
const container = (rev: LabelRevision, started = '2026-06-01T10:05:00Z'): ContainerInfo => ({
  id: 'c'.repeat(64), name: 'desktop', imageId: 'sha256:' + '1'.repeat(64), image: 'helix-ubuntu:latest', started, state: 'running', labels: {}, revision: rev, endpoint: 'unix:///x',
});
const facts = (over: Partial<RevisionFacts>): RevisionFacts => ({
  sha: OLD, label: label(OLD), ahead: 0, behind: 0, relevantCount: 0, relevant: [], oldestRelevantDate: null, ...over,
});

function inputs(over: Partial<DriftInputs>): DriftInputs {
  const rev = label(OLD);
  return {
    now,
    target: { name: 'helix-ubuntu', image: 'helix-ubuntu', dockerfile: 'Dockerfile.ubuntu-helix' },
    head: { sha: HEAD, branch: 'main', detached: false },
    uncommitted: [],
    docker: { reachable: true },
    built: image(rev),
    builtFacts: facts({}),
    running: [container(rev)],
    runningFacts: [facts({})],
    shallow: false,
    partial: false,
    ...over,
  };
}

const relevantCommit = { sha: 'd'.repeat(40), subject: 'export MESA_GL_VERSION_OVERRIDE', date: '2026-06-01T09:00:00.000Z', files: ['desktop/shared/detect-render-node.sh'] };

const cases: { name: string; in: Partial<DriftInputs>; state: string; check?: (s: ReturnType<typeof computeDrift>) => void }[] = [
  { name: 'running == HEAD', in: { runningFacts: [facts({ sha: HEAD })] }, state: 'in-sync' },
  { name: 'behind, nothing relevant', in: { runningFacts: [facts({ ahead: 21 })] }, state: 'drift-irrelevant', check: (s) => assert.equal(s.undeployed.total, 21) },
  {
    name: 'relevant commits not running',
    in: { runningFacts: [facts({ ahead: 21, relevantCount: 3, relevant: [relevantCommit], oldestRelevantDate: '2026-05-31T05:00:00.000Z' })] },
    state: 'drift',
    check: (s) => {
      assert.equal(s.undeployed.relevantCount, 3);
      assert.equal(s.undeployed.oldestRelevantAgeSeconds, 31 * 3600);
      assert.match(s.summary, /3 undeployed commits change files baked into helix-ubuntu/);
    },
  },
  { name: 'uncommitted input changes', in: { uncommitted: ['desktop/shared/x.sh'] }, state: 'uncommitted', check: (s) => assert.equal(s.head.dirty, true) },
  {
    name: 'drift wins over uncommitted',
    in: { uncommitted: ['a.sh'], runningFacts: [facts({ ahead: 2, relevantCount: 1, relevant: [relevantCommit], oldestRelevantDate: relevantCommit.date })] },
    state: 'drift',
  },
  { name: 'diverged', in: { runningFacts: [facts({ ahead: 4, behind: 2, relevantCount: 1 })] }, state: 'diverged', check: (s) => assert.match(s.summary, /2 commit\(s\) only in the image, 4 only in HEAD/) },
  { name: 'unknown revision', in: { runningFacts: [facts({ sha: null })] }, state: 'unknown-revision', check: (s) => assert.match(s.hint ?? '', /git fetch/) },
  {
    name: 'unknown revision in a shallow clone says unshallow',
    in: { shallow: true, runningFacts: [facts({ sha: null })] },
    state: 'unknown-revision',
    check: (s) => assert.match(s.hint ?? '', /--unshallow/),
  },
  { name: 'unlabeled', in: { built: image({ kind: 'none' }), running: [container({ kind: 'none' })], runningFacts: [facts({ sha: null })] }, state: 'unlabeled', check: (s) => assert.equal(s.running[0].labelState, 'unlabeled') },
  {
    name: 'garbage label',
    in: { running: [container({ kind: 'garbage', label: 'org.opencontainers.image.revision', raw: '<b>main</b>', reason: 'not a hex SHA' })], runningFacts: [facts({ sha: null })] },
    state: 'unlabeled',
    check: (s) => {
      assert.match(s.summary, /not a git commit/);
      assert.equal(s.running[0].labelState, 'garbage');
    },
  },
  {
    name: 'no image of a configured target: check its "image" in .provenance.json',
    in: { built: null, builtFacts: null, running: [], runningFacts: [] },
    state: 'no-image',
    check: (s) => assert.equal(s.hint, 'Build it (e.g. docker build -t helix-ubuntu …) or check the target\'s "image" in .provenance.json.'),
  },
  {
    name: 'no image of a discovered target: which rule found it, and how to pin it',
    in: { target: { name: 'app', image: 'app', dockerfile: 'Dockerfile', discovery: { rule: 'folder-name', detail: 'Dockerfile is the only Dockerfile here' } }, built: null, builtFacts: null, running: [], runningFacts: [] },
    state: 'no-image',
    check: (s) => {
      assert.equal(
        s.hint,
        'Build it (provenance build, or docker build -t app -f Dockerfile .). There is no .provenance.json: app was found by the folder name; ' +
          'to build another image name or Dockerfile, pin the target with a .provenance.json such as {"targets":[{"image":"app","dockerfile":"Dockerfile"}]} (in VS Code: Build Provenance: Configure Target…).',
      );
      assert.doesNotMatch(s.hint ?? '', /check the target/);
    },
  },
  { name: 'no container', in: { running: [], runningFacts: [], builtFacts: facts({ ahead: 3, relevantCount: 1 }) }, state: 'no-container', check: (s) => assert.equal(s.undeployed.against, 'built') },
  { name: 'docker unreachable', in: { docker: { reachable: false, reason: 'socket not found', hint: 'start dockerd' } }, state: 'docker-unreachable', check: (s) => assert.equal(s.hint, 'start dockerd') },
  {
    name: 'newest started container is the reference',
    in: {
      running: [container(label(OLD), '2026-06-01T08:00:00Z'), container(label(HEAD), '2026-06-01T11:00:00Z')],
      runningFacts: [facts({ ahead: 5, relevantCount: 2 }), facts({ sha: HEAD })],
    },
    state: 'in-sync',
  },
  {
    name: 'dirty build is reported',
    in: { running: [container(label(HEAD, true))], runningFacts: [facts({ sha: HEAD, label: label(HEAD, true) })] },
    state: 'in-sync',
    check: (s) => assert.equal(s.running[0].dirty, true),
  },
];

for (const c of cases) {
  test(`drift model: ${c.name} → ${c.state}`, () => {
    const s = computeDrift(inputs(c.in));
    assert.equal(s.state, c.state, s.summary);
    assert.ok(s.summary.length > 0);
    c.check?.(s);
  });
}

test('drift model: unbuilt gap is reported separately from the running gap', () => {
  const s = computeDrift(inputs({ builtFacts: facts({ ahead: 7, relevantCount: 2 }), runningFacts: [facts({ ahead: 9, relevantCount: 3, oldestRelevantDate: relevantCommit.date })] }));
  assert.deepEqual(s.unbuilt, { total: 7, relevantCount: 2 });
  assert.equal(s.undeployed.total, 9);
  assert.equal(s.undeployed.against, 'running');
});

test('drift model: once the newest image holds every relevant commit, the hint is to run it (provenance deploy), not to build again', () => {
  const running = [facts({ ahead: 3, relevantCount: 1, relevant: [relevantCommit], oldestRelevantDate: relevantCommit.date })];
  const unbuilt = computeDrift(inputs({ builtFacts: facts({ ahead: 3, relevantCount: 1 }), runningFacts: running }));
  assert.equal(unbuilt.hint, 'Build + smoke test, then run the new image.');
  const atHead = inputs({ built: image(label(HEAD)), builtFacts: facts({ sha: HEAD }), runningFacts: running });
  const withDeploy = computeDrift({ ...atHead, deployStep: true });
  assert.equal(withDeploy.state, 'drift');
  assert.equal(withDeploy.hint, 'The newest image helix-ubuntu:latest has these changes: run it with provenance deploy (in the editor: Run the New Image).');
  const without = computeDrift(atHead);
  assert.match(without.hint ?? '', /^The newest image helix-ubuntu:latest has these changes: run it in place of the running container, or add a "deploy" step/);
  // A dirty build of HEAD is not what HEAD says: build again.
  const dirty = computeDrift({ ...inputs({ built: image(label(HEAD, true)), builtFacts: facts({ sha: HEAD, label: label(HEAD, true) }), runningFacts: running }), deployStep: true });
  assert.equal(dirty.hint, 'Build + smoke test, then run the new image.');
});

// ------------------------------------------------------------------ content verification


const verification = (over: Partial<Verification>): Verification => ({
  state: 'consistent', reason: null, checked: 21, matched: 21, consistentWith: { oldest: OLD, newest: OLD }, files: [], against: OLD, source: 'container', uncertain: { count: 0, commits: [] }, ...over,
});

test('drift model: an unlabeled image whose bytes fit an interval is judged at its newest commit, marked as content-derived', () => {
  const none: LabelRevision = { kind: 'none' };
  const v = verification({ uncertain: { count: 2, commits: [] } });
  const s = computeDrift(inputs({
    built: image(none), running: [container(none)], builtFacts: null, builtVerification: null,
    runningFacts: [facts({ ahead: 3, relevantCount: 1, relevant: [relevantCommit], oldestRelevantDate: relevantCommit.date })],
    runningVerification: [v],
  }));
  assert.equal(s.state, 'drift');
  assert.equal(s.running[0].revision, OLD);
  assert.equal(s.running[0].revisionSource, 'content');
  assert.equal(s.running[0].labelState, 'unlabeled');
  assert.equal(s.built?.revisionSource, null, 'the built image was not verified: no revision for it');
  assert.match(s.summary, /derived from its content: 21 baked files match it/);
  assert.match(s.summary, /2 earlier commits change only inputs whose bytes cannot be read back/);
});

test('drift model: unverifiable bytes leave an unlabeled image unlabeled, with the reason', () => {
  const none: LabelRevision = { kind: 'none' };
  const s = computeDrift(inputs({ built: image(none), running: [container(none)], runningFacts: [facts({ sha: null })], runningVerification: [verification({ state: 'unverifiable', reason: 'No file equals a committed version.', consistentWith: null, against: null })] }));
  assert.equal(s.state, 'unlabeled');
  assert.match(s.summary, /could not tell either: No file equals a committed version/);
  assert.equal(s.running[0].revisionSource, null);
});

test('drift model: bytes that contradict the label are never in sync, and the message names the file', () => {
  const other = { path: 'desktop/shared/detect-render-node.sh', destination: '/usr/local/bin/detect-render-node.sh', verdict: 'other-version' as const, blob: 'e'.repeat(40), matchesHead: false, versionOf: { oldest: 'f'.repeat(40), newest: OLD, replacedBy: '9'.repeat(40) }, reason: null };
  const lying = verification({ state: 'contradicts-label', files: [other], matched: 20, against: HEAD, consistentWith: null });
  const s = computeDrift(inputs({ built: image(label(HEAD)), running: [container(label(HEAD))], runningFacts: [facts({ sha: HEAD })], runningVerification: [lying] }));
  assert.equal(s.state, 'contradicts-label');
  assert.match(s.summary, /labelled aaaaaaa, but its bytes contradict the label: desktop\/shared\/detect-render-node\.sh is the version of fffffffff\.\.999999999\^/);
  assert.equal(s.running[0].revisionSource, 'label', 'no interval: the label is all there is');
});
