import { userKey } from 'wecom-protocol/userid';
import { builder } from './builder.ts';
import { TagRef } from './refs.ts';
import { AlreadyExistsError, NotFoundError, mutating, mutationErrors } from './mutation-errors.ts';
import { checkTagId, checkTagMembers, checkTagName } from './validate.ts';
import { publishWrite, readBack } from './after-write.ts';
import type { GraphQLContext } from './context.ts';
import { guardDepartments, guardMembers, guardVisibleTag } from './scope-guards.ts';
import type { WeComTagSummary } from '../wecom/tags.ts';

/**
 * Tag writes (docs/wecom-api.md §5). A tag belongs to the secret that created it: the service uses the
 * contacts-sync secret, which may also operate the super-admin group's tags; another app's tag
 * gives PermissionDeniedError (81011). Member changes report the members WeCom refused (the rest
 * was applied); when all are refused WeCom answers 40070 (add) or 40031 (remove).
 */

const TAG_FIELDS = { 40071: 'input.tagName', 40072: 'input.tagName', 41018: 'input.tagName', 40068: 'input.tagId' };
const MEMBER_FIELDS = { 40070: 'userids', 40031: 'userids', 40035: 'userids', 81014: 'userids', 81003: 'tagId' };

const CreateTagInput = builder.inputType('CreateTagInput', {
  description: 'A new tag (tag/create); a corp has at most 3000 tags.',
  fields: (t) => ({
    tagName: t.string({ required: true, description: '1–32 characters, unique in the corp.' }),
    tagId: t.int({ description: 'An id of your choice; WeCom picks the next one when omitted.' }),
  }),
});

const UpdateTagInput = builder.inputType('UpdateTagInput', {
  description: 'The tag to rename and its new name (tag/update).',
  fields: (t) => ({
    tagId: t.int({
      required: true,
      description:
        'WeCom id of the tag. Only tags created by this service’s secret (or by the super-admin group) can be changed; others give PermissionDeniedError.',
    }),
    tagName: t.string({ required: true, description: '1–32 characters, unique in the corp.' }),
  }),
});

const TagDeletion = builder.simpleObject('TagDeletion', {
  description: 'The tag WeCom deleted.',
  fields: (t) => ({ tagId: t.int({ description: 'WeCom id of the deleted tag.' }) }),
});

interface TagMembersChange {
  tag: WeComTagSummary;
  invalidUserids: string[];
  invalidDepartmentIds: number[];
}

const TagMembersChangeRef = builder.objectRef<TagMembersChange>('TagMembersChange').implement({
  description: 'The tag after the change, and the members WeCom refused (unknown or outside its reach); the others were applied.',
  fields: (t) => ({
    tag: t.field({ type: TagRef, description: 'The tag after the change (read back from WeCom).', resolve: (c) => c.tag }),
    invalidUserids: t.exposeStringList('invalidUserids', {
      description: 'Userids WeCom refused (invalidlist); empty when all were applied.',
    }),
    invalidDepartmentIds: t.exposeIntList('invalidDepartmentIds', {
      description: 'Department ids WeCom refused (invalidparty); empty when all were applied.',
    }),
  }),
});

/** The tag after a write, read from WeCom (after-write.ts). */
function tagNow(ctx: GraphQLContext, tagid: number): Promise<WeComTagSummary> {
  return readBack(
    `tag ${tagid}`,
    async () => ({ tagid, tagname: (await ctx.client.tags.get(tagid)).tagname }),
    async () => (await ctx.loaders.tags()).find((t) => t.tagid === tagid) ?? null,
  );
}

const memberArgs = builder.args((t) => ({
  tagId: t.int({
    required: true,
    description:
      'WeCom id of the tag. Only tags created by this service’s secret (or by the super-admin group) can be changed; others give PermissionDeniedError.',
  }),
  userids: t.stringList({ required: false, description: 'Members, at most 1000 userids. At least one of userids and departmentIds.' }),
  departmentIds: t.intList({ required: false, description: 'Departments, at most 100 ids. At least one of userids and departmentIds.' }),
}));

