import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { CORP_API_CALLS_PER_MINUTE, RATE_LIMIT_WINDOW_MS } from 'wecom-protocol/limits';
import { ChildService, REPO_ROOT, answers, freePort, imageNodeOptions } from './processes.ts';
import { generateApiKey, hashApiKey } from '../src/auth/api-keys.ts';
import { ALL_SCOPE_NAMES } from '../src/auth/scopes.ts';
import { EmulatorClient, type Credentials, type DirectorySnapshot } from './emulator-state.ts';
import { SnapshotTree, buildScenarios, type ReadScenario, type WriteScenario } from './scenarios.ts';
import { benchFederatedTickets } from './federated-tickets.ts';
import { benchScale, responseCacheMb, type ScaleReport } from './scale.ts';
import {
  countUpstream,
  load,
  percentile,
  post,
  settle,
  type GraphQLAnswer,
  type GraphQLRequest,
  type LoadResult,
  type Target,
} from './measure.ts';
import { runFleetBench } from './fleet.ts';
import {
  emptyRow,
  evaluateTargets,
  fmt,
  latestLargeReport,
  queriesPerMinute,
  textTable,
  writeResults,
  type BenchResults,
  type Configuration,
  type LargeSeedReport,
  type RunSettings,
  type ScenarioResult,
} from './report.ts';

/**
 * `npm run bench [-- --size large] [-- --quick]`: the emulator with injected upstream latency,
 * the service in three configurations and a bare Yoga server, as child processes of this one, on
 * loopback; every scenario measured in the same run. See docs/benchmark.md.
 */

const { values: args } = parseArgs({
  options: {
    size: { type: 'string', default: 'demo' },
    seed: { type: 'string', default: '1' },
    quick: { type: 'boolean', default: false },
    duration: { type: 'string' },
    connections: { type: 'string' },
    'latency-ms': { type: 'string', default: '20' },
    'jitter-ms': { type: 'string', default: '5' },
    'cold-samples': { type: 'string' },
    out: { type: 'string' },
    // The fleet-3 scenario alone (bench/fleet.ts).
    fleet: { type: 'boolean', default: false },
  },
});

function fail(message: string): never {
  console.error(`bench: ${message}`);
  process.exit(2);
}

const num = (name: string, value: string, min: number) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) fail(`--${name} must be a number ≥ ${min}, got "${value}"`);
  return n;
};

const SIZES = ['demo', 'large', 'huge'] as const;
const isSize = (v: string): v is (typeof SIZES)[number] => (SIZES as readonly string[]).includes(v);
if (!isSize(args.size)) fail(`--size must be "demo", "large" or "huge", got "${args.size}"`);
const size = args.size;
const quick = args.quick;
/**
 * The service as production runs it, compiled by `npm run build` (node alone: its memory is the
 * service's, not a loader's); the quick smoke run uses the sources through tsx, with no build.
 */
const SERVICE_SCRIPT = quick ? 'src/main.ts' : 'dist/main.js';
if (!quick) execFileSync('npm', ['run', '-s', 'build'], { stdio: 'inherit' });
const options = {
  size,
  quick,
  seed: num('seed', args.seed, 0),
  connections: num('connections', args.connections ?? (quick ? '4' : '10'), 1),
  durationSeconds: num('duration', args.duration ?? (quick ? '0.3' : '5'), 0.1),
  latencyMs: num('latency-ms', args['latency-ms'], 0),
  jitterMs: num('jitter-ms', args['jitter-ms'], 0),
  coldSamples: num('cold-samples', args['cold-samples'] ?? (quick ? '1' : '5'), 1),
  /** Sequential queries whose upstream calls are counted per scenario. */
  countQueries: quick ? 1 : 3,
  /** A short load before the measured one, so the JIT has compiled the hot paths (none for quick). */
  warmupSeconds: quick ? 0 : 1,
  /** Quick runs (CI smoke) never overwrite the committed results. */
  out: args.out ?? (quick ? join(tmpdir(), 'wecom-directory-bench') : join(REPO_ROOT, 'bench')),
};

/** Each request waits at most this long (the naive baseline's whole-tree queries take seconds). */
const REQUEST_TIMEOUT_SECONDS = 120;
/**
 * The emulator's per-API limit (10,000 calls/min, WeCom's) is lifted for the run so that
 * back-to-back scenarios don't throttle each other; the service's own rate budget (80% of WeCom's
 * limit per process) stays, and the uncached and naive services are restarted before each scenario
 * to start with a full budget. "WeCom-limited q/min" shows how each query fares against the limit.
 */
