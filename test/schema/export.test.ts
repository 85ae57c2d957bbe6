import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import { ServiceHarness } from '../helpers/service.ts';
import { serviceTest } from '../testkit/service.ts';
import type { Wire } from '../testkit/wire.ts';
import { ERROR_FIELDS, subscribeOverSse } from '../helpers/mutations.ts';

const it = serviceTest({ jobs: { initialPollMs: 20, maxPollMs: 100 } });

const START = `mutation($kind: ExportKind!, $tagId: Int, $blockSize: Int) {
  startExport(kind: $kind, tagId: $tagId, blockSize: $blockSize) {
    __typename ...ErrorFields ... on MutationStartExportSuccess { data { id kind tagId status } }
  }
} ${ERROR_FIELDS}`;

const RECORD_FIELDS = `
  __typename
  ... on ExportedUser { userid name departmentIds orders isLeaderInDept mainDepartmentId directLeaderUserids gender status position mobile email alias telephone }
  ... on ExportedDepartment { departmentId name nameEn parentId order }
  ... on ExportedTagUser { userid name }
  ... on ExportedTagDepartment { departmentId }`;

async function start(service: ServiceHarness, vars: Record<string, unknown>): Promise<string> {
  const res = await service.query(START, vars);
  expect(res.errors).toBeUndefined();
  expect(res.data!.startExport.__typename).toBe('MutationStartExportSuccess');
  return res.data!.startExport.data.id;
}

