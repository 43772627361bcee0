// Path globs in Go filepath.Match syntax (plus a whole-segment `**`), compiled once into matchers
// and translated into git pathspecs. A glob here has "region" semantics: it selects every path it
// matches *and everything below such a path* (a COPY of a directory, an exclusion). Matching
// never backtracks exponentially: segments against segments, characters against tokens, each in
// O(n·m) (a hostile `*a*a*a…b` costs microseconds). .dockerignore lines are not read here but in
// dockerignore.ts, whose Docker semantics differ; they come back as globs of this model.
//
// The small glob algebra (minus a literal path, restrict to a directory) exists because git
// pathspecs cannot re-include what an exclude removed: `!keep` exceptions are turned into
// excludes that never cover the kept path. Nothing here imports `vscode`.

/** One character-level token of a path segment. */
export type Tok =
  | { k: 'lit'; c: string }
  | { k: 'any' } // ?
  | { k: 'star' } // *
  | { k: 'cls'; neg: boolean; ranges: Array<[string, string]> }; // [a-z] / [^a-z]

/** A path segment: `**` (any number of segments) or a token list. */
export type Seg = '**' | Tok[];

export interface ParseOptions {
  /** A whole `**` segment spans directories (config globs, --exclude). Otherwise it is `*` (COPY sources). */
  doubleStar: boolean;
}

/** Parses a slash-separated glob (already cleaned, no leading '/'). Returns null if unsupported. */
export function parseGlob(pattern: string, opts: ParseOptions): Seg[] | null {
  if (pattern === '' || pattern === '.') return [];
  const segs: Seg[] = [];
  for (const raw of splitSegments(pattern)) {
    if (raw === '') continue;
    if (raw === '**' && opts.doubleStar) {
      if (segs[segs.length - 1] !== '**') segs.push('**');
      continue;
    }
    const toks = parseSegment(raw);
    if (!toks) return null;
    segs.push(toks);
  }
  return segs;
}

function splitSegments(pattern: string): string[] {
  // '/' inside a class or after '\' does not split (it could never match anyway, but keep tokens intact).
  const out: string[] = [];
  let cur = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\' && i + 1 < pattern.length) {
      cur += ch + pattern[++i];
    } else if (ch === '[' && !inClass) {
      inClass = true;
      cur += ch;
    } else if (ch === ']' && inClass) {
      inClass = false;
      cur += ch;
    } else if (ch === '/' && !inClass) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function parseSegment(s: string): Tok[] | null {
  const toks: Tok[] = [];
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '*') {
      while (s[i + 1] === '*') i++;
      if (toks.length === 0 || toks[toks.length - 1].k !== 'star') toks.push({ k: 'star' });
    } else if (ch === '?') toks.push({ k: 'any' });
    else if (ch === '\\') {
      if (i + 1 >= s.length) return null;
      toks.push({ k: 'lit', c: s[++i] });
    } else if (ch === '[') {
      let j = i + 1;
      let neg = false;
      if (s[j] === '^') {
        neg = true;
        j++;
      }
      const ranges: Array<[string, string]> = [];
      let closed = false;
      while (j < s.length) {
        let c = s[j];
        if (c === ']') {
          closed = true;
          break;
        }
        if (c === '\\') c = s[++j];
        if (c === undefined) return null;
        let hi = c;
        if (s[j + 1] === '-' && s[j + 2] !== undefined && s[j + 2] !== ']') {
          hi = s[j + 2] === '\\' ? s[j + 3] : s[j + 2];
          j += s[j + 2] === '\\' ? 3 : 2;
          if (hi === undefined || hi < c) return null;
        }
        ranges.push([c, hi]);
        j++;
      }
      if (!closed || ranges.length === 0) return null;
      // `[*]` is just an escaped literal; keeping it literal lets more pathspecs stay exact.
      if (!neg && ranges.length === 1 && ranges[0][0] === ranges[0][1]) toks.push({ k: 'lit', c: ranges[0][0] });
      else toks.push({ k: 'cls', neg, ranges });
      i = j;
    } else {
      toks.push({ k: 'lit', c: ch });
    }
  }
  return toks;
}

