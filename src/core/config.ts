// The committed, schema-validated `.provenance.json` shared by the CLI and the extension.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse as parseJsonc, printParseErrorCode, type ParseError } from 'jsonc-parser';
import validateConfig from './generated/validateConfig';

export const CONFIG_FILE = '.provenance.json';
export const DEFAULT_IMAGE = 'helix-ubuntu';
export const DEFAULT_REVISION_LABELS = ['org.opencontainers.image.revision'];

export type CommandSpec = string[] | string;

export interface BuildSettings {
  mode?: 'builtin' | 'command';
  command?: CommandSpec;
  shell?: boolean;
  cwd?: string;
  env?: Record<string, string>;
  /** Tags for the built-in build; `{sha}` / `{short}` are replaced. Default `<image>:<short>`, `<image>:latest`. */
  tags?: string[];
  /** Network of RUN steps in the built-in build (default: the engine's; `host` on an engine without a bridge network). */
  network?: 'default' | 'host' | 'none';
  /** Builder of the built-in build (default auto: BuildKit when the engine offers it). */
  builder?: 'auto' | 'buildkit' | 'classic';
  /** Secret ID → where to read it, for RUN --mount=type=secret. */
  secrets?: Record<string, SecretSource>;
}

/** Where a build secret comes from: a file (`~/…`, absolute, or repo-relative) or an environment variable. */
export type SecretSource = { file: string; env?: undefined } | { env: string; file?: undefined };

export interface SmokeSettings {
  command?: CommandSpec;
  env?: Record<string, string>;
  network?: 'host' | 'none';
  extraArgs?: string[];
  timeoutSeconds?: number;
  ready?: { http?: string; tcp?: number; log?: string; exec?: string[] };
}

export interface DeploySettings {
  mode?: 'none' | 'command' | 'replace-container';
  command?: CommandSpec;
  shell?: boolean;
}

/** A target with every default filled in. Paths are repo-relative POSIX. */
export interface TargetConfig {
  name: string;
  image: string;
  /** Undefined until found (zero-config): from image labels or by name. */
  dockerfile?: string;
  context: string;
  targetStage?: string;
  buildArgs: Record<string, string>;
  revisionLabels: string[];
  include: string[];
  exclude: string[];
  endpoints: string[];
  /** Read the daemons of Docker-in-Docker containers found on the endpoints (default true). */
  nested?: boolean;
  build?: BuildSettings;
  smoke?: SmokeSettings;
  deploy?: DeploySettings;
  /** Zero-config only: which rule found this target (see status/discovery.ts). */
  discovery?: TargetDiscovery;
}

/** How zero-config found a target, cheapest rule first (README "Zero-config"). */
export type DiscoveryRule = 'revision-label' | 'source-label' | 'dockerfile-label' | 'image-name' | 'folder-name' | 'content';

export interface TargetDiscovery {
  rule: DiscoveryRule;
  /** One sentence: the label, name or files that decided it. */
  detail: string;
}

/** How zero-config found a target, in words: `by its revision label (no .provenance.json): app:latest: …`. */
export function discoveryWords(d: TargetDiscovery): string {
  return `${DISCOVERY_RULE_WORDS[d.rule]} (no .provenance.json): ${d.detail}`;
}

export const DISCOVERY_RULE_WORDS: Record<DiscoveryRule, string> = {
  'revision-label': 'by its revision label',
  'source-label': 'by its source label',
  'dockerfile-label': 'by its Dockerfile label',
  'image-name': 'by its name',
  'folder-name': 'by the folder name',
  content: 'by its baked files',
};

export interface LoadedConfig {
  /** Absolute path of the config file, or null for the zero-config default. */
  file: string | null;
  targets: TargetConfig[];
}

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly file: string | null,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

interface RawTarget {
  name?: string;
  image: string;
  dockerfile?: string;
  context?: string;
  targetStage?: string;
  buildArgs?: Record<string, string>;
  revisionLabels?: string[];
  include?: string[];
  exclude?: string[];
  docker?: { endpoints?: string[]; nested?: boolean };
  build?: BuildSettings;
  smoke?: SmokeSettings;
  deploy?: DeploySettings;
}

