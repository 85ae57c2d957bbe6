import { GraphQLError } from 'graphql';
import { builder } from './builder.ts';
import { Gender } from './user.ts';
import { CONCEALED_CONFLICT, ValidationError, concealsConflict, mutating, mutationErrors } from './mutation-errors.ts';
import { checkImportDepartmentRows, checkImportUserRows } from './validate.ts';
import type { UploadedFile } from './builder.ts';
import type { GraphQLContext } from './context.ts';
import {
  ImportFileError,
  checkImportFile,
  checkImportFileSize,
  departmentCsv,
  memberCsv,
  neutraliseImportFile,
  type ImportFileKind,
} from '../jobs/import-csv.ts';
import type { ImportJobState } from '../jobs/tracker.ts';
import type { ImportJobType, ImportRecordResult } from '../wecom/batch.ts';
import { meaningOf } from '../wecom/errors.ts';
import './upload.ts';

/**
 * Asynchronous imports (docs/wecom-api.md §6): importUsers (batch/syncuser or batch/replaceuser) and
 * importDepartments (batch/replaceparty), from an uploaded CSV (GraphQL multipart request) or
 * from typed rows the service writes in WeCom's CSV layout (src/jobs/import-csv.ts). The file
 * is checked first (size, UTF-8, required columns), uploaded with media/upload and submitted;
 * the ImportJob then follows WeCom's progress (Query.importJob, Subscription.importJob).
 */

const ImportJobTypeEnum = builder.enumType('ImportJobType', {
  description: 'Which WeCom import an ImportJob runs (batch/getresult `type`).',
  values: {
    SYNC_USERS: { value: 'sync_user', description: 'batch/syncuser: members in the file are created or updated; others are untouched.' },
    REPLACE_USERS: {
      value: 'replace_user',
      description: 'batch/replaceuser: the file replaces the members; members not in it are deleted.',
    },
    REPLACE_DEPARTMENTS: { value: 'replace_party', description: 'batch/replaceparty: the file replaces the department tree.' },
  } as const,
});

const ImportJobStatus = builder.enumType('ImportJobStatus', {
  description: 'Progress of an import job (batch/getresult `status`).',
  values: {
    PENDING: { value: 1, description: 'Submitted, not started.' },
    RUNNING: { value: 2, description: 'WeCom is applying the records; see `percentage`.' },
    FINISHED: { value: 3, description: 'Done; per-record results are available.' },
  } as const,
});

const DepartmentImportAction = builder.enumType('DepartmentImportAction', {
  description: 'What a department import did to a department (bits of WeCom’s `action`).',
  values: {
    CREATED: { value: 1, description: 'The department was created (bit 1).' },
    RENAMED: { value: 2, description: 'The department was renamed (bit 2).' },
    MOVED: { value: 4, description: 'The department was moved to another parent (bit 4).' },
    REORDERED: { value: 8, description: 'The department’s order changed (bit 8).' },
  } as const,
});

const ACTION_BITS = [1, 2, 4, 8] as const;

const ImportRecordResultRef = builder.objectRef<ImportRecordResult>('ImportRecordResult').implement({
  description: 'The outcome of one record of the file.',
  fields: (t) => ({
    userid: t.string({ nullable: true, description: 'The member of a member import.', resolve: (r) => r.userid ?? null }),
    departmentId: t.int({ nullable: true, description: 'The department of a department import.', resolve: (r) => r.partyid ?? null }),
    actions: t.field({
      type: [DepartmentImportAction],
      description: 'What a department import did (empty for members).',
      resolve: (r) => ACTION_BITS.filter((bit) => ((r.action ?? 0) & bit) !== 0),
    }),
    ok: t.boolean({ description: 'True when the record was applied (errcode 0).', resolve: (r) => r.errcode === 0 }),
    errcode: t.int({
      nullable: true,
      description:
        '0 when the record was applied; otherwise the errcode the single-record API would give. Null for a conflict (a userid, mobile or email already in use, a limit reached) when the credential may not learn which: that needs directory:read and directory:pii without department limits, as for ConflictError.',
      resolve: (r, _args, ctx) => (concealedConflict(r, ctx) ? null : r.errcode),
    }),
    message: t.string({
      description: 'What the errcode means.',
      // WeCom's own errmsg may carry a diagnostic suffix with its server's IP: only its first part is shown.
      resolve: (r, _args, ctx) => {
        if (r.errcode === 0) return 'ok';
        if (concealedConflict(r, ctx)) return `the record ${CONCEALED_CONFLICT}`;
        return meaningOf(r.errcode)?.meaning ?? (r.errmsg.split(/, hint:|, from ip:/)[0] || `errcode ${r.errcode}`);
      },
    }),
  }),
});

