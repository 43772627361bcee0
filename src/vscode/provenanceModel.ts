// The one place that asks the core for state. Events (Git API, saves, config changes, Docker's
// event stream) → one debounced refresh → immutable per-target snapshots → renderers. Renderers
// never run git or docker themselves. The latest results stay in memory (per clone), so a
// refresh whose ids did not change walks nothing (a Docker event that changes nothing, a build
// elsewhere), and runs git status only after a work-tree event.
import { watch } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CONFIG_FILE, ConfigError, loadConfig, type LoadedConfig, type TargetConfig } from '../core/config';
import { watchDockerEvents, type DockerEvent, type DockerEventWatcher } from '../core/docker/events';
import { imageRefMatches, isDockerInDockerContainer } from '../core/docker/state';
import { resolveDockerEndpoints } from '../core/docker/endpoints';
import { isAbortError } from '../core/git/exec';
import { findRepo, readHead, type RepoInfo } from '../core/git/queries';
import { DockerfileError } from '../core/inputs/imageInputs';
import { ResultMemo } from '../core/status/resultCache';
import { computeTargetStatus, type TargetStatus } from '../core/status/statusQuery';
import { deployedView } from '../core/status/driftModel';
import { ProvenanceError, type Workspace } from '../core/status/workspace';
import { DiscoveryMemo, discoverTargets } from '../core/status/discovery';
import { isDockerfileName } from '../core/inputs/imageInputs';
import type { AffectsResult } from '../core/types';
import { getGitApi, type GitApi, type GitRepository } from './gitApi';

export interface TargetState {
  /** `<repo root>#<target name>` */
  readonly key: string;
  readonly repo: RepoInfo;
  readonly folder: vscode.WorkspaceFolder;
  readonly target: TargetConfig;
  /** Present once a refresh succeeded. */
  readonly status?: TargetStatus;
  /** A problem that stopped the refresh (bad config, Dockerfile error, empty repo…). */
  readonly error?: { message: string; hint: string };
  /** True for the zero-config default whose Dockerfile could not be found: not shown. */
  readonly unconfigured?: boolean;
  /** When the refresh that produced `status` started (ms since the epoch). */
  readonly refreshedAt?: number;
}

/**
 * The target as its settings are now: what .provenance.json says (re-read), or, without one, the
 * target zero-config discovery found. Undefined when the file no longer names it.
 */
export function currentTarget(s: TargetState): { config: LoadedConfig; target: TargetConfig | undefined } {
  const config = loadConfig(s.repo.root);
  if (config.file === null && s.target.discovery) return { config: { file: null, targets: [s.target] }, target: s.target };
  return { config, target: config.targets.find((t) => t.name === s.target.name) };
}

export interface HeadChange {
  repo: RepoInfo;
  from: string | undefined;
  to: string;
  /** The Git API reported a commit (not a checkout or pull). */
  committed: boolean;
}

const DEBOUNCE_MS = 400;

/** The target of a state that stands for a problem (a broken config, nothing found), not an image. */
function placeholderTarget(name: string): TargetConfig {
  return { name, image: '', context: '', buildArgs: {}, revisionLabels: [], include: [], exclude: [], endpoints: [] };
}

export class ProvenanceModel implements vscode.Disposable {
  private readonly _onDidChange = new vscode.EventEmitter<void>();
  /** Fires after every refresh, with new snapshots. */
  readonly onDidChange = this._onDidChange.event;
  private readonly _onDidChangeHead = new vscode.EventEmitter<HeadChange>();
  /** HEAD of a repository moved (commit, checkout, pull), as the Git API reported it. */
  readonly onDidChangeHead = this._onDidChangeHead.event;

