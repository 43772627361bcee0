// The untrusted-repository policy: one object that says what a repository we do not trust (VS
// Code's Restricted Mode, the CLI's --untrusted or PROVENANCE_UNTRUSTED=1) may make us do. A
// folder that ships its own `.git` chooses its own git config, so under the policy every git
// process gets config overrides that no repository config can undo (GIT_CONFIG_COUNT has the
// command line's precedence): no fsmonitor hook, no hooks, no signature checks (gpg.program), no
// external diff, no textconv, no clean/smudge filter. The overrides that cost nothing are applied
// always: our queries are read-only, and never need the repository's fsmonitor or gpg program.

export interface RepoPolicy {
  /** The repository is not trusted: no program it configures may run. */
  readonly untrusted: boolean;
}

let current: RepoPolicy = { untrusted: false };

/** The policy in force for this process (the CLI sets it once; the extension follows workspace trust). */
export function currentPolicy(): RepoPolicy {
  return current;
}

export function setUntrusted(untrusted: boolean): void {
  current = { untrusted };
}

/** `PROVENANCE_UNTRUSTED=1` (any value but empty and 0). */
export function untrustedFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.PROVENANCE_UNTRUSTED;
  return v !== undefined && v !== '' && v !== '0';
}

/** Config our read-only queries never need from any repository: applied to every git process. */
export const ALWAYS_CONFIG: readonly (readonly [string, string])[] = [
  ['core.fsmonitor', 'false'],
  ['log.showSignature', 'false'],
];

/** Config that closes every way a repository's own config starts a program during our queries. */
export const UNTRUSTED_CONFIG: readonly (readonly [string, string])[] = [
  ...ALWAYS_CONFIG,
  ['core.hooksPath', '/dev/null'],
  // With an empty value a diff that would run an external program fails instead (we also pass --no-ext-diff).
  ['diff.external', ''],
  ['gpg.program', '/bin/false'],
  ['gpg.ssh.program', '/bin/false'],
  ['gpg.x509.program', '/bin/false'],
  ['core.sshCommand', '/bin/false'],
  ['protocol.allow', 'never'],
];

/** Flags that keep a repository's programs out, per git subcommand (added right after it). */
const ALWAYS_FLAGS: Record<string, readonly string[]> = {
  log: ['--no-show-signature', '--no-ext-diff', '--no-textconv'],
  show: ['--no-show-signature', '--no-ext-diff', '--no-textconv'],
  diff: ['--no-ext-diff', '--no-textconv'],
  blame: ['--no-textconv'],
};

/** Under the policy, also: no recursion into submodules (each has its own config). */
const UNTRUSTED_FLAGS: Record<string, readonly string[]> = {
  status: ['--ignore-submodules=all'],
  diff: ['--ignore-submodules=all'],
};

/** The config keys that name a filter driver's program (`filter.<driver>.clean|smudge|process`). */
export const FILTER_KEYS = /^filter\.(.+)\.(clean|smudge|process)$/i;

/**
 * The arguments and environment of one git process under `policy`: `args` as the caller wrote
 * them with our flags after the subcommand, and `env` with the config overrides appended to any
 * GIT_CONFIG_COUNT already there. `filterDrivers` are the repository's configured filter drivers
 * (see FILTER_KEYS), each emptied under the policy (an empty program is no program to git).
 */
export function applyPolicy(
  policy: RepoPolicy,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  filterDrivers: readonly string[] = [],
): { args: string[]; env: NodeJS.ProcessEnv } {
  const sub = args.findIndex((a) => !a.startsWith('-'));
  const name = sub >= 0 ? args[sub] : '';
  const extra = [...(ALWAYS_FLAGS[name] ?? []), ...(policy.untrusted ? (UNTRUSTED_FLAGS[name] ?? []) : [])].filter((f) => !args.includes(f));
  const outArgs = sub >= 0 ? [...args.slice(0, sub + 1), ...extra, ...args.slice(sub + 1)] : [...args];
  const pairs: (readonly [string, string])[] = [...(policy.untrusted ? UNTRUSTED_CONFIG : ALWAYS_CONFIG)];
  if (policy.untrusted) for (const d of filterDrivers) for (const k of ['clean', 'smudge', 'process']) pairs.push([`filter.${d}.${k}`, '']);
  const outEnv: NodeJS.ProcessEnv = { ...env };
  const base = Number.parseInt(env.GIT_CONFIG_COUNT ?? '0', 10);
  const start = Number.isInteger(base) && base > 0 ? base : 0;
  pairs.forEach(([k, v], i) => {
    outEnv[`GIT_CONFIG_KEY_${start + i}`] = k;
    outEnv[`GIT_CONFIG_VALUE_${start + i}`] = v;
  });
  outEnv.GIT_CONFIG_COUNT = String(start + pairs.length);
  if (policy.untrusted) {
    // Environment that would name programs for git to run.
    for (const k of ['GIT_EXTERNAL_DIFF', 'GIT_SSH', 'GIT_SSH_COMMAND', 'GIT_ASKPASS', 'SSH_ASKPASS', 'GIT_EDITOR', 'GIT_PROXY_COMMAND']) delete outEnv[k];
  }
  return { args: outArgs, env: outEnv };
}
