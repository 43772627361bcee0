// Verdicts and the consistent interval, from a real git repository's blob walk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { blobId } from '../../src/core/blobId';
import { coverPaths, listTree, presentObjects, walkBlobHistory } from '../../src/core/git/blobHistory';
import { gitSpawnCount } from '../../src/core/git/exec';
import type { FileFact } from '../../src/core/docker/archiveReader';
import type { VerifiableFile } from '../../src/core/inputs/verifiableInputs';
import { enoughFor, judgeContent, newestCommonSpan } from '../../src/core/status/contentVerdicts';
import { FixtureRepo } from '../support/gitFixture';

test('blobId equals git hash-object, for text and binary bytes', (t) => {
  const repo = FixtureRepo.create();
  t.after(() => repo.cleanup());
  for (const content of ['', 'hello\n', Buffer.from([0, 255, 10, 13, 0]).toString('latin1')]) {
    const buf = Buffer.from(content, 'latin1');
    const want = execFileSync('git', ['hash-object', '--stdin'], { cwd: repo.dir, input: buf, encoding: 'utf8' }).trim();
    assert.equal(blobId(buf), want);
  }
});

test('newestCommonSpan: the newest interval shared by every file, none when they disagree', () => {
  // Walk indices: smaller is newer; a span holds from `intro` up to just before `end` (-1: HEAD).
  assert.deepEqual(newestCommonSpan([[{ intro: 5, end: 2 }], [{ intro: 4, end: -1 }]]), { intro: 4, end: 2 });
  assert.equal(newestCommonSpan([[{ intro: 5, end: 3 }], [{ intro: 3, end: -1 }]]), null, 'touching spans share no commit');
  // A reverted file has two spans: the newer combination wins.
  assert.deepEqual(newestCommonSpan([[{ intro: 1, end: -1 }, { intro: 9, end: 6 }], [{ intro: 8, end: -1 }]]), { intro: 1, end: -1 });
  assert.deepEqual(newestCommonSpan([[{ intro: 1, end: -1 }, { intro: 9, end: 6 }], [{ intro: 8, end: 4 }]]), { intro: 8, end: 6 });
});

interface Case {
  repo: FixtureRepo;
  c: string[];
  blobs: Record<string, string[]>;
}

/** a.sh: v1 (c0) v2 (c2) v3 (c5); b.conf: b1 (c0) b2 (c3); go code changes in c1, c4, c6. */
function history(): Case {
  const repo = FixtureRepo.create();
  const c: string[] = [];
  const blobs: Record<string, string[]> = { 'a.sh': [], 'b.conf': [] };
  const step = (msg: string, files: Record<string, string>) => {
    c.push(repo.commit(msg, files));
    for (const [p, v] of Object.entries(files)) if (p in blobs) blobs[p].push(blobId(v));
  };
  step('c0', { 'a.sh': 'v1\n', 'b.conf': 'b1\n', 'main.go': 'g0\n' });
  step('c1', { 'main.go': 'g1\n' });
  step('c2', { 'a.sh': 'v2\n' });
  step('c3', { 'b.conf': 'b2\n' });
  step('c4', { 'main.go': 'g2\n' });
  step('c5', { 'a.sh': 'v3\n' });
  step('c6', { 'main.go': 'g3\n' });
  return { repo, c, blobs };
}

const vf = (path: string, destination: string): VerifiableFile => ({
  path,
  destination,
  alternate: null,
  oid: '',
  via: { dockerfile: 'Dockerfile', line: 1, instruction: '', stage: '0', destination },
  source: { prefix: path, literal: true },
});
const FILES = [vf('a.sh', '/bin/a.sh'), vf('b.conf', '/etc/b.conf')];
const file = (blob: string): FileFact => ({ kind: 'file', blob, size: 0, mode: 0o644 });

async function judge(h: Case, facts: Map<string, FileFact>, against: { sha: string } | null) {
  const head = h.c[h.c.length - 1];
  const paths = new Set(FILES.map((f) => f.path));
  const before = gitSpawnCount();
  const walk = await walkBlobHistory(h.repo.dir, head, paths, [...paths]);
  assert.equal(gitSpawnCount() - before, 1, 'one git process for the whole blob history');
  const headTree = await listTree(h.repo.dir, head, ['a.sh', 'b.conf']);
  const blobsOfFacts = [...facts.values()].flatMap((f) => (f.kind === 'file' ? [f.blob] : []));
  const present = await presentObjects(h.repo.dir, blobsOfFacts);
  const oids = against ? new Map((await listTree(h.repo.dir, against.sha, ['a.sh', 'b.conf'])).map((e) => [e.path, e.oid])) : null;
  return judgeContent({ head, files: FILES, headOids: new Map(headTree.map((e) => [e.path, e.oid])), facts, walk, present }, against && { sha: against.sha, oids: oids! });
}

