import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import { ServiceHarness } from '../helpers/service.ts';
import { csv, upload } from '../helpers/upload.ts';
import { serviceTest } from '../testkit/service.ts';
import type { Wire } from '../testkit/wire.ts';
import { ERROR_FIELDS, subscribeOverSse } from '../helpers/mutations.ts';

// Fast polling: the emulator finishes a job within a few hundred milliseconds.
const it = serviceTest({ jobs: { initialPollMs: 20, maxPollMs: 100 } });

const JOB_FIELDS = 'id type status percentage total succeeded failed results { userid departmentId actions ok errcode message }';
const IMPORT_USERS = `mutation($mode: ImportMode!, $rows: [ImportUserRow!], $file: File, $toInvite: Boolean, $key: String) {
  importUsers(mode: $mode, rows: $rows, file: $file, toInvite: $toInvite, idempotencyKey: $key) {
    __typename ...ErrorFields ... on MutationImportUsersSuccess { data { ${JOB_FIELDS} } }
  }
} ${ERROR_FIELDS}`;
const IMPORT_DEPARTMENTS = `mutation($rows: [ImportDepartmentRow!], $file: File) {
  importDepartments(rows: $rows, file: $file) {
    __typename ...ErrorFields ... on MutationImportDepartmentsSuccess { data { ${JOB_FIELDS} } }
  }
} ${ERROR_FIELDS}`;

async function wecomUsers(service: ServiceHarness): Promise<Wire[]> {
  return (await service.wecom.console('user/list', { department_id: 1, fetch_child: 1 })).json.userlist;
}

async function wecomUser(service: ServiceHarness, userid: string): Promise<Wire> {
  return (await service.wecom.console('user/get', { userid })).json;
}

/** Polls Query.importJob until WeCom reports the job finished. */
async function finished(service: ServiceHarness, id: string): Promise<Wire> {
  for (let i = 0; i < 200; i++) {
    const res = await service.query(`query($id: ID!) { importJob(id: $id) { ${JOB_FIELDS} } }`, { id });
    expect(res.errors).toBeUndefined();
    if (res.data!.importJob.status === 'FINISHED') return res.data!.importJob;
    await sleep(25);
  }
  throw new Error(`job ${id} did not finish`);
}

