// The tool version stamped into image labels and ledger records. esbuild defines
// PROVENANCE_VERSION from package.json (scripts/build.mjs); tests run from source get the dev marker.
declare const PROVENANCE_VERSION: string | undefined;

export const TOOL_VERSION: string = typeof PROVENANCE_VERSION === 'string' ? PROVENANCE_VERSION : '0.0.0-dev';
