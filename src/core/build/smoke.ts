// Smoke test: start a container from the just-built image per the target's `smoke` settings, wait
// until every configured readiness probe passes (HTTP 2xx on a loopback URL, a TCP port opening on
// 127.0.0.1, a log line matching, a command exiting 0 inside the container) or until the timeout.
// The container is ALWAYS removed (pass, failure, timeout, cancel), and live ones are registered so
// the extension can remove them on deactivate. Containers use host networking or none, never a
// bridge, and are labelled so strays can be found.
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect } from 'node:net';
import { hostname } from 'node:os';
import * as path from 'node:path';
import type Dockerode from 'dockerode';
import type { SmokeSettings, TargetConfig } from '../config';
import { connectDocker, SMOKE_LABEL } from '../docker/state';
import { removeQuietly, removeStrayContainers } from '../docker/strayContainers';
import { BoundedRegex, RegexTimeoutError } from '../safety/boundedRegex';
import type { DockerEndpoint } from '../types';

/** Defined beside the Docker reader, which leaves smoke containers out of what runs. */
export { SMOKE_LABEL };
export const SMOKE_TARGET_LABEL = 'dev.build-provenance.target';
/** `<host>:<pid>` of the process that runs the smoke test, so strays are told from live ones. */
export const SMOKE_OWNER_LABEL = 'dev.build-provenance.smoke.owner';
export const DEFAULT_SMOKE_TIMEOUT_SECONDS = 60;
/** The desktop bridge of helix-ubuntu, whose silence was the incident's first symptom. */
export const HELIX_DEFAULT_READY_URL = 'http://127.0.0.1:9876/';
const LOG_TAIL_LINES = 40;
/** Why a probe port that is already taken fails a smoke test (shared by the refusal and the failure). */
export const PORT_IN_USE_WHY = 'the smoke container shares the host network, so its probe would reach whatever listens there, not the new image, and the new container could not bind the port.';
const POLL_MS = 250;

export class SmokeSettingsError extends Error {
  override name = 'SmokeSettingsError';
}

export interface ReadyProbes {
  http?: string;
  tcp?: number;
  log?: string;
  exec?: string[];
}

/** Smoke settings with defaults applied and validated. */
export interface ResolvedSmoke {
  command?: string[];
  env: Record<string, string>;
  network: 'host' | 'none';
  timeoutSeconds: number;
  ready: ReadyProbes;
  create: ExtraCreateOptions;
}

export interface ExtraCreateOptions {
  Env: string[];
  User?: string;
  WorkingDir?: string;
  Entrypoint?: string[];
  Labels: Record<string, string>;
  HostConfig: Dockerode.HostConfig;
}

const LOOPBACK_URL = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:[0-9]+)?(\/.*)?$/;

/**
 * The target's smoke settings with defaults: a `helix-ubuntu` target without probes gets an HTTP
 * probe on 127.0.0.1:9876. Throws SmokeSettingsError saying what to fix.
 */
