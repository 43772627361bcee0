// .dockerignore as Docker reads it: moby's patternmatcher test tables (github.com/moby/patternmatcher,
// patternmatcher_test.go and ignorefile_test.go) run against our matcher, then the cases where
// Docker's regular-expression quirks decide, and the walk's semantics (BuildKit's sender).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  badFilepathPattern,
  ContextIgnore,
  goClean,
  goTrimSpace,
  IgnoreFileError,
  mobyCompile,
  PatternMatcher,
  readIgnoreFile,
} from '../../src/core/inputs/dockerignore';
import { GoRegexp, GoRegexpError } from '../../src/core/inputs/goRegexp';

type Pass = 'fail' | 'exact' | 'inexact';

/** moby's TestMatches table: pattern, text, and whether it matches exactly, only via a parent, or not. */
const MATCHES: Array<[string, string, Pass]> = [
  ['**', 'file', 'exact'],
  ['**', 'file/', 'exact'],
  ['**/', 'file', 'exact'],
  ['**/', 'file/', 'exact'],
  ['**', '/', 'exact'],
  ['**/', '/', 'exact'],
  ['**', 'dir/file', 'exact'],
  ['**/', 'dir/file', 'exact'],
  ['**', 'dir/file/', 'exact'],
  ['**/', 'dir/file/', 'exact'],
  ['**/**', 'dir/file', 'exact'],
  ['**/**', 'dir/file/', 'exact'],
  ['dir/**', 'dir/file', 'exact'],
  ['dir/**', 'dir/file/', 'exact'],
  ['dir/**', 'dir/dir2/file', 'exact'],
  ['dir/**', 'dir/dir2/file/', 'exact'],
  ['**/dir', 'dir', 'exact'],
  ['**/dir', 'dir/file', 'inexact'],
  ['**/dir2/*', 'dir/dir2/file', 'exact'],
  ['**/dir2/*', 'dir/dir2/file/', 'inexact'],
  ['**/dir2/**', 'dir/dir2/dir3/file', 'exact'],
  ['**/dir2/**', 'dir/dir2/dir3/file/', 'exact'],
  ['**file', 'file', 'exact'],
  ['**file', 'dir/file', 'exact'],
  ['**/file', 'dir/file', 'exact'],
  ['**file', 'dir/dir/file', 'exact'],
  ['**/file', 'dir/dir/file', 'exact'],
  ['**/file*', 'dir/dir/file', 'exact'],
  ['**/file*', 'dir/dir/file.txt', 'exact'],
  ['**/file*txt', 'dir/dir/file.txt', 'exact'],
  ['**/file*.txt', 'dir/dir/file.txt', 'exact'],
  ['**/file*.txt*', 'dir/dir/file.txt', 'exact'],
  ['**/**/*.txt', 'dir/dir/file.txt', 'exact'],
  ['**/**/*.txt2', 'dir/dir/file.txt', 'fail'],
  ['**/*.txt', 'file.txt', 'exact'],
  ['**/**/*.txt', 'file.txt', 'exact'],
  ['a**/*.txt', 'a/file.txt', 'exact'],
  ['a**/*.txt', 'a/dir/file.txt', 'exact'],
  ['a**/*.txt', 'a/dir/dir/file.txt', 'exact'],
  ['a/*.txt', 'a/dir/file.txt', 'fail'],
  ['a/*.txt', 'a/file.txt', 'exact'],
  ['a/*.txt**', 'a/file.txt', 'exact'],
  ['a[b-d]e', 'ae', 'fail'],
  ['a[b-d]e', 'ace', 'exact'],
  ['a[b-d]e', 'aae', 'fail'],
  ['a[^b-d]e', 'aze', 'exact'],
  ['.*', '.foo', 'exact'],
  ['.*', 'foo', 'fail'],
  ['abc.def', 'abcdef', 'fail'],
  ['abc.def', 'abc.def', 'exact'],
  ['abc.def', 'abcZdef', 'fail'],
  ['abc?def', 'abcZdef', 'exact'],
  ['abc?def', 'abcdef', 'fail'],
  ['**/foo/bar', 'foo/bar', 'exact'],
  ['**/foo/bar', 'dir/foo/bar', 'exact'],
  ['**/foo/bar', 'dir/dir2/foo/bar', 'exact'],
  ['abc/**', 'abc', 'fail'],
  ['abc/**', 'abc/def', 'exact'],
  ['abc/**', 'abc/def/ghi', 'exact'],
  ['**/.foo', '.foo', 'exact'],
  ['**/.foo', 'bar.foo', 'fail'],
  ['a(b)c/def', 'a(b)c/def', 'exact'],
  ['a(b)c/def', 'a(b)c/xyz', 'fail'],
  ['a.|)$(}+{bc', 'a.|)$(}+{bc', 'exact'],
  ['dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', 'exact'],
  ['dist/*.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', 'exact'],
  // Unix-only rows of the same table
  ['a\\\\', 'a\\', 'exact'],
  ['a\\*b', 'a*b', 'exact'],
];

