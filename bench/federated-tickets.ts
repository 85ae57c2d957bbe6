import { ChildService, freePort } from './processes.ts';
import type { DirectorySnapshot, EmulatorClient } from './emulator-state.ts';
import { countUpstream, load, post, settle, type GraphQLAnswer, type GraphQLRequest, type Target } from './measure.ts';
import { emptyRow, queriesPerMinute, type ScenarioResult } from './report.ts';

/**
 * `federated-tickets` (issue 18): 200 tickets of another team's subgraph, each assigned to a
 * different member, asked through Hive Gateway (bench/federated-gateway.ts), beside the direct
 * `users(userids:)` query for the same 200 members. Rows:
 *
 * - `federated-tickets` / `federated-tickets-entities` / `federated-tickets-direct`: the service
 *   with its cache; calls per query (target 0) and throughput under load, through the gateway, as
 *   the gateway's `_entities` request sent directly (the service's share), and as users(userids:).
 * - `federated-tickets-uncached` / `federated-tickets-direct-uncached`: the service without its
 *   cache; calls per query through the gateway against the direct query's (the target: equal),
 *   from single requests (under load 201 calls a query would only measure WeCom's rate limit).
 */

export const FEDERATED_TICKETS_ASSIGNEES = 200;

const TICKETS: GraphQLRequest = { query: '{ tickets { title assignee { userid name position department: mainDepartment { name } } } }' };
const REQUEST_TIMEOUT_MS = 120_000;

export interface FederatedTicketsContext {
  wecom: EmulatorClient;
  snapshot: DirectorySnapshot;
  /** The service with its directory cache (the runner's `cached` process). */
  cached: ChildService;
  /** A fresh service without its cache (CACHE_ENABLED=false). */
  uncached: () => Promise<ChildService>;
  /** Throughput of bare Yoga in the same run, for the ratio column. */
  bareRps: number | null;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  /** Sequential queries whose upstream calls are counted. */
  countQueries: number;
}

const perQuery = (byPath: Record<string, number>, n: number) => Object.fromEntries(Object.entries(byPath).map(([p, c]) => [p, c / n]));
const total = (byPath: Record<string, number>) => Object.values(byPath).reduce((a, b) => a + b, 0);
const readFailed = (status: number, body: string) => status !== 200 || body.includes('"errors"');

function expectOk(answer: GraphQLAnswer, what: string): void {
  if (answer.status !== 200 || answer.errors?.length)
    throw new Error(`${what}: HTTP ${answer.status} ${JSON.stringify(answer.errors ?? []).slice(0, 300)}`);
}

/** Differences between an answer's members and the emulator's (names, in ticket order). */
function verify(names: (string | undefined)[], expected: { name: string }[]): string[] {
  const problems: string[] = [];
  expected.forEach((u, i) => {
    if (names[i] !== u.name) problems.push(`#${i}: ${String(names[i])} instead of ${u.name}`);
  });
  return problems.slice(0, 5);
}

