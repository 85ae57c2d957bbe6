import { describe, expect } from 'vitest';
import { graphql } from '../generated/index.ts';
import type { ServiceHarness } from '../helpers/service.ts';
import { SseSubscription } from '../helpers/sse.ts';
import { csv, upload } from '../helpers/upload.ts';
import type { Execute } from '../testkit/execute.ts';
import { serviceTest } from '../testkit/service.ts';
import type { Wire } from '../testkit/wire.ts';
import { ALL, keysOnly, testKey, withKey, writeCalls, type TestKey } from './helpers.ts';

/** Issue 14, items 6, 10 (per-view change feed) and 14: each test failed before its fix. */

const RD = 2;
/** Limited to 研发中心 (department 2) and below; with pii, so only the subtree limit is at play. */
const rdWriter = testKey('rd-writer-3w', ['directory:read', 'directory:write', 'directory:pii'], [RD]);
const rdReader = testKey('rd-reader-3w', ['directory:read'], [RD]);
/** The whole corp, without personal data. */
const corpWriter = testKey('corp-writer-3w', ['directory:read', 'directory:write']);
const admin = testKey('admin-3w', ALL);
/** Administrative over the whole corp, without personal data. */
const adminWithoutPii = testKey('admin-no-pii-3w', ['directory:read', 'directory:write', 'directory:admin']);

const it = serviceTest({
  security: keysOnly([rdWriter, rdReader, corpWriter, admin, adminWithoutPii]),
  jobs: { initialPollMs: 20, maxPollMs: 100 },
});

interface WireDept {
  id: number;
  name: string;
  parentid: number;
}

/** The emulator's departments, department 2's subtree, and a member wholly inside and one wholly outside it. */
async function directory(service: ServiceHarness) {
  const departments: WireDept[] = (await service.wecom.console('department/list')).json.department;
  const inside = new Set([RD]);
  // Parents may come after their children in the list: repeat until nothing is added.
  for (let size = 0; size !== inside.size; ) {
    size = inside.size;
    for (const d of departments) if (inside.has(d.parentid)) inside.add(d.id);
  }
  const members: Wire[] = (await service.wecom.console('user/list', { department_id: 1, fetch_child: 1 })).json.userlist;
  const all = (u: Wire, within: boolean) => (u.department as number[]).every((d) => inside.has(d) === within);
  return {
    departments,
    insideDepartment: departments.find((d) => d.parentid === RD)!,
    insideMember: members.find((u) => all(u, true) && u.mobile && u.email)!,
    outsideMember: members.find((u) => all(u, false) && u.mobile && u.email)!,
  };
}

async function wecomUser(service: ServiceHarness, userid: string): Promise<Wire> {
  return (await service.wecom.console('user/get', { userid })).json;
}

const CREATE_USER = graphql(`
  mutation ThirdWaveCreateUser($input: CreateUserInput!) {
    createUser(input: $input) {
      __typename
      ...ErrorFields
      ... on MutationCreateUserSuccess { data { userid } }
    }
  }
`);

const UPDATE_USER = graphql(`
  mutation ThirdWaveUpdateUser($input: UpdateUserInput!) {
    updateUser(input: $input) {
      __typename
      ...ErrorFields
      ... on MutationUpdateUserSuccess { data { userid } }
    }
  }
`);

const CREATE_DEPARTMENT = graphql(`
  mutation ThirdWaveCreateDepartment($input: CreateDepartmentInput!) {
    createDepartment(input: $input) {
      __typename
      ...ErrorFields
      ... on MutationCreateDepartmentSuccess { data { departmentId name } }
    }
  }
`);

const UPDATE_DEPARTMENT = graphql(`
  mutation ThirdWaveUpdateDepartment($input: UpdateDepartmentInput!) {
    updateDepartment(input: $input) {
      __typename
      ...ErrorFields
      ... on MutationUpdateDepartmentSuccess { data { departmentId } }
    }
  }
`);

