// A feature built on first use, and disposed with the extension only if it was ever built.
// Activation stays short: what is not visible (the timeline panel, the line annotation, the
// facts behind hovers) costs nothing until someone asks for it.
import type * as vscode from 'vscode';

export class Lazy<T extends vscode.Disposable> implements vscode.Disposable {
  private value: T | undefined;
  private disposed = false;

  constructor(private readonly make: () => T) {}

  /** The feature, built now if this is its first use. */
  get(): T {
    if (this.disposed) throw new Error('Build Provenance is shutting down');
    return (this.value ??= this.make());
  }

  /** The feature if it was built, without building it. */
  peek(): T | undefined {
    return this.value;
  }

  dispose(): void {
    this.disposed = true;
    this.value?.dispose();
    this.value = undefined;
  }
}
