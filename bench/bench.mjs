// Benchmarks of the `provenance` CLI against raw git, measured in the same run.
//
//   npm run bench                       (builds dist/ first)
//   node --import tsx bench/bench.mjs [--runs N] [--no-docker] [--fake-inputs] [--nested-only] [--status-only] [--helix DIR [--helix-behind N]]
//   PROVENANCE_CLI=/path/to/cli.js node bench/bench.mjs
//
// --helix DIR (or PROVENANCE_BENCH_HELIX=DIR): also bench `status` on a checkout of the helix
// repository, in a `git clone --shared` of it (nothing is written to the checkout itself), with
// the deployed revision --helix-behind commits behind HEAD (default 21880, as in issue 15).
//
// Timings are reported as ratios ours/raw and never fail the run (machines are noisy). The run
// fails (exit 1) only when a correctness check fails: the CLI must list the same commits and files
// as raw git, and the same ones the generator knows to be image inputs.
// --fake-inputs: use hand-written pathspecs instead of `provenance inputs` and skip every CLI
// measurement (for working on the raw-git side while the CLI is not built).

import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMITS, DOCKERFILE, GEN_VERSION, IGNORE_FILE, IMAGE, ensureRepo, isImageInput } from './gen-repo.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, '..');
// PROVENANCE_CLI=<path> benches another bundle of the CLI (default: dist/cli.js from `npm run build`).
const CLI = process.env.PROVENANCE_CLI ? resolve(process.env.PROVENANCE_CLI) : join(ROOT, 'dist', 'cli.js');
const RESULTS = join(ROOT, 'test-artifacts', 'bench.json');
const RANGE = 10_000;
const GOAL = 1.25;

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const RUNS = Math.max(1, Number(argv[argv.indexOf('--runs') + 1]) || 7);
const FAKE = flag('--fake-inputs');
const NO_DOCKER = flag('--no-docker');
// --nested-only: only the Docker-in-Docker comparison (issue 13's goal), nothing else.
const NESTED_ONLY = flag('--nested-only');
// --status-only: only the status rounds on the generated repo (cold, repeated, one new commit).
const STATUS_ONLY = flag('--status-only');

// Hand-written pathspecs equivalent to the generator's Dockerfile + ignore file. Used for
// --fake-inputs and as a reference row: what raw git costs with a minimal pathspec set.
const REFERENCE_PATHSPECS = [DOCKERFILE, IGNORE_FILE, 'go.mod', 'go.sum', ':(glob)api/**', ':(exclude,glob)**/*_test.go',
  ':(exclude,glob)api/**/testdata/**', ':(exclude,glob)**/*.md', 'desktop/shared/detect-render-node.sh',
  ':(glob)desktop/shared/start-*.sh', ':(glob)desktop/ubuntu-config/**'];

const failures = [];
const check = (ok, what, detail = '') => {
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}${!ok && detail ? `\n       ${detail}` : ''}`);
  if (!ok) failures.push(detail ? `${what}: ${detail}` : what);
  return ok;
};

// Async on purpose: with spawnSync a SIGINT/SIGTERM sent to this process alone would wait for
// the whole bench to finish before the cleanup handler could run.
const children = new Set();
function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    children.add(child);
    const out = [];
    const err = [];
    child.stdout.on('data', (c) => out.push(c));
    child.stderr.on('data', (c) => err.push(c));
    child.on('error', (e) => {
      children.delete(child);
      reject(e);
    });
    child.on('close', (status) => {
      const ms = performance.now() - t0;
      children.delete(child);
      resolve({ ms, status, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}
async function must(cmd, args, opts) {
  const r = await run(cmd, args, opts);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stderr.trim()}`);
  return r;
}
const git = async (repo, args) => (await must('git', args, { cwd: repo })).stdout;
// The CLI runs as users run `provenance`: the executable itself (its first lines are a shell
// launcher, see scripts/build.mjs); a PROVENANCE_CLI bundle without a #! line runs under node.
const CLI_IS_EXECUTABLE = existsSync(CLI) && readFileSync(CLI, 'utf8').startsWith('#!');
const runCli = (args, opts) => (CLI_IS_EXECUTABLE ? run(CLI, args, opts) : run(process.execPath, [CLI, ...args], opts));
const cli = (repo, args, env = {}) => runCli([...args, '--json', '--cwd', repo], { cwd: ROOT, env: { ...process.env, ...env } });

async function cliJson(repo, args) {
  const r = await cli(repo, args);
  if (r.status !== 0) throw new Error(`provenance ${args.join(' ')} exited ${r.status}\n${r.stderr.trim()}\n${r.stdout.slice(0, 2000)}`);
  try {
    return JSON.parse(r.stdout);
  } catch (e) {
    throw new Error(`provenance ${args.join(' ')}: stdout is not JSON (${e.message}): ${r.stdout.slice(0, 500)}`);
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const stats = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), runs: xs.map((x) => Math.round(x * 10) / 10) });

/**
 * Times each job RUNS times (after one untimed warm-up each), interleaved and with the order
 * rotated every round so neither side always runs on a warmer cache.
 */
async function timeInterleaved(jobs) {
  const times = Object.fromEntries(Object.keys(jobs).map((k) => [k, []]));
  const names = Object.keys(jobs);
  for (let round = -1; round < RUNS; round++) {
    const order = names.map((_, i) => names[(i + Math.max(round, 0)) % names.length]);
    for (const name of order) {
      const r = await jobs[name]();
      if (r.status !== 0) throw new Error(`${name} exited ${r.status}: ${r.stderr.trim().slice(0, 1000)}`);
      if (round >= 0) times[name].push(r.ms);
    }
  }
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, stats(v)]));
}

/** Parses `git log --name-only --format=%H`: a hash line, a blank line, then the files. */
function parseRawLog(out) {
  const commits = [];
  for (const line of out.split('\n')) {
    if (/^[0-9a-f]{40}$/.test(line)) commits.push({ sha: line, files: [] });
    else if (line && commits.length) commits[commits.length - 1].files.push(line);
  }
  return commits;
}

