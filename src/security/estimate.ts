import { userKey } from 'wecom-protocol/userid';
import {
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  isAbstractType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isInterfaceType,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import type { CorpSizes } from './corp-sizes.ts';
import type { EveryoneView } from '../loaders/index.ts';
import { DEFAULT_PAGE_ITEMS, LIST_MULTIPLIER, SUBTREE_ITEMS } from './cost.ts';

/**
 * What an operation will cost, estimated from its shape and the corp's real sizes before it runs:
 * - `cost`: the fields it will resolve. Every field counts once per object it is resolved on,
 *   and the number of objects under a list is what the corp holds there: the departments of the
 *   subtree asked for, the members of each department (at most the page asked for), the children,
 *   descendants and ancestors each department has. Sizes come from the directory cache
 *   (corp-sizes.ts); before the tree is cached, fixed guesses stand in (cost.ts).
 * - `upstreamCalls`: the WeCom calls it may make one per item, which the directory cache does not
 *   answer: user/get per distinct userid not known (users(userids:), user(userid:), nodes(ids:),
 *   aliases included), convert_to_openid per member whose openid is not remembered, getuserid per
 *   userByMobile/userByEmail … Reads of whole lists (department/list, one user/list per
 *   department, tag/list) are not counted: the corp's size bounds them and the directory cache
 *   shares them between requests.
 */

export interface EstimateInputs {
  schema: GraphQLSchema;
  document: DocumentNode;
  operationName?: string | null | undefined;
  variables: Record<string, unknown>;
  /** The corp's sizes, when the directory cache knows the tree. */
  sizes?: CorpSizes | undefined;
  /** The caller's department subtrees (a scoped key sees only those). */
  departmentRoots?: readonly number[] | undefined;
  /** Whether a member lookup would be answered without WeCom (cached, or known not to exist). */
  memberKnown(userid: string): boolean;
  /** Whether a member's openid is remembered. */
  openIdKnown(userid: string): boolean;
}

export interface Estimate {
  cost: number;
  upstreamCalls: number;
  /** Upstream calls by endpoint (for the error and the log line). */
  calls: Record<string, number>;
  /** The department member lists it reads (src/security/directory-loading.ts checks they can be read in time). */
  memberLists: MemberListNeeds;
}

/**
 * The member lists an operation reads: one `user/list` each unless the directory cache holds it.
 * Not part of `upstreamCalls` (the corp's size bounds them and the cache shares them).
 */
export interface MemberListNeeds {
  /** Departments whose own list is read (`members`, `memberCount`). */
  departments: Set<number>;
  /** Departments whose subtree's lists are all read (`members`/`memberCount` with `recursive`). */
  subtrees: Set<number>;
  /** Views built from every department's list (people search, direct reports): no list is read while the view is built. */
  everyone: Set<EveryoneView>;
  /** Some field reads lists of departments the estimate cannot name (the tree is not cached, or departments reached through members). */
  unnamed: boolean;
}

/** Whether an operation reads any member list. */
export function readsMemberLists(needs: MemberListNeeds): boolean {
  return needs.unnamed || needs.departments.size > 0 || needs.subtrees.size > 0 || needs.everyone.size > 0;
}

/** The objects a selection is resolved on: how many, and which departments or members when known. */
interface Population {
  count: number;
  /** Department id → how many times it occurs (only for Department populations whose ids are known). */
  departments?: Map<number, number>;
  /** Distinct userids (only for User populations from explicit ids). */
  userids?: string[];
}

/** Fields that call WeCom once each time they resolve (endpoint, calls). */
const PER_RESOLVE_CALLS: Readonly<Record<string, readonly [string, number]>> = {
  'Query.userByMobile': ['/cgi-bin/user/getuserid', 1],
  'Query.userByEmail': ['/cgi-bin/user/get_userid_by_email', 1],
  'Query.userByOpenId': ['/cgi-bin/user/convert_to_userid', 1],
  'Query.joinQrCode': ['/cgi-bin/corp/get_join_qrcode', 1],
  'Query.activeUserCount': ['/cgi-bin/user/get_active_stat', 1],
  'Query.linkedUser': ['/cgi-bin/linkedcorp/user/get', 1],
  'Query.linkedDepartment': ['/cgi-bin/linkedcorp/department/list', 1],
  'Query.linkedCorps': ['/cgi-bin/linkedcorp/agent/get_perm_list', 1],
};

const USER_GET = '/cgi-bin/user/get';
const CONVERT_TO_OPENID = '/cgi-bin/user/convert_to_openid';

function unwrap(type: GraphQLOutputType): GraphQLOutputType {
  return isNonNullType(type) ? type.ofType : type;
}

const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? Math.max(0, value) : undefined);

