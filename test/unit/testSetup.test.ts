// The real-VS-Code setup (scripts/vscode-test/setup.sh) runs its nested npm installs free of the
// outer npm's configuration: `npm test` runs it as `pretest`, under an npm whose user agent
// ("node/v20") code-server's postinstall would otherwise read (issue 9).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import * as path from 'node:path';

const root = path.join(__dirname, '../..');
const cleanNpm = path.join(root, 'scripts/vscode-test/cleanNpm.mjs');

test('setup: a nested npm started through cleanNpm.mjs under a real `npm run` keeps none of the outer npm', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bp-npm-env-'));
  try {
    // Siblings: a nested npm puts every node_modules/.bin up from its own package on PATH.
    const outer = path.join(dir, 'outer');
    mkdirSync(outer);
    mkdirSync(path.join(dir, 'inner'));
    writeFileSync(
      path.join(outer, 'package.json'),
      JSON.stringify({
        name: 'outer-pkg',
        version: '1.0.0',
        private: true,
        scripts: { outer: `node ${JSON.stringify(cleanNpm)} npm_config_nodedir=/inner/nodedir --prefix ../inner run --silent show` },
      }),
    );
    writeFileSync(
      path.join(dir, 'inner', 'package.json'),
      JSON.stringify({
        name: 'inner-pkg',
        version: '1.0.0',
        private: true,
        scripts: { show: `node -e "process.stdout.write(JSON.stringify(process.env))"` },
      }),
    );
    // What `npm test` → pretest looks like, with the settings a user has (registry) and the one
    // that broke code-server's postinstall (the outer user agent) passed as outer npm config.
    const out = execFileSync(
      'npm',
      ['run', '--silent', 'outer', '--user-agent=npm/0.0.0 node/v20.0.0 outer-agent', '--registry=http://127.0.0.1:9/', '--nodedir=/outer/nodedir', '--foreground-scripts'],
      { cwd: outer, encoding: 'utf8', env: { ...process.env, npm_config_user_agent: undefined } as NodeJS.ProcessEnv },
    );
    const env = JSON.parse(out.slice(out.indexOf('{'))) as Record<string, string>;
    assert.doesNotMatch(env.npm_config_user_agent ?? '', /outer-agent/, 'the outer user agent does not reach the nested npm');
    assert.equal(env.npm_config_registry, 'http://127.0.0.1:9/', 'the user\'s registry still applies');
    assert.equal(env.npm_config_nodedir, '/inner/nodedir', 'the nested settings win over the outer npm\'s');
    assert.notEqual(env.npm_config_foreground_scripts, 'true', 'other outer config does not leak');
    assert.equal(env.npm_package_name, 'inner-pkg');
    assert.equal(env.npm_lifecycle_event, 'show');
    assert.ok(!env.PATH.split(path.delimiter).includes(path.join(outer, 'node_modules', '.bin')), 'the outer package\'s .bin is off PATH');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('setup: every npm that setup.sh starts goes through cleanNpm.mjs', () => {
  const script = readFileSync(path.join(root, 'scripts/vscode-test/setup.sh'), 'utf8');
  const calls = script
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .filter((line) => /(^|[\s(;&|])npm\s+(install|i|ci|pack|exec|x|run)\b/.test(line));
  assert.deepEqual(calls, [], `bare npm calls in setup.sh:\n${calls.join('\n')}`);
  assert.ok((script.match(/cleanNpm\.mjs/g) ?? []).length >= 2, 'pack and install both use it');
});

test('the project names no path of a particular machine', () => {
  const tracked = execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' }).split('\n').filter((f) => /\.(ts|mjs|js|sh|md|json)$|^\.ci\//.test(f) && f !== 'package-lock.json');
  const hits: string[] = [];
  for (const f of tracked) {
    const text = readFileSync(path.join(root, f), 'utf8');
    // Built from pieces so that this file does not match itself.
    for (const bad of ['/work' + '/', 'shared' + '/notes']) if (text.includes(bad)) hits.push(`${f}: ${bad}`);
  }
  assert.deepEqual(hits, []);
});
