// Deploy: put a new image into service after a passing build + smoke test, as the target's
// `deploy` settings say — nothing (the default), the user's command, or replacing the running
// containers of the target with ones from the new image (same name and host settings).
import type Dockerode from 'dockerode';
import type { TargetConfig } from '../config';
import { buildEndpoint, pickImage, record, refuseUntrusted, BuildRefusedError } from './engine';
import { readLedger } from './ledger';
import { commandArgv, CommandSpecError, runCommand } from './commandRunner';
import { connectDocker, parseRevisionLabel, repositoryOf } from '../docker/state';
import { isAbortError } from '../git/exec';
import { dockerStateFor, type Workspace } from '../status/workspace';
import { TOOL_VERSION } from '../version';

export interface DeployOptions {
  /** The image to deploy (ID). */
  imageId: string;
  trusted: boolean;
  signal?: AbortSignal;
  onOutput?: (line: string) => void;
}

export interface DeployResult {
  ok: boolean;
  mode: 'none' | 'command' | 'replace-container';
  /** replace-container: the containers replaced (name, old and new container ID). */
  replaced: { name: string; oldId: string; newId: string }[];
  error: string | null;
  ledgerId: string | null;
  /** Set when the deploy could not be recorded (the deploy itself still counts), as for builds and smoke tests. */
  ledgerError: string | null;
}

/** Runs the target's deploy step for `imageId` and records it in the ledger (kind `mark`). */
export async function runDeploy(ws: Workspace, target: TargetConfig, opts: DeployOptions): Promise<DeployResult> {
  const mode = target.deploy?.mode ?? 'none';
  const res: DeployResult = { ok: true, mode, replaced: [], error: null, ledgerId: null, ledgerError: null };
  if (mode === 'none') return res;
  refuseUntrusted(opts, `deploy ${target.name}`);
  const say = (l: string) => opts.onOutput?.(l);
  const endpoint = buildEndpoint(target);
  const docker = await connectDocker(endpoint, 30_000);
  const image = await docker.getImage(opts.imageId).inspect();
  const rev = parseRevisionLabel(image.Config?.Labels ?? {}, target.revisionLabels);
  const startedAt = new Date().toISOString();
  try {
    if (mode === 'command') {
      let argv: string[];
      try {
        argv = commandArgv(target.deploy?.command, target.deploy?.shell, 'deploy');
      } catch (err) {
        if (err instanceof CommandSpecError) throw new BuildRefusedError(err.message, 'Fix "deploy" of the target in .provenance.json.', 'settings');
        throw err;
      }
      const out = await runCommand(argv, {
        cwd: ws.repo.root,
        env: {
          ...process.env,
          PROVENANCE_IMAGE_ID: image.Id,
          PROVENANCE_IMAGE: target.image,
          PROVENANCE_TARGET: target.name,
          PROVENANCE_REVISION: rev.kind === 'sha' ? rev.sha : '',
        },
        signal: opts.signal,
        onLine: say,
      });
      if (out.cancelled) res.error = 'cancelled';
      else if (out.exitCode !== 0) res.error = `the deploy command exited with code ${out.exitCode ?? out.signal}`;
    } else {
      const state = await dockerStateFor(target, opts.signal);
      const running = state.reachable ? state.containers.filter((c) => c.state === 'running' && c.imageId !== image.Id) : [];
      if (!state.reachable) res.error = state.reason;
      refuseOtherImages(target, running);
      for (const c of running) {
        say(`Replacing ${c.name} (${c.imageId.slice(7, 19)}) with ${image.Id.slice(7, 19)}`);
        res.replaced.push({ name: c.name, oldId: c.id, newId: await replaceContainer(docker, c.id, image) });
      }
      if (state.reachable && running.length === 0) say(`No running container of ${target.name} to replace.`);
    }
  } catch (err) {
    if (isAbortError(err)) res.error = 'cancelled';
    else if (err instanceof BuildRefusedError) throw err;
    else res.error = (err as { json?: { message?: string } }).json?.message ?? (err as Error).message;
  }
  res.ok = res.error === null;
  const rec = await record(ws.repo, {
    kind: 'mark',
    target: target.name,
    revision: rev.kind === 'sha' ? rev.sha : null,
    dirty: rev.kind === 'sha' && rev.dirty,
    inputHash: image.Config?.Labels?.['dev.build-provenance.input-hash'] ?? '',
    imageId: image.Id,
    tags: image.RepoTags ?? [],
    mode: mode === 'command' ? 'command' : null,
    startedAt,
    endedAt: new Date().toISOString(),
    result: res.ok ? 'success' : res.error === 'cancelled' ? 'cancelled' : 'failure',
    smoke: null,
    error: res.error,
    logExcerpt: res.replaced.map((r) => `replaced ${r.name}: ${r.oldId.slice(0, 12)} -> ${r.newId.slice(0, 12)}`).join('\n'),
    tool: TOOL_VERSION,
  });
  res.ledgerId = rec.id;
  res.ledgerError = rec.error;
  return res;
}

export interface DeployImageResult extends DeployResult {
  target: string;
  imageId: string;
  tags: string[];
  revision: string | null;
  /** The image's newest smoke test in the ledger: passed, failed, or null when it was never smoke-tested. */
  smoke: 'passed' | 'failed' | null;
}

