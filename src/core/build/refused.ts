// A build or smoke run that was refused before it started (untrusted, busy, bad settings…).
// Its own module so the CLI can recognise it without loading the build engine.

/**
 * Why a build or smoke test did not start: untrusted workspace, target busy, settings, Docker.
 * (A build that ran and failed is a result with ok: false, not this.)
 */
export class BuildRefusedError extends Error {
  override name = 'BuildRefusedError';
  constructor(
    message: string,
    readonly hint: string,
    readonly code: 'untrusted' | 'busy' | 'settings' | 'docker' | 'no-image' | 'port-in-use',
  ) {
    super(message);
  }
}
