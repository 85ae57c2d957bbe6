import { userKey } from 'wecom-protocol/userid';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ServiceHarness } from '../helpers/service.ts';
import { SseSubscription } from '../helpers/sse.ts';
import { ERROR_FIELDS } from '../helpers/mutations.ts';
import { ALL, keysOnly, post, testKey, withKey, writeCalls, type TestKey } from './helpers.ts';

/**
 * A key limited to department subtrees sees only those departments, everything below them and
 * their members, everywhere in the graph: the tree, lookups, search, node/nodes, tags, leaders,
 * linked corps, the change feed and subscriptions. Its mutations may not touch anything outside
 * (PermissionDeniedError before any upstream write), and corp-wide operations are FORBIDDEN.
 *
 * The subtree here is 研发中心 (department 2) and what is below it.
 */

const RD = 2;
const SALES = 23;
const rdReader = testKey('rd-reader', ['directory:read', 'directory:pii'], [RD]);
const rdWriter = testKey('rd-writer', ALL, [RD]);
const admin = testKey('admin', ALL);

interface WireDept {
  id: number;
  parentid: number;
  name: string;
}

let service: ServiceHarness;
let departments: WireDept[];
/** Ids of department 2 and everything below it, from the emulator's tree. */
let inside: Set<number>;
let insideUser: string;
let outsideUser: string;
/** A member of both an R&D department and Sales. */
const straddler = 'straddle.member';

function subtree(all: WireDept[], root: number): Set<number> {
  const ids = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const d of all) if (!ids.has(d.id) && ids.has(d.parentid)) ids.add(d.id), (grew = true);
  }
  return ids;
}

async function membersOf(departmentId: number): Promise<{ userid: string; department: number[]; direct_leader: string[] }[]> {
  return (await service.wecom.console('user/list', { department_id: departmentId, fetch_child: 1 })).json.userlist;
}

const as = (key: TestKey, query: string, variables?: Record<string, unknown>) => post(service, { query, variables }, withKey(key));

beforeAll(async () => {
  service = await ServiceHarness.start({ security: keysOnly([rdReader, rdWriter, admin]) });
  departments = (await service.wecom.console('department/list')).json.department;
  inside = subtree(departments, RD);
  const rdMembers = await membersOf(RD);
  insideUser = rdMembers.find((u) => u.department.every((d) => inside.has(d)))!.userid;
  outsideUser = (await membersOf(SALES)).find((u) => u.department.every((d) => !inside.has(d)))!.userid;
  const platform = departments.find((d) => d.parentid === RD)!.id;
  expect(
    (
      await service.wecom.console('user/create', {
        userid: straddler,
        name: '跨部门',
        department: [platform, SALES],
        mobile: '13911112222',
      })
    ).json.errcode,
  ).toBe(0);
});
afterAll(() => service.close());
beforeEach(() => service.wecom.resetStats());

