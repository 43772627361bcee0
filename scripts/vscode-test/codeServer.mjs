// A real VS Code without downloading one: code-server (VS Code's own server, workbench and
// extension host) driven by Debian's Chromium through playwright-core. Used by run.mjs to run an
// extension test suite, and by UI tests (test/vscode/ui) that read the DOM and take screenshots.
// Facts behind each choice: scripts/vscode-test/README.md. Install: setup.sh.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const versions = JSON.parse(readFileSync(new URL('./versions.json', import.meta.url), 'utf8'));
export const cacheDir = process.env.BP_CACHE || path.join(os.homedir(), '.cache', 'build-provenance');

/** Where setup.sh puts things. Throws with the fix when something is missing. */
export function installPaths() {
  const p = {
    node: path.join(cacheDir, `node-${versions.node}`, 'bin', 'node'),
    codeServer: path.join(cacheDir, `code-server-${versions.codeServer}`, 'node_modules', 'code-server', 'out', 'node', 'entry.js'),
    chromium: process.env.BP_CHROMIUM || '/usr/bin/chromium',
  };
  const missing = Object.entries(p).filter(([, f]) => !existsSync(f));
  if (missing.length > 0) {
    throw new Error(
      `code-server test tooling not installed (missing ${missing.map(([, f]) => f).join(', ')}).\n` +
        `  Run: bash scripts/vscode-test/setup.sh   (about 4 min the first time, cached in ${cacheDir})`,
    );
  }
  return p;
}

// --- cleanup on every way out ------------------------------------------------------------------
// Process groups we started (→ their temp dir, or null to keep it); killed on exit even when the
// caller forgets, we are interrupted, or we crash. Without this the extension host waits up to 3 h
// for a client to reconnect.
const liveGroups = new Map();
const asyncCleanups = new Set();
let signalsHooked = false;
let interruptedBy = null;
/** The signal that is stopping us, if any: what follows is teardown, not a test result. */
export function interrupted() {
  return interruptedBy;
}
function hookSignals() {
  if (signalsHooked) return;
  signalsHooked = true;
  process.on('exit', () => {
    for (const [pgid, dir] of liveGroups) {
      killGroup(pgid, 'SIGKILL');
      if (dir) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    }
  });
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
    process.once(sig, async () => {
      interruptedBy = sig;
      console.error(`\nvscode-test: ${sig}, stopping code-server and the browser`);
      const timer = setTimeout(() => process.exit(code), 5000);
      await Promise.allSettled([...asyncCleanups].map((f) => f()));
      clearTimeout(timer);
      process.exit(code);
    });
  }
}
function killGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // ESRCH: the group is gone
  }
}

/** A free loopback port (tiny race until code-server binds it; acceptable for tests). */
export async function freePort() {
  const srv = createServer();
  await new Promise((resolve, reject) => srv.listen(0, '127.0.0.1', resolve).once('error', reject));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/** User settings that keep a test workbench quiet and deterministic. */
export const defaultSettings = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'chat.disableAIFeatures': true,
  'git.openRepositoryInParentFolders': 'never',
};

/** The folder name VS Code expects in an extensions dir: `<publisher>.<name>-<version>`. */
async function extensionFolderName(extDir) {
  const pkg = JSON.parse(await readFile(path.join(extDir, 'package.json'), 'utf8'));
  return `${pkg.publisher}.${pkg.name}-${pkg.version}`.toLowerCase();
}

/**
 * Starts code-server on 127.0.0.1 with fresh user data, extensions and XDG dirs in a temp dir.
 * @param {object} [o]
 * @param {boolean} [o.trust=true] false leaves out --disable-workspace-trust (Restricted Mode tests)
 * @param {string[]} [o.installExtensions] extension folders to copy into the extensions dir
 *   (only their run-time files: package.json, dist, schema, media, README, LICENSE)
 * @param {Record<string, unknown>} [o.settings] user settings merged over defaultSettings
 * @param {Record<string, string>} [o.env] extra environment for the server and its extension host
 * @param {boolean} [o.keepTemp] keep the temp dir (logs) after stop()
 */
