// Small renderings shared by the CLI and the editor: relative ages and control-character-free text.
import type { InputVia } from './types';

/** "Dockerfile.ubuntu-helix:998" (no line for the Dockerfile or ignore file themselves). */
export function viaLocation(via: InputVia): string {
  return via.line !== null ? `${via.dockerfile}:${via.line}` : via.dockerfile;
}

/** Terminal escapes and other control characters from untrusted text (labels, commit subjects, file names). */
export function clean(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, '?');
}

/**
 * Text that no renderer of links makes a link of: VS Code turns `[text](command:…)` (and https:,
 * file:) in a notification into a link that runs its target on click. A zero-width space between
 * `]` and `(` keeps the text as it reads, and no link can form. Control characters go too.
 */
export function plainText(s: string): string {
  return clean(s).replace(/\]\(/g, ']\u200b(');
}

export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '?';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '?';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 90) return `${s}s`;
  if (s < 90 * 60) return `${Math.round(s / 60)}m`;
  if (s < 48 * 3600) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

/** "31h" style age from seconds. */
export function agoSeconds(s: number): string {
  return ago(new Date(Date.now() - s * 1000).toISOString());
}

export function shortSha(sha: string | null | undefined): string {
  return sha ? sha.slice(0, 8) : '?';
}
