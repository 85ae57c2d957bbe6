import { createServer } from 'node:http';
import { ConfigError, loadConfig } from '../src/config/index.ts';
import { ChangeBus } from '../src/directory/changes.ts';
import { createApp } from '../src/server.ts';
import { createWeComClient } from '../src/wecom/client.ts';
import { securitySettingsFromConfig } from '../src/security/from-config.ts';
import { serverOptions } from '../src/security/http-server.ts';
import { createLogger } from '../src/ops/logger.ts';
import { Readiness } from '../src/ops/readiness.ts';
import { InFlight, createHttpFront } from '../src/ops/http.ts';
import { naivePlanning } from './naive-planning.ts';

/**
 * The benchmark's naive baseline as a process: the service as src/main.ts builds it for real WeCom
 * (the same environment: WECOM_*, API_KEYS, PORT …), with createApp given the naive source and
 * loaders (bench/naive-planning.ts). Remote mode only (the benchmark runs its own emulator); no
 * metrics listener, Redis or callback. When main.ts offers createService(config, overrides), this
 * file becomes a call to it.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  if (config.wecom.mode !== 'remote')
    throw new ConfigError(
      "invalid configuration:\n- WECOM_CORP_ID: the naive baseline runs against a WeCom (the benchmark's emulator) only",
    );
  if (config.security.refusal) throw new ConfigError(`refusing to start:\n${config.security.refusal}`);
  const logger = createLogger({ level: config.logLevel });
  const target = config.wecom.target;
  const client = createWeComClient({
    baseUrl: target.baseUrl,
    corpId: target.corpId,
    secrets: { contact: target.contactSecret, app: target.app },
    logger,
    rateBudgetFraction: config.ops.rateBudget.fraction,
    callerShare: config.ops.rateBudget.callerShare,
    ...(Object.keys(config.ops.rateBudget.perEndpoint).length ? { rateBudget: config.ops.rateBudget.perEndpoint } : {}),
  });
  const app = createApp({
    client,
    changes: new ChangeBus(),
    logger,
    graphiql: false,
    security: securitySettingsFromConfig(config.security),
    // The naive baseline keeps nothing across requests: its given source is never cached.
    cache: false,
    responseCache: false,
    ...naivePlanning(client),
  });
  const readiness = new Readiness({
    wecom: () => client.core.probeTokens(),
    visibility: () => app.visibility(),
    cacheMs: config.ops.readiness.cacheMs,
    timeoutMs: config.ops.readiness.timeoutMs,
  });
  const front = createHttpFront({ handle: app.handle, logger, readiness, inFlight: new InFlight(), serveMetrics: false });
  const server = createServer(serverOptions(config.security.server), front);
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const stop = () => {
    server.close();
    server.closeAllConnections();
    void Promise.allSettled([app.jobs.close(), app.yoga.dispose(), client.close()]).then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(err instanceof ConfigError ? 2 : 1);
});
