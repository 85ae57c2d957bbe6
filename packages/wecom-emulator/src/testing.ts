import { Emulator } from './server.ts';
import type { EmulatorOptions } from './options.ts';

export interface ApiResponse {
  status: number;
  /** The parsed JSON body (undefined for an empty or non-JSON body). */
  // biome-ignore lint/suspicious/noExplicitAny: tests assert response bodies field by field, against WeCom shapes that vary by endpoint
  json: Record<string, any>;
  text: string;
}

/**
 * A WeCom wire object (a member, a department, a job result …) as the harness answers it: tests
 * compare it field by field. Its `any` is explained where ApiResponse declares `json`.
 */
export type Wire = ApiResponse['json'];

export interface CallOptions {
  token?: string | null;
  query?: Record<string, string | number>;
  body?: unknown;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
}

/**
 * A real emulator on an ephemeral loopback port, and small helpers that speak to it over HTTP as
 * any WeCom client would. Tests never reach into the emulator's memory to act: they read its
 * state through the console endpoints, like the admin console would.
 */
export class EmulatorHarness {
  private tokens = new Map<string, string>();

  private constructor(
    readonly emulator: Emulator,
    readonly url: string,
  ) {}

  static async start(options: Partial<EmulatorOptions> = {}): Promise<EmulatorHarness> {
    const emulator = new Emulator({ decorateErrors: true, ...options });
    const url = await emulator.listen(0);
    return new EmulatorHarness(emulator, url);
  }

  get creds() {
    return this.emulator.credentials();
  }

  async close(): Promise<void> {
    await this.emulator.close();
  }

  /** Calls a WeCom endpoint; `path` is relative to /cgi-bin/ (e.g. `user/get`). */
  async call(path: string, options: CallOptions = {}): Promise<ApiResponse> {
    const url = new URL(`/cgi-bin/${path}`, this.url);
    if (options.token) url.searchParams.set('access_token', options.token);
    for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, String(v));
    const method = options.method ?? (options.body === undefined ? 'GET' : 'POST');
    return send(url, method, options.body, options.headers);
  }

  /** A contacts-sync token (cached per secret, like a client would). */
  async contactToken(): Promise<string> {
    return this.tokenFor(this.creds.contactSecret);
  }

  /** A token of a self-built app (the directory app by default). */
  async appToken(agentId = this.creds.app.agentId): Promise<string> {
    const app = this.creds.apps.find((a) => a.agentId === agentId);
    if (!app) throw new Error(`no app ${agentId}`);
    return this.tokenFor(app.secret);
  }

  async tokenFor(secret: string): Promise<string> {
    const cached = this.tokens.get(secret);
    if (cached) return cached;
    const res = await this.call('gettoken', { query: { corpid: this.creds.corpId, corpsecret: secret } });
    if (res.json.errcode !== 0) throw new Error(`gettoken failed: ${res.text}`);
    this.tokens.set(secret, res.json.access_token);
    return res.json.access_token;
  }

  /** Calls with the contacts-sync token. */
  async asContact(path: string, options: Omit<CallOptions, 'token'> = {}): Promise<ApiResponse> {
    return this.call(path, { ...options, token: await this.contactToken() });
  }

  /** Calls with an app token. */
  async asApp(path: string, options: Omit<CallOptions, 'token'> = {}, agentId?: number): Promise<ApiResponse> {
    return this.call(path, { ...options, token: await this.appToken(agentId) });
  }

  /** The admin console: `POST /__emulator/console/<path>` (no token, fires callbacks). */
  async console(path: string, body: unknown = {}): Promise<ApiResponse> {
    return send(new URL(`/__emulator/console/${path}`, this.url), 'POST', body);
  }

  async admin(path: string, method: 'GET' | 'POST' | 'DELETE' = 'GET', body?: unknown): Promise<ApiResponse> {
    return send(new URL(`/__emulator/${path}`, this.url), method, body);
  }

  async stats(): Promise<{
    total: number;
    calls: Record<string, number>;
    errors: Record<string, number>;
    httpErrors: Record<string, number>;
    hangs: number;
  }> {
    return (await this.admin('stats')).json as never;
  }

  async resetStats(): Promise<void> {
    await this.admin('stats/reset', 'POST');
  }

  /** Reseeds the directory; cached tokens die with it. */
  async reset(): Promise<void> {
    await this.admin('reset', 'POST');
    this.tokens.clear();
  }

  async faults(settings: Record<string, unknown>): Promise<ApiResponse> {
    return this.admin('faults', 'POST', settings);
  }

  async clearFaults(): Promise<void> {
    await this.admin('faults', 'DELETE');
  }
}

/** The part of a vitest fixture's second argument that `emulatorFixture` uses. */
export interface FixtureScope {
  onCleanup(cleanup: () => Promise<void> | void): void;
}

/**
 * A vitest fixture that starts a harness and closes it when the fixture's scope ends:
 * `test.extend('wecom', { scope: 'file' }, emulatorFixture(options))`. The emulator's own tests
 * and the service's client tests start their emulators with it. Typed structurally, so that this
 * module (and the harness) does not depend on vitest.
 */
export function emulatorFixture(options: Partial<EmulatorOptions> = {}) {
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter, which must be a destructuring pattern
  return async ({}, { onCleanup }: FixtureScope): Promise<EmulatorHarness> => {
    const harness = await EmulatorHarness.start(options);
    onCleanup(() => harness.close());
    return harness;
  };
}

async function send(url: URL, method: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined && method !== 'GET') {
    init.body =
      typeof body === 'string' || body instanceof Uint8Array || body instanceof FormData
        ? (body as RequestInit['body'])
        : JSON.stringify(body);
  }
  // JSON unless told otherwise: the admin API refuses a POST or DELETE without it, even bodiless.
  if (method !== 'GET' && !(body instanceof FormData) && !headers['content-type'])
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  const res = await fetch(url, init);
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    // non-JSON (404 empty body, 502 HTML): assertions use text and status
  }
  return { status: res.status, json, text };
}
