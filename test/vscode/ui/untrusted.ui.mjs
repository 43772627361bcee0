// UI test of issue 16 in a real VS Code (code-server + Chromium) in Restricted Mode: a hostile
// repository (test/support/hostileRepo.ts: fsmonitor, hooks, gpg with a forged signed commit,
// filters, textconv, external diff, a build-provenance folder whose ledger, caches and temp names
// are links to a victim, a backtracking .dockerignore, a deep expansion) is opened untrusted.
// Its .provenance.json names the image `[Click here](command:workbench.action.quit)`: the real
// notification that quotes it must show it as plain text, not as a link. Then the config is made
// valid, the walks and the timeline run, and Mark Build Good asks for trust. No program of the
// repository may run, and nothing may be written through its links.
// Screenshots: test-artifacts/vscode-ui-untrusted-notification.png, vscode-ui-untrusted-trust.png.
//
//   npm run build && node --test test/vscode/ui/untrusted.ui.mjs
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { launchBrowser, openWorkbench, repoRoot, runCommand, startCodeServer, waitForStatusBarItem } from '../../../scripts/vscode-test/codeServer.mjs';

const artifacts = path.join(repoRoot, 'test-artifacts');
const LINK_IMAGE = '[Click here](command:workbench.action.quit)';

/** Makes the hostile repository with the TypeScript fixture (through tsx, as the unit tests do). */
function makeHostile() {
  const fixture = pathToFileURL(path.join(repoRoot, 'test/support/hostileRepo.ts')).href;
  const code = `import(${JSON.stringify(fixture)}).then((m) => { const h = (m.makeHostileRepo ?? m.default.makeHostileRepo)({ links: 'files', config: 'link' }); process.stdout.write(JSON.stringify({ dir: h.dir, markers: h.markers, victim: h.victim })); })`;
  return JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '-e', code], { cwd: repoRoot, encoding: 'utf8' }));
}

/**
 * Runs a palette command until a notification with `hasText` is there (the extension may not have
 * registered the command yet), and returns it as the notification center lists it (toasts of a
 * headless window are not reliable; the center shows the same rendered message).
 */
async function notificationAfter(page, title, hasText, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  const item = page.locator('.notifications-center .notification-list-item', { hasText }).first();
  for (;;) {
    try {
      await runCommand(page, title, 5000);
      await page.waitForTimeout(1000);
      if (!(await page.locator('.notifications-center.visible').isVisible())) await runCommand(page, 'Notifications: Show Notifications', 5000);
      await item.waitFor({ state: 'visible', timeout: 5000 });
      return item;
    } catch (e) {
      if (Date.now() > deadline) {
        await page.screenshot({ path: path.join(artifacts, 'vscode-ui-untrusted-failure.png') });
        throw e;
      }
    }
  }
}

const victimState = (victim) => Object.fromEntries(readdirSync(victim).sort().map((f) => [f, readFileSync(path.join(victim, f), 'utf8')]));
const markers = (dir) => (existsSync(dir) ? readdirSync(dir).sort() : []);

describe('a hostile repository opened in Restricted Mode (code-server + Chromium)', { timeout: 300_000 }, () => {
  let browser;
  let server;
  let wb;
  let h;
  let before0;

  before(async () => {
    assert.ok(existsSync(path.join(repoRoot, 'dist', 'extension.js')), 'dist/extension.js missing: run `npm run build` first');
    mkdirSync(artifacts, { recursive: true });
    h = makeHostile();
    before0 = victimState(h.victim);
    // Workspace trust on (no --disable-workspace-trust): the folder opens in Restricted Mode.
    server = await startCodeServer({ trust: false, installExtensions: [repoRoot] });
    browser = await launchBrowser();
    wb = await openWorkbench(server, { browser, folder: h.dir });
  });

  after(async () => {
    await wb?.close();
    await server?.stop();
    await browser?.close();
    if (h) {
      rmSync(h.dir, { recursive: true, force: true });
      rmSync(path.dirname(h.victim), { recursive: true, force: true });
    }
  });

  it('the notification that quotes the image name shows the command link as plain text', async () => {
    const { page } = wb;
    await waitForStatusBarItem(page, 'Restricted Mode', 60_000);
    assert.deepEqual(markers(h.markers), [], 'opening the folder ran none of its programs');
    // The command may run before the extension read the folder: ask until the notification shows.
    const toast = await notificationAfter(page, 'Build Provenance: Show Undeployed Changes', 'is not a Docker image name');
    const message = toast.locator('.notification-list-item-message');
    const text = (await message.innerText()).replace(/\u200b/g, '');
    assert.ok(text.includes(LINK_IMAGE), `the image name is shown as written: ${text}`);
    assert.equal(await message.locator('a').count(), 0, 'no link in the notification');
    assert.equal(await toast.locator('a[href^="command:"], a[data-href^="command:"]').count(), 0, 'no command link anywhere in it');
    await toast.locator('.codicon-notifications-expand').first().click().catch(() => undefined); // the whole message in the screenshot
    await page.screenshot({ path: path.join(artifacts, 'vscode-ui-untrusted-notification.png') });
    // Clicking the words does nothing: the window is still there.
    await message.getByText('Click here', { exact: false }).first().click();
    await page.waitForTimeout(1000);
    assert.ok(await page.locator('.monaco-workbench').isVisible(), 'the workbench is still open');
    await page.keyboard.press('Escape');
  });

  it('with a valid config the walks and the timeline run, Mark Build Good asks for trust, and nothing of the repository runs or is written through its links', async () => {
    const { page } = wb;
    writeFileSync(path.join(h.dir, '.provenance.json'), JSON.stringify({ targets: [{ name: 'app', image: 'bp-hostile-app', dockerfile: 'Dockerfile' }] }, null, 2));
    await waitForStatusBarItem(page, /\bapp\b/, 60_000);
    await runCommand(page, 'Build Provenance: Refresh');
    await runCommand(page, 'Build Provenance: Open Provenance Timeline');
    await page.locator('.tabs-container .tab', { hasText: /Timeline/ }).first().waitFor({ timeout: 60_000 });
    const trust = await notificationAfter(page, 'Build Provenance: Mark Build Good…', 'needs a trusted workspace');
    assert.match(await trust.innerText(), /Mark Build Good needs a trusted workspace: it writes the build ledger/);
    assert.ok(await trust.locator('.monaco-button', { hasText: 'Manage Workspace Trust' }).isVisible());
    await page.screenshot({ path: path.join(artifacts, 'vscode-ui-untrusted-trust.png') });
    await page.waitForTimeout(3000); // let refreshes in flight finish
    assert.deepEqual(markers(h.markers), [], 'no program of the repository ran');
    assert.deepEqual(victimState(h.victim), before0, 'nothing was written through a link');
  });
});
