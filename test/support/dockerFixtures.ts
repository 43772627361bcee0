// Real-daemon fixtures: tiny busybox images built FROM scratch (no registry needed) and
// containers on host networking. Everything created is tracked and removed by cleanupDocker().
// Daemon setup and network rules: scripts/docker-daemon.sh
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { resolveDockerEndpoints } from '../../src/core/docker/endpoints';
import type { DockerEndpoint } from '../../src/core/types';

/** Static busybox from Debian's busybox-static. */
export const BUSYBOX = '/bin/busybox';

/** Unique per test process, so parallel runs and leftovers never collide. */
export const TEST_PREFIX = `bp-test-${randomBytes(4).toString('hex')}`;
/** Label put on every image and container this module creates, for leftover hunting. */
export const TEST_RUN_LABEL = 'build-provenance.test-run';

const created = { containers: new Set<string>(), images: [] as string[] };
let counter = 0;

/** `bp-test-<random>-<suffix>-<n>`: a fresh, valid image/container name. */
export function uniqueName(suffix = 'x'): string {
  return `${TEST_PREFIX}-${suffix}-${++counter}`;
}

/** A free 127.0.0.1 port, for a smoke probe (host networking: the container listens on it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** The endpoint the docker CLI in these tests talks to (DOCKER_HOST, context or default socket). */
export function testEndpoint(): DockerEndpoint {
  return resolveDockerEndpoints({})[0];
}

export interface DockerCliError extends Error {
  args: string[];
  stderr: string;
  exitCode: number | null;
}

/** Runs the docker CLI with an argument array (no shell); rejects with stderr in the message. */
export function docker(args: string[], opts: { timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'docker',
      args,
      {
        // No buildx on these machines: the legacy builder it is.
        env: { ...process.env, DOCKER_BUILDKIT: '0' },
        timeout: opts.timeoutMs ?? 60_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        if (err) {
          const e = new Error(`docker ${args.join(' ')} failed: ${stderr.trim() || err.message}`) as DockerCliError;
          e.args = args;
          e.stderr = stderr;
          e.exitCode = typeof err.code === 'number' ? err.code : null;
          reject(e);
          return;
        }
        resolve(stdout);
      },
    );
  });
}

let problem: Promise<{ ci: string; local: string } | undefined> | undefined;

/** Why Docker can't be used for these tests (as CI failure and as local skip text), or undefined. Cached. */
function dockerProblem(): Promise<{ ci: string; local: string } | undefined> {
  problem ??= (async () => {
    if (!existsSync(BUSYBOX)) {
      const msg = `${BUSYBOX} is missing; install it with \`apt-get install -y busybox-static\``;
      return { ci: `${msg} (.ci/run installs it).`, local: `${msg}.` };
    }
    try {
      await docker(['version', '--format', '{{.Server.Version}}'], { timeoutMs: 10_000 });
      return undefined;
    } catch (err) {
      const detail = (err as Error).message.split('\n')[0];
      return {
        ci: `Docker daemon not reachable; .ci/run must start it (scripts/docker-daemon.sh start). ${detail}`,
        local: `Docker daemon not reachable; start one with \`sudo scripts/docker-daemon.sh start\` (or point DOCKER_HOST at one). ${detail}`,
      };
    }
  })();
  return problem;
}

/**
 * True when the tests can use Docker. Otherwise: under CI (CI=true) the test FAILS, because a
 * silent skip there would hide the whole Docker suite; locally the test is skipped with a hint.
 */
export async function requireDocker(t: TestContext): Promise<boolean> {
  const p = await dockerProblem();
  if (p === undefined) return true;
  if (process.env.CI === 'true') throw new Error(p.ci);
  t.skip(p.local);
  return false;
}

export interface BusyboxImageSpec {
  /** Tags such as `bp-test-xxxx-app:latest`; default one uniqueName('img'). */
  tags?: string | string[];
  labels?: Record<string, string>;
  /** Exec-form CMD; default `sleep 3600`. */
  cmd?: string[];
  /** Extra Dockerfile lines, appended after COPY. */
  dockerfileExtra?: string;
}

