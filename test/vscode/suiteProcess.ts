// What the runners of the fixture suites share (runZeroConfigSuite.ts, runMultiRootSuite.ts): the
// prerequisites check, and the suite run in a real VS Code through scripts/vscode-test/run.mjs.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { BUSYBOX, docker } from '../support/dockerFixtures';

const repoRoot = path.resolve(__dirname, '../..');

/** Why the suite cannot run here (busybox or Docker missing), or undefined. */
export async function suiteProblem(): Promise<string | undefined> {
  if (!existsSync(BUSYBOX)) return `${BUSYBOX} is missing: apt-get install -y busybox-static`;
  try {
    await docker(['version', '--format', '{{.Server.Version}}'], { timeoutMs: 10_000 });
  } catch (err) {
    return `Docker is not reachable: ${(err as Error).message.split('\n')[0]}`;
  }
  return undefined;
}

/** Runs test/vscode/suite with BP_SUITE=`suite` on `workspace` (a folder or a .code-workspace), trusted; resolves with its exit code. */
export function runSuiteIn(suite: string, workspace: string, env: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [path.join(repoRoot, 'scripts/vscode-test/run.mjs'), '--workspace', workspace, '--tests', path.join(repoRoot, 'out/test/vscode/suite/index.js'), '--trust', ...process.argv.slice(2)],
      { cwd: repoRoot, stdio: 'inherit', env: { ...process.env, BP_SUITE: suite, ...env } },
    );
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 2 : 1)));
  });
}
