// Verified provenance: the bytes baked into an image (or held by a running container) against
// git's blobs. One run verifies the built image and the running containers of a target together:
// one HEAD tree listing, the bytes of each image read once (from a running container of it when
// there is one, else from a container created for it and removed at once), and one blob walk.
// Image bytes never change: they are cached per image ID in the git dir, so a second look reads
// none. A container's own changes are found with `docker diff` and only those paths are read.
import { createHash } from 'node:crypto';
import * as posix from 'node:path/posix';
import type Dockerode from 'dockerode';
import { objectFormatOf } from '../blobId';
import {
  ArchiveReadError,
  containerChanges,
  readFiles,
  type FileFact,
} from '../docker/archiveReader';
import { coverPaths, listTree, presentObjects, startBlobWalk, type BlobChangeCommit, type BlobWalk, type BlobWalkHandle, type TreeEntry } from '../git/blobHistory';
import { EntryStore } from '../git/cacheFiles';
import { isAbortError } from '../git/exec';
import { resolveCommits, walkRange, type RepoInfo } from '../git/queries';
import type { ImageInputs } from '../inputs/imageInputs';
import { planReads, verifiablePrefixes, verifiableFiles, type VerifiableFile } from '../inputs/verifiableInputs';
import type { CommitSummary, DockerEndpoint, LabelRevision } from '../types';
import {
  enoughFor,
  imageBlobOf,
  judgeContent,
  type CommitInterval,
  type FileVerdict,
  type VerificationState,
} from './contentVerdicts';

export type { CommitInterval, FileVerdict, Verdict, VerificationState } from './contentVerdicts';

/** How many uncertain commits a verification carries with their files (all are counted). */
export const UNCERTAIN_LIMIT = 20;

export interface Verification {
  state: VerificationState;
  /** Why, when unverifiable (and what contradicts, for contradicts-label). */
  reason: string | null;
  /** Verifiable files compared. */
  checked: number;
  /** Files whose bytes are the blob of the revision they are judged against. */
  matched: number;
  /** The newest stretch of HEAD's first-parent history whose blobs are the bytes (null: not computed, or none). */
  consistentWith: CommitInterval | null;
  files: FileVerdict[];
  /** The revision the verdicts are taken against: the label's commit, or the newest consistent one. */
  against: string | null;
  /** Where the bytes were read: the image, or the running container itself. */
  source: 'image' | 'container';
  /**
   * For a content-derived revision: commits after `consistentWith.oldest` up to `newest` that change
   * inputs whose bytes cannot be read back (code built in another stage): maybe in the image, maybe not.
   */
  uncertain: { count: number; commits: CommitSummary[] } | null;
}

/** Something to verify: an image, or a container (whose own changes count). */
export interface VerifySubject {
  kind: 'image' | 'container';
  imageId: string;
  /** Containers: id, name, start time (a restart is a new look), running or not. */
  containerId?: string;
  name?: string;
  started?: string;
  /** The engine it lives on (any endpoint: local, tcp, ssh, a sandbox's inner daemon). */
  engine: DockerEndpoint | Dockerode;
  label: LabelRevision;
}

export interface VerifyContext {
  repo: RepoInfo;
  head: string;
  /** The analysis of HEAD's Dockerfile (asked for only when something must be verified afresh). */
  headInputs: () => ImageInputs;
  /** The analysis of the Dockerfile at a labelled commit (HEAD's when the same). */
  inputsAt: (sha: string) => Promise<ImageInputs>;
  /** The inputs' pathspecs, for the uncertain commits of a content-derived revision. */
  pathspecs: () => string[];
  signal?: AbortSignal;
  /** Read the bytes again, ignoring what is cached (`provenance verify`). */
  force?: boolean;
  /**
   * Names HEAD's Dockerfile, ignore file and the target's analysis options (an inputs-cache key):
   * with it, a subject verified before at this HEAD is answered from the cache before any git
   * process starts.
   */
  inputsKey?: string;
}

/** Verifies each subject. Never throws for Docker trouble (that is an `unverifiable` verification); throws AbortError on cancel. */
export async function verifySubjects(ctx: VerifyContext, subjects: VerifySubject[]): Promise<Verification[]> {
  return new VerificationRun(ctx, subjects).run();
}

