// Issue 16: a hostile repository (test/support/hostileRepo.ts) run through the built CLI with
// --untrusted (and PROVENANCE_UNTRUSTED=1): no program it configures runs, nothing is written
// through its links, every answer comes within seconds, and no answer is an "unexpected error".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import * as path from 'node:path';
import { BACKTRACKING_PATTERN, LONG_NAME, makeHostileRepo, type HostileRepo } from '../support/hostileRepo';
import { applyPolicy, setUntrusted } from '../../src/core/safety/untrustedPolicy';
import { runGit } from '../../src/core/git/exec';
import { tsSources } from '../support/sources';
import { ContextIgnore } from '../../src/core/inputs/dockerignore';
import { resolveRiskRules } from '../../src/core/rules/riskRules';
import { appendLedgerRecord, readLedger } from '../../src/core/build/ledger';
import { appendNoFollow, createExclusive, provenanceDir, readFileNoFollow, realGitDir, UnsafePathError, writeFileAtomic } from '../../src/core/safety/safeFiles';

const CLI = path.join(__dirname, '../../dist/cli.js');

/** Runs dist/cli.js in the repository; the time it took in ms. */
function cli(h: HostileRepo, args: string[], env: NodeJS.ProcessEnv = {}) {
  assert.ok(existsSync(CLI), 'dist/cli.js is missing: run npm run build first');
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: h.dir,
    encoding: 'utf8',
    timeout: 30_000,
    // No Docker here: the answers must come from git alone, quickly.
    env: { ...process.env, DOCKER_HOST: 'unix:///nonexistent/docker.sock', PROVENANCE_UNTRUSTED: '', ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr, ms: performance.now() - t0 };
}

const COMMANDS: string[][] = [
  ['status'],
  ['status', '--target', 'app'],
  ['check', '--target', 'app'],
  ['inputs', '--target', 'app'],
  ['affects', `app/${LONG_NAME}`, 'app/main.py'],
  ['diff', 'HEAD~2', 'HEAD'],
  ['history', '--target', 'app'],
  ['timeline', '--target', 'app'],
  ['suspects', '--target', 'app'],
  ['status'],
  ['status', '--target', 'deep'],
  ['inputs', '--target', 'deep'],
];

for (const links of ['dir', 'files'] as const) {
  test(`untrusted CLI (links: ${links}): no program of the repository runs, answers within seconds, no unexpected error`, (t) => {
    const h = makeHostileRepo({ links });
    t.after(() => h.repo.cleanup());
    const before = h.victimState();
    for (const args of COMMANDS) {
      for (const how of ['flag', 'env'] as const) {
        const r = how === 'flag' ? cli(h, [...args, '--untrusted']) : cli(h, args, { PROVENANCE_UNTRUSTED: '1' });
        const what = `${args.join(' ')} (${how})`;
        assert.notEqual(r.code, null, `${what} finished`);
        assert.ok(r.ms < 8000, `${what} answered in ${r.ms.toFixed(0)} ms`);
        assert.doesNotMatch(r.out + r.err, /unexpected error|RangeError|Maximum call stack/i, `${what}: ${r.err}`);
        assert.deepEqual(h.markersWritten(), [], `${what}: no program of the repository ran`);
      }
    }
    assert.deepEqual(h.victimState(), before, 'nothing was written through a link');
  });
}

test('untrusted CLI: the deep expansion and the backtracking .dockerignore give clear answers', (t) => {
  const h = makeHostileRepo();
  t.after(() => h.repo.cleanup());
  const deep = cli(h, ['inputs', '--target', 'deep', '--untrusted']);
  assert.equal(deep.code, 2);
  assert.match(deep.err, /deep\.Dockerfile:3: variable expansion nested deeper than 64 levels/);
  const aff = cli(h, ['affects', `app/${LONG_NAME}`, '--target', 'app', '--json', '--untrusted']);
  assert.equal(aff.code, 0, aff.err);
  assert.equal(JSON.parse(aff.out)[0].affects, true, `${BACKTRACKING_PATTERN} does not match ${LONG_NAME} (no b)`);
  assert.ok(aff.ms < 3000, `affects answered in ${aff.ms.toFixed(0)} ms`);
  // The same pattern, and one of a few hundred characters, in the matchers themselves: milliseconds.
  const long = 'app/' + '*a'.repeat(150) + '*b';
  const ignore = ContextIgnore.fromText(`${BACKTRACKING_PATTERN}\n${long}\n`);
  const rules = resolveRiskRules([{ id: 'x', pattern: 'y', files: [BACKTRACKING_PATTERN, long] }]).rules.find((r) => r.id === 'x')!;
  const t0 = performance.now();
  for (let n = 40; n <= 400; n += 40) {
    const name = `app/${'a'.repeat(n)}`;
    assert.equal(ignore.ignored(name), false);
    assert.equal(rules.appliesTo(name, ''), false);
    assert.equal(ignore.ignored(`${name}b`), true);
  }
  assert.ok(performance.now() - t0 < 500, `the matchers took ${(performance.now() - t0).toFixed(0)} ms`);
});

