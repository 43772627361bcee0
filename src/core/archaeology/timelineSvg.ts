// Draws TimelineData as SVG, hand-rendered from data (no charting library: the picture is a few
// dozen rects, circles and lines on one time axis, and a library would add weight and its own DOM
// and styling rules to a strict-CSP webview). The same renderer serves the editor's webview and
// `provenance timeline --html`. Every untrusted string (subjects, names, tags, files) is escaped
// for XML/HTML. Colours come from CSS variables: VS Code's theme in the webview, light/dark
// defaults in the shared file.
import type { TimelineBuild, TimelineCommit, TimelineData } from './timeline';

export interface RenderOptions {
  /** Offset from UTC for the axis labels, in minutes (e.g. 60 for UTC+01:00). Default 0. */
  utcOffsetMinutes?: number;
  /** Width of the picture in px. */
  width?: number;
}

const ROW = 22;
const RUN_ROW = 18;
const GUTTER = 300;
const RIGHT = 150;
const BREAK_PX = 44;
const MIN_CLUSTER_PX = 70;

/** Escapes text for XML/HTML element content and attribute values, and drops control characters. */
export function esc(s: string): string {
  return (
    s
      // eslint-disable-next-line no-control-regex
      .replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, '?')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&#39;')
  );
}

/** "45 s", "12 min", "4.5 h", "31 h", "3.2 d". */
export function formatDuration(seconds: number): string {
  const s = Math.abs(seconds);
  const sign = seconds < 0 ? '−' : '';
  if (s < 90) return `${sign}${Math.round(s)} s`;
  if (s < 90 * 60) return `${sign}${Math.round(s / 60)} min`;
  if (s < 10 * 3600) return `${sign}${(s / 3600).toFixed(1).replace(/\.0$/, '')} h`;
  if (s < 72 * 3600) return `${sign}${Math.round(s / 3600)} h`;
  return `${sign}${(s / 86400).toFixed(1).replace(/\.0$/, '')} d`;
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

const short = (sha: string | null) => (sha ? sha.slice(0, 7) : '?');
const imageShort = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

// ---------------------------------------------------------------------------------------------
// Time scale: linear within clusters of events; long empty gaps are cut to a fixed width and
// marked with their length, so a 31-hour wait and a burst of commits minutes apart both read.

export interface TimeScale {
  x(t: number): number;
  breaks: { x: number; seconds: number }[];
  clusters: { t0: number; t1: number; x0: number; x1: number }[];
}

export function timeScale(times: number[], x0: number, x1: number): TimeScale {
  const ts = [...new Set(times.filter((t) => Number.isFinite(t)))].sort((a, b) => a - b);
  if (ts.length === 0) ts.push(Date.now());
  const span = Math.max(ts[ts.length - 1] - ts[0], 60_000);
  // Only a gap that dominates the picture is cut: a long wait between commits and builds must
  // still look long.
  const breakGap = Math.max(span * 0.4, 2 * 3600_000);
  const groups: number[][] = [[ts[0]]];
  for (let i = 1; i < ts.length; i++) {
    if (ts[i] - ts[i - 1] > breakGap) groups.push([]);
    groups[groups.length - 1].push(ts[i]);
  }
  // Each cluster gets a margin of its own scale, so a burst of builds seconds apart stays apart.
  const raw = groups.map((g) => {
    const pad = Math.max((g[g.length - 1] - g[0]) * 0.06, 60_000);
    return { t0: g[0] - pad, t1: g[g.length - 1] + pad, pad };
  });
  const avail = x1 - x0 - BREAK_PX * (raw.length - 1);
  // Widths proportional to duration, but never below MIN_CLUSTER_PX.
  const widths = raw.map(() => 0);
  let fixed = new Set<number>();
  for (let iter = 0; iter < raw.length + 1; iter++) {
    const freeDur = raw.reduce((n, c, i) => n + (fixed.has(i) ? 0 : c.t1 - c.t0), 0);
    const freePx = avail - fixed.size * MIN_CLUSTER_PX;
    const k = freeDur > 0 ? freePx / freeDur : 0;
    const next = new Set(fixed);
    raw.forEach((c, i) => {
      widths[i] = fixed.has(i) ? MIN_CLUSTER_PX : (c.t1 - c.t0) * k;
      if (!fixed.has(i) && widths[i] < MIN_CLUSTER_PX) next.add(i);
    });
    if (next.size === fixed.size) break;
    fixed = next;
  }
  const clusters: TimeScale['clusters'] = [];
  const breaks: TimeScale['breaks'] = [];
  let x = x0;
  raw.forEach((c, i) => {
    if (i > 0) {
      breaks.push({ x: x + BREAK_PX / 2, seconds: (c.t0 + c.pad - (raw[i - 1].t1 - raw[i - 1].pad)) / 1000 });
      x += BREAK_PX;
    }
    clusters.push({ t0: c.t0, t1: c.t1, x0: x, x1: x + widths[i] });
    x += widths[i];
  });
  const knots: [number, number][] = clusters.flatMap((c) => [
    [c.t0, c.x0],
    [c.t1, c.x1],
  ]);
  return {
    breaks,
    clusters,
    x(t: number): number {
      if (t <= knots[0][0]) return knots[0][1];
      for (let i = 1; i < knots.length; i++) {
        const [ta, xa] = knots[i - 1];
        const [tb, xb] = knots[i];
        if (t <= tb) return tb === ta ? xb : xa + ((t - ta) / (tb - ta)) * (xb - xa);
      }
      return knots[knots.length - 1][1];
    },
  };
}

const STEPS = [60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400].map((s) => s * 1000);
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function ticksFor(c: TimeScale['clusters'][number], offsetMs: number): { t: number; label: string; major: boolean }[] {
  const pxPerMs = (c.x1 - c.x0) / Math.max(c.t1 - c.t0, 1);
  const step = STEPS.find((s) => s * pxPerMs >= 80) ?? STEPS[STEPS.length - 1];
  const out: { t: number; label: string; major: boolean }[] = [];
  let lastDay = '';
  const first = Math.ceil((c.t0 + offsetMs) / step) * step - offsetMs;
  for (let t = first; t <= c.t1; t += step) {
    const d = new Date(t + offsetMs);
    const day = `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}`;
    const hm = `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
    const major = day !== lastDay;
    out.push({ t, label: step >= 86400_000 ? day : major ? `${day} ${hm}` : hm, major });
    lastDay = day;
  }
  if (out.length === 0) {
    const t = (c.t0 + c.t1) / 2;
    const d = new Date(t + offsetMs);
    out.push({ t, label: `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()} ${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`, major: true });
  }
  return out;
}

function offsetLabel(min: number): string {
  if (min === 0) return 'UTC';
  const a = Math.abs(min);
  return `UTC${min < 0 ? '−' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

// ---------------------------------------------------------------------------------------------
// SVG

function buildTitle(b: TimelineBuild): string {
  const rev =
    b.revisionSource === 'inferred'
      ? `~${short(b.revision)} (inferred from the reflog, not recorded)`
      : b.revision
        ? `${short(b.revision)}${b.dirty ? '-dirty' : ''} (from its ${b.revisionSource === 'label' ? 'label' : b.revisionSource === 'content' ? 'content: the baked files' : 'build-ledger record'})`
        : 'unknown revision (unlabeled)';
  const smoke = b.smoke === 'passed' ? 'smoke test passed' : b.smoke === 'failed' ? 'smoke test FAILED' : 'not smoke-tested';
  const verdict = b.verdict ? ` · marked ${b.verdict}` : '';
  return `Build ${imageShort(b.imageId)}${b.tags.length ? ` (${b.tags.join(', ')})` : ''}\n${b.at}\nrevision ${rev}\n${smoke}${verdict}${b.present ? '' : '\nimage removed since (build ledger)'}`;
}

function commitTitle(c: TimelineCommit, thresholdHours: number): string {
  const lines = [`${short(c.sha)} ${c.subject}`, `${c.author ? `${c.author}, ` : ''}${c.date}`];
  lines.push(c.firstBuild ? `first built after ${formatDuration(c.lagBuildSeconds!)} (${imageShort(c.firstBuild.imageId)})` : `not built yet: waiting ${formatDuration(c.waitingSeconds ?? 0)}`);
  lines.push(c.firstRun ? `first ran after ${formatDuration(c.lagRunSeconds!)} (${c.firstRun.name})` : 'never ran yet');
  if (c.late) lines.push(`waited longer than the drift threshold (${thresholdHours} h)`);
  lines.push('Files baked into the image:', ...c.files.slice(0, 12).map((f) => `  ${f}`));
  if (c.files.length > 12) lines.push(`  … ${c.files.length - 12} more`);
  return lines.join('\n');
}

/** Greedy row assignment of horizontal extents (sorted by start) so they do not overlap; at most `max` rows. */
function placeRows(items: { a: number; b: number }[], max: number): number[] {
  const ends: number[] = [];
  return items.map((it) => {
    let row = ends.findIndex((e) => it.a > e + 4);
    if (row < 0 && ends.length < max) row = ends.push(-Infinity) - 1;
    if (row < 0) row = ends.indexOf(Math.min(...ends));
    ends[row] = Math.max(ends[row], it.b);
    return row;
  });
}

export function renderTimelineSvg(data: TimelineData, opts: RenderOptions = {}): string {
  const width = opts.width ?? 1200;
  const offsetMs = (opts.utcOffsetMinutes ?? 0) * 60_000;
  const now = Date.parse(data.generatedAt);
  const commits = [...data.commits].sort((a, b) => a.date.localeCompare(b.date));
  const builds = [...data.builds].sort((a, b) => a.at.localeCompare(b.at));
  const runs = [...data.runs].sort((a, b) => a.start.localeCompare(b.start));
  const times = [
    ...commits.map((c) => Date.parse(c.date)),
    ...builds.map((b) => Date.parse(b.at)),
    ...runs.flatMap((r) => [Date.parse(r.start), r.end ? Date.parse(r.end) : now]),
    ...commits.flatMap((c) => [c.firstRun ? Date.parse(c.firstRun.at) : NaN]),
    now,
  ];
  const x0 = GUTTER;
  const x1 = width - RIGHT;
  const scale = timeScale(times, x0, x1);
  const X = (iso: string | number) => Math.round(scale.x(typeof iso === 'number' ? iso : Date.parse(iso)) * 10) / 10;

  const out: string[] = [];
  let y = 0;
  // Header
  const late = commits.filter((c) => c.late).length;
  const imageWords = data.image === data.target ? '' : ` · ${esc(data.image)}`;
  out.push(`<text class="title" x="16" y="28">${esc(data.target)} <tspan class="muted">${imageWords} · provenance timeline</tspan></text>`);
  const summary = `${commits.length} commit(s) changing image inputs · ${builds.length} build(s) · ${runs.length} container run(s) · ${late} waited longer than ${data.thresholdHours} h · generated ${data.generatedAt.slice(0, 16).replace('T', ' ')} UTC`;
  out.push(`<text class="sub" x="16" y="48">${esc(summary)}</text>`);
  // Legend
  const legend = [
    `<circle class="dot" cx="22" cy="68" r="5"/><text class="legend" x="32" y="72">commit that changes inputs</text>`,
    `<circle class="dot late" cx="212" cy="68" r="6"/><text class="legend" x="224" y="72">waited &gt; ${esc(String(data.thresholdHours))} h</text>`,
    `<path class="build pass" d="M 330 62 l 6 6 l -6 6 l -6 -6 z"/><text class="legend" x="342" y="72">build: passed / good</text>`,
    `<path class="build fail" d="M 472 62 l 6 6 l -6 6 l -6 -6 z"/><text class="legend" x="484" y="72">failed / bad</text>`,
    `<path class="build untested" d="M 572 62 l 6 6 l -6 6 l -6 -6 z"/><text class="legend" x="584" y="72">not tested</text>`,
    `<path class="build untested inferred" d="M 672 62 l 6 6 l -6 6 l -6 -6 z"/><text class="legend" x="684" y="72">revision inferred</text>`,
    `<rect class="run running" x="796" y="64" width="22" height="8" rx="2"/><text class="legend" x="824" y="72">container run</text>`,
    `<line class="lag" x1="916" y1="68" x2="946" y2="68"/><text class="legend" x="952" y="72">until built</text>`,
    `<line class="lagrun" x1="1030" y1="68" x2="1060" y2="68"/><text class="legend" x="1066" y="72">until run</text>`,
  ];
  out.push(`<g class="legendrow">${legend.join('')}</g>`);
  y = 92;
  const top = y;

  // Builds lane: a diamond per build (colour: verdict or smoke result), its revision beside it;
  // builds close in time are stacked, not drawn over each other.
  const bx = builds.map((b) => X(b.at));
  const blabels = builds.map((b) =>
    b.revisionSource === 'inferred' ? `~${short(b.revision)} inferred` : b.revisionSource === 'content' ? `${short(b.revision)} by content` : b.revision ? `${short(b.revision)}${b.dirty ? '-dirty' : ''}` : 'unlabeled',
  );
  const brows = placeRows(
    bx.map((x, i) => ({ a: x - 9, b: x + 14 + blabels[i].length * 6.6 })),
    6,
  );
  const buildRows = Math.max(1, ...brows.map((r) => r + 1));
  const buildLane = { y0: y, y1: y + buildRows * 20 + 16 };
  out.push(`<text class="lane" x="16" y="${y + 18}">Builds</text>`);
  const buildMarks: string[] = [];
  builds.forEach((b, i) => {
    const x = bx[i];
    const cy = y + 14 + brows[i] * 20;
    const result = b.verdict === 'good' || (!b.verdict && b.smoke === 'passed') ? 'pass' : b.verdict === 'bad' || (!b.verdict && b.smoke === 'failed') ? 'fail' : 'untested';
    const cls = `build ${result}${b.revisionSource === 'inferred' ? ' inferred' : ''}${b.present ? '' : ' gone'}`;
    buildMarks.push(
      `<g class="buildmark" data-image="${esc(b.imageId)}" tabindex="0"><title>${esc(buildTitle(b))}</title>` +
        `<path class="${cls}" d="M ${x} ${cy - 7} l 7 7 l -7 7 l -7 -7 z"/>` +
        `<text class="blabel${b.revisionSource === 'inferred' ? ' inferred' : ''}" x="${x + 11}" y="${cy + 4}">${esc(blabels[i])}</text></g>`,
    );
  });
  y = buildLane.y1;

  // Runs lane
  const runTop = y + 6;
  out.push(`<text class="lane" x="16" y="${runTop + 14}">Runs</text>`);
  const runMarks: string[] = [];
  runs.forEach((r, i) => {
    const ry = runTop + i * RUN_ROW;
    const xa = X(r.start);
    const xb = Math.max(X(r.end ?? now), xa + 6);
    const running = r.end === null && r.state === 'running';
    runMarks.push(
      `<g class="runmark" tabindex="0"><title>${esc(`${r.name} (${r.state})\nimage ${imageShort(r.imageId)}\nstarted ${r.start}${r.end ? `\nfinished ${r.end}` : running ? '\nstill running' : ''}`)}</title>` +
        `<text class="rlabel" x="${GUTTER - 12}" y="${ry + 12}" text-anchor="end">${esc(truncate(r.name, 30))}</text>` +
        `<rect class="run ${running ? 'running' : 'stopped'}" x="${xa}" y="${ry + 4}" width="${Math.round((xb - xa) * 10) / 10}" height="10" rx="3"/>` +
        (running ? `<path class="runarrow" d="M ${xb} ${ry + 2} l 6 7 l -6 7 z"/>` : '') +
        `</g>`,
    );
  });
  if (runs.length === 0) runMarks.push(`<text class="muted" x="${GUTTER}" y="${runTop + 13}">no container of this image was seen running</text>`);
  y = runTop + Math.max(runs.length, 1) * RUN_ROW + 14;

  // Commits
  const commitTop = y;
  out.push(`<text class="lane" x="16" y="${commitTop + 14}">Commits</text>`);
  out.push(`<text class="muted" x="16" y="${commitTop + 30}">that change image inputs</text>`);
  const commitMarks: string[] = [];
  const rowsStart = commitTop + 40;
  commits.forEach((c, i) => {
    const ry = rowsStart + i * ROW;
    const cy = ry + ROW / 2;
    const xc = X(c.date);
    const built = c.firstBuild ? X(c.firstBuild.at) : null;
    const ran = c.firstRun ? X(c.firstRun.at) : null;
    const lagEnd = built ?? X(now);
    const parts: string[] = [];
    parts.push(`<rect class="rowbg" x="8" y="${ry}" width="${width - 16}" height="${ROW}" rx="3"/>`);
    parts.push(`<text class="sha" x="16" y="${cy + 4}">${esc(short(c.sha))}</text>`);
    parts.push(`<text class="subject" x="78" y="${cy + 4}">${esc(truncate(c.subject || '(no subject)', 30))}</text>`);
    parts.push(`<line class="lag${c.late ? ' late' : ''}${built === null ? ' waiting' : ''}" x1="${xc}" y1="${cy}" x2="${lagEnd}" y2="${cy}"/>`);
    if (ran !== null && built !== null && ran > built) parts.push(`<line class="lagrun" x1="${built}" y1="${cy}" x2="${ran}" y2="${cy}"/>`);
    if (built !== null) parts.push(`<path class="picked" d="M ${built} ${cy - 5} l 0 10"/>`);
    parts.push(`<circle class="dot${c.late ? ' late' : ''}" cx="${xc}" cy="${cy}" r="${c.late ? 6 : 5}"/>`);
    const lagText = c.firstBuild
      ? `built +${formatDuration(c.lagBuildSeconds!)}${c.firstRun ? ` · ran +${formatDuration(c.lagRunSeconds!)}` : ' · never ran'}`
      : `not built · waiting ${formatDuration(c.waitingSeconds ?? 0)}`;
    const end = Math.max(lagEnd, ran ?? 0, xc);
    const fits = end + 8 + lagText.length * 6.4 < width - 8;
    parts.push(
      `<text class="lagtext${c.late ? ' late' : ''}" x="${fits ? end + 8 : xc - 10}" y="${cy + 4}" text-anchor="${fits ? 'start' : 'end'}">${esc(lagText)}</text>`,
    );
    commitMarks.push(
      `<g class="commit${c.late ? ' late' : ''}" data-sha="${esc(c.sha)}" tabindex="0" role="button"><title>${esc(commitTitle(c, data.thresholdHours))}</title>${parts.join('')}</g>`,
    );
  });
  if (commits.length === 0) commitMarks.push(`<text class="muted" x="${GUTTER}" y="${rowsStart + 14}">no commit since the oldest build changes image inputs</text>`);
  y = rowsStart + Math.max(commits.length, 1) * ROW + 10;
  const bottom = y;

  // Grid: build times as faint verticals, breaks as cut bands, "now".
  const grid: string[] = [];
  for (const x of new Set(bx)) grid.push(`<line class="buildline" x1="${x}" y1="${buildLane.y1 - 8}" x2="${x}" y2="${bottom}"/>`);
  for (const b of scale.breaks) {
    grid.push(`<rect class="cut" x="${b.x - 10}" y="${top}" width="20" height="${bottom - top}"/>`);
    grid.push(`<path class="cutmark" d="M ${b.x - 7} ${bottom + 4} l 6 -8 M ${b.x + 1} ${bottom + 4} l 6 -8"/>`);
    grid.push(`<text class="cuttext" x="${b.x}" y="${top - 2}" text-anchor="middle">${esc(formatDuration(b.seconds))}</text>`);
  }
  const xNow = X(now);
  grid.push(`<line class="now" x1="${xNow}" y1="${top}" x2="${xNow}" y2="${bottom}"/><text class="nowtext" x="${xNow}" y="${bottom + 28}" text-anchor="middle">now</text>`);

  // Axis
  const axis: string[] = [`<line class="axis" x1="${x0}" y1="${bottom}" x2="${x1}" y2="${bottom}"/>`];
  for (const c of scale.clusters) {
    for (const t of ticksFor(c, offsetMs)) {
      const x = X(t.t);
      axis.push(`<line class="tick" x1="${x}" y1="${bottom}" x2="${x}" y2="${bottom + 5}"/><text class="ticktext${t.major ? ' major' : ''}" x="${x}" y="${bottom + 17}" text-anchor="middle">${esc(t.label)}</text>`);
    }
  }
  axis.push(`<text class="muted" x="${x1 + 10}" y="${bottom + 17}">${esc(offsetLabel(opts.utcOffsetMinutes ?? 0))}</text>`);
  const omitted = data.omitted.commits + data.omitted.builds + data.omitted.runs;
  if (omitted > 0) {
    axis.push(`<text class="muted" x="16" y="${bottom + 44}">${esc(`Older entries left out: ${data.omitted.commits} commit(s), ${data.omitted.builds} build(s), ${data.omitted.runs} run(s).`)}</text>`);
  }
  const height = bottom + (omitted > 0 ? 56 : 40);

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="bp-timeline" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(`Provenance timeline of ${data.target}`)}">`,
    `<rect class="bg" x="0" y="0" width="${width}" height="${height}"/>`,
    `<g class="grid">${grid.join('')}</g>`,
    out.join(''),
    `<g class="builds">${buildMarks.join('')}</g>`,
    `<g class="runs">${runMarks.join('')}</g>`,
    `<g class="commits">${commitMarks.join('')}</g>`,
    `<g class="axisg">${axis.join('')}</g>`,
    `</svg>`,
  ].join('\n');
}

/** The stylesheet of the picture; theme variables first, light/dark defaults for the shared file. */
export const TIMELINE_CSS = `
:root {
  --bp-bg: var(--vscode-editor-background, #ffffff);
  --bp-fg: var(--vscode-foreground, #1f2328);
  --bp-muted: var(--vscode-descriptionForeground, #656d76);
  --bp-grid: var(--vscode-editorWidget-border, #d0d7de);
  --bp-row: var(--vscode-list-hoverBackground, rgba(127,127,127,0.08));
  --bp-commit: var(--vscode-charts-blue, #0969da);
  --bp-late: var(--vscode-charts-red, #cf222e);
  --bp-lag: var(--vscode-charts-orange, #bc4c00);
  --bp-pass: var(--vscode-charts-green, #1a7f37);
  --bp-fail: var(--vscode-charts-red, #cf222e);
  --bp-untested: var(--vscode-disabledForeground, #8c959f);
  --bp-run: var(--vscode-charts-purple, #8250df);
  --bp-inferred: var(--vscode-charts-yellow, #9a6700);
  --bp-font: var(--vscode-font-family, system-ui, -apple-system, "Segoe UI", sans-serif);
  --bp-mono: var(--vscode-editor-font-family, ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace);
}
@media (prefers-color-scheme: dark) {
  :root {
    --bp-bg: var(--vscode-editor-background, #0d1117);
    --bp-fg: var(--vscode-foreground, #e6edf3);
    --bp-muted: var(--vscode-descriptionForeground, #8d96a0);
    --bp-grid: var(--vscode-editorWidget-border, #30363d);
    --bp-commit: var(--vscode-charts-blue, #4493f8);
    --bp-late: var(--vscode-charts-red, #f85149);
    --bp-lag: var(--vscode-charts-orange, #db6d28);
    --bp-pass: var(--vscode-charts-green, #3fb950);
    --bp-fail: var(--vscode-charts-red, #f85149);
    --bp-untested: var(--vscode-disabledForeground, #6e7681);
    --bp-run: var(--vscode-charts-purple, #ab7df8);
    --bp-inferred: var(--vscode-charts-yellow, #d29922);
  }
}
body { margin: 0; padding: 12px; background: var(--bp-bg); color: var(--bp-fg); font-family: var(--bp-font); }
.bp-timeline { font-family: var(--bp-font); font-size: 12px; max-width: 100%; height: auto; }
.bp-timeline text { fill: var(--bp-fg); }
.bp-timeline .bg { fill: var(--bp-bg); }
.bp-timeline .title { font-size: 17px; font-weight: 600; }
.bp-timeline .sub, .bp-timeline .muted, .bp-timeline tspan.muted { fill: var(--bp-muted); }
.bp-timeline .legend { fill: var(--bp-muted); font-size: 11px; }
.bp-timeline .lane { font-weight: 600; font-size: 13px; }
.bp-timeline .sha { font-family: var(--bp-mono); fill: var(--bp-commit); font-size: 11.5px; }
.bp-timeline .commit.late .sha { fill: var(--bp-late); font-weight: 600; }
.bp-timeline .subject { font-size: 12px; }
.bp-timeline .rowbg { fill: transparent; }
.bp-timeline .commit:hover .rowbg, .bp-timeline .commit:focus .rowbg { fill: var(--bp-row); }
.bp-timeline .commit, .bp-timeline .buildmark, .bp-timeline .runmark { outline: none; }
.bp-timeline .dot { fill: var(--bp-commit); stroke: var(--bp-bg); stroke-width: 1.5; }
.bp-timeline .dot.late { fill: var(--bp-late); stroke: var(--bp-late); stroke-width: 2; stroke-opacity: 0.35; }
.bp-timeline .lag { stroke: var(--bp-lag); stroke-width: 3; stroke-linecap: round; opacity: 0.75; }
.bp-timeline .lag.late { stroke: var(--bp-late); opacity: 0.9; }
.bp-timeline .lag.waiting { stroke-dasharray: 4 3; }
.bp-timeline .lagrun { stroke: var(--bp-run); stroke-width: 2; stroke-dasharray: 2 3; opacity: 0.9; }
.bp-timeline .picked { stroke: var(--bp-fg); stroke-width: 1.5; opacity: 0.6; }
.bp-timeline .lagtext { fill: var(--bp-muted); font-size: 11px; }
.bp-timeline .lagtext.late { fill: var(--bp-late); font-weight: 600; }
.bp-timeline .build { stroke: var(--bp-bg); stroke-width: 1.5; }
.bp-timeline .build.pass { fill: var(--bp-pass); }
.bp-timeline .build.fail { fill: var(--bp-fail); }
.bp-timeline .build.untested { fill: var(--bp-untested); }
.bp-timeline .build.inferred { fill: var(--bp-bg); stroke-width: 2.5; }
.bp-timeline .build.inferred.pass { stroke: var(--bp-pass); }
.bp-timeline .build.inferred.fail { stroke: var(--bp-fail); }
.bp-timeline .build.inferred.untested { stroke: var(--bp-untested); }
.bp-timeline .build.gone { fill-opacity: 0.45; }
.bp-timeline .blabel { font-family: var(--bp-mono); font-size: 11px; }
.bp-timeline .blabel.inferred { fill: var(--bp-inferred); font-style: italic; }
.bp-timeline .buildline { stroke: var(--bp-grid); stroke-width: 1; stroke-dasharray: 3 3; }
.bp-timeline .run.running { fill: var(--bp-run); }
.bp-timeline .run.stopped { fill: var(--bp-run); fill-opacity: 0.4; }
.bp-timeline .runarrow { fill: var(--bp-run); }
.bp-timeline .rlabel { fill: var(--bp-muted); font-size: 11px; }
.bp-timeline .cut { fill: var(--bp-grid); fill-opacity: 0.35; }
.bp-timeline .cutmark { stroke: var(--bp-muted); stroke-width: 1.5; fill: none; }
.bp-timeline .cuttext { fill: var(--bp-muted); font-size: 10.5px; }
.bp-timeline .now { stroke: var(--bp-muted); stroke-width: 1; stroke-dasharray: 1 3; }
.bp-timeline .nowtext { fill: var(--bp-muted); font-size: 10.5px; }
.bp-timeline .axis, .bp-timeline .tick { stroke: var(--bp-muted); stroke-width: 1; }
.bp-timeline .ticktext { fill: var(--bp-muted); font-size: 10.5px; }
.bp-timeline .ticktext.major { fill: var(--bp-fg); }
.warnings { color: var(--bp-muted); font-size: 12px; margin: 8px 16px; }
#details { position: fixed; right: 16px; bottom: 16px; max-width: 520px; white-space: pre-wrap; font-family: var(--bp-mono); font-size: 12px;
  background: var(--vscode-editorHoverWidget-background, var(--bp-bg)); color: var(--bp-fg); border: 1px solid var(--bp-grid); border-radius: 4px; padding: 8px 10px; }
#details[hidden] { display: none; }
#details button { margin-top: 8px; font-family: var(--bp-font); }
`;

export interface HtmlOptions extends RenderOptions {
  /** A fresh random nonce for the style (and script) elements. */
  nonce: string;
  /** Webview only: the webview's CSP source and the URI of media/timeline.js. */
  webview?: { cspSource: string; scriptUri: string };
}

/**
 * One complete HTML document. Without `webview` it is self-contained (no script, nothing remote:
 * hovering shows native SVG tooltips) and its CSP forbids loading anything.
 */
export function renderTimelineHtml(data: TimelineData, opts: HtmlOptions): string {
  const nonce = esc(opts.nonce);
  const csp = opts.webview
    ? `default-src 'none'; img-src ${opts.webview.cspSource} data:; style-src ${opts.webview.cspSource} 'nonce-${nonce}'; script-src 'nonce-${nonce}'; font-src ${opts.webview.cspSource};`
    : `default-src 'none'; style-src 'nonce-${nonce}'; img-src data:;`;
  const warnings = data.warnings.length ? `<div class="warnings">${data.warnings.map((w) => `<div>⚠ ${esc(w)}</div>`).join('')}</div>` : '';
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${esc(csp)}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(`Provenance timeline — ${data.target}`)}</title>`,
    `<style nonce="${nonce}">${TIMELINE_CSS}</style>`,
    '</head>',
    '<body>',
    renderTimelineSvg(data, opts),
    warnings,
    opts.webview ? `<div id="details" hidden role="status"></div><script nonce="${nonce}" src="${esc(opts.webview.scriptUri)}"></script>` : '',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
