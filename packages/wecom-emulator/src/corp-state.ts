import type { CorpStore } from './store.ts';

/**
 * State that lives beside a corp's directory but outside `CorpStore`: uploaded media, import and
 * export jobs, export files. It is keyed by the store, so a reseed (which builds a new store)
 * starts from nothing; `releaseCorpState` also stops the old corp's timers so that no job keeps
 * writing to a discarded directory or delivering its callbacks after `POST /__emulator/reset`.
 */

const releasers = new WeakMap<CorpStore, (() => void)[]>();

/**
 * Returns an accessor that creates `T` for a store on first use. `release` runs once when the
 * store is released (timers to cancel, buffers to drop).
 */
export function perCorp<T>(create: (store: CorpStore) => T, release?: (value: T) => void): (store: CorpStore) => T {
  const values = new WeakMap<CorpStore, T>();
  return (store) => {
    let value = values.get(store);
    if (value === undefined) {
      value = create(store);
      values.set(store, value);
      if (release) {
        const created = value;
        let list = releasers.get(store);
        if (!list) releasers.set(store, (list = []));
        list.push(() => release(created));
      }
    }
    return value;
  };
}

/** Releases everything attached to `store` (called by `Emulator.reseed()` before it replaces the store). */
export function releaseCorpState(store: CorpStore): void {
  const list = releasers.get(store);
  releasers.delete(store);
  for (const release of list ?? []) release();
}
