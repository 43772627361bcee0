import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  GLOBAL_GRAPHICS_OVERRIDE,
  isGraphicsOverride,
  resolveRiskRules,
  scanForRisks,
  shellCommands,
} from '../../src/core/rules/riskRules';

const defaults = resolveRiskRules(undefined).rules;

/** `[line, column, matched text]` of every finding of the built-in rule. */
function hits(text: string, file = 'desktop/shared/detect-render-node.sh', rules = defaults): [number, number, string][] {
  const lines = text.split('\n');
  return scanForRisks(text, file, rules).map((f) => [f.line, f.column, lines[f.line].slice(f.column, f.endLine === f.line ? f.endColumn : undefined)]);
}

const shellCases: { name: string; text: string; want: [number, number, string][] }[] = [
  { name: 'the incident: global export with a value', text: '#!/bin/bash\nexport MESA_GL_VERSION_OVERRIDE=4.5\n', want: [[1, 7, 'MESA_GL_VERSION_OVERRIDE=4.5']] },
  { name: 'assignment, then export', text: 'MESA_GL_VERSION_OVERRIDE=4.5; export MESA_GL_VERSION_OVERRIDE\n', want: [[0, 37, 'MESA_GL_VERSION_OVERRIDE']] },
  { name: 'export on a later line', text: 'LIBGL_ALWAYS_SOFTWARE=1\n\nexport LIBGL_ALWAYS_SOFTWARE\n', want: [[2, 7, 'LIBGL_ALWAYS_SOFTWARE']] },
  { name: 'several names in one export', text: 'export FOO=1 GALLIUM_DRIVER=llvmpipe __GLX_VENDOR_LIBRARY_NAME=mesa\n', want: [[0, 13, 'GALLIUM_DRIVER=llvmpipe'], [0, 37, '__GLX_VENDOR_LIBRARY_NAME=mesa']] },
  { name: 'quoted value', text: 'export MESA_GLSL_VERSION_OVERRIDE="450"\n', want: [[0, 7, 'MESA_GLSL_VERSION_OVERRIDE="450"']] },
  { name: 'whole assignment quoted', text: 'export "GBM_BACKEND=nvidia-drm"\n', want: [[0, 7, '"GBM_BACKEND=nvidia-drm"']] },
  { name: 'indented inside if', text: 'if [ -e /dev/dri/renderD128 ]; then\n  export MESA_LOADER_DRIVER_OVERRIDE=iris\nfi\n', want: [[1, 9, 'MESA_LOADER_DRIVER_OVERRIDE=iris']] },
  { name: 'after && in a list', text: 'test -n "$X" && export VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/nvidia_icd.json\n', want: [[0, 23, 'VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/nvidia_icd.json']] },
  { name: 'declare -x', text: 'declare -gx __EGL_VENDOR_LIBRARY_FILENAMES=/usr/share/glvnd/egl_vendor.d/50_mesa.json\n', want: [[0, 12, '__EGL_VENDOR_LIBRARY_FILENAMES=/usr/share/glvnd/egl_vendor.d/50_mesa.json']] },
  { name: 'set -a exports plain assignments', text: 'set -a\n__NV_PRIME_RENDER_OFFLOAD=1\nset +a\nGALLIUM_DRIVER=zink\n', want: [[1, 0, '__NV_PRIME_RENDER_OFFLOAD=1']] },
  { name: 'systemctl --user set-environment', text: 'systemctl --user set-environment LIBGL_ALWAYS_INDIRECT=1\n', want: [[0, 33, 'LIBGL_ALWAYS_INDIRECT=1']] },
  { name: 'dbus-update-activation-environment', text: 'dbus-update-activation-environment --systemd MESA_GL_VERSION_OVERRIDE\n', want: [[0, 45, 'MESA_GL_VERSION_OVERRIDE']] },
  { name: 'continuation line', text: 'export \\\n  MESA_GL_VERSION_OVERRIDE=4.5\n', want: [[1, 2, 'MESA_GL_VERSION_OVERRIDE=4.5']] },
  // Not global: scoped to one command, comments, data, other variables, un-export.
  { name: 'one-command scoping', text: 'MESA_GL_VERSION_OVERRIDE=4.5 glxinfo -B\n', want: [] },
  { name: 'env scoping', text: 'exec env LIBGL_ALWAYS_SOFTWARE=1 gnome-shell --wayland\n', want: [] },
  { name: 'plain assignment, never exported', text: 'MESA_GL_VERSION_OVERRIDE=4.5\necho "$MESA_GL_VERSION_OVERRIDE"\n', want: [] },
  { name: 'comment', text: '# export MESA_GL_VERSION_OVERRIDE=4.5\n  # never: export GALLIUM_DRIVER=zink\n', want: [] },
  { name: 'trailing comment', text: 'true # export MESA_GL_VERSION_OVERRIDE=4.5\n', want: [] },
  { name: 'in a string', text: 'echo "export MESA_GL_VERSION_OVERRIDE=4.5"\nlog \'export GALLIUM_DRIVER=zink\'\n', want: [] },
  { name: 'heredoc body is data', text: 'cat <<EOF\nexport MESA_GL_VERSION_OVERRIDE=4.5\nEOF\nexport FOO=1\n', want: [] },
  { name: 'heredoc with quoted delimiter, then real code', text: "cat <<'END' >/tmp/x\nexport GBM_BACKEND=x\nEND\nexport GBM_BACKEND=nvidia-drm\n", want: [[3, 7, 'GBM_BACKEND=nvidia-drm']] },
  { name: 'export -n un-exports', text: 'export -n MESA_GL_VERSION_OVERRIDE\n', want: [] },
  { name: 'unrelated variables', text: 'export WAYLAND_DISPLAY=wayland-0 XDG_RUNTIME_DIR=/run/user/1000 MESA_DEBUG=1\n', want: [] },
  { name: 'similar name is not the variable', text: 'export MY_MESA_GL_VERSION_OVERRIDE=4.5\n', want: [] },
  { name: 'local -x stays in the function', text: 'f() {\n  local -x MESA_GL_VERSION_OVERRIDE=4.5\n  glxgears\n}\n', want: [] },
  { name: 'command substitution with quotes', text: 'X="$(echo ")")"; export MESA_GL_VERSION_OVERRIDE="$X"\n', want: [[0, 24, 'MESA_GL_VERSION_OVERRIDE="$X"']] },
];

