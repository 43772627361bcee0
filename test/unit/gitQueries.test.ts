import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  catFileBatch,
  countRange,
  countSides,
  findRepo,
  logRange,
  walkRange,
  excludePlan,
  NotARepoError,
  readHead,
  headFromFiles,
  PACKED_REFS_READ_LIMIT,
  resolveCommits,
  worktreeChanges,
} from '../../src/core/git/queries';
import { GitError, runGit, runGitBulk } from '../../src/core/git/exec';
import { FixtureRepo, tempDir } from '../support/gitFixture';

function fixture(t: { after: (fn: () => void) => void }): FixtureRepo {
  const r = FixtureRepo.create();
  t.after(() => r.cleanup());
  return r;
}

test('git: findRepo at the root, in a subfolder, and for one repo below the folder', async (t) => {
  const r = fixture(t);
  r.commit('init', { 'a/b/c.txt': 'x' });
  assert.equal((await findRepo(r.dir)).root, r.dir);
  assert.equal((await findRepo(path.join(r.dir, 'a/b'))).root, r.dir);
  const parent = tempDir();
  t.after(() => execFileSync('rm', ['-rf', parent]));
  const below = FixtureRepo.create();
  const moved = path.join(parent, 'projects', 'helix');
  mkdirSync(path.dirname(moved), { recursive: true });
  renameSync(below.dir, moved);
  const found = await findRepo(parent);
  assert.equal(found.root, moved);
  const empty = tempDir();
  t.after(() => execFileSync('rm', ['-rf', empty]));
  await assert.rejects(findRepo(empty), (e: Error) => e instanceof NotARepoError && /No git repository at or below/.test(e.message) && /pass --cwd/.test(e.hint));
});

test('git: several repos below the folder is a clear error', async (t) => {
  const parent = tempDir();
  t.after(() => execFileSync('rm', ['-rf', parent]));
  for (const n of ['one', 'two']) {
    const r = FixtureRepo.create();
    renameSync(r.dir, path.join(parent, n));
  }
  await assert.rejects(findRepo(parent), /several below it \((one, two|two, one)\)/);
});

test('git: empty repo has no HEAD sha and names the unborn branch', async (t) => {
  const r = fixture(t);
  const head = await readHead(r.dir);
  assert.deepEqual(head, { sha: null, branch: 'main', detached: false, empty: true });
});

test('git: detached HEAD', async (t) => {
  const r = fixture(t);
  const first = r.commit('one', { 'f.txt': '1' });
  r.commit('two', { 'f.txt': '2' });
  r.git('checkout', '-q', '--detach', first);
  const head = await readHead(r.dir);
  assert.equal(head.sha, first);
  assert.equal(head.detached, true);
  assert.equal(head.branch, null);
});

test('git: linked worktree is found and shares history', async (t) => {
  const r = fixture(t);
  const sha = r.commit('one', { 'f.txt': '1' });
  const wt = path.join(tempDir(), 'wt');
  t.after(() => execFileSync('rm', ['-rf', path.dirname(wt)]));
  r.git('worktree', 'add', '-q', '--detach', wt, sha);
  const info = await findRepo(wt);
  assert.equal(info.root, wt);
  assert.equal(info.isWorktree, true);
  assert.equal(info.commonDir, path.join(r.dir, '.git'));
  assert.equal((await readHead(wt)).sha, sha);
});

test('git: resolveCommits handles full, short, unknown and hostile revisions', async (t) => {
  const r = fixture(t);
  const sha = r.commit('one', { 'f.txt': '1' });
  const res = await resolveCommits(r.dir, [sha, sha.slice(0, 8), 'f'.repeat(40), '--output=/tmp/x', 'HEAD']);
  assert.deepEqual(res, [sha, sha, null, null, sha]);
});

