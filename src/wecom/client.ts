/**
 * The WeCom client: runs endpoint descriptors over the transport with the right token, through
 * the scheduler, turning errcodes into typed errors and applying the retry rules:
 *
 * | what happened                         | reads                       | writes                                  |
 * |---------------------------------------|-----------------------------|-----------------------------------------|
 * | 40014 / 42001                         | refetch token, replay once  | same (refused before processing)        |
 * | 45009                                 | wait out the window, retry  | same (refused before processing)        |
 * | 45033                                 | lower concurrency, retry    | same (refused before processing)        |
 * | -1, HTTP 5xx, timeout/reset after send| ≤ 2 retries, full jitter    | never resent: read back, else "unknown" |
 * | connection never opened               | ≤ 2 retries, full jitter    | ≤ 2 retries (nothing reached WeCom)     |
 * | any other errcode                     | WeComApiError               | WeComApiError                           |
 */
import { upstreamRequests } from './request-context.ts';
import { setTimeout as sleepTimer } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import {
  CONFIG_ERRCODES,
  TOKEN_ERRCODES,
  WeComApiError,
  WeComConfigError,
  WeComError,
  WeComHttpError,
  WeComOutcomeUnknownError,
  WeComTimeoutError,
  WeComTransportError,
  meaningOf,
} from './errors.ts';
import type { CallOptions, Endpoint, Invoke, SecretKind } from './endpoint.ts';
import { Metrics, type MetricsSnapshot, type RetryReason, type WeComClientHooks } from './metrics.ts';
import { Redactor } from './redact.ts';
import { QueueDeadlineError, Scheduler, type LaneSnapshot, type Permit, type SharedRateBudget } from './scheduler.ts';
import { TokenManager, type FetchedToken, type TokenStore } from './token.ts';
import {
  DEFAULT_MAX_RESPONSE_SIZE,
  DEFAULT_TIMEOUTS,
  Transport,
  createWeComAgent,
  createWeComPool,
  type AttemptResult,
} from './transport.ts';
import { endpoint } from './endpoint.ts';
import { numberField, stringField, type WireObject } from './wire.ts';
import { usersApi } from './users.ts';
import { departmentsApi } from './departments.ts';
import { tagsApi } from './tags.ts';
import { batchApi } from './batch.ts';
import { exportApi } from './export.ts';
import { linkedCorpApi } from './linked-corp.ts';
import { mediaApi } from './media.ts';
import { corpApi } from './corp.ts';
import { agentApi } from './agent.ts';

export const DEFAULT_BASE_URL = 'https://qyapi.weixin.qq.com';
/** Overall deadline of a call (queueing, token, attempts and backoff) unless the call sets one. */
export const DEFAULT_DEADLINE_MS = 30_000;
/** -1, HTTP 5xx and network errors: at most two retries (reads only, or writes never sent). */
export const MAX_TRANSIENT_RETRIES = 2;
/** 45009 windows waited out per call before giving up. */
export const MAX_RATE_LIMIT_RETRIES = 3;
/** 45033 refusals retried per call, each after lowering the endpoint's concurrency. */
export const MAX_CONCURRENCY_RETRIES = 5;
export const DEFAULT_RETRY_BASE_DELAY_MS = 100;
export const DEFAULT_RETRY_MAX_DELAY_MS = 2_000;

export interface WeComSecrets {
  /** The contacts-sync secret (通讯录同步): writes, user/list_id, join QR code, active stat. */
  contact?: string;
  /** A self-built app: reads within its visibility, linked corps. */
  app?: { agentId: number; secret: string };
}

/** A pino-compatible logger subset. Log objects carry endpoint paths and errcodes, never credentials. */
export interface WeComLogger {
  debug?(obj: Record<string, unknown>, msg: string): void;
  info?(obj: Record<string, unknown>, msg: string): void;
  warn?(obj: Record<string, unknown>, msg: string): void;
  error?(obj: Record<string, unknown>, msg: string): void;
}

