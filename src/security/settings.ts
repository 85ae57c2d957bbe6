import { ANONYMOUS_AUTHENTICATOR, type Authenticator } from '../auth/authenticate.ts';
import { MEDIA_MAX_BYTES } from 'wecom-protocol/limits';
import type { CallerBudgets, RateLimitSettings } from './rate-limit.ts';
import { SAME_ORIGIN_ONLY, type CorsSettings } from './cors.ts';

/**
 * How the service defends itself: who may call (auth), what a query may ask for before it runs
 * (limits), how much a request may send (http), how often a caller may call (rateLimit), and
 * the browser-facing switches. main.ts builds them from the environment (src/config/); createApp
 * without them serves everyone with full access, for tests and embedding.
 */
export interface SecuritySettings {
  auth: Authenticator;
  limits: QueryLimits;
  http: HttpLimits;
  /** Per-caller budgets (429 with Retry-After); false: none. */
  rateLimit: RateLimitSettings | false;
  /** Where those budgets are kept: this instance (default) or, with REDIS_URL, the fleet. */
  callerBudgets?: CallerBudgets;
  /** Browser origins other than the service's own that may call it (CORS_ORIGINS); none by default. */
  cors: CorsSettings;
  /** Refuse "simple" requests (GET, forms, text/plain) without a custom header (Yoga's CSRF prevention). */
  csrf: boolean;
  /** Serve __schema / __type. */
  introspection: boolean;
  /** Accept only operations from this store (hash → document), or any operation when false. */
  persistedOperations: ReadonlyMap<string, string> | false;
  /** HTTP batching: false, or the largest batch accepted. */
  batching: false | number;
}

/** Checked on the parsed operation before it runs (src/security/query-limits.ts). */
export interface QueryLimits {
  /** Nesting of selections (fragments expanded). */
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
  /** Lexical tokens of the document (a parser that stops counting past it). */
  maxTokens: number;
  /** Characters of the query text, checked before it is parsed. */
  maxCharacters: number;
  /** Estimated cost (src/security/cost.ts). */
  maxCost: number;
  /** Items of any list argument without a bound of its own (LIST_ARGUMENT_BOUNDS). */
  maxListItems: number;
  /** WeCom calls one request may cause by its estimate (user/get per unknown userid, convert_to_openid …; src/security/estimate.ts). */
  maxUpstreamCalls: number;
  /** Bytes of one answer (its JSON): a larger one is replaced by an error. */
  maxResponseBytes: number;
  /** Milliseconds a query may execute; then it is answered with an error and makes no more WeCom calls. */
  maxExecutionMs: number;
  /** Subscriptions one caller may have open at once. */
  maxSubscriptionsPerCaller: number;
}

export interface HttpLimits {
  /** Bytes of a JSON (or other non-multipart) request body. */
  maxBodyBytes: number;
  /** Bytes of an uploaded file: WeCom's media/upload cap for files (20 MB). */
  maxFileBytes: number;
  /** Files in one multipart request. */
  maxFiles: number;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = {
  maxDepth: 12,
  maxAliases: 20,
  maxDirectives: 20,
  maxTokens: 3_000,
  maxCharacters: 20_000,
  // Fields resolved, estimated from the corp's real sizes (estimate.ts): an org chart of a
  // 50,000-member corp with a few fields per member fits (~250,000); the 114,000 rows of
  // `departments { members(recursive: true, first: 300) { … } }` on that corp (828,000, a 44 MB
  // answer that took a minute and 2.7 GB) do not.
  maxCost: 500_000,
  maxListItems: 1_000,
  // A few hundred: a page of members named by id; a flood of thousands of lookups is refused.
  maxUpstreamCalls: 300,
  // The 2,000-department tree of a 50,000-member corp is 2.2 MB.
  maxResponseBytes: 16 * 1024 * 1024,
  maxExecutionMs: 30_000,
  maxSubscriptionsPerCaller: 10,
};

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  maxBodyBytes: 5 * 1024 * 1024,
  maxFileBytes: MEDIA_MAX_BYTES.file,
  maxFiles: 1,
};

/** What a multipart body may hold beyond its files: the operations and map fields, boundaries and part headers. */
export const MULTIPART_OVERHEAD_BYTES = 1024 * 1024;

/** Full access for everyone, default limits, no rate limit: the library default (tests, embedding). */
export const OPEN_SECURITY: SecuritySettings = {
  auth: ANONYMOUS_AUTHENTICATOR,
  limits: DEFAULT_QUERY_LIMITS,
  http: DEFAULT_HTTP_LIMITS,
  rateLimit: false,
  cors: SAME_ORIGIN_ONLY,
  csrf: true,
  introspection: true,
  persistedOperations: false,
  batching: false,
};
