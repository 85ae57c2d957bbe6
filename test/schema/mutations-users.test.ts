import { describe, expect } from 'vitest';
import type { ServiceHarness } from '../helpers/service.ts';
import { serviceTest } from '../testkit/service.ts';
import type { Wire } from '../testkit/wire.ts';
import { graphql } from '../generated/index.ts';
import type { CreateUserInput, UpdateUserInput } from '../generated/graphql.ts';
import { failure } from '../helpers/mutations.ts';

const it = serviceTest();

async function wecomUser(service: ServiceHarness, userid: string): Promise<Wire> {
  return (await service.wecom.console('user/get', { userid })).json;
}

async function allUsers(service: ServiceHarness): Promise<Wire[]> {
  return (await service.wecom.console('user/list', { department_id: 1, fetch_child: 1 })).json.userlist;
}

// The member's fields every payload below asks for (codegen reads the fragment from this call).
graphql(`fragment MutatedUser on User {
  userid name alias position mobile email status memberships { departmentId order isLeader } directLeaders { userid } mainDepartment { departmentId }
}`);

const CREATE = graphql(`mutation CreateUser($input: CreateUserInput!) {
  createUser(input: $input) { __typename ...ErrorFields ... on MutationCreateUserSuccess { data { ...MutatedUser } } }
}`);
const UPDATE = graphql(`mutation UpdateUser($input: UpdateUserInput!) {
  updateUser(input: $input) { __typename ...ErrorFields ... on MutationUpdateUserSuccess { data { ...MutatedUser } } }
}`);
const DELETE = graphql(`mutation DeleteUser($userid: String!) {
  deleteUser(userid: $userid) { __typename ...ErrorFields ... on MutationDeleteUserSuccess { data { userids } } }
}`);
const DELETE_MANY = graphql(`mutation DeleteUsers($userids: [String!]!) {
  deleteUsers(userids: $userids) { __typename ...ErrorFields ... on MutationDeleteUsersSuccess { data { userids } } }
}`);
const DEPARTMENT_PEOPLE = graphql(
  `query DepartmentPeople($id: Int!) { department(id: $id) { leaders { userid } members(first: 500) { nodes { userid } } } }`,
);

/** The GraphQL view of a member from WeCom's wire record (what the payload must equal). */
function expectedUser(u: Wire) {
  return {
    userid: u.userid,
    name: u.name,
    alias: u.alias || null,
    position: u.position || null,
    mobile: u.mobile || null,
    email: u.email || null,
    status: ({ 1: 'ACTIVE', 2: 'DISABLED', 4: 'NOT_ACTIVATED', 5: 'LEFT' } as Record<number, string>)[u.status],
    memberships: u.department.map((d: number, i: number) => ({
      departmentId: d,
      order: u.order[i],
      isLeader: u.is_leader_in_dept[i] === 1,
    })),
    directLeaders: u.direct_leader.map((userid: string) => ({ userid })),
    mainDepartment: { departmentId: u.main_department },
  };
}

