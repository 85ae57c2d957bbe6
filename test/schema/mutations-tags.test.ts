import { describe, expect } from 'vitest';
import type { ServiceHarness } from '../helpers/service.ts';
import { serviceTest } from '../testkit/service.ts';
import { graphql } from '../generated/index.ts';
import { success } from '../helpers/mutations.ts';

const it = serviceTest();

/** The seed's last tag belongs to the sales app (1000003): the contacts-sync secret may not change it. */
const SALES_APP_TAG = 10;

interface WireTag {
  tagname: string;
  userlist: { userid: string; name: string }[];
  partylist: number[];
}

async function tagList(service: ServiceHarness): Promise<{ tagid: number; tagname: string }[]> {
  return (await service.wecom.console('tag/list')).json.taglist;
}

async function wecomTag(service: ServiceHarness, tagid: number): Promise<WireTag & { errcode: number }> {
  return (await service.wecom.console('tag/get', { tagid })).json as WireTag & { errcode: number };
}

async function userids(service: ServiceHarness): Promise<string[]> {
  return (await service.wecom.console('user/list', { department_id: 1, fetch_child: 1 })).json.userlist.map(
    (u: { userid: string }) => u.userid,
  );
}

const CREATE = graphql(`mutation CreateTag($input: CreateTagInput!) {
  createTag(input: $input) { __typename ...ErrorFields ... on MutationCreateTagSuccess { data { tagId name } } }
}`);
const UPDATE = graphql(`mutation UpdateTag($input: UpdateTagInput!) {
  updateTag(input: $input) { __typename ...ErrorFields ... on MutationUpdateTagSuccess { data { tagId name } } }
}`);
const DELETE = graphql(`mutation DeleteTag($tagId: Int!) {
  deleteTag(tagId: $tagId) { __typename ...ErrorFields ... on MutationDeleteTagSuccess { data { tagId } } }
}`);
// What both member changes answer (codegen reads the fragment from this call).
graphql(`fragment ChangedTagMembers on TagMembersChange {
  tag { tagId name users { userid } departments { departmentId } } invalidUserids invalidDepartmentIds
}`);
const ADD_MEMBERS = graphql(`mutation AddTagMembers($tagId: Int!, $userids: [String!], $departmentIds: [Int!]) {
  addTagMembers(tagId: $tagId, userids: $userids, departmentIds: $departmentIds) {
    __typename ...ErrorFields ... on MutationAddTagMembersSuccess { data { ...ChangedTagMembers } }
  }
}`);
const REMOVE_MEMBERS = graphql(`mutation RemoveTagMembers($tagId: Int!, $userids: [String!], $departmentIds: [Int!]) {
  removeTagMembers(tagId: $tagId, userids: $userids, departmentIds: $departmentIds) {
    __typename ...ErrorFields ... on MutationRemoveTagMembersSuccess { data { ...ChangedTagMembers } }
  }
}`);
const TAG_NAME = graphql(`query TagName($id: Int!) { tag(id: $id) { name } }`);
const TAG_USERS = graphql(`query TagUsers($id: Int!) { tag(id: $id) { users { userid } } }`);

