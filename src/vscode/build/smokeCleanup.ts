// Smoke containers (and the created-never-started containers that read an image) never outlive the editor: live ones are removed on dispose/deactivate, and
// strays of a window or CLI that died (SIGKILL, crash) are removed quietly once the workspace is
// trusted — only then, since the targets' Docker endpoints come from the workspace.
import * as vscode from 'vscode';
import { buildEndpoint } from '../../core/build/engine';
import { disposeAllSmokeContainers, removeStraySmokeContainers } from '../../core/build/smoke';
import { removeLiveReadContainers, removeStrayReadContainers } from '../../core/docker/archiveReader';
import type { DockerEndpoint } from '../../core/types';
import type { ProvenanceModel } from '../provenanceModel';

export class SmokeCleanup implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly model: ProvenanceModel,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(vscode.workspace.onDidGrantWorkspaceTrust(() => void this.removeStrays()));
    // After activate() returns: waiting for the model starts its discovery, which reads files.
    if (vscode.workspace.isTrusted) setImmediate(() => void this.removeStrays());
  }

  /** Removes smoke containers whose process is gone, on every endpoint of the workspace's targets. Never throws. */
  async removeStrays(): Promise<string[]> {
    if (!vscode.workspace.isTrusted) return [];
    try {
      await this.model.ready();
      const endpoints = new Map<string, DockerEndpoint>();
      for (const s of this.model.visibleTargets) {
        try {
          const ep = buildEndpoint(s.target);
          endpoints.set(ep.host, ep);
        } catch {
          /* a bad endpoint is reported by the status bar */
        }
      }
      const removed: string[] = [];
      for (const ep of endpoints.values()) {
        try {
          removed.push(...(await removeStraySmokeContainers(ep)), ...(await removeStrayReadContainers(ep)));
        } catch (err) {
          this.log.debug(`stray smoke containers on ${ep.host} not checked: ${String(err)}`);
        }
      }
      if (removed.length) this.log.info(`Removed ${removed.length} stray smoke or verification container(s) left by an ended process: ${removed.join(', ')}`);
      return removed;
    } catch (err) {
      this.log.debug(`stray smoke container check failed: ${String(err)}`);
      return [];
    }
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    // Not awaited (dispose is synchronous); deactivate() awaits the same removal.
    void removeLiveSmokeContainers();
  }
}

/** For deactivate(): VS Code waits for the returned promise, so the containers are really gone. */
export function removeLiveSmokeContainers(): Promise<void> {
  return Promise.all([disposeAllSmokeContainers(), removeLiveReadContainers()]).then(
    () => undefined,
    () => undefined,
  );
}
