import { createAuthenticator } from '../auth/authenticate.ts';
import type { SecurityConfig } from '../config/security.ts';
import { loadPersistedOperations } from './persisted.ts';
import type { SecuritySettings } from './settings.ts';

/** The running settings from the configuration (reads the persisted operations file when asked to). */
export function securitySettingsFromConfig(config: SecurityConfig): SecuritySettings {
  return {
    auth: createAuthenticator({
      apiKeys: config.apiKeys,
      ...(config.jwt ? { jwt: config.jwt } : {}),
      ...(config.anonymousScopes ? { anonymousScopes: config.anonymousScopes } : {}),
    }),
    limits: config.limits,
    http: config.http,
    rateLimit: config.rateLimit,
    csrf: config.csrf,
    cors: config.cors,
    introspection: config.introspection,
    persistedOperations: config.persistedOperationsFile ? loadPersistedOperations(config.persistedOperationsFile) : false,
    batching: config.batching,
  };
}

/** What start-up says about anonymous access, when it is on: loudly, since every caller may then read and write everything its scopes allow. */
export function anonymousAccessWarning(config: SecurityConfig): string | undefined {
  if (!config.anonymousReason) return undefined;
  const scopes = (config.anonymousScopes ?? []).join(', ');
  const why =
    config.anonymousReason === 'embedded-without-credentials'
      ? 'the service runs on the embedded WeCom emulator and no API key or JWT is configured'
      : 'ALLOW_ANONYMOUS=true';
  const bar = '!'.repeat(78);
  return [
    bar,
    `!! ANONYMOUS ACCESS: requests without a credential are served with ${scopes || 'no scope'}`,
    `!! because ${why}.`,
    '!! Configure API_KEYS / API_KEYS_FILE or JWT_* before exposing this service.',
    bar,
  ].join('\n');
}
