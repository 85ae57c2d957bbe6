import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ChangeBus } from '../directory/changes.ts';
import { isCallbackCryptoError, verifyAndDecrypt } from 'wecom-protocol/crypto';
import { type BatchJobResult, type CallbackEvent, interpretEvent } from './events.ts';
import { CallbackRejection } from './rejection.ts';
import { ReplayGuard, type CallbackReplayGuard } from './replay-guard.ts';
import type { CallbackSourceCheck } from './source-ip.ts';
import { parseCallbackXml, text } from './xml.ts';

/** WeCom's callback XML is a few hundred bytes; anything near this is not WeCom. */
export const CALLBACK_MAX_BODY_BYTES = 64 * 1024;
/**
 * How far a request's timestamp may be from our clock. WeCom does not publish a window; five
 * minutes is the usual tolerance for signed webhooks and covers modest clock skew.
 */
export const CALLBACK_TIMESTAMP_TOLERANCE_SECONDS = 300;
/** Accepted requests remembered for replay detection (the window is bounded by time as well). */
export const CALLBACK_REPLAY_MAX_ENTRIES = 10_000;

export interface CallbackHandlerOptions {
  /** The receiveid every message must be sealed for (the corp id, §9.4). */
  corpId: string;
  /** The callback Token and EncodingAESKey set on the contacts-sync page (§9.1). */
  token: string;
  encodingAESKey: string;
  /** Where the changes go (the cache, the change feed and the subscriptions listen). */
  changes: ChangeBus;
  logger: Pick<Logger, 'warn' | 'error' | 'debug'>;
  /**
   * Told of every batch_job_result (the import/export job tracker's `notify`). True when the job
   * is tracked: the tracker then publishes the import's change itself once it sees the result.
   */
  onBatchJobResult?: (result: BatchJobResult) => boolean | void;
  /** Unix seconds; the system clock by default. */
  nowSeconds?: () => number;
  maxBodyBytes?: number;
  timestampToleranceSeconds?: number;
  /**
   * Remembers accepted requests; by default this process's own (replay-guard.ts). With several
   * instances behind one callback URL, a shared one (Redis) so a retry landing elsewhere is known.
   */
  replayGuard?: CallbackReplayGuard;
  /**
   * Where requests may come from (WECOM_CALLBACK_ALLOWED_IPS, source-ip.ts); checked once the
   * signature holds, before anything is processed. Absent: any address.
   */
  sourceCheck?: CallbackSourceCheck;
}

export interface CallbackHandlerStats {
  accepted: number;
  duplicates: number;
  verified: number;
  rejected: Partial<Record<CallbackRejection['reason'], number>>;
}

export interface CallbackHandler {
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Resolves when every event accepted so far has been processed. */
  idle(): Promise<void>;
  stats(): CallbackHandlerStats;
}

/**
 * The `/wecom/callback` endpoint (docs/wecom-api.md §9.2, §9.3):
 * - GET: URL verification; answers the decrypted `echostr`, exactly, within WeCom's 1 s.
 * - POST: an encrypted event. Checked in this order, nothing decrypted before the signature holds:
 *   body size (413), XML safety and shape, timestamp within ±5 min, msg_signature (constant time),
 *   decryption, receiveid = corp id, the source address (when WECOM_CALLBACK_ALLOWED_IPS is set),
 *   the event's own XML and ids. Repeats of a signed request
 *   (WeCom's retries, replays) get 200 and are not processed again (replay-guard.ts). Accepted events are answered 200 "success" at once and
 *   processed afterwards, in order, off the response path.
 */
