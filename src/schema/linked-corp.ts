import { builder } from './builder.ts';
import type { LinkGroup, LinkedDept, LinkedMember } from '../loaders/linked.ts';
import { badInput } from './graphql-errors.ts';
import type { ExtAttr } from '../wecom/users.ts';
import { PII } from './pii.ts';

export const LinkedCorpRef = builder.objectRef<LinkGroup>('LinkedCorp');
export const LinkedDepartmentRef = builder.objectRef<LinkedDept>('LinkedDepartment');
export const LinkedUserRef = builder.objectRef<LinkedMember>('LinkedUser');
const LinkedAttributeRef = builder.objectRef<ExtAttr & { value?: string }>('LinkedUserAttribute');

/** Composite ids as WeCom writes them: `LINKEDID/DEPARTMENTID`, `CORPID/USERID`. */
export const COMPOSITE_ID = /^[^/\s]{1,64}\/[^/\s]{1,64}$/;

function compositeId(value: string, field: string): string {
  if (!COMPOSITE_ID.test(value)) throw badInput(`${field} must look like "PREFIX/ID" (CORPID/USERID or LINKEDID/DEPARTMENTID)`, field);
  return value;
}

builder.node(LinkedCorpRef, {
  description: 'A link group of corps (互联企业) whose departments this app was granted.',
  id: {
    description: 'Global id (Relay) of the link group, for `Query.node`; opaque (use `linkedId` for WeCom).',
    resolve: (g) => g.linkedId,
  },
  loadOne: async (linkedId, ctx) => (await ctx.linked.groups()).find((g) => g.linkedId === linkedId) ?? null,
  fields: (t) => ({
    linkedId: t.exposeString('linkedId', { description: 'WeCom link group id (LINKEDID).' }),
    departments: t.field({ type: [LinkedDepartmentRef], description: 'Departments granted to this app.', resolve: (g) => g.granted }),
    members: t.field({
      type: [LinkedUserRef],
      description: 'Everyone in the granted departments and below them.',
      resolve: async (g, _args, ctx) => {
        const lists = await ctx.linked.members.loadMany(g.granted.map((d) => `r:${d.id}`));
        const seen = new Map<string, LinkedMember>();
        for (const list of lists) {
          if (list instanceof Error) throw list;
          for (const u of list) seen.set(u.id, u);
        }
        return [...seen.values()];
      },
    }),
  }),
});

builder.node(LinkedDepartmentRef, {
  description: 'A department of a linked corp.',
  id: {
    description:
      'Global id (Relay) of the linked department, for `Query.node`; opaque (use `departmentId`, LINKEDID/DEPARTMENTID, for WeCom).',
    resolve: (d) => d.id,
  },
  loadOne: (id, ctx) => ctx.linked.department(id),
  fields: (t) => ({
    departmentId: t.exposeString('id', { description: 'Composite id LINKEDID/DEPARTMENTID.' }),
    linkedId: t.exposeString('linkedId', { description: 'The link group (LINKEDID) the department belongs to.' }),
    name: t.exposeString('name', { description: 'Department name as the linked corp has it.' }),
    order: t.field({ type: 'WeComOrder', description: 'Sort order among siblings; larger first.', resolve: (d) => d.order }),
    parentId: t.exposeString('parentId', { nullable: true, description: 'Null at the top of what this app may see.' }),
    parent: t.field({
      type: LinkedDepartmentRef,
      nullable: true,
      description: 'The parent department; null at the top of what this app may see.',
      resolve: (d, _args, ctx) => (d.parentId ? ctx.linked.department(d.parentId) : null),
    }),
    children: t.field({
      type: [LinkedDepartmentRef],
      description: 'Sub-departments this app may see, in WeCom order.',
      resolve: async (d, _args, ctx) => (await ctx.linked.groups()).find((g) => g.linkedId === d.linkedId)?.children.get(d.id) ?? [],
    }),
    members: t.field({
      type: [LinkedUserRef],
      description: 'Members of the department (linkedcorp/user/list); with `recursive`, of its sub-departments too.',
      args: { recursive: t.arg.boolean({ defaultValue: false, description: 'Include sub-departments (fetch_child).' }) },
      resolve: (d, { recursive }, ctx) => ctx.linked.members.load(`${recursive ? 'r' : 'd'}:${d.id}`),
    }),
  }),
});

