import { GraphQLError, Kind, getOperationAST, type ExecutionArgs } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { Identity } from '../auth/identity.ts';
import type { Authenticator } from '../auth/authenticate.ts';
import { localCallerBudgets, type CallerBudgets, type RateLimitSettings } from './rate-limit.ts';
import { MULTIPART_OVERHEAD_BYTES, type HttpLimits } from './settings.ts';

/**
 * What happens to a request before any GraphQL work: its declared size is checked (413), the
 * caller is authenticated (401 + WWW-Authenticate), and the caller's request budget is charged
 * (429 + Retry-After). After parsing, uploaded files are counted and measured, and before a
 * mutation runs its fields are charged to the caller's mutation budget. All of it happens before
 * any upstream call. The identity is kept for the request's context (requestIdentity).
 */

const identities = new WeakMap<Request, Identity>();

/** A caller that may do nothing: what a request that somehow skipped authentication gets. */
const NO_ACCESS: Identity = {
  subject: 'unauthenticated',
  kind: 'anonymous',
  scopes: { read: false, write: false, pii: false, admin: false, wholeCorp: false },
};

/** Whose budgets a request is charged to (set once it is authenticated). */
const callerKeys = new WeakMap<Request, string>();

/** The key of the caller of a request: its credential's subject, or `anonymous:<address>`. */
export function requestCaller(request: Request | undefined): string {
  if (!request) return budgetKey(NO_ACCESS, undefined);
  return callerKeys.get(request) ?? budgetKey(requestIdentity(request), undefined);
}

/** The identity established for a request (for createContext). */
export function requestIdentity(request: Request): Identity {
  return identities.get(request) ?? NO_ACCESS;
}

function jsonError(status: number, code: string, message: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ errors: [{ message, extensions: { code } }] }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}

/** The peer address of a request served by node:http (for anonymous callers' budgets); undefined in-process. */
function peerOf(serverContext: unknown): string | undefined {
  const req = (serverContext as { req?: { socket?: { remoteAddress?: string } } } | undefined)?.req;
  return req?.socket?.remoteAddress;
}

/** Whose budget a request is charged to: the credential's subject, or an anonymous caller's address. */
function budgetKey(identity: Identity, serverContext: unknown): string {
  return identity.kind === 'anonymous' ? `anonymous:${peerOf(serverContext) ?? 'in-process'}` : identity.subject;
}

export interface RequestGuardOptions {
  auth: Authenticator;
  http: HttpLimits;
  rateLimit: RateLimitSettings | false;
  /** Where the budgets are kept (per instance unless given). */
  callerBudgets?: CallerBudgets | undefined;
  logger: Logger;
  /** GraphiQL's page is served without a credential (its own requests then carry the headers the user sets). */
  graphiql: boolean;
}

/**
 * Two plugins sharing the caller's budgets: `request` goes first among the service's plugins,
 * `mutations` last (a mutation refused by a query limit is not charged).
 */
