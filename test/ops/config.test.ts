import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { configErrorOf as errorOf } from '../testkit/config.ts';

/** The operations settings (src/config/ops.ts) as loadConfig reads them: defaults, and errors naming the variable. */

describe('operations configuration', () => {
  it('defaults: metrics on PORT, no Redis, 10 s to drain, 80% of WeCom’s limits', () => {
    expect(loadConfig({}).ops).toEqual({
      metrics: { enabled: true },
      readiness: { cacheMs: 5_000, timeoutMs: 3_000 },
      shutdown: { timeoutMs: 10_000, delayMs: 0 },
      rateBudget: { fraction: 0.8, perEndpoint: {}, callerShare: 0.25 },
    });
  });

  it('reads every setting', () => {
    const ops = loadConfig({
      METRICS_ENABLED: 'true',
      METRICS_PORT: '9464',
      METRICS_HOST: '0.0.0.0',
      READINESS_CACHE_MS: '1000',
      READINESS_TIMEOUT_MS: '500',
      SHUTDOWN_TIMEOUT_MS: '30000',
      SHUTDOWN_DELAY_MS: '5000',
      REDIS_URL: 'redis://:pw@redis:6379/2',
      REDIS_KEY_PREFIX: 'dir-prod:',
      WECOM_RATE_BUDGET_FRACTION: '0.5',
      WECOM_RATE_BUDGET: '/cgi-bin/user/get=2000, /cgi-bin/user/list=500',
      WECOM_CALLER_SHARE: '0.5',
    }).ops;
    expect(ops).toEqual({
      metrics: { enabled: true, port: 9464, host: '0.0.0.0' },
      readiness: { cacheMs: 1000, timeoutMs: 500 },
      shutdown: { timeoutMs: 30_000, delayMs: 5_000 },
      redis: { url: 'redis://:pw@redis:6379/2', keyPrefix: 'dir-prod:' },
      rateBudget: { fraction: 0.5, perEndpoint: { '/cgi-bin/user/get': 2000, '/cgi-bin/user/list': 500 }, callerShare: 0.5 },
    });
    expect(loadConfig({ METRICS_ENABLED: 'false' }).ops.metrics).toEqual({ enabled: false });
    expect(loadConfig({ REDIS_URL: 'rediss://cache.internal' }).ops.redis).toEqual({
      url: 'rediss://cache.internal',
      keyPrefix: 'wecom-directory:',
    });
  });

  it.each([
    [{ METRICS_ENABLED: 'yes' }, 'METRICS_ENABLED must be "true" or "false"'],
    [{ METRICS_PORT: '70000' }, 'METRICS_PORT: must be a port number'],
    [{ SHUTDOWN_TIMEOUT_MS: '-1' }, 'SHUTDOWN_TIMEOUT_MS must be an integer from 0 to 600000'],
    [{ SHUTDOWN_DELAY_MS: 'soon' }, 'SHUTDOWN_DELAY_MS must be an integer'],
    [{ READINESS_CACHE_MS: '1.5' }, 'READINESS_CACHE_MS must be an integer'],
    [{ REDIS_KEY_PREFIX: 'has space' }, 'REDIS_KEY_PREFIX must be up to 64 letters'],
    [{ WECOM_RATE_BUDGET_FRACTION: '1.5' }, 'WECOM_RATE_BUDGET_FRACTION: must be a number above 0 and at most 1'],
    [{ WECOM_CALLER_SHARE: '0' }, 'WECOM_CALLER_SHARE: must be a number above 0 and at most 1'],
    [
      { WECOM_RATE_BUDGET: '/cgi-bin/user/get:100' },
      'WECOM_RATE_BUDGET: "/cgi-bin/user/get:100" is not of the form /cgi-bin/<api>=<calls per minute>',
    ],
    [{ WECOM_RATE_BUDGET: 'user/get=100' }, 'WECOM_RATE_BUDGET'],
  ])('refuses %j, naming the variable and the form it expects', (env, expected) => {
    expect(errorOf(env)).toContain(expected);
  });

  it('refuses a REDIS_URL that is not a Redis URL without quoting it (it may hold a password)', () => {
    for (const url of ['http://:hunter22@redis:6379', 'redis//:hunter22@nohost', 'hunter22']) {
      const message = errorOf({ REDIS_URL: url });
      expect(message).toContain('REDIS_URL: must be a Redis URL, redis://');
      expect(message).not.toContain('hunter22');
    }
  });
});
