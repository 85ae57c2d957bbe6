/**
 * The WeComError family. Every failure of the client is one of these, so callers branch on type
 * (or the `isX` guards) and never on message text. Messages are built from the endpoint path,
 * the errcode and WeCom's errmsg, all passed through the redactor first: no message ever carries
 * a secret or an access token.
 */

/** What kind of problem an errcode is, for callers that map errors (GraphQL extensions, metrics). */
export type ErrorCategory =
  | 'auth' // token problems the client handles itself (refetch and replay once)
  | 'config' // wrong corpid/secret, IP not trusted, feature not enabled: an operator must act
  | 'permission' // this secret or app may not do this (48002, 60011, 81011 …)
  | 'not-found' // the user, department, tag or job does not exist (or is not visible)
  | 'invalid-input' // the request broke a documented rule
  | 'conflict' // the target already exists or is still in use
  | 'rate-limit' // 45009 / 45033
  | 'unavailable' // WeCom is busy (-1) or failing
  | 'client-bug'; // the client sent something malformed (41001 …)

export interface ErrcodeMeaning {
  meaning: string;
  /** What the operator or caller can do about it. */
  hint?: string;
  category: ErrorCategory;
}

/**
 * The errcodes a user of the directory will meet (docs/wecom-api.md §1, §2, §10), with an actionable
 * hint where there is one. Codes not listed fall back to WeCom's own errmsg and `invalid-input`.
 */
