import type { WeComClient } from '../wecom/client.ts';
import { clientSource, type DirectorySource } from '../directory/source.ts';
import { RequestLoaders } from '../loaders/index.ts';
import { LinkedLoaders } from '../loaders/linked.ts';
import type { ChangeBus } from '../directory/changes.ts';
import { MemberMemo } from '../directory/member-memo.ts';
import { JobTracker } from '../jobs/tracker.ts';
import { changeFeedOf, type ChangeFeed } from '../directory/change-feed.ts';
import type { Scopes } from '../auth/scopes.ts';
import { ANONYMOUS_FULL_ACCESS, type Identity } from '../auth/identity.ts';
import { DepartmentScope } from '../auth/department-scope.ts';
import { NoLinkedLoaders } from '../auth/no-linked.ts';
import type { WeComAgent } from '../wecom/agent.ts';

/** The caller's permissions, from its API key or JWT (src/auth/). */
export type { Scopes } from '../auth/scopes.ts';

/** What the service is built from, shared by every request. */
export interface ServiceDeps {
  client: WeComClient;
  /** Where the graph reads the directory from; straight from the client unless a cache is given. */
  source?: DirectorySource;
  /** Directory changes: mutations publish, the cache and subscriptions listen. */
  changes: ChangeBus;
  /** Import and export jobs in progress (created with the app when not given). */
  jobs?: JobTracker;
  /**
   * How each request's loaders are made; the planned ones unless given. A seam for the benchmark's
   * naive baseline (bench/naive-planning.ts), which passes loaders without batching or memo.
   */
  loaders?: RequestLoaderFactory;
  /** Per-member lookups remembered across requests (openids, unknown userids): src/directory/member-memo.ts. */
  memo?: MemberMemo;
}

export interface RequestLoaderFactory {
  request(read: DirectorySource): RequestLoaders;
  linked(client: WeComClient): LinkedLoaders;
}

/** The service's own loaders: batched, de-duplicated and primed from lists (src/loaders). */
export const PLANNED_LOADERS: RequestLoaderFactory = {
  request: (read) => new RequestLoaders(read),
  linked: (client) => new LinkedLoaders(client),
};

export interface GraphQLContext {
  client: WeComClient;
  changes: ChangeBus;
  loaders: RequestLoaders;
  linked: LinkedLoaders;
  scopes: Scopes;
  /** Who is calling (src/auth/authenticate.ts). */
  identity: Identity;
  /**
   * Set when the caller is limited to department subtrees: the request's loaders read through it,
   * and mutations check their targets against it (src/schema/scope-guards.ts).
   */
  departmentScope?: DepartmentScope;
  jobs: JobTracker;
  /** The ordered directory changes (directoryChanges, contactChanged); one per ChangeBus. */
  feed: ChangeFeed;
  /** Per-member lookups remembered across requests (openids): one upstream call per member, not per request. */
  memo: MemberMemo;
  /** Forgets what this request's loaders have read (a mutation has just changed it). */
  refreshLoaders(): void;
  /** The app's visible range (agent/get) when reads go through an app secret; null for the contacts-sync secret. */
  appVisibility(): Promise<WeComAgent | null>;
}

/** One memo per set of deps that came without one (createApp always passes one). */
const fallbackMemos = new WeakMap<ServiceDeps, MemberMemo>();

function memoOf(deps: ServiceDeps): MemberMemo {
  if (deps.memo) return deps.memo;
  let memo = fallbackMemos.get(deps);
  if (!memo) fallbackMemos.set(deps, (memo = new MemberMemo()));
  return memo;
}

/** One job tracker per set of deps that came without one (createApp always passes one). */
const fallbackTrackers = new WeakMap<ServiceDeps, JobTracker>();

function trackerOf(deps: ServiceDeps): JobTracker {
  if (deps.jobs) return deps.jobs;
  let tracker = fallbackTrackers.get(deps);
  if (!tracker) fallbackTrackers.set(deps, (tracker = new JobTracker({ client: deps.client, changes: deps.changes })));
  return tracker;
}

/**
 * A fresh context, and fresh loaders, for every request. A caller limited to department subtrees
 * reads through a DepartmentScope (a new one with every refresh, so nothing it remembers is stale).
 */
export function createContext(deps: ServiceDeps, identity: Identity = ANONYMOUS_FULL_ACCESS): GraphQLContext {
  const source = deps.source ?? clientSource(deps.client);
  const make = deps.loaders ?? PLANNED_LOADERS;
  const roots = identity.departmentRoots;
  const scopeOf = () => (roots ? new DepartmentScope(source, roots) : undefined);
  const loadersOf = (scope: DepartmentScope | undefined) => {
    const read = scope ? scope.source() : source;
    return make.request(read);
  };
  const departmentScope = scopeOf();
  const context: GraphQLContext = {
    client: deps.client,
    changes: deps.changes,
    loaders: loadersOf(departmentScope),
    linked: roots ? new NoLinkedLoaders(deps.client) : make.linked(deps.client),
    scopes: identity.scopes,
    identity,
    ...(departmentScope ? { departmentScope } : {}),
    jobs: trackerOf(deps),
    feed: changeFeedOf(deps.changes),
    memo: memoOf(deps),
    refreshLoaders() {
      const scope = scopeOf();
      if (scope) context.departmentScope = scope;
      context.loaders = loadersOf(scope);
    },
    appVisibility: () => (source.visibility ? source.visibility() : Promise.resolve(null)),
  };
  return context;
}
