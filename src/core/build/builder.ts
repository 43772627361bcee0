// The built-in build: the target's Dockerfile and context, streamed to the target's Docker engine.
// BuildKit when the engine offers it (buildkitBuild.ts), the classic builder otherwise
// (classicBuild.ts); builderChoice.ts decides, and the build output says which and why. Both
// send the same context tar (context.ts), so the ignore file decides what either builder sees.
// A failure carries the engine's words and, where we can tell, one line on what to do.
import type Dockerode from 'dockerode';
import { packBuildContext } from './context';
import { IgnoreFileError } from '../inputs/dockerignore';
import { connectDocker } from '../docker/state';
import { abortError } from '../git/exec';
import type { DockerEndpoint } from '../types';
import { chooseBuilder, chooseNetwork, probeEngine, type BuilderChoice, type BuilderKind, type BuilderSetting, type EngineFacts, type NetworkSetting } from './builderChoice';
import { buildClassic } from './classicBuild';
import { buildWithBuildKit, BuildKitUnavailableError } from './buildkitBuild';
import { BuildFailedError, explainBuildFailure } from './buildErrors';
import type { DockerfileFeatures } from './dockerfileFeatures';

export { BuildFailedError, engineMessage } from './buildErrors';

/** What the engine is and how the build will run on it. */
export interface BuiltinPlan {
  docker: Dockerode;
  engine: EngineFacts;
  builder: BuilderChoice;
  network: { mode: 'host' | 'none' | null; why: string | null };
}

/** Asks the engine about itself and picks builder and network. Throws BuilderChoiceError for a setting it cannot honour. */
export async function planBuiltinBuild(
  endpoint: DockerEndpoint,
  settings: { builder?: BuilderSetting; network?: NetworkSetting },
  env: NodeJS.ProcessEnv,
  signal?: AbortSignal,
): Promise<BuiltinPlan> {
  const docker = await connectDocker(endpoint);
  const engine = await probeEngine(docker, signal);
  return { docker, engine, builder: chooseBuilder(settings.builder, env, engine), network: chooseNetwork(settings.network, engine) };
}

export interface BuiltinBuildOptions {
  /** Absolute paths. */
  contextDir: string;
  dockerfile: string;
  ignoreFile: string | null;
  ignoreText: string | null;
  /** Repo-relative Dockerfile path, for messages. */
  dockerfileLabel: string;
  features: DockerfileFeatures;
  buildArgs: Record<string, string>;
  targetStage?: string;
  labels: Record<string, string>;
  tags: string[];
  /** Secret ID → content, for RUN --mount=type=secret (BuildKit). */
  secrets: Map<string, Buffer>;
  signal?: AbortSignal;
  onOutput?: (line: string) => void;
}

export interface BuiltinBuildResult {
  imageId: string;
  /** The builder that built it (classic after a fallback). */
  builder: BuilderKind;
}

/** A failed build: the engine's message, what to do about it (or null), and the builder it ran on. */
export class BuiltinBuildError extends BuildFailedError {
  override name = 'BuiltinBuildError';
  constructor(
    message: string,
    readonly hint: string | null,
    readonly builder: BuilderKind,
  ) {
    super(message);
  }
}

/** Builds and tags the image; resolves with its ID. Rejects with BuiltinBuildError, or AbortError on cancel. */
export async function buildBuiltin(plan: BuiltinPlan, opts: BuiltinBuildOptions): Promise<BuiltinBuildResult> {
  if (opts.signal?.aborted) throw abortError();
  let builder = plan.builder;
  const pack = () =>
    packBuildContext({ contextDir: opts.contextDir, dockerfile: opts.dockerfile, ignoreFile: opts.ignoreFile, ignoreText: opts.ignoreText }).catch((err: unknown) => {
      // A pattern Docker rejects: Docker's own build would fail on it too.
      if (err instanceof IgnoreFileError) throw new BuildFailedError(err.message);
      throw err;
    });
  const common = { tags: opts.tags, buildArgs: opts.buildArgs, labels: opts.labels, targetStage: opts.targetStage, network: plan.network.mode, signal: opts.signal, onOutput: opts.onOutput };
  try {
    if (builder.kind === 'buildkit') {
      try {
        const r = await buildWithBuildKit(plan.docker, { ...common, context: await pack(), contextDir: opts.contextDir, secrets: opts.secrets });
        return { imageId: r.imageId, builder: 'buildkit' };
      } catch (err) {
        if (!(err instanceof BuildKitUnavailableError) || builder.forced) throw err;
        // Where the engine turns out to have no session endpoint (a look-alike API), fall back.
        builder = { kind: 'classic', why: `the engine refused a BuildKit session (${err.message})`, forced: false };
        opts.onOutput?.(`BuildKit is not available after all: ${err.message}. Building with the classic builder.`);
      }
    }
    return { imageId: (await buildClassic(plan.docker, { ...common, context: await pack() })).imageId, builder: 'classic' };
  } catch (err) {
    if (err instanceof BuildKitUnavailableError) throw new BuiltinBuildError(`BuildKit is not available on the engine: ${err.message}`, null, 'buildkit');
    if (!(err instanceof BuildFailedError)) throw err;
    const hint = explainBuildFailure({
      message: err.message,
      dockerfile: opts.dockerfileLabel,
      features: opts.features,
      builder,
      engineVersion: plan.engine.version,
      configuredSecrets: [...opts.secrets.keys()],
      missingSecrets: err.missingSecrets,
    });
    throw new BuiltinBuildError(err.message, hint, builder.kind);
  }
}
