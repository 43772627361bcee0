// Palette commands Build + Smoke Test, Rebuild Image and Run Smoke Test (also behind the status-bar
// quick pick, the Dockerfile CodeLens, the line hover and the after-commit notice, which pass a
// target key). Each runs the target's task, so the output goes to a terminal, under a cancellable
// progress notification. Every finished run — from here or from Run Task — is reported once; a
// passing build + smoke test offers the target's deploy step, if it has one.
import * as vscode from 'vscode';
import { askForTrust, showError, showInfo, showWarning } from '../notify';
import { ACTION_TITLES, runNewImageChoice, taskLabel, type BuildAction, type RunOutcome } from '../../core/build/actions';
import { BuildRefusedError } from '../../core/build/engine';
import { runDeploy } from '../../core/build/deploy';
import { clean, shortSha } from '../../core/humanize';
import type { ActiveRun, BuildTasks } from './buildTasks';
import type { Commands } from '../commands';
import { currentTarget, type ProvenanceModel, type TargetState } from '../provenanceModel';
import { BUILD_COMMANDS } from '../registeredCommands';

export const RUN_SMOKE_COMMAND = 'buildProvenance.runSmokeTest';
const SHOW_OUTPUT = 'Show Output';
const RUN_NEW_IMAGE = 'Run the New Image';

const COMMAND_ACTIONS: [id: string, action: BuildAction, icon: string][] = [
  [BUILD_COMMANDS.buildAndSmoke, 'build+smoke', '$(play)'],
  [BUILD_COMMANDS.rebuildImage, 'build', '$(tools)'],
  [RUN_SMOKE_COMMAND, 'smoke', '$(beaker)'],
];

