import type { Redis } from 'ioredis';
import { CALLBACK_TIMESTAMP_TOLERANCE_SECONDS } from '../callback/handler.ts';
import { ChangeBridge } from './change-bridge.ts';
import { createCommandConnection, createSubscriberConnection, whenReady, type RedisLogger } from './connection.ts';
import { RedisFallbacks } from './degraded.ts';
import { RedisRateBudget } from './rate-budget.ts';
import { RedisReplayGuard } from './replay-guard.ts';
import { RedisTokenStore } from './token-store.ts';

/**
 * Everything several instances of the service share through Redis (REDIS_URL): the access tokens
 * (one gettoken per expiry for all of them), the per-endpoint rate budget, callback
 * de-duplication, and the directory changes (cache invalidation and `contactChanged` everywhere).
 * Without REDIS_URL none of this exists and each piece stays in the process, as before.
 */
export interface ScaleOut {
  tokenStore: RedisTokenStore;
  rateBudget: RedisRateBudget;
  replayGuard: RedisReplayGuard;
  bridge: ChangeBridge;
  fallbacks: RedisFallbacks;
  /** The command connection (readiness pings it). */
  redis: Redis;
  /** Resolves true once connected, false after `timeoutMs` (start-up goes on either way; /readyz tells). */
  connected(timeoutMs?: number): Promise<boolean>;
  /** Readiness: Redis answers PING. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface ScaleOutOptions {
  url: string;
  /** Prepended to every key and channel, so several deployments can share one Redis. */
  prefix: string;
  corpId: string;
  logger: RedisLogger;
  /** Seconds a callback signature is remembered (default: twice the timestamp tolerance). */
  callbackWindowSeconds?: number;
}

export function createScaleOut(options: ScaleOutOptions): ScaleOut {
  const redis = createCommandConnection(options.url, options.logger);
  const subscriber = createSubscriberConnection(options.url, options.logger);
  const fallbacks = new RedisFallbacks(options.logger);
  const { prefix, corpId } = options;
  const bridge = new ChangeBridge(redis, subscriber, { prefix, corpId, logger: options.logger, fallbacks });
  return {
    redis,
    fallbacks,
    tokenStore: new RedisTokenStore(redis, { prefix, logger: options.logger, fallbacks }),
    rateBudget: new RedisRateBudget(redis, { prefix, corpId, fallbacks }),
    replayGuard: new RedisReplayGuard(redis, {
      prefix,
      corpId,
      windowSeconds: options.callbackWindowSeconds ?? 2 * CALLBACK_TIMESTAMP_TOLERANCE_SECONDS,
      fallbacks,
    }),
    bridge,
    connected: (timeoutMs) => whenReady(redis, timeoutMs),
    async ping() {
      try {
        return (await redis.ping()) === 'PONG';
      } catch {
        return false;
      }
    },
    async close() {
      bridge.detach();
      await Promise.allSettled([redis.quit(), subscriber.quit()]);
      redis.disconnect();
      subscriber.disconnect();
    },
  };
}

