import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EmulatorHarness } from 'wecom-emulator/testing';
import { ChangeBus } from '../../src/directory/changes.ts';
import { createApp, type App } from '../../src/server.ts';
import { createWeComClient, type WeComClient } from '../../src/wecom/client.ts';
import { createLogger } from '../../src/ops/logger.ts';
import { ServiceMetrics } from '../../src/ops/metrics.ts';
import { Readiness } from '../../src/ops/readiness.ts';
import { InFlight, createHttpFront } from '../../src/ops/http.ts';
import type { EmulatorOptions } from 'wecom-emulator';

/**
 * The service wired as src/main.ts wires it for operations (metrics hooks and plugin, readiness,
 * the HTTP front with request ids and access logs), on a real socket over a real emulator, with
 * its log lines kept for the test to read.
 */
export class OpsService {
  readonly logs: Record<string, unknown>[] = [];

  private constructor(
    readonly wecom: EmulatorHarness,
    readonly client: WeComClient,
    readonly app: App,
    readonly metrics: ServiceMetrics,
    readonly readiness: Readiness,
    readonly server: Server,
    logs: Record<string, unknown>[],
  ) {
    this.logs = logs;
  }

  static async start(
    options: { emulator?: Partial<EmulatorOptions>; contactSecret?: string; readinessCacheMs?: number } = {},
  ): Promise<OpsService> {
    const wecom = await EmulatorHarness.start(options.emulator);
    const creds = wecom.creds;
    const logs: Record<string, unknown>[] = [];
    const logger = createLogger({
      level: 'debug',
      destination: { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
    });
    const metrics = new ServiceMetrics({ defaultMetrics: false });
    const client = createWeComClient({
      baseUrl: wecom.url,
      corpId: creds.corpId,
      secrets: { contact: options.contactSecret ?? creds.contactSecret },
      logger,
      hooks: metrics.clientHooks(),
      retryBaseDelayMs: 1,
      retryMaxDelayMs: 5,
    });
    const changes = new ChangeBus();
    const app = createApp({
      client,
      changes,
      logger,
      graphiql: false,
      plugins: [metrics.useMetrics()],
      cache: {},
      callback: creds.callback,
    });
    const readiness = new Readiness({ wecom: () => client.core.probeTokens(), cacheMs: options.readinessCacheMs ?? 5_000 });
    metrics.observeChanges(changes);
    metrics.observe({
      scheduler: () => client.core.scheduler.snapshot(),
      cache: () => app.cache!.stats(),
      callbacks: () => app.callback!.stats(),
      ready: () => readiness.lastReady,
    });
    const server = createServer(
      createHttpFront({ handle: app.handle, logger, readiness, inFlight: new InFlight(), metrics, serveMetrics: true }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new OpsService(wecom, client, app, metrics, readiness, server, logs);
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.app.jobs.close();
    await this.client.close();
    await this.wecom.close();
  }
}
