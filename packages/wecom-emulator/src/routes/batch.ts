import type { ApiContext, ApiResult, Route } from './types.ts';
import { bodyBool, bodyString, queryString } from './params.ts';
import { requireMedia } from '../media.ts';
import { type ImportJob, type ImportJobType, type ImportSpec, importJobView, importJobs, jobOwner } from '../jobs.ts';
import { readPartyFile, replaceParties, replacePartyUnits } from '../import-parties.ts';
import {
  type ImportMode,
  checkDeletionProtection,
  importMembers,
  memberImportUnits,
  membersMissingFrom,
  readMemberFile,
} from '../import-users.ts';
import { noticeTarget, notifyJobFinished, readJobCallback } from '../job-events.ts';
import type { PartyImportResult, UserImportResult } from '../jobs.ts';

/**
 * Asynchronous import (docs/wecom-api.md §6.3–§6.4). A submission is checked in this order:
 * media_id missing (41006) → unknown, expired or not a `file` upload (40007) → the other fields
 * (40058) → another import still running (302008) → the file as a whole (40092, 302003, 302004,
 * 302006, 302007) → replaceuser's deletion protection (45026). Any of these refuses the job and
 * changes nothing; after that the job runs in the background and per-record refusals land in
 * its `result`. When it finishes, batch_job_result goes to the job's own callback, or else to the
 * contacts-sync callback if one is configured.
 */

/** The common body: media_id, to_invite (default true), callback (§6.3). */
function readSubmission(ctx: ApiContext) {
  const media = requireMedia(ctx, bodyString(ctx.body, 'media_id', 40007), 'file');
  const toInvite = bodyBool(ctx.body, 'to_invite') ?? true;
  const callback = readJobCallback(ctx.body);
  return { media, toInvite, callback };
}

function start(ctx: ApiContext, spec: Omit<ImportSpec, 'owner' | 'onFinished' | 'logger'>): ApiResult {
  const jobs = importJobs(ctx.store);
  const { store, clock, options } = ctx;
  const job = jobs.submit({
    ...spec,
    logger: options.logger,
    owner: jobOwner(ctx.caller),
    onFinished: (finished: ImportJob) => {
      const target = noticeTarget(finished.callback, ctx.contactCallback);
      if (!target) return;
      notifyJobFinished({
        target,
        corpId: store.corpId,
        clock,
        options,
        signal: jobs.signal,
        jobId: finished.jobid,
        jobType: finished.type,
      });
    },
  });
  return { jobid: job.jobid };
}

function submitMembers(ctx: ApiContext, type: ImportJobType, mode: ImportMode): ApiResult {
  const { media, toInvite, callback } = readSubmission(ctx);
  importJobs(ctx.store).assertIdle();
  const rows = readMemberFile(media.bytes);
  if (mode === 'replace') checkDeletionProtection(membersMissingFrom(ctx.store, rows).length, ctx.store.users.size);
  const recordCtx = { store: ctx.store, caller: ctx.caller, clock: ctx.clock, mode, toInvite };
  return start(ctx, {
    type,
    total: rows.length,
    units: memberImportUnits(ctx.store, rows, mode),
    callback,
    work: (job) => importMembers(recordCtx, rows, job.result as UserImportResult[]),
  });
}

function submitParties(ctx: ApiContext): ApiResult {
  const { media, callback } = readSubmission(ctx);
  importJobs(ctx.store).assertIdle();
  const rows = readPartyFile(media.bytes);
  return start(ctx, {
    type: 'replace_party',
    total: rows.length,
    units: replacePartyUnits(ctx.store, rows),
    callback,
    work: (job) => replaceParties(ctx.store, rows, job.result as PartyImportResult[]),
  });
}

export const batchRoutes: Route[] = [
  {
    method: 'POST',
    path: '/cgi-bin/batch/syncuser',
    access: 'write',
    handle: (ctx) => submitMembers(ctx, 'sync_user', 'sync'),
  },
  {
    method: 'POST',
    path: '/cgi-bin/batch/replaceuser',
    access: 'write',
    handle: (ctx) => submitMembers(ctx, 'replace_user', 'replace'),
  },
  {
    method: 'POST',
    path: '/cgi-bin/batch/replaceparty',
    access: 'write',
    handle: submitParties,
  },
  {
    method: 'GET',
    path: '/cgi-bin/batch/getresult',
    // Any token may ask, but a job is visible only to the identity that submitted it (40088 otherwise).
    access: 'read',
    handle: (ctx) => importJobView(importJobs(ctx.store).lookup(queryString(ctx.query, 'jobid'), ctx.caller)),
  },
];
