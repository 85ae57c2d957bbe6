import { describe, expect } from 'vitest';
import type { ServiceHarness } from '../helpers/service.ts';
import { graphql } from '../generated/index.ts';
import { serviceTest } from '../testkit/service.ts';

const it = serviceTest();

interface WireDept {
  id: number;
  name: string;
  parentid: number;
  order: number;
  department_leader: string[];
}

async function emulatorTree(service: ServiceHarness): Promise<WireDept[]> {
  return (await service.wecom.console('department/list')).json.department;
}

describe('department tree', () => {
  it('answers department(id: 1) with name and children from the emulator state, in WeCom order', async ({ service, execute }) => {
    const res = await execute(
      graphql(`query DepartmentTree { department(id: 1) { departmentId name order children { departmentId name order parentId } } }`),
    );
    expect(res.errors).toBeUndefined();
    const tree = await emulatorTree(service);
    const root = tree.find((d) => d.id === 1)!;
    const children = tree.filter((d) => d.parentid === 1).sort((a, b) => b.order - a.order);
    expect(res.data!.department).toEqual({
      departmentId: 1,
      name: root.name,
      order: root.order,
      children: children.map((c) => ({ departmentId: c.id, name: c.name, order: c.order, parentId: 1 })),
    });
    // the first child carries uint32 max, beyond GraphQL Int
    expect(res.data!.department!.children[0]!.order).toBe(4294967295);
  });

  it('gives null for a department that does not exist', async ({ execute }) => {
    const res = await execute(graphql(`query MissingDepartment { department(id: 987654) { name } }`));
    expect(res).toEqual({ data: { department: null } });
  });

  it('costs 1 department/list plus 1 user/list per level-3 department, whatever the member count', async ({ service, execute }) => {
    const tree = await emulatorTree(service);
    const level2 = tree.filter((d) => d.parentid === 1).map((d) => d.id);
    const level3 = tree.filter((d) => level2.includes(d.parentid));
    await service.wecom.resetStats();
    const res = await execute(
      graphql(
        `query Level3Members { department(id: 1) { children { children { departmentId members(first: 50) { totalCount nodes { userid name } } } } } }`,
      ),
    );
    expect(res.errors).toBeUndefined();
    const calls = await service.calls();
    expect(calls['/cgi-bin/department/list']).toBe(1);
    expect(calls['/cgi-bin/user/list']).toBe(level3.length);
    expect(calls['/cgi-bin/user/get'] ?? 0).toBe(0);
    // + at most one gettoken (none when the client already holds a token)
    expect((await service.wecom.stats()).total).toBeLessThanOrEqual(1 + level3.length + 1);

    // members match the emulator's own lists
    const first = res.data!.department!.children[0]!.children[0]!;
    const expected = (await service.wecom.console('user/list', { department_id: first.departmentId })).json.userlist;
    expect(first.members.totalCount).toBe(expected.length);
    expect(first.members.nodes).toEqual(
      expected.slice(0, 50).map((u: { userid: string; name: string }) => ({ userid: u.userid, name: u.name })),
    );
  });

  it('computes recursive members and counts from the tree, each member once', async ({ service, execute }) => {
    const res = await execute(
      graphql(
        `query RecursiveMembers { department(id: 2) { memberCount(recursive: true) members(recursive: true, first: 500) { totalCount } } }`,
      ),
    );
    const expected = (await service.wecom.console('user/list', { department_id: 2, fetch_child: 1 })).json.userlist;
    const unique = new Set(expected.map((u: { userid: string }) => u.userid));
    expect(res.data!.department!.memberCount).toBe(unique.size);
    expect(res.data!.department!.members.totalCount).toBe(unique.size);
  });

  it('counts every department’s subtree in one request, each member once, with one user/list per department', async ({
    service,
    execute,
  }) => {
    const tree = await emulatorTree(service);
    // A member of two departments counts once in their common ancestors (the demo seed has such members).
    const expected = new Map<number, number>();
    for (const d of tree) {
      const listed = (await service.wecom.console('user/list', { department_id: d.id, fetch_child: 1 })).json.userlist;
      expected.set(d.id, new Set(listed.map((u: { userid: string }) => u.userid.toLowerCase())).size);
    }
    await service.wecom.resetStats();
    const res = await execute(graphql(`query SubtreeCounts { departments { departmentId memberCount(recursive: true) } }`));
    expect(res.errors).toBeUndefined();
    expect(new Map(res.data!.departments.map((d) => [d.departmentId, d.memberCount]))).toEqual(expected);
    expect(await service.calls()).toEqual({ '/cgi-bin/department/list': 1, '/cgi-bin/user/list': tree.length });
  });

  it('walks ancestors, descendants and depth without further upstream calls', async ({ service, execute }) => {
    const tree = await emulatorTree(service);
    const deepest = tree.find((d) => d.name === '存储小组')!;
    await service.wecom.resetStats();
    const res = await execute(
      graphql(
        `query Lineage($id: Int!) { department(id: $id) { depth ancestors { departmentId } parent { departmentId } } departments(rootId: 2) { departmentId } }`,
      ),
      { id: deepest.id },
    );
    expect(res.data!.department!.depth).toBe(5);
    expect(res.data!.department!.ancestors.map((a) => a.departmentId)[0]).toBe(1);
    expect(res.data!.department!.parent!.departmentId).toBe(deepest.parentid);
    const under2 = new Set([2]);
    for (const d of tree) if (under2.has(d.parentid)) under2.add(d.id);
    expect(new Set(res.data!.departments.map((d) => d.departmentId))).toEqual(under2);
    expect((await service.calls())['/cgi-bin/department/list']).toBe(1);
  });
});