export async function startCodeServer(o = {}) {
  const { trust = true, installExtensions = [], settings = {}, keepTemp = !!process.env.BP_KEEP_TMP } = o;
  const bin = installPaths();
  hookSignals();
  const baseDir = await mkdtemp(path.join(os.tmpdir(), 'bp-code-server-'));
  const dirs = {
    userData: path.join(baseDir, 'user-data'),
    extensions: path.join(baseDir, 'extensions'),
    xdgConfig: path.join(baseDir, 'xdg-config'),
    xdgData: path.join(baseDir, 'xdg-data'),
    xdgCache: path.join(baseDir, 'xdg-cache'),
    tmp: path.join(baseDir, 'tmp'), // the extension host's IPC sockets go here, not in /tmp
  };
  await Promise.all(Object.values(dirs).map((d) => mkdir(d, { recursive: true })));
  await mkdir(path.join(dirs.userData, 'User'), { recursive: true });
  await writeFile(path.join(dirs.userData, 'User', 'settings.json'), JSON.stringify({ ...defaultSettings, ...settings }, null, 2));
  for (const ext of installExtensions) {
    const dest = path.join(dirs.extensions, await extensionFolderName(ext));
    for (const item of ['package.json', 'dist', 'out', 'schema', 'media', 'README.md', 'LICENSE']) {
      if (existsSync(path.join(ext, item))) await cp(path.join(ext, item), path.join(dest, item), { recursive: true });
    }
  }

  const host = '127.0.0.1';
  const port = await freePort();
  const logFile = path.join(baseDir, 'code-server.log');
  const args = [
    bin.codeServer,
    '--auth', 'none',
    '--bind-addr', `${host}:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--user-data-dir', dirs.userData,
    '--extensions-dir', dirs.extensions,
    // Without it the workbench ignores the URL payload: an extension test suite silently never runs.
    '--vscode-option', 'enable-smoke-test-driver',
    ...(trust ? ['--disable-workspace-trust'] : []),
  ];
  const env = { ...process.env, ...o.env, XDG_CONFIG_HOME: dirs.xdgConfig, XDG_DATA_HOME: dirs.xdgData, XDG_CACHE_HOME: dirs.xdgCache, TMPDIR: dirs.tmp };
  // Inherited VS Code / Node settings would leak into the server and its extension host.
  for (const k of Object.keys(env)) if (/^(VSCODE_|ELECTRON_)/.test(k) || k === 'NODE_OPTIONS') delete env[k];
  const fd = openSync(logFile, 'a');
  // detached: the server leads its own process group (setsid), so one kill reaches its children.
  const child = spawn(bin.node, args, { cwd: baseDir, env, detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const pgid = child.pid;
  liveGroups.set(pgid, keepTemp ? null : baseDir);
  let exited = null;
  const exitedP = new Promise((resolve) => child.once('exit', (code, signal) => resolve((exited = { code, signal }))));

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    asyncCleanups.delete(stop);
    if (killGroup(pgid, 'SIGTERM')) {
      await Promise.race([exitedP, sleep(3000)]);
    }
    killGroup(pgid, 'SIGKILL'); // whatever is left in the group (extension host, pty host, …)
    liveGroups.delete(pgid);
    if (!keepTemp) await rm(baseDir, { recursive: true, force: true, maxRetries: 3 }).catch(() => {});
  };
  asyncCleanups.add(stop);

  const server = {
    host,
    port,
    authority: `${host}:${port}`,
    url: `http://${host}:${port}`,
    baseDir,
    dirs,
    logFile,
    pid: child.pid,
    trust,
    stop,
    /** The server log's last lines, for failure reports. */
    async logTail(lines = 40) {
      const text = await readFile(logFile, 'utf8').catch(() => '');
      return text.split('\n').slice(-lines).join('\n');
    },
    /** A `vscode-remote://` URI for a path on this server, as the workbench payload needs. */
    remoteUri(p) {
      return `vscode-remote://${host}:${port}${path.resolve(p).split('/').map(encodeURIComponent).join('/')}`;
    },
  };

  // Healthy when /healthz answers; under a second normally.
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) {
      const tail = await server.logTail();
      await stop();
      throw new Error(`code-server exited at start (${JSON.stringify(exited)}):\n${tail}`);
    }
    try {
      const res = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      const tail = await server.logTail();
      await stop();
      throw new Error(`code-server did not answer /healthz within 30 s:\n${tail}`);
    }
    await sleep(100);
  }
  return server;
}

