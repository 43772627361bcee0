// The verdicts on an image's content: each verifiable file's bytes (as a blob id) against git's
// versions of it, and the commits all of them are consistent with. Pure: facts in, verdicts out.
// The versions come from one first-parent blob walk (git/blobHistory.ts): a version is the blob a
// path holds from the commit that wrote it up to the parent of the commit that replaced it.
import type { BlobChangeCommit, BlobWalk } from '../git/blobHistory';
import type { FileFact } from '../docker/archiveReader';
import type { VerifiableFile } from '../inputs/verifiableInputs';

export type Verdict = 'matches' | 'other-version' | 'no-version' | 'absent' | 'unreadable';
export type VerificationState = 'verified' | 'consistent' | 'contradicts-label' | 'unverifiable';

/** A range of HEAD's first-parent history: `oldest` and `newest` included. */
export interface CommitInterval {
  oldest: string;
  newest: string;
}

export interface FileVerdict {
  path: string;
  destination: string;
  verdict: Verdict;
  /** The git blob id of the bytes in the image; null when there are none to hash. */
  blob: string | null;
  /** The bytes are HEAD's version of the file. */
  matchesHead: boolean;
  /** For `other-version` (and `matches`, when known): the commits at which the file had these bytes; `replacedBy` wrote the next version (null: still HEAD's). */
  versionOf: (CommitInterval & { replacedBy: string | null }) | null;
  /** Why, for `unreadable` and `absent`. */
  reason: string | null;
}

/** One version of a path: its blob from walk index `intro` up to (not including) walk index `end`; end -1 is HEAD. */
export interface Version {
  blob: string;
  intro: number;
  end: number;
}

/** Every version of each walked path that the walk reached, newest first. */
export function fileVersions(walk: BlobChangeCommit[]): Map<string, Version[]> {
  const end = new Map<string, number>();
  const out = new Map<string, Version[]>();
  walk.forEach((c, i) => {
    for (const ch of c.changes) {
      if (ch.new !== null) {
        const list = out.get(ch.path) ?? [];
        list.push({ blob: ch.new, intro: i, end: end.get(ch.path) ?? -1 });
        out.set(ch.path, list);
      }
      end.set(ch.path, i);
    }
  });
  return out;
}

/** An interval in walk-index terms: commits from walk[intro] up to walk[end]'s parent (end -1: HEAD). Non-empty when intro > end. */
interface Span {
  intro: number;
  end: number;
}

/** The newest span in which every list has a member, or null. Each list holds one path's spans for its image blob. */
export function newestCommonSpan(lists: Span[][]): Span | null {
  if (lists.length === 0) return null;
  let acc: Span[] = lists[0].map((s) => ({ ...s }));
  for (const list of lists.slice(1)) {
    const next: Span[] = [];
    for (const a of acc) {
      for (const b of list) {
        const s = { intro: Math.min(a.intro, b.intro), end: Math.max(a.end, b.end) };
        if (s.intro > s.end) next.push(s);
      }
    }
    acc = next;
    if (acc.length === 0) return null;
  }
  return acc.reduce((best, s) => (s.end < best.end || (s.end === best.end && s.intro < best.intro) ? s : best));
}

export function spanInterval(walk: BlobChangeCommit[], s: Span, head: string): CommitInterval & { replacedBy: string | null } {
  const newest = s.end === -1 ? head : walk[s.end].parent;
  return { oldest: walk[s.intro].sha, newest: newest ?? walk[s.intro].sha, replacedBy: s.end === -1 ? null : walk[s.end].sha };
}

/** The blob a fact stands for (a directory at the destination means the alternate place). */
export function imageBlobOf(f: VerifiableFile, facts: Map<string, FileFact>): { fact: FileFact; blob: string | null } {
  let fact = facts.get(f.destination) ?? { kind: 'absent' as const };
  if (fact.kind === 'directory' && f.alternate) fact = facts.get(f.alternate) ?? { kind: 'absent' as const };
  return { fact, blob: fact.kind === 'file' ? fact.blob : null };
}

