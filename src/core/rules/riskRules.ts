// Risky patterns in files baked into an image. The built-in rule finds global exports of
// graphics-stack overrides (the incident: `export MESA_GL_VERSION_OVERRIDE=4.5` in a script that
// every process in the container sources). User rules are per-line regular expressions, each
// file's scan bounded in time (safety/boundedRegex: a runaway pattern is stopped, and reported).
// Pure: no `vscode`, no git, no file system; the editor and tests feed text in.
import { compileExact, parseGlob } from '../inputs/pathGlob';
import { isDockerfileName } from '../inputs/imageInputs';
import { BoundedRegex, RegexTimeoutError } from '../safety/boundedRegex';

export type RiskSeverity = 'error' | 'warning' | 'information' | 'hint';
const SEVERITIES: readonly RiskSeverity[] = ['error', 'warning', 'information', 'hint'];

export const GLOBAL_GRAPHICS_OVERRIDE = 'global-graphics-override';

/** A match before the message is filled in: offsets into the text and placeholder values. */
interface RawMatch {
  start: number;
  end: number;
  vars: Record<string, string>;
}

export interface RiskRule {
  readonly id: string;
  readonly message: string;
  readonly severity: RiskSeverity;
  readonly builtin: boolean;
  /** Repo-relative globs the rule applies to, or null for its default (see `appliesTo`). */
  readonly files: readonly string[] | null;
  /** Whether the rule looks at this file (repo-relative POSIX path, and its text). */
  appliesTo(path: string, text: string): boolean;
  scan(text: string, path: string): RawMatch[];
}

