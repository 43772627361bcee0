// Runs the real-VS-Code zero-config suite (test/vscode/suite/zeroConfig.test.ts) on a repository
// with no .provenance.json, prepared before VS Code starts: two Dockerfiles (so no folder rule),
// a remote, and an image labelled with HEAD. Everything it creates is removed afterwards.
//
//   npm run build && node scripts/vscode-test/build-suite.mjs && node --import tsx test/vscode/runZeroConfigSuite.ts
//
// Exit code: the suite's (0/1), or 2 when Docker or busybox is missing (never a silent pass).
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BUSYBOX, buildBusyboxImage, cleanupDocker, docker, TEST_PREFIX, uniqueName } from '../support/dockerFixtures';
import { runSuiteIn, suiteProblem } from './suiteProcess';
import { FixtureRepo } from '../support/gitFixture';

export interface ZeroConfigFixture {
  root: string;
  image: string;
  head: string;
  /** The image the suite builds while VS Code runs, from `context`. */
  second: string;
  context: string;
  remote: string;
  prefix: string;
}

async function main(): Promise<number> {
  const problem = await suiteProblem();
  if (problem) {
    console.error(`zero-config suite: ${problem}`);
    return 2;
  }
  const repo = FixtureRepo.create('bp-vscode-zero-');
  const context = mkdtempSync(path.join(tmpdir(), 'bp-vscode-zero-ctx-'));
  const image = uniqueName('zero');
  const second = uniqueName('zero-src');
  try {
    const slug = uniqueName('repo');
    const remote = `https://example.invalid/team/${slug}.git`;
    repo.git('remote', 'add', 'origin', remote);
    const head = repo.commit('init', { 'id.txt': `${slug}\n`, Dockerfile: 'FROM scratch\nCOPY id.txt /id.txt\n', 'Dockerfile.other': 'FROM scratch\nCOPY id.txt /other.txt\n' });
    await buildBusyboxImage({ tags: [`${image}:latest`], labels: { 'org.opencontainers.image.revision': head, 'com.docker.image.source.entrypoint': 'Dockerfile' } });
    copyFileSync(BUSYBOX, path.join(context, 'busybox'));
    writeFileSync(path.join(context, 'Dockerfile'), 'FROM scratch\nCOPY busybox /bin/busybox\nCMD ["/bin/busybox","sleep","3600"]\n');
    const fx: ZeroConfigFixture = { root: repo.dir, image, head, second, context, remote: `git@example.invalid:team/${slug}`, prefix: TEST_PREFIX };
    const fixtureFile = path.join(repo.dir, '.git', 'bp-zero-fixture.json');
    writeFileSync(fixtureFile, JSON.stringify(fx, null, 2));
    console.log(`zero-config suite: fixture ${repo.dir} (images ${image}, ${second})`);
    return await runSuiteIn('zero-config', repo.dir, { BP_ZERO_FIXTURE: fixtureFile });
  } finally {
    const ids = (await docker(['images', '-q', '--no-trunc', second]).catch(() => '')).split('\n').filter(Boolean);
    if (ids.length) await docker(['rmi', '-f', ...new Set(ids)]).catch(() => undefined);
    await cleanupDocker();
    rmSync(context, { recursive: true, force: true });
    repo.cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`zero-config suite: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(2);
  },
);
