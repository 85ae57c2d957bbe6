import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceHarness } from '../helpers/service.ts';

describe('the 2022-08-15 restriction on contacts-sync reads', () => {
  describe('with the contacts-sync secret alone', () => {
    let service: ServiceHarness;
    beforeAll(async () => {
      service = await ServiceHarness.start({ emulator: { restrictContactReads: true }, appSecret: false });
    });
    afterAll(() => service.close());

    it('serves the tree and members through department/simplelist and user/list_id', async () => {
      const res = await service.query(
        '{ department(id: 1) { children { departmentId name memberCount(recursive: true) members(first: 500) { totalCount nodes { userid name } } } } }',
      );
      expect(res.errors).toBeUndefined();
      const refs = (await service.wecom.console('department/simplelist')).json.department_id as {
        id: number;
        parentid: number;
        order: number;
      }[];
      const children = refs.filter((d) => d.parentid === 1).sort((a, b) => b.order - a.order);
      expect(res.data!.department.children.map((c: { departmentId: number }) => c.departmentId)).toEqual(children.map((c) => c.id));
      for (const child of res.data!.department.children) {
        // WeCom gives no names in this mode: a department is named by its id, a member by the userid
        expect(child.name).toBe(String(child.departmentId));
        const direct = (await service.wecom.console('user/list', { department_id: child.departmentId })).json.userlist as {
          userid: string;
        }[];
        expect(child.members.nodes.map((u: { userid: string }) => u.userid).sort()).toEqual(direct.map((u) => u.userid).sort());
        const recursive = (await service.wecom.console('user/list', { department_id: child.departmentId, fetch_child: 1 })).json
          .userlist as { userid: string }[];
        expect(child.memberCount).toBe(new Set(recursive.map((u) => u.userid)).size);
      }
      const calls = await service.calls();
      expect(calls['/cgi-bin/department/list']).toBe(1); // refused once, then never asked again
      expect(calls['/cgi-bin/department/simplelist']).toBe(1);
      expect(calls['/cgi-bin/user/list_id']).toBe(1);
      expect(calls['/cgi-bin/user/list'] ?? 0).toBe(0);
    });

    it('finds a member by userid without user/get', async () => {
      const someone = (await service.wecom.console('user/list', { department_id: 1, fetch_child: 1 })).json.userlist[3];
      await service.wecom.resetStats();
      const res = await service.query(`{ user(userid: "${someone.userid}") { userid name departments { departmentId } } }`);
      expect(res.data!.user.userid).toBe(someone.userid);
      expect(res.data!.user.departments.map((d: { departmentId: number }) => d.departmentId).sort()).toEqual(
        [...someone.department].sort(),
      );
      expect((await service.calls())['/cgi-bin/user/get'] ?? 0).toBe(0);
    });
  });

  describe('with an app secret as well', () => {
    let service: ServiceHarness;
    beforeAll(async () => {
      service = await ServiceHarness.start({ emulator: { restrictContactReads: true } });
    });
    afterAll(() => service.close());

    it('reads details through the app, so nothing is refused and names are real', async () => {
      const res = await service.query('{ department(id: 1) { name children { name members(first: 5) { nodes { name } } } } }');
      expect(res.errors).toBeUndefined();
      expect(res.data!.department.name).toBe('示例科技有限公司');
      expect((await service.wecom.stats()).errors).toEqual({});
    });
  });
});
