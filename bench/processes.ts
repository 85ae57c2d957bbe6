import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The child processes of one benchmark run (the emulator, the service in its configurations, the
 * bare Yoga server), all on loopback. Each is `node --import tsx <script>` started directly, so
 * the pid we hold is the process whose memory we read (no npx or tsx wrapper in between).
 */

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** How long a child may take to answer its readiness probe (the large seed takes ~2 s to build). */
const READY_TIMEOUT_MS = 60_000;
/** How long a child may take to exit after SIGTERM before it is killed. */
const STOP_TIMEOUT_MS = 5_000;
/** Lines of a child's output kept to explain a failed start. */
const KEPT_OUTPUT_LINES = 40;

export interface ProcessMemory {
  /** Resident set size now (VmRSS), MB. */
  rssMb: number;
  /** Peak resident set size since start or the last `resetPeak` (VmHWM), MB. */
  peakRssMb: number;
}

export class ChildService {
  private readonly output: string[] = [];
  private exited: Promise<void>;
  private exitCode: number | null = null;
  /** Where peak RSS comes from: VmHWM after a reset, or our own sampling when the reset is refused. */
  private sampler?: { timer: NodeJS.Timeout; peakKb: number };

  private constructor(
    readonly name: string,
    readonly port: number,
    private readonly proc: ChildProcess,
    /** Headers every request to this server carries (the service's API key). */
    readonly headers: Record<string, string>,
  ) {
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) this.output.push(line);
      if (this.output.length > KEPT_OUTPUT_LINES) this.output.splice(0, this.output.length - KEPT_OUTPUT_LINES);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    this.exited = new Promise((resolve) =>
      proc.once('exit', (code) => {
        this.exitCode = code ?? -1;
        resolve();
      }),
    );
  }

  /**
   * Starts `script` (relative to the repo) and waits until `ready(port)` answers true: a compiled
   * `.js` file with node alone (what production runs), a `.ts` file through tsx.
   */
  static async start(options: {
    name: string;
    script: string;
    args?: string[];
    env?: Record<string, string>;
    port: number;
    headers?: Record<string, string>;
    ready: (port: number) => Promise<boolean>;
  }): Promise<ChildService> {
    const runner = options.script.endsWith('.js') ? [] : ['--conditions=source', '--import', 'tsx'];
    const proc = spawn(process.execPath, [...runner, options.script, ...(options.args ?? [])], {
      cwd: REPO_ROOT,
      env: { ...baseEnvironment(), ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const child = new ChildService(options.name, options.port, proc, options.headers ?? {});
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (child.exitCode !== null)
        throw new Error(`${options.name} exited with code ${child.exitCode} before it was ready:\n${child.recentOutput()}`);
      if (await options.ready(options.port).catch(() => false)) return child;
      await sleep(50);
    }
    await child.stop();
    throw new Error(`${options.name} was not ready within ${READY_TIMEOUT_MS} ms:\n${child.recentOutput()}`);
  }

  get pid(): number {
    return this.proc.pid!;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  recentOutput(): string {
    return this.output.join('\n');
  }

  memory(): ProcessMemory {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    const rss = kb('VmRSS');
    const peak = this.sampler ? Math.max(this.sampler.peakKb, rss) : kb('VmHWM');
    return { rssMb: rss / 1024, peakRssMb: peak / 1024 };
  }

  /**
   * Starts a new peak: Linux resets VmHWM to the current RSS on `echo 5 > /proc/<pid>/clear_refs`.
   * Where that is refused, the peak is sampled every 20 ms instead.
   */
  resetPeak(): void {
    try {
      writeFileSync(`/proc/${this.pid}/clear_refs`, '5');
      return;
    } catch {
      // fall through to sampling
    }
    if (this.sampler) clearInterval(this.sampler.timer);
    const sampler = { peakKb: 0, timer: setInterval(() => (sampler.peakKb = Math.max(sampler.peakKb, this.memory().rssMb * 1024)), 20) };
    sampler.timer.unref();
    this.sampler = sampler;
  }

  async stop(): Promise<void> {
    if (this.sampler) clearInterval(this.sampler.timer);
    if (this.exitCode !== null) return;
    this.proc.kill('SIGTERM');
    const killed = await Promise.race([this.exited.then(() => false), sleep(STOP_TIMEOUT_MS).then(() => true)]);
    if (killed) {
      console.error(`[bench] ${this.name} did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM: killed`);
      this.proc.kill('SIGKILL');
      await this.exited;
    }
  }
}

/**
 * What a child inherits from the runner's environment: only what a process needs to run. The
 * servers' settings come from the runner alone, and ENV_FILE=/dev/null keeps a developer's .env
 * out (the service reads .env by default), so one run is like another.
 */
function baseEnvironment(): Record<string, string> {
  const kept: Record<string, string> = { ENV_FILE: '/dev/null' };
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
    const value = process.env[name];
    if (value !== undefined) kept[name] = value;
  }
  return kept;
}

/**
 * The NODE_OPTIONS the Docker image runs the service with (its heap cap): the benchmark's
 * services run the same way, read from the Dockerfile so the two cannot drift apart.
 */
export function imageNodeOptions(): string {
  const line = /NODE_OPTIONS=(?:"([^"]+)"|(\S+))/.exec(readFileSync(`${REPO_ROOT}Dockerfile`, 'utf8'));
  if (!line) throw new Error('the Dockerfile sets no NODE_OPTIONS');
  return (line[1] ?? line[2])!;
}

/** A free loopback port, and a metric's value in a /metrics text: the same helpers the tests use. */
export { freePort, metricValue } from '../test/helpers/service-process.ts';

/** Readiness probe: the URL answers 2xx. */
export const answers = (path: string) => async (port: number) => (await fetch(`http://127.0.0.1:${port}${path}`)).ok;