const MULTI: Array<[string[], string, Pass]> = [
  [['**', '!util/docker/web'], 'util/docker/web/foo', 'fail'],
  [['**', '!util/docker/web', 'util/docker/web/foo'], 'util/docker/web/foo', 'exact'],
  [['**', '!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl'], 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', 'fail'],
  [['**', '!dist/*.whl'], 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', 'fail'],
];

/** The parent directories of a text, as moby's tests walk them (filepath.Dir, split on "/"). */
function parentsOf(text: string): string[] {
  const dir = goClean(text.slice(0, text.lastIndexOf('/') + 1));
  if (dir === '.') return [];
  const parts = dir.split('/');
  return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
}

test("moby's TestMatches: MatchesExact, MatchesOrParentMatches, MatchesUsingParentResult(s)", () => {
  for (const [pattern, text, pass] of MATCHES) {
    const pm = new PatternMatcher([pattern]);
    const desc = `pattern=${JSON.stringify(pattern)} text=${JSON.stringify(text)}`;
    assert.equal(pm.matchesExact(text), pass === 'exact', `MatchesExact ${desc}`);
    assert.equal(pm.matchesOrParentMatches(text), pass !== 'fail', `MatchesOrParentMatches ${desc}`);
    let parentMatched = false;
    for (const d of parentsOf(text)) parentMatched = pm.matchesUsingParentResult(d, parentMatched);
    assert.equal(pm.matchesUsingParentResult(text, parentMatched), pass !== 'fail', `MatchesUsingParentResult ${desc}`);
    let info: readonly boolean[] = [];
    for (const d of parentsOf(text)) info = pm.matchesUsingParentResults(d, info).info;
    assert.equal(pm.matchesUsingParentResults(text, info).matched, pass !== 'fail', `MatchesUsingParentResults ${desc}`);
    assert.equal(pm.matchesUsingParentResults(text, []).matched, pass !== 'fail', `MatchesUsingParentResults (no context) ${desc}`);
  }
  for (const [patterns, text, pass] of MULTI) {
    const pm = new PatternMatcher(patterns);
    const desc = `patterns=${JSON.stringify(patterns)} text=${text}`;
    assert.equal(pm.matchesOrParentMatches(text), pass !== 'fail', `MatchesOrParentMatches ${desc}`);
    let info: readonly boolean[] = [];
    for (const d of parentsOf(text)) info = pm.matchesUsingParentResults(d, info).info;
    assert.equal(pm.matchesUsingParentResults(text, info).matched, pass !== 'fail', `MatchesUsingParentResults ${desc}`);
    assert.equal(pm.matchesUsingParentResults(text, []).matched, pass !== 'fail', `MatchesUsingParentResults (no context) ${desc}`);
  }
});

/** The package-level Matches: cleans the text, "." never matches, New's errors surface. */
function mobyMatches(text: string, patterns: string[]): { match: boolean; error: string | null } {
  let pm: PatternMatcher;
  try {
    pm = new PatternMatcher(patterns);
  } catch (err) {
    assert.ok(err instanceof IgnoreFileError);
    return { match: false, error: err.dockerMessage };
  }
  const file = goClean(text);
  if (file === '.') return { match: false, error: null };
  return { match: pm.matchesDeprecated(file), error: null };
}

test("moby's small cases: wildcards, exceptions, '.', a lone '!', malformed patterns", () => {
  assert.equal(mobyMatches('fileutils.go', ['*']).match, true);
  assert.equal(mobyMatches('fileutils.go', ['*.go']).match, true);
  assert.equal(mobyMatches('fileutils.go', ['!fileutils.go', '*.go']).match, true);
  assert.equal(mobyMatches('docs/README.md', ['docs', '!docs/README.md']).match, false);
  assert.equal(mobyMatches('docs/README.md', ['docs/', '!docs/README.md']).match, false);
  assert.equal(mobyMatches('docs/README.md', ['docs/*', '!docs/README.md']).match, false);
  assert.equal(mobyMatches('fileutils.go', ['*.go', '!fileutils.go']).match, false);
  assert.equal(mobyMatches('.', ['*.go']).match, false);
  assert.equal(mobyMatches('fileutils.go', ['!']).error, 'illegal exclusion pattern: "!"');
  assert.deepEqual(mobyMatches('/any/path/there', []), { match: false, error: null });
  assert.deepEqual(mobyMatches('/any/path/there', ['[']), { match: false, error: 'syntax error in pattern' });
});

/** moby's TestMatch (Go's own filepath.Match table, through Matches). */
const GO_MATCH: Array<[string, string, boolean, boolean]> = [
  // pattern, text, match, syntax error
  ['abc', 'abc', true, false],
  ['*', 'abc', true, false],
  ['*c', 'abc', true, false],
  ['a*', 'a', true, false],
  ['a*', 'abc', true, false],
  ['a*', 'ab/c', true, false],
  ['a*/b', 'abc/b', true, false],
  ['a*/b', 'a/c/b', false, false],
  ['a*b*c*d*e*/f', 'axbxcxdxe/f', true, false],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true, false],
  ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false, false],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false, false],
  ['a*b?c*x', 'abxbbxdbxebxczzx', true, false],
  ['a*b?c*x', 'abxbbxdbxebxczzy', false, false],
  ['ab[c]', 'abc', true, false],
  ['ab[b-d]', 'abc', true, false],
  ['ab[e-g]', 'abc', false, false],
  ['ab[^c]', 'abc', false, false],
  ['ab[^b-d]', 'abc', false, false],
  ['ab[^e-g]', 'abc', true, false],
  ['a\\*b', 'a*b', true, false],
  ['a\\*b', 'ab', false, false],
  ['a?b', 'a☺b', true, false],
  ['a[^a]b', 'a☺b', true, false],
  ['a???b', 'a☺b', false, false],
  ['a[^a][^a][^a]b', 'a☺b', false, false],
  ['[a-ζ]*', 'α', true, false],
  ['*[a-ζ]', 'A', false, false],
  ['a?b', 'a/b', false, false],
  ['a*b', 'a/b', false, false],
  ['[\\]a]', ']', true, false],
  ['[\\-]', '-', true, false],
  ['[x\\-]', 'x', true, false],
  ['[x\\-]', '-', true, false],
  ['[x\\-]', 'z', false, false],
  ['[\\-x]', 'x', true, false],
  ['[\\-x]', '-', true, false],
  ['[\\-x]', 'a', false, false],
  ['[]a]', ']', false, true],
  ['[-]', '-', false, true],
  ['[x-]', 'x', false, true],
  ['[x-]', '-', false, true],
  ['[x-]', 'z', false, true],
  ['[-x]', 'x', false, true],
  ['[-x]', '-', false, true],
  ['[-x]', 'a', false, true],
  ['\\', 'a', false, true],
  ['[a-b-c]', 'a', false, true],
  ['[', 'a', false, true],
  ['[^', 'a', false, true],
  ['[^bc', 'a', false, true],
  ['a[', 'a', false, true],
  ['a[', 'ab', false, true],
  ['*x', 'xxx', true, false],
];