/** A record's conflict (60102 userid, 60104 mobile, 60106 email taken …) told to a caller who may not learn it. */
function concealedConflict(r: ImportRecordResult, ctx: GraphQLContext): boolean {
  return r.errcode !== 0 && concealsConflict(r.errcode, ctx.scopes);
}

export const ImportJobRef = builder.objectRef<ImportJobState>('ImportJob').implement({
  description: 'An asynchronous import job of WeCom and its progress.',
  fields: (t) => ({
    id: t.exposeID('id', { description: "WeCom's jobid." }),
    type: t.field({
      type: ImportJobTypeEnum,
      description: 'Which import this is (sync or replace members, replace departments).',
      resolve: (j) => j.type,
    }),
    status: t.field({ type: ImportJobStatus, description: 'Where the job is: PENDING, RUNNING, then FINISHED.', resolve: (j) => j.status }),
    percentage: t.exposeInt('percentage', { description: '0–100; 100 once finished.' }),
    total: t.exposeInt('total', { description: 'Records in the file (0 until WeCom has read an uploaded file).' }),
    results: t.field({ type: [ImportRecordResultRef], description: 'Per-record outcomes, once FINISHED.', resolve: (j) => j.results }),
    succeeded: t.int({ description: 'Records applied (once FINISHED).', resolve: (j) => j.results.filter((r) => r.errcode === 0).length }),
    failed: t.int({ description: 'Records refused (once FINISHED).', resolve: (j) => j.results.filter((r) => r.errcode !== 0).length }),
  }),
});

const ImportMode = builder.enumType('ImportMode', {
  description: 'How importUsers treats members that are not in the file.',
  values: {
    SYNC: { description: 'Create or update the members in the file; leave the others (batch/syncuser).' },
    REPLACE: {
      description:
        'The file becomes the member list: members not in it are deleted (batch/replaceuser; WeCom refuses mass deletions, 45026).',
    },
  } as const,
});

const ImportUserRow = builder.inputType('ImportUserRow', {
  description: 'A member record: the fields of CreateUserInput that the member file carries.',
  fields: (t) => ({
    userid: t.string({
      required: true,
      description: 'The member (帐号): 1–64 bytes of letters, digits, _ - @ . starting with a letter or digit; the key of the import.',
    }),
    name: t.string({ required: true, description: '1–64 characters.' }),
    departmentIds: t.intList({ required: true, description: 'Departments of the member (1 to 100 ids), as in CreateUserInput.' }),
    mobile: t.string({ description: 'Mobile number; each row needs a mobile or an email.' }),
    email: t.string({ description: 'Email; each row needs a mobile or an email.' }),
    position: t.string({ description: 'Job title, at most 128 characters.' }),
    gender: t.field({ type: Gender, description: 'MALE or FEMALE; UNSPECIFIED (what reads answer when not set) leaves it as it is.' }),
    isLeaderInDept: t.booleanList({ description: 'Head of each department of departmentIds (部门负责人), aligned with it.' }),
    order: t.field({ type: ['WeComOrder'], description: 'Sort order in each department of departmentIds, aligned with it; larger first.' }),
    alias: t.string({ description: 'At most 64 characters.' }),
    address: t.string({ description: 'At most 128 characters.' }),
    telephone: t.string({ description: 'Desk phone: digits, -, + and , (at most 32).' }),
    enable: t.boolean({ description: 'false imports the member disabled.' }),
  }),
});

const ImportDepartmentRow = builder.inputType('ImportDepartmentRow', {
  description: 'A department record. The rows describe the whole tree: departments not in them are deleted when empty.',
  fields: (t) => ({
    departmentId: t.int({ required: true, description: 'WeCom department id (部门ID), the key of the import; the root is 1.' }),
    name: t.string({ required: true, description: '1–32 characters, none of \\ : * ? " < > |; unique among its siblings.' }),
    parentId: t.int({ description: 'Required except for the root department (1); the parent must be the root or another row.' }),
    order: t.field({ type: 'WeComOrder', description: 'Omitted or 0: the order is left as it is.' }),
  }),
});

