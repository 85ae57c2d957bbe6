import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.ts';
import { CORS_ALLOWED_HEADERS } from '../../src/security/cors.ts';
import { graphql } from '../generated/index.ts';
import type { ServiceHarness } from '../helpers/service.ts';
import { serviceTest } from '../testkit/service.ts';

/**
 * Issue 14 item 1: cross-origin writes on the default start. The service used to echo any Origin
 * with credentials and any requested header, so a page on another site could write with the
 * anonymous caller's full access. Now: same-origin only unless CORS_ORIGINS lists an origin, never
 * credentials, only the headers the service reads; a request from another origin is refused (403)
 * before it runs, and nothing reaches WeCom.
 */

const EVIL = 'http://evil.example';
const FRIEND = 'https://app.example.com';
const WRITE = 'mutation { updateUser(input: { userid: "xiegang", position: "pwned" }) { __typename } }';

/** The default start (anonymous callers have every scope: the embedded emulator without keys), with CORS_ORIGINS. */
const withOrigins = (origins: string[]) => serviceTest({ listen: true, security: { cors: { origins } } }, { resetStats: false });
const sameOriginIt = withOrigins([]);
const friendIt = withOrigins([FRIEND]);
const anyOriginIt = withOrigins(['*']);

const preflight = (s: ServiceHarness, origin: string) =>
  fetch(`${s.url}/graphql`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-evil-header' },
  });
const postFrom = (s: ServiceHarness, origin: string, query = WRITE) =>
  fetch(`${s.url}/graphql`, { method: 'POST', headers: { origin, 'content-type': 'application/json' }, body: JSON.stringify({ query }) });

describe('CORS on the default start (same-origin only)', () => {
  sameOriginIt('a preflight from another origin gets no CORS headers', async ({ service: s }) => {
    const res = await preflight(s, EVIL);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    expect(res.headers.get('access-control-allow-headers')).toBeNull();
  });

  sameOriginIt('a write from another origin is refused before it runs, and never reaches WeCom', async ({ service: s, execute }) => {
    await s.wecom.resetStats();
    const res = await postFrom(s, EVIL);
    expect(res.status).toBe(403);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const body = (await res.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]?.extensions.code).toBe('ORIGIN_NOT_ALLOWED');
    expect((await s.wecom.stats()).total).toBe(0);
    const user = await execute(graphql(`query CorsPosition { user(userid: "xiegang") { position } }`));
    expect(user.data!.user!.position).not.toBe('pwned');
  });

  sameOriginIt("a page of the service's own origin is served", async ({ service: s }) => {
    const res = await postFrom(s, s.url, '{ department(id: 1) { name } }');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { department: { name: string } } };
    expect(body.data.department.name).toBeTruthy();
  });
});

describe('CORS_ORIGINS lists an origin', () => {
  friendIt('that origin gets its own origin back, no credentials, and only the headers the service reads', async ({ service: s }) => {
    const res = await preflight(s, FRIEND);
    expect(res.headers.get('access-control-allow-origin')).toBe(FRIEND);
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    const allowed = (res.headers.get('access-control-allow-headers') ?? '').split(',').map((h) => h.trim());
    expect(allowed).toEqual(CORS_ALLOWED_HEADERS);
    expect(allowed).not.toContain('x-evil-header');
    const post = await postFrom(s, FRIEND, '{ department(id: 1) { name } }');
    expect(post.status).toBe(200);
    expect(post.headers.get('access-control-allow-origin')).toBe(FRIEND);
  });

  friendIt('other origins are still refused', async ({ service: s }) => {
    expect((await preflight(s, EVIL)).headers.get('access-control-allow-origin')).toBeNull();
    expect((await postFrom(s, EVIL)).status).toBe(403);
  });
});

describe('CORS_ORIGINS=*', () => {
  anyOriginIt('any origin, but never with credentials', async ({ service: s }) => {
    const res = await preflight(s, EVIL);
    expect(res.headers.get('access-control-allow-origin')).toBe(EVIL);
    expect(res.headers.get('vary')).toContain('Origin');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    expect(res.headers.get('access-control-allow-headers')).toBe(CORS_ALLOWED_HEADERS.join(', '));
  });
});

describe('CORS_ORIGINS configuration', () => {
  it('is empty by default (same-origin only), and takes a comma-separated list', () => {
    expect(loadConfig({}).security.cors).toEqual({ origins: [] });
    expect(loadConfig({ CORS_ORIGINS: `${FRIEND}, http://localhost:5173` }).security.cors).toEqual({
      origins: [FRIEND, 'http://localhost:5173'],
    });
  });

  it.each([
    ['https://app.example.com/', /CORS_ORIGINS: "https:\/\/app.example.com\/" is not an origin as browsers send it/],
    ['app.example.com', /CORS_ORIGINS: "app.example.com" is not an origin/],
    ['ftp://x.example', /CORS_ORIGINS: "ftp:\/\/x.example" must be an http or https origin/],
    [`*,${FRIEND}`, /CORS_ORIGINS: "\*" allows every origin; list origins or "\*" alone/],
  ])('%s is refused with a clear error', (value, message) => {
    expect(() => loadConfig({ CORS_ORIGINS: value })).toThrow(ConfigError);
    expect(() => loadConfig({ CORS_ORIGINS: value })).toThrow(message);
  });
});
