import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import type { ContactCallbacks } from './callbacks.ts';
import type { Clock } from './clock.ts';
import type { Credentials } from './credentials.ts';
import type { Faults } from './faults.ts';
import type { EmulatorOptions } from './options.ts';
import type { CallbackSettings } from './seed.ts';
import type { Stats } from './stats.ts';
import type { CorpStore } from './store.ts';
import type { TokenIssuer } from './tokens.ts';
import { faultsSchema } from './faults.ts';
import { invitationsOf } from './routes/corp.ts';

const callbackSchema = z
  .object({
    url: z.string().url().startsWith('http').nullable(),
    token: z
      .string()
      .regex(/^[A-Za-z0-9]{1,32}$/, 'token: 1–32 letters or digits')
      .optional(),
    encodingAESKey: z
      .string()
      .regex(/^[A-Za-z0-9]{43}$/, 'encodingAESKey: 43 letters or digits')
      .optional(),
    /** 'reduced': the post-2022-08-15 minimal change_contact fields (docs/wecom-api.md §9.6). */
    fieldSet: z.enum(['full', 'reduced']).optional(),
  })
  .strict();

const clockSchema = z.object({ advanceSeconds: z.number().int().min(0) }).strict();

/** What an admin may change of an app in the console: its state and its visible range (agent/get shows them). */
const appSchema = z
  .object({
    close: z.union([z.literal(0), z.literal(1)]).optional(),
    visibility: z
      .object({
        departments: z.array(z.number().int()).max(1000),
        users: z.array(z.string().min(1)).max(1000),
        tags: z.array(z.number().int()).max(1000),
      })
      .strict()
      .optional(),
  })
  .strict();

type AdminResult = { status: number; body: unknown };

/**
 * The admin API under /__emulator/ (not part of WeCom). Its shapes are a contract with tools
 * outside the test suite (docs/architecture.md §3); bad input answers 400 naming the field.
 */
/** What the admin API reads and changes of an emulator (the Emulator itself, named by shape so server.ts may import this module). */
export interface AdminTarget {
  readonly clock: Clock;
  readonly stats: Stats;
  options: EmulatorOptions;
  store: CorpStore;
  tokens: TokenIssuer;
  faults: Faults;
  callbackSettings: CallbackSettings;
  readonly callbacks: ContactCallbacks;
  reseed(): void;
  restoreFaultOptions(): void;
  credentials(): Credentials;
}

export async function handleAdmin(emulator: AdminTarget, method: string, path: string, raw: Buffer, res: ServerResponse): Promise<void> {
  const result = await route(emulator, `${method} ${path}`, raw);
  if (!result) {
    res.writeHead(404, { 'content-length': 0 });
    res.end();
    return;
  }
  const body = JSON.stringify(result.body);
  res.writeHead(result.status, { 'content-type': 'application/json; charset=UTF-8' });
  res.end(body);
}

async function route(emulator: AdminTarget, key: string, raw: Buffer): Promise<AdminResult | undefined> {
  switch (key) {
    case 'GET credentials':
      return ok(emulator.credentials());
    case 'GET stats':
      return ok(emulator.stats.snapshot());
    case 'POST stats/reset':
      emulator.stats.reset();
      return ok({ ok: true });
    case 'POST reset':
      emulator.reseed();
      return ok({ ok: true });
    case 'GET faults':
      return ok(emulator.faults.settings);
    case 'POST faults': {
      const parsed = parse(faultsSchema, raw);
      if ('error' in parsed) return parsed.error;
      const settings = parsed.value;
      if (settings.expireTokens) emulator.tokens.expireAll();
      if (settings.restrictContactReads !== undefined) emulator.options.restrictContactReads = settings.restrictContactReads;
      if (settings.withholdSensitiveFields !== undefined) emulator.options.withholdSensitiveFields = settings.withholdSensitiveFields;
      const { expireTokens: _once, ...lasting } = settings;
      emulator.faults.apply(lasting);
      return ok(emulator.faults.settings);
    }
    case 'DELETE faults':
      emulator.faults.clear();
      emulator.restoreFaultOptions();
      return ok({});
    case 'POST callback': {
      const parsed = parse(callbackSchema, raw);
      if ('error' in parsed) return parsed.error;
      // A new URL must pass WeCom's URL verification first (callbacks.ts); on failure nothing changes.
      const configured = await emulator.callbacks.configure(parsed.value);
      if (!configured.ok) return { status: 400, body: { error: configured.error } };
      const { url } = parsed.value;
      return ok({
        url,
        token: emulator.callbackSettings.token,
        encodingAESKey: emulator.callbackSettings.encodingAESKey,
        fieldSet: emulator.options.callbackFieldSet,
      });
    }
    case 'GET callback':
      return ok(emulator.callbacks.snapshot());
    case 'POST clock': {
      const parsed = parse(clockSchema, raw);
      if ('error' in parsed) return parsed.error;
      emulator.clock.advance(parsed.value.advanceSeconds);
      return ok({ now: emulator.clock.nowSeconds() });
    }
    case 'GET invitations':
      return ok({ invitations: invitationsOf(emulator.store) });
    case 'GET clock':
      return ok({ now: emulator.clock.nowSeconds() });
    default:
      return key.startsWith('POST apps/') ? updateApp(emulator, key.slice('POST apps/'.length), raw) : undefined;
  }
}

/**
 * `POST /__emulator/apps/<agentId>`: disables or enables an app (`close`) and sets its visible
 * range, as an admin would in the console. Every id must exist (400 naming it); nothing changes otherwise.
 */
function updateApp(emulator: AdminTarget, agentIdText: string, raw: Buffer): AdminResult {
  const app = /^\d{1,10}$/.test(agentIdText) ? emulator.store.app(Number(agentIdText)) : undefined;
  if (!app) return { status: 404, body: { error: `no app with agentId ${agentIdText}` } };
  const parsed = parse(appSchema, raw);
  if ('error' in parsed) return parsed.error;
  const { close, visibility } = parsed.value;
  const store = emulator.store;
  if (visibility) {
    const missing = [
      ...visibility.departments.filter((id) => !store.getDepartment(id)).map((id) => `visibility.departments: no department ${id}`),
      ...visibility.users.filter((id) => !store.getUser(id)).map((id) => `visibility.users: no member ${id}`),
      ...visibility.tags.filter((id) => !store.tags.has(id)).map((id) => `visibility.tags: no tag ${id}`),
    ];
    if (missing.length) return { status: 400, body: { error: missing.join('; ') } };
    app.visibility = {
      departments: [...visibility.departments],
      users: visibility.users.map((id) => store.getUser(id)!.userid),
      tags: [...visibility.tags],
    };
  }
  if (close !== undefined) app.close = close;
  // Derived views (what the app may see) are recomputed on the next read.
  store.touch();
  return ok({ agentId: app.agentId, close: app.close, visibility: app.visibility });
}

const ok = (body: unknown): AdminResult => ({ status: 200, body });

function parse<T>(schema: z.ZodType<T>, raw: Buffer): { value: T } | { error: AdminResult } {
  let json: unknown;
  try {
    json = raw.length ? JSON.parse(raw.toString('utf8')) : {};
  } catch {
    return { error: { status: 400, body: { error: 'request body is not valid JSON' } } };
  }
  const result = schema.safeParse(json);
  if (result.success) return { value: result.data };
  const issues = result.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
  return { error: { status: 400, body: { error: issues.join('; ') } } };
}
