import { ApiKeyStore } from './api-keys.ts';
import { ANONYMOUS_FULL_ACCESS, identityOf, type Identity } from './identity.ts';
import { JwtRejected, createJwtVerifier, looksLikeJwt, type JwtSettings } from './jwt.ts';
import { scopesOf, type ScopeName } from './scopes.ts';
import type { ApiKeyEntry } from './api-keys.ts';

/**
 * Who is calling: an API key (`X-API-Key: <key>` or `Authorization: Bearer <key>`) or a JWT
 * (`Authorization: Bearer <jwt>`). Runs before any GraphQL work; a request without a credential,
 * where anonymous access is not allowed, or with a credential that does not verify, is answered
 * 401 with a message and a `WWW-Authenticate` challenge (RFC 6750).
 */

export interface AuthSettings {
  apiKeys?: readonly ApiKeyEntry[];
  jwt?: JwtSettings;
  /**
   * Scopes of a request that carries no credential; undefined: such requests are refused (401).
   * A credential that is present but wrong is refused whatever this says.
   */
  anonymousScopes?: readonly ScopeName[];
}

export type AuthOutcome = { ok: true; identity: Identity } | { ok: false; message: string; challenge: string };

export interface Authenticator {
  authenticate(headers: Headers): Promise<AuthOutcome>;
  /** True when requests without a credential are served. */
  readonly anonymousAllowed: boolean;
}

const REALM = 'wecom-directory';

const missing = (message: string): AuthOutcome => ({ ok: false, message, challenge: `Bearer realm="${REALM}"` });
const invalid = (message: string): AuthOutcome => ({
  ok: false,
  message,
  // RFC 6750 §3: error_description is a quoted string of printable ASCII without quotes or backslashes.
  challenge: `Bearer realm="${REALM}", error="invalid_token", error_description="${message.replace(/[^\x20-\x7e]|["\\]/g, '')}"`,
});

/** Every request is served with full access and no credential is read (a library default; main.ts configures real auth). */
export const ANONYMOUS_AUTHENTICATOR: Authenticator = {
  anonymousAllowed: true,
  authenticate: async () => ({ ok: true, identity: ANONYMOUS_FULL_ACCESS }),
};

export function createAuthenticator(settings: AuthSettings): Authenticator {
  const keys = new ApiKeyStore(settings.apiKeys ?? []);
  const jwt = settings.jwt ? createJwtVerifier(settings.jwt) : undefined;
  const anonymous = settings.anonymousScopes ? identityOf('anonymous', 'anonymous', scopesOf(settings.anonymousScopes, true)) : undefined;
  const accepted = [
    keys.size ? 'an API key (X-API-Key: <key>, or Authorization: Bearer <key>)' : '',
    jwt ? 'a JWT (Authorization: Bearer <token>)' : '',
  ]
    .filter(Boolean)
    .join(' or ');

  async function fromBearer(value: string): Promise<AuthOutcome> {
    if (jwt && looksLikeJwt(value)) {
      try {
        return { ok: true, identity: await jwt.verify(value) };
      } catch (err) {
        if (err instanceof JwtRejected) return invalid(`invalid token: ${err.message}`);
        throw err;
      }
    }
    return fromKey(value);
  }

  function fromKey(value: string): AuthOutcome {
    const identity = keys.verify(value);
    return identity ? { ok: true, identity } : invalid('invalid API key');
  }

  return {
    anonymousAllowed: anonymous !== undefined,
    async authenticate(headers) {
      const apiKey = headers.get('x-api-key');
      const authorization = headers.get('authorization');
      if (apiKey !== null && authorization !== null) return invalid('send one credential: X-API-Key or Authorization, not both');
      if (apiKey !== null) return fromKey(apiKey.trim());
      if (authorization !== null) {
        const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
        if (!match) return invalid('Authorization must be "Bearer <API key or JWT>"');
        return fromBearer(match[1]!);
      }
      if (anonymous) return { ok: true, identity: anonymous };
      return missing(`authentication required: send ${accepted || 'a credential'}`);
    },
  };
}