export interface WeComCoreOptions {
  /** Default https://qyapi.weixin.qq.com; the emulator's URL in development and tests. */
  baseUrl?: string;
  corpId: string;
  secrets: WeComSecrets;
  /** The undici Pool/Agent to use. Without one the client creates (and closes) its own Pool. */
  dispatcher?: Dispatcher;
  /** For export result downloads from other hosts; default: an Agent the client creates lazily. */
  downloadDispatcher?: Dispatcher;
  connectTimeoutMs?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  maxConnections?: number;
  maxResponseSize?: number;
  /** Default overall deadline per call (ms). */
  deadlineMs?: number;
  /** Calls per rate window per endpoint path, overriding the default budget. */
  rateBudget?: Record<string, number>;
  /** Fraction of WeCom's per-corp per-API limit used as the default budget (0.8). */
  rateBudgetFraction?: number;
  /** Fraction of each endpoint's budget one GraphQL caller may use per window (scheduler.ts, 0.25). */
  callerShare?: number;
  /** WeCom's frequency window (60 s); a 45009 closes the endpoint for this long. Shorten only in tests. */
  rateLimitWindowMs?: number;
  concurrency?: number;
  concurrencyPerEndpoint?: Record<string, number>;
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  tokenStore?: TokenStore;
  /** The rate budget shared with the other instances (Redis when scaled out); this process's own otherwise. */
  sharedRateBudget?: SharedRateBudget;
  tokenSafetyMarginMs?: number;
  configErrorCooldownMs?: number;
  hooks?: WeComClientHooks;
  logger?: WeComLogger;
  /** Injectable clock, randomness and sleep (tests). */
  now?: () => number;
  random?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** The call's overall deadline: one signal for the caller's abort and the time limit. */
class Deadline {
  readonly signal: AbortSignal;
  readonly at: number;
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly detach: () => void;

  constructor(options: CallOptions | undefined, defaultMs: number, now: number) {
    const ms = Math.max(0, options?.deadlineMs ?? defaultMs);
    this.at = now + ms;
    this.signal = this.controller.signal;
    this.timer = setTimeout(() => this.controller.abort(new Error('deadline reached')), ms);
    this.timer.unref?.();
    const caller = options?.signal;
    if (caller?.aborted) this.controller.abort(caller.reason);
    const onAbort = () => this.controller.abort(caller?.reason);
    caller?.addEventListener('abort', onAbort, { once: true });
    this.detach = () => caller?.removeEventListener('abort', onAbort);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.detach();
  }
}

const gettoken = endpoint<{ corpid: string; corpsecret: string }, FetchedToken>({
  method: 'GET',
  path: '/cgi-bin/gettoken',
  token: 'none',
  effect: 'read',
  query: (p) => ({ corpid: p.corpid, corpsecret: p.corpsecret }),
  parse: (wire) => ({ accessToken: stringField(wire, 'access_token'), expiresIn: numberField(wire, 'expires_in') }),
});

/** A secret chosen for a call. */
interface Credential {
  kind: SecretKind;
  secret: string;
}

export class WeComCore {
  readonly corpId: string;
  readonly agentId: number | undefined;
  readonly metrics: Metrics;
  readonly scheduler: Scheduler;
  readonly tokens: TokenManager;
  readonly redactor: Redactor;
  readonly transport: Transport;
  private readonly origin: string;
  private readonly pathPrefix: string;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private downloadDispatcherInstance: Dispatcher | undefined;
  private readonly ownsDownloadDispatcher: boolean;
  private readonly contact: Credential | undefined;
  private readonly app: Credential | undefined;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** WeCom's last 45009 errmsg per endpoint, reported to callers whose wait would outlast their deadline. */
  private readonly lastRateLimit = new Map<string, string>();
  private closed = false;

