// The status-bar drift indicator: one item per target in each repository of the workspace.
import * as vscode from 'vscode';
import { deployedView, type DriftSnapshot } from '../../core/status/driftModel';
import { discoveryWords } from '../../core/config';
import { verdictWords } from '../../core/status/verification';
import { ago, agoSeconds, shortSha } from '../../core/humanize';
import { SafeMarkdown } from '../markdown';
import type { ProvenanceModel, TargetState } from '../provenanceModel';

export const STATUS_MENU_COMMAND = 'buildProvenance.statusMenu';

export interface StatusPresentation {
  text: string;
  background?: 'warning' | 'error';
  /** Short state word for accessibility and tests. */
  state: string;
}

/** What the item shows for a target. Pure, so tests can check it without the UI. */
export function presentStatus(s: TargetState, thresholdHours: number, multiRoot: boolean): StatusPresentation {
  const name = multiRoot ? `${s.target.name} (${s.folder.name})` : s.target.name;
  if (s.error) return { text: `$(error) ${name}: ${s.error.message.length > 40 ? 'error' : s.error.message}`, state: 'error', background: 'error' };
  const snap = s.status?.snapshot;
  if (!snap) return { text: `$(sync~spin) ${name}`, state: 'loading' };
  switch (snap.state) {
    case 'in-sync':
      return { text: `$(check) ${name}`, state: snap.state };
    case 'drift-irrelevant':
      return { text: `$(check) ${name} · ${snap.undeployed.total} behind`, state: snap.state };
    case 'drift': {
      const age = snap.undeployed.oldestRelevantAgeSeconds ?? 0;
      return {
        text: `$(warning) ${name}: ${snap.undeployed.relevantCount} undeployed`,
        state: snap.state,
        background: age > thresholdHours * 3600 ? 'error' : 'warning',
      };
    }
    case 'uncommitted':
      return { text: `$(diff-modified) ${name}: uncommitted changes`, state: snap.state, background: 'warning' };
    case 'diverged':
      return { text: `$(git-compare) ${name}: diverged`, state: snap.state, background: 'warning' };
    case 'unknown-revision':
      return { text: `$(question) ${name}: unknown revision`, state: snap.state };
    case 'unlabeled':
      return { text: `$(question) ${name}: unlabeled image`, state: snap.state };
    case 'contradicts-label':
      return { text: `$(error) ${name}: label contradicts content`, state: snap.state, background: 'error' };
    case 'no-image':
      return { text: `$(circle-large-outline) ${name}: no image`, state: snap.state };
    case 'no-container': {
      const n = snap.undeployed.relevantCount;
      return { text: `$(debug-stop) ${name}: not running${n ? ` · ${n} unbuilt` : ''}`, state: snap.state };
    }
    case 'docker-unreachable':
      return { text: `$(circle-slash) Docker unreachable`, state: snap.state, background: 'warning' };
  }
}

export function statusTooltip(s: TargetState, restricted: boolean): vscode.MarkdownString {
  const m = new SafeMarkdown();
  m.raw('**Build Provenance** — ').text(s.target.name).raw(' (').code(s.target.image || '?').raw(')').para();
  if (s.target.discovery) m.raw('*Found* ').text(discoveryWords(s.target.discovery)).para();
  if (s.error) {
    m.text(s.error.message).para().raw('*What to do:* ').text(s.error.hint);
    return m.md;
  }
  const snap = s.status?.snapshot;
  if (!snap) return m.raw('Reading git and Docker…').md;
  m.text(snap.summary);
  if (snap.hint) m.line().raw('*Next:* ').text(snap.hint);
  m.para();
  if (appendContent(m, snap)) m.para();
  appendLevels(m, snap);
  if (snap.undeployed.relevant.length > 0) {
    m.para().raw(`**Undeployed changes to image inputs** (${snap.undeployed.relevantCount} of ${snap.undeployed.total} commits, newest first)`).para();
    for (const c of snap.undeployed.relevant.slice(0, 8)) {
      m.raw('- ').code(shortSha(c.sha)).raw(' ').text(c.subject).raw(` — ${ago(c.date)} ago`).line();
    }
    if (snap.undeployed.relevantCount > 8) m.raw(`- … ${snap.undeployed.relevantCount - 8} more`).line();
  }
  if (snap.uncommitted.length > 0) m.para().raw(`**Uncommitted changes to inputs:** ${snap.uncommitted.length}`);
  for (const u of snap.docker.unreachable) m.para().raw('$(warning) Docker at ').code(u.endpoint).raw(' is unreachable, so its images and containers are not counted: ').text(u.reason);
  if (restricted) m.para().raw('$(shield) Restricted Mode: uncommitted changes are not checked and nothing the workspace configures runs.');
  return m.md;
}

