// The built-in build on BuildKit: POST /build with version=2, the context as the same streamed
// tar the classic path sends (so the ignore file decides what BuildKit sees: an excluded path is
// simply not there, for COPY and for bind mounts alike), and a session of our own that serves
// secrets. Progress is rendered in the docker CLI's plain style (buildkitProgress.ts).
// Cancel does what the docker CLI does on Ctrl-C: POST /build/cancel for the build's ID, then
// waits (a few seconds at most) for the engine to end the stream, which it does once the solve
// has stopped and its RUN containers are gone; then the session is closed.
import { randomUUID } from 'node:crypto';
import type Dockerode from 'dockerode';
import type { BuildRequest } from './engineStream';
import { BuildKitStreamParser, traceDecoder } from './buildkitProgress';
import { openBuildKitSession } from './buildkitSession';
import { BuildFailedError, engineMessage } from './buildErrors';
import { abortError } from '../git/exec';

export interface BuildKitRequest extends BuildRequest {
  /** Absolute path of the context directory (keys the engine's context cache). */
  contextDir: string;
  /** Secret ID → content, served to RUN --mount=type=secret. */
  secrets: Map<string, Buffer>;
}

/** The engine has no BuildKit session endpoint after all (the caller may fall back to classic). */
export class BuildKitUnavailableError extends Error {
  override name = 'BuildKitUnavailableError';
}

type Dial = (o: Record<string, unknown>, cb: (err: (Error & { statusCode?: number }) | null, res: NodeJS.ReadableStream & { destroy(): void }) => void) => void;

function dial(docker: Dockerode, o: Record<string, unknown>): Promise<NodeJS.ReadableStream & { destroy(): void }> {
  const modem = docker.modem as unknown as { dial: Dial };
  return new Promise((resolve, reject) => modem.dial.call(docker.modem, o, (err, res) => (err ? reject(err) : resolve(res))));
}

/** Asks the engine to stop the build; best effort, a few seconds at most. */
async function cancelBuild(docker: Dockerode, buildId: string): Promise<void> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), 5000);
  try {
    const res = await dial(docker, { path: '/build/cancel?', method: 'POST', options: { id: buildId }, abortSignal: ctl.signal, isStream: true, statusCodes: { 200: true, 404: 'not found', 500: 'server error' } });
    res.resume?.();
  } catch {
    /* the stream is destroyed below anyway */
  } finally {
    clearTimeout(timer);
  }
}

export interface BuildKitResult {
  imageId: string;
  /** Secret IDs the build asked for that build.secrets does not configure. */
  missingSecrets: string[];
}

/** Builds with BuildKit; resolves with the image ID. Rejects with BuildFailedError (with the missing secrets), or AbortError on cancel. */
export async function buildWithBuildKit(docker: Dockerode, req: BuildKitRequest): Promise<BuildKitResult> {
  if (req.signal?.aborted) throw abortError();
  const decode = traceDecoder();
  let session;
  try {
    session = await openBuildKitSession(docker, { secrets: req.secrets, contextDir: req.contextDir, signal: req.signal });
  } catch (err) {
    if (req.signal?.aborted) throw abortError();
    const code = (err as { statusCode?: number }).statusCode;
    if (code === 404 || code === 400) throw new BuildKitUnavailableError(engineMessage(err));
    throw new BuildFailedError(`Could not open a BuildKit session on the engine: ${engineMessage(err)}`);
  }
  const buildId = randomUUID();
  const upload = new AbortController();
  const parser = new BuildKitStreamParser(decode, (l) => req.onOutput?.(l));
  let stream: (NodeJS.ReadableStream & { destroy(): void }) | undefined;
  let cancelled = false;
  const onAbort = () => {
    cancelled = true;
    // Before the engine answered: stop the upload. After: see consume().
    if (!stream) {
      upload.abort();
      req.context.destroy();
      void cancelBuild(docker, buildId);
    }
  };
  req.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    try {
      stream = await dial(docker, {
        path: '/build?',
        method: 'POST',
        file: req.context.stream,
        isStream: true,
        abortSignal: upload.signal,
        statusCodes: { 200: true, 400: 'bad parameter', 500: 'server error' },
        options: {
          // The engine takes repeated `t` parameters; docker-modem writes an array that way.
          t: req.tags,
          dockerfile: req.context.dockerfileName,
          buildargs: req.buildArgs,
          labels: req.labels,
          version: '2',
          session: session.id,
          buildid: buildId,
          rm: true,
          forcerm: true,
          ...(req.targetStage ? { target: req.targetStage } : {}),
          ...(req.network ? { networkmode: req.network } : {}),
        },
      });
    } catch (err) {
      if (cancelled || req.signal?.aborted) throw abortError();
      throw new BuildFailedError(engineMessage(err));
    }
    if (cancelled) {
      await cancelBuild(docker, buildId);
      stream.destroy();
      throw abortError();
    }
    await consume(docker, stream, parser, buildId, req.signal).catch((err: Error) => {
      if (req.signal?.aborted) throw abortError();
      throw new BuildFailedError(`The connection to the engine broke during the build: ${err.message}`);
    });
    parser.end();
    if (req.signal?.aborted) throw abortError();
    const missingSecrets = [...session.missingSecrets];
    if (parser.error) throw Object.assign(new BuildFailedError(parser.error), { missingSecrets });
    await req.context.done.catch((err: Error) => {
      throw new BuildFailedError(err.message);
    });
    if (!parser.imageId) throw new BuildFailedError('The engine finished the BuildKit build without reporting an image ID; see the build output.');
    return { imageId: parser.imageId, missingSecrets };
  } finally {
    req.signal?.removeEventListener('abort', onAbort);
    req.context.destroy();
    stream?.destroy();
    session.close();
  }
}

/** Reads the stream to its end. On abort: cancels the build, waits for the engine to end the stream (≤ 10 s), rejects. */
function consume(docker: Dockerode, stream: NodeJS.ReadableStream & { destroy(): void }, parser: BuildKitStreamParser, buildId: string, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    let giveUp: NodeJS.Timeout | undefined;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(giveUp);
      signal?.removeEventListener('abort', stop);
      if (signal?.aborted) reject(abortError());
      else if (err) reject(err);
      else resolve();
    };
    const stop = () => {
      void cancelBuild(docker, buildId);
      giveUp = setTimeout(() => {
        stream.destroy();
        finish();
      }, 10_000);
    };
    if (signal?.aborted) stop();
    else signal?.addEventListener('abort', stop, { once: true });
    stream.setEncoding('utf8');
    stream.on('data', (c: string) => parser.push(c));
    stream.on('end', () => finish());
    stream.on('close', () => finish());
    stream.on('error', (err: Error) => finish(err));
  });
}
