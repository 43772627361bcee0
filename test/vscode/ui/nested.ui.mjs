// UI test of Docker-in-Docker sandboxes in a real VS Code (code-server + Chromium). A second
// dockerd plays the sandbox's inner daemon; the sandbox container (busybox + the docker CLI) runs
// on the test daemon with its socket and a volume at /var/lib/docker (test/support/innerDaemon.ts).
// 1. One folder: a container started inside the sandbox flips the status bar, by the inner
//    daemon's events (no poll), and the tooltip says where it runs.
// 2. Multi-root: two folders, two repositories and targets, one running on the host daemon and one
//    in the sandbox: each its own status bar item, view entries and gutter marks.
// Screenshots: test-artifacts/vscode-ui-nested-*.png.
//
//   npm run build && node --import tsx --test test/vscode/ui/nested.ui.mjs
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { launchBrowser, openWorkbench, quickOpen, repoRoot, runCommand, showHover, startCodeServer, statusBarItems, waitForStatusBarItem } from '../../../scripts/vscode-test/codeServer.mjs';
import { buildBusyboxImage, cleanupDocker, runContainer, uniqueName } from '../../support/dockerFixtures.ts';
import { FixtureRepo } from '../../support/gitFixture.ts';
import { InnerDaemon, buildSandboxImage, copyImageInto, removeSandbox, runSandbox } from '../../support/innerDaemon.ts';

const artifacts = path.join(repoRoot, 'test-artifacts');
const shot = (page, name) => page.screenshot({ path: path.join(artifacts, name) });
const REV = 'org.opencontainers.image.revision';
const clean = (s) => s.replace(/\u00a0/g, ' ');

/** A repository with one target `name` of image `image`, built at its first commit (labelled), on the host daemon. */
async function targetRepo(prefix, name, image) {
  const repo = FixtureRepo.create(prefix);
  const base = repo.commit('init', {
    '.provenance.json': JSON.stringify({ targets: [{ name, image, dockerfile: 'Dockerfile' }] }),
    Dockerfile: 'FROM scratch\nCOPY app/ /app/\n',
    [`app/${name}.sh`]: 'v1\n',
  });
  const img = await buildBusyboxImage({ tags: [`${image}:latest`], labels: { [REV]: base } });
  return { repo, base, img };
}

describe('Docker-in-Docker sandboxes in the editor (code-server + Chromium)', { timeout: 420_000 }, () => {
  let inner;
  let sandbox;
  let browser;
  let inSandbox; // the target whose container runs inside the sandbox
  let onHost; // the target whose container runs on the host daemon
  const sandboxImage = () => `registry:5000/${inSandbox.image}:${inSandbox.img.id.slice(7, 13)}`;

  before(async () => {
    mkdirSync(artifacts, { recursive: true });
    inner = await InnerDaemon.start();
    sandbox = await runSandbox(await buildSandboxImage(true), inner);
    const image = uniqueName('helix-ubuntu');
    inSandbox = { ...(await targetRepo('bp-ui-sandboxed-', 'desk', image)), image };
    await copyImageInto(inner, inSandbox.img.id);
    await inner.cli(['tag', inSandbox.img.id, sandboxImage()]);
    const hostImage = uniqueName('hostapp');
    onHost = { ...(await targetRepo('bp-ui-host-', 'hostapp', hostImage)), image: hostImage };
    await runContainer({ image: `${hostImage}:latest` });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    if (sandbox) await removeSandbox(sandbox.name);
    await inner?.dispose();
    inSandbox?.repo.cleanup();
    onHost?.repo.cleanup();
    await cleanupDocker();
  });

  it('a container started in the sandbox flips the status bar, by the inner daemon\'s events', async () => {
    const server = await startCodeServer({ installExtensions: [repoRoot] });
    const wb = await openWorkbench(server, { browser, folder: inSandbox.repo.dir });
    try {
      const { page } = wb;
      await waitForStatusBarItem(page, /Build Provenance desk: No running container/, 90_000);
      await shot(page, 'vscode-ui-nested-before.png');
      // Let the nested daemon's event stream connect (it is found by the first refresh).
      await new Promise((r) => setTimeout(r, 3000));
      await inner.cli(['run', '-d', '--network', 'host', '--name', 'ubuntu-external-01', sandboxImage()]);
      const started = Date.now();
      const item = await waitForStatusBarItem(page, /Build Provenance desk: The running .* is built from HEAD/, 10_000);
      const ms = Date.now() - started;
      console.log(`status bar flipped ${ms} ms after the container started in the sandbox`);
      assert.ok(ms < 2000, `the status bar flipped after ${ms} ms`);
      const hover = await showHover(page, page.locator(`[id="${item.id}"]`), sandbox.name);
      assert.match(clean(await hover.innerText()), new RegExp(`ubuntu-external-01 @ ${inSandbox.base.slice(0, 7)}[0-9a-f]* in ${sandbox.name}, since`));
      await shot(page, 'vscode-ui-nested-flipped.png');
    } finally {
      await wb.close();
      await server.stop();
    }
  });

  it('multi-root: a folder on the host daemon and one in the sandbox each get their own status bar item, view entries and marks', async () => {
    // Undeployed in the sandboxed repository only: its marks, not the other's.
    inSandbox.repo.commit('app: v2', { 'app/desk.sh': 'v2\n' });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bp-ui-multiroot-'));
    const file = path.join(dir, 'two.code-workspace');
    writeFileSync(file, JSON.stringify({ folders: [{ path: onHost.repo.dir }, { path: inSandbox.repo.dir }] }));
    const server = await startCodeServer({ installExtensions: [repoRoot] });
    const wb = await openWorkbench(server, { browser, workspace: file });
    try {
      const { page } = wb;
      const desk = await waitForStatusBarItem(page, /Build Provenance desk: 1 undeployed/, 90_000);
      const host = await waitForStatusBarItem(page, /Build Provenance hostapp: The running .* is built from HEAD/, 30_000);
      assert.notEqual(desk.id, host.id, 'one status bar item per folder');
      const texts = (await statusBarItems(page)).map((i) => i.text);
      assert.ok(texts.some((t) => t.includes(`desk (${path.basename(inSandbox.repo.dir)})`)), JSON.stringify(texts));
      assert.ok(texts.some((t) => t.includes(`hostapp (${path.basename(onHost.repo.dir)})`)), JSON.stringify(texts));

      await runCommand(page, 'Build Provenance: Focus on Provenance View');
      const running = page.locator('.monaco-list-row', { hasText: 'ubuntu-external-01' }).first();
      await running.waitFor({ timeout: 30_000 });
      assert.match(clean(await running.innerText()), new RegExp(`in ${sandbox.name}`));
      await page.locator('.monaco-list-row', { hasText: 'hostapp' }).first().waitFor({ timeout: 30_000 });
      await shot(page, 'vscode-ui-nested-multiroot-view.png');

      // Marks: the sandboxed repository's changed line is marked; the host one's file is not.
      await quickOpen(page, 'desk.sh');
      await page.locator('.monaco-editor .glyph-margin-widgets .cgmr').first().waitFor({ timeout: 30_000 });
      await shot(page, 'vscode-ui-nested-multiroot-marks.png');
      await quickOpen(page, 'hostapp.sh');
      await page.waitForTimeout(2000);
      assert.equal(await page.locator('.monaco-editor .glyph-margin-widgets .cgmr').count(), 0, 'no marks in the in-sync folder');
    } finally {
      await wb.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
