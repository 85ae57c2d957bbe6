import { describe, expect, test } from 'vitest';
import { graphql } from '../generated/index.ts';
import { ServiceHarness } from '../helpers/service.ts';
import { executor, type Execute } from '../testkit/execute.ts';
import { ALL, keysOnly, subtreeOf, testKey, withKey } from '../security/helpers.ts';
import { TicketsSubgraph, type Ticket } from './tickets-subgraph.ts';
import { TestGateway, composeSupergraph, type SubgraphRequest } from './gateway.ts';

/**
 * Issue 18: the service as a subgraph behind a real Hive Gateway, beside another team's tickets
 * subgraph whose tickets point at members and departments by key. The gateway plans the query,
 * sends one batched `_entities` request to this service, and this service answers it through the
 * same loaders as `users(userids:)`: the same WeCom calls, the same visibility rules.
 */

const TICKETS_QUERY = '{ tickets { id title assignee { userid name position department: mainDepartment { name } } } }';
const DIRECT_QUERY = graphql(
  `query GatewayDirectUsers($ids: [String!]!) { users(userids: $ids) { userid name position department: mainDepartment { name } } }`,
);

/** Tickets as the gateway answers the queries below: the fields each asks for (the supergraph's types, see GatewayAnswer). */
interface Tickets {
  tickets: {
    id: string;
    title: string;
    department: { name: string } | null;
    assignee: { userid: string; name: string; position: string | null; mobile: string | null; department: { name: string } | null } | null;
  }[];
}

/** The subtree of the limited key: 研发中心 (department 2) and everything below it. */
const RD = 2;
const full = testKey('gateway-full', ALL);
const reader = testKey('gateway-reader', ['directory:read']);
const rdReader = testKey('gateway-rd', ['directory:read'], [RD]);

interface WireUser {
  userid: string;
  name: string;
  position?: string;
  main_department?: number;
  department: number[];
  mobile?: string;
}
interface WireDept {
  id: number;
  parentid: number;
  name: string;
}

/** Calls per WeCom path, without gettoken (a token is fetched once per secret and process, whichever query comes first). */
const withoutTokens = (calls: Record<string, number>) =>
  Object.fromEntries(Object.entries(calls).filter(([path]) => path !== '/cgi-bin/gettoken'));

/** Each part of the stack, started for one describe block. */
interface Stack {
  service: ServiceHarness;
  /** Typed documents to the service directly (not through the gateway). */
  execute: Execute;
  tickets: TicketsSubgraph;
  gateway: TestGateway;
  users: WireUser[];
  departments: WireDept[];
  ticketList: Ticket[];
  close(): Promise<void>;
}

/** 200 distinct assignees: 199 members (one of them on two tickets) and one userid nobody has. */
async function startStack(options: { cache: boolean }): Promise<Stack> {
  const service = await ServiceHarness.start({
    listen: true,
    security: keysOnly([full, reader, rdReader]),
    ...(options.cache ? { cache: {}, responseCache: false } : {}),
  });
  const users = ((await service.wecom.console('user/list', { department_id: 1, fetch_child: 1 })).json.userlist as WireUser[]).slice(
    0,
    199,
  );
  expect(users).toHaveLength(199);
  const departments = (await service.wecom.console('department/list')).json.department as WireDept[];
  const ticketList: Ticket[] = [
    ...users.map((u, i) => ({
      id: `T-${i + 1}`,
      title: `Ticket ${i + 1} for ${u.userid}`,
      assigneeUserid: u.userid,
      departmentId: u.main_department ?? u.department[0]!,
    })),
    {
      id: 'T-again',
      title: 'A second ticket for the first member',
      assigneeUserid: users[0]!.userid,
      departmentId: users[0]!.department[0]!,
    },
    { id: 'T-ghost', title: 'Assigned to someone who left', assigneeUserid: 'no.such.member', departmentId: 1 },
  ];
  const tickets = await TicketsSubgraph.start(ticketList);
  const gateway = new TestGateway(composeSupergraph({ directory: `${service.url}/graphql`, tickets: tickets.url }));
  return {
    service,
    execute: executor(service),
    tickets,
    gateway,
    users,
    departments,
    ticketList,
    async close() {
      await gateway.close();
      await tickets.close();
      await service.close();
    },
  };
}

/** What a caller sees of members: the whole corp, or a key's subtrees (src/auth/department-scope.ts). */
interface View {
  visible(u: WireUser): boolean;
  /** The main department shown: the member's own when visible, else its first visible one. */
  main(u: WireUser): number | undefined;
}

const WHOLE_CORP: View = { visible: () => true, main: (u) => u.main_department };

function subtreeView(departments: WireDept[], root: number): View {
  const inside = subtreeOf(departments, root);
  return {
    visible: (u) => u.department.some((d) => inside.has(d)),
    main: (u) =>
      u.main_department !== undefined && inside.has(u.main_department) ? u.main_department : u.department.find((d) => inside.has(d)),
  };
}

