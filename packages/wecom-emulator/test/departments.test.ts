import { describe, expect } from 'vitest';
import type { EmulatorHarness } from '../src/testing.ts';
import { emulatorTest } from './fixtures.ts';

const it = emulatorTest();

const deptList = async (wecom: EmulatorHarness) =>
  (await wecom.console('department/list')).json.department as { id: number; name: string; parentid: number; order: number }[];

describe('department/create', () => {
  it('creates under a parent, auto-assigns the next id, and lists it', async ({ wecom }) => {
    const before = await deptList(wecom);
    const res = await wecom.asContact('department/create', { body: { name: '新部门', name_en: 'New', parentid: 1, order: 7 } });
    expect(res.json).toEqual({ errcode: 0, errmsg: 'created', id: Math.max(...before.map((d) => d.id)) + 1 });
    const got = await wecom.asContact('department/get', { query: { id: res.json.id } });
    expect(got.json.department).toEqual({ id: res.json.id, name: '新部门', name_en: 'New', department_leader: [], parentid: 1, order: 7 });
  });

  it('takes id 0 (what SDKs send when not set) as no id: WeCom assigns the next one', async ({ wecom }) => {
    const before = await deptList(wecom);
    const res = await wecom.asContact('department/create', { body: { name: '零号', parentid: 1, id: 0 } });
    expect(res.json).toEqual({ errcode: 0, errmsg: 'created', id: Math.max(...before.map((d) => d.id)) + 1 });
  });

  it('keeps an explicit id and the largest uint32 order', async ({ wecom }) => {
    const res = await wecom.asContact('department/create', { body: { name: 'Max', parentid: 1, id: 9000, order: 4294967295 } });
    expect(res.json).toMatchObject({ errcode: 0, id: 9000 });
    expect((await wecom.asContact('department/get', { query: { id: 9000 } })).json.department.order).toBe(4294967295);
  });

  it.for([
    [{ name: 'x', parentid: 1, order: 4294967296 }, 40058],
    [{ name: 'x', parentid: 1, order: -1 }, 40058],
    [{ name: '', parentid: 1 }, 60001],
    [{ name: 'x'.repeat(33), parentid: 1 }, 60001],
    [{ parentid: 1 }, 60001],
    [{ name: 'a:b', parentid: 1 }, 60009],
    [{ name: 'a|b', parentid: 1 }, 60009],
    [{ name: 'x' }, 60004],
    [{ name: 'x', parentid: 424242 }, 60004],
    [{ name: 'x', parentid: 1, id: 1 }, 60123],
    [{ name: 'x', parentid: 1, id: 2 }, 60008],
    [{ name: '研发中心', parentid: 1 }, 60008],
  ])('refuses %j with %i and changes nothing', async ([body, errcode], { wecom }) => {
    const before = await deptList(wecom);
    const res = await wecom.asContact('department/create', { body });
    expect(res.status).toBe(200);
    expect(res.json.errcode).toBe(errcode);
    expect(await deptList(wecom)).toEqual(before);
  });

  it('enforces the 15-level depth limit (81002)', async ({ wecom }) => {
    let parent = 1;
    for (let level = 2; level <= 15; level++) {
      const res = await wecom.asContact('department/create', { body: { name: `L${level}`, parentid: parent } });
      expect(res.json.errcode).toBe(0);
      parent = res.json.id;
    }
    const res = await wecom.asContact('department/create', { body: { name: 'L16', parentid: parent } });
    expect(res.json.errcode).toBe(81002);
  });

  it('is refused to an app token (48002)', async ({ wecom }) => {
    const res = await wecom.asApp('department/create', { body: { name: 'x', parentid: 1 } });
    expect(res.json.errcode).toBe(48002);
  });
});