const LIFTED_RATE_LIMIT = 1_000_000_000;
const UPSTREAM_PATHS = [
  'gettoken',
  'department/list',
  'user/get',
  'user/list',
  'user/simplelist',
  'user/create',
  'user/update',
  'user/delete',
  'tag/list',
  'tag/get',
  'linkedcorp/agent/get_perm_list',
  'linkedcorp/department/list',
  'linkedcorp/user/list',
  'linkedcorp/user/get',
].map((p) => `/cgi-bin/${p}`);
/** The key the benchmark's requests carry (made fresh for each run, never stored). */
const BENCH_API_KEY = generateApiKey();
/** A query that fetches the app token (reads use it) and caches nothing the org tree reads. */
const TOKEN_WARMUP: GraphQLRequest = { query: '{ linkedCorps { linkedId } }' };
/** Direct emulator round trips timed to state the cold-latency target in measured terms. */
const RTT_SAMPLES = 20;
/** Cold: unmeasured rounds first, warm requests between cold ones, and the wait for every entry to expire (TTL 1 s). */
const COLD_WARMUP_ROUNDS = quick ? 0 : 2;
const COLD_WARM_REQUESTS = quick ? 2 : 20;
const COLD_EXPIRY_WAIT_MS = 1_100;
/**
 * The client's own user/list budget (its default share, 80 %, of WeCom's per-minute limit). The
 * cold rounds reload every list each time: on the huge seed (801 lists a tree, more with the warm
 * requests between) a round would soon be refused for the budget, which is not what they measure.
 */
const CLIENT_LIST_BUDGET = 0.8 * CORP_API_CALLS_PER_MINUTE;

/** Upstream calls made recently, to wait until the client's per-minute budget has room for a round. */
class RateWindow {
  private spent: { at: number; calls: number }[] = [];
  constructor(private readonly perWindow: number) {}

  add(calls: number): void {
    this.spent.push({ at: performance.now(), calls });
  }

  /** Waits until `calls` more fit in the window; returns how long it waited, ms. */
  async roomFor(calls: number): Promise<number> {
    const started = performance.now();
    for (;;) {
      const since = performance.now() - RATE_LIMIT_WINDOW_MS;
      this.spent = this.spent.filter((s) => s.at > since);
      const used = this.spent.reduce((n, s) => n + s.calls, 0);
      if (!this.spent.length || used + calls <= this.perWindow) return performance.now() - started;
      await sleep(this.spent[0]!.at - since + 10);
    }
  }
}
/**
 * Rows left out on purpose, with the reason shown in the results. Whole-tree queries without the
 * cache cost one upstream call per department (2,222 on the large seed; the naive baseline one
 * user/get per membership on top): under load they would spend the client's rate budget (8,000
 * calls/min per API) in seconds, so the large seed measures them once, as the cold full-tree walk.
 * Quick runs (the CI smoke test) keep every code path but leave out the whole-tree rows too.
 */
function skipReason(scenario: ReadScenario, configuration: 'uncached' | 'naive'): string | undefined {
  if (!scenario.wholeTree) return undefined;
  if (quick) return 'quick run: whole-tree queries without the cache are measured in full runs only';
  if (size !== 'demo') {
    return configuration === 'naive'
      ? `not run on the ${size} seed: one user/get per member per request would take minutes under WeCom's 10,000 calls/min per API`
      : `not run on the ${size} seed: ${scenario.minimumUncached} upstream calls per request; see the cold full-tree walk`;
  }
  return undefined;
}

const t0 = Date.now();
const loadAtStart = loadavg()[0]!;
const log = (message: string) => console.error(`[bench ${((Date.now() - t0) / 1000).toFixed(1)}s] ${message}`);

interface Runtime {
  emulator: ChildService;
  wecom: EmulatorClient;
  creds: Credentials;
  bareRps: number | null;
}

