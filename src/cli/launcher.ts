// The `provenance` executable. It only installs the code cache, then runs the CLI bundle
// (cli-main.js): keep it free of imports beyond Node's own.
import * as path from 'node:path';
import { codeCacheDir, installCodeCache } from './codeCache';

installCodeCache(__dirname, process.argv[2] ?? '', codeCacheDir());
// eslint-disable-next-line @typescript-eslint/no-require-imports
(require(path.join(__dirname, 'cli-main.js')) as typeof import('./main')).runFromProcess();
