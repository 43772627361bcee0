// Hover on a marked line of an image input file: which commit introduced the line (blame on
// demand, or "uncommitted"), whether it is built and running, how long it has waited, and actions.
// The markdown is trusted for exactly our own command ids, with arguments we build; every
// untrusted string (subject, author, names, tags) still goes in through appendText.
import * as vscode from 'vscode';
import { verdictText } from '../../core/status/editorMarks';
import { isAbortError } from '../../core/git/exec';
import { ago, shortSha } from '../../core/humanize';
import { COMMANDS } from '../commands';
import type { LineDecorations } from './lineDecorations';
import type { LineFacts, LineFactsService, TargetLineFacts } from './lineFacts';
import { commandLink, SafeMarkdown } from '../markdown';
import { BUILD_COMMANDS, registeredCommands } from '../registeredCommands';

export class LineHover implements vscode.HoverProvider, vscode.Disposable {
  private readonly registration: vscode.Disposable;

  constructor(
    /** Built on the first hover over a marked line (shared with the annotation). */
    private readonly facts: () => LineFactsService,
    private readonly decorations: LineDecorations,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.registration = vscode.languages.registerHoverProvider({ scheme: 'file' }, this);
  }

  async provideHover(doc: vscode.TextDocument, pos: vscode.Position, token: vscode.CancellationToken): Promise<vscode.Hover | undefined> {
    if (!this.decorations.markAt(doc.uri, pos.line + 1)) return undefined; // the common case: no git, no await
    const ctl = new AbortController();
    const sub = token.onCancellationRequested(() => ctl.abort());
    try {
      const f = await this.facts().factsAt(doc.uri, pos.line + 1, ctl.signal);
      if (!f || token.isCancellationRequested) return undefined;
      const available = await registeredCommands([BUILD_COMMANDS.buildAndSmoke]);
      return new vscode.Hover(renderHover(f, available.has(BUILD_COMMANDS.buildAndSmoke), this.decorations.editedSinceMarked(doc.uri)), doc.lineAt(pos.line).range);
    } catch (err) {
      if (!isAbortError(err)) this.log.error(`hover on ${doc.uri.fsPath}:${pos.line + 1}: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    } finally {
      sub.dispose();
    }
  }

  dispose(): void {
    this.registration.dispose();
  }
}

/** The hover's markdown for a marked line. Exported for tests. */
export function renderHover(f: LineFacts, canBuild: boolean, edited: boolean): vscode.MarkdownString {
  const m = new SafeMarkdown();
  const enabled: string[] = [];
  const link = (title: string, command: string, args: unknown[]) => {
    if (!enabled.includes(command)) enabled.push(command);
    m.raw(commandLink(title, command, args));
  };
  if (f.mark.kind === 'uncommitted') {
    m.raw('**Build Provenance** · uncommitted change').para();
    m.raw('This line is not committed, so it is in no image yet. Commit it, then build + smoke test.');
  } else if (!f.blame) {
    m.raw('**Build Provenance** · not deployed').para();
    m.raw('This line differs from what runs, but git blame had no answer for it.');
  } else {
    const b = f.blame;
    m.raw(`**Build Provenance** · ${verdictText(f.targets[0]?.verdict ?? { built: null, running: null })}`).para();
    m.code(shortSha(b.sha)).raw(' ').text(b.subject || '(no subject)');
    if (b.author) m.raw(' — ').text(b.author);
    m.para();
  }
  for (const t of f.targets) appendTarget(m, t, f.mark.kind === 'uncommitted');
  if (f.mark.kind === 'committed' && f.date && !f.targets.some((t) => t.verdict.running === true)) {
    m.para().raw(`Waiting **${ago(f.date)}** since it was committed, and not running yet.`);
  }
  if (edited) m.para().raw('*Marks are as of the last save; unsaved edits are not compared.*');
  const actions: (() => void)[] = [];
  if (canBuild) {
    for (const t of f.targets) {
      actions.push(() => {
        link('$(play) Build + Smoke Test', BUILD_COMMANDS.buildAndSmoke, [t.state.key]);
        if (f.targets.length > 1) m.raw(' ').code(t.state.target.name);
      });
    }
  }
  if (f.blame) {
    const sha = f.blame.sha;
    actions.push(() => link('$(search) Which image contains this commit?', COMMANDS.whichImage, [sha]));
  }
  if (actions.length > 0) {
    m.para();
    actions.forEach((a, k) => {
      if (k > 0) m.raw(' · ');
      a();
    });
  }
  // Trusted for our own command ids only; links carry only arguments built above.
  m.md.isTrusted = enabled.length > 0 ? { enabledCommands: enabled } : false;
  return m.md;
}

function appendTarget(m: SafeMarkdown, t: TargetLineFacts, uncommitted: boolean): void {
  m.raw('- **').text(t.state.target.name).raw('**: ');
  if (uncommitted) {
    m.raw('not built, not running').line();
    appendBytes(m, t);
    return;
  }
  const v = t.verdict;
  if (!t.builtAs) m.raw('no image built');
  else {
    m.raw(v.built === true ? 'built' : v.built === false ? 'not built' : 'built: unknown').raw(' — newest image ').code(t.builtAs.ref);
    m.raw(t.builtAs.revision ? ' is ' : ' has no usable revision label');
    if (t.builtAs.revision) m.code(shortSha(t.builtAs.revision)).raw(t.builtAs.byContent ? ' (by its content)' : '');
  }
  m.raw('; ');
  if (t.runningAs.length === 0) m.raw('no container running');
  else {
    m.raw(v.running === true ? 'running' : v.running === false ? 'not running' : 'running: unknown').raw(' — ');
    t.runningAs.forEach((r, k) => {
      if (k > 0) m.raw(', ');
      m.code(r.name).raw(r.revision ? ' runs ' : ' has no usable revision label');
      if (r.revision) m.code(shortSha(r.revision)).raw(r.byContent ? ' (by its content)' : '');
    });
  }
  m.line();
  appendBytes(m, t);
}

/** Whether what is deployed holds this file's committed version, read from its bytes. */
function appendBytes(m: SafeMarkdown, t: TargetLineFacts): void {
  if (!t.bytes) return;
  const icon = t.bytes.verdict === 'matches' || t.bytes.verdict === 'other-version' ? '$(verified)' : '$(info)';
  m.raw(`  ${icon} By its bytes, `).text(t.bytes.where).raw(' ').text(t.bytes.words).raw('.').line();
}
