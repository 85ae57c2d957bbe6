import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { ChildService, answers, freePort, imageNodeOptions } from './processes.ts';
import { EmulatorClient, type Credentials } from './emulator-state.ts';
import { buildScenarios, type ReadScenario } from './scenarios.ts';
import { countUpstream, load, post, settle, type Target } from './measure.ts';
import { generateApiKey, hashApiKey } from '../src/auth/api-keys.ts';
import { ALL_SCOPE_NAMES } from '../src/auth/scopes.ts';

/**
 * `npm run bench -- --fleet [--size large]`: the `fleet-3` scenario. Three service instances on
 * one Redis and one emulator (each in its own process), beside one instance alone, in the same
 * run on the same machine:
 *
 * - upstream calls of a cold org tree and a people-picker search: one instance alone, then the
 *   same query sent to all three fleet instances at once (the target: the fleet's total equals
 *   the single instance's, gettoken included);
 * - an instance joining the warm fleet: upstream calls of its first org tree (target: 0);
 * - warm throughput: the org tree under load on the single instance, then on all three at once;
 * - Redis memory of the shared directory once every member list is loaded (bytes per member).
 */

export interface FleetBenchOptions {
  size: 'demo' | 'large' | 'huge';
  seed: number;
  latencyMs: number;
  jitterMs: number;
  connections: number;
  durationSeconds: number;
  out: string;
}

const API_KEY = generateApiKey();
const LIFTED_RATE_LIMIT = 1_000_000_000;
const REQUEST_TIMEOUT_MS = 120_000;

interface CallsRow {
  query: string;
  single: Record<string, number>;
  fleet: Record<string, number>;
}

