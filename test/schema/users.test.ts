import { describe, expect } from 'vitest';
import type { ServiceHarness } from '../helpers/service.ts';
import { serviceTest } from '../testkit/service.ts';
import type { Wire } from '../testkit/wire.ts';
import { graphql } from '../generated/index.ts';

const it = serviceTest();

async function wireUser(service: ServiceHarness, userid: string): Promise<Wire> {
  return (await service.wecom.console('user/get', { userid })).json;
}

/** A member with two departments, a direct leader, a head role somewhere and at least one tag. */
async function richMember(service: ServiceHarness): Promise<Wire> {
  const all = (await service.wecom.console('user/list', { department_id: 1, fetch_child: 1 })).json.userlist as Wire[];
  const tags = (await service.wecom.console('tag/list')).json.taglist as Wire[];
  const tagged = new Set<string>();
  for (const t of tags) for (const u of (await service.wecom.console('tag/get', { tagid: t.tagid })).json.userlist) tagged.add(u.userid);
  const found = all.find((u) => u.department.length > 1 && u.direct_leader.length > 0 && tagged.has(u.userid));
  if (!found) throw new Error('the demo seed should have a member with two departments, a leader and a tag');
  return found;
}

const USERS_BY_ID = graphql(`query UsersById($ids: [String!]!) { users(userids: $ids) { userid } }`);

describe('user card', () => {
  it('matches the emulator state field by field', async ({ service, execute }) => {
    const member = await richMember(service);
    const res = await execute(
      graphql(`query UserCard($id: String!) { user(userid: $id) { userid name alias position gender status mobile email bizMail telephone address avatar thumbAvatar
        extAttrs { name type text url title } memberships { departmentId order isLeader department { name } } mainDepartment { departmentId } } }`),
      { id: member.userid },
    );
    expect(res.errors).toBeUndefined();
    const u = res.data!.user!;
    const genders: Record<string, string> = { '0': 'UNSPECIFIED', '1': 'MALE', '2': 'FEMALE' };
    const statuses: Record<number, string> = { 1: 'ACTIVE', 2: 'DISABLED', 4: 'NOT_ACTIVATED', 5: 'LEFT' };
    expect(u).toMatchObject({
      userid: member.userid,
      name: member.name,
      position: member.position || null,
      gender: genders[member.gender],
      status: statuses[member.status],
      mobile: member.mobile,
      email: member.email,
      bizMail: member.biz_mail,
      avatar: member.avatar,
      thumbAvatar: member.thumb_avatar,
      mainDepartment: { departmentId: member.main_department },
    });
    expect(u.memberships.map((m) => [m.departmentId, m.order, m.isLeader])).toEqual(
      member.department.map((d: number, i: number) => [d, member.order[i], member.is_leader_in_dept[i] === 1]),
    );
    expect(u.extAttrs[0]).toEqual({ name: '工号', type: 'TEXT', text: member.extattr.attrs[0].text.value, url: null, title: null });
  });

  it('loads leaders and tags within the calls they need', async ({ service, execute }) => {
    const member = await richMember(service);
    const tagCount = (await service.wecom.console('tag/list')).json.taglist.length;
    await service.wecom.resetStats();
    const res = await execute(
      graphql(
        `query UserRelations($id: String!) { user(userid: $id) { name departments { name } directLeaders { userid name } tags { tagId name } } }`,
      ),
      {
        id: member.userid,
      },
    );
    expect(res.errors).toBeUndefined();
    const calls = await service.calls();
    // 1 user/get for the member + 1 per direct leader; 1 department/list; 1 tag/list + 1 tag/get per tag
    expect(calls['/cgi-bin/user/get']).toBe(1 + member.direct_leader.length);
    expect(calls['/cgi-bin/department/list']).toBe(1);
    expect(calls['/cgi-bin/tag/list']).toBe(1);
    expect(calls['/cgi-bin/tag/get']).toBe(tagCount);
    expect(res.data!.user!.directLeaders.map((l) => l.userid)).toEqual(member.direct_leader);
    // tags: those listing the member or one of the member's departments, per the emulator
    const expected: number[] = [];
    for (const t of (await service.wecom.console('tag/list')).json.taglist) {
      const got = (await service.wecom.console('tag/get', { tagid: t.tagid })).json;
      if (got.userlist.some((x: Wire) => x.userid === member.userid) || got.partylist.some((p: number) => member.department.includes(p)))
        expected.push(t.tagid);
    }
    expect(res.data!.user!.tags.map((t) => t.tagId).sort()).toEqual(expected.sort());
  });

  it('derives direct reports from everyone else’s direct leaders', async ({ service, execute }) => {
    const all = (await service.wecom.console('user/list', { department_id: 1, fetch_child: 1 })).json.userlist as Wire[];
    const reports = new Map<string, string[]>();
    for (const u of all) for (const l of u.direct_leader) reports.set(l, [...(reports.get(l) ?? []), u.userid]);
    const [boss, expected] = [...reports.entries()].sort((a, b) => b[1].length - a[1].length)[0]!;
    const res = await execute(graphql(`query DirectReports($id: String!) { user(userid: $id) { directReports { userid } } }`), {
      id: boss,
    });
    expect(res.data!.user!.directReports.map((u) => u.userid).sort()).toEqual([...new Set(expected)].sort());
  });

  it('users(userids:) costs one user/get per member, keeps order, nulls the missing, is case-insensitive', async ({ service, execute }) => {
    const all = (await service.wecom.console('user/list', { department_id: 1, fetch_child: 1 })).json.userlist as Wire[];
    const ids = all.slice(0, 50).map((u) => u.userid);
    await service.wecom.resetStats();
    const res = await execute(USERS_BY_ID, { ids: [...ids, 'nobody-here', ids[0]!.toUpperCase()] });
    expect(res.errors).toBeUndefined();
    expect(res.data!.users.map((u) => u?.userid ?? null)).toEqual([...ids, null, ids[0]]);
    expect((await service.calls())['/cgi-bin/user/get']).toBe(51);
  });

  it('refuses more than 200 userids before any upstream call', async ({ service, execute }) => {
    const res = await execute(USERS_BY_ID, { ids: Array.from({ length: 201 }, (_, i) => `u${i}`) });
    expect(res.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect((await service.wecom.stats()).total).toBe(0);
  });

  it('finds users by mobile, email and openid; null when unknown', async ({ service, execute }) => {
    const member = await richMember(service);
    const wire = await wireUser(service, member.userid);
    const res = await execute(
      graphql(
        `query UsersByContact($m: String!, $e: String!, $b: String!) { a: userByMobile(mobile: $m) { userid } b: userByEmail(email: $e, type: PERSONAL) { userid } c: userByEmail(email: $b) { userid } d: userByMobile(mobile: "13000000000") { userid } }`,
      ),
      { m: wire.mobile, e: wire.email, b: wire.biz_mail },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ a: { userid: member.userid }, b: { userid: member.userid }, c: { userid: member.userid }, d: null });
    const active = (await service.wecom.console('user/list', { department_id: 1, fetch_child: 1 })).json.userlist.find(
      (u: Wire) => u.status === 1,
    );
    const withOpenId = await execute(graphql(`query OpenId($id: String!) { user(userid: $id) { openId } }`), { id: active.userid });
    const openid = withOpenId.data!.user!.openId as string;
    expect(openid).toMatch(/^o/);
    expect(
      (await execute(graphql(`query UserByOpenId($openId: String!) { userByOpenId(openId: $openId) { userid } }`), { openId: openid }))
        .data!.userByOpenId,
    ).toEqual({ userid: active.userid });
  });
});

