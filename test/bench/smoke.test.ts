import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchResults, ScenarioResult } from '../../bench/report.ts';

/**
 * CI smoke run of `npm run bench` (`--quick`: ~0.3 s per scenario, the demo seed), so the
 * benchmark cannot rot: it must finish, write both files in the documented shape, and its rows
 * must hold what the design promises (planned reads at their computed minimum of upstream calls,
 * answers matching the emulator's state, the naive baseline above the minimum).
 */

const repo = fileURLToPath(new URL('../..', import.meta.url));
/** The quick run takes ~35 s alone; CI runs other test files beside it on two cores. */
const RUN_TIMEOUT_MS = 150_000;

let out: string;
let run: { code: number | null; output: string };
let results: BenchResults;

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
  run = await new Promise((resolve) => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'bench/run.ts', '--quick', '--out', out], {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
  if (run.code === 0) results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as BenchResults;
}, RUN_TIMEOUT_MS);

afterAll(() => rmSync(out, { recursive: true, force: true }));

const row = (name: string): ScenarioResult => {
  const found = results.scenarios.find((s) => s.name === name);
  if (!found) throw new Error(`no scenario ${name}`);
  return found;
};

const READS = ['org-tree', 'user-card', 'people-picker-search', 'department-dashboard', 'linked-corp-browse'];

describe('npm run bench -- --quick', () => {
  it('completes and writes results.json and RESULTS.md', () => {
    expect(run.code, run.output.slice(-3000)).toBe(0);
    const markdown = readFileSync(join(out, 'RESULTS.md'), 'utf8');
    expect(markdown).toContain('| scenario | calls/query | minimum | p50 ms | p99 ms | rps | × bare | peak RSS MB |');
    for (const s of results.scenarios) expect(markdown).toContain(`| ${s.name} |`);
    // Cells are written as text, as the terminal table has them (a note, a dash, "no limit").
    for (const s of results.scenarios) if (s.note) expect(markdown).toContain(s.note.replace(/\|/g, '\\|'));
    expect(markdown).not.toMatch(/%20|%u[0-9A-F]{4}/);
  });

  it('writes results.json in the documented shape', () => {
    expect(results.machine).toEqual({
      cpus: expect.any(Number),
      cpuModel: expect.any(String),
      memoryGb: expect.any(Number),
      node: process.version,
      platform: expect.any(String),
      date: expect.any(String),
      loadAverage: { atStart: expect.any(Number), atEnd: expect.any(Number) },
    });
    const nullableNumber = (v: unknown) => v === null || typeof v === 'number';
    for (const s of results.scenarios) {
      for (const key of [
        'upstreamCallsPerQuery',
        'minimumCallsPerQuery',
        'p50Ms',
        'p99Ms',
        'rps',
        'ratioToBareYoga',
        'peakRssMb',
      ] as const) {
        expect(nullableNumber(s[key]), `${s.name}.${key} = ${String(s[key])}`).toBe(true);
      }
    }
    const names = results.scenarios.map((s) => s.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'bare-yoga-hello',
        'org-tree-cold',
        'org-tree-warm',
        ...READS.slice(1),
        'write-mix',
        ...READS.map((r) => `${r}-naive`),
        'write-mix-naive',
      ]),
    );
    expect(results.targets).toHaveLength(5);
  });

  it('measures every row it does not skip on purpose, with answers matching the emulator', () => {
    for (const s of results.scenarios) {
      if (s.status === 'skipped') {
        expect(s.note).toMatch(/quick run/);
        continue;
      }
      expect(s.status, `${s.name}: ${s.note ?? ''}`).toBe('ok');
      expect(s.verified, `${s.name}: ${s.problems?.join('; ') ?? ''}`).toBe(true);
      expect(s.failedResponses ?? 0, s.name).toBe(0);
      expect(s.rps === null || s.rps > 0, s.name).toBe(true);
    }
    expect(row('bare-yoga-hello').ratioToBareYoga).toBe(1);
  });

  it('finds the planned service at its computed minimum of upstream calls, and the naive baseline above it', () => {
    for (const s of results.scenarios.filter(
      (r) => r.status === 'ok' && (r.configuration === 'cached' || r.configuration === 'uncached'),
    )) {
      expect(s.upstreamCallsPerQuery, s.name).toBeCloseTo(s.minimumCallsPerQuery!, 9);
    }
    expect(row('org-tree-warm').upstreamCallsPerQuery).toBe(0);
    expect(row('org-tree-cold').upstreamCallsPerQuery).toBeGreaterThan(1);
    expect(row('org-tree-naive').upstreamCallsPerQuery).toBeGreaterThan(row('org-tree-naive').minimumCallsPerQuery!);
  });
});
