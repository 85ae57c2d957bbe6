import { describe, expect } from 'vitest';
import type { GraphQLResult, ServiceHarness } from '../helpers/service.ts';
import { serviceTest } from '../testkit/service.ts';
import type { DirectoryChange } from '../../src/directory/changes.ts';

/**
 * Invalidation from changes on the ChangeBus (what mutations and callbacks publish): each change
 * makes the next query refetch exactly the entries it touched, no more, and the answer then
 * matches the emulator. Changes are made in the emulator's console (which fires no callback here)
 * and announced on the bus by the test.
 */

interface WireDept {
  id: number;
  name: string;
  parentid: number;
  department_leader: string[];
}
interface WireUser {
  userid: string;
  name: string;
  department: number[];
  direct_leader: string[];
  is_leader_in_dept: number[];
}

const TREE = `{ department(id: 1) { children { children { departmentId name members(first: 500) { nodes { userid name directLeaders { userid } } } } } } }`;
const TAGS = `{ tags { tagId name users { userid } } }`;

let level3: WireDept[];
/** What warming a cold cache cost: what DIRECTORY_RELOADED must cost again. */
let coldCalls: Record<string, number>;
const it = serviceTest(
  { cache: { ttlMs: 600_000, staleMs: 0, maxEntries: 100_000 } },
  {
    resetStats: false,
    beforeEach: async (service) => {
      await service.wecom.reset();
      service.app.cache!.invalidateAll();
      // The reset ended the client's token: take a new one before counting.
      await service.client.tags.list();
      await service.wecom.resetStats();
      const tree: WireDept[] = (await service.wecom.console('department/list')).json.department;
      const level2 = new Set(tree.filter((d) => d.parentid === 1).map((d) => d.id));
      level3 = tree.filter((d) => level2.has(d.parentid));
      // Warm the cache: the tree, every level-3 member list, the tags and their members.
      expect((await service.query(TREE)).errors).toBeUndefined();
      expect((await service.query(TAGS)).errors).toBeUndefined();
      coldCalls = await upstream(service);
      await service.wecom.resetStats();
    },
  },
);

const publish = (service: ServiceHarness, change: DirectoryChange) => service.changes.publish(change);

async function upstream(service: ServiceHarness): Promise<Record<string, number>> {
  const { ['/cgi-bin/gettoken']: _token, ...calls } = await service.calls();
  return calls;
}

async function members(service: ServiceHarness, departmentId: number): Promise<WireUser[]> {
  return (await service.wecom.console('user/list', { department_id: departmentId })).json.userlist;
}

/** The service's answer to TREE, per level-3 department, compared with the emulator's lists. */
async function expectTreeMatchesEmulator(service: ServiceHarness, res: GraphQLResult): Promise<void> {
  for (const l2 of res.data!.department.children) {
    for (const l3 of l2.children) {
      const expected = await members(service, l3.departmentId);
      expect(l3.members.nodes, `department ${l3.departmentId}`).toEqual(
        expected.map((u) => ({ userid: u.userid, name: u.name, directLeaders: u.direct_leader.map((userid) => ({ userid })) })),
      );
    }
  }
}

/** A member of exactly one level-3 department who leads no department and has no reports. */
async function plainMember(service: ServiceHarness): Promise<{ user: WireUser; dept: WireDept }> {
  const leaders = new Set(level3.flatMap((d) => d.department_leader));
  for (const dept of level3) {
    for (const user of await members(service, dept.id)) {
      if (user.department.length === 1 && !leaders.has(user.userid) && !user.is_leader_in_dept.includes(1)) return { user, dept };
    }
  }
  throw new Error('no plain member in the seed');
}

