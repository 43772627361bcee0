// The README's troubleshooting table quotes messages: each one must be what the code says.
// A quoted message is matched in fragments (split at "…", which stands for the variable parts).
// A message is often put together from several strings (`smoke test ` + `FAILED` + `: ` + a
// reason), so a fragment must be covered, left to right, by pieces of string literals of src/
// (split at their ${…} parts): each piece at least 8 characters of one literal, or one literal
// whole; spaces and punctuation between pieces are free.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

const root = path.join(__dirname, '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** The fixed pieces of every string literal in src/: strings, and templates cut at their ${…} parts (parsed by TypeScript). */
function literalChunks(): string[] {
  const chunks: string[] = [];
  for (const f of sourceFiles(path.join(root, 'src'))) {
    const sf = ts.createSourceFile(f, readFileSync(f, 'utf8'), ts.ScriptTarget.Latest, false);
    const visit = (n: ts.Node) => {
      if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) chunks.push(n.text);
      // The engine's own messages that the code recognises (/dockerfile parse error|unknown instruction/).
      else if (ts.isRegularExpressionLiteral(n)) chunks.push(...n.text.slice(1, n.text.lastIndexOf('/')).split('|'));
      else if (ts.isTemplateExpression(n)) chunks.push(n.head.text, ...n.templateSpans.map((sp) => sp.literal.text));
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  return chunks;
}

/** Messages of the Docker engine that the README quotes (the classic builder's refusal of RUN --mount). */
const ENGINE_MESSAGES = ['the --mount option requires BuildKit'];

export function troubleshootingMessages(readme: string): string[] {
  const section = readme.slice(readme.indexOf('## Troubleshooting'), readme.indexOf('## Development and tests'));
  const out: string[] = [];
  for (const line of section.split('\n')) {
    if (!line.startsWith('| ') || line.startsWith('| you see') || line.startsWith('| ---')) continue;
    const first = line.slice(2, line.indexOf(' | '));
    for (const m of first.matchAll(/`([^`]+)`/g)) {
      // A single word (a state such as `unlabeled`, Docker's `Created`) or a JSON field is a name, not a message.
      if (/^[\w-]+$/.test(m[1]) || /^"?[\w-]+"?: (true|false|null|\d+)$/.test(m[1])) continue;
      out.push(m[1]);
    }
  }
  return out;
}

const PUNCTUATION_START = /^[\s.,:;()[\]"'~\-→]+/;
const PUNCTUATION_END = /[\s.,:;()[\]"'~\-→]+$/;

/** Whether `frag` is covered by pieces of the chunks (see the file comment); returns the uncovered rest. */
function uncovered(frag: string, chunks: string[], whole: Set<string>): string | null {
  let rest = frag;
  for (;;) {
    rest = rest.replace(PUNCTUATION_START, '');
    if (rest === '') return null;
    let best = 0;
    for (const c of chunks) {
      // The longest prefix of `rest` inside this chunk.
      let lo = best;
      let hi = Math.min(rest.length, c.length);
      while (lo < hi) {
        const mid = Math.ceil((lo + hi + 1) / 2);
        if (c.includes(rest.slice(0, mid))) lo = mid;
        else hi = mid - 1;
      }
      if (lo > best) best = lo;
    }
    if (best >= 8) {
      rest = rest.slice(best);
      continue;
    }
    // Else a whole literal ("FAILED", "s:") that ends where a word of the message ends.
    const exact = [...whole]
      .filter((w) => rest.startsWith(w) && !/^[\p{L}\p{N}]/u.test(rest.slice(w.length)))
      .sort((a, b) => b.length - a.length)[0];
    if (exact) {
      rest = rest.slice(exact.length);
      continue;
    }
    return rest;
  }
}

test('README troubleshooting: every quoted message is what the code prints', () => {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const messages = troubleshootingMessages(readme);
  assert.ok(messages.length >= 20, `found ${messages.length} quoted messages`);
  // Docker's own words, which provenance passes through as the engine wrote them.
  const chunks = [...literalChunks(), ...ENGINE_MESSAGES];
  const whole = new Set(chunks.map((c) => c.replace(PUNCTUATION_START, '').replace(PUNCTUATION_END, '')).filter((c) => c.length >= 1));
  const missing: string[] = [];
  for (const msg of messages) {
    for (const frag of msg.split('…').map((f) => f.trim())) {
      const left = uncovered(frag, chunks, whole);
      if (left !== null) missing.push(`${JSON.stringify(left)} (in \`${msg}\`)`);
    }
  }
  assert.deepEqual(missing, [], `not in the strings of src/:\n${missing.join('\n')}`);
});

test('the coverage check itself: a message that the code does not print is caught', () => {
  const chunks = ['Cannot connect to Docker at ', ': socket not found.', 'smoke test ', 'FAILED', 'timeout after ', ' s: '];
  const whole = new Set(chunks.map((c) => c.trim()));
  assert.equal(uncovered('Cannot connect to Docker at', chunks, whole), null);
  assert.equal(uncovered('smoke test FAILED: timeout after', chunks, whole), null);
  assert.equal(uncovered('smoke test PASSED: timeout after', chunks, whole), 'PASSED: timeout after');
  assert.equal(uncovered('Cannot reach Docker at', chunks, whole), 'Cannot reach Docker at');
  // One-letter literals cover a one-letter word, never a word letter by letter.
  const letters = new Set([...whole, 'P', 'A', 'S', 'E', 'D']);
  assert.equal(uncovered('smoke test PASSED', chunks, letters), 'PASSED');
});
