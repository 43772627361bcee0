// Zero-config discovery on a real daemon: with no .provenance.json, status finds the repository's
// own images by each rule (revision label, source label, Dockerfile label, name, folder name,
// baked bytes), several at once, and says clearly when nothing is found. Busybox images FROM
// scratch; every repository holds a unique file, so no other test's image names its commits.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../support/cli';
import { FixtureRepo, tempDir } from '../support/gitFixture';
import { buildBusyboxImage, buildImageFromCommit, cleanupDocker, requireDocker, uniqueName } from '../support/dockerFixtures';
import { gitSpawnCount } from '../../src/core/git/exec';
import { findRepo } from '../../src/core/git/queries';
import { DiscoveryMemo, discoverTargets } from '../../src/core/status/discovery';

after(() => cleanupDocker());

const REV = 'org.opencontainers.image.revision';
const ENTRYPOINT = 'com.docker.image.source.entrypoint';

function zeroRepo(files: Record<string, string>, folder?: string) {
  let repo: FixtureRepo;
  if (folder) {
    const parent = tempDir('bp-discovery-');
    const dir = path.join(parent, folder);
    mkdirSync(dir);
    repo = FixtureRepo.at(dir);
    repo.git('init', '-q', '-b', 'main');
    repo.git('config', 'commit.gpgsign', 'false');
    const cleanup = () => rmSync(parent, { recursive: true, force: true });
    (repo as unknown as { cleanup: () => void }).cleanup = cleanup;
  } else {
    repo = FixtureRepo.create('bp-discovery-');
  }
  const base = repo.commit('init', { 'id.txt': `${uniqueName('repo')}\n`, ...files });
  return { repo, base };
}

async function statuses(dir: string, args: string[] = []): Promise<{ target: string; image: string; dockerfile: string; state: string; discovery: { rule: string; detail: string } }[]> {
  const r = await runCli(['status', '--json', ...args, '--cwd', dir]);
  assert.equal(r.code, 0, r.err + r.out);
  const j = r.json();
  return Array.isArray(j) ? j : [j];
}

