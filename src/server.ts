import type { IncomingMessage, ServerResponse } from 'node:http';
import { GraphQLError } from 'graphql';
import { createYoga, maskError, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { upstreamGraphQLError } from './schema/graphql-errors.ts';
import type { Logger } from 'pino';
import { schema } from './schema/index.ts';
import { adaptiveSource } from './directory/adaptive-source.ts';
import type { WeComAgent } from './wecom/agent.ts';
import { JobTracker } from './jobs/tracker.ts';
import { createContext, type GraphQLContext, type ServiceDeps } from './schema/context.ts';
import { DEFAULT_CACHE_SETTINGS, DirectoryCache, type DirectoryCacheOptions } from './cache/directory-cache.ts';
import { DEFAULT_RESPONSE_CACHE_BYTES, responseCacheLimits, useResponseCache, type ResponseCacheStats } from './cache/response-cache.ts';
import { compactingSource } from './cache/compact-user.ts';
import { createCallbackHandler, type CallbackHandler, type CallbackHandlerOptions } from './callback/handler.ts';
import { CallbackSourceCheck, type AllowedCallbackIps } from './callback/source-ip.ts';
import { changeFeedOf, type ChangeFeed, type ChangeFeedOptions } from './directory/change-feed.ts';
import { OPEN_SECURITY, type SecuritySettings } from './security/settings.ts';
import { useSecurity } from './security/plugins.ts';
import { useCompiledQueries } from './ops/compiled-queries.ts';
import { requestIdentity } from './security/request-guard.ts';
import { refuseUnmeasuredBody } from './security/http-server.ts';
import { createWebFront } from './web/index.ts';
import { corsOptions } from './security/cors.ts';
import { TokenBuckets } from './security/rate-limit.ts';
import { CorpSizesCache } from './security/corp-sizes.ts';
import { MemberMemo } from './directory/member-memo.ts';
import { CacheWarmer, DEFAULT_WARM_UP_BUDGET_PERCENT } from './cache/warm-up.ts';
import { DirectoryLoadingGuard } from './security/directory-loading.ts';
import { RequestLoaders } from './loaders/index.ts';

const USER_LIST = '/cgi-bin/user/list';

export interface App {
  yoga: YogaServerInstance<Record<string, unknown>, GraphQLContext>;
  /** The node:http listener: health, then everything else to Yoga. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Import and export jobs being tracked (the batch_job_result callback calls `jobs.notify`). */
  jobs: JobTracker;
  /** The cross-request directory cache (absent when turned off or when a source was given). */
  cache?: DirectoryCache;
  /** What the whole-response cache holds (absent with the directory cache off, or responseCache false). */
  responseCache?: { stats(): ResponseCacheStats };
  /** The /wecom/callback endpoint (absent when no callback Token and EncodingAESKey are set: 404). */
  callback?: CallbackHandler;
  /** The ordered changes behind `directoryChanges` and `contactChanged`. */
  feed: ChangeFeed;
  /** The corp's sizes behind every cost estimate (absent without the directory cache); the warm-up computes them ahead of the first caller. */
  corpSizes?: CorpSizesCache;
  /**
   * Loads the directory cache in passes (src/cache/warm-up.ts), with the directory cache: on
   * demand always (what a query refused with DIRECTORY_LOADING needs), and as a warm-up with
   * refresh-ahead once `start` is called (CACHE_WARM_UP, src/service.ts).
   */
  warmer?: CacheWarmer;
  /** The app's visible range (agent/get) when reads go through an app secret; null for the contacts-sync secret (/readyz shows it). */
  visibility(): Promise<WeComAgent | null>;
}

export interface AppOptions extends ServiceDeps {
  logger: Logger;
  graphiql: boolean;
  /**
   * The directory cache over the default source: on unless false (CACHE_ENABLED=false); the
   * settings default to DEFAULT_CACHE_SETTINGS. Not used with a given `source`.
   */
  cache?: Partial<Omit<DirectoryCacheOptions, 'corpId'>> | false;
  /** The contacts-sync callback's Token and EncodingAESKey (§9.1): without them /wecom/callback answers 404. */
  callback?: Pick<
    CallbackHandlerOptions,
    'token' | 'encodingAESKey' | 'nowSeconds' | 'timestampToleranceSeconds' | 'maxBodyBytes' | 'replayGuard'
  > & {
    /** WECOM_CALLBACK_ALLOWED_IPS: where callbacks may come from (`auto`: WeCom's getcallbackip list); absent: anywhere. */
    allowedIps?: AllowedCallbackIps;
    /** TRUSTED_PROXIES: whose X-Forwarded-For gives the callback's address. */
    trustedProxies?: readonly string[];
  };
  /** Retention of the change feed (directoryChanges). */
  changeFeed?: ChangeFeedOptions;
  /**
   * Authentication, query limits, rate limits, CSRF, introspection, persisted operations
   * (src/security/settings.ts). Omitted: full access for every caller and the default limits
   * (tests, embedding); main.ts always passes the configured settings.
   */
  security?: Partial<SecuritySettings>;
  /**
   * Whole-response caching over the directory cache, on with it: its budget in answer bytes
   * (default 64 MB); false or 0 turns it off.
   */
  responseCache?: number | false;
  /**
   * The pace of the warmer's passes: this share (percent) of the client's `user/list` rate budget
   * per rate window (CACHE_WARM_UP_BUDGET_PERCENT; DEFAULT_WARM_UP_BUDGET_PERCENT).
   */
  warmUpBudgetPercent?: number;
  /** More Yoga plugins, after the security ones (the metrics plugin, src/ops/metrics.ts). */
  plugins?: Plugin[];
  /** The org explorer's built folder (default web/dist, src/web/index.ts); false: no explorer at `/`. */
  explorer?: string | false;
}

/**
 * The GraphQL service, apart from any listener (Yoga convention): tests call `app.yoga.fetch`
 * in-process; main.ts mounts `app.handle` on a node:http server.
 */
export function createApp(options: AppOptions): App {
  const {
    logger,
    graphiql,
    responseCache = DEFAULT_RESPONSE_CACHE_BYTES,
    cache: cacheSettings,
    callback: callbackSettings,
    changeFeed,
    security: securityGiven,
    plugins: extraPlugins = [],
    explorer,
    warmUpBudgetPercent = DEFAULT_WARM_UP_BUDGET_PERCENT,
    ...given
  } = options;
  const security: SecuritySettings = { ...OPEN_SECURITY, ...securityGiven };
  // Import and export jobs outlive requests: one tracker per app (batch_job_result callbacks call jobs.notify).
  const jobs = given.jobs ?? new JobTracker({ client: given.client, changes: given.changes, logger });
  // One source for the process: it remembers whether WeCom restricts the contacts-sync reads.
  const defaultSource = () => adaptiveSource(given.client);
  // The cross-request cache sits under the loaders over that source, and drops what each change on
  // the bus makes wrong. It subscribes before the change feed, so a subscriber that hears of a
  // change and reads at once finds the cache already invalidated.
  const cachedSource = !given.source && cacheSettings !== false ? defaultSource() : undefined;
  const cache = cachedSource
    ? new DirectoryCache(compactingSource(cachedSource), {
        ...DEFAULT_CACHE_SETTINGS,
        ...cacheSettings,
        corpId: given.client.core.corpId,
      })
    : undefined;
  cache?.attach(given.changes);
  // Unknown userids and openids remembered across requests (a flood of lookups costs WeCom once).
  const memo = given.memo ?? new MemberMemo();
  memo.attach(given.changes);
  const feed = changeFeedOf(given.changes, changeFeed);
  const deps: ServiceDeps = { ...given, source: given.source ?? memo.source(cache ?? defaultSource()), jobs, memo };
  // What a query will cost is estimated from the corp's sizes the cache knows (src/security/estimate.ts).
  const corpSizes = cache ? new CorpSizesCache(cache) : undefined;
  // Passes over the cache (src/cache/warm-up.ts), within a share of the client's own user/list budget.
  const scheduler = given.client.core.scheduler;
  const warmer = cache
    ? new CacheWarmer({
        cache,
        callsPerWindow: (scheduler.rateBudget(USER_LIST) * warmUpBudgetPercent) / 100,
        windowMs: scheduler.windowMs,
        logger,
        buildViews: async () => {
          const loaders = new RequestLoaders(cache);
          await Promise.all([loaders.searchIndex(), loaders.directReports(''), loaders.tagIndex()]);
          // The sizes every query's cost is estimated from, so the first caller does not compute them.
          corpSizes?.current();
        },
      })
    : undefined;
  // A query whose member lists WeCom's rate limit cannot let through before the deadline is refused
  // early, and they are loaded meanwhile (src/security/directory-loading.ts). Not with a cache shared
  // by a fleet: what this instance lacks, Redis may hold, and the rate budget is shared.
  const loading =
    cache && warmer && cachedSource && (cacheSettings === false || cacheSettings?.secondLevel === undefined)
      ? new DirectoryLoadingGuard({
          cache,
          warmer,
          budget: scheduler,
          deadlineMs: Math.min(given.client.core.deadlineMs, security.limits.maxExecutionMs),
          readsListPerDepartment: () => !cachedSource.restricted,
          logger,
        })
      : undefined;
  const estimate = {
    memo,
    ...(cache && corpSizes ? { peek: cache, sizes: corpSizes, loadTree: () => cache.departments() } : {}),
    ...(loading ? { loading } : {}),
  };
  // WeCom's change_contact and batch_job_result events (§9.6, §9.7); a tracked job is polled at once.
  const callback = callbackSettings
    ? createCallbackHandler({
        ...callbackSettings,
        ...(callbackSettings.allowedIps
          ? {
              sourceCheck: new CallbackSourceCheck({
                allowed: callbackSettings.allowedIps,
                ...(callbackSettings.trustedProxies ? { trustedProxies: callbackSettings.trustedProxies } : {}),
                fetchList: () => given.client.corp.getCallbackIp(),
                logger,
              }),
            }
          : {}),
        corpId: given.client.core.corpId,
        changes: given.changes,
        logger,
        onBatchJobResult: (result) => jobs.notify(result.jobId),
      })
    : undefined;
  // GraphiQL and the org explorer, served from this origin only (src/web).
  const web = createWebFront({ graphiql, logger, ...(explorer !== undefined ? { explorer } : {}) });
  const callbackBudget = security.rateLimit
    ? new TokenBuckets(security.rateLimit.requestsPerMinute, security.rateLimit.requestBurst)
    : undefined;
  const responses = cache && responseCache ? useResponseCache({ directory: cache, ...responseCacheLimits(responseCache) }) : undefined;
  const yoga = createYoga<Record<string, unknown>, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    ...web.yoga,
    landingPage: false,
    // Same-origin only unless CORS_ORIGINS lists origins; never credentials, only the headers the service reads.
    cors: corsOptions(security.cors),
    // The request guard refuses a declared Content-Length over MAX_BODY_BYTES (413) and the HTTP
    // front a body without one (411); node:http reads no more than the declared length. Yoga's own
    // limit would pipe every body through a stream again, a tenth of a cached answer's cost.
    maxRequestBodySize: false,
    // One operation per request unless configured (an array of operations is refused).
    batching: security.batching === false ? false : { limit: security.batching },
    // After the security plugins: a cached answer is still authenticated, rate-limited and checked.
    plugins: [
      // First: the execution limits and the response cache wrap the compiled executor.
      ...useCompiledQueries(),
      ...useSecurity(security, { logger, graphiql, estimate }),
      ...(responses ? [responses] : []),
      ...extraPlugins,
      ...web.plugins,
    ],
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
    // Yoga logs at debug on every request: the line is only built when that level is on.
    logging: {
      debug: (...args) => logger.isLevelEnabled('debug') && logger.debug(args.map(String).join(' ')),
      info: (...args) => logger.info(args.map(String).join(' ')),
      warn: (...args) => logger.warn(args.map(String).join(' ')),
      error: (...args) => logger.error(args.map(String).join(' ')),
    },
    // The caller established before parsing (src/security/request-guard.ts) decides what the request may see.
    context: ({ request }) => createContext(deps, requestIdentity(request)),
  });

  return {
    yoga,
    jobs,
    ...(cache ? { cache } : {}),
    ...(responses ? { responseCache: responses } : {}),
    ...(callback ? { callback } : {}),
    feed,
    ...(corpSizes ? { corpSizes } : {}),
    ...(warmer ? { warmer } : {}),
    visibility: () => (deps.source?.visibility ? deps.source.visibility() : Promise.resolve(null)),
    handle(req, res) {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"status":"ok"}');
        return;
      }
      if (path === '/wecom/callback') {
        // Each request costs signature checks and AES: bounded per address like GraphQL requests.
        const wait = callbackBudget?.take(req.socket.remoteAddress ?? 'unknown') ?? 0;
        if (wait > 0) {
          res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': String(wait) });
          res.end(`too many requests; retry in ${wait} s`);
          return;
        }
        if (callback) return callback.handle(req, res);
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('no WeCom callback is configured (WECOM_CALLBACK_TOKEN, WECOM_CALLBACK_AES_KEY)');
        return;
      }
      if (web.handle(req, res, path ?? '/')) return;
      if (refuseUnmeasuredBody(req, res)) return;
      void yoga.handle(req, res);
    },
  };
}
