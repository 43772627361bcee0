// Runs the real-VS-Code multi-root suite (test/vscode/suite/multiRoot.test.ts) on a .code-workspace
// of two folders, each its own repository and target with a container running on the test
// daemon, prepared before VS Code starts. Everything it creates is removed afterwards.
//
//   npm run build && node scripts/vscode-test/build-suite.mjs && node --import tsx test/vscode/runMultiRootSuite.ts
//
// Exit code: the suite's (0/1), or 2 when Docker or busybox is missing (never a silent pass).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildBusyboxImage, cleanupDocker, runContainer, uniqueName } from '../support/dockerFixtures';
import { runSuiteIn, suiteProblem } from './suiteProcess';
import { FixtureRepo } from '../support/gitFixture';

export interface MultiRootFixture {
  folders: { dir: string; target: string; image: string; deployed: string; input: string }[];
}

async function main(): Promise<number> {
  const problem = await suiteProblem();
  if (problem) {
    console.error(`multi-root suite: ${problem}`);
    return 2;
  }
  const repos: FixtureRepo[] = [];
  const dir = mkdtempSync(path.join(tmpdir(), 'bp-vscode-multi-'));
  try {
    const fx: MultiRootFixture = { folders: [] };
    for (const target of ['alpha', 'beta']) {
      const repo = FixtureRepo.create(`bp-vscode-multi-${target}-`);
      repos.push(repo);
      const image = uniqueName(target);
      const input = `${target}/run.sh`;
      const deployed = repo.commit('init', {
        '.provenance.json': JSON.stringify({ targets: [{ name: target, image, dockerfile: 'Dockerfile' }] }),
        Dockerfile: `FROM scratch\nCOPY ${target}/ /opt/${target}/\n`,
        [input]: 'echo v1\n',
        'notes.md': 'not an input\n',
      });
      await buildBusyboxImage({ tags: [`${image}:latest`], labels: { 'org.opencontainers.image.revision': deployed } });
      await runContainer({ image: `${image}:latest`, name: uniqueName(`${target}-desk`) });
      fx.folders.push({ dir: repo.dir, target, image, deployed, input });
    }
    const workspace = path.join(dir, 'two.code-workspace');
    writeFileSync(workspace, JSON.stringify({ folders: fx.folders.map((f) => ({ path: f.dir })) }));
    const fixtureFile = path.join(dir, 'fixture.json');
    writeFileSync(fixtureFile, JSON.stringify(fx, null, 2));
    console.log(`multi-root suite: ${workspace} (${fx.folders.map((f) => `${f.target} ${f.dir}`).join(', ')})`);
    return await runSuiteIn('multi-root', workspace, { BP_MULTI_FIXTURE: fixtureFile });
  } finally {
    await cleanupDocker();
    for (const r of repos) r.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`multi-root suite: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(2);
  },
);
