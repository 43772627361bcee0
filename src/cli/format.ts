// Human and JSON renderings of core results for the CLI.
import { discoveryWords, type TargetConfig } from '../core/config';
import { deployedView, type DriftSnapshot, type RevisionView } from '../core/status/driftModel';
import { verdictWords, type Verification } from '../core/status/verification';

export { verdictWords };
import type { DiffResult, InputsResult } from '../core/status/rangeQueries';
import type { BuildResult, HistoryEntry, SmokeRunResult } from '../core/build/engine';
import type { DeployImageResult } from '../core/build/deploy';
import type { SmokeResult } from '../core/build/smoke';
import type { AffectsResult } from '../core/types';
import { ago, clean } from '../core/humanize';

export { ago, clean };

export interface Style {
  bold: (s: string) => string;
  dim: (s: string) => string;
  red: (s: string) => string;
  green: (s: string) => string;
  yellow: (s: string) => string;
}

export function makeStyle(color: boolean): Style {
  const wrap = (open: number, close: number) => (s: string) => (color ? `\x1b[${open}m${s}\x1b[${close}m` : s);
  return { bold: wrap(1, 22), dim: wrap(2, 22), red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39) };
}

/** The stable `verification` shape (status, per container and for `built`; verify). */
export function verificationJson(v: Verification) {
  return {
    state: v.state,
    reason: v.reason,
    checked: v.checked,
    matched: v.matched,
    consistentWith: v.consistentWith,
    against: v.against,
    source: v.source,
    files: v.files.map((f) => ({
      path: f.path,
      destination: f.destination,
      verdict: f.verdict,
      blob: f.blob,
      matchesHead: f.matchesHead,
      versionOf: f.versionOf,
      reason: f.reason,
    })),
    uncertain: v.uncertain && { count: v.uncertain.count, commits: v.uncertain.commits.map((c) => ({ sha: c.sha, subject: c.subject, date: c.date, files: c.files })) },
  };
}

/**
 * The JSON of a per-target command: one object with one target selected, an array of them with
 * several. Every object carries `target`, the target's name (README: "JSON output").
 */
export function perTarget<T extends { target: string }>(objects: T[]): string {
  return JSON.stringify(objects.length === 1 ? objects[0] : objects, null, 2);
}

/** One `affects --json` element (README: the Dockerfile and ignore file have no line or stage). */
export function affectsJson(a: AffectsResult) {
  return { path: a.path, affects: a.affects, via: a.via };
}

/** The stable `inputs --json` shape. */
export function inputsJson(r: InputsResult) {
  return {
    target: r.target,
    image: r.image,
    dockerfile: r.dockerfile,
    context: r.context,
    ignoreFile: r.ignoreFile,
    pathspecs: r.pathspecs,
    pathspecsExact: r.pathspecsExact,
    pathspecsSuperset: r.pathspecsSuperset,
    external: r.external.map((e) => ({ keyword: e.keyword, instruction: e.instruction, line: e.line, source: e.source })),
    problems: r.problems,
  };
}

/** The stable `status --json` shape documented in README.md. */
export function statusJson(s: DriftSnapshot) {
  return {
    target: s.target.name,
    image: s.target.image,
    dockerfile: s.target.dockerfile,
    discovery: s.target.discovery ? { rule: s.target.discovery.rule, detail: s.target.discovery.detail } : null,
    state: s.state,
    summary: s.summary,
    hint: s.hint,
    head: { sha: s.head.sha, branch: s.head.branch, detached: s.head.detached, dirty: s.head.dirty },
    built: s.built
      ? {
          imageId: s.built.imageId,
          tags: s.built.tags,
          revision: s.built.revision,
          dirty: s.built.dirty,
          label: s.built.label,
          labelState: s.built.labelState,
          revisionSource: s.built.revisionSource,
          created: s.built.created,
          verification: s.built.verification && verificationJson(s.built.verification),
        }
      : null,
    running: s.running.map((r) => ({
      containerId: r.containerId,
      name: r.name,
      imageId: r.imageId,
      revision: r.revision,
      dirty: r.dirty,
      label: r.label,
      labelState: r.labelState,
      revisionSource: r.revisionSource,
      started: r.started,
      via: r.via,
      verification: r.verification && verificationJson(r.verification),
    })),
    undeployed: {
      against: s.undeployed.against,
      total: s.undeployed.total,
      relevantCount: s.undeployed.relevantCount,
      relevant: s.undeployed.relevant.map((c) => ({ sha: c.sha, subject: c.subject, author: c.author ?? null, date: c.date, files: c.files })),
      oldestRelevantDate: s.undeployed.oldestRelevantDate,
      oldestRelevantAgeSeconds: s.undeployed.oldestRelevantAgeSeconds,
      behind: s.undeployed.behind,
    },
    unbuilt: s.unbuilt,
    uncommitted: s.uncommitted,
    docker: { reachable: s.docker.reachable, reason: s.docker.reason, unreachable: s.docker.unreachable.map((u) => ({ endpoint: u.endpoint, reason: u.reason })) },
  };
}