export function isLiteralSeg(seg: Seg): seg is Tok[] {
  return seg !== '**' && seg.every((t) => t.k === 'lit');
}
export function isLiteral(segs: Seg[]): boolean {
  return segs.every(isLiteralSeg);
}
export function literalSeg(seg: Tok[]): string {
  return seg.map((t) => (t.k === 'lit' ? t.c : '')).join('');
}
export function literalPath(segs: Seg[]): string {
  return segs.map((s) => literalSeg(s as Tok[])).join('/');
}
export function litSegs(path: string): Seg[] {
  return path === '' ? [] : path.split('/').map((p) => [...p].map((c): Tok => ({ k: 'lit', c })));
}

// ---------------------------------------------------------------- matching

/** What the characters of a name are compared as: code points (Go's filepath.Match) or UTF-8 bytes (git's wildmatch). */
type Units = 'codepoints' | 'bytes';

/** A token over single units: literals split into their units. */
type UTok = { k: 'unit'; u: number } | { k: 'any' } | { k: 'star' } | { k: 'cls'; neg: boolean; ranges: Array<[number, number]> };

const SLASH = 0x2f;

function units(s: string, mode: Units): number[] {
  if (mode === 'bytes') return [...Buffer.from(s, 'utf8')];
  const out: number[] = [];
  for (const ch of s) out.push(ch.codePointAt(0)!);
  return out;
}

function unitToks(seg: Tok[], mode: Units): UTok[] {
  const out: UTok[] = [];
  for (const t of seg) {
    if (t.k === 'lit') for (const u of units(t.c, mode)) out.push({ k: 'unit', u });
    else if (t.k === 'cls') out.push({ k: 'cls', neg: t.neg, ranges: t.ranges.map(([a, b]) => [a.codePointAt(0)!, b.codePointAt(0)!]) });
    else out.push(t);
  }
  return out;
}

function unitMatches(t: UTok, u: number): boolean {
  switch (t.k) {
    case 'unit':
      return t.u === u;
    case 'any':
    case 'star':
      return u !== SLASH;
    case 'cls': {
      if (u === SLASH) return false;
      const hit = t.ranges.some(([a, b]) => u >= a && u <= b);
      return t.neg ? !hit : hit;
    }
  }
}

/**
 * One segment against one name (no '/'): the classic single-star algorithm, which resumes after
 * the last `*` instead of backtracking through all of them. O(tokens × units), never exponential.
 */
function segmentMatches(toks: UTok[], name: number[]): boolean {
  let i = 0;
  let j = 0;
  let starI = -1;
  let starJ = 0;
  while (j < name.length) {
    if (i < toks.length && toks[i].k === 'star') {
      starI = i++;
      starJ = j;
    } else if (i < toks.length && unitMatches(toks[i], name[j])) {
      i++;
      j++;
    } else if (starI >= 0 && name[starJ] !== SLASH) {
      i = starI + 1;
      j = ++starJ;
    } else return false;
  }
  while (i < toks.length && toks[i].k === 'star') i++;
  return i === toks.length;
}

type CSeg = '**' | UTok[];

/**
 * Segments against path segments. `**` spans zero or more segments; a trailing `**` after another
 * segment spans one or more (`a/**` is below `a`). `region`: the path may also lie below a match.
 */
function pathMatches(segs: CSeg[], path: string, region: boolean, mode: Units): boolean {
  const names = path === '' ? [] : path.split('/').map((p) => units(p, mode));
  const n = names.length;
  let reach = new Uint8Array(n + 1);
  reach[0] = 1;
  segs.forEach((seg, gi) => {
    const next = new Uint8Array(n + 1);
    if (seg === '**') {
      const min = gi === segs.length - 1 && gi > 0 ? 1 : 0;
      let first = -1;
      for (let j = 0; j <= n; j++) if (reach[j]) {
        first = j;
        break;
      }
      if (first >= 0) for (let j = first + min; j <= n; j++) next[j] = 1;
    } else {
      for (let j = 0; j < n; j++) if (reach[j] && segmentMatches(seg, names[j])) next[j + 1] = 1;
    }
    reach = next;
  });
  if (!region) return reach[n] === 1;
  return reach.some((v) => v === 1);
}

function compile(segs: Seg[], mode: Units): CSeg[] {
  return segs.map((s) => (s === '**' ? '**' : unitToks(s, mode)));
}

/** Compiles a region matcher: true for paths matched by the glob or lying below one. */
export function compileRegion(segs: Seg[], mode: Units = 'codepoints'): (path: string) => boolean {
  if (segs.length === 0) return () => true;
  const c = compile(segs, mode);
  return (p) => pathMatches(c, p, true, mode);
}

