import type { CallOptions } from './endpoint.ts';

/** The call's overall deadline: one signal for the caller's abort and the time limit. */
export class Deadline {
  readonly signal: AbortSignal;
  readonly at: number;
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly detach: () => void;

  constructor(options: CallOptions | undefined, defaultMs: number, now: number) {
    const ms = Math.max(0, options?.deadlineMs ?? defaultMs);
    this.at = now + ms;
    this.signal = this.controller.signal;
    this.timer = setTimeout(() => this.controller.abort(new Error('deadline reached')), ms);
    this.timer.unref?.();
    const caller = options?.signal;
    if (caller?.aborted) this.controller.abort(caller.reason);
    const onAbort = () => this.controller.abort(caller?.reason);
    caller?.addEventListener('abort', onAbort, { once: true });
    this.detach = () => caller?.removeEventListener('abort', onAbort);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.detach();
  }
}

/** Waits for `promise`, or rejects with `onAbort()` when `signal` aborts first. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal, onAbort: () => Error): Promise<T> {
  if (signal.aborted) return Promise.reject(onAbort());
  return new Promise<T>((resolve, reject) => {
    const listener = () => reject(onAbort());
    signal.addEventListener('abort', listener, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', listener);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', listener);
        reject(e);
      },
    );
  });
}
