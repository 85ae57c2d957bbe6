import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { TokenBuckets, type CallerBudget, type CallerBudgets } from '../security/rate-limit.ts';
import type { RedisFallbacks } from './fallbacks.ts';

/**
 * Per-caller budgets kept in Redis, so a caller gets its budget once for the whole fleet, not once
 * per instance (rate-limiter-flexible's RateLimiterRedis: an atomic INCR-with-expiry script per
 * take).
 *
 * The in-process budget is a token bucket (`burst` at once, refilled at `perMinute`); the library
 * counts fixed windows. A window of `burst` points lasting the time the bucket takes to refill
 * (burst / perMinute minutes, rounded up to whole seconds) keeps both numbers: at most `burst` at
 * once, and `perMinute` over time (a caller that times its calls at a window's edge may get two
 * bursts back to back, never more).
 *
 * Redis unavailable: this instance's own token bucket answers (limits per instance, as without
 * Redis), the fallback is counted and logged once per outage; Redis back: the shared window again.
 *
 * The budgets are named, so the same factory serves any per-caller limit of the fleet: the request
 * guard asks for `requests` and `mutations`; a per-caller share of a WeCom endpoint's budget would
 * ask for e.g. `upstream:/cgi-bin/user/list` and take one point per upstream call.
 */
export function fleetCallerBudgets(redis: Redis, options: { prefix: string; fallbacks: RedisFallbacks }): CallerBudgets {
  return (name, perMinute, burst) => new FleetCallerBudget(redis, { ...options, name, perMinute, burst });
}

/** Budgets at or above this are "off" (config.ts turns a 0 into MAX_SAFE_INTEGER): nothing to share. */
const UNLIMITED = Number.MAX_SAFE_INTEGER;

export class FleetCallerBudget implements CallerBudget {
  private readonly shared: RateLimiterRedis | undefined;
  private readonly local: TokenBuckets;

  constructor(
    redis: Redis,
    private readonly options: { prefix: string; name: string; perMinute: number; burst: number; fallbacks: RedisFallbacks },
  ) {
    const { perMinute, burst } = options;
    this.local = new TokenBuckets(perMinute, burst);
    if (perMinute > 0 && perMinute < UNLIMITED && burst < UNLIMITED) {
      this.shared = new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `${options.prefix}limit:${options.name}`,
        points: burst,
        duration: Math.max(1, Math.ceil((burst * 60) / perMinute)),
        // Disconnected: fall back at once rather than wait for a reconnect.
        rejectIfRedisNotReady: true,
      });
    }
  }

  async take(caller: string, cost = 1): Promise<number> {
    // More than a whole burst, an "off" budget, or none at all: the local answer is the answer.
    if (!this.shared || cost > this.options.burst) return this.local.take(caller, cost);
    try {
      await this.shared.consume(caller, cost);
      return 0;
    } catch (err) {
      if (err instanceof RateLimiterRes) return Math.max(1, Math.ceil(err.msBeforeNext / 1000));
      this.options.fallbacks.report('caller-limits', this.options.name, err, 'caller limits are counted per instance');
      return this.local.take(caller, cost);
    }
  }
}
