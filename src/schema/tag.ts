import { builder } from './builder.ts';
import { DepartmentRef, TagRef, UserRef } from './refs.ts';
import { present } from './department.ts';

builder.node(TagRef, {
  description: 'A tag (标签) grouping members and departments.',
  id: {
    description: 'Global id (Relay) of the tag, for `Query.node`; opaque, not the WeCom id (use `tagId` for that).',
    resolve: (t) => String(t.tagid),
    parse: (id) => Number(id),
  },
  loadOne: async (tagid, ctx) => (await ctx.loaders.tags()).find((t) => t.tagid === tagid) ?? null,
  fields: (t) => ({
    tagId: t.exposeInt('tagid', { description: 'WeCom tag id.' }),
    name: t.exposeString('tagname', { description: 'Tag name (tagname), 1–32 characters, unique in the corp.' }),
    users: t.field({
      type: [UserRef],
      description: 'Members listed on the tag directly (tag/get).',
      resolve: async (tag, _args, ctx) => {
        const members = await ctx.loaders.tag.load(tag.tagid);
        return members ? present(await ctx.loaders.user.loadMany(members.userlist.map((u) => u.userid))) : [];
      },
    }),
    departments: t.field({
      type: [DepartmentRef],
      description: 'Departments listed on the tag (tag/get).',
      resolve: async (tag, _args, ctx) => {
        const [members, tree] = await Promise.all([ctx.loaders.tag.load(tag.tagid), ctx.loaders.tree()]);
        return (members?.partylist ?? []).flatMap((id) => tree.get(id) ?? []);
      },
    }),
  }),
});

builder.queryFields((t) => ({
  tag: t.field({
    type: TagRef,
    nullable: true,
    description: 'A tag by its WeCom id; null when it does not exist or is not visible to this service.',
    args: { id: t.arg.int({ required: true, description: 'WeCom tag id.' }) },
    resolve: async (_root, { id }, ctx) => (await ctx.loaders.tags()).find((tag) => tag.tagid === id) ?? null,
  }),
  tags: t.field({ type: [TagRef], description: 'Every tag (tag/list).', resolve: (_root, _args, ctx) => ctx.loaders.tags() }),
}));
