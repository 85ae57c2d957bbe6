import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import { graphql } from '../generated/index.ts';
import type { ServiceHarness } from '../helpers/service.ts';
import type { TypedResult } from '../testkit/execute.ts';
import { serviceTest } from '../testkit/service.ts';
import { success } from '../helpers/mutations.ts';

/**
 * Read after write with the cross-request directory cache on (the production default): a read
 * cached before a mutation is not served after it, in any later request, because the mutation
 * published its change and the cache dropped what it made wrong.
 */

const it = serviceTest({ cache: {}, jobs: { initialPollMs: 20, maxPollMs: 100 } });

/** Asks twice; the second answer must be served from the cache (no upstream call). */
async function cached<TData>(service: ServiceHarness, ask: () => Promise<TypedResult<TData>>): Promise<TData> {
  const first = await ask();
  expect(first.errors).toBeUndefined();
  await service.wecom.resetStats();
  const again = await ask();
  expect(again).toEqual(first);
  expect((await service.wecom.stats()).total).toBe(0);
  return first.data!;
}

const MEMBERS = graphql(
  `query CachedMembers($id: Int!) { department(id: $id) { memberCount members(first: 500) { nodes { userid name } } } }`,
);
const MEMBER = graphql(`query CachedMember { user(userid: "cached.one") { name departments { departmentId } } }`);
const MEMBER_NAME = graphql(`query CachedMemberName { user(userid: "cached.one") { name } }`);
const TREE_AND_TAGS = graphql(`query CachedTreeAndTags { department(id: 2) { children { departmentId name } } tags { tagId name } }`);
const TREE_AND_TAG_NAMES = graphql(`query CachedTreeAndTagNames { department(id: 2) { children { departmentId name } } tags { name } }`);
const TAG_USERS = graphql(`query CachedTagUsers { tag(id: 1) { users { userid } } }`);
const MEMBER_COUNT = graphql(`query CachedMemberCount { department(id: 4) { memberCount } }`);

describe('with the directory cache', () => {
  it('a created, renamed, moved and deleted member shows in the next request', async ({ service, execute }) => {
    const before2 = await cached(service, () => execute(MEMBERS, { id: 2 }));
    const before3 = await cached(service, () => execute(MEMBERS, { id: 3 }));

    await execute(
      graphql(
        `mutation CachedCreateUser { createUser(input: { userid: "cached.one", name: "缓存", departmentIds: [2], email: "cached.one@example.com" }) { __typename } }`,
      ),
    );
    const after2 = (await execute(MEMBERS, { id: 2 })).data!;
    expect(after2.department!.memberCount).toBe(before2.department!.memberCount + 1);
    expect(after2.department!.members.nodes).toContainEqual({ userid: 'cached.one', name: '缓存' });

    await cached(service, () => execute(MEMBER));
    await execute(
      graphql(
        `mutation CachedUpdateUser { updateUser(input: { userid: "cached.one", name: "已改名", departmentIds: [3] }) { __typename } }`,
      ),
    );
    expect((await execute(MEMBER)).data).toEqual({
      user: { name: '已改名', departments: [{ departmentId: 3 }] },
    });
    expect((await execute(MEMBERS, { id: 2 })).data!.department!.memberCount).toBe(before2.department!.memberCount);
    expect((await execute(MEMBERS, { id: 3 })).data!.department!.members.nodes).toContainEqual({ userid: 'cached.one', name: '已改名' });

    await execute(graphql(`mutation CachedDeleteUser { deleteUser(userid: "cached.one") { __typename } }`));
    expect((await execute(MEMBER_NAME)).data).toEqual({ user: null });
    expect((await execute(MEMBERS, { id: 3 })).data!.department!.memberCount).toBe(before3.department!.memberCount);
  });

  it('department and tag changes show in the next request', async ({ service, execute }) => {
    await cached(service, () => execute(TREE_AND_TAGS));
    const created = await execute(
      graphql(
        `mutation CachedCreateDepartment { createDepartment(input: { name: "缓存部门", parentId: 2 }) { ... on MutationCreateDepartmentSuccess { data { departmentId } } } }`,
      ),
    );
    const id = success(created.data!.createDepartment).data.departmentId;
    await execute(graphql(`mutation CachedCreateTag { createTag(input: { tagName: "缓存标签" }) { __typename } }`));
    const after = await execute(TREE_AND_TAG_NAMES);
    expect(after.data!.department!.children).toContainEqual({ departmentId: id, name: '缓存部门' });
    expect(after.data!.tags.map((t) => t.name)).toContain('缓存标签');

    await cached(service, () => execute(TAG_USERS));
    const tagged = new Set((await service.wecom.console('tag/get', { tagid: 1 })).json.userlist.map((u: { userid: string }) => u.userid));
    const someone = (await service.wecom.console('user/list', { department_id: 3 })).json.userlist.find(
      (u: { userid: string }) => !tagged.has(u.userid),
    );
    const added = await execute(
      graphql(`mutation CachedAddTagMembers($u: [String!]) { addTagMembers(tagId: 1, userids: $u) { __typename ...ErrorFields } }`),
      { u: [someone.userid] },
    );
    expect(added.data!.addTagMembers.__typename).toBe('MutationAddTagMembersSuccess');
    expect((await execute(TAG_USERS)).data!.tag!.users).toContainEqual({ userid: someone.userid });
  });

  it('a finished import drops the cache (DIRECTORY_RELOADED): imported members show in the next request', async ({ service, execute }) => {
    const before = await cached(service, () => execute(MEMBER_COUNT));
    const rows = Array.from({ length: 20 }, (_, i) => ({
      userid: `cached.import.${i}`,
      name: `导入${i}`,
      departmentIds: [4],
      email: `cached.import.${i}@example.com`,
    }));
    const res = await execute(
      graphql(
        `mutation CachedImportUsers($rows: [ImportUserRow!]) { importUsers(mode: SYNC, rows: $rows) { ... on MutationImportUsersSuccess { data { id } } } }`,
      ),
      { rows },
    );
    const id = success(res.data!.importUsers).data.id;
    const job = graphql(`query CachedImportJob($id: ID!) { importJob(id: $id) { status } }`);
    for (let i = 0; i < 200; i++) {
      if ((await execute(job, { id })).data!.importJob!.status === 'FINISHED') break;
      await sleep(20);
    }
    expect((await execute(MEMBER_COUNT)).data!.department!.memberCount).toBe(before.department!.memberCount + 20);
  });
});