/** Normalises a user path to repo-relative POSIX ('' for the root). Rejects paths leaving the repo. */
export function normaliseRepoPath(p: string, what: string, file: string | null): string {
  const posix = path.posix.normalize(p.replace(/\\/g, '/'));
  if (path.posix.isAbsolute(posix) || posix === '..' || posix.startsWith('../')) {
    throw new ConfigError(`${what} "${p}" must be a path inside the repository, relative to its root.`, file);
  }
  return posix === '.' ? '' : posix.replace(/\/$/, '');
}

/**
 * What is wrong with an image name or glob, or null: Docker's reference grammar (an optional
 * registry host[:port], lowercase path segments of letters, digits and . _ -, an optional :tag
 * and @digest), where `*`, `?` and `**` may stand for parts of it.
 */
export function imagePatternProblem(image: string): string | null {
  let rest = image;
  const at = rest.indexOf('@');
  if (at >= 0) {
    if (!/^[a-z0-9]+:[0-9a-f*?]+$/.test(rest.slice(at + 1))) return `the digest after "@" is not <algorithm>:<hex>`;
    rest = rest.slice(0, at);
  }
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    const tag = rest.slice(colon + 1);
    if (!/^[\w*?][\w.*?-]{0,127}$/.test(tag)) return `the tag "${tag}" has characters a tag cannot have (letters, digits, _ . - only)`;
    rest = rest.slice(0, colon);
  }
  const parts = rest.split('/');
  if (parts.length > 1 && /[.:]|^localhost$/.test(parts[0])) {
    const host = parts.shift()!;
    if (!/^[A-Za-z0-9*?](?:[A-Za-z0-9.*?-]*[A-Za-z0-9*?])?(?::[0-9*?]+)?$/.test(host)) return `the registry "${host}" is not a host name[:port]`;
  }
  for (const p of parts) {
    if (p === '**') continue;
    if (p === '') return 'it has an empty path segment (two slashes, or a slash at an end)';
    if (/[A-Z]/.test(p)) return `"${p}" has upper-case letters; image names are lower case`;
    if (!/^[a-z0-9*?](?:[a-z0-9._*?-]*[a-z0-9*?])?$/.test(p)) return `"${p}" may only hold lower-case letters, digits and . _ - (not at its start or end)`;
  }
  return null;
}

function checkedImage(image: string, what: string, file: string | null): string {
  const problem = imagePatternProblem(image.trim());
  if (problem) {
    throw new ConfigError(`${what} "${image}" is not a Docker image name: ${problem}. E.g. helix-ubuntu, registry.example:5000/team/helix-ubuntu, or a glob such as team/helix-*.`, file);
  }
  return image;
}

function defaultName(image: string): string {
  const last = image.split('/').pop() ?? image;
  const name = last.replace(/[:@].*$/, '').replace(/[^A-Za-z0-9._-]/g, '-');
  return /^[A-Za-z0-9]/.test(name) ? name : `target-${name}`;
}

function normaliseTarget(raw: RawTarget, file: string | null): TargetConfig {
  return {
    name: raw.name ?? defaultName(raw.image),
    image: checkedImage(raw.image, file ? `${path.basename(file)}: image` : 'image', file),
    dockerfile: raw.dockerfile === undefined ? undefined : normaliseRepoPath(raw.dockerfile, 'dockerfile', file),
    context: normaliseRepoPath(raw.context ?? '.', 'context', file),
    targetStage: raw.targetStage,
    buildArgs: raw.buildArgs ?? {},
    revisionLabels: raw.revisionLabels?.length ? raw.revisionLabels : DEFAULT_REVISION_LABELS,
    include: raw.include ?? [],
    exclude: raw.exclude ?? [],
    endpoints: raw.docker?.endpoints ?? [],
    nested: raw.docker?.nested ?? true,
    build: raw.build,
    smoke: raw.smoke,
    deploy: raw.deploy,
  };
}

/** The zero-config default: one target, image `helix-ubuntu`, Dockerfile found later. */
export function defaultConfig(): LoadedConfig {
  return { file: null, targets: [normaliseTarget({ image: DEFAULT_IMAGE }, null)] };
}

