// "Build Provenance: Verify Running Image": reads the files baked into the running container (or,
// with none, the newest image) afresh, compares them with git, shows each file's verdict, and
// refreshes the snapshots. It runs nothing the workspace configures (in Restricted Mode the
// workspace's Docker endpoints are not used), so it works there too.
import * as vscode from 'vscode';
import { showError, showInfo, showWarning } from './notify';
import { clean, shortSha } from '../core/humanize';
import { isAbortError } from '../core/git/exec';
import { verdictWords, verificationHeadline } from '../core/status/verification';
import { computeVerify, type VerifyReport } from '../core/status/verifyQuery';
import { ProvenanceError } from '../core/status/workspace';
import { workspaceOf } from './archaeology/imageArchaeology';
import type { Commands } from './commands';
import type { ProvenanceModel, TargetState } from './provenanceModel';

export const VERIFY_COMMAND = 'buildProvenance.verifyRunningImage';

export class VerifyImage implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  /** The last report per target key (tests read it). */
  readonly reports = new Map<string, VerifyReport>();

  constructor(
    private readonly model: ProvenanceModel,
    commands: Commands,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      vscode.commands.registerCommand(VERIFY_COMMAND, (key?: string) => this.verify(key)),
      commands.addMenuEntry({ label: '$(verified) Verify Running Image', description: 'read the baked files back and compare them with git', run: (s) => this.verify(s.key) }),
    );
  }

  /** Verifies one target (asked for when there are several); resolves with the report, or undefined. Never throws. */
  async verify(key?: string): Promise<VerifyReport | undefined> {
    await this.model.ready();
    const s = await this.pick(key);
    if (!s) return undefined;
    const target = this.model.restricted ? { ...s.target, endpoints: [] } : s.target;
    try {
      const report = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Build Provenance: reading the files baked into ${s.target.name}…`, cancellable: true },
        (_p, token) => {
          const ctl = new AbortController();
          token.onCancellationRequested(() => ctl.abort());
          return computeVerify(workspaceOf({ ...s, target }), target, { signal: ctl.signal });
        },
      );
      this.reports.set(s.key, report);
      const v = report.verification;
      this.log.info(`verify ${s.target.name}: ${v.state}${v.reason ? ` (${v.reason})` : ''}; ${v.matched} of ${v.checked} files match ${report.revision ?? '-'}`);
      void this.model.refreshNow('verified the running image');
      void this.show(s, report);
      return report;
    } catch (err) {
      if (isAbortError(err)) return undefined;
      if (err instanceof ProvenanceError) {
        void showWarning(`Build Provenance: ${clean(err.message)} ${clean(err.hint)}`);
        return undefined;
      }
      this.log.error(`verify ${s.target.name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      void showError('Build Provenance: verifying the image failed; see the "Build Provenance" output.');
      return undefined;
    }
  }

  private async pick(key?: string): Promise<TargetState | undefined> {
    if (key) return this.model.byKey(key);
    const targets = this.model.visibleTargets;
    if (targets.length <= 1) {
      if (!targets[0]) void showInfo('Build Provenance: no image target in this workspace. Configure one first.');
      return targets[0];
    }
    const pick = await vscode.window.showQuickPick(
      targets.map((t) => ({ label: t.target.name, description: t.folder.name, t })),
      { placeHolder: 'Verify the running image of which target?' },
    );
    return pick?.t;
  }

  /** Each file with its verdict; picking one opens it. */
  private async show(s: TargetState, r: VerifyReport): Promise<void> {
    const v = r.verification;
    const where = r.subject.kind === 'container' ? `container ${r.subject.name ?? ''}` : `image ${r.subject.tags[0] ?? r.subject.imageId.slice(7, 19)}`;
    const icon = (verdict: string) => (verdict === 'matches' ? '$(pass)' : verdict === 'other-version' ? (r.revisionSource === 'label' ? '$(error)' : '$(history)') : '$(circle-outline)');
    const items = v.files.map((f) => ({ label: `${icon(f.verdict)} ${clean(f.path)}`, description: clean(f.destination), detail: clean(verdictWords(f, v.against)), path: f.path }));
    const title = `${clean(s.target.name)} ${clean(where)}: ${verificationHeadline(v)}${r.revision ? ` (${shortSha(r.revision)})` : ''}${v.reason ? ` — ${clean(v.reason)}` : ''}`;
    if (items.length === 0) {
      void showInfo(`Build Provenance: ${title}`);
      return;
    }
    const picked = await vscode.window.showQuickPick(items, { title, placeHolder: `${v.matched} of ${v.checked} baked files match`, matchOnDescription: true, matchOnDetail: true });
    if (picked) await vscode.window.showTextDocument(vscode.Uri.joinPath(vscode.Uri.file(s.repo.root), picked.path));
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
