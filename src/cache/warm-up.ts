import type { Logger } from 'pino';
import type { ChangeBus } from '../directory/changes.ts';
import type { DirectoryCache } from './directory-cache.ts';
import { RATE_LIMIT_WINDOW_MS } from 'wecom-protocol/limits';
import { WeComError } from '../wecom/errors.ts';
import { nextStarts } from '../wecom/scheduler.ts';

/** Warm-up state as /readyz and /metrics report it. */
export interface WarmUpStatus {
  /** `cold`: no pass finished yet; `warming`: a pass is running; `warm`: the last pass finished. */
  state: 'cold' | 'warming' | 'warm';
  /** Member lists read by the running (or last) pass, and how many the tree has. */
  departmentsLoaded: number;
  departmentsTotal: number;
  /** Member lists the last pass could not read (they are read on demand instead). */
  failures: number;
  /** Passes finished since start (the first warm-up, refreshes, re-warms after a full flush). */
  passes: number;
  /** How long the first warm-up took, ms (null until it finished). */
  firstWarmMs: number | null;
  /** How long the last finished pass took, ms. */
  lastPassMs: number | null;
  /**
   * The running (or last) pass was one on demand: only the member lists a refused request needs
   * (src/security/directory-loading.ts); `departmentsLoaded`/`departmentsTotal` count those.
   */
  onDemand: boolean;
}

export interface WarmUpOptions {
  cache: DirectoryCache;
  /** Builds the views shared across requests (search index, direct reports, tag index) from the cached lists. */
  buildViews: () => Promise<void>;
  /**
   * Upstream reads a pass may start per rate window (WeCom's minute): a share of the client's own
   * budget for user/list, so callers keep the rest.
   */
  callsPerWindow: number;
  /** Reads a pass keeps in flight at once (the client's cap per endpoint is 16). */
  concurrency?: number;
  /** A pass in use starts again when this fraction of the TTL has passed since the last began (refresh-ahead). */
  refreshAt?: number;
  logger?: Logger;
  /** The rate window; shortened only in tests. */
  windowMs?: number;
}

/** `load`: read what is not cached (warm-up, re-warm); `refresh`: read everything again; `fill`: the lists asked for on demand. */
type PassMode = 'load' | 'refresh' | 'fill';

export const DEFAULT_WARM_UP_CONCURRENCY = 8;
/** Share (percent) of the client's `user/list` rate budget a pass may use per window (CACHE_WARM_UP_BUDGET_PERCENT). */
export const DEFAULT_WARM_UP_BUDGET_PERCENT = 50;
export const DEFAULT_REFRESH_AT = 0.8;
/** A pass that could not read the tree is tried again after this long (doubling, up to the TTL). */
const RETRY_FIRST_MS = 5_000;
/** Changes that come in a burst (an import's callbacks) trigger one re-warm, this long after the last. */
const REWARM_DEBOUNCE_MS = 500;

/**
 * Loads the whole corp into the directory cache in the background, so no caller waits for a
 * whole-corp load (the first people-picker search used to pay 2,223 upstream calls):
 *
 * - at start, and after a full flush (DIRECTORY_RELOADED), it reads the tree, every department's
 *   members and the tags through the cache's public reads, paced to `callsPerWindow` and
 *   `concurrency`, then builds the shared views (the search index);
 * - while the cache is in use (it was read since the last pass), it reads everything again before
 *   the TTL runs out (`refreshAt` × TTL after the last pass began), with forced refreshes: readers
 *   keep the current value meanwhile, and a refresh that finds the same data keeps the views.
 *   An idle service lets its entries expire instead of spending WeCom's quota.
 *
 * Single changes (a member updated) still drop just what they touch; the next reader reads that
 * one list again.
 *
 * Passes on demand (`demand`), with or without the warm-up: the member lists a query refused with
 * DIRECTORY_LOADING needs (src/security/directory-loading.ts), at the same pace, and nothing else.
 * Whole-corp passes run only once `start` is called (CACHE_WARM_UP).
 */
