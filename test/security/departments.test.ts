import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { userKey } from 'wecom-protocol/userid';
import { describe, expect } from 'vitest';
import { graphql } from '../generated/index.ts';
import type { ServiceHarness } from '../helpers/service.ts';
import { SseSubscription } from '../helpers/sse.ts';
import { ERROR_FIELDS } from '../helpers/mutations.ts';
import { ownServiceTest, serviceTest } from '../testkit/service.ts';
import { ALL, firstError, keysOnly, post, send, subtreeOf, testKey, withKey, writeCalls, type TestKey } from './helpers.ts';

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

/** A member of both an R&D department and Sales. */
const straddler = 'straddle.member';

async function membersOf(
  service: ServiceHarness,
  departmentId: number,
): Promise<{ userid: string; department: number[]; direct_leader: string[] }[]> {
  return (await service.wecom.console('user/list', { department_id: departmentId, fetch_child: 1 })).json.userlist;
}

/** The corp as these tests see it, read from the emulator once per file. */
interface Corp {
  departments: WireDept[];
  /** Ids of department 2 and everything below it, from the emulator's tree. */
  inside: Set<number>;
  insideUser: string;
  outsideUser: string;
  /** The first department below R&D (where the straddler is a member, beside Sales). */
  platform: number;
}

// Each test counts its own upstream calls (the emulator's counters are zeroed before it).
const it = serviceTest({ security: keysOnly([rdReader, rdWriter, admin]) }).extend(
  'corp',
  { scope: 'file', auto: true },
  async ({ service }): Promise<Corp> => {
    const departments: WireDept[] = (await service.wecom.console('department/list')).json.department;
    const inside = subtreeOf(departments, RD);
    const rdMembers = await membersOf(service, RD);
    const insideUser = rdMembers.find((u) => u.department.every((d) => inside.has(d)))!.userid;
    const outsideUser = (await membersOf(service, SALES)).find((u) => u.department.every((d) => !inside.has(d)))!.userid;
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
    return { departments, inside, insideUser, outsideUser, platform };
  },
);

const as = (service: ServiceHarness, key: TestKey, query: string) => post(service, { query }, withKey(key));

const UPDATE_POSITION = graphql(
  `mutation SubtreeUpdatePosition($userid: String!, $position: String!) { updateUser(input: { userid: $userid, position: $position }) { __typename } }`,
);
const CHANGES_SINCE = graphql(`query SubtreeChangesSince($since: String!) { directoryChanges(since: $since) { changes { kind userid } } }`);

