// Dockerfile structure comes from dockerfile-ast: instruction boundaries, line continuations,
// comments inside them, the escape directive and heredoc bodies. The arguments are then read
// from the raw source text ourselves, because dockerfile-ast's argument API drops flags from
// COPY/RUN (`--chmod`, `--mount`, ...), mangles JSON arrays with spaces ("a b.sh" -> "ab.sh")
// and has no --mount parsing. Variable expansion follows BuildKit's shell lexer.
// Reference: https://docs.docker.com/reference/dockerfile/
import { DockerfileParser } from 'dockerfile-ast';

export interface Heredoc {
  name: string;
  body: string;
  /** False when no line closes it: the rest of the file became its body. */
  terminated: boolean;
}

export interface RawInstruction {
  /** Upper-case keyword. */
  keyword: string;
  /** Arguments after the keyword, continuation lines joined with a space. */
  args: string;
  /** 1-based line of the keyword. */
  line: number;
  /** Keyword plus arguments on one line, for display. */
  text: string;
  heredocs: Heredoc[];
}

export interface LexedDockerfile {
  escape: string;
  instructions: RawInstruction[];
}

interface AstHeredoc {
  getName(): string;
  getContentRange(): { start: { line: number }; end: { line: number } } | null;
  getDelimiterRange(): { start: { line: number } } | null;
  getStartRange(): { start: { line: number; character: number } };
}

/** Splits a Dockerfile into logical instructions. Never throws. */
export function lexDockerfile(text: string): LexedDockerfile {
  const source = text.replace(/^\uFEFF/, '');
  const df = DockerfileParser.parse(source);
  const escape = df.getEscapeCharacter();
  const lines = source.split(/\r?\n/);
  const out: RawInstruction[] = [];
  for (const ins of df.getInstructions()) {
    const range = ins.getRange();
    const kw = ins.getInstructionRange();
    const keyword = ins.getKeyword().toUpperCase();
    const withHeredocs = ins as unknown as { getHeredocs?: () => AstHeredoc[] };
    const docs = (keyword === 'RUN' || keyword === 'COPY' || keyword === 'ADD') && withHeredocs.getHeredocs ? withHeredocs.getHeredocs() : [];
    // The instruction's own words end where the first heredoc body begins.
    let headerEnd = range.end.line;
    for (const h of docs) {
      const bodyStart = h.getContentRange()?.start.line ?? h.getDelimiterRange()?.start.line;
      if (bodyStart !== undefined) headerEnd = Math.min(headerEnd, bodyStart - 1);
    }
    const parts: string[] = [];
    for (let l = range.start.line; l <= headerEnd && l < lines.length; l++) {
      let line = l === range.start.line ? lines[l].slice(kw.end.character) : lines[l];
      if (l > range.start.line && /^\s*#/.test(line)) continue; // comment inside a continuation
      line = line.replace(/\s+$/, '');
      if (l < headerEnd && line.endsWith(escape) && !line.endsWith(escape + escape)) line = line.slice(0, -escape.length);
      parts.push(line.trim());
    }
    const args = parts.filter((p) => p !== '').join(' ');
    const heredocs: Heredoc[] = docs.map((h) => {
      const content = h.getContentRange();
      const strip = /<<-/.test(lines[h.getStartRange().start.line]?.slice(h.getStartRange().start.character, h.getStartRange().start.character + 3) ?? '');
      const body = content ? lines.slice(content.start.line, content.end.line + 1).map((b) => (strip ? b.replace(/^\t+/, '') : b)) : [];
      return { name: h.getName(), body: body.join('\n'), terminated: h.getDelimiterRange() !== null };
    });
    const word = lines[range.start.line].slice(kw.start.character, kw.end.character);
    out.push({ keyword, args, line: range.start.line + 1, text: `${word} ${args}`.trim().replace(/\s+/g, ' '), heredocs });
  }
  return { escape, instructions: out };
}

export interface Word {
  raw: string;
  start: number;
  end: number;
}

/** Splits on unquoted whitespace; quotes and escapes stay in `raw`. */
export function splitWords(s: string, escape: string): Word[] {
  const out: Word[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i])) i++;
    if (i >= s.length) break;
    const start = i;
    let quote: string | null = null;
    while (i < s.length) {
      const c = s[i];
      if (c === escape && quote !== "'") {
        i += 2;
        continue;
      }
      if (quote) {
        if (c === quote) quote = null;
      } else if (c === '"' || c === "'") quote = c;
      else if (/\s/.test(c)) break;
      i++;
    }
    out.push({ raw: s.slice(start, Math.min(i, s.length)), start, end: Math.min(i, s.length) });
  }
  return out;
}

export type Lookup = (name: string) => string | undefined;

/** The largest Dockerfile provenance reads (a hostile one of megabytes would hold the editor for seconds). */
export const MAX_DOCKERFILE_BYTES = 1 << 20;
/** The deepest `${A:-${B:-…}}` nesting expanded (thousands deep would exhaust the stack). */
export const MAX_EXPANSION_DEPTH = 64;

