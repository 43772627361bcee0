// `provenance build | smoke`: the build engine of src/core, rendered for the terminal.
// Build output streams to stdout (to stderr with --json, so stdout stays one JSON document).
import { runBuild, runSmokeTest, type BuildResult } from '../core/build/engine';
import { deployImage, type DeployImageResult } from '../core/build/deploy';
import type { Workspace } from '../core/status/workspace';
import { buildJson, clean, deployJson, formatBuild, formatDeploy, formatSmokeRun, smokeRunJson, type Style } from './format';

interface Out {
  out: (s: string) => void;
  err: (s: string) => void;
  /** DOCKER_BUILDKIT and the variables build.secrets names come from here. */
  env?: NodeJS.ProcessEnv;
}

interface CommandContext {
  ws: Workspace;
  io: Out;
  style: Style;
  json: boolean;
  signal: AbortSignal;
}

const ORIGIN = 'the provenance CLI';

function exitCodeOf(results: { ok: boolean; cancelled: boolean }[]): number {
  if (results.some((r) => r.cancelled)) return 2;
  return results.every((r) => r.ok) ? 0 : 1;
}

/** Builds each selected target in turn. Exit 0 all built (and passed), 1 a build/smoke failure, 2 cancelled. */
export async function buildCommand(c: CommandContext, smoke: boolean): Promise<number> {
  const results: BuildResult[] = [];
  const progress = (l: string) => (c.json ? c.io.err(clean(l)) : c.io.out(clean(l)));
  for (const target of c.ws.targets) {
    const r = await runBuild(c.ws, target, { smoke, signal: c.signal, onOutput: progress, trusted: true, origin: ORIGIN, env: c.io.env });
    results.push(r);
    if (r.ledgerError) c.io.err(`warning: ${r.ledgerError}`);
    if (!c.json) c.io.out(formatBuild(r, c.style));
    if (r.result === 'cancelled') break;
  }
  if (c.json) c.io.out(JSON.stringify(results.length === 1 ? buildJson(results[0]) : results.map(buildJson), null, 2));
  return exitCodeOf(results.map((r) => ({ ok: r.ok, cancelled: r.result === 'cancelled' })));
}

/** Smoke-tests `image` (or each target's newest image). */
export async function smokeCommand(c: CommandContext, image: string | undefined): Promise<number> {
  const progress = (l: string) => (c.json ? c.io.err(clean(l)) : c.io.out(clean(l)));
  const results = [];
  for (const target of c.ws.targets) {
    const r = await runSmokeTest(c.ws, target, { image, signal: c.signal, onOutput: progress, trusted: true, origin: ORIGIN });
    results.push(r);
    if (r.ledgerError) c.io.err(`warning: ${r.ledgerError}`);
    if (!c.json) c.io.out(formatSmokeRun(r, c.style));
    if (r.smoke.result === 'cancelled') break;
  }
  if (c.json) c.io.out(JSON.stringify(results.length === 1 ? smokeRunJson(results[0]) : results.map(smokeRunJson), null, 2));
  return exitCodeOf(results.map((r) => ({ ok: r.ok, cancelled: r.smoke.result === 'cancelled' })));
}

/** Runs each selected target's deploy step for its newest image (or `image`). Exit 0 deployed, 1 a deploy failed, 2 cancelled. */
export async function deployCommand(c: CommandContext, image: string | undefined): Promise<number> {
  const progress = (l: string) => (c.json ? c.io.err(clean(l)) : c.io.out(clean(l)));
  const results: DeployImageResult[] = [];
  for (const target of c.ws.targets) {
    const r = await deployImage(c.ws, target, {
      image,
      trusted: true,
      signal: c.signal,
      onOutput: progress,
      onSmoke: (smoke, id) => {
        const short = id.replace(/^sha256:/, '').slice(0, 12);
        if (smoke === null) c.io.err(`warning: ${target.name}: image ${short} was never smoke-tested (provenance smoke --image ${short}).`);
        else if (smoke === 'failed') c.io.err(`warning: ${target.name}: image ${short} failed its last smoke test.`);
      },
    });
    results.push(r);
    if (r.ledgerError) c.io.err(`warning: ${r.ledgerError}`);
    if (!c.json) c.io.out(formatDeploy(r, c.style));
    if (r.error === 'cancelled') break;
  }
  if (c.json) c.io.out(JSON.stringify(results.length === 1 ? deployJson(results[0]) : results.map(deployJson), null, 2));
  return exitCodeOf(results.map((r) => ({ ok: r.ok, cancelled: r.error === 'cancelled' })));
}
