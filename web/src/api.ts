import type { TypedDocumentString } from './generated/graphql.ts';

/** Where the caller's API key is kept: this tab's session only, never localStorage or a cookie. */
const KEY_STORAGE = 'wecom-explorer.api-key';

export function storedApiKey(): string {
  return sessionStorage.getItem(KEY_STORAGE) ?? '';
}

export function storeApiKey(key: string): void {
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
}

/** What the service says about the caller (`extensions.caller`, src/web/caller-extension.ts). */
export interface Caller {
  kind: string;
  scopes: string[];
  departments?: number[];
}

interface GraphQLErrorShape {
  message: string;
  extensions?: { code?: string; needs?: string[] };
}

/**
 * A request the service refused: no or a wrong credential (401), a missing scope (403,
 * FORBIDDEN), too many requests (429), or a GraphQL error. `code` is the service's error code.
 */
export class RequestRefused extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
  ) {
    super(message);
  }

  /** A refusal about the caller's access (as opposed to the directory or WeCom failing). */
  get accessDenied(): boolean {
    return this.status === 401 || this.status === 403 || this.code === 'FORBIDDEN' || this.code === 'UNAUTHENTICATED';
  }
}

/** Headers of every request: the key (when given), the CSRF header, and the ask for `extensions.caller`. */
export function requestHeaders(accept: string): Record<string, string> {
  const key = storedApiKey();
  return {
    'content-type': 'application/json',
    accept,
    // The service's CSRF check wants one of its preflight headers (src/security/plugins.ts).
    'x-graphql-yoga-csrf': 'explorer',
    'x-include-caller': '1',
    ...(key ? { 'x-api-key': key } : {}),
  };
}

function refusalOf(status: number, errors: GraphQLErrorShape[] | undefined, fallback: string): RequestRefused {
  const first = errors?.[0];
  return new RequestRefused(first?.message ?? fallback, first?.extensions?.code ?? `HTTP_${status}`, status);
}

let onCaller: (caller: Caller) => void = () => {};

/** Called with the caller's access from each answer. */
export function watchCaller(listener: (caller: Caller) => void): void {
  onCaller = listener;
}

/** Runs a typed query; rejects with RequestRefused when the service refuses it or answers an error. */
export async function query<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
  signal?: AbortSignal,
): Promise<TResult> {
  const res = await fetch('/graphql', {
    method: 'POST',
    headers: requestHeaders('application/graphql-response+json, application/json'),
    body: JSON.stringify({ query: document.toString(), variables }),
    ...(signal ? { signal } : {}),
  });
  let body: { data?: TResult | null; errors?: GraphQLErrorShape[]; extensions?: { caller?: Caller } };
  try {
    body = await res.json();
  } catch {
    throw new RequestRefused(`The service answered ${res.status} ${res.statusText}`, `HTTP_${res.status}`, res.status);
  }
  if (body.extensions?.caller) onCaller(body.extensions.caller);
  if (!res.ok || body.errors?.length || !body.data) throw refusalOf(res.status, body.errors, `The service answered ${res.status}`);
  return body.data;
}
