// A loopback sshd for ssh:// tests (Debian's openssh-server, installed by scripts/test-prereqs.sh):
// its own host key, a user key made for the test, its own known_hosts and ssh config. The product
// runs the system `ssh` from PATH; a client dir's `bin/ssh` wraps it with `-F <its config>`, so the
// real ~/.ssh is never read or touched. Everything started here is stopped by stop(), by pid.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './dockerFixtures';
import { tempDir } from './gitFixture';

const run = promisify(execFile);
export const SSHD = '/usr/sbin/sshd';

/** Why sshd can't run here, or undefined. */
export function sshProblem(): string | undefined {
  if (!existsSync(SSHD)) return `${SSHD} is missing: apt-get install -y openssh-server (npm test's pretest installs it)`;
  if (!existsSync('/usr/bin/ssh')) return '/usr/bin/ssh is missing: apt-get install -y openssh-client';
  return undefined;
}

async function keygen(file: string): Promise<string> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bp-test', '-f', file]);
  return readFileSync(`${file}.pub`, 'utf8').trim();
}

/** Pids of every descendant of `pid` (sshd's per-connection children), from /proc. */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(d), ppid);
    } catch {
      /* gone */
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [c, pp] of parent) if (pp === p) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

export interface SshClient {
  dir: string;
  /** Put first on PATH: its `ssh` is the system one with this client's config. */
  bin: string;
  config: string;
}

export class SshServer {
  readonly user = userInfo().username;
  private child?: ChildProcess;
  private agents: ChildProcess[] = [];
  log = '';

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly hostKeyLine: string,
    readonly userKey: string,
  ) {}

  /** Starts sshd on 127.0.0.1 (a free port); the remote command reaches `dockerHost` (a unix:// host). */
  static async start(dockerHost: string): Promise<SshServer> {
    const dir = tempDir('bp-sshd-');
    const port = await freePort();
    const hostPub = await keygen(join(dir, 'host_key'));
    const userPub = await keygen(join(dir, 'user_key'));
    writeFileSync(join(dir, 'authorized_keys'), `${userPub}\n`);
    writeFileSync(
      join(dir, 'sshd_config'),
      [
        'ListenAddress 127.0.0.1',
        `Port ${port}`,
        `HostKey ${join(dir, 'host_key')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no',
        `PidFile ${join(dir, 'sshd.pid')}`,
        `SetEnv DOCKER_HOST=${dockerHost}`,
        '',
      ].join('\n'),
    );
    mkdirSync('/run/sshd', { recursive: true });
    const s = new SshServer(dir, port, `[127.0.0.1]:${port} ${hostPub.split(' ').slice(0, 2).join(' ')}`, join(dir, 'user_key'));
    await s.up();
    return s;
  }

  private async up(): Promise<void> {
    const child = spawn(SSHD, ['-D', '-e', '-f', join(this.dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    this.child = child;
    child.stderr!.on('data', (c: Buffer) => (this.log += c.toString()));
    const deadline = Date.now() + 10_000;
    while (!/Server listening/.test(this.log)) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`sshd did not start: ${this.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** A known_hosts line for 127.0.0.1:port with some other key: the key "changed". */
  static async keyLine(port: number): Promise<string> {
    const pub = await keygen(join(tempDir('bp-ssh-other-'), 'key'));
    return `[127.0.0.1]:${port} ${pub.split(' ').slice(0, 2).join(' ')}`;
  }

  /** The server goes away: sshd and every session it serves. */
  stop(): void {
    const pid = this.child?.pid;
    if (pid !== undefined && this.child?.exitCode === null) {
      // Freeze the whole tree first (a stopped process cannot fork), until no new process shows,
      // then kill it: a session forked between a scan and a kill would keep the connection open.
      const signal = (p: number, sig: NodeJS.Signals) => {
        try {
          process.kill(p, sig);
        } catch {
          /* gone */
        }
      };
      const tree = new Set<number>([pid]);
      for (let round = 0; round < 20; round++) {
        for (const p of tree) signal(p, 'SIGSTOP');
        const before = tree.size;
        for (const p of [...tree]) for (const c of descendants(p)) tree.add(c);
        if (tree.size === before) break;
      }
      for (const p of tree) signal(p, 'SIGKILL');
      // Gone means its sockets are closed: until then the kernel still completes handshakes on the
      // listener's backlog, and a client sees a reset instead of "connection refused".
      const until = Date.now() + 3000;
      const alive = (p: number) => {
        try {
          const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
          return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
        } catch {
          return false;
        }
      };
      while ([...tree].some(alive) && Date.now() < until) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
    this.child = undefined;
  }

  /** Stops sshd and the agents started here. */
  dispose(): void {
    this.stop();
    for (const a of this.agents) a.kill('SIGKILL');
    this.agents = [];
  }

  host(user = this.user): string {
    return `ssh://${user}@127.0.0.1:${this.port}`;
  }

  /**
   * A client: its own known_hosts (`knownHosts`: the server's real key by default), its own config,
   * the test's key unless `identity: false` (then only an agent can offer a key).
   */
  client(opts: { knownHosts?: string; identity?: boolean; agent?: string } = {}): SshClient {
    const dir = tempDir('bp-ssh-client-');
    const known = join(dir, 'known_hosts');
    writeFileSync(known, `${opts.knownHosts ?? this.hostKeyLine}\n`);
    const config = join(dir, 'config');
    writeFileSync(
      config,
      [
        'Host *',
        `  UserKnownHostsFile ${known}`,
        '  GlobalKnownHostsFile /dev/null',
        // Without a key file, only the agent's keys (IdentitiesOnly would drop those too).
        ...(opts.identity === false ? ['  IdentityFile /dev/null'] : [`  IdentityFile ${this.userKey}`, '  IdentitiesOnly yes']),
        `  IdentityAgent ${opts.agent ?? 'none'}`,
        '',
      ].join('\n'),
    );
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'ssh'), `#!/bin/sh\nexec /usr/bin/ssh -F '${config}' "$@"\n`);
    chmodSync(join(bin, 'ssh'), 0o755);
    return { dir, bin, config };
  }

  /** An ssh-agent of its own (a socket in a temp dir), with `withKey` the test's key loaded or not. */
  async agent(withKey: boolean): Promise<string> {
    const sock = join(tempDir('bp-ssh-agent-'), 'agent.sock');
    const a = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    this.agents.push(a);
    const deadline = Date.now() + 5000;
    while (!existsSync(sock)) {
      if (Date.now() > deadline) throw new Error('ssh-agent did not start');
      await new Promise((r) => setTimeout(r, 20));
    }
    if (withKey) await run('ssh-add', [this.userKey], { env: { ...process.env, SSH_AUTH_SOCK: sock } });
    return sock;
  }
}

/** Runs `fn` with PATH starting at the client's bin (the product spawns `ssh` from PATH). */
export async function withSshClient<T>(client: SshClient, fn: () => Promise<T>): Promise<T> {
  const before = process.env.PATH;
  process.env.PATH = `${client.bin}:${before ?? ''}`;
  try {
    return await fn();
  } finally {
    process.env.PATH = before;
  }
}
