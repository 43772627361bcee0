// Shared helpers for the suites that run inside VS Code on the fixture made by
// test/vscode/integration.mjs (its description is in BP_FIXTURE).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { BuildProvenanceApi } from '../../../src/extension';

export interface Fixture {
  dir: string;
  image: string;
  container: string;
  imageId: string;
  deployed: string;
  proxySocket: string;
  upstream: string;
  markers: string;
  artifacts: string;
}

export function fixture(): Fixture {
  const file = process.env.BP_FIXTURE;
  if (!file) throw new Error('BP_FIXTURE is not set: run this suite through test/vscode/integration.mjs');
  return JSON.parse(readFileSync(file, 'utf8')) as Fixture;
}

export async function api(): Promise<BuildProvenanceApi> {
  const ext = vscode.extensions.getExtension<BuildProvenanceApi>('build-provenance.build-provenance');
  if (!ext) throw new Error('the extension is not loaded');
  return ext.isActive ? ext.exports : ext.activate();
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** Resolves once the extension has started no git process for 2 s. */
export function gitQuiet(a: BuildProvenanceApi): Promise<true> {
  return waitFor('no git process for 2 s', async () => {
    const c = a.gitSpawnCount();
    await new Promise((r) => setTimeout(r, 2000));
    return a.gitSpawnCount() === c;
  }, 60_000);
}

export function git(dir: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 'Suite', GIT_AUTHOR_EMAIL: 'suite@example.invalid', GIT_COMMITTER_NAME: 'Suite', GIT_COMMITTER_EMAIL: 'suite@example.invalid' },
  }).trim();
}

export function uri(f: Fixture, rel: string): vscode.Uri {
  return vscode.Uri.file(path.join(f.dir, rel));
}

/** The status-bar presentation of the fixture's only target. */
export function presentation(a: BuildProvenanceApi) {
  const [first] = [...a.statusBar.presentations().values()];
  return first;
}

/**
 * A unix-socket proxy in front of the real Docker daemon: the fixture's target talks to Docker
 * through it, so a test can make Docker go away (close it) and come back (listen again).
 */
export class DockerProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    private readonly socketPath: string,
    private readonly upstream: string,
  ) {}

  async start(): Promise<void> {
    const server = net.createServer((client) => {
      const up = net.connect(this.upstream);
      this.sockets.add(client).add(up);
      const drop = () => {
        client.destroy();
        up.destroy();
        this.sockets.delete(client);
        this.sockets.delete(up);
      };
      client.on('error', drop).on('close', drop);
      up.on('error', drop).on('close', drop);
      client.pipe(up).pipe(client);
    });
    await new Promise<void>((resolve, reject) => server.listen(this.socketPath, resolve).once('error', reject));
    this.server = server;
  }

  /** Docker goes away: refuse new connections and cut the open ones (the event stream too). */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    for (const sock of this.sockets) sock.destroy();
    this.sockets.clear();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
