// Which repo files go into an image: the Dockerfile, its ignore file, and every context path that a
// COPY/ADD/RUN --mount of a stage reachable from the target bakes in. Pure: text in, analysis out.
// The same analysis answers per-path questions (affects) and yields git pathspecs that select
// exactly those paths, so `git log A..B -- <pathspecs>` lists only commits that change the image.

import * as posix from 'node:path/posix';
import type { AffectsResult, DockerfileProblem, ExternalInput, InputVia } from '../types';
import { ContextIgnore, IgnoreFileError, patternRegions } from './dockerignore';
import { expandWord, ExpansionDepthError, lexDockerfile, MAX_DOCKERFILE_BYTES, MAX_EXPANSION_DEPTH, parseCsvFlag, parseFlags, splitWords, type RawInstruction } from './dockerfileSyntax';
import {
  compileExact,
  compileRegion,
  gitGlobBody,
  isLiteral,
  literalPath,
  literalPrefix,
  litSegs,
  mayOverlap,
  minusLiterals,
  parseGlob,
  regionPathspecs,
  restrictToDir,
  type Seg,
} from './pathGlob';

export interface AnalyzeOptions {
  /** Repo-relative POSIX path of the Dockerfile, e.g. 'Dockerfile.ubuntu-helix' or 'docker/app.Dockerfile'. */
  dockerfile: string;
  /** Repo-relative POSIX path of the build context dir; '' or '.' = repo root. */
  context: string;
  dockerfileText: string;
  /** Repo-relative path of the effective ignore file (null = none). */
  ignoreFile: string | null;
  ignoreText: string | null;
  buildArgs?: Record<string, string>;
  /** Build target stage; default = last stage. */
  targetStage?: string;
  /** Extra repo-relative globs that count as inputs. */
  include?: string[];
  /** Extra repo-relative globs that never count (the Dockerfile and ignore file still do). */
  exclude?: string[];
}

export interface ImageInputs {
  dockerfile: string;
  context: string;
  ignoreFile: string | null;
  external: ExternalInput[];
  problems: DockerfileProblem[];
  /**
   * Git pathspecs relative to the repo root, as argv elements. Exact, except where
   * `pathspecsSuperset` says otherwise.
   */
  pathspecs: string[];
  /** Why `pathspecs` may select more than `affects()` (empty or absent = exact). */
  pathspecsSuperset?: string[];
  affects(path: string): AffectsResult;
  /**
   * What the target stage holds verbatim from the build context, for reading it back from the
   * image (see inputs/verifiableInputs.ts). Absent on inputs united over two revisions.
   */
  verifiable?: VerifiableSources;
}

/** One COPY/ADD source of the target stage (or a stage it is built FROM) that copies context files byte for byte. */
export interface VerifiableSource {
  via: Omit<InputVia, 'destination'>;
  /** Repo-relative literal directory (or file) under which every file it copies lies; '' = the whole tree. */
  listPrefix: string;
  /** A literal source (one file or one directory), as opposed to a wildcard. */
  literal: boolean;
  /** The destination a repo file gets from this source, or null when it does not copy that file. */
  destinationOf(path: string): string | null;
  /** Position among the writes of the final image's filesystem: a later write to the same destination wins. */
  order: number;
}

export interface VerifiableSources {
  sources: VerifiableSource[];
  /**
   * Destinations written by a later instruction whose bytes do not come from the context
   * (`COPY --from`, `ADD <url>`), with their position: a verifiable file written there before is
   * not what the image holds.
   */
  opaqueWrites: Array<{ destination: string; order: number }>;
  /** Instructions of those stages whose bytes cannot be compared, and why. */
  skipped: Array<{ line: number; instruction: string; reason: string }>;
}

/**
 * The JS judgement that must narrow what `inputs.pathspecs` select, or undefined when they are
 * exact: pass it as `keep` to the git queries (walkRange, logRange, worktreeChanges).
 */
export function pathspecFilter(inputs: ImageInputs): ((path: string) => boolean) | undefined {
  if (!inputs.pathspecsSuperset?.length) return undefined;
  return (p) => inputs.affects(p).affects;
}

