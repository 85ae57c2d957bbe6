import { describe, expect } from 'vitest';
import { serviceTest } from '../testkit/service.ts';

/**
 * Pages of members (Department.members, searchUsers) are cut by UserPage: Relay's offset cursors,
 * edges made only when asked. Walking a list page by page, forwards and backwards, must give the
 * list, with cursors that agree between edges and pageInfo.
 */

// With the directory cache: a walk is dozens of requests, each reading the whole corp otherwise.
const it = serviceTest({ cache: {} });

const PAGE = `
  edges { cursor node { userid } }
  nodes { userid }
  pageInfo { startCursor endCursor hasNextPage hasPreviousPage }
  totalCount`;

interface Page {
  edges: { cursor: string; node: { userid: string } }[];
  nodes: { userid: string }[];
  pageInfo: { startCursor: string; endCursor: string; hasNextPage: boolean; hasPreviousPage: boolean };
  totalCount: number;
}

const lists = {
  members: {
    query: (args: string) => `{ department(id: 1) { members(recursive: true, ${args}) { ${PAGE} } } }`,
    // biome-ignore lint/suspicious/noExplicitAny: each test reads the shape of the query it sent
    pick: (data: any): Page => data.department.members,
  },
  search: {
    query: (args: string) => `{ searchUsers(query: "a", ${args}) { ${PAGE} } }`,
    // biome-ignore lint/suspicious/noExplicitAny: as above
    pick: (data: any): Page => data.searchUsers,
  },
};

describe.for(Object.entries(lists))('%s pages', ([, list]) => {
  it('walk the whole list forwards and backwards, with edges and pageInfo agreeing', async ({ service }) => {
    const read = async (args: string) => {
      const res = await service.query(list.query(args));
      expect(res.errors).toBeUndefined();
      return list.pick(res.data);
    };
    const whole = await read('first: 500');
    const userids = whole.nodes.map((n) => n.userid);
    expect(userids.length).toBeGreaterThan(7);
    expect(whole.totalCount).toBe(userids.length);

    const forwards: string[] = [];
    let page = await read('first: 3');
    expect(page.pageInfo.hasPreviousPage).toBe(false);
    for (;;) {
      expect(page.edges.map((e) => e.node.userid)).toEqual(page.nodes.map((n) => n.userid));
      expect(page.pageInfo.startCursor).toBe(page.edges[0]!.cursor);
      expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)!.cursor);
      forwards.push(...page.nodes.map((n) => n.userid));
      if (!page.pageInfo.hasNextPage) break;
      page = await read(`first: 3, after: "${page.pageInfo.endCursor}"`);
      expect(page.pageInfo.hasPreviousPage).toBe(true);
    }
    expect(forwards).toEqual(userids);

    const tail = await read(`first: 500, after: "${whole.edges[4]!.cursor}"`);
    expect(tail.nodes.map((n) => n.userid)).toEqual(userids.slice(5));
    const before = await read(`last: 2, before: "${whole.edges[5]!.cursor}"`);
    expect(before.nodes.map((n) => n.userid)).toEqual(userids.slice(3, 5));
    expect(before.pageInfo.hasPreviousPage).toBe(true);
  });
});
