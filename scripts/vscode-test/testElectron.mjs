// The Electron VS Code that @vscode/test-electron downloads (a developer's laptop, a public CI).
// We use its download and cache, but launch VS Code ourselves with the same arguments as its
// runTests(): runTests always adds --disable-workspace-trust (no Restricted Mode runs) and has
// no timeout (a suite that never reports would hang CI instead of failing it).
import { spawn, spawnSync } from 'node:child_process';
import { promises as dns } from 'node:dns';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { cacheDir } from './codeServer.mjs';

const DOWNLOAD_HOST = 'update.code.visualstudio.com';
const HARNESS_FAILURE = 2;
export const electronCacheDir = path.join(cacheDir, 'vscode-test');
const say = (msg) => console.log(`vscode-test: ${msg}`);

/** Can test-electron get a VS Code? Without network it fails in ~150 ms, but say why up front. */
export async function electronAvailability() {
  const cached = existsSync(electronCacheDir) && readdirSync(electronCacheDir).some((e) => e.startsWith('vscode-'));
  if (cached) return { ok: true }; // test-electron falls back to an installed build when offline
  try {
    await Promise.race([
      dns.lookup(DOWNLOAD_HOST),
      new Promise((_, reject) => setTimeout(() => reject(Object.assign(new Error('lookup timed out'), { code: 'ETIMEOUT' })), 3000).unref()),
    ]);
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: `${DOWNLOAD_HOST} cannot be resolved (${e.code ?? e.message})` };
  }
}

/**
 * @returns the suite's exit code; HARNESS_FAILURE on timeout; undefined when VS Code could not
 *   be downloaded and the caller may fall back (not when BP_VSCODE=electron forced it).
 */
export async function runWithTestElectron({ workspace, tests, extension, trust, timeoutMs, forced }) {
  const { downloadAndUnzipVSCode } = await import('@vscode/test-electron');
  const version = process.env.BP_VSCODE_VERSION || 'stable';
  let executable;
  try {
    executable = await downloadAndUnzipVSCode({ version, cachePath: electronCacheDir, timeout: 30_000 });
  } catch (e) {
    console.error(`vscode-test: @vscode/test-electron could not get VS Code ${version}: ${e.message ?? e}`);
    return forced ? HARNESS_FAILURE : undefined;
  }
  say(`@vscode/test-electron: ${executable}, ${trust ? 'trusted workspace' : 'Restricted Mode'}`);

  const tmp = await mkdtemp(path.join(os.tmpdir(), 'bp-vscode-electron-'));
  const args = [
    workspace,
    // The same as runTests() in @vscode/test-electron 2.5, see out/runTest.js there.
    '--no-sandbox',
    '--disable-gpu-sandbox',
    '--disable-updates',
    '--skip-welcome',
    '--skip-release-notes',
    ...(trust ? ['--disable-workspace-trust'] : []),
    `--extensionTestsPath=${tests}`,
    `--extensionDevelopmentPath=${extension}`,
    `--user-data-dir=${path.join(tmp, 'user-data')}`,
    `--extensions-dir=${path.join(tmp, 'extensions')}`,
  ];
  let command = executable;
  let argv = args;
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    // Electron needs a display; CI machines usually have none.
    if (spawnSync('sh', ['-c', 'command -v xvfb-run'], { stdio: 'ignore' }).status === 0) {
      command = 'xvfb-run';
      argv = ['-a', executable, ...args];
    } else {
      say('no DISPLAY and no xvfb-run: VS Code may fail to start (apt-get install xvfb)');
    }
  }
  const env = { ...process.env, BP_VSCODE_TRUST: trust ? 'trusted' : 'restricted' };
  for (const k of Object.keys(env)) if (/^(VSCODE_|ELECTRON_)/.test(k)) delete env[k];

  const detached = process.platform !== 'win32'; // own process group: one kill reaches all of VS Code
  const child = spawn(command, argv, { env, stdio: 'inherit', detached });
  const killAll = (signal) => {
    try {
      if (detached) process.kill(-child.pid, signal);
      else child.kill(signal);
    } catch {
      /* gone */
    }
  };
  const onExit = () => killAll('SIGKILL');
  process.on('exit', onExit);
  const onSignal = () => {
    killAll('SIGKILL');
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  try {
    const result = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ problem: `the suite did not report within ${timeoutMs / 1000} s` }), timeoutMs);
      child.once('error', (e) => resolve({ problem: `could not start VS Code: ${e.message}` }));
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        resolve(code === null ? { problem: `VS Code was killed by ${signal}` } : { exitCode: code });
      });
    });
    if (result.problem) {
      console.error(`vscode-test: ${result.problem}. Nothing was decided, so this fails.`);
      return HARNESS_FAILURE;
    }
    return result.exitCode;
  } finally {
    killAll('SIGTERM');
    setTimeout(() => killAll('SIGKILL'), 2000).unref();
    process.off('exit', onExit);
    process.off('SIGINT', onSignal);
    await rm(tmp, { recursive: true, force: true, maxRetries: 3 }).catch(() => {});
  }
}
