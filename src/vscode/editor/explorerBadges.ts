// Explorer badges: image input files with undeployed commits (the snapshot's relevant commits)
// or uncommitted changes get a badge of at most 2 characters, a tooltip and a theme colour.
// Computed from snapshots only (no git); change events carry exactly the URIs that changed.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { explorerBadge, undeployedForFile, type Badge, type BadgeEntry } from '../../core/status/editorMarks';
import type { ProvenanceModel } from '../provenanceModel';

const SETTING = 'buildProvenance.explorerBadges';

export class ExplorerBadges implements vscode.FileDecorationProvider, vscode.Disposable {
  private readonly _onDidChangeFileDecorations = new vscode.EventEmitter<vscode.Uri[]>();
  readonly onDidChangeFileDecorations = this._onDidChangeFileDecorations.event;
  private badges = new Map<string, { uri: vscode.Uri; badge: Badge }>();
  private readonly disposables: vscode.Disposable[] = [this._onDidChangeFileDecorations];

  constructor(
    private readonly model: ProvenanceModel,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      vscode.window.registerFileDecorationProvider(this),
      model.onDidChange(() => this.update()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(SETTING)) this.update();
      }),
    );
    this.update();
  }

  provideFileDecoration(uri: vscode.Uri): vscode.FileDecoration | undefined {
    const b = this.badges.get(uri.toString())?.badge;
    if (!b) return undefined;
    const colour = b.kind === 'undeployed' ? 'buildProvenance.undeployedRuler' : 'buildProvenance.uncommittedRuler';
    return new vscode.FileDecoration(b.badge, b.tooltip, new vscode.ThemeColor(colour));
  }

  /** For tests: the badge of a file, if any. */
  badgeOf(uri: vscode.Uri): Badge | undefined {
    return this.badges.get(uri.toString())?.badge;
  }

  private update(): void {
    try {
      const next = this.compute();
      const changed: vscode.Uri[] = [];
      for (const [key, v] of next) {
        const old = this.badges.get(key)?.badge;
        if (!old || old.badge !== v.badge.badge || old.tooltip !== v.badge.tooltip || old.kind !== v.badge.kind) changed.push(v.uri);
      }
      for (const [key, v] of this.badges) if (!next.has(key)) changed.push(v.uri);
      this.badges = next;
      if (changed.length > 0) this._onDidChangeFileDecorations.fire(changed);
    } catch (err) {
      this.log.error(`Explorer badges: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private compute(): Map<string, { uri: vscode.Uri; badge: Badge }> {
    const perFile = new Map<string, { uri: vscode.Uri; entries: BadgeEntry[] }>();
    for (const s of this.model.visibleTargets) {
      const snap = s.status?.snapshot;
      if (!snap) continue;
      const folderUri = vscode.Uri.file(s.repo.root);
      if (!vscode.workspace.getConfiguration('buildProvenance', folderUri).get<boolean>(SETTING.slice('buildProvenance.'.length), true)) continue;
      const uncommitted = new Set(snap.uncommitted);
      // Committed files are checked with the analysis (log pathspecs may select a superset).
      const files = new Set<string>(snap.uncommitted);
      for (const c of snap.undeployed.relevant) for (const f of c.files) if (s.status!.inputs.affects(f).affects) files.add(f);
      for (const rel of files) {
        const uri = vscode.Uri.file(path.join(s.repo.root, ...rel.split('/')));
        const key = uri.toString();
        let slot = perFile.get(key);
        if (!slot) perFile.set(key, (slot = { uri, entries: [] }));
        slot.entries.push({ target: s.target.name, undeployed: undeployedForFile(snap, rel), uncommitted: uncommitted.has(rel) });
      }
    }
    const out = new Map<string, { uri: vscode.Uri; badge: Badge }>();
    for (const [key, { uri, entries }] of perFile) {
      const badge = explorerBadge(entries);
      if (badge) out.set(key, { uri, badge });
    }
    return out;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
