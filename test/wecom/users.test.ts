import { describe, expect } from 'vitest';
import { allSecrets, failure, makeClient } from './helpers.ts';
import { wecomTest } from '../testkit/wecom.ts';
import type { Wire } from '../testkit/wire.ts';
import type { EmulatorHarness } from 'wecom-emulator/testing';
import { WeComApiError, WeComConfigError, isNotFound, isWeComApiError, isWeComConfigError } from '../../src/wecom/errors.ts';
import { ORDER_MAX } from 'wecom-protocol/limits';

/** The client's users group against the emulator over HTTP. */

const it = wecomTest();

async function consoleUser(emulator: EmulatorHarness, userid: string): Promise<Wire> {
  return (await emulator.console('user/get', { userid })).json;
}

async function allMembers(emulator: EmulatorHarness): Promise<Wire[]> {
  return (await emulator.console('user/list', { department_id: 1, fetch_child: 1 })).json.userlist;
}

describe('users', () => {
  it('create sends WeCom names on the wire and keeps a uint32 order', async ({ emulator, client }) => {
    await client.users.create({
      userid: 'client.create',
      name: '客户端创建',
      department: [1, 2],
      order: [ORDER_MAX, 7],
      isLeaderInDept: [0, 1],
      directLeader: ['yujing'],
      mobile: '+86 13800009999',
      email: 'client.create@example.com',
      bizMail: 'client.create@corp.example.com',
      position: '工程师',
      gender: '2',
      alias: 'Client',
      telephone: '010-1234',
      address: '北京',
      externalPosition: '顾问',
      externalProfile: { externalCorpName: '外部名', externalAttr: [{ type: 0, name: '爱好', text: { value: '跑步' } }] },
      mainDepartment: 2,
      toInvite: false,
    });
    const u = await consoleUser(emulator, 'client.create');
    expect(u.errcode).toBe(0);
    expect(u.name).toBe('客户端创建');
    expect(u.department).toEqual([1, 2]);
    expect(u.order).toEqual([4294967295, 7]);
    expect(u.is_leader_in_dept).toEqual([0, 1]);
    expect(u.direct_leader).toEqual(['yujing']);
    expect(u.mobile).toBe('+86 13800009999');
    expect(u.biz_mail).toBe('client.create@corp.example.com');
    expect(u.gender).toBe('2');
    expect(u.external_position).toBe('顾问');
    expect(u.external_profile.external_corp_name).toBe('外部名');
    expect(u.external_profile.external_attr).toEqual([{ type: 0, name: '爱好', text: { value: '跑步' } }]);
    expect(u.main_department).toBe(2);
    expect((await emulator.stats()).calls['/cgi-bin/user/create']).toBe(1);
  });

  it('create refuses an existing userid with 60102 and changes nothing', async ({ client, watch, emulator }) => {
    const before = await consoleUser(emulator, 'yujing');
    const err = await failure(watch, client.users.create({ userid: 'YUJING', name: 'dup', department: [1], mobile: '13800001111' }));
    expect(err).toBeInstanceOf(WeComApiError);
    expect((err as WeComApiError).errcode).toBe(60102);
    expect((err as WeComApiError).category).toBe('conflict');
    expect((err as WeComApiError).endpoint).toBe('/cgi-bin/user/create');
    expect(await consoleUser(emulator, 'yujing')).toEqual({ ...before, errmsg: expect.any(String) });
  });

  it('get maps every field to camelCase', async ({ client, emulator }) => {
    const raw = await consoleUser(emulator, 'yujing');
    const u = await client.users.get('yujing');
    expect(u.userid).toBe(raw.userid);
    expect(u.name).toBe(raw.name);
    expect(u.department).toEqual(raw.department);
    expect(u.order).toEqual(raw.order);
    expect(u.isLeaderInDept).toEqual(raw.is_leader_in_dept);
    expect(u.directLeader).toEqual(raw.direct_leader);
    expect(u.thumbAvatar).toBe(raw.thumb_avatar);
    expect(u.bizMail).toBe(raw.biz_mail);
    expect(u.openUserid).toBe(raw.open_userid);
    expect(u.mainDepartment).toBe(raw.main_department);
    expect(u.qrCode).toBe(raw.qr_code);
    expect(u.externalPosition).toBe(raw.external_position);
    expect(u.externalProfile?.externalCorpName).toBe(raw.external_profile.external_corp_name);
    expect(u.extattr?.attrs).toEqual(raw.extattr.attrs);
    expect(u.status).toBe(raw.status);
    expect(u.gender).toBe(raw.gender);
  });

  it('get of an unknown member is a not-found WeComApiError (60111)', async ({ client, watch }) => {
    const err = await failure(watch, client.users.get('no.such.member'));
    expect(isWeComApiError(err) && err.errcode).toBe(60111);
    expect(isNotFound(err)).toBe(true);
  });

  it('a userid cannot smuggle in another query parameter', async ({ client, watch }) => {
    // Encoded by URLSearchParams, the whole string is one (invalid) userid: 40003, not liangfang's record.
    const err = await failure(watch, client.users.get('yujing&userid=liangfang'));
    expect((err as WeComApiError).errcode).toBe(40003);
    const err2 = await failure(watch, client.users.delete('nobody&access_token=x'));
    expect((err2 as WeComApiError).errcode).toBe(40003);
  });

  it('update changes only the given fields', async ({ client, emulator }) => {
    const before = await consoleUser(emulator, 'yujing');
    await client.users.update({ userid: 'yujing', position: '架构师', department: [2, 3], order: [ORDER_MAX, 0] });
    const after = await consoleUser(emulator, 'yujing');
    expect(after.position).toBe('架构师');
    expect(after.department).toEqual([2, 3]);
    expect(after.order).toEqual([ORDER_MAX, 0]);
    expect(after.name).toBe(before.name);
    expect(after.mobile).toBe(before.mobile);
  });

  it('delete and batchDelete remove members', async ({ client, emulator }) => {
    await client.users.delete('yujing');
    expect((await consoleUser(emulator, 'yujing')).errcode).toBe(60111);
    await client.users.batchDelete(['xiaojun', 'tangjun']);
    expect((await consoleUser(emulator, 'xiaojun')).errcode).toBe(60111);
    expect((await consoleUser(emulator, 'tangjun')).errcode).toBe(60111);
  });

  it('batchDelete is all or nothing: one unknown userid fails it and deletes nobody', async ({ client, watch, emulator }) => {
    const err = await failure(watch, client.users.batchDelete(['xiaojun', 'no.such.member']));
    expect(isWeComApiError(err)).toBe(true);
    expect((await consoleUser(emulator, 'xiaojun')).errcode).toBe(0);
  });

  it('simpleList and list return the department members, with fetchChild', async ({ emulator, client }) => {
    const raw = (await emulator.console('user/list', { department_id: 2, fetch_child: 1 })).json.userlist as { userid: string }[];
    const simple = await client.users.simpleList(2, { fetchChild: true });
    expect(simple.map((u) => u.userid).sort()).toEqual(raw.map((u) => u.userid).sort());
    const detailed = await client.users.list(2, { fetchChild: true });
    expect(detailed.map((u) => u.userid).sort()).toEqual(raw.map((u) => u.userid).sort());
    expect(detailed.every((u) => Array.isArray(u.isLeaderInDept))).toBe(true);
    const own = (await emulator.console('user/list', { department_id: 2 })).json.userlist as unknown[];
    expect((await client.users.simpleList(2)).length).toBe(own.length);
  });

  it('listIds pages with a cursor and listAllIds covers every (user, department) pair', async ({ emulator, client }) => {
    const members = await allMembers(emulator);
    const pairs = members.reduce((n, u) => n + u.department.length, 0);
    const first = await client.users.listIds({ limit: 100 });
    expect(first.deptUser).toHaveLength(100);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await client.users.listIds({ cursor: first.nextCursor, limit: 100 });
    expect(second.deptUser[0]).not.toEqual(first.deptUser[0]);
    await emulator.resetStats();
    const rows = await client.users.listAllIds({ limit: 150 });
    expect(rows).toHaveLength(pairs);
    expect(new Set(rows.map((r) => r.userid)).size).toBe(members.length);
    expect((await emulator.stats()).calls['/cgi-bin/user/list_id']).toBe(Math.ceil(pairs / 150));
  });

  it('convertToOpenid and convertToUserid round-trip; 43004 when not bound to WeChat', async ({ emulator, client, watch }) => {
    const openid = await client.users.convertToOpenid('yujing');
    expect(openid).toMatch(/^o/);
    expect(await client.users.convertToUserid(openid)).toBe('yujing');
    const members = await allMembers(emulator);
    let unbound: string | undefined;
    for (const m of members) {
      const r = await emulator.asApp('user/convert_to_openid', { body: { userid: m.userid } });
      if (r.json.errcode === 43004) {
        unbound = m.userid;
        break;
      }
    }
    expect(unbound).toBeDefined();
    const err = await failure(watch, client.users.convertToOpenid(unbound!));
    expect((err as WeComApiError).errcode).toBe(43004);
  });

  it('authSucc lets a not-yet-activated member join', async ({ client, emulator }) => {
    const pending = (await allMembers(emulator)).find((u) => u.status === 4)!;
    expect(pending).toBeDefined();
    await client.users.authSucc(pending.userid);
    expect((await consoleUser(emulator, pending.userid)).status).toBe(1);
  });

  it('getUseridByMobile and getUseridByEmail find members; 46004 when nobody matches', async ({ client, watch, emulator }) => {
    const u = await consoleUser(emulator, 'yujing');
    expect(await client.users.getUseridByMobile(u.mobile)).toBe('yujing');
    expect(await client.users.getUseridByEmail(u.biz_mail)).toBe('yujing');
    expect(await client.users.getUseridByEmail(u.email, { emailType: 2 })).toBe('yujing');
    const err = await failure(watch, client.users.getUseridByMobile('13999999999'));
    expect((err as WeComApiError).errcode).toBe(46004);
    expect(isNotFound(err)).toBe(true);
  });
});

