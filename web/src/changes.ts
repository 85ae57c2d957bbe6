import type { Change } from './live.ts';

/** Changes heard on the subscription, passed to whatever part of the page shows what changed. */
type Listener = (change: Change) => void;
const listeners = new Set<Listener>();

export function onChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function publishChange(change: Change): void {
  for (const listener of listeners) listener(change);
}