/**
 * The caches, in the git dir's signed one-file-per-entry store (git/cacheFiles.ts): a planted or
 * foreign entry reads as missing, so a repository cannot ship a "verified" of its own.
 * `verify-bytes`: what an image (or a container's own changes) holds, per image ID; it never
 * changes. `verify-results`: the verdicts per image, HEAD and Dockerfile.
 */
const BYTES_LIMITS = { maxEntries: 128, maxBytes: 8 * 1024 * 1024 };
const RESULTS_LIMITS = { maxEntries: 128, maxBytes: 16 * 1024 * 1024 };

class VerifyCaches {
  private readonly bytes: EntryStore;
  private readonly results: EntryStore;
  constructor(repo: RepoInfo) {
    this.bytes = new EntryStore(repo, 'verify-bytes', BYTES_LIMITS);
    this.results = new EntryStore(repo, 'verify-results', RESULTS_LIMITS);
  }
  private static name(key: string): string {
    return createHash('sha1').update(key).digest('hex');
  }
  readBytes(key: string): FactRecord | null {
    const v = this.bytes.read(VerifyCaches.name(key));
    return isFactRecord(v) ? v : null;
  }
  writeBytes(key: string, record: FactRecord): void {
    this.bytes.write(VerifyCaches.name(key), record);
  }
  readResult<T>(key: string, valid: (v: unknown) => v is T): T | null {
    const v = this.results.read(VerifyCaches.name(key));
    return valid(v) ? v : null;
  }
  writeResult(key: string, value: unknown): void {
    this.results.write(VerifyCaches.name(key), value);
  }
}
const RESULT_VERSION = 1;

class VerificationRun {
  private readonly trees = new Map<string, Promise<TreeEntry[]>>();
  private readonly imageFacts = new Map<string, Promise<Map<string, FileFact>>>();
  private readonly changes = new Map<string, Promise<Map<string, 0 | 1 | 2> | null>>();
  private readonly format;
  private readonly caches: VerifyCaches;
  private readonly createdSlots = new Slots(2);

  constructor(
    private readonly ctx: VerifyContext,
    private readonly subjects: VerifySubject[],
  ) {
    this.format = objectFormatOf(ctx.head);
    this.caches = new VerifyCaches(ctx.repo);
  }

  private headTree(): Promise<TreeEntry[]> {
    return this.treeAt(this.ctx.head, verifiablePrefixes(this.ctx.headInputs().verifiable!));
  }

  /**
   * `ls-tree` of a commit, once per run: an image and its running container usually carry the
   * same label, and a commit's tree never changes.
   */
  private treeAt(rev: string, prefixes: string[]): Promise<TreeEntry[]> {
    const key = `${rev}\0${prefixes.join('\0')}`;
    let p = this.trees.get(key);
    if (!p) {
      p = listTree(this.ctx.repo.root, rev, prefixes, this.ctx.signal);
      p.catch(() => undefined);
      this.trees.set(key, p);
    }
    return p;
  }

  async run(): Promise<Verification[]> {
    // The same image (or container, with the same changes) at the same HEAD and Dockerfile: the
    // same verdicts. Only a container's changes are asked for.
    const known = await Promise.all(this.subjects.map((s) => this.remembered(s)));
    if (known.every((k) => k !== null)) return known.map((k) => k!.verification);
    const fresh = await this.verify(this.subjects.filter((_, k) => !known[k]));
    let next = 0;
    return this.subjects.map((s, k) => {
      if (known[k]) return known[k]!.verification;
      const v = fresh[next++];
      void this.remember(s, v);
      return v;
    });
  }

  private quickKey(s: VerifySubject): string {
    const label = s.label.kind === 'sha' ? s.label.sha : s.label.kind;
    return createHash('sha1').update(JSON.stringify([RESULT_VERSION, this.format, this.ctx.head, this.ctx.inputsKey, label, s.imageId, s.containerId ?? null, s.started ?? null])).digest('hex');
  }

  /** A verification made before for this subject, when nothing it depends on changed. */
  private async remembered(s: VerifySubject): Promise<{ verification: Verification } | null> {
    if (this.ctx.force || !this.ctx.inputsKey) return null;
    const entry = this.caches.readResult(`q:${this.quickKey(s)}`, isQuickEntry);
    if (!entry) return null;
    if (s.kind === 'container' && s.containerId) {
      let changes: Map<string, 0 | 1 | 2> | null;
      try {
        changes = await this.containerChangesFor(s);
      } catch (err) {
        if (isAbortError(err)) throw err;
        return null; // gone: the full path says so
      }
      const now = changedFiles(entry.verification.files.map(asFile), changes).map((f) => f.destination).sort();
      if (now.join('\0') !== entry.changed.join('\0')) return null;
    }
    return { verification: entry.verification };
  }