builder.mutationFields((t) => ({
  createTag: t.field({
    // Tags are corp-wide: not for a caller limited to departments (src/auth/scopes.ts).
    authScopes: { wholeCorp: true },
    type: TagRef,
    description: 'Creates a tag (tag/create), owned by this service’s secret.',
    args: { input: t.arg({ type: CreateTagInput, required: true, description: 'The new tag.' }) },
    errors: mutationErrors('createTag', {
      succeeded: 'WeCom created the tag',
      data: 'The new tag as WeCom has it after the create, with the id WeCom gave it.',
    }),
    resolve: async (_root, { input }, ctx) => {
      const tagname = checkTagName('input.tagName', input.tagName);
      const tagIdGiven = input.tagId ?? undefined;
      if (tagIdGiven !== undefined) checkTagId('input.tagId', tagIdGiven);
      const { tagid } = await mutating(TAG_FIELDS, () =>
        ctx.client.tags.create({ tagname, ...(tagIdGiven !== undefined ? { tagid: tagIdGiven } : {}) }),
      ).catch((err: unknown) => {
        // WeCom's answer to an explicit tagid already in use is unconfirmed (§13); the emulator gives 40068
        // "invalid tagid", which on a create means the id is taken, not that a tag is missing.
        if (err instanceof NotFoundError && err.errcode === 40068 && tagIdGiven !== undefined) {
          throw new AlreadyExistsError('input.tagId', `WeCom refused tag id ${tagIdGiven}: it is taken or invalid (errcode 40068)`, 40068);
        }
        throw err;
      });
      publishWrite(ctx, { kind: 'TAG_CREATED', tagId: tagid, source: 'mutation' });
      return tagNow(ctx, tagid);
    },
  }),
  updateTag: t.field({
    // Tags are corp-wide: not for a caller limited to departments (src/auth/scopes.ts).
    authScopes: { wholeCorp: true },
    type: TagRef,
    description: 'Renames a tag (tag/update); only its creator may.',
    args: { input: t.arg({ type: UpdateTagInput, required: true, description: 'The tag and its new name.' }) },
    errors: mutationErrors('updateTag', { succeeded: 'WeCom renamed the tag', data: 'The tag as WeCom has it after the rename.' }),
    resolve: async (_root, { input }, ctx) => {
      const tagid = checkTagId('input.tagId', input.tagId);
      const tagname = checkTagName('input.tagName', input.tagName);
      await mutating(TAG_FIELDS, () => ctx.client.tags.update({ tagid, tagname }));
      publishWrite(ctx, { kind: 'TAG_UPDATED', tagId: tagid, source: 'mutation' });
      return tagNow(ctx, tagid);
    },
  }),
  deleteTag: t.field({
    // Tags are corp-wide: not for a caller limited to departments (src/auth/scopes.ts).
    authScopes: { wholeCorp: true },
    type: TagDeletion,
    description: 'Deletes a tag (tag/delete); only its creator may.',
    args: { tagId: t.arg.int({ required: true, description: 'WeCom id of the tag to delete.' }) },
    errors: mutationErrors('deleteTag', { succeeded: 'WeCom deleted the tag', data: 'The id of the deleted tag.' }),
    resolve: async (_root, { tagId }, ctx) => {
      const tagid = checkTagId('tagId', tagId);
      await mutating({ 40068: 'tagId' }, () => ctx.client.tags.delete(tagid));
      publishWrite(ctx, { kind: 'TAG_DELETED', tagId: tagid, source: 'mutation' });
      return { tagId: tagid };
    },
  }),
  addTagMembers: t.field({
    type: TagMembersChangeRef,
    description: 'Adds members and departments to a tag (tag/addtagusers).',
    args: memberArgs,
    errors: mutationErrors('addTagMembers', {
      succeeded: 'WeCom added the listed members and departments, or some of them (the payload lists those it refused)',
      data: 'The tag, and the members and departments WeCom refused; the others were added.',
    }),
    resolve: async (_root, args, ctx) => {
      const members = checkTagMembers(args);
      await guardVisibleTag(ctx, 'tagId', members.tagid);
      await guardMembers(ctx, 'userids', members.userlist);
      await guardDepartments(ctx, 'departmentIds', members.partylist);
      const result = await mutating(MEMBER_FIELDS, () => ctx.client.tags.addMembers(members));
      const refusedUsers = new Set(result.invalidUsers.map(userKey));
      publishWrite(ctx, {
        kind: 'TAG_MEMBERS_CHANGED',
        tagId: members.tagid,
        addedUserids: members.userlist.filter((u) => !refusedUsers.has(userKey(u))),
        addedDepartmentIds: members.partylist.filter((d) => !result.invalidParties.includes(d)),
        source: 'mutation',
      });
      return { tag: await tagNow(ctx, members.tagid), invalidUserids: result.invalidUsers, invalidDepartmentIds: result.invalidParties };
    },
  }),
  removeTagMembers: t.field({
    type: TagMembersChangeRef,
    description: 'Removes members and departments from a tag (tag/deltagusers).',
    args: memberArgs,
    errors: mutationErrors('removeTagMembers', {
      succeeded: 'WeCom removed the listed members and departments, or some of them (the payload lists those it refused)',
      data: 'The tag, and the members and departments WeCom refused; the others were removed.',
    }),
    resolve: async (_root, args, ctx) => {
      const members = checkTagMembers(args);
      await guardVisibleTag(ctx, 'tagId', members.tagid);
      await guardMembers(ctx, 'userids', members.userlist);
      await guardDepartments(ctx, 'departmentIds', members.partylist);
      const result = await mutating(MEMBER_FIELDS, () => ctx.client.tags.removeMembers(members));
      const refusedUsers = new Set(result.invalidUsers.map(userKey));
      publishWrite(ctx, {
        kind: 'TAG_MEMBERS_CHANGED',
        tagId: members.tagid,
        removedUserids: members.userlist.filter((u) => !refusedUsers.has(userKey(u))),
        removedDepartmentIds: members.partylist.filter((d) => !result.invalidParties.includes(d)),
        source: 'mutation',
      });
      return { tag: await tagNow(ctx, members.tagid), invalidUserids: result.invalidUsers, invalidDepartmentIds: result.invalidParties };
    },
  }),
}));
