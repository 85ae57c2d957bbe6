import type { WeComTarget } from './config/index.ts';
import { ChangeBus } from './directory/changes.ts';
import { createApp, type App, type AppOptions } from './server.ts';
import { createWeComClient, type WeComClient, type WeComClientOptions } from './wecom/client.ts';

/**
 * How reads are planned, made from the client: createApp's `source` and `loaders`. Left out, the
 * service plans its own (cache, batching); the benchmark's naive baseline passes
 * `naivePlanning` (bench/naive-planning.ts).
 */
export type Planning = (client: WeComClient) => Pick<AppOptions, 'source' | 'loaders'>;

export interface WiredApp {
  client: WeComClient;
  /** The bus the app publishes directory changes on (mutations, imports, callbacks). */
  changes: ChangeBus;
  app: App;
}

/**
 * The WeCom client for a target and the GraphQL app over it, joined by one change bus: the wiring
 * that the service (src/service.ts) and the in-process test harness (test/helpers/service.ts)
 * share. `app` gets the client and the bus for the parts made from them (a job tracker).
 */
export function wireApp(
  target: WeComTarget,
  options: {
    client?: Partial<Omit<WeComClientOptions, 'baseUrl' | 'corpId' | 'secrets'>>;
    app: (parts: Omit<WiredApp, 'app'>) => Omit<AppOptions, 'client' | 'changes' | 'source' | 'loaders'>;
    planning?: Planning;
  },
): WiredApp {
  const client = createWeComClient({
    baseUrl: target.baseUrl,
    corpId: target.corpId,
    secrets: { contact: target.contactSecret, app: target.app },
    ...options.client,
  });
  const changes = new ChangeBus();
  const app = createApp({ client, changes, ...options.app({ client, changes }), ...options.planning?.(client) });
  return { client, changes, app };
}
