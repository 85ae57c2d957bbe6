import { readFileSync } from 'node:fs';
import { Kind, parse } from 'graphql';
import { userKey } from 'wecom-protocol/userid';
import type {
  CreateUserMutationVariables,
  DepartmentDashboardQuery,
  DepartmentDashboardQueryVariables,
  LinkedCorpBrowserQuery,
  OrgTreeQuery,
  OrgTreeQueryVariables,
  PeoplePickerQuery,
  PeoplePickerQueryVariables,
  UserCardQuery,
  UserCardQueryVariables,
} from '../examples/generated/graphql.ts';
import type { DirectorySnapshot, StateDepartment, StateUser } from './emulator-state.ts';
import type { GraphQLRequest } from './measure.ts';

/**
 * The benchmark's scenarios: what a frontend asks of the service, the fewest upstream calls one
 * request needs (computed from the emulator's state, never hard-coded), and a check of each
 * answer against that state, so a fast wrong answer cannot pass for a result.
 *
 * "Fewest upstream calls" follows the design's call budget (docs/architecture.md §3): the tree is one
 * `department/list`, a department's members one `user/list` (WeCom has no "get many users", and
 * `fetch_child` is not relied on), a single member one `user/get`, tags one `tag/list` plus one
 * `tag/get` per tag. Tokens are held already (the runner warms them), so `gettoken` is not counted.
 */

export interface ReadScenario {
  kind: 'read';
  /** Base name; rows are `<base>`, `<base>-uncached`, `<base>-naive` (org tree: `-cold`/`-warm`). */
  base: string;
  description: string;
  request: GraphQLRequest;
  /** Fewest upstream calls for one request when nothing is cached. */
  minimumUncached: number;
  /** What differs between the answer and the emulator's state (empty: correct). */
  verify(data: unknown): string[];
  /** Reads every department's members (one upstream call per department when nothing is cached). */
  wholeTree: boolean;
}

export interface WriteScenario {
  kind: 'write';
  base: 'write-mix';
  description: string;
  /** The department new members are created in. */
  departmentId: number;
  /**
   * Per operation: create (user/create + user/get to read back the payload), update (user/update +
   * user/get), delete (user/delete): 5 calls per 3 operations. The read-backs are the design's: a
   * mutation's payload is the member as WeCom has it after the write.
   */
  minimumPerOperation: number;
  /** The three operations of one cycle for member number `n` (userids are unique to the run). */
  cycle(runTag: string, n: number): GraphQLRequest[];
}

export type Scenario = ReadScenario | WriteScenario;

/** The tree of the snapshot: parents, children, depth, subtrees. */
export class SnapshotTree {
  readonly byId = new Map<number, StateDepartment>();
  readonly children = new Map<number, StateDepartment[]>();
  readonly roots: StateDepartment[] = [];

  constructor(readonly snapshot: DirectorySnapshot) {
    for (const d of snapshot.departments) this.byId.set(d.id, d);
    for (const d of snapshot.departments) {
      if (this.byId.has(d.parentid) && d.parentid !== d.id) {
        const list = this.children.get(d.parentid) ?? [];
        list.push(d);
        this.children.set(d.parentid, list);
      } else {
        this.roots.push(d);
      }
    }
  }

  childrenOf(id: number): StateDepartment[] {
    return this.children.get(id) ?? [];
  }

  subtreeIds(id: number): number[] {
    const out: number[] = [];
    const stack = [id];
    while (stack.length) {
      const next = stack.pop()!;
      out.push(next);
      for (const c of this.childrenOf(next)) stack.push(c.id);
    }
    return out;
  }

  /** Distinct members of a department and everything below it. */
  subtreeMemberCount(id: number): number {
    const seen = new Set<string>();
    for (const d of this.subtreeIds(id)) for (const u of this.snapshot.membersByDepartment.get(d) ?? []) seen.add(userKey(u.userid));
    return seen.size;
  }
}

/**
 * An operation of examples/ as a frontend sends it: the file's text (codegen checks it against the
 * schema and types its variables and answer, examples/generated/), so the benchmark measures the
 * operations the project documents rather than copies of them.
 */
function example<Variables extends Record<string, unknown>>(file: string, operationName: string, variables: Variables): GraphQLRequest {
  const query = readFileSync(new URL(`../examples/${file}`, import.meta.url), 'utf8');
  const names = parse(query).definitions.flatMap((d) => (d.kind === Kind.OPERATION_DEFINITION && d.name ? [d.name.value] : []));
  if (!names.includes(operationName))
    throw new Error(`examples/${file} has no operation ${operationName} (it has ${names.join(', ') || 'none'})`);
  return { query, operationName, variables };
}

