// `npm run demo`: the product working in about a minute.
//   1. (npm run build has bundled the extension and the CLI)
//   2. a demo repo modelled on the incident: a multi-stage Dockerfile.ubuntu-helix, Go-like code
//      in a builder stage, a script ADDed into the final image, docs and unrelated dirs;
//   3. a labelled image built with `provenance build`, and a container running it (host network);
//   4. an undeployed commit to the baked script (the global MESA_GL_VERSION_OVERRIDE export);
//   5. VS Code in the browser (code-server on 127.0.0.1) with the extension, opened on the repo.
// Ctrl-C stops code-server and removes the demo container.
//
// The running container serves the "desktop bridge" on 127.0.0.1:9876 (host network). The smoke
// test's container gets its own port (smoke.env HELIX_BRIDGE_PORT=9877, probed there), so Build +
// Smoke Test never collides with the running deployment; its deploy step (replace-container) then
// runs the new image in place of bp-demo-desktop.
//
// Flags: --dir DIR (default: a new temp dir), --repo-only (steps 2–4, no editor),
//        --check (start everything, verify the editor answers, clean up, exit 0),
//        --clean (remove the demo's container and images, and nothing else).
// For tests, which must not touch a user's demo: --name PREFIX (image PREFIX/helix-ubuntu,
// container PREFIX-desktop; default bp-demo), --bridge-port N (9876), --smoke-port N (9877).
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
const cli = path.join(repoRoot, 'dist', 'cli.js');
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const NAME = option('--name') ?? 'bp-demo';
const IMAGE = `${NAME}/helix-ubuntu`;
const CONTAINER = `${NAME}-desktop`;
const BRIDGE_PORT = Number(option('--bridge-port') ?? 9876);
const SMOKE_PORT = Number(option('--smoke-port') ?? 9877);

function say(s) {
  process.stdout.write(`demo: ${s}\n`);
}

function fail(message, hint) {
  process.stderr.write(`\ndemo: ${message}\n${hint ? `  → ${hint}\n` : ''}`);
  process.exit(2);
}

function git(dir, ...a) {
  return execFileSync('git', a, {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 'Demo Dev', GIT_AUTHOR_EMAIL: 'dev@demo.invalid', GIT_COMMITTER_NAME: 'Demo Dev', GIT_COMMITTER_EMAIL: 'dev@demo.invalid' },
  }).trim();
}

function dockerAnswers() {
  const r = spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], { encoding: 'utf8', timeout: 15_000 });
  if (r.error && r.error.code === 'ENOENT') return { ok: false, why: 'the docker command is not installed' };
  if (r.status !== 0) return { ok: false, why: (r.stderr || '').trim().split('\n')[0] || 'docker version failed' };
  return { ok: true, version: r.stdout.trim() };
}

/**
 * The demo repo. Busybox is the only binary; the image is FROM scratch, so nothing is pulled.
 * The image serves the bridge on $HELIX_BRIDGE_PORT (bridgePort); the smoke test sets it to
 * smokePort, so the smoke container never competes with the running one for the port.
 */