test("moby's TestMatch: Go's filepath.Match table through Matches", () => {
  for (const [pattern, text, match, bad] of GO_MATCH) {
    const r = mobyMatches(text, [pattern]);
    assert.equal(r.match, match, `Matches(${JSON.stringify(text)}, ${JSON.stringify(pattern)})`);
    assert.equal(r.error, bad ? 'syntax error in pattern' : null, `error of ${JSON.stringify(pattern)}`);
  }
});

test("moby's TestCompile: the match kind and the Go expression of each pattern", () => {
  const cases: Array<[string, string, string]> = [
    ['*', 'regexp', '^[^/]*$'],
    ['file*', 'regexp', '^file[^/]*$'],
    ['*file', 'regexp', '^[^/]*file$'],
    ['a*/b', 'regexp', '^a[^/]*/b$'],
    ['**', 'suffix', ''],
    ['**/**', 'regexp', '^(.*/)?.*$'],
    ['dir/**', 'prefix', ''],
    ['**/dir', 'suffix', ''],
    ['**/dir2/*', 'regexp', '^(.*/)?dir2/[^/]*$'],
    ['**/dir2/**', 'regexp', '^(.*/)?dir2/.*$'],
    ['**file', 'suffix', ''],
    ['**/file*txt', 'regexp', '^(.*/)?file[^/]*txt$'],
    ['**/**/*.txt', 'regexp', '^(.*/)?(.*/)?[^/]*\\.txt$'],
    ['a[b-d]e', 'regexp', '^a[b-d]e$'],
    ['.*', 'regexp', '^\\.[^/]*$'],
    ['abc.def', 'exact', ''],
    ['abc?def', 'regexp', '^abc[^/]def$'],
    ['**/foo/bar', 'suffix', ''],
    ['a(b)c/def', 'exact', ''],
    ['a.|)$(}+{bc', 'exact', ''],
    ['dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', 'exact', ''],
  ];
  for (const [pattern, kind, re] of cases) {
    const c = mobyCompile(goClean(pattern));
    assert.equal(c.kind, kind, pattern);
    assert.equal(c.regexp, re, pattern);
    if (re) new GoRegexp(re); // Go compiles each of them
  }
});

