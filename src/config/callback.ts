import { z } from 'zod';
import { problemLines } from './config-error.ts';
import { parseAllowedCallbackIps, parseTrustedProxies, type AllowedCallbackIps } from '../callback/source-ip.ts';
import { int, requirements, text } from './env-fields.ts';

/**
 * The contacts-sync callback (docs/wecom-api.md §9.1), where its requests may come from, and the change
 * feed it fills. Token: 1–32 letters or digits; EncodingAESKey: 43 letters or digits; both or neither.
 */

export interface CallbackConfig {
  /**
   * The contacts-sync callback's Token and EncodingAESKey (remote mode; the embedded emulator's own
   * are used in embedded mode). Without them /wecom/callback answers 404.
   */
  callback?: { token: string; encodingAESKey: string };
  /**
   * Where /wecom/callback requests may come from (WECOM_CALLBACK_ALLOWED_IPS; absent: anywhere),
   * and the proxies whose X-Forwarded-For names the sender (TRUSTED_PROXIES; none by default).
   */
  callbackSources: { allowedIps?: AllowedCallbackIps; trustedProxies: string[] };
  /** How many changes, and for how long, directoryChanges keeps. */
  changeFeed: { maxEntries: number; retentionSeconds: number };
}

const callbackFields = z.object({
  // /wecom/callback answers 404 without them.
  WECOM_CALLBACK_TOKEN: text,
  WECOM_CALLBACK_AES_KEY: text,
  // Where /wecom/callback requests may come from: "auto" (WeCom's getcallbackip list) or ranges.
  WECOM_CALLBACK_ALLOWED_IPS: text,
  // Reverse proxies whose X-Forwarded-For is believed (for the address check above).
  TRUSTED_PROXIES: text,
  CHANGE_FEED_MAX_ENTRIES: int('CHANGE_FEED_MAX_ENTRIES', 10_000, 1, 1_000_000),
  CHANGE_FEED_RETENTION_SECONDS: int('CHANGE_FEED_RETENTION_SECONDS', 86_400, 60, 30 * 86_400),
});

/** The variables read here (docs/configuration.md lists each; test/readme.test.ts checks). */
export const CALLBACK_VARIABLES = Object.keys(callbackFields.shape);

type CallbackEnv = z.output<typeof callbackFields>;

const callbackRules = requirements<CallbackEnv>([
  {
    when: (e) => e.WECOM_CALLBACK_TOKEN === undefined && e.WECOM_CALLBACK_AES_KEY !== undefined,
    variable: 'WECOM_CALLBACK_TOKEN',
    message: 'required with WECOM_CALLBACK_AES_KEY (the callback Token)',
  },
  {
    when: (e) => e.WECOM_CALLBACK_TOKEN !== undefined && !/^[A-Za-z0-9]{1,32}$/.test(e.WECOM_CALLBACK_TOKEN),
    variable: 'WECOM_CALLBACK_TOKEN',
    message: 'must be 1 to 32 letters or digits',
  },
  {
    when: (e) => e.WECOM_CALLBACK_AES_KEY === undefined && e.WECOM_CALLBACK_TOKEN !== undefined,
    variable: 'WECOM_CALLBACK_AES_KEY',
    message: 'required with WECOM_CALLBACK_TOKEN (the callback EncodingAESKey)',
  },
  {
    when: (e) => e.WECOM_CALLBACK_AES_KEY !== undefined && !/^[A-Za-z0-9]{43}$/.test(e.WECOM_CALLBACK_AES_KEY),
    variable: 'WECOM_CALLBACK_AES_KEY',
    message: (e) => `must be exactly 43 letters or digits (got ${e.WECOM_CALLBACK_AES_KEY!.length} characters)`,
  },
]);

/** Parses a list variable with `parse`, turning its error into an issue that names the variable and the form. */
function parsedList<T>(parse: (value: string) => T, form: string) {
  return (value: string | undefined, ctx: z.RefinementCtx): T | undefined => {
    if (value === undefined) return undefined;
    try {
      return parse(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `${(err as Error).message} (${form})` });
      return z.NEVER;
    }
  };
}

const callbackSourcesFields = z.object({
  WECOM_CALLBACK_ALLOWED_IPS: text.transform(
    parsedList(parseAllowedCallbackIps, '"auto", or addresses, CIDR ranges and patterns like 101.226.103.* separated by commas'),
  ),
  TRUSTED_PROXIES: text.transform(parsedList(parseTrustedProxies, 'addresses or CIDR ranges of your reverse proxies, separated by commas')),
});

/**
 * The callback settings, or their problems ("- NAME: …" lines): the Token/EncodingAESKey pair is
 * checked before the address lists, as one step each.
 */
export function loadCallbackConfig(env: NodeJS.ProcessEnv): { config: CallbackConfig } | { problems: string[] } {
  const parsed = callbackFields.superRefine(callbackRules).safeParse(env);
  if (!parsed.success) return { problems: problemLines(parsed.error) };
  const e = parsed.data;
  const sources = callbackSourcesFields.safeParse(env);
  if (!sources.success) return { problems: problemLines(sources.error) };
  const { WECOM_CALLBACK_ALLOWED_IPS: allowedIps, TRUSTED_PROXIES: trustedProxies } = sources.data;
  return {
    config: {
      ...(e.WECOM_CALLBACK_TOKEN !== undefined && e.WECOM_CALLBACK_AES_KEY !== undefined
        ? { callback: { token: e.WECOM_CALLBACK_TOKEN, encodingAESKey: e.WECOM_CALLBACK_AES_KEY } }
        : {}),
      callbackSources: { ...(allowedIps ? { allowedIps } : {}), trustedProxies: trustedProxies ?? [] },
      changeFeed: { maxEntries: e.CHANGE_FEED_MAX_ENTRIES, retentionSeconds: e.CHANGE_FEED_RETENTION_SECONDS },
    },
  };
}
