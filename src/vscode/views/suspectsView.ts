// The Suspects view: per target, the commits between the last good and the first bad build that
// change image inputs (newest passing before newest failing, or the pair chosen with "Find
// Suspects…"), each with its files and the Dockerfile instruction that bakes each in. Opening a
// commit shows the diff of its input files. Computed by the core only while the view is visible.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { treeItemOf } from './treeItems';
import { isAbortError } from '../../core/git/exec';
import { ago, clean, shortSha, viaLocation } from '../../core/humanize';
import { ProvenanceError } from '../../core/status/workspace';
import { computeSuspects, type BuildSide, type Suspect, type SuspectsResult } from '../../core/archaeology/suspects';
import { COMMANDS } from '../commands';
import { historyOf, workspaceOf } from '../archaeology/imageArchaeology';
import { SafeMarkdown } from '../markdown';
import type { ProvenanceModel, TargetState } from '../provenanceModel';

export const SUSPECTS_VIEW_ID = 'buildProvenance.suspects';
export const SUSPECT_COMMANDS = {
  markGood: 'buildProvenance.markBuildGood',
  markBad: 'buildProvenance.markBuildBad',
  findSuspects: 'buildProvenance.findSuspects',
  openSuspect: 'buildProvenance.openSuspect',
  openTimeline: 'buildProvenance.openTimeline',
} as const;

interface Node {
  id: string;
  kind: string;
  label: string;
  description?: string;
  tooltip?: vscode.MarkdownString | string;
  icon?: vscode.ThemeIcon;
  command?: vscode.Command;
  children?: Node[];
}

type Outcome = { result: SuspectsResult } | { error: { message: string; hint: string } };

