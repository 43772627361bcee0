#!/usr/bin/env node
// Runs an extension test suite (a module exporting run(): Promise<void>) inside a real VS Code:
// @vscode/test-electron when it can get VS Code, otherwise code-server + headless Chromium.
//
//   node scripts/vscode-test/run.mjs --workspace <dir> --tests <compiled tests index.js>
//        [--extension <dir, default repo root>] [--trust | --restricted]
//        [--screenshot-dir <dir>] [--timeout <seconds, default 180>]
//
//   BP_VSCODE=auto|electron|codeserver   which VS Code (default auto)
//   BP_VSCODE_VERSION=stable|1.90.0      VS Code version for test-electron (default stable)
//   BP_CACHE                             cache root (default ~/.cache/build-provenance)
//   BP_KEEP_TMP=1                        keep the temp dir (server log, user data)
//
// Exit code: the suite's (0 passed, 1 failed), or 2 when the harness could not get an answer
// (tooling missing, server did not start, the suite never reported before the timeout).
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { format, parseArgs } from 'node:util';
import { installPaths, interrupted, isNoise, trimWorkbenchStack, openWorkbench, repoRoot, startCodeServer, testPayload, versions } from './codeServer.mjs';
import { electronAvailability, runWithTestElectron } from './testElectron.mjs';

const HARNESS_FAILURE = 2;
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
const say = (msg) => console.log(`vscode-test: ${msg}`);