  private async remember(s: VerifySubject, v: Verification): Promise<void> {
    if (!this.ctx.inputsKey || (v.state === 'unverifiable' && v.checked === 0)) return; // a failed read is not remembered
    let changed: string[] = [];
    if (s.kind === 'container' && s.containerId) {
      try {
        changed = changedFiles(v.files.map(asFile), await this.containerChangesFor(s)).map((f) => f.destination).sort();
      } catch {
        return;
      }
    }
    this.caches.writeResult(`q:${this.quickKey(s)}`, { verification: v, changed });
  }

  private async verify(subjects: VerifySubject[]): Promise<Verification[]> {
    const { ctx } = this;
    if (subjects.length === 0) return [];
    if (!ctx.headInputs().verifiable) throw new Error('verifySubjects needs the analysis of one Dockerfile (not a union)');
    // HEAD's tree is needed in any case (HEAD's blobs): list it beside everything else.
    this.headTree().catch(() => undefined);
    // An image without a usable label needs the blob walk whatever its bytes are: it starts now,
    // beside the reads, and learns when it may stop once the bytes are in.
    const early = subjects.some((s) => s.label.kind !== 'sha') ? this.startEarlyWalk() : null;
    early?.catch(() => undefined);
    const shaLabels = subjects.map((s) => (s.label.kind === 'sha' ? s.label.sha : null));
    const labelsP = shaLabels.some((l) => l !== null) ? resolveCommits(ctx.repo.root, shaLabels.map((l) => l ?? 'HEAD'), ctx.signal) : Promise.resolve([]);
    labelsP.catch(() => undefined);
    const prepared = await Promise.all(
      subjects.map(async (s, k) => {
        const label = s.label.kind === 'sha' ? (await labelsP)[k] : null;
        if (s.label.kind === 'sha' && !label) return { s, skip: `The label names ${s.label.sha.slice(0, 12)}, a commit this clone does not have, so there is nothing to compare the bytes with.` };
        const files = await this.filesFor(label);
        const facts = await this.factsFor(s, files);
        return { s, label, files, facts };
      }).map((p) => p.catch((err: unknown) => (isAbortError(err) ? Promise.reject(err) : { skip: reasonOf(err) }))),
    );
    const headTree = await this.headTree();
    const headOids = new Map(headTree.map((e) => [e.path, e.oid]));

    const out: Verification[] = [];
    const pending: Array<{ k: number; files: VerifiableFile[]; facts: Map<string, FileFact>; label: string | null; labelOids: Map<string, string> | null; key: string }> = [];
    for (let k = 0; k < prepared.length; k++) {
      const p = prepared[k];
      const s = subjects[k];
      const source = s.kind === 'container' ? 'container' : 'image';
      if ('skip' in p && p.skip) {
        out[k] = unverifiable(p.skip, source);
        continue;
      }
      const { files, facts, label } = p as { files: { files: VerifiableFile[]; oids: Map<string, string> }; facts: Map<string, FileFact>; label: string | null };
      if (files.files.length === 0) {
        out[k] = unverifiable('The Dockerfile copies no file of the repository verbatim into the final stage, so there are no bytes to compare.', source);
        continue;
      }
      const key = resultKey(ctx, label, files.files, facts);
      const cached = ctx.force ? null : this.caches.readResult(key, isVerification);
      if (cached) {
        out[k] = { ...cached, source };
        continue;
      }
      pending.push({ k, files: files.files, facts, label, labelOids: label ? files.oids : null, key });
    }
    if (pending.length === 0) return out;

    // One blob walk serves every subject: it stops once all of them are decided. A labelled
    // image whose bytes are all the label's needs none.
    const wanted = pending.map((p) => {
      const blobs = new Map<string, string>();
      for (const f of p.files) {
        const b = imageBlobOf(f, p.facts).blob;
        if (b) blobs.set(f.path, b);
      }
      const allMatch = p.labelOids !== null && [...blobs].every(([path, b]) => p.labelOids!.get(path) === b);
      return allMatch ? null : blobs;
    });
    const present = await presentObjects(ctx.repo.root, wanted.flatMap((w) => (w ? [...w.values()] : [])), ctx.signal);
    const needs = wanted.map((w) => (w ? new Map([...w].filter(([, b]) => present.has(b))) : null));
    let walk: BlobWalk | null = null;
    const paths = new Set(pending.flatMap((p, i) => (needs[i] ? p.files.map((f) => f.path) : [])));
    const started = early ? await early.catch(() => null) : null;
    if (paths.size > 0) {
      const stops = needs.map((n) => (n && n.size > 0 ? enoughFor(n) : null));
      // Every stop rule sees every commit (they are incremental), then all must agree.
      const enough = (commits: BlobChangeCommit[]) => stops.map((st) => (st ? st(commits) : true)).every(Boolean);
      const covers = started && [...paths].every((p) => started.paths.has(p));
      if (started && !covers) started.cancel();
      const handle = covers ? started : startBlobWalk(ctx.repo.root, ctx.head, paths, coverPaths(paths), ctx.signal);
      handle.until(enough);
      walk = await handle.result;
    } else {
      started?.cancel();
    }

    await Promise.all(
      pending.map(async (p, i) => {
        const s = subjects[p.k];
        const source = s.kind === 'container' ? 'container' : 'image';
        const judged = judgeContent(
          { head: ctx.head, files: p.files, headOids, facts: p.facts, walk: needs[i] ? walk : null, present },
          p.label ? { sha: p.label, oids: p.labelOids! } : null,
        );
        const v = await this.conclude(judged, p.label, source);
        out[p.k] = v;
        this.caches.writeResult(p.key, { ...v, source: 'image' });
      }),
    );
    return out;
  }