async function main(): Promise<void> {
  let emulator: ChildService | undefined;
  let launcher: Launcher | undefined;
  const stopAll = async () => {
    await launcher?.stopAll();
    await emulator?.stop();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stopAll().then(() => process.exit(130)));

  try {
    if (loadAtStart > cpus().length / 2)
      log(
        `warning: the machine is busy (load average ${loadAtStart.toFixed(2)} on ${cpus().length} CPUs); throughput will be lower than on an idle machine`,
      );
    log(`starting the emulator (${size}, seed ${options.seed}), latency ${options.latencyMs} ± ${options.jitterMs} ms`);
    const emulatorPort = await freePort();
    emulator = await ChildService.start({
      name: 'emulator',
      script: 'packages/wecom-emulator/src/cli.ts',
      args: ['--port', String(emulatorPort), '--seed', String(options.seed), '--size', size],
      port: emulatorPort,
      ready: answers('/__emulator/credentials'),
    });
    const wecom = new EmulatorClient(emulator.url);
    const creds = await wecom.credentials();
    const rt: Runtime = { emulator, wecom, creds, bareRps: null };
    launcher = new Launcher(rt);
    const snapshot = await wecom.snapshot(creds);
    await wecom.setFaults({
      latencyMs: options.latencyMs,
      jitterMs: options.jitterMs,
      rateLimitPerMinute: Object.fromEntries(UPSTREAM_PATHS.map((p) => [p, LIFTED_RATE_LIMIT])),
    });
    const scenarios = buildScenarios(snapshot);
    const roundTrips = await upstreamRoundTrips(wecom, creds, orgTreeLevel3(snapshot));
    const reads = scenarios.filter((s): s is ReadScenario => s.kind === 'read');
    const write = scenarios.find((s): s is WriteScenario => s.kind === 'write')!;
    const rows: ScenarioResult[] = [];
    const record = (row: ScenarioResult) => {
      rows.push(row);
      log(
        `${row.name}: ${row.status}${row.status === 'ok' ? `, ${fmt(row.upstreamCallsPerQuery, 2)} calls/query (min ${fmt(row.minimumCallsPerQuery, 2)}), p50 ${fmt(row.p50Ms)} ms, ${fmt(row.rps, 0)} rps` : ` (${row.note})`}`,
      );
    };

    // The ceiling: bare Yoga { hello }.
    record(await benchBareYoga(rt, await launcher.get('bare')));

    // The service with its directory cache: cold (every entry expired), then warm.
    record(await benchCold(rt, await launcher.get('cold'), reads[0]!));
    // The scale section (bench/scale.ts) starts the cached service itself: spawn to warm is measured.
    let scale: ScaleReport | undefined;
    let cached: ChildService;
    try {
      const measured = await benchScale({ quick, wecom, snapshot, start: () => launcher!.get('cached'), log });
      scale = measured.report;
      cached = measured.service;
    } catch (err) {
      log(`scale section failed: ${err instanceof Error ? err.message : String(err)}`);
      cached = await launcher.get('cached');
    }
    for (const scenario of reads) {
      record(await benchRead(rt, cached, scenario, 'cached', scenario.base === 'org-tree' ? 'org-tree-warm' : scenario.base));
    }
    const cacheActive = rows.find((r) => r.name === 'org-tree-warm')?.upstreamCallsPerQuery === 0;

    // Issue 18: the same members through Hive Gateway, beside the direct query (bench/federated-tickets.ts).
    const { connections, durationSeconds, warmupSeconds, countQueries } = options;
    const federated = await benchFederatedTickets({
      wecom,
      snapshot,
      cached,
      uncached: () => launcher!.freshOf('uncached'),
      bareRps: rt.bareRps,
      connections,
      durationSeconds,
      warmupSeconds,
      countQueries,
    });
    federated.forEach(record);

    // Large seed: the cold full-tree walk and the memory of a fully cached directory.
    const large = size !== 'demo' ? await benchLargeSeed(rt, await launcher.get('nowarm'), reads, snapshot) : undefined;
    // RSS with the corp fully cached, after every cached scenario ran on the warm service.
    if (scale)
      scale = {
        ...scale,
        rssAfterMb: cached.memory().rssMb,
        responseCacheAfterMb: await responseCacheMb(cached),
        peakRssMb: Math.max(scale.peakRssMb, cached.memory().peakRssMb),
      };

    // The same service with the cache switched off (CACHE_ENABLED=false): the per-request plan alone.
    for (const scenario of reads) {
      const name = `${scenario.base}-uncached`;
      const skip = skipReason(scenario, 'uncached');
      if (!cacheActive)
        record(
          unavailable(
            name,
            'uncached',
            scenario.description,
            'the service answered a repeated org tree with upstream calls: no directory cache to switch off',
          ),
        );
      else if (skip) record(skipped(name, 'uncached', scenario, skip));
      else record(await benchRead(rt, await launcher.freshOf('uncached'), scenario, 'uncached', name));
    }

    // The naive baseline (bench/naive-service.ts): no cache, no batching, one user/get per member.
    for (const scenario of reads) {
      const name = `${scenario.base}-naive`;
      const skip = skipReason(scenario, 'naive');
      if (skip) record(skipped(name, 'naive', scenario, skip));
      else record(await benchRead(rt, await launcher.freshOf('naive'), scenario, 'naive', name));
    }

    // Writes last (they change the directory; the members they leave are removed after each run).
    const mutations = await mutationsAvailable(cached);
    for (const [configuration, name] of [
      ['cached', 'write-mix'],
      ['naive', 'write-mix-naive'],
    ] as const) {
      if (!mutations.ok) record(unavailable(name, configuration, write.description, mutations.missing));
      else record(await benchWrites(rt, configuration === 'cached' ? cached : await launcher.freshOf('naive'), write, configuration, name));
    }

    const settings: RunSettings = {
      size,
      seed: options.seed,
      quick,
      users: snapshot.users.length,
      departments: snapshot.departments.length,
      connections: options.connections,
      durationSeconds: options.durationSeconds,
      upstreamLatencyMs: options.latencyMs,
      upstreamJitterMs: options.jitterMs,
      upstreamRoundTripMs: roundTrips.single,
      upstreamTwoWavesMs: roundTrips.twoWaves,
      coldSamples: options.coldSamples,
      cacheActive,
    };
    // A demo run shows the memory target from the latest large-seed run in the same folder, if any.
    const largeReport = large ?? latestLargeReport(options.out);
    const partial = {
      machine: machineInfo(),
      settings,
      scenarios: rows,
      ...(largeReport ? { large: largeReport } : {}),
      ...(scale ? { scale } : {}),
    };
    const results: BenchResults = { ...partial, targets: evaluateTargets(partial) };
    const files = writeResults(options.out, results);
    console.log(textTable(results));
    console.log('');
    for (const t of results.targets) console.log(`${t.met === null ? '·' : t.met ? '✓' : '✗'} ${t.target}: ${t.measured}`);
    console.log(`\nwritten: ${files.json}, ${files.markdown} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  } finally {
    await stopAll();
  }
}

/** `nowarm`: the cached service with its warm-up off (the first request loads the corp, as before issue 13). */
type ServiceKind = 'bare' | 'cold' | 'nowarm' | Exclude<Configuration, 'bare-yoga'>;

/** Starts the servers under test, each when it is needed, so no start-up competes with a measurement. */
class Launcher {
  private readonly running = new Set<ChildService>();
  private fresh?: { kind: ServiceKind; service: ChildService };

  constructor(private readonly rt: Runtime) {}

  async get(kind: ServiceKind): Promise<ChildService> {
    const port = await freePort();
    const service = kind === 'bare' ? await this.bareYoga(port) : await this.service(kind, port);
    this.running.add(service);
    return service;
  }

  /**
   * The uncached and naive services: a new process each time (the previous one stopped), so each
   * scenario starts with the client's full rate budget and no work left in flight. Quick runs keep
   * one process per kind and let the upstream settle instead.
   */
  async freshOf(kind: 'uncached' | 'naive'): Promise<ChildService> {
    if (this.fresh && (!quick || this.fresh.kind !== kind)) {
      await this.fresh.service.stop();
      this.fresh = undefined;
    }
    this.fresh ??= { kind, service: await this.get(kind) };
    return this.fresh.service;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.running].map((c) => c.stop()));
  }

  private bareYoga(port: number): Promise<ChildService> {
    return ChildService.start({
      name: 'bare yoga',
      script: 'bench/bare-yoga.ts',
      port,
      env: { PORT: String(port), HOST: '127.0.0.1', NODE_ENV: 'production', NODE_OPTIONS: imageNodeOptions() },
      ready: async (p) => (await post({ url: `http://127.0.0.1:${p}`, headers: {} }, { query: '{ hello }' })).status === 200,
    });
  }

  private service(kind: Exclude<ServiceKind, 'bare'>, port: number): Promise<ChildService> {
    return ChildService.start({
      name: `service (${kind})`,
      // The naive baseline is the service with the naive planning (bench/naive-service.ts, through tsx).
      script: kind === 'naive' ? 'bench/naive-service.ts' : SERVICE_SCRIPT,
      port,
      headers: { 'x-api-key': BENCH_API_KEY },
      env: {
        // Callers authenticate as in production: one API key with every scope. The per-caller
        // request rate limits are off (a benchmark measures throughput); introspection is on for
        // the check that the mutations exist.
        // As the Docker image runs it (its heap cap: docs/operations-scale.md#memory).
        NODE_OPTIONS: imageNodeOptions(),
        API_KEYS: JSON.stringify([{ id: 'bench', hash: hashApiKey(BENCH_API_KEY), scopes: ALL_SCOPE_NAMES }]),
        RATE_LIMIT_PER_MINUTE: '0',
        MUTATION_RATE_LIMIT_PER_MINUTE: '0',
        INTROSPECTION: 'true',
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        NODE_ENV: 'production',
        WECOM_BASE_URL: this.rt.emulator.url,
        WECOM_CORP_ID: this.rt.creds.corpId,
        WECOM_CONTACT_SECRET: this.rt.creds.contactSecret,
        WECOM_AGENT_ID: String(this.rt.creds.app.agentId),
        WECOM_APP_SECRET: this.rt.creds.app.secret,
        // The cache switch (src/config/cache.ts); the naive baseline has no cache whatever it says.
        CACHE_ENABLED: kind === 'cached' || kind === 'cold' || kind === 'nowarm' ? 'true' : 'false',
        // Cold: entries live 1 s and are never served stale (see benchCold); no warm-up, which
        // would refresh them behind the measurement's back.
        ...(kind === 'cold' ? { CACHE_TTL_SECONDS: '1', CACHE_STALE_SECONDS: '0', CACHE_WARM_UP: 'false' } : {}),
        // Cached: warmed at start with the client's whole user/list budget, and a TTL longer than
        // the run (as with change callbacks configured), so no refresh-ahead pass lands inside a
        // scenario's call count.
        ...(kind === 'cached' ? { CACHE_TTL_SECONDS: '3600', CACHE_WARM_UP_BUDGET_PERCENT: '100' } : {}),
        ...(kind === 'nowarm' ? { CACHE_TTL_SECONDS: '3600', CACHE_WARM_UP: 'false' } : {}),
      },
      ready: answers('/healthz'),
    });
  }
}

