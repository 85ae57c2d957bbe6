import { expect } from 'vitest';
import { graphql } from '../generated/index.ts';
import { type ServiceProcess, metricValue } from '../helpers/service-process.ts';
import { SseSubscription } from '../helpers/sse.ts';
import { CallbackSender } from '../helpers/callback-sender.ts';
import { describeWithRedis } from '../helpers/redis.ts';
import { FLEET_START_MS, fleetTest } from '../testkit/fleet.ts';

/**
 * Two instances of the service, each `src/main.ts` in its own process configured only through
 * its environment, sharing one Redis and one WeCom (the emulator): together they make one
 * gettoken per token lifetime, keep to one rate budget, de-duplicate callbacks, and a change made
 * through one reaches the other's cache and its subscribers.
 */

/** tag/get's budget for these tests: calls per minute for both instances together. */
const TAG_GET_BUDGET = 4;

// Two instances, on the contacts-sync secret only: every call uses one token, so gettokens count exactly.
const it = fleetTest({ size: 2, env: { WECOM_RATE_BUDGET: `/cgi-bin/tag/get=${TAG_GET_BUDGET}` } })
  .extend('a', { scope: 'file' }, async ({ fleet }) => fleet[0]!)
  .extend('b', { scope: 'file' }, async ({ fleet }) => fleet[1]!)
  .extend('freshEmulator', { auto: true }, async ({ wecom }) => {
    await wecom.clearFaults();
    await wecom.resetStats();
  });

const USER_IDS = graphql(`query FleetUserIds($first: Int!) { userIds(first: $first) { nodes { userid } } }`);
const TAG = graphql(`query FleetTag($id: Int!) { tag(id: $id) { tagId users { userid } } }`);
const READ = graphql(`query FleetUserName($u: String!) { user(userid: $u) { userid name } }`);
const RENAME = graphql(
  `mutation FleetRenameAcross($input: UpdateUserInput!) { updateUser(input: $input) { __typename ... on MutationUpdateUserSuccess { data { name } } } }`,
);

