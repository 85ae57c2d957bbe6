import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Config, WeComTarget } from './config/index.ts';
import type { App } from './server.ts';
import type { WeComClient } from './wecom/client.ts';
import { wireApp, type Planning } from './wire-app.ts';
import type { Emulator } from 'wecom-emulator';
import { anonymousAccessWarning } from './security/from-config.ts';
import { serverOptions } from './security/http-server.ts';
import type { SecuritySettings } from './security/settings.ts';
import { ServiceMetrics } from './ops/metrics.ts';
import { Readiness } from './ops/readiness.ts';
import { InFlight, createHttpFront, createMetricsListener } from './ops/http.ts';
import { gracefulShutdown, type ShutdownPlan } from './ops/shutdown.ts';
import { createScaleOut, type ScaleOut } from './redis/index.ts';
import { describeRedisUrl } from './redis/connection.ts';

export interface ServiceDependencies {
  /** The security settings built from `config.security` (the persisted operations file read). */
  security: SecuritySettings;
  logger: Logger;
  /** How reads are planned; the service's own unless given (the benchmark's naive baseline). */
  planning?: Planning;
}

/** The parts of a started service that its callers look into (the operations tests). */
export interface RunningService {
  /** The GraphQL listener's base URL, with the port it got (PORT=0: an ephemeral one). */
  url: string;
  client: WeComClient;
  app: App;
  readiness: Readiness;
  /** Absent with METRICS_ENABLED=false. */
  metrics?: ServiceMetrics;
}

export interface Service {
  /** Starts the embedded emulator (when configured), Redis scale-out, the client, the app and the listeners; prints the banner. */
  start(): Promise<RunningService>;
  /** Graceful shutdown (src/ops/shutdown.ts): true when every part closed in time. */
  stop(signal: string): Promise<boolean>;
}

/**
 * The service as one unit: the embedded emulator when no WeCom credentials are set, Redis
 * scale-out, the WeCom client, the GraphQL app, the HTTP front and metrics listeners, and their
 * orderly shutdown. src/serve-process.ts reads the configuration and handles signals around it.
 */
