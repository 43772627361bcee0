/// <reference types="mocha" />
// Zero-config in a real VS Code (BP_SUITE=zero-config), on the workspace test/vscode/runZeroConfigSuite.ts
// prepares: no .provenance.json, two Dockerfiles, one image labelled with HEAD. The status bar
// tooltip and the Provenance view say which rule found the target; an image built while the
// editor runs becomes a second target through Docker's events, with no reload.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { BuildProvenanceApi } from '../../../src/extension';
import { api as activate, waitFor } from './fixture';
import type { ZeroConfigFixture } from '../runZeroConfigSuite';

function docker(args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('docker', args, { timeout: 60_000, env: { ...process.env, DOCKER_BUILDKIT: '0' } }, (err, stdout, stderr) => (err ? reject(new Error(`docker ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout))),
  );
}

const fixture = (): ZeroConfigFixture => JSON.parse(readFileSync(process.env.BP_ZERO_FIXTURE!, 'utf8')) as ZeroConfigFixture;

describe('Zero-config (no .provenance.json)', function () {
  this.timeout(90_000);
  let api: BuildProvenanceApi;
  const fx = fixture();

  before(async () => {
    api = await activate();
    await api.model.ready();
  });

  it('finds the image whose revision label is HEAD, and says so in the tooltip and the view', async () => {
    const s = await waitFor('the discovered target', () => api.model.visibleTargets.find((t) => t.target.image === fx.image && t.status) ?? false);
    assert.equal(s.target.discovery?.rule, 'revision-label');
    assert.equal(s.status!.snapshot.state, 'no-container', s.status!.snapshot.summary);
    assert.equal(s.status!.snapshot.target.dockerfile, 'Dockerfile');
    assert.ok(api.statusBar.presentations().has(s.key), 'it has a status bar item');
    // The target's node carries the status bar's tooltip (statusTooltip).
    const root = (await api.tree.getChildren()).find((n) => n.id === s.key);
    assert.ok(root, 'the target is in the view');
    const raw = typeof root.tooltip === 'string' ? root.tooltip : (root.tooltip?.value ?? '');
    const tooltip = raw.replace(/&nbsp;/g, ' ').replace(/\\(?=[\\`*_{}[\]()#+\-.!|<>])/g, '');
    assert.match(tooltip, /Found\* by its revision label \(no \.provenance\.json\): /, tooltip);
    assert.ok(tooltip.includes(fx.head.slice(0, 12)), tooltip);
    const dump = await api.tree.dump();
    const node = dump.flatMap((n) => [n, ...(n.children ?? [])]).find((n) => n.kind === 'discovery');
    assert.ok(node, JSON.stringify(dump, null, 1));
    assert.equal(node.label, 'Found by its revision label');
    assert.equal(node.description, 'no .provenance.json');
  });

  it('an image built while the editor runs, whose source label is this repository\'s remote, becomes a second target', async () => {
    await docker(['build', '-q', '--label', `org.opencontainers.image.source=${fx.remote}`, '--label', 'com.docker.image.source.entrypoint=Dockerfile.other', '--label', `build-provenance.test-run=${fx.prefix}`, '-t', `${fx.second}:latest`, fx.context]);
    const s = await waitFor('the second target', () => api.model.visibleTargets.find((t) => t.target.image === fx.second && t.status) ?? undefined, 45_000);
    assert.equal(s.target.discovery?.rule, 'source-label');
    assert.equal(s.status!.snapshot.target.dockerfile, 'Dockerfile.other');
    assert.ok(api.model.visibleTargets.some((t) => t.target.image === fx.image), 'the first target stays');
    assert.ok(api.model.refreshReasons.some((r) => /discovery/.test(r)), api.model.refreshReasons.join(', '));
  });
});
