import { hash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { identityOf, type Identity } from './identity.ts';
import { parseScopeList, scopesOf } from './scopes.ts';
import { INT32_MAX } from 'wecom-protocol/limits';

/**
 * API keys: the service stores only their SHA-256 hashes (API_KEYS_FILE or API_KEYS, JSON:
 * `[{ "id", "hash", "scopes", "departments"? }]`). A presented key is hashed and looked up; the key
 * itself is never stored, logged or echoed. Keys are random (see generateApiKey), so one unsalted
 * SHA-256 is enough: there is no dictionary to attack, unlike passwords.
 */

/** Presented keys longer than this are refused before hashing (a key made here is 47 characters). */
export const API_KEY_MAX_LENGTH = 256;
const HASH = /^(?:sha256:)?([0-9a-f]{64})$/i;
const ID = /^[A-Za-z0-9._:-]{1,64}$/;

const DEPARTMENTS_MESSAGE = 'departments: a list of WeCom department ids (positive integers)';

const entrySchema = z.object({
  id: z.string().regex(ID, 'id: 1–64 letters, digits, . _ : -'),
  hash: z.string().regex(HASH, 'hash: "sha256:" and 64 hex digits (npm run -s api-key -- new)'),
  scopes: z.array(z.string()).min(1, 'scopes: at least one of directory:read, directory:write, directory:pii, directory:admin'),
  departments: z
    .array(
      z.number({ message: DEPARTMENTS_MESSAGE }).int(DEPARTMENTS_MESSAGE).min(1, DEPARTMENTS_MESSAGE).max(INT32_MAX, DEPARTMENTS_MESSAGE),
      { message: DEPARTMENTS_MESSAGE },
    )
    .min(1, 'departments: at least one department (omit it for the whole corp)')
    .optional(),
});

export type ApiKeyEntry = z.infer<typeof entrySchema>;

export class ApiKeyConfigError extends Error {
  override name = 'ApiKeyConfigError';
}

/** `sha256:<hex>` of a key, the form stored in API_KEYS / API_KEYS_FILE. */
export function hashApiKey(key: string): string {
  return `sha256:${hash('sha256', key, 'hex')}`;
}

/** A new random key: 256 bits, base64url, with a prefix that makes a leaked key easy to recognise. */
export function generateApiKey(): string {
  return `wdk_${randomBytes(32).toString('base64url')}`;
}

/**
 * The entries of API_KEYS (`source` "API_KEYS") or API_KEYS_FILE (`source` its path): each must
 * parse, ids must be unique, scopes must be known. Errors name the entry, never a hash.
 */
export function parseApiKeyEntries(json: string, source: string): ApiKeyEntry[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new ApiKeyConfigError(`${source}: not valid JSON (expected [{"id", "hash", "scopes", "departments"?}])`);
  }
  if (!Array.isArray(raw))
    throw new ApiKeyConfigError(`${source}: expected a JSON array of keys [{"id", "hash", "scopes", "departments"?}]`);
  const ids = new Set<string>();
  const hashes = new Set<string>();
  return raw.map((item, i) => {
    const parsed = entrySchema.safeParse(item);
    if (!parsed.success) {
      throw new ApiKeyConfigError(`${source}[${i}]: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`);
    }
    const entry = parsed.data;
    try {
      parseScopeList(entry.scopes, `${source}[${i}] (${entry.id})`);
    } catch (err) {
      throw new ApiKeyConfigError((err as Error).message);
    }
    if (ids.has(entry.id)) throw new ApiKeyConfigError(`${source}[${i}]: id ${entry.id} is used twice`);
    const hex = HASH.exec(entry.hash)![1]!.toLowerCase();
    if (hashes.has(hex)) throw new ApiKeyConfigError(`${source}[${i}] (${entry.id}): the same key hash is listed twice`);
    ids.add(entry.id);
    hashes.add(hex);
    return entry;
  });
}

/** Looks up presented keys by their hash. */
export class ApiKeyStore {
  private readonly byHash = new Map<string, Identity>();

  constructor(entries: readonly ApiKeyEntry[]) {
    for (const e of entries) {
      const hex = HASH.exec(e.hash)![1]!.toLowerCase();
      this.byHash.set(hex, identityOf(`api-key:${e.id}`, 'api-key', scopesOf(e.scopes, true), e.departments));
    }
  }

  get size(): number {
    return this.byHash.size;
  }

  /** The identity of a presented key, or undefined when it is not a configured key. */
  verify(presented: string): Identity | undefined {
    if (presented.length === 0 || presented.length > API_KEY_MAX_LENGTH) return undefined;
    return this.byHash.get(hash('sha256', presented, 'hex'));
  }
}
