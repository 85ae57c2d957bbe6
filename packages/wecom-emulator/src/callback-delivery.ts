import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { XMLBuilder } from 'fast-xml-parser';
import { encrypt, signature } from 'wecom-protocol/crypto';

/**
 * The wire side of WeCom callbacks (docs/wecom-api.md §9.2, §9.3): build the event XML, encrypt and
 * sign it, POST it with WeCom's timeout and retry rules; and the GET URL verification. Used for
 * `change_contact` (callbacks.ts) and for `batch_job_result` of import and export jobs (§9.7).
 */

/** WeCom waits 5 s for an HTTP 200, then drops the connection and tries again (§9.3). */
export const CALLBACK_TIMEOUT_MS = 5_000;
/** Three attempts in total; any non-200 status or a timeout is a failed attempt (§9.3). */
export const CALLBACK_ATTEMPTS = 3;
/** The receiver must echo the plaintext within 1 s when the URL is configured (§9.2). */
export const URL_VERIFY_TIMEOUT_MS = 1_000;
/** Unconfirmed: WeCom does not publish the pause between attempts; a short one keeps order. */
export const CALLBACK_RETRY_DELAY_MS = 1_000;
/**
 * Unconfirmed: the `AgentID` of the outer envelope of contacts-sync callbacks (§9.3 says it is
 * present for app callbacks only). The emulator sends the element, empty, as the brief's envelope
 * `<xml><ToUserName/><AgentID/><Encrypt/></xml>` shows; receivers must not rely on it.
 */
export const CONTACT_SYNC_AGENT_ID = '';
/** A receiver's answer is read up to this size; the rest is discarded. */
const RESPONSE_LIMIT = 64 * 1024;

/** Event fields: strings go out as CDATA, numbers bare, objects nest, arrays repeat the element. */
export type XmlValue = string | number | XmlFields | XmlFields[];
export interface XmlFields {
  [element: string]: XmlValue | undefined;
}

export interface CallbackTarget {
  url: string;
  token: string;
  encodingAESKey: string;
  /** The id sealed into the ciphertext: the corpid for contacts sync and internal apps (§9.4). */
  receiveId: string;
}

export interface DeliveryTiming {
  timeoutMs: number;
  attempts: number;
  retryDelayMs: number;
}

export const DEFAULT_TIMING: DeliveryTiming = {
  timeoutMs: CALLBACK_TIMEOUT_MS,
  attempts: CALLBACK_ATTEMPTS,
  retryDelayMs: CALLBACK_RETRY_DELAY_MS,
};

export interface DeliveryOutcome {
  delivered: boolean;
  attempts: number;
  /** HTTP status of the last attempt (null: no answer in time, or no connection). */
  httpStatus: number | null;
  /** Why the last attempt failed. Never contains the token or the key. */
  error?: string;
}

export interface EventDelivery extends CallbackTarget {
  /** The decrypted event as elements under `<xml>` (ToUserName, CreateTime, MsgType, Event, …). */
  xmlFields: XmlFields;
  /** Outer `ToUserName`; the receiveid by default. */
  toUserName?: string;
  /** Outer `AgentID` (an app's agent id for app callbacks; see CONTACT_SYNC_AGENT_ID). */
  agentId?: string | number;
  timing?: Partial<DeliveryTiming>;
  /** Seconds for the `timestamp` query parameter (the emulator's clock). */
  nowSeconds?: () => number;
  /** Called as each attempt starts (1-based), so a caller can record progress. */
  onAttempt?: (attempt: number) => void;
  /** Stops the delivery (emulator reset or close): no further attempt, the current one is cut. */
  signal?: AbortSignal;
}

const builder = new XMLBuilder({ cdataPropName: '__cdata', suppressEmptyNode: false });

type BuilderNode = { __cdata: string | string[] } | number | { [k: string]: BuilderNode | BuilderNode[] };

/** CDATA cannot hold "]]>": split it across two sections, as XML requires. */
function cdata(text: string): { __cdata: string | string[] } {
  return {
    __cdata: text.includes(']]>') ? text.split(']]>').map((part, i, all) => (i < all.length - 1 ? `${part}]]` : `>${part}`)) : text,
  };
}

function toNode(value: XmlValue): BuilderNode | BuilderNode[] {
  if (typeof value === 'string') return cdata(value);
  if (typeof value === 'number') return value;
  if (Array.isArray(value)) return value.map((item) => toNode(item) as BuilderNode);
  const out: { [k: string]: BuilderNode | BuilderNode[] } = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toNode(v);
  return out;
}

/** `<xml>…</xml>` with the fields in their given order. */
export function buildXml(fields: XmlFields): string {
  return builder.build({ xml: toNode(fields) }) as string;
}

/** WeCom's nonces are decimal strings (the official samples use 9–10 digits). */
export function numericNonce(digits = 10): string {
  let s = String(randomInt(1, 10));
  while (s.length < digits) s += String(randomInt(0, 10));
  return s;
}

