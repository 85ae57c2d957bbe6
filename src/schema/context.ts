import type { WeComClient } from '../wecom/client.ts';
import { clientSource, type DirectorySource } from '../directory/source.ts';
import { RequestLoaders } from '../loaders/index.ts';
import { LinkedLoaders } from '../loaders/linked.ts';
import type { ChangeBus } from '../directory/changes.ts';

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
}

export interface GraphQLContext {
  client: WeComClient;
  changes: ChangeBus;
  loaders: RequestLoaders;
  linked: LinkedLoaders;
  scopes: Scopes;
}

const FULL_ACCESS: Scopes = { read: true, write: true, pii: true, admin: true };

/** A fresh context, and fresh loaders, for every request. */
export function createContext(deps: ServiceDeps): GraphQLContext {
  return {
    client: deps.client,
    changes: deps.changes,
    loaders: new RequestLoaders(deps.source ?? clientSource(deps.client)),
    linked: new LinkedLoaders(deps.client),
    scopes: FULL_ACCESS,
  };
}
