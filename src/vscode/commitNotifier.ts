// After a commit that changes image inputs: one notification per commit, offering build + smoke
// test now ("test every change immediately", made into a habit). The commit is detected through
// the built-in Git extension's API (via the model); its input files come from one path-limited
// git log of that commit.
import * as vscode from 'vscode';
import { showInfo } from './notify';
import { isAbortError } from '../core/git/exec';
import { logRange } from '../core/git/queries';
import { commitParents } from '../core/git/historyQueries';
import { ago, clean, shortSha } from '../core/humanize';
import { COMMANDS } from './commands';
import type { HeadChange, ProvenanceModel, TargetState } from './provenanceModel';

/** Registered by the build feature; offered only when it exists (never a placeholder). */
export const BUILD_AND_SMOKE_COMMAND = 'buildProvenance.buildAndSmoke';
export const ASK_AGAIN_COMMAND = 'buildProvenance.askAfterCommitsAgain';

const NOTIFIED_KEY = 'buildProvenance.commitNotice.notified';
const MUTED_KEY = 'buildProvenance.commitNotice.mutedRepos';
const NOTIFIED_LIMIT = 200;

export const ACTION_BUILD = 'Build + Smoke Test';
export const ACTION_SHOW = 'Show Undeployed Changes';
export const ACTION_LATER = 'Later';
export const ACTION_MUTE = "Don't Ask in This Repo";

export interface CommitNotice {
  sha: string;
  repo: string;
  /** Target keys whose image the commit changes. */
  targets: string[];
  /** Input files the commit changes (union over the targets). */
  files: string[];
  message: string;
  actions: string[];
}

