import type { ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { SCOPE_NAMES, type GrantableScope } from '../auth/scopes.ts';
import { requestIdentity } from '../security/request-guard.ts';

/** The request header that asks for `extensions.caller` (the explorer sends it). */
export const CALLER_HEADER = 'x-include-caller';

/** What `extensions.caller` holds: the caller's own access, never its credential. */
export interface CallerExtension {
  kind: 'api-key' | 'jwt' | 'anonymous';
  scopes: string[];
  /** The department subtrees the caller is limited to; absent for the whole corp. */
  departments?: number[];
}

/**
 * Adds the caller's scopes to a query's answer when asked (header `x-include-caller: 1`). A field
 * without `directory:pii` resolves to null exactly like a field that is empty in WeCom; the
 * explorer shows the first as "hidden" and the second as empty, so it must know which applies.
 * Only on request: other clients' answers stay as they were (and their cached copies too).
 */
export function useCallerExtension(): Plugin {
  return {
    onResultProcess({ request, result, setResult }) {
      if (request.headers.get(CALLER_HEADER) !== '1') return;
      // Only single answers: a subscription's events and batches carry none.
      if (Array.isArray(result) || Symbol.asyncIterator in (result as object)) return;
      const identity = requestIdentity(request);
      const caller: CallerExtension = {
        kind: identity.kind,
        scopes: (Object.keys(SCOPE_NAMES) as GrantableScope[]).filter((flag) => identity.scopes[flag]).map((flag) => SCOPE_NAMES[flag]),
        ...(identity.departmentRoots ? { departments: [...identity.departmentRoots] } : {}),
      };
      const single = result as ExecutionResult;
      setResult({ ...single, extensions: { ...single.extensions, caller } });
    },
  };
}