test('untrusted CLI: a Dockerfile over 1 MiB is a clear error at once', (t) => {
  const h = makeHostileRepo();
  t.after(() => h.repo.cleanup());
  h.repo.write('deep.Dockerfile', 'FROM alpine:3.20\n' + `RUN echo ${'x'.repeat(100)}\n`.repeat(60_000));
  const r = cli(h, ['inputs', '--target', 'deep', '--untrusted']);
  assert.equal(r.code, 2);
  assert.match(r.err, /deep\.Dockerfile: the file is 6\.3 MiB, larger than the 1 MiB provenance reads of a Dockerfile/);
  assert.ok(r.ms < 3000, `answered in ${r.ms.toFixed(0)} ms`);
});



test('untrusted CLI: build, smoke, deploy and mark are refused', (t) => {
  const h = makeHostileRepo({ links: 'files' });
  t.after(() => h.repo.cleanup());
  const before = h.victimState();
  for (const args of [['build'], ['smoke'], ['deploy'], ['mark', 'HEAD', 'good']]) {
    const r = cli(h, [...args, '--target', 'app', '--untrusted']);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, new RegExp(`Refusing to ${args[0]}: the repository is not trusted`));
  }
  assert.deepEqual(h.victimState(), before);
  assert.deepEqual(h.markersWritten(), []);
});

for (const links of ['dir', 'files'] as const) {
  test(`trusted CLI (links: ${links}): nothing is written through the repository's links, fsmonitor and gpg never run`, async (t) => {
    const h = makeHostileRepo({ links });
    t.after(() => h.repo.cleanup());
    const before = h.victimState();
    for (const args of [['status', '--target', 'app'], ['history', '--target', 'app'], ['timeline', '--target', 'app'], ['affects', 'app/main.py']]) {
      const r = cli(h, args);
      assert.doesNotMatch(r.out + r.err, /unexpected error/i, `${args.join(' ')}: ${r.err}`);
      assert.ok(r.ms < 8000, `${args.join(' ')} answered in ${r.ms.toFixed(0)} ms`);
    }
    assert.ok(!h.markersWritten().some((m) => m === 'fsmonitor' || m === 'gpg' || m.startsWith('hook-')), h.markersWritten().join(', '));
    // The ledger: an append (mark, build, deploy) and a read refuse the link.
    const commonDir = path.join(h.dir, '.git');
    await assert.rejects(
      appendLedgerRecord(commonDir, { kind: 'mark', target: 'app', revision: null, dirty: false, inputHash: '', imageId: 'sha256:' + '0'.repeat(64), tags: [], mode: null, startedAt: '2026-01-01T00:00:00Z', endedAt: '2026-01-01T00:00:00Z', result: 'success', smoke: null, error: null, tool: 'test', verdict: 'good' }),
      (e: Error) => e instanceof UnsafePathError && /Refusing to (use|open) .*: it is a symbolic link/.test(e.message),
    );
    const read = await readLedger(commonDir);
    assert.deepEqual(read.records, []);
    assert.match(read.warnings.join('\n'), /it is a symbolic link.* No ledger records were read\./);
    assert.deepEqual(h.victimState(), before, 'nothing was written through a link');
  });
}

