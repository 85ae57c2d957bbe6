import { print } from 'graphql';
import { expect } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { graphql } from '../generated/index.ts';
import { type ServiceProcess, metricValue } from '../helpers/service-process.ts';
import { describeWithRedis } from '../helpers/redis.ts';
import { ORG_TREE, levelThree } from '../helpers/fleet.ts';
import { FLEET_START_MS, fleetTest } from '../testkit/fleet.ts';

/**
 * Redis stopped under load and started again: three instances keep answering every query from
 * their own caches and WeCom (no failed query), stay ready, log the outage once and show it in
 * /metrics; a change made meanwhile is served stale no longer than the cache TTL; when Redis is
 * back they share again within seconds, without a restart.
 *
 * The Redis here is the test's own redis-server (it is stopped and started again), not REDIS_URL's.
 */

/** Entries live 2 s, so during the outage the instances must reload from WeCom on their own. */
const TTL_SECONDS = 2;
const OUTAGE_MS = 10_000;
const CONCURRENCY = 6;

interface LoadStats {
  sent: number;
  failed: { status: number; body: string }[];
}

const it = fleetTest({
  size: 3,
  ownRedis: true,
  env: {
    CACHE_TTL_SECONDS: String(TTL_SECONDS),
    CACHE_STALE_SECONDS: '1',
    // Limits the load stays under, still counted in Redis (and per instance meanwhile).
    RATE_LIMIT_PER_MINUTE: '1000000',
    RATE_LIMIT_BURST: '100000',
  },
}).extend('members', { scope: 'file' }, async ({ wecom }) => {
  const level3 = await levelThree(wecom);
  return (await wecom.console('user/list', { department_id: level3[0] })).json.userlist as { userid: string; name: string }[];
});

const MEMBER_CARD = graphql(`query OutageMemberCard($u: String!) { user(userid: $u) { userid name departments { name } } }`);
const SEARCH = graphql(`query OutageSearch($q: String!) { searchUsers(query: $q, first: 5) { totalCount nodes { userid } } }`);
const RENAME = graphql(
  `mutation OutageRename($input: UpdateUserInput!) { updateUser(input: $input) { __typename ... on MutationUpdateUserSuccess { data { name } } } }`,
);
const NAME = graphql(`query OutageName($u: String!) { user(userid: $u) { name } }`);

