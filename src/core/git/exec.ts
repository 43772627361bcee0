// The one process layer for git: argument arrays only, an AbortSignal that kills the child,
// typed errors that carry stderr and the exit code, and streaming for large outputs.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { closeSync, constants, openSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { applyPolicy, currentPolicy, FILTER_KEYS } from '../safety/untrustedPolicy';
import { privateTempDir } from '../safety/safeFiles';

export class GitError extends Error {
  constructor(
    message: string,
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'GitError';
  }
}

export class GitNotFoundError extends Error {
  constructor() {
    super('git was not found on PATH. Install git (e.g. `apt-get install git`) and try again.');
    this.name = 'GitNotFoundError';
  }
}

export interface GitRunOptions {
  cwd: string;
  signal?: AbortSignal;
  /** Written to stdin, then stdin is closed. */
  input?: string;
  /** Exit codes that are not errors (e.g. 1 for `merge-base --is-ancestor`). */
  okCodes?: number[];
  /** Write stdout to this open file instead of a pipe (see runGitBulk). */
  stdoutFd?: number;
}

export const gitEnv: NodeJS.ProcessEnv = {
  ...process.env,
  LC_ALL: 'C',
  GIT_PAGER: 'cat',
  PAGER: 'cat',
  GIT_TERMINAL_PROMPT: '0',
  // Never take locks for read-only queries (editor refreshes must not block the user's git).
  GIT_OPTIONAL_LOCKS: '0',
  // Never fetch missing objects of a partial clone behind the user's back (git >= 2.44).
  GIT_NO_LAZY_FETCH: '1',
  // Older git has no GIT_NO_LAZY_FETCH: allowing no transport makes a lazy fetch fail at once,
  // locally, instead of reaching the network. Our queries never fetch on purpose.
  GIT_ALLOW_PROTOCOL: 'none',
};

/**
 * Starts one git process under the untrusted-repository policy (safety/untrustedPolicy.ts): the
 * only place a git child is spawned. Under the policy the repository's filter drivers are looked
 * up first (cached for a moment per folder) so that each can be emptied.
 */
export async function spawnGit(args: readonly string[], cwd: string, stdio: StdioOptions): Promise<ChildProcess> {
  const policy = currentPolicy();
  const drivers = policy.untrusted ? await filterDrivers(cwd) : [];
  const run = applyPolicy(policy, args, gitEnv, drivers);
  return spawn('git', run.args, { cwd, env: run.env, stdio, windowsHide: true });
}

const driverCache = new Map<string, { at: number; drivers: Promise<string[]> }>();

/** The filter drivers the repository at `cwd` configures (`filter.<driver>.clean|smudge|process`). */
function filterDrivers(cwd: string): Promise<string[]> {
  const hit = driverCache.get(cwd);
  if (hit && Date.now() - hit.at < 2000) return hit.drivers;
  const drivers = new Promise<string[]>((resolve) => {
    // Reading config starts no program; this process runs under the policy without drivers.
    const run = applyPolicy(currentPolicy(), ['config', '--name-only', '--get-regexp', '^filter\\.'], gitEnv);
    noteGitSpawn(run.args, cwd);
    const child = spawn('git', run.args, { cwd, env: run.env, stdio: ['ignore', 'pipe', 'ignore'], windowsHide: true });
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (c: string) => (out += c));
    child.on('error', () => resolve([]));
    child.on('close', () => {
      const names = new Set<string>();
      for (const line of out.split('\n')) {
        const m = FILTER_KEYS.exec(line.trim());
        if (m) names.add(m[1]);
      }
      resolve([...names]);
    });
  });
  driverCache.set(cwd, { at: Date.now(), drivers });
  if (driverCache.size > 64) driverCache.delete(driverCache.keys().next().value!);
  return drivers;
}

let spawned = 0;
/** The last git commands started, with the folder each ran in ('' when not known). */
const recent: { command: string; cwd: string }[] = [];

/** How many git processes this process has started (tests and benchmarks count them). */
export function gitSpawnCount(): number {
  return spawned;
}

/** The last few git command lines started, newest last (for diagnosing unexpected spawns). */
export function recentGitSpawns(): string[] {
  return recent.map((r) => r.command);
}

/** The same, with the folder each ran in (tests check that a refresh of one repository starts nothing in another). */
export function recentGitSpawnsIn(): { command: string; cwd: string }[] {
  return recent.map((r) => ({ ...r }));
}