export class CommitNotifier implements vscode.Disposable {
  private readonly _onDidNotify = new vscode.EventEmitter<CommitNotice>();
  /** Fires when a notification is shown (for tests and telemetry-free counting). */
  readonly onDidNotify = this._onDidNotify.event;
  /** Notifications shown in this session, oldest first (bounded). */
  readonly notices: CommitNotice[] = [];
  private readonly disposables: vscode.Disposable[] = [this._onDidNotify];
  private readonly abort = new AbortController();
  private readonly inSession = new Set<string>();
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly model: ProvenanceModel,
    private readonly state: vscode.Memento,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      model.onDidChangeHead((c) => {
        // One at a time, so two quick HEAD events for one commit cannot both notify.
        this.queue = this.queue.then(() => this.handle(c)).then(() => undefined);
      }),
      vscode.commands.registerCommand(ASK_AGAIN_COMMAND, () => this.askAgain()),
    );
  }

  /** How many notifications were shown in this session. */
  get count(): number {
    return this.notices.length;
  }

  /** Resolves when every HEAD change seen so far has been handled. */
  idle(): Promise<void> {
    return this.queue;
  }

  /** Decides about one HEAD change; never throws (problems go to the log). */
  async handle(change: HeadChange): Promise<CommitNotice | undefined> {
    try {
      return await this.decide(change);
    } catch (err) {
      if (!isAbortError(err)) this.log.error(`After-commit notice for ${change.to}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      return undefined;
    }
  }

  private async decide(c: HeadChange): Promise<CommitNotice | undefined> {
    const root = c.repo.root;
    const targets = this.model.visibleTargets.filter((s) => s.repo.root === root && s.status && s.status.inputs.pathspecs.length > 0);
    if (targets.length === 0) return undefined;
    if (!vscode.workspace.getConfiguration('buildProvenance', targets[0].folder.uri).get<boolean>('notifyAfterCommit', true)) return undefined;
    if (this.state.get<string[]>(MUTED_KEY, []).includes(root)) return undefined;
    if (this.inSession.has(c.to) || this.state.get<string[]>(NOTIFIED_KEY, []).includes(c.to)) return undefined;

    const signal = this.abort.signal;
    const parents = await commitParents(root, c.to, signal);
    // A checkout or pull moves HEAD too; without the Git API's commit event, only "one new commit
    // on top of the old HEAD" counts as a commit.
    const isCommit = c.committed || (c.from !== undefined && parents.length === 1 && parents[0] === c.from);
    if (!isCommit) {
      this.log.debug(`HEAD ${shortSha(c.from)} → ${shortSha(c.to)} is not a new commit; no notice.`);
      return undefined;
    }
    const touched: { s: TargetState; files: string[] }[] = [];
    for (const s of targets) {
      const inputs = s.status!.inputs;
      const log = await logRange(root, { from: parents[0] ?? null, to: c.to }, inputs.pathspecs, { withFiles: true, signal });
      // Pathspecs may select a superset; affects() is exact.
      const files = [...new Set(log.flatMap((x) => x.files))].filter((f) => inputs.affects(f).affects);
      if (files.length) touched.push({ s, files });
    }
    if (touched.length === 0) return undefined;
    if (this.inSession.has(c.to)) return undefined;
    this.inSession.add(c.to);
    const notified = [c.to, ...this.state.get<string[]>(NOTIFIED_KEY, []).filter((x) => x !== c.to)].slice(0, NOTIFIED_LIMIT);
    await this.state.update(NOTIFIED_KEY, notified);

    const files = [...new Set(touched.flatMap((t) => t.files))];
    const canBuild = !this.model.restricted && (await vscode.commands.getCommands(true)).includes(BUILD_AND_SMOKE_COMMAND);
    const actions = [canBuild ? ACTION_BUILD : ACTION_SHOW, ACTION_LATER, ACTION_MUTE];
    const message = noticeMessage(touched.map((t) => t.s), files.length, canBuild);
    const notice: CommitNotice = { sha: c.to, repo: root, targets: touched.map((t) => t.s.key), files, message, actions };
    this.notices.push(notice);
    if (this.notices.length > 50) this.notices.shift();
    this.log.info(`Commit ${shortSha(c.to)} changes ${files.length} input file(s) of ${touched.map((t) => t.s.target.name).join(', ')}: ${files.join(', ')}`);
    this._onDidNotify.fire(notice);
    // Not awaited: the queue must not wait for the user to answer.
    void this.show(notice, touched[0].s);
    return notice;
  }

  private async show(notice: CommitNotice, primary: TargetState): Promise<void> {
    try {
      const pick = await showInfo(notice.message, ...notice.actions);
      if (pick === ACTION_BUILD) await vscode.commands.executeCommand(BUILD_AND_SMOKE_COMMAND, primary.key);
      else if (pick === ACTION_SHOW) await vscode.commands.executeCommand(COMMANDS.showUndeployed, primary.key);
      else if (pick === ACTION_MUTE) {
        const muted = this.state.get<string[]>(MUTED_KEY, []);
        if (!muted.includes(notice.repo)) await this.state.update(MUTED_KEY, [...muted, notice.repo]);
        void showInfo(
          'Build Provenance will not ask after commits in this repository again. Run "Build Provenance: Ask Again After Commits" to undo, or turn it off everywhere with the setting buildProvenance.notifyAfterCommit.',
        );
      }
    } catch (err) {
      this.log.error(`After-commit notice action failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
  }

  private async askAgain(): Promise<void> {
    await this.state.update(MUTED_KEY, []);
    void showInfo('Build Provenance will offer a build + smoke test after commits that change image inputs again.');
  }

  dispose(): void {
    this.abort.abort();
    for (const d of this.disposables) d.dispose();
  }
}

/** "This commit changes N files baked into helix-ubuntu (running <rev>, built <age> ago). Build + smoke test now?" */
export function noticeMessage(targets: readonly TargetState[], fileCount: number, canBuild: boolean): string {
  const parts = targets.map((s) => `${plain(s.target.image || s.target.name)} (${deployedWords(s)})`);
  const into = parts.length === 1 ? parts[0] : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
  const question = canBuild ? 'Build + smoke test now?' : 'Build + smoke test it soon: it is not running yet.';
  return `This commit changes ${fileCount} file${fileCount === 1 ? '' : 's'} baked into ${into}. ${question}`;
}

function deployedWords(s: TargetState): string {
  const snap = s.status?.snapshot;
  if (!snap) return 'state unknown';
  if (!snap.docker.reachable) return 'Docker unreachable';
  let running = 'not running';
  const newest = [...snap.running].sort((a, b) => (a.started < b.started ? 1 : -1))[0];
  if (newest) {
    running =
      newest.revisionSource === 'content'
        ? `running ${shortSha(newest.revision)} (by its content)`
        : newest.labelState === 'labeled' || newest.labelState === 'unknown'
          ? `running ${shortSha(newest.revision)}${newest.dirty ? '-dirty' : ''}`
          : 'running an unlabeled image';
  }
  const built = snap.built ? `built ${ago(snap.built.created)} ago` : 'never built';
  return `${running}, ${built}`;
}

/** Notification text renders [links](…): keep names from config plain. */
function plain(s: string): string {
  return clean(s).replace(/[[\]()]/g, '');
}
