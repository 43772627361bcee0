// The part of Go's regexp syntax (RE2, `regexp.Compile` flags: Perl) that moby's patternmatcher
// can produce when it turns a .dockerignore line into a regular expression, and a matcher for it
// that runs in time linear in the path (a lazily built DFA over a Thompson NFA, never
// backtracking). Docker interprets a pattern by this syntax, quirks included: a user's `[`…`]`
// is handed to Go's class parser as is, `\d` is a digit class, `\Q` quotes the rest. Parsing
// errors are Go's (`regexp.Compile` would fail, and Docker then fails the build).
//
// Semantics follow https://pkg.go.dev/regexp/syntax: `.` does not match `\n`; negated classes do;
// `^`/`$` are the start/end of the text; `\b` is an ASCII word boundary; matching is on code points.

/** A set of code points: sorted, disjoint, inclusive ranges. */
export type RuneRanges = Array<[number, number]>;

const MAX_RUNE = 0x10ffff;

/** A single-character test: ranges, or a Unicode property (not expressible as a git class). */
export interface CharClass {
  ranges: RuneRanges;
  /** Unicode-property pieces (from `\pL`); when present, `ranges` are only part of the set. */
  props: Array<{ re: RegExp; negated: boolean }>;
  /** Applied after the union of ranges and props. */
  negated: boolean;
}

export type Node =
  | { op: 'char'; cls: CharClass }
  | { op: 'anyNotNL' }
  | { op: 'assert'; kind: 'begin' | 'end' | 'word' | 'noWord' }
  | { op: 'concat'; subs: Node[] }
  | { op: 'alt'; subs: Node[] }
  | { op: 'star' | 'plus' | 'quest'; sub: Node }
  | { op: 'group'; sub: Node };

export class GoRegexpError extends Error {
  override name = 'GoRegexpError';
  constructor(
    /** Go's error code text, e.g. "invalid character class range". */
    readonly code: string,
    readonly expr: string,
  ) {
    super(`error parsing regexp: ${code}: \`${expr}\``);
  }
}

// ---------------------------------------------------------------- classes

export function classHas(cls: CharClass, cp: number): boolean {
  let hit = inRanges(cls.ranges, cp);
  if (!hit && cls.props.length) {
    const ch = String.fromCodePoint(cp);
    hit = cls.props.some((p) => p.re.test(ch) !== p.negated);
  }
  return hit !== cls.negated;
}

function inRanges(r: RuneRanges, cp: number): boolean {
  let lo = 0;
  let hi = r.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < r[mid][0]) hi = mid - 1;
    else if (cp > r[mid][1]) lo = mid + 1;
    else return true;
  }
  return false;
}

export function normalizeRanges(r: RuneRanges): RuneRanges {
  const s = [...r].sort((a, b) => a[0] - b[0]);
  const out: RuneRanges = [];
  for (const [a, b] of s) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

export function negateRanges(r: RuneRanges): RuneRanges {
  const n = normalizeRanges(r);
  const out: RuneRanges = [];
  let next = 0;
  for (const [a, b] of n) {
    if (a > next) out.push([next, a - 1]);
    next = b + 1;
  }
  if (next <= MAX_RUNE) out.push([next, MAX_RUNE]);
  return out;
}

/** The exact set of a class when it has no Unicode-property piece; null otherwise. */
export function classRanges(cls: CharClass): RuneRanges | null {
  if (cls.props.length) return null;
  return cls.negated ? negateRanges(cls.ranges) : normalizeRanges(cls.ranges);
}

const lit = (cp: number): CharClass => ({ ranges: [[cp, cp]], props: [], negated: false });

const PERL: Record<string, RuneRanges> = {
  d: [[0x30, 0x39]],
  s: [[0x09, 0x0a], [0x0c, 0x0d], [0x20, 0x20]],
  w: [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]],
};

const POSIX: Record<string, RuneRanges> = {
  alnum: [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]],
  alpha: [[0x41, 0x5a], [0x61, 0x7a]],
  ascii: [[0x00, 0x7f]],
  blank: [[0x09, 0x09], [0x20, 0x20]],
  cntrl: [[0x00, 0x1f], [0x7f, 0x7f]],
  digit: [[0x30, 0x39]],
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]],
  space: [[0x09, 0x0d], [0x20, 0x20]],
  upper: [[0x41, 0x5a]],
  word: [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]],
  xdigit: [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]],
};

