import { resolveArrayConnection } from '@pothos/plugin-relay';
import { GraphQLError } from 'graphql';
import { builder } from './builder.ts';
import { Gender, UserStatus } from './user.ts';
import { totalCountOptions } from './refs.ts';
import { MAX_PAGE_SIZE } from './user-page.ts';
import { ValidationError, mutating, mutationErrors } from './mutation-errors.ts';
import { checkBlockSize, checkTagId } from './validate.ts';
import type { ExportJobState } from '../jobs/tracker.ts';
import type { ExportKind, ExportRecord } from '../jobs/export-records.ts';
import type { WeComUser } from '../wecom/users.ts';
import type { WeComDepartment } from '../wecom/departments.ts';
import { PII } from './pii.ts';

/**
 * Asynchronous exports (docs/wecom-api.md §7): startExport submits a job with a key the service
 * generates (so only the service can read the files), the tracker follows it, then downloads,
 * verifies (size, md5) and decrypts the files; the records are paged through `ExportJob.records`.
 */

const ExportKindEnum = builder.enumType('ExportKind', {
  description: 'What an export job exports, and so which WeCom export endpoint it uses.',
  values: {
    USERS: { value: 'users', description: 'Members with userid, name and departments (export/simple_user).' },
    USER_DETAILS: { value: 'userDetails', description: 'Members with their details (export/user).' },
    DEPARTMENTS: { value: 'departments', description: 'Departments (export/department).' },
    TAG_MEMBERS: { value: 'tagMembers', description: "One tag's members and departments (export/taguser); needs tagId." },
  } as const,
});

const ExportJobStatus = builder.enumType('ExportJobStatus', {
  description: 'Progress of an export job: WeCom’s (export/get_result `status`), then the service’s download of the files.',
  values: {
    PENDING: { value: 'pending', description: 'WeCom has not started the job.' },
    RUNNING: { value: 'running', description: 'WeCom is exporting, or the service is downloading the files.' },
    FINISHED: { value: 'finished', description: 'The records are available.' },
    FAILED: { value: 'failed', description: 'WeCom reports the job failed.' },
  } as const,
});

type UserRecord = Extract<ExportRecord, { type: 'user' }>;
type DepartmentRecord = Extract<ExportRecord, { type: 'department' }>;
type TagUserRecord = Extract<ExportRecord, { type: 'tagUser' }>;
type TagDepartmentRecord = Extract<ExportRecord, { type: 'tagDepartment' }>;

const text = (value: string | undefined) => (value ? value : null);

const ExportedUser = builder.objectRef<UserRecord>('ExportedUser').implement({
  description: 'A member as the export file holds it (detail fields only in USER_DETAILS exports).',
  fields: (t) => {
    const field = (name: keyof WeComUser & string, description?: string) =>
      t.string({ nullable: true, ...(description ? { description } : {}), resolve: (r) => text(r.user[name] as string | undefined) });
    // Personal data: null without directory:pii (schema/pii.ts).
    const pii = (name: keyof WeComUser & string) =>
      t.string({ ...PII, nullable: true, description: 'PII.', resolve: (r) => text(r.user[name] as string | undefined) });
    return {
      userid: t.string({ description: 'WeCom userid.', resolve: (r) => r.user.userid }),
      name: t.string({ description: 'Display name.', resolve: (r) => r.user.name }),
      departmentIds: t.intList({ description: 'WeCom ids of the member’s departments.', resolve: (r) => r.user.department }),
      // Not `order`: ExportedDepartment.order is a single value, and one selection over the union needs one shape per name.
      orders: t.field({
        type: ['WeComOrder'],
        description: 'Sort order in each department of departmentIds.',
        resolve: (r) => r.user.order,
      }),
      isLeaderInDept: t.booleanList({
        description: 'Head of each department of departmentIds (部门负责人), aligned with it; empty in USERS exports.',
        resolve: (r) => r.user.isLeaderInDept.map((f) => f === 1),
      }),
      mainDepartmentId: t.int({
        nullable: true,
        description: 'Main department; null when the file does not give it.',
        resolve: (r) => r.user.mainDepartment ?? null,
      }),
      directLeaderUserids: t.stringList({
        description: 'Userids of the direct superiors (直属上级); empty when none or not in the file.',
        resolve: (r) => r.user.directLeader,
      }),
      gender: t.field({
        type: Gender,
        nullable: true,
        description: 'Null when the file does not give it (USERS exports, or withheld).',
        resolve: (r) => r.user.gender ?? null,
      }),
      status: t.field({
        type: UserStatus,
        nullable: true,
        description: 'Account state; null when the file does not give it.',
        resolve: (r) => r.user.status ?? null,
      }),
      openUserid: field('openUserid', 'Service-provider-wide id (third-party apps only); null otherwise.'),
      alias: field('alias', 'Alias; null when not set or not in the file.'),
      position: field('position', 'Job title; null when not set or not in the file.'),
      mobile: pii('mobile'),
      email: pii('email'),
      bizMail: pii('bizMail'),
      telephone: pii('telephone'),
      address: pii('address'),
      avatar: pii('avatar'),
      externalPosition: field('externalPosition', 'Job title shown to external contacts; null when not set or not in the file.'),
    };
  },
});