test("moby's TestMatchesOrParentMatchesMalformedPatternDoesNotPanicOnRepeatedCall: '[Local-Only]/' passes New's check, then fails", () => {
  assert.equal(badFilepathPattern('[Local-Only]'), false, 'filepath.Match accepts it (l-O is a range Go matches nothing with)');
  assert.throws(() => new GoRegexp('^[Local-Only]$'), (e: unknown) => e instanceof GoRegexpError && e.code === 'invalid character class range');
  // Docker fails the build on the first file; we say so at once, with the line.
  assert.throws(
    () => PatternMatcher.fromText('node_modules\n[Local-Only]/\n', 'app/.dockerignore'),
    (e: unknown) => e instanceof IgnoreFileError && e.line === 2 && e.file === 'app/.dockerignore' && /^app\/\.dockerignore:2: /.test(e.message) && e.dockerMessage === 'syntax error in pattern',
  );
});

test("moby's TestReadAll and the Clean* tests: comments, '/', '!', spaces, a BOM, CRLF", () => {
  const content = 'test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n!\n! ';
  assert.deepEqual(
    readIgnoreFile(content).map((l) => l.pattern),
    ['test1', 'test2', 'a/file/here', 'lastfile', '!inverted/abs/path', '!', '!'],
  );
  assert.deepEqual(readIgnoreFile('').length, 0);
  assert.deepEqual(readIgnoreFile('\uFEFFa\r\n  # not a comment\r\nb/../c/\n#x\n').map((l) => [l.line, l.pattern]), [[1, 'a'], [2, '# not a comment'], [3, 'c']]);
  assert.equal(new PatternMatcher(['docs', 'config']).patterns.length, 2);
  assert.equal(new PatternMatcher(['docs', 'config', '']).patterns.length, 2);
  assert.equal(new PatternMatcher(['docs', '!docs/README.md']).exclusions, true);
  assert.equal(new PatternMatcher(['docs', '  !docs/README.md']).exclusions, true);
  assert.equal(new PatternMatcher(['docs', '!docs/README.md  ']).exclusions, true);
  assert.throws(() => new PatternMatcher(['!']), IgnoreFileError);
  // ReadAll turns "!/" into "!/", and New's Clean makes it a lone "!".
  assert.throws(() => PatternMatcher.fromText('!/\n'), (e: unknown) => e instanceof IgnoreFileError && e.line === 1 && /lone "!"/.test(e.message));
  assert.throws(() => PatternMatcher.fromText('ok\n' + 'x'.repeat(70000) + '\n'), (e: unknown) => e instanceof IgnoreFileError && e.line === 2);
});

