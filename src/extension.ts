// Wiring only: the model (events → refresh → snapshots) and one feature per file, each owning
// its disposables.
import * as vscode from 'vscode';
import type { BuildAction, RunOutcome } from './core/build/actions';
import { gitSpawnCount, recentGitSpawns, recentGitSpawnsIn } from './core/git/exec';
import { setUntrusted } from './core/safety/untrustedPolicy';
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
import { Lazy } from './vscode/lazy';
import { LineHover } from './vscode/editor/lineHover';
import { ProvenanceModel } from './vscode/provenanceModel';
import { ProvenanceTree } from './vscode/views/provenanceTree';
import { RiskDiagnostics } from './vscode/editor/riskDiagnostics';
import { removeLiveSmokeContainers, SmokeCleanup } from './vscode/build/smokeCleanup';
import { StatusBar } from './vscode/views/statusBar';
import { SuspectsView } from './vscode/views/suspectsView';
import { TimelinePanel } from './vscode/views/timelinePanel';
import { VerifyImage } from './vscode/verifyImage';

export interface BuildProvenanceApi {
  /** For integration tests: the model and the status bar's current presentation. */
  model: ProvenanceModel;
  statusBar: StatusBar;
  /** The Provenance view (`dump()`, `contextKeys`), after-commit notices (`onDidNotify`, `notices`), risk diagnostics. */
  readonly tree: ProvenanceTree;
  readonly notifier: CommitNotifier;
  readonly diagnostics: RiskDiagnostics;
  /** Gutter marks (`decoratedLines(uri)`, `settled()`), hover, annotation, CodeLens, badges. */
  readonly decorations: LineDecorations;
  readonly lineHover: LineHover;
  readonly lineAnnotation: LineAnnotation;
  readonly codeLens: ImageCodeLens;
  readonly explorerBadges: ExplorerBadges;
  /** Image archaeology: the Suspects view (`show()`, `results`, tree items) and the timeline panel (`current`); built on first use. */
  readonly suspects: SuspectsView;
  readonly timeline: TimelinePanel;
  /** "Verify Running Image": `verify(key)` resolves with the report; `reports` the last per target. */
  readonly verifyImage: VerifyImage;
  /** How long activate() took, in ms (the goal is at most 30). */
  activationMs: number;
  /** activate() time per feature, in ms. */
  activationBreakdown: Record<string, number>;
  /** CPU time (user + system) the extension host spent during activate(), in ms: without the time another process had the CPU. */
  activationCpuMs: number;
  /**
   * The features that are not visible at once, built right after activate() returned (ms per
   * feature, and their total); the timeline, the line annotation and the hover's facts are built
   * on first use and are not in it.
   */
  readonly deferredBreakdown: Record<string, number>;
  readonly deferredMs: number;
  /** Git processes started so far (tests check that typing starts none). */
  gitSpawnCount: () => number;
  /** The last git command lines started (diagnostics for the test above). */
  recentGitSpawns: () => string[];
  /** The same with the folder each ran in (multi-root: a refresh of one folder walks nothing in another). */
  recentGitSpawnsIn: () => { command: string; cwd: string }[];
  /** Build tasks: run one as a task and get its outcome (after the model refreshed), or watch runs from anywhere. */
  builds: {
    run(targetKey: string, action: BuildAction): Promise<RunOutcome>;
    onDidFinish: vscode.Event<RunOutcome>;
    activeRuns(): ActiveRun[];
    removeStraySmokeContainers(): Promise<string[]>;
  };
}

/** Times each step, in ms, into `into`. */
function stopwatch(into: Record<string, number>) {
  let last = performance.now();
  return <T>(name: string, value: T): T => {
    const now = performance.now();
    into[name] = Math.round((now - last) * 10) / 10;
    last = now;
    return value;
  };
}