async function benchBareYoga(rt: Runtime, bare: ChildService): Promise<ScenarioResult> {
  try {
    const body = JSON.stringify({ query: '{ hello }' });
    const check = await post(bare, { query: '{ hello }' });
    await warmup(bare, [() => body]);
    bare.resetPeak();
    const result = await runLoad(bare, [() => body], readFailed);
    rt.bareRps = result.rps;
    return {
      ...emptyRow('bare-yoga-hello', 'bare-yoga', 'graphql-yoga answering { hello } on node:http: the ceiling for HTTP + GraphQL overhead'),
      ...loadFields(result, rt),
      upstreamCallsPerQuery: 0,
      minimumCallsPerQuery: 0,
      peakRssMb: bare.memory().peakRssMb,
      verified: (check.data as { hello?: string } | undefined)?.hello === 'world',
    };
  } finally {
    await bare.stop();
  }
}

/**
 * Cold: the org tree when nothing is cached. The service runs with CACHE_TTL_SECONDS=1 and
 * CACHE_STALE_SECONDS=0, so after a pause of just over a second every entry has expired and may not
 * be served stale: the next request reads everything upstream, through the cache's miss path, in a
 * process whose code is already compiled and whose token is held. The very first request after the
 * process started (JIT cold as well) is reported beside it.
 */
