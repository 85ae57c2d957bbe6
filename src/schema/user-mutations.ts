import { userKey } from 'wecom-protocol/userid';
import { builder } from './builder.ts';
import { UserRef } from './refs.ts';
import { Gender } from './user.ts';
import { mutating, mutationErrors, refusalDetailFor, type ErrcodeFields } from './mutation-errors.ts';
import { checkUserCreate, checkUserUpdate, checkUserid, checkUseridsToDelete } from './validate.ts';
import { publishWrite, readBack } from './after-write.ts';
import type { GraphQLContext } from './context.ts';
import { guardDepartments, guardMembers, guardVisibleMembers } from './scope-guards.ts';
import type { UserUpdateInput, WeComUser } from '../wecom/users.ts';

/**
 * Member writes (docs/wecom-api.md §3.2): createUser, updateUser (moves, leaders, new_userid once),
 * deleteUser, deleteUsers (≤ 200, all or nothing) and confirmJoin (user/authsucc). Input is
 * checked first (validate.ts), WeCom's refusals become typed errors, and each payload is the
 * member as WeCom has it after the write.
 */

/** The argument behind each member errcode (WeCom's user/create and user/update codes, §3.2, §10). */
const USER_FIELDS: ErrcodeFields = {
  40003: 'input.userid',
  41009: 'input.userid',
  60102: 'input.userid',
  301036: 'input.newUserid',
  60112: 'input.name',
  60103: 'input.mobile',
  60104: 'input.mobile',
  60105: 'input.email',
  60106: 'input.email',
  60129: 'input.mobile',
  60143: 'input.bizMail',
  60145: 'input.bizMail',
  40066: 'input.departmentIds',
  60123: 'input.departmentIds',
  41019: 'input.departmentIds',
  60127: 'input.departmentIds',
  60110: 'input.departmentIds',
  81001: 'input.departmentIds',
  60132: 'input.isLeaderInDept',
  301012: 'input.position',
  301013: 'input.telephone',
  301015: 'input.avatarMediaid',
  60111: 'input.directLeaderUserids',
};

const UserAttributeInput = builder.inputType('UserAttributeInput', {
  description:
    'A custom attribute (extattr): `text`, or a web link (`url` and `title`); empty values clear it. The name must exist in the admin console, else WeCom ignores it.',
  fields: (t) => ({
    name: t.string({ required: true, description: 'Attribute name exactly as configured in the admin console (e.g. "工号").' }),
    text: t.string({ description: 'At most 64 characters.' }),
    url: t.string({ description: 'http:// or https://' }),
    title: t.string({ description: 'At most 12 characters.' }),
  }),
});

/** The member fields WeCom lets both create and update set (its names, camelCase; id lists named for what they hold). */
const memberFields = (t: PothosSchemaTypes.InputFieldBuilder<typeof builder.$inferSchemaTypes, 'InputObject'>) => ({
  alias: t.string({ description: 'At most 64 characters.' }),
  mobile: t.string({
    description:
      'Digits, +, - and spaces, at most 32 (e.g. "+86 13800000000"). Unique in the corp. Ignored by WeCom on update once the member has activated.',
  }),
  email: t.string({ description: '6–64 bytes, unique in the corp; not starting with = + - @ (a spreadsheet would run it).' }),
  bizMail: t.string({ description: 'Enterprise mailbox (corps with enterprise mail).' }),
  order: t.field({ type: ['WeComOrder'], description: 'Sort order in each department of departmentIds, aligned with it; larger first.' }),
  isLeaderInDept: t.booleanList({ description: 'Head of each department of departmentIds (部门负责人), aligned with it.' }),
  position: t.string({ description: 'At most 128 characters.' }),
  gender: t.field({ type: Gender, description: 'MALE or FEMALE; UNSPECIFIED (what reads answer when not set) leaves it as it is.' }),
  telephone: t.string({ description: 'Digits, -, + and , (at most 32).' }),
  address: t.string({ description: 'At most 128 characters.' }),
  externalPosition: t.string({ description: 'Shown to external contacts instead of position; at most 12 characters.' }),
  directLeaderUserids: t.stringList({ description: 'Direct superiors (直属上级), at most 5 userids.' }),
  mainDepartmentId: t.int({ description: 'One of departmentIds.' }),
  enable: t.boolean({ description: 'false disables the member.' }),
  avatarMediaid: t.string({ description: 'media_id of an image uploaded through media/upload.' }),
  extAttrs: t.field({ type: [UserAttributeInput], description: 'Custom attributes to set or clear; others keep their value.' }),
});