for (const c of shellCases) {
  test(`risk rules (shell): ${c.name}`, () => {
    assert.deepEqual(hits(c.text), c.want);
  });
}

const dockerCases: { name: string; text: string; want: [number, number, string][] }[] = [
  { name: 'ENV key=value', text: 'FROM ubuntu:24.04\nENV MESA_GL_VERSION_OVERRIDE=4.5 FOO=bar\n', want: [[1, 4, 'MESA_GL_VERSION_OVERRIDE=4.5']] },
  { name: 'ENV legacy form', text: 'FROM ubuntu\nENV LIBGL_ALWAYS_SOFTWARE 1\n', want: [[1, 4, 'LIBGL_ALWAYS_SOFTWARE']] },
  { name: 'ENV continued', text: 'FROM ubuntu\nENV A=1 \\\n    GALLIUM_DRIVER=zink\n', want: [[2, 4, 'GALLIUM_DRIVER=zink']] },
  { name: 'RUN writing to /etc/profile.d', text: "FROM ubuntu\nRUN echo 'export MESA_GL_VERSION_OVERRIDE=4.5' > /etc/profile.d/gl.sh\n", want: [[1, 17, 'MESA_GL_VERSION_OVERRIDE']] },
  { name: 'scoped RUN is fine', text: 'FROM ubuntu\nRUN MESA_GL_VERSION_OVERRIDE=4.5 glxinfo -B\n', want: [] },
  { name: 'comment and ARG are fine', text: '# ENV MESA_GL_VERSION_OVERRIDE=4.5\nARG MESA_GL_VERSION_OVERRIDE=4.5\nFROM ubuntu\n', want: [] },
];

for (const c of dockerCases) {
  test(`risk rules (Dockerfile): ${c.name}`, () => {
    assert.deepEqual(hits(c.text, 'Dockerfile.ubuntu-helix'), c.want);
  });
}

test('risk rules: which files the built-in rule reads', () => {
  const text = 'export MESA_GL_VERSION_OVERRIDE=4.5\n';
  const cases: [string, string, number][] = [
    ['a/run.sh', text, 1],
    ['a/run', '#!/usr/bin/env bash\n' + text, 1],
    ['a/run', '#!/bin/sh -e\n' + text, 1],
    ['etc/profile.d/gl', text, 1],
    ['home/.bashrc', text, 1],
    ['main.go', text, 0],
    ['README.md', text, 0],
    ['a/run', '#!/usr/bin/python3\n' + text, 0],
  ];
  for (const [file, body, n] of cases) assert.equal(scanForRisks(body, file, defaults).length, n, file);
});

