/**
 * Per-endpoint admission: a rate budget (by default 80% of WeCom's per-corp per-API limit) and a
 * concurrency cap, with a FIFO queue whose waits are bounded by each caller's deadline.
 * It also carries the reactions to WeCom's own limits: after 45009 the endpoint is closed until
 * the window is over, then reopened by a single probe; after 45033 its concurrency is lowered,
 * and raised again one step at a time while calls succeed.
 */
// Long on purpose: admission (rate budget, concurrency, the per-caller share) and the reactions to 45009
// and 45033 share one queue per endpoint, and splitting them would split that queue's invariants.
import { setTimeout as sleepTimer } from 'node:timers/promises';
import { CORP_API_CALLS_PER_MINUTE, RATE_LIMIT_WINDOW_MS } from 'wecom-protocol/limits';
import { upstreamRequests, type UpstreamRequest } from './request-context.ts';

export const DEFAULT_RATE_BUDGET_FRACTION = 0.8;
export const DEFAULT_RATE_WINDOW_MS = RATE_LIMIT_WINDOW_MS;
/**
 * Concurrent calls per endpoint. WeCom does not publish its 45033 cap (docs/wecom-api.md §11,
 * unconfirmed); 16 keeps a GraphQL request's fan-out fast while staying modest.
 */
export const DEFAULT_ENDPOINT_CONCURRENCY = 16;
/** Successes in a row at a lowered cap before the cap is raised by one (additive increase). */
export const CONCURRENCY_RECOVERY_SUCCESSES = 20;
/**
 * The share of an endpoint's rate budget one caller may use in a window: one caller cannot spend
 * the budget the others need (a flood of lookups from one key left every caller's member lookups
 * failing). Calls made outside a request (warm-up, job polling) are not limited by it.
 */
export const DEFAULT_CALLER_SHARE = 0.25;
/** A 45009 block lasts the window plus up to this fraction of it, so instances don't return in lockstep. */
export const RATE_BLOCK_JITTER_FRACTION = 0.1;

/**
 * A rate budget shared by every instance of the service (Redis when scaled out): WeCom's limits
 * are per corp and per API, whatever the number of instances calling (docs/wecom-api.md §11).
 */
export interface SharedRateBudget {
  /**
   * Takes one call from `path`'s budget of `budget` calls per `windowMs` (a sliding window over
   * all instances): 0 when taken, otherwise the milliseconds to wait before asking again.
   */
  take(path: string, budget: number, windowMs: number): Promise<number>;
}

export interface SchedulerOptions {
  /** Calls per window per endpoint; per-path overrides win over the fraction of WeCom's limit. */
  rateBudget?: Record<string, number>;
  /** Fraction of WeCom's per-corp per-API limit (10,000 a minute) used by default. */
  rateBudgetFraction?: number;
  /** Fraction of each endpoint's budget one caller may use per window (DEFAULT_CALLER_SHARE); 1: no per-caller limit. */
  callerShare?: number;
  /** WeCom's rate window; shorten it only in tests. */
  rateWindowMs?: number;
  /** Concurrent calls per endpoint (default 16); per-path overrides. */
  concurrency?: number;
  concurrencyPerEndpoint?: Record<string, number>;
  now?: () => number;
  random?: () => number;
  onQueue?(event: { endpoint: string; depth: number }): void;
  /**
   * Consulted after this process's own admission (queue, concurrency, local window): the same
   * budget, shared with the other instances. Without it the budget is this process's alone.
   */
  shared?: SharedRateBudget;
  /** Told when the shared budget makes a call wait (observability). */
  onSharedWait?(event: { endpoint: string; waitMs: number }): void;
  /** Waits for the shared budget (tests inject a fake clock's sleep). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** Why a call left the queue without a slot. */
export class QueueDeadlineError extends Error {
  constructor(
    readonly endpoint: string,
    /**
     * `blocked`: waiting out a 45009 window; `rate`: the rate budget; `slot`: the concurrency cap;
     * `ended`: the request it was made for ended meanwhile (its time limit passed).
     */
    readonly waitingFor: 'blocked' | 'rate' | 'slot' | 'ended',
    /** For `ended`: why the request ended. */
    readonly reason?: string,
  ) {
    super(waitingFor === 'ended' ? `the request ended while queued: ${reason}` : `deadline reached while waiting for ${waitingFor}`);
  }
}

interface Waiter {
  /** Whose share of the budget the call uses (the request's caller), if any. */
  caller: string | undefined;
  /** The request it is made for: one that ended while the call was queued does not start it. */
  request: UpstreamRequest | undefined;
  resolve(permit: Permit): void;
  reject(err: unknown): void;
  deadlineAt: number;
  cleanup(): void;
}

export interface Permit {
  /** Frees the slot. `ok`: the call succeeded (drives concurrency recovery and probing). */
  release(ok: boolean): void;
}

export interface LaneSnapshot {
  queued: number;
  inFlight: number;
  concurrencyCap: number;
  configuredConcurrency: number;
  rateBudget: number;
  blockedForMs: number;
}

class Lane {
  queue: Waiter[] = [];
  inFlight = 0;
  cap: number;
  successesSinceLowered = 0;
  /** How long a call holds its slot, on average over recent calls (ms; 0 before one finished). */
  callMs = 0;
  blockedUntil = 0;
  /** When the last 45009 block began: only calls admitted after it can end probing. */
  blockedAt = -Infinity;
  /** After a 45009 block: admit one call at a time until one succeeds. */
  probing = false;
  /** Start times of the last `budget` calls (a ring): a sliding window never exceeds the budget. */
  private readonly starts: Float64Array;
  private next = 0;
  private filled = 0;
  timer: NodeJS.Timeout | undefined;
  /** Each caller's recent starts on this endpoint, for its share of the budget. */
  readonly callers = new Map<string, SlidingWindow>();

