// Read-only documents of a file at a revision (`build-provenance-rev:` URIs), for diffs from the
// deployed revision to HEAD. One git cat-file on demand; nothing on keystrokes.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { catFileBatch } from '../core/git/queries';

export const REV_SCHEME = 'build-provenance-rev';

export function revisionUri(repoRoot: string, file: string, rev: string): vscode.Uri {
  return vscode.Uri.from({
    scheme: REV_SCHEME,
    path: '/' + path.posix.join(path.basename(repoRoot), file),
    query: JSON.stringify({ root: repoRoot, file, rev }),
  });
}

export class RevisionContentProvider implements vscode.TextDocumentContentProvider {
  async provideTextDocumentContent(uri: vscode.Uri, token: vscode.CancellationToken): Promise<string> {
    const { root, file, rev } = JSON.parse(uri.query) as { root: string; file: string; rev: string };
    const ctl = new AbortController();
    token.onCancellationRequested(() => ctl.abort());
    const [res] = await catFileBatch(root, [`${rev}:${file}`], ctl.signal);
    return res ? res.content.toString('utf8') : '';
  }
}

/** Opens a diff of `file` from `from` to the work tree (or to `to`). */
export async function openRevisionDiff(repoRoot: string, file: string, from: string, to?: string): Promise<void> {
  const left = revisionUri(repoRoot, file, from);
  const right = to ? revisionUri(repoRoot, file, to) : vscode.Uri.file(path.join(repoRoot, file));
  const title = `${path.basename(file)} (${from.slice(0, 8)} ↔ ${to ? to.slice(0, 8) : 'working tree'})`;
  await vscode.commands.executeCommand('vscode.diff', left, right, title);
}
