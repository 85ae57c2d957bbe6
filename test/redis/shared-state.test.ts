import { expect } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { RedisTokenStore } from '../../src/redis/token-store.ts';
import { RedisRateBudget } from '../../src/redis/rate-budget.ts';
import { RedisReplayGuard } from '../../src/redis/replay-guard.ts';
import { ChangeBridge } from '../../src/redis/change-bridge.ts';
import { RedisFallbacks } from '../../src/redis/fallbacks.ts';
import { createCommandConnection, createSubscriberConnection, whenReady } from '../../src/redis/connection.ts';
import { ChangeBus, type DirectoryChange } from '../../src/directory/changes.ts';
import { ChangeFeed, DEFAULT_CHANGE_FEED_OPTIONS } from '../../src/directory/change-feed.ts';
import { ChangeView } from '../../src/directory/change-view.ts';
import { createWeComClient } from '../../src/wecom/client.ts';
import type { StoredToken } from '../../src/wecom/token.ts';
import type { SharedRateBudget } from '../../src/wecom/scheduler.ts';
import { EmulatorHarness } from 'wecom-emulator/testing';
import { freePort } from '../helpers/service-process.ts';
import { REDIS_URL, describeWithRedis } from '../helpers/redis.ts';
import { redisTest } from '../testkit/fleet.ts';

/**
 * The pieces several instances share through Redis, each against a real redis-server: the token
 * lock, the sliding-window rate budget, callback de-duplication, the change broadcast, and what
 * each does while Redis is unreachable.
 */

const silent = { warn: () => undefined, info: () => undefined };
const fallbacks = () => new RedisFallbacks(silent);

const it = redisTest
  // Every connection a test opens, closed when the file ends.
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter, which must be a destructuring pattern
  .extend('connections', { scope: 'file' }, async ({}, { onCleanup }) => {
    const connections: Redis[] = [];
    onCleanup(() => {
      for (const c of connections) c.disconnect();
    });
    return connections;
  })
  /** A connection ready to use (the command connection does not queue while connecting); through `redis`, whose clean-up deletes the keys. */
  .extend('connect', { scope: 'file' }, async ({ connections, redis: _cleansUp }) => {
    const ready: Redis[] = [];
    for (let i = 0; i < 8; i++) {
      const c = createCommandConnection(REDIS_URL!, silent);
      connections.push(c);
      expect(await whenReady(c)).toBe(true);
      ready.push(c);
    }
    let next = 0;
    return () => ready[next++ % ready.length]!;
  });

