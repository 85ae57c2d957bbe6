import { describe, expect } from 'vitest';
import type { EmulatorHarness, Wire } from '../src/testing.ts';
import { emulatorTest } from './fixtures.ts';
import { CallbackReceiver } from './callback-receiver.ts';
import type { User } from '../src/model.ts';

const it = emulatorTest();

// ── helpers ─────────────────────────────────────────────────────────────────

const MEMBER_HEADER = [
  '姓名',
  '帐号',
  '手机号',
  '邮箱',
  '所在部门',
  '职位',
  '性别',
  '是否部门内领导',
  '排序',
  '别名',
  '地址',
  '座机',
  '禁用',
];
const PARTY_HEADER = ['部门名称', '部门ID', '父部门ID', '排序'];

const quote = (cell: string) => (/[",\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell);
const csv = (header: string[], rows: (string | number)[][]) =>
  `${[header, ...rows].map((r) => r.map((c) => quote(String(c))).join(',')).join('\n')}\n`;

async function upload(wecom: EmulatorHarness, content: string | Buffer): Promise<string> {
  const form = new FormData();
  form.append('media', new Blob([new Uint8Array(typeof content === 'string' ? Buffer.from(content, 'utf8') : content)]), 'import.csv');
  const res = await wecom.asContact('media/upload', { query: { type: 'file' }, body: form });
  expect(res.json.errcode).toBe(0);
  return res.json.media_id;
}

const submit = async (
  wecom: EmulatorHarness,
  endpoint: 'syncuser' | 'replaceuser' | 'replaceparty',
  content: string | Buffer,
  extra: Wire = {},
) => (await wecom.asContact(`batch/${endpoint}`, { body: { media_id: await upload(wecom, content), ...extra } })).json;

/** Polls batch/getresult until the job finishes; returns every answer seen. */
async function waitForJob(wecom: EmulatorHarness, jobid: string): Promise<{ polls: Wire[]; final: Wire }> {
  const polls: Wire[] = [];
  for (let i = 0; i < 5000; i++) {
    const res = (await wecom.asContact('batch/getresult', { query: { jobid } })).json;
    expect(res.errcode).toBe(0);
    polls.push(res);
    if (res.status === 3) return { polls, final: res };
  }
  throw new Error(`job ${jobid} did not finish`);
}

/** Submits, expects acceptance, waits for the end. */
async function runJob(
  wecom: EmulatorHarness,
  endpoint: 'syncuser' | 'replaceuser' | 'replaceparty',
  content: string | Buffer,
  extra: Wire = {},
): Promise<Wire> {
  const accepted = await submit(wecom, endpoint, content, extra);
  expect(accepted).toMatchObject({ errcode: 0, errmsg: 'ok' });
  expect(accepted.jobid).toMatch(/^[A-Za-z0-9]{1,64}$/);
  return (await waitForJob(wecom, accepted.jobid)).final;
}

const allUsers = async (wecom: EmulatorHarness): Promise<Wire[]> =>
  (await wecom.console('user/list', { department_id: 1, fetch_child: 1 })).json.userlist;
const allDepartments = async (wecom: EmulatorHarness): Promise<Wire[]> => (await wecom.console('department/list')).json.department;
const getUser = async (wecom: EmulatorHarness, userid: string): Promise<Wire> => (await wecom.console('user/get', { userid })).json;
const getDepartment = async (wecom: EmulatorHarness, id: number): Promise<Wire> => (await wecom.console('department/get', { id })).json;
const snapshot = async (wecom: EmulatorHarness) => ({ users: await allUsers(wecom), departments: await allDepartments(wecom) });
const byName = (departments: Wire[], name: string): Wire => {
  const found = departments.find((d) => d.name === name);
  if (!found) throw new Error(`no department ${name}`);
  return found;
};
/** The corp creator is a seed fact no API exposes (read only). */
const creatorId = (wecom: EmulatorHarness) => [...wecom.emulator.store.users.values()].find((u: User) => u.is_creator)!.userid;

/** The department file of the current tree, every row unchanged (empty 排序: keep the order). */
const treeRows = (departments: Wire[]) => departments.map((d) => [d.name, d.id, d.parentid, ''] as (string | number)[]);

/** A member row of the full template for an existing member, as the directory holds it. */
const memberRow = (u: Wire) => [
  u.name,
  u.userid,
  u.mobile,
  u.email,
  u.department.join(';'),
  u.position,
  u.gender === '2' ? '女' : '男',
  u.is_leader_in_dept.join(';'),
  u.order.join(';'),
  u.alias,
  u.address,
  u.telephone,
  u.status === 2 ? 1 : 0,
];

/** The UTF-8 header `部门名称,部门ID…` written in GBK, as Excel saves it by default. */
const GBK_PARTY_HEADER = Buffer.from([
  0xb2, 0xbf, 0xc3, 0xc5, 0xc3, 0xfb, 0xb3, 0xc6, 0x2c, 0x49, 0x44, 0x0a, 0xd1, 0xd0, 0x2c, 0x32, 0x0a,
]);

// ── batch/replaceparty ──────────────────────────────────────────────────────

describe('batch/replaceparty', () => {
  it('modifies, creates and deletes departments and reports each record with its action bits', async ({ wecom }) => {
    const e1 = (await wecom.console('department/create', { name: '空部门', parentid: 1 })).json.id;
    const e2 = (await wecom.console('department/create', { name: '空子部门', parentid: e1 })).json.id;
    const tree = await allDepartments(wecom);
    const rows = treeRows(tree.filter((d) => d.id !== e1 && d.id !== e2));
    const set = (name: string, update: (row: (string | number)[]) => void) => update(rows.find((r) => r[0] === name)!);
    const ids = Object.fromEntries(['存储小组', '前端组', '招聘组', '品牌组', '财务部', '平台部'].map((n) => [n, byName(tree, n).id]));
    set('存储小组', (r) => (r[0] = '存储与备份组'));
    set('前端组', (r) => (r[2] = ids['平台部']!));
    set('招聘组', (r) => (r[3] = 77));
    set('品牌组', (r) => ((r[0] = '品牌公关组'), (r[3] = 4294967295)));
    set('财务部', (r) => (r[0] = '财务:部'));
    rows.push(['新事业部', 9001, 1, 5], ['新事业部一组', 9002, 9001, '']);

    const final = await runJob(wecom, 'replaceparty', csv(PARTY_HEADER, rows));
    expect(final).toMatchObject({ errcode: 0, errmsg: 'ok', status: 3, type: 'replace_party', total: rows.length, percentage: 100 });
    expect(final.result).toHaveLength(rows.length);
    const result = new Map<number, Wire>(final.result.map((r: Wire) => [r.partyid, r]));
    expect(new Set(result.keys())).toEqual(new Set(rows.map((r) => r[1])));
    expect(result.get(ids['存储小组']!)).toEqual({ action: 2, partyid: ids['存储小组'], errcode: 0, errmsg: 'ok' });
    expect(result.get(ids['前端组']!)).toEqual({ action: 4, partyid: ids['前端组'], errcode: 0, errmsg: 'ok' });
    expect(result.get(ids['招聘组']!)).toEqual({ action: 8, partyid: ids['招聘组'], errcode: 0, errmsg: 'ok' });
    expect(result.get(ids['品牌组']!)).toEqual({ action: 10, partyid: ids['品牌组'], errcode: 0, errmsg: 'ok' });
    expect(result.get(9001)).toEqual({ action: 1, partyid: 9001, errcode: 0, errmsg: 'ok' });
    expect(result.get(9002)).toEqual({ action: 1, partyid: 9002, errcode: 0, errmsg: 'ok' });
    expect(result.get(ids['财务部']!)).toMatchObject({ action: 2, errcode: 60009 });
    for (const row of rows) {
      const r = result.get(row[1] as number)!;
      if (![ids['存储小组'], ids['前端组'], ids['招聘组'], ids['品牌组'], 9001, 9002, ids['财务部']].includes(r.partyid)) {
        expect(r).toEqual({ action: 0, partyid: r.partyid, errcode: 0, errmsg: 'ok' });
      }
    }

    // The directory afterwards matches every accepted record; the refused one is unchanged.
    const after = new Map((await allDepartments(wecom)).map((d) => [d.id, d]));
    const before = new Map(tree.map((d) => [d.id, d]));
    for (const [name, id, parentid, order] of rows) {
      const dept = after.get(id as number)!;
      if (id === ids['财务部']) {
        expect(dept).toEqual(before.get(id));
        continue;
      }
      expect(dept).toMatchObject({ name, parentid, order: order === '' ? (before.get(id as number)?.order ?? 0) : order });
    }
    expect((await getDepartment(wecom, e1)).errcode).toBe(60003);
    expect((await getDepartment(wecom, e2)).errcode).toBe(60003);
    expect(after.size).toBe(rows.length);
  });

  it('keeps a department that still has members, and deletes it once a member import has emptied it', async ({ wecom }) => {
    const tree = await allDepartments(wecom);
    const leaf = byName(tree, '性能测试组');
    const members: Wire[] = (await wecom.console('user/list', { department_id: leaf.id })).json.userlist;
    expect(members.length).toBeGreaterThan(0);
    const final = await runJob(wecom, 'replaceparty', csv(PARTY_HEADER, treeRows(tree.filter((d) => d.id !== leaf.id))));
    expect(final.result.some((r: Wire) => r.partyid === leaf.id)).toBe(false);
    expect((await getDepartment(wecom, leaf.id)).department).toEqual(leaf);

    // Move the members elsewhere with an incremental import: the postponed deletion happens then.
    const moved = members.map((u) => {
      const rest = u.department.filter((d: number) => d !== leaf.id);
      return [u.name, u.userid, u.email, (rest.length ? rest : [2]).join(';')];
    });
    const sync = await runJob(wecom, 'syncuser', csv(['姓名', '帐号', '邮箱', '所在部门'], moved));
    expect(sync.result.every((r: Wire) => r.errcode === 0)).toBe(true);
    expect((await getDepartment(wecom, leaf.id)).errcode).toBe(60003);
  });

  it.for([
    ['a file in GBK instead of UTF-8', 40092, GBK_PARTY_HEADER],
    ['a file with only blank lines', 40092, '\n\n\n\n\n\n'],
    ['a header without records', 40092, `${PARTY_HEADER.join(',')}\n`],
    ['a file without the 父部门ID column', 40092, csv(['部门名称', '部门ID', '排序'], [['A', 900, '']])],
    ['a non-numeric department id', 40092, csv(PARTY_HEADER, [['A', 'abc', 1, '']])],
    ['an empty department name', 302004, csv(PARTY_HEADER, [['', 900, 1, '']])],
    ['an empty department id', 302004, csv(PARTY_HEADER, [['A', '', 1, '']])],
    ['a parent that is not in the file', 302004, csv(PARTY_HEADER, [['A', 900, 777, '']])],
    [
      'a cycle',
      302004,
      csv(PARTY_HEADER, [
        ['A', 900, 901, ''],
        ['B', 901, 900, ''],
      ]),
    ],
    ['a root department with a parent', 302004, csv(PARTY_HEADER, [['根', 1, 5, '']])],
    [
      'a department id twice',
      302006,
      csv(PARTY_HEADER, [
        ['A', 900, 1, ''],
        ['B', 900, 1, ''],
      ]),
    ],
    [
      'two siblings with the same name',
      302007,
      csv(PARTY_HEADER, [
        ['A', 900, 1, ''],
        ['A', 901, 1, ''],
      ]),
    ],
  ] as const)('refuses %s with %i and changes nothing', async ([_what, errcode, content], { wecom }) => {
    const before = await snapshot(wecom);
    const res = await submit(wecom, 'replaceparty', content);
    expect(res.errcode).toBe(errcode);
    expect(res.jobid).toBeUndefined();
    expect(await snapshot(wecom)).toEqual(before);
    // No job was started: another import is accepted at once.
    expect((await submit(wecom, 'replaceparty', csv(PARTY_HEADER, treeRows(before.departments)))).errcode).toBe(0);
  });
});

// ── batch/syncuser ──────────────────────────────────────────────────────────

describe('batch/syncuser', () => {
  it('creates new members, updates only the given columns of existing ones, and reports each record', async ({ wecom }) => {
    const before = await allUsers(wecom);
    const [u1, u2] = before.filter((u) => !u.alias && u.position);
    const header = ['姓名', '帐号', '邮箱', '所在部门', '职位', '性别', '是否部门内领导', '排序'];
    const rows = [
      ['新同事', 'imp_new1', 'imp_new1@example.org', '2;3', '架构师', '男', '1;0', '10;20'],
      ['改过的名字', u1!.userid, u1!.email, u1!.department.join(';'), '', '女', '', ''],
      ['坏邮箱', 'imp_bad_email', 'bad@', '2', '', '', '', ''],
      ['撞邮箱', 'imp_dup_email', u2!.email, '2', '', '', '', ''],
      ['新部门的人', 'imp_new_dept', 'imp_new_dept@example.org', '8888', '', '', '', ''],
      ['坏帐号', '-bad', 'bad_userid@example.org', '2', '', '', '', ''],
    ];
    const final = await runJob(wecom, 'syncuser', csv(header, rows));
    expect(final).toMatchObject({ status: 3, type: 'sync_user', total: 6, percentage: 100 });
    expect(final.result.map((r: Wire) => [r.userid, r.errcode])).toEqual([
      ['imp_new1', 0],
      [u1!.userid, 0],
      ['imp_bad_email', 60105],
      ['imp_dup_email', 60106],
      ['imp_new_dept', 0],
      ['-bad', 40003],
    ]);
    for (const r of final.result) expect(r.errmsg).toEqual(r.errcode === 0 ? 'ok' : expect.stringMatching(/\S/));

    expect(await getUser(wecom, 'imp_new1')).toMatchObject({
      errcode: 0,
      name: '新同事',
      email: 'imp_new1@example.org',
      department: [2, 3],
      order: [10, 20],
      is_leader_in_dept: [1, 0],
      position: '架构师',
      gender: '1',
      mobile: '',
    });
    // Only the non-empty cells changed; the columns the file lacks (mobile, alias, …) are untouched.
    const listed = await allUsers(wecom);
    expect(listed.find((u) => u.userid === u1!.userid)).toEqual({ ...u1, name: '改过的名字', gender: '2' });
    for (const id of ['imp_bad_email', 'imp_dup_email']) expect((await getUser(wecom, id)).errcode).toBe(60111);

    // Department 8888 did not exist: it was created under "其他（待设置部门）" below the root.
    const departments = await allDepartments(wecom);
    const holder = byName(departments, '其他（待设置部门）');
    expect(holder.parentid).toBe(1);
    expect(departments.find((d) => d.id === 8888)).toMatchObject({ name: '8888', parentid: holder.id });
    expect((await getUser(wecom, 'imp_new_dept')).department).toEqual([8888]);

    // Members not in the file are untouched.
    const touched = new Set([u1!.userid]);
    const after = new Map(listed.map((u) => [u.userid, u]));
    for (const u of before) if (!touched.has(u.userid)) expect(after.get(u.userid)).toEqual(u);
    expect(after.size).toBe(before.length + 2);
    expect(after.has('-bad')).toBe(false);
  });

  it('leaves no department behind for a record that fails', async ({ wecom }) => {
    const before = await snapshot(wecom);
    const final = await runJob(wecom, 'syncuser', csv(['姓名', '帐号', '邮箱', '所在部门'], [['甲', 'imp_a', 'bad@', '7777']]));
    expect(final.result).toEqual([{ userid: 'imp_a', errcode: 60105, errmsg: expect.any(String) }]);
    expect(await snapshot(wecom)).toEqual(before);
  });

  it('reads quoted cells, CRLF, a BOM, columns in any order, and ignores unknown columns', async ({ wecom }) => {
    const text =
      '\ufeff禁用,所在部门,帐号,微信号,姓名,手机号,职位,禁用项说明：(0-启用;1-禁用)\r\n' +
      '1,"2;3",imp_quoted,wx_1,"张, 三",13912340000,"Lead, ""Core"" team",备注\r\n';
    const final = await runJob(wecom, 'syncuser', text);
    expect(final.result).toEqual([{ userid: 'imp_quoted', errcode: 0, errmsg: 'ok' }]);
    expect(await getUser(wecom, 'imp_quoted')).toMatchObject({
      name: '张, 三',
      department: [2, 3],
      mobile: '13912340000',
      position: 'Lead, "Core" team',
      status: 2,
    });
  });

  it("reports a bad cell as that record's error (60123, 40058, 60132) and applies the others", async ({ wecom }) => {
    const header = ['姓名', '帐号', '邮箱', '所在部门', '性别', '是否部门内领导'];
    const final = await runJob(
      wecom,
      'syncuser',
      csv(header, [
        ['甲', 'imp_1', 'imp_1@example.org', '2;x', '', ''],
        ['乙', 'imp_2', 'imp_2@example.org', '2', '未知', ''],
        ['丙', 'imp_3', 'imp_3@example.org', '2;3', '', '1'],
        ['丁', 'imp_4', 'imp_4@example.org', '2', '2', '0'],
      ]),
    );
    expect(final.result.map((r: Wire) => r.errcode)).toEqual([60123, 40058, 60132, 0]);
    expect((await getUser(wecom, 'imp_4')).gender).toBe('2');
    for (const id of ['imp_1', 'imp_2', 'imp_3']) expect((await getUser(wecom, id)).errcode).toBe(60111);
  });

  it('shows progress: status 2 with a percentage between 0 and 100 while a 1,000-row file runs', async ({ wecom }) => {
    const rows = Array.from({ length: 1000 }, (_, i) => [
      `成员${i}`,
      `bulk${i}`,
      `139${String(i).padStart(8, '0')}`,
      '',
      '2',
      '',
      '',
      '',
      '',
      '',
      '',
      '',
      '0',
    ]);
    const accepted = await submit(wecom, 'syncuser', csv(MEMBER_HEADER, rows));
    expect(accepted.errcode).toBe(0);
    const { polls, final } = await waitForJob(wecom, accepted.jobid);
    expect(polls.some((p) => p.status === 2 && p.percentage > 0 && p.percentage < 100)).toBe(true);
    for (let i = 1; i < polls.length; i++) {
      expect(polls[i]!.status).toBeGreaterThanOrEqual(polls[i - 1]!.status);
      expect(polls[i]!.percentage).toBeGreaterThanOrEqual(polls[i - 1]!.percentage);
    }
    for (const p of polls.slice(0, -1)) {
      expect([1, 2]).toContain(p.status);
      expect(p.result).toBeUndefined();
      expect(p).toMatchObject({ type: 'sync_user', total: 1000 });
    }
    expect(final).toMatchObject({ status: 3, percentage: 100, total: 1000 });
    expect(final.result).toHaveLength(1000);
    const users = new Map((await allUsers(wecom)).map((u) => [u.userid, u]));
    final.result.forEach((r: Wire, i: number) => {
      expect(r).toEqual({ userid: `bulk${i}`, errcode: 0, errmsg: 'ok' });
      expect(users.get(`bulk${i}`)).toMatchObject({ name: `成员${i}`, mobile: `139${String(i).padStart(8, '0')}`, department: [2] });
    });
  });
});

// ── batch/replaceuser ───────────────────────────────────────────────────────

describe('batch/replaceuser', () => {
  it('deletes members missing from the file (never the creator) and lets the file win for its columns', async ({ wecom }) => {
    const before = await allUsers(wecom);
    const creator = creatorId(wecom);
    const others = before.filter((u) => u.userid !== creator);
    const dropped = others.slice(0, 10).map((u) => u.userid);
    const kept = others.slice(10);
    const cleared = kept.find((u) => u.position && u.telephone)!;
    const header = ['姓名', '帐号', '手机号', '邮箱', '所在部门', '职位', '座机'];
    const rows = kept.map((u) => [u.name, u.userid, u.mobile, u.email, u.department.join(';'), u.position, u.telephone]);
    const at = kept.indexOf(cleared);
    rows[at]![5] = '';
    rows[at]![6] = '';
    const final = await runJob(wecom, 'replaceuser', csv(header, rows));
    expect(final).toMatchObject({ status: 3, type: 'replace_user', total: kept.length, percentage: 100 });
    expect(final.result.map((r: Wire) => r.userid)).toEqual(kept.map((u) => u.userid));
    expect(final.result.every((r: Wire) => r.errcode === 0 && r.errmsg === 'ok')).toBe(true);

    for (const id of dropped) expect((await getUser(wecom, id)).errcode).toBe(60111);
    expect((await getUser(wecom, creator)).errcode).toBe(0);
    // An empty cell of a column in the file clears the field.
    expect(await getUser(wecom, cleared.userid)).toMatchObject({ position: '', telephone: '' });
    const after = new Map((await allUsers(wecom)).map((u) => [u.userid, u]));
    expect(after.size).toBe(before.length - dropped.length);
    // Everyone else is as before, except that deleted members are no longer anyone's direct leader.
    for (const u of kept) {
      if (u === cleared) continue;
      expect(after.get(u.userid)).toEqual({ ...u, direct_leader: u.direct_leader.filter((l: string) => !dropped.includes(l)) });
    }
  });

  it('refuses deletions of more than 50 members that are more than 20% of them (45026), and allows exactly 20%', async ({ wecom }) => {
    const before = await snapshot(wecom);
    const creator = creatorId(wecom);
    const others = before.users.filter((u) => u.userid !== creator);
    expect(before.users.length).toBe(400);
    const fileWithout = (n: number) => csv(MEMBER_HEADER, others.slice(n).map(memberRow));
    const refused = await submit(wecom, 'replaceuser', fileWithout(81));
    expect(refused.errcode).toBe(45026);
    expect(await snapshot(wecom)).toEqual(before);

    const final = await runJob(wecom, 'replaceuser', fileWithout(80));
    expect(final.result.every((r: Wire) => r.errcode === 0)).toBe(true);
    expect((await allUsers(wecom)).length).toBe(320);
  });

  it('refuses deletions of fewer than 50 members that are more than 80% of them (45026), and allows exactly 80%', async ({ wecom }) => {
    const creator = creatorId(wecom);
    const doomed = (await allUsers(wecom))
      .filter((u) => u.userid !== creator)
      .slice(0, 360)
      .map((u) => u.userid);
    for (let i = 0; i < doomed.length; i += 200) {
      expect((await wecom.console('user/batchdelete', { useridlist: doomed.slice(i, i + 200) })).json.errcode).toBe(0);
    }
    const before = await snapshot(wecom);
    expect(before.users.length).toBe(40);
    const others = before.users.filter((u) => u.userid !== creator);
    // Keeping 7 of the 39 others deletes 32 of 40 members (80%): allowed; keeping 6 deletes 33 (82.5%).
    expect((await submit(wecom, 'replaceuser', csv(MEMBER_HEADER, others.slice(0, 6).map(memberRow)))).errcode).toBe(45026);
    expect(await snapshot(wecom)).toEqual(before);
    await runJob(wecom, 'replaceuser', csv(MEMBER_HEADER, others.slice(0, 7).map(memberRow)));
    expect((await allUsers(wecom)).map((u) => u.userid).sort()).toEqual([creator, ...others.slice(0, 7).map((u) => u.userid)].sort());
  });
});

// ── submission refusals ─────────────────────────────────────────────────────

describe('import submissions', () => {
  const goodFile = csv(['姓名', '帐号', '邮箱', '所在部门'], [['甲', 'imp_ok', 'imp_ok@example.org', '2']]);

  it.for([
    ['a file without the 帐号 column', 40092, csv(['姓名', '邮箱', '所在部门'], [['甲', 'a@example.org', '2']])],
    ['a file with neither 手机号 nor 邮箱', 40092, csv(['姓名', '帐号', '所在部门'], [['甲', 'imp_a', '2']])],
    ['a record without departments', 40092, csv(['姓名', '帐号', '邮箱', '所在部门'], [['甲', 'imp_a', 'a@example.org', '']])],
    ['a record without mobile and email', 40092, csv(['姓名', '帐号', '手机号', '邮箱', '所在部门'], [['甲', 'imp_a', '', '', '2']])],
    ['a record without a name', 40092, csv(['姓名', '帐号', '邮箱', '所在部门'], [['', 'imp_a', 'a@example.org', '2']])],
    ['a file in GBK', 40092, Buffer.concat([Buffer.from([0xd0, 0xd5, 0xc3, 0xfb]), Buffer.from(',userid\n')])],
    ['a header without records', 40092, `${MEMBER_HEADER.join(',')}\n`],
    [
      'a userid twice (userids ignore case)',
      302003,
      csv(
        ['姓名', '帐号', '邮箱', '所在部门'],
        [
          ['甲', 'Imp_Dup', 'a@example.org', '2'],
          ['乙', 'imp_dup', 'b@example.org', '2'],
        ],
      ),
    ],
  ] as const)('refuses %s with %i for both member imports and changes nothing', async ([_what, errcode, content], { wecom }) => {
    const before = await snapshot(wecom);
    expect((await submit(wecom, 'syncuser', content)).errcode).toBe(errcode);
    expect((await submit(wecom, 'replaceuser', content)).errcode).toBe(errcode);
    expect(await snapshot(wecom)).toEqual(before);
  });

  it('refuses a missing media_id (41006), an unknown or non-file one (40007), bad fields (40058) and app tokens (48002)', async ({
    wecom,
  }) => {
    const before = await snapshot(wecom);
    const file = await upload(wecom, goodFile);
    const form = new FormData();
    form.append('media', new Blob([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2])]), 'a.png');
    const image = (await wecom.asContact('media/upload', { query: { type: 'image' }, body: form })).json.media_id;
    const cases: [string, Wire, number][] = [
      ['syncuser', {}, 41006],
      ['replaceuser', { media_id: '' }, 41006],
      ['replaceparty', {}, 41006],
      ['syncuser', { media_id: 'no-such-media' }, 40007],
      ['replaceparty', { media_id: image }, 40007],
      ['syncuser', { media_id: file, to_invite: 'yes' }, 40058],
      ['syncuser', { media_id: file, callback: 'http://x' }, 40058],
      ['syncuser', { media_id: file, callback: { url: 'ftp://x', token: 't', encodingaeskey: 'a'.repeat(43) } }, 40058],
      ['syncuser', { media_id: file, callback: { url: 'http://127.0.0.1:9/x', token: 't', encodingaeskey: 'short' } }, 40058],
    ];
    for (const [endpoint, body, errcode] of cases) {
      expect([endpoint, (await wecom.asContact(`batch/${endpoint}`, { body })).json.errcode]).toEqual([endpoint, errcode]);
    }
    expect((await wecom.asApp('batch/syncuser', { body: { media_id: file } })).json.errcode).toBe(48002);
    expect(await snapshot(wecom)).toEqual(before);
  });

  it('runs one import at a time (302008)', async ({ wecom }) => {
    const rows = Array.from({ length: 1000 }, (_, i) => [`成员${i}`, `one${i}`, `one${i}@example.org`, '2']);
    const first = await submit(wecom, 'syncuser', csv(['姓名', '帐号', '邮箱', '所在部门'], rows));
    expect(first.errcode).toBe(0);
    expect((await submit(wecom, 'replaceparty', csv(PARTY_HEADER, treeRows(await allDepartments(wecom))))).errcode).toBe(302008);
    expect((await submit(wecom, 'syncuser', goodFile)).errcode).toBe(302008);
    await waitForJob(wecom, first.jobid);
    expect((await submit(wecom, 'syncuser', goodFile)).errcode).toBe(0);
  });

  it('keeps the results of the 5 most recent jobs (40089 for older ones) and knows no other job ids (40088)', async ({ wecom }) => {
    const file = csv(PARTY_HEADER, treeRows(await allDepartments(wecom)));
    const jobs: string[] = [];
    for (let i = 0; i < 6; i++) {
      const accepted = await submit(wecom, 'replaceparty', file);
      jobs.push(accepted.jobid);
      await waitForJob(wecom, accepted.jobid);
    }
    expect((await wecom.asContact('batch/getresult', { query: { jobid: jobs[0]! } })).json.errcode).toBe(40089);
    for (const jobid of jobs.slice(1)) {
      expect((await wecom.asContact('batch/getresult', { query: { jobid } })).json).toMatchObject({ errcode: 0, status: 3 });
    }
    expect(
      (await wecom.asContact('batch/getresult', { query: { jobid: 'S0MrnndvRG5fadSlLwiBqiDDbM143UqTmKP3152FZk4' } })).json.errcode,
    ).toBe(40088);
    expect((await wecom.asContact('batch/getresult')).json.errcode).toBe(40088);
    // Only the submitter may read a job: an app token does not see the contacts-sync secret's jobs.
    expect((await wecom.asApp('batch/getresult', { query: { jobid: jobs[5]! } })).json.errcode).toBe(40088);
  });
});