/** What the gateway should answer for each ticket, read from the emulator's state. */
function expectedTickets(stack: Stack, view: View = WHOLE_CORP) {
  const byId = new Map(stack.users.map((u) => [u.userid, u]));
  const deptName = new Map(stack.departments.map((d) => [d.id, d.name]));
  return stack.ticketList.map((t) => {
    const u = byId.get(t.assigneeUserid);
    const main = u && view.main(u);
    return {
      id: t.id,
      title: t.title,
      assignee:
        u && view.visible(u)
          ? { userid: u.userid, name: u.name, position: u.position || null, department: main ? { name: deptName.get(main) } : null }
          : null,
    };
  });
}

/**
 * Where the gateway reports the hidden assignees. A reference belongs to the tickets subgraph;
 * this service can only answer that no such member is visible (a null entity), and the gateway
 * then cannot fill the non-null `User.name`: an error at that path, and a null assignee.
 */
function hiddenAssigneePaths(expected: { assignee: unknown }[]): (string | number)[][] {
  return expected.flatMap((t, i) => (t.assignee === null ? [['tickets', i, 'assignee', 'name']] : []));
}

/** Error paths in ticket order (the gateway reports them in the order its batches finish). */
const errorPaths = (errors: { path?: (string | number)[] }[] | undefined) =>
  (errors ?? []).map((e) => e.path ?? []).sort((a, b) => Number(a[1]) - Number(b[1]));

/** Every representation of a request (the gateway may merge several `_entities` fetches into one, with aliased variables). */
function representationsOf(request: SubgraphRequest): { __typename: string }[] {
  return Object.entries(request.variables).flatMap(([name, value]) =>
    name.endsWith('representations') ? (value as { __typename: string }[]) : [],
  );
}

/** The requests the gateway sent to the directory subgraph since `from`. */
const directoryRequests = (stack: Stack, from: number) =>
  stack.gateway.sent.slice(from).filter((r) => r.url === `${stack.service.url}/graphql`);

/** `stack`: one per file and options (each part costs seconds to start). */
const stackTest = (options: { cache: boolean }) =>
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter, which must be a destructuring pattern
  test.extend('stack', { scope: 'file' }, async ({}, { onCleanup }) => {
    const stack = await startStack(options);
    onCleanup(() => stack.close());
    return stack;
  });

/** Every request cold: the minimum of WeCom calls per query. */
const coldIt = stackTest({ cache: false });
/** The directory cache on: warm answers make no WeCom call. */
const cachedIt = stackTest({ cache: true });

