// Git's blob ids computed in memory: sha1 (or sha256 in a sha256 repository) of
// "blob <size>\0" followed by the bytes. Bytes read back from an image are hashed as they stream
// past, so no file is written and no git process is started per file.
import { createHash, type Hash } from 'node:crypto';

export type ObjectFormat = 'sha1' | 'sha256';

/** The object format of a repository, from the length of one of its object ids. */
export function objectFormatOf(oid: string): ObjectFormat {
  return oid.length === 64 ? 'sha256' : 'sha1';
}

/** A hasher for a blob of `size` bytes: feed it the bytes, then take the id. */
export function blobHasher(size: number, format: ObjectFormat = 'sha1'): { update(chunk: Uint8Array): void; digest(): string } {
  const h: Hash = createHash(format);
  h.update(`blob ${size}\0`);
  return {
    update: (chunk) => void h.update(chunk),
    digest: () => h.digest('hex'),
  };
}

/** The blob id of `content` (what `git hash-object` prints). */
export function blobId(content: Uint8Array | string, format: ObjectFormat = 'sha1'): string {
  const buf = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const h = blobHasher(buf.length, format);
  h.update(buf);
  return h.digest();
}
