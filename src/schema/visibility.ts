import { builder } from './builder.ts';
import { DepartmentRef, TagRef, UserRef } from './refs.ts';
import type { WeComAgent } from '../wecom/agent.ts';
import type { WeComUser } from '../wecom/users.ts';

/**
 * What the service may see when it reads through an app secret (agent/get, docs/wecom-api.md §14):
 * since 2022 an app reads only its visible range (可见范围).
 */
const AppVisibilityRef = builder.objectRef<WeComAgent>('AppVisibility').implement({
  description:
    "The visible range (可见范围) of the WeCom app the service reads through (agent/get): the union of the listed members, every member of the listed departments' subtrees, and the members of the listed tags.",
  fields: (t) => ({
    agentId: t.exposeInt('agentId', { description: "The app's AgentId (WECOM_AGENT_ID)." }),
    name: t.exposeString('name', { description: "The app's name in WeCom." }),
    description: t.string({
      nullable: true,
      description: "The app's description; null when empty.",
      resolve: (a) => a.description || null,
    }),
    closed: t.exposeBoolean('closed', {
      description: 'True when the app is disabled in WeCom (close = 1): its secret then reads nothing.',
    }),
    departmentIds: t.exposeIntList('allowDepartmentIds', {
      description: 'Departments made visible, each with its whole subtree (allow_partys).',
    }),
    departments: t.field({
      type: [DepartmentRef],
      description: 'The visible departments as the graph has them (deleted ones are left out).',
      resolve: async (a, _args, ctx) => {
        const tree = await ctx.loaders.tree();
        return a.allowDepartmentIds.map((id) => tree.get(id)).filter((d) => d !== undefined);
      },
    }),
    userids: t.exposeStringList('allowUserids', {
      description: 'Members made visible one by one (allow_userinfos), also outside the visible departments.',
    }),
    users: t.field({
      type: [UserRef],
      description: 'The members made visible one by one, as the graph has them (members WeCom no longer has are left out).',
      resolve: async (a, _args, ctx) => {
        const users = await ctx.loaders.user.loadMany(a.allowUserids);
        return users.filter((u): u is WeComUser => u !== null && !(u instanceof Error));
      },
    }),
    tagIds: t.exposeIntList('allowTagIds', {
      description: "Tags made visible: their members and their departments' subtrees (allow_tags).",
    }),
    tags: t.field({
      type: [TagRef],
      description: 'The visible tags as the graph has them.',
      resolve: async (a, _args, ctx) => {
        const wanted = new Set(a.allowTagIds);
        return (await ctx.loaders.tags()).filter((tag) => wanted.has(tag.tagid));
      },
    }),
  }),
});

builder.queryFields((t) => ({
  visibility: t.field({
    type: AppVisibilityRef,
    nullable: true,
    // It names members and departments anywhere in the corp: not for a caller limited to subtrees.
    authScopes: { wholeCorp: true },
    description:
      "What the service may see when it reads through an app secret (WECOM_APP_SECRET): the app's visible range from agent/get, refreshed every few minutes. Null when reads go through the contacts-sync secret, which sees the whole corp. Needs a credential for the whole corp.",
    resolve: (_root, _args, ctx) => ctx.appVisibility(),
  }),
}));