/** For process layers that need raw bytes (cat-file) but must still be counted. */
export function noteGitSpawn(args: readonly string[] = ['cat-file', '--batch'], cwd = ''): (() => void) {
  spawned++;
  recent.push({ command: args.slice(0, 6).join(' '), cwd });
  if (recent.length > 60) recent.shift();
  return traceSpan(`git ${args.slice(0, 4).join(' ')}`);
}

const TRACE = !!process.env.PROVENANCE_TRACE;

/**
 * PROVENANCE_TRACE=1 prints when each git process starts and ends (ms since process start) to
 * stderr: where the time of a slow command goes. Returns the function that marks the end.
 */
export function traceSpan(what: string): () => void {
  if (!TRACE) return () => undefined;
  const t0 = performance.now();
  process.stderr.write(`[trace ${t0.toFixed(0).padStart(5)} ms] start ${what}\n`);
  return () => {
    const t1 = performance.now();
    process.stderr.write(`[trace ${t1.toFixed(0).padStart(5)} ms] end   ${what} (${(t1 - t0).toFixed(0)} ms)\n`);
  };
}

export interface GitResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * Runs git and streams stdout chunks to `onStdout`. Resolves with the exit code and stderr.
 * Rejects with GitError on a non-ok exit code, AbortError when aborted.
 */
export function streamGit(
  args: readonly string[],
  opts: GitRunOptions,
  onStdout: (chunk: string) => void,
): Promise<{ stderr: string; exitCode: number }> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(abortError());
      return;
    }
    const traced = noteGitSpawn(args, opts.cwd);
    let stderr = '';
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    let child: ChildProcess | null = null;
    const onAbort = () => {
      child?.kill('SIGTERM');
      finish(() => reject(abortError()));
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    void spawnGit(args, opts.cwd, ['pipe', opts.stdoutFd ?? 'pipe', 'pipe']).then((c) => {
      child = c;
      if (settled) {
        c.kill('SIGTERM');
        return;
      }
      attach(c);
    }, (err) => finish(() => reject(err)));
    const attach = (child: ChildProcess) => {
      child.stderr!.setEncoding('utf8');
      child.stdout?.setEncoding('utf8');
      child.stdout?.on('data', (chunk: string) => {
        if (!settled) onStdout(chunk);
      });
      child.stderr!.on('data', (chunk: string) => {
        if (stderr.length < 64 * 1024) stderr += chunk;
      });
      child.on('error', (err: NodeJS.ErrnoException) => {
        finish(() => reject(err.code === 'ENOENT' ? new GitNotFoundError() : err));
      });
      child.on('close', (code) => {
        traced();
        finish(() => {
          const exitCode = code ?? -1;
          if (exitCode === 0 || opts.okCodes?.includes(exitCode)) {
            resolve({ stderr, exitCode });
          } else {
            const first = stderr.trim().split('\n')[0] || `exit code ${exitCode}`;
            reject(new GitError(`git ${args[0]} failed: ${first}`, args, exitCode, stderr));
          }
        });
      });
      child.stdin!.on('error', () => {
        /* the child may exit before reading stdin; its exit code tells what happened */
      });
      child.stdin!.end(opts.input ?? '');
    };
  });
}

/** Runs git and buffers stdout. */
export async function runGit(args: readonly string[], opts: GitRunOptions): Promise<GitResult> {
  const parts: string[] = [];
  const { stderr, exitCode } = await streamGit(args, opts, (c) => parts.push(c));
  return { stdout: parts.join(''), stderr, exitCode };
}

/**
 * runGit for large outputs that are needed whole (a listing of every commit of a range, a
 * range walk): git writes to a private temp file, not a pipe. Through a 64 KB pipe, git waits
 * whenever this process has not read yet, and they take turns every 64 KB; with a file an
 * 800 KB listing takes half the time, and a walk never waits while Docker is being asked.
 */
export async function runGitBulk(args: readonly string[], opts: GitRunOptions): Promise<GitResult> {
  const dir = privateTempDir('bp-git-');
  const file = path.join(dir, 'out');
  try {
    const fd = openSync(file, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    let result: { stderr: string; exitCode: number };
    try {
      result = await streamGit(args, { ...opts, stdoutFd: fd }, () => undefined);
    } finally {
      closeSync(fd); // after the child exited (under the policy it starts a moment later)
    }
    const { stderr, exitCode } = result;
    return { stdout: await readFile(file, 'utf8'), stderr, exitCode };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function abortError(): Error {
  const err = new Error('The operation was aborted');
  err.name = 'AbortError';
  return err;
}

export function isAbortError(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}
