// What the editor's build tasks say: the actions, their task definitions, terminal text and the
// one-line outcome of a run. Pure (no vscode), so unit tests check it without an editor.
import type { BuildResult, SmokeRunResult } from './engine';
import { BuildRefusedError } from './refused';
import { ConfigError } from '../config';
import { clean, shortSha } from '../humanize';
import { UNSAFE_PATH_HINT, UnsafePathError } from '../safety/safeFiles';
import { ProvenanceError } from '../status/workspace';

export const BUILD_TASK_TYPE = 'buildProvenance';
export const BUILD_ACTIONS = ['build+smoke', 'build', 'smoke'] as const;
export type BuildAction = (typeof BUILD_ACTIONS)[number];

export const ACTION_TITLES: Record<BuildAction, string> = {
  'build+smoke': 'Build + Smoke Test',
  build: 'Rebuild Image',
  smoke: 'Run Smoke Test',
};

/** The `tasks.json` shape of a build task (schema: `contributes.taskDefinitions` in package.json). */
export interface BuildTaskDefinition {
  type: typeof BUILD_TASK_TYPE;
  /** Target name, as in .provenance.json (`name`, default: the image's last path segment). */
  target: string;
  action: BuildAction;
  /** Workspace folder name (or path), for multi-root workspaces. */
  folder?: string;
}

export function isBuildAction(v: unknown): v is BuildAction {
  return typeof v === 'string' && (BUILD_ACTIONS as readonly string[]).includes(v);
}

/** What is wrong with a task definition from tasks.json, or null when it is usable. */
export function definitionProblem(def: { target?: unknown; action?: unknown; folder?: unknown }): string | null {
  if (typeof def.target !== 'string' || def.target === '') return 'The task needs "target": the name of a target in .provenance.json.';
  if (!isBuildAction(def.action)) return `"action" must be one of ${BUILD_ACTIONS.map((a) => `"${a}"`).join(', ')}, not ${JSON.stringify(def.action)}.`;
  if (def.folder !== undefined && typeof def.folder !== 'string') return '"folder" must be the name of a workspace folder.';
  return null;
}

/** The task's label in Run Task (the source "Build Provenance" is shown before it). */
export function taskLabel(action: BuildAction, target: string, folder?: string): string {
  return `${ACTION_TITLES[action]} (${target}${folder ? ` · ${folder}` : ''})`;
}

/** A terminal wants CRLF; engine lines never carry a line end of their own, but output chunks may. */
export function terminalText(line: string): string {
  return `${line.replace(/\r?\n/g, '\r\n')}\r\n`;
}

/** `buildProvenance.runNewImage`: what happens after a passing build + smoke test of a target with a deploy step. */
export type RunNewImage = 'ask' | 'always' | 'never';

/**
 * The runNewImage choice in force. "always" runs a deploy step unasked, so only the user's own
 * (global) settings may say so: from workspace or folder settings, which come with the checkout, it
 * counts as "ask" (issue 16). So does any value that is not one of the three (settings files are
 * not validated when read). `value` is the effective setting, `userValue` the global one (VS
 * Code's `get` and `inspect().globalValue`).
 */
export function runNewImageChoice(value: unknown, userValue: unknown): RunNewImage {
  if (value === 'never') return 'never';
  if (value === 'always' && userValue === 'always') return 'always';
  return 'ask';
}

