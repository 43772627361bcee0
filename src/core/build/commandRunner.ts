// Runs user-configured commands (custom build, deploy): an argument array spawned without a
// shell, or a string through the user's $SHELL only when the settings say so. The child leads its
// own process group, so a cancel kills everything it started (docker CLI, scripts), not just it.
import { spawn } from 'node:child_process';
import type { CommandSpec } from '../config';

export class CommandSpecError extends Error {
  override name = 'CommandSpecError';
}

/**
 * The argv for a configured command. An array is used as is; a string needs `shell: true` and
 * runs as `$SHELL -c <string>` (default /bin/sh). `what` names the setting in messages.
 */
export function commandArgv(spec: CommandSpec | undefined, shell: boolean | undefined, what: string, env: NodeJS.ProcessEnv = process.env): string[] {
  if (spec === undefined || (Array.isArray(spec) && spec.length === 0) || spec === '') {
    throw new CommandSpecError(`${what}.command is not set; give the command as an argument array, e.g. ["./stack", "build-ubuntu"].`);
  }
  if (Array.isArray(spec)) return [...spec];
  if (!shell) {
    // Splitting at spaces is only an argument array when the string uses no shell syntax:
    // `a && b` split that way would pass "&&" to `a` as an argument.
    const syntax = /&&|\|\||[|;&<>()`$*?"'\\~{}[\]#]/.exec(spec)?.[0];
    const asArray = syntax
      ? `It uses shell syntax (${syntax}), so as an array it would need a script of its own (e.g. ["./build.sh"])`
      : `Give it as an argument array (e.g. ${JSON.stringify(spec.split(/\s+/).filter(Boolean))})`;
    throw new CommandSpecError(`${what}.command is a string, which would need a shell. ${asArray}, or set "${what}.shell": true to run it through your shell ($SHELL -c).`);
  }
  return [env.SHELL && env.SHELL.trim() !== '' ? env.SHELL : '/bin/sh', '-c', spec];
}

export interface RunCommandOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Each output line (stdout and stderr), without its newline. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** After SIGTERM to the group, how long before SIGKILL (default 3 s). */
  killGraceMs?: number;
}

export interface CommandOutcome {
  exitCode: number | null;
  /** The signal that ended the process, if any. */
  signal: NodeJS.Signals | null;
  cancelled: boolean;
}

/** Runs argv to completion. Rejects only when it cannot start (e.g. not found). */
export function runCommand(argv: string[], opts: RunCommandOptions): Promise<CommandOutcome> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      resolve({ exitCode: null, signal: null, cancelled: true });
      return;
    }
    const child = spawn(argv[0], argv.slice(1), {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // own process group: kill(-pid) reaches its children too
      windowsHide: true,
    });
    let cancelled = false;
    let killTimer: NodeJS.Timeout | undefined;
    let exited = false;
    const killGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        /* the group is gone */
      }
    };
    const onAbort = () => {
      cancelled = true;
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), opts.killGraceMs ?? 3000);
      killTimer.unref();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    const splitter = (stream: 'stdout' | 'stderr') => {
      let rest = '';
      return {
        push(chunk: string) {
          const parts = (rest + chunk).split(/\r?\n/);
          rest = parts.pop() ?? '';
          for (const p of parts) opts.onLine?.(p, stream);
        },
        flush() {
          if (rest) opts.onLine?.(rest, stream);
          rest = '';
        },
      };
    };
    const out = splitter('stdout');
    const err = splitter('stderr');
    child.stdout.setEncoding('utf8').on('data', (c: string) => out.push(c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => err.push(c));

    let settled = false;
    const finish = (code: number | null, sig: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      if (killTimer && !cancelled) clearTimeout(killTimer);
      out.flush();
      err.flush();
      resolve({ exitCode: code, signal: sig, cancelled });
    };
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      reject(
        e.code === 'ENOENT'
          ? new CommandSpecError(`Cannot run "${argv[0]}": not found (working directory ${opts.cwd}).`)
          : e.code === 'EACCES'
            ? new CommandSpecError(`Cannot run "${argv[0]}": permission denied (is it executable? chmod +x).`)
            : e,
      );
    });
    child.on('close', (code, sig) => finish(code, sig));
    child.on('exit', (code, sig) => {
      exited = true;
      // A background process that inherited our pipes would keep 'close' from ever coming.
      setTimeout(() => {
        if (!settled && exited) {
          child.stdout.destroy();
          child.stderr.destroy();
          finish(code, sig);
        }
      }, 2000).unref();
    });
  });
}
