// What a build stamps on its image: OCI labels plus the project's own keys, and the tags. Mostly
// pure (unit-tested); hashInputChanges reads the changed files.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readlink } from 'node:fs/promises';
import * as path from 'node:path';
import { TOOL_VERSION } from '../version';
import { stripCredentials } from '../git/remotes';

export { stripCredentials };

export const LABEL_REVISION = 'org.opencontainers.image.revision';
export const LABEL_SOURCE = 'org.opencontainers.image.source';
export const LABEL_CREATED = 'org.opencontainers.image.created';
export const LABEL_DIRTY = 'dev.build-provenance.dirty';
export const LABEL_INPUT_HASH = 'dev.build-provenance.input-hash';
export const LABEL_DOCKERFILE = 'dev.build-provenance.dockerfile';
export const LABEL_VERSION = 'dev.build-provenance.version';
export const LABEL_TARGET = 'dev.build-provenance.target';

/** Hex digits of the revision in the `<image>:<short-sha>` tag. */
export const SHORT_SHA_LENGTH = 12;

export class BuildSettingsError extends Error {
  override name = 'BuildSettingsError';
}

export interface LabelFacts {
  /** Full SHA of HEAD. */
  revision: string;
  dirty: boolean;
  inputHash: string;
  /** Repo-relative Dockerfile path. */
  dockerfile: string;
  /** Remote URL as configured (credentials are stripped here), or null. */
  remoteUrl: string | null;
  target: string;
  created: Date;
}

/**
 * The labels of a built-in build. A dirty build's revision carries the `-dirty` suffix, as buildx
 * writes it with BUILDX_GIT_CHECK_DIRTY=1, so every reader of the revision label sees the dirt.
 */
export function buildLabels(f: LabelFacts): Record<string, string> {
  const labels: Record<string, string> = {
    [LABEL_REVISION]: f.dirty ? `${f.revision}-dirty` : f.revision,
    [LABEL_CREATED]: f.created.toISOString(),
    [LABEL_DIRTY]: String(f.dirty),
    [LABEL_INPUT_HASH]: f.inputHash,
    [LABEL_DOCKERFILE]: f.dockerfile,
    [LABEL_VERSION]: TOOL_VERSION,
    [LABEL_TARGET]: f.target,
  };
  if (f.remoteUrl) labels[LABEL_SOURCE] = stripCredentials(f.remoteUrl);
  return labels;
}

// Docker reference grammar (distribution/reference): [domain[:port]/]component(/component)*
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?';
const REPOSITORY_RE = new RegExp(`^(?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;

/** Whether `name` is a plain repository name (no tag, digest or glob) that can be tagged. */
export function isRepositoryName(name: string): boolean {
  if (name.length > 255 || /[*?[\]{}]/.test(name)) return false;
  if (!REPOSITORY_RE.test(name)) return false;
  // A colon after the last slash is a tag, which the DOMAIN alternative may have swallowed.
  const last = name.slice(name.lastIndexOf('/') + 1);
  return !last.includes(':');
}

/** Whether `ref` is `repository[:tag]` that docker accepts for `-t`. */
export function isTagReference(ref: string): boolean {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return isRepositoryName(ref.slice(0, colon)) && TAG_RE.test(ref.slice(colon + 1));
  return isRepositoryName(ref);
}

/**
 * Tags for a build: `<image>:<short-sha>[-dirty]` and `<image>:latest`, or the target's
 * `build.tags`, where `{sha}` is the full SHA and `{short}` the short one with any `-dirty`.
 * Throws BuildSettingsError when the image cannot be a tag (a glob, a tag or digest in it).
 */
export function imageTags(image: string, revision: string, dirty: boolean, configured?: string[]): string[] {
  const short = `${revision.slice(0, SHORT_SHA_LENGTH)}${dirty ? '-dirty' : ''}`;
  if (configured && configured.length > 0) {
    const tags = configured.map((t) => t.replace(/\{sha\}/g, revision).replace(/\{short\}/g, short));
    for (const t of tags) {
      if (!isTagReference(t)) throw new BuildSettingsError(`build.tags: "${t}" is not a valid image reference (repository[:tag]).`);
    }
    return [...new Set(tags)];
  }
  if (!isRepositoryName(image)) {
    const why = /[*?[\]{}]/.test(image) ? 'is a glob' : /[:@]/.test(image.slice(image.lastIndexOf('/') + 1)) ? 'names a tag or digest' : 'is not a valid repository name';
    throw new BuildSettingsError(
      `Cannot tag the build: the target's image "${image}" ${why}. ` +
        'Set "build.tags" for this target in .provenance.json, e.g. ["registry/team/helix-ubuntu:{short}", "registry/team/helix-ubuntu:latest"].',
    );
  }
  return [`${image}:${short}`, `${image}:latest`];
}

/**
 * sha256 over the uncommitted changes to image inputs: for each changed path (sorted), its name
 * and the hash of its content, or a deletion marker. '' when there are none, so a clean build's
 * hash is constant.
 */
export async function hashInputChanges(root: string, paths: string[]): Promise<string> {
  if (paths.length === 0) return '';
  const h = createHash('sha256');
  for (const p of [...new Set(paths)].sort()) {
    h.update(`${p}\0`);
    h.update(await fileDigest(path.join(root, p)));
    h.update('\n');
  }
  return h.digest('hex');
}

async function fileDigest(abs: string): Promise<string> {
  let st;
  try {
    st = await lstat(abs);
  } catch {
    return 'deleted';
  }
  if (st.isSymbolicLink()) return `link:${await readlink(abs)}`;
  if (!st.isFile()) return `type:${st.mode & 0o170000}`;
  const h = createHash('sha256');
  await new Promise<void>((resolve, reject) => {
    createReadStream(abs)
      .on('data', (c) => h.update(c))
      .on('end', () => resolve())
      .on('error', reject);
  });
  return `file:${(st.mode & 0o111) !== 0 ? 'x' : '-'}:${h.digest('hex')}`;
}