test('git: catFileBatch reads files at revisions, null for missing paths and revisions', async (t) => {
  const r = fixture(t);
  const a = r.commit('one', { 'Dockerfile': 'FROM scratch\n', 'ünï code.txt': 'héllo\n' });
  r.commit('two', { 'Dockerfile': 'FROM scratch\nCOPY x /x\n' });
  const res = await catFileBatch(r.dir, [`${a}:Dockerfile`, 'HEAD:Dockerfile', 'HEAD:nope', `${'e'.repeat(40)}^{commit}`, `${a}:ünï code.txt`, `${a}^{commit}`]);
  assert.equal(res[0]?.content.toString(), 'FROM scratch\n');
  assert.equal(res[1]?.content.toString(), 'FROM scratch\nCOPY x /x\n');
  assert.equal(res[2], null);
  assert.equal(res[3], null);
  assert.equal(res[4]?.content.toString(), 'héllo\n');
  assert.equal(res[5]?.oid, a);
});

test('git: logRange is path-limited, newest first, with matching files only', async (t) => {
  const r = fixture(t);
  const base = r.commit('base', { 'app/a.sh': '1', 'docs/x.md': '1' });
  const c1 = r.commit('touch app', { 'app/a.sh': '2', 'docs/x.md': '2' });
  r.commit('docs only', { 'docs/x.md': '3' });
  const c3 = r.commit('subject with \x1f and tab\tand "quotes"', { 'app/sub dir/ü.sh': 'new' });
  const log = await logRange(r.dir, { from: base, to: 'HEAD' }, ['app'], { withFiles: true });
  assert.deepEqual(log.map((c) => c.sha), [c3, c1]);
  assert.deepEqual(log[0].files, ['app/sub dir/ü.sh']);
  assert.deepEqual(log[1].files, ['app/a.sh']);
  assert.equal(log[0].subject, 'subject with \x1f and tab\tand "quotes"');
  assert.equal(log[0].author, 'Fixture Author');
  assert.match(log[0].date, /^\d{4}-\d\d-\d\dT/);
  const noFiles = await logRange(r.dir, { from: base, to: 'HEAD' }, ['app'], { withFiles: false });
  assert.deepEqual(noFiles.map((c) => c.files.length), [0, 0]);
  const newest = await logRange(r.dir, { from: base, to: 'HEAD' }, ['app'], { withFiles: true, maxCount: 1 });
  assert.deepEqual(newest.map((c) => c.sha), [c3]);
  assert.equal(await countRange(r.dir, base, 'HEAD'), 3);
});

test('git: countSides reports both sides of diverged history', async (t) => {
  const r = fixture(t);
  r.commit('base', { 'f': '0' });
  r.git('checkout', '-q', '-b', 'side');
  const side = r.commit('side 1', { 'f': 's1' });
  r.commit('side 2', { 'f': 's2' });
  r.git('checkout', '-q', 'main');
  r.commit('main 1', { 'g': '1' });
  const counts = await countSides(r.dir, 'side', 'main');
  assert.deepEqual(counts, { ahead: 1, behind: 2 });
  assert.deepEqual(await countSides(r.dir, side, 'side'), { ahead: 1, behind: 0 });
});

test('git: worktreeChanges lists staged, unstaged and untracked input changes only', async (t) => {
  const r = fixture(t);
  r.commit('base', { 'app/a.sh': '1', 'app/b.sh': '1', 'docs/x.md': '1' });
  r.write('app/a.sh', '2').write('app/new file.sh', 'n').write('docs/x.md', '2');
  r.write('app/b.sh', '2');
  r.git('add', 'app/b.sh');
  const changes = await worktreeChanges(r.dir, ['app']);
  assert.deepEqual(changes.map((c) => c.path).sort(), ['app/a.sh', 'app/b.sh', 'app/new file.sh']);
});