export interface ContentInputs {
  head: string;
  files: VerifiableFile[];
  /** Blob of each path at HEAD (absent: not in HEAD). */
  headOids: Map<string, string>;
  facts: Map<string, FileFact>;
  /** The blob walk, when one was needed. */
  walk: BlobWalk | null;
  /** Which image blobs are objects of this clone (a blob it lacks is no version of anything here). */
  present: Set<string>;
}

/**
 * A stop rule for the blob walk (fed the commits seen so far, newest first): the walk decides the
 * verdicts once every image blob that may be a version has had one found (the commit that wrote
 * it seen), and those versions have a commit in common. Incremental: each commit is looked at once.
 */
export function enoughFor(wanted: Map<string, string>): (commits: BlobChangeCommit[]) => boolean {
  const end = new Map<string, number>();
  const found = new Map<string, Span[]>();
  let seen = 0;
  let done = false;
  return (commits) => {
    if (done) return true; // older versions can only give older intervals
    let grew = false;
    for (; seen < commits.length; seen++) {
      for (const ch of commits[seen].changes) {
        if (ch.new !== null && wanted.get(ch.path) === ch.new) {
          const list = found.get(ch.path) ?? [];
          list.push({ intro: seen, end: end.get(ch.path) ?? -1 });
          found.set(ch.path, list);
          grew = true;
        }
        end.set(ch.path, seen);
      }
    }
    if (!grew || found.size < wanted.size) return false;
    done = newestCommonSpan([...found.values()]) !== null;
    return done;
  };
}

function unreadableReason(fact: FileFact): string | null {
  switch (fact.kind) {
    case 'symlink':
      return `the image has a symbolic link there (to ${fact.target})`;
    case 'directory':
      return 'the image has a directory there';
    case 'other':
      return `the image has ${fact.what} there`;
    default:
      return null;
  }
}

export interface ContentVerdicts {
  files: FileVerdict[];
  /** The newest interval every matching file fits (null: none, or the files disagree). */
  consistentWith: CommitInterval | null;
  /** Files disagree: no commit of HEAD's first-parent history holds all of them. */
  mixed: boolean;
}

/**
 * Verdicts against `against` (the label's commit, with that commit's blobs), or, with
 * `against` null, against the newest commit consistent with the bytes.
 */
export function judgeContent(i: ContentInputs, against: { sha: string; oids: Map<string, string> } | null): ContentVerdicts {
  const walk = i.walk?.commits ?? [];
  const versions = fileVersions(walk);
  const lists: Span[][] = [];
  const per = i.files.map((f) => {
    const { fact, blob } = imageBlobOf(f, i.facts);
    const mine = blob ? (versions.get(f.path) ?? []).filter((v) => v.blob === blob) : [];
    if (mine.length) lists.push(mine);
    return { f, fact, blob, mine };
  });
  const span = newestCommonSpan(lists);
  const consistentWith = span ? spanInterval(walk, span, i.head) : null;
  const files = per.map(({ f, fact, blob, mine }): FileVerdict => {
    const base = { path: f.path, destination: f.destination, blob, matchesHead: blob !== null && i.headOids.get(f.path) === blob };
    if (fact.kind === 'absent') return { ...base, verdict: 'absent', versionOf: null, reason: 'not in the image (a later step removed it, or the image was built before it was added)' };
    if (!blob) return { ...base, verdict: 'unreadable', versionOf: null, reason: unreadableReason(fact) };
    // The version that holds at the chosen interval, else the newest one with these bytes.
    const inSpan = span ? mine.find((v) => v.intro >= span.intro && v.end <= span.end) : undefined;
    const v = inSpan ?? mine[0];
    const versionOf = v ? spanInterval(walk, v, i.head) : null;
    const expected = against ? against.oids.get(f.path) : inSpan ? blob : undefined;
    if (expected === blob) return { ...base, verdict: 'matches', versionOf, reason: null };
    if (versionOf) return { ...base, verdict: 'other-version', versionOf, reason: null };
    return { ...base, verdict: 'no-version', versionOf: null, reason: null };
  });
  return { files, consistentWith: consistentWith && { oldest: consistentWith.oldest, newest: consistentWith.newest }, mixed: lists.length > 0 && !span };
}