export async function runFleetBench(options: FleetBenchOptions): Promise<void> {
  const log = (m: string) => console.error(`[bench fleet] ${m}`);
  const started: { stop(): Promise<void> }[] = [];
  try {
    const loadAtStart = loadavg()[0]!;
    const emulatorPort = await freePort();
    const emulator = await ChildService.start({
      name: 'emulator',
      script: 'packages/wecom-emulator/src/cli.ts',
      args: ['--port', String(emulatorPort), '--seed', String(options.seed), '--size', options.size],
      port: emulatorPort,
      ready: answers('/__emulator/credentials'),
    });
    started.push(emulator);
    const wecom = new EmulatorClient(emulator.url);
    const creds = await wecom.credentials();
    const snapshot = await wecom.snapshot(creds);
    const scenarios = buildScenarios(snapshot).filter((s): s is ReadScenario => s.kind === 'read');
    const orgTree = scenarios.find((s) => s.base === 'org-tree')!;
    const search = scenarios.find((s) => s.base === 'people-picker-search')!;
    await wecom.setFaults({
      latencyMs: options.latencyMs,
      jitterMs: options.jitterMs,
      rateLimitPerMinute: Object.fromEntries(
        ['department/list', 'user/list', 'user/get', 'tag/list', 'tag/get', 'gettoken'].map((p) => [`/cgi-bin/${p}`, LIFTED_RATE_LIMIT]),
      ),
    });

    const redisServer = await RedisServer.start();
    started.push(redisServer);
    const prefix = `bench-fleet-${randomBytes(4).toString('hex')}:`;
    const service = (name: string, redisUrl?: string) =>
      startService(name, emulator.url, creds, redisUrl ? { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix } : {});

    log(
      `emulator ${options.size} (${snapshot.users.length} members, ${snapshot.departments.length} departments), latency ${options.latencyMs} ± ${options.jitterMs} ms; redis ${redisServer.url}`,
    );
    const single = await service('single');
    started.push(single);
    const fleet = await Promise.all([1, 2, 3].map((i) => service(`fleet-${i}`, redisServer.url)));
    started.push(...fleet);

    // Cold: nothing cached, no token held, anywhere.
    const calls: CallsRow[] = [];
    for (const scenario of [orgTree, search]) {
      const one = await countUpstream(wecom, async () =>
        expectOk(await post(single, scenario.request, REQUEST_TIMEOUT_MS), scenario.base, scenario),
      );
      const all = await countUpstream(wecom, async () => {
        if (staggered(options, scenario)) {
          for (const s of fleet) expectOk(await post(s, scenario.request, REQUEST_TIMEOUT_MS), scenario.base, scenario);
          return;
        }
        const answered = await Promise.all(fleet.map((s) => post(s, scenario.request, REQUEST_TIMEOUT_MS)));
        for (const a of answered) expectOk(a, scenario.base, scenario);
      });
      calls.push({ query: scenario.base, single: one.byPath, fleet: all.byPath });
      log(`${scenario.base} cold: single ${total(one.byPath)} calls, fleet of 3 ${total(all.byPath)} calls`);
    }

    // An instance joining the warm fleet.
    const joiner = await service('fleet-4', redisServer.url);
    started.push(joiner);
    const joined = await countUpstream(wecom, async () =>
      expectOk(await post(joiner, orgTree.request, REQUEST_TIMEOUT_MS), 'joiner org tree', orgTree),
    );
    await joiner.stop();
    log(`joiner's first org tree: ${joined.total} calls`);

    // Warm throughput: the single instance, then the three fleet instances at once.
    await settle(wecom);
    const body = JSON.stringify(orgTree.request);
    const run = (target: Target) =>
      load({
        target,
        requests: [{ body: () => body }],
        failed: (status, text) => status !== 200 || text.includes('"errors"'),
        connections: options.connections,
        durationSeconds: options.durationSeconds,
        timeoutSeconds: 60,
      });
    await run(single); // warm-up (JIT)
    const singleLoad = await run(single);
    await Promise.all(fleet.map(run)); // warm-up
    // One fleet instance alone: the same process as the single one, plus Redis behind it.
    const fleetOneLoad = await run(fleet[0]!);
    const fleetLoads = await Promise.all(fleet.map(run));
    const fleetRps = fleetLoads.reduce((n, r) => n + r.rps, 0);
    const failed =
      singleLoad.failed +
      singleLoad.errors +
      fleetOneLoad.failed +
      fleetOneLoad.errors +
      fleetLoads.reduce((n, r) => n + r.failed + r.errors, 0);
    log(`warm org tree: single ${singleLoad.rps.toFixed(0)} rps, fleet ${fleetRps.toFixed(0)} rps (${failed} failed)`);

    const memory = await sharedMemory(
      redisServer.url,
      prefix,
      snapshot.users.length,
      snapshot.departments.reduce((n, d) => n + (snapshot.membersByDepartment.get(d.id)?.length ?? 0), 0),
    );

    const results = {
      scenario: 'fleet-3',
      machine: {
        cpus: cpus().length,
        loadAverage: { atStart: loadAtStart, atEnd: loadavg()[0]! },
        date: new Date().toISOString(),
        node: process.version,
      },
      settings: { ...options, users: snapshot.users.length, departments: snapshot.departments.length, out: undefined },
      coldCalls: calls,
      joinerFirstOrgTreeCalls: joined.byPath,
      warmOrgTree: {
        single: { rps: singleLoad.rps, p50Ms: singleLoad.p50Ms, p99Ms: singleLoad.p99Ms },
        fleetInstanceAlone: { rps: fleetOneLoad.rps, p50Ms: fleetOneLoad.p50Ms, p99Ms: fleetOneLoad.p99Ms },
        fleet: { rps: fleetRps, perInstance: fleetLoads.map((r) => ({ rps: r.rps, p50Ms: r.p50Ms, p99Ms: r.p99Ms })) },
        ratio: fleetRps / singleLoad.rps,
        failedResponses: failed,
      },
      redisMemory: memory,
    };
    const suffix = options.size === 'large' ? '.large' : '';
    mkdirSync(options.out, { recursive: true });
    const json = join(options.out, `results.fleet${suffix}.json`);
    const markdown = join(options.out, `RESULTS.fleet${suffix}.md`);
    writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(markdown, report(results));
    console.log(report(results));
    console.log(`written: ${json}, ${markdown}`);
  } finally {
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
  }
}

/**
 * Large seed, whole-directory search: asked of the three instances one after another rather than at
 * once. At once, their three schedulers together keep three times one instance's calls in flight,
 * and on a 2-CPU machine the emulator then answers some user/list after the client's 10 s timeout.
 */
function staggered(options: FleetBenchOptions, scenario: ReadScenario): boolean {
  return options.size === 'large' && scenario.wholeTree;
}

