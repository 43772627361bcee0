// The result cache, property-style, on repositories made by the bench's generator: after every
// change of history (new commits, merges, a rebase, a reset back, a force-pushed branch, a
// Dockerfile or ignore-file change) and of the cache itself (corrupt files, a cache from another
// clone), the status and the diff answered with the cache are byte for byte the cold answers
// (PROVENANCE_NO_CACHE=1). The counters say which path each answer took, so a cache that never
// hits cannot pass for one that works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseRevisionLabel } from '../../src/core/docker/state';
import { cacheKey, EntryStore, verify } from '../../src/core/git/cacheFiles';
import { gitSpawnCount, recentGitSpawns } from '../../src/core/git/exec';
import { findRepo } from '../../src/core/git/queries';
import { computeDiff, computeInputs } from '../../src/core/status/rangeQueries';
import { ResultMemo, resultCacheCounters } from '../../src/core/status/resultCache';
import { computeTargetStatus } from '../../src/core/status/statusQuery';
import { openWorkspace } from '../../src/core/status/workspace';
import type { DockerState } from '../../src/core/types';
import { FixtureRepo, tempDir } from '../support/gitFixture';

const NOW = new Date('2031-01-01T00:00:00Z');
const LABEL = 'org.opencontainers.image.revision';
const START = 1_700_000_000;

/** The bench's generator (an ES module). */
const gen = import('../../bench/gen-repo.mjs');

/** Docker as the status sees it: the newest image built from `built`, a container running `running`. */
function docker(built: string, running: string | null = built): DockerState {
  const endpoint = 'unix:///nonexistent/docker.sock';
  const image = (rev: string, k: number) => ({
    id: `sha256:${String(k).repeat(64).slice(0, 64)}`,
    tags: [`bp-bench-helix-ubuntu:${rev.slice(0, 12)}`],
    created: new Date(Date.UTC(2030, 0, 1, k)).toISOString(),
    labels: { [LABEL]: rev },
    revision: parseRevisionLabel({ [LABEL]: rev }, [LABEL]),
    endpoint,
  });
  const images = [image(built, 2)];
  if (running && running !== built) images.push(image(running, 1));
  const containers = running
    ? [{ id: 'c'.repeat(64), name: 'desktop', imageId: images[images.length - 1].id, image: 'bp-bench-helix-ubuntu', started: '2030-01-01T05:00:00.000Z', state: 'running', labels: { [LABEL]: running }, revision: parseRevisionLabel({ [LABEL]: running }, [LABEL]), endpoint }]
    : [];
  return { reachable: true, endpoint: { host: endpoint, source: 'default' }, images, containers };
}

class Scenario {
  readonly fx: FixtureRepo;
  clock: number;
  memo: ResultMemo | undefined = new ResultMemo();

  constructor(readonly dir: string, commits: number) {
    this.fx = FixtureRepo.at(dir);
    this.clock = START + (commits + 1) * 600;
  }

  git(...args: string[]): string {
    this.fx.setClock(this.clock);
    return this.fx.git(...args);
  }

  /** A commit 10 minutes after the last; `files` repo-relative → content. */
  commit(message: string, files: Record<string, string>): string {
    this.fx.setClock(this.clock);
    this.clock += 600;
    return this.fx.commit(message, files);
  }

  head(): string {
    return this.fx.head();
  }

  rev(r: string): string {
    return this.fx.git('rev-parse', r);
  }

  async status(state: DockerState, opts: { cold?: boolean; memo?: boolean } = {}): Promise<string> {
    return withCache(!opts.cold, async () => {
      const ws = await openWorkspace(this.dir);
      const s = await computeTargetStatus(ws, ws.targets[0], { docker: state, now: NOW, memo: opts.cold || opts.memo === false ? undefined : this.memo });
      return JSON.stringify(s.snapshot);
    });
  }

  async diff(from: string, to: string, opts: { cold?: boolean } = {}): Promise<string> {
    return withCache(!opts.cold, async () => {
      const ws = await openWorkspace(this.dir);
      const { inputs: _inputs, ...d } = await computeDiff(ws, ws.targets[0], from, to, { memo: opts.cold ? undefined : this.memo });
      return JSON.stringify(d);
    });
  }

