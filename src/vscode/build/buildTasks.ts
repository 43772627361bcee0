// Tasks of type `buildProvenance` — build, smoke, build+smoke per target — listed in Run Task and
// usable from tasks.json. Each runs the core engine through a CustomExecution whose Pseudoterminal
// streams the build output and smoke progress; Ctrl-C or closing the terminal aborts the run (the
// engine stops the build stream and removes the smoke container).
//
// Restricted Mode: the provider stays registered, but VS Code itself asks for trust before it
// lists or runs any task; a run that starts anyway refuses before reading anything, and the engine
// refuses too.
import * as vscode from 'vscode';
import {
  ACTION_TITLES,
  BUILD_ACTIONS,
  BUILD_TASK_TYPE,
  buildOutcome,
  definitionProblem,
  engineRefusal,
  refusedOutcome,
  smokeOutcome,
  taskLabel,
  terminalText,
  type BuildAction,
  type BuildTaskDefinition,
  type RunOutcome,
} from '../../core/build/actions';
import { runBuild, runSmokeTest } from '../../core/build/engine';
import { clean } from '../../core/humanize';
import { currentTarget, type ProvenanceModel, type TargetState } from '../provenanceModel';

/** A run in progress in this window. */
export interface ActiveRun {
  readonly key: string;
  readonly target: string;
  readonly action: BuildAction;
  readonly startedAt: number;
  /** Cancels it (the same as Ctrl-C in its terminal). */
  abort(): void;
  /** Resolves when it ended and the model has refreshed; never rejects. */
  readonly done: Promise<RunOutcome>;
}

const RED = '\x1b[31m';
const GREEN = '\x1b[32m';
const YELLOW = '\x1b[33m';
const BOLD = '\x1b[1m';
const RESET = '\x1b[0m';

export class BuildTasks implements vscode.Disposable {
  private readonly _onDidStart = new vscode.EventEmitter<ActiveRun>();
  readonly onDidStart = this._onDidStart.event;
  private readonly _onDidOutput = new vscode.EventEmitter<{ key: string; line: string }>();
  /** Every output line of every run (for progress notifications). */
  readonly onDidOutput = this._onDidOutput.event;
  private readonly _onDidFinish = new vscode.EventEmitter<RunOutcome>();
  /** After a run ended and, when it ran anything, the model refreshed. */
  readonly onDidFinish = this._onDidFinish.event;

  private readonly active = new Map<string, ActiveRun>();
  private readonly disposables: vscode.Disposable[] = [this._onDidStart, this._onDidOutput, this._onDidFinish];

