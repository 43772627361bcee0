// .dockerignore exactly as Docker reads it: moby's patternmatcher (github.com/moby/patternmatcher,
// which the docker CLI and BuildKit both use) and its ignorefile reader, re-implemented from their
// source and test cases, with a matcher that never backtracks (goRegexp.ts).
//
// - Reading (ignorefile.ReadAll): a UTF-8 BOM is dropped, lines starting with `#` are comments,
//   surrounding white space goes, `filepath.Clean`, a leading `/` goes, `!` marks an exception.
// - Each pattern is checked with Go's `filepath.Match` syntax, then turned into an exact string,
//   a prefix (`dir/**`), a suffix (`**/name`) or a Go regular expression, as moby does. The regular
//   expression is Go's, quirks included (`[^a]` matches `/`, `\d` is a digit class).
// - Which files the build context holds is decided as BuildKit's sender (tonistiigi/fsutil) and
//   the docker CLI decide it while they walk the context: `MatchesUsingParentResults`, each
//   directory's results handed to its entries. `MatchesOrParentMatches` is here too (moby's tests
//   use both); they differ when an exception matches a directory that no earlier pattern had
//   matched, e.g. `**/*.log` then `!logs`: `logs/a.log` is ignored by the walk.
//
// A pattern Docker rejects throws IgnoreFileError with the file, line and Docker's message.

import { GoRegexp, GoRegexpError, classRanges, parseGoRegexp, type Node } from './goRegexp';
import type { Seg, Tok } from './pathGlob';

