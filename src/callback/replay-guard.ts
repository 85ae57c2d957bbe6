import { LRUCache } from 'lru-cache';

/**
 * Remembers the callbacks already accepted, so WeCom's retries (up to 3 attempts of the same
 * signed request, §9.3) and replays of a captured request are processed once. The key is the
 * msg_signature: it covers the timestamp, the nonce and the ciphertext, and only a holder of the
 * token can make a new one.
 *
 * Unconfirmed choice: WeCom advises deduplicating by FromUserName + CreateTime, and whether its
 * retries are re-encrypted is not documented. Keying on the event's content (or on sender and
 * second) would also collapse two genuine, identical changes made within one second (a tag member
 * added, removed and added again), leaving the cache stale; a re-signed retry processed twice only
 * invalidates twice. So repeats are recognised by signature alone.
 *
 * Bounded both ways: entries live `windowSeconds` (twice the timestamp tolerance, after which the
 * timestamp check refuses the request anyway) and at most `maxEntries` are kept.
 */
/** Recognises repeats of a signed callback request; shared across instances when scaled out (src/redis/replay-guard.ts). */
export interface CallbackReplayGuard {
  /** True when this signed request was accepted before; otherwise remembers it and returns false. */
  isRepeat(msgSignature: string): boolean | Promise<boolean>;
}

export class ReplayGuard implements CallbackReplayGuard {
  private readonly seen: LRUCache<string, true>;

  constructor(options: { windowSeconds: number; maxEntries: number; now?: () => number }) {
    this.seen = new LRUCache<string, true>({
      max: options.maxEntries,
      ttl: options.windowSeconds * 1000,
      ttlResolution: 0,
      ...(options.now ? { perf: { now: options.now } } : {}),
    });
  }

  /** True when this signed request was accepted before; otherwise remembers it and returns false. */
  isRepeat(msgSignature: string): boolean {
    if (this.seen.has(msgSignature)) return true;
    this.seen.set(msgSignature, true);
    return false;
  }
}
