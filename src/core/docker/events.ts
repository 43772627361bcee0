// Docker's event stream for one endpoint, reconnecting with backoff: the extension refreshes on
// container start/die and image tag/untag/delete instead of polling, and notices within a second
// or two when the daemon goes away or comes back.
import { connectDocker, describeFailure } from './state';
import type { DockerEndpoint } from '../types';

export interface DockerEvent {
  type: string;
  action: string;
  id: string;
  /** The image reference: a container's image, or an image event's name (e.g. the new tag). */
  image?: string;
}

export interface DockerEventHandlers {
  onEvent(e: DockerEvent): void;
  /** Connected (stream open) or not, with the reason when not. */
  onConnection(connected: boolean, reason?: string): void;
}

export interface DockerEventWatcher {
  dispose(): void;
}

const INTERESTING = new Set(['start', 'die', 'stop', 'destroy', 'create', 'tag', 'untag', 'delete', 'import', 'load']);

export function watchDockerEvents(
  endpoint: DockerEndpoint,
  handlers: DockerEventHandlers,
  opts: { minBackoffMs?: number; maxBackoffMs?: number } = {},
): DockerEventWatcher {
  const minBackoff = opts.minBackoffMs ?? 1000;
  const maxBackoff = opts.maxBackoffMs ?? 30_000;
  let backoff = minBackoff;
  let disposed = false;
  let timer: NodeJS.Timeout | undefined;
  let stream: NodeJS.ReadableStream & { destroy?: () => void } | undefined;
  let connected: boolean | undefined;

  const setConnected = (c: boolean, reason?: string) => {
    if (connected === c) return;
    connected = c;
    handlers.onConnection(c, reason);
  };

  const retry = (reason: string) => {
    stream = undefined;
    if (disposed) return;
    setConnected(false, reason);
    clearTimeout(timer);
    timer = setTimeout(open, backoff);
    backoff = Math.min(maxBackoff, backoff * 2);
  };

  async function open() {
    if (disposed) return;
    try {
      // No idle timeout: the event stream is quiet for long stretches.
      const docker = await connectDocker(endpoint);
      const s = (await docker.getEvents({ filters: { type: ['container', 'image'] } })) as NodeJS.ReadableStream & { destroy?: () => void };
      if (disposed) {
        s.destroy?.();
        return;
      }
      stream = s;
      backoff = minBackoff;
      setConnected(true);
      let buf = '';
      s.on('data', (chunk: Buffer | string) => {
        buf += chunk.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          try {
            const e = JSON.parse(line) as { Type?: string; Action?: string; Actor?: { ID?: string; Attributes?: Record<string, string> }; id?: string };
            const action = (e.Action ?? '').split(':')[0];
            const attrs = e.Actor?.Attributes ?? {};
            const image = e.Type === 'image' ? attrs.name : attrs.image;
            if (INTERESTING.has(action)) handlers.onEvent({ type: e.Type ?? '', action, id: e.Actor?.ID ?? e.id ?? '', image });
          } catch {
            /* a partial or foreign line: ignore it, the next refresh reads the full state anyway */
          }
        }
      });
      s.on('error', (err: Error) => retry(describeFailure(endpoint, err).reason));
      s.on('end', () => retry(`The Docker event stream at ${endpoint.host} ended.`));
    } catch (err) {
      retry(describeFailure(endpoint, err).reason);
    }
  }

  void open();
  return {
    dispose() {
      disposed = true;
      clearTimeout(timer);
      stream?.destroy?.();
      stream = undefined;
    },
  };
}