test('Go helpers: filepath.Clean and strings.TrimSpace', () => {
  const clean: Array<[string, string]> = [
    ['', '.'], ['abc', 'abc'], ['abc/def', 'abc/def'], ['a/b/c', 'a/b/c'], ['.', '.'], ['..', '..'], ['../..', '../..'],
    ['../../abc', '../../abc'], ['/abc', '/abc'], ['/', '/'], ['abc/', 'abc'], ['abc/def/', 'abc/def'], ['/abc/', '/abc'],
    ['abc//def//ghi', 'abc/def/ghi'], ['//abc', '/abc'], ['abc//', 'abc'], ['abc/./def', 'abc/def'], ['/./abc/def', '/abc/def'],
    ['abc/.', 'abc'], ['abc/def/ghi/../jkl', 'abc/def/jkl'], ['abc/def/../ghi/../jkl', 'abc/jkl'], ['abc/def/..', 'abc'],
    ['abc/def/../..', '.'], ['/abc/def/../..', '/'], ['abc/def/../../..', '..'], ['/abc/def/../../..', '/'],
    ['abc/def/../../../ghi/jkl/../../../mno', '../../mno'], ['/../abc', '/abc'], ['abc/./../def', 'def'], ['abc//./../def', 'def'],
    ['abc/../../././../def', '../../def'], ['!/', '!'], ['**/', '**'],
  ];
  for (const [a, b] of clean) assert.equal(goClean(a), b, JSON.stringify(a));
  assert.equal(goTrimSpace('\u0085 x \u00a0\u3000'), 'x');
  assert.equal(goTrimSpace('\uFEFFx'), '\uFEFFx', 'Go does not trim a BOM');
});

// ------------------------------------------------------------------ where Docker's regexp decides

test("Docker's regular-expression quirks decide, as in Docker", () => {
  const m = (pattern: string, path: string) => new PatternMatcher([pattern]).matchesOrParentMatches(path);
  // Go's negated class matches '/', unlike filepath.Match.
  assert.equal(m('a[^x]b', 'a/b'), true);
  // An escaped letter is a Go escape: \d is a digit class, \t a tab.
  assert.equal(m('v\\d', 'v1'), true);
  assert.equal(m('v\\d', 'vd'), false);
  assert.equal(m('a\\tb*', 'a\tbc'), true);
  // POSIX classes inside a class.
  assert.equal(m('[[:digit:]]*.txt', '7up.txt'), true);
  assert.equal(m('[[:digit:]]*.txt', 'up.txt'), false);
  // A '*' inside a class becomes part of Go's class "[^/]": `[*]x` matches "]x"... and not "*x".
  assert.equal(m('a[*]x', 'a]x'), true);
  assert.equal(m('a[*]x', 'a*x'), false);
  // '^' in a regexp pattern is a start anchor: harmless at the start, impossible later.
  assert.equal(m('^*.txt', 'a.txt'), true);
  assert.equal(m('a*^b', 'a^b'), false);
  // ...but a pattern with no wildcard is an exact string, '^' and all.
  assert.equal(m('a^b', 'a^b'), true);
  // \Q quotes the rest of the expression, moby's closing $ included.
  assert.equal(m('\\Qa*', 'a[^/]*$'), true);
  assert.equal(m('\\Qa*', 'a[^/]*$/more'), true);
  // `.` in `**` does not match a newline.
  assert.equal(m('**/*.log', 'a\nb/x.log'), false);
  assert.equal(m('**/*.log', 'ab/x.log'), true);
  // Unicode classes.
  assert.equal(m('\\pL*', 'é'), true);
  assert.equal(m('\\pL*', '1'), false);
  // Invalid as Go expressions: Docker fails the build.
  for (const bad of ['[z-a]', 'x\\1', 'a\\e*', '[[:nope:]]', 'a[\\b]*', '\\pX*']) {
    assert.throws(() => new PatternMatcher([bad]), IgnoreFileError, bad);
  }
});

