// Long on purpose: every Prometheus metric is declared here with its help text and bounded labels, so one
// file answers "what does /metrics expose" (docs/operations.md lists the same).
import { getOperationAST, type DocumentNode, type ExecutionResult, type GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { WeComClientHooks } from '../wecom/metrics.ts';
import type { LaneSnapshot } from '../wecom/scheduler.ts';
import type { DirectoryCacheStats } from '../cache/directory-cache.ts';
import type { ResponseCacheStats } from '../cache/response-cache.ts';
import type { WarmUpStatus } from '../cache/warm-up.ts';
import { EventLoopDelay, type EventLoopDelaySample } from './event-loop.ts';
import type { CallbackHandlerStats } from '../callback/handler.ts';
import type { ChangeBus } from '../directory/changes.ts';
import { SERVED_FROM_RESPONSE_CACHE } from '../cache/response-cache.ts';

/**
 * Prometheus metrics (prom-client), served at /metrics (or on METRICS_PORT). Labels are endpoint
 * paths, errcodes, outcomes, operation names and error codes: never a userid, a URL, a secret or
 * a token, and every label's values come from a bounded set (operation names are capped).
 */

/** Distinct GraphQL operation names counted by name; later ones are counted as "other". */
export const MAX_OPERATION_NAMES = 200;
const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const ERROR_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;
/** Query texts whose operation labels are remembered for answers served from the response cache (characters in all). */
const REMEMBERED_QUERY_CHARACTERS = 2_000_000;

interface OperationLabels {
  type: string;
  name: string;
}

/** Seconds: WeCom answers in tens of ms, a slow user/list of a large department in seconds. */
const UPSTREAM_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** What /metrics reads at scrape time (the parts that keep their own counters). */
export interface MetricSources {
  scheduler?: () => Record<string, LaneSnapshot>;
  cache?: () => DirectoryCacheStats;
  responseCache?: () => ResponseCacheStats;
  callbacks?: () => CallbackHandlerStats;
  redisFallbacks?: () => Record<string, number>;
  /** Whether Redis answers now (scaled out only). */
  redisUp?: () => boolean;
  /** Reads of the fleet's shared directory cache (scaled out only). */
  sharedCache?: () => { hits: number; waited: number; loaded: number; degraded: number; staleWrites: number };
  changeBroadcast?: () => { published: number; received: number; malformed: number };
  ready?: () => boolean;
  /** The directory cache's warm-up (src/cache/warm-up.ts), when it runs. */
  warmUp?: () => WarmUpStatus;
}

/** The HTTP routes the service has; anything else is labelled "other". */
export function routeOf(path: string): string {
  switch (path) {
    case '/graphql':
    case '/wecom/callback':
    case '/healthz':
    case '/readyz':
    case '/metrics':
      return path;
    default:
      return 'other';
  }
}

export class ServiceMetrics {
  readonly registry = new Registry();
  private sources: MetricSources = {};
  private readonly operationNames = new Set<string>();
  /** The query text each request sent (Yoga's params), to label answers that never executed. */
  private readonly queryOfRequest = new WeakMap<object, string>();
  /** Labels of executed query texts: an answer from the response cache is counted under them. */
  private readonly labelsOfQuery = new LRUCache<string, OperationLabels>({
    maxSize: REMEMBERED_QUERY_CHARACTERS,
    sizeCalculation: (_v, k) => Math.max(1, k.length),
  });

  private readonly httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by route, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  private readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer an HTTP request (for subscriptions: until the stream ended).',
    labelNames: ['route'] as const,
    buckets: REQUEST_BUCKETS,
    registers: [this.registry],
  });
  readonly httpInFlight = new Gauge({
    name: 'http_requests_in_flight',
    help: 'HTTP requests being served now (open subscriptions included).',
    registers: [this.registry],
  });
  private readonly operations = new Counter({
    name: 'graphql_operations_total',
    help: 'GraphQL operations executed, by type and name ("anonymous"; "other" past the first 200 names).',
    labelNames: ['operation_type', 'operation_name'] as const,
    registers: [this.registry],
  });
  private readonly operationDuration = new Histogram({
    name: 'graphql_operation_duration_seconds',
    help: 'Execution time of GraphQL queries and mutations.',
    labelNames: ['operation_type'] as const,
    buckets: REQUEST_BUCKETS,
    registers: [this.registry],
  });
  private readonly responseCacheHits = new Counter({
    name: 'graphql_response_cache_hits_total',
    help: 'Queries answered from the whole-response cache without executing (also counted in graphql_operations_total).',
    registers: [this.registry],
  });
  private readonly graphqlErrors = new Counter({
    name: 'graphql_errors_total',
    help: 'Errors in GraphQL results, by extensions.code (parse and validation errors included).',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  private readonly upstreamCalls = new Counter({
    name: 'wecom_upstream_calls_total',
    help: 'HTTP attempts to WeCom, by endpoint and errcode ("0" ok; "http_502", "timeout", "transport_error", "aborted" when WeCom gave no errcode).',
    labelNames: ['endpoint', 'errcode'] as const,
    registers: [this.registry],
  });
  private readonly upstreamDuration = new Histogram({
    name: 'wecom_upstream_duration_seconds',
    help: 'Duration of one HTTP attempt to WeCom, by endpoint.',
    labelNames: ['endpoint'] as const,
    buckets: UPSTREAM_BUCKETS,
    registers: [this.registry],
  });
  private readonly retries = new Counter({
    name: 'wecom_retries_total',
    help: 'Attempts followed by another, by endpoint and reason (token-expired, rate-limited, concurrency-limited, busy, http-5xx, timeout, network).',
    labelNames: ['endpoint', 'reason'] as const,
    registers: [this.registry],
  });
  private readonly tokenRefreshes = new Counter({
    name: 'wecom_token_refreshes_total',
    help: 'gettoken calls made by this instance, by secret kind (contact, app) and outcome.',
    labelNames: ['secret_kind', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly reconciles = new Counter({
    name: 'wecom_write_reconciles_total',
    help: 'Writes whose answer was lost, by endpoint and what reading back found (applied, not-applied, unverifiable).',
    labelNames: ['endpoint', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly changes = new Counter({
    name: 'directory_changes_total',
    help: 'Directory changes applied on this instance, by kind and source (mutation, callback, import).',
    labelNames: ['kind', 'source'] as const,
    registers: [this.registry],
  });

  /** The event-loop delay monitor behind service_event_loop_delay_seconds. */
  readonly eventLoop: EventLoopDelay;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    // Process CPU, memory, event-loop lag, GC: the usual Node.js dashboard.
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    const sources = () => this.sources;
    const registers = [this.registry];
    /** A gauge per endpoint, read from the scheduler's lanes at scrape time. */
    const laneGauge = (name: string, help: string, read: (lane: LaneSnapshot) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['endpoint'] as const,
        registers,
        collect() {
          this.reset();
          for (const [endpoint, lane] of Object.entries(sources().scheduler?.() ?? {})) this.set({ endpoint }, read(lane));
        },
      });
    /** A counter per label value, copied at scrape time from counts kept elsewhere. */
    const countsCounter = (name: string, help: string, label: string, read: () => Record<string, number> | undefined) =>
      new Counter({
        name,
        help,
        labelNames: [label],
        registers,
        collect() {
          this.reset();
          for (const [value, n] of Object.entries(read() ?? {})) this.inc({ [label]: value }, n);
        },
      });
    laneGauge(
      'wecom_scheduler_queue_depth',
      'Calls waiting for admission (rate budget, concurrency cap, a 45009 block), by endpoint.',
      (lane) => lane.queued,
    );
    laneGauge('wecom_scheduler_in_flight', 'Calls to WeCom running now, by endpoint.', (lane) => lane.inFlight);
    laneGauge(
      'wecom_scheduler_concurrency_cap',
      'Concurrent calls allowed now, by endpoint (lowered after a 45033, raised back while calls succeed).',
      (lane) => lane.concurrencyCap,
    );
    laneGauge(
      'wecom_rate_limit_blocked_seconds',
      'Time left on a 45009 block, by endpoint (0 when open).',
      (lane) => lane.blockedForMs / 1000,
    );
    countsCounter(
      'directory_cache_requests_total',
      'Directory cache reads, by result: hit (fresh), miss (went upstream), stale (served while refreshing), joined (waited for a read in flight).',
      'result',
      () => {
        const stats = sources().cache?.();
        return stats && { hit: stats.hits, miss: stats.misses, stale: stats.stale, joined: stats.joined };
      },
    );
    countsCounter(
      'directory_cache_view_requests_total',
      'Views derived from the cached lists (the tree, everyone, the search index …), by result: hit (served as built) or build.',
      'result',
      () => {
        const stats = sources().cache?.();
        return stats && { hit: stats.viewHits, build: stats.viewBuilds };
      },
    );
    countsCounter(
      'redis_fallbacks_total',
      'Redis commands that failed and were answered by this instance alone, by component (token-store, rate-budget, callback-dedup, change-broadcast, directory-cache, caller-limits).',
      'component',
      () => sources().redisFallbacks?.(),
    );
    countsCounter(
      'directory_shared_cache_requests_total',
      "Reads of the fleet's shared directory cache (Redis) after a local miss, by result: hit, waited (another instance's load), loaded (from WeCom here, then shared), degraded (Redis unavailable: WeCom, this instance alone).",
      'result',
      () => {
        const stats = sources().sharedCache?.();
        return stats && { hit: stats.hits, waited: stats.waited, loaded: stats.loaded, degraded: stats.degraded };
      },
    );
    countsCounter(
      'redis_change_messages_total',
      'Directory changes sent to and received from other instances over Redis, by direction.',
      'direction',
      () => {
        const stats = sources().changeBroadcast?.();
        return stats && { published: stats.published, received: stats.received, malformed: stats.malformed };
      },
    );
    new Counter({
      name: 'directory_cache_invalidations_total',
      help: 'Changes applied to the directory cache (local and, with Redis, from other instances).',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(sources().cache?.().invalidations ?? 0);
      },
    });
    new Gauge({
      name: 'directory_cache_entries',
      help: 'Entries held by the directory cache.',
      registers: [this.registry],
      collect() {
        this.set(sources().cache?.().entries ?? 0);
      },
    });
    new Gauge({
      name: 'graphql_response_cache_entries',
      help: 'Answers held by the whole-response cache.',
      registers: [this.registry],
      collect() {
        this.set(sources().responseCache?.().entries ?? 0);
      },
    });
    new Gauge({
      name: 'graphql_response_cache_bytes',
      help: 'Answer bytes held by the whole-response cache (outside the JS heap, part of the RSS; at most 64 MB).',
      registers: [this.registry],
      collect() {
        this.set(sources().responseCache?.().bytes ?? 0);
      },
    });
    new Counter({
      name: 'wecom_callbacks_total',
      help: 'Requests to /wecom/callback, by outcome (accepted, duplicate, url_verified, rejected) and, for rejections, reason.',
      labelNames: ['outcome', 'reason'] as const,
      registers: [this.registry],
      collect() {
        const stats = sources().callbacks?.();
        this.reset();
        if (!stats) return;
        this.inc({ outcome: 'accepted' }, stats.accepted);
        this.inc({ outcome: 'duplicate' }, stats.duplicates);
        this.inc({ outcome: 'url_verified' }, stats.verified);
        for (const [reason, n] of Object.entries(stats.rejected)) this.inc({ outcome: 'rejected', reason }, n ?? 0);
      },
    });
    // One sample per scrape, shared by the quantile series (each scrape reports the interval since the last).
    const loop = new EventLoopDelay();
    this.eventLoop = loop;
    let loopSample: EventLoopDelaySample | undefined;
    new Gauge({
      name: 'service_event_loop_delay_seconds',
      help: 'How long callbacks waited for the event loop since the previous scrape (perf_hooks.monitorEventLoopDelay, 5 ms resolution), by quantile (1 = the maximum). A long answer that holds the loop shows here.',
      labelNames: ['quantile'] as const,
      registers,
      collect() {
        loopSample = loop.sample();
        this.set({ quantile: '0.5' }, loopSample.p50);
        this.set({ quantile: '0.99' }, loopSample.p99);
        this.set({ quantile: '1' }, loopSample.max);
      },
    });
    const warmGauge = (name: string, help: string, read: (w: WarmUpStatus) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const status = sources().warmUp?.();
          if (status) this.set(read(status));
        },
      });
    warmGauge(
      'directory_cache_warm',
      '1 once the first warm-up of the directory cache has finished (the whole corp loaded), 0 before.',
      (w) => (w.firstWarmMs === null ? 0 : 1),
    );
    warmGauge(
      'directory_cache_warming',
      '1 while a pass runs: warm-up, refresh-ahead, re-warm, or a pass on demand (the member lists a refused request needs).',
      (w) => (w.state === 'warming' ? 1 : 0),
    );
    warmGauge(
      'directory_cache_warm_on_demand',
      '1 when the running (or last) pass is one on demand: loaded and total then count the member lists it was asked for.',
      (w) => (w.onDemand ? 1 : 0),
    );
    warmGauge('directory_cache_warm_departments_loaded', 'Member lists read by the running (or last) pass.', (w) => w.departmentsLoaded);
    warmGauge(
      'directory_cache_warm_departments_total',
      'Member lists the running (or last) pass reads: every department of the tree, or those a pass on demand was asked for.',
      (w) => w.departmentsTotal,
    );
    warmGauge(
      'directory_cache_warm_failures',
      'Member lists the last warm-up pass could not read (read on demand instead).',
      (w) => w.failures,
    );
    warmGauge(
      'directory_cache_warm_passes',
      'Warm-up passes finished since start (first warm-up, refresh-ahead, re-warm after a full flush).',
      (w) => w.passes,
    );
    warmGauge(
      'directory_cache_first_warm_seconds',
      'Seconds from start until the first warm-up finished (0 until then).',
      (w) => (w.firstWarmMs ?? 0) / 1000,
    );
    warmGauge('directory_cache_last_warm_pass_seconds', 'Duration of the last finished warm-up pass.', (w) => (w.lastPassMs ?? 0) / 1000);
    new Gauge({
      name: 'service_ready',
      help: '1 when the last readiness check passed (/readyz), 0 otherwise (and during shutdown).',
      registers: [this.registry],
      collect() {
        this.set(sources().ready?.() ? 1 : 0);
      },
    });
  }

  /** Adds what to read at scrape time (called once the app exists). */
  observe(sources: MetricSources): void {
    this.sources = { ...this.sources, ...sources };
    // Only scaled-out instances have the gauge: a 0 would read as "Redis down" on one without Redis.
    if (sources.redisUp && !this.registry.getSingleMetric('redis_up')) {
      const read = () => this.sources.redisUp;
      new Gauge({
        name: 'redis_up',
        help: 'Scaled out (REDIS_URL): 1 while Redis answers, 0 while it is unavailable (the instance then runs on its own cache, tokens and limits).',
        registers: [this.registry],
        collect() {
          this.set(read()?.() ? 1 : 0);
        },
      });
    }
  }

  /** Counts every change on the bus by kind and source (bounded sets). */
  observeChanges(bus: ChangeBus): () => void {
    return bus.subscribe((change) => this.changes.inc({ kind: change.kind, source: change.source }));
  }

  /** For the WeCom client's `hooks` option. */
  clientHooks(): WeComClientHooks {
    return {
      onRequest: (e) => {
        const errcode =
          e.outcome === 'ok'
            ? '0'
            : e.outcome === 'api-error'
              ? String(e.errcode ?? 'unknown')
              : e.outcome === 'http-error'
                ? `http_${e.httpStatus ?? 'unknown'}`
                : e.outcome.replace('-', '_');
        this.upstreamCalls.inc({ endpoint: e.endpoint, errcode });
        this.upstreamDuration.observe({ endpoint: e.endpoint }, e.durationMs / 1000);
      },
      onRetry: (e) => this.retries.inc({ endpoint: e.endpoint, reason: e.reason }),
      onTokenRefresh: (e) => this.tokenRefreshes.inc({ secret_kind: e.secretKind, outcome: e.ok ? 'ok' : 'failed' }),
      onReconcile: (e) => this.reconciles.inc({ endpoint: e.endpoint, outcome: e.outcome }),
    };
  }

  /** Counts one answered HTTP request. */
  recordHttp(route: string, method: string, status: number, seconds: number): void {
    const m = ['GET', 'POST', 'OPTIONS', 'HEAD', 'PUT', 'DELETE', 'PATCH'].includes(method) ? method : 'OTHER';
    this.httpRequests.inc({ route, method: m, status: String(status) });
    this.httpDuration.observe({ route }, seconds);
  }

  /**
   * A Yoga plugin counting operations (by type and name), their duration, and result errors (by
   * code). An answer served by the response cache never executes: it is counted when its result
   * goes out, under the labels its query text had when it last executed.
   */
  useMetrics(): Plugin {
    const operation = (document: DocumentNode, operationName: string | null | undefined, request: object | undefined): OperationLabels => {
      const ast = getOperationAST(document, operationName ?? undefined);
      const labels = { type: ast?.operation ?? 'unknown', name: this.operationLabel(ast?.name?.value) };
      const query = request ? this.queryOfRequest.get(request) : undefined;
      if (query) this.labelsOfQuery.set(query, labels);
      return labels;
    };
    const requestOf = (context: unknown): object | undefined => (context as { request?: object } | undefined)?.request;
    return {
      onParams: ({ params, request }) => {
        if (typeof params.query === 'string') this.queryOfRequest.set(request, params.query);
      },
      onExecute: ({ args }) => {
        const op = operation(args.document, args.operationName, requestOf(args.contextValue));
        this.operations.inc({ operation_type: op.type, operation_name: op.name });
        const end = this.operationDuration.startTimer({ operation_type: op.type });
        return { onExecuteDone: () => void end() };
      },
      onSubscribe: ({ args }) => {
        const op = operation(args.document, args.operationName, requestOf(args.contextValue));
        this.operations.inc({ operation_type: op.type, operation_name: op.name });
      },
      onResultProcess: ({ request, result }) => {
        const results = Array.isArray(result) ? result : [result];
        for (const r of results) {
          if (!r || typeof r !== 'object') continue;
          if (SERVED_FROM_RESPONSE_CACHE in r) {
            const query = this.queryOfRequest.get(request);
            const labels = (query && this.labelsOfQuery.get(query)) || { type: 'query', name: 'other' };
            this.operations.inc({ operation_type: labels.type, operation_name: labels.name });
            this.responseCacheHits.inc();
          }
          if ('errors' in r) this.countErrors((r as ExecutionResult).errors);
        }
      },
    };
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private countErrors(errors: readonly GraphQLError[] | undefined): void {
    for (const error of errors ?? []) {
      const code = error.extensions?.code;
      this.graphqlErrors.inc({ code: typeof code === 'string' ? (ERROR_CODE.test(code) ? code : 'OTHER') : 'INTERNAL' });
    }
  }

  private operationLabel(name: string | undefined): string {
    if (!name) return 'anonymous';
    if (!OPERATION_NAME.test(name)) return 'other';
    if (this.operationNames.has(name)) return name;
    if (this.operationNames.size >= MAX_OPERATION_NAMES) return 'other';
    this.operationNames.add(name);
    return name;
  }
}
