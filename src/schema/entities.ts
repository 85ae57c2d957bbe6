import { builder } from './builder.ts';
import { DepartmentRef, TagRef, UserRef } from './refs.ts';
import { COMPOSITE_ID, LinkedCorpRef, LinkedDepartmentRef, LinkedUserRef } from './linked-corp.ts';
import { badInput } from './graphql-errors.ts';
import { isValidUserid } from 'wecom-protocol/limits';

/**
 * The entities other subgraphs of a supergraph may point at (Apollo Federation `@key`), each keyed
 * by the stable WeCom id the graph already exposes. A representation is resolved through the
 * request's loaders, exactly like the root field that reads the same thing (`user`/`users`,
 * `department`, `tag`, `linkedCorps`, `linkedUser`, `linkedDepartment`), so batching, the
 * directory cache, scopes, subtree limits and PII rules are the ones those fields have: what the
 * caller may not see resolves to null. The subgraph schema is built in federation.ts.
 */

interface EntityKind {
  typename: string;
  keyField: string;
  /** Why the key value cannot name such an entity, or undefined when it can. */
  invalid(value: unknown): string | undefined;
}

const userid = (value: unknown) =>
  typeof value === 'string' && isValidUserid(value)
    ? undefined
    : 'not a WeCom userid (1–64 bytes of letters, digits, _ - @ . starting with a letter or digit)';
const positiveInt = (value: unknown) =>
  Number.isSafeInteger(value) && (value as number) > 0 ? undefined : 'not a WeCom id (a positive integer)';
const composite = (value: unknown) => (typeof value === 'string' && COMPOSITE_ID.test(value) ? undefined : 'not of the form "PREFIX/ID"');
const linkedId = (value: unknown) =>
  typeof value === 'string' && value.length > 0 && value.length <= 64 ? undefined : 'not a link group id (1–64 characters)';

export const ENTITY_KINDS: readonly EntityKind[] = [
  { typename: 'User', keyField: 'userid', invalid: userid },
  { typename: 'Department', keyField: 'departmentId', invalid: positiveInt },
  { typename: 'Tag', keyField: 'tagId', invalid: positiveInt },
  { typename: 'LinkedCorp', keyField: 'linkedId', invalid: linkedId },
  { typename: 'LinkedUser', keyField: 'userid', invalid: composite },
  { typename: 'LinkedDepartment', keyField: 'departmentId', invalid: composite },
];

const KIND_BY_TYPENAME = new Map(ENTITY_KINDS.map((k) => [k.typename, k]));

/**
 * Every representation names an entity type of this subgraph and carries a well-formed key, or
 * BAD_USER_INPUT naming the first one that does not, before anything is read: the same rule as
 * users(userids:), where one impossible userid fails the field and reaches no upstream call.
 */
export function checkRepresentations(representations: readonly unknown[]): void {
  representations.forEach((rep, i) => {
    const at = `representations[${i}]`;
    if (typeof rep !== 'object' || rep === null || Array.isArray(rep))
      throw badInput(`${at}: must be an object with __typename and the key fields`, 'representations');
    const { __typename: typename } = rep as Record<string, unknown>;
    const kind = typeof typename === 'string' ? KIND_BY_TYPENAME.get(typename) : undefined;
    if (!kind) {
      throw badInput(
        `${at}.__typename: must be one of ${ENTITY_KINDS.map((k) => k.typename).join(', ')} (got ${JSON.stringify(typename ?? null)})`,
        'representations',
      );
    }
    const why = kind.invalid((rep as Record<string, unknown>)[kind.keyField]);
    if (why) throw badInput(`${at}.${kind.keyField}: ${why}`, 'representations');
  });
}

/**
 * A copy of what a loader returned: the federation resolver marks each result with its
 * __typename, and the loaded object may be shared through the cross-request directory cache.
 */
const copy = <T extends object>(value: T | null): T | null => (value ? { ...value } : null);

builder.asEntity(UserRef, {
  key: builder.selection<{ userid: string }>('userid'),
  resolveReference: async ({ userid }, ctx) => copy(await ctx.loaders.user.load(userid)),
});
builder.asEntity(DepartmentRef, {
  key: builder.selection<{ departmentId: number }>('departmentId'),
  resolveReference: async ({ departmentId }, ctx) => copy((await ctx.loaders.tree()).get(departmentId) ?? null),
});
builder.asEntity(TagRef, {
  key: builder.selection<{ tagId: number }>('tagId'),
  resolveReference: async ({ tagId }, ctx) => copy((await ctx.loaders.tags()).find((t) => t.tagid === tagId) ?? null),
});
builder.asEntity(LinkedCorpRef, {
  key: builder.selection<{ linkedId: string }>('linkedId'),
  resolveReference: async ({ linkedId }, ctx) => copy((await ctx.linked.groups()).find((g) => g.linkedId === linkedId) ?? null),
});
builder.asEntity(LinkedUserRef, {
  key: builder.selection<{ userid: string }>('userid'),
  resolveReference: async ({ userid }, ctx) => copy(await ctx.linked.user.load(userid)),
});
builder.asEntity(LinkedDepartmentRef, {
  key: builder.selection<{ departmentId: string }>('departmentId'),
  resolveReference: async ({ departmentId }, ctx) => copy(await ctx.linked.department(departmentId)),
});