  constructor(
    readonly path: string,
    readonly configuredCap: number,
    readonly budget: number,
    /** Calls one caller may start per window. */
    readonly callerBudget: number,
  ) {
    this.cap = configuredCap;
    this.starts = new Float64Array(Math.max(1, budget));
  }

  /** When `caller` may start its next call under its share (≤ now: at once). */
  callerOpensAt(caller: string | undefined, windowMs: number): number {
    if (caller === undefined || this.callerBudget >= this.budget) return 0;
    return this.callers.get(caller)?.opensAt(windowMs) ?? 0;
  }

  recordCallerStart(caller: string | undefined, now: number, windowMs: number): void {
    if (caller === undefined || this.callerBudget >= this.budget) return;
    let window = this.callers.get(caller);
    if (!window) {
      // Forget callers whose window has passed, so the map holds only recent callers.
      if (this.callers.size >= MAX_TRACKED_CALLERS)
        for (const [c, w] of this.callers) if (w.idleSince(now, windowMs)) this.callers.delete(c);
      this.callers.set(caller, (window = new SlidingWindow(this.callerBudget)));
    }
    window.record(now);
  }

  /** When the next call may start under the rate budget (≤ now: at once). */
  rateOpensAt(windowMs: number): number {
    if (this.filled < this.starts.length) return 0;
    return this.starts[this.next]! + windowMs;
  }

  recordStart(now: number): void {
    this.starts[this.next] = now;
    this.next = (this.next + 1) % this.starts.length;
    if (this.filled < this.starts.length) this.filled++;
  }

  /** The start times the ring holds, oldest first. */
  recentStarts(): number[] {
    const out: number[] = [];
    const first = this.filled < this.starts.length ? 0 : this.next;
    for (let i = 0; i < this.filled; i++) out.push(this.starts[(first + i) % this.starts.length]!);
    return out;
  }
}

/**
 * When each of the next `count` calls may start under a sliding window of `budget` calls per
 * `windowMs` (none before `from`), given the recent start times, oldest first: the n-th start
 * waits for the one `budget` places before it to leave the window. Stops at the first after `until`.
 */
export function nextStarts(
  recent: readonly number[],
  budget: number,
  windowMs: number,
  from: number,
  count: number,
  until = Number.POSITIVE_INFINITY,
): number[] {
  const size = Math.max(1, Math.floor(budget));
  const past = recent.length > size ? recent.slice(recent.length - size) : recent;
  const times: number[] = [];
  for (let j = 0; j < count; j++) {
    const before = past.length + j - size;
    const previous = before < 0 ? Number.NEGATIVE_INFINITY : before < past.length ? past[before]! : times[before - past.length]!;
    const at = Math.max(from, previous + windowMs);
    if (at > until) break;
    times.push(at);
  }
  return times;
}

/**
 * Reads of whole lists, which the directory cache shares between callers (one load serves
 * everyone): the corp's size bounds them, and a whole-corp load by the first caller must not be
 * cut short by that caller's share. The share limits per-item lookups (user/get,
 * convert_to_openid, getuserid …), which each caller can multiply at will.
 */
const SHARED_LIST_READS: ReadonlySet<string> = new Set([
  '/cgi-bin/department/list',
  '/cgi-bin/department/simplelist',
  '/cgi-bin/user/list',
  '/cgi-bin/user/simplelist',
  '/cgi-bin/user/list_id',
  '/cgi-bin/tag/list',
  '/cgi-bin/tag/get',
]);

/** Weight of the latest call in a lane's moving average of how long calls hold their slot. */
const CALL_TIME_WEIGHT = 0.1;

/** Callers remembered per endpoint before the idle ones are swept. */
const MAX_TRACKED_CALLERS = 1_000;

/** The start times of the last `size` calls (a ring): a sliding window never exceeds `size`. */
class SlidingWindow {
  private readonly starts: Float64Array;
  private next = 0;
  private filled = 0;

