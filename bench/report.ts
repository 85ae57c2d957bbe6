import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CORP_API_CALLS_PER_MINUTE } from 'wecom-protocol/limits';

/** Which service answered a row. */
export type Configuration = 'bare-yoga' | 'cached' | 'uncached' | 'naive';

/** One row of the results (`scenarios[]` in results.json). Numbers are null where they do not apply. */
export interface ScenarioResult {
  name: string;
  configuration: Configuration;
  description: string;
  /** ok: measured; not-available: the service lacks what it needs; skipped: not run on this seed; failed: see note. */
  status: 'ok' | 'not-available' | 'skipped' | 'failed';
  upstreamCallsPerQuery: number | null;
  minimumCallsPerQuery: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  rps: number | null;
  ratioToBareYoga: number | null;
  peakRssMb: number | null;
  /** Upstream calls per query by WeCom path (gettoken included if one was needed). */
  upstreamCallsByPath?: Record<string, number>;
  /**
   * How many of these queries a minute WeCom's per-corp per-API limit (10,000 calls/min) allows:
   * the limit over the calls per query on the busiest path. Null when it makes no upstream calls.
   */
  queriesPerMinuteUnderWeComLimit?: number | null;
  /** Where p50/p99 come from: the load run, or single requests (cold). */
  latencyFrom?: 'load' | 'single-requests';
  /** org-tree-cold: the very first request after the service started (JIT cold too), and its upstream calls. */
  firstRequestAfterStartMs?: number;
  firstRequestAfterStartCalls?: number;
  /** Answers received in the load run, and how many of them were errors. */
  requests?: number;
  failedResponses?: number;
  /** Whether the answer matched the emulator's state (null: not checked). */
  verified?: boolean | null;
  problems?: string[];
  note?: string;
}

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGb: number;
  node: string;
  platform: string;
  date: string;
  /** 1-minute load average when the run started and when it ended: other work on the machine shows here. */
  loadAverage: { atStart: number; atEnd: number };
}

export interface RunSettings {
  size: 'demo' | 'large';
  seed: number;
  quick: boolean;
  users: number;
  departments: number;
  connections: number;
  durationSeconds: number;
  upstreamLatencyMs: number;
  upstreamJitterMs: number;
  /** Median of direct emulator round trips (department/list with the injected latency), ms. */
  upstreamRoundTripMs: number;
  /**
   * Median time of the cold org tree's two upstream waves called directly: department/list, then
   * the level-3 departments' user/list in parallel (the second wave waits for its slowest call), ms.
   */
  upstreamTwoWavesMs: number;
  coldSamples: number;
  /** Whether the service's directory cache answered a repeated org tree with no upstream call. */
  cacheActive: boolean;
}

export interface LargeSeedReport {
  /** When the large-seed run was made (a demo run may show the latest one's figures). */
  date?: string;
  users: number;
  departments: number;
  /** A cold full-tree walk: every department's members (the dashboard query) right after start. */
  coldFullTreeWalkMs: number;
  coldFullTreeWalkCalls: number;
  coldFullTreeWalkMinimumCalls: number;
  /** RSS of the service just started (token held, nothing cached): the runtime's own share. */
  rssAtStartMb: number;
  /** RSS once the tree, every member list, the search index and the tags are cached. */
  rssFullyCachedMb: number;
  peakRssMb: number;
}

export interface TargetResult {
  target: string;
  measured: string;
  met: boolean | null;
}

export interface BenchResults {
  machine: MachineInfo;
  settings: RunSettings;
  scenarios: ScenarioResult[];
  targets: TargetResult[];
  large?: LargeSeedReport;
}

/** The limit over the busiest path's calls per query; null when a query needs no upstream call. */
export function queriesPerMinute(byPath: Record<string, number>): number | null {
  const busiest = Math.max(0, ...Object.entries(byPath).filter(([p]) => p !== '/cgi-bin/gettoken').map(([, n]) => n));
  return busiest > 0 ? Math.floor(CORP_API_CALLS_PER_MINUTE / busiest) : null;
}

