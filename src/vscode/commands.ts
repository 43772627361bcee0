// Palette commands: Refresh, Show Undeployed Changes, Which Image Contains This Commit?,
// Configure Target…, and the status-bar quick pick.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { showInfo, showWarning } from './notify';
import { applyEdits, modify, parse as parseJsonc } from 'jsonc-parser';
import { CONFIG_FILE } from '../core/config';
import { commitContains } from '../core/archaeology/contains';
import { ago, clean, shortSha } from '../core/humanize';
import { blameLine } from '../core/git/lineChanges';
import { dockerStateFor, ProvenanceError } from '../core/status/workspace';
import { formatDuration } from '../core/archaeology/timelineSvg';
import { openRevisionDiff } from './gitContent';
import { historyOf, workspaceOf } from './archaeology/imageArchaeology';
import type { ProvenanceModel, TargetState } from './provenanceModel';
import { STATUS_MENU_COMMAND } from './views/statusBar';

/** Registered by archaeologyCommands.ts (kept as a string: no import cycle). */
const OPEN_TIMELINE_COMMAND = 'buildProvenance.openTimeline';

export const COMMANDS = {
  refresh: 'buildProvenance.refresh',
  showUndeployed: 'buildProvenance.showUndeployed',
  whichImage: 'buildProvenance.whichImageContains',
  configure: 'buildProvenance.configureTarget',
  openDiff: 'buildProvenance.openDiff',
  statusMenu: STATUS_MENU_COMMAND,
} as const;

/** Extra entries other features add to the status-bar quick pick (e.g. Build + Smoke Test). */
export interface MenuEntry {
  label: string;
  description?: string;
  run(state: TargetState): Thenable<unknown> | void;
}