  constructor(private readonly options: WeComCoreOptions) {
    if (!options.corpId) throw new WeComConfigError(undefined, 'corpId is required (WECOM_CORP_ID)');
    if (!options.secrets.contact && !options.secrets.app) {
      throw new WeComConfigError(undefined, 'at least one secret is required: the contacts-sync secret or an app secret');
    }
    this.corpId = options.corpId;
    this.agentId = options.secrets.app?.agentId;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? ((ms, signal) => sleepTimer(ms, undefined, { signal }));
    this.contact = options.secrets.contact ? { kind: 'contact', secret: options.secrets.contact } : undefined;
    this.app = options.secrets.app ? { kind: 'app', secret: options.secrets.app.secret } : undefined;
    this.redactor = new Redactor([options.secrets.contact ?? '', options.secrets.app?.secret ?? '']);

    const base = new URL(options.baseUrl ?? DEFAULT_BASE_URL);
    this.origin = base.origin;
    this.pathPrefix = base.pathname.replace(/\/+$/, '');
    const timeouts = {
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_TIMEOUTS.connectTimeoutMs,
      headersTimeoutMs: options.headersTimeoutMs ?? DEFAULT_TIMEOUTS.headersTimeoutMs,
      bodyTimeoutMs: options.bodyTimeoutMs ?? DEFAULT_TIMEOUTS.bodyTimeoutMs,
    };
    const maxResponseSize = options.maxResponseSize ?? DEFAULT_MAX_RESPONSE_SIZE;
    this.ownsDispatcher = !options.dispatcher;
    this.dispatcher =
      options.dispatcher ?? createWeComPool(this.origin, { ...timeouts, maxResponseSize, maxConnections: options.maxConnections });
    this.downloadDispatcherInstance = options.downloadDispatcher;
    this.ownsDownloadDispatcher = !options.downloadDispatcher;
    this.transport = new Transport(this.dispatcher, timeouts, maxResponseSize, this.redactor);

    this.metrics = new Metrics(options.hooks);
    this.scheduler = new Scheduler({
      rateBudget: options.rateBudget,
      rateBudgetFraction: options.rateBudgetFraction,
      ...(options.callerShare !== undefined ? { callerShare: options.callerShare } : {}),
      rateWindowMs: options.rateLimitWindowMs,
      concurrency: options.concurrency,
      concurrencyPerEndpoint: options.concurrencyPerEndpoint,
      now: this.now,
      random: this.random,
      onQueue: (e) => this.metrics.queue(e),
      ...(options.sharedRateBudget ? { shared: options.sharedRateBudget, sleep: this.sleep } : {}),
    });
    this.tokens = new TokenManager({
      corpId: options.corpId,
      store: options.tokenStore,
      safetyMarginMs: options.tokenSafetyMarginMs,
      configErrorCooldownMs: options.configErrorCooldownMs,
      now: this.now,
      fetch: (secret) => this.fetchToken(secret),
      onRefresh: (e) => {
        this.metrics.tokenRefresh(e);
        this.log(e.ok ? 'debug' : 'warn', { secretKind: e.secretKind, ok: e.ok, durationMs: e.durationMs, errcode: e.errcode }, 'wecom access token fetched');
      },
    });
  }

  /** Runs `endpoint` (the resource modules call this). */
  readonly invoke: Invoke = (ep, params, options) => this.call(ep, params, options);

  async call<P, R>(ep: Endpoint<P, R>, params: P, options?: CallOptions): Promise<R> {
    if (this.closed) throw new WeComTransportError(ep.path, 'UND_ERR_CLOSED', 'the client is closed');
    const request = upstreamRequests.getStore();
    // A request cut off by its time limit: its resolvers may still be running, but call no more.
    if (request?.ended) throw new WeComTimeoutError(ep.path, 'deadline', request.ended);
    if (request) request.calls[ep.path] = (request.calls[ep.path] ?? 0) + 1;
    const deadline = new Deadline(options, this.options.deadlineMs ?? DEFAULT_DEADLINE_MS, this.now());
    try {
      return await this.run(ep, params, deadline, options?.via);
    } catch (err) {
      const error = this.asWeComError(err, ep.path, deadline);
      if (request) {
        // Counted for the request's one summary line (execution-limits.ts): a flood of refused
        // calls must not become a flood of log lines.
        const key = `${ep.path} ${error.kind}`;
        request.failures[key] = (request.failures[key] ?? 0) + 1;
        this.log('debug', { endpoint: ep.path, error: error.message, kind: error.kind }, 'wecom call failed');
        throw error;
      }
      // A lookup of something absent is routine (loaders turn it into null): debug, not warn.
      this.log(error.category === 'not-found' ? 'debug' : 'warn', { endpoint: ep.path, error: error.message, kind: error.kind }, 'wecom call failed');
      throw error;
    } finally {
      deadline.dispose();
    }
  }

  /** Metrics counters and the scheduler's lanes (queue depth, in flight, current caps). */
  stats(): MetricsSnapshot & { scheduler: Record<string, LaneSnapshot>; gettokenCalls: number } {
    return { ...this.metrics.snapshot(), scheduler: this.scheduler.snapshot(), gettokenCalls: this.tokens.refreshes };
  }

