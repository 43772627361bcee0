// Secrets of the built-in build (`RUN --mount=type=secret,id=…`), from the target's
// `build.secrets`: each ID names a file or an environment variable of the process that builds.
// Read only when a trusted build starts (the engine refuses untrusted workspaces before this),
// held in memory for that one build, and never written to the output or the ledger.
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import type { SecretSource } from '../config';
import type { DockerfileFeatures } from './dockerfileFeatures';

/** BuildKit refuses larger secrets (session/secrets/secrets.go: MaxSecretSize). */
export const MAX_SECRET_BYTES = 500 * 1024;

export class SecretSettingsError extends Error {
  override name = 'SecretSettingsError';
}

/** `~/…` is the home directory; a relative path is relative to the repository root. */
export function secretFilePath(file: string, repoRoot: string, home = homedir()): string {
  if (file === '~' || file.startsWith('~/')) return path.join(home, file.slice(1));
  return path.resolve(repoRoot, file);
}

/** Reads every configured secret. Throws SecretSettingsError naming the secret and what to fix. */
export function resolveSecrets(config: Record<string, SecretSource> | undefined, repoRoot: string, env: NodeJS.ProcessEnv, home?: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [id, src] of Object.entries(config ?? {})) {
    const where = `build.secrets.${id}`;
    if (src.env !== undefined) {
      const v = env[src.env];
      if (v === undefined) throw new SecretSettingsError(`${where}: the environment variable ${src.env} is not set. Set it where you build (for VS Code: before starting it), or remove the secret.`);
      out.set(id, Buffer.from(v, 'utf8'));
      continue;
    }
    const file = secretFilePath(src.file ?? '', repoRoot, home);
    let size: number;
    try {
      const st = statSync(file);
      if (!st.isFile()) throw new SecretSettingsError(`${where}: ${file} is not a file.`);
      size = st.size;
    } catch (err) {
      if (err instanceof SecretSettingsError) throw err;
      throw new SecretSettingsError(`${where}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). Create it, or fix the path ("~/…" is your home directory, a relative path is relative to the repository root).`);
    }
    if (size > MAX_SECRET_BYTES) throw new SecretSettingsError(`${where}: ${file} is ${size} bytes; BuildKit takes secrets of at most ${MAX_SECRET_BYTES} bytes.`);
    out.set(id, readFileSync(file));
  }
  return out;
}

/** Warnings for secret mounts the Dockerfile has and the target does not configure (said before the build runs). */
export function unconfiguredSecretWarnings(features: DockerfileFeatures, configured: Iterable<string>, dockerfile: string): string[] {
  const have = new Set(configured);
  const seen = new Set<string>();
  const out: string[] = [];
  for (const s of features.secrets) {
    if (have.has(s.id) || seen.has(s.id)) continue;
    seen.add(s.id);
    const consequence = s.required ? 'the build fails there (the mount is required)' : 'that step runs without it';
    out.push(
      `warning: ${dockerfile}:${s.line} mounts the secret "${s.id}", which the target does not configure, so ${consequence}. ` +
        `Add "build": {"secrets": {"${s.id}": {"env": "VARIABLE"}}} (or {"file": "~/path"}) to the target in .provenance.json.`,
    );
  }
  return out;
}
