// Types of bench/gen-repo.mjs for the tests that generate repositories with it.
export const GEN_VERSION: number;
export const COMMITS: number;
export const DOCKERFILE: string;
export const IGNORE_FILE: string;
export const IMAGE: string;
export function isImageInput(path: string): boolean;
/** The generator's seeded PRNG: numbers in [0, 1). */
export function mulberry32(seed: number): () => number;
export interface StreamOptions {
  commits?: number;
  seed?: number;
  /** Chance per commit of forking a side branch that merges back (0: linear history). */
  merges?: number;
  startEpoch?: number;
}
export function buildStream(opts?: StreamOptions): { stream: string; fileCount: number; head: number };
export function generateRepo(
  dir: string,
  opts?: StreamOptions,
  run?: { log?: (line: string) => void; t0?: number; pack?: boolean },
): Promise<{ shas: string[]; head: number; fileCount: number }>;
export function ensureRepo(opts?: { force?: boolean; log?: (line: string) => void }): Promise<{ dir: string; shas: string[]; commits: number; fileCount: number; cached: boolean; generatedMs?: number }>;