export function activate(context: vscode.ExtensionContext): BuildProvenanceApi {
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  // Where activation time goes, per feature (the integration suite records it with the total).
  // Only what is visible at once, or must answer a command at once, is built here.
  const breakdown: Record<string, number> = {};
  const mark = stopwatch(breakdown);
  // Restricted Mode: every git process runs under the untrusted-repository policy until trust is granted.
  setUntrusted(!vscode.workspace.isTrusted);
  context.subscriptions.push(vscode.workspace.onDidGrantWorkspaceTrust(() => setUntrusted(false)));
  const log = mark('log', vscode.window.createOutputChannel('Build Provenance', { log: true }));
  const model = mark('model', new ProvenanceModel(log));
  const statusBar = mark('statusBar', new StatusBar(model));
  const commands = mark('commands', new Commands(model));
  const buildTasks = mark('buildTasks', new BuildTasks(model, log));
  const buildCommands = mark('buildCommands', new BuildCommands(model, buildTasks, commands, log));
  const suspects = new Lazy(() => new SuspectsView(model, log));
  const timeline = new Lazy(() => new TimelinePanel(model, context.extensionUri, log));
  const archaeology = mark('archaeologyCommands', new ArchaeologyCommands(model, suspects, timeline));
  const verifyImage = mark('verifyImage', new VerifyImage(model, commands, log));
  context.subscriptions.push(log, model, statusBar, commands, buildTasks, buildCommands, suspects, timeline, archaeology, verifyImage);

  // The rest is built right after activate() returns, before discovery starts (so every feature
  // sees the first refresh), or earlier if the API asks for it.
  const deferredBreakdown: Record<string, number> = {};
  let deferredMs = 0;
  let rest: ReturnType<typeof wireRest> | undefined;
  const wire = () => {
    if (rest) return rest;
    const t0 = performance.now();
    rest = wireRest(context, model, log, suspects, stopwatch(deferredBreakdown));
    deferredMs = Math.round((performance.now() - t0) * 10) / 10;
    return rest;
  };
  let deactivated = false;
  context.subscriptions.push({ dispose: () => (deactivated = true) });
  setImmediate(() => {
    if (deactivated) return;
    wire();
    void model.ready();
  });
  const builds = {
    run: async (key: string, action: BuildAction) => {
      await model.ready();
      const s = model.byKey(key);
      if (!s) throw new Error(`No target ${key}`);
      return buildTasks.execute(s, action);
    },
    onDidFinish: buildTasks.onDidFinish,
    activeRuns: () => buildTasks.activeRuns,
    removeStraySmokeContainers: () => wire().smokeCleanup.removeStrays(),
  };
  const activationMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuStarted);
  const activationCpuMs = (cpu.user + cpu.system) / 1000;
  const api = { model, statusBar, verifyImage, gitSpawnCount, recentGitSpawns, recentGitSpawnsIn, builds, activationMs, activationBreakdown: breakdown, activationCpuMs } as BuildProvenanceApi;
  // The rest of the API builds what it names, if that has not happened yet.
  const later: Record<string, () => unknown> = {
    suspects: () => suspects.get(),
    timeline: () => timeline.get(),
    deferredBreakdown: () => deferredBreakdown,
    deferredMs: () => deferredMs,
  };
  for (const k of ['tree', 'notifier', 'diagnostics', 'decorations', 'lineHover', 'lineAnnotation', 'codeLens', 'explorerBadges'] as const) later[k] = () => wire()[k];
  for (const [k, get] of Object.entries(later)) Object.defineProperty(api, k, { get, enumerable: true });
  return api;
}

/** The features that are not visible at once: views, editor marks and lenses, diagnostics, badges. */
function wireRest(
  context: vscode.ExtensionContext,
  model: ProvenanceModel,
  log: vscode.LogOutputChannel,
  suspects: Lazy<SuspectsView>,
  mark: ReturnType<typeof stopwatch>,
) {
  const tree = mark('tree', new ProvenanceTree(model, log));
  // The Suspects view registers its tree now; it reads builds only once it is shown.
  mark('suspects', suspects.get());
  const notifier = mark('notifier', new CommitNotifier(model, context.workspaceState, log));
  const diagnostics = mark('diagnostics', new RiskDiagnostics(model, log));
  const decorations = mark('decorations', new LineDecorations(model, context.extensionUri, log));
  let lineFacts: LineFactsService | undefined;
  const facts = () => (lineFacts ??= new LineFactsService(model, decorations));
  const lineHover = mark('lineHover', new LineHover(facts, decorations, log));
  const lineAnnotation = mark('lineAnnotation', new LineAnnotation(facts, decorations, log));
  const codeLens = mark('codeLens', new ImageCodeLens(model, decorations, log));
  const explorerBadges = mark('explorerBadges', new ExplorerBadges(model, log));
  const smokeCleanup = mark('smokeCleanup', new SmokeCleanup(model, log));
  const content = mark('revisionContent', vscode.workspace.registerTextDocumentContentProvider(REV_SCHEME, new RevisionContentProvider()));
  context.subscriptions.push(tree, notifier, diagnostics, decorations, lineHover, lineAnnotation, codeLens, explorerBadges, smokeCleanup, content);
  return { tree, notifier, diagnostics, decorations, lineHover, lineAnnotation, codeLens, explorerBadges, smokeCleanup };
}

export function deactivate(): Promise<void> {
  // Everything else is in context.subscriptions; smoke containers (and the containers created to
  // read an image) are awaited here.
  return removeLiveSmokeContainers();
}