function usage(msg) {
  if (msg) console.error(`vscode-test: ${msg}`);
  console.error(readFileSync(new URL(import.meta.url), 'utf8').split('\n').slice(1, 15).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
  process.exit(HARNESS_FAILURE);
}

let opts;
try {
  opts = parseArgs({
    options: {
      workspace: { type: 'string' },
      tests: { type: 'string' },
      extension: { type: 'string', default: repoRoot },
      trust: { type: 'boolean' },
      restricted: { type: 'boolean' },
      'screenshot-dir': { type: 'string' },
      timeout: { type: 'string', default: '180' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
} catch (e) {
  usage(e.message);
}
if (opts.help) usage();
if (!opts.workspace || !opts.tests) usage('--workspace and --tests are required');
if (opts.trust && opts.restricted) usage('--trust and --restricted exclude each other');

const workspace = path.resolve(opts.workspace);
const tests = path.resolve(opts.tests);
const extension = path.resolve(opts.extension);
const trust = !opts.restricted;
const timeoutMs = Number(opts.timeout) * 1000;
const screenshotDir = opts['screenshot-dir'] ? path.resolve(opts['screenshot-dir']) : undefined;
if (!(timeoutMs > 0)) usage(`--timeout must be a number of seconds, not "${opts.timeout}"`);
if (!existsSync(workspace)) usage(`workspace ${workspace} does not exist`);
if (!existsSync(tests)) usage(`tests module ${tests} does not exist; build it first (node scripts/vscode-test/build-suite.mjs)`);
const extPkgFile = path.join(extension, 'package.json');
if (!existsSync(extPkgFile)) usage(`no extension at ${extension} (no package.json)`);
const main = JSON.parse(readFileSync(extPkgFile, 'utf8')).main;
if (main && !existsSync(path.resolve(extension, main)) && !existsSync(path.resolve(extension, `${main}.js`))) {
  usage(`the extension's main ${main} does not exist; run \`npm run build\` first`);
}

const mode = process.env.BP_VSCODE ?? 'auto';
if (!['auto', 'electron', 'codeserver'].includes(mode)) usage(`BP_VSCODE must be auto, electron or codeserver, not "${mode}"`);

let code;
if (mode !== 'codeserver') {
  const availability = mode === 'electron' ? { ok: true } : await electronAvailability();
  if (availability.ok) {
    code = await runWithTestElectron({ workspace, tests, extension, trust, timeoutMs, forced: mode === 'electron' });
    if (code === undefined) say('falling back to code-server');
  } else {
    say(`@vscode/test-electron skipped: ${availability.reason}; using code-server`);
  }
}
if (code === undefined) code = await runWithCodeServer();
say(`${code === 0 ? 'PASSED' : `FAILED (exit code ${code})`} after ${elapsed()}`);
process.exit(code);

async function runWithCodeServer() {
  try {
    installPaths();
  } catch (e) {
    console.error(`vscode-test: ${e.message}`);
    return HARNESS_FAILURE;
  }
  say(`code-server ${versions.codeServer} (Node ${versions.node}), ${trust ? 'trusted workspace' : 'Restricted Mode (workspace trust on, not granted)'}`);
  let server;
  let wb;
  let suiteRunning = true;
  try {
    server = await startCodeServer({ trust, env: { BP_VSCODE_TRUST: trust ? 'trusted' : 'restricted' } });
    say(`server up at ${server.url} after ${elapsed()}`);
    let reported;
    const reportedP = new Promise((resolve) => (reported = resolve));
    wb = await openWorkbench(server, {
      // A .code-workspace file opens as a multi-root workspace, a folder as one folder.
      ...(workspace.endsWith('.code-workspace') ? { workspace } : { folder: workspace }),
      payload: testPayload(server, { extensionDevelopmentPath: extension, extensionTestsPath: tests }),
      onLog: (type, args) => suiteRunning && printLog(type, args),
      onExit: (exitCode) => reported({ exitCode }),
    });
    say(`workbench loaded after ${elapsed()}; waiting for the suite (timeout ${timeoutMs / 1000} s)`);
    wb.page.once('crash', () => reported({ problem: 'the workbench page crashed' }));
    wb.page.once('close', () => reported({ problem: 'the workbench page closed' }));
    const timer = setTimeout(() => reported({ problem: `the suite did not report within ${timeoutMs / 1000} s` }), Math.max(0, timeoutMs - (Date.now() - started)));
    const result = await reportedP;
    clearTimeout(timer);
    // The extension host has exited; what the workbench logs now is shutdown noise (cancelled
    // file reads, lost connections).
    suiteRunning = false;
    if (interrupted()) return 128 + { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 }[interrupted()];
    await screenshot(wb.page, result.exitCode === 0 ? 'passed' : 'failed');
    if (result.problem) {
      console.error(`vscode-test: ${result.problem}. Nothing was decided, so this fails.`);
      if (wb.pageErrors.length) console.error(`  page errors:\n    ${wb.pageErrors.slice(-5).join('\n    ')}`);
      console.error(`  code-server log (last lines):\n${await server.logTail(30)}`);
      return HARNESS_FAILURE;
    }
    return result.exitCode;
  } catch (e) {
    if (interrupted()) return 128 + { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 }[interrupted()];
    console.error(`vscode-test: ${e.stack ?? e}`);
    if (wb) await screenshot(wb.page, 'error');
    if (server) console.error(`  code-server log (last lines):\n${await server.logTail(30)}`);
    return HARNESS_FAILURE;
  } finally {
    await wb?.close();
    await server?.stop();
  }
}

/**
 * The workbench's log, which carries the extension host's console (window.codeAutomationLog);
 * args are console.log's arguments, format string first.
 */
function printLog(type, args) {
  const message = trimWorkbenchStack(format(...(Array.isArray(args) ? args : [args])));
  if (isNoise(message)) return;
  (type === 'error' || type === 'warn' ? console.error : console.log)(message);
}

async function screenshot(page, label) {
  if (!screenshotDir || !page || page.isClosed()) return;
  try {
    await mkdir(screenshotDir, { recursive: true });
    const file = path.join(screenshotDir, `vscode-suite-${label}.png`);
    await page.screenshot({ path: file, timeout: 10_000 });
    say(`screenshot: ${path.relative(process.cwd(), file) || file}`);
  } catch (e) {
    say(`screenshot failed: ${e.message}`);
  }
}