/** A target zero-config discovery found: every default, and the rule that found it. */
export function discoveredTarget(image: string, dockerfile: string | undefined, discovery: TargetDiscovery): TargetConfig {
  return { ...normaliseTarget({ image, dockerfile }, null), discovery };
}

/** Parses and validates config text. Throws ConfigError with line:column and what to fix. */
export function parseConfig(text: string, file: string | null): LoadedConfig {
  const errors: ParseError[] = [];
  const data: unknown = parseJsonc(text, errors, { allowTrailingComma: true, disallowComments: false });
  const where = file ?? CONFIG_FILE;
  if (errors.length > 0) {
    const e = errors[0];
    const { line, column } = lineColumn(text, e.offset);
    throw new ConfigError(`${where}:${line}:${column}: invalid JSON (${printParseErrorCode(e.error)}). Fix the syntax and try again.`, file);
  }
  if (!validateConfig(data)) {
    const msgs = (validateConfig.errors ?? []).slice(0, 5).map((e) => {
      const at = e.instancePath || '(top level)';
      const extra = e.keyword === 'additionalProperties' ? ` "${String(e.params.additionalProperty)}"` : '';
      return `${at}: ${e.message ?? 'is invalid'}${extra}`;
    });
    throw new ConfigError(
      `${where} does not match its schema:\n  ${msgs.join('\n  ')}\nSee the schema in schema/provenance.schema.json.`,
      file,
    );
  }
  const raw = data as { targets: RawTarget[] };
  const targets = raw.targets.map((t) => normaliseTarget(t, file));
  const seen = new Set<string>();
  for (const t of targets) {
    if (seen.has(t.name)) {
      throw new ConfigError(`${where}: two targets are named "${t.name}"; give each a unique "name".`, file);
    }
    seen.add(t.name);
  }
  return { file, targets };
}

/** Loads `<root>/.provenance.json`, or the zero-config default when it does not exist. */
export function loadConfig(root: string): LoadedConfig {
  const file = path.join(root, CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return defaultConfig();
    throw new ConfigError(`Cannot read ${file}: ${(err as Error).message}`, file);
  }
  return parseConfig(text, file);
}

export interface TargetOverrides {
  image?: string;
  dockerfile?: string;
  context?: string;
}

/** Picks targets by name (all when no name) and applies CLI overrides. */
export function selectTargets(cfg: LoadedConfig, name: string | undefined, overrides: TargetOverrides = {}): TargetConfig[] {
  let targets = cfg.targets;
  if (name !== undefined) {
    targets = targets.filter((t) => t.name === name);
    if (targets.length === 0) {
      const known = cfg.targets.map((t) => t.name).join(', ');
      throw new ConfigError(`No target named "${name}". Known targets: ${known}.`, cfg.file);
    }
  }
  if (overrides.image || overrides.dockerfile || overrides.context) {
    if (targets.length > 1 && !name) {
      // Without a configuration, --image names the one target to look at; otherwise a flag that
      // changes a target must say which (it used to change the first one silently).
      if (cfg.file || !overrides.image) {
        const flags = (['image', 'dockerfile', 'context'] as const).filter((k) => overrides[k] !== undefined).map((k) => `--${k}`).join(' and ');
        throw new ConfigError(
          `${flags} change${flags.includes(' and ') ? '' : 's'} one target, and there are ${targets.length} (${targets.map((t) => t.name).join(', ')}). Say which with --target NAME, e.g. --target ${targets[0].name} ${flags.split(' and ')[0]} …`,
          cfg.file,
        );
      }
      targets = [targets[0]];
    }
    targets = targets.map((t) => ({
      ...t,
      image: overrides.image !== undefined ? checkedImage(overrides.image, '--image', null) : t.image,
      name: overrides.image && !cfg.file ? defaultName(overrides.image) : t.name,
      dockerfile: overrides.dockerfile !== undefined ? normaliseRepoPath(overrides.dockerfile, '--dockerfile', null) : t.dockerfile,
      context: overrides.context !== undefined ? normaliseRepoPath(overrides.context, '--context', null) : t.context,
    }));
  }
  return targets;
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let last = -1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return { line, column: offset - last };
}
