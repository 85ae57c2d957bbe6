/**
 * Why a callback request was refused, with the HTTP status it gets. Reasons are fixed codes: they
 * go to logs and response bodies and never contain the token, the key, the signature or any part
 * of the message.
 */
export type RejectionReason =
  /** Not GET (URL verification) or POST (events). */
  | 'method_not_allowed'
  /** msg_signature, timestamp, nonce (and echostr for GET) are all required. */
  | 'missing_parameters'
  /** The timestamp is not a Unix time in seconds. */
  | 'bad_timestamp'
  /** The timestamp is more than the tolerance away from our clock (an old capture being replayed). */
  | 'stale_timestamp'
  /** msg_signature does not match sha1(sort(token, timestamp, nonce, encrypt)). */
  | 'bad_signature'
  /** The sealed receiveid (or the event's ToUserName) is not our corp id. */
  | 'wrong_receiveid'
  /** The ciphertext does not decrypt (not base64, bad padding, bad length). */
  | 'bad_ciphertext'
  /** The body is larger than the limit. */
  | 'too_large'
  /** Not well-formed XML, or XML with a DTD or entity declarations. */
  | 'malformed_xml'
  /** Well-formed, but not a WeCom envelope or event (no Encrypt, no ids). */
  | 'malformed_event'
  /** Signed, but from an address outside WECOM_CALLBACK_ALLOWED_IPS (source-ip.ts). */
  | 'forbidden_source'
  /** WECOM_CALLBACK_ALLOWED_IPS=auto and WeCom's list could not be read yet: WeCom retries later. */
  | 'source_list_unavailable'
  /** A URL verification whose echostr decrypts to XML: a captured event's Encrypt, not WeCom's random string. */
  | 'not_an_echostr';

const STATUS: Record<RejectionReason, number> = {
  method_not_allowed: 405,
  missing_parameters: 400,
  bad_timestamp: 400,
  stale_timestamp: 403,
  bad_signature: 403,
  wrong_receiveid: 403,
  bad_ciphertext: 400,
  too_large: 413,
  malformed_xml: 400,
  malformed_event: 400,
  forbidden_source: 403,
  source_list_unavailable: 503,
  not_an_echostr: 403,
};

export class CallbackRejection extends Error {
  override readonly name = 'CallbackRejection';
  readonly status: number;
  constructor(readonly reason: RejectionReason) {
    super(`callback refused: ${reason}`);
    this.status = STATUS[reason];
  }
}