/** What the issue asks the benchmark to report against, judged on this run's rows. */
export function evaluateTargets(results: Omit<BenchResults, 'targets'>): TargetResult[] {
  const rows = results.scenarios;
  const find = (name: string) => rows.find((r) => r.name === name && r.status === 'ok');
  const targets: TargetResult[] = [];

  const checked = rows.filter((r) => r.status === 'ok' && r.configuration !== 'naive' && r.configuration !== 'bare-yoga' && r.minimumCallsPerQuery !== null);
  const off = checked.filter((r) => !nearlyEqual(r.upstreamCallsPerQuery, r.minimumCallsPerQuery));
  targets.push({
    target: 'upstream calls per query equal the computed minimum in every scenario (naive baseline excepted)',
    measured: off.length
      ? `differs in ${off.map((r) => `${r.name} (${fmt(r.upstreamCallsPerQuery)} vs ${fmt(r.minimumCallsPerQuery)})`).join(', ')}`
      : `equal in all ${checked.length} measured scenarios`,
    met: checked.length ? off.length === 0 : null,
  });

  const naive = rows.filter((r) => r.configuration === 'naive' && r.status === 'ok');
  targets.push({
    target: "the naive baseline's ratio to bare Yoga is shown",
    measured: naive.length ? naive.map((r) => `${r.name} ${fmt(r.ratioToBareYoga, 3)} (${fmt(r.upstreamCallsPerQuery)} calls/query)`).join('; ') : 'no naive rows measured',
    met: naive.length > 0,
  });

  // The plan's two round trips, as the emulator answers them: department/list, then the level-3
  // user/lists in parallel, whose wave lasts as long as its slowest call (jitter). Twice the median
  // single call is shown beside it, as the stricter reading.
  const cold = find('org-tree-cold');
  const { upstreamTwoWavesMs: waves, upstreamRoundTripMs: single } = results.settings;
  const limit = waves + 15;
  targets.push({
    target: `cold org tree latency within 2 upstream round trips + 15 ms (the two waves called directly: ${fmt(waves)} + 15 = ${fmt(limit)} ms)`,
    measured: cold
      ? `p50 ${fmt(cold.p50Ms)} ms, worst ${fmt(cold.p99Ms)} ms over ${results.settings.coldSamples} cold request(s); stricter 2 × single round trip + 15 = ${fmt(2 * single + 15)} ms`
      : 'not measured',
    met: cold && cold.p50Ms !== null ? cold.p50Ms <= limit : null,
  });

  const warm = find('org-tree-warm');
  targets.push({
    target: 'warm (cached) org tree throughput at least 50% of bare Yoga { hello }',
    measured: warm ? `${fmt(warm.rps, 0)} rps = ${pct(warm.ratioToBareYoga)} of bare Yoga` : 'not measured',
    met: warm && warm.ratioToBareYoga !== null ? warm.ratioToBareYoga >= 0.5 : null,
  });

  const large = results.large;
  targets.push({
    target: 'RSS under 300 MB with the large seed fully cached',
    measured: large
      ? `${fmt(large.rssFullyCachedMb, 0)} MB fully cached (${fmt(large.rssAtStartMb, 0)} MB at start, peak ${fmt(large.peakRssMb, 0)} MB), ${large.users} users${results.settings.size === 'large' ? '' : `, large-seed run of ${large.date ?? '?'}`}`
      : 'not measured in this run (npm run bench -- --size large)',
    met: large ? large.rssFullyCachedMb < 300 : null,
  });
  return targets;
}

const nearlyEqual = (a: number | null, b: number | null) => a !== null && b !== null && Math.abs(a - b) < 1e-9;

export function fmt(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  return Number.isInteger(value) && digits > 0 ? String(value) : value.toFixed(digits);
}

const pct = (ratio: number | null) => (ratio === null ? '–' : `${(ratio * 100).toFixed(1)}%`);

const COLUMNS = ['scenario', 'calls/query', 'minimum', 'p50 ms', 'p99 ms', 'rps', '× bare', 'peak RSS MB', 'WeCom-limited q/min', 'note'] as const;

function cells(r: ScenarioResult): string[] {
  const note = r.status === 'ok' ? [r.note, r.verified === false ? `WRONG ANSWER: ${r.problems?.join('; ')}` : '', r.failedResponses ? `${r.failedResponses} failed answers` : ''].filter(Boolean).join('; ') : `${r.status}: ${r.note ?? ''}`;
  return [
    r.name,
    fmt(r.upstreamCallsPerQuery, 2),
    fmt(r.minimumCallsPerQuery, 2),
    fmt(r.p50Ms),
    fmt(r.p99Ms),
    fmt(r.rps, 0),
    fmt(r.ratioToBareYoga, 3),
    fmt(r.peakRssMb, 0),
    r.queriesPerMinuteUnderWeComLimit === undefined ? '–' : r.queriesPerMinuteUnderWeComLimit === null ? 'no limit' : String(r.queriesPerMinuteUnderWeComLimit),
    note,
  ];
}

