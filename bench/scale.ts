import { pinyin } from 'pinyin-pro';
import { metricValue, type ChildService } from './processes.ts';
import type { DirectorySnapshot } from './emulator-state.ts';
import type { EmulatorClient } from './emulator-state.ts';
import { SnapshotTree } from './scenarios.ts';
import { ProbeThread } from './probe-thread.ts';
import { percentile, post, type GraphQLAnswer, type GraphQLRequest } from './measure.ts';

/**
 * The scale section of a run (issue 13): what a large corp's users feel, measured on the service
 * with its warm-up on, in the same run as the baselines.
 *
 * - cold start to warm: from spawning the process to /readyz answering ready (the first warm-up
 *   finished), and the upstream calls it made against the fewest that load the corp;
 * - the first people-picker search after the warm-up, then search latency over distinct
 *   keystrokes (1–5 characters: pinyin, initials, Han), each a response-cache miss;
 * - the org tree three levels below the root with 20 members per bottom department (2,000
 *   departments on the large seed) on response-cache misses, while small queries run beside it
 *   from a thread of their own (bench/probe-thread.ts): their p99 and the event-loop delay
 *   (from /metrics) say whether the big answer held the loop;
 * - the service's RSS with the corp fully cached.
 */

export interface ScaleReport {
  users: number;
  departments: number;
  /** Spawn to /readyz ready (first warm-up done), ms; and the warm-up's own figure from /readyz. */
  coldStartToWarmMs: number;
  warmUpMs: number | null;
  /** Upstream calls from spawn to warm (gettoken left out: one per secret, and the readiness probe's), and the fewest that load the corp. */
  warmUpCalls: number;
  warmUpMinimumCalls: number;
  firstSearchAfterWarmMs: number;
  firstSearchAfterWarmCalls: number;
  /** Distinct keystroke queries, sequential. */
  searchQueries: number;
  searchP50Ms: number | null;
  searchP99Ms: number | null;
  searchMaxMs: number | null;
  /** Upstream calls made by all those searches (0 when the warm-up did its job). */
  searchCalls: number;
  /** The big tree: its departments at the bottom level, members per bottom department, answer size. */
  treeDepartments: number;
  treeMembersPerDepartment: number;
  treeBytes: number;
  treeSamples: number;
  treeP50Ms: number | null;
  treeMaxMs: number | null;
  treeCalls: number;
  treeVerified: boolean;
  treeProblems?: string[];
  /** The service refused the tree up front (its cost estimate over MAX_QUERY_COST: the huge seed's three levels): nothing about it was measured. */
  treeRefused?: string;
  /** `{ department(id: 2) { name } }` alone (idle), and while the trees ran. */
  smallIdleP99Ms: number | null;
  smallDuringTreeP50Ms: number | null;
  smallDuringTreeP99Ms: number | null;
  smallDuringTreeCount: number;
  /** Small queries that got no answer (connection reset) while the trees ran. */
  smallDuringTreeErrors: number;
  /** Event-loop delay while the trees ran (service_event_loop_delay_seconds), ms. */
  eventLoopP99Ms: number | null;
  eventLoopMaxMs: number | null;
  rssWarmMb: number;
  rssAfterMb: number;
  /** Of that, the response cache's answer bytes (graphql_response_cache_bytes), MB; set with rssAfterMb. */
  responseCacheAfterMb?: number | null;
  peakRssMb: number;
}

export interface ScaleOptions {
  quick: boolean;
  wecom: EmulatorClient;
  snapshot: DirectorySnapshot;
  /** Starts the service with its warm-up on; resolves once it answers /healthz. */
  start: () => Promise<ChildService>;
  log: (message: string) => void;
}

/** Members shown per bottom-level department in the big tree (the figure). */
const TREE_MEMBERS = 20;
const SMALL_QUERY: GraphQLRequest = { query: '{ department(id: 2) { name } }' };
const READY_POLL_MS = 50;
const WARM_TIMEOUT_MS = 600_000;
const REQUEST_TIMEOUT_MS = 120_000;