test('unlabeled bytes: the interval of commits that hold every file, and each file matches there', async (t) => {
  const h = history();
  t.after(() => h.repo.cleanup());
  // a.sh v2 (c2..c4), b.conf b2 (c3..HEAD): consistent with c3..c4.
  const facts = new Map([['/bin/a.sh', file(h.blobs['a.sh'][1])], ['/etc/b.conf', file(h.blobs['b.conf'][1])]]);
  const j = await judge(h, facts, null);
  assert.deepEqual(j.consistentWith, { oldest: h.c[3], newest: h.c[4] });
  assert.deepEqual(j.files.map((f) => f.verdict), ['matches', 'matches']);
  assert.deepEqual(j.files.map((f) => f.matchesHead), [false, true]);
  assert.deepEqual(j.files[0].versionOf, { oldest: h.c[2], newest: h.c[4], replacedBy: h.c[5] });
  assert.equal(j.mixed, false);
});

test('labelled bytes: matches, other-version with the commits that had it, no-version, absent', async (t) => {
  const h = history();
  t.after(() => h.repo.cleanup());
  const head = h.c[6];
  // The label says HEAD, but a.sh is v1 (c0..c1): a lie; b.conf was edited by a later step.
  const facts = new Map([['/bin/a.sh', file(h.blobs['a.sh'][0])], ['/etc/b.conf', file(blobId('edited by RUN\n'))]]);
  const j = await judge(h, facts, { sha: head });
  assert.equal(j.files[0].verdict, 'other-version');
  assert.deepEqual(j.files[0].versionOf, { oldest: h.c[0], newest: h.c[1], replacedBy: h.c[2] });
  assert.equal(j.files[1].verdict, 'no-version');
  const honest = await judge(h, new Map([['/bin/a.sh', file(h.blobs['a.sh'][2])]]), { sha: head });
  assert.deepEqual(honest.files.map((f) => f.verdict), ['matches', 'absent']);
});

test('mixed bytes: files of commits that never coexisted give no interval', async (t) => {
  const h = history();
  t.after(() => h.repo.cleanup());
  // a.sh v1 (c0..c1) with b.conf b2 (c3..): never at the same commit.
  const j = await judge(h, new Map([['/bin/a.sh', file(h.blobs['a.sh'][0])], ['/etc/b.conf', file(h.blobs['b.conf'][1])]]), null);
  assert.equal(j.consistentWith, null);
  assert.equal(j.mixed, true);
});

test('the blob walk stops as soon as the versions are found', async (t) => {
  const h = history();
  t.after(() => h.repo.cleanup());
  const wanted = new Map([['a.sh', h.blobs['a.sh'][2]], ['b.conf', h.blobs['b.conf'][1]]]);
  const walk = await walkBlobHistory(h.repo.dir, h.c[6], new Set(wanted.keys()), [...wanted.keys()], { enough: enoughFor(wanted) });
  assert.equal(walk.complete, false);
  // c5 wrote a.sh v3 (the newest), c3 wrote b.conf b2: the walk ends at c3, before c2 and c0.
  assert.deepEqual(walk.commits.map((c) => c.sha), [h.c[5], h.c[3]]);
  const full = await walkBlobHistory(h.repo.dir, h.c[6], new Set(wanted.keys()), [...wanted.keys()]);
  assert.equal(full.complete, true);
  assert.deepEqual(full.commits.map((c) => c.sha), [h.c[5], h.c[3], h.c[2], h.c[0]]);
});

test('coverPaths: directories folded, top-level files as themselves', () => {
  assert.deepEqual(coverPaths(['desktop/shared/a.sh', 'desktop/shared/b.sh', 'desktop/ubuntu-config/x.conf', 'desktop/ubuntu-config/dconf/y.conf', 'go.mod']), ['desktop/shared', 'desktop/ubuntu-config', 'go.mod']);
});