/** Compiles an exact matcher (no descendants). */
export function compileExact(segs: Seg[], mode: Units = 'codepoints'): (path: string) => boolean {
  if (segs.length === 0) return (p) => p === '';
  const c = compile(segs, mode);
  return (p) => pathMatches(c, p, false, mode);
}

// ---------------------------------------------------------------- git pathspecs

function gitTok(t: Tok): string {
  switch (t.k) {
    case 'lit':
      return /[*?[\]\\]/.test(t.c) ? `\\${t.c}` : t.c;
    case 'any':
      return '?';
    case 'star':
      return '*';
    case 'cls':
      return `[${t.neg ? '!' : ''}${t.ranges.map(([a, b]) => (a === b ? clsChar(a) : `${clsChar(a)}-${clsChar(b)}`)).join('')}]`;
  }
}
function clsChar(c: string): string {
  return /[\]\\!^[-]/.test(c) ? `\\${c}` : c;
}

export function gitGlobBody(segs: Seg[]): string {
  return segs.map((s) => (s === '**' ? '**' : s.map(gitTok).join(''))).join('/');
}

/**
 * Git pathspecs selecting the region of `segs`. Verified with git 2.39: a literal spec also
 * selects everything below a directory, a `glob` spec does NOT (`src/*.go` misses
 * `src/x.go/a`), hence the extra `/**` spec; `:(top)` alone selects the whole repo.
 */
export function regionPathspecs(segs: Seg[], exclude: boolean): string[] {
  const ex = exclude ? 'exclude,' : '';
  if (segs.length === 0) return exclude ? [`:(top,exclude)`] : [':(top)'];
  if (isLiteral(segs)) return [`:(top,${ex}literal)${literalPath(segs)}`];
  const body = gitGlobBody(segs);
  if (segs[segs.length - 1] === '**') return [`:(top,${ex}glob)${body}`];
  return [`:(top,${ex}glob)${body}`, `:(top,${ex}glob)${body}/**`];
}

/** Parses a glob body as gitGlobBody writes it (git's wildmatch syntax); null if it is not one. */
function parseGitGlobBody(body: string): Seg[] | null {
  const segs: Seg[] = [];
  for (const raw of body.split('/')) {
    if (raw === '**') {
      segs.push('**');
      continue;
    }
    if (raw === '') return null;
    const toks: Tok[] = [];
    for (let i = 0; i < raw.length; i++) {
      const ch = raw[i];
      if (ch === '\\') {
        if (i + 1 >= raw.length) return null;
        toks.push({ k: 'lit', c: raw[++i] });
      } else if (ch === '?') toks.push({ k: 'any' });
      else if (ch === '*') {
        if (raw[i + 1] === '*') return null; // gitGlobBody writes `**` only as a whole segment
        toks.push({ k: 'star' });
      } else if (ch === '[') {
        let j = i + 1;
        const neg = raw[j] === '!';
        if (neg) j++;
        const ranges: Array<[string, string]> = [];
        const char = (): string | null => {
          if (raw[j] === '\\') j++;
          const c = raw[j];
          if (c === undefined) return null;
          j++;
          return c;
        };
        while (j < raw.length && raw[j] !== ']') {
          const lo = char();
          if (lo === null) return null;
          let hi = lo;
          if (raw[j] === '-' && raw[j + 1] !== ']') {
            j++;
            const h = char();
            if (h === null) return null;
            hi = h;
          }
          ranges.push([lo, hi]);
        }
        if (raw[j] !== ']' || ranges.length === 0) return null;
        toks.push({ k: 'cls', neg, ranges });
        i = j;
      } else if (ch === ']') return null;
      else toks.push({ k: 'lit', c: ch });
    }
    segs.push(toks);
  }
  return segs;
}

/**
 * A matcher for one pathspec of the forms regionPathspecs writes (`:(top[,exclude])`,
 * `:(top[,exclude],literal)path`, `:(top[,exclude],glob)body`), with git's semantics: a literal
 * spec selects the path and everything below it, a glob spec only the paths it matches. Null
 * for any other form: the caller then leaves the matching to git.
 */