/** Relay global ids ("base64(Type:id)") → [type, id]; undefined when not one. */
function globalId(id: unknown): [string, string] | undefined {
  if (typeof id !== 'string') return undefined;
  const decoded = Buffer.from(id, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon > 0 ? [decoded.slice(0, colon), decoded.slice(colon + 1)] : undefined;
}

function weigh(ids: Iterable<number>, weight: number, into: Map<number, number>): void {
  for (const id of ids) into.set(id, (into.get(id) ?? 0) + weight);
}

function total(map: Map<number, number>): number {
  let n = 0;
  for (const w of map.values()) n += w;
  return n;
}

/** Whether @skip and @include keep a selection, as execution will decide (a bad variable: kept, validation fails it). */
function included(node: SelectionNode, variables: Record<string, unknown>): boolean {
  if (!node.directives?.length) return true;
  try {
    if (getDirectiveValues(GraphQLSkipDirective, node, variables)?.if === true) return false;
    return getDirectiveValues(GraphQLIncludeDirective, node, variables)?.if !== false;
  } catch {
    return true;
  }
}

export function estimateOperation(inputs: EstimateInputs): Estimate {
  const { schema, document, variables, sizes } = inputs;
  const fragments = new Map<string, FragmentDefinitionNode>();
  let operation: OperationDefinitionNode | undefined;
  for (const d of document.definitions) {
    if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    else if (d.kind === Kind.OPERATION_DEFINITION && (!inputs.operationName || d.name?.value === inputs.operationName)) operation ??= d;
  }
  const calls: Record<string, number> = {};
  const userGets = new Set<string>();
  const openIds = new Set<string>();
  let anonymousOpenIds = 0;
  const memberLists: MemberListNeeds = { departments: new Set(), subtrees: new Set(), everyone: new Set(), unnamed: false };
  if (!operation) return { cost: 0, upstreamCalls: 0, calls, memberLists };
  const root =
    operation.operation === 'mutation'
      ? schema.getMutationType()
      : operation.operation === 'subscription'
        ? schema.getSubscriptionType()
        : schema.getQueryType();
  if (!root) return { cost: 0, upstreamCalls: 0, calls, memberLists };

  const addCalls = (endpoint: string, n: number) => {
    if (n > 0) calls[endpoint] = (calls[endpoint] ?? 0) + n;
  };
  const userPopulation = (ids: string[]): Population => {
    const distinct = [...new Set(ids.map(userKey))];
    for (const id of distinct) if (!inputs.memberKnown(id)) userGets.add(id);
    return { count: ids.length, userids: distinct };
  };
  const allDepartments = (): Map<number, number> | undefined => {
    if (!sizes) return undefined;
    const map = new Map<number, number>();
    if (inputs.departmentRoots) for (const r of inputs.departmentRoots) weigh(sizes.subtree(r), 1, map);
    else weigh(sizes.ids(), 1, map);
    return map;
  };
  const departmentsOf = (ids: number[]): Population => {
    if (!sizes) return { count: ids.length };
    const map = new Map<number, number>();
    weigh(
      ids.filter((id) => sizes.has(id)),
      1,
      map,
    );
    return { count: ids.length, departments: map };
  };
  const pageOf = (args: Record<string, unknown>) => num(args.first) ?? num(args.last) ?? DEFAULT_PAGE_ITEMS;

  /** The objects a field's value holds, over all the parents in `parent`. */
  const childPopulation = (
    owner: string,
    field: GraphQLField<unknown, unknown>,
    args: Record<string, unknown>,
    parent: Population,
  ): Population => {
    const name = `${owner}.${field.name}`;
    const depts = parent.departments;
    switch (name) {
      case 'Query.departments': {
        if (typeof args.rootId === 'number') {
          const map = sizes ? new Map<number, number>() : undefined;
          if (map && sizes) weigh(sizes.subtree(args.rootId), 1, map);
          return map ? { count: total(map), departments: map } : { count: SUBTREE_ITEMS };
        }
        const map = allDepartments();
        return map ? { count: total(map), departments: map } : { count: SUBTREE_ITEMS };
      }
      case 'Query.department':
        return typeof args.id === 'number' ? departmentsOf([args.id]) : { count: 1 };
      case 'Query.user':
        return typeof args.userid === 'string' ? userPopulation([args.userid]) : { count: 1 };
      case 'Query.users':
        return Array.isArray(args.userids)
          ? userPopulation(args.userids.filter((id): id is string => typeof id === 'string'))
          : { count: 0 };
      case 'Query.node':
      case 'Query.nodes': {
        const ids = name === 'Query.node' ? [args.id] : Array.isArray(args.ids) ? args.ids : [];
        const users: string[] = [];
        const departments: number[] = [];
        let other = 0;
        for (const id of ids) {
          const decoded = globalId(id);
          if (decoded?.[0] === 'User') users.push(decoded[1]);
          else if (decoded?.[0] === 'Department' && /^\d+$/.test(decoded[1])) departments.push(Number(decoded[1]));
          else other++;
        }
        const u = userPopulation(users);
        const d = departmentsOf(departments);
        return { count: u.count + d.count + other, userids: u.userids!, ...(d.departments ? { departments: d.departments } : {}) };
      }
      case 'Department.parent': {
        if (!depts || !sizes) return { count: parent.count };
        const map = new Map<number, number>();
        for (const [id, w] of depts) {
          const p = sizes.parent(id);
          if (p !== undefined) map.set(p, (map.get(p) ?? 0) + w);
        }
        return { count: total(map), departments: map };
      }
      case 'Department.children':
      case 'Department.descendants':
      case 'Department.ancestors': {
        if (!sizes) return { count: parent.count * (field.name === 'descendants' ? SUBTREE_ITEMS : LIST_MULTIPLIER) };
        if (!depts) {
          const average =
            field.name === 'children'
              ? (sizes.departmentCount - 1) / Math.max(1, sizes.departmentCount)
              : field.name === 'descendants'
                ? sizes.averageDescendants
                : sizes.averageDepth;
          return { count: Math.ceil(parent.count * average) };
        }
        const map = new Map<number, number>();
        const maxDepth = num(args.maxDepth);
        for (const [id, w] of depts) {
          if (field.name === 'children') weigh(sizes.children(id), w, map);
          else if (field.name === 'descendants') weigh(sizes.subtree(id, maxDepth).slice(1), w, map);
          else for (let p = sizes.parent(id); p !== undefined; p = sizes.parent(p)) map.set(p, (map.get(p) ?? 0) + w);
        }
        return { count: total(map), departments: map };
      }
      case 'Department.leaders': {
        if (!sizes) return { count: parent.count * LIST_MULTIPLIER };
        if (!depts) return { count: Math.ceil(parent.count * sizes.averageLeaders) };
        let n = 0;
        for (const [id, w] of depts) n += w * sizes.leaders(id);
        return { count: n };
      }
      case 'Department.members': {
        const page = pageOf(args);
        const recursive = args.recursive === true;
        if (!sizes) return { count: parent.count * page };
        if (!depts)
          return {
            count: Math.ceil(
              parent.count *
                Math.min(page, recursive ? sizes.averageRecursiveMembers : sizes.memberships / Math.max(1, sizes.departmentCount)),
            ),
          };
        let n = 0;
        for (const [id, w] of depts) n += w * Math.min(page, Math.ceil(recursive ? sizes.recursiveMembers(id) : sizes.directMembers(id)));
        return { count: n };
      }
      case 'Query.searchUsers':
      case 'Query.userIds':
        return { count: sizes ? Math.min(pageOf(args), sizes.members) : pageOf(args) };
      case 'User.departments':
      case 'User.memberships':
        return { count: Math.ceil(parent.count * (sizes ? Math.max(1, sizes.membershipsPerMember) : LIST_MULTIPLIER)) };
      case 'User.mainDepartment':
        return { count: parent.count };
      case 'User.directLeaders':
        return { count: Math.ceil(parent.count * (sizes ? Math.max(1, sizes.leadersPerMember) : LIST_MULTIPLIER)) };
      default:
        break;
    }
    const type = unwrap(field.type);
    if (getNamedType(type).name.endsWith('Connection')) return { count: parent.count * pageOf(args) };
    if (isListType(type)) {
      if (Array.isArray(args.ids)) return { count: parent.count * args.ids.length };
      if (Array.isArray(args.userids)) return { count: parent.count * args.userids.length };
      return { count: parent.count * LIST_MULTIPLIER };
    }
    return { count: parent.count };
  };

  /** The member lists a field reads, on every object of `population`. */
  const recordMemberLists = (owner: string, field: string, args: Record<string, unknown>, population: Population): void => {
    if (owner === 'Department' && (field === 'members' || field === 'memberCount')) {
      if (!population.departments || !sizes) {
        memberLists.unnamed = true;
        return;
      }
      const into = args.recursive === true ? memberLists.subtrees : memberLists.departments;
      for (const id of population.departments.keys()) into.add(id);
    } else if (owner === 'Query' && field === 'searchUsers') memberLists.everyone.add('searchIndex');
    else if (owner === 'User' && field === 'directReports') memberLists.everyone.add('directReports');
  };

  const visited = new Set<string>();
  const walk = (
    selectionSet: SelectionSetNode,
    type: GraphQLCompositeType,
    population: Population,
    connectionItems?: Population,
  ): number => {
    if (population.count === 0) return 0;
    let cost = 0;
    for (const selection of selectionSet.selections) {
      // Left out by @skip/@include: resolved not at all (the org tree's optional headcounts).
      if (!included(selection, variables)) continue;
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const on = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : type;
        if (on && (isObjectType(on) || isInterfaceType(on) || isAbstractType(on)))
          cost += walk(selection.selectionSet, on as GraphQLCompositeType, population, connectionItems);
        continue;
      }
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(selection.name.value);
        // Recursive fragments are refused by validation; this only stops a cycle from looping here.
        if (!fragment || visited.has(fragment.name.value)) continue;
        const on = schema.getType(fragment.typeCondition.name.value);
        visited.add(fragment.name.value);
        if (on && (isObjectType(on) || isInterfaceType(on) || isAbstractType(on)))
          cost += walk(fragment.selectionSet, on as GraphQLCompositeType, population, connectionItems);
        visited.delete(fragment.name.value);
        continue;
      }
      cost += fieldEstimate(selection, type, population, connectionItems);
    }
    return cost;
  };

  const fieldEstimate = (node: FieldNode, type: GraphQLCompositeType, population: Population, connectionItems?: Population): number => {
    if (node.name.value === '__typename') return 0;
    if (!isObjectType(type) && !isInterfaceType(type)) return 0;
    const field = type.getFields()[node.name.value] as GraphQLField<unknown, unknown> | undefined;
    if (!field) return 0;
    let args: Record<string, unknown> = {};
    try {
      args = getArgumentValues(field, node, variables);
    } catch {
      // Invalid arguments fail validation or execution before any cost arises.
    }
    recordMemberLists(type.name, field.name, args, population);
    const perResolve = PER_RESOLVE_CALLS[`${type.name}.${field.name}`];
    if (perResolve) addCalls(perResolve[0], perResolve[1] * population.count);
    if (field.name === 'openId' && type.name === 'User') {
      if (population.userids) {
        for (const id of population.userids) if (!inputs.openIdKnown(id)) openIds.add(id);
      } else {
        anonymousOpenIds += population.count;
      }
    }
    const named = getNamedType(field.type);
    // Inside a connection: edges and nodes hold its items, the rest is resolved once per connection.
    const items = connectionItems && (field.name === 'edges' || field.name === 'nodes') ? connectionItems : undefined;
    const inEdge = connectionItems && field.name === 'node' && type.name.endsWith('Edge');
    const own = items ?? (inEdge ? population : undefined);
    const resolved = items ? items.count : population.count;
    if (isLeafType(named) || !node.selectionSet) return resolved;
    const composite = named as GraphQLCompositeType;
    if (named.name.endsWith('Connection')) {
      const pageItems = childPopulation(type.name, field, args, population);
      return population.count + walk(node.selectionSet, composite, population, pageItems);
    }
    if (named.name.endsWith('Edge') && items) return items.count + walk(node.selectionSet, composite, items, items);
    const child = own ?? childPopulation(type.name, field, args, population);
    return resolved + walk(node.selectionSet, composite, child);
  };

  const cost = walk(operation.selectionSet, root, { count: 1 });
  addCalls(USER_GET, userGets.size);
  // openIds of members not named by id: at most one per member of the corp.
  const unnamed = sizes ? Math.min(anonymousOpenIds, sizes.members) : anonymousOpenIds;
  addCalls(CONVERT_TO_OPENID, openIds.size + unnamed);
  const upstreamCalls = Object.values(calls).reduce((a, b) => a + b, 0);
  return { cost: Math.ceil(cost), upstreamCalls, calls, memberLists };
}
