// The build ledger: parsing, atomic appends from concurrent processes, and crash safety.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { appendLedgerRecord, ledgerPath, logExcerpt, parseLedger, readLedger, type NewLedgerRecord } from '../../src/core/build/ledger';
import { tempGitDir as tempDir } from '../support/gitFixture';

const WRITER = path.join(__dirname, '../support/ledgerWriter.ts');

function rec(target: string, extra: Partial<NewLedgerRecord> = {}): NewLedgerRecord {
  return {
    kind: 'build',
    target,
    revision: '0123456789abcdef0123456789abcdef01234567',
    dirty: false,
    inputHash: '',
    imageId: null,
    tags: [],
    mode: 'builtin',
    startedAt: '2026-11-27T09:00:00.000Z',
    endedAt: '2026-11-27T09:00:05.000Z',
    result: 'success',
    smoke: null,
    error: null,
    tool: 'test',
    ...extra,
  };
}

function writer(dir: string, ...args: string[]) {
  return spawn(process.execPath, ['--import', 'tsx', WRITER, dir, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
}

function exited(child: ReturnType<typeof spawn>): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
}

test('parseLedger: skips torn, non-JSON and foreign lines with a warning each; keeps the rest in order', () => {
  const good = (id: string) => JSON.stringify({ v: 1, id, kind: 'build', target: 't', startedAt: 'x', result: 'success', tags: [] });
  const text = [good('a'), '{"v":1,"id":"torn","kind":"bu', good('b'), '', '[1,2]', '{"v":2,"id":"c","kind":"build","target":"t","startedAt":"x","result":"success","tags":[]}', good('d'), '{"v":1,"id":"e","kind":"deploy","target":"t","startedAt":"x","result":"success","tags":[]}'].join('\n');
  const r = parseLedger(text, 'ledger.jsonl');
  assert.deepEqual(r.records.map((x) => x.id), ['a', 'b', 'd']);
  assert.equal(r.warnings.length, 4);
  assert.match(r.warnings[0], /^ledger\.jsonl:2: not a complete record/);
  assert.match(r.warnings[1], /:5: not a JSON object/);
  assert.match(r.warnings[2], /:6: unknown record version 2/);
  assert.match(r.warnings[3], /:8: unknown kind "deploy"/);
});

test('logExcerpt keeps the last 4 KiB, starting on a line when one is near', () => {
  assert.equal(logExcerpt('short'), 'short');
  const long = Array.from({ length: 1000 }, (_, i) => `line ${i}`).join('\n');
  const ex = logExcerpt(long);
  assert.ok(ex.length <= 4096);
  assert.match(ex, /^line \d+\n/);
  assert.ok(ex.endsWith('line 999'));
});

test('appendLedgerRecord: a record per line in the git common dir, ids unique, excerpt bounded; a missing ledger reads empty', async (t) => {
  const dir = tempDir('bp-ledger-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.deepEqual(await readLedger(dir), { records: [], warnings: [] });
  const a = await appendLedgerRecord(dir, rec('a', { logExcerpt: 'z'.repeat(10_000) }));
  const b = await appendLedgerRecord(dir, rec('b', { smoke: { result: 'failed', reason: 'container exited with code 3' }, result: 'failure' }));
  assert.notEqual(a.id, b.id);
  assert.equal(a.logExcerpt.length, 4096);
  assert.equal(ledgerPath(dir), path.join(dir, 'build-provenance', 'ledger.jsonl'));
  const lines = readFileSync(ledgerPath(dir), 'utf8').split('\n');
  assert.equal(lines.length, 3);
  assert.equal(lines[2], '');
  const r = await readLedger(dir);
  assert.deepEqual(r.warnings, []);
  assert.deepEqual(r.records, [a, b]);
  assert.ok(!existsSync(`${ledgerPath(dir)}.lock`), 'the lock is released');
});

test('ledger: concurrent writer processes never interleave records', async (t) => {
  const dir = tempDir('bp-ledger-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const kids = ['w1', 'w2', 'w3', 'w4'].map((tag) => writer(dir, 'count', '40', tag));
  const codes = await Promise.all(kids.map(exited));
  assert.deepEqual(codes.map((c) => c.code), [0, 0, 0, 0]);
  const r = await readLedger(dir);
  assert.deepEqual(r.warnings, []);
  assert.equal(r.records.length, 160);
  for (const tag of ['w1', 'w2', 'w3', 'w4']) {
    const mine = r.records.filter((x) => x.target === tag);
    assert.deepEqual(mine.map((x) => x.tags[0]), Array.from({ length: 40 }, (_, i) => `${tag}:${i}`), 'in order, none lost');
    for (const x of mine) assert.ok(x.logExcerpt.startsWith(`${tag} `) && x.logExcerpt.length === 4000);
  }
});

test('ledger: a writer SIGKILLed in the middle of a large record loses only that record; the stale lock is taken over and later appends work', async (t) => {
  const dir = tempDir('bp-ledger-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const before = [await appendLedgerRecord(dir, rec('before-1')), await appendLedgerRecord(dir, rec('before-2'))];

  const torn = await exited(writer(dir, 'torn', 'victim'));
  assert.equal(torn.signal, 'SIGKILL');
  const raw = readFileSync(ledgerPath(dir), 'utf8');
  assert.ok(!raw.endsWith('\n') && raw.length > 100_000, 'half a large record was written');
  assert.ok(existsSync(`${ledgerPath(dir)}.lock`), 'the dead writer left its lock');

  const r1 = await readLedger(dir);
  assert.deepEqual(r1.records, before, 'earlier records are intact');
  assert.equal(r1.warnings.length, 1);
  assert.match(r1.warnings[0], /ledger\.jsonl:3: not a complete record .*; moved to .*ledger\.quarantine\.jsonl\./);
  assert.ok(readFileSync(path.join(path.dirname(ledgerPath(dir)), 'ledger.quarantine.jsonl'), 'utf8').length > 100_000, 'the torn line is kept aside, not lost');
  assert.deepEqual((await readLedger(dir)).warnings, [], 'it warns once, not on every command');

  const t0 = Date.now();
  const after = await appendLedgerRecord(dir, rec('after'));
  assert.ok(Date.now() - t0 < 2000, 'a dead owner\'s lock is taken over at once');
  const r2 = await readLedger(dir);
  assert.deepEqual(r2.records, [...before, after]);
  assert.deepEqual(r2.warnings, []);
});

test('ledger: writers killed at random moments never damage complete records', async (t) => {
  const dir = tempDir('bp-ledger-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const first = await appendLedgerRecord(dir, rec('first'));
  for (let round = 0; round < 3; round++) {
    const kids = [writer(dir, 'loop', `k${round}a`), writer(dir, 'loop', `k${round}b`)];
    await Promise.all(kids.map((k) => new Promise((res) => k.stdout!.once('data', res))));
    await new Promise((res) => setTimeout(res, 150 + round * 70));
    for (const k of kids) k.kill('SIGKILL');
    await Promise.all(kids.map(exited));
  }
  const last = await appendLedgerRecord(dir, rec('last'));
  const r = await readLedger(dir);
  assert.ok(r.warnings.length <= 3, r.warnings.join('\n'));
  assert.deepEqual(r.records[0], first);
  assert.deepEqual(r.records[r.records.length - 1], last);
  assert.ok(r.records.length > 3);
  for (const x of r.records) assert.ok(x.target === 'first' || x.target === 'last' || x.logExcerpt.length === 4000);
});

test('ledger: a record is one line even when its text has newlines and control characters', async (t) => {
  const dir = tempDir('bp-ledger-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await appendLedgerRecord(dir, rec('x', { error: 'line1\nline2\r\n\u0000', logExcerpt: 'a\nb\n' }));
  const r = await readLedger(dir);
  assert.equal(r.records[0].error, 'line1\nline2\r\n\u0000');
  assert.equal(readFileSync(ledgerPath(dir), 'utf8').split('\n').length, 2);
});
