/**
 * Observability: typed hooks the server can subscribe to, and counters it can expose later
 * (Prometheus). Labels are endpoint paths, errcodes, outcomes and retry reasons: never a URL,
 * a secret or a token.
 */

/** How one HTTP attempt ended. */
export type AttemptOutcome = 'ok' | 'api-error' | 'http-error' | 'timeout' | 'transport-error' | 'aborted';

export interface RequestEvent {
  endpoint: string;
  /** 1 for the first attempt of a call. */
  attempt: number;
  outcome: AttemptOutcome;
  /** WeCom's errcode when it answered (0 on success). */
  errcode?: number;
  httpStatus?: number;
  durationMs: number;
}

/** Why an attempt is followed by another. */
export type RetryReason =
  | 'token-expired' // 40014 / 42001: token refetched, call replayed once
  | 'rate-limited' // 45009: waited out the window
  | 'concurrency-limited' // 45033: concurrency lowered
  | 'busy' // -1
  | 'http-5xx'
  | 'timeout'
  | 'network';

export interface RetryEvent {
  endpoint: string;
  attempt: number;
  reason: RetryReason;
  /** Wait before the next attempt (for 45009: the block still to wait out). */
  delayMs: number;
}

export interface TokenRefreshEvent {
  secretKind: string;
  ok: boolean;
  durationMs: number;
  errcode?: number;
}

export interface QueueEvent {
  endpoint: string;
  depth: number;
}

/** A write whose answer was lost, and what reading back found. */
export interface ReconcileEvent {
  endpoint: string;
  outcome: 'applied' | 'not-applied' | 'unverifiable';
}

export interface WeComClientHooks {
  onRequest?(event: RequestEvent): void;
  onRetry?(event: RetryEvent): void;
  onTokenRefresh?(event: TokenRefreshEvent): void;
  onQueue?(event: QueueEvent): void;
  onReconcile?(event: ReconcileEvent): void;
}

export interface EndpointCounters {
  /** Attempts by result label: `ok`, an errcode (`45009`), `http-502`, `timeout`, `transport-error`, `aborted`. */
  attempts: Record<string, number>;
  /** Total attempt time in ms, by the same labels. */
  durationMs: Record<string, number>;
  retries: Partial<Record<RetryReason, number>>;
  reconciles: Partial<Record<ReconcileEvent['outcome'], number>>;
  queueDepth: number;
}

export interface MetricsSnapshot {
  endpoints: Record<string, EndpointCounters>;
  tokenRefreshes: Record<string, { ok: number; failed: number }>;
}

/** Counts the events and forwards them to the user's hooks (a throwing hook never breaks a call). */
export class Metrics {
  private readonly endpoints = new Map<string, EndpointCounters>();
  private readonly tokenRefreshes: MetricsSnapshot['tokenRefreshes'] = {};

  constructor(private readonly hooks: WeComClientHooks = {}) {}

  request(event: RequestEvent): void {
    const c = this.counters(event.endpoint);
    const label =
      event.outcome === 'ok'
        ? 'ok'
        : event.outcome === 'api-error'
          ? String(event.errcode)
          : event.outcome === 'http-error'
            ? `http-${event.httpStatus}`
            : event.outcome;
    c.attempts[label] = (c.attempts[label] ?? 0) + 1;
    c.durationMs[label] = (c.durationMs[label] ?? 0) + event.durationMs;
    this.safely(() => this.hooks.onRequest?.(event));
  }

  retry(event: RetryEvent): void {
    const c = this.counters(event.endpoint);
    c.retries[event.reason] = (c.retries[event.reason] ?? 0) + 1;
    this.safely(() => this.hooks.onRetry?.(event));
  }

  tokenRefresh(event: TokenRefreshEvent): void {
    const t = (this.tokenRefreshes[event.secretKind] ??= { ok: 0, failed: 0 });
    if (event.ok) t.ok++;
    else t.failed++;
    this.safely(() => this.hooks.onTokenRefresh?.(event));
  }

  queue(event: QueueEvent): void {
    this.counters(event.endpoint).queueDepth = event.depth;
    this.safely(() => this.hooks.onQueue?.(event));
  }

  reconcile(event: ReconcileEvent): void {
    const c = this.counters(event.endpoint);
    c.reconciles[event.outcome] = (c.reconciles[event.outcome] ?? 0) + 1;
    this.safely(() => this.hooks.onReconcile?.(event));
  }

  snapshot(): MetricsSnapshot {
    const endpoints: MetricsSnapshot['endpoints'] = {};
    for (const [path, c] of this.endpoints) {
      endpoints[path] = {
        attempts: { ...c.attempts },
        durationMs: { ...c.durationMs },
        retries: { ...c.retries },
        reconciles: { ...c.reconciles },
        queueDepth: c.queueDepth,
      };
    }
    const tokenRefreshes: MetricsSnapshot['tokenRefreshes'] = {};
    for (const [kind, t] of Object.entries(this.tokenRefreshes)) tokenRefreshes[kind] = { ...t };
    return { endpoints, tokenRefreshes };
  }

  private counters(endpoint: string): EndpointCounters {
    let c = this.endpoints.get(endpoint);
    if (!c) {
      c = { attempts: {}, durationMs: {}, retries: {}, reconciles: {}, queueDepth: 0 };
      this.endpoints.set(endpoint, c);
    }
    return c;
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch {
      // Observability must not change the outcome of a call.
    }
  }
}
