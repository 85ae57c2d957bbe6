import { describe, expect, it } from 'vitest';
import {
  MAX_CONCURRENCY_RETRIES,
  MAX_RATE_LIMIT_RETRIES,
  MAX_TRANSIENT_RETRIES,
  decideRetry,
  type FailedAttempt,
  type RetriesSpent,
  type RetryDecision,
} from '../../src/wecom/retry-policy.ts';
import type { Effect } from '../../src/wecom/endpoint.ts';

/** The retry table (retry-policy.ts' header), one describe per row; the effects of each decision are in faults.test.ts. */

const fresh: RetriesSpent = { transient: 0, rateLimit: 0, concurrency: 0, tokenReplayed: false };

function decide(attempt: FailedAttempt, effect: Effect, spent: Partial<RetriesSpent> = {}, withToken = true): RetryDecision {
  return decideRetry({ attempt, effect, spent: { ...fresh, ...spent }, withToken });
}

const effects: Effect[] = ['read', 'write'];

describe('40014 / 42001: refetch the token, replay once (reads and writes)', () => {
  for (const effect of effects) {
    for (const errcode of [40014, 42001]) {
      it(`${errcode} ${effect}: replays with a new token the first time`, () => {
        expect(decide({ kind: 'errcode', errcode }, effect)).toEqual({ action: 'replay-with-new-token', reason: 'token-expired' });
      });
      it(`${errcode} ${effect}: fails the second time`, () => {
        expect(decide({ kind: 'errcode', errcode }, effect, { tokenReplayed: true })).toEqual({ action: 'fail' });
      });
    }
  }
  it('a call without a token (gettoken) is not replayed', () => {
    expect(decide({ kind: 'errcode', errcode: 40014 }, 'read', {}, false)).toEqual({ action: 'fail' });
  });
});

describe('45009: wait out the window, retry (reads and writes)', () => {
  for (const effect of effects) {
    it(`${effect}: retries after the window while retries are left`, () => {
      expect(decide({ kind: 'errcode', errcode: 45009 }, effect, { rateLimit: MAX_RATE_LIMIT_RETRIES - 1 })).toEqual({
        action: 'retry-after-rate-window',
        reason: 'rate-limited',
      });
    });
    it(`${effect}: fails after ${MAX_RATE_LIMIT_RETRIES} windows`, () => {
      expect(decide({ kind: 'errcode', errcode: 45009 }, effect, { rateLimit: MAX_RATE_LIMIT_RETRIES })).toEqual({ action: 'fail' });
    });
  }
});

describe('45033: lower concurrency, retry (reads and writes)', () => {
  for (const effect of effects) {
    it(`${effect}: backs off on the concurrency budget while retries are left`, () => {
      expect(decide({ kind: 'errcode', errcode: 45033 }, effect, { concurrency: MAX_CONCURRENCY_RETRIES - 1 })).toEqual({
        action: 'retry-after-backoff',
        budget: 'concurrency',
        reason: 'concurrency-limited',
      });
    });
    it(`${effect}: fails after ${MAX_CONCURRENCY_RETRIES} refusals`, () => {
      expect(decide({ kind: 'errcode', errcode: 45033 }, effect, { concurrency: MAX_CONCURRENCY_RETRIES })).toEqual({ action: 'fail' });
    });
  }
  it('the transient budget does not limit 45033', () => {
    expect(decide({ kind: 'errcode', errcode: 45033 }, 'read', { transient: MAX_TRANSIENT_RETRIES }).action).toBe('retry-after-backoff');
  });
});

describe('-1, HTTP 5xx, timeout/reset after send: reads retried ≤ 2 times, writes read back', () => {
  const cases: { name: string; attempt: FailedAttempt; reason: string }[] = [
    { name: '-1', attempt: { kind: 'errcode', errcode: -1 }, reason: 'busy' },
    { name: 'HTTP 502', attempt: { kind: 'http', status: 502 }, reason: 'http-5xx' },
    { name: 'timeout after send', attempt: { kind: 'timeout', sent: true }, reason: 'timeout' },
    { name: 'reset after send', attempt: { kind: 'network', sent: true }, reason: 'network' },
  ];
  for (const { name, attempt, reason } of cases) {
    it(`${name} read: backs off on the transient budget while retries are left`, () => {
      expect(decide(attempt, 'read', { transient: MAX_TRANSIENT_RETRIES - 1 })).toEqual({
        action: 'retry-after-backoff',
        budget: 'transient',
        reason,
      });
    });
    it(`${name} read: fails after ${MAX_TRANSIENT_RETRIES} retries`, () => {
      expect(decide(attempt, 'read', { transient: MAX_TRANSIENT_RETRIES })).toEqual({ action: 'fail' });
    });
    it(`${name} write: never resent, read back`, () => {
      expect(decide(attempt, 'write')).toEqual({ action: 'read-back' });
      expect(decide(attempt, 'write', { transient: MAX_TRANSIENT_RETRIES })).toEqual({ action: 'read-back' });
    });
  }
  it('a write cut off by the deadline after sending: outcome unknown (no time to read back)', () => {
    expect(decide({ kind: 'aborted', sent: true }, 'write')).toEqual({ action: 'outcome-unknown' });
  });
  it('an attempt cut off by the deadline otherwise fails', () => {
    expect(decide({ kind: 'aborted', sent: true }, 'read')).toEqual({ action: 'fail' });
    expect(decide({ kind: 'aborted', sent: false }, 'write')).toEqual({ action: 'fail' });
  });
});

describe('connection never opened: ≤ 2 retries for reads and writes (nothing reached WeCom)', () => {
  for (const effect of effects) {
    for (const kind of ['timeout', 'network'] as const) {
      it(`${kind} before send, ${effect}: backs off while retries are left`, () => {
        expect(decide({ kind, sent: false }, effect, { transient: MAX_TRANSIENT_RETRIES - 1 })).toEqual({
          action: 'retry-after-backoff',
          budget: 'transient',
          reason: kind,
        });
      });
      it(`${kind} before send, ${effect}: fails after ${MAX_TRANSIENT_RETRIES} retries`, () => {
        expect(decide({ kind, sent: false }, effect, { transient: MAX_TRANSIENT_RETRIES })).toEqual({ action: 'fail' });
      });
    }
  }
});

describe('any other errcode, HTTP 4xx: fail (reads and writes)', () => {
  for (const effect of effects) {
    for (const errcode of [60111, 40003, 48002, 301005]) {
      it(`${errcode} ${effect}`, () => {
        expect(decide({ kind: 'errcode', errcode }, effect)).toEqual({ action: 'fail' });
      });
    }
    it(`HTTP 404 ${effect}`, () => {
      expect(decide({ kind: 'http', status: 404 }, effect)).toEqual({ action: 'fail' });
    });
  }
});