export async function benchFederatedTickets(ctx: FederatedTicketsContext): Promise<ScenarioResult[]> {
  const members = ctx.snapshot.users.slice(0, FEDERATED_TICKETS_ASSIGNEES);
  const direct: GraphQLRequest = {
    query: 'query($ids: [String!]!) { users(userids: $ids) { userid name position department: mainDepartment { name } } }',
    variables: { ids: members.map((u) => u.userid) },
  };
  // The request Hive Gateway sends this service for the tickets query, sent directly: the
  // service's share of the federated query, apart from the gateway's.
  const entities: GraphQLRequest = {
    query:
      'query($representations: [_Any!]!) { _entities(representations: $representations) { ... on User { userid name position department: mainDepartment { name } } } }',
    variables: { representations: members.map((u) => ({ __typename: 'User', userid: u.userid })) },
  };
  const namesOfEntities = (a: GraphQLAnswer) =>
    ((a.data as { _entities?: ({ name: string } | null)[] } | undefined)?._entities ?? []).map((u) => u?.name);
  const namesOfTickets = (a: GraphQLAnswer) =>
    ((a.data as { tickets?: { assignee: { name: string } | null }[] } | undefined)?.tickets ?? []).map((t) => t.assignee?.name);
  const namesOfUsers = (a: GraphQLAnswer) =>
    ((a.data as { users?: ({ name: string } | null)[] } | undefined)?.users ?? []).map((u) => u?.name);
  const description = (how: string) => `${FEDERATED_TICKETS_ASSIGNEES} ticket assignees (name, position, main department) ${how}`;

  const startGateway = async (service: ChildService) => {
    const port = await freePort();
    return ChildService.start({
      name: 'gateway',
      script: 'bench/federated-gateway.ts',
      port,
      headers: service.headers,
      env: {
        PORT: String(port),
        HOST: '127.0.0.1',
        DIRECTORY_URL: `${service.url}/graphql`,
        TICKET_ASSIGNEES: members.map((u) => u.userid).join(','),
      },
      ready: async (p) =>
        (await post({ url: `http://127.0.0.1:${p}`, headers: service.headers }, { query: '{ __typename }' })).status === 200,
    });
  };

  /** Calls per query over `countQueries` sequential requests, after one that fills the cache and is checked. */
  const measureCalls = async (
    target: Target,
    request: GraphQLRequest,
    names: (a: GraphQLAnswer) => (string | undefined)[],
    what: string,
  ) => {
    await settle(ctx.wecom);
    const first = await post(target, request, REQUEST_TIMEOUT_MS);
    expectOk(first, what);
    const problems = verify(names(first), members);
    const latencies: number[] = [];
    const count = await countUpstream(ctx.wecom, async () => {
      for (let i = 0; i < ctx.countQueries; i++) {
        const answer = await post(target, request, REQUEST_TIMEOUT_MS);
        expectOk(answer, what);
        latencies.push(answer.ms);
      }
    });
    const byPath = perQuery(count.byPath, ctx.countQueries);
    return { byPath, calls: total(byPath), problems, latencies };
  };

  const underLoad = async (target: Target, request: GraphQLRequest) => {
    const body = JSON.stringify(request);
    const requests = [{ body: () => body }];
    if (ctx.warmupSeconds)
      await load({
        target,
        requests,
        failed: () => false,
        connections: ctx.connections,
        durationSeconds: ctx.warmupSeconds,
        timeoutSeconds: 120,
      });
    const result = await load({
      target,
      requests,
      failed: readFailed,
      connections: ctx.connections,
      durationSeconds: ctx.durationSeconds,
      timeoutSeconds: 120,
    });
    return {
      p50Ms: result.p50Ms,
      p99Ms: result.p99Ms,
      rps: result.rps,
      ratioToBareYoga: ctx.bareRps ? result.rps / ctx.bareRps : null,
      latencyFrom: 'load' as const,
      requests: result.completed,
      failedResponses: result.failed + result.errors,
    };
  };

  const rows: ScenarioResult[] = [];
  const attempt = async (base: ScenarioResult, work: () => Promise<Partial<ScenarioResult>>) => {
    try {
      rows.push({ ...base, ...(await work()) });
    } catch (err) {
      rows.push({ ...base, status: 'failed', note: err instanceof Error ? err.message : String(err) });
    }
  };

  // With the directory cache: 0 calls a query once warm, through the gateway as directly.
  const warm = async (target: Target, request: GraphQLRequest, names: (a: GraphQLAnswer) => (string | undefined)[], name: string) => {
    const m = await measureCalls(target, request, names, name);
    return {
      upstreamCallsPerQuery: m.calls,
      upstreamCallsByPath: m.byPath,
      minimumCallsPerQuery: 0,
      queriesPerMinuteUnderWeComLimit: queriesPerMinute(m.byPath),
      verified: !m.problems.length,
      ...(m.problems.length ? { problems: m.problems } : {}),
      ...(await underLoad(target, request)),
    };
  };
  const gateway = await startGateway(ctx.cached);
  try {
    await attempt(emptyRow('federated-tickets', 'cached', description('through Hive Gateway (one batched _entities request)')), () =>
      warm(gateway, TICKETS, namesOfTickets, 'federated-tickets'),
    );
    await attempt(
      emptyRow('federated-tickets-entities', 'cached', description("as the gateway's _entities request, sent to the service directly")),
      () => warm(ctx.cached, entities, namesOfEntities, 'federated-tickets-entities'),
    );
    await attempt(emptyRow('federated-tickets-direct', 'cached', description('asked directly with users(userids:)')), () =>
      warm(ctx.cached, direct, namesOfUsers, 'federated-tickets-direct'),
    );
  } finally {
    await gateway.stop();
  }

  // Without it: every query cold; the gateway's calls must equal the direct query's.
  const uncached = await ctx.uncached();
  const uncachedGateway = await startGateway(uncached);
  try {
    let directCalls: number | null = null;
    const singles = (latencies: number[]) => {
      const sorted = [...latencies].sort((a, b) => a - b);
      return {
        p50Ms: sorted[Math.floor((sorted.length - 1) / 2)] ?? null,
        p99Ms: sorted.at(-1) ?? null,
        latencyFrom: 'single-requests' as const,
      };
    };
    await attempt(
      emptyRow('federated-tickets-direct-uncached', 'uncached', description('asked directly with users(userids:), no cache')),
      async () => {
        const m = await measureCalls(uncached, direct, namesOfUsers, 'federated-tickets-direct-uncached');
        directCalls = m.calls;
        return {
          upstreamCallsPerQuery: m.calls,
          upstreamCallsByPath: m.byPath,
          minimumCallsPerQuery: members.length + 1,
          queriesPerMinuteUnderWeComLimit: queriesPerMinute(m.byPath),
          verified: !m.problems.length,
          ...singles(m.latencies),
          note: 'one user/get per member and the tree once; not loaded (it would measure WeCom’s rate limit)',
        };
      },
    );
    await attempt(emptyRow('federated-tickets-uncached', 'uncached', description('through Hive Gateway, no cache')), async () => {
      const m = await measureCalls(uncachedGateway, TICKETS, namesOfTickets, 'federated-tickets-uncached');
      return {
        upstreamCallsPerQuery: m.calls,
        upstreamCallsByPath: m.byPath,
        // The target: exactly what the direct query costs.
        minimumCallsPerQuery: directCalls,
        queriesPerMinuteUnderWeComLimit: queriesPerMinute(m.byPath),
        verified: !m.problems.length,
        ...singles(m.latencies),
        note: 'calls equal to federated-tickets-direct-uncached is the target',
      };
    });
  } finally {
    await uncachedGateway.stop();
  }
  return rows;
}