describe('createUser', () => {
  it('creates the member, returns it as WeCom has it, and later requests see it', async ({ service, execute, published }) => {
    const [leader] = await allUsers(service);
    const res = await execute(CREATE, {
      input: {
        userid: 'new.member',
        name: '新成员',
        departmentIds: [2, 3],
        order: [4294967295, 7],
        isLeaderInDept: [false, true],
        mobile: '+86 13911112222',
        email: 'new.member@example.com',
        position: '工程师',
        alias: 'Newbie',
        directLeaderUserids: [leader!.userid],
        mainDepartmentId: 3,
        toInvite: false,
      },
    });
    expect(res.errors).toBeUndefined();
    const stored = await wecomUser(service, 'new.member');
    expect(stored.errcode).toBe(0);
    expect(stored).toMatchObject({
      name: '新成员',
      department: [2, 3],
      order: [4294967295, 7],
      is_leader_in_dept: [0, 1],
      main_department: 3,
      direct_leader: [leader!.userid],
    });
    expect(res.data!.createUser).toEqual({ __typename: 'MutationCreateUserSuccess', data: expectedUser(stored) });
    // one create; the payload read from WeCom itself (and its direct leader for `directLeaders`)
    const calls = await service.calls();
    expect(calls['/cgi-bin/user/create']).toBe(1);
    expect(calls['/cgi-bin/user/get']).toBe(2);
    expect(published).toEqual([{ kind: 'USER_CREATED', userid: 'new.member', departmentIds: [2, 3], source: 'mutation' }]);

    const later = await execute(
      graphql(
        `query CreatedMember { user(userid: "NEW.MEMBER") { userid name } department(id: 3) { members(first: 500) { nodes { userid } } leaders { userid } } }`,
      ),
    );
    expect(later.data!.user).toEqual({ userid: 'new.member', name: '新成员' });
    expect(later.data!.department!.members.nodes.map((u) => u.userid)).toContain('new.member');
    expect(later.data!.department!.leaders.map((u) => u.userid)).toContain('new.member');
  });

  const valid = { userid: 'checked', name: 'Checked', departmentIds: [2], email: 'checked@example.com' };
  it.for([
    ['a userid starting with _', { userid: '_bad' }, 'input.userid'],
    ['a userid with a space', { userid: 'has space' }, 'input.userid'],
    ['a userid of 65 bytes', { userid: 'a'.repeat(65) }, 'input.userid'],
    ['an empty name', { name: '  ' }, 'input.name'],
    ['a name of 65 characters', { name: '名'.repeat(65) }, 'input.name'],
    ['no department', { departmentIds: [] }, 'input.departmentIds'],
    ['101 departments', { departmentIds: Array.from({ length: 101 }, (_, i) => i + 2) }, 'input.departmentIds'],
    ['a department id 0', { departmentIds: [0] }, 'input.departmentIds[0]'],
    ['a department twice', { departmentIds: [2, 2] }, 'input.departmentIds'],
    ['neither mobile nor email', { email: null }, 'input.mobile'],
    ['a mobile with letters', { mobile: '138abc' }, 'input.mobile'],
    ['a mobile of 33 characters', { mobile: '1'.repeat(33) }, 'input.mobile'],
    ['an invalid email', { email: 'not-an-email' }, 'input.email'],
    ['orders not aligned with departments', { order: [1, 2] }, 'input.order'],
    ['leader flags not aligned with departments', { isLeaderInDept: [true, false] }, 'input.isLeaderInDept'],
    ['six direct leaders', { directLeaderUserids: ['a', 'b', 'c', 'd', 'e', 'f'] }, 'input.directLeaderUserids'],
    ['a main department outside the departments', { mainDepartmentId: 3 }, 'input.mainDepartmentId'],
    ['a position of 129 characters', { position: 'p'.repeat(129) }, 'input.position'],
    ['a telephone with letters', { telephone: '010-abc' }, 'input.telephone'],
    ['an external position of 13 characters', { externalPosition: '外'.repeat(13) }, 'input.externalPosition'],
    ['a web attribute without http', { extAttrs: [{ name: '个人主页', url: 'ftp://x', title: 't' }] }, 'input.extAttrs[0].url'],
  ] as [string, Partial<CreateUserInput>, string][])(
    'refuses %s before calling WeCom, naming the field',
    async ([_what, change, field], { service, execute, published }) => {
      const before = (await allUsers(service)).length;
      const res = await execute(CREATE, { input: { ...valid, ...change } });
      expect(res.data!.createUser).toMatchObject({ __typename: 'ValidationError', field, errcode: null });
      expect(failure(res.data!.createUser).message).toMatch(new RegExp(`^${field.replace(/[[\].]/g, '\\$&')}: `));
      // no WeCom quota spent, nothing created
      expect((await service.wecom.stats()).total).toBe(0);
      expect((await allUsers(service)).length).toBe(before);
      expect(published).toEqual([]);
    },
  );

  it.for([
    [
      'an existing userid (in another case)',
      (u: Wire) => ({ userid: u.userid.toUpperCase() }),
      'AlreadyExistsError',
      60102,
      'input.userid',
    ],
    ['a mobile another member has', (u: Wire) => ({ mobile: u.mobile }), 'AlreadyExistsError', 60104, 'input.mobile'],
    ['an email another member has', (u: Wire) => ({ email: u.email }), 'AlreadyExistsError', 60106, 'input.email'],
    ['a department that does not exist', () => ({ departmentIds: [987654] }), 'ValidationError', 40066, 'input.departmentIds'],
    ['a direct leader that does not exist', () => ({ directLeaderUserids: ['nobody.here'] }), 'NotFoundError', 60111, undefined],
  ] as const)(
    'maps WeCom refusing %s to a typed error and changes nothing',
    async ([_what, change, typename, errcode, field], { service, execute, published }) => {
      const users = await allUsers(service);
      const existing = users.find((u) => u.mobile && u.email)!;
      const res = await execute(CREATE, { input: { ...valid, userid: 'refused.one', ...change(existing) } });
      expect(res.data!.createUser).toMatchObject({ __typename: typename, errcode, ...(field ? { field } : {}) });
      expect(failure(res.data!.createUser).message).not.toMatch(/from ip|hint/);
      expect(await allUsers(service)).toEqual(users);
      expect(published).toEqual([]);
    },
  );
});