export class BuildCommands implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly model: ProvenanceModel,
    private readonly tasks: BuildTasks,
    commands: Commands,
    private readonly log: vscode.LogOutputChannel,
  ) {
    for (const [id, action, icon] of COMMAND_ACTIONS) {
      this.disposables.push(
        // Callers pass the target key as the first argument; a view or editor button passes other things.
        vscode.commands.registerCommand(id, (key?: unknown) => this.run(action, typeof key === 'string' ? key : undefined)),
        commands.addMenuEntry({ label: `${icon} ${ACTION_TITLES[action]}`, run: (s) => this.run(action, s.key) }),
      );
    }
    this.disposables.push(tasks.onDidFinish((o) => void this.report(o)));
  }

  /** Runs an action of a target (picked when no key is given) with a progress notification. Never throws. */
  async run(action: BuildAction, key?: string): Promise<RunOutcome | undefined> {
    try {
      if (!vscode.workspace.isTrusted) {
        void askForTrust(`${ACTION_TITLES[action]} needs a trusted workspace: the Dockerfile, build and smoke commands come from it, so Build Provenance runs none of them in Restricted Mode.`);
        return undefined;
      }
      const s = await this.pickTarget(action, key);
      if (!s) return undefined;
      const busy = this.tasks.activeRun(s.key);
      if (busy) {
        void this.refuseBusy(s, busy);
        return undefined;
      }
      return await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `${ACTION_TITLES[action]}: ${s.target.name}`, cancellable: true },
        (progress, token) =>
          this.tasks.execute(s, action, (run) => {
            if (token.isCancellationRequested) run.abort();
            const subs = [token.onCancellationRequested(() => run.abort()), this.progressFrom(run, progress)];
            void run.done.then(() => subs.forEach((d) => d.dispose()));
          }),
      );
    } catch (err) {
      this.unexpected(`${ACTION_TITLES[action]} could not run`, err);
      return undefined;
    }
  }

  /** The latest output line as the progress message, at most a few times a second. */
  private progressFrom(run: ActiveRun, progress: vscode.Progress<{ message?: string }>): vscode.Disposable {
    let last = 0;
    return this.tasks.onDidOutput((e) => {
      if (e.key !== run.key || Date.now() - last < 250) return;
      last = Date.now();
      const line = clean(e.line).trim();
      if (line) progress.report({ message: line.length > 90 ? `${line.slice(0, 89)}…` : line });
    });
  }

  private async pickTarget(action: BuildAction, key?: string): Promise<TargetState | undefined> {
    await this.model.ready();
    if (key) {
      const s = this.model.byKey(key);
      if (!s) void showWarning(`Build Provenance: the target ${clean(key.split('#').pop() ?? key)} is no longer configured. Refresh, or check .provenance.json.`);
      return s;
    }
    const targets = this.model.visibleTargets.filter((s) => s.target.image !== '');
    if (targets.length === 0) {
      const pick = await showInfo('Build Provenance: no image target is configured in this workspace.', 'Configure Target…');
      if (pick) await vscode.commands.executeCommand('buildProvenance.configureTarget');
      return undefined;
    }
    if (targets.length === 1) return targets[0];
    const pick = await vscode.window.showQuickPick(
      targets.map((s) => ({ label: s.target.name, description: `${s.folder.name} · ${s.target.image}`, detail: s.status?.snapshot.summary, s })),
      { placeHolder: `${ACTION_TITLES[action]}: which target?` },
    );
    return pick?.s;
  }

  private async refuseBusy(s: TargetState, busy: ActiveRun): Promise<void> {
    const since = Math.round((Date.now() - busy.startedAt) / 1000);
    const pick = await showWarning(
      `Build Provenance: ${s.target.name} is already being built or smoke-tested (${ACTION_TITLES[busy.action]}, started ${since} s ago). Wait for it to finish, or cancel it. Other targets may build at the same time.`,
      'Show Terminal',
      'Cancel It',
    );
    if (pick === 'Cancel It') busy.abort();
    else if (pick === 'Show Terminal') this.showOutput(busy.action, s.target.name);
  }


  /** One notification per finished run, whatever started it. */
  private async report(o: RunOutcome): Promise<void> {
    try {
      if (o.result === 'refused') {
        if (o.refusal === 'untrusted') return askForTrust(o.message);
        void showWarning(`Build Provenance: ${o.message}${o.hint ? ` ${o.hint}` : ''}`);
        return;
      }
      if (o.result === 'cancelled') {
        vscode.window.setStatusBarMessage(`$(circle-slash) Build Provenance: ${o.message}`, 8000);
        return;
      }
      if (!o.ok) {
        this.log.warn(o.message);
        if (o.hint) this.log.warn(o.hint);
        for (const l of o.smoke?.smoke.logTail ?? o.build?.smoke?.logTail ?? []) this.log.warn(`  | ${l}`);
        const pick = await showError(`Build Provenance: ${o.message}${o.hint ? ` ${o.hint}` : ''}`, SHOW_OUTPUT);
        if (pick) this.showOutput(o.action, o.target);
        return;
      }
      if (o.action === 'build+smoke') return await this.afterPassingBuild(o);
      const next = o.action === 'build' ? ACTION_TITLES.smoke : undefined;
      const pick = await showInfo(
        `Build Provenance: ${o.message}${o.hint ? ` ${o.hint}` : ''}`,
        ...(next ? [next] : []),
      );
      if (pick === next) await this.run('smoke', o.key);
    } catch (err) {
      this.unexpected('Could not report the run', err);
    }
  }

  /**
   * The model already shows the new image as built. Running it is the target's deploy step, if it
   * names one; otherwise the status bar keeps showing the built-versus-running gap.
   */
  private async afterPassingBuild(o: RunOutcome): Promise<void> {
    const s = this.model.byKey(o.key);
    const target = s && s.target.name === o.target ? currentTarget(s).target : undefined;
    const mode = target?.deploy?.mode ?? 'none';
    const cfg = vscode.workspace.getConfiguration('buildProvenance', s?.folder.uri);
    // "always" counts only from the user's own settings, never from a workspace's.
    const setting = runNewImageChoice(cfg.get<unknown>('runNewImage', 'ask'), cfg.inspect<unknown>('runNewImage')?.globalValue);
    if (!s || !target || !o.imageId || mode === 'none' || setting === 'never') {
      const running = s?.status?.snapshot.running.length ? ' What runs is unchanged until you run the new image.' : '';
      void showInfo(`Build Provenance: ${o.message}${running}`);
      return;
    }
    if (setting === 'ask') {
      const how = mode === 'replace-container' ? 'replace the running container' : 'run the deploy command';
      const pick = await showInfo(`Build Provenance: ${o.message} Run the new image (${how})?`, RUN_NEW_IMAGE);
      if (pick !== RUN_NEW_IMAGE) return;
    }
    await this.deploy(s, o.imageId);
  }

  private async deploy(s: TargetState, imageId: string): Promise<void> {
    const name = s.target.name;
    try {
      const { config, target } = currentTarget(s);
      if (!target) throw new Error(`the target ${name} is no longer configured`);
      const res = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Running the new image of ${name}`, cancellable: true },
        (_progress, token) => {
          const ctl = new AbortController();
          const sub = token.onCancellationRequested(() => ctl.abort());
          return runDeploy({ repo: s.repo, config, targets: config.targets }, target, {
            imageId,
            trusted: vscode.workspace.isTrusted,
            signal: ctl.signal,
            onOutput: (l) => this.log.info(`deploy ${name}: ${l}`),
          }).finally(() => sub.dispose());
        },
      );
      await this.model.refreshNow('deployed');
      // A deploy that could not be recorded still counts; say so, as after a build or smoke test.
      if (res.ledgerError) this.log.warn(`deploy of ${name}: ${res.ledgerError}`);
      const notRecorded = res.ledgerError ? ` Warning: ${clean(res.ledgerError)}` : '';
      if (res.ok) {
        const what = res.replaced.length ? `replaced ${res.replaced.map((r) => r.name).join(', ')}` : res.mode === 'command' ? 'the deploy command finished' : 'no running container to replace';
        const message = `Build Provenance: ${name} now runs image ${shortSha(imageId.replace(/^sha256:/, ''))} (${clean(what)}).${notRecorded}`;
        void (res.ledgerError ? showWarning(message) : showInfo(message));
        return;
      }
      this.log.warn(`deploy of ${name} failed: ${res.error}`);
      if (res.error === 'cancelled') return;
      const pick = await showError(`Build Provenance: running the new image of ${name} failed: ${clean(res.error ?? 'unknown error')}${notRecorded}`, SHOW_OUTPUT);
      if (pick) this.log.show(true);
    } catch (err) {
      if (err instanceof BuildRefusedError) {
        void showWarning(`Build Provenance: ${err.message} ${err.hint}`);
        return;
      }
      this.unexpected(`Running the new image of ${name} failed`, err);
    }
  }

  /** The run's task terminal, else the log. */
  private showOutput(action: BuildAction, target: string): void {
    const label = taskLabel(action, target);
    const terminal = vscode.window.terminals.find((t) => t.name.includes(label.slice(0, label.length - 1)));
    if (terminal) terminal.show(true);
    else this.log.show(true);
  }

  /** Logs the details and shows a friendly message: no raw exception reaches an error toast. */
  private unexpected(what: string, err: unknown): void {
    this.log.error(`${what}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    void showError(`Build Provenance: ${what}. The details are in the output.`, SHOW_OUTPUT).then((pick) => pick && this.log.show(true));
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