  /**
   * Status and diff with the cache (in memory and on disk, then from disk alone, as the CLI) and
   * cold: byte for byte the same. Returns how the cached status got its answers.
   */
  async same(state: DockerState, what: string, diffFrom?: string): Promise<Counts> {
    const before = counts();
    const cached = await this.status(state);
    const path1 = delta(before);
    const cold = await this.status(state, { cold: true });
    assert.equal(cached, cold, `${what}: the cached status differs from the cold one`);
    assert.equal(await this.status(state, { memo: false }), cold, `${what}: the status read from disk differs from the cold one`);
    if (diffFrom) {
      const d = await this.diff(diffFrom, 'HEAD');
      assert.equal(d, await this.diff(diffFrom, 'HEAD', { cold: true }), `${what}: the cached diff differs from the cold one`);
      assert.equal(await this.diff(diffFrom, 'HEAD'), d, `${what}: a repeated diff differs`);
    }
    return path1;
  }

  /** The cache folder (results, hints) is forgotten by memory too: the next run reads only disk. */
  forgetMemory(): void {
    this.memo = new ResultMemo();
  }
}

type Counts = ReturnType<typeof counts>;
const counts = () => ({ ...resultCacheCounters });
function delta(before: Counts): Counts {
  const now = counts();
  return Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v - before[k as keyof Counts]])) as Counts;
}

async function withCache<T>(on: boolean, fn: () => Promise<T>): Promise<T> {
  const was = process.env.PROVENANCE_NO_CACHE;
  if (on) delete process.env.PROVENANCE_NO_CACHE;
  else process.env.PROVENANCE_NO_CACHE = '1';
  try {
    return await fn();
  } finally {
    if (was === undefined) delete process.env.PROVENANCE_NO_CACHE;
    else process.env.PROVENANCE_NO_CACHE = was;
  }
}

/** Generated repositories, made once and cloned per test (a local clone shares the objects). */
const made = new Map<string, Promise<{ dir: string; shas: string[]; head: number }>>();
function generated(name: string, opts: { commits: number; seed: number; merges?: number }): Promise<{ dir: string; shas: string[]; head: number }> {
  let p = made.get(name);
  if (!p) {
    const dir = path.join(tempDir('bp-results-gen-'), 'repo');
    p = gen.then((g) => g.generateRepo(dir, { ...opts, startEpoch: START }, { pack: false })).then((r) => ({ dir, ...r }));
    made.set(name, p);
  }
  return p;
}

