// Which Docker engine(s) to talk to, resolved the way the docker CLI does it, and how to turn one
// into dockerode options. No network, no dockerode load: only a type import.
// Docker CLI precedence: https://docs.docker.com/engine/manage-resources/contexts/
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { AgentOptions as HttpAgentOptions } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import type { DockerEndpoint } from '../types';
import { dialAgent, dialSsh } from './dialStdio';

export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

/** A host string or docker context that cannot be used; the message says what is wrong and where it came from. */
export class DockerEndpointError extends Error {
  override name = 'DockerEndpointError';
}

export type ParsedDockerHost =
  | { scheme: 'unix'; socketPath: string }
  | { scheme: 'tcp'; hostname: string; port: number }
  | { scheme: 'ssh'; hostname: string; port?: number; username?: string }
  | { scheme: 'docker-exec'; container: string };

export interface ResolveDockerEndpointsOptions {
  /** Endpoints configured for the target: host URLs, or `context:<name>` for a docker context. */
  targetEndpoints?: string[];
  env?: NodeJS.ProcessEnv;
  /** Default: $DOCKER_CONFIG, else ~/.docker. */
  dockerConfigDir?: string;
}

/**
 * Endpoints to query, by the docker CLI's precedence: the target's own endpoints (all of them)
 * → DOCKER_HOST → DOCKER_CONTEXT → the CLI's current context → the default socket.
 * Only the first source that applies is used, as the docker CLI does.
 * Throws DockerEndpointError for malformed hosts, unknown contexts and unreadable context files.
 */
export function resolveDockerEndpoints(opts: ResolveDockerEndpointsOptions = {}): DockerEndpoint[] {
  const env = opts.env ?? process.env;
  const configDir = opts.dockerConfigDir ?? (nonEmpty(env.DOCKER_CONFIG) || join(env.HOME || homedir(), '.docker'));

  const targets = (opts.targetEndpoints ?? []).map((s) => s.trim()).filter((s) => s !== '');
  if (targets.length > 0) {
    const direct = targets.filter((t) => !isDockerExec(t));
    const resolved = targets.map((t) => {
      if (isDockerExec(t)) return null;
      const ctx = /^context:(.*)$/.exec(t);
      if (ctx) return contextEndpoint(configDir, ctx[1].trim(), 'target');
      return endpointFromHost(t, 'target', env, configDir, 'the target\'s endpoint setting');
    });
    // docker-exec://NAME runs through the target's first other endpoint, else the daemon the docker CLI would use.
    const outer = resolved.find((e): e is DockerEndpoint => e !== null && !e.via) ?? (direct.length === 0 ? resolveDockerEndpoints({ ...opts, targetEndpoints: [] })[0] : undefined);
    return targets.map((t, k) => {
      if (!isDockerExec(t)) return resolved[k]!;
      const parsed = parseDockerHost(t);
      if (parsed.scheme !== 'docker-exec' || !outer) throw new DockerEndpointError(`Malformed Docker host "${t}" (from the target's endpoint setting).`);
      return { host: `docker-exec://${parsed.container}`, source: 'target', via: { outer, container: parsed.container, name: parsed.container } };
    });
  }
  const dockerHost = nonEmpty(env.DOCKER_HOST);
  if (dockerHost) return [endpointFromHost(dockerHost, 'DOCKER_HOST', env, configDir, 'DOCKER_HOST')];

  const envContext = nonEmpty(env.DOCKER_CONTEXT);
  if (envContext) return [contextEndpoint(configDir, envContext, 'DOCKER_CONTEXT')];

  const current = readCurrentContext(configDir);
  if (current) return [contextEndpoint(configDir, current, `context:${current}`)];

  return [{ host: DEFAULT_DOCKER_HOST, source: 'default' }];
}

/**
 * Parses `unix:///path`, `tcp://host[:port]` (also bare `host:port`, as the docker CLI accepts)
 * and `ssh://[user@]host[:port]`. Throws DockerEndpointError with a readable message.
 * `tlsDefaultPort` picks 2376 instead of 2375 when no port is given.
 */
