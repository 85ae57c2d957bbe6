import { createHash } from 'node:crypto';
import type { ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { useResponseCache, type Cache } from '@graphql-yoga/plugin-response-cache';
import { LRUCache } from 'lru-cache';
import type { DirectoryCache } from './directory-cache.ts';
import type { Identity } from '../auth/identity.ts';
import { requestIdentity } from '../security/request-guard.ts';

export interface ResponseCacheOptions {
  /** The directory cache the answers were computed from: its generation and clock decide their life. */
  directory: Pick<DirectoryCache, 'generation' | 'clock' | 'ttlMs'>;
  maxEntries: number;
}

interface Stored {
  result: ExecutionResult;
  generation: number;
  expiresAt: number;
}

/** Fields whose answers change without a directory change: never served from this cache. */
const UNCACHED_FIELDS = ['Query.directoryChanges', 'Query.importJob', 'Query.exportJob', 'Query.activeUserCount', 'Query.joinQrCode'];

/**
 * Callers who may see exactly the same things share responses: the key is what the identity
 * allows (scopes and department subtrees), never who it is.
 */
export function viewKey(identity: Identity): string {
  const s = identity.scopes;
  return `${s.read ? 'r' : ''}${s.pii ? 'p' : ''}${s.admin ? 'a' : ''}${s.write ? 'w' : ''}:${identity.departmentRoots?.join(',') ?? '*'}`;
}

/**
 * Whole query responses, kept while the directory cache they came from is unchanged: a repeated
 * org-tree or people-picker query is answered without executing the graph again. Any invalidation
 * of the directory cache (a mutation, a WeCom callback, an import, a reload) retires every answer,
 * and an answer lives at most one directory-cache TTL, so it never serves what the directory
 * cache would not. Queries only; errors are never cached.
 */
export function responseCachePlugin(options: ResponseCacheOptions): Plugin {
  const { directory } = options;
  const store = new LRUCache<string, Stored>({ max: options.maxEntries });
  const cache: Cache = {
    set: (key, result, _entities, ttl) => {
      store.set(key, { result, generation: directory.generation, expiresAt: directory.clock() + Math.min(ttl, directory.ttlMs) });
    },
    get: (key) => {
      const stored = store.get(key);
      if (!stored) return undefined;
      if (stored.generation !== directory.generation || directory.clock() > stored.expiresAt) {
        store.delete(key);
        return undefined;
      }
      return stored.result;
    },
    invalidate: () => store.clear(),
  };
  return useResponseCache({
    cache,
    ttl: directory.ttlMs,
    session: (request) => viewKey(requestIdentity(request)),
    // The key is also the response's ETag header, so it must be header-safe: a synchronous SHA-1
    // of the parts (the default hashes through WebCrypto, one more await on every request).
    buildResponseCacheKey: ({ sessionId, documentString, operationName, variableValues }) =>
      createHash('sha1')
        .update(`${sessionId ?? ''}\n${operationName ?? ''}\n${JSON.stringify(variableValues ?? {})}\n${documentString}`)
        .digest('hex'),
    ttlPerSchemaCoordinate: Object.fromEntries(UNCACHED_FIELDS.map((f) => [f, 0])),
    // true: a mutation is never answered from (or stored in) the cache; every write reaches WeCom.
    // (false would cache a mutation's result like a query's and replay it for an identical mutation.)
    invalidateViaMutation: true,
    includeExtensionMetadata: false,
  });
}
