// What the editor says about an image input file and its marked lines: CodeLens titles, Explorer
// badges, end-of-line annotations, and how marked lines follow unsaved edits. Pure (no vscode),
// so unit tests read it directly. Untrusted text (paths, destinations) is cleaned here.
import type { DriftSnapshot } from './driftModel';
import { ago, clean, shortSha, viaLocation } from '../humanize';
import type { CommitSummary, InputVia } from '../types';

/** Undeployed commits that touch one file, from the snapshot's newest relevant commits. */
export interface FileUndeployed {
  /** Newest first. */
  commits: CommitSummary[];
  /** How many relevant commits the snapshot lists (it keeps only the newest few). */
  scanned: number;
  /** More relevant commits exist than the snapshot lists: older ones may touch the file too. */
  capped: boolean;
}

export function undeployedForFile(snap: DriftSnapshot, rel: string): FileUndeployed {
  const u = snap.undeployed;
  return {
    commits: u.relevant.filter((c) => c.files.includes(rel)),
    scanned: u.relevant.length,
    capped: u.relevantCount > u.relevant.length,
  };
}

/** "2 undeployed commits", "20+ undeployed commits" when the list was capped. */
export function undeployedCountText(u: FileUndeployed): string {
  const n = u.commits.length;
  if (n === 0) return u.capped ? `no undeployed commits among the newest ${u.scanned}` : 'no undeployed commits';
  return `${n}${u.capped ? '+' : ''} undeployed commit${n === 1 && !u.capped ? '' : 's'}`;
}

/**
 * Why lines of an input file cannot be compared with what runs (no deployed revision).
 * Shown instead of gutter marks, so an unmarked file is never mistaken for a deployed one.
 */
export function unmarkedReason(snap: DriftSnapshot | undefined): string {
  switch (snap?.state) {
    case undefined:
      return 'state not read yet';
    case 'docker-unreachable':
      return 'Docker unreachable';
    case 'unlabeled':
      return 'the image has no usable revision label';
    case 'unknown-revision':
      return 'the deployed revision is not in this clone';
    case 'no-image':
      return 'no image is built yet';
    default:
      return 'the deployed revision is unknown';
  }
}