export const ERRCODE_MEANINGS: Readonly<Record<number, ErrcodeMeaning>> = {
  [-1]: { meaning: 'WeCom is busy', hint: 'retry later; reads are retried automatically', category: 'unavailable' },
  6000: { meaning: 'data version conflict (concurrent modification)', hint: 'retry later', category: 'conflict' },
  40001: {
    meaning: "invalid secret (missing, reset, not this corp's, or the app is disabled)",
    hint: 'check WECOM_CONTACT_SECRET / WECOM_APP_SECRET against the admin console; the client does not retry this',
    category: 'config',
  },
  40003: { meaning: 'invalid userid', category: 'invalid-input' },
  40007: {
    meaning: 'invalid media_id (wrong source, wrong type, or older than 3 days)',
    hint: 'upload the file again',
    category: 'invalid-input',
  },
  40013: { meaning: 'invalid corpid', hint: 'check WECOM_CORP_ID (admin console → 我的企业)', category: 'config' },
  40014: { meaning: 'invalid access_token', category: 'auth' },
  40031: { meaning: 'invalid userid list', category: 'invalid-input' },
  40032: { meaning: 'invalid userid list length', category: 'invalid-input' },
  40035: { meaning: 'invalid parameter', category: 'invalid-input' },
  40058: { meaning: 'invalid request parameter', category: 'invalid-input' },
  40066: { meaning: 'invalid department list', category: 'invalid-input' },
  40068: { meaning: 'tag not found', category: 'not-found' },
  40070: { meaning: 'all tag members invalid', category: 'invalid-input' },
  40071: { meaning: 'tag name already exists', category: 'conflict' },
  40072: { meaning: 'invalid tag name length', category: 'invalid-input' },
  40088: { meaning: 'job not found', category: 'not-found' },
  40089: { meaning: 'job results purged (only the last 5 jobs are kept)', category: 'not-found' },
  40091: { meaning: "invalid secret (possibly another corp's)", hint: 'check the secret against this corp', category: 'config' },
  40092: { meaning: 'import file has illegal content', category: 'invalid-input' },
  41001: { meaning: 'access_token missing', hint: 'a client bug: the token must be in the query string', category: 'client-bug' },
  41002: { meaning: 'corpid missing', hint: 'set WECOM_CORP_ID', category: 'config' },
  41004: { meaning: 'corpsecret missing', hint: 'set the secret for this call', category: 'config' },
  42001: { meaning: 'access_token expired', category: 'auth' },
  43004: { meaning: 'member not bound to WeChat', category: 'invalid-input' },
  44001: { meaning: 'empty media file', category: 'invalid-input' },
  45001: { meaning: 'media file too large', category: 'invalid-input' },
  45009: {
    meaning: 'frequency limit',
    hint: "frequency limit: the per-corp per-API limit (or the IP's) was hit; the client waits out the window, lower the rate budget if this recurs",
    category: 'rate-limit',
  },
  45024: { meaning: 'account (seat) quota reached', category: 'conflict' },
  45026: {
    meaning: 'deletion protection triggered by a full import',
    hint: 'the import would delete too many members; check the file',
    category: 'invalid-input',
  },
  45033: {
    meaning: 'concurrency limit on this API',
    hint: 'concurrency limit: the client lowers its concurrency for this endpoint; lower the configured cap if this recurs',
    category: 'rate-limit',
  },
  46004: { meaning: 'member not found', category: 'not-found' },
  48002: {
    meaning: 'this secret may not call this API',
    hint: 'writes, user/list_id, the join QR code and the active stat need the contacts-sync secret with API access enabled; linked corps need a self-built app',
    category: 'permission',
  },
  48005: { meaning: 'API deprecated', category: 'permission' },
  48006: { meaning: 'API permission revoked (app unused for a long time)', category: 'permission' },
  50002: {
    meaning: "member outside the app's permission scope",
    hint: "add the member to the app's visible range (可见范围)",
    category: 'permission',
  },
  50003: { meaning: 'app disabled', hint: 'enable the app in the admin console', category: 'config' },
  60001: { meaning: 'invalid department name length', category: 'invalid-input' },
  60003: { meaning: 'department not found', category: 'not-found' },
  60004: { meaning: 'parent department not found', category: 'invalid-input' },
  60005: { meaning: 'department still has members', category: 'conflict' },
  60006: { meaning: 'department still has sub-departments', category: 'conflict' },
  60007: { meaning: 'the root department cannot be deleted', category: 'invalid-input' },
  60008: { meaning: 'department already exists', category: 'conflict' },
  60009: { meaning: 'department name has illegal characters', category: 'invalid-input' },
  60010: { meaning: 'department cycle', category: 'invalid-input' },
  60011: {
    meaning: 'no privilege on this member, department or tag',
    hint: "outside the app's visibility: add it to the app's visible range, or use the contacts-sync secret",
    category: 'permission',
  },
  60020: {
    meaning: 'caller IP not trusted',
    hint: "add this server's IP to the trusted IPs (企业可信IP) of the app or of contacts sync; takes about a minute",
    category: 'config',
  },
  60021: { meaning: "userid outside the app's visible range", hint: "add the member to the app's visible range", category: 'permission' },
  60102: { meaning: 'userid already exists', category: 'conflict' },
  60103: { meaning: 'invalid mobile', category: 'invalid-input' },
  60104: { meaning: 'mobile already exists', category: 'conflict' },
  60105: { meaning: 'invalid email', category: 'invalid-input' },
  60106: { meaning: 'email already exists', category: 'conflict' },
  60110: { meaning: 'too many departments for one member', category: 'invalid-input' },
  60111: { meaning: 'userid not found (or not visible)', category: 'not-found' },
  60112: { meaning: 'invalid member name', category: 'invalid-input' },
  60123: { meaning: 'invalid department id', category: 'invalid-input' },
  60124: { meaning: 'invalid parent department id', category: 'invalid-input' },
  60125: { meaning: 'invalid department name', category: 'invalid-input' },
  60127: { meaning: 'department missing', category: 'invalid-input' },
  60129: { meaning: 'mobile and email both empty', category: 'invalid-input' },
  60132: { meaning: 'is_leader_in_dept length differs from department', category: 'invalid-input' },
  81001: { meaning: 'too many nodes under one department (30,000)', category: 'conflict' },
  81002: { meaning: 'department depth exceeds 15', category: 'invalid-input' },
  81003: { meaning: 'too many nodes in one tag (30,000)', category: 'conflict' },
  81011: {
    meaning: 'no permission on this tag',
    hint: "a tag belongs to the app that created it: call with that app's secret",
    category: 'permission',
  },
  81014: { meaning: 'too many members in one tag call', category: 'invalid-input' },
  301002: {
    meaning: 'no privilege on this app (agent/get of another app)',
    hint: 'WECOM_AGENT_ID must be the AgentId of the app whose secret is WECOM_APP_SECRET',
    category: 'config',
  },
  301005: { meaning: 'the corp creator cannot be deleted', category: 'invalid-input' },
  301036: { meaning: 'userid may not be changed', category: 'invalid-input' },
  302008: { meaning: 'another import job is running', hint: 'wait for it to finish (batch/getresult)', category: 'conflict' },
};