export class IgnoreFileError extends Error {
  override name = 'IgnoreFileError';
  constructor(
    message: string,
    readonly file: string,
    readonly line: number,
    /** What Docker itself says about it. */
    readonly dockerMessage: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------- Go's string and path helpers

const GO_SPACE = new Set([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000]);
const isGoSpace = (cp: number) => GO_SPACE.has(cp) || (cp >= 0x2000 && cp <= 0x200a);

/** Go's strings.TrimSpace (Unicode White_Space; unlike String.trim it keeps U+FEFF and drops U+0085). */
export function goTrimSpace(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isGoSpace(s.charCodeAt(a))) a++;
  while (b > a && isGoSpace(s.charCodeAt(b - 1))) b--;
  return s.slice(a, b);
}

/** Go's path/filepath.Clean on a Unix system. */
export function goClean(p: string): string {
  if (p === '') return '.';
  const rooted = p[0] === '/';
  const n = p.length;
  let out = rooted ? '/' : '';
  let r = rooted ? 1 : 0;
  let dotdot = rooted ? 1 : 0;
  while (r < n) {
    if (p[r] === '/') r++;
    else if (p[r] === '.' && (r + 1 === n || p[r + 1] === '/')) r++;
    else if (p[r] === '.' && p[r + 1] === '.' && (r + 2 === n || p[r + 2] === '/')) {
      r += 2;
      if (out.length > dotdot) {
        let w = out.length - 1;
        while (w > dotdot && out[w] !== '/') w--;
        out = out.slice(0, w);
      } else if (!rooted) {
        out += out.length > 0 ? '/..' : '..';
        dotdot = out.length;
      }
    } else {
      if ((rooted && out.length !== 1) || (!rooted && out.length !== 0)) out += '/';
      while (r < n && p[r] !== '/') out += p[r++];
    }
  }
  return out === '' ? '.' : out;
}

/** Go's filepath.Dir on a Unix system. */
function goDir(p: string): string {
  const i = p.lastIndexOf('/');
  return goClean(p.slice(0, i + 1));
}

/** Whether Go's `filepath.Match(pattern, ".")` reports ErrBadPattern (the check moby's New runs). */
export function badFilepathPattern(pattern: string): boolean {
  let rest = pattern;
  while (rest.length > 0) {
    while (rest[0] === '*') rest = rest.slice(1);
    // scanChunk: up to the next '*' outside a [...] class
    let inRange = false;
    let i = 0;
    for (; i < rest.length; i++) {
      const c = rest[i];
      if (c === '\\') {
        if (i + 1 < rest.length) i++;
      } else if (c === '[') inRange = true;
      else if (c === ']') inRange = false;
      else if (c === '*' && !inRange) break;
    }
    if (badChunk(rest.slice(0, i))) return true;
    rest = rest.slice(i);
  }
  return false;
}

/** The syntax half of Go's matchChunk: classes need ranges and a `]`, `\` needs a character. */
function badChunk(chunk: string): boolean {
  const cps = [...chunk];
  let i = 0;
  const getEsc = (): boolean => {
    if (i >= cps.length || cps[i] === '-' || cps[i] === ']') return false;
    if (cps[i] === '\\') {
      i++;
      if (i >= cps.length) return false;
    }
    i++;
    return i < cps.length; // the class must go on (at least its `]`)
  };
  while (i < cps.length) {
    const c = cps[i];
    if (c === '[') {
      i++;
      if (cps[i] === '^') i++;
      let nrange = 0;
      for (;;) {
        if (i < cps.length && cps[i] === ']' && nrange > 0) {
          i++;
          break;
        }
        if (!getEsc()) return true;
        if (cps[i] === '-') {
          i++;
          if (!getEsc()) return true;
        }
        nrange++;
      }
    } else if (c === '\\') {
      i++;
      if (i >= cps.length) return true;
      i++;
    } else i++;
  }
  return false;
}

// ---------------------------------------------------------------- reading the file

export interface IgnoreLine {
  /** 1-based line number in the file. */
  line: number;
  /** The pattern as ReadAll returns it (cleaned, `!` kept). */
  pattern: string;
}

/** bufio.Scanner's limit on one line (MaxScanTokenSize): a longer line fails the read in Docker. */
const MAX_LINE_BYTES = 64 * 1024;

/** moby's ignorefile.ReadAll. Throws IgnoreFileError (Docker's read error) for a line over 64 KiB. */
export function readIgnoreFile(text: string, file = '.dockerignore'): IgnoreLine[] {
  const out: IgnoreLine[] = [];
  if (text === '') return out;
  const raw = text.split('\n');
  if (raw[raw.length - 1] === '') raw.pop(); // bufio.ScanLines yields no empty last token
  raw.forEach((lineText, idx) => {
    let s = lineText.endsWith('\r') ? lineText.slice(0, -1) : lineText;
    if (idx === 0 && s.startsWith('\uFEFF')) s = s.slice(1);
    if (Buffer.byteLength(s) >= MAX_LINE_BYTES) {
      throw new IgnoreFileError(
        `${file}:${idx + 1}: the line is longer than 64 KiB; Docker cannot read the file ("bufio.Scanner: token too long"). Shorten or split the line.`,
        file,
        idx + 1,
        'bufio.Scanner: token too long',
      );
    }
    if (s.startsWith('#')) return;
    let pattern = goTrimSpace(s);
    if (pattern === '') return;
    const invert = pattern[0] === '!';
    if (invert) pattern = goTrimSpace(pattern.slice(1));
    if (pattern.length > 0) {
      pattern = goClean(pattern);
      if (pattern.length > 1 && pattern[0] === '/') pattern = pattern.slice(1);
    }
    out.push({ line: idx + 1, pattern: invert ? `!${pattern}` : pattern });
  });
  return out;
}

// ---------------------------------------------------------------- one pattern

export type MatchKind = 'exact' | 'prefix' | 'suffix' | 'regexp';

/** Characters moby escapes before handing a pattern to Go's regexp (they mean nothing in filepath.Match). */
const REGEX_ESCAPED = new Set(['.', '+', '(', ')', '|', '{', '}', '$']);

/** moby's Pattern.compile: the match kind, and for `regexp` the expression it hands to Go. */
export function mobyCompile(cleaned: string): { kind: MatchKind; regexp: string } {
  let re = '^';
  let kind: MatchKind = 'exact';
  const cps = [...cleaned];
  let k = 0;
  for (let i = 0; k < cps.length; i++) {
    const ch = cps[k++];
    if (ch === '*') {
      if (cps[k] === '*') {
        k++;
        if (cps[k] === '/') k++; // `**/` is `**`
        if (k >= cps.length) {
          if (kind === 'exact') kind = 'prefix';
          else {
            re += '.*';
            kind = 'regexp';
          }
        } else {
          re += '(.*/)?';
          kind = 'regexp';
        }
        if (i === 0) kind = 'suffix';
      } else {
        re += '[^/]*';
        kind = 'regexp';
      }
    } else if (ch === '?') {
      re += '[^/]';
      kind = 'regexp';
    } else if (REGEX_ESCAPED.has(ch)) {
      re += `\\${ch}`;
    } else if (ch === '\\') {
      if (k < cps.length) {
        re += `\\${cps[k++]}`;
        kind = 'regexp';
      } else re += '\\';
    } else if (ch === '[' || ch === ']') {
      re += ch;
      kind = 'regexp';
    } else re += ch;
  }
  return { kind, regexp: kind === 'regexp' ? `${re}$` : '' };
}

export class Pattern {
  readonly kind: MatchKind;
  /** The Go expression (kind `regexp`), as moby builds it. */
  readonly regexpSource: string;
  private readonly re: GoRegexp | null = null;
  /** Why Go's regexp.Compile refuses the expression (Docker then fails on the first file it matches). */
  readonly regexpError: GoRegexpError | null = null;