const ExportedDepartment = builder.objectRef<DepartmentRecord>('ExportedDepartment').implement({
  description: 'A department as a DEPARTMENTS export file holds it (department/list shape).',
  fields: (t) => {
    const d = (r: DepartmentRecord): WeComDepartment => r.department;
    return {
      departmentId: t.int({ description: 'WeCom department id (the root is 1).', resolve: (r) => d(r).id }),
      name: t.string({ description: 'Display name.', resolve: (r) => d(r).name }),
      nameEn: t.string({ nullable: true, description: 'English name; null when not set.', resolve: (r) => text(d(r).nameEn) }),
      parentId: t.int({ description: 'Parent department id (0 for the root).', resolve: (r) => d(r).parentid }),
      order: t.field({ type: 'WeComOrder', description: 'Sort order among siblings; larger first.', resolve: (r) => d(r).order }),
    };
  },
});

const ExportedTagUser = builder.objectRef<TagUserRecord>('ExportedTagUser').implement({
  description: 'A member listed on the exported tag.',
  fields: (t) => ({
    userid: t.exposeString('userid', { description: 'WeCom userid.' }),
    name: t.exposeString('name', { description: 'Display name.' }),
  }),
});

const ExportedTagDepartment = builder.objectRef<TagDepartmentRecord>('ExportedTagDepartment').implement({
  description: 'A department listed on the exported tag.',
  fields: (t) => ({ departmentId: t.exposeInt('departmentId', { description: 'WeCom department id.' }) }),
});

const ExportRecordUnion = builder.unionType('ExportRecord', {
  description:
    'One record of an export file; its type follows the export kind: ExportedUser (USERS, USER_DETAILS), ExportedDepartment (DEPARTMENTS), ExportedTagUser and ExportedTagDepartment (TAG_MEMBERS).',
  types: [ExportedUser, ExportedDepartment, ExportedTagUser, ExportedTagDepartment],
  resolveType: (record) => {
    switch (record.type) {
      case 'user':
        return ExportedUser;
      case 'department':
        return ExportedDepartment;
      case 'tagUser':
        return ExportedTagUser;
      case 'tagDepartment':
        return ExportedTagDepartment;
    }
  },
});

const ExportRecordConnection = builder.connectionObject(
  {
    type: ExportRecordUnion,
    name: 'ExportRecordConnection',
    description: 'A page of an export’s records, with the total the export holds.',
    edgesField: { description: 'The records of this page with their cursors, in file order.' },
    fields: (t) => ({ totalCount: t.int(totalCountOptions('How many records the export holds.')) }),
  },
  {
    name: 'ExportRecordEdge',
    description: 'An exported record with its cursor.',
    nodeField: { description: 'The exported record.' },
  },
);

