import { describe, expect } from 'vitest';
import type { ServiceHarness } from '../helpers/service.ts';
import { serviceTest } from '../testkit/service.ts';
import { naivePlanning } from '../../bench/naive-planning.ts';

/**
 * The benchmark's naive baseline (bench/naive-planning.ts, through createApp's `source` and
 * `loaders` seams): the same graph, with the planning taken out. These tests pin what "naive" costs upstream, so the benchmark's
 * baseline stays the N+1 it claims to be, and check its answers are still right.
 */

// The cache is asked for and must still not be used: naive means no cache.
const it = serviceTest({ planning: naivePlanning, cache: {} });

interface WireDept {
  id: number;
  parentid: number;
}

async function emulatorTree(service: ServiceHarness): Promise<WireDept[]> {
  return (await service.wecom.console('department/list')).json.department;
}

async function emulatorMembers(
  service: ServiceHarness,
  departmentId: number,
): Promise<{ userid: string; name: string; position?: string }[]> {
  return (await service.wecom.console('user/list', { department_id: departmentId })).json.userlist;
}

/** Calls by path, without gettoken (the first test's token is fetched once for the whole file). */
async function calls(service: ServiceHarness): Promise<Record<string, number>> {
  const { '/cgi-bin/gettoken': _token, ...rest } = (await service.wecom.stats()).calls;
  return rest;
}

describe('naive planning', () => {
  it("reads a department's members with user/simplelist and one user/get per member, with the same answer as user/list", async ({
    service,
  }) => {
    const tree = await emulatorTree(service);
    const sizes = await Promise.all(tree.map(async (d) => ({ id: d.id, members: await emulatorMembers(service, d.id) })));
    const target = sizes.find((d) => d.members.length >= 3)!;
    await service.wecom.resetStats();

    const res = await service.query(
      `{ department(id: ${target.id}) { members(first: 500) { totalCount nodes { userid name position } } } }`,
    );

    expect(res.errors).toBeUndefined();
    expect(res.data!.department.members.totalCount).toBe(target.members.length);
    expect(res.data!.department.members.nodes).toEqual(
      target.members.map((u) => ({ userid: u.userid, name: u.name, position: u.position || null })),
    );
    expect(await calls(service)).toEqual({
      '/cgi-bin/department/list': 1,
      '/cgi-bin/user/simplelist': 1,
      '/cgi-bin/user/get': target.members.length,
    });
  });

  it('loads the same member twice in one request (no DataLoader de-duplication)', async ({ service }) => {
    const [member] = await emulatorMembers(service, 1);
    const res = await service.query(`{ a: user(userid: "${member!.userid}") { name } b: user(userid: "${member!.userid}") { name } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ a: { name: member!.name }, b: { name: member!.name } });
    expect(await calls(service)).toEqual({ '/cgi-bin/user/get': 2 });
  });

  it('reads the department tree again for every resolver that needs it (no per-request memo)', async ({ service }) => {
    const tree = await emulatorTree(service);
    const level2 = tree.filter((d) => d.parentid === 1);
    const res = await service.query('{ department(id: 1) { children { children { departmentId } } } }');
    expect(res.errors).toBeUndefined();
    expect(res.data!.department.children).toHaveLength(level2.length);
    // department(id) + the root's children + each level-2 department's children
    expect(await calls(service)).toEqual({ '/cgi-bin/department/list': 2 + level2.length });
  });

  it('keeps nothing between requests, even with the cache asked for', async ({ service }) => {
    const query = '{ department(id: 1) { name } }';
    await service.query(query);
    const first = await calls(service);
    await service.wecom.resetStats();
    await service.query(query);
    expect(await calls(service)).toEqual(first);
    expect(first).toEqual({ '/cgi-bin/department/list': 1 });
    expect(service.app.cache).toBeUndefined();
  });

  it("reads the linked corps' grant again for every resolver that needs it", async ({ service }) => {
    const perms = (await service.wecom.asApp('linkedcorp/agent/get_perm_list', { body: {} })).json;
    const granted: string[] = perms.department_ids;
    expect(granted.length).toBeGreaterThan(0);
    await service.wecom.resetStats();

    const res = await service.query('{ linkedCorps { linkedId departments { departmentId children { departmentId } } } }');

    expect(res.errors).toBeUndefined();
    expect(
      res.data!.linkedCorps.flatMap((c: { departments: { departmentId: string }[] }) => c.departments.map((d) => d.departmentId)).sort(),
    ).toEqual([...granted].sort());
    // linkedCorps once, then each granted department's children: each reads the whole grant again
    const reads = 1 + granted.length;
    expect(await calls(service)).toEqual({
      '/cgi-bin/linkedcorp/agent/get_perm_list': reads,
      '/cgi-bin/linkedcorp/department/list': reads * granted.length,
    });
  });
});
