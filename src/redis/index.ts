import type { Redis } from 'ioredis';
import { CALLBACK_TIMESTAMP_TOLERANCE_SECONDS } from '../callback/handler.ts';
import { ChangeBridge } from './change-bridge.ts';
import { createCommandConnection, createSubscriberConnection, whenReady, type RedisLogger } from './connection.ts';
import { RedisFallbacks } from './fallbacks.ts';
import { RedisRateBudget } from './rate-budget.ts';
import { RedisReplayGuard } from './replay-guard.ts';
import { RedisTokenStore } from './token-store.ts';
import { RedisDirectoryStore } from './directory-store.ts';
import { fleetCallerBudgets } from './caller-limits.ts';
import type { CallerBudgets } from '../security/rate-limit.ts';
import { DEFAULT_CACHE_SETTINGS } from '../cache/directory-cache.ts';

/**
 * Everything several instances of the service share through Redis (REDIS_URL): the access tokens
 * (one gettoken per expiry for all of them), the per-endpoint rate budget, callback
 * de-duplication, the directory changes (cache invalidation and `contactChanged` everywhere), the
 * directory itself (a second-level cache: what one instance loaded, the others read) and the
 * per-caller limits (docs/fleet.md).
 * Without REDIS_URL none of this exists and each piece stays in the process, as before.
 */
export interface ScaleOut {
  tokenStore: RedisTokenStore;
  rateBudget: RedisRateBudget;
  replayGuard: RedisReplayGuard;
  bridge: ChangeBridge;
  /** The fleet's directory cache, under each instance's own (DirectoryCacheOptions.secondLevel). */
  directoryStore: RedisDirectoryStore;
  /** Per-caller budgets counted for the whole fleet (SecuritySettings.callerBudgets). */
  callerBudgets: CallerBudgets;
  fallbacks: RedisFallbacks;
  /** Whether the command connection is up now (the `redis_up` gauge). */
  up(): boolean;
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
  /** How long a shared directory entry lives (the directory cache's TTL). */
  cacheTtlMs?: number;
}

export function createScaleOut(options: ScaleOutOptions): ScaleOut {
  const redis = createCommandConnection(options.url, options.logger);
  const subscriber = createSubscriberConnection(options.url, options.logger);
  const fallbacks = new RedisFallbacks(options.logger);
  const { prefix, corpId } = options;
  const bridge = new ChangeBridge(redis, subscriber, { prefix, corpId, logger: options.logger, fallbacks });
  // One line when Redis is back after an outage (the first fallback logged its start).
  redis.on('ready', () => fallbacks.recovered());
  return {
    redis,
    fallbacks,
    up: () => redis.status === 'ready',
    directoryStore: new RedisDirectoryStore(redis, {
      prefix,
      corpId,
      ttlMs: options.cacheTtlMs ?? DEFAULT_CACHE_SETTINGS.ttlMs,
      fallbacks,
      isRemote: (change) => bridge.isRemote(change),
    }),
    callerBudgets: fleetCallerBudgets(redis, { prefix, fallbacks }),
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