/**
 * `provenance deploy`: the target's deploy step for `image` (ID or name:tag), by default its newest
 * image. Refused (BuildRefusedError) when the target names no deploy step or has no image.
 */
export async function deployImage(
  ws: Workspace,
  target: TargetConfig,
  opts: Omit<DeployOptions, 'imageId'> & { image?: string; onSmoke?: (smoke: 'passed' | 'failed' | null, imageId: string) => void },
): Promise<DeployImageResult> {
  refuseUntrusted(opts, `deploy ${target.name}`);
  if ((target.deploy?.mode ?? 'none') === 'none') {
    throw new BuildRefusedError(
      `The target ${target.name} has no deploy step, so provenance does not know how to run its new image.`,
      'Add one to the target in .provenance.json: "deploy": {"mode": "replace-container"} (recreate its running containers from the new image) or {"mode": "command", "command": [...]}.',
      'settings',
    );
  }
  const image = await pickImage(target, buildEndpoint(target), opts.image, opts.signal, 'deploy');
  const ledger = await readLedger(ws.repo.commonDir);
  let smoke: 'passed' | 'failed' | null = null;
  for (const r of ledger.records) if (r.imageId === image.id && r.smoke && r.smoke.result !== 'cancelled') smoke = r.smoke.result;
  opts.onSmoke?.(smoke, image.id);
  const res = await runDeploy(ws, target, { ...opts, imageId: image.id });
  const rev = parseRevisionLabel(image.labels, target.revisionLabels);
  return { ...res, target: target.name, imageId: image.id, tags: image.tags, revision: rev.kind === 'sha' ? rev.sha : null, smoke };
}

/**
 * replace-container with an image glob (`team/*`): the glob may match containers of images this
 * target never builds. Only containers of the repositories its build tags name are replaced; one
 * of any other image refuses the deploy (issue 16), naming it.
 */
export function refuseOtherImages(target: TargetConfig, running: { name: string; image: string }[]): void {
  if (!/[*?]/.test(target.image)) return;
  const own = new Set((target.build?.tags ?? []).map((t) => repositoryOf(t)));
  const others = running.filter((c) => !own.has(repositoryOf(c.image)));
  if (others.length === 0) return;
  throw new BuildRefusedError(
    `Refusing to deploy ${target.name}: its image glob ${target.image} matches running containers of other images (${others.map((c) => `${c.name}: ${c.image}`).join(', ')}), which replace-container would recreate from this target's image.`,
    'Name the image exactly in .provenance.json, or stop the other containers; only containers of the repositories in build.tags are replaced.',
    'settings',
  );
}

/** What a container's config holds only because its old image had it (so the new image's own applies). */
function fromOldImage<T>(own: T | undefined, old: T | undefined): boolean {
  return JSON.stringify(own ?? null) === JSON.stringify(old ?? null);
}

/**
 * Replaces one container with one from `image`: same name, host config and run-time settings; the
 * settings it merely inherited from its old image (labels, env, cmd…) come from the new image.
 * The old container is kept (renamed, stopped) until the new one runs, and restored on failure.
 */
async function replaceContainer(docker: Dockerode, id: string, image: Dockerode.ImageInspectInfo): Promise<string> {
  const old = docker.getContainer(id);
  const info = await old.inspect();
  const oldImage = await docker.getImage(info.Image).inspect().catch(() => null);
  const oc = oldImage?.Config;
  const cfg = info.Config;
  const name = info.Name.replace(/^\//, '');
  const oldEnv = new Set(oc?.Env ?? []);
  const labels = Object.fromEntries(Object.entries(cfg.Labels ?? {}).filter(([k, v]) => oc?.Labels?.[k] !== v));
  // Keep the container's image reference (e.g. helix-ubuntu:latest) when it names the new image.
  const refId = cfg.Image ? (await docker.getImage(cfg.Image).inspect().catch(() => null))?.Id : undefined;
  const imageRef = refId === image.Id ? cfg.Image : image.Id;
  const aside = `${name}-replaced-${Date.now()}`;
  await old.rename({ name: aside });
  await old.stop({ t: 10 }).catch((err: { statusCode?: number }) => {
    if (err.statusCode !== 304) throw err;
  });
  try {
    const created = await docker.createContainer({
      name,
      Image: imageRef,
      Env: (cfg.Env ?? []).filter((e) => !oldEnv.has(e)),
      Labels: labels,
      ...(fromOldImage(cfg.Cmd, oc?.Cmd) ? {} : { Cmd: cfg.Cmd }),
      ...(fromOldImage(cfg.Entrypoint, oc?.Entrypoint) ? {} : { Entrypoint: cfg.Entrypoint as string[] }),
      ...(fromOldImage(cfg.WorkingDir, oc?.WorkingDir) ? {} : { WorkingDir: cfg.WorkingDir }),
      ...(fromOldImage(cfg.User, oc?.User) ? {} : { User: cfg.User }),
      Tty: cfg.Tty,
      OpenStdin: cfg.OpenStdin,
      HostConfig: info.HostConfig,
    });
    await created.start();
    await old.remove({ force: true });
    return created.id;
  } catch (err) {
    await docker.getContainer(name).remove({ force: true }).catch(() => undefined);
    await old.rename({ name }).catch(() => undefined);
    await old.start().catch(() => undefined);
    throw err;
  }
}
