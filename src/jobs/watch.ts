/**
 * The latest state of something that changes until it ends (a job's progress), and streams of
 * it for subscribers. Every subscriber gets the current state at once, then each later state;
 * states that arrive faster than a subscriber reads them are coalesced into the newest one, which
 * is what a progress display wants. The stream ends when the watched thing ends (or fails).
 */
export class Watched<T> {
  private state: T;
  private version = 0;
  private ended = false;
  private failure: Error | undefined;
  private readonly wakers = new Set<() => void>();

  constructor(initial: T) {
    this.state = initial;
  }

  get current(): T {
    return this.state;
  }

  get done(): boolean {
    return this.ended;
  }

  /** Why the watch ended early, if it did. */
  get error(): Error | undefined {
    return this.failure;
  }

  /** A new state; ignored once ended. */
  update(next: T): void {
    if (this.ended) return;
    this.state = next;
    this.version++;
    this.wake();
  }

  /** The final state: streams deliver it and then end. */
  finish(final?: T): void {
    if (this.ended) return;
    if (final !== undefined) {
      this.state = final;
      this.version++;
    }
    this.ended = true;
    this.wake();
  }

  /** Ends every stream with `error` (after the last state they have not seen yet). */
  fail(error: Error): void {
    if (this.ended) return;
    this.failure = error;
    this.ended = true;
    this.wake();
  }

  /** Resolves once the watch has ended (with its final state), or rejects with its failure. */
  async settled(): Promise<T> {
    const stream = this.stream();
    let last = this.state;
    for await (const state of stream) last = state;
    return last;
  }

  /**
   * A stream of states. `return()` (a client going away) detaches it at once, so an abandoned
   * subscription holds nothing until the next update.
   */
  stream(): AsyncIterableIterator<T> {
    let seen = -1;
    let closed = false;
    let pending: (() => void) | undefined;
    const waker = () => {
      const resolve = pending;
      pending = undefined;
      resolve?.();
    };
    this.wakers.add(waker);
    const close = () => {
      closed = true;
      this.wakers.delete(waker);
      waker();
    };
    const iterator: AsyncIterableIterator<T> = {
      [Symbol.asyncIterator]: () => iterator,
      next: async () => {
        while (!closed) {
          if (this.version !== seen) {
            seen = this.version;
            return { value: this.state, done: false };
          }
          if (this.ended) {
            close();
            if (this.failure) throw this.failure;
            break;
          }
          await new Promise<void>((resolve) => (pending = resolve));
        }
        return { value: undefined, done: true };
      },
      return: async () => {
        close();
        return { value: undefined, done: true };
      },
    };
    return iterator;
  }

  private wake(): void {
    for (const waker of [...this.wakers]) waker();
  }
}
