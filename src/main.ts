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
  if (config.wecom.mode === 'embedded') {
    emulator = new Emulator({ seed: config.wecom.seed, size: config.wecom.size });
    const emulatorUrl = await emulator.listen(config.wecom.emulatorPort);
    const creds = emulator.credentials();
    target = { baseUrl: emulatorUrl, corpId: creds.corpId, contactSecret: creds.contactSecret, app: creds.app };
  } else {
    target = config.wecom.target;
  }

  const client = createWeComClient({
    baseUrl: target.baseUrl,
    corpId: target.corpId,
    secrets: { contact: target.contactSecret, app: target.app },
    logger,
  });
  const app = createApp({ client, changes: new ChangeBus(), logger, graphiql: !config.production });
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
Try: curl -s ${graphqlUrl} -H 'content-type: application/json' -d '{"query":"{ department(id: 1) { name children { name } } }"}'`);
  } else {
    logger.info({ graphql: graphqlUrl, wecom: target.baseUrl }, 'WeCom directory service started');
  }

  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    server.closeIdleConnections();
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