export function createDemoRepo(dir, { image = 'bp-demo/helix-ubuntu', bridgePort = 9876, smokePort = 9877 } = {}) {
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
  if (!busybox) fail('no static busybox found to put in the demo image.', 'Install it: sudo apt-get install busybox-static');
  mkdirSync(dir, { recursive: true });
  const w = (rel, text) => {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  };
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'config', 'commit.gpgsign', 'false');
  copyFileSync(busybox, path.join(dir, 'busybox'));
  w(
    'Dockerfile.ubuntu-helix',
    `# The desktop image (demo): a builder stage for the Go code, the final stage bakes scripts in.
FROM scratch AS go-build
COPY api/ /src/api/

FROM scratch AS docs
COPY docs/ /docs/

FROM scratch
COPY busybox /bin/busybox
COPY --from=go-build /src/api/cmd/settings-sync /opt/helix/settings-sync
ADD desktop/shared/detect-render-node.sh /usr/local/bin/detect-render-node.sh
COPY desktop/ubuntu-config/ /etc/helix/
ENV HELIX_BRIDGE_PORT=${bridgePort}
CMD ["/bin/busybox", "sh", "-c", "exec /bin/busybox httpd -f -p 127.0.0.1:$HELIX_BRIDGE_PORT -h /etc/helix"]
`,
  );
  w('Dockerfile.ubuntu-helix.dockerignore', '**/*_test.go\napi/**/testdata\n');
  w(
    '.provenance.json',
    JSON.stringify(
      {
        targets: [
          {
            name: 'helix-ubuntu',
            image,
            dockerfile: 'Dockerfile.ubuntu-helix',
            context: '.',
            // Its own port: the running bp-demo-desktop holds the bridge port on the host network.
            smoke: { env: { HELIX_BRIDGE_PORT: String(smokePort) }, ready: { http: `http://127.0.0.1:${smokePort}/` }, timeoutSeconds: 30 },
            deploy: { mode: 'replace-container' },
          },
        ],
      },
      null,
      2,
    ) + '\n',
  );
  w('api/go.mod', 'module helix/api\n\ngo 1.22\n');
  w('api/cmd/settings-sync/main.go', 'package main\n\nfunc main() {}\n');
  w('api/pkg/sync/sync.go', 'package sync\n\n// Sync pushes settings to the desktop.\nfunc Sync() error { return nil }\n');
  w('api/pkg/sync/sync_test.go', 'package sync\n');
  w(
    'desktop/shared/detect-render-node.sh',
    `#!/bin/sh
# Sourced by every process in the desktop container.
# Picks the DRM render node of the GPU.
for node in /dev/dri/renderD*; do
  if [ -e "$node" ]; then
    export HELIX_RENDER_NODE="$node"
    break
  fi
done
`,
  );
  w('desktop/ubuntu-config/index.html', '<h1>helix desktop bridge</h1>\n');
  w('desktop/ubuntu-config/panel.conf', 'position=bottom\n');
  w('desktop/sway/config', '# not in the ubuntu image\n');
  w('docs/streaming.md', '# Streaming\n');
  w('frontend/src/app.tsx', 'export {};\n');
  w('README.md', '# helix (Build Provenance demo)\n');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'Import the helix desktop image');
  return dir;
}

function undeployedCommits(dir) {
  const w = (rel, text) => writeFileSync(path.join(dir, rel), text);
  w('docs/streaming.md', '# Streaming\n\nEncoder notes.\n');
  git(dir, 'commit', '-q', '-am', 'docs: encoder notes');
  const script = path.join(dir, 'desktop/shared/detect-render-node.sh');
  w('desktop/shared/detect-render-node.sh', `${readFileSync(script, 'utf8')}# Work around old GL clients.\nexport MESA_GL_VERSION_OVERRIDE=4.5\n`);
  git(dir, 'commit', '-q', '-am', 'desktop: export MESA_GL_VERSION_OVERRIDE=4.5 for old GL clients');
  w('frontend/src/app.tsx', 'export const version = 2;\n');
  git(dir, 'commit', '-q', '-am', 'frontend: version 2');
}

function removeContainer() {
  spawnSync('docker', ['rm', '-f', CONTAINER], { stdio: 'ignore' });
}

