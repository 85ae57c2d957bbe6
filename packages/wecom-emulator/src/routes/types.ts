import type { IncomingHttpHeaders } from 'node:http';
import type { Caller } from '../model.ts';
import type { CorpStore } from '../store.ts';
import type { Scope } from '../visibility.ts';
import type { EmulatorOptions } from '../options.ts';
import type { Clock } from '../clock.ts';

/** A `change_contact` event as WeCom's XML fields (ChangeType plus the fields it carries). */
export interface ChangeEvent {
  ChangeType: 'create_user' | 'update_user' | 'delete_user' | 'create_party' | 'update_party' | 'delete_party' | 'update_tag';
  [field: string]: unknown;
}

export interface ApiContext {
  readonly store: CorpStore;
  readonly caller: Caller;
  /** What the caller may see; `scope.all` for the contacts-sync secret and the console. */
  readonly scope: Scope;
  readonly query: URLSearchParams;
  /** The parsed JSON body of a POST (an empty object for GET). */
  readonly body: Record<string, unknown>;
  readonly headers: IncomingHttpHeaders;
  /** The raw request body (for multipart uploads). */
  readonly rawBody: Buffer;
  readonly options: EmulatorOptions;
  readonly clock: Clock;
  /**
   * The contacts-sync callback as configured at this moment, or null: where an import or export
   * job without a callback of its own sends its batch_job_result event (§9.7).
   */
  readonly contactCallback?: () => { url: string; token: string; encodingAESKey: string } | null;
  /**
   * Records a contact change. It reaches the contacts-sync callback only when the caller is the
   * admin console: WeCom does not echo the contacts-sync token's own API changes (§9.6).
   */
  emit(event: ChangeEvent): void;
}

/**
 * Who may call an endpoint (docs/wecom-api.md §2):
 * - `write`: the contacts-sync secret only (apps get 48002);
 * - `contact-only`: reads reserved to the contacts-sync secret (user/list_id, active stat, join QR);
 * - `read`: any token, limited to the caller's visibility by the handler;
 * - `app-only`: self-built apps only (linked corps);
 * - `tag`: any token; the handler checks the tag's owner.
 */
export type Access = 'write' | 'contact-only' | 'read' | 'app-only' | 'tag';

export type ApiResult = Record<string, unknown>;

/**
 * An answer that is not WeCom's JSON envelope: a file download (media/get). Errors of such
 * endpoints are still JSON (a thrown WeComFault).
 */
export class RawReply {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string | number>,
    readonly body: Buffer,
  ) {}
}

export interface Route {
  method: 'GET' | 'POST';
  /** Full path, e.g. `/cgi-bin/user/get`. */
  path: string;
  access: Access;
  /** Refused to the contacts-sync secret when `restrictContactReads` is on (2022-08-15 rule). */
  restrictedRead?: boolean;
  /** Success `errmsg` ("ok", "created", "updated", "deleted"). */
  okMsg?: string;
  /** List fields WeCom still sends, empty, in error bodies of this endpoint (observed). */
  emptyOnError?: ApiResult;
  /** The body is not JSON (multipart upload): skip JSON parsing. */
  rawBody?: boolean;
  handle(ctx: ApiContext): ApiResult | RawReply | Promise<ApiResult | RawReply>;
}
