import { expect } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.ts';

/** The message of the ConfigError that loadConfig throws for `env`; fails the test if it accepts it. */
export function configErrorOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('loadConfig accepted the configuration');
}