describe('member changes', () => {
  it('a rename refetches only the member lists that hold the member: not the tree, not the tags', async ({ service }) => {
    const { user, dept } = await plainMember(service);
    await service.wecom.console('user/update', { userid: user.userid, name: '改了名' });
    publish(service, { kind: 'USER_UPDATED', userid: user.userid, changedFields: ['name'], source: 'mutation' });

    const res = await service.query(TREE);
    expect(await upstream(service)).toEqual({ '/cgi-bin/user/list': 1 });
    expect((await members(service, dept.id)).find((u) => u.userid === user.userid)!.name).toBe('改了名');
    await expectTreeMatchesEmulator(service, res);
    // the single read is fresh too, and costs nothing more (primed by the refetched list)
    expect((await service.query(`{ user(userid: "${user.userid}") { name } }`)).data!.user).toEqual({ name: '改了名' });
    expect(await upstream(service)).toEqual({ '/cgi-bin/user/list': 1 });
  });

  it('a move refetches the lists it left (found in the cache) and the ones it joined (named by the change)', async ({ service }) => {
    const { user, dept } = await plainMember(service);
    const target = level3.find((d) => d.id !== dept.id)!;
    await service.wecom.console('user/update', { userid: user.userid, department: [target.id], main_department: target.id });
    publish(service, {
      kind: 'USER_UPDATED',
      userid: user.userid,
      departmentIds: [target.id],
      changedFields: ['department', 'mainDepartment'],
      source: 'callback',
    });

    const res = await service.query(TREE);
    // the tree too: leadership may follow a change of departments
    expect(await upstream(service)).toEqual({ '/cgi-bin/user/list': 2, '/cgi-bin/department/list': 1 });
    await expectTreeMatchesEmulator(service, res);
  });

  it('a new member in known departments refetches those lists; with departments unknown, every list', async ({ service }) => {
    const [a] = level3;
    await service.wecom.console('user/create', { userid: 'newcomer1', name: '新人一', department: [a!.id], mobile: '13800009001' });
    publish(service, {
      kind: 'USER_CREATED',
      userid: 'newcomer1',
      departmentIds: [a!.id],
      changedFields: ['name', 'department'],
      source: 'mutation',
    });
    let res = await service.query(TREE);
    expect(await upstream(service)).toEqual({ '/cgi-bin/user/list': 1, '/cgi-bin/department/list': 1 });
    await expectTreeMatchesEmulator(service, res);

    await service.wecom.resetStats();
    await service.wecom.console('user/create', { userid: 'newcomer2', name: '新人二', department: [level3[2]!.id], mobile: '13800009002' });
    publish(service, { kind: 'USER_CREATED', userid: 'newcomer2', source: 'callback' });
    res = await service.query(TREE);
    expect(await upstream(service)).toEqual({ '/cgi-bin/user/list': level3.length, '/cgi-bin/department/list': 1 });
    await expectTreeMatchesEmulator(service, res);
  });

  it('deleting a department head refetches the tree, its lists and the lists of those who reported to it', async ({ service }) => {
    const tree: WireDept[] = (await service.wecom.console('department/list')).json.department;
    // a level-3 head with reports in other level-3 lists
    const all = new Map<number, WireUser[]>();
    for (const d of level3) all.set(d.id, await members(service, d.id));
    const head = level3
      .flatMap((d) => d.department_leader)
      .find((leader) => [...all.values()].some((list) => list.some((u) => u.direct_leader.includes(leader))))!;
    expect(head).toBeDefined();
    const touched = level3.filter((d) => all.get(d.id)!.some((u) => u.userid === head || u.direct_leader.includes(head)));
    // Leaders outside the level-3 lists were read one by one (user/get); those reporting to the head change too.
    const listed = new Set([...all.values()].flat().map((u) => u.userid));
    const readAlone = [...new Set([...all.values()].flat().flatMap((u) => u.direct_leader))].filter((id) => !listed.has(id));
    let reportingAlone = 0;
    for (const id of readAlone)
      if (((await service.wecom.console('user/get', { userid: id })).json.direct_leader as string[]).includes(head)) reportingAlone++;

    expect((await service.wecom.console('user/delete', { userid: head })).json.errcode).toBe(0);
    publish(service, { kind: 'USER_DELETED', userid: head, source: 'callback' });

    const res = await service.query(TREE);
    expect(await upstream(service)).toEqual({
      '/cgi-bin/user/list': touched.length,
      '/cgi-bin/department/list': 1,
      ...(reportingAlone ? { '/cgi-bin/user/get': reportingAlone } : {}),
    });
    await expectTreeMatchesEmulator(service, res);
    const led = tree.find((d) => d.department_leader.includes(head))!;
    expect((await service.query(`{ department(id: ${led.id}) { leaders { userid } } }`)).data!.department.leaders).toEqual([]);
  });

  it('a member removed from a tag by a delete is gone from the cached tag too', async ({ service }) => {
    const tags: { tagid: number }[] = (await service.wecom.console('tag/list')).json.taglist;
    let victim: string | undefined;
    let tagId = 0;
    for (const t of tags) {
      const got = (await service.wecom.console('tag/get', { tagid: t.tagid })).json;
      const candidate = (got.userlist as { userid: string }[]).find((u) => !level3.some((d) => d.department_leader.includes(u.userid)));
      if (candidate) {
        victim = candidate.userid;
        tagId = t.tagid;
        break;
      }
    }
    expect(victim).toBeDefined();
    await service.wecom.console('user/delete', { userid: victim });
    publish(service, { kind: 'USER_DELETED', userid: victim!, source: 'callback' });
    const res = await service.query(TAGS);
    expect(res.data!.tags.find((t: { tagId: number }) => t.tagId === tagId).users).not.toContainEqual({ userid: victim });
    expect((await upstream(service))['/cgi-bin/tag/get']).toBeGreaterThanOrEqual(1);
    expect((await upstream(service))['/cgi-bin/tag/list']).toBeUndefined();
  });
});