export const ExportJobRef = builder.objectRef<ExportJobState>('ExportJob').implement({
  description: "An asynchronous export of WeCom; once FINISHED, its records, decrypted with the service's key.",
  fields: (t) => ({
    id: t.exposeID('id', { description: "WeCom's jobid." }),
    kind: t.field({ type: ExportKindEnum, description: 'What the job exports.', resolve: (j) => j.kind }),
    tagId: t.int({ nullable: true, description: 'The exported tag (TAG_MEMBERS); null for other kinds.', resolve: (j) => j.tagId ?? null }),
    tagName: t.string({
      nullable: true,
      description: 'The exported tag’s name (TAG_MEMBERS, once FINISHED).',
      resolve: (j) => j.contents?.tagName ?? null,
    }),
    status: t.field({
      type: ExportJobStatus,
      description: 'Where the job is: PENDING, RUNNING, then FINISHED or FAILED.',
      resolve: (j) => j.status,
    }),
    fileCount: t.exposeInt('fileCount', { description: 'Files WeCom produced (block_size records each).' }),
    records: t.connection(
      {
        type: ExportRecordUnion,
        nullable: true,
        description:
          'The exported records, in file order; null until FINISHED. Pages of 100 by default; a larger `first` than 500 gives 500.',
        resolve: (j, args) => {
          const records = j.contents?.records;
          if (!records) return null;
          return { ...resolveArrayConnection({ args, defaultSize: 100, maxSize: MAX_PAGE_SIZE }, records), totalCount: records.length };
        },
      },
      ExportRecordConnection,
    ),
  }),
});

builder.mutationFields((t) => ({
  startExport: t.field({
    // Corp-wide and administrative (src/auth/scopes.ts).
    authScopes: { admin: true, wholeCorp: true },
    type: ExportJobRef,
    description:
      'Starts an export (export/simple_user, export/user, export/department or export/taguser) with a fresh key only this service knows. Follow it with Query.exportJob or Subscription.exportJob.',
    args: {
      kind: t.arg({ type: ExportKindEnum, required: true, description: 'What to export; TAG_MEMBERS needs `tagId`.' }),
      tagId: t.arg.int({ required: false, description: 'The tag of a TAG_MEMBERS export.' }),
      blockSize: t.arg.int({ required: false, description: 'Records per file, 10000 to 1000000 (default 1000000).' }),
    },
    errors: mutationErrors('startExport', {
      succeeded: 'WeCom accepted the export job (it runs asynchronously: follow the job)',
      data: 'The export job: its WeCom jobid and status; its records once FINISHED.',
    }),
    resolve: async (_root, { kind, tagId, blockSize }, ctx) => {
      const exportKind: ExportKind = kind;
      if (exportKind === 'tagMembers' && tagId == null) throw new ValidationError('tagId', 'tagId: a TAG_MEMBERS export needs the tag');
      if (exportKind !== 'tagMembers' && tagId != null) throw new ValidationError('tagId', 'tagId: only a TAG_MEMBERS export takes a tag');
      const params = {
        ...(tagId != null ? { tagId: checkTagId('tagId', tagId) } : {}),
        ...(blockSize != null ? { blockSize: checkBlockSize('blockSize', blockSize) } : {}),
      };
      return mutating({ 40068: 'tagId', 41017: 'tagId', 40058: 'blockSize' }, () => ctx.jobs.startExport(exportKind, params));
    },
  }),
}));

builder.queryFields((t) => ({
  exportJob: t.field({
    // Corp-wide and administrative (src/auth/scopes.ts).
    authScopes: { admin: true, wholeCorp: true },
    type: ExportJobRef,
    nullable: true,
    description: 'An export this service started (only it holds the key to the files); null otherwise.',
    args: { id: t.arg.id({ required: true, description: 'The WeCom jobid (`ExportJob.id`).' }) },
    resolve: (_root, { id }, ctx) => ctx.jobs.exportJob(id),
  }),
}));

builder.subscriptionFields((t) => ({
  exportJob: t.field({
    // Corp-wide and administrative (src/auth/scopes.ts).
    authScopes: { admin: true, wholeCorp: true },
    type: ExportJobRef,
    description: 'An export job’s state now, then each change, until FINISHED or FAILED.',
    args: {
      id: t.arg.id({
        required: true,
        description: 'The WeCom jobid (`ExportJob.id`); NOT_FOUND error when this service did not start it.',
      }),
    },
    subscribe: (_root, { id }, ctx) => {
      const stream = ctx.jobs.watchExport(id);
      if (!stream) throw new GraphQLError(`Export job ${id} was not started by this service`, { extensions: { code: 'NOT_FOUND' } });
      return stream;
    },
    resolve: (job) => job,
  }),
}));