export function parseDockerHost(host: string, tlsDefaultPort = false): ParsedDockerHost {
  const raw = host.trim();
  if (raw === '') throw new DockerEndpointError('Docker host is empty.');
  const withScheme = raw.includes('://') ? raw : `tcp://${raw}`;
  const scheme = withScheme.slice(0, withScheme.indexOf('://')).toLowerCase();
  const rest = withScheme.slice(withScheme.indexOf('://') + 3);

  if (scheme === 'unix') {
    if (rest === '' || !rest.startsWith('/')) {
      throw new DockerEndpointError(`Malformed Docker host "${raw}": a unix socket needs an absolute path, e.g. unix:///var/run/docker.sock.`);
    }
    return { scheme: 'unix', socketPath: rest };
  }
  if (scheme === 'tcp' || scheme === 'ssh') {
    let url: URL;
    try {
      // URL() only parses the authority of special schemes reliably, so parse as http.
      url = new URL(`http://${rest}`);
    } catch {
      throw new DockerEndpointError(
        `Malformed Docker host "${raw}": expected ${scheme === 'tcp' ? 'tcp://host:port' : 'ssh://[user@]host[:port]'}.`,
      );
    }
    if (url.hostname === '') throw new DockerEndpointError(`Malformed Docker host "${raw}": the host name is missing.`);
    if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
      throw new DockerEndpointError(`Malformed Docker host "${raw}": unexpected path "${url.pathname}${url.search}${url.hash}" after the host.`);
    }
    const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (scheme === 'tcp') {
      if (url.username || url.password) throw new DockerEndpointError(`Malformed Docker host "${raw}": tcp hosts take no user name.`);
      const port = url.port ? Number(url.port) : tlsDefaultPort ? 2376 : 2375;
      return { scheme: 'tcp', hostname, port };
    }
    if (url.password) throw new DockerEndpointError(`Docker host "${raw}": put no password in an ssh URL; use ssh-agent (SSH_AUTH_SOCK).`);
    return {
      scheme: 'ssh',
      hostname,
      // No port, no user: ~/.ssh/config (or ssh's defaults) decides, as for the docker CLI.
      ...(url.port ? { port: Number(url.port) } : {}),
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    };
  }
  if (scheme === 'docker-exec') {
    // A container name or ID as Docker allows them: [a-zA-Z0-9][a-zA-Z0-9_.-]*
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(rest)) {
      throw new DockerEndpointError(`Malformed Docker host "${raw}": expected docker-exec://CONTAINER, a container name or ID (letters, digits, _ . -).`);
    }
    return { scheme: 'docker-exec', container: rest };
  }
  if (scheme === 'npipe') throw new DockerEndpointError(`Docker host "${raw}": named pipes (npipe://) exist only on Windows.`);
  throw new DockerEndpointError(`Malformed Docker host "${raw}": unsupported scheme "${scheme}://"; use unix://, tcp://, ssh:// or docker-exec://.`);
}

/**
 * dockerode options for one endpoint. TLS files are read here, not at resolve time; a missing
 * file throws DockerEndpointError. Every connection key is set explicitly, because docker-modem
 * merges its own defaults from process.env.DOCKER_HOST underneath whatever we pass.
 */
