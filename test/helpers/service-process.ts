import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { GraphQLResult } from './service.ts';
import { executor, type Execute } from '../testkit/execute.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** A port free on loopback now (the child binds it a moment later). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * The service as it is deployed: `src/main.ts` in a child process (tsx), configured only through
 * its environment, reached over real HTTP. The child's environment holds only what is given here
 * (plus PATH and HOME), so nothing on the machine (a .env, a REDIS_URL, WeCom credentials) leaks in.
 */
export class ServiceProcess {
  private out = '';
  /** Sends a typed document (test/testkit/execute.ts). */
  readonly execute: Execute = executor(this);
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly proc: ChildProcess,
    readonly port: number,
  ) {
    proc.stdout!.on('data', (chunk: Buffer) => (this.out += chunk.toString('utf8')));
    proc.stderr!.on('data', (chunk: Buffer) => (this.out += chunk.toString('utf8')));
    this.exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** `entry`: the TypeScript sources through tsx (default), or the compiled `dist/main.js` of `npm run build`. */
  static async start(env: Record<string, string>, timeoutMs = 30_000, entry: 'source' | 'dist' = 'source'): Promise<ServiceProcess> {
    const port = env.PORT ? Number(env.PORT) : await freePort();
    const args = entry === 'dist' ? ['--enable-source-maps', 'dist/main.js'] : ['--conditions=source', '--import', 'tsx', 'src/main.ts'];
    const proc = spawn(process.execPath, args, {
      cwd: REPO,
      // No warm-up unless a test asks for one: tests count the upstream calls their own requests cause.
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        ENV_FILE: '/dev/null',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        CACHE_WARM_UP: 'false',
        ...env,
        PORT: String(port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const service = new ServiceProcess(proc, port);
    const until = Date.now() + timeoutMs;
    let exited = false;
    void service.exited.then(() => (exited = true));
    for (;;) {
      if (exited) throw new Error(`the service exited during start-up:\n${service.output}`);
      try {
        const res = await fetch(`${service.url}/healthz`);
        if (res.ok) return service;
      } catch {
        // not listening yet
      }
      if (Date.now() > until) {
        proc.kill('SIGKILL');
        throw new Error(`the service did not answer /healthz within ${timeoutMs} ms:\n${service.output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Everything the child wrote to stdout and stderr so far. */
  get output(): string {
    return this.out;
  }

  /** The JSON log lines written so far. */
  logLines(): Record<string, unknown>[] {
    return this.out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  async query(query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}): Promise<GraphQLResult> {
    const res = await fetch(`${this.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as GraphQLResult;
  }

  async metrics(): Promise<string> {
    const res = await fetch(`${this.url}/metrics`);
    if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
    return res.text();
  }

  /** Ends the child: SIGTERM, then SIGKILL if it is still there after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/**
 * The value of one sample in Prometheus text format (0 when absent), e.g.
 * `metricValue(text, 'wecom_upstream_calls_total', { endpoint: '/cgi-bin/gettoken', errcode: '0' })`.
 * Labels not named are not constrained; all matching samples are added up.
 */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const [, k, v] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) found[k!] = v!;
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) sum += Number(match[3]);
  }
  return sum;
}
