// A Docker-in-Docker sandbox for tests, with no registry and no privileged container: a second
// dockerd (own socket, data root, exec root, pidfile; no bridge, no iptables) plays the sandbox's
// inner daemon, and a FROM-scratch "sandbox" image (busybox, the docker CLI and the libraries ldd
// lists) runs on the test daemon with host networking, the inner socket's folder mounted at
// /var/run (so /var/run/docker.sock survives a restart of the inner daemon) and a volume at
// /var/lib/docker. Everything started here is stopped by dispose(), by pid and by name.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { BUSYBOX, TEST_PREFIX, TEST_RUN_LABEL, docker, uniqueName } from './dockerFixtures';
import { tempDir } from './gitFixture';

const run = promisify(execFile);

/** The docker CLI the sandbox image carries: the one on PATH. */
async function dockerCliPath(): Promise<string> {
  const { stdout } = await run('sh', ['-c', 'command -v docker']);
  return stdout.trim();
}

/** Absolute paths of the shared libraries `ldd` lists for a binary (none for a static one). */
async function lddLibraries(bin: string): Promise<string[]> {
  try {
    const { stdout } = await run('ldd', [bin]);
    return [...stdout.matchAll(/(\/[^\s]+)\s+\(0x/g)].map((m) => m[1]);
  } catch {
    return []; // "not a dynamic executable"
  }
}

/** Builds the sandbox image on the test daemon (with or without the docker CLI); returns its tag. */
export async function buildSandboxImage(withDockerCli: boolean): Promise<string> {
  const dir = tempDir('bp-sandbox-ctx-');
  try {
    const lines = ['FROM scratch', 'COPY rootfs/ /'];
    mkdirSync(join(dir, 'rootfs/bin'), { recursive: true });
    copyFileSync(BUSYBOX, join(dir, 'rootfs/bin/busybox'));
    if (withDockerCli) {
      const cli = await dockerCliPath();
      mkdirSync(join(dir, 'rootfs/usr/local/bin'), { recursive: true });
      copyFileSync(cli, join(dir, 'rootfs/usr/local/bin/docker'));
      for (const lib of await lddLibraries(cli)) {
        mkdirSync(join(dir, 'rootfs', dirname(lib)), { recursive: true });
        copyFileSync(lib, join(dir, 'rootfs', lib));
      }
    }
    lines.push(`LABEL ${TEST_RUN_LABEL}=${TEST_PREFIX}`, 'CMD ["/bin/busybox", "sleep", "3600"]', '');
    writeFileSync(join(dir, 'Dockerfile'), lines.join('\n'));
    const tag = `${uniqueName(withDockerCli ? 'sandbox' : 'sandbox-nocli')}:latest`;
    await docker(['build', '-q', '-t', tag, dir], { timeoutMs: 120_000 });
    return tag;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export class InnerDaemon {
  private child?: ChildProcess;
  log = '';
  readonly socketDir: string;
  readonly host: string;

  private constructor(readonly dir: string) {
    this.socketDir = join(dir, 'run');
    this.host = `unix://${join(this.socketDir, 'docker.sock')}`;
  }

  static async start(): Promise<InnerDaemon> {
    // Short paths: containerd's sockets live under the exec root (108-byte limit).
    const d = new InnerDaemon(tempDir('bp-in-'));
    mkdirSync(d.socketDir, { recursive: true });
    await d.up();
    return d;
  }

  /** The docker CLI against the inner daemon. */
  cli(args: string[], opts: { timeoutMs?: number } = {}): Promise<string> {
    return docker(['-H', this.host, ...args], opts);
  }

  async up(): Promise<void> {
    const args = [
      '--host', this.host,
      '--data-root', join(this.dir, 'data'),
      '--exec-root', join(this.dir, 'x'),
      '--pidfile', join(this.dir, 'dockerd.pid'),
      '--bridge=none', '--iptables=false', '--ip-masq=false',
    ];
    this.log = '';
    const child = spawn('dockerd', args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    this.child = child;
    child.stderr!.on('data', (c: Buffer) => (this.log = (this.log + c.toString()).slice(-20_000)));
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the inner dockerd exited: ${this.log.slice(-2000)}`);
      try {
        await this.cli(['version', '--format', '{{.Server.Version}}'], { timeoutMs: 5000 });
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`the inner dockerd did not answer: ${this.log.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  /** Stops the daemon (SIGTERM, then SIGKILL after 20 s) and waits for it to exit. */
  async down(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.pid === undefined) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }

  /** Stops it and removes its folders (data root included). */
  async dispose(): Promise<void> {
    await this.down();
    // dockerd leaves its netns mount (and, when killed, overlay mounts) under its roots.
    const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]).filter((m) => m && m.startsWith(`${this.dir}/`));
    for (const m of mounts.sort((a, b) => b.length - a.length)) await run('umount', ['-l', m]).catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The sandbox container on the test daemon: host networking, the inner socket at /var/run/docker.sock, a volume at /var/lib/docker. */
export async function runSandbox(image: string, inner: InnerDaemon | null, name = uniqueName('helix-sandbox')): Promise<{ id: string; name: string }> {
  const mounts = inner ? ['-v', `${inner.socketDir}:/var/run`] : [];
  const out = await docker(['run', '-d', '--network', 'host', '--name', name, '--label', `${TEST_RUN_LABEL}=${TEST_PREFIX}`, ...mounts, '-v', '/var/lib/docker', image]);
  return { id: out.trim(), name };
}

/** Removes a sandbox container with its anonymous /var/lib/docker volume. */
export async function removeSandbox(name: string): Promise<void> {
  await docker(['rm', '-f', '-v', name]).catch(() => undefined);
}

/** `docker save` on the test daemon piped into `docker load` on the inner one: the same image ID, no registry. */
export async function copyImageInto(inner: InnerDaemon, ref: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const save = spawn('docker', ['save', ref], { stdio: ['ignore', 'pipe', 'pipe'] });
    const load = spawn('docker', ['-H', inner.host, 'load', '-q'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    save.stderr.on('data', (c: Buffer) => (err += c));
    load.stderr.on('data', (c: Buffer) => (err += c));
    save.stdout.pipe(load.stdin);
    load.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`docker save | docker load failed: ${err}`))));
  });
}

export function innerProblem(): string | undefined {
  if (!existsSync('/usr/sbin/dockerd') && !existsSync('/usr/bin/dockerd')) return 'dockerd is missing: apt-get install -y docker.io';
  return undefined;
}