  private readonly disposables: vscode.Disposable[] = [this._onDidChange, this._onDidChangeHead];
  private workspaces: Workspace[] = [];
  private folders = new Map<string, vscode.WorkspaceFolder>();
  private states: TargetState[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inflight: AbortController | undefined;
  private dockerWatchers = new Map<string, DockerEventWatcher>();
  private dockerConnected = new Map<string, boolean>();
  private gitSubscriptions: vscode.Disposable[] = [];
  private heads = new Map<string, string | undefined>();
  private poll: NodeJS.Timeout | undefined;
  private discovered: Promise<void> | undefined;
  private lastRefresh: Promise<void> = Promise.resolve();
  /** Range results and Dockerfile blobs in memory, per git common dir. */
  private readonly memos = new Map<string, ResultMemo>();
  /**
   * Per repository: a count of what may have changed the work tree (saves of inputs, the Git
   * extension's file and index events, HEAD moves, the fallback poll, the Refresh command). While
   * it stands still, the uncommitted changes found last time hold and `git status` is not run.
   */
  private readonly worktreeEpochs = new Map<string, number>();

  /** Zero-config discovery's answers per repository (image IDs, revision SHAs, the Dockerfile list). */
  private readonly discoveryMemos = new Map<string, DiscoveryMemo>();
  private rediscovering: Promise<void> | undefined;

  constructor(private readonly log: vscode.LogOutputChannel) {
    this.disposables.push(
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.rediscover()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.rediscover()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('buildProvenance.pollIntervalSeconds')) this.startPoll();
      }),
      vscode.workspace.onDidSaveTextDocument((doc) => this.onSaved(doc.uri)),
    );
    const watcher = vscode.workspace.createFileSystemWatcher(`**/${CONFIG_FILE}`);
    this.disposables.push(watcher, watcher.onDidChange(() => this.rediscover()), watcher.onDidCreate(() => this.rediscover()), watcher.onDidDelete(() => this.rediscover()));
    this.startPoll();
  }

  get restricted(): boolean {
    return !vscode.workspace.isTrusted;
  }

  /** Every target, configured or zero-config, with its latest state. */
  get targets(): readonly TargetState[] {
    return this.states;
  }

  /** Targets shown to the user (not the unresolved zero-config default). */
  get visibleTargets(): readonly TargetState[] {
    return this.states.filter((s) => !s.unconfigured);
  }

  /** Resolves once workspace discovery and the first refresh are done. */
  ready(): Promise<void> {
    this.discovered ??= this.discover();
    return this.discovered.then(() => this.lastRefresh);
  }

  rediscover(): void {
    this.discovered = this.discover();
  }

  /** Why the last refreshes were asked for, newest last (diagnostics and tests). */
  readonly refreshReasons: string[] = [];

  /** Debounced refresh of every target. */
  refresh(reason: string): void {
    this.log.debug(`refresh requested: ${reason}`);
    this.noteReason(reason);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refreshNow(reason), DEBOUNCE_MS);
  }

  /** Something may have changed the work tree of `root` (every repository when omitted). */
  worktreeChanged(root?: string): void {
    for (const w of this.workspaces) {
      if (root === undefined || w.repo.root === root) this.worktreeEpochs.set(w.repo.root, (this.worktreeEpochs.get(w.repo.root) ?? 0) + 1);
    }
  }

  /** Refresh now; a refresh in flight is cancelled. Resolves when the new snapshots are out. */
  refreshNow(reason = 'manual'): Promise<void> {
    this.noteReason(`now: ${reason}`);
    clearTimeout(this.timer);
    this.inflight?.abort();
    const ctl = new AbortController();
    this.inflight = ctl;
    const run = async () => {
      const started = Date.now();
      const next = await Promise.all(this.states.map((s) => this.refreshOne(s, ctl.signal)));
      if (ctl.signal.aborted) return;
      this.states = next;
      this.watchDocker();
      this.log.debug(`refreshed ${next.length} target(s) in ${Date.now() - started} ms (${reason})`);
      this._onDidChange.fire();
    };
    this.lastRefresh = run().catch((err) => {
      if (!isAbortError(err)) this.log.error(`refresh failed: ${String(err)}`);
    });
    return this.lastRefresh;
  }

  private noteReason(reason: string): void {
    this.refreshReasons.push(reason);
    if (this.refreshReasons.length > 20) this.refreshReasons.shift();
  }

  /** Which targets a file goes into, from the cached analysis (no git process). */
  inputsOf(uri: vscode.Uri): { state: TargetState; result: AffectsResult }[] {
    if (uri.scheme !== 'file') return [];
    const out: { state: TargetState; result: AffectsResult }[] = [];
    for (const s of this.states) {
      if (!s.status) continue;
      const rel = path.relative(s.repo.root, uri.fsPath);
      if (rel.startsWith('..') || path.isAbsolute(rel)) continue;
      const result = s.status.inputs.affects(rel.split(path.sep).join('/'));
      if (result.affects) out.push({ state: s, result });
    }
    return out;
  }

  /** The revision the target's running container (or newest image) is built from, if known. */
  deployedRevision(s: TargetState): string | null {
    const snap = s.status?.snapshot;
    if (!snap) return null;
    const ref = deployedView(snap);
    // A label this clone has, or the revision the bytes decided (an unlabeled image is no dead end).
    return ref && (ref.revisionSource === 'content' || ref.labelState === 'labeled') ? ref.revision : null;
  }

  byKey(key: string): TargetState | undefined {
    return this.states.find((s) => s.key === key);
  }

  private async refreshOne(s: TargetState, signal: AbortSignal): Promise<TargetState> {
    const ws = this.workspaces.find((w) => w.repo.root === s.repo.root);
    if (!ws || s.target.image === '') return s;
    // In Restricted Mode nothing the workspace configures is used to reach out: its Docker
    // endpoints are ignored (DOCKER_HOST / the docker CLI context still apply).
    const target = this.restricted ? { ...s.target, endpoints: [] } : s.target;
    const refreshedAt = Date.now();
    try {
      let memo = this.memos.get(s.repo.commonDir);
      if (!memo) this.memos.set(s.repo.commonDir, (memo = new ResultMemo()));
      const worktreeEpoch = this.worktreeEpochs.get(s.repo.root) ?? 0;
      const status = await computeTargetStatus(ws, target, { signal, restricted: this.restricted, memo, worktreeEpoch });
      return { ...s, status, error: undefined, unconfigured: false, refreshedAt };
    } catch (err) {
      if (isAbortError(err)) throw err;
      const zeroConfig = ws.config.file === null;
      if (err instanceof ProvenanceError) {
        return { ...s, status: undefined, error: { message: err.message, hint: err.hint }, unconfigured: zeroConfig && err.code === 'no-dockerfile' && !s.target.discovery };
      }
      if (err instanceof DockerfileError || err instanceof ConfigError) {
        return { ...s, status: undefined, error: { message: err.message, hint: 'Fix the file named in the message; the view refreshes on save.' } };
      }
      this.log.error(`${s.key}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      return { ...s, status: undefined, error: { message: `Unexpected error: ${String(err)}`, hint: 'See the "Build Provenance" output channel.' } };
    }
  }

  private async discover(): Promise<void> {
    const workspaces: Workspace[] = [];
    const states: TargetState[] = [];
    this.folders.clear();
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      if (folder.uri.scheme !== 'file') continue;
      let repo: RepoInfo;
      try {
        repo = await findRepo(folder.uri.fsPath);
      } catch {
        continue; // not a git repository: nothing to show for this folder
      }
      if (workspaces.some((w) => w.repo.root === repo.root)) continue;
      this.folders.set(repo.root, folder);
      try {
        let config = loadConfig(repo.root);
        let nothing: ProvenanceError | undefined;
        if (config.file === null) {
          // No configuration: this repository's own images, by the rule that found each.
          try {
            config = { file: null, targets: await this.zeroConfigTargets(repo) };
          } catch (err) {
            if (!(err instanceof ProvenanceError)) throw err;
            config = { file: null, targets: [] };
            nothing = err;
          }
        }
        workspaces.push({ repo, config, targets: config.targets });
        for (const target of config.targets) {
          const key = `${repo.root}#${target.name}`;
          const prev = this.states.find((s) => s.key === key);
          states.push({ key, repo, folder, target, status: prev?.status, unconfigured: config.file === null ? (prev?.unconfigured ?? false) : false });
        }
        if (nothing) {
          this.log.info(`${repo.root}: ${nothing.message}`);
          states.push({ key: `${repo.root}#zero-config`, repo, folder, target: placeholderTarget('zero-config'), error: { message: nothing.message, hint: nothing.hint }, unconfigured: true });
        }
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        workspaces.push({ repo, config: { file: path.join(repo.root, CONFIG_FILE), targets: [] }, targets: [] });
        states.push({
          key: `${repo.root}#config`,
          repo,
          folder,
          target: placeholderTarget('config'),
          error: { message, hint: `Fix ${CONFIG_FILE}; the view refreshes on save.` },
        });
      }
    }
    this.workspaces = workspaces;
    this.states = states;
    await this.watchGit();
    this.watchDocker();
    await this.refreshNow('discovery');
  }

  private zeroConfigTargets(repo: RepoInfo): Promise<TargetConfig[]> {
    let memo = this.discoveryMemos.get(repo.root);
    if (!memo) this.discoveryMemos.set(repo.root, (memo = new DiscoveryMemo()));
    return discoverTargets(repo, { memo, worktreeKey: String(this.worktreeEpochs.get(repo.root) ?? 0) });
  }

  /**
   * Without a configuration, images and Dockerfiles that come and go change the targets: look
   * again (cheap: cached per image ID and work-tree epoch) and rediscover only when they changed.
   */
  private zeroConfigChanged(reason: string): void {
    if (!this.workspaces.some((w) => w.config.file === null)) return;
    this.rediscovering ??= (async () => {
      try {
        for (const w of this.workspaces) {
          if (w.config.file !== null) continue;
          const now = await this.zeroConfigTargets(w.repo).catch((err) => (err instanceof ProvenanceError ? [] : Promise.reject(err)));
          const key = (ts: readonly TargetConfig[]) => JSON.stringify(ts.map((t) => [t.name, t.image, t.dockerfile, t.discovery]));
          if (key(now) !== key(w.targets)) {
            this.log.info(`${w.repo.root}: zero-config targets changed (${reason}): ${now.map((t) => t.name).join(', ') || 'none'}`);
            this.rediscover();
            return;
          }
        }
      } catch (err) {
        this.log.debug(`zero-config discovery failed: ${String(err)}`);
      } finally {
        this.rediscovering = undefined;
      }
    })();
  }

  private onSaved(uri: vscode.Uri): void {
    if (path.basename(uri.fsPath) === CONFIG_FILE) return; // the file watcher rediscovers
    if (isDockerfileName(uri.fsPath)) {
      this.worktreeChanged();
      this.zeroConfigChanged(`saved ${path.basename(uri.fsPath)}`);
    }
    const inputOf = [...this.inputsOf(uri).map((x) => x.state), ...this.states.filter((s) => s.status?.snapshot.target.dockerfile && uri.fsPath === path.join(s.repo.root, s.status.snapshot.target.dockerfile))];
    if (inputOf.length > 0) {
      for (const s of inputOf) this.worktreeChanged(s.repo.root);
      this.refresh(`saved ${path.basename(uri.fsPath)}`);
    }
  }

  private async watchGit(): Promise<void> {
    for (const d of this.gitSubscriptions) d.dispose();
    this.gitSubscriptions = [];
    const api: GitApi | undefined = await getGitApi();
    if (!api) {
      // The built-in Git extension is off (it is in Restricted Mode): watch HEAD's reflog file
      // instead. No process runs until HEAD really moves.
      this.log.info('The built-in Git extension is not available; watching HEAD through the reflog.');
      for (const w of this.workspaces) this.watchReflog(w.repo);
      return;
    }
    const track = (r: GitRepository) => {
      const root = r.rootUri.fsPath;
      const repo = this.workspaces.find((w) => w.repo.root === root)?.repo;
      if (!repo) return;
      this.heads.set(root, r.state.HEAD?.commit);
      let committed = false;
      if (r.onDidCommit) this.gitSubscriptions.push(r.onDidCommit(() => (committed = true)));
      this.gitSubscriptions.push(
        r.state.onDidChange(() => {
          // The Git extension saw the work tree, the index or HEAD change: uncommitted changes
          // are asked again on the next refresh (which only a HEAD move starts here).
          this.worktreeChanged(root);
          const head = r.state.HEAD?.commit;
          const before = this.heads.get(root);
          if (head === before || !head) return;
          this.heads.set(root, head);
          this._onDidChangeHead.fire({ repo, from: before, to: head, committed });
          committed = false;
          this.refresh('HEAD moved');
        }),
      );
    };
    api.repositories.forEach(track);
    this.gitSubscriptions.push(api.onDidOpenRepository(track));
  }

  private watchReflog(repo: RepoInfo): void {
    const file = path.join(repo.gitDir, 'logs', 'HEAD');
    let timer: NodeJS.Timeout | undefined;
    const check = async () => {
      try {
        const head = await readHead(repo);
        const before = this.heads.get(repo.root);
        if (!head.sha || head.sha === before) return;
        this.heads.set(repo.root, head.sha);
        this.worktreeChanged(repo.root);
        if (before !== undefined) this._onDidChangeHead.fire({ repo, from: before, to: head.sha, committed: false });
        this.refresh('HEAD moved (reflog)');
      } catch (err) {
        this.log.debug(`reflog check failed: ${String(err)}`);
      }
    };
    void check();
    try {
      const watcher = watch(path.dirname(file), (_event, name) => {
        if (name !== 'HEAD') return;
        clearTimeout(timer);
        timer = setTimeout(() => void check(), 200);
      });
      this.gitSubscriptions.push(new vscode.Disposable(() => {
        clearTimeout(timer);
        watcher.close();
      }));
    } catch (err) {
      this.log.info(`Cannot watch ${file}: ${String(err)}; relying on saves and the fallback poll.`);
    }
  }

  private watchDocker(): void {
    const hosts = new Map<string, ReturnType<typeof resolveDockerEndpoints>[number]>();
    for (const w of this.workspaces) {
      // Zero-config watches the default engine even before it found a target there.
      const endpointLists = [...w.targets.map((t) => t.endpoints), ...(w.config.file === null ? [[]] : [])];
      for (const targetEndpoints of endpointLists) {
        try {
          for (const ep of resolveDockerEndpoints({ targetEndpoints: this.restricted ? [] : targetEndpoints })) hosts.set(ep.host, ep);
        } catch {
          /* a malformed endpoint shows up as docker-unreachable in the snapshot */
        }
      }
    }
    // The daemons found inside Docker-in-Docker containers at the last refresh: their events count too.
    for (const s of this.states) for (const ep of s.status?.dockerEndpoints ?? []) if (ep.via && !hosts.has(ep.host)) hosts.set(ep.host, ep);
    for (const [host, w] of this.dockerWatchers) {
      if (!hosts.has(host)) {
        w.dispose();
        this.dockerWatchers.delete(host);
        this.dockerConnected.delete(host);
      }
    }
    for (const [host, ep] of hosts) {
      if (this.dockerWatchers.has(host)) continue;
      this.dockerWatchers.set(
        host,
        watchDockerEvents(ep, {
          onEvent: (e) => {
            if (e.type === 'image' && !ep.via) this.zeroConfigChanged(`docker image ${e.action}`);
            if (this.concerns(e)) this.refresh(`docker ${e.type} ${e.action}${ep.via ? ` in ${ep.via.name}` : ''}`);
            else if (!ep.via && e.type === 'container' && e.action === 'start') {
              // A sandbox that starts: read its daemon (only a Docker-in-Docker container matters).
              void isDockerInDockerContainer(ep, e.id).then((dind) => dind && this.refresh('docker-in-docker container started'));
            }
          },
          onConnection: (connected, reason) => {
            const was = this.dockerConnected.get(host);
            this.dockerConnected.set(host, connected);
            this.log.info(connected ? `Docker events connected: ${host}` : `Docker events lost: ${host}: ${reason ?? ''}`);
            if (was !== undefined || !connected) void this.refreshNow(connected ? 'docker back' : 'docker gone');
          },
        }),
      );
    }
  }

  /** Whether a Docker event can change a snapshot: its image matches a target, or it is about an image or container we show. */
  private concerns(e: DockerEvent): boolean {
    if (e.image && this.states.some((s) => s.target.image && imageRefMatches(s.target.image, e.image!))) return true;
    for (const s of this.states) {
      const snap = s.status?.snapshot;
      if (!snap) continue;
      if (snap.built && (snap.built.imageId === e.id || snap.built.imageId === `sha256:${e.id}`)) return true;
      if (snap.running.some((r) => r.containerId === e.id || r.imageId === e.id || r.imageId === `sha256:${e.id}`)) return true;
    }
    // A sandbox whose daemon was read stops or goes away.
    if (this.states.some((s) => s.status?.dockerEndpoints?.some((ep) => ep.via?.container === e.id))) return true;
    return false;
  }

  private startPoll(): void {
    clearInterval(this.poll);
    const seconds = Math.max(60, vscode.workspace.getConfiguration('buildProvenance').get<number>('pollIntervalSeconds', 120));
    this.poll = setInterval(() => {
      // The fallback covers what events miss, the work tree included.
      this.worktreeChanged();
      this.zeroConfigChanged('fallback poll');
      this.refresh('fallback poll');
    }, seconds * 1000);
  }

  dispose(): void {
    clearTimeout(this.timer);
    clearInterval(this.poll);
    this.inflight?.abort();
    for (const w of this.dockerWatchers.values()) w.dispose();
    this.dockerWatchers.clear();
    for (const d of [...this.gitSubscriptions, ...this.disposables]) d.dispose();
  }
}
