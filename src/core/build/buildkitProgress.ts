// BuildKit's build stream, rendered the way the docker CLI's `--progress=plain` prints it:
//   #3 [2/3] RUN make
//   #3 0.215 compiling…
//   #3 DONE 0.4s
// The engine wraps BuildKit's progress (a `moby.buildkit.v1.StatusResponse` protobuf) in base64
// inside `{"id":"moby.buildkit.trace","aux":"…"}` lines; the image ID comes as `moby.image.id`.
// dockerode 5.0.1 has a decoder (docker.followProgress), but it prints RUN output as base64 (it
// turns bytes into base64 strings, then reads them as UTF-8) and drops the timings, so the few
// fields needed are decoded here with protobufjs, which dockerode already ships.
// Nothing undecoded ever reaches the output: a message that does not decode is counted, not shown.
import type * as Protobuf from 'protobufjs';
import { EngineStreamParser } from './engineStream';

export interface TraceVertex {
  digest: string;
  name: string;
  cached: boolean;
  /** ms since the epoch, or null. */
  started: number | null;
  completed: number | null;
  error: string;
}

export interface TraceStatus {
  id: string;
  vertex: string;
  name: string;
  current: number;
  total: number;
  started: number | null;
  completed: number | null;
}

export interface TraceLog {
  vertex: string;
  timestamp: number | null;
  /** 1 stdout, 2 stderr. */
  stream: number;
  msg: Uint8Array;
}

export interface Trace {
  vertexes: TraceVertex[];
  statuses: TraceStatus[];
  logs: TraceLog[];
  warnings: Array<{ vertex: string; short: Uint8Array }>;
}

// The fields of moby/buildkit api/services/control/control.proto that the printer needs; the
// decoder skips the others (progress groups, warning source ranges, …).
const TS = { type: 'Timestamp' };
const STATUS_SCHEMA = {
  nested: {
    StatusResponse: {
      fields: {
        vertexes: { rule: 'repeated', type: 'Vertex', id: 1 },
        statuses: { rule: 'repeated', type: 'VertexStatus', id: 2 },
        logs: { rule: 'repeated', type: 'VertexLog', id: 3 },
        warnings: { rule: 'repeated', type: 'VertexWarning', id: 4 },
      },
    },
    Vertex: {
      fields: { digest: { type: 'string', id: 1 }, name: { type: 'string', id: 3 }, cached: { type: 'bool', id: 4 }, started: { ...TS, id: 5 }, completed: { ...TS, id: 6 }, error: { type: 'string', id: 7 } },
    },
    VertexStatus: {
      fields: {
        ID: { type: 'string', id: 1 }, vertex: { type: 'string', id: 2 }, name: { type: 'string', id: 3 }, current: { type: 'int64', id: 4 },
        total: { type: 'int64', id: 5 }, started: { ...TS, id: 7 }, completed: { ...TS, id: 8 },
      },
    },
    VertexLog: { fields: { vertex: { type: 'string', id: 1 }, timestamp: { ...TS, id: 2 }, stream: { type: 'int64', id: 3 }, msg: { type: 'bytes', id: 4 } } },
    VertexWarning: { fields: { vertex: { type: 'string', id: 1 }, short: { type: 'bytes', id: 3 } } },
    Timestamp: { fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } } },
  },
};

type Ts = { seconds?: number; nanos?: number } | undefined;
const ms = (t: Ts): number | null => (t && (t.seconds || t.nanos) ? (t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6 : null);

let statusType: Protobuf.Type | undefined;

/** Loads protobufjs (lazily: the CLI pays for it only when it builds) and returns the decoder. */
export function traceDecoder(): (base64: string) => Trace {
  if (!statusType) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const protobuf = require('protobufjs') as typeof Protobuf;
    statusType = protobuf.Root.fromJSON(STATUS_SCHEMA).lookupType('StatusResponse');
  }
  const type = statusType;
  return (base64: string): Trace => {
    const o = type.toObject(type.decode(Buffer.from(base64, 'base64')), { longs: Number, arrays: true }) as {
      vertexes: Array<{ digest?: string; name?: string; cached?: boolean; started?: Ts; completed?: Ts; error?: string }>;
      statuses: Array<{ ID?: string; vertex?: string; name?: string; current?: number; total?: number; started?: Ts; completed?: Ts }>;
      logs: Array<{ vertex?: string; timestamp?: Ts; stream?: number; msg?: Uint8Array }>;
      warnings: Array<{ vertex?: string; short?: Uint8Array }>;
    };
    return {
      vertexes: o.vertexes.map((v) => ({ digest: v.digest ?? '', name: v.name ?? '', cached: !!v.cached, started: ms(v.started), completed: ms(v.completed), error: v.error ?? '' })),
      statuses: o.statuses.map((s) => ({ id: s.ID ?? '', vertex: s.vertex ?? '', name: s.name ?? '', current: s.current ?? 0, total: s.total ?? 0, started: ms(s.started), completed: ms(s.completed) })),
      logs: o.logs.map((l) => ({ vertex: l.vertex ?? '', timestamp: ms(l.timestamp), stream: l.stream ?? 1, msg: l.msg ?? new Uint8Array() })),
      warnings: o.warnings.map((w) => ({ vertex: w.vertex ?? '', short: w.short ?? new Uint8Array() })),
    };
  };
}

