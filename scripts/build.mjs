// Bundles the extension and the CLI with esbuild. Type checking is `npm run typecheck`.
import { build } from 'esbuild';
import { chmodSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

const watch = process.argv.includes('--watch');

/**
 * dockerode loads ssh2 (for ssh:// endpoints) and gRPC/protobuf (for BuildKit sessions) at
 * start-up, which costs the CLI ~100 ms on every run. Defer those requires to first use. And
 * docker-modem's per-request debug formatting runs only when its debug log is on.
 */
const lazyHeavyDeps = {
  name: 'lazy-heavy-deps',
  setup(b) {
    const patches = [
      [/docker-modem[\\/]lib[\\/]modem\.js$/, "ssh = require('./ssh'),", "ssh = function (o) { return require('./ssh')(o); },"],
      // It formats every request with util.inspect(showHidden, unlimited depth) for a debug log
      // that is off: several ms per request. Format only when DEBUG=modem is on.
      [/docker-modem[\\/]lib[\\/]modem\.js$/, "debug('Sending: %s', util.inspect(options, {", "debug.enabled && debug('Sending: %s', util.inspect(options, {"],
      [/dockerode[\\/]lib[\\/]docker\.js$/, "withSession = require('./session'),", 'withSession = function () { return require(\'./session\').apply(this, arguments); },'],
    ];
    b.onLoad({ filter: /(docker-modem|dockerode)[\\/]lib[\\/](modem|docker)\.js$/ }, async (args) => {
      let text = await readFile(args.path, 'utf8');
      for (const [file, from, to] of patches) {
        if (!file.test(args.path)) continue;
        if (!text.includes(from)) throw new Error(`lazy-heavy-deps: "${from}" not found in ${args.path}; update scripts/build.mjs`);
        text = text.replace(from, to);
      }
      return { contents: text, loader: 'js' };
    });
  },
};
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  minify: !watch,
  logLevel: 'warning',
  // jsonc-parser's 'main' is a UMD build whose dynamic requires esbuild cannot follow.
  mainFields: ['module', 'main'],
  plugins: [lazyHeavyDeps],
  define: { PROVENANCE_VERSION: JSON.stringify(pkg.version), PROVENANCE_BUILD_ID: JSON.stringify(`${pkg.version}-${Date.now()}`) },
  // ssh2's optional native helpers are loaded with try/require; they are not needed.
  external: ['vscode', 'cpu-features', './crypto/build/Release/sshcrypto.node'],
};

await import('./gen-validator.mjs');

/**
 * dist/cli.js is a shell script and JavaScript at once. As a script (the `provenance` bin), the
 * second line moves NODE_EXTRA_CA_CERTS aside and runs Node on the same file, which starts
 * ~80 ms sooner on Node 20 when the variable is set (see src/cli/launcher.ts, which puts it
 * back). To JavaScript, that line is a string and a comment. `node dist/cli.js` works as well.
 */
const LAUNCHER_SHELL = [
  '#!/bin/sh',
  `':' //; if [ -n "\${NODE_EXTRA_CA_CERTS:-}" ]; then export PROVENANCE_EXTRA_CA_CERTS="\$NODE_EXTRA_CA_CERTS"; unset NODE_EXTRA_CA_CERTS; fi; exec node "\$0" "\$@"`,
].join('\n');

/** dockerode (with ssh2 and gRPC, ~700 KB) lives in its own file, parsed only when Docker is used. */
const dockerodeApart = {
  name: 'dockerode-apart',
  setup(b) {
    b.onResolve({ filter: /^dockerode$/ }, () => ({ path: './dockerode.js', external: true }));
  },
};

/**
 * Within dockerode, ssh2 (ssh:// endpoints only) and gRPC/protobuf (BuildKit sessions only) are
 * most of the code. They go to dist/dockerode-extras.js, loaded on first use, so talking to a
 * local daemon parses ~150 KB instead of ~900 KB.
 */
const EXTRAS = ['ssh2', '@grpc/grpc-js', '@grpc/proto-loader', 'protobufjs'];
const extrasApart = {
  name: 'extras-apart',
  setup(b) {
    b.onResolve({ filter: /^(ssh2|@grpc\/grpc-js|@grpc\/proto-loader|protobufjs)$/ }, (args) => ({ path: args.path, namespace: 'extras' }));
    b.onLoad({ filter: /.*/, namespace: 'extras' }, (args) => ({
      contents: `module.exports = require('./dockerode-extras.js')[${JSON.stringify(args.path)}];`,
      loader: 'js',
      resolveDir: 'dist',
    }));
    b.onResolve({ filter: /^\.\/dockerode-extras\.js$/ }, (args) => ({ path: args.path, external: true }));
  },
};

await Promise.all([
  build({ ...common, plugins: [...common.plugins, extrasApart], entryPoints: ['node_modules/dockerode/lib/docker.js'], outfile: 'dist/dockerode.js' }),
  build({
    ...common,
    stdin: { contents: `module.exports = {${EXTRAS.map((m) => `${JSON.stringify(m)}: require(${JSON.stringify(m)})`).join(', ')}};`, resolveDir: '.', loader: 'js' },
    outfile: 'dist/dockerode-extras.js',
  }),
  // The BuildKit session and progress decoder (src/core/build/buildkit*.ts) use gRPC and
  // protobufjs too: the same extras file, loaded when a build starts.
  build({ ...common, plugins: [...common.plugins, dockerodeApart, extrasApart], entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js' }),
  build({ ...common, plugins: [...common.plugins, dockerodeApart, extrasApart], entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli-main.js' }),
  // The executable: a few lines that install the V8 code cache, then load cli-main.js.
  build({ ...common, entryPoints: ['src/cli/launcher.ts'], outfile: 'dist/cli.js', banner: { js: LAUNCHER_SHELL } }),
]);
chmodSync('dist/cli.js', 0o755);
