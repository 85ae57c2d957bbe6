/**
 * The WeCom client's engine: runs endpoint descriptors over the transport with the right token,
 * through the scheduler, turning errcodes into typed errors and applying the retry rules
 * (retry-policy.ts decides; this class waits, backs off, reads back and keeps the deadline).
 *
 * Over 400 lines because it is one state machine (admit, token, attempt, react, read back) whose
 * steps share the scheduler, the token manager and the deadline; the policy and the deadline are
 * already outside it.
 */
import { upstreamRequests } from './request-context.ts';
import { setTimeout as sleepTimer } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import {
  CONFIG_ERRCODES,
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
import { Deadline, abortable } from './deadline.ts';
import { decideRetry, type FailedAttempt, type RetriesSpent } from './retry-policy.ts';

export const DEFAULT_BASE_URL = 'https://qyapi.weixin.qq.com';
/** Overall deadline of a call (queueing, token, attempts and backoff) unless the call sets one. */
export const DEFAULT_DEADLINE_MS = 30_000;
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
        this.log(
          e.ok ? 'debug' : 'warn',
          { secretKind: e.secretKind, ok: e.ok, durationMs: e.durationMs, errcode: e.errcode },
          'wecom access token fetched',
        );
      },
    });
  }

  /** The overall deadline of a call that sets none (queueing, token, attempts and backoff), ms. */
  get deadlineMs(): number {
    return this.options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  }

  /** Runs `endpoint` (the resource modules call this). */
  readonly invoke: Invoke = (ep, params, options) => this.call(ep, params, options);

  async call<P, R>(ep: Endpoint<P, R>, params: P, options?: CallOptions): Promise<R> {
    if (this.closed) throw new WeComTransportError(ep.path, 'UND_ERR_CLOSED', 'the client is closed');
    const request = upstreamRequests.getStore();
    // A request cut off by its time limit: its resolvers may still be running, but call no more.
    if (request?.ended) throw new WeComTimeoutError(ep.path, 'deadline', request.ended);
    if (request) request.calls[ep.path] = (request.calls[ep.path] ?? 0) + 1;
    const deadline = new Deadline(options, this.deadlineMs, this.now());
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
      this.log(
        error.category === 'not-found' ? 'debug' : 'warn',
        { endpoint: ep.path, error: error.message, kind: error.kind },
        'wecom call failed',
      );
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
    const deadline = new Deadline(options, this.deadlineMs, this.now());
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
    const deadline = new Deadline(undefined, this.deadlineMs, this.now());
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

  /** Which secret serves `ep` (docs/wecom-api.md §2); a missing one is a configuration error, not a call. */
  private credentialFor(ep: Endpoint<unknown, unknown>, via: SecretKind | undefined): Credential | undefined {
    if (via && ep.token !== 'none') {
      const allowed = ep.token === 'read' || ep.token === 'owner' || ep.token === via;
      const chosen = via === 'contact' ? this.contact : this.app;
      if (!allowed)
        throw new WeComConfigError(ep.path, `${ep.path} cannot be called with the ${via === 'app' ? 'app' : 'contacts-sync'} secret`);
      if (!chosen) throw new WeComConfigError(ep.path, `no ${via === 'app' ? 'app' : 'contacts-sync'} secret is configured`);
      return chosen;
    }
    switch (ep.token) {
      case 'none':
        return undefined;
      case 'contact':
        if (!this.contact)
          throw new WeComConfigError(ep.path, `${ep.path} needs the contacts-sync secret (WECOM_CONTACT_SECRET); app secrets get 48002`);
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
    const spent: RetriesSpent = { transient: 0, rateLimit: 0, concurrency: 0, tokenReplayed: false };

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

      /** The attempt's own error, thrown when the policy gives up. */
      let error: WeComError;
      let failed: FailedAttempt;
      /** Why a write's answer counts as lost (the read-back's reason). */
      let lostBecause: string;
      let errcode: number | undefined;
      let rateWaitMs = 0;
      if (result.kind === 'json') {
        errcode = typeof result.wire.errcode === 'number' ? result.wire.errcode : 0;
        this.metrics.request({ endpoint: ep.path, attempt, outcome: errcode === 0 ? 'ok' : 'api-error', errcode, durationMs });
        if (errcode === 0) {
          permit.release(true);
          return this.parse(ep, result.wire);
        }
        // React to WeCom's limits before the slot is freed, so no queued call starts at the old pace.
        const errmsg = this.redactor.redact(typeof result.wire.errmsg === 'string' ? result.wire.errmsg : '');
        if (errcode === 45009) {
          rateWaitMs = this.scheduler.blockForRateLimit(ep.path);
          this.lastRateLimit.set(ep.path, errmsg);
        }
        if (errcode === 45033) this.scheduler.lowerConcurrency(ep.path, inFlight);
        permit.release(false);
        if (ep.token === 'none' && CONFIG_ERRCODES.has(errcode)) {
          const known = meaningOf(errcode);
          // A wrong corpid/secret stays wrong: no retry (repeated bad gettokens get the IP blocked).
          throw new WeComConfigError(
            ep.path,
            `gettoken refused the configuration: ${errcode} ${known?.meaning ?? errmsg}${known?.hint ? ` (${known.hint})` : ''}`,
            errcode,
          );
        }
        error = new WeComApiError(ep.path, errcode, errmsg);
        failed = { kind: 'errcode', errcode };
        lostBecause = 'WeCom answered -1 (system busy)';
      } else {
        permit.release(false);
        this.metrics.request({
          endpoint: ep.path,
          attempt,
          outcome: result.kind === 'http' ? 'http-error' : result.kind === 'transport' ? 'transport-error' : result.kind,
          ...(result.kind === 'http' ? { httpStatus: result.status } : {}),
          durationMs,
        });
        switch (result.kind) {
          case 'http':
            error = new WeComHttpError(ep.path, result.status, result.detail);
            failed = { kind: 'http', status: result.status };
            lostBecause = `HTTP ${result.status}`;
            break;
          case 'aborted':
            // The deadline (or the caller) ended the call.
            error = new WeComTimeoutError(ep.path, 'deadline');
            failed = { kind: 'aborted', sent: result.sent };
            lostBecause = 'the deadline was reached after sending';
            break;
          case 'timeout':
            error = new WeComTimeoutError(ep.path, result.phase);
            failed = { kind: 'timeout', sent: result.sent };
            lostBecause = `timed out (${result.phase})`;
            break;
          case 'transport':
            error = new WeComTransportError(ep.path, result.code, result.detail);
            failed = { kind: 'network', sent: result.sent };
            lostBecause = `transport failure (${result.code ?? 'unknown'})`;
            break;
        }
      }

      const decision = decideRetry({ attempt: failed, effect: ep.effect, spent, withToken: Boolean(credential && token) });
      switch (decision.action) {
        case 'replay-with-new-token':
          spent.tokenReplayed = true;
          await this.tokens.invalidate(credential!.secret, token!);
          this.retried(ep.path, attempt, decision.reason, 0, errcode);
          continue;
        case 'retry-after-rate-window':
          spent.rateLimit++;
          if (this.now() + rateWaitMs > deadline.at) throw error;
          this.retried(ep.path, attempt, decision.reason, rateWaitMs, errcode);
          continue;
        case 'retry-after-backoff':
          spent[decision.budget]++;
          await this.backoff(ep.path, attempt, decision.reason, spent[decision.budget], deadline, error, errcode);
          continue;
        case 'read-back':
          return this.reconcile(ep, params, deadline, lostBecause, via);
        case 'outcome-unknown':
          this.metrics.reconcile({ endpoint: ep.path, outcome: 'unverifiable' });
          throw new WeComOutcomeUnknownError(ep.path, 'unverifiable', lostBecause);
        case 'fail':
          throw error;
      }
    }
  }

  /** The write's answer was lost: read back where WeCom allows it, otherwise report "unknown". */
  private async reconcile<P, R>(ep: Endpoint<P, R>, params: P, deadline: Deadline, reason: string, via?: SecretKind): Promise<R> {
    const remainingMs = deadline.at - this.now();
    if (!ep.readBack || remainingMs <= 0) {
      this.metrics.reconcile({ endpoint: ep.path, outcome: 'unverifiable' });
      throw new WeComOutcomeUnknownError(ep.path, 'unverifiable', reason);
    }
    let readBack: Awaited<ReturnType<NonNullable<typeof ep.readBack>>>;
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
    return abortable(
      this.tokens.get(credential.secret, credential.kind),
      deadline.signal,
      () => new WeComTimeoutError(path, 'deadline', 'waiting for an access token'),
    );
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
      if (err instanceof QueueDeadlineError && err.waitingFor === 'ended') throw new WeComTimeoutError(path, 'deadline', err.reason);
      if (err instanceof QueueDeadlineError) {
        throw new WeComTimeoutError(
          path,
          'queue',
          `waiting for the ${err.waitingFor === 'rate' ? 'rate budget' : 'endpoint'} would outlast the deadline`,
        );
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
    this.log(
      request ? 'debug' : 'warn',
      { endpoint, attempt, reason, delayMs, ...(errcode !== undefined ? { errcode } : {}) },
      'wecom call retried',
    );
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
      throw new WeComHttpError(
        ep.path,
        200,
        `the response does not match the documented shape: ${err instanceof Error ? err.message : String(err)}`,
      );
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