export function resolveSmokeSettings(target: TargetConfig): ResolvedSmoke {
  const s: SmokeSettings = target.smoke ?? {};
  const ready: ReadyProbes = { ...(s.ready ?? {}) };
  const isHelix = target.name === 'helix-ubuntu' || (target.image.split('/').pop() ?? '') === 'helix-ubuntu';
  if (Object.values(ready).every((v) => v === undefined)) {
    if (isHelix) ready.http = HELIX_DEFAULT_READY_URL;
    else {
      throw new SmokeSettingsError(
        `The target "${target.name}" has no smoke readiness probe. Add one to .provenance.json, e.g. ` +
          '"smoke": { "ready": { "http": "http://127.0.0.1:8080/health" } } (or "tcp": 8080, "log": "listening", "exec": ["/healthcheck"]).',
      );
    }
  }
  if (ready.http !== undefined && !LOOPBACK_URL.test(ready.http)) {
    throw new SmokeSettingsError(`smoke.ready.http must be a loopback URL (http://127.0.0.1:PORT/…), got "${ready.http}".`);
  }
  if (ready.tcp !== undefined && (!Number.isInteger(ready.tcp) || ready.tcp < 1 || ready.tcp > 65535)) {
    throw new SmokeSettingsError(`smoke.ready.tcp must be a port number (1-65535), got ${ready.tcp}.`);
  }
  if (ready.log !== undefined) {
    try {
      new RegExp(ready.log);
    } catch (err) {
      throw new SmokeSettingsError(`smoke.ready.log is not a valid regular expression: ${(err as Error).message}`);
    }
  }
  if (ready.exec !== undefined && (!Array.isArray(ready.exec) || ready.exec.length === 0)) {
    throw new SmokeSettingsError('smoke.ready.exec must be an argument array, e.g. ["/bin/healthcheck"].');
  }
  const network = s.network ?? 'host';
  if (network === 'none' && (ready.http !== undefined || ready.tcp !== undefined)) {
    throw new SmokeSettingsError('smoke.network is "none", so an HTTP or TCP probe cannot reach the container; use "host", or a "log"/"exec" probe.');
  }
  if (typeof s.command === 'string') {
    throw new SmokeSettingsError(
      `smoke.command must be an argument array (it is never run through a shell), e.g. ${JSON.stringify(s.command.split(/\s+/).filter(Boolean))}.`,
    );
  }
  const timeoutSeconds = s.timeoutSeconds ?? DEFAULT_SMOKE_TIMEOUT_SECONDS;
  if (!(timeoutSeconds > 0)) throw new SmokeSettingsError('smoke.timeoutSeconds must be greater than 0.');
  return {
    command: s.command,
    env: s.env ?? {},
    network,
    timeoutSeconds,
    ready,
    create: parseExtraArgs(s.extraArgs ?? []),
  };
}

const SUPPORTED_EXTRA = '-e/--env, -u/--user, -w/--workdir, --entrypoint, -l/--label, -v/--volume (absolute host path), --tmpfs, --read-only, --init, --cap-drop, --group-add, --shm-size, -m/--memory';

/** Host paths a repository's smoke container may not mount: the host's root and the Docker socket (each is the host). */
const HOST_ROOTS = new Set(['/', '/var/run/docker.sock', '/run/docker.sock', '/var/run', '/run']);

/** smoke.extraArgs that would give the container the host (issue 16): refused even in a trusted workspace. */
function hostAccess(flag: string, what: string): SmokeSettingsError {
  return new SmokeSettingsError(
    `smoke.extraArgs: ${flag}${what} is refused: it gives the smoke container the host (${flag === '-v' || flag === '--volume' ? 'its root or its Docker socket' : 'its devices, capabilities or namespaces'}), and the setting comes from the repository. Test such an image with your own docker run.`,
  );
}

/**
 * The `docker run` flags smoke.extraArgs may use, as container-create options. Nothing goes
 * through a shell or the docker CLI; anything else is rejected with the list of what is supported.
 */