describeWithRedis('a Redis outage under load', () => {
  it.beforeAll(async ({ fleet: _started, members: _read }) => {}, FLEET_START_MS);

  /** Queries a frontend sends (org tree, member cards, search), round-robin over the instances, until stopped. */
  function startLoad(fleet: ServiceProcess[], members: { userid: string }[]): { stop: () => Promise<LoadStats> } {
    const stats: LoadStats = { sent: 0, failed: [] };
    let running = true;
    // Sent as text over fetch: the load counts HTTP statuses and error bodies, not typed answers.
    const queries: [string, (i: number) => Record<string, unknown>][] = [
      [print(ORG_TREE), () => ({ root: 1 })],
      [print(MEMBER_CARD), (i) => ({ u: members[i % members.length]!.userid })],
      [print(SEARCH), (i) => ({ q: String.fromCharCode(97 + (i % 26)) })],
    ];
    const worker = async (w: number) => {
      for (let i = w; running; i += CONCURRENCY) {
        const [query, variables] = queries[i % queries.length]!;
        const service = fleet[i % fleet.length]!;
        stats.sent++;
        try {
          const res = await fetch(`${service.url}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ query, variables: variables(i) }),
          });
          const body = await res.text();
          if (res.status !== 200 || body.includes('"errors"')) stats.failed.push({ status: res.status, body: body.slice(0, 300) });
        } catch (err) {
          stats.failed.push({ status: 0, body: String(err) });
        }
      }
    };
    const workers = Array.from({ length: CONCURRENCY }, (_, w) => worker(w));
    return {
      stop: async () => {
        running = false;
        await Promise.all(workers);
        return stats;
      },
    };
  }

  const redisUp = async (s: ServiceProcess) => metricValue(await s.metrics(), 'redis_up');
  const sharedReads = async (fleet: ServiceProcess[]) => {
    let n = 0;
    for (const s of fleet) {
      const m = await s.metrics();
      n +=
        metricValue(m, 'directory_shared_cache_requests_total', { result: 'hit' }) +
        metricValue(m, 'directory_shared_cache_requests_total', { result: 'waited' });
    }
    return n;
  };

  it('serves every query while Redis is away, stays ready, logs it once, and shares again within 5 s of its return', async ({
    fleet,
    members,
    redisServer,
  }) => {
    for (const s of fleet) expect(await redisUp(s)).toBe(1);
    const load = startLoad(fleet, members);
    await sleep(1_000);

    await redisServer.stop();
    const outageStarted = Date.now();
    await sleep(1_500);
    // A change made through one instance meanwhile: the others do not hear of it (no broadcast).
    const target = members[1]!;
    const renamed = `停机改名-${Date.now() % 100000}`;
    const mutation = await fleet[0]!.execute(RENAME, { input: { userid: target.userid, name: renamed } });
    expect(mutation.data!.updateUser).toEqual({ __typename: 'MutationUpdateUserSuccess', data: { name: renamed } });

    // Ready, and /metrics says Redis is down.
    for (const s of fleet) {
      const res = await fetch(`${s.url}/readyz`);
      const body = (await res.json()) as { status: string; checks: Record<string, string> };
      expect(res.status).toBe(200);
      expect(body.status).toBe('ready');
      expect(body.checks.redis).toMatch(/^degraded: /);
      expect(await redisUp(s)).toBe(0);
    }
    // Reads that missed locally went to WeCom alone, counted as degraded (an instance whose cache
    // answered everything during the outage made none, so the fleet's sum is what is certain).
    let degradedReads = 0;
    for (const s of fleet) degradedReads += metricValue(await s.metrics(), 'directory_shared_cache_requests_total', { result: 'degraded' });
    expect(degradedReads).toBeGreaterThan(0);
    // Past one TTL (and the stale window), every instance shows the change: it reloaded from WeCom itself.
    await sleep((TTL_SECONDS + 1) * 1000 + 200);
    for (const s of fleet) {
      const card = await s.execute(NAME, { u: target.userid });
      expect(card).toEqual({ data: { user: { name: renamed } } });
    }
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - outageStarted)));

    const sharedBefore = await sharedReads(fleet);
    await redisServer.restart();
    const restartedAt = Date.now();
    let sharedAfterMs: number | undefined;
    while (Date.now() - restartedAt < 15_000) {
      const ups = await Promise.all(fleet.map(redisUp));
      if (ups.every((u) => u === 1) && (await sharedReads(fleet)) > sharedBefore) {
        sharedAfterMs = Date.now() - restartedAt;
        break;
      }
      await sleep(100);
    }
    await sleep(1_000); // and the load goes on a moment on the rejoined fleet
    const stats = await load.stop();

    expect(stats.failed).toEqual([]);
    expect(stats.sent).toBeGreaterThan(100);
    expect(sharedAfterMs).toBeDefined();
    expect(sharedAfterMs!).toBeLessThanOrEqual(5_000);
    console.log(`outage: ${stats.sent} queries, none failed; shared again ${sharedAfterMs} ms after Redis restarted`);

    for (const [i, s] of fleet.entries()) {
      const lines = s.logLines();
      expect(
        lines.filter((l) => String(l.msg).startsWith('redis unavailable')),
        `instance ${i}`,
      ).toHaveLength(1);
      expect(
        lines.filter((l) => String(l.msg).startsWith('redis available again')),
        `instance ${i}`,
      ).toHaveLength(1);
      // Everyone still shows the change made during the outage.
      const card = await s.execute(NAME, { u: target.userid });
      expect(card.data).toEqual({ user: { name: renamed } });
    }
  }, 90_000);
});
