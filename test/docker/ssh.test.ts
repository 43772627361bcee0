// ssh:// endpoints for real: a loopback sshd (own host key, a key made for the test, own
// known_hosts and ssh config) whose remote command is this machine's `docker system dial-stdio`
// against the test daemon. The product spawns the system ssh, as the docker CLI does.
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { watchDockerEvents } from '../../src/core/docker/events';
import { readDockerState } from '../../src/core/docker/state';
import type { DockerState } from '../../src/core/types';
import { runCli } from '../support/cli';
import { buildBusyboxImage, cleanupDocker, requireDocker, runContainer, testEndpoint, uniqueName } from '../support/dockerFixtures';
import { FixtureRepo } from '../support/gitFixture';
import { SshServer, sshProblem, withSshClient } from '../support/sshServer';

const REV = 'org.opencontainers.image.revision';
let server: SshServer | undefined;

after(async () => {
  server?.dispose();
  await cleanupDocker();
});

/** The sshd of these tests, started once; fails under CI when it cannot run, skips locally. */
async function sshd(t: { skip(msg: string): void }): Promise<SshServer | undefined> {
  const problem = sshProblem();
  if (problem) {
    if (process.env.CI === 'true') throw new Error(problem);
    t.skip(problem);
    return undefined;
  }
  server ??= await SshServer.start(testEndpoint().host);
  return server;
}

function down(s: DockerState): Extract<DockerState, { reachable: false }> {
  assert.equal(s.reachable, false, 'expected unreachable');
  return s as Extract<DockerState, { reachable: false }>;
}

