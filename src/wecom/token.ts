/**
 * Access tokens, one per (corpid, secret) (docs/wecom-api.md §1): cached with a TTL of `expires_in`
 * minus a safety margin, fetched once however many callers are waiting (single flight), dropped
 * when WeCom says a token is invalid or expired (40014 / 42001), and never refetched in a loop
 * when the configuration is wrong (40001, 40013, 41002, 41004 …).
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { WeComConfigError, WeComError } from './errors.ts';

export interface StoredToken {
  accessToken: string;
  /** Epoch ms after which the token must not be used (expiry minus the safety margin). */
  expiresAtMs: number;
}

/**
 * Where tokens live. The in-process store is an LRU; a shared store (Redis) implements the same
 * three calls so that several instances of the service share one token per secret.
 * Keys are opaque hashes: a store never sees a secret.
 */
export interface TokenStore {
  get(key: string): Promise<StoredToken | undefined> | StoredToken | undefined;
  set(key: string, token: StoredToken): Promise<void> | void;
  /** Deletes the entry only if it still holds `accessToken` (a fresher token is kept). */
  deleteIf(key: string, accessToken: string): Promise<void> | void;
  /**
   * Optional, for stores shared by several instances: runs `refresh` (one gettoken) under a lock
   * all of them respect and stores its token, or returns the token another instance stored while
   * this one waited, so all instances together make one gettoken per expiry. Without it, the
   * manager calls `refresh` itself and `set`s the result (single flight within this process only).
   */
  refreshExclusively?(key: string, refresh: () => Promise<StoredToken>): Promise<StoredToken>;
}

/** The default store: lru-cache with a per-entry TTL. */
export class LruTokenStore implements TokenStore {
  private readonly cache: LRUCache<string, StoredToken>;

  constructor(
    private readonly now: () => number = Date.now,
    max = 100,
  ) {
    this.cache = new LRUCache<string, StoredToken>({ max, ttlAutopurge: false, allowStale: false });
  }

  get(key: string): StoredToken | undefined {
    const token = this.cache.get(key);
    // The injected clock decides expiry too (lru-cache's own TTL uses the real clock).
    if (token && token.expiresAtMs <= this.now()) {
      this.cache.delete(key);
      return undefined;
    }
    return token;
  }

  set(key: string, token: StoredToken): void {
    this.cache.set(key, token, { ttl: Math.max(1, token.expiresAtMs - this.now()) });
  }

  deleteIf(key: string, accessToken: string): void {
    if (this.cache.peek(key)?.accessToken === accessToken) this.cache.delete(key);
  }
}

/** What gettoken answered. */
export interface FetchedToken {
  accessToken: string;
  expiresIn: number;
}

/** Calls gettoken for a secret (through the client's transport, scheduler and retries). */
export type TokenFetcher = (secret: string) => Promise<FetchedToken>;

export interface TokenManagerOptions {
  corpId: string;
  fetch: TokenFetcher;
  store?: TokenStore;
  /** Subtracted from `expires_in` so a token is never used in its last moments (default 5 min). */
  safetyMarginMs?: number;
  /** How long a configuration error is remembered before gettoken is tried again (default 60 s). */
  configErrorCooldownMs?: number;
  now?: () => number;
  onRefresh?(event: { secretKind: string; ok: boolean; durationMs: number; errcode?: number }): void;
}

export const DEFAULT_TOKEN_SAFETY_MARGIN_MS = 5 * 60_000;
/**
 * A wrong secret called again and again gets the calling IP blocked for an hour (docs/wecom-api.md §1),
 * so a configuration error is remembered and answered locally for a while.
 */
export const DEFAULT_CONFIG_ERROR_COOLDOWN_MS = 60_000;

export class TokenManager {
  private readonly store: TokenStore;
  private readonly inflight = new Map<string, Promise<string>>();
  private readonly configErrors = new Map<string, { error: WeComConfigError; untilMs: number }>();
  private readonly keys = new Map<string, string>();
  private readonly now: () => number;
  private readonly safetyMarginMs: number;
  private readonly cooldownMs: number;
  /** gettoken calls made (observability). */
  refreshes = 0;

  constructor(private readonly options: TokenManagerOptions) {
    this.now = options.now ?? Date.now;
    this.store = options.store ?? new LruTokenStore(this.now);
    this.safetyMarginMs = options.safetyMarginMs ?? DEFAULT_TOKEN_SAFETY_MARGIN_MS;
    this.cooldownMs = options.configErrorCooldownMs ?? DEFAULT_CONFIG_ERROR_COOLDOWN_MS;
  }

  /**
   * A valid token for `secret`: from the store, or from one gettoken shared by every concurrent
   * caller. `secretKind` only labels events.
   */
  async get(secret: string, secretKind: string): Promise<string> {
    const key = this.keyOf(secret);
    const stored = await this.store.get(key);
    if (stored && stored.expiresAtMs > this.now()) return stored.accessToken;
    const remembered = this.configErrors.get(key);
    if (remembered && remembered.untilMs > this.now()) throw remembered.error;
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.refresh(key, secret, secretKind).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  /** Drops `accessToken` after WeCom refused it (40014 / 42001); a fresher cached token is kept. */
  async invalidate(secret: string, accessToken: string): Promise<void> {
    await this.store.deleteIf(this.keyOf(secret), accessToken);
  }

  private async refresh(key: string, secret: string, secretKind: string): Promise<string> {
    // Another instance (shared store) or an earlier flight may have refreshed it meanwhile.
    const stored = await this.store.get(key);
    if (stored && stored.expiresAtMs > this.now()) return stored.accessToken;
    const fetchOne = () => this.fetchAndReport(key, secret, secretKind);
    if (this.store.refreshExclusively) return (await this.store.refreshExclusively(key, fetchOne)).accessToken;
    const token = await fetchOne();
    await this.store.set(key, token);
    return token.accessToken;
  }

  /** One gettoken, counted and reported; the caller stores the token. */
  private async fetchAndReport(key: string, secret: string, secretKind: string): Promise<StoredToken> {
    const started = this.now();
    this.refreshes++;
    try {
      const fetched = await this.options.fetch(secret);
      const lifetimeMs = fetched.expiresIn * 1000;
      // Keep at least half the lifetime when WeCom hands out a short-lived token.
      const ttlMs = Math.max(lifetimeMs - this.safetyMarginMs, lifetimeMs / 2);
      this.configErrors.delete(key);
      this.options.onRefresh?.({ secretKind, ok: true, durationMs: this.now() - started });
      return { accessToken: fetched.accessToken, expiresAtMs: this.now() + ttlMs };
    } catch (err) {
      if (err instanceof WeComConfigError) this.configErrors.set(key, { error: err, untilMs: this.now() + this.cooldownMs });
      this.options.onRefresh?.({
        secretKind,
        ok: false,
        durationMs: this.now() - started,
        ...(err instanceof WeComError && 'errcode' in err && typeof err.errcode === 'number' ? { errcode: err.errcode } : {}),
      });
      throw err;
    }
  }

  /** A store key that identifies (corpid, secret) without revealing the secret. */
  private keyOf(secret: string): string {
    let key = this.keys.get(secret);
    if (!key) {
      const digest = createHash('sha256').update(`${this.options.corpId}\n${secret}`).digest('hex').slice(0, 32);
      key = `wecom:token:${digest}`;
      this.keys.set(secret, key);
    }
    return key;
  }
}