/** `1ac9d5e8f0a2`, `1ac9d5e8f0a2 (by content)`, or the label state when there is no revision. */
function revisionText(r: RevisionView): string {
  if (!r.revision) return r.labelState;
  return `${r.revision.slice(0, 12)}${r.dirty ? '-dirty' : ''}${r.revisionSource === 'content' ? ' (by content)' : ''}`;
}

/** One line of what the deployed reference's bytes say (status prints it under the levels). */
export function contentLine(s: DriftSnapshot): string | null {
  const v = deployedView(s)?.verification;
  if (!v) return null;
  const files = `${v.matched} of ${v.checked} baked file${v.checked === 1 ? '' : 's'}`;
  switch (v.state) {
    case 'verified':
      return `verified: ${files} are the label's${v.checked > v.matched ? ` (the rest changed in the image, or are not in it)` : ''}`;
    case 'consistent': {
      const iv = v.consistentWith!;
      const u = v.uncertain?.count ? `; ${v.uncertain.count} commit(s) in between change inputs that cannot be read back` : '';
      return `revision derived from ${files}: consistent with ${iv.oldest.slice(0, 9)}..${iv.newest.slice(0, 9)}${u}`;
    }
    case 'contradicts-label': {
      const f = v.files.find((x) => x.verdict === 'other-version');
      return `label contradicts content${f ? `: ${f.path} → ${f.destination}: ${verdictWords(f, v.against)}` : ''}`;
    }
    case 'unverifiable':
      return `unverifiable: ${v.reason ?? 'no reason given'}`;
  }
}

const stateColour: Record<string, keyof Style> = {
  'in-sync': 'green',
  'drift-irrelevant': 'green',
  drift: 'yellow',
  uncommitted: 'yellow',
  'no-container': 'yellow',
  diverged: 'red',
  'unknown-revision': 'red',
  unlabeled: 'red',
  'contradicts-label': 'red',
  'no-image': 'red',
  'docker-unreachable': 'red',
};

export function formatStatus(s: DriftSnapshot, st: Style): string {
  const paint = st[stateColour[s.state] ?? 'bold'];
  const lines: string[] = [];
  lines.push(`${st.bold(clean(s.target.name))} ${paint(`[${s.state}]`)} ${clean(s.summary)}`);
  if (s.hint) lines.push(`  ${st.dim('→')} ${clean(s.hint)}`);
  if (s.target.discovery) lines.push(`  Found    ${clean(discoveryWords(s.target.discovery))}`);
  const head = `${s.head.sha.slice(0, 12)}${s.head.detached ? ' (detached)' : s.head.branch ? ` (${clean(s.head.branch)})` : ''}${s.head.dirty ? ' + uncommitted input changes' : ''}`;
  lines.push(`  HEAD     ${head}`);
  if (s.built) {
    const rev = revisionText(s.built);
    const tag = s.built.tags[0] ?? s.built.imageId.replace(/^sha256:/, '').slice(0, 12);
    const gap = s.unbuilt ? `, ${s.unbuilt.total} commit(s) behind HEAD, ${s.unbuilt.relevantCount} relevant` : '';
    lines.push(`  Built    ${clean(tag)} @ ${rev}, ${ago(s.built.created)} ago${gap}`);
  } else {
    lines.push(`  Built    ${st.dim('(no image)')}`);
  }
  if (s.running.length === 0) lines.push(`  Running  ${st.dim('(no container)')}`);
  for (const r of s.running) {
    const rev = revisionText(r);
    lines.push(`  Running  ${clean(r.name)} @ ${rev}${r.via ? ` in ${clean(r.via)}` : ''}, since ${ago(r.started)} ago`);
  }
  const content = contentLine(s);
  if (content) lines.push(`  Content  ${clean(content)}`);
  if (s.undeployed.relevantCount > 0) {
    const age = s.undeployed.oldestRelevantDate ? ` — oldest waiting ${ago(s.undeployed.oldestRelevantDate)}` : '';
    lines.push(`  Undeployed changes to image inputs (${s.undeployed.relevantCount} of ${s.undeployed.total} commits)${age}:`);
    for (const c of s.undeployed.relevant) {
      lines.push(`    ${st.yellow(c.sha.slice(0, 10))} ${clean(c.subject)} ${st.dim(`(${ago(c.date)} ago)`)}`);
      for (const f of c.files.slice(0, 8)) lines.push(`      ${clean(f)}`);
      if (c.files.length > 8) lines.push(`      … ${c.files.length - 8} more`);
    }
    if (s.undeployed.relevantCount > s.undeployed.relevant.length) {
      lines.push(`    … ${s.undeployed.relevantCount - s.undeployed.relevant.length} older (provenance diff shows them all)`);
    }
  }
  for (const u of s.docker.unreachable) {
    lines.push(`  ${st.red('Docker')}   ${clean(u.endpoint)} unreachable (its images and containers are not counted): ${clean(u.reason)}`);
  }
  if (s.uncommitted.length > 0) {
    lines.push(`  Uncommitted input changes:`);
    for (const f of s.uncommitted.slice(0, 20)) lines.push(`    ${clean(f)}`);
    if (s.uncommitted.length > 20) lines.push(`    … ${s.uncommitted.length - 20} more`);
  }
  return lines.join('\n');
}