async function benchCold(rt: Runtime, service: ChildService, orgTree: ReadScenario): Promise<ScenarioResult> {
  try {
    service.resetPeak();
    expectOk(await post(service, TOKEN_WARMUP), 'token warm-up');
    let firstAnswer: GraphQLAnswer | undefined;
    const first = await countUpstream(rt.wecom, async () => {
      firstAnswer = await post(service, orgTree.request);
    });
    expectOk(firstAnswer!, 'first org tree');
    const firstMs = firstAnswer!.ms;
    const problems = new Set<string>();
    const latencies: number[] = [];
    const calls: Record<string, number>[] = [];
    const window = new RateWindow(CLIENT_LIST_BUDGET);
    window.add(first.byPath['/cgi-bin/user/list'] ?? 0);
    let lastRound = first.byPath['/cgi-bin/user/list'] ?? 0;
    let waitedMs = 0;
    for (let i = 0; i < COLD_WARMUP_ROUNDS + options.coldSamples; i++) {
      waitedMs += await window.roomFor(lastRound);
      // Warm requests between the cold ones keep the hot paths compiled, as in a running service.
      const warm = await countUpstream(rt.wecom, async () => {
        for (let j = 0; j < COLD_WARM_REQUESTS; j++) expectOk(await post(service, orgTree.request), 'warm org tree');
      });
      await sleep(COLD_EXPIRY_WAIT_MS);
      let answer: GraphQLAnswer | undefined;
      const count = await countUpstream(rt.wecom, async () => {
        answer = await post(service, orgTree.request);
      });
      lastRound = (warm.byPath['/cgi-bin/user/list'] ?? 0) + (count.byPath['/cgi-bin/user/list'] ?? 0);
      window.add(lastRound);
      expectOk(answer!, 'cold org tree');
      if (i < COLD_WARMUP_ROUNDS) continue;
      for (const p of orgTree.verify(answer!.data)) problems.add(p);
      latencies.push(answer!.ms);
      calls.push(count.byPath);
    }
    const byPath = averageByPath(calls);
    return {
      ...emptyRow('org-tree-cold', 'cached', `${orgTree.description}; every cache entry expired (token held)`),
      upstreamCallsPerQuery: sum(byPath),
      upstreamCallsByPath: byPath,
      queriesPerMinuteUnderWeComLimit: queriesPerMinute(byPath),
      minimumCallsPerQuery: orgTree.minimumUncached,
      p50Ms: percentile(latencies, 0.5),
      p99Ms: percentile(latencies, 0.99),
      latencyFrom: 'single-requests',
      peakRssMb: service.memory().peakRssMb,
      firstRequestAfterStartMs: firstMs,
      firstRequestAfterStartCalls: first.total,
      verified: problems.size === 0,
      ...(problems.size ? { problems: [...problems] } : {}),
      note: `${options.coldSamples} cold request(s), single; first request after start ${firstMs.toFixed(0)} ms; rps does not apply${waitedMs > 0 ? `; rounds paced to the client's user/list budget (waited ${(waitedMs / 1000).toFixed(0)} s)` : ''}`,
    };
  } catch (err) {
    return {
      ...emptyRow('org-tree-cold', 'cached', orgTree.description),
      status: 'failed',
      minimumCallsPerQuery: orgTree.minimumUncached,
      note: err instanceof Error ? err.message : String(err),
    };
  } finally {
    await service.stop();
  }
}