describe('reads', () => {
  it('the tree is the subtree: its top is a root, nothing above or beside it exists', async () => {
    const res = await as(
      rdReader,
      `{ departments { departmentId parentId } department1: department(id: 1) { name } sales: department(id: ${SALES}) { name } rd: department(id: ${RD}) { parent { name } ancestors { name } } }`,
    );
    expect(res.body.data.department1).toBeNull();
    expect(res.body.data.sales).toBeNull();
    expect(res.body.data.rd).toEqual({ parent: null, ancestors: [] });
    expect(new Set(res.body.data.departments.map((d: { departmentId: number }) => d.departmentId))).toEqual(inside);
  });

  it('members outside are null by userid, by node id, and in users(userids); inside ones are served', async () => {
    const ids = await as(admin, `{ a: user(userid: "${insideUser}") { id } b: user(userid: "${outsideUser}") { id } }`);
    const [insideId, outsideId] = [ids.body.data.a.id, ids.body.data.b.id];
    const res = await as(
      rdReader,
      `query($ids: [ID!]!) { inside: user(userid: "${insideUser}") { userid } outside: user(userid: "${outsideUser}") { userid }
        users(userids: ["${outsideUser}", "${insideUser}"]) { userid }
        nodes(ids: $ids) { id } outsideNode: node(id: "${outsideId}") { id } }`,
      { ids: [insideId, outsideId] },
    );
    expect(res.body.data).toEqual({
      inside: { userid: insideUser },
      outside: null,
      users: [null, { userid: insideUser }],
      nodes: [{ id: insideId }, null],
      outsideNode: null,
    });
  });

  it('a department outside is null by node id too', async () => {
    const id = (await as(admin, `{ department(id: ${SALES}) { id } }`)).body.data.department.id;
    expect((await as(rdReader, `{ node(id: "${id}") { id } }`)).body.data.node).toBeNull();
  });

  it('a member in departments inside and outside shows only the ones inside', async () => {
    const res = await as(
      rdReader,
      `{ user(userid: "${straddler}") { departments { departmentId } memberships { departmentId } mainDepartment { departmentId } } }`,
    );
    const [platform] = departments.filter((d) => d.parentid === RD);
    expect(res.body.data.user).toEqual({
      departments: [{ departmentId: platform!.id }],
      memberships: [{ departmentId: platform!.id }],
      mainDepartment: { departmentId: platform!.id },
    });
  });

  it('lookups by mobile give null for a member outside', async () => {
    const outsider = (await service.wecom.console('user/get', { userid: outsideUser })).json;
    const res = await as(rdReader, `{ userByMobile(mobile: "${outsider.mobile}") { userid } }`);
    expect(res.body.data.userByMobile).toBeNull();
  });

  it('search finds members inside only', async () => {
    const outsider = (await service.wecom.console('user/get', { userid: outsideUser })).json;
    const insider = (await service.wecom.console('user/get', { userid: insideUser })).json;
    const res = await as(
      rdReader,
      `{ o: searchUsers(query: "${outsider.userid}") { totalCount } i: searchUsers(query: "${insider.userid}") { nodes { userid } } everyone: searchUsers(query: "a", first: 500) { totalCount nodes { userid } } }`,
    );
    expect(res.body.data.o.totalCount).toBe(0);
    expect(res.body.data.i.nodes.map((n: { userid: string }) => n.userid)).toContain(insideUser);
    const insideIds = new Set((await membersOf(RD)).map((u) => u.userid));
    expect(res.body.data.everyone.totalCount).toBeGreaterThan(0);
    for (const n of res.body.data.everyone.nodes) expect(insideIds.has(n.userid)).toBe(true);
  });

  it('leaders and direct reports outside are left out', async () => {
    const rdMembers = await membersOf(RD);
    const ruled = rdMembers.find(
      (u) =>
        u.direct_leader.length &&
        u.department.every((d) => inside.has(d)) &&
        u.direct_leader.some((l) => !rdMembers.some((m) => m.userid === l)),
    );
    expect(ruled).toBeDefined();
    const res = await as(rdReader, `{ user(userid: "${ruled!.userid}") { directLeaders { userid } } }`);
    const visibleLeaders = ruled!.direct_leader.filter((l) => rdMembers.some((m) => m.userid === l));
    expect(res.body.data.user.directLeaders.map((l: { userid: string }) => l.userid)).toEqual(visibleLeaders);
  });

  it('tags list only members and departments inside, and tags with nothing inside are not shown', async () => {
    // A tag of Sales only.
    expect((await service.wecom.console('tag/create', { tagname: '销售专属', tagid: 50 })).json.errcode).toBe(0);
    expect((await service.wecom.console('tag/addtagusers', { tagid: 50, userlist: [outsideUser], partylist: [SALES] })).json.errcode).toBe(
      0,
    );
    const tagList: { tagid: number }[] = (await service.wecom.console('tag/list')).json.taglist;
    const rdMembers = new Set((await membersOf(RD)).map((u) => userKey(u.userid)));
    const expected: Record<number, { users: string[]; departments: number[] }> = {};
    for (const { tagid } of tagList) {
      const tag = (await service.wecom.console('tag/get', { tagid })).json;
      const users = tag.userlist.map((u: { userid: string }) => u.userid).filter((u: string) => rdMembers.has(userKey(u)));
      const parties = tag.partylist.filter((d: number) => inside.has(d));
      if (users.length || parties.length)
        expected[tagid] = { users: users.sort(), departments: parties.sort((a: number, b: number) => a - b) };
    }
    const res = await as(rdReader, `{ tags { tagId users { userid } departments { departmentId } } }`);
    const got = Object.fromEntries(
      res.body.data.tags.map((t: { tagId: number; users: { userid: string }[]; departments: { departmentId: number }[] }) => [
        t.tagId,
        { users: t.users.map((u) => u.userid).sort(), departments: t.departments.map((d) => d.departmentId).sort((a, b) => a - b) },
      ]),
    );
    expect(got).toEqual(expected);
    expect(expected[50]).toBeUndefined();
    expect(Object.keys(expected).length).toBeLessThan(tagList.length);
  });

  it('sees no linked corp, and makes no linked-corp call', async () => {
    const res = await as(rdReader, `{ linkedCorps { linkedId } }`);
    expect(res.body.data.linkedCorps).toEqual([]);
    expect(Object.keys(await service.calls()).filter((p) => p.includes('linkedcorp'))).toEqual([]);
  });

  it.each([
    ['Query.userIds', '{ userIds(first: 10) { totalCount } }'],
    ['Query.activeUserCount', '{ activeUserCount(date: "2024-01-01") }'],
    // the app's range names members and departments anywhere in the corp
    ['Query.visibility', '{ visibility { agentId userids } }'],
  ])('corp-wide %s is FORBIDDEN', async (field, query) => {
    const res = await as(rdReader, query);
    expect(res.body.errors[0]).toMatchObject({
      message: `Forbidden: ${field} needs access to the whole corp (this credential is limited to department subtrees)`,
      extensions: { code: 'FORBIDDEN', needs: ['wholeCorp'] },
    });
  });
});

