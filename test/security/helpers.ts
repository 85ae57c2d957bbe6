import { hashApiKey, type ApiKeyEntry } from '../../src/auth/api-keys.ts';
import { createAuthenticator, type AuthSettings } from '../../src/auth/authenticate.ts';
import type { ScopeName } from '../../src/auth/scopes.ts';
import type { ServiceHarness } from '../helpers/service.ts';

/** WeCom endpoints that change something (or spend an upload): none may be called by a refused request. */
const WRITE_PATH =
  /\/(create|update|delete|batchdelete|addtagusers|deltagusers|authsucc|invite|syncuser|replaceuser|replaceparty|upload|simple_user|export\/user|export\/department|export\/taguser|convert_to_openid)$/;

/** Upstream calls to write endpoints since the emulator's counters were last reset. */
export async function writeCalls(service: ServiceHarness): Promise<Record<string, number>> {
  const calls = await service.calls();
  return Object.fromEntries(Object.entries(calls).filter(([path]) => WRITE_PATH.test(path)));
}

/** A key of the test: the raw key a caller sends, and its entry as API_KEYS_FILE holds it. */
export interface TestKey {
  key: string;
  entry: ApiKeyEntry;
}

export function testKey(id: string, scopes: ScopeName[], departments?: number[]): TestKey {
  const key = `test-key-${id}-0123456789abcdef`;
  return { key, entry: { id, hash: hashApiKey(key), scopes, ...(departments ? { departments } : {}) } };
}

export const ALL: ScopeName[] = ['directory:read', 'directory:write', 'directory:pii', 'directory:admin'];

/** Security settings with only these keys (no anonymous access). */
export function keysOnly(keys: TestKey[], extra: Omit<AuthSettings, 'apiKeys'> = {}) {
  return { auth: createAuthenticator({ apiKeys: keys.map((k) => k.entry), ...extra }) };
}

export const withKey = (k: TestKey) => ({ 'x-api-key': k.key });

/** A response body as parsed JSON. */
// biome-ignore lint/suspicious/noExplicitAny: each test asserts the shape of the response it expects, field by field.
export type Body = any;

export async function jsonOf(res: Response): Promise<Body> {
  return res.json();
}

/** POSTs a GraphQL request in-process and gives the status, headers and parsed body. */
export async function post(
  service: ServiceHarness,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: Body }> {
  const res = await service.app.yoga.fetch('http://yoga/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: res.status, headers: res.headers, body: parsed };
}
