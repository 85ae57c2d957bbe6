import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe } from 'vitest';

/**
 * Tests against a real redis-server. `.ci/run` installs and starts one and exports REDIS_URL.
 * Locally, without REDIS_URL, the Redis tests are skipped (with a message saying so); in CI
 * (CI=true) a missing REDIS_URL fails them instead, so they can never silently not run.
 */
export const REDIS_URL = process.env.REDIS_URL?.trim() || undefined;

if (!REDIS_URL && process.env.CI === 'true') {
  throw new Error('REDIS_URL is not set, but CI=true: the Redis tests must run in CI (.ci/run starts redis-server and exports REDIS_URL)');
}
if (!REDIS_URL) {
  console.warn('REDIS_URL is not set: skipping the Redis tests (start redis-server and set REDIS_URL=redis://127.0.0.1:6379 to run them)');
}

/** `describe` when Redis is there, `describe.skip` (named to say why) otherwise. */
export function describeWithRedis(name: string, body: () => void): void {
  if (REDIS_URL) describe(name, body);
  else describe.skip(`${name} (skipped: REDIS_URL is not set)`, body);
}

/** A key prefix of its own for one test, so test files running in parallel never meet. */
export function testPrefix(): string {
  return `test:${randomBytes(6).toString('hex')}:`;
}

/** A plain connection for a test to look at Redis with. */
export function testRedis(): Redis {
  return new Redis(REDIS_URL!, { maxRetriesPerRequest: 1 });
}

/** Deletes every key under `prefix`. */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}
