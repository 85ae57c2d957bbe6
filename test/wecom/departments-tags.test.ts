import { describe, expect } from 'vitest';
import { allSecrets, failure, makeClient } from './helpers.ts';
import { wecomTest } from '../testkit/wecom.ts';
import type { Wire } from '../testkit/wire.ts';
import type { EmulatorHarness } from 'wecom-emulator/testing';
import { type WeComApiError, WeComConfigError, isNotFound } from '../../src/wecom/errors.ts';
import { ORDER_MAX } from 'wecom-protocol/limits';

/** The client's departments and tags groups against the emulator over HTTP. */

const it = wecomTest();

async function consoleDepartment(emulator: EmulatorHarness, id: number): Promise<Wire> {
  return (await emulator.console('department/get', { id })).json;
}

describe('departments', () => {
  it('create with and without an id, with a uint32 order', async ({ client, emulator }) => {
    const { id } = await client.departments.create({ name: '客户端部门', nameEn: 'Client Dept', parentid: 2, order: ORDER_MAX });
    const created = await consoleDepartment(emulator, id);
    expect(created.department).toMatchObject({ id, name: '客户端部门', name_en: 'Client Dept', parentid: 2, order: 4294967295 });
    const explicit = await client.departments.create({ id: 9001, name: '指定编号', parentid: id });
    expect(explicit).toEqual({ id: 9001 });
    expect((await consoleDepartment(emulator, 9001)).department.parentid).toBe(id);
  });

  it('create refuses a duplicate sibling name with 60008 and creates nothing', async ({ emulator, client, watch }) => {
    const before = (await emulator.console('department/list', {})).json.department.length;
    const existing = (await consoleDepartment(emulator, 2)).department.name;
    const err = await failure(watch, client.departments.create({ name: existing, parentid: 1 }));
    expect((err as WeComApiError).errcode).toBe(60008);
    expect((await emulator.console('department/list', {})).json.department.length).toBe(before);
  });

  it('update renames, moves and reorders', async ({ client, emulator }) => {
    const { id } = await client.departments.create({ name: '待移动', parentid: 2 });
    await client.departments.update({ id, name: '已移动', parentid: 3, order: 5 });
    expect((await consoleDepartment(emulator, id)).department).toMatchObject({ name: '已移动', parentid: 3, order: 5 });
  });

  it('delete removes an empty department; 60005 for one with members, which stays', async ({ client, watch, emulator }) => {
    const { id } = await client.departments.create({ name: '待删除', parentid: 1 });
    await client.departments.delete(id);
    expect((await consoleDepartment(emulator, id)).errcode).toBe(60003);
    const occupied = await client.departments.create({ name: '有成员', parentid: 1 });
    await client.users.create({ userid: 'dept.member', name: '成员', department: [occupied.id], mobile: '13800005555' });
    const err = await failure(watch, client.departments.delete(occupied.id));
    expect((err as WeComApiError).errcode).toBe(60005);
    expect((err as WeComApiError).message).toContain('still has members');
    expect((await consoleDepartment(emulator, occupied.id)).errcode).toBe(0);
  });

  it('list, simpleList and get match the emulator', async ({ emulator, client }) => {
    const raw = (await emulator.console('department/list', { id: 2 })).json.department as Wire[];
    const list = await client.departments.list(2);
    expect(list.map((d) => d.id)).toEqual(raw.map((d) => d.id));
    expect(list.map((d) => d.departmentLeader)).toEqual(raw.map((d) => d.department_leader));
    expect(list.map((d) => d.nameEn)).toEqual(raw.map((d) => d.name_en));
    expect(list.map((d) => d.order)).toEqual(raw.map((d) => d.order));
    const simple = await client.departments.simpleList(2);
    expect(simple).toEqual(raw.map((d) => ({ id: d.id, parentid: d.parentid, order: d.order })));
    const all = await client.departments.list();
    expect(all.length).toBe((await emulator.console('department/list', {})).json.department.length);
    const one = await client.departments.get(2);
    expect(one).toEqual({
      id: 2,
      name: raw[0]!.name,
      nameEn: raw[0]!.name_en,
      parentid: raw[0]!.parentid,
      order: raw[0]!.order,
      departmentLeader: raw[0]!.department_leader,
    });
  });

  it('get of an unknown department is not-found (60003)', async ({ client, watch }) => {
    const err = await failure(watch, client.departments.get(987654));
    expect((err as WeComApiError).errcode).toBe(60003);
    expect(isNotFound(err)).toBe(true);
  });
});