export function parseExtraArgs(args: string[]): ExtraCreateOptions {
  const out: ExtraCreateOptions = { Env: [], Labels: {}, HostConfig: {} };
  const hc = out.HostConfig;
  for (let i = 0; i < args.length; i++) {
    const raw = args[i];
    const eq = raw.startsWith('--') ? raw.indexOf('=') : -1;
    const flag = eq > 0 ? raw.slice(0, eq) : raw;
    const inline = eq > 0 ? raw.slice(eq + 1) : undefined;
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = args[++i];
      if (v === undefined) throw new SmokeSettingsError(`smoke.extraArgs: ${flag} needs a value.`);
      return v;
    };
    const noValue = () => {
      if (inline !== undefined && inline !== 'true') throw new SmokeSettingsError(`smoke.extraArgs: ${flag} takes no value.`);
    };
    switch (flag) {
      case '-e':
      case '--env': {
        const v = value();
        if (!/^[^=\s]+=/.test(v)) throw new SmokeSettingsError(`smoke.extraArgs: ${flag} needs NAME=value (got "${v}"); put plain values in smoke.env.`);
        out.Env.push(v);
        break;
      }
      case '-u':
      case '--user':
        out.User = value();
        break;
      case '-w':
      case '--workdir':
        out.WorkingDir = value();
        break;
      case '--entrypoint':
        out.Entrypoint = [value()];
        break;
      case '-l':
      case '--label': {
        const v = value();
        const k = v.indexOf('=');
        out.Labels[k < 0 ? v : v.slice(0, k)] = k < 0 ? '' : v.slice(k + 1);
        break;
      }
      case '-v':
      case '--volume': {
        const v = value();
        const parts = v.split(':');
        if (parts.length < 2 || parts.length > 3 || !parts[0].startsWith('/') || !parts[1].startsWith('/') || (parts[2] !== undefined && !/^(ro|rw)$/.test(parts[2]))) {
          throw new SmokeSettingsError(`smoke.extraArgs: ${flag} "${v}" must be /host/path:/container/path[:ro|rw].`);
        }
        if (HOST_ROOTS.has(path.posix.normalize(parts[0]).replace(/(.)\/$/, '$1'))) throw hostAccess(flag, ` "${v}"`);
        (hc.Binds ??= []).push(v);
        break;
      }
      case '--tmpfs': {
        const v = value();
        const c = v.indexOf(':');
        (hc.Tmpfs ??= {})[c < 0 ? v : v.slice(0, c)] = c < 0 ? '' : v.slice(c + 1);
        break;
      }
      case '--read-only':
        noValue();
        hc.ReadonlyRootfs = true;
        break;
      case '--init':
        noValue();
        hc.Init = true;
        break;
      case '--privileged':
      case '--cap-add':
      case '--device':
      case '--pid':
      case '--ipc':
      case '--uts':
      case '--userns':
      case '--cgroupns':
      case '--security-opt':
        throw hostAccess(flag, inline !== undefined ? `=${inline}` : '');
      case '--cap-drop':
        (hc.CapDrop ??= []).push(value());
        break;
      case '--group-add':
        (hc.GroupAdd ??= []).push(value());
        break;
      case '--shm-size':
        hc.ShmSize = parseBytes(flag, value());
        break;
      case '-m':
      case '--memory':
        hc.Memory = parseBytes(flag, value());
        break;
      case '--network':
      case '--net':
        throw new SmokeSettingsError('smoke.extraArgs: set the network with smoke.network ("host" or "none"), not --network.');
      case '-p':
      case '--publish':
        throw new SmokeSettingsError('smoke.extraArgs: smoke containers use host networking, so no ports need publishing; drop -p/--publish.');
      case '--rm':
      case '--name':
      case '-d':
      case '--detach':
        throw new SmokeSettingsError(`smoke.extraArgs: ${flag} is managed by the smoke test (the container is always removed); drop it.`);
      default:
        throw new SmokeSettingsError(`smoke.extraArgs: unsupported argument "${raw}". Supported: ${SUPPORTED_EXTRA}.`);
    }
  }
  return out;
}

function parseBytes(flag: string, v: string): number {
  const m = /^(\d+(?:\.\d+)?)([bkmg]?)b?$/i.exec(v.trim());
  if (!m) throw new SmokeSettingsError(`smoke.extraArgs: ${flag} "${v}" is not a size (e.g. 512m, 2g).`);
  const mult = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'b' | 'k' | 'm' | 'g'];
  return Math.round(Number(m[1]) * mult);
}

// ---------------------------------------------------------------------------------------------
// Running

export type SmokeFailure = 'timeout' | 'exited' | 'probe' | 'start' | 'cancelled';

export interface SmokeResult {
  result: 'passed' | 'failed' | 'cancelled';
  /** Why it failed: "timeout after 5 s: …", "container exited with code 3", "HTTP probe answered 500 …". */
  reason: string | null;
  failure: SmokeFailure | null;
  exitCode: number | null;
  /** The container's last log lines. */
  logTail: string[];
  containerName: string | null;
  durationMs: number;
}

export interface RunSmokeOptions {
  endpoint: DockerEndpoint;
  /** Image ID or reference. */
  image: string;
  target: string;
  settings: ResolvedSmoke;
  signal?: AbortSignal;
  /** Progress and container log lines. */
  onOutput?: (line: string) => void;
}

