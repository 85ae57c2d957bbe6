import { z } from 'zod';
import { configError, problemLines } from './config-error.ts';
import { port } from './env-fields.ts';
import { CACHE_VARIABLES, loadCacheConfig, type CacheConfig } from './cache.ts';
import { CALLBACK_VARIABLES, loadCallbackConfig, type CallbackConfig } from './callback.ts';
import { loadOpsConfig, type OpsConfig } from './ops.ts';
import { loadSecurityConfig, type SecurityConfig } from './security.ts';
import { loadWeComConfig, WECOM_VARIABLES, wecomMode, type WeComConfig } from './wecom.ts';

export { ConfigError } from './config-error.ts';
export type { WeComTarget } from './wecom.ts';

/**
 * Environment → typed, validated configuration, one module per concern (wecom, cache, callback,
 * security, ops). Every problem of every module is reported at once, one line each naming the
 * variable and the form it expects; secrets are never echoed back.
 */

const serverFields = z.object({
  PORT: port('PORT', 4000),
  HOST: z.string().default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  NODE_ENV: z.string().default('development'),
});

/** The variables read by this module and the concern modules beside security and ops (docs/configuration.md lists each; a test checks). */
export const CORE_VARIABLES = [...Object.keys(serverFields.shape), ...WECOM_VARIABLES, ...CACHE_VARIABLES, ...CALLBACK_VARIABLES];

export interface Config extends CallbackConfig {
  port: number;
  host: string;
  logLevel: z.output<typeof serverFields>['LOG_LEVEL'];
  production: boolean;
  /** The cross-request directory cache. */
  cache: CacheConfig;
  /** Who may call, query limits, rate limits, GraphiQL, introspection … (./security.ts). */
  security: SecurityConfig;
  /** Metrics, readiness, shutdown, Redis scale-out, WeCom rate budget (./ops.ts). */
  ops: OpsConfig;
  /** Real WeCom (or any WeCom-compatible server) when credentials are set; otherwise the embedded emulator. */
  wecom: WeComConfig;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const server = serverFields.safeParse(env);
  const production = server.success && server.data.NODE_ENV === 'production';
  const wecom = loadWeComConfig(env);
  const cache = loadCacheConfig(env);
  const callback = loadCallbackConfig(env);
  const ops = loadOpsConfig(env);
  const security = loadSecurityConfig(env, wecomMode(env), production);
  const problems = [server.success ? [] : problemLines(server.error), ...[wecom, cache, callback, ops, security].map(problemsOf)].flat();
  if (!server.success || problems.length) throw configError(problems);
  const e = server.data;
  return {
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    production,
    cache: configOf(cache),
    ...configOf(callback),
    security: configOf(security),
    ops: configOf(ops),
    wecom: configOf(wecom),
  };
}

type Loaded<T> = { config: T } | { problems: string[] };

const problemsOf = (part: Loaded<unknown>): string[] => ('problems' in part ? part.problems : []);

/** A part's settings; its problems were reported above, so this only narrows the type. */
function configOf<T>(part: Loaded<T>): T {
  if ('problems' in part) throw configError(part.problems);
  return part.config;
}
