import { resolveArrayConnection } from '@pothos/plugin-relay';
import { GraphQLError } from 'graphql';
import { builder } from './builder.ts';
import { Gender, UserStatus } from './user.ts';
import { totalCountOptions } from './refs.ts';
import { MAX_PAGE_SIZE } from './department.ts';
import { MUTATION_ERRORS, ValidationError, mutating } from './errors-types.ts';
import { checkBlockSize, checkTagId } from './validate.ts';
import type { ExportJobState } from '../jobs/tracker.ts';
import type { ExportKind, ExportRecord } from '../jobs/export-records.ts';
import type { WeComUser } from '../wecom/users.ts';
import type { WeComDepartment } from '../wecom/departments.ts';
import { PII } from './pii.ts';

/**
 * Asynchronous exports (wecom-api.md §7): startExport submits a job with a key the service
 * generates (so only the service can read the files), the tracker follows it, then downloads,
 * verifies (size, md5) and decrypts the files; the records are paged through `ExportJob.records`.
 */

const ExportKindEnum = builder.enumType('ExportKind', {
  values: {
    USERS: { value: 'users', description: 'Members with userid, name and departments (export/simple_user).' },
    USER_DETAILS: { value: 'userDetails', description: 'Members with their details (export/user).' },
    DEPARTMENTS: { value: 'departments', description: 'Departments (export/department).' },
    TAG_MEMBERS: { value: 'tagMembers', description: "One tag's members and departments (export/taguser); needs tagId." },
  } as const,
});

const ExportJobStatus = builder.enumType('ExportJobStatus', {
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
      userid: t.string({ resolve: (r) => r.user.userid }),
      name: t.string({ resolve: (r) => r.user.name }),
      departmentIds: t.intList({ resolve: (r) => r.user.department }),
      // Not `order`: ExportedDepartment.order is a single value, and one selection over the union needs one shape per name.
      orders: t.field({ type: ['WeComOrder'], description: 'Sort order in each department of departmentIds.', resolve: (r) => r.user.order }),
      isLeaderInDept: t.booleanList({ resolve: (r) => r.user.isLeaderInDept.map((f) => f === 1) }),
      mainDepartmentId: t.int({ nullable: true, resolve: (r) => r.user.mainDepartment ?? null }),
      directLeaderUserids: t.stringList({ resolve: (r) => r.user.directLeader }),
      gender: t.field({ type: Gender, nullable: true, resolve: (r) => r.user.gender ?? null }),
      status: t.field({ type: UserStatus, nullable: true, resolve: (r) => r.user.status ?? null }),
      openUserid: field('openUserid'),
      alias: field('alias'),
      position: field('position'),
      mobile: pii('mobile'),
      email: pii('email'),
      bizMail: pii('bizMail'),
      telephone: pii('telephone'),
      address: pii('address'),
      avatar: pii('avatar'),
      externalPosition: field('externalPosition'),
    };
  },
});

const ExportedDepartment = builder.objectRef<DepartmentRecord>('ExportedDepartment').implement({
  fields: (t) => {
    const d = (r: DepartmentRecord): WeComDepartment => r.department;
    return {
      departmentId: t.int({ resolve: (r) => d(r).id }),
      name: t.string({ resolve: (r) => d(r).name }),
      nameEn: t.string({ nullable: true, resolve: (r) => text(d(r).nameEn) }),
      parentId: t.int({ resolve: (r) => d(r).parentid }),
      order: t.field({ type: 'WeComOrder', resolve: (r) => d(r).order }),
    };
  },
});

const ExportedTagUser = builder.objectRef<TagUserRecord>('ExportedTagUser').implement({
  description: 'A member listed on the exported tag.',
  fields: (t) => ({ userid: t.exposeString('userid'), name: t.exposeString('name') }),
});

const ExportedTagDepartment = builder.objectRef<TagDepartmentRecord>('ExportedTagDepartment').implement({
  description: 'A department listed on the exported tag.',
  fields: (t) => ({ departmentId: t.exposeInt('departmentId') }),
});

const ExportRecordUnion = builder.unionType('ExportRecord', {
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
    fields: (t) => ({ totalCount: t.int(totalCountOptions('How many records the export holds.')) }),
  },
  { name: 'ExportRecordEdge' },
);

export const ExportJobRef = builder.objectRef<ExportJobState>('ExportJob').implement({
  description: "An asynchronous export of WeCom; once FINISHED, its records, decrypted with the service's key.",
  fields: (t) => ({
    id: t.exposeID('id', { description: "WeCom's jobid." }),
    kind: t.field({ type: ExportKindEnum, resolve: (j) => j.kind }),
    tagId: t.int({ nullable: true, resolve: (j) => j.tagId ?? null }),
    tagName: t.string({ nullable: true, description: 'The exported tag’s name (TAG_MEMBERS, once FINISHED).', resolve: (j) => j.contents?.tagName ?? null }),
    status: t.field({ type: ExportJobStatus, resolve: (j) => j.status }),
    fileCount: t.exposeInt('fileCount', { description: 'Files WeCom produced (block_size records each).' }),
    records: t.connection(
      {
        type: ExportRecordUnion,
        nullable: true,
        description: 'The exported records, in file order; null until FINISHED.',
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
    description: 'Starts an export (export/simple_user, export/user, export/department or export/taguser) with a fresh key only this service knows. Follow it with Query.exportJob or Subscription.exportJob.',
    args: {
      kind: t.arg({ type: ExportKindEnum, required: true }),
      tagId: t.arg.int({ required: false, description: 'The tag of a TAG_MEMBERS export.' }),
      blockSize: t.arg.int({ required: false, description: 'Records per file, 10000 to 1000000 (default 1000000).' }),
    },
    errors: { types: MUTATION_ERRORS },
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
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.jobs.exportJob(id),
  }),
}));

builder.subscriptionFields((t) => ({
  exportJob: t.field({
    // Corp-wide and administrative (src/auth/scopes.ts).
    authScopes: { admin: true, wholeCorp: true },
    type: ExportJobRef,
    description: 'An export job’s state now, then each change, until FINISHED or FAILED.',
    args: { id: t.arg.id({ required: true }) },
    subscribe: (_root, { id }, ctx) => {
      const stream = ctx.jobs.watchExport(id);
      if (!stream) throw new GraphQLError(`Export job ${id} was not started by this service`, { extensions: { code: 'NOT_FOUND' } });
      return stream;
    },
    resolve: (job) => job,
  }),
}));