/** Go's one-letter Unicode categories (`\pL`); `C` is Go's Cc|Cf|Co|Cs (no unassigned code points). */
const UNICODE_ONE_LETTER: Record<string, string> = {
  C: '[\\p{Cc}\\p{Cf}\\p{Co}\\p{Cs}]',
  L: '\\p{L}',
  M: '\\p{M}',
  N: '\\p{N}',
  P: '\\p{P}',
  S: '\\p{S}',
  Z: '\\p{Z}',
};

// ---------------------------------------------------------------- parser

/** `\A`, `\z`, `\b`, `\B`: the zero-width escapes. */
const ESCAPE_ASSERTS: Record<number, 'begin' | 'end' | 'word' | 'noWord'> = { 0x41: 'begin', 0x7a: 'end', 0x62: 'word', 0x42: 'noWord' };

const isAlnum = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const hexVal = (c: number) => (c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 55 : c >= 0x61 && c <= 0x66 ? c - 87 : -1);

/** Parses `src` as Go's regexp/syntax does with the Perl flags; throws GoRegexpError like regexp.Compile. */
export function parseGoRegexp(src: string): Node {
  const cps: number[] = [];
  for (const ch of src) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xd800 && cp <= 0xdfff) throw new GoRegexpError('invalid UTF-8', src);
    cps.push(cp);
  }
  let i = 0;
  const text = (from: number, to = i) => {
    let out = '';
    for (let k = from; k < to && k < cps.length; k++) out += String.fromCodePoint(cps[k]);
    return out;
  };

  /** One escape after `\` at cps[i] (i points at the backslash). Returns a code point. */
  const escape = (): number => {
    const start = i;
    i++;
    if (i >= cps.length) throw new GoRegexpError('trailing backslash at end of expression', '');
    const c = cps[i++];
    if (c < 0x80 && !isAlnum(c)) return c;
    // Octal: \0 with up to two more digits, or \1-\7 followed by one (a lone \1 is a backreference).
    if (c === 0x30 || (c >= 0x31 && c <= 0x37 && i < cps.length && cps[i] >= 0x30 && cps[i] <= 0x37)) {
      let r = c - 0x30;
      for (let k = 1; k < 3 && i < cps.length && cps[i] >= 0x30 && cps[i] <= 0x37; k++) r = r * 8 + cps[i++] - 0x30;
      return r;
    }
    switch (String.fromCharCode(c)) {
      case 'x': {
        if (i >= cps.length) break;
        const c1 = cps[i++];
        if (c1 === 0x7b) {
          let r = 0;
          let n = 0;
          for (;;) {
            if (i >= cps.length) throw new GoRegexpError('invalid escape sequence', text(start));
            const d = cps[i++];
            if (d === 0x7d) break;
            const v = hexVal(d);
            if (v < 0) throw new GoRegexpError('invalid escape sequence', text(start));
            r = r * 16 + v;
            if (r > MAX_RUNE) throw new GoRegexpError('invalid escape sequence', text(start));
            n++;
          }
          if (n === 0) throw new GoRegexpError('invalid escape sequence', text(start));
          return r;
        }
        if (i >= cps.length) throw new GoRegexpError('invalid escape sequence', text(start));
        const x = hexVal(c1);
        const y = hexVal(cps[i++]);
        if (x < 0 || y < 0) break;
        return x * 16 + y;
      }
      case 'a': return 7;
      case 'f': return 12;
      case 'n': return 10;
      case 'r': return 13;
      case 't': return 9;
      case 'v': return 11;
      default:
        break;
    }
    throw new GoRegexpError('invalid escape sequence', text(start, i));
  };

  /** `\d`-style or `\pL`-style class at cps[i] (a backslash); null when it is neither. */
  const classEscape = (): CharClass | null => {
    if (cps[i] !== 0x5c || i + 1 >= cps.length) return null;
    const c = String.fromCodePoint(cps[i + 1]);
    if ('dDsSwW'.includes(c)) {
      i += 2;
      return { ranges: PERL[c.toLowerCase()], props: [], negated: c !== c.toLowerCase() };
    }
    if (c === 'p' || c === 'P') {
      const start = i;
      i += 2;
      if (i >= cps.length) throw new GoRegexpError('invalid character class range', text(start));
      let name: string;
      if (cps[i] === 0x7b) {
        const end = cps.indexOf(0x7d, i);
        if (end < 0) throw new GoRegexpError('invalid character class range', text(start, cps.length));
        name = text(i + 1, end);
        i = end + 1;
      } else {
        name = String.fromCodePoint(cps[i++]);
      }
      let negated = c === 'P';
      if (name.startsWith('^')) {
        negated = !negated;
        name = name.slice(1);
      }
      const re = unicodeTable(name);
      if (!re) throw new GoRegexpError('invalid character class range', text(start));
      return { ranges: [], props: [{ re, negated: false }], negated };
    }
    return null;
  };

  const parseClass = (): CharClass => {
    const whole = i;
    i++; // [
    const out: CharClass = { ranges: [], props: [], negated: false };
    if (cps[i] === 0x5e) {
      out.negated = true;
      i++;
    }
    const pieces: CharClass[] = [];
    let first = true;
    while (i >= cps.length || cps[i] !== 0x5d || first) {
      first = false;
      // POSIX [:name:]: Go looks for the closing ":]" anywhere in the rest.
      if (i + 2 < cps.length && cps[i] === 0x5b && cps[i + 1] === 0x3a) {
        let end = -1;
        for (let k = i + 2; k + 1 < cps.length; k++) {
          if (cps[k] === 0x3a && cps[k + 1] === 0x5d) {
            end = k;
            break;
          }
        }
        if (end >= 0) {
          let name = text(i + 2, end);
          const seq = text(i, end + 2);
          let neg = false;
          if (name.startsWith('^')) {
            neg = true;
            name = name.slice(1);
          }
          const g = Object.prototype.hasOwnProperty.call(POSIX, name) ? POSIX[name] : undefined;
          if (!g) throw new GoRegexpError('invalid character class range', seq);
          pieces.push({ ranges: neg ? negateRanges(g) : g, props: [], negated: false });
          i = end + 2;
          continue;
        }
      }
      const esc = classEscape();
      if (esc) {
        pieces.push(esc);
        continue;
      }
      const rangeStart = i;
      const classChar = (): number => {
        if (i >= cps.length) throw new GoRegexpError('missing closing ]', text(whole, cps.length));
        if (cps[i] === 0x5c) return escape();
        return cps[i++];
      };
      const lo = classChar();
      let hi = lo;
      if (i + 1 < cps.length && cps[i] === 0x2d && cps[i + 1] !== 0x5d) {
        i++;
        hi = classChar();
        if (hi < lo) throw new GoRegexpError('invalid character class range', text(rangeStart));
      }
      pieces.push({ ranges: [[lo, hi]], props: [], negated: false });
    }
    i++; // ]
    for (const p of pieces) {
      if (p.props.length) out.props.push(...p.props.map((q) => ({ re: q.re, negated: q.negated !== p.negated })));
      else out.ranges.push(...(p.negated ? negateRanges(p.ranges) : p.ranges));
    }
    out.ranges = normalizeRanges(out.ranges);
    return out;
  };

  // Operator-precedence parsing of alternation / concatenation / repetition, as Go's parser does it.
  const parseAlt = (depth: number): Node => {
    const alts: Node[] = [];
    let cur: Node[] = [];
    /** Whether the last item may take a repetition operator (not after one, not at the start). */
    let lastRepeatable = false;
    let lastWasRepeat = false;
    let repeatStart = 0;
    while (i < cps.length) {
      const c = cps[i];
      if (c === 0x7c) {
        // |
        i++;
        alts.push({ op: 'concat', subs: cur });
        cur = [];
        lastRepeatable = false;
        lastWasRepeat = false;
        continue;
      }
      if (c === 0x29) {
        // )
        if (depth === 0) throw new GoRegexpError('unexpected )', src);
        break;
      }
      if (c === 0x2a || c === 0x2b || c === 0x3f) {
        // * + ? (a following `?` makes it non-greedy: the same set of matches)
        const opStart = i;
        i++;
        if (cps[i] === 0x3f) i++;
        if (lastWasRepeat) throw new GoRegexpError('invalid nested repetition operator', text(repeatStart, i));
        if (!lastRepeatable) throw new GoRegexpError('missing argument to repetition operator', text(opStart, i));
        const sub = cur.pop()!;
        cur.push({ op: c === 0x2a ? 'star' : c === 0x2b ? 'plus' : 'quest', sub });
        lastWasRepeat = true;
        repeatStart = opStart;
        continue;
      }
      if (c === 0x7b) {
        // A `{n,m}` repetition would need its own support; moby escapes every `{`, so it never
        // reaches Go's parser unescaped. Go takes a `{` that starts no repetition literally.
        if (/^\{\d+(,\d*)?\}/.test(text(i, Math.min(cps.length, i + 24)))) {
          throw new GoRegexpError('repetition ranges are not supported here', text(i, Math.min(cps.length, i + 24)));
        }
      }
      lastWasRepeat = false;
      lastRepeatable = true;
      cur.push(parseAtom(depth));
    }
    alts.push({ op: 'concat', subs: cur });
    return alts.length === 1 ? alts[0] : { op: 'alt', subs: alts };
  };
  const parseAtom = (depth: number): Node => {
    const c = cps[i];
    switch (c) {
      case 0x28: {
        // (
        if (cps[i + 1] === 0x3f) throw new GoRegexpError('flag groups are not supported here', text(i, Math.min(cps.length, i + 3)));
        const open = i;
        i++;
        const sub = parseAlt(depth + 1);
        if (cps[i] !== 0x29) throw new GoRegexpError('missing closing )', text(open, cps.length));
        i++;
        return { op: 'group', sub };
      }
      case 0x5b:
        return { op: 'char', cls: parseClass() };
      case 0x2e:
        i++;
        return { op: 'anyNotNL' };
      case 0x5e:
        i++;
        return { op: 'assert', kind: 'begin' };
      case 0x24:
        i++;
        return { op: 'assert', kind: 'end' };
      case 0x5c: {
        const next = cps[i + 1];
        const assertion = ESCAPE_ASSERTS[next];
        if (assertion) {
          i += 2;
          return { op: 'assert', kind: assertion };
        }
        if (next === 0x43) throw new GoRegexpError('invalid escape sequence', '\\C');
        if (next === 0x51) {
          // \Q…\E: everything up to \E (or the end) is literal.
          i += 2;
          const subs: Node[] = [];
          while (i < cps.length && !(cps[i] === 0x5c && cps[i + 1] === 0x45)) subs.push({ op: 'char', cls: lit(cps[i++]) });
          if (i < cps.length) i += 2;
          return { op: 'concat', subs };
        }
        const cls = classEscape();
        if (cls) return { op: 'char', cls };
        return { op: 'char', cls: lit(escape()) };
      }
      default:
        i++;
        return { op: 'char', cls: lit(c) };
    }
  };

  const node = parseAlt(0);
  if (i < cps.length) throw new GoRegexpError('unexpected )', src);
  return node;
}

