import { z } from 'zod';
import { problemLines } from './config-error.ts';
import { flag, int } from './env-fields.ts';
import { DEFAULT_WARM_UP_BUDGET_PERCENT } from '../cache/warm-up.ts';

/** The cross-request directory cache (src/cache): off only for measurements and debugging. */
export interface CacheConfig {
  enabled: boolean;
  ttlSeconds: number;
  staleSeconds: number;
  maxEntries: number;
  /** Load the corp in the background at start and after a full flush; refresh before expiry while in use. */
  warmUp: boolean;
  /** Share of the client's user/list rate budget a pass (warm-up, refresh, on demand) may use per window, percent. */
  warmUpBudgetPercent: number;
  /** Bytes of whole answers the response cache keeps (src/cache/response-cache.ts); 0 turns it off. */
  responseCacheBytes: number;
}

const cacheFields = z.object({
  CACHE_ENABLED: flag('CACHE_ENABLED', true),
  CACHE_TTL_SECONDS: int('CACHE_TTL_SECONDS', 300, 1, 86_400),
  CACHE_STALE_SECONDS: int('CACHE_STALE_SECONDS', 60, 0, 86_400),
  CACHE_MAX_ENTRIES: int('CACHE_MAX_ENTRIES', 100_000, 100, 10_000_000),
  // Warm-up and refresh-ahead of the directory cache (src/cache/warm-up.ts), within this share of the rate budget.
  CACHE_WARM_UP: flag('CACHE_WARM_UP', true),
  CACHE_WARM_UP_BUDGET_PERCENT: int('CACHE_WARM_UP_BUDGET_PERCENT', DEFAULT_WARM_UP_BUDGET_PERCENT, 1, 100),
  // Whole answers kept outside the JS heap, so part of the RSS: the memory to plan for beside the directory.
  RESPONSE_CACHE_MAX_MB: int('RESPONSE_CACHE_MAX_MB', 64, 0, 4_096),
});

/** The variables read here (docs/configuration.md lists each; test/readme.test.ts checks). */
export const CACHE_VARIABLES = Object.keys(cacheFields.shape);

/** The cache settings, or their problems ("- NAME: …" lines). */
export function loadCacheConfig(env: NodeJS.ProcessEnv): { config: CacheConfig } | { problems: string[] } {
  const parsed = cacheFields.safeParse(env);
  if (!parsed.success) return { problems: problemLines(parsed.error) };
  const e = parsed.data;
  return {
    config: {
      enabled: e.CACHE_ENABLED,
      ttlSeconds: e.CACHE_TTL_SECONDS,
      staleSeconds: e.CACHE_STALE_SECONDS,
      maxEntries: e.CACHE_MAX_ENTRIES,
      warmUp: e.CACHE_WARM_UP,
      warmUpBudgetPercent: e.CACHE_WARM_UP_BUDGET_PERCENT,
      responseCacheBytes: e.RESPONSE_CACHE_MAX_MB * 1024 * 1024,
    },
  };
}