/** A Dockerfile that cannot be analysed at all. */
export class DockerfileError extends Error {
  override name = 'DockerfileError';
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------- model

interface Region {
  segs: Seg[];
}
/** A region an exclusion must not remove; `file` for the Dockerfile and ignore file (no descendants). */
interface Keep {
  segs: Seg[];
  file?: boolean;
}
interface Exclusion {
  segs: Seg[];
  /** What this exclusion must not remove (exceptions, other sources, the Dockerfile, ...). */
  keeps: Keep[];
  what: string;
}
/** What pathspecs are computed from; kept so unionInputs can recompute them. */
interface PathspecModel {
  positives: Region[];
  exclusions: Exclusion[];
}
const models = new WeakMap<ImageInputs, PathspecModel>();

interface SourceEntry {
  repoSegs: Seg[];
  region: (p: string) => boolean;
  exact: (p: string) => boolean;
  excludes: Array<(p: string) => boolean>;
  via: Omit<InputVia, 'destination'>;
  dest: string;
  destIsDir: boolean;
  parents: boolean;
  /** A RUN --mount source: read during the build, never copied into the image. */
  mount: boolean;
  /** Source pattern is literal (one file or directory). */
  literal: boolean;
  /** An ADD of a local archive, which Docker extracts instead of copying. */
  archive: boolean;
  order: number;
}

interface Stage {
  index: number;
  name?: string;
  /** The stage this one is built FROM, when it is a stage of this Dockerfile. */
  base?: number;
  /** Writes of this stage whose bytes come from elsewhere (`destination` null: a directory or wildcard, place unknown). */
  opaqueWrites: Array<{ destination: string | null; order: number; line: number; instruction: string; reason: string }>;
  /** 1-based line of its FROM. */
  line: number;
  deps: Set<number>;
  env: Map<string, string>;
  args: Map<string, string | undefined>;
  workdir: string;
  entries: SourceEntry[];
  external: ExternalInput[];
  problems: DockerfileProblem[];
  pendingExclusions: Array<{ entry: SourceEntry; segs: Seg[]; what: string }>;
}

const KEYWORDS = new Set([
  'ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK', 'LABEL',
  'MAINTAINER', 'ONBUILD', 'RUN', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR',
]);

/** Automatic platform ARGs (https://docs.docker.com/reference/dockerfile/#automatic-platform-args-in-the-global-scope). */
const PLATFORM_ARGS: Record<string, string> = {
  TARGETPLATFORM: 'linux/amd64', TARGETOS: 'linux', TARGETARCH: 'amd64', TARGETVARIANT: '',
  BUILDPLATFORM: 'linux/amd64', BUILDOS: 'linux', BUILDARCH: 'amd64', BUILDVARIANT: '',
};

function normRepoPath(p: string): string {
  if (p === '' || p === '.') return '';
  return posix.normalize(p).replace(/^\.\//, '').replace(/\/+$/, '').replace(/^\/+/, '');
}

function clip(s: string): string {
  return s.length > 200 ? s.slice(0, 199) + '…' : s;
}

/** Context-relative, cleaned form of a COPY source / mount source; null if it leaves the context. */
function cleanContextPath(src: string): string | null {
  const n = posix.normalize(src.replace(/^\/+/, '') || '.');
  if (n === '..' || n.startsWith('../')) return null;
  return n === '.' || n === './' ? '' : n.replace(/\/+$/, '');
}

/**
 * Names Docker's ADD may extract rather than copy: it decompresses gzip/bzip2/xz and extracts
 * tar archives, deciding by content. A name like these is left out of verification.
 */
const ARCHIVE_NAME = /\.(?:tar|tgz|tbz2?|txz|tzst|gz|bz2|xz|zst|lz4|lzma)$/i;

function isRemote(src: string): boolean {
  return /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(src) || /^git@/.test(src);
}

// ---------------------------------------------------------------- analysis

export function analyzeImageInputs(opts: AnalyzeOptions): ImageInputs {
  const dockerfile = normRepoPath(opts.dockerfile);
  const context = normRepoPath(opts.context);
  const ignoreFile = opts.ignoreFile === null ? null : normRepoPath(opts.ignoreFile);
  const ctxSegs = litSegs(context);
  const buildArgs = opts.buildArgs ?? {};
  const bytes = Buffer.byteLength(opts.dockerfileText, 'utf8');
  if (bytes > MAX_DOCKERFILE_BYTES) {
    throw new DockerfileError(
      `${dockerfile}: the file is ${(bytes / (1 << 20)).toFixed(1)} MiB, larger than the 1 MiB provenance reads of a Dockerfile. Point the configuration at the real Dockerfile.`,
      1,
    );
  }
  const lexed = lexDockerfile(opts.dockerfileText);
  const esc = lexed.escape;
  if (lexed.instructions.length === 0) {
    throw new DockerfileError(`${dockerfile} is empty (no instructions). Add a FROM line, or point the configuration at the right Dockerfile.`);
  }

  const globalProblems: DockerfileProblem[] = [];
  const globalArgs = new Map<string, string | undefined>(Object.entries(PLATFORM_ARGS));
  const stages: Stage[] = [];
  let cur: Stage | undefined;
  /** Position of each write into a stage's filesystem (COPY/ADD sources), in Dockerfile order. */
  let writeOrder = 0;

  const lookupIn = (st: Stage | undefined) => (name: string) =>
    st ? (st.env.get(name) ?? st.args.get(name)) : globalArgs.get(name);
  const expand = (word: string, ins: RawInstruction, problems: DockerfileProblem[], quotes = true, report = true) => {
    try {
      return expandWord(word, lookupIn(cur), {
        escape: esc,
        quotes,
        onUndefined: report
          ? (name) => problems.push({ line: ins.line, message: `\${${name}} is not defined at this point (no ARG/ENV value and no --build-arg); it expands to ''. Declare it with ARG ${name} in this stage or pass a build arg.` })
          : undefined,
        onUnsupported: (expr) => problems.push({ line: ins.line, message: `Cannot expand ${expr}; only $VAR, \${VAR}, \${VAR:-default} and \${VAR:+alt} are understood. It expands to ''.` }),
      });
    } catch (err) {
      if (!(err instanceof ExpansionDepthError)) throw err;
      throw new DockerfileError(
        `${dockerfile}:${ins.line}: variable expansion nested deeper than ${MAX_EXPANSION_DEPTH} levels (\${A:-\${B:-…}}); provenance expands no deeper. Flatten the expression.`,
        ins.line,
      );
    }
  };

  const findStage = (ref: string, before: number): Stage | undefined => {
    const lower = ref.toLowerCase();
    const byName = stages.find((s) => s.index < before && s.name === lower);
    if (byName) return byName;
    if (/^\d+$/.test(ref)) {
      const n = Number(ref);
      if (n < before) return stages[n];
    }
    return undefined;
  };

  for (const ins of lexed.instructions) {
    const open = ins.heredocs.find((h) => !h.terminated);
    if (open) {
      throw new DockerfileError(
        `${dockerfile}:${ins.line}: the heredoc <<${open.name} is never closed (no line "${open.name}" after it), so the rest of the file would be its text. Add a line "${open.name}" where it ends.`,
        ins.line,
      );
    }
    if (!KEYWORDS.has(ins.keyword)) {
      throw new DockerfileError(`${dockerfile}:${ins.line}: unknown instruction '${ins.text.split(' ')[0]}'. Fix the Dockerfile (is a line continuation '${esc}' missing on the previous line?).`, ins.line);
    }
    if (ins.keyword === 'FROM') {
      const { rest } = parseFlags(ins.args, esc);
      const words = splitWords(rest, esc);
      const problems = cur ? cur.problems : globalProblems;
      const saved = cur;
      cur = undefined; // FROM sees only global ARGs
      const image = words[0] ? expand(words[0].raw, ins, problems) : '';
      cur = saved;
      let name: string | undefined;
      if (words.length >= 3 && words[1].raw.toLowerCase() === 'as') name = words[2].raw.toLowerCase();
      else if (words.length !== 1) {
        problems.push({ line: ins.line, message: `FROM should be 'FROM <image> [AS <name>]'; got '${clip(ins.text)}'.` });
      }
      if (!image) throw new DockerfileError(`${dockerfile}:${ins.line}: FROM has no image. Write 'FROM <image>' (check that the ARG used in it has a default).`, ins.line);
      const twin = name === undefined ? undefined : stages.find((s) => s.name === name);
      if (twin) {
        throw new DockerfileError(
          `${dockerfile}:${ins.line}: the stage name "${name}" is already used by the stage on line ${twin.line}; Docker refuses duplicate stage names. Rename one of them.`,
          ins.line,
        );
      }
      const st: Stage = {
        index: stages.length, name, line: ins.line, deps: new Set(), env: new Map(), args: new Map(), workdir: '/',
        entries: [], external: [], problems: [], pendingExclusions: [], opaqueWrites: [],
      };
      const base = findStage(image, st.index);
      if (base && !/^\d+$/.test(image)) {
        st.deps.add(base.index);
        st.base = base.index;
        st.env = new Map(base.env);
        st.workdir = base.workdir;
      } else if (image.toLowerCase() !== 'scratch') {
        st.external.push({ keyword: ins.keyword, instruction: clip(ins.text), line: ins.line, source: image });
      }
      stages.push(st);
      cur = st;
      continue;
    }
    if (ins.keyword === 'ARG') {
      for (const w of splitWords(ins.args, esc)) {
        const eq = w.raw.indexOf('=');
        const name = eq < 0 ? w.raw : w.raw.slice(0, eq);
        let value: string | undefined;
        if (Object.prototype.hasOwnProperty.call(buildArgs, name)) value = buildArgs[name];
        else if (eq >= 0) value = expand(w.raw.slice(eq + 1), ins, [], true, false);
        else if (cur) value = globalArgs.get(name);
        (cur ? cur.args : globalArgs).set(name, value);
      }
      continue;
    }
    if (!cur) {
      throw new DockerfileError(`${dockerfile}:${ins.line}: ${ins.keyword} before the first FROM. Only ARG may come before FROM; add a FROM line first.`, ins.line);
    }
    const st = cur;
    switch (ins.keyword) {
      case 'ENV': {
        const words = splitWords(ins.args, esc);
        if (words.length > 0 && !words[0].raw.includes('=')) {
          const value = ins.args.slice(words[0].end).trim();
          st.env.set(words[0].raw, expand(value, ins, [], true, false));
        } else {
          for (const w of words) {
            const eq = w.raw.indexOf('=');
            if (eq > 0) st.env.set(w.raw.slice(0, eq), expand(w.raw.slice(eq + 1), ins, [], true, false));
          }
        }
        break;
      }
      case 'WORKDIR': {
        const dir = expand(ins.args.trim(), ins, st.problems);
        st.workdir = posix.resolve(st.workdir, dir || '.');
        break;
      }
      case 'COPY':
      case 'ADD':
        copyInstruction(ins, st);
        break;
      case 'RUN': {
        const { flags } = parseFlags(ins.args, esc);
        for (const [name, value] of flags) if (name === 'mount') mountFlag(expand(value, ins, st.problems), ins, st);
        break;
      }
      default:
        break; // ONBUILD runs in child builds; CMD, LABEL, ... read no files
    }
  }

  function baseVia(ins: RawInstruction, st: Stage): Omit<InputVia, 'destination'> {
    return { dockerfile, line: ins.line, instruction: clip(ins.text), stage: st.name ?? String(st.index) };
  }

  function addDependency(ref: string, ins: RawInstruction, st: Stage) {
    const dep = findStage(ref, st.index);
    if (dep) st.deps.add(dep.index);
    else st.external.push({ keyword: ins.keyword, instruction: clip(ins.text), line: ins.line, source: ref });
  }

  function addSource(src: string, ins: RawInstruction, st: Stage, o: { dest: string; destIsDir: boolean; parents: boolean; excludes: string[]; mount?: boolean }) {
    const clean = cleanContextPath(src);
    if (clean === null) {
      st.problems.push({ line: ins.line, message: `'${src}' is outside the build context${context ? ` '${context}'` : ''}; Docker cannot read it, so it is not counted as an input. Move the file into the context or widen the context.` });
      return;
    }
    const segs = parseGlob(clean, { doubleStar: false });
    if (!segs) {
      st.problems.push({ line: ins.line, message: `Cannot parse the source pattern '${src}' (unbalanced '[' or trailing '\\'); it is not counted.` });
      return;
    }
    const repoSegs = [...ctxSegs, ...segs];
    const entry: SourceEntry = {
      repoSegs,
      region: compileRegion(repoSegs),
      exact: compileExact(repoSegs),
      excludes: [],
      via: baseVia(ins, st),
      dest: o.dest,
      destIsDir: o.destIsDir || !isLiteral(segs),
      parents: o.parents,
      mount: o.mount ?? false,
      literal: isLiteral(segs),
      archive: !o.mount && ins.keyword === 'ADD' && ARCHIVE_NAME.test(clean),
      order: writeOrder++,
    };
    // --exclude patterns are relative to the copied directory; for wildcard sources they also
    // apply to the matched names themselves (`COPY --exclude=*.txt hom* /dir/`).
    for (const pattern of o.excludes) {
      const clean = cleanContextPath(pattern);
      const z = clean === null ? null : parseGlob(clean, { doubleStar: true });
      if (!z || z.length === 0) {
        st.problems.push({ line: ins.line, message: `Ignoring --exclude=${pattern}: not a usable pattern.` });
        continue;
      }
      const bases: Seg[][] = [repoSegs];
      if (!isLiteral(segs)) bases.push([...ctxSegs, ...litSegs(literalPrefix(segs).join('/'))]);
      for (const b of bases) {
        const xs = [...b, ...z];
        entry.excludes.push(compileRegion(xs));
        st.pendingExclusions.push({ entry, segs: xs, what: `--exclude=${pattern} (line ${ins.line})` });
      }
    }
    st.entries.push(entry);
  }

  function resolveDest(dest: string, st: Stage): string {
    if (dest === '') return '';
    const slash = dest.endsWith('/');
    const abs = posix.resolve(st.workdir, dest);
    return slash && abs !== '/' ? abs + '/' : abs;
  }

  function copyInstruction(ins: RawInstruction, st: Stage) {
    const { flags, rest } = parseFlags(ins.args, esc);
    const flag = (n: string) => flags.filter(([k]) => k === n).map(([, v]) => expand(v, ins, st.problems));
    const from = flag('from')[0];
    const parents = flags.some(([k, v]) => k === 'parents' && v !== 'false');
    const excludes = flag('exclude');
    let items: string[] | undefined;
    const trimmed = rest.trim();
    if (trimmed.startsWith('[')) {
      try {
        const arr: unknown = JSON.parse(trimmed);
        if (Array.isArray(arr) && arr.every((x) => typeof x === 'string')) {
          items = (arr as string[]).map((x) => expand(x, ins, st.problems, false));
        }
      } catch {
        // Not JSON: Docker then treats it as shell form too.
      }
    }
    let heredocSources = 0;
    if (!items) {
      items = [];
      for (const w of splitWords(trimmed, esc)) {
        if (ins.heredocs.length > 0 && /^<<-?\s*["']?[A-Za-z_][A-Za-z0-9_]*["']?$/.test(w.raw)) {
          heredocSources++; // inline file content, reads nothing from the context
          continue;
        }
        items.push(expand(w.raw, ins, st.problems));
      }
    }
    if (items.length + heredocSources < 2 || items.length < 1) {
      st.problems.push({ line: ins.line, message: `${ins.keyword} needs at least one source and a destination ('${clip(ins.text)}'); it is ignored.` });
      return;
    }
    const dest = resolveDest(items[items.length - 1], st);
    const sources = items.slice(0, -1);
    const opaque = (src: string, reason: string) => {
      const multi = dest.endsWith('/') || sources.length + heredocSources > 1;
      const base = posix.basename(src.replace(/\/+$/, ''));
      // Only a literal file name says where it lands; a directory or wildcard from elsewhere may overwrite anything below.
      const at = multi ? (/[*?[\\]/.test(base) || base === '' || base === '.' ? null : posix.join(dest, base)) : dest;
      st.opaqueWrites.push({ destination: at, order: writeOrder++, line: ins.line, instruction: clip(ins.text), reason });
    };
    if (heredocSources > 0) opaque('', 'a heredoc source is written by the Dockerfile itself');
    if (from !== undefined) {
      if (from === '') st.problems.push({ line: ins.line, message: `--from is empty; name a stage or an image.` });
      else addDependency(from, ins, st);
      for (const src of sources) opaque(src, `copied from ${from === '' ? 'another stage' : `'${from}'`}, not from the build context`);
      return;
    }
    for (const src of sources) {
      if (isRemote(src)) {
        opaque(src, 'downloaded from a URL, not copied from the build context');
        if (ins.keyword === 'ADD') st.external.push({ keyword: ins.keyword, instruction: clip(ins.text), line: ins.line, source: src });
        else st.problems.push({ line: ins.line, message: `COPY cannot fetch '${src}'; use ADD for URLs.` });
        continue;
      }
      if (src === '') {
        st.problems.push({ line: ins.line, message: `A source of ${ins.keyword} expands to an empty string; it is ignored.` });
        continue;
      }
      addSource(src, ins, st, { dest, destIsDir: dest.endsWith('/') || sources.length + heredocSources > 1, parents, excludes });
    }
  }

  function mountFlag(value: string, ins: RawInstruction, st: Stage) {
    const kv = new Map(parseCsvFlag(value));
    const type = (kv.get('type') ?? 'bind').toLowerCase();
    const from = kv.get('from');
    if (type !== 'bind' && type !== 'cache') return; // secret, ssh, tmpfs: nothing from the context
    if (from) {
      addDependency(from, ins, st);
      return;
    }
    if (type === 'cache') return;
    const source = kv.get('source') ?? kv.get('src') ?? '';
    const target = kv.get('target') ?? kv.get('dst') ?? kv.get('destination') ?? '';
    addSource(source || '.', ins, st, { dest: target ? resolveDest(target, st) : '', destIsDir: false, parents: false, excludes: [], mount: true });
  }

  if (stages.length === 0) {
    throw new DockerfileError(`${dockerfile} has no FROM instruction. Every Dockerfile needs at least one 'FROM <image>'.`);
  }

  // Stages reachable from the target.
  let target = stages[stages.length - 1];
  if (opts.targetStage) {
    const t = stages.find((s) => s.name === opts.targetStage!.toLowerCase());
    if (!t) {
      const names = stages.filter((s) => s.name).map((s) => s.name);
      throw new DockerfileError(`Target stage '${opts.targetStage}' is not defined in ${dockerfile}. Stages: ${names.length ? names.join(', ') : '(none named)'}. Fix the target in the configuration.`);
    }
    target = t;
  }
  const reachable = new Set<number>();
  const stack = [target.index];
  while (stack.length) {
    const i = stack.pop()!;
    if (reachable.has(i)) continue;
    reachable.add(i);
    for (const d of stages[i].deps) stack.push(d);
  }
  const used = stages.filter((s) => reachable.has(s.index));
  const entries = used.flatMap((s) => s.entries);
  const external = used.flatMap((s) => s.external);
  const problems = [...globalProblems, ...used.flatMap((s) => s.problems)].sort((a, b) => a.line - b.line);

  // Ignore file: Docker's own semantics (dockerignore.ts); a pattern Docker rejects is an error.
  let ignore: ContextIgnore;
  try {
    ignore = ContextIgnore.fromText(opts.ignoreText, ignoreFile ?? '.dockerignore');
  } catch (err) {
    if (err instanceof IgnoreFileError) throw new DockerfileError(err.message);
    throw err;
  }

  const includes = (opts.include ?? []).map((g) => ({ glob: g, segs: parseConfigGlob(g) }));
  const excludes = (opts.exclude ?? []).map((g) => ({ glob: g, segs: parseConfigGlob(g) }));
  for (const g of [...includes, ...excludes]) {
    if (!g.segs) problems.push({ line: 0, message: `Configuration glob '${g.glob}' cannot be parsed; it is ignored.` });
  }
  const includeMatchers = includes.filter((g) => g.segs).map((g) => ({ glob: g.glob, m: compileRegion(g.segs!) }));
  const excludeMatchers = excludes.filter((g) => g.segs).map((g) => compileRegion(g.segs!));

  // Pathspec model.
  const fixed: Seg[][] = [litSegs(dockerfile), ...(ignoreFile ? [litSegs(ignoreFile)] : [])];
  const fixedKeeps: Keep[] = fixed.map((segs) => ({ segs, file: true }));
  const includeSegs = includes.filter((g) => g.segs).map((g) => g.segs!);
  const positives: Region[] = [...fixed, ...entries.map((e) => e.repoSegs), ...includeSegs].map((segs) => ({ segs }));
  const exclusions: Exclusion[] = [];
  const superset: string[] = [];
  const ignoreModel = ignoreExclusions(ignore, ctxSegs);
  superset.push(...ignoreModel.superset);
  for (const x of ignoreModel.exclusions) {
    exclusions.push({ segs: x.segs, keeps: [...x.keeps.map((segs) => ({ segs })), ...fixedKeeps, ...includeSegs.map((segs) => ({ segs }))], what: x.what });
  }
  for (const st of used) {
    for (const x of st.pendingExclusions) {
      const keeps = [...fixedKeeps, ...[...includeSegs, ...entries.filter((e) => e !== x.entry).map((e) => e.repoSegs)].map((segs) => ({ segs }))];
      exclusions.push({ segs: x.segs, keeps, what: x.what });
    }
  }
  for (const g of excludes) if (g.segs) exclusions.push({ segs: g.segs, keeps: fixedKeeps, what: `configured exclude '${g.glob}'` });
  const model: PathspecModel = { positives, exclusions };
  const built = buildPathspecs(model);

  const inContext = (p: string) => context === '' || p === context || p.startsWith(context + '/');
  const ctxLen = context === '' ? 0 : context.length + 1;
  const special = (instruction: string): InputVia => ({ dockerfile, line: null, instruction, stage: null, destination: '' });

  const result: ImageInputs = {
    dockerfile,
    context,
    ignoreFile,
    external,
    problems: [...problems],
    pathspecs: built.pathspecs,
    pathspecsSuperset: [...superset, ...built.superset],
    affects(path: string): AffectsResult {
      const p = normRepoPath(path);
      const via: InputVia[] = [];
      if (p === dockerfile) via.push(special('(Dockerfile)'));
      if (ignoreFile !== null && p === ignoreFile) via.push(special('(ignore file)'));
      if (p !== '' && !excludeMatchers.some((m) => m(p))) {
        for (const inc of includeMatchers) if (inc.m(p)) via.push(special(`(configured include ${inc.glob})`));
        if (inContext(p) && p !== context && !ignore.ignored(p.slice(ctxLen))) {
          for (const e of entries) {
            if (!e.region(p) || e.excludes.some((x) => x(p))) continue;
            via.push({ ...e.via, destination: destinationOf(e, p, ctxLen) });
          }
        }
      }
      return { path: p, affects: via.length > 0, via };
    },
    verifiable: verifiableOf(),
  };

  /** The target stage and the stages it is built FROM: their files are the final image's. */
  function verifiableOf(): VerifiableSources {
    const chain: Stage[] = [];
    for (let st: Stage | undefined = target; st; st = st.base === undefined ? undefined : stages[st.base]) chain.unshift(st);
    const copied = (p: string) => p !== '' && inContext(p) && p !== context && !excludeMatchers.some((m) => m(p)) && !ignore.ignored(p.slice(ctxLen));
    const sources: VerifiableSource[] = [];
    const skipped: VerifiableSources['skipped'] = [];
    const opaqueWrites: VerifiableSources['opaqueWrites'] = [];
    for (const st of chain) {
      for (const w of st.opaqueWrites) {
        if (w.destination !== null) opaqueWrites.push({ destination: w.destination, order: w.order });
        skipped.push({ line: w.line, instruction: w.instruction, reason: w.reason });
      }
      for (const e of st.entries) {
        if (e.mount) continue; // read during the build, never copied into the image
        if (e.archive) {
          // An instruction's entry always has a line (only the Dockerfile's own pseudo-via has none).
          skipped.push({ line: e.via.line!, instruction: e.via.instruction, reason: 'ADD of a local archive: Docker may extract it, so its bytes are not the file\'s' });
          opaqueWrites.push({ destination: e.dest.endsWith('/') ? '' : e.dest, order: e.order });
          continue;
        }
        if (!e.dest) continue;
        sources.push({
          via: e.via,
          listPrefix: literalPrefix(e.repoSegs).join('/'),
          literal: e.literal,
          order: e.order,
          destinationOf: (p) => (copied(p) && e.region(p) && !e.excludes.some((x) => x(p)) ? destinationOf(e, p, ctxLen) : null),
        });
      }
    }
    skipped.sort((a, b) => a.line - b.line);
    return { sources, opaqueWrites: opaqueWrites.filter((w) => w.destination !== ''), skipped };
  }
  models.set(result, model);
  return result;
}

/**
 * The ignore file as pathspec exclusions: each pattern's regions minus the exceptions after it that
 * take effect. Exact when the walk's semantics (MatchesUsingParentResults) agree with "the last
 * pattern whose region holds a path decides", which holds when every exception is a plain path,
 * an exception is dropped when the walk never applies it (nothing before it ignores its path, as
 * with a log-file pattern then "!logs"), and no pattern after an exception matches a directory above it. Anything
 * else leaves those exclusions to the JS filter (a superset of pathspecs, said in the reasons).
 */
function ignoreExclusions(ignore: ContextIgnore, ctxSegs: Seg[]): { exclusions: Array<{ segs: Seg[]; keeps: Seg[][]; what: string }>; superset: string[] } {
  const pats = ignore.matcher.patterns;
  const superset: string[] = [];
  const exclusions: Array<{ segs: Seg[]; keeps: Seg[][]; what: string }> = [];
  const text = (i: number) => `${pats[i].exclusion ? '!' : ''}${pats[i].cleaned}`;
  /** Per exception: its path when it is a plain one (null: a wildcard), and whether it takes effect. */
  const exceptions = new Map<number, { path: string | null; active: boolean; text: string }>();
  let unordered: string | null = null;
  pats.forEach((p, e) => {
    if (!p.exclusion) return;
    if (p.kind !== 'exact') {
      exceptions.set(e, { path: null, active: true, text: text(e) });
      return;
    }
    const path = p.cleaned;
    const real = path !== '.' && path !== '..' && !path.startsWith('../') && !path.startsWith('/');
    const active = real && ignore.matchedBefore(path, e);
    exceptions.set(e, { path, active, text: text(e) });
    if (!active || unordered) return;
    const parts = path.split('/');
    for (let i = e + 1; i < pats.length && !unordered; i++) {
      if (pats[i].exclusion) continue;
      for (let d = 1; d < parts.length; d++) {
        if (pats[i].match(parts.slice(0, d).join('/'))) {
          unordered = `ignore pattern '${text(i)}' matches a directory above the exception '${text(e)}' before it`;
          break;
        }
      }
    }
  });
  pats.forEach((p, i) => {
    if (p.exclusion) return;
    if (unordered) {
      superset.push(unordered);
      return;
    }
    const later = [...exceptions].filter(([e]) => e > i).map(([, x]) => x);
    const wild = later.find((x) => x.path === null);
    if (wild) {
      superset.push(`ignore pattern '${text(i)}' is followed by the exception '${wild.text}', which git pathspecs cannot express`);
      return;
    }
    const regions = patternRegions(p);
    if (!regions) {
      superset.push(`ignore pattern '${text(i)}' has no git pathspec equivalent`);
      return;
    }
    const keeps = later.filter((x) => x.active).map((x) => [...ctxSegs, ...litSegs(x.path!)]);
    for (const r of regions) exclusions.push({ segs: [...ctxSegs, ...r], keeps, what: `ignore pattern '${text(i)}'` });
  });
  return { exclusions, superset: [...new Set(superset)] };
}

function parseConfigGlob(g: string): Seg[] | null {
  const clean = normRepoPath(g.trim());
  if (clean.startsWith('../') || clean === '..') return null;
  return parseGlob(clean, { doubleStar: true });
}

/** Leading `--name[=value]` flags (values unexpanded) and the text after them. */

function destinationOf(e: SourceEntry, p: string, ctxLen: number): string {
  if (!e.dest) return '';
  const dir = e.dest.replace(/\/$/, '') || '/';
  if (e.parents) return posix.join(dir, p.slice(ctxLen));
  if (e.exact(p)) return e.destIsDir ? posix.join(dir, posix.basename(p)) : e.dest;
  const rel = p.split('/').slice(e.repoSegs.length).join('/');
  return posix.join(dir, rel);
}

// ---------------------------------------------------------------- pathspecs

/** Literal directory that git treats as the common prefix of a positive spec. */
function gitDirPrefix(segs: Seg[]): string[] {
  const lit = literalPrefix(segs);
  return lit.length === segs.length ? lit.slice(0, -1) : lit;
}

function overlaps(x: Seg[], k: Keep): boolean {
  if (k.segs.length === 0) return true;
  if (!isLiteral(k.segs)) return mayOverlap(x, k.segs);
  const path = literalPath(k.segs);
  if (compileRegion(x)(path)) return true; // k lies in the excluded region
  return !k.file && restrictToDir(x, path.split('/')).length > 0; // something below k is excluded
}

function buildPathspecs(model: PathspecModel): { pathspecs: string[]; superset: string[] } {
  const out: string[] = [];
  const seen = new Set<string>();
  const push = (s: string) => {
    if (!seen.has(s)) {
      seen.add(s);
      out.push(s);
    }
  };
  for (const r of model.positives) for (const s of regionPathspecs(r.segs, false)) push(s);

  // `git ls-files` (2.39) strips the common directory prefix of the positive specs before it
  // matches wildcard excludes, so `docs/** :(exclude,glob)*/a` excludes everything there.
  // Rewriting every exclude to start with that prefix avoids it; `git log` is fine either way.
  let common: string[] | null = null;
  for (const r of model.positives) {
    const d = gitDirPrefix(r.segs);
    if (common === null) common = d;
    else {
      let i = 0;
      while (i < common.length && i < d.length && common[i] === d[i]) i++;
      common = common.slice(0, i);
    }
  }
  const superset: string[] = [];
  for (const x of model.exclusions) {
    const keeps = x.keeps.filter((k) => overlaps(x.segs, k)).map((k) => k.segs);
    if (keeps.some((k) => k.length === 0)) continue; // kept everywhere (e.g. another `COPY . /`)
    if (keeps.some((k) => !isLiteral(k))) {
      superset.push(`${x.what} overlaps a wildcard input, which git pathspecs cannot re-include`);
      continue;
    }
    const pieces = minusLiterals(x.segs, keeps.map((k) => literalPath(k).split('/')));
    if (!pieces) {
      superset.push(`${x.what} has too many exceptions to express as pathspecs`);
      continue;
    }
    for (const piece of pieces) {
      for (const r of restrictToDir(piece, common ?? [])) {
        for (const s of regionPathspecs(r.length ? r : ['**'], true)) push(s);
      }
    }
  }
  return { pathspecs: out, superset };
}

// ---------------------------------------------------------------- helpers for callers

/** Ignore-file candidates in precedence order: `<dockerfile>.dockerignore` next to the Dockerfile, then `<context>/.dockerignore`. Repo-relative. */
export function ignoreFileCandidates(dockerfile: string, context: string): string[] {
  const df = normRepoPath(dockerfile);
  const ctx = normRepoPath(context);
  return [`${df}.dockerignore`, ctx ? `${ctx}/.dockerignore` : '.dockerignore'];
}

/**
 * Inputs of a commit range: the union of the analyses of the Dockerfile at both ends.
 * affects() is true if either end says so. Pathspecs select the union exactly when an
 * exclusion is present at both ends or covers no input of the other end; otherwise a superset.
 */
export function unionInputs(a: ImageInputs, b: ImageInputs): ImageInputs {
  const ma = models.get(a);
  const mb = models.get(b);
  const superset = [...(a.pathspecsSuperset ?? []), ...(b.pathspecsSuperset ?? [])];
  let model: PathspecModel | undefined;
  let pathspecs: string[];
  if (ma && mb) {
    const key = (x: Exclusion) => gitGlobBody(x.segs);
    // An exclusion present at both ends only needs the keeps of both; one present at one end
    // must also spare everything the other end reads.
    const merge = (own: PathspecModel, other: PathspecModel): Exclusion[] =>
      own.exclusions.map((x) => {
        const twins = other.exclusions.filter((y) => key(y) === key(x));
        const keeps = twins.length ? twins.flatMap((t) => t.keeps) : other.positives.map((r) => ({ segs: r.segs }));
        return { segs: x.segs, keeps: [...x.keeps, ...keeps], what: x.what };
      });
    model = { positives: [...ma.positives, ...mb.positives], exclusions: [...merge(ma, mb), ...merge(mb, ma)] };
    const built = buildPathspecs(model);
    pathspecs = built.pathspecs;
    superset.push(...built.superset);
  } else {
    pathspecs = dedupe([...a.pathspecs, ...b.pathspecs].filter((s) => !/^:\([^)]*exclude/.test(s)), (s) => s);
    superset.push('inputs not produced by analyzeImageInputs: excludes dropped');
  }
  const u: ImageInputs = {
    dockerfile: a.dockerfile,
    context: a.context,
    ignoreFile: a.ignoreFile ?? b.ignoreFile,
    external: dedupe([...a.external, ...b.external], (e) => `${e.source}\0${e.instruction}`),
    problems: dedupe([...a.problems, ...b.problems], (p) => `${p.line}\0${p.message}`),
    pathspecs,
    pathspecsSuperset: dedupe(superset, (s) => s),
    affects(path: string): AffectsResult {
      const ra = a.affects(path);
      const rb = b.affects(path);
      const via = dedupe([...ra.via, ...rb.via], (v) => `${v.dockerfile}\0${v.line}\0${v.instruction}\0${v.destination}`);
      return { path: ra.path, affects: ra.affects || rb.affects, via };
    },
  };
  if (model) models.set(u, model);
  return u;
}

function dedupe<T>(items: T[], key: (t: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((t) => {
    const k = key(t);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** A Dockerfile by Docker's naming (Dockerfile, Dockerfile.x, x.Dockerfile, Containerfile…), never an ignore file of one. */
export function isDockerfileName(p: string): boolean {
  const base = p.slice(p.lastIndexOf('/') + 1).toLowerCase();
  if (base.endsWith('.dockerignore')) return false;
  return /^(docker|container)file$/.test(base) || /^(docker|container)file[.-]./.test(base) || /.\.(docker|container)file$/.test(base);
}

/**
 * Zero-config discovery: Dockerfiles whose name tokens match the image name, best first.
 * `helix-ubuntu` matches `Dockerfile.ubuntu-helix`, `ubuntu_helix.Dockerfile`, `helix-ubuntu/Dockerfile`.
 */
export function dockerfileCandidatesForImage(imageName: string, repoFiles: string[]): string[] {
  const repo = imageName.replace(/@.*$/, '').split('/').pop() ?? '';
  const name = repo.replace(/:[^:]*$/, '').toLowerCase();
  const tokens = (s: string) => s.toLowerCase().split(/[-_.]+/).filter(Boolean);
  const want = tokens(name).sort().join(' ');
  if (!want) return [];
  const scored: Array<{ path: string; score: number }> = [];
  for (const path of repoFiles) {
    const base = posix.basename(path);
    let label: string | undefined;
    let kind = 0;
    const m1 = /^dockerfile[.-](.+)$/i.exec(base);
    const m2 = /^(.+)\.dockerfile$/i.exec(base);
    if (m1) label = m1[1];
    else if (m2) label = m2[1];
    else if (/^dockerfile$/i.test(base)) {
      label = posix.basename(posix.dirname(path));
      kind = 1; // named after its directory: weaker
      if (label === '.' || label === '') continue;
    } else continue;
    const lower = label.toLowerCase();
    let score: number;
    if (lower === name) score = 100;
    else if (tokens(lower).sort().join(' ') === want) score = 90;
    else continue;
    score -= kind * 20;
    scored.push({ path, score: score - path.split('/').length * 0.01 });
  }
  return scored.sort((x, y) => y.score - x.score || x.path.localeCompare(y.path)).map((s) => s.path);
}