  /**
   * Readiness: a valid access token for every configured secret, from the token store or from a
   * gettoken (which shows WeCom answers and the credentials hold). Rejects with the call's error.
   */
  async probeTokens(): Promise<void> {
    const credentials = [this.contact, this.app].filter((c): c is Credential => c !== undefined);
    await Promise.all(credentials.map((c) => this.tokens.get(c.secret, c.kind)));
  }

  /** The dispatcher for downloading from `url` (export results): ours for WeCom's origin, else a download Agent. */
  downloadDispatcher(url: string): Dispatcher {
    if (new URL(url).origin === this.origin) return this.dispatcher;
    if (!this.downloadDispatcherInstance) {
      this.downloadDispatcherInstance = createWeComAgent({
        connectTimeoutMs: this.options.connectTimeoutMs,
        headersTimeoutMs: this.options.headersTimeoutMs,
        bodyTimeoutMs: this.options.bodyTimeoutMs,
        maxResponseSize: this.options.maxResponseSize,
        maxConnections: this.options.maxConnections,
      });
    }
    return this.downloadDispatcherInstance;
  }

  /** A deadline-bound scope for work outside `call` (downloads). */
  async withDeadline<T>(options: CallOptions | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const deadline = new Deadline(options, this.options.deadlineMs ?? DEFAULT_DEADLINE_MS, this.now());
    try {
      return await fn(deadline.signal);
    } finally {
      deadline.dispose();
    }
  }

  redact(text: string): string {
    return this.redactor.redact(text);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.scheduler.close(new WeComTransportError(undefined, 'UND_ERR_CLOSED', 'the client is closed'));
    if (this.ownsDispatcher) await this.dispatcher.close();
    if (this.ownsDownloadDispatcher && this.downloadDispatcherInstance) await this.downloadDispatcherInstance.close();
  }

  private async fetchToken(secret: string): Promise<FetchedToken> {
    const deadline = new Deadline(undefined, this.options.deadlineMs ?? DEFAULT_DEADLINE_MS, this.now());
    try {
      const fetched = await this.run(gettoken, { corpid: this.corpId, corpsecret: secret }, deadline);
      this.redactor.addToken(fetched.accessToken);
      return fetched;
    } catch (err) {
      throw this.asWeComError(err, gettoken.path, deadline);
    } finally {
      deadline.dispose();
    }
  }

  /** Which secret serves `ep` (wecom-api.md §2); a missing one is a configuration error, not a call. */
  private credentialFor(ep: Endpoint<unknown, unknown>, via: SecretKind | undefined): Credential | undefined {
    if (via && ep.token !== 'none') {
      const allowed = ep.token === 'read' || ep.token === 'owner' || ep.token === via;
      const chosen = via === 'contact' ? this.contact : this.app;
      if (!allowed) throw new WeComConfigError(ep.path, `${ep.path} cannot be called with the ${via === 'app' ? 'app' : 'contacts-sync'} secret`);
      if (!chosen) throw new WeComConfigError(ep.path, `no ${via === 'app' ? 'app' : 'contacts-sync'} secret is configured`);
      return chosen;
    }
    switch (ep.token) {
      case 'none':
        return undefined;
      case 'contact':
        if (!this.contact) throw new WeComConfigError(ep.path, `${ep.path} needs the contacts-sync secret (WECOM_CONTACT_SECRET); app secrets get 48002`);
        return this.contact;
      case 'app':
        if (!this.app) throw new WeComConfigError(ep.path, `${ep.path} needs a self-built app secret (WECOM_APP_SECRET, WECOM_AGENT_ID)`);
        return this.app;
      case 'read':
        return (this.app ?? this.contact)!;
      case 'owner':
        return (this.contact ?? this.app)!;
    }
  }

