import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { routes } from './routes/index.ts';
import { RawReply, type ApiContext, type ApiResult, type ChangeEvent, type Route } from './routes/types.ts';
import { WeComFault, decorateErrmsg, fail } from './errors.ts';
import { TokenIssuer } from './tokens.ts';
import { Faults } from './faults.ts';
import { Clock } from './clock.ts';
import { Stats } from './stats.ts';
import { scopeOf } from './visibility.ts';
import { seedCorp, type CallbackSettings } from './seed.ts';
import { DEFAULT_OPTIONS, type EmulatorOptions, RESTRICTED_READ_ERRCODE } from './options.ts';
import type { Caller } from './model.ts';
import type { CorpStore } from './store.ts';
import { handleAdmin } from './admin.ts';
import type { Credentials } from './credentials.ts';
import { ContactCallbacks } from './callbacks.ts';
import { releaseCorpState } from './corp-state.ts';
import { EXPORT_FILES_PATH } from './exports.ts';
import { serveExportFile } from './export-files.ts';

/** JSON bodies are small; uploads (media/upload, 20 MB files) get their own larger cap. */
const JSON_BODY_LIMIT = 2 * 1024 * 1024;
const RAW_BODY_LIMIT = 25 * 1024 * 1024;
const ADMIN_PREFIX = '/__emulator/';
const CONSOLE_PREFIX = '/__emulator/console/';

export type { Credentials } from './credentials.ts';

/** Where change events go; the callbacks module plugs in here. */
export type ChangeSink = (events: ChangeEvent[]) => void;

/**
 * A local WeCom: the contacts API under /cgi-bin/ and the admin API under /__emulator/.
 * All state lives here, so `reset()` reseeds everything in place.
 */
export class Emulator {
  readonly clock = new Clock();
  readonly stats = new Stats();
  options: EmulatorOptions;
  private readonly initialOptions: EmulatorOptions;
  store!: CorpStore;
  tokens!: TokenIssuer;
  faults!: Faults;
  callbackSettings!: CallbackSettings;
  /** The contacts-sync callback URL (null: none configured). */
  callbackUrl: string | null = null;
  changeSinks: ChangeSink[] = [];
  /** The contacts-sync `change_contact` callbacks (settings, delivery queue, log). */
  readonly callbacks = new ContactCallbacks(this);

  private readonly byPath = new Map<string, Route>();
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private hintSeq = 0;

  constructor(options: Partial<EmulatorOptions> = {}) {
    this.initialOptions = { ...DEFAULT_OPTIONS, ...options };
    this.options = { ...this.initialOptions };
    for (const route of routes) this.byPath.set(route.path, route);
    this.reseed();
    this.changeSinks.push(this.callbacks.onChanges);
  }

  /** Reseeds the directory and clears tokens, faults, options set by faults, stats and the clock. */
  reseed(): void {
    Object.assign(this.options, this.initialOptions);
    // Media, jobs and export files of the old corp go with it (their timers stop).
    if (this.store) releaseCorpState(this.store);
    const seeded = seedCorp(this.options.seed, this.options.size);
    this.store = seeded.store;
    this.callbackSettings = seeded.callback;
    // The callback URL goes back to the preset one; deliveries of the old corp stop.
    this.callbackUrl = this.options.callbackUrl;
    this.callbacks.reset();
    this.tokens = new TokenIssuer(this.store, this.clock);
    this.faults = new Faults(this.options.seed);
    this.clock.reset();
    this.stats.reset();
  }

  /** Puts back the options that faults may switch (the 2022 restrictions). */
  restoreFaultOptions(): void {
    this.options.restrictContactReads = this.initialOptions.restrictContactReads;
    this.options.withholdSensitiveFields = this.initialOptions.withholdSensitiveFields;
  }

  credentials(): Credentials {
    const [first] = this.store.apps;
    return {
      corpId: this.store.corpId,
      contactSecret: this.store.contactSecret,
      app: { agentId: first!.agentId, secret: first!.secret },
      apps: this.store.apps.map((a) => ({ agentId: a.agentId, secret: a.secret, name: a.name })),
      callback: { ...this.callbackSettings },
    };
  }

