// What the editor's build tasks say: task definitions from tasks.json, terminal text, outcomes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildOutcome, definitionProblem, engineRefusal, refusedOutcome, runNewImageChoice, smokeOutcome, taskLabel, terminalText } from '../../src/core/build/actions';
import { BuildRefusedError } from '../../src/core/build/refused';
import { ConfigError } from '../../src/core/config';
import { provenanceDir, UNSAFE_PATH_HINT, UnsafePathError } from '../../src/core/safety/safeFiles';
import type { BuildResult, SmokeRunResult } from '../../src/core/build/engine';
import { formatBuild, makeStyle } from '../../src/cli/format';

const SHA = 'a'.repeat(40);

function build(extra: Partial<BuildResult> = {}): BuildResult {
  return {
    ok: true,
    result: 'success',
    target: 'app',
    mode: 'builtin',
    builder: 'buildkit',
    imageId: `sha256:${'b'.repeat(64)}`,
    tags: ['app:aaaaaaa', 'app:latest'],
    revision: SHA,
    dirty: false,
    inputHash: '',
    startedAt: '',
    endedAt: '',
    error: null,
    hint: null,
    smoke: null,
    guidance: null,
    ledgerId: 'x',
    ledgerError: null,
    ...extra,
  };
}

const smoke = (result: 'passed' | 'failed' | 'cancelled', reason: string | null = null) => ({
  result,
  reason,
  failure: null,
  exitCode: null,
  logTail: [],
  containerName: null,
  durationMs: 10,
});

test('definitionProblem: tasks.json definitions need a target and a known action', () => {
  assert.equal(definitionProblem({ target: 'app', action: 'build+smoke' }), null);
  assert.equal(definitionProblem({ target: 'app', action: 'smoke', folder: 'web' }), null);
  assert.match(definitionProblem({ action: 'build' })!, /needs "target"/);
  assert.match(definitionProblem({ target: 'app', action: 'deploy' })!, /"action" must be one of "build\+smoke", "build", "smoke", not "deploy"/);
  assert.match(definitionProblem({ target: 'app', action: 'build', folder: 3 })!, /"folder"/);
});

test('taskLabel and terminalText', () => {
  assert.equal(taskLabel('build+smoke', 'app'), 'Build + Smoke Test (app)');
  assert.equal(taskLabel('smoke', 'app', 'web'), 'Run Smoke Test (app · web)');
  assert.equal(terminalText('Step 1/2\nStep 2/2'), 'Step 1/2\r\nStep 2/2\r\n');
  assert.equal(terminalText('a\r\nb'), 'a\r\nb\r\n');
  assert.equal(terminalText(''), '\r\n');
});

test('build outcomes say what was built, from which commit, and why it failed', () => {
  const ok = buildOutcome('/r#app', 'build+smoke', build({ smoke: smoke('passed') }), 1500);
  assert.equal(ok.ok, true);
  assert.equal(ok.message, 'app built at aaaaaaaa as app:aaaaaaa, smoke test passed (1.5 s).');
  const dirty = buildOutcome('/r#app', 'build', build({ dirty: true }), 12_400);
  assert.equal(dirty.message, 'app built at aaaaaaaa-dirty as app:aaaaaaa (12 s).');
  const smokeFail = buildOutcome('/r#app', 'build+smoke', build({ ok: false, result: 'failure', error: 'smoke test failed: x', smoke: smoke('failed', 'HTTP probe GET http://127.0.0.1:1/ answered 500') }), 1);
  assert.equal(smokeFail.message, 'Smoke test of the new image failed for app at aaaaaaaa: HTTP probe GET http://127.0.0.1:1/ answered 500');
  const buildFail = buildOutcome('/r#app', 'build', build({ ok: false, result: 'failure', imageId: null, error: 'COPY failed: file not found\u001b[0m' }), 1);
  // Control characters from build output never reach a notification.
  assert.equal(buildFail.message, 'Build failed for app at aaaaaaaa: COPY failed: file not found?[0m');
  assert.equal(buildOutcome('/r#app', 'build+smoke', build({ ok: false, result: 'cancelled', error: 'cancelled' }), 1).message, 'Build + Smoke Test of app was cancelled.');
  const guided = buildOutcome('/r#app', 'build', build({ mode: 'command', guidance: 'The new image 123 has no revision label.\nAdd one…' }), 1);
  assert.equal(guided.hint, 'The new image 123 has no revision label.');
  const hinted = buildOutcome('/r#app', 'build', build({ ok: false, result: 'failure', imageId: null, error: 'dockerfile parse error line 4: unknown instruction: ECHO', hint: 'Dockerfile:3 uses a heredoc (RUN <<EOF): …' }), 1);
  assert.equal(hinted.hint, 'Dockerfile:3 uses a heredoc (RUN <<EOF): …', 'a failed build says what to do');
});

test('smoke and refused outcomes', () => {
  const r: SmokeRunResult = { ok: false, target: 'app', imageId: `sha256:${'c'.repeat(64)}`, revision: SHA, dirty: false, smoke: smoke('failed', 'container exited with code 3'), ledgerId: null, ledgerError: null };
  const o = smokeOutcome('/r#app', r, 1);
  assert.equal([o.result, o.message].join(' | '), 'failure | Smoke test of app image cccccccccccc (aaaaaaaa) failed: container exited with code 3');
  assert.equal(smokeOutcome('/r#app', { ...r, ok: true, smoke: smoke('passed') }, 2000).message, 'Smoke test of app image cccccccccccc (aaaaaaaa) passed (2.0 s).');
  assert.equal(smokeOutcome('/r#app', { ...r, smoke: smoke('cancelled') }, 1).result, 'cancelled');
  const refused = refusedOutcome('/r#app', 'app', 'build', 'busy', 'app is already being built.', 'Wait.');
  assert.deepEqual([refused.ok, refused.result, refused.refusal], [false, 'refused', 'busy']);
});