/**
 * Every smoke test of this process from its start, by container name: its container's ID once the
 * create call returned (null before: it may still be on its way).
 */
interface SmokeRun {
  abort: AbortController;
  docker: Dockerode | null;
  id: string | null;
  settled: Promise<void>;
}
const runs = new Map<string, SmokeRun>();

/** How long deactivation waits for a cancelled smoke test to remove its own container. */
const DISPOSE_WAIT_MS = 10_000;

/**
 * Aborts every running smoke test and removes every smoke container it made (extension
 * deactivate): a container it has is removed at once; a run whose create call was still on its
 * way is waited for (bounded) and its container then removed by name.
 */
export async function disposeAllSmokeContainers(): Promise<void> {
  const all = [...runs.entries()];
  for (const [, r] of all) r.abort.abort();
  await Promise.all(
    all.map(async ([name, r]) => {
      if (r.docker && r.id) return removeQuietly(r.docker, r.id);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([r.settled, new Promise<void>((res) => (timer = setTimeout(res, DISPOSE_WAIT_MS)))]);
      clearTimeout(timer);
      if (r.docker) await removeByName(r.docker, name);
    }),
  );
}

/**
 * Removes smoke containers left by a process that died (e.g. SIGKILL); returns their names.
 * Containers of a live process on this host (another CLI or window testing now) are left alone,
 * and so are those of other hosts, whose processes cannot be checked.
 */
export function removeStraySmokeContainers(endpoint: DockerEndpoint): Promise<string[]> {
  return removeStrayContainers(endpoint, { label: SMOKE_LABEL, ownerLabel: SMOKE_OWNER_LABEL }, (id) => [...runs.values()].some((r) => r.id === id));
}

