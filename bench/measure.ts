import autocannon from 'autocannon';
import type { EmulatorClient } from './emulator-state.ts';

/** What the benchmark sends: one GraphQL operation as a POST body. */
export interface GraphQLRequest {
  query: string;
  /** Which operation of `query` to run (the examples' files may hold more than one). */
  operationName?: string;
  variables?: Record<string, unknown>;
}

export interface GraphQLAnswer {
  status: number;
  // unknown: each scenario checks the shape of the data it asked for (scenarios.ts)
  data?: unknown;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
  ms: number;
}

/** Where requests go: a server's origin and the headers it wants on every request (its API key). */
export interface Target {
  url: string;
  headers: Record<string, string>;
}

/** A single request over loopback HTTP, timed from send to parsed body. */
export async function post(target: Target, request: GraphQLRequest, timeoutMs = 60_000): Promise<GraphQLAnswer> {
  const started = performance.now();
  const res = await fetch(`${target.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...target.headers },
    body: JSON.stringify(request),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await res.json()) as { data?: unknown; errors?: GraphQLAnswer['errors'] };
  return { status: res.status, data: body.data, errors: body.errors, ms: performance.now() - started };
}

export interface CallCount {
  /** Every /cgi-bin/ request the emulator saw, gettoken included. */
  total: number;
  byPath: Record<string, number>;
}

/** Upstream calls made while `work` ran: the emulator's counters, reset first. */
export async function countUpstream(emulator: EmulatorClient, work: () => Promise<void>): Promise<CallCount> {
  await emulator.resetStats();
  await work();
  const stats = await emulator.stats();
  return { total: stats.total, byPath: stats.calls };
}

/** Polls this often, and wants this many equal readings in a row, before calling the upstream quiet. */
const SETTLE_POLL_MS = 50;
const SETTLE_READINGS = 3;

/**
 * Waits until the emulator's call counter stops moving: a load run ends with requests still in
 * flight in the service, whose upstream calls must not be counted in the next scenario.
 * Returns false when it kept moving for `maxMs`.
 */
export async function settle(emulator: EmulatorClient, maxMs = 120_000): Promise<boolean> {
  const deadline = Date.now() + maxMs;
  let last = -1;
  let equal = 0;
  while (Date.now() < deadline) {
    const { total } = await emulator.stats();
    equal = total === last ? equal + 1 : 0;
    if (equal >= SETTLE_READINGS - 1) return true;
    last = total;
    await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
  }
  return false;
}

export interface LoadOptions {
  target: Target;
  /** Requests sent in turn on each connection (a connection cycles through them). */
  requests: { body: (connection: ConnectionState) => string }[];
  /** Whether an answer counts as failed (the body is the response text). */
  failed: (status: number, body: string) => boolean;
  connections: number;
  durationSeconds: number;
  /** Seconds before a request counts as timed out. */
  timeoutSeconds: number;
}

/** Per-connection state for request bodies that depend on each other (the write mix). */
export interface ConnectionState {
  sequence?: number;
}

export interface LoadResult {
  /** Answers received during the run. */
  completed: number;
  failed: number;
  /** Connection errors and timeouts (requests without an answer). */
  errors: number;
  rps: number;
  p50Ms: number | null;
  p99Ms: number | null;
  durationSeconds: number;
}

/**
 * Fixed concurrency for a fixed time with autocannon. Latencies are taken from autocannon's
 * per-response event at full (sub-millisecond) precision rather than its integer histogram.
 */
export function load(options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  let failed = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${options.target.url}/graphql`,
        connections: options.connections,
        duration: options.durationSeconds,
        timeout: options.timeoutSeconds,
        requests: options.requests.map((r) => ({
          method: 'POST' as const,
          path: '/graphql',
          headers: { 'content-type': 'application/json', accept: 'application/json', ...options.target.headers },
          setupRequest: (request: autocannon.Request, context: object) => ({ ...request, body: r.body(context as ConnectionState) }),
          onResponse: (status: number, body: string) => {
            if (options.failed(status, body)) failed++;
          },
        })),
      },
      (err, result) => {
        if (err) return reject(err instanceof Error ? err : new Error(String(err)));
        const completed = latencies.length;
        resolve({
          completed,
          failed: failed + result.non2xx,
          errors: result.errors,
          rps: completed / result.duration,
          p50Ms: percentile(latencies, 0.5),
          p99Ms: percentile(latencies, 0.99),
          durationSeconds: result.duration,
        });
      },
    );
    instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => latencies.push(responseTime));
  });
}

/** Nearest-rank percentile; null for no samples. */
export function percentile(values: readonly number[], p: number): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}
