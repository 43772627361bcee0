// The Provenance view: per target, HEAD → Built → Running, then the undeployed commits (those
// that change image inputs first, with their files; the rest collapsed and listed only when
// expanded) and uncommitted input files. Renders the model's snapshots; the only git it runs is
// the on-demand listing of a collapsed node, through src/core.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { treeItemOf } from './treeItems';
import { DISCOVERY_RULE_WORDS, discoveryWords } from '../../core/config';
import type { DriftSnapshot, RevisionView } from '../../core/status/driftModel';
import { isAbortError } from '../../core/git/exec';
import { logRange } from '../../core/git/queries';
import { otherCommitsInRange } from '../../core/git/historyQueries';
import { pathspecFilter } from '../../core/inputs/imageInputs';
import { ago, clean, shortSha } from '../../core/humanize';
import type { CommitSummary } from '../../core/types';
import { COMMANDS } from '../commands';
import { SafeMarkdown } from '../markdown';
import type { ProvenanceModel, TargetState } from '../provenanceModel';
import { statusTooltip } from './statusBar';

export const VIEW_ID = 'buildProvenance.view';
export const CONTEXT_NO_TARGET = 'buildProvenance.noTarget';
export const CONTEXT_DOCKER_UNREACHABLE = 'buildProvenance.dockerUnreachable';

/** How many commits a lazily expanded node lists. */
const LAZY_LIMIT = 200;

export interface ProvenanceNode {
  /** Stable across refreshes, so expansion state survives them. */
  readonly id: string;
  /** What kind of node (also the TreeItem contextValue): target, head, built, running, commit, file, … */
  readonly kind: string;
  readonly label: string;
  readonly description?: string;
  readonly tooltip?: vscode.MarkdownString | string;
  readonly icon?: vscode.ThemeIcon;
  readonly resourceUri?: vscode.Uri;
  readonly command?: vscode.Command;
  readonly expanded?: boolean;
  /** Children; a node without them is a leaf. Lazy ones run a git query on first expansion. */
  readonly children?: () => ProvenanceNode[] | Promise<ProvenanceNode[]>;
}

/** A plain rendering of the tree, for tests. */
export interface NodeDump {
  id: string;
  kind: string;
  label: string;
  description?: string;
  children?: NodeDump[];
}

export class ProvenanceTree implements vscode.TreeDataProvider<ProvenanceNode>, vscode.Disposable {
  private readonly _onDidChangeTreeData = new vscode.EventEmitter<ProvenanceNode | undefined>();
  readonly onDidChangeTreeData = this._onDidChangeTreeData.event;
  private readonly view: vscode.TreeView<ProvenanceNode>;
  private readonly disposables: vscode.Disposable[] = [this._onDidChangeTreeData];
  private readonly abort = new AbortController();
  /** Lazy listings by `root|from|to|pathspecs`: history for fixed SHAs does not change. */
  private readonly lazyCache = new Map<string, Promise<CommitSummary[] | { commits: CommitSummary[]; truncated: boolean }>>();
  private loaded = false;
  private keys: { noTarget?: boolean; dockerUnreachable?: boolean } = {};

  constructor(
    private readonly model: ProvenanceModel,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.view = vscode.window.createTreeView(VIEW_ID, { treeDataProvider: this, showCollapseAll: true });
    this.view.message = 'Reading git and Docker…';
    this.disposables.push(this.view, model.onDidChange(() => this.render()));
  }

  /** The context keys as last set (for tests: they drive the welcome content). */
  get contextKeys(): { noTarget: boolean; dockerUnreachable: boolean } {
    return { noTarget: this.keys.noTarget ?? false, dockerUnreachable: this.keys.dockerUnreachable ?? false };
  }

  getTreeItem(node: ProvenanceNode): vscode.TreeItem {
    return treeItemOf(
      node,
      node.children ? (node.expanded ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed) : vscode.TreeItemCollapsibleState.None,
    );
  }

