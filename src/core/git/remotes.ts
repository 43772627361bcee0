// A repository's remotes, read from its config file (no git process), and remote URLs in the
// forms labels carry them: without credentials, and reduced for comparison.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { RepoInfo } from './queries';

/**
 * A remote URL without credentials, query or fragment: `https://user:tok@host/x` → `https://host/x`.
 * scp-like `git@host:org/repo` has no secret (the user is the ssh login) and stays; so do paths.
 */
export function stripCredentials(remoteUrl: string): string {
  const raw = remoteUrl.trim();
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^/?#]*)(.*)$/.exec(raw);
  if (!m) return raw;
  const [, scheme, authority, rest] = m;
  const at = authority.lastIndexOf('@');
  const host = at >= 0 ? authority.slice(at + 1) : authority;
  const pathOnly = rest.replace(/[?#].*$/, '');
  return `${scheme}${host}${pathOnly}`;
}

/**
 * A remote URL reduced to `host/path` for comparison: no scheme, credentials, port-less ssh
 * user, `.git` suffix or trailing slash; `git@github.com:org/x.git`, `ssh://git@github.com/org/x`
 * and `https://github.com/org/x` are all `github.com/org/x`. A local path stays a path.
 */
export function normaliseRemoteUrl(url: string): string {
  let u = stripCredentials(url.trim());
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(u);
  if (scheme) {
    u = u.slice(scheme[0].length).replace(/^[^/@]*@/, '');
    // ssh://host:22/x and https://host:443/x are the same repository as without the port.
    u = u.replace(/^([^/:]+):(?:22|443|80)(?=\/)/, '$1');
  } else {
    const scp = /^(?:[^@/:]+@)?([^/:]+):(?!\/)(.*)$/.exec(u);
    if (scp) u = `${scp[1]}/${scp[2]}`;
  }
  u = u.replace(/\/+$/, '').replace(/\.git$/i, '').replace(/\/+$/, '');
  const slash = u.indexOf('/');
  return slash > 0 ? u.slice(0, slash).toLowerCase() + u.slice(slash) : u.toLowerCase();
}

/** `remote.<name>.url` values of a git config file's text (`[remote "origin"]` / `url = …`). */
export function remoteUrlsOfConfig(text: string): { name: string; url: string }[] {
  const out: { name: string; url: string }[] = [];
  let remote: string | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || line.startsWith(';') || line === '') continue;
    const section = /^\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\]/.exec(line);
    if (section) {
      remote = section[1].toLowerCase() === 'remote' && section[2] !== undefined ? section[2] : null;
      continue;
    }
    const kv = /^url\s*=\s*(.*)$/i.exec(line);
    if (remote !== null && kv) out.push({ name: remote, url: kv[1].replace(/^"(.*)"$/, '$1').trim() });
  }
  return out;
}

/** The remotes of `[remote "…"] url = …` in the common config file, URLs normalised. */
export function readRemotes(repo: RepoInfo): { name: string; url: string }[] {
  try {
    return remoteUrlsOfConfig(readFileSync(path.join(repo.commonDir, 'config'), 'utf8')).map((r) => ({ name: r.name, url: normaliseRemoteUrl(r.url) }));
  } catch {
    return [];
  }
}