const unicodeCache = new Map<string, RegExp | null>();
function unicodeTable(name: string): RegExp | null {
  if (unicodeCache.has(name)) return unicodeCache.get(name)!;
  let re: RegExp | null = null;
  try {
    if (name === 'Any') re = /[\s\S]/u;
    else if (UNICODE_ONE_LETTER[name]) re = new RegExp(`^${UNICODE_ONE_LETTER[name]}$`, 'u');
    else if (/^[A-Z][a-z]$/.test(name)) re = new RegExp(`^\\p{gc=${name}}$`, 'u');
    else if (/^[A-Z][A-Za-z_]+$/.test(name)) re = new RegExp(`^\\p{Script=${name}}$`, 'u');
  } catch {
    re = null;
  }
  unicodeCache.set(name, re);
  return re;
}

// ---------------------------------------------------------------- program

type Inst =
  | { k: 'char'; test: (cp: number) => boolean; next: number }
  | { k: 'split'; x: number; y: number }
  | { k: 'jmp'; x: number }
  | { k: 'assert'; kind: 'begin' | 'end' | 'word' | 'noWord'; next: number }
  | { k: 'match' };

function compileProgram(node: Node): { insts: Inst[]; start: number } {
  const insts: Inst[] = [];
  // Each fragment returns its entry and a list of holes to patch with the continuation.
  type Frag = { start: number; holes: Array<(to: number) => void> };
  const emit = (inst: Inst) => insts.push(inst) - 1;
  const build = (n: Node): Frag => {
    switch (n.op) {
      case 'char':
      case 'anyNotNL': {
        const test = n.op === 'anyNotNL' ? (cp: number) => cp !== 10 : charTest(n.cls);
        const pc = emit({ k: 'char', test, next: -1 });
        return { start: pc, holes: [(to) => ((insts[pc] as { next: number }).next = to)] };
      }
      case 'assert': {
        const pc = emit({ k: 'assert', kind: n.kind, next: -1 });
        return { start: pc, holes: [(to) => ((insts[pc] as { next: number }).next = to)] };
      }
      case 'group':
        return build(n.sub);
      case 'concat': {
        if (n.subs.length === 0) {
          const pc = emit({ k: 'jmp', x: -1 });
          return { start: pc, holes: [(to) => ((insts[pc] as { x: number }).x = to)] };
        }
        const frags = n.subs.map(build);
        for (let k = 0; k + 1 < frags.length; k++) for (const h of frags[k].holes) h(frags[k + 1].start);
        return { start: frags[0].start, holes: frags[frags.length - 1].holes };
      }
      case 'alt': {
        const frags = n.subs.map(build);
        let start = frags[frags.length - 1].start;
        for (let k = frags.length - 2; k >= 0; k--) start = emit({ k: 'split', x: frags[k].start, y: start });
        return { start, holes: frags.flatMap((f) => f.holes) };
      }
      case 'star':
      case 'quest':
      case 'plus': {
        const sub = build(n.sub);
        const pc = emit({ k: 'split', x: sub.start, y: -1 });
        const out = (to: number) => ((insts[pc] as { y: number }).y = to);
        if (n.op === 'quest') return { start: pc, holes: [...sub.holes, out] };
        for (const h of sub.holes) h(pc);
        return { start: n.op === 'star' ? pc : sub.start, holes: [out] };
      }
    }
  };
  const f = build(node);
  const m = emit({ k: 'match' });
  for (const h of f.holes) h(m);
  return { insts, start: f.start };
}

