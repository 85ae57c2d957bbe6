import { AsyncLocalStorage } from 'node:async_hooks';
import { hostname } from 'node:os';
import { pino, stdSerializers, type DestinationStream, type Level, type Logger } from 'pino';

/**
 * The service's structured logs (pino, one JSON object a line). Every line written while a
 * request is being served carries its `reqId`, whoever logs it (Yoga, the WeCom client, the
 * callback handler): the request scope is an AsyncLocalStorage read by pino's mixin, so no
 * logger needs to be threaded through the code.
 *
 * Secrets stay out in two ways: fields named like credentials are censored (at the top level and
 * two levels down), and every string (messages, fields up to three levels deep, error messages and
 * stacks) has credential query parameters, bearer tokens and URL passwords scrubbed.
 */

export interface RequestScope {
  requestId: string;
}

export const requestScope = new AsyncLocalStorage<RequestScope>();

/** Field names whose values are never logged. */
export const SECRET_FIELDS = [
  'secret',
  'corpsecret',
  'contactSecret',
  'appSecret',
  'access_token',
  'accessToken',
  'token',
  'encodingAESKey',
  'aesKey',
  'password',
  'apiKey',
  'api_key',
  'authorization',
  'cookie',
  'jwt',
  'hs256Secret',
  'REDIS_URL',
  'redisUrl',
] as const;

/** pino redaction paths: each secret field at the top level and one or two levels down, and request headers. */
export const REDACT_PATHS: string[] = [
  ...SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`]),
  'headers["x-api-key"]',
  '*.headers["x-api-key"]',
  '*.*.headers["x-api-key"]',
  'headers["set-cookie"]',
  '*.headers["set-cookie"]',
];

const CENSOR = '[redacted]';
/** Query parameters that carry credentials (WeCom puts tokens and secrets in the query string). */
const CREDENTIAL_PARAM = /((?:access_token|corpsecret|secret|echostr|encodingaeskey|password|api_key|apikey|token)=)[^&\s"'#]*/gi;
const BEARER = /(Bearer\s+)[A-Za-z0-9._~+/=-]+/g;
/** `scheme://user:password@host` (a Redis URL with a password). */
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s/]+@/gi;

/** Text with credentials removed: query parameters, bearer tokens, passwords in URLs. */
export function scrubText(text: string): string {
  return text.replace(CREDENTIAL_PARAM, `$1${CENSOR}`).replace(BEARER, `$1${CENSOR}`).replace(URL_PASSWORD, `$1${CENSOR}@`);
}

function scrubValue(value: unknown): unknown {
  return typeof value === 'string' ? scrubText(value) : value;
}

/** Depth to which logged objects are searched for strings to scrub (deeper values are logged as given). */
const SCRUB_DEPTH = 3;

/** A copy of a logged object with every string (in plain objects and arrays) scrubbed; the caller's object is untouched. */
function scrubObject(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (depth <= 0 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrubObject(v, depth - 1));
  // Errors and other class instances go to their serializers (err: scrubError).
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubObject(v, depth - 1);
  return out;
}

function scrubError(err: unknown): unknown {
  if (!(err instanceof Error)) return scrubValue(err);
  const serialized = stdSerializers.err(err) as unknown as Record<string, unknown>;
  for (const field of ['message', 'stack']) {
    if (typeof serialized[field] === 'string') serialized[field] = scrubText(serialized[field]);
  }
  return serialized;
}

export interface LoggerOptions {
  level: Level | 'silent';
  /** Where lines go (stdout by default; tests pass a stream). */
  destination?: DestinationStream;
  /** Fields on every line (e.g. the instance). */
  base?: Record<string, unknown>;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      // hostname tells instances apart (in a container: its id).
      base: { pid: process.pid, hostname: hostname(), ...options.base },
      // Level names, not numbers: what a person grepping the log expects.
      formatters: {
        level: (label) => ({ level: label }),
        // Strings anywhere in the logged object: URLs, upstream error texts, connection strings.
        log: (object) => scrubObject(object, SCRUB_DEPTH) as Record<string, unknown>,
      },
      timestamp: pino.stdTimeFunctions.isoTime,
      mixin: () => {
        const scope = requestScope.getStore();
        return scope ? { reqId: scope.requestId } : {};
      },
      redact: { paths: REDACT_PATHS, censor: CENSOR },
      serializers: { err: scrubError },
      hooks: {
        // The message and its interpolation arguments are strings written as given: scrub them.
        logMethod(args, method) {
          for (let i = 0; i < args.length; i++) if (typeof args[i] === 'string') args[i] = scrubText(args[i] as string);
          return method.apply(this, args as Parameters<typeof method>);
        },
      },
    },
    options.destination,
  );
}
