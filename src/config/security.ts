import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { problemLines } from './config-error.ts';
import { int, optionalFlag, text } from './env-fields.ts';
import { ApiKeyConfigError, parseApiKeyEntries, type ApiKeyEntry } from '../auth/api-keys.ts';
import type { JwtSettings } from '../auth/jwt.ts';
import { ALL_SCOPE_NAMES, parseScopeList, type ScopeName } from '../auth/scopes.ts';
import { DEFAULT_RATE_LIMITS, type RateLimitSettings } from '../security/rate-limit.ts';
import { DEFAULT_HTTP_LIMITS, DEFAULT_QUERY_LIMITS, type HttpLimits, type QueryLimits } from '../security/settings.ts';
import { DEFAULT_SERVER_TIMEOUTS, type ServerTimeouts } from '../security/http-server.ts';
import { DEFAULT_PERSISTED_OPERATIONS_FILE } from '../security/persisted.ts';
import { corsOriginProblem, type CorsSettings } from '../security/cors.ts';

/**
 * The security part of the configuration (environment → typed settings), validated like the
 * rest of src/config/: every problem names its variable, no secret is echoed back.
 *
 * The start-up rule: with real WeCom credentials (remote mode) and no API key or JWT configured,
 * the service refuses to start unless ALLOW_ANONYMOUS=true; on the embedded emulator with none
 * configured it serves everyone with full access (and main.ts says so loudly).
 */

export interface SecurityConfig {
  /** Set when the service must not start as configured (real WeCom, no caller credential, anonymous access not enabled): why. */
  refusal?: string;
  apiKeys: ApiKeyEntry[];
  jwt?: JwtSettings;
  /** Scopes of requests without a credential; undefined: they get 401. */
  anonymousScopes?: ScopeName[];
  /** Why anonymous callers are served: the embedded emulator with nothing configured, or ALLOW_ANONYMOUS=true. */
  anonymousReason?: 'embedded-without-credentials' | 'ALLOW_ANONYMOUS';
  graphiql: boolean;
  introspection: boolean;
  csrf: boolean;
  /** Browser origins allowed cross-origin (CORS_ORIGINS); empty: same-origin only. */
  cors: CorsSettings;
  /** PERSISTED_OPERATIONS_ONLY=true: the file of allowed operations. */
  persistedOperationsFile?: string;
  limits: QueryLimits;
  http: HttpLimits;
  rateLimit: RateLimitSettings | false;
  batching: false | number;
  server: ServerTimeouts;
}