describe('importUsers from rows', () => {
  it('writes WeCom’s member CSV, runs the job, and reports per-record failures with errcodes', async ({ service, published }) => {
    const [existing, other] = (await wecomUsers(service)).filter((u) => u.email);
    const rows = [
      {
        userid: 'rows.new',
        name: '新人',
        departmentIds: [2, 3],
        mobile: '+86 13700000001',
        position: '工程师',
        gender: 'FEMALE',
        isLeaderInDept: [false, true],
        order: [5, 4294967295],
        alias: 'Newcomer',
        telephone: '010-1234',
        enable: true,
      },
      { userid: existing!.userid, name: '改名', departmentIds: existing!.department, email: existing!.email },
      { userid: 'rows.clash', name: '撞邮箱', departmentIds: [2], email: other!.email },
      {
        userid: 'rows.formula',
        name: '=HYPERLINK("http://evil","x")',
        departmentIds: [2],
        email: 'rows.formula@example.com',
        position: '@SUM(A1)',
        address: '-2+3',
      },
    ];
    const res = await service.query(IMPORT_USERS, { mode: 'SYNC', rows, toInvite: false });
    expect(res.errors).toBeUndefined();
    const job = res.data!.importUsers;
    expect(job).toMatchObject({ __typename: 'MutationImportUsersSuccess', data: { type: 'SYNC_USERS', total: 4 } });
    expect(['PENDING', 'RUNNING', 'FINISHED']).toContain(job.data.status);
    const calls = await service.calls();
    expect(calls['/cgi-bin/media/upload']).toBe(1);
    expect(calls['/cgi-bin/batch/syncuser']).toBe(1);

    const done = await finished(service, job.data.id);
    expect(done).toMatchObject({ status: 'FINISHED', percentage: 100, total: 4, succeeded: 3, failed: 1 });
    expect(done.results).toEqual([
      { userid: 'rows.new', departmentId: null, actions: [], ok: true, errcode: 0, message: 'ok' },
      { userid: existing!.userid, departmentId: null, actions: [], ok: true, errcode: 0, message: 'ok' },
      { userid: 'rows.clash', departmentId: null, actions: [], ok: false, errcode: 60106, message: 'email already exists' },
      { userid: 'rows.formula', departmentId: null, actions: [], ok: true, errcode: 0, message: 'ok' },
    ]);

    expect(await wecomUser(service, 'rows.new')).toMatchObject({
      name: '新人',
      department: [2, 3],
      mobile: '+86 13700000001',
      position: '工程师',
      gender: '2',
      is_leader_in_dept: [0, 1],
      order: [5, 4294967295],
      alias: 'Newcomer',
      telephone: '010-1234',
    });
    expect((await wecomUser(service, existing!.userid)).name).toBe('改名');
    expect((await wecomUser(service, 'rows.clash')).errcode).toBe(60111);
    // Cells a spreadsheet would execute arrive with the apostrophe that keeps them text.
    expect(await wecomUser(service, 'rows.formula')).toMatchObject({
      name: `'=HYPERLINK("http://evil","x")`,
      position: "'@SUM(A1)",
      address: "'-2+3",
    });
    expect(published.filter((c) => c.kind === 'DIRECTORY_RELOADED')).toEqual([{ kind: 'DIRECTORY_RELOADED', source: 'import' }]);

    const later = await service.query('{ users(userids: ["rows.new", "rows.clash"]) { userid name } }');
    expect(later.data!.users).toEqual([{ userid: 'rows.new', name: '新人' }, null]);
  });

  it('submits every import asked for; a retry with the same idempotency key gets the same job', async ({ service }) => {
    const rows = [{ userid: 'retry.once', name: 'R', departmentIds: [2], email: 'retry.once@example.com' }];
    const first = await service.query(IMPORT_USERS, { mode: 'SYNC', rows });
    await finished(service, first.data!.importUsers.data.id);
    const second = await service.query(IMPORT_USERS, { mode: 'SYNC', rows });
    expect(second.data!.importUsers.data.id).not.toBe(first.data!.importUsers.data.id);
    await finished(service, second.data!.importUsers.data.id);
    let calls = await service.calls();
    expect(calls['/cgi-bin/media/upload']).toBe(2);
    expect(calls['/cgi-bin/batch/syncuser']).toBe(2);

    // The key identifies the import, whatever the content; a new key is a new import.
    const keyed = await service.query(IMPORT_USERS, { mode: 'SYNC', rows, key: 'nightly-2024-05-01' });
    await finished(service, keyed.data!.importUsers.data.id);
    const sameKey = await service.query(IMPORT_USERS, { mode: 'SYNC', rows: [{ ...rows[0], name: 'Changed' }], key: 'nightly-2024-05-01' });
    expect(sameKey.data!.importUsers.data.id).toBe(keyed.data!.importUsers.data.id);
    calls = await service.calls();
    expect(calls['/cgi-bin/batch/syncuser']).toBe(3);
    expect((await wecomUser(service, 'retry.once')).name).toBe('R');
  });

  it.for([
    ['neither rows nor file', {}, 'rows'],
    ['no rows', { rows: [] }, 'rows'],
    [
      'a userid twice (ignoring case)',
      {
        rows: [
          { userid: 'dup', name: 'A', departmentIds: [2], email: 'dup1@example.com' },
          { userid: 'DUP', name: 'B', departmentIds: [2], email: 'dup2@example.com' },
        ],
      },
      'rows[1].userid',
    ],
    ['a row without mobile or email', { rows: [{ userid: 'nomail', name: 'A', departmentIds: [2] }] }, 'rows[0].mobile'],
    [
      'a row with a bad userid',
      {
        rows: [
          { userid: 'ok1', name: 'A', departmentIds: [2], email: 'ok1@example.com' },
          { userid: 'bad id', name: 'B', departmentIds: [2], email: 'b@example.com' },
        ],
      },
      'rows[1].userid',
    ],
  ] as const)('refuses %s before calling WeCom', async ([_what, vars, field], { service }) => {
    const before = await wecomUsers(service);
    const res = await service.query(IMPORT_USERS, { mode: 'SYNC', ...vars });
    expect(res.data!.importUsers).toMatchObject({ __typename: 'ValidationError', field, errcode: null });
    expect((await service.wecom.stats()).total).toBe(0);
    expect(await wecomUsers(service)).toEqual(before);
  });

  it('replaces the member list (REPLACE): members missing from the rows are deleted', async ({ service }) => {
    const users = await wecomUsers(service);
    const creator = [...service.wecom.emulator.store.users.values()].find((u) => u.is_creator)!;
    const dropped = users
      .filter((u) => u.userid !== creator.userid)
      .slice(-2)
      .map((u) => u.userid);
    const rows = users
      .filter((u) => !dropped.includes(u.userid))
      .map((u) => ({
        userid: u.userid,
        name: u.name,
        departmentIds: u.department,
        ...(u.mobile ? { mobile: u.mobile } : {}),
        ...(u.email ? { email: u.email } : {}),
      }));
    const res = await service.query(IMPORT_USERS, { mode: 'REPLACE', rows, toInvite: false });
    expect(res.data!.importUsers).toMatchObject({
      __typename: 'MutationImportUsersSuccess',
      data: { type: 'REPLACE_USERS', total: rows.length },
    });
    const done = await finished(service, res.data!.importUsers.data.id);
    expect(done).toMatchObject({ status: 'FINISHED', succeeded: rows.length, failed: 0 });
    const after = (await wecomUsers(service)).map((u) => u.userid);
    expect(after).toHaveLength(users.length - 2);
    for (const userid of dropped) expect(after).not.toContain(userid);
  });

  it('maps WeCom’s deletion protection (45026) for a REPLACE that would delete most members, changing nothing', async ({ service }) => {
    const before = await wecomUsers(service);
    const res = await service.query(IMPORT_USERS, {
      mode: 'REPLACE',
      rows: [{ userid: before[0]!.userid, name: before[0]!.name, departmentIds: before[0]!.department, email: 'keep@example.com' }],
    });
    expect(res.data!.importUsers).toMatchObject({ __typename: 'ValidationError', field: 'rows', errcode: 45026 });
    expect(await wecomUsers(service)).toEqual(before);
  });
});

