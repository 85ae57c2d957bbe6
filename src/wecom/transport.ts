/**
 * One HTTP attempt with undici `request` on the injected dispatcher (never the global one):
 * per-attempt header and body timeouts, a response size cap, the body always consumed or
 * destroyed, and every failure turned into a plain result that says whether the request may
 * have reached WeCom. Retrying and error types are decided by client.ts.
 */
import { Agent, Pool, request, type Dispatcher, type FormData } from 'undici';
import type { Redactor } from './redact.ts';
import type { WireObject } from './wire.ts';

export interface TransportTimeouts {
  /** TCP/TLS connect (set on the dispatcher the client creates). Default 5 s. */
  connectTimeoutMs: number;
  /** From sending the request to the response headers, per attempt. Default 10 s. */
  headersTimeoutMs: number;
  /** Between body chunks, per attempt. Default 10 s. */
  bodyTimeoutMs: number;
}

export const DEFAULT_TIMEOUTS: TransportTimeouts = {
  connectTimeoutMs: 5_000,
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 10_000,
};
/** WeCom's largest JSON answers (user/list of a big department) stay well under this. */
export const DEFAULT_MAX_RESPONSE_SIZE = 64 * 1024 * 1024;
export const DEFAULT_MAX_CONNECTIONS = 32;
/** Idle keep-alive sockets are kept this long unless the server's keep-alive hint is shorter. */
export const KEEP_ALIVE_TIMEOUT_MS = 30_000;

export interface DispatcherOptions extends Partial<TransportTimeouts> {
  maxConnections?: number;
  maxResponseSize?: number;
}

function dispatcherSettings(options: DispatcherOptions) {
  return {
    // One request at a time per connection: keep-alive without pipelining.
    pipelining: 1,
    connections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    connectTimeout: options.connectTimeoutMs ?? DEFAULT_TIMEOUTS.connectTimeoutMs,
    headersTimeout: options.headersTimeoutMs ?? DEFAULT_TIMEOUTS.headersTimeoutMs,
    bodyTimeout: options.bodyTimeoutMs ?? DEFAULT_TIMEOUTS.bodyTimeoutMs,
    maxResponseSize: options.maxResponseSize ?? DEFAULT_MAX_RESPONSE_SIZE,
  };
}

/** The Pool the client uses when none is injected: keep-alive, no pipelining, capped, short timeouts. */
export function createWeComPool(origin: string, options: DispatcherOptions = {}): Pool {
  return new Pool(origin, dispatcherSettings(options));
}

/** An Agent with the same settings, for downloads from other hosts (export result URLs). */
export function createWeComAgent(options: DispatcherOptions = {}): Agent {
  return new Agent(dispatcherSettings(options));
}

export interface AttemptRequest {
  method: 'GET' | 'POST';
  /** Absolute URL; its query already holds the token, so it is never logged or put in errors. */
  url: string;
  body?: string | FormData;
  contentType?: string;
}

export type AttemptResult =
  | { kind: 'json'; wire: WireObject }
  | { kind: 'http'; status: number; detail?: string }
  | { kind: 'timeout'; phase: 'connect' | 'headers' | 'body'; sent: boolean }
  | { kind: 'transport'; code: string | undefined; detail: string; sent: boolean }
  /** The call's deadline or the caller's signal ended the attempt. */
  | { kind: 'aborted'; sent: boolean };

/** Error codes raised before a request could leave this host: repeating it cannot duplicate a write. */
const NOT_SENT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_DESTROYED',
  'UND_ERR_CLOSED',
]);

