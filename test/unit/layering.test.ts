// The architecture, checked: src/core never reaches up into the editor or the CLI, and within core
// every import points down the layers (README "Layout").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

const root = path.join(__dirname, '../..');
const core = path.join(root, 'src/core');

/**
 * The layers of src/core, lowest first. A module may import its own folder and folders of a
 * lower rank only. Folders of one rank are peers and do not import each other.
 */
export const CORE_LAYERS: Record<string, number> = {
  '.': 0, // config, types, humanize, version: shared ground
  generated: -1, // the config validator, generated from the schema
  inputs: 1, // which repo files go into an image: Dockerfile syntax, ignore files, globs
  safety: 1, // the untrusted-repository policy and the safe file writes
  git: 2,
  docker: 2,
  status: 3, // the drift model and the status/diff/affects/inputs queries
  rules: 3,
  build: 4, // build, smoke, deploy, ledger
  archaeology: 5, // history, contains, suspects, timeline
};

/** Relative and bare module specifiers of a TypeScript source (static, dynamic and require). */
export function importSpecifiers(text: string): string[] {
  const out: string[] = [];
  const re = /(?:^|[^\w.])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|[^\w.])import\s*\(\s*['"]([^'"]+)['"]\s*\)|(?:^|[^\w.])require\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;
  for (const m of text.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3] ?? m[4]);
  return out;
}

/** Rule violations for files given as repo-relative path → source text. */
export function layeringViolations(files: Map<string, string>): string[] {
  const problems: string[] = [];
  const layerOf = (rel: string): string | null => {
    if (!rel.startsWith('src/core/')) return null;
    const parts = rel.slice('src/core/'.length).split('/');
    return parts.length === 1 ? '.' : parts[0];
  };
  for (const [file, text] of files) {
    const from = layerOf(file);
    if (from === null) continue;
    if (!(from in CORE_LAYERS)) problems.push(`${file}: folder src/core/${from} has no layer in CORE_LAYERS`);
    for (const spec of importSpecifiers(text)) {
      if (spec === 'vscode' || spec.startsWith('vscode/')) {
        problems.push(`${file} imports vscode`);
        continue;
      }
      if (!spec.startsWith('.')) continue;
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
      if (target.startsWith('src/cli/') || target.startsWith('src/vscode/') || /^src\/extension(\.ts)?$/.test(target)) {
        problems.push(`${file} imports ${spec} (core never imports the CLI or the editor)`);
        continue;
      }
      const to = layerOf(target.endsWith('.ts') || target.endsWith('.js') ? target : `${target}.ts`);
      if (to === null) {
        problems.push(`${file} imports ${spec}, outside src/core`);
        continue;
      }
      if (to === from) continue;
      if (!(to in CORE_LAYERS) || CORE_LAYERS[to] >= CORE_LAYERS[from]) {
        problems.push(`${file} (layer ${from}) imports ${spec} (layer ${to}): imports point down the layers only`);
      }
    }
  }
  return problems;
}

function sources(dir: string, out = new Map<string, string>()): Map<string, string> {
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) sources(full, out);
    else if (/\.(ts|js)$/.test(name) && !name.endsWith('.d.ts')) out.set(path.relative(root, full).split(path.sep).join('/'), readFileSync(full, 'utf8'));
  }
  return out;
}

test('layering: src/core imports no vscode, CLI or editor code, and its folders import downwards only', () => {
  const files = sources(core);
  assert.ok(files.size > 30, 'the core sources were found');
  assert.deepEqual(layeringViolations(files), []);
});

test('layering: the check fails on each kind of broken rule', () => {
  const broken = new Map([
    ['src/core/git/queries.ts', "import { computeDrift } from '../status/driftModel';"],
    ['src/core/inputs/imageInputs.ts', "import { engine } from '../build/engine';\nconst x = require('../archaeology/timeline');"],
    ['src/core/docker/state.ts', "import * as vscode from 'vscode';\nimport { exec } from '../git/exec';"],
    ['src/core/status/statusQuery.ts', "const m = await import('../../vscode/statusBar');"],
    ['src/core/build/engine.ts', "import { main } from '../../cli/main';"],
    ['src/core/types.ts', "import type { X } from './status/driftModel';"],
    ['src/core/newThing/x.ts', "import { a } from '../config';"],
  ]);
  const found = layeringViolations(broken);
  for (const file of broken.keys()) assert.ok(found.some((p) => p.startsWith(file)), `a violation in ${file} is found: ${found.join('\n')}`);
  assert.equal(found.filter((p) => p.startsWith('src/core/inputs/imageInputs.ts')).length, 2, 'static and require imports both count');
  assert.equal(found.filter((p) => p.startsWith('src/core/docker/state.ts')).length, 2, 'vscode and a peer layer both count');
  assert.deepEqual(layeringViolations(new Map([['src/core/status/x.ts', "import { a } from '../git/exec';\nimport { b } from './driftModel';\nimport { c } from '../config';"]])), []);
});