test('git: a shallow clone knows its shallowness and not the old revisions', async (t) => {
  const r = fixture(t);
  const old = r.commit('one', { 'f': '1' });
  r.commit('two', { 'f': '2' });
  r.commit('three', { 'f': '3' });
  const dest = path.join(tempDir(), 'shallow');
  t.after(() => execFileSync('rm', ['-rf', path.dirname(dest)]));
  execFileSync('git', ['clone', '-q', '--depth', '1', `file://${r.dir}`, dest]);
  const info = await findRepo(dest);
  assert.equal(info.shallow, true);
  assert.deepEqual(await resolveCommits(dest, [old]), [null]);
});

test('git: a blobless partial clone answers range queries without fetching', async (t) => {
  const r = fixture(t);
  r.git('config', 'uploadpack.allowFilter', 'true');
  const base = r.commit('one', { 'app/a.sh': '1', 'docs/x.md': '1' });
  const c = r.commit('two', { 'app/a.sh': '2' });
  r.commit('three', { 'docs/x.md': '2' });
  const dest = path.join(tempDir(), 'partial');
  t.after(() => execFileSync('rm', ['-rf', path.dirname(dest)]));
  execFileSync('git', ['clone', '-q', '--filter=blob:none', `file://${r.dir}`, dest]);
  // Make any lazy fetch fail loudly: the promisor remote is gone.
  execFileSync('git', ['remote', 'set-url', 'origin', 'file:///nonexistent/repo'], { cwd: dest });
  const info = await findRepo(dest);
  assert.equal(info.partial, true);
  const log = await logRange(dest, { from: base, to: 'HEAD' }, ['app'], { withFiles: true });
  assert.deepEqual(log.map((x) => x.sha), [c]);
  assert.deepEqual(log[0].files, ['app/a.sh']);
  // The old blob is not here; reading it gives null, not a hang or a throw.
  const [old] = await catFileBatch(dest, [`${base}:app/a.sh`]);
  assert.equal(old, null);
  const { stdout } = await runGit(['rev-list', '--count', '--all'], { cwd: dest });
  assert.equal(stdout.trim(), '3');
});

test('git: runGitBulk (stdout through a private temp file) gives what runGit gives and leaves no file behind', async (t) => {
  const r = fixture(t);
  for (let k = 0; k < 30; k++) r.commit(`c${k}`, { f: String(k) });
  // A temp dir of this test's own (other test files may run beside this one).
  const tmp = tempDir();
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = tmp;
  t.after(() => {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
    execFileSync('rm', ['-rf', tmp]);
  });
  assert.equal(tmpdir(), tmp);
  const leftovers = () => readdirSync(tmp);
  const args = ['rev-list', '--parents', 'HEAD'];
  const piped = await runGit(args, { cwd: r.dir });
  const bulk = await runGitBulk(args, { cwd: r.dir });
  assert.equal(bulk.stdout, piped.stdout);
  assert.equal(bulk.stdout.trim().split('\n').length, 30);
  await assert.rejects(runGitBulk(['rev-list', 'no-such-rev'], { cwd: r.dir }), (e: Error) => e instanceof GitError && /no-such-rev/.test(e.message));
  const ac = new AbortController();
  const p = runGitBulk(['rev-list', '--parents', 'HEAD'], { cwd: r.dir, signal: ac.signal });
  ac.abort();
  await assert.rejects(p, { name: 'AbortError' });
  assert.deepEqual(leftovers(), []);
});

test('git: an aborted query kills git and rejects with AbortError', async (t) => {
  const r = fixture(t);
  r.commit('one', { f: '1' });
  const ac = new AbortController();
  const p = logRange(r.dir, { from: null, to: 'HEAD' }, null, { withFiles: true, signal: ac.signal });
  ac.abort();
  await assert.rejects(p, { name: 'AbortError' });
});

