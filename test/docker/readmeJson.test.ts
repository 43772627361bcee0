// The README's "JSON output" section, checked against what the commands print: every example is
// parsed, the command it documents is run on a fixture (real git, a real daemon, busybox images
// FROM scratch), and the example's keys and value types are compared with the real output.
//   - an object in the example lists every key the output has, unless it holds a "…" key;
//   - an array's first element stands for every element of the real array;
//   - null on either side matches any type (nullable fields), "…" stands for anything.
// Arrays and objects the example shows must also be exercised (non-empty, non-null) somewhere,
// so a shape cannot go unchecked because the fixture never filled it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../support/cli';
import { FixtureRepo } from '../support/gitFixture';
import { BUSYBOX, buildBusyboxImage, cleanupDocker, docker, freePort, requireDocker, runContainer, uniqueName } from '../support/dockerFixtures';

const README = readFileSync(path.join(__dirname, '../../README.md'), 'utf8');

/** The examples of the JSON section, by command (`status`, `history --ledger`, …). */
export function readmeJsonExamples(readme: string): Map<string, unknown> {
  const section = readme.slice(readme.indexOf('### JSON output'), readme.indexOf('### Speed'));
  const out = new Map<string, unknown>();
  const re = /\*\*`provenance ([^`]+)`\*\*[^\n]*\n(?:(?!```)[^\n]*\n)*?```json\n([\s\S]*?)```/g;
  for (const m of section.matchAll(re)) {
    const words = m[1].split(/\s+/).filter((w) => /^[a-z-]+$/.test(w) && w !== '--json' && w !== 'good' && w !== 'bad');
    const key = words.filter((w) => !w.startsWith('--') || w === '--ledger').join(' ');
    out.set(key, JSON.parse(m[2]));
  }
  return out;
}

type Json = unknown;
const isObj = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Differences between a documented shape and a real value; `exercised` collects the paths that were compared in depth. */
export function shapeProblems(doc: Json, real: Json, at: string, exercised: Set<string>): string[] {
  if (doc === '…' || doc === null || real === null) return [];
  if (Array.isArray(doc)) {
    if (!Array.isArray(real)) return [`${at}: documented as an array, is ${JSON.stringify(real)?.slice(0, 60)}`];
    if (doc.length === 0 || doc[0] === '…') return [];
    if (real.length > 0) exercised.add(`${at}[]`);
    return real.flatMap((r, k) => shapeProblems(doc[0], r, `${at}[${k}]`, exercised).map((p) => p.replace(`${at}[${k}]`, `${at}[]`)));
  }
  if (isObj(doc)) {
    if (!isObj(real)) return [`${at}: documented as an object, is ${JSON.stringify(real)?.slice(0, 60)}`];
    exercised.add(at);
    const open = '…' in doc;
    const problems: string[] = [];
    for (const k of Object.keys(doc)) {
      if (k === '…') continue;
      if (!(k in real)) problems.push(`${at}.${k}: documented, not in the output`);
      else problems.push(...shapeProblems(doc[k], real[k], `${at}.${k}`, exercised));
    }
    if (!open) for (const k of Object.keys(real)) if (!(k in doc)) problems.push(`${at}.${k}: in the output, not documented`);
    return problems;
  }
  if (typeof doc !== typeof real) return [`${at}: documented as ${typeof doc} (${JSON.stringify(doc)}), is ${typeof real} (${JSON.stringify(real).slice(0, 60)})`];
  return [];
}

/** Every path under which the example shows an array element or an object. */
function shownPaths(doc: Json, at: string, out: string[] = []): string[] {
  if (Array.isArray(doc)) {
    if (doc.length > 0 && doc[0] !== '…' && (isObj(doc[0]) || Array.isArray(doc[0]) || typeof doc[0] !== 'object')) {
      out.push(`${at}[]`);
      shownPaths(doc[0], `${at}[]`, out);
    }
  } else if (isObj(doc)) {
    out.push(at);
    for (const [k, v] of Object.entries(doc)) if (k !== '…') shownPaths(v, `${at}.${k}`, out);
  }
  return out;
}

/** Element paths are written `x[k]` while comparing; normalise them to `x[]`. */
function normalise(paths: Set<string>): Set<string> {
  return new Set([...paths].map((p) => p.replace(/\[\d+\]/g, '[]')));
}