/** Images of earlier demo runs (their repos are gone): each run starts with none, and leaves none. */
function removeDemoImages() {
  const ids = spawnSync('docker', ['images', '-q', IMAGE], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  if (ids.length) spawnSync('docker', ['rmi', '-f', ...new Set(ids)], { stdio: 'ignore' });
}

/**
 * What --repo-only prints to clean up by hand. Every build tags <sha> and latest, so one image ID
 * is in several repositories and `docker rmi <id>` refuses; removing every tag removes the image.
 */
export function cleanupCommand(container = CONTAINER, image = IMAGE) {
  return `docker rm -f ${container}; docker rmi $(docker images --format '{{.Repository}}:{{.Tag}}' ${image})`;
}

async function main() {
  if (flag('--clean')) {
    removeContainer();
    removeDemoImages();
    say(`removed ${CONTAINER} and the ${IMAGE} images.`);
    return;
  }
  if (!existsSync(cli)) fail('dist/cli.js is missing.', 'Run it as `npm run demo` (it builds first), or run `npm run build`.');
  const d = dockerAnswers();
  if (!d.ok) {
    fail(
      `Docker is unreachable (${d.why}).`,
      'Start it: `sudo systemctl start docker` (or Docker Desktop). On a machine without a service manager: `sudo bash scripts/docker-daemon.sh start`. Then run `npm run demo` again.',
    );
  }
  say(`Docker ${d.version} answers.`);
  const dir = path.resolve(option('--dir') ?? mkdtempSync(path.join(os.tmpdir(), 'build-provenance-demo-')));
  if (existsSync(path.join(dir, '.git'))) fail(`${dir} is already a git repository.`, 'Give an empty or new folder with --dir.');
  createDemoRepo(dir, { image: IMAGE, bridgePort: BRIDGE_PORT, smokePort: SMOKE_PORT });
  say(`demo repo: ${dir}`);

  removeContainer();
  removeDemoImages();
  say('building the image with `provenance build` (labelled with its commit)…');
  const build = spawnSync(process.execPath, [cli, 'build', '--cwd', dir], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (build.status !== 0) fail('the demo image did not build.', 'See the output above.');
  const run = spawnSync('docker', ['run', '-d', '--init', '--network', 'host', '--name', CONTAINER, `${IMAGE}:latest`], { encoding: 'utf8' });
  if (run.status !== 0) fail(`docker run failed: ${run.stderr.trim()}`);
  say(`container ${CONTAINER} runs the image (host network, 127.0.0.1:${BRIDGE_PORT}).`);
  undeployedCommits(dir);
  say('made 3 commits: one changes desktop/shared/detect-render-node.sh, which is baked into the image.');
  spawnSync(process.execPath, [cli, 'status', '--cwd', dir], { stdio: 'inherit' });

  if (flag('--repo-only')) {
    say('done. Next: provenance build --smoke (its container uses 127.0.0.1:' + SMOKE_PORT + '), then provenance deploy; both with --cwd ' + dir + '.');
    say(`Remove the container and images with: ${cleanupCommand()}`);
    say('(or: node scripts/demo.mjs --clean)');
    return;
  }

  const { installPaths, startCodeServer } = await import('./vscode-test/codeServer.mjs');
  try {
    installPaths();
  } catch {
    say('installing code-server for the browser editor (one time, a few minutes)…');
    const setup = spawnSync('bash', [path.join(repoRoot, 'scripts/vscode-test/setup.sh')], { stdio: 'inherit' });
    if (setup.status !== 0) {
      removeContainer();
      fail('installing code-server failed.', 'See the output above; `bash scripts/vscode-test/setup.sh` retries it.');
    }
  }
  const server = await startCodeServer({ installExtensions: [repoRoot], settings: { 'workbench.colorTheme': 'Default Dark Modern' } });
  const url = `${server.url}/?folder=${encodeURIComponent(dir)}`;
  const cleanup = async () => {
    removeContainer();
    removeDemoImages();
    await server.stop();
  };
  if (flag('--check')) {
    const res = await fetch(url);
    await cleanup();
    if (!res.ok) fail(`the editor answered ${res.status}.`);
    say('check passed: the editor answered; container and image removed.');
    return;
  }
  process.stdout.write(`
  Open VS Code in your browser:  ${url}

  What to look at:
    • the status bar: "helix-ubuntu: 1 undeployed" (the MESA commit; the docs and frontend commits don't count)
    • desktop/shared/detect-render-node.sh: the undeployed lines are marked in the gutter; hover them
    • the Build Provenance view in the activity bar, and the Problems panel (the global MESA export)
    • Command Palette → "Build Provenance: Build + Smoke Test" (its container listens on 127.0.0.1:${SMOKE_PORT},
      beside the running one), then "Run the New Image" replaces ${CONTAINER}

  Ctrl-C stops the editor and removes the demo container and image (the repo stays in ${dir}).
`);
  const stop = async () => {
    await cleanup();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await new Promise(() => {});
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    removeContainer();
    fail(err instanceof Error ? err.message : String(err));
  });
}
