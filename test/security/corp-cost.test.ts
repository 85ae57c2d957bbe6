import { describe, expect } from 'vitest';
import { DEFAULT_QUERY_LIMITS } from '../../src/security/settings.ts';
import { graphql } from '../generated/index.ts';
import { serviceTest } from '../testkit/service.ts';
import { firstError, keysOnly, post, testKey, withKey } from './helpers.ts';

/**
 * Issue 14 item 3 / issue 13 item 3: the cost estimate knows the corp (it assumed 100 departments
 * and full pages everywhere, so a query that made a 50,000-member corp answer 13.6 MB in 27–49 s
 * was estimated at 990,101 on any corp); a query over the limit is refused before it runs, while
 * /healthz keeps answering; each caller gets a share of each endpoint's budget; answers and
 * execution time are bounded.
 */

const admin = testKey('admin', ['directory:read', 'directory:pii']);
const subtree = testKey('subtree', ['directory:read'], [2]);
const flooder = testKey('flooder', ['directory:read']);
const bystander = testKey('bystander', ['directory:read']);
const BIG = '{ departments { members(recursive: true, first: 300) { nodes { userid name departments { name parent { name } } } } } }';

// Lower than this demo corp's real estimate (a test on the large seed would take too long in CI).
const maxCost = 5_000;

const costIt = serviceTest(
  {
    listen: true,
    cache: {},
    responseCache: false,
    security: { ...keysOnly([admin, subtree]), limits: { ...DEFAULT_QUERY_LIMITS, maxCost } },
  },
  {
    resetStats: false,
    // The directory cache learns the tree and every member list.
    prepare: async (service) => {
      const warm = await post(service, { query: '{ departments { members { totalCount } } }' }, withKey(admin));
      expect(warm.body.errors).toBeUndefined();
    },
  },
);

const shareIt = serviceTest(
  {
    cache: {},
    responseCache: false,
    client: { rateBudget: { '/cgi-bin/user/get': 8 }, callerShare: 0.25 },
    security: keysOnly([flooder, bystander]),
  },
  { resetStats: false },
);

const boundsIt = serviceTest(
  {
    cache: {},
    responseCache: false,
    security: { ...keysOnly([admin]), limits: { ...DEFAULT_QUERY_LIMITS, maxResponseBytes: 2_048, maxExecutionMs: 300 } },
  },
  { resetStats: false },
);

describe("cost from the corp's real sizes", () => {
  costIt('the estimate follows what the corp holds, and is refused before anything runs', async ({ service, execute }) => {
    const sizes = await execute(
      graphql(`query CorpSizes { departments { id members(recursive: true) { totalCount } } }`),
      {},
      withKey(admin),
    );
    const members: number[] = sizes.data!.departments.map((d) => Math.min(300, d.members.totalCount));
    const rows = members.reduce((a, b) => a + b, 0);
    await service.wecom.resetStats();
    const res = await post(service, { query: BIG }, withKey(admin));
    expect(res.body.data).toBeUndefined();
    expect(firstError(res.body).extensions).toMatchObject({ code: 'QUERY_TOO_COSTLY', limit: maxCost });
    const cost = firstError(res.body).extensions.cost as number;
    expect(firstError(res.body).message).toBe(
      `The query's estimated cost is ${cost}; at most ${maxCost} is accepted (ask for smaller pages with first, or fewer nested lists)`,
    );
    // At least userid, name and departments per row; at most the rows times the fields of a row
    // with every member in 2 departments (the fixed guess gave 990,101 whatever the corp).
    expect(cost).toBeGreaterThanOrEqual(rows * 3);
    expect(cost).toBeLessThanOrEqual(members.length * 2 + rows * (3 + 2 * 4) + 1);
    expect((await service.wecom.stats()).total).toBe(0);
  });

  costIt('a caller limited to a subtree is estimated over that subtree only', async ({ service }) => {
    const [whole, part] = await Promise.all([
      post(service, { query: BIG }, withKey(admin)),
      post(service, { query: BIG }, withKey(subtree)),
    ]);
    expect(firstError(whole.body).extensions.code).toBe('QUERY_TOO_COSTLY');
    // Refused or not, department 2's subtree is estimated at less than the whole corp.
    const partCost = part.body.errors ? (firstError(part.body).extensions.cost as number) : 0;
    if (!part.body.errors) expect((part.body.data!.departments as unknown[]).length).toBeGreaterThan(0);
    expect(partCost).toBeLessThan(firstError(whole.body).extensions.cost as number);
  });

  costIt('three callers sending it at once are refused, and /healthz answers within 1 s meanwhile', async ({ service }) => {
    const started = performance.now();
    const big = Array.from({ length: 3 }, () => post(service, { query: BIG }, withKey(admin)));
    const health = fetch(`${service.url}/healthz`).then(async (r) => ({ status: r.status, ms: performance.now() - started }));
    const [answers, healthz] = await Promise.all([Promise.all(big), health]);
    for (const a of answers) expect(firstError(a.body).extensions.code).toBe('QUERY_TOO_COSTLY');
    expect(healthz.status).toBe(200);
    expect(healthz.ms).toBeLessThan(1_000);
  });
});

