// The built-in build on the classic builder (the fallback where the engine has no BuildKit, or
// when a setting asks for it): the context streamed through dockerode's buildImage (POST /build,
// version 1). Output is the engine's JSON message stream; an `errorDetail` in it is the failure.
// Cancel aborts the HTTP request and destroys both streams; the engine then stops the build and
// removes its intermediate container (forcerm), which we make sure of.
import type Dockerode from 'dockerode';
import { BuildFailedError, engineMessage } from './buildErrors';
import { EngineStreamParser, type BuildRequest } from './engineStream';
import { abortError } from '../git/exec';

/** The classic builder's stream: `stream` text becomes lines, `aux.ID` is the image, `errorDetail` the failure. */
export class BuildStreamParser extends EngineStreamParser {
  private text = '';

  constructor(private readonly onLine: (line: string) => void) {
    super();
  }

  protected finish(): void {
    if (this.text) this.onLine(this.text);
    this.text = '';
  }

  protected message(raw: string): void {
    const line = raw.trim();
    if (!line) return;
    let msg: { stream?: string; status?: string; progress?: string; id?: string; error?: string; errorDetail?: { message?: string; code?: number }; aux?: { ID?: string } };
    try {
      msg = JSON.parse(line);
    } catch {
      this.output(`${line}\n`);
      return;
    }
    if (msg.aux?.ID) this.imageId = msg.aux.ID;
    if (msg.errorDetail || msg.error) {
      this.error = (msg.errorDetail?.message || msg.error || 'unknown build error').trim();
      this.output(`ERROR: ${this.error}\n`);
    }
    if (typeof msg.stream === 'string') this.output(msg.stream);
    else if (typeof msg.status === 'string') this.output(`${msg.id ? `${msg.id}: ` : ''}${msg.status}${msg.progress ? ` ${msg.progress}` : ''}\n`);
    // The classic builder's last words when no aux message came (older engines).
    const m = /Successfully built ([0-9a-f]{12,64})/.exec(msg.stream ?? '');
    if (m && !this.imageId) this.imageId = m[1];
  }

  private output(s: string): void {
    const parts = (this.text + s).split(/\r?\n/);
    this.text = parts.pop() ?? '';
    for (const p of parts) this.onLine(p);
  }
}

/** Builds and tags the image with the classic builder; resolves with its ID. Rejects with BuildFailedError, or AbortError on cancel. */
export async function buildClassic(docker: Dockerode, opts: BuildRequest): Promise<{ imageId: string }> {
  if (opts.signal?.aborted) throw abortError();
  const ctx = opts.context;
  // The classic builder names each RUN step's container ("Running in <id>"); after a cancel we
  // make sure they are gone rather than trusting the engine to get there eventually.
  const stepContainers = new Set<string>();
  const parser = new BuildStreamParser((l) => {
    const m = /^ ---> Running in ([0-9a-f]{12,64})$/.exec(l);
    if (m) stepContainers.add(m[1]);
    opts.onOutput?.(l);
  });
  const request = new AbortController();
  const onAbort = () => {
    request.abort();
    ctx.destroy();
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let res: NodeJS.ReadableStream | undefined;
  try {
    const params: Dockerode.ImageBuildOptions = {
      // The engine takes repeated `t` parameters; docker-modem writes an array that way.
      t: opts.tags as unknown as string,
      dockerfile: ctx.dockerfileName,
      buildargs: opts.buildArgs,
      labels: opts.labels,
      rm: true,
      forcerm: true,
      version: '1',
      abortSignal: request.signal,
      ...(opts.targetStage ? { target: opts.targetStage } : {}),
      ...(opts.network ? { networkmode: opts.network } : {}),
    };
    try {
      res = await docker.buildImage(ctx.stream, params);
    } catch (err) {
      if (opts.signal?.aborted) throw abortError();
      throw new BuildFailedError(engineMessage(err));
    }
    const stream = res as NodeJS.ReadableStream & { destroy(err?: Error): void };
    await new Promise<void>((resolve, reject) => {
      if (opts.signal?.aborted) {
        stream.destroy();
        reject(abortError());
        return;
      }
      const stop = () => {
        stream.destroy();
        reject(abortError());
      };
      opts.signal?.addEventListener('abort', stop, { once: true });
      stream.setEncoding('utf8');
      stream.on('data', (c: string) => parser.push(c));
      stream.on('end', () => {
        opts.signal?.removeEventListener('abort', stop);
        resolve();
      });
      stream.on('error', (err: Error) => {
        opts.signal?.removeEventListener('abort', stop);
        reject(opts.signal?.aborted ? abortError() : err);
      });
    });
    parser.end();
    if (parser.error) throw new BuildFailedError(parser.error);
    // The upload may have failed after the engine answered (a file that could not be read).
    await ctx.done.catch((err: Error) => {
      throw new BuildFailedError(err.message);
    });
    const id = parser.imageId;
    if (!id) throw new BuildFailedError('The engine finished the build without reporting an image ID; see the build output.');
    const full = await docker.getImage(id).inspect();
    return { imageId: full.Id };
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    ctx.destroy();
    if (res) (res as unknown as { destroy(): void }).destroy();
    if (opts.signal?.aborted) await reapStepContainers(docker, stepContainers);
  }
}

/**
 * After a cancel the engine kills and removes the running step's container on its own, a moment
 * later. Wait for that (up to 10 s), then remove whatever is left, so a cancel leaves nothing behind.
 */
async function reapStepContainers(docker: Dockerode, ids: Set<string>): Promise<void> {
  const deadline = Date.now() + 10_000;
  let left = [...ids];
  while (left.length > 0 && Date.now() < deadline) {
    const alive = await Promise.all(left.map((id) => docker.getContainer(id).inspect().then(() => true, (err: { statusCode?: number }) => err.statusCode !== 404)));
    left = left.filter((_, i) => alive[i]);
    if (left.length > 0) await new Promise((r) => setTimeout(r, 200));
  }
  await Promise.all(left.map((id) => docker.getContainer(id).remove({ force: true }).catch(() => undefined)));
}
