// Runs npm free of any outer npm's configuration:
//   node cleanNpm.mjs [NAME=VALUE …] <npm args…>
// Leading NAME=VALUE pairs are set after the cleaning (as with env(1)), e.g. npm_config_nodedir.
//
// Why: `npm test` runs `pretest` (and `npm run demo` runs setup.sh) under npm, which exports its
// whole configuration to children as npm_config_*, plus npm_lifecycle_*, npm_package_*, NODE and
// npm_node_execpath, and puts its own node_modules/.bin and node-gyp-bin on PATH. A nested
// `npm install` takes those over as its own settings. code-server's postinstall reads the Node
// major version from npm_config_user_agent ("npm/… node/v20…"), not from the node on PATH, and
// refuses to install under Node 24 (see the team's notes on running a real VS Code offline).
//
// Kept: what a user sets to reach their registry at all (registry, scoped registries and their
// auth, cache, proxies, TLS settings, the config files' paths), so the nested npm still reaches
// what the outer one did.
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const KEPT_CONFIG = new Set([
  'registry', 'cache', 'proxy', 'https_proxy', 'http_proxy', 'noproxy', 'no_proxy',
  'cafile', 'ca', 'cert', 'key', 'strict_ssl', 'userconfig', 'globalconfig',
  'fetch_retries', 'fetch_retry_factor', 'fetch_retry_mintimeout', 'fetch_retry_maxtimeout', 'fetch_timeout',
  'maxsockets', 'offline', 'prefer_offline', 'prefer_online', 'local_address', 'loglevel',
  '_auth', '_authtoken', 'always_auth', 'email',
]);

/** True for an npm_config_* key (any case, `-` or `_`) that carries a user's registry/network setting. */
function keptConfig(rest) {
  const key = rest.toLowerCase().replace(/-/g, '_');
  if (KEPT_CONFIG.has(key)) return true;
  if (key.startsWith('//')) return true; // per-registry auth: //host/:_authToken
  if (key.startsWith('@') && key.endsWith(':registry')) return true; // @scope:registry
  return false;
}

/** The environment with the outer npm's variables removed (a new object; `env` is untouched). */
export function cleanNpmEnv(env) {
  const out = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (lower.startsWith('npm_config_')) {
      if (keptConfig(name.slice('npm_config_'.length))) out[name] = value;
      continue;
    }
    if (lower.startsWith('npm_')) continue; // npm_lifecycle_*, npm_package_*, npm_node_execpath, npm_execpath, npm_command
    if (name === 'NODE' || name === 'INIT_CWD') continue;
    out[name] = value;
  }
  const pathKey = Object.keys(out).find((k) => k.toUpperCase() === 'PATH');
  if (pathKey) {
    // npm run prepends every node_modules/.bin up from the package, and its own node-gyp-bin.
    out[pathKey] = out[pathKey]
      .split(path.delimiter)
      .filter((dir) => dir && !/[\\/]node_modules[\\/]\.bin[\\/]?$/.test(dir) && !/[\\/]node-gyp-bin[\\/]?$/.test(dir))
      .join(path.delimiter);
  }
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const env = cleanNpmEnv(process.env);
  while (args.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(args[0])) {
    const [name, ...value] = args.shift().split('=');
    env[name] = value.join('=');
  }
  const child = spawn('npm', args, { stdio: 'inherit', env });
  child.on('error', (err) => {
    process.stderr.write(`cleanNpm: cannot run npm: ${err.message}\n`);
    process.exit(127);
  });
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (os.constants.signals[signal] ?? 0)));
}
