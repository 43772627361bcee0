// readDockerState against a real daemon (see scripts/docker-daemon.sh). Every test removes what it built.
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { readDockerState, pingDocker } from '../../src/core/docker/state';
import type { ContainerInfo, DockerState, ImageInfo } from '../../src/core/types';
import {
  buildBusyboxImage,
  cleanupDocker,
  requireDocker,
  runContainer,
  testEndpoint,
  uniqueName,
} from '../support/dockerFixtures';

const REV = 'org.opencontainers.image.revision';
const FULL = '0123456789abcdef0123456789abcdef01234567';
const OTHER = 'fedcba9876543210fedcba9876543210fedcba98';

function reachable(state: DockerState): Extract<DockerState, { reachable: true }> {
  if (!state.reachable) assert.fail(`Docker unreachable: ${state.reason} / ${state.hint}`);
  return state;
}

function byTag(images: ImageInfo[], tag: string): ImageInfo {
  const img = images.find((i) => i.tags.includes(tag));
  assert.ok(img, `no image tagged ${tag} in ${JSON.stringify(images.map((i) => i.tags))}`);
  return img;
}

function byName(containers: ContainerInfo[], name: string): ContainerInfo {
  const c = containers.find((x) => x.name === name);
  assert.ok(c, `no container ${name} in ${JSON.stringify(containers.map((x) => x.name))}`);
  return c;
}

describe('readDockerState on a real daemon', () => {
  test('lists labelled images newest first with their revisions', async (t) => {
    if (!(await requireDocker(t))) return;
    t.after(cleanupDocker);
    const repo = uniqueName('app');
    const specs: Array<[string, Record<string, string>]> = [
      ['unlabeled', {}],
      ['garbage', { [REV]: 'not a sha' }],
      ['dirty', { [REV]: `${FULL}-dirty` }],
      ['short', { [REV]: 'ABCDEF1' }],
      ['full', { [REV]: ` ${FULL} ` }],
    ];
    const built: Record<string, string> = {};
    for (const [tag, labels] of specs) built[tag] = (await buildBusyboxImage({ tags: `${repo}:${tag}`, labels })).id;
    const other = await buildBusyboxImage({ tags: `${uniqueName('unrelated')}:latest`, labels: { [REV]: FULL } });

    const state = reachable(await readDockerState(testEndpoint(), { image: repo, labelKeys: ['missing.key', REV] }));
    assert.equal(state.images.length, 5);
    assert.ok(!state.images.some((i) => i.id === other.id));
    assert.deepEqual(
      state.images.map((i) => i.tags[0]),
      specs.map(([tag]) => `${repo}:${tag}`).reverse(),
      'newest first',
    );
    for (const img of state.images) {
      assert.ok(!Number.isNaN(Date.parse(img.created)) && img.created.endsWith('Z'), img.created);
      assert.equal(img.endpoint, testEndpoint().host);
    }
    assert.equal(byTag(state.images, `${repo}:full`).id, built.full);
    assert.deepEqual(byTag(state.images, `${repo}:full`).revision, {
      kind: 'sha', label: REV, raw: ` ${FULL} `, sha: FULL, dirty: false, short: false,
    });
    assert.deepEqual(byTag(state.images, `${repo}:short`).revision, {
      kind: 'sha', label: REV, raw: 'ABCDEF1', sha: 'abcdef1', dirty: false, short: true,
    });
    const dirty = byTag(state.images, `${repo}:dirty`).revision;
    assert.ok(dirty.kind === 'sha' && dirty.dirty && dirty.sha === FULL);
    const garbage = byTag(state.images, `${repo}:garbage`).revision;
    assert.ok(garbage.kind === 'garbage' && garbage.raw === 'not a sha' && garbage.reason.length > 10);
    assert.deepEqual(byTag(state.images, `${repo}:unlabeled`).revision, { kind: 'none' });
    assert.equal(byTag(state.images, `${repo}:unlabeled`).labels[REV], undefined);
  });

  test('finds running containers, with revisions from the image or their own label', async (t) => {
    if (!(await requireDocker(t))) return;
    t.after(cleanupDocker);
    const repo = uniqueName('svc');
    const labelled = await buildBusyboxImage({ tags: `${repo}:latest`, labels: { [REV]: FULL } });
    const plain = await buildBusyboxImage({ tags: `${repo}:plain` });
    const unrelated = await buildBusyboxImage({ tags: `${uniqueName('unrelated')}:latest`, labels: { [REV]: FULL } });

    const a = await runContainer({ image: `${repo}:latest` });
    const b = await runContainer({ image: `${repo}:plain`, cmd: ['/bin/busybox', 'sleep', '3600'] });
    const c = await runContainer({ image: labelled.id, labels: { [REV]: OTHER } });
    const d = await runContainer({ image: unrelated.tags[0] });

    const state = reachable(await readDockerState(testEndpoint(), { image: repo, labelKeys: [REV] }));
    assert.equal(state.containers.length, 3, JSON.stringify(state.containers.map((x) => x.name)));
    assert.ok(!state.containers.some((x) => x.name === d.name));

    const ca = byName(state.containers, a.name);
    assert.equal(ca.id, a.id);
    assert.equal(ca.imageId, labelled.id);
    assert.equal(ca.image, `${repo}:latest`);
    assert.equal(ca.state, 'running');
    assert.ok(ca.revision.kind === 'sha' && ca.revision.sha === FULL);
    assert.ok(Math.abs(Date.parse(ca.started) - Date.now()) < 120_000, ca.started);

    const cb = byName(state.containers, b.name);
    assert.equal(cb.imageId, plain.id);
    assert.deepEqual(cb.revision, { kind: 'none' });

    const cc = byName(state.containers, c.name);
    assert.ok(cc.revision.kind === 'sha' && cc.revision.sha === OTHER, 'the container label overrides the image label');
  });

  test('keeps a container whose tag moved on to a newer build, with the old build\'s revision', async (t) => {
    if (!(await requireDocker(t))) return;
    t.after(cleanupDocker);
    const tag = `${uniqueName('moving')}:latest`;
    const old = await buildBusyboxImage({ tags: tag, labels: { [REV]: OTHER } });
    const ctr = await runContainer({ image: tag });
    const fresh = await buildBusyboxImage({ tags: tag, labels: { [REV]: FULL } });

    const state = reachable(await readDockerState(testEndpoint(), { image: tag.split(':')[0], labelKeys: [REV] }));
    assert.deepEqual(state.images.map((i) => i.id), [fresh.id], 'the untagged old build is not one of the images');
    const c = byName(state.containers, ctr.name);
    assert.equal(c.imageId, old.id);
    assert.equal(c.image, tag);
    assert.ok(c.revision.kind === 'sha' && c.revision.sha === OTHER);
  });

  test('matches tags by glob, tag glob and Docker Hub long form', async (t) => {
    if (!(await requireDocker(t))) return;
    t.after(cleanupDocker);
    const base = uniqueName('glob');
    const one = await buildBusyboxImage({ tags: [`${base}-one:v1`, `${base}-one:latest`] });
    const two = await buildBusyboxImage({ tags: `${base}-two:v2` });
    const nested = await buildBusyboxImage({ tags: `${base}-ns/deep:latest` });
    const ctr = await runContainer({ image: `${base}-two:v2` });

    const ids = async (image: string) => {
      const s = reachable(await readDockerState(testEndpoint(), { image, labelKeys: [REV] }));
      return { images: s.images.map((i) => i.id).sort(), containers: s.containers.map((c) => c.name) };
    };
    assert.deepEqual((await ids(`${base}-*`)).images, [one.id, two.id].sort());
    assert.deepEqual((await ids(`${base}-*`)).containers, [ctr.name]);
    assert.deepEqual((await ids(`${base}-one`)).images, [one.id]);
    assert.deepEqual((await ids(`${base}-*:v*`)).images, [one.id, two.id].sort());
    assert.deepEqual((await ids(`${base}-*:v2`)).images, [two.id]);
    assert.deepEqual((await ids(`docker.io/library/${base}-one`)).images, [one.id]);
    assert.deepEqual((await ids(`${base}-**`)).images, [one.id, two.id, nested.id].sort());
    assert.deepEqual((await ids(`${base}-nothing`)).images, []);
    const oneInfo = reachable(await readDockerState(testEndpoint(), { image: `${base}-one`, labelKeys: [REV] })).images[0];
    assert.deepEqual([...oneInfo.tags].sort(), [`${base}-one:latest`, `${base}-one:v1`]);
  });

  test('pingDocker answers for the test daemon', async (t) => {
    if (!(await requireDocker(t))) return;
    assert.deepEqual(await pingDocker(testEndpoint()), { reachable: true });
  });
});