describe('department changes', () => {
  it('a rename refetches the tree only', async ({ service }) => {
    const dept = level3[0]!;
    await service.wecom.console('department/update', { id: dept.id, name: '新名字部' });
    publish(service, { kind: 'DEPARTMENT_UPDATED', departmentId: dept.id, changedFields: ['name'], source: 'callback' });
    const res = await service.query(TREE);
    expect(await upstream(service)).toEqual({ '/cgi-bin/department/list': 1 });
    const names = res.data!.department.children.flatMap((c: { children: { departmentId: number; name: string }[] }) => c.children);
    expect(names.find((d: { departmentId: number }) => d.departmentId === dept.id).name).toBe('新名字部');
  });

  it('a new department appears with one tree refetch, and its empty member list is read once', async ({ service }) => {
    const parent = level3[0]!.parentid;
    const created = await service.wecom.console('department/create', { name: '新设部门', parentid: parent });
    const id = created.json.id as number;
    publish(service, { kind: 'DEPARTMENT_CREATED', departmentId: id, parentId: parent, source: 'mutation' });
    const res = await service.query(TREE);
    expect(await upstream(service)).toEqual({ '/cgi-bin/department/list': 1, '/cgi-bin/user/list': 1 });
    await expectTreeMatchesEmulator(service, res);
  });

  it('a deleted department drops the tags that listed it', async ({ service }) => {
    // an empty department on a tag
    const parent = level3[0]!.parentid;
    const id = (await service.wecom.console('department/create', { name: '临时部门', parentid: parent })).json.id as number;
    const tagid = ((await service.wecom.console('tag/list')).json.taglist as { tagid: number }[])[0]!.tagid;
    await service.wecom.console('tag/addtagusers', { tagid, partylist: [id] });
    publish(service, { kind: 'DEPARTMENT_CREATED', departmentId: id, parentId: parent, source: 'mutation' });
    publish(service, { kind: 'TAG_MEMBERS_CHANGED', tagId: tagid, addedDepartmentIds: [id], source: 'mutation' });
    const before = await service.query(`{ tag(id: ${tagid}) { departments { departmentId } } }`);
    expect(before.data!.tag.departments).toContainEqual({ departmentId: id });

    await service.wecom.resetStats();
    await service.wecom.console('department/delete', { id });
    publish(service, { kind: 'DEPARTMENT_DELETED', departmentId: id, source: 'callback' });
    const after = await service.query(`{ tag(id: ${tagid}) { departments { departmentId } } }`);
    expect(after.data!.tag.departments).not.toContainEqual({ departmentId: id });
    expect(await upstream(service)).toEqual({ '/cgi-bin/department/list': 1, '/cgi-bin/tag/get': 1 });
  });
});