function charTest(cls: CharClass): (cp: number) => boolean {
  if (!cls.props.length && !cls.negated && cls.ranges.length === 1 && cls.ranges[0][0] === cls.ranges[0][1]) {
    const c = cls.ranges[0][0];
    return (cp) => cp === c;
  }
  return (cp) => classHas(cls, cp);
}

const isWordCp = (cp: number | undefined) => cp !== undefined && cp < 0x80 && (isAlnum(cp) || cp === 0x5f);

/** Bound on cached DFA states per expression; past it, matching goes on as an NFA simulation. */
const DFA_STATE_LIMIT = 2000;

interface DState {
  pcs: number[];
  /** Contains `match` (reached without needing the end of the text). */
  accepting: boolean;
  next: Map<number, DState>;
}

/**
 * A compiled expression: `test(s)` is Go's `MatchString` (a match anywhere; moby anchors its
 * expressions with `^…$` itself). Linear in `s`: each code point advances a set of NFA states, and
 * state sets are cached as DFA states.
 */
export class GoRegexp {
  private readonly insts: Inst[];
  private readonly start: number;
  private readonly wordAsserts: boolean;
  private readonly dstates = new Map<string, DState>();
  private initial?: DState;

  constructor(readonly source: string) {
    const node = parseGoRegexp(source);
    const prog = compileProgram(node);
    this.insts = prog.insts;
    this.start = prog.start;
    this.wordAsserts = this.insts.some((x) => x.k === 'assert' && (x.kind === 'word' || x.kind === 'noWord'));
  }

