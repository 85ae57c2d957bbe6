import type { RedisLogger } from './connection.ts';

/**
 * Failures of Redis commands that the service survives by falling back to this process alone
 * (tokens, rate budget, callback de-duplication, change broadcast, the shared directory cache,
 * caller limits): counted per component (the `redis_fallbacks_total` metric), and logged once
 * per outage: the first failure says what this instance does meanwhile; when Redis is back
 * (`recovered`), one line says so.
 */
export class RedisFallbacks {
  private readonly counts = new Map<string, number>();
  /** Components that fell back during the current outage (undefined: no outage). */
  private outage: Set<string> | undefined;

  constructor(private readonly logger: RedisLogger) {}

  report(component: string, operation: string, err: unknown, consequence: string): void {
    this.counts.set(component, (this.counts.get(component) ?? 0) + 1);
    if (this.outage) {
      this.outage.add(component);
      return;
    }
    this.outage = new Set([component]);
    this.logger.warn(
      { component, operation, error: err instanceof Error ? err.message : String(err) },
      `redis unavailable: running on this instance alone until it is back (${consequence}; the other shared parts fall back likewise)`,
    );
  }

  /** Redis answers again (the command connection is ready): the next failure is a new outage. */
  recovered(): void {
    if (!this.outage) return;
    const components = [...this.outage].sort();
    this.outage = undefined;
    this.logger.info?.({ components }, 'redis available again: instances share state again');
  }

  /** Fallbacks so far, by component. */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}