  constructor(
    private readonly model: ProvenanceModel,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      vscode.tasks.registerTaskProvider(BUILD_TASK_TYPE, {
        provideTasks: () => this.provideTasks(),
        resolveTask: (task) => this.resolveTask(task),
      }),
    );
  }

  /** The run of a target in progress in this window, if any. */
  activeRun(key: string): ActiveRun | undefined {
    return this.active.get(key);
  }

  get activeRuns(): ActiveRun[] {
    return [...this.active.values()];
  }

  private async provideTasks(): Promise<vscode.Task[]> {
    await this.model.ready();
    const multiRoot = (vscode.workspace.workspaceFolders?.length ?? 0) > 1;
    return this.model.visibleTargets
      .filter((s) => s.target.image !== '') // not the placeholder of a broken .provenance.json
      .flatMap((s) => BUILD_ACTIONS.map((action) => this.createTask(s, action, multiRoot)));
  }

  /** A task of tasks.json: keep its definition (VS Code matches on it) and attach the execution. */
  private resolveTask(task: vscode.Task): vscode.Task | undefined {
    const def = task.definition as Partial<BuildTaskDefinition>;
    if (def.type !== BUILD_TASK_TYPE) return undefined;
    return this.task(task.definition as BuildTaskDefinition, task.scope ?? vscode.TaskScope.Workspace, task.name);
  }

  /** The task of one action of a target, as Run Task lists it. */
  createTask(s: TargetState, action: BuildAction, multiRoot = (vscode.workspace.workspaceFolders?.length ?? 0) > 1): vscode.Task {
    const def: BuildTaskDefinition = { type: BUILD_TASK_TYPE, target: s.target.name, action, ...(multiRoot ? { folder: s.folder.name } : {}) };
    const task = this.task(def, s.folder, taskLabel(action, s.target.name, multiRoot ? s.folder.name : undefined));
    task.detail = `${ACTION_TITLES[action]} of ${s.target.image}${action === 'build+smoke' ? ', then smoke-test the new image' : ''}`;
    return task;
  }

  private task(def: BuildTaskDefinition, scope: vscode.WorkspaceFolder | vscode.TaskScope, name: string): vscode.Task {
    // An explicit empty problem-matcher list: nothing to scan, and no "continue without scanning" prompt.
    const task = new vscode.Task(
      def,
      scope,
      name,
      'Build Provenance',
      new vscode.CustomExecution(async (resolved) => new BuildTerminal(this, resolved as BuildTaskDefinition, typeof scope === 'object' ? scope : undefined)),
      [],
    );
    task.group = def.action === 'smoke' ? vscode.TaskGroup.Test : vscode.TaskGroup.Build;
    task.presentationOptions = { reveal: vscode.TaskRevealKind.Always, panel: vscode.TaskPanelKind.Dedicated, clear: true };
    return task;
  }

  /**
   * Runs the action of a target as a task (so its output goes to a terminal) and resolves with the
   * outcome once it ended and the model refreshed. Resolves with a refusal if VS Code never starts it.
   */
  async execute(s: TargetState, action: BuildAction, onStart?: (run: ActiveRun) => void): Promise<RunOutcome> {
    const disposables: vscode.Disposable[] = [];
    // A task of this target and action that was still ending (a cancelled run) is not this one.
    const earlier = new Set(vscode.tasks.taskExecutions);
    try {
      const started = new Promise<ActiveRun | undefined>((resolve) => {
        disposables.push(
          this.onDidStart((r) => {
            if (r.target === s.target.name && r.action === action) resolve(r);
          }),
          // VS Code may decline to start it (e.g. the same task is already running and the user
          // chose not to restart it); then no run ever starts.
          vscode.tasks.onDidEndTask((e) => {
            const d = e.execution.task.definition as Partial<BuildTaskDefinition>;
            if (earlier.has(e.execution)) return;
            if (d.type === BUILD_TASK_TYPE && d.target === s.target.name && d.action === action && !this.active.has(s.key)) resolve(undefined);
          }),
        );
      });
      await vscode.tasks.executeTask(this.createTask(s, action));
      const run = await started;
      if (!run) return refusedOutcome(s.key, s.target.name, action, 'not-started', `${ACTION_TITLES[action]} of ${s.target.name} did not start.`, null);
      onStart?.(run);
      return await run.done;
    } finally {
      for (const d of disposables) d.dispose();
    }
  }

  /** Which target a task definition means: by folder (name or path), then the task's folder, then a unique name. */
  findTarget(def: BuildTaskDefinition, scope: vscode.WorkspaceFolder | undefined): TargetState | string {
    const byName = this.model.visibleTargets.filter((s) => s.target.name === def.target);
    const inFolder = def.folder
      ? byName.filter((s) => s.folder.name === def.folder || s.folder.uri.fsPath === def.folder)
      : scope
        ? byName.filter((s) => s.folder.uri.toString() === scope.uri.toString())
        : byName;
    if (inFolder.length === 1) return inFolder[0];
    const known = this.model.visibleTargets.map((s) => `${s.target.name} (${s.folder.name})`).join(', ') || 'none';
    if (inFolder.length > 1) return `Several targets are named "${def.target}" (${inFolder.map((s) => s.folder.name).join(', ')}); add "folder" to the task to choose one.`;
    return `No target named "${def.target}"${def.folder ? ` in folder "${def.folder}"` : ''}. Targets: ${known}. They come from .provenance.json.`;
  }

  /** Called by a terminal: checks, runs the engine, tracks the run, reports and refreshes afterwards. */
  async run(def: BuildTaskDefinition, scope: vscode.WorkspaceFolder | undefined, say: (line: string) => void, signal: AbortSignal, abort: () => void): Promise<RunOutcome> {
    const pre = await this.preflight(def, scope);
    const key = pre.key; // a target's, or the refusal's
    let finish!: (o: RunOutcome) => void;
    const run: ActiveRun = { key, target: String(def.target), action: def.action, startedAt: Date.now(), abort, done: new Promise((r) => (finish = r)) };
    let outcome: RunOutcome;
    if ('result' in pre) {
      this._onDidStart.fire(run);
      outcome = pre;
    } else {
      const s = pre;
      this.active.set(s.key, run);
      this._onDidStart.fire(run);
      const line = (l: string) => {
        say(l);
        this._onDidOutput.fire({ key: s.key, line: l });
      };
      try {
        outcome = await this.runEngine(s, def.action, line, signal);
      } catch (err) {
        this.log.error(`${ACTION_TITLES[def.action]} of ${s.key} failed unexpectedly: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        const message = `${ACTION_TITLES[def.action]} of ${s.target.name} failed unexpectedly: ${clean(String(err))}`;
        outcome = { ...refusedOutcome(s.key, s.target.name, def.action, 'error', message, 'See the "Build Provenance" output.'), result: 'failure' };
      } finally {
        this.active.delete(s.key);
      }
    }
    this.log.info(`${ACTION_TITLES[def.action] ?? def.action} ${key}: ${outcome.result}: ${outcome.message}`);
    // The terminal reports right away; the model refresh and the event come after.
    setImmediate(() => void this.settle(outcome, finish));
    return outcome;
  }

  /** The target to run, or why not (a refused outcome). Nothing runs here. */
  private async preflight(def: BuildTaskDefinition, scope: vscode.WorkspaceFolder | undefined): Promise<TargetState | RunOutcome> {
    const fallbackKey = `${scope?.uri.fsPath ?? ''}#${String(def.target)}`;
    const problem = definitionProblem(def);
    if (problem) return refusedOutcome(fallbackKey, String(def.target), def.action, 'settings', `Invalid ${BUILD_TASK_TYPE} task: ${problem}`, 'Fix the task in tasks.json.');
    if (!vscode.workspace.isTrusted) {
      // Before reading anything: nothing the workspace configures runs in Restricted Mode.
      return refusedOutcome(
        fallbackKey,
        def.target,
        def.action,
        'untrusted',
        `Refusing to ${ACTION_TITLES[def.action].toLowerCase()} ${def.target}: the workspace is not trusted.`,
        'The Dockerfile, build and smoke commands come from the workspace. Trust it (Manage Workspace Trust), then run the task again.',
      );
    }
    await this.model.ready();
    const found = this.findTarget(def, scope);
    if (typeof found === 'string') return refusedOutcome(fallbackKey, def.target, def.action, 'target', found, 'Run "Tasks: Run Task" → Build Provenance to see the targets.');
    const busy = this.active.get(found.key);
    if (busy) {
      return refusedOutcome(
        found.key,
        found.target.name,
        def.action,
        'busy',
        `${found.target.name} is already being built or smoke-tested in this window (${ACTION_TITLES[busy.action]}, started ${Math.round((Date.now() - busy.startedAt) / 1000)} s ago).`,
        'Wait for it to finish, or cancel it (Ctrl-C in its terminal). Different targets may build at once.',
      );
    }
    return found;
  }

  private async settle(outcome: RunOutcome, finish: (o: RunOutcome) => void): Promise<void> {
    try {
      if (outcome.result !== 'refused') await this.model.refreshNow(`${outcome.action} finished`);
    } catch (err) {
      this.log.error(`refresh after ${outcome.action} failed: ${String(err)}`);
    }
    finish(outcome);
    this._onDidFinish.fire(outcome);
  }

  private async runEngine(s: TargetState, action: BuildAction, line: (l: string) => void, signal: AbortSignal): Promise<RunOutcome> {
    const started = Date.now();
    const refused = (code: string, message: string, hint: string | null) => refusedOutcome(s.key, s.target.name, action, code, message, hint);
    try {
      // Fresh settings: what .provenance.json says now, not at the last refresh.
      const { config, target } = currentTarget(s);
      if (!target) return refused('target', `The target "${s.target.name}" is no longer in ${config.file ?? '.provenance.json'}.`, null);
      const ws = { repo: s.repo, config, targets: config.targets };
      const opts = { signal, onOutput: line, trusted: vscode.workspace.isTrusted, origin: 'VS Code' };
      // A run that could not be recorded still counts; the terminal and the log say so, as the CLI does.
      const warnLedger = (r: { ledgerError: string | null }) => {
        if (!r.ledgerError) return;
        line(`warning: ${r.ledgerError}`);
        this.log.warn(`${ACTION_TITLES[action]} of ${s.key}: ${r.ledgerError}`);
      };
      if (action === 'smoke') {
        const r = await runSmokeTest(ws, target, opts);
        warnLedger(r);
        return smokeOutcome(s.key, r, Date.now() - started);
      }
      const r = await runBuild(ws, target, { ...opts, smoke: action === 'build+smoke' });
      warnLedger(r);
      return buildOutcome(s.key, action, r, Date.now() - started);
    } catch (err) {
      const r = engineRefusal(err, action, s.target.name);
      if (r) return refused(r.code, r.message, r.hint);
      if (signal.aborted) return { ...refused('cancelled', `${ACTION_TITLES[action]} of ${s.target.name} was cancelled.`, null), result: 'cancelled' };
      throw err;
    }
  }

  dispose(): void {
    for (const r of this.active.values()) r.abort();
    for (const d of this.disposables) d.dispose();
  }
}

/** The terminal of one task run. */
class BuildTerminal implements vscode.Pseudoterminal {
  private readonly writeEmitter = new vscode.EventEmitter<string>();
  readonly onDidWrite = this.writeEmitter.event;
  private readonly closeEmitter = new vscode.EventEmitter<number>();
  readonly onDidClose = this.closeEmitter.event;
  private readonly abort = new AbortController();
  private finished = false;

  constructor(
    private readonly tasks: BuildTasks,
    private readonly def: BuildTaskDefinition,
    private readonly scope: vscode.WorkspaceFolder | undefined,
  ) {}

  open(): void {
    void this.start();
  }

  /** The user closed the terminal (or the task was terminated): stop the run. */
  close(): void {
    this.abort.abort();
  }

  handleInput(data: string): void {
    if (this.finished || !data.includes('\x03')) return;
    if (!this.abort.signal.aborted) this.write(`${YELLOW}^C — cancelling…${RESET}`);
    this.abort.abort();
  }

  private write(line: string): void {
    this.writeEmitter.fire(terminalText(line));
  }

  private async start(): Promise<void> {
    let code = 1;
    try {
      const title = ACTION_TITLES[this.def.action] ?? String(this.def.action);
      this.write(`${BOLD}Build Provenance: ${title} (${String(this.def.target)})${RESET}  — Ctrl-C cancels`);
      const o = await this.tasks.run(this.def, this.scope, (l) => this.write(l), this.abort.signal, () => this.abort.abort());
      const color = o.ok ? GREEN : o.result === 'cancelled' ? YELLOW : RED;
      this.write('');
      this.write(`${color}${BOLD}${o.ok ? '✔' : o.result === 'cancelled' ? '■' : '✘'} ${o.message}${RESET}`);
      if (o.hint) this.write(o.hint);
      code = o.ok ? 0 : 1;
    } catch (err) {
      // BuildTasks.run catches everything; this is the last resort so the task always ends.
      this.write(`${RED}Build Provenance: ${clean(String(err))}${RESET}`);
    } finally {
      this.finished = true;
      this.closeEmitter.fire(code);
    }
  }
}
