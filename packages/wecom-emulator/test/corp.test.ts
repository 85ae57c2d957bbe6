import { describe, expect } from 'vitest';
import type { ApiResponse, EmulatorHarness } from '../src/testing.ts';
import { emulatorTest } from './fixtures.ts';
import { INVITE_BAD_LISTS_ERRCODE, JOIN_QRCODE_DEFAULT_SIZE_TYPE } from '../src/routes/corp.ts';

const it = emulatorTest();

const invitations = async (wecom: EmulatorHarness) => (await wecom.admin('invitations')).json.invitations as unknown[];
const now = async (wecom: EmulatorHarness) => (await wecom.admin('clock')).json.now as number;
/** Runs `act` and answers a matcher for an emulator-clock timestamp taken while it ran. */
async function during(wecom: EmulatorHarness, act: () => Promise<unknown>) {
  const from = await now(wecom);
  await act();
  const to = await now(wecom);
  return expect.toSatisfy((t: number) => t >= from && t <= to);
}
/** Two seeded userids, in the store's order. */
const someUsers = (wecom: EmulatorHarness) => [...wecom.emulator.store.users.values()].slice(1, 3).map((u) => u.userid);

describe('batch/invite', () => {
  it('invites users, departments and tags and records the invitation', async ({ wecom }) => {
    const [a, b] = someUsers(wecom);
    const start = await now(wecom);
    await wecom.admin('clock', 'POST', { advanceSeconds: 3600 });
    let res!: Awaited<ReturnType<typeof wecom.asContact>>;
    const at = await during(wecom, async () => {
      res = await wecom.asContact('batch/invite', { body: { user: [a, b], party: [2], tag: [1] } });
    });
    expect(res.json).toEqual({ errcode: 0, errmsg: 'ok', invaliduser: [], invalidparty: [], invalidtag: [] });
    const recorded = await invitations(wecom);
    expect(recorded).toEqual([{ user: [a, b], party: [2], tag: [1], invitedAt: at }]);
    // the emulator clock, which tests move forward, stamps the invitation
    expect((recorded[0] as { invitedAt: number }).invitedAt).toBeGreaterThanOrEqual(start + 3600);
  });

  it('reports unknown targets and still invites the rest (userids matched case-insensitively)', async ({ wecom }) => {
    const [a] = someUsers(wecom);
    let res!: Awaited<ReturnType<typeof wecom.asContact>>;
    const at = await during(wecom, async () => {
      res = await wecom.asContact('batch/invite', { body: { user: ['ghost', a!.toUpperCase()], party: [9999, 3], tag: [4040, 2] } });
    });
    expect(res.json).toEqual({ errcode: 0, errmsg: 'ok', invaliduser: ['ghost'], invalidparty: [9999], invalidtag: [4040] });
    expect(await invitations(wecom)).toEqual([{ user: [a], party: [3], tag: [2], invitedAt: at }]);
  });

  it('answers errcode 0 with every target listed when none is valid, and records nothing', async ({ wecom }) => {
    const res = await wecom.asContact('batch/invite', { body: { user: ['ghost'], party: [9999], tag: [4040] } });
    expect(res.json).toEqual({ errcode: 0, errmsg: 'ok', invaliduser: ['ghost'], invalidparty: [9999], invalidtag: [4040] });
    expect(await invitations(wecom)).toEqual([]);
  });

  it('accepts a single kind of target', async ({ wecom }) => {
    const at = await during(wecom, async () => {
      expect((await wecom.asContact('batch/invite', { body: { tag: [5] } })).json.errcode).toBe(0);
    });
    expect(await invitations(wecom)).toEqual([{ user: [], party: [], tag: [5], invitedAt: at }]);
  });

  it('works from the admin console', async ({ wecom }) => {
    expect((await wecom.console('batch/invite', { party: [2] })).json).toMatchObject({ errcode: 0, invalidparty: [] });
    expect(await invitations(wecom)).toHaveLength(1);
  });

  it.for([
    ['all three lists empty', { user: [], party: [], tag: [] }, INVITE_BAD_LISTS_ERRCODE],
    ['no lists at all', {}, INVITE_BAD_LISTS_ERRCODE],
    ['1001 users', { user: Array.from({ length: 1001 }, (_, i) => `u${i}`) }, INVITE_BAD_LISTS_ERRCODE],
    ['101 departments', { party: Array.from({ length: 101 }, (_, i) => i + 1) }, INVITE_BAD_LISTS_ERRCODE],
    ['101 tags', { tag: Array.from({ length: 101 }, (_, i) => i + 1) }, INVITE_BAD_LISTS_ERRCODE],
    ['a string instead of a user array', { user: 'a|b' }, INVITE_BAD_LISTS_ERRCODE],
    ['a department id that is not an integer', { party: ['2'] }, INVITE_BAD_LISTS_ERRCODE],
  ])('refuses %s and records nothing', async ([_label, body, errcode], { wecom }) => {
    const res = await wecom.asContact('batch/invite', { body });
    expect(res.json.errcode).toBe(errcode);
    expect(await invitations(wecom)).toEqual([]);
  });

  it('is a write: refused to app tokens (48002)', async ({ wecom }) => {
    const res = await wecom.asApp('batch/invite', { body: { party: [2] } });
    expect(res.json.errcode).toBe(48002);
    expect(await invitations(wecom)).toEqual([]);
  });

  it('forgets invitations on reset', async ({ wecom }) => {
    await wecom.asContact('batch/invite', { body: { party: [2] } });
    expect(await invitations(wecom)).toHaveLength(1);
    await wecom.reset();
    expect(await invitations(wecom)).toEqual([]);
  });
});