const IMPORT_FIELDS_FILE = {
  40092: 'file',
  45026: 'file',
  302003: 'file',
  302004: 'file',
  302006: 'file',
  302007: 'file',
  44001: 'file',
  45001: 'file',
  40007: 'file',
};
const IMPORT_FIELDS_ROWS = Object.fromEntries(Object.keys(IMPORT_FIELDS_FILE).map((code) => [Number(code), 'rows']));

/** The CSV of an import: written from rows, or an upload checked as a whole. `total` is known for rows. */
async function importBytes(
  kind: ImportFileKind,
  rows: (() => Buffer) | null,
  file: UploadedFile | null | undefined,
): Promise<{ bytes: Buffer; field: 'rows' | 'file'; filename: string }> {
  if (rows && file) throw new ValidationError('file', 'file: give either rows or file, not both');
  if (!rows && !file) throw new ValidationError('rows', 'rows: give either rows or file');
  const field = rows ? 'rows' : 'file';
  try {
    if (rows) {
      const bytes = rows();
      checkImportFileSize(bytes.length);
      return { bytes, field, filename: `${kind}.csv` };
    }
    // The size first, before reading the file into memory.
    checkImportFileSize(file!.size);
    const bytes = Buffer.from(await file!.arrayBuffer());
    checkImportFile(bytes, kind);
    // Text cells that start like a formula reach WeCom as text, as they do from rows.
    const neutralised = neutraliseImportFile(bytes, kind);
    checkImportFileSize(neutralised.length);
    return { bytes: neutralised, field, filename: /\.csv$/i.test(file!.name) ? file!.name : `${kind}.csv` };
  } catch (err) {
    if (err instanceof ImportFileError) throw new ValidationError(field, `${field}: ${err.message}`);
    throw err;
  }
}

/**
 * Uploads and submits. Every request submits (a write reaches WeCom each time it is asked for),
 * unless it names an `idempotencyKey`: a retry with the caller's own key within the window gets the
 * job already submitted (src/jobs/idempotency.ts). Keys are the caller's own: another caller's
 * identical key is a different import.
 */
async function submitImport(
  ctx: GraphQLContext,
  params: {
    type: ImportJobType;
    bytes: Buffer;
    filename: string;
    field: 'rows' | 'file';
    total: number;
    toInvite?: boolean;
    idempotencyKey?: string | null;
  },
): Promise<ImportJobState> {
  const key = params.idempotencyKey ? `${ctx.identity.subject}\n${params.idempotencyKey}` : undefined;
  const fields = params.field === 'rows' ? IMPORT_FIELDS_ROWS : IMPORT_FIELDS_FILE;
  const { job } = await mutating(fields, () =>
    ctx.jobs.submitImport({
      key,
      type: params.type,
      total: params.total,
      submit: async () => {
        const { mediaId } = await ctx.client.media.upload({
          data: params.bytes,
          filename: params.filename,
          type: 'file',
          contentType: 'text/csv',
        });
        const input = { mediaId, ...(params.toInvite !== undefined ? { toInvite: params.toInvite } : {}) };
        const submitted =
          params.type === 'sync_user'
            ? await ctx.client.batch.syncUser(input)
            : params.type === 'replace_user'
              ? await ctx.client.batch.replaceUser(input)
              : await ctx.client.batch.replaceParty({ mediaId });
        return submitted.jobid;
      },
    }),
  );
  return job;
}