  constructor(
    /** The cleaned pattern, without its `!`. */
    readonly cleaned: string,
    readonly exclusion: boolean,
    readonly line: number,
  ) {
    const c = mobyCompile(cleaned);
    this.kind = c.kind;
    this.regexpSource = c.regexp;
    if (c.kind === 'regexp') {
      try {
        this.re = new GoRegexp(c.regexp);
      } catch (err) {
        if (!(err instanceof GoRegexpError)) throw err;
        this.regexpError = err;
      }
    }
  }

  /** Pattern.match: the path (slash-separated) against this pattern alone. */
  match(path: string): boolean {
    switch (this.kind) {
      case 'exact':
        return path === this.cleaned;
      case 'prefix':
        return path.startsWith(this.cleaned.slice(0, -2));
      case 'suffix': {
        const suffix = this.cleaned.slice(2);
        if (path.endsWith(suffix)) return true;
        return suffix[0] === '/' && path === suffix.slice(1);
      }
      case 'regexp':
        return this.re ? this.re.test(path) : false;
    }
  }

  /** The pattern as Pattern.String() gives it. */
  toString(): string {
    return this.cleaned;
  }
}

// ---------------------------------------------------------------- the matcher

/** Per pattern: whether it matched a directory (MatchInfo, handed from a directory to its entries). */
export type MatchInfo = readonly boolean[];

export class PatternMatcher {
  readonly patterns: readonly Pattern[];
  /** Some pattern is an exception (`!`). */
  readonly exclusions: boolean;

