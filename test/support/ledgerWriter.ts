// A separate process that writes the build ledger, for the crash and concurrency tests:
//   ledgerWriter.ts <commonDir> count <n> <tag>  append n records, then exit
//   ledgerWriter.ts <commonDir> loop <tag>       append records until killed
//   ledgerWriter.ts <commonDir> torn <tag>       take the lock, write half a large record, SIGKILL itself
import { openSync, writeSync } from 'node:fs';
import { acquireLock } from '../../src/core/build/fileLock';
import { appendLedgerRecord, ledgerLine, ledgerPath, newRecordId, type NewLedgerRecord } from '../../src/core/build/ledger';

const [commonDir, mode, a, b] = process.argv.slice(2);

function rec(tag: string, n: number, excerptSize = 4000): NewLedgerRecord {
  return {
    kind: 'build',
    target: tag,
    revision: '0123456789abcdef0123456789abcdef01234567',
    dirty: false,
    inputHash: '',
    imageId: `sha256:${String(n).padStart(64, '0')}`,
    tags: [`${tag}:${n}`],
    mode: 'builtin',
    startedAt: new Date().toISOString(),
    endedAt: new Date().toISOString(),
    result: 'success',
    smoke: null,
    error: null,
    logExcerpt: `${tag} ${n} `.padEnd(excerptSize, 'x'),
    tool: 'test',
  };
}

async function main() {
  if (mode === 'count') {
    for (let i = 0; i < Number(a); i++) await appendLedgerRecord(commonDir, rec(b, i));
  } else if (mode === 'loop') {
    process.stdout.write('started\n');
    for (let i = 0; ; i++) await appendLedgerRecord(commonDir, rec(a, i));
  } else if (mode === 'torn') {
    const file = ledgerPath(commonDir);
    await acquireLock(`${file}.lock`, 'torn writer');
    const line = ledgerLine({ v: 1, id: newRecordId(), ...rec(a, 0, 0), logExcerpt: 'y'.repeat(200_000) });
    const fd = openSync(file, 'a');
    writeSync(fd, line.slice(0, Math.floor(line.length / 2)));
    process.kill(process.pid, 'SIGKILL');
  }
}

void main();