/** First difference between two commit lists (order and files), or null. */
function diffLists(got, want, label) {
  if (got.length !== want.length) {
    const gs = new Set(got.map((c) => c.sha));
    const ws = new Set(want.map((c) => c.sha));
    const extra = got.filter((c) => !ws.has(c.sha)).slice(0, 3).map((c) => `${c.sha.slice(0, 10)} [${c.files.join(', ')}]`);
    const missing = want.filter((c) => !gs.has(c.sha)).slice(0, 3).map((c) => `${c.sha.slice(0, 10)} [${c.files.join(', ')}]`);
    return `${label}: ${got.length} commits vs ${want.length}; extra: ${extra.join('; ') || '-'}; missing: ${missing.join('; ') || '-'}`;
  }
  for (let i = 0; i < got.length; i++) {
    if (got[i].sha !== want[i].sha) return `${label}: position ${i}: ${got[i].sha} vs ${want[i].sha}`;
    const a = [...got[i].files].sort().join('\n');
    const b = [...want[i].files].sort().join('\n');
    if (a !== b) return `${label}: files of ${got[i].sha.slice(0, 10)}: [${got[i].files.join(', ')}] vs [${want[i].files.join(', ')}]`;
  }
  return null;
}

const fmtMs = (ms) => (ms === undefined || ms === null ? '-' : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
const rows = [];
const row = (name, s, note = '') => rows.push([name, fmtMs(s?.median), fmtMs(s?.min), note]);
const ratioNote = (r, ours, raw, goal = GOAL) =>
  `ratio ${r.toFixed(2)}${goal === null ? '' : ` (goal <= ${goal}) ${r <= goal ? 'ok' : 'OVER GOAL'}`}; ratio of mins ${(ours.min / raw.min).toFixed(2)}`;

// ---------------------------------------------------------------------------------------------

const results = { when: new Date().toISOString(), node: process.version, runs: RUNS, generator: GEN_VERSION };
let docker = null; // { container, image, dir } to clean up
const verifyLeft = { containers: new Set(), images: new Set(), dirs: new Set() }; // benchVerify's

function cleanupDocker() {
  for (const c of children) c.kill('SIGTERM');
  if (verifyLeft.containers.size) spawnSync('docker', ['rm', '-f', ...verifyLeft.containers], { stdio: 'ignore' });
  if (verifyLeft.images.size) spawnSync('docker', ['rmi', '-f', ...verifyLeft.images], { stdio: 'ignore' });
  for (const d of verifyLeft.dirs) rmSync(d, { recursive: true, force: true });
  verifyLeft.containers.clear();
  verifyLeft.images.clear();
  verifyLeft.dirs.clear();
  if (!docker) return;
  const d = docker;
  docker = null;
  if (d.container) spawnSync('docker', ['rm', '-f', d.container], { stdio: 'ignore' });
  if (d.image) spawnSync('docker', ['rmi', '-f', d.image], { stdio: 'ignore' });
  if (d.dir) rmSync(d.dir, { recursive: true, force: true });
  if (d.clone) rmSync(d.clone, { recursive: true, force: true });
}
process.on('exit', cleanupDocker);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    cleanupDocker();
    process.exit(130);
  });
}

