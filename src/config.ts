import { z } from 'zod';
import { flag, int, port, text } from './env-fields.ts';
import { loadSecurityConfig, type SecurityConfig } from './security/config.ts';
import { loadOpsConfig, type OpsConfig } from './ops/config.ts';
import { parseAllowedCallbackIps, parseTrustedProxies, type AllowedCallbackIps } from './callback/source-ip.ts';

/**
 * Environment → typed, validated configuration. Every error names the variable and the form it
 * expects; secrets are never echoed back.
 */

const envSchema = z.object({
  PORT: port('PORT', 4000),
  HOST: z.string().default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  NODE_ENV: z.string().default('development'),
  WECOM_CORP_ID: text,
  WECOM_CONTACT_SECRET: text,
  WECOM_APP_SECRET: text,
  WECOM_AGENT_ID: text,
  WECOM_BASE_URL: z.string().url('WECOM_BASE_URL must be an http(s) URL').default('https://qyapi.weixin.qq.com'),
  WECOM_EMULATOR_PORT: port('WECOM_EMULATOR_PORT', 4010),
  WECOM_EMULATOR_SEED: int('WECOM_EMULATOR_SEED', 1, 0, 2 ** 31 - 1),
  WECOM_EMULATOR_SIZE: z.enum(['demo', 'large', 'huge'], { message: 'WECOM_EMULATOR_SIZE must be "demo", "large" or "huge"' }).default('demo'),
  // 'naive' is the benchmark's baseline only (src/loaders/naive.ts): no cache, no batching.
  DIRECTORY_PLANNING: z.enum(['planned', 'naive'], { message: 'DIRECTORY_PLANNING must be "planned" or "naive" (naive: the benchmark baseline)' }).default('planned'),
  // The cross-request directory cache (src/cache): off only for measurements and debugging.
  CACHE_ENABLED: z
    .enum(['true', 'false', '1', '0', ''], { message: 'CACHE_ENABLED must be "true" or "false"' })
    .optional()
    .transform((v) => v !== 'false' && v !== '0'),
  CACHE_TTL_SECONDS: int('CACHE_TTL_SECONDS', 300, 1, 86_400),
  CACHE_STALE_SECONDS: int('CACHE_STALE_SECONDS', 60, 0, 86_400),
  CACHE_MAX_ENTRIES: int('CACHE_MAX_ENTRIES', 100_000, 100, 10_000_000),
  // Warm-up and refresh-ahead of the directory cache (src/cache/warm-up.ts), within this share of the rate budget.
  CACHE_WARM_UP: flag('CACHE_WARM_UP', true),
  CACHE_WARM_UP_BUDGET_PERCENT: int('CACHE_WARM_UP_BUDGET_PERCENT', 50, 1, 100),
  // The contacts-sync callback (wecom-api.md §9.1); /wecom/callback answers 404 without them.
  WECOM_CALLBACK_TOKEN: text,
  WECOM_CALLBACK_AES_KEY: text,
  // Where /wecom/callback requests may come from: "auto" (WeCom's getcallbackip list) or ranges.
  WECOM_CALLBACK_ALLOWED_IPS: text,
  // Reverse proxies whose X-Forwarded-For is believed (for the address check above).
  TRUSTED_PROXIES: text,
  CHANGE_FEED_MAX_ENTRIES: int('CHANGE_FEED_MAX_ENTRIES', 10_000, 1, 1_000_000),
  CHANGE_FEED_RETENTION_SECONDS: int('CHANGE_FEED_RETENTION_SECONDS', 86_400, 60, 30 * 86_400),
});

/** The variables read here (the README's configuration table lists each; a test checks). */
export const CORE_VARIABLES = Object.keys(envSchema.shape);

export interface WeComTarget {
  baseUrl: string;
  corpId: string;
  contactSecret?: string;
  app?: { agentId: number; secret: string };
}