const securityEnv = z.object({
  API_KEYS: text,
  API_KEYS_FILE: text,
  JWT_HS256_SECRET: text,
  JWT_JWKS_URL: text,
  JWT_ISSUER: text,
  JWT_AUDIENCE: text,
  ALLOW_ANONYMOUS: optionalFlag('ALLOW_ANONYMOUS'),
  ANONYMOUS_SCOPES: text,
  GRAPHIQL: optionalFlag('GRAPHIQL'),
  INTROSPECTION: optionalFlag('INTROSPECTION'),
  CSRF_PREVENTION: optionalFlag('CSRF_PREVENTION'),
  CORS_ORIGINS: text,
  PERSISTED_OPERATIONS_ONLY: optionalFlag('PERSISTED_OPERATIONS_ONLY'),
  PERSISTED_OPERATIONS_FILE: text,
  MAX_QUERY_DEPTH: int('MAX_QUERY_DEPTH', DEFAULT_QUERY_LIMITS.maxDepth, 2, 100),
  MAX_QUERY_ALIASES: int('MAX_QUERY_ALIASES', DEFAULT_QUERY_LIMITS.maxAliases, 0, 1_000),
  MAX_QUERY_DIRECTIVES: int('MAX_QUERY_DIRECTIVES', DEFAULT_QUERY_LIMITS.maxDirectives, 0, 1_000),
  MAX_QUERY_TOKENS: int('MAX_QUERY_TOKENS', DEFAULT_QUERY_LIMITS.maxTokens, 50, 1_000_000),
  MAX_QUERY_CHARACTERS: int('MAX_QUERY_CHARACTERS', DEFAULT_QUERY_LIMITS.maxCharacters, 100, 10_000_000),
  MAX_QUERY_COST: int('MAX_QUERY_COST', DEFAULT_QUERY_LIMITS.maxCost, 10, 1_000_000_000),
  MAX_LIST_ITEMS: int('MAX_LIST_ITEMS', DEFAULT_QUERY_LIMITS.maxListItems, 1, 1_000_000),
  MAX_UPSTREAM_CALLS_PER_REQUEST: int('MAX_UPSTREAM_CALLS_PER_REQUEST', DEFAULT_QUERY_LIMITS.maxUpstreamCalls, 0, 100_000),
  MAX_RESPONSE_BYTES: int('MAX_RESPONSE_BYTES', DEFAULT_QUERY_LIMITS.maxResponseBytes, 1_024, 1_024 ** 3),
  MAX_EXECUTION_MS: int('MAX_EXECUTION_MS', DEFAULT_QUERY_LIMITS.maxExecutionMs, 100, 3_600_000),
  MAX_SUBSCRIPTIONS_PER_CALLER: int('MAX_SUBSCRIPTIONS_PER_CALLER', DEFAULT_QUERY_LIMITS.maxSubscriptionsPerCaller, 1, 10_000),
  MAX_BODY_BYTES: int('MAX_BODY_BYTES', DEFAULT_HTTP_LIMITS.maxBodyBytes, 1_024, 1_024 ** 3),
  MAX_UPLOAD_BYTES: int('MAX_UPLOAD_BYTES', DEFAULT_HTTP_LIMITS.maxFileBytes, 6, DEFAULT_HTTP_LIMITS.maxFileBytes),
  RATE_LIMIT_PER_MINUTE: int('RATE_LIMIT_PER_MINUTE', DEFAULT_RATE_LIMITS.requestsPerMinute, 0, 10_000_000),
  RATE_LIMIT_BURST: int('RATE_LIMIT_BURST', DEFAULT_RATE_LIMITS.requestBurst, 1, 10_000_000),
  MUTATION_RATE_LIMIT_PER_MINUTE: int('MUTATION_RATE_LIMIT_PER_MINUTE', DEFAULT_RATE_LIMITS.mutationsPerMinute, 0, 10_000_000),
  MUTATION_RATE_LIMIT_BURST: int('MUTATION_RATE_LIMIT_BURST', DEFAULT_RATE_LIMITS.mutationBurst, 1, 10_000_000),
  BATCH_LIMIT: int('BATCH_LIMIT', 0, 0, 100),
  HTTP_HEADERS_TIMEOUT_MS: int('HTTP_HEADERS_TIMEOUT_MS', DEFAULT_SERVER_TIMEOUTS.headersTimeoutMs, 1_000, 600_000),
  HTTP_REQUEST_TIMEOUT_MS: int('HTTP_REQUEST_TIMEOUT_MS', DEFAULT_SERVER_TIMEOUTS.requestTimeoutMs, 1_000, 3_600_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: int('HTTP_KEEP_ALIVE_TIMEOUT_MS', DEFAULT_SERVER_TIMEOUTS.keepAliveTimeoutMs, 1_000, 600_000),
});

/** The variables read here (docs/configuration.md lists each; test/readme.test.ts checks). */
export const SECURITY_VARIABLES = Object.keys(securityEnv.shape);

/** A JWKS is fetched over https, or plain http on loopback only (a local identity provider in development). */
function jwksUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'JWT_JWKS_URL: must be a URL';
  }
  if (parsed.protocol === 'https:') return undefined;
  if (parsed.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(parsed.hostname)) return undefined;
  return 'JWT_JWKS_URL: must be an https URL (http only on localhost)';
}

/**
 * Returns the settings, or the problems (each "- NAME: what is wrong"). `mode` is where WeCom is:
 * the embedded emulator or a real (remote) WeCom. `production` turns GraphiQL and introspection
 * off unless they are asked for.
 */