describe('the change feed and subscriptions', () => {
  it('directoryChanges shows only changes inside', async () => {
    const first = await as(rdReader, '{ directoryChanges { latestCursor } }');
    expect(first.body.errors).toBeUndefined();
    const start = first.body.data.directoryChanges.latestCursor;
    // Cursors are per view: the whole corp's feed has its own.
    const wholeStart = (await as(admin, '{ directoryChanges { latestCursor } }')).body.data.directoryChanges.latestCursor;
    await as(admin, `mutation { updateUser(input: { userid: "${outsideUser}", position: "外部改动" }) { __typename } }`);
    await as(admin, `mutation { updateUser(input: { userid: "${insideUser}", position: "内部改动" }) { __typename } }`);
    const seen = await as(rdReader, `{ directoryChanges(since: "${start}") { changes { kind userid } } }`);
    expect(seen.body.data.directoryChanges.changes).toEqual([{ kind: 'USER_UPDATED', userid: insideUser }]);
    const all = await as(admin, `{ directoryChanges(since: "${wholeStart}") { changes { userid } } }`);
    expect(all.body.data.directoryChanges.changes.map((c: { userid: string }) => c.userid)).toEqual([outsideUser, insideUser]);
  });

  it('contactChanged delivers only changes inside', async () => {
    const fetchAs = (key: TestKey) => (url: string, init: RequestInit) =>
      service.app.yoga.fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), ...withKey(key) } });
    const sub = await SseSubscription.open(
      fetchAs(rdReader),
      'http://yoga/graphql',
      'subscription { contactChanged { kind userid departmentId } }',
    );
    try {
      await as(admin, `mutation { updateUser(input: { userid: "${outsideUser}", position: "外部二" }) { __typename } }`);
      await as(admin, `mutation { createDepartment(input: { name: "外部新部门", parentId: ${SALES} }) { __typename } }`);
      await as(admin, `mutation { updateUser(input: { userid: "${insideUser}", position: "内部二" }) { __typename } }`);
      const event = await sub.next();
      expect(event?.data?.contactChanged).toEqual({ kind: 'USER_UPDATED', userid: insideUser, departmentId: null });
    } finally {
      sub.close();
    }
  });
});