describe('createTag, updateTag, deleteTag', () => {
  it('creates, renames and deletes a tag; later reads follow', async ({ service, execute, published }) => {
    const created = await execute(CREATE, { input: { tagName: '读书会' } });
    const tagId = success(created.data!.createTag).data.tagId;
    expect(created.data!.createTag).toEqual({ __typename: 'MutationCreateTagSuccess', data: { tagId, name: '读书会' } });
    expect(await tagList(service)).toContainEqual({ tagid: tagId, tagname: '读书会' });
    expect(published).toEqual([{ kind: 'TAG_CREATED', tagId, source: 'mutation' }]);

    const withId = await execute(CREATE, { input: { tagName: 'Explicit', tagId: 500 } });
    expect(withId.data!.createTag).toEqual({ __typename: 'MutationCreateTagSuccess', data: { tagId: 500, name: 'Explicit' } });

    const renamed = await execute(UPDATE, { input: { tagId, tagName: '读书会2' } });
    expect(renamed.data!.updateTag).toEqual({ __typename: 'MutationUpdateTagSuccess', data: { tagId, name: '读书会2' } });
    expect(await tagList(service)).toContainEqual({ tagid: tagId, tagname: '读书会2' });
    expect((await execute(TAG_NAME, { id: tagId })).data).toEqual({ tag: { name: '读书会2' } });

    const deleted = await execute(DELETE, { tagId });
    expect(deleted.data!.deleteTag).toEqual({ __typename: 'MutationDeleteTagSuccess', data: { tagId } });
    expect((await tagList(service)).some((t) => t.tagid === tagId)).toBe(false);
    expect((await execute(TAG_NAME, { id: tagId })).data).toEqual({ tag: null });
    expect(published.map((c) => c.kind)).toEqual(['TAG_CREATED', 'TAG_CREATED', 'TAG_UPDATED', 'TAG_DELETED']);
  });

  it('refuses an empty name, 33 characters and a negative id before calling WeCom', async ({ service, execute }) => {
    const before = await tagList(service);
    for (const [input, field] of [
      [{ tagName: '' }, 'input.tagName'],
      [{ tagName: '标'.repeat(33) }, 'input.tagName'],
      [{ tagName: 'ok', tagId: -1 }, 'input.tagId'],
    ] as const) {
      const res = await execute(CREATE, { input });
      expect(res.data!.createTag).toMatchObject({ __typename: 'ValidationError', field, errcode: null });
    }
    const update = await execute(UPDATE, { input: { tagId: 1, tagName: ' ' } });
    expect(update.data!.updateTag).toMatchObject({ __typename: 'ValidationError', field: 'input.tagName' });
    expect((await service.wecom.stats()).total).toBe(0);
    expect(await tagList(service)).toEqual(before);
  });

  it('maps a taken name (40071), a taken id, an unknown tag (40068) and another app’s tag (81011), changing nothing', async ({
    service,
    execute,
    published,
  }) => {
    const before = await tagList(service);
    const [first, second] = before;
    const dupName = await execute(CREATE, { input: { tagName: first!.tagname } });
    expect(dupName.data!.createTag).toMatchObject({ __typename: 'AlreadyExistsError', field: 'input.tagName', errcode: 40071 });
    const dupId = await execute(CREATE, { input: { tagName: 'Fresh name', tagId: first!.tagid } });
    expect(dupId.data!.createTag).toMatchObject({ __typename: 'AlreadyExistsError', field: 'input.tagId', errcode: 40068 });
    const renameTaken = await execute(UPDATE, { input: { tagId: first!.tagid, tagName: second!.tagname } });
    expect(renameTaken.data!.updateTag).toMatchObject({ __typename: 'AlreadyExistsError', field: 'input.tagName', errcode: 40071 });
    const unknown = await execute(UPDATE, { input: { tagId: 98765, tagName: 'x' } });
    expect(unknown.data!.updateTag).toMatchObject({ __typename: 'NotFoundError', errcode: 40068 });
    expect((await execute(DELETE, { tagId: 98765 })).data!.deleteTag).toMatchObject({ __typename: 'NotFoundError', errcode: 40068 });
    const foreignRename = await execute(UPDATE, { input: { tagId: SALES_APP_TAG, tagName: 'Mine now' } });
    expect(foreignRename.data!.updateTag).toMatchObject({ __typename: 'PermissionDeniedError', errcode: 81011 });
    const foreignDelete = await execute(DELETE, { tagId: SALES_APP_TAG });
    expect(foreignDelete.data!.deleteTag).toMatchObject({ __typename: 'PermissionDeniedError', errcode: 81011 });
    expect(await tagList(service)).toEqual(before);
    expect(published).toEqual([]);
  });
});

