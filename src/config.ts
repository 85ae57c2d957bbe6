import { z } from 'zod';

/**
 * Environment → typed, validated configuration. Every error names the variable and the form it
 * expects; secrets are never echoed back.
 */

const port = (name: string, fallback: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a port number 0-65535` });
        return z.NEVER;
      }
      return n;
    });

const int = (name: string, fallback: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `${name} must be an integer from ${min} to ${max}` });
        return z.NEVER;
      }
      return n;
    });

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const envSchema = z.object({
  PORT: port('PORT', 4000),
  HOST: z.string().default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  NODE_ENV: z.string().default('development'),
  WECOM_CORP_ID: optionalText,
  WECOM_CONTACT_SECRET: optionalText,
  WECOM_APP_SECRET: optionalText,
  WECOM_AGENT_ID: optionalText,
  WECOM_BASE_URL: z.string().url('WECOM_BASE_URL must be an http(s) URL').default('https://qyapi.weixin.qq.com'),
  WECOM_EMULATOR_PORT: port('WECOM_EMULATOR_PORT', 4010),
  WECOM_EMULATOR_SEED: int('WECOM_EMULATOR_SEED', 1, 0, 2 ** 31 - 1),
  WECOM_EMULATOR_SIZE: z.enum(['demo', 'large'], { message: 'WECOM_EMULATOR_SIZE must be "demo" or "large"' }).default('demo'),
});

export interface WeComTarget {
  baseUrl: string;
  corpId: string;
  contactSecret?: string;
  app?: { agentId: number; secret: string };
}

export interface Config {
  port: number;
  host: string;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  production: boolean;
  /** Real WeCom (or any WeCom-compatible server) when credentials are set; otherwise the embedded emulator. */
  wecom:
    | { mode: 'remote'; target: WeComTarget }
    | { mode: 'embedded'; emulatorPort: number; seed: number; size: 'demo' | 'large' };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `- ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const base = {
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    production: e.NODE_ENV === 'production',
  };

  const anyCredential = e.WECOM_CORP_ID ?? e.WECOM_CONTACT_SECRET ?? e.WECOM_APP_SECRET ?? e.WECOM_AGENT_ID;
  if (!anyCredential) {
    return {
      ...base,
      wecom: { mode: 'embedded', emulatorPort: e.WECOM_EMULATOR_PORT, seed: e.WECOM_EMULATOR_SEED, size: e.WECOM_EMULATOR_SIZE },
    };
  }

  const problems: string[] = [];
  if (!e.WECOM_CORP_ID) problems.push('- WECOM_CORP_ID: required when a WeCom secret is set (the corp id, "ww…")');
  if (!e.WECOM_CONTACT_SECRET && !e.WECOM_APP_SECRET) {
    problems.push('- WECOM_CONTACT_SECRET or WECOM_APP_SECRET: at least one secret is required with WECOM_CORP_ID');
  }
  if (e.WECOM_APP_SECRET && !e.WECOM_AGENT_ID) problems.push('- WECOM_AGENT_ID: required with WECOM_APP_SECRET (the app\'s AgentId, a number)');
  if (e.WECOM_AGENT_ID && !/^\d{1,10}$/.test(e.WECOM_AGENT_ID)) problems.push('- WECOM_AGENT_ID: must be a number (the app\'s AgentId)');
  if (e.WECOM_AGENT_ID && !e.WECOM_APP_SECRET) problems.push('- WECOM_APP_SECRET: required with WECOM_AGENT_ID');
  if (problems.length) throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);

  return {
    ...base,
    wecom: {
      mode: 'remote',
      target: {
        baseUrl: e.WECOM_BASE_URL,
        corpId: e.WECOM_CORP_ID!,
        ...(e.WECOM_CONTACT_SECRET ? { contactSecret: e.WECOM_CONTACT_SECRET } : {}),
        ...(e.WECOM_APP_SECRET ? { app: { agentId: Number(e.WECOM_AGENT_ID), secret: e.WECOM_APP_SECRET } } : {}),
      },
    },
  };
}