  /**
   * moby's New: trims, cleans, checks each pattern. `lines` carry line numbers for messages (the
   * strings ReadAll returned, or bare patterns). Throws IgnoreFileError on what Docker rejects.
   */
  constructor(lines: ReadonlyArray<IgnoreLine | string>, readonly file = '.dockerignore') {
    const out: Pattern[] = [];
    let exclusions = false;
    for (const entry of lines) {
      const line = typeof entry === 'string' ? 0 : entry.line;
      let p = goTrimSpace(typeof entry === 'string' ? entry : entry.pattern);
      if (p === '') continue;
      p = goClean(p);
      const at = line ? `${file}:${line}` : file;
      let exclusion = false;
      if (p[0] === '!') {
        if (p.length === 1) {
          throw new IgnoreFileError(
            `${at}: a lone "!" is not a pattern; Docker rejects the file (illegal exclusion pattern: "!"). Write the path to keep after the "!", or remove the line.`,
            file,
            line,
            'illegal exclusion pattern: "!"',
          );
        }
        exclusion = true;
        exclusions = true;
        p = p.slice(1);
      }
      if (badFilepathPattern(p)) {
        throw new IgnoreFileError(
          `${at}: ${JSON.stringify(p)} is not a valid pattern; Docker rejects the file (syntax error in pattern). Check for an unclosed '[', a range such as '[a-]' or '[]a]', or a trailing '\\'; write \\[ for a literal bracket.`,
          file,
          line,
          'syntax error in pattern',
        );
      }
      const pat = new Pattern(p, exclusion, line);
      if (pat.regexpError) {
        // Docker compiles the expression on the first match and then fails the build with
        // filepath.ErrBadPattern (moby/moby#52203 is such a report, for `[Local-Only]/`).
        throw new IgnoreFileError(
          `${at}: Docker cannot use the pattern ${JSON.stringify(p)}: as a Go regular expression it is invalid (${pat.regexpError.code}: ${pat.regexpError.expr}), so the build fails with "syntax error in pattern". Escape the brackets (\\[ … \\]) to match them literally, or fix the range.`,
          file,
          line,
          'syntax error in pattern',
        );
      }
      out.push(pat);
    }
    this.patterns = out;
    this.exclusions = exclusions;
  }

  /** Reads and compiles an ignore file's text (ReadAll + New). */
  static fromText(text: string, file = '.dockerignore'): PatternMatcher {
    return new PatternMatcher(readIgnoreFile(text, file), file);
  }

  /**
   * The loop all of moby's Matches* share: a pattern is looked at only when it could change the
   * answer (an exception once something matched, an ignore line while nothing has).
   */
  private decide(matched: boolean, test: (p: Pattern) => boolean): boolean {
    for (const p of this.patterns) {
      if (p.exclusion !== matched) continue;
      if (test(p)) matched = !p.exclusion;
    }
    return matched;
  }

  /** MatchesExact: the path against the patterns, no parent directories. */
  matchesExact(path: string): boolean {
    return this.decide(false, (p) => p.match(path));
  }

  /** MatchesOrParentMatches: a pattern that matches a parent directory matches the path too. */
  matchesOrParentMatches(path: string): boolean {
    const dirs = parentDirs(path);
    return this.decide(false, (p) => p.match(path) || matchesADir(p, dirs));
  }

  /** The deprecated Matches (it checks one parent directory only); kept for moby's own test table. */
  matchesDeprecated(path: string): boolean {
    const dirs = parentDirs(path);
    return this.decide(false, (p) => {
      if (p.match(path)) return true;
      const n = p.cleaned.split('/').length;
      return !!dirs && n <= dirs.length && p.match(dirs.slice(0, n).join('/'));
    });
  }

  /** MatchesUsingParentResult (deprecated in moby): the parent's overall result carries over. */
  matchesUsingParentResult(path: string, parentMatched: boolean): boolean {
    return this.decide(parentMatched, (p) => p.match(path));
  }

  /**
   * MatchesUsingParentResults: the walk's matcher. `parent` is the directory's MatchInfo (empty for
   * an entry of the context root, or when unknown: then parents are checked as by MatchesOrParentMatches).
   */
  matchesUsingParentResults(path: string, parent: MatchInfo = []): { matched: boolean; info: MatchInfo } {
    return this.step(path, parent, this.patterns.length);
  }

