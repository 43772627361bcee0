// "Which image contains this commit?": a commit is in an image when it is an ancestor of (or is)
// the revision the image was built from.
import { runGit } from './gitExec';
import { resolveCommits } from './gitQueries';
import type { ContainerInfo, ImageInfo } from './types';

export interface ContainsAnswer {
  commit: string;
  images: { image: ImageInfo; revision: string; contains: boolean }[];
  containers: { container: ContainerInfo; revision: string; contains: boolean }[];
  /** Images and containers whose revision is unknown (unlabeled, garbage, not in this clone). */
  unknown: number;
}

export async function imagesContaining(
  root: string,
  commitish: string,
  images: ImageInfo[],
  containers: ContainerInfo[],
  signal?: AbortSignal,
): Promise<ContainsAnswer | null> {
  const [commit] = await resolveCommits(root, [commitish], signal);
  if (!commit) return null;
  const revs = new Set<string>();
  for (const x of [...images, ...containers]) if (x.revision.kind === 'sha') revs.add(x.revision.sha);
  const list = [...revs];
  const resolved = await resolveCommits(root, list, signal);
  const full = new Map(list.map((r, k) => [r, resolved[k]]));
  const verdict = new Map<string, boolean>();
  await Promise.all(
    [...new Set(resolved.filter((r): r is string => !!r))].map(async (rev) => {
      const r = await runGit(['merge-base', '--is-ancestor', commit, rev], { cwd: root, signal, okCodes: [1] });
      verdict.set(rev, r.exitCode === 0);
    }),
  );
  let unknown = 0;
  const judge = <T extends { revision: ImageInfo['revision'] }>(x: T) => {
    const sha = x.revision.kind === 'sha' ? full.get(x.revision.sha) : undefined;
    if (!sha) {
      unknown++;
      return null;
    }
    return { revision: sha, contains: verdict.get(sha) ?? false };
  };
  const imgs = images.flatMap((image) => {
    const j = judge(image);
    return j ? [{ image, ...j }] : [];
  });
  const ctrs = containers.flatMap((container) => {
    const j = judge(container);
    return j ? [{ container, ...j }] : [];
  });
  return { commit, images: imgs, containers: ctrs, unknown };
}