describe('mutations', () => {
  const platform = () => departments.find((d) => d.parentid === RD)!.id;

  async function mutate(key: TestKey, field: string, call: string) {
    const res = await as(key, `mutation { ${field}${call} { __typename ...ErrorFields } } ${ERROR_FIELDS}`);
    return res.body;
  }

  it('creates a member inside', async () => {
    const body = await mutate(
      rdWriter,
      'createUser',
      `(input: { userid: "rd.new", name: "研发新人", departmentIds: [${platform()}], mobile: "13922223333" })`,
    );
    expect(body.data.createUser.__typename).toBe('MutationCreateUserSuccess');
    expect((await service.wecom.console('user/get', { userid: 'rd.new' })).json.department).toEqual([platform()]);
  });

  it.each([
    [
      'createUser in a department outside',
      'createUser',
      () => `(input: { userid: "sales.new", name: "销售新人", departmentIds: [${SALES}], mobile: "13922224444" })`,
      () => `input.departmentIds[0]: department ${SALES} is outside the departments this credential may change`,
    ],
    [
      'updateUser of a member outside',
      'updateUser',
      () => `(input: { userid: "${outsideUser}", position: "改" })`,
      () => `input.userid: member ${outsideUser} is outside the departments this credential may change`,
    ],
    [
      'updateUser moving a member out',
      'updateUser',
      () => `(input: { userid: "${insideUser}", departmentIds: [${SALES}] })`,
      () => `input.departmentIds[0]: department ${SALES} is outside the departments this credential may change`,
    ],
    [
      'updateUser of a member also in a department outside',
      'updateUser',
      () => `(input: { userid: "${straddler}", position: "改" })`,
      () => `input.userid: member ${straddler} is outside the departments this credential may change`,
    ],
    [
      'deleteUser of a member outside',
      'deleteUser',
      () => `(userid: "${outsideUser}")`,
      () => `userid: member ${outsideUser} is outside the departments this credential may change`,
    ],
    [
      'deleteUsers naming one outside',
      'deleteUsers',
      () => `(userids: ["${insideUser}", "${outsideUser}"])`,
      () => `userids[1]: member ${outsideUser} is outside the departments this credential may change`,
    ],
    [
      'deleteUser of a userid that does not exist (same answer: no oracle)',
      'deleteUser',
      () => `(userid: "no.such.member")`,
      () => 'userid: member no.such.member is outside the departments this credential may change',
    ],
    [
      'createDepartment under a department outside',
      'createDepartment',
      () => `(input: { name: "越界", parentId: ${SALES} })`,
      () => `input.parentId: department ${SALES} is outside the departments this credential may change`,
    ],
    [
      'updateDepartment of a department outside',
      'updateDepartment',
      () => `(input: { departmentId: ${SALES}, name: "改名" })`,
      () => `input.departmentId: department ${SALES} is outside the departments this credential may change`,
    ],
    [
      'updateDepartment moving the top of the subtree',
      'updateDepartment',
      () => `(input: { departmentId: ${RD}, parentId: ${SALES} })`,
      () => `input.parentId: department ${RD} is the top of this credential's departments and cannot be moved with it`,
    ],
    [
      'deleteDepartment of the top of the subtree',
      'deleteDepartment',
      () => `(departmentId: ${RD})`,
      () => `departmentId: department ${RD} is the top of this credential's departments and cannot be deleted with it`,
    ],
    [
      'addTagMembers with a member outside',
      'addTagMembers',
      () => `(tagId: 1, userids: ["${outsideUser}"])`,
      () => `userids[0]: member ${outsideUser} is outside the departments this credential may change`,
    ],
    [
      'inviteUsers naming a department outside',
      'inviteUsers',
      () => `(departmentIds: [${SALES}])`,
      () => `departmentIds[0]: department ${SALES} is outside the departments this credential may change`,
    ],
    [
      'inviteUsers naming a tag',
      'inviteUsers',
      () => `(tagIds: [1])`,
      () => 'tagIds: tags are corp-wide, and this credential is limited to departments',
    ],
  ])('refuses %s with PermissionDeniedError and writes nothing', async (_what, field, args, message) => {
    const before = (await service.wecom.console('department/list')).json.department.length;
    await service.wecom.resetStats();
    const body = await mutate(rdWriter, field, args());
    expect(body.data[field]).toEqual({ __typename: 'PermissionDeniedError', message: message(), errcode: null });
    expect(await writeCalls(service)).toEqual({});
    expect((await service.wecom.console('department/list')).json.department.length).toBe(before);
  });

  it.each([
    ['createTag', '(input: { tagName: "研发标签" })'],
    ['deleteTag', '(tagId: 1)'],
    ['importUsers', '(mode: SYNC, rows: [{ userid: "x1", name: "x", departmentIds: [3], mobile: "13933334444" }])'],
    ['startExport', '(kind: USERS)'],
  ])('corp-wide Mutation.%s is FORBIDDEN', async (field, args) => {
    const res = await as(rdWriter, `mutation { ${field}${args} { __typename } }`);
    expect(res.body.errors[0]).toMatchObject({
      message: `Forbidden: Mutation.${field} needs access to the whole corp (this credential is limited to department subtrees)`,
    });
    expect(await writeCalls(service)).toEqual({});
  });
});

describe('with the directory cache on', () => {
  it('views shared across requests (search index, everyone) never cross between callers who see more and less', async () => {
    const cached = await ServiceHarness.start({ cache: { ttlMs: 600_000, staleMs: 0 }, security: keysOnly([rdReader, admin]) });
    try {
      const rdIds = new Set(
        (await cached.wecom.console('user/list', { department_id: RD, fetch_child: 1 })).json.userlist.map(
          (u: { userid: string }) => u.userid,
        ),
      );
      const allCount = (await cached.wecom.console('user/list', { department_id: 1, fetch_child: 1 })).json.userlist.length;
      const SEARCH = '{ searchUsers(query: "a", first: 500) { totalCount nodes { userid } } departments { departmentId } }';
      const byAdmin = await post(cached, { query: SEARCH }, withKey(admin));
      const byRd = await post(cached, { query: SEARCH }, withKey(rdReader));
      const byAdminAgain = await post(cached, { query: SEARCH }, withKey(admin));
      expect(byRd.body.data.searchUsers.nodes.every((n: { userid: string }) => rdIds.has(n.userid))).toBe(true);
      expect(byRd.body.data.searchUsers.totalCount).toBeLessThan(byAdmin.body.data.searchUsers.totalCount);
      expect(byRd.body.data.departments.length).toBeLessThan(byAdmin.body.data.departments.length);
      expect(byAdminAgain.body).toEqual(byAdmin.body);
      expect(byAdmin.body.data.searchUsers.totalCount).toBeLessThanOrEqual(allCount);
    } finally {
      await cached.close();
    }
  });
});
