import { expect } from 'vitest';
import { type ServiceProcess, freePort } from '../helpers/service-process.ts';
import { describeWithRedis } from '../helpers/redis.ts';
import { FLEET_START_MS, fleetTest } from '../testkit/fleet.ts';
import { generateApiKey, hashApiKey } from '../../src/auth/api-keys.ts';
import { ALL_SCOPE_NAMES } from '../../src/auth/scopes.ts';
import { fleetCallerBudgets } from '../../src/redis/caller-limits.ts';
import { createCommandConnection } from '../../src/redis/connection.ts';
import { RedisFallbacks } from '../../src/redis/fallbacks.ts';

/**
 * Per-caller limits counted for the fleet: a caller limited to 30 requests a minute (bursts of 30)
 * gets 30 of 60 requests sent across three instances, not 60 (per instance, each would have
 * allowed 30); the mutation budget likewise; other callers keep their own budgets; and without
 * Redis each instance falls back to its own buckets.
 */

const PORTAL = generateApiKey();
const OTHER = generateApiKey();

const it = fleetTest({
  size: 3,
  env: {
    API_KEYS: JSON.stringify([
      { id: 'portal', hash: hashApiKey(PORTAL), scopes: ALL_SCOPE_NAMES },
      { id: 'other', hash: hashApiKey(OTHER), scopes: ALL_SCOPE_NAMES },
    ]),
    RATE_LIMIT_PER_MINUTE: '30',
    RATE_LIMIT_BURST: '30',
    MUTATION_RATE_LIMIT_PER_MINUTE: '3',
    MUTATION_RATE_LIMIT_BURST: '3',
  },
});

describeWithRedis('caller limits across the fleet', () => {
  it.beforeAll(async ({ fleet: _started }) => {}, FLEET_START_MS);

  const post = (service: ServiceProcess, key: string, query: string) =>
    fetch(`${service.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify({ query }),
    });

  it('a caller limited to 30 a minute gets 30 of 60 requests sent across three instances; another caller is not affected', async ({
    fleet,
  }) => {
    const responses = await Promise.all(Array.from({ length: 60 }, (_, i) => post(fleet[i % 3]!, PORTAL, '{ __typename }')));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(30);
    expect(statuses.filter((s) => s === 429)).toHaveLength(30);
    const refused = responses.find((r) => r.status === 429)!;
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(((await refused.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('RATE_LIMITED');
    // Each instance served some of them: the budget was shared, not one instance's.
    for (let i = 0; i < 3; i++) expect(responses.some((r, j) => j % 3 === i && r.status === 200)).toBe(true);

    const other = await Promise.all(fleet.map((s) => post(s, OTHER, '{ __typename }')));
    expect(other.map((r) => r.status)).toEqual([200, 200, 200]);
  });

  it('the mutation budget (3 a minute) is the fleet’s too', async ({ fleet, wecom }) => {
    // Refused by validation after the budget is charged: no member is touched, WeCom is not called.
    const mutation = 'mutation { deleteUser(userid: "no such member!") { __typename } }';
    await wecom.resetStats();
    const answers = await Promise.all(
      Array.from(
        { length: 6 },
        async (_, i) =>
          (await post(fleet[i % 3]!, OTHER, mutation)).json() as Promise<{ data?: unknown; errors?: { extensions: { code: string } }[] }>,
      ),
    );
    const limited = answers.filter((a) => a.errors?.[0]?.extensions.code === 'RATE_LIMITED');
    const ran = answers.filter((a) => a.data && !a.errors);
    expect([ran.length, limited.length]).toEqual([3, 3]);
    expect((await wecom.stats()).calls['/cgi-bin/user/delete']).toBeUndefined();
  });

  it('without Redis, each instance keeps to its own budget and says so', async ({ prefix }) => {
    const logs: string[] = [];
    const fallbacks = new RedisFallbacks({ warn: (_o, msg) => logs.push(msg), info: () => undefined });
    const unreachable = createCommandConnection(`redis://127.0.0.1:${await freePort()}`, { warn: () => undefined });
    try {
      const budget = fleetCallerBudgets(unreachable, { prefix, fallbacks })('requests', 30, 30);
      const waits = [];
      for (let i = 0; i < 31; i++) waits.push(await budget.take('caller'));
      expect(waits.slice(0, 30)).toEqual(Array(30).fill(0));
      expect(waits[30]).toBeGreaterThanOrEqual(1);
      expect(fallbacks.snapshot()).toEqual({ 'caller-limits': 31 });
      expect(logs).toHaveLength(1);
    } finally {
      unreachable.disconnect();
    }
  });
});