async function main() {
  const load = loadavg().map((x) => x.toFixed(2));
  console.log(`Build Provenance bench (runs=${RUNS}, node ${process.version}, ${cpus().length} CPUs, load ${load.join(' ')})`);
  results.machine = { cpus: cpus().length, loadavgAtStart: loadavg() };
  if (!FAKE && !existsSync(CLI)) {
    throw new Error(`${CLI} is missing. Run \`npm run build\` first (npm run bench does), or pass --fake-inputs for the raw-git side only.`);
  }

  if (NESTED_ONLY) {
    const info = await ensureRepo({ log: console.log });
    results.nested = await benchNested({ dir: info.dir, R: info.shas[COMMITS - RANGE] });
    printTable();
    return;
  }
  if (STATUS_ONLY) {
    const info = await ensureRepo({ log: console.log });
    const base = await timeInterleaved({ startup: () => runCli(['--version']) });
    row('provenance --version (CLI startup floor)', base.startup);
    results.startup = base.startup;
    results.status = await benchStatus(info.dir, info, await cliJson(info.dir, ['inputs']));
    printTable();
    return;
  }

  // 1. Repository -------------------------------------------------------------------------------
  const repoInfo = await ensureRepo({ log: console.log });
  const repo = repoInfo.dir;
  console.log(`repo: ${repo}\n  ${repoInfo.commits} commits, ${repoInfo.fileCount} files, ` +
    (repoInfo.cached ? 'cached' : `generated in ${(repoInfo.generatedMs / 1000).toFixed(1)} s`));
  results.repo = { dir: repo, commits: repoInfo.commits, files: repoInfo.fileCount, cached: repoInfo.cached, generatedMs: repoInfo.generatedMs ?? null };

  // 2. Range ------------------------------------------------------------------------------------
  const B = repoInfo.shas[COMMITS];
  const A = repoInfo.shas[COMMITS - RANGE];
  const total = Number((await git(repo, ['rev-list', '--count', `${A}..${B}`])).trim());
  check(total === RANGE, `range A..B has ${RANGE} commits`, `git rev-list --count says ${total}`);

  // 3. Pathspecs ----------------------------------------------------------------------------------
  let inputs;
  if (FAKE) {
    inputs = { dockerfile: DOCKERFILE, ignoreFile: IGNORE_FILE, pathspecs: REFERENCE_PATHSPECS, external: [] };
    console.log('inputs: FAKE pathspecs (--fake-inputs)');
  } else {
    inputs = await cliJson(repo, ['inputs']);
  }
  if (!Array.isArray(inputs.pathspecs) || inputs.pathspecs.length === 0) throw new Error(`inputs gave no pathspecs: ${JSON.stringify(inputs).slice(0, 500)}`);
  const shown = inputs.pathspecs.slice(0, 16).join('  ') + (inputs.pathspecs.length > 16 ? `  … (+${inputs.pathspecs.length - 16} more)` : '');
  console.log(`inputs: dockerfile=${inputs.dockerfile} ignoreFile=${inputs.ignoreFile}\n  pathspecs (${inputs.pathspecs.length}): ${shown}` +
    `\n  external: ${(inputs.external ?? []).map((e) => (typeof e === 'string' ? e : e.source)).join(', ') || '-'}`);
  results.inputs = inputs;

  console.log('\ncorrectness');
  check(inputs.dockerfile === DOCKERFILE, `inputs.dockerfile is ${DOCKERFILE}`, `got ${inputs.dockerfile}`);
  check(inputs.ignoreFile === IGNORE_FILE, `inputs.ignoreFile is ${IGNORE_FILE}`, `got ${inputs.ignoreFile}`);

  // Ground truth from the generator's own rules, over every commit of the range (untimed).
  const everything = parseRawLog(await git(repo, ['log', '--no-renames', '--name-only', '--format=%H', `${A}..${B}`]));
  const truth = everything.map((c) => ({ sha: c.sha, files: c.files.filter(isImageInput) })).filter((c) => c.files.length > 0);
  check(everything.length === RANGE, 'unfiltered git log lists every commit of the range', `${everything.length}`);

  const rawArgs = ['log', '--no-renames', '--name-only', '--format=%H', `${A}..${B}`, '--', ...inputs.pathspecs];
  const rawList = parseRawLog((await must('git', rawArgs, { cwd: repo })).stdout);
  check(!diffLists(rawList, truth, 'raw git vs generator'), 'pathspecs select exactly the generator\'s image inputs (raw git log vs ground truth)', diffLists(rawList, truth, 'raw git vs generator'));
  const refArgs = ['log', '--no-renames', '--name-only', '--format=%H', `${A}..${B}`, '--', ...REFERENCE_PATHSPECS];
  const refDiff = diffLists(parseRawLog((await must('git', refArgs, { cwd: repo })).stdout), truth, 'reference pathspecs vs generator');
  check(!refDiff, 'bench self-check: the hand-written reference pathspecs match the ground truth', refDiff);
  const pct = ((100 * truth.length) / RANGE).toFixed(1);
  console.log(`  range: ${RANGE} commits, ${truth.length} touch image inputs (${pct}%)`);
  results.range = { from: A, to: B, total: RANGE, relevant: truth.length };

  // 4. diff -----------------------------------------------------------------------------------
  const baseJobs = { node: () => run(process.execPath, ['-e', '0']) };
  // Node 20 parses the whole NODE_EXTRA_CA_CERTS file before running any JavaScript; the
  // `provenance` executable defers it (scripts/build.mjs). Shown so the baseline is understood.
  const extraCa = process.env.NODE_EXTRA_CA_CERTS;
  if (extraCa) baseJobs.nodeNoCa = () => run(process.execPath, ['-e', '0'], { env: { ...process.env, NODE_EXTRA_CA_CERTS: '' } });
  if (!FAKE) baseJobs.startup = () => runCli(['--version']);
  const base = await timeInterleaved(baseJobs);
  row('node -e 0 (baseline)', base.node);
  if (extraCa) row('node -e 0 without NODE_EXTRA_CA_CERTS', base.nodeNoCa, `(it is set here: ${extraCa})`);
  if (!FAKE) row('provenance --version (CLI startup floor)', base.startup);
  results.baseline = base.node;
  results.startup = base.startup ?? null;

  if (!FAKE) {
    const ours = await cliJson(repo, ['diff', A, B]);
    check(ours.from === A && ours.to === B, 'diff: from/to are the full shas of A and B', `from=${ours.from} to=${ours.to}`);
    check(ours.total === RANGE, `diff: total is ${RANGE}`, `got ${ours.total}`);
    check(Array.isArray(ours.relevant) && ours.relevant.every((c) => /^[0-9a-f]{40}$/.test(c.sha) && Array.isArray(c.files)),
      'diff: relevant[] has full 40-hex shas and files[]');
    const d = diffLists(ours.relevant ?? [], rawList, 'provenance diff vs raw git');
    check(!d, `diff: same ${rawList.length} commits in the same order, same files each, as raw git`, d);
    const dt = diffLists(ours.relevant ?? [], truth, 'provenance diff vs generator');
    if (d && !dt) console.log('       (but provenance diff does match the generator\'s ground truth)');
  }
  console.log(`\ntiming diff: ${RUNS} interleaved runs each …`);
  const diffJobs = { raw: () => run('git', rawArgs, { cwd: repo }) };
  if (!FAKE) {
    // Cold: no caches (nothing kept from an earlier run); repeated: the result cache answers.
    diffJobs.ours = () => cli(repo, ['diff', A, B], { PROVENANCE_NO_CACHE: '1' });
    diffJobs.repeated = () => cli(repo, ['diff', A, B]);
  }
  diffJobs.ref = () => run('git', refArgs, { cwd: repo });
  const dt = await timeInterleaved(diffJobs);
  row(`git log A..B -- <${inputs.pathspecs.length} pathspecs from inputs> (raw)`, dt.raw);
  results.diff = { raw: dt.raw };
  if (!FAKE) {
    const r = dt.ours.median / dt.raw.median;
    row('provenance diff A B --json, cold (PROVENANCE_NO_CACHE=1)', dt.ours, ratioNote(r, dt.ours, dt.raw));
    row('  the same range again (result cache)', dt.repeated, ratioNote(dt.repeated.median / dt.raw.median, dt.repeated, dt.raw, null));
    results.diff = { ...results.diff, ours: dt.ours, ratio: r, ratioOfMins: dt.ours.min / dt.raw.min, goal: GOAL, repeated: dt.repeated, repeatedRatio: dt.repeated.median / dt.raw.median };
  }
  row(`  for reference: same git log with ${REFERENCE_PATHSPECS.length} hand-written pathspecs`, dt.ref,
    `the inputs' pathspecs take ${(dt.raw.median / dt.ref.median).toFixed(2)}x this`);
  results.diff.reference = { pathspecs: REFERENCE_PATHSPECS, time: dt.ref };

  // 6. inputs / affects ---------------------------------------------------------------------------
  if (!FAKE) {
    console.log('');
    const inputPath = 'desktop/shared/detect-render-node.sh';
    const otherPath = truth.length ? 'frontend/package.json' : null;
    const a1 = await cliJson(repo, ['affects', inputPath]);
    const r1 = Array.isArray(a1) ? a1[0] : a1;
    check(r1?.affects === true, `affects ${inputPath} is true`, JSON.stringify(a1).slice(0, 300));
    if (otherPath) {
      const a2 = await cliJson(repo, ['affects', otherPath]);
      const r2 = Array.isArray(a2) ? a2[0] : a2;
      check(r2?.affects === false, `affects ${otherPath} is false (only the unreachable stage copies frontend/)`, JSON.stringify(a2).slice(0, 300));
    }
    console.log(`timing affects / inputs …`);
    const at = await timeInterleaved({ affects: () => cli(repo, ['affects', inputPath]), inputs: () => cli(repo, ['inputs']) });
    row(`provenance affects ${inputPath}`, at.affects);
    row('provenance inputs --json', at.inputs);
    results.affects = at.affects;
    results.inputsTime = at.inputs;
  }

  // 5. status -----------------------------------------------------------------------------------
  results.status = FAKE ? { skipped: 'fake inputs' } : await benchStatus(repo, repoInfo, inputs);
  results.verify = FAKE || results.status.skipped ? { skipped: results.status.skipped ?? 'fake inputs' } : await benchVerify(repo, repoInfo);
  results.helix = FAKE ? { skipped: 'fake inputs' } : await benchHelix();
  results.nested = FAKE ? { skipped: 'fake inputs' } : await benchNested({ dir: repo, R: repoInfo.shas[COMMITS - RANGE] });
  printTable();
}