function startService(name: string, emulatorUrl: string, creds: Credentials, extra: Record<string, string>): Promise<ChildService> {
  return freePort().then((port) =>
    ChildService.start({
      name: `service (${name})`,
      script: 'dist/main.js',
      port,
      headers: { 'x-api-key': API_KEY },
      env: {
        API_KEYS: JSON.stringify([{ id: 'bench', hash: hashApiKey(API_KEY), scopes: ALL_SCOPE_NAMES }]),
        RATE_LIMIT_PER_MINUTE: '0',
        MUTATION_RATE_LIMIT_PER_MINUTE: '0',
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        NODE_ENV: 'production',
        NODE_OPTIONS: imageNodeOptions(),
        WECOM_BASE_URL: emulatorUrl,
        WECOM_CORP_ID: creds.corpId,
        WECOM_CONTACT_SECRET: creds.contactSecret,
        WECOM_AGENT_ID: String(creds.app.agentId),
        WECOM_APP_SECRET: creds.app.secret,
        ...extra,
      },
      ready: answers('/healthz'),
    }),
  );
}

/** Bytes Redis holds for the shared directory: member lists, and everything under the prefix. */
async function sharedMemory(url: string, prefix: string, users: number, memberships: number) {
  const redis = new Redis(url);
  try {
    const sizes = { memberLists: 0, tree: 0, users: 0, index: 0, other: 0 };
    let keys = 0;
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      for (const key of batch) {
        const bytes = (await redis.memory('USAGE', key, 'SAMPLES', '0')) ?? 0;
        keys++;
        if (key.includes(':e:members:')) sizes.memberLists += bytes;
        else if (key.endsWith(':e:departments')) sizes.tree += bytes;
        else if (key.includes(':e:user:')) sizes.users += bytes;
        else if (key.endsWith(':idx')) sizes.index += bytes;
        else sizes.other += bytes;
      }
      cursor = next;
    } while (cursor !== '0');
    const all = Object.values(sizes).reduce((a, b) => a + b, 0);
    const info = await redis.info('memory');
    const used = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? NaN);
    return {
      keys,
      bytes: sizes,
      totalBytes: all,
      users,
      memberships,
      bytesPerMember: all / users,
      memberListBytesPerMembership: sizes.memberLists / memberships,
      usedMemory: used,
    };
  } finally {
    redis.disconnect();
  }
}

function expectOk(answer: Awaited<ReturnType<typeof post>>, what: string, scenario: ReadScenario): void {
  if (answer.status !== 200 || answer.errors?.length)
    throw new Error(`${what}: HTTP ${answer.status} ${JSON.stringify(answer.errors ?? answer.data).slice(0, 300)}`);
  const problems = scenario.verify(answer.data);
  if (problems.length) throw new Error(`${what}: wrong answer: ${problems.slice(0, 3).join('; ')}`);
}

const total = (byPath: Record<string, number>) => Object.values(byPath).reduce((a, b) => a + b, 0);

