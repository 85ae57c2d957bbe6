import { userKey } from 'wecom-protocol/userid';
import { describe, expect } from 'vitest';
import { DEFAULT_QUERY_LIMITS } from '../../src/security/settings.ts';
import { graphql } from '../generated/index.ts';
import { serviceTest } from '../testkit/service.ts';
import { firstError, keysOnly, loggerInto, post, testKey, withKey } from './helpers.ts';

/**
 * Issue 14 item 2: one request could spend the corp's WeCom quota (20 aliases × 200 unknown ids
 * made 4,000 user/get calls; 20 × 400 openId fields 8,000 convert_to_openid calls), and two such
 * requests a minute left every caller's lookups failing. Now: the upstream calls a request may
 * cause are estimated and bounded before it runs (MAX_UPSTREAM_CALLS_PER_REQUEST), unknown userids
 * and openids are remembered across requests, each caller has a share of each endpoint's budget,
 * and a request logs one summary line, not one per failed call.
 */

const reader = testKey('reader', ['directory:read']);
const piiReader = testKey('pii', ['directory:read', 'directory:pii']);
const other = testKey('other', ['directory:read']);
/** What the service logged (the log's JSON lines). */
const lines: string[] = [];

const unknownIds = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const aliases = (n: number, field: (i: number) => string) =>
  `query(${Array.from({ length: n }, (_, i) => `$v${i}: [String!]!`).join(', ')}) { ${Array.from({ length: n }, (_, i) => `a${i}: ${field(i)}`).join(' ')} }`;

const logger = loggerInto(lines, 'info');

const it = serviceTest(
  { cache: {}, responseCache: false, logger, client: { logger }, security: keysOnly([reader, piiReader, other]) },
  { resetStats: false },
);

