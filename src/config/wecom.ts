import { z } from 'zod';
import { problemLines } from './config-error.ts';
import { int, port, requirements, text } from './env-fields.ts';

/**
 * Where WeCom is: the embedded emulator when no WeCom credential is set, otherwise a real WeCom (or
 * any WeCom-compatible server) at WECOM_BASE_URL. The mode is the discriminator of the union below;
 * the remote branch holds the "X requires Y" rules of the credentials.
 */

export interface WeComTarget {
  baseUrl: string;
  corpId: string;
  contactSecret?: string;
  app?: { agentId: number; secret: string };
}

export type WeComConfig =
  | { mode: 'remote'; target: WeComTarget }
  | { mode: 'embedded'; emulatorPort: number; seed: number; size: 'demo' | 'large' | 'huge' };

const wecomFields = z.object({
  WECOM_CORP_ID: text,
  WECOM_CONTACT_SECRET: text,
  WECOM_APP_SECRET: text,
  WECOM_AGENT_ID: text,
  WECOM_BASE_URL: z.string().url('WECOM_BASE_URL must be an http(s) URL').default('https://qyapi.weixin.qq.com'),
  WECOM_EMULATOR_PORT: port('WECOM_EMULATOR_PORT', 4010),
  WECOM_EMULATOR_SEED: int('WECOM_EMULATOR_SEED', 1, 0, 2 ** 31 - 1),
  WECOM_EMULATOR_SIZE: z
    .enum(['demo', 'large', 'huge'], { message: 'WECOM_EMULATOR_SIZE must be "demo", "large" or "huge"' })
    .default('demo'),
});

/** The variables read here (docs/configuration.md lists each; test/readme.test.ts checks). */
export const WECOM_VARIABLES = Object.keys(wecomFields.shape);

type WeComEnv = z.output<typeof wecomFields>;

const remoteRules = requirements<WeComEnv>([
  { when: (e) => !e.WECOM_CORP_ID, variable: 'WECOM_CORP_ID', message: 'required when a WeCom secret is set (the corp id, "ww…")' },
  {
    when: (e) => !e.WECOM_CONTACT_SECRET && !e.WECOM_APP_SECRET,
    variable: 'WECOM_CONTACT_SECRET or WECOM_APP_SECRET',
    message: 'at least one secret is required with WECOM_CORP_ID',
  },
  {
    when: (e) => !!e.WECOM_APP_SECRET && !e.WECOM_AGENT_ID,
    variable: 'WECOM_AGENT_ID',
    message: "required with WECOM_APP_SECRET (the app's AgentId, a number)",
  },
  {
    when: (e) => !!e.WECOM_AGENT_ID && !/^\d{1,10}$/.test(e.WECOM_AGENT_ID),
    variable: 'WECOM_AGENT_ID',
    message: "must be a number (the app's AgentId)",
  },
  { when: (e) => !!e.WECOM_AGENT_ID && !e.WECOM_APP_SECRET, variable: 'WECOM_APP_SECRET', message: 'required with WECOM_AGENT_ID' },
]);

const wecomEnv = z.discriminatedUnion('mode', [
  wecomFields.extend({ mode: z.literal('embedded') }).transform(
    (e): WeComConfig => ({
      mode: 'embedded',
      emulatorPort: e.WECOM_EMULATOR_PORT,
      seed: e.WECOM_EMULATOR_SEED,
      size: e.WECOM_EMULATOR_SIZE,
    }),
  ),
  wecomFields
    .extend({ mode: z.literal('remote') })
    .superRefine(remoteRules)
    .transform(
      (e): WeComConfig => ({
        mode: 'remote',
        target: {
          baseUrl: e.WECOM_BASE_URL,
          corpId: e.WECOM_CORP_ID!,
          ...(e.WECOM_CONTACT_SECRET ? { contactSecret: e.WECOM_CONTACT_SECRET } : {}),
          ...(e.WECOM_APP_SECRET ? { app: { agentId: Number(e.WECOM_AGENT_ID), secret: e.WECOM_APP_SECRET } } : {}),
        },
      }),
    ),
]);

/** Any WeCom credential set (even a blank-free one alone) means real WeCom: the rules then say what else is needed. */
export function wecomMode(env: NodeJS.ProcessEnv): WeComConfig['mode'] {
  const set = (name: string) => (env[name]?.trim() ?? '') !== '';
  return ['WECOM_CORP_ID', 'WECOM_CONTACT_SECRET', 'WECOM_APP_SECRET', 'WECOM_AGENT_ID'].some(set) ? 'remote' : 'embedded';
}

/** The WeCom settings, or their problems ("- NAME: …" lines). */
export function loadWeComConfig(env: NodeJS.ProcessEnv): { config: WeComConfig } | { problems: string[] } {
  const parsed = wecomEnv.safeParse({ ...env, mode: wecomMode(env) });
  if (!parsed.success) return { problems: problemLines(parsed.error) };
  return { config: parsed.data };
}
