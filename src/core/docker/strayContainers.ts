// Containers a killed process could not remove (SIGKILL skips every clean-up): the smoke test's and
// verification's own containers carry `<host>:<pid>` of their owner, and those whose owner is gone
// are removed. Containers of a live process, or of another host (whose processes cannot be
// checked), are left alone.
import { hostname } from 'node:os';
import type Dockerode from 'dockerode';
import { processAlive } from '../processes';
import type { DockerEndpoint } from '../types';
import { connectDocker } from './state';

/** Removes the containers labelled `<label>=1` whose owner (`ownerLabel`) is gone; returns their names. */
export async function removeStrayContainers(
  endpoint: DockerEndpoint,
  labels: { label: string; ownerLabel: string },
  isLive: (id: string) => boolean = () => false,
): Promise<string[]> {
  const docker = await connectDocker(endpoint, 10_000);
  const list = await docker.listContainers({ all: true, filters: { label: [`${labels.label}=1`] } });
  const stray = list.filter((c) => {
    if (isLive(c.Id)) return false;
    const owner = /^(.*):(\d+)$/.exec(c.Labels?.[labels.ownerLabel] ?? '');
    if (!owner) return true;
    return owner[1] === hostname() && !processAlive(Number(owner[2]));
  });
  await Promise.all(stray.map((c) => removeQuietly(docker, c.Id)));
  return stray.map((c) => (c.Names?.[0] ?? c.Id).replace(/^\//, ''));
}

/** Force-removes a container; one already gone (404) or being removed (409) is fine. */
export async function removeQuietly(docker: Dockerode, id: string): Promise<void> {
  try {
    await docker.getContainer(id).remove({ force: true, v: true });
  } catch (err) {
    const code = (err as { statusCode?: number }).statusCode;
    if (code !== 404 && code !== 409) throw err;
  }
}
