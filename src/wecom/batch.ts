/**
 * Invitations and asynchronous imports (docs/wecom-api.md §3.2 batch/invite, §6). Imports upload a
 * CSV with media.upload, submit it here, then poll getResult (or wait for `batch_job_result`).
 */
import { endpoint, type CallOptions, type Invoke } from './endpoint.ts';
import { arrayField, fromWire, stringField, type WireObject } from './wire.ts';

export interface InviteInput {
  /** ≤ 1000 userids. */
  user?: string[];
  /** ≤ 100 department ids. */
  party?: number[];
  /** ≤ 100 tag ids. */
  tag?: number[];
}

/** The targets WeCom refused; the rest were invited. */
export interface InviteResult {
  invalidUsers: string[];
  invalidParties: number[];
  invalidTags: number[];
}

/** Where WeCom pushes this job's `batch_job_result` event. */
export interface JobCallback {
  url: string;
  token?: string;
  encodingAesKey?: string;
}

export interface ImportInput {
  /** media_id of the CSV (media.upload with type `file`). */
  mediaId: string;
  /** Default true (user imports only). */
  toInvite?: boolean;
  callback?: JobCallback;
}

/** 1 started, 2 running, 3 finished. */
export type ImportJobStatus = 1 | 2 | 3;
export type ImportJobType = 'sync_user' | 'replace_user' | 'replace_party';

/** A per-record outcome: users carry `userid`, departments `action` (bit mask: 1 created, 2 renamed, 4 moved, 8 reordered) and `partyid`. */
export interface ImportRecordResult {
  errcode: number;
  errmsg: string;
  userid?: string;
  action?: number;
  partyid?: number;
}

export interface ImportJobResult {
  status: ImportJobStatus;
  type: ImportJobType;
  total: number;
  percentage: number;
  /** Valid once the job has finished. */
  result: ImportRecordResult[];
}

function importBody(input: ImportInput, withInvite: boolean): WireObject {
  return {
    media_id: input.mediaId,
    ...(withInvite && input.toInvite !== undefined ? { to_invite: input.toInvite } : {}),
    ...(input.callback
      ? {
          callback: {
            url: input.callback.url,
            ...(input.callback.token !== undefined ? { token: input.callback.token } : {}),
            // The job callback's key is `encodingaeskey` (one word), unlike export's `encoding_aeskey`.
            ...(input.callback.encodingAesKey !== undefined ? { encodingaeskey: input.callback.encodingAesKey } : {}),
          },
        }
      : {}),
  };
}

const jobId = (wire: WireObject) => ({ jobid: stringField(wire, 'jobid') });

export const invite = endpoint<InviteInput, InviteResult>({
  method: 'POST',
  path: '/cgi-bin/batch/invite',
  token: 'contact',
  effect: 'write',
  body: (p) => ({
    ...(p.user?.length ? { user: p.user } : {}),
    ...(p.party?.length ? { party: p.party } : {}),
    ...(p.tag?.length ? { tag: p.tag } : {}),
  }),
  parse: (wire) => ({
    invalidUsers: arrayField<string>(wire, 'invaliduser'),
    invalidParties: arrayField<number>(wire, 'invalidparty'),
    invalidTags: arrayField<number>(wire, 'invalidtag'),
  }),
});

/** Import jobs cannot be read back (WeCom lists no jobs), so a lost answer is reported as unknown. */
export const syncUser = endpoint<ImportInput, { jobid: string }>({
  method: 'POST',
  path: '/cgi-bin/batch/syncuser',
  token: 'contact',
  effect: 'write',
  body: (p) => importBody(p, true),
  parse: jobId,
});

export const replaceUser = endpoint<ImportInput, { jobid: string }>({
  method: 'POST',
  path: '/cgi-bin/batch/replaceuser',
  token: 'contact',
  effect: 'write',
  body: (p) => importBody(p, true),
  parse: jobId,
});

export const replaceParty = endpoint<Omit<ImportInput, 'toInvite'>, { jobid: string }>({
  method: 'POST',
  path: '/cgi-bin/batch/replaceparty',
  token: 'contact',
  effect: 'write',
  body: (p) => importBody(p, false),
  parse: jobId,
});

export const getImportResult = endpoint<string, ImportJobResult>({
  method: 'GET',
  path: '/cgi-bin/batch/getresult',
  // Only the secret that submitted a job may query it; imports are submitted with the contacts-sync secret.
  token: 'contact',
  effect: 'read',
  query: (jobid) => ({ jobid }),
  parse: (wire) => {
    const job = fromWire<ImportJobResult>(wire);
    job.result ??= [];
    return job;
  },
});

export function batchApi(invoke: Invoke) {
  return {
    /** `POST /cgi-bin/batch/invite`: invites members, departments and tags; reports the refused ones (contacts-sync secret). */
    invite: (input: InviteInput, options?: CallOptions) => invoke(invite, input, options),
    /** `POST /cgi-bin/batch/syncuser`: incremental member import from a CSV media_id (contacts-sync secret). */
    syncUser: (input: ImportInput, options?: CallOptions) => invoke(syncUser, input, options),
    /** `POST /cgi-bin/batch/replaceuser`: full member import; members not in the file are deleted (contacts-sync secret). */
    replaceUser: (input: ImportInput, options?: CallOptions) => invoke(replaceUser, input, options),
    /** `POST /cgi-bin/batch/replaceparty`: full department import (contacts-sync secret). */
    replaceParty: (input: Omit<ImportInput, 'toInvite'>, options?: CallOptions) => invoke(replaceParty, input, options),
    /** `GET /cgi-bin/batch/getresult`: status and per-record results of an import job. */
    getResult: (jobid: string, options?: CallOptions) => invoke(getImportResult, jobid, options),
  };
}

export type BatchApi = ReturnType<typeof batchApi>;
