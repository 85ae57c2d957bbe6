import { describe, expect, it } from 'vitest';
import { UserSearchIndex } from '../../src/directory/search.ts';
import type { WeComUser } from '../../src/wecom/users.ts';

/**
 * The people picker's index. Queries of one or two characters are ranked from posting lists
 * alone (no key is read); they must give exactly what reading every candidate's key gives, which
 * is what the index does when a department filter is passed.
 */

const SURNAMES = ['张', '王', '李', '赵', '欧阳', '单', '曾'];
const GIVEN = ['三', '伟', '芳', '子', '丽', '', '三丰'];
const POSITIONS = ['工程师', 'zhang', '', 'Sales', 'z', 'ab'];

function member(i: number): WeComUser {
  const name = SURNAMES[i % SURNAMES.length]! + GIVEN[(i * 3) % GIVEN.length]!;
  return {
    userid: `${['zhang', 'Wang', 'li', 'z', 'ab'][i % 5]}${i % 7 === 0 ? '' : i}`,
    name: i % 11 === 0 ? `Amy ${i}` : name,
    department: [1 + (i % 3)],
    order: [0],
    isLeaderInDept: [0],
    directLeader: [],
    ...(POSITIONS[i % POSITIONS.length] ? { position: POSITIONS[i % POSITIONS.length]! } : {}),
    ...(i % 4 === 0 ? { alias: ['zs', 'Z', '张'][i % 3]! } : {}),
  };
}

const users = Array.from({ length: 600 }, (_, i) => member(i));
const everyone = () => true;
const ids = (list: WeComUser[]) => list.map((u) => u.userid);

describe('UserSearchIndex', () => {
  it('ranks one- and two-character queries as reading every key does, for every page', async () => {
    const index = await UserSearchIndex.build(users);
    const queries = new Set<string>();
    for (const u of users)
      for (const text of [u.userid, u.name, u.position ?? '', u.alias ?? ''])
        for (let c = 0; c < text.length; c++) {
          queries.add(text[c]!.toLowerCase());
          if (c + 1 < text.length) queries.add(text.slice(c, c + 2).toLowerCase());
        }
    for (const q of ['zs', 'zh', 'ws', 'oy', 'x', '9']) queries.add(q);
    queries.delete(' ');
    expect(queries.size).toBeGreaterThan(100);
    for (const q of queries) {
      if (q.trim() !== q) continue;
      const fast = index.search(q);
      const read = index.search(q, everyone);
      expect(fast.length, q).toBe(read.length);
      for (const [start, end] of [
        [0, 20],
        [7, 31],
        [0, read.length + 5],
        [read.length, read.length + 3],
      ] as const)
        expect(ids(fast.slice(start, end)), `${q} [${start}, ${end})`).toEqual(ids(read.slice(start, end)));
    }
  });

  it('puts a text that is the query first, then texts starting with it, then the rest', async () => {
    const index = await UserSearchIndex.build([
      { ...member(1), userid: 'mid-z-dle', name: 'x', position: '' },
      { ...member(2), userid: 'zed', name: 'y', position: '' },
      { ...member(3), userid: 'ab', name: 'z', position: '' },
    ]);
    expect(ids(index.search('z').slice(0, 10))).toEqual(['ab', 'zed', 'mid-z-dle']);
    expect(index.search('q').length).toBe(0);
  });
});