describe('item 6: a refused write does not tell who holds a userid, mobile, email or department name', () => {
  it('a subtree writer gets one and the same answer whether the value is taken outside, inside, or which one', async ({
    service,
    execute,
  }) => {
    const { insideDepartment, insideMember, outsideMember } = await directory(service);
    const probe = { userid: 'probe.member', name: '探测', departmentIds: [insideDepartment.id], email: 'probe.member@example.com' };
    const answers = [];
    for (const taken of [
      { userid: outsideMember.userid },
      { mobile: outsideMember.mobile },
      { email: outsideMember.email },
      { userid: insideMember.userid },
    ]) {
      answers.push((await execute(CREATE_USER, { input: { ...probe, ...taken } }, withKey(rdWriter))).data!.createUser);
    }
    expect(answers[0]).toEqual({ __typename: 'ConflictError', errcode: null, message: expect.stringContaining('/cgi-bin/user/create') });
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    const said = JSON.stringify(answers[0]);
    for (const secret of [
      outsideMember.userid,
      outsideMember.mobile,
      outsideMember.email,
      insideMember.userid,
      'mobile',
      'email',
      'userid',
      'exists',
    ])
      expect(said).not.toContain(secret);
    expect((await wecomUser(service, 'probe.member')).errcode).toBe(60111);

    const update = await execute(UPDATE_USER, { input: { userid: insideMember.userid, email: outsideMember.email } }, withKey(rdWriter));
    const concealed = answers[0] as { message: string };
    expect(update.data!.updateUser).toEqual({ ...answers[0], message: concealed.message.replace('user/create', 'user/update') });
    expect((await wecomUser(service, insideMember.userid)).email).toBe(insideMember.email);
  });

  it('a whole-corp writer without directory:pii gets the same answer; one with it keeps the precise error', async ({
    service,
    execute,
  }) => {
    const { insideDepartment, outsideMember } = await directory(service);
    const input = { userid: 'probe.corp', name: '探测', departmentIds: [insideDepartment.id], mobile: outsideMember.mobile };
    const withoutPii = await execute(CREATE_USER, { input }, withKey(corpWriter));
    expect(withoutPii.data!.createUser).toMatchObject({ __typename: 'ConflictError', errcode: null });
    expect(JSON.stringify(withoutPii.data)).not.toContain(outsideMember.mobile);
    const withPii = await execute(CREATE_USER, { input }, withKey(admin));
    expect(withPii.data!.createUser).toMatchObject({ __typename: 'AlreadyExistsError', field: 'input.mobile', errcode: 60104 });
  });

  it('an import’s per-record results tell an admin without directory:pii no more than a refused write', async ({ service, execute }) => {
    const { insideDepartment, outsideMember } = await directory(service);
    const importWith = async (key: TestKey, userid: string) => {
      const file = csv(`姓名,帐号,手机号,所在部门\r\n探测,${userid},${outsideMember.mobile},${insideDepartment.id}\r\n`);
      const res = await upload(
        service,
        'mutation($file: File) { importUsers(mode: SYNC, file: $file, toInvite: false) { __typename ... on MutationImportUsersSuccess { data { id } } } }',
        {},
        file,
        'members.csv',
        withKey(key),
      );
      const id: string = res.data!.importUsers.data.id;
      await expect
        .poll(async () => (await execute(IMPORT_RESULTS, { id }, withKey(key))).data!.importJob?.status, { timeout: 10_000, interval: 50 })
        .toBe('FINISHED');
      return (await execute(IMPORT_RESULTS, { id }, withKey(key))).data!.importJob!.results;
    };
    const concealed = await importWith(adminWithoutPii, 'probe.import.a');
    expect(concealed).toEqual([
      { userid: 'probe.import.a', ok: false, errcode: null, message: expect.stringContaining('may not learn which') },
    ]);
    expect(JSON.stringify(concealed)).not.toMatch(/mobile|60104/);
    const precise = await importWith(admin, 'probe.import.b');
    expect(precise).toEqual([{ userid: 'probe.import.b', ok: false, errcode: 60104, message: expect.stringContaining('mobile') }]);
  });

  it('a subtree writer learns neither the ids nor the names of departments outside', async ({ service, execute }) => {
    const { departments, insideDepartment } = await directory(service);
    const top = departments.find((d) => d.id === RD)!;
    const outsideSibling = departments.find((d) => d.parentid === top.parentid && d.id !== RD)!;
    await service.wecom.resetStats();
    const takenId = await execute(
      CREATE_DEPARTMENT,
      { input: { name: '探测部门', parentId: RD, departmentId: outsideSibling.id } },
      withKey(rdWriter),
    );
    const takenInside = await execute(CREATE_DEPARTMENT, { input: { name: insideDepartment.name, parentId: RD } }, withKey(rdWriter));
    const renamed = await execute(UPDATE_DEPARTMENT, { input: { departmentId: RD, name: outsideSibling.name } }, withKey(rdWriter));
    expect(takenId.data!.createDepartment).toEqual({
      __typename: 'ConflictError',
      errcode: null,
      message: expect.stringContaining('/cgi-bin/department/create'),
    });
    expect(takenInside.data!.createDepartment).toEqual(takenId.data!.createDepartment);
    expect(renamed.data!.updateDepartment).toMatchObject({ __typename: 'ConflictError', errcode: null });
    for (const answer of [takenId, renamed]) {
      expect(JSON.stringify(answer)).not.toContain(outsideSibling.name);
      expect(JSON.stringify(answer)).not.toContain(String(outsideSibling.id));
    }
    expect((await service.wecom.console('department/get', { id: RD })).json.department.name).toBe(top.name);

    const precise = await execute(UPDATE_DEPARTMENT, { input: { departmentId: RD, name: outsideSibling.name } }, withKey(admin));
    expect(precise.data!.updateDepartment).toMatchObject({ __typename: 'AlreadyExistsError', field: 'input.name', errcode: 60008 });
  });
});

