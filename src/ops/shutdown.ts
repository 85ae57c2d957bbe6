import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { InFlight } from './http.ts';
import type { Readiness } from './readiness.ts';

/** Subscriptions get this long to send their end of stream before their connections are closed. */
export const STREAM_CLOSE_GRACE_MS = 1_000;
/** Each resource (pools, Redis, the emulator) gets this long to close. */
export const RESOURCE_CLOSE_TIMEOUT_MS = 5_000;
/**
 * After requests were cut, what a resource still waits for (a pool's calls upstream) belongs to
 * them: it gets only this long, and the exit ends the rest.
 */
export const RESOURCE_CLOSE_TIMEOUT_AFTER_CUT_MS = 500;

export interface ShutdownPlan {
  /** The listeners: the service's, and the metrics port's when separate. */
  servers: Server[];
  readiness: Readiness;
  inFlight: InFlight;
  logger: Pick<Logger, 'info' | 'warn'>;
  /** Readiness is false this long before the listener closes, so load balancers stop sending. */
  delayMs: number;
  /** How long requests in flight may take to finish before their connections are closed. */
  timeoutMs: number;
  /** Ends live subscriptions cleanly (their clients get a normal end of stream). */
  endSubscriptions(): void;
  /** Closed in order once requests are done: job tracker, client pools, cache, Redis, emulator. */
  resources: { name: string; close(): void | Promise<void> }[];
}

/**
 * Graceful shutdown (SIGTERM): readiness turns false → (after `delayMs`) the listeners stop
 * accepting connections and idle keep-alive ones close → subscriptions end → requests in flight
 * finish, for at most `timeoutMs` → whatever is left is cut → pools, Redis and the emulator close.
 * Resolves true when nothing had to be cut.
 */
export async function gracefulShutdown(plan: ShutdownPlan, signal: string): Promise<boolean> {
  const { logger, inFlight } = plan;
  plan.readiness.markShuttingDown();
  logger.info(
    { signal, inFlight: inFlight.finiteCount(), subscriptions: inFlight.streamingCount(), delayMs: plan.delayMs },
    'shutting down: readiness is false',
  );
  if (plan.delayMs > 0) await sleep(plan.delayMs);

  // close() refuses new connections and ends idle keep-alive ones (Node ≥ 19); requests that
  // still arrive on busy keep-alive connections get 503 from the HTTP front.
  const closed = plan.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
  plan.endSubscriptions();

  const finished = await inFlight.settled(plan.timeoutMs);
  if (!finished)
    logger.warn({ unfinished: inFlight.finiteCount(), timeoutMs: plan.timeoutMs }, 'shutdown timeout: cutting requests still in flight');
  const streamsEnded = await inFlight.streamsClosed(STREAM_CLOSE_GRACE_MS);
  if (!streamsEnded) logger.warn({ subscriptions: inFlight.streamingCount() }, 'closing subscription connections that did not end');
  for (const server of plan.servers) server.closeAllConnections();
  await Promise.all(closed);

  const closeTimeoutMs = finished ? RESOURCE_CLOSE_TIMEOUT_MS : RESOURCE_CLOSE_TIMEOUT_AFTER_CUT_MS;
  for (const resource of plan.resources) {
    try {
      await Promise.race([
        Promise.resolve(resource.close()),
        sleep(closeTimeoutMs, undefined, { ref: false }).then(() => Promise.reject(new Error('timed out'))),
      ]);
    } catch (err) {
      logger.warn({ resource: resource.name, error: err instanceof Error ? err.message : String(err) }, 'closing a resource failed');
    }
  }
  logger.info({ clean: finished }, 'shutdown complete');
  return finished;
}
