// Markdown for hovers and tooltips. Commit subjects, labels and file names are untrusted: they go
// in through appendText (escaped), never as markdown, and no MarkdownString we build is trusted,
// so no command link can come from them.
import * as vscode from 'vscode';
import { clean } from '../core/humanize';

export class SafeMarkdown {
  readonly md: vscode.MarkdownString;

  constructor() {
    this.md = new vscode.MarkdownString('', true);
    this.md.isTrusted = false;
    this.md.supportHtml = false;
  }

  /** Our own markdown (static strings and numbers only). */
  raw(s: string): this {
    this.md.appendMarkdown(s);
    return this;
  }

  /** Untrusted text, escaped. */
  text(s: string): this {
    this.md.appendText(clean(s));
    return this;
  }

  /** Untrusted text as inline code. */
  code(s: string): this {
    const t = clean(s).replace(/`/g, "'");
    this.md.appendMarkdown('`');
    this.md.appendText(t);
    this.md.appendMarkdown('`');
    return this;
  }

  line(): this {
    this.md.appendMarkdown('  \n');
    return this;
  }

  para(): this {
    this.md.appendMarkdown('\n\n');
    return this;
  }
}

/**
 * A trusted markdown string that may only link to our own commands, with arguments we build
 * ourselves (never from untrusted text). Untrusted text still goes through appendText.
 */
export function commandLink(title: string, command: string, args: unknown[]): string {
  return `[${title}](command:${command}?${encodeURIComponent(JSON.stringify(args))})`;
}
