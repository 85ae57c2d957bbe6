import { describe, expect } from 'vitest';
import { serviceTest } from '../testkit/service.ts';

/**
 * Queries run compiled (src/ops/compiled-queries.ts). What graphql-jit does differently from the
 * spec is covered here: variables are coerced as graphql-js does, defaults included.
 */

const it = serviceTest();

describe('compiled queries: variables', () => {
  it('use the default of a non-null variable left out', async ({ service }) => {
    const res = await service.query('query Dept($id: Int! = 2) { department(id: $id) { departmentId } }');
    expect(res.errors).toBeUndefined();
    expect(res.data?.department.departmentId).toBe(2);
  });

  it('use the value sent over the default, and defaults of list and nullable variables', async ({ service }) => {
    const res = await service.query(
      'query Q($id: Int! = 2, $first: Int = 1, $ids: [String!]! = ["nobody.here"]) { department(id: $id) { departmentId members(first: $first) { nodes { userid } } } users(userids: $ids) { userid } }',
      { id: 1 },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data?.department.departmentId).toBe(1);
    expect(res.data?.department.members.nodes).toHaveLength(1);
    expect(res.data?.users).toEqual([null]);
  });

  it('refuse null for a non-null variable even when it has a default, naming the variable, and run nothing', async ({ service }) => {
    const res = await service.query('query Dept($id: Int! = 2) { department(id: $id) { departmentId } }', { id: null });
    expect(res.data).toBeUndefined();
    expect(res.errors?.[0]?.message).toMatch(/\$id/);
    expect((await service.wecom.stats()).total).toBe(0);
  });

  it('refuse a value of the wrong type, naming the variable', async ({ service }) => {
    const res = await service.query('query Dept($id: Int!) { department(id: $id) { departmentId } }', { id: 'two' });
    expect(res.data).toBeUndefined();
    expect(res.errors?.[0]?.message).toMatch(/\$id/);
  });
});
