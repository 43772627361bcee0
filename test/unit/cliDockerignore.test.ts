// The CLI on .dockerignore files whose answer Docker's matcher defines (issue 11's table), on
// patterns Docker rejects, and on patterns git pathspecs cannot express (the walk narrows them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { runCli } from '../support/cli';
import { FixtureRepo } from '../support/gitFixture';

const WHEEL = 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl';

/** .dockerignore text, the file, and whether Docker sends it (then it is an input of COPY . /app). */
const CASES: Array<[string, string, boolean]> = [
  ['**file\n', 'dir/file', false],
  ['a**/*.txt\n', 'a/dir/file.txt', false],
  ['a/*.txt**\n', 'a/file.txt', false],
  ['a(b)c/def\n', 'a(b)c/def', false],
  [`${WHEEL}\n`, WHEEL, false],
  [`**\n!${WHEEL}\n`, WHEEL, true],
  ['a.|)$(}+{bc\n', 'a.|)$(}+{bc', false],
  ['**/*.log\n!logs\n', 'logs/a.log', false], // the walk never applies `!logs` below it
  ['*.md\n!README*.md\n', 'README-x.md', true],
];

test('cli: affects and the inputs pathspecs give Docker\'s answer for the cases of the issue', async (t) => {
  const repo = FixtureRepo.create('bp-ignore-cli-');
  t.after(() => repo.cleanup());
  const files = [...new Set(CASES.map(([, f]) => f))];
  repo.writeAll({ Dockerfile: 'FROM scratch\nCOPY . /app\n', 'other.txt': 'x', ...Object.fromEntries(files.map((f) => [f, f])) });
  repo.write('.dockerignore', '');
  repo.commit('tree');
  for (const [ignore, file, sent] of CASES) {
    repo.write('.dockerignore', ignore);
    const where = `${JSON.stringify(ignore)} / ${file}`;
    const aff = await runCli(['affects', file, '--json', '--image', 'app', '--dockerfile', 'Dockerfile', '--cwd', repo.dir]);
    assert.equal(aff.code, 0, `${where}: ${aff.err}`);
    assert.equal(aff.json()[0].affects, sent, `${where}: affects`);
    const inputs = await runCli(['inputs', '--json', '--image', 'app', '--dockerfile', 'Dockerfile', '--cwd', repo.dir]);
    assert.equal(inputs.code, 0, `${where}: ${inputs.err}`);
    const res = inputs.json();
    const listed = execFileSync('git', ['ls-files', '-z', '--', ...res.pathspecs], { cwd: repo.dir, encoding: 'utf8' }).split('\0');
    if (res.pathspecsExact) assert.equal(listed.includes(file), sent, `${where}: git ls-files -- <pathspecs>`);
    else {
      assert.ok(res.pathspecsSuperset.length > 0, where);
      if (sent) assert.ok(listed.includes(file), `${where}: a superset keeps what is sent`);
    }
  }
});

test('cli: a pattern Docker rejects is an error with the file and line, exit 2, never "unexpected error"', async (t) => {
  const repo = FixtureRepo.create('bp-ignore-bad-');
  t.after(() => repo.cleanup());
  repo.commit('tree', { Dockerfile: 'FROM scratch\nCOPY . /app\n', 'a.txt': 'a' });
  const bad: Array<[string, number, RegExp]> = [
    ['node_modules\n!\n', 2, /a lone "!".*illegal exclusion pattern/],
    ['# c\nsrc/[a-\n', 2, /syntax error in pattern/],
    ['ok\nx\n[Local-Only]/\n', 3, /invalid character class range.*syntax error in pattern/],
    ['a\\\n', 1, /syntax error in pattern/],
  ];
  for (const [text, line, re] of bad) {
    repo.commit(`ignore ${line}`, { '.dockerignore': text });
    for (const cmd of [['affects', 'a.txt'], ['inputs'], ['diff', 'HEAD', 'HEAD']]) {
      const r = await runCli([...cmd, '--image', 'app', '--dockerfile', 'Dockerfile', '--cwd', repo.dir]);
      assert.equal(r.code, 2, `${cmd[0]} ${JSON.stringify(text)}: ${r.out}${r.err}`);
      assert.match(r.err, new RegExp(`\\.dockerignore:${line}: `), r.err);
      assert.match(r.err, re);
      assert.doesNotMatch(r.err, /unexpected error/);
    }
  }
});

test('cli: diff narrows pathspecs git cannot make exact (a wildcard exception) to the inputs', async (t) => {
  const repo = FixtureRepo.create('bp-ignore-superset-');
  t.after(() => repo.cleanup());
  const base = repo.commit('base', { Dockerfile: 'FROM scratch\nCOPY . /app\n', '.dockerignore': 'logs\n!logs/*.log\n', 'logs/a.txt': '1', 'logs/b.log': '1', 'src/x': '1' });
  repo.commit('ignored file', { 'logs/a.txt': '2' });
  repo.commit('kept by the exception', { 'logs/b.log': '2' });
  repo.commit('both', { 'logs/a.txt': '3', 'src/x': '2' });
  const inputs = (await runCli(['inputs', '--json', '--image', 'app', '--dockerfile', 'Dockerfile', '--cwd', repo.dir])).json();
  assert.equal(inputs.pathspecsExact, false);
  assert.match(inputs.pathspecsSuperset.join('\n'), /logs\/\*\.log/);
  const diff = await runCli(['diff', base, 'HEAD', '--json', '--image', 'app', '--dockerfile', 'Dockerfile', '--cwd', repo.dir]);
  assert.equal(diff.code, 0, diff.err);
  const rel = diff.json().relevant.map((c: { subject: string; files: string[] }) => [c.subject, c.files]);
  assert.deepEqual(rel, [['both', ['src/x']], ['kept by the exception', ['logs/b.log']]]);
  // The uncommitted check narrows them too.
  repo.write('logs/a.txt', '4');
  const check = await runCli(['check', '--image', 'app', '--dockerfile', 'Dockerfile', '--cwd', repo.dir]);
  assert.doesNotMatch(check.out + check.err, /logs\/a\.txt/);
});
