import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ServiceHarness } from '../helpers/service.ts';
import { CacheWarmer } from '../../src/cache/warm-up.ts';
import { RequestLoaders } from '../../src/loaders/index.ts';

/**
 * The warm-up over a real emulator (demo seed): the corp loaded in the background with the
 * fewest calls, a search answered with none afterwards, refresh-ahead only while the cache is in
 * use, a re-warm after a full flush, and the pace kept to the share of the rate budget.
 */

const TTL_MS = 1_500;
const SEARCH = '{ searchUsers(query: "zhang", first: 5) { totalCount nodes { userid } } }';

let service: ServiceHarness;
let departments: number;
let tags: number;
let warmer: CacheWarmer | undefined;
let stop: (() => void) | undefined;

beforeAll(async () => {
  service = await ServiceHarness.start({ cache: { ttlMs: TTL_MS, staleMs: 0, maxEntries: 100_000 }, responseCache: false });
  departments = (await service.wecom.console('department/list')).json.department.length;
  tags = (await service.wecom.console('tag/list')).json.taglist.length;
});
afterAll(() => service.close());
beforeEach(async () => {
  service.app.cache!.invalidateAll();
  await service.wecom.resetStats();
});
afterEach(() => {
  stop?.();
  stop = undefined;
  warmer = undefined;
});

function startWarmer(options: { callsPerWindow?: number; windowMs?: number; refreshAt?: number } = {}): CacheWarmer {
  const cache = service.app.cache!;
  warmer = new CacheWarmer({
    cache,
    callsPerWindow: options.callsPerWindow ?? 10_000,
    ...(options.windowMs ? { windowMs: options.windowMs } : {}),
    refreshAt: options.refreshAt ?? 0.5,
    buildViews: async () => {
      const loaders = new RequestLoaders(cache);
      await Promise.all([loaders.searchIndex(), loaders.directReports(''), loaders.tagIndex()]);
    },
  });
  stop = warmer.start(service.changes);
  return warmer;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits (generously: the machine may be busy) until the warmer has finished `passes` passes. */
async function passesDone(w: CacheWarmer, passes: number): Promise<void> {
  for (let i = 0; i < 200 && w.snapshot().passes < passes; i++) await sleep(50);
  await w.idle();
}

describe('cache warm-up', () => {
  it('loads the corp with one call per list, then a search costs no upstream call', async () => {
    const w = startWarmer();
    expect(w.snapshot().state).toBe('warming');
    await w.idle();
    const status = w.snapshot();
    expect(status).toMatchObject({ state: 'warm', departmentsLoaded: departments, departmentsTotal: departments, failures: 0, passes: 1 });
    expect(status.firstWarmMs).toBeGreaterThan(0);
    const calls = await service.calls();
    expect(calls['/cgi-bin/department/list']).toBe(1);
    expect(calls['/cgi-bin/user/list']).toBe(departments);
    expect(calls['/cgi-bin/tag/list']).toBe(1);
    expect(calls['/cgi-bin/tag/get']).toBe(tags);

    await service.wecom.resetStats();
    const answer = await service.query(SEARCH);
    expect(answer.errors).toBeUndefined();
    expect((answer.data as { searchUsers: { totalCount: number } }).searchUsers.totalCount).toBeGreaterThan(0);
    expect((await service.wecom.stats()).total).toBe(0);
  });

  it('refreshes everything before it expires while the cache is read, and not when idle', async () => {
    const w = startWarmer({ refreshAt: 0.5 });
    await w.idle();
    // In use: a read after the pass, so the next pass (at half the TTL) refreshes every list.
    await service.query(SEARCH);
    await service.wecom.resetStats();
    await passesDone(w, 2);
    expect(w.snapshot().passes).toBe(2);
    const refreshed = await service.calls();
    expect(refreshed['/cgi-bin/user/list']).toBe(departments);
    expect(refreshed['/cgi-bin/department/list']).toBe(1);
    // Nobody read since: no further pass spends WeCom's quota.
    await service.wecom.resetStats();
    await sleep(TTL_MS * 0.5 + 400);
    expect(w.snapshot().passes).toBe(2);
    expect((await service.wecom.stats()).total).toBe(0);
  });

  it('warms the corp again after a full flush (DIRECTORY_RELOADED)', async () => {
    const w = startWarmer({ refreshAt: 100 });
    await w.idle();
    await service.wecom.resetStats();
    service.changes.publish({ kind: 'DIRECTORY_RELOADED', source: 'import' });
    // The re-warm starts after a short debounce.
    await passesDone(w, 2);
    expect(w.snapshot().passes).toBe(2);
    expect((await service.calls())['/cgi-bin/user/list']).toBe(departments);
  });

  it('keeps to its share of the rate budget', async () => {
    // 10 reads per 300 ms window: the demo corp's lists cannot all be read in the first window.
    const w = startWarmer({ callsPerWindow: 10, windowMs: 300, refreshAt: 100 });
    await sleep(150);
    const early = (await service.calls())['/cgi-bin/user/list'] ?? 0;
    expect(early).toBeLessThanOrEqual(10);
    await w.idle();
    expect(w.snapshot().departmentsLoaded).toBe(departments);
  });
});
