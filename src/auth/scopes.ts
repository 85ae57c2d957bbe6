/**
 * What a caller may do. Callers name scopes as strings (`directory:read` …, in API key entries and
 * in a JWT's `scope` claim); the schema checks them as booleans (Pothos scope-auth, builder.ts).
 * The scopes are independent: a key lists every scope it needs (an import needs write and admin).
 */
export interface Scopes {
  /** `directory:read`: every query and subscription. */
  read: boolean;
  /** `directory:write`: every mutation. */
  write: boolean;
  /** `directory:pii`: phone numbers, emails, addresses, avatars, QR codes (null without it). */
  pii: boolean;
  /** `directory:admin`: imports, exports, invitations, the join QR code, job status. */
  admin: boolean;
  /**
   * Not a scope a caller is granted: true unless the credential is limited to department subtrees.
   * Corp-wide operations (imports, exports, tag writes, activity statistics) need it.
   */
  wholeCorp: boolean;
}

/** The scope names callers use, per flag. */
export const SCOPE_NAMES = {
  read: 'directory:read',
  write: 'directory:write',
  pii: 'directory:pii',
  admin: 'directory:admin',
} as const;

export type GrantableScope = keyof typeof SCOPE_NAMES;
export type ScopeName = (typeof SCOPE_NAMES)[GrantableScope];

export const ALL_SCOPE_NAMES: readonly ScopeName[] = Object.values(SCOPE_NAMES);

const FLAG_OF_NAME = new Map<string, GrantableScope>(Object.entries(SCOPE_NAMES).map(([flag, name]) => [name, flag as GrantableScope]));

export function isScopeName(name: string): name is ScopeName {
  return FLAG_OF_NAME.has(name);
}

/** The flags for a list of scope names (unknown names are the caller's problem: see parseScopeList). */
export function scopesOf(names: Iterable<string>, wholeCorp: boolean): Scopes {
  const scopes: Scopes = { read: false, write: false, pii: false, admin: false, wholeCorp };
  for (const name of names) {
    const flag = FLAG_OF_NAME.get(name);
    if (flag) scopes[flag] = true;
  }
  return scopes;
}

/** The names of the scopes a set of flags grants (for logs and error messages). */
export function scopeNamesOf(scopes: Scopes): ScopeName[] {
  return (Object.keys(SCOPE_NAMES) as GrantableScope[]).filter((flag) => scopes[flag]).map((flag) => SCOPE_NAMES[flag]);
}

/** A configured scope list: known names only, so a typo fails at start-up instead of denying silently. */
export function parseScopeList(names: readonly string[], where: string): ScopeName[] {
  const unknown = names.filter((n) => !isScopeName(n));
  if (unknown.length) {
    throw new Error(`${where}: unknown scope ${unknown.map((n) => JSON.stringify(n)).join(', ')} (known: ${ALL_SCOPE_NAMES.join(', ')})`);
  }
  return names as ScopeName[];
}

export const FULL_ACCESS: Scopes = { read: true, write: true, pii: true, admin: true, wholeCorp: true };