export function formatDiff(t: TargetConfig, r: DiffResult, st: Style): string {
  const lines = [
    `${st.bold(clean(t.name))}: ${r.relevant.length} of ${r.total} commit(s) in ${r.from.slice(0, 12)}..${r.to.slice(0, 12)} change files baked into ${clean(t.image)}`,
  ];
  for (const c of r.relevant) {
    lines.push(`  ${st.yellow(c.sha.slice(0, 12))} ${c.date.slice(0, 16).replace('T', ' ')} ${clean(c.subject)}`);
    for (const f of c.files) lines.push(`      ${clean(f)}`);
  }
  return lines.join('\n');
}

/** How the human output names a path that no instruction bakes in. */
const SPECIAL_VIA: Record<string, string> = { '(Dockerfile)': 'the Dockerfile itself', '(ignore file)': 'its ignore file' };

export function formatAffects(t: TargetConfig, results: AffectsResult[], st: Style): string {
  const lines: string[] = [];
  for (const r of results) {
    if (!r.affects) {
      lines.push(`${clean(r.path)}: ${st.dim(`not an input of ${clean(t.image)}`)}`);
      continue;
    }
    lines.push(`${clean(r.path)}: ${st.yellow(`baked into ${clean(t.image)}`)}`);
    for (const v of r.via) {
      if (v.line === null) {
        lines.push(`  ${clean(v.dockerfile)}: ${SPECIAL_VIA[v.instruction] ?? clean(v.instruction.replace(/^\((.*)\)$/, '$1'))}`);
        continue;
      }
      const dest = v.destination ? ` → ${clean(v.destination)}` : '';
      lines.push(`  ${clean(v.dockerfile)}:${v.line} [stage ${clean(v.stage ?? '')}] ${clean(v.instruction)}${dest}`);
    }
  }
  return lines.join('\n');
}

