// Property test of the .dockerignore routes against each other, on generated trees and patterns in
// real git repositories: what `affects` says (the matcher), what `git ls-files -- <pathspecs>`
// selects, what the walk's JS filter keeps, and what the build-context tar holds must agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { packBuildContext } from '../../src/core/build/context';
import { excludePlan } from '../../src/core/git/queries';
import { IgnoreFileError, PatternMatcher } from '../../src/core/inputs/dockerignore';
import { analyzeImageInputs } from '../../src/core/inputs/imageInputs';

/** A small deterministic PRNG (mulberry32), so a failure names a seed that reproduces it. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES = ['a', 'b', 'ab', 'a.txt', 'b.log', 'x.md', '.hidden', 'c(d)', 'e+f', 'g[1]', 'é', 'sp ace', 'q?', 'logs', 'keep', 'dir', 'a*b', 'n^m', 'v1', 'ba', 'aa.log'];

function git(cwd: string, args: string[]): string {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' } });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

function makeTree(rand: () => number): string[] {
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const files = new Set<string>(['Dockerfile', '.dockerignore']);
  const dirs = new Set<string>();
  while (files.size < 45) {
    const depth = 1 + Math.floor(rand() * 3);
    const parts: string[] = [];
    for (let d = 0; d < depth; d++) parts.push(pick(NAMES));
    const p = parts.join('/');
    // A path is a file or a directory, never both.
    const prefixes = parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
    if (dirs.has(p) || files.has(p) || prefixes.some((x) => files.has(x))) continue;
    files.add(p);
    for (const x of prefixes) dirs.add(x);
  }
  return [...files].sort();
}

function makePattern(rand: () => number): string {
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const segs: string[] = [];
  const n = 1 + Math.floor(rand() * 3);
  for (let s = 0; s < n; s++) {
    const r = rand();
    if (r < 0.12) segs.push('**');
    else if (r < 0.3) segs.push(pick(['*', '*.log', '*.txt', 'a*', '*b', '.*', '?', 'a?', '??']));
    else if (r < 0.42) segs.push(pick(['[a-c]*', '[^a]*', '[ab]', 'a[.]txt', '[[:alpha:]]*', 'a**', '**.log', 'x.md**', '\\*b', 'a\\*b', 'q\\?', 'v\\d']));
    else if (r < 0.44) segs.push(pick(['a[', '[z-a]b', '[-x]'])); // Docker rejects these
    else {
      const name = pick(NAMES);
      // Take the name as it is, or escape what it holds that a pattern would read as syntax.
      segs.push(/[*?[\]\\]/.test(name) ? name.replace(/[*?[\]\\]/g, '\\$&') : name);
    }
  }
  let p = segs.join('/');
  const r = rand();
  if (r < 0.3) p = `!${p}`;
  else if (r < 0.4) p = `/${p}`;
  if (rand() < 0.1) p += '/';
  return p;
}

async function tarFiles(stream: Readable): Promise<string[]> {
  const tar = await import('tar-stream');
  const ex = tar.extract();
  const out: string[] = [];
  await new Promise<void>((resolve, reject) => {
    ex.on('entry', (h, s, next) => {
      if (h.type !== 'directory') out.push(h.name);
      s.on('end', next);
      s.resume();
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
    stream.pipe(ex);
  });
  return out.sort();
}

test('.dockerignore: pathspecs, the JS filter, affects and the context tar agree on generated trees and patterns', async () => {
  let exactRuns = 0;
  let supersetRuns = 0;
  let rejected = 0;
  let tars = 0;
  for (const seed of [11, 29, 73]) {
    const rand = rng(seed);
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'bp-ignore-prop-')));
    try {
      const tree = makeTree(rand);
      git(dir, ['init', '-q', '-b', 'main']);
      for (const p of tree) {
        mkdirSync(join(dir, dirname(p)), { recursive: true });
        writeFileSync(join(dir, p), p);
      }
      git(dir, ['add', '-A']);
      const all = git(dir, ['ls-files', '-z']).split('\0').filter(Boolean).sort();
      assert.deepEqual(all, [...tree].sort(), 'git has every generated file');
      for (let round = 0; round < 100; round++) {
        const lines: string[] = [];
        const count = 1 + Math.floor(rand() * 4);
        for (let k = 0; k < count; k++) lines.push(makePattern(rand));
        const ignoreText = lines.join('\n') + '\n';
        const where = `seed ${seed} round ${round}: ${JSON.stringify(lines)}`;
        try {
          PatternMatcher.fromText(ignoreText);
        } catch (err) {
          assert.ok(err instanceof IgnoreFileError, `${where}: only Docker's own errors: ${String(err)}`);
          rejected++;
          continue;
        }
        const inputs = analyzeImageInputs({ dockerfile: 'Dockerfile', context: '', ignoreFile: '.dockerignore', ignoreText, dockerfileText: 'FROM a\nCOPY . /\n' });
        const want = all.filter((p) => inputs.affects(p).affects);
        const listed = git(dir, ['ls-files', '-z', '--', ...inputs.pathspecs]).split('\0').filter(Boolean).sort();
        if ((inputs.pathspecsSuperset ?? []).length === 0) {
          exactRuns++;
          assert.deepEqual(listed, want, `${where}: git ls-files -- <pathspecs> lists exactly the inputs\n${inputs.pathspecs.join('\n')}`);
          const plan = excludePlan(inputs.pathspecs);
          if (plan) {
            const positive = git(dir, ['ls-files', '-z', '--', ...plan.positive]).split('\0').filter(Boolean);
            assert.deepEqual(positive.filter((p) => !plan.excluded(p)).sort(), want, `${where}: the walk's exclude plan`);
          }
        } else {
          supersetRuns++;
          for (const p of want) assert.ok(listed.includes(p), `${where}: the pathspecs (a superset) keep ${p}`);
        }
        if (round % 4 === 0) {
          tars++;
          const ctx = await packBuildContext({ contextDir: dir, dockerfile: join(dir, 'Dockerfile'), ignoreFile: join(dir, '.dockerignore'), ignoreText });
          const sent = (await tarFiles(ctx.stream)).filter((p) => p !== '.git' && !p.startsWith('.git/'));
          await ctx.done;
          assert.deepEqual(sent, want, `${where}: the build context holds exactly the inputs of COPY . /`);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  // The generator must exercise both routes, and Docker's errors, for this test to mean something.
  assert.ok(exactRuns >= 120, `exact runs: ${exactRuns}`);
  assert.ok(supersetRuns >= 20, `superset runs: ${supersetRuns}`);
  assert.ok(rejected >= 1, `rejected: ${rejected}`);
  assert.ok(tars >= 50, `tars: ${tars}`);
});