describe('through Hive Gateway, without the directory cache (every request cold)', () => {
  coldIt('answers tickets with their assignees as the emulator has them, in one batched _entities request', async ({ stack }) => {
    await stack.service.wecom.resetStats();
    const before = stack.gateway.sent.length;
    const res = await stack.gateway.query<Tickets>(TICKETS_QUERY, withKey(full));
    const expected = expectedTickets(stack);
    expect(res.data!.tickets).toEqual(expected);
    expect(errorPaths(res.errors)).toEqual(hiddenAssigneePaths(expected));
    expect(hiddenAssigneePaths(expected)).toHaveLength(1);

    const sent = directoryRequests(stack, before);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.query).toContain('_entities');
    const representations = representationsOf(sent[0]!) as { __typename: string; userid: string }[];
    expect(new Set(representations.map((r) => r.__typename))).toEqual(new Set(['User']));
    expect(new Set(representations.map((r) => r.userid))).toEqual(new Set([...stack.users.map((u) => u.userid), 'no.such.member']));

    // The minimum: one user/get per distinct member asked for (the unknown one included: WeCom
    // must be asked to know it is unknown), and the department tree once for mainDepartment.
    const calls = await stack.service.calls();
    expect(withoutTokens(calls)).toEqual({ '/cgi-bin/user/get': 200, '/cgi-bin/department/list': 1 });
  });

  coldIt('costs exactly what the direct users(userids:) query costs', async ({ stack }) => {
    const ids = [...new Set(stack.ticketList.map((t) => t.assigneeUserid))];
    expect(ids).toHaveLength(200);
    await stack.service.wecom.resetStats();
    const direct = await stack.execute(DIRECT_QUERY, { ids }, withKey(full));
    expect(direct.errors).toBeUndefined();
    const directCalls = withoutTokens(await stack.service.calls());

    await stack.service.wecom.resetStats();
    const federated = await stack.gateway.query<Tickets>(TICKETS_QUERY, withKey(full));
    expect(federated.data!.tickets).toEqual(expectedTickets(stack));
    expect(withoutTokens(await stack.service.calls())).toEqual(directCalls);
  });

  coldIt('forwards the caller’s credential: a key limited to a subtree gets null assignees outside it', async ({ stack }) => {
    const view = subtreeView(stack.departments, RD);
    const visible = view.visible;
    // The fixture must hold members on both sides for the check to mean anything.
    expect(stack.users.filter(visible).length).toBeGreaterThan(0);
    expect(stack.users.filter((u) => !visible(u)).length).toBeGreaterThan(0);

    const before = stack.gateway.sent.length;
    const res = await stack.gateway.query<Tickets>(TICKETS_QUERY, withKey(rdReader));
    const expected = expectedTickets(stack, view);
    expect(res.data!.tickets).toEqual(expected);
    expect(errorPaths(res.errors)).toEqual(hiddenAssigneePaths(expected));
    const sent = directoryRequests(stack, before);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.headers['x-api-key']).toBe(rdReader.key);

    // The same nulls as the direct query with the same key.
    const direct = await stack.execute(DIRECT_QUERY, { ids: stack.users.map((u) => u.userid) }, withKey(rdReader));
    expect(direct.data!.users.map((u) => u?.userid ?? null)).toEqual(stack.users.map((u) => (visible(u) ? u.userid : null)));
  });

  coldIt('adds at most one round trip to this service per query plan level', async ({ stack }) => {
    // Everything under the tickets' references lives in this subgraph (leaders, the ticket's own
    // department, the member's departments): one plan level after the tickets, so one request.
    const query = '{ tickets { id department { name } assignee { userid directLeaders { name } departments { name } } } }';
    const before = stack.gateway.sent.length;
    const res = await stack.gateway.query<Tickets>(query, withKey(full));
    const deptName = new Map(stack.departments.map((d) => [d.id, d.name]));
    expect(res.data!.tickets.map((t) => t.department?.name ?? null)).toEqual(
      stack.ticketList.map((t) => deptName.get(t.departmentId) ?? null),
    );
    const sent = directoryRequests(stack, before);
    expect(sent).toHaveLength(1);
    // Hive Gateway merges the two entity fetches of the level into one request (aliased _entities).
    const typenames = new Set(representationsOf(sent[0]!).map((r) => r.__typename));
    expect(typenames).toEqual(new Set(['User', 'Department']));
  });

  coldIt('keeps PII behind directory:pii through the gateway', async ({ stack }) => {
    const query = '{ tickets { id assignee { userid mobile } } }';
    const withPii = await stack.gateway.query<Tickets>(query, withKey(full));
    const withoutPii = await stack.gateway.query<Tickets>(query, withKey(reader));
    expect(withPii.errors).toBeUndefined();
    expect(withoutPii.errors).toBeUndefined();
    const mobiles = new Map(stack.users.map((u) => [u.userid, u.mobile || null]));
    const first = stack.users[0]!.userid;
    expect(mobiles.get(first)).toBeTruthy();
    for (const t of withPii.data!.tickets) expect(t.assignee!.mobile).toBe(mobiles.get(t.assignee!.userid) ?? null);
    expect(withPii.data!.tickets.filter((t) => t.assignee!.mobile).length).toBeGreaterThan(100);
    for (const t of withoutPii.data!.tickets) expect(t.assignee!.mobile).toBeNull();
  });

  coldIt('without a credential the directory refuses, and the tickets still come back without assignees', async ({ stack }) => {
    await stack.service.wecom.resetStats();
    const res = await stack.gateway.query<Tickets>(TICKETS_QUERY);
    expect(res.data?.tickets).toHaveLength(stack.ticketList.length);
    expect(res.data!.tickets.every((t) => t.assignee === null)).toBe(true);
    // Each missing assignee is reported with the directory's own error, passed on by the gateway.
    expect(errorPaths(res.errors)).toEqual(stack.ticketList.map((_t, i) => ['tickets', i, 'assignee', 'name']));
    expect(new Set(res.errors!.map((e) => e.extensions?.code))).toEqual(new Set(['UNAUTHENTICATED']));
    expect((await stack.service.wecom.stats()).total).toBe(0);
  });
});

describe('through Hive Gateway, with the directory cache', () => {
  cachedIt('cold: the minimum; warm: no WeCom call at all', async ({ stack }) => {
    await stack.service.wecom.resetStats();
    const cold = await stack.gateway.query<Tickets>(TICKETS_QUERY, withKey(full));
    expect(cold.data!.tickets).toEqual(expectedTickets(stack));
    expect(withoutTokens(await stack.service.calls())).toEqual({ '/cgi-bin/user/get': 200, '/cgi-bin/department/list': 1 });

    await stack.service.wecom.resetStats();
    const before = stack.gateway.sent.length;
    const warm = await stack.gateway.query<Tickets>(TICKETS_QUERY, withKey(full));
    expect(warm.data).toEqual(cold.data);
    expect(directoryRequests(stack, before)).toHaveLength(1);
    expect((await stack.service.wecom.stats()).total).toBe(0);
  });
});