export function gitPathspecMatcher(spec: string): { exclude: boolean; matches: (path: string) => boolean } | null {
  const m = /^:\(top(,exclude)?(?:,(literal|glob))?\)(.*)$/s.exec(spec);
  if (!m) return null;
  const exclude = m[1] !== undefined;
  const [, , kind, body] = m;
  if (!kind) return body === '' ? { exclude, matches: () => true } : null;
  if (body === '' || body.startsWith('/') || body.endsWith('/')) return null;
  if (kind === 'literal') {
    return { exclude, matches: (p) => p === body || (p.startsWith(body) && p[body.length] === '/') };
  }
  const segs = parseGitGlobBody(body);
  // git's wildmatch compares bytes: `?` is one byte of a multi-byte name.
  return segs ? { exclude, matches: compileExact(segs, 'bytes') } : null;
}

/** Literal directory prefix of a glob (segments before the first wildcard). */
export function literalPrefix(segs: Seg[]): string[] {
  const out: string[] = [];
  for (const s of segs) {
    if (!isLiteralSeg(s)) break;
    out.push(literalSeg(s));
  }
  return out;
}

// ---------------------------------------------------------------- algebra

const LIMIT = 150;
class TooBig extends Error {}

function tokMatchesChar(t: Tok, c: string): boolean {
  switch (t.k) {
    case 'lit':
      return t.c === c;
    case 'any':
    case 'star':
      return c !== '/';
    case 'cls': {
      const hit = t.ranges.some(([a, b]) => c >= a && c <= b);
      return t.neg ? !hit : hit;
    }
  }
}

/** A single-char token matching what `t` matches, except `c`; null if empty. */
function charTokMinus(t: Tok, c: string): Tok | null {
  if (t.k === 'any' || t.k === 'star') return { k: 'cls', neg: true, ranges: [[c, c]] };
  if (t.k === 'lit') return t.c === c ? null : t;
  if (t.k === 'cls') {
    if (t.neg) return { k: 'cls', neg: true, ranges: [...t.ranges, [c, c]] };
    const ranges: Array<[string, string]> = [];
    for (const [a, b] of t.ranges) {
      if (c < a || c > b) ranges.push([a, b]);
      else {
        if (a < c) ranges.push([a, String.fromCharCode(c.charCodeAt(0) - 1)]);
        if (c < b) ranges.push([String.fromCharCode(c.charCodeAt(0) + 1), b]);
      }
    }
    return ranges.length ? { k: 'cls', neg: false, ranges } : null;
  }
  return null;
}

/** Token lists whose union matches every name `toks` matches except exactly `s`. */
function segMinusLiteral(toks: Tok[], s: string, budget: { n: number }): Tok[][] {
  if (--budget.n < 0) throw new TooBig();
  if (toks.length === 0) return s === '' ? [] : [[]];
  if (s === '') {
    // Every non-empty match: if toks can match '' it is all stars; then "one char, then anything".
    return toks.every((t) => t.k === 'star') ? [[{ k: 'any' }, { k: 'star' }]] : [toks];
  }
  const [t, ...rest] = toks;
  const c = s[0];
  if (t.k === 'star') {
    const out = segMinusLiteral(rest, s, budget); // star matches nothing
    const other = charTokMinus(t, c);
    if (other) out.push([other, ...toks]); // first char differs from s
    for (const r of segMinusLiteral(toks, s.slice(1), budget)) out.push([{ k: 'lit', c }, ...r]);
    return out;
  }
  const out: Tok[][] = [];
  const other = charTokMinus(t, c);
  if (other) out.push([other, ...rest]);
  if (tokMatchesChar(t, c)) for (const r of segMinusLiteral(rest, s.slice(1), budget)) out.push([{ k: 'lit', c }, ...r]);
  return out;
}

function segMatchesLiteral(seg: Tok[], s: string): boolean {
  return compileExact([seg])(s);
}

/**
 * Globs whose regions together cover region(segs) minus region(lit), where lit is a literal path
 * (its segments). Paths that are exactly a proper ancestor of `lit` (a file where the kept path
 * needs a directory) are dropped from the result, making it a subset.
 */
