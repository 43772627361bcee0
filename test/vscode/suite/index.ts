// The module a real VS Code extension host loads as extensionTestsPath, under
// @vscode/test-electron or code-server alike (scripts/vscode-test/run.mjs). Built by
// scripts/vscode-test/build-suite.mjs to out/test/vscode/suite/index.js.
//
// mocha, not a runner of our own: it works inside the extension host (that is how VS Code's
// own extensions and `yo code` run), and brings hooks, per-test timeouts, .only/.skip and
// failure diffs that a hand-written runner would grow into. It stays external to the bundle and
// loads from node_modules, so its reporters resolve as usual.
import Mocha from 'mocha';

export async function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', reporter: 'spec', color: false, timeout: 20_000 });
  const grep = process.env.BP_VSCODE_GREP;
  if (grep) mocha.grep(grep);
  // Define describe/it/before… on globalThis, then load the test files: bundled, they are
  // lazily initialised modules, so their top-level describe() runs only now.
  mocha.suite.emit(Mocha.Suite.constants.EVENT_FILE_PRE_REQUIRE, globalThis, 'bundle', mocha);
  // BP_SUITE picks the files: the harness's own checks (default), the editor features on the
  // fixture of test/vscode/integration.mjs (trusted), or Restricted Mode (restricted).
  const suite = process.env.BP_SUITE ?? 'harness';
  if (suite === 'harness') {
    await import('./workbench.test.js');
    await import('./extension.test.js');
  } else if (suite === 'trusted') {
    await import('./extension.test.js');
    await import('./provenance.test.js');
  } else if (suite === 'restricted') {
    await import('./restricted.test.js');
  } else if (suite === 'zero-config') {
    // No .provenance.json: discovery, on the fixture of test/vscode/runZeroConfigSuite.ts.
    await import('./zeroConfig.test.js');
  } else if (suite === 'multi-root') {
    // Two folders, two repositories, on the .code-workspace of test/vscode/runMultiRootSuite.ts.
    await import('./multiRoot.test.js');
  } else if (suite === 'build') {
    // The build + smoke task on the fixture of test/vscode/runBuildTaskSuite.ts.
    await import('./buildTask.test.js');
  } else {
    throw new Error(`unknown BP_SUITE ${suite}`);
  }
  const failures = await new Promise<number>((resolve) => mocha.run(resolve));
  if (failures > 0) throw new Error(`${failures} test(s) failed`);
}