test('safe files: the git dir as it really resolves; a commondir that points outside a git dir is refused', (t) => {
  const h = makeHostileRepo({ links: 'files' });
  t.after(() => h.repo.cleanup());
  const outside = path.dirname(h.victim);
  assert.throws(() => provenanceDir(outside), (e: Error) => e instanceof UnsafePathError && /is not a git directory/.test(e.message));
  assert.throws(() => provenanceDir(path.join(h.dir, '.git'), 'locks'), /locks: it is a symbolic link/);
  const linked = path.join(outside, 'gitdir-link');
  symlinkSync(path.join(h.dir, '.git'), linked);
  assert.equal(realGitDir(linked), path.join(h.dir, '.git'), 'a symlinked git dir is used as its real path');
  // Temp names: random, O_EXCL; a link at the target is replaced, never followed.
  const dir = mkdtempSync(path.join(outside, 'atomic-'));
  symlinkSync(path.join(h.victim, 'precious.txt'), path.join(dir, 'f.json'));
  writeFileAtomic(path.join(dir, 'f.json'), 'new');
  assert.equal(readFileSync(path.join(h.victim, 'precious.txt'), 'utf8'), 'precious\n');
  assert.equal(readFileNoFollow(path.join(dir, 'f.json')), 'new');
  symlinkSync(path.join(h.victim, 'precious.txt'), path.join(dir, 'g.lock'));
  assert.equal(createExclusive(path.join(dir, 'g.lock'), 'x'), false);
  assert.throws(() => readFileNoFollow(path.join(dir, 'g.lock')), /g\.lock: it is a symbolic link/);
  assert.throws(() => appendNoFollow(path.join(dir, 'g.lock'), 'x\n'), /g\.lock: it is a symbolic link/);
  assert.equal(readFileSync(path.join(h.victim, 'precious.txt'), 'utf8'), 'precious\n');
});

test('policy: the overrides come after the subcommand and append to GIT_CONFIG_COUNT', () => {
  const r = applyPolicy({ untrusted: true }, ['--literal-pathspecs', 'log', '-z', 'HEAD'], { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'a.b', GIT_CONFIG_VALUE_0: 'c' }, ['evil']);
  assert.deepEqual(r.args.slice(0, 5), ['--literal-pathspecs', 'log', '--no-show-signature', '--no-ext-diff', '--no-textconv']);
  assert.equal(r.env.GIT_CONFIG_KEY_0, 'a.b');
  assert.equal(r.env.GIT_CONFIG_KEY_1, 'core.fsmonitor');
  const keys = Object.keys(r.env).filter((k) => k.startsWith('GIT_CONFIG_KEY_')).map((k) => r.env[k]);
  for (const k of ['core.hooksPath', 'log.showSignature', 'diff.external', 'filter.evil.clean', 'filter.evil.smudge', 'filter.evil.process']) assert.ok(keys.includes(k), k);
  assert.equal(Number(r.env.GIT_CONFIG_COUNT), keys.length);
  const trusted = applyPolicy({ untrusted: false }, ['status'], {});
  assert.deepEqual(trusted.args, ['status']);
  assert.deepEqual(
    Object.keys(trusted.env).filter((k) => k.startsWith('GIT_CONFIG_KEY_')).map((k) => trusted.env[k]),
    ['core.fsmonitor', 'log.showSignature'],
    'trusted: the overrides that cost nothing',
  );
});

test('policy: git status, blame and log in the hostile repository start none of its programs (and do without the policy)', async (t) => {
  const h = makeHostileRepo();
  t.after(() => {
    setUntrusted(false);
    h.repo.cleanup();
  });
  const queries = async () => {
    await runGit(['status', '--porcelain=v1', '-z'], { cwd: h.dir, okCodes: [128] });
    await runGit(['blame', '--porcelain', '--', 'app/main.py'], { cwd: h.dir, okCodes: [128] });
    await runGit(['log', '-p', '-3', '--format=%H %s'], { cwd: h.dir });
    await runGit(['diff', 'HEAD~1', '--', 'app'], { cwd: h.dir, okCodes: [128] });
    await runGit(['ls-files', '--cached', '--others'], { cwd: h.dir });
  };
  setUntrusted(true);
  await queries();
  assert.deepEqual(h.markersWritten(), [], 'under the policy nothing of the repository runs');
  setUntrusted(false);
  await queries();
  // Trusted, the repository's filters are its business (git-lfs is one); fsmonitor and gpg stay off.
  assert.ok(!h.markersWritten().some((m) => m === 'fsmonitor' || m === 'gpg'), h.markersWritten().join(', '));
  assert.ok(h.markersWritten().length > 0, 'the fixture is hostile: without the policy its filters do run');
});

test('exec.ts is the only place a git process is started', () => {
  const offenders = [...tsSources(path.join(__dirname, '../../src'))]
    .filter(([f, text]) => f !== 'core/git/exec.ts' && /\b(spawn|spawnSync|execFile|execFileSync|exec|execSync|fork)\s*\(\s*['"`]git['"`]/.test(text))
    .map(([f]) => f);
  assert.deepEqual(offenders, []);
});
