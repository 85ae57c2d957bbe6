import { createServer } from 'node:http';
import { pino } from 'pino';
import { ConfigError, loadConfig, type WeComTarget } from './config.ts';
import { ChangeBus } from './directory/changes.ts';
import { createApp } from './server.ts';
import { createWeComClient } from './wecom/client.ts';
import { Emulator } from './emulator/server.ts';

/**
 * Process entry: configuration, the embedded emulator when no WeCom credentials are set, the
 * GraphQL server, and an orderly shutdown.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = pino({ level: config.logLevel, redact: { paths: ['*.secret', '*.contactSecret', '*.access_token', '*.encodingAESKey'], censor: '[redacted]' } });

  let emulator: Emulator | undefined;
  let target: WeComTarget;
  let callback = config.callback;
  if (config.wecom.mode === 'embedded') {
    // The emulator's contacts-sync callback points at this service from the start, so changes made
    // in its console reach /wecom/callback with no set-up (PORT=0 cannot be known in advance: none).
    const loopback = ['0.0.0.0', '::'].includes(config.host) ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
    const callbackUrl = config.port === 0 ? null : `http://${loopback}:${config.port}/wecom/callback`;
    emulator = new Emulator({ seed: config.wecom.seed, size: config.wecom.size, callbackUrl });
    const emulatorUrl = await emulator.listen(config.wecom.emulatorPort);
    const creds = emulator.credentials();
    target = { baseUrl: emulatorUrl, corpId: creds.corpId, contactSecret: creds.contactSecret, app: creds.app };
    callback = creds.callback;
  } else {
    target = config.wecom.target;
  }

  const client = createWeComClient({
    baseUrl: target.baseUrl,
    corpId: target.corpId,
    secrets: { contact: target.contactSecret, app: target.app },
    logger,
  });
  const app = createApp({
    client,
    changes: new ChangeBus(),
    logger,
    graphiql: !config.production,
    planning: config.planning,
    cache: config.cache.enabled ? { ttlMs: config.cache.ttlSeconds * 1000, staleMs: config.cache.staleSeconds * 1000, maxEntries: config.cache.maxEntries } : false,
    ...(callback ? { callback } : {}),
    changeFeed: { maxEntries: config.changeFeed.maxEntries, retentionMs: config.changeFeed.retentionSeconds * 1000 },
  });
  const server = createServer(app.handle);
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));

  const shownHost = config.host === '0.0.0.0' ? 'localhost' : config.host;
  const graphqlUrl = `http://${shownHost}:${config.port}/graphql`;
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

  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    server.closeIdleConnections();
    // Subscriptions (SSE) never go idle: give requests in progress a moment, then end them.
    setTimeout(() => server.closeAllConnections(), 2_000).unref();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await client.close();
    await emulator?.close();
    process.exit(0);
  };
  process.once('SIGTERM', (s) => void shutdown(s));
  process.once('SIGINT', (s) => void shutdown(s));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(2);
  }
  console.error(err);
  process.exit(1);
});
