import { createHash } from 'node:crypto';
import { getOperationAST, Kind, OperationTypeNode, type DocumentNode, type ExecutionResult, type SelectionSetNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import type { DirectoryCache } from './directory-cache.ts';
import type { Identity } from '../auth/identity.ts';
import { requestIdentity } from '../security/request-guard.ts';

export interface ResponseCacheOptions {
  /** The directory cache the answers were computed from: its generation and clock decide their life. */
  directory: Pick<DirectoryCache, 'generation' | 'clock' | 'ttlMs'>;
  /** Serialized answer bytes kept in all (least recently used answers go first). */
  maxBytes: number;
  /** Larger answers are not kept: one huge tree must not push out every other caller's answers. */
  maxEntryBytes: number;
}

export const DEFAULT_RESPONSE_CACHE_BYTES = 64 * 1024 * 1024;

/** The budget, and the largest answer kept: an eighth of it, at most 8 MB (one answer must not empty the cache). */
export function responseCacheLimits(maxBytes: number): { maxBytes: number; maxEntryBytes: number } {
  return { maxBytes, maxEntryBytes: Math.min(8 * 1024 * 1024, Math.floor(maxBytes / 8)) };
}

/** What an entry costs beside its bytes (key, ETag, bookkeeping), counted against maxBytes. */
const ENTRY_OVERHEAD = 256;

/** Marks an answer served from this cache (read by the metrics plugin, src/ops/metrics.ts). */
export const SERVED_FROM_RESPONSE_CACHE = Symbol.for('servedFromResponseCache');

interface Stored {
  /**
   * The answer as sent, `{"data":…}` encoded once as UTF-8: a hit writes these bytes to the socket
   * as they are (no re-encoding of a big tree per hit), and they live outside the JS heap, a
   * third of the size of the result objects or of a UTF-16 string of Han names.
   */
  bytes: Buffer;
  etag: string;
  /** The directory generation when execution began: a change during execution retires the answer. */
  generation: number;
  expiresAt: number;
}

/**
 * Yoga sends what `stringify` returns as the response body: a Buffer is written to the socket as
 * is (Response's buffer path), and the SSE and multipart processors interpolate it into text,
 * which decodes it as UTF-8. Typed as the string Yoga declares; nothing else reads it.
 */
function asBody(bytes: Buffer): string {
  return bytes as unknown as string;
}

/** A result as Yoga serializes it: with the `stringify` an earlier plugin may have set. */
type Serialized = ExecutionResult & { stringify?: (result: ExecutionResult) => string };

/** A kept `{"data":…}` answer with the extensions a later plugin added for this request (e.g. extensions.caller). */
function withExtensions(bytes: Buffer, extensions: ExecutionResult['extensions']): string {
  if (!extensions) return asBody(bytes);
  return asBody(Buffer.concat([bytes.subarray(0, bytes.length - 1), Buffer.from(`,"extensions":${JSON.stringify(extensions)}}`)]));
}

/** Root fields whose answers change without a directory change: a query selecting one is never kept. */
const UNCACHED_ROOT_FIELDS = new Set(['directoryChanges', 'importJob', 'exportJob', 'activeUserCount', 'joinQrCode']);

/**
 * Callers who may see exactly the same things share responses: the key is what the identity
 * allows (scopes and department subtrees), never who it is.
 */
export function viewKey(identity: Identity): string {
  const s = identity.scopes;
  return `${s.read ? 'r' : ''}${s.pii ? 'p' : ''}${s.admin ? 'a' : ''}${s.write ? 'w' : ''}:${identity.departmentRoots?.join(',') ?? '*'}`;
}

/** Whether an operation's answer may be kept: a query (never a mutation or subscription) without uncached root fields. */
function cacheableOperation(document: DocumentNode, operationName: string | null | undefined): boolean {
  const operation = getOperationAST(document, operationName);
  if (!operation || operation.operation !== OperationTypeNode.QUERY) return false;
  const fragments = new Map(
    document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d.selectionSet] as const] : [])),
  );
  const seen = new Set<string>();
  const selectsUncached = (set: SelectionSetNode): boolean =>
    set.selections.some((selection) => {
      if (selection.kind === Kind.FIELD) return UNCACHED_ROOT_FIELDS.has(selection.name.value);
      if (selection.kind === Kind.INLINE_FRAGMENT) return selectsUncached(selection.selectionSet);
      const name = selection.name.value;
      if (seen.has(name)) return false;
      seen.add(name);
      const fragment = fragments.get(name);
      return fragment ? selectsUncached(fragment) : false;
    });
  return !selectsUncached(operation.selectionSet);
}

