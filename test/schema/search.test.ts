import { describe, expect } from 'vitest';
import { graphql } from '../generated/index.ts';
import type { Execute } from '../testkit/execute.ts';
import { serviceTest } from '../testkit/service.ts';

const it = serviceTest(
  {},
  {
    resetStats: false,
    // 张三 and friends, so that pinyin matches have a known target
    prepare: async (service) => {
      for (const [userid, name, position] of [
        ['zhangsan', '张三', '工程师'],
        ['zhangsanfeng', '张三丰', '顾问'],
        ['lisi', '李四', 'zhang'],
      ] as const) {
        const res = await service.wecom.console('user/create', {
          userid: `${userid}x`,
          name,
          department: [2],
          mobile: `1990000${String(userid.length).padStart(4, '0')}`,
          position,
        });
        if (res.json.errcode !== 0) throw new Error(res.text);
      }
    },
  },
);

const SEARCH = graphql(`
  query SearchUsers($q: String!, $departmentId: Int) {
    searchUsers(query: $q, departmentId: $departmentId, first: 100) { totalCount nodes { userid name } }
  }
`);

const search = async (execute: Execute, query: string, departmentId?: number) =>
  (await execute(SEARCH, { q: query, departmentId })).data!.searchUsers;

describe('searchUsers', () => {
  it.for(['zhangsan', 'zs', '张', 'ZHANGSAN', 'zhang san'])('finds 张三 by %s', async (q, { execute }) => {
    const res = await search(execute, q);
    expect(res.nodes.map((u) => u.userid)).toContain('zhangsanx');
  });

  it('ranks exact matches before prefixes before substrings', async ({ execute }) => {
    const res = await search(execute, '张三');
    const ids = res.nodes.map((u) => u.userid);
    expect(ids.indexOf('zhangsanx')).toBeLessThan(ids.indexOf('zhangsanfengx'));
  });

  it('matches position and userid case-insensitively', async ({ execute }) => {
    const ids = (await search(execute, 'ZHANG')).nodes.map((u) => u.userid);
    expect(ids).toContain('lisix'); // position "zhang"
  });

  it('limits to a department subtree', async ({ service, execute }) => {
    const all = await search(execute, 'zs');
    const within = await search(execute, 'zs', 19);
    expect(within.totalCount).toBeLessThan(all.totalCount);
    const members = (await service.wecom.console('user/list', { department_id: 19, fetch_child: 1 })).json.userlist.map(
      (u: { userid: string }) => u.userid,
    );
    for (const u of within.nodes) expect(members).toContain(u.userid);
  });

  it('refuses an empty query', async ({ execute }) => {
    const res = await execute(graphql(`query EmptySearch { searchUsers(query: "  ") { totalCount } }`));
    expect(res.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
  });
});
