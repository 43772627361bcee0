// `provenance history | contains | suspects | mark | timeline`: image archaeology over the core's
// image history (src/core/archaeology/imageHistory.ts), rendered for the terminal or as JSON.
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { readHistory } from '../core/build/engine';
import { commitContains } from '../core/archaeology/contains';
import { loadTargetHistory, type TargetHistory } from '../core/archaeology/imageHistory';
import { readLedger, type Verdict } from '../core/build/ledger';
import { ProvenanceError, type Workspace } from '../core/status/workspace';
import { readHeadReflog } from '../core/git/reflog';
import { computeSuspects, markBuild } from '../core/archaeology/suspects';
import { computeTimeline } from '../core/archaeology/timeline';
import { renderTimelineHtml } from '../core/archaeology/timelineSvg';
import {
  formatContains,
  formatImageHistory,
  formatMark,
  formatSuspects,
  formatTimelineText,
  markJson,
  targetHistoryJson,
} from './archaeologyFormat';
import { formatHistory, historyJson, type Style } from './format';

interface CommandContext {
  ws: Workspace;
  io: { out: (s: string) => void; err: (s: string) => void };
  style: Style;
  json: boolean;
  signal: AbortSignal;
  cwd: string;
}

/** Histories of the selected targets, reading the ledger and the reflog once. */
async function histories(c: CommandContext): Promise<{ list: TargetHistory[]; records: number }> {
  const [ledger, reflog] = await Promise.all([readLedger(c.ws.repo.commonDir), readHeadReflog(c.ws.repo.gitDir)]);
  for (const w of ledger.warnings) c.io.err(`warning: ${w}`);
  const list = await Promise.all(c.ws.targets.map((t) => loadTargetHistory(c.ws, t, { ledger, reflog, signal: c.signal })));
  for (const h of list) for (const w of h.warnings) c.io.err(`warning: ${h.target.name}: ${w}`);
  return { list, records: ledger.records.length };
}

/** `command` needs exactly one target; the hint's example repeats the arguments as given. */
function oneTarget(c: CommandContext, command: string, args: string[] = []): void {
  if (c.ws.targets.length !== 1) {
    throw new ProvenanceError(
      `${command} works on one target; this repository has ${c.ws.targets.length} (${c.ws.targets.map((t) => t.name).join(', ')}).`,
      `Choose one with --target, e.g. provenance ${[command, ...args].join(' ')} --target ${c.ws.targets[0]?.name ?? 'NAME'}.`,
      'usage',
    );
  }
}

/** `history`: every local image per target; `history --ledger`: the build ledger's records. */
export async function historyCommand(c: CommandContext, opts: { ledger: boolean; target?: string }): Promise<number> {
  if (opts.ledger) {
    const h = await readHistory(c.ws, { target: opts.target, signal: c.signal });
    for (const w of h.warnings) c.io.err(`warning: ${w}`);
    c.io.out(c.json ? JSON.stringify(h.entries.map(historyJson), null, 2) : formatHistory(h.entries, c.style));
    return 0;
  }
  const { list, records } = await histories(c);
  const ledger = await readHistory(c.ws, { target: opts.target, signal: c.signal }).catch(() => null);
  if (c.json) {
    c.io.out(JSON.stringify({ targets: list.map(targetHistoryJson), ledger: ledger ? ledger.entries.map(historyJson) : [] }, null, 2));
  } else {
    c.io.out(formatImageHistory(list, records, c.style));
  }
  return 0;
}

export async function containsCommand(c: CommandContext, commit: string): Promise<number> {
  const { list } = await histories(c);
  const answers = await Promise.all(list.map((h) => commitContains(c.ws, h, commit, { signal: c.signal })));
  if (c.json) c.io.out(JSON.stringify(answers.length === 1 ? answers[0] : answers, null, 2));
  else c.io.out(answers.map((a) => formatContains(a, c.style)).join('\n\n'));
  return 0;
}

export async function suspectsCommand(c: CommandContext, args: string[]): Promise<number> {
  oneTarget(c, 'suspects', args);
  const { list } = await histories(c);
  const r = await computeSuspects(c.ws, list[0], { good: args[0], bad: args[1] }, { signal: c.signal });
  if (c.json) c.io.out(JSON.stringify(r, null, 2));
  else c.io.out(formatSuspects(r, c.style));
  return 0;
}

export async function markCommand(c: CommandContext, ref: string, verdict: string): Promise<number> {
  if (verdict !== 'good' && verdict !== 'bad') {
    throw new ProvenanceError(`The verdict must be "good" or "bad", not "${verdict}".`, 'provenance mark <image|ledger-id|commit> good|bad', 'usage');
  }
  oneTarget(c, 'mark', [ref, verdict]);
  const { list } = await histories(c);
  const r = await markBuild(c.ws, list[0], ref, verdict as Verdict, c.signal);
  for (const w of r.warnings) c.io.err(`warning: ${w}`);
  c.io.out(c.json ? JSON.stringify(markJson(list[0].target.name, r.record), null, 2) : formatMark(list[0].target.name, r.record, c.style));
  return 0;
}

/** `file` if it can be written as an output file: its folder exists and it is not a folder itself. */
function writableFile(file: string, flag: string): string {
  const problem = (() => {
    try {
      if (statSync(file).isDirectory()) return 'it is a folder';
    } catch {
      /* a new file: its folder must exist */
    }
    try {
      if (!statSync(path.dirname(file)).isDirectory()) return `${path.dirname(file)} is not a folder`;
    } catch {
      return `the folder ${path.dirname(file)} does not exist`;
    }
    return null;
  })();
  if (problem) throw new ProvenanceError(`Cannot write ${flag} ${file}: ${problem}.`, `Give ${flag} a file path in an existing folder, e.g. ${flag} timeline.html.`, 'usage');
  return file;
}

export async function timelineCommand(c: CommandContext, opts: { html?: string; thresholdHours?: string }): Promise<number> {
  oneTarget(c, 'timeline');
  const threshold = opts.thresholdHours === undefined ? 4 : Number(opts.thresholdHours);
  if (!Number.isFinite(threshold) || threshold < 0) {
    throw new ProvenanceError(`--threshold-hours must be a number of hours ≥ 0, not "${opts.thresholdHours}".`, 'e.g. --threshold-hours 4', 'usage');
  }
  const file = opts.html ? writableFile(path.resolve(c.cwd, opts.html), '--html') : null;
  const { list } = await histories(c);
  const data = await computeTimeline(c.ws, list[0], { thresholdHours: threshold, signal: c.signal });
  for (const w of data.warnings) c.io.err(`warning: ${w}`);
  if (file) {
    const html = renderTimelineHtml(data, { nonce: randomBytes(16).toString('base64'), utcOffsetMinutes: -new Date().getTimezoneOffset() });
    try {
      await writeFile(file, html);
    } catch (err) {
      throw new ProvenanceError(`Cannot write ${file}: ${(err as Error).message.replace(/^[A-Z]+: /, '')}.`, 'Give --html a file in a folder you can write to.', 'usage');
    }
    if (!c.json) c.io.out(`Wrote ${file} (${data.commits.length} commit(s), ${data.builds.length} build(s), ${data.runs.length} run(s)).`);
  }
  if (c.json) c.io.out(JSON.stringify(data, null, 2));
  else if (!opts.html) c.io.out(formatTimelineText(data, c.style));
  return 0;
}
