import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { identityOf, type Identity } from './identity.ts';
import { scopesOf } from './scopes.ts';
import { INT32_MAX } from 'wecom-protocol/limits';

/**
 * JSON Web Tokens from an identity provider: HS256 with a shared secret (JWT_HS256_SECRET), or
 * asymmetric signatures checked against a JWKS URL (JWT_JWKS_URL), or both (the token's `alg`
 * picks). `iss` and `aud` must match JWT_ISSUER and JWT_AUDIENCE, `exp` and `sub` are required.
 *
 * Claims read:
 * - `sub`: the caller (`jwt:<sub>` in logs and rate limits);
 * - `scope` (space-separated, RFC 8693) or `scp` (an array): scopes; names other than
 *   directory:* are ignored, since a token may carry other services' scopes;
 * - `departments` (optional): WeCom department ids the caller is limited to, with their subtrees.
 */

export interface JwtSettings {
  hs256Secret?: string;
  jwksUrl?: string;
  issuer: string;
  audience: string;
  /** Allowed clock difference for exp/nbf/iat (seconds). */
  clockToleranceSeconds?: number;
}

/** Tokens longer than this are refused unread. */
export const JWT_MAX_LENGTH = 8192;
/** A JWKS fetch that takes longer fails the request (401) instead of holding it. */
const JWKS_TIMEOUT_MS = 5_000;
/** Asymmetric algorithms accepted from a JWKS; HS256 only with the shared secret (no alg confusion). */
const JWKS_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'];

/** Why a token was refused, in words fit for a 401 (never the token, never the key). */
export class JwtRejected extends Error {
  override name = 'JwtRejected';
}

/** A token has three base64url parts; anything else is not a JWT. */
export function looksLikeJwt(value: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(value);
}

export interface JwtVerifier {
  verify(token: string): Promise<Identity>;
}

export function createJwtVerifier(settings: JwtSettings): JwtVerifier {
  const secret = settings.hs256Secret ? new TextEncoder().encode(settings.hs256Secret) : undefined;
  const jwks: JWTVerifyGetKey | undefined = settings.jwksUrl
    ? createRemoteJWKSet(new URL(settings.jwksUrl), { timeoutDuration: JWKS_TIMEOUT_MS })
    : undefined;
  const common = {
    issuer: settings.issuer,
    audience: settings.audience,
    requiredClaims: ['exp', 'sub'],
    clockTolerance: settings.clockToleranceSeconds ?? 30,
  };

  return {
    async verify(token) {
      if (token.length > JWT_MAX_LENGTH) throw new JwtRejected(`token longer than ${JWT_MAX_LENGTH} characters`);
      let payload: JWTPayload;
      try {
        const alg = headerAlg(token);
        if (alg === 'HS256') {
          if (!secret) throw new JwtRejected('HS256 tokens are not accepted (no JWT_HS256_SECRET)');
          ({ payload } = await jwtVerify(token, secret, { ...common, algorithms: ['HS256'] }));
        } else {
          if (!jwks) throw new JwtRejected(`${alg} tokens are not accepted (no JWT_JWKS_URL)`);
          ({ payload } = await jwtVerify(token, jwks, { ...common, algorithms: JWKS_ALGORITHMS }));
        }
      } catch (err) {
        throw err instanceof JwtRejected ? err : new JwtRejected(reasonOf(err));
      }
      return identityFromClaims(payload);
    },
  };
}

function headerAlg(token: string): string {
  try {
    const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as { alg?: unknown };
    if (typeof header.alg === 'string' && header.alg !== 'none') return header.alg;
  } catch {
    // falls through
  }
  throw new JwtRejected('malformed token header');
}

/** jose's failure as a short reason (the claim that failed, "expired", "bad signature" …). */
function reasonOf(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'token expired';
  if (err instanceof errors.JWTClaimValidationFailed)
    return `claim ${err.claim} ${err.reason === 'missing' ? 'is missing' : 'is not accepted'}`;
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'signature does not verify';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'signing algorithm not accepted';
  if (err instanceof errors.JWKSNoMatchingKey) return 'no key of the JWKS matches the token';
  if (err instanceof errors.JWKSTimeout) return 'the JWKS could not be fetched in time';
  if (err instanceof errors.JOSEError) return 'malformed token';
  return 'token could not be verified';
}

function identityFromClaims(payload: JWTPayload): Identity {
  // A subject names the caller in logs and rate limits: bounded, printable.
  const sub = payload.sub!.replace(/[^\x21-\x7e]/g, '?').slice(0, 128);
  const names =
    typeof payload.scope === 'string'
      ? payload.scope.split(' ').filter(Boolean)
      : Array.isArray(payload.scp)
        ? payload.scp.filter((s): s is string => typeof s === 'string')
        : [];
  const departments = payload.departments;
  if (departments !== undefined) {
    const valid =
      Array.isArray(departments) && departments.length > 0 && departments.every((d) => Number.isInteger(d) && d >= 1 && d <= INT32_MAX);
    if (!valid) throw new JwtRejected('claim departments must be a non-empty list of WeCom department ids');
  }
  return identityOf(`jwt:${sub}`, 'jwt', scopesOf(names, true), departments as number[] | undefined);
}