test('matching is linear: patterns that make a backtracking matcher explode answer at once', () => {
  const name = 'a'.repeat(60);
  const patterns = [`app/${'*a'.repeat(20)}*b`, `${'*a'.repeat(30)}b`, `**/${'?*'.repeat(40)}x`, `${'**a'.repeat(20)}b`];
  const pm = new PatternMatcher(patterns);
  const start = performance.now();
  for (let i = 0; i < 200; i++) {
    assert.equal(pm.matchesOrParentMatches(`app/${name}${i}`), false);
    assert.equal(pm.matchesOrParentMatches(`d/${name}`), false);
  }
  // 800 paths × 4 such patterns: a backtracking matcher needs minutes for one of them.
  assert.ok(performance.now() - start < 5000, `${performance.now() - start} ms`);
  assert.equal(pm.matchesOrParentMatches(`app/${name}b`), true);
});

// ------------------------------------------------------------------ the walk (what the context holds)

test('the walk (MatchesUsingParentResults) against MatchesOrParentMatches: where they differ, the walk is what Docker sends', () => {
  // `**/*.log` then `!logs`: the exception matches the directory, which no earlier pattern had
  // matched, so the walk never applies it below; MatchesOrParentMatches would.
  const a = ContextIgnore.fromText('**/*.log\n!logs\n');
  assert.equal(a.ignored('logs/a.log'), true);
  assert.equal(a.matcher.matchesOrParentMatches('logs/a.log'), false);
  assert.equal(a.ignored('logs'), false);
  assert.equal(a.ignored('logs/readme'), false);
  // A pattern after an exception that matches the exception's parent.
  const b = ContextIgnore.fromText('a\n!a/b\na\n');
  assert.equal(b.ignored('a/b'), false);
  assert.equal(b.matcher.matchesOrParentMatches('a/b'), true);
  assert.equal(b.ignored('a/c'), true);
  // The usual case agrees.
  const c = ContextIgnore.fromText('docs\n!docs/keep.md\n**/*.tmp\n');
  for (const p of ['docs', 'docs/a.md', 'docs/keep.md', 'docs/keep.md/x', 'x.tmp', 'a/b/c.tmp', 'src/a.go']) {
    assert.equal(c.ignored(p), c.matcher.matchesOrParentMatches(p), p);
  }
});

test('directories the walk may skip whole (fsutil): only with plain-path exceptions outside them', () => {
  const plain = ContextIgnore.fromText('**\n!src/keep\n!tools/**\n');
  assert.equal(plain.canSkipDir('docs'), true);
  assert.equal(plain.canSkipDir('src'), false);
  assert.equal(plain.canSkipDir('tools'), false);
  assert.equal(ContextIgnore.fromText('docs\n').canSkipDir('docs'), true);
  assert.equal(ContextIgnore.fromText('**\n!**/*.go\n').canSkipDir('docs'), false, 'a wildcard exception may match at any depth');
});