async function benchRead(
  rt: Runtime,
  service: ChildService,
  scenario: ReadScenario,
  configuration: Configuration,
  name: string,
): Promise<ScenarioResult> {
  const row = emptyRow(name, configuration, scenario.description);
  // Cached: a repeated read is answered from memory (the response cache over the directory cache).
  const minimum = configuration === 'cached' ? 0 : scenario.minimumUncached;
  try {
    await settle(rt.wecom);
    service.resetPeak();
    expectOk(await post(service, TOKEN_WARMUP), 'token warm-up');
    // The first answer fills the cache (cached) and is checked against the emulator's state.
    const first = await post(service, scenario.request, REQUEST_TIMEOUT_SECONDS * 1000);
    expectOk(first, name);
    const problems = scenario.verify(first.data);
    const count = await countUpstream(rt.wecom, async () => {
      for (let i = 0; i < options.countQueries; i++) expectOk(await post(service, scenario.request, REQUEST_TIMEOUT_SECONDS * 1000), name);
    });
    const byPath = perQuery(count.byPath, options.countQueries);
    const body = JSON.stringify(scenario.request);
    // Warm-up load only where a query is cheap upstream: the naive baseline's would spend its rate budget.
    if (configuration !== 'naive') await warmup(service, [() => body]);
    const result = await runLoad(service, [() => body], readFailed);
    return {
      ...row,
      ...loadFields(result, rt),
      upstreamCallsPerQuery: sum(byPath),
      upstreamCallsByPath: byPath,
      queriesPerMinuteUnderWeComLimit: queriesPerMinute(byPath),
      minimumCallsPerQuery: minimum,
      peakRssMb: service.memory().peakRssMb,
      verified: problems.length === 0,
      ...(problems.length ? { problems } : {}),
    };
  } catch (err) {
    return { ...row, status: 'failed', minimumCallsPerQuery: minimum, note: err instanceof Error ? err.message : String(err) };
  }
}

async function benchWrites(
  rt: Runtime,
  service: ChildService,
  scenario: WriteScenario,
  configuration: Configuration,
  name: string,
): Promise<ScenarioResult> {
  const row = emptyRow(name, configuration, scenario.description);
  const runTag = `${configuration.slice(0, 1)}${Date.now().toString(36)}`;
  let next = 0;
  const problems: string[] = [];
  const cycle = async () => {
    for (const op of scenario.cycle(runTag, next++)) {
      const answer = await post(service, op);
      if (!JSON.stringify(answer.data ?? {}).includes('Success"'))
        problems.push(`${op.operationName}: ${JSON.stringify(answer.errors ?? answer.data).slice(0, 200)}`);
    }
  };
  try {
    await settle(rt.wecom);
    service.resetPeak();
    // One cycle first: the contacts-sync token (writes use it) is fetched outside the count.
    await cycle();
    const count = await countUpstream(rt.wecom, async () => {
      for (let i = 0; i < options.countQueries; i++) await cycle();
    });
    const operations = 3 * options.countQueries;
    const byPath = perQuery(count.byPath, operations);
    const ops = [0, 1, 2].map((i) => (connection: { sequence?: number }) => {
      if (i === 0) connection.sequence = next++;
      return JSON.stringify(scenario.cycle(runTag, connection.sequence!)[i]);
    });
    const result = await runLoad(service, ops, (status, body) => status !== 200 || !body.includes('Success"'));
    // The load stops mid-cycle on some connections: remove the members it left behind.
    await settle(rt.wecom);
    const left = await removeBenchMembers(rt.wecom, scenario.departmentId, runTag);
    return {
      ...row,
      ...loadFields(result, rt),
      upstreamCallsPerQuery: sum(byPath),
      upstreamCallsByPath: byPath,
      queriesPerMinuteUnderWeComLimit: queriesPerMinute(byPath),
      minimumCallsPerQuery: scenario.minimumPerOperation,
      peakRssMb: service.memory().peakRssMb,
      verified: problems.length === 0,
      ...(problems.length ? { problems } : {}),
      note: `per operation (create, update, delete in turn); ${left} member(s) left by the cut-off load removed`,
    };
  } catch (err) {
    return {
      ...row,
      status: 'failed',
      minimumCallsPerQuery: scenario.minimumPerOperation,
      note: err instanceof Error ? err.message : String(err),
    };
  }
}