test('risk rules: the message explains why and suggests scoping to one command', () => {
  const [f] = scanForRisks('export MESA_GL_VERSION_OVERRIDE=4.5\n', 'x.sh', defaults, { image: 'helix-ubuntu' });
  assert.equal(f.ruleId, GLOBAL_GRAPHICS_OVERRIDE);
  assert.equal(f.severity, 'warning');
  assert.match(f.message, /baked into helix-ubuntu/);
  assert.match(f.message, /every process that sources it inherits it/);
  assert.match(f.message, /MESA_GL_VERSION_OVERRIDE=4\.5 cmd/);
  // The value comes from the earlier assignment when `export VAR` has none.
  const [g] = scanForRisks('GALLIUM_DRIVER=zink\nexport GALLIUM_DRIVER\n', 'x.sh', defaults);
  assert.match(g.message, /GALLIUM_DRIVER=zink cmd/);
});

test('risk rules: graphics variable names', () => {
  for (const v of ['MESA_GL_VERSION_OVERRIDE', 'MESA_GLSL_VERSION_OVERRIDE', 'MESA_LOADER_DRIVER_OVERRIDE', 'MESA_EXTENSION_OVERRIDE', 'LIBGL_ALWAYS_SOFTWARE', 'LIBGL_ALWAYS_INDIRECT', '__GLX_VENDOR_LIBRARY_NAME', '__EGL_VENDOR_LIBRARY_FILENAMES', 'GALLIUM_DRIVER', 'GBM_BACKEND', 'VK_ICD_FILENAMES', '__NV_PRIME_RENDER_OFFLOAD', '__GLX_FORCE_VENDOR_LIBRARY_0']) {
    assert.ok(isGraphicsOverride(v), v);
  }
  for (const v of ['MESA_DEBUG', 'DISPLAY', 'WAYLAND_DISPLAY', 'PATH', 'MESA_GL_VERSION_OVERRIDE_X']) assert.ok(!isGraphicsOverride(v), v);
});

const settingCases: {
  name: string;
  setting: unknown;
  ids: string[];
  warnings: RegExp[];
  check?: (r: ReturnType<typeof resolveRiskRules>) => void;
}[] = [
  { name: 'no setting: the built-in', setting: undefined, ids: [GLOBAL_GRAPHICS_OVERRIDE], warnings: [] },
  { name: 'turn the built-in off', setting: [{ id: GLOBAL_GRAPHICS_OVERRIDE, enabled: false }], ids: [], warnings: [] },
  {
    name: 'override the built-in severity and message, keeping its matcher',
    setting: [{ id: GLOBAL_GRAPHICS_OVERRIDE, severity: 'error', message: 'no global {var} in {image}' }],
    ids: [GLOBAL_GRAPHICS_OVERRIDE],
    warnings: [],
    check: (r) => {
      const f = scanForRisks('MESA_GL_VERSION_OVERRIDE=1 cmd\nexport MESA_GL_VERSION_OVERRIDE=4.5\n', 'a.sh', r.rules, { image: 'img' });
      assert.deepEqual(f.map((x) => [x.line, x.severity, x.message]), [[1, 'error', 'no global MESA_GL_VERSION_OVERRIDE in img']]);
    },
  },
  {
    name: 'a custom regex rule with file globs',
    setting: [{ id: 'no-sudo', pattern: '\\bsudo\\b', message: 'sudo in {image}: {match}', severity: 'information', files: ['*.sh'] }],
    ids: [GLOBAL_GRAPHICS_OVERRIDE, 'no-sudo'],
    warnings: [],
    check: (r) => {
      const f = scanForRisks('ls\nsudo apt-get update; sudo ls\n', 'deep/dir/x.sh', r.rules, { image: 'img' });
      assert.deepEqual(f.map((x) => [x.ruleId, x.line, x.column, x.endColumn, x.severity, x.message]), [
        ['no-sudo', 1, 0, 4, 'information', 'sudo in img: sudo'],
        ['no-sudo', 1, 21, 25, 'information', 'sudo in img: sudo'],
      ]);
      assert.equal(scanForRisks('sudo ls\n', 'x.py', r.rules).length, 0);
    },
  },
  {
    name: 'a glob with a slash is repo-relative',
    setting: [{ id: 'todo', pattern: 'TODO', files: ['desktop/**'] }],
    ids: [GLOBAL_GRAPHICS_OVERRIDE, 'todo'],
    warnings: [],
    check: (r) => {
      assert.equal(scanForRisks('TODO\n', 'desktop/a/b.go', r.rules).length, 1);
      assert.equal(scanForRisks('TODO\n', 'other/desktop/b.go', r.rules).length, 0);
    },
  },
  {
    name: 'a built-in replaced by a regex',
    setting: [{ id: GLOBAL_GRAPHICS_OVERRIDE, pattern: '^export MESA_' }],
    ids: [GLOBAL_GRAPHICS_OVERRIDE],
    warnings: [],
    check: (r) => assert.equal(scanForRisks('export MESA_X=1\n', 'main.go', r.rules).length, 1),
  },
  { name: 'invalid regex: a clear warning, the rule is off', setting: [{ id: 'bad', pattern: '([a-' }], ids: [GLOBAL_GRAPHICS_OVERRIDE], warnings: [/riskRules\[0\] \("bad"\): invalid regular expression "\(\[a-"/] },
  { name: 'invalid regex on a built-in keeps the built-in matcher', setting: [{ id: GLOBAL_GRAPHICS_OVERRIDE, pattern: '(' }], ids: [GLOBAL_GRAPHICS_OVERRIDE], warnings: [/invalid regular expression/] },
  { name: 'bad severity falls back to warning', setting: [{ id: 'x', pattern: 'x', severity: 'fatal' }], ids: [GLOBAL_GRAPHICS_OVERRIDE, 'x'], warnings: [/severity "fatal" is not one of/], check: (r) => assert.equal(r.rules[1].severity, 'warning') },
  { name: 'missing id', setting: [{ pattern: 'x' }], ids: [GLOBAL_GRAPHICS_OVERRIDE], warnings: [/has no "id"/] },
  { name: 'custom rule without pattern', setting: [{ id: 'nothing' }], ids: [GLOBAL_GRAPHICS_OVERRIDE], warnings: [/has no "pattern"/] },
  { name: 'not an array', setting: { id: 'x' }, ids: [GLOBAL_GRAPHICS_OVERRIDE], warnings: [/must be an array/] },
  { name: 'entry not an object', setting: ['x', null], ids: [GLOBAL_GRAPHICS_OVERRIDE], warnings: [/\[0\] is not an object/, /\[1\] is not an object/] },
  { name: 'custom rule turned off', setting: [{ id: 'x', pattern: 'x', enabled: false }], ids: [GLOBAL_GRAPHICS_OVERRIDE], warnings: [] },
  { name: 'duplicate ids: the last wins', setting: [{ id: 'x', pattern: 'a' }, { id: 'x', pattern: 'b' }], ids: [GLOBAL_GRAPHICS_OVERRIDE, 'x'], warnings: [/more than once/], check: (r) => assert.equal(scanForRisks('a b\n', 'f', r.rules)[0].column, 2) },
  { name: 'unsupported file glob', setting: [{ id: 'x', pattern: 'x', files: ['[z-a]'] }], ids: [GLOBAL_GRAPHICS_OVERRIDE], warnings: [/not a supported glob/, /no usable file glob/] },
];