export function dockerodeOptions(ep: DockerEndpoint, env: NodeJS.ProcessEnv = process.env): Dockerode.DockerOptions {
  const parsed = parseDockerHost(ep.host, !!ep.tls);
  const base: Dockerode.DockerOptions & { pathPrefix?: string } = {
    socketPath: undefined,
    host: undefined,
    port: undefined,
    protocol: undefined,
    username: undefined,
    ca: undefined,
    cert: undefined,
    key: undefined,
    pathPrefix: '/',
  };
  switch (parsed.scheme) {
    case 'unix':
      // servername '' (TLS SNI, meaningless on a socket) spares Node 20 guessing one from the
      // host name with its IPv6 regex on every request: a few ms each, on every CLI run.
      return { ...base, socketPath: parsed.socketPath, protocol: 'http', agent: new (http().Agent)({ servername: '' } as HttpAgentOptions) } as Dockerode.DockerOptions;
    case 'tcp': {
      if (!ep.tls) return { ...base, host: parsed.hostname, port: parsed.port, protocol: 'http' };
      const opts: Dockerode.DockerOptions & { agent?: HttpsAgent } = {
        ...base,
        host: parsed.hostname,
        port: parsed.port,
        protocol: 'https',
        ca: readTlsFile(ep, 'ca') ?? (ep.tls.verify ? defaultTrustWithExtras(env) : undefined),
        cert: readTlsFile(ep, 'cert'),
        key: readTlsFile(ep, 'key'),
      };
      if (!ep.tls.verify) {
        // DOCKER_TLS without verify / SkipTLSVerify: encrypt, but accept any server certificate.
        // docker-modem forwards only `agent`, not rejectUnauthorized, to https.request.
        opts.agent = new (https().Agent)({ rejectUnauthorized: false });
      }
      return opts;
    }
    case 'ssh': {
      // The system ssh runs `docker system dial-stdio`, as the docker CLI does (dialStdio.ts).
      const target = { hostname: parsed.hostname, port: parsed.port, username: parsed.username };
      return { ...base, protocol: 'http', agent: dialAgent(() => dialSsh(target, `ssh to ${ep.host}`, env)) } as Dockerode.DockerOptions;
    }
    case 'docker-exec':
      throw new DockerEndpointError(`Docker host "${ep.host}" is reached through another daemon; connect it with connectDocker.`);
  }
}

function isDockerExec(host: string): boolean {
  return /^docker-exec:\/\//i.test(host.trim());
}

function endpointFromHost(host: string, source: string, env: NodeJS.ProcessEnv, configDir: string, origin: string): DockerEndpoint {
  const tlsVerify = nonEmpty(env.DOCKER_TLS_VERIFY) !== undefined && env.DOCKER_TLS_VERIFY !== '0';
  const tlsOn = tlsVerify || (nonEmpty(env.DOCKER_TLS) !== undefined && env.DOCKER_TLS !== '0');
  let parsed: ParsedDockerHost;
  try {
    parsed = parseDockerHost(host, tlsOn);
  } catch (err) {
    throw new DockerEndpointError(`${(err as Error).message} (from ${origin})`);
  }
  if (parsed.scheme === 'unix') return { host: host.trim(), source };
  if (parsed.scheme === 'ssh') return { host: host.trim(), source };
  if (parsed.scheme === 'docker-exec') throw new DockerEndpointError(`${host.trim()}: docker-exec:// endpoints go in a target's "docker.endpoints", not in ${origin}.`);

  const normalized = `tcp://${parsed.hostname.includes(':') ? `[${parsed.hostname}]` : parsed.hostname}:${parsed.port}`;
  if (!tlsOn) return { host: normalized, source };
  // The docker CLI falls back to its config dir for certificates when DOCKER_CERT_PATH is unset.
  const explicitDir = nonEmpty(env.DOCKER_CERT_PATH);
  const dir = explicitDir ?? configDir;
  const tls: NonNullable<DockerEndpoint['tls']> = { verify: tlsVerify };
  for (const f of ['ca', 'cert', 'key'] as const) {
    const p = join(dir, `${f}.pem`);
    if (explicitDir || existsSync(p)) tls[f] = p;
  }
  return { host: normalized, source, tls };
}

