// The "Provenance Timeline" webview: the core's SVG (src/core/archaeology/timelineSvg.ts) of commits, builds and
// runs on one time axis. Strict CSP with a nonce, no remote content, resources only from media/,
// colours from the theme. The page's one script (media/timeline.js) shows details on hover and
// asks to open a commit's diff; that message is validated here before anything opens.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { showWarning } from '../notify';
import { isAbortError } from '../../core/git/exec';
import { computeTimeline, type TimelineData } from '../../core/archaeology/timeline';
import { renderTimelineHtml } from '../../core/archaeology/timelineSvg';
import { historyOf, openCommitDiff, workspaceOf } from '../archaeology/imageArchaeology';
import type { ProvenanceModel, TargetState } from '../provenanceModel';

const VIEW_TYPE = 'buildProvenance.timeline';
const SHA_RE = /^[0-9a-f]{40,64}$/;

export class TimelinePanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private state: TargetState | undefined;
  private data: TimelineData | undefined;
  private inflight: AbortController | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly model: ProvenanceModel,
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      model.onDidChange(() => this.panel?.visible && void this.render()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (this.state && e.affectsConfiguration('buildProvenance.driftThresholdHours', this.state.folder.uri)) void this.render();
      }),
    );
  }

  /** The data last drawn (for tests). */
  get current(): TimelineData | undefined {
    return this.data;
  }

  async show(s: TargetState): Promise<void> {
    this.state = s;
    if (!this.panel) {
      const media = vscode.Uri.joinPath(this.extensionUri, 'media');
      this.panel = vscode.window.createWebviewPanel(VIEW_TYPE, `Provenance Timeline: ${s.target.name}`, vscode.ViewColumn.Active, {
        enableScripts: true,
        localResourceRoots: [media],
        retainContextWhenHidden: false,
      });
      this.panel.iconPath = vscode.Uri.joinPath(media, 'provenance.svg');
      this.panel.onDidDispose(() => {
        this.inflight?.abort();
        this.panel = undefined;
        this.data = undefined;
      });
      this.panel.webview.onDidReceiveMessage((m: unknown) => void this.onMessage(m));
    } else {
      this.panel.title = `Provenance Timeline: ${s.target.name}`;
      this.panel.reveal();
    }
    await this.render();
  }

  private async render(): Promise<void> {
    const panel = this.panel;
    const s = this.state && this.model.byKey(this.state.key);
    if (!panel || !s) return;
    this.inflight?.abort();
    const ctl = new AbortController();
    this.inflight = ctl;
    try {
      const h = await historyOf(s, this.model.restricted, ctl.signal);
      const thresholdHours = vscode.workspace.getConfiguration('buildProvenance', s.folder.uri).get<number>('driftThresholdHours', 4);
      const data = await computeTimeline(workspaceOf(s), h, { thresholdHours, signal: ctl.signal });
      if (ctl.signal.aborted || this.panel !== panel) return;
      this.data = data;
      const webview = panel.webview;
      panel.webview.html = renderTimelineHtml(data, {
        nonce: randomBytes(16).toString('base64'),
        utcOffsetMinutes: -new Date().getTimezoneOffset(),
        webview: { cspSource: webview.cspSource, scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'timeline.js')).toString() },
      });
    } catch (err) {
      if (isAbortError(err) || ctl.signal.aborted) return;
      this.log.warn(`Timeline: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      void showWarning(`Build Provenance: could not draw the timeline: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Only `{ type: 'openDiff', sha }` for a commit that is in the picture is acted on. */
  private async onMessage(m: unknown): Promise<void> {
    if (typeof m !== 'object' || m === null) return;
    const { type, sha } = m as { type?: unknown; sha?: unknown };
    if (type !== 'openDiff' || typeof sha !== 'string' || !SHA_RE.test(sha)) return;
    const commit = this.data?.commits.find((c) => c.sha === sha);
    const s = this.state;
    if (!commit || !s) return;
    await openCommitDiff(s.repo.root, commit.sha, commit.files);
  }

  dispose(): void {
    this.inflight?.abort();
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
