/**
 * What the client does after an attempt that did not succeed, as a pure function of the outcome,
 * the endpoint's effect and the retries already spent in this call:
 *
 * | what happened                         | reads                       | writes                                  |
 * |---------------------------------------|-----------------------------|-----------------------------------------|
 * | 40014 / 42001                         | refetch token, replay once  | same (refused before processing)        |
 * | 45009                                 | wait out the window, retry  | same (refused before processing)        |
 * | 45033                                 | lower concurrency, retry    | same (refused before processing)        |
 * | -1, HTTP 5xx, timeout/reset after send| ≤ 2 retries, full jitter    | never resent: read back, else "unknown" |
 * | connection never opened               | ≤ 2 retries, full jitter    | ≤ 2 retries (nothing reached WeCom)     |
 * | any other errcode                     | WeComApiError               | WeComApiError                           |
 *
 * The caller (core.ts) performs the decision: waits, backoff delays and deadlines are its concern.
 */
import type { Effect } from './endpoint.ts';
import { TOKEN_ERRCODES } from './errors.ts';
import type { RetryReason } from './metrics.ts';

/** -1, HTTP 5xx and network errors: at most two retries (reads only, or writes never sent). */
export const MAX_TRANSIENT_RETRIES = 2;
/** 45009 windows waited out per call before giving up. */
export const MAX_RATE_LIMIT_RETRIES = 3;
/** 45033 refusals retried per call, each after lowering the endpoint's concurrency. */
export const MAX_CONCURRENCY_RETRIES = 5;

/** How an attempt that did not succeed ended. `sent`: the request may have reached WeCom. */
export type FailedAttempt =
  | { kind: 'errcode'; errcode: number }
  | { kind: 'http'; status: number }
  | { kind: 'timeout'; sent: boolean }
  | { kind: 'network'; sent: boolean }
  /** The call's deadline or the caller's signal ended the attempt. */
  | { kind: 'aborted'; sent: boolean };

/** Retries this call has already spent, per budget. */
export interface RetriesSpent {
  transient: number;
  rateLimit: number;
  concurrency: number;
  tokenReplayed: boolean;
}

export interface RetryQuestion {
  attempt: FailedAttempt;
  effect: Effect;
  spent: RetriesSpent;
  /** The attempt carried an access token (gettoken itself does not). */
  withToken: boolean;
}

export type RetryDecision =
  /** Invalidate the token, fetch a new one and replay (once per call). */
  | { action: 'replay-with-new-token'; reason: 'token-expired' }
  /** Wait until the endpoint's rate window reopens, then retry (if the deadline allows). */
  | { action: 'retry-after-rate-window'; reason: 'rate-limited' }
  /** Retry after full-jitter backoff, spending one retry of `budget`. */
  | { action: 'retry-after-backoff'; budget: 'transient' | 'concurrency'; reason: RetryReason }
  /** A write's answer was lost after it may have been applied: read back instead of resending. */
  | { action: 'read-back' }
  /** A write was sent but the deadline leaves no time to read back: its outcome is unknown. */
  | { action: 'outcome-unknown' }
  /** Give up with the attempt's own error. */
  | { action: 'fail' };

export function decideRetry({ attempt, effect, spent, withToken }: RetryQuestion): RetryDecision {
  const read = effect === 'read';
  const transientLeft = spent.transient < MAX_TRANSIENT_RETRIES;
  switch (attempt.kind) {
    case 'errcode': {
      const { errcode } = attempt;
      // WeCom may invalidate a token before its expiry: refetch once and replay once (§1).
      if (TOKEN_ERRCODES.has(errcode) && withToken && !spent.tokenReplayed)
        return { action: 'replay-with-new-token', reason: 'token-expired' };
      // Frequency limit: refused before processing, so even a write may go again once the window is over.
      if (errcode === 45009 && spent.rateLimit < MAX_RATE_LIMIT_RETRIES)
        return { action: 'retry-after-rate-window', reason: 'rate-limited' };
      // Concurrency limit: refused before processing; retry with fewer calls in parallel.
      if (errcode === 45033 && spent.concurrency < MAX_CONCURRENCY_RETRIES) {
        return { action: 'retry-after-backoff', budget: 'concurrency', reason: 'concurrency-limited' };
      }
      if (errcode === -1) {
        // -1 is "system busy, retry later" (§10); repeating a read is harmless.
        if (read && transientLeft) return { action: 'retry-after-backoff', budget: 'transient', reason: 'busy' };
        // A write answered "busy" may or may not have been applied: read back instead of resending.
        if (!read) return { action: 'read-back' };
      }
      return { action: 'fail' };
    }
    case 'http':
      if (attempt.status < 500) return { action: 'fail' };
      // A 5xx comes from WeCom's gateway; repeating a read is harmless.
      if (read && transientLeft) return { action: 'retry-after-backoff', budget: 'transient', reason: 'http-5xx' };
      return read ? { action: 'fail' } : { action: 'read-back' };
    case 'aborted':
      // No time is left to read back.
      return !read && attempt.sent ? { action: 'outcome-unknown' } : { action: 'fail' };
    case 'timeout':
    case 'network':
      // A read, or a request that never left this host: repeating it cannot duplicate anything.
      if ((read || !attempt.sent) && transientLeft) return { action: 'retry-after-backoff', budget: 'transient', reason: attempt.kind };
      return !read && attempt.sent ? { action: 'read-back' } : { action: 'fail' };
  }
}
