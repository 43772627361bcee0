// Bundles the extension and the CLI with esbuild. Type checking is `npm run typecheck`.
import { build } from 'esbuild';
import { chmodSync, readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

const watch = process.argv.includes('--watch');
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  minify: !watch,
  logLevel: 'warning',
  define: { PROVENANCE_VERSION: JSON.stringify(pkg.version) },
  // ssh2's optional native helpers are loaded with try/require; they are not needed.
  external: ['vscode', 'cpu-features', './crypto/build/Release/sshcrypto.node'],
};

await import('./gen-validator.mjs');

await Promise.all([
  build({ ...common, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js' }),
  build({
    ...common,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli.js',
    banner: { js: '#!/usr/bin/env node' },
  }),
]);
chmodSync('dist/cli.js', 0o755);
