// Blame of one line as of a commit, for Restricted Mode: blaming the work tree makes git run the
// repository's clean filters (.git/config, .gitattributes), which an untrusted workspace controls.
// Blobs of a commit go through no filter, and textconv is off.
import { runGit } from './gitExec';
import type { LineBlame } from './lineChanges';

export async function blameLineAt(root: string, rev: string, file: string, line: number, signal?: AbortSignal): Promise<LineBlame | null> {
  const { stdout } = await runGit(['blame', '--porcelain', '--no-textconv', '-L', `${line},${line}`, rev, '--', file], { cwd: root, signal, okCodes: [128] });
  const sha = /^([0-9a-f]{40,64}) /.exec(stdout)?.[1];
  if (!sha) return null;
  const header = new Map(stdout.split('\n').map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1)] as const));
  const t = Number(header.get('author-time'));
  return {
    sha,
    uncommitted: false,
    author: header.get('author') ?? '',
    date: Number.isFinite(t) && t > 0 ? new Date(t * 1000).toISOString() : '',
    subject: header.get('summary') ?? '',
  };
}
