/**
 * Endpoints as small declarative descriptors (the notion-sdk-js pattern): what to call, with
 * which token, whether it is a read or a write, how to put the parameters on the wire, how to
 * read the answer, and how to tell whether a write whose answer was lost was applied.
 * The resource modules (users.ts, departments.ts, …) hold the descriptors; client.ts runs them.
 */
import type { FormData } from 'undici';
import type { WireObject } from './wire.ts';

/**
 * Which secret's token an endpoint uses (docs/wecom-api.md §2):
 * - `contact`: the contacts-sync secret only: directory writes, user/list_id, the join QR code,
 *   the active stat;
 * - `read`: the app secret when one is configured (reads within its visibility), else the
 *   contacts-sync secret;
 * - `owner`: the contacts-sync secret when configured, else the app: tags belong to the secret
 *   that created them, and media is shared by every secret of the corp;
 * - `app`: a self-built app only: linked corps;
 * - `none`: gettoken itself.
 */
export type TokenPolicy = 'contact' | 'read' | 'owner' | 'app' | 'none';

/** The two kinds of secret the client holds. */
export type SecretKind = 'contact' | 'app';

/**
 * - `read`: safe to repeat after -1, HTTP 5xx or a network error: it changes nothing in the
 *   directory (reads; also uploads and export jobs, whose duplicates only cost quota);
 * - `write`: repeated only when WeCom provably did not process it (token errors, 45009, 45033,
 *   a connection that never opened); otherwise reconciled by reading back.
 */
export type Effect = 'read' | 'write';

/** The outcome of reading back a write whose answer was lost. */
export type ReadBack<R> = { applied: true; result: R } | { applied: false };

/** Per-call options. */
export interface CallOptions {
  /** Aborts the call (the caller's own deadline). */
  signal?: AbortSignal;
  /** Overall deadline for this call in ms, queueing and retries included (default: the client's). */
  deadlineMs?: number;
  /**
   * Use this secret instead of the endpoint's routing, where WeCom allows either: e.g. `app` to
   * manage a tag the app created (tags belong to their creator), or `contact` to read the whole
   * corp. Refused locally (WeComConfigError) on endpoints that take only the other secret.
   */
  via?: SecretKind;
}

/** Runs another endpoint (reconcilers read back through it). */
export type Invoke = <P, R>(endpoint: Endpoint<P, R>, params: P, options?: CallOptions) => Promise<R>;

export type QueryValue = string | number | boolean | undefined;

export interface Endpoint<P, R> {
  method: 'GET' | 'POST';
  /** The API path, e.g. `/cgi-bin/user/get`: also the endpoint's name in errors and metrics. */
  path: `/cgi-bin/${string}`;
  token: TokenPolicy;
  effect: Effect;
  /** Query parameters besides `access_token`, encoded with URLSearchParams. */
  query?(params: P): Record<string, QueryValue>;
  /** The JSON body of a POST. */
  body?(params: P): WireObject;
  /** A multipart body (media/upload). */
  form?(params: P): FormData;
  /** The typed result from the response (envelope included). */
  parse(wire: WireObject): R;
  /** For writes: reads back whether the write was applied (see client.ts for when). */
  readBack?(params: P, invoke: Invoke, options: CallOptions): Promise<ReadBack<R>>;
}

/** Declares an endpoint; the identity function gives the descriptor its inferred types. */
export function endpoint<P, R>(descriptor: Endpoint<P, R>): Endpoint<P, R> {
  return descriptor;
}

/** The envelope-only result of writes that answer `{"errcode":0,"errmsg":"updated"}`. */
export const noResult = (): void => undefined;
