import { z } from 'zod';
import { mulberry32 } from './random.ts';

/** The fault settings of `POST /__emulator/faults` (docs/architecture.md §3). */
export const faultsSchema = z
  .object({
    latencyMs: z.number().int().min(0).max(60_000),
    jitterMs: z.number().int().min(0).max(60_000),
    rateLimitPerMinute: z.record(z.string().startsWith('/cgi-bin/'), z.number().int().min(0)),
    concurrencyLimit: z.record(z.string().startsWith('/cgi-bin/'), z.number().int().min(0)),
    errorRate: z
      .object({
        '-1': z.number().min(0).max(1),
        '502': z.number().min(0).max(1),
        hang: z.number().min(0).max(1),
      })
      .partial()
      .strict(),
    /** Every token issued so far answers 42001; a later gettoken issues a fresh one. */
    expireTokens: z.boolean(),
    restrictContactReads: z.boolean(),
    withholdSensitiveFields: z.boolean(),
    /**
     * Per path, the fraction of successful API calls whose response is dropped AFTER the handler
     * applied them (the request never gets an answer): a write whose outcome the client cannot
     * see, for testing reconciliation. 1 = every call.
     */
    dropResponseAfterApply: z.record(z.string().startsWith('/cgi-bin/'), z.number().min(0).max(1)),
  })
  .partial()
  .strict();

export type FaultSettings = z.infer<typeof faultsSchema>;

/** What a request draws from the error fractions. */
export type Mishap = 'none' | 'busy' | 'http502' | 'hang';

/**
 * Active faults and the counters they need: fixed one-minute windows per path for the rate
 * limit (WeCom's minute-level block lasts 60 s), and in-flight counts per path for the cap.
 */
export class Faults {
  settings: FaultSettings = {};
  private random = mulberry32(1);
  private readonly windows = new Map<string, { startMs: number; count: number }>();
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly seed: number) {
    this.random = mulberry32(seed);
  }

  /** Merges new settings (fields not given keep their value). */
  apply(settings: FaultSettings): void {
    this.settings = { ...this.settings, ...settings };
    this.random = mulberry32(this.seed);
  }

  clear(): void {
    this.settings = {};
    this.windows.clear();
    this.random = mulberry32(this.seed);
  }

  latency(): number {
    const base = this.settings.latencyMs ?? 0;
    const jitter = this.settings.jitterMs ?? 0;
    if (!base && !jitter) return 0;
    return Math.max(0, base + (this.random() * 2 - 1) * jitter);
  }

  mishap(): Mishap {
    const rates = this.settings.errorRate;
    if (!rates) return 'none';
    const r = this.random();
    let edge = rates['-1'] ?? 0;
    if (r < edge) return 'busy';
    edge += rates['502'] ?? 0;
    if (r < edge) return 'http502';
    edge += rates.hang ?? 0;
    if (r < edge) return 'hang';
    return 'none';
  }

  /** Counts the call against its path's window; false when over the limit (45009). */
  admitRate(path: string, nowMs: number, defaultLimit: number): boolean {
    const limit = this.settings.rateLimitPerMinute?.[path] ?? defaultLimit;
    let window = this.windows.get(path);
    if (!window || nowMs - window.startMs >= 60_000) {
      this.windows.set(path, (window = { startMs: nowMs, count: 0 }));
    }
    window.count++;
    return window.count <= limit;
  }

  /** Takes a concurrency slot; false when the path is at its cap (45033). */
  enter(path: string): boolean {
    const limit = this.settings.concurrencyLimit?.[path];
    const current = this.inFlight.get(path) ?? 0;
    if (limit !== undefined && current >= limit) return false;
    this.inFlight.set(path, current + 1);
    return true;
  }

  /** Whether this applied call's response is dropped (the `dropResponseAfterApply` fault). */
  dropsResponseAfterApply(path: string): boolean {
    const fraction = this.settings.dropResponseAfterApply?.[path] ?? 0;
    return fraction >= 1 || (fraction > 0 && this.random() < fraction);
  }

  leave(path: string): void {
    this.inFlight.set(path, (this.inFlight.get(path) ?? 1) - 1);
  }
}