describe('token routing', () => {
  it('with only an app secret, writes fail locally with a configuration error and no upstream call', async ({ emulator, watch }) => {
    const appOnly = makeClient(emulator, watch, { contact: false });
    try {
      await emulator.resetStats();
      const err = await failure(watch, appOnly.users.create({ userid: 'x1', name: 'x', department: [1], mobile: '13800007777' }));
      expect(isWeComConfigError(err)).toBe(true);
      expect((err as WeComConfigError).message).toContain('contacts-sync secret');
      expect(await failure(watch, appOnly.users.listIds())).toBeInstanceOf(WeComConfigError);
      expect((await emulator.stats()).total).toBe(0);
      // Reads still work on the app secret.
      expect((await appOnly.users.get('yujing')).userid).toBe('yujing');
    } finally {
      await appOnly.close();
    }
  });

  it('reads use the app secret (its visibility) and writes the contacts-sync secret', async ({ emulator, watch }) => {
    // The sales app sees only the Sales subtree: reads through it are limited, writes are not.
    const sales = makeClient(emulator, watch, { app: 1000003 });
    try {
      let outside: Wire | undefined;
      for (const m of await allMembers(emulator)) {
        if ((await emulator.asApp('user/get', { query: { userid: m.userid } }, 1000003)).json.errcode !== 0) {
          outside = m;
          break;
        }
      }
      expect(outside).toBeDefined();
      const err = await failure(watch, sales.users.get(outside!.userid));
      expect([60111, 60011]).toContain((err as WeComApiError).errcode);
      await sales.users.update({ userid: outside!.userid, position: '经由通讯录同步' });
      expect((await consoleUser(emulator, outside!.userid)).position).toBe('经由通讯录同步');
    } finally {
      await sales.close();
    }
  });

  it('with only the contacts-sync secret, reads use it; the 2022 restriction then shows as 48002', async ({ emulator, watch }) => {
    const contactOnly = makeClient(emulator, watch, { app: false });
    try {
      expect((await contactOnly.users.get('yujing')).userid).toBe('yujing');
      await emulator.faults({ restrictContactReads: true });
      const err = await failure(watch, contactOnly.users.get('yujing'));
      expect((err as WeComApiError).errcode).toBe(48002);
      expect((err as WeComApiError).hint).toContain('contacts-sync');
      // list_id is the documented way around it.
      expect((await contactOnly.users.listIds({ limit: 5 })).deptUser).toHaveLength(5);
    } finally {
      await contactOnly.close();
    }
  });
});

it('no error or log line of this file contains a secret or a token', ({ emulator, watch }) => {
  expect(watch.lines.length).toBeGreaterThan(0);
  watch.assertClean(allSecrets(emulator));
});