for (const c of settingCases) {
  test(`risk rules (setting): ${c.name}`, () => {
    const r = resolveRiskRules(c.setting);
    assert.deepEqual(r.rules.map((x) => x.id), c.ids);
    assert.equal(r.warnings.length, c.warnings.length, r.warnings.join('\n'));
    c.warnings.forEach((re, k) => assert.match(r.warnings[k], re));
    c.check?.(r);
  });
}

test('risk rules: a zero-length regex match does not loop, long lines are skipped', () => {
  const r = resolveRiskRules([{ id: 'empty', pattern: '^' }, { id: 'z', pattern: 'z' }]);
  const f = scanForRisks('a\nb\n' + 'z'.repeat(30_000) + '\n', 'f', r.rules);
  assert.deepEqual(f.map((x) => [x.ruleId, x.line]), [['empty', 0], ['empty', 1], ['empty', 3]]); // line 2 is too long to scan
});

test('risk rules: a rule that throws is reported and skipped', () => {
  const [rule] = resolveRiskRules(undefined).rules;
  const broken = { ...rule, id: 'broken', scan: () => { throw new Error('boom'); } };
  const errors: string[] = [];
  const f = scanForRisks('export MESA_GL_VERSION_OVERRIDE=1\n', 'a.sh', [broken, rule], { onRuleError: (r, e) => errors.push(`${r.id}: ${(e as Error).message}`) });
  assert.equal(f.length, 1);
  assert.deepEqual(errors, ['broken: boom']);
});

test('shell tokenizer: commands and words', () => {
  const cmds = shellCommands('a b "c d" \'e\' # f\ng | h && i; j 2>/dev/null k\n').map((c) => c.map((w) => w.text));
  assert.deepEqual(cmds, [['a', 'b', 'c d', 'e'], ['g'], ['h'], ['i'], ['j', 'k']]);
});
