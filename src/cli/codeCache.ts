// A V8 code cache for the CLI's bundles. Every `provenance` run would otherwise parse and
// compile ~500 KB of JavaScript before doing anything; with the cache, V8 deserialises the
// functions the last run of the same command compiled. Node 20 has no built-in compile cache
// (module.enableCompileCache came in Node 22), so this hooks Module#_compile for our own
// bundles only, much like the v8-compile-cache package, but it saves the cache *after* the run,
// so it holds the lazily compiled functions too.
//
// The cache lives in the user's own cache directory (0700): code caches are executable, so they
// never go to a shared temp directory. Anything unexpected falls back to a plain compile.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import Module from 'node:module';
import { homedir } from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { writeFileAtomic } from '../core/safety/safeFiles';

/** Where the caches go, or null when disabled (PROVENANCE_NO_CODE_CACHE=1) or unsafe. */
export function codeCacheDir(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.PROVENANCE_NO_CODE_CACHE) return null;
  const xdg = env.XDG_CACHE_HOME;
  let base: string;
  try {
    base = xdg && path.isAbsolute(xdg) ? xdg : path.join(homedir(), '.cache');
  } catch {
    return null;
  }
  return path.join(base, 'build-provenance', 'v8');
}

interface InternalModule {
  exports: unknown;
  require(id: string): unknown;
}
type CompileFn = (this: InternalModule, content: string, filename: string) => unknown;
interface ModuleStatics {
  prototype: { _compile: CompileFn };
  wrap(source: string): string;
  _resolveFilename(request: string, parent: InternalModule, isMain: boolean, options?: unknown): string;
  _cache: unknown;
}

/** One cache file per bundle, command and exact bundle content + Node version. */
export function cacheFileName(filename: string, variant: string, content: string): string {
  const hash = createHash('sha1').update(`${process.version}\0${process.arch}\0${variant}\0`).update(content).digest('hex').slice(0, 20);
  return `${path.basename(filename)}.${variant}.${hash}.bin`;
}

function ownedDir(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = statSync(dir);
    // Ours, and nobody else may write into it: a code cache is code.
    return st.isDirectory() && (typeof process.getuid !== 'function' || (st.uid === process.getuid() && (st.mode & 0o022) === 0));
  } catch {
    return false;
  }
}

/**
 * Compiles the bundles in `bundleDir` with the cache from `cacheDir`. `variant` names the
 * command: each command compiles different functions, so each gets its own cache.
 */
export function installCodeCache(bundleDir: string, variant: string, cacheDir: string | null): void {
  if (!cacheDir || !ownedDir(cacheDir)) return;
  const safeVariant = /^[a-z][a-z-]{0,19}$/.test(variant) ? variant : 'other';
  const M = Module as unknown as ModuleStatics;
  const original = M.prototype._compile;
  const toWrite: { script: vm.Script; file: string }[] = [];

  M.prototype._compile = function (content, filename) {
    if (path.dirname(filename) !== bundleDir) return original.call(this, content, filename);
    let script: vm.Script;
    let file: string;
    let cached: Buffer | undefined;
    try {
      file = path.join(cacheDir, cacheFileName(filename, safeVariant, content));
      try {
        cached = readFileSync(file);
      } catch {
        cached = undefined;
      }
      // Module.wrap gives the same function wrapper (exports, require, module, ...) Node uses.
      script = new vm.Script(M.wrap(content.startsWith('#!') ? '//' + content : content), { filename, cachedData: cached });
    } catch {
      return original.call(this, content, filename);
    }
    if (!cached || script.cachedDataRejected) toWrite.push({ script, file });
    const fn = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => unknown;
    const mod = this;
    const require = (id: string) => mod.require(id);
    require.resolve = (request: string, options?: unknown) => M._resolveFilename(request, mod, false, options);
    require.main = process.mainModule;
    require.cache = M._cache;
    return fn.call(mod.exports, mod.exports, require, mod, filename, path.dirname(filename));
  };

  process.once('exit', () => {
    for (const { script, file } of toWrite) {
      try {
        const data = script.createCachedData();
        writeFileAtomic(file, data, { mode: 0o600 });
        // Older caches of the same bundle and command are dead weight now.
        const prefix = file.slice(0, file.lastIndexOf('.', file.length - 5) + 1);
        for (const f of readdirSync(cacheDir)) {
          const full = path.join(cacheDir, f);
          if (full !== file && full.startsWith(prefix) && f.endsWith('.bin')) unlinkSync(full);
        }
      } catch {
        /* a cache is an optimisation: never fail the command over it */
      }
    }
  });
}
