import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { describe } from 'vitest';
import { freePort } from './service-process.ts';

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

/**
 * A redis-server of a test's own, in a child process on a free loopback port, that the test can
 * stop and start again on the same port (an outage). Needs the `redis-server` binary, which is
 * there wherever REDIS_URL is (.ci/run installs it).
 */
export class RedisServerProcess {
  private proc: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<RedisServerProcess> {
    const server = new RedisServerProcess(await freePort());
    await server.restart();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server (again) on its port and waits until it answers PING. */
  async restart(): Promise<void> {
    if (this.proc) throw new Error('redis-server is running already');
    const proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    this.proc = proc;
    const client = new Redis(this.url, { maxRetriesPerRequest: 0, retryStrategy: () => 50, lazyConnect: true });
    client.on('error', () => undefined); // refused until it listens: expected
    try {
      const until = Date.now() + 10_000;
      for (;;) {
        if (proc.exitCode !== null) throw new Error(`redis-server exited with code ${proc.exitCode} (is port ${this.port} taken?)`);
        try {
          if (client.status === 'wait') await client.connect();
          if ((await client.ping()) === 'PONG') return;
        } catch {
          // not up yet
        }
        if (Date.now() > until) throw new Error('redis-server did not answer PING within 10 s');
        await sleep(50);
      }
    } finally {
      client.disconnect();
    }
  }

  /** Stops the server (its data is gone: nothing is persisted). */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    this.proc = undefined;
    if (proc.exitCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
  }
}