  /** MatchesUsingParentResults over the first `upTo` patterns (the walk's state before pattern `upTo`). */
  step(path: string, parent: MatchInfo, upTo: number): { matched: boolean; info: MatchInfo } {
    if (parent.length !== 0 && parent.length !== this.patterns.length) throw new Error('wrong number of values in parentMatched');
    let matched = false;
    const info: boolean[] = new Array(this.patterns.length).fill(false);
    let dirs: string[] | null | undefined;
    for (let i = 0; i < upTo; i++) {
      const p = this.patterns[i];
      let m = parent.length !== 0 ? parent[i] : false;
      if (!m) {
        if (p.exclusion !== matched) continue;
        m = p.match(path);
        if (!m && parent.length === 0) m = matchesADir(p, (dirs ??= parentDirs(path)));
      }
      info[i] = m;
      if (m) matched = !p.exclusion;
    }
    return { matched, info };
  }
}

/** Whether the pattern matches one of the parent directories (each a prefix of `dirs`). */
function matchesADir(p: Pattern, dirs: string[] | null): boolean {
  if (!dirs) return false;
  for (let i = 0; i < dirs.length; i++) if (p.match(dirs.slice(0, i + 1).join('/'))) return true;
  return false;
}

/** The parent directories moby splits off a path (filepath.Dir, split on `/`), or null for ".". */
function parentDirs(path: string): string[] | null {
  const parent = goDir(path);
  return parent === '.' ? null : parent.split('/');
}

/** The pattern minus a trailing `/**` or `/*` (fsutil's patternWithoutTrailingGlob). */
function withoutTrailingGlob(p: Pattern): string {
  let s = p.cleaned;
  if (s.endsWith('/**')) s = s.slice(0, -3);
  if (s.endsWith('/*')) s = s.slice(0, -2);
  return s;
}

// ---------------------------------------------------------------- the build context, as the walk decides

/**
 * The context's ignore rules as BuildKit's sender applies them while it walks the context: each
 * entry is matched with its directory's results (MatchesUsingParentResults). Paths are relative to
 * the context, slash-separated, clean. Directory results are cached, so asking about every file
 * of a tree costs one match per entry.
 */
export class ContextIgnore {
  readonly matcher: PatternMatcher;
  private readonly dirInfo = new Map<string, { matched: boolean; info: MatchInfo }>();
  /** fsutil walks into an excluded directory unless every exception is a plain path prefix. */
  private readonly prefixExceptionsOnly: boolean;

  constructor(matcher: PatternMatcher) {
    this.matcher = matcher;
    this.prefixExceptionsOnly = matcher.patterns.every((p) => !p.exclusion || !/[*[\]?^\\]/.test(withoutTrailingGlob(p)));
  }

  static fromText(text: string | null, file = '.dockerignore'): ContextIgnore {
    return new ContextIgnore(text ? PatternMatcher.fromText(text, file) : new PatternMatcher([], file));
  }

  get empty(): boolean {
    return this.matcher.patterns.length === 0;
  }

  private resultOf(path: string): { matched: boolean; info: MatchInfo } {
    const hit = this.dirInfo.get(path);
    if (hit) return hit;
    const slash = path.lastIndexOf('/');
    const parent = slash < 0 ? [] : this.resultOf(path.slice(0, slash)).info;
    const r = this.matcher.matchesUsingParentResults(path, parent);
    if (this.dirInfo.size < 100_000) this.dirInfo.set(path, r);
    return r;
  }

  /** Whether the walk leaves this path (file or directory) out of the context. */
  ignored(path: string): boolean {
    if (this.empty || path === '' || path === '.') return false;
    const slash = path.lastIndexOf('/');
    const parent = slash < 0 ? [] : this.resultOf(path.slice(0, slash)).info;
    return this.matcher.matchesUsingParentResults(path, parent).matched;
  }

  /**
   * For an ignored directory: whether the walk may skip it whole (nothing below it can be sent),
   * as fsutil decides; otherwise it looks at every entry below it.
   */
  canSkipDir(dir: string): boolean {
    if (!this.matcher.exclusions) return true;
    if (!this.prefixExceptionsOnly) return false;
    const dirSlash = `${dir}/`;
    return !this.matcher.patterns.some((p) => p.exclusion && `${withoutTrailingGlob(p)}/`.startsWith(dirSlash));
  }

