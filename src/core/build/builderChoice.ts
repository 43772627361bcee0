// Which builder the built-in build uses, and the network of its RUN steps. BuildKit whenever the
// engine offers it, as the docker CLI decides: `/_ping`'s Builder-Version header when the engine
// sends one (23.0+ sends "2"; "1" is a daemon.json `features.buildkit: false`), else a Linux
// engine with API 1.39+ (18.09, where BuildKit came to the Engine API). The classic builder is
// the fallback. A target's `build.builder` and the docker CLI's own DOCKER_BUILDKIT override it.
import type Dockerode from 'dockerode';

export type BuilderKind = 'buildkit' | 'classic';
export type BuilderSetting = 'auto' | BuilderKind;
export type NetworkSetting = 'default' | 'host' | 'none';

/** What the engine says about itself. */
export interface EngineFacts {
  /** `/_ping`'s Builder-Version header ("1", "2"), or null when it sends none (20.10 by default). */
  builderVersion: string | null;
  /** e.g. "1.41". */
  apiVersion: string;
  /** "linux" or "windows". */
  osType: string;
  /** Docker Engine version, e.g. "20.10.24+dfsg1"; '' when unknown. */
  version: string;
  /** Whether a network named "bridge" exists: the default network of RUN steps. */
  bridge: boolean;
}

export interface BuilderChoice {
  kind: BuilderKind;
  /** Why, for the build output: "the engine offers it (Docker Engine 20.10.24, API 1.41)". */
  why: string;
  /** Chosen by a setting or variable rather than by the engine; no fallback then. */
  forced: boolean;
}

/** A setting that cannot be honoured on this engine, or a malformed variable. */
export class BuilderChoiceError extends Error {
  override name = 'BuilderChoiceError';
}

/** Whether a dotted version ("20.10.24+dfsg1", "1.41") is at least `min`. */
export function versionAtLeast(v: string, min: string): boolean {
  const a = v.split(/[.+-]/).map((x) => Number.parseInt(x, 10));
  const b = min.split('.').map((x) => Number.parseInt(x, 10));
  for (let i = 0; i < b.length; i++) {
    const x = Number.isFinite(a[i]) ? a[i] : 0;
    if (x !== b[i]) return x > b[i];
  }
  return true;
}

function engineName(e: EngineFacts): string {
  return `${e.version ? `Docker Engine ${e.version.replace(/\+.*$/, '')}, ` : ''}API ${e.apiVersion}${e.osType && e.osType !== 'linux' ? `, ${e.osType}` : ''}`;
}

/** Whether BuildKit can be asked for through the API at all; null when it can, else why not. */
function buildKitAbsent(e: EngineFacts): string | null {
  if (e.builderVersion === '2') return null;
  if (e.osType && e.osType !== 'linux') return `a ${e.osType} engine that does not announce BuildKit`;
  if (!versionAtLeast(e.apiVersion, '1.39')) return `API ${e.apiVersion} is older than 1.39, where BuildKit came to the Engine API`;
  return null;
}

/** Go's strconv.ParseBool, which the docker CLI uses for DOCKER_BUILDKIT. */
function parseBool(v: string): boolean | null {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return null;
}

/**
 * Picks the builder: the target's `build.builder` when it is not "auto", else DOCKER_BUILDKIT
 * when set, else what the engine offers. Throws BuilderChoiceError when BuildKit is asked for
 * and the engine has none, or DOCKER_BUILDKIT is not a boolean.
 */
export function chooseBuilder(setting: BuilderSetting | undefined, env: NodeJS.ProcessEnv, engine: EngineFacts): BuilderChoice {
  const absent = buildKitAbsent(engine);
  const forced = (kind: BuilderKind, by: string): BuilderChoice => {
    if (kind === 'buildkit' && absent) {
      throw new BuilderChoiceError(`${by} asks for BuildKit, but the engine (${engineName(engine)}) does not offer it: ${absent}.`);
    }
    return { kind, why: by, forced: true };
  };
  if (setting === 'buildkit' || setting === 'classic') return forced(setting, `"build.builder": "${setting}" in .provenance.json`);
  const raw = env.DOCKER_BUILDKIT;
  if (raw !== undefined && raw !== '') {
    const on = parseBool(raw);
    if (on === null) throw new BuilderChoiceError(`DOCKER_BUILDKIT=${raw} is not a boolean; set it to 1 (BuildKit) or 0 (the classic builder), or unset it.`);
    return forced(on ? 'buildkit' : 'classic', `DOCKER_BUILDKIT=${raw}`);
  }
  if (absent) return { kind: 'classic', why: `the engine has no BuildKit (${absent})`, forced: false };
  if (engine.builderVersion === '1') {
    return { kind: 'classic', why: `the engine's settings choose it (Builder-Version 1: "features": {"buildkit": false} in daemon.json)`, forced: false };
  }
  return {
    kind: 'buildkit',
    why: engine.builderVersion === '2' ? `the engine announces it (${engineName(engine)})` : `the engine offers it (${engineName(engine)})`,
    forced: false,
  };
}

/**
 * The network of RUN steps: the setting; else the engine's default, except that a Linux engine
 * without a bridge network (dockerd --bridge=none) gets `host`, as `docker build --network host`
 * does for its users: there RUN would fail with "network bridge not found".
 */
export function chooseNetwork(setting: NetworkSetting | undefined, engine: EngineFacts): { mode: 'host' | 'none' | null; why: string | null } {
  if (setting === 'host' || setting === 'none') return { mode: setting, why: null };
  if (setting === 'default') return { mode: null, why: null };
  if (!engine.bridge && (engine.osType === '' || engine.osType === 'linux')) {
    return { mode: 'host', why: 'RUN steps use the host network: the engine has no bridge network ("build.network" chooses another)' };
  }
  return { mode: null, why: null };
}

/** `/_ping` headers, `/version` and whether the bridge network exists. */
export async function probeEngine(docker: Dockerode, signal?: AbortSignal): Promise<EngineFacts> {
  const modem = docker.modem as unknown as {
    dial(o: Record<string, unknown>, cb: (err: Error | null, res: NodeJS.ReadableStream & { headers: Record<string, string | undefined>; resume(): void }) => void): void;
  };
  const headers = await new Promise<Record<string, string | undefined>>((resolve, reject) => {
    modem.dial({ path: '/_ping', method: 'GET', isStream: true, abortSignal: signal, statusCodes: { 200: true, 500: 'server error' } }, (err, res) => {
      if (err) return reject(err);
      res.resume();
      resolve(res.headers);
    });
  });
  const [version, networks] = await Promise.all([
    (docker.version as (o: { abortSignal?: AbortSignal }) => Promise<{ Version?: string; ApiVersion?: string; Os?: string }>)({ abortSignal: signal }).catch(() => ({}) as { Version?: string; ApiVersion?: string; Os?: string }),
    docker.listNetworks({ filters: { name: ['bridge'] }, abortSignal: signal } as Dockerode.NetworkListOptions).catch(() => null),
  ]);
  return {
    builderVersion: headers['builder-version']?.trim() || null,
    apiVersion: headers['api-version']?.trim() || version.ApiVersion || '',
    osType: (headers['ostype'] ?? version.Os ?? '').trim().toLowerCase(),
    version: version.Version ?? '',
    // Unknown (the listing failed): assume the engine has its default network.
    bridge: networks === null ? true : networks.some((n) => n.Name === 'bridge'),
  };
}
