// Palette commands of the image archaeology: Mark Build Good / Mark Build Bad (a `mark` in the
// build ledger), Find Suspects Between Two Builds…, Open Provenance Timeline, and opening a
// suspect's diff. Each feature's state lives in its own file (suspectsView.ts, timelinePanel.ts).
import * as vscode from 'vscode';
import { askForTrust, showError, showInfo, showWarning } from '../notify';
import type { ImageHistoryEntry, TargetHistory } from '../../core/archaeology/imageHistory';
import { ago, clean, shortSha } from '../../core/humanize';
import type { Verdict } from '../../core/build/ledger';
import { ProvenanceError } from '../../core/status/workspace';
import { markBuild } from '../../core/archaeology/suspects';
import { historyOf, openCommitDiff, workspaceOf } from './imageArchaeology';
import type { ProvenanceModel, TargetState } from '../provenanceModel';
import type { Lazy } from '../lazy';
import { SUSPECT_COMMANDS, type SuspectsView } from '../views/suspectsView';
import type { TimelinePanel } from '../views/timelinePanel';

type ImageItem = vscode.QuickPickItem & { entry?: ImageHistoryEntry; auto?: true };

export class ArchaeologyCommands implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly model: ProvenanceModel,
    /** Built when the view is first registered or asked for; the timeline when first opened. */
    private readonly suspects: Lazy<SuspectsView>,
    private readonly timeline: Lazy<TimelinePanel>,
  ) {
    const reg = (id: string, fn: (...args: unknown[]) => unknown) => this.disposables.push(vscode.commands.registerCommand(id, fn));
    reg(SUSPECT_COMMANDS.markGood, (key, image) => this.mark('good', str(key), str(image)));
    reg(SUSPECT_COMMANDS.markBad, (key, image) => this.mark('bad', str(key), str(image)));
    reg(SUSPECT_COMMANDS.findSuspects, (key) => this.findSuspects(str(key)));
    reg(SUSPECT_COMMANDS.openTimeline, (key) => this.openTimeline(str(key)));
    reg(SUSPECT_COMMANDS.openSuspect, (root, sha, files) => {
      if (typeof root !== 'string' || typeof sha !== 'string' || !/^[0-9a-f]{40,64}$/.test(sha) || !Array.isArray(files)) return;
      return openCommitDiff(root, sha, files.filter((f): f is string => typeof f === 'string'));
    });
  }

  private async pickTarget(key?: string): Promise<TargetState | undefined> {
    if (key) return this.model.byKey(key);
    const targets = this.model.visibleTargets;
    if (targets.length === 0) {
      void showInfo('Build Provenance: no target is configured in this workspace.');
      return undefined;
    }
    if (targets.length === 1) return targets[0];
    const pick = await vscode.window.showQuickPick(
      targets.map((s) => ({ label: s.target.name, description: s.folder.name, s })),
      { placeHolder: 'Which target?' },
    );
    return pick?.s;
  }

  private async history(s: TargetState): Promise<TargetHistory | undefined> {
    const h = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Build Provenance: reading builds' }, () =>
      historyOf(s, this.model.restricted),
    );
    if (!h.docker.reachable && h.gone.length === 0) {
      void showWarning(`Build Provenance: Docker unreachable — ${clean(h.docker.reason ?? '')}`);
      return undefined;
    }
    return h;
  }

  private imageItems(h: TargetHistory): ImageItem[] {
    return [...h.images, ...h.gone].map((e) => {
      const r = e.revision;
      const rev = r.source === 'inferred' ? `~${shortSha(r.sha)} (inferred)` : r.source === 'content' ? `${shortSha(r.sha)} (by content)` : r.sha ? `${shortSha(r.sha)}${r.dirty ? '-dirty' : ''}` : 'unknown revision';
      const verdict = e.verdict ? ` · ${e.verdict === 'good' ? 'good' : 'bad'} (${e.verdictFrom === 'mark' ? 'marked' : 'smoke test'})` : '';
      return {
        label: `$(package) ${clean(e.tags[0] ?? e.imageId.slice(7, 19))}`,
        description: `${rev} · built ${ago(e.created)} ago${verdict}`,
        detail: `${e.imageId.slice(7, 19)}${e.tags.length > 1 ? ` · ${e.tags.slice(1).map(clean).join(', ')}` : ''}${e.present ? '' : ' · image removed'}${e.containers.length ? ` · ran in ${e.containers.map((c) => clean(c.name)).join(', ')}` : ''}`,
        entry: e,
      };
    });
  }

  private async mark(verdict: Verdict, key?: string, imageId?: string): Promise<void> {
    if (!vscode.workspace.isTrusted) {
      // A mark writes the build ledger inside the repository's .git, which a workspace not trusted chose.
      void askForTrust(`Mark Build ${verdict === 'good' ? 'Good' : 'Bad'} needs a trusted workspace: it writes the build ledger in the repository's .git folder, which Build Provenance leaves alone in Restricted Mode.`);
      return;
    }
    const s = await this.pickTarget(key);
    if (!s) return;
    const h = await this.history(s);
    if (!h) return;
    let entry = imageId ? [...h.images, ...h.gone].find((e) => e.imageId === imageId) : undefined;
    if (!entry) {
      const items = this.imageItems(h);
      if (items.length === 0) {
        void showInfo(`Build Provenance: there is no image of ${s.target.name} to mark.`);
        return;
      }
      entry = (await vscode.window.showQuickPick(items, { placeHolder: `Mark which build of ${s.target.name} ${verdict}?`, matchOnDescription: true, matchOnDetail: true }))?.entry;
    }
    if (!entry) return;
    try {
      const r = await markBuild(workspaceOf(s), h, entry.imageId, verdict);
      void showInfo(`Build Provenance: marked ${clean(entry.tags[0] ?? entry.imageId.slice(7, 19))} ${verdict}.${r.warnings.length ? ` ${clean(r.warnings[0])}` : ''}`);
      this.suspects.peek()?.invalidate();
    } catch (err) {
      this.fail(err);
    }
  }

  private async findSuspects(key?: string): Promise<void> {
    const s = await this.pickTarget(key);
    if (!s) return;
    const h = await this.history(s);
    if (!h) return;
    const items = this.imageItems(h);
    const good = await vscode.window.showQuickPick<ImageItem>(
      [{ label: '$(sparkle) Newest passing build before the newest failing one', auto: true }, ...items],
      { placeHolder: 'The GOOD build (the last one that worked)', matchOnDescription: true, matchOnDetail: true },
    );
    if (!good) return;
    if (good.auto) {
      await this.suspects.get().show(s.key, null);
      return;
    }
    const bad = await vscode.window.showQuickPick(
      items.filter((i) => i.entry !== good.entry),
      { placeHolder: 'The BAD build (the first one that is broken)', matchOnDescription: true, matchOnDetail: true },
    );
    if (!bad?.entry || !good.entry) return;
    await this.suspects.get().show(s.key, { good: good.entry.imageId, bad: bad.entry.imageId });
  }

  private async openTimeline(key?: string): Promise<void> {
    const s = await this.pickTarget(key);
    if (s) await this.timeline.get().show(s);
  }

  private fail(err: unknown): void {
    if (err instanceof ProvenanceError) void showWarning(`Build Provenance: ${clean(err.message)} ${clean(err.hint)}`);
    else void showError(`Build Provenance: ${err instanceof Error ? clean(err.message) : String(err)}`);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
