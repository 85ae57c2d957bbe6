import { describe, expect } from 'vitest';
import type { EmulatorHarness } from '../src/testing.ts';
import { emulatorTest } from './fixtures.ts';
import { DIRECTORY_APP_AGENT_ID, SALES_APP_AGENT_ID } from '../src/seed.ts';
import { type LinkedCorp, type LinkedUser, seedLinkedCorp } from '../src/linked-corp.ts';

/**
 * The partner corp the emulator seeds, regenerated here from the same seed: the API answers are
 * compared with it (and the generator checked for determinism). Ids and visibility come from the
 * API itself (get_perm_list), never from the emulator's memory.
 */
const expected: LinkedCorp = seedLinkedCorp(1, { wholeCorp: DIRECTORY_APP_AGENT_ID, oneDepartment: SALES_APP_AGENT_ID });
const L = expected.linkedId;
const C = expected.corpId;

// The tests only read the partner corp (the last one resets): no reseed between them.
const it = emulatorTest({}, { reset: false });

const asDirectory = (wecom: EmulatorHarness, path: string, body: unknown) =>
  wecom.asApp(`linkedcorp/${path}`, { body }, DIRECTORY_APP_AGENT_ID);
const asSales = (wecom: EmulatorHarness, path: string, body: unknown) => wecom.asApp(`linkedcorp/${path}`, { body }, SALES_APP_AGENT_ID);

const users = [...expected.users.values()];
/** Expected members of the departments given in list order (department/list order: parents first), each once. */
function membersOf(deptIds: number[]): LinkedUser[] {
  const out: LinkedUser[] = [];
  for (const d of deptIds) for (const u of users) if (u.department.includes(d) && !out.includes(u)) out.push(u);
  return out;
}
const deptIdsOf = (u: LinkedUser, visible: Set<number>) => u.department.filter((d) => visible.has(d)).map((d) => `${L}/${d}`);
const detail = (u: LinkedUser, visible: Set<number>) => ({
  userid: u.userid,
  name: u.name,
  department: deptIdsOf(u, visible),
  mobile: u.mobile,
  telephone: u.telephone,
  email: u.email,
  position: u.position,
  corpid: C,
  extattr: {
    attrs: u.extattr.attrs.map((a) =>
      a.type === 0
        ? { name: a.name, value: a.text!.value, type: 0, text: { value: a.text!.value } }
        : { name: a.name, type: 1, web: a.web },
    ),
  },
});
const ALL = new Set([1, 2, 3, 4]);
const SALES = new Set([2, 4]);

describe('the seeded partner corp', () => {
  it('is deterministic and of the planned size', ({ wecom }) => {
    const again = seedLinkedCorp(1, { wholeCorp: DIRECTORY_APP_AGENT_ID, oneDepartment: SALES_APP_AGENT_ID });
    expect(JSON.stringify([...again.users.values()])).toBe(JSON.stringify(users));
    expect(again.linkedId).toBe(L);
    expect(expected.departments.size).toBe(4);
    expect(expected.users.size).toBe(15);
    expect(C).toMatch(/^ww[0-9a-f]{16}$/);
    expect(C).not.toBe(wecom.creds.corpId);
    // Another seed gives another partner.
    expect(seedLinkedCorp(2, { wholeCorp: 1, oneDepartment: 2 }).corpId).not.toBe(C);
    // One member sits in two departments (技术支持部 and 华南渠道组).
    expect(users.filter((u) => u.department.length === 2).map((u) => u.department)).toEqual([[3, 4]]);
  });
});

describe('linkedcorp/agent/get_perm_list', () => {
  it('gives the directory app the whole linked corp', async ({ wecom }) => {
    const res = await asDirectory(wecom, 'agent/get_perm_list', {});
    expect(res.json).toEqual({ errcode: 0, errmsg: 'ok', userids: [], department_ids: [`${L}/1`] });
  });

  it('gives the sales app one linked department', async ({ wecom }) => {
    const res = await asSales(wecom, 'agent/get_perm_list', {});
    expect(res.json).toEqual({ errcode: 0, errmsg: 'ok', userids: [], department_ids: [`${L}/2`] });
  });
});

