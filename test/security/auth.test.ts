import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { describe, expect, test } from 'vitest';
import { createAuthenticator } from '../../src/auth/authenticate.ts';
import { graphql } from '../generated/index.ts';
import { ServiceHarness } from '../helpers/service.ts';
import { ownServiceTest } from '../testkit/service.ts';
import { ALL, firstError, post, send, testKey, withKey } from './helpers.ts';

/**
 * Caller authentication: API keys (stored hashed) and JWTs (HS256 secret or a JWKS URL, issuer
 * and audience checked). A request without a valid credential is answered 401, with a message and
 * a WWW-Authenticate challenge, before any GraphQL work and any upstream call.
 */

const SECRET = 'a-shared-hs256-secret-of-at-least-32-bytes!';
const ISSUER = 'https://id.example.com';
const AUDIENCE = 'wecom-directory';
const reader = testKey('reader', ['directory:read']);
const QUERY = { query: '{ department(id: 1) { name } }' };
const ROOT_NAME = graphql(`query AuthRootName { department(id: 1) { name } }`);
const DELETE_NOBODY = graphql(`mutation AuthDeleteNobody { deleteUser(userid: "nobody") { __typename } }`);

/** A JWKS endpoint as an identity provider would serve it, with the RS256 key that signs for it. */
interface Jwks {
  url: string;
  rsaPrivate: CryptoKey;
}

const it = test
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter, which must be a destructuring pattern
  .extend('jwks', { scope: 'file' }, async ({}, { onCleanup }): Promise<Jwks> => {
    const pair = await generateKeyPair('RS256');
    const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' };
    const server: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [publicJwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`, rsaPrivate: pair.privateKey };
  })
  // The service accepts the reader's key and JWTs (HS256, or RS256 from the JWKS), on a socket too.
  .extend('service', { scope: 'file' }, async ({ jwks }, { onCleanup }) => {
    const service = await ServiceHarness.start({
      listen: true,
      security: {
        auth: createAuthenticator({
          apiKeys: [reader.entry],
          jwt: { hs256Secret: SECRET, jwksUrl: jwks.url, issuer: ISSUER, audience: AUDIENCE },
        }),
      },
    });
    onCleanup(() => service.close());
    return service;
  });

const secretKey = new TextEncoder().encode(SECRET);

function hs256(
  claims: Record<string, unknown>,
  options: { issuer?: string; audience?: string; expires?: string | number; subject?: string | null } = {},
) {
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setIssuer(options.issuer ?? ISSUER)
    .setAudience(options.audience ?? AUDIENCE);
  if (options.subject !== null) jwt = jwt.setSubject(options.subject ?? 'alice');
  if (options.expires !== undefined) jwt = jwt.setExpirationTime(options.expires);
  else jwt = jwt.setExpirationTime('5m');
  return jwt.sign(secretKey);
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A refused request reached neither GraphQL nor WeCom. */
async function expectRefused(service: ServiceHarness, headers: Record<string, string>, message: RegExp): Promise<void> {
  await service.wecom.resetStats();
  const res = await post(service, QUERY, headers);
  expect(res.status).toBe(401);
  expect(res.body).toEqual({ errors: [{ message: expect.stringMatching(message), extensions: { code: 'UNAUTHENTICATED' } }] });
  expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="wecom-directory"/);
  expect((await service.wecom.stats()).total).toBe(0);
}

describe('without a credential', () => {
  it('answers 401 with a message naming what to send and a WWW-Authenticate challenge', async ({ service }) => {
    await service.wecom.resetStats();
    const res = await post(service, QUERY);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="wecom-directory"');
    expect(firstError(res.body)).toEqual({
      message:
        'authentication required: send an API key (X-API-Key: <key>, or Authorization: Bearer <key>) or a JWT (Authorization: Bearer <token>)',
      extensions: { code: 'UNAUTHENTICATED' },
    });
    expect((await service.wecom.stats()).total).toBe(0);
  });

  it('answers 401 over a real socket too (the node listener goes through the same check)', async ({ service }) => {
    const res = await fetch(`${service.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(QUERY),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="wecom-directory"');
  });
});

describe('API keys', () => {
  it('serves a configured key in X-API-Key or as a Bearer token', async ({ service }) => {
    for (const headers of [withKey(reader), bearer(reader.key)]) {
      const res = await post(service, QUERY, headers);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        data: { department: { name: (await service.wecom.console('department/get', { id: 1 })).json.department.name } },
      });
    }
  });

  it('refuses an unknown key, a key differing in one character, and an oversized key', async ({ service }) => {
    await expectRefused(service, { 'x-api-key': 'no-such-key' }, /^invalid API key$/);
    await expectRefused(service, { 'x-api-key': `${reader.key.slice(0, -1)}X` }, /^invalid API key$/);
    await expectRefused(service, { 'x-api-key': 'k'.repeat(5000) }, /^invalid API key$/);
  });

  it('refuses two credentials at once, and an Authorization scheme other than Bearer', async ({ service }) => {
    await expectRefused(service, { ...withKey(reader), ...bearer(reader.key) }, /not both/);
    await expectRefused(service, { authorization: `Basic ${Buffer.from(`x:${reader.key}`).toString('base64')}` }, /Bearer/);
  });

  it('never echoes the presented key', async ({ service }) => {
    const res = await post(service, QUERY, { 'x-api-key': 'secret-looking-wrong-key-123' });
    expect(JSON.stringify(res.body)).not.toContain('secret-looking-wrong-key-123');
    expect(res.headers.get('www-authenticate')).not.toContain('secret-looking-wrong-key-123');
  });
});