export function loadSecurityConfig(
  env: NodeJS.ProcessEnv,
  mode: 'embedded' | 'remote',
  production: boolean,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): { config: SecurityConfig } | { problems: string[] } {
  const parsed = securityEnv.safeParse(env);
  if (!parsed.success) return { problems: problemLines(parsed.error) };
  const e = parsed.data;
  const problems: string[] = [];

  const apiKeys: ApiKeyEntry[] = [];
  const keySource = (json: string, source: string) => {
    try {
      apiKeys.push(...parseApiKeyEntries(json, source));
    } catch (err) {
      if (!(err instanceof ApiKeyConfigError)) throw err;
      problems.push(`- ${err.message}`);
    }
  };
  if (e.API_KEYS) keySource(e.API_KEYS, 'API_KEYS');
  if (e.API_KEYS_FILE) {
    let json: string | undefined;
    try {
      json = readFile(e.API_KEYS_FILE);
    } catch {
      problems.push(`- API_KEYS_FILE: cannot read ${e.API_KEYS_FILE}`);
    }
    if (json !== undefined) keySource(json, `API_KEYS_FILE (${e.API_KEYS_FILE})`);
  }
  const ids = new Set<string>();
  const hashes = new Set<string>();
  for (const key of apiKeys) {
    const hash = key.hash.toLowerCase().replace(/^sha256:/, '');
    if (ids.has(key.id)) problems.push(`- API_KEYS / API_KEYS_FILE: key id ${key.id} is defined twice`);
    // One key with two entries would have two identities: which one applies would be an accident.
    if (hashes.has(hash)) problems.push(`- API_KEYS / API_KEYS_FILE: key ${key.id} has the hash of another key`);
    ids.add(key.id);
    hashes.add(hash);
  }

  let jwt: JwtSettings | undefined;
  if (e.JWT_HS256_SECRET || e.JWT_JWKS_URL) {
    // A short HS256 secret can be brute-forced from one token (RFC 7518 §3.2: at least 256 bits).
    if (e.JWT_HS256_SECRET && Buffer.byteLength(e.JWT_HS256_SECRET) < 32)
      problems.push('- JWT_HS256_SECRET: must be at least 32 bytes (RFC 7518 §3.2)');
    if (e.JWT_JWKS_URL) {
      const problem = jwksUrlProblem(e.JWT_JWKS_URL);
      if (problem) problems.push(`- ${problem}`);
    }
    if (!e.JWT_ISSUER) problems.push('- JWT_ISSUER: required with JWT_HS256_SECRET or JWT_JWKS_URL (the iss every token must carry)');
    if (!e.JWT_AUDIENCE) problems.push('- JWT_AUDIENCE: required with JWT_HS256_SECRET or JWT_JWKS_URL (the aud every token must carry)');
    if (e.JWT_ISSUER && e.JWT_AUDIENCE) {
      jwt = {
        ...(e.JWT_HS256_SECRET ? { hs256Secret: e.JWT_HS256_SECRET } : {}),
        ...(e.JWT_JWKS_URL ? { jwksUrl: e.JWT_JWKS_URL } : {}),
        issuer: e.JWT_ISSUER,
        audience: e.JWT_AUDIENCE,
      };
    }
  } else if (e.JWT_ISSUER || e.JWT_AUDIENCE) {
    problems.push('- JWT_ISSUER / JWT_AUDIENCE: set JWT_HS256_SECRET or JWT_JWKS_URL too (how tokens are verified)');
  }

  let anonymousScopes: ScopeName[] | undefined;
  if (e.ANONYMOUS_SCOPES !== undefined) {
    try {
      anonymousScopes = parseScopeList(
        e.ANONYMOUS_SCOPES.split(',')
          .map((s) => s.trim())
          .filter(Boolean),
        'ANONYMOUS_SCOPES',
      );
    } catch (err) {
      problems.push(`- ${(err as Error).message}`);
    }
    if (e.ALLOW_ANONYMOUS !== true) problems.push('- ANONYMOUS_SCOPES: only with ALLOW_ANONYMOUS=true');
  }

  const credentials = apiKeys.length > 0 || jwt !== undefined || e.JWT_HS256_SECRET !== undefined || e.JWT_JWKS_URL !== undefined;
  let anonymousReason: SecurityConfig['anonymousReason'];
  if (e.ALLOW_ANONYMOUS === true) anonymousReason = 'ALLOW_ANONYMOUS';
  else if (!credentials && mode === 'embedded' && e.ALLOW_ANONYMOUS === undefined) anonymousReason = 'embedded-without-credentials';
  // Not a configuration error (the configuration is readable), but a reason main.ts refuses to start.
  let refusal: string | undefined;
  if (!credentials && !anonymousReason) {
    refusal =
      mode === 'remote'
        ? '- API_KEYS, API_KEYS_FILE, JWT_HS256_SECRET or JWT_JWKS_URL: the service talks to real WeCom and no caller credential is configured; configure API keys or JWTs, or set ALLOW_ANONYMOUS=true to serve every caller with full access'
        : '- ALLOW_ANONYMOUS: false, and no API key or JWT is configured: no caller could be served';
  }

  const persistedOnly = e.PERSISTED_OPERATIONS_ONLY === true;
  if (e.PERSISTED_OPERATIONS_FILE && !persistedOnly) problems.push('- PERSISTED_OPERATIONS_FILE: only with PERSISTED_OPERATIONS_ONLY=true');
  const corsOrigins = (e.CORS_ORIGINS ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of corsOrigins) {
    const problem = corsOriginProblem(origin);
    if (problem) problems.push(`- CORS_ORIGINS: ${problem}`);
  }
  if (corsOrigins.includes('*') && corsOrigins.length > 1)
    problems.push('- CORS_ORIGINS: "*" allows every origin; list origins or "*" alone');
  if (e.HTTP_HEADERS_TIMEOUT_MS > e.HTTP_REQUEST_TIMEOUT_MS)
    problems.push('- HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS');

  if (problems.length) return { problems };
  return {
    config: {
      ...(refusal ? { refusal } : {}),
      apiKeys,
      ...(jwt ? { jwt } : {}),
      ...(anonymousReason ? { anonymousReason, anonymousScopes: anonymousScopes ?? [...ALL_SCOPE_NAMES] } : {}),
      graphiql: e.GRAPHIQL ?? !production,
      introspection: e.INTROSPECTION ?? !production,
      csrf: e.CSRF_PREVENTION ?? true,
      cors: { origins: corsOrigins },
      ...(persistedOnly ? { persistedOperationsFile: e.PERSISTED_OPERATIONS_FILE ?? DEFAULT_PERSISTED_OPERATIONS_FILE } : {}),
      limits: {
        maxDepth: e.MAX_QUERY_DEPTH,
        maxAliases: e.MAX_QUERY_ALIASES,
        maxDirectives: e.MAX_QUERY_DIRECTIVES,
        maxTokens: e.MAX_QUERY_TOKENS,
        maxCharacters: e.MAX_QUERY_CHARACTERS,
        maxCost: e.MAX_QUERY_COST,
        maxListItems: e.MAX_LIST_ITEMS,
        maxUpstreamCalls: e.MAX_UPSTREAM_CALLS_PER_REQUEST,
        maxResponseBytes: e.MAX_RESPONSE_BYTES,
        maxExecutionMs: e.MAX_EXECUTION_MS,
        maxSubscriptionsPerCaller: e.MAX_SUBSCRIPTIONS_PER_CALLER,
      },
      http: { maxBodyBytes: e.MAX_BODY_BYTES, maxFileBytes: e.MAX_UPLOAD_BYTES, maxFiles: 1 },
      rateLimit:
        e.RATE_LIMIT_PER_MINUTE === 0 && e.MUTATION_RATE_LIMIT_PER_MINUTE === 0
          ? false
          : {
              // 0 turns one budget off: a budget no caller can exhaust.
              requestsPerMinute: e.RATE_LIMIT_PER_MINUTE || Number.MAX_SAFE_INTEGER,
              requestBurst: e.RATE_LIMIT_PER_MINUTE ? e.RATE_LIMIT_BURST : Number.MAX_SAFE_INTEGER,
              mutationsPerMinute: e.MUTATION_RATE_LIMIT_PER_MINUTE || Number.MAX_SAFE_INTEGER,
              mutationBurst: e.MUTATION_RATE_LIMIT_PER_MINUTE ? e.MUTATION_RATE_LIMIT_BURST : Number.MAX_SAFE_INTEGER,
            },
      batching: e.BATCH_LIMIT === 0 ? false : e.BATCH_LIMIT,
      server: {
        headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
        requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
        keepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      },
    },
  };
}