/** CodeLens titles render `$(icon)`; a backslash keeps untrusted text literal. */
export function lensSafe(s: string): string {
  return clean(s).replace(/\$\(/g, '\\$(');
}

/** True for the pseudo-vias of the Dockerfile itself, its ignore file and configured includes. */
export function isSpecialVia(via: InputVia): boolean {
  return via.line === null;
}

/**
 * The CodeLens title for one way a file goes into a target, e.g.
 * `Baked into helix-ubuntu → /usr/local/bin/detect-render-node.sh (Dockerfile.ubuntu-helix:998) · 2 undeployed commits`.
 */
export function bakedIntoTitle(target: string, via: InputVia, tail: string): string {
  const t = lensSafe(target);
  const where = lensSafe(viaLocation(via));
  let head: string;
  if (via.instruction === '(ignore file)') head = `Decides what goes into ${t} (ignore file of ${lensSafe(via.dockerfile)})`;
  else if (isSpecialVia(via)) head = `Input of ${t} ${lensSafe(via.instruction)}`;
  else {
    const verb = /^RUN\b/i.test(via.instruction) ? 'Mounted into' : 'Baked into';
    const stage = via.stage && !/^\d+$/.test(via.stage) ? ` in stage ${lensSafe(via.stage)}` : '';
    head = `${verb} ${t} → ${lensSafe(via.destination)}${stage} (${where})`;
  }
  return tail ? `${head} · ${tail}` : head;
}

/** The tail of the lens: how far what runs is behind for this file, or why that is unknown. */
export function lensTail(u: FileUndeployed | null, uncommitted: boolean, unmarked: string | null): string {
  const parts: string[] = [];
  if (u) parts.push(undeployedCountText(u));
  if (uncommitted) parts.push('uncommitted changes');
  if (unmarked) parts.push(`lines not marked: ${unmarked}`);
  return parts.join(' · ');
}

export interface BadgeEntry {
  target: string;
  undeployed: FileUndeployed;
  uncommitted: boolean;
}

export interface Badge {
  /** At most 2 characters. */
  badge: string;
  tooltip: string;
  /** Which colour: committed-not-deployed wins over uncommitted. */
  kind: 'undeployed' | 'uncommitted';
}

/** The Explorer badge of an input file: the undeployed-commit count, or ↑ for uncommitted only. */
export function explorerBadge(entries: BadgeEntry[]): Badge | null {
  const relevant = entries.filter((e) => e.undeployed.commits.length > 0 || e.uncommitted);
  if (relevant.length === 0) return null;
  let best: FileUndeployed | null = null;
  for (const e of relevant) if (!best || e.undeployed.commits.length > best.commits.length) best = e.undeployed;
  const n = best?.commits.length ?? 0;
  const tooltip = relevant
    .map((e) => {
      const what = [e.undeployed.commits.length > 0 ? undeployedCountText(e.undeployed) : '', e.uncommitted ? 'uncommitted changes' : ''].filter(Boolean).join(' + ');
      return `${what} · baked into ${clean(e.target)}`;
    })
    .join('; ');
  if (n === 0) return { badge: '↑', tooltip, kind: 'uncommitted' };
  const badge = n > 9 ? '9+' : best!.capped ? `${n}+` : String(n);
  return { badge, tooltip, kind: 'undeployed' };
}

/** Whether a commit is in the newest image and in what runs; null when that cannot be told. */
export interface LineVerdict {
  built: boolean | null;
  running: boolean | null;
}

export function verdictText(v: LineVerdict): string {
  if (v.running === true) return 'running';
  if (v.built === true) return v.running === false ? 'built, not running' : 'built';
  if (v.built === false) return 'not built';
  return 'not deployed';
}

/** The end-of-line annotation, e.g. `abc12345 · not built · waiting 31h`. */
export function annotationText(line: { uncommitted: true } | { uncommitted: false; sha: string; date: string | null; verdict: LineVerdict }, now = Date.now()): string {
  if (line.uncommitted) return 'uncommitted · not in any image';
  const parts = [shortSha(line.sha), verdictText(line.verdict)];
  if (line.verdict.running !== true && line.date) parts.push(`waiting ${ago(line.date, now)}`);
  return parts.join(' · ');
}

// ---------------------------------------------------------------------------------------------
// Marked lines that follow unsaved edits (no git: they move as the editor moves its decorations)

/** A marked line: where it is in the editor now, and which line of the saved file it was. */
export interface TrackedLine {
  /** 1-based line in the editor now. */
  line: number;
  /** 1-based line in the file on disk when the marks were computed (for blame). */
  disk: number;
}

/** One text change, 0-based, as `TextDocumentContentChangeEvent` reports it. */
export interface LineEdit {
  start: { line: number; character: number };
  end: { line: number; character: number };
  /** Line breaks in the inserted text. */
  insertedLines: number;
}

/**
 * Where marked lines are after an edit, like a whole-line decoration whose range covers the line
 * and does not grow at its edges: edits before a line move it, edits after its start leave it,
 * and a line swallowed by a deletion collapses onto the edit's start. Duplicates are dropped.
 */
export function shiftLines(lines: readonly TrackedLine[], e: LineEdit): TrackedLine[] {
  const delta = e.insertedLines - (e.end.line - e.start.line);
  const out: TrackedLine[] = [];
  const seen = new Set<number>();
  for (const l of lines) {
    const z = l.line - 1;
    let nz: number;
    if (e.end.line < z || (e.end.line === z && e.end.character === 0)) nz = z + delta;
    else if (e.start.line > z || (e.start.line === z && e.start.character > 0)) nz = z;
    else nz = e.start.line;
    if (seen.has(nz)) continue;
    seen.add(nz);
    out.push({ line: nz + 1, disk: l.disk });
  }
  return out.sort((a, b) => a.line - b.line);
}