  private async conclude(j: ReturnType<typeof judgeContent>, label: string | null, source: 'image' | 'container'): Promise<Verification> {
    const files = j.files;
    const matched = files.filter((f) => f.verdict === 'matches').length;
    const base = { checked: files.length, matched, files, source, uncertain: null };
    if (label) {
      const other = files.filter((f) => f.verdict === 'other-version');
      if (other.length > 0) {
        const what = other.slice(0, 3).map((f) => `${f.path} is ${describeVersion(f)}`).join('; ');
        return { ...base, state: 'contradicts-label', reason: `The bytes contradict the label ${label.slice(0, 12)}: ${what}${other.length > 3 ? ` (and ${other.length - 3} more)` : ''}.`, consistentWith: j.consistentWith, against: label };
      }
      if (matched === 0) {
        const reason = files.every((f) => f.verdict === 'absent')
          ? `None of the ${files.length} files the Dockerfile copies is in the image, so the label can be neither confirmed nor contradicted.`
          : 'No file of the image equals its version at the label, nor any committed version: the label can be neither confirmed nor contradicted.';
        return { ...base, state: 'unverifiable', reason, consistentWith: null, against: label };
      }
      return { ...base, state: 'verified', reason: null, consistentWith: j.consistentWith, against: label };
    }
    if (j.mixed) {
      return { ...base, state: 'unverifiable', reason: 'The files come from different commits: no commit of HEAD\'s first-parent history holds all of them (a build from a dirty work tree, or layers from different builds).', consistentWith: null, against: null };
    }
    if (!j.consistentWith) {
      const reason = files.every((f) => f.verdict === 'absent')
        ? `None of the ${files.length} files the Dockerfile copies is in the image: is it an image of this Dockerfile?`
        : 'No file of the image equals a committed version (later build steps, or uncommitted changes, made every one of them differ).';
      return { ...base, state: 'unverifiable', reason, consistentWith: null, against: null };
    }
    const uncertain = await this.uncertain(j.consistentWith);
    return { ...base, state: 'consistent', reason: null, consistentWith: j.consistentWith, against: j.consistentWith.newest, uncertain };
  }

  /** The blob walk of HEAD's verifiable paths, started before the bytes are read. */
  private async startEarlyWalk(): Promise<BlobWalkHandle> {
    const tree = await this.headTree();
    const paths = new Set(verifiableFiles(this.ctx.headInputs().verifiable!, tree).map((f) => f.path));
    return startBlobWalk(this.ctx.repo.root, this.ctx.head, paths, coverPaths(paths), this.ctx.signal);
  }