test('the shape checker itself: missing, extra and mistyped keys are found; "…" and null are wildcards', () => {
  const ex = new Set<string>();
  assert.deepEqual(shapeProblems({ a: 1, b: 'x', c: [{ d: true }] }, { a: 2, b: 'y', c: [{ d: false }] }, '$', ex), []);
  assert.deepEqual(shapeProblems({ a: 1 }, { a: 1, b: 2 }, '$', ex), ['$.b: in the output, not documented']);
  assert.deepEqual(shapeProblems({ a: 1, '…': '…' }, { a: 1, b: 2 }, '$', ex), []);
  assert.deepEqual(shapeProblems({ a: 1, b: 2 }, { a: 1 }, '$', ex), ['$.b: documented, not in the output']);
  assert.deepEqual(shapeProblems({ a: 'x' }, { a: 3 }, '$', ex), ['$.a: documented as string ("x"), is number (3)']);
  assert.deepEqual(shapeProblems({ a: null, b: 'x' }, { a: { z: 1 }, b: null }, '$', ex), []);
  assert.deepEqual(shapeProblems([{ a: 1 }], [{ a: 1 }, { a: 'x' }], '$', ex), ['$[].a: documented as number (1), is string ("x")']);
  assert.ok(readmeJsonExamples(README).size >= 13, [...readmeJsonExamples(README).keys()].join(', '));
});

after(async () => {
  await cleanupDocker();
});

