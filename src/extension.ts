// Wiring only: the model (events → refresh → snapshots) and one feature per file, each owning
// its disposables.
import * as vscode from 'vscode';
import type { BuildAction, RunOutcome } from './core/build/actions';
import { gitSpawnCount, recentGitSpawns } from './core/git/exec';
import { BuildCommands } from './vscode/build/buildCommands';
import { BuildTasks, type ActiveRun } from './vscode/build/buildTasks';
import { ArchaeologyCommands } from './vscode/archaeology/archaeologyCommands';
import { Commands } from './vscode/commands';
import { CommitNotifier } from './vscode/commitNotifier';
import { ExplorerBadges } from './vscode/editor/explorerBadges';
import { REV_SCHEME, RevisionContentProvider } from './vscode/gitContent';
import { ImageCodeLens } from './vscode/editor/imageCodeLens';
import { LineAnnotation } from './vscode/editor/lineAnnotation';
import { LineDecorations } from './vscode/editor/lineDecorations';
import { LineFactsService } from './vscode/editor/lineFacts';
import { LineHover } from './vscode/editor/lineHover';
import { ProvenanceModel } from './vscode/provenanceModel';
import { ProvenanceTree } from './vscode/views/provenanceTree';
import { RiskDiagnostics } from './vscode/editor/riskDiagnostics';
import { removeLiveSmokeContainers, SmokeCleanup } from './vscode/build/smokeCleanup';
import { StatusBar } from './vscode/views/statusBar';
import { SuspectsView } from './vscode/views/suspectsView';
import { TimelinePanel } from './vscode/views/timelinePanel';

export interface BuildProvenanceApi {
  /** For integration tests: the model and the status bar's current presentation. */
  model: ProvenanceModel;
  statusBar: StatusBar;
  /** The Provenance view (`dump()`, `contextKeys`), after-commit notices (`onDidNotify`, `notices`), risk diagnostics. */
  tree: ProvenanceTree;
  notifier: CommitNotifier;
  diagnostics: RiskDiagnostics;
  /** Gutter marks (`decoratedLines(uri)`, `settled()`), hover, annotation, CodeLens, badges. */
  decorations: LineDecorations;
  lineHover: LineHover;
  lineAnnotation: LineAnnotation;
  codeLens: ImageCodeLens;
  explorerBadges: ExplorerBadges;
  /** Image archaeology: the Suspects view (`show()`, `results`, tree items) and the timeline panel (`current`). */
  suspects: SuspectsView;
  timeline: TimelinePanel;
  /** How long activate() took, in ms (the goal is at most 30). */
  activationMs: number;
  /** activate() time per feature, in ms. */
  activationBreakdown: Record<string, number>;
  /** CPU time (user + system) the extension host spent during activate(), in ms: without the time another process had the CPU. */
  activationCpuMs: number;
  /** Git processes started so far (tests check that typing starts none). */
  gitSpawnCount: () => number;
  /** The last git command lines started (diagnostics for the test above). */
  recentGitSpawns: () => string[];
  /** Build tasks: run one as a task and get its outcome (after the model refreshed), or watch runs from anywhere. */
  builds: {
    run(targetKey: string, action: BuildAction): Promise<RunOutcome>;
    onDidFinish: vscode.Event<RunOutcome>;
    activeRuns(): ActiveRun[];
    removeStraySmokeContainers(): Promise<string[]>;
  };
}

export function activate(context: vscode.ExtensionContext): BuildProvenanceApi {
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  // Where activation time goes, per feature (the integration suite records it with the total).
  const breakdown: Record<string, number> = {};
  let last = started;
  const mark = <T>(name: string, value: T): T => {
    const now = performance.now();
    breakdown[name] = Math.round((now - last) * 10) / 10;
    last = now;
    return value;
  };
  const log = mark('log', vscode.window.createOutputChannel('Build Provenance', { log: true }));
  const model = mark('model', new ProvenanceModel(log));
  const statusBar = mark('statusBar', new StatusBar(model));
  const commands = mark('commands', new Commands(model));
  const suspects = mark('suspects', new SuspectsView(model, log));
  const timeline = mark('timeline', new TimelinePanel(model, context.extensionUri, log));
  context.subscriptions.push(suspects, timeline, new ArchaeologyCommands(model, suspects, timeline));
  const views = {
    tree: mark('tree', new ProvenanceTree(model, log)),
    notifier: mark('notifier', new CommitNotifier(model, context.workspaceState, log)),
    diagnostics: mark('diagnostics', new RiskDiagnostics(model, log)),
  };
  const decorations = mark('decorations', new LineDecorations(model, context.extensionUri, log));
  const lineFacts = new LineFactsService(model, decorations);
  const editor = {
    decorations,
    lineHover: mark('lineHover', new LineHover(lineFacts, decorations, log)),
    lineAnnotation: mark('lineAnnotation', new LineAnnotation(lineFacts, decorations, log)),
    codeLens: mark('codeLens', new ImageCodeLens(model, decorations, log)),
    explorerBadges: mark('explorerBadges', new ExplorerBadges(model, log)),
  };
  const buildTasks = mark('buildTasks', new BuildTasks(model, log));
  const smokeCleanup = mark('smokeCleanup', new SmokeCleanup(model, log));
  context.subscriptions.push(
    log,
    model,
    statusBar,
    commands,
    ...Object.values(views),
    ...Object.values(editor),
    vscode.workspace.registerTextDocumentContentProvider(REV_SCHEME, new RevisionContentProvider()),
    buildTasks,
    new BuildCommands(model, buildTasks, commands, log),
    smokeCleanup,
  );
  // Discovery reads files and starts git: after activate() returns, not inside it.
  setImmediate(() => void model.ready());
  const builds = {
    run: async (key: string, action: BuildAction) => {
      await model.ready();
      const s = model.byKey(key);
      if (!s) throw new Error(`No target ${key}`);
      return buildTasks.execute(s, action);
    },
    onDidFinish: buildTasks.onDidFinish,
    activeRuns: () => buildTasks.activeRuns,
    removeStraySmokeContainers: () => smokeCleanup.removeStrays(),
  };
  const activationMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuStarted);
  const activationCpuMs = (cpu.user + cpu.system) / 1000;
  return { model, statusBar, ...views, ...editor, suspects, timeline, gitSpawnCount, recentGitSpawns, builds, activationMs, activationBreakdown: breakdown, activationCpuMs };
}

export function deactivate(): Promise<void> {
  // Everything else is in context.subscriptions; smoke containers are awaited here.
  return removeLiveSmokeContainers();
}