describe('tags', () => {
  it('create, update, get, list and delete', async ({ emulator, client }) => {
    const { tagid } = await client.tags.create({ tagname: '客户端标签' });
    expect((await client.tags.list()).find((t) => t.tagid === tagid)).toEqual({ tagid, tagname: '客户端标签' });
    await client.tags.update({ tagid, tagname: '改名标签' });
    expect((await client.tags.get(tagid)).tagname).toBe('改名标签');
    const explicit = await client.tags.create({ tagname: '指定编号标签', tagid: 500 });
    expect(explicit).toEqual({ tagid: 500 });
    await client.tags.delete(tagid);
    expect((await emulator.console('tag/get', { tagid })).json.errcode).toBe(40068);
  });

  it('addMembers and removeMembers report the refused members from the pipe string', async ({ emulator, client }) => {
    const { tagid } = await client.tags.create({ tagname: '成员测试' });
    const added = await client.tags.addMembers({ tagid, userlist: ['yujing', 'nobody1', 'nobody2'], partylist: [2, 99999] });
    expect(added).toEqual({ invalidUsers: ['nobody1', 'nobody2'], invalidParties: [99999] });
    const tag = await client.tags.get(tagid);
    expect(tag.userlist.map((u) => u.userid)).toEqual(['yujing']);
    expect(tag.partylist).toEqual([2]);
    const raw = (await emulator.console('tag/get', { tagid })).json;
    expect(tag.userlist).toEqual(raw.userlist);
    const removed = await client.tags.removeMembers({ tagid, userlist: ['yujing', 'nobody1'], partylist: [2] });
    expect(removed).toEqual({ invalidUsers: ['nobody1'], invalidParties: [] });
    expect((await client.tags.get(tagid)).userlist).toEqual([]);
  });

  it('all-invalid member lists fail with the documented codes (40070 add, 40031 del)', async ({ client, watch }) => {
    const { tagid } = await client.tags.create({ tagname: '全无效' });
    expect(((await failure(watch, client.tags.addMembers({ tagid, userlist: ['nobody1'] }))) as WeComApiError).errcode).toBe(40070);
    expect(((await failure(watch, client.tags.removeMembers({ tagid, userlist: ['nobody1'] }))) as WeComApiError).errcode).toBe(40031);
  });

  it('a tag another secret created answers 81011; `via: app` reaches the creating app', async ({ emulator, watch }) => {
    // Tag 10 belongs to the sales app (1000003).
    const sales = makeClient(emulator, watch, { app: 1000003 });
    try {
      const err = await failure(watch, sales.tags.update({ tagid: 10, tagname: '改名' }));
      expect((err as WeComApiError).errcode).toBe(81011);
      expect((err as WeComApiError).hint).toContain('created');
      await sales.tags.update({ tagid: 10, tagname: '销售改名' }, { via: 'app' });
      expect((await emulator.console('tag/get', { tagid: 10 })).json.tagname).toBe('销售改名');
      // A contacts-sync-only endpoint refuses `via: app` before any call.
      expect(await failure(watch, sales.users.delete('yujing', { via: 'app' }))).toBeInstanceOf(WeComConfigError);
    } finally {
      await sales.close();
    }
  });
});

it('no error or log line of this file contains a secret or a token', ({ emulator, watch }) => {
  watch.assertClean(allSecrets(emulator));
});