describe('updateUser', () => {
  it('renames, moves between departments and sets leaders; the payload and later reads show WeCom’s state', async ({
    service,
    execute,
    published,
  }) => {
    const users = await allUsers(service);
    const target = users.find((u) => u.department.length === 1 && u.department[0] !== 4 && u.department[0] !== 2)!;
    const leaders = users
      .filter((u) => u.userid !== target.userid && !target.direct_leader.includes(u.userid))
      .slice(0, 2)
      .map((u) => u.userid);
    const res = await execute(UPDATE, {
      input: {
        userid: target.userid,
        name: '改名了',
        departmentIds: [4, 2],
        order: [10, 20],
        isLeaderInDept: [true, false],
        directLeaderUserids: leaders,
        position: '主管',
      },
    });
    expect(res.errors).toBeUndefined();
    const stored = await wecomUser(service, target.userid);
    expect(stored).toMatchObject({
      name: '改名了',
      department: [4, 2],
      order: [10, 20],
      is_leader_in_dept: [1, 0],
      direct_leader: leaders,
      position: '主管',
    });
    expect(res.data!.updateUser).toEqual({ __typename: 'MutationUpdateUserSuccess', data: expectedUser(stored) });
    expect(published).toEqual([
      {
        kind: 'USER_UPDATED',
        userid: target.userid,
        departmentIds: [4, 2],
        changedFields: ['name', 'department', 'order', 'isLeaderInDept', 'position', 'directLeader'],
        source: 'mutation',
      },
    ]);
    const later = await execute(DEPARTMENT_PEOPLE, { id: 4 });
    expect(later.data!.department!.leaders.map((u) => u.userid)).toContain(target.userid);
    expect(later.data!.department!.members.nodes.map((u) => u.userid)).toContain(target.userid);
  });

  it('takes gender UNSPECIFIED (what reads answer) as "leave it": the update reaches WeCom, the gender stays', async ({
    service,
    execute,
  }) => {
    const target = (await allUsers(service)).find((u) => u.gender === '1')!;
    const res = await execute(UPDATE, { input: { userid: target.userid, gender: 'UNSPECIFIED', position: '顾问' } });
    expect(res.data!.updateUser.__typename).toBe('MutationUpdateUserSuccess');
    expect((await service.calls())['/cgi-bin/user/update']).toBe(1);
    expect(await wecomUser(service, target.userid)).toMatchObject({ gender: '1', position: '顾问' });
  });

  it('changes a system-generated userid once, and refuses a second change (301036)', async ({ service, execute, published }) => {
    // The seed marks some userids as generated by WeCom; read which (a fixture choice, nothing is changed here).
    const generated = [...service.wecom.emulator.store.users.values()].find(
      (u) => u.userid_system_generated && !u.userid_changed && !u.is_creator,
    )!;
    const res = await execute(UPDATE, { input: { userid: generated.userid, newUserid: 'chosen.id' } });
    expect(res.data!.updateUser).toMatchObject({
      __typename: 'MutationUpdateUserSuccess',
      data: { userid: 'chosen.id', name: generated.name },
    });
    expect((await wecomUser(service, generated.userid)).errcode).toBe(60111);
    expect((await wecomUser(service, 'chosen.id')).name).toBe(generated.name);
    expect(published[0]).toMatchObject({
      kind: 'USER_UPDATED',
      userid: generated.userid,
      newUserid: 'chosen.id',
      changedFields: ['userid'],
    });

    const again = await execute(UPDATE, { input: { userid: 'chosen.id', newUserid: 'chosen.again' } });
    expect(again.data!.updateUser).toMatchObject({ __typename: 'ValidationError', field: 'input.newUserid', errcode: 301036 });
    expect((await wecomUser(service, 'chosen.id')).errcode).toBe(0);
    expect((await wecomUser(service, 'chosen.again')).errcode).toBe(60111);
  });

  it.for([
    ['order without departmentIds', { order: [1] }, 'input.order'],
    ['nothing to change', {}, 'input'],
    ['a malformed new userid', { newUserid: '-x' }, 'input.newUserid'],
    ['a malformed direct leader', { directLeaderUserids: ['bad leader'] }, 'input.directLeaderUserids[0]'],
  ] as [string, Partial<UpdateUserInput>, string][])(
    'refuses %s before calling WeCom',
    async ([_what, change, field], { service, execute }) => {
      const [user] = await allUsers(service);
      const before = await wecomUser(service, user!.userid);
      const res = await execute(UPDATE, { input: { userid: user!.userid, ...change } });
      expect(res.data!.updateUser).toMatchObject({ __typename: 'ValidationError', field, errcode: null });
      expect((await service.wecom.stats()).total).toBe(0);
      expect(await wecomUser(service, user!.userid)).toEqual(before);
    },
  );

  it('gives NotFoundError for an unknown member and AlreadyExistsError for a taken email, changing nothing', async ({
    service,
    execute,
    published,
  }) => {
    const missing = await execute(UPDATE, { input: { userid: 'no.such.member', name: 'x' } });
    expect(missing.data!.updateUser).toMatchObject({ __typename: 'NotFoundError', errcode: 60111 });

    const [a, b] = (await allUsers(service)).filter((u) => u.email);
    const before = await wecomUser(service, a!.userid);
    const taken = await execute(UPDATE, { input: { userid: a!.userid, email: b!.email } });
    expect(taken.data!.updateUser).toMatchObject({ __typename: 'AlreadyExistsError', field: 'input.email', errcode: 60106 });
    expect(await wecomUser(service, a!.userid)).toEqual(before);
    expect(published).toEqual([]);
  });
});