function contextEndpoint(configDir: string, name: string, source: string): DockerEndpoint {
  if (name === '') throw new DockerEndpointError('Empty docker context name.');
  if (name === 'default') {
    // The built-in "default" context is DOCKER_HOST or the default socket; DOCKER_HOST was already handled.
    return { host: DEFAULT_DOCKER_HOST, source };
  }
  const id = createHash('sha256').update(name).digest('hex');
  const metaPath = join(configDir, 'contexts', 'meta', id, 'meta.json');
  let meta: unknown;
  try {
    meta = JSON.parse(readFileSync(metaPath, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new DockerEndpointError(
        `Docker context "${name}" (from ${source}) does not exist in ${join(configDir, 'contexts')}; list contexts with \`docker context ls\`.`,
      );
    }
    throw new DockerEndpointError(`Cannot read docker context "${name}" from ${metaPath}: ${(err as Error).message}`);
  }
  const docker = (meta as { Endpoints?: { docker?: { Host?: unknown; SkipTLSVerify?: unknown } } })?.Endpoints?.docker;
  if (!docker || typeof docker.Host !== 'string' || docker.Host === '') {
    throw new DockerEndpointError(`Docker context "${name}" (${metaPath}) has no Endpoints.docker.Host.`);
  }
  const skipVerify = docker.SkipTLSVerify === true;
  const tlsDir = join(configDir, 'contexts', 'tls', id, 'docker');
  const tls: NonNullable<DockerEndpoint['tls']> = { verify: !skipVerify };
  for (const f of ['ca', 'cert', 'key'] as const) {
    const p = join(tlsDir, `${f}.pem`);
    if (existsSync(p)) tls[f] = p;
  }
  const hasTls = tls.ca !== undefined || tls.cert !== undefined || tls.key !== undefined || skipVerify;
  let parsed: ParsedDockerHost;
  try {
    parsed = parseDockerHost(docker.Host, hasTls);
  } catch (err) {
    throw new DockerEndpointError(`${(err as Error).message} (from docker context "${name}")`);
  }
  if (parsed.scheme === 'docker-exec') throw new DockerEndpointError(`Docker context "${name}": docker-exec:// endpoints go in a target's "docker.endpoints".`);
  if (parsed.scheme === 'tcp' && hasTls) return { host: docker.Host, source, tls };
  return { host: docker.Host, source };
}

function readCurrentContext(configDir: string): string | undefined {
  const configPath = join(configDir, 'config.json');
  let text: string;
  try {
    text = readFileSync(configPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DockerEndpointError(`Cannot read ${configPath}: ${(err as Error).message}`);
  }
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (err) {
    throw new DockerEndpointError(`${configPath} is not valid JSON (${(err as Error).message}); fix or remove it.`);
  }
  const current = (config as { currentContext?: unknown })?.currentContext;
  return typeof current === 'string' && current !== '' ? current : undefined;
}

function readTlsFile(ep: DockerEndpoint, which: 'ca' | 'cert' | 'key'): Buffer | undefined {
  const p = ep.tls?.[which];
  if (!p) return undefined;
  try {
    return readFileSync(p);
  } catch (err) {
    throw new DockerEndpointError(`Cannot read TLS ${which} file ${p} for ${ep.host} (from ${ep.source}): ${(err as Error).message}`);
  }
}

/**
 * Node's default trust spelled out: its bundled roots plus NODE_EXTRA_CA_CERTS. The `provenance`
 * executable starts Node without the extra file (Node 20 would parse it at start-up), so a TLS
 * endpoint verified without a ca.pem gets it here. Undefined (Node's defaults) otherwise.
 */
export function defaultTrustWithExtras(env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  const extra = nonEmpty(env.NODE_EXTRA_CA_CERTS);
  if (!extra) return undefined;
  try {
    return [...tls().rootCertificates, readFileSync(extra, 'utf8')];
  } catch {
    return undefined; // Node itself only warns about an unreadable file
  }
}

// Node's http, https and tls modules load on first use (~12 ms of start-up): most CLI
// commands (diff, affects, inputs) never talk to Docker.
/* eslint-disable @typescript-eslint/no-require-imports */
const http = () => require('node:http') as typeof import('node:http');
const https = () => require('node:https') as typeof import('node:https');
const tls = () => require('node:tls') as typeof import('node:tls');
/* eslint-enable @typescript-eslint/no-require-imports */

function nonEmpty(s: string | undefined): string | undefined {
  return s !== undefined && s.trim() !== '' ? s.trim() : undefined;
}