  /** Commits between the oldest and newest consistent commit that change inputs: the bytes cannot tell whether they are in. */
  private async uncertain(iv: CommitInterval): Promise<{ count: number; commits: CommitSummary[] }> {
    const pathspecs = this.ctx.pathspecs();
    if (iv.oldest === iv.newest || pathspecs.length === 0) return { count: 0, commits: [] };
    const { commits } = await walkRange(this.ctx.repo.root, { from: iv.oldest, to: iv.newest }, pathspecs, { withFiles: true, signal: this.ctx.signal });
    return { count: commits.length, commits: commits.slice(0, UNCERTAIN_LIMIT) };
  }

  /** The verifiable files at the label's commit (from its own Dockerfile), or at HEAD. */
  private async filesFor(label: string | null): Promise<{ files: VerifiableFile[]; oids: Map<string, string> }> {
    const { ctx } = this;
    let tree: TreeEntry[];
    let inputs = ctx.headInputs();
    if (label && label !== ctx.head) {
      inputs = await ctx.inputsAt(label);
      if (!inputs.verifiable) inputs = ctx.headInputs();
      tree = await this.treeAt(label, verifiablePrefixes(inputs.verifiable!));
    } else {
      tree = await this.headTree();
    }
    return { files: verifiableFiles(inputs.verifiable!, tree), oids: new Map(tree.map((e) => [e.path, e.oid])) };
  }

  /** What the subject holds at each destination of `files`. */
  private async factsFor(s: VerifySubject, vf: { files: VerifiableFile[] }): Promise<Map<string, FileFact>> {
    const image = await this.imageFactsFor(s.imageId, vf.files, s.engine);
    if (s.kind !== 'container' || !s.containerId) return image;
    const changed = await this.containerChangesFor(s);
    const mine = changedFiles(vf.files, changed);
    if (mine.length === 0) return image;
    const key = `container:${this.format}:${s.containerId}:${s.started ?? ''}`;
    const cached = this.ctx.force ? {} : (this.caches.readBytes(key) ?? {});
    const missing = mine.filter((f) => !wantedOf(f).every((w) => w in cached));
    const facts = new Map(image);
    for (const f of mine) for (const w of wantedOf(f)) if (w in cached) facts.set(w, decodeFact(cached[w]));
    if (missing.length > 0) {
      const read = await readFiles(s.engine, { kind: 'container', id: s.containerId, name: s.name }, planReads(missing), { signal: this.ctx.signal, format: this.format });
      const record = { ...cached };
      for (const [p, f] of read.facts) {
        facts.set(p, f);
        record[p] = encodeFact(f);
      }
      this.caches.writeBytes(key, record);
    }
    return facts;
  }

  private containerChangesFor(s: VerifySubject): Promise<Map<string, 0 | 1 | 2> | null> {
    let p = this.changes.get(s.containerId!);
    if (!p) {
      p = containerChanges(s.engine, s.containerId!, this.ctx.signal).catch((err: unknown) => {
        if (isAbortError(err)) throw err;
        if (err instanceof ArchiveReadError && err.code === 'gone') throw err;
        return null; // no `docker diff` here: read every file from the container itself
      });
      this.changes.set(s.containerId!, p);
    }
    return p;
  }

