// A small builder of real git repositories in temp dirs for tests.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, realpathSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const baseEnv = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Fixture Author',
  GIT_AUTHOR_EMAIL: 'author@example.invalid',
  GIT_COMMITTER_NAME: 'Fixture Author',
  GIT_COMMITTER_EMAIL: 'author@example.invalid',
  LC_ALL: 'C',
};

export class FixtureRepo {
  private clock = Date.parse('2026-01-01T00:00:00Z') / 1000;
  private constructor(readonly dir: string) {}

  /** A fresh repo with `git init -b main`. */
  static create(prefix = 'bp-fixture-'): FixtureRepo {
    const dir = realpathSync(mkdtempSync(path.join(tmpdir(), prefix)));
    const repo = new FixtureRepo(dir);
    repo.git('init', '-q', '-b', 'main');
    repo.git('config', 'commit.gpgsign', 'false');
    repo.git('config', 'core.autocrlf', 'false');
    return repo;
  }

  /** Wraps an existing directory (e.g. a clone made by a test). */
  static at(dir: string): FixtureRepo {
    return new FixtureRepo(dir);
  }

  git(...args: string[]): string {
    return execFileSync('git', args, { cwd: this.dir, env: { ...baseEnv, ...this.dateEnv() }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trimEnd();
  }

  private dateEnv() {
    const d = `${this.clock} +0000`;
    return { GIT_AUTHOR_DATE: d, GIT_COMMITTER_DATE: d };
  }

  write(rel: string, content: string): this {
    const abs = path.join(this.dir, rel);
    mkdirSync(path.dirname(abs), { recursive: true });
    writeFileSync(abs, content);
    return this;
  }

  writeAll(files: Record<string, string>): this {
    for (const [k, v] of Object.entries(files)) this.write(k, v);
    return this;
  }

  remove(rel: string): this {
    unlinkSync(path.join(this.dir, rel));
    return this;
  }

  /** Stages everything and commits; returns the full SHA. Each commit is 10 minutes after the last. */
  commit(message: string, files?: Record<string, string>): string {
    if (files) this.writeAll(files);
    this.clock += 600;
    this.git('add', '-A');
    this.git('commit', '-q', '--allow-empty', '-m', message);
    return this.git('rev-parse', 'HEAD');
  }

  /** Sets the clock (unix seconds): the next commit is dated 10 minutes after it (its reflog entry too). */
  setClock(unixSeconds: number): this {
    this.clock = unixSeconds;
    return this;
  }

  /** Commit time of the last commit (seconds). */
  get lastCommitTime(): number {
    return this.clock;
  }

  head(): string {
    return this.git('rev-parse', 'HEAD');
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A temp folder that is a git dir as far as our writes can tell (HEAD, objects/): a ledger's common dir. */
export function tempGitDir(prefix = 'bp-gitdir-'): string {
  const dir = tempDir(prefix);
  mkdirSync(path.join(dir, 'objects'));
  writeFileSync(path.join(dir, 'HEAD'), 'ref: refs/heads/main\n');
  return dir;
}

export function tempDir(prefix = 'bp-tmp-'): string {
  return realpathSync(mkdtempSync(path.join(tmpdir(), prefix)));
}