export interface RiskFinding {
  ruleId: string;
  severity: RiskSeverity;
  message: string;
  /** 0-based line and column (UTF-16 code units), end exclusive. */
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

/** One entry of the `buildProvenance.riskRules` setting, as the user wrote it. */
export interface RiskRuleSetting {
  id?: unknown;
  pattern?: unknown;
  message?: unknown;
  severity?: unknown;
  files?: unknown;
  enabled?: unknown;
}

// ---------------------------------------------------------------------------------------------
// the built-in rule

/** Variables that redirect or lie about the graphics stack for every process that inherits them. */
const GRAPHICS_VARS = new Set([
  'LIBGL_ALWAYS_SOFTWARE',
  'LIBGL_ALWAYS_INDIRECT',
  'LIBGL_DRIVERS_PATH',
  'LIBGL_DRI3_DISABLE',
  '__GLX_VENDOR_LIBRARY_NAME',
  '__EGL_VENDOR_LIBRARY_FILENAMES',
  '__EGL_VENDOR_LIBRARY_DIRS',
  '__NV_PRIME_RENDER_OFFLOAD',
  '__NV_PRIME_RENDER_OFFLOAD_PROVIDER',
  '__VK_LAYER_NV_optimus',
  'GALLIUM_DRIVER',
  'GBM_BACKEND',
  'VK_ICD_FILENAMES',
  'VK_DRIVER_FILES',
  'VK_ADD_DRIVER_FILES',
  'MESA_VK_DEVICE_SELECT',
  'DRI_PRIME',
  'EGL_PLATFORM',
  'LIBVA_DRIVER_NAME',
  'VDPAU_DRIVER',
]);

/** MESA_GL_VERSION_OVERRIDE, MESA_GLSL_VERSION_OVERRIDE, MESA_LOADER_DRIVER_OVERRIDE, … */
export function isGraphicsOverride(name: string): boolean {
  return GRAPHICS_VARS.has(name) || /^MESA_\w+_OVERRIDE$/.test(name) || /^__GLX_FORCE_VENDOR_LIBRARY_\d+$/.test(name);
}

const GRAPHICS_MESSAGE =
  'Global override of {var} ({how}) in a file baked into {image}: every process that sources it inherits it, ' +
  'so every GL/Vulkan client is told something about the GPU and its drivers that may not be true ' +
  '(a global MESA_GL_VERSION_OVERRIDE=4.5 once deadlocked the desktop shell). ' +
  'Scope it to the one command that needs it: {var}={value} cmd';

const SHELL_EXT = /\.(sh|bash|zsh|ksh|dash|ash|profile|bashrc|bash_profile|zshrc|zprofile|zshenv|envrc)$/i;
const SHELL_NAMES = /^(\.?profile|\.?bashrc|bash\.bashrc|\.?bash_profile|\.?zshrc|\.?zshenv|\.?zprofile|\.?xprofile|\.?xsessionrc|\.?xinitrc)$/i;
const SHEBANG = /^#![ \t]*\S*\/(?:env[ \t]+(?:-\S+[ \t]+)*)?(?:ba|da|z|k|a|mk)?sh\b/;

/** A shell script by name or shebang (profile.d snippets are sourced, so they count by folder). */
export function isShellScript(p: string, text: string): boolean {
  const base = p.slice(p.lastIndexOf('/') + 1);
  if (SHELL_EXT.test(base) || SHELL_NAMES.test(base) || /(^|\/)profile\.d\//.test(p)) return true;
  return SHEBANG.test(text.slice(0, 200));
}

function graphicsRule(over: Partial<Pick<RiskRule, 'message' | 'severity' | 'files'>> = {}): RiskRule {
  const files = over.files ?? null;
  const matchFiles = files ? compileFileGlobs(files).match : null;
  return {
    id: GLOBAL_GRAPHICS_OVERRIDE,
    message: over.message ?? GRAPHICS_MESSAGE,
    severity: over.severity ?? 'warning',
    builtin: true,
    files,
    appliesTo: (p, text) => (matchFiles ? matchFiles(p) : isDockerfileName(p) || isShellScript(p, text)),
    scan: (text, p) => (isDockerfileName(p) ? scanDockerfile(text) : scanShell(text)),
  };
}

export function builtinRiskRules(): RiskRule[] {
  return [graphicsRule()];
}

// ---------------------------------------------------------------------------------------------
// shell: a small tokenizer (quotes, escapes, comments, continuations, $(…), heredocs)

export interface ShellWord {
  /** The word with quotes removed (approximately: expansions are kept as written). */
  text: string;
  /** As written. */
  raw: string;
  start: number;
  end: number;
}

const OPERATORS = new Set([';', '&', '|', '(', ')', '\n']);
const RESERVED = new Set(['if', 'then', 'else', 'elif', 'do', 'while', 'until', '{', '!', 'time']);

/** Splits shell text into simple commands (word lists). Heredoc bodies are data and skipped. */
export function shellCommands(text: string): ShellWord[][] {
  const commands: ShellWord[][] = [];
  let words: ShellWord[] = [];
  let pendingHeredocs: { delim: string; stripTabs: boolean }[] = [];
  const endCommand = () => {
    if (words.length) commands.push(words);
    words = [];
  };
  let i = 0;
  const n = text.length;
  while (i < n) {
    const ch = text[i];
    if (ch === '\\' && text[i + 1] === '\n') {
      i += 2;
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === '\r') {
      i++;
      continue;
    }
    if (ch === '#') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (OPERATORS.has(ch)) {
      endCommand();
      i++;
      if (ch === '\n' && pendingHeredocs.length) {
        i = skipHeredocs(text, i, pendingHeredocs);
        pendingHeredocs = [];
      }
      continue;
    }
    if ((ch === '<' || ch === '>') && !(ch === '<' && text[i + 1] === '(')) {
      // Redirection: the operator is not a word; a heredoc's delimiter word is remembered.
      if (text.startsWith('<<', i) && text[i + 2] !== '<') {
        i += 2;
        const stripTabs = text[i] === '-';
        if (stripTabs) i++;
        while (text[i] === ' ' || text[i] === '\t') i++;
        const w = readWord(text, i);
        pendingHeredocs.push({ delim: w.text, stripTabs });
        i = w.end;
        continue;
      }
      while (text[i] === '<' || text[i] === '>' || text[i] === '&' || text[i] === '|') i++;
      while (text[i] === ' ' || text[i] === '\t') i++;
      i = readWord(text, i).end; // the redirection target
      continue;
    }
    const w = readWord(text, i);
    // `2>file`: a number right before a redirection is part of it.
    if (/^\d+$/.test(w.raw) && (text[w.end] === '>' || text[w.end] === '<')) {
      i = w.end;
      continue;
    }
    words.push(w);
    i = w.end > i ? w.end : i + 1;
  }
  endCommand();
  return commands;
}

function readWord(text: string, start: number): ShellWord {
  let i = start;
  let out = '';
  const n = text.length;
  while (i < n) {
    const ch = text[i];
    if (ch === ' ' || ch === '\t' || ch === '\r' || OPERATORS.has(ch) || ch === '<' || ch === '>') break;
    if (ch === '\\') {
      if (text[i + 1] === '\n') {
        i += 2;
        continue;
      }
      out += text[i + 1] ?? '';
      i += 2;
      continue;
    }
    if (ch === "'") {
      const close = text.indexOf("'", i + 1);
      const end = close < 0 ? n : close;
      out += text.slice(i + 1, end);
      i = end + 1;
      continue;
    }
    if (ch === '"') {
      i++;
      while (i < n && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < n) {
          out += text[i + 1] === '\n' ? '' : text[i + 1];
          i += 2;
        } else if (text[i] === '$' && text[i + 1] === '(') {
          const end = skipBalanced(text, i + 1);
          out += text.slice(i, end);
          i = end;
        } else out += text[i++];
      }
      i++;
      continue;
    }
    if (ch === '$' && (text[i + 1] === '(' || text[i + 1] === '{')) {
      const end = skipBalanced(text, i + 1);
      out += text.slice(i, end);
      i = end;
      continue;
    }
    if (ch === '`') {
      let j = i + 1;
      while (j < n && text[j] !== '`') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    out += ch;
    i++;
  }
  return { text: out, raw: text.slice(start, Math.min(i, n)), start, end: Math.min(i, n) };
}

/** From an opening `(` or `{`, the index after its match (quotes respected). */
function skipBalanced(text: string, open: number): number {
  const openCh = text[open];
  const closeCh = openCh === '(' ? ')' : '}';
  let depth = 0;
  let i = open;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '\\') {
      i += 2;
      continue;
    }
    if (ch === "'") {
      const close = text.indexOf("'", i + 1);
      i = close < 0 ? text.length : close + 1;
      continue;
    }
    if (ch === '"') {
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i++;
      continue;
    }
    if (ch === openCh) depth++;
    else if (ch === closeCh && --depth === 0) return i + 1;
    i++;
  }
  return text.length;
}

