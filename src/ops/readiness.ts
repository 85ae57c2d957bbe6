import { WeComError } from '../wecom/errors.ts';
import type { WeComAgent } from '../wecom/agent.ts';
import type { WarmUpStatus } from '../cache/warm-up.ts';

/** A check's answer is reused this long, so frequent probes cost WeCom nothing (and a gettoken at most once per period). */
export const DEFAULT_READINESS_CACHE_MS = 5_000;
/** A check that takes longer than this counts as failed (the probe's own timeout is usually a few seconds). */
export const DEFAULT_READINESS_TIMEOUT_MS = 3_000;

export interface ReadinessReport {
  ready: boolean;
  /** "shutting down" while the process drains. */
  status: 'ready' | 'not ready' | 'shutting down';
  /** Each dependency: "ok" or a short, secret-free reason. */
  checks: Record<string, string>;
  /**
   * What the service may see: the whole corp (contacts-sync reads), or an app's visible range,
   * counted (the members and departments themselves are for `Query.visibility`, behind a key).
   */
  visibility?: ReadinessVisibility;
  /** How warm the directory cache is (src/cache/warm-up.ts), when the service warms it. */
  cache?: WarmUpStatus;
}

export type ReadinessVisibility =
  | { scope: 'corp' }
  | { scope: 'app'; agentId: number; closed: boolean; departments: number; members: number; tags: number };

export interface ReadinessOptions {
  /** WeCom (or the emulator) answers: a valid access token exists or a gettoken succeeds (`client.core.probeTokens`). */
  wecom: () => Promise<void>;
  /** Redis answers PING (scaled out only; reported, but a failure leaves the instance ready). */
  redis?: () => Promise<boolean>;
  /**
   * The app's visible range (agent/get; null: reads go through the contacts-sync secret). A
   * disabled app (close = 1) makes the service not ready: its secret reads nothing.
   */
  visibility?: () => Promise<WeComAgent | null>;
  /**
   * The directory cache's warm-up (src/cache/warm-up.ts): not ready until the first warm-up has
   * finished, so a load balancer sends no caller to an instance that would load the corp for it.
   * Read live on every check (it is not cached with the others).
   */
  warmUp?: () => WarmUpStatus;
  cacheMs?: number;
  timeoutMs?: number;
  now?: () => number;
}

/**
 * /readyz: ready when WeCom answers, never while shutting down; Redis (scaled out) is reported
 * as "ok" or "degraded: …" and does not decide.
 * /healthz stays the cheaper liveness check (the process serves HTTP). One check runs at a time;
 * its answer is reused for `cacheMs`.
 */
export class Readiness {
  private shuttingDown = false;
  private last: { report: ReadinessReport; at: number } | undefined;
  private running: Promise<ReadinessReport> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: ReadinessOptions) {
    this.now = options.now ?? Date.now;
  }

  /** From now on every check answers "shutting down" (SIGTERM). */
  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** The last answer, without checking (for the `service_ready` gauge). */
  get lastReady(): boolean {
    return !this.shuttingDown && (this.last ? this.withWarmUp(this.last.report).ready : false);
  }

  async check(): Promise<ReadinessReport> {
    if (this.shuttingDown) return { ready: false, status: 'shutting down', checks: {} };
    const cacheMs = this.options.cacheMs ?? DEFAULT_READINESS_CACHE_MS;
    if (this.last && this.now() - this.last.at < cacheMs) return this.withWarmUp(this.last.report);
    this.running ??= this.run().finally(() => (this.running = undefined));
    const report = this.withWarmUp(await this.running);
    return this.shuttingDown ? { ready: false, status: 'shutting down', checks: report.checks } : report;
  }

  /** Adds the cache's warmth, as it is now, to a report of the dependencies. */
  private withWarmUp(report: ReadinessReport): ReadinessReport {
    const warmUp = this.options.warmUp?.();
    if (!warmUp) return report;
    const cache =
      warmUp.firstWarmMs !== null ? 'ok' : `warming (${warmUp.departmentsLoaded}/${warmUp.departmentsTotal || '?'} departments)`;
    const ready = report.ready && cache === 'ok';
    return { ready, status: ready ? 'ready' : 'not ready', checks: { ...report.checks, cache }, cache: warmUp };
  }

  private async run(): Promise<ReadinessReport> {
    const timeoutMs = this.options.timeoutMs ?? DEFAULT_READINESS_TIMEOUT_MS;
    const [wecom, redis, app] = await Promise.all([
      withTimeout(
        this.options.wecom().then(() => 'ok'),
        timeoutMs,
      ).catch(describeFailure),
      this.options.redis
        ? withTimeout(this.options.redis(), timeoutMs).then((ok) => (ok ? 'ok' : 'no answer to PING'), describeFailure)
        : undefined,
      this.options.visibility
        ? withTimeout(this.options.visibility(), timeoutMs).then(
            describeVisibility,
            (err: unknown): AppReport => ({ check: describeFailure(err) }),
          )
        : undefined,
    ]);
    // Redis down is not a reason to stop serving: every shared part falls back to this instance
    // alone (docs/fleet.md), so the check reports it without taking the instance out of rotation.
    const checks: Record<string, string> = {
      wecom,
      ...(redis !== undefined ? { redis: redis === 'ok' ? 'ok' : `degraded: ${redis}` } : {}),
      ...(app?.check !== undefined ? { app: app.check } : {}),
    };
    const ready = wecom === 'ok' && (app?.check === undefined || app.check === 'ok');
    const report: ReadinessReport = {
      ready,
      status: ready ? 'ready' : 'not ready',
      checks,
      ...(app?.visibility ? { visibility: app.visibility } : {}),
    };
    this.last = { report, at: this.now() };
    return report;
  }
}

/** The `app` check (only when reading through an app) and the counted visible range. */
interface AppReport {
  check?: string;
  visibility?: ReadinessVisibility;
}

function describeVisibility(agent: WeComAgent | null): AppReport {
  if (!agent) return { visibility: { scope: 'corp' } };
  const visibility: ReadinessVisibility = {
    scope: 'app',
    agentId: agent.agentId,
    closed: agent.closed,
    departments: agent.allowDepartmentIds.length,
    members: agent.allowUserids.length,
    tags: agent.allowTagIds.length,
  };
  return { check: agent.closed ? 'app disabled in WeCom (close = 1)' : 'ok', visibility };
}

class CheckTimeout extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new CheckTimeout()), ms);
    timer.unref?.();
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** A reason for the report: the error's kind and errcode, never its message (which may quote WeCom). */
function describeFailure(err: unknown): string {
  if (err instanceof CheckTimeout) return 'timed out';
  if (err instanceof WeComError) {
    const errcode = 'errcode' in err && typeof err.errcode === 'number' ? ` ${err.errcode}` : '';
    return `${err.kind} error${errcode} (${err.category})`;
  }
  return 'failed';
}