  private async run<P, R>(ep: Endpoint<P, R>, params: P, deadline: Deadline, via?: SecretKind): Promise<R> {
    const credential = this.credentialFor(ep as Endpoint<unknown, unknown>, via);
    let attempt = 0;
    let transientRetries = 0;
    let rateRetries = 0;
    let concurrencyRetries = 0;
    let tokenReplayed = false;

    for (;;) {
      attempt++;
      const permit = await this.admit(ep.path, deadline);
      // The token is taken once admitted, so calls queued behind a refresh use the fresh one.
      let token: string | undefined;
      let started = this.now();
      let result: AttemptResult;
      let inFlight: number;
      try {
        token = credential ? await this.tokenFor(credential, ep.path, deadline) : undefined;
        started = this.now();
        result = await this.transport.attempt(this.buildRequest(ep, params, token), deadline.signal);
      } catch (err) {
        permit.release(false);
        throw err;
      } finally {
        inFlight = this.scheduler.inFlight(ep.path);
      }
      const durationMs = this.now() - started;

      if (result.kind === 'json') {
        const errcode = typeof result.wire.errcode === 'number' ? result.wire.errcode : 0;
        this.metrics.request({ endpoint: ep.path, attempt, outcome: errcode === 0 ? 'ok' : 'api-error', errcode, durationMs });
        if (errcode === 0) {
          permit.release(true);
          return this.parse(ep, result.wire);
        }
        // React to WeCom's limits before the slot is freed, so no queued call starts at the old pace.
        const errmsg = this.redactor.redact(typeof result.wire.errmsg === 'string' ? result.wire.errmsg : '');
        let rateWaitMs = 0;
        if (errcode === 45009) {
          rateWaitMs = this.scheduler.blockForRateLimit(ep.path);
          this.lastRateLimit.set(ep.path, errmsg);
        }
        if (errcode === 45033) this.scheduler.lowerConcurrency(ep.path, inFlight);
        permit.release(false);
        if (ep.token === 'none' && CONFIG_ERRCODES.has(errcode)) {
          const known = meaningOf(errcode);
          // A wrong corpid/secret stays wrong: no retry (repeated bad gettokens get the IP blocked).
          throw new WeComConfigError(ep.path, `gettoken refused the configuration: ${errcode} ${known?.meaning ?? errmsg}${known?.hint ? ` (${known.hint})` : ''}`, errcode);
        }
        const apiError = new WeComApiError(ep.path, errcode, errmsg);

        if (TOKEN_ERRCODES.has(errcode) && credential && token && !tokenReplayed) {
          // WeCom may invalidate a token before its expiry: refetch once and replay once (§1).
          tokenReplayed = true;
          await this.tokens.invalidate(credential.secret, token);
          this.retried(ep.path, attempt, 'token-expired', 0, errcode);
          continue;
        }
        if (errcode === 45009 && rateRetries < MAX_RATE_LIMIT_RETRIES) {
          // Frequency limit: refused before processing, so even a write may go again once the window is over.
          rateRetries++;
          if (this.now() + rateWaitMs > deadline.at) throw apiError;
          this.retried(ep.path, attempt, 'rate-limited', rateWaitMs, errcode);
          continue;
        }
        if (errcode === 45033 && concurrencyRetries < MAX_CONCURRENCY_RETRIES) {
          // Concurrency limit: refused before processing; retry with fewer calls in parallel.
          concurrencyRetries++;
          await this.backoff(ep.path, attempt, 'concurrency-limited', concurrencyRetries, deadline, apiError, errcode);
          continue;
        }
        if (errcode === -1) {
          if (ep.effect === 'read' && transientRetries < MAX_TRANSIENT_RETRIES) {
            // -1 is "system busy, retry later" (§10); repeating a read is harmless.
            transientRetries++;
            await this.backoff(ep.path, attempt, 'busy', transientRetries, deadline, apiError, errcode);
            continue;
          }
          // A write answered "busy" may or may not have been applied: read back instead of resending.
          if (ep.effect === 'write') return this.reconcile(ep, params, deadline, 'WeCom answered -1 (system busy)', via);
        }
        throw apiError;
      }

      permit.release(false);
      this.metrics.request({
        endpoint: ep.path,
        attempt,
        outcome: result.kind === 'http' ? 'http-error' : result.kind === 'transport' ? 'transport-error' : result.kind,
        ...(result.kind === 'http' ? { httpStatus: result.status } : {}),
        durationMs,
      });

      if (result.kind === 'http') {
        const error = new WeComHttpError(ep.path, result.status, result.detail);
        if (result.status < 500) throw error;
        if (ep.effect === 'read' && transientRetries < MAX_TRANSIENT_RETRIES) {
          // A 5xx comes from WeCom's gateway; repeating a read is harmless.
          transientRetries++;
          await this.backoff(ep.path, attempt, 'http-5xx', transientRetries, deadline, error);
          continue;
        }
        if (ep.effect === 'write') return this.reconcile(ep, params, deadline, `HTTP ${result.status}`, via);
        throw error;
      }

      if (result.kind === 'aborted') {
        // The deadline (or the caller) ended the call: no time is left to read back.
        if (ep.effect === 'write' && result.sent) {
          this.metrics.reconcile({ endpoint: ep.path, outcome: 'unverifiable' });
          throw new WeComOutcomeUnknownError(ep.path, 'unverifiable', 'the deadline was reached after sending');
        }
        throw new WeComTimeoutError(ep.path, 'deadline');
      }

      const error =
        result.kind === 'timeout'
          ? new WeComTimeoutError(ep.path, result.phase)
          : new WeComTransportError(ep.path, result.code, result.detail);
      if ((ep.effect === 'read' || !result.sent) && transientRetries < MAX_TRANSIENT_RETRIES) {
        // A read, or a request that never left this host: repeating it cannot duplicate anything.
        transientRetries++;
        await this.backoff(ep.path, attempt, result.kind === 'timeout' ? 'timeout' : 'network', transientRetries, deadline, error);
        continue;
      }
      if (ep.effect === 'write' && result.sent) {
        const reason = result.kind === 'timeout' ? `timed out (${result.phase})` : `transport failure (${result.code ?? 'unknown'})`;
        return this.reconcile(ep, params, deadline, reason, via);
      }
      throw error;
    }
  }

