// A hostile repository, made in a temp dir: a folder that ships its own `.git` (a tarball, a zip,
// a shared drive) whose config names programs for git to run, whose build-provenance folder and
// files are symlinks to a victim outside it, and whose inputs are made to be slow to match or deep
// to expand. Every program it names writes a marker file; a test asserts none appeared.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { FixtureRepo } from './gitFixture';

/** The `.dockerignore` line of issue 16 that a backtracking matcher takes seconds over. */
export const BACKTRACKING_PATTERN = 'app/*a*a*a*a*a*a*a*b';
/** A 60-character file name next to it. */
export const LONG_NAME = 'a'.repeat(60);
/** The image name of the link-config variant: a command link if it were rendered as markdown. */
export const LINK_IMAGE = '[Click here](command:workbench.action.quit)';

export interface HostileRepo {
  repo: FixtureRepo;
  dir: string;
  /** Where each program the repository names writes its marker (outside the repository). */
  markers: string;
  /** The victim folder the links point into: nothing may be written in it. */
  victim: string;
  /** The markers written so far (empty when no program of the repository ran). */
  markersWritten(): string[];
  /** The victim's files and their content (to compare before/after). */
  victimState(): Record<string, string>;
}

export interface HostileOptions {
  /** `dir`: `.git/build-provenance` is a symlink to the victim folder; `files`: a real folder whose ledger, caches, lock folder and planted temp names are symlinks into it. */
  links?: 'dir' | 'files';
  /** `valid`: targets with a real image name (the walks run); `link`: the image name is a markdown command link. */
  config?: 'valid' | 'link';
}

function script(file: string, markers: string, name: string, passThrough: boolean): string {
  writeFileSync(file, `#!/bin/sh\necho "$0 $*" >> '${path.join(markers, name)}'\n${passThrough ? 'cat\n' : ''}exit 0\n`);
  chmodSync(file, 0o755);
  return file;
}

/** `${A:-${A:-…x…}}`, `depth` deep. */
export function nestedExpansion(depth: number): string {
  return '${A:-'.repeat(depth) + 'x' + '}'.repeat(depth);
}

