import type { ApiContext, ApiResult, Route } from './types.ts';
import { bodyInt, bodyIntOrUnset, bodyString, queryString } from './params.ts';
import { fail } from '../errors.ts';
import { jobOwner } from '../jobs.ts';
import { noticeTarget, notifyJobFinished } from '../job-events.ts';
import {
  EXPORT_JOB_TYPES,
  type ExportJob,
  type ExportKind,
  type ExportSource,
  departmentSource,
  exportJobView,
  exportJobs,
  simpleUserSource,
  tagUserSource,
  userSource,
} from '../exports.ts';
import { aesKeyOf, ENCODING_AES_KEY_PATTERN } from 'wecom-protocol/crypto';
import { EXPORT_BLOCK_SIZE_DEFAULT, EXPORT_BLOCK_SIZE_MAX, EXPORT_BLOCK_SIZE_MIN } from 'wecom-protocol/limits';

/**
 * Asynchronous export (docs/wecom-api.md §7). Every export covers only what the caller may see; the
 * three directory exports are refused to the contacts-sync secret under the 2022-08-15 new-IP
 * rule (`restrictedRead`). Bad `encoding_aeskey` or `block_size` → 40058 (invalid parameter).
 */

/** `encoding_aeskey` (required): 43 letters or digits, base64 of the 32-byte key without its "=". */
function readKey(ctx: ApiContext): Buffer {
  const key = bodyString(ctx.body, 'encoding_aeskey', 40058);
  if (key === undefined || key === '') throw fail(40058, 'encoding_aeskey missing');
  if (!ENCODING_AES_KEY_PATTERN.test(key)) throw fail(40058, 'encoding_aeskey must be 43 letters or digits');
  return aesKeyOf(key);
}

/** `block_size`: records per file, in [10^4, 10^6], default 10^6. */
function readBlockSize(ctx: ApiContext): number {
  const size = bodyIntOrUnset(ctx.body, 'block_size', 40058) ?? EXPORT_BLOCK_SIZE_DEFAULT;
  if (size < EXPORT_BLOCK_SIZE_MIN || size > EXPORT_BLOCK_SIZE_MAX) {
    throw fail(40058, `block_size must be in [${EXPORT_BLOCK_SIZE_MIN}, ${EXPORT_BLOCK_SIZE_MAX}]`);
  }
  return size;
}

/**
 * Export completion events go to the callback of the identity that submitted the job (§9.7): the
 * contacts-sync callback for the contacts-sync secret. The emulator models no per-app callback,
 * so exports submitted by apps send no event.
 */
function notifyOnFinish(ctx: ApiContext, kind: ExportKind): ((job: ExportJob) => void) | undefined {
  if (ctx.caller.kind !== 'contact') return undefined;
  const jobs = exportJobs(ctx.store);
  return (job) => {
    const target = noticeTarget(undefined, ctx.contactCallback);
    if (!target) return;
    notifyJobFinished({
      target,
      corpId: ctx.store.corpId,
      clock: ctx.clock,
      options: ctx.options,
      signal: jobs.signal,
      jobId: job.jobid,
      jobType: EXPORT_JOB_TYPES[kind],
    });
  };
}

function submit(ctx: ApiContext, kind: ExportKind, source: (ctx: ApiContext) => ExportSource): ApiResult {
  const key = readKey(ctx);
  const blockSize = readBlockSize(ctx);
  const job = exportJobs(ctx.store).submit({
    kind,
    owner: jobOwner(ctx.caller),
    key,
    blockSize,
    source: source(ctx),
    corpId: ctx.store.corpId,
    clock: ctx.clock,
    logger: ctx.options.logger,
    onFinished: notifyOnFinish(ctx, kind),
  });
  return { jobid: job.jobid };
}

/**
 * taguser: 41017 without `tagid`, 40068 when it is malformed or unknown. Reading a tag needs no
 * more than tag/get does (any token may read any tag, members outside an app's visibility are
 * left out), so that is the read permission the export checks.
 */
function tagSource(ctx: ApiContext): ExportSource {
  const tagid = bodyInt(ctx.body, 'tagid', 40068);
  if (tagid === undefined) throw fail(41017);
  const tag = ctx.store.tags.get(tagid);
  if (!tag) throw fail(40068, `tag ${tagid} not found`);
  return tagUserSource(ctx.store, ctx.scope, tag);
}

/** The emulator's own address as the caller reached it (the Host header), for download links. */
function baseUrl(ctx: ApiContext): string {
  return `http://${ctx.headers.host ?? '127.0.0.1'}`;
}

export const exportRoutes: Route[] = [
  {
    method: 'POST',
    path: '/cgi-bin/export/simple_user',
    access: 'read',
    restrictedRead: true,
    handle: (ctx) => submit(ctx, 'simple_user', (c) => simpleUserSource(c.store, c.scope)),
  },
  {
    method: 'POST',
    path: '/cgi-bin/export/user',
    access: 'read',
    restrictedRead: true,
    handle: (ctx) =>
      submit(ctx, 'user', (c) =>
        // The 2022-06-20 rule withholds sensitive fields from app tokens, never from contacts sync.
        userSource(c.store, c.scope, c.options.withholdSensitiveFields && c.caller.kind === 'app'),
      ),
  },
  {
    method: 'POST',
    path: '/cgi-bin/export/department',
    access: 'read',
    restrictedRead: true,
    handle: (ctx) => submit(ctx, 'department', (c) => departmentSource(c.store, c.scope)),
  },
  {
    method: 'POST',
    path: '/cgi-bin/export/taguser',
    access: 'read',
    handle: (ctx) => submit(ctx, 'taguser', tagSource),
  },
  {
    method: 'GET',
    path: '/cgi-bin/export/get_result',
    // Any token, but only the identity that submitted the job sees it (40088 otherwise).
    access: 'read',
    handle: (ctx) =>
      exportJobView(exportJobs(ctx.store).lookup(queryString(ctx.query, 'jobid'), ctx.caller, ctx.clock.nowMs()), baseUrl(ctx)),
  },
];
