import { getNamedType, isListType, isNonNullType, type GraphQLField, type GraphQLOutputType } from 'graphql';

/**
 * What a query costs, estimated from its shape before it runs (Pothos complexity plugin): each
 * field costs 1, and what is selected under a list costs once per expected item. The expected
 * number of items is what the query asks for where it says (`first`/`last` of a connection, the
 * ids of `nodes(ids)` and `users(userids)`), a fixed guess elsewhere. Fields that make an
 * upstream call of their own per item cost more. The limit is MAX_QUERY_COST (server.ts).
 */

export const DEFAULT_COMPLEXITY = 1;
/** Items expected of a list whose size the query does not state (children, tags, leaders …). */
export const LIST_MULTIPLIER = 10;
/** Items of a connection page when the query gives neither `first` nor `last` (the graph's default page). */
export const DEFAULT_PAGE_ITEMS = 50;
/** Items expected of lists that can hold a whole subtree (Query.departments, Department.descendants). */
export const SUBTREE_ITEMS = 100;

/** Fields that cost an upstream WeCom call of their own each time they resolve. */
const UPSTREAM_CALL_COST: Readonly<Record<string, number>> = {
  openId: 10, // user/convert_to_openid per member
  userByMobile: 5,
  userByEmail: 5,
  userByOpenId: 5,
  joinQrCode: 5,
  activeUserCount: 5,
  linkedUser: 5,
  linkedCorps: 10,
};

function typeIsList(type: GraphQLOutputType): boolean {
  return isListType(isNonNullType(type) ? type.ofType : type);
}

const count = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? Math.max(0, value) : undefined;

export function fieldCost<Context>(
  args: Record<string, unknown>,
  _ctx: Context,
  field: GraphQLField<unknown, Context, Record<string, unknown>>,
): { field: number; multiplier: number } {
  const cost = UPSTREAM_CALL_COST[field.name] ?? DEFAULT_COMPLEXITY;
  const named = getNamedType(field.type).name;
  // A Relay connection: its page holds `first` (or `last`) items; edges and nodes under it count once.
  if (named.endsWith('Connection')) return { field: cost, multiplier: count(args.first) ?? count(args.last) ?? DEFAULT_PAGE_ITEMS };
  if (named.endsWith('Edge') || (field.name === 'nodes' && field.args.length === 0)) return { field: 0, multiplier: 1 };
  if (Array.isArray(args.ids)) return { field: cost, multiplier: args.ids.length };
  if (Array.isArray(args.userids) && typeIsList(field.type)) return { field: cost, multiplier: args.userids.length };
  if (field.name === 'descendants' || (field.name === 'departments' && field.args.some((a) => a.name === 'rootId'))) {
    return { field: cost, multiplier: SUBTREE_ITEMS };
  }
  return { field: cost, multiplier: typeIsList(field.type) ? LIST_MULTIPLIER : 1 };
}