export function makeHostileRepo(opts: HostileOptions = {}): HostileRepo {
  const links = opts.links ?? 'dir';
  const outside = realpathSync(mkdtempSync(path.join(tmpdir(), 'bp-hostile-outside-')));
  const markers = path.join(outside, 'markers');
  const victim = path.join(outside, 'victim');
  mkdirSync(markers);
  mkdirSync(victim);
  writeFileSync(path.join(victim, 'precious.txt'), 'precious\n');
  writeFileSync(path.join(victim, 'ledger.jsonl'), 'not yours\n');

  const repo = FixtureRepo.create('bp-hostile-');
  const config =
    opts.config === 'link'
      ? { targets: [{ name: 'app', image: LINK_IMAGE, dockerfile: 'Dockerfile' }] }
      : { targets: [{ name: 'app', image: 'bp-hostile-app', dockerfile: 'Dockerfile' }, { name: 'deep', image: 'bp-hostile-deep', dockerfile: 'deep.Dockerfile' }] };
  const longPattern = 'app/' + '*a'.repeat(150) + '*b';
  repo.commit('init', {
    '.provenance.json': JSON.stringify(config, null, 2),
    Dockerfile: 'FROM alpine:3.20\nCOPY app/ /app/\nCOPY start.sh /start.sh\nCMD ["/start.sh"]\n',
    'deep.Dockerfile': `FROM alpine:3.20\nARG A\nCOPY ${nestedExpansion(3000)} /x\nCOPY start.sh /start.sh\n`,
    '.dockerignore': `${BACKTRACKING_PATTERN}\n${longPattern}\n`,
    [`app/${LONG_NAME}`]: 'long\n',
    'app/main.py': 'print(1)\n',
    'start.sh': '#!/bin/sh\necho hi\n',
  });
  repo.commit('[Click here](command:workbench.action.quit) second', { 'app/main.py': 'print(2)\n' });

  // A forged signed commit on top: a gpgsig header nobody signed (enough to start gpg.program).
  const head = repo.git('cat-file', 'commit', 'HEAD');
  const [headers, ...body] = head.split('\n\n');
  const sig = ['-----BEGIN PGP SIGNATURE-----', '', 'iQEzBAABCAAdFiEEforgedforgedforgedforgedforgedforgedAAoJEforged', '=AAAA', '-----END PGP SIGNATURE-----'];
  const forged = `${headers}\ngpgsig ${sig.join('\n ')}\n\n${body.join('\n\n')}\n`;
  const sha = execFileSync('git', ['hash-object', '-t', 'commit', '-w', '--stdin'], { cwd: repo.dir, input: forged, encoding: 'utf8' }).trim();
  repo.git('update-ref', 'refs/heads/main', sha);

  // The index's stat data no longer matches (as after unpacking a tarball): git status re-reads every file.
  repo.git('-c', 'core.fsmonitor=false', 'read-tree', 'HEAD');
  for (const f of ['Dockerfile', 'app/main.py', 'start.sh']) writeFileSync(path.join(repo.dir, f), readFileSync(path.join(repo.dir, f)));

  // Programs the repository's config names, each writing a marker.
  const evil = path.join(repo.dir, '.git', 'evil');
  mkdirSync(evil);
  const hooks = path.join(evil, 'hooks');
  mkdirSync(hooks);
  for (const h of ['post-index-change', 'reference-transaction', 'post-checkout', 'pre-commit', 'post-rewrite']) script(path.join(hooks, h), markers, `hook-${h}`, false);
  const set = (k: string, v: string) => repo.git('config', k, v);
  set('core.fsmonitor', script(path.join(evil, 'fsmonitor'), markers, 'fsmonitor', false));
  set('core.hooksPath', hooks);
  set('gpg.program', script(path.join(evil, 'gpg'), markers, 'gpg', false));
  set('gpg.ssh.program', script(path.join(evil, 'gpg-ssh'), markers, 'gpg-ssh', false));
  set('log.showSignature', 'true');
  set('diff.external', script(path.join(evil, 'extdiff'), markers, 'extdiff', false));
  set('filter.evil.clean', script(path.join(evil, 'clean'), markers, 'filter-clean', true));
  set('filter.evil.smudge', script(path.join(evil, 'smudge'), markers, 'filter-smudge', true));
  set('filter.evil.process', script(path.join(evil, 'process'), markers, 'filter-process', false));
  set('diff.evil.textconv', script(path.join(evil, 'textconv'), markers, 'textconv', true));
  set('diff.evil.command', script(path.join(evil, 'diffcmd'), markers, 'diff-command', false));
  writeFileSync(path.join(repo.dir, '.git', 'info', 'attributes'), '* filter=evil diff=evil\n');

  const bp = path.join(repo.dir, '.git', 'build-provenance');
  if (links === 'dir') {
    symlinkSync(victim, bp);
  } else {
    mkdirSync(bp);
    symlinkSync(path.join(victim, 'ledger.jsonl'), path.join(bp, 'ledger.jsonl'));
    for (const f of ['status-cache.json', 'inputs-cache.json', 'ledger.quarantine.jsonl']) symlinkSync(path.join(victim, 'precious.txt'), path.join(bp, f));
    for (const d of ['locks', 'results', 'verify-bytes', 'verify-results']) symlinkSync(victim, path.join(bp, d));
    symlinkSync(path.join(victim, 'precious.txt'), path.join(bp, 'ledger.jsonl.lock'));
    // Temp names a writer with predictable names would use next (pid-based).
    for (let pid = process.pid; pid < process.pid + 400; pid++) {
      for (const f of ['status-cache.json', 'inputs-cache.json', 'ledger.jsonl']) symlinkSync(path.join(victim, 'precious.txt'), path.join(bp, `${f}.${pid}.tmp`));
    }
  }
  const victimState = () => Object.fromEntries(readdirSync(victim).sort().map((f) => [f, readFileSync(path.join(victim, f), 'utf8')]));
  return {
    repo,
    dir: repo.dir,
    markers,
    victim,
    markersWritten: () => (existsSync(markers) ? readdirSync(markers).sort() : []),
    victimState,
  };
}
