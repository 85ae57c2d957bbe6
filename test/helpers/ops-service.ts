import { EmulatorHarness } from 'wecom-emulator/testing';
import type { EmulatorOptions } from 'wecom-emulator';
import { loadConfig } from '../../src/config/index.ts';
import { createLogger } from '../../src/ops/logger.ts';
import type { ServiceMetrics } from '../../src/ops/metrics.ts';
import type { Readiness } from '../../src/ops/readiness.ts';
import { securitySettingsFromConfig } from '../../src/security/from-config.ts';
import type { App } from '../../src/server.ts';
import { createService, type RunningService, type Service } from '../../src/service.ts';
import type { WeComClient } from '../../src/wecom/client.ts';

/**
 * The service as src/main.ts starts it (createService: metrics, readiness, the HTTP front with
 * request ids and access logs, the directory cache, callbacks), configured through its
 * environment, on a real socket over a real emulator, with its log lines kept for the test to read.
 */
export class OpsService {
  readonly url: string;
  readonly client: WeComClient;
  readonly app: App;
  readonly readiness: Readiness;
  readonly metrics: ServiceMetrics;

  private constructor(
    readonly wecom: EmulatorHarness,
    private readonly service: Service,
    running: RunningService,
    readonly logs: Record<string, unknown>[],
  ) {
    if (!running.metrics) throw new Error('the operations tests need the service with its metrics');
    ({ url: this.url, client: this.client, app: this.app, readiness: this.readiness, metrics: this.metrics } = running);
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
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      WECOM_BASE_URL: wecom.url,
      WECOM_CORP_ID: creds.corpId,
      WECOM_CONTACT_SECRET: options.contactSecret ?? creds.contactSecret,
      WECOM_CALLBACK_TOKEN: creds.callback.token,
      WECOM_CALLBACK_AES_KEY: creds.callback.encodingAESKey,
      // Tests send no credential and count every request; the warm-up would add upstream calls of its own.
      ALLOW_ANONYMOUS: 'true',
      RATE_LIMIT_PER_MINUTE: '0',
      MUTATION_RATE_LIMIT_PER_MINUTE: '0',
      CACHE_WARM_UP: 'false',
      READINESS_CACHE_MS: String(options.readinessCacheMs ?? 5_000),
    });
    const service = createService(config, { security: securitySettingsFromConfig(config.security), logger });
    return new OpsService(wecom, service, await service.start(), logs);
  }

  async close(): Promise<void> {
    await this.service.stop('test done');
    await this.wecom.close();
  }
}