test('git: walkRange splits a long linear range in two and gives exactly what one walk gives', async (t) => {
  const r = fixture(t);
  const base = r.commit('base', { 'app/a': '0', 'docs/d': '0' });
  for (let k = 1; k <= 40; k++) r.commit(`c${k}`, k % 3 === 0 ? { 'docs/d': String(k) } : { 'app/a': String(k), [`app/f${k % 5}`]: String(k) });
  const one = await logRange(r.dir, { from: base, to: 'HEAD' }, ['app'], { withFiles: true });
  const split = await walkRange(r.dir, { from: base, to: r.head() }, ['app'], { withFiles: true, minSplit: 10 });
  assert.equal(split.total, 40);
  assert.deepEqual(split.commits, one);
  // Diverged: the range still partitions at any commit of it.
  r.git('checkout', '-q', '-b', 'side', base);
  for (let k = 0; k < 12; k++) r.commit(`s${k}`, { 'app/s': String(k) });
  const sideOne = await logRange(r.dir, { from: 'main', to: 'side' }, ['app'], { withFiles: true });
  const sideSplit = await walkRange(r.dir, { from: 'main', to: 'side' }, ['app'], { withFiles: true, minSplit: 4 });
  assert.deepEqual(sideSplit.commits, sideOne);
  assert.equal(sideSplit.total, 12);
});

test('git: walkRange walks once over merges (no split), with the same answer', async (t) => {
  const r = fixture(t);
  const base = r.commit('base', { 'app/a': '0' });
  r.git('checkout', '-q', '-b', 'feature');
  for (let k = 0; k < 6; k++) r.commit(`f${k}`, { 'app/f': String(k) });
  r.git('checkout', '-q', 'main');
  for (let k = 0; k < 6; k++) r.commit(`m${k}`, { 'app/m': String(k) });
  r.git('merge', '-q', '--no-edit', 'feature');
  const one = await logRange(r.dir, { from: base, to: 'HEAD' }, ['app'], { withFiles: true });
  const walked = await walkRange(r.dir, { from: base, to: r.head() }, ['app'], { withFiles: true, minSplit: 2 });
  assert.deepEqual(walked.commits, one);
  assert.equal(walked.total, 13);
});

