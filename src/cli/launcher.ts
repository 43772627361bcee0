// The `provenance` executable. It only installs the code cache, then runs the CLI bundle
// (cli-main.js): keep it free of imports beyond Node's own.
//
// Its first two lines (see scripts/build.mjs) are a shell script that starts Node with
// NODE_EXTRA_CA_CERTS moved aside: Node 20 parses that whole CA file at start-up (about 80 ms,
// half of its start on a small machine) although the CLI only needs it for a Docker endpoint
// over TLS, where core/docker/endpoints.ts adds it back. `node dist/cli.js` skips those lines.
import * as path from 'node:path';
import { codeCacheDir, installCodeCache } from './codeCache';

const deferredCa = process.env.PROVENANCE_EXTRA_CA_CERTS;
if (deferredCa !== undefined) {
  // Everything we run (git, docker, build and smoke commands) sees the variable as the user set it.
  process.env.NODE_EXTRA_CA_CERTS = deferredCa;
  delete process.env.PROVENANCE_EXTRA_CA_CERTS;
}
installCodeCache(__dirname, process.argv[2] ?? '', codeCacheDir());
// eslint-disable-next-line @typescript-eslint/no-require-imports
(require(path.join(__dirname, 'cli-main.js')) as typeof import('./main')).runFromProcess();
