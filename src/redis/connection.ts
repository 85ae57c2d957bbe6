import { Redis, type RedisOptions } from 'ioredis';

/**
 * Redis connections for scale-out (REDIS_URL). Commands fail fast rather than queue for long
 * while Redis is away: every caller has a local fallback or an error it can report, and a
 * request of the service must not hang on a reconnect loop.
 */

/** How long one Redis command may take before it fails (every command here is O(1) or O(log n)). */
export const REDIS_COMMAND_TIMEOUT_MS = 2_000;
export const REDIS_CONNECT_TIMEOUT_MS = 5_000;
/** The longest pause between reconnection attempts. */
export const REDIS_RECONNECT_MAX_DELAY_MS = 1_000;

export interface RedisLogger {
  warn(obj: Record<string, unknown>, msg: string): void;
  info?(obj: Record<string, unknown>, msg: string): void;
}

/** What a log line may say about a Redis URL: host and port, never the password. */
export function describeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname && u.pathname !== '/' ? u.pathname : ''}`;
  } catch {
    return '(unparseable REDIS_URL)';
  }
}

function options(name: string, extra: RedisOptions): RedisOptions {
  return {
    connectionName: name,
    connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
    // A command waits through at most one reconnect before failing (the default, 20, holds a
    // request for tens of seconds).
    maxRetriesPerRequest: 1,
    // Reconnect with a capped backoff, forever: Redis coming back must heal the instance, and
    // within a second or so (an attempt a second against a Redis that is away costs nothing).
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), REDIS_RECONNECT_MAX_DELAY_MS),
    ...extra,
  };
}

/**
 * The command connection (tokens, rate budget, callback de-duplication, publishing). While it is
 * disconnected, commands fail at once instead of queueing (every caller falls back to this
 * process alone), so an outage costs no latency; `whenReady` waits for the first connection.
 */
export function createCommandConnection(url: string, logger: RedisLogger): Redis {
  return watch(
    new Redis(url, options('wecom-directory', { commandTimeout: REDIS_COMMAND_TIMEOUT_MS, enableOfflineQueue: false })),
    logger,
    'command',
  );
}

/** Resolves true once `redis` is connected, false after `timeoutMs` (it keeps trying meanwhile). */
export function whenReady(redis: Redis, timeoutMs = REDIS_CONNECT_TIMEOUT_MS): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      resolve(false);
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve(true);
    };
    redis.once('ready', onReady);
  });
}

/**
 * A connection for subscriber mode (change broadcast): Redis allows no other commands on it. It
 * connects when asked (`connect()`), so the first SUBSCRIBE goes out only after ioredis's ready
 * check (an INFO, which subscriber mode would refuse).
 */
export function createSubscriberConnection(url: string, logger: RedisLogger): Redis {
  return watch(new Redis(url, options('wecom-directory-sub', { lazyConnect: true })), logger, 'subscriber');
}

/**
 * Notes connection trouble once per outage (ioredis emits an error on every failed reconnect).
 * At info: the warning of an outage is the one line RedisFallbacks writes when the first shared
 * part falls back to this instance alone.
 */
function watch(redis: Redis, logger: RedisLogger, role: string): Redis {
  let down = false;
  redis.on('error', (err: Error & { code?: string }) => {
    if (down) return;
    down = true;
    // ioredis messages hold host and port at most; the password is never in them.
    (logger.info ?? logger.warn).call(logger, { role, code: err.code, error: err.message }, 'redis connection failed; retrying');
  });
  redis.on('ready', () => {
    if (down) logger.info?.({ role }, 'redis connection restored');
    down = false;
  });
  return redis;
}
