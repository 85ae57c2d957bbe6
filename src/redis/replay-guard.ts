import type { Redis } from 'ioredis';
import { ReplayGuard, type CallbackReplayGuard } from '../callback/replay-guard.ts';
import { CALLBACK_REPLAY_MAX_ENTRIES } from '../callback/handler.ts';
import type { RedisFallbacks } from './fallbacks.ts';

/**
 * Callback de-duplication shared by every instance behind the callback URL: WeCom retries a
 * request it got no timely answer for (§9.3), and the retry may reach another instance. The first
 * instance to SET NX the request's msg_signature processes it; the key lives as long as the local
 * guard remembers (twice the timestamp tolerance, after which the timestamp check refuses the
 * request anyway). While Redis is away each instance falls back to its own memory.
 */
export class RedisReplayGuard implements CallbackReplayGuard {
  private readonly local: ReplayGuard;

  constructor(
    private readonly redis: Redis,
    private readonly options: { prefix: string; corpId: string; windowSeconds: number; fallbacks: RedisFallbacks },
  ) {
    this.local = new ReplayGuard({ windowSeconds: options.windowSeconds, maxEntries: CALLBACK_REPLAY_MAX_ENTRIES });
  }

  async isRepeat(msgSignature: string): Promise<boolean> {
    // Remembered here too, so an outage that starts later still recognises what this instance saw.
    const seenHere = this.local.isRepeat(msgSignature);
    try {
      // msg_signature has been verified by now: a sha1 hex string, safe as part of a key.
      const key = `${this.options.prefix}callback:${this.options.corpId}:${msgSignature}`;
      return (await this.redis.set(key, '1', 'EX', this.options.windowSeconds, 'NX')) !== 'OK';
    } catch (err) {
      this.options.fallbacks.report('callback-dedup', 'set', err, 'each instance de-duplicates callbacks on its own');
      return seenHere;
    }
  }
}