export class Transport {
  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly timeouts: TransportTimeouts,
    private readonly maxResponseSize: number,
    private readonly redactor: Redactor,
  ) {}

  async attempt(req: AttemptRequest, signal: AbortSignal): Promise<AttemptResult> {
    const got = await this.fetchBytes(
      req.url,
      this.dispatcher,
      { method: req.method, headers: req.contentType ? { 'content-type': req.contentType } : {}, body: req.body ?? null },
      signal,
    );
    if ('failure' in got) return got.failure;
    if (got.status !== 200) return { kind: 'http', status: got.status };
    return parseJson(got.bytes);
  }

  /** Downloads bytes (export result files) with the same limits. */
  async download(
    url: string,
    dispatcher: Dispatcher,
    signal: AbortSignal,
  ): Promise<{ status: number; bytes?: Buffer; failure?: AttemptResult }> {
    const got = await this.fetchBytes(url, dispatcher, { method: 'GET', headers: {}, body: null }, signal);
    if ('failure' in got) return { status: 0, failure: got.failure };
    return got.status === 200 ? { status: 200, bytes: got.bytes } : { status: got.status };
  }

  /**
   * One request, its body read in full (200) or drained (other statuses) so the socket goes
   * back to the pool. The header timeout is our own timer: undici's ticks once a second,
   * which would stretch short timeouts.
   */
  private async fetchBytes(
    url: string,
    dispatcher: Dispatcher,
    init: { method: 'GET' | 'POST'; headers: Record<string, string>; body: string | FormData | null },
    signal: AbortSignal,
  ): Promise<{ status: number; bytes: Buffer } | { failure: AttemptResult }> {
    const attempt = new AbortController();
    const onAbort = () => attempt.abort(signal.reason);
    if (signal.aborted) attempt.abort(signal.reason);
    else signal.addEventListener('abort', onAbort, { once: true });
    let headersTimedOut = false;
    const headersTimer = setTimeout(() => {
      headersTimedOut = true;
      attempt.abort(new Error('headers timeout'));
    }, this.timeouts.headersTimeoutMs);
    try {
      let response: Dispatcher.ResponseData;
      try {
        response = await request(url, {
          dispatcher,
          ...init,
          signal: attempt.signal,
          headersTimeout: this.timeouts.headersTimeoutMs,
          bodyTimeout: this.timeouts.bodyTimeoutMs,
        });
      } catch (err) {
        // Our timer cannot tell whether the connection had opened: count the request as sent.
        if (headersTimedOut && !signal.aborted) return { failure: { kind: 'timeout', phase: 'headers', sent: true } };
        return { failure: this.failure(err, signal, false) };
      } finally {
        clearTimeout(headersTimer);
      }
      if (response.statusCode !== 200) {
        await response.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
        return { status: response.statusCode, bytes: Buffer.alloc(0) };
      }
      try {
        return { status: 200, bytes: await readCapped(response.body, this.maxResponseSize) };
      } catch (err) {
        return { failure: this.failure(err, signal, true) };
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Classifies an undici/system error; `bodyPhase`: the headers had arrived. */
  private failure(err: unknown, signal: AbortSignal, bodyPhase: boolean): AttemptResult {
    const code = errorCode(err);
    if (signal.aborted) return { kind: 'aborted', sent: bodyPhase || !NOT_SENT_CODES.has(code ?? '') };
    if (code === 'UND_ERR_CONNECT_TIMEOUT') return { kind: 'timeout', phase: 'connect', sent: false };
    if (code === 'UND_ERR_HEADERS_TIMEOUT') return { kind: 'timeout', phase: 'headers', sent: true };
    if (code === 'UND_ERR_BODY_TIMEOUT') return { kind: 'timeout', phase: 'body', sent: true };
    const sent = bodyPhase || !NOT_SENT_CODES.has(code ?? '');
    const message = err instanceof Error ? err.message : String(err);
    return { kind: 'transport', code, detail: this.redactor.redact(message), sent };
  }
}

/** A 200 answer must be a JSON object (WeCom's envelope); anything else is an HTTP-level failure. */
function parseJson(bytes: Buffer): AttemptResult {
  try {
    const wire: unknown = JSON.parse(bytes.toString('utf8'));
    if (!wire || typeof wire !== 'object' || Array.isArray(wire))
      return { kind: 'http', status: 200, detail: 'response is not a JSON object' };
    return { kind: 'json', wire: wire as WireObject };
  } catch {
    return { kind: 'http', status: 200, detail: 'response is not JSON' };
  }
}

class ResponseTooLarge extends Error {
  readonly code = 'UND_ERR_RES_EXCEEDED_MAX_SIZE';
  constructor(limit: number) {
    super(`response body exceeds maxResponseSize (${limit} bytes)`);
  }
}

/** Reads a body fully, destroying it as soon as it passes `limit` bytes. */
async function readCapped(body: Dispatcher.ResponseData['body'], limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (limit >= 0 && size > limit) {
      body.destroy();
      throw new ResponseTooLarge(limit);
    }
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

function errorCode(err: unknown): string | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const own = (err as { code?: unknown }).code;
  if (typeof own === 'string') return own;
  const cause = (err as { cause?: unknown }).cause;
  if (cause && typeof cause === 'object') {
    const c = (cause as { code?: unknown }).code;
    if (typeof c === 'string') return c;
  }
  // AggregateError from happy-eyeballs connects carries the codes on its members.
  const errors = (err as { errors?: unknown }).errors;
  if (Array.isArray(errors)) {
    for (const e of errors) {
      const c = errorCode(e);
      if (c) return c;
    }
  }
  return undefined;
}