  /**
   * The image's bytes at the files' destinations: cached per image ID, else read once — from a
   * running container of the image where it did not change them, else from a created container.
   */
  private imageFactsFor(imageId: string, files: VerifiableFile[], engine: DockerEndpoint | Dockerode): Promise<Map<string, FileFact>> {
    const memoKey = `${imageId}\0${files.map((f) => f.destination).join('\0')}`;
    let p = this.imageFacts.get(memoKey);
    if (p) return p;
    p = (async () => {
      const key = `image:${this.format}:${imageId}`;
      const cached = this.ctx.force ? {} : (this.caches.readBytes(key) ?? {});
      const facts = new Map<string, FileFact>();
      const missing: VerifiableFile[] = [];
      for (const f of files) {
        if (wantedOf(f).every((w) => w in cached)) for (const w of wantedOf(f)) facts.set(w, decodeFact(cached[w]));
        else missing.push(f);
      }
      if (missing.length === 0) return facts;
      const record = { ...cached };
      const take = (read: Map<string, FileFact>) => {
        for (const [pth, f] of read) {
          facts.set(pth, f);
          record[pth] = encodeFact(f);
        }
      };
      let rest = missing;
      const viaContainer = this.subjects.find((s) => s.kind === 'container' && s.containerId && s.imageId === imageId);
      if (viaContainer) {
        try {
          const changed = await this.containerChangesFor(viaContainer);
          if (!changed) noteCreatedContainer(imageId, `the changes of ${viaContainer.name} are unknown`);
          if (changed) {
            const touched = new Set(changedFiles(missing, changed));
            const clean = missing.filter((f) => !touched.has(f));
            if (clean.length > 0) {
              const read = await readFiles(viaContainer.engine, { kind: 'container', id: viaContainer.containerId!, name: viaContainer.name }, planReads(clean), { signal: this.ctx.signal, format: this.format });
              take(read.facts);
              rest = missing.filter((f) => touched.has(f));
            }
          }
        } catch (err) {
          if (isAbortError(err)) throw err;
          // The container went away or cannot be read: the image itself is read below.
          noteCreatedContainer(imageId, `reading ${viaContainer.name} failed: ${reasonOf(err)}`);
        }
      }
      if (rest.length > 0) {
        // Two created containers at a time: the engine starts a process per request anyway.
        const read = await this.createdSlots.run(() => readFiles(engine, { kind: 'image', id: imageId }, planReads(rest), { signal: this.ctx.signal, format: this.format }));
        take(read.facts);
      }
      this.caches.writeBytes(key, record);
      return facts;
    })();
    this.imageFacts.set(memoKey, p);
    return p;
  }
}

const createdContainerNotes: string[] = [];
function noteCreatedContainer(imageId: string, why: string): void {
  createdContainerNotes.push(`${imageId.slice(7, 19)}: ${why}`);
  if (createdContainerNotes.length > 20) createdContainerNotes.shift();
}
/** Why images were read through a created container although one of theirs ran (tests say it on failure). */
export function createdContainerReasons(): readonly string[] {
  return createdContainerNotes;
}

/** At most `n` tasks at once. */
class Slots {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly n: number) {}
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.n) await new Promise<void>((r) => this.waiting.push(r));
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}

function wantedOf(f: VerifiableFile): string[] {
  return f.alternate ? [f.destination, f.alternate] : [f.destination];
}

/** Files whose destination a container changed (itself, or a directory above it added or deleted). `null` changes: all of them. */
function changedFiles(files: VerifiableFile[], changes: Map<string, 0 | 1 | 2> | null): VerifiableFile[] {
  if (changes === null) return files;
  if (changes.size === 0) return [];
  return files.filter((f) =>
    wantedOf(f).some((w) => {
      if (changes.has(w)) return true;
      for (let d = posix.dirname(w); d !== '/' && d !== '.'; d = posix.dirname(d)) {
        const k = changes.get(d);
        if (k === 1 || k === 2) return true;
      }
      return false;
    }),
  );
}

/** `desktop/x.sh → /usr/local/bin/x.sh: version of 280c63de8..b9b23692e^ (HEAD's is not running)` */
export function verdictWords(f: FileVerdict, against: string | null): string {
  const head = f.matchesHead ? " (HEAD's)" : '';
  switch (f.verdict) {
    case 'matches':
      return `matches${against ? ` ${against.slice(0, 9)}` : ''}${head}`;
    case 'other-version': {
      const v = f.versionOf!;
      const range = v.replacedBy ? `${v.oldest.slice(0, 9)}..${v.replacedBy.slice(0, 9)}^` : `${v.oldest.slice(0, 9)}..HEAD`;
      return `version of ${range}${f.matchesHead ? " (HEAD's)" : " (HEAD's is not running)"}`;
    }
    case 'no-version':
      return 'equals no committed version (changed by a later build step or in the container)';
    case 'absent':
      return 'not in the image';
    case 'unreadable':
      return `unreadable: ${f.reason ?? 'unknown reason'}`;
  }
}

/** Two or three words for a verification state, as the status bar tooltip and verify print them. */
export function verificationHeadline(v: Verification): string {
  switch (v.state) {
    case 'verified':
      return 'verified by content';
    case 'consistent':
      return 'revision derived from content';
    case 'contradicts-label':
      return 'label contradicts content';
    case 'unverifiable':
      return 'content not verified';
  }
}

