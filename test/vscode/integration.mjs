#!/usr/bin/env node
// The editor integration tests, end to end: a fixture repo modelled on the incident, a real
// Docker daemon (an image FROM scratch with busybox, a container on host networking), and the
// suite in test/vscode/suite run inside a real VS Code — once trusted, once in Restricted Mode.
// Everything it creates (images, containers, temp dirs) is removed at the end.
//
//   node test/vscode/integration.mjs            (npm run test:vscode builds first, then runs this)
//
// Under CI=true a missing Docker daemon or missing VS Code tooling fails; locally it says how to
// get them and exits 2.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDemoRepo } from '../../scripts/demo.mjs';

const repoRoot = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const tag = `bp-vscode-${process.pid}`;
const image = `${tag}/helix-ubuntu`;
const container = `${tag}-desktop`;
const base = mkdtempSync(path.join(os.tmpdir(), 'bp-vscode-it-'));
const dir = path.join(base, 'helix');

function docker(...args) {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function cleanup() {
  spawnSync('docker', ['rm', '-f', container], { stdio: 'ignore' });
  const ids = spawnSync('docker', ['images', '-q', '--filter', `reference=${image}`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  if (ids.length) spawnSync('docker', ['rmi', '-f', ...new Set(ids)], { stdio: 'ignore' });
  // Smoke containers and images a build in the suite made for this target.
  const smoke = spawnSync('docker', ['ps', '-aq', '--filter', `label=dev.build-provenance.target=helix-ubuntu`, '--filter', 'label=dev.build-provenance.smoke=1'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  if (smoke.length) spawnSync('docker', ['rm', '-f', ...smoke], { stdio: 'ignore' });
  rmSync(base, { recursive: true, force: true });
}

function runSuite(suite, extraArgs) {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [path.join(repoRoot, 'scripts/vscode-test/run.mjs'), '--workspace', dir, '--tests', path.join(repoRoot, 'out/test/vscode/suite/index.js'), '--screenshot-dir', path.join(repoRoot, 'test-artifacts'), ...extraArgs],
      { stdio: 'inherit', env: { ...process.env, BP_SUITE: suite, BP_FIXTURE: path.join(base, 'fixture.json') } },
    );
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

async function main() {
  const probe = spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    console.error(`integration: Docker daemon not reachable (${(probe.stderr || '').trim().split('\n')[0]}). Start one: sudo bash scripts/docker-daemon.sh start`);
    return 2;
  }
  createDemoRepo(dir);
  const cfgPath = path.join(dir, '.provenance.json');
  const proxySocket = path.join(base, 'docker-proxy.sock');
  const markers = path.join(base, 'markers');
  // The fixture's own Docker endpoint is a proxy the suite controls (to make Docker come and go),
  // and its custom build/smoke commands leave marker files (Restricted Mode must run neither).
  writeFileSync(
    cfgPath,
    JSON.stringify(
      {
        targets: [
          {
            name: 'helix-ubuntu',
            image,
            dockerfile: 'Dockerfile.ubuntu-helix',
            context: '.',
            docker: { endpoints: [`unix://${proxySocket}`] },
            build: { mode: 'command', command: ['/bin/sh', '-c', `mkdir -p ${markers} && touch ${markers}/build-ran && exit 1`] },
            smoke: { command: ['/bin/sh', '-c', `touch ${markers}/smoke-ran`], ready: { http: 'http://127.0.0.1:9876/' }, timeoutSeconds: 10 },
          },
        ],
      },
      null,
      2,
    ) + '\n',
  );
  execFileSync('git', ['commit', '-q', '-am', 'configure the target'], { cwd: dir, env: { ...process.env, GIT_AUTHOR_NAME: 'Demo Dev', GIT_AUTHOR_EMAIL: 'dev@demo.invalid', GIT_COMMITTER_NAME: 'Demo Dev', GIT_COMMITTER_EMAIL: 'dev@demo.invalid' } });
  // A large input file for the decoration timing (10,000 lines, committed).
  const big = Array.from({ length: 10_000 }, (_, k) => `echo line ${k + 1}`).join('\n') + '\n';
  writeFileSync(path.join(dir, 'desktop/ubuntu-config/large.sh'), big);
  execFileSync('git', ['add', '-A'], { cwd: dir });
  execFileSync('git', ['commit', '-q', '-m', 'large config script'], { cwd: dir, env: { ...process.env, GIT_AUTHOR_NAME: 'Demo Dev', GIT_AUTHOR_EMAIL: 'dev@demo.invalid', GIT_COMMITTER_NAME: 'Demo Dev', GIT_COMMITTER_EMAIL: 'dev@demo.invalid' } });
  const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: dir, encoding: 'utf8' }).trim();
  // The running image is built from HEAD: the suite starts in sync and makes its own commits.
  const ctx = path.join(base, 'ctx');
  execFileSync('mkdir', ['-p', ctx]);
  execFileSync('cp', ['/bin/busybox', path.join(ctx, 'busybox')]);
  writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY busybox /bin/busybox\nCMD ["/bin/busybox","sleep","3600"]\n');
  const built = docker('build', '-q', '--label', `org.opencontainers.image.revision=${head}`, '-t', `${image}:latest`, ctx);
  docker('run', '-d', '--network', 'host', '--name', container, `${image}:latest`);
  writeFileSync(
    path.join(base, 'fixture.json'),
    JSON.stringify({ dir, image, container, imageId: built, deployed: head, proxySocket, upstream: process.env.DOCKER_HOST?.replace(/^unix:\/\//, '') || '/var/run/docker.sock', markers, artifacts: path.join(repoRoot, 'test-artifacts') }, null, 2),
  );

  const trusted = await runSuite('trusted', ['--trust']);
  // Restricted Mode gets a fresh server (trust is per server instance).
  const restricted = await runSuite('restricted', ['--restricted']);
  console.log(`integration: trusted suite exit ${trusted}, restricted suite exit ${restricted}`);
  return trusted !== 0 ? trusted : restricted;
}

let code = 1;
try {
  code = await main();
} catch (err) {
  console.error(`integration: ${err instanceof Error ? err.stack : String(err)}`);
  code = 1;
} finally {
  cleanup();
}
process.exit(code);