describe('linkedcorp/department/list', () => {
  it('lists the whole tree with string ids and parentid and int order, larger order first', async ({ wecom }) => {
    const res = await asDirectory(wecom, 'department/list', { department_id: `${L}/1` });
    expect(res.json).toEqual({
      errcode: 0,
      errmsg: 'ok',
      department_list: [1, 2, 3, 4].map((id) => {
        const d = expected.departments.get(id)!;
        return { department_id: String(id), department_name: d.name, parentid: String(d.parentid), order: d.order };
      }),
    });
    expect(res.json.department_list[0]).toMatchObject({ department_id: '1', parentid: '0', order: 100000000 });
  });

  it('lists a subtree', async ({ wecom }) => {
    const res = await asDirectory(wecom, 'department/list', { department_id: `${L}/2` });
    expect(res.json.department_list.map((d: { department_id: string }) => d.department_id)).toEqual(['2', '4']);
  });

  it('lets the sales app list its department, and refuses the rest with 60011', async ({ wecom }) => {
    expect(
      (await asSales(wecom, 'department/list', { department_id: `${L}/2` })).json.department_list.map(
        (d: { department_id: string }) => d.department_id,
      ),
    ).toEqual(['2', '4']);
    expect((await asSales(wecom, 'department/list', { department_id: `${L}/4` })).json.department_list).toHaveLength(1);
    for (const id of [1, 3]) expect((await asSales(wecom, 'department/list', { department_id: `${L}/${id}` })).json.errcode).toBe(60011);
  });

  it.for([
    [{}, 40058],
    [{ department_id: 1 }, 40058],
    [{ department_id: '1' }, 40058],
    [{ department_id: `${L}/` }, 40058],
    [{ department_id: `/1` }, 40058],
    [{ department_id: `${L}/abc` }, 40058],
    [{ department_id: `${L}/1/2` }, 40058],
    [{ department_id: `${L}/99` }, 60011],
    [{ department_id: 'lkunknown/1' }, 60011],
  ])('refuses %j with %i', async ([body, errcode], { wecom }) => {
    const res = await asDirectory(wecom, 'department/list', body);
    expect(res.status).toBe(200);
    expect(res.json.errcode).toBe(errcode);
    expect(res.json.department_list).toBeUndefined();
  });
});

describe('linkedcorp/user/simplelist and user/list', () => {
  it('lists only the department itself by default', async ({ wecom }) => {
    const res = await asDirectory(wecom, 'user/simplelist', { department_id: `${L}/1` });
    expect(res.json).toEqual({
      errcode: 0,
      errmsg: 'ok',
      userlist: membersOf([1]).map((u) => ({ userid: u.userid, name: u.name, department: deptIdsOf(u, ALL), corpid: C })),
    });
    expect(res.json.userlist).toHaveLength(1);
  });

  it.for([true, 1])('recurses with fetch_child %j, each member once', async (fetchChild, { wecom }) => {
    const res = await asDirectory(wecom, 'user/simplelist', { department_id: `${L}/1`, fetch_child: fetchChild });
    expect(res.json.userlist).toEqual(
      membersOf([1, 2, 3, 4]).map((u) => ({ userid: u.userid, name: u.name, department: deptIdsOf(u, ALL), corpid: C })),
    );
    expect(res.json.userlist).toHaveLength(15);
  });

  it.for([false, 0])('does not recurse with fetch_child %j', async (fetchChild, { wecom }) => {
    const res = await asDirectory(wecom, 'user/simplelist', { department_id: `${L}/2`, fetch_child: fetchChild });
    expect(res.json.userlist.map((u: { userid: string }) => u.userid)).toEqual(membersOf([2]).map((u) => u.userid));
  });

  it('gives details in user/list', async ({ wecom }) => {
    const res = await asDirectory(wecom, 'user/list', { department_id: `${L}/3`, fetch_child: true });
    expect(res.json).toEqual({ errcode: 0, errmsg: 'ok', userlist: membersOf([3]).map((u) => detail(u, ALL)) });
    expect(res.json.userlist).toHaveLength(5);
  });

  it('shows the sales app only the departments it can see in each member', async ({ wecom }) => {
    const res = await asSales(wecom, 'user/list', { department_id: `${L}/2`, fetch_child: true });
    expect(res.json.userlist).toEqual(membersOf([2, 4]).map((u) => detail(u, SALES)));
    const twoDept = res.json.userlist.find((u: { userid: string }) => u.userid === users.find((x) => x.department.length === 2)!.userid);
    expect(twoDept.department).toEqual([`${L}/4`]);
  });

  it.for([
    ['user/simplelist', { department_id: `${L}/1` }, 60011],
    ['user/list', { department_id: `${L}/3`, fetch_child: true }, 60011],
    ['user/list', { department_id: `${L}/2`, fetch_child: 'yes' }, 40058],
    ['user/simplelist', { department_id: `${C}/2` }, 60011],
    ['user/simplelist', { fetch_child: true }, 40058],
  ] as const)('refuses the sales app %s %j with %i', async ([path, body, errcode], { wecom }) => {
    const res = await asSales(wecom, path, body);
    expect(res.json.errcode).toBe(errcode);
    expect(res.json.userlist).toBeUndefined();
  });
});