describe('reads', () => {
  it('the tree is the subtree: its top is a root, nothing above or beside it exists', async ({ execute, corp }) => {
    const res = await execute(
      graphql(`query SubtreeTree($sales: Int!, $rd: Int!) { departments { departmentId parentId } department1: department(id: 1) { name }
        sales: department(id: $sales) { name } rd: department(id: $rd) { parent { name } ancestors { name } } }`),
      { sales: SALES, rd: RD },
      withKey(rdReader),
    );
    expect(res.data!.department1).toBeNull();
    expect(res.data!.sales).toBeNull();
    expect(res.data!.rd).toEqual({ parent: null, ancestors: [] });
    expect(new Set(res.data!.departments.map((d) => d.departmentId))).toEqual(corp.inside);
  });

  it('members outside are null by userid, by node id, and in users(userids); inside ones are served', async ({
    execute,
    corp: { insideUser, outsideUser },
  }) => {
    const ids = await execute(
      graphql(`query SubtreeUserIds($a: String!, $b: String!) { a: user(userid: $a) { id } b: user(userid: $b) { id } }`),
      { a: insideUser, b: outsideUser },
      withKey(admin),
    );
    const [insideId, outsideId] = [ids.data!.a!.id, ids.data!.b!.id];
    const res = await execute(
      graphql(`query SubtreeMembers($ids: [ID!]!, $inside: String!, $outside: String!, $both: [String!]!, $outsideId: ID!) {
        inside: user(userid: $inside) { userid } outside: user(userid: $outside) { userid }
        users(userids: $both) { userid }
        nodes(ids: $ids) { id } outsideNode: node(id: $outsideId) { id } }`),
      { ids: [insideId, outsideId], inside: insideUser, outside: outsideUser, both: [outsideUser, insideUser], outsideId },
      withKey(rdReader),
    );
    expect(res.data).toEqual({
      inside: { userid: insideUser },
      outside: null,
      users: [null, { userid: insideUser }],
      nodes: [{ id: insideId }, null],
      outsideNode: null,
    });
  });

  it('a department outside is null by node id too', async ({ execute }) => {
    const id = (
      await execute(graphql(`query SubtreeDepartmentId($id: Int!) { department(id: $id) { id } }`), { id: SALES }, withKey(admin))
    ).data!.department!.id;
    expect(
      (await execute(graphql(`query SubtreeNode($id: ID!) { node(id: $id) { id } }`), { id }, withKey(rdReader))).data!.node,
    ).toBeNull();
  });

  it('a member in departments inside and outside shows only the ones inside', async ({ execute, corp: { departments } }) => {
    const res = await execute(
      graphql(
        `query SubtreeStraddler($u: String!) { user(userid: $u) { departments { departmentId } memberships { departmentId } mainDepartment { departmentId } } }`,
      ),
      { u: straddler },
      withKey(rdReader),
    );
    const [platform] = departments.filter((d) => d.parentid === RD);
    expect(res.data!.user).toEqual({
      departments: [{ departmentId: platform!.id }],
      memberships: [{ departmentId: platform!.id }],
      mainDepartment: { departmentId: platform!.id },
    });
  });

  it('lookups by mobile give null for a member outside', async ({ service, execute, corp: { outsideUser } }) => {
    const outsider = (await service.wecom.console('user/get', { userid: outsideUser })).json;
    const res = await execute(
      graphql(`query SubtreeByMobile($m: String!) { userByMobile(mobile: $m) { userid } }`),
      { m: outsider.mobile },
      withKey(rdReader),
    );
    expect(res.data!.userByMobile).toBeNull();
  });

  it('search finds members inside only', async ({ service, execute, corp: { insideUser, outsideUser } }) => {
    const outsider = (await service.wecom.console('user/get', { userid: outsideUser })).json;
    const insider = (await service.wecom.console('user/get', { userid: insideUser })).json;
    const res = await execute(
      graphql(`query SubtreeSearch($o: String!, $i: String!) { o: searchUsers(query: $o) { totalCount } i: searchUsers(query: $i) { nodes { userid } }
        everyone: searchUsers(query: "a", first: 500) { totalCount nodes { userid } } }`),
      { o: outsider.userid, i: insider.userid },
      withKey(rdReader),
    );
    expect(res.data!.o.totalCount).toBe(0);
    expect(res.data!.i.nodes.map((n) => n.userid)).toContain(insideUser);
    const insideIds = new Set((await membersOf(service, RD)).map((u) => u.userid));
    expect(res.data!.everyone.totalCount).toBeGreaterThan(0);
    for (const n of res.data!.everyone.nodes) expect(insideIds.has(n.userid)).toBe(true);
  });

  it('leaders and direct reports outside are left out', async ({ service, execute, corp: { inside } }) => {
    const rdMembers = await membersOf(service, RD);
    const ruled = rdMembers.find(
      (u) =>
        u.direct_leader.length &&
        u.department.every((d) => inside.has(d)) &&
        u.direct_leader.some((l) => !rdMembers.some((m) => m.userid === l)),
    );
    expect(ruled).toBeDefined();
    const res = await execute(
      graphql(`query SubtreeLeaders($u: String!) { user(userid: $u) { directLeaders { userid } } }`),
      { u: ruled!.userid },
      withKey(rdReader),
    );
    const visibleLeaders = ruled!.direct_leader.filter((l) => rdMembers.some((m) => m.userid === l));
    expect(res.data!.user!.directLeaders.map((l) => l.userid)).toEqual(visibleLeaders);
  });

  it('tags list only members and departments inside, and tags with nothing inside are not shown', async ({
    service,
    execute,
    corp: { inside, outsideUser },
  }) => {
    // A tag of Sales only.
    expect((await service.wecom.console('tag/create', { tagname: '销售专属', tagid: 50 })).json.errcode).toBe(0);
    expect((await service.wecom.console('tag/addtagusers', { tagid: 50, userlist: [outsideUser], partylist: [SALES] })).json.errcode).toBe(
      0,
    );
    const tagList: { tagid: number }[] = (await service.wecom.console('tag/list')).json.taglist;
    const rdMembers = new Set((await membersOf(service, RD)).map((u) => userKey(u.userid)));
    const expected: Record<number, { users: string[]; departments: number[] }> = {};
    for (const { tagid } of tagList) {
      const tag = (await service.wecom.console('tag/get', { tagid })).json;
      const users = tag.userlist.map((u: { userid: string }) => u.userid).filter((u: string) => rdMembers.has(userKey(u)));
      const parties = tag.partylist.filter((d: number) => inside.has(d));
      if (users.length || parties.length)
        expected[tagid] = { users: users.sort(), departments: parties.sort((a: number, b: number) => a - b) };
    }
    const res = await execute(
      graphql(`query SubtreeTags { tags { tagId users { userid } departments { departmentId } } }`),
      {},
      withKey(rdReader),
    );
    const got = Object.fromEntries(
      res.data!.tags.map((t) => [
        t.tagId,
        { users: t.users.map((u) => u.userid).sort(), departments: t.departments.map((d) => d.departmentId).sort((a, b) => a - b) },
      ]),
    );
    expect(got).toEqual(expected);
    expect(expected[50]).toBeUndefined();
    expect(Object.keys(expected).length).toBeLessThan(tagList.length);
  });

  it('sees no linked corp, and makes no linked-corp call', async ({ service, execute }) => {
    const res = await execute(graphql(`query SubtreeLinkedCorps { linkedCorps { linkedId } }`), {}, withKey(rdReader));
    expect(res.data!.linkedCorps).toEqual([]);
    expect(Object.keys(await service.calls()).filter((p) => p.includes('linkedcorp'))).toEqual([]);
  });

  it.for([
    ['Query.userIds', graphql(`query SubtreeUserIdsPage { userIds(first: 10) { totalCount } }`)],
    ['Query.activeUserCount', graphql(`query SubtreeActiveCount { activeUserCount(date: "2024-01-01") }`)],
    // the app's range names members and departments anywhere in the corp
    ['Query.visibility', graphql(`query SubtreeVisibility { visibility { agentId userids } }`)],
  ] as [string, TypedDocumentNode<unknown, Record<string, never>>][])(
    'corp-wide %s is FORBIDDEN',
    async ([field, document], { service }) => {
      const res = await send(service, document, {}, withKey(rdReader));
      expect(firstError(res.body)).toMatchObject({
        message: `Forbidden: ${field} needs access to the whole corp (this credential is limited to department subtrees)`,
        extensions: { code: 'FORBIDDEN', needs: ['wholeCorp'] },
      });
    },
  );
});