describeWithRedis('several instances on one Redis', () => {
  it.beforeAll(async ({ fleet: _started }) => {}, FLEET_START_MS);

  it('makes one gettoken between them, and one more when WeCom expires the token', async ({ a, b, wecom }) => {
    // user/list_id with page sizes never asked before (a repeat would come from the response
    // cache): every one of these reaches WeCom with a token.
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 ? a : b).execute(USER_IDS, { first: i + 1 })));
    for (const r of results) expect(r.errors).toBeUndefined();
    let stats = await wecom.stats();
    expect(stats.calls['/cgi-bin/user/list_id']).toBe(16);
    expect(stats.calls['/cgi-bin/gettoken']).toBe(1);
    const refreshes = async () =>
      metricValue(await a.metrics(), 'wecom_token_refreshes_total', { outcome: 'ok' }) +
      metricValue(await b.metrics(), 'wecom_token_refreshes_total', { outcome: 'ok' });
    expect(await refreshes()).toBe(1);

    // WeCom invalidates the token: both instances hear 42001, and one of them fetches the next.
    await wecom.faults({ expireTokens: true });
    await wecom.resetStats();
    const after = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).execute(USER_IDS, { first: 100 + i })));
    for (const r of after) expect(r.errors).toBeUndefined();
    stats = await wecom.stats();
    expect(stats.calls['/cgi-bin/gettoken']).toBe(1);
    // Whoever heard 42001 first fetched the next token; the other may have found it in Redis already.
    expect(stats.errors['42001']).toBeGreaterThanOrEqual(1);
    expect(await refreshes()).toBe(2);
  });

  it('keeps to one rate budget together: no more calls reach WeCom than the budget allows', async ({ a, b, wecom, redis, prefix }) => {
    // The emulator enforces the same limit: a call beyond it would be answered 45009.
    await wecom.faults({ rateLimitPerMinute: { '/cgi-bin/tag/get': TAG_GET_BUDGET } });
    const tagIds = (await wecom.asContact('tag/list')).json.taglist.map((t: { tagid: number }) => t.tagid) as number[];
    expect(tagIds.length).toBeGreaterThanOrEqual(6);
    // Every tag asked of both instances: 2 × tags tag/get calls wanted, 4 allowed a minute.
    const results = await Promise.all(tagIds.flatMap((id) => [a.execute(TAG, { id }), b.execute(TAG, { id })]));
    const served = results.filter((r) => r.data?.tag?.users);
    const refused = results.filter((r) => r.errors?.length);
    // Each tag/get within the budget answers both instances (the shared directory cache: one
    // loads, the other reads its answer); the tags beyond it are refused on both.
    expect(served.length).toBe(2 * TAG_GET_BUDGET);
    expect(refused.length).toBe(results.length - 2 * TAG_GET_BUDGET);
    // Refused here, before WeCom: the wait for the shared budget would outlast the call's deadline.
    for (const r of refused) expect(r.errors![0]!.extensions).toMatchObject({ code: 'WECOM_UNAVAILABLE' });
    const stats = await wecom.stats();
    expect(stats.calls['/cgi-bin/tag/get']).toBe(TAG_GET_BUDGET);
    expect(stats.errors['45009']).toBeUndefined();
    // The window lives in Redis, per corp and endpoint.
    expect(await redis.zcard(`${prefix}rate:${wecom.creds.corpId}:/cgi-bin/tag/get`)).toBe(TAG_GET_BUDGET);
  });

  it('a mutation on one instance invalidates the other’s cache and reaches a subscriber on the other', async ({ a, b, wecom }) => {
    // Picked from WeCom itself, so B has read nothing about this member yet.
    const ids = await wecom.asContact('user/list_id', { body: { limit: 10 } });
    const userid = ids.json.dept_user[5].userid as string;

    await wecom.resetStats();
    const cold = await b.execute(READ, { u: userid });
    expect(cold.errors).toBeUndefined();
    const coldCalls = (await wecom.stats()).calls;
    expect(Object.keys(coldCalls).length).toBeGreaterThan(0);
    await wecom.resetStats();
    expect((await b.execute(READ, { u: userid })).data!.user!.name).toBe(cold.data!.user!.name);
    expect((await wecom.stats()).total).toBe(0); // served from B's cache

    const sub = await SseSubscription.open(
      fetch,
      `${b.url}/graphql`,
      'subscription { contactChanged { kind userid source changedFields } }',
    );
    try {
      const renamed = `改名-${Date.now() % 100000}`;
      const mutation = await a.execute(RENAME, { input: { userid, name: renamed } });
      expect(mutation.data!.updateUser).toEqual({ __typename: 'MutationUpdateUserSuccess', data: { name: renamed } });

      const event = await sub.next(5_000);
      expect(event!.data!.contactChanged).toEqual({ kind: 'USER_UPDATED', userid, source: 'MUTATION', changedFields: ['name'] });

      // B's cache dropped the member: its next read goes to WeCom again, as a cold read does.
      await wecom.resetStats();
      const fresh = await b.execute(READ, { u: userid });
      expect(fresh.data!.user).toEqual({ userid, name: renamed });
      expect((await wecom.stats()).calls).toEqual(coldCalls);
      expect(metricValue(await b.metrics(), 'redis_change_messages_total', { direction: 'received' })).toBeGreaterThanOrEqual(1);
    } finally {
      sub.close();
    }
  });

  it('processes a callback once when its retry reaches the other instance', async ({ a, b, wecom }) => {
    const creds = wecom.creds;
    const sender = new CallbackSender({ token: creds.callback.token, encodingAESKey: creds.callback.encodingAESKey, corpId: creds.corpId });
    const listener = await SseSubscription.open(
      fetch,
      `${a.url}/graphql`,
      'subscription { contactChanged(types: [DEPARTMENT_UPDATED]) { kind departmentId source } }',
    );
    try {
      const before = await Promise.all([a.metrics(), b.metrics()]);
      const signed = sender.post(sender.changeContact('update_party', { Id: 2, Name: '重命名' }));
      const post = (service: ServiceProcess) =>
        fetch(`${service.url}/wecom/callback?${new URLSearchParams(signed.query)}`, {
          method: 'POST',
          body: signed.body,
          headers: { 'content-type': 'text/xml' },
        });
      // WeCom's first attempt reaches B; its retry of the same signed request reaches A.
      const first = await post(b);
      expect([first.status, await first.text()]).toEqual([200, 'success']);
      const retry = await post(a);
      expect([retry.status, await retry.text()]).toEqual([200, 'success']);

      const after = await Promise.all([a.metrics(), b.metrics()]);
      const delta = (i: number, outcome: string) =>
        metricValue(after[i]!, 'wecom_callbacks_total', { outcome }) - metricValue(before[i]!, 'wecom_callbacks_total', { outcome });
      expect([delta(1, 'accepted'), delta(0, 'duplicate'), delta(0, 'accepted'), delta(1, 'duplicate')]).toEqual([1, 1, 0, 0]);

      // A's subscriber hears of the change once: from B, over Redis.
      const event = await listener.next(5_000);
      expect(event!.data!.contactChanged).toEqual({ kind: 'DEPARTMENT_UPDATED', departmentId: 2, source: 'CALLBACK' });
      await new Promise((r) => setTimeout(r, 300));
      expect(listener.pending()).toBe(0);
    } finally {
      listener.close();
    }
  });
});
