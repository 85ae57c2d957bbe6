import { describe, expect, it } from 'vitest';
import { Readiness } from '../../src/ops/readiness.ts';
import { ServiceMetrics } from '../../src/ops/metrics.ts';
import type { WarmUpStatus } from '../../src/cache/warm-up.ts';

const cold: WarmUpStatus = {
  state: 'warming',
  departmentsLoaded: 120,
  departmentsTotal: 2221,
  failures: 0,
  passes: 0,
  firstWarmMs: null,
  lastPassMs: null,
  onDemand: false,
};
const warm: WarmUpStatus = { ...cold, state: 'warm', departmentsLoaded: 2221, passes: 1, firstWarmMs: 9_000, lastPassMs: 9_000 };

describe('readiness with the cache warm-up', () => {
  it('is not ready until the first warm-up finished, and says how far it got; read live, not from the cached check', async () => {
    let status = cold;
    const readiness = new Readiness({ wecom: async () => {}, warmUp: () => status, cacheMs: 60_000 });
    expect(await readiness.check()).toEqual({
      ready: false,
      status: 'not ready',
      checks: { wecom: 'ok', cache: 'warming (120/2221 departments)' },
      cache: cold,
    });
    expect(readiness.lastReady).toBe(false);
    status = warm;
    expect(await readiness.check()).toEqual({ ready: true, status: 'ready', checks: { wecom: 'ok', cache: 'ok' }, cache: warm });
    expect(readiness.lastReady).toBe(true);
    // A later pass (refresh-ahead, re-warm after a flush) keeps the instance ready.
    status = { ...warm, state: 'warming', departmentsLoaded: 3 };
    expect((await readiness.check()).ready).toBe(true);
  });
});

describe('metrics', () => {
  it('export the event-loop delay and how warm the cache is', async () => {
    const metrics = new ServiceMetrics({ defaultMetrics: false });
    metrics.observe({ warmUp: () => warm });
    // Hold the loop ~60 ms once: the maximum since the last scrape shows it.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const until = performance.now() + 60;
    while (performance.now() < until);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const text = await metrics.registry.metrics();
    const value = (name: string) => Number(new RegExp(`^${name.replace(/[{}"".]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('service_event_loop_delay_seconds{quantile="1"}')).toBeGreaterThan(0.04);
    expect(value('directory_cache_warm')).toBe(1);
    expect(value('directory_cache_warm_departments_total')).toBe(2221);
    expect(value('directory_cache_first_warm_seconds')).toBe(9);
    expect(value('directory_cache_warm_on_demand')).toBe(0);
    metrics.eventLoop.close();
  });
});