describe('importUsers from an uploaded file (GraphQL multipart request)', () => {
  it('uploads the CSV as it is and reports per-record failures', async ({ service }) => {
    const [taken] = (await wecomUsers(service)).filter((u) => u.mobile);
    const file = csv(
      '姓名,帐号,手机号,邮箱,所在部门,职位\r\n' +
        '文件一,file.one,,file.one@example.com,2;3,经理\r\n' +
        `文件二,file.two,${taken!.mobile},,2,\r\n` +
        '文件三,file.three,13600000003,,2,"职位, 带逗号"\r\n',
    );
    const res = await upload(service, IMPORT_USERS, { mode: 'SYNC', toInvite: false }, file, 'members.csv');
    expect(res.errors).toBeUndefined();
    expect(res.data!.importUsers).toMatchObject({ __typename: 'MutationImportUsersSuccess', data: { type: 'SYNC_USERS' } });
    const done = await finished(service, res.data!.importUsers.data.id);
    expect(done).toMatchObject({ total: 3, succeeded: 2, failed: 1 });
    expect(done.results.map((r: Wire) => [r.userid, r.errcode])).toEqual([
      ['file.one', 0],
      ['file.two', 60104],
      ['file.three', 0],
    ]);
    expect(await wecomUser(service, 'file.one')).toMatchObject({ name: '文件一', department: [2, 3], position: '经理' });
    expect((await wecomUser(service, 'file.three')).position).toBe('职位, 带逗号');
    expect((await wecomUser(service, 'file.two')).errcode).toBe(60111);
  });

  it.for([
    ['5 bytes', () => csv('a,b,c'), /larger than 5 bytes/],
    [
      'a GBK-encoded file',
      () => new Blob([Buffer.from([0xd0, 0xd5, 0xc3, 0xfb, 0x2c, 0xd5, 0xca, 0xba, 0xc5, 0x0d, 0x0a, 0x31])]),
      /not UTF-8/,
    ],
    ['a header without 帐号', () => csv('姓名,手机号,所在部门\r\n张三,13800000000,2\r\n'), /no 帐号 \/ 账号 column/],
    ['a header without mobile or email', () => csv('姓名,帐号,所在部门\r\n张三,zhangsan,2\r\n'), /no 手机号 \/ 手机 \/ 邮箱 column/],
    ['a header and no records', () => csv('姓名,帐号,手机号,邮箱,所在部门\r\n'), /no records/],
  ] as const)('refuses %s before uploading anything', async ([_what, file, message], { service }) => {
    const res = await upload(service, IMPORT_USERS, { mode: 'SYNC' }, file());
    expect(res.data!.importUsers).toMatchObject({ __typename: 'ValidationError', field: 'file', errcode: null });
    expect(res.data!.importUsers.message).toMatch(message);
    expect((await service.wecom.stats()).total).toBe(0);
  });

  it('refuses a file over 20 MB by its size, and rows together with a file', async ({ service }) => {
    const big = new Blob([Buffer.alloc(20 * 1024 * 1024 + 1, 0x41)]);
    const res = await upload(service, IMPORT_USERS, { mode: 'SYNC' }, big);
    expect(res.data!.importUsers).toMatchObject({ __typename: 'ValidationError', field: 'file' });
    expect(res.data!.importUsers.message).toMatch(/at most 20 MB/);
    const both = await upload(
      service,
      IMPORT_USERS,
      { mode: 'SYNC', rows: [{ userid: 'x', name: 'x', departmentIds: [2], email: 'x@example.com' }] },
      csv('姓名,帐号,邮箱,所在部门\r\nx,x,x@example.com,2\r\n'),
    );
    expect(both.data!.importUsers).toMatchObject({ __typename: 'ValidationError', field: 'file' });
    expect((await service.wecom.stats()).total).toBe(0);
  });
});

