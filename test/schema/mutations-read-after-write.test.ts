import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import type { ServiceHarness } from '../helpers/service.ts';
import { serviceTest } from '../testkit/service.ts';
import { ERROR_FIELDS } from '../helpers/mutations.ts';

/**
 * Read after write with the cross-request directory cache on (the production default): a read
 * cached before a mutation is not served after it, in any later request, because the mutation
 * published its change and the cache dropped what it made wrong.
 */

const it = serviceTest({ cache: {}, jobs: { initialPollMs: 20, maxPollMs: 100 } });

/** Runs `query` twice; the second run must be served from the cache (no upstream call). */
async function cached(service: ServiceHarness, query: string) {
  const first = await service.query(query);
  expect(first.errors).toBeUndefined();
  await service.wecom.resetStats();
  const again = await service.query(query);
  expect(again).toEqual(first);
  expect((await service.wecom.stats()).total).toBe(0);
  return first.data!;
}

describe('with the directory cache', () => {
  it('a created, renamed, moved and deleted member shows in the next request', async ({ service }) => {
    const members = (id: number) => `{ department(id: ${id}) { memberCount members(first: 500) { nodes { userid name } } } }`;
    const before2 = await cached(service, members(2));
    const before3 = await cached(service, members(3));

    await service.query(
      `mutation { createUser(input: { userid: "cached.one", name: "缓存", departmentIds: [2], email: "cached.one@example.com" }) { __typename } }`,
    );
    const after2 = (await service.query(members(2))).data!;
    expect(after2.department.memberCount).toBe(before2.department.memberCount + 1);
    expect(after2.department.members.nodes).toContainEqual({ userid: 'cached.one', name: '缓存' });

    await cached(service, '{ user(userid: "cached.one") { name departments { departmentId } } }');
    await service.query(`mutation { updateUser(input: { userid: "cached.one", name: "已改名", departmentIds: [3] }) { __typename } }`);
    expect((await service.query('{ user(userid: "cached.one") { name departments { departmentId } } }')).data).toEqual({
      user: { name: '已改名', departments: [{ departmentId: 3 }] },
    });
    expect((await service.query(members(2))).data!.department.memberCount).toBe(before2.department.memberCount);
    expect((await service.query(members(3))).data!.department.members.nodes).toContainEqual({ userid: 'cached.one', name: '已改名' });

    await service.query(`mutation { deleteUser(userid: "cached.one") { __typename } }`);
    expect((await service.query('{ user(userid: "cached.one") { name } }')).data).toEqual({ user: null });
    expect((await service.query(members(3))).data!.department.memberCount).toBe(before3.department.memberCount);
  });

  it('department and tag changes show in the next request', async ({ service }) => {
    await cached(service, '{ department(id: 2) { children { departmentId name } } tags { tagId name } }');
    const created = await service.query(
      `mutation { createDepartment(input: { name: "缓存部门", parentId: 2 }) { ... on MutationCreateDepartmentSuccess { data { departmentId } } } }`,
    );
    const id = created.data!.createDepartment.data.departmentId;
    await service.query(`mutation { createTag(input: { tagName: "缓存标签" }) { __typename } }`);
    const after = await service.query('{ department(id: 2) { children { departmentId name } } tags { name } }');
    expect(after.data!.department.children).toContainEqual({ departmentId: id, name: '缓存部门' });
    expect(after.data!.tags.map((t: { name: string }) => t.name)).toContain('缓存标签');

    await cached(service, `{ tag(id: 1) { users { userid } } }`);
    const tagged = new Set((await service.wecom.console('tag/get', { tagid: 1 })).json.userlist.map((u: { userid: string }) => u.userid));
    const someone = (await service.wecom.console('user/list', { department_id: 3 })).json.userlist.find(
      (u: { userid: string }) => !tagged.has(u.userid),
    );
    const added = await service.query(
      `mutation($u: [String!]) { addTagMembers(tagId: 1, userids: $u) { __typename ...ErrorFields } } ${ERROR_FIELDS}`,
      { u: [someone.userid] },
    );
    expect(added.data!.addTagMembers.__typename).toBe('MutationAddTagMembersSuccess');
    expect((await service.query(`{ tag(id: 1) { users { userid } } }`)).data!.tag.users).toContainEqual({ userid: someone.userid });
  });

  it('a finished import drops the cache (DIRECTORY_RELOADED): imported members show in the next request', async ({ service }) => {
    const before = await cached(service, '{ department(id: 4) { memberCount } }');
    const rows = Array.from({ length: 20 }, (_, i) => ({
      userid: `cached.import.${i}`,
      name: `导入${i}`,
      departmentIds: [4],
      email: `cached.import.${i}@example.com`,
    }));
    const res = await service.query(
      `mutation($rows: [ImportUserRow!]) { importUsers(mode: SYNC, rows: $rows) { ... on MutationImportUsersSuccess { data { id } } } }`,
      { rows },
    );
    const id = res.data!.importUsers.data.id;
    for (let i = 0; i < 200; i++) {
      if ((await service.query(`{ importJob(id: "${id}") { status } }`)).data!.importJob.status === 'FINISHED') break;
      await sleep(20);
    }
    expect((await service.query('{ department(id: 4) { memberCount } }')).data!.department.memberCount).toBe(
      before.department.memberCount + 20,
    );
  });
});