/** Chromium flags: headless, and no calls to the outside (they are refused here anyway). */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** Debian's Chromium through playwright-core, with a fresh profile. Close it with browser.close(). */
export async function launchBrowser() {
  const { chromium } = await import('playwright-core');
  hookSignals();
  const browser = await chromium.launch({
    executablePath: installPaths().chromium,
    headless: true,
    args: chromiumArgs,
    // Our own handlers stop code-server too; see hookSignals().
    handleSIGINT: false,
    handleSIGTERM: false,
  });
  const close = () => browser.close().catch(() => {});
  asyncCleanups.add(close);
  browser.once('disconnected', () => asyncCleanups.delete(close));
  return browser;
}

/**
 * The extension-test payload, as @vscode/test-electron's command line would give it. The paths
 * must use exactly the authority the browser uses.
 */
export function testPayload(server, { extensionDevelopmentPath, extensionTestsPath }) {
  return [
    ['extensionDevelopmentPath', server.remoteUri(extensionDevelopmentPath)],
    ['extensionTestsPath', server.remoteUri(extensionTestsPath)],
    ['skipWelcome', 'true'],
    ['skipReleaseNotes', 'true'],
  ];
}

/** The workbench URL for a folder, with an optional payload. */
export function workbenchUrl(server, { folder, workspace, payload } = {}) {
  const q = new URLSearchParams();
  if (folder) q.set('folder', path.resolve(folder));
  // A multi-root workspace: a .code-workspace file.
  if (workspace) q.set('workspace', path.resolve(workspace));
  if (payload) q.set('payload', JSON.stringify(payload));
  const qs = q.toString();
  return `${server.url}/${qs ? `?${qs}` : ''}`;
}

/**
 * Opens the workbench in a new page.
 * @param {object} server from startCodeServer()
 * @param {object} [o]
 * @param {string} [o.folder] the workspace folder
 * @param {string} [o.workspace] a .code-workspace file (multi-root), instead of a folder
 * @param {Array<[string,string]>} [o.payload] e.g. testPayload(...)
 * @param {import('playwright-core').Browser} [o.browser] reuse; otherwise one is launched and owned
 * @param {(type: string, args: unknown[]) => void} [o.onLog] window.codeAutomationLog
 * @param {(code: number) => void} [o.onExit] window.codeAutomationExit (end of a test suite)
 * @param {{width:number,height:number}} [o.viewport]
 */
export async function openWorkbench(server, o = {}) {
  const ownBrowser = !o.browser;
  const browser = o.browser ?? (await launchBrowser());
  const context = await browser.newContext({ viewport: o.viewport ?? { width: 1400, height: 900 } });
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e?.stack ?? e)));
  if (o.onLog) await page.exposeFunction('codeAutomationLog', (type, args) => o.onLog(type, args));
  if (o.onExit) await page.exposeFunction('codeAutomationExit', (code) => o.onExit(code));
  const url = workbenchUrl(server, o);
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  return {
    browser,
    context,
    page,
    url,
    pageErrors,
    async close() {
      await context.close().catch(() => {});
      if (ownBrowser) await browser.close().catch(() => {});
    },
  };
}

// --- helpers for UI tests --------------------------------------------------------------------

/** Status bar entries as a person sees them: text and aria-label. */
export async function statusBarItems(page) {
  return page.locator('.statusbar-item').evaluateAll((els) =>
    els.map((e) => ({ id: e.id, text: e.textContent?.trim() ?? '', ariaLabel: e.getAttribute('aria-label') ?? e.querySelector('[aria-label]')?.getAttribute('aria-label') ?? '' })),
  );
}

/** Waits until a status bar item's text or aria-label matches. */
export async function waitForStatusBarItem(page, match, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  const test = (s) => (match instanceof RegExp ? match.test(s) : s.includes(match));
  for (;;) {
    const item = (await statusBarItems(page)).find((i) => test(i.text) || test(i.ariaLabel));
    if (item) return item;
    if (Date.now() > deadline) throw new Error(`no status bar item matching ${match} within ${timeoutMs} ms`);
    await sleep(250);
  }
}