  /** The write's answer was lost: read back where WeCom allows it, otherwise report "unknown". */
  private async reconcile<P, R>(ep: Endpoint<P, R>, params: P, deadline: Deadline, reason: string, via?: SecretKind): Promise<R> {
    const remainingMs = deadline.at - this.now();
    if (!ep.readBack || remainingMs <= 0) {
      this.metrics.reconcile({ endpoint: ep.path, outcome: 'unverifiable' });
      throw new WeComOutcomeUnknownError(ep.path, 'unverifiable', reason);
    }
    let readBack;
    try {
      readBack = await ep.readBack(params, this.invoke, { signal: deadline.signal, deadlineMs: remainingMs, ...(via ? { via } : {}) });
    } catch (err) {
      this.metrics.reconcile({ endpoint: ep.path, outcome: 'unverifiable' });
      this.log('warn', { endpoint: ep.path, error: this.asWeComError(err, ep.path, deadline).message }, 'wecom read-back failed');
      throw new WeComOutcomeUnknownError(ep.path, 'unverifiable', reason);
    }
    if (readBack.applied) {
      this.metrics.reconcile({ endpoint: ep.path, outcome: 'applied' });
      this.log('info', { endpoint: ep.path, reason }, 'wecom write answer lost; read-back shows it applied');
      return readBack.result;
    }
    this.metrics.reconcile({ endpoint: ep.path, outcome: 'not-applied' });
    throw new WeComOutcomeUnknownError(ep.path, 'not-applied', reason);
  }

  private async tokenFor(credential: Credential, path: string, deadline: Deadline): Promise<string> {
    return abortable(this.tokens.get(credential.secret, credential.kind), deadline.signal, () => new WeComTimeoutError(path, 'deadline', 'waiting for an access token'));
  }

  private async admit(path: string, deadline: Deadline): Promise<Permit> {
    try {
      return await this.scheduler.acquire(path, deadline.signal, deadline.at);
    } catch (err) {
      if (err instanceof QueueDeadlineError && err.waitingFor === 'blocked') {
        const errmsg = this.lastRateLimit.get(path);
        // The endpoint is waiting out a 45009 window that ends after this call's deadline.
        if (errmsg !== undefined) throw new WeComApiError(path, 45009, errmsg);
      }
      if (err instanceof QueueDeadlineError) {
        throw new WeComTimeoutError(path, 'queue', `waiting for the ${err.waitingFor === 'rate' ? 'rate budget' : 'endpoint'} would outlast the deadline`);
      }
      if (err instanceof WeComError) throw err;
      throw new WeComTimeoutError(path, 'queue', 'the deadline was reached while queued');
    }
  }

