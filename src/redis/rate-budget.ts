import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { SharedRateBudget } from '../wecom/scheduler.ts';
import type { RedisFallbacks } from './fallbacks.ts';
import { RedisScript } from './script.ts';

/**
 * The per-endpoint rate budget shared by every instance: a sliding-window log per (corp, API) in
 * a sorted set, checked and taken in one Lua script so no two instances take the last call of a
 * window. Redis's own clock (TIME) orders the calls, so the instances' clock skew does not matter.
 *
 * WeCom counts its limits per corp and per API (docs/wecom-api.md §11), so the key is the corp id and
 * the endpoint path: instances serving the same corp share it, whatever else they do.
 */
const TAKE = new RedisScript(`
local key = KEYS[1]
local budget = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) < budget then
  redis.call('ZADD', key, now, ARGV[3])
  redis.call('PEXPIRE', key, window)
  return 0
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
`);

export class RedisRateBudget implements SharedRateBudget {
  /** Makes each taken call a distinct member of the window's set. */
  private readonly instance = randomBytes(6).toString('hex');
  private sequence = 0;

  constructor(
    private readonly redis: Redis,
    private readonly options: { prefix: string; corpId: string; fallbacks: RedisFallbacks },
  ) {}

  async take(path: string, budget: number, windowMs: number): Promise<number> {
    const key = `${this.options.prefix}rate:${this.options.corpId}:${path}`;
    try {
      const wait = await TAKE.run(this.redis, [key], [budget, windowMs, `${this.instance}:${++this.sequence}`]);
      return typeof wait === 'number' ? wait : Number(wait);
    } catch (err) {
      // This process's own budget still applies; WeCom's 45009, if it comes, closes the endpoint.
      this.options.fallbacks.report('rate-budget', 'take', err, 'each instance keeps to its own rate budget only');
      return 0;
    }
  }
}