describe('importDepartments', () => {
  async function wecomDepartments(service: ServiceHarness): Promise<Wire[]> {
    return (await service.wecom.console('department/list')).json.department;
  }

  it('replaces the tree from rows: creates, renames, reports actions per department', async ({ service }) => {
    const depts = await wecomDepartments(service);
    const renamed = depts.find((d) => d.parentid === 2)!;
    const rows = depts.map((d) => ({
      departmentId: d.id,
      name: d.id === renamed.id ? `${d.name}（新）` : d.name,
      parentId: d.parentid,
      order: d.order,
    }));
    rows.push({ departmentId: 8001, name: '导入部门', parentId: 2, order: 9 });
    const res = await service.query(IMPORT_DEPARTMENTS, { rows });
    expect(res.data!.importDepartments).toMatchObject({
      __typename: 'MutationImportDepartmentsSuccess',
      data: { type: 'REPLACE_DEPARTMENTS', total: rows.length },
    });
    const done = await finished(service, res.data!.importDepartments.data.id);
    expect(done).toMatchObject({ status: 'FINISHED', total: rows.length, succeeded: rows.length, failed: 0 });
    const byId = new Map(done.results.map((r: Wire) => [r.departmentId, r]));
    expect(byId.get(8001)).toEqual({ userid: null, departmentId: 8001, actions: ['CREATED'], ok: true, errcode: 0, message: 'ok' });
    expect(byId.get(renamed.id)).toMatchObject({ actions: ['RENAMED'], ok: true });
    expect(byId.get(1)).toMatchObject({ actions: [], ok: true });
    const after = await wecomDepartments(service);
    expect(after.find((d) => d.id === 8001)).toMatchObject({ name: '导入部门', parentid: 2, order: 9 });
    expect(after.find((d) => d.id === renamed.id)!.name).toBe(`${renamed.name}（新）`);
    const later = await service.query('{ department(id: 8001) { name parent { departmentId } } }');
    expect(later.data!.department).toEqual({ name: '导入部门', parent: { departmentId: 2 } });
  });

  it('imports an uploaded department file, with a per-record failure', async ({ service }) => {
    const depts = await wecomDepartments(service);
    const lines = depts.map((d) => `${d.name},${d.id},${d.parentid},${d.order}`);
    // 60009: a name with a forbidden character fails that record only.
    lines.push('坏名字*,8101,2,', '好名字,8102,2,');
    const res = await upload(
      service,
      IMPORT_DEPARTMENTS,
      {},
      csv(`部门名称,部门ID,父部门ID,排序\n${lines.join('\n')}\n`),
      'departments.csv',
    );
    expect(res.errors).toBeUndefined();
    const done = await finished(service, res.data!.importDepartments.data.id);
    expect(done).toMatchObject({ total: depts.length + 2, failed: 1 });
    const byId = new Map(done.results.map((r: Wire) => [r.departmentId, r]));
    expect(byId.get(8101)).toMatchObject({
      ok: false,
      errcode: 60009,
      actions: ['CREATED'],
      message: 'department name has illegal characters',
    });
    expect(byId.get(8102)).toMatchObject({ ok: true, errcode: 0, actions: ['CREATED'] });
    const after = await wecomDepartments(service);
    expect(after.some((d) => d.id === 8101)).toBe(false);
    expect(after.some((d) => d.id === 8102)).toBe(true);
  });

  it.for([
    [
      'a department id twice',
      [
        { departmentId: 1, name: 'Root' },
        { departmentId: 5, name: 'A', parentId: 1 },
        { departmentId: 5, name: 'B', parentId: 1 },
      ],
      'rows[2].departmentId',
    ],
    [
      'a parent outside the rows',
      [
        { departmentId: 1, name: 'Root' },
        { departmentId: 5, name: 'A', parentId: 77 },
      ],
      'rows[1].parentId',
    ],
    [
      'two siblings with one name',
      [
        { departmentId: 1, name: 'Root' },
        { departmentId: 5, name: 'A', parentId: 1 },
        { departmentId: 6, name: 'A', parentId: 1 },
      ],
      'rows[2].name',
    ],
    [
      'a forbidden character',
      [
        { departmentId: 1, name: 'Root' },
        { departmentId: 5, name: 'A?', parentId: 1 },
      ],
      'rows[1].name',
    ],
    [
      'a cycle',
      [
        { departmentId: 1, name: 'Root' },
        { departmentId: 5, name: 'A', parentId: 6 },
        { departmentId: 6, name: 'B', parentId: 5 },
      ],
      'rows[1].parentId',
    ],
  ] as const)('refuses rows with %s before calling WeCom', async ([_what, rows, field], { service }) => {
    const res = await service.query(IMPORT_DEPARTMENTS, { rows });
    expect(res.data!.importDepartments).toMatchObject({ __typename: 'ValidationError', field, errcode: null });
    expect((await service.wecom.stats()).total).toBe(0);
  });

  it('refuses a department file without the 父部门ID column', async ({ service }) => {
    const res = await upload(service, IMPORT_DEPARTMENTS, {}, csv('部门名称,部门ID\n总部,1\n'));
    expect(res.data!.importDepartments).toMatchObject({ __typename: 'ValidationError', field: 'file' });
    expect((await service.wecom.stats()).total).toBe(0);
  });
});

