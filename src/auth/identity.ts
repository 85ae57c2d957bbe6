import { FULL_ACCESS, type Scopes } from './scopes.ts';

/**
 * Who is calling, established before any GraphQL work (src/auth/authenticate.ts) and carried in
 * the request's context. Never holds the credential itself.
 */
export interface Identity {
  /** `api-key:<id>`, `jwt:<sub>` or `anonymous`: the rate limiter's key and the logs' caller. */
  subject: string;
  kind: 'api-key' | 'jwt' | 'anonymous';
  scopes: Scopes;
  /**
   * The department subtrees this caller is limited to (each department and everything below it);
   * undefined for the whole corp. `scopes.wholeCorp` is false exactly when this is set.
   */
  departmentRoots?: readonly number[];
}

/** Anonymous callers where anonymous access is allowed (embedded emulator, or ALLOW_ANONYMOUS=true). */
export const ANONYMOUS_FULL_ACCESS: Identity = { subject: 'anonymous', kind: 'anonymous', scopes: FULL_ACCESS };

/** An identity with the given scope flags and optional department limits (wholeCorp follows from them). */
export function identityOf(
  subject: string,
  kind: Identity['kind'],
  scopes: Omit<Scopes, 'wholeCorp'>,
  departmentRoots?: readonly number[],
): Identity {
  const limited = departmentRoots !== undefined;
  return {
    subject,
    kind,
    scopes: { ...scopes, wholeCorp: !limited },
    ...(limited ? { departmentRoots: [...new Set(departmentRoots)].sort((a, b) => a - b) } : {}),
  };
}