export function createService(config: Config, { security, logger, planning }: ServiceDependencies): Service {
  let shutdownPlan: ShutdownPlan | undefined;

  async function start(): Promise<RunningService> {
    if (shutdownPlan) throw new Error('the service is already started');
    const ops = config.ops;
    const metrics = ops.metrics.enabled ? new ServiceMetrics() : undefined;
    // Where this process answers on loopback (the embedded emulator's callbacks, the banner).
    const reachableHost = ['0.0.0.0', '::'].includes(config.host)
      ? '127.0.0.1'
      : config.host.includes(':')
        ? `[${config.host}]`
        : config.host;

    let emulator: Emulator | undefined;
    let target: WeComTarget;
    let callback = config.callback;
    if (config.wecom.mode === 'embedded') {
      // The emulator's contacts-sync callback points at this service from the start, so changes made
      // in its console reach /wecom/callback with no set-up (PORT=0 cannot be known in advance: none).
      const callbackUrl = config.port === 0 ? null : `http://${reachableHost}:${config.port}/wecom/callback`;
      // Loaded only here: a deployment with real credentials never loads the emulator.
      const { Emulator } = await import('wecom-emulator');
      emulator = new Emulator({
        seed: config.wecom.seed,
        size: config.wecom.size,
        callbackUrl,
        logger: logger.child({ component: 'emulator' }),
      });
      const emulatorUrl = await emulator.listen(config.wecom.emulatorPort);
      const creds = emulator.credentials();
      target = { baseUrl: emulatorUrl, corpId: creds.corpId, contactSecret: creds.contactSecret, app: creds.app };
      callback = creds.callback;
    } else {
      target = config.wecom.target;
    }

    // REDIS_URL: tokens, rate budget, callback de-duplication and directory changes shared by every
    // instance (src/redis). Each embedded emulator is its own WeCom, so its keys are its own too.
    let scale: ScaleOut | undefined;
    if (ops.redis) {
      const keyPrefix = emulator ? `${ops.redis.keyPrefix}embedded:${new URL(emulator.url).port}:` : ops.redis.keyPrefix;
      scale = createScaleOut({
        url: ops.redis.url,
        prefix: keyPrefix,
        corpId: target.corpId,
        logger,
        cacheTtlMs: config.cache.ttlSeconds * 1000,
      });
      if (!(await scale.connected()))
        logger.warn(
          { redis: describeRedisUrl(ops.redis.url) },
          'redis is not reachable yet: running on this instance alone until it is (/readyz reports it)',
        );
      logger.info(
        { redis: describeRedisUrl(ops.redis.url), keyPrefix },
        'scaled out: sharing tokens, rate budget, callbacks, changes, the directory cache and caller limits through Redis',
      );
    }

    const { client, changes, app } = wireApp(target, {
      client: {
        logger,
        rateBudgetFraction: ops.rateBudget.fraction,
        callerShare: ops.rateBudget.callerShare,
        ...(Object.keys(ops.rateBudget.perEndpoint).length ? { rateBudget: ops.rateBudget.perEndpoint } : {}),
        ...(metrics ? { hooks: metrics.clientHooks() } : {}),
        ...(scale ? { tokenStore: scale.tokenStore, sharedRateBudget: scale.rateBudget } : {}),
      },
      planning,
      app: () => ({
        ...(metrics ? { plugins: [metrics.useMetrics()] } : {}),
        logger,
        graphiql: config.security.graphiql,
        security: scale ? { ...security, callerBudgets: scale.callerBudgets } : security,
        warmUpBudgetPercent: config.cache.warmUpBudgetPercent,
        cache: config.cache.enabled
          ? {
              ttlMs: config.cache.ttlSeconds * 1000,
              staleMs: config.cache.staleSeconds * 1000,
              maxEntries: config.cache.maxEntries,
              ...(scale ? { secondLevel: scale.directoryStore } : {}),
            }
          : false,
        responseCache: config.cache.responseCacheBytes,
        ...(callback ? { callback: { ...callback, ...config.callbackSources, ...(scale ? { replayGuard: scale.replayGuard } : {}) } } : {}),
        changeFeed: { maxEntries: config.changeFeed.maxEntries, retentionMs: config.changeFeed.retentionSeconds * 1000 },
      }),
    });
    // Header and request timeouts, header size (src/security/http-server.ts).
    await scale?.bridge.attach(changes);

    // Warm-up and refresh-ahead (src/cache/warm-up.ts): the corp is loaded in the background within a
    // share of the client's user/list budget, so no caller waits for a whole-corp load. Without it,
    // the same warmer still loads on demand what a query refused with DIRECTORY_LOADING needs.
    const warmer = config.cache.warmUp ? app.warmer : undefined;

    const readiness = new Readiness({
      wecom: () => client.core.probeTokens(),
      ...(warmer ? { warmUp: () => warmer.snapshot() } : {}),
      ...(scale ? { redis: () => scale.ping() } : {}),
      visibility: () => app.visibility(),
      cacheMs: ops.readiness.cacheMs,
      timeoutMs: ops.readiness.timeoutMs,
    });
    if (metrics) {
      metrics.observeChanges(changes);
      metrics.observe({
        scheduler: () => client.core.scheduler.snapshot(),
        ...(app.cache ? { cache: () => app.cache!.stats() } : {}),
        ...(app.responseCache ? { responseCache: () => app.responseCache!.stats() } : {}),
        ...(app.callback ? { callbacks: () => app.callback!.stats() } : {}),
        ...(scale
          ? {
              redisFallbacks: () => scale.fallbacks.snapshot(),
              changeBroadcast: () => scale.bridge.stats(),
              redisUp: () => scale.up(),
              sharedCache: () => scale.directoryStore.stats(),
            }
          : {}),
        ready: () => readiness.lastReady,
        // Passes on demand show here even without the warm-up (readiness waits only for a warm-up).
        ...(app.warmer ? { warmUp: () => app.warmer!.snapshot() } : {}),
      });
    }
    const inFlight = new InFlight();
    const front = createHttpFront({
      handle: app.handle,
      logger,
      readiness,
      inFlight,
      ...(metrics ? { metrics } : {}),
      serveMetrics: ops.metrics.port === undefined,
    });
    const server = createServer(serverOptions(config.security.server), front);
    await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
    const servers: Server[] = [server];
    if (metrics && ops.metrics.port !== undefined) {
      const metricsServer = createServer(createMetricsListener(metrics));
      const metricsHost = ops.metrics.host ?? config.host;
      await new Promise<void>((resolve) => metricsServer.listen(ops.metrics.port, metricsHost, resolve));
      servers.push(metricsServer);
      logger.info({ metrics: `http://${metricsHost}:${ops.metrics.port}/metrics` }, 'metrics served on their own port');
    }

    // Started once the listener is up: /readyz reports its progress meanwhile.
    const stopWarmUp = warmer?.start(changes);

    const url = `http://${reachableHost}:${(server.address() as AddressInfo).port}`;
    const graphqlUrl = `${url}/graphql`;
    if (emulator) {
      const creds = emulator.credentials();
      console.log(`WeCom directory GraphQL: ${graphqlUrl} (GraphiQL in the browser)
Embedded WeCom emulator: ${emulator.url} (seed ${config.wecom.mode === 'embedded' ? config.wecom.seed : ''}, ${emulator.store.users.size} users, ${emulator.store.departments.size} departments)
Demo credentials (emulator only, not real WeCom):
  corp id          ${creds.corpId}
  contacts secret  ${creds.contactSecret}
  app              agent ${creds.app.agentId}, secret ${creds.app.secret}
  callback         token ${creds.callback.token}, EncodingAESKey ${creds.callback.encodingAESKey}
  change callbacks ${emulator.callbackUrl ?? 'off (PORT=0)'}
Try: curl -s ${graphqlUrl} -H 'content-type: application/json' -d '{"query":"{ department(id: 1) { name children { name } } }"}'`);
    } else {
      logger.info({ graphql: graphqlUrl, wecom: target.baseUrl }, 'WeCom directory service started');
    }

    const warning = anonymousAccessWarning(config.security);
    if (warning) {
      console.warn(warning);
      logger.warn({ anonymousScopes: config.security.anonymousScopes, reason: config.security.anonymousReason }, 'anonymous access is on');
    }

    shutdownPlan = {
      servers,
      readiness,
      inFlight,
      logger,
      delayMs: ops.shutdown.delayMs,
      timeoutMs: ops.shutdown.timeoutMs,
      endSubscriptions: () => app.feed.closeStreams(),
      resources: [
        { name: 'cache warm-up', close: async () => (stopWarmUp ? stopWarmUp() : app.warmer?.close()) },
        { name: 'job tracker', close: () => app.jobs.close() },
        { name: 'graphql', close: () => app.yoga.dispose() },
        { name: 'wecom client', close: () => client.close() },
        ...(scale ? [{ name: 'redis', close: () => scale.close() }] : []),
        ...(emulator ? [{ name: 'emulator', close: () => emulator.close() }] : []),
      ],
    };
    return { url, client, app, readiness, ...(metrics ? { metrics } : {}) };
  }

  async function stop(signal: string): Promise<boolean> {
    if (!shutdownPlan) throw new Error('the service was not started');
    return gracefulShutdown(shutdownPlan, signal);
  }

  return { start, stop };
}