/** The write mix's update and delete (examples/ has no such operations; its create is examples/create-user.graphql). */
const UPDATE_USER = /* GraphQL */ `
  mutation BenchUpdateUser($userid: String!, $position: String!) {
    updateUser(input: { userid: $userid, position: $position }) {
      __typename
      ... on MutationUpdateUserSuccess {
        data {
          userid
          position
        }
      }
      ... on Error {
        message
      }
    }
  }
`;

const DELETE_USER = /* GraphQL */ `
  mutation BenchDeleteUser($userid: String!) {
    deleteUser(userid: $userid) {
      __typename
      ... on Error {
        message
      }
    }
  }
`;

const sameSet = <T>(a: readonly T[], b: readonly T[]) => a.length === b.length && new Set(a).size === new Set([...a, ...b]).size;
const lower = (ids: readonly string[]) => ids.map(userKey);

/** Builds the scenarios for the emulator's current state. */
export function buildScenarios(snapshot: DirectorySnapshot): Scenario[] {
  const tree = new SnapshotTree(snapshot);
  const root = tree.roots[0];
  if (!root) throw new Error('the emulator has no departments');
  const level2 = tree.childrenOf(root.id);
  const level3 = level2.flatMap((d) => tree.childrenOf(d.id));
  const departmentCount = snapshot.departments.length;
  const orgTree: ReadScenario = {
    kind: 'read',
    base: 'org-tree',
    description: `3-level org tree from department ${root.id}, members (first 100) of its ${level3.length} level-3 departments`,
    // Headcounts of the second level would read every department below it: not what this scenario measures.
    request: example<OrgTreeQueryVariables>('org-tree.graphql', 'OrgTree', {
      rootId: root.id,
      membersPerDepartment: 100,
      withHeadcounts: false,
    }),
    minimumUncached: 1 + level3.length,
    wholeTree: false,
    verify(data) {
      const d = (data as OrgTreeQuery).department;
      if (!d) return [`department ${root.id} is null`];
      const problems: string[] = [];
      const got3 = d.children.flatMap((c) => c.children);
      if (
        !sameSet(
          d.children.map((c) => c.departmentId),
          level2.map((x) => x.id),
        )
      )
        problems.push('level-2 departments differ');
      if (
        !sameSet(
          got3.map((c) => c.departmentId),
          level3.map((x) => x.id),
        )
      )
        problems.push('level-3 departments differ');
      for (const c of got3) {
        const expected = snapshot.membersByDepartment.get(c.departmentId)?.length ?? -1;
        if (c.members.totalCount !== expected)
          problems.push(`department ${c.departmentId}: ${c.members.totalCount} members, emulator has ${expected}`);
      }
      return problems;
    },
  };

  const cardUser = pickCardUser(snapshot.users);
  const cardTags = snapshot.tags.filter(
    (t) => lower(t.userids).includes(userKey(cardUser.userid)) || t.departmentIds.some((d) => cardUser.department.includes(d)),
  );
  const cardLeaders = [...new Set(lower(cardUser.direct_leader ?? []))];
  const userCard: ReadScenario = {
    kind: 'read',
    base: 'user-card',
    description: `user card of ${cardUser.userid}: departments, ${cardLeaders.length} direct leader(s), tags (of ${snapshot.tags.length})`,
    // Direct reports would read the whole corp (found among everyone's leaders): not what this scenario measures.
    request: example<UserCardQueryVariables>('user-card.graphql', 'UserCard', { userid: cardUser.userid, withReports: false }),
    // user/get + department/list + user/get per leader + tag/list + tag/get per tag (to find the member's tags)
    minimumUncached: 1 + 1 + cardLeaders.length + 1 + snapshot.tags.length,
    wholeTree: false,
    verify(data) {
      const u = (data as UserCardQuery).user;
      if (!u) return [`user ${cardUser.userid} is null`];
      const problems: string[] = [];
      if (
        !sameSet(
          u.memberships.flatMap((m) => (m.department ? [m.department.departmentId] : [])),
          cardUser.department,
        )
      )
        problems.push('departments differ');
      if (!sameSet(lower(u.directLeaders.map((l) => l.userid)), cardLeaders)) problems.push('direct leaders differ');
      if (
        !sameSet(
          u.tags.map((t) => t.tagId),
          cardTags.map((t) => t.tagid),
        )
      )
        problems.push('tags differ');
      return problems;
    },
  };

  const searchText = commonestFirstCharacter(snapshot.users);
  const nameMatches = snapshot.users.filter((u) => u.name.includes(searchText)).length;
  const search: ReadScenario = {
    kind: 'read',
    base: 'people-picker-search',
    description: `people picker: searchUsers("${searchText}", first 20) over ${snapshot.users.length} members`,
    request: example<PeoplePickerQueryVariables>('people-picker.graphql', 'PeoplePicker', { query: searchText, first: 20 }),
    minimumUncached: 1 + departmentCount,
    wholeTree: true,
    verify(data) {
      const s = (data as PeoplePickerQuery).searchUsers;
      const problems: string[] = [];
      // Names containing the text are found at least (pinyin and other fields may add more).
      if (s.totalCount < nameMatches) problems.push(`totalCount ${s.totalCount} < ${nameMatches} names containing "${searchText}"`);
      if (s.nodes.length !== Math.min(20, s.totalCount)) problems.push(`page of ${s.nodes.length}, expected ${Math.min(20, s.totalCount)}`);
      return problems;
    },
  };

  const dashboard: ReadScenario = {
    kind: 'read',
    base: 'department-dashboard',
    description: `department dashboard: recursive member counts of all ${departmentCount} departments`,
    // Heads are read one user/get each when nothing is cached: not what this scenario measures.
    request: example<DepartmentDashboardQueryVariables>('department-dashboard.graphql', 'DepartmentDashboard', { withHeads: false }),
    minimumUncached: 1 + departmentCount,
    wholeTree: true,
    verify(data) {
      const list = (data as DepartmentDashboardQuery).departments;
      const problems: string[] = [];
      if (list.length !== departmentCount) problems.push(`${list.length} departments, emulator has ${departmentCount}`);
      for (const d of list) {
        const direct = snapshot.membersByDepartment.get(d.departmentId)?.length ?? 0;
        const total = tree.subtreeMemberCount(d.departmentId);
        if (d.memberCount !== direct) problems.push(`department ${d.departmentId}: memberCount ${d.memberCount}, emulator has ${direct}`);
        if (d.totalMembers !== total)
          problems.push(`department ${d.departmentId}: recursive memberCount ${d.totalMembers}, emulator has ${total}`);
        if (problems.length > 5) break;
      }
      return problems;
    },
  };

  const granted = snapshot.linkedDepartmentIds.length;
  const linked: ReadScenario = {
    kind: 'read',
    base: 'linked-corp-browse',
    description: `linked corps: ${granted} granted department(s) with children and members`,
    request: example('linked-corp-browser.graphql', 'LinkedCorpBrowser', {}),
    // get_perm_list + per granted department: linkedcorp/department/list and linkedcorp/user/list (fetch_child)
    minimumUncached: 1 + 2 * granted,
    wholeTree: false,
    verify(data) {
      const corps = (data as LinkedCorpBrowserQuery).linkedCorps;
      const got = corps.flatMap((c) => c.departments.map((d) => d.departmentId));
      return sameSet(got, snapshot.linkedDepartmentIds)
        ? []
        : [`granted departments ${got.join(',')} differ from ${snapshot.linkedDepartmentIds.join(',')}`];
    },
  };

  const home = level3[0] ?? level2[0] ?? root;
  const writeMix: WriteScenario = {
    kind: 'write',
    base: 'write-mix',
    description: `write mix: createUser, updateUser, deleteUser in turn (members of department ${home.id})`,
    departmentId: home.id,
    minimumPerOperation: 5 / 3,
    cycle(runTag, n) {
      const userid = `bench${runTag}x${n}`;
      const input: CreateUserMutationVariables['input'] = {
        userid,
        name: `Bench ${n}`,
        departmentIds: [home.id],
        email: `${userid}@bench.example.com`,
        toInvite: false,
      };
      return [
        example<CreateUserMutationVariables>('create-user.graphql', 'CreateUser', { input }),
        { query: UPDATE_USER, operationName: 'BenchUpdateUser', variables: { userid, position: `Benchmark ${n}` } },
        { query: DELETE_USER, operationName: 'BenchDeleteUser', variables: { userid } },
      ];
    },
  };

  return [orgTree, userCard, search, dashboard, linked, writeMix];
}

/** A member with direct leaders (the card shows them), the most leaders first, then by userid. */
function pickCardUser(users: readonly StateUser[]): StateUser {
  const withLeaders = users.filter((u) => (u.direct_leader?.length ?? 0) > 0 && u.department.length > 0);
  const pool = withLeaders.length ? withLeaders : users;
  const best = [...pool].sort(
    (a, b) => (b.direct_leader?.length ?? 0) - (a.direct_leader?.length ?? 0) || a.userid.localeCompare(b.userid),
  )[0];
  if (!best) throw new Error('the emulator has no members');
  return best;
}

/** The character most names start with (a common surname in the seeded data): a realistic picker query. */
function commonestFirstCharacter(users: readonly StateUser[]): string {
  const counts = new Map<string, number>();
  for (const u of users) {
    const first = [...u.name][0];
    if (first) counts.set(first, (counts.get(first) ?? 0) + 1);
  }
  const best = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0];
  if (!best) throw new Error('the emulator has no named members');
  return best[0];
}
