// Notifications: untrusted text never becomes a link (issue 16). Every notification goes through
// src/vscode/notify.ts, whose texts pass core/humanize.ts plainText; VS Code's own link syntax of
// notifications (its linkedText regex, copied from the workbench) finds no link in them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { plainText } from '../../src/core/humanize';
import { tsSources } from '../support/sources';

/** VS Code's notification link syntax (vs/base/common/linkedText.ts, as shipped in code-server 4.139). */
const LINK = /\[([^\]]+)\]\(((?:https?:\/\/|command:|file:)[^)\s]+)(?: (["'])(.+?)(\3))?\)/gi;

test('plainText: no link forms, the text reads the same', () => {
  for (const s of [
    '[Click here](command:workbench.action.quit)',
    'image "[Click here](command:workbench.action.quit)" is not a Docker image name',
    '[a](https://example.invalid) and [b](file:///etc/passwd "title")',
    '[[x]](command:a)',
    '[x]\n(command:a)',
  ]) {
    const out = plainText(s);
    assert.equal(out.match(LINK), null, `${JSON.stringify(s)} → ${JSON.stringify(out)}`);
    assert.equal(out.replace(/\u200b/g, ''), s.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, '?'), 'only invisible characters were added');
  }
  assert.equal(plainText('plain (text) [with] brackets'), 'plain (text) [with] brackets');
});

test('notify: no file of src/vscode but notify.ts calls vscode.window.show*Message', () => {
  const root = path.join(__dirname, '../../src');
  const offenders = [...tsSources(root)].filter(([f, text]) => f !== 'vscode/notify.ts' && /\.show(Information|Warning|Error)Message\s*\(/.test(text)).map(([f]) => f);
  assert.deepEqual(offenders, []);
  assert.match(readFileSync(path.join(root, 'vscode', 'notify.ts'), 'utf8'), /showInformationMessage\(plainText\(message\)/);
});