test('discovery: a revision label naming a commit here and a source label naming its remote find two targets; a second look starts no git process', async (t) => {
  if (!(await requireDocker(t))) return;
  const slug = uniqueName('shop');
  const { repo, base } = zeroRepo({ Dockerfile: 'FROM scratch\nCOPY id.txt /id.txt\n', 'Dockerfile.other': 'FROM scratch\nCOPY id.txt /other.txt\n' });
  t.after(() => repo.cleanup());
  repo.git('remote', 'add', 'origin', `https://example.invalid/team/${slug}.git`);
  const api = uniqueName('api');
  const front = uniqueName('front');
  await buildBusyboxImage({ tags: [`${api}:old`], labels: { [REV]: base } });
  await buildBusyboxImage({ tags: [`${api}:latest`], labels: { [REV]: base, [ENTRYPOINT]: 'Dockerfile' } });
  await buildBusyboxImage({ tags: [`${front}:latest`], labels: { 'org.opencontainers.image.source': `git@example.invalid:team/${slug}`, [ENTRYPOINT]: 'Dockerfile.other' } });
  // Named after nothing here and labelled as another repository's build: not found.
  await buildBusyboxImage({ tags: [`${uniqueName('foreign')}:latest`], labels: { [REV]: 'f'.repeat(40), [ENTRYPOINT]: 'Dockerfile.other' } });

  const all = await statuses(repo.dir);
  const by = new Map(all.map((s) => [s.image, s]));
  assert.deepEqual([...by.keys()].sort(), [api, front].sort());
  assert.equal(by.get(api)!.discovery.rule, 'revision-label');
  assert.match(by.get(api)!.discovery.detail, new RegExp(`${api}:latest: its org\\.opencontainers\\.image\\.revision ${base.slice(0, 12)} is a commit of this repository`));
  assert.equal(by.get(api)!.dockerfile, 'Dockerfile');
  assert.equal(by.get(api)!.state, 'no-container');
  assert.equal(by.get(front)!.discovery.rule, 'source-label');
  assert.match(by.get(front)!.discovery.detail, /is this repository's remote origin/);
  assert.equal(by.get(front)!.dockerfile, 'Dockerfile.other');
  const human = await runCli(['status', '--cwd', repo.dir]);
  assert.match(human.out, /Found {4}by its revision label \(no \.provenance\.json\): /);
  assert.match(human.out, /Found {4}by its source label \(no \.provenance\.json\): /);
  // --target picks one of the discovered targets by name.
  const one = await runCli(['status', '--json', '--target', front, '--cwd', repo.dir]);
  assert.equal(one.code, 0, one.err);
  assert.equal(one.json().target, front);

  // Cached per image ID: the extension's memo asks git nothing the second time.
  const info = await findRepo(repo.dir);
  const memo = new DiscoveryMemo();
  await discoverTargets(info, { memo, worktreeKey: '1' });
  const before = gitSpawnCount();
  const again = await discoverTargets(info, { memo, worktreeKey: '1' });
  assert.equal(gitSpawnCount() - before, 0, 'no git process for a discovery whose images and work tree did not change');
  assert.deepEqual(again.map((x) => x.image).sort(), [api, front].sort());
});

test('discovery: a Dockerfile label naming a Dockerfile here, and an image a Dockerfile is named after', async (t) => {
  if (!(await requireDocker(t))) return;
  const worker = uniqueName('worker');
  const deployer = uniqueName('deployer');
  const copycat = uniqueName('copycat');
  const { repo } = zeroRepo({
    Dockerfile: 'FROM scratch\n',
    'deploy/Dockerfile': 'FROM scratch\nCOPY id.txt /id.txt\n',
    [`Dockerfile.${worker}`]: 'FROM scratch\nCOPY id.txt /w.txt\n',
    [`Dockerfile.${copycat}`]: 'FROM scratch\n',
  });
  t.after(() => repo.cleanup());
  await buildBusyboxImage({ tags: [`${deployer}:latest`], labels: { [ENTRYPOINT]: 'deploy/Dockerfile' } });
  await buildBusyboxImage({ tags: [`${worker}:latest`] });
  // A Dockerfile here is named after it, but its revision label is another repository's commit.
  await buildBusyboxImage({ tags: [`${copycat}:latest`], labels: { [REV]: 'e'.repeat(40) } });
  const all = await statuses(repo.dir);
  assert.deepEqual(
    all.map((s) => [s.image, s.discovery.rule, s.dockerfile]).sort(),
    [
      [deployer, 'dockerfile-label', 'deploy/Dockerfile'],
      [worker, 'image-name', `Dockerfile.${worker}`],
    ].sort(),
  );
  assert.match(all.find((s) => s.image === deployer)!.discovery.detail, /its com\.docker\.image\.source\.entrypoint names deploy\/Dockerfile, a Dockerfile here/);
});

test('discovery: a revision-labelled image among several Dockerfiles and no Dockerfile label: its baked bytes pick the Dockerfile; when they cannot, a clear error names the candidates and how to pick one', async (t) => {
  if (!(await requireDocker(t))) return;
  const { repo, base } = zeroRepo({
    'a/Dockerfile': 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY id.txt /a.txt\nCMD ["/bin/busybox","sleep","3600"]\n',
    'b/Dockerfile': 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY id.txt /b.txt\nCMD ["/bin/busybox","sleep","3600"]\n',
  });
  t.after(() => repo.cleanup());
  const byBytes = uniqueName('bytesb');
  const blind = uniqueName('blind');
  await buildImageFromCommit(repo.dir, base, { dockerfile: 'b/Dockerfile', tags: [`${byBytes}:latest`], labels: { [REV]: base } });
  // Only busybox baked in: none of the Dockerfiles' files are in it.
  await buildBusyboxImage({ tags: [`${blind}:latest`], labels: { [REV]: base } });

  const found = await discoverTargets(await findRepo(repo.dir));
  assert.deepEqual(found.map((x) => [x.image, x.discovery?.rule, x.dockerfile]).sort(), [[blind, 'revision-label', undefined], [byBytes, 'revision-label', 'b/Dockerfile']].sort());
  const [b] = await statuses(repo.dir, ['--target', byBytes]);
  assert.equal(b.dockerfile, 'b/Dockerfile');
  assert.match(b.discovery.detail, /is a commit of this repository; of the 2 Dockerfiles here, its baked files are those b\/Dockerfile copies$/);

  // The target that can be told is still reported; the other is an error of its own (exit 2).
  const r = await runCli(['status', '--cwd', repo.dir]);
  assert.equal(r.code, 2);
  assert.doesNotMatch(r.err, /unexpected error/);
  assert.match(r.out, new RegExp(`${byBytes}`));
  assert.match(r.err, new RegExp(`provenance: ${blind}: Cannot tell which Dockerfile builds ${blind}, found by its revision label \\(no \\.provenance\\.json\\): .*; its baked files fit none of the 2 Dockerfiles here: the candidates are a/Dockerfile, b/Dockerfile, and no Dockerfile label of the image \\(com\\.docker\\.image\\.source\\.entrypoint\\) names one`));
  assert.match(r.err, new RegExp(`→ Pick the one that builds it: pass --target ${blind} --dockerfile a/Dockerfile, or pin it in \\.provenance\\.json with \\{"targets":\\[\\{"image":"${blind}","dockerfile":"a/Dockerfile"\\}\\]\\}`));
  const j = await runCli(['status', '--json', '--cwd', repo.dir]);
  assert.equal(j.code, 2);
  const list = j.json() as { target: string; image?: string; error?: string; hint?: string }[];
  assert.equal(list.length, 2);
  const failed = list.find((x) => x.error)!;
  assert.equal(failed.target, blind);
  assert.match(failed.error!, /the candidates are a\/Dockerfile, b\/Dockerfile/);
  assert.match(failed.hint!, /--dockerfile a\/Dockerfile/);
  assert.equal(list.find((x) => !x.error)!.image, byBytes);
  // check: the error counts as "cannot tell" (2), beside the other target's answer.
  const c = await runCli(['check', '--json', '--cwd', repo.dir]);
  assert.equal(c.code, 2);
  assert.deepEqual((c.json() as { target: string; exitCode: number }[]).map((x) => x.exitCode !== undefined).sort(), [true, true]);
  // One target named: its error is the command's error, as before.
  const one = await runCli(['status', '--json', '--target', blind, '--cwd', repo.dir]);
  assert.equal(one.code, 2);
  assert.match(one.json().error, /Cannot tell which Dockerfile builds/);
  // The hint works as written.
  const [picked] = await statuses(repo.dir, ['--target', blind, '--dockerfile', 'a/Dockerfile']);
  assert.deepEqual([picked.image, picked.dockerfile], [blind, 'a/Dockerfile']);
});

test('discovery: the only Dockerfile and an image named after the folder as compose names it; before the image exists, the target is there to build', async (t) => {
  if (!(await requireDocker(t))) return;
  const folder = `${uniqueName('Shop')}.App`;
  const project = folder.toLowerCase().replace(/[^a-z0-9_-]/g, '');
  const { repo } = zeroRepo({ Dockerfile: 'FROM scratch\nCOPY id.txt /id.txt\n' }, folder);
  t.after(() => repo.cleanup());
  let [s] = await statuses(repo.dir);
  assert.deepEqual([s.target, s.image, s.dockerfile, s.state, s.discovery.rule], [project, project, 'Dockerfile', 'no-image', 'folder-name']);
  assert.match(s.discovery.detail, /Dockerfile is the only Dockerfile here; its image is named after the folder .*\.App, as docker compose names a project \(no local image of it yet\)/);
  // The hint is for a target zero-config found: no "check the target's image in .provenance.json" that does not exist.
  const noImage = (await runCli(['status', '--cwd', repo.dir])).out;
  assert.match(noImage, new RegExp(`Build it \\(provenance build, or docker build -t ${project} -f Dockerfile \\.\\)\\. There is no \\.provenance\\.json: ${project} was found by the folder name; to build another image name or Dockerfile, pin the target with a \\.provenance\\.json`));
  assert.doesNotMatch(noImage, /check the target's "image"/);
  // --image of any other name: the only Dockerfile builds it too (no "Cannot tell which Dockerfile").
  const other = uniqueName('other');
  const [named] = await statuses(repo.dir, ['--image', other]);
  assert.deepEqual([named.image, named.dockerfile, named.state], [other, 'Dockerfile', 'no-image']);
  const img = await buildBusyboxImage({ tags: [`${project}:latest`] });
  [s] = await statuses(repo.dir);
  assert.deepEqual([s.image, s.state, s.discovery.rule], [project, 'unlabeled', 'folder-name']);
  assert.match(s.discovery.detail, new RegExp(`${project}:latest: named after the folder`));
  const built = (await runCli(['status', '--json', '--cwd', repo.dir])).json().built;
  assert.equal(built.imageId, img.id);
});

test('discovery: an unlabeled image whose baked bytes are this repository\'s, found only when nothing cheaper did, cached per image ID', async (t) => {
  if (!(await requireDocker(t))) return;
  const name = uniqueName('bytes');
  const { repo, base } = zeroRepo({
    Dockerfile: 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY id.txt /srv/id.txt\nCOPY app/ /app/\nCMD ["/bin/busybox","sleep","3600"]\n',
    'app/run.sh': `echo ${name}\n`,
  });
  t.after(() => repo.cleanup());
  await buildImageFromCommit(repo.dir, base, { tags: [`${name}:latest`], labels: { [ENTRYPOINT]: 'Dockerfile' } });
  const [s] = await statuses(repo.dir);
  assert.equal(s.image, name);
  assert.equal(s.discovery.rule, 'content');
  assert.match(s.discovery.detail, new RegExp(`${name}:latest: 2 of 2 files Dockerfile bakes in are this repository's \\(consistent with ${base.slice(0, 12)}\\.\\.${base.slice(0, 12)}\\); its Dockerfile label names Dockerfile`));
  assert.equal(s.state, 'no-container');
  // The verdict is kept per image ID: the next discovery reads no bytes and creates no container.
  const info = await findRepo(repo.dir);
  const memo = new DiscoveryMemo();
  const t0 = Date.now();
  const again = await discoverTargets(info, { memo, worktreeKey: 'x' });
  assert.deepEqual(again.map((x) => [x.image, x.discovery?.rule]), [[name, 'content']]);
  assert.ok(Date.now() - t0 < 3000);
});

test('discovery: nothing found is a clear error (exit 2) naming what was looked at, as JSON too', async (t) => {
  if (!(await requireDocker(t))) return;
  const { repo } = zeroRepo({ 'a/Dockerfile': 'FROM scratch\n', 'b/Dockerfile': 'FROM scratch\n' });
  t.after(() => repo.cleanup());
  const r = await runCli(['status', '--cwd', repo.dir]);
  assert.equal(r.code, 2);
  assert.match(r.err, /No \.provenance\.json, and nothing says which image this repository builds: (none of the \d+ tagged local image\(s\) is this repository's|there is no tagged local image)/);
  assert.match(r.err, /there are 2 Dockerfiles \(a\/Dockerfile, b\/Dockerfile\), so none is the only one to name an image after the folder/);
  assert.match(r.err, /→ Create \.provenance\.json with \{"targets":\[\{"image":"NAME","dockerfile":"a\/Dockerfile"\}\]\}/);
  const j = await runCli(['status', '--json', '--cwd', repo.dir]);
  assert.equal(j.code, 2);
  assert.match(j.json().error, /nothing says which image/);
  assert.match(j.json().hint, /Configure Target/);
});