/** go-units' HumanSize: decimal units, 4 significant digits ("37B", "2.34kB"). */
export function humanSize(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${Number(n.toPrecision(4))}${units[i]}`;
}

interface VertexState {
  index: number;
  name: string;
  cached: boolean;
  started: number | null;
  completed: number | null;
  error: string;
  headed: boolean;
  done: boolean;
  /** Unfinished log line per stream, and when it began. */
  partial: Map<number, { text: string; at: number | null }>;
  /** The last log lines, for the summary of a failed step. */
  tail: string[];
  statusesDone: Set<string>;
}

const TAIL_LINES = 10;
const decoder = new TextDecoder('utf-8');

/** The docker CLI's plain progress, one line at a time. Pure: traces in, lines out. */
export class PlainProgress {
  private readonly vertices = new Map<string, VertexState>();
  private next = 1;
  private current: string | null = null;
  private printed = false;

  constructor(private readonly onLine: (line: string) => void) {}

  private vertex(digest: string): VertexState {
    let v = this.vertices.get(digest);
    if (!v) {
      v = { index: 0, name: '', cached: false, started: null, completed: null, error: '', headed: false, done: false, partial: new Map(), tail: [], statusesDone: new Set() };
      this.vertices.set(digest, v);
    }
    return v;
  }

  /** Prints `line` under the vertex's block: a blank line when the block changes, its `#N name` first. */
  private emit(digest: string, v: VertexState, line?: string): void {
    if (this.current !== digest) {
      if (this.printed) this.onLine('');
      this.current = digest;
    }
    if (!v.headed) {
      v.headed = true;
      v.index = this.next++;
      this.onLine(`#${v.index} ${v.name}`);
      this.printed = true;
    }
    if (line !== undefined) this.onLine(`#${v.index} ${line}`);
  }

  private logLine(digest: string, v: VertexState, text: string, at: number | null): void {
    const sec = at !== null && v.started !== null ? Math.max(0, (at - v.started) / 1000) : 0;
    const shown = text.replace(/\r$/, '').split('\r').pop() ?? '';
    const line = `${sec.toFixed(sec < 10 ? 3 : sec < 100 ? 2 : 1)} ${shown}`;
    this.emit(digest, v, line);
    v.tail.push(`#${v.index} ${line}`);
    if (v.tail.length > TAIL_LINES) v.tail.shift();
  }

  private flush(digest: string, v: VertexState): void {
    for (const [stream, p] of v.partial) {
      if (p.text) this.logLine(digest, v, p.text, p.at);
      v.partial.delete(stream);
    }
  }

  update(t: Trace): void {
    const completedNow: string[] = [];
    for (const u of t.vertexes) {
      if (!u.digest) continue;
      const v = this.vertex(u.digest);
      if (u.name) v.name = u.name;
      v.cached = v.cached || u.cached;
      v.started = u.started ?? v.started;
      if (u.error) v.error = u.error;
      if (u.completed !== null && !v.done) {
        v.completed = u.completed;
        completedNow.push(u.digest);
      }
      if ((v.started !== null || v.completed !== null) && !v.headed && v.name) this.emit(u.digest, v);
    }
    for (const s of t.statuses) {
      const v = this.vertices.get(s.vertex);
      if (!v || !v.name || s.completed === null || v.statusesDone.has(s.id)) continue;
      v.statusesDone.add(s.id);
      const bytes = s.total > 0 ? ` ${humanSize(s.current)} / ${humanSize(s.total)}` : s.current > 0 ? ` ${humanSize(s.current)}` : '';
      const secs = s.started !== null ? (s.completed - s.started) / 1000 : 0;
      this.emit(s.vertex, v, `${s.id || s.name}${bytes}${secs > 0.01 ? ` ${secs.toFixed(1)}s` : ''} done`);
    }
    for (const l of t.logs) {
      const v = this.vertices.get(l.vertex);
      if (!v) continue;
      const parts = decoder.decode(l.msg).split('\n');
      const p = v.partial.get(l.stream) ?? { text: '', at: l.timestamp };
      p.text += parts[0];
      if (parts.length === 1) {
        v.partial.set(l.stream, p);
        continue;
      }
      this.logLine(l.vertex, v, p.text, p.at);
      for (const mid of parts.slice(1, -1)) this.logLine(l.vertex, v, mid, l.timestamp);
      const last = parts[parts.length - 1];
      if (last) v.partial.set(l.stream, { text: last, at: l.timestamp });
      else v.partial.delete(l.stream);
    }
    for (const w of t.warnings) this.onLine(`WARNING: ${decoder.decode(w.short)}`);
    for (const digest of completedNow) {
      const v = this.vertices.get(digest)!;
      if (v.done || !v.name) continue;
      v.done = true;
      this.flush(digest, v);
      if (v.error) this.emit(digest, v, /context canceled$/.test(v.error) ? 'CANCELED' : `ERROR: ${v.error}`);
      else if (v.cached) this.emit(digest, v, 'CACHED');
      else this.emit(digest, v, `DONE ${v.started !== null && v.completed !== null ? Math.max(0, (v.completed - v.started) / 1000).toFixed(1) : '0.0'}s`);
    }
  }

  /** Prints what is still buffered (a last line without a newline). */
  end(): void {
    for (const [digest, v] of this.vertices) this.flush(digest, v);
  }

  /** The docker CLI's box around a failed step and its last output lines. */
  failureSummary(): string[] {
    const out: string[] = [];
    for (const v of this.vertices.values()) {
      if (!v.error || /context canceled$/.test(v.error)) continue;
      out.push('------', ` > ${v.name}:`, ...v.tail, '------');
    }
    return out;
  }
}