/**
 * Hovers `target` (a Locator) until a workbench hover containing `hasText` shows, and returns it.
 * Retries: a hover is cancelled when its item re-renders (a status bar item updating, say).
 */
export async function showHover(page, target, hasText, timeoutMs = 20_000) {
  const hover = page.locator('.workbench-hover, .monaco-hover').filter({ hasText }).first();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await page.mouse.move(1, 1);
    await target.hover();
    try {
      await hover.waitFor({ state: 'visible', timeout: 3000 });
      return hover;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`no hover with "${hasText}" within ${timeoutMs} ms: ${e.message}`);
    }
  }
}

/**
 * Runs a command from the palette (F1) by its exact title, e.g. "Build Provenance: Refresh".
 * Picks the row with that title, not the first row: fuzzy matching may rank another command
 * first ("File: Compare New Untitled Text Files" for "File: New Untitled Text File"). Check the
 * command's effect in the DOM afterwards; notification toasts were not reliable.
 */
export async function runCommand(page, title, timeoutMs = 15_000) {
  await page.keyboard.press('Escape'); // close a hover or an open quick pick first
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: timeoutMs });
  await input.fill(`>${title}`);
  const rows = page.locator('.quick-input-list .monaco-list-row');
  const row = rows.filter({ has: page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(title)}\\s*$`) }) }).first();
  try {
    await row.waitFor({ state: 'visible', timeout: timeoutMs });
  } catch {
    const seen = await rows.evaluateAll((els) => els.slice(0, 8).map((e) => e.querySelector('.label-name')?.textContent));
    await page.keyboard.press('Escape');
    throw new Error(`command "${title}" is not in the palette; it shows: ${JSON.stringify(seen)}`);
  }
  await row.click();
}

/** Opens a file by name with Quick Open (Ctrl+P) and waits for its tab. */
export async function quickOpen(page, name, timeoutMs = 30_000) {
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+P');
  await page.locator('.quick-input-widget input').fill(name);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().click();
  await page.locator('.tabs-container .tab', { hasText: name }).waitFor({ timeout: timeoutMs });
}

function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// --- log filtering ---------------------------------------------------------------------------

/**
 * Messages that say nothing about the suite. Matched against a whole message (its first line),
 * anchored, so a test's own output or failure report is never hidden.
 */
const noise = [
  // This environment has no internet: the GitHub auth provider, open-vsx and telemetry hosts.
  /^Timed out waiting for authentication provider 'github' to register/,
  /^(getaddrinfo )?(ENOTFOUND|EAI_AGAIN) (open-vsx\.org|[\w.-]*\.(visualstudio\.com|microsoft\.com|vsassets\.io|github\.com|githubusercontent\.com))/,
  /^Failed to fetch .*(open-vsx\.org|visualstudio\.com|microsoft\.com)/,
  // code-server 4.139 starts an agent host and a Copilot helper.
  /^\[(Remote)?AgentHost/,
  /^\[?copilot/i,
];
/** The workbench's own start-up and shutdown chatter (shown with BP_VSCODE_VERBOSE=1). */
const chatter = [
  /^Resolv(ing|ed) connection token/,
  /^Creating a socket \(/,
  /^\[reconnection-grace-time\]/,
  /^Updating additional builtin extensions cache/,
  /^\[Service Worker\]/,
  /^\[AccountPolicyGate\]/,
  /^\[lifecycle\] Long running operations during shutdown/,
  /^Creation of workbench contribution/,
];
/** Drops the workbench's own stack frames (minified, useless here); test stacks stay. */
export function trimWorkbenchStack(message) {
  return String(message)
    .split('\n')
    .filter((l) => !/^\s+at .*\/static\/out\/vs\//.test(l))
    .join('\n');
}

export function isNoise(message) {
  const first = String(message).split('\n', 1)[0];
  if (noise.some((re) => re.test(first))) return true;
  return !process.env.BP_VSCODE_VERBOSE && chatter.some((re) => re.test(first));
}
