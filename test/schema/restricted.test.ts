import { describe, expect } from 'vitest';
import { graphql } from '../generated/index.ts';
import { serviceTest } from '../testkit/service.ts';
import type { Wire } from '../testkit/wire.ts';

/** Each describe has its service (WeCom refusing contacts-sync reads), counting upstream calls from its start. */
const withContactSecretAlone = serviceTest({ emulator: { restrictContactReads: true }, appSecret: false }, { resetStats: false });
const withAppSecret = serviceTest({ emulator: { restrictContactReads: true } }, { resetStats: false });

const TREE = graphql(`
  query RestrictedTree {
    department(id: 1) {
      children { departmentId name memberCount(recursive: true) members(first: 500) { totalCount nodes { userid name } } }
    }
  }
`);
const MEMBER = graphql(`
  query RestrictedMember($userid: String!) {
    user(userid: $userid) { userid name departments { departmentId } }
  }
`);
const NAMES = graphql(`
  query RestrictedNames {
    department(id: 1) { name children { name members(first: 5) { nodes { name } } } }
  }
`);

describe('the 2022-08-15 restriction on contacts-sync reads', () => {
  describe('with the contacts-sync secret alone', () => {
    const it = withContactSecretAlone;

    it('serves the tree and members through department/simplelist and user/list_id', async ({ service, execute }) => {
      const res = await execute(TREE);
      expect(res.errors).toBeUndefined();
      const refs = (await service.wecom.console('department/simplelist')).json.department_id as {
        id: number;
        parentid: number;
        order: number;
      }[];
      const children = refs.filter((d) => d.parentid === 1).sort((a, b) => b.order - a.order);
      expect(res.data!.department!.children.map((c) => c.departmentId)).toEqual(children.map((c) => c.id));
      for (const child of res.data!.department!.children) {
        // WeCom gives no names in this mode: a department is named by its id, a member by the userid
        expect(child.name).toBe(String(child.departmentId));
        const direct = (await service.wecom.console('user/list', { department_id: child.departmentId })).json.userlist as {
          userid: string;
        }[];
        expect(child.members.nodes.map((u) => u.userid).sort()).toEqual(direct.map((u) => u.userid).sort());
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

    it('finds a member by userid without user/get', async ({ service, execute }) => {
      const someone: Wire = (await service.wecom.console('user/list', { department_id: 1, fetch_child: 1 })).json.userlist[3];
      await service.wecom.resetStats();
      const res = await execute(MEMBER, { userid: someone.userid });
      expect(res.data!.user!.userid).toBe(someone.userid);
      expect(res.data!.user!.departments.map((d) => d.departmentId).sort()).toEqual([...someone.department].sort());
      expect((await service.calls())['/cgi-bin/user/get'] ?? 0).toBe(0);
    });
  });

  describe('with an app secret as well', () => {
    const it = withAppSecret;

    it('reads details through the app, so nothing is refused and names are real', async ({ service, execute }) => {
      const res = await execute(NAMES);
      expect(res.errors).toBeUndefined();
      expect(res.data!.department!.name).toBe('示例科技有限公司');
      expect((await service.wecom.stats()).errors).toEqual({});
    });
  });
});
