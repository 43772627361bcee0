// Human and JSON renderings of the archaeology answers: image history, contains, suspects, marks,
// and a text form of the timeline.
import type { CommitContainsAnswer } from '../core/archaeology/contains';
import type { ImageHistoryEntry, TargetHistory } from '../core/archaeology/imageHistory';
import type { LedgerRecord } from '../core/build/ledger';
import type { BuildSide, SuspectsResult } from '../core/archaeology/suspects';
import type { TimelineData } from '../core/archaeology/timeline';
import { formatDuration } from '../core/archaeology/timelineSvg';
import { ago, clean, type Style } from './format';
import { viaLocation } from '../core/humanize';

const img12 = (id: string | null) => (id ? id.replace(/^sha256:/, '').slice(0, 12) : '-');
const rev12 = (sha: string | null) => (sha ? sha.slice(0, 12) : '?');
const when = (iso: string) => `${iso.slice(0, 16).replace('T', ' ')} UTC`;

/** One image of `history --json`. */
export function imageEntryJson(e: ImageHistoryEntry) {
  return {
    imageId: e.imageId,
    tags: e.tags,
    created: e.created,
    endpoint: e.endpoint,
    present: e.present,
    revision: { ...e.revision, inferred: e.revision.source === 'inferred' },
    containers: e.containers,
    ledger: e.ledger,
    verdict: e.verdict,
    verdictFrom: e.verdictFrom,
  };
}

/** `history --json`: per target its images (newest first) and the builds whose image is gone. */
export function targetHistoryJson(h: TargetHistory) {
  return {
    target: h.target.name,
    image: h.target.image,
    docker: h.docker,
    images: h.images.map(imageEntryJson),
    gone: h.gone.map(imageEntryJson),
  };
}

function revisionWords(e: ImageHistoryEntry, st: Style): string {
  const r = e.revision;
  const dirty = r.dirty ? '-dirty' : '';
  switch (r.source) {
    case 'label':
      return `${rev12(r.sha)}${dirty} (label${r.known ? '' : ', not in this clone'})`;
    case 'ledger':
      return `${rev12(r.sha)}${dirty} (build ledger)`;
    case 'content':
      return `${rev12(r.sha)} (by content${r.consistentWith && r.consistentWith.oldest !== r.consistentWith.newest ? `, consistent with ${r.consistentWith.oldest.slice(0, 9)}..${r.consistentWith.newest.slice(0, 9)}` : ''})`;
    case 'inferred':
      return `${st.yellow(`~${rev12(r.sha)} INFERRED`)} (${r.confidence} confidence, not recorded)`;
    case 'none':
      return st.red(r.labelState === 'garbage' ? 'unknown (label is not a commit)' : 'unknown (unlabeled)');
  }
}

function ledgerWords(e: ImageHistoryEntry, st: Style): string {
  const parts: string[] = [];
  const b = e.ledger.builds[e.ledger.builds.length - 1];
  if (b) parts.push(`build ${b.result === 'success' ? st.green('ok') : b.result === 'cancelled' ? st.yellow('cancelled') : st.red('failed')} (${b.id})`);
  const s = e.ledger.smokes[e.ledger.smokes.length - 1];
  if (s) parts.push(`smoke ${s.result === 'passed' ? st.green('passed') : s.result === 'failed' ? st.red('FAILED') : st.yellow('cancelled')}`);
  const m = [...e.ledger.marks].reverse().find((x) => x.verdict);
  if (m) parts.push(`marked ${m.verdict === 'good' ? st.green('good') : st.red('bad')}`);
  const deploys = e.ledger.marks.filter((x) => !x.verdict).length;
  if (deploys) parts.push(`deployed ${deploys}×`);
  return parts.join(' · ');
}

function containerWords(e: ImageHistoryEntry, now: number): string {
  return e.containers
    .map((c) =>
      c.state === 'running'
        ? `${clean(c.name)} (running since ${ago(c.started, now)} ago)`
        : `${clean(c.name)} (${clean(c.state)}; ran ${when(c.started)}${c.finished ? ` for ${formatDuration((Date.parse(c.finished) - Date.parse(c.started)) / 1000)}` : ''})`,
    )
    .join(', ');
}

function imageLines(e: ImageHistoryEntry, st: Style, now: number): string[] {
  const tags = e.tags.length ? e.tags.map(clean).join(', ') : st.dim('untagged');
  const lines = [`  ${when(e.created)}  ${st.bold(img12(e.imageId))}  ${tags}${e.present ? '' : st.dim('  [image removed; build ledger]')}`];
  lines.push(`      revision   ${revisionWords(e, st)}`);
  if (e.revision.source !== 'label' || e.revision.dirty) for (const n of e.revision.notes) lines.push(st.dim(`                 ${clean(n)}`));
  if (e.containers.length) lines.push(`      containers ${containerWords(e, now)}`);
  const l = ledgerWords(e, st);
  if (l) lines.push(`      ledger     ${l}`);
  return lines;
}