describe('deleteUser and deleteUsers', () => {
  it('deletes a member; later reads give null', async ({ service, execute, published }) => {
    await execute(CREATE, { input: { userid: 'to.delete', name: 'X', departmentIds: [2], email: 'to.delete@example.com' } });
    published.length = 0;
    const res = await execute(DELETE, { userid: 'to.delete' });
    expect(res.data!.deleteUser).toEqual({ __typename: 'MutationDeleteUserSuccess', data: { userids: ['to.delete'] } });
    expect((await wecomUser(service, 'to.delete')).errcode).toBe(60111);
    expect(published).toEqual([{ kind: 'USER_DELETED', userid: 'to.delete', source: 'mutation' }]);
    expect((await execute(graphql(`query DeletedMember { user(userid: "to.delete") { userid } }`))).data).toEqual({ user: null });
  });

  it('gives NotFoundError for an unknown member, a ValidationError for the corp creator (301005) and a bad userid', async ({
    service,
    execute,
  }) => {
    const users = await allUsers(service);
    expect((await execute(DELETE, { userid: 'no.such.member' })).data!.deleteUser).toMatchObject({
      __typename: 'NotFoundError',
      errcode: 60111,
    });
    const creator = [...service.wecom.emulator.store.users.values()].find((u) => u.is_creator)!;
    expect((await execute(DELETE, { userid: creator.userid })).data!.deleteUser).toMatchObject({
      __typename: 'ValidationError',
      field: 'userid',
      errcode: 301005,
    });
    await service.wecom.resetStats();
    expect((await execute(DELETE, { userid: 'bad userid' })).data!.deleteUser).toMatchObject({
      __typename: 'ValidationError',
      field: 'userid',
      errcode: null,
    });
    expect((await service.wecom.stats()).total).toBe(0);
    expect(await allUsers(service)).toEqual(users);
  });

  it('deletes several members in one batchdelete', async ({ service, execute, published }) => {
    for (const n of [1, 2, 3]) {
      await execute(CREATE, { input: { userid: `batch.${n}`, name: `B${n}`, departmentIds: [2], email: `batch.${n}@example.com` } });
    }
    published.length = 0;
    await service.wecom.resetStats();
    const res = await execute(DELETE_MANY, { userids: ['batch.1', 'batch.2', 'batch.3'] });
    expect(res.data!.deleteUsers).toEqual({
      __typename: 'MutationDeleteUsersSuccess',
      data: { userids: ['batch.1', 'batch.2', 'batch.3'] },
    });
    expect((await service.calls())['/cgi-bin/user/batchdelete']).toBe(1);
    for (const n of [1, 2, 3]) expect((await wecomUser(service, `batch.${n}`)).errcode).toBe(60111);
    expect(published.map((c) => c.kind === 'USER_DELETED' && c.userid)).toEqual(['batch.1', 'batch.2', 'batch.3']);
  });

  it('enforces WeCom’s limit of 200 with a clear error, before calling WeCom', async ({ service, execute }) => {
    const userids = Array.from({ length: 201 }, (_, i) => `u${i}`);
    const res = await execute(DELETE_MANY, { userids });
    expect(res.data!.deleteUsers).toMatchObject({ __typename: 'ValidationError', field: 'userids', errcode: null });
    expect(failure(res.data!.deleteUsers).message).toBe('userids: WeCom deletes at most 200 members per call (got 201); split the list');
    const empty = await execute(DELETE_MANY, { userids: [] });
    expect(empty.data!.deleteUsers).toMatchObject({ __typename: 'ValidationError', field: 'userids' });
    expect((await service.wecom.stats()).total).toBe(0);
  });

  it('deletes nothing when one of the members is unknown (all or nothing)', async ({ service, execute, published }) => {
    const users = await allUsers(service);
    const res = await execute(DELETE_MANY, { userids: [users[5]!.userid, 'no.such.member'] });
    expect(res.data!.deleteUsers).toMatchObject({ __typename: 'NotFoundError', errcode: 60111 });
    expect(await allUsers(service)).toEqual(users);
    expect(published).toEqual([]);
  });
});

