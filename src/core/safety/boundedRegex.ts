// Regular expressions that someone else wrote, run on text someone else wrote, under a time
// budget. Risk rules (`buildProvenance.riskRules`) and `smoke.ready.log` (.provenance.json) are
// patterns from settings that a trusted workspace's checkout can supply, together with the text
// they run on; a pattern with nested quantifiers (`(\w+\s?)+;`) backtracks for ever on a line made
// for it, in the extension host's one thread. Each pattern gets a `node:vm` context of its own, and
// one call into it does a whole batch (a file, the log lines that arrived together) under a
// timeout, which V8 interrupts even in the middle of a match. The pattern is data there (a string
// given to `new RegExp`), never code. Pure: no `vscode`, no file system.
import * as vm from 'node:vm';

/** How long one batch may take before the pattern is stopped. */
export const REGEX_BUDGET_MS = 50;

/** A pattern that ran past its budget on one batch of text and was stopped. */
export class RegexTimeoutError extends Error {
  constructor(
    readonly pattern: string,
    readonly budgetMs: number,
  ) {
    super(
      `the regular expression /${pattern}/ ran longer than ${budgetMs} ms and was stopped ` +
        '(catastrophic backtracking: nested quantifiers such as (\\w+\\s?)+ try exponentially many ways on a line that almost matches); ' +
        'simplify the pattern, e.g. (\\w+\\s?)+ to [\\w\\s]+',
    );
    this.name = 'RegexTimeoutError';
  }
}

/** A match of `scanLines`: offset into the text, and the match with its groups (undefined as ''). */
export interface LineMatch {
  index: number;
  groups: string[];
}

// Runs inside the pattern's context; its inputs are the context's properties, its answers plain
// values (the matches as JSON), so no object of the other realm comes out.
const PRELUDE = new vm.Script(`
'use strict';
const re = new RegExp(source, flags.replace(/[gy]/g, '') + 'g');
globalThis.scanLines = function (text, maxLine, maxPerLine) {
  const out = [];
  let offset = 0;
  for (const rawLine of text.split('\\n')) {
    const line = rawLine.endsWith('\\r') ? rawLine.slice(0, -1) : rawLine;
    if (line.length <= maxLine) {
      re.lastIndex = 0;
      let count = 0;
      for (let m = re.exec(line); m && count < maxPerLine; m = re.exec(line), count++) {
        if (m[0].length === 0) re.lastIndex++;
        out.push([offset + m.index, ...Array.from(m, (v) => (v === undefined ? '' : v))]);
      }
    }
    offset += rawLine.length + 1;
  }
  return JSON.stringify(out);
};
globalThis.testAny = function (lines) {
  for (let i = 0; i < lines.length; i++) {
    re.lastIndex = 0;
    if (re.test(lines[i])) return true;
  }
  return false;
};
`);
const MAX_ATTEMPTS = 3;
const SCAN = new vm.Script('scanLines(input, maxLine, maxPerLine)');
const TEST_ANY = new vm.Script('testAny(input)');

/** A compiled pattern whose every call is bounded by `budgetMs`; throws RegexTimeoutError past it. */
export class BoundedRegex {
  private context: vm.Context | null = null;

  /** Throws a SyntaxError for an invalid pattern, as `new RegExp` does. */
  constructor(
    readonly source: string,
    readonly flags = '',
    readonly budgetMs = REGEX_BUDGET_MS,
  ) {
    new RegExp(source, flags);
  }

  /**
   * Every match, line by line (lines split at `\n`, a trailing `\r` left out): lines longer than
   * `maxLine` are skipped, at most `maxPerLine` matches a line. One bounded call for the whole text.
   */
  scanLines(text: string, maxLine: number, maxPerLine: number): LineMatch[] {
    const json = this.run(SCAN, { input: text, maxLine, maxPerLine }) as string;
    return (JSON.parse(json) as [number, ...string[]][]).map(([index, ...groups]) => ({ index, groups }));
  }

  /** Whether any of the lines matches. One bounded call for all of them. */
  testAny(lines: readonly string[]): boolean {
    return lines.length > 0 && this.run(TEST_ANY, { input: [...lines] }) === true;
  }

  private run(script: vm.Script, inputs: Record<string, unknown>): unknown {
    if (!this.context) {
      this.context = vm.createContext({ source: this.source, flags: this.flags }, { codeGeneration: { strings: false, wasm: false } });
      PRELUDE.runInContext(this.context);
    }
    Object.assign(this.context, inputs);
    try {
      // The timeout is wall time: a busy machine that paused this thread (the process used far less
      // CPU than the budget) gets the call again, up to three times; a runaway pattern is stopped once.
      for (let attempt = 1; ; attempt++) {
        const cpu = process.cpuUsage();
        try {
          return script.runInContext(this.context, { timeout: this.budgetMs });
        } catch (err) {
          if ((err as { code?: string }).code !== 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw err;
          const used = process.cpuUsage(cpu);
          const paused = (used.user + used.system) / 1000 < this.budgetMs / 2;
          if (!paused || attempt >= MAX_ATTEMPTS) throw new RegexTimeoutError(this.source, this.budgetMs);
        }
      }
    } finally {
      this.context.input = undefined; // do not keep the text alive
    }
  }
}