function printTable() {
  console.log('');
  const head = ['', 'median', 'min', ''];
  const w = [0, 1, 2].map((i) => Math.max(head[i].length, ...rows.map((r) => r[i].length)));
  const line = (r) => `  ${r[0].padEnd(w[0])}  ${r[1].padStart(w[1])}  ${r[2].padStart(w[2])}  ${r[3]}`.trimEnd();
  console.log(line(head));
  for (const r of rows) console.log(line(r));
  console.log(`  (${RUNS} interleaved runs each after a warm-up; process spawn included; ratios use medians and never fail the run)`);
}

/** Containers left by a bench run that was killed (SIGKILL skips the exit handler). */
function removeStaleContainers() {
  const r = spawnSync('docker', ['ps', '-a', '--filter', 'name=^bp-bench-[0-9]+$', '--format', '{{.Names}}'], { encoding: 'utf8' });
  for (const n of (r.stdout || '').split('\n').filter(Boolean)) {
    const pid = Number(n.slice('bp-bench-'.length));
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch (e) {
      alive = e.code === 'EPERM';
    }
    if (!alive) {
      console.log(`  removing stale container ${n} (its bench process ${pid} is gone)`);
      spawnSync('docker', ['rm', '-f', n], { stdio: 'ignore' });
    }
  }
}

/** The goals of issue 15, status against a cold raw `git log R..HEAD -- <pathspecs>`: medians. */
const STATUS_GOALS = { cold: 1.15, repeated: 0.1, afterCommit: 0.2 };

async function benchStatus(repo, repoInfo, inputs) {
  const R = repoInfo.shas[COMMITS - RANGE];
  const skipped = dockerSkip();
  if (skipped) return skipped;
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
  const tag = `${IMAGE}:bench`;
  const name = `bp-bench-${process.pid}`;
  removeStaleContainers();
  await startContainer(busybox, tag, name, R);
  // In a `--shared` clone (the objects stay where they are): the rounds after a new commit
  // commit there, and the generated repository stays as the generator made it.
  const clone = mkdtempSync(join(tmpdir(), 'bp-bench-status-'));
  docker.clone = clone;
  await must('git', ['clone', '-q', '--shared', repo, clone]);
  const out = await statusRounds(clone, { R, inputs, name, total: RANGE, label: 'generated repo' });
  cleanupDocker();
  return out;
}

/** Why status cannot be benched here (null when it can). */
function dockerSkip() {
  if (NO_DOCKER) {
    console.log('\nstatus: skipped (--no-docker)');
    return { skipped: '--no-docker' };
  }
  const v = spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], { encoding: 'utf8', timeout: 15_000 });
  if (v.error || v.status !== 0) {
    const why = v.error ? v.error.message : (v.stderr || '').trim().split('\n').pop();
    console.log(`\nstatus: SKIPPED: Docker is not reachable (${why}).\n  Start a daemon with \`bash scripts/docker-daemon.sh start\` and rerun to bench \`provenance status\`.`);
    return { skipped: `docker unreachable: ${why}` };
  }
  console.log(`\nstatus (Docker ${v.stdout.trim()})`);
  if (!['/bin/busybox', '/usr/bin/busybox'].some((p) => existsSync(p))) {
    console.log('  SKIPPED: no static busybox (apt-get install -y busybox-static)');
    return { skipped: 'no busybox' };
  }
  return null;
}

/** A FROM-scratch busybox image labelled with `rev`, and a container running it (host network). */
async function startContainer(busybox, tag, name, rev) {
  const dir = mkdtempSync(join(tmpdir(), 'bp-bench-img-'));
  docker = { ...docker, dir };
  copyFileSync(busybox, join(dir, 'busybox'));
  writeFileSync(join(dir, 'Dockerfile'), ['FROM scratch', 'COPY busybox /bin/busybox',
    `LABEL org.opencontainers.image.revision=${rev}`, 'CMD ["/bin/busybox","sleep","3600"]', ''].join('\n'));
  const env = { ...process.env, DOCKER_BUILDKIT: '0' };
  docker.image = tag;
  await must('docker', ['build', '-q', '-t', tag, dir], { env });
  docker.container = name;
  await must('docker', ['run', '-d', '--network', 'host', '--name', name, tag]);
}

/**
 * status against raw git, in one interleaved run: cold (no caches: the build-provenance folder
 * removed first), repeated (nothing changed), and after one new commit on HEAD (made untimed
 * before each round). Each mode's answer is checked against raw git and against a cold answer.
 */
