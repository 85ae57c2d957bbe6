import {
  GraphQLError,
  TypeInfo,
  getNamedType,
  isInputObjectType,
  isListType,
  isNonNullType,
  valueFromAST,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import { DEPARTMENTS_PER_CORP_MAX, INVITE_USERS_MAX, LIST_ID_LIMIT_MAX, TAG_USERS_PER_CALL_MAX } from 'wecom-protocol/limits';
import { MAX_PAGE_SIZE } from '../schema/user-page.ts';

/**
 * Every list argument is bounded before the operation runs: a list longer than its bound fails
 * the request with LIST_TOO_LONG, and nothing executes. Arguments whose resolvers check a bound of
 * their own (users(userids) ≤ 200, deleteUsers ≤ 200, inviteUsers ≤ 1000 …) keep giving their
 * precise, typed errors: the bounds here sit at or above theirs and cut only what is absurd.
 * Nested lists (rows[].departmentIds) are bounded too, by their input type's field.
 */

/** Wider bounds by argument (`Type.field.argument`) or input field (`InputType.field`). */
export const LIST_ARGUMENT_BOUNDS: Readonly<Record<string, number>> = {
  // Typed rows of an import: as many as a 5 MB body can carry, and a corp can hold.
  'Mutation.importUsers.rows': 50_000,
  'Mutation.importDepartments.rows': DEPARTMENTS_PER_CORP_MAX,
  // Twice WeCom's per-call maxima, so that a modest overflow still gets the mutation's typed ValidationError.
  'Mutation.inviteUsers.userids': 2 * INVITE_USERS_MAX,
  'Mutation.addTagMembers.userids': 2 * TAG_USERS_PER_CALL_MAX,
  'Mutation.removeTagMembers.userids': 2 * TAG_USERS_PER_CALL_MAX,
  // Relay's nodes(ids): as many as users(userids) takes.
  'Query.nodes.ids': 200,
};

/**
 * Pages of connections (`first`/`last`): at most MAX_PAGE_SIZE items, or the field's own bound.
 * Relay would quietly cut a larger page; asking for one is refused instead, so a client learns
 * the bound rather than reading a short page as the end.
 */
export const PAGE_BOUNDS: Readonly<Record<string, number>> = {
  // One WeCom user/list_id page.
  'Query.userIds': LIST_ID_LIMIT_MAX,
};

function badPage(label: string, max: number, got: unknown): GraphQLError {
  return new GraphQLError(`${label}: must be 0 to ${max} (got ${String(got)})`, {
    extensions: { code: 'BAD_USER_INPUT', argument: label, max, http: { status: 400 } },
  });
}

export function listTooLong(label: string, max: number, got: number): GraphQLError {
  return new GraphQLError(`${label}: at most ${max} items per list (got ${got})`, {
    extensions: { code: 'LIST_TOO_LONG', argument: label, max, http: { status: 400 } },
  });
}

/**
 * The first list argument of the operation (its fragments included) longer than its bound, or
 * page size out of its range, as an error; undefined when all are within bounds. Values come from
 * literals and from the variables.
 */
export function checkListArguments(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | null | undefined,
  defaultMax: number,
): GraphQLError | undefined {
  const typeInfo = new TypeInfo(schema);
  let failure: GraphQLError | undefined;

  const walk = (value: unknown, type: GraphQLInputType, key: string, label: string): void => {
    if (failure || value === null || value === undefined) return;
    const inner = isNonNullType(type) ? type.ofType : type;
    if (isListType(inner)) {
      if (!Array.isArray(value)) {
        walk(value, inner.ofType, key, label);
        return;
      }
      const max = LIST_ARGUMENT_BOUNDS[key] ?? defaultMax;
      if (value.length > max) {
        failure = listTooLong(label, max, value.length);
        return;
      }
      for (const item of value) walk(item, inner.ofType, key, label);
      return;
    }
    const named = getNamedType(inner);
    if (isInputObjectType(named) && typeof value === 'object') {
      for (const field of Object.values(named.getFields())) {
        const fieldValue = (value as Record<string, unknown>)[field.name];
        if (fieldValue !== undefined) walk(fieldValue, field.type, `${named.name}.${field.name}`, `${label}.${field.name}`);
      }
    }
  };

  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Argument(node) {
        if (failure) return false;
        const arg = typeInfo.getArgument();
        const field = typeInfo.getFieldDef();
        const parent = typeInfo.getParentType();
        if (!arg || !field || !parent) return undefined;
        const value = valueFromAST(node.value, arg.type, variables ?? undefined);
        const label = `${parent.name}.${field.name}(${arg.name}:)`;
        if (
          (arg.name === 'first' || arg.name === 'last') &&
          getNamedType(field.type).name.endsWith('Connection') &&
          typeof value === 'number'
        ) {
          const max = PAGE_BOUNDS[`${parent.name}.${field.name}`] ?? MAX_PAGE_SIZE;
          if (value < 0 || value > max) failure = badPage(label, max, value);
          return false;
        }
        walk(value, arg.type, `${parent.name}.${field.name}.${arg.name}`, label);
        return false;
      },
    }),
  );
  return failure;
}