/**
 * Whole query answers, kept while the directory cache they came from is unchanged: a repeated
 * org-tree or people-picker query is answered before it is parsed, from its serialized body.
 * Any invalidation of the directory cache (a mutation, a WeCom callback, an import, a reload)
 * retires every answer, and an answer lives at most one directory-cache TTL, so it never serves
 * what the directory cache would not. Queries only, answers with errors never: a mutation or a
 * subscription always executes.
 *
 * Keyed by the caller's view, the query text, the operation name and the variables; its ETag is a
 * hash of that key, so `If-None-Match` answers 304 only for an answer of the caller's own view.
 * Unlike envelop's response-cache plugin it does no entity bookkeeping (no document rewriting to
 * add `__typename`/`id`, no walk of the result): answers are retired by generation, not by entity.
 */
/** What the response cache holds (graphql_response_cache_* in /metrics). */
export interface ResponseCacheStats {
  entries: number;
  /** Answer bytes kept, outside the JS heap: part of the process's RSS (at most `maxBytes`). */
  bytes: number;
}

export function useResponseCache(options: ResponseCacheOptions): Plugin & { stats(): ResponseCacheStats } {
  const { directory } = options;
  const store = new LRUCache<string, Stored>({
    maxSize: options.maxBytes,
    maxEntrySize: options.maxEntryBytes,
    sizeCalculation: (entry) => entry.bytes.length + ENTRY_OVERHEAD,
  });
  const cacheable = new WeakMap<DocumentNode, boolean>();
  /** A request's key while it executes (set when it missed). */
  const keyOfRequest = new WeakMap<Request, string>();
  /** The ETag to send with a request's answer (a hit, or a miss that was kept). */
  const etagOfRequest = new WeakMap<Request, string>();
  const notModified = new WeakSet<Request>();

  const fresh = (key: string): Stored | undefined => {
    const stored = store.get(key);
    if (!stored) return undefined;
    if (stored.generation !== directory.generation || directory.clock() > stored.expiresAt) {
      store.delete(key);
      return undefined;
    }
    return stored;
  };

  return {
    stats: () => ({ entries: store.size, bytes: store.calculatedSize - ENTRY_OVERHEAD * store.size }),
    // After the security plugins' onParams (persisted operations, query length): the caller is known and allowed.
    onParams({ params, request, setResult }) {
      if (typeof params.query !== 'string') return;
      const key = `${viewKey(requestIdentity(request))}\n${params.operationName ?? ''}\n${JSON.stringify(params.variables ?? {})}\n${params.query}`;
      const stored = fresh(key);
      if (!stored) {
        keyOfRequest.set(request, key);
        return;
      }
      etagOfRequest.set(request, stored.etag);
      if (request.headers.get('if-none-match') === stored.etag) notModified.add(request);
      setResult({
        stringify: (sent: ExecutionResult) => withExtensions(stored.bytes, sent.extensions),
        [SERVED_FROM_RESPONSE_CACHE]: true,
      } as ExecutionResult);
    },
    onExecute({ args }) {
      const request = (args.contextValue as { request?: Request }).request;
      const key = request && keyOfRequest.get(request);
      if (!request || key === undefined) return;
      let keep = cacheable.get(args.document);
      if (keep === undefined) {
        keep = cacheableOperation(args.document, args.operationName);
        cacheable.set(args.document, keep);
      }
      if (!keep) return;
      const generation = directory.generation;
      const expiresAt = directory.clock() + directory.ttlMs;
      return {
        onExecuteDone({ result, setResult }) {
          // Answers with extensions are not kept: a hit adds a later plugin's extensions to `{"data":…}` (withExtensions).
          if (Symbol.asyncIterator in result || result.errors?.length || result.extensions) return;
          // Kept when Yoga serializes it: the body is computed once, for this answer and every hit.
          const etag = createHash('sha1').update(key).digest('hex');
          etagOfRequest.set(request, etag);
          setResult({
            ...result,
            stringify: (sent: ExecutionResult) => {
              // What is kept is the answer as executed, without what later plugins added for this request.
              // An earlier plugin may have serialized the answer already (execution-limits.ts measures it).
              const serialized = (result as Serialized).stringify;
              const bytes = Buffer.from(serialized ? serialized(result) : JSON.stringify(result));
              if (generation === directory.generation) store.set(key, { bytes, etag, generation, expiresAt });
              return sent.data === result.data && sent.extensions === result.extensions ? asBody(bytes) : JSON.stringify(sent);
            },
          } as ExecutionResult);
        },
      };
    },
    onResultProcess({ request, setResultProcessor }) {
      if (!notModified.has(request)) return;
      const etag = etagOfRequest.get(request)!;
      setResultProcessor((_result, fetchAPI) => new fetchAPI.Response(null, { status: 304, headers: { etag } }), 'application/json');
    },
    onResponse({ request, response }) {
      const etag = etagOfRequest.get(request);
      if (etag && response.status === 200) response.headers.set('etag', etag);
    },
  };
}