describe('confirmJoin', () => {
  const CONFIRM = graphql(
    `mutation ConfirmJoin($userid: String!) { confirmJoin(userid: $userid) { __typename ...ErrorFields ... on MutationConfirmJoinSuccess { data { userid status } } } }`,
  );

  it('lets a member who has not activated join (user/authsucc)', async ({ service, execute, published }) => {
    const pending = (await allUsers(service)).find((u) => u.status === 4)!;
    const res = await execute(CONFIRM, { userid: pending.userid });
    expect(res.data!.confirmJoin).toEqual({ __typename: 'MutationConfirmJoinSuccess', data: { userid: pending.userid, status: 'ACTIVE' } });
    expect((await wecomUser(service, pending.userid)).status).toBe(1);
    expect(published).toEqual([{ kind: 'USER_UPDATED', userid: pending.userid, changedFields: ['status'], source: 'mutation' }]);
  });

  it('gives NotFoundError for an unknown member', async ({ execute }) => {
    const res = await execute(CONFIRM, { userid: 'no.such.member' });
    expect(res.data!.confirmJoin).toMatchObject({ __typename: 'NotFoundError', errcode: 60111 });
  });
});

describe('inviteUsers', () => {
  const INVITE = graphql(`mutation InviteUsers($userids: [String!], $departmentIds: [Int!], $tagIds: [Int!]) {
    inviteUsers(userids: $userids, departmentIds: $departmentIds, tagIds: $tagIds) {
      __typename ...ErrorFields ... on MutationInviteUsersSuccess { data { invalidUserids invalidDepartmentIds invalidTagIds } }
    }
  }`);

  it('invites the valid targets and returns the invalid users, departments and tags', async ({ service, execute, published }) => {
    const [user] = await allUsers(service);
    const res = await execute(INVITE, { userids: [user!.userid, 'no.such.member'], departmentIds: [2, 987654], tagIds: [1, 9999] });
    expect(res.data!.inviteUsers).toEqual({
      __typename: 'MutationInviteUsersSuccess',
      data: { invalidUserids: ['no.such.member'], invalidDepartmentIds: [987654], invalidTagIds: [9999] },
    });
    const { invitations } = (await service.wecom.admin('invitations')).json;
    expect(invitations.at(-1)).toMatchObject({ user: [user!.userid], party: [2], tag: [1] });
    expect(published).toEqual([]);
  });

  it('refuses an empty invitation and more than 1000 users before calling WeCom', async ({ service, execute }) => {
    const before = (await service.wecom.admin('invitations')).json.invitations.length;
    const empty = await execute(INVITE, {});
    expect(empty.data!.inviteUsers).toMatchObject({ __typename: 'ValidationError', field: 'userids' });
    const many = await execute(INVITE, { userids: Array.from({ length: 1001 }, (_, i) => `u${i}`) });
    expect(many.data!.inviteUsers).toMatchObject({ __typename: 'ValidationError', field: 'userids' });
    const tags = await execute(INVITE, { tagIds: Array.from({ length: 101 }, (_, i) => i) });
    expect(tags.data!.inviteUsers).toMatchObject({ __typename: 'ValidationError', field: 'tagIds' });
    expect((await service.wecom.stats()).total).toBe(0);
    expect((await service.wecom.admin('invitations')).json.invitations.length).toBe(before);
  });
});