  constructor(size: number) {
    this.starts = new Float64Array(Math.max(1, size));
  }

  opensAt(windowMs: number): number {
    if (this.filled < this.starts.length) return 0;
    return this.starts[this.next]! + windowMs;
  }

  record(now: number): void {
    this.starts[this.next] = now;
    this.next = (this.next + 1) % this.starts.length;
    if (this.filled < this.starts.length) this.filled++;
  }

  idleSince(now: number, windowMs: number): boolean {
    const last = this.starts[(this.next - 1 + this.starts.length) % this.starts.length]!;
    return now - last > windowMs;
  }
}

export class Scheduler {
  private readonly lanes = new Map<string, Lane>();
  private readonly now: () => number;
  private readonly random: () => number;
  readonly windowMs: number;

  constructor(private readonly options: SchedulerOptions = {}) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.windowMs = options.rateWindowMs ?? DEFAULT_RATE_WINDOW_MS;
  }

  /**
   * Waits for a slot on `path`: not blocked by a 45009, under the rate budget, under the
   * concurrency cap, first come first served. Rejects with the signal's reason when it aborts,
   * and with QueueDeadlineError as soon as the wait is known to outlast `deadlineAt`.
   */
  async acquire(path: string, signal: AbortSignal, deadlineAt: number): Promise<Permit> {
    const permit = await this.acquireLocal(path, signal, deadlineAt);
    if (!this.options.shared) return permit;
    try {
      await this.takeShared(this.lane(path), signal, deadlineAt);
      return permit;
    } catch (err) {
      permit.release(false);
      throw err;
    }
  }

  /**
   * Waits until the shared budget admits one more call on `lane`: the slot taken locally is held
   * meanwhile, so this process's queue keeps its order. A wait that would outlast the deadline
   * fails at once, like a local one.
   */
  private async takeShared(lane: Lane, signal: AbortSignal, deadlineAt: number): Promise<void> {
    const shared = this.options.shared!;
    for (;;) {
      if (signal.aborted) throw signal.reason;
      const waitMs = await shared.take(lane.path, lane.budget, this.windowMs);
      if (waitMs <= 0) return;
      if (this.now() + waitMs > deadlineAt) throw new QueueDeadlineError(lane.path, 'rate');
      this.options.onSharedWait?.({ endpoint: lane.path, waitMs });
      const sleep = this.options.sleep ?? ((ms: number, s: AbortSignal) => sleepTimer(ms, undefined, { signal: s }));
      await sleep(waitMs, signal);
    }
  }

  private acquireLocal(path: string, signal: AbortSignal, deadlineAt: number): Promise<Permit> {
    const lane = this.lane(path);
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<Permit>((resolve, reject) => {
      const onAbort = () => {
        const i = lane.queue.indexOf(waiter);
        if (i >= 0) lane.queue.splice(i, 1);
        this.options.onQueue?.({ endpoint: path, depth: lane.queue.length });
        reject(signal.reason);
      };
      const request = upstreamRequests.getStore();
      const waiter: Waiter = {
        caller: request?.caller,
        request,
        resolve,
        reject,
        deadlineAt,
        cleanup: () => signal.removeEventListener('abort', onAbort),
      };
      signal.addEventListener('abort', onAbort, { once: true });
      lane.queue.push(waiter);
      this.options.onQueue?.({ endpoint: path, depth: lane.queue.length });
      this.pump(lane);
    });
  }