export function formatImageHistory(list: TargetHistory[], records: number, st: Style, now = Date.now()): string {
  const out: string[] = [];
  for (const h of list) {
    out.push(`${st.bold(clean(h.target.name))} (${clean(h.target.image)}): ${h.images.length} local image(s), newest first`);
    if (!h.docker.reachable) out.push(st.red(`  Docker unreachable: ${clean(h.docker.reason ?? '')}`));
    for (const e of h.images) out.push(...imageLines(e, st, now));
    if (h.gone.length) {
      out.push(`  Built by provenance, image since removed:`);
      for (const e of h.gone) out.push(...imageLines(e, st, now));
    }
  }
  out.push(st.dim(`${records} build-ledger record(s): provenance history --ledger`));
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// contains

export function containsJson(a: CommitContainsAnswer) {
  return a;
}

export function formatContains(a: CommitContainsAnswer, st: Style): string {
  const c = a.commit;
  const lines = [`${st.bold(clean(a.target))}: commit ${rev12(c.sha)} ${clean(c.subject)} (${clean(c.author)}, ${when(c.date)})`];
  if (a.firstBuild) {
    const b = a.firstBuild;
    lines.push(`  first built  ${img12(b.imageId)}${b.tags.length ? ` (${b.tags.map(clean).join(', ')})` : ''} at ${when(b.builtAt)} — ${formatDuration(a.lag.toFirstBuildSeconds!)} after the commit`);
  } else {
    lines.push(`  first built  ${st.yellow('not yet')} — waiting ${formatDuration(a.lag.waitingSeconds ?? 0)}`);
  }
  if (a.firstBuildInferred) {
    const b = a.firstBuildInferred;
    lines.push(st.dim(`               maybe earlier: ${img12(b.imageId)} at ${when(b.builtAt)}, but its revision is only inferred (${b.confidence} confidence)`));
  }
  if (a.firstRun) {
    const r = a.firstRun;
    const what = r.kind === 'container' ? `container ${clean(r.name ?? '')}` : `smoke test ${r.ledgerId}`;
    lines.push(`  first ran    ${what} at ${when(r.startedAt)} — ${formatDuration(a.lag.toFirstRunSeconds!)} after the commit`);
  } else {
    lines.push(`  first ran    ${st.yellow('never')}${a.firstBuild ? '' : ''}`);
  }
  lines.push(
    a.running.length
      ? `  running now  ${st.green(a.running.map((r) => clean(r.name)).join(', '))}`
      : `  running now  ${st.yellow('in no running container')}`,
  );
  if (a.unknown) lines.push(st.dim(`  ${a.unknown} build(s) have no known revision and could not be judged (provenance history)`));
  for (const w of a.warnings) lines.push(st.yellow(`  ! ${clean(w)}`));
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// suspects / mark

function sideWords(s: BuildSide): string {
  const name = s.imageId ? `${img12(s.imageId)}${s.tags.length ? ` (${s.tags.map(clean).join(', ')})` : ''}` : 'commit';
  const verdict = s.verdict ? `, ${s.verdict}` : '';
  return `${name} @ ${rev12(s.revision)}${s.dirty ? '-dirty' : ''}${s.revisionSource === 'inferred' ? ' (inferred)' : ''}${verdict}`;
}

export function formatSuspects(r: SuspectsResult, st: Style): string {
  const lines = [
    `${st.bold(clean(r.target))}: suspects between`,
    `  good  ${st.green(sideWords(r.good))}`,
    `  bad   ${st.red(sideWords(r.bad))}`,
    `${r.suspects.length} of ${r.total} commit(s) in between change files baked into the image${r.suspects.length ? ':' : '.'}`,
  ];
  for (const s of r.suspects) {
    lines.push(`  ${st.bold(rev12(s.sha))} ${clean(s.subject)} — ${clean(s.author)}, ${when(s.date)}`);
    for (const f of s.files) {
      const via = f.via[0];
      lines.push(`      ${clean(f.path)}${via ? st.dim(`  ← ${clean(viaLocation(via))} ${clean(via.instruction)}`) : ''}`);
      for (const v of f.via.slice(1)) lines.push(st.dim(`      ${' '.repeat(f.path.length)}  ← ${clean(viaLocation(v))} ${clean(v.instruction)}`));
    }
  }
  for (const w of r.warnings) lines.push(st.yellow(`! ${clean(w)}`));
  return lines.join('\n');
}

export function markJson(target: string, rec: LedgerRecord) {
  return { target, ledgerId: rec.id, imageId: rec.imageId, tags: rec.tags, revision: rec.revision, verdict: rec.verdict ?? null, at: rec.endedAt };
}

export function formatMark(target: string, rec: LedgerRecord, st: Style): string {
  const v = rec.verdict === 'good' ? st.green('good') : st.red('bad');
  return `${st.bold(clean(target))}: marked ${img12(rec.imageId)}${rec.tags.length ? ` (${rec.tags.map(clean).join(', ')})` : ''} ${v}${rec.revision ? ` (revision ${rev12(rec.revision)})` : ''} — build ledger ${rec.id}`;
}

// ---------------------------------------------------------------------------------------------
// timeline (text)

export function formatTimelineText(d: TimelineData, st: Style): string {
  const lines = [`${st.bold(clean(d.target))}: ${d.commits.length} commit(s) changing image inputs, ${d.builds.length} build(s), ${d.runs.length} run(s)`];
  for (const c of [...d.commits].sort((a, b) => b.date.localeCompare(a.date))) {
    const lag = c.firstBuild
      ? `built +${formatDuration(c.lagBuildSeconds!)}${c.firstRun ? `, ran +${formatDuration(c.lagRunSeconds!)}` : ', never ran'}`
      : `not built, waiting ${formatDuration(c.waitingSeconds ?? 0)}`;
    lines.push(`  ${when(c.date)}  ${rev12(c.sha)}  ${(c.late ? st.red : (s: string) => s)(lag.padEnd(30))}  ${clean(c.subject)}`);
  }
  lines.push(st.dim('  provenance timeline --html FILE draws it.'));
  return lines.join('\n');
}