export async function runSmoke(opts: RunSmokeOptions): Promise<SmokeResult> {
  const started = Date.now();
  const s = opts.settings;
  const abort = new AbortController();
  const onParentAbort = () => abort.abort();
  if (opts.signal?.aborted) abort.abort();
  opts.signal?.addEventListener('abort', onParentAbort, { once: true });
  const say = (l: string) => opts.onOutput?.(l);
  const tail: string[] = [];
  const readyLog = s.ready.log !== undefined ? new ReadyLogMatcher(s.ready.log) : null;
  const onLog = (line: string) => {
    tail.push(line);
    if (tail.length > LOG_TAIL_LINES) tail.shift();
    readyLog?.push(line);
    say(`  | ${line}`);
  };
  const name = `bp-smoke-${opts.target.replace(/[^A-Za-z0-9_.-]/g, '-')}-${randomBytes(4).toString('hex')}`;
  const result = (r: SmokeResult['result'], failure: SmokeFailure | null, reason: string | null, exitCode: number | null = null): SmokeResult => ({
    result: r,
    failure,
    reason,
    exitCode,
    logTail: [...tail],
    containerName: name,
    durationMs: Date.now() - started,
  });

  let settle!: () => void;
  const run: SmokeRun = { abort, docker: null, id: null, settled: new Promise<void>((res) => (settle = res)) };
  runs.set(name, run);
  let docker: Dockerode;
  try {
    docker = await connectDocker(opts.endpoint);
  } catch (err) {
    runs.delete(name);
    settle();
    opts.signal?.removeEventListener('abort', onParentAbort);
    throw err;
  }
  run.docker = docker;
  let logStream: (NodeJS.ReadableStream & { destroy(): void }) | null = null;
  try {
    if (abort.signal.aborted) return result('cancelled', 'cancelled', 'cancelled before the container started');
    const busy = await busyProbeAddresses(s.ready, abort.signal);
    if (busy.length > 0) return result('failed', 'start', `${busy.join(', ')} ${busy.length === 1 ? 'is' : 'are'} already in use before the smoke container started: ${PORT_IN_USE_WHY}`);
    say(`Smoke test: starting ${name} from ${opts.image} (network ${s.network}, timeout ${s.timeoutSeconds} s)`);
    const container = await docker.createContainer({
      name,
      Image: opts.image,
      ...(s.command ? { Cmd: s.command } : {}),
      ...(s.create.Entrypoint ? { Entrypoint: s.create.Entrypoint } : {}),
      ...(s.create.User ? { User: s.create.User } : {}),
      ...(s.create.WorkingDir ? { WorkingDir: s.create.WorkingDir } : {}),
      Env: [...Object.entries(s.env).map(([k, v]) => `${k}=${v}`), ...s.create.Env],
      Labels: { ...s.create.Labels, [SMOKE_LABEL]: '1', [SMOKE_TARGET_LABEL]: opts.target, [SMOKE_OWNER_LABEL]: `${hostname()}:${process.pid}` },
      HostConfig: { ...s.create.HostConfig, NetworkMode: s.network, AutoRemove: false },
    });
    run.id = container.id;
    if (abort.signal.aborted) return result('cancelled', 'cancelled', 'cancelled before the container started');
    try {
      await container.start();
    } catch (err) {
      return result('failed', 'start', `the container did not start: ${(err as { json?: { message?: string } }).json?.message ?? (err as Error).message}`);
    }
    logStream = (await container.logs({ follow: true, stdout: true, stderr: true })) as NodeJS.ReadableStream & { destroy(): void };
    const logsDone = followLines(logStream, onLog);

    const deadline = started + s.timeoutSeconds * 1000;
    const pending = new Set(Object.keys(s.ready).filter((k) => s.ready[k as keyof ReadyProbes] !== undefined) as (keyof ReadyProbes)[]);
    const last: Partial<Record<keyof ReadyProbes, string>> = {};
    let lastExec = 0;
    for (;;) {
      if (abort.signal.aborted) return result('cancelled', 'cancelled', 'cancelled before the container was ready');
      const state = (await container.inspect()).State;
      if (!state.Running) {
        // The log stream ends when the container stops; its last lines may still be on the way.
        await Promise.race([logsDone, sleep(3000, abort.signal)]);
        const code = state.ExitCode;
        if (readyLog?.check() === 'stopped') return result('failed', 'probe', readyLog.error);
        // A container that printed its ready line and exited 0 between two polls was ready: a log
        // probe is the only one that can still be judged once it has stopped.
        if (code === 0 && readyLog?.check() === 'matched' && [...pending].every((k) => k === 'log')) {
          say(`Smoke test passed in ${((Date.now() - started) / 1000).toFixed(1)} s (the container printed its ready line and exited 0).`);
          return result('passed', null, null);
        }
        return result('failed', 'exited', `container exited with code ${code} before it was ready${state.OOMKilled ? ' (out of memory)' : ''}`, code);
      }
      if (pending.has('http')) {
        const r = await httpProbe(s.ready.http!, abort.signal);
        if (r.ok) pending.delete('http');
        else if (r.fatal) return result('failed', 'probe', r.message);
        else last.http = r.message;
      }
      if (pending.has('tcp')) {
        const r = await tcpProbe(s.ready.tcp!, abort.signal);
        if (r.ok) pending.delete('tcp');
        else last.tcp = r.message;
      }
      if (pending.has('log')) {
        const r = readyLog!.check();
        if (r === 'matched') pending.delete('log');
        else if (r === 'stopped') return result('failed', 'probe', readyLog!.error);
        else last.log = `no log line matched /${s.ready.log}/`;
      }
      if (pending.has('exec') && Date.now() - lastExec >= 1000) {
        lastExec = Date.now();
        const r = await execProbe(container, s.ready.exec!, abort.signal);
        if (r.ok) pending.delete('exec');
        else last.exec = r.message;
      }
      if (pending.size === 0) {
        say(`Smoke test passed in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
        return result('passed', null, null);
      }
      if (Date.now() > deadline) {
        const why = [...pending].map((k) => last[k] ?? `${k} probe not run`).join('; ');
        return result('failed', 'timeout', `timeout after ${s.timeoutSeconds} s: ${why}`);
      }
      await sleep(POLL_MS, abort.signal);
    }
  } catch (err) {
    if (abort.signal.aborted) return result('cancelled', 'cancelled', 'cancelled before the container was ready');
    throw err;
  } finally {
    opts.signal?.removeEventListener('abort', onParentAbort);
    logStream?.destroy();
    try {
      if (run.id) await removeQuietly(docker, run.id);
      else await removeByName(docker, name);
    } finally {
      runs.delete(name);
      settle();
    }
    say(`Smoke test: removed ${name}.`);
  }
}

/** A create that was cancelled half-way may still have made the container: remove it by name. */
async function removeByName(docker: Dockerode, name: string): Promise<void> {
  await removeQuietly(docker, name).catch(() => undefined);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * The `smoke.ready.log` probe: whether a log line matched. The pattern comes from .provenance.json
 * and the lines from the image, both the repository's, so the lines that arrived together (one
 * chunk of the log stream) are tested in one call bounded by REGEX_BUDGET_MS (safety/boundedRegex);
 * a pattern stopped there ends the probe ('stopped', with `error` saying why), never the editor.
 */
export class ReadyLogMatcher {
  private readonly re: BoundedRegex;
  private queue: string[] = [];
  private state: 'waiting' | 'matched' | 'stopped' = 'waiting';
  /** Why the probe was stopped (set with 'stopped'). */
  error = '';

  constructor(pattern: string, budgetMs?: number) {
    this.re = new BoundedRegex(pattern, '', budgetMs);
  }

  /** A log line; lines pushed in one go are tested together, after the current task. */
  push(line: string): void {
    if (this.state !== 'waiting') return;
    this.queue.push(line);
    if (this.queue.length === 1) queueMicrotask(() => this.check());
  }

  /** Tests the lines not yet tested; the probe's state. */
  check(): 'waiting' | 'matched' | 'stopped' {
    if (this.state !== 'waiting' || this.queue.length === 0) return this.state;
    const lines = this.queue;
    this.queue = [];
    try {
      if (this.re.testAny(lines)) this.state = 'matched';
    } catch (err) {
      // Stopped past its budget (or failed some other way, e.g. out of stack): no answer either way.
      this.state = 'stopped';
      const why = err instanceof RegexTimeoutError ? err.message : `the regular expression /${this.re.source}/ failed: ${(err as Error).message}`;
      this.error = `smoke.ready.log: ${why} (on the container's log lines, so the log probe cannot tell when it is ready)`;
    }
    return this.state;
  }
}

/** Splits Docker's multiplexed log stream (8-byte frame headers; raw when the container has a TTY) into lines. */
export class LogDemuxer {
  private buf: Buffer = Buffer.alloc(0);
  private text: Record<'out' | 'err', string> = { out: '', err: '' };
  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 8) {
      const type = this.buf[0];
      if (type > 2 || this.buf[1] !== 0 || this.buf[2] !== 0 || this.buf[3] !== 0) {
        // Not multiplexed (TTY): raw text.
        this.add('out', this.buf.toString('utf8'));
        this.buf = Buffer.alloc(0);
        return;
      }
      const size = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + size) return;
      this.add(type === 2 ? 'err' : 'out', this.buf.subarray(8, 8 + size).toString('utf8'));
      this.buf = this.buf.subarray(8 + size);
    }
  }

  end(): void {
    for (const k of ['out', 'err'] as const) {
      if (this.text[k]) this.onLine(this.text[k]);
      this.text[k] = '';
    }
  }

  private add(k: 'out' | 'err', s: string): void {
    const parts = (this.text[k] + s).split(/\r?\n/);
    this.text[k] = parts.pop() ?? '';
    for (const p of parts) this.onLine(p);
  }
}

