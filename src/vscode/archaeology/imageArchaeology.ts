// What the archaeology features (which image contains a commit, suspects, marks, the timeline)
// share in the editor: a target's image history from the core, and opening a commit's diff.
import * as vscode from 'vscode';
import { loadTargetHistory, type TargetHistory } from '../../core/archaeology/imageHistory';
import type { Workspace } from '../../core/status/workspace';
import { openRevisionDiff, revisionUri } from '../gitContent';
import type { TargetState } from '../provenanceModel';

/** The core's Workspace for one target of the model. */
export function workspaceOf(s: TargetState): Workspace {
  return { repo: s.repo, config: { file: null, targets: [s.target] }, targets: [s.target] };
}

/**
 * The target's image history (all endpoints, stopped containers, ledger, reflog). In Restricted
 * Mode the workspace's own Docker endpoints are not used (as everywhere in the extension).
 */
export function historyOf(s: TargetState, restricted: boolean, signal?: AbortSignal): Promise<TargetHistory> {
  const target = restricted ? { ...s.target, endpoints: [] } : s.target;
  return loadTargetHistory(workspaceOf({ ...s, target }), target, { signal });
}

/** The diff a commit made to the given (input) files: one editor for one file, a multi-file diff for several. */
export async function openCommitDiff(root: string, sha: string, files: string[]): Promise<void> {
  if (files.length === 0) return;
  if (files.length === 1) {
    await openRevisionDiff(root, files[0], `${sha}^`, sha);
    return;
  }
  const resources = files.map((f) => [vscode.Uri.file(`${root}/${f}`), revisionUri(root, f, `${sha}^`), revisionUri(root, f, sha)]);
  try {
    await vscode.commands.executeCommand('vscode.changes', `${sha.slice(0, 8)}: ${files.length} input files`, resources);
  } catch {
    // An editor without the multi-file diff: the first file.
    await openRevisionDiff(root, files[0], `${sha}^`, sha);
  }
}