/** Starts the service and measures everything above on it; the caller stops the service it gets back. */
export async function benchScale(options: ScaleOptions): Promise<{ report: ScaleReport; service: ChildService }> {
  const { wecom, snapshot, log, quick } = options;
  const tree = new SnapshotTree(snapshot);
  await wecom.resetStats();
  const spawned = performance.now();
  const service = await options.start();
  const warm = await waitWarm(service);
  const coldStartToWarmMs = performance.now() - spawned;
  const warmUpCalls = withoutTokens(await wecom.stats());
  const rssWarmMb = service.memory().rssMb;
  service.resetPeak();
  log(`scale: warm ${fmt(coldStartToWarmMs)} ms after spawn, ${warmUpCalls} upstream calls`);

  // The first search after the warm-up, then distinct keystrokes (each a response-cache miss).
  // 200: a p99 over fewer samples is just the slowest one (the report gives that too, as max).
  const keystrokes = keystrokeQueries(snapshot, quick ? 10 : 201);
  await wecom.resetStats();
  // Timed from a thread of its own (bench/probe-thread.ts), like the small queries below.
  const probe = await ProbeThread.start({ url: service.url, headers: service.headers });
  const firstSearch = await probe.sequence([searchRequest(keystrokes[0]!)]);
  if (firstSearch.failures.length) throw new Error(`first search: ${firstSearch.failures[0]}`);
  const first = firstSearch.times[0]!;
  const firstCalls = (await wecom.stats()).total;
  const searches = await probe.sequence(keystrokes.slice(1).map(searchRequest));
  if (searches.failures.length) throw new Error(`search: ${searches.failures[0]}`);
  const searchTimes = searches.times;
  const searchCalls = (await wecom.stats()).total - firstCalls;
  log(
    `scale: first search ${fmt(first)} ms; ${searchTimes.length} keystrokes p50 ${fmt(percentile(searchTimes, 0.5))} ms, p99 ${fmt(percentile(searchTimes, 0.99))} ms`,
  );

  // Small queries alone, for the idle figure (from the same kind of thread as during the tree).
  const idle = (await probe.sequence(Array.from({ length: quick ? 20 : 100 }, () => SMALL_QUERY))).times;

  // The big tree on response-cache misses (a new operation name each time), small queries beside it.
  const root = tree.roots[0]!;
  const bottom = tree
    .childrenOf(root.id)
    .flatMap((a) => tree.childrenOf(a.id))
    .flatMap((b) => tree.childrenOf(b.id));
  // A corp whose three levels cost more than MAX_QUERY_COST gets a refusal up front: reported as such.
  const trial = await post(service, treeRequest(root.id, 'Probe'), REQUEST_TIMEOUT_MS);
  const refusal = trial.errors?.find((e) => e.extensions?.code === 'QUERY_TOO_COSTLY')?.message;
  if (refusal) log(`scale: the tree was refused up front: ${refusal}`);
  const unmeasured = quick || refusal ? 0 : 2;
  const samples = refusal ? 0 : quick ? 1 : 5;
  for (let i = 0; i < unmeasured; i++)
    expectOk(await post(service, treeRequest(root.id, `Warm${i}`), REQUEST_TIMEOUT_MS), 'tree (JIT warm-up)');
  await scrapeLoop(service);
  await wecom.resetStats();
  const stopLoops = refusal ? undefined : await probe.loops({ request: SMALL_QUERY, loops: 2, pauseMs: 5 });
  const treeTimes: number[] = [];
  let last: GraphQLAnswer | undefined;
  let bytes = 0;
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    const res = await fetch(`${service.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...service.headers },
      body: JSON.stringify(treeRequest(root.id, `Miss${i}_${Date.now()}`)),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    treeTimes.push(performance.now() - started);
    bytes = Buffer.byteLength(text);
    const body = JSON.parse(text) as { data?: unknown; errors?: GraphQLAnswer['errors'] };
    last = { status: res.status, data: body.data, errors: body.errors, ms: treeTimes.at(-1)! };
    expectOk(last, 'tree');
  }
  const { times: during, errors: smallErrors } = (await stopLoops?.()) ?? { times: [], errors: 0 };
  await probe.stop();
  const loop = await scrapeLoop(service);
  const treeCalls = (await wecom.stats()).total;
  const problems = refusal
    ? []
    : verifyTree(
        last?.data,
        bottom.map((d) => d.id),
        snapshot,
      );
  log(
    `scale: tree of ${bottom.length} departments p50 ${fmt(percentile(treeTimes, 0.5))} ms; small queries meanwhile p99 ${fmt(percentile(during, 0.99))} ms; event loop p99 ${fmt(loop.p99Ms)} ms`,
  );

  const memory = service.memory();
  return {
    service,
    report: {
      users: snapshot.users.length,
      departments: snapshot.departments.length,
      coldStartToWarmMs,
      warmUpMs: warm.firstWarmMs,
      warmUpCalls,
      // department/list + user/list per department + tag/list + tag/get per tag, and the one
      // agent/get of /readyz (the app's visible range: the benchmark configures an app secret)
      warmUpMinimumCalls: 1 + snapshot.departments.length + 1 + snapshot.tags.length + 1,
      firstSearchAfterWarmMs: first,
      firstSearchAfterWarmCalls: firstCalls,
      searchQueries: searchTimes.length,
      searchP50Ms: percentile(searchTimes, 0.5),
      searchP99Ms: percentile(searchTimes, 0.99),
      searchMaxMs: searchTimes.length ? Math.max(...searchTimes) : null,
      searchCalls,
      treeDepartments: bottom.length,
      treeMembersPerDepartment: TREE_MEMBERS,
      treeBytes: bytes,
      treeSamples: samples,
      treeP50Ms: percentile(treeTimes, 0.5),
      treeMaxMs: treeTimes.length ? Math.max(...treeTimes) : null,
      treeCalls,
      treeVerified: problems.length === 0,
      ...(problems.length ? { treeProblems: problems.slice(0, 5) } : {}),
      ...(refusal ? { treeRefused: refusal } : {}),
      smallIdleP99Ms: percentile(idle, 0.99),
      smallDuringTreeP50Ms: percentile(during, 0.5),
      smallDuringTreeP99Ms: percentile(during, 0.99),
      smallDuringTreeCount: during.length,
      smallDuringTreeErrors: smallErrors,
      eventLoopP99Ms: loop.p99Ms,
      eventLoopMaxMs: loop.maxMs,
      rssWarmMb,
      rssAfterMb: memory.rssMb,
      peakRssMb: memory.peakRssMb,
    },
  };
}

/** Polls /readyz until the service is ready (its first warm-up finished); returns the warm-up's own report. */
async function waitWarm(service: ChildService): Promise<{ firstWarmMs: number | null }> {
  const deadline = Date.now() + WARM_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const res = await fetch(`${service.url}/readyz`).catch(() => undefined);
    if (res?.ok) {
      const body = (await res.json()) as { cache?: { firstWarmMs: number | null } };
      return { firstWarmMs: body.cache?.firstWarmMs ?? null };
    }
    await res?.body?.cancel();
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
  throw new Error(`the service was not warm within ${WARM_TIMEOUT_MS} ms`);
}

const metricsOf = async (service: ChildService) => (await fetch(`${service.url}/metrics`)).text();

/** The event-loop delay since the previous scrape (service_event_loop_delay_seconds), ms. */
async function scrapeLoop(service: ChildService): Promise<{ p99Ms: number; maxMs: number }> {
  const text = await metricsOf(service);
  const ms = (quantile: string) => metricValue(text, 'service_event_loop_delay_seconds', { quantile }) * 1000;
  return { p99Ms: ms('0.99'), maxMs: ms('1') };
}

/** The response cache's answer bytes now (graphql_response_cache_bytes), MB. */
export async function responseCacheMb(service: ChildService): Promise<number> {
  return metricValue(await metricsOf(service), 'graphql_response_cache_bytes') / 1024 / 1024;
}

const searchRequest = (text: string): GraphQLRequest => ({
  query:
    'query PeoplePicker($query: String!) { searchUsers(query: $query, first: 20) { totalCount nodes { userid name position mainDepartment { name } } } }',
  variables: { query: text },
});

function treeRequest(root: number, name: string): GraphQLRequest {
  return {
    query: `query Tree${name}($root: Int!) { department(id: $root) { departmentId name children { departmentId name children { departmentId name children { departmentId name members(first: ${TREE_MEMBERS}) { totalCount nodes { userid name position } } } } } } }`,
    variables: { root },
  };
}

interface TreeNode {
  departmentId: number;
  children?: TreeNode[];
  members?: { totalCount: number; nodes: unknown[] };
}

function verifyTree(data: unknown, bottomIds: number[], snapshot: DirectorySnapshot): string[] {
  const top = (data as { department?: TreeNode } | undefined)?.department;
  if (!top) return ['no tree in the answer'];
  const got = (top.children ?? []).flatMap((a) => a.children ?? []).flatMap((b) => b.children ?? []);
  const problems: string[] = [];
  if (got.length !== bottomIds.length) problems.push(`${got.length} bottom departments, emulator has ${bottomIds.length}`);
  for (const d of got) {
    const expected = snapshot.membersByDepartment.get(d.departmentId)?.length ?? -1;
    if (d.members?.totalCount !== expected)
      problems.push(`department ${d.departmentId}: ${d.members?.totalCount} members, emulator has ${expected}`);
    else if (d.members.nodes.length !== Math.min(TREE_MEMBERS, expected))
      problems.push(`department ${d.departmentId}: page of ${d.members.nodes.length}`);
    if (problems.length > 5) break;
  }
  return problems;
}

/**
 * Distinct keystroke queries as a person types them into a picker: prefixes (1–5 characters) of
 * members' pinyin userids, the initials of their names, and their Chinese names (1–2 characters), from members
 * spread over the corp. The first one is the "first search after warm-up".
 */
export function keystrokeQueries(snapshot: DirectorySnapshot, count: number): string[] {
  const out = new Set<string>();
  const users = snapshot.users;
  const step = Math.max(1, Math.floor(users.length / 97));
  for (let i = 0; out.size < count && i < users.length * 2; i += step) {
    const u = users[(i * 7919) % users.length]!;
    const id = u.userid.toLowerCase().replace(/[^a-z]/g, '');
    const han = [...u.name].filter((c) => /\p{Script=Han}/u.test(c));
    const candidates = [
      ...[1, 2, 3, 4, 5].map((n) => id.slice(0, n)),
      han.slice(0, 1).join(''),
      han.slice(0, 2).join(''),
      han.length >= 2
        ? pinyin(han.join(''), { pattern: 'first', toneType: 'none', type: 'array', surname: 'head' }).join('').toLowerCase()
        : '',
    ];
    for (const c of candidates) if (c && !out.has(c) && out.size < count) out.add(c);
  }
  return [...out];
}

function withoutTokens(stats: { calls: Record<string, number> }): number {
  return Object.entries(stats.calls).reduce((sum, [path, n]) => (path === '/cgi-bin/gettoken' ? sum : sum + n), 0);
}

function expectOk(answer: GraphQLAnswer, what: string): void {
  if (answer.status !== 200 || answer.errors?.length)
    throw new Error(`${what}: HTTP ${answer.status} ${JSON.stringify(answer.errors ?? answer.data).slice(0, 300)}`);
}

const fmt = (n: number | null) => (n === null ? '–' : n.toFixed(1));
