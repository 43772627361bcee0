// Which optional commands exist right now. Build + Smoke Test and Rebuild Image come from the
// build feature; hovers and CodeLenses offer them only once they are registered (no placeholder).
import * as vscode from 'vscode';

export const BUILD_COMMANDS = {
  buildAndSmoke: 'buildProvenance.buildAndSmoke',
  rebuildImage: 'buildProvenance.rebuildImage',
} as const;

const TTL_MS = 5000;
let cached: { at: number; ids: Promise<Set<string>> } | undefined;

/** The subset of `ids` that are registered commands (the full list is cached for a few seconds). */
export async function registeredCommands(ids: readonly string[]): Promise<Set<string>> {
  if (!cached || Date.now() - cached.at > TTL_MS) {
    cached = { at: Date.now(), ids: Promise.resolve(vscode.commands.getCommands(true)).then((all) => new Set(all), () => new Set<string>()) };
  }
  const all = await cached.ids;
  return new Set(ids.filter((id) => all.has(id)));
}