  /** 45009: close the endpoint until WeCom's window is over (plus jitter), then probe. */
  blockForRateLimit(path: string): number {
    const lane = this.lane(path);
    const until = this.now() + this.windowMs * (1 + this.random() * RATE_BLOCK_JITTER_FRACTION);
    if (until > lane.blockedUntil) lane.blockedUntil = until;
    lane.blockedAt = this.now();
    lane.probing = true;
    this.pump(lane);
    return lane.blockedUntil - this.now();
  }

  /**
   * 45033: WeCom refused at the concurrency this call saw, so the cap drops below it
   * (at least 1). `inFlight` counts the refused call itself.
   */
  lowerConcurrency(path: string, inFlight: number): void {
    const lane = this.lane(path);
    lane.cap = Math.max(1, Math.min(lane.cap, inFlight - 1));
    lane.successesSinceLowered = 0;
  }

  /** Calls `path` may start per rate window (its budget). */
  rateBudget(path: string): number {
    return this.lane(path).budget;
  }

  /**
   * How many more calls of `path` could be made within `withinMs` from now, behind the calls
   * already queued and running on it (counted up to `atMost`): what a request that needs that many
   * calls can expect before its deadline. The rate budget decides how many may start; the
   * concurrency cap and how long recent calls held their slot, how many of those finish in time.
   * This process's view: with a budget shared by several instances, the others' calls are not seen.
   */
  startsPossible(path: string, withinMs: number, atMost: number): number {
    const lane = this.lane(path);
    const now = this.now();
    const from = Math.max(now, lane.blockedUntil);
    const times = nextStarts(lane.recentStarts(), lane.budget, this.windowMs, from, atMost + lane.queue.length, now + withinMs);
    const byRate = times.length - lane.queue.length;
    const bySlots =
      lane.callMs > 0
        ? Math.floor((lane.cap * Math.max(0, now + withinMs - from)) / lane.callMs) - lane.queue.length - lane.inFlight
        : byRate;
    return Math.max(0, Math.min(byRate, bySlots));
  }

  /** Calls running on `path` now (the current call included while it holds its permit). */
  inFlight(path: string): number {
    return this.lane(path).inFlight;
  }

  /** The wait left on a 45009 block of `path` (0 when open). */
  blockedForMs(path: string): number {
    return Math.max(0, this.lane(path).blockedUntil - this.now());
  }

  snapshot(): Record<string, LaneSnapshot> {
    const out: Record<string, LaneSnapshot> = {};
    for (const [path, lane] of this.lanes) {
      out[path] = {
        queued: lane.queue.length,
        inFlight: lane.inFlight,
        concurrencyCap: lane.cap,
        configuredConcurrency: lane.configuredCap,
        rateBudget: lane.budget,
        blockedForMs: Math.max(0, lane.blockedUntil - this.now()),
      };
    }
    return out;
  }

  /** Stops pending timers and fails queued callers (client shutdown). */
  close(reason: unknown): void {
    for (const lane of this.lanes.values()) {
      clearTimeout(lane.timer);
      lane.timer = undefined;
      for (const waiter of lane.queue.splice(0)) {
        waiter.cleanup();
        waiter.reject(reason);
      }
    }
  }

  private lane(path: string): Lane {
    let lane = this.lanes.get(path);
    if (!lane) {
      const o = this.options;
      const cap = o.concurrencyPerEndpoint?.[path] ?? o.concurrency ?? DEFAULT_ENDPOINT_CONCURRENCY;
      const budget =
        o.rateBudget?.[path] ?? Math.max(1, Math.floor(CORP_API_CALLS_PER_MINUTE * (o.rateBudgetFraction ?? DEFAULT_RATE_BUDGET_FRACTION)));
      const share = Math.min(1, Math.max(0, o.callerShare ?? DEFAULT_CALLER_SHARE));
      const callerBudget = SHARED_LIST_READS.has(path) ? budget : Math.max(1, Math.floor(budget * share));
      lane = new Lane(path, Math.max(1, cap), budget, callerBudget);
      this.lanes.set(path, lane);
    }
    return lane;
  }

