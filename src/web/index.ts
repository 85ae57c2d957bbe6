import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Plugin, YogaServerOptions } from 'graphql-yoga';
import { StaticFiles } from './static-files.ts';
import { join } from 'node:path';
import { GRAPHIQL_ASSETS_PATH, GRAPHIQL_BOOT_SCRIPT, InlinedAssets, graphiqlDistDir, graphiqlOptions, renderGraphiQL } from './graphiql.ts';
import { PAGE_HEADERS, usePageHeaders } from './csp.ts';
import { useCallerExtension } from './caller-extension.ts';

/** The explorer's build output (`npm run build:web`, web/vite.config.ts). */
export const EXPLORER_DIST_DIR = fileURLToPath(new URL('../../web/dist/', import.meta.url));

const FAVICON = readFileSync(new URL('./favicon.svg', import.meta.url));

export interface WebFrontOptions {
  /** GraphiQL at GET /graphql (GRAPHIQL; off in production unless GRAPHIQL=true). */
  graphiql: boolean;
  /** The org explorer at `/`, from this folder (default EXPLORER_DIST_DIR); false: none. */
  explorer?: string | false;
  logger: Logger;
}

export interface WebFront {
  /** Yoga's `graphiql` and `renderGraphiQL` options. */
  yoga: Pick<YogaServerOptions<Record<string, unknown>, Record<string, unknown>>, 'graphiql' | 'renderGraphiQL'>;
  /** Yoga plugins: page headers on GraphiQL, the caller's scopes for the explorer. */
  plugins: Plugin[];
  /** Serves the request when it is one of the pages or assets; false when it is not (Yoga's turn). */
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean;
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, cacheControl = 'no-cache'): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': cacheControl, ...PAGE_HEADERS });
  res.end(body);
}

/**
 * What the service serves to browsers besides /graphql: GraphiQL's page and assets from the
 * installed package, and the org explorer's built files (web/). Nothing here reaches another
 * host, and every page carries a Content-Security-Policy of this origin only (csp.ts).
 */
export function createWebFront(options: WebFrontOptions): WebFront {
  const { graphiql, logger } = options;
  const explorerDir = options.explorer === undefined ? EXPLORER_DIST_DIR : options.explorer;
  // Content-hashed names (Vite's assets/) never change: cached for a year. The page itself is
  // revalidated on every load so a new build is picked up at once.
  const explorer = explorerDir
    ? new StaticFiles({
        root: explorerDir,
        cacheControl: (path) => (path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache'),
        headers: PAGE_HEADERS,
      })
    : undefined;
  const inlined = graphiql ? new InlinedAssets(join(graphiqlDistDir(), 'graphiql.css')) : undefined;
  // The package's file names carry no hash: revalidated daily, and by ETag after an upgrade.
  const graphiqlAssets = graphiql
    ? new StaticFiles({
        root: graphiqlDistDir(),
        cacheControl: () => 'public, max-age=86400',
        headers: PAGE_HEADERS,
        transform: (path, body) => (path === '/graphiql.css' && inlined ? Buffer.from(inlined.css()) : body),
      })
    : undefined;
  let warnedUnbuilt = false;

  const serve = (req: IncomingMessage, res: ServerResponse, files: StaticFiles, path: string, missing: () => void) => {
    files
      .serve(req, res, path)
      .then((served) => {
        if (!served) missing();
      })
      .catch((err: unknown) => {
        logger.error({ err, path }, 'could not serve a static file');
        if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'could not read the file');
        else res.destroy();
      });
  };
  const notFound = (res: ServerResponse) => () => send(res, 404, 'text/plain; charset=utf-8', 'not found');

  return {
    yoga: graphiql ? { graphiql: graphiqlOptions(), renderGraphiQL } : { graphiql: false },
    plugins: [usePageHeaders(), useCallerExtension()],
    handle(req, res, path) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      if (path === '/favicon.svg' || path === '/favicon.ico') {
        send(res, 200, 'image/svg+xml', FAVICON, 'public, max-age=86400');
        return true;
      }
      if (graphiqlAssets && path.startsWith(GRAPHIQL_ASSETS_PATH)) {
        const file = path.slice(GRAPHIQL_ASSETS_PATH.length - 1);
        const taken = inlined?.file(file.slice(1));
        if (file === '/boot.js') send(res, 200, 'text/javascript; charset=utf-8', GRAPHIQL_BOOT_SCRIPT);
        // Named by their content's hash: never change.
        else if (taken) send(res, 200, taken.type, taken.body, 'public, max-age=31536000, immutable');
        else serve(req, res, graphiqlAssets, file, notFound(res));
        return true;
      }
      if (!explorer) return false;
      if (path === '/' || path === '/index.html') {
        serve(req, res, explorer, '/index.html', () => {
          if (!warnedUnbuilt) logger.warn({ dir: explorerDir }, 'the org explorer is not built: run `npm run build:web`');
          warnedUnbuilt = true;
          send(
            res,
            404,
            'text/plain; charset=utf-8',
            'The org explorer is not built on this server: run `npm run build:web`. GraphQL is at /graphql.',
          );
        });
        return true;
      }
      if (path.startsWith('/assets/')) {
        serve(req, res, explorer, path, notFound(res));
        return true;
      }
      return false;
    },
  };
}
