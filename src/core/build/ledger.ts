// The per-clone build ledger: every build and smoke run, one JSON line each, in the git common dir
// (`<commonDir>/build-provenance/ledger.jsonl`), so it is shared by worktrees and never committed.
// An append is one write() of a complete line with O_APPEND, then fsync, under a lock file, so
// concurrent writers (CLI and extension) never interleave and a crash can only tear the last line.
// Readers skip a torn or corrupt line with a warning and lose nothing else.
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, lstatSync } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { acquireLock } from './fileLock';
import { appendNoFollow, checkRealDir, openReadNoFollowIfExists, PROVENANCE_DIR, provenanceDir, readFileNoFollow, UnsafePathError, writeFileAtomic } from '../safety/safeFiles';

export const LEDGER_DIR = PROVENANCE_DIR;
export const LEDGER_FILE = 'ledger.jsonl';
/** The log excerpt kept per record: the last 4 KiB of output. */
export const LOG_EXCERPT_CHARS = 4096;

export type LedgerKind = 'build' | 'smoke' | 'mark';
export type RunResult = 'success' | 'failure' | 'cancelled';
export type SmokeOutcome = 'passed' | 'failed' | 'cancelled';

export interface LedgerRecord {
  /** Format version of this line. */
  v: 1;
  id: string;
  /** `mark`: the image was put into service (a deploy step). */
  kind: LedgerKind;
  target: string;
  /** Full SHA of HEAD when the run started; null when unknown (smoke of an unlabeled image). */
  revision: string | null;
  dirty: boolean;
  /** sha256 of the uncommitted changes to image inputs; '' when clean. */
  inputHash: string;
  imageId: string | null;
  tags: string[];
  mode: 'builtin' | 'command' | null;
  /** The builder of a built-in build: BuildKit or the classic builder (absent in older records, null otherwise). */
  builder?: 'buildkit' | 'classic' | null;
  /** ISO 8601 UTC. */
  startedAt: string;
  endedAt: string;
  result: RunResult;
  smoke: { result: SmokeOutcome; reason: string | null } | null;
  /** Why the run failed, when it did. */
  error: string | null;
  /** The last LOG_EXCERPT_CHARS of output. */
  logExcerpt: string;
  tool: string;
  /** `mark` only: the user's verdict on the image ("Mark Build Good/Bad"); absent on a deploy mark. */
  verdict?: Verdict;
}

export type Verdict = 'good' | 'bad';

export type NewLedgerRecord = Omit<LedgerRecord, 'v' | 'id' | 'logExcerpt'> & { logExcerpt?: string };

export function ledgerDir(commonDir: string): string {
  return path.join(commonDir, LEDGER_DIR);
}

export function ledgerPath(commonDir: string): string {
  return path.join(ledgerDir(commonDir), LEDGER_FILE);
}