function skipHeredocs(text: string, pos: number, docs: { delim: string; stripTabs: boolean }[]): number {
  let i = pos;
  for (const d of docs) {
    while (i < text.length) {
      const nl = text.indexOf('\n', i);
      const lineEnd = nl < 0 ? text.length : nl;
      let line = text.slice(i, lineEnd).replace(/\r$/, '');
      if (d.stripTabs) line = line.replace(/^\t+/, '');
      i = nl < 0 ? text.length : nl + 1;
      if (line === d.delim) break;
    }
  }
  return i;
}

const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)(\+?=)/;

/** Global exports of graphics overrides in a shell script. */
function scanShell(text: string): RawMatch[] {
  const out: RawMatch[] = [];
  const values = new Map<string, string>();
  let allexport = false;
  const hit = (w: ShellWord, name: string, value: string | undefined, how: string) => {
    const shown = value ?? values.get(name);
    out.push({ start: w.start, end: w.end, vars: { var: name, value: shown === undefined || shown === '' ? '…' : shown, how, match: w.raw } });
  };
  for (const cmd of shellCommands(text)) {
    let k = 0;
    while (k < cmd.length && RESERVED.has(cmd[k].raw)) k++;
    const firstCommand = k;
    while (k < cmd.length && ASSIGNMENT.test(cmd[k].raw)) k++;
    if (k === cmd.length) {
      // Only assignments: they stay in this shell (and reach children only under `set -a`).
      for (const w of cmd.slice(firstCommand)) {
        const m = ASSIGNMENT.exec(w.raw)!;
        const value = w.text.slice(w.text.indexOf('=') + 1);
        values.set(m[1], value);
        if (allexport && isGraphicsOverride(m[1])) hit(w, m[1], value, 'assigned under set -a');
      }
      continue;
    }
    // With assignments before a command word, they are scoped to that one command: fine.
    const name = cmd[k].text;
    const args = cmd.slice(k + 1);
    if (name === 'export' || name === 'declare' || name === 'typeset') {
      let exporting = name === 'export';
      for (const a of args) {
        if (/^[-+]/.test(a.text)) {
          if (name === 'export' && a.text.startsWith('-') && a.text.includes('n')) exporting = false; // export -n: un-export
          if (name !== 'export' && a.text.startsWith('-') && a.text.includes('x')) exporting = true;
          if (name !== 'export' && a.text.startsWith('+') && a.text.includes('x')) exporting = false;
          continue;
        }
        // `export "VAR=x"` is the same as `export VAR=x`, so look at the unquoted text.
        const m = ASSIGNMENT.exec(a.text) ?? /^([A-Za-z_][A-Za-z0-9_]*)$/.exec(a.text);
        if (!m) continue;
        const value = m[2] ? a.text.slice(a.text.indexOf('=') + 1) : undefined;
        if (value !== undefined) values.set(m[1], value);
        if (exporting && isGraphicsOverride(m[1])) hit(a, m[1], value, name === 'export' ? 'export' : `${name} -x`);
      }
    } else if (name === 'set') {
      for (let j = 0; j < args.length; j++) {
        const a = args[j].text;
        if ((a === '-o' || a === '+o') && args[j + 1]?.text === 'allexport') allexport = a === '-o';
        else if (/^-[a-zA-Z]+$/.test(a) && a.includes('a')) allexport = true;
        else if (/^\+[a-zA-Z]+$/.test(a) && a.includes('a')) allexport = false;
      }
    } else if (name === 'systemctl' || name === 'dbus-update-activation-environment' || name === 'launchctl') {
      // These push variables into the session manager: every later process of the session gets them.
      const setIdx = args.findIndex((a) => a.text === 'set-environment' || a.text === 'import-environment' || a.text === 'setenv');
      const relevant = name === 'dbus-update-activation-environment' ? args : setIdx >= 0 ? args.slice(setIdx + 1) : [];
      for (const a of relevant) {
        const m = ASSIGNMENT.exec(a.text) ?? /^([A-Za-z_][A-Za-z0-9_]*)$/.exec(a.text);
        if (m && isGraphicsOverride(m[1])) hit(a, m[1], m[2] ? a.text.slice(a.text.indexOf('=') + 1) : undefined, name);
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Dockerfile: ENV sets a variable for every process in the container; so does writing an
// export into a profile file from RUN.

const PROFILE_TARGET = /(\/etc\/(environment|profile|bash\.bashrc|zsh\/zshenv)\b|\/etc\/profile\.d\/|\.bashrc\b|\.profile\b|\.xsessionrc\b)/;

function scanDockerfile(text: string): RawMatch[] {
  const out: RawMatch[] = [];
  for (const ins of dockerInstructions(text)) {
    const kw = /^\s*([A-Za-z]+)\b/.exec(ins.text);
    if (!kw) continue;
    const keyword = kw[1].toUpperCase();
    if (keyword === 'ENV') {
      const body = ins.text.slice(kw[0].length);
      const bodyStart = ins.start + kw[0].length;
      const eq = /^\s*([A-Za-z_][A-Za-z0-9_]*)=/.test(body);
      if (eq) {
        const re = /([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|(?:[^\s\\]|\\.)*)/g;
        for (let m = re.exec(body); m; m = re.exec(body)) {
          if (isGraphicsOverride(m[1])) out.push(dockerHit(text, bodyStart + m.index, bodyStart + m.index + m[0].length, m[1], m[2].replace(/^["']|["']$/g, '')));
        }
      } else {
        const m = /^(\s*)([A-Za-z_][A-Za-z0-9_]*)\s+(.*)$/s.exec(body);
        if (m && isGraphicsOverride(m[2])) {
          const s = bodyStart + m[1].length;
          out.push(dockerHit(text, s, s + m[2].length, m[2], m[3].trim()));
        }
      }
    } else if (keyword === 'RUN' && PROFILE_TARGET.test(ins.text)) {
      const re = /\b([A-Za-z_][A-Za-z0-9_]*)\b/g;
      for (let m = re.exec(ins.text); m; m = re.exec(ins.text)) {
        if (!isGraphicsOverride(m[1])) continue;
        const value = /^=([^\s'";&|]*)/.exec(ins.text.slice(m.index + m[0].length))?.[1];
        out.push({ start: ins.start + m.index, end: ins.start + m.index + m[0].length, vars: { var: m[1], value: value || '…', how: 'written to a profile file by RUN', match: m[0] } });
      }
    }
  }
  return out;
}

function dockerHit(text: string, start: number, end: number, name: string, value: string): RawMatch {
  return { start, end, vars: { var: name, value: value || '…', how: 'Dockerfile ENV', match: text.slice(start, end) } };
}

/**
 * Dockerfile instructions with their offsets; continuation lines (backslash, or backtick after
 * `# escape=`\``) are kept in place so offsets map back to the text. Comment lines are skipped.
 */
function dockerInstructions(text: string): { text: string; start: number }[] {
  const escape = /^#\s*escape\s*=\s*`/im.test(text.slice(0, 200)) ? '`' : '\\';
  const out: { text: string; start: number }[] = [];
  let i = 0;
  while (i < text.length) {
    const start = i;
    let end = i;
    for (;;) {
      const nl = text.indexOf('\n', end);
      const lineEnd = nl < 0 ? text.length : nl;
      const line = text.slice(end, lineEnd).replace(/\r$/, '');
      end = nl < 0 ? text.length : nl + 1;
      if (nl < 0 || !line.trimEnd().endsWith(escape)) break;
    }
    const chunk = text.slice(start, end);
    if (!/^\s*#/.test(chunk) && chunk.trim()) {
      // Comment lines inside a continuation are dropped by Docker; blank them, keeping offsets.
      out.push({ text: chunk.replace(/^[ \t]*#.*$/gm, (s) => ' '.repeat(s.length)), start });
    }
    i = end;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// user rules

/** Globs of the `files` field: repo-relative; one without a slash matches the name anywhere. */
function compileFileGlobs(globs: readonly string[]): { match: (p: string) => boolean; invalid: string[] } {
  const matchers: ((p: string) => boolean)[] = [];
  const invalid: string[] = [];
  for (const g of globs) {
    const clean = g.replace(/^\.?\//, '');
    const segs = parseGlob(clean.includes('/') ? clean : `**/${clean}`, { doubleStar: true });
    if (!segs) invalid.push(g);
    else matchers.push(compileExact(segs));
  }
  return { match: (p) => matchers.some((m) => m(p)), invalid };
}

/** Timeouts after which a user pattern is turned off until the rules are resolved again (the setting changes). */
export const RULE_TIMEOUTS_BEFORE_OFF = 3;

/** A rule's pattern ran past its budget too often: it is off until the setting changes. */
export class RuleTurnedOffError extends Error {
  override name = 'RuleTurnedOffError';
  constructor(readonly last: RegexTimeoutError) {
    super(`${last.message}; after ${RULE_TIMEOUTS_BEFORE_OFF} such timeouts the rule is off until buildProvenance.riskRules changes`);
  }
}

function regexRule(id: string, re: BoundedRegex, message: string, severity: RiskSeverity, files: string[] | null, builtin: boolean): RiskRule {
  const matchFiles = files ? compileFileGlobs(files).match : null;
  // A pattern that backtracks for ever costs its whole budget on every file of every rescan;
  // after a few timeouts it is turned off, so a runaway rule costs at most a few budgets.
  let timeouts = 0;
  return {
    id,
    message,
    severity,
    builtin,
    files,
    appliesTo: (p) => timeouts < RULE_TIMEOUTS_BEFORE_OFF && (matchFiles ? matchFiles(p) : true),
    scan: (text) => {
      try {
        return scanRegex(text, re);
      } catch (err) {
        if (!(err instanceof RegexTimeoutError)) throw err;
        if (++timeouts >= RULE_TIMEOUTS_BEFORE_OFF) throw new RuleTurnedOffError(err);
        throw err;
      }
    },
  };
}

const MAX_LINE = 20_000;
const MAX_PER_LINE = 20;

/** Throws RegexTimeoutError when the pattern runs past its budget on this text (scanForRisks reports it). */
function scanRegex(text: string, re: BoundedRegex): RawMatch[] {
  return re.scanLines(text, MAX_LINE, MAX_PER_LINE).map(({ index, groups: [match, ...rest] }) => {
    const vars: Record<string, string> = { match, value: '…', var: match, how: '' };
    rest.forEach((v, k) => (vars[String(k + 1)] = v));
    return { start: index, end: index + Math.max(1, match.length), vars };
  });
}

/**
 * Built-in rules combined with the setting. An entry with a built-in's id overrides that rule's
 * fields (a `pattern` replaces its shell-aware matcher with a regex); `enabled: false` turns a rule
 * off. Problems become warnings (for the output channel), never exceptions.
 */
export function resolveRiskRules(setting: unknown): { rules: RiskRule[]; warnings: string[] } {
  const warnings: string[] = [];
  const rules = new Map<string, RiskRule>(builtinRiskRules().map((r) => [r.id, r]));
  if (setting === undefined || setting === null) return { rules: [...rules.values()], warnings };
  if (!Array.isArray(setting)) {
    warnings.push('buildProvenance.riskRules must be an array of rules; using the built-in rules only.');
    return { rules: [...rules.values()], warnings };
  }
  const seen = new Set<string>();
  setting.forEach((entry: unknown, idx) => {
    const where = `buildProvenance.riskRules[${idx}]`;
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) {
      warnings.push(`${where} is not an object; ignored.`);
      return;
    }
    const e = entry as RiskRuleSetting;
    if (typeof e.id !== 'string' || !e.id.trim()) {
      warnings.push(`${where} has no "id"; ignored. Give every rule an id (use a built-in's id to override it).`);
      return;
    }
    const id = e.id.trim();
    if (seen.has(id)) warnings.push(`${where}: rule "${id}" appears more than once; the last entry wins.`);
    seen.add(id);
    const base = builtinRiskRules().find((r) => r.id === id);
    if (e.enabled === false) {
      rules.delete(id);
      return;
    }
    let severity: RiskSeverity | undefined;
    if (e.severity !== undefined) {
      if (typeof e.severity === 'string' && (SEVERITIES as readonly string[]).includes(e.severity)) severity = e.severity as RiskSeverity;
      else warnings.push(`${where} ("${id}"): severity ${JSON.stringify(e.severity)} is not one of ${SEVERITIES.join(', ')}; using "warning".`);
    }
    let files: string[] | null = null;
    if (e.files !== undefined) {
      if (Array.isArray(e.files) && e.files.every((f) => typeof f === 'string')) {
        const { invalid } = compileFileGlobs(e.files as string[]);
        for (const g of invalid) warnings.push(`${where} ("${id}"): file glob ${JSON.stringify(g)} is not a supported glob; it is ignored.`);
        files = (e.files as string[]).filter((g) => !invalid.includes(g));
        if (files.length === 0) {
          warnings.push(`${where} ("${id}"): no usable file glob, so the rule is off.`);
          rules.delete(id);
          return;
        }
      } else warnings.push(`${where} ("${id}"): "files" must be an array of globs; ignored.`);
    }
    if (e.message !== undefined && typeof e.message !== 'string') warnings.push(`${where} ("${id}"): "message" must be a string; ignored.`);
    const message = typeof e.message === 'string' && e.message.trim() ? e.message : undefined;
    let re: BoundedRegex | undefined;
    if (e.pattern !== undefined) {
      if (typeof e.pattern !== 'string' || e.pattern === '') {
        warnings.push(`${where} ("${id}"): "pattern" must be a non-empty string (a JavaScript regular expression).`);
      } else {
        try {
          re = new BoundedRegex(e.pattern);
        } catch (err) {
          warnings.push(`${where} ("${id}"): invalid regular expression ${JSON.stringify(e.pattern)}: ${err instanceof Error ? err.message : String(err)}. The rule is off until it is fixed.`);
          if (!base) rules.delete(id);
          return; // a built-in keeps its own matcher
        }
      }
    }
    if (base && !re) {
      rules.set(id, graphicsRule({ message, severity, files: files ?? undefined }));
      return;
    }
    if (!re) {
      warnings.push(`${where} ("${id}") has no "pattern", and no built-in rule has that id; ignored.`);
      rules.delete(id);
      return;
    }
    rules.set(id, regexRule(id, re, message ?? `Matches risky pattern "${id}": {match}`, severity ?? 'warning', files, !!base));
  });
  return { rules: [...rules.values()], warnings };
}

// ---------------------------------------------------------------------------------------------
// scanning

const MAX_FINDINGS = 500;

/**
 * Findings of every rule that applies to the file. `context.image` names the image(s) the file is
 * baked into for the messages. A rule that throws, or whose pattern ran past its time budget on
 * this text (RegexTimeoutError), is reported through `onRuleError` and skipped for this file; a
 * user pattern that did so RULE_TIMEOUTS_BEFORE_OFF times is off from then on (RuleTurnedOffError,
 * reported once) until the rules are resolved again.
 */
export function scanForRisks(
  text: string,
  filePath: string,
  rules: readonly RiskRule[],
  context: { image?: string; onRuleError?: (rule: RiskRule, err: unknown) => void } = {},
): RiskFinding[] {
  const findings: RiskFinding[] = [];
  const lines = lineStarts(text);
  for (const rule of rules) {
    let matches: RawMatch[];
    try {
      if (!rule.appliesTo(filePath, text)) continue;
      matches = rule.scan(text, filePath);
    } catch (err) {
      context.onRuleError?.(rule, err);
      continue;
    }
    for (const m of matches) {
      if (findings.length >= MAX_FINDINGS) return findings;
      const from = position(lines, m.start);
      const to = position(lines, m.end);
      findings.push({
        ruleId: rule.id,
        severity: rule.severity,
        message: fill(rule.message, { image: context.image || 'the image', ...m.vars }),
        line: from.line,
        column: from.column,
        endLine: to.line,
        endColumn: to.column,
      });
    }
  }
  return findings;
}

/** `{var}`, `{value}`, `{how}`, `{match}`, `{image}`, and `{1}`… for regex groups. */
function fill(template: string, vars: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => vars[key] ?? whole);
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

function position(starts: number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo, column: offset - starts[lo] };
}
