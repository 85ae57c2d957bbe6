import { builder } from './builder.ts';
import { DepartmentRef, UserConnectionRef, UserRef } from './refs.ts';
import { badInput } from './graphql-errors.ts';
import { yieldIfBusy } from '../ops/yield.ts';
import { UserPage } from './user-page.ts';

builder.node(DepartmentRef, {
  description: 'A department (部门) of the corp. Its place in the tree comes from one department/list per request.',
  id: {
    description: 'Global id (Relay) of the department, for `Query.node`; opaque, not the WeCom id (use `departmentId` for that).',
    resolve: (d) => String(d.id),
    parse: (id) => Number(id),
  },
  loadOne: async (id, ctx) => (await ctx.loaders.tree()).get(id) ?? null,
  fields: (t) => ({
    departmentId: t.exposeInt('id', { description: 'WeCom department id (the root is 1).' }),
    name: t.exposeString('name', { description: 'Display name.' }),
    nameEn: t.string({
      nullable: true,
      description: 'English name (only when multi-language is enabled in WeCom).',
      resolve: (d) => d.nameEn || null,
    }),
    order: t.field({ type: 'WeComOrder', description: 'Sort order among siblings; larger first.', resolve: (d) => d.order }),
    parentId: t.int({
      description: 'Parent department id (0 for the root).',
      // The tops of what the caller may see are its roots: their real parent is outside the view
      // and its id is not the caller's to learn (a key limited to a subtree saw `parentId: 1`).
      resolve: async (d, _args, ctx) => (ctx.departmentScope && !(await ctx.loaders.tree()).parent(d.id) ? 0 : d.parentid),
    }),
    parent: t.field({
      type: DepartmentRef,
      nullable: true,
      description: 'The parent department; null for the top of the tree.',
      resolve: async (d, _args, ctx) => (await ctx.loaders.tree()).parent(d.id) ?? null,
    }),
    children: t.field({
      type: [DepartmentRef],
      description: 'Sub-departments, in WeCom order.',
      resolve: async (d, _args, ctx) => {
        await yieldIfBusy();
        return (await ctx.loaders.tree()).children(d.id);
      },
    }),
    ancestors: t.field({
      type: [DepartmentRef],
      description: 'Departments above this one, root first.',
      resolve: async (d, _args, ctx) => (await ctx.loaders.tree()).ancestors(d.id),
    }),
    descendants: t.field({
      type: [DepartmentRef],
      description: 'Departments below this one, breadth first.',
      args: { maxDepth: t.arg.int({ required: false, description: 'Levels to descend (1 = children only); all when omitted.' }) },
      resolve: async (d, { maxDepth }, ctx) => {
        if (maxDepth != null && maxDepth < 1) throw badInput('maxDepth must be at least 1');
        await yieldIfBusy();
        return (await ctx.loaders.tree()).descendants(d.id, maxDepth ?? undefined);
      },
    }),
    depth: t.int({
      description: 'Level in the tree: 1 for the root department (WeCom allows 15 levels).',
      resolve: async (d, _args, ctx) => (await ctx.loaders.tree()).depth(d.id),
    }),
    leaders: t.field({
      type: [UserRef],
      description: 'Department heads (部门负责人).',
      resolve: async (d, _args, ctx) => present(await ctx.loaders.user.loadMany(d.departmentLeader)),
    }),
    members: t.connection(
      {
        type: UserRef,
        description:
          'Members of the department, in WeCom order; with `recursive`, of its whole subtree, each once. Pages of 50 by default; a larger `first` than 500 gives 500.',
        args: { recursive: t.arg.boolean({ defaultValue: false, description: 'Include members of all sub-departments.' }) },
        resolve: async (d, args, ctx) => {
          // One of thousands in a big tree: let other requests in between (src/ops/yield.ts), before
          // the load and after it: the loads of a whole tree resolve in one batch, and each page
          // completed in that turn would otherwise hold the loop until the last one.
          await yieldIfBusy();
          const users = args.recursive ? await ctx.loaders.subtreeMembers(d.id) : await ctx.loaders.members.load(d.id);
          await yieldIfBusy();
          return new UserPage(users, args);
        },
      },
      UserConnectionRef,
    ),
    memberCount: t.int({
      description: 'Number of members; with `recursive`, of the whole subtree, each counted once.',
      args: { recursive: t.arg.boolean({ defaultValue: false, description: 'Count the members of all sub-departments too.' }) },
      // No yield before the loads: every department of the answer must reach the same batch.
      resolve: async (d, { recursive }, ctx) =>
        recursive ? ctx.loaders.subtreeMemberCount.load(d.id) : (await ctx.loaders.members.load(d.id)).length,
    }),
  }),
});

/** The loaded values, without misses; a failed load fails the field. */
export function present<T>(values: readonly (T | null | Error)[]): T[] {
  const out: T[] = [];
  for (const v of values) {
    if (v instanceof Error) throw v;
    if (v !== null) out.push(v);
  }
  return out;
}

builder.queryFields((t) => ({
  department: t.field({
    type: DepartmentRef,
    nullable: true,
    description: 'A department by its WeCom id; null when it does not exist or is not visible.',
    args: { id: t.arg.int({ required: true, description: 'WeCom department id (`departmentId`; the root is 1).' }) },
    resolve: async (_root, { id }, ctx) => (await ctx.loaders.tree()).get(id) ?? null,
  }),
  departments: t.field({
    type: [DepartmentRef],
    description: 'A department and everything below it (the whole visible tree without rootId), parents before children.',
    args: {
      rootId: t.arg.int({
        required: false,
        description: 'WeCom id of the top department to list; empty list when it is unknown or not visible.',
      }),
    },
    resolve: async (_root, { rootId }, ctx) => {
      const tree = await ctx.loaders.tree();
      if (rootId == null) return tree.roots.flatMap((r) => [r, ...tree.descendants(r.id)]);
      const root = tree.get(rootId);
      return root ? [root, ...tree.descendants(rootId)] : [];
    },
  }),
}));
