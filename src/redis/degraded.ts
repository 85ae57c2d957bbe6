import type { RedisLogger } from './connection.ts';

/** A failure is logged at most this often per component while Redis stays away. */
export const REDIS_FAILURE_LOG_INTERVAL_MS = 30_000;

/**
 * Failures of Redis commands that the service survives by falling back to this process alone
 * (tokens, rate budget, callback de-duplication, change broadcast): counted per component (the
 * `redis_fallbacks_total` metric), logged once per interval so an outage does not flood the log.
 */
export class RedisFallbacks {
  private readonly counts = new Map<string, number>();
  private readonly lastLoggedAt = new Map<string, number>();

  constructor(
    private readonly logger: RedisLogger,
    private readonly now: () => number = Date.now,
  ) {}

  report(component: string, operation: string, err: unknown, consequence: string): void {
    this.counts.set(component, (this.counts.get(component) ?? 0) + 1);
    const last = this.lastLoggedAt.get(component) ?? -Infinity;
    if (this.now() - last < REDIS_FAILURE_LOG_INTERVAL_MS) return;
    this.lastLoggedAt.set(component, this.now());
    this.logger.warn({ component, operation, error: err instanceof Error ? err.message : String(err) }, `redis unavailable: ${consequence}`);
  }

  /** Fallbacks so far, by component. */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}