  test(s: string): boolean {
    const cps: number[] = [];
    for (const ch of s) cps.push(ch.codePointAt(0)!);
    return this.wordAsserts ? this.simulate(cps) : this.runDfa(cps);
  }

  /** Adds the closure of `pc` at a position with the given context to `out` (deduplicated by `seen`). */
  private closure(pc: number, ctx: { begin: boolean; end: boolean; before?: number; after?: number }, seen: Uint8Array, out: number[]): void {
    const stack = [pc];
    while (stack.length) {
      const p = stack.pop()!;
      if (seen[p]) continue;
      seen[p] = 1;
      const inst = this.insts[p];
      switch (inst.k) {
        case 'jmp':
          stack.push(inst.x);
          break;
        case 'split':
          stack.push(inst.y, inst.x);
          break;
        case 'assert': {
          let ok: boolean;
          if (inst.kind === 'begin') ok = ctx.begin;
          else if (inst.kind === 'end') ok = ctx.end;
          else {
            const boundary = isWordCp(ctx.before) !== isWordCp(ctx.after);
            ok = inst.kind === 'word' ? boundary : !boundary;
          }
          if (ok) stack.push(inst.next);
          else if (inst.kind === 'end') out.push(p); // may hold at the end of the text
          break;
        }
        default:
          out.push(p);
      }
    }
  }