describe('the change feed and subscriptions', () => {
  it('directoryChanges shows only changes inside', async ({ execute, corp: { insideUser, outsideUser } }) => {
    const first = await execute(graphql(`query SubtreeLatestCursor { directoryChanges { latestCursor } }`), {}, withKey(rdReader));
    expect(first.errors).toBeUndefined();
    const start = first.data!.directoryChanges.latestCursor;
    // Cursors are per view: the whole corp's feed has its own.
    const wholeStart = (await execute(graphql(`query WholeLatestCursor { directoryChanges { latestCursor } }`), {}, withKey(admin))).data!
      .directoryChanges.latestCursor;
    await execute(UPDATE_POSITION, { userid: outsideUser, position: '外部改动' }, withKey(admin));
    await execute(UPDATE_POSITION, { userid: insideUser, position: '内部改动' }, withKey(admin));
    const seen = await execute(CHANGES_SINCE, { since: start }, withKey(rdReader));
    expect(seen.data!.directoryChanges.changes).toEqual([{ kind: 'USER_UPDATED', userid: insideUser }]);
    const all = await execute(CHANGES_SINCE, { since: wholeStart }, withKey(admin));
    expect(all.data!.directoryChanges.changes.map((c) => c.userid)).toEqual([outsideUser, insideUser]);
  });

  it('contactChanged delivers only changes inside', async ({ service, execute, corp: { insideUser, outsideUser } }) => {
    const fetchAs = (key: TestKey) => (url: string, init: RequestInit) =>
      service.app.yoga.fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), ...withKey(key) } });
    const sub = await SseSubscription.open(
      fetchAs(rdReader),
      'http://yoga/graphql',
      'subscription { contactChanged { kind userid departmentId } }',
    );
    try {
      await execute(UPDATE_POSITION, { userid: outsideUser, position: '外部二' }, withKey(admin));
      await execute(
        graphql(
          `mutation SubtreeCreateOutside($parent: Int!) { createDepartment(input: { name: "外部新部门", parentId: $parent }) { __typename } }`,
        ),
        { parent: SALES },
        withKey(admin),
      );
      await execute(UPDATE_POSITION, { userid: insideUser, position: '内部二' }, withKey(admin));
      const event = await sub.next();
      expect(event?.data?.contactChanged).toEqual({ kind: 'USER_UPDATED', userid: insideUser, departmentId: null });
    } finally {
      sub.close();
    }
  });
});