describe('linkedcorp/user/get', () => {
  it('returns every member to the directory app with all its visible departments', async ({ wecom }) => {
    for (const u of users) {
      const res = await asDirectory(wecom, 'user/get', { userid: `${C}/${u.userid}` });
      expect(res.json).toEqual({ errcode: 0, errmsg: 'ok', user_info: detail(u, ALL) });
    }
  });

  it('matches the same member as listed', async ({ wecom }) => {
    const listed = (await asDirectory(wecom, 'user/list', { department_id: `${L}/1`, fetch_child: true })).json.userlist;
    const [first] = listed;
    expect((await asDirectory(wecom, 'user/get', { userid: `${C}/${first.userid}` })).json.user_info).toEqual(first);
  });

  it('treats userids case-insensitively', async ({ wecom }) => {
    const u = users[0]!;
    expect((await asDirectory(wecom, 'user/get', { userid: `${C}/${u.userid.toUpperCase()}` })).json.user_info.userid).toBe(u.userid);
  });

  it('limits the sales app to members of its linked department', async ({ wecom }) => {
    const inside = membersOf([2, 4]);
    const outside = users.filter((u) => !inside.includes(u));
    expect(outside.length).toBeGreaterThan(0);
    for (const u of inside)
      expect((await asSales(wecom, 'user/get', { userid: `${C}/${u.userid}` })).json.user_info).toEqual(detail(u, SALES));
    for (const u of outside) expect((await asSales(wecom, 'user/get', { userid: `${C}/${u.userid}` })).json.errcode).toBe(60011);
  });

  it.for([
    [{}, 40058],
    [{ userid: '' }, 40058],
    [{ userid: 'zhaoyun' }, 40058],
    [{ userid: `${C}/` }, 40058],
    [{ userid: `/x` }, 40058],
    [{ userid: 42 }, 40058],
    [{ userid: `${C}/nobody` }, 60011],
    [{ userid: `wwunknown/${users[0]!.userid}` }, 60011],
  ])('refuses %j with %i', async ([body, errcode], { wecom }) => {
    const res = await asDirectory(wecom, 'user/get', body);
    expect(res.json.errcode).toBe(errcode);
    expect(res.json.user_info).toBeUndefined();
  });
});

describe('access', () => {
  it.for(['agent/get_perm_list', 'user/get', 'user/simplelist', 'user/list', 'department/list'])(
    'refuses %s to the contacts-sync token (48002) and to the console (404)',
    async (path, { wecom }) => {
      const res = await wecom.asContact(`linkedcorp/${path}`, { body: { department_id: `${L}/1`, userid: `${C}/${users[0]!.userid}` } });
      expect(res.json.errcode).toBe(48002);
      expect((await wecom.console(`linkedcorp/${path}`, {})).status).toBe(404);
    },
  );

  it('survives a reset with the same partner', async ({ wecom }) => {
    await wecom.reset();
    expect((await asDirectory(wecom, 'agent/get_perm_list', {})).json.department_ids).toEqual([`${L}/1`]);
  });
});
