import type { Plugin } from 'graphql-yoga';

/**
 * Cross-origin access. By default the service is same-origin only: a browser page of another
 * origin gets no CORS headers (its JSON POSTs fail their preflight), and a request that carries an
 * `Origin` of another site is refused with 403 before anything runs, so even a "simple" request
 * (a form, text/plain) sent by a hostile page changes nothing. CORS_ORIGINS lists the origins
 * allowed to call from a browser; `*` allows any origin, without credentials.
 *
 * Credentials (cookies, TLS client certificates) are never allowed: callers authenticate with
 * headers (X-API-Key, Authorization), which a page can only send when CORS allows it.
 */

export interface CorsSettings {
  /** Exact origins (`https://app.example.com`) allowed cross-origin; `*`: any origin. Empty: same-origin only. */
  origins: readonly string[];
}

/** Header names that mark a request as not "simple" (a browser form cannot set them): CSRF prevention. */
export const CSRF_HEADERS = ['x-graphql-yoga-csrf', 'graphql-preflight', 'apollo-require-preflight'];

export const SAME_ORIGIN_ONLY: CorsSettings = { origins: [] };

/** The request headers a cross-origin caller may send: the ones the service reads, nothing else. */
export const CORS_ALLOWED_HEADERS = ['content-type', 'accept', 'authorization', 'x-api-key', 'if-none-match', ...CSRF_HEADERS];
const CORS_METHODS = ['GET', 'POST', 'OPTIONS'];
/** Response headers a cross-origin page may read. */
const CORS_EXPOSED_HEADERS = ['etag', 'retry-after', 'www-authenticate'];
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/** An origin as browsers send it: scheme://host[:port], no path; `*` alone. Returns the problem, if any. */
export function corsOriginProblem(origin: string): string | undefined {
  if (origin === '*') return undefined;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return `"${origin}" is not an origin (scheme://host[:port])`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `"${origin}" must be an http or https origin`;
  if (url.origin !== origin)
    return `"${origin}" is not an origin as browsers send it (expected "${url.origin}": no path, no trailing slash, default port omitted)`;
  return undefined;
}

/** The request's own origin as seen through its Host header (what a same-origin page sends as Origin). */
function sameOrigin(origin: string, request: Request): boolean {
  const host = request.headers.get('host') ?? new URL(request.url).host;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

function allowedOrigin(settings: CorsSettings, origin: string): boolean {
  return settings.origins.includes('*') || settings.origins.includes(origin);
}

/**
 * Yoga's `cors` option: headers only for an allowed origin (never credentials, only the listed
 * request headers), none otherwise.
 */
export function corsOptions(settings: CorsSettings) {
  return (request: Request) => {
    const origin = request.headers.get('origin');
    if (!origin || !allowedOrigin(settings, origin)) return false as const;
    return {
      // The caller's origin echoed (with Vary: Origin), also for `*`: credentials are off either way.
      origin: [origin],
      credentials: false,
      allowedHeaders: CORS_ALLOWED_HEADERS,
      methods: CORS_METHODS,
      exposedHeaders: CORS_EXPOSED_HEADERS,
      maxAge: PREFLIGHT_MAX_AGE_SECONDS,
    };
  };
}

/**
 * Refuses (403) a request whose Origin is neither the service's own nor allowed, before it is
 * authenticated or parsed. Requests without Origin (curl, servers) are not browser requests and pass.
 */
export function useOriginGuard(settings: CorsSettings): Plugin {
  return {
    onRequest({ request, endResponse }) {
      const origin = request.headers.get('origin');
      if (origin === null || allowedOrigin(settings, origin) || sameOrigin(origin, request)) return;
      return endResponse(
        new Response(
          JSON.stringify({
            errors: [
              {
                message: `Requests from origin ${origin} are not allowed (CORS_ORIGINS lists the origins that may call this service from a browser)`,
                extensions: { code: 'ORIGIN_NOT_ALLOWED' },
              },
            ],
          }),
          { status: 403, headers: { 'content-type': 'application/json; charset=utf-8', vary: 'Origin' } },
        ),
      );
    },
    // What CORS headers an answer carries depends on the Origin: shared caches must keep them apart.
    onResponse({ request, response }) {
      if (request.headers.get('origin') === null) return;
      const vary = response.headers.get('vary') ?? '';
      if (!/\borigin\b/i.test(vary)) response.headers.set('vary', vary ? `${vary}, Origin` : 'Origin');
    },
  };
}
