import { describe, expect, it } from 'vitest';
import { Scheduler, nextStarts } from '../../src/wecom/scheduler.ts';

/**
 * How many calls an endpoint can still make before a deadline (src/security/directory-loading.ts
 * refuses a query that needs more): the sliding window of the rate budget, the calls queued, and
 * the concurrency cap with how long recent calls held their slot. Pure arithmetic on the
 * scheduler's own clock.
 */

describe('nextStarts', () => {
  it('lets a call start when the one a budget before it leaves the window', () => {
    // Budget 3 per 1,000 ms; calls started at 0, 100 and 200: the next three at 1,000, 1,100, 1,200, then 2,000.
    expect(nextStarts([0, 100, 200], 3, 1_000, 500, 4)).toEqual([1_000, 1_100, 1_200, 2_000]);
    // Nothing recent: the budget starts at once.
    expect(nextStarts([], 3, 1_000, 500, 4)).toEqual([500, 500, 500, 1_500]);
    // Stops at `until`.
    expect(nextStarts([0, 100, 200], 3, 1_000, 500, 10, 1_150)).toEqual([1_000, 1_100]);
  });
});

describe('Scheduler.startsPossible', () => {
  it('counts what the rate budget lets start before the deadline, behind what is queued and what ran', async () => {
    let now = 10_000;
    const path = '/cgi-bin/user/list';
    const scheduler = new Scheduler({ rateBudget: { [path]: 10 }, rateWindowMs: 1_000, concurrency: 4, now: () => now });
    expect(scheduler.rateBudget(path)).toBe(10);
    // A fresh lane: the whole budget within a deadline shorter than the window, capped at `atMost`.
    expect(scheduler.startsPossible(path, 500, 100)).toBe(10);
    expect(scheduler.startsPossible(path, 500, 3)).toBe(3);
    // Four calls start at 10,000 and two at 10,400, each holding its slot 400 ms.
    const signal = new AbortController().signal;
    const first = await Promise.all(Array.from({ length: 4 }, () => scheduler.acquire(path, signal, now + 5_000)));
    now += 400;
    for (const p of first) p.release(true);
    const second = await Promise.all(Array.from({ length: 2 }, () => scheduler.acquire(path, signal, now + 5_000)));
    now += 400;
    for (const p of second) p.release(true);
    // By rate: four more now; at 11,000 the four of 10,000 leave the window, at 11,400 the two of 10,400.
    // By slots: 4 slots × 500 ms / 400 ms = 5 calls finish within 500 ms.
    expect(scheduler.startsPossible(path, 500, 100)).toBe(5);
    expect(scheduler.startsPossible(path, 100, 100)).toBe(1);
    expect(scheduler.startsPossible(path, 2_000, 3)).toBe(3);
    // Calls running hold slots the request would need.
    const running = await Promise.all(Array.from({ length: 2 }, () => scheduler.acquire(path, signal, now + 5_000)));
    expect(scheduler.startsPossible(path, 500, 100)).toBe(3);
    for (const p of running) p.release(true);
  });
});
