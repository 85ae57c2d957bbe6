import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { configErrorOf } from '../testkit/config.ts';

/** The cache, callback and change-feed variables of src/config/ (cache.ts, callback.ts). */

const KEY = 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C';

describe('cache settings', () => {
  it('default to on, 300 s fresh, 60 s stale, 100,000 entries, warmed at start within half the user/list budget, 64 MB of answers', () => {
    expect(loadConfig({}).cache).toEqual({
      enabled: true,
      ttlSeconds: 300,
      staleSeconds: 60,
      maxEntries: 100_000,
      warmUp: true,
      warmUpBudgetPercent: 50,
      responseCacheBytes: 64 * 1024 * 1024,
    });
  });

  it('read CACHE_ENABLED, CACHE_TTL_SECONDS, CACHE_STALE_SECONDS, CACHE_MAX_ENTRIES, RESPONSE_CACHE_MAX_MB', () => {
    expect(
      loadConfig({
        CACHE_ENABLED: 'false',
        CACHE_TTL_SECONDS: '30',
        CACHE_STALE_SECONDS: '0',
        CACHE_MAX_ENTRIES: '5000',
        RESPONSE_CACHE_MAX_MB: '16',
      }).cache,
    ).toEqual({
      enabled: false,
      ttlSeconds: 30,
      staleSeconds: 0,
      maxEntries: 5000,
      warmUp: true,
      warmUpBudgetPercent: 50,
      responseCacheBytes: 16 * 1024 * 1024,
    });
    expect(loadConfig({ RESPONSE_CACHE_MAX_MB: '0' }).cache.responseCacheBytes).toBe(0);
    expect(loadConfig({ CACHE_ENABLED: '0' }).cache.enabled).toBe(false);
    expect(loadConfig({ CACHE_ENABLED: 'true' }).cache.enabled).toBe(true);
  });

  it.each([
    [{ CACHE_ENABLED: 'maybe' }, 'CACHE_ENABLED'],
    [{ CACHE_TTL_SECONDS: '0' }, 'CACHE_TTL_SECONDS must be an integer from 1'],
    [{ CACHE_MAX_ENTRIES: '10' }, 'CACHE_MAX_ENTRIES'],
    [{ RESPONSE_CACHE_MAX_MB: '-1' }, 'RESPONSE_CACHE_MAX_MB'],
    [{ CHANGE_FEED_RETENTION_SECONDS: '5' }, 'CHANGE_FEED_RETENTION_SECONDS'],
  ])('refuses %j naming %s', (env, named) => {
    expect(configErrorOf(env)).toContain(named);
  });
});

describe('callback settings', () => {
  it('are absent unless both are set (the route then answers 404)', () => {
    expect(loadConfig({}).callback).toBeUndefined();
    expect(loadConfig({ WECOM_CALLBACK_TOKEN: 'QDG6eK', WECOM_CALLBACK_AES_KEY: KEY }).callback).toEqual({
      token: 'QDG6eK',
      encodingAESKey: KEY,
    });
  });

  it.each([
    [{ WECOM_CALLBACK_TOKEN: 'QDG6eK' }, 'WECOM_CALLBACK_AES_KEY: required'],
    [{ WECOM_CALLBACK_AES_KEY: KEY }, 'WECOM_CALLBACK_TOKEN: required'],
    [
      { WECOM_CALLBACK_TOKEN: 'QDG6eK', WECOM_CALLBACK_AES_KEY: `${KEY}X` },
      'WECOM_CALLBACK_AES_KEY: must be exactly 43 letters or digits (got 44 characters)',
    ],
    [{ WECOM_CALLBACK_TOKEN: 'has space', WECOM_CALLBACK_AES_KEY: KEY }, 'WECOM_CALLBACK_TOKEN: must be 1 to 32 letters or digits'],
  ])('refuses %j naming the variable, without echoing the key', (env, named) => {
    const message = configErrorOf(env);
    expect(message).toContain(named);
    expect(message).not.toContain(KEY);
  });
});

describe('change feed settings', () => {
  it('default to 10,000 changes within 24 h', () => {
    expect(loadConfig({}).changeFeed).toEqual({ maxEntries: 10_000, retentionSeconds: 86_400 });
  });
});

describe('callback sources (WECOM_CALLBACK_ALLOWED_IPS, TRUSTED_PROXIES)', () => {
  it('allow any address and trust no proxy by default', () => {
    expect(loadConfig({}).callbackSources).toEqual({ trustedProxies: [] });
  });

  it('read "auto", or addresses, CIDR ranges and WeCom\'s wildcard patterns', () => {
    expect(loadConfig({ WECOM_CALLBACK_ALLOWED_IPS: 'auto' }).callbackSources.allowedIps).toEqual({ mode: 'auto' });
    expect(
      loadConfig({
        WECOM_CALLBACK_ALLOWED_IPS: '101.226.103.*, 10.0.0.0/8 2400:da00::/32,1.2.3.4',
        TRUSTED_PROXIES: '127.0.0.1,10.1.0.0/16',
      }).callbackSources,
    ).toEqual({
      allowedIps: { mode: 'list', ranges: ['101.226.103.*', '10.0.0.0/8', '2400:da00::/32', '1.2.3.4'] },
      trustedProxies: ['127.0.0.1', '10.1.0.0/16'],
    });
  });

  it.each([
    [{ WECOM_CALLBACK_ALLOWED_IPS: '10.0.0.0/33' }, /WECOM_CALLBACK_ALLOWED_IPS: "10\.0\.0\.0\/33" is not/],
    [{ WECOM_CALLBACK_ALLOWED_IPS: '101.*.103.1' }, /WECOM_CALLBACK_ALLOWED_IPS: "101\.\*\.103\.1" is not/],
    [{ WECOM_CALLBACK_ALLOWED_IPS: 'example.com' }, /WECOM_CALLBACK_ALLOWED_IPS: "example\.com" is not/],
    [{ TRUSTED_PROXIES: 'proxy.internal' }, /TRUSTED_PROXIES: "proxy\.internal" is not an IP address or a CIDR range/],
  ])('refuse %o with an error naming the variable and the entry', (env, message) => {
    expect(configErrorOf(env)).toMatch(message);
  });
});
