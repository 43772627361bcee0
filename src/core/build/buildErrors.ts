// A failed built-in build: the engine's own words, plus, where we can tell why, one line that
// says what to do (a `# syntax=` frontend that could not be pulled, syntax newer than the
// engine's built-in frontend, a secret the target does not configure, --mount on the classic
// builder). Pure.
import type { BuilderChoice } from './builderChoice';
import { versionAtLeast } from './builderChoice';
import type { DockerfileFeatures } from './dockerfileFeatures';

/** The engine reported a failed build (or refused it); `message` is what it said. */
export class BuildFailedError extends Error {
  override name = 'BuildFailedError';
  /** Secret IDs the build asked for that build.secrets does not configure (BuildKit). */
  missingSecrets: string[] = [];
}

/** The engine's own words from a dockerode error (`(HTTP code 500) server error - …`). */
export function engineMessage(err: unknown): string {
  const e = err as { json?: { message?: string }; message?: string; statusCode?: number };
  if (e?.json && typeof e.json === 'object' && typeof e.json.message === 'string') return e.json.message.trim();
  const m = /^\(HTTP code \d+\) [^-]*- (.*)$/s.exec(e?.message ?? '');
  return (m ? m[1] : (e?.message ?? String(err))).trim();
}

export interface FailureContext {
  /** The engine's message. */
  message: string;
  /** Repo-relative Dockerfile path, for "Dockerfile:3". */
  dockerfile: string;
  features: DockerfileFeatures;
  builder: BuilderChoice;
  /** The engine's version, e.g. "20.10.24+dfsg1" ('' when unknown). */
  engineVersion: string;
  /** Secret IDs configured in build.secrets. */
  configuredSecrets: string[];
  /** Secret IDs the build asked for that are not configured. */
  missingSecrets: string[];
}

function engineLabel(v: string): string {
  return v ? `Docker Engine ${v.replace(/\+.*$/, '')}` : 'this engine';
}

/** One line that explains a failure and says what to do, or null when there is nothing to add. */
export function explainBuildFailure(c: FailureContext): string | null {
  const msg = c.message;
  const f = c.features;
  if (c.builder.kind === 'classic' && f.mounts && /--mount|BuildKit/i.test(msg)) {
    return `RUN --mount needs BuildKit, and this build used the classic builder because ${c.builder.why}.${c.builder.forced ? ' Drop that override to build with BuildKit.' : ''}`;
  }
  if (f.syntax && /frontend gateway|resolve image config|docker\/dockerfile|pull access denied|failed to do request|no such host|manifest unknown/i.test(msg)) {
    return (
      `${c.dockerfile}:${f.syntax.line} asks for the Dockerfile frontend ${f.syntax.image} ("# syntax="), and the engine could not pull that image from its registry. ` +
      `Pull it where a registry can be reached (docker pull ${f.syntax.image}, or docker save/load it), remove the line to use the engine's built-in frontend, ` +
      'or build with your own command ("build": {"mode": "command", …} in .provenance.json).'
    );
  }
  const secretIds = [...new Set([...c.missingSecrets, ...f.secrets.filter((s) => !c.configuredSecrets.includes(s.id)).map((s) => s.id)])];
  const secretError = /secret\s+\S+\s*:?\s*not found|secret .* not (found|configured)/i.exec(msg);
  if (secretError && secretIds.length) {
    const id = secretIds.find((s) => msg.includes(s)) ?? secretIds[0];
    const line = f.secrets.find((s) => s.id === id)?.line;
    return `${c.dockerfile}${line ? `:${line}` : ''} needs the secret "${id}", which the target does not configure: add "build": {"secrets": {"${id}": {"env": "VARIABLE"}}} (or {"file": "~/path"}) to it in .provenance.json.`;
  }
  if (f.ssh.length && /ssh/i.test(msg)) {
    return `${c.dockerfile}:${f.ssh[0]} mounts an ssh agent (--mount=type=ssh), which the built-in build does not forward; build with your own command (e.g. docker buildx build --ssh default) instead.`;
  }
  const parseError = /dockerfile parse error|unknown instruction|unknown flag|failed to create LLB definition/i.test(msg);
  if (parseError && !f.syntax) {
    const lineNo = /line (\d+)/.exec(msg);
    const near = lineNo ? Number(lineNo[1]) : null;
    const newer = f.newerSyntax
      .filter((n) => c.builder.kind === 'classic' || !c.engineVersion || !versionAtLeast(c.engineVersion, n.engine))
      // The feature on (or just before) the line the engine names, else the first one.
      .sort((a, b) => (near === null ? 0 : Math.abs(a.line - near) - Math.abs(b.line - near)) || a.line - b.line)[0];
    if (newer) {
      if (c.builder.kind === 'classic') {
        return `${c.dockerfile}:${newer.line} uses ${newer.what}, which the classic builder does not know; BuildKit understands it (Dockerfile syntax ${newer.syntax}, built into Docker Engine ${newer.engine} and later).`;
      }
      return (
        `${c.dockerfile}:${newer.line} uses ${newer.what}: Dockerfile syntax ${newer.syntax}, which Docker Engine ${newer.engine} and later understand; ` +
        `${engineLabel(c.engineVersion)}'s built-in frontend does not. Upgrade the engine, or add "# syntax=docker/dockerfile:${newer.syntax}" as the first line (the engine then pulls that frontend from a registry).`
      );
    }
  }
  return null;
}
