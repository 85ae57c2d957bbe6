import type { Clock } from './clock.ts';
import type { EmulatorOptions } from './options.ts';
import type { JobCallback } from './jobs.ts';
import { fail } from './errors.ts';
import { type XmlFields, deliverEvent } from './callback-delivery.ts';
import { ENCODING_AES_KEY_PATTERN } from 'wecom-protocol/crypto';

/**
 * The `batch_job_result` event (docs/wecom-api.md §9.7) that tells a job's submitter it has finished.
 */

/**
 * `FromUserName` of batch_job_result: the import doc says "成员UserID", the export doc a fixed
 * `sys` — unconfirmed (§9.7). A job submitted with the contacts-sync secret has no member behind
 * it, so the emulator sends `sys` for every job; receivers must not depend on it.
 */
export const BATCH_JOB_FROM_USER = 'sys';

/** A callback `token`: letters and digits, at most 32 (§9.1). */
const CALLBACK_TOKEN = /^[A-Za-z0-9]{1,32}$/;

/**
 * The optional `callback` of an import submission (§6.3). 40058 when it is not an object, the URL
 * is not http(s), or the token/key are malformed. The fact sheet marks token and key optional, but
 * nothing can be signed or encrypted without them (the emulator models no per-app callback to
 * borrow them from), so a `url` without both is refused too.
 */
export function readJobCallback(body: Record<string, unknown>): JobCallback | undefined {
  const raw = body['callback'];
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw fail(40058, 'callback must be an object');
  const { url, token, encodingaeskey } = raw as Record<string, unknown>;
  if (url === undefined || url === null || url === '') return undefined;
  if (typeof url !== 'string' || !/^https?:\/\/[^\s]+$/i.test(url) || !URL.canParse(url)) {
    throw fail(40058, 'callback.url must be an http(s) URL');
  }
  if (typeof token !== 'string' || !CALLBACK_TOKEN.test(token)) throw fail(40058, 'callback.token: 1–32 letters or digits');
  if (typeof encodingaeskey !== 'string' || !ENCODING_AES_KEY_PATTERN.test(encodingaeskey)) {
    throw fail(40058, 'callback.encodingaeskey: 43 letters or digits');
  }
  return { url, token, encodingaeskey };
}

/** The decrypted event XML's fields. */
export function batchJobResultFields(corpId: string, createTime: number, jobId: string, jobType: string): XmlFields {
  return {
    ToUserName: corpId,
    FromUserName: BATCH_JOB_FROM_USER,
    CreateTime: createTime,
    MsgType: 'event',
    Event: 'batch_job_result',
    // Failures are refused at submission, so a job that ran always reports success here.
    BatchJob: { JobId: jobId, JobType: jobType, ErrCode: 0, ErrMsg: 'ok' },
  };
}

/** Where a batch_job_result goes: a URL and the token and key to sign and encrypt with. */
export interface NoticeTarget {
  url: string;
  token: string;
  encodingAESKey: string;
}

/**
 * The job's own callback when it has one (§6.3), otherwise the contacts-sync callback configured
 * when the job finishes (`lookup`), otherwise nowhere.
 */
export function noticeTarget(own: JobCallback | undefined, contactCallback: (() => NoticeTarget | null) | undefined): NoticeTarget | null {
  if (own) return { url: own.url, token: own.token, encodingAESKey: own.encodingaeskey };
  return contactCallback?.() ?? null;
}

export interface JobNotice {
  target: NoticeTarget;
  corpId: string;
  clock: Clock;
  options: EmulatorOptions;
  /** Aborted on reset: no more attempts. */
  signal: AbortSignal;
  jobId: string;
  /** sync_user, replace_user, replace_party, or an export's type (§9.7). */
  jobType: string;
}

/** Delivers batch_job_result (WeCom's 5 s timeout and 3 attempts); fire and forget. */
export function notifyJobFinished(notice: JobNotice): void {
  const { target, corpId, clock, options } = notice;
  void deliverEvent({
    url: target.url,
    token: target.token,
    encodingAESKey: target.encodingAESKey,
    receiveId: corpId,
    xmlFields: batchJobResultFields(corpId, clock.nowSeconds(), notice.jobId, notice.jobType),
    timing: { timeoutMs: options.callbackTimeoutMs, retryDelayMs: options.callbackRetryDelayMs },
    nowSeconds: () => clock.nowSeconds(),
    signal: notice.signal,
  }).catch((err: unknown) => options.logger.error({ err }, 'batch_job_result delivery failed'));
}
