// A Docker connection over another program's stdio, as the docker CLI reaches ssh:// hosts: the
// system `ssh … docker system dial-stdio` (so known_hosts, ssh-agent and ~/.ssh/config apply as
// they do for ssh), or `docker system dial-stdio` run inside a Docker-in-Docker container through
// its daemon's exec API. dockerode speaks HTTP on it: an http.Agent whose connections are these.
// (docker-modem's own ssh:// path runs ssh2 and crashes Node's HTTP client: `sock.setTimeout is
// not a function`.)
import { spawn } from 'node:child_process';
import type { AgentOptions } from 'node:http';
import { Duplex } from 'node:stream';

/** The only command ever run for a connection, remotely or inside a container. Nothing of it comes from elsewhere. */
export const DIAL_STDIO = ['docker', 'system', 'dial-stdio'] as const;

/** A connection that could not be made or broke: what the other side said. */
export class DialError extends Error {
  override name = 'DialError';
  constructor(
    message: string,
    readonly via: 'ssh' | 'exec',
    /** What ssh, the daemon or dial-stdio printed (stderr), trimmed. */
    readonly detail: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

interface Pipe {
  write(chunk: Buffer, cb: (err?: Error | null) => void): void;
  close(): void;
  ref(): void;
  unref(): void;
}

/**
 * A Duplex with the net.Socket methods Node's HTTP client and agent call (setTimeout, setNoDelay,
 * setKeepAlive, ref, unref). Writes wait until the pipe is there. The first bytes read must be an
 * HTTP response: anything else is what went wrong (an exec error, a shell's complaint), said.
 */
export class DialSocket extends Duplex {
  private conn?: Pipe;
  private queued: Array<() => void> = [];
  private idle?: NodeJS.Timeout;
  private head: Buffer | null = Buffer.alloc(0);
  private garbage = false;
  private stderr = '';
  private refd = true;
  private ended = false;
  /** Like net.Socket#timeout: the idle timeout in ms (0: none). */
  timeout = 0;

  constructor(private readonly via: 'ssh' | 'exec', private readonly what: string) {
    super({ allowHalfOpen: false });
  }

  attach(pipe: Pipe): void {
    if (this.destroyed) return pipe.close();
    this.conn = pipe;
    if (!this.refd) pipe.unref();
    for (const q of this.queued.splice(0)) q();
  }

  /** Bytes from the other side's stdout. */
  feed(chunk: Buffer): void {
    this.touch();
    if (this.head !== null) {
      this.head = Buffer.concat([this.head, chunk]);
      if (this.head.length < 5 && !this.garbage) return;
      if (!this.garbage && this.head.subarray(0, 5).toString('latin1') === 'HTTP/') {
        const h = this.head;
        this.head = null;
        this.push(h);
        return;
      }
      this.garbage = true;
      if (this.head.length > 4096) this.end_(undefined);
      return;
    }
    this.push(chunk);
  }

  /** What the other side printed on stderr (kept for the error message). */
  feedStderr(chunk: Buffer): void {
    if (this.stderr.length < 8192) this.stderr += chunk.toString('utf8');
  }

  /** The other side is done; `failure` says how when it failed (exit status, signal, API error). */
  end_(failure: string | undefined, code?: string): void {
    if (this.destroyed || this.ended) return;
    this.ended = true;
    const said = [this.garbage && this.head ? this.head.toString('utf8') : '', this.stderr].map((s) => s.trim()).filter(Boolean).join('\n');
    if (said || failure || this.garbage) {
      const detail = said || failure || '';
      this.destroy(new DialError(`${this.what}: ${detail.split('\n').filter(Boolean).slice(-3).join(' ')}`, this.via, detail, code));
      return;
    }
    if (this.head && this.head.length) this.push(this.head);
    this.head = null;
    this.push(null);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.touch();
    if (this.conn) this.conn.write(chunk, cb);
    else this.queued.push(() => this.conn!.write(chunk, cb));
  }

  override _read(): void {
    /* the pipe pushes as it reads; HTTP responses on these connections are small or streamed */
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    clearTimeout(this.idle);
    this.conn?.close();
    cb(err);
  }

  /** As net.Socket's: a callback is added once, and `setTimeout(0, cb)` takes it off again (the HTTP client does both per request on a kept-alive connection). */
  setTimeout(ms: number, cb?: () => void): this {
    this.timeout = ms;
    if (cb) {
      if (ms === 0) this.removeListener('timeout', cb);
      else this.once('timeout', cb);
    }
    this.touch();
    return this;
  }

  private touch(): void {
    clearTimeout(this.idle);
    this.idle = undefined;
    if (this.timeout > 0 && !this.destroyed) {
      this.idle = setTimeout(() => this.emit('timeout'), this.timeout);
      if (!this.refd) this.idle.unref();
    }
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  ref(): this {
    this.refd = true;
    this.conn?.ref();
    this.idle?.ref();
    return this;
  }

  unref(): this {
    this.refd = false;
    this.conn?.unref();
    this.idle?.unref();
    return this;
  }
}

export interface SshTarget {
  hostname: string;
  /** Only when the URL names one: otherwise ~/.ssh/config (or 22) decides. */
  port?: number;
  username?: string;
}

/** ssh's arguments: batch mode (never a prompt), host keys checked as ssh does, then the fixed command. */
export function sshArgs(t: SshTarget): string[] {
  return [
    '-o', 'BatchMode=yes',
    ...(t.port !== undefined ? ['-p', String(t.port)] : []),
    ...(t.username !== undefined ? ['-l', t.username] : []),
    '--', t.hostname, ...DIAL_STDIO,
  ];
}

/** One connection: the system `ssh`, found on PATH, running dial-stdio on the host. */
export function dialSsh(t: SshTarget, what: string, env: NodeJS.ProcessEnv = process.env): DialSocket {
  const sock = new DialSocket('ssh', what);
  const child = spawn('ssh', sshArgs(t), { stdio: ['pipe', 'pipe', 'pipe'], env, windowsHide: true });
  let spawnError: NodeJS.ErrnoException | undefined;
  child.on('error', (err: NodeJS.ErrnoException) => {
    spawnError = err;
    if (err.code === 'ENOENT') sock.destroy(new DialError(`${what}: the ssh command was not found on PATH`, 'ssh', '', 'ENOENT'));
  });
  child.stdout.on('data', (c: Buffer) => sock.feed(c));
  child.stderr.on('data', (c: Buffer) => sock.feedStderr(c));
  child.stdin.on('error', () => undefined); // EPIPE once ssh is gone: its exit says why (see write)
  child.on('close', (code, signal) => {
    if (spawnError?.code === 'ENOENT') return;
    sock.end_(code === 0 || signal === 'SIGTERM' ? undefined : `ssh exited with ${signal ?? `status ${code}`}`);
  });
  const handles = [child, child.stdin, child.stdout, child.stderr] as Array<{ ref?(): void; unref?(): void }>;
  sock.attach({
    // A write to an ssh that gave up (a refused port, a host key it will not accept) fails with
    // EPIPE before its exit is seen: the exit, with what ssh printed, is the connection's error.
    write: (chunk, cb) => (child.stdin.writable ? child.stdin.write(chunk, () => cb()) : cb()),
    close: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
    ref: () => handles.forEach((h) => h.ref?.()),
    unref: () => handles.forEach((h) => h.unref?.()),
  });
  return sock;
}

/** What an exec's hijacked connection needs from the daemon's side. */
export interface ExecStream {
  socket: Duplex & { ref?(): void; unref?(): void; setTimeout?(ms: number): unknown };
}

/**
 * One connection through `docker system dial-stdio` in a container: `start` creates and starts the
 * exec (attach stdin/stdout/stderr, no TTY) and gives its hijacked socket, whose output is Docker's
 * multiplexed stream (8-byte frame headers: 1 stdout, 2 stderr).
 */
export function dialExec(start: () => Promise<ExecStream>, what: string): DialSocket {
  const sock = new DialSocket('exec', what);
  start().then(
    ({ socket }) => {
      socket.setTimeout?.(0);
      let buf: Buffer = Buffer.alloc(0);
      socket.on('data', (c: Buffer) => {
        buf = buf.length ? Buffer.concat([buf, c]) : c;
        while (buf.length >= 8) {
          const size = buf.readUInt32BE(4);
          if (buf.length < 8 + size) break;
          const payload = buf.subarray(8, 8 + size);
          if (buf[0] === 2) sock.feedStderr(payload);
          else sock.feed(payload);
          buf = buf.subarray(8 + size);
        }
      });
      socket.on('error', (err: NodeJS.ErrnoException) => sock.end_(err.message, err.code));
      socket.on('close', () => sock.end_(undefined));
      socket.on('end', () => sock.end_(undefined));
      sock.attach({
        // As for ssh: a write after dial-stdio gave up fails before its end is seen; the end (with
        // what it printed on stderr) is the connection's error.
        write: (chunk, cb) => (socket.writable ? socket.write(chunk, () => cb()) : cb()),
        close: () => socket.destroy(),
        ref: () => socket.ref?.(),
        unref: () => socket.unref?.(),
      });
    },
    (err: Error & { statusCode?: number; json?: { message?: string }; code?: string }) => {
      const msg = (typeof err.json === 'object' && err.json?.message) || err.message;
      sock.destroy(new DialError(`${what}: ${msg}`, 'exec', msg, err.statusCode !== undefined ? `HTTP ${err.statusCode}` : err.code));
    },
  );
  return sock;
}

/**
 * An http.Agent whose connections come from `dial`. One connection at a time, kept alive: requests
 * queue on it (cheaper than a new ssh handshake or exec each); an idle one closes after a second.
 */
export function dialAgent(dial: () => Duplex): import('node:http').Agent {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Agent } = require('node:http') as typeof import('node:http');
  class DialAgent extends Agent {
    override createConnection(): Duplex {
      return dial();
    }
  }
  return new DialAgent({ keepAlive: true, maxSockets: 1, timeout: 1000 } as AgentOptions);
}