/** What the deployed container (or image) holds of one repo file, for the line hover; null when the file is not verifiable. */
export function fileHoldingWords(v: Verification, path: string): { verdict: FileVerdict; words: string } | null {
  const f = v.files.find((x) => x.path === path);
  if (!f) return null;
  const range = (x: FileVerdict) => (x.versionOf ? `${x.versionOf.oldest.slice(0, 9)}..${x.versionOf.replacedBy ? `${x.versionOf.replacedBy.slice(0, 9)}^` : 'HEAD'}` : '');
  switch (f.verdict) {
    case 'matches':
    case 'other-version':
      if (f.matchesHead) return { verdict: f, words: "holds this file's committed version (HEAD's)" };
      return { verdict: f, words: f.versionOf ? `holds the version of ${range(f)}, not HEAD's` : "holds another version than HEAD's" };
    case 'no-version':
      return { verdict: f, words: 'holds bytes of this file that no commit has (changed by a later build step or in the container)' };
    case 'absent':
      return { verdict: f, words: 'does not hold this file' };
    case 'unreadable':
      return { verdict: f, words: `cannot be compared: ${f.reason ?? 'unreadable'}` };
  }
}

/** `the version of 280c63de8..b9b23692e^`, for a file whose bytes are another commit's. */
export function describeVersion(f: FileVerdict): string {
  if (!f.versionOf) return 'a version no commit has';
  const o = f.versionOf.oldest.slice(0, 9);
  return f.versionOf.replacedBy ? `the version of ${o}..${f.versionOf.replacedBy.slice(0, 9)}^` : `the version since ${o} (HEAD's)`;
}

/** A verification that could not be made, and why. */
export function unverifiable(reason: string, source: 'image' | 'container'): Verification {
  return { state: 'unverifiable', reason, checked: 0, matched: 0, consistentWith: null, files: [], against: null, source, uncertain: null };
}

function reasonOf(err: unknown): string {
  if (err instanceof ArchiveReadError) return err.message;
  return `Reading the image's files failed: ${err instanceof Error ? err.message : String(err)}`;
}

function resultKey(ctx: VerifyContext, label: string | null, files: VerifiableFile[], facts: Map<string, FileFact>): string {
  const h = createHash('sha1');
  h.update(JSON.stringify([RESULT_VERSION, ctx.head, label, ctx.pathspecs]));
  for (const f of files) {
    const { fact } = imageBlobOf(f, facts);
    h.update(`\0${f.path}\0${f.destination}\0${f.oid}\0${encodeFact(fact)}`);
  }
  return h.digest('hex');
}

// ------------------------------------------------------------------ cache encoding

type FactRecord = Record<string, string>;

function encodeFact(f: FileFact): string {
  switch (f.kind) {
    case 'file':
      return `f:${f.blob}:${f.size}:${f.mode}`;
    case 'symlink':
      return `l:${f.target}`;
    case 'directory':
      return 'd';
    case 'absent':
      return 'a';
    case 'other':
      return `o:${f.what}`;
  }
}

function decodeFact(s: string): FileFact {
  if (s.startsWith('f:')) {
    const [, blob, size, mode] = s.split(':');
    return { kind: 'file', blob, size: Number(size), mode: Number(mode) };
  }
  if (s.startsWith('l:')) return { kind: 'symlink', target: s.slice(2) };
  if (s === 'd') return { kind: 'directory' };
  if (s.startsWith('o:')) return { kind: 'other', what: s.slice(2) };
  return { kind: 'absent' };
}

function isFactRecord(v: unknown): v is FactRecord {
  return !!v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string' && /^(f:[0-9a-f]{40,64}:\d+:\d+|l:.*|d|a|o:.*)$/s.test(x));
}

/** A file verdict as the file it judges (for which destinations a container changed). */
function asFile(f: FileVerdict): VerifiableFile {
  return { path: f.path, destination: f.destination, alternate: null, oid: '', via: { dockerfile: '', line: 0, instruction: '', stage: '', destination: f.destination }, source: { prefix: f.path, literal: true } };
}

function isQuickEntry(v: unknown): v is { verification: Verification; changed: string[] } {
  const x = v as { verification: unknown; changed: unknown } | null;
  return !!x && isVerification(x.verification) && Array.isArray(x.changed) && x.changed.every((c) => typeof c === 'string');
}

function isVerification(v: unknown): v is Verification {
  const x = v as Verification | null;
  return !!x && typeof x.state === 'string' && Array.isArray(x.files) && typeof x.checked === 'number' && typeof x.matched === 'number';
}
