/// <reference types="mocha" />
// The build + smoke task in a real VS Code on a real Docker daemon (BP_SUITE=build), on the
// fixture workspace that test/vscode/runBuildTaskSuite.ts prepares (`npm run test:vscode:build`):
// an old labelled image's container runs, and HEAD has an undeployed change to an image input.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunOutcome } from '../../../src/core/build/actions';
import { readLedger } from '../../../src/core/build/ledger';
import type { BuildProvenanceApi } from '../../../src/extension';
import type { BuildTaskFixture } from '../runBuildTaskSuite';

const ID = 'build-provenance.build-provenance';
const REVISION_LABEL = 'org.opencontainers.image.revision';

function docker(args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('docker', args, { timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(`docker ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout))),
  );
}

async function smokeContainers(target: string): Promise<string[]> {
  const out = await docker(['ps', '-a', '--format', '{{.Names}}', '--filter', 'label=dev.build-provenance.smoke=1', '--filter', `label=dev.build-provenance.target=${target}`]);
  return out.split('\n').filter(Boolean);
}

async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function nextFinish(api: BuildProvenanceApi, key: string, action: string): Promise<RunOutcome> {
  return new Promise((resolve) => {
    const d = api.builds.onDidFinish((o) => {
      if (o.key === key && o.action === action) {
        d.dispose();
        resolve(o);
      }
    });
  });
}

const restricted = process.env.BP_VSCODE_TRUST === 'restricted';

function loadFixture(): BuildTaskFixture {
  const file = process.env.BP_BUILD_FIXTURE;
  if (!file) throw new Error('BP_BUILD_FIXTURE is not set: run this suite through test/vscode/runBuildTaskSuite.ts (npm run test:vscode:build)');
  return JSON.parse(readFileSync(file, 'utf8')) as BuildTaskFixture;
}

async function activate(): Promise<BuildProvenanceApi> {
  return (await vscode.extensions.getExtension(ID)!.activate()) as BuildProvenanceApi;
}

if (!restricted) describe('build task (real Docker)', function () {
  this.timeout(120_000);
  let fx: BuildTaskFixture;
  let api: BuildProvenanceApi;
  let key: string;

  before(async () => {
    fx = loadFixture();
    api = await activate();
    key = `${fx.root}#${fx.target}`;
    await api.model.ready();
  });

  it('lists build, smoke and build+smoke tasks per target', async () => {
    const tasks = await vscode.tasks.fetchTasks({ type: 'buildProvenance' });
    const mine = tasks.filter((t) => t.definition.target === fx.target);
    assert.deepEqual(mine.map((t) => t.definition.action).sort(), ['build', 'build+smoke', 'smoke']);
    assert.equal(mine.find((t) => t.definition.action === 'build+smoke')!.name, `Build + Smoke Test (${fx.target})`);
  });

  it('the build+smoke task flips the target from drift to in-sync for what was built', async () => {
    const before = await until('the first snapshot', () => api.model.byKey(key)?.status?.snapshot);
    assert.equal(before.state, 'drift', before.summary);
    assert.equal(before.running[0]?.revision, fx.oldRevision);
    assert.equal(before.unbuilt?.relevantCount, 1, 'HEAD has one unbuilt change to an input');
    assert.match(api.statusBar.presentations().get(key)!.text, /1 undeployed/);

    const task = (await vscode.tasks.fetchTasks({ type: 'buildProvenance' })).find((t) => t.definition.target === fx.target && t.definition.action === 'build+smoke');
    assert.ok(task, 'the build+smoke task is listed');
    const finished = nextFinish(api, key, 'build+smoke');
    const exitCode = new Promise<number | undefined>((resolve) => {
      const d = vscode.tasks.onDidEndTaskProcess((e) => {
        if (e.execution.task.definition.target === fx.target) {
          d.dispose();
          resolve(e.exitCode);
        }
      });
    });
    await vscode.tasks.executeTask(task);
    const outcome = await finished;
    assert.equal(outcome.ok, true, outcome.message);
    assert.equal(outcome.build?.smoke?.result, 'passed');
    assert.equal(await exitCode, 0, 'the task ends with exit code 0');

    // The model refreshed before onDidFinish: built is HEAD; what runs is still the old image.
    const after = api.model.byKey(key)!.status!.snapshot;
    assert.equal(after.built?.revision, fx.head);
    assert.equal(after.built?.imageId, outcome.imageId);
    assert.equal(after.unbuilt?.relevantCount, 0, 'nothing unbuilt');
    assert.equal(after.running[0]?.revision, fx.oldRevision, 'no deploy step: the running container honestly stays old');
    assert.equal(after.undeployed.relevantCount, 1);

    const [inspect] = JSON.parse(await docker(['image', 'inspect', outcome.imageId!])) as { Config: { Labels: Record<string, string> }; RepoTags: string[] }[];
    assert.equal(inspect.Config.Labels[REVISION_LABEL], fx.head);
    assert.ok(inspect.RepoTags.includes(`${fx.image}:latest`), inspect.RepoTags.join(', '));

    const ledger = await readLedger(path.join(fx.root, '.git'));
    const rec = ledger.records.find((r) => r.id === outcome.build?.ledgerId);
    assert.ok(rec, 'the run is in the ledger');
    assert.deepEqual([rec.kind, rec.target, rec.revision, rec.result, rec.smoke?.result, rec.imageId], ['build', fx.target, fx.head, 'success', 'passed', outcome.imageId]);
    // The bundled extension built with BuildKit (the engine offers it) and wrote its plain progress.
    assert.equal(rec.builder, 'buildkit');
    assert.match(rec.logExcerpt, /^#\d+ \[\d\/\d\] COPY www \/www$/m);
    assert.match(rec.logExcerpt, /^#\d+ (DONE \d+\.\ds|CACHED)$/m);
    assert.doesNotMatch(rec.logExcerpt, /moby\.buildkit\.trace|"aux"/);
    assert.deepEqual(await smokeContainers(fx.target), [], 'the smoke container is removed');
  });

  it('refuses a second run of a busy target, and cancelling removes the smoke container', async () => {
    // A smoke test that never gets ready (the container sleeps; nothing answers the probe) keeps the target busy.
    const configFile = path.join(fx.root, '.provenance.json');
    const original = readFileSync(configFile, 'utf8');
    const config = JSON.parse(original) as { targets: { smoke: { command: string[] } }[] };
    config.targets[0].smoke.command = ['/bin/busybox', 'sleep', '3600'];
    await writeFile(configFile, JSON.stringify(config));
    try {
      const smoke = api.builds.run(key, 'smoke');
      const run = await until('the smoke run', () => api.builds.activeRuns().find((r) => r.key === key));
      await until('the smoke container', async () => ((await smokeContainers(fx.target)).length ? true : undefined));

      const second = await api.builds.run(key, 'build');
      assert.equal(second.result, 'refused');
      assert.equal(second.refusal, 'busy');
      assert.match(second.message, /already being built or smoke-tested/);

      run.abort();
      const outcome = await smoke;
      assert.equal(outcome.result, 'cancelled', outcome.message);
      assert.deepEqual(await smokeContainers(fx.target), [], 'no smoke container is left after a cancel');
      assert.equal(api.builds.activeRuns().length, 0);
    } finally {
      await writeFile(configFile, original);
    }
  });

  it('a refused path in the git dir (a planted link for the build locks) is a clear refusal, not a crash', async () => {
    const locks = path.join(fx.root, '.git', 'build-provenance', 'locks');
    const kept = `${locks}.kept`;
    const elsewhere = await mkdtemp(path.join(tmpdir(), 'bp-elsewhere-'));
    if (existsSync(locks)) await rename(locks, kept);
    await symlink(elsewhere, locks);
    try {
      const exitCode = new Promise<number | undefined>((resolve) => {
        const d = vscode.tasks.onDidEndTaskProcess((e) => {
          if (e.execution.task.definition.target === fx.target) {
            d.dispose();
            resolve(e.exitCode);
          }
        });
      });
      const o = await api.builds.run(key, 'build');
      assert.equal(o.result, 'refused', o.message);
      assert.equal(o.refusal, 'unsafe-path');
      assert.match(o.message, /^Rebuild Image of .* did not start: Refusing to use .*build-provenance\/locks: it is a symbolic link/);
      assert.match(o.hint ?? '', /remove it \(provenance makes its own\) if you trust the checkout/);
      assert.equal(await exitCode, 1, 'the task ends with exit code 1');
      assert.deepEqual(await readdir(elsewhere), [], 'nothing was written through the link');
    } finally {
      await rm(locks, { force: true });
      if (existsSync(kept)) await rename(kept, locks);
      await rm(elsewhere, { recursive: true, force: true });
    }
  });
});

if (restricted) describe('build task in Restricted Mode', function () {
  this.timeout(60_000);

  it('runs nothing: the command explains that the workspace must be trusted', async () => {
    assert.equal(vscode.workspace.isTrusted, false);
    const fx = loadFixture();
    const api = await activate();
    await api.model.ready();
    const key = `${fx.root}#${fx.target}`;
    const gitDir = path.join(fx.root, '.git');
    const ledgerBefore = (await readLedger(gitDir)).records.length;
    const imagesBefore = await docker(['images', '-q', '--no-trunc', fx.image]);

    // Registered (CodeLens, hover and quick pick offer it), but it only explains and offers
    // Manage Workspace Trust. (Tasks are not exercised here: in Restricted Mode VS Code asks for
    // trust before it even lists tasks, and the test workbench refuses that dialog.)
    assert.ok((await vscode.commands.getCommands(true)).includes('buildProvenance.buildAndSmoke'));
    for (const id of ['buildProvenance.buildAndSmoke', 'buildProvenance.rebuildImage', 'buildProvenance.runSmokeTest']) {
      assert.equal(await vscode.commands.executeCommand(id, key), undefined);
    }
    assert.equal(api.builds.activeRuns().length, 0);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await readLedger(gitDir)).records.length, ledgerBefore, 'nothing recorded');
    assert.equal(await docker(['images', '-q', '--no-trunc', fx.image]), imagesBefore, 'nothing built');
    assert.deepEqual(await smokeContainers(fx.target), []);
  });
});