  private pump(lane: Lane): void {
    clearTimeout(lane.timer);
    lane.timer = undefined;
    const now = this.now();
    while (lane.queue.length) {
      const cap = lane.probing ? 1 : lane.cap;
      if (lane.inFlight >= cap) {
        // Slots free up on release(), which pumps again.
        this.expire(lane, Infinity, 'slot');
        return;
      }
      const opensAt = Math.max(lane.blockedUntil, lane.rateOpensAt(this.windowMs));
      if (opensAt > now) {
        this.expire(lane, opensAt, lane.blockedUntil > now ? 'blocked' : 'rate');
        if (lane.queue.length) {
          lane.timer = setTimeout(() => this.pump(lane), opensAt - now);
          lane.timer.unref?.();
        }
        return;
      }
      const index = this.nextWithShare(lane, now);
      if (index < 0) return;
      const waiter = lane.queue.splice(index, 1)[0]!;
      waiter.cleanup();
      const ended = waiter.request?.ended;
      if (ended !== undefined) {
        // Cut off by its request's time limit while queued: it takes no slot and no share of the budget.
        waiter.reject(new QueueDeadlineError(lane.path, 'ended', ended));
        this.options.onQueue?.({ endpoint: lane.path, depth: lane.queue.length });
        continue;
      }
      lane.inFlight++;
      lane.recordStart(now);
      lane.recordCallerStart(waiter.caller, now, this.windowMs);
      this.options.onQueue?.({ endpoint: lane.path, depth: lane.queue.length });
      waiter.resolve(this.permit(lane, now));
    }
  }

  /**
   * The first waiter whose caller has share left (callers over their share wait without holding
   * up the others). None: waiters whose share opens after their deadline fail at once, and the
   * lane is pumped again when the earliest share opens. Returns -1 then.
   */
  private nextWithShare(lane: Lane, now: number): number {
    let earliest = Infinity;
    for (let i = 0; i < lane.queue.length; i++) {
      const opensAt = lane.callerOpensAt(lane.queue[i]!.caller, this.windowMs);
      if (opensAt <= now) return i;
      if (opensAt < earliest) earliest = opensAt;
    }
    const kept = lane.queue.filter((waiter) => {
      if (lane.callerOpensAt(waiter.caller, this.windowMs) <= waiter.deadlineAt) return true;
      waiter.cleanup();
      waiter.reject(new QueueDeadlineError(lane.path, 'rate'));
      return false;
    });
    if (kept.length !== lane.queue.length) {
      lane.queue = kept;
      this.options.onQueue?.({ endpoint: lane.path, depth: kept.length });
    }
    if (lane.queue.length) {
      lane.timer = setTimeout(() => this.pump(lane), Math.max(1, earliest - now));
      lane.timer.unref?.();
    }
    return -1;
  }

  /** Fails, at once, the waiters whose deadline comes before the lane can open for them. */
  private expire(lane: Lane, opensAt: number, waitingFor: QueueDeadlineError['waitingFor']): void {
    if (opensAt === Infinity) return; // a slot may free at any moment; the caller's signal ends the wait
    const kept: Waiter[] = [];
    for (const waiter of lane.queue) {
      if (waiter.deadlineAt < opensAt) {
        waiter.cleanup();
        waiter.reject(new QueueDeadlineError(lane.path, waitingFor));
      } else {
        kept.push(waiter);
      }
    }
    if (kept.length !== lane.queue.length) {
      lane.queue = kept;
      this.options.onQueue?.({ endpoint: lane.path, depth: kept.length });
    }
  }

  private permit(lane: Lane, startedAt: number): Permit {
    let released = false;
    return {
      release: (ok: boolean) => {
        if (released) return;
        released = true;
        lane.inFlight--;
        const held = this.now() - startedAt;
        lane.callMs = lane.callMs === 0 ? held : lane.callMs * (1 - CALL_TIME_WEIGHT) + held * CALL_TIME_WEIGHT;
        if (ok) {
          // A call that started before the block says nothing about whether the window is over.
          if (startedAt >= lane.blockedAt) lane.probing = false;
          if (lane.cap < lane.configuredCap && ++lane.successesSinceLowered >= CONCURRENCY_RECOVERY_SUCCESSES) {
            lane.cap++;
            lane.successesSinceLowered = 0;
          }
        }
        this.pump(lane);
      },
    };
  }
}
