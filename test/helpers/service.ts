import { createServer, type Server, type ServerOptions } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { EmulatorHarness } from 'wecom-emulator/testing';
import type { ChangeBus } from '../../src/directory/changes.ts';
import type { App, AppOptions } from '../../src/server.ts';
import type { WeComClient, WeComClientOptions } from '../../src/wecom/client.ts';
import { JobTracker, type JobTrackerOptions } from '../../src/jobs/tracker.ts';
import { wireApp, type Planning } from '../../src/wire-app.ts';
import type { EmulatorOptions } from 'wecom-emulator';

export interface GraphQLResult {
  // biome-ignore lint/suspicious/noExplicitAny: each test asserts the shape of the query it sent
  data?: Record<string, any>;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
  extensions?: Record<string, unknown>;
}

/**
 * The service in-process (Yoga's `fetch`, no port) over a real emulator on loopback HTTP: the
 * same code path as production, with the emulator's stats to count upstream calls.
 */
export class ServiceHarness {
  /** The real listener, when started with `listen` (callbacks and subscriptions over a socket). */
  private server?: Server;

  private constructor(
    readonly wecom: EmulatorHarness,
    readonly client: WeComClient,
    readonly app: App,
    /** The app's change bus: what mutations and imports published. */
    readonly changes: ChangeBus,
  ) {}

  static async start(
    options: {
      emulator?: Partial<EmulatorOptions>;
      appSecret?: boolean;
      /** false: the app secret alone (reads within the app's visible range, no writes). */
      contactSecret?: boolean;
      /** Which seeded app's secret to use (the directory app by default). */
      appAgentId?: number;
      /** Client settings (e.g. short timeouts for lost answers). */
      client?: Partial<WeComClientOptions>;
      /** Job tracker settings (e.g. fast polling). */
      jobs?: Partial<Omit<JobTrackerOptions, 'client' | 'changes'>>;
      /** The directory cache's settings; off unless given (other tests count every upstream call). */
      cache?: AppOptions['cache'];
      /** Whole-response caching (with the directory cache only): its budget in bytes; on (64 MB) unless false. */
      responseCache?: AppOptions['responseCache'];
      /** The pace of the directory cache's passes (warm-up, on demand): percent of the client's user/list budget. */
      warmUpBudgetPercent?: number;
      /** Serve /wecom/callback with the emulator's callback Token and EncodingAESKey (and these settings). */
      callback?: true | Omit<NonNullable<AppOptions['callback']>, 'token' | 'encodingAESKey'>;
      changeFeed?: AppOptions['changeFeed'];
      /** How reads are planned, from the client: the benchmark's naive baseline passes `naivePlanning` (bench/naive-planning.ts). */
      planning?: Planning;
      /** Listen on an ephemeral loopback port (`service.url`). */
      listen?: boolean;
      /**
       * Authentication, limits, rate limits … (src/security/settings.ts). By default every caller
       * has full access and CSRF prevention is off (uploads in tests carry no preflight header).
       */
      security?: AppOptions['security'];
      /** The app's logger (silent by default); the security tests scan what it writes. */
      logger?: Logger;
      /** node:http settings of the listener (`listen: true`), e.g. short header and request timeouts. */
      serverOptions?: ServerOptions;
      /** GraphiQL at GET /graphql (off by default, as in production). */
      graphiql?: boolean;
    } = {},
  ): Promise<ServiceHarness> {
    const wecom = await EmulatorHarness.start(options.emulator);
    const creds = wecom.creds;
    const callback = options.callback ? { ...creds.callback, ...(options.callback === true ? {} : options.callback) } : undefined;
    const { client, app, changes } = wireApp(
      {
        baseUrl: wecom.url,
        corpId: creds.corpId,
        ...(options.contactSecret === false ? {} : { contactSecret: creds.contactSecret }),
        ...(options.appSecret === false ? {} : { app: appOf(creds.apps, options.appAgentId ?? creds.app.agentId) }),
      },
      {
        client: options.client,
        planning: options.planning,
        app: ({ client, changes }) => ({
          ...(options.jobs ? { jobs: new JobTracker({ client, changes, ...options.jobs }) } : {}),
          logger: options.logger ?? pino({ level: 'silent' }),
          graphiql: options.graphiql ?? false,
          security: { csrf: false, ...options.security },
          cache: options.cache ?? false,
          ...(options.responseCache !== undefined ? { responseCache: options.responseCache } : {}),
          ...(options.warmUpBudgetPercent !== undefined ? { warmUpBudgetPercent: options.warmUpBudgetPercent } : {}),
          ...(callback ? { callback } : {}),
          ...(options.changeFeed ? { changeFeed: options.changeFeed } : {}),
        }),
      },
    );
    const harness = new ServiceHarness(wecom, client, app, changes);
    if (options.listen) {
      const server = createServer(options.serverOptions ?? {}, app.handle);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      harness.server = server;
    }
    return harness;
  }

  /** The service's base URL (`listen: true` only), e.g. for `${url}/wecom/callback`. */
  get url(): string {
    if (!this.server) throw new Error('the service was started without listen: true');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async query(query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}): Promise<GraphQLResult> {
    const res = await this.app.yoga.fetch('http://yoga/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as GraphQLResult;
  }

  /** Upstream calls per WeCom path since the last reset of the emulator's counters. */
  async calls(): Promise<Record<string, number>> {
    return (await this.wecom.stats()).calls;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (server) {
      // Subscriptions keep their streams open: end them so close() returns.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    this.app.jobs.close();
    this.app.warmer?.close();
    await this.client.close();
    await this.wecom.close();
  }
}

function appOf(apps: { agentId: number; secret: string }[], agentId: number): { agentId: number; secret: string } {
  const app = apps.find((a) => a.agentId === agentId);
  if (!app) throw new Error(`the emulator has no app ${agentId}`);
  return { agentId: app.agentId, secret: app.secret };
}