/** Said on both inputs: the free-text rule of src/schema/validate.ts. */
const FORMULA_NOTE =
  "Free text (name, alias, position, address, externalPosition, extAttrs' text and title) that starts with = + - @, a tab or a carriage return is stored with a leading ' so that spreadsheets opening an export show it as text.";

const CreateUserInput = builder.inputType('CreateUserInput', {
  description: `A new member: userid, name, departmentIds, and a mobile or an email are required. ${FORMULA_NOTE}`,
  fields: (t) => ({
    userid: t.string({
      required: true,
      description: '1–64 bytes of letters, digits, _ - @ . starting with a letter or digit; unique ignoring case.',
    }),
    name: t.string({ required: true, description: '1–64 characters.' }),
    departmentIds: t.intList({ required: true, description: 'Departments of the member (1 to 100).' }),
    ...memberFields(t),
    toInvite: t.boolean({ description: 'Whether WeCom sends an invitation (default true).' }),
  }),
});

const UpdateUserInput = builder.inputType('UpdateUserInput', {
  description: `The member to change and the fields to change; omitted fields stay as they are. ${FORMULA_NOTE}`,
  fields: (t) => ({
    userid: t.string({ required: true, description: 'The member to change (current userid, any case).' }),
    newUserid: t.string({ description: 'A new userid: allowed once, and only when WeCom generated the current one (301036 otherwise).' }),
    name: t.string({ description: '1–64 characters.' }),
    departmentIds: t.intList({ description: 'Moves the member: the complete new list of departments.' }),
    ...memberFields(t),
  }),
});

/** The fields an update changes, named as on WeComUser (the change event's `changedFields`). */
function changedFields(input: UserUpdateInput): string[] {
  const names: string[] = [];
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined || key === 'userid') continue;
    if (key === 'newUserid') names.push('userid');
    else if (key === 'avatarMediaid') names.push('avatar', 'thumbAvatar');
    else if (key === 'enable') names.push('enable', 'status');
    else names.push(key);
  }
  return names;
}

/** The member after a write, read from WeCom (after-write.ts). */
function memberNow(ctx: GraphQLContext, userid: string): Promise<WeComUser> {
  return readBack(
    `member ${userid}`,
    () => ctx.client.users.get(userid),
    () => ctx.loaders.user.load(userid),
  );
}

const UserDeletion = builder.simpleObject('UserDeletion', {
  description: 'The members WeCom deleted.',
  fields: (t) => ({ userids: t.stringList({ description: 'The userids of the deleted members.' }) }),
});

