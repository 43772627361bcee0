// `provenance verify`: each verifiable file of the deployed container (or a named container or
// image), where it lands, and what its bytes are. Exit 0 verified or consistent, 1 the bytes
// contradict the label, 2 bad input or nothing could be verified.
import { clean } from '../core/humanize';
import { verificationHeadline } from '../core/status/verification';
import { computeVerify, type VerifyReport } from '../core/status/verifyQuery';
import type { Workspace } from '../core/status/workspace';
import { verdictWords, verificationJson, type Style } from './format';

interface CommandContext {
  ws: Workspace;
  io: { out: (s: string) => void; err: (s: string) => void };
  style: Style;
  json: boolean;
  signal: AbortSignal;
}

export async function verifyCommand(c: CommandContext, opts: { container?: string; image?: string }): Promise<number> {
  const reports: VerifyReport[] = [];
  for (const target of c.ws.targets) reports.push(await computeVerify(c.ws, target, { ...opts, signal: c.signal }));
  if (c.json) c.io.out(JSON.stringify(reports.length === 1 ? verifyJson(reports[0]) : reports.map(verifyJson), null, 2));
  else c.io.out(reports.map((r) => formatVerify(r, c.style)).join('\n\n'));
  let code = 0;
  for (const r of reports) {
    const s = r.verification.state;
    code = Math.max(code, s === 'contradicts-label' ? 1 : s === 'unverifiable' ? 2 : 0);
  }
  return code;
}

export function verifyJson(r: VerifyReport) {
  return { target: r.target, subject: r.subject, revision: r.revision, revisionSource: r.revisionSource, label: r.label, verification: verificationJson(r.verification) };
}


export function formatVerify(r: VerifyReport, st: Style): string {
  const v = r.verification;
  const paint = v.state === 'verified' || v.state === 'consistent' ? st.green : v.state === 'contradicts-label' ? st.red : st.yellow;
  const what = r.subject.kind === 'container' ? `container ${clean(r.subject.name ?? r.subject.containerId ?? '')}` : `image ${clean(r.subject.tags[0] ?? r.subject.imageId.replace(/^sha256:/, '').slice(0, 12))}`;
  const lines = [`${st.bold(clean(r.target))} ${what}: ${paint(verificationHeadline(v))}`];
  if (r.label !== null) lines.push(`  label    ${clean(r.label)}`);
  if (v.consistentWith) lines.push(`  bytes    consistent with ${v.consistentWith.oldest.slice(0, 12)}..${v.consistentWith.newest.slice(0, 12)} (${v.matched} of ${v.checked} files match)`);
  else if (v.checked > 0) lines.push(`  bytes    ${v.matched} of ${v.checked} files match`);
  if (v.reason) lines.push(`  ${st.dim('→')} ${clean(v.reason)}`);
  if (v.uncertain && v.uncertain.count > 0) {
    lines.push(`  ${v.uncertain.count} commit(s) in that range change inputs whose bytes cannot be read back (maybe in the image, maybe not):`);
    for (const c of v.uncertain.commits.slice(0, 10)) lines.push(`    ${st.yellow(c.sha.slice(0, 10))} ${clean(c.subject)}`);
  }
  for (const f of v.files) {
    const words = verdictWords(f, v.against);
    const colour = f.verdict === 'matches' ? st.green : f.verdict === 'other-version' ? (r.revisionSource === 'label' ? st.red : st.yellow) : st.dim;
    lines.push(`  ${clean(f.path)} → ${clean(f.destination)}: ${colour(words)}`);
  }
  return lines.join('\n');
}
