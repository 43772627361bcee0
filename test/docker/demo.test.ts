// `npm run demo -- --repo-only`, then the next steps it (and status) advertise, on a real daemon:
// Build + smoke test passes while the demo's container runs (the smoke container has its own
// port), `provenance deploy` runs the new image, and the printed clean-up command works.
// The demo runs under its own names and ports (--name, --bridge-port, --smoke-port), so it never
// touches a user's demo.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../support/cli';
import { FixtureRepo, tempDir } from '../support/gitFixture';
import { docker, freePort, requireDocker, TEST_PREFIX } from '../support/dockerFixtures';

const repoRoot = path.join(__dirname, '../..');

test('demo: --repo-only, then build --smoke beside the running container, deploy, status in-sync, and the printed clean-up works', async (t) => {
  if (!(await requireDocker(t))) return;
  assert.ok(existsSync(path.join(repoRoot, 'dist/cli.js')), 'dist/cli.js is missing: run npm run build first (npm test does)');
  const name = `${TEST_PREFIX}-demo`;
  const [bridge, smoke] = [await freePort(), await freePort()];
  const base = tempDir('bp-demo-test-');
  const dir = path.join(base, 'helix');
  const image = `${name}/helix-ubuntu`;
  const container = `${name}-desktop`;
  t.after(() => {
    spawnSync('node', [path.join(repoRoot, 'scripts/demo.mjs'), '--clean', '--name', name], { stdio: 'ignore' });
    FixtureRepo.at(base).cleanup();
  });

  const demo = spawnSync(process.execPath, [path.join(repoRoot, 'scripts/demo.mjs'), '--repo-only', '--dir', dir, '--name', name, '--bridge-port', String(bridge), '--smoke-port', String(smoke)], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(demo.status, 0, demo.stdout + demo.stderr);
  assert.match(demo.stdout, /\[drift\] 1 undeployed commit changes files baked into/);
  assert.equal(await fetch(`http://127.0.0.1:${bridge}/`).then((r) => r.status), 200, 'the demo container serves the bridge');

  // The step the demo and status advertise next.
  const b = await runCli(['build', '--smoke', '--json', '--cwd', dir]);
  assert.equal(b.code, 0, b.err + b.out);
  assert.equal(b.json().smoke.result, 'passed');
  const s = (await runCli(['status', '--json', '--cwd', dir])).json();
  assert.equal(s.state, 'drift');
  assert.match(s.hint, /^The newest image .* has these changes: run it with provenance deploy/);
  const d = await runCli(['deploy', '--json', '--cwd', dir]);
  assert.equal(d.code, 0, d.err);
  assert.equal(d.json().smoke, 'passed');
  assert.deepEqual(d.json().replaced.map((r: { name: string }) => r.name), [container]);
  const after = (await runCli(['status', '--json', '--cwd', dir])).json();
  assert.equal(after.state, 'in-sync', after.summary);
  assert.equal(await fetch(`http://127.0.0.1:${bridge}/`).then((r) => r.status), 200, 'the new container serves the bridge');

  // The clean-up the demo printed, run as printed.
  const printed = /Remove the container and images with: (.+)$/m.exec(demo.stdout)?.[1];
  assert.ok(printed, demo.stdout);
  assert.ok(printed.includes(container) && printed.includes(image), printed);
  execFileSync('sh', ['-c', printed], { stdio: 'pipe' });
  assert.equal((await docker(['ps', '-a', '-q', '--filter', `name=^${container}$`])).trim(), '');
  assert.equal((await docker(['images', '-a', '-q', image])).trim(), '', 'every image of the demo is gone');
});
