import { CALLBACK_RETRY_DELAY_MS, CALLBACK_TIMEOUT_MS, URL_VERIFY_TIMEOUT_MS } from './callback-delivery.ts';

/** demo ≈ 40 departments, 400 members; large 2,221 and 50,400; huge 8,841 and 200,000. */
export type SeedSize = 'demo' | 'large' | 'huge';
/** Every size, for validating `--size` and `WECOM_EMULATOR_SIZE`. */
export const SEED_SIZES: readonly SeedSize[] = ['demo', 'large', 'huge'];
/** `change_contact` field sets: all fields, or the post-2022-08-15 minimal ones (docs/wecom-api.md §9.6). */
export type CallbackFieldSet = 'full' | 'reduced';

/** Where the emulator reports failures it cannot answer with an errcode (pino's `error(fields, message)` fits). */
export interface EmulatorLogger {
  error(fields: { err: unknown }, message: string): void;
}

/** One line per failure on stderr: what the CLI and tests get unless a logger is injected. */
export const STDERR_LOGGER: EmulatorLogger = {
  error: ({ err }, message) =>
    void process.stderr.write(`[wecom-emulator] ${message}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`),
};

export interface EmulatorOptions {
  logger: EmulatorLogger;
  /** Seed of the deterministic generator: the same seed gives the same organisation. */
  seed: number;
  size: SeedSize;
  /**
   * The 2022-08-15 rule: the contacts-sync secret, called from a "new IP", may not read
   * user/get, user/simplelist, user/list, department/list, department/get or the exports.
   */
  restrictContactReads: boolean;
  /** The 2022-06-20 rule: app tokens get no mobile, email, biz_mail, avatar, gender, address, qr_code. */
  withholdSensitiveFields: boolean;
  /** WeCom's per-corp per-API frequency limit (§11); a fault may lower it per path. */
  defaultRateLimitPerMinute: number;
  /** Text appended to error `errmsg` like WeCom's `hint: […]` suffix. */
  decorateErrors: boolean;
  /**
   * A contacts-sync callback URL set from the start (`WECOM_EMULATOR_CALLBACK_URL`; the service's
   * embedded mode points it at itself). Not verified, since the receiver may not listen yet.
   */
  callbackUrl: string | null;
  /**
   * Which `change_contact` fields are sent. 'full' by default (callback URLs configured before
   * 2022-08-15); 'reduced' reproduces URLs set later. The admin API may switch it.
   */
  callbackFieldSet: CallbackFieldSet;
  /** How long a callback POST may take before it counts as failed (WeCom: 5 s, §9.3). */
  callbackTimeoutMs: number;
  /** Pause between callback attempts (unconfirmed in WeCom; see callback-delivery.ts). */
  callbackRetryDelayMs: number;
  /** How long URL verification waits for the echo (WeCom: 1 s, §9.2). */
  callbackVerifyTimeoutMs: number;
  /**
   * What `getcallbackip` answers (§14): the addresses the emulator's callbacks come from. Its
   * deliveries leave over loopback, so the default is the loopback address.
   */
  callbackIps: string[];
}

export const DEFAULT_OPTIONS: EmulatorOptions = {
  seed: 1,
  size: 'demo',
  restrictContactReads: false,
  withholdSensitiveFields: false,
  defaultRateLimitPerMinute: 10_000,
  decorateErrors: true,
  callbackUrl: null,
  callbackFieldSet: 'full',
  callbackTimeoutMs: CALLBACK_TIMEOUT_MS,
  callbackRetryDelayMs: CALLBACK_RETRY_DELAY_MS,
  callbackVerifyTimeoutMs: URL_VERIFY_TIMEOUT_MS,
  logger: STDERR_LOGGER,
  callbackIps: ['127.0.0.1'],
};

/**
 * The errcode for a read refused by the 2022-08-15 new-IP rule. The fact sheet does not name it;
 * 48002 ("api forbidden") is the code WeCom uses for an API a token may not call.
 */
export const RESTRICTED_READ_ERRCODE = 48002;