async function statusRounds(dir, { R, inputs, name, total, label, extraArgs = [] }) {
  const status = (env) => cli(dir, ['status', ...extraArgs], env);
  const statusJson = async (env) => {
    const r = await status(env);
    if (r.status !== 0) throw new Error(`provenance status exited ${r.status}\n${r.stderr.trim()}\n${r.stdout.slice(0, 2000)}`);
    const ours = JSON.parse(r.stdout);
    const snaps = Array.isArray(ours) ? ours : Array.isArray(ours.targets) ? ours.targets : [ours];
    return snaps.find((s) => s?.running?.some((c) => c.name === name || c.name === `/${name}`)) ?? snaps[0];
  };
  const rawArgs = ['log', '--format=%H', `${R}..HEAD`, '--', ...inputs.pathspecs];
  const rawShas = async () => (await must('git', rawArgs, { cwd: dir })).stdout.split('\n').filter(Boolean);
  /** What a status says about the range: everything but the clock-dependent ages. */
  const answer = (snap) => JSON.stringify({ state: snap.state, head: snap.head, undeployed: { ...snap.undeployed, oldestRelevantAgeSeconds: null }, unbuilt: snap.unbuilt });
  const checkMode = async (mode, env) => {
    const snap = await statusJson(env);
    const u = snap?.undeployed;
    const want = await rawShas();
    const head = (await git(dir, ['rev-parse', 'HEAD'])).trim();
    check(!!u && snap.running?.some((c) => c.name === name || c.name === `/${name}`), `${label}, ${mode}: sees running container ${name}`, JSON.stringify(snap).slice(0, 400));
    if (!u) return;
    const behind = Number((await git(dir, ['rev-list', '--count', `${R}..HEAD`])).trim());
    check(u.total === behind, `${label}, ${mode}: undeployed.total is ${behind}`, `got ${u.total} (state=${snap.state}: ${snap.summary})`);
    check(u.relevantCount === want.length, `${label}, ${mode}: undeployed.relevantCount equals raw git (${want.length})`, `got ${u.relevantCount}`);
    const got = (u.relevant ?? []).map((c) => c.sha);
    check(got.length > 0 && got.join() === want.slice(0, got.length).join(), `${label}, ${mode}: newest ${got.length} relevant shas match the head of raw git's list`,
      `got ${got.map((x) => x.slice(0, 8)).join(',')} want ${want.slice(0, got.length).map((x) => x.slice(0, 8)).join(',')}`);
    const cold = await statusJson({ PROVENANCE_NO_CACHE: '1' });
    check(answer(snap) === answer(cold), `${label}, ${mode}: the answer equals the cold answer (HEAD ${head.slice(0, 8)})`, `${answer(snap).slice(0, 300)}\n       vs ${answer(cold).slice(0, 300)}`);
    console.log(`  ${mode}: total=${u.total} relevantCount=${u.relevantCount} (raw git: ${want.length}), state=${snap.state}`);
  };
  const cacheDir = join(dir, '.git', 'build-provenance');
  const forget = () => rmSync(cacheDir, { recursive: true, force: true });
  let n = 0;
  const commitOne = async () => {
    // A relevant commit (an input changes): the new commit's files are walked and listed.
    n++;
    const rel = 'api/bench_status.go';
    writeFileSync(join(dir, rel), `package api // bench ${process.pid} ${n}\n`);
    await must('git', ['add', '--', rel], { cwd: dir });
    await must('git', ['-c', 'user.name=Bench', '-c', 'user.email=bench@example.com', '-c', 'commit.gpgsign=false', 'commit', '-q', '--no-verify', '-m', `bench: commit ${n}`], { cwd: dir });
  };
  forget();
  await checkMode('cold', {});
  await checkMode('repeated', {});
  await commitOne();
  await checkMode('after one new commit', {});
  console.log(`timing status (${label}) …`);
  const st = await timeInterleaved({
    raw: () => run('git', rawArgs, { cwd: dir }),
    cold: () => {
      forget();
      return status({});
    },
    repeated: () => status({}),
    afterCommit: async () => {
      await status({}); // the cache holds the current HEAD (untimed)
      await commitOne();
      return status({});
    },
  });
  // The rounds left the cache at the last HEAD: check that answer too.
  await checkMode('after the timed rounds', {});
  const ratio = (k) => st[k].median / st.raw.median;
  row(`git log R..HEAD -- <pathspecs> (raw, ${label})`, st.raw);
  row(`provenance status --json, cold (no caches)`, st.cold, ratioNote(ratio('cold'), st.cold, st.raw, STATUS_GOALS.cold));
  row(`  repeated, nothing changed`, st.repeated, ratioNote(ratio('repeated'), st.repeated, st.raw, STATUS_GOALS.repeated));
  row(`  after one new commit on HEAD`, st.afterCommit, ratioNote(ratio('afterCommit'), st.afterCommit, st.raw, STATUS_GOALS.afterCommit));
  // What no answer can go below: starting the CLI at all (`provenance --version`, measured above).
  if (results.startup) row(`  for reference: the CLI's start-up floor against this raw git`, results.startup, `ratio ${(results.startup.median / st.raw.median).toFixed(2)}`);
  return {
    label,
    total,
    raw: st.raw,
    cold: st.cold,
    repeated: st.repeated,
    afterCommit: st.afterCommit,
    ratios: { cold: ratio('cold'), repeated: ratio('repeated'), afterCommit: ratio('afterCommit') },
    goals: STATUS_GOALS,
    startup: results.startup,
  };
}

