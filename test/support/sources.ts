// The TypeScript sources below a folder, for tests that read the code (which file calls what).
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/** Path (relative to `root`) → text of every .ts file below `root`. */
export function tsSources(root: string, dir = root, out = new Map<string, string>()): Map<string, string> {
  for (const n of readdirSync(dir)) {
    const f = path.join(dir, n);
    if (lstatSync(f).isDirectory()) tsSources(root, f, out);
    else if (n.endsWith('.ts')) out.set(path.relative(root, f).split(path.sep).join('/'), readFileSync(f, 'utf8'));
  }
  return out;
}