/** A variable expansion nested deeper than MAX_EXPANSION_DEPTH. */
export class ExpansionDepthError extends Error {
  override name = 'ExpansionDepthError';
}

export interface ExpandOptions {
  escape: string;
  /** Quotes are syntax (shell-form words); false for JSON-array elements. */
  quotes: boolean;
  /** Called for `$VAR` / `${VAR}` that is not defined and has no default. */
  onUndefined?: (name: string) => void;
  onUnsupported?: (expr: string) => void;
}

/** Expands `$VAR`, `${VAR}`, `${VAR:-d}`, `${VAR-d}`, `${VAR:+a}`, `${VAR+a}`, `${VAR:?m}` and removes quotes. */
export function expandWord(word: string, lookup: Lookup, opts: ExpandOptions, nesting = 0): string {
  if (nesting > MAX_EXPANSION_DEPTH) throw new ExpansionDepthError(`variable expansion nested deeper than ${MAX_EXPANSION_DEPTH} levels`);
  let out = '';
  let quote: string | null = null;
  for (let i = 0; i < word.length; i++) {
    const c = word[i];
    if (opts.quotes && quote === "'") {
      if (c === "'") quote = null;
      else out += c;
      continue;
    }
    if (c === opts.escape && i + 1 < word.length && (opts.quotes || word[i + 1] === '$')) {
      const n = word[i + 1];
      // Inside double quotes the escape only escapes specials, like a POSIX shell.
      if (quote === '"' && !['"', '$', opts.escape].includes(n)) out += c;
      out += n;
      i++;
      continue;
    }
    if (opts.quotes && (c === '"' || c === "'")) {
      if (quote === c) quote = null;
      else if (!quote) quote = c;
      else out += c;
      continue;
    }
    if (c !== '$') {
      out += c;
      continue;
    }
    const rest = word.slice(i + 1);
    const simple = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    if (simple) {
      const v = lookup(simple[0]);
      if (v === undefined) opts.onUndefined?.(simple[0]);
      out += v ?? '';
      i += simple[0].length;
      continue;
    }
    if (rest[0] !== '{') {
      out += '$';
      continue;
    }
    // ${...}: find the matching brace.
    let depth = 0;
    let j = 0;
    for (; j < rest.length; j++) {
      if (rest[j] === opts.escape) j++;
      else if (rest[j] === '{') depth++;
      else if (rest[j] === '}' && --depth === 0) break;
    }
    if (j >= rest.length) {
      opts.onUnsupported?.('$' + rest);
      out += '$' + rest;
      break;
    }
    const inner = rest.slice(1, j);
    i += j + 1;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+?])([\s\S]*))?$/.exec(inner);
    if (!m) {
      opts.onUnsupported?.('${' + inner + '}');
      continue;
    }
    const [, name, op, arg = ''] = m;
    const v = lookup(name);
    const sub = () => expandWord(arg, lookup, { ...opts, quotes: false }, nesting + 1);
    if (!op) {
      if (v === undefined) opts.onUndefined?.(name);
      out += v ?? '';
    } else if (op === ':-') out += v === undefined || v === '' ? sub() : v;
    else if (op === '-') out += v === undefined ? sub() : v;
    else if (op === ':+') out += v === undefined || v === '' ? '' : sub();
    else if (op === '+') out += v === undefined ? '' : sub();
    else {
      // :? / ? fail the build when unset; report it and go on with ''.
      if (v === undefined || (op === ':?' && v === '')) opts.onUndefined?.(name);
      out += v ?? '';
    }
  }
  return out;
}

/** Splits `a=b,c="d,e"` (BuildKit's CSV flag syntax) into key/value pairs; keys lower-cased. */
export function parseCsvFlag(value: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let cur = '';
  let quote = false;
  const fields: string[] = [];
  for (const c of value) {
    if (c === '"') quote = !quote;
    else if (c === ',' && !quote) {
      fields.push(cur);
      cur = '';
    } else cur += c;
  }
  fields.push(cur);
  for (const f of fields) {
    if (f.trim() === '') continue;
    const eq = f.indexOf('=');
    if (eq < 0) out.push([f.trim().toLowerCase(), '']);
    else out.push([f.slice(0, eq).trim().toLowerCase(), f.slice(eq + 1)]);
  }
  return out;
}

/** The leading `--flag[=value]` words of an instruction (names lower-cased) and the text after them. */
export function parseFlags(args: string, esc: string): { flags: Array<[string, string]>; rest: string } {
  const flags: Array<[string, string]> = [];
  let restStart = 0;
  for (const w of splitWords(args, esc)) {
    if (!w.raw.startsWith('--')) break;
    const eq = w.raw.indexOf('=');
    flags.push(eq < 0 ? [w.raw.slice(2).toLowerCase(), ''] : [w.raw.slice(2, eq).toLowerCase(), w.raw.slice(eq + 1)]);
    restStart = w.end;
  }
  return { flags, rest: args.slice(restStart) };
}