async function scenario(name: string, opts: { commits: number; seed: number; merges?: number }): Promise<Scenario & { shas: string[] }> {
  const g = await generated(name, opts);
  const dir = path.join(tempDir('bp-results-'), 'repo');
  execFileSync('git', ['clone', '-q', '--no-hardlinks', g.dir, dir]);
  for (const b of execFileSync('git', ['-C', g.dir, 'for-each-ref', '--format=%(refname:short)', 'refs/heads/'], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
    if (b !== 'main') execFileSync('git', ['-C', dir, 'branch', '-q', b, `origin/${b}`]);
  }
  execFileSync('git', ['-C', dir, 'config', 'commit.gpgsign', 'false']);
  const s = new Scenario(dir, opts.commits) as Scenario & { shas: string[] };
  s.shas = g.shas;
  return s;
}

const RELEVANT = (n: number) => ({ [`api/pkg/cache/generated_${n}.go`]: `package cache // ${n}\n` });
const IRRELEVANT = (n: number) => ({ [`docs/notes/cache-${n}.md`]: `# note ${n}\n` });

test('linear history: repeated, new commits on HEAD, and a deployed revision further along are answered from the cache', async () => {
  // Over 2,000 commits between the deployed revision and HEAD: the cold walk splits in halves.
  const s = await scenario('linear', { commits: 2100, seed: 11 });
  const R = s.shas[60];
  let c = await s.same(docker(R), 'first run', R);
  assert.equal(c.cold, 1, JSON.stringify(c));
  c = await s.same(docker(R), 'repeated', R);
  assert.equal(c.exact, 1, `a repeated status is an exact hit: ${JSON.stringify(c)}`);
  s.commit('api: one relevant commit', RELEVANT(1));
  c = await s.same(docker(R), 'one new commit', R);
  assert.equal(c.head, 1, `one new commit extends the cached range: ${JSON.stringify(c)}`);
  s.commit('docs: irrelevant', IRRELEVANT(2));
  s.commit('api: relevant', RELEVANT(3));
  s.commit('docs: irrelevant', IRRELEVANT(4));
  c = await s.same(docker(R), 'three new commits', R);
  assert.equal(c.head, 1, JSON.stringify(c));
  // Several cached HEADs of the same range: the newest one is extended (one commit walked).
  const last = s.head();
  s.commit('api: one more', RELEVANT(5));
  const spawned = gitSpawnCount();
  const before = counts();
  await s.status(docker(R));
  assert.equal(delta(before).head, 1);
  const listings = recentGitSpawns().slice(-(gitSpawnCount() - spawned)).filter((l) => /^rev-list --parents [0-9a-f]{40}\.\./.test(l));
  assert.deepEqual(listings, [`rev-list --parents ${last}..${s.head()}`], 'extended from the newest cached HEAD');
  await s.same(docker(R), 'one more commit, several cached HEADs', R);
  s.forgetMemory();
  c = await s.same(docker(R), 'from disk only');
  assert.equal(c.exact, 1, JSON.stringify(c));
  // The deployed revision moves on inside the cached chain: cut, no walk.
  for (const [k, rev] of [[1, s.shas[1500]], [2, s.rev('HEAD~2')], [3, s.rev('HEAD~30')]] as const) {
    c = await s.same(docker(rev), `deployed revision moved forward (${k})`);
    assert.equal(c.from, 1, `${k}: ${JSON.stringify(c)}`);
  }
  // Built and running differ: both facts from the cache.
  c = await s.same(docker(s.shas[1900], R), 'built ahead of what runs');
  assert.equal(c.cold, 0, JSON.stringify(c));
  // In sync, then three commits: extended from the empty range, then cut at a deployed revision.
  const synced = s.head();
  await s.same(docker(synced), 'in sync');
  for (let k = 0; k < 3; k++) s.commit(`after the sync ${k}`, k === 1 ? IRRELEVANT(40 + k) : RELEVANT(40 + k));
  c = await s.same(docker(synced), 'three commits after being in sync');
  assert.equal(c.head, 1, JSON.stringify(c));
  c = await s.same(docker(s.rev('HEAD~1')), 'then deployed one behind');
  assert.equal(c.from, 1, JSON.stringify(c));
});

test('merges: HEAD moving on over a range with merges extends it; a merge on HEAD, a diverged deployment and a revision inside a non-linear range walk cold', async () => {
  const s = await scenario('merges', { commits: 700, seed: 23, merges: 0.08 });
  const R = s.shas[120];
  assert.ok(Number(s.git('rev-list', '--merges', '--count', `${R}..HEAD`)) > 5, 'the range has merges');
  await s.same(docker(R), 'first run', R);
  s.commit('api: on top of merges', RELEVANT(1));
  let c = await s.same(docker(R), 'a commit on top of a range with merges', R);
  assert.equal(c.head, 1, JSON.stringify(c));
  // A merge with older side commits, interleaved in time with main's.
  const base = s.rev('HEAD~3');
  s.git('checkout', '-q', '-b', 'topic', base);
  s.commit('api: topic 1', RELEVANT(2));
  s.commit('docs: topic 2', IRRELEVANT(3));
  s.git('checkout', '-q', 'main');
  s.commit('api: main meanwhile', RELEVANT(4));
  s.git('merge', '-q', '--no-ff', '-m', 'Merge topic', 'topic');
  c = await s.same(docker(R), 'HEAD moved by a merge', R);
  assert.equal(c.head, 0, `a merge is never an extension: ${JSON.stringify(c)}`);
  s.commit('api: after the merge', RELEVANT(5));
  c = await s.same(docker(R), 'a commit after the merge', R);
  assert.equal(c.head, 1, JSON.stringify(c));
  // A deployed revision further along, in a range with merges: no chain to cut.
  c = await s.same(docker(s.shas[400]), 'deployed revision moved forward over merges');
  assert.equal(c.from, 0, JSON.stringify(c));
  // Diverged: the image comes from a branch HEAD does not have.
  s.git('checkout', '-q', '-b', 'hotfix', s.shas[300]);
  const hot = s.commit('api: hotfix', RELEVANT(6));
  s.git('checkout', '-q', 'main');
  await s.same(docker(hot), 'diverged deployment', hot);
  s.commit('docs: on main', IRRELEVANT(7));
  c = await s.same(docker(hot), 'diverged, and HEAD moved on', hot);
  assert.equal(c.head, 1, JSON.stringify(c));
});

test('a rebase, a reset back and a force-pushed branch are walked cold, and still agree', async () => {
  const s = await scenario('rewrites', { commits: 500, seed: 37, merges: 0.05 });
  const R = s.shas[200];
  s.git('checkout', '-q', '-b', 'feature', s.rev('HEAD~15'));
  for (let k = 0; k < 4; k++) s.commit(`feature ${k}`, k % 2 ? IRRELEVANT(10 + k) : RELEVANT(10 + k));
  await s.same(docker(R), 'on the feature branch', R);
  s.git('rebase', '-q', 'main');
  let c = await s.same(docker(R), 'after a rebase onto main', R);
  assert.equal(c.head + c.from + c.exact, 0, `a rebase is walked cold: ${JSON.stringify(c)}`);
  s.git('reset', '-q', '--hard', 'HEAD~6');
  c = await s.same(docker(R), 'after a reset back', R);
  assert.equal(c.head + c.from + c.exact, 0, JSON.stringify(c));
  s.commit('after the reset', RELEVANT(20));
  await s.same(docker(R), 'a commit after the reset', R);

  // The image is built from a release branch that is force-pushed: old tip, then a rewritten one.
  s.git('checkout', '-q', 'main');
  s.git('branch', '-q', '-f', 'release', s.shas[450]);
  s.git('checkout', '-q', 'release');
  s.commit('release: fix', RELEVANT(30));
  const oldTip = s.commit('release: docs', IRRELEVANT(31));
  s.git('checkout', '-q', 'main');
  await s.same(docker(oldTip), 'deployed from the release branch', oldTip);
  s.git('checkout', '-q', 'release');
  s.git('reset', '-q', '--hard', s.shas[440]);
  const newTip = s.commit('release: the fix, rewritten', RELEVANT(32));
  s.git('checkout', '-q', 'main');
  await s.same(docker(newTip), 'deployed from the force-pushed release branch', newTip);
  await s.same(docker(newTip, oldTip), 'the new build, the old one still running');
  // HEAD itself on the rewritten branch.
  s.git('checkout', '-q', 'release');
  await s.same(docker(R), 'HEAD on the rewritten branch', R);
});

test('a Dockerfile change that changes the input set, and an ignore-file change, are new input sets: walked cold, then extended', async () => {
  const s = await scenario('inputs', { commits: 400, seed: 41 });
  const R = s.shas[150];
  await s.same(docker(R), 'first run', R);
  const dockerfile = readFileSync(path.join(s.dir, 'Dockerfile.ubuntu-helix'), 'utf8');
  // frontend/ goes into the final image from now on: commits to it become relevant.
  s.commit('build: ship the frontend', { 'Dockerfile.ubuntu-helix': dockerfile.replace('ENTRYPOINT', 'COPY frontend/ /srv/frontend/\nENTRYPOINT') });
  let c = await s.same(docker(R), 'Dockerfile changed the input set', R);
  assert.equal(c.head, 0, `another input set is never an extension: ${JSON.stringify(c)}`);
  s.commit('frontend: now relevant', { 'frontend/src/new.tsx': 'export {}\n' });
  c = await s.same(docker(R), 'a commit after the Dockerfile change', R);
  assert.equal(c.head, 1, JSON.stringify(c));
  // The ignore file stops excluding Markdown: docs under api/ become inputs.
  const ignore = readFileSync(path.join(s.dir, 'Dockerfile.ubuntu-helix.dockerignore'), 'utf8');
  s.commit('build: markdown goes in too', { 'Dockerfile.ubuntu-helix.dockerignore': ignore.replace('**/*.md\n', '') });
  c = await s.same(docker(R), 'ignore file changed', R);
  assert.equal(c.head, 0, JSON.stringify(c));
  s.commit('api: a readme', { 'api/pkg/cache/README.md': '# cache\n' });
  await s.same(docker(R), 'a commit after the ignore-file change', R);
  // An exception git pathspecs cannot express: the walk narrows a superset in JS (its key too).
  s.commit('build: one package keeps its tests', { 'Dockerfile.ubuntu-helix.dockerignore': `${ignore}!api/pkg/cache/*_test.go\n` });
  const ws = await openWorkspace(s.dir);
  const inputs = await computeInputs(ws, ws.targets[0]);
  assert.ok(inputs.pathspecsSuperset?.length, `the pathspecs are a superset here: ${JSON.stringify(inputs)}`);
  c = await s.same(docker(R), 'an ignore exception only the JS filter can judge', R);
  assert.equal(c.head, 0, JSON.stringify(c));
  s.commit('api: a kept test', { 'api/pkg/cache/kept_test.go': 'package cache\n' });
  c = await s.same(docker(R), 'a commit that only the filter says is relevant', R);
  assert.equal(c.head, 1, JSON.stringify(c));
  s.commit('api: an ignored test', { 'api/pkg/alpha/dropped_test.go': 'package alpha\n' });
  c = await s.same(docker(R), 'a commit that the filter drops', R);
  assert.equal(c.head, 1, JSON.stringify(c));
  // The deployed revision moves past the Dockerfile change: the input set at both ends differs again.
  await s.same(docker(s.rev('HEAD~1')), 'deployed after the changes');
});

test('corrupt, foreign and planted cache files cost a walk, never a wrong answer; deleting the folder gives a cold run', async () => {
  const s = await scenario('corrupt', { commits: 400, seed: 53 });
  const R = s.shas[100];
  const dir = path.join(s.dir, '.git', 'build-provenance', 'results');
  const entries = () => readdirSync(dir).filter((n) => n.endsWith('.json'));
  const damage: [string, (text: string) => string | null][] = [
    ['truncated', (t) => t.slice(0, Math.floor(t.length / 2))],
    ['empty', () => ''],
    ['a flipped digit in the body', (t) => t.replace(/"relevantCount":(\d)/, (_m, d) => `"relevantCount":${(Number(d) + 1) % 10}`)],
    ['another HMAC', (t) => t.replace(/^bp-cache-v1 [0-9a-f]{64}/, `bp-cache-v1 ${'0'.repeat(64)}`)],
    ['no header', (t) => t.slice(t.indexOf('\n') + 1)],
    ['garbage', () => '\u0000\u0001not json at all'],
    ['valid JSON of another shape, signed by another key', () => null],
  ];
  await s.same(docker(R), 'before the damage', R);
  for (const [what, fn] of damage) {
    // The entries are there (again), written whole; a damaged diff entry was no answer either.
    await s.status(docker(R));
    assert.equal(await s.diff(R, 'HEAD'), await s.diff(R, 'HEAD', { cold: true }), `after ${what}: the diff`);
    assert.ok(entries().length > 0, 'entries were written');
    for (const n of entries()) {
      const file = path.join(dir, n);
      const t = readFileSync(file, 'utf8');
      const out = fn(t);
      if (out === null) {
        const body = JSON.parse(t.slice(t.indexOf('\n') + 1));
        if (body.facts) body.facts.relevantCount = 0;
        if (body.relevant) body.relevant = [];
        writeFileSync(file, `bp-cache-v1 ${'ab'.repeat(32)}\n${JSON.stringify(body)}`);
      } else writeFileSync(file, out);
    }
    s.forgetMemory();
    const c = await s.same(docker(R), what, what === 'truncated' ? R : undefined);
    assert.equal(c.exact, 0, `${what}: a damaged entry is never an answer: ${JSON.stringify(c)}`);
  }
  // A symlinked entry and a symlinked folder are not followed.
  await s.same(docker(R), 'before the symlinks', R);
  const elsewhere = tempDir('bp-results-elsewhere-');
  for (const n of entries()) {
    cpSync(path.join(dir, n), path.join(elsewhere, n));
    rmSync(path.join(dir, n));
    symlinkSync(path.join(elsewhere, n), path.join(dir, n));
  }
  s.forgetMemory();
  let c = await s.same(docker(R), 'symlinked entries', R);
  assert.equal(c.exact, 0, JSON.stringify(c));
  rmSync(dir, { recursive: true });
  symlinkSync(elsewhere, dir);
  s.forgetMemory();
  c = await s.same(docker(R), 'a symlinked results folder', R);
  assert.equal(c.exact, 0, JSON.stringify(c));
  assert.ok(!readdirSync(elsewhere).some((n) => n.endsWith('.tmp')), 'nothing was written through the symlink');
  rmSync(dir);
  // Deleting the folder: a cold run.
  await s.same(docker(R), 'rebuilt', R);
  rmSync(path.join(s.dir, '.git', 'build-provenance'), { recursive: true });
  s.forgetMemory();
  c = await s.same(docker(R), 'after deleting build-provenance/', R);
  assert.equal(c.cold, 1, JSON.stringify(c));
  // PROVENANCE_NO_CACHE writes nothing.
  rmSync(path.join(s.dir, '.git', 'build-provenance'), { recursive: true });
  await s.status(docker(R), { cold: true });
  await s.diff(R, 'HEAD', { cold: true });
  assert.ok(!existsSync(path.join(s.dir, '.git', 'build-provenance')), 'PROVENANCE_NO_CACHE=1 wrote no cache');
});

test('a cache from another repository (a copied .git, a shallow clone, another machine) never gives its answers', async () => {
  const a = await scenario('foreign', { commits: 400, seed: 67 });
  const R = a.shas[120];
  // B starts as a copy of A's .git, then both go their own ways.
  const bDir = path.join(tempDir('bp-results-copy-'), 'repo');
  cpSync(a.dir, bDir, { recursive: true });
  const b = new Scenario(bDir, 400);
  a.commit('a: relevant', RELEVANT(1));
  b.commit('b: irrelevant', IRRELEVANT(2));
  b.commit('b: relevant', RELEVANT(3));
  await a.same(docker(R), 'A', R);
  await b.same(docker(R), 'B before the copy', R);
  const copyCache = (from: string, to: string) => {
    rmSync(path.join(to, '.git', 'build-provenance'), { recursive: true, force: true });
    cpSync(path.join(from, '.git', 'build-provenance'), path.join(to, '.git', 'build-provenance'), { recursive: true });
  };
  copyCache(a.dir, b.dir);
  b.forgetMemory();
  await b.same(docker(R), "B with A's cache", R);
  b.commit('b: more', RELEVANT(4));
  await b.same(docker(R), "B moved on with A's cache", R);
  // A's HEAD in B's history: the same commits, so the same answer (keys are commit ids).
  await b.same(docker(a.shas[200]), "B, deployed at a commit both have, with A's cache", a.shas[200]);

  // A shallow clone of A, with A's full-history cache copied in.
  const shallow = path.join(tempDir('bp-results-shallow-'), 'repo');
  execFileSync('git', ['clone', '-q', '--depth', '150', `file://${a.dir}`, shallow]);
  execFileSync('git', ['-C', shallow, 'fetch', '-q', '--depth', '150', 'origin', R]);
  const sh = new Scenario(shallow, 400);
  await a.same(docker(R), 'A again', R);
  copyCache(a.dir, shallow);
  const c = await sh.same(docker(R), "a shallow clone with A's full-history cache");
  assert.equal(c.exact + c.head + c.from, 0, `another shallow boundary is another history: ${JSON.stringify(c)}`);

  // Another machine (another key): its entries are not ours.
  const other = tempDir('bp-results-otherhome-');
  const was = process.env.XDG_CACHE_HOME;
  process.env.XDG_CACHE_HOME = other;
  try {
    a.forgetMemory();
    const c2 = await a.same(docker(R), 'A read with another user key', R);
    assert.equal(c2.exact, 0, JSON.stringify(c2));
  } finally {
    if (was === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = was;
  }
});

test('random walks over history and the cache: every cached answer is the cold answer', async () => {
  for (const seed of [3, 8]) {
    const s = await scenario(`walk-${seed}`, { commits: 300, seed: 1000 + seed, merges: seed % 2 ? 0.06 : 0 });
    const rnd = (await gen).mulberry32(seed);
    const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
    let built = s.shas[Math.floor(50 + rnd() * 150)];
    let running: string | null = built;
    let n = 0;
    const ops: Record<string, () => void> = {
      commit: () => void s.commit(`walk ${n}`, rnd() < 0.5 ? RELEVANT(n) : IRRELEVANT(n)),
      commits: () => {
        for (let k = 0; k < 1 + Math.floor(rnd() * 5); k++) s.commit(`walk ${n}.${k}`, rnd() < 0.4 ? RELEVANT(n * 10 + k) : IRRELEVANT(n * 10 + k));
      },
      merge: () => {
        s.git('checkout', '-q', '-b', `w${n}`, s.rev('HEAD~2'));
        s.commit(`side ${n}`, RELEVANT(n));
        s.git('checkout', '-q', '-');
        s.commit(`main ${n}`, IRRELEVANT(n));
        s.git('merge', '-q', '--no-ff', '-m', `merge ${n}`, `w${n}`);
      },
      reset: () => void s.git('reset', '-q', '--hard', `HEAD~${1 + Math.floor(rnd() * 3)}`),
      amend: () => void s.git('commit', '-q', '--amend', '-m', `amended ${n}`),
      deployForward: () => {
        built = s.rev(`HEAD~${Math.floor(rnd() * 8)}`);
        running = rnd() < 0.7 ? built : running;
      },
      deployAnywhere: () => {
        built = pick(s.shas.slice(1));
        running = rnd() < 0.5 ? built : null;
      },
      forget: () => s.forgetMemory(),
      corrupt: () => {
        const dir = path.join(s.dir, '.git', 'build-provenance', 'results');
        if (!existsSync(dir)) return;
        const names = readdirSync(dir).filter((x) => x.endsWith('.json'));
        if (names.length === 0) return;
        const f = path.join(dir, pick(names));
        const t = readFileSync(f, 'utf8');
        writeFileSync(f, t.slice(0, Math.floor(rnd() * t.length)));
        s.forgetMemory();
      },
    };
    const names = Object.keys(ops);
    const seen = counts();
    await s.same(docker(built, running), `seed ${seed}: start`, built);
    for (n = 1; n <= 10; n++) {
      const op = pick(names);
      ops[op]();
      await s.same(docker(built, running), `seed ${seed}, step ${n} (${op})`, n % 3 === 0 ? built : undefined);
    }
    const used = delta(seen);
    assert.ok(used.exact + used.head + used.from > 0, `seed ${seed}: the cache answered nothing: ${JSON.stringify(used)}`);
  }
});

test('the entry store: writes are atomic, bounded, and signed', async () => {
  const fx = FixtureRepo.create('bp-results-store-');
  fx.commit('root', { a: '1' });
  const repo = await findRepo(fx.dir);
  const store = new EntryStore(repo, 'results', { maxEntries: 10, maxBytes: 1 << 20 });
  for (let k = 0; k < 25; k++) store.write(`e-${k}`, { k, pad: 'x'.repeat(100) });
  const names = store.names();
  assert.ok(names.length <= 10, `bounded: ${names.length} entries`);
  assert.ok(names.includes('e-24'), 'the newest stays');
  assert.deepEqual(store.read('e-24'), { k: 24, pad: 'x'.repeat(100) });
  // By size too.
  const small = new EntryStore(repo, 'small', { maxEntries: 100, maxBytes: 10_000 });
  for (let k = 0; k < 20; k++) small.write(`e-${k}`, 'y'.repeat(2000));
  const bytes = readdirSync(path.join(fx.dir, '.git/build-provenance/small')).reduce((sum, n) => sum + readFileSync(path.join(fx.dir, '.git/build-provenance/small', n)).length, 0);
  assert.ok(bytes <= 10_000 + 2200, `bounded by size: ${bytes} bytes`);
  // A name is part of what is signed: an entry renamed to another key does not read.
  const dir = path.join(fx.dir, '.git/build-provenance/results');
  cpSync(path.join(dir, 'e-24.json'), path.join(dir, 'e-99.json'));
  assert.equal(store.read('e-99'), null);
  fx.cleanup();
});

test('two processes write the cache at once: no reader ever sees a torn entry', async () => {
  const fx = FixtureRepo.create('bp-results-race-');
  fx.commit('root', { a: '1' });
  const key = cacheKey();
  assert.ok(key, 'a user cache key');
  const script = path.join(tempDir('bp-results-race-script-'), 'writer.mts');
  writeFileSync(
    script,
    `import { EntryStore } from ${JSON.stringify(path.resolve(__dirname, '../../src/core/git/cacheFiles.ts'))};
import { findRepo } from ${JSON.stringify(path.resolve(__dirname, '../../src/core/git/queries.ts'))};
const [dir, who] = process.argv.slice(2);
const repo = await findRepo(dir);
const store = new EntryStore(repo, 'race', { maxEntries: 12, maxBytes: 64 << 20 });
let torn = 0, read = 0;
const value = (n: number, w: string) => ({ n, w, body: w.repeat(20000 + n * 997) });
for (let i = 0; i < 150; i++) {
  store.write('e-' + (i % 8), value(i % 8, who));
  for (const name of store.names()) {
    const v = store.read(name) as { n: number; w: string; body: string } | null;
    if (v === null) continue; // pruned meanwhile
    read++;
    const want = value(v.n, v.w);
    if (name !== 'e-' + v.n || v.body !== want.body) torn++;
  }
}
console.log(JSON.stringify({ torn, read }));
`,
  );
  const run = (who: string) =>
    new Promise<{ torn: number; read: number }>((resolve, reject) => {
      const p = spawn(process.execPath, ['--import', 'tsx', script, fx.dir, who], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      p.on('error', reject);
      p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`writer ${who} exited ${code}`))));
    });
  // A third reader checks the raw files: each one that exists is whole and signed.
  const dir = path.join(fx.dir, '.git/build-provenance/race');
  let rawTorn = 0;
  let rawRead = 0;
  let done = false;
  const watcher = (async () => {
    while (!done) {
      if (existsSync(dir)) {
        for (const n of readdirSync(dir).filter((x) => x.endsWith('.json'))) {
          let text: string;
          try {
            text = readFileSync(path.join(dir, n), 'utf8');
          } catch {
            continue; // pruned between listing and reading
          }
          rawRead++;
          if (verify(key!, n.slice(0, -5), text) === null) rawTorn++;
        }
      }
      await new Promise((r) => setImmediate(r));
    }
  })();
  const [x, y] = await Promise.all([run('a'), run('b')]);
  done = true;
  await watcher;
  assert.ok(x.read > 100 && y.read > 100, `both read entries: ${JSON.stringify([x, y])}`);
  assert.ok(rawRead > 20, `the raw reader saw entries: ${rawRead}`);
  assert.deepEqual([x.torn, y.torn, rawTorn], [0, 0, 0], 'no torn or mixed entry was ever read');
  assert.ok(!readdirSync(dir).some((n) => n.endsWith('.tmp')), 'no temp file is left');
  fx.cleanup();
});