export class CacheWarmer {
  private status: WarmUpStatus = {
    state: 'cold',
    departmentsLoaded: 0,
    departmentsTotal: 0,
    failures: 0,
    passes: 0,
    firstWarmMs: null,
    lastPassMs: null,
    onDemand: false,
  };
  private running: Promise<void> | undefined;
  /** What the running pass is: a whole-corp pass covers any list asked for meanwhile. */
  private runningMode: PassMode | undefined;
  /** Member lists asked for on demand while a pass ran: read by the next pass. */
  private readonly demanded = new Set<number>();
  /** Reads the running pass has not started yet (its member-list phase; undefined before it knows). */
  private outstanding: number | undefined;
  /** How long a read of the pass took, on average (ms; 0 before one finished). */
  private readMs = 0;

  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private retryMs = RETRY_FIRST_MS;
  private closed = false;
  private readsAtLastPass = -1;
  private readonly startedAt = performance.now();
  /** Start times of the reads in the current rate window (a pass never exceeds `callsPerWindow`). */
  private starts: number[] = [];

  constructor(private readonly options: WarmUpOptions) {}

  /** Starts the first warm-up (in the background) and listens for full flushes. Returns a stop function. */
  start(bus?: ChangeBus): () => void {
    const unsubscribe = bus?.subscribe((change) => {
      if (change.kind === 'DIRECTORY_RELOADED') this.schedule(REWARM_DEBOUNCE_MS, 'load');
    });
    this.run('load');
    return () => {
      unsubscribe?.();
      this.close();
    };
  }

  snapshot(): WarmUpStatus {
    return { ...this.status };
  }

  /** Whether the first warm-up has finished (readiness waits for it). */
  get warmedOnce(): boolean {
    return this.status.firstWarmMs !== null;
  }

  /** The pass running now, if any (tests and the benchmark wait on it). */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  /**
   * A pass on demand: reads the member lists of `departments` that a request needs and the cache
   * does not hold, in the background and at the same pace as a warm-up pass, whether or not the
   * warm-up is on (a running whole-corp pass reads them anyway; another pass on demand takes them
   * next). Returns how long from now until they should all be read, ms: the pace's schedule for
   * the reads ahead of them and theirs.
   */
  demand(departments: readonly number[]): number {
    if (this.closed || departments.length === 0) return 0;
    // Read after the running pass (one already past them, or that failed them, leaves them missing); skipped if loaded by then.
    for (const id of departments) this.demanded.add(id);
    if (this.runningMode === 'load' || this.runningMode === 'refresh') {
      // A whole-corp pass: ours are among the lists it has not started yet (all of them, before it read the tree).
      return this.etaMs(Math.max(this.outstanding ?? departments.length, departments.length));
    }
    if (this.running) return this.etaMs((this.outstanding ?? 0) + this.demanded.size);
    this.run('fill');
    return this.etaMs(departments.length);
  }