test('README JSON examples: every command prints the documented keys and value types', { timeout: 300_000 }, async (t) => {
  if (!(await requireDocker(t))) return;
  const examples = readmeJsonExamples(README);
  const repo = FixtureRepo.create('bp-readme-json-');
  const name = uniqueName('t');
  const image = uniqueName('img');
  const port = await freePort();
  t.after(async () => {
    const ids = (await docker(['images', '-a', '-q', '--no-trunc', '--filter', `reference=${image}`]).catch(() => '')).split('\n').filter(Boolean);
    const ctrs = (await docker(['ps', '-a', '-q', '--filter', `label=dev.build-provenance.target=${name}`]).catch(() => '')).split('\n').filter(Boolean);
    if (ctrs.length) await docker(['rm', '-f', ...ctrs]).catch(() => undefined);
    if (ids.length) await docker(['rmi', '-f', ...new Set(ids)]).catch(() => undefined);
    repo.cleanup();
  });
  copyFileSync(BUSYBOX, path.join(repo.dir, 'busybox'));
  chmodSync(path.join(repo.dir, 'busybox'), 0o755);
  const targets = [
    {
      name,
      image,
      dockerfile: 'Dockerfile',
      build: { network: 'none' },
      // The second endpoint never answers: status lists it under docker.unreachable.
      docker: { endpoints: [process.env.DOCKER_HOST || 'unix:///var/run/docker.sock', 'unix:///nonexistent/bp-readme.sock'] },
      smoke: { ready: { http: `http://127.0.0.1:${port}/` }, timeoutSeconds: 20 },
      deploy: { mode: 'replace-container' },
    },
    // Analysed only (never built): external inputs and problems.
    { name: `${name}-shapes`, image: `${image}-shapes`, dockerfile: 'Dockerfile.shapes', docker: { endpoints: ['unix:///nonexistent/bp-readme.sock'] } },
  ];
  repo.commit('init', {
    '.provenance.json': JSON.stringify({ targets }, null, 2),
    '.dockerignore': '.git\ndocs\n',
    Dockerfile: `FROM scratch\nCOPY busybox /bin/busybox\nCOPY www /www\nADD app.sh /usr/local/bin/app.sh\nCMD ["/bin/busybox","sh","-c","echo bridge up; exec /bin/busybox httpd -f -p 127.0.0.1:${port} -h /www"]\n`,
    'Dockerfile.shapes': 'FROM ubuntu:22.04 AS base\nCOPY ${UNDEFINED_DIR}/x /x\nADD https://example.invalid/tool.tgz /opt/\n',
    'www/index.html': '<h1>v1</h1>\n',
    'app.sh': 'echo v1\n',
    'docs/readme.md': 'docs\n',
  });
  const run = async (args: string[], code = 0) => {
    const r = await runCli([...args, '--json', '--cwd', repo.dir]);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.err}\n${r.out}`);
    return r.json();
  };
  const outputs: [string, Json][] = [];
  const one = ['--target', name];

  const first = await run(['build', '--smoke', ...one]);
  outputs.push(['build', first]);
  const ctr = await runContainer({ image: `${image}:latest`, cmd: ['/bin/busybox', 'sleep', '3600'] });
  const c2 = repo.commit('app v2', { 'app.sh': 'echo v2\n' });
  repo.commit('docs', { 'docs/readme.md': 'more docs\n' });
  outputs.push(['status', await run(['status', ...one])]);
  outputs.push(['check', await run(['check', ...one], 1)]);
  outputs.push(['diff', await run(['diff', 'HEAD~2', 'HEAD', ...one])]);
  outputs.push(['affects', await run(['affects', 'app.sh', 'docs/readme.md', ...one])]);
  outputs.push(['inputs', await run(['inputs', '--target', `${name}-shapes`])]);
  outputs.push(['inputs', await run(['inputs', ...one])]);
  const second = await run(['build', ...one]);
  outputs.push(['build', second]);
  outputs.push(['smoke', await run(['smoke', ...one])]);
  outputs.push(['deploy', await run(['deploy', ...one])]);
  outputs.push(['verify', await run(['verify', ...one])]);
  outputs.push(['mark', await run(['mark', first.imageId.slice(7, 19), 'good', ...one])]);
  outputs.push(['mark', await run(['mark', second.imageId, 'bad', ...one])]);
  // An image built by hand, with no label and no ledger record: history infers it (with notes).
  await buildBusyboxImage({ tags: [`${image}:by-hand`] });
  outputs.push(['history', await run(['history', ...one])]);
  outputs.push(['history --ledger', await run(['history', '--ledger', ...one])]);
  outputs.push(['contains', await run(['contains', c2, ...one])]);
  outputs.push(['suspects', await run(['suspects', ...one])]);
  outputs.push(['timeline', await run(['timeline', ...one])]);
  await docker(['rm', '-f', ctr.name]).catch(() => undefined);
  // An unlabeled image built by hand from HEAD, after a commit that changes only the Dockerfile
  // (an input whose bytes are not in the image): verify derives the revision from the content,
  // with the interval it is consistent with and that commit as uncertain.
  repo.commit('Dockerfile: a comment', { Dockerfile: `# the app\n${readFileSync(path.join(repo.dir, 'Dockerfile'), 'utf8')}` });
  const unlabeled = (await docker(['build', '-q', '-t', `${image}:unlabeled`, repo.dir])).trim().split('\n').pop()!;
  outputs.push(['verify', await run(['verify', '--image', unlabeled, ...one])]);

  // Zero-config: no .provenance.json, one Dockerfile; status says which rule found the target.
  const bare = FixtureRepo.create('bp-readme-zero-');
  t.after(() => bare.cleanup());
  bare.commit('init', { Dockerfile: 'FROM scratch\nCOPY app.sh /app.sh\n', 'app.sh': `echo ${name}\n` });
  const zero = await runCli(['status', '--json', '--cwd', bare.dir]);
  assert.equal(zero.code, 0, zero.err);
  assert.equal(zero.json().discovery.rule, 'folder-name');
  outputs.push(['status', zero.json()]);
  const zeroCheck = await runCli(['check', '--json', '--cwd', bare.dir]);
  assert.equal(zeroCheck.code, 2, zeroCheck.err);
  outputs.push(['check', zeroCheck.json()]);

  const problems: string[] = [];
  const exercised = new Map<string, Set<string>>();
  for (const [key, real] of outputs) {
    const doc = key === 'check' ? { ...(examples.get('status') as object), exitCode: 1 } : examples.get(key);
    assert.ok(doc !== undefined, `README has no JSON example for provenance ${key}`);
    const seen = exercised.get(key) ?? new Set<string>();
    exercised.set(key, seen);
    problems.push(...shapeProblems(doc, real, key, seen).map((p) => `${key}: ${p}`));
  }
  assert.deepEqual(problems, [], problems.join('\n'));
  for (const key of examples.keys()) assert.ok(exercised.has(key), `the example of provenance ${key} was not run`);

  // Every array element and object an example shows was compared at least once.
  const unexercised: string[] = [];
  for (const [key, seen] of exercised) {
    const done = normalise(seen);
    for (const p of shownPaths(key === 'check' ? examples.get('status') : examples.get(key), key)) if (!done.has(p)) unexercised.push(p);
  }
  assert.deepEqual(unexercised, [], `documented but never filled by the fixture:\n${unexercised.join('\n')}`);

  // Errors: {error, hint}, as the README's Errors paragraph says.
  const err = await runCli(['diff', 'nope-not-a-ref', 'HEAD', '--json', '--cwd', repo.dir]);
  assert.equal(err.code, 2);
  assert.deepEqual(shapeProblems({ error: '…x', hint: '…x' }, err.json(), 'error', new Set()), []);
});
