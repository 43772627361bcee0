// Docker-in-Docker sandboxes, found with no configuration: a second dockerd plays the sandbox's
// inner daemon, a FROM-scratch sandbox container (busybox + the docker CLI) on the test daemon
// holds its socket at /var/run/docker.sock and a volume at /var/lib/docker, and the desktop image
// inside is tagged registry:5000/<name>:<tag> (copied with docker save | docker load, no
// registry). Status reads it through `docker system dial-stdio` exec'd in the sandbox.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { watchDockerEvents } from '../../src/core/docker/events';
import { nestedAgentContainers, nestedEndpoint, readDockerState } from '../../src/core/docker/state';
import type { DockerEndpoint } from '../../src/core/types';
import { runCli } from '../support/cli';
import { buildBusyboxImage, cleanupDocker, requireDocker, testEndpoint, uniqueName } from '../support/dockerFixtures';
import { FixtureRepo } from '../support/gitFixture';
import { InnerDaemon, buildSandboxImage, copyImageInto, innerProblem, removeSandbox, runSandbox } from '../support/innerDaemon';

const REV = 'org.opencontainers.image.revision';

interface Env {
  inner: InnerDaemon;
  sandbox: { id: string; name: string };
  image: string;
  imageId: string;
  base: string;
  repo: FixtureRepo;
}

let env: Env | undefined;
let failed: string | undefined;
const sandboxes: string[] = [];
let inner: InnerDaemon | undefined;

before(async () => {
  if (innerProblem()) return;
  try {
    inner = await InnerDaemon.start();
    const sandboxImage = await buildSandboxImage(true);
    const sandbox = await runSandbox(sandboxImage, inner);
    sandboxes.push(sandbox.name);
    const image = uniqueName('helix-ubuntu');
    const repo = FixtureRepo.create('bp-nested-');
    const base = repo.commit('init', {
      '.provenance.json': JSON.stringify({ targets: [{ name: 'desktop', image, dockerfile: 'Dockerfile' }] }),
      Dockerfile: 'FROM scratch\nCOPY app/ /app/\n',
      'app/run': 'v1\n',
    });
    // Built on the host, "pushed", pulled inside the sandbox as registry:5000/<image>:<6 hex of its ID>.
    const img = await buildBusyboxImage({ tags: [`${image}:latest`], labels: { [REV]: base } });
    await copyImageInto(inner, img.id);
    const tag = img.id.replace(/^sha256:/, '').slice(0, 6);
    await inner.cli(['tag', img.id, `registry:5000/${image}:${tag}`]);
    await inner.cli(['run', '-d', '--restart', 'always', '--network', 'host', '--name', 'ubuntu-external-01', `registry:5000/${image}:${tag}`]);
    env = { inner, sandbox, image, imageId: img.id, base, repo };
  } catch (err) {
    failed = (err as Error).stack ?? String(err);
  }
});

after(async () => {
  for (const s of sandboxes) await removeSandbox(s);
  await inner?.dispose();
  env?.repo.cleanup();
  await cleanupDocker();
});

async function setup(t: { skip(msg: string): void }): Promise<Env | undefined> {
  if (!(await requireDocker(t as never))) return undefined;
  const p = innerProblem();
  if (p) {
    if (process.env.CI === 'true') throw new Error(p);
    t.skip(p);
    return undefined;
  }
  if (failed || !env) throw new Error(`the sandbox could not be set up: ${failed}`);
  return env;
}

async function status(dir: string, extra: string[] = []) {
  const r = await runCli(['status', '--json', ...extra, '--cwd', dir]);
  assert.ok(r.code === 0 || r.code === 1, r.err);
  return r.json();
}