builder.mutationFields((t) => ({
  importUsers: t.field({
    // Corp-wide and administrative (src/auth/scopes.ts).
    authScopes: { admin: true, wholeCorp: true },
    type: ImportJobRef,
    description:
      'Imports members asynchronously from `rows` or an uploaded CSV `file` (UTF-8, WeCom’s member template). Returns the job at once; follow it with Query.importJob or Subscription.importJob. Every request imports; a retry with the same idempotencyKey (the caller’s own) returns the same job instead of importing twice.',
    args: {
      mode: t.arg({ type: ImportMode, required: true, description: 'SYNC keeps members not in the import; REPLACE deletes them.' }),
      rows: t.arg({ type: [ImportUserRow], required: false, description: 'The members as typed rows; give either rows or file.' }),
      file: t.arg({
        type: 'File',
        required: false,
        description: 'The members as an uploaded CSV (UTF-8, at most 20 MB); give either rows or file.',
      }),
      toInvite: t.arg.boolean({ required: false, description: 'Whether WeCom invites new members (default true).' }),
      idempotencyKey: t.arg.string({
        required: false,
        description:
          'Identifies this import for the caller’s retries: a second request with the same key within ten minutes returns the first job. Without it, every request imports.',
      }),
    },
    errors: mutationErrors('importUsers', {
      succeeded:
        'the import was submitted to WeCom, or the same import already had been (WeCom applies the records asynchronously: follow the job)',
      data: 'The import job: its WeCom jobid, status and, once FINISHED, the per-record results.',
    }),
    resolve: async (_root, args, ctx) => {
      const rows = args.rows ? checkImportUserRows('rows', args.rows) : null;
      const csv = await importBytes('members', rows && (() => memberCsv(rows)), args.file);
      return submitImport(ctx, {
        ...csv,
        type: args.mode === 'REPLACE' ? 'replace_user' : 'sync_user',
        total: rows?.length ?? 0,
        ...(args.toInvite != null ? { toInvite: args.toInvite } : {}),
        idempotencyKey: args.idempotencyKey,
      });
    },
  }),
  importDepartments: t.field({
    // Corp-wide and administrative (src/auth/scopes.ts).
    authScopes: { admin: true, wholeCorp: true },
    type: ImportJobRef,
    description:
      'Replaces the department tree asynchronously (batch/replaceparty) from `rows` or an uploaded CSV `file` (部门名称,部门ID,父部门ID,排序). Departments missing from it are deleted once empty.',
    args: {
      rows: t.arg({ type: [ImportDepartmentRow], required: false, description: 'The whole tree as typed rows; give either rows or file.' }),
      file: t.arg({
        type: 'File',
        required: false,
        description: 'The whole tree as an uploaded CSV (UTF-8, at most 20 MB); give either rows or file.',
      }),
      idempotencyKey: t.arg.string({
        required: false,
        description:
          'Identifies this import for the caller’s retries: a second request with the same key within ten minutes returns the first job. Without it, every request imports.',
      }),
    },
    errors: mutationErrors('importDepartments', {
      succeeded:
        'the import was submitted to WeCom, or the same import already had been (WeCom applies the records asynchronously: follow the job)',
      data: 'The import job: its WeCom jobid, status and, once FINISHED, the per-record results.',
    }),
    resolve: async (_root, args, ctx) => {
      const rows = args.rows ? checkImportDepartmentRows('rows', args.rows) : null;
      const csv = await importBytes('departments', rows && (() => departmentCsv(rows)), args.file);
      return submitImport(ctx, { ...csv, type: 'replace_party', total: rows?.length ?? 0, idempotencyKey: args.idempotencyKey });
    },
  }),
}));

builder.queryFields((t) => ({
  importJob: t.field({
    // Corp-wide and administrative (src/auth/scopes.ts).
    authScopes: { admin: true, wholeCorp: true },
    type: ImportJobRef,
    nullable: true,
    description: 'An import job by WeCom jobid, fresh from WeCom while it runs; null when WeCom does not know it.',
    args: { id: t.arg.id({ required: true, description: 'The WeCom jobid (`ImportJob.id`).' }) },
    resolve: (_root, { id }, ctx) => ctx.jobs.importJob(id),
  }),
}));

builder.subscriptionFields((t) => ({
  importJob: t.field({
    // Corp-wide and administrative (src/auth/scopes.ts).
    authScopes: { admin: true, wholeCorp: true },
    type: ImportJobRef,
    description: 'The progress of an import job: its state now, then each change, until FINISHED.',
    args: {
      id: t.arg.id({ required: true, description: 'The WeCom jobid (`ImportJob.id`); NOT_FOUND error when WeCom does not know it.' }),
    },
    subscribe: async (_root, { id }, ctx) => {
      const stream = await ctx.jobs.watchImport(id);
      if (!stream) throw new GraphQLError(`Import job ${id} is unknown to WeCom`, { extensions: { code: 'NOT_FOUND' } });
      return stream;
    },
    resolve: (job) => job,
  }),
}));