function followLines(stream: NodeJS.ReadableStream, onLine: (l: string) => void): Promise<void> {
  const d = new LogDemuxer(onLine);
  return new Promise((resolve) => {
    stream.on('data', (c: Buffer) => d.push(c));
    const done = () => {
      d.end();
      resolve();
    };
    stream.on('end', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}

export interface ProbeResult {
  ok: boolean;
  /** A definite failure (the service is up and broken), not "not ready yet". */
  fatal?: boolean;
  message: string;
}

/**
 * GET on a loopback URL. 2xx is ready; 502/503/504 and connection errors mean "not yet"; any other
 * answer (e.g. 500, 404) is a failure at once: the service is up and says it is broken.
 */
function httpProbe(url: string, signal: AbortSignal): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const req = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, { method: 'GET', agent: false, timeout: 2000, signal, rejectUnauthorized: false }, (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      if (code >= 200 && code < 300) resolve({ ok: true, message: `GET ${url} answered ${code}` });
      else if (code === 502 || code === 503 || code === 504) resolve({ ok: false, message: `HTTP probe GET ${url} answered ${code}` });
      else resolve({ ok: false, fatal: true, message: `HTTP probe GET ${url} answered ${code}` });
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 2 s')));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, message: `HTTP probe GET ${url} did not answer (${err.code ?? err.message})` }));
    req.end();
  });
}

/**
 * A TCP connect to 127.0.0.1:port. The abort listener is ours, not `net.connect({ signal })`'s:
 * Node 20 leaves that one on the signal when the connection fails, one per probe attempt, until
 * Node warns about a listener leak (MaxListenersExceededWarning) in the user's terminal.
 */
export function tcpProbe(port: number, signal: AbortSignal, host = '127.0.0.1'): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const sock = netConnect({ host, port });
    const onAbort = () => sock.destroy(new Error('cancelled'));
    const settle = (r: ProbeResult) => {
      signal.removeEventListener('abort', onAbort);
      sock.destroy();
      resolve(r);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    sock.setTimeout(2000, () => sock.destroy(new Error('timeout')));
    sock.once('connect', () => settle({ ok: true, message: `${host}:${port} accepted a connection` }));
    sock.once('error', (err: NodeJS.ErrnoException) => settle({ ok: false, message: `TCP probe ${host}:${port} did not open (${err.code ?? err.message})` }));
  });
}

