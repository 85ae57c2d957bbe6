import { pino } from 'pino';
import { EmulatorHarness } from './emulator.ts';
import { ChangeBus } from '../../src/directory/changes.ts';
import { createApp, type App } from '../../src/server.ts';
import { createWeComClient, type WeComClient } from '../../src/wecom/client.ts';
import type { EmulatorOptions } from '../../src/emulator/options.ts';

export interface GraphQLResult {
  // any: each test asserts the shape of the query it sent
  data?: Record<string, any>;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

/**
 * The service in-process (Yoga's `fetch`, no port) over a real emulator on loopback HTTP: the
 * same code path as production, with the emulator's stats to count upstream calls.
 */
export class ServiceHarness {
  private constructor(
    readonly wecom: EmulatorHarness,
    readonly client: WeComClient,
    readonly app: App,
  ) {}

  static async start(options: { emulator?: Partial<EmulatorOptions>; appSecret?: boolean } = {}): Promise<ServiceHarness> {
    const wecom = await EmulatorHarness.start(options.emulator);
    const creds = wecom.creds;
    const client = createWeComClient({
      baseUrl: wecom.url,
      corpId: creds.corpId,
      secrets: { contact: creds.contactSecret, ...(options.appSecret === false ? {} : { app: creds.app }) },
    });
    const app = createApp({ client, changes: new ChangeBus(), logger: pino({ level: 'silent' }), graphiql: false });
    return new ServiceHarness(wecom, client, app);
  }

  async query(query: string, variables?: Record<string, unknown>): Promise<GraphQLResult> {
    const res = await this.app.yoga.fetch('http://yoga/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as GraphQLResult;
  }

  /** Upstream calls per WeCom path since the last reset of the emulator's counters. */
  async calls(): Promise<Record<string, number>> {
    return (await this.wecom.stats()).calls;
  }

  async close(): Promise<void> {
    await this.client.close();
    await this.wecom.close();
  }
}