export function requestGuard(options: RequestGuardOptions): { request: Plugin; mutations: Plugin } {
  const { auth, http, rateLimit, logger } = options;
  const budgets = options.callerBudgets ?? localCallerBudgets;
  const requests = rateLimit ? budgets('requests', rateLimit.requestsPerMinute, rateLimit.requestBurst) : undefined;
  const mutations = rateLimit ? budgets('mutations', rateLimit.mutationsPerMinute, rateLimit.mutationBurst) : undefined;
  const budgetKeys = new WeakMap<object, string>();

  const request: Plugin = {
    async onRequest({ request, endResponse, serverContext }) {
      // CORS preflights carry no credential by design; Yoga answers them.
      if (request.method === 'OPTIONS') return;
      if (options.graphiql && request.method === 'GET' && (request.headers.get('accept') ?? '').includes('text/html')) return;

      const contentType = request.headers.get('content-type') ?? '';
      const multipart = contentType.toLowerCase().startsWith('multipart/form-data');
      const maxBytes = multipart ? http.maxFileBytes * http.maxFiles + MULTIPART_OVERHEAD_BYTES : http.maxBodyBytes;
      const declared = Number(request.headers.get('content-length') ?? NaN);
      if (Number.isFinite(declared) && declared > maxBytes) {
        return endResponse(
          jsonError(
            413,
            'REQUEST_TOO_LARGE',
            `The request body has ${declared} bytes; at most ${maxBytes} are accepted${multipart ? ` (files up to ${http.maxFileBytes} bytes)` : ''}`,
          ),
        );
      }

      const outcome = await auth.authenticate(request.headers);
      if (!outcome.ok) {
        // Failed attempts are charged to the address too: guessing keys costs the budget of a caller.
        const peer = peerOf(serverContext) ?? 'in-process';
        const wait = (await requests?.take(`unauthenticated:${peer}`)) ?? 0;
        if (wait > 0) {
          return endResponse(
            jsonError(429, 'RATE_LIMITED', `Too many requests from this address; retry in ${wait} s`, { 'retry-after': String(wait) }),
          );
        }
        logger.info({ peer, reason: outcome.message }, 'request refused: not authenticated');
        return endResponse(jsonError(401, 'UNAUTHENTICATED', outcome.message, { 'www-authenticate': outcome.challenge }));
      }
      const identity = outcome.identity;
      identities.set(request, identity);

      const key = budgetKey(identity, serverContext);
      callerKeys.set(request, key);
      const wait = (await requests?.take(key)) ?? 0;
      if (wait > 0) {
        logger.warn({ caller: key, retryAfterSeconds: wait }, 'request refused: rate limit');
        return endResponse(
          jsonError(429, 'RATE_LIMITED', `Too many requests from this caller; retry in ${wait} s`, { 'retry-after': String(wait) }),
        );
      }
      budgetKeys.set(request, key);
    },

    onParams({ params }) {
      // Uploaded files (GraphQL multipart request): how many (Yoga has parsed them into the variables).
      const files: { size: number }[] = [];
      collectFiles(params.variables, files, 0);
      if (files.length > http.maxFiles) {
        throw new GraphQLError(`The request uploads ${files.length} files; at most ${http.maxFiles} is accepted`, {
          extensions: { code: 'TOO_MANY_FILES', limit: http.maxFiles, http: { status: 400 } },
        });
      }
      // A file's size is the import's to check (a typed ValidationError, before it is read); the
      // body limit above (one file of maxFileBytes plus the multipart overhead) bounds what is received.
    },
  };

  const mutationBudget: Plugin = {
    async onExecute({ args, setResultAndStopExecution }) {
      if (!mutations) return;
      const count = mutationFields(args);
      if (count === 0) return;
      const request = (args.contextValue as { request?: Request }).request;
      const key = (request && budgetKeys.get(request)) ?? budgetKey(request ? requestIdentity(request) : NO_ACCESS, undefined);
      const wait = await mutations.take(key, count);
      if (wait === 0) return;
      if (!Number.isFinite(wait)) {
        // More mutation fields than the whole budget: waiting would not help.
        setResultAndStopExecution({
          errors: [
            new GraphQLError(
              `One request may run at most ${rateLimit ? rateLimit.mutationBurst : 0} mutation fields (this one has ${count})`,
              {
                extensions: { code: 'TOO_MANY_MUTATIONS', limit: rateLimit ? rateLimit.mutationBurst : 0, http: { status: 400 } },
              },
            ),
          ],
        });
        return;
      }
      logger.warn({ caller: key, mutations: count, retryAfterSeconds: wait }, 'mutation refused: rate limit');
      setResultAndStopExecution({
        errors: [
          new GraphQLError(`Too many mutations from this caller; retry in ${wait} s`, {
            extensions: { code: 'RATE_LIMITED', retryAfterSeconds: wait, http: { status: 429, headers: { 'retry-after': String(wait) } } },
          }),
        ],
      });
    },
  };
  return { request, mutations: mutationBudget };
}

/** Root fields of the operation about to run when it is a mutation (aliases count each). */
function mutationFields(args: ExecutionArgs): number {
  const operation = getOperationAST(args.document, args.operationName ?? undefined);
  if (operation?.operation !== 'mutation') return 0;
  let count = 0;
  const fragments = new Map(
    args.document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])),
  );
  const seen = new Set<string>();
  const countIn = (selections: typeof operation.selectionSet.selections): void => {
    for (const s of selections) {
      if (s.kind === Kind.FIELD) count += s.name.value === '__typename' ? 0 : 1;
      else if (s.kind === Kind.INLINE_FRAGMENT) countIn(s.selectionSet.selections);
      else if (!seen.has(s.name.value)) {
        seen.add(s.name.value);
        const fragment = fragments.get(s.name.value);
        if (fragment) countIn(fragment.selectionSet.selections);
      }
    }
  };
  countIn(operation.selectionSet.selections);
  return count;
}

/** Blobs (Yoga's uploaded files) anywhere in the variables. */
function collectFiles(value: unknown, out: { size: number }[], depth: number): void {
  if (value === null || typeof value !== 'object' || depth > 64) return;
  if (typeof Blob !== 'undefined' && value instanceof Blob) {
    out.push(value);
    return;
  }
  if (isFileLike(value)) {
    out.push(value);
    return;
  }
  for (const v of Array.isArray(value) ? value : Object.values(value)) collectFiles(v, out, depth + 1);
}

function isFileLike(value: object): value is { size: number } {
  const v = value as { size?: unknown; arrayBuffer?: unknown; name?: unknown };
  return typeof v.size === 'number' && typeof v.arrayBuffer === 'function' && typeof v.name === 'string';
}