/** The loopback host:port pairs the HTTP and TCP probes connect to. */
export function probeAddresses(ready: ReadyProbes): { host: string; port: number }[] {
  const out: { host: string; port: number }[] = [];
  if (ready.http !== undefined) {
    const u = new URL(ready.http);
    const host = u.hostname === 'localhost' ? '127.0.0.1' : u.hostname.replace(/^\[|\]$/g, '');
    out.push({ host, port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)) });
  }
  if (ready.tcp !== undefined) out.push({ host: '127.0.0.1', port: ready.tcp });
  return out;
}

/**
 * The probe addresses something already listens on before the smoke container starts. A smoke
 * container shares the host's network, so a probe there would reach that listener (often the
 * running deployment of the same target) instead of the new image, and the new container could
 * not bind the port.
 */
export async function busyProbeAddresses(ready: ReadyProbes, signal?: AbortSignal): Promise<string[]> {
  const sig = signal ?? new AbortController().signal;
  const addrs = probeAddresses(ready);
  const open = await Promise.all(addrs.map((a) => tcpProbe(a.port, sig, a.host)));
  return addrs.filter((_, k) => open[k].ok).map((a) => `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`);
}

async function execProbe(container: Dockerode.Container, cmd: string[], signal: AbortSignal): Promise<ProbeResult> {
  const label = JSON.stringify(cmd);
  try {
    const exec = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
    const stream = (await exec.start({ hijack: true, stdin: false })) as NodeJS.ReadableStream & { destroy(): void };
    await new Promise<void>((resolve) => {
      const t = setTimeout(finish, 5000);
      function finish() {
        clearTimeout(t);
        signal.removeEventListener('abort', finish);
        stream.destroy();
        resolve();
      }
      signal.addEventListener('abort', finish, { once: true });
      stream.on('data', () => undefined);
      stream.on('end', finish);
      stream.on('close', finish);
      stream.on('error', finish);
    });
    const info = await exec.inspect();
    if (info.Running) return { ok: false, message: `exec probe ${label} did not finish within 5 s` };
    return info.ExitCode === 0 ? { ok: true, message: `exec probe ${label} exited 0` } : { ok: false, message: `exec probe ${label} exited with code ${info.ExitCode}` };
  } catch (err) {
    return { ok: false, message: `exec probe ${label} could not run: ${(err as { json?: { message?: string } }).json?.message ?? (err as Error).message}` };
  }
}
