import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { LruTokenStore, type StoredToken, type TokenStore } from '../wecom/token.ts';
import type { RedisLogger } from './connection.ts';
import type { RedisFallbacks } from './fallbacks.ts';
import { RedisScript } from './script.ts';

/**
 * Access tokens shared by every instance (docs/wecom-api.md §1: one token per secret is valid at a
 * time for all callers, and each gettoken counts against the corp's limits). The token manager's
 * keys are already opaque hashes, so Redis never holds a secret; it holds the access token
 * itself, which is why REDIS_URL must point at a Redis only the service can read.
 *
 * The refresh lock (SET NX PX) makes one instance call gettoken per expiry; the others poll the
 * store until its token appears. A lock holder that dies frees the lock when it expires; one whose
 * gettoken fails frees it at once, and the next instance tries its own.
 *
 * While Redis is unreachable the store falls back to this process's own tokens (an LRU it keeps
 * up to date all along): more gettokens, but no failed requests. /readyz reports the outage.
 */

/** Longer than a gettoken can take (the client's deadline is 30 s by default). */
export const TOKEN_LOCK_TTL_MS = 30_000;
/** How often a waiting instance looks for the token another one is fetching. */
export const TOKEN_LOCK_POLL_MS = 50;

/** Deletes the key only if it still holds the given value (a lock we own; a token we saw fail). */
const DELETE_IF_EQUALS = new RedisScript(
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`,
);
/** Deletes the token only if it is still the refused one (a fresher token is kept). */
const DELETE_TOKEN_IF = new RedisScript(
  `local v = redis.call('GET', KEYS[1]) if v and cjson.decode(v).accessToken == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`,
);

export interface RedisTokenStoreOptions {
  /** Prepended to every key (REDIS_KEY_PREFIX). */
  prefix: string;
  logger: RedisLogger;
  fallbacks: RedisFallbacks;
  lockTtlMs?: number;
  pollMs?: number;
  now?: () => number;
}

export class RedisTokenStore implements TokenStore {
  private readonly now: () => number;
  private readonly lockTtlMs: number;
  private readonly pollMs: number;
  /** This process's copy of every token it stored or fetched: the fallback while Redis is away. */
  private readonly local: LruTokenStore;

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisTokenStoreOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.lockTtlMs = options.lockTtlMs ?? TOKEN_LOCK_TTL_MS;
    this.pollMs = options.pollMs ?? TOKEN_LOCK_POLL_MS;
    this.local = new LruTokenStore(this.now);
  }

  async get(key: string): Promise<StoredToken | undefined> {
    try {
      const raw = await this.redis.get(this.options.prefix + key);
      const token = raw ? parseToken(raw) : undefined;
      return token && token.expiresAtMs > this.now() ? token : undefined;
    } catch (err) {
      this.degraded('get', err);
      return this.local.get(key);
    }
  }

  async set(key: string, token: StoredToken): Promise<void> {
    this.local.set(key, token);
    const ttl = Math.floor(token.expiresAtMs - this.now());
    if (ttl <= 0) return;
    try {
      await this.redis.set(this.options.prefix + key, JSON.stringify(token), 'PX', ttl);
    } catch (err) {
      this.degraded('set', err);
    }
  }

  async deleteIf(key: string, accessToken: string): Promise<void> {
    this.local.deleteIf(key, accessToken);
    try {
      await DELETE_TOKEN_IF.run(this.redis, [this.options.prefix + key], [accessToken]);
    } catch (err) {
      this.degraded('deleteIf', err);
    }
  }

  async refreshExclusively(key: string, refresh: () => Promise<StoredToken>): Promise<StoredToken> {
    const lockKey = `${this.options.prefix}${key}:lock`;
    const owner = randomBytes(12).toString('hex');
    const waitUntil = this.now() + this.lockTtlMs;
    for (;;) {
      const stored = await this.get(key);
      if (stored) return stored;
      let locked: boolean;
      try {
        locked = (await this.redis.set(lockKey, owner, 'PX', this.lockTtlMs, 'NX')) === 'OK';
      } catch (err) {
        // No lock to be had: fetch here (this process's single flight still holds).
        this.degraded('lock', err);
        return this.fetchAndStore(key, refresh);
      }
      if (locked) {
        try {
          // The holder before us may have stored its token between our read and our lock.
          const fresh = await this.get(key);
          if (fresh) return fresh;
          return await this.fetchAndStore(key, refresh);
        } finally {
          await DELETE_IF_EQUALS.run(this.redis, [lockKey], [owner]).catch(() => undefined);
        }
      }
      if (this.now() >= waitUntil) {
        // The holder outlived its lock without storing a token (it died mid-refresh): fetch
        // here rather than stall; one gettoken too many is harmless.
        this.options.logger.warn({}, "waited a full lock period for another instance's access token; fetching one here");
        return this.fetchAndStore(key, refresh);
      }
      await sleep(this.pollMs);
    }
  }

  private async fetchAndStore(key: string, refresh: () => Promise<StoredToken>): Promise<StoredToken> {
    const token = await refresh();
    await this.set(key, token);
    return token;
  }

  private degraded(operation: string, err: unknown): void {
    this.options.fallbacks.report('token-store', operation, err, 'this instance uses its own access tokens');
  }
}

function parseToken(raw: string): StoredToken | undefined {
  try {
    const value: unknown = JSON.parse(raw);
    if (value && typeof value === 'object' && 'accessToken' in value && 'expiresAtMs' in value) {
      const { accessToken, expiresAtMs } = value as Record<string, unknown>;
      if (typeof accessToken === 'string' && typeof expiresAtMs === 'number') return { accessToken, expiresAtMs };
    }
  } catch {
    // not ours: treated as absent, and overwritten by the next refresh
  }
  return undefined;
}
