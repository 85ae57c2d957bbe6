import { parseArgs } from 'node:util';
import { Emulator } from './server.ts';
import { SEED_SIZES, type SeedSize } from './options.ts';

/** `npm run emulator -- --port 4010 --seed 1 --size demo`: the emulator alone, for any WeCom client. */
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.WECOM_EMULATOR_PORT ?? '4010' },
    host: { type: 'string', default: '127.0.0.1' },
    seed: { type: 'string', default: '1' },
    size: { type: 'string', default: 'demo' },
    'restrict-contact-reads': { type: 'boolean', default: false },
    'withhold-sensitive-fields': { type: 'boolean', default: false },
    // The contacts-sync callback URL from the start (not verified: the receiver may start later).
    'callback-url': { type: 'string', default: process.env.WECOM_EMULATOR_CALLBACK_URL ?? '' },
    'callback-field-set': { type: 'string', default: 'full' },
  },
});

function fatal(message: string): never {
  console.error(`emulator: ${message}`);
  process.exit(2);
}

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) fatal(`--port must be a port number (0-65535), got "${values.port}"`);
const seed = Number(values.seed);
if (!Number.isInteger(seed)) fatal(`--seed must be an integer, got "${values.seed}"`);
const isSeedSize = (v: string): v is SeedSize => (SEED_SIZES as readonly string[]).includes(v);
if (!isSeedSize(values.size)) fatal(`--size must be ${SEED_SIZES.map((s) => `"${s}"`).join(', ')}, got "${values.size}"`);
const callbackUrl = values['callback-url'] || null;
if (callbackUrl && !/^https?:\/\/[^\s]+$/.test(callbackUrl))
  fatal(`--callback-url / WECOM_EMULATOR_CALLBACK_URL must be an http(s) URL, got "${callbackUrl}"`);
const fieldSet = values['callback-field-set'];
if (fieldSet !== 'full' && fieldSet !== 'reduced') fatal(`--callback-field-set must be "full" or "reduced", got "${fieldSet}"`);

const started = Date.now();
const emulator = new Emulator({
  seed,
  size: values.size,
  restrictContactReads: values['restrict-contact-reads'],
  withholdSensitiveFields: values['withhold-sensitive-fields'],
  callbackUrl,
  callbackFieldSet: fieldSet,
});
const url = await emulator.listen(port, values.host);
const creds = emulator.credentials();
console.log(`WeCom emulator listening on ${url} (seed ${seed}, ${values.size}: ${emulator.store.users.size} users, ${emulator.store.departments.size} departments, seeded in ${Date.now() - started} ms)
  WECOM_BASE_URL=${url}
  WECOM_CORP_ID=${creds.corpId}
  WECOM_CONTACT_SECRET=${creds.contactSecret}
  WECOM_AGENT_ID=${creds.app.agentId}
  WECOM_APP_SECRET=${creds.app.secret}
  callback token=${creds.callback.token} encodingAESKey=${creds.callback.encodingAESKey}${callbackUrl ? ` url=${callbackUrl} (${fieldSet} fields)` : ''}
  admin API: ${url}/__emulator/ (credentials, stats, faults, reset, apps/<agentId>, console/…; changes need Content-Type: application/json)`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void emulator.close().then(() => process.exit(0)));
}
