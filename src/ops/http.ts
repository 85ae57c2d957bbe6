import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { requestScope, scrubText } from './logger.ts';
import { routeOf, type ServiceMetrics } from './metrics.ts';
import type { Readiness } from './readiness.ts';

/** A client's x-request-id is kept when it looks like an id (no spaces, quotes or control characters). */
const SANE_REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:/+=-]{0,127}$/;

/** The request's id: the caller's `x-request-id` when sane, otherwise a new UUID. */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  const value = Array.isArray(given) ? given[0] : given;
  return value && SANE_REQUEST_ID.test(value) ? value : randomUUID();
}

interface Active {
  res: ServerResponse;
  /** A subscription (Server-Sent Events): it never ends by itself. */
  streaming: boolean;
}

/**
 * The requests being served, so a shutdown can wait for them: answers that end by themselves
 * (queries, mutations, callbacks) are waited for; subscriptions are ended by the shutdown.
 */
export class InFlight {
  private readonly active = new Set<Active>();
  private waiters: (() => void)[] = [];

  add(res: ServerResponse, streaming: boolean): void {
    const entry: Active = { res, streaming };
    this.active.add(entry);
    res.once('close', () => {
      this.active.delete(entry);
      if (this.finiteCount() === 0) for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /** Requests other than subscriptions still being answered. */
  finiteCount(): number {
    let n = 0;
    for (const a of this.active) if (!a.streaming) n++;
    return n;
  }

  streamingCount(): number {
    return this.active.size - this.finiteCount();
  }

  /** Resolves true when every finite request has finished, false when `timeoutMs` passed first. */
  settled(timeoutMs: number): Promise<boolean> {
    if (this.finiteCount() === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        resolve(false);
      }, timeoutMs);
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.waiters.push(wake);
    });
  }

  /** Resolves true when no subscription stream is open any more, false after `timeoutMs`. */
  async streamsClosed(timeoutMs: number, pollMs = 20): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (this.streamingCount() > 0) {
      if (Date.now() >= until) return false;
      await new Promise((r) => setTimeout(r, pollMs));
    }
    return true;
  }
}

export interface HttpFrontOptions {
  /** The service (createApp's `handle`): GraphQL, /wecom/callback. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  logger: Logger;
  readiness: Readiness;
  inFlight: InFlight;
  metrics?: ServiceMetrics;
  /** Serve GET /metrics here (false when disabled or on its own port). */
  serveMetrics: boolean;
}

/**
 * What every HTTP request passes first: a request id (echoed as `x-request-id`, and on every log
 * line written while serving it), an access log line, HTTP metrics, the operational endpoints
 * (/healthz liveness, /readyz readiness, /metrics), in-flight tracking for graceful shutdown,
 * and during shutdown a 503 for requests that still arrive on open keep-alive connections.
 */
export function createHttpFront(options: HttpFrontOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { logger, readiness, inFlight, metrics } = options;
  return (req, res) => {
    const started = process.hrtime.bigint();
    const requestId = requestIdOf(req);
    const path = (req.url ?? '/').split('?')[0]!;
    const route = routeOf(path);
    res.setHeader('x-request-id', requestId);
    const streaming = /\btext\/event-stream\b/.test(req.headers.accept ?? '');
    inFlight.add(res, streaming);
    metrics?.httpInFlight.inc();
    res.once('close', () => {
      metrics?.httpInFlight.dec();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics?.recordHttp(route, req.method ?? 'OTHER', res.statusCode, seconds);
      // Probes and scrapes are frequent and uneventful: debug, so the info log shows traffic.
      const level = route === '/healthz' || route === '/readyz' || route === '/metrics' ? 'debug' : 'info';
      if (!logger.isLevelEnabled(level)) return;
      logger[level](
        {
          reqId: requestId,
          method: req.method,
          path: scrubText(path),
          status: res.statusCode,
          durationMs: Math.round(seconds * 1000),
          ...(res.writableFinished ? {} : { aborted: true }),
        },
        'request',
      );
    });

    requestScope.run({ requestId }, () => {
      if (path === '/healthz') return json(res, 200, { status: 'ok' });
      if (path === '/readyz') {
        void readiness.check().then(
          (report) =>
            json(res, report.ready ? 200 : 503, {
              status: report.status,
              checks: report.checks,
              ...(report.visibility ? { visibility: report.visibility } : {}),
              ...(report.cache ? { cache: report.cache } : {}),
            }),
          () => json(res, 503, { status: 'not ready', checks: {} }),
        );
        return;
      }
      if (path === '/metrics' && options.serveMetrics && metrics) return void serveMetrics(metrics, res);
      if (readiness.isShuttingDown) {
        // A request on a keep-alive connection opened before the shutdown: send it elsewhere.
        res.setHeader('connection', 'close');
        return json(res, 503, { errors: [{ message: 'the service is shutting down; retry', extensions: { code: 'SHUTTING_DOWN' } }] });
      }
      options.handle(req, res);
    });
  };
}

/** The handler of a metrics-only listener (METRICS_PORT). */
export function createMetricsListener(metrics: ServiceMetrics): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if ((req.url ?? '/').split('?')[0] === '/metrics') return void serveMetrics(metrics, res);
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found: this port serves /metrics only');
  };
}

async function serveMetrics(metrics: ServiceMetrics, res: ServerResponse): Promise<void> {
  try {
    const body = await metrics.text();
    res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
    res.end(body);
  } catch {
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
    res.end('metrics collection failed');
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}
