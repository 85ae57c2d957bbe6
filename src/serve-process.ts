import { ConfigError, loadConfig } from './config/index.ts';
import { securitySettingsFromConfig } from './security/from-config.ts';
import { PersistedOperationsError } from './security/persisted.ts';
import type { SecuritySettings } from './security/settings.ts';
import { applyEnvFile } from './config/env-file.ts';
import { createLogger } from './ops/logger.ts';
import { createService, type ServiceDependencies } from './service.ts';

/**
 * The service as this process: configuration from the environment, the service (src/service.ts:
 * the embedded emulator when no WeCom credentials are set, the GraphQL server), and an orderly
 * shutdown on SIGTERM/SIGINT; a bad configuration exits 2 with what was wrong. src/main.ts runs it
 * as it is; the benchmark's naive baseline (bench/naive-service.ts) with its own `planning`.
 */
export function serveProcess(overrides: Pick<ServiceDependencies, 'planning'> = {}): void {
  serve(overrides).catch((err: unknown) => {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    console.error(err);
    process.exit(1);
  });
}

async function serve(overrides: Pick<ServiceDependencies, 'planning'>): Promise<void> {
  // An optional .env (ENV_FILE names another) fills in what the real environment does not set.
  const envFile = applyEnvFile();
  const config = loadConfig();
  // Real WeCom with no caller credential and anonymous access not enabled: refuse to start.
  if (config.security.refusal) throw new ConfigError(`refusing to start:\n${config.security.refusal}`);
  let security: SecuritySettings;
  try {
    security = securitySettingsFromConfig(config.security);
  } catch (err) {
    if (err instanceof PersistedOperationsError)
      throw new ConfigError(`invalid configuration:\n- PERSISTED_OPERATIONS_FILE: ${err.message}`);
    throw err;
  }
  // JSON lines with request ids; secrets censored by field name and scrubbed from strings (src/ops/logger.ts).
  const logger = createLogger({ level: config.logLevel });
  if (envFile.path)
    logger.info(
      { file: envFile.path, applied: envFile.applied, overriddenByEnvironment: envFile.overridden },
      'read settings from an env file',
    );

  const service = createService(config, { ...overrides, security, logger });
  await service.start();

  // Graceful shutdown (src/ops/shutdown.ts); a second signal ends the process at once.
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    const clean = await service.stop(signal);
    process.exit(clean ? 0 : 1);
  };
  process.on('SIGTERM', (s) => void shutdown(s));
  process.on('SIGINT', (s) => void shutdown(s));
}
