import { LRUCache } from 'lru-cache';

/**
 * How long a submitted import is remembered: a retry with the same content (or the same
 * idempotency key) within this window gets the job already submitted instead of a second
 * submission. Ten minutes covers a client's retries after a lost answer; a deliberate re-run of
 * the same file sooner than that needs a new `idempotencyKey`.
 */
export const IMPORT_IDEMPOTENCY_TTL_MS = 10 * 60 * 1000;
/** Keys remembered at once (the oldest go first). */
export const IMPORT_IDEMPOTENCY_MAX_KEYS = 1_000;

/**
 * Single-flight submissions by key: the first caller runs `submit`, later callers with the same
 * key (concurrent or within the TTL) share its outcome. A failed submission is forgotten at once,
 * so a retry after a refusal submits again; WeCom's one-import-at-a-time rule (302008) still
 * stops a duplicate of a submission whose answer was lost while it runs.
 */
export class IdempotentSubmissions<T extends {}> {
  private readonly entries: LRUCache<string, Promise<T>>;

  constructor(ttlMs = IMPORT_IDEMPOTENCY_TTL_MS, max = IMPORT_IDEMPOTENCY_MAX_KEYS) {
    this.entries = new LRUCache<string, Promise<T>>({ max, ttl: ttlMs });
  }

  /** The outcome remembered under `key`, or a new submission. `reused` tells which. */
  async run(key: string, submit: () => Promise<T>): Promise<{ value: T; reused: boolean }> {
    const remembered = this.entries.get(key);
    if (remembered) return { value: await remembered, reused: true };
    const attempt = submit();
    this.entries.set(key, attempt);
    try {
      return { value: await attempt, reused: false };
    } catch (err) {
      if (this.entries.get(key) === attempt) this.entries.delete(key);
      throw err;
    }
  }
}
