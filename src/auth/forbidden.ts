import { GraphQLError, type GraphQLResolveInfo } from 'graphql';
import { AuthScopeFailureType, type AuthFailure } from '@pothos/plugin-scope-auth';
import { SCOPE_NAMES, type GrantableScope } from './scopes.ts';

/** The scope flags a failed check asked for (from Pothos scope-auth's failure tree). */
function missingFlags(failure: AuthFailure, out: Set<string>): Set<string> {
  switch (failure.kind) {
    case AuthScopeFailureType.AuthScope:
      out.add(failure.scope);
      break;
    case AuthScopeFailureType.AllAuthScopes:
    case AuthScopeFailureType.AnyAuthScopes:
      for (const f of failure.failures) missingFlags(f, out);
      break;
    default:
      break;
  }
  return out;
}

function describe(flag: string): string {
  if (flag === 'wholeCorp') return 'access to the whole corp (this credential is limited to department subtrees)';
  return flag in SCOPE_NAMES ? `scope ${SCOPE_NAMES[flag as GrantableScope]}` : flag;
}

/**
 * A refused field as the caller sees it: FORBIDDEN, naming the field and what it needs, so the
 * fix (a key with that scope) is obvious. Not masked: it says nothing about the directory.
 */
export function forbiddenError(info: GraphQLResolveInfo, failure: AuthFailure): GraphQLError {
  const needs = [...missingFlags(failure, new Set())].map(describe);
  const field = `${info.parentType.name}.${info.fieldName}`;
  return new GraphQLError(`Forbidden: ${field} needs ${needs.length ? needs.join(' and ') : 'a permission this credential lacks'}`, {
    extensions: {
      code: 'FORBIDDEN',
      ...(needs.length
        ? { needs: [...missingFlags(failure, new Set())].map((f) => (f in SCOPE_NAMES ? SCOPE_NAMES[f as GrantableScope] : f)) }
        : {}),
    },
  });
}
