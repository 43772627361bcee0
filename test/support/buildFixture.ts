// Repositories whose target builds FROM scratch with busybox, for the build tests on a real
// daemon, and what those tests ask the daemon afterwards. removeBuiltImages() (in an `after`)
// removes every image of the repositories and targets made here, and the BuildKit cache records
// of this test process's RUN steps.
import { chmodSync, copyFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { FixtureRepo } from './gitFixture';
import { BUSYBOX, cleanupDocker, docker, TEST_PREFIX, uniqueName } from './dockerFixtures';

/** Image repositories and targets the tests built; all of their images are removed at the end. */
const repositories = new Set<string>();
const targetNames = new Set<string>();

export async function removeBuiltImages(): Promise<void> {
  const filters = [...[...repositories].map((r) => `reference=${r}`), ...[...targetNames].map((n) => `label=dev.build-provenance.target=${n}`)];
  const ids = new Set<string>();
  for (const f of filters) {
    // -a: a rebuild moves the tags, leaving the earlier image untagged but still there.
    for (const id of (await docker(['images', '-a', '-q', '--no-trunc', '--filter', f]).catch(() => '')).split('\n')) if (id) ids.add(id);
  }
  if (ids.size) await docker(['rmi', '-f', ...ids]).catch(() => undefined);
  await cleanupDocker();
  await pruneBuildCache(TEST_PREFIX);
}

/**
 * Removes BuildKit's cache records whose description (the RUN command, or a cache mount's) holds
 * `marker`, and the records built on them, newest first (the engine prunes only records nothing
 * else builds on, one ID per call). Steps that name no marker stay to the engine's own GC.
 */
async function pruneBuildCache(marker: string): Promise<void> {
  type Rec = { ID: string; Description: string; Parent?: string | string[] | null };
  const all = JSON.parse(await docker(['system', 'df', '-v', '--format', '{{json .BuildCache}}']).catch(() => 'null')) as Rec[] | null;
  if (!all) return;
  const parents = (r: Rec) => (Array.isArray(r.Parent) ? r.Parent : (r.Parent ?? '').split(',')).filter(Boolean);
  const order: string[] = all.filter((r) => r.Description.includes(marker)).map((r) => r.ID);
  const chosen = new Set(order);
  for (let grew = true; grew; ) {
    grew = false;
    for (const r of all) {
      if (!chosen.has(r.ID) && parents(r).some((p) => chosen.has(p))) {
        chosen.add(r.ID);
        order.push(r.ID);
        grew = true;
      }
    }
  }
  for (const id of order.reverse()) await docker(['builder', 'prune', '-a', '-f', '--filter', `id=${id}`]).catch(() => undefined);
}

export interface FixtureSpec {
  /** Dockerfile lines after FROM scratch + COPY busybox + COPY www. */
  steps?: string[];
  /** The whole Dockerfile instead. */
  dockerfile?: string;
  /** Extra target settings (smoke, build, …). */
  target?: Record<string, unknown>;
  files?: Record<string, string>;
  more?: Array<Record<string, unknown>>;
  /** Default ".git\ndocs\n". */
  dockerignore?: string;
}

/** A repo whose target builds FROM scratch with busybox (committed) and www/. RUN steps get no network unless the spec's `build` says otherwise. */
export function buildFixture(spec: FixtureSpec = {}) {
  const repo = FixtureRepo.create('bp-build-');
  const name = uniqueName('t');
  const image = uniqueName('img');
  repositories.add(image);
  targetNames.add(name);
  copyFileSync(BUSYBOX, path.join(repo.dir, 'busybox'));
  chmodSync(path.join(repo.dir, 'busybox'), 0o755);
  const dockerfile = spec.dockerfile ?? ['FROM scratch', 'COPY busybox /bin/busybox', 'COPY www /www', ...(spec.steps ?? ['CMD ["/bin/busybox","sleep","3600"]']), ''].join('\n');
  const targets = [{ name, image, dockerfile: 'Dockerfile', build: { network: 'none' }, ...spec.target }, ...(spec.more ?? [])];
  for (const t of spec.more ?? []) {
    repositories.add(String(t.image));
    targetNames.add(String(t.name));
  }
  repo.commit('init', {
    '.provenance.json': JSON.stringify({ targets }, null, 2),
    '.dockerignore': spec.dockerignore ?? '.git\ndocs\n',
    Dockerfile: dockerfile,
    'www/index.html': '<h1>ok</h1>\n',
    'docs/readme.md': 'docs\n',
    ...spec.files,
  });
  return { repo, name, image, head: repo.head() };
}

export async function imageLabels(ref: string): Promise<Record<string, string>> {
  return JSON.parse(await docker(['inspect', '--format', '{{json .Config.Labels}}', ref]));
}

/**
 * Containers (running or not) whose command holds `marker`: what a build of a RUN step with that
 * marker created. Other engineers' tests share the daemon, so "no new container" is asked this way.
 */
export async function containersWith(marker: string): Promise<string[]> {
  const out = await docker(['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Command}}']);
  return out.split('\n').filter((l) => l.includes(marker));
}

/** Processes on this machine (the test daemon runs here) whose command line holds `marker`: BuildKit runs RUN steps as processes, not containers. */
export async function processesWith(marker: string): Promise<string[]> {
  const out: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(marker)) out.push(`${pid}: ${cmd.replace(/\0/g, ' ')}`);
  }
  return out;
}