  /** Full-jitter exponential backoff; gives up at once when the wait would outlast the deadline. */
  private async backoff(
    path: string,
    attempt: number,
    reason: RetryReason,
    retryNumber: number,
    deadline: Deadline,
    lastError: WeComError,
    errcode?: number,
  ): Promise<void> {
    const base = this.options.retryBaseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS;
    const cap = this.options.retryMaxDelayMs ?? DEFAULT_RETRY_MAX_DELAY_MS;
    const delay = Math.floor(this.random() * Math.min(cap, base * 2 ** (retryNumber - 1)));
    if (this.now() + delay >= deadline.at) throw lastError;
    this.retried(path, attempt, reason, delay, errcode);
    try {
      await this.sleep(delay, deadline.signal);
    } catch {
      throw new WeComTimeoutError(path, 'deadline', 'the deadline was reached during backoff');
    }
  }

  private retried(endpoint: string, attempt: number, reason: RetryReason, delayMs: number, errcode?: number): void {
    this.metrics.retry({ endpoint, attempt, reason, delayMs });
    const request = upstreamRequests.getStore();
    if (request) {
      // Part of the request's one summary line (security/execution-limits.ts).
      const key = `${endpoint} retried`;
      request.failures[key] = (request.failures[key] ?? 0) + 1;
    }
    this.log(request ? 'debug' : 'warn', { endpoint, attempt, reason, delayMs, ...(errcode !== undefined ? { errcode } : {}) }, 'wecom call retried');
  }

  private buildRequest<P>(ep: Endpoint<P, unknown>, params: P, token: string | undefined) {
    // URLSearchParams encodes every value, so no value can smuggle in another parameter.
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(ep.query?.(params) ?? {})) {
      if (value !== undefined) query.set(key, String(value));
    }
    if (token) query.set('access_token', token);
    const qs = query.toString();
    const url = `${this.origin}${this.pathPrefix}${ep.path}${qs ? `?${qs}` : ''}`;
    if (ep.method === 'GET') return { method: ep.method, url };
    if (ep.form) return { method: ep.method, url, body: ep.form(params) };
    // JSON.stringify writes raw UTF-8, never \uXXXX escapes for non-ASCII (40033, §0).
    return { method: ep.method, url, body: JSON.stringify(ep.body?.(params) ?? {}), contentType: 'application/json' };
  }

  private parse<P, R>(ep: Endpoint<P, R>, wire: WireObject): R {
    try {
      return ep.parse(wire);
    } catch (err) {
      throw new WeComHttpError(ep.path, 200, `the response does not match the documented shape: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Anything escaping a call becomes a WeComError with a redacted message. */
  private asWeComError(err: unknown, path: string, deadline: Deadline): WeComError {
    if (err instanceof WeComError) return err;
    if (deadline.signal.aborted) return new WeComTimeoutError(path, 'deadline');
    const message = err instanceof Error ? err.message : String(err);
    return new WeComTransportError(path, undefined, this.redactor.redact(message));
  }

  private log(level: keyof WeComLogger, obj: Record<string, unknown>, msg: string): void {
    const logger = this.options.logger;
    if (!logger) return;
    try {
      logger[level]?.(obj, msg);
    } catch {
      // A failing logger must not fail the call.
    }
  }
}

/** Waits for `promise`, or rejects with `onAbort()` when `signal` aborts first. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal, onAbort: () => Error): Promise<T> {
  if (signal.aborted) return Promise.reject(onAbort());
  return new Promise<T>((resolve, reject) => {
    const listener = () => reject(onAbort());
    signal.addEventListener('abort', listener, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', listener);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', listener);
        reject(e);
      },
    );
  });
}

export interface WeComClientOptions extends WeComCoreOptions {}

/**
 * The typed WeCom client: one group per resource, camelCase here and WeCom's names on the wire.
 * `close()` ends the Pool the client created (an injected dispatcher is left to its owner).
 */
export function createWeComClient(options: WeComClientOptions) {
  const core = new WeComCore(options);
  const invoke = core.invoke;
  return {
    users: usersApi(invoke),
    departments: departmentsApi(invoke),
    tags: tagsApi(invoke),
    batch: batchApi(invoke),
    export: exportApi(invoke, core),
    linkedCorp: linkedCorpApi(invoke),
    media: mediaApi(invoke),
    corp: corpApi(invoke),
    agent: agentApi(invoke),
    /** Runs any endpoint descriptor (for endpoints added before they get a method). */
    call: invoke,
    /** Counters per endpoint and errcode, retries, token refreshes, queue depths and current caps. */
    stats: () => core.stats(),
    core,
    close: () => core.close(),
  };
}

export type WeComClient = ReturnType<typeof createWeComClient>;
