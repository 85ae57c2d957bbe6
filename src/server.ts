import type { IncomingMessage, ServerResponse } from 'node:http';
import { GraphQLError } from 'graphql';
import { createYoga, maskError, type YogaServerInstance } from 'graphql-yoga';
import { upstreamGraphQLError } from './schema/errors.ts';
import type { Logger } from 'pino';
import { schema } from './schema/index.ts';
import { adaptiveSource } from './directory/restricted.ts';
import { JobTracker } from './jobs/tracker.ts';
import { createContext, type GraphQLContext, type ServiceDeps } from './schema/context.ts';

export interface App {
  yoga: YogaServerInstance<Record<string, unknown>, GraphQLContext>;
  /** The node:http listener: health, then everything else to Yoga. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Import and export jobs being tracked (the batch_job_result callback calls `jobs.notify`). */
  jobs: JobTracker;
}

export interface AppOptions extends ServiceDeps {
  logger: Logger;
  graphiql: boolean;
}

/**
 * The GraphQL service, apart from any listener (Yoga convention): tests call `app.yoga.fetch`
 * in-process; main.ts mounts `app.handle` on a node:http server.
 */
export function createApp(options: AppOptions): App {
  const { logger, graphiql, ...given } = options;
  // Import and export jobs outlive requests: one tracker per app (batch_job_result callbacks call jobs.notify).
  const jobs = given.jobs ?? new JobTracker({ client: given.client, changes: given.changes, logger });
  // One source for the process: it remembers whether WeCom restricts the contacts-sync reads.
  const deps: ServiceDeps = { ...given, source: given.source ?? adaptiveSource(given.client), jobs };
  const yoga = createYoga<Record<string, unknown>, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    graphiql: graphiql ? { title: 'WeCom directory' } : false,
    landingPage: false,
    // Masking stays on: WeCom failures become errors with extensions.code / wecomErrcode and a
    // message free of tokens and of WeCom's raw errmsg; anything unexpected is masked.
    maskedErrors: {
      maskError(error, message, isDev) {
        const original = error instanceof GraphQLError ? error.originalError : error;
        const upstream = upstreamGraphQLError(original, error instanceof GraphQLError ? error.path : undefined);
        if (upstream) return upstream;
        return maskError(error, message, isDev);
      },
    },
    logging: {
      debug: (...args) => logger.debug(args.map(String).join(' ')),
      info: (...args) => logger.info(args.map(String).join(' ')),
      warn: (...args) => logger.warn(args.map(String).join(' ')),
      error: (...args) => logger.error(args.map(String).join(' ')),
    },
    context: () => createContext(deps),
  });

  return {
    yoga,
    jobs,
    handle(req, res) {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"status":"ok"}');
        return;
      }
      void yoga.handle(req, res);
    },
  };
}
