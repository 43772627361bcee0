// UI test of verified provenance in a real VS Code (code-server + Chromium): helix's own case,
// an image built with no revision label. The demo repository's image is built from its first
// commit with a plain `docker build` (no label), a container runs it, and the MESA commit comes
// after. The status bar tooltip must say the revision is derived from content, and the hover on
// the baked script's undeployed line must say what the running container holds of that file.
// Screenshots: test-artifacts/vscode-ui-content-tooltip.png, vscode-ui-content-hover.png.
//
//   npm run build && node --test test/vscode/ui/content.ui.mjs
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDemoRepo } from '../../../scripts/demo.mjs';
import { freePort, launchBrowser, openWorkbench, quickOpen, repoRoot, runCommand, showHover, startCodeServer, waitForStatusBarItem } from '../../../scripts/vscode-test/codeServer.mjs';

const artifacts = path.join(repoRoot, 'test-artifacts');
const shot = (page, name) => page.screenshot({ path: path.join(artifacts, name) });
const NAME = `bp-ui-content-${process.pid}`;
const IMAGE = `${NAME}/helix-ubuntu`;
const CONTAINER = `${NAME}-desktop`;
const SCRIPT = 'desktop/shared/detect-render-node.sh';
const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 'Demo Dev', GIT_AUTHOR_EMAIL: 'dev@demo.invalid', GIT_COMMITTER_NAME: 'Demo Dev', GIT_COMMITTER_EMAIL: 'dev@demo.invalid' };
const git = (dir, ...args) => execFileSync('git', args, { cwd: dir, env: gitEnv, encoding: 'utf8' }).trim();

function removeDocker() {
  spawnSync('docker', ['rm', '-f', CONTAINER], { stdio: 'ignore' });
  const ids = spawnSync('docker', ['images', '-q', IMAGE], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  if (ids.length) spawnSync('docker', ['rmi', '-f', ...new Set(ids)], { stdio: 'ignore' });
}

describe('an unlabeled image in the editor: the revision comes from its content (code-server + Chromium)', { timeout: 300_000 }, () => {
  let browser;
  let server;
  let wb;
  let dir;
  let built;

  before(async () => {
    assert.ok(existsSync(path.join(repoRoot, 'dist', 'extension.js')), 'dist/extension.js missing: run `npm run build` first');
    mkdirSync(artifacts, { recursive: true });
    assert.equal(spawnSync('docker', ['version'], { stdio: 'ignore' }).status, 0, 'Docker daemon not reachable: start one (sudo bash scripts/docker-daemon.sh start)');
    dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'bp-ui-content-')), 'helix');
    createDemoRepo(dir, { image: IMAGE, bridgePort: await freePort(), smokePort: await freePort() });
    built = git(dir, 'rev-parse', 'HEAD');
    // The image as helix's ./stack builds it: a plain build of the Dockerfile, no revision label.
    const ctx = mkdtempSync(path.join(os.tmpdir(), 'bp-ui-content-ctx-'));
    try {
      execFileSync('sh', ['-c', 'git -C "$1" archive HEAD | tar -x -C "$2"', 'sh', dir, ctx]);
      execFileSync('docker', ['build', '-q', '--network', 'host', '-f', path.join(ctx, 'Dockerfile.ubuntu-helix'), '-t', `${IMAGE}:1ac9d5`, ctx], { env: { ...process.env, DOCKER_BUILDKIT: '0' }, stdio: 'ignore' });
    } finally {
      rmSync(ctx, { recursive: true, force: true });
    }
    execFileSync('docker', ['run', '-d', '--network', 'host', '--name', CONTAINER, `${IMAGE}:1ac9d5`], { stdio: 'ignore' });
    // The incident's commit, after the build.
    const script = path.join(dir, SCRIPT);
    writeFileSync(script, `${readFileSync(script, 'utf8')}# Work around old GL clients.\nexport MESA_GL_VERSION_OVERRIDE=4.5\n`);
    git(dir, 'commit', '-q', '-am', 'desktop: export MESA_GL_VERSION_OVERRIDE=4.5 for old GL clients');
    server = await startCodeServer({ installExtensions: [repoRoot], settings: { 'workbench.colorTheme': 'Default Dark Modern', 'files.autoSave': 'off' } });
    browser = await launchBrowser();
    wb = await openWorkbench(server, { browser, folder: dir });
  });

  after(async () => {
    await wb?.close();
    await server?.stop();
    await browser?.close();
    removeDocker();
    if (dir) rmSync(path.dirname(dir), { recursive: true, force: true });
  });

  it('the status bar shows the drift, and its tooltip says the revision is derived from content', async () => {
    const { page } = wb;
    const item = await waitForStatusBarItem(page, 'helix-ubuntu: 1 undeployed', 90_000);
    assert.match(item.ariaLabel, /derived from its content/);
    const hover = await showHover(page, page.locator(`[id="${item.id}"]`), 'Revision derived from content');
    const text = (await hover.innerText()).replace(/\u00a0/g, ' ');
    assert.match(text, /Revision derived from content: 4 of 4 baked files match/);
    assert.match(text, new RegExp(`${built.slice(0, 7)}[0-9a-f]* \\(by content\\)`), 'the running container is shown at its content-derived revision');
    assert.match(text, /desktop: export MESA_GL_VERSION_OVERRIDE=4\.5 for old GL clients/);
    await shot(page, 'vscode-ui-content-tooltip.png');
    await page.mouse.move(700, 400);
  });

  it('the hover on the undeployed line says what the running container holds of the file', async () => {
    const { page } = wb;
    await quickOpen(page, 'detect-render-node.sh');
    await page.locator('.monaco-editor .glyph-margin-widgets .cgmr').first().waitFor({ timeout: 30_000 });
    // The comment line of the same commit: no risk diagnostic shares its hover.
    const word = page.locator('.monaco-editor .view-line', { hasText: 'Work around old GL clients' }).first().locator('span span', { hasText: 'Work' }).first();
    const hover = await showHover(page, word, 'By its bytes');
    const text = (await hover.innerText()).replace(/\u00a0/g, ' ');
    assert.match(text, new RegExp(`By its bytes, the running container ${CONTAINER} holds the version of ${built.slice(0, 9)}\\.\\.[0-9a-f]{9}\\^, not HEAD's`));
    assert.match(text, /\(by its content\)/);
    assert.match(text, /not running/);
    await shot(page, 'vscode-ui-content-hover.png');
    await page.mouse.move(700, 700);
  });

  it('"Verify Running Image" from the palette lists each baked file with its verdict', async () => {
    const { page } = wb;
    await runCommand(page, 'Build Provenance: Verify Running Image');
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: 'detect-render-node.sh' }).first();
    await row.waitFor({ timeout: 60_000 });
    assert.match((await row.innerText()).replace(/\u00a0/g, ' '), /\/usr\/local\/bin\/detect-render-node\.sh/);
    const title = (await page.locator('.quick-input-widget .quick-input-title').innerText()).replace(/\u00a0/g, ' ');
    assert.match(title, /revision derived from content/);
    await shot(page, 'vscode-ui-verify-pick.png');
    await page.keyboard.press('Escape');
  });
});
