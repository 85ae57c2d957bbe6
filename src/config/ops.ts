import { DEFAULT_CALLER_SHARE } from '../wecom/scheduler.ts';
import { z } from 'zod';
import { problemLines } from './config-error.ts';
import { flag, int, text } from './env-fields.ts';

/**
 * The operations part of the configuration (src/config/index.ts calls `loadOpsConfig`): metrics,
 * readiness, shutdown, scale-out over Redis, and the shared WeCom rate budget. Every problem names
 * its variable and the form it expects; REDIS_URL (it may hold a password) is never echoed back.
 */

export interface OpsConfig {
  metrics: {
    enabled: boolean;
    /** A separate listener for /metrics; undefined: /metrics is served on PORT. */
    port?: number;
    /** Where that listener binds (METRICS_HOST, default HOST). */
    host?: string;
  };
  readiness: { cacheMs: number; timeoutMs: number };
  shutdown: { timeoutMs: number; delayMs: number };
  /** Several instances sharing tokens, rate budget, callback de-duplication and changes; absent: one process. */
  redis?: { url: string; keyPrefix: string };
  /** The WeCom client's per-endpoint budget (shared by all instances when REDIS_URL is set). */
  rateBudget: { fraction: number; perEndpoint: Record<string, number>; callerShare: number };
}

export const DEFAULT_REDIS_KEY_PREFIX = 'wecom-directory:';
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

const opsEnv = z.object({
  METRICS_ENABLED: flag('METRICS_ENABLED', true),
  METRICS_PORT: text,
  METRICS_HOST: text,
  READINESS_CACHE_MS: int('READINESS_CACHE_MS', 5_000, 0, 600_000),
  READINESS_TIMEOUT_MS: int('READINESS_TIMEOUT_MS', 3_000, 100, 60_000),
  SHUTDOWN_TIMEOUT_MS: int('SHUTDOWN_TIMEOUT_MS', DEFAULT_SHUTDOWN_TIMEOUT_MS, 0, 600_000),
  SHUTDOWN_DELAY_MS: int('SHUTDOWN_DELAY_MS', 0, 0, 120_000),
  REDIS_URL: text,
  REDIS_KEY_PREFIX: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return DEFAULT_REDIS_KEY_PREFIX;
      if (!/^[A-Za-z0-9:_.-]{0,64}$/.test(v)) {
        ctx.addIssue({ code: 'custom', message: 'REDIS_KEY_PREFIX must be up to 64 letters, digits or : _ . -' });
        return z.NEVER;
      }
      return v;
    }),
  WECOM_RATE_BUDGET_FRACTION: text,
  WECOM_RATE_BUDGET: text,
  WECOM_CALLER_SHARE: text,
});

/** The variables this part reads (for docs/configuration.md's table and its test). */
export const OPS_VARIABLES = Object.keys(opsEnv.shape);

export function loadOpsConfig(env: NodeJS.ProcessEnv): { config: OpsConfig } | { problems: string[] } {
  const parsed = opsEnv.safeParse(env);
  if (!parsed.success) return { problems: problemLines(parsed.error) };
  const e = parsed.data;
  const problems: string[] = [];

  let metricsPort: number | undefined;
  if (e.METRICS_PORT !== undefined) {
    const n = Number(e.METRICS_PORT);
    if (!Number.isInteger(n) || n < 0 || n > 65535)
      problems.push('- METRICS_PORT: must be a port number 0-65535 (unset: /metrics is served on PORT)');
    else metricsPort = n;
  }

  let redis: OpsConfig['redis'];
  if (e.REDIS_URL !== undefined) {
    // The URL itself is not quoted back: it may carry a password.
    let url: URL | undefined;
    try {
      url = new URL(e.REDIS_URL);
    } catch {
      url = undefined;
    }
    if (!url || !['redis:', 'rediss:'].includes(url.protocol) || !url.hostname) {
      problems.push('- REDIS_URL: must be a Redis URL, redis://[[user]:password@]host[:port][/db] or rediss://… for TLS');
    } else {
      redis = { url: e.REDIS_URL, keyPrefix: e.REDIS_KEY_PREFIX };
    }
  }

  let fraction = 0.8;
  if (e.WECOM_RATE_BUDGET_FRACTION !== undefined) {
    const f = Number(e.WECOM_RATE_BUDGET_FRACTION);
    if (!Number.isFinite(f) || f <= 0 || f > 1)
      problems.push(
        "- WECOM_RATE_BUDGET_FRACTION: must be a number above 0 and at most 1 (the share of WeCom's per-API limit to use, e.g. 0.8)",
      );
    else fraction = f;
  }

  let callerShare = DEFAULT_CALLER_SHARE;
  if (e.WECOM_CALLER_SHARE !== undefined) {
    const f = Number(e.WECOM_CALLER_SHARE);
    if (!Number.isFinite(f) || f <= 0 || f > 1)
      problems.push(
        "- WECOM_CALLER_SHARE: must be a number above 0 and at most 1 (the share of each endpoint's rate budget one caller may use, e.g. 0.25)",
      );
    else callerShare = f;
  }

  const perEndpoint: Record<string, number> = {};
  if (e.WECOM_RATE_BUDGET !== undefined) {
    for (const item of e.WECOM_RATE_BUDGET.split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const match = /^(\/cgi-bin\/[a-z0-9_/]+)=(\d{1,6})$/.exec(item);
      if (!match || Number(match[2]) < 1) {
        problems.push(
          `- WECOM_RATE_BUDGET: "${item}" is not of the form /cgi-bin/<api>=<calls per minute> (comma-separated, e.g. /cgi-bin/user/get=2000,/cgi-bin/user/list=500)`,
        );
        continue;
      }
      perEndpoint[match[1]!] = Number(match[2]);
    }
  }

  if (problems.length) return { problems };
  return {
    config: {
      metrics: {
        enabled: e.METRICS_ENABLED,
        ...(metricsPort !== undefined ? { port: metricsPort } : {}),
        ...(e.METRICS_HOST ? { host: e.METRICS_HOST } : {}),
      },
      readiness: { cacheMs: e.READINESS_CACHE_MS, timeoutMs: e.READINESS_TIMEOUT_MS },
      shutdown: { timeoutMs: e.SHUTDOWN_TIMEOUT_MS, delayMs: e.SHUTDOWN_DELAY_MS },
      ...(redis ? { redis } : {}),
      rateBudget: { fraction, perEndpoint, callerShare },
    },
  };
}