  /** Runs a pass now, or right after the one running. */
  private run(mode: PassMode): void {
    if (this.closed) return;
    if (this.running) {
      if (mode !== 'fill') this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.runningMode = mode;
    this.running = this.pass(mode).finally(() => {
      this.running = undefined;
      this.runningMode = undefined;
      this.outstanding = undefined;
      if (this.again) {
        this.again = false;
        this.run('load');
      } else if (this.demanded.size) this.run('fill');
    });
  }

  /**
   * When `reads` more reads of this warmer will have finished, ms from now: its share of the
   * rate window, its concurrency, and how long its reads have taken.
   */
  private etaMs(reads: number): number {
    if (reads <= 0) return 0;
    const now = performance.now();
    const windowMs = this.options.windowMs ?? RATE_LIMIT_WINDOW_MS;
    const allowed = Math.max(1, Math.floor(this.options.callsPerWindow));
    const recent = this.starts.filter((t) => t > now - windowMs);
    const lastStart = nextStarts(recent, allowed, windowMs, now, reads).at(-1) ?? now;
    const concurrency = this.options.concurrency ?? DEFAULT_WARM_UP_CONCURRENCY;
    const paced = now + Math.ceil(reads / concurrency) * this.readMs;
    return Math.max(lastStart, paced) - now + this.readMs;
  }

  private schedule(ms: number, mode: PassMode): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(mode), ms);
    this.timer.unref();
  }

  /** A pass on demand: the member lists asked for, nothing else; the cache is not "warm" after it. */
  private async fill(): Promise<void> {
    const { cache, logger } = this.options;
    const ids = [...this.demanded].filter((id) => cache.memberListState(id) !== 'fresh');
    this.demanded.clear();
    // All read meanwhile (by the pass before, or by requests): nothing to do, nothing to report.
    if (ids.length === 0) return;
    this.status = { ...this.status, state: 'warming', departmentsLoaded: 0, departmentsTotal: ids.length, onDemand: true };
    let failures = 0;
    await this.forEach(
      ids,
      async (id) => {
        try {
          await cache.members(id);
        } catch (err) {
          failures++;
          logger?.debug({ departmentId: id, reason: describeUpstreamFailure(err) }, 'loading on demand: a member list could not be read');
        }
        this.status.departmentsLoaded++;
      },
      (id) => cache.memberListState(id) === 'fresh',
    );
    // A refused search (or another whole-corp view) asked for every list: build the views now, as a
    // warm-up pass does, so its retry does not wait for the search index (3 s on the huge seed).
    if (this.holdsEveryList()) {
      try {
        await this.options.buildViews();
      } catch (err) {
        logger?.debug({ reason: describeUpstreamFailure(err) }, 'loading on demand: the views could not be built');
      }
    }
    // Warm stays what it was: whether a whole-corp pass has finished.
    this.status = { ...this.status, state: this.status.firstWarmMs === null ? 'cold' : 'warm', failures };
    logger?.info({ departments: ids.length, failures }, 'directory cache: member lists loaded on demand');
  }

  /** Whether the cache holds a fresh member list for every department of its tree. */
  private holdsEveryList(): boolean {
    const { cache } = this.options;
    const tree = cache.peekDepartments();
    return tree !== undefined && tree.every((d) => cache.memberListState(d.id) === 'fresh');
  }

  private async pass(mode: PassMode): Promise<void> {
    if (mode === 'fill') return this.fill();
    const { cache, logger } = this.options;
    const began = performance.now();
    this.status = { ...this.status, state: 'warming', departmentsLoaded: 0, onDemand: false };
    let failures = 0;
    try {
      if (mode === 'refresh') await cache.refresh({ kind: 'departments' });
      const departments = await cache.departments();
      this.status.departmentsTotal = departments.length;
      // This pass reads every list: none asked for until now needs a pass of its own.
      this.demanded.clear();
      await this.forEach(
        departments,
        async (d) => {
          try {
            if (mode === 'refresh') await cache.refresh({ kind: 'members', departmentId: d.id });
            else await cache.members(d.id);
          } catch (err) {
            failures++;
            logger?.debug({ departmentId: d.id, reason: describeUpstreamFailure(err) }, 'warm-up: a member list could not be read');
          }
          this.status.departmentsLoaded++;
        },
        // A list still fresh costs no upstream read: it does not wait for the pace (a refresh reads every one again).
        mode === 'load' ? (d) => cache.memberListState(d.id) === 'fresh' : () => false,
      );
      try {
        if (mode === 'refresh') await cache.refresh({ kind: 'tags' });
        const tags = await cache.tags();
        await this.forEach(tags, async (t) => (mode === 'refresh' ? cache.refresh({ kind: 'tag', tagId: t.tagid }) : cache.tag(t.tagid)));
      } catch (err) {
        failures++;
        logger?.debug({ reason: describeUpstreamFailure(err) }, 'warm-up: tags could not be read');
      }
      // A refresh that found the same lists keeps the views; their TTL starts again with the lists'.
      if (mode === 'refresh' && failures === 0) cache.renewViews();
      await this.options.buildViews();
      const ms = performance.now() - began;
      this.status = {
        ...this.status,
        state: 'warm',
        failures,
        passes: this.status.passes + 1,
        lastPassMs: ms,
        firstWarmMs: this.status.firstWarmMs ?? performance.now() - this.startedAt,
      };
      this.retryMs = RETRY_FIRST_MS;
      this.readsAtLastPass = this.reads();
      logger?.info({ mode, departments: departments.length, failures, ms: Math.round(ms) }, 'directory cache warm');
      this.scheduleRefresh(Math.max(1_000, cache.ttlMs * (this.options.refreshAt ?? DEFAULT_REFRESH_AT) - ms));
    } catch (err) {
      // The tree itself could not be read: try again later; readers load on demand meanwhile.
      this.status.state = this.status.firstWarmMs === null ? 'cold' : 'warm';
      logger?.warn({ reason: describeUpstreamFailure(err), retryInMs: this.retryMs }, 'warm-up: the department tree could not be read');
      this.schedule(this.retryMs, 'load');
      this.retryMs = Math.min(this.retryMs * 2, Math.max(RETRY_FIRST_MS, cache.ttlMs));
    }
  }

  /**
   * Refresh-ahead: when the timer fires, a cache read since the last pass means the cache is in
   * use, and everything is read again before it expires. An idle cache is looked at again every
   * tenth of the TTL; the first reads after the idle spell start a pass that loads what expired.
   */
  private scheduleRefresh(ms: number, idle = false): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.reads() === this.readsAtLastPass) return this.scheduleRefresh(Math.max(1_000, this.options.cache.ttlMs / 10), true);
      this.run(idle ? 'load' : 'refresh');
    }, ms);
    this.timer.unref();
  }

  /** Reads made through the cache (requests, not this warmer's own, which come in the same counters but stop when it does). */
  private reads(): number {
    const s = this.options.cache.stats();
    return s.hits + s.misses + s.stale + s.joined + s.viewHits;
  }

  /**
   * Runs `work` over `items` with the pass's concurrency, starting no more than its share of the
   * rate window; items `cached` says cost no upstream read go without waiting for the pace.
   */
  private async forEach<T>(items: readonly T[], work: (item: T) => Promise<unknown>, cached?: (item: T) => boolean): Promise<void> {
    let next = 0;
    // Member lists (the phase given `cached`): how many are still to start, for demand()'s estimate.
    if (cached) this.outstanding = items.length;
    const worker = async () => {
      while (next < items.length && !this.closed) {
        const item = items[next++]!;
        if (cached) this.outstanding = items.length - next;
        if (cached?.(item)) {
          await work(item);
          continue;
        }
        await this.admit();
        const started = performance.now();
        await work(item);
        const ms = performance.now() - started;
        // A moving average: recent reads say more about how long the next ones take.
        this.readMs = this.readMs === 0 ? ms : this.readMs * 0.9 + ms * 0.1;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency ?? DEFAULT_WARM_UP_CONCURRENCY, items.length) }, worker));
  }

  /** Waits until one more read fits in the pass's share of the rate window. */
  private async admit(): Promise<void> {
    const windowMs = this.options.windowMs ?? RATE_LIMIT_WINDOW_MS;
    const allowed = Math.max(1, Math.floor(this.options.callsPerWindow));
    for (;;) {
      const now = performance.now();
      while (this.starts.length && this.starts[0]! <= now - windowMs) this.starts.shift();
      if (this.starts.length < allowed) {
        this.starts.push(now);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, this.starts[0]! + windowMs - now).unref());
    }
  }
}

/** A reason for the log: the error's kind and errcode, never its message (which may quote WeCom). */
function describeUpstreamFailure(err: unknown): string {
  if (err instanceof WeComError) {
    const errcode = 'errcode' in err && typeof err.errcode === 'number' ? ` ${err.errcode}` : '';
    return `${err.kind} error${errcode} (${err.category})`;
  }
  return err instanceof Error ? err.name : 'failed';
}