function report(r: {
  machine: { cpus: number; loadAverage: { atStart: number; atEnd: number }; date: string };
  settings: {
    size: string;
    users: number;
    departments: number;
    latencyMs: number;
    jitterMs: number;
    connections: number;
    durationSeconds: number;
  };
  coldCalls: CallsRow[];
  joinerFirstOrgTreeCalls: Record<string, number>;
  warmOrgTree: {
    single: { rps: number; p50Ms: number | null };
    fleetInstanceAlone: { rps: number; p50Ms: number | null };
    fleet: { rps: number; perInstance: { rps: number; p50Ms: number | null }[] };
    ratio: number;
    failedResponses: number;
  };
  redisMemory: Awaited<ReturnType<typeof sharedMemory>>;
}): string {
  const paths = (byPath: Record<string, number>) =>
    Object.entries(byPath)
      .sort()
      .map(([p, n]) => `${p.replace('/cgi-bin/', '')} ${n}`)
      .join(', ') || '–';
  const m = r.redisMemory;
  const kb = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
  return `# Benchmark: fleet-3

Three instances of the service on one Redis and one emulator (each in its own process), beside
one instance alone, measured in the same run. ${r.machine.cpus} CPUs, shared with other work (load
average ${r.machine.loadAverage.atStart.toFixed(1)} at start, ${r.machine.loadAverage.atEnd.toFixed(1)} at end), ${r.machine.date}.
Seed: ${r.settings.size} (${r.settings.users} members, ${r.settings.departments} departments); upstream latency
${r.settings.latencyMs} ± ${r.settings.jitterMs} ms. Reproduce: \`npm run bench -- --fleet${r.settings.size === 'large' ? ' --size large' : ''}\`.

## Upstream calls, cold (nothing cached, no token held)

The single instance is asked once; the fleet's three instances are asked the same query at once
(large seed, search: one after another, see \`staggered\` in bench/fleet.ts). The search runs after
the org tree (its level-3 member lists are cached in both).

| Query | Single instance | Fleet of 3 (total) |
|---|---|---|
${r.coldCalls.map((c) => `| ${c.query} | ${total(c.single)} (${paths(c.single)}) | ${total(c.fleet)} (${paths(c.fleet)}) |`).join('\n')}

An instance joining the warm fleet: its first org tree made **${total(r.joinerFirstOrgTreeCalls)}** upstream calls (${paths(r.joinerFirstOrgTreeCalls)}).

## Warm org tree throughput

${r.settings.connections} connections per instance, ${r.settings.durationSeconds} s; then the three fleet instances loaded at once
(one load generator each, all in the benchmark's process).

| | req/s | p50 ms |
|---|---|---|
| single instance (no Redis) | ${r.warmOrgTree.single.rps.toFixed(0)} | ${r.warmOrgTree.single.p50Ms?.toFixed(1) ?? '–'} |
| one fleet instance, loaded alone | ${r.warmOrgTree.fleetInstanceAlone.rps.toFixed(0)} (×${(r.warmOrgTree.fleetInstanceAlone.rps / r.warmOrgTree.single.rps).toFixed(2)}) | ${r.warmOrgTree.fleetInstanceAlone.p50Ms?.toFixed(1) ?? '–'} |
${r.warmOrgTree.fleet.perInstance.map((p, i) => `| fleet instance ${i + 1} | ${p.rps.toFixed(0)} | ${p.p50Ms?.toFixed(1) ?? '–'} |`).join('\n')}
| **fleet total** | **${r.warmOrgTree.fleet.rps.toFixed(0)}** (×${r.warmOrgTree.ratio.toFixed(2)} of one) | |

Failed responses: ${r.warmOrgTree.failedResponses}. Three processes share the same ${r.machine.cpus} CPUs here
(with the emulator, Redis and the load generator), so the fleet's total shows the cost of sharing,
not what three machines would serve.

## Redis memory of the shared directory (every member list loaded)

| | |
|---|---|
| keys | ${m.keys} |
| member lists | ${kb(m.bytes.memberLists)} (${m.memberListBytesPerMembership.toFixed(0)} bytes per membership, ${m.memberships} memberships) |
| department tree | ${kb(m.bytes.tree)} |
| member → departments index | ${kb(m.bytes.index)} |
| single members, tags, versions, tokens, other | ${kb(m.bytes.users + m.bytes.other)} |
| **all** | **${kb(m.totalBytes)}: ${m.bytesPerMember.toFixed(0)} bytes per member** (${m.users} members) |
| Redis used_memory (whole server) | ${kb(m.usedMemory)} |
`;
}

/** A redis-server of the benchmark's own (nothing persisted), on a free loopback port. */
class RedisServer {
  private constructor(
    private readonly proc: ChildProcess,
    readonly url: string,
  ) {}

  static async start(): Promise<RedisServer> {
    const port = await freePort();
    const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    const server = new RedisServer(proc, `redis://127.0.0.1:${port}`);
    const client = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 50 });
    client.on('error', () => undefined);
    try {
      for (let i = 0; i < 200; i++) {
        if (proc.exitCode !== null) throw new Error(`redis-server exited (${proc.exitCode})`);
        try {
          if (client.status === 'wait') await client.connect();
          if ((await client.ping()) === 'PONG') return server;
        } catch {
          // not up yet
        }
        await sleep(50);
      }
      throw new Error('redis-server did not start');
    } finally {
      client.disconnect();
    }
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const exited = new Promise((resolve) => this.proc.once('exit', resolve));
    this.proc.kill('SIGTERM');
    await exited;
  }
}
