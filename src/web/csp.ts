import type { Plugin } from 'graphql-yoga';

/**
 * The pages' Content-Security-Policy: scripts, styles, images, fonts, workers and requests from
 * this origin only, no plugins, no framing by other sites. GraphiQL and the explorer need nothing
 * else, so a script that tries another host is refused by the browser as well as by the network.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self'",
  "manifest-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'self'",
].join('; ');

/**
 * GraphiQL's policy: the same, but Monaco and Radix add <style> elements and style attributes at
 * run time, which `style-src 'self'` would refuse, and Monaco draws its error squiggles with
 * data: SVG images it generates. Neither lets a script or a request out. (graphiql.css's own
 * data: fonts and images are served as files instead: InlinedAssets.)
 */
export const GRAPHIQL_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace(
  "style-src 'self'",
  "style-src 'self' 'unsafe-inline'",
).replace("img-src 'self'", "img-src 'self' data:");

/** Headers of every page and asset this module serves. */
export const PAGE_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

const GRAPHIQL_HEADERS: Record<string, string> = { ...PAGE_HEADERS, 'content-security-policy': GRAPHIQL_CONTENT_SECURITY_POLICY };

/** Puts PAGE_HEADERS on the HTML pages Yoga answers (GraphiQL, rendered by src/web/graphiql.ts). */
export function usePageHeaders(): Plugin {
  return {
    onResponse({ response }) {
      if (!(response.headers.get('content-type') ?? '').startsWith('text/html')) return;
      for (const [name, value] of Object.entries(GRAPHIQL_HEADERS)) response.headers.set(name, value);
    },
  };
}