describe('mutations', () => {
  /** A mutation built from a case table's field and arguments (its text varies with the case), as `key`. */
  async function mutate(service: ServiceHarness, key: TestKey, field: string, call: string) {
    const res = await as(service, key, `mutation { ${field}${call} { __typename ...ErrorFields } } ${ERROR_FIELDS}`);
    return res.body;
  }

  it('creates a member inside', async ({ service, execute, corp: { platform } }) => {
    const res = await execute(
      graphql(`mutation SubtreeCreateInside($d: Int!) {
        createUser(input: { userid: "rd.new", name: "研发新人", departmentIds: [$d], mobile: "13922223333" }) { __typename ...ErrorFields }
      }`),
      { d: platform },
      withKey(rdWriter),
    );
    expect(res.data!.createUser.__typename).toBe('MutationCreateUserSuccess');
    expect((await service.wecom.console('user/get', { userid: 'rd.new' })).json.department).toEqual([platform]);
  });

  it.for([
    [
      'createUser in a department outside',
      'createUser',
      (): string => `(input: { userid: "sales.new", name: "销售新人", departmentIds: [${SALES}], mobile: "13922224444" })`,
      (): string => `input.departmentIds[0]: department ${SALES} is outside the departments this credential may change`,
    ],
    [
      'updateUser of a member outside',
      'updateUser',
      (c: Corp): string => `(input: { userid: "${c.outsideUser}", position: "改" })`,
      (c: Corp): string => `input.userid: member ${c.outsideUser} is outside the departments this credential may change`,
    ],
    [
      'updateUser moving a member out',
      'updateUser',
      (c: Corp): string => `(input: { userid: "${c.insideUser}", departmentIds: [${SALES}] })`,
      (): string => `input.departmentIds[0]: department ${SALES} is outside the departments this credential may change`,
    ],
    [
      'updateUser of a member also in a department outside',
      'updateUser',
      (): string => `(input: { userid: "${straddler}", position: "改" })`,
      (): string => `input.userid: member ${straddler} is outside the departments this credential may change`,
    ],
    [
      'deleteUser of a member outside',
      'deleteUser',
      (c: Corp): string => `(userid: "${c.outsideUser}")`,
      (c: Corp): string => `userid: member ${c.outsideUser} is outside the departments this credential may change`,
    ],
    [
      'deleteUsers naming one outside',
      'deleteUsers',
      (c: Corp): string => `(userids: ["${c.insideUser}", "${c.outsideUser}"])`,
      (c: Corp): string => `userids[1]: member ${c.outsideUser} is outside the departments this credential may change`,
    ],
    [
      'deleteUser of a userid that does not exist (same answer: no oracle)',
      'deleteUser',
      (): string => `(userid: "no.such.member")`,
      (): string => 'userid: member no.such.member is outside the departments this credential may change',
    ],
    [
      'createDepartment under a department outside',
      'createDepartment',
      (): string => `(input: { name: "越界", parentId: ${SALES} })`,
      (): string => `input.parentId: department ${SALES} is outside the departments this credential may change`,
    ],
    [
      'updateDepartment of a department outside',
      'updateDepartment',
      (): string => `(input: { departmentId: ${SALES}, name: "改名" })`,
      (): string => `input.departmentId: department ${SALES} is outside the departments this credential may change`,
    ],
    [
      'updateDepartment moving the top of the subtree',
      'updateDepartment',
      (): string => `(input: { departmentId: ${RD}, parentId: ${SALES} })`,
      (): string => `input.parentId: department ${RD} is the top of this credential's departments and cannot be moved with it`,
    ],
    [
      'deleteDepartment of the top of the subtree',
      'deleteDepartment',
      (): string => `(departmentId: ${RD})`,
      (): string => `departmentId: department ${RD} is the top of this credential's departments and cannot be deleted with it`,
    ],
    [
      'addTagMembers with a member outside',
      'addTagMembers',
      (c: Corp): string => `(tagId: 1, userids: ["${c.outsideUser}"])`,
      (c: Corp): string => `userids[0]: member ${c.outsideUser} is outside the departments this credential may change`,
    ],
    [
      'inviteUsers naming a department outside',
      'inviteUsers',
      (): string => `(departmentIds: [${SALES}])`,
      (): string => `departmentIds[0]: department ${SALES} is outside the departments this credential may change`,
    ],
    [
      'inviteUsers naming a tag',
      'inviteUsers',
      (): string => `(tagIds: [1])`,
      (): string => 'tagIds: tags are corp-wide, and this credential is limited to departments',
    ],
  ] as const)('refuses %s with PermissionDeniedError and writes nothing', async ([_what, field, args, message], { service, corp }) => {
    const before = (await service.wecom.console('department/list')).json.department.length;
    await service.wecom.resetStats();
    const body = await mutate(service, rdWriter, field, args(corp));
    expect(body.data![field]).toEqual({ __typename: 'PermissionDeniedError', message: message(corp), errcode: null });
    expect(await writeCalls(service)).toEqual({});
    expect((await service.wecom.console('department/list')).json.department.length).toBe(before);
  });

  it.for([
    ['createTag', '(input: { tagName: "研发标签" })'],
    ['deleteTag', '(tagId: 1)'],
    ['importUsers', '(mode: SYNC, rows: [{ userid: "x1", name: "x", departmentIds: [3], mobile: "13933334444" }])'],
    ['startExport', '(kind: USERS)'],
  ] as const)('corp-wide Mutation.%s is FORBIDDEN', async ([field, args], { service }) => {
    const res = await as(service, rdWriter, `mutation { ${field}${args} { __typename } }`);
    expect(firstError(res.body)).toMatchObject({
      message: `Forbidden: Mutation.${field} needs access to the whole corp (this credential is limited to department subtrees)`,
    });
    expect(await writeCalls(service)).toEqual({});
  });
});

