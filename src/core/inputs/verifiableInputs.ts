// The verifiable inputs of an image: repo files that a COPY/ADD from the build context puts, byte
// for byte, into the final (or target) stage, with where they land. Their bytes can be read back
// from the image and compared with git's blobs. Pure: the analysis and a tree listing in, files out.
import * as posix from 'node:path/posix';
import type { InputVia } from '../types';
import type { VerifiableSources } from './imageInputs';

/** One file of a tree listing (`git ls-tree -r`). */
export interface TreeFile {
  path: string;
  /** Octal mode as git prints it: 100644, 100755, 120000 (symlink), 160000 (submodule). */
  mode: string;
  /** Blob id. */
  oid: string;
}

export interface VerifiableFile {
  /** Repo-relative path. */
  path: string;
  /** Absolute path in the image. */
  destination: string;
  /**
   * Where the file lands instead when `destination` turns out to be a directory in the image:
   * `ADD a.sh /usr/local/bin` copies into an existing directory (Docker decides at build time).
   */
  alternate: string | null;
  /** Its blob at the listed revision. */
  oid: string;
  via: InputVia;
  /** The COPY/ADD source it comes from: its literal prefix, and whether the source is literal (no wildcard). */
  source: { prefix: string; literal: boolean };
}

/**
 * Literal prefixes to list (`git ls-tree -r <rev> -- <prefixes>`), none inside another; `['']`
 * when a source copies the whole context.
 */
export function verifiablePrefixes(v: VerifiableSources): string[] {
  const all = [...new Set(v.sources.map((s) => s.listPrefix))].sort();
  if (all.includes('')) return all.length ? [''] : [];
  return all.filter((p) => !all.some((q) => q !== p && p.startsWith(q + '/')));
}

/**
 * The files of `tree` that the image holds as copied. A later write to the same destination wins
 * (another COPY of the context, or a `COPY --from`/`ADD <url>`, which makes it unverifiable).
 * Symlinks and submodules are left out: Docker follows a symlink given as a source, and a
 * submodule is no file of this repository.
 */
export function verifiableFiles(v: VerifiableSources, tree: TreeFile[]): VerifiableFile[] {
  const byDest = new Map<string, { file: VerifiableFile; order: number }>();
  for (const f of tree) {
    if (f.mode !== '100644' && f.mode !== '100755') continue;
    for (const s of v.sources) {
      const destination = s.destinationOf(f.path);
      if (destination === null || destination === '' || destination === '/') continue;
      const prev = byDest.get(destination);
      if (prev && prev.order > s.order) continue;
      // `ADD file /dir` without a slash: a file named /dir, or /dir/file if /dir exists in the image.
      const alternate = s.literal && s.listPrefix === f.path && !destination.endsWith('/' + posix.basename(f.path)) ? posix.join(destination, posix.basename(f.path)) : null;
      byDest.set(destination, { file: { path: f.path, destination, alternate, oid: f.oid, via: { ...s.via, destination }, source: { prefix: s.listPrefix, literal: s.literal } }, order: s.order });
    }
  }
  const out: VerifiableFile[] = [];
  for (const { file, order } of byDest.values()) {
    const overwritten = v.opaqueWrites.some((w) => w.order > order && (w.destination === file.destination || w.destination === file.alternate));
    if (!overwritten) out.push(file);
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.destination < b.destination ? -1 : 1));
}

/** One archive request: a directory or a file of the image, and the destinations it should yield. */
export interface ReadRequest {
  /** Absolute path to ask for. */
  path: string;
  directory: boolean;
  /** Destinations (and alternates) expected under it. */
  wanted: string[];
}

/**
 * How to read the files back with few requests. Each archive request costs the engine a process
 * start (about 50 ms on Engine 20.10), so a directory COPY is read with one request of its
 * destination, and files that land in one directory with one request of that directory. A lone
 * file is asked for alone. Nested requests fold into the outer one. The reader stops a directory
 * once it has what it wants, and gives up on one that is too big (then it asks file by file).
 */
export function planReads(files: VerifiableFile[]): ReadRequest[] {
  const reqs: ReadRequest[] = [];
  const byParent = new Map<string, VerifiableFile[]>();
  for (const f of files) {
    const root = copiedDirectoryRoot(f);
    if (root) {
      reqs.push({ path: root, directory: true, wanted: [f.destination] });
      continue;
    }
    const dir = posix.dirname(f.destination);
    const list = byParent.get(dir) ?? [];
    list.push(f);
    byParent.set(dir, list);
  }
  for (const [dir, list] of byParent) {
    if (list.length >= 2 && dir !== '/') {
      reqs.push({ path: dir, directory: true, wanted: list.flatMap((f) => (f.alternate ? [f.destination, f.alternate] : [f.destination])) });
    } else {
      // A lone file; when it may be a directory in the image (the alternate), that request shows it.
      for (const f of list) reqs.push({ path: f.destination, directory: false, wanted: f.alternate ? [f.destination, f.alternate] : [f.destination] });
    }
  }
  return foldNested(reqs);
}

/** The destination directory of a directory COPY that holds `f` (never `/`), or null. */
function copiedDirectoryRoot(f: VerifiableFile): string | null {
  const prefix = f.source.prefix;
  if (!f.source.literal || prefix === f.path) return null;
  const rel = prefix === '' ? f.path : f.path.slice(prefix.length + 1);
  if (!f.destination.endsWith('/' + rel)) return null;
  const root = f.destination.slice(0, f.destination.length - rel.length - 1);
  return root === '' || root === '/' ? null : root;
}

/** Requests inside another request's directory are dropped; their wanted paths join the outer one. */
function foldNested(reqs: ReadRequest[]): ReadRequest[] {
  const sorted = [...reqs].sort((a, b) => a.path.length - b.path.length || (a.path < b.path ? -1 : 1));
  const out: ReadRequest[] = [];
  for (const r of sorted) {
    const outer = out.find((o) => o.directory && (r.path === o.path || r.path.startsWith(o.path + '/')));
    if (outer) {
      for (const w of r.wanted) if (!outer.wanted.includes(w)) outer.wanted.push(w);
    } else {
      out.push({ ...r, wanted: [...r.wanted] });
    }
  }
  return out;
}