  private state(pcs: number[]): DState {
    pcs.sort((a, b) => a - b);
    const key = pcs.join(',');
    let st = this.dstates.get(key);
    if (!st) {
      st = { pcs, accepting: pcs.some((p) => this.insts[p].k === 'match'), next: new Map() };
      if (this.dstates.size < DFA_STATE_LIMIT) this.dstates.set(key, st);
    }
    return st;
  }

  private runDfa(cps: number[]): boolean {
    const n = this.insts.length;
    if (!this.initial) {
      const out: number[] = [];
      this.closure(this.start, { begin: true, end: false }, new Uint8Array(n), out);
      this.initial = this.state(out);
    }
    let st = this.initial;
    for (let i = 0; i < cps.length; i++) {
      if (st.accepting) return true;
      const cp = cps[i];
      let nx = st.next.get(cp);
      if (!nx) {
        const seen = new Uint8Array(n);
        const out: number[] = [];
        for (const p of st.pcs) {
          const inst = this.insts[p];
          if (inst.k === 'char' && inst.test(cp)) this.closure(inst.next, { begin: false, end: false }, seen, out);
        }
        // Unanchored search: a match may also start after this code point.
        this.closure(this.start, { begin: false, end: false }, seen, out);
        nx = this.state(out);
        if (st.next.size < 256) st.next.set(cp, nx);
      }
      st = nx;
    }
    if (st.accepting) return true;
    return this.acceptsAtEnd(st.pcs);
  }

  /** Whether some state, with the end-of-text assertions now true, reaches `match`. */
  private acceptsAtEnd(pcs: number[]): boolean {
    const seen = new Uint8Array(this.insts.length);
    const out: number[] = [];
    for (const p of pcs) {
      const inst = this.insts[p];
      if (inst.k === 'assert' && inst.kind === 'end') this.closure(inst.next, { begin: false, end: true }, seen, out);
      else if (inst.k === 'match') return true;
    }
    return out.some((p) => this.insts[p].k === 'match');
  }

  /** Plain NFA simulation, for expressions with word-boundary assertions (they look ahead one code point). */
  private simulate(cps: number[]): boolean {
    const n = this.insts.length;
    let cur: number[] = [];
    const ctxAt = (i: number) => ({ begin: i === 0, end: i === cps.length, before: cps[i - 1], after: cps[i] });
    this.closure(this.start, ctxAt(0), new Uint8Array(n), cur);
    for (let i = 0; ; i++) {
      if (cur.some((p) => this.insts[p].k === 'match')) return true;
      if (i === cps.length) return false;
      const seen = new Uint8Array(n);
      const next: number[] = [];
      const ctx = ctxAt(i + 1);
      for (const p of cur) {
        const inst = this.insts[p];
        if (inst.k === 'char' && inst.test(cps[i])) this.closure(inst.next, ctx, seen, next);
      }
      this.closure(this.start, ctx, seen, next);
      cur = next.filter((p) => this.insts[p].k !== 'assert');
    }
  }
}
