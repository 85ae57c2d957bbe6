import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';

/**
 * Remembers the callbacks already accepted, so WeCom's retries (up to 3 attempts, §9.3) and
 * replays of a captured request are processed once. A request is a repeat when its msg_signature
 * (the same signed request sent again) or its decrypted message (the same event, signed or
 * encrypted afresh) was seen. WeCom advises deduplicating by FromUserName + CreateTime; the whole
 * message is a finer key with the same effect on retries.
 *
 * Bounded both ways: entries live `windowSeconds` (twice the timestamp tolerance, after which the
 * timestamp check refuses the request anyway) and at most `maxEntries` are kept.
 */
export class ReplayGuard {
  private readonly seen: LRUCache<string, true>;

  constructor(options: { windowSeconds: number; maxEntries: number; now?: () => number }) {
    this.seen = new LRUCache<string, true>({
      max: options.maxEntries,
      ttl: options.windowSeconds * 1000,
      ttlResolution: 0,
      ...(options.now ? { perf: { now: options.now } } : {}),
    });
  }

  /** True when this request or this message was accepted before; otherwise records both and returns false. */
  isRepeat(msgSignature: string, message: string): boolean {
    const signatureKey = `sig:${msgSignature}`;
    const messageKey = `msg:${createHash('sha256').update(message).digest('hex')}`;
    if (this.seen.has(signatureKey) || this.seen.has(messageKey)) return true;
    this.seen.set(signatureKey, true);
    this.seen.set(messageKey, true);
    return false;
  }
}