describe('tags', () => {
  it('lists tags with users and departments as the emulator has them', async ({ service, execute }) => {
    const res = await execute(graphql(`query Tags { tags { tagId name users { userid } departments { departmentId } } }`));
    expect(res.errors).toBeUndefined();
    for (const tag of res.data!.tags) {
      const wire = (await service.wecom.console('tag/get', { tagid: tag.tagId })).json;
      expect(tag.name).toBe(wire.tagname);
      expect(tag.users.map((u) => u.userid).sort()).toEqual(wire.userlist.map((u: Wire) => u.userid).sort());
      expect(tag.departments.map((d) => d.departmentId).sort()).toEqual([...wire.partylist].sort());
    }
  });
});

describe('relay nodes', () => {
  it('round-trips global ids for users, departments and tags', async ({ service, execute }) => {
    const someone = (await service.wecom.console('user/list', { department_id: 1, fetch_child: 1 })).json.userlist[7];
    const first = await execute(
      graphql(`query GlobalIds($id: String!) { department(id: 2) { id } tag(id: 1) { id } user(userid: $id) { id } }`),
      { id: someone.userid },
    );
    const { department, tag, user } = first.data!;
    const res = await execute(
      graphql(
        `query Nodes($ids: [ID!]!) { nodes(ids: $ids) { __typename id ... on Department { departmentId } ... on Tag { tagId } ... on User { userid } } }`,
      ),
      {
        ids: [department!.id, tag!.id, user!.id],
      },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.nodes).toEqual([
      { __typename: 'Department', id: department!.id, departmentId: 2 },
      { __typename: 'Tag', id: tag!.id, tagId: 1 },
      { __typename: 'User', id: user!.id, userid: someone.userid },
    ]);
  });
});

describe('upstream failures', () => {
  it('answer a GraphQL error with extensions.code and wecomErrcode, and no token in it', async ({ service }) => {
    await service.wecom.faults({ rateLimitPerMinute: { '/cgi-bin/tag/list': 0 } });
    try {
      const res = await service.query('{ tags { name } }');
      expect(res.data).toBeNull();
      expect(res.errors![0]!.extensions).toMatchObject({ code: 'WECOM_RATE_LIMITED', wecomErrcode: 45009 });
      const text = JSON.stringify(res);
      expect(text).not.toContain(service.wecom.creds.contactSecret);
      expect(text).not.toContain(service.wecom.creds.app.secret);
      expect(text).not.toContain('access_token');
    } finally {
      await service.wecom.clearFaults();
    }
  });

  it('map -1 after the client’s retries to WECOM_UNAVAILABLE', async ({ service }) => {
    await service.query('{ tags { name } }'); // a token is cached before the fault
    await service.wecom.faults({ errorRate: { '-1': 1 } });
    try {
      const res = await service.query('{ department(id: 1) { name } }');
      expect(res.errors![0]!.extensions).toMatchObject({ code: 'WECOM_UNAVAILABLE', wecomErrcode: -1 });
    } finally {
      await service.wecom.clearFaults();
    }
  });
});