describe('addTagMembers and removeTagMembers', () => {
  it('adds members and departments, returning the invalid ones; the rest is applied', async ({ service, execute, published }) => {
    const created = await execute(CREATE, { input: { tagName: 'Members test' } });
    const tagId = success(created.data!.createTag).data.tagId;
    const [a, b] = (await userids(service)) as [string, string];
    published.length = 0;

    const res = await execute(ADD_MEMBERS, { tagId, userids: [a, b, 'no.such.member'], departmentIds: [3, 987654] });
    expect(res.data!.addTagMembers).toEqual({
      __typename: 'MutationAddTagMembersSuccess',
      data: {
        tag: { tagId, name: 'Members test', users: [{ userid: a }, { userid: b }], departments: [{ departmentId: 3 }] },
        invalidUserids: ['no.such.member'],
        invalidDepartmentIds: [987654],
      },
    });
    const stored = await wecomTag(service, tagId);
    expect(stored.userlist.map((u) => u.userid)).toEqual([a, b]);
    expect(stored.partylist).toEqual([3]);
    expect(published).toEqual([{ kind: 'TAG_MEMBERS_CHANGED', tagId, addedUserids: [a, b], addedDepartmentIds: [3], source: 'mutation' }]);

    published.length = 0;
    const removed = await execute(REMOVE_MEMBERS, { tagId, userids: [a, 'no.such.member'] });
    expect(removed.data!.removeTagMembers).toEqual({
      __typename: 'MutationRemoveTagMembersSuccess',
      data: {
        tag: { tagId, name: 'Members test', users: [{ userid: b }], departments: [{ departmentId: 3 }] },
        invalidUserids: ['no.such.member'],
        invalidDepartmentIds: [],
      },
    });
    expect((await wecomTag(service, tagId)).userlist.map((u) => u.userid)).toEqual([b]);
    expect(published).toEqual([{ kind: 'TAG_MEMBERS_CHANGED', tagId, removedUserids: [a], removedDepartmentIds: [], source: 'mutation' }]);
    const later = await execute(TAG_USERS, { id: tagId });
    expect(later.data!.tag!.users).toEqual([{ userid: b }]);
  });

  it('maps all-invalid members (40070 on add, 40031 on remove) and another app’s tag (81011), changing nothing', async ({
    service,
    execute,
    published,
  }) => {
    const before = await wecomTag(service, 1);
    const add = await execute(ADD_MEMBERS, { tagId: 1, userids: ['no.such.member'] });
    expect(add.data!.addTagMembers).toMatchObject({ __typename: 'ValidationError', field: 'userids', errcode: 40070 });
    const remove = await execute(REMOVE_MEMBERS, { tagId: 1, userids: ['no.such.member'] });
    expect(remove.data!.removeTagMembers).toMatchObject({ __typename: 'ValidationError', field: 'userids', errcode: 40031 });
    expect(await wecomTag(service, 1)).toEqual(before);

    const foreignBefore = await wecomTag(service, SALES_APP_TAG);
    const [someone] = (await userids(service)) as [string];
    const foreign = await execute(ADD_MEMBERS, { tagId: SALES_APP_TAG, userids: [someone] });
    expect(foreign.data!.addTagMembers).toMatchObject({ __typename: 'PermissionDeniedError', errcode: 81011 });
    expect(await wecomTag(service, SALES_APP_TAG)).toEqual(foreignBefore);
    const unknown = await execute(ADD_MEMBERS, { tagId: 98765, userids: [someone] });
    expect(unknown.data!.addTagMembers).toMatchObject({ __typename: 'NotFoundError', errcode: 40068 });
    expect(published).toEqual([]);
  });

  it('refuses empty lists, more than 1000 users, more than 100 departments and bad userids before calling WeCom', async ({
    service,
    execute,
  }) => {
    const before = await wecomTag(service, 1);
    for (const [vars, field] of [
      [{}, 'userids'],
      [{ userids: Array.from({ length: 1001 }, (_, i) => `u${i}`) }, 'userids'],
      [{ departmentIds: Array.from({ length: 101 }, (_, i) => i + 2) }, 'departmentIds'],
      [{ userids: ['ok', 'not ok'] }, 'userids[1]'],
    ] as [{ userids?: string[]; departmentIds?: number[] }, string][]) {
      const add = await execute(ADD_MEMBERS, { tagId: 1, ...vars });
      expect(add.data!.addTagMembers).toMatchObject({ __typename: 'ValidationError', field, errcode: null });
      const remove = await execute(REMOVE_MEMBERS, { tagId: 1, ...vars });
      expect(remove.data!.removeTagMembers).toMatchObject({ __typename: 'ValidationError', field, errcode: null });
    }
    expect((await service.wecom.stats()).total).toBe(0);
    expect(await wecomTag(service, 1)).toEqual(before);
  });
});