export function formatInputs(r: InputsResult, st: Style): string {
  const lines = [
    `${st.bold(clean(r.target))} (${clean(r.image)}): ${clean(r.dockerfile)}, context ${clean(r.context)}, ignore file ${r.ignoreFile ? clean(r.ignoreFile) : '(none)'}`,
    '  Inputs (git pathspecs):',
    ...r.pathspecs.map((p) => `    ${clean(p)}`),
  ];
  if (!r.pathspecsExact) {
    lines.push('  These pathspecs select more than the inputs (provenance narrows them itself):');
    for (const why of r.pathspecsSuperset) lines.push(`    ${clean(why)}`);
  }
  if (r.external.length) {
    lines.push('  External inputs:');
    for (const e of r.external) lines.push(`    line ${e.line}: ${clean(e.source)} (${clean(e.instruction)})`);
  }
  if (r.problems.length) {
    lines.push('  Problems:');
    for (const p of r.problems) lines.push(`    line ${p.line}: ${clean(p.message)}`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// build / smoke / history (README: "build, smoke and history")

function smokeJson(s: SmokeResult | null) {
  return s
    ? { result: s.result, reason: s.reason, failure: s.failure, exitCode: s.exitCode, logTail: s.logTail, durationMs: s.durationMs }
    : null;
}

/** The stable `build --json` shape. */
export function buildJson(r: BuildResult) {
  return {
    target: r.target,
    ok: r.ok,
    result: r.result,
    mode: r.mode,
    builder: r.builder,
    imageId: r.imageId,
    tags: r.tags,
    revision: r.revision,
    dirty: r.dirty,
    inputHash: r.inputHash,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    error: r.error,
    hint: r.hint,
    guidance: r.guidance,
    smoke: smokeJson(r.smoke),
    ledgerId: r.ledgerId,
    ledgerError: r.ledgerError,
  };
}

/** The stable `smoke --json` shape. */
export function smokeRunJson(r: SmokeRunResult) {
  return { target: r.target, ok: r.ok, imageId: r.imageId, revision: r.revision, dirty: r.dirty, smoke: smokeJson(r.smoke), ledgerId: r.ledgerId, ledgerError: r.ledgerError };
}

/** The stable `deploy --json` shape. */
export function deployJson(r: DeployImageResult) {
  return { target: r.target, ok: r.ok, mode: r.mode, imageId: r.imageId, tags: r.tags, revision: r.revision, smoke: r.smoke, replaced: r.replaced, error: r.error, ledgerId: r.ledgerId, ledgerError: r.ledgerError };
}

export function formatDeploy(r: DeployImageResult, st: Style): string {
  const img = `${r.imageId.replace(/^sha256:/, '').slice(0, 12)}${r.revision ? ` (${r.revision.slice(0, 12)})` : ''}`;
  if (!r.ok) return `${st.bold(clean(r.target))}: ${r.error === 'cancelled' ? st.yellow('deploy cancelled') : st.red('deploy FAILED')} for ${img}: ${clean(r.error ?? '')}`;
  const what =
    r.mode === 'replace-container'
      ? r.replaced.length
        ? `replaced ${r.replaced.map((x) => clean(x.name)).join(', ')}`
        : 'no running container to replace'
      : 'the deploy command finished';
  return `${st.bold(clean(r.target))}: ${st.green('deployed')} ${img}: ${what}${r.ledgerId ? st.dim(` (ledger ${r.ledgerId})`) : ''}`;
}

/** The stable `history --json` shape: one element per ledger record, newest first. */
export function historyJson(e: HistoryEntry) {
  return {
    id: e.id,
    kind: e.kind,
    target: e.target,
    revision: e.revision,
    dirty: e.dirty,
    inputHash: e.inputHash,
    imageId: e.imageId,
    tags: e.tags,
    mode: e.mode,
    builder: e.builder ?? null,
    startedAt: e.startedAt,
    endedAt: e.endedAt,
    result: e.result,
    smoke: e.smoke,
    error: e.error,
    present: e.present,
    currentTags: e.currentTags,
    passed: e.passed,
    verdict: e.verdict ?? null,
    logExcerpt: e.logExcerpt,
  };
}

function seconds(fromIso: string, toIso: string): string {
  return `${((Date.parse(toIso) - Date.parse(fromIso)) / 1000).toFixed(1)} s`;
}

function smokeLine(s: SmokeResult, st: Style): string[] {
  if (s.result === 'passed') return [`  smoke test ${st.green('passed')} (${(s.durationMs / 1000).toFixed(1)} s)`];
  const lines = [`  smoke test ${s.result === 'cancelled' ? st.yellow('cancelled') : st.red('FAILED')}: ${clean(s.reason ?? '')}`];
  if (s.result === 'failed' && s.logTail.length) {
    lines.push('  container log (last lines):');
    for (const l of s.logTail.slice(-20)) lines.push(`    ${clean(l)}`);
  }
  return lines;
}

function withBuilder(r: BuildResult): string {
  return r.builder === 'buildkit' ? ' with BuildKit' : r.builder === 'classic' ? ' with the classic builder' : '';
}

export function formatBuild(r: BuildResult, st: Style): string {
  const rev = `${r.revision.slice(0, 12)}${r.dirty ? '-dirty' : ''}`;
  const lines: string[] = [];
  if (r.result === 'success' || (r.imageId && r.smoke)) {
    const img = r.imageId ? r.imageId.replace(/^sha256:/, '').slice(0, 12) : '(no new image)';
    // The image was built either way; a failed or cancelled smoke test says so on the headline too.
    const smoke = r.ok || !r.smoke ? '' : r.smoke.result === 'cancelled' ? `, ${st.yellow('smoke test cancelled')}` : `, ${st.red('smoke test FAILED')}`;
    lines.push(`${st.bold(clean(r.target))}: ${r.ok ? st.green('built') : 'built'} ${img} from ${rev} in ${seconds(r.startedAt, r.endedAt)}${withBuilder(r)}${r.tags.length ? ` — ${r.tags.map(clean).join(', ')}` : ''}${smoke}`);
  } else {
    const verdict = r.result === 'cancelled' ? st.yellow('build cancelled') : st.red('build FAILED');
    lines.push(`${st.bold(clean(r.target))}: ${verdict} at ${rev}${withBuilder(r)}: ${clean(r.error ?? '')}`);
    if (r.hint) lines.push(`  ${st.yellow('!')} ${clean(r.hint)}`);
  }
  if (r.smoke) lines.push(...smokeLine(r.smoke, st));
  if (r.guidance) lines.push(...r.guidance.split('\n').map((l) => `  ${st.yellow('!')} ${clean(l)}`));
  if (r.ledgerId) lines.push(st.dim(`  recorded in the build ledger as ${r.ledgerId} (provenance history)`));
  return lines.join('\n');
}

export function formatSmokeRun(r: SmokeRunResult, st: Style): string {
  const rev = r.revision ? `${r.revision.slice(0, 12)}${r.dirty ? '-dirty' : ''}` : 'unlabeled';
  const lines = [`${st.bold(clean(r.target))}: smoke test of ${r.imageId.replace(/^sha256:/, '').slice(0, 12)} (${rev})`, ...smokeLine(r.smoke, st)];
  if (r.ledgerId) lines.push(st.dim(`  recorded in the build ledger as ${r.ledgerId}`));
  return lines.join('\n');
}

export function formatHistory(entries: HistoryEntry[], st: Style): string {
  if (entries.length === 0) return 'The build ledger is empty: no build or smoke test was run from this clone yet (provenance build).';
  return entries
    .map((e) => {
      const when = e.startedAt.slice(0, 16).replace('T', ' ');
      const rev = e.revision ? `${e.revision.slice(0, 12)}${e.dirty ? '-dirty' : ''}` : 'unlabeled';
      const state = e.present === null ? '?' : e.present ? (e.currentTags.length ? e.currentTags.map(clean).join(',') : 'untagged') : st.dim('gone');
      const img = e.imageId ? `${e.imageId.replace(/^sha256:/, '').slice(0, 12)} [${state}]` : '-';
      const why = e.result === 'failure' && e.error ? ` — ${clean(e.error.split('\n')[0]).slice(0, 100)}` : '';
      return `${when}  ${clean(e.target)}  ${historyKind(e).padEnd(6)}  ${rev}  ${img}  ${historyOutcome(e, st)}${why}`;
    })
    .join('\n');
}

/** The kind column: a `mark` without a verdict is a deploy step, so it says `deploy` (the ledger and --json keep `mark`). */
function historyKind(e: HistoryEntry): string {
  return e.kind === 'mark' && !e.verdict ? 'deploy' : e.kind;
}

/** What one ledger record says: a verdict, a deploy, a smoke test, or a build and its smoke test. */
function historyOutcome(e: HistoryEntry, st: Style): string {
  const smoke = (r: 'passed' | 'failed' | 'cancelled') => (r === 'passed' ? st.green('smoke passed') : r === 'failed' ? st.red('smoke failed') : st.yellow('smoke cancelled'));
  if (e.kind === 'mark') {
    if (e.verdict) return e.verdict === 'good' ? st.green('marked good') : st.red('marked bad');
    return e.result === 'success' ? st.green('deployed') : e.result === 'cancelled' ? st.yellow('deploy cancelled') : st.red('deploy failed');
  }
  if (e.kind === 'smoke') return e.smoke ? smoke(e.smoke.result) : e.result === 'cancelled' ? smoke('cancelled') : smoke(e.result === 'success' ? 'passed' : 'failed');
  const built = e.result === 'success' ? st.green('ok') : e.result === 'cancelled' ? st.yellow('cancelled') : st.red('failed');
  // This run's own smoke test; else what the image's other smoke tests said.
  const tested = e.smoke ? smoke(e.smoke.result) : e.passed === null ? st.dim('not smoke-tested') : `${e.passed ? st.green('smoke passed') : st.red('smoke failed')}${st.dim(' (another run)')}`;
  return `${built}  ${tested}`;
}
