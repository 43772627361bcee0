// A fixture repo modelled on the incident: a multi-stage Dockerfile.ubuntu-helix, Go code COPYed
// into a builder stage whose binary lands in the final stage, scripts ADDed into the final stage,
// docs and unrelated dirs, and a per-Dockerfile ignore file that overrides .dockerignore.
import { FixtureRepo } from './gitFixture';

export const INCIDENT_DOCKERFILE = `# syntax=docker/dockerfile:1
ARG GO_VERSION=1.22
FROM golang:\${GO_VERSION} AS go-build
WORKDIR /src
COPY api/go.mod api/go.sum ./
COPY api/ ./api/
RUN go build -o /out/settings-sync ./api/cmd/settings-sync

FROM node:20 AS frontend
COPY frontend/ /app/
RUN npm run build

FROM ubuntu:22.04 AS base
RUN apt-get update && apt-get install -y mesa-utils

FROM base
COPY --from=go-build /out/settings-sync /usr/local/bin/settings-sync
ADD desktop/shared/detect-render-node.sh /usr/local/bin/detect-render-node.sh
COPY --chmod=755 desktop/ubuntu-config/ /etc/helix/
COPY <<EOF /etc/motd
Helix desktop
EOF
CMD ["/usr/local/bin/settings-sync"]
`;

export const INCIDENT_IGNORE = `**/*_test.go
api/**/testdata
docs
`;

/** What a commit touches, and whether it changes an input of helix-ubuntu. */
export interface IncidentStep {
  subject: string;
  files: Record<string, string>;
  relevant: boolean;
  /** The step's files that are inputs (default: all of them when relevant). */
  inputs?: string[];
}

export function incidentSteps(): IncidentStep[] {
  let n = 0;
  const v = () => `v${++n}\n`;
  return [
    { subject: 'docs: describe the streaming stack', files: { 'docs/streaming.md': v() }, relevant: false },
    { subject: 'api: settings sync retries', files: { 'api/pkg/sync/sync.go': v() }, relevant: true },
    { subject: 'api: test for retries', files: { 'api/pkg/sync/sync_test.go': v() }, relevant: false },
    { subject: 'frontend: new settings page', files: { 'frontend/src/settings.tsx': v() }, relevant: false },
    { subject: 'desktop: export MESA_GL_VERSION_OVERRIDE=4.5 globally', files: { 'desktop/shared/detect-render-node.sh': `#!/bin/sh\nexport MESA_GL_VERSION_OVERRIDE=4.5\n${v()}` }, relevant: true },
    // Relevant by the range rule: a later commit stops ignoring testdata, and a range takes the
    // inputs at both of its ends.
    { subject: 'api: testdata fixtures', files: { 'api/pkg/sync/testdata/case1.json': v() }, relevant: true },
    { subject: 'root .dockerignore is not the effective ignore file', files: { '.dockerignore': 'desktop\n' }, relevant: false },
    { subject: 'integration tests', files: { 'integration-test/smoke.sh': v() }, relevant: false },
    { subject: 'desktop: sway config', files: { 'desktop/sway/config': v() }, relevant: false },
    { subject: 'desktop: ubuntu-config panel', files: { 'desktop/ubuntu-config/panel.conf': v() }, relevant: true },
    { subject: 'readme', files: { 'README.md': v() }, relevant: false },
    { subject: 'frontend: fix', files: { 'frontend/src/app.tsx': v() }, relevant: false },
    { subject: 'docs + api together', files: { 'docs/api.md': v(), 'api/cmd/settings-sync/main.go': v() }, relevant: true, inputs: ['api/cmd/settings-sync/main.go'] },
    { subject: 'ignore: stop ignoring testdata', files: { 'Dockerfile.ubuntu-helix.dockerignore': '**/*_test.go\ndocs\n' }, relevant: true },
    { subject: 'api: testdata now counts', files: { 'api/pkg/sync/testdata/case2.json': v() }, relevant: true },
    { subject: 'multi-scanout (another repo would be blamed)', files: { 'tools/scanout/notes.txt': v() }, relevant: false },
    { subject: 'api: go.sum bump', files: { 'api/go.sum': v() }, relevant: true },
    { subject: 'encoder notes', files: { 'docs/encoder.md': v() }, relevant: false },
    { subject: 'Dockerfile: install vainfo', files: { 'Dockerfile.ubuntu-helix': INCIDENT_DOCKERFILE.replace('mesa-utils', 'mesa-utils vainfo') }, relevant: true },
    { subject: 'frontend only', files: { 'frontend/package.json': v() }, relevant: false },
    { subject: 'more docs', files: { 'docs/more.md': v() }, relevant: false },
    { subject: 'desktop: unrelated wallpaper', files: { 'desktop/wallpapers/blue.txt': v() }, relevant: false },
    { subject: 'api: another test', files: { 'api/pkg/other_test.go': v() }, relevant: false },
  ];
}

export interface IncidentRepo {
  repo: FixtureRepo;
  /** The commit the (good) image was built from. */
  base: string;
  /** SHA of each step, in order. */
  shas: string[];
  steps: IncidentStep[];
}

export function createIncidentRepo(opts: { config?: boolean } = {}): IncidentRepo {
  const repo = FixtureRepo.create('bp-incident-');
  const files: Record<string, string> = {
    'Dockerfile.ubuntu-helix': INCIDENT_DOCKERFILE,
    'Dockerfile.ubuntu-helix.dockerignore': INCIDENT_IGNORE,
    '.dockerignore': 'node_modules\n',
    'api/go.mod': 'module helix\n',
    'api/go.sum': '\n',
    'api/cmd/settings-sync/main.go': 'package main\n',
    'api/pkg/sync/sync.go': 'package sync\n',
    'desktop/shared/detect-render-node.sh': '#!/bin/sh\n',
    'desktop/ubuntu-config/panel.conf': 'panel\n',
    'desktop/sway/config': 'sway\n',
    'frontend/src/app.tsx': 'app\n',
    'docs/index.md': 'docs\n',
    'README.md': 'helix\n',
  };
  if (opts.config !== false) {
    files['.provenance.json'] = JSON.stringify({ targets: [{ name: 'helix-ubuntu', image: 'helix-ubuntu', dockerfile: 'Dockerfile.ubuntu-helix' }] }, null, 2);
  }
  const base = repo.commit('initial import', files);
  const steps = incidentSteps();
  const shas = steps.map((s) => repo.commit(s.subject, s.files));
  return { repo, base, shas, steps };
}