test('git: walkRange with exclude pathspecs gives what git gives with them (split, one walk, merges)', async (t) => {
  const r = fixture(t);
  const base = r.commit('base', { 'app/a.go': '0', 'app/a_test.go': '0', 'docs/d.md': '0' });
  for (let k = 1; k <= 30; k++) {
    // Some commits touch only excluded files under an input directory: they must not count.
    const files: Record<string, string> = k % 4 === 0 ? { 'app/a_test.go': String(k) } : k % 4 === 1 ? { 'app/sub/b_test.go': String(k), 'app/b.go': String(k) } : k % 4 === 2 ? { 'docs/d.md': String(k) } : { 'app/README.md': String(k) };
    r.commit(`c${k}`, files);
  }
  const specs = [':(top,literal)app', ':(top,exclude,glob)**/*_test.go', ':(top,exclude,glob)**/*_test.go/**', ':(top,exclude,glob)**/*.md', ':(top,exclude,glob)**/*.md/**'];
  assert.ok(excludePlan(specs), 'these pathspecs take the exclude plan');
  const one = await logRange(r.dir, { from: base, to: 'HEAD' }, specs, { withFiles: true });
  assert.equal(one.length, 8, 'git itself: only the commits touching app/b.go');
  for (const minSplit of [1000, 4]) {
    const walked = await walkRange(r.dir, { from: base, to: r.head() }, specs, { withFiles: true, minSplit });
    assert.deepEqual(walked.commits, one, `minSplit ${minSplit}`);
    const bare = await walkRange(r.dir, { from: base, to: r.head() }, specs, { withFiles: false, minSplit });
    assert.deepEqual(bare.commits.map((c) => c.sha), one.map((c) => c.sha));
    assert.ok(bare.commits.every((c) => c.files.length === 0));
    assert.equal(bare.newestWithFiles, 0);
    // The files of the newest few come along (the walk lists them anyway), exactly as git says.
    const newest = await walkRange(r.dir, { from: base, to: r.head() }, specs, { withFiles: false, minSplit, filesOfNewest: 5 });
    assert.equal(newest.newestWithFiles, 5);
    assert.deepEqual(newest.commits.slice(0, 5), one.slice(0, 5));
  }
  // Eager (the walk starts beside the listing): the same answer whether the listing agrees (short
  // and linear) or not (longer than minSplit: stopped, walked in halves).
  for (const minSplit of [1000, 4]) {
    const eager = await walkRange(r.dir, { from: base, to: r.head() }, specs, { withFiles: true, minSplit, eager: true });
    assert.deepEqual(eager.commits, one, `eager, minSplit ${minSplit}`);
    assert.equal(eager.mid === null, minSplit === 1000, `eager, minSplit ${minSplit}: split only when long`);
  }
  // A merge: git's history simplification decides, with the full pathspecs.
  r.git('checkout', '-q', '-b', 'side', base);
  r.commit('side test only', { 'app/side_test.go': '1' });
  r.git('checkout', '-q', 'main');
  r.git('merge', '-q', '--no-edit', 'side');
  const merged = await logRange(r.dir, { from: base, to: 'HEAD' }, specs, { withFiles: true });
  assert.deepEqual((await walkRange(r.dir, { from: base, to: r.head() }, specs, { withFiles: true, minSplit: 4 })).commits, merged);
  // A merge of two sides that both changed inputs: git lists the merge (no files of its own);
  // the early walk, which drops commits left without input files, would not.
  const fork = r.head();
  r.git('checkout', '-q', '-b', 'side2', fork);
  r.commit('side input', { 'app/s2.go': '1' });
  r.git('checkout', '-q', 'main');
  r.commit('main input', { 'app/m2.go': '1' });
  r.git('merge', '-q', '--no-edit', 'side2');
  const both = await logRange(r.dir, { from: base, to: 'HEAD' }, specs, { withFiles: true });
  assert.ok(both.some((c) => c.sha === r.head()), 'git lists the merge');
  assert.deepEqual((await walkRange(r.dir, { from: base, to: r.head() }, specs, { withFiles: true, eager: true })).commits, both, 'eager over merges: the early linear walk is dropped');
  assert.equal((await walkRange(r.dir, { from: base, to: r.head() }, specs, { withFiles: false, filesOfNewest: 5 })).newestWithFiles, 0, 'git walked without files: none to reuse');
});

test('git: walkRange starts at a hinted middle and checks the hint (valid, stale, merges)', async (t) => {
  const r = fixture(t);
  const base = r.commit('base', { 'app/a': '0' });
  const shas: string[] = [];
  for (let k = 1; k <= 40; k++) shas.push(r.commit(`c${k}`, k % 2 ? { 'app/a': String(k) } : { 'docs/d': String(k) }));
  const one = await logRange(r.dir, { from: base, to: 'HEAD' }, ['app'], { withFiles: true });
  let walking = 0;
  const opts = (midHint?: string) => ({ withFiles: true, minSplit: 10, midHint, onWalking: () => walking++ });

  const cold = await walkRange(r.dir, { from: base, to: r.head() }, ['app'], opts());
  assert.deepEqual(cold.commits, one);
  assert.equal(cold.mid, shas[19], 'the middle of 40 commits, newest first');
  for (const hint of [shas[5], shas[19], shas[39]]) {
    const res = await walkRange(r.dir, { from: base, to: r.head() }, ['app'], opts(hint));
    assert.deepEqual(res.commits, one, `hint ${shas.indexOf(hint)}`);
    assert.equal(res.total, 40);
    assert.equal(res.mid, shas[19], 'the next hint is the middle again');
  }
  // Stale hints: outside the range (its base, a commit of another branch), or not a commit.
  r.git('checkout', '-q', '-b', 'other', base);
  const elsewhere = r.commit('elsewhere', { 'app/o': '1' });
  r.git('checkout', '-q', 'main');
  for (const hint of [base, elsewhere, 'f'.repeat(40)]) {
    const res = await walkRange(r.dir, { from: shas[0], to: shas[39] }, ['app'], opts(hint));
    assert.deepEqual(res.commits, one.slice(0, -1), `stale hint ${hint.slice(0, 8)}`);
  }
  // Merges in the range: the hint is dropped for one exact walk.
  r.git('merge', '-q', '--no-edit', 'other');
  const merged = await logRange(r.dir, { from: base, to: 'HEAD' }, ['app'], { withFiles: true });
  const res = await walkRange(r.dir, { from: base, to: r.head() }, ['app'], opts(shas[19]));
  assert.deepEqual(res.commits, merged);
  assert.equal(res.mid, null);
  assert.ok(walking >= 7, 'onWalking fires for every walk');
});