/** A sortable, unique record id: time, then randomness. */
export function newRecordId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:.]/g, '').replace('T', '-').replace('Z', '')}-${randomBytes(4).toString('hex')}`;
}

/** The tail of a log, at most `max` characters, starting on a line boundary when one is near. */
export function logExcerpt(text: string, max = LOG_EXCERPT_CHARS): string {
  if (text.length <= max) return text;
  const tail = text.slice(text.length - max);
  const nl = tail.indexOf('\n');
  return nl >= 0 && nl < 200 ? tail.slice(nl + 1) : tail;
}

/** One complete line for the ledger (the record's JSON and a newline). */
export function ledgerLine(rec: LedgerRecord): string {
  return JSON.stringify(rec) + '\n';
}

/** Appends one record atomically (see the file comment). Returns the record as stored. */
export async function appendLedgerRecord(commonDir: string, input: NewLedgerRecord, signal?: AbortSignal): Promise<LedgerRecord> {
  const rec: LedgerRecord = { v: 1, id: newRecordId(), ...input, logExcerpt: logExcerpt(input.logExcerpt ?? '') };
  // The real folder (never through a link the repository planted): see safety/safeFiles.ts.
  const file = path.join(provenanceDir(commonDir), LEDGER_FILE);
  // A ledger append holds the lock for milliseconds; 30 s means its owner hung or died.
  const lock = await acquireLock(`${file}.lock`, 'ledger append', { staleMs: 30_000, signal });
  try {
    appendLine(file, ledgerLine(rec));
  } finally {
    lock.release();
  }
  return rec;
}

/** Appends a complete line with O_APPEND and fsync, never through a link. Call under the ledger lock. */
export function appendLine(file: string, line: string): void {
  // A writer killed mid-line leaves a torn last line: ours starts on a fresh line so only the torn one is lost.
  appendNoFollow(file, line, { freshLine: true });
}

export interface LedgerRead {
  records: LedgerRecord[];
  /** One per skipped line: which line and why. */
  warnings: string[];
}

/** Parses ledger text (pure): valid records in file order, a warning for each skipped line. */
export function parseLedger(text: string, file = LEDGER_FILE): LedgerRead {
  const out: LedgerRead = { records: [], warnings: [] };
  text.split('\n').forEach((line, i) => addLine(out, line, i + 1, file));
  return out;
}

export const QUARANTINE_FILE = 'ledger.quarantine.jsonl';

/**
 * Reads the ledger line by line (never the whole file at once). A missing ledger is empty. A
 * torn line (not JSON: a write was interrupted) is moved, once, to ledger.quarantine.jsonl beside
 * it, so it warns on this read only. A JSON line this version cannot use (a newer format, say) is
 * skipped with a warning and left in place.
 */
export async function readLedger(commonDir: string): Promise<LedgerRead> {
  let first: LedgerRead;
  try {
    first = await readLedgerOnce(commonDir);
  } catch (err) {
    // A planted link: nothing is read through it.
    if (err instanceof UnsafePathError) return { records: [], warnings: [`${err.message} No ledger records were read.`] };
    throw err;
  }
  if (!first.warnings.some((w) => w.includes(TORN))) return first;
  try {
    const moved = await quarantineTornLines(commonDir);
    // None under the lock: the "torn" line was a write in progress, now complete.
    if (moved === 0) return await readLedgerOnce(commonDir);
    const again = await readLedgerOnce(commonDir);
    const where = path.join(ledgerDir(commonDir), QUARANTINE_FILE);
    return { records: again.records, warnings: [...first.warnings.map((w) => w.replace(`${TORN}; skipped.`, `${TORN}; moved to ${where}.`)), ...again.warnings] };
  } catch {
    return first; // not writable (or the lock is busy): the next read tries again
  }
}

/** Moves the lines that are not JSON out of the ledger, under its lock; returns how many. */
async function quarantineTornLines(commonDir: string): Promise<number> {
  const dir = provenanceDir(commonDir);
  const file = path.join(dir, LEDGER_FILE);
  const lock = await acquireLock(`${file}.lock`, 'ledger repair', { staleMs: 30_000, timeoutMs: 2000 });
  try {
    const lines = (readFileNoFollow(file) ?? '').split('\n');
    const keep: string[] = [];
    const torn: string[] = [];
    for (const line of lines) {
      if (line.trim() === '') continue;
      try {
        JSON.parse(line);
        keep.push(line);
      } catch {
        torn.push(line);
      }
    }
    if (torn.length === 0) return 0;
    appendLine(path.join(dir, QUARANTINE_FILE), torn.join('\n') + '\n');
    // The rest is rewritten beside it (a random temp name) and renamed over it: a crash leaves one or the other whole.
    writeFileAtomic(file, keep.length ? keep.join('\n') + '\n' : '', { mode: 0o644, fsync: true });
    return torn.length;
  } finally {
    lock.release();
  }
}

/** The ledger's folder, when it exists, must be a real folder of the user's (a planted link is refused). */
function checkLedgerDir(commonDir: string): void {
  const dir = ledgerDir(commonDir);
  if (existsSync(dir) || isLink(dir)) checkRealDir(dir);
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

const TORN = 'not a complete record (a write was interrupted?)';

async function readLedgerOnce(commonDir: string): Promise<LedgerRead> {
  const file = ledgerPath(commonDir);
  const out: LedgerRead = { records: [], warnings: [] };
  checkLedgerDir(commonDir);
  const fd = openReadNoFollowIfExists(file);
  if (fd === null) return out;
  const input = createReadStream('', { fd, encoding: 'utf8' });
  const rl = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  for await (const line of rl) addLine(out, line, ++n, file);
  return out;
}

function addLine(out: LedgerRead, line: string, n: number, file: string): void {
  if (line.trim() === '') return;
  let rec: unknown;
  try {
    rec = JSON.parse(line);
  } catch {
    out.warnings.push(`${file}:${n}: ${TORN}; skipped.`);
    return;
  }
  const why = invalidRecord(rec);
  if (why) {
    out.warnings.push(`${file}:${n}: ${why}; skipped.`);
    return;
  }
  out.records.push(rec as LedgerRecord);
}

function invalidRecord(r: unknown): string | null {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return 'not a JSON object';
  const o = r as Record<string, unknown>;
  if (o.v !== 1) return `unknown record version ${JSON.stringify(o.v)}`;
  if (typeof o.id !== 'string' || typeof o.target !== 'string') return 'no id or target';
  if (o.kind !== 'build' && o.kind !== 'smoke' && o.kind !== 'mark') return `unknown kind ${JSON.stringify(o.kind)}`;
  if (typeof o.startedAt !== 'string' || typeof o.result !== 'string') return 'no start time or result';
  if (!Array.isArray(o.tags)) return 'tags is not a list';
  if (o.verdict !== undefined && o.verdict !== 'good' && o.verdict !== 'bad') return `unknown verdict ${JSON.stringify(o.verdict)}`;
  return null;
}