/** What the bytes of what runs say: verified by content, derived from content, or a contradicted label. */
export function appendContent(m: SafeMarkdown, snap: DriftSnapshot): boolean {
  const v = deployedView(snap)?.verification;
  if (!v) return false;
  const files = `${v.matched} of ${v.checked} baked file${v.checked === 1 ? '' : 's'}`;
  switch (v.state) {
    case 'verified':
      m.raw('$(verified) **Verified by content**: ').raw(`${files} are the label's`);
      if (v.checked > v.matched) m.raw(' (the others changed in the image, or are not in it)');
      break;
    case 'consistent':
      m.raw('$(verified) **Revision derived from content**: ').raw(`${files} match `).code(shortSha(v.against ?? ''));
      if (v.consistentWith) m.raw(' (consistent with ').code(shortSha(v.consistentWith.oldest)).raw('..').code(shortSha(v.consistentWith.newest)).raw(')');
      if (v.uncertain?.count) m.raw(`; ${v.uncertain.count} commit${v.uncertain.count === 1 ? '' : 's'} in between change inputs whose bytes cannot be read back: maybe in it, maybe not`);
      break;
    case 'contradicts-label': {
      m.raw('$(error) **Label contradicts content**');
      for (const f of v.files.filter((x) => x.verdict === 'other-version').slice(0, 3)) m.line().raw('- ').code(f.path).raw(' ').text(verdictWords(f, v.against));
      break;
    }
    case 'unverifiable':
      m.raw('*Content not verified:* ').text(v.reason ?? '');
      break;
  }
  return true;
}

function appendLevels(m: SafeMarkdown, snap: DriftSnapshot): void {
  m.raw('| | |\n|---|---|\n');
  m.raw('| HEAD | ').code(shortSha(snap.head.sha)).raw(snap.head.detached ? ' (detached)' : '');
  if (snap.head.branch) m.raw(' ').text(snap.head.branch.replace(/\|/g, '/'));
  m.raw(snap.head.dirty ? ' + uncommitted |\n' : ' |\n');
  if (snap.built) {
    m.raw('| Built | ').code(snap.built.tags[0] ?? snap.built.imageId.slice(7, 19)).raw(' @ ');
    if (snap.built.revision) m.code(shortSha(snap.built.revision) + (snap.built.dirty ? '-dirty' : '')).raw(snap.built.revisionSource === 'content' ? ' (by content)' : '');
    else m.raw(snap.built.labelState);
    m.raw(`, ${ago(snap.built.created)} ago |\n`);
  } else m.raw('| Built | no image |\n');
  if (snap.running.length === 0) m.raw('| Running | no container |\n');
  for (const r of snap.running) {
    m.raw('| Running | ').code(r.name).raw(' @ ');
    if (r.revision) m.code(shortSha(r.revision) + (r.dirty ? '-dirty' : '')).raw(r.revisionSource === 'content' ? ' (by content)' : '');
    else m.raw(r.labelState);
    if (r.via) m.raw(' in ').code(r.via);
    m.raw(`, since ${ago(r.started)} |\n`);
  }
  if (snap.undeployed.oldestRelevantAgeSeconds !== null) m.raw(`| Waiting | oldest relevant change ${agoSeconds(snap.undeployed.oldestRelevantAgeSeconds)} |\n`);
}

export class StatusBar implements vscode.Disposable {
  private readonly items = new Map<string, vscode.StatusBarItem>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly model: ProvenanceModel) {
    this.disposables.push(
      model.onDidChange(() => this.render()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('buildProvenance.driftThresholdHours')) this.render();
      }),
    );
    this.render();
  }

  /** Current presentation per target key (for tests and the quick pick). */
  presentations(): Map<string, StatusPresentation> {
    const out = new Map<string, StatusPresentation>();
    const threshold = vscode.workspace.getConfiguration('buildProvenance').get<number>('driftThresholdHours', 4);
    const multi = (vscode.workspace.workspaceFolders?.length ?? 0) > 1;
    for (const s of this.model.visibleTargets) out.set(s.key, presentStatus(s, threshold, multi));
    return out;
  }

  private render(): void {
    const pres = this.presentations();
    for (const [key, item] of this.items) {
      if (!pres.has(key)) {
        item.dispose();
        this.items.delete(key);
      }
    }
    for (const s of this.model.visibleTargets) {
      const p = pres.get(s.key)!;
      let item = this.items.get(s.key);
      if (!item) {
        item = vscode.window.createStatusBarItem(`buildProvenance.status.${s.key}`, vscode.StatusBarAlignment.Left, 50);
        item.name = `Build Provenance: ${s.target.name}`;
        this.items.set(s.key, item);
      }
      item.text = p.text;
      item.backgroundColor = p.background ? new vscode.ThemeColor(`statusBarItem.${p.background}Background`) : undefined;
      item.tooltip = statusTooltip(s, this.model.restricted);
      item.accessibilityInformation = { label: `Build Provenance ${s.target.name}: ${s.status?.snapshot.summary ?? s.error?.message ?? 'loading'}` };
      item.command = { command: STATUS_MENU_COMMAND, title: 'Build Provenance', arguments: [s.key] };
      item.show();
    }
  }

  dispose(): void {
    for (const item of this.items.values()) item.dispose();
    this.items.clear();
    for (const d of this.disposables) d.dispose();
  }
}