const LATEST_CHANGE = graphql(`query ThirdWaveLatestChange { directoryChanges { latestCursor } }`);
const CHANGES_SINCE = graphql(`
  query ThirdWaveChangesSince($since: String, $first: Int) {
    directoryChanges(since: $since, first: $first) {
      changes { sequence cursor kind userid }
      endCursor
      hasMore
      latestCursor
    }
  }
`);

/** A change the admin makes to a member (one USER_UPDATED on the feed). */
async function touch(execute: Execute, userid: string, position: string) {
  const res = await execute(UPDATE_USER, { input: { userid, position } }, withKey(admin));
  expect(res.data!.updateUser!.__typename).toBe('MutationUpdateUserSuccess');
}

describe('item 10: a subtree reader’s change feed counts only what it sees', () => {
  it('its sequences have no gaps for hidden changes, and hidden changes move none of its cursors', async ({ service, execute }) => {
    const { insideMember, outsideMember } = await directory(service);
    const start = (await execute(LATEST_CHANGE, {}, withKey(rdReader))).data!.directoryChanges.latestCursor;
    const wholeStart = (await execute(LATEST_CHANGE, {}, withKey(admin))).data!.directoryChanges.latestCursor;
    for (const [userid, position] of [
      [outsideMember.userid, '外一'],
      [outsideMember.userid, '外二'],
      [outsideMember.userid, '外三'],
      [insideMember.userid, '内一'],
      [outsideMember.userid, '外四'],
      [insideMember.userid, '内二'],
    ] as const)
      await touch(execute, userid, position);

    const seen = (await execute(CHANGES_SINCE, { since: start }, withKey(rdReader))).data!.directoryChanges;
    expect(seen.changes.map((c) => c.userid)).toEqual([insideMember.userid, insideMember.userid]);
    const [first, second] = seen.changes;
    expect(second!.sequence).toBe(first!.sequence + 1);
    expect(seen).toMatchObject({ endCursor: second!.cursor, latestCursor: second!.cursor, hasMore: false });

    // More changes it cannot see: its view does not move at all.
    await touch(execute, outsideMember.userid, '外五');
    await touch(execute, outsideMember.userid, '外六');
    const after = (await execute(CHANGES_SINCE, { since: second!.cursor }, withKey(rdReader))).data!.directoryChanges;
    expect(after).toEqual({ changes: [], endCursor: second!.cursor, hasMore: false, latestCursor: second!.cursor });

    // The whole corp's feed still numbers every change.
    const whole = (await execute(CHANGES_SINCE, { since: wholeStart }, withKey(admin))).data!.directoryChanges.changes;
    expect(whole).toHaveLength(8);
    expect(whole.map((c) => c.sequence - whole[0]!.sequence)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('resuming with its cursors loses and repeats nothing, in pages and in a subscription', async ({ service, execute }) => {
    const { insideMember, outsideMember } = await directory(service);
    const start = (await execute(LATEST_CHANGE, {}, withKey(rdReader))).data!.directoryChanges.latestCursor;
    for (let i = 1; i <= 3; i++) {
      await touch(execute, outsideMember.userid, `外${i}`);
      await touch(execute, insideMember.userid, `内${i}`);
    }
    const paged: { sequence: number; cursor: string }[] = [];
    let since = start;
    for (let more = true; more; ) {
      const page = (await execute(CHANGES_SINCE, { since, first: 1 }, withKey(rdReader))).data!.directoryChanges;
      paged.push(...page.changes.map(({ sequence, cursor }) => ({ sequence, cursor })));
      since = page.endCursor;
      more = page.hasMore;
    }
    expect(paged.map((c) => c.sequence - paged[0]!.sequence)).toEqual([0, 1, 2]);

    const sub = await subscribeAs(service, rdReader, `subscription { contactChanged(since: "${start}") { sequence cursor userid } }`);
    try {
      for (const expected of paged) expect((await sub.next())!.data!.contactChanged).toMatchObject(expected);
      await touch(execute, outsideMember.userid, '外四');
      await touch(execute, insideMember.userid, '内四');
      const live = (await sub.next())!.data!.contactChanged;
      expect(live).toMatchObject({ sequence: paged[2]!.sequence + 1, userid: insideMember.userid });
      // The live event's cursor continues the pages.
      const next = (await execute(CHANGES_SINCE, { since: paged[2]!.cursor }, withKey(rdReader))).data!.directoryChanges;
      expect(next.changes.map((c) => c.cursor)).toEqual([live.cursor]);
    } finally {
      sub.close();
    }
  });
});

async function subscribeAs(service: ServiceHarness, key: TestKey, query: string): Promise<SseSubscription> {
  return SseSubscription.open(
    (url, init) => service.app.yoga.fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), ...withKey(key) } }),
    'http://yoga/graphql',
    query,
  );
}