describe('ssh:// against a loopback sshd', () => {
  test('status over ssh: the image and the running container', async (t) => {
    if (!(await requireDocker(t))) return;
    const s = await sshd(t);
    if (!s) return;
    const image = uniqueName('ssh-app');
    const repo = FixtureRepo.create('bp-ssh-');
    t.after(() => repo.cleanup());
    const base = repo.commit('init', {
      '.provenance.json': JSON.stringify({ targets: [{ name: 'app', image, dockerfile: 'Dockerfile', docker: { endpoints: [s.host()] } }] }),
      Dockerfile: 'FROM scratch\nCOPY app/ /app/\n',
      'app/run': 'v1\n',
    });
    const img = await buildBusyboxImage({ tags: [`${image}:latest`], labels: { [REV]: base } });
    const ctr = await runContainer({ image: `${image}:latest` });
    await withSshClient(s.client(), async () => {
      const r = await runCli(['status', '--json', '--cwd', repo.dir]);
      assert.equal(r.code, 0, r.err);
      const j = r.json();
      assert.equal(j.state, 'in-sync', j.summary);
      assert.equal(j.built.imageId, img.id);
      assert.deepEqual(j.running.map((c: { name: string }) => c.name), [ctr.name]);
      assert.equal(j.docker.reachable, true);
    });
  });

  test('events over ssh: a container start shows within a second', async (t) => {
    if (!(await requireDocker(t))) return;
    const s = await sshd(t);
    if (!s) return;
    const image = uniqueName('ssh-ev');
    await buildBusyboxImage({ tags: [`${image}:latest`] });
    await withSshClient(s.client(), async () => {
      const seen: { action: string; image?: string; at: number }[] = [];
      let connected!: () => void;
      const up = new Promise<void>((r) => (connected = r));
      const w = watchDockerEvents({ host: s.host(), source: 'test' }, {
        onEvent: (e) => seen.push({ action: e.action, image: e.image, at: Date.now() }),
        onConnection: (c) => c && connected(),
      });
      try {
        await up;
        const t0 = Date.now();
        await runContainer({ image: `${image}:latest` });
        const done = Date.now();
        while (!seen.some((e) => e.action === 'start' && e.image?.startsWith(image)) && Date.now() - done < 2000) await new Promise((r) => setTimeout(r, 20));
        const start = seen.find((e) => e.action === 'start' && e.image?.startsWith(image));
        assert.ok(start, `no start event: ${JSON.stringify(seen)}`);
        assert.ok(start.at - t0 < 1000 + (done - t0), `start seen ${start.at - done} ms after docker run returned`);
        assert.ok(start.at - done < 1000, `start seen ${start.at - done} ms after docker run returned`);
      } finally {
        w.dispose();
      }
    });
  });

  test('an unknown host key and a changed one are refused, never accepted', async (t) => {
    if (!(await requireDocker(t))) return;
    const s = await sshd(t);
    if (!s) return;
    const ep = { host: s.host(), source: 'test' };
    const unknown = await withSshClient(s.client({ knownHosts: '' }), () => readDockerState(ep, { image: 'x', labelKeys: [REV] }));
    assert.match(down(unknown).reason, /the SSH host key is unknown; ssh refused it \(Host key verification failed\)/);
    assert.match(down(unknown).hint, /known_hosts/);
    const other = await SshServer.keyLine(s.port);
    const changed = await withSshClient(s.client({ knownHosts: other }), () => readDockerState(ep, { image: 'x', labelKeys: [REV] }));
    assert.match(down(changed).reason, /the SSH host key has changed/);
    assert.match(down(changed).hint, /ssh-keygen -R/);
  });

  test('a key only in the agent works; an agent without the key is an authentication failure', async (t) => {
    if (!(await requireDocker(t))) return;
    const s = await sshd(t);
    if (!s) return;
    const ep = { host: s.host(), source: 'test' };
    const empty = await s.agent(false);
    const refused = await withSshClient(s.client({ identity: false, agent: empty }), () => readDockerState(ep, { image: 'x', labelKeys: [REV] }));
    assert.match(down(refused).reason, /SSH authentication failed \(.*Permission denied/);
    assert.match(down(refused).hint, /ssh-add/);
    const loaded = await s.agent(true);
    const ok = await withSshClient(s.client({ identity: false, agent: loaded }), () => readDockerState(ep, { image: 'x', labelKeys: [REV] }));
    assert.equal(ok.reachable, true, ok.reachable ? '' : ok.reason);
  });

  test('a server that accepts and never answers: a readable reason within the deadline, no hang', async (t) => {
    if (!(await requireDocker(t))) return;
    const s = await sshd(t);
    if (!s) return;
    const sockets: Socket[] = [];
    const mute = createServer((c) => sockets.push(c));
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', () => r()));
    t.after(() => {
      sockets.forEach((c) => c.destroy());
      mute.close();
    });
    const port = (mute.address() as { port: number }).port;
    const t0 = Date.now();
    const st = await withSshClient(s.client(), () => readDockerState({ host: `ssh://${s.user}@127.0.0.1:${port}`, source: 'test' }, { image: 'x', labelKeys: [REV], timeoutMs: 1500 }));
    assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
    assert.match(down(st).reason, /did not answer within 1500 ms/);
  });

  test('the server going away: the event stream says so, then status is docker-unreachable with a hint', async (t) => {
    if (!(await requireDocker(t))) return;
    const s = await sshd(t);
    if (!s) return;
    const repo = FixtureRepo.create('bp-ssh-gone-');
    t.after(() => repo.cleanup());
    repo.commit('init', {
      '.provenance.json': JSON.stringify({ targets: [{ name: 'app', image: uniqueName('gone'), dockerfile: 'Dockerfile', docker: { endpoints: [s.host()] } }] }),
      Dockerfile: 'FROM scratch\nCOPY app/ /app/\n',
      'app/run': 'v1\n',
    });
    await withSshClient(s.client(), async () => {
      const changes: { connected: boolean; reason?: string; at: number }[] = [];
      const w = watchDockerEvents({ host: s.host(), source: 'test' }, {
        onEvent: () => undefined,
        onConnection: (connected, reason) => changes.push({ connected, reason, at: Date.now() }),
      }, { minBackoffMs: 200, maxBackoffMs: 400 });
      try {
        const t0 = Date.now();
        while (!changes.some((c) => c.connected) && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
        assert.ok(changes.some((c) => c.connected), `never connected: ${JSON.stringify(changes)}`);
        const gone = Date.now();
        s.stop();
        while (!changes.some((c) => !c.connected) && Date.now() - gone < 5000) await new Promise((r) => setTimeout(r, 20));
        const lost = changes.find((c) => !c.connected);
        assert.ok(lost, 'the event stream never noticed');
        assert.ok(lost.at - gone < 2000, `noticed after ${lost.at - gone} ms`);
        assert.match(lost.reason ?? '', /ssh:\/\//);
      } finally {
        w.dispose();
      }
      const t1 = Date.now();
      const r = await runCli(['status', '--json', '--cwd', repo.dir]);
      assert.ok(Date.now() - t1 < 6000, `status took ${Date.now() - t1} ms`);
      const j = r.json();
      assert.equal(j.state, 'docker-unreachable');
      assert.match(j.docker.reason, /Cannot connect to Docker at ssh:\/\/.*: connection refused/);
      assert.match(j.hint, /sshd runs on that host and port/);
    });
  });
});
