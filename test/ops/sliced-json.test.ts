import { describe, expect, it } from 'vitest';
import { GraphQLError } from 'graphql';
import { stringifySliced } from '../../src/ops/sliced-json.ts';

/** Big answers are serialized in slices: the very text JSON.stringify gives, with turns for other requests. */

/** A tree like the 2,000-department org chart: objects in arrays in objects, Han names, nulls. */
function tree(width: number, depth: number, path = 'd'): Record<string, unknown> {
  const node: Record<string, unknown> = Object.create(null);
  node.id = path;
  node.name = `部门 ${path} "quoted" \\ \u2028`;
  node.order = depth * 1.5;
  node.leader = depth % 2 ? null : { userid: `u-${path}`, avatar: undefined };
  node.children = depth === 0 ? [] : Array.from({ length: width }, (_, i) => tree(width, depth - 1, `${path}.${i}`));
  return node;
}

describe('stringifySliced', () => {
  it('gives the same text as JSON.stringify for answers, errors, and what JSON leaves out', async () => {
    const values: unknown[] = [
      { data: tree(3, 9) },
      { data: null, errors: [new GraphQLError('refused', { extensions: { code: 'X' } })] },
      [1, 'two', undefined, () => 3, Symbol('s'), Number.NaN, -0, true, [[[[[[[[[]]]]]]]]]],
      { a: undefined, b: () => 1, c: [undefined], d: { toJSON: () => 'custom' } },
      'just a string',
      null,
    ];
    for (const value of values) expect(await stringifySliced(value)).toBe(JSON.stringify(value));
  });

  it('lets a timer run while a big answer is serialized', async () => {
    const big = { data: tree(14, 4) };
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    try {
      const text = await stringifySliced(big);
      expect(text).toBe(JSON.stringify(big));
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThan(0);
  });
});