/** Waits for the export through Query.exportJob, then pages through every record. */
async function records(service: ServiceHarness, id: string, pageSize = 500): Promise<{ job: Wire; nodes: Wire[] }> {
  let job: Wire | undefined;
  for (let i = 0; i < 400; i++) {
    job = (
      await service.query(`query($id: ID!) { exportJob(id: $id) { id kind status fileCount tagName records(first: 1) { totalCount } } }`, {
        id,
      })
    ).data!.exportJob;
    if (job!.status === 'FINISHED' || job!.status === 'FAILED') break;
    await sleep(25);
  }
  expect(job!.status).toBe('FINISHED');
  const nodes: Wire[] = [];
  let after: string | null = null;
  for (;;) {
    const res = await service.query(
      `query($id: ID!, $after: String) { exportJob(id: $id) { records(first: ${pageSize}, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { ${RECORD_FIELDS} } } } }`,
      { id, after },
    );
    expect(res.errors).toBeUndefined();
    const page = res.data!.exportJob.records;
    nodes.push(...page.nodes);
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  expect(nodes).toHaveLength(job!.records.totalCount);
  return { job: job!, nodes };
}

async function wecomUsers(service: ServiceHarness): Promise<Wire[]> {
  return (await service.wecom.console('user/list', { department_id: 1, fetch_child: 1 })).json.userlist;
}

const byUserid = (a: Wire, b: Wire) => (a.userid < b.userid ? -1 : a.userid > b.userid ? 1 : 0);
const GENDER: Record<string, string> = { '0': 'UNSPECIFIED', '1': 'MALE', '2': 'FEMALE' };
const STATUS: Record<number, string> = { 1: 'ACTIVE', 2: 'DISABLED', 4: 'NOT_ACTIVATED', 5: 'LEFT' };

describe('startExport', () => {
  it('exports the members (USERS): downloaded, verified, decrypted, equal to WeCom’s state', async ({ service }) => {
    const id = await start(service, { kind: 'USERS' });
    const { job, nodes } = await records(service, id, 150);
    expect(job).toMatchObject({ kind: 'USERS', fileCount: 1 });
    const expected = (await wecomUsers(service)).map((u) => ({
      __typename: 'ExportedUser',
      userid: u.userid,
      name: u.name,
      departmentIds: u.department,
    }));
    const got = nodes.map((n) => ({ __typename: n.__typename, userid: n.userid, name: n.name, departmentIds: n.departmentIds }));
    expect(got.sort(byUserid)).toEqual(expected.sort(byUserid));
    const calls = await service.calls();
    expect(calls['/cgi-bin/export/simple_user']).toBe(1);
    expect(calls['/cgi-bin/export/get_result']).toBeGreaterThanOrEqual(1);
  });

  it('exports member details (USER_DETAILS) equal to user/list', async ({ service }) => {
    const id = await start(service, { kind: 'USER_DETAILS' });
    const { nodes } = await records(service, id);
    const expected = (await wecomUsers(service)).map((u) => ({
      __typename: 'ExportedUser',
      userid: u.userid,
      name: u.name,
      departmentIds: u.department,
      orders: u.order,
      isLeaderInDept: u.is_leader_in_dept.map((f: number) => f === 1),
      mainDepartmentId: u.main_department,
      directLeaderUserids: u.direct_leader,
      gender: GENDER[u.gender],
      status: STATUS[u.status],
      position: u.position || null,
      mobile: u.mobile || null,
      email: u.email || null,
      alias: u.alias || null,
      telephone: u.telephone || null,
    }));
    expect(nodes.sort(byUserid)).toEqual(expected.sort(byUserid));
  });

  it('exports the departments equal to department/list', async ({ service }) => {
    const id = await start(service, { kind: 'DEPARTMENTS' });
    const { nodes } = await records(service, id);
    const depts = (await service.wecom.console('department/list')).json.department as Wire[];
    expect(nodes).toEqual(
      depts.map((d) => ({
        __typename: 'ExportedDepartment',
        departmentId: d.id,
        name: d.name,
        nameEn: d.name_en || null,
        parentId: d.parentid,
        order: d.order,
      })),
    );
  });

  it('exports one tag’s members and departments (TAG_MEMBERS) equal to tag/get', async ({ service }) => {
    const tag = (await service.wecom.console('tag/get', { tagid: 1 })).json;
    const id = await start(service, { kind: 'TAG_MEMBERS', tagId: 1 });
    const { job, nodes } = await records(service, id);
    expect(job.tagName).toBe(tag.tagname);
    expect(nodes).toEqual([
      ...tag.userlist.map((u: Wire) => ({ __typename: 'ExportedTagUser', userid: u.userid, name: u.name })),
      ...tag.partylist.map((d: number) => ({ __typename: 'ExportedTagDepartment', departmentId: d })),
    ]);
  });

  it('streams the export job over SSE until FINISHED, with its records', async ({ service }) => {
    const id = await start(service, { kind: 'DEPARTMENTS' });
    const stream = await subscribeOverSse(
      service,
      'subscription($id: ID!) { exportJob(id: $id) { id status fileCount records(first: 3) { totalCount } } }',
      { id },
    );
    const states = stream.events.filter((e) => e.event === 'next').map((e) => e.data.data.exportJob);
    expect(stream.events.at(-1)!.event).toBe('complete');
    const depts = (await service.wecom.console('department/list')).json.department as Wire[];
    expect(states.at(-1)).toEqual({ id, status: 'FINISHED', fileCount: 1, records: { totalCount: depts.length } });
    for (const s of states.slice(0, -1)) expect(s.records).toBeNull();
  });

  it.for([
    ['TAG_MEMBERS without tagId', { kind: 'TAG_MEMBERS' }, 'tagId'],
    ['USERS with a tagId', { kind: 'USERS', tagId: 1 }, 'tagId'],
    ['a block size under 10000', { kind: 'USERS', blockSize: 9999 }, 'blockSize'],
    ['a block size over 1000000', { kind: 'USERS', blockSize: 1_000_001 }, 'blockSize'],
  ] as const)('refuses %s before calling WeCom', async ([_what, vars, field], { service }) => {
    const res = await service.query(START, vars);
    expect(res.data!.startExport).toMatchObject({ __typename: 'ValidationError', field, errcode: null });
    expect((await service.wecom.stats()).total).toBe(0);
  });

  it('gives NotFoundError for an unknown tag (40068); exportJob is null for jobs it did not start', async ({ service }) => {
    const res = await service.query(START, { kind: 'TAG_MEMBERS', tagId: 98765 });
    expect(res.data!.startExport).toMatchObject({ __typename: 'NotFoundError', errcode: 40068 });
    expect(await service.query('{ exportJob(id: "not-ours") { id } }')).toEqual({ data: { exportJob: null } });
  });
});

describe('a large export', () => {
  it('downloads every file of a 50,000-member export in blocks of 10,000', async () => {
    const large = await ServiceHarness.start({ emulator: { size: 'large' }, jobs: { initialPollMs: 50, maxPollMs: 200 } });
    try {
      const res = await large.query(START, { kind: 'USERS', blockSize: 10_000 });
      const id = res.data!.startExport.data.id;
      let job: Wire | undefined;
      for (let i = 0; i < 600 && job?.status !== 'FINISHED'; i++) {
        await sleep(50);
        job = (
          await large.query(
            `query($id: ID!) { exportJob(id: $id) { status fileCount records(first: 2) { totalCount nodes { ... on ExportedUser { userid } } } } }`,
            { id },
          )
        ).data!.exportJob;
      }
      const total = large.wecom.emulator.store.users.size;
      expect(total).toBeGreaterThan(50_000);
      expect(job).toMatchObject({ status: 'FINISHED', fileCount: Math.ceil(total / 10_000), records: { totalCount: total } });
      const last = (
        await large.query(`query($id: ID!) { exportJob(id: $id) { records(last: 1) { nodes { ... on ExportedUser { userid } } } } }`, {
          id,
        })
      ).data!.exportJob.records.nodes[0].userid;
      expect((await large.wecom.console('user/get', { userid: last })).json.errcode).toBe(0);
    } finally {
      await large.close();
    }
  }, 60_000);
});