builder.mutationFields((t) => ({
  createUser: t.field({
    type: UserRef,
    description:
      'Creates a member (user/create). A create whose answer was lost is read back: reported once, as applied, when WeCom has it.',
    args: { input: t.arg({ type: CreateUserInput, required: true, description: 'The new member.' }) },
    errors: mutationErrors('createUser', {
      succeeded: 'WeCom created the member',
      data: 'The new member as WeCom has it after the create (read back from WeCom, not from a cache).',
    }),
    resolve: async (_root, { input }, ctx) => {
      const create = checkUserCreate('input', input);
      await guardDepartments(ctx, 'input.departmentIds', create.department);
      await guardVisibleMembers(ctx, 'input.directLeaderUserids', create.directLeader ?? []);
      // WeCom checks userids, mobiles and emails corp-wide: not every caller may learn which one is taken.
      await mutating(USER_FIELDS, () => ctx.client.users.create(create), refusalDetailFor(ctx.scopes));
      publishWrite(ctx, { kind: 'USER_CREATED', userid: create.userid, departmentIds: create.department, source: 'mutation' });
      return memberNow(ctx, create.userid);
    },
  }),
  updateUser: t.field({
    type: UserRef,
    description: 'Changes a member (user/update): rename, move between departments, set leaders and orders, change the userid once.',
    args: { input: t.arg({ type: UpdateUserInput, required: true, description: 'The member and the fields to change.' }) },
    errors: mutationErrors('updateUser', {
      succeeded: 'WeCom applied the update',
      data: 'The member as WeCom has it after the update (under its new userid when it changed).',
    }),
    resolve: async (_root, { input }, ctx) => {
      const update = checkUserUpdate('input', input);
      await guardMembers(ctx, 'input.userid', [update.userid]);
      await guardDepartments(ctx, 'input.departmentIds', update.department ?? []);
      await guardVisibleMembers(ctx, 'input.directLeaderUserids', update.directLeader ?? []);
      await mutating(USER_FIELDS, () => ctx.client.users.update(update), refusalDetailFor(ctx.scopes));
      const renamed = update.newUserid !== undefined && userKey(update.newUserid) !== userKey(update.userid);
      publishWrite(ctx, {
        kind: 'USER_UPDATED',
        userid: update.userid,
        ...(renamed ? { newUserid: update.newUserid } : {}),
        ...(update.department ? { departmentIds: update.department } : {}),
        changedFields: changedFields(update),
        source: 'mutation',
      });
      return memberNow(ctx, update.newUserid ?? update.userid);
    },
  }),
  deleteUser: t.field({
    type: UserDeletion,
    description: 'Deletes a member (user/delete). The corp creator cannot be deleted.',
    args: { userid: t.arg.string({ required: true, description: 'The member to delete (any case).' }) },
    errors: mutationErrors('deleteUser', { succeeded: 'WeCom deleted the member', data: 'The deleted member’s userid.' }),
    resolve: async (_root, { userid }, ctx) => {
      checkUserid('userid', userid);
      await guardMembers(ctx, 'userid', [userid]);
      await mutating({ 40003: 'userid', 60111: 'userid', 301005: 'userid' }, () => ctx.client.users.delete(userid));
      publishWrite(ctx, { kind: 'USER_DELETED', userid, source: 'mutation' });
      return { userids: [userid] };
    },
  }),
  deleteUsers: t.field({
    type: UserDeletion,
    description: 'Deletes up to 200 members at once (user/batchdelete): all of them, or none when any is unknown.',
    args: { userids: t.arg.stringList({ required: true, description: 'The members to delete: 1 to 200 userids.' }) },
    errors: mutationErrors('deleteUsers', { succeeded: 'WeCom deleted every member listed', data: 'The deleted members’ userids.' }),
    resolve: async (_root, { userids }, ctx) => {
      const list = checkUseridsToDelete('userids', userids);
      await guardMembers(ctx, 'userids', list);
      await mutating({ 40031: 'userids', 40032: 'userids', 60111: 'userids', 301005: 'userids' }, () => ctx.client.users.batchDelete(list));
      publishWrite(ctx, ...list.map((userid) => ({ kind: 'USER_DELETED' as const, userid, source: 'mutation' as const })));
      return { userids: list };
    },
  }),
  confirmJoin: t.field({
    type: UserRef,
    description: "Confirms a member's two-factor join (user/authsucc): a member who has not activated joins.",
    args: { userid: t.arg.string({ required: true, description: 'The joining member (any case).' }) },
    errors: mutationErrors('confirmJoin', {
      succeeded: 'WeCom confirmed the join',
      data: 'The member as WeCom has it after the confirmation (read back from WeCom).',
    }),
    resolve: async (_root, { userid }, ctx) => {
      checkUserid('userid', userid);
      await guardMembers(ctx, 'userid', [userid]);
      await mutating({ 40003: 'userid', 60111: 'userid' }, () => ctx.client.users.authSucc(userid));
      publishWrite(ctx, { kind: 'USER_UPDATED', userid, changedFields: ['status'], source: 'mutation' });
      return memberNow(ctx, userid);
    },
  }),
}));
