// Bundles the integration-test suite that runs inside VS Code:
// test/vscode/suite/index.ts → out/test/vscode/suite/index.js (the extensionTestsPath).
// `vscode` is provided by the extension host; mocha loads from node_modules (see suite/index.ts).
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
await build({
  absWorkingDir: root,
  entryPoints: ['test/vscode/suite/index.ts'],
  outfile: 'out/test/vscode/suite/index.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // For debuggers; failure stacks printed inside the extension host still name index.js lines.
  sourcemap: 'inline',
  logLevel: 'warning',
  external: ['vscode', 'mocha'],
});
