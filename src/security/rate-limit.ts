import { LRUCache } from 'lru-cache';
import { atMostEntries } from '../cache/lru-bounds.ts';

/**
 * Per-caller budgets, as token buckets: a caller may spend `burst` at once, and the budget
 * refills at `perMinute`. Two budgets: every GraphQL request, and every mutation field (counted
 * per root field, so aliases cannot pack a flood into one request). Checked before any upstream
 * call; a caller over budget gets HTTP 429 with Retry-After (seconds until the budget has room).
 */
export interface RateLimitSettings {
  requestsPerMinute: number;
  requestBurst: number;
  mutationsPerMinute: number;
  mutationBurst: number;
}

export const DEFAULT_RATE_LIMITS: RateLimitSettings = {
  requestsPerMinute: 600,
  requestBurst: 100,
  mutationsPerMinute: 120,
  mutationBurst: 30,
};

/**
 * One per-caller budget: `take` answers 0 when granted, else the seconds until the budget has
 * room (nothing is taken then); Infinity when `cost` can never be granted.
 */
export interface CallerBudget {
  take(caller: string, cost?: number): number | Promise<number>;
}

/**
 * Makes a named budget of `perMinute` with bursts of `burst`. Per instance by default; with
 * REDIS_URL, src/redis/caller-limits.ts makes budgets shared by the whole fleet.
 */
export type CallerBudgets = (name: string, perMinute: number, burst: number) => CallerBudget;

export const localCallerBudgets: CallerBudgets = (_name, perMinute, burst) => new TokenBuckets(perMinute, burst);

/** Callers remembered at once; the least recently seen are forgotten (they start with a full budget again). */
const MAX_CALLERS = 50_000;

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets implements CallerBudget {
  private readonly buckets: LRUCache<string, Bucket>;
  private readonly perMs: number;

  constructor(
    private readonly perMinute: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.perMs = perMinute / 60_000;
    this.buckets = new LRUCache(atMostEntries(MAX_CALLERS));
  }

  /**
   * Takes `cost` tokens from the caller's bucket. Returns 0 when granted, else the seconds until
   * the bucket holds `cost` (nothing is taken then). A cost above the burst can never be granted.
   */
  take(caller: string, cost = 1): number {
    const now = this.now();
    const bucket = this.buckets.get(caller) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.at) * this.perMs);
    bucket.at = now;
    this.buckets.set(caller, bucket);
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return 0;
    }
    if (cost > this.burst || this.perMinute <= 0) return Number.POSITIVE_INFINITY;
    return Math.max(1, Math.ceil((cost - bucket.tokens) / this.perMs / 1000));
  }
}