/** The engine's BuildKit stream, incrementally: progress printed, image ID and error kept. */
export class BuildKitStreamParser extends EngineStreamParser {
  private readonly progress: PlainProgress;
  /** Progress messages that did not decode (skipped, never printed). */
  undecodable = 0;

  constructor(
    private readonly decode: (base64: string) => Trace,
    private readonly onLine: (line: string) => void,
  ) {
    super();
    this.progress = new PlainProgress(onLine);
  }

  protected finish(): void {
    this.progress.end();
    if (this.undecodable > 0) this.onLine(`(${this.undecodable} BuildKit progress message(s) could not be decoded and were left out)`);
    if (this.error) {
      const box = this.progress.failureSummary();
      if (box.length) {
        this.onLine('');
        for (const l of box) this.onLine(l);
      }
    }
  }

  protected message(raw: string): void {
    const line = raw.trim();
    if (!line) return;
    let msg: { id?: string; aux?: unknown; stream?: string; error?: string; errorDetail?: { message?: string } };
    try {
      msg = JSON.parse(line);
    } catch {
      this.onLine(line);
      return;
    }
    if (msg.id === 'moby.buildkit.trace') {
      if (typeof msg.aux !== 'string') return;
      let t: Trace;
      try {
        t = this.decode(msg.aux);
      } catch {
        this.undecodable++;
        return;
      }
      this.progress.update(t);
      return;
    }
    if (msg.id === 'moby.image.id') {
      const id = (msg.aux as { ID?: unknown } | undefined)?.ID;
      if (typeof id === 'string') this.imageId = id;
      return;
    }
    if (msg.errorDetail || msg.error) {
      this.error = (msg.errorDetail?.message || msg.error || 'unknown build error').trim();
      return;
    }
    if (typeof msg.stream === 'string') {
      for (const l of msg.stream.split(/\r?\n/)) if (l.trim()) this.onLine(l);
    }
  }
}