/** The same rounds on a helix checkout, when one is given. */
async function benchHelix() {
  const at = argv.includes('--helix') ? argv[argv.indexOf('--helix') + 1] : process.env.PROVENANCE_BENCH_HELIX;
  if (!at) {
    console.log('\nhelix: not measured (no checkout given: --helix DIR or PROVENANCE_BENCH_HELIX=DIR)');
    return { skipped: 'no helix checkout given' };
  }
  const dir = resolve(at);
  if (!existsSync(join(dir, '.git')) || !existsSync(join(dir, 'Dockerfile.ubuntu-helix'))) {
    console.log(`\nhelix: not measured (${dir} is not a helix checkout with Dockerfile.ubuntu-helix)`);
    return { skipped: `not a helix checkout: ${dir}` };
  }
  const skipped = dockerSkip();
  if (skipped) return skipped;
  const behind = Number(argv.includes('--helix-behind') ? argv[argv.indexOf('--helix-behind') + 1] : 21880);
  const clone = mkdtempSync(join(tmpdir(), 'bp-bench-helix-'));
  docker = { clone };
  await must('git', ['clone', '-q', '--shared', dir, clone]);
  const R = (await git(clone, ['rev-parse', `HEAD~${behind}`])).trim();
  // An image of our own name, so that none of the machine's helix-ubuntu images is touched.
  const image = `bp-bench-helix-${process.pid}`;
  const extraArgs = ['--image', image, '--dockerfile', 'Dockerfile.ubuntu-helix'];
  const inputs = await cliJson(clone, ['inputs', ...extraArgs]);
  const name = `bp-bench-${process.pid}`;
  await startContainer(['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p)), `${image}:bench`, name, R);
  const out = await statusRounds(clone, { R, inputs, name, total: behind, label: 'helix', extraArgs });
  cleanupDocker();
  return out;
}

/**
 * Docker-in-Docker (issue 13): `status` of a target whose container runs inside a sandbox (a
 * container on the test daemon holding a second dockerd's socket and a volume at
 * /var/lib/docker, reached by `docker system dial-stdio` exec'd in it) against the same status
 * with the container on the host daemon and nested discovery off, in one interleaved run. Two
 * clones of one small repository, the same deployed revision and the same range, so git costs
 * the same on both sides and the ratio is what the nested daemon adds. Goal: at most 1.25x.
 */
async function benchNested(big) {
  const skipped = dockerSkip();
  if (skipped) return skipped;
  // The sandbox helpers of the tests (TypeScript; `npm run bench` runs node with tsx).
  let sup;
  try {
    sup = await import('../test/support/innerDaemon.ts');
  } catch (err) {
    console.log(`\nnested: not measured (the test helpers need tsx: run it as npm run bench): ${err.message}`);
    return { skipped: 'tsx missing' };
  }
  const problem = sup.innerProblem();
  if (problem) {
    console.log(`\nnested: not measured (${problem})`);
    return { skipped: problem };
  }
  const { buildBusyboxImage, uniqueName } = await import('../test/support/dockerFixtures.ts');
  const { FixtureRepo } = await import('../test/support/gitFixture.ts');
  const sandboxName = uniqueName('bench-sandbox');
  const containers = [];
  const images = [];
  const dirs = [];
  let inner;
  try {
    inner = await sup.InnerDaemon.start();
    const sandboxImage = await sup.buildSandboxImage(true);
    images.push(sandboxImage);
    await sup.runSandbox(sandboxImage, inner, sandboxName);
    // Each case: a repository, its deployed revision R and its Dockerfile; two clones of it (same
    // commits), one whose target runs in the sandbox, one whose target runs on the host.
    const cases = [];
    const small = FixtureRepo.create('bp-bench-nested-');
    dirs.push(small.dir);
    const R0 = small.commit('init', { Dockerfile: 'FROM scratch\nCOPY app/ /app/\n', 'app/run': 'v0\n', 'docs/readme.md': 'x\n' });
    for (let i = 1; i <= 200; i++) small.commit(`commit ${i}`, i % 4 === 0 ? { 'app/run': `v${i}\n` } : { 'docs/readme.md': `x${i}\n` });
    cases.push({ label: 'small repo, 200 behind (Docker-bound)', dir: small.dir, R: R0, dockerfile: 'Dockerfile' });
    if (big) cases.push({ label: `bench repo, ${RANGE} behind`, dir: big.dir, R: big.R, dockerfile: DOCKERFILE });
    let k = 0;
    for (const c of cases) {
      k++;
      const clone = (side) => {
        const d = mkdtempSync(join(tmpdir(), `bp-bench-nested-${side}-`));
        dirs.push(d);
        return d;
      };
      c.nestedDir = clone('in');
      c.hostDir = clone('host');
      await must('git', ['clone', '-q', '--shared', c.dir, c.nestedDir]);
      await must('git', ['clone', '-q', '--shared', c.dir, c.hostDir]);
      const image = uniqueName('helix-ubuntu');
      const img = await buildBusyboxImage({ tags: [`${image}:latest`], labels: { 'org.opencontainers.image.revision': c.R } });
      images.push(`${image}:latest`);
      await sup.copyImageInto(inner, img.id);
      const tag = img.id.replace(/^sha256:/, '').slice(0, 6);
      await inner.cli(['tag', img.id, `registry:5000/${image}:${tag}`]);
      c.nestedName = `ubuntu-external-0${k}`;
      await inner.cli(['run', '-d', '--network', 'host', '--name', c.nestedName, `registry:5000/${image}:${tag}`]);
      // The host side: another build (its own image ID, or the nested side would count it as
      // running too) of the same revision, run on the host daemon, nested discovery off.
      const hostImage = uniqueName('helix-host');
      await buildBusyboxImage({ tags: [`${hostImage}:latest`], labels: { 'org.opencontainers.image.revision': c.R, 'bench.side': 'host' } });
      images.push(`${hostImage}:latest`);
      const hostContainer = uniqueName('bench-host');
      containers.push(hostContainer);
      await must('docker', ['run', '-d', '--network', 'host', '--name', hostContainer, `${hostImage}:latest`]);
      writeFileSync(join(c.nestedDir, '.provenance.json'), JSON.stringify({ targets: [{ name: 'desktop', image, dockerfile: c.dockerfile }] }));
      writeFileSync(join(c.hostDir, '.provenance.json'), JSON.stringify({ targets: [{ name: 'desktop', image: hostImage, dockerfile: c.dockerfile, docker: { nested: false } }] }));
    }
    console.log(`\nnested: status of a container in sandbox ${sandboxName} (a second dockerd) against one on the host daemon`);
    const snapOf = async (dir) => {
      const r = await cli(dir, ['status']);
      if (r.status !== 0 && r.status !== 1) throw new Error(`status exited ${r.status}: ${r.stderr.slice(0, 500)}`);
      const j = JSON.parse(r.stdout);
      return Array.isArray(j) ? j[0] : j;
    };
    const jobs = {};
    for (const c of cases) {
      const n = await snapOf(c.nestedDir);
      const h = await snapOf(c.hostDir);
      const nRun = n.running?.[0];
      check(n.running?.length === 1 && nRun?.via === sandboxName && nRun?.name?.includes(c.nestedName), `nested (${c.label}): the one running container is found via the sandbox`, JSON.stringify(n.running ?? n).slice(0, 400));
      check(h.running?.length === 1 && h.running[0].via === null, `nested (${c.label}): the host container is direct (via null)`, JSON.stringify(h.running ?? h).slice(0, 400));
      check(JSON.stringify(n.undeployed?.relevant) === JSON.stringify(h.undeployed?.relevant) && n.undeployed?.total === h.undeployed?.total && n.undeployed?.total > 0,
        `nested (${c.label}): both sides see the same ${n.undeployed?.total} undeployed commits`, `nested ${n.undeployed?.total}/${n.undeployed?.relevantCount}, host ${h.undeployed?.total}/${h.undeployed?.relevantCount}`);
      jobs[`${c.label}|host`] = () => cli(c.hostDir, ['status']);
      jobs[`${c.label}|nested`] = () => cli(c.nestedDir, ['status']);
    }
    // And cold (no result cache): the walk of the range runs beside the Docker reads.
    const coldCase = cases[cases.length - 1];
    jobs.coldHost = () => cli(coldCase.hostDir, ['status'], { PROVENANCE_NO_CACHE: '1' });
    jobs.coldNested = () => cli(coldCase.nestedDir, ['status'], { PROVENANCE_NO_CACHE: '1' });
    const st = await timeInterleaved(jobs);
    const out = {};
    for (const c of cases) {
      const h = st[`${c.label}|host`];
      const n = st[`${c.label}|nested`];
      const r = n.median / h.median;
      row(`status, ${c.label}: the container on the host daemon`, h);
      row('  the same, the container inside a Docker-in-Docker sandbox', n, `ratio ${r.toFixed(2)} (goal <= 1.25) ${r <= 1.25 ? 'ok' : 'OVER GOAL'}; ratio of mins ${(n.min / h.min).toFixed(2)}`);
      out[c.label] = { host: h, nested: n, ratio: r, goal: 1.25 };
    }
    const rc = st.coldNested.median / st.coldHost.median;
    row(`status, ${coldCase.label}, cold (PROVENANCE_NO_CACHE=1): on the host daemon`, st.coldHost);
    row('  the same, inside the sandbox', st.coldNested, `ratio ${rc.toFixed(2)} (goal <= 1.25) ${rc <= 1.25 ? 'ok' : 'OVER GOAL'}; ratio of mins ${(st.coldNested.min / st.coldHost.min).toFixed(2)}`);
    out[`${coldCase.label}, cold`] = { host: st.coldHost, nested: st.coldNested, ratio: rc, goal: 1.25 };
    // What the sandbox adds at least: one exec of `docker system dial-stdio` (runc starts a process in it).
    const ex = await timeInterleaved({ exec: () => run('docker', ['exec', sandboxName, '/bin/busybox', 'true']), version: () => run('docker', ['version']) });
    row('  for reference: docker exec <sandbox> true', ex.exec, `docker version (the CLI's own start) ${fmtMs(ex.version.median)}`);
    out.execFloor = { exec: ex.exec, version: ex.version };
    return out;
  } finally {
    await sup.removeSandbox(sandboxName);
    if (containers.length) spawnSync('docker', ['rm', '-f', ...containers], { stdio: 'ignore' });
    if (images.length) spawnSync('docker', ['rmi', '-f', ...images], { stdio: 'ignore' });
    await inner?.dispose();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

/**
 * Verified provenance: the first `status` on a NEW unlabeled image (its bytes read and judged:
 * the revision comes from its content, one blob walk) against the first `status` on a new
 * labelled image of the same content (its bytes read and checked against the label), and the
 * second status on each (nothing read, nothing walked). Each round builds both images anew (a
 * nonce file makes every build a new image ID, so no cached verdict helps the first status) with
 * the verifiable files of commit R at their destinations, and runs a container of each.
 */
async function benchVerify(repo, repoInfo) {
  const R = repoInfo.shas[COMMITS - RANGE];
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
  if (!busybox) return { skipped: 'no busybox' };
  // The generator's final stage: ADD detect-render-node.sh and COPY start-*.sh into
  // /usr/local/bin/, COPY desktop/ubuntu-config/ into /etc/helix/ (its ignore file drops *.md).
  const listed = (await git(repo, ['ls-tree', '-r', '--name-only', R, '--', 'desktop/shared', 'desktop/ubuntu-config'])).split('\n').filter(Boolean);
  const files = listed.filter((p) => isImageInput(p) && (p.startsWith('desktop/shared/') || p.startsWith('desktop/ubuntu-config/')));
  const dest = (p) => (p.startsWith('desktop/shared/') ? `usr/local/bin/${p.slice('desktop/shared/'.length)}` : `etc/helix/${p.slice('desktop/ubuntu-config/'.length)}`);
  const ctx = mkdtempSync(join(tmpdir(), 'bp-bench-verify-'));
  verifyLeft.dirs.add(ctx);
  copyFileSync(busybox, join(ctx, 'busybox'));
  for (const f of files) {
    const to = join(ctx, dest(f));
    mkdirSync(dirname(to), { recursive: true });
    writeFileSync(to, (await must('git', ['show', `${R}:${f}`], { cwd: repo })).stdout);
  }
  console.log(`\nverified provenance: ${files.length} verifiable files of R=${R.slice(0, 12)} baked into FROM-scratch images (a new image per round)`);
  const env = { ...process.env, DOCKER_BUILDKIT: '0' };
  const names = { labelled: `bp-bench-vl-${process.pid}`, unlabeled: `bp-bench-vu-${process.pid}` };
  const times = { firstL: [], firstU: [], secondL: [], secondU: [] };
  let checked = false;
  for (let round = -1; round < RUNS; round++) {
    writeFileSync(join(ctx, 'nonce'), `${process.pid}-${round}-${Date.now()}\n`);
    for (const [kind, name] of Object.entries(names)) {
      const label = kind === 'labelled' ? [`LABEL org.opencontainers.image.revision=${R}`] : [];
      writeFileSync(join(ctx, 'Dockerfile'), ['FROM scratch', 'COPY busybox /bin/busybox', 'COPY usr/ /usr/', 'COPY etc/ /etc/', 'COPY nonce /etc/bench-nonce', ...label, 'CMD ["/bin/busybox","sleep","3600"]', ''].join('\n'));
      const tag = `${name}:r${round + 1}`;
      verifyLeft.images.add(tag);
      await must('docker', ['build', '-q', '-t', tag, ctx], { env });
      verifyLeft.containers.add(`${name}-c`);
      await run('docker', ['rm', '-f', `${name}-c`]);
      await must('docker', ['run', '-d', '--network', 'host', '--name', `${name}-c`, tag]);
    }
    const status = (name) => cli(repo, ['status', '--image', name]);
    const order = round % 2 ? ['L', 'U'] : ['U', 'L'];
    const out = {};
    for (const pass of ['first', 'second']) {
      for (const k of order) {
        const r = await status(k === 'L' ? names.labelled : names.unlabeled);
        if (r.status !== 0) throw new Error(`status --image ${k} exited ${r.status}: ${r.stderr.slice(0, 500)}`);
        out[`${pass}${k}`] = JSON.parse(r.stdout);
        if (round >= 0) times[`${pass}${k}`].push(r.ms);
      }
    }
    if (!checked) {
      checked = true;
      const u = out.firstU.running?.[0];
      const l = out.firstL.running?.[0];
      check(u?.revisionSource === 'content' && u?.verification?.state === 'consistent', 'verify: the unlabeled image gets its revision from its content', `${u?.revisionSource} ${u?.verification?.state}: ${u?.verification?.reason ?? out.firstU.summary}`);
      // HEAD's Dockerfile and tree decide what is checked: a file added after R is absent from the image.
      const judged = (v) => (v?.files ?? []).every((f) => f.verdict === 'matches' || (f.verdict === 'absent' && !files.includes(f.path)));
      check(!!u?.verification?.consistentWith && judged(u.verification) && u.verification.matched > 0, `verify: every baked file of R matches (${u?.verification?.matched} of ${u?.verification?.checked}; the rest were added after R)`, JSON.stringify(u?.verification?.files?.filter((f) => f.verdict !== 'matches')).slice(0, 400));
      check(l?.verification?.state === 'verified' && l.verification.matched === files.length, `verify: the labelled image is verified by content (${l?.verification?.matched} of ${l?.verification?.checked})`, `${l?.verification?.state}: ${l?.verification?.reason}`);
      check(JSON.stringify(out.secondU.running?.[0]?.verification) === JSON.stringify(u?.verification), 'verify: the second status gives the same verification', '');
      console.log(`  unlabeled: revision ${u?.revision?.slice(0, 12)} by content, consistent with ${u?.verification?.consistentWith?.oldest?.slice(0, 12)}..${u?.verification?.consistentWith?.newest?.slice(0, 12)}, ${u?.verification?.uncertain?.count ?? 0} uncertain`);
    }
    await run('docker', ['rm', '-f', `${names.labelled}-c`, `${names.unlabeled}-c`]);
    await run('docker', ['rmi', '-f', `${names.labelled}:r${round + 1}`, `${names.unlabeled}:r${round + 1}`]);
  }
  cleanupDocker();
  const st = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, stats(v)]));
  const r1 = st.firstU.median / st.firstL.median;
  const r2 = st.secondU.median / st.secondL.median;
  const note = (r, goal, a, b) => `ratio ${r.toFixed(2)} (goal <= ${goal}) ${r <= goal ? 'ok' : 'OVER GOAL'}; ratio of mins ${(a.min / b.min).toFixed(2)}`;
  row(`status, new labelled image (${files.length} files read, checked against the label)`, st.firstL);
  row('status, new unlabeled image (files read, revision derived from content)', st.firstU, note(r1, 1.3, st.firstU, st.firstL));
  row('status, labelled image again (nothing read)', st.secondL);
  row('status, unlabeled image again (nothing read)', st.secondU, note(r2, 1.05, st.secondU, st.secondL));
  return { files: files.length, ...st, firstRatio: r1, secondRatio: r2, goals: { first: 1.3, second: 1.05 } };
}

/**
 * The editor's figures: bundle and .vsix sizes (measured now), and what the last real-VS-Code run
 * (npm run test:vscode) measured inside the extension host: activate() time, the time to
 * decorate a 10,000-line input file against a raw `git diff` in the same run, and the git
 * processes started while typing.
 */
function editorFigures() {
  console.log('\neditor');
  const root = new URL('..', import.meta.url).pathname;
  const size = (f) => (existsSync(join(root, f)) ? statSync(join(root, f)).size : null);
  const kb = (n) => (n === null ? 'missing' : `${(n / 1024).toFixed(0)} KB`);
  const pack = spawnSync('npx', ['vsce', 'package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '--out', 'test-artifacts/bench.vsix'], { cwd: root, encoding: 'utf8' });
  const out = {
    extensionBundle: size('dist/extension.js'),
    cliBundle: size('dist/cli-main.js'),
    dockerodeBundle: size('dist/dockerode.js'),
    vsix: pack.status === 0 ? size('test-artifacts/bench.vsix') : null,
    lastVscodeRun: null,
  };
  console.log(`  dist/extension.js ${kb(out.extensionBundle)} · dist/cli-main.js ${kb(out.cliBundle)} (+ dist/cli.js launcher) · dist/dockerode.js ${kb(out.dockerodeBundle)} (loaded on first Docker use) · .vsix ${kb(out.vsix)}`);
  const perfFile = join(root, 'test-artifacts', 'vscode-perf.json');
  if (existsSync(perfFile)) {
    const p = JSON.parse(readFileSync(perfFile, 'utf8'));
    out.lastVscodeRun = p;
    console.log(`  from the last npm run test:vscode (${perfFile}):`);
    const cpu = typeof p.activateCpuMs === 'number' ? ` (CPU ${p.activateCpuMs.toFixed(1)} ms)` : '';
    console.log(`    activate()                                  ${p.activateMs.toFixed(1)} ms${cpu} (goal <= 30)`);
    if (typeof p.deferredMs === 'number') console.log(`    built right after activate() (not in it)    ${p.deferredMs.toFixed(1)} ms`);
    const num = (x, f = (v) => v.toFixed(1)) => (typeof x === 'number' ? f(x) : '-');
    console.log(`    decorate a 10,000-line input file            ${num(p.decorate10kLinesMs)} ms vs raw git diff ${num(p.rawGitDiffMs)} ms: ratio ${num(p.decorationRatio, (v) => v.toFixed(2))} (goal <= 1.3)`);
    console.log(`    git processes started while typing           ${p.gitProcessesWhileTyping ?? '-'} (goal 0)`);
    if (p.noChangeRefresh) console.log(`    git processes of a refresh with no change    ${p.noChangeRefresh.gitProcesses} (goal: the HEAD check only, or none)`);
    if (p.afterCommitRefresh) console.log(`    git processes of the refresh after a commit  ${p.afterCommitRefresh.gitProcesses}: ${p.afterCommitRefresh.commands.join(' | ')}`);
  } else {
    console.log('  (run npm run test:vscode for activation, decoration and typing figures)');
  }
  return out;
}

try {
  await main();
} catch (err) {
  failures.push(String(err?.message ?? err));
  console.error(`\nerror: ${err?.stack ?? err}`);
}
cleanupDocker();
results.editor = editorFigures();
results.machine = { ...results.machine, loadavgAtEnd: loadavg() };
results.failures = failures;
mkdirSync(dirname(RESULTS), { recursive: true });
writeFileSync(RESULTS, JSON.stringify(results, null, 2) + '\n');
console.log(`\nresults: ${RESULTS}`);
if (failures.length) {
  console.log(`\n${failures.length} correctness check(s) FAILED:`);
  for (const f of failures) console.log(`  - ${f}`);
  process.exitCode = 1;
} else {
  console.log('all correctness checks passed');
}
