// What both builders share: the request they send and the engine's answer, a stream of
// newline-separated JSON messages that arrives in arbitrary chunks.
import type { BuildContextStream } from './context';

/** One built-in build request, for either builder. */
export interface BuildRequest {
  context: BuildContextStream;
  tags: string[];
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  targetStage?: string;
  /** Network of RUN steps; null: the engine's default. */
  network: 'host' | 'none' | null;
  signal?: AbortSignal;
  onOutput?: (line: string) => void;
}

/** Splits the stream into messages; subclasses read them. Pure and incremental. */
export abstract class EngineStreamParser {
  private rest = '';
  /** The built image, once the engine names it. */
  imageId: string | null = null;
  /** The engine's error message, when the build failed. */
  error: string | null = null;

  push(chunk: string): void {
    const parts = (this.rest + chunk).split('\n');
    this.rest = parts.pop() ?? '';
    for (const p of parts) this.message(p);
  }

  end(): void {
    if (this.rest.trim()) this.message(this.rest);
    this.rest = '';
    this.finish();
  }

  /** One message (a line, JSON or not). */
  protected abstract message(raw: string): void;
  /** After the last message. */
  protected abstract finish(): void;
}