test('git: HEAD read from the files agrees with git (loose, packed, detached, symref, worktree, unborn)', async (t) => {
  const r = fixture(t);
  const viaFiles = async (dir: string) => {
    const repo = await findRepo(dir);
    return { files: headFromFiles(repo), git: await readHead(dir), read: await readHead(repo) };
  };
  // Unborn branch: the files cannot tell it from a missing ref, so git answers.
  let h = await viaFiles(r.dir);
  assert.equal(h.files, null);
  assert.deepEqual(h.read, h.git);

  const first = r.commit('one', { 'f.txt': '1' });
  h = await viaFiles(r.dir);
  assert.deepEqual(h.files, { sha: first, branch: 'main', detached: false, empty: false }, 'loose ref');
  assert.deepEqual(h.files, h.git);

  const second = r.commit('two', { 'f.txt': '2' });
  r.git('pack-refs', '--all');
  assert.ok(!existsSync(path.join(r.dir, '.git/refs/heads/main')), 'the ref is only in packed-refs now');
  h = await viaFiles(r.dir);
  assert.deepEqual(h.files, { sha: second, branch: 'main', detached: false, empty: false }, 'packed ref');
  assert.deepEqual(h.files, h.git);

  // A packed-refs too big to read in the extension host: git answers instead.
  const packedFile = path.join(r.dir, '.git/packed-refs');
  const packedText = readFileSync(packedFile, 'utf8');
  const tags = Array.from({ length: Math.ceil(PACKED_REFS_READ_LIMIT / 50) }, (_, k) => `${first} refs/tags/t${String(k).padStart(6, '0')}\n`);
  writeFileSync(packedFile, packedText + tags.join(''));
  h = await viaFiles(r.dir);
  assert.equal(h.files, null);
  assert.deepEqual(h.read, h.git);
  assert.equal(h.read.sha, second);
  writeFileSync(packedFile, packedText);

  r.git('checkout', '-q', '--detach', first);
  h = await viaFiles(r.dir);
  assert.deepEqual(h.files, { sha: first, branch: null, detached: true, empty: false }, 'detached');
  assert.deepEqual(h.files, h.git);

  r.git('checkout', '-q', 'main');
  r.git('symbolic-ref', 'refs/heads/alias', 'refs/heads/main');
  r.git('symbolic-ref', 'HEAD', 'refs/heads/alias');
  h = await viaFiles(r.dir);
  assert.equal(h.files?.sha, second, 'a symbolic ref is followed');
  assert.equal(h.files?.sha, h.git.sha);
  r.git('symbolic-ref', 'HEAD', 'refs/heads/main');

  const wt = path.join(tempDir(), 'wt');
  t.after(() => execFileSync('rm', ['-rf', path.dirname(wt)]));
  r.git('worktree', 'add', '-q', '-b', 'side', wt, first);
  h = await viaFiles(wt);
  assert.deepEqual(h.files, { sha: first, branch: 'side', detached: false, empty: false }, 'linked worktree');
  assert.deepEqual(h.files, h.git);
});