describe('with the directory cache on', () => {
  ownServiceTest(
    'views shared across requests (search index, everyone) never cross between callers who see more and less',
    async ({ startService }) => {
      const cached = await startService({ cache: { ttlMs: 600_000, staleMs: 0 }, security: keysOnly([rdReader, admin]) });
      const rdIds = new Set(
        (await cached.wecom.console('user/list', { department_id: RD, fetch_child: 1 })).json.userlist.map(
          (u: { userid: string }) => u.userid,
        ),
      );
      const allCount = (await cached.wecom.console('user/list', { department_id: 1, fetch_child: 1 })).json.userlist.length;
      const SEARCH = graphql(
        `query SubtreeSharedViews { searchUsers(query: "a", first: 500) { totalCount nodes { userid } } departments { departmentId } }`,
      );
      const byAdmin = await send(cached, SEARCH, {}, withKey(admin));
      const byRd = await send(cached, SEARCH, {}, withKey(rdReader));
      const byAdminAgain = await send(cached, SEARCH, {}, withKey(admin));
      expect(byRd.body.data!.searchUsers.nodes.every((n) => rdIds.has(n.userid))).toBe(true);
      expect(byRd.body.data!.searchUsers.totalCount).toBeLessThan(byAdmin.body.data!.searchUsers.totalCount);
      expect(byRd.body.data!.departments.length).toBeLessThan(byAdmin.body.data!.departments.length);
      expect(byAdminAgain.body).toEqual(byAdmin.body);
      expect(byAdmin.body.data!.searchUsers.totalCount).toBeLessThanOrEqual(allCount);
    },
  );
});