/** How a run ended, as the editor reports it. */
export interface RunOutcome {
  /** `<repo root>#<target name>` */
  key: string;
  target: string;
  action: BuildAction;
  ok: boolean;
  result: 'success' | 'failure' | 'cancelled' | 'refused';
  /** One line for people. */
  message: string;
  /** What to do next (refusals, failures). */
  hint: string | null;
  /** Why it did not start, for refusals: untrusted, busy, settings, docker, no-image, or target. */
  refusal: string | null;
  imageId: string | null;
  build: BuildResult | null;
  smoke: SmokeRunResult | null;
  durationMs: number;
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

function imageName(r: { imageId: string | null; tags?: string[] }): string {
  return r.tags?.[0] ?? (r.imageId ? r.imageId.replace(/^sha256:/, '').slice(0, 12) : 'no image');
}

/** The one-line summary of a finished build (with or without its smoke test). */
export function buildMessage(action: BuildAction, r: BuildResult, durationMs: number): string {
  const at = `${shortSha(r.revision)}${r.dirty ? '-dirty' : ''}`;
  if (r.result === 'cancelled') return `${ACTION_TITLES[action]} of ${r.target} was cancelled.`;
  if (!r.ok) {
    const what = r.smoke && r.smoke.result !== 'passed' ? 'Smoke test of the new image failed' : 'Build failed';
    return `${what} for ${r.target} at ${at}: ${clean(r.smoke?.reason ?? r.error ?? 'unknown error')}`;
  }
  const smoked = r.smoke ? ', smoke test passed' : '';
  return `${r.target} built at ${at} as ${clean(imageName(r))}${smoked} (${seconds(durationMs)}).`;
}

export function smokeMessage(r: SmokeRunResult, durationMs: number): string {
  const of = `${clean(r.target)} image ${r.imageId.replace(/^sha256:/, '').slice(0, 12)}${r.revision ? ` (${shortSha(r.revision)}${r.dirty ? '-dirty' : ''})` : ''}`;
  if (r.smoke.result === 'passed') return `Smoke test of ${of} passed (${seconds(durationMs)}).`;
  if (r.smoke.result === 'cancelled') return `Smoke test of ${of} was cancelled.`;
  return `Smoke test of ${of} failed: ${clean(r.smoke.reason ?? 'unknown reason')}`;
}

/** The outcome of a finished build run. */
export function buildOutcome(key: string, action: BuildAction, r: BuildResult, durationMs: number): RunOutcome {
  return {
    key,
    target: r.target,
    action,
    ok: r.ok,
    result: r.result,
    message: buildMessage(action, r, durationMs),
    // What to do about a failed build (e.g. which Docker understands its syntax), else the custom build's label guidance.
    hint: r.hint ? clean(r.hint) : r.guidance ? clean(r.guidance.split('\n')[0]) : null,
    refusal: null,
    imageId: r.imageId,
    build: r,
    smoke: null,
    durationMs,
  };
}

export function smokeOutcome(key: string, r: SmokeRunResult, durationMs: number): RunOutcome {
  return {
    key,
    target: r.target,
    action: 'smoke',
    ok: r.ok,
    result: r.ok ? 'success' : r.smoke.result === 'cancelled' ? 'cancelled' : 'failure',
    message: smokeMessage(r, durationMs),
    hint: null,
    refusal: null,
    imageId: r.imageId,
    build: null,
    smoke: r,
    durationMs,
  };
}

/**
 * The refusal that an error of the engine stands for (it stopped before running anything: bad
 * settings, a busy target, a refused path in the git dir), or null for an error it does not know.
 */
export function engineRefusal(err: unknown, action: BuildAction, target: string): { code: string; message: string; hint: string | null } | null {
  if (err instanceof BuildRefusedError) return { code: err.code, message: err.message, hint: err.hint };
  if (err instanceof ProvenanceError) return { code: 'settings', message: err.message, hint: err.hint };
  if (err instanceof ConfigError) return { code: 'settings', message: err.message, hint: 'Fix .provenance.json.' };
  if (err instanceof UnsafePathError) return { code: 'unsafe-path', message: `${ACTION_TITLES[action]} of ${target} did not start: ${err.message}`, hint: UNSAFE_PATH_HINT };
  return null;
}

export function refusedOutcome(key: string, target: string, action: BuildAction, refusal: string, message: string, hint: string | null): RunOutcome {
  return { key, target, action, ok: false, result: 'refused', message, hint, refusal, imageId: null, build: null, smoke: null, durationMs: 0 };
}
