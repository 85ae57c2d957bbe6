import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The GraphQL request on whose behalf WeCom calls are made (set around execution by
 * src/security/execution-limits.ts): whose share of each endpoint's rate budget they use
 * (scheduler.ts), what they cost (one summary line per request instead of one per failed call),
 * and whether the request is over, so that a request cut off by its time limit makes no more calls.
 * Calls outside any request (warm-up, job polling, read-backs) have no context.
 */
export interface UpstreamRequest {
  /** Whose budget: the caller's key id or JWT subject, or `anonymous:<address>`. */
  readonly caller: string;
  /** Calls started, by endpoint path. */
  readonly calls: Record<string, number>;
  /** Failed calls, by "endpoint kind" (rate-limited, timeout …). */
  readonly failures: Record<string, number>;
  /** Set when the request is over (its time limit passed): later calls are refused at once. */
  ended?: string;
}

export const upstreamRequests = new AsyncLocalStorage<UpstreamRequest>();

export function newUpstreamRequest(caller: string): UpstreamRequest {
  return { caller, calls: {}, failures: {} };
}