/** errcodes that mean "the thing looked up does not exist (for this caller)". */
const NOT_FOUND_ERRCODES = new Set([60111, 60003, 40068, 46004, 40088, 60021]);

/** gettoken errcodes that mean the configuration is wrong: never retried in a loop. */
export const CONFIG_ERRCODES: ReadonlySet<number> = new Set([40001, 40013, 40091, 41002, 41004, 60020, 50003]);

/** Token errcodes: refetch the token once and replay the call once (docs/wecom-api.md §1). */
export const TOKEN_ERRCODES: ReadonlySet<number> = new Set([40014, 42001]);

export function meaningOf(errcode: number): ErrcodeMeaning | undefined {
  return ERRCODE_MEANINGS[errcode];
}

export function categoryOf(errcode: number): ErrorCategory {
  return ERRCODE_MEANINGS[errcode]?.category ?? 'invalid-input';
}

/** Base of the family. `endpoint` is the API path (e.g. `/cgi-bin/user/get`), never a URL. */
export abstract class WeComError extends Error {
  abstract readonly kind: 'api' | 'http' | 'timeout' | 'transport' | 'config' | 'outcome-unknown';
  abstract readonly category: ErrorCategory;

  constructor(
    message: string,
    readonly endpoint: string | undefined,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** WeCom answered with a non-zero errcode. */
export class WeComApiError extends WeComError {
  readonly kind = 'api';
  readonly category: ErrorCategory;
  readonly meaning: string | undefined;
  readonly hint: string | undefined;

  constructor(
    endpoint: string,
    readonly errcode: number,
    /** WeCom's errmsg, redacted. */
    readonly errmsg: string,
  ) {
    const known = meaningOf(errcode);
    super(
      `WeCom ${endpoint} failed with ${errcode} (${known?.meaning ?? errmsg})${known?.hint ? `: ${known.hint}` : ''}. errmsg: ${errmsg}`,
      endpoint,
    );
    this.category = categoryOf(errcode);
    this.meaning = known?.meaning;
    this.hint = known?.hint;
  }
}

/** WeCom (or a gateway before it) answered with a non-200 HTTP status or a body that is not JSON. */
export class WeComHttpError extends WeComError {
  readonly kind = 'http';
  readonly category: ErrorCategory;

  constructor(
    endpoint: string,
    readonly status: number,
    detail?: string,
  ) {
    super(`WeCom ${endpoint} answered HTTP ${status}${detail ? ` (${detail})` : ''}`, endpoint);
    // 404 means an unknown path (a client bug); anything else is WeCom or its gateway failing.
    this.category = status === 404 ? 'client-bug' : 'unavailable';
  }
}

/**
 * Where a timeout struck: `connect` (nothing was sent), `headers` / `body` (a per-attempt timeout
 * after sending), `queue` (the call waited for a rate or concurrency slot past its deadline),
 * `deadline` (the call's overall deadline or the caller's signal).
 */
export type TimeoutPhase = 'connect' | 'headers' | 'body' | 'queue' | 'deadline';

export class WeComTimeoutError extends WeComError {
  readonly kind = 'timeout';
  readonly category: ErrorCategory = 'unavailable';

  constructor(
    endpoint: string | undefined,
    readonly phase: TimeoutPhase,
    detail?: string,
  ) {
    super(`WeCom ${endpoint ?? 'call'} timed out (${phase})${detail ? `: ${detail}` : ''}`, endpoint);
  }
}

/** The connection failed, was reset, or the response broke a transport rule (size cap). */
export class WeComTransportError extends WeComError {
  readonly kind = 'transport';
  readonly category: ErrorCategory = 'unavailable';

  constructor(
    endpoint: string | undefined,
    /** The underlying error code (e.g. `ECONNREFUSED`, `UND_ERR_SOCKET`), when there is one. */
    readonly code: string | undefined,
    detail: string,
  ) {
    super(`WeCom ${endpoint ?? 'call'} transport failure${code ? ` [${code}]` : ''}: ${detail}`, endpoint);
  }
}

/**
 * The client's configuration cannot serve this call: a wrong corpid or secret (gettoken's 40001,
 * 40013, 41002, 41004, 40091), an untrusted IP, or no secret of the kind the endpoint needs.
 */
export class WeComConfigError extends WeComError {
  readonly kind = 'config';
  readonly category: ErrorCategory = 'config';

  constructor(
    endpoint: string | undefined,
    message: string,
    /** The errcode WeCom answered, when the problem came from WeCom. */
    readonly errcode?: number,
  ) {
    super(message, endpoint);
  }
}

/**
 * A write may or may not have been applied: it was sent, the answer was lost (timeout, reset,
 * 5xx, -1), and reading back could not show that it was applied. The client does not resend it.
 */
export class WeComOutcomeUnknownError extends WeComError {
  readonly kind = 'outcome-unknown';
  readonly category: ErrorCategory = 'unavailable';

  constructor(
    endpoint: string,
    /**
     * `not-applied`: a read-back showed no trace of the write (it may still land later);
     * `unverifiable`: the endpoint cannot be read back, or the read-back failed.
     */
    readonly readBack: 'not-applied' | 'unverifiable',
    /** Why the outcome is unknown, e.g. "timed out (headers)". */
    readonly reason: string,
  ) {
    super(
      `WeCom ${endpoint}: the write was sent but its outcome is unknown (${reason}); ${
        readBack === 'not-applied' ? 'reading back shows it not applied yet' : 'it could not be read back'
      }. It was not resent.`,
      endpoint,
    );
  }
}

export const isWeComError = (e: unknown): e is WeComError => e instanceof WeComError;
export const isWeComApiError = (e: unknown): e is WeComApiError => e instanceof WeComApiError;
export const isWeComHttpError = (e: unknown): e is WeComHttpError => e instanceof WeComHttpError;
export const isWeComTimeoutError = (e: unknown): e is WeComTimeoutError => e instanceof WeComTimeoutError;
export const isWeComTransportError = (e: unknown): e is WeComTransportError => e instanceof WeComTransportError;
export const isWeComConfigError = (e: unknown): e is WeComConfigError => e instanceof WeComConfigError;
export const isWeComOutcomeUnknownError = (e: unknown): e is WeComOutcomeUnknownError => e instanceof WeComOutcomeUnknownError;

/** True when WeCom said the user, department, tag or job looked up does not exist (or is not visible). */
export function isNotFound(e: unknown): boolean {
  return e instanceof WeComApiError && NOT_FOUND_ERRCODES.has(e.errcode);
}

/** True for 45009 / 45033 (after the client's own waiting and retries were used up). */
export function isRateLimited(e: unknown): boolean {
  return e instanceof WeComApiError && e.category === 'rate-limit';
}