test('runNewImage: "always" counts only from user settings; a workspace\'s "always" is "ask" (issue 16)', () => {
  // (effective value, the user's own value), as VS Code's get() and inspect().globalValue give them.
  assert.equal(runNewImageChoice('always', 'always'), 'always', 'the user said always');
  assert.equal(runNewImageChoice('always', undefined), 'ask', 'only the workspace or folder said always');
  assert.equal(runNewImageChoice('always', 'never'), 'ask', 'the workspace overrode the user\'s never with always');
  assert.equal(runNewImageChoice('always', 'ask'), 'ask');
  // The user's always under a workspace that says otherwise: the workspace may be stricter, never laxer.
  assert.equal(runNewImageChoice('ask', 'always'), 'ask');
  assert.equal(runNewImageChoice('never', 'always'), 'never');
  assert.equal(runNewImageChoice('never', undefined), 'never', 'a workspace may always say never');
  assert.equal(runNewImageChoice('ask', undefined), 'ask');
  assert.equal(runNewImageChoice(undefined, undefined), 'ask', 'the default');
  // Settings files are not validated when read: anything else asks, it never deploys unasked.
  for (const odd of ['yes', 'ALWAYS', true, 1, null, ['always'], { always: true }]) assert.equal(runNewImageChoice(odd, 'always'), 'ask', JSON.stringify(odd));
});

test('engineRefusal: a refused path in the git dir is a refusal that says what, why and what to do; unknown errors are not refusals', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bp-refusal-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const gitDir = path.join(dir, '.git');
  mkdirSync(path.join(gitDir, 'objects'), { recursive: true });
  writeFileSync(path.join(gitDir, 'HEAD'), 'ref: refs/heads/main\n');
  mkdirSync(path.join(gitDir, 'build-provenance'));
  mkdirSync(path.join(dir, 'elsewhere'));
  symlinkSync(path.join(dir, 'elsewhere'), path.join(gitDir, 'build-provenance', 'locks'));
  let planted: unknown;
  try {
    provenanceDir(gitDir, 'locks'); // what the build lock does first
  } catch (err) {
    planted = err;
  }
  assert.ok(planted instanceof UnsafePathError);
  const r = engineRefusal(planted, 'build+smoke', 'web');
  assert.ok(r);
  assert.equal(r.code, 'unsafe-path');
  assert.match(r.message, /^Build \+ Smoke Test of web did not start: Refusing to use .*\/\.git\/build-provenance\/locks: it is a symbolic link, and provenance writes only into real folders inside the git dir\.$/);
  assert.equal(r.hint, UNSAFE_PATH_HINT);
  assert.match(r.hint!, /remove it/);

  assert.deepEqual(engineRefusal(new BuildRefusedError('busy.', 'Wait.', 'busy'), 'build', 'web'), { code: 'busy', message: 'busy.', hint: 'Wait.' });
  assert.deepEqual(engineRefusal(new ConfigError('bad json', null), 'smoke', 'web'), { code: 'settings', message: 'bad json', hint: 'Fix .provenance.json.' });
  assert.equal(engineRefusal(new Error('boom'), 'build', 'web'), null);
  assert.equal(engineRefusal('a string', 'build', 'web'), null);
});

test('the CLI build line: the image was built either way; a failed or cancelled smoke test says which on the headline and below', async () => {
  const st = makeStyle(false);
  const base = { startedAt: '2026-12-02T10:00:00.000Z', endedAt: '2026-12-02T10:00:02.900Z' };
  const lines = (r: BuildResult) => formatBuild(r, st).split('\n');
  assert.deepEqual(lines(build({ ...base, smoke: smoke('passed') })).slice(0, 2), [
    `app: built bbbbbbbbbbbb from aaaaaaaaaaaa in 2.9 s with BuildKit — app:aaaaaaa, app:latest`,
    '  smoke test passed (0.0 s)',
  ]);
  const cancelled = build({ ...base, ok: false, result: 'cancelled', error: 'smoke test cancelled: cancelled before the container was ready', smoke: smoke('cancelled', 'cancelled before the container was ready') });
  assert.deepEqual(lines(cancelled).slice(0, 2), [
    `app: built bbbbbbbbbbbb from aaaaaaaaaaaa in 2.9 s with BuildKit — app:aaaaaaa, app:latest, smoke test cancelled`,
    '  smoke test cancelled: cancelled before the container was ready',
  ]);
  const failed = build({ ...base, ok: false, result: 'failure', error: 'smoke test failed: container exited with code 3 before it was ready', smoke: smoke('failed', 'container exited with code 3 before it was ready') });
  assert.match(lines(failed)[0], /^app: built bbbbbbbbbbbb from aaaaaaaaaaaa in 2\.9 s with BuildKit — app:aaaaaaa, app:latest, smoke test FAILED$/);
  assert.equal(lines(failed)[1], '  smoke test FAILED: container exited with code 3 before it was ready');
});