  async listen(port = 4010, host = '127.0.0.1'): Promise<string> {
    const server = createServer((req, res) => void this.onRequest(req, res));
    server.keepAliveTimeout = 65_000;
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return this.url;
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) throw new Error('emulator is not listening');
    return `http://${address.address}:${address.port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.callbacks.reset();
    // Hanging requests (the `hang` fault) never answer: end their sockets so close() returns.
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    try {
      if (url.pathname.startsWith(ADMIN_PREFIX) && !adminRequestAllowed(req)) {
        await readBody(req, JSON_BODY_LIMIT).catch(() => undefined);
        res.writeHead(415, { 'content-type': 'application/json; charset=UTF-8' });
        res.end(JSON.stringify({ error: 'the admin API takes Content-Type: application/json on every request that changes something' }));
      } else if (url.pathname.startsWith(CONSOLE_PREFIX)) {
        await this.onConsole(req, res, `/cgi-bin/${url.pathname.slice(CONSOLE_PREFIX.length)}`);
      } else if (url.pathname.startsWith(EXPORT_FILES_PATH)) {
        serveExportFile(this.store, this.clock, req, res, url.pathname.slice(EXPORT_FILES_PATH.length));
      } else if (url.pathname.startsWith(ADMIN_PREFIX)) {
        const body = await readBody(req, JSON_BODY_LIMIT);
        await handleAdmin(this, req.method ?? 'GET', url.pathname.slice(ADMIN_PREFIX.length), body, res);
      } else if (url.pathname.startsWith('/cgi-bin/')) {
        await this.onApi(req, res, url);
      } else {
        notFound(res);
      }
    } catch (err) {
      if (!res.headersSent) {
        res.writeHead(err instanceof BodyTooLarge ? 413 : 500, { 'content-type': 'text/plain' });
        res.end(err instanceof BodyTooLarge ? 'request body too large' : 'emulator error');
      }
      if (!(err instanceof BodyTooLarge)) this.options.logger.error({ err }, 'request failed');
    }
  }

  /** One WeCom API call: stats, faults, token, access rules, then the handler. */
  private async onApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname;
    this.stats.call(path);
    const route = this.byPath.get(path);
    if (path !== '/cgi-bin/gettoken' && !route) {
      await readBody(req, RAW_BODY_LIMIT).catch(() => undefined);
      return notFound(res);
    }

    // The slot is given back to the Faults it came from, even if a reset replaces them meanwhile.
    const faults = this.faults;
    if (!faults.enter(path)) {
      return this.sendFault(res, fail(45033));
    }
    try {
      const delay = faults.latency();
      if (delay) await sleep(delay);
      const mishap = faults.mishap();
      if (mishap === 'hang') {
        this.stats.hang();
        return; // never answered; the socket ends when the client gives up or the emulator closes
      }
      if (mishap === 'http502') {
        this.stats.httpError(502);
        res.writeHead(502, { 'content-type': 'text/html' });
        res.end(
          '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>',
        );
        return;
      }
      if (mishap === 'busy') return this.sendFault(res, fail(-1));
      if (!faults.admitRate(path, this.clock.nowMs(), this.options.defaultRateLimitPerMinute)) {
        return this.sendFault(res, fail(45009));
      }

      const raw = await readBody(req, route?.rawBody ? RAW_BODY_LIMIT : JSON_BODY_LIMIT);
      if (path === '/cgi-bin/gettoken') {
        const q = url.searchParams;
        return this.send(res, { errcode: 0, errmsg: 'ok', ...this.tokens.issue(q.get('corpid'), q.get('corpsecret')) });
      }
      const caller = this.tokens.authenticate(url.searchParams.get('access_token'));
      await this.dispatch(route!, caller, url.searchParams, raw, req, res);
    } catch (err) {
      if (err instanceof WeComFault) return this.sendFault(res, err, route);
      throw err;
    } finally {
      faults.leave(path);
    }
  }

  /** Console endpoints: no token, administrator rights, GET-style parameters as JSON fields. */
  private async onConsole(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const route = this.byPath.get(path);
    const raw = await readBody(req, JSON_BODY_LIMIT);
    if (!route || route.access === 'app-only') return notFound(res);
    const query = new URLSearchParams();
    try {
      const fields = raw.length ? JSON.parse(raw.toString('utf8')) : {};
      if (fields && typeof fields === 'object' && !Array.isArray(fields)) {
        for (const [k, v] of Object.entries(fields)) {
          if (v !== null && typeof v !== 'object') query.set(k, String(v));
        }
      }
    } catch {
      // dispatch reports the bad JSON as WeCom would
    }
    try {
      await this.dispatch(route, { kind: 'console' }, query, raw, req, res);
    } catch (err) {
      if (err instanceof WeComFault) return this.sendFault(res, err, route, false);
      throw err;
    }
  }

  private async dispatch(
    route: Route,
    caller: Caller,
    query: URLSearchParams,
    raw: Buffer,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    if (caller.kind === 'app' && (route.access === 'write' || route.access === 'contact-only')) {
      throw fail(48002, 'this api may be called only with the contacts-sync secret');
    }
    if (caller.kind === 'contact' && route.access === 'app-only') {
      throw fail(48002, 'this api may be called only by a self-built app');
    }
    if (caller.kind === 'contact' && route.restrictedRead && this.options.restrictContactReads) {
      throw fail(
        RESTRICTED_READ_ERRCODE,
        'contacts-sync reads are refused for new IPs since 2022-08-15; use user/list_id and department/simplelist',
      );
    }
    // WeCom's charset rule (40033 for \uXXXX) is for its API; the console takes any valid JSON.
    const body = route.rawBody || route.method === 'GET' ? {} : parseJsonBody(raw, caller.kind !== 'console');
    const events: ChangeEvent[] = [];
    const ctx: ApiContext = {
      store: this.store,
      caller,
      scope: scopeOf(this.store, caller),
      query,
      body,
      headers: req.headers,
      rawBody: raw,
      options: this.options,
      clock: this.clock,
      contactCallback: () => (this.callbackUrl ? { url: this.callbackUrl, ...this.callbackSettings } : null),
      emit: (event) => events.push(event),
    };
    const result = await route.handle(ctx);
    if (caller.kind !== 'console' && this.faults.dropsResponseAfterApply(route.path)) {
      this.stats.hang();
      return; // applied, never answered: the client sees a timeout (the `dropResponseAfterApply` fault)
    }
    if (result instanceof RawReply) {
      res.writeHead(result.status, { ...result.headers, 'content-length': result.body.length });
      res.end(req.method === 'HEAD' ? undefined : result.body);
    } else {
      this.send(res, { errcode: 0, errmsg: route.okMsg ?? 'ok', ...result });
    }
    if (caller.kind === 'console' && events.length) {
      for (const sink of this.changeSinks) sink(events);
    }
  }

  /** `counted` is false for console calls: stats count WeCom API traffic only. */
  private sendFault(res: ServerResponse, fault: WeComFault, route?: Route, counted = true): void {
    if (counted) this.stats.error(fault.errcode);
    const errmsg = this.options.decorateErrors
      ? decorateErrmsg(fault.errcode, fault.errmsg, `${(++this.hintSeq).toString(16).padStart(8, '0')}`)
      : fault.errmsg;
    this.send(res, { errcode: fault.errcode, errmsg, ...route?.emptyOnError });
  }

  private send(res: ServerResponse, payload: ApiResult): void {
    const body = JSON.stringify(payload);
    res.writeHead(200, {
      'content-type': 'application/json; charset=UTF-8',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  }
}

class BodyTooLarge extends Error {}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new BodyTooLarge();
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/** Escaped non-ASCII (`\uXXXX`) is refused with 40033 (docs/wecom-api.md §0). */
const UNICODE_ESCAPE = /\\u[0-9a-fA-F]{4}/;

function parseJsonBody(raw: Buffer, wecomCharsetRule: boolean): Record<string, unknown> {
  if (!raw.length) return {};
  const text = raw.toString('utf8');
  if (wecomCharsetRule && UNICODE_ESCAPE.test(text))
    throw new WeComFault(40033, 'invalid charset. please check your request, if include \\uxxxx will create fail!');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw fail(40058, 'request body is not valid JSON');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw fail(40058, 'request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/**
 * The admin API changes the directory without a token, so a web page must not reach it: every
 * request other than GET/HEAD must say `Content-Type: application/json`. A cross-origin page can
 * send that only after a CORS preflight, which the emulator never grants; the "simple" requests a
 * page may send without one (text/plain, form posts, a bodiless POST) are refused with 415.
 */
function adminRequestAllowed(req: IncomingMessage): boolean {
  if (req.method === 'GET' || req.method === 'HEAD') return true;
  const mediaType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  return mediaType === 'application/json';
}

/** WeCom answers unknown paths with 404 and an empty body (observed). */
function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-length': 0 });
  res.end();
}