describe('corp/get_join_qrcode', () => {
  const LINK =
    /^https:\/\/work\.weixin\.qq\.com\/wework_admin\/genqrcode\?action=join&vcode=([0-9a-f]+)&r=hb_share_api_mjoin&qr_size=(\d)$/;

  it(`defaults to size ${JOIN_QRCODE_DEFAULT_SIZE_TYPE} and honours size_type 1–4`, async ({ wecom }) => {
    const res = await wecom.asContact('corp/get_join_qrcode');
    expect(Object.keys(res.json).sort()).toEqual(['errcode', 'errmsg', 'join_qrcode']);
    expect(res.json.errcode).toBe(0);
    expect(res.json.join_qrcode).toMatch(LINK);
    expect(LINK.exec(res.json.join_qrcode)![2]).toBe(String(JOIN_QRCODE_DEFAULT_SIZE_TYPE));
    for (const size of [1, 2, 3, 4]) {
      const sized = await wecom.asContact('corp/get_join_qrcode', { query: { size_type: size } });
      expect(LINK.exec(sized.json.join_qrcode)?.[2]).toBe(String(size));
    }
  });

  it('takes size_type=0 (what SDKs send when not set) as the default size', async ({ wecom }) => {
    const res = await wecom.asContact('corp/get_join_qrcode', { query: { size_type: 0 } });
    expect(LINK.exec(res.json.join_qrcode)?.[2]).toBe(String(JOIN_QRCODE_DEFAULT_SIZE_TYPE));
  });

  it.for([5, -1, 'big'])('refuses size_type=%s with 40058', async (size, { wecom }) => {
    const res = await wecom.asContact('corp/get_join_qrcode', { query: { size_type: size } });
    expect(res.json).toMatchObject({ errcode: 40058 });
    expect(res.json.join_qrcode).toBeUndefined();
  });

  it('is reserved to the contacts-sync secret (48002 for apps)', async ({ wecom }) => {
    expect((await wecom.asApp('corp/get_join_qrcode')).json.errcode).toBe(48002);
  });

  it('is not one of the reads refused by the 2022 new-IP rule', async ({ wecom }) => {
    await wecom.faults({ restrictContactReads: true });
    expect((await wecom.asContact('corp/get_join_qrcode')).json.errcode).toBe(0);
  });
});

