import { describe, expect } from 'vitest';
import { allSecrets, failure, makeClient } from './helpers.ts';
import { wecomTest } from '../testkit/wecom.ts';
import { type WeComApiError, WeComConfigError } from '../../src/wecom/errors.ts';

/** The client's corp and linkedCorp groups against the emulator over HTTP. */

const it = wecomTest();

/** Today in China Standard Time (UTC+8), as get_active_stat dates are. */
function chinaDate(daysBack: number): string {
  return new Date(Date.now() + 8 * 3600_000 - daysBack * 86_400_000).toISOString().slice(0, 10);
}

describe('corp', () => {
  it('getJoinQrCode returns the link for the requested size', async ({ emulator, client }) => {
    const link = await client.corp.getJoinQrCode(3);
    expect(link).toMatch(/^https:\/\/work\.weixin\.qq\.com\/wework_admin\/genqrcode\?action=join&vcode=\w+.*qr_size=3$/);
    const raw = (await emulator.asContact('corp/get_join_qrcode', { query: { size_type: 3 } })).json.join_qrcode as string;
    expect(new URL(link).searchParams.get('qr_size')).toBe(new URL(raw).searchParams.get('qr_size'));
    expect(await client.corp.getJoinQrCode()).toMatch(/^https:/);
  });

  it('getActiveStat returns the count for a date; 40058 beyond 30 days back', async ({ emulator, client, watch }) => {
    const date = chinaDate(1);
    const raw = (await emulator.asContact('user/get_active_stat', { body: { date } })).json.active_cnt as number;
    expect(await client.corp.getActiveStat(date)).toBe(raw);
    const err = await failure(watch, client.corp.getActiveStat(chinaDate(40)));
    expect((err as WeComApiError).errcode).toBe(40058);
  });

  it('both need the contacts-sync secret: refused locally without one', async ({ emulator, watch }) => {
    const appOnly = makeClient(emulator, watch, { contact: false });
    try {
      await emulator.resetStats();
      expect(await failure(watch, appOnly.corp.getJoinQrCode())).toBeInstanceOf(WeComConfigError);
      expect(await failure(watch, appOnly.corp.getActiveStat(chinaDate(1)))).toBeInstanceOf(WeComConfigError);
      expect((await emulator.stats()).total).toBe(0);
    } finally {
      await appOnly.close();
    }
  });
});

describe('linkedCorp', () => {
  it('getPermList, listDepartments, simpleListUsers, listUsers and getUser keep string ids', async ({ emulator, client }) => {
    const perm = await client.linkedCorp.getPermList();
    expect(perm.userids).toEqual([]);
    expect(perm.departmentIds).toHaveLength(1);
    const root = perm.departmentIds[0]!;
    expect(root).toMatch(/^lk[0-9a-f]+\/1$/);

    const departments = await client.linkedCorp.listDepartments(root);
    const rawDepartments = (await emulator.asApp('linkedcorp/department/list', { body: { department_id: root } })).json
      .department_list as Record<string, unknown>[];
    expect(departments).toEqual(
      rawDepartments.map((d) => ({
        departmentId: d.department_id,
        departmentName: d.department_name,
        parentid: d.parentid,
        order: d.order,
      })),
    );
    expect(departments.map((d) => typeof d.departmentId)).toEqual(departments.map(() => 'string'));
    expect(departments[0]).toMatchObject({ departmentId: '1', parentid: '0', order: 100_000_000 });

    const everyone = await client.linkedCorp.simpleListUsers(root, { fetchChild: true });
    const own = await client.linkedCorp.simpleListUsers(root);
    expect(own.length).toBeLessThan(everyone.length);
    expect(everyone.length).toBe(15);
    expect(everyone.every((u) => /^ww[0-9a-f]+$/.test(u.corpid) && u.department.every((d) => d.startsWith(`${root.split('/')[0]}/`)))).toBe(
      true,
    );

    const detailed = await client.linkedCorp.listUsers(root, { fetchChild: true });
    expect(detailed.map((u) => u.userid)).toEqual(everyone.map((u) => u.userid));
    const first = detailed[0]!;
    const composite = first.userid.includes('/') ? first.userid : `${first.corpid}/${first.userid}`;
    const one = await client.linkedCorp.getUser(composite);
    const raw = (await emulator.asApp('linkedcorp/user/get', { body: { userid: composite } })).json.user_info;
    expect(one).toMatchObject({
      userid: raw.userid,
      name: raw.name,
      corpid: raw.corpid,
      department: raw.department,
      mobile: raw.mobile,
      position: raw.position,
    });
    expect(one.extattr?.attrs).toEqual(raw.extattr.attrs);
  });

  it('an app with a narrower range sees only its linked department; outside it 60011', async ({ emulator, watch }) => {
    const sales = makeClient(emulator, watch, { app: 1000003 });
    try {
      const perm = await sales.linkedCorp.getPermList();
      expect(perm.departmentIds).toHaveLength(1);
      expect(perm.departmentIds[0]).toMatch(/\/2$/);
      const rootId = perm.departmentIds[0]!.replace(/\/2$/, '/1');
      const err = await failure(watch, sales.linkedCorp.listDepartments(rootId));
      expect((err as WeComApiError).errcode).toBe(60011);
    } finally {
      await sales.close();
    }
  });

  it('linked corps need a self-built app: refused locally with only the contacts-sync secret', async ({ emulator, watch }) => {
    const contactOnly = makeClient(emulator, watch, { app: false });
    try {
      await emulator.resetStats();
      const err = await failure(watch, contactOnly.linkedCorp.getPermList());
      expect(err).toBeInstanceOf(WeComConfigError);
      expect((err as WeComConfigError).message).toContain('self-built app');
      expect((await emulator.stats()).total).toBe(0);
    } finally {
      await contactOnly.close();
    }
  });
});

it('no error or log line of this file contains a secret or a token', ({ emulator, watch }) => {
  watch.assertClean(allSecrets(emulator));
});