describe('department/update', () => {
  it('renames, moves and reorders', async ({ wecom }) => {
    const created = await wecom.asContact('department/create', { body: { name: 'Temp', parentid: 1 } });
    const id = created.json.id;
    const res = await wecom.asContact('department/update', { body: { id, name: 'Renamed', parentid: 2, order: 5 } });
    expect(res.json).toEqual({ errcode: 0, errmsg: 'updated' });
    const got = (await wecom.asContact('department/get', { query: { id } })).json.department;
    expect(got).toMatchObject({ id, name: 'Renamed', parentid: 2, order: 5 });
  });

  it('refuses a cycle (60010), an unknown id (60003), an unknown parent (60004), a sibling name clash (60008)', async ({ wecom }) => {
    const tree = await deptList(wecom);
    const child = tree.find((d) => d.parentid === 2)!;
    expect((await wecom.asContact('department/update', { body: { id: 2, parentid: child.id } })).json.errcode).toBe(60010);
    expect((await wecom.asContact('department/update', { body: { id: 2, parentid: 2 } })).json.errcode).toBe(60010);
    expect((await wecom.asContact('department/update', { body: { id: 999999, name: 'x' } })).json.errcode).toBe(60003);
    expect((await wecom.asContact('department/update', { body: { id: 2, parentid: 999999 } })).json.errcode).toBe(60004);
    const sibling = tree.find((d) => d.parentid === 1 && d.id !== 2)!;
    expect((await wecom.asContact('department/update', { body: { id: 2, name: sibling.name } })).json.errcode).toBe(60008);
    expect(await deptList(wecom)).toEqual(tree);
  });

  it('refuses a move that would exceed 15 levels (81002)', async ({ wecom }) => {
    let parent = 1;
    for (let level = 2; level <= 14; level++) {
      parent = (await wecom.asContact('department/create', { body: { name: `D${level}`, parentid: parent } })).json.id;
    }
    // department 2 has three levels below it in the demo seed
    expect((await wecom.asContact('department/update', { body: { id: 2, parentid: parent } })).json.errcode).toBe(81002);
  });
});

describe('department/delete', () => {
  it('deletes an empty leaf', async ({ wecom }) => {
    const id = (await wecom.asContact('department/create', { body: { name: 'Gone', parentid: 1 } })).json.id;
    expect((await wecom.asContact('department/delete', { query: { id } })).json).toEqual({ errcode: 0, errmsg: 'deleted' });
    expect((await wecom.asContact('department/get', { query: { id } })).json.errcode).toBe(60003);
  });

  it('guards the root (60007), sub-departments (60006), members (60005) and unknown ids (60003)', async ({ wecom }) => {
    const tree = await deptList(wecom);
    expect((await wecom.asContact('department/delete', { query: { id: 1 } })).json.errcode).toBe(60007);
    expect((await wecom.asContact('department/delete', { query: { id: 2 } })).json.errcode).toBe(60006);
    const leafWithMembers = tree.find((d) => !tree.some((c) => c.parentid === d.id) && wecom.emulator.store.memberCount(d.id) > 0)!;
    expect((await wecom.asContact('department/delete', { query: { id: leafWithMembers.id } })).json.errcode).toBe(60005);
    expect((await wecom.asContact('department/delete', { query: { id: 987654 } })).json.errcode).toBe(60003);
    expect(await deptList(wecom)).toEqual(tree);
  });
});

describe('department reads', () => {
  it('list returns the subtree with parents before children', async ({ wecom }) => {
    const all = await wecom.asContact('department/list');
    expect(all.json.errcode).toBe(0);
    expect(all.json.department.length).toBe(wecom.emulator.store.departments.size);
    const sub = (await wecom.asContact('department/list', { query: { id: 2 } })).json.department as { id: number; parentid: number }[];
    expect(sub[0]!.id).toBe(2);
    const seen = new Set<number>();
    for (const d of sub) {
      if (d.id !== 2) expect(seen.has(d.parentid)).toBe(true);
      seen.add(d.id);
    }
  });

  it('simplelist answers ids, parents and orders under department_id', async ({ wecom }) => {
    const res = await wecom.asContact('department/simplelist', { query: { id: 2 } });
    const full = (await wecom.asContact('department/list', { query: { id: 2 } })).json.department;
    expect(res.json.department_id).toEqual(
      full.map((d: { id: number; parentid: number; order: number }) => ({ id: d.id, parentid: d.parentid, order: d.order })),
    );
  });

  it('limits an app to its visible range (60011 outside it)', async ({ wecom }) => {
    const sales = wecom.creds.apps.find((a) => a.name === '销售助手')!.agentId;
    const visible = (await wecom.asApp('department/simplelist', {}, sales)).json.department_id as { id: number }[];
    expect(visible.length).toBeGreaterThan(0);
    expect(visible.some((d) => d.id === 1)).toBe(false);
    expect((await wecom.asApp('department/get', { query: { id: 1 } }, sales)).json.errcode).toBe(60011);
  });

  it('answers an error body with the empty list field WeCom sends', async ({ wecom }) => {
    const res = await wecom.asContact('department/simplelist', { query: { id: 777777 } });
    expect(res.json).toMatchObject({ errcode: 60003, department_id: [] });
  });

  it('refuses contacts-sync reads of list/get under the 2022 restriction but not simplelist', async ({ wecom }) => {
    await wecom.faults({ restrictContactReads: true });
    expect((await wecom.asContact('department/list')).json.errcode).toBe(48002);
    expect((await wecom.asContact('department/get', { query: { id: 1 } })).json.errcode).toBe(48002);
    expect((await wecom.asContact('department/simplelist')).json.errcode).toBe(0);
    expect((await wecom.asApp('department/list')).json.errcode).toBe(0);
  });
});
