import { readFileSync } from 'node:fs';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import type { GraphQLParams, Plugin } from 'graphql-yoga';

/**
 * Persisted operations: with PERSISTED_OPERATIONS_ONLY=true the service runs only the operations
 * of examples/, by the hash `npm run codegen` gives each (examples/generated/persisted-documents.json,
 * sha256 of the operation). A client sends `{"documentId": "<hash>", "variables": …}` (the
 * client preset's documents carry the hash) or Apollo's `extensions.persistedQuery.sha256Hash`.
 * Any request with a query text, or an unknown hash, is refused before parsing.
 */

export const DEFAULT_PERSISTED_OPERATIONS_FILE = 'examples/generated/persisted-documents.json';

export class PersistedOperationsError extends Error {
  override name = 'PersistedOperationsError';
}

/** The store: hash → operation text. */
export function loadPersistedOperations(path: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new PersistedOperationsError(
      `${path}: cannot read the persisted operations (run \`npm run codegen\` to generate them from examples/)`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new PersistedOperationsError(`${path}: not valid JSON`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw new PersistedOperationsError(`${path}: expected an object of hash → operation`);
  const store = new Map<string, string>();
  for (const [hash, document] of Object.entries(raw)) {
    if (!/^[0-9a-f]{64}$/.test(hash) || typeof document !== 'string')
      throw new PersistedOperationsError(`${path}: entry ${hash.slice(0, 16)} is not a sha256 hash with an operation`);
    store.set(hash, document);
  }
  if (store.size === 0) throw new PersistedOperationsError(`${path}: holds no operation`);
  return store;
}

function operationId(params: GraphQLParams): string | null {
  const documentId = (params as GraphQLParams & { documentId?: unknown }).documentId;
  if (typeof documentId === 'string') return documentId;
  const persisted = (params.extensions as { persistedQuery?: { version?: unknown; sha256Hash?: unknown } } | undefined)?.persistedQuery;
  return persisted?.version === 1 && typeof persisted.sha256Hash === 'string' ? persisted.sha256Hash : null;
}

const refusal = (message: string, code: string) => ({ message, extensions: { code, http: { status: 400 } } });

export function usePersistedOperationsOnly(store: ReadonlyMap<string, string>): Plugin {
  return usePersistedOperations({
    getPersistedOperation: (key) => store.get(key) ?? null,
    extractPersistedOperationId: operationId,
    allowArbitraryOperations: false,
    customErrors: {
      persistedQueryOnly: refusal(
        'Only persisted operations are accepted: send documentId (the hash of an operation of examples/) instead of a query',
        'PERSISTED_QUERY_ONLY',
      ),
      keyNotFound: refusal('Send documentId, the hash of a persisted operation', 'PERSISTED_QUERY_ID_REQUIRED'),
      notFound: refusal('No persisted operation has this documentId', 'PERSISTED_QUERY_NOT_FOUND'),
    },
  }) as Plugin;
}