async function until(what: string, cond: () => boolean, ms: number): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('Docker-in-Docker sandboxes', () => {
  test('status through the sandbox: running via it, the same image ID on both daemons is one build', async (t) => {
    const e = await setup(t);
    if (!e) return;
    const s = await status(e.repo.dir);
    assert.equal(s.state, 'in-sync', s.summary);
    assert.equal(s.running.length, 1, JSON.stringify(s.running));
    assert.equal(s.running[0].name, 'ubuntu-external-01');
    assert.equal(s.running[0].via, e.sandbox.name);
    assert.equal(s.running[0].imageId, e.imageId, 'the inner container runs the host image, by ID');
    assert.equal(s.running[0].revision, e.base, 'the label of the one build');
    assert.equal(s.built.imageId, e.imageId);
    const tag = e.imageId.replace(/^sha256:/, '').slice(0, 6);
    assert.deepEqual([...s.built.tags].sort(), [`${e.image}:latest`, `registry:5000/${e.image}:${tag}`].sort(), 'one build with the tags of both daemons');
    assert.deepEqual(s.docker.unreachable, []);
    const human = await runCli(['status', '--cwd', e.repo.dir]);
    assert.match(human.out, new RegExp(`Running {2}ubuntu-external-01 @ ${e.base.slice(0, 12)} in ${e.sandbox.name}, since `));
    // History: one image, running in the sandbox.
    const h = await runCli(['history', '--json', '--cwd', e.repo.dir]);
    assert.equal(h.code, 0, h.err);
    const images = h.json().targets[0].images.filter((i: { imageId: string }) => i.imageId === e.imageId);
    assert.equal(images.length, 1, 'the image of both daemons is one entry');
    assert.deepEqual(
      images[0].containers.filter((c: { state: string }) => c.state === 'running').map((c: { name: string; endpoint: string }) => [c.name, c.endpoint]),
      [['ubuntu-external-01', `docker-exec://${e.sandbox.name}`]],
    );
    assert.equal(images[0].revision.sha, e.base);
  });

  test('events of the inner daemon: a container start shows within a second', async (t) => {
    const e = await setup(t);
    if (!e) return;
    const seen: { action: string; image?: string; at: number }[] = [];
    let connected = false;
    const w = watchDockerEvents(nestedEndpoint(testEndpoint(), e.sandbox.id, e.sandbox.name), {
      onEvent: (ev) => seen.push({ action: ev.action, image: ev.image, at: Date.now() }),
      onConnection: (c) => (connected = c),
    });
    const name = uniqueName('desk');
    try {
      await until('the inner event stream', () => connected, 10_000);
      const tag = e.imageId.replace(/^sha256:/, '').slice(0, 6);
      await e.inner.cli(['run', '-d', '--network', 'host', '--name', name, `registry:5000/${e.image}:${tag}`]);
      const ran = Date.now();
      await until('the start event', () => seen.some((x) => x.action === 'start'), 2000);
      const start = seen.find((x) => x.action === 'start')!;
      assert.ok(start.at - ran < 1000, `seen ${start.at - ran} ms after docker run returned`);
      assert.match(start.image ?? '', /registry:5000\//);
    } finally {
      w.dispose();
      await e.inner.cli(['rm', '-f', name]).catch(() => undefined);
    }
  });

  test('the inner daemon stopped: a note on that endpoint, not a failure; it recovers by events when it is back', async (t) => {
    const e = await setup(t);
    if (!e) return;
    const changes: { connected: boolean; reason?: string }[] = [];
    const w = watchDockerEvents(nestedEndpoint(testEndpoint(), e.sandbox.id, e.sandbox.name), {
      onEvent: () => undefined,
      onConnection: (connected, reason) => changes.push({ connected, reason }),
    }, { minBackoffMs: 200, maxBackoffMs: 500 });
    try {
      await until('the inner event stream', () => changes.some((c) => c.connected), 10_000);
      await e.inner.down();
      await until('the lost stream', () => changes.some((c) => !c.connected), 5000);
      const s = await status(e.repo.dir);
      assert.equal(s.docker.reachable, true, 'the outer daemon answers');
      assert.notEqual(s.state, 'docker-unreachable');
      assert.equal(s.running.length, 0);
      assert.equal(s.built.imageId, e.imageId, 'the host image still counts');
      const note = s.docker.unreachable.find((u: { endpoint: string }) => u.endpoint === `docker-exec://${e.sandbox.name}`);
      assert.ok(note, JSON.stringify(s.docker.unreachable));
      assert.match(note.reason, new RegExp(`Cannot read the Docker daemon inside ${e.sandbox.name}: its daemon does not answer`));
      const n = changes.length;
      await e.inner.up();
      await until('the stream back', () => changes.slice(n).some((c) => c.connected), 15_000);
      let again = await status(e.repo.dir);
      for (let i = 0; i < 40 && again.running.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 250));
        again = await status(e.repo.dir);
      }
      assert.deepEqual(again.running.map((r: { via: string }) => r.via), [e.sandbox.name]);
      assert.deepEqual(again.docker.unreachable, []);
    } finally {
      w.dispose();
    }
  });

  test('a Docker-in-Docker-looking container without a docker CLI is a note, never a failure', async (t) => {
    const e = await setup(t);
    if (!e) return;
    const nocli = await runSandbox(await buildSandboxImage(false), null, uniqueName('dind-nocli'));
    sandboxes.push(nocli.name);
    try {
      const s = await status(e.repo.dir);
      assert.equal(s.state, 'in-sync', s.summary);
      assert.equal(s.running[0].via, e.sandbox.name);
      const note = s.docker.unreachable.find((u: { endpoint: string }) => u.endpoint === `docker-exec://${nocli.name}`);
      assert.ok(note, JSON.stringify(s.docker.unreachable));
      assert.match(note.reason, /the container has no docker CLI/);
      const human = await runCli(['status', '--cwd', e.repo.dir]);
      assert.match(human.out, new RegExp(`docker-exec://${nocli.name} unreachable`));
    } finally {
      await removeSandbox(nocli.name);
    }
  });

  test('a long-lived process drops the connection of a sandbox that no longer runs', async (t) => {
    const e = await setup(t);
    if (!e) return;
    const extra = await runSandbox(await buildSandboxImage(true), e.inner, uniqueName('dind-gone'));
    sandboxes.push(extra.name);
    const outer = testEndpoint();
    const readAll = async () => {
      let nested: DockerEndpoint[] = [];
      const s = await readDockerState(outer, { image: e.image, labelKeys: [REV], onNested: (n) => (nested = n) });
      assert.ok(s.reachable, JSON.stringify(s));
      for (const n of nested) assert.ok((await readDockerState(n, { image: e.image, labelKeys: [REV] })).reachable, n.host);
      return nested.map((n) => n.via?.name);
    };
    assert.ok((await readAll()).includes(extra.name));
    assert.ok(nestedAgentContainers().includes(extra.id), 'one shared agent per sandbox read');
    assert.ok(nestedAgentContainers().includes(e.sandbox.id));
    await removeSandbox(extra.name);
    assert.ok(!(await readAll()).includes(extra.name));
    assert.ok(nestedAgentContainers().includes(e.sandbox.id), 'the running sandbox keeps its agent');
    assert.ok(!nestedAgentContainers().includes(extra.id), 'the removed sandbox\'s agent is gone');
  });

  test('"nested": false turns discovery off; docker-exec://NAME names one explicitly', async (t) => {
    const e = await setup(t);
    if (!e) return;
    const repo = FixtureRepo.create('bp-nested-cfg-');
    t.after(() => repo.cleanup());
    const target = { name: 'desktop', image: e.image, dockerfile: 'Dockerfile' };
    repo.commit('init', {
      '.provenance.json': JSON.stringify({ targets: [{ ...target, docker: { nested: false } }] }),
      Dockerfile: 'FROM scratch\nCOPY app/ /app/\n',
      'app/run': 'v1\n',
    });
    const off = await status(repo.dir);
    assert.equal(off.running.length, 0);
    assert.deepEqual(off.docker.unreachable, []);
    repo.commit('explicit', {
      '.provenance.json': JSON.stringify({ targets: [{ ...target, docker: { nested: false, endpoints: [testEndpoint().host, `docker-exec://${e.sandbox.name}`] } }] }),
    });
    const named = await status(repo.dir);
    assert.deepEqual(named.running.map((r: { via: string }) => r.via), [e.sandbox.name]);
  });

  test('untrusted: configured docker-exec endpoints are not used, zero-config discovery runs', async (t) => {
    const e = await setup(t);
    if (!e) return;
    const repo = FixtureRepo.create('bp-nested-untrusted-');
    t.after(() => repo.cleanup());
    repo.commit('init', {
      '.provenance.json': JSON.stringify({
        targets: [{ name: 'desktop', image: e.image, dockerfile: 'Dockerfile', docker: { endpoints: ['unix:///nonexistent/docker.sock', `docker-exec://${e.sandbox.name}`] } }],
      }),
      Dockerfile: 'FROM scratch\nCOPY app/ /app/\n',
      'app/run': 'v1\n',
    });
    const trusted = await status(repo.dir);
    assert.equal(trusted.state, 'docker-unreachable', 'the configured endpoints are the only ones, and neither answers');
    const untrusted = await status(repo.dir, ['--untrusted']);
    assert.deepEqual(untrusted.running.map((r: { via: string }) => r.via), [e.sandbox.name]);
  });
});