LinkedAttributeRef.implement({
  description: 'A custom attribute of a linked-corp member (extattr), as the linked corp configured it.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Attribute name as configured in the linked corp.' }),
    type: t.exposeInt('type', { description: '0 text, 1 web, 2 mini program.' }),
    text: t.string({
      nullable: true,
      description: 'Value of a text attribute; null for other types.',
      resolve: (a) => a.text?.value ?? a.value ?? null,
    }),
    url: t.string({ nullable: true, description: 'Link of a web attribute; null for other types.', resolve: (a) => a.web?.url ?? null }),
    title: t.string({
      nullable: true,
      description: 'Title of a web attribute; null for other types.',
      resolve: (a) => a.web?.title ?? null,
    }),
  }),
});

builder.node(LinkedUserRef, {
  description: 'A member of a linked corp.',
  id: {
    description: 'Global id (Relay) of the linked member, for `Query.node`; opaque (use `userid`, CORPID/USERID, for WeCom).',
    resolve: (u) => u.id,
  },
  loadOne: (id, ctx) => ctx.linked.user.load(id),
  fields: (t) => ({
    userid: t.exposeString('id', { description: 'Composite id CORPID/USERID.' }),
    corpId: t.exposeString('corpid', { description: 'The corp (CORPID) the member belongs to.' }),
    name: t.exposeString('name', { description: 'Display name as the linked corp has it.' }),
    position: t.string({ nullable: true, description: 'Job title; null when not set or not shared.', resolve: (u) => u.position || null }),
    mobile: t.string({ ...PII, nullable: true, description: 'PII.', resolve: (u) => u.mobile || null }),
    telephone: t.string({ ...PII, nullable: true, description: 'PII.', resolve: (u) => u.telephone || null }),
    email: t.string({ ...PII, nullable: true, description: 'PII.', resolve: (u) => u.email || null }),
    extAttrs: t.field({
      type: [LinkedAttributeRef],
      description: 'Custom attributes the linked corp shares (configured in its admin console); empty when none.',
      resolve: (u) => u.extattr?.attrs ?? [],
    }),
    departments: t.field({
      type: [LinkedDepartmentRef],
      description: 'The linked departments the member belongs to that this app may see.',
      resolve: async (u, _args, ctx) => (await Promise.all(u.department.map((id) => ctx.linked.department(id)))).filter((d) => d !== null),
    }),
  }),
});

builder.queryFields((t) => ({
  linkedCorps: t.field({
    type: [LinkedCorpRef],
    description: 'Linked corps this app was granted (self-built app secret required).',
    resolve: (_root, _args, ctx) => ctx.linked.groups(),
  }),
  linkedUser: t.field({
    type: LinkedUserRef,
    nullable: true,
    description: 'A member of a linked corp (linkedcorp/user/get); null when unknown or outside what this app was granted.',
    args: { userid: t.arg.string({ required: true, description: 'Composite id CORPID/USERID (BAD_USER_INPUT when not of that form).' }) },
    resolve: (_root, { userid }, ctx) => ctx.linked.user.load(compositeId(userid, 'userid')),
  }),
  linkedDepartment: t.field({
    type: LinkedDepartmentRef,
    nullable: true,
    description: 'A department of a linked corp; null when unknown or outside what this app was granted.',
    args: {
      id: t.arg.string({ required: true, description: 'Composite id LINKEDID/DEPARTMENTID (BAD_USER_INPUT when not of that form).' }),
    },
    resolve: (_root, { id }, ctx) => ctx.linked.department(compositeId(id, 'id')),
  }),
}));