describe('readDockerState on unreachable endpoints (no daemon needed)', () => {
  test('missing unix socket', async () => {
    const endpoint = { host: 'unix:///tmp/nonexistent.sock', source: 'target' };
    const s = await readDockerState(endpoint, { image: 'x', labelKeys: [REV] });
    assert.equal(s.reachable, false);
    assert.ok(!s.reachable);
    assert.deepEqual(s.endpoint, endpoint);
    assert.match(s.reason, /Cannot connect to Docker at unix:\/\/\/tmp\/nonexistent\.sock: socket not found/);
    assert.match(s.hint, /Start the Docker daemon/);
    const p = await pingDocker(endpoint);
    assert.ok(!p.reachable && /socket not found/.test(p.reason));
  });

  test('refused tcp port on loopback', async () => {
    const s = await readDockerState({ host: 'tcp://127.0.0.1:1', source: 'target' }, { image: 'x', labelKeys: [REV] });
    assert.ok(!s.reachable);
    assert.match(s.reason, /tcp:\/\/127\.0\.0\.1:1: connection refused/);
    assert.match(s.hint, /DOCKER_HOST/);
  });

  test('malformed host', async () => {
    const s = await readDockerState({ host: 'tcp://', source: 'target' }, { image: 'x', labelKeys: [REV] });
    assert.ok(!s.reachable);
    assert.match(s.reason, /Malformed Docker host/);
  });

  test('a silent server times out, and a caller abort cancels', async (t) => {
    const sockets = new Set<Socket>();
    const server: Server = createServer((sock) => sockets.add(sock)); // accepts, never answers
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => {
      for (const s of sockets) s.destroy();
      server.close();
    });
    const port = (server.address() as { port: number }).port;
    const endpoint = { host: `tcp://127.0.0.1:${port}`, source: 'target' };

    const started = Date.now();
    const s = await readDockerState(endpoint, { image: 'x', labelKeys: [REV], timeoutMs: 300 });
    assert.ok(Date.now() - started < 3000);
    assert.ok(!s.reachable);
    assert.match(s.reason, /did not answer within 300 ms/);

    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 50);
    const c = await readDockerState(endpoint, { image: 'x', labelKeys: [REV], signal: ctl.signal, timeoutMs: 10_000 });
    assert.ok(!c.reachable);
    assert.match(c.reason, /cancelled/);
  });
});