/** The table for the terminal. */
export function textTable(results: BenchResults): string {
  const rows = [[...COLUMNS], ...results.scenarios.map(cells)];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => [...(r[i] ?? '')].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 || i === r.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

export function markdown(results: BenchResults): string {
  const { machine: m, settings: s } = results;
  const escape = (c: string) => c.replace(/\|/g, '\\|');
  const table = [
    `| ${COLUMNS.join(' | ')} |`,
    `| ${COLUMNS.map((c, i) => (i === 0 || i === COLUMNS.length - 1 ? '---' : '---:')).join(' | ')} |`,
    ...results.scenarios.map((r) => `| ${cells(r).map(escape).join(' | ')} |`),
  ];
  const targets = results.targets.map((t) => `| ${escape(t.target)} | ${escape(t.measured)} | ${t.met === null ? 'not measured' : t.met ? 'met' : '**not met**'} |`);
  const large = results.large
    ? [
        '',
        '## Large seed',
        '',
        ...(s.size === 'large' ? [] : [`From the latest \`npm run bench -- --size large\` (${results.large.date ?? 'date unknown'}); details in RESULTS.large.md.`, '']),
        `- ${results.large.users} users, ${results.large.departments} departments`,
        `- cold full-tree walk (every department's members, right after start): ${fmt(results.large.coldFullTreeWalkMs, 0)} ms, ${results.large.coldFullTreeWalkCalls} upstream calls (minimum ${results.large.coldFullTreeWalkMinimumCalls})`,
        `- RSS with the directory fully cached: ${fmt(results.large.rssFullyCachedMb, 0)} MB (peak ${fmt(results.large.peakRssMb, 0)} MB; ${fmt(results.large.rssAtStartMb, 0)} MB just after start, nothing cached)`,
      ]
    : [];
  return [
    `# Benchmark results${s.size === 'large' ? ' (large seed)' : ''}`,
    '',
    `Produced by \`npm run bench${s.size === 'large' ? ' -- --size large' : ''}${s.quick ? ' -- --quick' : ''}\` on ${m.date}. How to read it: README, section "Benchmark".`,
    '',
    `- machine: ${m.cpus} × ${m.cpuModel}, ${fmt(m.memoryGb)} GB RAM, Node ${m.node}, ${m.platform}; load average ${fmt(m.loadAverage.atStart, 2)} at the start, ${fmt(m.loadAverage.atEnd, 2)} at the end`,
    `- seed: ${s.size} (seed ${s.seed}: ${s.users} users, ${s.departments} departments); upstream latency ${s.upstreamLatencyMs} ± ${s.upstreamJitterMs} ms (measured: one call ${fmt(s.upstreamRoundTripMs)} ms, the cold org tree's two waves ${fmt(s.upstreamTwoWavesMs)} ms)`,
    `- load: autocannon, ${s.connections} connections, ${s.durationSeconds} s per scenario; cold: ${s.coldSamples} single request(s), each with every cache entry expired`,
    `- directory cache active: ${s.cacheActive ? 'yes' : 'no'}`,
    '',
    ...table,
    '',
    '## Targets',
    '',
    '| target | measured | |',
    '| --- | --- | --- |',
    ...targets,
    ...large,
    '',
  ].join('\n');
}

/** The large-seed section of `results.large.json` in `dir`, stamped with its run's date; undefined if there is none. */
export function latestLargeReport(dir: string): LargeSeedReport | undefined {
  const file = join(dir, 'results.large.json');
  if (!existsSync(file)) return undefined;
  const previous = JSON.parse(readFileSync(file, 'utf8')) as Partial<BenchResults>;
  return previous.large ? { ...previous.large, date: previous.large.date ?? previous.machine?.date } : undefined;
}

/** Writes results.json and RESULTS.md (with a `.large` infix for the large seed) into `dir`. */
export function writeResults(dir: string, results: BenchResults): { json: string; markdown: string } {
  mkdirSync(dir, { recursive: true });
  const suffix = results.settings.size === 'large' ? '.large' : '';
  const json = join(dir, `results${suffix}.json`);
  const md = join(dir, `RESULTS${suffix}.md`);
  writeFileSync(json, `${JSON.stringify(results, roundNumbers, 2)}\n`);
  writeFileSync(md, markdown(results));
  return { json, markdown: md };
}

/** Three decimals are plenty in the JSON. */
function roundNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isInteger(value) ? Math.round(value * 1000) / 1000 : value;
}