describeWithRedis('state shared through Redis', () => {
  it('token store: of several instances refreshing at once, one calls gettoken and all get its token', async ({
    redis,
    prefix,
    connect,
  }) => {
    const stores = Array.from(
      { length: 5 },
      () => new RedisTokenStore(connect(), { prefix, logger: silent, fallbacks: fallbacks(), pollMs: 10 }),
    );
    let refreshes = 0;
    const refresh = async (): Promise<StoredToken> => {
      refreshes++;
      await sleep(100);
      return { accessToken: `token-${refreshes}`, expiresAtMs: Date.now() + 60_000 };
    };
    const tokens = await Promise.all(stores.map((s) => s.refreshExclusively('k1', refresh)));
    expect(refreshes).toBe(1);
    expect(tokens.map((t) => t.accessToken)).toEqual(Array(5).fill('token-1'));
    expect(await redis.pttl(`${prefix}k1`)).toBeGreaterThan(55_000);
    expect(await redis.exists(`${prefix}k1:lock`)).toBe(0); // released
  });

  it('token store: when the lock holder’s gettoken fails, the next instance tries its own', async ({ redis, prefix, connect }) => {
    const [first, second] = [0, 1].map(
      () => new RedisTokenStore(connect(), { prefix, logger: silent, fallbacks: fallbacks(), pollMs: 10 }),
    );
    let calls = 0;
    const failing = async (): Promise<StoredToken> => {
      calls++;
      await sleep(50);
      throw new Error('gettoken failed');
    };
    const working = async (): Promise<StoredToken> => {
      calls++;
      return { accessToken: 'second', expiresAtMs: Date.now() + 60_000 };
    };
    const one = first!.refreshExclusively('k2', failing);
    while (!(await redis.exists(`${prefix}k2:lock`))) await sleep(2); // the first holds the lock
    const two = second!.refreshExclusively('k2', working);
    await expect(one).rejects.toThrow('gettoken failed');
    expect((await two).accessToken).toBe('second');
    expect(calls).toBe(2);
  });

  it('token store: deleteIf drops the refused token but keeps a fresher one', async ({ prefix, connect }) => {
    const store = new RedisTokenStore(connect(), { prefix, logger: silent, fallbacks: fallbacks() });
    await store.set('k3', { accessToken: 'fresh', expiresAtMs: Date.now() + 60_000 });
    await store.deleteIf('k3', 'old');
    expect((await store.get('k3'))?.accessToken).toBe('fresh');
    await store.deleteIf('k3', 'fresh');
    expect(await store.get('k3')).toBeUndefined();
  });

  it('rate budget: a sliding window shared by instances, with the wait until the oldest call leaves it', async ({ prefix, connect }) => {
    const [one, two] = [0, 1].map(() => new RedisRateBudget(connect(), { prefix, corpId: 'wwtest', fallbacks: fallbacks() }));
    const windowMs = 400;
    const takes = [
      await one!.take('/cgi-bin/user/get', 3, windowMs),
      await two!.take('/cgi-bin/user/get', 3, windowMs),
      await one!.take('/cgi-bin/user/get', 3, windowMs),
    ];
    expect(takes).toEqual([0, 0, 0]);
    const wait = await two!.take('/cgi-bin/user/get', 3, windowMs);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(windowMs);
    // Another endpoint has a budget of its own.
    expect(await two!.take('/cgi-bin/user/list', 3, windowMs)).toBe(0);
    await sleep(wait + 5);
    expect(await two!.take('/cgi-bin/user/get', 3, windowMs)).toBe(0);
  });

  it('rate budget: two clients together start no more calls per window than the budget', async ({ prefix, connect }) => {
    const wecom = await EmulatorHarness.start();
    try {
      const windowMs = 400;
      const budget = 3;
      const starts: number[] = [];
      // When the shared budget admitted each user/get (the client sends it right after).
      const admitting = (inner: RedisRateBudget): SharedRateBudget => ({
        take: async (path, n, w) => {
          const wait = await inner.take(path, n, w);
          if (wait === 0 && path === '/cgi-bin/user/get') starts.push(Date.now());
          return wait;
        },
      });
      const clients = [0, 1].map(() =>
        createWeComClient({
          baseUrl: wecom.url,
          corpId: wecom.creds.corpId,
          secrets: { contact: wecom.creds.contactSecret },
          rateBudget: { '/cgi-bin/user/get': budget },
          rateLimitWindowMs: windowMs,
          sharedRateBudget: admitting(new RedisRateBudget(connect(), { prefix, corpId: wecom.creds.corpId, fallbacks: fallbacks() })),
        }),
      );
      const ids = (await wecom.asContact('user/list_id', { body: { limit: 12 } })).json.dept_user.map(
        (u: { userid: string }) => u.userid,
      ) as string[];
      await Promise.all(clients.map((c) => c.users.get(ids[0]!))); // tokens, outside the measurement
      await wecom.resetStats();
      starts.length = 0;
      const began = Date.now();
      await Promise.all(ids.map((id, i) => clients[i % 2]!.users.get(id)));
      const elapsed = Date.now() - began;
      expect((await wecom.stats()).calls['/cgi-bin/user/get']).toBe(12);
      // The first window had 2 of its 3 calls taken by the warm-up: 12 calls need ≥ 4 more windows.
      expect(elapsed).toBeGreaterThanOrEqual(3 * windowMs);
      starts.sort((x, y) => x - y);
      expect(starts).toHaveLength(12);
      // No window holds more than the budget. Redis's clock decides; this process sees each
      // admission a little late (the emulator shares its event loop), hence some slack. Going over
      // the budget would show as gaps near 0.
      for (let i = budget; i < starts.length; i++) expect(starts[i]! - starts[i - budget]!).toBeGreaterThanOrEqual(windowMs - 50);
      await Promise.all(clients.map((c) => c.close()));
    } finally {
      await wecom.close();
    }
  });

  it('callback de-duplication: the second instance to see a signed request knows it is a repeat', async ({ redis, prefix, connect }) => {
    const guards = [0, 1].map(
      () => new RedisReplayGuard(connect(), { prefix, corpId: 'wwtest', windowSeconds: 600, fallbacks: fallbacks() }),
    );
    const signature = 'a'.repeat(40);
    expect(await guards[0]!.isRepeat(signature)).toBe(false);
    expect(await guards[1]!.isRepeat(signature)).toBe(true);
    expect(await guards[1]!.isRepeat('b'.repeat(40))).toBe(false);
    expect(await redis.ttl(`${prefix}callback:wwtest:${signature}`)).toBeGreaterThan(590);
  });

  it('change broadcast: every other bus hears a change once, and nothing echoes back', async ({ redis, prefix, connect, connections }) => {
    const buses = [new ChangeBus(), new ChangeBus(), new ChangeBus()];
    const heard: DirectoryChange[][] = buses.map(() => []);
    const bridges = buses.map((bus, i) => {
      bus.subscribe((c) => heard[i]!.push(c));
      const sub = createSubscriberConnection(REDIS_URL!, silent);
      connections.push(sub);
      return new ChangeBridge(connect(), sub, { prefix, corpId: 'wwtest', logger: silent, fallbacks: fallbacks() });
    });
    await Promise.all(bridges.map((bridge, i) => bridge.attach(buses[i]!)));
    const change: DirectoryChange = { kind: 'TAG_MEMBERS_CHANGED', tagId: 3, addedUserids: ['lisi'], source: 'mutation' };
    buses[0]!.publish(change);
    // Junk on the channel is ignored.
    await redis.publish(`${prefix}changes:wwtest`, 'not json');
    await sleep(200);
    expect(heard[0]).toEqual([change]);
    expect(heard[1]).toEqual([change]);
    expect(heard[2]).toEqual([change]);
    expect(bridges.map((b) => b.stats())).toEqual([
      { published: 1, received: 0, malformed: 1 },
      { published: 0, received: 1, malformed: 1 },
      { published: 0, received: 1, malformed: 1 },
    ]);
    for (const bridge of bridges) bridge.detach();
  });

  it('change broadcast: a department view on another instance numbers the changes it hears like its own', async ({
    prefix,
    connect,
    connections,
  }) => {
    const [here, there] = [new ChangeBus(), new ChangeBus()];
    const bridges = [here, there].map((bus) => {
      const sub = createSubscriberConnection(REDIS_URL!, silent);
      connections.push(sub);
      const bridge = new ChangeBridge(connect(), sub, {
        prefix: `${prefix}view:`,
        corpId: 'wwtest',
        logger: silent,
        fallbacks: fallbacks(),
      });
      return { bus, bridge };
    });
    await Promise.all(bridges.map(({ bus, bridge }) => bridge.attach(bus)));
    // The other instance's feed, read through a view that shows members of department 2 only.
    const view = new ChangeView(new ChangeFeed(there, DEFAULT_CHANGE_FEED_OPTIONS));
    const inside = async (changes: readonly { change: DirectoryChange }[]) =>
      changes.map(({ change }) => ('departmentIds' in change && change.departmentIds?.includes(2) ? change : null));
    const stream = await view.stream({}, inside);
    const move = (userid: string, department: number): DirectoryChange => ({
      kind: 'USER_UPDATED',
      userid,
      departmentIds: [department],
      source: 'mutation',
    });
    for (const change of [move('a', 9), move('b', 2), move('c', 9), move('d', 2)]) here.publish(change);
    const heard = [(await stream.next()).value!, (await stream.next()).value!];
    expect(heard.map((c) => [c.sequence, (c.change as { userid: string }).userid])).toEqual([
      [1, 'b'],
      [2, 'd'],
    ]);
    await stream.return();
    for (const { bridge } of bridges) bridge.detach();
  });

  it('without Redis, each piece falls back to this process alone and says so', async ({ prefix, connections }) => {
    const port = await freePort(); // nothing listens there
    const unreachable = createCommandConnection(`redis://127.0.0.1:${port}`, silent);
    connections.push(unreachable);
    const shared = fallbacks();
    const store = new RedisTokenStore(unreachable, { prefix, logger: silent, fallbacks: shared });
    let refreshes = 0;
    const token = await store.refreshExclusively('k9', async () => ({ accessToken: `t${++refreshes}`, expiresAtMs: Date.now() + 60_000 }));
    expect(token.accessToken).toBe('t1');
    expect((await store.get('k9'))?.accessToken).toBe('t1'); // from this process's own copy
    const budget = new RedisRateBudget(unreachable, { prefix, corpId: 'wwtest', fallbacks: shared });
    expect(await budget.take('/cgi-bin/user/get', 1, 60_000)).toBe(0);
    const guard = new RedisReplayGuard(unreachable, { prefix, corpId: 'wwtest', windowSeconds: 60, fallbacks: shared });
    expect(await guard.isRepeat('c'.repeat(40))).toBe(false);
    expect(await guard.isRepeat('c'.repeat(40))).toBe(true);
    expect(Object.keys(shared.snapshot()).sort()).toEqual(['callback-dedup', 'rate-budget', 'token-store']);
  });
});