const IMPORT_RESULTS = graphql(
  `query ThirdWaveImportResults($id: ID!) { importJob(id: $id) { status results { userid ok errcode message } } }`,
);
const IMPORT_JOB = graphql(`query ThirdWaveImportJob($id: ID!) { importJob(id: $id) { status succeeded } }`);

describe('item 14: text that a spreadsheet would run reaches WeCom as text, on every way in', () => {
  it('createUser and updateUser prefix free text that starts like a formula; mobiles stay as they are', async ({ service, execute }) => {
    const { insideDepartment } = await directory(service);
    const created = await execute(
      CREATE_USER,
      {
        input: {
          userid: 'formula.create',
          name: '=HYPERLINK("http://evil.example","x")',
          departmentIds: [insideDepartment.id],
          mobile: '+86 13911110001',
          position: '+SUM(1,2)',
          alias: '-1',
          address: '@cmd',
          externalPosition: '=1',
          extAttrs: [{ name: '工号', text: '=2+3' }],
        },
      },
      withKey(admin),
    );
    expect(created.data!.createUser).toEqual({ __typename: 'MutationCreateUserSuccess', data: { userid: 'formula.create' } });
    const stored = await wecomUser(service, 'formula.create');
    expect(stored).toMatchObject({
      name: `'=HYPERLINK("http://evil.example","x")`,
      mobile: '+86 13911110001',
      position: "'+SUM(1,2)",
      alias: "'-1",
      address: "'@cmd",
      external_position: "'=1",
    });
    expect(stored.extattr.attrs).toContainEqual({ type: 0, name: '工号', text: { value: "'=2+3" } });

    await execute(UPDATE_USER, { input: { userid: 'formula.create', position: '\t=1+1', name: '张三' } }, withKey(admin));
    expect(await wecomUser(service, 'formula.create')).toMatchObject({ position: "'\t=1+1", name: '张三' });
  });

  it('an email that starts like a formula is refused before anything is written', async ({ service, execute }) => {
    const { insideDepartment } = await directory(service);
    const res = await execute(
      CREATE_USER,
      { input: { userid: 'formula.email', name: '邮箱', departmentIds: [insideDepartment.id], email: '=cmd@example.com' } },
      withKey(admin),
    );
    expect(res.data!.createUser).toMatchObject({ __typename: 'ValidationError', field: 'input.email', errcode: null });
    expect(await writeCalls(service)).toEqual({});
  });

  it('createDepartment and updateDepartment prefix department names', async ({ service, execute }) => {
    const created = await execute(CREATE_DEPARTMENT, { input: { name: '=1+1', parentId: RD } }, withKey(admin));
    expect(created.data!.createDepartment).toMatchObject({ __typename: 'MutationCreateDepartmentSuccess', data: { name: "'=1+1" } });
    const id = (created.data!.createDepartment as { data: { departmentId: number } }).data.departmentId;
    await execute(UPDATE_DEPARTMENT, { input: { departmentId: id, name: '@SUM(A1)' } }, withKey(admin));
    expect((await service.wecom.console('department/get', { id })).json.department.name).toBe("'@SUM(A1)");
  });

  it('an uploaded member file has its text cells neutralised before it reaches WeCom; mobiles, ids and departments not', async ({
    service,
    execute,
  }) => {
    const file = csv(
      '姓名,帐号,手机号,邮箱,所在部门,职位,别名,地址\r\n' +
        `"=HYPERLINK(""http://evil.example"",""x"")",formula.file,+86 13911110002,,${RD},@SUM(A1),-1,"=1,2"\r\n` +
        `文件二,formula.plain,13911110003,,${RD},工程师,,\r\n`,
    );
    const res = await upload(
      service,
      'mutation($file: File) { importUsers(mode: SYNC, file: $file, toInvite: false) { __typename ... on MutationImportUsersSuccess { data { id } } } }',
      {},
      file,
      'members.csv',
      withKey(admin),
    );
    expect(res.data!.importUsers.__typename).toBe('MutationImportUsersSuccess');
    const id: string = res.data!.importUsers.data.id;
    await expect
      .poll(async () => (await execute(IMPORT_JOB, { id }, withKey(admin))).data!.importJob, { timeout: 10_000, interval: 50 })
      .toMatchObject({ status: 'FINISHED', succeeded: 2 });
    expect(await wecomUser(service, 'formula.file')).toMatchObject({
      name: `'=HYPERLINK("http://evil.example","x")`,
      mobile: '+86 13911110002',
      department: [RD],
      position: "'@SUM(A1)",
      alias: "'-1",
      address: "'=1,2",
    });
    expect(await wecomUser(service, 'formula.plain')).toMatchObject({ name: '文件二', position: '工程师' });
  });
});
