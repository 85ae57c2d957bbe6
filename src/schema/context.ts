import type { WeComClient } from '../wecom/client.ts';
import { clientSource, type DirectorySource } from '../directory/source.ts';
import { RequestLoaders } from '../loaders/index.ts';
import { LinkedLoaders } from '../loaders/linked.ts';
import { NaiveLinkedLoaders, NaiveRequestLoaders, type DirectoryPlanning } from '../loaders/naive.ts';
import type { ChangeBus } from '../directory/changes.ts';
import { JobTracker } from '../jobs/tracker.ts';
import { changeFeedOf, type ChangeFeed } from '../directory/change-feed.ts';

/** The caller's permissions (issue "Security" fills them from API keys and JWTs). */
export interface Scopes {
  read: boolean;
  write: boolean;
  /** Phone numbers, emails, addresses, avatars, QR codes. */
  pii: boolean;
  /** Imports, exports, invitations. */
  admin: boolean;
}

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
   * 'naive' is the benchmark's baseline (`DIRECTORY_PLANNING=naive`, src/loaders/naive.ts): no
   * cache, no batching or de-duplication. Default 'planned'.
   */
  planning?: DirectoryPlanning;
}

export interface GraphQLContext {
  client: WeComClient;
  changes: ChangeBus;
  loaders: RequestLoaders;
  linked: LinkedLoaders;
  scopes: Scopes;
  jobs: JobTracker;
  /** The ordered directory changes (directoryChanges, contactChanged); one per ChangeBus. */
  feed: ChangeFeed;
  /** Forgets what this request's loaders have read (a mutation has just changed it). */
  refreshLoaders(): void;
}

const FULL_ACCESS: Scopes = { read: true, write: true, pii: true, admin: true };

/** One job tracker per set of deps that came without one (createApp always passes one). */
const fallbackTrackers = new WeakMap<ServiceDeps, JobTracker>();

function trackerOf(deps: ServiceDeps): JobTracker {
  if (deps.jobs) return deps.jobs;
  let tracker = fallbackTrackers.get(deps);
  if (!tracker) fallbackTrackers.set(deps, (tracker = new JobTracker({ client: deps.client, changes: deps.changes })));
  return tracker;
}

/** A fresh context, and fresh loaders, for every request. */
export function createContext(deps: ServiceDeps): GraphQLContext {
  const source = deps.source ?? clientSource(deps.client);
  const naive = deps.planning === 'naive';
  const loadersOf = () => (naive ? new NaiveRequestLoaders(source) : new RequestLoaders(source));
  const context: GraphQLContext = {
    client: deps.client,
    changes: deps.changes,
    loaders: loadersOf(),
    linked: naive ? new NaiveLinkedLoaders(deps.client) : new LinkedLoaders(deps.client),
    scopes: FULL_ACCESS,
    jobs: trackerOf(deps),
    feed: changeFeedOf(deps.changes),
    refreshLoaders() {
      context.loaders = loadersOf();
    },
  };
  return context;
}