  async getChildren(node?: ProvenanceNode): Promise<ProvenanceNode[]> {
    try {
      if (!node) return this.roots();
      return (await node.children?.()) ?? [];
    } catch (err) {
      this.log.error(`Provenance view: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      return [leaf(`${node?.id ?? 'root'}/error`, 'error', 'Could not show this part of the view', 'error', { description: 'see the Build Provenance output', tooltip: String(err) })];
    }
  }

  /** The tree as plain data, for tests. Lazy nodes are expanded only with `expandLazy`. */
  async dump(opts: { expandLazy?: boolean; maxDepth?: number } = {}): Promise<NodeDump[]> {
    const walk = async (nodes: ProvenanceNode[], depth: number): Promise<NodeDump[]> =>
      Promise.all(
        nodes.map(async (n) => {
          const d: NodeDump = { id: n.id, kind: n.kind, label: n.label, ...(n.description !== undefined ? { description: n.description } : {}) };
          const lazy = n.kind === 'other-commits' || n.kind === 'more-relevant';
          if (n.children && depth < (opts.maxDepth ?? 6) && (!lazy || opts.expandLazy)) d.children = await walk(await this.getChildren(n), depth + 1);
          return d;
        }),
      );
    return walk(await this.getChildren(), 0);
  }

  private render(): void {
    this.loaded = true;
    this.view.message = undefined;
    const visible = this.model.visibleTargets;
    const totalRelevant = visible.reduce((n, s) => n + (s.status?.snapshot.undeployed.relevantCount ?? 0), 0);
    this.view.badge = totalRelevant > 0 ? { value: totalRelevant, tooltip: `${totalRelevant} undeployed commit(s) change files baked into an image` } : undefined;
    this.setContext({
      noTarget: visible.length === 0,
      dockerUnreachable: visible.length > 0 && visible.every((s) => s.status?.snapshot.state === 'docker-unreachable'),
    });
    this._onDidChangeTreeData.fire(undefined);
  }

  private setContext(next: { noTarget: boolean; dockerUnreachable: boolean }): void {
    for (const [name, key] of [
      ['noTarget', CONTEXT_NO_TARGET],
      ['dockerUnreachable', CONTEXT_DOCKER_UNREACHABLE],
    ] as const) {
      if (this.keys[name] === next[name]) continue;
      this.keys[name] = next[name];
      vscode.commands.executeCommand('setContext', key, next[name]).then(undefined, (err: unknown) => this.log.warn(`setContext ${key}: ${String(err)}`));
    }
  }

  private roots(): ProvenanceNode[] {
    // An empty root lets the view's welcome content (no target / Docker unreachable) show.
    if (!this.loaded || this.keys.noTarget || this.keys.dockerUnreachable) return [];
    const visible = this.model.visibleTargets;
    const folders = new Map<string, { folder: vscode.WorkspaceFolder; targets: TargetState[] }>();
    for (const s of visible) {
      const k = s.folder.uri.toString();
      if (!folders.has(k)) folders.set(k, { folder: s.folder, targets: [] });
      folders.get(k)!.targets.push(s);
    }
    if ((vscode.workspace.workspaceFolders?.length ?? 0) <= 1) return visible.map((s) => this.targetNode(s));
    return [...folders.values()].map(({ folder, targets }) => ({
      id: `folder:${folder.uri.toString()}`,
      kind: 'folder',
      label: folder.name,
      icon: new vscode.ThemeIcon('root-folder'),
      tooltip: folder.uri.fsPath,
      expanded: true,
      children: () => targets.map((s) => this.targetNode(s)),
    }));
  }

  private targetNode(s: TargetState): ProvenanceNode {
    const snap = s.status?.snapshot;
    return {
      id: s.key,
      kind: 'target',
      label: s.target.name,
      description: s.error ? 'error' : snap ? stateWords(snap) : 'loading…',
      tooltip: statusTooltip(s, this.model.restricted),
      icon: stateIcon(s),
      expanded: true,
      children: () => this.targetChildren(s),
    };
  }

  private targetChildren(s: TargetState): ProvenanceNode[] {
    const id = (k: string) => `${s.key}/${k}`;
    if (s.error) {
      const md = new SafeMarkdown().text(s.error.message).para().raw('*What to do:* ').text(s.error.hint);
      return [
        leaf(id('error'), 'error', clean(s.error.message), 'error', { tooltip: md.md }),
        leaf(id('error-hint'), 'hint', clean(s.error.hint), 'lightbulb', { tooltip: clean(s.error.hint) }),
        leaf(id('configure'), 'action', 'Configure Target…', 'gear', { command: { command: COMMANDS.configure, title: 'Configure Target…' } }),
      ];
    }
    const snap = s.status?.snapshot;
    if (!snap) return [leaf(id('loading'), 'loading', 'Reading git and Docker…', 'sync~spin')];
    const nodes: ProvenanceNode[] = [];
    nodes.push(leaf(id('summary'), 'summary', clean(snap.summary), summaryIcon(snap), { tooltip: clean(snap.summary) }));
    if (snap.hint) nodes.push(leaf(id('hint'), 'hint', clean(snap.hint), 'lightbulb', { tooltip: clean(snap.hint) }));
    const found = s.target.discovery;
    if (found) {
      nodes.push(
        leaf(id('discovery'), 'discovery', `Found ${DISCOVERY_RULE_WORDS[found.rule]}`, 'search', {
          description: 'no .provenance.json',
          tooltip: new SafeMarkdown().text(discoveryWords(found)).para().raw('*Configure Target…* writes it down in `.provenance.json`.').md,
          command: { command: COMMANDS.configure, title: 'Configure Target…' },
        }),
      );
    }
    nodes.push(this.headNode(s, snap), this.builtNode(s, snap), ...this.runningNodes(s, snap));
    const undeployed = this.undeployedNode(s, snap);
    if (undeployed) nodes.push(undeployed);
    if (snap.uncommitted.length > 0) nodes.push(this.uncommittedNode(s, snap));
    if (this.model.restricted) {
      nodes.push(leaf(id('restricted'), 'restricted', 'Restricted Mode', 'shield', { description: 'uncommitted changes are not checked; nothing the workspace configures runs' }));
    }
    return nodes;
  }

  private headNode(s: TargetState, snap: DriftSnapshot): ProvenanceNode {
    const h = snap.head;
    const where = h.detached ? 'detached' : clean(h.branch ?? '');
    const md = new SafeMarkdown().raw('**HEAD** ').code(h.sha).line().raw(h.detached ? 'detached HEAD' : 'branch ').text(h.detached ? '' : (h.branch ?? ''));
    if (h.dirty) md.line().raw(`${snap.uncommitted.length} uncommitted change(s) to image inputs`);
    return leaf(`${s.key}/head`, 'head', 'HEAD', 'git-commit', {
      description: `${shortSha(h.sha)} ${where}${h.dirty ? ' · uncommitted changes' : ''}`,
      tooltip: md.md,
    });
  }

  private builtNode(s: TargetState, snap: DriftSnapshot): ProvenanceNode {
    const id = `${s.key}/built`;
    if (!snap.docker.reachable) return leaf(id, 'built', 'Built', 'package', { description: 'unknown: Docker unreachable', tooltip: clean(snap.docker.reason ?? '') });
    const b = snap.built;
    if (!b) return leaf(id, 'built', 'Built', 'package', { description: `no image of ${clean(s.target.image)}` });
    const name = clean(b.tags[0] ?? b.imageId.slice(7, 19));
    const md = new SafeMarkdown().raw('**Built** ').code(name).line().raw('Image ').code(b.imageId.slice(0, 19)).raw(`, created ${ago(b.created)} ago`).line();
    revisionTooltip(md, b);
    if (snap.unbuilt) md.line().raw(`HEAD is ${snap.unbuilt.total} commit(s) ahead of this build; ${snap.unbuilt.relevantCount} change image inputs.`);
    return leaf(id, 'built', 'Built', 'package', { description: `${name} @ ${revisionWords(b)} · ${ago(b.created)} ago`, tooltip: md.md });
  }

  private runningNodes(s: TargetState, snap: DriftSnapshot): ProvenanceNode[] {
    const id = `${s.key}/running`;
    if (!snap.docker.reachable) return [leaf(id, 'running', 'Running', 'vm', { description: 'unknown: Docker unreachable' })];
    if (snap.running.length === 0) return [leaf(id, 'running', 'Running', 'vm-outline', { description: 'no container' })];
    return snap.running.map((r) => {
      const md = new SafeMarkdown().raw('**Running** ').code(r.name).line().raw('Container ').code(r.containerId.slice(0, 12)).raw(`, started ${ago(r.started)} ago`).line();
      if (r.via) md.raw('In the Docker-in-Docker container ').code(r.via).line();
      revisionTooltip(md, r);
      const where = r.via ? ` in ${clean(r.via)}` : '';
      return leaf(`${id}/${r.containerId}`, 'running', 'Running', 'vm-running', { description: `${clean(r.name)} @ ${revisionWords(r)}${where} · since ${ago(r.started)}`, tooltip: md.md });
    });
  }

  private undeployedNode(s: TargetState, snap: DriftSnapshot): ProvenanceNode | undefined {
    const id = `${s.key}/undeployed`;
    const u = snap.undeployed;
    if (!u.against) return undefined;
    const from = this.model.deployedRevision(s);
    const head = snap.head.sha;
    if (!from) {
      return leaf(id, 'undeployed', 'Undeployed', 'question', { description: `unknown: the ${u.against === 'running' ? 'running container' : 'image'} has no usable revision` });
    }
    if (u.total === 0 && u.behind === 0) return leaf(id, 'undeployed', 'Undeployed', 'check', { description: `none: the ${u.against === 'running' ? 'running container' : 'image'} is built from HEAD` });
    const against = u.against === 'running' ? 'not running' : 'not built';
    return {
      id,
      kind: 'undeployed',
      label: 'Undeployed',
      description: `${u.relevantCount} of ${u.total} commit(s) change image inputs (${against})`,
      tooltip: `Commits in ${shortSha(from)}..${shortSha(head)}: ${u.total}. ${u.relevantCount} of them change files baked into ${clean(s.target.image)}.`,
      icon: new vscode.ThemeIcon(u.relevantCount > 0 ? 'warning' : 'git-commit', u.relevantCount > 0 ? new vscode.ThemeColor('list.warningForeground') : undefined),
      expanded: u.relevantCount > 0,
      children: () => {
        const nodes = u.relevant.map((c) => this.commitNode(s, c, from, head, true));
        const moreRelevant = u.relevantCount - u.relevant.length;
        if (moreRelevant > 0) nodes.push(this.moreRelevantNode(s, from, head, u.relevant.length, moreRelevant));
        const others = u.total - u.relevantCount;
        if (others > 0) nodes.push(this.otherCommitsNode(s, from, head, others));
        if (u.behind > 0) nodes.push(leaf(`${id}/behind`, 'behind', `${u.behind} commit(s) only in the image`, 'git-compare', { description: 'diverged: rebuild from HEAD' }));
        return nodes;
      },
    };
  }

  private commitNode(s: TargetState, c: CommitSummary, from: string, head: string, relevant: boolean): ProvenanceNode {
    const md = new SafeMarkdown().raw('**Commit** ').code(c.sha).line().text(c.subject).line();
    if (c.author) md.raw('by ').text(c.author).raw(', ');
    md.raw(`${ago(c.date)} ago`);
    if (c.files.length) {
      md.para().raw(`**Files baked into the image** (${c.files.length})`).para();
      for (const f of c.files.slice(0, 20)) md.raw('- ').code(f).line();
      if (c.files.length > 20) md.raw(`- … ${c.files.length - 20} more`);
    }
    const id = `${s.key}/commit/${c.sha}`;
    return {
      id,
      kind: relevant ? 'commit' : 'other-commit',
      label: clean(c.subject) || '(no subject)',
      description: `${shortSha(c.sha)} · ${ago(c.date)} ago${relevant ? ` · ${c.files.length} file${c.files.length === 1 ? '' : 's'}` : ''}`,
      tooltip: md.md,
      icon: new vscode.ThemeIcon('git-commit', relevant ? new vscode.ThemeColor('list.warningForeground') : undefined),
      children: relevant && c.files.length ? () => c.files.map((f) => this.fileNode(s, `${id}/file`, f, from, head)) : undefined,
    };
  }

  /** A file: click opens the diff from the deployed revision to HEAD (or the work tree). */
  private fileNode(s: TargetState, parentId: string, file: string, from: string, to: string | undefined): ProvenanceNode {
    const dir = path.posix.dirname(file);
    const md = new SafeMarkdown().code(file).line().raw('Click: diff from the deployed revision ').code(shortSha(from)).raw(to ? ' to HEAD ' : ' to the working tree');
    if (to) md.code(shortSha(to));
    return {
      id: `${parentId}/${file}`,
      kind: 'file',
      label: clean(path.posix.basename(file)),
      description: dir === '.' ? undefined : clean(dir),
      tooltip: md.md,
      resourceUri: vscode.Uri.file(path.join(s.repo.root, file)),
      icon: vscode.ThemeIcon.File,
      command: { command: COMMANDS.openDiff, title: 'Open Diff from Deployed Revision', arguments: to ? [s.repo.root, file, from, to] : [s.repo.root, file, from] },
    };
  }

  private moreRelevantNode(s: TargetState, from: string, head: string, shown: number, count: number): ProvenanceNode {
    const pathspecs = s.status?.inputs.pathspecs ?? [];
    return {
      id: `${s.key}/more-relevant`,
      kind: 'more-relevant',
      label: `${count} more commit(s) that change image inputs`,
      icon: new vscode.ThemeIcon('ellipsis'),
      children: async () => {
        const keep = s.status ? pathspecFilter(s.status.inputs) : undefined;
        const list = await this.lazy(`relevant|${s.repo.root}|${from}|${head}|${pathspecs.join('\0')}`, () =>
          logRange(s.repo.root, { from, to: head }, pathspecs, { withFiles: true, maxCount: shown + LAZY_LIMIT, signal: this.abort.signal, keep }),
        );
        if (!Array.isArray(list)) return [];
        const nodes = list.slice(shown).map((c) => this.commitNode(s, c, from, head, true));
        if (count > nodes.length) nodes.push(leaf(`${s.key}/more-relevant/rest`, 'truncated', `… ${count - nodes.length} more`, 'ellipsis', { description: 'use the CLI: provenance diff' }));
        return nodes;
      },
    };
  }

  private otherCommitsNode(s: TargetState, from: string, head: string, count: number): ProvenanceNode {
    const pathspecs = s.status?.inputs.pathspecs ?? [];
    return {
      id: `${s.key}/other-commits`,
      kind: 'other-commits',
      label: `${count} other commit${count === 1 ? '' : 's'}`,
      description: `change nothing baked into ${clean(s.target.image)}`,
      icon: new vscode.ThemeIcon('git-commit'),
      children: async () => {
        const res = await this.lazy(`other|${s.repo.root}|${from}|${head}|${pathspecs.join('\0')}`, () =>
          otherCommitsInRange(s.repo.root, { from, to: head }, pathspecs, { limit: LAZY_LIMIT, signal: this.abort.signal, keep: s.status ? pathspecFilter(s.status.inputs) : undefined }),
        );
        if (Array.isArray(res)) return [];
        const nodes = res.commits.map((c) => this.commitNode(s, c, from, head, false));
        if (res.truncated) nodes.push(leaf(`${s.key}/other-commits/rest`, 'truncated', `… ${count - res.commits.length} more`, 'ellipsis'));
        return nodes;
      },
    };
  }

  private uncommittedNode(s: TargetState, snap: DriftSnapshot): ProvenanceNode {
    const id = `${s.key}/uncommitted`;
    // The diff starts at what is deployed when that is known, else at HEAD.
    const from = this.model.deployedRevision(s) ?? snap.head.sha;
    return {
      id,
      kind: 'uncommitted',
      label: 'Uncommitted',
      description: `${snap.uncommitted.length} input file${snap.uncommitted.length === 1 ? '' : 's'} changed in the working tree`,
      icon: new vscode.ThemeIcon('diff-modified', new vscode.ThemeColor('list.warningForeground')),
      expanded: true,
      children: () => snap.uncommitted.map((f) => this.fileNode(s, id, f, from, undefined)),
    };
  }

  private lazy<T extends CommitSummary[] | { commits: CommitSummary[]; truncated: boolean }>(key: string, run: () => Promise<T>): Promise<T> {
    let p = this.lazyCache.get(key) as Promise<T> | undefined;
    if (!p) {
      p = run();
      this.lazyCache.set(key, p);
      if (this.lazyCache.size > 32) this.lazyCache.delete(this.lazyCache.keys().next().value!);
      // A failure is not cached: expanding again retries.
      p.catch(() => this.lazyCache.delete(key));
    }
    return p.catch((err: unknown) => {
      if (!isAbortError(err)) this.log.warn(`Provenance view: listing commits failed: ${String(err)}`);
      throw new Error(`Could not list the commits: ${err instanceof Error ? err.message : String(err)}`);
    });
  }

  dispose(): void {
    this.abort.abort();
    for (const d of this.disposables) d.dispose();
  }
}

function leaf(
  id: string,
  kind: string,
  label: string,
  icon: string,
  extra: { description?: string; tooltip?: vscode.MarkdownString | string; command?: vscode.Command } = {},
): ProvenanceNode {
  return { id, kind, label, icon: new vscode.ThemeIcon(icon), ...extra };
}

function revisionWords(r: RevisionView): string {
  if (r.revisionSource === 'content') {
    const contradicted = r.verification?.state === 'contradicts-label' ? ` · label ${shortSha(r.label ?? '')} contradicted` : '';
    return `${shortSha(r.revision)} (by content)${contradicted}`;
  }
  const contradicted = r.verification?.state === 'contradicts-label' ? ' · label contradicts content' : '';
  switch (r.labelState) {
    case 'labeled':
      return `${shortSha(r.revision)}${r.dirty ? '-dirty' : ''}${r.verification?.state === 'verified' ? ' · verified' : ''}${contradicted}`;
    case 'unknown':
      return `${shortSha(r.revision)}${r.dirty ? '-dirty' : ''} (not in this clone)`;
    case 'unlabeled':
      return 'unlabeled';
    case 'garbage':
      return 'label is not a commit';
  }
}

function revisionTooltip(md: SafeMarkdown, r: RevisionView): void {
  const v = r.verification;
  if (r.revisionSource === 'content' && v) {
    md.raw('**Revision derived from its content:** the bytes of ').raw(`${v.matched} baked file${v.matched === 1 ? '' : 's'}`).raw(' are the blobs of ').code(r.revision ?? '?');
    if (v.consistentWith) md.raw(' (consistent with ').code(shortSha(v.consistentWith.oldest)).raw('..').code(shortSha(v.consistentWith.newest)).raw(')');
    md.raw('.');
    if (v.uncertain?.count) md.line().raw(`${v.uncertain.count} commit${v.uncertain.count === 1 ? '' : 's'} in that range change inputs whose bytes cannot be read back: maybe in it, maybe not.`);
    if (r.label !== null && v.state === 'contradicts-label') md.line().raw('Its label says ').code(r.label).raw(', which the bytes contradict.');
    return;
  }
  switch (r.labelState) {
    case 'labeled':
      md.raw('Built from ').code(r.revision ?? '?');
      if (r.dirty) md.raw(' with **uncommitted changes** (dirty build): it may contain code that is in no commit.');
      break;
    case 'unknown':
      md.raw('Built from ').code(r.revision ?? '?').raw(', which is not in this clone: fetch it to compare.');
      break;
    case 'unlabeled':
      md.raw('**Unlabeled:** no revision label, so what it contains is unknown (not guessed).');
      break;
    case 'garbage':
      md.raw('The revision label is not a git commit: ').code(r.label ?? '');
      break;
  }
  if (!v) return;
  md.line();
  if (v.state === 'verified') md.raw(`$(verified) Verified by content: ${v.matched} of ${v.checked} baked files are the label's.`);
  else if (v.state === 'contradicts-label') md.raw('$(error) **The label contradicts the content:** ').text(v.reason ?? '');
  else if (v.state === 'unverifiable') md.raw('Content not verified: ').text(v.reason ?? '');
}

function stateWords(snap: DriftSnapshot): string {
  switch (snap.state) {
    case 'in-sync':
      return 'in sync';
    case 'drift':
      return `${snap.undeployed.relevantCount} undeployed`;
    case 'drift-irrelevant':
      return `${snap.undeployed.total} behind, none relevant`;
    case 'uncommitted':
      return 'uncommitted changes';
    case 'no-container':
      return 'not running';
    case 'no-image':
      return 'no image';
    case 'docker-unreachable':
      return 'Docker unreachable';
    case 'unknown-revision':
      return 'unknown revision';
    case 'contradicts-label':
      return 'label contradicts content';
    default:
      return snap.state;
  }
}

function stateIcon(s: TargetState): vscode.ThemeIcon {
  if (s.error) return new vscode.ThemeIcon('error', new vscode.ThemeColor('list.errorForeground'));
  const snap = s.status?.snapshot;
  if (!snap) return new vscode.ThemeIcon('sync~spin');
  const warn = new vscode.ThemeColor('list.warningForeground');
  switch (snap.state) {
    case 'in-sync':
    case 'drift-irrelevant':
      return new vscode.ThemeIcon('check', new vscode.ThemeColor('testing.iconPassed'));
    case 'drift':
      return new vscode.ThemeIcon('warning', warn);
    case 'uncommitted':
      return new vscode.ThemeIcon('diff-modified', warn);
    case 'diverged':
      return new vscode.ThemeIcon('git-compare', warn);
    case 'unknown-revision':
    case 'unlabeled':
      return new vscode.ThemeIcon('question');
    case 'contradicts-label':
      return new vscode.ThemeIcon('error', new vscode.ThemeColor('list.errorForeground'));
    case 'no-image':
      return new vscode.ThemeIcon('circle-large-outline');
    case 'no-container':
      return new vscode.ThemeIcon('debug-stop');
    case 'docker-unreachable':
      return new vscode.ThemeIcon('circle-slash');
  }
}

function summaryIcon(snap: DriftSnapshot): string {
  if (snap.state === 'in-sync' || snap.state === 'drift-irrelevant') return 'pass';
  if (snap.state === 'docker-unreachable') return 'circle-slash';
  return snap.hint ? 'info' : 'pass';
}
