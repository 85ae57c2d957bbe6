/**
 * Cooperative time slicing for big executions. graphql-js completes a 2,000-department tree in
 * one run of microtasks: resolvers that return promises still never let the event loop poll for
 * I/O, so every other request (and /healthz) waits for the whole answer. List resolvers call
 * `yieldIfBusy()`; once the current slice has run longer than SLICE_MS, they wait for a
 * macrotask (setImmediate), which runs after the loop has polled: other requests get their turn.
 */

/** Longest run of synchronous work between two chances for other requests, ms. */
export const SLICE_MS = 10;

let sliceStart = performance.now();
let turnPending = false;

/** Starts a new slice on the loop's next turn (queued before the waiters, so it runs first). */
function markNextTurn(): void {
  if (turnPending) return;
  turnPending = true;
  setImmediate(() => {
    turnPending = false;
    sliceStart = performance.now();
  });
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Resolves at once while the slice has time left; otherwise after the event loop has had a
 * turn (waiters resumed in the same turn that find the new slice spent again wait once more).
 */
export async function yieldIfBusy(): Promise<void> {
  while (performance.now() - sliceStart > SLICE_MS) {
    markNextTurn();
    await nextTurn();
  }
}