export function createCallbackHandler(options: CallbackHandlerOptions): CallbackHandler {
  const nowSeconds = options.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  const maxBodyBytes = options.maxBodyBytes ?? CALLBACK_MAX_BODY_BYTES;
  const tolerance = options.timestampToleranceSeconds ?? CALLBACK_TIMESTAMP_TOLERANCE_SECONDS;
  const replays = options.replayGuard ?? new ReplayGuard({ windowSeconds: 2 * tolerance, maxEntries: CALLBACK_REPLAY_MAX_ENTRIES });
  const counters: CallbackHandlerStats = { accepted: 0, duplicates: 0, verified: 0, rejected: {} };
  let queue: Promise<void> = Promise.resolve();

  /** The signed query every request carries; `encrypt` is echostr (GET) or the Encrypt element (POST). */
  function open(query: URLSearchParams, encrypt: string | undefined): string {
    const msgSignature = query.get('msg_signature');
    const timestamp = query.get('timestamp');
    const nonce = query.get('nonce');
    if (!msgSignature || !timestamp || !nonce || !encrypt) throw new CallbackRejection('missing_parameters');
    if (!/^\d{1,12}$/.test(timestamp)) throw new CallbackRejection('bad_timestamp');
    if (Math.abs(nowSeconds() - Number(timestamp)) > tolerance) throw new CallbackRejection('stale_timestamp');
    try {
      // Signature first (constant-time compare), then decryption, then the receiveid.
      return verifyAndDecrypt({
        token: options.token,
        encodingAESKey: options.encodingAESKey,
        receiveId: options.corpId,
        msgSignature,
        timestamp,
        nonce,
        encrypt,
      }).message;
    } catch (err) {
      if (!isCallbackCryptoError(err)) throw err;
      if (err.reason === 'bad_signature') throw new CallbackRejection('bad_signature');
      if (err.reason === 'wrong_receiveid') throw new CallbackRejection('wrong_receiveid');
      throw new CallbackRejection('bad_ciphertext');
    }
  }

  /** After the signature: a request from outside the allowed addresses is refused (403), or 503 while WeCom's list is unknown. */
  async function checkSource(req: IncomingMessage): Promise<void> {
    if (!options.sourceCheck) return;
    const verdict = await options.sourceCheck.verdict(req);
    if (verdict === 'refused') throw new CallbackRejection('forbidden_source');
    if (verdict === 'unavailable') throw new CallbackRejection('source_list_unavailable');
  }

  async function verifyUrl(query: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const plaintext = open(query, query.get('echostr') ?? undefined);
    await checkSource(req);
    // WeCom's echostr is a random string. Anything XML is an event's Encrypt replayed as an
    // echostr, and answering it would decrypt the event (names, emails) for whoever captured it.
    if (plaintext.trimStart().startsWith('<')) throw new CallbackRejection('not_an_echostr');
    counters.verified++;
    // Exactly the plaintext: no quotes, BOM or newline (§9.2).
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(plaintext) });
    res.end(plaintext);
  }

  async function receive(query: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const envelope = parseCallbackXml(await readBody(req, maxBodyBytes));
    const message = open(query, text(envelope, 'Encrypt'));
    await checkSource(req);
    const xml = parseCallbackXml(message);
    if (text(xml, 'ToUserName') !== undefined && text(xml, 'ToUserName') !== options.corpId) throw new CallbackRejection('wrong_receiveid');
    const event = interpretEvent(xml);
    if (await replays.isRepeat(query.get('msg_signature') ?? '')) {
      counters.duplicates++;
      options.logger.debug({ event: describe(event) }, 'WeCom callback repeated; already processed');
    } else {
      counters.accepted++;
      queue = queue.then(() => new Promise<void>((resolve) => setImmediate(resolve))).then(() => dispatch(event));
    }
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('success');
  }

  function dispatch(event: CallbackEvent): void {
    try {
      if (event.type === 'batch_job_result') {
        // An import run elsewhere (another tool, the admin console) is only known from here.
        const tracked = options.onBatchJobResult?.(event.job) === true;
        if (!tracked) for (const change of event.changes) options.changes.publish(change);
      }
      if (event.type === 'change_contact') for (const change of event.changes) options.changes.publish(change);
      if (event.type === 'change_contact' && event.changes[0]?.kind === 'DIRECTORY_RELOADED') {
        options.logger.warn({ changeType: event.changeType }, 'unknown change_contact ChangeType: treating the whole directory as changed');
      }
    } catch (err) {
      options.logger.error({ err, event: describe(event) }, 'processing a WeCom callback failed');
    }
  }

  function refuse(res: ServerResponse, req: IncomingMessage, rejection: CallbackRejection): void {
    counters.rejected[rejection.reason] = (counters.rejected[rejection.reason] ?? 0) + 1;
    const remote = options.sourceCheck ? options.sourceCheck.clientAddress(req) : req.socket.remoteAddress;
    options.logger.warn({ reason: rejection.reason, status: rejection.status, remote }, 'WeCom callback refused');
    if (res.headersSent) return;
    const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
    if (rejection.reason === 'method_not_allowed') headers['allow'] = 'GET, POST';
    // The rest of an oversized body is not read: close the connection once the answer is out.
    if (rejection.reason === 'too_large') headers['connection'] = 'close';
    res.writeHead(rejection.status, headers);
    res.end(rejection.reason);
  }

  return {
    handle(req, res) {
      const query = new URL(req.url ?? '/', 'http://callback').searchParams;
      const served =
        req.method === 'GET'
          ? Promise.resolve().then(() => verifyUrl(query, req, res))
          : req.method === 'POST'
            ? receive(query, req, res)
            : Promise.reject(new CallbackRejection('method_not_allowed'));
      served.catch((err: unknown) => {
        if (err instanceof CallbackRejection) return refuse(res, req, err);
        options.logger.error({ err }, 'WeCom callback failed');
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
          res.end('error');
        }
      });
    },
    idle: () => queue,
    stats: () => ({ ...counters, rejected: { ...counters.rejected } }),
  };
}

/** A short, secret-free description for logs. */
function describe(event: CallbackEvent): string {
  if (event.type === 'change_contact') return `change_contact/${event.changeType}`;
  if (event.type === 'batch_job_result') return `batch_job_result/${event.job.jobType}`;
  return event.event || 'other';
}

/**
 * Reads the body up to `limit` bytes. A declared length over the limit is refused unread; a body
 * that grows past it stops being read (the connection closes after the 413).
 */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new CallbackRejection('too_large'));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        reject(new CallbackRejection('too_large'));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}