// ── callbacks ───────────────────────────────────────────────────────────────

describe('import callbacks', () => {
  it("posts batch_job_result to the job's own callback, encrypted with its token and key", async ({ wecom }) => {
    const key = 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C';
    const receiver = new CallbackReceiver('jobToken1', key, wecom.creds.corpId);
    await receiver.start();
    try {
      const accepted = await submit(
        wecom,
        'syncuser',
        csv(['姓名', '帐号', '邮箱', '所在部门'], [['甲', 'imp_cb', 'cb@example.org', '2']]),
        {
          callback: { url: receiver.url, token: 'jobToken1', encodingaeskey: key },
        },
      );
      expect(accepted.errcode).toBe(0);
      const [post] = await receiver.waitFor('POST', 1);
      const { outer, event } = receiver.open(post!);
      expect(outer.ToUserName).toBe(wecom.creds.corpId);
      expect(event).toEqual({
        ToUserName: wecom.creds.corpId,
        FromUserName: 'sys',
        CreateTime: expect.stringMatching(/^\d+$/),
        MsgType: 'event',
        Event: 'batch_job_result',
        BatchJob: { JobId: accepted.jobid, JobType: 'sync_user', ErrCode: '0', ErrMsg: 'ok' },
      });
      // The event is sent once the job has finished.
      expect((await wecom.asContact('batch/getresult', { query: { jobid: accepted.jobid } })).json.status).toBe(3);
      expect(receiver.posts()).toHaveLength(1);
    } finally {
      await receiver.close();
    }
  });

  it('reports to the contacts-sync callback when the job has none, and fires no change_contact events for the import', async ({
    wecom,
  }) => {
    const { token, encodingAESKey } = wecom.creds.callback;
    const receiver = new CallbackReceiver(token, encodingAESKey, wecom.creds.corpId);
    await receiver.start();
    try {
      expect((await wecom.admin('callback', 'POST', { url: receiver.url })).status).toBe(200);
      const sync = await submit(
        wecom,
        'syncuser',
        csv(['姓名', '帐号', '邮箱', '所在部门'], [['甲', 'imp_quiet', 'quiet@example.org', '2']]),
      );
      expect((await waitForJob(wecom, sync.jobid)).final.result[0].errcode).toBe(0);
      const party = await submit(
        wecom,
        'replaceparty',
        csv(PARTY_HEADER, [...treeRows(await allDepartments(wecom)), ['静默部门', 9100, 1, '']]),
      );
      await waitForJob(wecom, party.jobid);
      // A console change afterwards is delivered as change_contact: the callback works.
      expect((await wecom.console('user/update', { userid: 'imp_quiet', position: '经理' })).json.errcode).toBe(0);
      const events = (await receiver.waitFor('POST', 3)).map((post) => receiver.open(post).event);
      const jobs = events.filter((e) => e.Event === 'batch_job_result').map((e) => [e.BatchJob.JobId, e.BatchJob.JobType]);
      expect(jobs.sort()).toEqual(
        [
          [sync.jobid, 'sync_user'],
          [party.jobid, 'replace_party'],
        ].sort(),
      );
      const changes = events.filter((e) => e.Event === 'change_contact');
      expect(changes).toHaveLength(1);
      expect(changes[0]).toMatchObject({ ChangeType: 'update_user', UserID: 'imp_quiet' });
      await new Promise((r) => setTimeout(r, 100));
      expect(receiver.posts()).toHaveLength(3);
    } finally {
      await wecom.admin('callback', 'POST', { url: null });
      await receiver.close();
    }
  });
});