describe('tag changes', () => {
  it('a membership change refetches that tag only', async ({ service }) => {
    const { user } = await plainMember(service);
    const tagid = ((await service.wecom.console('tag/list')).json.taglist as { tagid: number }[])[1]!.tagid;
    await service.wecom.console('tag/addtagusers', { tagid, userlist: [user.userid] });
    publish(service, { kind: 'TAG_MEMBERS_CHANGED', tagId: tagid, addedUserids: [user.userid], source: 'callback' });
    const res = await service.query(TAGS);
    expect(await upstream(service)).toEqual({ '/cgi-bin/tag/get': 1 });
    const expected = (await service.wecom.console('tag/get', { tagid })).json.userlist as { userid: string }[];
    expect(res.data!.tags.find((t: { tagId: number }) => t.tagId === tagid).users).toEqual(expected.map((u) => ({ userid: u.userid })));
  });

  it('a change to a tag the cached list does not know refetches the list too', async ({ service }) => {
    const created = await service.wecom.console('tag/create', { tagname: '新标签' });
    publish(service, { kind: 'TAG_MEMBERS_CHANGED', tagId: created.json.tagid, source: 'callback' });
    const res = await service.query(TAGS);
    expect(await upstream(service)).toEqual({ '/cgi-bin/tag/list': 1, '/cgi-bin/tag/get': 1 });
    expect(res.data!.tags.map((t: { name: string }) => t.name)).toContain('新标签');
  });

  it('a rename refetches the list and that tag', async ({ service }) => {
    const tagid = ((await service.wecom.console('tag/list')).json.taglist as { tagid: number }[])[0]!.tagid;
    await service.wecom.console('tag/update', { tagid, tagname: '改名标签' });
    publish(service, { kind: 'TAG_UPDATED', tagId: tagid, source: 'mutation' });
    const res = await service.query(TAGS);
    expect(await upstream(service)).toEqual({ '/cgi-bin/tag/list': 1, '/cgi-bin/tag/get': 1 });
    expect(res.data!.tags.find((t: { tagId: number }) => t.tagId === tagid).name).toBe('改名标签');
  });
});

describe('whole directory', () => {
  it('DIRECTORY_RELOADED drops everything', async ({ service }) => {
    publish(service, { kind: 'DIRECTORY_RELOADED', source: 'import' });
    await service.query(TREE);
    await service.query(TAGS);
    const tags = ((await service.wecom.console('tag/list')).json.taglist as unknown[]).length;
    expect(await upstream(service)).toEqual(coldCalls);
    expect(coldCalls).toMatchObject({
      '/cgi-bin/department/list': 1,
      '/cgi-bin/user/list': level3.length,
      '/cgi-bin/tag/list': 1,
      '/cgi-bin/tag/get': tags,
    });
  });

  it('a change on the bus for something not cached costs nothing', async ({ service }) => {
    publish(service, { kind: 'TAG_MEMBERS_CHANGED', tagId: 999_999, source: 'callback' });
    publish(service, { kind: 'USER_UPDATED', userid: 'nobody-cached', changedFields: ['position'], source: 'callback' });
    await service.query(TREE);
    expect(await upstream(service)).toEqual({});
  });
});