export interface Config {
  port: number;
  host: string;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  production: boolean;
  /** How reads are planned: 'planned' (loaders and cache), or 'naive', the benchmark's N+1 baseline. */
  planning: 'planned' | 'naive';
  /** The cross-request directory cache. */
  cache: {
    enabled: boolean;
    ttlSeconds: number;
    staleSeconds: number;
    maxEntries: number;
    /** Load the corp in the background at start and after a full flush; refresh before expiry while in use. */
    warmUp: boolean;
    /** Share of the client's per-endpoint rate budget a warm-up pass may use, percent. */
    warmUpBudgetPercent: number;
  };
  /**
   * The contacts-sync callback's Token and EncodingAESKey (remote mode; the embedded emulator's own
   * are used in embedded mode). Without them /wecom/callback answers 404.
   */
  callback?: { token: string; encodingAESKey: string };
  /**
   * Where /wecom/callback requests may come from (WECOM_CALLBACK_ALLOWED_IPS; absent: anywhere),
   * and the proxies whose X-Forwarded-For names the sender (TRUSTED_PROXIES; none by default).
   */
  callbackSources: { allowedIps?: AllowedCallbackIps; trustedProxies: string[] };
  /** How many changes, and for how long, directoryChanges keeps. */
  changeFeed: { maxEntries: number; retentionSeconds: number };
  /** Who may call, query limits, rate limits, GraphiQL, introspection … (src/security/config.ts). */
  security: SecurityConfig;
  /** Metrics, readiness, shutdown, Redis scale-out, WeCom rate budget (src/ops/config.ts). */
  ops: OpsConfig;
  /** Real WeCom (or any WeCom-compatible server) when credentials are set; otherwise the embedded emulator. */
  wecom:
    | { mode: 'remote'; target: WeComTarget }
    | { mode: 'embedded'; emulatorPort: number; seed: number; size: 'demo' | 'large' | 'huge' };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `- ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const callback = callbackConfig(e.WECOM_CALLBACK_TOKEN, e.WECOM_CALLBACK_AES_KEY);
  const callbackSources = callbackSourcesConfig(e.WECOM_CALLBACK_ALLOWED_IPS, e.TRUSTED_PROXIES);
  const ops = loadOpsConfig(env);
  if ('problems' in ops) throw new ConfigError(`invalid configuration:\n${ops.problems.join('\n')}`);
  const base = {
    ops: ops.config,
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    production: e.NODE_ENV === 'production',
    planning: e.DIRECTORY_PLANNING,
    cache: { enabled: e.CACHE_ENABLED, ttlSeconds: e.CACHE_TTL_SECONDS, staleSeconds: e.CACHE_STALE_SECONDS, maxEntries: e.CACHE_MAX_ENTRIES, warmUp: e.CACHE_WARM_UP, warmUpBudgetPercent: e.CACHE_WARM_UP_BUDGET_PERCENT },
    ...(callback ? { callback } : {}),
    callbackSources,
    changeFeed: { maxEntries: e.CHANGE_FEED_MAX_ENTRIES, retentionSeconds: e.CHANGE_FEED_RETENTION_SECONDS },
  };

  const anyCredential = e.WECOM_CORP_ID ?? e.WECOM_CONTACT_SECRET ?? e.WECOM_APP_SECRET ?? e.WECOM_AGENT_ID;
  const security = loadSecurityConfig(env, anyCredential ? 'remote' : 'embedded', base.production);
  if ('problems' in security) throw new ConfigError(`invalid configuration:\n${security.problems.join('\n')}`);
  if (!anyCredential) {
    return {
      ...base,
      security: security.config,
      wecom: { mode: 'embedded', emulatorPort: e.WECOM_EMULATOR_PORT, seed: e.WECOM_EMULATOR_SEED, size: e.WECOM_EMULATOR_SIZE },
    };
  }

  const problems: string[] = [];
  if (!e.WECOM_CORP_ID) problems.push('- WECOM_CORP_ID: required when a WeCom secret is set (the corp id, "ww…")');
  if (!e.WECOM_CONTACT_SECRET && !e.WECOM_APP_SECRET) {
    problems.push('- WECOM_CONTACT_SECRET or WECOM_APP_SECRET: at least one secret is required with WECOM_CORP_ID');
  }
  if (e.WECOM_APP_SECRET && !e.WECOM_AGENT_ID) problems.push('- WECOM_AGENT_ID: required with WECOM_APP_SECRET (the app\'s AgentId, a number)');
  if (e.WECOM_AGENT_ID && !/^\d{1,10}$/.test(e.WECOM_AGENT_ID)) problems.push('- WECOM_AGENT_ID: must be a number (the app\'s AgentId)');
  if (e.WECOM_AGENT_ID && !e.WECOM_APP_SECRET) problems.push('- WECOM_APP_SECRET: required with WECOM_AGENT_ID');
  if (problems.length) throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);

  return {
    ...base,
    security: security.config,
    wecom: {
      mode: 'remote',
      target: {
        baseUrl: e.WECOM_BASE_URL,
        corpId: e.WECOM_CORP_ID!,
        ...(e.WECOM_CONTACT_SECRET ? { contactSecret: e.WECOM_CONTACT_SECRET } : {}),
        ...(e.WECOM_APP_SECRET ? { app: { agentId: Number(e.WECOM_AGENT_ID), secret: e.WECOM_APP_SECRET } } : {}),
      },
    },
  };
}

/** Token: 1–32 letters or digits; EncodingAESKey: 43 letters or digits (§9.1). Both or neither. */
function callbackConfig(token: string | undefined, encodingAESKey: string | undefined): Config['callback'] {
  if (token === undefined && encodingAESKey === undefined) return undefined;
  const problems: string[] = [];
  if (token === undefined) problems.push('- WECOM_CALLBACK_TOKEN: required with WECOM_CALLBACK_AES_KEY (the callback Token)');
  else if (!/^[A-Za-z0-9]{1,32}$/.test(token)) problems.push('- WECOM_CALLBACK_TOKEN: must be 1 to 32 letters or digits');
  if (encodingAESKey === undefined) problems.push('- WECOM_CALLBACK_AES_KEY: required with WECOM_CALLBACK_TOKEN (the callback EncodingAESKey)');
  else if (!/^[A-Za-z0-9]{43}$/.test(encodingAESKey)) problems.push(`- WECOM_CALLBACK_AES_KEY: must be exactly 43 letters or digits (got ${encodingAESKey.length} characters)`);
  if (problems.length || token === undefined || encodingAESKey === undefined) throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
  return { token, encodingAESKey };
}

/** WECOM_CALLBACK_ALLOWED_IPS and TRUSTED_PROXIES; each error names the variable and the bad entry. */
function callbackSourcesConfig(allowed: string | undefined, proxies: string | undefined): Config['callbackSources'] {
  const problems: string[] = [];
  let allowedIps: AllowedCallbackIps | undefined;
  let trustedProxies: string[] = [];
  try {
    if (allowed !== undefined) allowedIps = parseAllowedCallbackIps(allowed);
  } catch (err) {
    problems.push(`- WECOM_CALLBACK_ALLOWED_IPS: ${(err as Error).message} ("auto", or addresses, CIDR ranges and patterns like 101.226.103.* separated by commas)`);
  }
  try {
    if (proxies !== undefined) trustedProxies = parseTrustedProxies(proxies);
  } catch (err) {
    problems.push(`- TRUSTED_PROXIES: ${(err as Error).message} (addresses or CIDR ranges of your reverse proxies, separated by commas)`);
  }
  if (problems.length) throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
  return { ...(allowedIps ? { allowedIps } : {}), trustedProxies };
}