describe('agent/get and agent/list', () => {
  const apps = (wecom: EmulatorHarness) => wecom.creds.apps;
  const salesApp = (wecom: EmulatorHarness) => apps(wecom).find((a) => a.name === '销售助手')!;
  const directoryApp = (wecom: EmulatorHarness) => apps(wecom).find((a) => a.name === '通讯录查询')!;
  /** Seed fact no API exposes: whom the sales app was given by userid (read only). */
  const salesVisibleUserids = (wecom: EmulatorHarness) => wecom.emulator.store.app(salesApp(wecom).agentId)!.visibility.users;

  it('answers an app its details and visible range: departments, members and tags as configured', async ({ wecom }) => {
    const sales = salesApp(wecom);
    const res = await wecom.asApp('agent/get', { query: { agentid: sales.agentId } }, sales.agentId);
    const departments = (await wecom.console('department/list')).json.department as { id: number; name: string }[];
    const tags = (await wecom.console('tag/list')).json.taglist as { tagid: number; tagname: string }[];
    const [visibleUserid] = salesVisibleUserids(wecom);
    expect(res.json).toEqual({
      errcode: 0,
      errmsg: 'ok',
      agentid: sales.agentId,
      name: '销售助手',
      square_logo_url: expect.stringMatching(/^https:\/\//),
      description: expect.any(String),
      allow_userinfos: { user: [{ userid: visibleUserid }] },
      allow_partys: { partyid: [departments.find((d) => d.name === '销售部')!.id] },
      allow_tags: { tagid: [tags.find((t) => t.tagname === 'VIP客户经理')!.tagid] },
      close: 0,
      redirect_domain: 'sales.example.com',
      report_location_flag: 1,
      isreportenter: 1,
      home_url: '',
    });
    const directory = await wecom.asApp('agent/get', { query: { agentid: directoryApp(wecom).agentId } });
    expect(directory.json).toMatchObject({ allow_partys: { partyid: [1] }, allow_userinfos: { user: [] }, allow_tags: { tagid: [] } });
  });

  it('means what it says: the app reads its listed member and its tag members outside its departments', async ({ wecom }) => {
    const sales = salesApp(wecom);
    const scope = (await wecom.asApp('agent/get', { query: { agentid: sales.agentId } }, sales.agentId)).json;
    const salesRoot = scope.allow_partys.partyid[0] as number;
    const inSales = new Set(
      ((await wecom.console('user/list', { department_id: salesRoot, fetch_child: 1 })).json.userlist as { userid: string }[]).map(
        (u) => u.userid,
      ),
    );
    const tagMembers = ((await wecom.console('tag/get', { tagid: scope.allow_tags.tagid[0] })).json.userlist as { userid: string }[]).map(
      (u) => u.userid,
    );
    const outside = [scope.allow_userinfos.user[0].userid as string, ...tagMembers].filter((u) => !inSales.has(u));
    expect(outside.length).toBeGreaterThan(0);
    for (const userid of outside) {
      expect((await wecom.asApp('user/get', { query: { userid } }, sales.agentId)).json.errcode).toBe(0);
    }
  });

  it('follows the directory: a deleted member leaves allow_userinfos', async ({ wecom }) => {
    const sales = salesApp(wecom);
    const [userid] = salesVisibleUserids(wecom);
    expect((await wecom.console('user/delete', { userid })).json.errcode).toBe(0);
    const res = await wecom.asApp('agent/get', { query: { agentid: sales.agentId } }, sales.agentId);
    expect(res.json.allow_userinfos).toEqual({ user: [] });
  });

  it.for<[string, (wecom: EmulatorHarness) => Promise<ApiResponse>, number]>([
    [
      "another app's agentid",
      async (wecom) => wecom.asApp('agent/get', { query: { agentid: directoryApp(wecom).agentId } }, salesApp(wecom).agentId),
      301002,
    ],
    ['an unknown agentid', async (wecom) => wecom.asApp('agent/get', { query: { agentid: 999 } }), 301002],
    [
      'the contacts-sync secret (no app)',
      async (wecom) => wecom.asContact('agent/get', { query: { agentid: directoryApp(wecom).agentId } }),
      301002,
    ],
    ['no agentid', async (wecom) => wecom.asApp('agent/get'), 41011],
    ['a malformed agentid', async (wecom) => wecom.asApp('agent/get', { query: { agentid: 'abc' } }), 40056],
    ['a bad token (checked first)', async (wecom) => wecom.call('agent/get', { token: 'bogus', query: { agentid: 'abc' } }), 40014],
  ])('refuses %s', async ([_label, call, errcode], { wecom }) => {
    const res = await call(wecom);
    expect(res.status).toBe(200);
    expect(res.json.errcode).toBe(errcode);
  });

  it("lists the token's own app (agent/list), none for the contacts-sync secret", async ({ wecom }) => {
    const sales = salesApp(wecom);
    expect((await wecom.asApp('agent/list', {}, sales.agentId)).json.agentlist).toEqual([
      { agentid: sales.agentId, name: '销售助手', square_logo_url: expect.any(String) },
    ]);
    expect((await wecom.asContact('agent/list')).json.agentlist).toEqual([]);
  });
});

describe('POST /__emulator/apps/<agentId> (an admin changing an app)', () => {
  const sales = (wecom: EmulatorHarness) => wecom.creds.apps.find((a) => a.name === '销售助手')!;

  it("sets the visible range and the state, and agent/get and the app's reads follow", async ({ wecom }) => {
    const { agentId } = sales(wecom);
    const someone = (await wecom.console('user/list', { department_id: 1, fetch_child: 1 })).json.userlist[7].userid as string;
    const res = await wecom.admin(`apps/${agentId}`, 'POST', {
      close: 1,
      visibility: { departments: [], users: [someone.toUpperCase()], tags: [] },
    });
    expect(res.status).toBe(200);
    const got = (await wecom.asApp('agent/get', { query: { agentid: agentId } }, agentId)).json;
    expect(got).toMatchObject({
      close: 1,
      allow_userinfos: { user: [{ userid: someone }] },
      allow_partys: { partyid: [] },
      allow_tags: { tagid: [] },
    });
    const listed = (await wecom.asApp('department/list', {}, agentId)).json.department;
    expect(listed).toEqual([]);
    expect((await wecom.asApp('user/get', { query: { userid: someone } }, agentId)).json.errcode).toBe(0);
  });

  it.for([
    [{ visibility: { departments: [424242], users: [], tags: [] } }, 'visibility.departments: no department 424242'],
    [{ visibility: { departments: [], users: ['nobody.here'], tags: [] } }, 'visibility.users: no member nobody.here'],
    [{ close: 2 }, 'close'],
    [{ name: 'x' }, 'name'],
  ])('refuses %j with 400 naming what is wrong, and changes nothing', async ([body, message], { wecom }) => {
    const { agentId } = sales(wecom);
    const before = (await wecom.console('agent/get', { agentid: agentId })).json;
    const res = await wecom.admin(`apps/${agentId}`, 'POST', body);
    expect(res.status).toBe(400);
    expect(res.json.error).toContain(message);
    expect((await wecom.console('agent/get', { agentid: agentId })).json).toEqual(before);
  });

  it('answers 404 for an app the emulator does not have', async ({ wecom }) => {
    expect((await wecom.admin('apps/999', 'POST', { close: 1 })).status).toBe(404);
  });
});

describe('getcallbackip', () => {
  it("answers the addresses the emulator's callbacks come from (its loopback address) to any token", async ({ wecom }) => {
    for (const res of [await wecom.asContact('getcallbackip'), await wecom.asApp('getcallbackip')]) {
      expect(res.json).toEqual({ errcode: 0, errmsg: 'ok', ip_list: ['127.0.0.1'] });
    }
    expect((await wecom.call('getcallbackip', { token: 'bogus' })).json.errcode).toBe(40014);
    expect((await wecom.stats()).calls['/cgi-bin/getcallbackip']).toBe(3);
  });
});