export class SuspectsView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly _onDidChangeTreeData = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this._onDidChangeTreeData.event;
  private readonly view: vscode.TreeView<Node>;
  private readonly disposables: vscode.Disposable[] = [this._onDidChangeTreeData];
  /** Chosen good/bad per target key; none: the newest passing before the newest failing build. */
  private readonly choices = new Map<string, { good: string; bad: string }>();
  private outcomes = new Map<string, Outcome>();
  private inflight: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stale = true;

  constructor(
    private readonly model: ProvenanceModel,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.view = vscode.window.createTreeView(SUSPECTS_VIEW_ID, { treeDataProvider: this, showCollapseAll: true });
    this.disposables.push(
      this.view,
      model.onDidChange(() => this.invalidate()),
      this.view.onDidChangeVisibility((e) => e.visible && this.stale && this.schedule(0)),
    );
  }

  /** The last results, per target key (for tests). */
  get results(): ReadonlyMap<string, Outcome> {
    return this.outcomes;
  }

  /** Shows the suspects between two builds the user chose, and reveals the view. */
  async show(key: string, pair: { good: string; bad: string } | null): Promise<void> {
    if (pair) this.choices.set(key, pair);
    else this.choices.delete(key);
    await vscode.commands.executeCommand(`${SUSPECTS_VIEW_ID}.focus`).then(undefined, () => undefined);
    await this.recompute();
  }

  /** Something changed (a refresh, a mark): recompute now if visible, else on next show. */
  invalidate(): void {
    this.stale = true;
    if (this.view.visible) this.schedule(1000);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.recompute(), ms);
  }

  /** The newest recompute: one that was overtaken resolves with it (show() must see the results). */
  private latest: Promise<void> = Promise.resolve();

  private recompute(): Promise<void> {
    const run = this.compute();
    this.latest = run;
    return run;
  }

  private async compute(): Promise<void> {
    clearTimeout(this.timer);
    this.inflight?.abort();
    const ctl = new AbortController();
    this.inflight = ctl;
    this.stale = false;
    this.view.message = 'Reading builds…';
    const next = new Map<string, Outcome>();
    await Promise.all(
      this.model.visibleTargets.map(async (s) => {
        try {
          const h = await historyOf(s, this.model.restricted, ctl.signal);
          const pair = this.choices.get(s.key);
          next.set(s.key, { result: await computeSuspects(workspaceOf(s), h, pair ?? {}, { signal: ctl.signal }) });
        } catch (err) {
          if (isAbortError(err) || ctl.signal.aborted) return;
          if (err instanceof ProvenanceError) next.set(s.key, { error: { message: err.message, hint: err.hint } });
          else {
            this.log.warn(`Suspects: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
            next.set(s.key, { error: { message: `Could not compute the suspects: ${err instanceof Error ? err.message : String(err)}`, hint: 'See the Build Provenance output.' } });
          }
        }
      }),
    );
    // Overtaken (the view became visible, the model refreshed): the newer run has the results.
    if (ctl.signal.aborted) return this.latest;
    this.outcomes = next;
    this.view.message = this.model.visibleTargets.length === 0 ? 'No image target is configured in this workspace.' : undefined;
    this._onDidChangeTreeData.fire(undefined);
  }

  getTreeItem(n: Node): vscode.TreeItem {
    return treeItemOf(n, n.children ? (n.kind === 'commit' ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.Expanded) : vscode.TreeItemCollapsibleState.None);
  }

  getChildren(n?: Node): Node[] {
    if (n) return n.children ?? [];
    const targets = this.model.visibleTargets.filter((s) => this.outcomes.has(s.key));
    const nodes = targets.map((s) => this.targetNode(s, this.outcomes.get(s.key)!));
    return nodes.length === 1 ? (nodes[0].children ?? []) : nodes;
  }

  private targetNode(s: TargetState, o: Outcome): Node {
    const id = `${s.key}/suspects`;
    const children: Node[] = [];
    if ('error' in o) {
      children.push(leaf(`${id}/error`, 'error', clean(o.error.message), 'info', { tooltip: clean(o.error.message) }));
      if (o.error.hint) children.push(leaf(`${id}/hint`, 'hint', clean(o.error.hint), 'lightbulb', { tooltip: clean(o.error.hint) }));
      children.push(
        leaf(`${id}/mark-good`, 'action', 'Mark Build Good…', 'pass', { command: { command: SUSPECT_COMMANDS.markGood, title: 'Mark Build Good…', arguments: [s.key] } }),
        leaf(`${id}/mark-bad`, 'action', 'Mark Build Bad…', 'error', { command: { command: SUSPECT_COMMANDS.markBad, title: 'Mark Build Bad…', arguments: [s.key] } }),
        leaf(`${id}/find`, 'action', 'Find Suspects Between Two Builds…', 'search', { command: { command: SUSPECT_COMMANDS.findSuspects, title: 'Find Suspects…', arguments: [s.key] } }),
      );
    } else {
      const r = o.result;
      children.push(sideNode(`${id}/good`, 'good', r.good), sideNode(`${id}/bad`, 'bad', r.bad));
      children.push(
        leaf(`${id}/count`, 'count', `${r.suspects.length} of ${r.total} commit(s) change image inputs`, r.suspects.length ? 'warning' : 'pass', {
          description: r.suspects.length ? 'open one to see its diff' : undefined,
        }),
      );
      for (const c of r.suspects) children.push(this.commitNode(s, id, c));
      r.warnings.forEach((w, k) => children.push(leaf(`${id}/warning/${k}`, 'warning', clean(w), 'warning', { tooltip: clean(w) })));
    }
    return { id, kind: 'target', label: s.target.name, icon: new vscode.ThemeIcon('target'), children };
  }

  private commitNode(s: TargetState, parent: string, c: Suspect): Node {
    const id = `${parent}/commit/${c.sha}`;
    const md = new SafeMarkdown().raw('**Suspect** ').code(c.sha).line().text(c.subject).line().raw('by ').text(c.author).raw(`, ${ago(c.date)} ago`).para();
    for (const f of c.files) {
      md.raw('- ').code(f.path);
      if (f.via[0]) md.raw(' ← ').code(`${viaLocation(f.via[0])} ${f.via[0].instruction}`);
      md.line();
    }
    const files = c.files.map((f) => f.path);
    return {
      id,
      kind: 'commit',
      label: clean(c.subject) || '(no subject)',
      description: `${shortSha(c.sha)} · ${clean(c.author)} · ${ago(c.date)} ago · ${files.length} file${files.length === 1 ? '' : 's'}`,
      tooltip: md.md,
      icon: new vscode.ThemeIcon('git-commit', new vscode.ThemeColor('list.warningForeground')),
      command: { command: SUSPECT_COMMANDS.openSuspect, title: 'Open the Diff of Its Input Files', arguments: [s.repo.root, c.sha, files] },
      children: c.files.map((f) => {
        const dir = path.posix.dirname(f.path);
        const via = f.via[0];
        const fmd = new SafeMarkdown().code(f.path).line();
        for (const v of f.via) fmd.raw('baked in by ').code(`${viaLocation(v)} ${v.instruction}`).line();
        return {
          id: `${id}/file/${f.path}`,
          kind: 'file',
          label: clean(path.posix.basename(f.path)),
          description: `${dir === '.' ? '' : `${clean(dir)} · `}${via ? clean(`${path.posix.basename(viaLocation(via))} ${via.instruction}`) : ''}`,
          tooltip: fmd.md,
          icon: vscode.ThemeIcon.File,
          command: { command: COMMANDS.openDiff, title: 'Open Diff', arguments: [s.repo.root, f.path, `${c.sha}^`, c.sha] },
        };
      }),
    };
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.inflight?.abort();
    for (const d of this.disposables) d.dispose();
  }
}

function sideNode(id: string, role: 'good' | 'bad', side: BuildSide): Node {
  const name = side.imageId ? clean(side.tags[0] ?? side.imageId.slice(7, 19)) : 'commit';
  const md = new SafeMarkdown().raw(`**${role === 'good' ? 'Good' : 'Bad'} build** `).code(name).line().raw('revision ').code(side.revision);
  if (side.revisionSource === 'inferred') md.raw(' — *inferred from the reflog, not recorded*');
  if (side.revisionSource === 'content') md.raw(' — *derived from its content (the baked files)*');
  if (side.imageId) md.line().raw('image ').code(side.imageId.slice(0, 19));
  if (side.builtAt) md.line().raw(`built ${ago(side.builtAt)} ago`);
  return leaf(id, role, role === 'good' ? 'Good' : 'Bad', role === 'good' ? 'pass' : 'error', {
    description: `${name} @ ${side.revisionSource === 'inferred' ? '~' : ''}${shortSha(side.revision)}${side.revisionSource === 'content' ? ' (by content)' : ''}${side.dirty ? '-dirty' : ''}${side.builtAt ? ` · ${ago(side.builtAt)} ago` : ''}`,
    tooltip: md.md,
  });
}

function leaf(id: string, kind: string, label: string, icon: string, extra: Partial<Node> = {}): Node {
  return { id, kind, label, icon: new vscode.ThemeIcon(icon), ...extra };
}
