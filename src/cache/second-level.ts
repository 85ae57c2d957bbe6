import type { DirectoryChange } from '../directory/changes.ts';
import type { EntryKind, EntryOf } from './entries.ts';

/** What a second-level read gives: the value, and how long it stays fresh from now. */
export interface SharedRead<T> {
  value: T;
  /**
   * Milliseconds until the value must be read from WeCom again. A value another instance loaded
   * earlier has less left than a full TTL, so the local copy expires when the shared one does:
   * nothing is served past its TTL counted from the upstream read.
   */
  ttlMs: number;
}

/**
 * A store below the directory cache's in-process LRU, shared by the instances of a fleet
 * (src/redis/directory-store.ts with REDIS_URL). The directory cache reads through it on a local
 * miss, and forwards every change to it. It must never fail a read: when the store is
 * unavailable it answers by calling `load` itself.
 */
export interface SecondLevelStore {
  /**
   * The entry `kind`/`id` as the fleet holds it; when it holds none, one instance calls `load`
   * (the others wait for that answer instead of calling WeCom too) and the answer is shared.
   * Errors of `load` reach the caller unchanged.
   */
  read<K extends EntryKind>(
    kind: K,
    id: string | number | undefined,
    load: () => Promise<EntryOf<K>['value']>,
  ): Promise<SharedRead<EntryOf<K>['value']>>;
  /**
   * A change applied to the local cache. The store drops what it makes wrong for the whole fleet
   * (when this instance learned of it first; changes heard from other instances were applied by them).
   */
  apply(change: DirectoryChange): void;
}
