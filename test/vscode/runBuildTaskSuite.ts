// Runs the real-VS-Code "build task" suite (test/vscode/suite/buildTask.test.ts) against a
// workspace that is a fixture repository with real Docker state, prepared BEFORE VS Code starts,
// as a user would open it:
//   - a busybox `FROM scratch` Dockerfile whose smoke test is busybox httpd on a free 127.0.0.1 port;
//   - an older image labelled with the first commit, and a container of it running (host network);
//   - a second commit that changes an image input, so the status bar shows drift.
// Everything it creates (images, containers, the repo) is removed afterwards, whatever happens.
//
//   npm run build && node scripts/vscode-test/build-suite.mjs && node --import tsx test/vscode/runBuildTaskSuite.ts
//
// Exit code: the suite's (0/1), or 2 when Docker or busybox is missing (never a silent pass).
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { BUSYBOX, buildBusyboxImage, cleanupDocker, docker, freePort, runContainer, TEST_PREFIX, uniqueName } from '../support/dockerFixtures';
import { FixtureRepo } from '../support/gitFixture';

export interface BuildTaskFixture {
  root: string;
  target: string;
  image: string;
  /** The commit the old image and the running container are labelled with. */
  oldRevision: string;
  head: string;
  container: string;
  port: number;
}

const repoRoot = path.resolve(__dirname, '../..');

async function dockerProblem(): Promise<string | null> {
  if (!existsSync(BUSYBOX)) return `${BUSYBOX} is missing: apt-get install -y busybox-static`;
  try {
    await docker(['version', '--format', '{{.Server.Version}}'], { timeoutMs: 10_000 });
    return null;
  } catch (err) {
    return `Docker is not reachable (start one with scripts/docker-daemon.sh start): ${(err as Error).message.split('\n')[0]}`;
  }
}

async function prepare(repo: FixtureRepo): Promise<BuildTaskFixture> {
  const name = uniqueName('web');
  const image = name;
  const port = await freePort();
  copyFileSync(BUSYBOX, path.join(repo.dir, 'busybox'));
  const config = {
    targets: [
      {
        name,
        image,
        dockerfile: 'Dockerfile',
        context: '.',
        smoke: {
          command: ['/bin/busybox', 'httpd', '-f', '-p', `127.0.0.1:${port}`, '-h', '/www'],
          ready: { http: `http://127.0.0.1:${port}/` },
          timeoutSeconds: 30,
        },
      },
    ],
  };
  const oldRevision = repo.commit('web: first page', {
    Dockerfile: 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY www /www\nCMD ["/bin/busybox", "sleep", "3600"]\n',
    'www/index.html': '<h1>v1</h1>\n',
    '.provenance.json': `${JSON.stringify(config, null, 2)}\n`,
  });
  // The image that "was built" at the first commit, and its container, still running.
  await buildBusyboxImage({ tags: [`${image}:old`], labels: { 'org.opencontainers.image.revision': oldRevision } });
  const container = uniqueName('running');
  await runContainer({ image: `${image}:old`, name: container });
  const head = repo.commit('web: second page', { 'www/index.html': '<h1>v2</h1>\n' });
  return { root: repo.dir, target: name, image, oldRevision, head, container, port };
}

/** Images the task built (tagged <image>:<sha>/latest), and any smoke container of the target. */
async function removeBuilt(fx: BuildTaskFixture): Promise<void> {
  const containers = (await docker(['ps', '-aq', '--filter', `label=dev.build-provenance.target=${fx.target}`]).catch(() => '')).split('\n').filter(Boolean);
  if (containers.length) await docker(['rm', '-f', ...containers]).catch(() => undefined);
  const images = [...new Set((await docker(['images', '-q', '--no-trunc', fx.image]).catch(() => '')).split('\n').filter(Boolean))];
  for (const id of images) await docker(['rmi', '-f', id]).catch(() => undefined);
}

let runner: ReturnType<typeof spawn> | undefined;

function runSuite(fixtureFile: string, workspace: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = (runner = spawn(
      process.execPath,
      [path.join(repoRoot, 'scripts/vscode-test/run.mjs'), '--workspace', workspace, '--tests', path.join(repoRoot, 'out/test/vscode/suite/index.js'), ...args, ...process.argv.slice(2)],
      { cwd: repoRoot, stdio: 'inherit', env: { ...process.env, BP_SUITE: 'build', BP_BUILD_FIXTURE: fixtureFile } },
    ));
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 2 : 1)));
  });
}

async function main(): Promise<number> {
  const problem = await dockerProblem();
  if (problem) {
    console.error(`build task suite: ${problem}`);
    return 2;
  }
  const repo = FixtureRepo.create('bp-vscode-build-');
  let fx: BuildTaskFixture | undefined;
  try {
    fx = await prepare(repo);
    const fixtureFile = path.join(repo.dir, '.git', 'bp-build-fixture.json');
    writeFileSync(fixtureFile, JSON.stringify(fx, null, 2));
    console.log(`build task suite: fixture ${repo.dir} (target ${fx.target}, ${TEST_PREFIX}), old container ${fx.container}`);
    const trusted = await runSuite(fixtureFile, repo.dir, ['--trust']);
    // Restricted Mode needs its own server (trust is per server instance).
    const restricted = await runSuite(fixtureFile, repo.dir, ['--restricted']);
    console.log(`build task suite: trusted exit ${trusted}, restricted exit ${restricted}`);
    return trusted !== 0 ? trusted : restricted;
  } finally {
    if (fx) await removeBuilt(fx);
    await cleanupDocker();
    repo.cleanup();
  }
}

// On a signal, stop the runner (it stops VS Code) and clean up once it exited.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    console.error(`build task suite: ${sig}; stopping the runner, then cleaning up`);
    runner?.kill(sig);
  });
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`build task suite: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(2);
  },
);
