// The .vsix holds exactly what the extension needs at run time (.vscodeignore is an allowlist),
// and every file the manifest points at is in it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

const root = path.join(__dirname, '../..');

test('packaging: the .vsix file list is the allowlist, and covers the manifest', () => {
  const files = execFileSync(process.execPath, [path.join(root, 'node_modules/@vscode/vsce/vsce'), 'ls', '--no-dependencies'], { cwd: root, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
  assert.ok(files.every((f) => /^(package\.json|README\.md|LICENSE|dist\/[\w.-]+\.js|schema\/[\w.-]+\.json|media\/.+|docs\/[\w.-]+\.png)$/.test(f)), `unexpected files: ${files.join(', ')}`);
  for (const f of ['dist/extension.js', 'dist/cli.js', 'dist/cli-main.js', 'dist/dockerode.js', 'dist/dockerode-extras.js', 'schema/provenance.schema.json', 'README.md', 'LICENSE']) {
    assert.ok(files.includes(f), `${f} is packaged`);
  }
  assert.ok(!files.some((f) => /^(src|test|node_modules|bench|scripts)\//.test(f) || f.endsWith('.map')), 'no sources, tests or maps');
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const referenced = new Set<string>([pkg.main, pkg.icon, pkg.bin.provenance]);
  const walk = (v: unknown): void => {
    if (typeof v === 'string' && /^(\.\/)?(media|schema|dist)\/[\w./-]+\.\w+$/.test(v)) referenced.add(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(pkg.contributes);
  for (const ref of referenced) assert.ok(files.includes(ref.replace(/^\.\//, '')), `${ref} (named in package.json) is packaged`);
});
