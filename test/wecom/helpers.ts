import { expect } from 'vitest';
import { Pool, type Dispatcher } from 'undici';
import { createWeComClient, type WeComClient, type WeComClientOptions, type WeComLogger } from '../../src/wecom/client.ts';
import type { EmulatorHarness } from 'wecom-emulator/testing';

/**
 * Watches a test file's clients for credential leaks: every log line (through an injected
 * logger), every error the tests see, and every access token that went over the wire (sniffed
 * from request paths by a dispatcher interceptor, so the watch knows the real tokens).
 */
export class LeakWatch {
  readonly lines: string[] = [];
  readonly tokens = new Set<string>();
  private readonly pools: Pool[] = [];

  readonly logger: WeComLogger = {
    debug: (obj, msg) => this.lines.push(`debug ${msg} ${JSON.stringify(obj)}`),
    info: (obj, msg) => this.lines.push(`info ${msg} ${JSON.stringify(obj)}`),
    warn: (obj, msg) => this.lines.push(`warn ${msg} ${JSON.stringify(obj)}`),
    error: (obj, msg) => this.lines.push(`error ${msg} ${JSON.stringify(obj)}`),
  };

  /** Records an error the way a log or an API response could show it. */
  record(err: unknown): unknown {
    if (err instanceof Error) {
      this.lines.push(String(err), err.stack ?? '', JSON.stringify(err), JSON.stringify({ ...err }));
    } else {
      this.lines.push(String(err));
    }
    return err;
  }

  /** A Pool for the emulator whose interceptor notes every access token sent. */
  dispatcher(origin: string): Dispatcher {
    const pool = new Pool(origin, { connections: 16, pipelining: 1 });
    this.pools.push(pool);
    return pool.compose((dispatch) => (opts, handler) => {
      const token = new URLSearchParams(opts.path.split('?')[1] ?? '').get('access_token');
      if (token) this.tokens.add(token);
      return dispatch(opts, handler);
    });
  }

  /** Closes the pools handed out (clients leave injected dispatchers to their owner). */
  async close(): Promise<void> {
    await Promise.all(this.pools.splice(0).map((p) => p.close()));
  }

  /** No line contains a secret or any token that was used. */
  assertClean(secrets: string[]): void {
    // The watch must have seen real tokens, or the scan would prove nothing.
    expect(this.tokens.size).toBeGreaterThan(0);
    const needles = [...secrets, ...this.tokens];
    for (const line of this.lines) {
      for (const needle of needles) {
        if (line.includes(needle)) throw new Error(`a credential leaked into: ${line.slice(0, 200)}`);
      }
    }
  }
}

export interface ClientSetup {
  contact?: boolean;
  /** An app agent id (default: the directory app, 1000002); false for none. */
  app?: number | false;
  options?: Partial<WeComClientOptions>;
}

/** A client for the harness's emulator, with the watch's logger and token-sniffing dispatcher. */
export function makeClient(h: EmulatorHarness, watch: LeakWatch, setup: ClientSetup = {}): WeComClient {
  const creds = h.creds;
  const appId = setup.app === undefined ? creds.app.agentId : setup.app;
  const app = appId === false ? undefined : creds.apps.find((a) => a.agentId === appId);
  return createWeComClient({
    baseUrl: h.url,
    corpId: creds.corpId,
    secrets: {
      ...(setup.contact === false ? {} : { contact: creds.contactSecret }),
      ...(app ? { app: { agentId: app.agentId, secret: app.secret } } : {}),
    },
    dispatcher: watch.dispatcher(h.url),
    logger: watch.logger,
    ...setup.options,
  });
}

/** Awaits a promise expected to fail and returns the error (recorded by the watch). */
export async function failure(watch: LeakWatch, promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return watch.record(err);
  }
  throw new Error('expected the call to fail');
}

export function allSecrets(h: EmulatorHarness): string[] {
  const c = h.creds;
  return [c.contactSecret, ...c.apps.map((a) => a.secret)];
}