describe('upstream calls per request', () => {
  it('20 aliases × 200 unknown userids is refused before it runs, with the estimate in the error', async ({ service }) => {
    const variables = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`v${i}`, unknownIds(`ghost${i}.`, 200)]));
    await service.wecom.resetStats();
    const res = await post(service, { query: aliases(20, (i) => `users(userids: $v${i}) { userid name }`), variables }, withKey(reader));
    expect(res.body.data).toBeUndefined();
    expect(firstError(res.body).extensions).toMatchObject({
      code: 'TOO_MANY_UPSTREAM_CALLS',
      upstreamCalls: 4000,
      calls: { '/cgi-bin/user/get': 4000 },
      limit: DEFAULT_QUERY_LIMITS.maxUpstreamCalls,
    });
    expect(firstError(res.body).message).toBe(
      `The query may make 4000 WeCom calls (4000 × /cgi-bin/user/get); at most ${DEFAULT_QUERY_LIMITS.maxUpstreamCalls} are accepted per request (ask for fewer members by id, or fewer openId fields)`,
    );
    expect((await service.wecom.stats()).total).toBe(0);
  });

  it('the same ids under 20 aliases are one lookup each, and the next request asks WeCom nothing', async ({ service }) => {
    const ids = unknownIds('nobody.', 200);
    const variables = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`v${i}`, ids]));
    const query = aliases(20, (i) => `users(userids: $v${i}) { userid }`);
    await service.wecom.resetStats();
    const first = await post(service, { query, variables }, withKey(reader));
    expect(first.body.errors).toBeUndefined();
    expect(first.body.data!.a0).toEqual(ids.map(() => null));
    expect((await service.calls())['/cgi-bin/user/get']).toBe(200);
    await service.wecom.resetStats();
    const again = await post(service, { query, variables }, withKey(other));
    expect(again.body.errors).toBeUndefined();
    expect((await service.wecom.stats()).total).toBe(0);
  });

  it('nodes(ids:) counts its User ids the same way', async ({ service }) => {
    const ids = Array.from({ length: 20 }, (_, a) => unknownIds(`n${a}.`, 200).map((u) => Buffer.from(`User:${u}`).toString('base64')));
    const variables = Object.fromEntries(ids.map((list, i) => [`v${i}`, list]));
    const query = `query(${ids.map((_, i) => `$v${i}: [ID!]!`).join(', ')}) { ${ids.map((_, i) => `a${i}: nodes(ids: $v${i}) { id }`).join(' ')} }`;
    await service.wecom.resetStats();
    const res = await post(service, { query, variables }, withKey(reader));
    expect(firstError(res.body).extensions).toMatchObject({ code: 'TOO_MANY_UPSTREAM_CALLS', upstreamCalls: 4000 });
    expect((await service.wecom.stats()).total).toBe(0);
  });

  it('openId: refused beyond the bound, and remembered across requests (one convert_to_openid per member)', async ({
    service,
    execute,
  }) => {
    // Every member of the demo corp, named by id: more openIds than one request may look up.
    // The member lists are read first, so user/get is never needed (the directory cache has them).
    await execute(graphql(`query BudgetMemberLists { departments { members { totalCount } } }`), {}, withKey(reader));
    const all = await execute(graphql(`query BudgetUserIds { userIds(first: 1000) { nodes { userid } } }`), {}, withKey(reader));
    const userids: string[] = all.data!.userIds.nodes.map((n) => n.userid);
    expect(userids.length).toBeGreaterThan(DEFAULT_QUERY_LIMITS.maxUpstreamCalls);
    // WeCom userids are case-insensitive: one lookup per member, whatever the case asked for.
    const listed = [...new Map(userids.map((u) => [userKey(u), u])).values()].slice(0, 400);
    expect(listed.length).toBeGreaterThan(DEFAULT_QUERY_LIMITS.maxUpstreamCalls);
    const tooMany = aliases(2, (i) => `users(userids: $v${i}) { openId }`);
    await service.wecom.resetStats();
    const refused = await post(
      service,
      { query: tooMany, variables: { v0: listed.slice(0, 200), v1: listed.slice(200) } },
      withKey(piiReader),
    );
    expect(firstError(refused.body).extensions).toMatchObject({
      code: 'TOO_MANY_UPSTREAM_CALLS',
      calls: { '/cgi-bin/user/convert_to_openid': listed.length },
    });
    expect((await service.wecom.stats()).total).toBe(0);
    // 200 are within the bound: one call each.
    const many = await execute(
      graphql(`query BudgetOpenIds($ids: [String!]!) { users(userids: $ids) { openId } }`),
      { ids: listed.slice(0, 200) },
      withKey(piiReader),
    );
    expect(many.errors).toBeUndefined();
    expect((await service.wecom.stats()).calls['/cgi-bin/user/convert_to_openid']).toBe(200);
    await service.wecom.resetStats();
    // 20 aliases over the 200 remembered members: no call at all.
    const variables = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`v${i}`, listed.slice(0, 200)]));
    const again = await post(service, { query: aliases(20, (i) => `users(userids: $v${i}) { openId }`), variables }, withKey(piiReader));
    expect(again.body.errors).toBeUndefined();
    expect(again.body.data!.a19).toEqual(many.data!.users);
    expect((await service.wecom.stats()).calls['/cgi-bin/user/convert_to_openid']).toBeUndefined();
  });

  it('a request whose lookups fail logs one summary line, not one line per failed call', async ({ service, execute }) => {
    await service.wecom.faults({ errorRate: { '-1': 1 } });
    try {
      lines.length = 0;
      const res = await execute(
        graphql(`query BudgetFlaky($ids: [String!]!) { users(userids: $ids) { userid } }`),
        { ids: unknownIds('flaky.', 50) },
        withKey(reader),
      );
      expect(res.errors?.length).toBeGreaterThan(0);
    } finally {
      await service.wecom.admin('/__emulator/faults', 'DELETE');
    }
    const warnings = lines
      .map((l) => JSON.parse(l) as { level: number; msg: string; caller?: string; failedCalls?: number })
      .filter((l) => l.level >= 40);
    // Before: one warn line per failed call and per retry (150 here). Now: the summary, and the
    // GraphQL error Yoga reports for the request.
    expect(warnings.filter((l) => /^wecom call/.test(l.msg))).toEqual([]);
    const summaries = warnings.filter((l) => l.msg === 'request summary: some WeCom calls failed');
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({
      caller: 'api-key:reader',
      upstreamCalls: 50,
      calls: { '/cgi-bin/user/get': 50 },
      failures: { '/cgi-bin/user/get api': 50 },
    });
    expect(warnings.length).toBeLessThanOrEqual(2);
  });
});