describe('JWTs', () => {
  it('serves an HS256 token with the right issuer and audience, with the scopes of its scope claim', async ({ service }) => {
    const token = await hs256({ scope: 'openid directory:read' });
    const res = await send(service, ROOT_NAME, {}, bearer(token));
    expect(res.status).toBe(200);
    expect(res.body.data!.department!.name).toBeTruthy();
    // The scope claim did not grant write: a mutation is forbidden.
    const write = await send(service, DELETE_NOBODY, {}, bearer(token));
    expect(firstError(write.body).extensions.code).toBe('FORBIDDEN');
  });

  it('reads scopes from an scp array too', async ({ service }) => {
    const res = await send(service, ROOT_NAME, {}, bearer(await hs256({ scp: ['directory:read'] })));
    expect(res.body.data!.department).toBeTruthy();
  });

  it.for([
    [
      'an expired token',
      () => hs256({ scope: 'directory:read' }, { expires: Math.floor(Date.now() / 1000) - 3600 }),
      /^invalid token: token expired$/,
    ],
    [
      'another issuer',
      () => hs256({ scope: 'directory:read' }, { issuer: 'https://evil.example.com' }),
      /^invalid token: claim iss is not accepted$/,
    ],
    [
      'another audience',
      () => hs256({ scope: 'directory:read' }, { audience: 'another-service' }),
      /^invalid token: claim aud is not accepted$/,
    ],
    ['no subject', () => hs256({ scope: 'directory:read' }, { subject: null }), /^invalid token: claim sub is missing$/],
    [
      'a wrong signature',
      async () => {
        const token = await hs256({ scope: 'directory:read' });
        return `${token.slice(0, -4)}${token.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
      },
      /^invalid token: signature does not verify$/,
    ],
    [
      'a token signed with another secret',
      () =>
        new SignJWT({ scope: 'directory:read' })
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('x')
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setExpirationTime('5m')
          .sign(new TextEncoder().encode('another-secret-another-secret-another-secret')),
      /^invalid token: signature does not verify$/,
    ],
    [
      'alg "none"',
      async () =>
        `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'x', iss: ISSUER, aud: AUDIENCE, exp: 9e9, scope: 'directory:read' })).toString('base64url')}.`,
      /^invalid token: malformed token header$/,
    ],
    ['a departments claim that is not a list of ids', () => hs256({ scope: 'directory:read', departments: ['sales'] }), /departments/],
  ] as const)('refuses %s', async ([_what, make, message], { service }) => {
    await expectRefused(service, bearer(await make()), message);
  });

  it('verifies an RS256 token against the JWKS URL', async ({ service, jwks }) => {
    const token = await new SignJWT({ scope: 'directory:read' })
      .setProtectedHeader({ alg: 'RS256', kid: 'key-1' })
      .setSubject('service-account')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .sign(jwks.rsaPrivate);
    const res = await send(service, ROOT_NAME, {}, bearer(token));
    expect(res.status).toBe(200);
    expect(res.body.data!.department!.name).toBeTruthy();
  });

  it('refuses an RS256 token signed by a key the JWKS does not hold', async ({ service }) => {
    const other = await generateKeyPair('RS256');
    const token = await new SignJWT({ scope: 'directory:read' })
      .setProtectedHeader({ alg: 'RS256', kid: 'key-1' })
      .setSubject('mallory')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .sign(other.privateKey);
    await expectRefused(service, bearer(token), /^invalid token: signature does not verify$/);
  });
});

describe('anonymous access', () => {
  ownServiceTest(
    'serves requests without a credential with the configured anonymous scopes only, and still refuses a wrong credential',
    async ({ startService }) => {
      const anonymous = await startService({
        security: { auth: createAuthenticator({ apiKeys: [reader.entry], anonymousScopes: ['directory:read'] }) },
      });
      const res = await send(anonymous, ROOT_NAME);
      expect(res.status).toBe(200);
      expect(res.body.data!.department!.name).toBeTruthy();
      const write = await send(anonymous, DELETE_NOBODY);
      expect(firstError(write.body)).toMatchObject({
        message: 'Forbidden: Mutation.deleteUser needs scope directory:write',
        extensions: { code: 'FORBIDDEN' },
      });
      const wrong = await post(anonymous, QUERY, { 'x-api-key': 'wrong' });
      expect(wrong.status).toBe(401);
    },
  );

  ownServiceTest(
    'the default harness (the embedded emulator without keys) gives anonymous callers every scope',
    async ({ startService }) => {
      const open = await startService();
      const res = await send(open, graphql(`query AuthMobile($u: String!) { user(userid: $u) { mobile } }`), {
        u: (await open.wecom.console('user/list', { department_id: 1, fetch_child: 1 })).json.userlist[0].userid,
      });
      expect(res.status).toBe(200);
      expect(res.body.data!.user!.mobile).toBeTruthy();
    },
  );
});

it('authenticator: accepts every key of the store and only those', async () => {
  const keys = [testKey('a', ALL), testKey('b', ['directory:read'], [2])];
  const auth = createAuthenticator({ apiKeys: keys.map((k) => k.entry) });
  const a = await auth.authenticate(new Headers(withKey(keys[0]!)));
  const b = await auth.authenticate(new Headers(withKey(keys[1]!)));
  expect(a).toEqual({
    ok: true,
    identity: { subject: 'api-key:a', kind: 'api-key', scopes: { read: true, write: true, pii: true, admin: true, wholeCorp: true } },
  });
  expect(b).toEqual({
    ok: true,
    identity: {
      subject: 'api-key:b',
      kind: 'api-key',
      scopes: { read: true, write: false, pii: false, admin: false, wholeCorp: false },
      departmentRoots: [2],
    },
  });
  expect((await auth.authenticate(new Headers())).ok).toBe(false);
});