export class Commands implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly menuEntries: MenuEntry[] = [];

  constructor(private readonly model: ProvenanceModel) {
    const reg = (id: string, fn: (...args: never[]) => unknown) => this.disposables.push(vscode.commands.registerCommand(id, fn));
    reg(COMMANDS.refresh, () => this.refresh());
    reg(COMMANDS.showUndeployed, (key?: string) => this.showUndeployed(key));
    reg(COMMANDS.whichImage, (commit?: string) => this.whichImage(commit));
    reg(COMMANDS.configure, () => this.configure());
    reg(COMMANDS.openDiff, (root: string, file: string, from: string, to?: string) => openRevisionDiff(root, file, from, to));
    reg(COMMANDS.statusMenu, (key?: string) => this.statusMenu(key));
  }

  addMenuEntry(e: MenuEntry): vscode.Disposable {
    this.menuEntries.push(e);
    return new vscode.Disposable(() => this.menuEntries.splice(this.menuEntries.indexOf(e), 1));
  }

  private refresh(): Thenable<void> {
    // Asked for by the user: the work tree is looked at again too (nothing is walked twice).
    this.model.worktreeChanged();
    return vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Build Provenance: refreshing' }, () => this.model.refreshNow('command'));
  }

  private async pickTarget(key?: string): Promise<TargetState | undefined> {
    const targets = this.model.visibleTargets;
    if (key) return this.model.byKey(key);
    if (targets.length <= 1) return targets[0];
    const pick = await vscode.window.showQuickPick(
      targets.map((s) => ({ label: s.target.name, description: `${s.folder.name} · ${s.status?.snapshot.state ?? 'loading'}`, s })),
      { placeHolder: 'Which target?' },
    );
    return pick?.s;
  }

  private async statusMenu(key?: string): Promise<void> {
    const s = await this.pickTarget(key);
    if (!s) return;
    type Item = vscode.QuickPickItem & { run: () => unknown };
    const items: Item[] = [
      ...this.menuEntries.map((e) => ({ label: e.label, description: e.description, run: () => e.run(s) })),
      { label: '$(git-commit) Show Undeployed Changes', run: () => this.showUndeployed(s.key) },
      { label: '$(refresh) Refresh', run: () => this.refresh() },
      { label: '$(gear) Configure Target…', run: () => this.configure() },
    ];
    const pick = await vscode.window.showQuickPick(items, { placeHolder: clean(s.status?.snapshot.summary ?? s.error?.message ?? s.target.name) });
    await pick?.run();
  }

  private async showUndeployed(key?: string): Promise<void> {
    const s = await this.pickTarget(key);
    const snap = s?.status?.snapshot;
    if (!s || !snap) {
      void showInfo(s?.error ? `Build Provenance: ${s.error.message}` : 'Build Provenance: no target is configured in this workspace.');
      return;
    }
    const from = this.model.deployedRevision(s);
    if (snap.undeployed.relevant.length === 0 || !from) {
      void showInfo(`Build Provenance: ${snap.summary}`);
      return;
    }
    type CommitItem = vscode.QuickPickItem & { files: string[] };
    const commit = await vscode.window.showQuickPick<CommitItem>(
      snap.undeployed.relevant.map((c) => ({
        label: `$(git-commit) ${shortSha(c.sha)} ${clean(c.subject)}`,
        description: `${ago(c.date)} ago`,
        detail: c.files.map(clean).join(', '),
        files: c.files,
      })),
      { placeHolder: `${snap.undeployed.relevantCount} undeployed commit(s) change files baked into ${s.target.image} — pick one to see its files`, matchOnDetail: true },
    );
    if (!commit) return;
    const file = commit.files.length === 1 ? commit.files[0] : await vscode.window.showQuickPick(commit.files.map(clean), { placeHolder: 'Open the diff from the deployed revision of…' });
    if (file) await openRevisionDiff(s.repo.root, file, from);
  }

  private async whichImage(commitArg?: string): Promise<void> {
    const targets = this.model.visibleTargets.filter((s) => s.status);
    if (targets.length === 0) {
      void showInfo('Build Provenance: no target is configured in this workspace.');
      return;
    }
    let commit = commitArg;
    const editor = vscode.window.activeTextEditor;
    const s = (editor && this.model.inputsOf(editor.document.uri)[0]?.state) ?? targets[0];
    if (!commit && editor && editor.document.uri.scheme === 'file') {
      const rel = path.relative(s.repo.root, editor.document.uri.fsPath);
      if (!rel.startsWith('..')) {
        // In Restricted Mode blame as of HEAD: reading the work tree may run the repo's clean filters.
        const b = await blameLine(s.repo.root, rel, editor.selection.active.line + 1, undefined, this.model.restricted ? 'HEAD' : undefined).catch(() => null);
        if (b && !b.uncommitted) commit = b.sha;
      }
    }
    commit ??= await vscode.window.showInputBox({ prompt: 'Commit (SHA, branch, tag…)', placeHolder: 'HEAD~3' });
    if (!commit) return;
    let answer;
    try {
      const h = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Build Provenance: reading builds' }, () => historyOf(s, this.model.restricted));
      if (!h.docker.reachable) void showWarning(`Build Provenance: Docker unreachable — ${clean(h.docker.reason ?? '')}; only the build ledger is used.`);
      answer = await commitContains(workspaceOf(s), h, commit);
    } catch (err) {
      if (!(err instanceof ProvenanceError)) throw err;
      void showWarning(`Build Provenance: ${clean(err.message)}`);
      return;
    }
    const name = (b: { imageId: string; tags: string[] }) => clean(b.tags[0] ?? b.imageId.slice(7, 19));
    const parts = [
      answer.firstBuild
        ? `first built in ${name(answer.firstBuild)} ${formatDuration(answer.lag.toFirstBuildSeconds!)} after the commit (${ago(answer.firstBuild.builtAt)} ago)`
        : `not built yet (waiting ${formatDuration(answer.lag.waitingSeconds ?? 0)})`,
      answer.firstRun
        ? `first ran ${formatDuration(answer.lag.toFirstRunSeconds!)} after the commit${answer.firstRun.name ? ` (${clean(answer.firstRun.name)})` : ' (smoke test)'}`
        : 'never ran',
      answer.running.length ? `running now in ${answer.running.map((r) => clean(r.name)).join(', ')}` : 'in no running container',
    ];
    if (answer.firstBuildInferred) parts.push(`maybe earlier in ${name(answer.firstBuildInferred)} (revision only inferred)`);
    if (answer.unknown) parts.push(`${answer.unknown} build(s) have no known revision`);
    const timeline = 'Open Timeline';
    const pick = await showInfo(`Commit ${shortSha(answer.commit.sha)} ${clean(answer.commit.subject).slice(0, 60)}: ${parts.join('; ')}.`, timeline);
    if (pick === timeline) await vscode.commands.executeCommand(OPEN_TIMELINE_COMMAND, s.key);
  }

  private async configure(): Promise<void> {
    const folder = vscode.workspace.workspaceFolders?.length === 1 ? vscode.workspace.workspaceFolders[0] : await vscode.window.showWorkspaceFolderPick({ placeHolder: 'Configure a target in which folder?' });
    if (!folder) return;
    const state = this.model.targets.find((t) => t.folder === folder);
    const root = state?.repo.root ?? folder.uri.fsPath;
    const dockerfiles = await vscode.workspace.findFiles(new vscode.RelativePattern(folder, '**/{Dockerfile,Dockerfile.*,*.Dockerfile,*.dockerfile,Containerfile}'), '**/node_modules/**', 200);
    const images = new Set<string>();
    const docker = await dockerStateFor({ name: 'all', image: '*', context: '', buildArgs: {}, revisionLabels: ['org.opencontainers.image.revision'], include: [], exclude: [], endpoints: [] });
    if (docker.reachable) for (const i of docker.images) for (const t of i.tags) images.add(t.replace(/:[^:/]*$/, ''));
    const imagePick = await vscode.window.showQuickPick(
      [...[...images].sort().map((label) => ({ label })), { label: '$(edit) Type an image name…', typed: true }],
      { placeHolder: docker.reachable ? 'Which image is built from this repository?' : `Docker unreachable (${docker.reason}); type the image name` },
    );
    if (!imagePick) return;
    const image = 'typed' in imagePick ? await vscode.window.showInputBox({ prompt: 'Image repository name (or glob)', value: 'helix-ubuntu' }) : imagePick.label;
    if (!image) return;
    const dfPick = await vscode.window.showQuickPick(
      dockerfiles.map((u) => ({ label: path.relative(root, u.fsPath).split(path.sep).join('/') })),
      { placeHolder: `Which Dockerfile builds ${image}?` },
    );
    if (!dfPick) return;
    const file = path.join(root, CONFIG_FILE);
    const uri = vscode.Uri.file(file);
    let text = '{\n  "targets": []\n}\n';
    try {
      text = Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8');
    } catch {
      /* a new file */
    }
    const current = (parseJsonc(text) as { targets?: { image?: string }[] } | undefined)?.targets ?? [];
    const idx = current.findIndex((t) => t.image === image);
    const value = { image, dockerfile: dfPick.label, context: '.' };
    const edits = modify(text, ['targets', idx >= 0 ? idx : current.length], value, { formattingOptions: { insertSpaces: true, tabSize: 2 }, isArrayInsertion: idx < 0 });
    await vscode.workspace.fs.writeFile(uri, Buffer.from(applyEdits(text, edits), 'utf8'));
    await vscode.window.showTextDocument(uri);
    this.model.rediscover();
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
