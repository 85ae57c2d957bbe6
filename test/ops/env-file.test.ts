import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyEnvFile } from '../../src/config/env-file.ts';
import { ConfigError, loadConfig } from '../../src/config/index.ts';

/** The optional .env file: read before validation, the real environment wins, a missing ENV_FILE is an error. */

function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'env-file-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

describe('applyEnvFile', () => {
  it('adds the .env file’s variables that the environment does not set, and the environment wins', () => {
    const dir = dirWith({ '.env': '# comment\nPORT=5000\nWECOM_CORP_ID=wwfromfile\nCACHE_TTL_SECONDS="120"\nLOG_LEVEL=debug\n' });
    const env: NodeJS.ProcessEnv = { PORT: '6000' };
    const result = applyEnvFile(env, dir);
    expect(result).toEqual({ path: join(dir, '.env'), applied: ['CACHE_TTL_SECONDS', 'LOG_LEVEL', 'WECOM_CORP_ID'], overridden: ['PORT'] });
    expect(env).toEqual({ PORT: '6000', WECOM_CORP_ID: 'wwfromfile', CACHE_TTL_SECONDS: '120', LOG_LEVEL: 'debug' });
    // Validated like the environment itself.
    const config = loadConfig({ ...env, WECOM_CONTACT_SECRET: 's', ALLOW_ANONYMOUS: 'true' });
    expect([config.port, config.cache.ttlSeconds, config.logLevel]).toEqual([6000, 120, 'debug']);
  });

  it('reads the file ENV_FILE names, relative to the working directory', () => {
    const dir = dirWith({ 'prod.env': 'SHUTDOWN_TIMEOUT_MS=20000\n' });
    const env: NodeJS.ProcessEnv = { ENV_FILE: 'prod.env' };
    expect(applyEnvFile(env, dir).applied).toEqual(['SHUTDOWN_TIMEOUT_MS']);
    expect(loadConfig(env).ops.shutdown.timeoutMs).toBe(20_000);
  });

  it('does nothing without a .env file', () => {
    const env: NodeJS.ProcessEnv = { PORT: '1' };
    expect(applyEnvFile(env, dirWith({}))).toEqual({ applied: [], overridden: [] });
    expect(env).toEqual({ PORT: '1' });
  });

  it('refuses an ENV_FILE that cannot be read, naming ENV_FILE', () => {
    expect(() => applyEnvFile({ ENV_FILE: 'missing.env' }, dirWith({}))).toThrow(ConfigError);
    expect(() => applyEnvFile({ ENV_FILE: 'missing.env' }, dirWith({}))).toThrow(/ENV_FILE: cannot read .*missing\.env \(ENOENT\)/);
  });
});