/**
 * Large and huge seeds: in a fresh process with its warm-up off, the first people-picker search
 * (it loads every department's members: the whole-corp load the warm-up takes off callers), then
 * every scenario once so the whole directory is cached, then the process's RSS.
 */
async function benchLargeSeed(
  rt: Runtime,
  service: ChildService,
  reads: ReadScenario[],
  snapshot: DirectorySnapshot,
): Promise<LargeSeedReport> {
  // The people-picker search: what the first person to type paid before the warm-up (issue 13).
  const walk = reads.find((s) => s.base === 'people-picker-search')!;
  try {
    await settle(rt.wecom);
    expectOk(await post(service, TOKEN_WARMUP), 'token warm-up');
    const atStart = service.memory().rssMb;
    let answer: GraphQLAnswer | undefined;
    const count = await countUpstream(rt.wecom, async () => {
      answer = await post(service, walk.request, REQUEST_TIMEOUT_SECONDS * 1000);
    });
    // On the huge seed the client's rate budget (8,000 user/list a minute) cannot load 8,841 lists
    // within a call's 30 s deadline: the service says so at once (DIRECTORY_LOADING) and loads them
    // in the background; the search is asked again when its answer says to.
    const failure = answer!.status !== 200 || answer!.errors?.length ? describeFailure(answer!) : undefined;
    let answeredAfterMs: number | undefined;
    if (failure) {
      const started = performance.now() - answer!.ms;
      let retry = answer!;
      for (let attempt = 1; attempt <= 5 && (retry.status !== 200 || retry.errors?.length); attempt++) {
        const after = Number(retry.errors?.[0]?.extensions?.retryAfterSeconds ?? 10);
        await sleep(after * 1000);
        retry = await post(service, walk.request, REQUEST_TIMEOUT_SECONDS * 1000);
      }
      if (retry.status === 200 && !retry.errors?.length) answeredAfterMs = performance.now() - started;
    }
    for (const scenario of reads) {
      for (let attempt = 1; ; attempt++) {
        const again = await post(service, scenario.request, REQUEST_TIMEOUT_SECONDS * 1000);
        if ((again.status === 200 && !again.errors?.length) || attempt === 3) break;
      }
    }
    const memory = service.memory();
    return {
      users: snapshot.users.length,
      departments: snapshot.departments.length,
      coldFullTreeWalkMs: answer!.ms,
      coldFullTreeWalkCalls: count.total,
      coldFullTreeWalkMinimumCalls: walk.minimumUncached,
      ...(failure ? { coldFullTreeWalkFailure: failure } : {}),
      ...(answeredAfterMs !== undefined ? { coldSearchAnsweredAfterMs: answeredAfterMs } : {}),
      rssAtStartMb: atStart,
      rssFullyCachedMb: memory.rssMb,
      peakRssMb: memory.peakRssMb,
    };
  } finally {
    await service.stop();
  }
}

/** Deletes (through the console) the members a write run created and did not delete; returns how many. */
async function removeBenchMembers(wecom: EmulatorClient, departmentId: number, runTag: string): Promise<number> {
  const { userlist } = await wecom.console<{ userlist: { userid: string }[] }>('user/list', { department_id: departmentId });
  const left = userlist.filter((u) => u.userid.startsWith(`bench${runTag}x`));
  for (const u of left) await wecom.console('user/delete', { userid: u.userid });
  return left.length;
}

async function mutationsAvailable(service: ChildService): Promise<{ ok: true } | { ok: false; missing: string }> {
  const answer = await post(service, { query: '{ __type(name: "Mutation") { fields { name } } }' });
  const fields = new Set(
    ((answer.data as { __type: { fields: { name: string }[] } | null } | undefined)?.__type?.fields ?? []).map((f) => f.name),
  );
  const missing = ['createUser', 'updateUser', 'deleteUser'].filter((f) => !fields.has(f));
  return missing.length ? { ok: false, missing: `the schema has no ${missing.join(', ')}` } : { ok: true };
}