describe('import progress', () => {
  it('streams the progress of 1,000 generated members over SSE until FINISHED; the directory then shows them', async ({ service }) => {
    const before = await service.query('{ department(id: 3) { memberCount } }');
    const rows = Array.from({ length: 1000 }, (_, i) => ({
      userid: `gen.${String(i).padStart(4, '0')}`,
      name: `生成成员${i}`,
      departmentIds: [3],
      email: `gen.${i}@bulk.example.com`,
      position: i % 2 ? '工程师' : '设计师',
    }));
    const res = await service.query(IMPORT_USERS, { mode: 'SYNC', rows, toInvite: false });
    expect(res.data!.importUsers).toMatchObject({ __typename: 'MutationImportUsersSuccess', data: { total: 1000 } });
    const id = res.data!.importUsers.data.id as string;

    // A second import while this one runs: WeCom runs one at a time (302008).
    const concurrent = await service.query(IMPORT_USERS, {
      mode: 'SYNC',
      rows: [{ userid: 'later.one', name: 'L', departmentIds: [2], email: 'later.one@example.com' }],
    });
    expect(concurrent.data!.importUsers).toMatchObject({ __typename: 'ConflictError', errcode: 302008 });

    const stream = await subscribeOverSse(
      service,
      'subscription($id: ID!) { importJob(id: $id) { id status percentage total succeeded failed } }',
      { id },
    );
    expect(stream.status).toBe(200);
    expect(stream.contentType).toMatch(/^text\/event-stream/);
    expect(stream.events.at(-1)!.event).toBe('complete');
    const states = stream.events.filter((e) => e.event === 'next').map((e) => e.data.data.importJob);
    expect(states.length).toBeGreaterThanOrEqual(2);
    const rank = { PENDING: 0, RUNNING: 1, FINISHED: 2 } as Record<string, number>;
    for (let i = 1; i < states.length; i++) {
      expect(states[i].percentage).toBeGreaterThanOrEqual(states[i - 1].percentage);
      expect(rank[states[i].status]).toBeGreaterThanOrEqual(rank[states[i - 1].status]!);
    }
    expect(states.some((s) => s.status !== 'FINISHED')).toBe(true);
    expect(states.at(-1)).toEqual({ id, status: 'FINISHED', percentage: 100, total: 1000, succeeded: 1000, failed: 0 });

    const after = await service.query(
      '{ department(id: 3) { memberCount members(first: 500) { totalCount } } users(userids: ["gen.0000", "gen.0999"]) { userid name position } }',
    );
    expect(after.data!.department.memberCount).toBe(before.data!.department.memberCount + 1000);
    expect(after.data!.users).toEqual([
      { userid: 'gen.0000', name: '生成成员0', position: '设计师' },
      { userid: 'gen.0999', name: '生成成员999', position: '工程师' },
    ]);
    expect((await wecomUsers(service)).filter((u) => u.userid.startsWith('gen.'))).toHaveLength(1000);
  });

  it('answers importJob(id) with null for a job WeCom does not know, and the subscription with an error', async ({ service }) => {
    const res = await service.query('{ importJob(id: "NoSuchJob") { id } }');
    expect(res).toEqual({ data: { importJob: null } });
    const stream = await subscribeOverSse(service, 'subscription { importJob(id: "NoSuchJob") { id } }', {});
    const next = stream.events.find((e) => e.event === 'next');
    expect(next!.data.errors[0].message).toBe('Import job NoSuchJob is unknown to WeCom');
  });

  it('polls at once when notified of the batch_job_result (jobs.notify), however long the backoff', async () => {
    const slow = await ServiceHarness.start({ jobs: { initialPollMs: 60_000, maxPollMs: 60_000 } });
    try {
      const res = await slow.query(IMPORT_USERS, {
        mode: 'SYNC',
        rows: [{ userid: 'notified', name: 'N', departmentIds: [2], email: 'notified@example.com' }],
      });
      const id = res.data!.importUsers.data.id as string;
      // Wait for WeCom to finish the job (the admin console may read any job), then tell the tracker.
      for (let i = 0; i < 100 && (await slow.wecom.console('batch/getresult', { jobid: id })).json.status !== 3; i++) await sleep(20);
      const watch = await slow.app.jobs.watchImport(id);
      expect(slow.app.jobs.notify(id)).toBe(true);
      expect(slow.app.jobs.notify('unknown-job')).toBe(false);
      let last: { status: number } | undefined;
      const started = Date.now();
      for await (const state of watch!) last = state;
      expect(last!.status).toBe(3);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect((await slow.wecom.stats()).calls['/cgi-bin/batch/getresult']).toBe(1);
    } finally {
      await slow.close();
    }
  });
});