describe("each caller's share of an endpoint's budget", () => {
  shareIt("a caller that spends its share cannot spend the others'", async ({ service, execute }) => {
    await service.wecom.resetStats();
    const flood = await execute(
      graphql(`query FloodUsers($ids: [String!]!) { users(userids: $ids) { userid } }`),
      { ids: Array.from({ length: 8 }, (_, i) => `flood${i}`) },
      withKey(flooder),
    );
    // 2 of 8 (a quarter of the budget) reached WeCom; the rest were refused here, not there.
    expect((await service.calls())['/cgi-bin/user/get']).toBe(2);
    expect(firstError(flood).extensions.code).toBe('WECOM_UNAVAILABLE');
    const other = await execute(graphql(`query BystanderUser { user(userid: "xiegang") { userid } }`), {}, withKey(bystander));
    expect(other.errors).toBeUndefined();
    expect(other.data!.user!.userid).toBe('xiegang');
    expect((await service.calls())['/cgi-bin/user/get']).toBe(3);
  });
});

describe('answer size and execution time', () => {
  boundsIt('an answer larger than MAX_RESPONSE_BYTES is replaced by RESPONSE_TOO_LARGE', async ({ execute }) => {
    const res = await execute(graphql(`query WholeTree { departments { id name parentId } }`), {}, withKey(admin));
    expect(res.data).toBeUndefined();
    expect(firstError(res).extensions).toMatchObject({ code: 'RESPONSE_TOO_LARGE', limit: 2_048 });
    expect(firstError(res).extensions.bytes).toBeGreaterThan(2_048);
    const small = await execute(graphql(`query SmallAnswer { department(id: 1) { name } }`), {}, withKey(admin));
    expect(small.errors).toBeUndefined();
  });

  boundsIt(
    'a query running longer than MAX_EXECUTION_MS is answered with EXECUTION_TIMEOUT and makes no more WeCom calls',
    async ({ service, execute }) => {
      await service.app.cache?.invalidateAll();
      await service.wecom.faults({ latencyMs: 600 });
      try {
        await service.wecom.resetStats();
        const res = await execute(
          graphql(`query SlowMembers { department(id: 1) { members(recursive: true, first: 5) { nodes { userid } } } }`),
          {},
          withKey(admin),
        );
        expect(firstError(res).extensions).toMatchObject({ code: 'EXECUTION_TIMEOUT', limit: 300 });
        const at = (await service.wecom.stats()).total;
        await new Promise((r) => setTimeout(r, 1_500));
        // Only calls already under way when the time ran out (the stats call itself is not counted).
        expect((await service.wecom.stats()).total).toBe(at);
      } finally {
        await service.wecom.admin('/__emulator/faults', 'DELETE');
      }
    },
  );
});
