import { test } from 'vitest';
import { EmulatorHarness } from 'wecom-emulator/testing';
import { fleetEnvironment, startFleet } from '../helpers/fleet.ts';
import { REDIS_URL, RedisServerProcess, deleteKeys, testPrefix, testRedis } from '../helpers/redis.ts';

/**
 * Fixtures for the tests against a real Redis (test/redis/): a key `prefix` of the file's own and
 * a plain `redis` connection to REDIS_URL that deletes every key under the prefix when the file
 * ends, so files running in parallel never meet.
 */
export const redisTest = test
  .extend('prefix', { scope: 'file' }, () => testPrefix())
  .extend('redis', { scope: 'file' }, async ({ prefix }, { onCleanup }) => {
    const redis = testRedis();
    onCleanup(async () => {
      await deleteKeys(redis, prefix);
      redis.disconnect();
    });
    return redis;
  });

export interface FleetOptions {
  /** How many instances of src/main.ts. */
  size: number;
  /** Environment for every instance beyond fleetEnvironment's (limits, TTLs …). */
  env?: Record<string, string>;
  /**
   * A redis-server of the file's own (`redisServer`, which the test may stop and start again)
   * instead of REDIS_URL's.
   */
  ownRedis?: boolean;
}

/**
 * Starting instances takes longer than a test may (tsx compiles each at start): a file starts its
 * fleet before its tests with `it.beforeAll(async ({ fleet: _started }) => {}, FLEET_START_MS)`.
 */
export const FLEET_START_MS = 60_000;

/**
 * `wecom` (one emulator), `fleet` (`size` instances of src/main.ts in their own processes, on one
 * Redis and that emulator, started once per file: each costs seconds) and, when a test fails,
 * what every instance logged.
 */
export function fleetTest(options: FleetOptions) {
  return (
    redisTest
      // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter, which must be a destructuring pattern
      .extend('wecom', { scope: 'file' }, async ({}, { onCleanup }) => {
        const wecom = await EmulatorHarness.start();
        onCleanup(() => wecom.close());
        return wecom;
      })
      // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter, which must be a destructuring pattern
      .extend('redisServer', { scope: 'file' }, async ({}, { onCleanup }) => {
        const server = await RedisServerProcess.start();
        onCleanup(() => server.stop());
        return server;
      })
      .extend(
        'redisUrl',
        { scope: 'file' },
        options.ownRedis
          ? async ({ redisServer }) => redisServer.url
          : // Through `redis`, whose clean-up deletes what the fleet wrote under the prefix.
            async ({ redis: _cleansUp }) => REDIS_URL!,
      )
      .extend('fleet', { scope: 'file' }, async ({ wecom, redisUrl, prefix }, { onCleanup }) => {
        const fleet = await startFleet(options.size, fleetEnvironment(wecom, redisUrl, prefix, options.env));
        onCleanup(() => Promise.all(fleet.map((s) => s.stop())).then(() => undefined));
        return fleet;
      })
      .extend('fleetLogs', { auto: true }, async ({ fleet, onTestFailed }) => {
        // A failure is easier to read with what the instances logged.
        onTestFailed(() => {
          for (const [i, s] of fleet.entries()) console.log(`instance ${i}:\n${s.output}`);
        });
      })
  );
}