/** Builds `FROM scratch` + busybox with the given tags and labels; returns the image ID (sha256:…). */
export async function buildBusyboxImage(spec: BusyboxImageSpec = {}): Promise<{ id: string; tags: string[] }> {
  const tags = spec.tags === undefined ? [`${uniqueName('img')}:latest`] : Array.isArray(spec.tags) ? spec.tags : [spec.tags];
  const dir = await mkdtemp(join(tmpdir(), 'bp-docker-ctx-'));
  try {
    await copyFile(BUSYBOX, join(dir, 'busybox'));
    const cmd = spec.cmd ?? ['/bin/busybox', 'sleep', '3600'];
    const dockerfile = ['FROM scratch', 'COPY busybox /bin/busybox', spec.dockerfileExtra ?? '', `CMD ${JSON.stringify(cmd)}`, ''].join('\n');
    await writeFile(join(dir, 'Dockerfile'), dockerfile);
    return await buildContextDir(dir, tags, spec.labels, []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Builds an image from a commit of a test repository: the commit's tree (git archive) plus the
 * static busybox as `busybox` in the context, with the repo's own Dockerfile. RUN steps get host
 * networking (the daemon has no bridge). Returns the image ID.
 */
export async function buildImageFromCommit(
  repoDir: string,
  commit: string,
  spec: { dockerfile?: string; tags?: string[]; labels?: Record<string, string>; target?: string } = {},
): Promise<{ id: string; tags: string[] }> {
  const tags = spec.tags ?? [`${uniqueName('img')}:latest`];
  const dir = await mkdtemp(join(tmpdir(), 'bp-docker-commit-'));
  try {
    await new Promise<void>((resolve, reject) => {
      execFile('sh', ['-c', 'git -C "$1" archive "$2" | tar -x -C "$3"', 'sh', repoDir, commit, dir], (err, _o, stderr) => (err ? reject(new Error(`git archive ${commit}: ${stderr}`)) : resolve()));
    });
    await copyFile(BUSYBOX, join(dir, 'busybox'));
    return await buildContextDir(dir, tags, spec.labels, ['--network', 'host', '-f', join(dir, spec.dockerfile ?? 'Dockerfile'), ...(spec.target ? ['--target', spec.target] : [])]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `docker build -q` of a prepared context dir; the image is recorded for cleanupDocker(). */
async function buildContextDir(dir: string, tags: string[], labels: Record<string, string> | undefined, extra: string[]): Promise<{ id: string; tags: string[] }> {
  // --label avoids Dockerfile quoting; a nonce keeps every build a distinct image, so removing
  // one test's image never pulls another's out from under it.
  const labelArgs = Object.entries({
    ...labels,
    [TEST_RUN_LABEL]: TEST_PREFIX,
    'build-provenance.test-nonce': randomBytes(6).toString('hex'),
  }).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
  const out = await docker(['build', '-q', ...extra, ...labelArgs, ...tags.flatMap((t) => ['-t', t]), dir]);
  const id = out.trim().split('\n').pop() ?? '';
  if (!/^sha256:[0-9a-f]{64}$/.test(id)) throw new Error(`docker build printed no image ID: ${JSON.stringify(out)}`);
  created.images.push(id);
  return { id, tags };
}

export interface RunContainerSpec {
  image: string;
  name?: string;
  /** Overrides the image's CMD, e.g. ['/bin/busybox', 'sleep', '3600']. */
  cmd?: string[];
  labels?: Record<string, string>;
}

/** `docker run -d` with host networking (never a bridge: see the network rule in the notes). */
export async function runContainer(spec: RunContainerSpec): Promise<{ id: string; name: string }> {
  const name = spec.name ?? uniqueName('ctr');
  const labelArgs = Object.entries({ ...spec.labels, [TEST_RUN_LABEL]: TEST_PREFIX }).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
  // Track by name first, so a run that fails half-way is still cleaned up.
  created.containers.add(name);
  const out = await docker(['run', '-d', '--network', 'host', '--name', name, ...labelArgs, spec.image, ...(spec.cmd ?? [])]);
  return { id: out.trim(), name };
}

/** Removes (force) one container created here. */
export async function removeContainer(nameOrId: string): Promise<void> {
  await docker(['rm', '-f', nameOrId]).catch(() => undefined);
  created.containers.delete(nameOrId);
}

/** Removes every container, then every image, created through this module so far. Never throws. */
export async function cleanupDocker(): Promise<void> {
  const containers = [...created.containers];
  created.containers.clear();
  if (containers.length > 0) await docker(['rm', '-f', ...containers]).catch(() => undefined);
  const images = [...created.images].reverse();
  created.images.length = 0;
  // One at a time, newest first: an image may be the parent of a later build.
  for (const id of images) {
    await docker(['rmi', '-f', id]).catch(() => undefined);
  }
}