function minusLiteral(segs: Seg[], lit: string[], budget: { n: number }): Seg[][] {
  if (--budget.n < 0) throw new TooBig();
  if (lit.length === 0) return [];
  if (segs.length === 0) {
    // Everything below here, except region(lit): diverge from lit at some depth.
    const out: Seg[][] = [];
    for (let i = 0; i < lit.length; i++) {
      for (const piece of segMinusLiteral([{ k: 'star' }], lit[i], budget)) {
        if (piece.length > 0) out.push([...litSegs(lit.slice(0, i).join('/')), piece]);
      }
    }
    return out;
  }
  const [head, ...rest] = segs;
  const out: Seg[][] = [];
  if (head === '**') {
    // `**` consumes no segment ...
    out.push(...minusLiteral(rest, lit, budget));
    // ... or one segment that differs from lit[0] (then `**` goes on), or that equals it.
    for (const piece of segMinusLiteral([{ k: 'star' }], lit[0], budget)) if (piece.length > 0) out.push([piece, ...segs]);
    for (const r of minusLiteral(segs, lit.slice(1), budget)) out.push([...litSegs(lit[0]), ...r]);
    return out;
  }
  for (const piece of segMinusLiteral(head, lit[0], budget)) if (piece.length > 0) out.push([piece, ...rest]);
  if (segMatchesLiteral(head, lit[0])) {
    for (const r of minusLiteral(rest, lit.slice(1), budget)) out.push([...litSegs(lit[0]), ...r]);
  }
  return out;
}

/** region(segs) minus the regions of literal paths; null when the result would be too large. */
export function minusLiterals(segs: Seg[], lits: string[][]): Seg[][] | null {
  let cur: Seg[][] = [segs];
  try {
    for (const lit of lits) {
      const next: Seg[][] = [];
      for (const c of cur) next.push(...minusLiteral(c, lit, { n: LIMIT * 4 }));
      if (next.length > LIMIT) return null;
      cur = next;
    }
  } catch (e) {
    if (e instanceof TooBig) return null;
    throw e;
  }
  return cur;
}

/** Restricts region(segs) to paths below the literal directory `dir`; globs all start with `dir`. */
export function restrictToDir(segs: Seg[], dir: string[]): Seg[][] {
  if (dir.length === 0) return [segs];
  if (segs.length === 0) return [litSegs(dir.join('/'))];
  const [head, ...rest] = segs;
  const d0 = litSegs(dir[0]);
  if (head === '**') {
    const out = restrictToDir(rest, dir);
    for (const r of restrictToDir(segs, dir.slice(1))) out.push([...d0, ...r]);
    return dedupe(out);
  }
  if (!segMatchesLiteral(head, dir[0])) return [];
  return restrictToDir(rest, dir.slice(1)).map((r) => [...d0, ...r]);
}

function dedupe(list: Seg[][]): Seg[][] {
  const seen = new Set<string>();
  return list.filter((s) => {
    const k = gitGlobBody(s);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * Conservative overlap test of two regions: false only when no path can be in both.
 * Compares the leading literal segments; any wildcard means "maybe".
 */
export function mayOverlap(a: Seg[], b: Seg[]): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    if (x === '**' || y === '**') return true;
    if (isLiteralSeg(x) && isLiteralSeg(y)) {
      if (literalSeg(x) !== literalSeg(y)) return false;
      continue;
    }
    if (!segsIntersect(x, y)) return false;
  }
  return true;
}

function charsIntersect(a: Tok, b: Tok): boolean {
  if (a.k === 'lit') return tokMatchesChar(b, a.c);
  if (b.k === 'lit') return tokMatchesChar(a, b.c);
  if (a.k === 'cls' && b.k === 'cls' && !a.neg && !b.neg) {
    return a.ranges.some(([lo, hi]) => b.ranges.some(([lo2, hi2]) => lo <= hi2 && lo2 <= hi));
  }
  return true; // `?` or negated classes: assume some common character
}

/** Whether some name matches both segment globs. */
function segsIntersect(a: Tok[], b: Tok[]): boolean {
  const memo = new Map<number, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = i * (b.length + 1) + j;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    memo.set(key, false);
    let r: boolean;
    if (i === a.length) r = b.slice(j).every((t) => t.k === 'star');
    else if (j === b.length) r = a.slice(i).every((t) => t.k === 'star');
    else if (a[i].k === 'star') r = go(i + 1, j) || go(i, j + 1);
    else if (b[j].k === 'star') r = go(i, j + 1) || go(i + 1, j);
    else r = charsIntersect(a[i], b[j]) && go(i + 1, j + 1);
    memo.set(key, r);
    return r;
  };
  return go(0, 0);
}