  /** The walk's "matched so far" at `path` just before pattern `index` is looked at. */
  matchedBefore(path: string, index: number): boolean {
    const slash = path.lastIndexOf('/');
    const parent = slash < 0 ? [] : this.resultOf(path.slice(0, slash)).info;
    return this.matcher.step(path, parent, index).matched;
  }
}

// ---------------------------------------------------------------- as git pathspec globs

/**
 * The regions (paths matched, and everything below them) of one pattern, as globs in pathGlob's
 * model whose union is exactly that region; null when git's wildmatch cannot say it exactly (a
 * `?` or a class that may meet a multi-byte character, a negated class, which in Go matches `/`,
 * `\d`-style escapes beyond ASCII, anchors in the middle). An empty list: it can match no path.
 * File names with a newline are the one blind spot: Go's `.` (in `**`) does not match `\n`.
 */
export function patternRegions(p: Pattern): Seg[][] | null {
  const toks: PieceTok[] = [];
  const pushLiteral = (s: string) => {
    for (const ch of s) toks.push(ch === '/' ? { t: 'slash' } : { t: 'tok', tok: { k: 'lit', c: ch } });
  };
  switch (p.kind) {
    case 'exact':
      pushLiteral(p.cleaned);
      break;
    case 'prefix':
      pushLiteral(p.cleaned.slice(0, -2));
      toks.push({ t: 'dotstar' });
      break;
    case 'suffix': {
      const suffix = p.cleaned.slice(2);
      if (suffix.startsWith('/')) {
        toks.push({ t: 'dslash' });
        pushLiteral(suffix.slice(1));
      } else {
        toks.push({ t: 'anything' });
        pushLiteral(suffix);
      }
      break;
    }
    case 'regexp': {
      const pieces = regexpPieces(parseGoRegexp(p.regexpSource));
      if (!pieces) return null;
      toks.push(...pieces);
      break;
    }
  }
  return piecesToSegs(toks);
}

type PieceTok =
  | { t: 'tok'; tok: Tok } // a character (literal, ASCII class) or `*` within a segment
  | { t: 'slash' }
  | { t: 'dslash' } // (.*/)?  — zero or more whole directories when at a segment start
  | { t: 'dotstar' } // .* at the end
  | { t: 'anything' }; // any string, '/' included (the start of `**name`)

/** moby's expressions as pieces, or null when one has no exact wildmatch form. */
function regexpPieces(node: Node): PieceTok[] | null {
  const items = flatten(node);
  if (items.length < 2 || !isAssert(items[0], 'begin') || !isAssert(items[items.length - 1], 'end')) return null;
  let k = 1;
  while (k < items.length && isAssert(items[k], 'begin')) k++; // a user's `^` at the very start is a no-op
  const out: PieceTok[] = [];
  for (; k < items.length - 1; k++) {
    const n = items[k];
    if (n.op === 'char') {
      const ranges = classRanges(n.cls);
      if (!ranges || ranges.length === 0) return null;
      const hasSlash = ranges.some(([a, b]) => a <= 0x2f && 0x2f <= b);
      if (hasSlash) {
        if (ranges.length === 1 && ranges[0][0] === 0x2f && ranges[0][1] === 0x2f) out.push({ t: 'slash' });
        else return null;
        continue;
      }
      if (ranges.some(([, b]) => b > 0x7f)) return null; // git matches bytes, Go code points
      if (ranges.length === 1 && ranges[0][0] === ranges[0][1]) out.push({ t: 'tok', tok: { k: 'lit', c: String.fromCharCode(ranges[0][0]) } });
      else out.push({ t: 'tok', tok: { k: 'cls', neg: false, ranges: ranges.map(([a, b]): [string, string] => [String.fromCharCode(a), String.fromCharCode(b)]) } });
    } else if (n.op === 'star' && n.sub.op === 'char' && isAllButSlash(n.sub)) {
      out.push({ t: 'tok', tok: { k: 'star' } });
    } else if (n.op === 'star' && n.sub.op === 'anyNotNL' && k === items.length - 2) {
      out.push({ t: 'dotstar' });
    } else if (n.op === 'quest' && isDirsGroup(n.sub)) {
      out.push({ t: 'dslash' });
    } else return null;
  }
  return out;
}

function flatten(n: Node): Node[] {
  if (n.op === 'concat') return n.subs.flatMap(flatten);
  if (n.op === 'group') return flatten(n.sub);
  return [n];
}

const isAssert = (n: Node, kind: 'begin' | 'end') => n.op === 'assert' && n.kind === kind;

function isAllButSlash(n: Node & { op: 'char' }): boolean {
  const r = classRanges(n.cls);
  return !!r && r.length === 2 && r[0][0] === 0 && r[0][1] === 0x2e && r[1][0] === 0x30 && r[1][1] === 0x10ffff;
}

/** moby's group of directories: "(.*" then "/)". */
function isDirsGroup(n: Node): boolean {
  const items = flatten(n);
  if (items.length !== 2) return false;
  const [a, b] = items;
  if (!(a.op === 'star' && a.sub.op === 'anyNotNL')) return false;
  if (b.op !== 'char') return false;
  const r = classRanges(b.cls);
  return !!r && r.length === 1 && r[0][0] === 0x2f && r[0][1] === 0x2f;
}

function piecesToSegs(pieces: PieceTok[]): Seg[][] {
  interface Alt {
    segs: Seg[];
    cur: Tok[];
    dead?: boolean;
  }
  const pushSeg = (a: Alt, seg: Seg) => {
    if (seg === '**' && a.segs[a.segs.length - 1] === '**') return;
    a.segs.push(seg);
  };
  let alts: Alt[] = [{ segs: [], cur: [] }];
  const star: Tok = { k: 'star' };
  for (const piece of pieces) {
    const next: Alt[] = [];
    for (const a of alts) {
      switch (piece.t) {
        case 'tok':
          if (piece.tok.k === 'star' && a.cur[a.cur.length - 1]?.k === 'star') next.push(a);
          else next.push({ ...a, cur: [...a.cur, piece.tok] });
          break;
        case 'slash':
          if (a.cur.length === 0) break; // an empty segment: no path has one
          next.push({ segs: [...a.segs, a.cur], cur: [] });
          break;
        case 'dslash':
          if (a.cur.length === 0) {
            const b: Alt = { segs: [...a.segs], cur: [] };
            pushSeg(b, '**');
            next.push(b);
          } else {
            next.push(a); // the group matched nothing
            const b: Alt = { segs: [...a.segs], cur: [] };
            pushSeg(b, a.cur[a.cur.length - 1]?.k === 'star' ? a.cur : [...a.cur, star]);
            pushSeg(b, '**');
            next.push(b);
          }
          break;
        case 'dotstar':
          next.push({ ...a, cur: a.cur[a.cur.length - 1]?.k === 'star' ? a.cur : [...a.cur, star] });
          break;
        case 'anything': {
          const b: Alt = { segs: [...a.segs], cur: [] };
          pushSeg(b, '**');
          next.push({ ...b, cur: [star] });
          break;
        }
      }
    }
    alts = next;
  }
  const out: Seg[][] = [];
  const seen = new Set<string>();
  for (const a of alts) {
    const segs = [...a.segs];
    if (a.cur.length > 0) segs.push(a.cur);
    else if (segs.length === 0 || segs[segs.length - 1] !== '**') continue; // "" or a trailing '/': never a path
    // A literal "." or ".." segment is never part of a path (and git refuses such a pathspec).
    if (segs.some((s) => s !== '**' && s.every((t) => t.k === 'lit') && /^\.\.?$/.test(s.map((t) => (t as { c: string }).c).join('')))) continue;
    const key = JSON.stringify(segs);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(segs);
    }
  }
  return out;
}
