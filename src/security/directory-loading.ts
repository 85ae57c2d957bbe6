import { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { scopeKey } from '../auth/department-scope.ts';
import type { DirectoryCache } from '../cache/directory-cache.ts';
import type { CacheWarmer } from '../cache/warm-up.ts';
import { EVERYONE_VIEWS } from '../loaders/index.ts';
import type { CorpSizes } from './corp-sizes.ts';
import type { MemberListNeeds } from './estimate.ts';

/**
 * A query that needs more department member lists than WeCom's rate limit lets the service read
 * before the deadline is refused up front, instead of spending the quota and failing late
 * (issue 13: a first people search on a 200,000-member corp made 8,001 `user/list` calls in 25 s,
 * then failed). The lists it needs are loaded in the background meanwhile, at a warm-up pass's pace
 * (`CacheWarmer.demand`), so a retry after `retryAfterSeconds` finds them cached.
 *
 * What a query needs comes from its estimate (estimate.ts: `members`, `memberCount`, the people
 * search and direct reports, which read every list unless their view is built); which lists the
 * directory cache holds, from the cache; how many `user/list` calls can be made before the
 * deadline, from the client's own rate budget and the calls it started in the last window, its
 * concurrency cap and how long recent calls took (scheduler.ts `startsPossible`).
 */

/** `extensions.code` of the refusal. */
export const DIRECTORY_LOADING = 'DIRECTORY_LOADING';

const USER_LIST = '/cgi-bin/user/list';

/** The client's rate budget, as the check needs it (the WeCom client's scheduler). */
export interface ListReadBudget {
  /** How many more calls of `path` could be made within `withinMs` from now (counted up to `atMost`). */
  startsPossible(path: string, withinMs: number, atMost: number): number;
}

export interface DirectoryLoadingOptions {
  cache: DirectoryCache;
  /** Loads what a refused request needs, at a warm-up pass's pace. */
  warmer: CacheWarmer;
  budget: ListReadBudget;
  /** How long a request's list reads may take: a WeCom call's deadline, or the query's time limit when shorter. */
  deadlineMs: number;
  /** False while member lists are not read with one `user/list` each (the 2022 restricted reads: one `user/list_id` walk). */
  readsListPerDepartment?: () => boolean;
  logger?: Logger;
}

/** What a query needs and what the cache holds of it, for the refusal's message and extensions. */
export interface ListShortfall {
  /** Member lists the query reads. */
  needed: number;
  /** Of those, held by the cache (fresh, or served while refreshed). */
  cached: number;
  /** `user/list` calls that can be made before the deadline (rate budget, concurrency, recent call times). */
  readableInTime: number;
  retryAfterSeconds: number;
}

export class DirectoryLoadingGuard {
  constructor(private readonly options: DirectoryLoadingOptions) {}

  /**
   * Refuses an operation whose member lists cannot all be read before the deadline (and starts
   * loading them); undefined when it may run. `roots`: the caller's department subtrees, if limited.
   */
  check(needs: MemberListNeeds, sizes: CorpSizes, roots?: readonly number[]): GraphQLError | undefined {
    const { cache, budget, deadlineMs } = this.options;
    if (this.options.readsListPerDepartment && !this.options.readsListPerDepartment()) return undefined;
    const wanted = this.listsRead(needs, sizes, roots);
    const missing: number[] = [];
    for (const id of wanted) if (cache.memberListState(id) === 'missing') missing.push(id);
    if (missing.length === 0) return undefined;
    const readableInTime = budget.startsPossible(USER_LIST, deadlineMs, missing.length);
    if (readableInTime >= missing.length) return undefined;
    const etaMs = this.options.warmer.demand(missing);
    const shortfall: ListShortfall = {
      needed: wanted.size,
      cached: wanted.size - missing.length,
      readableInTime,
      retryAfterSeconds: Math.max(1, Math.ceil(etaMs / 1000)),
    };
    this.options.logger?.warn(
      { listsNeeded: shortfall.needed, listsCached: shortfall.cached, readableInTime, retryAfterSeconds: shortfall.retryAfterSeconds },
      'request refused: the directory is still loading',
    );
    return loadingError(shortfall, deadlineMs);
  }

  /** The departments whose member lists the operation reads (within the caller's subtrees). */
  private listsRead(needs: MemberListNeeds, sizes: CorpSizes, roots: readonly number[] | undefined): Set<number> {
    const visible = roots ? new Set(roots.flatMap((r) => sizes.subtree(r))) : undefined;
    const wanted = new Set<number>();
    const add = (id: number) => {
      if (sizes.has(id) && (!visible || visible.has(id))) wanted.add(id);
    };
    for (const id of needs.departments) add(id);
    for (const id of needs.subtrees) for (const d of sizes.subtree(id)) add(d);
    for (const view of needs.everyone) {
      // Named as the request's loaders name it (a limited caller's views carry its subtrees).
      const name = roots ? `${view}|${scopeKey(roots)}` : view;
      if (this.options.cache.viewCurrent(name, EVERYONE_VIEWS[view])) continue;
      if (visible) for (const id of visible) wanted.add(id);
      else for (const id of sizes.ids()) wanted.add(id);
      break;
    }
    return wanted;
  }
}

const count = (n: number) => n.toLocaleString('en-US');

/** The refusal: what is loading, why this request cannot wait for it, and when to retry (HTTP 503 + Retry-After when alone). */
export function loadingError(s: ListShortfall, deadlineMs: number): GraphQLError {
  const missing = s.needed - s.cached;
  const deadline = deadlineMs % 1000 === 0 ? `${deadlineMs / 1000} s` : `${deadlineMs} ms`;
  const message =
    `The directory is still loading: ${count(s.cached)} of the ${count(s.needed)} department member lists this request needs are cached; ` +
    `reading the other ${count(missing)} takes more WeCom user/list calls than its rate limit allows before the ${deadline} deadline ` +
    `(${count(s.readableInTime)} can be read by then). They are loading in the background: retry in ~${s.retryAfterSeconds} s`;
  return new GraphQLError(message, {
    extensions: {
      code: DIRECTORY_LOADING,
      retryAfterSeconds: s.retryAfterSeconds,
      memberLists: { needed: s.needed, cached: s.cached, readableInTime: s.readableInTime },
      http: { status: 503, headers: { 'retry-after': String(s.retryAfterSeconds) } },
    },
  });
}