/** The signed query of a callback request. */
function signedUrl(url: string, token: string, encrypted: string, timestamp: number, extra: Record<string, string> = {}): URL {
  const nonce = numericNonce();
  const target = new URL(url);
  target.searchParams.set('msg_signature', signature(token, timestamp, nonce, encrypted));
  target.searchParams.set('timestamp', String(timestamp));
  target.searchParams.set('nonce', nonce);
  for (const [k, v] of Object.entries(extra)) target.searchParams.set(k, v);
  return target;
}

/**
 * Delivers one event: encrypt the XML, wrap it in the `<xml><ToUserName/><AgentID/><Encrypt/></xml>`
 * envelope, sign, and POST until an HTTP 200 arrives within the timeout, at most `attempts` times.
 * Every attempt resends the same signed request, so the receiver can deduplicate it (§9.3).
 */
export async function deliverEvent(input: EventDelivery): Promise<DeliveryOutcome> {
  const timing = { ...DEFAULT_TIMING, ...input.timing };
  const now = input.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  const encrypted = encrypt(input.encodingAESKey, buildXml(input.xmlFields), input.receiveId);
  const body = buildXml({
    ToUserName: input.toUserName ?? input.receiveId,
    AgentID: String(input.agentId ?? CONTACT_SYNC_AGENT_ID),
    Encrypt: encrypted,
  });
  const target = signedUrl(input.url, input.token, encrypted, now());

  let outcome: DeliveryOutcome = { delivered: false, attempts: 0, httpStatus: null };
  for (let attempt = 1; attempt <= timing.attempts; attempt++) {
    if (attempt > 1) await sleep(timing.retryDelayMs, undefined, { signal: input.signal }).catch(() => undefined);
    if (input.signal?.aborted) return { ...outcome, error: 'delivery stopped' };
    input.onAttempt?.(attempt);
    try {
      const res = await exchange(target, 'POST', body, timing.timeoutMs, input.signal);
      if (res.status === 200) return { delivered: true, attempts: attempt, httpStatus: 200 };
      outcome = { delivered: false, attempts: attempt, httpStatus: res.status, error: `HTTP ${res.status}` };
    } catch (err) {
      outcome = { delivered: false, attempts: attempt, httpStatus: null, error: failureText(err) };
    }
  }
  return outcome;
}

export type VerificationResult = { ok: true } | { ok: false; reason: string };

/**
 * URL verification (§9.2): GET `url?msg_signature&timestamp&nonce&echostr=<encrypted random
 * digits>`; the receiver must answer 200 with exactly the plaintext within the timeout.
 */
export async function verifyCallbackUrl(
  target: CallbackTarget & { timeoutMs?: number; nowSeconds?: () => number },
): Promise<VerificationResult> {
  const plaintext = numericNonce(19);
  const echostr = encrypt(target.encodingAESKey, plaintext, target.receiveId);
  const now = target.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  const url = signedUrl(target.url, target.token, echostr, now(), { echostr });
  const timeoutMs = target.timeoutMs ?? URL_VERIFY_TIMEOUT_MS;
  try {
    const res = await exchange(url, 'GET', undefined, timeoutMs);
    if (res.status !== 200)
      return { ok: false, reason: `the URL answered HTTP ${res.status}; it must answer 200 with the decrypted echostr` };
    if (res.text !== plaintext) {
      return { ok: false, reason: 'the URL did not answer with the decrypted echostr (exactly the plaintext: no quotes, BOM or newline)' };
    }
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: failureText(err) };
  }
}

class ExchangeFailure extends Error {}

function failureText(err: unknown): string {
  if (err instanceof ExchangeFailure) return err.message;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? `connection failed (${code})` : 'connection failed';
}

/**
 * One HTTP exchange on a fresh connection (no keep-alive: each callback stands alone, and a stalled
 * receiver cannot hold a pooled socket). The timeout covers the whole answer, body included.
 */
function exchange(
  url: URL,
  method: 'GET' | 'POST',
  body: string | undefined,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<{ status: number; text: string }> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const headers: Record<string, string | number> = { 'user-agent': 'WeCom-Emulator-Callback' };
    if (body !== undefined) {
      headers['content-type'] = 'text/xml; charset=utf-8';
      headers['content-length'] = Buffer.byteLength(body);
    }
    const req = send(url, { method, agent: false, headers }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= RESPONSE_LIMIT) chunks.push(chunk);
      });
      res.on('end', () => settle(() => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') })));
      res.on('error', (err) => settle(() => reject(err)));
      res.on('close', () => settle(() => reject(new Error('connection closed before the answer ended'))));
    });
    const timer = setTimeout(() => {
      settle(() => reject(new ExchangeFailure(`no complete answer within ${timeoutMs} ms`)));
      req.destroy();
    }, timeoutMs);
    const onAbort = () => {
      settle(() => reject(new ExchangeFailure('delivery stopped')));
      req.destroy();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('close', () => signal?.removeEventListener('abort', onAbort));
    req.on('error', (err) => settle(() => reject(err)));
    req.end(body);
  });
}