function warmup(target: Target, bodies: ((c: { sequence?: number }) => string)[]): Promise<LoadResult | undefined> {
  if (!options.warmupSeconds) return Promise.resolve(undefined);
  return load({
    target,
    requests: bodies.map((body) => ({ body })),
    failed: () => false,
    connections: options.connections,
    durationSeconds: options.warmupSeconds,
    timeoutSeconds: REQUEST_TIMEOUT_SECONDS,
  });
}

function runLoad(
  target: Target,
  bodies: ((c: { sequence?: number }) => string)[],
  failed: (status: number, body: string) => boolean,
): Promise<LoadResult> {
  return load({
    target,
    requests: bodies.map((body) => ({ body })),
    failed,
    connections: options.connections,
    durationSeconds: options.durationSeconds,
    timeoutSeconds: REQUEST_TIMEOUT_SECONDS,
  });
}

/** A read failed when it is not a 200 or carries GraphQL errors. */
const readFailed = (status: number, body: string) => status !== 200 || body.includes('"errors"');

function loadFields(result: LoadResult, rt: Runtime): Partial<ScenarioResult> {
  return {
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    rps: result.rps,
    ratioToBareYoga: rt.bareRps ? result.rps / rt.bareRps : null,
    latencyFrom: 'load',
    requests: result.completed,
    failedResponses: result.failed + result.errors,
  };
}

function skipped(name: string, configuration: Configuration, scenario: ReadScenario, why: string): ScenarioResult {
  return {
    ...emptyRow(name, configuration, scenario.description),
    status: 'skipped',
    minimumCallsPerQuery: scenario.minimumUncached,
    note: why,
  };
}

function unavailable(name: string, configuration: Configuration, description: string, why: string): ScenarioResult {
  return { ...emptyRow(name, configuration, description), status: 'not-available', note: why };
}

/** An answer's error codes, for a row's note. */
function describeFailure(answer: GraphQLAnswer): string {
  const codes = [...new Set((answer.errors ?? []).map((e) => String(e.extensions?.code ?? e.message)))];
  return `HTTP ${answer.status}${codes.length ? `: ${codes.join(', ')}` : ''}`;
}

function expectOk(answer: GraphQLAnswer, what: string): void {
  if (answer.status !== 200 || answer.errors?.length) {
    throw new Error(`${what}: HTTP ${answer.status} ${JSON.stringify(answer.errors ?? answer.data).slice(0, 300)}`);
  }
}

/**
 * The upstream part of a cold org tree, timed by calling the emulator directly (as the app, with the
 * injected latency): one department/list (`single`), and that followed by the level-3 departments'
 * user/list in parallel (`twoWaves`: the plan's two round trips, the second as slow as its slowest
 * call). Medians.
 */
async function upstreamRoundTrips(
  wecom: EmulatorClient,
  creds: Credentials,
  level3: number[],
): Promise<{ single: number; twoWaves: number }> {
  const token = await wecom.token(creds.corpId, creds.app.secret);
  const single: number[] = [];
  const twoWaves: number[] = [];
  for (let i = 0; i < RTT_SAMPLES; i++) {
    const t = performance.now();
    await wecom.api('department/list', token);
    single.push(performance.now() - t);
    await Promise.all(level3.map((id) => wecom.api('user/list', token, undefined, { department_id: id })));
    twoWaves.push(performance.now() - t);
  }
  return { single: percentile(single, 0.5)!, twoWaves: percentile(twoWaves, 0.5)! };
}

/** The level-3 departments the org tree scenario lists members of. */
function orgTreeLevel3(snapshot: DirectorySnapshot): number[] {
  const tree = new SnapshotTree(snapshot);
  const root = tree.roots[0]!;
  return tree.childrenOf(root.id).flatMap((d) => tree.childrenOf(d.id).map((c) => c.id));
}

function perQuery(byPath: Record<string, number>, queries: number): Record<string, number> {
  return Object.fromEntries(Object.entries(byPath).map(([p, n]) => [p, n / queries]));
}

function averageByPath(samples: Record<string, number>[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const s of samples) for (const [p, n] of Object.entries(s)) total[p] = (total[p] ?? 0) + n;
  return perQuery(total, samples.length);
}

const sum = (byPath: Record<string, number>) => Object.values(byPath).reduce((a, b) => a + b, 0);

function machineInfo(): BenchResults['machine'] {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    memoryGb: totalmem() / 1024 ** 3,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    date: new Date().toISOString(),
    loadAverage: { atStart: loadAtStart, atEnd: loadavg()[0]! },
  };
}

// Exit once the results are written: idle keep-alive sockets of fetch would hold the loop a few seconds more.
(args.fleet
  ? runFleetBench({
      size,
      seed: options.seed,
      latencyMs: options.latencyMs,
      jitterMs: options.jitterMs,
      connections: options.connections,
      durationSeconds: options.durationSeconds,
      out: options.out,
    })
  : main()
).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
